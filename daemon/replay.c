/* replay.c: reads a log frame by frame; bad lines are named and skipped */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "candump.h"
#include "log.h"
#include "replay.h"

/* frames per loop iteration, so the socket answers during a long replay */
#define REPLAY_BATCH 512

static void on_bad_line(void *userdata, const char *path, unsigned long line,
			const char *what)
{
	log_warnx("%s:%lu: %s; line skipped", path, line, what);
}

static void read_error(struct candump_reader *r, const char *path, int n)
{
	log_warnx("%s:%lu: %s", path, candump_reader_line(r), strerror(-n));
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
		frames++;
	}
	if (n < 0)
		read_error(r, path, n);
	pipeline_finish(p);
	if (ret_stats) {
		ret_stats->frames = frames;
		ret_stats->bad_lines = candump_reader_errors(r);
	}
	candump_reader_free(r);
	return n < 0 ? n : 0;
}

/* ---- in the loop ---- */

struct loop_replay {
	struct pipeline *p;
	struct candump_reader *r;
	const char *path;
	ev_io io;
	ev_signal sigint, sigterm;
	int err;
	bool done;
};

static void loop_stop(struct ev_loop *loop, struct loop_replay *lr)
{
	ev_io_stop(loop, &lr->io);
	ev_signal_stop(loop, &lr->sigint);
	ev_signal_stop(loop, &lr->sigterm);
	pipeline_finish(lr->p);
	lr->done = true;
	ev_break(loop, EVBREAK_ONE);
}

static void on_input(struct ev_loop *loop, ev_io *w, int revents)
{
	struct loop_replay *lr = w->data;
	struct frame f;
	int n = 1;

	for (int i = 0; i < REPLAY_BATCH; i++) {
		n = candump_reader_next(lr->r, &f);
		if (n <= 0)
			break;
		pipeline_feed(lr->p, &f);
	}
	if (n == -EAGAIN) {
		/* the pipe is empty: what we wrote goes out while we wait */
		pipeline_flush(lr->p);
		return;
	}
	if (n > 0) {
		/* a batch done, more may sit in the reader's buffer */
		ev_feed_event(loop, w, EV_READ);
		return;
	}
	if (n < 0) {
		read_error(lr->r, lr->path, n);
		lr->err = n;
	}
	loop_stop(loop, lr);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct loop_replay *lr = w->data;

	log_info("signal %d: replay stopped", w->signum);
	loop_stop(loop, lr);
}

int replay_run_loop(struct ev_loop *loop, struct pipeline *p, const char *path)
{
	struct loop_replay lr = { .p = p, .path = path };
	FILE *in = stdin;
	int fd, flags, r;

	if (strcmp(path, "-")) {
		in = fopen(path, "re");
		if (!in) {
			r = -errno;
			log_warnx("%s: %s", path, strerror(-r));
			return r;
		}
	}
	fd = fileno(in);
	/* the reader keeps a partial line when read() says EAGAIN */
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	r = candump_reader_from_stream(&lr.r, in, path, on_bad_line, NULL);
	if (r < 0) {
		log_warnx("%s: %s", path, strerror(-r));
		goto out;
	}
	ev_io_init(&lr.io, on_input, fd, EV_READ);
	lr.io.data = &lr;
	ev_io_start(loop, &lr.io);
	ev_signal_init(&lr.sigint, on_signal, SIGINT);
	ev_signal_init(&lr.sigterm, on_signal, SIGTERM);
	lr.sigint.data = lr.sigterm.data = &lr;
	ev_signal_start(loop, &lr.sigint);
	ev_signal_start(loop, &lr.sigterm);
	while (!lr.done)
		ev_run(loop, 0);
	r = lr.err;
out:
	candump_reader_free(lr.r);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags);
	if (in != stdin)
		fclose(in);
	return r;
}
