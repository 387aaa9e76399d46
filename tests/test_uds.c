/* test_uds.c: the reference DME's DIDs (spec 1 C) decoded by hand */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_hex.h"

#include "isotp.h"
#include "uds.h"
#include "macro.h"

/* One field of the spec's table: where it is and what it must read */
struct field {
	const char *name;
	unsigned offset, length;
	bool is_signed;
	double scale, add;
	double want;
};

static const struct {
	const char *hex;
	uint16_t did;
	size_t payload_len;
	struct field f[6];
} answers[] = {
	/* 6 x uint16 misfires of cylinders 1-6 */
	{ "62 5A 10 00 00 00 05 01 00 FF FF 00 11 12 34",
	  0x5A10,
	  12,
	  { { "misfire_count_cyl_1", 0, 2, false, 1, 0, 0 },
	    { "misfire_count_cyl_2", 2, 2, false, 1, 0, 5 },
	    { "misfire_count_cyl_3", 4, 2, false, 1, 0, 256 },
	    { "misfire_count_cyl_4", 6, 2, false, 1, 0, 65535 },
	    { "misfire_count_cyl_5", 8, 2, false, 1, 0, 17 },
	    { "misfire_count_cyl_6", 10, 2, false, 1, 0, 4660 } } },
	/* 4 x int16 x 0.1 °CRK: 200, -200, -32768, 32767 */
	{ "62 5A 20 00 C8 FF 38 80 00 7F FF",
	  0x5A20,
	  8,
	  { { "vanos_intake_target_deg", 0, 2, true, 0.1, 0, 20.0 },
	    { "vanos_intake_actual_deg", 2, 2, true, 0.1, 0, -20.0 },
	    { "vanos_exhaust_target_deg", 4, 2, true, 0.1, 0, -3276.8 },
	    { "vanos_exhaust_actual_deg", 6, 2, true, 0.1, 0, 3276.7 } } },
	/* a realistic one: intake 12.0 target, 31.5 actual (bolt broken) */
	{ "62 5A 20 00 78 01 3B FF 9C FF 9B",
	  0x5A20,
	  8,
	  { { "vanos_intake_target_deg", 0, 2, true, 0.1, 0, 12.0 },
	    { "vanos_intake_actual_deg", 2, 2, true, 0.1, 0, 31.5 },
	    { "vanos_exhaust_target_deg", 4, 2, true, 0.1, 0, -10.0 },
	    { "vanos_exhaust_actual_deg", 6, 2, true, 0.1, 0, -10.1 } } },
	/* uint8 flags: read whole here, bits in test_bits */
	{ "62 5A 21 03", 0x5A21, 1, { { "flags", 0, 1, false, 1, 0, 3 } } },
	/* heater on, 7.50 A */
	{ "62 5A 30 01 02 EE",
	  0x5A30,
	  3,
	  { { "fuel_heater_on", 0, 1, false, 1, 0, 1 },
	    { "fuel_heater_current_a", 1, 2, false, 0.01, 0, 7.5 } } },
	/* -5.00 A (discharge), 12.500 V */
	{ "62 5A 31 FE 0C 30 D4",
	  0x5A31,
	  4,
	  { { "battery_current_a", 0, 2, true, 0.01, 0, -5.0 },
	    { "battery_voltage_v", 2, 2, false, 0.001, 0, 12.5 } } },
	/* boundaries: -327.68 A, 65.535 V; +327.67 A */
	{ "62 5A 31 80 00 FF FF",
	  0x5A31,
	  4,
	  { { "battery_current_a", 0, 2, true, 0.01, 0, -327.68 },
	    { "battery_voltage_v", 2, 2, false, 0.001, 0, 65.535 } } },
	{ "62 5A 31 7F FF 00 00",
	  0x5A31,
	  4,
	  { { "battery_current_a", 0, 2, true, 0.01, 0, 327.67 },
	    { "battery_voltage_v", 2, 2, false, 0.001, 0, 0 } } },
	/* 100 % duty, 3000 rpm, 120.0 °C; then 30 %, 0 rpm, -10.0 °C */
	{ "62 5A 40 64 0B B8 04 B0",
	  0x5A40,
	  5,
	  { { "turbo_pump_duty_pct", 0, 1, false, 1, 0, 100 },
	    { "turbo_pump_speed_rpm", 1, 2, false, 1, 0, 3000 },
	    { "turbo_coolant_temp_c", 3, 2, true, 0.1, 0, 120.0 } } },
	{ "62 5A 40 1E 00 00 FF 9C",
	  0x5A40,
	  5,
	  { { "turbo_pump_duty_pct", 0, 1, false, 1, 0, 30 },
	    { "turbo_pump_speed_rpm", 1, 2, false, 1, 0, 0 },
	    { "turbo_coolant_temp_c", 3, 2, true, 0.1, 0, -10.0 } } },
	/* 280.0 °C after the cooler, valve 25 %, coolant low */
	{ "62 5A 50 0A F0 19 01",
	  0x5A50,
	  4,
	  { { "egr_temp_c", 0, 2, true, 0.1, 0, 280.0 },
	    { "egr_valve_pct", 2, 1, false, 1, 0, 25 },
	    { "coolant_level_low", 3, 1, false, 1, 0, 1 } } },
	{ "62 5A 50 FE 70 00 00",
	  0x5A50,
	  4,
	  { { "egr_temp_c", 0, 2, true, 0.1, 0, -40.0 },
	    { "egr_valve_pct", 2, 1, false, 1, 0, 0 },
	    { "coolant_level_low", 3, 1, false, 1, 0, 0 } } },
};

static void test_dids(void **state)
{
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(answers); c++) {
		uint8_t msg[64];
		size_t n = from_hex(answers[c].hex, msg, sizeof(msg));
		struct uds_response r;

		print_message("answer: %s\n", answers[c].hex);
		assert_int_equal(uds_parse_response(msg, n, &r), 0);
		assert_false(r.negative);
		assert_int_equal(r.sid, 0x62);
		assert_int_equal(r.did, answers[c].did);
		assert_int_equal(r.payload_len, answers[c].payload_len);
		for (size_t i = 0; i < 6 && answers[c].f[i].name; i++) {
			const struct field *f = &answers[c].f[i];
			double v = NAN;

			assert_int_equal(uds_field(r.payload, r.payload_len,
						   f->offset, f->length,
						   f->is_signed, f->scale,
						   f->add, &v),
					 0);
			assert_near(v, f->want);
		}
	}
}

/* 0x5A21: bit 0 emergency program, bit 1 power reduction */
static void test_bits(void **state)
{
	static const struct {
		uint8_t flags;
		bool emergency, reduced;
	} cases[] = {
		{ 0x00, false, false }, { 0x01, true, false },
		{ 0x02, false, true },	{ 0x03, true, true },
		{ 0xFC, false, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t msg[4] = { 0x62, 0x5A, 0x21, cases[i].flags };
		struct uds_response r;
		bool b;

		assert_int_equal(uds_parse_response(msg, 4, &r), 0);
		assert_int_equal(uds_bit(r.payload, r.payload_len, 0, 0, &b),
				 0);
		assert_int_equal(b, cases[i].emergency);
		assert_int_equal(uds_bit(r.payload, r.payload_len, 0, 1, &b),
				 0);
		assert_int_equal(b, cases[i].reduced);
	}
}

/* What a listener sees of one tester's 22 requests and the DME's answers */
struct listener {
	uint16_t requested;
	size_t answers;
	struct uds_response r;
	char vin[18];
	uint8_t copy[ISOTP_MAX_MESSAGE];
};

static void on_message(void *userdata, const struct isotp_message *m)
{
	struct listener *l = userdata;
	uint16_t did;

	if (!m->response) {
		assert_true(uds_parse_request(m->data, m->len, &did) >= 0);
		l->requested = did;
		return;
	}
	/* the data is only valid during the callback */
	memcpy(l->copy, m->data, m->len);
	assert_int_equal(uds_parse_response(l->copy, m->len, &l->r), 0);
	l->answers++;
	if (!l->r.negative && l->r.did == 0xF190 && l->r.payload_len == 17)
		memcpy(l->vin, l->r.payload, 17);
}

static void feed_hex(struct isotp *tp, int64_t ts, uint32_t id, const char *hex)
{
	struct frame f = { .ts_ns = ts, .id = id };

	f.len = (uint8_t)from_hex(hex, f.data, 8);
	assert_true(isotp_feed(tp, &f));
}

/*
 * The VIN over BMW extended addressing (20 bytes: four frames), then a
 * 7F 22 31 that is tied to the DID of the request before it.
 */
static void test_over_isotp(void **state)
{
	struct listener l = { 0 };
	struct isotp *tp = NULL;

	(void)state;
	assert_int_equal(isotp_new(&tp, 1000000000LL, on_message, &l), 0);
	feed_hex(tp, 0, 0x6F1, "12 03 22 F1 90 FF FF FF");
	feed_hex(tp, 1000000, 0x612, "F1 10 14 62 F1 90 57 42");
	feed_hex(tp, 2000000, 0x6F1, "12 30 00 00 FF FF FF FF");
	feed_hex(tp, 3000000, 0x612, "F1 21 41 50 48 35 43 35");
	feed_hex(tp, 4000000, 0x612, "F1 22 35 42 41 31 32 33");
	feed_hex(tp, 5000000, 0x612, "F1 23 34 35 36 FF FF FF");
	assert_int_equal(l.answers, 1);
	assert_int_equal(l.requested, 0xF190);
	assert_string_equal(l.vin, "WBAPH5C55BA123456");

	feed_hex(tp, 6000000, 0x6F1, "12 03 22 5A 40 FF FF FF");
	feed_hex(tp, 7000000, 0x612, "F1 03 7F 22 31 FF FF FF");
	assert_int_equal(l.answers, 2);
	assert_true(l.r.negative);
	assert_int_equal(l.r.sid, 0x22);
	assert_int_equal(l.r.nrc, 0x31);
	assert_int_equal(l.requested, 0x5A40);
	isotp_free(tp);
}

static void test_negative(void **state)
{
	static const struct {
		const char *hex;
		uint8_t sid, nrc;
		bool pending;
	} cases[] = {
		{ "7F 22 31", 0x22, 0x31, false }, /* requestOutOfRange */
		{ "7F 22 22", 0x22, 0x22, false }, /* conditionsNotCorrect */
		{ "7F 22 78", 0x22, 0x78, true },  /* responsePending */
		{ "7F 19 11", 0x19, 0x11, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t msg[8];
		size_t n = from_hex(cases[i].hex, msg, sizeof(msg));
		struct uds_response r;

		assert_int_equal(uds_parse_response(msg, n, &r), 0);
		assert_true(r.negative);
		assert_int_equal(r.sid, cases[i].sid);
		assert_int_equal(r.nrc, cases[i].nrc);
		assert_int_equal(r.pending, cases[i].pending);
		assert_int_equal(r.payload_len, 0);
	}
}

static void test_bad_answers(void **state)
{
	static const char *const bad[] = {
		"",	 "62",	     "62 5A",	 "7F", "7F 22", "7F 22 31 00",
		"50 03", "22 5A 20", "41 05 8C",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint8_t msg[8];
		size_t n = from_hex(bad[i], msg, sizeof(msg));
		struct uds_response r;

		assert_int_equal(uds_parse_response(msg, n, &r), -EBADMSG);
	}
}

/* A payload shorter than the layout: -EMSGSIZE, never a made-up value */
static void test_short_payloads(void **state)
{
	static const struct {
		const char *hex;
		unsigned offset, length;
	} cases[] = {
		{ "62 5A 20 00 C8", 2, 2 },    /* intake actual missing */
		{ "62 5A 20 00 C8 FF", 2, 2 }, /* half of it there */
		{ "62 5A 30 01", 1, 2 },       /* heater current missing */
		{ "62 5A 21", 0, 1 },	       /* no data at all */
		{ "62 5A 50 0A F0 19", 3, 1 }, /* coolant level missing */
		{ "62 5A 10 00 00", 10, 2 },   /* cylinder 6 missing */
		{ "62 5A 10 00 00", 4000000000u, 2 }, /* no wrap-around */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t msg[16];
		size_t n = from_hex(cases[i].hex, msg, sizeof(msg));
		struct uds_response r;
		double v = 42;
		bool b = true;

		assert_int_equal(uds_parse_response(msg, n, &r), 0);
		assert_int_equal(uds_field(r.payload, r.payload_len,
					   cases[i].offset, cases[i].length,
					   false, 1, 0, &v),
				 -EMSGSIZE);
		assert_near(v, 42); /* untouched */
		assert_int_equal(uds_bit(r.payload, r.payload_len,
					 cases[i].offset + cases[i].length - 1,
					 0, &b),
				 -EMSGSIZE);
		assert_true(b);
	}
}

/* Widths 1..8, sign extension, scale and offset */
static void test_field_widths(void **state)
{
	static const struct {
		const char *payload;
		unsigned offset, length;
		bool is_signed;
		double scale, add, want;
	} cases[] = {
		{ "FF", 0, 1, false, 1, 0, 255 },
		{ "FF", 0, 1, true, 1, 0, -1 },
		{ "80", 0, 1, true, 1, 0, -128 },
		{ "7F", 0, 1, true, 1, 0, 127 },
		{ "00 80 00 00", 1, 3, true, 1, 0, -8388608 },
		{ "00 80 00 00", 1, 3, false, 1, 0, 8388608 },
		{ "FF FF FF FE", 0, 4, true, 1, 0, -2 },
		{ "FF FF FF FE", 0, 4, false, 1, 0, 4294967294.0 },
		{ "00 00 00 01 00 00 00 00", 0, 8, false, 1, 0, 4294967296.0 },
		{ "FF FF FF FF FF FF FF FE", 0, 8, true, 1, 0, -2 },
		{ "80 00 00 00 00 00 00 00", 0, 8, true, 1, 0,
		  -9223372036854775808.0 },
		{ "01 2C", 0, 2, false, 0.5, -40, 110 },
		{ "FF 38", 0, 2, true, -0.1, 1, 21 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t p[8];
		size_t n = from_hex(cases[i].payload, p, sizeof(p));
		double v;

		assert_int_equal(uds_field(p, n, cases[i].offset,
					   cases[i].length, cases[i].is_signed,
					   cases[i].scale, cases[i].add, &v),
				 0);
		assert_near(v, cases[i].want);
	}
	{
		uint8_t p[9] = { 0 };
		double v;
		bool b;

		assert_int_equal(uds_field(p, 9, 0, 0, false, 1, 0, &v),
				 -EINVAL);
		assert_int_equal(uds_field(p, 9, 0, 9, false, 1, 0, &v),
				 -EINVAL);
		assert_int_equal(uds_bit(p, 9, 0, 8, &b), -EINVAL);
	}
}

static void test_requests(void **state)
{
	static const struct {
		const char *hex;
		int want;
	} cases[] = {
		{ "22 5A 20", 0x5A20 },
		{ "22 F1 90", 0xF190 },
		{ "22 00 00", 0x0000 },
		{ "22 FF FF", 0xFFFF },
		{ "22 5A 10 5A 20 5A 21", 0x5A10 },
		{ "22", -EBADMSG },
		{ "22 5A", -EBADMSG },
		{ "22 5A 20 5A", -EBADMSG },
		{ "2E 5A 20 01", -EBADMSG },
		{ "62 5A 20", -EBADMSG },
		{ "", -EBADMSG },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t msg[16];
		size_t n = from_hex(cases[i].hex, msg, sizeof(msg));
		uint16_t did = 0x1234;

		assert_int_equal(uds_parse_request(msg, n, &did),
				 cases[i].want);
		assert_int_equal(did,
				 cases[i].want >= 0 ? cases[i].want : 0x1234);
		assert_int_equal(uds_parse_request(msg, n, NULL),
				 cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dids),
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_over_isotp),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_short_payloads),
		cmocka_unit_test(test_field_widths),
		cmocka_unit_test(test_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
