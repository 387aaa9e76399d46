/* dbc.c: the DBC model (lookups, value descriptions) and the signal codec */
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dbc_private.h"

static uint32_t hash_id(uint32_t raw_id)
{
	return raw_id * 2654435761u;
}

/* FNV-1a of the name, seeded by the message */
static uint32_t hash_name(size_t msg, const char *name, size_t len)
{
	uint32_t h = (2166136261u ^ (uint32_t)msg) * 16777619u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return h;
}

static void index_put(struct dbc *dbc, struct dbc_slot e)
{
	size_t h = e.hash & dbc->slot_mask;

	while (dbc->slots[h].msg1)
		h = (h + 1) & dbc->slot_mask;
	dbc->slots[h] = e;
	dbc->n_slots_used++;
}

/* Open addressing kept at most half full: probes stay short. */
static int index_add(struct dbc *dbc, struct dbc_slot e)
{
	size_t cap = dbc->slots ? dbc->slot_mask + 1 : 0;

	if (2 * (dbc->n_slots_used + 1) > cap) {
		struct dbc_slot *old = dbc->slots;
		size_t i, ncap = cap ? 2 * cap : 64;

		dbc->slots = calloc(ncap, sizeof(*dbc->slots));
		if (!dbc->slots) {
			dbc->slots = old;
			return -ENOMEM;
		}
		dbc->slot_mask = ncap - 1;
		dbc->n_slots_used = 0;
		for (i = 0; i < cap; i++)
			if (old[i].msg1)
				index_put(dbc, old[i]);
		free(old);
	}
	index_put(dbc, e);
	return 0;
}

struct dbc_message *dbc_lookup_message(const struct dbc *dbc, uint32_t raw_id)
{
	uint32_t hash = hash_id(raw_id);
	size_t h;

	if (!dbc->slots)
		return NULL;
	for (h = hash & dbc->slot_mask; dbc->slots[h].msg1;
	     h = (h + 1) & dbc->slot_mask) {
		const struct dbc_slot *e = &dbc->slots[h];

		if (e->hash == hash && !e->sig1 &&
		    dbc->msgs[e->msg1 - 1].raw_id == raw_id)
			return &dbc->msgs[e->msg1 - 1];
	}
	return NULL;
}

struct dbc_signal *dbc_lookup_signal(const struct dbc *dbc,
				     const struct dbc_message *m,
				     const char *name, size_t len)
{
	size_t msg = (size_t)(m - dbc->msgs), h;
	uint32_t hash = hash_name(msg, name, len);

	if (!dbc->slots)
		return NULL;
	for (h = hash & dbc->slot_mask; dbc->slots[h].msg1;
	     h = (h + 1) & dbc->slot_mask) {
		const struct dbc_slot *e = &dbc->slots[h];
		struct dbc_signal *s;

		if (e->hash != hash || !e->sig1 || e->msg1 - 1 != msg)
			continue;
		s = &m->sigs[e->sig1 - 1];
		if (!strncmp(s->name, name, len) && !s->name[len])
			return s;
	}
	return NULL;
}

/* Room for one more element in *arr (n used of *cap): 0 or -ENOMEM */
static int grow(void *arr, size_t *cap, size_t n, size_t size)
{
	void **v = arr, *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? 2 * *cap : 1;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

int dbc_add_message(struct dbc *dbc, uint32_t raw_id, struct dbc_message **ret)
{
	struct dbc_slot e = { .hash = hash_id(raw_id),
			      .msg1 = (uint32_t)dbc->n_msgs + 1 };
	int r = grow(&dbc->msgs, &dbc->cap_msgs, dbc->n_msgs,
		     sizeof(*dbc->msgs));

	if (r == 0)
		r = index_add(dbc, e);
	if (r < 0)
		return r;
	*ret = &dbc->msgs[dbc->n_msgs++];
	**ret = (struct dbc_message){ .raw_id = raw_id };
	return 0;
}

int dbc_add_signal(struct dbc *dbc, struct dbc_message *m,
		   const struct dbc_signal *s)
{
	size_t msg = (size_t)(m - dbc->msgs);
	struct dbc_slot e = {
		.hash = hash_name(msg, s->name, strlen(s->name)),
		.msg1 = (uint32_t)msg + 1,
		.sig1 = (uint32_t)m->n_sigs + 1,
	};
	int r = grow(&m->sigs, &m->cap_sigs, m->n_sigs, sizeof(*m->sigs));

	if (r == 0)
		r = index_add(dbc, e);
	if (r < 0)
		return r;
	m->sigs[m->n_sigs++] = *s;
	return 0;
}

int dbc_values_add(struct dbc_value_list *l, int64_t raw, char *name)
{
	if (!name || grow(&l->v, &l->cap, l->n, sizeof(*l->v)) < 0) {
		free(name);
		return -ENOMEM;
	}
	l->v[l->n] =
		(struct dbc_value){ .raw = raw, .name = name, .seq = l->n };
	l->n++;
	return 0;
}

int dbc_add_table(struct dbc *dbc, char *name, struct dbc_table **ret)
{
	if (!name || grow(&dbc->tables, &dbc->cap_tables, dbc->n_tables,
			  sizeof(*dbc->tables)) < 0) {
		free(name);
		return -ENOMEM;
	}
	*ret = &dbc->tables[dbc->n_tables++];
	**ret = (struct dbc_table){ .name = name };
	return 0;
}

static int value_cmp(const void *a, const void *b)
{
	const struct dbc_value *x = a, *y = b;

	if (x->raw != y->raw)
		return x->raw < y->raw ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts for binary search; a raw value described twice keeps the last. */
static void values_finish(struct dbc_value_list *l)
{
	size_t i, n = 0;

	if (!l->n)
		return; /* l->v is NULL: qsort must not see it */
	qsort(l->v, l->n, sizeof(*l->v), value_cmp);
	for (i = 0; i < l->n; i++) {
		if (i + 1 < l->n && l->v[i + 1].raw == l->v[i].raw) {
			free(l->v[i].name);
			continue;
		}
		l->v[n++] = l->v[i];
	}
	l->n = n;
}

static const char *values_lookup(const struct dbc_value_list *l, int64_t raw)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid].raw == raw)
			return l->v[mid].name;
		if (l->v[mid].raw < raw)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void values_free(struct dbc_value_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	*l = (struct dbc_value_list){ 0 };
}

int dbc_signal_layout(const struct dbc_message *m, struct dbc_signal *s,
		      unsigned *ret_need)
{
	unsigned first_bit, last_bit; /* MSB0 numbering: bit 0 = byte 0 MSB */
	unsigned first, last;

	if (s->little_endian) {
		first = s->start / 8;
		last = (s->start + s->length - 1) / 8;
		s->shift = s->start % 8;
	} else {
		first_bit = (s->start / 8) * 8 + 7 - s->start % 8;
		last_bit = first_bit + s->length - 1;
		first = first_bit / 8;
		last = last_bit / 8;
		s->shift = 7 - last_bit % 8;
	}
	*ret_need = last + 1;
	if (last >= m->size && !m->independent)
		return -EMSGSIZE;
	s->first_byte = (uint8_t)first;
	s->n_bytes = (uint8_t)(last - first + 1);
	s->need_len = (uint8_t)(last + 1);
	s->mask =
		s->length == 64 ? UINT64_MAX : (((uint64_t)1 << s->length) - 1);
	s->in_word = last < 8;
	if (s->in_word)
		s->word_shift =
			(uint8_t)(s->little_endian ? 8 * first + s->shift :
						     8 * (7 - last) + s->shift);
	return 0;
}

/* long names (BA_ System*LongSymbol) replace the short ones */
static void take_long_name(char **name, char **long_name)
{
	if (*long_name) {
		free(*name);
		*name = *long_name;
		*long_name = NULL;
	}
}

int dbc_seal(struct dbc *dbc)
{
	size_t i, j, n = 0;
	int r;

	for (i = 0; i < dbc->n_msgs; i++) {
		struct dbc_message *m = &dbc->msgs[i];

		if (m->independent) {
			dbc_message_clear(m);
			continue;
		}
		for (j = 0; j < m->n_sigs; j++) {
			take_long_name(&m->sigs[j].name, &m->sigs[j].long_name);
			values_finish(&m->sigs[j].values);
		}
		take_long_name(&m->name, &m->long_name);
		dbc->msgs[n++] = *m;
	}
	dbc->n_msgs = n;
	for (i = 0; i < dbc->n_tables; i++)
		values_finish(&dbc->tables[i].values);

	/* from here on only frames are looked up: standard IDs directly */
	free(dbc->slots);
	dbc->slots = NULL;
	dbc->slot_mask = dbc->n_slots_used = 0;
	for (i = 0; i < dbc->n_msgs; i++) {
		struct dbc_message *m = &dbc->msgs[i];

		if (!m->extended) {
			dbc->std_idx1[m->id] = (uint32_t)i + 1;
			continue;
		}
		r = index_add(dbc,
			      (struct dbc_slot){ .hash = hash_id(m->raw_id),
						 .msg1 = (uint32_t)i + 1 });
		if (r < 0)
			return r;
	}
	return 0;
}

void dbc_signal_clear(struct dbc_signal *s)
{
	free(s->name);
	free(s->unit);
	free(s->comment);
	free(s->long_name);
	free(s->muxer_name);
	free(s->ranges);
	values_free(&s->values);
}

void dbc_message_clear(struct dbc_message *m)
{
	size_t i;

	for (i = 0; i < m->n_sigs; i++)
		dbc_signal_clear(&m->sigs[i]);
	free(m->sigs);
	free(m->name);
	free(m->long_name);
	free(m->transmitter);
	free(m->comment);
}

void dbc_free(struct dbc *dbc)
{
	size_t i;

	if (!dbc)
		return;
	for (i = 0; i < dbc->n_msgs; i++)
		dbc_message_clear(&dbc->msgs[i]);
	for (i = 0; i < dbc->n_tables; i++) {
		free(dbc->tables[i].name);
		values_free(&dbc->tables[i].values);
	}
	free(dbc->tables);
	free(dbc->msgs);
	free(dbc->slots);
	free(dbc);
}

const struct dbc_message *dbc_find_message(const struct dbc *dbc, uint32_t id,
					   bool extended)
{
	if (!extended)
		return id < DBC_STD_IDS && dbc->std_idx1[id] ?
			       &dbc->msgs[dbc->std_idx1[id] - 1] :
			       NULL;
	return id <= DBC_EFF_MASK ? dbc_lookup_message(dbc, id | DBC_EFF_FLAG) :
				    NULL;
}

const struct dbc_message *dbc_find_message_by_name(const struct dbc *dbc,
						   const char *name)
{
	size_t i;

	for (i = 0; i < dbc->n_msgs; i++)
		if (!strcmp(dbc->msgs[i].name, name))
			return &dbc->msgs[i];
	return NULL;
}

const char *dbc_message_name(const struct dbc_message *m)
{
	return m->name;
}

uint32_t dbc_message_id(const struct dbc_message *m)
{
	return m->id;
}

bool dbc_message_extended(const struct dbc_message *m)
{
	return m->extended;
}

size_t dbc_message_n_signals(const struct dbc_message *m)
{
	return m->n_sigs;
}

const struct dbc_signal *dbc_message_signal_at(const struct dbc_message *m,
					       size_t i)
{
	return i < m->n_sigs ? &m->sigs[i] : NULL;
}

const struct dbc_signal *dbc_message_find_signal(const struct dbc_message *m,
						 const char *name)
{
	size_t i;

	for (i = 0; i < m->n_sigs; i++)
		if (!strcmp(m->sigs[i].name, name))
			return &m->sigs[i];
	return NULL;
}

const char *dbc_signal_name(const struct dbc_signal *s)
{
	return s->name;
}

const char *dbc_signal_value_name(const struct dbc_signal *s, int64_t raw)
{
	return values_lookup(&s->values, raw);
}

const char *dbc_value_table_lookup(const struct dbc *dbc, const char *table,
				   int64_t raw)
{
	size_t i;

	for (i = 0; i < dbc->n_tables; i++)
		if (!strcmp(dbc->tables[i].name, table))
			return values_lookup(&dbc->tables[i].values, raw);
	return NULL;
}

/* The signal's bits, right-aligned; the frame is known to be long enough. */
static inline uint64_t extract(const struct dbc_signal *s, const uint8_t *d)
{
	const uint8_t *b = d + s->first_byte;
	uint64_t acc = 0;
	unsigned i;

	if (s->little_endian) {
		unsigned n = s->n_bytes > 8 ? 8 : s->n_bytes;

		for (i = n; i-- > 0;)
			acc = acc << 8 | b[i];
		acc >>= s->shift;
		/* 9 bytes: a 64-bit signal that does not start on a byte */
		if (s->n_bytes == 9)
			acc |= (uint64_t)b[8] << (64 - s->shift);
	} else if (s->n_bytes == 9) {
		for (i = 1; i < 9; i++)
			acc = acc << 8 | b[i];
		acc = acc >> s->shift | (uint64_t)b[0] << (64 - s->shift);
	} else {
		for (i = 0; i < s->n_bytes; i++)
			acc = acc << 8 | b[i];
		acc >>= s->shift;
	}
	return acc & s->mask;
}

static inline int64_t raw_value(const struct dbc_signal *s, uint64_t bits)
{
	unsigned sh = 64 - s->length;

	if (s->is_signed && s->type == DBC_VALUE_INT && sh)
		return (int64_t)(bits << sh) >> sh;
	return (int64_t)bits;
}

/* 0 when every multiplexor above s selects it. */
static int mux_check(const struct dbc_signal *s, const uint8_t *data,
		     size_t len)
{
	for (; s->parent; s = s->parent) {
		const struct dbc_signal *mux = s->parent;
		int64_t v;
		size_t i;

		if (len < mux->need_len)
			return -EMSGSIZE;
		v = raw_value(mux, extract(mux, data));
		for (i = 0; i < s->n_ranges; i++)
			if (v >= s->ranges[i].lo && v <= s->ranges[i].hi)
				break;
		if (i == s->n_ranges)
			return -ENOENT;
	}
	return 0;
}

/* The signal's raw bits when the frame carries it; errors as decode. */
static int signal_bits(const struct dbc_signal *s, const uint8_t *data,
		       size_t len, uint64_t *ret_bits)
{
	int r;

	if (len < s->need_len)
		return -EMSGSIZE;
	if (s->parent) {
		r = mux_check(s, data, len);
		if (r < 0)
			return r;
	}
	if (s->in_word && len >= 8) {
		/* a classic frame: the signal's bytes in one word, no loop */
		uint64_t w;

		memcpy(&w, data, sizeof(w));
		w = s->little_endian ? le64toh(w) : be64toh(w);
		*ret_bits = w >> s->word_shift & s->mask;
		return 0;
	}
	*ret_bits = extract(s, data);
	return 0;
}

int dbc_signal_decode_raw(const struct dbc_signal *s, const uint8_t *data,
			  size_t len, int64_t *ret_raw)
{
	uint64_t bits;
	int r = signal_bits(s, data, len, &bits);

	if (r < 0)
		return r;
	*ret_raw = raw_value(s, bits);
	return 0;
}

int dbc_signal_decode(const struct dbc_signal *s, const uint8_t *data,
		      size_t len, double *ret_value)
{
	uint64_t bits;
	double v;
	int r = signal_bits(s, data, len, &bits);

	if (r < 0)
		return r;
	switch (s->type) {
	case DBC_VALUE_FLOAT32: {
		uint32_t u = (uint32_t)bits;
		float f;

		memcpy(&f, &u, sizeof(f));
		v = f;
		break;
	}
	case DBC_VALUE_FLOAT64:
		memcpy(&v, &bits, sizeof(v));
		break;
	default:
		v = s->is_signed ? (double)raw_value(s, bits) : (double)bits;
		break;
	}
	*ret_value = v * s->factor + s->offset;
	return 0;
}

size_t dbc_message_decode(const struct dbc_message *m, const uint8_t *data,
			  size_t len, double *ret_values, bool *ret_present)
{
	size_t i, n = 0;

	for (i = 0; i < m->n_sigs; i++) {
		ret_present[i] = dbc_signal_decode(&m->sigs[i], data, len,
						   &ret_values[i]) == 0;
		n += ret_present[i];
	}
	return n;
}

int dbc_signal_encode(const struct dbc_signal *s, double value, uint8_t *data,
		      size_t len)
{
	uint64_t bits;
	unsigned i, lsb_bit;

	if (len < s->need_len)
		return -EMSGSIZE;
	if (s->factor == 0 || isnan(value))
		return -EDOM;
	value = (value - s->offset) / s->factor;
	if (s->type == DBC_VALUE_FLOAT32) {
		float f = (float)value;
		uint32_t u;

		memcpy(&u, &f, sizeof(u));
		bits = u;
	} else if (s->type == DBC_VALUE_FLOAT64) {
		memcpy(&bits, &value, sizeof(bits));
	} else {
		/* exact in double up to 2^64: the raw range of the bits */
		double lo = s->is_signed ? -ldexp(1, (int)s->length - 1) : 0;
		double end = ldexp(1, (int)s->length - s->is_signed);

		value = round(value);
		if (value < lo || value >= end)
			return -ERANGE;
		bits = value < 0 ? (uint64_t)(int64_t)value : (uint64_t)value;
		bits &= s->mask;
	}
	/* bit i of the raw value (0 = LSB) to its place in the frame */
	if (s->little_endian)
		lsb_bit = s->start; /* LSB0 numbering */
	else
		lsb_bit = (s->start / 8) * 8 + 7 - s->start % 8 + s->length -
			  1; /* MSB0 numbering */
	for (i = 0; i < s->length; i++) {
		unsigned pos, byte, bit;

		if (s->little_endian) {
			pos = lsb_bit + i;
			byte = pos / 8;
			bit = pos % 8;
		} else {
			pos = lsb_bit - i;
			byte = pos / 8;
			bit = 7 - pos % 8;
		}
		if (bits >> i & 1)
			data[byte] |= (uint8_t)(1u << bit);
		else
			data[byte] &= (uint8_t) ~(1u << bit);
	}
	return 0;
}
