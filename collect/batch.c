/* batch.c: group commit: a burst of messages in one transaction */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "log.h"
#include "store.h"
#include "wall.h"

#define BATCH_RETRY_MIN 0.1
#define BATCH_RETRY_MAX 5.0

enum entry_kind { ENTRY_EVENT, ENTRY_STATUS, ENTRY_ONLINE };

/* one message, parsed; kept whole so a failed commit can apply it again */
struct entry {
	enum entry_kind kind;
	unsigned seq; /* the order read: kept among one vehicle's messages */
	union {
		struct ingest_event ev;
		struct ingest_status st;
		bool online;
	};
	char id[INGEST_MAX_ID + 1]; /* ENTRY_ONLINE's vehicle */
	bool stored; /* a new event, a status newer than the stored one */
};

struct batch {
	struct db *db;
	volatile sig_atomic_t *stop;
	size_t n;
	double first; /* when entry 0 was read */
	struct batch_stats stats;
	struct entry e[BATCH_MAX];
};

int batch_new(struct batch **ret, struct db *db, volatile sig_atomic_t *stop)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->db = db;
	b->stop = stop;
	*ret = b;
	return 0;
}

static void release(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->e[i].kind == ENTRY_EVENT)
			ingest_event_free(&b->e[i].ev);
		else if (b->e[i].kind == ENTRY_STATUS)
			ingest_status_free(&b->e[i].st);
	}
	b->n = 0;
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	release(b);
	free(b);
}

static const char *vehicle(const struct entry *e)
{
	switch (e->kind) {
	case ENTRY_EVENT:
		return e->ev.vehicle;
	case ENTRY_STATUS:
		return e->st.vehicle;
	default:
		return e->id;
	}
}

static struct entry *add(struct batch *b, enum entry_kind kind)
{
	struct entry *e;

	if (b->n == 0)
		b->first = wall_now_s();
	e = &b->e[b->n];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->seq = (unsigned)b->n++;
	return e;
}

static void full(struct batch *b)
{
	if (b->n == BATCH_MAX)
		batch_commit(b);
}

void batch_add_event(struct batch *b, struct ingest_event *ev)
{
	add(b, ENTRY_EVENT)->ev = *ev;
	full(b);
}

void batch_add_status(struct batch *b, struct ingest_status *st)
{
	add(b, ENTRY_STATUS)->st = *st;
	full(b);
}

void batch_add_online(struct batch *b, const char *id, bool online)
{
	struct entry *e = add(b, ENTRY_ONLINE);

	snprintf(e->id, sizeof(e->id), "%s", id);
	e->online = online;
	full(b);
}

bool batch_empty(const struct batch *b)
{
	return b->n == 0;
}

bool batch_due(const struct batch *b, bool more_readable)
{
	return b->n > 0 &&
	       (!more_readable || wall_now_s() - b->first >= BATCH_WAIT);
}

/*
 * By vehicle, then as read: one car's messages keep their order, and
 * store_seen() locks the batch's vehicles in the same order in every
 * collector (see apply()).
 */
static int by_vehicle(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c = strcmp(vehicle(a), vehicle(b));

	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/*
 * The whole batch, or (rolled back) nothing, in a few statements rather
 * than two per message: a statement is a round trip to PostgreSQL. The
 * vehicles' rows first, in order: PostgreSQL then holds each row another
 * collector's batch could touch (the vehicle, its DTCs, its events' keys)
 * from the start, so two collectors with vehicles in common wait for each
 * other instead of deadlocking.
 */
static int apply(struct batch *b, double now)
{
	const char *seen[BATCH_MAX];
	const struct ingest_event *evs[BATCH_MAX];
	bool added[BATCH_MAX];
	size_t nseen = 0, nev = 0, k = 0;
	int r;

	for (size_t i = 0; i < b->n; i++) {
		const char *v = vehicle(&b->e[i]);

		if (!nseen || strcmp(seen[nseen - 1], v))
			seen[nseen++] = v;
		if (b->e[i].kind == ENTRY_EVENT)
			evs[nev++] = &b->e[i].ev;
	}
	r = db_begin(b->db);
	if (r == 0)
		r = store_seen(b->db, seen, nseen, now);
	if (r == 0)
		r = store_events(b->db, evs, nev, now, added);
	for (size_t i = 0; r == 0 && i < b->n; i++) {
		struct entry *e = &b->e[i];

		if (e->kind == ENTRY_EVENT)
			e->stored = added[k++];
		else if (e->kind == ENTRY_STATUS)
			r = store_status(b->db, &e->st, now, &e->stored);
		else
			r = store_online(b->db, e->id, e->online, now);
	}
	if (r == 0)
		r = db_commit(b->db);
	if (r < 0)
		db_rollback(b->db);
	return r;
}

static void count(struct batch *b)
{
	b->stats.commits++;
	for (size_t i = 0; i < b->n; i++) {
		const struct entry *e = &b->e[i];

		switch (e->kind) {
		case ENTRY_EVENT:
			if (e->stored)
				b->stats.events++;
			else
				b->stats.duplicates++;
			log_debug("%s: event %lld %s %s: %s", e->ev.vehicle,
				  (long long)e->ev.event_id, e->ev.event,
				  e->ev.code ? e->ev.code : "-",
				  e->stored ? "stored" : "duplicate, dropped");
			break;
		case ENTRY_STATUS:
			b->stats.statuses++;
			log_debug("%s: status, %zu DTCs: %s", e->st.vehicle,
				  json_object_array_length(e->st.dtcs),
				  e->stored ? "stored" :
					      "older than the stored one");
			break;
		default:
			b->stats.onlines++;
			log_debug("%s: %s", e->id,
				  e->online ? "online" : "offline");
		}
	}
}

void batch_commit(struct batch *b)
{
	double now = wall_now_s(), delay = 0;
	int r;

	if (b->n == 0)
		return;
	qsort(b->e, b->n, sizeof(b->e[0]), by_vehicle);
	while ((r = apply(b, now)) < 0 && !*b->stop) {
		if (delay == 0)
			log_warnx("db: %s: %s; retrying %zu message%s, reading "
				  "nothing meanwhile",
				  db_engine(b->db), db_errmsg(b->db), b->n,
				  b->n == 1 ? "" : "s");
		delay = delay == 0 ? BATCH_RETRY_MIN : delay * 2;
		if (delay > BATCH_RETRY_MAX)
			delay = BATCH_RETRY_MAX;
		wall_sleep_s(delay);
		db_reset(b->db);
	}
	if (r < 0)
		log_warnx("db: %s: %s; stopping: %zu message%s read since the "
			  "last commit lost",
			  db_engine(b->db), db_errmsg(b->db), b->n,
			  b->n == 1 ? "" : "s");
	else if (delay > 0)
		log_warnx("db: %s: %zu message%s stored again",
			  db_engine(b->db), b->n, b->n == 1 ? "" : "s");
	if (r == 0)
		count(b);
	b->stats.seconds += wall_now_s() - now;
	release(b);
}

const struct batch_stats *batch_stats(const struct batch *b)
{
	return &b->stats;
}
