/* dbc_load.c: the DBC parser: statements, references, multiplexing */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbc_lex.h"
#include "dbc_private.h"

/* Vector's container for signals outside any message (not a real frame) */
#define DBC_INDEPENDENT_MSG "VECTOR__INDEPENDENT_SIG_MSG"

static bool is_keyword(const struct tok *t);

/* A message ID reference (CM_ BO_, VAL_, BA_ BO_, ...): must exist. */
static int expect_msg_ref(struct dbc_parser *p, const char *stmt,
			  struct dbc_message **ret)
{
	unsigned line = p->tok.line;
	uint64_t id;
	int r;

	r = dbc_lex_uint(p, "a message ID", UINT32_MAX, &id);
	if (r < 0)
		return r;
	*ret = dbc_lookup_message(p->dbc, (uint32_t)id);
	if (!*ret)
		return dbc_lex_error(
			p, line,
			"%s: expected the ID of a message defined by "
			"BO_, got %llu",
			stmt, (unsigned long long)id);
	return 0;
}

static int expect_sig_ref(struct dbc_parser *p, const char *stmt,
			  struct dbc_message *m, struct dbc_signal **ret)
{
	struct tok t;
	int r;

	r = dbc_lex_ident(p, "a signal name", &t);
	if (r < 0)
		return r;
	*ret = dbc_lookup_signal(p->dbc, m, t.s, t.len);
	if (!*ret)
		return dbc_lex_error(
			p, t.line,
			"%s: expected a signal of message %s, got '%.*s'", stmt,
			m->name, (int)t.len, t.s);
	return 0;
}

/* (integer "text")* ';' */
static int parse_value_pairs(struct dbc_parser *p, struct dbc_value_list *l)
{
	int r;

	while (!dbc_lex_is_punct(&p->tok, ';')) {
		struct tok name;
		int64_t raw;

		r = dbc_lex_int(p, "a raw value or ';'", &raw);
		if (r < 0)
			return r;
		r = dbc_lex_string(p, "a quoted value description", &name);
		if (r < 0)
			return r;
		if (l) {
			r = dbc_values_add(l, raw, dbc_lex_unescape(&name));
			if (r < 0)
				return r;
		}
	}
	return dbc_lex_advance(p);
}

/* Skips a statement we do not use, up to and including its ';'. */
static int skip_statement(struct dbc_parser *p, const struct tok *kw)
{
	int r;

	while (!dbc_lex_is_punct(&p->tok, ';')) {
		if (p->tok.type == TOK_EOF ||
		    (p->tok.col0 && is_keyword(&p->tok)))
			return dbc_lex_error(
				p, p->tok.line,
				"expected ';' to end the %.*s statement "
				"of line %u",
				(int)kw->len, kw->s, kw->line);
		r = dbc_lex_advance(p);
		if (r < 0)
			return r;
	}
	return dbc_lex_advance(p);
}

static int parse_ns(struct dbc_parser *p, const struct tok *kw)
{
	int r = dbc_lex_punct(p, ':');

	/* the list holds keywords; it ends at the first unindented word */
	while (r == 0 && p->tok.type == TOK_IDENT && !p->tok.col0 &&
	       !dbc_lex_is(&p->tok, "BS_"))
		r = dbc_lex_advance(p);
	return r;
}

static int parse_bs(struct dbc_parser *p, const struct tok *kw)
{
	int r = dbc_lex_punct(p, ':');

	/* [baudrate ':' BTR1 ',' BTR2] */
	while (r == 0 &&
	       (p->tok.type == TOK_NUM || dbc_lex_is_punct(&p->tok, ':') ||
		dbc_lex_is_punct(&p->tok, ',')))
		r = dbc_lex_advance(p);
	return r;
}

static int parse_bu(struct dbc_parser *p, const struct tok *kw)
{
	int r = dbc_lex_punct(p, ':');

	while (r == 0 && p->tok.type == TOK_IDENT && !is_keyword(&p->tok))
		r = dbc_lex_advance(p);
	return r;
}

static int parse_bo(struct dbc_parser *p, const struct tok *kw)
{
	struct dbc *dbc = p->dbc;
	struct dbc_message *m, *dup;
	struct tok name, tx = { 0 };
	uint64_t raw_id, size;
	unsigned id_line = p->tok.line;
	bool independent;
	int r;

	r = dbc_lex_uint(p, "a message ID", UINT32_MAX, &raw_id);
	if (r < 0)
		return r;
	r = dbc_lex_ident(p, "a message name", &name);
	if (r < 0)
		return r;
	r = dbc_lex_punct(p, ':');
	if (r < 0)
		return r;
	r = dbc_lex_uint(p, "the message size in bytes", DBC_MAX_SIZE, &size);
	if (r < 0)
		return r;
	if (p->tok.type == TOK_IDENT && !is_keyword(&p->tok)) {
		r = dbc_lex_ident(p, "the transmitter", &tx);
		if (r < 0)
			return r;
	}

	independent = name.len == strlen(DBC_INDEPENDENT_MSG) &&
		      !memcmp(name.s, DBC_INDEPENDENT_MSG, name.len);
	if (!independent) {
		if (raw_id & DBC_EFF_FLAG) {
			if ((raw_id & ~DBC_EFF_FLAG) > DBC_EFF_MASK)
				return dbc_lex_error(
					p, id_line,
					"expected an extended ID of at most 29 "
					"bits (bit 31 set, at most 0x%X), got "
					"%llu (0x%llX) for message %.*s",
					DBC_EFF_FLAG | DBC_EFF_MASK,
					(unsigned long long)raw_id,
					(unsigned long long)raw_id,
					(int)name.len, name.s);
		} else if (raw_id >= DBC_STD_IDS) {
			return dbc_lex_error(
				p, id_line,
				"expected a standard ID of at most 11 "
				"bits (0..2047; extended IDs have bit "
				"31 set), got %llu (0x%llX) for message "
				"%.*s",
				(unsigned long long)raw_id,
				(unsigned long long)raw_id, (int)name.len,
				name.s);
		}
	}
	dup = dbc_lookup_message(dbc, (uint32_t)raw_id);
	if (dup)
		return dbc_lex_error(
			p, id_line,
			"expected a new message ID, got %llu already "
			"used by %s on line %u",
			(unsigned long long)raw_id, dup->name, dup->line);

	r = dbc_add_message(dbc, (uint32_t)raw_id, &m);
	if (r < 0)
		return r;
	m->id = (uint32_t)raw_id &
		((raw_id & DBC_EFF_FLAG) ? DBC_EFF_MASK : DBC_STD_IDS - 1);
	m->extended = raw_id & DBC_EFF_FLAG;
	m->independent = independent;
	m->size = (unsigned)size;
	m->line = kw->line;
	m->name = strndup(name.s, name.len);
	m->transmitter = tx.len ? strndup(tx.s, tx.len) : strdup("");
	if (!m->name || !m->transmitter)
		return -ENOMEM;
	p->open_msg = m;
	return 0;
}

/* Byte positions, shift and mask, computed once so decoding is cheap. */
static int signal_layout(struct dbc_parser *p, const struct dbc_message *m,
			 struct dbc_signal *s)
{
	unsigned need;

	if (dbc_signal_layout(m, s, &need) < 0)
		return dbc_lex_error(
			p, s->line,
			"expected signal %s (start bit %u, %u bits, %s) "
			"to fit in the %u bytes of message %s, it "
			"needs %u bytes",
			s->name, s->start, s->length,
			s->little_endian ? "Intel" : "Motorola", m->size,
			m->name, need);
	return 0;
}

/* M, mN or mNM */
static int parse_mux_indicator(struct dbc_parser *p, struct dbc_signal *s)
{
	const struct tok *t = &p->tok;
	size_t i = 1, end = t->len;
	uint64_t v = 0;

	if (t->len == 1 && t->s[0] == 'M') {
		s->is_multiplexor = true;
		return dbc_lex_advance(p);
	}
	if (t->s[0] != 'm' || t->len < 2)
		return dbc_lex_expected(p, "a multiplexer indicator (M, mN or "
					   "mNM) or ':'");
	if (t->s[end - 1] == 'M') {
		s->is_multiplexor = true;
		end--;
	}
	if (i == end)
		return dbc_lex_expected(p, "a multiplexer indicator (M, mN or "
					   "mNM) or ':'");
	for (; i < end; i++) {
		if ((t->s[i] < '0' || t->s[i] > '9') || v > INT32_MAX)
			return dbc_lex_expected(p,
						"a multiplexer indicator (M, "
						"mN or mNM) or ':'");
		v = v * 10 + (unsigned)(t->s[i] - '0');
	}
	s->has_mux_value = true;
	s->mux_value = (int64_t)v;
	return dbc_lex_advance(p);
}

static int parse_sg(struct dbc_parser *p, const struct tok *kw)
{
	struct dbc_message *m = p->open_msg;
	struct dbc_signal s = { .line = kw->line };
	struct tok name, unit;
	uint64_t start, length, order;
	int r;

	if (!m)
		return dbc_lex_error(p, kw->line,
				     "expected SG_ lines right after their BO_ "
				     "message");
	r = dbc_lex_ident(p, "a signal name", &name);
	if (r < 0)
		return r;
	if (dbc_lookup_signal(p->dbc, m, name.s, name.len))
		return dbc_lex_error(
			p, name.line,
			"expected a new signal name in message %s, got "
			"'%.*s' twice",
			m->name, (int)name.len, name.s);
	if (p->tok.type == TOK_IDENT) {
		r = parse_mux_indicator(p, &s);
		if (r < 0)
			return r;
	}
	if ((r = dbc_lex_punct(p, ':')) < 0 ||
	    (r = dbc_lex_uint(p, "the start bit", 8 * DBC_MAX_SIZE - 1,
			      &start)) < 0 ||
	    (r = dbc_lex_punct(p, '|')) < 0 ||
	    (r = dbc_lex_uint(p, "the signal length in bits (1..64)", 64,
			      &length)) < 0)
		return r;
	if (length == 0)
		return dbc_lex_error(
			p, name.line,
			"expected a signal length of 1..64 bits, got 0 "
			"for %.*s",
			(int)name.len, name.s);
	if ((r = dbc_lex_punct(p, '@')) < 0)
		return r;
	if (p->tok.type != TOK_NUM || p->tok.len != 1 ||
	    (p->tok.s[0] != '0' && p->tok.s[0] != '1'))
		return dbc_lex_expected(p, "the byte order @0 (Motorola) or @1 "
					   "(Intel)");
	if ((r = dbc_lex_uint(p, "the byte order", 1, &order)) < 0)
		return r;
	if (!dbc_lex_is_punct(&p->tok, '+') && !dbc_lex_is_punct(&p->tok, '-'))
		return dbc_lex_expected(p, "'+' (unsigned) or '-' (signed)");
	s.is_signed = p->tok.s[0] == '-';
	if ((r = dbc_lex_advance(p)) < 0 || (r = dbc_lex_punct(p, '(')) < 0 ||
	    (r = dbc_lex_double(p, "the factor", &s.factor)) < 0 ||
	    (r = dbc_lex_punct(p, ',')) < 0 ||
	    (r = dbc_lex_double(p, "the offset", &s.offset)) < 0 ||
	    (r = dbc_lex_punct(p, ')')) < 0 ||
	    (r = dbc_lex_punct(p, '[')) < 0 ||
	    (r = dbc_lex_double(p, "the minimum", &s.min)) < 0 ||
	    (r = dbc_lex_punct(p, '|')) < 0 ||
	    (r = dbc_lex_double(p, "the maximum", &s.max)) < 0 ||
	    (r = dbc_lex_punct(p, ']')) < 0 ||
	    (r = dbc_lex_string(p, "the quoted unit", &unit)) < 0)
		return r;
	/* receivers: node (',' node)*; some tools separate with blanks */
	while (p->tok.type == TOK_IDENT && !is_keyword(&p->tok) &&
	       !p->tok.col0) {
		r = dbc_lex_advance(p);
		if (r == 0 && dbc_lex_is_punct(&p->tok, ','))
			r = dbc_lex_advance(p);
		if (r < 0)
			return r;
	}

	s.start = (unsigned)start;
	s.length = (unsigned)length;
	s.little_endian = order == 1;
	s.type = DBC_VALUE_INT;
	s.name = strndup(name.s, name.len);
	s.unit = dbc_lex_unescape(&unit);
	if (!s.name || !s.unit) {
		dbc_signal_clear(&s);
		return -ENOMEM;
	}
	r = signal_layout(p, m, &s);
	if (r < 0) {
		dbc_signal_clear(&s);
		return r;
	}
	r = dbc_add_signal(p->dbc, m, &s);
	if (r < 0)
		dbc_signal_clear(&s);
	return r;
}

static int parse_cm(struct dbc_parser *p, const struct tok *kw)
{
	struct dbc_message *m = NULL;
	struct dbc_signal *s = NULL;
	struct tok t;
	char **dst = NULL;
	int r = 0;

	if (dbc_lex_is(&p->tok, "BO_")) {
		if ((r = dbc_lex_advance(p)) < 0 ||
		    (r = expect_msg_ref(p, "CM_ BO_", &m)) < 0)
			return r;
		dst = &m->comment;
	} else if (dbc_lex_is(&p->tok, "SG_")) {
		if ((r = dbc_lex_advance(p)) < 0 ||
		    (r = expect_msg_ref(p, "CM_ SG_", &m)) < 0 ||
		    (r = expect_sig_ref(p, "CM_ SG_", m, &s)) < 0)
			return r;
		dst = &s->comment;
	} else if (dbc_lex_is(&p->tok, "BU_") || dbc_lex_is(&p->tok, "EV_")) {
		if ((r = dbc_lex_advance(p)) < 0 ||
		    (r = dbc_lex_ident(p, "a node or variable name", &t)) < 0)
			return r;
	}
	if ((r = dbc_lex_string(p, "the quoted comment", &t)) < 0)
		return r;
	if (dst) {
		free(*dst);
		*dst = dbc_lex_unescape(&t);
		if (!*dst)
			return -ENOMEM;
	}
	/* opendbc files (the BMW one) end some CM_ lines without ';' */
	if (!dbc_lex_is_punct(&p->tok, ';') &&
	    (p->tok.type == TOK_EOF || (p->tok.col0 && is_keyword(&p->tok))))
		return 0;
	return dbc_lex_punct(p, ';');
}

static int parse_val_table(struct dbc_parser *p, const struct tok *kw)
{
	struct dbc_table *t;
	struct tok name;
	int r;

	r = dbc_lex_ident(p, "a value table name", &name);
	if (r < 0)
		return r;
	r = dbc_add_table(p->dbc, strndup(name.s, name.len), &t);
	if (r < 0)
		return r;
	return parse_value_pairs(p, &t->values);
}

static int parse_val(struct dbc_parser *p, const struct tok *kw)
{
	struct dbc_message *m;
	struct dbc_signal *s;
	struct tok t;
	int r;

	if (p->tok.type == TOK_IDENT) {
		/* VAL_ of an environment variable: not used */
		if ((r = dbc_lex_ident(p, "a variable name", &t)) < 0)
			return r;
		return parse_value_pairs(p, NULL);
	}
	if ((r = expect_msg_ref(p, "VAL_", &m)) < 0 ||
	    (r = expect_sig_ref(p, "VAL_", m, &s)) < 0)
		return r;
	return parse_value_pairs(p, &s->values);
}

static int parse_sig_valtype(struct dbc_parser *p, const struct tok *kw)
{
	struct dbc_message *m;
	struct dbc_signal *s;
	unsigned line;
	uint64_t type;
	int r;

	if ((r = expect_msg_ref(p, "SIG_VALTYPE_", &m)) < 0 ||
	    (r = expect_sig_ref(p, "SIG_VALTYPE_", m, &s)) < 0)
		return r;
	if (dbc_lex_is_punct(&p->tok, ':') && (r = dbc_lex_advance(p)) < 0)
		return r;
	line = p->tok.line;
	if ((r = dbc_lex_uint(p,
			      "the value type 0 (integer), 1 (float) or 2 "
			      "(double)",
			      2, &type)) < 0)
		return r;
	if ((type == 1 && s->length != 32) || (type == 2 && s->length != 64))
		return dbc_lex_error(
			p, line,
			"expected signal %s to be %u bits long for "
			"SIG_VALTYPE_ %u, it has %u",
			s->name, type == 1 ? 32 : 64, (unsigned)type,
			s->length);
	s->type = type == 1 ? DBC_VALUE_FLOAT32 :
		  type == 2 ? DBC_VALUE_FLOAT64 :
			      DBC_VALUE_INT;
	return dbc_lex_punct(p, ';');
}

static int parse_sg_mul_val(struct dbc_parser *p, const struct tok *kw)
{
	struct dbc_message *m;
	struct dbc_signal *s;
	struct tok muxer;
	unsigned line = p->tok.line;
	int r;

	if ((r = expect_msg_ref(p, "SG_MUL_VAL_", &m)) < 0 ||
	    (r = expect_sig_ref(p, "SG_MUL_VAL_", m, &s)) < 0 ||
	    (r = dbc_lex_ident(p, "the multiplexor signal name", &muxer)) < 0)
		return r;
	if (s->muxer_name)
		return dbc_lex_error(
			p, line,
			"expected one SG_MUL_VAL_ per signal, got a "
			"second one for %s (first on line %u)",
			s->name, s->mux_line);
	s->muxer_name = strndup(muxer.s, muxer.len);
	if (!s->muxer_name)
		return -ENOMEM;
	s->mux_line = line;
	for (;;) {
		struct dbc_mux_range *v;
		uint64_t lo, hi;

		if ((r = dbc_lex_uint(p, "a multiplexor value range LO-HI",
				      INT64_MAX, &lo)) < 0 ||
		    (r = dbc_lex_punct(p, '-')) < 0 ||
		    (r = dbc_lex_uint(p, "the upper end of the range LO-HI",
				      INT64_MAX, &hi)) < 0)
			return r;
		if (hi < lo)
			return dbc_lex_error(
				p, p->tok.line,
				"expected a range LO-HI with LO <= HI, "
				"got %llu-%llu",
				(unsigned long long)lo, (unsigned long long)hi);
		v = realloc(s->ranges, (s->n_ranges + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->ranges = v;
		s->ranges[s->n_ranges++] =
			(struct dbc_mux_range){ (int64_t)lo, (int64_t)hi };
		if (!dbc_lex_is_punct(&p->tok, ','))
			break;
		if ((r = dbc_lex_advance(p)) < 0)
			return r;
	}
	return dbc_lex_punct(p, ';');
}

/* BA_: only the long-name attributes matter to us, the rest is checked. */
static int parse_ba(struct dbc_parser *p, const struct tok *kw)
{
	struct dbc_message *m = NULL;
	struct dbc_signal *s = NULL;
	struct tok name, t;
	int r;

	if ((r = dbc_lex_string(p, "the quoted attribute name", &name)) < 0)
		return r;
	if (dbc_lex_is(&p->tok, "BO_")) {
		if ((r = dbc_lex_advance(p)) < 0 ||
		    (r = expect_msg_ref(p, "BA_ BO_", &m)) < 0)
			return r;
	} else if (dbc_lex_is(&p->tok, "SG_")) {
		if ((r = dbc_lex_advance(p)) < 0 ||
		    (r = expect_msg_ref(p, "BA_ SG_", &m)) < 0 ||
		    (r = expect_sig_ref(p, "BA_ SG_", m, &s)) < 0)
			return r;
	} else if (dbc_lex_is(&p->tok, "BU_") || dbc_lex_is(&p->tok, "EV_")) {
		if ((r = dbc_lex_advance(p)) < 0 ||
		    (r = dbc_lex_ident(p, "a node or variable name", &t)) < 0)
			return r;
	}
	if (p->tok.type == TOK_STR) {
		char **dst = NULL;

		if (s && name.len == 22 &&
		    !memcmp(name.s, "SystemSignalLongSymbol", 22))
			dst = &s->long_name;
		else if (!s && m && name.len == 23 &&
			 !memcmp(name.s, "SystemMessageLongSymbol", 23))
			dst = &m->long_name;
		if (dst) {
			free(*dst);
			*dst = dbc_lex_unescape(&p->tok);
			if (!*dst)
				return -ENOMEM;
		}
		r = dbc_lex_advance(p);
	} else if (p->tok.type == TOK_IDENT) {
		r = dbc_lex_advance(p);
	} else {
		double v;

		r = dbc_lex_double(p, "the attribute value", &v);
	}
	if (r < 0)
		return r;
	return dbc_lex_punct(p, ';');
}

static int parse_version(struct dbc_parser *p, const struct tok *kw)
{
	struct tok v;

	return dbc_lex_string(p, "the quoted version", &v);
}

/*
 * Every statement keyword a DBC file can have at the top level; those
 * without a parser (attribute definitions, relations, groups, environment)
 * are skipped up to their ';'.
 */
static const struct statement {
	const char *keyword;
	int (*parse)(struct dbc_parser *p, const struct tok *kw);
} statements[] = {
	{ "VERSION", parse_version },
	{ "NS_", parse_ns },
	{ "BS_", parse_bs },
	{ "BU_", parse_bu },
	{ "BO_", parse_bo },
	{ "SG_", parse_sg },
	{ "CM_", parse_cm },
	{ "VAL_TABLE_", parse_val_table },
	{ "VAL_", parse_val },
	{ "SIG_VALTYPE_", parse_sig_valtype },
	{ "SG_MUL_VAL_", parse_sg_mul_val },
	{ "BA_", parse_ba },
	{ "NS_DESC_", NULL },
	{ "BA_DEF_", NULL },
	{ "CAT_DEF_", NULL },
	{ "CAT_", NULL },
	{ "FILTER", NULL },
	{ "BA_DEF_DEF_", NULL },
	{ "EV_DATA_", NULL },
	{ "ENVVAR_DATA_", NULL },
	{ "SGTYPE_", NULL },
	{ "SGTYPE_VAL_", NULL },
	{ "BA_DEF_SGTYPE_", NULL },
	{ "BA_SGTYPE_", NULL },
	{ "SIG_TYPE_REF_", NULL },
	{ "SIG_GROUP_", NULL },
	{ "SIGTYPE_VALTYPE_", NULL },
	{ "BO_TX_BU_", NULL },
	{ "BA_DEF_REL_", NULL },
	{ "BA_REL_", NULL },
	{ "BA_DEF_DEF_REL_", NULL },
	{ "BU_SG_REL_", NULL },
	{ "BU_EV_REL_", NULL },
	{ "BU_BO_REL_", NULL },
	{ "EV_", NULL },
};

static const struct statement *find_statement(const struct tok *t)
{
	size_t i;

	if (t->type != TOK_IDENT)
		return NULL;
	for (i = 0; i < sizeof(statements) / sizeof(statements[0]); i++)
		if (dbc_lex_is(t, statements[i].keyword))
			return &statements[i];
	return NULL;
}

static bool is_keyword(const struct tok *t)
{
	return find_statement(t);
}

static int parse_statement(struct dbc_parser *p)
{
	const struct statement *st = find_statement(&p->tok);
	struct tok kw = p->tok;
	int r;

	if (!st)
		return dbc_lex_expected(p, "a DBC keyword (BO_, SG_, CM_, BA_, "
					   "VAL_, ...)");
	r = dbc_lex_advance(p);
	if (r < 0)
		return r;
	if (st->parse != parse_sg)
		p->open_msg = NULL;
	return st->parse ? st->parse(p, &kw) : skip_statement(p, &kw);
}

/* Links each multiplexed signal to its multiplexor, checks the tree. */
static int resolve_mux(struct dbc_parser *p, struct dbc_message *m)
{
	struct dbc_signal *top = NULL;
	size_t i, n_top = 0;

	for (i = 0; i < m->n_sigs; i++) {
		struct dbc_signal *s = &m->sigs[i];

		if (s->is_multiplexor && !s->has_mux_value && !s->muxer_name) {
			if (!top)
				top = s;
			n_top++;
		}
		if (s->is_multiplexor && s->type != DBC_VALUE_INT)
			return dbc_lex_error(p, s->line,
					     "expected multiplexor %s to be an "
					     "integer signal, it is a float",
					     s->name);
	}
	for (i = 0; i < m->n_sigs; i++) {
		struct dbc_signal *s = &m->sigs[i];
		struct dbc_mux_range *r;

		if (s->muxer_name) {
			struct dbc_signal *mux =
				dbc_lookup_signal(p->dbc, m, s->muxer_name,
						  strlen(s->muxer_name));

			if (!mux || mux == s)
				return dbc_lex_error(
					p, s->mux_line,
					"SG_MUL_VAL_: expected a "
					"multiplexor of message %s for "
					"%s, got '%s'",
					m->name, s->name, s->muxer_name);
			if (!mux->is_multiplexor)
				return dbc_lex_error(
					p, s->mux_line,
					"SG_MUL_VAL_: expected %s to be "
					"a multiplexor (M or mNM) in "
					"message %s",
					mux->name, m->name);
			s->parent = mux;
			continue;
		}
		if (!s->has_mux_value)
			continue;
		/* plain mN: the message's one top-level multiplexor, value N */
		if (n_top != 1)
			return dbc_lex_error(
				p, s->line,
				"expected exactly one multiplexor (M) "
				"in message %s for signal %s (m%lld) "
				"without SG_MUL_VAL_, got %zu",
				m->name, s->name, (long long)s->mux_value,
				n_top);
		r = malloc(sizeof(*r));
		if (!r)
			return -ENOMEM;
		*r = (struct dbc_mux_range){ s->mux_value, s->mux_value };
		s->ranges = r;
		s->n_ranges = 1;
		s->parent = top;
	}
	/* a cycle would make decoding loop forever */
	for (i = 0; i < m->n_sigs; i++) {
		const struct dbc_signal *s = &m->sigs[i];
		size_t depth = 0;

		while (s->parent) {
			s = s->parent;
			if (++depth > m->n_sigs)
				return dbc_lex_error(
					p, m->sigs[i].line,
					"expected the multiplexors of "
					"message %s to form a tree, %s "
					"is in a cycle",
					m->name, m->sigs[i].name);
		}
	}
	return 0;
}

static int finish(struct dbc_parser *p)
{
	size_t i;
	int r;

	for (i = 0; i < p->dbc->n_msgs; i++) {
		if (p->dbc->msgs[i].independent)
			continue;
		r = resolve_mux(p, &p->dbc->msgs[i]);
		if (r < 0)
			return r;
	}
	return dbc_seal(p->dbc);
}

static int read_file(const char *path, char **ret_buf, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (cap - len < 65536) {
			char *v = realloc(buf, cap + 65536 + 1);

			if (!v) {
				r = -ENOMEM;
				break;
			}
			buf = v;
			cap += 65536;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f))
				r = -EIO;
			break;
		}
	}
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = 0;
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int dbc_load(struct dbc **ret, const char *path, char *errbuf, size_t errlen)
{
	struct dbc_parser p = {
		.path = path,
		.line = 1,
		.at_line_start = true,
		.errbuf = errbuf,
		.errlen = errlen,
	};
	char *buf = NULL;
	size_t len = 0;
	int r;

	*ret = NULL;
	if (errbuf && errlen)
		errbuf[0] = 0;
	r = read_file(path, &buf, &len);
	if (r < 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	p.buf = buf;
	p.len = len;
	p.c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	p.dbc = calloc(1, sizeof(*p.dbc));
	if (!p.c_locale || !p.dbc) {
		r = -ENOMEM;
		goto out;
	}
	/* a UTF-8 byte order mark is not part of the first keyword */
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		p.pos = 3;
	r = dbc_lex_advance(&p);
	while (r == 0 && p.tok.type != TOK_EOF)
		r = parse_statement(&p);
	if (r == 0)
		r = finish(&p);
out:
	if (r == -ENOMEM && errbuf && errlen)
		snprintf(errbuf, errlen, "%s: %s", path, strerror(ENOMEM));
	if (p.c_locale)
		freelocale(p.c_locale);
	free(buf);
	if (r < 0) {
		dbc_free(p.dbc);
		return r;
	}
	*ret = p.dbc;
	return 0;
}
