/* test_poller.c: the scheduler against scripted ECUs, in simulated time */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poller.h"

#define MS 1000000LL
#define S 1000000000LL
#define MAX_SENDS 20000
#define MAX_PENDING 64

enum behaviour {
	ANSWER,	      /* a positive answer after delay */
	SILENT,	      /* never */
	NRC_31_5A30,  /* 7F 22 31 for DID 5A30, the rest answered */
	PENDING_78,   /* 7F 22 78 at once, the answer 2 s later */
	PENDING_LOST, /* 7F 22 78, then nothing */
	BUSY_3,	      /* 7F 22 21 three times, then answers */
	SILENT_AFTER, /* answers for 5 s, then never again */
};

struct sent_rec {
	int64_t t;
	uint8_t data[8];
	size_t len;
	enum poll_target target;
	uint8_t ecu;
};

struct pending {
	int64_t t;
	enum poll_target req_target;
	uint8_t req_ecu;
	enum poll_target target;
	uint8_t ecu;
	uint8_t data[16];
	size_t len;
};

struct h {
	struct poller *p;
	enum behaviour b;
	int64_t now, delay;
	int64_t nrc_delay; /* NRC_31_5A30's refusal, if not delay */
	bool echo;	   /* the raw socket sees our own requests */
	struct sent_rec sent[MAX_SENDS];
	size_t n_sent;
	struct pending pend[MAX_PENDING];
	size_t n_pend;
	char said[32][320];
	size_t n_said;
	unsigned busy_left, pause_calls;
	/* per target/ECU: no new request before (P2, P2* after a 78) */
	int64_t busy_until[3][256];
	/* supported PIDs of service 01 and MIDs of 06 the ECU lists */
	const uint8_t *pids;
	size_t n_pids;
};

static void queue(struct h *h, int64_t t, enum poll_target tg, uint8_t ecu,
		  const uint8_t *d, size_t len)
{
	struct pending *q;

	assert_true(h->n_pend < MAX_PENDING);
	q = &h->pend[h->n_pend++];
	q->t = t;
	q->req_target = h->sent[h->n_sent - 1].target;
	q->req_ecu = h->sent[h->n_sent - 1].ecu;
	q->target = tg;
	q->ecu = ecu;
	memcpy(q->data, d, len);
	q->len = len;
}

static bool lists(const struct h *h, uint8_t sid, uint8_t pid)
{
	for (size_t i = 0; i < h->n_pids; i += 2)
		if (h->pids[i] == sid && h->pids[i + 1] == pid)
			return true;
	return false;
}

/* J1979 bitmap of 32 PIDs after base, bit 0 = the next bitmap */
static void bitmap(const struct h *h, uint8_t sid, uint8_t base, uint8_t *d)
{
	uint32_t m = 0;

	for (unsigned k = 1; k <= 32; k++) {
		bool on = k == 32 ? false : lists(h, sid, (uint8_t)(base + k));

		if (k == 32)
			for (unsigned q = base + 33u; q < 256; q++)
				on |= lists(h, sid, (uint8_t)q);
		if (on)
			m |= 1u << (32 - k);
	}
	d[0] = (uint8_t)(m >> 24);
	d[1] = (uint8_t)(m >> 16);
	d[2] = (uint8_t)(m >> 8);
	d[3] = (uint8_t)m;
}

static int on_send(void *ud, const struct poll_request *to, const uint8_t *data,
		   size_t len)
{
	struct h *h = ud;
	struct sent_rec *s = &h->sent[h->n_sent++];
	uint8_t a[16] = { (uint8_t)(data[0] + 0x40) };
	size_t alen = len;
	enum poll_target at = to->target == POLL_OBD_FUNCTIONAL ?
				      POLL_OBD_PHYSICAL :
				      to->target;
	uint8_t ecu = to->target == POLL_OBD_FUNCTIONAL ? 0 : to->ecu;
	int64_t *busy = &h->busy_until[to->target][to->ecu];
	uint8_t raw[8] = { 0 };
	size_t off = to->target == POLL_BMW;

	assert_true(h->n_sent < MAX_SENDS);
	/* one request outstanding per ECU, ever */
	if (h->now < *busy)
		fail_msg("a second request to the same ECU at %lld ms",
			 (long long)(h->now / MS));
	*busy = h->now + 50 * MS;
	s->t = h->now;
	memcpy(s->data, data, len);
	s->len = len;
	s->target = to->target;
	s->ecu = to->ecu;
	if (h->echo) {
		/* as the kernel sends it: [target] PCI data */
		raw[0] = to->ecu;
		raw[off] = (uint8_t)len;
		memcpy(raw + off + 1, data, len);
		poller_bus_frame(
			h->p, h->now,
			to->target == POLL_OBD_FUNCTIONAL ? 0x7DF :
			to->target == POLL_OBD_PHYSICAL	  ? 0x7E0u + to->ecu :
							    0x6F1,
			raw, sizeof(raw));
	}
	memcpy(a + 1, data + 1, len - 1);
	if ((data[0] == 0x01 || data[0] == 0x06) && data[1] % 32 == 0) {
		bitmap(h, data[0], data[1], a + 2);
		alen = 6;
	} else if (data[0] == 0x01 || data[0] == 0x06) {
		if (!lists(h, data[0], data[1]))
			fail_msg("asked %02X %02X that the ECU does not list",
				 data[0], data[1]);
		a[alen++] = 0x42;
	} else {
		a[alen++] = 0x42;
	}
	switch (h->b) {
	case SILENT:
		return 0;
	case SILENT_AFTER:
		if (h->now > 5 * S)
			return 0;
		break;
	case NRC_31_5A30:
		if (data[0] == 0x22 && data[1] == 0x5A && data[2] == 0x30) {
			queue(h,
			      h->now + (h->nrc_delay ? h->nrc_delay : h->delay),
			      at, ecu, (const uint8_t[]){ 0x7F, 0x22, 0x31 },
			      3);
			return 0;
		}
		break;
	case PENDING_78:
	case PENDING_LOST:
		queue(h, h->now + h->delay, at, ecu,
		      (const uint8_t[]){ 0x7F, data[0], 0x78 }, 3);
		if (h->b == PENDING_LOST)
			return 0;
		queue(h, h->now + 2 * S, at, ecu, a, alen);
		return 0;
	case BUSY_3:
		if (h->busy_left) {
			h->busy_left--;
			queue(h, h->now + h->delay, at, ecu,
			      (const uint8_t[]){ 0x7F, data[0], 0x21 }, 3);
			return 0;
		}
		break;
	case ANSWER:
		break;
	}
	queue(h, h->now + h->delay, at, ecu, a, alen);
	return 0;
}

static void on_say(void *ud, const char *msg)
{
	struct h *h = ud;

	assert_true(h->n_said < 32);
	snprintf(h->said[h->n_said++], sizeof(h->said[0]), "%s", msg);
}

static void on_paused(void *ud, bool paused)
{
	((struct h *)ud)->pause_calls++;
}

static const struct poller_ops ops = { on_send, on_say, on_paused };

/* runs the poller and the scripted ECU until end */
static void run(struct h *h, int64_t end)
{
	int64_t next = h->now;

	while (h->now < end) {
		int64_t t = next;

		for (size_t i = 0; i < h->n_pend; i++)
			if (h->pend[i].t < t)
				t = h->pend[i].t;
		if (t > end)
			t = end;
		h->now = t;
		for (size_t i = 0; i < h->n_pend;) {
			struct pending q = h->pend[i];

			if (q.t > h->now) {
				i++;
				continue;
			}
			h->pend[i] = h->pend[--h->n_pend];
			/* an answer ends what was outstanding, a 78 not */
			h->busy_until[q.req_target][q.req_ecu] =
				q.len == 3 && q.data[0] == 0x7F &&
						q.data[2] == 0x78 ?
					h->now + 5 * S :
					0;
			poller_answer(h->p, h->now, q.target, q.ecu, q.data,
				      q.len);
		}
		if (h->now >= next || h->now == end)
			next = poller_tick(h->p, h->now);
		assert_true(next > h->now);
	}
}

static size_t count(const struct h *h, const char *hex, int64_t from,
		    int64_t to)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_sent; i++) {
		char got[20] = "";

		for (size_t k = 0; k < h->sent[i].len; k++)
			sprintf(got + 2 * k, "%02X", h->sent[i].data[k]);
		if (!strcmp(got, hex) && h->sent[i].t >= from &&
		    h->sent[i].t < to)
			n++;
	}
	return n;
}

static size_t said(const struct h *h, const char *what)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_said; i++)
		n += strstr(h->said[i], what) != NULL;
	return n;
}

static struct poll_request req(const char *name, enum poll_target t,
			       uint8_t ecu, const char *hex, int64_t period)
{
	struct poll_request r = { .target = t,
				  .ecu = ecu,
				  .period_ns = period };

	snprintf(r.name, sizeof(r.name), "%s", name);
	for (; hex[0] && hex[1]; hex += 2) {
		unsigned b;

		sscanf(hex, "%2x", &b);
		r.data[r.len++] = (uint8_t)b;
	}
	return r;
}

static struct h *setup(struct poll_plan *plan, struct poll_request *r, size_t n,
		       enum behaviour b)
{
	struct h *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	poll_plan_init(plan);
	plan->req = r;
	plan->n = n;
	h->b = b;
	h->delay = 5 * MS;
	h->echo = true;
	assert_int_equal(poller_new(&h->p, plan, &ops, h), 0);
	return h;
}

static void teardown(struct h *h)
{
	poller_free(h->p);
	free(h);
}

/* the DME as spec 1 C polls it */
static struct poll_request dme[] = {
	{ "vanos", POLL_BMW, 0x12, { 0x22, 0x5A, 0x20 }, 3, 200 * MS, 0 },
	{ "misfire", POLL_BMW, 0x12, { 0x22, 0x5A, 0x10 }, 3, S, 0 },
	{ "heater", POLL_BMW, 0x12, { 0x22, 0x5A, 0x30 }, 3, S, 0 },
	{ "vin", POLL_BMW, 0x12, { 0x22, 0xF1, 0x90 }, 3, 0, 0 },
};

/* rates within 10 %, the VIN once, one outstanding (on_send checks) */
static void test_rates(void **state)
{
	struct poll_plan plan;
	struct h *h = setup(&plan, dme, 4, ANSWER);

	run(h, 60 * S);
	assert_in_range(count(h, "225A20", 0, 60 * S), 270, 330);
	assert_in_range(count(h, "225A10", 0, 60 * S), 54, 66);
	assert_int_equal(count(h, "22F190", 0, 60 * S), 1);
	assert_int_equal(h->n_said, 0);
	teardown(h);
}

/* no answer within P2: the ECU is asked less and less often */
static void test_silent_backoff(void **state)
{
	struct poll_plan plan;
	struct h *h = setup(&plan, dme, 4, SILENT_AFTER);
	size_t first, later;

	run(h, 5 * S);
	assert_in_range(count(h, "225A20", 0, 5 * S), 22, 28);
	run(h, 125 * S);
	first = count(h, "225A20", 5 * S, 65 * S) +
		count(h, "225A10", 5 * S, 65 * S) +
		count(h, "225A30", 5 * S, 65 * S);
	later = count(h, "225A20", 65 * S, 125 * S) +
		count(h, "225A10", 65 * S, 125 * S) +
		count(h, "225A30", 65 * S, 125 * S);
	/* at most every 60 s after a dozen doublings */
	assert_in_range(first, 8, 20);
	assert_in_range(later, 1, 2);
	assert_int_equal(said(h, "no answer to 3 requests"), 1);
	teardown(h);
}

/* 0x78: P2* instead of P2, no second request meanwhile, no timeout */
static void test_pending(void **state)
{
	struct poll_plan plan;
	struct poll_request one[] = { dme[0] };
	struct h *h = setup(&plan, one, 1, PENDING_78);
	struct poller_request_stats st;

	run(h, 10 * S);
	/* each request waits 2 s for its answer */
	assert_in_range(count(h, "225A20", 0, 10 * S), 4, 6);
	poller_get_request_stats(h->p, 0, &st);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.last_nrc, 0x78);
	teardown(h);

	h = setup(&plan, one, 1, PENDING_LOST);
	run(h, 5 * S - MS);
	/* after a 78, P2 (50 ms) passes and nothing is asked */
	assert_int_equal(count(h, "225A20", 0, 5 * S), 1);
	run(h, 5 * S + 100 * MS);
	assert_int_equal(count(h, "225A20", 0, 5 * S + 100 * MS), 2);
	teardown(h);
}

/* 0x21: asked again after the back-off (200 ms), then answered */
static void test_busy(void **state)
{
	struct poll_plan plan;
	struct poll_request one[] = { dme[1] };
	struct h *h = setup(&plan, one, 1, BUSY_3);
	struct poller_request_stats st;

	h->busy_left = 3;
	run(h, 3 * S);
	/* 0, 205, 410, 615 ms (answered), then 1 s, 2 s */
	assert_int_equal(count(h, "225A10", 0, 700 * MS), 4);
	assert_true(h->sent[1].t - h->sent[0].t >= 200 * MS);
	poller_get_request_stats(h->p, 0, &st);
	assert_int_equal(st.answered, 3);
	teardown(h);
}

/* 0x31: dropped for the cycle, said once, back in the next cycle */
static void test_refused(void **state)
{
	struct poll_plan plan;
	struct h *h = setup(&plan, dme, 4, NRC_31_5A30);

	poller_vehicle(h->p, 0, true, true, true);
	run(h, 20 * S);
	assert_int_equal(count(h, "225A30", 0, 20 * S), 1);
	assert_in_range(count(h, "225A10", 0, 20 * S), 18, 22);
	assert_int_equal(said(h, "NRC 0x31 (requestOutOfRange)"), 1);
	/* the engine stops and starts: a new operation cycle */
	poller_vehicle(h->p, h->now, false, true, true);
	poller_vehicle(h->p, h->now, true, true, true);
	run(h, 40 * S);
	assert_int_equal(count(h, "225A30", 20 * S, 40 * S), 1);
	assert_int_equal(count(h, "22F190", 0, 40 * S), 2);
	assert_int_equal(said(h, "NRC 0x31"), 1);
	teardown(h);
}

/* a refusal after P2 is ignored, never taken for the next request's */
static void test_refused_late(void **state)
{
	struct poll_plan plan;
	struct h *h = setup(&plan, dme, 4, NRC_31_5A30);

	h->delay = 40 * MS;
	h->nrc_delay = 80 * MS;
	poller_vehicle(h->p, 0, true, true, true);
	run(h, 20 * S);
	assert_int_equal(said(h, "NRC 0x31"), 0);
	assert_in_range(count(h, "225A20", 0, 20 * S), 80, 110);
	assert_in_range(count(h, "225A10", 0, 20 * S), 18, 22);
	assert_in_range(count(h, "225A30", 0, 20 * S), 18, 22);
	teardown(h);
}

/* supported bitmaps read first; an unlisted PID/MID never asked */
static void test_bitmaps(void **state)
{
	static const uint8_t listed[] = { 0x01, 0x01, 0x01, 0x05, 0x01, 0x0C,
					  0x01, 0x42, 0x06, 0xA2, 0x06, 0xA4 };
	struct poll_request r[] = {
		req("rpm", POLL_OBD_FUNCTIONAL, 0xFF, "010C", 200 * MS),
		req("oil", POLL_OBD_FUNCTIONAL, 0xFF, "015C", S),
		req("volt", POLL_OBD_FUNCTIONAL, 0xFF, "0142", S),
		req("cyl1", POLL_OBD_FUNCTIONAL, 0xFF, "06A2", 2 * S),
		req("cyl2", POLL_OBD_FUNCTIONAL, 0xFF, "06A3", 2 * S),
		req("cyl3", POLL_OBD_FUNCTIONAL, 0xFF, "06A4", 2 * S),
	};
	struct poll_plan plan;
	struct h *h = setup(&plan, r, 6, ANSWER);

	h->pids = listed;
	h->n_pids = sizeof(listed);
	run(h, 10 * S);
	/* on_send fails the test when 5C or A3 is asked */
	assert_true(h->sent[0].data[0] == 0x01 && h->sent[0].data[1] == 0);
	assert_int_equal(count(h, "0100", 0, 10 * S), 1);
	assert_int_equal(count(h, "0140", 0, 10 * S), 1);
	assert_int_equal(count(h, "0160", 0, 10 * S), 0);
	assert_int_equal(count(h, "06A0", 0, 10 * S), 1);
	assert_in_range(count(h, "06A4", 0, 10 * S), 4, 6);
	assert_in_range(count(h, "010C", 0, 10 * S), 45, 55);
	assert_int_equal(said(h, "does not list the PID"), 1);
	assert_int_equal(said(h, "does not list the MID"), 1);
	teardown(h);
}

/* another tester: quiet until 10 s after its last request, said once */
static void test_other_tester(void **state)
{
	struct poll_plan plan;
	struct h *h = setup(&plan, dme, 4, ANSWER);
	const uint8_t req[8] = { 0x12, 0x03, 0x22, 0x5A, 0x20 };

	run(h, 5 * S);
	assert_int_equal(h->n_said, 0); /* our own echoes are ours */
	poller_bus_frame(h->p, 5 * S, 0x6F1, req, 8);
	run(h, 8 * S);
	poller_bus_frame(h->p, 8 * S, 0x7DF,
			 (const uint8_t[]){ 0x02, 0x01, 0x0C, 0, 0, 0, 0, 0 },
			 8);
	run(h, 30 * S);
	assert_int_equal(count(h, "225A20", 5 * S + 10 * MS, 18 * S), 0);
	assert_in_range(count(h, "225A20", 18 * S, 30 * S), 55, 65);
	assert_int_equal(said(h, "another tester on 0x6F1"), 1);
	assert_int_equal(said(h, "another tester"), 1);
	assert_int_equal(said(h, "polling resumes"), 1);
	assert_int_equal(h->pause_calls, 2);
	/* flow control from a tester is no request */
	poller_bus_frame(h->p, h->now, 0x7E0,
			 (const uint8_t[]){ 0x30, 0, 0, 0, 0, 0, 0, 0 }, 8);
	run(h, 32 * S);
	assert_int_equal(said(h, "another tester"), 1);
	teardown(h);
}

/*
 * A loaded machine reads the raw socket late: the echoes of our own
 * requests come seconds after they left, all at once, with the kernel's
 * time of each (a few ms off our clock, either way). Still ours.
 */
static void test_own_echo_late(void **state)
{
	struct poll_plan plan;
	struct h *h = setup(&plan, dme, 4, ANSWER);
	size_t n;

	h->echo = false;
	run(h, 5 * S);
	n = h->n_sent;
	assert_in_range(n, 30, 64);
	for (size_t i = 0; i < n; i++) {
		const struct sent_rec *s = &h->sent[i];
		uint8_t raw[8] = { s->ecu, (uint8_t)s->len };

		memcpy(raw + 2, s->data, s->len);
		poller_bus_frame(h->p, s->t + (i % 2 ? 3 : -3) * MS, 0x6F1, raw,
				 sizeof(raw));
	}
	run(h, 6 * S);
	assert_int_equal(said(h, "another tester"), 0);
	assert_in_range(count(h, "225A20", 5 * S, 6 * S), 4, 6);
	teardown(h);
}

/* parked: engine and ignition off for park_after_s, then quiet */
static void test_parked(void **state)
{
	struct poll_plan plan;
	struct h *h = setup(&plan, dme, 4, ANSWER);

	plan.park_after_ns = 20 * S;
	poller_vehicle(h->p, 0, false, false, true);
	run(h, 30 * S);
	poller_vehicle(h->p, h->now, false, false, true);
	run(h, 60 * S);
	assert_in_range(count(h, "225A20", 0, 20 * S), 95, 105);
	assert_int_equal(count(h, "225A20", 30 * S + 10 * MS, 60 * S), 0);
	poller_vehicle(h->p, h->now, false, true, true);
	run(h, 70 * S);
	assert_in_range(count(h, "225A20", 60 * S, 70 * S), 45, 55);
	assert_int_equal(said(h, "polling paused so the ECUs can sleep"), 1);
	/* unknown ignition (no broadcasts): never parked */
	teardown(h);
	h = setup(&plan, dme, 4, ANSWER);
	plan.park_after_ns = S;
	poller_vehicle(h->p, 0, false, false, false);
	run(h, 10 * S);
	assert_in_range(count(h, "225A20", 5 * S, 10 * S), 22, 28);
	teardown(h);
}

/* the bus-load budget holds, measured as the wire sees it */
static void test_budget(void **state)
{
	struct poll_request r[8];
	struct poll_plan plan;
	struct poller_stats st;
	struct h *h;
	unsigned long sent = 0;

	for (int i = 0; i < 8; i++) {
		char hex[8];

		snprintf(hex, sizeof(hex), "225A%02X", 0x20 + i);
		r[i] = req("x", POLL_BMW, (uint8_t)(0x10 + i), hex, 100 * MS);
	}
	h = setup(&plan, r, 8, ANSWER);
	plan.budget_pct = 1; /* 5000 bit/s: ~18 request + answer pairs */
	run(h, 60 * S);
	poller_get_stats(h->p, h->now, &st);
	for (int i = 0; i < 8; i++) {
		struct poller_request_stats rs;

		poller_get_request_stats(h->p, (size_t)i, &rs);
		sent += rs.sent;
	}
	/* 8 x 10 Hz would be 4800 requests */
	assert_in_range(sent, 900, 1200);
	assert_true(st.load_pct <= 1.1);
	assert_true(st.load_pct >= 0.8);
	assert_true(st.budget_waits > 0);
	teardown(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_silent_backoff),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_refused_late),
		cmocka_unit_test(test_bitmaps),
		cmocka_unit_test(test_other_tester),
		cmocka_unit_test(test_own_echo_late),
		cmocka_unit_test(test_parked),
		cmocka_unit_test(test_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
