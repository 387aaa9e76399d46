/* store_retry.c: failed commits tried again with back-off, never blocking */
#include <errno.h>
#include <ev.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "store_retry.h"

#define RETRY_MIN_S 0.1
#define RETRY_MAX_S 10.0

struct store_retry {
	struct ev_loop *loop;
	struct pipeline *p;
	ev_prepare check;
	ev_timer timer;
	double delay;
	unsigned attempts;
};

static double monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 0 when the store took it, else the next delay */
static int attempt(struct pipeline *p, double *delay, unsigned *attempts)
{
	size_t n = pipeline_store_waiting(p);

	(*attempts)++;
	if (pipeline_store_retry(p) == 0) {
		log_warnx("DTC store: %zu events stored after %u attempts", n,
			  *attempts);
		*attempts = 0;
		*delay = RETRY_MIN_S;
		return 0;
	}
	*delay = *delay * 2 > RETRY_MAX_S ? RETRY_MAX_S : *delay * 2;
	return -EAGAIN;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct store_retry *r = w->data;

	if (attempt(r->p, &r->delay, &r->attempts) < 0) {
		w->repeat = r->delay;
		ev_timer_again(loop, w);
	}
}

/* before the loop sleeps: a batch that failed since gets its timer */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct store_retry *r = w->data;

	if (pipeline_store_failing(r->p) && !ev_is_active(&r->timer)) {
		r->timer.repeat = r->delay;
		ev_timer_again(loop, &r->timer);
	}
}

int store_retry_start(struct store_retry **ret, struct ev_loop *loop,
		      struct pipeline *p)
{
	struct store_retry *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->loop = loop;
	r->p = p;
	r->delay = RETRY_MIN_S;
	ev_prepare_init(&r->check, on_prepare);
	ev_init(&r->timer, on_timer);
	r->check.data = r->timer.data = r;
	ev_prepare_start(loop, &r->check);
	*ret = r;
	return 0;
}

void store_retry_free(struct store_retry *r)
{
	if (!r)
		return;
	ev_prepare_stop(r->loop, &r->check);
	ev_timer_stop(r->loop, &r->timer);
	free(r);
}

/* replay_run() has one pipeline at a time: its back-off state */
static double poll_next, poll_delay = RETRY_MIN_S;
static unsigned poll_attempts;

void store_retry_poll(struct pipeline *p)
{
	double now;

	if (!pipeline_store_failing(p))
		return;
	now = monotonic_s();
	if (poll_next == 0)
		poll_next = now + poll_delay;
	if (now < poll_next)
		return;
	attempt(p, &poll_delay, &poll_attempts);
	poll_next = now + poll_delay;
}

size_t store_retry_finish(struct pipeline *p, double timeout_s)
{
	double end = monotonic_s() + timeout_s, delay = RETRY_MIN_S;
	unsigned attempts = 0;
	size_t n;

	while (pipeline_store_failing(p) && monotonic_s() < end) {
		struct timespec ts = { 0, (long)(delay * 1e9) % 1000000000 };

		ts.tv_sec = (time_t)delay;
		nanosleep(&ts, NULL);
		attempt(p, &delay, &attempts);
	}
	n = pipeline_store_waiting(p);
	if (n)
		log_warnx("DTC store: still failing after %.0f s: %zu events "
			  "never stored nor announced",
			  timeout_s, n);
	return n;
}
