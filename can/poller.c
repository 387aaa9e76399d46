/* poller.c: the polite tester's scheduler: time in, requests out (pure) */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poller.h"

#define MAX_SLOTS 16
#define SENT_RING 64
#define BACKOFF_BASE_NS (100 * 1000000LL)
#define BACKOFF_MAX_NS (60 * 1000000000LL)
#define FAILS_SAID 3 /* no answers in a row before it is said */
#define OTHER_TESTER_NS (10 * 1000000000LL)
#define ONCE_RETRY_NS (1000000000LL)
#define OWN_ECHO_NS (500 * 1000000LL)
#define OWN_SLACK_NS (20 * 1000000LL)
#define OUT_NONE (-1)
#define OUT_BITMAP (-2)

/* One ECU as dtcd addresses it: 0x7DF, 0x7E0 + n, or a BMW address */
struct slot {
	enum poll_target target;
	uint8_t ecu;
	int out; /* entry index, OUT_BITMAP, or OUT_NONE */
	uint8_t out_data[POLL_REQ_MAX];
	uint8_t out_len;
	int64_t deadline_ns;
	unsigned fails;
	int64_t quiet_until_ns;
	bool said_silent;
	/* supported PIDs of service 01 [0] and MIDs of 06 [1], 8 x 32 */
	uint32_t bm[2][8];
	uint8_t known[2];
};

struct entry {
	const struct poll_request *req;
	int slot;
	int64_t due_ns;
	bool dropped, said, done_cycle;
	unsigned long sent, answered, timeouts;
	int64_t first_sent_ns, last_sent_ns, last_answer_ns;
	int last_nrc;
	unsigned answer_frames; /* of the last answer, for the budget */
};

struct sent {
	uint32_t id;
	int ext;
	uint8_t data[POLL_REQ_MAX];
	uint8_t len;
	int64_t ts_ns;
	bool used;
};

struct poller {
	const struct poll_plan *plan;
	const struct poller_ops *ops;
	void *ud;
	struct entry *e;
	struct slot slot[MAX_SLOTS];
	size_t n_slots;
	struct sent ring[SENT_RING];
	unsigned ring_next;
	/* budget: a bucket of bits, refilled at budget_pct of the bit rate */
	double credit_bits;
	int64_t credit_ns;
	double bits_total;
	int64_t first_ns;
	unsigned long frames_sent, others, budget_waits;
	/* pauses */
	bool other_active;
	int64_t other_until_ns;
	bool parked, was_running, have_vehicle, off;
	int64_t off_since_ns;
	bool paused_said; /* what ops->paused was last told */
};

static __attribute__((format(printf, 2, 3))) void say(struct poller *p,
						      const char *fmt, ...)
{
	char buf[320];
	va_list ap;

	if (!p->ops->say)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p->ops->say(p->ud, buf);
}

unsigned poller_frame_bits(unsigned n)
{
	/* 47 bits of frame, 8n of data, worst-case stuff bits (Davis 2007) */
	return 47 + 8 * n + (34 + 8 * n - 1) / 4;
}

static int slot_of(struct poller *p, enum poll_target t, uint8_t ecu)
{
	for (size_t i = 0; i < p->n_slots; i++)
		if (p->slot[i].target == t && p->slot[i].ecu == ecu)
			return (int)i;
	if (p->n_slots == MAX_SLOTS)
		return -1;
	p->slot[p->n_slots] =
		(struct slot){ .target = t, .ecu = ecu, .out = OUT_NONE };
	return (int)p->n_slots++;
}

static void slot_name(const struct slot *s, char *buf, size_t len)
{
	if (s->target == POLL_OBD_FUNCTIONAL)
		snprintf(buf, len, "7DF (functional)");
	else if (s->target == POLL_OBD_PHYSICAL)
		snprintf(buf, len, "7E%u", s->ecu);
	else
		snprintf(buf, len, "bmw:%02X", s->ecu);
}

int poller_new(struct poller **ret, const struct poll_plan *plan,
	       const struct poller_ops *ops, void *userdata)
{
	struct poller *p = calloc(1, sizeof(*p));

	if (!p || !(p->e = calloc(plan->n ? plan->n : 1, sizeof(*p->e)))) {
		free(p);
		return -ENOMEM;
	}
	p->plan = plan;
	p->ops = ops;
	p->ud = userdata;
	for (size_t i = 0; i < plan->n; i++) {
		struct entry *e = &p->e[i];

		e->req = &plan->req[i];
		e->slot = slot_of(p, e->req->target, e->req->ecu);
		e->last_nrc = -1;
		e->answer_frames = 1;
		if (e->slot < 0) {
			poller_free(p);
			return -E2BIG;
		}
	}
	*ret = p;
	return 0;
}

void poller_free(struct poller *p)
{
	if (!p)
		return;
	free(p->e);
	free(p);
}

static double budget_rate(const struct poller *p)
{
	/* bits per ns */
	return p->plan->bitrate * p->plan->budget_pct / 100.0 / 1e9;
}

static void refill(struct poller *p, int64_t now)
{
	double cap = budget_rate(p) * 1e9; /* one second's worth */

	if (!p->credit_ns) {
		p->credit_bits = cap;
		p->first_ns = now;
	} else if (now > p->credit_ns) {
		p->credit_bits += budget_rate(p) * (double)(now - p->credit_ns);
	}
	if (p->credit_bits > cap)
		p->credit_bits = cap;
	p->credit_ns = now;
}

static void charge(struct poller *p, double bits)
{
	p->credit_bits -= bits;
	p->bits_total += bits;
}

/* frames of an ISO-TP message of len bytes (+1 flow control if long) */
static unsigned isotp_frames(enum poll_target t, size_t len)
{
	size_t sf = t == POLL_BMW ? 6 : 7, ff = sf - 2, cf = sf - 1;

	if (len <= sf)
		return 1;
	return 2 + (unsigned)((len - ff + cf - 1) / cf);
}

/* ---- supported PIDs / MIDs (J1979: 01 00, 01 20 ..., 06 00 ...) ---- */

static int mode_index(uint8_t sid)
{
	return sid == 0x01 ? 0 : sid == 0x06 ? 1 : -1;
}

/* 1 supported, 0 not, -1 unknown: *ask gets the bitmap PID to read */
static int supported(const struct slot *s, int m, uint8_t pid, uint8_t *ask)
{
	unsigned r = pid == 0 ? 0 : (pid - 1u) / 32;

	if (pid % 32 == 0) {
		/* a bitmap PID: 00 always, 20 when 00 lists it ... */
		if (pid == 0)
			return 1;
		r = pid / 32 - 1;
		if (!(s->known[m] & (1u << r))) {
			*ask = (uint8_t)(32 * r);
			return supported(s, m, (uint8_t)(32 * r), ask) == 1 ?
				       -1 :
				       0;
		}
		return s->bm[m][r] & 1;
	}
	for (unsigned k = 0; k <= r; k++) {
		if (!(s->known[m] & (1u << k))) {
			*ask = (uint8_t)(32 * k);
			return -1;
		}
		if (k < r && !(s->bm[m][k] & 1))
			return 0;
	}
	return (s->bm[m][r] >> (31 - (pid - 1u) % 32)) & 1;
}

/* all PIDs of the entry: 1 all supported, 0 one is not, -1 ask first */
static int entry_supported(const struct poller *p, const struct entry *e,
			   uint8_t *ask)
{
	const struct poll_request *r = e->req;
	int m = mode_index(r->data[0]), v;
	size_t n;

	if (m < 0 || r->len < 2)
		return 1;
	/* 01 takes up to six PIDs; 06 asks one MID */
	n = m == 0 ? r->len : 2;
	for (size_t i = 1; i < n; i++) {
		v = supported(&p->slot[e->slot], m, r->data[i], ask);
		if (v != 1)
			return v;
	}
	return 1;
}

static void learn_bitmap(struct slot *s, const uint8_t *a, size_t len)
{
	int m = mode_index((uint8_t)(a[0] - 0x40));
	unsigned r;

	if (m < 0 || len < 6 || a[1] % 32 || a[1] > 0xE0)
		return;
	r = a[1] / 32;
	s->bm[m][r] |= (uint32_t)a[2] << 24 | (uint32_t)a[3] << 16 |
		       (uint32_t)a[4] << 8 | a[5];
	s->known[m] |= (uint8_t)(1u << r);
}

/* ---- sending ---- */

static uint32_t can_id_of(const struct poll_request *r, int *ret_ext)
{
	*ret_ext = -1;
	if (r->target == POLL_OBD_FUNCTIONAL)
		return 0x7DF;
	if (r->target == POLL_OBD_PHYSICAL)
		return 0x7E0 + r->ecu;
	*ret_ext = r->ecu;
	return 0x6F1;
}

static void remember_sent(struct poller *p, const struct poll_request *to,
			  const uint8_t *data, size_t len, int64_t now)
{
	struct sent *s = &p->ring[p->ring_next++ % SENT_RING];

	s->id = can_id_of(to, &s->ext);
	memcpy(s->data, data, len);
	s->len = (uint8_t)len;
	s->ts_ns = now;
	s->used = false;
}

static void drop(struct poller *p, struct entry *e, const char *why)
{
	char d[64];

	e->dropped = true;
	if (e->said)
		return;
	e->said = true;
	poll_request_describe(e->req, d, sizeof(d));
	say(p, "poll %s (%s): %s; not asked again this operation cycle",
	    e->req->name, d, why);
}

/* the next due entry of the slot, or NULL */
static struct entry *next_due(struct poller *p, int slot, int64_t now)
{
	struct entry *best = NULL;

	for (size_t i = 0; i < p->plan->n; i++) {
		struct entry *e = &p->e[i];

		if (e->slot != slot || e->dropped || e->done_cycle ||
		    e->due_ns > now)
			continue;
		if (!best || e->due_ns < best->due_ns)
			best = e;
	}
	return best;
}

static void advance(struct poller *p, struct entry *e, int64_t now)
{
	int64_t period = e->req->period_ns;

	if (period == 0) {
		/* once per cycle: again later only if it is not answered */
		e->due_ns = now + ONCE_RETRY_NS;
		return;
	}
	/* keep the average rate, but never catch up a backlog in a burst */
	e->due_ns += period;
	if (e->due_ns <= now)
		e->due_ns = now + period;
}

/* 1 sent, 0 nothing to send now, -1 the budget says wait */
static int send_one(struct poller *p, int si, int64_t now)
{
	struct slot *s = &p->slot[si];
	struct entry *e;
	uint8_t buf[2], ask = 0;
	const uint8_t *data;
	size_t len;
	double cost;
	int v, r;

	for (;;) {
		e = next_due(p, si, now);
		if (!e)
			return 0;
		v = entry_supported(p, e, &ask);
		if (v == 0) {
			drop(p, e,
			     e->req->data[0] == 0x01 ?
				     "the ECU does not list the PID as "
				     "supported (01 00 ..)" :
				     "the ECU does not list the MID as "
				     "supported (06 00 ..)");
			continue;
		}
		break;
	}
	if (v < 0) {
		buf[0] = e->req->data[0];
		buf[1] = ask;
		data = buf;
		len = 2;
		cost = poller_frame_bits(8) * 2.0;
	} else {
		data = e->req->data;
		len = e->req->len;
		cost = poller_frame_bits(8) * (1.0 + e->answer_frames);
	}
	if (p->credit_bits < cost) {
		p->budget_waits++;
		return -1;
	}
	charge(p, poller_frame_bits(8));
	remember_sent(p, e->req, data, len, now);
	r = p->ops->send(p->ud, e->req, data, len);
	p->frames_sent++;
	memcpy(s->out_data, data, len);
	s->out_len = (uint8_t)len;
	s->deadline_ns = now + p->plan->p2_ns;
	if (v < 0) {
		s->out = OUT_BITMAP;
	} else {
		s->out = (int)(e - p->e);
		if (!e->sent++)
			e->first_sent_ns = now;
		e->last_sent_ns = now;
		advance(p, e, now);
	}
	if (r < 0) {
		/* the socket refused it: no answer will come */
		s->deadline_ns = now;
	}
	return 1;
}

/* ---- answers and silence ---- */

static void slot_answered(struct poller *p, struct slot *s)
{
	char n[32];

	if (s->said_silent) {
		slot_name(s, n, sizeof(n));
		say(p, "ECU %s answers again", n);
	}
	s->fails = 0;
	s->quiet_until_ns = 0;
	s->said_silent = false;
}

static void slot_timeout(struct poller *p, struct slot *s, int64_t now)
{
	int64_t backoff;
	char n[32];

	if (s->out >= 0)
		p->e[s->out].timeouts++;
	s->out = OUT_NONE;
	s->fails++;
	/*
	 * An answer after P2 is late, not lost: asked at once, the ECU's
	 * next request could take it, and a negative answer names only the
	 * service, so a late 7F 22 31 would drop a DID it was never about.
	 * A quiet P2 lets it land on an idle slot, where it is ignored.
	 */
	if (s->quiet_until_ns < now + p->plan->p2_ns)
		s->quiet_until_ns = now + p->plan->p2_ns;
	if (s->fails >= 2) {
		backoff = s->fails - 2 < 20 ?
				  BACKOFF_BASE_NS << (s->fails - 2) :
				  BACKOFF_MAX_NS;
		if (backoff > BACKOFF_MAX_NS)
			backoff = BACKOFF_MAX_NS;
		s->quiet_until_ns = now + backoff;
	}
	if (s->fails == FAILS_SAID && !s->said_silent) {
		s->said_silent = true;
		slot_name(s, n, sizeof(n));
		say(p,
		    "ECU %s: no answer to %u requests in a row; asking it "
		    "less and less often (at most every %lld s)",
		    n, s->fails, (long long)(BACKOFF_MAX_NS / 1000000000LL));
	}
}

static bool is_answer_to(const uint8_t *q, size_t qlen, const uint8_t *a,
			 size_t alen)
{
	if (alen >= 3 && a[0] == 0x7F)
		return a[1] == q[0];
	if (alen < 1 || a[0] != (uint8_t)(q[0] + 0x40))
		return false;
	switch (q[0]) {
	case 0x01:
	case 0x02:
	case 0x06:
	case 0x09:
	case 0x19:
		return qlen < 2 || (alen >= 2 && a[1] == q[1]);
	case 0x22:
		return alen >= 3 && a[1] == q[1] && a[2] == q[2];
	default:
		return true;
	}
}

static const char *nrc_name(uint8_t nrc)
{
	switch (nrc) {
	case 0x11:
		return "serviceNotSupported";
	case 0x12:
		return "subFunctionNotSupported";
	case 0x31:
		return "requestOutOfRange";
	default:
		return "refused";
	}
}

static void on_negative(struct poller *p, struct slot *s, struct entry *e,
			uint8_t nrc, int64_t now)
{
	char why[80];

	if (e)
		e->last_nrc = nrc;
	if (nrc == 0x78) {
		/* response pending: the real answer comes within P2* */
		s->deadline_ns = now + p->plan->p2_star_ns;
		return;
	}
	s->out = OUT_NONE;
	if (nrc == 0x21) {
		/* busy, repeat request: after a back-off */
		if (e)
			e->due_ns = now + p->plan->busy_retry_ns;
		return;
	}
	if (nrc != 0x11 && nrc != 0x12 && nrc != 0x31)
		return;
	if (!e) {
		/* no bitmap: nothing of that range is asked this cycle */
		int m = mode_index(s->out_data[0]);

		if (m >= 0 && s->out_len >= 2)
			s->known[m] |= (uint8_t)(1u << (s->out_data[1] / 32));
		return;
	}
	snprintf(why, sizeof(why), "refused with NRC 0x%02X (%s)", nrc,
		 nrc_name(nrc));
	drop(p, e, why);
}

static void match(struct poller *p, struct slot *s, const uint8_t *a,
		  size_t len, int64_t now)
{
	struct entry *e = s->out >= 0 ? &p->e[s->out] : NULL;

	slot_answered(p, s);
	if (a[0] == 0x7F) {
		on_negative(p, s, e, a[2], now);
		return;
	}
	if (!e) {
		learn_bitmap(s, a, len);
	} else {
		e->answered++;
		e->last_answer_ns = now;
		e->answer_frames = isotp_frames(s->target, len);
		if (e->req->period_ns == 0)
			e->done_cycle = true;
	}
	s->out = OUT_NONE;
}

void poller_answer(struct poller *p, int64_t now_ns, enum poll_target target,
		   uint8_t ecu, const uint8_t *data, size_t len)
{
	bool matched = false;

	if (len < 1)
		return;
	refill(p, now_ns);
	/* what the answer took on the bus, with our flow control */
	charge(p, poller_frame_bits(8) * isotp_frames(target, len));
	for (size_t i = 0; i < p->n_slots; i++) {
		struct slot *s = &p->slot[i];
		bool mine = s->target == target && s->ecu == ecu;
		bool functional = target == POLL_OBD_PHYSICAL &&
				  s->target == POLL_OBD_FUNCTIONAL;

		if (!mine && !functional)
			continue;
		if (s->out != OUT_NONE &&
		    is_answer_to(s->out_data, s->out_len, data, len)) {
			match(p, s, data, len, now_ns);
			matched = true;
		} else if (functional && data[0] != 0x7F) {
			/* a second ECU's bitmap for the functional request */
			learn_bitmap(s, data, len);
		}
		if (matched)
			break;
	}
}

/* ---- the bus: other testers ---- */

static bool own_request(struct poller *p, uint32_t id, int ext,
			const uint8_t *pl, size_t len, int64_t now)
{
	for (unsigned i = 0; i < SENT_RING; i++) {
		struct sent *s = &p->ring[i];

		/* the echo's time is the kernel's, the send's ours: a few
		 * ms either way */
		if (s->used || !s->len || s->id != id || s->ext != ext ||
		    now - s->ts_ns > OWN_ECHO_NS ||
		    s->ts_ns - now > OWN_SLACK_NS)
			continue;
		if (s->len != len || memcmp(s->data, pl, len))
			continue;
		s->used = true;
		return true;
	}
	return false;
}

void poller_bus_frame(struct poller *p, int64_t now_ns, uint32_t id,
		      const uint8_t *data, size_t len)
{
	size_t off, n;
	int ext = -1;
	uint8_t pci;

	if (id == 0x7DF || (id >= 0x7E0 && id <= 0x7E7)) {
		off = 0;
	} else if (id == 0x6F1) {
		off = 1;
		if (len < 1)
			return;
		ext = data[0];
	} else {
		return;
	}
	if (len < off + 2)
		return;
	pci = data[off];
	if (pci >> 4 == 0) {
		n = pci & 0x0F;
		if (n == 0 || off + 1 + n > len)
			return;
		if (own_request(p, id, ext, data + off + 1, n, now_ns))
			return;
	} else if (pci >> 4 != 1) {
		/* consecutive and flow control frames are no new requests */
		return;
	}
	/* a first frame: dtcd's requests are all single frames */
	p->others++;
	if (!p->other_active) {
		p->other_active = true;
		say(p,
		    "another tester on 0x%03X (service %02X): polling paused "
		    "until 10 s after its last request",
		    (unsigned)id, data[off + (pci >> 4 == 0 ? 1 : 2)]);
	}
	p->other_until_ns = now_ns + OTHER_TESTER_NS;
}

/* ---- the vehicle ---- */

static void new_cycle(struct poller *p)
{
	for (size_t i = 0; i < p->plan->n; i++) {
		p->e[i].dropped = false;
		p->e[i].done_cycle = false;
	}
	for (size_t i = 0; i < p->n_slots; i++) {
		memset(p->slot[i].bm, 0, sizeof(p->slot[i].bm));
		memset(p->slot[i].known, 0, sizeof(p->slot[i].known));
	}
}

void poller_vehicle(struct poller *p, int64_t now_ns, bool engine_running,
		    bool ignition_on, bool known)
{
	if (engine_running && p->have_vehicle && !p->was_running)
		new_cycle(p);
	p->was_running = engine_running;
	p->have_vehicle = true;
	if (!known || engine_running || ignition_on) {
		p->off = false;
		if (p->parked) {
			p->parked = false;
			say(p, "engine or ignition on: polling resumes");
		}
		return;
	}
	if (!p->off) {
		p->off = true;
		p->off_since_ns = now_ns;
	}
	if (!p->parked && now_ns - p->off_since_ns >= p->plan->park_after_ns) {
		p->parked = true;
		say(p,
		    "engine and ignition off for %.0f s: polling paused so "
		    "the ECUs can sleep",
		    (double)p->plan->park_after_ns / 1e9);
	}
}

/* ---- the tick ---- */

static enum poller_pause pause_state(const struct poller *p)
{
	if (p->other_active)
		return POLLER_OTHER_TESTER;
	if (p->parked)
		return POLLER_PARKED;
	return POLLER_RUNNING;
}

static void tell_paused(struct poller *p)
{
	bool paused = pause_state(p) != POLLER_RUNNING;

	if (paused != p->paused_said && p->ops->paused) {
		p->paused_said = paused;
		p->ops->paused(p->ud, paused);
	}
}

static int64_t earliest(int64_t a, int64_t b)
{
	return b < a ? b : a;
}

int64_t poller_tick(struct poller *p, int64_t now)
{
	int64_t next = now + 1000000000LL;
	bool budget_wait = false;

	refill(p, now);
	if (p->other_active && now >= p->other_until_ns) {
		p->other_active = false;
		say(p, "no other tester for 10 s: polling resumes");
	}
	tell_paused(p);
	for (size_t i = 0; i < p->n_slots; i++) {
		struct slot *s = &p->slot[i];

		if (s->out != OUT_NONE && now >= s->deadline_ns)
			slot_timeout(p, s, now);
	}
	if (p->other_active)
		return earliest(next, p->other_until_ns);
	if (p->parked)
		return next;
	for (size_t i = 0; i < p->n_slots; i++) {
		struct slot *s = &p->slot[i];

		if (s->out == OUT_NONE && now >= s->quiet_until_ns &&
		    !budget_wait && send_one(p, (int)i, now) < 0)
			budget_wait = true;
	}
	/* when to look again */
	for (size_t i = 0; i < p->n_slots; i++) {
		const struct slot *s = &p->slot[i];

		if (s->out != OUT_NONE)
			next = earliest(next, s->deadline_ns);
		else if (s->quiet_until_ns > now)
			next = earliest(next, s->quiet_until_ns);
	}
	for (size_t i = 0; i < p->plan->n; i++) {
		const struct entry *e = &p->e[i];
		const struct slot *s = &p->slot[e->slot];

		if (e->dropped || e->done_cycle || s->out != OUT_NONE ||
		    s->quiet_until_ns > now)
			continue;
		next = earliest(next, e->due_ns > now ? e->due_ns : now + 1);
	}
	if (budget_wait) {
		/* the bucket holds a request's worth again */
		int64_t wait =
			(int64_t)(poller_frame_bits(8) * 2 / budget_rate(p));

		next = earliest(next > now + wait ? next : now + wait,
				now + wait);
	}
	return next > now ? next : now + 1;
}

/* ---- status ---- */

const char *poller_pause_name(enum poller_pause x)
{
	switch (x) {
	case POLLER_OTHER_TESTER:
		return "another tester";
	case POLLER_PARKED:
		return "engine and ignition off";
	default:
		return "polling";
	}
}

void poller_get_stats(const struct poller *p, int64_t now_ns,
		      struct poller_stats *ret)
{
	double span = (double)(now_ns - p->first_ns) / 1e9;

	*ret = (struct poller_stats){
		.pause = pause_state(p),
		.frames_sent = p->frames_sent,
		.bus_requests_others = p->others,
		.budget_waits = p->budget_waits,
	};
	if (p->credit_ns && span > 0)
		ret->load_pct = p->bits_total / span / p->plan->bitrate * 100;
}

void poller_get_request_stats(const struct poller *p, size_t i,
			      struct poller_request_stats *ret)
{
	const struct entry *e = &p->e[i];

	*ret = (struct poller_request_stats){
		.req = e->req,
		.sent = e->sent,
		.answered = e->answered,
		.timeouts = e->timeouts,
		.last_answer_ns = e->last_answer_ns,
		.last_nrc = e->last_nrc,
		.dropped = e->dropped,
	};
	if (e->sent >= 2 && e->last_sent_ns > e->first_sent_ns)
		ret->achieved_hz =
			(double)(e->sent - 1) /
			((double)(e->last_sent_ns - e->first_sent_ns) / 1e9);
}
