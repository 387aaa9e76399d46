/* test_manager.c: the DTC manager: status byte, cycles, aging, debounce */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "manager.h"

#define S(x) ((int64_t)((x)*1e9))

/* the tables leave trailing fields (a step's code, warm-ups) at zero */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* a policy file of our own, so the tests do not move with etc/dtc.ini */
static const char test_ini[] = "[defaults]\n"
			       "counter_fail = 3\n"
			       "counter_pass = 2\n"
			       "[P0301]\n"
			       "detector = misfire\n"
			       "severity = high\n"
			       "[P0302]\n"
			       "detector = misfire\n"
			       "severity = high\n"
			       "[P1D02]\n"
			       "detector = fuel_heater\n"
			       "severity = critical\n"
			       "confirm = at_once\n"
			       "[P1D04]\n"
			       "detector = turbo_pump\n"
			       "severity = high\n"
			       "confirm = at_once_when_critical\n"
			       "[P0011]\n"
			       "detector = vanos\n"
			       "debounce = time\n"
			       "time_fail_ms = 1000\n"
			       "time_pass_ms = 500\n"
			       "[P2600]\n"
			       "detector = turbo_pump\n"
			       "confirm_cycles = 3\n"
			       "[P2457]\n"
			       "detector = egr\n"
			       "warning_indicator = no\n"
			       "aging_cycles = 3\n";

enum op {
	END_OF_STEPS,
	FAIL, /* DTC_RESULT_FAILED */
	PASS, /* DTC_RESULT_PASSED */
	PREFAIL,
	PREPASS,
	FAIL_NOW,  /* failed with confirm_now */
	FAIL_CRIT, /* failed, severity critical */
	START,	   /* operation cycle starts */
	END,	   /* ... ends, no warm-up */
	END_WARM,  /* ... ends, was a warm-up cycle */
	TICK,
	CLEAR, /* code NULL = all */
};

struct step {
	enum op op;
	double t;
	const char *code;
};

struct scenario {
	const char *name;
	struct step steps[48];
	const char *events; /* "type:CODE:0xSS ..." in order */
	const char *code;   /* whose final state is checked */
	uint8_t status;
	unsigned occurrences;
	int warmups; /* > 0: add this many (START, END_WARM) pairs */
};

struct rec {
	char buf[8192];
	size_t n_events;
};

static void record(void *ud, const struct dtc_event *ev)
{
	struct rec *r = ud;
	size_t len = strlen(r->buf);

	snprintf(r->buf + len, sizeof(r->buf) - len, "%s%s:%s:0x%02X",
		 len ? " " : "", dtc_event_type_name(ev->type), ev->code,
		 ev->status);
	r->n_events++;
}

static char ini_path[256];

static int write_ini(void **state)
{
	char dir[] = "/tmp/test_manager.XXXXXX";
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(ini_path, sizeof(ini_path), "%s/dtc.ini", dir);
	f = fopen(ini_path, "w");
	assert_non_null(f);
	fputs(test_ini, f);
	fclose(f);
	return 0;
}

static int remove_ini(void **state)
{
	char dir[256];

	unlink(ini_path);
	snprintf(dir, sizeof(dir), "%s", ini_path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	return 0;
}

static struct dtc_manager *new_manager(struct rec *rec)
{
	struct dtc_manager *m = NULL;
	char err[256];
	int r = dtc_manager_new(&m, ini_path, NULL, record, rec, err,
				sizeof(err));

	if (r < 0)
		fail_msg("dtc_manager_new: %s", err);
	return m;
}

static void report(struct dtc_manager *m, double t, const char *code,
		   enum dtc_result res, bool now, enum dtc_severity sev)
{
	struct dtc_report r = { .code = code,
				.detector = "test",
				.result = res,
				.confirm_now = now,
				.severity = sev };

	dtc_manager_report(m, S(t), &r);
}

static void run_step(struct dtc_manager *m, const struct step *s)
{
	const char *c = s->code ? s->code : "P0301";

	switch (s->op) {
	case FAIL:
		report(m, s->t, c, DTC_RESULT_FAILED, false, 0);
		break;
	case PASS:
		report(m, s->t, c, DTC_RESULT_PASSED, false, 0);
		break;
	case PREFAIL:
		report(m, s->t, c, DTC_RESULT_PREFAILED, false, 0);
		break;
	case PREPASS:
		report(m, s->t, c, DTC_RESULT_PREPASSED, false, 0);
		break;
	case FAIL_NOW:
		report(m, s->t, c, DTC_RESULT_FAILED, true, 0);
		break;
	case FAIL_CRIT:
		report(m, s->t, c, DTC_RESULT_FAILED, false,
		       DTC_SEVERITY_CRITICAL);
		break;
	case START:
		dtc_manager_cycle_started(m, S(s->t));
		break;
	case END:
	case END_WARM:
		dtc_manager_cycle_ended(m, S(s->t), s->op == END_WARM);
		break;
	case TICK:
		dtc_manager_on_tick(m, S(s->t));
		break;
	case CLEAR:
		assert_int_equal(dtc_manager_clear(m, S(s->t), s->code), 0);
		break;
	case END_OF_STEPS:
		break;
	}
}

/*
 * Expected statuses are worked out by hand from ISO 14229-1 annex D:
 * 0x50 after clear; a failure sets 0x01 0x02 0x04 0x20 and clears 0x10 0x40;
 * a pass clears 0x01 0x10 0x40; a cycle start sets 0x40 and clears 0x02.
 * (Not clang-formatted: one scenario per block reads better.)
 */
/* clang-format off */
static const struct scenario scenarios[] = {
	{ "never tested: 0x50, no event",
	  { { START, 1 }, { END, 9 } }, "", "P0301", 0x50, 0 },
	{ "first failure: pending at once, 0x27",
	  { { FAIL, 1 } }, "pending:P0301:0x27", "P0301", 0x27, 1 },
	{ "a pass before any failure clears the not-completed bits",
	  { { PASS, 1 } }, "", "P0301", 0x00, 0 },
	{ "cycle start clears testFailedThisOperationCycle, sets bit 6",
	  { { FAIL, 1 }, { START, 2 } }, "pending:P0301:0x27", "P0301", 0x65,
	  1 },
	{ "a pass in the next cycle clears testFailed",
	  { { FAIL, 1 }, { START, 2 }, { PASS, 3 } }, "pending:P0301:0x27",
	  "P0301", 0x24, 1 },
	{ "pending cleared by a whole passing cycle",
	  { { START, 0 }, { FAIL, 1 }, { END, 2 }, { START, 3 }, { PASS, 4 },
	    { END, 5 } },
	  "pending:P0301:0x27", "P0301", 0x20, 0 },
	{ "pending stays when the test did not complete in the cycle",
	  { { START, 0 }, { FAIL, 1 }, { END, 2 }, { START, 3 }, { END, 5 } },
	  "pending:P0301:0x27", "P0301", 0x65, 1 },
	{ "a pass then a failure in the next cycle confirms",
	  { { START, 0 }, { FAIL, 1 }, { END, 2 }, { START, 3 }, { PASS, 4 },
	    { FAIL, 5 } },
	  "pending:P0301:0x27 confirmed:P0301:0xAF", "P0301", 0xAF, 2 },
	{ "confirmed in the second failing cycle (default 2)",
	  { { START, 0 }, { FAIL, 1 }, { END, 2 }, { START, 3 }, { FAIL, 4 } },
	  "pending:P0301:0x27 confirmed:P0301:0xAF", "P0301", 0xAF, 1 },
	{ "two failures in one cycle are one failing cycle",
	  { { START, 0 }, { FAIL, 1 }, { PASS, 2 }, { FAIL, 3 }, { END, 4 } },
	  "pending:P0301:0x27", "P0301", 0x27, 2 },
	{ "a passing cycle between failures restarts the count",
	  { { START, 0 }, { FAIL, 1 }, { END, 2 }, { START, 3 }, { PASS, 4 },
	    { END, 5 }, { START, 6 }, { FAIL, 7 }, { END, 8 } },
	  "pending:P0301:0x27 pending:P0301:0x27", "P0301", 0x27, 1 },
	{ "confirm_cycles = 3",
	  { { START, 0 }, { FAIL, 1, "P2600" }, { END, 2 }, { START, 3 },
	    { FAIL, 4, "P2600" }, { END, 5 }, { START, 6 },
	    { FAIL, 7, "P2600" } },
	  "pending:P2600:0x27 confirmed:P2600:0xAF", "P2600", 0xAF, 1 },
	{ "policy at_once: pending and confirmed with the first failure",
	  { { FAIL, 1, "P1D02" } },
	  "pending:P1D02:0x27 confirmed:P1D02:0xAF", "P1D02", 0xAF, 1 },
	{ "confirm_now in the report confirms at once",
	  { { FAIL_NOW, 1 } }, "pending:P0301:0x27 confirmed:P0301:0xAF",
	  "P0301", 0xAF, 1 },
	{ "at_once_when_critical: high waits for cycles",
	  { { FAIL, 1, "P1D04" } }, "pending:P1D04:0x27", "P1D04", 0x27, 1 },
	{ "at_once_when_critical: critical confirms at once",
	  { { FAIL, 1, "P1D04" }, { FAIL_CRIT, 2, "P1D04" } },
	  "pending:P1D04:0x27 confirmed:P1D04:0xAF", "P1D04", 0xAF, 1 },
	{ "no warning indicator when the policy says no",
	  { { FAIL_NOW, 1, "P2457" } },
	  "pending:P2457:0x27 confirmed:P2457:0x2F", "P2457", 0x2F, 1 },
	{ "occurrences count failure episodes (testFailed 0 -> 1)",
	  { { START, 0 }, { FAIL, 1 }, { FAIL, 1.5 }, { PASS, 2 }, { FAIL, 3 },
	    { PASS, 4 }, { FAIL, 5 } },
	  "pending:P0301:0x27", "P0301", 0x27, 3 },
	{ "warning indicator off after 3 passing cycles, confirmed stays",
	  { { FAIL_NOW, 1 }, { START, 2 }, { PASS, 3 }, { END, 4 },
	    { START, 5 }, { PASS, 6 }, { END, 7 }, { START, 8 }, { PASS, 9 },
	    { END, 10 } },
	  "pending:P0301:0x27 confirmed:P0301:0xAF", "P0301", 0x28, 1 },
	{ "a new failure of a confirmed DTC lights the indicator again",
	  { { FAIL_NOW, 1 }, { START, 2 }, { PASS, 3 }, { END, 4 },
	    { START, 5 }, { PASS, 6 }, { END, 7 }, { START, 8 }, { PASS, 9 },
	    { END, 10 }, { START, 11 }, { FAIL, 12 } },
	  "pending:P0301:0x27 confirmed:P0301:0xAF pending:P0301:0xAF",
	  "P0301", 0xAF, 2 },
	{ "clear: 0x50, counters erased, a cleared event",
	  { { FAIL_NOW, 1 }, { CLEAR, 2, "P0301" } },
	  "pending:P0301:0x27 confirmed:P0301:0xAF cleared:P0301:0x50",
	  "P0301", 0x50, 0 },
	/* P2600 only passed: its status byte is reset without an event */
	{ "clear all: an event per DTC with a fault, passed ones reset quietly",
	  { { FAIL, 1, "P0301" }, { PASS, 1.5, "P2600" }, { CLEAR, 2 } },
	  "pending:P0301:0x27 cleared:P0301:0x50", "P2600", 0x50, 0 },
	{ "a failure after clear is pending again",
	  { { FAIL_NOW, 1 }, { CLEAR, 2, "P0301" }, { FAIL, 3 } },
	  "pending:P0301:0x27 confirmed:P0301:0xAF cleared:P0301:0x50 "
	  "pending:P0301:0x27",
	  "P0301", 0x27, 1 },
	{ "counter debounce: 3 prefailed steps make a failure",
	  { { PREFAIL, 1 }, { PREFAIL, 2 }, { PREFAIL, 3 } },
	  "pending:P0301:0x27", "P0301", 0x27, 1 },
	{ "counter debounce: 2 prefailed steps are nothing yet",
	  { { PREFAIL, 1 }, { PREFAIL, 2 } }, "", "P0301", 0x50, 0 },
	{ "counter debounce: a prepassed step restarts from 0",
	  { { PREFAIL, 1 }, { PREFAIL, 2 }, { PREPASS, 3 }, { PREFAIL, 4 },
	    { PREFAIL, 5 } },
	  "", "P0301", 0x50, 0 },
	{ "counter debounce: 2 prepassed steps make a pass",
	  { { FAIL, 1 }, { PREPASS, 2 }, { PREPASS, 3 } },
	  "pending:P0301:0x27", "P0301", 0x26, 1 },
	{ "counter debounce: a cycle start resets the counter",
	  { { PREFAIL, 1 }, { PREFAIL, 2 }, { START, 3 }, { PREFAIL, 4 } },
	  "", "P0301", 0x50, 0 },
	{ "time debounce: prefailed for less than 1 s is nothing",
	  { { PREFAIL, 1, "P0011" }, { PREFAIL, 1.5, "P0011" },
	    { TICK, 1.999, "P0011" } },
	  "", "P0011", 0x50, 0 },
	{ "time debounce: prefailed for 1 s fails at the tick",
	  { { PREFAIL, 1, "P0011" }, { TICK, 1.999 }, { TICK, 2.0 } },
	  "pending:P0011:0x27", "P0011", 0x27, 1 },
	{ "time debounce: a prepassed report stops the fail timer",
	  { { PREFAIL, 1, "P0011" }, { PREPASS, 1.5, "P0011" },
	    { TICK, 2.5 } },
	  "", "P0011", 0x00, 0 },
	{ "time debounce: prepassed for 0.5 s passes",
	  { { FAIL, 1, "P0011" }, { PREPASS, 2, "P0011" }, { TICK, 2.4 },
	    { PREPASS, 2.5, "P0011" } },
	  "pending:P0011:0x27", "P0011", 0x26, 1 },
	{ "aging: healed after N warm-up cycles without failure",
	  { { FAIL_NOW, 1, "P2457" }, { START, 2 }, { PASS, 3, "P2457" },
	    { END_WARM, 4 }, { START, 5 }, { END_WARM, 6 }, { START, 7 },
	    { END_WARM, 8 } },
	  "pending:P2457:0x27 confirmed:P2457:0x2F healed:P2457:0x40",
	  "P2457", 0x40, 0 },
	{ "aging: cycles that are no warm-up do not count",
	  { { FAIL_NOW, 1, "P2457" }, { START, 2 }, { PASS, 3, "P2457" },
	    { END_WARM, 4 }, { START, 5 }, { END, 6 }, { START, 7 },
	    { END_WARM, 8 } },
	  "pending:P2457:0x27 confirmed:P2457:0x2F", "P2457", 0x68, 1 },
	{ "aging: a failing warm-up cycle starts the count again",
	  { { FAIL_NOW, 1, "P2457" }, { START, 2 }, { PASS, 3, "P2457" },
	    { END_WARM, 4 }, { START, 5 }, { FAIL, 5.5, "P2457" },
	    { PASS, 5.6, "P2457" }, { END_WARM, 6 }, { START, 7 },
	    { END_WARM, 8 }, { START, 9 }, { END_WARM, 10 } },
	  "pending:P2457:0x27 confirmed:P2457:0x2F pending:P2457:0x2F",
	  "P2457", 0x6C, 2 },
	{ "aging: a fault still present (testFailed) does not age",
	  { { FAIL_NOW, 1, "P2457" }, { START, 2 }, { END_WARM, 4 },
	    { START, 5 }, { END_WARM, 6 }, { START, 7 }, { END_WARM, 8 },
	    { START, 9 }, { END_WARM, 10 } },
	  "pending:P2457:0x27 confirmed:P2457:0x2F", "P2457", 0x6D, 1 },
	{ "aging 40 warm-up cycles by default (39 do not heal)",
	  { { FAIL_NOW, 1 }, { START, 2 }, { PASS, 3 }, { END_WARM, 4 } },
	  "pending:P0301:0x27 confirmed:P0301:0xAF", "P0301", 0xE8, 1, 38 },
	{ "aging 40 warm-up cycles by default (the 40th heals)",
	  { { FAIL_NOW, 1 }, { START, 2 }, { PASS, 3 }, { END_WARM, 4 } },
	  "pending:P0301:0x27 confirmed:P0301:0xAF healed:P0301:0x40",
	  "P0301", 0x40, 0, 39 },
	{ "an unknown code is managed with the defaults",
	  { { START, 0 }, { FAIL, 1, "P0420" }, { END, 2 }, { START, 3 },
	    { FAIL, 4, "P0420" } },
	  "pending:P0420:0x27 confirmed:P0420:0xAF", "P0420", 0xAF, 1 },
};
/* clang-format on */

static void test_scenario(void **state)
{
	const struct scenario *sc = *state;
	struct rec rec = { .buf = "" };
	struct dtc_manager *m = new_manager(&rec);
	struct dtc_info info;
	double t = 100;

	for (const struct step *s = sc->steps; s->op != END_OF_STEPS; s++)
		run_step(m, s);
	for (int i = 0; i < sc->warmups; i++, t += 2) {
		dtc_manager_cycle_started(m, S(t));
		dtc_manager_cycle_ended(m, S(t + 1), true);
	}
	assert_string_equal(rec.buf, sc->events);
	assert_int_equal(dtc_manager_find(m, sc->code, &info), 0);
	if (info.status != sc->status)
		fail_msg("%s: status 0x%02X, expected 0x%02X", sc->code,
			 info.status, sc->status);
	assert_int_equal(info.occurrences, sc->occurrences);
	dtc_manager_free(m);
}

/* freeze frame: the signals at the first failure, refreshed at confirm */
static void test_freeze_frame(void **state)
{
	struct rec rec = { .buf = "" };
	struct dtc_manager *m = new_manager(&rec);
	struct signal_slot vin = { .ts_ns = 1,
				   .valid = true,
				   .text = "WBAPH5C55BA123456" };
	struct signal_slot v = { .ts_ns = 1, .valid = true };
	struct signal_table t;
	struct dtc_info info;

	signal_table_init(&t);
	dtc_manager_set_signals(m, &t);
	t.slot[SIG_VIN] = vin;
	v.value = 812.5;
	t.slot[SIG_ENGINE_SPEED_RPM] = v;
	v.value = 123456;
	t.slot[SIG_ODOMETER_KM] = v;
	dtc_manager_cycle_started(m, S(1));
	report(m, 2, "P0301", DTC_RESULT_FAILED, false, 0);
	v.value = 3000;
	v.ts_ns = S(3);
	t.slot[SIG_ENGINE_SPEED_RPM] = v;
	report(m, 4, "P0301", DTC_RESULT_PASSED, false, 0);
	report(m, 5, "P0301", DTC_RESULT_FAILED, false, 0);
	assert_int_equal(dtc_manager_find(m, "P0301", &info), 0);
	assert_non_null(info.freeze_frame);
	/* a later failure in the same episode keeps the first frame */
	assert_true(info.freeze_frame->present[SIG_ENGINE_SPEED_RPM]);
	assert_true(info.freeze_frame->value[SIG_ENGINE_SPEED_RPM] == 812.5);
	assert_true(info.freeze_frame->value[SIG_ODOMETER_KM] == 123456);
	assert_string_equal(info.freeze_frame->vin, "WBAPH5C55BA123456");
	assert_false(info.freeze_frame->present[SIG_COOLANT_TEMP_C]);
	assert_true(info.first_failure_ns == S(2));
	assert_true(info.last_failure_ns == S(5));
	dtc_manager_cycle_ended(m, S(6), false);
	dtc_manager_cycle_started(m, S(7));
	report(m, 8, "P0301", DTC_RESULT_FAILED, false, 0);
	assert_string_equal(rec.buf, "pending:P0301:0x27 "
				     "confirmed:P0301:0xAF");
	assert_int_equal(dtc_manager_find(m, "P0301", &info), 0);
	assert_true(info.freeze_frame->value[SIG_ENGINE_SPEED_RPM] == 3000);
	assert_true(info.first_failure_ns == S(2));
	assert_true(info.last_failure_ns == S(8));
	/* cleared: no freeze frame, no times */
	assert_int_equal(dtc_manager_clear(m, S(9), "P0301"), 0);
	assert_int_equal(dtc_manager_find(m, "P0301", &info), 0);
	assert_null(info.freeze_frame);
	assert_false(info.stored);
	assert_true(info.first_failure_ns == 0);
	dtc_manager_free(m);
}

/* ECU events: once when first seen and once per change, never per poll */
static void test_ecu_events(void **state)
{
	static const uint16_t two[] = { 0x0301, 0x0420, 0x0000 };
	static const uint16_t one[] = { 0x0301 };
	static const uint16_t chassis[] = { 0x4123 };
	struct rec rec = { .buf = "" };
	struct dtc_manager *m = new_manager(&rec);

	dtc_manager_ecu_status(m, S(1), 0x7E8, 1, 2);
	dtc_manager_ecu_status(m, S(2), 0x7E8, 1, 2);
	dtc_manager_ecu_status(m, S(3), 0x7E9, 0, 0);
	dtc_manager_ecu_status(m, S(4), 0x7E8, 0, 0);
	dtc_manager_ecu_status(m, S(4.5), 0x7E8, -1, -1);
	assert_string_equal(rec.buf, "ecu:MIL:0x80 ecu:MIL:0x00 "
				     "ecu:MIL:0x00");
	rec.buf[0] = '\0';
	dtc_manager_ecu_codes(m, S(5), 0x7E8, 0x03, two, 3);
	dtc_manager_ecu_codes(m, S(6), 0x7E8, 0x03, two, 3);
	dtc_manager_ecu_codes(m, S(7), 0x7E8, 0x07, one, 1);
	dtc_manager_ecu_codes(m, S(8), 0x7E8, 0x03, one, 1);
	dtc_manager_ecu_codes(m, S(9), 0x7E8, 0x0A, chassis, 1);
	dtc_manager_ecu_codes(m, S(10), 0x7E8, 0x01, one, 1);
	assert_string_equal(rec.buf,
			    "ecu:P0301:0x08 ecu:P0420:0x08 ecu:P0301:0x04 "
			    "ecu:P0420:0x00 ecu:C0123:0x08");
	/* ECU codes are the ECU's: our own DTC table is untouched */
	{
		struct dtc_info info;

		assert_int_equal(dtc_manager_find(m, "P0301", &info), 0);
		assert_int_equal(info.status, 0x50);
		assert_int_equal(dtc_manager_find(m, "P0420", &info), -ENOENT);
	}
	dtc_manager_free(m);
}

static void test_clear_unknown(void **state)
{
	struct rec rec = { .buf = "" };
	struct dtc_manager *m = new_manager(&rec);

	assert_int_equal(dtc_manager_clear(m, S(1), "P0999"), -ENOENT);
	assert_int_equal(dtc_manager_clear(m, S(1), NULL), 0);
	assert_string_equal(rec.buf, "");
	dtc_manager_free(m);
}

static void test_list_and_cycles(void **state)
{
	struct rec rec = { .buf = "" };
	struct dtc_manager *m = new_manager(&rec);
	struct dtc_info info;
	const char *prev = "";

	/* every section of the file, in code order */
	assert_int_equal(dtc_manager_n_dtcs(m), 7);
	for (size_t i = 0; i < dtc_manager_n_dtcs(m); i++) {
		assert_int_equal(dtc_manager_dtc(m, i, &info), 0);
		assert_true(strcmp(prev, info.code) < 0);
		prev = info.code;
	}
	assert_int_equal(dtc_manager_dtc(m, 7, &info), -ENOENT);
	assert_int_equal(dtc_manager_find(m, "P1D02", &info), 0);
	assert_string_equal(info.detector, "fuel_heater");
	assert_int_equal(info.severity, DTC_SEVERITY_CRITICAL);
	dtc_manager_cycle_started(m, S(1));
	dtc_manager_cycle_ended(m, S(2), true);
	dtc_manager_cycle_started(m, S(3));
	dtc_manager_cycle_ended(m, S(4), false);
	assert_int_equal(dtc_manager_operation_cycles(m), 2);
	assert_int_equal(dtc_manager_warmup_cycles(m), 1);
	dtc_manager_free(m);
	dtc_manager_free(NULL);
}

/* the shipped etc/dtc.ini: every spec code with the spec's policy */
static void test_shipped_policy(void **state)
{
	static const struct {
		const char *code, *detector;
		enum dtc_severity sev;
		bool at_once;
	} spec[] = {
		{ "P0300", "misfire", DTC_SEVERITY_HIGH, false },
		{ "P0301", "misfire", DTC_SEVERITY_HIGH, false },
		{ "P0306", "misfire", DTC_SEVERITY_HIGH, false },
		{ "P0011", "vanos", DTC_SEVERITY_MEDIUM, false },
		{ "P0014", "vanos", DTC_SEVERITY_MEDIUM, false },
		{ "P1D01", "vanos", DTC_SEVERITY_CRITICAL, true },
		{ "P1D02", "fuel_heater", DTC_SEVERITY_CRITICAL, true },
		{ "P1D03", "fuel_heater", DTC_SEVERITY_HIGH, true },
		{ "P2600", "turbo_pump", DTC_SEVERITY_HIGH, false },
		{ "P1D04", "turbo_pump", DTC_SEVERITY_HIGH, false },
		{ "P2457", "egr", DTC_SEVERITY_HIGH, false },
		{ "P1D05", "egr", DTC_SEVERITY_CRITICAL, true },
	};
	const char *root = getenv("DTCD_SOURCE_ROOT");
	char path[512], err[256];

	assert_non_null(root);
	snprintf(path, sizeof(path), "%s/etc/dtc.ini", root);
	for (size_t i = 0; i < sizeof(spec) / sizeof(*spec); i++) {
		struct rec rec = { .buf = "" };
		struct dtc_manager *m = NULL;
		struct dtc_info info;

		assert_int_equal(dtc_manager_new(&m, path, NULL, record, &rec,
						 err, sizeof(err)),
				 0);
		assert_int_equal(dtc_manager_find(m, spec[i].code, &info), 0);
		assert_string_equal(info.detector, spec[i].detector);
		assert_int_equal(info.severity, spec[i].sev);
		dtc_manager_cycle_started(m, S(1));
		report(m, 2, spec[i].code, DTC_RESULT_FAILED, false, 0);
		assert_int_equal(dtc_manager_find(m, spec[i].code, &info), 0);
		assert_int_equal(!!(info.status & DTC_ST_CONFIRMED),
				 spec[i].at_once);
		/* P1D04 at 125 °C and above: critical and at once */
		if (strcmp(spec[i].code, "P1D04") == 0) {
			report(m, 3, "P1D04", DTC_RESULT_FAILED, false,
			       DTC_SEVERITY_CRITICAL);
			assert_int_equal(dtc_manager_find(m, "P1D04", &info),
					 0);
			assert_true(info.status & DTC_ST_CONFIRMED);
			assert_int_equal(info.severity, DTC_SEVERITY_CRITICAL);
		}
		dtc_manager_free(m);
	}
}

struct bad_ini {
	const char *text;
	const char *error; /* expected in the message, after the path */
};

static const struct bad_ini bad_inis[] = {
	{ "[P0301]\ndetector = misfire\nconfirm = sometimes\n",
	  ":3: confirm: expected cycles, at_once or at_once_when_critical, "
	  "got 'sometimes'" },
	{ "[P0301]\ndetector = misfire\n\nbogus = 1\n",
	  ":4: unknown key 'bogus'" },
	{ "[P0301]\nseverity = high\n", ":1: [P0301]: missing key 'detector'" },
	{ "[P0301]\ndetector = misfire\n[defaults]\nconfirm_cycles = 2\n",
	  ":3: [defaults] must come before the DTC sections" },
	{ "[defaults]\nconfirm_cycles = 0\n",
	  ":2: confirm_cycles: expected a whole number 1..255, got '0'" },
	{ "[P0301]\ndetector = misfire\nthis line has no equals sign\n",
	  ":3: expected [section], key = value or a comment, got 'this line "
	  "has no equals sign'" },
	{ "[NOT_A_CODE]\ndetector = x\n", ":1: section [NOT_A_CODE]" },
	{ "[P0301]\ndetector = a\n[P0301]\ndetector = b\n",
	  ":3: section [P0301] appears twice" },
	{ "[P0301]\ndetector = a\ntime_fail_ms = -5\n",
	  ":3: time_fail_ms: expected a duration 0..86400000 ms" },
};

static void test_bad_ini(void **state)
{
	for (size_t i = 0; i < sizeof(bad_inis) / sizeof(*bad_inis); i++) {
		char path[] = "/tmp/test_manager_bad.XXXXXX";
		int fd = mkstemp(path);
		struct dtc_manager *m = NULL;
		char err[512], want[512];

		assert_true(fd >= 0);
		assert_int_equal(
			write(fd, bad_inis[i].text, strlen(bad_inis[i].text)),
			(ssize_t)strlen(bad_inis[i].text));
		close(fd);
		assert_int_equal(dtc_manager_new(&m, path, NULL, NULL, NULL,
						 err, sizeof(err)),
				 -EINVAL);
		assert_null(m);
		snprintf(want, sizeof(want), "%s%s", path, bad_inis[i].error);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: got '%s', want '%s...'", i, err,
				 want);
		unlink(path);
	}
}

static void test_missing_ini(void **state)
{
	struct dtc_manager *m = NULL;
	char err[256];

	assert_int_equal(dtc_manager_new(&m, "/nonexistent/dtc.ini", NULL, NULL,
					 NULL, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/dtc.ini: "));
}

int main(void)
{
	struct CMUnitTest tests[sizeof(scenarios) / sizeof(*scenarios) + 8];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(scenarios) / sizeof(*scenarios); i++)
		tests[n++] = (struct CMUnitTest){
			.name = scenarios[i].name,
			.test_func = test_scenario,
			.initial_state = (void *)&scenarios[i],
		};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_freeze_frame);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ecu_events);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_clear_unknown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_list_and_cycles);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_shipped_policy);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bad_ini);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_missing_ini);
	return _cmocka_run_group_tests("manager", tests, n, write_ini,
				       remove_ini);
}
