/* frame_ring.c: a byte ring of variable-length frame records */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame_ring.h"

struct frame_ring {
	uint8_t *buf;
	size_t cap;
	size_t head; /* where the next record goes */
	size_t tail; /* the oldest record */
	size_t used;
	unsigned long n;
	unsigned long dropped;
};

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

size_t frame_record_encode(const struct frame *f, uint8_t *buf)
{
	size_t ifl = strnlen(f->iface, FRAME_IFNAMSIZ - 1);
	/* a remote request has no payload, whatever its length says */
	size_t dl = (f->flags & FRAME_RTR) ? 0 : f->len;

	if (dl > FRAME_MAX_DATA)
		dl = FRAME_MAX_DATA;
	put_le(buf, (uint64_t)f->ts_ns, 8);
	put_le(buf + 8, f->id, 4);
	buf[12] = f->flags;
	buf[13] = f->len;
	buf[14] = f->len8_dlc;
	buf[15] = (uint8_t)f->dir;
	buf[16] = (uint8_t)ifl;
	buf[17] = (uint8_t)dl;
	memcpy(buf + FRAME_RECORD_HEADER, f->iface, ifl);
	memcpy(buf + FRAME_RECORD_HEADER + ifl, f->data, dl);
	return FRAME_RECORD_HEADER + ifl + dl;
}

int frame_record_next(const uint8_t *buf, size_t len, size_t *off,
		      struct frame *ret_frame)
{
	const uint8_t *p = buf + *off;
	size_t left = len - *off, ifl, dl;

	if (*off >= len)
		return 0;
	if (left < FRAME_RECORD_HEADER)
		return -EBADMSG;
	ifl = p[16];
	dl = p[17];
	if (ifl >= FRAME_IFNAMSIZ || dl > FRAME_MAX_DATA ||
	    left < FRAME_RECORD_HEADER + ifl + dl)
		return -EBADMSG;
	memset(ret_frame, 0, sizeof(*ret_frame));
	ret_frame->ts_ns = (int64_t)get_le(p, 8);
	ret_frame->id = (uint32_t)get_le(p + 8, 4);
	ret_frame->flags = p[12];
	ret_frame->len = p[13];
	ret_frame->len8_dlc = p[14];
	ret_frame->dir = (char)p[15];
	memcpy(ret_frame->iface, p + FRAME_RECORD_HEADER, ifl);
	memcpy(ret_frame->data, p + FRAME_RECORD_HEADER + ifl, dl);
	*off += FRAME_RECORD_HEADER + ifl + dl;
	return 1;
}

int frame_ring_new(struct frame_ring **ret, size_t max_bytes)
{
	struct frame_ring *r = calloc(1, sizeof(*r));

	if (max_bytes < FRAME_RECORD_MAX)
		max_bytes = FRAME_RECORD_MAX;
	if (!r)
		return -ENOMEM;
	r->buf = malloc(max_bytes);
	if (!r->buf) {
		free(r);
		return -ENOMEM;
	}
	r->cap = max_bytes;
	*ret = r;
	return 0;
}

void frame_ring_free(struct frame_ring *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

/* n bytes from the ring at pos, across the end */
static void ring_read(const struct frame_ring *r, size_t pos, uint8_t *dst,
		      size_t n)
{
	size_t first = r->cap - pos < n ? r->cap - pos : n;

	memcpy(dst, r->buf + pos, first);
	memcpy(dst + first, r->buf, n - first);
}

static size_t record_len_at(const struct frame_ring *r, size_t pos)
{
	uint8_t h[FRAME_RECORD_HEADER];

	ring_read(r, pos, h, sizeof(h));
	return FRAME_RECORD_HEADER + h[16] + h[17];
}

static int64_t ts_at(const struct frame_ring *r, size_t pos)
{
	uint8_t h[8];

	ring_read(r, pos, h, sizeof(h));
	return (int64_t)get_le(h, 8);
}

void frame_ring_push(struct frame_ring *r, const struct frame *f)
{
	uint8_t rec[FRAME_RECORD_MAX];
	size_t n = frame_record_encode(f, rec), first;

	while (r->cap - r->used < n) {
		size_t old = record_len_at(r, r->tail);

		r->tail = (r->tail + old) % r->cap;
		r->used -= old;
		r->n--;
		r->dropped++;
	}
	first = r->cap - r->head < n ? r->cap - r->head : n;
	memcpy(r->buf + r->head, rec, first);
	memcpy(r->buf, rec + first, n - first);
	r->head = (r->head + n) % r->cap;
	r->used += n;
	r->n++;
}

unsigned long frame_ring_dropped(const struct frame_ring *r)
{
	return r->dropped;
}

int64_t frame_ring_oldest_ns(const struct frame_ring *r)
{
	return r->n ? ts_at(r, r->tail) : INT64_MAX;
}

int frame_ring_copy(const struct frame_ring *r, int64_t from_ns, int64_t to_ns,
		    size_t max_bytes, uint8_t **ret_buf, size_t *ret_len,
		    unsigned long *ret_frames, unsigned long *ret_cut)
{
	size_t total = 0, skip, off = 0, pos, len;
	unsigned long frames = 0, cut = 0;
	uint8_t *buf;
	int64_t ts;

	/* first the size of the window, then what of it fits */
	pos = r->tail;
	for (unsigned long i = 0; i < r->n; i++, pos = (pos + len) % r->cap) {
		len = record_len_at(r, pos);
		ts = ts_at(r, pos);
		if (ts >= from_ns && ts <= to_ns)
			total += len;
	}
	skip = total > max_bytes ? total - max_bytes : 0;
	buf = malloc(total - skip ? total - skip : 1);
	if (!buf)
		return -ENOMEM;
	pos = r->tail;
	for (unsigned long i = 0; i < r->n; i++, pos = (pos + len) % r->cap) {
		len = record_len_at(r, pos);
		ts = ts_at(r, pos);
		if (ts < from_ns || ts > to_ns)
			continue;
		if (skip) {
			skip = len < skip ? skip - len : 0;
			cut++;
			continue;
		}
		ring_read(r, pos, buf + off, len);
		off += len;
		frames++;
	}
	*ret_buf = buf;
	*ret_len = off;
	*ret_frames = frames;
	*ret_cut = cut;
	return 0;
}
