/* live.c: libev loop: CAN socket, tick and watchdog timers, signals */
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "live.h"
#include "log.h"
#include "socketcan.h"

#define REOPEN_SECONDS 5.0

struct live {
	struct ev_loop *loop;
	struct pipeline *p;
	const struct config *cfg;
	int fd;
	bool warned_open;
	ev_io io;
	ev_timer tick, watchdog, reopen;
	ev_signal sigint, sigterm;
	/* frame time keeps running between frames by the monotonic clock */
	bool have_frame;
	int64_t last_frame_ns;
	ev_tstamp last_frame_mono;
	unsigned long frames;
};

static void try_open(struct live *l);

/* ---- live_on_start(): other modules' watchers (control socket, MQTT) ---- */

#define LIVE_MAX_HOOKS 4

static struct {
	void (*start)(struct ev_loop *loop, void *ud);
	void *ud;
} live_hooks[LIVE_MAX_HOOKS];
static size_t live_n_hooks;

int live_on_start(void (*start)(struct ev_loop *loop, void *ud), void *ud)
{
	if (live_n_hooks == LIVE_MAX_HOOKS)
		return -ENOSPC;
	live_hooks[live_n_hooks].start = start;
	live_hooks[live_n_hooks++].ud = ud;
	return 0;
}

/* ---- */

static void on_can(struct ev_loop *loop, ev_io *w, int revents)
{
	struct live *l = w->data;
	struct frame f;
	int r;

	/* bounded, so the timers still run on a saturated bus */
	for (int i = 0; i < 256; i++) {
		r = socketcan_read(l->fd, l->cfg->interface, &f);
		if (r == 0)
			return;
		if (r < 0) {
			errno = -r;
			log_warn("%s: read", l->cfg->interface);
			ev_io_stop(loop, &l->io);
			close(l->fd);
			l->fd = -1;
			ev_timer_again(loop, &l->reopen);
			return;
		}
		l->have_frame = true;
		l->last_frame_ns = f.ts_ns;
		l->last_frame_mono = ev_now(loop);
		l->frames++;
		pipeline_feed(l->p, &f);
	}
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct live *l = w->data;
	ev_tstamp idle;

	if (!l->have_frame)
		return;
	idle = ev_now(loop) - l->last_frame_mono;
	/* only while the bus is quiet: frames tick the pipeline themselves */
	if (idle * 1000.0 >= l->cfg->tick_ms)
		pipeline_tick(l->p, l->last_frame_ns + (int64_t)(idle * 1e9));
}

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	sd_notify(0, "WATCHDOG=1");
}

static void on_reopen(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct live *l = w->data;

	try_open(l);
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_info("signal %d: stopping", w->signum);
	sd_notify(0, "STOPPING=1");
	ev_break(loop, EVBREAK_ALL);
}

static void try_open(struct live *l)
{
	int fd = socketcan_open(l->cfg->interface);

	if (fd < 0) {
		/* a CAN HAT may come up after us: keep trying, say it once */
		if (!l->warned_open) {
			errno = -fd;
			log_warn("%s: cannot open, retrying every %.0f s",
				 l->cfg->interface, REOPEN_SECONDS);
			l->warned_open = true;
		}
		ev_timer_again(l->loop, &l->reopen);
		return;
	}
	l->fd = fd;
	l->warned_open = false;
	ev_timer_stop(l->loop, &l->reopen);
	ev_io_init(&l->io, on_can, fd, EV_READ);
	l->io.data = l;
	ev_io_start(l->loop, &l->io);
	log_info("listening on %s", l->cfg->interface);
	sd_notifyf(0, "STATUS=listening on %s", l->cfg->interface);
}

int live_run(struct pipeline *p, const struct config *cfg, bool foreground)
{
	struct live l = { .p = p, .cfg = cfg, .fd = -1 };
	uint64_t wd_usec = 0;

	if (!foreground) {
		if (getenv("NOTIFY_SOCKET") || getenv("JOURNAL_STREAM")) {
			log_init(LOG_TARGET_JOURNAL, 1);
		} else {
			if (daemon(0, 0) < 0) {
				log_warn("daemon");
				return -errno;
			}
			log_init(LOG_TARGET_JOURNAL, 1);
		}
	}
	l.loop = ev_default_loop(EVFLAG_AUTO);
	if (!l.loop) {
		log_warnx("cannot start the event loop");
		return -ENOMEM;
	}
	ev_timer_init(&l.reopen, on_reopen, 0., REOPEN_SECONDS);
	l.reopen.data = &l;
	ev_timer_init(&l.tick, on_tick, cfg->tick_ms / 1000.0,
		      cfg->tick_ms / 1000.0);
	l.tick.data = &l;
	ev_timer_start(l.loop, &l.tick);
	ev_signal_init(&l.sigint, on_stop, SIGINT);
	ev_signal_init(&l.sigterm, on_stop, SIGTERM);
	ev_signal_start(l.loop, &l.sigint);
	ev_signal_start(l.loop, &l.sigterm);
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
		ev_timer_init(&l.watchdog, on_watchdog, 0.,
			      wd_usec / 2e6);
		ev_timer_again(l.loop, &l.watchdog);
	}
	for (size_t i = 0; i < live_n_hooks; i++)
		live_hooks[i].start(l.loop, live_hooks[i].ud);
	try_open(&l);
	sd_notify(0, "READY=1");
	ev_run(l.loop, 0);
	pipeline_finish(p);
	if (l.fd >= 0)
		close(l.fd);
	log_info("%lu frames", l.frames);
	return 0;
}
