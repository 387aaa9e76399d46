/* test_profile.c: vehicle profiles: the shipped ones, and every error's
 * file:line */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"
#include "macro.h"

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/test_profile.XXXXXX.ini");
	int fd;

	assert_non_null(path);
	fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void load_shipped(const char *name, struct profile **ret)
{
	char path[4096];
	char err[512] = "";

	snprintf(path, sizeof(path), "%s/etc/profiles/%s.ini",
		 getenv("DTCD_SOURCE_ROOT"), name);
	if (profile_load(ret, path, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

/* every signal of spec section 1 A-C has a source in bmw-reference */
static void test_bmw_reference(void **state)
{
	struct profile *p;

	load_shipped("bmw-reference", &p);
	assert_string_equal(p->name, "bmw-reference");
	for (int i = 0; i < SIG__MAX; i++) {
		/* not in the reference vehicle: 12 cylinders, an odometer */
		if ((i >= SIG_MISFIRE_COUNT_CYL_7 &&
		     i <= SIG_MISFIRE_COUNT_CYL_12) ||
		    i == SIG_ODOMETER_KM)
			continue;
		if (!p->bound[i])
			fail_msg("bmw-reference binds no %s", signal_name(i));
	}
	assert_non_null(strstr(p->dbc_path, "bmw_e9x_e8x.dbc"));
	assert_int_equal(p->n_dbc, 7);
	assert_int_equal(p->did_ecu, 0x12);
	assert_int_equal(p->n_obd_ecus, 1);
	assert_int_equal(p->obd_ecus[0], 0x7E8);
	/* a signed DID field with its scale */
	for (size_t i = 0; i < p->n_did; i++)
		if (p->did[i].sig == SIG_VANOS_EXHAUST_ACTUAL_DEG) {
			assert_int_equal(p->did[i].did, 0x5A20);
			assert_int_equal(p->did[i].offset, 6);
			assert_int_equal(p->did[i].length, 2);
			assert_int_equal(p->did[i].type, PROFILE_DID_SIGNED);
			assert_true(p->did[i].scale == 0.1);
		}
	profile_free(p);
}

static void test_obd2_generic(void **state)
{
	struct profile *p;

	load_shipped("obd2-generic", &p);
	assert_null(p->dbc_path);
	assert_int_equal(p->n_did, 0);
	assert_int_equal(p->n_obd_ecus, 0); /* every ECU */
	assert_int_equal(p->n_monitor, 12);
	assert_true(p->bound[SIG_ENGINE_SPEED_RPM]);
	assert_true(p->bound[SIG_MISFIRE_COUNT_CYL_12]);
	assert_false(p->bound[SIG_VANOS_INTAKE_ACTUAL_DEG]);
	profile_free(p);
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *what;
};

static const struct bad_case bad[] = {
	{ "[profile]\nname = x\n[motor]\npower = 1\n", 3,
	  "unknown section [motor]" },
	{ "[profile]\ncolour = red\n", 2, "unknown key 'colour'" },
	{ "[dbc]\nfile = a.dbc\nengine_speed = AccPedal.EngineSpeed\n", 3,
	  "unknown signal 'engine_speed'" },
	{ "[dbc]\nfile = a.dbc\n\nengine_speed_rpm = AccPedal\n", 4,
	  "MESSAGE.SIGNAL" },
	{ "[dbc]\nfile = a.dbc\nengine_speed_rpm = A.B\nengine_speed_rpm = "
	  "C.D\n",
	  4, "bound twice" },
	{ "[obd]\nengine_speed_rpm = 0G\n", 2, "PID in hex" },
	{ "[obd]\necu_mil_on = 01 lamp\n", 2, "no field 'lamp'" },
	/* PID 01 has fields only: without one this was a SIGSEGV */
	{ "[obd]\necu_mil_on = 01\n", 2, "needs a FIELD" },
	{ "[obd]\necus = 7E8 800\n", 2, "11-bit IDs in hex, got '800'" },
	{ "[obd_monitor]\nmisfire_count_cyl_1 = A2\n", 2, "MID TID" },
	{ "[did]\nvin = F190 0 17 u\n", 2, "text signal needs TYPE text" },
	{ "[did]\nbattery_current_a = 5A31 0 2 text\n", 2,
	  "cannot have TYPE text" },
	{ "[did]\nbattery_current_a = 5A31 0 2 x\n", 2, "TYPE" },
	{ "[did]\nbattery_current_a = 5A31 0 9 s\n", 2, "at most 8 bytes" },
	{ "[did]\nengine_emergency_mode = 5A21 0 2 bit0\n", 2, "LENGTH 1" },
	{ "[did]\nengine_emergency_mode = 5A21 0 1 bit8\n", 2, "TYPE" },
	{ "[did]\nbattery_current_a = 5A31 0 2 s zero\n", 2, "SCALE" },
	{ "[did]\necu = 1234\n", 2,
	  "ecu: expected a hex number 0..FF, got '1234'" },
	{ "[profile]\nisotp_timeout_ms = 0\n", 2, "1..60000 ms" },
	{ "[profile]\nthis line has no equals sign\n", 2,
	  "expected [section], key = value or a comment, got 'this line" },
	/* [poll]: the gate refuses anything but a read at load */
	{ "[poll]\nclear = 7E0 04 @ 1s\n", 2, "service 04 refused" },
	{ "[poll]\n\nok = 7E0 01 0C @ 1Hz\nwipe = bmw:12 14 FF FF FF @ cycle\n",
	  4, "service 14 refused" },
	{ "[poll]\nw = bmw:12 2E F1 90 00 @ 1s\n", 2, "writes" },
	{ "[poll]\nr = bmw:12 31 01 02 03 @ 1s\n", 2, "service 31 refused" },
	{ "[poll]\ns = bmw:12 27 01 @ 1s\n", 2, "SecurityAccess" },
	{ "[poll]\ns = bmw:12 10 03 @ 1s\n", 2, "session" },
	{ "[poll]\ns = bmw:12 11 01 @ 1s\n", 2, "ECUReset" },
	{ "[poll]\ns = bmw:12 28 01 @ 1s\n", 2, "service 28" },
	{ "[poll]\ns = bmw:12 85 02 @ 1s\n", 2, "service 85" },
	{ "[poll]\ns = bmw:12 19 14 @ 1s\n", 2, "sub-function 14" },
	{ "[poll]\na = 7E0 01 0C @ fast\n", 2, "rate 'fast'" },
	{ "[poll]\na = 7E9 01 0C @ 1Hz\n", 2, "target '7E9'" },
	{ "[poll]\na = bmw:F1 22 5A20 @ 1Hz\n", 2, "target 'bmw:F1'" },
	{ "[poll]\na = 7E0 01 0C 1Hz\n", 2, "expected TARGET BYTES" },
	{ "[poll]\na = 7E0 1 0C @ 1Hz\n", 2, "whole bytes" },
	{ "[poll]\na = bmw:12 22 5A20 5A21 5A30 @ 1Hz\n", 2, "one frame" },
	{ "[poll]\na = 7E0 22 5A @ 1Hz\n", 2, "2-byte DIDs" },
	{ "[poll]\na = 7E0 01 0C @ 1Hz\na = 7E0 01 05 @ 1Hz\n", 3,
	  "listed twice (first at line 2)" },
	{ "[poll]\np2_ms = 0\n", 2, "p2_ms: expected 1..5000" },
	{ "[poll]\nbudget_pct = 90\n", 2, "budget_pct" },
	{ "[poll]\na = 7E0 01 0C @ 1000Hz\n", 2, "rate '1000Hz'" },
};

static const struct poll_request *find(const struct profile *p,
				       const char *hex_req, int target)
{
	for (size_t i = 0; i < p->poll.n; i++) {
		char got[64] = "";
		size_t o = 0;

		for (unsigned k = 0; k < p->poll.req[i].len; k++)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%02X",
					      p->poll.req[i].data[k]);
		if (strcmp(got, hex_req) == 0 &&
		    (int)p->poll.req[i].target == target)
			return &p->poll.req[i];
	}
	fail_msg("no request %s", hex_req);
	return NULL;
}

/* spec 1 C rates in bmw-reference, 1 B in obd2-generic */
static void test_shipped_rates(void **state)
{
	static const char *const one_hz[] = { "225A10", "225A21", "225A30",
					      "225A31", "225A40", "225A50" };
	struct profile *p;
	const struct poll_request *r;

	load_shipped("bmw-reference", &p);
	r = find(p, "225A20", POLL_BMW);
	assert_int_equal(r->ecu, 0x12);
	assert_int_equal(r->period_ns, 200000000LL);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(find(p, one_hz[i], POLL_BMW)->period_ns,
				 1000000000LL);
	assert_int_equal(find(p, "22F190", POLL_BMW)->period_ns, 0);
	assert_int_equal(find(p, "0101", POLL_OBD_PHYSICAL)->period_ns,
			 10000000000LL);
	assert_int_equal(find(p, "03", POLL_OBD_PHYSICAL)->period_ns,
			 30000000000LL);
	assert_int_equal(find(p, "07", POLL_OBD_PHYSICAL)->period_ns,
			 30000000000LL);
	assert_int_equal(p->poll.p2_ns, 50000000LL);
	assert_int_equal(p->poll.p2_star_ns, 5000000000LL);
	profile_free(p);

	load_shipped("obd2-generic", &p);
	assert_int_equal(find(p, "010C", POLL_OBD_FUNCTIONAL)->period_ns,
			 200000000LL);
	assert_int_equal(find(p, "0105", POLL_OBD_FUNCTIONAL)->period_ns,
			 1000000000LL);
	assert_int_equal(find(p, "015C", POLL_OBD_FUNCTIONAL)->period_ns,
			 1000000000LL);
	for (unsigned mid = 0xA2; mid <= 0xAD; mid++) {
		char hex[8];

		snprintf(hex, sizeof(hex), "06%02X", mid);
		assert_int_equal(find(p, hex, POLL_OBD_FUNCTIONAL)->period_ns,
				 2000000000LL);
	}
	profile_free(p);
}

static void test_bad_profiles(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *path = write_tmp(bad[i].text);
		char err[512] = "", want[4200];
		struct profile *p = NULL;
		int r = profile_load(&p, path, err, sizeof(err));

		if (r != -EINVAL)
			fail_msg("case %zu: returned %d, want -EINVAL", i, r);
		snprintf(want, sizeof(want), "%s:%u: ", path, bad[i].line);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    !strstr(err, bad[i].what))
			fail_msg("case %zu: '%s', want '%s... %s'", i, err,
				 want, bad[i].what);
		assert_null(p);
		unlink(path);
		free(path);
	}
}

static void test_dbc_without_file(void **state)
{
	char *path =
		write_tmp("[dbc]\nengine_speed_rpm = AccPedal.EngineSpeed\n");
	char err[512] = "";
	struct profile *p = NULL;

	assert_int_equal(profile_load(&p, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "names no file"));
	unlink(path);
	free(path);
	assert_int_equal(
		profile_load(&p, "/nonexistent/x.ini", err, sizeof(err)),
		-ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.ini"));
}

static void test_find(void **state)
{
	char dir[4096], *path = NULL;
	const char *dirs[] = { "/nonexistent", dir, NULL };

	snprintf(dir, sizeof(dir), "%s/etc/profiles",
		 getenv("DTCD_SOURCE_ROOT"));
	assert_int_equal(profile_find("obd2-generic", dirs, &path), 0);
	assert_non_null(strstr(path, "/etc/profiles/obd2-generic.ini"));
	free(path);
	assert_int_equal(profile_find("./my-car.ini", dirs, &path), 0);
	assert_string_equal(path, "./my-car.ini");
	free(path);
	assert_int_equal(profile_find("no-such-car", dirs, &path), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bmw_reference),
		cmocka_unit_test(test_obd2_generic),
		cmocka_unit_test(test_shipped_rates),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_dbc_without_file),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
