/* test_det_egr.c: EGR cooler performance (P2457) and temperature spikes (P1D05)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "det_harness.h"

#define DRIVE TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 2000 })
#define WARM TRACK(SIG_COOLANT_TEMP_C, 0.1, { 0, 90 })
/* DID 0x5A50 at 1 Hz */
#define EGR(...) TRACK(SIG_EGR_TEMP_C, 1, __VA_ARGS__)
#define VALVE(v) TRACK(SIG_EGR_VALVE_PCT, 1, { 0, v })
#define LEVEL(...) TRACK(SIG_COOLANT_LEVEL_LOW, 1, __VA_ARGS__)
#define LEVEL_OK LEVEL({ 0, 0 })

/* hot_s + one poll (1 s) + one tick */
#define HOT_LATENCY (30 + 1.1)
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
};

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
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct CMUnitTest tests[N + 1];

	harness_tests(tests, cases, N);
	tests[N] = (struct CMUnitTest){
		.name = "configuration errors",
		.test_func = test_configure_errors,
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
