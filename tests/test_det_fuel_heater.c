/* test_det_fuel_heater.c: heater on (P1D02) and battery drain (P1D03), parked
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "det_harness.h"
#include "macro.h"

/*
 * The engine runs until 60 s, then stands (the operation cycle ends 2 s
 * later); the ignition goes off at 65 s. The bus stays awake: the speed
 * frames keep coming with 0 rpm and the DME answers its DIDs at 1 Hz.
 */
#define DRIVE_THEN_PARK                                                        \
	TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 800 }, { 60, 800 }, { 60, 0 }), \
		TRACK(SIG_IGNITION_ON, 0.1, { 0, 1 }, { 65, 1 }, { 65, 0 })
#define HEATER(...) TRACK(SIG_FUEL_HEATER_ON, 1, __VA_ARGS__)
#define AMPS(...) TRACK(SIG_FUEL_HEATER_CURRENT_A, 1, __VA_ARGS__)
#define BATTERY(...) TRACK(SIG_BATTERY_CURRENT_A, 1, __VA_ARGS__)
#define HEATER_OFF HEATER({ 0, 0 }), AMPS({ 0, 0.02 })
#define QUIET_BATTERY BATTERY({ 0, 20 }, { 60, 20 }, { 60, -0.05 })

/*
 * Latency bounds from the fault onset: the hold time plus one DID poll
 * (1 s) and one tick; when the fault is there as the engine stops, the
 * 2 s the operation cycle needs to end count too.
 */
#define HEATER_LATENCY (60 + 1.1)
#define HEATER_AT_STOP_LATENCY (2 + HEATER_LATENCY)
#define DRAIN_LATENCY (120 + 1.1)

static const struct harness_case cases[] = {
	{
		.name = "heater stuck on after the engine stops: P1D02",
		.end_s = 200,
		.tracks = {
			DRIVE_THEN_PARK, HEATER({ 0, 1 }), AMPS({ 0, 8.5 }),
			QUIET_BATTERY,
		},
		.expect = { FAILED_NOW("P1D02", 60, HEATER_AT_STOP_LATENCY) },
	},
	{
		.name = "heater current without the on flag (bad contact): P1D02",
		.end_s = 200,
		.tracks = {
			DRIVE_THEN_PARK, HEATER({ 0, 0 }), AMPS({ 0, 6 }),
			QUIET_BATTERY,
		},
		.expect = { FAILED_NOW("P1D02", 60, HEATER_AT_STOP_LATENCY) },
	},
	{
		.name = "heater switching on by itself when parked: P1D02",
		.end_s = 500,
		.tracks = {
			DRIVE_THEN_PARK,
			HEATER({ 0, 0 }, { 300, 0 }, { 300, 1 }),
			AMPS({ 0, 0 }, { 300, 0 }, { 300, 7 }),
			QUIET_BATTERY,
		},
		.expect = {
			PASSED("P1D02", 62, 30 + 1.1),
			FAILED_NOW("P1D02", 300, HEATER_LATENCY),
		},
	},
	{
		.name = "heater for 25 s after the stop: normal",
		.end_s = 300,
		.tracks = {
			DRIVE_THEN_PARK,
			HEATER({ 0, 1 }, { 85, 1 }, { 85, 0 }),
			AMPS({ 0, 8 }, { 85, 8 }, { 85, 0 }),
			QUIET_BATTERY,
		},
		/* after-run over 30 s after the cycle ended */
		.expect = { PASSED("P1D02", 62, 30 + 1.1) },
	},
	{
		.name = "heater on during a long drive: normal",
		.end_s = 600,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 2000 }),
			TRACK(SIG_IGNITION_ON, 0.1, { 0, 1 }),
			HEATER({ 0, 1 }), AMPS({ 0, 8 }), BATTERY({ 0, 15 }),
		},
	},
	{
		.name = "battery drained with the ignition off: P1D03",
		.end_s = 300,
		.tracks = {
			DRIVE_THEN_PARK, HEATER_OFF,
			BATTERY({ 0, 20 }, { 60, 20 }, { 60, -8 }),
		},
		/* from the ignition going off */
		.expect = { FAILED_NOW("P1D03", 65, DRAIN_LATENCY) },
	},
	{
		.name = "stuck heater drains the battery: P1D02 and P1D03",
		.end_s = 300,
		.tracks = {
			DRIVE_THEN_PARK, HEATER({ 0, 1 }), AMPS({ 0, 8 }),
			BATTERY({ 0, 20 }, { 60, 20 }, { 60, -9 }),
		},
		.expect = {
			FAILED_NOW("P1D02", 60, HEATER_AT_STOP_LATENCY),
			FAILED_NOW("P1D03", 65, DRAIN_LATENCY),
		},
	},
	{
		.name = "healthy parking: PASSED for both",
		.end_s = 400,
		.tracks = { DRIVE_THEN_PARK, HEATER_OFF, QUIET_BATTERY },
		.expect = {
			PASSED("P1D02", 62, 30 + 1.1),
			PASSED("P1D03", 65, DRAIN_LATENCY),
		},
	},
	{
		.name = "high discharge with the ignition on: no P1D03",
		.end_s = 400,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 0 }),
			TRACK(SIG_IGNITION_ON, 0.1, { 0, 1 }),
			HEATER_OFF, BATTERY({ 0, -25 }),
		},
	},
	{
		.name = "parked with no speed frames at all: P1D02 still works",
		.end_s = 200,
		.tracks = {
			TRACK(SIG_IGNITION_ON, 0.1, { 0, 0 }),
			HEATER({ 0, 1 }), AMPS({ 0, 8 }), QUIET_BATTERY,
		},
		.expect = { FAILED_NOW("P1D02", 0, HEATER_LATENCY) },
	},
	{
		.name = "noisy heater and battery currents below the limits",
		.end_s = 600,
		.tracks = {
			DRIVE_THEN_PARK, HEATER({ 0, 0 }),
			TRACK_NOISY(SIG_FUEL_HEATER_CURRENT_A, 1, 0.45,
				    { 0, 0.5 }),
			TRACK_NOISY(SIG_BATTERY_CURRENT_A, 1, 0.9, { 0, -4 }),
		},
		.expect = { PASSED("P1D03", 65, DRAIN_LATENCY) },
	},
	{
		.name = "noisy current crossing the limit now and then: no fault",
		.end_s = 600,
		.tracks = {
			DRIVE_THEN_PARK, HEATER({ 0, 0 }),
			/* mostly below 1 A: a crossing never lasts 60 s */
			TRACK_NOISY(SIG_FUEL_HEATER_CURRENT_A, 1, 0.6,
				    { 0, 0.6 }),
			TRACK_NOISY(SIG_BATTERY_CURRENT_A, 1, 2, { 0, -3.5 }),
		},
	},
	{
		.name = "heater frames stop while on: no fault",
		.end_s = 300,
		.tracks = {
			DRIVE_THEN_PARK,
			HEATER({ 0, 1 }, { 80, 1 }, { 80, HARNESS_SILENT }),
			AMPS({ 0, 8 }, { 80, 8 }, { 80, HARNESS_SILENT }),
			BATTERY({ 0, -8 }, { 80, -8 },
				{ 80, HARNESS_NO_VALUE }),
		},
	},
	{
		.name = "implausible currents (rails, out of range): no fault",
		.end_s = 400,
		.tracks = {
			DRIVE_THEN_PARK, HEATER({ 0, 0 }),
			AMPS({ 0, 60 }, { 150, 60 }, { 150, 75 }),
			BATTERY({ 0, -1000 }, { 150, -1000 }, { 150, -2000 }),
		},
	},
	{
		.name = "no battery current in the profile: inactive",
		.end_s = 200,
		.unbound = { SIG_BATTERY_CURRENT_A },
		.n_unbound = 1,
		.inactive = { "fuel_heater:battery_current_a" },
		.tracks = {
			DRIVE_THEN_PARK, HEATER({ 0, 1 }), AMPS({ 0, 8 }),
			BATTERY({ 0, -8 }),
		},
	},
	{
		.name = "configured heater_on_s = 20: P1D02 sooner",
		.config = { "fuel_heater.heater_on_s=20" },
		.end_s = 200,
		.tracks = {
			DRIVE_THEN_PARK, HEATER({ 0, 1 }), AMPS({ 0, 8 }),
			QUIET_BATTERY,
		},
		.expect = { FAILED_NOW("P1D02", 60, 2 + 20 + 1.1) },
	},
};

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(cases)];

	harness_tests(tests, cases, ARRAY_SIZE(cases));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
