/* test_det_misfire.c: per-cylinder misfire rates (P0300-P0306) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "det_harness.h"
#include "macro.h"

/*
 * At 3000 rpm a crankshaft turns 50 times a second and each cylinder fires
 * 25 times: a 1000-revolution window lasts 20 s, a 200-revolution window
 * 4 s. The operation cycle (and counting) starts 1 s after the engine.
 */
#define RPM(v) TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, v })
#define FIRINGS_PER_S 25.0
#define PCT(rate) (FIRINGS_PER_S * (rate) / 100)
#define END 400.0

/* the DME DID 0x5A10 is polled at 1 Hz */
#define CNT(n, ...) TRACK_COUNTER(SIG_MISFIRE_COUNT_CYL_##n, 1, 0, __VA_ARGS__)
#define CLEAN(n) CNT(n, { 0, 0 })
/* misfiring at rate % from t0 on */
#define FAULT(n, t0, rate) \
	CNT(n, { 0, 0 }, { t0, 0 }, { END, PCT(rate) * (END - (t0)) })

/*
 * Latency bounds: the fault can start just after a window began, so the
 * first window that is mostly faulty completes within two windows, plus
 * one counter poll (1 s).
 */
#define RATE_LATENCY (2 * 20 + 1.0)
#define CAT_LATENCY (2 * 4 + 1.0)
/* the first window completes 1 s (cycle start) + 20 s after the start */
#define PASS_LATENCY (1 + 20 + 0.5)

static const struct harness_case cases[] = {
	{
		.name = "cylinder 3 at 5 % sets P0303",
		.end_s = 120,
		.tracks = {
			RPM(3000), CLEAN(1), CLEAN(2), FAULT(3, 30, 5),
			CLEAN(4), CLEAN(5), CLEAN(6),
		},
		.expect = {
			FAILED("P0303", 30, RATE_LATENCY),
			PASSED("P0301", 0, PASS_LATENCY),
			PASSED("P0306", 0, PASS_LATENCY),
			PASSED("P0300", 0, PASS_LATENCY),
		},
	},
	{
		.name = "cylinder 5 at 20 % is catalyst-damaging: confirm now",
		.end_s = 120,
		.tracks = {
			RPM(3000), CLEAN(1), CLEAN(2), CLEAN(3), CLEAN(4),
			FAULT(5, 30, 20), CLEAN(6),
		},
		.expect = {
			FAILED_NOW("P0305", 30, CAT_LATENCY),
			FAILED("P0305", 30, RATE_LATENCY),
		},
	},
	{
		.name = "cylinders 2 and 4 at 5 % set P0302, P0304 and P0300",
		.end_s = 120,
		.tracks = {
			RPM(3000), CLEAN(1), FAULT(2, 25, 5), CLEAN(3),
			FAULT(4, 25, 5), CLEAN(5), CLEAN(6),
		},
		.expect = {
			FAILED("P0302", 25, RATE_LATENCY),
			FAILED("P0304", 25, RATE_LATENCY),
			FAILED("P0300", 25, RATE_LATENCY),
		},
	},
	{
		.name = "cylinders 1 and 6 at 25 %: P0300 confirmed now",
		.end_s = 80,
		.tracks = {
			RPM(3000), FAULT(1, 30, 25), CLEAN(2), CLEAN(3),
			CLEAN(4), CLEAN(5), FAULT(6, 30, 25),
		},
		.expect = {
			FAILED_NOW("P0300", 30, CAT_LATENCY),
			FAILED_NOW("P0301", 30, CAT_LATENCY),
			FAILED_NOW("P0306", 30, CAT_LATENCY),
		},
	},
	{
		.name = "fault ends: the next clean window reports PASSED",
		.end_s = 200,
		.tracks = {
			RPM(3000), CLEAN(1), CLEAN(2),
			CNT(3, { 0, 0 }, { 30, 0 }, { 90, PCT(6) * 60 }),
			CLEAN(4), CLEAN(5), CLEAN(6),
		},
		.expect = {
			FAILED("P0303", 30, RATE_LATENCY),
			/* a window wholly after the end: within two windows */
			PASSED("P0303", 91, RATE_LATENCY),
		},
	},
	{
		.name = "healthy idle with rare misfires: no fault",
		.end_s = 300,
		.tracks = {
			RPM(750),
			/* 0.5 % of the 6.25 firings a second */
			CNT(1, { 0, 0 }, { 300, 0.005 * 6.25 * 300 }),
			CLEAN(2), CLEAN(3), CLEAN(4),
			CNT(5, { 0, 0 }, { 300, 0.01 * 6.25 * 300 }),
			CLEAN(6),
		},
		.expect = {
			/* 1000 revolutions at 750 rpm: 80 s */
			PASSED("P0301", 0, 1 + 80 + 0.5),
			PASSED("P0305", 0, 1 + 80 + 0.5),
			PASSED("P0300", 0, 1 + 80 + 0.5),
		},
	},
	{
		.name = "healthy full load at 6500 rpm: no fault",
		.end_s = 60,
		.tracks = {
			RPM(6500), CNT(1, { 0, 0 }, { 60, 20 }), CLEAN(2),
			CLEAN(3), CLEAN(4), CLEAN(5), CLEAN(6),
		},
		.expect = { PASSED("P0301", 0, 11) },
	},
	{
		.name = "cold start: cranking misfires are not counted",
		.end_s = 120,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 0 }, { 2, 0 },
			      { 2, 250 }, { 3.5, 250 }, { 3.5, 1300 },
			      { 40, 1300 }, { 50, 800 }),
			TRACK(SIG_COOLANT_TEMP_C, 0.1, { 0, -5 }, { 120, 20 }),
			/* 12 misfires in cylinder 2 while cranking */
			CNT(2, { 0, 0 }, { 2, 0 }, { 3.5, 12 }),
			CLEAN(1), CLEAN(3), CLEAN(4), CLEAN(5), CLEAN(6),
		},
		.expect = { PASSED("P0302", 0, 60) },
	},
	{
		.name = "counters reset at engine start: no fault",
		.end_s = 200,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 2000 },
			      { 60, 2000 }, { 60, 0 }, { 75, 0 },
			      { 75, 2000 }),
			/* 300 misfires counted before, healthy 0.4 % rate */
			CNT(1, { 0, 300 }, { 60, 305 }, { 75, 305 },
			    { 75, 0 }, { 200, 7 }),
			CNT(2, { 0, 900 }, { 60, 900 }, { 75, 900 },
			    { 75, 0 }),
			CLEAN(3), CLEAN(4), CLEAN(5), CLEAN(6),
		},
		.expect = { PASSED("P0301", 75, 40) },
	},
	{
		.name = "a misfire right after the counter reset still counts",
		.end_s = 200,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 3000 },
			      { 60, 3000 }, { 60, 0 }, { 75, 0 },
			      { 75, 3000 }),
			/*
			 * 5 % in the first window after the restart only; the
			 * first answer after the restart comes at 77 s, inside
			 * the window: a negative count at the reset would hide
			 * the fault.
			 */
			CNT(4, { 0, 500 }, { 77, 500 }, { 77, PCT(5) * 2 },
			    { 95, PCT(5) * 20 }),
			CLEAN(1), CLEAN(2), CLEAN(3), CLEAN(5), CLEAN(6),
		},
		.expect = { FAILED("P0304", 75, 1 + 20 + 0.5) },
	},
	{
		.name = "counter wrapping at 65535: no fault",
		.end_s = 200,
		.tracks = {
			RPM(3000),
			/* 1 % through the wrap */
			TRACK_COUNTER(SIG_MISFIRE_COUNT_CYL_1, 1, 65536,
				      { 0, 65480 }, { 200, 65480 + PCT(1) * 200 }),
			CLEAN(2), CLEAN(3), CLEAN(4), CLEAN(5), CLEAN(6),
		},
		.expect = { PASSED("P0301", 0, PASS_LATENCY) },
	},
	{
		.name = "misfiring through the counter wrap: P0301",
		.end_s = 200,
		.tracks = {
			RPM(3000),
			/*
			 * Clean, then 3 % for one 20 s window only, during
			 * which the counter wraps (at 156 s): a negative count
			 * at the wrap would hide the fault.
			 */
			TRACK_COUNTER(SIG_MISFIRE_COUNT_CYL_1, 1, 65536,
				      { 0, 65525 }, { 141, 65525 },
				      { 161, 65525 + PCT(3) * 20 }),
			CLEAN(2), CLEAN(3), CLEAN(4), CLEAN(5), CLEAN(6),
		},
		.expect = { FAILED("P0301", 141, 20 + 0.5) },
	},
	{
		.name = "OBD Mode 06 polled every 2 s: P0306",
		.end_s = 120,
		.tracks = {
			RPM(3000), CLEAN(1), CLEAN(2), CLEAN(3), CLEAN(4),
			CLEAN(5),
			TRACK_COUNTER(SIG_MISFIRE_COUNT_CYL_6, 2, 0, { 0, 0 },
				      { 20, 0 }, { END, PCT(4) * (END - 20) }),
		},
		.expect = { FAILED("P0306", 20, RATE_LATENCY + 1) },
	},
	{
		.name = "noisy engine speed, healthy: no fault",
		.end_s = 120,
		.tracks = {
			TRACK_NOISY(SIG_ENGINE_SPEED_RPM, 0.01, 150, { 0, 2200 }),
			CNT(1, { 0, 0 }, { 120, 20 }), CLEAN(2), CLEAN(3),
			CLEAN(4), CLEAN(5), CLEAN(6),
		},
		.expect = { PASSED("P0301", 0, 30) },
	},
	{
		.name = "counters stale, then back with a jump: no fault",
		.end_s = 200,
		.tracks = {
			RPM(3000),
			CNT(1, { 0, 0 }, { 20, 0 }, { 20, HARNESS_SILENT },
			    { 100, 400 }, { 200, 402 }),
			CLEAN(2), CLEAN(3), CLEAN(4), CLEAN(5), CLEAN(6),
		},
	},
	{
		.name = "implausible counter and speed values: no fault",
		.end_s = 200,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 3000 },
			      { 50, 3000 }, { 50, 30000 }, { 60, 30000 },
			      { 60, 3000 }),
			CNT(1, { 0, 0 }, { 30, 0 }, { 30, 40000 }, { 31, 40000 },
			    { 31, 0 }),
			CNT(2, { 0, 0 }, { 70, 0 }, { 70, 65535 }),
			CNT(3, { 0, 0 }, { 90, 0 }, { 90, HARNESS_NO_VALUE }),
			CLEAN(4), CLEAN(5), CLEAN(6),
		},
		/* the bad values neither fail nor end the test */
		.expect = {
			PASSED("P0301", 0, PASS_LATENCY),
			PASSED("P0304", 0, PASS_LATENCY),
		},
	},
	{
		.name = "engine off with rising counters: no fault",
		.end_s = 100,
		.tracks = {
			RPM(0), FAULT(1, 10, 50), CLEAN(2), CLEAN(3), CLEAN(4),
			CLEAN(5), CLEAN(6),
		},
	},
	{
		.name = "cylinder 6 not in the profile: inactive, no fault",
		.end_s = 120,
		.unbound = { SIG_MISFIRE_COUNT_CYL_6 },
		.n_unbound = 1,
		.inactive = { "misfire:misfire_count_cyl_6" },
		.tracks = {
			RPM(3000), CLEAN(1), CLEAN(2), FAULT(3, 30, 20),
			CLEAN(4), CLEAN(5),
		},
	},
	{
		.name = "no engine speed in the profile: inactive, no fault",
		.end_s = 120,
		.unbound = { SIG_ENGINE_SPEED_RPM },
		.n_unbound = 1,
		.inactive = { "misfire:engine_speed_rpm" },
		.tracks = {
			TRACK(SIG_ENGINE_RUN_STATE, 0.1, { 0, 2 }),
			CLEAN(1), CLEAN(2), FAULT(3, 30, 20), CLEAN(4),
			CLEAN(5), CLEAN(6),
		},
	},
	{
		.name = "four cylinders configured: cylinders 5 and 6 not needed",
		.config = { "misfire.cylinders=4" },
		.end_s = 120,
		.unbound = { SIG_MISFIRE_COUNT_CYL_5, SIG_MISFIRE_COUNT_CYL_6 },
		.n_unbound = 2,
		.tracks = {
			RPM(3000), CLEAN(1), CLEAN(2), CLEAN(3),
			FAULT(4, 30, 5),
		},
		.expect = {
			FAILED("P0304", 30, RATE_LATENCY),
			PASSED("P0300", 0, PASS_LATENCY),
		},
	},
	{
		.name = "configured rate_pct = 8: 5 % passes",
		.config = { "misfire.rate_pct=8" },
		.end_s = 120,
		.tracks = {
			RPM(3000), CLEAN(1), CLEAN(2), FAULT(3, 0, 5),
			CLEAN(4), CLEAN(5), CLEAN(6),
		},
		.expect = { PASSED("P0303", 0, PASS_LATENCY) },
	},
};

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(cases)];

	harness_tests(tests, cases, ARRAY_SIZE(cases));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
