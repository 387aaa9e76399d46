/* fuzz_uds.c: UDS (ISO 14229) answers, requests and their data fields */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "uds.h"

/*
 * Input: four bytes choosing a field (offset, length, signedness, bit),
 * then a message parsed as an answer and as a request; the field is read
 * from the answer's payload as the profile's DID bindings would.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uds_response resp;
	unsigned int off, len, bit;
	uint16_t did;
	double v;
	bool b;
	int r;

	if (size < 4)
		return 0;
	off = data[0];
	len = data[1] & 0x0F;
	bit = data[2] & 0x0F;
	data += 4;
	size -= 4;

	r = uds_parse_request(data, size, &did);
	FUZZ_ASSERT(r == -EBADMSG || (r >= 0 && r <= 0xFFFF && r == did));
	r = uds_parse_response(data, size, &resp);
	FUZZ_ASSERT(r == 0 || r == -EBADMSG);
	if (r < 0)
		return 0;
	if (resp.negative)
		return 0;
	FUZZ_ASSERT(resp.payload >= data &&
		    resp.payload + resp.payload_len <= data + size);
	r = uds_field(resp.payload, resp.payload_len, off, len, data[-2] & 0x80,
		      0.1, -40, &v);
	FUZZ_ASSERT(r == 0 || r == -EMSGSIZE || r == -EINVAL);
	if (r == 0)
		FUZZ_ASSERT(!isnan(v));
	r = uds_bit(resp.payload, resp.payload_len, off, bit, &b);
	FUZZ_ASSERT(r == 0 || r == -EMSGSIZE || r == -EINVAL);
	return 0;
}
