/* dbc_private.h: the DBC model shared by the parser, the codec and tests */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbc.h"

#define DBC_STD_IDS 2048
#define DBC_EFF_FLAG 0x80000000u
#define DBC_EFF_MASK 0x1FFFFFFFu
#define DBC_MAX_SIZE 64

enum dbc_value_type {
	DBC_VALUE_INT,	   /* integer, signed or unsigned */
	DBC_VALUE_FLOAT32, /* SIG_VALTYPE_ 1: IEEE 754 single */
	DBC_VALUE_FLOAT64, /* SIG_VALTYPE_ 2: IEEE 754 double */
};

struct dbc_value {
	int64_t raw;
	char *name;
	size_t seq; /* position in the file: of a raw value twice, last wins */
};

struct dbc_value_list {
	struct dbc_value *v;
	size_t n, cap;
};

struct dbc_mux_range {
	int64_t lo, hi;
};

struct dbc_signal {
	char *name;
	char *unit;
	char *comment;
	char *long_name; /* BA_ "SystemSignalLongSymbol", applied at the end */
	unsigned line;
	unsigned start, length; /* start as written: Motorola gives the MSB */
	bool little_endian, is_signed;
	enum dbc_value_type type;
	double factor, offset, min, max;

	/* precomputed at load time for decoding */
	uint8_t first_byte, n_bytes, shift;
	uint8_t need_len; /* bytes a frame needs to carry this signal */
	/* in the first 8 bytes: one 64-bit load shifted by word_shift */
	bool in_word;
	uint8_t word_shift;
	uint64_t mask;

	/* multiplexing */
	bool is_multiplexor; /* M or mNM */
	bool has_mux_value;  /* mN or mNM */
	int64_t mux_value;   /* N */
	char *muxer_name;    /* from SG_MUL_VAL_ */
	unsigned mux_line;   /* line of SG_MUL_VAL_ */
	/* raw multiplexor ranges (inclusive) that select this signal */
	struct dbc_mux_range *ranges;
	size_t n_ranges;
	const struct dbc_signal *parent; /* its multiplexor, or NULL */

	struct dbc_value_list values; /* sorted by raw after load */
};

struct dbc_message {
	char *name;
	char *long_name;
	char *transmitter; /* as written ("Vector__XXX" when none), or "" */
	char *comment;
	uint32_t raw_id; /* as written, bit 31 = extended */
	uint32_t id;
	bool extended;
	bool independent; /* VECTOR__INDEPENDENT_SIG_MSG: dropped at the end */
	unsigned size;
	unsigned line;
	struct dbc_signal *sigs;
	size_t n_sigs, cap_sigs;
};

struct dbc_table {
	char *name;
	struct dbc_value_list values;
};

/* One entry of the hash index: a message by raw ID or a signal by name. */
struct dbc_slot {
	uint32_t hash;
	uint32_t msg1; /* message index + 1, 0 = empty */
	uint32_t sig1; /* signal index + 1, 0 = the message itself */
};

struct dbc {
	struct dbc_message *msgs;
	size_t n_msgs, cap_msgs;
	struct dbc_table *tables;
	size_t n_tables, cap_tables;
	uint32_t std_idx1[DBC_STD_IDS]; /* message index + 1, 0 = none */
	/*
	 * While loading: every message and signal, so that each reference is
	 * O(1) and a DBC of 100,000 signals loads in linear time. Once
	 * loaded: the extended messages only.
	 */
	struct dbc_slot *slots;
	size_t slot_mask, n_slots_used;
};

/* Builds the model for the parser; each returns 0 or -ENOMEM. */
/* appends an empty message, indexed by raw_id */
int dbc_add_message(struct dbc *dbc, uint32_t raw_id, struct dbc_message **ret);
/* appends *s (which the message then owns) to m, indexed by its name */
int dbc_add_signal(struct dbc *dbc, struct dbc_message *m,
		   const struct dbc_signal *s);
struct dbc_message *dbc_lookup_message(const struct dbc *dbc, uint32_t raw_id);
/* name: len bytes, not NUL-terminated */
struct dbc_signal *dbc_lookup_signal(const struct dbc *dbc,
				     const struct dbc_message *m,
				     const char *name, size_t len);
/* Each takes name (freed on error). */
int dbc_add_table(struct dbc *dbc, char *name, struct dbc_table **ret);
int dbc_values_add(struct dbc_value_list *l, int64_t raw, char *name);
/* Byte positions, shift and mask of s; -EMSGSIZE: needs more bytes than m */
int dbc_signal_layout(const struct dbc_message *m, struct dbc_signal *s,
		      unsigned *ret_need);
/*
 * After the parser's checks: drops the VECTOR__INDEPENDENT_SIG_MSG
 * container, applies long names, sorts value descriptions, indexes IDs.
 */
int dbc_seal(struct dbc *dbc);
void dbc_signal_clear(struct dbc_signal *s);
void dbc_message_clear(struct dbc_message *m);
