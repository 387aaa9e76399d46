/* fuzz_isotp.c: ISO-TP reassembly fed arbitrary frame sequences */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "isotp.h"

/*
 * Input: one byte of set-up (tester addresses, timeout), then records of
 * [id_hi][id_lo][time_len][data...]: the ID is 0x600 + 9 bits (the whole
 * diagnostic range), bit 7 of id_hi makes a CAN FD frame; the low nibble
 * of time_len is the length (an FD length code 0..15 for FD), the high
 * nibble a step of the frame time from the table below, 15 reading an
 * absolute 64-bit time: extreme times, backwards, by years, too late.
 */
static const int64_t steps[15] = {
	0,
	1000,
	1000000,
	10000000,
	100000000,
	999000000,
	1001000000,
	5000000000,
	-1000000,
	-1000000000,
	INT64_C(86400) * 365 * 1000000000,
	-INT64_C(86400) * 365 * 1000000000,
	INT64_MAX / 2,
	INT64_MIN / 2,
	1,
};

static const uint8_t fd_len[16] = { 0, 1,  2,  3,  4,  5,  6,  7,
				    8, 12, 16, 20, 24, 32, 48, 64 };

static void on_message(void *userdata, const struct isotp_message *msg)
{
	unsigned long *sum = userdata;

	FUZZ_ASSERT(msg->len > 0 && msg->len <= ISOTP_MAX_MESSAGE);
	/* every byte is read: ASan sees a message outside its buffer */
	for (size_t i = 0; i < msg->len; i++)
		*sum += msg->data[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *e = data + size;
	unsigned long sum = 0;
	struct isotp *tp;
	int64_t ts = 0;
	uint8_t setup;

	if (size < 1)
		return 0;
	setup = *p++;
	FUZZ_ASSERT(isotp_new(&tp,
			      (setup & 0x80) ? INT64_MAX : INT64_C(1000000000),
			      on_message, &sum) == 0);
	if (setup & 0x40)
		isotp_add_tester(tp, (uint8_t)(0xF0 + (setup & 0x0F)));
	while (e - p >= 3) {
		struct frame f = { 0 };
		unsigned int code = p[2] & 0x0F, step = p[2] >> 4;

		f.id = 0x600 + (((unsigned int)p[0] << 8 | p[1]) & 0x1FF);
		if (p[0] & 0x80) {
			f.flags = FRAME_FD;
			f.len = fd_len[code];
		} else {
			f.len = code > 8 ? 8 : (uint8_t)code;
		}
		p += 3;
		if (step == 15) {
			uint64_t abs = 0;

			if (e - p < 8)
				break;
			memcpy(&abs, p, 8);
			p += 8;
			ts = (int64_t)abs;
		} else if (__builtin_add_overflow(ts, steps[step], &ts)) {
			ts = steps[step] > 0 ? INT64_MAX : INT64_MIN;
		}
		f.ts_ns = ts;
		for (size_t i = 0; i < f.len && p < e; i++)
			f.data[i] = *p++;
		isotp_feed(tp, &f);
	}
	isotp_free(tp);
	return 0;
}
