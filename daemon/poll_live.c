/* poll_live.c: the poller on libev: timer, ISO-TP sockets, vehicle state */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "poll_live.h"
#include "poller.h"
#include "tester.h"

struct poll_live {
	struct ev_loop *loop;
	struct pipeline *p;
	const struct profile *prof;
	char ifname[32];
	struct poller *poller;
	struct tester *tester;
	ev_timer timer;
	ev_io io[TESTER_MAX_SOCKETS];
	size_t n_io;
	bool park_known; /* ignition and engine state come from broadcasts */
};

/* the one running (dtcd polls on one interface), for dtcctl status */
static struct poll_live *poll_live_running;

int64_t poll_live_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void pl_on_answer(struct ev_loop *loop, ev_io *w, int revents);

static void pl_watch(struct poll_live *pl)
{
	int fds[TESTER_MAX_SOCKETS];

	pl->n_io = tester_fds(pl->tester, fds, TESTER_MAX_SOCKETS);
	for (size_t i = 0; i < pl->n_io; i++) {
		ev_io_init(&pl->io[i], pl_on_answer, fds[i], EV_READ);
		pl->io[i].data = pl;
		ev_io_start(pl->loop, &pl->io[i]);
	}
}

static void pl_unwatch(struct poll_live *pl)
{
	for (size_t i = 0; i < pl->n_io; i++)
		ev_io_stop(pl->loop, &pl->io[i]);
	pl->n_io = 0;
}

static void pl_reschedule(struct poll_live *pl)
{
	int64_t now = poll_live_now();
	int64_t next = poller_tick(pl->poller, now);

	ev_timer_stop(pl->loop, &pl->timer);
	ev_timer_set(&pl->timer, (double)(next - now) / 1e9, 0.);
	ev_timer_start(pl->loop, &pl->timer);
}

static void pl_vehicle(struct poll_live *pl, int64_t now)
{
	const struct signal_table *t = pipeline_signals(pl->p);
	const struct signal_slot *ign = &t->slot[SIG_IGNITION_ON];
	bool ignition = ign->valid && ign->value != 0;

	poller_vehicle(pl->poller, now, pipeline_engine_running(pl->p),
		       ignition, pl->park_known && ign->ts_ns != 0);
}

/* Returns whether an answer was read (false: none waiting, or an error). */
static bool pl_read(struct poll_live *pl, int fd)
{
	uint8_t buf[4096];
	enum poll_target target;
	uint8_t ecu;
	int n;

	n = tester_read(pl->tester, fd, &target, &ecu, buf, sizeof(buf));
	if (n < 0) {
		/* an ISO-TP error (timeout, sequence): that answer is lost */
		log_debug("poll: ISO-TP receive: %s", strerror(-n));
		return false;
	}
	if (n == 0)
		return false;
	/* decoding is the raw socket's: this only tells the scheduler */
	poller_answer(pl->poller, poll_live_now(), target, ecu, buf, (size_t)n);
	return true;
}

static void pl_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct poll_live *pl = w->data;

	/*
	 * An answer that came before the deadline counts, even when a loaded
	 * machine gets to the timer first: read what is waiting, then let
	 * the scheduler decide what timed out.
	 */
	for (size_t i = 0; i < pl->n_io; i++)
		while (pl_read(pl, pl->io[i].fd))
			;
	pl_vehicle(pl, poll_live_now());
	pl_reschedule(pl);
}

static void pl_on_answer(struct ev_loop *loop, ev_io *w, int revents)
{
	struct poll_live *pl = w->data;

	if (pl_read(pl, w->fd))
		pl_reschedule(pl);
}

static int pl_send(void *ud, const struct poll_request *to, const uint8_t *data,
		   size_t len)
{
	struct poll_live *pl = ud;
	int r = pl->tester ? tester_send(pl->tester, to, data, len) : -ENOTCONN;

	if (r < 0)
		log_debug("poll %s: send: %s", to->name, strerror(-r));
	return r;
}

/* news said once per episode (a refusal, a silent ECU, another tester) */
static void pl_say(void *ud, const char *msg)
{
	log_warnx("%s", msg);
}

/*
 * While another tester works, our sockets are closed: a socket bound to
 * 0x7E8 would answer the other tester's multi-frame answers with flow
 * control frames of its own.
 */
static void pl_paused(void *ud, bool paused)
{
	struct poll_live *pl = ud;
	int r;

	if (paused && pl->tester) {
		pl_unwatch(pl);
		tester_free(pl->tester);
		pl->tester = NULL;
	} else if (!paused && !pl->tester) {
		r = tester_new(&pl->tester, pl->ifname, &pl->prof->poll);
		if (r < 0) {
			errno = -r;
			log_warn("poll: %s: ISO-TP sockets", pl->ifname);
			return;
		}
		pl_watch(pl);
	}
}

static const struct poller_ops pl_ops = {
	.send = pl_send,
	.say = pl_say,
	.paused = pl_paused,
};

static bool binds_from_dbc(const struct profile *prof, enum signal_id sig)
{
	for (size_t i = 0; i < prof->n_dbc; i++)
		if (prof->dbc[i].sig == sig)
			return true;
	return false;
}

int poll_live_start(struct poll_live **ret, struct ev_loop *loop,
		    struct pipeline *p, const struct profile *prof,
		    const char *ifname)
{
	static bool said_no_isotp;
	struct poll_live *pl;
	int r;

	if (prof->poll.n == 0) {
		log_info("poll: profile %s lists no [poll] requests; "
			 "listening only",
			 prof->name);
		return -ENOENT;
	}
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->loop = loop;
	pl->p = p;
	pl->prof = prof;
	snprintf(pl->ifname, sizeof(pl->ifname), "%s", ifname);
	pl->park_known = binds_from_dbc(prof, SIG_IGNITION_ON);
	r = tester_new(&pl->tester, ifname, &prof->poll);
	if (r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT || r == -ENOPROTOOPT) {
		if (!said_no_isotp)
			log_warnx("poll: the kernel has no CAN_ISOTP "
				  "(module can-isotp, Linux 5.10+): "
				  "listening only");
		said_no_isotp = true;
		free(pl);
		return r;
	}
	if (r == 0)
		r = poller_new(&pl->poller, &prof->poll, &pl_ops, pl);
	if (r < 0) {
		errno = -r;
		log_warn("poll: %s", ifname);
		tester_free(pl->tester);
		free(pl);
		return r;
	}
	pl_watch(pl);
	ev_init(&pl->timer, pl_on_timer);
	pl->timer.data = pl;
	log_info("poll: %s: asking %zu requests of profile %s (read-only)",
		 ifname, prof->poll.n, prof->name);
	pl_reschedule(pl);
	poll_live_running = pl;
	*ret = pl;
	return 0;
}

void poll_live_stop(struct poll_live *pl)
{
	if (!pl)
		return;
	if (poll_live_running == pl)
		poll_live_running = NULL;
	ev_timer_stop(pl->loop, &pl->timer);
	pl_unwatch(pl);
	tester_free(pl->tester);
	poller_free(pl->poller);
	free(pl);
}

void poll_live_frame(struct poll_live *pl, const struct frame *f)
{
	struct timespec rt;
	int64_t now, age;

	if (!pl || f->flags & (FRAME_EFF | FRAME_ERR | FRAME_RTR))
		return;
	/*
	 * When the frame was on the bus, on the poller's clock: the kernel
	 * stamped it (CLOCK_REALTIME), and a loaded machine may read it
	 * long after. Our own requests are known by when they were sent.
	 */
	now = poll_live_now();
	clock_gettime(CLOCK_REALTIME, &rt);
	age = (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec - f->ts_ns;
	if (age > 0 && age < 10 * 1000000000LL)
		now -= age;
	poller_bus_frame(pl->poller, now, f->id, f->data, f->len);
}

static struct json_object *request_json(const struct poller *p, size_t i,
					int64_t now)
{
	struct poller_request_stats st;
	struct json_object *o = json_object_new_object();
	char d[64];

	poller_get_request_stats(p, i, &st);
	poll_request_describe(st.req, d, sizeof(d));
	json_object_object_add(o, "name", json_object_new_string(st.req->name));
	json_object_object_add(o, "request", json_object_new_string(d));
	json_object_object_add(
		o, "configured_hz",
		st.req->period_ns ? json_object_new_double(
					    1e9 / (double)st.req->period_ns) :
				    json_object_new_string("once per cycle"));
	json_object_object_add(o, "achieved_hz",
			       json_object_new_double(st.achieved_hz));
	json_object_object_add(o, "sent",
			       json_object_new_int64((int64_t)st.sent));
	json_object_object_add(o, "answered",
			       json_object_new_int64((int64_t)st.answered));
	json_object_object_add(o, "timeouts",
			       json_object_new_int64((int64_t)st.timeouts));
	json_object_object_add(
		o, "last_answer_s_ago",
		st.last_answer_ns ?
			json_object_new_double(
				(double)(now - st.last_answer_ns) / 1e9) :
			NULL);
	json_object_object_add(
		o, "last_nrc",
		st.last_nrc >= 0 ? json_object_new_int(st.last_nrc) : NULL);
	json_object_object_add(o, "dropped",
			       json_object_new_boolean(st.dropped));
	return o;
}

struct json_object *poll_live_status(void)
{
	struct poll_live *pl = poll_live_running;
	struct json_object *o, *a;
	struct poller_stats st;
	int64_t now = poll_live_now();

	if (!pl)
		return NULL;
	poller_get_stats(pl->poller, now, &st);
	o = json_object_new_object();
	json_object_object_add(
		o, "state",
		json_object_new_string(poller_pause_name(st.pause)));
	json_object_object_add(o, "bus_load_pct",
			       json_object_new_double(st.load_pct));
	json_object_object_add(
		o, "budget_pct",
		json_object_new_double(pl->prof->poll.budget_pct));
	json_object_object_add(o, "frames_sent",
			       json_object_new_int64((int64_t)st.frames_sent));
	a = json_object_new_array();
	for (size_t i = 0; i < pl->prof->poll.n; i++)
		json_object_array_add(a, request_json(pl->poller, i, now));
	json_object_object_add(o, "requests", a);
	return o;
}
