/* test_det_egr.c: EGR cooler performance (P2457) and temperature spikes (P1D05)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "det_harness.h"
#include "macro.h"

#define DRIVE TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 2000 })
#define WARM TRACK(SIG_COOLANT_TEMP_C, 0.1, { 0, 90 })
/* DID 0x5A50 at 1 Hz */
#define EGR(...) TRACK(SIG_EGR_TEMP_C, 1, __VA_ARGS__)
#define VALVE(v) TRACK(SIG_EGR_VALVE_PCT, 1, { 0, v })
#define LEVEL(...) TRACK(SIG_COOLANT_LEVEL_LOW, 1, __VA_ARGS__)
#define LEVEL_OK LEVEL({ 0, 0 })

/* hot_s + one poll (1 s) + one tick */
#define HOT_LATENCY (30 + 1.1)
/*
 * Issue 9's deposit burn, 123 -> 206 -> 280 -> 326 °C, then falling: the
 * first four answers at the times given, then 1 Hz
 */
#define BURN(t0, t1, t2, t3)                                        \
	{                                                           \
		.id = SIG_EGR_TEMP_C, .n_at = 16,                   \
		.at_s = { t0,  t1,  t2,	 t3,  104, 105, 106, 107,   \
			  108, 109, 110, 111, 112, 113, 114, 115 }, \
		.n = 6,                                             \
		.pts = { { 100, 123 },                              \
			 { 101, 206 },                              \
			 { 102, 280 },                              \
			 { 103, 326 },                              \
			 { 104, 300 },                              \
			 { 110, 180 } }                             \
	}

/* the spike needs a second sample (1 s) to confirm it, + one tick */
#define SPIKE_LATENCY (1 + 1.1)
/* cycle start (1 s) + hot_s + poll */
#define PASS_LATENCY (1 + 30 + 1.1)

static const struct harness_case cases[] = {
	{
		.name = "hot after the cooler: P2457",
		.end_s = 150,
		.tracks = {
			DRIVE, WARM, VALVE(40), LEVEL_OK,
			EGR({ 0, 200 }, { 60, 200 }, { 60, 280 }),
		},
		.expect = {
			PASSED("P2457", 0, PASS_LATENCY),
			PASSED("P1D05", 0, PASS_LATENCY),
			FAILED("P2457", 60, HOT_LATENCY),
		},
	},
	{
		.name = "hot with coolant level low in the cycle: confirm now",
		.end_s = 150,
		.tracks = {
			DRIVE, WARM, VALVE(40),
			LEVEL({ 0, 0 }, { 20, 0 }, { 20, 1 }, { 25, 1 },
			      { 25, 0 }),
			EGR({ 0, 200 }, { 60, 200 }, { 60, 280 }),
		},
		.expect = { FAILED_NOW("P2457", 60, HOT_LATENCY) },
	},
	{
		.name = "coolant level drops after P2457: again, confirm now",
		.end_s = 150,
		.tracks = {
			DRIVE, WARM, VALVE(40),
			LEVEL({ 0, 0 }, { 110, 0 }, { 110, 1 }),
			EGR({ 0, 200 }, { 60, 200 }, { 60, 280 }),
		},
		.expect = {
			FAILED("P2457", 60, HOT_LATENCY),
			FAILED_NOW("P2457", 110, 1.1),
		},
	},
	{
		/* the cooler hot from 60 s to 100 s, the level low at 130 s
		 * with the valve still open but the cooler cool: spec 3 says
		 * confirmed at once all the same */
		.name = "coolant level drops after P2457, cooler cool: confirm now",
		.end_s = 200,
		.tracks = {
			DRIVE, WARM, VALVE(40),
			LEVEL({ 0, 0 }, { 130, 0 }, { 130, 1 }),
			EGR({ 0, 200 }, { 60, 200 }, { 60, 280 }, { 100, 280 },
			    { 100, 200 }),
		},
		.expect = {
			PASSED("P1D05", 0, PASS_LATENCY),
			FAILED("P2457", 60, HOT_LATENCY),
			FAILED_NOW("P2457", 130, 1.1),
		},
	},
	{
		.name = "sudden rise of 120 °C: P1D05",
		.end_s = 120,
		.tracks = {
			DRIVE, WARM, VALVE(30), LEVEL_OK,
			EGR({ 0, 180 }, { 80, 180 }, { 80, 300 }, { 90, 300 },
			    { 100, 200 }),
		},
		.expect = { FAILED_NOW("P1D05", 80, SPIKE_LATENCY) },
	},
	{
		/* a sensor's one bad answer is no rise from it */
		.name = "one answer 120 °C low, then as before: no P1D05",
		.end_s = 120,
		.tracks = {
			DRIVE, WARM, VALVE(30), LEVEL_OK,
			EGR({ 0, 180 }, { 60, 180 }, { 60, 60 }, { 60.5, 60 },
			    { 60.5, 180 }),
		},
		.expect = { PASSED("P1D05", 0, PASS_LATENCY) },
	},
	{
		.name = "slow climb to 420 °C: P1D05 at 400, and P2457",
		.end_s = 120,
		.tracks = {
			DRIVE, WARM, VALVE(30), LEVEL_OK,
			/* 3.67 °C/s: 250 at 13.6 s, 400 at 54.5 s */
			EGR({ 0, 200 }, { 60, 420 }),
		},
		.expect = {
			FAILED_NOW("P1D05", 54.5, 1.5 + SPIKE_LATENCY),
			FAILED("P2457", 13.6, 1 + HOT_LATENCY),
		},
	},
	{
		.name = "gradual warm-up by 100 °C in 20 s: no fault",
		.end_s = 120,
		.tracks = {
			DRIVE, WARM, VALVE(30), LEVEL_OK,
			EGR({ 0, 140 }, { 30, 140 }, { 50, 240 }),
		},
		.expect = { PASSED("P1D05", 0, PASS_LATENCY) },
	},
	{
		.name = "a single 450 °C glitch: no fault",
		.end_s = 120,
		.tracks = {
			DRIVE, WARM, VALVE(30), LEVEL_OK,
			EGR({ 0, 200 }, { 50, 200 }, { 50, 450 }, { 50.5, 450 },
			    { 50.5, 200 }),
		},
	},
	{
		.name = "cold engine, closed valve, engine off: P2457 not tested",
		.end_s = 120,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 2000 },
			      { 80, 2000 }, { 80, 0 }),
			TRACK(SIG_COOLANT_TEMP_C, 0.1, { 0, 40 }, { 40, 40 },
			      { 40, 90 }),
			TRACK(SIG_EGR_VALVE_PCT, 1, { 0, 50 }, { 40, 50 },
			      { 40, 10 }, { 80, 10 }, { 80, 50 }),
			LEVEL_OK, EGR({ 0, 300 }),
		},
	},
	{
		.name = "noisy healthy temperature: no fault",
		.end_s = 200,
		.tracks = {
			TRACK_NOISY(SIG_ENGINE_SPEED_RPM, 0.01, 100, { 0, 2000 }),
			TRACK_NOISY(SIG_COOLANT_TEMP_C, 0.1, 2, { 0, 88 }),
			VALVE(35), LEVEL_OK,
			TRACK_NOISY(SIG_EGR_TEMP_C, 1, 15, { 0, 230 }),
		},
		.expect = {
			PASSED("P2457", 0, PASS_LATENCY),
			PASSED("P1D05", 0, PASS_LATENCY),
		},
	},
	{
		.name = "stale, 'no value', rails and out of range: no fault",
		.end_s = 200,
		.tracks = {
			DRIVE, WARM, VALVE(40), LEVEL_OK,
			EGR({ 0, 200 }, { 20, 200 }, { 20, 1000 }, { 40, 1000 },
			    { 40, -40 }, { 60, -40 }, { 60, 1500 }, { 80, 1500 },
			    { 80, HARNESS_NO_VALUE }, { 100, HARNESS_NO_VALUE },
			    { 100, 300 }, { 115, 300 },
			    { 115, HARNESS_SILENT }),
		},
	},
	{
		.name = "no coolant level signal: P2457 still works, no confirm",
		.end_s = 150,
		.unbound = { SIG_COOLANT_LEVEL_LOW },
		.n_unbound = 1,
		.tracks = {
			DRIVE, WARM, VALVE(40),
			EGR({ 0, 200 }, { 60, 200 }, { 60, 280 }),
		},
		.expect = { FAILED("P2457", 60, HOT_LATENCY) },
	},
	{
		.name = "no EGR temperature in the profile: inactive",
		.end_s = 150,
		.unbound = { SIG_EGR_TEMP_C, SIG_EGR_VALVE_PCT },
		.n_unbound = 2,
		.inactive = { "egr:egr_temp_c", "egr:egr_valve_pct" },
		.tracks = {
			DRIVE, WARM, VALVE(40), LEVEL_OK,
			EGR({ 0, 200 }, { 60, 200 }, { 60, 450 }),
		},
	},
	{
		.name = "configured spike_samples = 1: a single glitch counts",
		.config = { "egr.spike_samples=1" },
		.end_s = 120,
		.tracks = {
			DRIVE, WARM, VALVE(30), LEVEL_OK,
			EGR({ 0, 200 }, { 50, 200 }, { 50, 450 }, { 50.5, 450 },
			    { 50.5, 200 }),
		},
		.expect = { FAILED_NOW("P1D05", 50, 0.1) },
	},
	{
		/*
		 * Issue 9: a deposit burn sampled at 1 Hz, the answer at
		 * 102 s 1 ms late: the sample from before the rise (100 s)
		 * is then 2.001 s old, yet the rise is 157 °C within 2 s.
		 */
		.name = "deposit burn 123 -> 206 -> 280 -> 326, one answer 1 ms "
			"late: P1D05",
		.end_s = 130,
		.tracks = {
			DRIVE, WARM, VALVE(30), LEVEL_OK,
			EGR({ 0, 123 }, { 99.5, HARNESS_SILENT }),
			BURN(100, 101, 102.001, 103),
		},
		.expect = { FAILED_NOW("P1D05", 102, SPIKE_LATENCY) },
	},
	{
		.name = "deposit burn, the answer after the rise 1 ms early: "
			"P1D05",
		.end_s = 130,
		.tracks = {
			DRIVE, WARM, VALVE(30), LEVEL_OK,
			EGR({ 0, 123 }, { 99.5, HARNESS_SILENT }),
			BURN(100, 101, 102, 102.999),
		},
		.expect = { FAILED_NOW("P1D05", 102, SPIKE_LATENCY) },
	},
	{
		/* 100 °C in 2.5 s is no rise of 100 °C within 2 s */
		.name = "rise of 100 °C in 2.5 s, interpolated: 80 °C in 2 s, "
			"no fault",
		.end_s = 120,
		.tracks = {
			DRIVE, WARM, VALVE(30), LEVEL_OK,
			TRACK(SIG_EGR_TEMP_C, 0.5, { 0, 140 }, { 50, 140 },
			      { 52.5, 240 }, { 80, 240 }),
		},
	},
};

/* the burn of issue 9, and what must not alarm, under sample jitter */
static const struct harness_case jitter_burn = {
	.name = "deposit burn at 1 Hz, ±5 ms jitter",
	.end_s = 130,
	.tracks = {
		DRIVE, WARM, VALVE(30), LEVEL_OK,
		{ .id = SIG_EGR_TEMP_C, .period_s = 1, .jitter_s = 0.005,
		  .n = 7,
		  .pts = { { 0, 123 }, { 100, 123 }, { 101, 206 }, { 102, 280 },
			   { 103, 326 }, { 104, 300 }, { 110, 180 } } },
	},
};

static const struct harness_case jitter_glitch = {
	.name = "a single 450 °C glitch, ±5 ms jitter",
	.end_s = 120,
	.tracks = {
		DRIVE, WARM, VALVE(30), LEVEL_OK,
		{ .id = SIG_EGR_TEMP_C, .period_s = 1, .jitter_s = 0.005,
		  .n = 5,
		  .pts = { { 0, 200 }, { 50, 200 }, { 50, 450 }, { 50.5, 450 },
			   { 50.5, 200 } } },
	},
};

static const struct harness_case jitter_slow = {
	.name = "warm-up by 100 °C in 20 s, ±5 ms jitter",
	.end_s = 120,
	.tracks = {
		DRIVE, WARM, VALVE(30), LEVEL_OK,
		{ .id = SIG_EGR_TEMP_C, .period_s = 1, .jitter_s = 0.005,
		  .n = 3,
		  .pts = { { 0, 140 }, { 30, 140 }, { 50, 240 } } },
	},
};

/* P1D05 failures of a case played with one jitter seed; the first one */
static size_t play_seed(const struct harness_case *c, uint32_t seed,
			double *ret_first_s)
{
	struct harness *h = test_malloc(sizeof(*h));
	const struct harness_report *r;
	size_t n = 0;

	harness_setup(h, c);
	harness_seed(h, seed);
	harness_play(h, c);
	for (size_t i = 0; i < h->n_rep; i++)
		n += h->rep[i].result == DTC_RESULT_FAILED &&
		     strcmp(h->rep[i].code, "P1D05") == 0;
	r = harness_find(h, "P1D05", DTC_RESULT_FAILED);
	*ret_first_s = r ? harness_s(r->ts_ns) : -1;
	harness_teardown(h);
	test_free(h);
	return n;
}

static void test_jitter(void **state)
{
	double first;

	(void)state;
	for (uint32_t seed = 1; seed <= 20; seed++) {
		assert_int_equal(play_seed(&jitter_burn, seed, &first), 1);
		if (first < 102 || first > 102 + SPIKE_LATENCY)
			print_message("seed %u: P1D05 at %.3f s\n", seed,
				      first);
		assert_true(first >= 102 && first <= 102 + SPIKE_LATENCY);
		assert_int_equal(play_seed(&jitter_glitch, seed, &first), 0);
		assert_int_equal(play_seed(&jitter_slow, seed, &first), 0);
	}
}

static void test_configure_errors(void **state)
{
	struct harness *h = test_malloc(sizeof(*h));

	harness_setup(h, NULL);
	assert_int_equal(
		detectors_configure(h->det, "egr", "hot_c", "270", NULL), 0);
	assert_int_equal(
		detectors_configure(h->det, "egr", "hot_c", "hot", NULL),
		-EINVAL);
	assert_int_equal(
		detectors_configure(h->det, "egr", "hot_c", "5000", NULL),
		-EINVAL);
	assert_int_equal(detectors_configure(h->det, "egr", "spike_samples",
					     "1.5", NULL),
			 -EINVAL);
	assert_int_equal(detectors_configure(h->det, "egr", "hot_x", "1", NULL),
			 -ENOENT);
	assert_int_equal(
		detectors_configure(h->det, "egr", "enabled", "maybe", NULL),
		-EINVAL);
	harness_teardown(h);
	test_free(h);
}

int main(void)
{
	enum { N = ARRAY_SIZE(cases) };
	struct CMUnitTest tests[N + 2];

	harness_tests(tests, cases, N);
	tests[N] = (struct CMUnitTest){
		.name = "configuration errors",
		.test_func = test_configure_errors,
	};
	tests[N + 1] = (struct CMUnitTest){
		.name = "±5 ms jitter, 20 seeds: the burn found, no glitch",
		.test_func = test_jitter,
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
