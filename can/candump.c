/* candump.c: streaming reader for the log format of can-utils (candump -l) */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "candump.h"

/*
 * One read buffer per reader, allocated once: lines are parsed in place, so
 * memory stays constant whatever the file size. A line that does not fit is
 * reported once and skipped up to its newline.
 */
/*
 * 64 KiB: the longest valid line (CAN FD, 64 bytes, direction) is under
 * 200 bytes, and reads of 64 KiB cost no more per frame than larger ones.
 */
#define CANDUMP_BUF_SIZE (64 * 1024)

#define CAN_ERR_FLAG 0x20000000u
#define CAN_ID_FLAGS 0xe0000000u /* EFF, RTR and ERR bits of a canid_t */
#define CAN_SFF_MAX 0x7ffu
#define CAN_MAX_DLEN 8
#define CAN_ERR_DLC 8 /* the kernel's error frames always carry 8 bytes */
#define CANFD_BRS 0x01
#define CANFD_ESI 0x02

struct candump_reader {
	FILE *stream;
	bool own_stream;
	int fd; /* -1: a stream without a descriptor, read with fread() */
	bool eof;
	bool skipping; /* inside an overlong line already reported */
	char *name;
	candump_error_fn on_error;
	void *userdata;
	unsigned long line;
	unsigned long errors;
	size_t pos; /* first unread byte of buf */
	size_t end; /* end of valid data in buf */
	char buf[CANDUMP_BUF_SIZE];
};

/* hex digit value + 1; 0 for anything that is not a hex digit */
static const uint8_t hex1[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,	['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12,
	['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* valid CAN FD payload lengths (ISO 11898-1 DLC 0..15) */
static const bool fd_len_ok[FRAME_MAX_DATA + 1] = {
	[0] = true,  [1] = true,  [2] = true,  [3] = true,
	[4] = true,  [5] = true,  [6] = true,  [7] = true,
	[8] = true,  [12] = true, [16] = true, [20] = true,
	[24] = true, [32] = true, [48] = true, [64] = true,
};

static const struct frame zero_frame;

/* the blanks that separate fields: one table load instead of five tests */
static const bool blank[256] = {
	[' '] = true,  ['\t'] = true, ['\r'] = true,
	['\v'] = true, ['\f'] = true,
};

static inline bool is_blank(char c)
{
	return blank[(unsigned char)c];
}

static inline unsigned int hexval(char c)
{
	return hex1[(unsigned char)c];
}

/*
 * "(SEC.FRAC)" with 6 (µs) or 9 (ns) fraction digits and any number of
 * integer digits. A value of 2^63 units or more is a negative relative time
 * that the writer printed as an unsigned 64-bit count (a known wrap in
 * relative logs: -0.495709 s written as 18446744073709.055907); it reads
 * back as that negative time. Anything that does not fit int64 ns is an
 * error, never a silently wrong time.
 */
static const char *parse_timestamp(const char **pp, const char *e,
				   int64_t *ret_ns)
{
	const char *p = *pp;
	const char *digits;
	uint64_t sec = 0, frac = 0, scale, mult, units;
	int64_t ns;
	size_t nfrac;

	if (p == e || *p != '(')
		return "'(' opening the timestamp";
	p++;
	digits = p;
	while (p < e && *p >= '0' && *p <= '9') {
		/* 2^64 µs is about 1.8e13 s: more seconds never fit */
		if (sec > UINT64_C(100000000000000))
			return "timestamp within the 64-bit range";
		sec = sec * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == digits)
		return "timestamp seconds (digits after '(')";
	if (p == e || *p != '.')
		return "'.' between the timestamp's seconds and fraction";
	p++;
	digits = p;
	while (p < e && *p >= '0' && *p <= '9' && p - digits < 10)
		frac = frac * 10 + (uint64_t)(*p++ - '0');
	nfrac = (size_t)(p - digits);
	if (nfrac == 6) {
		scale = 1000000;
		mult = 1000;
	} else if (nfrac == 9) {
		scale = 1000000000;
		mult = 1;
	} else {
		return "6 or 9 fraction digits in the timestamp";
	}
	if (p == e || *p != ')')
		return "')' closing the timestamp after 6 or 9 fraction digits";
	p++;

	if (__builtin_mul_overflow(sec, scale, &units) ||
	    __builtin_add_overflow(units, frac, &units))
		return "timestamp within the 64-bit range";
	if (units < UINT64_C(1) << 63) {
		if (__builtin_mul_overflow((int64_t)units, (int64_t)mult, &ns))
			return "timestamp within the 64-bit range";
	} else {
		/* two's complement: the unsigned wrap of a negative time */
		int64_t neg =
			(int64_t)(units - (UINT64_C(1) << 63)) + INT64_MIN;

		if (__builtin_mul_overflow(neg, (int64_t)mult, &ns))
			return "timestamp within the 64-bit range";
	}
	*ret_ns = ns;
	*pp = p;
	return NULL;
}

/*
 * Data bytes as parse_canframe() reads them: two hex digits each, one
 * optional '.' before any byte. Stops at the end or at '_'.
 */
static const char *parse_data(const char **pp, const char *e, uint8_t *data,
			      unsigned int max, unsigned int *ret_len)
{
	const char *p = *pp;
	unsigned int n = 0, hi, lo;

	while (p < e && *p != '_') {
		if (*p == '.') {
			p++;
			if (p == e)
				break;
		}
		if (n == max)
			return max == CAN_MAX_DLEN ?
				       "at most 8 data bytes (CAN FD uses "
				       "'##')" :
				       "at most 64 CAN FD data bytes";
		if (e - p < 2)
			return "two hex digits per data byte";
		hi = hexval(p[0]);
		lo = hexval(p[1]);
		if (!hi || !lo)
			return "two hex digits per data byte";
		data[n++] = (uint8_t)(((hi - 1) << 4) | (lo - 1));
		p += 2;
	}
	*ret_len = n;
	*pp = p;
	return NULL;
}

/* "_X": the raw DLC 9..F of a classic frame with 8 bytes (len8_dlc) */
static const char *parse_len8_dlc(const char **pp, const char *e,
				  unsigned int len, uint8_t *ret_dlc)
{
	const char *p = *pp;
	unsigned int dlc;

	if (p == e)
		return NULL;
	if (*p != '_')
		return "end of the frame or '_' and a raw DLC";
	if (len != CAN_MAX_DLEN)
		return "'_' raw DLC only after 8 data bytes";
	dlc = e - p == 2 ? hexval(p[1]) : 0;
	if (dlc < 10) /* value + 1: 9..F */
		return "raw DLC 9..F after '_'";
	*ret_dlc = (uint8_t)(dlc - 1);
	*pp = p + 2;
	return NULL;
}

/* "ID#...", "ID#R...", "ID##F..." up to e (no blanks inside) */
static const char *parse_frame(const char *p, const char *e, struct frame *f)
{
	const char *what;
	uint32_t id = 0;
	unsigned int i, ndig, v, len;

	if (e - p >= 4 && p[3] == '#')
		ndig = 3;
	else if (e - p >= 9 && p[8] == '#')
		ndig = 8;
	else
		return "identifier of 3 or 8 hex digits and '#'";
	for (i = 0; i < ndig; i++) {
		v = hexval(p[i]);
		if (!v)
			return "identifier of 3 or 8 hex digits and '#'";
		id = (id << 4) | (v - 1);
	}
	p += ndig + 1;

	if (ndig == 3) {
		if (id > CAN_SFF_MAX)
			return "11-bit identifier 000..7FF";
	} else if (id & CAN_ERR_FLAG) {
		f->flags = FRAME_ERR;
		id &= ~CAN_ID_FLAGS;
	} else if (id & CAN_ID_FLAGS) {
		return "29-bit identifier 00000000..1FFFFFFF";
	} else {
		f->flags = FRAME_EFF;
	}
	f->id = id;

	if (p < e && (*p == 'R' || *p == 'r')) {
		if (f->flags & FRAME_ERR)
			return "data after an error frame's '#', not 'R'";
		f->flags |= FRAME_RTR;
		p++;
		if (p == e)
			return NULL;
		v = hexval(*p);
		if (!v || v - 1 > CAN_MAX_DLEN)
			return "remote request length 0..8 after 'R'";
		f->len = (uint8_t)(v - 1);
		p++;
		what = parse_len8_dlc(&p, e, f->len, &f->len8_dlc);
		if (what)
			return what;
		return p == e ? NULL : "end of the frame after the raw DLC";
	}

	if (p < e && *p == '#') {
		/* CAN FD: "##" and the flags nibble, then up to 64 bytes */
		p++;
		v = p < e ? hexval(*p) : 0;
		if (!v)
			return "CAN FD flags (one hex digit) after '##'";
		f->flags |= FRAME_FD;
		if ((v - 1) & CANFD_BRS)
			f->flags |= FRAME_BRS;
		if ((v - 1) & CANFD_ESI)
			f->flags |= FRAME_ESI;
		p++;
		what = parse_data(&p, e, f->data, FRAME_MAX_DATA, &len);
		if (what)
			return what;
		if (p != e)
			return "hex data bytes up to the end of the CAN FD "
			       "frame";
		if (!fd_len_ok[len])
			return "CAN FD length 0..8, 12, 16, 20, 24, 32, 48 or "
			       "64";
	} else {
		what = parse_data(&p, e, f->data, CAN_MAX_DLEN, &len);
		if (what)
			return what;
		what = parse_len8_dlc(&p, e, len, &f->len8_dlc);
		if (what)
			return what;
		if (p != e)
			return "end of the frame after the raw DLC";
	}
	if (f->flags & FRAME_ERR) {
		if (len > CAN_ERR_DLC)
			return "at most 8 data bytes in an error frame";
		/* missing bytes are the zeros memset left in data[] */
		len = CAN_ERR_DLC;
	}
	f->len = (uint8_t)len;
	return NULL;
}

int candump_parse_line(const char *line, size_t len, struct frame *ret_frame,
		       const char **ret_what)
{
	const char *p = line, *e = line + len, *tok, *what;
	struct frame *f = ret_frame;
	size_t n;

	while (p < e && is_blank(*p))
		p++;
	while (e > p && is_blank(e[-1]))
		e--;
	if (p == e)
		return -ENODATA;
	/* candump reports dropped frames in its own line */
	if (e - p >= 9 && memcmp(p, "DROPCOUNT", 9) == 0)
		return -ENODATA;

	/* a copy of a zero frame: 16-byte moves, faster than rep stos */
	*f = zero_frame;
	what = parse_timestamp(&p, e, &f->ts_ns);
	if (what)
		goto invalid;

	/* candump pads interface names to the longest one: any blanks */
	if (p == e || !is_blank(*p)) {
		what = "blank after the timestamp";
		goto invalid;
	}
	while (p < e && is_blank(*p))
		p++;
	tok = p;
	while (p < e && !is_blank(*p))
		p++;
	n = (size_t)(p - tok);
	if (n == 0 || p == e) {
		what = "interface name and a CAN frame after the timestamp";
		goto invalid;
	}
	if (n >= FRAME_IFNAMSIZ) {
		what = "interface name of at most 15 characters";
		goto invalid;
	}
	memcpy(f->iface, tok, n);

	while (p < e && is_blank(*p))
		p++;
	tok = p;
	while (p < e && !is_blank(*p))
		p++;
	what = parse_frame(tok, p, f);
	if (what)
		goto invalid;

	/* optional direction (candump -x): " R" received, " T" sent */
	while (p < e && is_blank(*p))
		p++;
	if (p < e) {
		if (e - p != 1 ||
		    (*p != 'R' && *p != 'T' && *p != 'r' && *p != 't')) {
			what = "end of line or direction 'R' or 'T' after the "
			       "frame";
			goto invalid;
		}
		f->dir = (*p == 'R' || *p == 'r') ? 'R' : 'T';
	}
	return 0;

invalid:
	if (ret_what)
		*ret_what = what;
	return -EINVAL;
}

static int reader_new(struct candump_reader **ret, FILE *stream, bool own,
		      const char *name, candump_error_fn on_error,
		      void *userdata)
{
	struct candump_reader *r;

	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->name = strdup(name ? name : "-");
	if (!r->name) {
		free(r);
		return -ENOMEM;
	}
	r->stream = stream;
	r->own_stream = own;
	r->fd = fileno(stream);
	r->eof = false;
	r->skipping = false;
	r->on_error = on_error;
	r->userdata = userdata;
	r->line = 0;
	r->errors = 0;
	r->pos = 0;
	r->end = 0;
	*ret = r;
	return 0;
}

int candump_reader_open(struct candump_reader **ret, const char *path,
			candump_error_fn on_error, void *userdata)
{
	FILE *stream;
	int err;

	if (!ret || !path)
		return -EINVAL;
	if (strcmp(path, "-") == 0)
		return reader_new(ret, stdin, false, path, on_error, userdata);
	stream = fopen(path, "re");
	if (!stream)
		return -errno;
	err = reader_new(ret, stream, true, path, on_error, userdata);
	if (err < 0)
		fclose(stream);
	return err;
}

int candump_reader_from_stream(struct candump_reader **ret, FILE *stream,
			       const char *name, candump_error_fn on_error,
			       void *userdata)
{
	if (!ret || !stream)
		return -EINVAL;
	return reader_new(ret, stream, false, name, on_error, userdata);
}

void candump_reader_free(struct candump_reader *r)
{
	if (!r)
		return;
	if (r->own_stream)
		fclose(r->stream);
	free(r->name);
	free(r);
}

static void reader_report(struct candump_reader *r, const char *what)
{
	r->errors++;
	if (r->on_error)
		r->on_error(r->userdata, r->name, r->line, what);
}

/*
 * Appends to the buffer after moving the unread rest to its start. read()
 * on the descriptor returns what a pipe has now, so a live
 * "candump -L can0 | dtcd --replay -" is not held back until the buffer
 * fills; streams without a descriptor (fmemopen) go through fread().
 */
static int reader_fill(struct candump_reader *r)
{
	size_t rest = r->end - r->pos;
	ssize_t n;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, rest);
		r->pos = 0;
		r->end = rest;
	}
	if (r->fd >= 0) {
		do
			n = read(r->fd, r->buf + r->end,
				 sizeof(r->buf) - r->end);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
	} else {
		n = (ssize_t)fread(r->buf + r->end, 1, sizeof(r->buf) - r->end,
				   r->stream);
		if (n == 0 && ferror(r->stream))
			return -EIO;
	}
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return 0;
}

/* 1 with the next line (without newline), 0 at the end, -errno */
static int reader_next_line(struct candump_reader *r, const char **ret_line,
			    size_t *ret_len)
{
	int err;

	for (;;) {
		char *start = r->buf + r->pos;
		size_t avail = r->end - r->pos;
		char *nl = memchr(start, '\n', avail);

		if (nl) {
			r->pos += (size_t)(nl - start) + 1;
			if (r->skipping) {
				/* the tail of a line reported already */
				r->skipping = false;
				continue;
			}
			r->line++;
			*ret_line = start;
			*ret_len = (size_t)(nl - start);
			return 1;
		}
		if (r->eof) {
			r->pos = r->end;
			if (avail == 0 || r->skipping) {
				r->skipping = false;
				return 0;
			}
			/* a last line without newline */
			r->line++;
			*ret_line = start;
			*ret_len = avail;
			return 1;
		}
		if (r->pos == 0 && r->end == sizeof(r->buf)) {
			/* one line fills the whole buffer: report, drop */
			if (!r->skipping) {
				r->line++;
				r->skipping = true;
				reader_report(r, "line of at most 64 KiB");
			}
			r->end = 0;
		}
		err = reader_fill(r);
		if (err < 0)
			return err;
	}
}

/*
 * The fast path: the one layout candump -l writes, "(SEC.FRAC) IFACE
 * ID#DATA\n" with 1..10 digits of seconds, 6 or 9 of fraction, a single
 * blank, an interface name, a 3- or 8-digit data frame of at most 8 bytes
 * and the newline right after it. It reads without bounds checks, so the
 * caller guarantees FAST_MAX_LINE bytes from p (no accepted line is longer).
 * Anything else, also a line it would reject, returns NULL and goes to
 * candump_parse_line(), which has the whole grammar and its error messages;
 * on what it accepts, the fast path gives the same frame (the candump fuzz
 * target checks that the two agree). Returns the byte after the newline.
 */
#define FAST_MAX_LINE 80

/* hex digit value, or above 15 for anything else */
static inline unsigned int hexd(char c)
{
	return hex1[(unsigned char)c] - 1u;
}

/*
 * Eight characters at a time (SWAR): a byte lane per character, the first
 * character in the lowest byte. A lane's top bit (0x80) is its flag.
 */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS (ONES * 0x80)

static inline uint64_t load8(const char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return le64toh(x);
}

/* flag in each lane lo..hi; x has no top bits, so no lane carries over */
static inline uint64_t lanes_in(uint64_t x, unsigned int lo, unsigned int hi)
{
	return (x + ONES * (0x80 - lo)) & ~(x + ONES * (0x7f - hi)) & HIGHS;
}

/*
 * How many leading lanes are decimal digits (0..8). A digit is 0x3N with
 * N + 6 below 16; a carry out of x + 6 only leaves a lane that is no digit,
 * so it can only spoil lanes after the first non-digit.
 */
static inline unsigned int digits_leading(uint64_t x)
{
	uint64_t no = ((x & (ONES * 0xf0)) ^ (ONES * 0x30)) |
		      (((x + ONES * 0x06) & (ONES * 0xf0)) ^ (ONES * 0x30));

	return no ? (unsigned int)__builtin_ctzll(no) / 8 : 8;
}

static inline uint64_t lanes_hex(uint64_t x)
{
	uint64_t x7 = x & ~HIGHS;

	/* | 0x20 folds 'A'..'F' onto 'a'..'f' and nothing else onto them */
	return (lanes_in(x7, '0', '9') | lanes_in(x7 | ONES * 0x20, 'a', 'f')) &
	       ~x;
}

/*
 * flag in each lane that the fast path takes in an interface name: printable
 * ASCII without the blank (candump's names); other names go the full way
 */
static inline uint64_t lanes_name(uint64_t x)
{
	return lanes_in(x & ~HIGHS, '!', '~') & ~x;
}

/* how many lanes from the first are flagged (0..8) */
static inline unsigned int lanes_leading(uint64_t flags)
{
	uint64_t not = ~flags & HIGHS;

	return not ? (unsigned int)__builtin_ctzll(not ) / 8 : 8;
}

/* the number eight decimal digits spell (leading zero lanes allowed) */
static inline uint64_t digits8(uint64_t x)
{
	x = ((x & (ONES * 0x0f)) * 2561) >> 8;
	x = ((x & UINT64_C(0x00ff00ff00ff00ff)) * 6553601) >> 16;
	return ((x & UINT64_C(0x0000ffff0000ffff)) *
		UINT64_C(42949672960001)) >>
	       32;
}

/* n (1..8) leading digits of x as a number */
static inline uint64_t digits_n(uint64_t x, unsigned int n)
{
	return digits8(x << (8 * (8 - n)));
}

/* four bytes from eight hex digits, lane by lane (garbage lanes allowed) */
static inline uint64_t hex8(uint64_t x)
{
	/* digits have bit 6 clear, letters set: 'a' & 0x0f is 1, + 9 */
	uint64_t v = (x & (ONES * 0x0f)) + 9 * ((x >> 6) & ONES);

	v = ((v << 4) | (v >> 8)) & UINT64_C(0x00ff00ff00ff00ff);
	v = (v | (v >> 8)) & UINT64_C(0x0000ffff0000ffff);
	return (v | (v >> 16)) & UINT64_C(0xffffffff);
}

static inline __attribute__((always_inline)) const char *
parse_fast(const char *p, struct frame *f)
{
	uint64_t x, y, sec, frac, ns, data;
	unsigned int n, d, i, hi, lo;
	uint32_t id;

	if (*p != '(')
		return NULL;
	p++;
	/* 1..10 digits of seconds */
	x = load8(p);
	n = digits_leading(x);
	if (n == 0)
		return NULL;
	if (n < 8) {
		sec = digits_n(x, n);
	} else {
		/* epoch seconds have 10 digits: two more */
		sec = digits8(x);
		d = (unsigned char)p[8] - '0';
		if (d <= 9) {
			unsigned int d2 = (unsigned char)p[9] - '0';

			if (d2 <= 9) {
				sec = sec * 100 + d * 10 + d2;
				n = 10;
			} else {
				sec = sec * 10 + d;
				n = 9;
			}
		}
	}
	p += n;
	if (*p != '.')
		return NULL;
	p++;
	/* 6 or 9 digits of fraction */
	x = load8(p);
	n = digits_leading(x);
	if (n == 6) {
		frac = digits_n(x, 6) * 1000;
	} else if (n == 8 && (d = (unsigned char)p[8] - '0') <= 9) {
		frac = digits8(x) * 10 + d;
		n = 9;
	} else {
		return NULL;
	}
	p += n;
	if (p[0] != ')' || p[1] != ' ')
		return NULL;
	/* at most 10 digits: 1e10 * 1e9 fits uint64 */
	ns = sec * 1000000000u + frac;
	if (ns >= UINT64_C(1) << 63)
		return NULL; /* the wrapped negative times of relative logs */
	p += 2;

	/* every other field is written below */
	f->flags = 0;
	f->len8_dlc = 0;
	f->dir = 0;
	memset(f->data + CAN_MAX_DLEN, 0, sizeof(f->data) - CAN_MAX_DLEN);
	f->ts_ns = (int64_t)ns;
	/* the interface name: up to 15 characters that are no blank */
	x = load8(p);
	y = load8(p + 8);
	n = lanes_leading(lanes_name(x));
	if (n == 8)
		n += lanes_leading(lanes_name(y));
	if (n == 0 || n >= FRAME_IFNAMSIZ || p[n] != ' ')
		return NULL;
	if (n < 8) {
		x &= (UINT64_C(1) << (8 * n)) - 1;
		y = 0;
	} else {
		y &= (UINT64_C(1) << (8 * (n - 8))) - 1;
	}
	x = htole64(x);
	y = htole64(y);
	memcpy(f->iface, &x, sizeof(x));
	memcpy(f->iface + 8, &y, sizeof(y));
	p += n + 1;

	if (p[3] == '#') {
		hi = hexd(p[0]);
		lo = hexd(p[1]);
		d = hexd(p[2]);
		if ((hi | lo | d) > 15)
			return NULL;
		id = hi << 8 | lo << 4 | d;
		if (id > CAN_SFF_MAX)
			return NULL;
		p += 4;
	} else if (p[8] == '#') {
		id = 0;
		for (i = 0; i < 8; i++) {
			d = hexd(p[i]);
			if (d > 15)
				return NULL;
			id = id << 4 | d;
		}
		if (id & CAN_ID_FLAGS)
			return NULL; /* error frames and bad IDs: the full
					parser */
		f->flags = FRAME_EFF;
		p += 9;
	} else {
		return NULL;
	}
	f->id = id;

	/* up to 16 hex digits, and the newline right after them */
	x = load8(p);
	y = load8(p + 8);
	n = lanes_leading(lanes_hex(x));
	if (n == 8)
		n += lanes_leading(lanes_hex(y));
	if ((n & 1) || p[n] != '\n')
		return NULL;
	n /= 2;
	data = hex8(x) | hex8(y) << 32;
	if (n < CAN_MAX_DLEN)
		data &= (UINT64_C(1) << (8 * n)) - 1;
	data = htole64(data);
	memcpy(f->data, &data, sizeof(data));
	f->len = (uint8_t)n;
	return p + 2 * n + 1;
}

/* a line the fast path did not take, or a buffer to refill */
static __attribute__((noinline)) int reader_next_slow(struct candump_reader *r,
						      struct frame *ret_frame)
{
	const char *line, *what = NULL, *next;
	size_t len;
	int ret;

	for (;;) {
		ret = reader_next_line(r, &line, &len);
		if (ret <= 0)
			return ret;
		ret = candump_parse_line(line, len, ret_frame, &what);
		if (ret == 0)
			return 1;
		if (ret == -EINVAL)
			reader_report(r, what);
		/* the next line may be a common one again */
		if (r->end - r->pos >= FAST_MAX_LINE && !r->skipping) {
			next = parse_fast(r->buf + r->pos, ret_frame);
			if (next) {
				r->pos = (size_t)(next - r->buf);
				r->line++;
				return 1;
			}
		}
	}
}

int candump_reader_next(struct candump_reader *r, struct frame *ret_frame)
{
	const char *next;

	/*
	 * Near the end of the buffer, the slow path refills it only when no
	 * whole line is left: a pipe's last line is never held back waiting
	 * for more input. The common line takes no more than this.
	 */
	if (r->end - r->pos >= FAST_MAX_LINE && !r->skipping) {
		next = parse_fast(r->buf + r->pos, ret_frame);
		if (next) {
			r->pos = (size_t)(next - r->buf);
			r->line++;
			return 1;
		}
	}
	return reader_next_slow(r, ret_frame);
}

unsigned long candump_reader_line(const struct candump_reader *r)
{
	return r ? r->line : 0;
}

unsigned long candump_reader_errors(const struct candump_reader *r)
{
	return r ? r->errors : 0;
}
