/* uds.h: ISO 14229 ReadDataByIdentifier answers */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uds_response {
	bool negative; /* 7F SID NRC */
	uint8_t sid;   /* 0x62, or the rejected request's SID */
	uint8_t nrc;
	bool pending; /* NRC 0x78: the real answer is still to come */
	uint16_t did; /* 0x62 only */
	/*
	 * Data after the DID. An answer to a request of several DIDs holds
	 * them all one after the other: splitting it needs their layouts.
	 */
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Parses a 62 DID ... or 7F SID NRC answer (a 7F is exactly 3 bytes; 7F 22
 * 78 is "pending", not "no value"). Returns 0 or -EBADMSG (also for any
 * other service). payload points into msg.
 */
int uds_parse_response(const uint8_t *msg, size_t len,
		       struct uds_response *ret);

/*
 * Parses a 22 DID [DID ...] request; returns the first DID (0..0xFFFF, also
 * stored in *ret_did when that is not NULL) or -EBADMSG.
 */
int uds_parse_request(const uint8_t *msg, size_t len, uint16_t *ret_did);

/*
 * A big-endian field of a payload: length 1..8 bytes at offset, signed or
 * not, physical = raw * scale + offset. -EMSGSIZE when the payload is short,
 * -EINVAL for a length outside 1..8.
 */
int uds_field(const uint8_t *payload, size_t len, unsigned byte_offset,
	      unsigned byte_length, bool is_signed, double scale, double offset,
	      double *ret_value);

/*
 * Bit bit (0 = least significant) of the byte at byte_offset (flags such as
 * 0x5A21's emergency program): -EMSGSIZE when the payload is short, -EINVAL
 * for a bit above 7.
 */
int uds_bit(const uint8_t *payload, size_t len, unsigned byte_offset,
	    unsigned bit, bool *ret_value);
