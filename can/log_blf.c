/* log_blf.c: Vector BLF (binary logging format), zlib containers via zlib */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "log_format.h"

/*
 * A BLF file is a 144-byte "LOGG" header (with the measurement's start as a
 * Windows SYSTEMTIME in local time) and a sequence of "LOBJ" objects. Most
 * are LOG_CONTAINERs: up to about 128 KiB of further objects, usually
 * deflated; an inner object may continue in the next container. Objects are
 * little-endian and padded to four bytes. We keep one container's inflated
 * bytes (plus the unfinished tail of the one before) at a time, so memory is
 * bounded whatever the file size.
 */

#define FILE_SIGNATURE "LOGG"
#define OBJ_SIGNATURE "LOBJ"
#define OBJ_BASE_SIZE 16
#define OBJ_MAX_SIZE (16u << 20) /* far above any real container */

enum {
	BLF_CAN_MESSAGE = 1,
	BLF_LOG_CONTAINER = 10,
	BLF_CAN_ERROR_EXT = 73,
	BLF_CAN_MESSAGE2 = 86,
	BLF_CAN_FD_MESSAGE = 100,
	BLF_CAN_FD_MESSAGE_64 = 101,
};

#define CAN_MSG_EXT 0x80000000u
#define MSG_DIR_TX 0x01
#define MSG_REMOTE 0x80
#define FD_EDL 0x01
#define FD_BRS 0x02
#define FD_ESI 0x04
#define FD64_RTR 0x0010
#define FD64_EDL 0x1000
#define FD64_BRS 0x2000
#define FD64_ESI 0x4000
#define TIME_TEN_MICS 0x00000001

struct blf_state {
	struct log_source src; /* first: position is the object */
	bool eof;
	uint8_t *raw; /* one outer object as read */
	size_t raw_cap;
	uint8_t *buf; /* inner objects: inflated containers */
	size_t len, pos, cap;
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void blf_report(struct blf_state *s, const char *what)
{
	log_source_report(&s->src, what);
}

static int reserve(uint8_t **p, size_t *cap, size_t need)
{
	uint8_t *n;

	if (need <= *cap)
		return 0;
	n = realloc(*p, need);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = need;
	return 0;
}

/* SYSTEMTIME: year, month, weekday, day, hour, minute, second, ms */
static int64_t systemtime_ns(const uint8_t *p)
{
	struct tm tm = { 0 };
	time_t t;

	if (le16(p) < 1970 || le16(p + 2) < 1 || le16(p + 2) > 12)
		return 0;
	tm.tm_year = le16(p) - 1900;
	tm.tm_mon = le16(p + 2) - 1;
	tm.tm_mday = le16(p + 6);
	tm.tm_hour = le16(p + 8);
	tm.tm_min = le16(p + 10);
	tm.tm_sec = le16(p + 12);
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return 0;
	return (int64_t)t * 1000000000 + (int64_t)le16(p + 14) * 1000000;
}

static const uint8_t dlc_len[16] = { 0, 1,  2,	3,  4,	5,  6,	7,
				     8, 12, 16, 20, 24, 32, 48, 64 };

static void set_id(struct frame *f, uint32_t id)
{
	if (id & CAN_MSG_EXT)
		f->flags |= FRAME_EFF;
	f->id = id & 0x1fffffff;
}

/*
 * One inner object's payload (after its header) into a frame. Returns 1, 0
 * for an object that is no CAN frame, or -EINVAL with *what set.
 */
static int decode(uint32_t type, const uint8_t *d, size_t n, struct frame *f,
		  const char **what)
{
	unsigned len;

	switch (type) {
	case BLF_CAN_MESSAGE:
	case BLF_CAN_MESSAGE2:
		if (n < 16)
			goto short_obj;
		set_id(f, le32(d + 4));
		f->dir = d[2] & MSG_DIR_TX ? 'T' : 'R';
		len = d[3] & 0x0f;
		/* a raw DLC 9..F (remote or data) is candump's "_F" */
		if (len > 8)
			f->len8_dlc = (uint8_t)len;
		f->len = len > 8 ? 8 : (uint8_t)len;
		if (d[2] & MSG_REMOTE) {
			f->flags |= FRAME_RTR;
			break;
		}
		memcpy(f->data, d + 8, f->len);
		break;
	case BLF_CAN_ERROR_EXT:
		if (n < 32)
			goto short_obj;
		/* the error class in the ID, as SocketCAN's error frames have
		 */
		f->flags |= FRAME_ERR;
		f->id = le32(d + 16) & 0x1fffffff;
		f->len = (uint8_t)(dlc_len[d[10] & 0x0f] > 8 ?
					   8 :
					   dlc_len[d[10] & 0x0f]);
		memcpy(f->data, d + 24, f->len);
		break;
	case BLF_CAN_FD_MESSAGE:
		if (n < 84)
			goto short_obj;
		set_id(f, le32(d + 4));
		f->dir = d[2] & MSG_DIR_TX ? 'T' : 'R';
		len = d[3] & 0x0f;
		if (d[2] & MSG_REMOTE)
			f->flags |= FRAME_RTR;
		if (d[13] & FD_EDL)
			f->flags |= FRAME_FD;
		if (d[13] & FD_BRS)
			f->flags |= FRAME_BRS;
		if (d[13] & FD_ESI)
			f->flags |= FRAME_ESI;
		f->len = d[14] > 64 ? 64 : d[14];
		if (!(f->flags & FRAME_FD) && f->len > 8)
			f->len = 8;
		if (f->flags & FRAME_RTR)
			f->len = (uint8_t)(len > 8 ? 8 : len);
		else
			memcpy(f->data, d + 20, f->len);
		break;
	case BLF_CAN_FD_MESSAGE_64: {
		uint32_t fl;

		if (n < 40)
			goto short_obj;
		fl = le32(d + 12);
		set_id(f, le32(d + 4));
		f->dir = d[34] ? 'T' : 'R';
		if (fl & FD64_EDL)
			f->flags |= FRAME_FD;
		if (fl & FD64_BRS)
			f->flags |= FRAME_BRS;
		if (fl & FD64_ESI)
			f->flags |= FRAME_ESI;
		if (fl & FD64_RTR) {
			f->flags |= FRAME_RTR;
			f->len = (uint8_t)(dlc_len[d[1] & 0x0f] > 8 ?
						   8 :
						   dlc_len[d[1] & 0x0f]);
			break;
		}
		f->len = d[2] > 64 ? 64 : d[2];
		if (!(f->flags & FRAME_FD) && f->len > 8)
			f->len = 8;
		if (n < 40u + f->len)
			goto short_obj;
		memcpy(f->data, d + 40, f->len);
		break;
	}
	default:
		return 0;
	}
	snprintf(f->iface, sizeof(f->iface), "can%u",
		 type == BLF_CAN_FD_MESSAGE_64 ? (d[0] ? d[0] - 1u : 0) :
						 (le16(d) ? le16(d) - 1u : 0));
	return 1;
short_obj:
	*what = "a CAN object as long as its type needs";
	return -EINVAL;
}

/* reads the next outer object into s->raw; 1, 0 at the end, -errno */
static int read_outer(struct blf_state *s, uint32_t *ret_type,
		      uint32_t *ret_size)
{
	uint8_t hdr[OBJ_BASE_SIZE];
	uint32_t size;
	size_t n;
	int c;

	/* objects are padded: skip zero bytes up to the next signature */
	for (int skipped = 0;; skipped++) {
		c = getc(s->src.f);
		if (c == EOF)
			return ferror(s->src.f) ? -EIO : 0;
		if (c == 'L' || skipped >= 8)
			break;
	}
	hdr[0] = (uint8_t)c;
	n = fread(hdr + 1, 1, sizeof(hdr) - 1, s->src.f);
	s->src.position++;
	if (n != sizeof(hdr) - 1) {
		blf_report(s, "a whole BLF object header (file cut short)");
		return 0;
	}
	if (memcmp(hdr, OBJ_SIGNATURE, 4)) {
		blf_report(s, "the object signature LOBJ");
		return 0; /* lost sync: nothing after this can be trusted */
	}
	size = le32(hdr + 8);
	if (size < OBJ_BASE_SIZE || size > OBJ_MAX_SIZE) {
		blf_report(s, "an object size of 16 bytes to 16 MiB");
		return 0;
	}
	if (reserve(&s->raw, &s->raw_cap, size) < 0)
		return -ENOMEM;
	memcpy(s->raw, hdr, sizeof(hdr));
	n = fread(s->raw + OBJ_BASE_SIZE, 1, size - OBJ_BASE_SIZE, s->src.f);
	if (n != size - OBJ_BASE_SIZE) {
		blf_report(s, "as many object bytes as its size says (file "
			      "cut short)");
		return 0;
	}
	*ret_type = le32(hdr + 12);
	*ret_size = size;
	return 1;
}

/* appends a container's (inflated) bytes to the inner buffer */
static int add_container(struct blf_state *s, uint32_t size)
{
	const uint8_t *c = s->raw + OBJ_BASE_SIZE;
	uint16_t method;
	uLongf out;
	uint32_t usize;

	if (size < OBJ_BASE_SIZE + 16) {
		blf_report(s, "a log container header");
		return 0;
	}
	method = le16(c);
	usize = le32(c + 8);
	if (usize > OBJ_MAX_SIZE) {
		blf_report(s, "a container of at most 16 MiB");
		return 0;
	}
	/* keep the unfinished tail of the previous container (none, and no
	 * buffer yet, before the first) */
	if (s->len > s->pos)
		memmove(s->buf, s->buf + s->pos, s->len - s->pos);
	s->len -= s->pos;
	s->pos = 0;
	if (reserve(&s->buf, &s->cap, s->len + usize) < 0)
		return -ENOMEM;
	if (method == 0) {
		if (usize > size - OBJ_BASE_SIZE - 16)
			usize = size - OBJ_BASE_SIZE - 16;
		memcpy(s->buf + s->len, c + 16, usize);
		s->len += usize;
		return 0;
	}
	if (method != 2) {
		blf_report(s, "container compression 0 (none) or 2 (zlib)");
		return 0;
	}
	out = usize;
	if (uncompress(s->buf + s->len, &out, c + 16,
		       size - OBJ_BASE_SIZE - 16) != Z_OK) {
		blf_report(s, "a zlib stream that inflates to the container's "
			      "size");
		return 0;
	}
	s->len += out;
	return 0;
}

/*
 * The next inner object in buf: 1 with a frame, 0 when buf needs more, or
 * -EINVAL (reported, skipped).
 */
static int next_inner(struct blf_state *s, struct frame *f)
{
	while (s->len - s->pos >= OBJ_BASE_SIZE) {
		const uint8_t *o = s->buf + s->pos;
		uint32_t size, type, flags;
		uint16_t hsize;
		uint64_t ts;
		const char *what = NULL;
		int r;

		if (memcmp(o, OBJ_SIGNATURE, 4)) {
			s->pos++; /* padding between objects */
			continue;
		}
		hsize = le16(o + 4);
		size = le32(o + 8);
		type = le32(o + 12);
		if (size < OBJ_BASE_SIZE || size > OBJ_MAX_SIZE ||
		    hsize < OBJ_BASE_SIZE + 16 || hsize > size) {
			s->src.position++;
			blf_report(s, "an object whose header and size fit");
			s->pos += 4;
			continue;
		}
		if (s->len - s->pos < size)
			return 0; /* continues in the next container */
		s->src.position++;
		flags = le32(o + OBJ_BASE_SIZE);
		ts = le64(o + OBJ_BASE_SIZE + 8);
		*f = (struct frame){ 0 };
		r = decode(type, o + hsize, size - hsize, f, &what);
		s->pos += size;
		if (r < 0)
			blf_report(s, what);
		if (r <= 0)
			continue;
		f->ts_ns = s->src.origin_ns +
			   (int64_t)(flags == TIME_TEN_MICS ? ts * 10000 : ts);
		return 1;
	}
	return 0;
}

static int blf_next(void *state, struct frame *ret_frame)
{
	struct blf_state *s = state;
	uint32_t type, size;
	int r;

	for (;;) {
		if (next_inner(s, ret_frame))
			return 1;
		if (s->eof)
			return 0;
		r = read_outer(s, &type, &size);
		if (r < 0)
			return r;
		if (r == 0) {
			s->eof = true;
			continue;
		}
		if (type == BLF_LOG_CONTAINER) {
			r = add_container(s, size);
			if (r < 0)
				return r;
			continue;
		}
		/* an object outside any container (old files) */
		if (reserve(&s->buf, &s->cap, s->len + size) < 0)
			return -ENOMEM;
		memcpy(s->buf + s->len, s->raw, size);
		s->len += size;
	}
}

static bool blf_sniff(const uint8_t *head, size_t len)
{
	return len >= 4 && !memcmp(head, FILE_SIGNATURE, 4);
}

static int blf_open(void **ret, FILE *f, const char *path,
		    candump_error_fn on_error, void *userdata)
{
	struct blf_state *s = calloc(1, sizeof(*s));
	uint8_t hdr[144];
	uint32_t hsize;

	if (!s)
		return -ENOMEM;
	log_source_init(&s->src, f, path, on_error, userdata);
	*ret = s;
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    memcmp(hdr, FILE_SIGNATURE, 4)) {
		blf_report(s, "a BLF file header of 144 bytes");
		s->eof = true;
		return 0;
	}
	s->src.origin_ns = systemtime_ns(hdr + 40);
	hsize = le32(hdr + 4);
	if (hsize > sizeof(hdr) && hsize < OBJ_MAX_SIZE &&
	    fseek(f, hsize, SEEK_SET) != 0)
		s->eof = true;
	return 0;
}

static void blf_free(void *state)
{
	struct blf_state *s = state;

	if (!s)
		return;
	free(s->raw);
	free(s->buf);
	free(s);
}

const struct log_format_ops log_blf_ops = {
	.name = "blf",
	.sniff = blf_sniff,
	.open = blf_open,
	.next = blf_next,
	.position = log_source_position,
	.errors = log_source_errors,
	.free = blf_free,
};

/* ---- the writer: objects and containers as python-can's BLFWriter ---- */

#define BLF_HEADER_SIZE 144
#define BLF_CONTAINER_MAX (128 * 1024)
#define BLF_APPLICATION_ID 5
#define TIME_ONE_NANS 0x00000002

struct blf_writer {
	FILE *f;
	uint8_t *buf; /* objects not yet in a container */
	size_t len, cap;
	uint8_t *z; /* a container's deflated bytes */
	uLong z_cap;
	uint64_t objects;
	uint64_t uncompressed; /* the header's "uncompressed size" */
	bool have_start;
	int64_t start_ns, stop_ns;
	int error;
};

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

/* python-can's timestamp_to_systemtime(): local time, ms rounded; zeros
 * before 1990 */
static void wr_systemtime(uint8_t *p, bool have, int64_t ns)
{
	int64_t ms = (ns + 500000) / 1000000;
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	memset(p, 0, 16);
	if (!have || ns < 631152000LL * 1000000000 || !localtime_r(&t, &tm))
		return;
	wr16(p, (uint16_t)(tm.tm_year + 1900));
	wr16(p + 2, (uint16_t)(tm.tm_mon + 1));
	wr16(p + 4, (uint16_t)tm.tm_wday);
	wr16(p + 6, (uint16_t)tm.tm_mday);
	wr16(p + 8, (uint16_t)tm.tm_hour);
	wr16(p + 10, (uint16_t)tm.tm_min);
	wr16(p + 12, (uint16_t)tm.tm_sec);
	wr16(p + 14, (uint16_t)(ms % 1000));
}

static int blf_write_header(struct blf_writer *w, uint64_t file_size)
{
	uint8_t h[BLF_HEADER_SIZE] = { 'L', 'O', 'G', 'G' };

	wr32(h + 4, BLF_HEADER_SIZE);
	h[8] = BLF_APPLICATION_ID;
	/* application version 0.0.0, BL API 2.6.8.1 */
	h[12] = 2;
	h[13] = 6;
	h[14] = 8;
	h[15] = 1;
	wr64(h + 16, file_size);
	wr64(h + 24, w->uncompressed);
	wr32(h + 32, (uint32_t)w->objects);
	wr_systemtime(h + 40, w->have_start, w->start_ns);
	wr_systemtime(h + 56, w->have_start, w->stop_ns);
	return fwrite(h, 1, sizeof(h), w->f) == sizeof(h) ? 0 : -EIO;
}

static int blf_writer_open(void **ret_state, FILE *f)
{
	struct blf_writer *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->f = f;
	w->cap = 2 * BLF_CONTAINER_MAX;
	w->buf = malloc(w->cap);
	w->z_cap = compressBound(BLF_CONTAINER_MAX);
	w->z = malloc(w->z_cap);
	w->uncompressed = BLF_HEADER_SIZE;
	/* rewritten with the counts by finish */
	r = w->buf && w->z ? blf_write_header(w, BLF_HEADER_SIZE) : -ENOMEM;
	if (r < 0) {
		free(w->buf);
		free(w->z);
		free(w);
		return r;
	}
	*ret_state = w;
	return 0;
}

/* the first BLF_CONTAINER_MAX bytes (or fewer) into one container */
static int blf_flush(struct blf_writer *w)
{
	size_t n = w->len < BLF_CONTAINER_MAX ? w->len : BLF_CONTAINER_MAX;
	uLongf zlen = w->z_cap;
	uint8_t hdr[OBJ_BASE_SIZE + 16] = { 'L', 'O', 'B', 'J' };
	static const uint8_t pad[4];
	uint32_t size;

	if (!n)
		return 0;
	if (compress2(w->z, &zlen, w->buf, n, Z_DEFAULT_COMPRESSION) != Z_OK)
		return -ENOMEM;
	size = (uint32_t)(sizeof(hdr) + zlen);
	wr16(hdr + 4, OBJ_BASE_SIZE);
	wr16(hdr + 6, 1);
	wr32(hdr + 8, size);
	wr32(hdr + 12, BLF_LOG_CONTAINER);
	wr16(hdr + 16, 2); /* zlib deflate */
	wr32(hdr + 24, (uint32_t)n);
	if (fwrite(hdr, 1, sizeof(hdr), w->f) != sizeof(hdr) ||
	    fwrite(w->z, 1, zlen, w->f) != zlen ||
	    fwrite(pad, 1, size % 4, w->f) != size % 4)
		return -EIO;
	w->uncompressed += sizeof(hdr) + n;
	memmove(w->buf, w->buf + n, w->len - n);
	w->len -= n;
	return 0;
}

static int blf_add(struct blf_writer *w, uint32_t type, const uint8_t *data,
		   size_t n, int64_t ts_ns)
{
	uint8_t *p;
	size_t pad = n % 4; /* as python-can pads */

	if (!w->have_start) {
		/* the header's SYSTEMTIME holds milliseconds */
		w->have_start = true;
		w->start_ns = log_format_start(ts_ns);
	}
	w->stop_ns = ts_ns;
	if (w->len + 32 + n + pad > w->cap)
		return -ENOMEM; /* cannot happen: flushed at 128 KiB */
	p = w->buf + w->len;
	memcpy(p, OBJ_SIGNATURE, 4);
	wr16(p + 4, 32);
	wr16(p + 6, 1);
	wr32(p + 8, (uint32_t)(32 + n));
	wr32(p + 12, type);
	wr32(p + 16, TIME_ONE_NANS);
	wr32(p + 20, 0);
	wr64(p + 24, (uint64_t)(ts_ns - w->start_ns));
	memcpy(p + 32, data, n);
	memset(p + 32 + n, 0, pad);
	w->len += 32 + n + pad;
	w->objects++;
	return w->len >= BLF_CONTAINER_MAX ? blf_flush(w) : 0;
}

static int blf_writer_put(void *state, const struct frame *fr)
{
	struct blf_writer *w = state;
	uint8_t d[84] = { 0 };
	uint32_t id = fr->id | ((fr->flags & FRAME_EFF) ? CAN_MSG_EXT : 0);
	uint8_t flags = (uint8_t)(((fr->flags & FRAME_RTR) ? MSG_REMOTE : 0) |
				  (fr->dir == 'T' ? MSG_DIR_TX : 0));
	uint16_t ch = (uint16_t)log_format_channel(fr->iface);
	unsigned len = fr->len > FRAME_MAX_DATA ? FRAME_MAX_DATA : fr->len;
	int r;

	if (w->error)
		return w->error;
	/* objects' times count from the first frame, unsigned: not an error
	 * of the stream, the frame is left out */
	if (w->have_start && fr->ts_ns < w->start_ns)
		return -ERANGE;
	wr16(d, ch);
	if (fr->flags & FRAME_ERR) {
		d[10] = (uint8_t)(len > 8 ? 8 : len);
		wr32(d + 16, id);
		memcpy(d + 24, fr->data, 8);
		r = blf_add(w, BLF_CAN_ERROR_EXT, d, 32, fr->ts_ns);
	} else if (fr->flags & FRAME_FD) {
		d[2] = flags;
		d[3] = log_format_fd_dlc(len);
		wr32(d + 4, id);
		d[13] = (uint8_t)(FD_EDL |
				  ((fr->flags & FRAME_BRS) ? FD_BRS : 0) |
				  ((fr->flags & FRAME_ESI) ? FD_ESI : 0));
		d[14] = (uint8_t)len;
		memcpy(d + 20, fr->data, len);
		r = blf_add(w, BLF_CAN_FD_MESSAGE, d, 84, fr->ts_ns);
	} else {
		d[2] = flags;
		d[3] = log_format_classic_dlc(fr);
		wr32(d + 4, id);
		if (!(fr->flags & FRAME_RTR))
			memcpy(d + 8, fr->data, 8);
		r = blf_add(w, BLF_CAN_MESSAGE, d, 16, fr->ts_ns);
	}
	return w->error = r;
}

static int blf_writer_finish(void *state)
{
	struct blf_writer *w = state;
	long size;
	int r = w->error;

	while (r == 0 && w->len)
		r = blf_flush(w);
	/* the header with the counts: BLF needs a file it can seek back in */
	size = r == 0 ? ftell(w->f) : -1;
	if (r == 0 && (size < 0 || fseek(w->f, 0, SEEK_SET) < 0))
		r = -ESPIPE;
	if (r == 0)
		r = blf_write_header(w, (uint64_t)size);
	if (r == 0 && fseek(w->f, 0, SEEK_END) < 0)
		r = -errno;
	if (fflush(w->f) && r == 0)
		r = -EIO;
	return w->error = r;
}

static void blf_writer_free(void *state)
{
	struct blf_writer *w = state;

	if (!w)
		return;
	free(w->buf);
	free(w->z);
	free(w);
}

const struct log_writer_ops log_blf_writer_ops = {
	.name = "blf",
	.open = blf_writer_open,
	.put = blf_writer_put,
	.finish = blf_writer_finish,
	.free = blf_writer_free,
};
