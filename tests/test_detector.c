/* test_detector.c: the detector registry and the set API the daemon drives */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalogue.h"
#include "det_harness.h"
#include "policy.h"
#include "macro.h"

static char *source_file(const char *rel)
{
	const char *root = getenv("DTCD_SOURCE_ROOT");
	char *path;

	assert_non_null(root);
	assert_true(asprintf(&path, "%s/%s", root, rel) > 0);
	return path;
}

static char *slurp(const char *rel)
{
	char *path = source_file(rel), *text = calloc(1, 1 << 20);
	FILE *f = fopen(path, "re");
	size_t n;

	assert_non_null(f);
	assert_non_null(text);
	n = fread(text, 1, (1 << 20) - 1, f);
	text[n] = '\0';
	fclose(f);
	free(path);
	return text;
}

/*
 * The names come from the registry; each detector has its codes in
 * dtc.ini, their workshop actions in both languages and its section in
 * docs/detectors.md (the files docs/detectors.md says a new one touches).
 */
static void test_registry(void **state)
{
	struct signal_table t;
	struct cycle c;
	struct detector_env env = { .signals = &t, .cycle = &c };
	struct detectors *d = NULL;
	struct dtc_policies pol;
	struct catalogue *cat[2] = { NULL, NULL };
	char *ini = source_file("etc/dtc.ini"), *etc = source_file("etc");
	char *doc = slurp("docs/detectors.md"), err[512], heading[64];
	size_t n = detectors_count();

	assert_true(n >= 5);
	assert_null(detectors_name(n));
	assert_int_equal(dtc_policies_load(&pol, ini, err, sizeof(err)), 0);
	assert_int_equal(catalogue_load(&cat[0], etc, "en", err, sizeof(err)),
			 0);
	assert_int_equal(catalogue_load(&cat[1], etc, "de", err, sizeof(err)),
			 0);
	for (size_t i = 0; i < n; i++) {
		const char *name = detectors_name(i);
		size_t codes = 0;

		assert_non_null(name);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(detectors_name(k), name);
		for (size_t k = 0; k < pol.n; k++)
			codes += !strcmp(pol.dtc[k].detector, name);
		if (!codes)
			fail_msg("etc/dtc.ini: no code has detector = %s",
				 name);
		snprintf(heading, sizeof(heading), "\n## %s: ", name);
		if (!strstr(doc, heading))
			fail_msg("docs/detectors.md: no '## %s:' section",
				 name);
	}
	for (size_t k = 0; k < pol.n; k++)
		for (int l = 0; l < 2; l++)
			if (!catalogue_find(cat[l], pol.dtc[k].code))
				fail_msg("etc/actions.%s.ini: no [%s]",
					 l ? "de" : "en", pol.dtc[k].code);

	assert_int_equal(detectors_new(&d, NULL), -EINVAL);
	env.cycle = NULL;
	assert_int_equal(detectors_new(&d, &env), -EINVAL);
	assert_null(d);
	detectors_free(NULL);
	dtc_policies_free(&pol);
	catalogue_free(cat[0]);
	catalogue_free(cat[1]);
	free(ini);
	free(etc);
	free(doc);
}

static void count_report(void *ud, int64_t ts_ns, const struct dtc_report *r)
{
	if (r->result == DTC_RESULT_FAILED && strcmp(r->code, "P1D04") == 0)
		(*(int *)ud)++;
}

/* The daemon passes an env that lives on its stack: the set keeps a copy. */
static void test_env_is_copied(void **state)
{
	struct signal_table *t = test_malloc(sizeof(*t));
	struct cycle *c = test_malloc(sizeof(*c));
	struct detector_env env = { .signals = t, .cycle = c };
	struct detectors *d;
	int failed = 0;

	signal_table_init(t);
	cycle_init(c, NULL);
	env.sink.report = count_report;
	env.sink.userdata = &failed;
	assert_int_equal(detectors_new(&d, &env), 0);
	memset(&env, 0, sizeof(env));
	for (int i = 0; i <= 5; i++) {
		int64_t ts = harness_ns(i);

		t->slot[SIG_TURBO_COOLANT_TEMP_C] = (struct signal_slot){
			.ts_ns = ts, .valid = true, .value = 140
		};
		detectors_on_signal(d, ts, SIG_TURBO_COOLANT_TEMP_C);
		detectors_on_tick(d, ts);
	}
	assert_int_equal(failed, 1);
	detectors_free(d);
	test_free(c);
	test_free(t);
}

/* what a set of detectors reported, in order */
struct recorded {
	char what[64][32];
	size_t n;
};

static void record_report(void *ud, int64_t ts_ns, const struct dtc_report *r)
{
	struct recorded *rec = ud;

	if (rec->n < ARRAY_SIZE(rec->what))
		snprintf(rec->what[rec->n++], sizeof(rec->what[0]),
			 "%s %d %.1f", r->code, (int)r->result, ts_ns / 1e9);
}

/*
 * A UDS answer carries four VANOS angles and the emergency bit: handed over
 * as one frame (the daemon's way, each reads_all detector called once), the
 * detectors report exactly what they report for the values one by one. The
 * exhaust cam deviates from 20 s to 40 s: P0014 fails, then passes.
 */
static void run_vanos(struct recorded *rec, bool as_frame)
{
	static const enum signal_id ids[] = {
		SIG_VANOS_INTAKE_TARGET_DEG,  SIG_VANOS_INTAKE_ACTUAL_DEG,
		SIG_VANOS_EXHAUST_TARGET_DEG, SIG_VANOS_EXHAUST_ACTUAL_DEG,
		SIG_ENGINE_EMERGENCY_MODE,
	};
	struct signal_table t;
	struct cycle c;
	struct detector_env env = { .signals = &t, .cycle = &c };
	struct detectors *d;

	signal_table_init(&t);
	cycle_init(&c, NULL);
	c.running = true;
	env.sink.report = record_report;
	env.sink.userdata = rec;
	assert_int_equal(detectors_new(&d, &env), 0);
	for (int i = 0; i <= 5 * 70; i++) {
		int64_t ts = harness_ns(i / 5.0);
		bool off = i >= 5 * 20 && i < 5 * 40;
		const double v[] = { 10, 10.5, -5, off ? 20 : -4.5, 0 };

		for (size_t k = 0; k < ARRAY_SIZE(ids); k++)
			t.slot[ids[k]] = (struct signal_slot){ .ts_ns = ts,
							       .valid = true,
							       .value = v[k] };
		if (as_frame)
			detectors_on_frame(d, ts, ids, ARRAY_SIZE(ids));
		else
			for (size_t k = 0; k < ARRAY_SIZE(ids); k++)
				detectors_on_signal(d, ts, ids[k]);
		if (i % 2 == 0)
			detectors_on_tick(d, ts);
	}
	detectors_free(d);
}

static void test_frame_is_values(void **state)
{
	struct recorded one = { 0 }, each = { 0 };
	bool failed = false, passed = false;

	run_vanos(&one, true);
	run_vanos(&each, false);
	assert_int_equal(one.n, each.n);
	for (size_t i = 0; i < one.n; i++) {
		assert_string_equal(one.what[i], each.what[i]);
		failed |= strncmp(one.what[i], "P0014 1 ", 8) == 0;
		passed |= failed && strncmp(one.what[i], "P0014 0 ", 8) == 0;
	}
	assert_true(failed);
	assert_true(passed); /* after the failure */
}

struct config_case {
	const char *detector, *key, *value;
	int expect;
};

static const struct config_case config_cases[] = {
	{ "misfire", "enabled", "false", 0 },
	{ "misfire", "enabled", "yes", 0 },
	{ "misfire", "enabled", "2", -EINVAL },
	{ "misfire", "max_age_s", "2.5", 0 },
	{ "misfire", "max_age_s", "0", -EINVAL },
	{ "misfire", "max_age_s", "", -EINVAL },
	{ "misfire", "cylinders", "8", 0 },
	{ "misfire", "cylinders", "13", -EINVAL },
	{ "misfire", "cylinders", "4.5", -EINVAL },
	{ "misfire", "rate_pct", "2.5 ", 0 },
	{ "misfire", "rate_pct", "2.5%", -EINVAL },
	{ "misfire", "rate_pct", "nan", -EINVAL },
	{ "misfire", "window_revs", "500", 0 },
	{ "misfire", "cat_window_revs", "100", 0 },
	{ "misfire", "cat_rate_pct", "15", 0 },
	{ "vanos", "deviation_deg", "8", 0 },
	{ "vanos", "hold_s", "3", 0 },
	{ "vanos", "follow_s", "0.7", 0 },
	{ "vanos", "step_deg", "3", 0 },
	{ "vanos", "emergency_window_s", "20", 0 },
	{ "vanos", "pass_s", "5", 0 },
	{ "vanos", "hold_s", "-1", -EINVAL },
	{ "fuel_heater", "heater_on_s", "90", 0 },
	{ "fuel_heater", "heater_current_a", "1.5", 0 },
	{ "fuel_heater", "after_run_s", "20", 0 },
	{ "fuel_heater", "drain_current_a", "-3", 0 },
	{ "fuel_heater", "drain_current_a", "3", -EINVAL },
	{ "fuel_heater", "drain_s", "300", 0 },
	{ "turbo_pump", "duty_min_pct", "40", 0 },
	{ "turbo_pump", "speed_ratio_pct", "20", 0 },
	{ "turbo_pump", "full_speed_rpm", "3500", 0 },
	{ "turbo_pump", "pump_s", "8", 0 },
	{ "turbo_pump", "high_c", "110", 0 },
	{ "turbo_pump", "high_s", "15", 0 },
	{ "turbo_pump", "critical_c", "130", 0 },
	{ "turbo_pump", "critical_s", "0", 0 },
	{ "egr", "coolant_min_c", "60", 0 },
	{ "egr", "valve_min_pct", "25", 0 },
	{ "egr", "hot_c", "260", 0 },
	{ "egr", "hot_s", "45", 0 },
	{ "egr", "rise_c", "120", 0 },
	{ "egr", "rise_window_s", "3", 0 },
	{ "egr", "spike_c", "450", 0 },
	{ "egr", "spike_samples", "3", 0 },
	{ "egr", "pass_s", "60", 0 },
	{ "egr", "nonsense", "1", -ENOENT },
	{ "dpf", "enabled", "true", -ENOENT },
	{ "", "enabled", "true", -ENOENT },
};

static void test_configure(void **state)
{
	struct harness *h = test_malloc(sizeof(*h));

	harness_setup(h, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(config_cases); i++) {
		const struct config_case *c = &config_cases[i];
		int r = detectors_configure(h->det, c->detector, c->key,
					    c->value, NULL);

		if (r != c->expect)
			print_message("[%s] %s = '%s': %d, expected %d\n",
				      c->detector, c->key, c->value, r,
				      c->expect);
		assert_int_equal(r, c->expect);
	}
	harness_teardown(h);
	test_free(h);
}

static void on_inactive(void *ud, const char *detector, const char *signal)
{
	char(*seen)[64] = ud;
	size_t i = 0;

	while (seen[i][0])
		i++;
	assert_true(i < 63);
	snprintf(seen[i], 64, "%s:%s", detector, signal);
}

static size_t count(char (*seen)[64], const char *what)
{
	size_t n = 0;

	for (size_t i = 0; seen[i][0]; i++)
		n += strcmp(seen[i], what) == 0;
	return n;
}

/* An empty profile: every required signal named once, optional ones never. */
static void test_empty_profile(void **state)
{
	static const char *const required[] = {
		"misfire:engine_speed_rpm",
		"misfire:misfire_count_cyl_1",
		"misfire:misfire_count_cyl_6",
		"vanos:vanos_intake_target_deg",
		"vanos:vanos_exhaust_actual_deg",
		"fuel_heater:fuel_heater_on",
		"fuel_heater:battery_current_a",
		"fuel_heater:ignition_on",
		"turbo_pump:turbo_pump_duty_pct",
		"egr:egr_temp_c",
		"egr:coolant_temp_c",
	};
	static const char *const never[] = {
		"misfire:misfire_count_cyl_7",
		"vanos:engine_emergency_mode",
		"fuel_heater:engine_speed_rpm",
		"egr:coolant_level_low",
	};
	struct harness *h = test_malloc(sizeof(*h));
	char(*seen)[64] = test_calloc(64, 64);
	bool bound[SIG__MAX] = { false };
	size_t n = 0;

	harness_setup(h, NULL);
	detectors_check_profile(h->det, bound, on_inactive, seen);
	while (seen[n][0])
		n++;
	/* 1 + 6 cylinders, 4 angles, 4, 3, 3 */
	assert_int_equal(n, 7 + 4 + 4 + 3 + 3);
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		assert_int_equal(count(seen, required[i]), 1);
	for (size_t i = 0; i < ARRAY_SIZE(never); i++)
		assert_int_equal(count(seen, never[i]), 0);
	for (size_t i = 0; i < detectors_count(); i++)
		assert_false(detectors_is_active(h->det, detectors_name(i)));

	/* a disabled detector is not mentioned */
	memset(seen, 0, 64 * 64);
	assert_int_equal(
		detectors_configure(h->det, "misfire", "enabled", "off", NULL),
		0);
	detectors_check_profile(h->det, bound, on_inactive, seen);
	assert_int_equal(count(seen, "misfire:engine_speed_rpm"), 0);
	assert_int_equal(count(seen, "vanos:vanos_intake_target_deg"), 1);

	/* a full profile: all active again, nothing said */
	memset(seen, 0, 64 * 64);
	for (int i = 0; i < SIG__MAX; i++)
		bound[i] = true;
	detectors_check_profile(h->det, bound, on_inactive, seen);
	assert_int_equal(seen[0][0], 0);
	assert_true(detectors_is_active(h->det, "egr"));
	assert_false(detectors_is_active(h->det, "misfire"));
	assert_false(detectors_is_active(h->det, "nonsense"));

	test_free(seen);
	harness_teardown(h);
	test_free(h);
}

/*
 * max_age_s shorter than the EGR poll period: between two 1 Hz samples the
 * EGR temperature is too old, so the 30 s of "hot" never accumulate.
 */
static const struct harness_case age_cases[] = {
	{
		.name = "max_age_s below the poll period: values unused",
		.config = { "egr.max_age_s=0.5" },
		.end_s = 150,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 2000 }),
			TRACK(SIG_COOLANT_TEMP_C, 0.1, { 0, 90 }),
			TRACK(SIG_EGR_VALVE_PCT, 1, { 0, 40 }),
			TRACK(SIG_EGR_TEMP_C, 1, { 0, 300 }),
		},
	},
	{
		.name = "same scenario with the default max_age_s: P2457",
		.end_s = 150,
		.tracks = {
			TRACK(SIG_ENGINE_SPEED_RPM, 0.01, { 0, 2000 }),
			TRACK(SIG_COOLANT_TEMP_C, 0.1, { 0, 90 }),
			TRACK(SIG_EGR_VALVE_PCT, 1, { 0, 40 }),
			TRACK(SIG_EGR_TEMP_C, 1, { 0, 300 }),
		},
		.expect = { { "P2457", DTC_RESULT_FAILED, DTC_SEVERITY_DEFAULT,
			      false, 1, 30 + 1.1 } },
	},
};

#define CLEAN_CYL(n) TRACK_COUNTER(SIG_MISFIRE_COUNT_CYL_##n, 1, 0, { 0, 0 })

/*
 * A healthy car through a whole day's trip: ignition, cold start with
 * cranking misfires, fast idle, driving, full load, VANOS steps followed in
 * 0.3 s, stop, 25 s of heater after the stop, 5 min of pump after-run,
 * parking. No detector may fail; each test completes and passes.
 */
static const struct harness_case drive_case = {
	.name = "healthy trip: no detector fails, all pass",
	.end_s = 900,
	.tracks = {
		TRACK_NOISY(SIG_ENGINE_SPEED_RPM, 0.01, 20, { 0, 0 }, { 5, 0 },
			    { 5, 250 }, { 6.5, 250 }, { 6.5, 1100 },
			    { 60, 800 }, { 70, 2500 }, { 200, 2500 },
			    { 205, 6000 }, { 260, 6000 }, { 265, 2000 },
			    { 300, 800 }, { 320, 800 }, { 320, 0 }),
		TRACK(SIG_IGNITION_ON, 0.1, { 0, 1 }, { 330, 1 }, { 330, 0 }),
		TRACK_NOISY(SIG_COOLANT_TEMP_C, 0.1, 0.5, { 0, 10 }, { 250, 90 },
			    { 320, 92 }, { 900, 70 }),
		TRACK_COUNTER(SIG_MISFIRE_COUNT_CYL_1, 1, 0, { 0, 0 },
			      { 300, 6 }),
		TRACK_COUNTER(SIG_MISFIRE_COUNT_CYL_2, 1, 0, { 0, 0 }, { 5, 0 },
			      { 6.5, 8 }),
		CLEAN_CYL(3), CLEAN_CYL(4), CLEAN_CYL(5), CLEAN_CYL(6),
		TRACK(SIG_VANOS_INTAKE_TARGET_DEG, 0.2, { 0, 0 }, { 60, 0 },
		      { 60, 30 }, { 200, 30 }, { 200, 10 }),
		TRACK_NOISY(SIG_VANOS_INTAKE_ACTUAL_DEG, 0.2, 1, { 0, 0 },
			    { 60, 0 }, { 60.3, 30 }, { 200, 30 },
			    { 200.3, 10 }),
		TRACK(SIG_VANOS_EXHAUST_TARGET_DEG, 0.2, { 0, 0 }, { 70, 0 },
		      { 70, -25 }, { 260, -25 }, { 260, -5 }),
		TRACK_NOISY(SIG_VANOS_EXHAUST_ACTUAL_DEG, 0.2, 1, { 0, 0 },
			    { 70, 0 }, { 70.3, -25 }, { 260, -25 },
			    { 260.3, -5 }),
		TRACK(SIG_ENGINE_EMERGENCY_MODE, 1, { 0, 0 }),
		TRACK(SIG_FUEL_HEATER_ON, 1, { 0, 1 }, { 345, 1 }, { 345, 0 }),
		TRACK_NOISY(SIG_FUEL_HEATER_CURRENT_A, 1, 0.2, { 0, 8 },
			    { 345, 8 }, { 345, 0.3 }),
		TRACK_NOISY(SIG_BATTERY_CURRENT_A, 1, 0.3, { 0, -12 },
			    { 6.5, -12 }, { 6.5, 25 }, { 320, 5 }, { 320, -11 },
			    { 345, -11 }, { 345, -2 }, { 620, -2 },
			    { 620, -0.1 }),
		TRACK(SIG_TURBO_PUMP_DUTY_PCT, 1, { 0, 0 }, { 6.5, 0 },
		      { 6.5, 40 }, { 320, 40 }, { 320, 80 }, { 620, 80 },
		      { 620, 0 }),
		TRACK_NOISY(SIG_TURBO_PUMP_SPEED_RPM, 1, 30, { 0, 0 },
			    { 6.5, 0 }, { 7.5, 1200 }, { 320, 1200 },
			    { 321, 2400 }, { 620, 2400 }, { 621, 0 }),
		TRACK_NOISY(SIG_TURBO_COOLANT_TEMP_C, 1, 0.5, { 0, 10 },
			    { 200, 85 }, { 260, 108 }, { 320, 100 },
			    { 620, 88 }, { 900, 60 }),
		TRACK(SIG_EGR_VALVE_PCT, 1, { 0, 0 }, { 60, 0 }, { 60, 30 },
		      { 320, 30 }, { 320, 0 }),
		TRACK_NOISY(SIG_EGR_TEMP_C, 1, 3, { 0, 10 }, { 60, 120 },
			    { 200, 200 }, { 260, 240 }, { 320, 180 },
			    { 900, 40 }),
		TRACK(SIG_COOLANT_LEVEL_LOW, 1, { 0, 0 }),
	},
	.expect = {
		PASSED("P0301", 0, 100),
		PASSED("P0300", 0, 100),
		PASSED("P0011", 0, 30),
		PASSED("P2600", 0, 30),
		PASSED("P1D04", 0, 30),
		/*
		 * coolant reaches 70 °C at 187.5 s (its noise of 0.5 °C at
		 * 0.32 °C/s: up to 1.5 s later); the hold ends on a 1 Hz
		 * sample of the EGR temperature
		 */
		PASSED("P2457", 187.5, 30 + 1.5 + 1.1),
		PASSED("P1D05", 0, 60),
		/* after the stop: the heater's after-run is over, parked */
		PASSED("P1D02", 320, 40),
		/* ignition off at 330 s + 120 s of quiescent current */
		PASSED("P1D03", 330, 400),
	},
};

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_env_is_copied),
		cmocka_unit_test(test_frame_is_values),
		cmocka_unit_test(test_configure),
		cmocka_unit_test(test_empty_profile),
		{ .name = age_cases[0].name,
		  .test_func = harness_run_case,
		  .initial_state = (void *)&age_cases[0] },
		{ .name = age_cases[1].name,
		  .test_func = harness_run_case,
		  .initial_state = (void *)&age_cases[1] },
		{ .name = drive_case.name,
		  .test_func = harness_run_case,
		  .initial_state = (void *)&drive_case },
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
