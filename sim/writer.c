/* writer.c: frames in time order to a candump -l log, with bus realism */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "signal.h"
#include "writer.h"

#define OUT_BUF (1 << 20)
#define LINE_MAX_LEN 96

struct pending {
	uint64_t seq; /* ties at one microsecond keep the order of pushing */
	struct writer_frame f;
};

struct writer {
	FILE *out, *truth;
	char iface[16];
	size_t iface_len;
	struct rng rng;
	unsigned jitter_us;
	double drop_rate;
	unsigned malformed_lines, malformed_every;

	struct pending *heap;
	size_t n, cap;
	uint64_t seq;

	uint64_t frames, malformed, limit;
	int64_t last_ts_us;
	int error;

	char *buf;
	size_t len;
	int (*sink)(void *ud, const struct writer_frame *f);
	void *sink_ud;
	struct log_writer *log; /* ASC, BLF; NULL: candump lines here */
};

static const char hex[] = "0123456789ABCDEF";

int writer_new(struct writer **ret, FILE *out, FILE *truth,
	       const struct scenario *sc, uint64_t seed)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->out = out;
	w->truth = truth;
	snprintf(w->iface, sizeof(w->iface), "%s", sc->iface);
	w->iface_len = strlen(w->iface);
	rng_seed(&w->rng, seed, 3);
	w->jitter_us = sc->jitter_us;
	w->drop_rate = sc->drop_rate;
	w->malformed_lines = sc->malformed_lines;
	w->malformed_every = sc->malformed_every ? sc->malformed_every : 5000;
	w->cap = 256;
	w->heap = malloc(w->cap * sizeof(*w->heap));
	w->buf = malloc(OUT_BUF);
	if (!w->heap || !w->buf) {
		writer_free(w);
		return -ENOMEM;
	}
	*ret = w;
	return 0;
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	log_writer_free(w->log);
	free(w->heap);
	free(w->buf);
	free(w);
}

void writer_set_limit(struct writer *w, uint64_t max_frames)
{
	w->limit = max_frames;
}

static bool before(const struct pending *a, const struct pending *b)
{
	if (a->f.ts_us != b->f.ts_us)
		return a->f.ts_us < b->f.ts_us;
	return a->seq < b->seq;
}

int writer_push(struct writer *w, const struct writer_frame *f)
{
	struct pending p;
	size_t i;

	if (w->drop_rate > 0 && rng_chance(&w->rng, w->drop_rate))
		return 0;
	if (w->n == w->cap) {
		struct pending *h = realloc(w->heap, 2 * w->cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		w->heap = h;
		w->cap *= 2;
	}
	p.f = *f;
	p.seq = w->seq++;
	if (w->jitter_us)
		p.f.ts_us += (int64_t)(rng_next(&w->rng) % (w->jitter_us + 1));
	/* sift up */
	for (i = w->n++; i > 0; i = (i - 1) / 2) {
		struct pending *parent = &w->heap[(i - 1) / 2];

		if (!before(&p, parent))
			break;
		w->heap[i] = *parent;
	}
	w->heap[i] = p;
	return 0;
}

static void pop(struct writer *w, struct pending *ret)
{
	struct pending last;
	size_t i = 0, c;

	*ret = w->heap[0];
	last = w->heap[--w->n];
	for (;;) {
		c = 2 * i + 1;
		if (c >= w->n)
			break;
		if (c + 1 < w->n && before(&w->heap[c + 1], &w->heap[c]))
			c++;
		if (!before(&w->heap[c], &last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	w->heap[i] = last;
}

static int drain(struct writer *w)
{
	if (w->len && fwrite(w->buf, 1, w->len, w->out) != w->len)
		w->error = -EIO;
	w->len = 0;
	return w->error;
}

/* Decimal digits of v into p, returns the end */
static char *put_u64(char *p, uint64_t v, int min_digits)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < min_digits);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_ts(char *p, int64_t ts_us)
{
	p = put_u64(p, (uint64_t)(ts_us / 1000000), 1);
	*p++ = '.';
	return put_u64(p, (uint64_t)(ts_us % 1000000), 6);
}

static void put_malformed(struct writer *w)
{
	char *p = w->buf + w->len, *start = p;

	/* each kind breaks the grammar differently; python-can rejects all */
	switch (w->malformed % 4) {
	case 0: /* not hexadecimal */
		*p++ = '(';
		p = put_ts(p, w->last_ts_us);
		p += sprintf(p, ") %s 1D0#3C0G08C6\n", w->iface);
		break;
	case 1: /* cut short: no frame */
		*p++ = '(';
		p = put_ts(p, w->last_ts_us);
		p += sprintf(p, ") %s\n", w->iface);
		break;
	case 2: /* no '#' */
		*p++ = '(';
		p = put_ts(p, w->last_ts_us);
		p += sprintf(p, ") %s 0AA1122334455\n", w->iface);
		break;
	default:
		p += sprintf(p, "candump: interface %s: line noise\n",
			     w->iface);
		break;
	}
	w->len += (size_t)(p - start);
	w->malformed++;
}

static void put_truth(struct writer *w, const struct writer_frame *f)
{
	for (unsigned i = 0; i < f->n_truth; i++)
		fprintf(w->truth, "%lld.%06lld,%03X,%s,%.4f\n",
			(long long)(f->ts_us / 1000000),
			(long long)(f->ts_us % 1000000), f->id,
			signal_name((enum signal_id)f->truth[i].sig),
			f->truth[i].value);
}

static void put_frame(struct writer *w, const struct writer_frame *f)
{
	char *p = w->buf + w->len, *start = p;

	*p++ = '(';
	p = put_ts(p, f->ts_us);
	*p++ = ')';
	*p++ = ' ';
	memcpy(p, w->iface, w->iface_len);
	p += w->iface_len;
	*p++ = ' ';
	if (f->id > 0x7FF) {
		for (int s = 28; s >= 0; s -= 4)
			*p++ = hex[(f->id >> s) & 0xF];
	} else {
		*p++ = hex[(f->id >> 8) & 0xF];
		*p++ = hex[(f->id >> 4) & 0xF];
		*p++ = hex[f->id & 0xF];
	}
	*p++ = '#';
	for (unsigned i = 0; i < f->len && i < 8; i++) {
		*p++ = hex[f->data[i] >> 4];
		*p++ = hex[f->data[i] & 0xF];
	}
	*p++ = '\n';
	w->len += (size_t)(p - start);
	w->frames++;
	w->last_ts_us = f->ts_us;
	if (w->truth && f->n_truth)
		put_truth(w, f);
	if (w->malformed < w->malformed_lines &&
	    w->frames % w->malformed_every == 0)
		put_malformed(w);
}

int writer_set_format(struct writer *w, enum log_writer_format format)
{
	log_writer_free(w->log);
	w->log = NULL;
	if (format == LOG_WRITER_CANDUMP)
		return 0;
	return log_writer_new(&w->log, w->out, format);
}

/* the frame to the ASC or BLF writer, as dtcd would read it from candump */
static void put_log(struct writer *w, const struct writer_frame *wf)
{
	struct frame f = {
		.ts_ns = wf->ts_us * 1000,
		.id = wf->id,
		.flags = wf->id > 0x7FF ? FRAME_EFF : 0,
		.len = wf->len > 8 ? 8 : wf->len,
	};
	int r;

	memcpy(f.iface, w->iface, w->iface_len + 1);
	memcpy(f.data, wf->data, f.len);
	r = log_writer_put(w->log, &f);
	if (r < 0 && !w->error)
		w->error = r;
	w->frames++;
	w->last_ts_us = wf->ts_us;
	if (w->truth && wf->n_truth)
		put_truth(w, wf);
}

bool writer_full(const struct writer *w)
{
	return w->limit && w->frames >= w->limit;
}

int writer_flush(struct writer *w, int64_t before_us)
{
	struct pending p;

	while (w->n && w->heap[0].f.ts_us < before_us) {
		pop(w, &p);
		if (writer_full(w))
			continue;
		if (w->sink) {
			int r = w->sink(w->sink_ud, &p.f);

			w->frames++;
			if (r < 0)
				return w->error = r;
			continue;
		}
		if (w->log) {
			put_log(w, &p.f);
			continue;
		}
		if (w->len > OUT_BUF - 2 * LINE_MAX_LEN && drain(w))
			return w->error;
		put_frame(w, &p.f);
	}
	return w->error;
}

int writer_finish(struct writer *w)
{
	writer_flush(w, INT64_MAX);
	drain(w);
	if (w->log) {
		int r = log_writer_finish(w->log);

		if (r < 0 && !w->error)
			w->error = r;
	}
	if (fflush(w->out))
		w->error = -errno;
	if (w->truth && fflush(w->truth))
		w->error = -errno;
	return w->error;
}

uint64_t writer_frames(const struct writer *w)
{
	return w->frames;
}

void writer_set_sink(struct writer *w,
		     int (*sink)(void *ud, const struct writer_frame *f),
		     void *ud)
{
	w->sink = sink;
	w->sink_ud = ud;
}
