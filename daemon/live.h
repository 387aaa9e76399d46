/* live.h: the libev loop over a SocketCAN interface */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "pipeline.h"

struct ev_loop;

/*
 * start(loop, ud) runs in live_run() once the loop exists, after
 * daemonizing, before the bus opens: modules with descriptors of their own
 * (control socket, MQTT) add their watchers there. -ENOSPC past 4 hooks.
 */
int live_on_start(void (*start)(struct ev_loop *loop, void *ud), void *ud);

/* Runs until SIGINT/SIGTERM. Returns 0 or -errno. */
int live_run(struct pipeline *p, const struct config *cfg, bool foreground);
