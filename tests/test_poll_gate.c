/* test_poll_gate.c: the read-only whitelist, every service byte 0x00-0xFF
 * (the profile refusing a [poll] entry at load: test_profile.c) */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "poll_gate.h"

/*
 * The whitelist as the issue and the README state it, written out here
 * again (not taken from the gate): OBD-II 01 02 03 06 07 09 0A, UDS 22;
 * 19 is allowed only with the sub-functions below.
 */
static const uint8_t allowed[] = { 0x01, 0x02, 0x03, 0x06,
				   0x07, 0x09, 0x0A, 0x22 };
static const uint8_t allowed_19[] = { 0x01, 0x02, 0x04, 0x06 };

static bool in(const uint8_t *set, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

/* every service byte 0x00-0xFF with a plausible body */
static void test_every_service(void **state)
{
	unsigned n_ok = 0;

	for (unsigned sid = 0; sid <= 0xFF; sid++) {
		/* 19 02 FF: sub-function 02, status mask; 22 F1 90: a DID */
		uint8_t req[3] = { (uint8_t)sid, sid == 0x19 ? 0x02 : 0xF1,
				   sid == 0x19 ? 0xFF : 0x90 };
		char why[256] = "";
		int r = poll_gate_check(req, sizeof(req), why, sizeof(why));
		bool want = in(allowed, sizeof(allowed), sid) || sid == 0x19;

		if (want) {
			if (r != 0)
				fail_msg("service %02X refused: %s", sid, why);
			n_ok++;
			continue;
		}
		if (r != -EPERM)
			fail_msg("service %02X let through (%d)", sid, r);
		char hex[8];

		snprintf(hex, sizeof(hex), "%02X", sid);
		/* the reason names the service and says what is allowed */
		if (!strstr(why, hex) || !strstr(why, "refused"))
			fail_msg("service %02X: reason '%s'", sid, why);
	}
	assert_int_equal(n_ok, sizeof(allowed) + 1);
}

/* every sub-function of 0x19 */
static void test_every_19_subfunction(void **state)
{
	for (unsigned sub = 0; sub <= 0xFF; sub++) {
		uint8_t req[3] = { 0x19, (uint8_t)sub, 0xFF };
		char why[256] = "";
		int r = poll_gate_check(req, sizeof(req), why, sizeof(why));

		if (in(allowed_19, sizeof(allowed_19), sub))
			assert_int_equal(r, 0);
		else if (r != -EPERM)
			fail_msg("19 %02X let through", sub);
	}
}

/* the named dangerous ones give their reason */
static void test_reasons(void **state)
{
	static const struct {
		uint8_t req[4];
		size_t len;
		const char *what;
	} cases[] = {
		{ { 0x14, 0xFF, 0xFF, 0xFF }, 4, "clears DTCs" },
		{ { 0x2E, 0xF1, 0x90, 0x00 }, 4, "writes" },
		{ { 0x31, 0x01, 0x02, 0x03 }, 4, "routines" },
		{ { 0x27, 0x01 }, 2, "SecurityAccess" },
		{ { 0x10, 0x03 }, 2, "session" },
		{ { 0x11, 0x01 }, 2, "ECUReset" },
		{ { 0x28, 0x03, 0x01 }, 3, "CommunicationControl" },
		{ { 0x85, 0x02 }, 2, "ControlDTCSetting" },
		{ { 0x04 }, 1, "clears the DTCs" },
		{ { 0x19, 0x81, 0xFF }, 3, "suppresses" },
	};
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		why[0] = 0;
		assert_int_equal(poll_gate_check(cases[i].req, cases[i].len,
						 why, sizeof(why)),
				 -EPERM);
		if (!strstr(why, cases[i].what))
			fail_msg("%02X: '%s' lacks '%s'", cases[i].req[0], why,
				 cases[i].what);
	}
	/* malformed reads are no reads either */
	assert_int_equal(
		poll_gate_check((const uint8_t *)"", 0, why, sizeof(why)),
		-EINVAL);
	assert_int_equal(poll_gate_check((const uint8_t[]){ 0x22, 0xF1 }, 2,
					 why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(
		poll_gate_check((const uint8_t[]){ 0x19 }, 1, why, sizeof(why)),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_service),
		cmocka_unit_test(test_every_19_subfunction),
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
