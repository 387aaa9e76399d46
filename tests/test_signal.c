/* test_signal.c: canonical signal names, ranges, and the last-value table */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "signal.h"
#include "macro.h"

#define S(x) ((int64_t)((x)*1e9))

/* the names of spec sections 1 and 5, as the JSON output spells them */
static const char *const spec_names[] = {
	"engine_speed_rpm",
	"coolant_temp_c",
	"oil_temp_c",
	"engine_run_state",
	"ignition_on",
	"battery_voltage_v",
	"torque_max_available_nm",
	"ecu_mil_on",
	"ecu_dtc_count",
	"vehicle_speed_kmh",
	"engine_run_time_s",
	"egr_commanded_pct",
	"ambient_temp_c",
	"egr_temp_c",
	"misfire_count_cyl_1",
	"misfire_count_cyl_6",
	"vin",
	"vanos_intake_target_deg",
	"vanos_intake_actual_deg",
	"vanos_exhaust_target_deg",
	"vanos_exhaust_actual_deg",
	"engine_emergency_mode",
	"engine_power_reduced",
	"fuel_heater_on",
	"fuel_heater_current_a",
	"battery_current_a",
	"turbo_pump_duty_pct",
	"turbo_pump_speed_rpm",
	"turbo_coolant_temp_c",
	"egr_valve_pct",
	"coolant_level_low",
};

static void test_names(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(spec_names); i++) {
		enum signal_id id = signal_from_name(spec_names[i]);

		if (id == SIG_INVALID)
			fail_msg("%s is not a canonical signal", spec_names[i]);
		assert_string_equal(signal_name(id), spec_names[i]);
	}
	/* every entry of the table is filled and unique */
	for (int i = 0; i < SIG__MAX; i++) {
		assert_non_null(signal_info(i)->name);
		assert_int_equal(signal_from_name(signal_name(i)), i);
	}
	assert_int_equal(signal_from_name("engine_speed"), SIG_INVALID);
	assert_null(signal_info(SIG__MAX));
	assert_true(signal_info(SIG_VIN)->is_text);
}

struct range_case {
	enum signal_id id;
	double value;
	bool plausible;
};

/* each case's answer of check (.plausible: what check must say) */
static void check_cases(const struct range_case *cases, size_t n,
			bool (*check)(enum signal_id id, double value))
{
	for (size_t i = 0; i < n; i++)
		if (check(cases[i].id, cases[i].value) != cases[i].plausible)
			fail_msg("%s = %g", signal_name(cases[i].id),
				 cases[i].value);
}

static void test_plausible(void **state)
{
	static const struct range_case cases[] = {
		{ SIG_COOLANT_TEMP_C, -40, true },
		{ SIG_COOLANT_TEMP_C, 215, true },
		{ SIG_COOLANT_TEMP_C, -41, false },
		{ SIG_ENGINE_SPEED_RPM, -1, false },
		{ SIG_BATTERY_VOLTAGE_V, 14.2, true },
		{ SIG_BATTERY_VOLTAGE_V, 61.4, false },
		{ SIG_BATTERY_CURRENT_A, -12.5, true },
		{ SIG_IGNITION_ON, 3, false },
		{ SIG_VIN, 0, false },
	};

	check_cases(cases, ARRAY_SIZE(cases), signal_plausible);
	assert_false(signal_plausible(SIG_ENGINE_SPEED_RPM, NAN));
}

/* the range ends a broken sensor reports are listed with the signal */
static void test_rails(void **state)
{
	static const struct range_case cases[] = {
		/* .plausible here: "at a rail" */
		{ SIG_COOLANT_TEMP_C, -40, true },
		{ SIG_COOLANT_TEMP_C, 215, true },
		{ SIG_COOLANT_TEMP_C, 214.5, false },
		{ SIG_EGR_TEMP_C, 1000, true },
		{ SIG_ENGINE_SPEED_RPM, 12000, true },
		{ SIG_ENGINE_SPEED_RPM, 0, false }, /* a stopped engine */
		{ SIG_TURBO_PUMP_SPEED_RPM, 0, false },
		{ SIG_FUEL_HEATER_CURRENT_A, 0, false },
		{ SIG_FUEL_HEATER_CURRENT_A, 60, true },
		{ SIG_MISFIRE_COUNT_CYL_12, 65535, true },
		{ SIG_MISFIRE_COUNT_CYL_1, 0, false },
		{ SIG_IGNITION_ON, 1, false },
		{ SIG_BATTERY_VOLTAGE_V, 0, false },
		{ SIG__MAX, 0, false },
	};

	check_cases(cases, ARRAY_SIZE(cases), signal_at_rail);
}

/*
 * What a detector may use: plausible and not at a rail, for every signal
 * at its ends, just inside and outside them, in the middle, and at the
 * values no sensor gives (NaN, infinities)
 */
static void test_usable(void **state)
{
	for (int id = 0; id <= SIG__MAX; id++) {
		const struct signal_info *i = signal_info(id);
		double lo = i ? i->min : 0, hi = i ? i->max : 0;
		const double values[] = {
			lo,
			hi,
			nextafter(lo, -INFINITY),
			nextafter(lo, INFINITY),
			nextafter(hi, -INFINITY),
			nextafter(hi, INFINITY),
			(lo + hi) / 2,
			NAN,
			INFINITY,
			-INFINITY,
		};

		for (size_t k = 0; k < ARRAY_SIZE(values); k++)
			if (signal_usable(id, values[k]) !=
			    (signal_plausible(id, values[k]) &&
			     !signal_at_rail(id, values[k])))
				fail_msg("signal %d = %g", id, values[k]);
	}
	assert_false(signal_usable(SIG_COOLANT_TEMP_C, -40));
	assert_true(signal_usable(SIG_COOLANT_TEMP_C, -39.5));
	assert_true(signal_usable(SIG_ENGINE_SPEED_RPM, 0));
	assert_false(signal_usable(SIG_ENGINE_SPEED_RPM, 12000));
	assert_false(signal_usable(SIG_VIN, 0));
}

static void test_table(void **state)
{
	struct signal_table t;
	double v = 42;

	signal_table_init(&t);
	assert_false(signal_table_get(&t, SIG_COOLANT_TEMP_C, S(1), 0, &v));
	t.slot[SIG_COOLANT_TEMP_C] = (struct signal_slot){ .ts_ns = S(10),
							   .valid = true,
							   .value = 80 };
	assert_true(signal_table_get(&t, SIG_COOLANT_TEMP_C, S(12), S(5), &v));
	assert_true(v == 80);
	/* too old for a 1 s limit, fine without a limit */
	v = 42;
	assert_false(signal_table_get(&t, SIG_COOLANT_TEMP_C, S(12), S(1), &v));
	assert_true(v == 42);
	assert_true(signal_table_get(&t, SIG_COOLANT_TEMP_C, S(1000), 0, &v));
	/* "no value" from the ECU, or an implausible one: never used */
	t.slot[SIG_COOLANT_TEMP_C].valid = false;
	assert_false(signal_table_get(&t, SIG_COOLANT_TEMP_C, S(12), 0, &v));
	t.slot[SIG_COOLANT_TEMP_C] = (struct signal_slot){ .ts_ns = S(10),
							   .valid = true,
							   .value = 300 };
	assert_false(signal_table_get(&t, SIG_COOLANT_TEMP_C, S(12), 0, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names), cmocka_unit_test(test_plausible),
		cmocka_unit_test(test_rails), cmocka_unit_test(test_usable),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
