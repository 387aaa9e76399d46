/* fuzz_dbc.c: the DBC parser, then decoding frames with what it parsed */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dbc.h"
#include "dbc_private.h"
#include "fuzz.h"

/*
 * Input: a DBC file, optionally followed by a NUL byte and the data of
 * frames (up to 64 bytes each) to decode with every message it defines;
 * without them a few fixed patterns stand in. A bad file must give an
 * error naming the file. A good one must decode as the DBC says: every
 * signal's raw bits are checked against a bit-by-bit reading of the frame
 * (Intel: bit start + i; Motorola: MSB at start, counting down), which
 * shares nothing with the byte-wise extraction the decoder uses.
 */
#define FRAME_MAX 64

/* bit i of the raw value (0 = LSB): its byte and bit in the frame */
static void bit_place(const struct dbc_signal *s, unsigned i, unsigned *byte,
		      unsigned *bit)
{
	unsigned pos;

	if (s->little_endian) {
		pos = s->start + i;
		*byte = pos / 8;
		*bit = pos % 8;
	} else {
		/* MSB0 numbering: bit 0 is the MSB of byte 0 */
		pos = (s->start / 8) * 8 + 7 - s->start % 8 + s->length - 1 - i;
		*byte = pos / 8;
		*bit = 7 - pos % 8;
	}
}

/* the reference reading; returns the bytes the signal needs */
static unsigned reference_bits(const struct dbc_signal *s, const uint8_t *d,
			       size_t len, uint64_t *ret)
{
	unsigned need = 0, byte, bit;
	uint64_t v = 0;

	for (unsigned i = 0; i < s->length; i++) {
		bit_place(s, i, &byte, &bit);
		if (byte + 1 > need)
			need = byte + 1;
		if (byte < len && (d[byte] >> bit & 1))
			v |= (uint64_t)1 << i;
	}
	*ret = v;
	return need;
}

static void check_signal(const struct dbc_signal *s, const uint8_t *d,
			 size_t len)
{
	uint8_t buf[FRAME_MAX];
	uint64_t ref;
	unsigned need = reference_bits(s, d, len, &ref);
	int64_t raw, again;
	double value, exact;
	int r = dbc_signal_decode_raw(s, d, len, &raw);

	FUZZ_ASSERT(s->length >= 1 && s->length <= 64);
	FUZZ_ASSERT(s->need_len == need);
	if (!s->parent)
		FUZZ_ASSERT((r == 0) == (len >= need));
	FUZZ_ASSERT(r == 0 || r == -EMSGSIZE || r == -ENOENT);
	if (r < 0) {
		FUZZ_ASSERT(dbc_signal_decode(s, d, len, &value) == r);
		return;
	}
	FUZZ_ASSERT(((uint64_t)raw & s->mask) == ref);
	if (s->is_signed && s->type == DBC_VALUE_INT && s->length < 64) {
		/* sign-extended from the signal's top bit */
		uint64_t sign = (uint64_t)1 << (s->length - 1);

		FUZZ_ASSERT(raw == (int64_t)((ref ^ sign) - sign));
	}
	FUZZ_ASSERT(dbc_signal_decode(s, d, len, &value) == 0);
	(void)dbc_signal_value_name(s, raw);

	/* an integer signal of factor 1, offset 0: its value is its raw one */
	if (s->type != DBC_VALUE_INT || s->factor != 1 || s->offset != 0 ||
	    len > sizeof(buf))
		return;
	exact = s->is_signed ? (double)raw : (double)(uint64_t)raw;
	FUZZ_ASSERT(value == exact);
	if (fabs(value) >= 0x1p53)
		return; /* beyond what a double holds exactly */
	memcpy(buf, d, len);
	r = dbc_signal_encode(s, value, buf, len);
	FUZZ_ASSERT(r == 0 || r == -ERANGE);
	if (r < 0)
		return;
	FUZZ_ASSERT(dbc_signal_decode_raw(s, buf, len, &again) == 0 ||
		    s->parent); /* a multiplexor may now select otherwise */
	if (!s->parent)
		FUZZ_ASSERT(again == raw);
}

static void check_message(const struct dbc *dbc, const struct dbc_message *m,
			  const uint8_t *d, size_t len)
{
	size_t n = dbc_message_n_signals(m);
	double *values = calloc(n + 1, sizeof(*values));
	bool *present = calloc(n + 1, sizeof(*present));
	size_t lens[] = { 0, m->size, 8, len };
	const struct dbc_message *named;

	FUZZ_ASSERT(values && present);
	FUZZ_ASSERT(dbc_find_message(dbc, dbc_message_id(m),
				     dbc_message_extended(m)) == m);
	named = dbc_find_message_by_name(dbc, dbc_message_name(m));
	FUZZ_ASSERT(named &&
		    !strcmp(dbc_message_name(named), dbc_message_name(m)));
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		size_t fl = lens[l] > len ? len : lens[l];
		/* exactly fl bytes: ASan sees a read past the frame */
		uint8_t *f = malloc(fl);

		FUZZ_ASSERT(f || !fl);
		if (fl)
			memcpy(f, d, fl);
		FUZZ_ASSERT(dbc_message_decode(m, f, fl, values, present) <= n);
		for (size_t i = 0; i < n; i++) {
			const struct dbc_signal *s =
				dbc_message_signal_at(m, i);
			const struct dbc_signal *same =
				dbc_message_find_signal(m, dbc_signal_name(s));

			FUZZ_ASSERT(same && !strcmp(dbc_signal_name(same),
						    dbc_signal_name(s)));
			check_signal(s, f, fl);
		}
		free(f);
	}
	free(values);
	free(present);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t patterns[][FRAME_MAX] = {
		{ 0 },
		{ [0 ... FRAME_MAX - 1] = 0xFF },
		{ [0 ... FRAME_MAX - 1] = 0xA5 },
		{ 0x81, 0x42, 0x24, 0x18, 0x7E, 0x01, 0x80, 0xC3 },
	};
	const uint8_t *nul = memchr(data, 0, size);
	size_t text = nul ? (size_t)(nul - data) : size;
	char path[64], err[512] = "";
	struct dbc *dbc = NULL;
	int fd, r;

	fd = fuzz_file(data, text, path, sizeof(path));
	r = dbc_load(&dbc, path, err, sizeof(err));
	fuzz_file_close(fd);
	if (r < 0) {
		FUZZ_ASSERT(!dbc);
		if (r != -ENOMEM) {
			FUZZ_ASSERT(err[0] != 0);
			FUZZ_ASSERT(!strncmp(err, path, strlen(path)));
		}
		return 0;
	}
	for (size_t i = 0; i < dbc->n_msgs; i++) {
		const struct dbc_message *m = &dbc->msgs[i];

		if (nul) {
			const uint8_t *p = nul + 1, *end = data + size;

			/* at least one frame: an empty one */
			do {
				size_t n = (size_t)(end - p) > FRAME_MAX ?
						   FRAME_MAX :
						   (size_t)(end - p);
				uint8_t frame[FRAME_MAX] = { 0 };

				memcpy(frame, p, n);
				check_message(dbc, m, frame, n);
				p += n;
			} while (p < end);
		} else {
			for (size_t k = 0; k < 4; k++)
				check_message(dbc, m, patterns[k], FRAME_MAX);
		}
	}
	dbc_free(dbc);
	return 0;
}
