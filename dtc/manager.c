/* manager.c: the DTC manager: debounce, ISO 14229-1 status, cycles, aging */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "manager_private.h"

/* ---- the entries, sorted by code ---- */

struct entry *manager_entry_find(const struct dtc_manager *m, const char *code)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->entries[mid]->code, code);

		if (c == 0)
			return m->entries[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct entry *manager_entry_add(struct dtc_manager *m, const char *code)
{
	struct entry *e;
	size_t pos = 0;

	if (strlen(code) >= CODE_MAX)
		return NULL;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		struct entry **n = realloc(m->entries, cap * sizeof(*n));

		if (!n)
			return NULL;
		m->entries = n;
		m->cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->code, sizeof(e->code), "%s", code);
	e->pol = m->defaults;
	e->pol.set = 0;
	e->status = ST_CLEARED;
	while (pos < m->n && strcmp(m->entries[pos]->code, code) < 0)
		pos++;
	memmove(&m->entries[pos + 1], &m->entries[pos],
		(m->n - pos) * sizeof(*m->entries));
	m->entries[pos] = e;
	m->n++;
	return e;
}

/* dtc.ini's policies become the entries the manager starts with */
static int policy_load(struct dtc_manager *m, const char *path, char *errbuf,
		       size_t errlen)
{
	struct dtc_policies p;
	int r = dtc_policies_load(&p, path, errbuf, errlen);

	if (r < 0)
		return r;
	m->defaults = p.defaults;
	for (size_t i = 0; r == 0 && i < p.n; i++) {
		struct entry *e = manager_entry_add(m, p.dtc[i].code);

		if (!e) {
			snprintf(errbuf, errlen, "%s: out of memory", path);
			r = -ENOMEM;
			break;
		}
		e->pol = p.dtc[i];
		e->severity = e->pol.severity;
	}
	dtc_policies_free(&p);
	return r;
}

/* ---- the batch: state changes and events, committed together ---- */

static void mark(struct dtc_manager *m, struct entry *e, bool ff)
{
	e->dirty = true;
	e->ff_dirty |= ff;
	m->any_dirty = true;
}

/* the store fails and the queue is full: the oldest of the lowest
 * severity goes; false when only critical events (or drop reports) wait */
static bool drop_waiting(struct dtc_manager *m)
{
	size_t victim = m->n_queue;
	int best = 3;

	for (size_t i = 0; i < m->n_queue; i++) {
		int r = dtc_severity_drop_rank(m->queue[i].ev.severity);

		if (m->queue[i].ev.type != DTC_EVENT_DROPPED && r < best) {
			best = r;
			victim = i;
		}
	}
	if (victim == m->n_queue)
		return false;
	memmove(&m->queue[victim], &m->queue[victim + 1],
		(m->n_queue - victim - 1) * sizeof(m->queue[0]));
	m->n_queue--;
	if (!m->queue_dropped++ && m->on_error)
		m->on_error(
			m->err_ud,
			"DTC store: still failing and the events waiting "
			"for it reached their bound: the oldest of the "
			"lowest severity are dropped, never a critical one");
	return true;
}

void dtc_manager_set_queue_max(struct dtc_manager *m, size_t max)
{
	m->queue_max = max;
}

void manager_queue_event(struct dtc_manager *m, enum dtc_event_type type,
			 int64_t ts_ns, const char *code, const char *detector,
			 enum dtc_severity sev, uint8_t status,
			 unsigned occurrences, struct entry *ff_src)
{
	struct queued *q;

	if (m->n_queue == m->cap_queue) {
		size_t cap = m->cap_queue ? m->cap_queue * 2 : 16;
		struct queued *n = realloc(m->queue, cap * sizeof(*n));

		if (!n) {
			if (m->on_error)
				m->on_error(m->err_ud, "out of memory");
			return;
		}
		m->queue = n;
		m->cap_queue = cap;
	}
	q = &m->queue[m->n_queue++];
	memset(q, 0, sizeof(*q));
	snprintf(q->code, sizeof(q->code), "%s", code);
	snprintf(q->detector, sizeof(q->detector), "%s", detector);
	q->entry = ff_src;
	q->ev.type = type;
	q->ev.ts_ns = ts_ns;
	q->ev.severity = sev;
	q->ev.status = status;
	q->ev.occurrences = occurrences;
	q->ev.mil_on = -1;
	q->ev.dtc_count = -1;
	q->ev.event_id = ++m->last_event_id;
	/* the newest may go itself, as in the outbox; a drop report never
	 * pushes an event out */
	while (m->failing && type != DTC_EVENT_DROPPED &&
	       m->n_queue >
		       (m->queue_max ? m->queue_max : DTC_MANAGER_QUEUE_MAX) &&
	       drop_waiting(m))
		;
}

static void queue_dtc_event(struct dtc_manager *m, enum dtc_event_type type,
			    int64_t ts_ns, struct entry *e)
{
	manager_queue_event(m, type, ts_ns, e->code, e->pol.detector,
			    e->severity, e->status, e->occurrences, e);
}

void manager_event_bind(struct queued *q)
{
	q->ev.code = q->code;
	q->ev.detector = q->detector;
	q->ev.freeze_frame =
		q->entry && q->entry->has_ff ? &q->entry->ff : NULL;
}

/*
 * Ends a batch: one transaction for everything that changed, then the
 * events to the daemon. An event reaches the outputs only once it is on
 * disk, so a crash can lose an event's output but never its record. A
 * batch that cannot be committed (the database locked by another process,
 * a full disk) is kept whole, with what comes after it, until
 * dtc_manager_retry() gets it through: nothing is announced that was not
 * stored.
 */
static int deliver(struct dtc_manager *m)
{
	if (!m->n_queue && !m->counters_dirty && !m->any_dirty)
		return 0;
	if (m->store && manager_store_persist(m) < 0) {
		m->failing = true;
		return -EAGAIN;
	}
	m->failing = false;
	m->last_error[0] = '\0';
	for (size_t i = 0; i < m->n; i++)
		m->entries[i]->dirty = m->entries[i]->ff_dirty = false;
	m->counters_dirty = m->any_dirty = false;
	for (size_t i = 0; i < m->n_queue; i++) {
		manager_event_bind(&m->queue[i]);
		if (m->on_event)
			m->on_event(m->ud, &m->queue[i].ev);
	}
	m->n_queue = 0;
	return 0;
}

static void flush(struct dtc_manager *m)
{
	/* after a failure the daemon's back-off decides when to try */
	if (!m->failing)
		deliver(m);
}

bool dtc_manager_store_failing(const struct dtc_manager *m)
{
	return m && m->failing;
}

int dtc_manager_retry(struct dtc_manager *m)
{
	return deliver(m);
}

size_t dtc_manager_waiting(const struct dtc_manager *m)
{
	return m && m->failing ? m->n_queue : 0;
}

void dtc_manager_set_outbox(struct dtc_manager *m,
			    char *(*encode)(void *ud,
					    const struct dtc_event *ev),
			    void *ud, const struct dtc_store_limits *limits)
{
	m->encode = m->store ? encode : NULL;
	m->enc_ud = ud;
	if (limits)
		m->limits = *limits;
}

void dtc_manager_seed_event_id(struct dtc_manager *m, uint64_t seed)
{
	if (!m->have_event_id && m->last_event_id < seed)
		m->last_event_id = seed;
}

/* ---- status byte processing (ISO 14229-1 annex D, AUTOSAR Dem) ---- */

static void capture_freeze_frame(struct dtc_manager *m, struct entry *e)
{
	struct dtc_freeze_frame *ff = &e->ff;

	memset(ff, 0, sizeof(*ff));
	for (int i = 0; m->signals && i < SIG__MAX; i++) {
		const struct signal_slot *s = &m->signals->slot[i];

		if (!s->valid)
			continue;
		if (i == SIG_VIN)
			snprintf(ff->vin, sizeof(ff->vin), "%s", s->text);
		else if (!signal_info(i)->is_text) {
			ff->present[i] = true;
			ff->value[i] = s->value;
		}
	}
	e->has_ff = true;
	mark(m, e, true);
}

static bool confirm_due(const struct entry *e, const struct dtc_report *r)
{
	if (r && r->confirm_now)
		return true;
	switch (e->pol.confirm) {
	case DTC_CONFIRM_AT_ONCE:
		return true;
	case DTC_CONFIRM_AT_ONCE_WHEN_CRITICAL:
		if (e->severity == DTC_SEVERITY_CRITICAL)
			return true;
		break;
	case DTC_CONFIRM_CYCLES:
		break;
	}
	return e->failed_cycles >= e->pol.confirm_cycles;
}

static void test_failed(struct dtc_manager *m, struct entry *e, int64_t ts,
			const struct dtc_report *r)
{
	uint8_t old = e->status;

	if (r && r->severity != DTC_SEVERITY_DEFAULT)
		e->severity = r->severity;
	else
		e->severity = e->pol.severity;
	e->status |= DTC_ST_TEST_FAILED | DTC_ST_TEST_FAILED_THIS_OP_CYCLE |
		     DTC_ST_PENDING | DTC_ST_TEST_FAILED_SINCE_CLEAR;
	e->status &= ~(DTC_ST_TEST_NOT_COMPLETED_SINCE_CLEAR |
		       DTC_ST_TEST_NOT_COMPLETED_THIS_OP_CYCLE);
	/* one more failing operation cycle, counted at its first failure */
	if (!(old & DTC_ST_TEST_FAILED_THIS_OP_CYCLE))
		e->failed_cycles++;
	e->aging_cycles = 0;
	e->passed_cycles = 0;
	/* an occurrence is a new failure episode: testFailed 0 -> 1 */
	if (!(old & DTC_ST_TEST_FAILED))
		e->occurrences++;
	/* the last failure: a new episode or the first in this cycle (a
	 * report that changes nothing is not written to the store) */
	if (!(old & DTC_ST_TEST_FAILED) ||
	    !(old & DTC_ST_TEST_FAILED_THIS_OP_CYCLE)) {
		e->last_ns = ts;
		if (!e->first_ns)
			e->first_ns = ts;
	}
	if (!e->stored) {
		e->stored = true;
		capture_freeze_frame(m, e);
	}
	if ((old & DTC_ST_CONFIRMED) && e->pol.warning_indicator)
		e->status |= DTC_ST_WARNING_INDICATOR;
	if (e->status != old || !(old & DTC_ST_TEST_FAILED))
		mark(m, e, false);
	if (!(old & DTC_ST_PENDING))
		queue_dtc_event(m, DTC_EVENT_PENDING, ts, e);
	if (!(old & DTC_ST_CONFIRMED) && confirm_due(e, r)) {
		e->status |= DTC_ST_CONFIRMED;
		if (e->pol.warning_indicator)
			e->status |= DTC_ST_WARNING_INDICATOR;
		/* the freeze frame is refreshed at confirmation */
		capture_freeze_frame(m, e);
		queue_dtc_event(m, DTC_EVENT_CONFIRMED, ts, e);
	}
}

static void test_passed(struct dtc_manager *m, struct entry *e)
{
	uint8_t old = e->status;

	e->status &=
		~(DTC_ST_TEST_FAILED | DTC_ST_TEST_NOT_COMPLETED_SINCE_CLEAR |
		  DTC_ST_TEST_NOT_COMPLETED_THIS_OP_CYCLE);
	if (e->status != old)
		mark(m, e, false);
}

static void debounce_reset(struct entry *e)
{
	e->counter = 0;
	e->timer_dir = 0;
	e->timer_running = false;
}

static void qualify(struct dtc_manager *m, struct entry *e, int64_t ts, int dir,
		    const struct dtc_report *r)
{
	if (dir > 0)
		test_failed(m, e, ts, r);
	else
		test_passed(m, e);
}

/* a running debounce timer that has expired qualifies its result */
static void timer_check(struct dtc_manager *m, struct entry *e, int64_t now,
			const struct dtc_report *r)
{
	int64_t need;

	if (!e->timer_running)
		return;
	need = e->timer_dir > 0 ? e->pol.time_fail_ns : e->pol.time_pass_ns;
	if (now - e->timer_since < need)
		return;
	e->timer_running = false;
	qualify(m, e, now, e->timer_dir, r);
}

static void debounce_step(struct dtc_manager *m, struct entry *e, int64_t ts,
			  int dir, const struct dtc_report *r)
{
	if (e->pol.debounce == DTC_DEBOUNCE_TIME) {
		if (e->timer_dir != dir) {
			e->timer_dir = dir;
			e->timer_running = true;
			e->timer_since = ts;
			m->timers = true;
		}
		timer_check(m, e, ts, r);
		return;
	}
	/* counter: a change of direction starts again from 0 (jump) */
	if (dir > 0) {
		e->counter = e->counter < 0 ? 1 : e->counter + 1;
		if (e->counter >= e->pol.counter_fail) {
			e->counter = e->pol.counter_fail;
			qualify(m, e, ts, 1, r);
		}
	} else {
		e->counter = e->counter > 0 ? -1 : e->counter - 1;
		if (e->counter <= -e->pol.counter_pass) {
			e->counter = -e->pol.counter_pass;
			qualify(m, e, ts, -1, r);
		}
	}
}

static struct entry *entry_for_report(struct dtc_manager *m,
				      const struct dtc_report *r)
{
	struct entry *e = manager_entry_find(m, r->code);

	if (e || !catalogue_code_valid(r->code))
		return e;
	/* a code dtc.ini does not list is managed with the defaults */
	e = manager_entry_add(m, r->code);
	if (e) {
		if (r->detector && *r->detector)
			snprintf(e->pol.detector, sizeof(e->pol.detector), "%s",
				 r->detector);
		e->severity = e->pol.severity;
	}
	return e;
}

void dtc_manager_report(struct dtc_manager *m, int64_t ts_ns,
			const struct dtc_report *r)
{
	struct entry *e;

	if (!m || !r || !r->code)
		return;
	e = entry_for_report(m, r);
	if (!e) {
		if (m->on_error) {
			char msg[128];

			snprintf(msg, sizeof(msg),
				 "report for '%.16s': not a DTC code", r->code);
			m->on_error(m->err_ud, msg);
		}
		return;
	}
	switch (r->result) {
	case DTC_RESULT_FAILED:
		/* a qualified result overrides the debounce state */
		e->counter = e->pol.counter_fail;
		e->timer_dir = 1;
		e->timer_running = false;
		test_failed(m, e, ts_ns, r);
		break;
	case DTC_RESULT_PASSED:
		e->counter = -e->pol.counter_pass;
		e->timer_dir = -1;
		e->timer_running = false;
		test_passed(m, e);
		break;
	case DTC_RESULT_PREFAILED:
		debounce_step(m, e, ts_ns, 1, r);
		break;
	case DTC_RESULT_PREPASSED:
		debounce_step(m, e, ts_ns, -1, r);
		break;
	}
	flush(m);
}

void dtc_manager_sink_report(void *userdata, int64_t ts_ns,
			     const struct dtc_report *r)
{
	dtc_manager_report(userdata, ts_ns, r);
}

void dtc_manager_set_signals(struct dtc_manager *m,
			     const struct signal_table *signals)
{
	m->signals = signals;
}

void dtc_manager_on_tick(struct dtc_manager *m, int64_t now_ns)
{
	if (!m)
		return;
	/* a tick looks at the entries only while a debounce timer runs */
	if (m->timers) {
		m->timers = false;
		for (size_t i = 0; i < m->n; i++) {
			timer_check(m, m->entries[i], now_ns, NULL);
			m->timers |= m->entries[i]->timer_running;
		}
	}
	flush(m);
}

void dtc_manager_cycle_started(struct dtc_manager *m, int64_t ts_ns)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct entry *e = m->entries[i];
		uint8_t old = e->status;

		e->status |= DTC_ST_TEST_NOT_COMPLETED_THIS_OP_CYCLE;
		e->status &= ~DTC_ST_TEST_FAILED_THIS_OP_CYCLE;
		debounce_reset(e);
		if (e->status != old)
			mark(m, e, false);
	}
	flush(m);
}

static void erase(struct dtc_manager *m, struct entry *e)
{
	e->stored = false;
	e->occurrences = 0;
	e->failed_cycles = 0;
	e->aging_cycles = 0;
	e->passed_cycles = 0;
	e->first_ns = e->last_ns = 0;
	if (e->has_ff) {
		e->has_ff = false;
		mark(m, e, true);
	}
	mark(m, e, false);
}

static void cycle_end_entry(struct dtc_manager *m, struct entry *e, int64_t ts,
			    bool warmup)
{
	bool tested = !(e->status & DTC_ST_TEST_NOT_COMPLETED_THIS_OP_CYCLE);
	bool failed = e->status & DTC_ST_TEST_FAILED_THIS_OP_CYCLE;
	uint8_t old = e->status;

	if (tested && !failed) {
		/* a whole passing cycle: no longer pending */
		e->status &= ~DTC_ST_PENDING;
		if (e->failed_cycles)
			mark(m, e, false);
		e->failed_cycles = 0;
		if (e->status & DTC_ST_WARNING_INDICATOR) {
			e->passed_cycles++;
			mark(m, e, false);
			if (e->pol.warning_off_cycles &&
			    e->passed_cycles >= e->pol.warning_off_cycles)
				e->status &= ~DTC_ST_WARNING_INDICATOR;
		}
		/* a pending DTC that never confirmed leaves the memory */
		if (e->stored && !(e->status & DTC_ST_CONFIRMED))
			erase(m, e);
	}
	/* aging counts warm-up cycles in which the fault is not present */
	if (warmup && (e->status & DTC_ST_CONFIRMED) && !failed &&
	    !(e->status & DTC_ST_TEST_FAILED)) {
		e->aging_cycles++;
		mark(m, e, false);
		if (e->pol.aging_cycles &&
		    e->aging_cycles >= e->pol.aging_cycles) {
			e->status &= ~(DTC_ST_CONFIRMED | DTC_ST_PENDING |
				       DTC_ST_WARNING_INDICATOR |
				       DTC_ST_TEST_FAILED_SINCE_CLEAR);
			erase(m, e);
			queue_dtc_event(m, DTC_EVENT_HEALED, ts, e);
		}
	}
	if (e->status != old)
		mark(m, e, false);
}

void dtc_manager_cycle_ended(struct dtc_manager *m, int64_t ts_ns, bool warmup)
{
	if (!m)
		return;
	m->operation_cycles++;
	if (warmup)
		m->warmup_cycles++;
	m->counters_dirty = true;
	for (size_t i = 0; i < m->n; i++)
		cycle_end_entry(m, m->entries[i], ts_ns, warmup);
	flush(m);
}

/* something a clear takes away: a stored DTC or any failure bit */
static bool entry_has_fault(const struct entry *e)
{
	return e->stored ||
	       (e->status &
		(DTC_ST_TEST_FAILED | DTC_ST_TEST_FAILED_THIS_OP_CYCLE |
		 DTC_ST_PENDING | DTC_ST_CONFIRMED |
		 DTC_ST_TEST_FAILED_SINCE_CLEAR | DTC_ST_WARNING_INDICATOR));
}

static void clear_entry(struct dtc_manager *m, struct entry *e, int64_t ts,
			bool announce)
{
	e->status = ST_CLEARED;
	e->severity = e->pol.severity;
	erase(m, e);
	debounce_reset(e);
	if (announce)
		queue_dtc_event(m, DTC_EVENT_CLEARED, ts, e);
}

int dtc_manager_clear(struct dtc_manager *m, int64_t ts_ns, const char *code)
{
	if (!m)
		return -EINVAL;
	if (code) {
		struct entry *e = manager_entry_find(m, code);

		if (!e)
			return -ENOENT;
		clear_entry(m, e, ts_ns, true);
	} else {
		/*
		 * Every status byte is reset as UDS 0x14 does, but only the
		 * DTCs that had a fault are announced: a fleet operator wants
		 * to hear of the codes that went away, not of every test.
		 */
		for (size_t i = 0; i < m->n; i++) {
			struct entry *e = m->entries[i];

			if (e->stored || e->status != ST_CLEARED)
				clear_entry(m, e, ts_ns, entry_has_fault(e));
		}
	}
	flush(m);
	return 0;
}

/* ---- what ECUs report themselves ---- */

static struct ecu *ecu_get(struct dtc_manager *m, uint32_t id)
{
	struct ecu *n;

	for (size_t i = 0; i < m->n_ecus; i++)
		if (m->ecus[i].id == id)
			return &m->ecus[i];
	n = realloc(m->ecus, (m->n_ecus + 1) * sizeof(*n));
	if (!n)
		return NULL;
	m->ecus = n;
	n = &m->ecus[m->n_ecus++];
	memset(n, 0, sizeof(*n));
	n->id = id;
	return n;
}

void dtc_manager_ecu_status(struct dtc_manager *m, int64_t ts_ns,
			    uint32_t ecu_id, int mil_on, int dtc_count)
{
	struct queued *q;
	struct ecu *u;

	if (!m || (mil_on < 0 && dtc_count < 0))
		return;
	u = ecu_get(m, ecu_id);
	if (!u || (u->have_status && u->mil_on == mil_on &&
		   u->dtc_count == dtc_count))
		return;
	u->have_status = true;
	u->mil_on = mil_on;
	u->dtc_count = dtc_count;
	manager_queue_event(m, DTC_EVENT_ECU, ts_ns, "MIL", "ecu",
			    mil_on > 0 ? DTC_SEVERITY_MEDIUM : DTC_SEVERITY_LOW,
			    mil_on > 0 ? DTC_ST_WARNING_INDICATOR : 0,
			    dtc_count > 0 ? dtc_count : 0, NULL);
	if (m->n_queue) {
		q = &m->queue[m->n_queue - 1];
		q->ev.ecu_id = ecu_id;
		q->ev.mil_on = mil_on;
		q->ev.dtc_count = dtc_count;
	}
	flush(m);
}

static bool has_code(const uint16_t *codes, size_t n, uint16_t c)
{
	for (size_t i = 0; i < n; i++)
		if (codes[i] == c)
			return true;
	return false;
}

/* SAE J2012: two bits of letter, then four hex digits */
static void code_name(uint16_t c, char *buf, size_t len)
{
	snprintf(buf, len, "%c%X%03X", "PCBU"[c >> 14], (c >> 12) & 3,
		 c & 0xfff);
}

static void queue_ecu_code(struct dtc_manager *m, int64_t ts, uint32_t ecu_id,
			   int svc, uint16_t c, bool present)
{
	static const char *const kinds[SVC__MAX] = { "stored", "pending",
						     "permanent" };
	static const uint8_t status[SVC__MAX] = { DTC_ST_CONFIRMED,
						  DTC_ST_PENDING,
						  DTC_ST_CONFIRMED };
	const struct entry *e;
	char name[CODE_MAX];

	code_name(c, name, sizeof(name));
	e = manager_entry_find(m, name);
	manager_queue_event(m, DTC_EVENT_ECU, ts, name, "ecu",
			    e ? e->pol.severity : DTC_SEVERITY_MEDIUM,
			    present ? status[svc] : 0, 0, NULL);
	if (m->n_queue) {
		m->queue[m->n_queue - 1].ev.ecu_id = ecu_id;
		m->queue[m->n_queue - 1].ev.ecu_kind = kinds[svc];
	}
}

void dtc_manager_ecu_codes(struct dtc_manager *m, int64_t ts_ns,
			   uint32_t ecu_id, uint8_t service,
			   const uint16_t *codes, size_t n)
{
	uint16_t *now;
	size_t n_now = 0;
	struct ecu *u;
	int svc;

	if (!m || (n && !codes))
		return;
	switch (service) {
	case 0x03:
		svc = SVC_STORED;
		break;
	case 0x07:
		svc = SVC_PENDING;
		break;
	case 0x0A:
		svc = SVC_PERMANENT;
		break;
	default:
		return;
	}
	u = ecu_get(m, ecu_id);
	now = malloc((n ? n : 1) * sizeof(*now));
	if (!u || !now) {
		free(now);
		return;
	}
	/* 0x0000 pads a response: no DTC */
	for (size_t i = 0; i < n; i++)
		if (codes[i] && !has_code(now, n_now, codes[i]))
			now[n_now++] = codes[i];
	for (size_t i = 0; i < n_now; i++)
		if (!u->have_codes[svc] ||
		    !has_code(u->codes[svc], u->n_codes[svc], now[i]))
			queue_ecu_code(m, ts_ns, ecu_id, svc, now[i], true);
	/* a code the ECU no longer reports: an event with status 0 */
	for (size_t i = 0; i < u->n_codes[svc]; i++)
		if (!has_code(now, n_now, u->codes[svc][i]))
			queue_ecu_code(m, ts_ns, ecu_id, svc, u->codes[svc][i],
				       false);
	free(u->codes[svc]);
	u->codes[svc] = now;
	u->n_codes[svc] = n_now;
	u->have_codes[svc] = true;
	flush(m);
}

/* ---- life cycle ---- */

int dtc_manager_new(struct dtc_manager **ret, const char *dtc_ini_path,
		    struct dtc_store *store,
		    void (*on_event)(void *ud, const struct dtc_event *ev),
		    void *ud, char *errbuf, size_t errlen)
{
	struct dtc_manager *m;
	int r;

	if (errlen)
		errbuf[0] = '\0';
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->store = store;
	m->on_event = on_event;
	m->ud = ud;
	r = policy_load(m, dtc_ini_path, errbuf, errlen);
	if (r == 0 && store)
		r = manager_store_restore(m, errbuf, errlen);
	if (r < 0) {
		dtc_manager_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

void dtc_manager_free(struct dtc_manager *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->entries[i]);
	free(m->entries);
	for (size_t i = 0; i < m->n_ecus; i++)
		for (int s = 0; s < SVC__MAX; s++)
			free(m->ecus[i].codes[s]);
	free(m->ecus);
	free(m->queue);
	free(m);
}

void dtc_manager_set_error_handler(struct dtc_manager *m,
				   void (*on_error)(void *ud, const char *msg),
				   void *ud)
{
	m->on_error = on_error;
	m->err_ud = ud;
}

static void fill_info(const struct entry *e, struct dtc_info *ret)
{
	ret->code = e->code;
	ret->detector = e->pol.detector;
	ret->severity = e->severity;
	ret->status = e->status;
	ret->stored = e->stored;
	ret->occurrences = e->occurrences;
	ret->failed_cycles = e->failed_cycles;
	ret->aging_cycles = e->aging_cycles;
	ret->first_failure_ns = e->first_ns;
	ret->last_failure_ns = e->last_ns;
	ret->freeze_frame = e->has_ff ? &e->ff : NULL;
}

size_t dtc_manager_n_dtcs(const struct dtc_manager *m)
{
	return m ? m->n : 0;
}

int dtc_manager_dtc(const struct dtc_manager *m, size_t i,
		    struct dtc_info *ret_info)
{
	if (!m || i >= m->n)
		return -ENOENT;
	fill_info(m->entries[i], ret_info);
	return 0;
}

int dtc_manager_find(const struct dtc_manager *m, const char *code,
		     struct dtc_info *ret_info)
{
	const struct entry *e = m && code ? manager_entry_find(m, code) : NULL;

	if (!e)
		return -ENOENT;
	fill_info(e, ret_info);
	return 0;
}

uint64_t dtc_manager_operation_cycles(const struct dtc_manager *m)
{
	return m ? m->operation_cycles : 0;
}

uint64_t dtc_manager_warmup_cycles(const struct dtc_manager *m)
{
	return m ? m->warmup_cycles : 0;
}
