/* test_det_turbo_pump.c: pump not running (P2600), over-temperature (P1D04) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "det_harness.h"
#include "macro.h"

#define DRIVE TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 2000 })
/* DID 0x5A40 at 1 Hz */
#define DUTY(...) TRACK(SIG_TURBO_PUMP_DUTY_PCT, 1, __VA_ARGS__)
#define SPEED(...) TRACK(SIG_TURBO_PUMP_SPEED_RPM, 1, __VA_ARGS__)
#define TEMP(...) TRACK(SIG_TURBO_COOLANT_TEMP_C, 1, __VA_ARGS__)
/* 60 % duty: 1800 rpm commanded */
#define PUMP_OK DUTY({ 0, 60 }), SPEED({ 0, 1790 })
#define TEMP_OK TEMP({ 0, 85 })

/* hold time + one DID poll (1 s) + one tick */
#define PUMP_LATENCY (5 + 1.1)
#define HIGH_LATENCY (10 + 1.1)
#define CRITICAL_LATENCY (2 + 1.1)

#define FAILED_AS(code, sev, confirm, onset, latency)                 \
	{                                                             \
		code, DTC_RESULT_FAILED, sev, confirm, onset, latency \
	}

static const struct harness_case cases[] = {
	{
		.name = "pump stops while commanded: P2600",
		.end_s = 120,
		.tracks = {
			DRIVE, DUTY({ 0, 60 }),
			SPEED({ 0, 1800 }, { 50, 1800 }, { 50, 0 }), TEMP_OK,
		},
		.expect = {
			PASSED("P2600", 0, PUMP_LATENCY),
			FAILED_AS("P2600", DTC_SEVERITY_DEFAULT, false, 50,
			       PUMP_LATENCY),
			PASSED("P1D04", 0, HIGH_LATENCY),
		},
	},
	{
		.name = "pump at 5 % of the commanded speed: P2600",
		.end_s = 120,
		.tracks = {
			DRIVE, DUTY({ 0, 60 }),
			SPEED({ 0, 1800 }, { 40, 1800 }, { 40, 90 }), TEMP_OK,
		},
		.expect = {
			FAILED_AS("P2600", DTC_SEVERITY_DEFAULT, false, 40,
			       PUMP_LATENCY),
		},
	},
	{
		.name = "pump at 40 % of the commanded speed: no fault",
		.end_s = 120,
		.tracks = { DRIVE, DUTY({ 0, 60 }), SPEED({ 0, 720 }), TEMP_OK },
		.expect = { PASSED("P2600", 0, PUMP_LATENCY) },
	},
	{
		.name = "duty below 30 % with the pump standing: not tested",
		.end_s = 120,
		.tracks = { DRIVE, DUTY({ 0, 25 }), SPEED({ 0, 0 }), TEMP_OK },
	},
	{
		.name = "turbo coolant at 118 °C: P1D04 high",
		.end_s = 150,
		.tracks = {
			DRIVE, PUMP_OK,
			TEMP({ 0, 95 }, { 100, 95 }, { 100, 118 }),
		},
		.expect = {
			PASSED("P1D04", 0, HIGH_LATENCY),
			FAILED_AS("P1D04", DTC_SEVERITY_HIGH, false, 100,
			       HIGH_LATENCY),
		},
	},
	{
		.name = "turbo coolant at 130 °C: P1D04 critical, confirm now",
		.end_s = 150,
		.tracks = {
			DRIVE, PUMP_OK,
			TEMP({ 0, 95 }, { 100, 95 }, { 100, 130 }),
		},
		.expect = {
			FAILED_AS("P1D04", DTC_SEVERITY_CRITICAL, true, 100,
			       CRITICAL_LATENCY),
		},
	},
	{
		.name = "slow rise through 115 and 125 °C: high, then critical",
		.end_s = 200,
		.tracks = {
			DRIVE, PUMP_OK,
			/* 1 °C/s from 105: 115 at 110 s, 125 at 120 s */
			TEMP({ 0, 105 }, { 100, 105 }, { 130, 135 }),
		},
		.expect = {
			FAILED_AS("P1D04", DTC_SEVERITY_HIGH, false, 110,
			       HIGH_LATENCY),
			FAILED_AS("P1D04", DTC_SEVERITY_CRITICAL, true, 120,
			       CRITICAL_LATENCY),
		},
	},
	{
		.name = "after-run with the engine off: normal",
		.end_s = 900,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 2500 },
			      { 100, 2500 }, { 100, 0 }),
			/* running on for 10 min while above 90 °C */
			DUTY({ 0, 50 }, { 100, 50 }, { 100, 80 }, { 700, 80 },
			     { 700, 0 }),
			SPEED({ 0, 1500 }, { 100, 1500 }, { 100, 2400 },
			      { 700, 2400 }, { 700, 0 }),
			TEMP({ 0, 100 }, { 100, 100 }, { 130, 108 },
			     { 700, 89 }, { 900, 60 }),
		},
		.expect = {
			PASSED("P2600", 0, PUMP_LATENCY),
			PASSED("P1D04", 0, HIGH_LATENCY),
		},
	},
	{
		.name = "pump dead during the after-run: P2600",
		.end_s = 400,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 2500 },
			      { 100, 2500 }, { 100, 0 }),
			DUTY({ 0, 50 }, { 100, 50 }, { 100, 80 }),
			SPEED({ 0, 1500 }, { 100, 1500 }, { 100, 0 }),
			TEMP({ 0, 100 }),
		},
		.expect = {
			FAILED_AS("P2600", DTC_SEVERITY_DEFAULT, false, 100,
			       PUMP_LATENCY),
		},
	},
	{
		.name = "noisy temperature around 110 °C, noisy pump: no fault",
		.end_s = 600,
		.tracks = {
			DRIVE, DUTY({ 0, 60 }),
			TRACK_NOISY(SIG_TURBO_PUMP_SPEED_RPM, 1, 200,
				    { 0, 1800 }),
			TRACK_NOISY(SIG_TURBO_COOLANT_TEMP_C, 1, 6, { 0, 110 }),
		},
		.expect = { PASSED("P2600", 0, PUMP_LATENCY) },
	},
	{
		.name = "a single 140 °C glitch: no fault",
		.end_s = 120,
		.tracks = {
			DRIVE, PUMP_OK,
			TEMP({ 0, 95 }, { 50, 95 }, { 50, 140 }, { 50.5, 140 },
			     { 50.5, 95 }),
		},
	},
	{
		.name = "values going stale or 'no value' while faulty: no fault",
		.end_s = 200,
		.tracks = {
			DRIVE, DUTY({ 0, 60 }),
			SPEED({ 0, 1800 }, { 50, 1800 },
			      { 50, HARNESS_NO_VALUE }),
			TEMP({ 0, 95 }, { 50, 95 }, { 50, 130 },
			      { 51.5, 130 }, { 51.5, HARNESS_SILENT }),
		},
	},
	{
		.name = "sensors at their rails or out of range: no fault",
		.end_s = 200,
		.tracks = {
			DRIVE, DUTY({ 0, 60 }),
			SPEED({ 0, 1800 }, { 50, 1800 }, { 50, -100 }),
			TEMP({ 0, 250 }, { 60, 250 }, { 60, -40 }, { 120, -40 },
			     { 120, 400 }),
		},
	},
	{
		.name = "no turbo coolant temperature in the profile: inactive",
		.end_s = 120,
		.unbound = { SIG_TURBO_COOLANT_TEMP_C },
		.n_unbound = 1,
		.inactive = { "turbo_pump:turbo_coolant_temp_c" },
		.tracks = {
			DRIVE, DUTY({ 0, 60 }), SPEED({ 0, 0 }),
			TEMP({ 0, 130 }),
		},
	},
	{
		.name = "configured high_c = 105: P1D04 high at 110 °C",
		.config = { "turbo_pump.high_c=105" },
		.end_s = 120,
		.tracks = {
			DRIVE, PUMP_OK,
			TEMP({ 0, 95 }, { 30, 95 }, { 30, 110 }),
		},
		.expect = {
			FAILED_AS("P1D04", DTC_SEVERITY_HIGH, false, 30,
			       HIGH_LATENCY),
		},
	},
};

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(cases)];

	harness_tests(tests, cases, ARRAY_SIZE(cases));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
