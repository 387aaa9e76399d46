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
 * answer (0x612 + 0xF1 ...). tester is the BMW tester address (0xF1 ...)
 * of either direction, 0 for normal addressing.
 *
 * Extended addressing is recognised on 0x600-0x6FF: an ID whose low byte is
 * a tester address (0x6F1) carries requests, any other 0x6xx ID carries an
 * answer when its first byte is a tester address. Only 0xF1 is a tester
 * address by default (isotp_add_tester adds others). 29-bit IDs are not
 * diagnostic addressing here.
 */
#define ISOTP_FUNCTIONAL 0xFF
struct isotp_message {
	int64_t ts_ns;	    /* time of the frame that completed it */
	uint32_t can_id;    /* the CAN ID it came on */
	bool extended_addr; /* BMW 0x6xx addressing */
	bool response;	    /* from the ECU (0x7E8.., 0x6xx + F1) */
	uint8_t ecu;
	uint8_t tester;	     /* BMW tester address, 0 for normal addressing */
	const uint8_t *data; /* the payload, valid during the callback */
	size_t len;
};

typedef void (*isotp_message_fn)(void *userdata,
				 const struct isotp_message *msg);

/*
 * timeout_ns: drop a transfer whose next frame does not come within it
 * (ISO 15765-2 N_Cr is 1 s). A flow control frame of the receiver counts as
 * a frame of the transfer (a receiver may send WAIT frames), an overflow
 * flow control aborts it. Up to ISOTP_MAX_TRANSFERS multi-frame transfers
 * run at once; one more drops the one that has been silent the longest.
 */
#define ISOTP_MAX_TRANSFERS 32
int isotp_new(struct isotp **ret, int64_t timeout_ns, isotp_message_fn cb,
	      void *userdata);
/* Takes NULL. */
void isotp_free(struct isotp *tp);

/*
 * true when the frame belongs to diagnostic addressing (and was consumed):
 * a diagnostic ID carrying a valid ISO-TP PCI, whether or not it completes,
 * continues or (sequence error, timeout) drops a transfer. false for every
 * other frame, also a diagnostic-range ID whose bytes are no ISO-TP frame
 * (some cars broadcast on 0x6xx), so the caller may decode it otherwise.
 * A message completed by the frame is passed to the callback before it
 * returns.
 */
bool isotp_feed(struct isotp *tp, const struct frame *f);

/* Also follow BMW extended addressing of tester address addr (e.g. 0xF0). */
void isotp_add_tester(struct isotp *tp, uint8_t addr);
