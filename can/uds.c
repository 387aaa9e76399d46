/* uds.c: ISO 14229 ReadDataByIdentifier answers */
#include <errno.h>
#include <string.h>

#include "uds.h"

#define UDS_RDBI 0x22
#define UDS_RDBI_POSITIVE 0x62
#define UDS_NEGATIVE 0x7F
#define UDS_NRC_PENDING 0x78

int uds_parse_response(const uint8_t *msg, size_t len, struct uds_response *ret)
{
	if (!msg || !ret || len == 0)
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	switch (msg[0]) {
	case UDS_RDBI_POSITIVE:
		if (len < 3)
			return -EBADMSG;
		ret->sid = msg[0];
		ret->did = (uint16_t)(msg[1] << 8 | msg[2]);
		ret->payload = msg + 3;
		ret->payload_len = len - 3;
		return 0;
	case UDS_NEGATIVE:
		if (len != 3)
			return -EBADMSG;
		ret->negative = true;
		ret->sid = msg[1];
		ret->nrc = msg[2];
		ret->pending = msg[2] == UDS_NRC_PENDING;
		return 0;
	default:
		return -EBADMSG;
	}
}

int uds_parse_request(const uint8_t *msg, size_t len, uint16_t *ret_did)
{
	uint16_t did;

	/* 22 followed by one or more whole 2-byte DIDs */
	if (!msg || len < 3 || msg[0] != UDS_RDBI || (len - 1) % 2)
		return -EBADMSG;
	did = (uint16_t)(msg[1] << 8 | msg[2]);
	if (ret_did)
		*ret_did = did;
	return did;
}

int uds_field(const uint8_t *payload, size_t len, unsigned byte_offset,
	      unsigned byte_length, bool is_signed, double scale, double offset,
	      double *ret_value)
{
	uint64_t raw = 0;
	double v;

	if (byte_length < 1 || byte_length > 8 || !ret_value)
		return -EINVAL;
	if (!payload || byte_offset > len || len - byte_offset < byte_length)
		return -EMSGSIZE;
	for (unsigned i = 0; i < byte_length; i++)
		raw = raw << 8 | payload[byte_offset + i];
	if (is_signed && byte_length < 8 &&
	    (raw & (UINT64_C(1) << (8 * byte_length - 1))))
		raw |= ~UINT64_C(0) << (8 * byte_length); /* sign-extend */
	v = is_signed ? (double)(int64_t)raw : (double)raw;
	*ret_value = v * scale + offset;
	return 0;
}

int uds_bit(const uint8_t *payload, size_t len, unsigned byte_offset,
	    unsigned bit, bool *ret_value)
{
	if (bit > 7 || !ret_value)
		return -EINVAL;
	if (!payload || byte_offset >= len)
		return -EMSGSIZE;
	*ret_value = payload[byte_offset] & (1u << bit);
	return 0;
}
