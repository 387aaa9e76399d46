/* dbc.h: DBC database parser and signal codec */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dbc;
struct dbc_message;
struct dbc_signal;

/*
 * Loads a DBC file. On a broken file returns -EINVAL (or -errno) and writes
 * "FILE:LINE: what was expected" to errbuf. Linear in the file's size: a
 * message of 100,000 signals is fine (bench/dbc_load.sh).
 */
int dbc_load(struct dbc **ret, const char *path, char *errbuf, size_t errlen);
/* Takes NULL. */
void dbc_free(struct dbc *dbc);

/* O(1): id without flag bits, extended = 29-bit frame */
const struct dbc_message *dbc_find_message(const struct dbc *dbc, uint32_t id,
					   bool extended);
const struct dbc_message *dbc_find_message_by_name(const struct dbc *dbc,
						   const char *name);

const char *dbc_message_name(const struct dbc_message *m);
uint32_t dbc_message_id(const struct dbc_message *m);
bool dbc_message_extended(const struct dbc_message *m);
size_t dbc_message_n_signals(const struct dbc_message *m);
const struct dbc_signal *dbc_message_signal_at(const struct dbc_message *m,
					       size_t i);
const struct dbc_signal *dbc_message_find_signal(const struct dbc_message *m,
						 const char *name);

const char *dbc_signal_name(const struct dbc_signal *s);
/* value description (VAL_) for a raw value, or NULL */
const char *dbc_signal_value_name(const struct dbc_signal *s, int64_t raw);
/* Named table (VAL_TABLE_ name) lookup, or NULL */
const char *dbc_value_table_lookup(const struct dbc *dbc, const char *table,
				   int64_t raw);

/*
 * Decodes signal s from a frame of its message: physical value = raw *
 * factor + offset (floats per SIG_VALTYPE_). Returns 0, -ENOENT when
 * multiplexing says the signal is not in this frame, -EMSGSIZE when the
 * frame is too short for it.
 */
int dbc_signal_decode(const struct dbc_signal *s, const uint8_t *data,
		      size_t len, double *ret_value);
/*
 * The raw value of a signal: sign-extended for signed signals, the bit
 * pattern for floats and for unsigned 64-bit values above INT64_MAX.
 * Errors as dbc_signal_decode.
 */
int dbc_signal_decode_raw(const struct dbc_signal *s, const uint8_t *data,
			  size_t len, int64_t *ret_raw);
/*
 * Decodes every signal present in the frame: ret_values[i] and
 * ret_present[i] for signal i (arrays of dbc_message_n_signals entries).
 * Returns how many were decoded.
 */
size_t dbc_message_decode(const struct dbc_message *m, const uint8_t *data,
			  size_t len, double *ret_values, bool *ret_present);
/*
 * Writes physical value into the signal's bits of data (other bits kept):
 * raw = round((value - offset) / factor). -ERANGE when the raw value does
 * not fit the signal, -EMSGSIZE when len is too short, -EDOM on factor 0
 * or a NaN. Multiplexors are the caller's to set.
 */
int dbc_signal_encode(const struct dbc_signal *s, double value, uint8_t *data,
		      size_t len);
