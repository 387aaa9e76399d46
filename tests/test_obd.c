/* test_obd.c: J1979 answers with values computed by hand from the formulas */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_hex.h"

#include "isotp.h"
#include "obd.h"

#define MAX_EV 16

/* One callback as the test saw it */
struct ev {
	char kind; /* 'p' pid, 'd' dtc list, 'm' monitor, 'n' negative */
	uint8_t a, b, c;
	double v, min, max;
	char codes[128];
};

struct evlog {
	size_t n;
	struct ev ev[MAX_EV];
};

static struct ev *ev_new(struct evlog *l, char kind)
{
	struct ev *e;

	assert_true(l->n < MAX_EV);
	e = &l->ev[l->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

static void on_pid(void *userdata, uint8_t pid, unsigned field, double value)
{
	struct ev *e = ev_new(userdata, 'p');

	e->a = pid;
	e->b = (uint8_t)field;
	e->v = value;
}

static void on_dtcs(void *userdata, uint8_t service, const uint16_t *codes,
		    size_t n)
{
	struct ev *e = ev_new(userdata, 'd');

	e->a = service;
	e->b = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		char buf[6];

		obd_dtc_format(codes[i], buf);
		if (i)
			strcat(e->codes, " ");
		strcat(e->codes, buf);
	}
}

static void on_monitor(void *userdata, uint8_t mid, uint8_t tid, uint8_t uasid,
		       double value, double min, double max)
{
	struct ev *e = ev_new(userdata, 'm');

	e->a = mid;
	e->b = tid;
	e->c = uasid;
	e->v = value;
	e->min = min;
	e->max = max;
}

static void on_negative(void *userdata, uint8_t service, uint8_t nrc)
{
	struct ev *e = ev_new(userdata, 'n');

	e->a = service;
	e->b = nrc;
}

static const struct obd_ops ops = {
	.pid_value = on_pid,
	.dtc_list = on_dtcs,
	.monitor = on_monitor,
	.negative = on_negative,
};

static void decode(const char *hex, int want_ret, struct evlog *l)
{
	uint8_t msg[256];
	size_t n = from_hex(hex, msg, sizeof(msg));

	memset(l, 0, sizeof(*l));
	print_message("answer: %s\n", hex);
	assert_int_equal(obd_decode(msg, n, &ops, l), want_ret);
}

/* Service 01: field by name, value by hand */
struct want_pid {
	uint8_t pid;
	const char *field;
	double value;
};

static const struct {
	const char *hex;
	struct want_pid want[6];
} pid_cases[] = {
	/* 01: A bit 7 MIL, bits 0-6 count (the E90's 7E8 and 7EC) */
	{ "41 01 83 07 E1 00",
	  { { 0x01, "mil_on", 1 }, { 0x01, "dtc_count", 3 } } },
	{ "41 01 00 04 00 00",
	  { { 0x01, "mil_on", 0 }, { 0x01, "dtc_count", 0 } } },
	{ "41 01 FF 00 00 00",
	  { { 0x01, "mil_on", 1 }, { 0x01, "dtc_count", 127 } } },
	{ "41 01 7F 00 00 00",
	  { { 0x01, "mil_on", 0 }, { 0x01, "dtc_count", 127 } } },
	/* 04: 100 A / 255 % */
	{ "41 04 4B", { { 0x04, "value", 7500.0 / 255 } } },
	{ "41 04 FF", { { 0x04, "value", 100 } } },
	/* 05: A - 40 °C */
	{ "41 05 8C", { { 0x05, "value", 100 } } },
	{ "41 05 00", { { 0x05, "value", -40 } } },
	{ "41 05 FF", { { 0x05, "value", 215 } } },
	/* 06, 07: (A - 128) * 100 / 128 % */
	{ "41 06 80", { { 0x06, "value", 0 } } },
	{ "41 06 00", { { 0x06, "value", -100 } } },
	{ "41 06 FF", { { 0x06, "value", 99.21875 } } },
	{ "41 07 7F", { { 0x07, "value", -0.78125 } } },
	/* 0C: (256 A + B) / 4 rpm */
	{ "41 0C 0D 42", { { 0x0C, "value", 848.5 } } },
	{ "41 0C 00 00", { { 0x0C, "value", 0 } } },
	{ "41 0C FF FF", { { 0x0C, "value", 16383.75 } } },
	/* 0D: A km/h */
	{ "41 0D 00", { { 0x0D, "value", 0 } } },
	{ "41 0D FF", { { 0x0D, "value", 255 } } },
	/* 0F: A - 40 °C */
	{ "41 0F 5B", { { 0x0F, "value", 51 } } },
	/* 11: 100 A / 255 % */
	{ "41 11 1F", { { 0x11, "value", 3100.0 / 255 } } },
	{ "41 11 00", { { 0x11, "value", 0 } } },
	/* 1F: 256 A + B s */
	{ "41 1F 02 1C", { { 0x1F, "value", 540 } } },
	{ "41 1F FF FF", { { 0x1F, "value", 65535 } } },
	/* 2C: 100 A / 255 % */
	{ "41 2C 80", { { 0x2C, "value", 12800.0 / 255 } } },
	{ "41 2C FF", { { 0x2C, "value", 100 } } },
	{ "41 2C 00", { { 0x2C, "value", 0 } } },
	/* 2F: 100 A / 255 % */
	{ "41 2F 0C", { { 0x2F, "value", 1200.0 / 255 } } },
	/* 33: A kPa */
	{ "41 33 64", { { 0x33, "value", 100 } } },
	/* 42: (256 A + B) / 1000 V */
	{ "41 42 37 DC", { { 0x42, "value", 14.3 } } },
	{ "41 42 35 9E", { { 0x42, "value", 13.726 } } },
	{ "41 42 FF FF", { { 0x42, "value", 65.535 } } },
	/* 46, 5C: A - 40 °C */
	{ "41 46 28", { { 0x46, "value", 0 } } },
	{ "41 46 00", { { 0x46, "value", -40 } } },
	{ "41 5C 6E", { { 0x5C, "value", 70 } } },
	{ "41 5C FF", { { 0x5C, "value", 215 } } },
	/* 6B: A sensors present, B..E temperatures A - 40 °C */
	{ "41 6B 01 6E 00 00 00",
	  { { 0x6B, "sensors_present", 1 }, { 0x6B, "egr_temp_b1s1", 70 } } },
	{ "41 6B 0F 28 50 FF 00",
	  { { 0x6B, "sensors_present", 15 },
	    { 0x6B, "egr_temp_b1s1", 0 },
	    { 0x6B, "egr_temp_b1s2", 40 },
	    { 0x6B, "egr_temp_b2s1", 215 },
	    { 0x6B, "egr_temp_b2s2", -40 } } },
	{ "41 6B 00 6E 6E 6E 6E", { { 0x6B, "sensors_present", 0 } } },
	/* several PIDs in one answer (a multi-PID request) */
	{ "41 0C 0D 42 0D 00 05 8C",
	  { { 0x0C, "value", 848.5 },
	    { 0x0D, "value", 0 },
	    { 0x05, "value", 100 } } },
	{ "41 01 83 07 E1 00 6B 01 6E 00 00 00 42 37 DC",
	  { { 0x01, "mil_on", 1 },
	    { 0x01, "dtc_count", 3 },
	    { 0x6B, "sensors_present", 1 },
	    { 0x6B, "egr_temp_b1s1", 70 },
	    { 0x42, "value", 14.3 } } },
	/* 03 (fuel system status, 2 bytes) is not decoded but skipped */
	{ "41 03 02 00 05 8C", { { 0x05, "value", 100 } } },
	{ "41 00 BE 3F A8 13 0D 12", { { 0x0D, "value", 18 } } },
	/* a PID of unknown length takes the rest: nothing of it reported */
	{ "41 05 8C 9F 01 02", { { 0x05, "value", 100 } } },
	{ "41 9F 05 8C", { { 0 } } },
};

static void test_pids(void **state)
{
	struct evlog l;

	(void)state;
	for (size_t c = 0; c < sizeof(pid_cases) / sizeof(pid_cases[0]); c++) {
		size_t nwant = 0;

		decode(pid_cases[c].hex, 0, &l);
		while (nwant < 6 && pid_cases[c].want[nwant].field)
			nwant++;
		assert_int_equal(l.n, nwant);
		for (size_t i = 0; i < nwant; i++) {
			const struct want_pid *w = &pid_cases[c].want[i];
			int field = obd_pid_field(w->pid, w->field);

			assert_true(field >= 0);
			assert_int_equal(l.ev[i].kind, 'p');
			assert_int_equal(l.ev[i].a, w->pid);
			assert_int_equal(l.ev[i].b, field);
			assert_near(l.ev[i].v, w->value);
		}
	}
}

static void test_pid_fields(void **state)
{
	static const struct {
		uint8_t pid;
		const char *name;
		int want;
	} cases[] = {
		{ 0x01, "mil_on", 0 },
		{ 0x01, "dtc_count", 1 },
		{ 0x01, "value", -1 },
		{ 0x0C, "value", 0 },
		{ 0x0C, "mil_on", -1 },
		{ 0x6B, "sensors_present", 0 },
		{ 0x6B, "egr_temp_b1s1", 1 },
		{ 0x6B, "egr_temp_b2s2", 4 },
		{ 0x6B, "value", -1 },
		{ 0x03, "value", -1 },
		{ 0x9F, "value", -1 },
		{ 0x05, "", -1 },
		/* no name: a profile line with a PID alone (was a crash) */
		{ 0x01, NULL, -1 },
		{ 0x6B, NULL, -1 },
		{ 0x0C, NULL, -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(obd_pid_field(cases[i].pid, cases[i].name),
				 cases[i].want);
}

static void test_dtc_format(void **state)
{
	static const struct {
		uint16_t code;
		const char *want;
	} cases[] = {
		{ 0x0301, "P0301" }, { 0x0000, "P0000" }, { 0x1D01, "P1D01" },
		{ 0x2600, "P2600" }, { 0x3FFF, "P3FFF" }, { 0x4300, "C0300" },
		{ 0x5ABC, "C1ABC" }, { 0x9234, "B1234" }, { 0xBFFF, "B3FFF" },
		{ 0xC123, "U0123" }, { 0xD001, "U1001" }, { 0xFFFF, "U3FFF" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[6];

		memset(buf, 'x', sizeof(buf));
		obd_dtc_format(cases[i].code, buf);
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_dtc_lists(void **state)
{
	static const struct {
		const char *hex;
		uint8_t service;
		unsigned n;
		const char *codes;
	} cases[] = {
		{ "43 00", 0x03, 0, "" },
		{ "43 01 03 01", 0x03, 1, "P0301" },
		{ "43 03 01 33 43 00 C1 23", 0x03, 3, "P0133 C0300 U0123" },
		{ "47 01 03 02", 0x07, 1, "P0302" },
		{ "47 00", 0x07, 0, "" },
		{ "4A 02 1D 01 26 00", 0x0A, 2, "P1D01 P2600" },
	};
	struct evlog l;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		decode(cases[i].hex, 0, &l);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.ev[0].kind, 'd');
		assert_int_equal(l.ev[0].a, cases[i].service);
		assert_int_equal(l.ev[0].b, cases[i].n);
		assert_string_equal(l.ev[0].codes, cases[i].codes);
	}
}

static void test_monitors(void **state)
{
	static const struct {
		const char *hex;
		struct {
			uint8_t mid, tid, uasid;
			double v, min, max;
		} want[3];
		size_t n;
	} cases[] = {
		/* misfire cylinder 1, TID 0C, counts */
		{ "46 A2 0C 24 00 05 00 00 FF FF",
		  { { 0xA2, 0x0C, 0x24, 5, 0, 65535 } },
		  1 },
		/* several records; cylinder 3 with 17 misfires */
		{ "46 A2 0B 24 00 10 00 00 FF FF A2 0C 24 00 00 00 00 FF FF"
		  " A4 0C 24 00 11 00 00 01 F4",
		  { { 0xA2, 0x0B, 0x24, 16, 0, 65535 },
		    { 0xA2, 0x0C, 0x24, 0, 0, 65535 },
		    { 0xA4, 0x0C, 0x24, 17, 0, 500 } },
		  3 },
		/* cylinder 12 */
		{ "46 AD 0C 24 01 00 00 00 00 0A",
		  { { 0xAD, 0x0C, 0x24, 256, 0, 10 } },
		  1 },
		/* signed 0.1 °C; unsigned 0.1 °C - 40 */
		{ "46 01 01 96 FF 9C 00 00 03 E8 21 80 16 06 40 00 00 FF FF",
		  { { 0x01, 0x01, 0x96, -10, 0, 100 },
		    { 0x21, 0x80, 0x16, 120, -40, 6513.5 } },
		  2 },
		/* 0.001 V; a supported-MIDs record is skipped */
		{ "46 00 C0 00 00 01 01 85 0B 02 BC 01 F4 03 84",
		  { { 0x01, 0x85, 0x0B, 0.7, 0.5, 0.9 } },
		  1 },
		/* an unknown UASID gives the raw number */
		{ "46 A2 0C 42 00 07 00 01 00 02",
		  { { 0xA2, 0x0C, 0x42, 7, 1, 2 } },
		  1 },
		/* supported MIDs only */
		{ "46 A0 FF FC 00 00", { { 0 } }, 0 },
	};
	struct evlog l;

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		decode(cases[c].hex, 0, &l);
		assert_int_equal(l.n, cases[c].n);
		for (size_t i = 0; i < cases[c].n; i++) {
			assert_int_equal(l.ev[i].kind, 'm');
			assert_int_equal(l.ev[i].a, cases[c].want[i].mid);
			assert_int_equal(l.ev[i].b, cases[c].want[i].tid);
			assert_int_equal(l.ev[i].c, cases[c].want[i].uasid);
			assert_near(l.ev[i].v, cases[c].want[i].v);
			assert_near(l.ev[i].min, cases[c].want[i].min);
			assert_near(l.ev[i].max, cases[c].want[i].max);
		}
	}
}

static void test_negative(void **state)
{
	static const struct {
		const char *hex;
		uint8_t service, nrc;
	} cases[] = {
		{ "7F 01 12", 0x01, 0x12 },
		{ "7F 06 31", 0x06, 0x31 },
		{ "7F 03 78", 0x03, 0x78 },
	};
	struct evlog l;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		decode(cases[i].hex, 0, &l);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.ev[0].kind, 'n');
		assert_int_equal(l.ev[0].a, cases[i].service);
		assert_int_equal(l.ev[0].b, cases[i].nrc);
	}
}

/* Short or malformed answers: an error and nothing reported, ever */
static void test_malformed(void **state)
{
	static const struct {
		const char *hex;
		int ret;
	} cases[] = {
		{ "", -EBADMSG },
		{ "41", -EBADMSG },
		{ "41 0C 0D", -EBADMSG },
		{ "41 01 83 07 E1", -EBADMSG },
		{ "41 0C 0D 42 05", -EBADMSG }, /* second PID cut off */
		{ "41 05 8C 6B 01 6E 00", -EBADMSG },
		{ "43", -EBADMSG },
		{ "43 02 01 33", -EBADMSG }, /* count says 2, one code */
		{ "43 01 01 33 02", -EBADMSG },
		{ "43 00 00", -EBADMSG },
		{ "47 03 01 33 02 00", -EBADMSG },
		{ "46", -EBADMSG },
		{ "46 A2 0C 24 00 01 00 00 00", -EBADMSG },
		{ "46 A2 0C 24 00 05 00 00 00 FF A3", -EBADMSG },
		{ "46 00 FF FF", -EBADMSG },
		{ "7F", -EBADMSG },
		{ "7F 01", -EBADMSG },
		{ "7F 01 12 00", -EBADMSG },
		/* not answers this decodes */
		{ "01 0C", -EOPNOTSUPP },
		{ "49 02 01 57 42 41", -EOPNOTSUPP },
		{ "62 F1 90 57", -EOPNOTSUPP },
	};
	struct evlog l;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		decode(cases[i].hex, cases[i].ret, &l);
		assert_int_equal(l.n, 0);
	}
	/* no callbacks at all is fine */
	assert_int_equal(
		obd_decode((const uint8_t *)"\x41\x05\x8c", 3, NULL, NULL), 0);
}

struct e90 {
	unsigned answers, pid01;
	struct evlog l;
	unsigned mil[8], count[8];
};

static void on_e90_message(void *userdata, const struct isotp_message *m)
{
	struct e90 *e = userdata;

	if (!m->response)
		return;
	e->answers++;
	e->l.n = 0;
	assert_int_equal(obd_decode(m->data, m->len, &ops, &e->l), 0);
	if (m->data[1] == 0x01) {
		assert_int_equal(e->l.n, 2);
		e->mil[m->ecu] = (unsigned)e->l.ev[0].v;
		e->count[m->ecu] = (unsigned)e->l.ev[1].v;
		e->pid01++;
	}
}

/*
 * The real E90 polling: every answer decodes; 7E8 answers PID 01 with
 * 06 41 01 83 07 E1 00 (MIL on, 3 codes), 7EC with 41 01 00 04 00 00.
 */
static void test_real_e90(void **state)
{
	const char *shared = getenv("DTCD_SHARED");
	char path[4096], line[256];
	struct e90 e = { 0 };
	struct isotp *tp = NULL;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path),
		 "%s/data/real/bmw-e90-obd/obd_1759077512.head16k.candump.log",
		 shared ? shared : ".");
	fp = fopen(path, "r");
	if (!fp) {
		print_message("%s: not found, skipping\n", path);
		skip();
		return;
	}
	assert_int_equal(isotp_new(&tp, 1000000000LL, on_e90_message, &e), 0);
	while (fgets(line, sizeof(line), fp)) {
		struct frame f = { 0 };
		unsigned sec, usec, id;
		char data[40];

		if (sscanf(line, "(%u.%u) %*s %x#%39s", &sec, &usec, &id,
			   data) != 4)
			continue;
		f.ts_ns = sec * 1000000000LL + usec * 1000LL;
		f.id = id;
		f.len = (uint8_t)from_hex(data, f.data, 8);
		isotp_feed(tp, &f);
	}
	fclose(fp);
	isotp_free(tp);
	assert_int_equal(e.answers, 160 + 61); /* every 7E8 and 7EC frame */
	assert_true(e.pid01 > 0);
	assert_int_equal(e.mil[0], 1);
	assert_int_equal(e.count[0], 3);
	assert_int_equal(e.mil[4], 0);
	assert_int_equal(e.count[4], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pids),
		cmocka_unit_test(test_pid_fields),
		cmocka_unit_test(test_dtc_format),
		cmocka_unit_test(test_dtc_lists),
		cmocka_unit_test(test_monitors),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_real_e90),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
