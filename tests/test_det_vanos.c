/* test_det_vanos.c: camshaft deviation (P0011/P0014) and limp mode (P1D01) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "det_harness.h"
#include "macro.h"

/* engine running from t = 0 (the operation cycle starts at 1 s) */
#define IDLE TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 800 })
#define OFF TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 0 })
/* the DID 0x5A20 poll rate */
#define P 0.2
#define STEADY(sig, v) TRACK(sig, P, { 0, v })
#define NO_EMERGENCY TRACK(SIG_ENGINE_EMERGENCY_MODE, 1, { 0, 0 })

/*
 * Latency bounds: hold_s (2 s) + one poll period (0.2 s) + one tick
 * (0.1 s); a stuck cam after a target step adds the 0.5 s follow time.
 */
#define DEV_LATENCY 2.3
#define STEP_LATENCY 2.8
/* engine start (1 s) + pass_s (10 s) + poll period */
#define PASS_LATENCY 11.3

static const struct harness_case cases[] = {
	{
		.name = "intake deviation sets P0011",
		.end_s = 30,
		.tracks = {
			IDLE, NO_EMERGENCY,
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			TRACK(SIG_VANOS_INTAKE_ACTUAL_DEG, P,
			      { 0, 20 }, { 10, 20 }, { 10, 42 }),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, -10),
		},
		.expect = {
			FAILED("P0011", 10, DEV_LATENCY),
			PASSED("P0014", 0, PASS_LATENCY),
		},
	},
	{
		.name = "exhaust deviation sets P0014",
		.end_s = 30,
		.tracks = {
			IDLE, NO_EMERGENCY,
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			STEADY(SIG_VANOS_INTAKE_ACTUAL_DEG, 21),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			TRACK(SIG_VANOS_EXHAUST_ACTUAL_DEG, P,
			      { 0, -10 }, { 15, -10 }, { 15, -25 }),
		},
		.expect = {
			FAILED("P0014", 15, DEV_LATENCY),
			PASSED("P0011", 0, PASS_LATENCY),
		},
	},
	{
		.name = "cam stuck after a target step",
		.end_s = 30,
		.tracks = {
			IDLE, NO_EMERGENCY,
			TRACK(SIG_VANOS_INTAKE_TARGET_DEG, P,
			      { 0, 0 }, { 12, 0 }, { 12, 30 }),
			STEADY(SIG_VANOS_INTAKE_ACTUAL_DEG, 0),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, 0),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, 0),
		},
		.expect = { FAILED("P0011", 12, STEP_LATENCY) },
	},
	{
		.name = "emergency program during the deviation sets P1D01",
		.end_s = 30,
		.tracks = {
			IDLE,
			TRACK(SIG_ENGINE_EMERGENCY_MODE, 1,
			      { 0, 0 }, { 13, 0 }, { 13, 1 }),
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			TRACK(SIG_VANOS_INTAKE_ACTUAL_DEG, P,
			      { 0, 20 }, { 10, 20 }, { 10, 42 }),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, -10),
		},
		.expect = {
			FAILED("P0011", 10, DEV_LATENCY),
			/* one emergency-flag poll period + a tick */
			FAILED_NOW("P1D01", 13, 1.1),
		},
	},
	{
		.name = "emergency program before the deviation fails: P1D01",
		.end_s = 30,
		.tracks = {
			IDLE,
			TRACK(SIG_ENGINE_EMERGENCY_MODE, 1,
			      { 0, 0 }, { 10.5, 0 }, { 10.5, 1 }),
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			TRACK(SIG_VANOS_INTAKE_ACTUAL_DEG, P,
			      { 0, 20 }, { 10, 20 }, { 10, 42 }),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, -10),
		},
		.expect = {
			FAILED("P0011", 10, DEV_LATENCY),
			/* as soon as the deviation fails */
			FAILED_NOW("P1D01", 10, DEV_LATENCY),
		},
	},
	{
		.name = "emergency program 7 s after the deviation sets P1D01",
		.end_s = 40,
		.tracks = {
			IDLE,
			TRACK(SIG_ENGINE_EMERGENCY_MODE, 1,
			      { 0, 0 }, { 22, 0 }, { 22, 1 }),
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			STEADY(SIG_VANOS_INTAKE_ACTUAL_DEG, 20),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			TRACK(SIG_VANOS_EXHAUST_ACTUAL_DEG, P,
			      { 0, -10 }, { 10, -10 }, { 10, 5 }, { 15, 5 },
			      { 15, -10 }),
		},
		.expect = {
			FAILED("P0014", 10, DEV_LATENCY),
			FAILED_NOW("P1D01", 22, 1.1),
		},
	},
	{
		.name = "emergency program 15 s after the deviation: no P1D01",
		.end_s = 40,
		.tracks = {
			IDLE,
			TRACK(SIG_ENGINE_EMERGENCY_MODE, 1,
			      { 0, 0 }, { 30, 0 }, { 30, 1 }),
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			TRACK(SIG_VANOS_INTAKE_ACTUAL_DEG, P,
			      { 0, 20 }, { 10, 20 }, { 10, 42 }, { 15, 42 },
			      { 15, 20 }),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, -10),
		},
		.expect = { FAILED("P0011", 10, DEV_LATENCY) },
	},
	{
		.name = "emergency program without deviation: no P1D01",
		.end_s = 30,
		.tracks = {
			IDLE,
			TRACK(SIG_ENGINE_EMERGENCY_MODE, 1,
			      { 0, 0 }, { 5, 0 }, { 5, 1 }),
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			STEADY(SIG_VANOS_INTAKE_ACTUAL_DEG, 20),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, -10),
		},
		.expect = { PASSED("P0011", 0, PASS_LATENCY) },
	},
	{
		.name = "healthy: target steps followed within 0.4 s",
		.end_s = 40,
		.tracks = {
			IDLE, NO_EMERGENCY,
			TRACK(SIG_VANOS_INTAKE_TARGET_DEG, P,
			      { 0, 0 }, { 3, 0 }, { 3, 40 }, { 6, 40 },
			      { 6, 5 }, { 9, 5 }, { 9, 45 }, { 9.4, 45 },
			      { 9.4, 0 }, { 12, 0 }, { 12, -30 }),
			TRACK(SIG_VANOS_INTAKE_ACTUAL_DEG, P,
			      { 0, 0 }, { 3, 0 }, { 3.4, 40 }, { 6, 40 },
			      { 6.4, 5 }, { 9, 5 }, { 9.4, 45 }, { 9.8, 0 },
			      { 12, 0 }, { 12.4, -30 }),
			TRACK(SIG_VANOS_EXHAUST_TARGET_DEG, P,
			      { 0, 0 }, { 4, 0 }, { 4, -30 }, { 8, -30 },
			      { 8, 0 }),
			TRACK(SIG_VANOS_EXHAUST_ACTUAL_DEG, P,
			      { 0, 0 }, { 4, 0 }, { 4.4, -30 }, { 8, -30 },
			      { 8.4, 0 }),
		},
		.expect = {
			PASSED("P0011", 12, 11),
			PASSED("P0014", 8, 11),
			PASSED("P1D01", 0, PASS_LATENCY),
		},
	},
	{
		.name = "noisy healthy signals: no fault",
		.end_s = 60,
		.tracks = {
			TRACK_NOISY(SIG_ENGINE_SPEED_RPM, 0.01, 40, { 0, 2500 }),
			NO_EMERGENCY,
			TRACK_NOISY(SIG_VANOS_INTAKE_TARGET_DEG, P, 2, { 0, 20 }),
			TRACK_NOISY(SIG_VANOS_INTAKE_ACTUAL_DEG, P, 4, { 0, 20 }),
			TRACK_NOISY(SIG_VANOS_EXHAUST_TARGET_DEG, P, 2,
				    { 0, -10 }),
			TRACK_NOISY(SIG_VANOS_EXHAUST_ACTUAL_DEG, P, 4,
				    { 0, -10 }),
		},
		.expect = {
			PASSED("P0011", 0, PASS_LATENCY),
			PASSED("P0014", 0, PASS_LATENCY),
		},
	},
	{
		.name = "deviation with the engine off: no fault",
		.end_s = 30,
		.tracks = {
			OFF, NO_EMERGENCY,
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			STEADY(SIG_VANOS_INTAKE_ACTUAL_DEG, 60),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, 30),
		},
	},
	{
		.name = "actual goes stale while deviating: no fault",
		.end_s = 30,
		.tracks = {
			IDLE, NO_EMERGENCY,
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			TRACK(SIG_VANOS_INTAKE_ACTUAL_DEG, P,
			      { 0, 20 }, { 10, 20 }, { 10, 45 },
			      { 10.6, HARNESS_SILENT }),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, -10),
		},
	},
	{
		.name = "actual answers 'no value': no fault",
		.end_s = 30,
		.tracks = {
			IDLE, NO_EMERGENCY,
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			TRACK(SIG_VANOS_INTAKE_ACTUAL_DEG, P,
			      { 0, 20 }, { 10, 20 }, { 10, HARNESS_NO_VALUE }),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, -10),
		},
	},
	{
		.name = "actual stuck at the rail or out of range: no fault",
		.end_s = 40,
		.tracks = {
			IDLE, NO_EMERGENCY,
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			TRACK(SIG_VANOS_INTAKE_ACTUAL_DEG, P,
			      { 0, 20 }, { 5, 20 }, { 5, 200 }),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			TRACK(SIG_VANOS_EXHAUST_ACTUAL_DEG, P,
			      { 0, -10 }, { 5, -10 }, { 5, -3000 }),
		},
	},
	{
		.name = "missing intake actual: inactive, no fault",
		.end_s = 30,
		.unbound = { SIG_VANOS_INTAKE_ACTUAL_DEG },
		.n_unbound = 1,
		.inactive = { "vanos:vanos_intake_actual_deg" },
		.tracks = {
			IDLE, NO_EMERGENCY,
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			STEADY(SIG_VANOS_INTAKE_ACTUAL_DEG, 60),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, 30),
		},
	},
	{
		.name = "no emergency flag in the profile: P0011 still works",
		.end_s = 30,
		.unbound = { SIG_ENGINE_EMERGENCY_MODE },
		.n_unbound = 1,
		.tracks = {
			IDLE,
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			TRACK(SIG_VANOS_INTAKE_ACTUAL_DEG, P,
			      { 0, 20 }, { 10, 20 }, { 10, 42 }),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, -10),
		},
		.expect = { FAILED("P0011", 10, DEV_LATENCY) },
	},
	{
		.name = "disabled: nothing reported",
		.config = { "vanos.enabled=false" },
		.end_s = 30,
		.tracks = {
			IDLE, NO_EMERGENCY,
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			STEADY(SIG_VANOS_INTAKE_ACTUAL_DEG, 60),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, -10),
		},
	},
	{
		.name = "configured deviation_deg = 30 and hold_s = 5",
		.config = { "vanos.deviation_deg=30", "vanos.hold_s=5" },
		.end_s = 40,
		.tracks = {
			IDLE, NO_EMERGENCY,
			STEADY(SIG_VANOS_INTAKE_TARGET_DEG, 20),
			/* 22 ° off: fine now; then 35 ° off */
			TRACK(SIG_VANOS_INTAKE_ACTUAL_DEG, P,
			      { 0, 42 }, { 20, 42 }, { 20, 55 }),
			STEADY(SIG_VANOS_EXHAUST_TARGET_DEG, -10),
			STEADY(SIG_VANOS_EXHAUST_ACTUAL_DEG, -10),
		},
		.expect = { FAILED("P0011", 20, 5.3) },
	},
};

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(cases)];

	harness_tests(tests, cases, ARRAY_SIZE(cases));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
