/* manager_store.c: the DTC manager's entries, counters, events and outbox in
 * the DTC store */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "manager_private.h"

/* said once per kind of failure, not once per retry */
static void store_failed(struct dtc_manager *m, int r)
{
	char msg[512];

	if (!m->on_error || !strcmp(dtc_store_errmsg(m->store), m->last_error))
		return;
	snprintf(m->last_error, sizeof(m->last_error), "%s",
		 dtc_store_errmsg(m->store));
	snprintf(msg, sizeof(msg),
		 "DTC store: %s (%s); the changes wait in memory, their "
		 "events are announced once stored",
		 strerror(-r), m->last_error);
	m->on_error(m->err_ud, msg);
}

/* an event and, with an outbox, its payload; *dropped counts what the
 * outbox's bound pushed out */
static int put_event(struct dtc_manager *m, struct queued *q, unsigned *dropped)
{
	unsigned n = 0;
	char *payload;
	int r;

	manager_event_bind(q);
	r = dtc_store_put_event(m->store, &q->ev);
	if (r < 0 || !m->encode)
		return r;
	payload = m->encode(m->enc_ud, &q->ev);
	if (!payload)
		return -ENOMEM;
	r = dtc_store_outbox_put(m->store, q->ev.event_id, q->ev.severity,
				 payload, &m->limits, &n);
	free(payload);
	*dropped += n;
	return r;
}

int manager_store_persist(struct dtc_manager *m)
{
	uint64_t last_id = m->last_event_id;
	size_t n_queue = m->n_queue, n_put;
	unsigned dropped = 0;
	int r = dtc_store_begin(m->store);

	for (size_t i = 0; r == 0 && i < m->n; i++) {
		struct entry *e = m->entries[i];
		struct dtc_store_dtc d = {
			.code = e->code,
			.detector = e->pol.detector,
			.severity = e->severity,
			.status = e->status,
			.stored = e->stored,
			.occurrences = e->occurrences,
			.failed_cycles = e->failed_cycles,
			.aging_cycles = e->aging_cycles,
			.passed_cycles = e->passed_cycles,
			.first_failure_ns = e->first_ns,
			.last_failure_ns = e->last_ns,
			.freeze_frame = e->has_ff ? &e->ff : NULL,
			.freeze_frame_changed = e->ff_dirty,
		};

		if (e->dirty)
			r = dtc_store_put_dtc(m->store, &d);
	}
	if (m->queue_dropped && n_queue) {
		/* what the bound on waiting events dropped while the store
		 * failed: an event itself, after the ones that stayed */
		manager_queue_event(m, DTC_EVENT_DROPPED,
				    m->queue[n_queue - 1].ev.ts_ns, "QUEUE",
				    "dtcd", DTC_SEVERITY_HIGH, 0,
				    m->queue_dropped, NULL);
		if (m->n_queue > n_queue)
			m->queue[n_queue].ev.dropped = m->queue_dropped;
	}
	n_put = m->n_queue;
	for (size_t i = 0; r == 0 && i < n_put; i++)
		r = put_event(m, &m->queue[i], &dropped);
	if (r == 0 && dropped) {
		/* the drop is an event itself, at the time of the batch */
		struct queued *last = &m->queue[n_put - 1];

		manager_queue_event(m, DTC_EVENT_DROPPED, last->ev.ts_ns,
				    "OUTBOX", "dtcd", DTC_SEVERITY_HIGH, 0,
				    dropped, NULL);
		if (m->n_queue > n_put) {
			m->queue[n_put].ev.dropped = dropped;
			r = put_event(m, &m->queue[n_put], &dropped);
		}
	}
	if (r == 0 && m->counters_dirty)
		r = dtc_store_put_counter(m->store, "operation_cycles",
					  (int64_t)m->operation_cycles);
	if (r == 0 && m->counters_dirty)
		r = dtc_store_put_counter(m->store, "warmup_cycles",
					  (int64_t)m->warmup_cycles);
	if (r == 0 && m->n_queue)
		r = dtc_store_put_counter(m->store, "event_id",
					  (int64_t)m->last_event_id);
	if (r == 0)
		r = dtc_store_commit(m->store);
	if (r == 0)
		m->queue_dropped = 0;
	if (r < 0) {
		store_failed(m, r);
		dtc_store_rollback(m->store);
		/* the next attempt reports the drop again, with the same ids */
		m->n_queue = n_queue;
		m->last_event_id = last_id;
	}
	return r;
}

static int restore_one(void *ud, const struct dtc_store_dtc *d)
{
	struct dtc_manager *m = ud;
	struct entry *e = manager_entry_find(m, d->code);

	if (!e) {
		if (!catalogue_code_valid(d->code))
			return 0;
		e = manager_entry_add(m, d->code);
		if (!e)
			return -ENOMEM;
		snprintf(e->pol.detector, sizeof(e->pol.detector), "%s",
			 d->detector);
	}
	e->severity = d->severity != DTC_SEVERITY_DEFAULT ? d->severity :
							    e->pol.severity;
	e->status = d->status;
	e->stored = d->stored;
	e->occurrences = d->occurrences;
	e->failed_cycles = d->failed_cycles;
	e->aging_cycles = d->aging_cycles;
	e->passed_cycles = d->passed_cycles;
	e->first_ns = d->first_failure_ns;
	e->last_ns = d->last_failure_ns;
	e->has_ff = d->freeze_frame != NULL;
	if (d->freeze_frame)
		e->ff = *d->freeze_frame;
	return 0;
}

int manager_store_restore(struct dtc_manager *m, char *errbuf, size_t errlen)
{
	int64_t v;
	int r = dtc_store_load(m->store, restore_one, m);

	if (r == 0) {
		v = 0;
		r = dtc_store_get_counter(m->store, "operation_cycles", &v);
		m->operation_cycles = v;
	}
	if (r == 0) {
		v = 0;
		r = dtc_store_get_counter(m->store, "warmup_cycles", &v);
		m->warmup_cycles = v;
	}
	if (r == 0) {
		v = -1;
		r = dtc_store_get_counter(m->store, "event_id", &v);
		m->have_event_id = v >= 0;
		m->last_event_id = v > 0 ? (uint64_t)v : 0;
	}
	if (r < 0)
		snprintf(errbuf, errlen, "DTC store: %s (%s)", strerror(-r),
			 dtc_store_errmsg(m->store));
	return r;
}
