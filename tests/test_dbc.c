/* test_dbc.c: DBC parser and decoder, values computed by hand */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* the model's fields, read directly: the public API has no getters */
#include "dbc_private.h"

static char *path_in(const char *env, const char *fallback, const char *rel)
{
	const char *root = getenv(env);
	char *p;

	if (!root)
		root = fallback;
	assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
	return p;
}

static char *source_path(const char *rel)
{
	return path_in("DTCD_SOURCE_ROOT", ".", rel);
}

static char *shared_path(const char *rel)
{
	return path_in("DTCD_SHARED", "../shared", rel);
}

static struct dbc *load_ok(char *path)
{
	char err[512] = "";
	struct dbc *dbc = NULL;
	int r = dbc_load(&dbc, path, err, sizeof(err));

	if (r < 0)
		fail_msg("%s: %s", path, err);
	free(path);
	return dbc;
}

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2, i;

	for (i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

struct decode_case {
	uint32_t id;
	bool ext;
	const char *sig;
	const char *data;
	int rc;
	double value;
};

/* Each value worked out from the bit layout in tests/fixtures/dbc/unit.dbc */
static const struct decode_case unit_cases[] = {
	/* Intel U8 = byte 0 */
	{ 100, false, "U8", "123456789ABCDEF0", 0, 0x12 },
	/* S12 = bits 12..23: 0x3 | 0x56 << 4 = 0x563 = 1379, *0.5 - 10 */
	{ 100, false, "S12", "123456789ABCDEF0", 0, 679.5 },
	/* 0xFFF = -1 (signed 12 bits): -1 * 0.5 - 10 */
	{ 100, false, "S12", "00F0FF0000000000", 0, -10.5 },
	/* 0x800 = -2048: -2048 * 0.5 - 10 */
	{ 100, false, "S12", "0000800000000000", 0, -1034 },
	/* frame shorter than the signal: S12 needs 3 bytes */
	{ 100, false, "S12", "1234", -EMSGSIZE, 0 },
	{ 100, false, "U8", "", -EMSGSIZE, 0 },
	/* Motorola M16 7|16: byte 0 is the high byte: 0x1234 */
	{ 101, false, "M16", "123456789ABCDEF0", 0, 0x1234 },
	/* M12S 19|12: low nibble of byte 2, then byte 3: 0x678 */
	{ 101, false, "M12S", "123456789ABCDEF0", 0, 0x678 },
	/* 0x800 -> -2048 */
	{ 101, false, "M12S", "0000580000000000", 0, -2048 },
	/* 0xFFF -> -1 */
	{ 101, false, "M12S", "00000FFF00000000", 0, -1 },
	{ 101, false, "M12S", "123456", -EMSGSIZE, 0 },
	/* 64-bit signed Intel: all ones = -1, 0x80 in byte 7 = -2^63 */
	{ 102, false, "I64", "FFFFFFFFFFFFFFFF", 0, -1 },
	{ 102, false, "I64", "0000000000000080", 0, -9223372036854775808.0 },
	/* 64-bit unsigned Motorola: byte 0 is the top: 2^63 + 2^56 */
	{ 103, false, "M64", "8100000000000000", 0, 9295429630892703744.0 },
	/* IEEE float 1.5f = 0x3FC00000, little endian in bytes 0..3 */
	{ 106, false, "F32", "0000C03F0000000000000000", 0, 1.5 },
	/* double -2.25 = 0xC002000000000000, little endian bytes 4..11 */
	{ 106, false, "F64", "0000000000000000000002C0", 0, -2.25 },
	/* Motorola float: 0x3FC00000 big endian from byte 0 */
	{ 107, false, "F32BE", "3FC0000000000000", 0, 1.5 },
	/* float 3.0f = 0x40400000 scaled: 3 * 0.5 + 1 */
	{ 107, false, "F32Scaled", "0000000000004040", 0, 2.5 },
	/* same numeric ID, standard and extended: different messages */
	{ 200, false, "StdSig", "07", 0, 7 },
	{ 200, true, "ExtSig", "07", 0, 14 },
	/* J1939-style extended ID 0x18FEF1E5: bytes 3,4 = 0x1F40 * 0.125 */
	{ 0x18FEF1E5, true, "Rpm", "000000401F000000", 0, 1000 },
	/* simple multiplexing: Mux = 1 carries A, Mux = 2 carries B */
	{ 300, false, "Mux", "012A000000000007", 0, 1 },
	{ 300, false, "A", "012A000000000007", 0, 42 },
	{ 300, false, "B", "012A000000000007", -ENOENT, 0 },
	{ 300, false, "Always", "012A000000000007", 0, 7 },
	{ 300, false, "A", "0210270000000000", -ENOENT, 0 },
	/* B = 0x2710 = 10000 * 0.1 */
	{ 300, false, "B", "0210270000000000", 0, 1000 },
	{ 300, false, "A", "0310270000000000", -ENOENT, 0 },
	{ 300, false, "B", "0310270000000000", -ENOENT, 0 },
	/* extended: Top (low nibble) 1 -> Sub (high nibble) present; Sub
	 * 0 or 5..7 -> Leaf1; Top 2..3 -> Leaf2 */
	{ 301, false, "Sub", "6109FE0000000000", 0, 6 },
	{ 301, false, "Leaf1", "6109FE0000000000", 0, 9 },
	{ 301, false, "Leaf2", "6109FE0000000000", -ENOENT, 0 },
	{ 301, false, "Leaf1", "0109FE0000000000", 0, 9 },
	{ 301, false, "Leaf1", "4109FE0000000000", -ENOENT, 0 },
	{ 301, false, "Leaf1", "7109FE0000000000", 0, 9 },
	{ 301, false, "Leaf1", "8109FE0000000000", -ENOENT, 0 },
	/* Top = 3: Sub absent, so Leaf1 too even though Sub's bits say 6 */
	{ 301, false, "Sub", "6309FE0000000000", -ENOENT, 0 },
	{ 301, false, "Leaf1", "6309FE0000000000", -ENOENT, 0 },
	{ 301, false, "Leaf2", "6309FE0000000000", 0, -2 },
	{ 301, false, "Leaf2", "0209800000000000", 0, -128 },
	{ 301, false, "Leaf2", "0409800000000000", -ENOENT, 0 },
};

static void strip_spaces(char *s)
{
	char *d = s;

	for (; *s; s++)
		if (*s != ' ')
			*d++ = *s;
	*d = 0;
}

static void test_unit_decodes(void **state)
{
	struct dbc *dbc = load_ok(source_path("tests/fixtures/dbc/unit.dbc"));
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(unit_cases) / sizeof(unit_cases[0]); i++) {
		const struct decode_case *c = &unit_cases[i];
		const struct dbc_message *m =
			dbc_find_message(dbc, c->id, c->ext);
		const struct dbc_signal *s;
		char hex[64];
		uint8_t data[64];
		size_t len;
		double v = NAN;
		int r;

		snprintf(hex, sizeof(hex), "%s", c->data);
		strip_spaces(hex);
		len = unhex(hex, data);
		if (!m)
			fail_msg("case %zu: no message 0x%X", i, c->id);
		s = dbc_message_find_signal(m, c->sig);
		if (!s)
			fail_msg("case %zu: no signal %s", i, c->sig);
		r = dbc_signal_decode(s, data, len, &v);
		if (r != c->rc)
			fail_msg("case %zu %s %s: rc %d, want %d", i, c->sig,
				 c->data, r, c->rc);
		if (r == 0 && v != c->value)
			fail_msg("case %zu %s %s: %.17g, want %.17g", i, c->sig,
				 c->data, v, c->value);
	}
	dbc_free(dbc);
}

struct raw_case {
	uint32_t id;
	const char *sig;
	const char *data;
	int64_t raw;
};

/* Raw bit patterns where a double would round: 64-bit and 9-byte spans */
static const struct raw_case raw_cases[] = {
	{ 102, "I64", "0000000000000080", INT64_MIN },
	{ 103, "M64", "8000000000000001", (int64_t)0x8000000000000001ull },
	/* I64at4: bits 4..67: 0xA from byte 0's high nibble, byte 8's low
	 * nibble 0x5 on top */
	{ 105, "I64at4", "A00000000000000005000000", 0x500000000000000Aull },
	/* M64at3: byte 0's low nibble on top, bytes 1..7, byte 8's high
	 * nibble at the bottom */
	{ 105, "M64at3", "0C1200000000000030000000",
	  (int64_t)0xC120000000000003ull },
	/* the float's bit pattern */
	{ 106, "F32", "0000C03F0000000000000000", 0x3FC00000 },
	/* signed: sign-extended */
	{ 100, "S12", "00F0FF0000000000", -1 },
};

static void test_raw_values(void **state)
{
	struct dbc *dbc = load_ok(source_path("tests/fixtures/dbc/unit.dbc"));
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++) {
		const struct raw_case *c = &raw_cases[i];
		const struct dbc_message *m = dbc_find_message(dbc, c->id, 0);
		const struct dbc_signal *s;
		uint8_t data[64];
		size_t len = unhex(c->data, data);
		int64_t raw = 0;

		assert_non_null(m);
		s = dbc_message_find_signal(m, c->sig);
		assert_non_null(s);
		assert_int_equal(dbc_signal_decode_raw(s, data, len, &raw), 0);
		if (raw != c->raw)
			fail_msg("%s: raw 0x%llx, want 0x%llx", c->sig,
				 (unsigned long long)raw,
				 (unsigned long long)c->raw);
	}
	dbc_free(dbc);
}

static void test_unit_metadata(void **state)
{
	struct dbc *dbc = load_ok(source_path("tests/fixtures/dbc/unit.dbc"));
	const struct dbc_message *m;
	const struct dbc_signal *s, *top, *sub;

	(void)state;
	assert_int_equal(dbc->n_msgs, 13);
	m = dbc_find_message_by_name(dbc, "Intel");
	assert_non_null(m);
	assert_ptr_equal(m, dbc_find_message(dbc, 100, false));
	assert_string_equal(m->comment, "Intel byte order message");
	assert_string_equal(m->transmitter, "ECU");
	assert_int_equal(m->size, 8);
	s = dbc_message_find_signal(m, "U8");
	/* multi-line comment with a semicolon and escaped quotes */
	assert_string_equal(s->comment, "first line; still the comment\n"
					"second line with \"quotes\"");
	s = dbc_message_find_signal(m, "S12");
	assert_string_equal(s->unit, "Nm");
	assert_true(s->is_signed);
	assert_true(s->little_endian);
	assert_int_equal(s->start, 12);
	assert_int_equal(s->length, 12);
	assert_true(s->factor == 0.5);
	assert_true(s->offset == -10);
	assert_true(s->min == -1034);
	assert_true(s->max == 1013.5);
	assert_string_equal(dbc_signal_value_name(s, -1), "minus one");
	assert_string_equal(dbc_signal_value_name(s, 0), "zero");
	assert_null(dbc_signal_value_name(s, 1));
	assert_null(s->comment);

	/* VAL_ describing a value twice: the later text wins */
	m = dbc_find_message(dbc, 300, false);
	s = dbc_message_find_signal(m, "Mux");
	assert_string_equal(dbc_signal_value_name(s, 1),
			    "A follows (last wins)");
	assert_string_equal(dbc_signal_value_name(s, 2), "B follows");
	assert_string_equal(dbc_value_table_lookup(dbc, "OnOff", 1), "On");
	assert_null(dbc_value_table_lookup(dbc, "OnOff", 2));
	assert_null(dbc_value_table_lookup(dbc, "Nope", 0));

	/* float types */
	m = dbc_find_message(dbc, 106, false);
	assert_int_equal(dbc_message_find_signal(m, "F32")->type,
			 DBC_VALUE_FLOAT32);
	assert_int_equal(dbc_message_find_signal(m, "F64")->type,
			 DBC_VALUE_FLOAT64);
	assert_false(dbc_message_find_signal(dbc_find_message(dbc, 101, false),
					     "M16")
			     ->little_endian);

	/* long names (BA_ SystemMessageLongSymbol / SystemSignalLongSymbol) */
	m = dbc_find_message(dbc, 108, false);
	assert_string_equal(dbc_message_name(m),
			    "ShortMessageWithAVeryLongNameIndeed");
	assert_non_null(dbc_message_find_signal(
		m, "signal_with_a_name_longer_than_32_chars"));

	/* the multiplexing tree */
	m = dbc_find_message(dbc, 301, false);
	top = dbc_message_find_signal(m, "Top");
	sub = dbc_message_find_signal(m, "Sub");
	assert_true(top->is_multiplexor);
	assert_null(top->parent);
	assert_true(sub->is_multiplexor);
	assert_ptr_equal(sub->parent, top);
	s = dbc_message_find_signal(m, "Leaf1");
	assert_ptr_equal(s->parent, sub);
	assert_int_equal(s->n_ranges, 2);
	assert_int_equal(s->ranges[1].lo, 5);
	assert_int_equal(s->ranges[1].hi, 7);
	s = dbc_message_find_signal(dbc_find_message(dbc, 300, false), "B");
	assert_int_equal(s->n_ranges, 1);
	assert_int_equal(s->ranges[0].lo, 2);
	assert_int_equal(s->ranges[0].hi, 2);
	dbc_free(dbc);
}

static void test_message_decode(void **state)
{
	struct dbc *dbc = load_ok(source_path("tests/fixtures/dbc/unit.dbc"));
	const struct dbc_message *m = dbc_find_message(dbc, 300, false);
	uint8_t data[8] = { 0x02, 0x10, 0x27, 0, 0, 0, 0, 0x09 };
	double v[4];
	bool present[4];

	(void)state;
	/* Mux = 2: Mux, B and Always, not A */
	assert_int_equal(dbc_message_decode(m, data, 8, v, present), 3);
	assert_true(present[0] && !present[1] && present[2] && present[3]);
	assert_true(v[0] == 2 && v[2] == 1000 && v[3] == 9);
	dbc_free(dbc);
}

static void test_lookup(void **state)
{
	struct dbc *dbc = load_ok(source_path("tests/fixtures/dbc/unit.dbc"));
	size_t i;

	(void)state;
	assert_string_equal(dbc_message_name(dbc_find_message(dbc, 200, 0)),
			    "Std200");
	assert_string_equal(dbc_message_name(dbc_find_message(dbc, 200, 1)),
			    "Ext200");
	assert_true(dbc_message_extended(dbc_find_message(dbc, 200, 1)));
	assert_int_equal(dbc_message_id(dbc_find_message(dbc, 0x18FEF1E5, 1)),
			 0x18FEF1E5);
	assert_null(dbc_find_message(dbc, 100, true));
	assert_null(dbc_find_message(dbc, 0x18FEF1E5, false));
	assert_null(dbc_find_message(dbc, 0x7FF, false));
	assert_null(dbc_find_message(dbc, 0x800, false));
	assert_null(dbc_find_message(dbc, 0xFFFFFFFF, false));
	assert_null(dbc_find_message(dbc, 0x1FFFFFFF, true));
	assert_null(dbc_find_message_by_name(dbc, "Nope"));
	dbc_free(dbc);

	/* every message of big DBCs is found by its own ID, and only it */
	const char *big[] = { "data/dbc/bmw_e9x_e8x.dbc",
			      "data/dbc-conformance/vehicle.dbc",
			      "data/dbc-conformance/abs.dbc",
			      "data/dbc-conformance/j1939.dbc" };
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		size_t j;

		dbc = load_ok(shared_path(big[i]));
		for (j = 0; j < dbc->n_msgs; j++) {
			const struct dbc_message *m = &dbc->msgs[j];

			assert_ptr_equal(
				dbc_find_message(dbc, dbc_message_id(m),
						 dbc_message_extended(m)),
				m);
			assert_ptr_equal(dbc_find_message_by_name(
						 dbc, dbc_message_name(m)),
					 m);
		}
		dbc_free(dbc);
	}
}

struct bmw_case {
	uint32_t id;
	const char *sig;
	const char *data;
	double value;
};

/*
 * Real frames from ../shared/data/real/bmw-e92-ptcan (log file, time),
 * decoded by hand from bmw_e9x_e8x.dbc.
 */
static const struct bmw_case bmw_cases[] = {
	/* AccPedal.EngineSpeed 32|16@1+ (0.25,0): bytes 4,5 little endian
	 * engstart_idle1k 13.592911: 0x11F4 = 4596 * 0.25 */
	{ 0x0AA, "EngineSpeed", "43860000F411808B", 1149 },
	/* 9.593186 (cranking): 0x0744 = 1860 * 0.25 */
	{ 0x0AA, "EngineSpeed", "460B0000440784C0", 465 },
	/* 11.592846: 0x1054 = 4180 * 0.25 */
	{ 0x0AA, "EngineSpeed", "13F1000054108091", 1045 },
	/* EngineData (11.593305) TEMP_ENG 0|8 (1,-48): 0x3C = 60 - 48 */
	{ 0x1D0, "TEMP_ENG", "3C3C2DC6A90F8DE6", 12 },
	/* TEMP_EOI 8|8 (1,-48): 0x3C */
	{ 0x1D0, "TEMP_EOI", "3C3C2DC6A90F8DE6", 12 },
	/* ST_ENG_RUN 20|2@1+: bits 4,5 of byte 2 (0x2D): 2 = running */
	{ 0x1D0, "ST_ENG_RUN", "3C3C2DC6A90F8DE6", 2 },
	/* 7.893254: byte 2 0x19 -> 1 (starting); TEMP_ENG 0x3C */
	{ 0x1D0, "ST_ENG_RUN", "3C0819C600000DAE", 1 },
	/* 31.593191: TEMP_ENG 0x3E = 62 - 48 */
	{ 0x1D0, "TEMP_ENG", "3E3C28C605598DDB", 14 },
	/* TerminalStatus.ST_KL_15 3|2@0+: Motorola, MSB bit 3 and LSB bit 2
	 * of byte 0: (byte0 >> 2) & 3; 9.715830 byte0 0x45 -> 1 */
	{ 0x130, "ST_KL_15", "4540619F75", 1 },
	/* 1.670790 byte0 0x41 -> 0 */
	{ 0x130, "ST_KL_15", "4140210FAA", 0 },
	/* PowerBatteryVoltage.BatteryVoltage 0|12@1+ (0.015,0):
	 * 33.993608: 0x3CC = 972 * 0.015 */
	{ 0x3B4, "BatteryVoltage", "CCF309FCFFFFFFFF", 14.58 },
	/* 4.493295: 0x31B = 795 * 0.015 */
	{ 0x3B4, "BatteryVoltage", "1BF309FCFFFFFFFF", 11.925 },
	/* Torque2.TORQ_AVL_MAX 28|12@1- (0.5,0): byte 3's high nibble,
	 * then byte 4: 1.602591 0x8 | 0x0C << 4 = 200 * 0.5 */
	{ 0x0A9, "TORQ_AVL_MAX", "64078F8F0C8FFFF8", 100 },
	/* 9.592942: 0x5 | 0x11 << 4 = 0x115 = 277 * 0.5 */
	{ 0x0A9, "TORQ_AVL_MAX", "C70B9F5F11E4100E", 138.5 },
};

static void test_bmw_reference(void **state)
{
	struct dbc *dbc = load_ok(shared_path("data/dbc/bmw_e9x_e8x.dbc"));
	size_t i;

	(void)state;
	assert_string_equal(dbc_message_name(dbc_find_message(dbc, 0xAA, 0)),
			    "AccPedal");
	for (i = 0; i < sizeof(bmw_cases) / sizeof(bmw_cases[0]); i++) {
		const struct bmw_case *c = &bmw_cases[i];
		const struct dbc_message *m =
			dbc_find_message(dbc, c->id, false);
		const struct dbc_signal *s;
		uint8_t data[8];
		size_t len = unhex(c->data, data);
		double v;

		assert_non_null(m);
		s = dbc_message_find_signal(m, c->sig);
		assert_non_null(s);
		assert_int_equal(dbc_signal_decode(s, data, len, &v), 0);
		if (fabs(v - c->value) > 1e-9 * fabs(c->value))
			fail_msg("0x%03X %s %s: %.17g, want %.17g", c->id,
				 c->sig, c->data, v, c->value);
	}
	dbc_free(dbc);
}

struct error_case {
	const char *file;
	unsigned line;
	const char *expect; /* part of the message after FILE:LINE: */
};

static const struct error_case error_cases[] = {
	{ "unterminated_string.dbc", 10, "expected a closing '\"'" },
	{ "missing_at.dbc", 8, "expected '@', got '1'" },
	{ "sg_before_bo.dbc", 7, "expected SG_ lines right after their BO_" },
	{ "duplicate_id.dbc", 10, "already used by M on line 7" },
	{ "motorola_overflow.dbc", 9,
	  "signal T (start bit 15, 9 bits, "
	  "Motorola) to fit in the 2 bytes" },
	{ "float_length.dbc", 10, "to be 32 bits long for SIG_VALTYPE_ 1" },
	{ "unknown_message.dbc", 11,
	  "VAL_: expected the ID of a message "
	  "defined by BO_, got 101" },
	{ "unknown_signal.dbc", 10,
	  "expected a signal of message M, got "
	  "'T'" },
	{ "mux_without_multiplexor.dbc", 8,
	  "expected exactly one "
	  "multiplexor (M)" },
	{ "mux_cycle.dbc", 8, "to form a tree, A is in a cycle" },
	{ "missing_semicolon.dbc", 11,
	  "expected ';' to end the BA_DEF_ "
	  "statement of line 10" },
	{ "stray_character.dbc", 8, "expected a DBC token, got '{'" },
	{ "too_long.dbc", 7, "(at most 64), got 65" },
	{ "zero_length.dbc", 8, "expected a signal length of 1..64 bits" },
	{ "duplicate_signal.dbc", 9, "got 'S' twice" },
	{ "bad_byte_order.dbc", 8, "byte order @0 (Motorola) or @1" },
	{ "unknown_keyword.dbc", 10, "expected a DBC keyword" },
};

/*
 * cantools' test files that are broken on purpose, rejected with the
 * line of the fault:
 * - bad_message_length.dbc: Signal1 starts at bit 8 of a 1-byte message
 *   (cantools' strict mode rejects it; canmatrix loads it but fails to
 *   decode it).
 * - issue_199.dbc: standard IDs like 274923520 without the extended flag
 *   (bit 31): more than 11 bits. canmatrix drops every such BO_.
 * - issue_199_extended.dbc: BO_ 4294967295: bit 31 set, but 31 ID bits.
 */
static const struct error_case conformance_rejects[] = {
	{ "bad_message_length.dbc", 40,
	  "expected signal Signal1 (start bit "
	  "8, 1 bits, Intel) to fit in the 1 "
	  "bytes of message Message1" },
	{ "issue_199.dbc", 45, "expected a standard ID of at most 11 bits" },
	{ "issue_199_extended.dbc", 45,
	  "expected an extended ID of at most "
	  "29 bits" },
};

static void check_error(char *path, const struct error_case *c)
{
	char err[512] = "", want[600];
	struct dbc *dbc = (struct dbc *)1;
	int r = dbc_load(&dbc, path, err, sizeof(err));

	assert_int_equal(r, -EINVAL);
	assert_null(dbc);
	snprintf(want, sizeof(want), "%s:%u: ", path, c->line);
	if (strncmp(err, want, strlen(want)) || !strstr(err, c->expect))
		fail_msg("%s: got \"%s\", want \"%s...%s\"", c->file, err, want,
			 c->expect);
	free(path);
}

static void test_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		char rel[256];

		snprintf(rel, sizeof(rel), "tests/fixtures/dbc/%s",
			 error_cases[i].file);
		check_error(source_path(rel), &error_cases[i]);
	}
	for (i = 0;
	     i < sizeof(conformance_rejects) / sizeof(conformance_rejects[0]);
	     i++) {
		char rel[256];

		snprintf(rel, sizeof(rel), "data/dbc-conformance/%s",
			 conformance_rejects[i].file);
		check_error(shared_path(rel), &conformance_rejects[i]);
	}
}

#define BIG_N 100000

/* A generated DBC in a temp file: BIG_N 1-bit signals in one message (bit
 * i % 512 for S<i>), BIG_N value descriptions of S0 from BIG_N - 1 down to 0
 * and then raw 7 again, and extra appended at the end. */
static char *write_big(const char *extra)
{
	char *path = strdup("/tmp/test_dbc_big.XXXXXX.dbc");
	int fd;
	FILE *f;

	assert_non_null(path);
	fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "VERSION \"\"\n\nBS_:\n\nBU_: ECU\n\nBO_ 256 Big: 64 ECU\n");
	for (int i = 0; i < BIG_N; i++)
		fprintf(f, " SG_ S%d : %d|1@1+ (1,0) [0|1] \"\" ECU\n", i,
			i % 512);
	fprintf(f, "\nVAL_ 256 S0");
	for (int i = BIG_N; i-- > 0;)
		fprintf(f, " %d \"v%d\"", i, i);
	fprintf(f, " 7 \"seven again\" ;\nCM_ SG_ 256 S%d \"the last\";\n%s",
		BIG_N - 1, extra);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* issue 14: 100,000 signals in one message load (this took 46 s) */
static void test_big_message(void **state)
{
	char *path = write_big(""), *dup;
	struct dbc *dbc;
	const struct dbc_message *m;
	uint8_t data[64];
	char name[16];
	int i;

	(void)state;
	dbc = load_ok(strdup(path));
	m = dbc_find_message(dbc, 256, false);
	assert_int_equal(dbc_message_n_signals(m), BIG_N);
	for (i = 0; i < 64; i++)
		data[i] = (uint8_t)(i * 37 + 11);
	for (i = 0; i < BIG_N; i += 997) {
		const struct dbc_signal *s;
		double v;

		snprintf(name, sizeof(name), "S%d", i);
		s = dbc_message_find_signal(m, name);
		assert_ptr_equal(s, dbc_message_signal_at(m, (size_t)i));
		assert_int_equal(dbc_signal_decode(s, data, 64, &v), 0);
		assert_true(v == ((data[i % 512 / 8] >> (i % 8)) & 1));
	}
	assert_string_equal(dbc_message_signal_at(m, BIG_N - 1)->comment,
			    "the last");
	/* descending VAL_ pairs: every one found, the repeated raw's last */
	for (i = 0; i < BIG_N; i++) {
		const char *v =
			dbc_signal_value_name(dbc_message_signal_at(m, 0), i);

		snprintf(name, sizeof(name), "v%d", i);
		assert_non_null(v);
		assert_string_equal(v, i == 7 ? "seven again" : name);
	}
	dbc_free(dbc);
	unlink(path);
	free(path);

	/* a duplicate name among them is still found, on its own line */
	path = write_big(
		"BO_ 257 Dup: 8 ECU\n SG_ S1 : 0|8@1+ (1,0) [0|0] \"\" ECU\n"
		" SG_ S1 : 8|8@1+ (1,0) [0|0] \"\" ECU\n");
	dup = strdup(path);
	check_error(dup,
		    &(struct error_case){ "big", BIG_N + 13,
					  "in message Dup, got 'S1' twice" });
	unlink(path);
	free(path);
}

static void test_missing_file(void **state)
{
	char err[256];
	struct dbc *dbc;

	(void)state;
	assert_int_equal(dbc_load(&dbc, "/nonexistent/x.dbc", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.dbc: "));
	dbc_free(NULL);
}

static bool is_rejected(const char *name)
{
	size_t i;

	for (i = 0;
	     i < sizeof(conformance_rejects) / sizeof(conformance_rejects[0]);
	     i++)
		if (!strcmp(name, conformance_rejects[i].file))
			return true;
	return false;
}

/* Every other shared DBC loads (odd but valid ones included). */
static void test_all_shared_load(void **state)
{
	const char *dirs[] = { "data/dbc", "data/dbc-conformance" };
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < 2; i++) {
		char *dir = shared_path(dirs[i]);
		DIR *d = opendir(dir);
		struct dirent *e;

		assert_non_null(d);
		while ((e = readdir(d))) {
			size_t l = strlen(e->d_name);
			char *p;

			if (l < 4 || strcmp(e->d_name + l - 4, ".dbc") ||
			    is_rejected(e->d_name))
				continue;
			assert_true(asprintf(&p, "%s/%s", dir, e->d_name) > 0);
			dbc_free(load_ok(p));
			n++;
		}
		closedir(d);
		free(dir);
	}
	/* 1 reference DBC + 79 of cantools' 82 */
	assert_int_equal(n, 80);
}

/* Odd corners of cantools' files, each checked by hand. */
static void test_conformance_details(void **state)
{
	struct dbc *dbc;
	const struct dbc_message *m;
	const struct dbc_signal *s;
	uint8_t data[64] = { 0 };
	double v;

	(void)state;
	/* cp1252/latin-1 units are kept as bytes: 0xB0 is the degree sign */
	dbc = load_ok(shared_path("data/dbc-conformance/abs.dbc"));
	m = dbc_find_message(dbc, 112, false);
	s = dbc_message_find_signal(m, "Yaw_Rate");
	assert_non_null(s);
	assert_string_equal(s->unit, "\xB0/s");
	dbc_free(dbc);

	/* VECTOR__INDEPENDENT_SIG_MSG is a container, not a frame */
	dbc = load_ok(shared_path("data/dbc-conformance/issue_62.dbc"));
	assert_int_equal(dbc->n_msgs, 0);
	dbc_free(dbc);

	/* CAN FD: foobar.dbc's CanFd has 64 bytes, Fas 64|64@1+ is bytes
	 * 8..15 little endian; a 8-byte frame is too short for it */
	dbc = load_ok(shared_path("data/dbc-conformance/foobar.dbc"));
	m = dbc_find_message_by_name(dbc, "CanFd");
	assert_int_equal(m->size, 64);
	s = dbc_message_find_signal(m, "Fas");
	data[8] = 0x34;
	data[9] = 0x12;
	assert_int_equal(dbc_signal_decode(s, data, 64, &v), 0);
	assert_true(v == 0x1234);
	assert_int_equal(dbc_signal_decode(s, data, 8, &v), -EMSGSIZE);
	memset(data, 0, sizeof(data));
	dbc_free(dbc);

	/* long names: the 32-char short name is replaced */
	dbc = load_ok(shared_path("data/dbc-conformance/issue_784.dbc"));
	m = dbc_find_message(dbc, 82, false);
	assert_string_equal(dbc_message_name(m),
			    "Message_1_12345678901234567890123456789012");
	assert_non_null(dbc_message_find_signal(
		m, "signal_1_12345678901234567890123456789013"));
	dbc_free(dbc);

	/* 0-byte message, no signals */
	dbc = load_ok(shared_path("data/dbc-conformance/message-dlc-zero.dbc"));
	m = dbc_find_message(dbc, 1024, false);
	assert_int_equal(m->size, 0);
	assert_int_equal(dbc_message_n_signals(m), 0);
	dbc_free(dbc);

	/* 64-bit Motorola L 7|64@0+: bytes in order, 0x0102030405060708 */
	dbc = load_ok(
		shared_path("data/dbc-conformance/padding_bit_order.dbc"));
	m = dbc_find_message_by_name(dbc, "MSG3");
	s = dbc_message_find_signal(m, "L");
	for (int i = 0; i < 8; i++)
		data[i] = (uint8_t)(i + 1);
	assert_int_equal(dbc_signal_decode(s, data, 8, &v), 0);
	assert_true(v == (double)0x0102030405060708ull);
	dbc_free(dbc);
}

struct encode_case {
	uint32_t id;
	const char *sig;
	double value;
	int rc;
};

static const struct encode_case encode_cases[] = {
	{ 100, "S12", 679.5, 0 },
	{ 100, "S12", -1034, 0 },
	{ 100, "S12", 1013.5, 0 },
	{ 100, "S12", 1014, -ERANGE },
	{ 100, "S12", -1034.5, -ERANGE },
	{ 101, "M12S", -2048, 0 },
	{ 101, "M12S", 2047, 0 },
	{ 101, "M16", 65535, 0 },
	{ 101, "M16", -1, -ERANGE },
	{ 105, "M64at3", 12345, 0 },
	{ 105, "I64at4", 1e18, 0 },
	{ 106, "F64", -2.25, 0 },
	{ 107, "F32Scaled", 2.5, 0 },
	{ 107, "F32BE", 1.5, 0 },
	{ 300, "B", 1000, 0 },
	{ 100, "U8", NAN, -EDOM },
};

/* encode then decode gives the value back; other bits are kept */
static void test_encode(void **state)
{
	struct dbc *dbc = load_ok(source_path("tests/fixtures/dbc/unit.dbc"));
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(encode_cases) / sizeof(encode_cases[0]); i++) {
		const struct encode_case *c = &encode_cases[i];
		const struct dbc_message *m = dbc_find_message(dbc, c->id, 0);
		const struct dbc_signal *s = dbc_message_find_signal(m, c->sig);
		uint8_t data[64], before[64];
		double v;
		size_t j, len = m->size;

		memset(data, 0xA5, sizeof(data));
		memcpy(before, data, sizeof(data));
		assert_int_equal(dbc_signal_encode(s, c->value, data, len),
				 c->rc);
		if (c->rc < 0) {
			assert_memory_equal(data, before, sizeof(data));
			continue;
		}
		if (!strcmp(c->sig, "B"))
			data[0] = 2; /* select B */
		assert_int_equal(dbc_signal_decode(s, data, len, &v), 0);
		if (v != c->value)
			fail_msg("%s: encoded %.17g, decoded %.17g", c->sig,
				 c->value, v);
		/* a signal elsewhere in the frame is untouched */
		for (j = 0; j < dbc_message_n_signals(m); j++) {
			const struct dbc_signal *o =
				dbc_message_signal_at(m, j);

			if (o != s && !strcmp(c->sig, "M16") &&
			    !strcmp(dbc_signal_name(o), "M12S")) {
				double ov;

				assert_int_equal(
					dbc_signal_decode(o, data, len, &ov),
					0);
				/* 0x5A5 from the 0xA5 fill, signed 12 bits */
				assert_true(ov == (double)(0x5A5));
			}
		}
	}
	assert_int_equal(
		dbc_signal_encode(dbc_message_find_signal(
					  dbc_find_message(dbc, 100, 0), "S12"),
				  0, (uint8_t[2]){ 0 }, 2),
		-EMSGSIZE);
	dbc_free(dbc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_decodes),
		cmocka_unit_test(test_raw_values),
		cmocka_unit_test(test_unit_metadata),
		cmocka_unit_test(test_message_decode),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_bmw_reference),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_big_message),
		cmocka_unit_test(test_all_shared_load),
		cmocka_unit_test(test_conformance_details),
		cmocka_unit_test(test_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
