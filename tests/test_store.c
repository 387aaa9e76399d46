/* test_store.c: the SQLite DTC store, and the manager restored from it */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "manager.h"
#include "store.h"

#define S(x) ((int64_t)((x)*1e9))

struct ctx {
	char dir[64];
	char db[128];
	char ini[512];
	struct dtc_store *store;
	struct dtc_manager *m;
	struct signal_table sig; /* the freeze frames' values */
	char events[8192];
	int checked; /* events seen committed by a second connection */
};

static void rm_state(const char *dir)
{
	static const char *const files[] = { "dtcd.db", "dtcd.db-wal",
					     "dtcd.db-shm", "junk" };
	char p[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* a second connection, as a crash would leave the file: what is there? */
static int64_t query_int(const char *db, const char *sql, const char *arg)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void on_event(void *ud, const struct dtc_event *ev)
{
	struct ctx *c = ud;
	size_t len = strlen(c->events);
	char sql[256];

	snprintf(c->events + len, sizeof(c->events) - len, "%s%s:%s:0x%02X",
		 len ? " " : "", dtc_event_type_name(ev->type), ev->code,
		 ev->status);
	/* the event and the DTC row are on disk before we hear of them */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM event WHERE code = ?1 AND ts_ns = %lld"
		 " AND type = '%s' AND status = %u",
		 (long long)ev->ts_ns, dtc_event_type_name(ev->type),
		 ev->status);
	assert_true(query_int(c->db, sql, ev->code) >= 1);
	/* the row holds the batch's end state: pending 0x27 may be 0xAF */
	if (ev->type != DTC_EVENT_ECU) {
		int64_t row = query_int(c->db,
					"SELECT status FROM dtc WHERE "
					"code = ?1",
					ev->code);

		assert_int_equal(row & ev->status, ev->status);
	}
	c->checked++;
}

static void open_all(struct ctx *c)
{
	char err[512];

	if (dtc_store_open(&c->store, c->dir, err, sizeof(err)) < 0)
		fail_msg("dtc_store_open: %s", err);
	if (dtc_manager_new(&c->m, c->ini, c->store, on_event, c, err,
			    sizeof(err)) < 0)
		fail_msg("dtc_manager_new: %s", err);
}

static void close_all(struct ctx *c)
{
	dtc_manager_free(c->m);
	dtc_store_close(c->store);
	c->m = NULL;
	c->store = NULL;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	const char *root = getenv("DTCD_SOURCE_ROOT");

	assert_non_null(c);
	assert_non_null(root);
	snprintf(c->dir, sizeof(c->dir), "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->db, sizeof(c->db), "%s/dtcd.db", c->dir);
	snprintf(c->ini, sizeof(c->ini), "%s/etc/dtc.ini", root);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	close_all(c);
	rm_state(c->dir);
	free(c);
	return 0;
}

static void report(struct dtc_manager *m, double t, const char *code,
		   enum dtc_result res, bool now)
{
	struct dtc_report r = { .code = code,
				.detector = "test",
				.result = res,
				.confirm_now = now };

	dtc_manager_report(m, S(t), &r);
}

static void set_signals(struct ctx *c)
{
	struct signal_slot vin = { .ts_ns = 1,
				   .valid = true,
				   .text = "WBAPH5C55BA123456" };
	struct signal_slot v = { .ts_ns = 1, .valid = true, .value = 87.5 };

	c->sig.slot[SIG_VIN] = vin;
	c->sig.slot[SIG_COOLANT_TEMP_C] = v;
	v.value = 201234;
	c->sig.slot[SIG_ODOMETER_KM] = v;
	dtc_manager_set_signals(c->m, &c->sig);
}

/* a pending DTC survives a restart and confirms in the next cycle */
static void test_restore_pending(void **state)
{
	struct ctx *c = *state;
	struct dtc_info info;

	open_all(c);
	set_signals(c);
	dtc_manager_cycle_started(c->m, S(1));
	report(c->m, 2, "P0303", DTC_RESULT_FAILED, false);
	dtc_manager_cycle_ended(c->m, S(3), true);
	close_all(c);

	open_all(c);
	assert_int_equal(dtc_manager_find(c->m, "P0303", &info), 0);
	assert_int_equal(info.status, 0x27);
	assert_true(info.stored);
	assert_int_equal(info.occurrences, 1);
	assert_int_equal(info.failed_cycles, 1);
	assert_true(info.first_failure_ns == S(2));
	assert_non_null(info.freeze_frame);
	assert_string_equal(info.freeze_frame->vin, "WBAPH5C55BA123456");
	assert_true(info.freeze_frame->present[SIG_COOLANT_TEMP_C]);
	assert_true(info.freeze_frame->value[SIG_COOLANT_TEMP_C] == 87.5);
	assert_true(info.freeze_frame->value[SIG_ODOMETER_KM] == 201234);
	assert_false(info.freeze_frame->present[SIG_OIL_TEMP_C]);
	assert_int_equal(dtc_manager_operation_cycles(c->m), 1);
	assert_int_equal(dtc_manager_warmup_cycles(c->m), 1);
	dtc_manager_cycle_started(c->m, S(10));
	report(c->m, 11, "P0303", DTC_RESULT_FAILED, false);
	assert_string_equal(c->events, "pending:P0303:0x27 "
				       "confirmed:P0303:0xAF");
	assert_int_equal(c->checked, 2);
	close_all(c);
	assert_int_equal(query_int(c->db, "SELECT count(*) FROM event", NULL),
			 2);
	assert_int_equal(query_int(c->db,
				   "SELECT status FROM dtc WHERE "
				   "code = ?1",
				   "P0303"),
			 0xAF);
}

/* runs of the daemon in a row act as days of driving: aging across them */
static void test_days_of_driving_heal(void **state)
{
	struct ctx *c = *state;
	struct dtc_info info;
	double t = 0;

	open_all(c);
	report(c->m, t, "P1D02", DTC_RESULT_FAILED, false);
	close_all(c);
	for (int day = 0; day < 40; day++, t += 100) {
		open_all(c);
		dtc_manager_cycle_started(c->m, S(t + 1));
		if (day == 0)
			report(c->m, t + 2, "P1D02", DTC_RESULT_PASSED, false);
		dtc_manager_cycle_ended(c->m, S(t + 50), true);
		assert_int_equal(dtc_manager_find(c->m, "P1D02", &info), 0);
		assert_int_equal(!!(info.status & DTC_ST_CONFIRMED), day < 39);
		close_all(c);
	}
	assert_string_equal(c->events, "pending:P1D02:0x27 "
				       "confirmed:P1D02:0xAF "
				       "healed:P1D02:0x40");
	open_all(c);
	assert_int_equal(dtc_manager_find(c->m, "P1D02", &info), 0);
	assert_int_equal(info.status, 0x40);
	assert_false(info.stored);
	assert_null(info.freeze_frame);
	assert_int_equal(dtc_manager_warmup_cycles(c->m), 40);
	close_all(c);
	assert_int_equal(
		query_int(c->db, "SELECT count(*) FROM freeze_frame", NULL), 0);
}

static void test_clear_persists(void **state)
{
	struct ctx *c = *state;
	struct dtc_info info;

	open_all(c);
	set_signals(c);
	report(c->m, 1, "P0301", DTC_RESULT_FAILED, true);
	report(c->m, 1, "P2600", DTC_RESULT_FAILED, false);
	assert_true(query_int(c->db, "SELECT count(*) FROM freeze_frame",
			      NULL) > 0);
	assert_int_equal(dtc_manager_clear(c->m, S(2), NULL), 0);
	close_all(c);
	open_all(c);
	assert_int_equal(dtc_manager_find(c->m, "P0301", &info), 0);
	assert_int_equal(info.status, 0x50);
	assert_int_equal(info.occurrences, 0);
	assert_null(info.freeze_frame);
	assert_int_equal(dtc_manager_find(c->m, "P2600", &info), 0);
	assert_int_equal(info.status, 0x50);
	assert_string_equal(c->events, "pending:P0301:0x27 "
				       "confirmed:P0301:0xAF "
				       "pending:P2600:0x27 "
				       "cleared:P0301:0x50 "
				       "cleared:P2600:0x50");
	close_all(c);
	assert_int_equal(
		query_int(c->db, "SELECT count(*) FROM freeze_frame", NULL), 0);
	assert_int_equal(query_int(c->db,
				   "SELECT count(*) FROM event WHERE"
				   " type = 'cleared'",
				   NULL),
			 2);
}

/* a code that dtc.ini does not know comes back with its detector */
static void test_restore_unknown_code(void **state)
{
	struct ctx *c = *state;
	struct dtc_info info;

	open_all(c);
	report(c->m, 1, "P0171", DTC_RESULT_FAILED, false);
	close_all(c);
	open_all(c);
	assert_int_equal(dtc_manager_find(c->m, "P0171", &info), 0);
	assert_string_equal(info.detector, "test");
	assert_int_equal(info.status, 0x27);
	close_all(c);
}

static void test_ecu_events_stored(void **state)
{
	static const uint16_t codes[] = { 0x0301 };
	struct ctx *c = *state;

	open_all(c);
	dtc_manager_ecu_status(c->m, S(1), 0x7E8, 1, 1);
	dtc_manager_ecu_codes(c->m, S(2), 0x7E8, 0x03, codes, 1);
	close_all(c);
	assert_int_equal(query_int(c->db,
				   "SELECT count(*) FROM event WHERE"
				   " type = 'ecu' AND ecu_id = 2024",
				   NULL),
			 2);
	assert_int_equal(query_int(c->db,
				   "SELECT mil_on FROM event WHERE"
				   " code = ?1",
				   "MIL"),
			 1);
	assert_int_equal(c->checked, 2);
}

/* WAL: what the store's durability comment promises */
static void test_wal_mode(void **state)
{
	struct ctx *c = *state;
	sqlite3 *h;
	sqlite3_stmt *st;

	open_all(c);
	close_all(c);
	assert_int_equal(sqlite3_open(c->db, &h), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static void test_store_api(void **state)
{
	struct ctx *c = *state;
	struct dtc_freeze_frame ff = { 0 };
	struct dtc_store_dtc d = {
		.code = "P0011",
		.detector = "vanos",
		.severity = DTC_SEVERITY_MEDIUM,
		.status = 0x2F,
		.stored = true,
		.occurrences = 4,
		.failed_cycles = 2,
		.aging_cycles = 7,
		.passed_cycles = 1,
		.first_failure_ns = 5,
		.last_failure_ns = 9,
		.freeze_frame = &ff,
		.freeze_frame_changed = true,
	};
	char err[256];
	int64_t v = -1;

	ff.present[SIG_ENGINE_SPEED_RPM] = true;
	ff.value[SIG_ENGINE_SPEED_RPM] = 1234.25;
	assert_int_equal(dtc_store_open(&c->store, c->dir, err, sizeof(err)),
			 0);
	assert_int_equal(dtc_store_get_counter(c->store, "nothing", &v), 0);
	assert_true(v == -1);
	assert_int_equal(dtc_store_begin(c->store), 0);
	assert_int_equal(dtc_store_put_dtc(c->store, &d), 0);
	assert_int_equal(dtc_store_put_counter(c->store, "x", 42), 0);
	/* a rolled-back batch leaves nothing */
	dtc_store_rollback(c->store);
	assert_int_equal(query_int(c->db, "SELECT count(*) FROM dtc", NULL), 0);
	assert_int_equal(dtc_store_begin(c->store), 0);
	assert_int_equal(dtc_store_put_dtc(c->store, &d), 0);
	assert_int_equal(dtc_store_put_counter(c->store, "x", 42), 0);
	assert_int_equal(dtc_store_commit(c->store), 0);
	assert_int_equal(dtc_store_get_counter(c->store, "x", &v), 0);
	assert_true(v == 42);
	assert_int_equal(query_int(c->db,
				   "SELECT aging_cycles FROM dtc "
				   "WHERE code = ?1",
				   "P0011"),
			 7);
	assert_int_equal(query_int(c->db,
				   "SELECT value FROM freeze_frame "
				   "WHERE code = ?1",
				   "P0011"),
			 1234);
	dtc_store_close(c->store);
	c->store = NULL;
}

static int keep_events(void *ud, const struct dtc_store_capsule *cap)
{
	snprintf(ud, 64, "%s %lu %zu", cap->events, cap->frames, cap->len);
	return 1;
}

/* beyond the bound the capsules of healed DTCs go first, then the oldest;
 * the one just put always stays */
static void test_capsules_bounded(void **state)
{
	struct ctx *c = *state;
	uint8_t data[1000] = { 0 };
	struct dtc_store_dtc d = { .detector = "x", .status = 0x2F };
	struct dtc_store_capsule cap = { .events = "pending",
					 .data = data,
					 .len = sizeof(data),
					 .frames = 7 };
	static const char *const order[] = { "P0011", "P0014", "P0011",
					     "P0301" };
	char err[256], got[64] = "";
	unsigned dropped = 0;

	assert_int_equal(dtc_store_open(&c->store, c->dir, err, sizeof(err)),
			 0);
	assert_int_equal(dtc_store_begin(c->store), 0);
	d.code = "P0011";
	d.stored = true;
	assert_int_equal(dtc_store_put_dtc(c->store, &d), 0);
	d.code = "P0014"; /* healed: no longer in event memory */
	d.stored = false;
	assert_int_equal(dtc_store_put_dtc(c->store, &d), 0);
	assert_int_equal(dtc_store_commit(c->store), 0);
	for (size_t i = 0; i < 4; i++) {
		cap.code = order[i];
		cap.event_ns = (int64_t)i;
		assert_int_equal(
			dtc_store_capsule_put(c->store, &cap, 3000, &dropped),
			0);
		/* the fourth: P0014's (healed) goes although P0011's older */
		assert_int_equal(dropped, i == 3 ? 1 : 0);
	}
	assert_int_equal(query_int(c->db,
				   "SELECT count(*) FROM capsule "
				   "WHERE code = ?1",
				   "P0014"),
			 0);
	assert_int_equal(query_int(c->db, "SELECT count(*) FROM capsule", NULL),
			 3);
	/* one bigger than the bound pushes all others out but stays */
	cap.code = "P0302";
	assert_int_equal(dtc_store_capsule_put(c->store, &cap, 500, &dropped),
			 0);
	assert_int_equal(dropped, 3);
	assert_int_equal(
		dtc_store_capsule_get(c->store, "P0302", keep_events, got), 1);
	assert_string_equal(got, "pending 7 1000");
	assert_int_equal(
		dtc_store_capsule_get(c->store, "P0011", keep_events, got), 0);
	dtc_store_close(c->store);
	c->store = NULL;
}

static void test_open_errors(void **state)
{
	struct ctx *c = *state;
	struct dtc_store *s = NULL;
	char err[512], path[256];
	FILE *f;

	assert_true(dtc_store_open(&s, "/nonexistent/state", err, sizeof(err)) <
		    0);
	assert_null(s);
	assert_non_null(strstr(err, "/nonexistent/state/dtcd.db"));
	/* a file that is not a database is refused, not overwritten */
	snprintf(path, sizeof(path), "%s/dtcd.db", c->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database\n", f);
	fclose(f);
	assert_int_equal(dtc_store_open(&s, c->dir, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, path));
	dtc_store_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restore_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_days_of_driving_heal,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_persists, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore_unknown_code,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecu_events_stored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wal_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_api, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_capsules_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
