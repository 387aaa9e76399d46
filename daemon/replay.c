/* replay.c: reads a log frame by frame; bad lines are named and skipped */
#include <errno.h>
#include <string.h>

#include "candump.h"
#include "log.h"
#include "replay.h"
#include "store_retry.h"

static void on_bad_line(void *userdata, const char *path, unsigned long line,
			const char *what)
{
	log_warnx("%s:%lu: %s; line skipped", path, line, what);
}

int replay_run(struct pipeline *p, const char *path,
	       struct replay_stats *ret_stats)
{
	struct candump_reader *r;
	struct frame f;
	unsigned long frames = 0;
	int n;

	n = candump_reader_open(&r, path, on_bad_line, NULL);
	if (n < 0) {
		log_warnx("%s: %s", path, strerror(-n));
		return n;
	}
	while ((n = candump_reader_next(r, &f)) > 0) {
		pipeline_feed(p, &f);
		store_retry_poll(p);
		frames++;
	}
	if (n < 0)
		log_warnx("%s:%lu: %s", path, candump_reader_line(r),
			  strerror(-n));
	pipeline_finish(p);
	if (ret_stats) {
		ret_stats->frames = frames;
		ret_stats->bad_lines = candump_reader_errors(r);
	}
	candump_reader_free(r);
	return n < 0 ? n : 0;
}
