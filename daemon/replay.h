/* replay.h: a log (candump, ASC, BLF) through the pipeline, blocking or in
 * the loop */
#pragma once

#include "pipeline.h"

struct ev_loop;

#include <stdbool.h>
#include <stdint.h>

struct replay_stats {
	unsigned long frames;
	unsigned long bad_lines;
	int64_t first_ns, last_ns; /* frame times of the first and last */
};

/*
 * As fast as it reads, blocking on the input: path "-" = stdin. Returns 0
 * or -errno (a read error, not a bad line).
 */
int replay_run(struct pipeline *p, const char *path,
	       struct replay_stats *ret_stats);

/*
 * replay_run() shows its progress on stderr when it is a terminal (percent
 * of the file, frames per second, time left), twice a second; off by
 * default (-q, and the children of a multi-file replay, whose parent shows
 * its own).
 */
void replay_show_progress(bool on);

/*
 * The same in the libev loop rather than blocking on its input, so the
 * control socket and MQTT work while it reads ("-": stdin, which may be a
 * pipe a live bus writes into). A file (or stdin redirected from one) may
 * be candump, ASC or BLF (log_reader.h); a pipe or FIFO is candump. Returns at
 * the end of the input (or on SIGINT/SIGTERM) after pipeline_finish(); 0 or
 * -errno.
 */
int replay_run_loop(struct ev_loop *loop, struct pipeline *p, const char *path);
