/* live.c: libev loop: CAN socket, tick and watchdog timers, signals */
#include <errno.h>
#include <net/if.h>
#include <ev.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "decoder.h"
#include "live.h"
#include "timebase.h"
#include "log.h"
#include "poll_live.h"
#include "socketcan.h"

#define REOPEN_SECONDS 5.0
/* frames read per wakeup and interface, so the timers still run on a
 * saturated bus */
#define READ_BATCH 256
#define LIVE_MAX_IFS 8
#define DROPS_SAID_NS (10 * 1000000000LL)

struct live;

/* one interface: its raw socket, reopened when the interface comes back */
struct live_if {
	struct live *l;
	char name[IFNAMSIZ];
	int fd;
	bool warned_open; /* "cannot open" said once until it opens */
	bool down;	  /* the interface is down, the socket still bound */
	ev_io io;
	ev_timer reopen;
	uint32_t dropped, dropped_said;
	int64_t dropped_said_ns;
	unsigned long frames;
};

struct live {
	struct ev_loop *loop;
	struct pipeline *p;
	const struct live_options *opts;
	ev_tstamp tick_s;
	struct live_if ifs[LIVE_MAX_IFS];
	size_t n_ifs;
	ev_timer tick, watchdog;
	ev_signal sigint, sigterm, sighup;
	/*
	 * Between frames, frame time goes on by the monotonic clock from the
	 * last frame's kernel timestamp: a wall clock step (NTP on a Pi
	 * without RTC) does not make time jump for the detectors.
	 */
	int64_t last_frame_mono_ns;
	/* ask the car: --poll / poll = yes, not --listen-only; on the first
	 * interface, where the ECUs the profile names are */
	bool poll;
	struct poll_live *poller;
	struct frame batch[SOCKETCAN_BATCH];
};

static void live_try_open(struct live_if *li);

static int64_t live_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void live_close(struct live_if *li)
{
	struct live *l = li->l;

	if (li->fd < 0)
		return;
	if (li == &l->ifs[0]) {
		poll_live_stop(l->poller);
		l->poller = NULL;
	}
	ev_io_stop(l->loop, &li->io);
	close(li->fd);
	li->fd = -1;
}

/*
 * The kernel passes only what the profile decodes (its DBC messages) and,
 * when it decodes or asks them, the diagnostic IDs: OBD-II 0x7DF-0x7EF, BMW
 * 0x600-0x6FF (answers, and other testers' requests). Everything else
 * never wakes dtcd up. Too many messages for the kernel's list: no filter.
 */
static void live_filter(struct live *l, struct live_if *li)
{
	static const struct socketcan_filter diag[] = {
		{ .id = 0x600, .mask = 0x700 },
		{ .id = 0x7DF, .mask = 0x7FF },
		{ .id = 0x7E0, .mask = 0x7F0 },
	};
	const struct decoder *d = pipeline_decoder(l->p);
	struct socketcan_filter f[SOCKETCAN_MAX_FILTERS];
	uint32_t ids[SOCKETCAN_MAX_FILTERS];
	bool eff[SOCKETCAN_MAX_FILTERS];
	size_t n = 0, n_dbc = 0;
	bool want_diag = l->poll || (d && decoder_reads_diagnostics(d));
	int r;

	if (d)
		n_dbc = decoder_dbc_ids(d, ids, eff, SOCKETCAN_MAX_FILTERS);
	if (n_dbc + (want_diag ? 3 : 0) > SOCKETCAN_MAX_FILTERS) {
		log_debug("%s: %zu messages: no receive filter", li->name,
			  n_dbc);
		(void)socketcan_filter_all(li->fd);
		return;
	}
	for (size_t i = 0; i < n_dbc; i++)
		f[n++] = (struct socketcan_filter){ .id = ids[i],
						    .mask = 0x1FFFFFFF,
						    .eff = eff[i] };
	for (size_t i = 0; want_diag && i < 3; i++)
		f[n++] = diag[i];
	r = socketcan_filter(li->fd, f, n);
	if (r < 0) {
		errno = -r;
		log_warn("%s: receive filter", li->name);
	} else {
		log_debug("%s: receive filter: %zu DBC messages%s", li->name,
			  n_dbc, want_diag ? ", diagnostic IDs" : "");
	}
}

/* Returns false when the socket is gone and reading must stop. */
static bool live_read_error(struct live_if *li, int r)
{
	switch (r) {
	case -ENETDOWN:
		/* the socket stays bound: frames come again when it is up */
		if (!li->down)
			log_warnx("%s: interface down, waiting for it to come "
				  "up",
				  li->name);
		li->down = true;
		return true;
	case -EBADMSG:
		log_debug("%s: a datagram of neither CAN size, skipped",
			  li->name);
		return true;
	default:
		/* -ENODEV: unregistered (a USB adapter pulled out) */
		errno = -r;
		log_warn("%s: read; reopening every %.0f s", li->name,
			 REOPEN_SECONDS);
		li->warned_open = true;
		li->down = false;
		live_close(li);
		ev_timer_again(li->l->loop, &li->reopen);
		return false;
	}
}

static void live_on_can(struct ev_loop *loop, ev_io *w, int revents)
{
	struct live_if *li = w->data;
	struct live *l = li->l;
	uint32_t dropped = li->dropped;
	size_t got, n = 0;
	int r;

	/* recvmmsg: one system call for up to SOCKETCAN_BATCH frames */
	for (int calls = 0; n < READ_BATCH && calls < READ_BATCH; calls++) {
		r = socketcan_read_batch(li->fd, li->name, l->batch,
					 SOCKETCAN_BATCH, &got, &dropped);
		if (r == 0)
			break;
		if (r < 0) {
			if (!live_read_error(li, r))
				break;
			continue;
		}
		if (li->down && got) {
			log_warnx("%s: interface up again", li->name);
			li->down = false;
		}
		for (size_t i = 0; i < got; i++) {
			pipeline_feed(l->p, &l->batch[i]);
			if (li == &l->ifs[0])
				poll_live_frame(l->poller, &l->batch[i]);
		}
		n += (size_t)r;
		if ((size_t)r < SOCKETCAN_BATCH)
			break; /* the queue is empty: no extra call to see it */
	}
	if (n == 0)
		return;
	li->frames += n;
	l->last_frame_mono_ns = live_monotonic_ns();
	li->dropped = dropped;
	/* a flooded bus drops on every read: said at most every 10 s, the
	 * total at exit */
	if (dropped != li->dropped_said &&
	    l->last_frame_mono_ns - li->dropped_said_ns >= DROPS_SAID_NS) {
		log_warnx("%s: %u frames dropped by the kernel (receive queue "
			  "full)",
			  li->name, dropped - li->dropped_said);
		li->dropped_said = dropped;
		li->dropped_said_ns = l->last_frame_mono_ns;
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

static void live_start_poll(struct live *l)
{
	if (l->poll && !l->poller && l->ifs[0].fd >= 0)
		(void)poll_live_start(&l->poller, l->loop, l->p,
				      pipeline_profile(l->p), l->ifs[0].name);
}

/* the plan the poller borrowed is about to be replaced */
static void live_quiesce(void *qarg)
{
	struct live *l = qarg;

	poll_live_stop(l->poller);
	l->poller = NULL;
}

/*
 * SIGHUP: the caller reads the configuration and profile again (keeping
 * them if they are bad, and then polling goes on as it was); polling
 * restarts on the new plan and the kernel filters follow the new profile.
 * DTC state stays in the pipeline.
 */
static void live_on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct live *l = w->data;
	const struct config *cfg = l->opts->cfg;

	sd_notify(0, "RELOADING=1");
	if (l->opts->reload(l->opts->ud, live_quiesce, l) == 0) {
		l->poll = cfg->poll;
		l->tick_s = cfg->tick_ms / 1000.0;
		for (size_t i = 0; i < l->n_ifs; i++)
			if (l->ifs[i].fd >= 0)
				live_filter(l, &l->ifs[i]);
	}
	live_start_poll(l);
	sd_notify(0, "READY=1");
}

static void live_try_open(struct live_if *li)
{
	struct live *l = li->l;
	int fd = socketcan_open(li->name);

	if (fd < 0) {
		/* a CAN HAT may come up after us: keep trying, say it once */
		if (!li->warned_open) {
			errno = -fd;
			log_warn("%s: cannot open; retrying every %.0f s",
				 li->name, REOPEN_SECONDS);
			li->warned_open = true;
			sd_notifyf(0, "STATUS=waiting for %s", li->name);
		}
		ev_timer_again(l->loop, &li->reopen);
		return;
	}
	li->fd = fd;
	/* the kernel counts drops per socket, from 0 */
	li->dropped = li->dropped_said = 0;
	live_filter(l, li);
	ev_timer_stop(l->loop, &li->reopen);
	ev_io_init(&li->io, live_on_can, fd, EV_READ);
	li->io.data = li;
	ev_io_start(l->loop, &li->io);
	/* after a warning the good news is worth as much */
	if (li->warned_open)
		log_warnx("%s: listening", li->name);
	else
		log_info("%s: listening", li->name);
	li->warned_open = false;
	sd_notifyf(0, "STATUS=listening on %s", li->name);
	if (li == &l->ifs[0])
		live_start_poll(l);
}

/* "can0", "can0,can1" or "can0 can1": -i given more than once */
static int live_interfaces(struct live *l, const char *list)
{
	const char *s = list;

	while (*s) {
		size_t n = strcspn(s, ", \t");

		if (n == 0) {
			s++;
			continue;
		}
		if (n >= IFNAMSIZ) {
			log_warnx("interface '%.*s': name too long", (int)n, s);
			return -ENAMETOOLONG;
		}
		if (l->n_ifs == LIVE_MAX_IFS) {
			log_warnx("more than %d interfaces", LIVE_MAX_IFS);
			return -E2BIG;
		}
		struct live_if *li = &l->ifs[l->n_ifs++];

		memcpy(li->name, s, n);
		li->name[n] = '\0';
		li->l = l;
		li->fd = -1;
		ev_timer_init(&li->reopen, live_on_reopen, 0., REOPEN_SECONDS);
		li->reopen.data = li;
		s += n;
	}
	if (l->n_ifs == 0) {
		log_warnx("no interface given");
		return -EINVAL;
	}
	return 0;
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
	struct live *l;
	uint64_t wd_usec = 0;
	unsigned long frames = 0;
	int r;

	if (!opts->foreground && (r = live_detach()) < 0)
		return r;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->p = p;
	l->opts = opts;
	l->tick_s = cfg->tick_ms / 1000.0;
	l->poll = cfg->poll;
	r = live_interfaces(l, cfg->interface);
	if (r < 0) {
		free(l);
		return r;
	}
	/* events go out as they happen, whether stdout is a tty or not */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a reader of stdout that went away is no reason to stop */
	signal(SIGPIPE, SIG_IGN);
	/* after daemon(): an epoll descriptor does not survive the fork */
	l->loop = ev_default_loop(EVFLAG_AUTO);
	if (!l->loop) {
		log_warnx("cannot start the event loop");
		free(l);
		return -ENOMEM;
	}
	/* started by the first frame: before it, time has no base */
	ev_init(&l->tick, live_on_tick);
	l->tick.data = l;
	ev_init(&l->watchdog, live_on_watchdog);
	if (opts->start && (r = opts->start(l->loop, opts->ud)) < 0) {
		free(l);
		return r;
	}
	ev_signal_init(&l->sigint, live_on_stop, SIGINT);
	ev_signal_init(&l->sigterm, live_on_stop, SIGTERM);
	ev_signal_start(l->loop, &l->sigint);
	ev_signal_start(l->loop, &l->sigterm);
	if (opts->reload) {
		ev_signal_init(&l->sighup, live_on_hup, SIGHUP);
		l->sighup.data = l;
		ev_signal_start(l->loop, &l->sighup);
	}
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
		l->watchdog.repeat = (ev_tstamp)wd_usec / 2e6;
		ev_timer_again(l->loop, &l->watchdog);
	}
	for (size_t i = 0; i < l->n_ifs; i++)
		live_try_open(&l->ifs[i]);
	sd_notify(0, "READY=1");
	ev_run(l->loop, 0);

	/* the operation cycle ends, outputs and the store are flushed */
	pipeline_finish(p);
	for (size_t i = 0; i < l->n_ifs; i++) {
		live_close(&l->ifs[i]);
		ev_timer_stop(l->loop, &l->ifs[i].reopen);
		log_info("%s: %lu frames, %u dropped by the kernel",
			 l->ifs[i].name, l->ifs[i].frames, l->ifs[i].dropped);
		frames += l->ifs[i].frames;
	}
	ev_timer_stop(l->loop, &l->tick);
	ev_timer_stop(l->loop, &l->watchdog);
	ev_signal_stop(l->loop, &l->sigint);
	ev_signal_stop(l->loop, &l->sigterm);
	if (opts->reload)
		ev_signal_stop(l->loop, &l->sighup);
	if (l->n_ifs > 1)
		log_info("%lu frames in all", frames);
	free(l);
	return 0;
}
