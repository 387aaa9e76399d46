/* poll_profile.h: the [poll] section of a profile: what dtcd asks, how often */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLL_NAME_MAX 32
#define POLL_REQ_MAX                                             \
	7 /* a single frame: 7 bytes, 6 with extended addressing \
	   */

/* Where a request goes (and so which ECU answers it) */
enum poll_target {
	POLL_OBD_FUNCTIONAL, /* 0x7DF, answers on 0x7E8..0x7EF */
	POLL_OBD_PHYSICAL,   /* 0x7E0 + ecu, answers on 0x7E8 + ecu */
	POLL_BMW,	     /* 0x6F1 with target ecu, answers 0x6xx + F1 */
};

struct poll_request {
	char name[POLL_NAME_MAX];
	enum poll_target target;
	uint8_t ecu; /* physical: 0..7; BMW: the ECU's address (0x12 DME) */
	uint8_t data[POLL_REQ_MAX];
	uint8_t len;
	int64_t period_ns; /* 0: once per operation cycle */
	unsigned line;
};

struct poll_plan {
	struct poll_request *req;
	size_t n;
	int64_t p2_ns;	       /* 50 ms: an answer must start within it */
	int64_t p2_star_ns;    /* 5 s after NRC 0x78 (response pending) */
	int64_t busy_retry_ns; /* NRC 0x21: asked again after this */
	int64_t park_after_ns; /* engine and ignition off this long: pause */
	unsigned bitrate;      /* bit/s of the bus, for the load budget */
	double budget_pct;     /* polling's share of the bus at most */
};

void poll_plan_init(struct poll_plan *plan);
/* Takes NULL. */
void poll_plan_done(struct poll_plan *plan);

/*
 * One key of [poll]: either a setting (p2_ms, p2_star_ms, busy_retry_ms,
 * park_after_s, bitrate, budget_pct) or a request:
 *   NAME = TARGET BYTES... @ RATE
 * TARGET obd (0x7DF), 7E0..7E7, or bmw:ADDR (hex, e.g. bmw:12); BYTES in
 * hex, whole bytes, the service first (5A20 is two bytes); RATE NHz, Ns,
 * Nms or cycle (once per operation cycle). Every request passes
 * poll_gate_check() here: anything but a read is refused at load.
 * Returns 0, or -EINVAL with the reason in err (the caller adds FILE:LINE).
 */
int poll_plan_key(struct poll_plan *plan, const char *name, const char *value,
		  unsigned line, char *err, size_t errlen);

/* "22 5A20 to bmw:12" for messages */
void poll_request_describe(const struct poll_request *r, char *buf, size_t len);
