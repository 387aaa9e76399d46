/* poller.h: when dtcd asks what: the polite tester's scheduler (pure) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "poll_profile.h"

/*
 * No clock, no socket: the caller passes the time (monotonic ns) into every
 * call and sends through ops. Rules (README "Polling"):
 * - one request outstanding per ECU (the functional 0x7DF counts as one);
 *   an answer must come within P2, after NRC 0x78 within P2*;
 * - NRC 0x21 (busy): asked again after busy_retry;
 * - NRC 0x11, 0x12, 0x31, or a PID/MID missing from the ECU's supported
 *   bitmaps (01 00, 01 20 .., 06 00 .., read before the first 01/06
 *   request): dropped until the next operation cycle, said once;
 * - no answer: the ECU is left alone for 100 ms, 200 ms, ... up to 60 s;
 * - engine and ignition off for park_after: no requests (ECUs may sleep);
 * - requests on 0x7DF, 0x7E0-0x7E7 or 0x6F1 that the poller did not send
 *   (another tester): no requests until 10 s after the last one;
 * - bus load of requests and answers within budget_pct of bitrate.
 */
struct poller;

struct poller_ops {
	/* one request to the target; 0 or -errno (counted, not retried) */
	int (*send)(void *userdata, const struct poll_request *to,
		    const uint8_t *data, size_t len);
	/* news for the log, each said once per episode */
	void (*say)(void *userdata, const char *msg);
	/* polling paused (true) or resumed; may be NULL */
	void (*paused)(void *userdata, bool paused);
};

/* plan is borrowed and must outlive the poller. */
int poller_new(struct poller **ret, const struct poll_plan *plan,
	       const struct poller_ops *ops, void *userdata);
/* Takes NULL. */
void poller_free(struct poller *p);

/*
 * Sends what is due; returns the time it wants to be called again (at the
 * latest; an answer or frame may come earlier).
 */
int64_t poller_tick(struct poller *p, int64_t now_ns);

/*
 * A complete answer (after ISO-TP) from an ECU: target POLL_OBD_PHYSICAL
 * with ecu 0..7 for an answer on 0x7E8 + ecu (also an answer to 0x7DF),
 * POLL_BMW with the ECU's address.
 */
void poller_answer(struct poller *p, int64_t now_ns, enum poll_target target,
		   uint8_t ecu, const uint8_t *data, size_t len);

/* Every frame of the bus (as the raw socket sees it): spots other testers. */
void poller_bus_frame(struct poller *p, int64_t now_ns, uint32_t id,
		      const uint8_t *data, size_t len);

/*
 * The vehicle's state: an operation cycle starting (engine_running rising)
 * brings back what was dropped; parking needs known (ignition and engine
 * seen from broadcasts, not only from polled answers).
 */
void poller_vehicle(struct poller *p, int64_t now_ns, bool engine_running,
		    bool ignition_on, bool known);

enum poller_pause {
	POLLER_RUNNING,
	POLLER_OTHER_TESTER,
	POLLER_PARKED,
};

struct poller_request_stats {
	const struct poll_request *req;
	unsigned long sent, answered, timeouts;
	double achieved_hz;	/* requests sent per second, 0 before two */
	int64_t last_answer_ns; /* 0 = never */
	int last_nrc;		/* -1 = none */
	bool dropped;		/* for this operation cycle */
};

struct poller_stats {
	enum poller_pause pause;
	unsigned long frames_sent, bus_requests_others;
	double load_pct; /* polling's share of the bus since the first request
			  */
	unsigned long budget_waits; /* requests delayed by the budget */
};

void poller_get_stats(const struct poller *p, int64_t now_ns,
		      struct poller_stats *ret);
/* i < plan->n */
void poller_get_request_stats(const struct poller *p, size_t i,
			      struct poller_request_stats *ret);
const char *poller_pause_name(enum poller_pause p);

/* Worst-case bits on the wire of an 11-bit classic frame of n data bytes */
unsigned poller_frame_bits(unsigned n);
