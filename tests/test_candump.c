/* test_candump.c: the candump log reader, line by line and as a stream */
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

#include "candump.h"
#include "macro.h"

#define ERR_FLAGS (FRAME_ERR)
#define FD FRAME_FD
#define EFF FRAME_EFF
#define RTR FRAME_RTR
#define BRS FRAME_BRS
#define ESI FRAME_ESI

struct line_case {
	const char *line;
	int ret; /* 0, -ENODATA or -EINVAL */
	int64_t ts_ns;
	const char *iface;
	uint32_t id;
	uint8_t flags;
	uint8_t len;
	uint8_t len8_dlc;
	char dir;
	const char *data; /* hex of data[0..len) */
};

#define OK(l, ts, ifc, i, fl, n, hex, d)                                 \
	{                                                                \
		.line = l, .ret = 0, .ts_ns = ts, .iface = ifc, .id = i, \
		.flags = fl, .len = n, .data = hex, .dir = d             \
	}
#define BAD(l)                            \
	{                                 \
		.line = l, .ret = -EINVAL \
	}
#define SKIP(l)                            \
	{                                  \
		.line = l, .ret = -ENODATA \
	}

static const char fd64[] =
	"(1.000000) can0 123##1"
	"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
	"202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F";
static const char fd64_hex[] =
	"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
	"202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F";
static const char fd66[] =
	"(1.000000) can0 123##1"
	"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
	"202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F"
	"4041";

static const struct line_case cases[] = {
	/* timestamps: 6 or 9 fraction digits, any integer digits */
	OK("(1436509052.249713) can0 123#11", 1436509052249713000, "can0",
	   0x123, 0, 1, "11", 0),
	OK("(1436509052.249713123) can0 123#11", 1436509052249713123, "can0",
	   0x123, 0, 1, "11", 0),
	OK("(000.019968) can0 064#64000000", 19968000, "can0", 0x64, 0, 4,
	   "64000000", 0),
	OK("(0.000000) can0 123#", 0, "can0", 0x123, 0, 0, "", 0),
	OK("(00000000000000000001.000001) can0 123#", 1000001000, "can0", 0x123,
	   0, 0, "", 0),
	/* a relative log's negative time written as unsigned 64-bit µs */
	OK("(18446744073709.055907) can0 0A8#6FED01E001F00302", -495709000,
	   "can0", 0xa8, 0, 8, "6FED01E001F00302", 0),
	BAD("(1.00000) can0 123#11"),
	BAD("(1.0000000) can0 123#11"),
	BAD("(1.0000000000) can0 123#11"),
	BAD("(1) can0 123#11"),
	BAD("(.000000) can0 123#11"),
	BAD("(1.000000 can0 123#11"),
	BAD("1.000000) can0 123#11"),
	BAD("(1,000000) can0 123#11"),
	BAD("(-1.000000) can0 123#11"),
	BAD("(9223372037.000000) can0 123#11"), /* past int64 ns */
	BAD("(99999999999999999999.000000) can0 123#11"),
	/* interface names: any blanks around, at most 15 characters */
	OK("(1.000000)   vcan0 123#11", 1000000000, "vcan0", 0x123, 0, 1, "11",
	   0),
	OK("(1.000000)\tcan0\t123#11", 1000000000, "can0", 0x123, 0, 1, "11",
	   0),
	OK("(1.000000) abcdefghijklmno 123#11", 1000000000, "abcdefghijklmno",
	   0x123, 0, 1, "11", 0),
	BAD("(1.000000) abcdefghijklmnop 123#11"),
	BAD("(1.000000)can0 123#11"),
	BAD("(1.000000) can0"),
	BAD("(1.000000) 123#11"),
	/* direction */
	OK("(1.000000) can0 123#11 R", 1000000000, "can0", 0x123, 0, 1, "11",
	   'R'),
	OK("(1.000000) can0 123#11 T", 1000000000, "can0", 0x123, 0, 1, "11",
	   'T'),
	OK("(1.000000) can0 123#11   T  ", 1000000000, "can0", 0x123, 0, 1,
	   "11", 'T'),
	OK("(1.000000) can0 123#11 R\r", 1000000000, "can0", 0x123, 0, 1, "11",
	   'R'),
	BAD("(1.000000) can0 123#11 X"),
	BAD("(1.000000) can0 123#11 RT"),
	BAD("(1.000000) can0 123#11 R T"),
	BAD("(1.000000) can0 123#11R"),
	/* identifiers: 3 digits 11-bit, 8 digits 29-bit */
	OK("(1.000000) can0 7FF#", 1000000000, "can0", 0x7ff, 0, 0, "", 0),
	OK("(1.000000) can0 7ff#aabb", 1000000000, "can0", 0x7ff, 0, 2, "AABB",
	   0),
	OK("(1.000000) can0 1FFFFFFF#01", 1000000000, "can0", 0x1fffffff, EFF,
	   1, "01", 0),
	OK("(1.000000) can0 00000123#01", 1000000000, "can0", 0x123, EFF, 1,
	   "01", 0),
	BAD("(1.000000) can0 800#11"),
	BAD("(1.000000) can0 12#11"),
	BAD("(1.000000) can0 1234#11"),
	BAD("(1.000000) can0 123456789#11"),
	BAD("(1.000000) can0 12G#11"),
	BAD("(1.000000) can0 1234567G#11"),
	BAD("(1.000000) can0 80000123#11"),
	BAD("(1.000000) can0 40000123#11"),
	BAD("(1.000000) can0 123"),
	/* data: hex pairs, '.' separators, at most 8 bytes */
	OK("(1.000000) can0 123#11.22.33", 1000000000, "can0", 0x123, 0, 3,
	   "112233", 0),
	OK("(1.000000) can0 123#1122334455667788", 1000000000, "can0", 0x123, 0,
	   8, "1122334455667788", 0),
	OK("(1.000000) can0 123#11.22.33.44.55.66.77.88", 1000000000, "can0",
	   0x123, 0, 8, "1122334455667788", 0),
	BAD("(1.000000) can0 123#112"),
	BAD("(1.000000) can0 123#11..22"),
	BAD("(1.000000) can0 123#1G"),
	BAD("(1.000000) can0 123#112233445566778899"),
	BAD("(1.000000) can0 123#11 22"),
	/* len8_dlc: "_" raw DLC 9..F after 8 bytes */
	{ .line = "(1.000000) can0 123#1122334455667788_C",
	  .ret = 0,
	  .ts_ns = 1000000000,
	  .iface = "can0",
	  .id = 0x123,
	  .len = 8,
	  .len8_dlc = 0xc,
	  .data = "1122334455667788" },
	{ .line = "(1.000000) can0 123#1122334455667788_9 R",
	  .ret = 0,
	  .ts_ns = 1000000000,
	  .iface = "can0",
	  .id = 0x123,
	  .len = 8,
	  .len8_dlc = 9,
	  .dir = 'R',
	  .data = "1122334455667788" },
	BAD("(1.000000) can0 123#1122334455667788_8"),
	BAD("(1.000000) can0 123#1122334455667788_G"),
	BAD("(1.000000) can0 123#1122334455667788_"),
	BAD("(1.000000) can0 123#1122334455667788_CC"),
	BAD("(1.000000) can0 123#11223344556677_C"),
	BAD("(1.000000) can0 123##11122334455667788_C"),
	/* remote frames */
	OK("(1.000000) can0 123#R", 1000000000, "can0", 0x123, RTR, 0, "", 0),
	OK("(1.000000) can0 123#r", 1000000000, "can0", 0x123, RTR, 0, "", 0),
	OK("(1.000000) can0 123#R3 T", 1000000000, "can0", 0x123, RTR, 3, "",
	   'T'),
	OK("(1.000000) can0 00050005#R8", 1000000000, "can0", 0x50005,
	   EFF | RTR, 8, "", 0),
	{ .line = "(1.000000) can0 123#R8_F",
	  .ret = 0,
	  .ts_ns = 1000000000,
	  .iface = "can0",
	  .id = 0x123,
	  .flags = RTR,
	  .len = 8,
	  .len8_dlc = 0xf,
	  .data = "" },
	BAD("(1.000000) can0 123#R9"),
	BAD("(1.000000) can0 123#R3_C"),
	BAD("(1.000000) can0 123#R_C"),
	BAD("(1.000000) can0 123#R88"),
	BAD("(1.000000) can0 123#RX"),
	BAD("(1.000000) can0 20000080#R"),
	/* CAN FD: "##", flags nibble (BRS 1, ESI 2), valid lengths only */
	OK("(1.000000) can0 123##0", 1000000000, "can0", 0x123, FD, 0, "", 0),
	OK("(1.000000) can0 123##1112233", 1000000000, "can0", 0x123, FD | BRS,
	   3, "112233", 0),
	OK("(1.000000) can0 123##2.11.22", 1000000000, "can0", 0x123, FD | ESI,
	   2, "1122", 0),
	OK("(1.000000) can0 12345678##3112233445566778899AABBCC", 1000000000,
	   "can0", 0x12345678, EFF | FD | BRS | ESI, 12,
	   "112233445566778899AABBCC", 0),
	/* newer kernels put FDF (4) into the flags candump prints */
	OK("(1.000000) can0 123##5AA", 1000000000, "can0", 0x123, FD | BRS, 1,
	   "AA", 0),
	OK(fd64, 1000000000, "can0", 0x123, FD | BRS, 64, fd64_hex, 0),
	BAD(fd66),
	BAD("(1.000000) can0 123##"),
	BAD("(1.000000) can0 123##G11"),
	BAD("(1.000000) can0 123##1112233445566778899"),	 /* 9 bytes */
	BAD("(1.000000) can0 123##1112233445566778899AABBCCDD"), /* 13 */
	BAD("(1.000000) can0 123##1R"),
	BAD("(1.000000) can0 123###111"),
	/* error frames: class bits in id, 8 data bytes */
	OK("(1.000000) can0 20000080#0000000000000000", 1000000000, "can0",
	   0x80, ERR_FLAGS, 8, "0000000000000000", 0),
	OK("(1.000000) can0 20000004#0004000000000000", 1000000000, "can0", 4,
	   ERR_FLAGS, 8, "0004000000000000", 0),
	/* python-can writes no error data: the 8 bytes are zero */
	OK("(2.501000) can0 20000080#", 2501000000, "can0", 0x80, ERR_FLAGS, 8,
	   "0000000000000000", 0),
	OK("(30.806898) can4 20000080##0", 30806898000, "can4", 0x80,
	   ERR_FLAGS | FD, 8, "0000000000000000", 0),
	BAD("(1.000000) can0 20000080##0112233445566778899AABBCC"),
	/* blank lines and DROPCOUNT are nothing to do */
	SKIP(""),
	SKIP("   \t \r"),
	SKIP("DROPCOUNT: dropped 3 CAN frames on 'can0' socket (total drops "
	     "3)"),
	/* other garbage */
	BAD("hello"),
	BAD("# a comment"),
	BAD("(1.000000) can0 123#11 R extra"),
	BAD("(1.000000)"),
	BAD("("),
};

static void hex_of(const uint8_t *data, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02X", data[i]);
	out[2 * len] = '\0';
}

static void test_lines(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct line_case *c = &cases[i];
		struct frame f;
		const char *what = NULL;
		char hex[2 * FRAME_MAX_DATA + 1];
		int ret;

		print_message("%s\n", c->line);
		ret = candump_parse_line(c->line, strlen(c->line), &f, &what);
		assert_int_equal(ret, c->ret);
		if (ret == -EINVAL) {
			assert_non_null(what);
			assert_true(strlen(what) > 0);
		}
		if (ret)
			continue;
		assert_true(f.ts_ns == c->ts_ns);
		assert_string_equal(f.iface, c->iface);
		assert_int_equal(f.id, c->id);
		assert_int_equal(f.flags, c->flags);
		assert_int_equal(f.len, c->len);
		assert_int_equal(f.len8_dlc, c->len8_dlc);
		assert_int_equal(f.dir, c->dir);
		hex_of(f.data, (f.flags & FRAME_RTR) ? 0 : f.len, hex);
		assert_string_equal(hex, c->data);
	}
}

/* A line is its bytes up to the newline, not up to a NUL. */
static void test_line_length_not_nul(void **state)
{
	static const char line[] = "(1.000000) can0 123#1122\0garbage";
	struct frame f;
	const char *what;

	assert_int_equal(candump_parse_line(line, 24, &f, &what), 0);
	assert_int_equal(f.len, 2);
	assert_int_equal(candump_parse_line(line, sizeof(line) - 1, &f, &what),
			 -EINVAL);
}

struct error_log {
	const char *path; /* the name every report must carry */
	unsigned long lines[64];
	size_t n;
};

static void record_error(void *userdata, const char *path, unsigned long line,
			 const char *what)
{
	struct error_log *log = userdata;

	assert_non_null(what);
	assert_string_equal(path, log->path);
	if (log->n < 64)
		log->lines[log->n++] = line;
}

/* Reads every frame of a stream; returns how many, frames in out[]. */
static size_t read_all(FILE *stream, const char *name, struct error_log *log,
		       struct frame *out, size_t max)
{
	struct candump_reader *r;
	struct frame f;
	size_t n = 0;
	int ret;

	assert_int_equal(
		candump_reader_from_stream(&r, stream, name, record_error, log),
		0);
	while ((ret = candump_reader_next(r, &f)) == 1) {
		if (n < max)
			out[n] = f;
		n++;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(candump_reader_errors(r), log->n);
	candump_reader_free(r);
	return n;
}

static const char good_log[] =
	"(0.100000) can0 123#11\n"
	"(0.200000) can0 12345678#2233 R\n"
	"\n"
	"(0.300000) can1 456##1445566\n"
	"DROPCOUNT: dropped 1 CAN frame on 'can0' socket (total drops 1)\n"
	"(0.400000) can0 789#R T\n"
	"(0.500000) can0 20000080#0000000000000000\n";

static const char broken_log[] =
	"garbage at the start\n"
	"(0.100000) can0 123#11\n"
	"(0.150000) can0 123#1\n"
	"(0.200000) can0 12345678#2233 R\n"
	"\n"
	"(0.250000 can0 123#11\n"
	"(0.300000) can1 456##1445566\n"
	"DROPCOUNT: dropped 1 CAN frame on 'can0' socket (total drops 1)\n"
	"(0.350000) can0 123##1112233445566778899\n"
	"(0.400000) can0 789#R T\n"
	"(0.450000) can0 800#11\n"
	"(0.500000) can0 20000080#0000000000000000\r\n"
	"trailing garbage without newline";

static void assert_frames_equal(const struct frame *a, const struct frame *b,
				size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_memory_equal(&a[i], &b[i], sizeof(*a));
}

static void test_stream_and_broken_lines(void **state)
{
	struct frame good[16], mixed[16];
	struct error_log log = { .path = "good.log" };
	struct error_log log2 = { .path = "broken.log" };
	FILE *s;
	size_t ngood, nmixed;

	s = fmemopen((void *)good_log, sizeof(good_log) - 1, "r");
	assert_non_null(s);
	ngood = read_all(s, "good.log", &log, good, 16);
	fclose(s);
	assert_int_equal(ngood, 5);
	assert_int_equal(log.n, 0);
	assert_true(good[0].ts_ns == 100000000);
	assert_int_equal(good[1].flags, FRAME_EFF);
	assert_int_equal(good[1].dir, 'R');
	assert_int_equal(good[2].flags, FRAME_FD | FRAME_BRS);
	assert_string_equal(good[2].iface, "can1");
	assert_int_equal(good[3].flags, FRAME_RTR);
	assert_int_equal(good[4].flags, FRAME_ERR);

	/* the broken lines are reported with their numbers and path */
	s = fmemopen((void *)broken_log, sizeof(broken_log) - 1, "r");
	assert_non_null(s);
	nmixed = read_all(s, "broken.log", &log2, mixed, 16);
	fclose(s);
	assert_int_equal(nmixed, ngood);
	assert_frames_equal(good, mixed, ngood);
	assert_int_equal(log2.n, 6);
	assert_int_equal(log2.lines[0], 1);
	assert_int_equal(log2.lines[1], 3);
	assert_int_equal(log2.lines[2], 6);
	assert_int_equal(log2.lines[3], 9);
	assert_int_equal(log2.lines[4], 11);
	assert_int_equal(log2.lines[5], 13);
}

/*
 * A real file descriptor (the read() path), a pipe-sized trickle is not
 * needed: a temporary file big enough to refill the buffer many times,
 * with a 10 MB garbage line in the middle that must be one error.
 */
static void test_file_with_huge_line(void **state)
{
	char path[] = "/tmp/test_candump_XXXXXX";
	struct error_log log = { .path = path };
	struct candump_reader *r;
	struct frame f;
	unsigned long frames = 0, i;
	char *junk;
	FILE *out;
	int fd, ret;
	const size_t junk_len = 10 * 1024 * 1024;
	const unsigned long n = 20000;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	out = fdopen(fd, "w");
	assert_non_null(out);
	for (i = 0; i < n; i++)
		fprintf(out, "(%lu.%06lu) can0 %03lX#%016lX\n", i / 1000,
			(i % 1000) * 1000, i & 0x7ff, i);
	junk = malloc(junk_len);
	assert_non_null(junk);
	memset(junk, 'x', junk_len);
	fwrite(junk, 1, junk_len, out);
	fputc('\n', out);
	free(junk);
	for (i = n; i < 2 * n; i++)
		fprintf(out, "(%lu.%06lu) can0 %03lX#%016lX\n", i / 1000,
			(i % 1000) * 1000, i & 0x7ff, i);
	fclose(out);

	assert_int_equal(candump_reader_open(&r, path, record_error, &log), 0);
	while ((ret = candump_reader_next(r, &f)) == 1) {
		/* every frame is the one written, in order */
		assert_int_equal(f.id, frames & 0x7ff);
		assert_true(f.ts_ns == (int64_t)frames * 1000000);
		assert_int_equal(f.data[7], frames & 0xff);
		assert_int_equal(f.data[6], (frames >> 8) & 0xff);
		frames++;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(frames, 2 * n);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.lines[0], n + 1);
	assert_int_equal(candump_reader_line(r), 2 * n + 1);
	candump_reader_free(r);
	unlink(path);
}

/* path "-" is stdin: a pipe that delivers the log in small pieces */
static void test_stdin_pipe(void **state)
{
	struct candump_reader *r;
	struct frame f;
	int fds[2], saved, ret;
	pid_t pid;
	size_t i, frames = 0;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		/* 7 bytes at a time: lines arrive split across reads */
		for (i = 0; i < sizeof(good_log) - 1; i += 7) {
			size_t k = sizeof(good_log) - 1 - i;

			if (write(fds[1], good_log + i, k < 7 ? k : 7) < 0)
				_exit(1);
			usleep(1000);
		}
		_exit(0);
	}
	close(fds[1]);
	saved = dup(0);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fds[0], 0), 0);
	close(fds[0]);

	assert_int_equal(candump_reader_open(&r, "-", NULL, NULL), 0);
	while ((ret = candump_reader_next(r, &f)) == 1)
		frames++;
	assert_int_equal(ret, 0);
	assert_int_equal(frames, 5);
	assert_int_equal(candump_reader_errors(r), 0);
	assert_int_equal(candump_reader_line(r), 7);
	candump_reader_free(r);

	dup2(saved, 0);
	close(saved);
}

static void test_open_errors(void **state)
{
	struct candump_reader *r = NULL;

	assert_int_equal(
		candump_reader_open(&r, "/nonexistent/x.log", NULL, NULL),
		-ENOENT);
	candump_reader_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_line_length_not_nul),
		cmocka_unit_test(test_stream_and_broken_lines),
		cmocka_unit_test(test_file_with_huge_line),
		cmocka_unit_test(test_stdin_pipe),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
