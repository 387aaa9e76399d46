/* replay.h: a candump log through the pipeline as fast as it reads */
#pragma once

#include "pipeline.h"

struct replay_stats {
	unsigned long frames;
	unsigned long bad_lines;
};

/* path "-" = stdin. Returns 0 or -errno (a read error, not a bad line). */
int replay_run(struct pipeline *p, const char *path,
	       struct replay_stats *ret_stats);
