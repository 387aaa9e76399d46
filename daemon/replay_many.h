/* replay_many.h: many logs at once, each its own vehicle, -j N in parallel */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "output.h"
#include "replay.h"

struct replay_many_options {
	const char *const *inputs; /* files and directories (read in full) */
	size_t n_inputs;
	unsigned jobs; /* at most this many at once; 1 keeps --state in order */
	bool json;     /* tag each JSON line with its "file" */
	bool signals;  /* --signals: no summary table */
	bool quiet;    /* no progress on a terminal */
	/* replay everything again under this configuration too, and print
	 * only the events that differ */
	const char *compare_config;
	/*
	 * Replays one file in this (child) process, writing what dtcd prints
	 * to stdout. config: NULL for the configuration in force, else the
	 * other one. extra: an output to add to the pipeline (it counts the
	 * events for the summary). 0 or -errno.
	 */
	int (*run_one)(void *ud, const char *path, const char *config,
		       struct output *extra, struct replay_stats *ret_stats);
	void *ud;
};

/*
 * Prints per file, in the order given, what a single replay prints (text:
 * under a "== FILE" line; JSON: each line with "file"), then a table of
 * file, frames, duration and DTC events by severity (stdout; with --json on
 * stderr). A terminal on stderr shows the progress. 0, -EIO when a file
 * failed, or -errno.
 */
int replay_many_run(const struct replay_many_options *o);
