/* dbc.h: DBC database parser and signal decoder */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dbc;
struct dbc_message;
struct dbc_signal;

/*
 * Loads a DBC file. On a broken file returns -EINVAL (or -errno) and writes
 * "FILE:LINE: what was expected" to errbuf.
 */
int dbc_load(struct dbc **ret, const char *path, char *errbuf, size_t errlen);
/* Takes NULL. */
void dbc_free(struct dbc *dbc);

size_t dbc_n_messages(const struct dbc *dbc);
const struct dbc_message *dbc_message_at(const struct dbc *dbc, size_t i);
/* O(1): id without flag bits, extended = 29-bit frame */
const struct dbc_message *dbc_find_message(const struct dbc *dbc, uint32_t id,
					   bool extended);
const struct dbc_message *dbc_find_message_by_name(const struct dbc *dbc,
						   const char *name);

const char *dbc_message_name(const struct dbc_message *m);
uint32_t dbc_message_id(const struct dbc_message *m);
bool dbc_message_extended(const struct dbc_message *m);
unsigned dbc_message_size(const struct dbc_message *m);
size_t dbc_message_n_signals(const struct dbc_message *m);
const struct dbc_signal *dbc_message_signal_at(const struct dbc_message *m,
					       size_t i);
const struct dbc_signal *dbc_message_find_signal(const struct dbc_message *m,
						 const char *name);

const char *dbc_signal_name(const struct dbc_signal *s);
const char *dbc_signal_unit(const struct dbc_signal *s);
/* value description (VAL_) for a raw value, or NULL */
const char *dbc_signal_value_name(const struct dbc_signal *s, int64_t raw);

/*
 * Decodes one signal of a frame of message m: physical value = raw * factor
 * + offset (floats per SIG_VALTYPE_). Returns 0, -ENOENT when multiplexing
 * says the signal is not in this frame, -EMSGSIZE when the frame is too
 * short for it.
 */
int dbc_signal_decode(const struct dbc_message *m, const struct dbc_signal *s,
		      const uint8_t *data, size_t len, double *ret_value);
