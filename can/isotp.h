/* isotp.h: passive ISO 15765-2 reassembly of the diagnostic traffic on a bus */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define ISOTP_MAX_MESSAGE 4095

struct isotp;

/*
 * One reassembled message. ecu is the ECU's address: for normal addressing
 * the physical request ID's offset (0x7E0 + n / 0x7E8 + n both give n, the
 * functional 0x7DF gives ISOTP_FUNCTIONAL); for BMW extended addressing the
 * target byte of the request (0x6F1 + 0x12 ...) or the ID's low byte of the
 * answer (0x612 + 0xF1 ...).
 */
#define ISOTP_FUNCTIONAL 0xFF
struct isotp_message {
	int64_t ts_ns;      /* time of the frame that completed it */
	uint32_t can_id;    /* the CAN ID it came on */
	bool extended_addr; /* BMW 0x6xx addressing */
	bool response;      /* from the ECU (0x7E8.., 0x6xx + F1) */
	uint8_t ecu;
	const uint8_t *data; /* the payload, valid during the callback */
	size_t len;
};

typedef void (*isotp_message_fn)(void *userdata,
				 const struct isotp_message *msg);

/* timeout_ns: drop a transfer whose next frame does not come within it */
int isotp_new(struct isotp **ret, int64_t timeout_ns, isotp_message_fn cb,
	      void *userdata);
/* Takes NULL. */
void isotp_free(struct isotp *tp);

/* true when the frame belongs to diagnostic addressing (and was consumed) */
bool isotp_feed(struct isotp *tp, const struct frame *f);
