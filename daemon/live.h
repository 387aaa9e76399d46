/* live.h: the libev loop over a SocketCAN interface */
#pragma once

#include <stdbool.h>

/* cfg->interface may list several: "can0,can1" (-i can0 -i can1); polling
 * asks on the first */
#include "config.h"
#include "pipeline.h"

struct ev_loop;

struct live_options {
	const struct config *cfg;
	bool foreground; /* -d: no daemon(), log to stderr */
	/*
	 * Runs once the loop exists, after daemonizing, before the bus
	 * opens: the caller's own watchers (control socket, MQTT) join the
	 * loop there. A negative return stops live_run() with it.
	 */
	int (*start)(struct ev_loop *loop, void *ud);
	/*
	 * SIGHUP: reads the configuration and profile again and applies
	 * them to the pipeline and to cfg (0), or keeps the running ones
	 * (-errno, said). Calls quiesce(qarg) once the new ones are good and
	 * before they replace the old: polling stops there (its plan is the
	 * profile's). NULL: SIGHUP is not handled.
	 */
	int (*reload)(void *ud, void (*quiesce)(void *qarg), void *qarg);
	void *ud;
};

/*
 * Runs until SIGINT/SIGTERM, then ends the operation cycle
 * (pipeline_finish) and stops its own watchers. The loop outlives the
 * call: the caller frees what start() put on it (the control socket; MQTT,
 * whose drain still runs the loop), then destroys the loop start() got.
 * Returns 0 or -errno.
 */
int live_run(struct pipeline *p, const struct live_options *opts);
