/* capsule.c: the frame ring and the open captures of evidence capsules */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capsule.h"
#include "frame_ring.h"

/* captures open at once; more events (of other codes) in one after window
 * than this are not captured, and said */
#define CAPSULE_MAX_OPEN 32

struct capture {
	char code[16];
	char events[32];
	uint64_t event_id;
	int64_t event_ns;
	int64_t start_ns, end_ns;
};

struct capsule_recorder {
	struct dtc_store *store;
	struct capsule_limits lim;
	struct frame_ring *ring;
	struct capture open[CAPSULE_MAX_OPEN];
	size_t n_open;
	void (*on_error)(void *ud, const char *msg);
	void *ud;
};

int capsule_recorder_new(struct capsule_recorder **ret, struct dtc_store *store,
			 const struct capsule_limits *lim,
			 void (*on_error)(void *ud, const char *msg), void *ud)
{
	struct capsule_recorder *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->store = store;
	c->lim = *lim;
	c->on_error = on_error;
	c->ud = ud;
	r = frame_ring_new(&c->ring, lim->ring_bytes);
	if (r < 0) {
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void capsule_recorder_free(struct capsule_recorder *c)
{
	if (!c)
		return;
	frame_ring_free(c->ring);
	free(c);
}

static void say(struct capsule_recorder *c, const char *msg)
{
	if (c->on_error)
		c->on_error(c->ud, msg);
}

static void store_capture(struct capsule_recorder *c, const struct capture *k,
			  bool complete)
{
	struct dtc_store_capsule sc = {
		.code = k->code,
		.events = k->events,
		.event_id = k->event_id,
		.event_ns = k->event_ns,
		.start_ns = k->start_ns,
		.end_ns = k->end_ns,
		.complete = complete,
	};
	uint8_t *buf;
	unsigned dropped;
	char msg[512];
	int r;

	/* the ring no longer reaches back to the start of the window */
	sc.ring_cut = frame_ring_dropped(c->ring) &&
		      frame_ring_oldest_ns(c->ring) > k->start_ns;
	r = frame_ring_copy(c->ring, k->start_ns, k->end_ns,
			    c->lim.capsule_bytes, &buf, &sc.len, &sc.frames,
			    &sc.cut);
	if (r == 0) {
		sc.data = buf;
		r = dtc_store_capsule_put(c->store, &sc, c->lim.store_bytes,
					  &dropped);
		free(buf);
	}
	if (r < 0) {
		snprintf(msg, sizeof(msg),
			 "evidence of %s at %.6f not stored: %s (%s)", k->code,
			 k->event_ns / 1e9, strerror(-r),
			 dtc_store_errmsg(c->store));
		say(c, msg);
	}
}

void capsule_recorder_frame(struct capsule_recorder *c, const struct frame *f)
{
	size_t i = 0;

	frame_ring_push(c->ring, f);
	while (i < c->n_open) {
		if (f->ts_ns <= c->open[i].end_ns) {
			i++;
			continue;
		}
		store_capture(c, &c->open[i], true);
		c->open[i] = c->open[--c->n_open];
	}
}

static struct capture *find_open(const struct capsule_recorder *c,
				 const char *code)
{
	for (size_t i = 0; i < c->n_open; i++)
		if (!strcmp(c->open[i].code, code))
			return (struct capture *)&c->open[i];
	return NULL;
}

void capsule_recorder_event(struct capsule_recorder *c,
			    const struct dtc_event *ev)
{
	const char *type = dtc_event_type_name(ev->type);
	struct capture *k;
	char msg[256];

	if (ev->type != DTC_EVENT_PENDING && ev->type != DTC_EVENT_CONFIRMED)
		return;
	k = find_open(c, ev->code);
	if (k) {
		/* "pending confirmed": both in one window */
		if (!strstr(k->events, type))
			snprintf(k->events + strlen(k->events),
				 sizeof(k->events) - strlen(k->events), " %s",
				 type);
		return;
	}
	if (c->n_open == CAPSULE_MAX_OPEN) {
		snprintf(msg, sizeof(msg),
			 "evidence of %s at %.6f not kept: %d captures open",
			 ev->code, ev->ts_ns / 1e9, CAPSULE_MAX_OPEN);
		say(c, msg);
		return;
	}
	k = &c->open[c->n_open++];
	memset(k, 0, sizeof(*k));
	snprintf(k->code, sizeof(k->code), "%s", ev->code);
	snprintf(k->events, sizeof(k->events), "%s", type);
	k->event_id = ev->event_id;
	k->event_ns = ev->ts_ns;
	k->start_ns = ev->ts_ns - c->lim.before_ns;
	k->end_ns = ev->ts_ns + c->lim.after_ns;
}

void capsule_recorder_finish(struct capsule_recorder *c)
{
	for (size_t i = 0; i < c->n_open; i++)
		store_capture(c, &c->open[i], false);
	c->n_open = 0;
}

bool capsule_recorder_recording(const struct capsule_recorder *c,
				const char *code)
{
	return find_open(c, code) != NULL;
}
