/* live.c: libev loop: CAN socket, tick and watchdog timers, signals */
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "timebase.h"
#include "log.h"
#include "poll_live.h"
#include "socketcan.h"

#define REOPEN_SECONDS 5.0
/* frames read in one go, so the timers still run on a saturated bus */
#define READ_BATCH 256

struct live {
	struct ev_loop *loop;
	struct pipeline *p;
	const char *ifname;
	ev_tstamp tick_s;
	int fd;
	bool warned_open; /* "cannot open" said once until it opens */
	bool down;	  /* the interface is down, the socket still bound */
	ev_io io;
	ev_timer tick, watchdog, reopen;
	ev_signal sigint, sigterm;
	/*
	 * Between frames, frame time goes on by the monotonic clock from the
	 * last frame's kernel timestamp: a wall clock step (NTP on a Pi
	 * without RTC) does not make time jump for the detectors.
	 */
	bool have_frame;
	int64_t last_frame_ns;
	int64_t last_frame_mono_ns;
	uint32_t dropped;
	unsigned long frames;
	bool poll; /* ask the car: --poll / poll = yes, not --listen-only */
	struct poll_live *poller;
};

static void live_try_open(struct live *l);

static int64_t live_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void live_close(struct live *l)
{
	if (l->fd < 0)
		return;
	poll_live_stop(l->poller);
	l->poller = NULL;
	ev_io_stop(l->loop, &l->io);
	close(l->fd);
	l->fd = -1;
}

/* Returns false when the socket is gone and reading must stop. */
static bool live_read_error(struct live *l, int r)
{
	switch (r) {
	case -ENETDOWN:
		/* the socket stays bound: frames come again when it is up */
		if (!l->down)
			log_warnx("%s: interface down, waiting for it to come "
				  "up",
				  l->ifname);
		l->down = true;
		return true;
	case -EBADMSG:
		log_debug("%s: a datagram of neither CAN size, skipped",
			  l->ifname);
		return true;
	default:
		/* -ENODEV: unregistered (a USB adapter pulled out) */
		errno = -r;
		log_warn("%s: read; reopening every %.0f s", l->ifname,
			 REOPEN_SECONDS);
		l->warned_open = true;
		l->down = false;
		live_close(l);
		ev_timer_again(l->loop, &l->reopen);
		return false;
	}
}

static void live_on_can(struct ev_loop *loop, ev_io *w, int revents)
{
	struct live *l = w->data;
	uint32_t dropped = l->dropped;
	struct frame f;
	int r, n = 0;

	for (int i = 0; i < READ_BATCH; i++) {
		r = socketcan_read(l->fd, l->ifname, &f, &dropped);
		if (r == 0)
			break;
		if (r < 0) {
			if (!live_read_error(l, r))
				break;
			continue;
		}
		if (l->down) {
			log_warnx("%s: interface up again", l->ifname);
			l->down = false;
		}
		l->have_frame = true;
		l->last_frame_ns = f.ts_ns;
		pipeline_feed(l->p, &f);
		poll_live_frame(l->poller, &f);
		n++;
	}
	if (n == 0)
		return;
	l->frames += (unsigned long)n;
	l->last_frame_mono_ns = live_monotonic_ns();
	if (dropped != l->dropped) {
		log_warnx("%s: %u frames dropped by the kernel (receive queue "
			  "full)",
			  l->ifname, dropped - l->dropped);
		l->dropped = dropped;
	}
	if (!ev_is_active(&l->tick)) {
		l->tick.repeat = l->tick_s;
		ev_timer_again(loop, &l->tick);
	}
}

/*
 * Frames tick the pipeline themselves (pipeline_feed), so this timer only
 * ticks it once the bus has been quiet for a whole tick; while frames flow
 * it just moves its own deadline (libev's inactivity timeout pattern: no
 * timer restart per frame).
 */
static void live_on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct live *l = w->data;
	int64_t idle_ns = live_monotonic_ns() - l->last_frame_mono_ns;
	ev_tstamp left = l->tick_s - (ev_tstamp)idle_ns / 1e9;

	if (left > 0.001) {
		w->repeat = left;
	} else {
		/* the daemon's clock: the last frame's time may be an outlier
		 */
		pipeline_tick(l->p,
			      timebase_add(pipeline_frame_time(l->p), idle_ns));
		w->repeat = l->tick_s;
	}
	ev_timer_again(loop, w);
}

static void live_on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	sd_notify(0, "WATCHDOG=1");
}

static void live_on_reopen(struct ev_loop *loop, ev_timer *w, int revents)
{
	live_try_open(w->data);
}

static void live_on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_info("signal %d: stopping", w->signum);
	sd_notify(0, "STOPPING=1");
	ev_break(loop, EVBREAK_ALL);
}

static void live_try_open(struct live *l)
{
	int fd = socketcan_open(l->ifname);

	if (fd < 0) {
		/* a CAN HAT may come up after us: keep trying, say it once */
		if (!l->warned_open) {
			errno = -fd;
			log_warn("%s: cannot open; retrying every %.0f s",
				 l->ifname, REOPEN_SECONDS);
			l->warned_open = true;
			sd_notifyf(0, "STATUS=waiting for %s", l->ifname);
		}
		ev_timer_again(l->loop, &l->reopen);
		return;
	}
	l->fd = fd;
	ev_timer_stop(l->loop, &l->reopen);
	ev_io_init(&l->io, live_on_can, fd, EV_READ);
	l->io.data = l;
	ev_io_start(l->loop, &l->io);
	/* after a warning the good news is worth as much */
	if (l->warned_open)
		log_warnx("%s: listening", l->ifname);
	else
		log_info("%s: listening", l->ifname);
	l->warned_open = false;
	sd_notifyf(0, "STATUS=listening on %s", l->ifname);
	if (l->poll)
		(void)poll_live_start(&l->poller, l->loop, l->p,
				      pipeline_profile(l->p), l->ifname);
}

static int live_detach(void)
{
	/* under systemd (Type=notify) we stay as we are and log there */
	if (!getenv("NOTIFY_SOCKET") && !getenv("JOURNAL_STREAM") &&
	    daemon(0, 0) < 0) {
		log_warn("daemon");
		return -errno;
	}
	log_init(LOG_TARGET_JOURNAL, 1);
	return 0;
}

int live_run(struct pipeline *p, const struct live_options *opts)
{
	const struct config *cfg = opts->cfg;
	struct live l = {
		.p = p,
		.ifname = cfg->interface,
		.tick_s = cfg->tick_ms / 1000.0,
		.fd = -1,
		.poll = cfg->poll,
	};
	uint64_t wd_usec = 0;
	int r;

	if (!opts->foreground && (r = live_detach()) < 0)
		return r;
	/* events go out as they happen, whether stdout is a tty or not */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a reader of stdout that went away is no reason to stop */
	signal(SIGPIPE, SIG_IGN);
	/* after daemon(): an epoll descriptor does not survive the fork */
	l.loop = ev_default_loop(EVFLAG_AUTO);
	if (!l.loop) {
		log_warnx("cannot start the event loop");
		return -ENOMEM;
	}
	ev_timer_init(&l.reopen, live_on_reopen, 0., REOPEN_SECONDS);
	l.reopen.data = &l;
	/* started by the first frame: before it, time has no base */
	ev_init(&l.tick, live_on_tick);
	l.tick.data = &l;
	ev_init(&l.watchdog, live_on_watchdog);
	if (opts->start && (r = opts->start(l.loop, opts->ud)) < 0)
		return r;
	ev_signal_init(&l.sigint, live_on_stop, SIGINT);
	ev_signal_init(&l.sigterm, live_on_stop, SIGTERM);
	ev_signal_start(l.loop, &l.sigint);
	ev_signal_start(l.loop, &l.sigterm);
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
		l.watchdog.repeat = (ev_tstamp)wd_usec / 2e6;
		ev_timer_again(l.loop, &l.watchdog);
	}
	live_try_open(&l);
	sd_notify(0, "READY=1");
	ev_run(l.loop, 0);

	/* the operation cycle ends, outputs and the store are flushed */
	pipeline_finish(p);
	live_close(&l);
	ev_timer_stop(l.loop, &l.tick);
	ev_timer_stop(l.loop, &l.reopen);
	ev_timer_stop(l.loop, &l.watchdog);
	ev_signal_stop(l.loop, &l.sigint);
	ev_signal_stop(l.loop, &l.sigterm);
	log_info("%s: %lu frames", l.ifname, l.frames);
	return 0;
}
