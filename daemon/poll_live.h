/* poll_live.h: polling in live mode: the poller on libev, over ISO-TP */
#pragma once

#include <ev.h>
#include <stdbool.h>

#include "frame.h"
#include "pipeline.h"
#include "profile.h"

struct poll_live;

/*
 * Starts asking what the profile's [poll] lists, on ifname. Returns 0, or
 * -errno when it cannot (no CAN_ISOTP: said once, then listen-only).
 */
int poll_live_start(struct poll_live **ret, struct ev_loop *loop,
		    struct pipeline *p, const struct profile *prof,
		    const char *ifname);
/* Takes NULL. */
void poll_live_stop(struct poll_live *pl);
/* Every frame the raw socket read: other testers, answers' progress. */
void poll_live_frame(struct poll_live *pl, const struct frame *f);

/* the poller, for dtcctl status (NULL: not polling) */
struct poller;
const struct poller *poll_live_poller(const struct poll_live *pl);
int64_t poll_live_now(void);
