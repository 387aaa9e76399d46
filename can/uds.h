/* uds.h: ISO 14229 ReadDataByIdentifier answers */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uds_response {
	bool negative;      /* 7F SID NRC */
	uint8_t sid;        /* 0x62, or the rejected request's SID */
	uint8_t nrc;
	uint16_t did;       /* 0x62 only */
	const uint8_t *payload; /* data after the DID */
	size_t payload_len;
};

/* Parses a 62 DID ... or 7F SID NRC answer. Returns 0 or -EBADMSG. */
int uds_parse_response(const uint8_t *msg, size_t len,
		       struct uds_response *ret);

/* Parses a 22 DID [DID ...] request; returns the first DID or -EBADMSG. */
int uds_parse_request(const uint8_t *msg, size_t len, uint16_t *ret_did);

/*
 * A big-endian field of a payload: length 1..8 bytes at offset, signed or
 * not, physical = raw * scale + offset. -EMSGSIZE when the payload is short.
 */
int uds_field(const uint8_t *payload, size_t len, unsigned byte_offset,
	      unsigned byte_length, bool is_signed, double scale,
	      double offset, double *ret_value);
