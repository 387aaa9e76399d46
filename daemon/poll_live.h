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

/*
 * dtcctl status: state (polling, another tester, engine and ignition off),
 * bus load, and per request its configured and achieved rate, last answer,
 * last NRC, dropped; NULL when not polling.
 */
struct json_object;
struct json_object *poll_live_status(void);
int64_t poll_live_now(void);
