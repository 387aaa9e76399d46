/* control.h: the control socket, dtcctl's peer */
#pragma once

#include "config.h"
#include "output.h"
#include "pipeline.h"

struct control;
struct ev_loop;

#define CONTROL_DEFAULT_PATH "/run/dtcd/control"

struct control_options {
	const char *path;   /* the AF_UNIX socket to create */
	struct pipeline *p; /* what the answers read (and clear) */
	const struct config *cfg;
	const char *mode;	   /* "live" or "replay" */
	const char *source;	   /* the interface or the replayed file */
	const struct output *mqtt; /* NULL: no MQTT output */
};

/*
 * Listens on opts->path in loop. One line per request, one line of JSON per
 * answer ({"error": "..."} when it fails):
 *   list [all]  DTCs with status byte, occurrences, first/last failure,
 *               freeze frame (all: every DTC dtcd knows)
 *   signals     the last value of each canonical signal and its age
 *   clear [CODE]  as UDS 0x14: one DTC or all
 *   status      profile, source, frames, uptime, MQTT
 * A stale socket file is replaced; one a running dtcd answers is -EADDRINUSE.
 * errbuf says why it failed.
 */
int control_new(struct control **ret, struct ev_loop *loop,
		const struct control_options *opts, char *errbuf,
		size_t errlen);
/* Closes the clients and removes the socket file. Takes NULL. */
void control_free(struct control *c);
