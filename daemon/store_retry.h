/* store_retry.h: a batch the DTC store could not commit, tried again later */
#pragma once

#include <stdint.h>

#include "pipeline.h"

struct ev_loop;
struct store_retry;

/*
 * In the loop: while a batch waits (the database locked by another
 * process, a full disk), it is tried again after 0.1 s, doubling up to
 * 10 s, from a timer: the loop never waits for the store.
 */
int store_retry_start(struct store_retry **ret, struct ev_loop *loop,
		      struct pipeline *p);
void store_retry_free(struct store_retry *r);

/* Without a loop (a replay as fast as it reads): tries when the back-off
 * allows, never waits; call it after each frame. */
void store_retry_poll(struct pipeline *p);

/* At the end: waits with back-off up to timeout_s for what still waits.
 * Returns the number of events never stored (nor announced). */
size_t store_retry_finish(struct pipeline *p, double timeout_s);
