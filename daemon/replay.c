/* replay.c: reads a log (candump, ASC, BLF) frame by frame, blocking or in
 * the loop; bad lines are named and skipped */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "candump.h"
#include "log.h"
#include "log_reader.h"
#include "replay.h"
#include "store_retry.h"

/* frames per loop iteration, so the socket answers during a long replay */
#define REPLAY_BATCH 512

static void on_bad_line(void *userdata, const char *path, unsigned long line,
			const char *what)
{
	log_warnx("%s:%lu: %s; line skipped", path, line, what);
}

static void read_error(unsigned long position, const char *path, int n)
{
	log_warnx("%s:%lu: %s", path, position, strerror(-n));
}

static bool show_progress;

void replay_show_progress(bool on)
{
	show_progress = on;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the wall clock paces the terminal only, never the diagnosis */
struct progress {
	bool on;
	bool shown;
	double t0, last;
};

#define PROGRESS_EVERY_S 0.5
#define PROGRESS_FRAMES 8192 /* frames between looks at the clock */

static void progress_show(struct progress *pg, const struct log_reader *r,
			  const char *path, unsigned long frames, bool end)
{
	uint64_t done, size;
	double now = now_s(), el = now - pg->t0, part;

	if (!end && now - pg->last < PROGRESS_EVERY_S)
		return;
	if (end && !pg->shown)
		return; /* a short replay needs none */
	pg->last = now;
	pg->shown = true;
	log_reader_progress(r, &done, &size);
	part = end ? 1 : size ? (double)done / (double)size : 0;
	if (part > 1)
		part = 1;
	fprintf(stderr,
		"\r%s: %3.0f%% of 1 file, %.0f frames/s, %.0f s left   %s",
		path, 100 * part, el > 0 ? frames / el : 0,
		part > 0 ? el * (1 - part) / part : 0, end ? "\n" : "");
}

int replay_run(struct pipeline *p, const char *path,
	       struct replay_stats *ret_stats)
{
	struct progress pg = { .on = show_progress && isatty(STDERR_FILENO) };
	struct log_reader *r;
	struct frame f;
	unsigned long frames = 0;
	int64_t first = 0, last = 0;
	int n;

	n = log_reader_open(&r, path, on_bad_line, NULL);
	if (n < 0) {
		log_warnx("%s: %s", path, strerror(-n));
		return n;
	}
	pg.t0 = pg.last = now_s();
	/* the first after a fifth of a second: a quick replay stays silent */
	pg.last -= PROGRESS_EVERY_S - 0.2;
	while ((n = log_reader_next(r, &f)) > 0) {
		pipeline_feed(p, &f);
		store_retry_poll(p);
		if (!frames++)
			first = f.ts_ns;
		last = f.ts_ns;
		if (pg.on && frames % PROGRESS_FRAMES == 0)
			progress_show(&pg, r, path, frames, false);
	}
	if (pg.on)
		progress_show(&pg, r, path, frames, true);
	if (n < 0)
		read_error(log_reader_position(r), path, n);
	pipeline_finish(p);
	if (ret_stats) {
		ret_stats->frames = frames;
		ret_stats->bad_lines = log_reader_errors(r);
		ret_stats->first_ns = first;
		ret_stats->last_ns = last;
	}
	log_reader_free(r);
	return n < 0 ? n : 0;
}

/* ---- in the loop ---- */

/*
 * A pipe (stdin) is candump read as it comes, without blocking: it cannot be
 * looked into before it is read. A file (or stdin redirected from one) goes
 * through log_reader.h, so ASC and BLF work too; a file is always readable,
 * so it is read a batch per loop iteration from an idle watcher.
 */
struct loop_replay {
	struct pipeline *p;
	struct candump_reader *r; /* a pipe */
	struct log_reader *file;  /* a file */
	const char *path;
	ev_io io;
	ev_idle idle;
	ev_signal sigint, sigterm;
	int err;
	bool done;
};

static void loop_stop(struct ev_loop *loop, struct loop_replay *lr)
{
	ev_io_stop(loop, &lr->io);
	ev_idle_stop(loop, &lr->idle);
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
		read_error(candump_reader_line(lr->r), lr->path, n);
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

static void on_file(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct loop_replay *lr = w->data;
	struct frame f;
	int n = 1;

	for (int i = 0; i < REPLAY_BATCH && n > 0; i++) {
		n = log_reader_next(lr->file, &f);
		if (n > 0)
			pipeline_feed(lr->p, &f);
	}
	if (n > 0)
		return; /* the next batch after the socket's turn */
	if (n < 0) {
		read_error(log_reader_position(lr->file), lr->path, n);
		lr->err = n;
	}
	loop_stop(loop, lr);
}

/* a pipe or FIFO, stdin or named: anything but a regular file */
static bool is_pipe(const char *path)
{
	struct stat st;
	int r = strcmp(path, "-") ? stat(path, &st) : fstat(STDIN_FILENO, &st);

	return r == 0 && !S_ISREG(st.st_mode);
}

static void run_signals(struct ev_loop *loop, struct loop_replay *lr)
{
	ev_signal_init(&lr->sigint, on_signal, SIGINT);
	ev_signal_init(&lr->sigterm, on_signal, SIGTERM);
	lr->sigint.data = lr->sigterm.data = lr;
	ev_signal_start(loop, &lr->sigint);
	ev_signal_start(loop, &lr->sigterm);
	while (!lr->done)
		ev_run(loop, 0);
}

static int run_file(struct ev_loop *loop, struct loop_replay *lr)
{
	int r = log_reader_open(&lr->file, lr->path, on_bad_line, NULL);

	if (r < 0) {
		log_warnx("%s: %s", lr->path, strerror(-r));
		return r;
	}
	ev_idle_init(&lr->idle, on_file);
	lr->idle.data = lr;
	ev_idle_start(loop, &lr->idle);
	run_signals(loop, lr);
	log_reader_free(lr->file);
	return lr->err;
}

int replay_run_loop(struct ev_loop *loop, struct pipeline *p, const char *path)
{
	struct loop_replay lr = { .p = p, .path = path };
	FILE *in = stdin;
	int fd, flags, r;

	if (!is_pipe(path))
		return run_file(loop, &lr);
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
	run_signals(loop, &lr);
	r = lr.err;
out:
	candump_reader_free(lr.r);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags);
	if (in != stdin)
		fclose(in);
	return r;
}
