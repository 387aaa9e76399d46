/* test_isotp.c: passive ISO-TP reassembly, table-driven and on real logs */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isotp.h"
#include "macro.h"

#define MAX_KEPT 64
#define SECOND 1000000000LL

struct rec_msg {
	int64_t ts_ns;
	uint32_t can_id;
	bool ext, response;
	uint8_t ecu, tester;
	size_t len;
	uint8_t data[ISOTP_MAX_MESSAGE];
};

struct recorder {
	size_t n;
	unsigned per_id[0x800];
	struct rec_msg msgs[MAX_KEPT];
};

static void record(void *userdata, const struct isotp_message *m)
{
	struct recorder *r = userdata;

	if (m->can_id < 0x800)
		r->per_id[m->can_id]++;
	if (r->n < MAX_KEPT) {
		struct rec_msg *k = &r->msgs[r->n];

		k->ts_ns = m->ts_ns;
		k->can_id = m->can_id;
		k->ext = m->extended_addr;
		k->response = m->response;
		k->ecu = m->ecu;
		k->tester = m->tester;
		k->len = m->len;
		assert_true(m->len <= ISOTP_MAX_MESSAGE);
		memcpy(k->data, m->data, m->len);
	}
	r->n++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "0102AA" -> bytes; returns the count or -1 */
static int parse_hex(const char *s, size_t n, uint8_t *out, size_t max)
{
	size_t len = 0;

	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0 || len == max)
			return -1;
		out[len++] = (uint8_t)(hi << 4 | lo);
	}
	return (int)len;
}

/*
 * A minimal reader of "SECONDS ID#DATA" (the table's own lines) and of
 * candump's "(SECONDS) IFACE ID#DATA", "ID##FDATA" and "ID#R" forms: only
 * what this test needs, not the project's log reader.
 */
static int parse_frame(const char *line, struct frame *f)
{
	char ts[32], tok[160];
	const char *hash, *d;
	long long sec = 0, frac = 0;
	int digits = 0, n;

	memset(f, 0, sizeof(*f));
	if (line[0] == '(') {
		if (sscanf(line, "(%31[0-9.]) %*s %159s", ts, tok) != 2)
			return -1;
	} else if (sscanf(line, "%31[0-9.] %159s", ts, tok) != 2) {
		return -1;
	}
	for (const char *p = ts; *p; p++) {
		if (*p == '.') {
			digits = 1;
			continue;
		}
		if (digits) {
			if (digits++ <= 9)
				frac = frac * 10 + (*p - '0');
		} else {
			sec = sec * 10 + (*p - '0');
		}
	}
	for (; digits > 0 && digits <= 9; digits++)
		frac *= 10;
	f->ts_ns = sec * SECOND + frac;
	hash = strchr(tok, '#');
	if (!hash)
		return -1;
	if (hash - tok == 8)
		f->flags |= FRAME_EFF;
	f->id = (uint32_t)strtoul(tok, NULL, 16);
	d = hash + 1;
	if (*d == 'R') {
		f->flags |= FRAME_RTR;
		return 0;
	}
	if (*d == '#') {
		f->flags |= FRAME_FD;
		d += 2; /* the flags nibble */
	}
	n = parse_hex(d, strlen(d), f->data, FRAME_MAX_DATA);
	if (n < 0)
		return -1;
	f->len = (uint8_t)n;
	return 0;
}

static void feed_line(struct isotp *tp, const char *line)
{
	bool want = true;
	struct frame f;

	/* a leading '!' marks a frame that is not diagnostic traffic */
	if (line[0] == '!') {
		want = false;
		line++;
	}
	assert_int_equal(parse_frame(line, &f), 0);
	if (isotp_feed(tp, &f) != want)
		fail_msg("isotp_feed(%s) returned %d", line, !want);
}

struct want {
	uint32_t can_id;
	uint8_t ecu;
	uint8_t tester;
	bool response;
	const char *hex;
};

struct isotp_case {
	const char *name;
	const char *frames[48];
	struct want want[4];
	bool add_tester_f0;
};

static const struct isotp_case cases[] = {
	{ .name = "single frames, padded, functional and physical",
	  .frames = { "0.000 7DF#02010C0000000000",
		      "0.011 7E8#04410C0D42AAAAAA",
		      "0.012 7EC#03410D00AAAAAAAA",
		      "0.100 7E0#0322F19055555555" },
	  .want = { { 0x7DF, ISOTP_FUNCTIONAL, 0, false, "010C" },
		    { 0x7E8, 0, 0, true, "410C0D42" },
		    { 0x7EC, 4, 0, true, "410D00" },
		    { 0x7E0, 0, 0, false, "22F190" } } },
	{ .name = "first frame, flow control, consecutive frames (VIN)",
	  .frames = { "1.000 7DF#0209020000000000",
		      "1.010 7E8#1014490201574241",
		      "1.011 7E0#3000000000000000",
		      "1.012 7E8#2150483543353542",
		      "1.013 7E8#2241313233343536" },
	  .want = { { 0x7DF, ISOTP_FUNCTIONAL, 0, false, "0902" },
		    { 0x7E8, 0, 0, true,
		      "490201"
		      "5742415048354335354241313233343536" } } },
	{ .name = "last consecutive frame padded with 00 and CC",
	  .frames = { "2.000 7E9#100A430401330200",
		      "2.001 7E1#3000000000000000",
		      "2.002 7E9#2103010304000000",
		      "2.100 7EA#1008430301330200",
		      "2.101 7E2#300000CCCCCCCCCC",
		      "2.102 7EA#210301CCCCCCCCCC" },
	  .want = { { 0x7E9, 1, 0, true, "43040133020003010304" },
		    { 0x7EA, 2, 0, true, "4303013302000301" } } },
	{ .name = "BMW extended addressing, answer and request multi-frame",
	  .frames = { "3.000 6F1#1203225A10FFFFFF",
		      "3.010 612#F1100F625A100001",
		      "3.011 6F1#12300000FFFFFFFF",
		      "3.012 612#F1210002000300 04",
		      "3.013 612#F12200050006AAAA",
		      "3.100 6F1#121009225A105A20", "3.101 612#F1300000",
		      "3.102 6F1#12215A215A30" },
	  .want = { { 0x6F1, 0x12, 0xF1, false, "225A10" },
		    { 0x612, 0x12, 0xF1, true,
		      "625A10000100020003000400050006" },
		    { 0x6F1, 0x12, 0xF1, false, "225A105A205A215A30" } } },
	{ .name = "interleaved ECUs keep their own transfers",
	  .frames = { "4.000 7E8#100B490201414243",
		      "4.001 7EC#100A430401330200",
		      "4.002 7E0#3000000000000000",
		      "4.003 7E4#3000000000000000",
		      "4.004 612#F11009625A2000FF",
		      "4.005 630#F11008625A21AA02",
		      "4.006 7EC#2103010304AAAAAA",
		      "4.007 612#F121003C0001AAAA",
		      "4.008 630#F121030405AAAAAA",
		      "4.009 7E8#2144454647484950" },
	  .want = { { 0x7EC, 4, 0, true, "43040133020003010304" },
		    { 0x612, 0x12, 0xF1, true, "625A2000FF003C0001" },
		    { 0x630, 0x30, 0xF1, true, "625A21AA02030405" },
		    { 0x7E8, 0, 0, true, "4902014142434445464748" } } },
	{ .name = "sequence number error drops the transfer, a new SF is taken",
	  .frames = { "5.000 7E8#1014490201574241",
		      "5.001 7E8#2150483543353542",
		      "5.002 7E8#2341313233343536",
		      "5.003 7E8#2241313233343536",
		      "5.004 7E8#0441050A0BAAAAAA" },
	  .want = { { 0x7E8, 0, 0, true, "41050A0B" } } },
	{ .name = "consecutive frames out of order drop the transfer",
	  .frames = { "6.000 7E8#1010490201574241",
		      "6.001 7E8#2241313233343536",
		      "6.002 7E8#2150483543353542" } },
	{ .name = "a consecutive frame without a first frame is consumed, no "
		  "message",
	  .frames = { "7.000 7E8#2150483543353542",
		      "7.001 612#F1210002000300" } },
	{ .name = "timeout: next CF more than 1 s after the previous frame",
	  .frames = { "8.000 7E8#100A430401330200",
		      "9.000001 7E8#2103010304AAAAAA",
		      "10.000 7E9#100A430401330200",
		      "11.000 7E9#2103010304AAAAAA" },
	  .want = { { 0x7E9, 1, 0, true, "43040133020003010304" } } },
	{ .name = "flow control WAIT from the receiver keeps the transfer "
		  "alive",
	  .frames = { "12.000 7E8#100A430401330200",
		      "12.900 7E0#3100000000000000",
		      "13.800 7E0#3000000000000000",
		      "14.700 7E8#2103010304AAAAAA" },
	  .want = { { 0x7E8, 0, 0, true, "43040133020003010304" } } },
	{ .name = "flow control overflow aborts the transfer",
	  .frames = { "15.000 7E8#100A430401330200",
		      "15.001 7E0#3200000000000000",
		      "15.002 7E8#2103010304AAAAAA" } },
	{ .name = "a new first frame restarts, a single frame aborts",
	  .frames = { "16.000 7E8#1014490201574241",
		      "16.001 7E8#2150483543353542",
		      "16.002 7E8#100A430401330200",
		      "16.003 7E8#2103010304AAAAAA",
		      "16.010 612#F1100F625A100001", "16.011 612#F103625A21",
		      "16.012 612#F1210002000300 04" },
	  .want = { { 0x7E8, 0, 0, true, "43040133020003010304" },
		    { 0x612, 0x12, 0xF1, true, "625A21" } } },
	{ .name = "frames that are not diagnostic addressing",
	  .frames = { "!17.000 130#C541FFFFFF", "!17.001 7DE#0201050000000000",
		      "!17.002 7F0#0441050A0B000000",
		      "!17.003 5FF#0201050000000000",
		      "!17.004 000007E8#0441050A0B000000", "!17.005 7E8#R",
		      "!17.006 6FD#0193004012266900",
		      "!17.007 6FE#FFEFE7E700000000",
		      "!17.008 608#6B4C000000000000", "!17.009 612#F04102",
		      "!17.010 7E8#4441050A0B000000", "!17.011 7E8#00",
		      "!17.012 7E8#0841050A0B000000", "!17.013 7E8#1005410500",
		      "!17.014 7E8#3500000000000000", "!17.015 612#F1",
		      "!17.016 7E8#", "!17.017 7E8#1006410500000000",
		      "!17.018 612#F107625A10010203" } },
	{ .name = "tester 0xF0 is followed only once added",
	  .frames = { "18.000 6F0#EF021A80FFFFFFFF",
		      "18.001 617#F002580000000000" },
	  .want = { { 0x6F0, 0xEF, 0xF0, false, "1A80" },
		    { 0x617, 0x17, 0xF0, true, "5800" } },
	  .add_tester_f0 = true },
	{ .name = "CAN FD single frame with the SF_DL escape",
	  .frames = { "19.000 7E8##0000A4906 0102030405060708",
		      "19.001 7E8##00341050A0B00000000000000" },
	  .want = { { 0x7E8, 0, 0, true, "49060102030405060708" },
		    { 0x7E8, 0, 0, true, "41050A" } } },
};

static void hex_equal(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[ISOTP_MAX_MESSAGE];
	char clean[2 * ISOTP_MAX_MESSAGE + 1];
	size_t n = 0;
	int w;

	for (const char *p = hex; *p && n < sizeof(clean) - 1; p++)
		if (*p != ' ')
			clean[n++] = *p;
	clean[n] = 0;
	w = parse_hex(clean, n, want, sizeof(want));
	assert_true(w >= 0);
	assert_int_equal(len, (size_t)w);
	assert_memory_equal(got, want, len);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		const struct isotp_case *tc = &cases[c];
		struct recorder *r = calloc(1, sizeof(*r));
		struct isotp *tp = NULL;
		size_t nwant = 0;

		print_message("case: %s\n", tc->name);
		assert_non_null(r);
		assert_int_equal(isotp_new(&tp, SECOND, record, r), 0);
		if (tc->add_tester_f0)
			isotp_add_tester(tp, 0xF0);
		for (size_t i = 0; tc->frames[i]; i++) {
			char line[200];
			char *sp;

			/* allow a space inside the data for readability */
			snprintf(line, sizeof(line), "%s", tc->frames[i]);
			sp = strchr(strchr(line, '#'), ' ');
			if (sp)
				memmove(sp, sp + 1, strlen(sp));
			feed_line(tp, line);
		}
		while (nwant < 4 && tc->want[nwant].hex)
			nwant++;
		assert_int_equal(r->n, nwant);
		for (size_t i = 0; i < nwant; i++) {
			const struct want *w = &tc->want[i];
			const struct rec_msg *m = &r->msgs[i];

			assert_int_equal(m->can_id, w->can_id);
			assert_int_equal(m->ecu, w->ecu);
			assert_int_equal(m->tester, w->tester);
			assert_int_equal(m->response, w->response);
			assert_int_equal(m->ext, (w->can_id >> 8) == 6);
			hex_equal(m->data, m->len, w->hex);
		}
		isotp_free(tp);
		free(r);
	}
}

static struct frame make_frame(int64_t ts, uint32_t id, const uint8_t *d,
			       size_t n)
{
	struct frame f = { .ts_ns = ts, .id = id, .len = (uint8_t)n };

	memcpy(f.data, d, n);
	return f;
}

/*
 * Sends msg from 0x7E8 (or 0x612 with address F1) as the ECU would: an
 * escape first frame when asked, else the 12-bit one, then CFs padded
 * with 0x55; the tester's flow control after the first frame.
 */
static void send_long(struct isotp *tp, bool ext, bool escape,
		      const uint8_t *msg, size_t len)
{
	uint32_t id = ext ? 0x612 : 0x7E8;
	size_t off = ext ? 1 : 0, pos, hdr = escape ? 6 : 2;
	uint8_t d[8];
	uint8_t fc[8] = { 0x30, 0, 0, 0x55, 0x55, 0x55, 0x55, 0x55 };
	int64_t ts = 100 * SECOND;
	unsigned sn = 1;

	memset(d, 0x55, sizeof(d));
	d[0] = 0xF1;
	if (escape) {
		d[off] = 0x10;
		d[off + 1] = 0;
		d[off + 2] = (uint8_t)(len >> 24);
		d[off + 3] = (uint8_t)(len >> 16);
		d[off + 4] = (uint8_t)(len >> 8);
		d[off + 5] = (uint8_t)len;
	} else {
		d[off] = (uint8_t)(0x10 | len >> 8);
		d[off + 1] = (uint8_t)len;
	}
	pos = 8 - off - hdr;
	memcpy(d + off + hdr, msg, pos);
	struct frame f = make_frame(ts, id, d, 8);
	assert_true(isotp_feed(tp, &f));
	f = make_frame(ts + 1000, ext ? 0x6F1 : 0x7E0, fc, 8);
	if (ext) {
		memmove(f.data + 1, f.data, 7);
		f.data[0] = 0x12;
	}
	assert_true(isotp_feed(tp, &f));
	while (pos < len) {
		size_t take = len - pos < 7 - off ? len - pos : 7 - off;

		memset(d, 0x55, sizeof(d));
		d[0] = 0xF1;
		d[off] = (uint8_t)(0x20 | (sn & 0x0F));
		memcpy(d + off + 1, msg + pos, take);
		pos += take;
		sn++;
		ts += 1000000; /* 1 ms */
		f = make_frame(ts, id, d, 8);
		assert_true(isotp_feed(tp, &f));
	}
}

static void test_long_messages(void **state)
{
	static const struct {
		bool ext, escape;
		size_t len;
		bool delivered;
	} runs[] = {
		{ false, false, ISOTP_MAX_MESSAGE,
		  true }, /* SN wraps 36 times */
		{ true, false, ISOTP_MAX_MESSAGE, true },
		{ false, true, 256, true },
		{ true, true, 300, true },
		{ false, true, ISOTP_MAX_MESSAGE, true },
		{ false, true, ISOTP_MAX_MESSAGE + 1, false },
		{ false, true, 70000, false },
	};
	static uint8_t msg[80000];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + i / 251);
	for (size_t i = 0; i < ARRAY_SIZE(runs); i++) {
		struct recorder *r = calloc(1, sizeof(*r));
		struct isotp *tp = NULL;

		print_message("run %zu: %zu bytes ext=%d escape=%d\n", i,
			      runs[i].len, runs[i].ext, runs[i].escape);
		assert_int_equal(isotp_new(&tp, SECOND, record, r), 0);
		send_long(tp, runs[i].ext, runs[i].escape, msg, runs[i].len);
		assert_int_equal(r->n, runs[i].delivered ? 1 : 0);
		if (runs[i].delivered) {
			assert_int_equal(r->msgs[0].len, runs[i].len);
			assert_memory_equal(r->msgs[0].data, msg, runs[i].len);
			assert_true(r->msgs[0].response);
			assert_int_equal(r->msgs[0].ecu,
					 runs[i].ext ? 0x12 : 0);
		}
		isotp_free(tp);
		free(r);
	}
}

/*
 * Issue 14: frame times at the ends of int64 (a log may say anything, up
 * to 2^63 ns or wrapped around): no overflow (UBSan), and the timeout
 * still works, in the consecutive-frame and the flow-control path. A VIN
 * answer of 20 bytes: FF, FC, CF, CF.
 */
static void test_extreme_times(void **state)
{
	static const struct {
		int64_t ts[4]; /* FF, FC, CF1, CF2 */
		size_t want;
	} runs[] = {
		/* half a second apart just below 2^63 ns: delivered */
		{ { INT64_MAX - 2 * SECOND, INT64_MAX - 2 * SECOND,
		    INT64_MAX - SECOND - SECOND / 2, INT64_MAX - SECOND },
		  1 },
		/* 2 s of silence just below 2^63 ns: dropped */
		{ { INT64_MAX - 2 * SECOND - 1, INT64_MAX - 2 * SECOND - 1,
		    INT64_MAX, INT64_MAX },
		  0 },
		/* from the far past to the far future: a gap beyond int64 */
		{ { INT64_MIN + 1, INT64_MAX, INT64_MAX, INT64_MAX }, 0 },
		/* wrapped back: time going back expires nothing */
		{ { INT64_MAX, INT64_MIN + 500, INT64_MIN + 1000,
		    INT64_MIN + 2000 },
		  1 },
	};
	static const uint8_t d[4][8] = {
		{ 0x10, 0x14, 0x49, 0x02, 0x01, 0x57, 0x42, 0x41 },
		{ 0x30, 0, 0, 0, 0, 0, 0, 0 },
		{ 0x21, 0x50, 0x48, 0x35, 0x43, 0x35, 0x35, 0x42 },
		{ 0x22, 0x41, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36 },
	};
	static const uint32_t id[4] = { 0x7E8, 0x7E0, 0x7E8, 0x7E8 };

	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct recorder *r = calloc(1, sizeof(*r));
		struct isotp *tp = NULL;

		assert_non_null(r);
		assert_int_equal(isotp_new(&tp, SECOND, record, r), 0);
		for (size_t j = 0; j < 4; j++) {
			struct frame f =
				make_frame(runs[i].ts[j], id[j], d[j], 8);

			assert_true(isotp_feed(tp, &f));
		}
		if (r->n != runs[i].want)
			fail_msg("run %zu: %zu messages, want %zu", i, r->n,
				 runs[i].want);
		if (r->n) {
			assert_int_equal(r->msgs[0].len, 20);
			assert_true(r->msgs[0].ts_ns == runs[i].ts[3]);
		}
		isotp_free(tp);
		free(r);
	}
}

/* More concurrent transfers than slots: the silent ones go, no mix-up. */
static void test_many_transfers(void **state)
{
	struct recorder *r = calloc(1, sizeof(*r));
	struct isotp *tp = NULL;
	const unsigned n = ISOTP_MAX_TRANSFERS + 8;

	(void)state;
	assert_int_equal(isotp_new(&tp, SECOND, record, r), 0);
	for (unsigned e = 0; e < n; e++) {
		uint8_t d[8] = { 0xF1, 0x10, 0x08,	 0x62,
				 0x5A, 0x10, (uint8_t)e, 0 };
		struct frame f = make_frame(SECOND + e, 0x600 + e, d, 8);

		assert_true(isotp_feed(tp, &f));
	}
	for (unsigned e = 0; e < n; e++) {
		uint8_t d[5] = { 0xF1, 0x21, (uint8_t)e, 1, 2 };
		struct frame f = make_frame(2 * SECOND + e, 0x600 + e, d, 5);

		assert_true(isotp_feed(tp, &f));
	}
	/* the first 8 were evicted by the last 8 */
	assert_int_equal(r->n, ISOTP_MAX_TRANSFERS);
	for (unsigned i = 0; i < ISOTP_MAX_TRANSFERS && i < MAX_KEPT; i++) {
		const struct rec_msg *m = &r->msgs[i];

		assert_int_equal(m->can_id, 0x600 + 8 + i);
		assert_int_equal(m->len, 8);
		assert_int_equal(m->data[3], 8 + i);
		assert_int_equal(m->data[5], 8 + i);
	}
	isotp_free(tp);
	free(r);
}

static FILE *open_shared(const char *rel)
{
	const char *shared = getenv("DTCD_SHARED");
	char path[4096];
	FILE *fp;

	if (!shared)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", shared, rel);
	fp = fopen(path, "r");
	if (!fp)
		print_message("%s: not found, skipping\n", path);
	return fp;
}

static void feed_log(struct isotp *tp, FILE *fp, unsigned *ret_consumed)
{
	char line[512];
	unsigned lineno = 0;

	*ret_consumed = 0;
	while (fgets(line, sizeof(line), fp)) {
		struct frame f;

		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		if (parse_frame(line, &f) < 0)
			fail_msg("line %u: cannot parse '%s'", lineno, line);
		*ret_consumed += isotp_feed(tp, &f);
	}
}

/*
 * The E90 OBD recordings are all single frames. The expected counts are
 * those of `cut -d' ' -f3 | cut -d'#' -f1 | sort | uniq -c` on the logs.
 */
static void test_real_e90(void **state)
{
	static const struct {
		const char *file;
		unsigned n7df, n7e0, n7e8, n7ec;
	} logs[] = {
		{ "data/real/bmw-e90-obd/obd_1759077512.head16k.candump.log",
		  161, 0, 160, 61 },
		{ "data/real/bmw-e90-obd/obd_1759079527.head16k.candump.log",
		  150, 2, 150, 57 },
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		FILE *fp = open_shared(logs[i].file);
		struct recorder *r;
		struct isotp *tp = NULL;
		unsigned consumed;
		unsigned total = logs[i].n7df + logs[i].n7e0 + logs[i].n7e8 +
				 logs[i].n7ec;

		if (!fp) {
			skip();
			return;
		}
		r = calloc(1, sizeof(*r));
		assert_int_equal(isotp_new(&tp, SECOND, record, r), 0);
		feed_log(tp, fp, &consumed);
		fclose(fp);
		assert_int_equal(consumed, total); /* 0x130 is not consumed */
		assert_int_equal(r->n, total);
		assert_int_equal(r->per_id[0x7DF], logs[i].n7df);
		assert_int_equal(r->per_id[0x7E0], logs[i].n7e0);
		assert_int_equal(r->per_id[0x7E8], logs[i].n7e8);
		assert_int_equal(r->per_id[0x7EC], logs[i].n7ec);
		if (i == 0) {
			/* (35.312881) 7DF#02011F.. then 7E8#04411F021CAAAAAA */
			assert_int_equal(r->msgs[0].can_id, 0x7DF);
			assert_int_equal(r->msgs[0].ecu, ISOTP_FUNCTIONAL);
			hex_equal(r->msgs[0].data, r->msgs[0].len, "011F");
			assert_int_equal(r->msgs[1].can_id, 0x7E8);
			assert_int_equal(r->msgs[1].ts_ns, 35323921000LL);
			hex_equal(r->msgs[1].data, r->msgs[1].len, "411F021C");
			/* (35.386929) 7EC#04410C0D2EAAAAAA: ECU 4 */
			assert_int_equal(r->msgs[3].ecu, 4);
			hex_equal(r->msgs[3].data, r->msgs[3].len, "410C0D2E");
		} else {
			/* (22.686923) 7E0#0207000000000000: physical 07 */
			assert_int_equal(r->msgs[0].can_id, 0x7E0);
			assert_false(r->msgs[0].response);
			hex_equal(r->msgs[0].data, r->msgs[0].len, "0700");
		}
		isotp_free(tp);
		free(r);
	}
}

/*
 * The E92 PT-CAN log holds real BMW extended addressing: a car-internal
 * tester on 0x6F0 (address F0) reads the ECUs' fault memories (KWP 18 02,
 * 1A 80); multi-frame answers from 0x612, 0x617, 0x629, 0x630 overlap.
 */
static void test_real_e92_extended(void **state)
{
	static const char *log = "data/real/bmw-e92-ptcan/"
				 "engstart_idle1k_off_keyout.candump.log";
	FILE *fp = open_shared(log);
	struct recorder *r;
	struct isotp *tp = NULL;
	unsigned consumed;

	(void)state;
	if (!fp) {
		skip();
		return;
	}
	r = calloc(1, sizeof(*r));
	/* tester F1 only (the default): none of it is ours */
	assert_int_equal(isotp_new(&tp, SECOND, record, r), 0);
	feed_log(tp, fp, &consumed);
	assert_int_equal(consumed, 0);
	assert_int_equal(r->n, 0);
	isotp_free(tp);

	rewind(fp);
	assert_int_equal(isotp_new(&tp, SECOND, record, r), 0);
	isotp_add_tester(tp, 0xF0);
	feed_log(tp, fp, &consumed);
	fclose(fp);
	/* 43 frames on 0x6xx in the log (grep -c ' 6..#') */
	assert_int_equal(consumed, 43);
	/* 2 requests, 9 answers (4 single, 5 multi-frame) */
	assert_int_equal(r->n, 11);
	assert_int_equal(r->per_id[0x6F0], 2);
	assert_int_equal(r->per_id[0x612], 2);
	assert_int_equal(r->per_id[0x617], 2);
	assert_int_equal(r->per_id[0x629], 3);
	assert_int_equal(r->per_id[0x630], 2);
	/* 612#F01026580C2F1128 + CF 21..26: KWP 58, 12 DTCs of 3 bytes */
	/* completed after the single frames of 0x630 and 0x629 */
	assert_int_equal(r->msgs[4].can_id, 0x612);
	assert_int_equal(r->msgs[4].ecu, 0x12);
	assert_int_equal(r->msgs[4].tester, 0xF0);
	assert_true(r->msgs[4].response);
	hex_equal(r->msgs[4].data, r->msgs[4].len,
		  "580C2F1128"
		  "30C1022ED101"
		  "2ECD012DEB02"
		  "2AEC0130EA01"
		  "29D0812A2B82"
		  "29CD8129CC81"
		  "2C7F81");
	/* 629#F0037F1A78: response pending while its 1A 80 answer waits */
	assert_int_equal(r->msgs[6].can_id, 0x629);
	hex_equal(r->msgs[6].data, r->msgs[6].len, "7F1A78");
	/* the 629 answer: FC WAIT at 18.90, CTS at 19.26, CF 21 at 19.27 */
	assert_int_equal(r->msgs[10].can_id, 0x629);
	assert_int_equal(r->msgs[10].len, 0x1F);
	hex_equal(r->msgs[10].data, 8, "5A80000006784764");
	isotp_free(tp);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_long_messages),
		cmocka_unit_test(test_many_transfers),
		cmocka_unit_test(test_extreme_times),
		cmocka_unit_test(test_real_e90),
		cmocka_unit_test(test_real_e92_extended),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
