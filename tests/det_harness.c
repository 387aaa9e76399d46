/* det_harness.c: synthetic signal scenarios driven through the detectors */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "det_harness.h"

static void record(void *ud, int64_t ts_ns, const struct dtc_report *r)
{
	struct harness *h = ud;
	struct harness_report *x;

	assert_non_null(r->code);
	assert_non_null(r->detector);
	assert_true(h->n_rep < HARNESS_MAX_REPORTS);
	x = &h->rep[h->n_rep++];
	x->ts_ns = ts_ns;
	snprintf(x->code, sizeof(x->code), "%s", r->code);
	snprintf(x->detector, sizeof(x->detector), "%s", r->detector);
	x->result = r->result;
	x->severity = r->severity;
	x->confirm_now = r->confirm_now;
	x->cycle = h->cycles_started;
}

static void on_inactive(void *ud, const char *detector, const char *signal)
{
	struct harness *h = ud;

	assert_true(h->n_inactive < 32);
	snprintf(h->inactive[h->n_inactive++], sizeof(h->inactive[0]), "%s:%s",
		 detector, signal);
}

void harness_setup(struct harness *h, const struct harness_case *c)
{
	bool bound[SIG__MAX];

	memset(h, 0, sizeof(*h));
	signal_table_init(&h->signals);
	cycle_init(&h->cycle, NULL);
	h->env.signals = &h->signals;
	h->env.cycle = &h->cycle;
	h->env.sink.report = record;
	h->env.sink.userdata = h;
	h->rng = 12345;
	assert_int_equal(detectors_new(&h->det, &h->env), 0);

	for (size_t i = 0; c && i < 8 && c->config[i]; i++) {
		char det[64], key[64];
		const char *dot = strchr(c->config[i], '.');
		const char *eq = strchr(c->config[i], '=');

		assert_non_null(dot);
		assert_non_null(eq);
		snprintf(det, sizeof(det), "%.*s", (int)(dot - c->config[i]),
			 c->config[i]);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - dot - 1),
			 dot + 1);
		assert_int_equal(
			detectors_configure(h->det, det, key, eq + 1, NULL), 0);
	}

	for (int i = 0; i < SIG__MAX; i++)
		bound[i] = true;
	for (size_t i = 0; c && i < c->n_unbound; i++)
		bound[c->unbound[i]] = false;
	detectors_check_profile(h->det, bound, on_inactive, h);
}

void harness_teardown(struct harness *h)
{
	detectors_free(h->det);
	h->det = NULL;
}

static void cycle_change(struct harness *h, int64_t ts_ns,
			 enum cycle_change change)
{
	if (change == CYCLE_NONE)
		return;
	if (change == CYCLE_STARTED)
		h->cycles_started++;
	detectors_cycle_changed(h->det, ts_ns, change);
}

/* The daemon's order: store, feed the cycle, tell the detectors. */
void harness_send(struct harness *h, int64_t ts_ns, enum signal_id id,
		  double value, bool valid)
{
	struct signal_slot *s = &h->signals.slot[id];

	s->ts_ns = ts_ns;
	s->valid = valid;
	s->value = valid ? value : 0;
	if (valid && signal_plausible(id, value))
		cycle_change(h, ts_ns,
			     cycle_on_signal(&h->cycle, ts_ns, id, value));
	detectors_on_signal(h->det, ts_ns, id);
}

void harness_tick(struct harness *h, int64_t now_ns)
{
	cycle_change(h, now_ns, cycle_on_tick(&h->cycle, now_ns));
	detectors_on_tick(h->det, now_ns);
}

static double track_value(const struct harness_track *t, double s)
{
	const struct harness_point *p = t->pts;
	size_t i;

	if (t->n == 0 || s < p[0].t)
		return HARNESS_SILENT;
	for (i = 0; i + 1 < t->n && p[i + 1].t <= s; i++)
		;
	if (i + 1 == t->n || isnan(p[i].v) || isinf(p[i].v) ||
	    isnan(p[i + 1].v) || isinf(p[i + 1].v))
		return p[i].v;
	return p[i].v +
	       (p[i + 1].v - p[i].v) * (s - p[i].t) / (p[i + 1].t - p[i].t);
}

static double noise(struct harness *h, double amplitude)
{
	/* a fixed LCG: the same noise on every run and every machine */
	h->rng = h->rng * 1103515245u + 12345u;
	return amplitude * (((h->rng >> 8) & 0xffff) / 32767.5 - 1.0);
}

static void emit(struct harness *h, const struct harness_track *t,
		 int64_t nominal_ns, int64_t ts_ns)
{
	double v = track_value(t, harness_s(nominal_ns));

	if (isnan(v))
		return;
	if (isinf(v) && v < 0) {
		harness_send(h, ts_ns, t->id, 0, false);
		return;
	}
	if (t->noise > 0)
		v += noise(h, t->noise);
	if (t->integer)
		v = floor(v);
	if (t->modulo > 0)
		v = fmod(v, t->modulo);
	harness_send(h, ts_ns, t->id, v, true);
}

void harness_seed(struct harness *h, uint32_t seed)
{
	h->rng = seed;
}

/* the nominal time of a track's k-th sample, INT64_MAX after the last */
static int64_t track_at(const struct harness_track *t, size_t k)
{
	int64_t period = (int64_t)llround(t->period_s * 1e9);

	if (t->n_at)
		return k < t->n_at ? harness_ns(t->at_s[k]) : INT64_MAX;
	return period > 0 ? harness_ns(0) + (int64_t)k * period : INT64_MAX;
}

static int64_t jittered(struct harness *h, const struct harness_track *t,
			int64_t nominal_ns)
{
	if (t->jitter_s <= 0 || nominal_ns == INT64_MAX)
		return nominal_ns;
	return nominal_ns + (int64_t)llround(noise(h, t->jitter_s) * 1e9);
}

void harness_play(struct harness *h, const struct harness_case *c)
{
	const int64_t tick_ns = 100000000;
	int64_t next[HARNESS_MAX_TRACKS], nominal[HARNESS_MAX_TRACKS];
	size_t k[HARNESS_MAX_TRACKS] = { 0 };
	int64_t end = harness_ns(c->end_s), next_tick = harness_ns(0);

	for (int i = 0; i < HARNESS_MAX_TRACKS; i++) {
		nominal[i] = track_at(&c->tracks[i], 0);
		next[i] = jittered(h, &c->tracks[i], nominal[i]);
	}
	for (;;) {
		int64_t now = next_tick;

		for (int i = 0; i < HARNESS_MAX_TRACKS; i++)
			if (next[i] < now)
				now = next[i];
		if (now > end)
			break;
		for (int i = 0; i < HARNESS_MAX_TRACKS; i++) {
			if (next[i] != now)
				continue;
			emit(h, &c->tracks[i], nominal[i], now);
			nominal[i] = track_at(&c->tracks[i], ++k[i]);
			next[i] = jittered(h, &c->tracks[i], nominal[i]);
		}
		if (next_tick == now) {
			harness_tick(h, now);
			next_tick += tick_ns;
		}
	}
}

const struct harness_report *
harness_find(const struct harness *h, const char *code, enum dtc_result result)
{
	for (size_t i = 0; i < h->n_rep; i++)
		if (strcmp(h->rep[i].code, code) == 0 &&
		    h->rep[i].result == result)
			return &h->rep[i];
	return NULL;
}

size_t harness_count(const struct harness *h, enum dtc_result result)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_rep; i++)
		n += h->rep[i].result == result;
	return n;
}

static void dump(const struct harness *h)
{
	for (size_t i = 0; i < h->n_rep && i < 40; i++)
		print_message("  %10.3f s %-12s %s %s sev=%d confirm=%d\n",
			      harness_s(h->rep[i].ts_ns), h->rep[i].detector,
			      h->rep[i].code,
			      h->rep[i].result == DTC_RESULT_PASSED ? "PASSED" :
								      "FAILED",
			      h->rep[i].severity, h->rep[i].confirm_now);
}

static bool expected_failure(const struct harness_case *c, const char *code)
{
	for (int i = 0; i < HARNESS_MAX_EXPECT && c->expect[i].code; i++)
		if (c->expect[i].result == DTC_RESULT_FAILED &&
		    strcmp(c->expect[i].code, code) == 0)
			return true;
	return false;
}

static void check_expect(const struct harness *h,
			 const struct harness_expect *e)
{
	int64_t onset = harness_ns(e->onset_s);
	const struct harness_report *first = NULL;

	for (size_t i = 0; i < h->n_rep; i++) {
		const struct harness_report *r = &h->rep[i];

		if (strcmp(r->code, e->code) != 0 || r->result != e->result)
			continue;
		if (e->result == DTC_RESULT_FAILED &&
		    (r->severity != e->severity ||
		     r->confirm_now != e->confirm_now))
			continue;
		if (e->result == DTC_RESULT_FAILED && r->ts_ns < onset) {
			print_message("%s FAILED before the fault onset\n",
				      e->code);
			fail();
		}
		if (r->ts_ns < onset)
			continue;
		first = r;
		break;
	}
	if (!first) {
		print_message("missing %s %s (severity %d, confirm_now %d)\n",
			      e->code,
			      e->result == DTC_RESULT_PASSED ? "PASSED" :
							       "FAILED",
			      e->severity, e->confirm_now);
		fail();
	}
	if (e->max_latency_s > 0) {
		double latency = (double)(first->ts_ns - onset) / 1e9;

		if (latency > e->max_latency_s) {
			print_message("%s after %.3f s, bound %.3f s\n",
				      e->code, latency, e->max_latency_s);
			fail();
		}
	}
}

/*
 * PASSED is a state change: never twice in a row for a code within one
 * operation cycle (no flooding the manager with one per frame).
 */
static void check_no_flood(const struct harness *h)
{
	for (size_t i = 0; i < h->n_rep; i++) {
		const struct harness_report *r = &h->rep[i];

		if (r->result != DTC_RESULT_PASSED)
			continue;
		for (size_t j = i + 1; j < h->n_rep; j++) {
			const struct harness_report *s = &h->rep[j];

			if (strcmp(s->code, r->code) != 0)
				continue;
			if (s->result == DTC_RESULT_PASSED &&
			    s->cycle == r->cycle) {
				print_message("%s PASSED twice at %.3f s\n",
					      r->code, harness_s(s->ts_ns));
				fail();
			}
			break;
		}
	}
}

void harness_run_case(void **state)
{
	const struct harness_case *c = *state;
	struct harness *h = test_malloc(sizeof(*h));
	size_t n_inactive = 0;

	harness_setup(h, c);
	harness_play(h, c);
	dump(h);

	while (n_inactive < sizeof(c->inactive) / sizeof(c->inactive[0]) &&
	       c->inactive[n_inactive])
		n_inactive++;
	assert_int_equal(h->n_inactive, n_inactive);
	for (size_t i = 0; i < n_inactive; i++) {
		size_t seen = 0;

		for (size_t k = 0; k < h->n_inactive; k++)
			seen += strcmp(h->inactive[k], c->inactive[i]) == 0;
		if (seen != 1)
			print_message("inactive %s: %zu calls\n",
				      c->inactive[i], seen);
		assert_int_equal(seen, 1);
	}

	for (int i = 0; i < HARNESS_MAX_EXPECT && c->expect[i].code; i++)
		check_expect(h, &c->expect[i]);
	for (size_t i = 0; i < h->n_rep; i++) {
		if (h->rep[i].result == DTC_RESULT_FAILED &&
		    !expected_failure(c, h->rep[i].code)) {
			print_message("false alarm %s at %.3f s\n",
				      h->rep[i].code,
				      harness_s(h->rep[i].ts_ns));
			fail();
		}
	}
	check_no_flood(h);

	harness_teardown(h);
	test_free(h);
}

void harness_tests(struct CMUnitTest *tests, const struct harness_case *cases,
		   size_t n)
{
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = harness_run_case,
			.initial_state = (void *)&cases[i],
		};
}
