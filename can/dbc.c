/* dbc.c: DBC database parser and signal decoder */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbc.h"

#define DBC_STD_IDS 2048
#define DBC_EFF_FLAG 0x80000000u
#define DBC_EFF_MASK 0x1FFFFFFFu
#define DBC_MAX_SIZE 64
/* Vector's container for signals outside any message (not a real frame) */
#define DBC_INDEPENDENT_MSG "VECTOR__INDEPENDENT_SIG_MSG"

struct dbc_value {
	int64_t raw;
	char *name;
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
	unsigned start, length;
	bool little_endian, is_signed;
	enum dbc_value_type type;
	double factor, offset, min, max;

	/* precomputed at load time for decoding */
	uint8_t first_byte, n_bytes, shift;
	uint8_t need_len; /* bytes a frame needs to carry this signal */
	uint64_t mask;

	/* multiplexing */
	bool is_multiplexor; /* M or mNM */
	bool has_mux_value;  /* mN or mNM */
	int64_t mux_value;   /* N */
	char *muxer_name;    /* from SG_MUL_VAL_ */
	unsigned mux_line;   /* line of SG_MUL_VAL_ */
	struct dbc_mux_range *ranges;
	size_t n_ranges;
	const struct dbc_signal *parent;

	struct dbc_value_list values; /* sorted by raw after load */
};

struct dbc_message {
	char *name;
	char *long_name;
	char *transmitter;
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

struct dbc_ext_slot {
	uint32_t id;
	uint32_t idx1; /* message index + 1, 0 = empty */
};

struct dbc {
	struct dbc_message *msgs;
	size_t n_msgs, cap_msgs;
	struct dbc_table *tables;
	size_t n_tables, cap_tables;
	uint32_t std_idx1[DBC_STD_IDS]; /* message index + 1, 0 = none */
	struct dbc_ext_slot *ext;
	size_t ext_mask;
};

enum tok_type {
	TOK_EOF,
	TOK_IDENT,
	TOK_NUM,
	TOK_STR,
	TOK_PUNCT,
};

struct tok {
	enum tok_type type;
	const char *s; /* STR: the contents without quotes, escapes kept */
	size_t len;
	unsigned line;
	bool col0; /* first thing on its line, not indented */
};

struct parser {
	const char *path;
	const char *buf;
	size_t len, pos;
	unsigned line;
	bool at_line_start; /* nothing but whitespace seen on this line yet */
	bool indented;
	struct tok tok; /* lookahead */
	char *errbuf;
	size_t errlen;
	bool failed;
	locale_t c_locale;
	struct dbc *dbc;
	struct dbc_message *last_msg; /* last one referenced, a lookup cache */
	struct dbc_message *open_msg; /* the BO_ that following SG_ belong to */
};

/* Every statement keyword a DBC file can have at the top level. */
/* clang-format off */
static const char *const dbc_keywords[] = {
	"VERSION", "NS_", "NS_DESC_", "CM_", "BA_DEF_", "BA_", "VAL_",
	"CAT_DEF_", "CAT_", "FILTER", "BA_DEF_DEF_", "EV_DATA_",
	"ENVVAR_DATA_", "SGTYPE_", "SGTYPE_VAL_", "BA_DEF_SGTYPE_",
	"BA_SGTYPE_", "SIG_TYPE_REF_", "VAL_TABLE_", "SIG_GROUP_",
	"SIG_VALTYPE_", "SIGTYPE_VALTYPE_", "BO_TX_BU_", "BA_DEF_REL_",
	"BA_REL_", "BA_DEF_DEF_REL_", "BU_SG_REL_", "BU_EV_REL_",
	"BU_BO_REL_", "SG_MUL_VAL_", "BS_", "BU_", "BO_", "SG_", "EV_",
};
/* clang-format on */

static bool tok_is(const struct tok *t, const char *word)
{
	size_t n = strlen(word);

	return t->type == TOK_IDENT && t->len == n && !memcmp(t->s, word, n);
}

static bool tok_punct(const struct tok *t, char c)
{
	return t->type == TOK_PUNCT && t->s[0] == c;
}

static bool tok_is_keyword(const struct tok *t)
{
	size_t i;

	if (t->type != TOK_IDENT)
		return false;
	for (i = 0; i < sizeof(dbc_keywords) / sizeof(dbc_keywords[0]); i++)
		if (tok_is(t, dbc_keywords[i]))
			return true;
	return false;
}

static void tok_describe(const struct tok *t, char *buf, size_t n)
{
	int shown = t->len > 40 ? 40 : (int)t->len;
	const char *more = t->len > 40 ? "..." : "";

	switch (t->type) {
	case TOK_EOF:
		snprintf(buf, n, "end of file");
		break;
	case TOK_STR:
		snprintf(buf, n, "string \"%.*s%s\"", shown, t->s, more);
		break;
	default:
		snprintf(buf, n, "'%.*s%s'", shown, t->s, more);
		break;
	}
}

static int perr_at(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr_at(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -EINVAL;
	p->failed = true;
	if (!p->errbuf || !p->errlen)
		return -EINVAL;
	n = snprintf(p->errbuf, p->errlen, "%s:%u: ", p->path, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->errbuf + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "expected WHAT, got TOKEN" at the lookahead token */
static int perr_expected(struct parser *p, const char *what)
{
	char got[64];

	tok_describe(&p->tok, got, sizeof(got));
	return perr_at(p, p->tok.line, "expected %s, got %s", what, got);
}

static bool is_ident_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_char(int c)
{
	return is_ident_start(c) || is_digit(c);
}

/* Reads the next token into p->tok. */
static int advance(struct parser *p)
{
	const char *b = p->buf;
	size_t start;

	for (;;) {
		if (p->pos >= p->len) {
			p->tok = (struct tok){ .type = TOK_EOF,
					       .s = "",
					       .line = p->line };
			return 0;
		}
		char c = b[p->pos];
		if (c == '\n') {
			p->line++;
			p->pos++;
			p->at_line_start = true;
			p->indented = false;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
			   c == '\v') {
			p->pos++;
			if (p->at_line_start)
				p->indented = true;
		} else if (c == '/' && p->pos + 1 < p->len &&
			   b[p->pos + 1] == '/') {
			/* line comment, as written by some tools */
			while (p->pos < p->len && b[p->pos] != '\n')
				p->pos++;
		} else {
			break;
		}
	}

	start = p->pos;
	p->tok.line = p->line;
	p->tok.col0 = p->at_line_start && !p->indented;
	p->at_line_start = false;
	unsigned char c = (unsigned char)b[start];

	if (is_ident_start(c)) {
		while (p->pos < p->len &&
		       is_ident_char((unsigned char)b[p->pos]))
			p->pos++;
		p->tok.type = TOK_IDENT;
	} else if (is_digit(c) || (c == '.' && p->pos + 1 < p->len &&
				   is_digit((unsigned char)b[p->pos + 1]))) {
		while (p->pos < p->len && is_digit((unsigned char)b[p->pos]))
			p->pos++;
		if (p->pos < p->len && b[p->pos] == '.') {
			p->pos++;
			while (p->pos < p->len &&
			       is_digit((unsigned char)b[p->pos]))
				p->pos++;
		}
		if (p->pos < p->len && (b[p->pos] == 'e' || b[p->pos] == 'E')) {
			size_t e = p->pos + 1;

			if (e < p->len && (b[e] == '+' || b[e] == '-'))
				e++;
			if (e < p->len && is_digit((unsigned char)b[e])) {
				p->pos = e;
				while (p->pos < p->len &&
				       is_digit((unsigned char)b[p->pos]))
					p->pos++;
			}
		}
		if (p->pos < p->len && is_ident_char((unsigned char)b[p->pos]))
			return perr_at(
				p, p->line,
				"expected a number or a name, got '%.*s'",
				(int)(p->pos - start + 1), b + start);
		p->tok.type = TOK_NUM;
	} else if (c == '"') {
		unsigned first_line = p->line;

		p->pos++;
		start = p->pos;
		/* strings may span lines (CM_) and hold any byte */
		while (p->pos < p->len && b[p->pos] != '"') {
			if (b[p->pos] == '\\' && p->pos + 1 < p->len)
				p->pos++;
			if (b[p->pos] == '\n')
				p->line++;
			p->pos++;
		}
		if (p->pos >= p->len)
			return perr_at(p, first_line,
				       "expected a closing '\"' for the string "
				       "opened here, got end of file");
		p->tok.type = TOK_STR;
		p->tok.s = b + start;
		p->tok.len = p->pos - start;
		p->pos++;
		return 0;
	} else if (strchr(":;|@()[],+-", c) && c) {
		p->pos++;
		p->tok.type = TOK_PUNCT;
	} else {
		if (c >= 0x20 && c < 0x7f)
			return perr_at(p, p->line,
				       "expected a DBC token, got '%c'", c);
		return perr_at(p, p->line,
			       "expected a DBC token, got byte 0x%02x outside "
			       "a string",
			       c);
	}
	p->tok.s = b + start;
	p->tok.len = p->pos - start;
	return 0;
}

static char *tok_strdup(const struct tok *t)
{
	return strndup(t->s, t->len);
}

/* String contents with \" and \\ unescaped. */
static char *str_unescape(const struct tok *t)
{
	char *out = malloc(t->len + 1);
	size_t i, n = 0;

	if (!out)
		return NULL;
	for (i = 0; i < t->len; i++) {
		if (t->s[i] == '\\' && i + 1 < t->len &&
		    (t->s[i + 1] == '"' || t->s[i + 1] == '\\'))
			i++;
		out[n++] = t->s[i];
	}
	out[n] = 0;
	return out;
}

static int expect_punct(struct parser *p, char c)
{
	char what[8];

	if (!tok_punct(&p->tok, c)) {
		snprintf(what, sizeof(what), "'%c'", c);
		return perr_expected(p, what);
	}
	return advance(p);
}

static int expect_ident(struct parser *p, const char *what, struct tok *ret)
{
	*ret = p->tok;
	if (p->tok.type != TOK_IDENT)
		return perr_expected(p, what);
	return advance(p);
}

static int expect_string(struct parser *p, const char *what, struct tok *ret)
{
	*ret = p->tok;
	if (p->tok.type != TOK_STR)
		return perr_expected(p, what);
	return advance(p);
}

static bool tok_is_integer(const struct tok *t)
{
	size_t i;

	if (t->type != TOK_NUM)
		return false;
	for (i = 0; i < t->len; i++)
		if (!is_digit((unsigned char)t->s[i]))
			return false;
	return true;
}

static int expect_uint(struct parser *p, const char *what, uint64_t max,
		       uint64_t *ret)
{
	char tmp[32];
	unsigned long long v;

	if (!tok_is_integer(&p->tok) || p->tok.len >= sizeof(tmp))
		return perr_expected(p, what);
	memcpy(tmp, p->tok.s, p->tok.len);
	tmp[p->tok.len] = 0;
	errno = 0;
	v = strtoull(tmp, NULL, 10);
	if (errno || v > max)
		return perr_at(p, p->tok.line,
			       "expected %s (at most %llu), got "
			       "%s",
			       what, (unsigned long long)max, tmp);
	*ret = v;
	return advance(p);
}

/* [+|-] integer */
static int expect_int(struct parser *p, const char *what, int64_t *ret)
{
	bool neg = false;
	uint64_t v;
	int r;

	if (tok_punct(&p->tok, '-') || tok_punct(&p->tok, '+')) {
		neg = p->tok.s[0] == '-';
		r = advance(p);
		if (r < 0)
			return r;
	}
	r = expect_uint(p, what, neg ? (uint64_t)INT64_MAX + 1 : UINT64_MAX,
			&v);
	if (r < 0)
		return r;
	/* two's complement: values above INT64_MAX keep their bit pattern */
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* [+|-] number */
static int expect_double(struct parser *p, const char *what, double *ret)
{
	char tmp[64];
	bool neg = false;
	char *end;
	int r;

	if (tok_punct(&p->tok, '-') || tok_punct(&p->tok, '+')) {
		neg = p->tok.s[0] == '-';
		r = advance(p);
		if (r < 0)
			return r;
	}
	if (p->tok.type != TOK_NUM || p->tok.len >= sizeof(tmp))
		return perr_expected(p, what);
	memcpy(tmp, p->tok.s, p->tok.len);
	tmp[p->tok.len] = 0;
	*ret = strtod_l(tmp, &end, p->c_locale);
	if (*end)
		return perr_expected(p, what);
	if (neg)
		*ret = -*ret;
	return advance(p);
}

static struct dbc_message *find_msg_raw(struct parser *p, uint32_t raw_id)
{
	size_t i;

	/* references usually follow each other for the same message */
	if (p->last_msg && p->last_msg->raw_id == raw_id)
		return p->last_msg;
	for (i = 0; i < p->dbc->n_msgs; i++)
		if (p->dbc->msgs[i].raw_id == raw_id)
			return &p->dbc->msgs[i];
	return NULL;
}

static struct dbc_signal *find_sig(struct dbc_message *m, const char *name,
				   size_t len)
{
	size_t i;

	for (i = 0; i < m->n_sigs; i++)
		if (strlen(m->sigs[i].name) == len &&
		    !memcmp(m->sigs[i].name, name, len))
			return &m->sigs[i];
	return NULL;
}

/* A message ID reference (CM_ BO_, VAL_, BA_ BO_, ...): must exist. */
static int expect_msg_ref(struct parser *p, const char *stmt,
			  struct dbc_message **ret)
{
	unsigned line = p->tok.line;
	uint64_t id;
	int r;

	r = expect_uint(p, "a message ID", UINT32_MAX, &id);
	if (r < 0)
		return r;
	*ret = find_msg_raw(p, (uint32_t)id);
	if (!*ret)
		return perr_at(p, line,
			       "%s: expected the ID of a message defined by "
			       "BO_, got %llu",
			       stmt, (unsigned long long)id);
	p->last_msg = *ret;
	return 0;
}

static int expect_sig_ref(struct parser *p, const char *stmt,
			  struct dbc_message *m, struct dbc_signal **ret)
{
	struct tok t;
	int r;

	r = expect_ident(p, "a signal name", &t);
	if (r < 0)
		return r;
	*ret = find_sig(m, t.s, t.len);
	if (!*ret)
		return perr_at(
			p, t.line,
			"%s: expected a signal of message %s, got '%.*s'", stmt,
			m->name, (int)t.len, t.s);
	return 0;
}

static int values_add(struct dbc_value_list *l, int64_t raw, char *name)
{
	if (!name)
		return -ENOMEM;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct dbc_value *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			free(name);
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct dbc_value){ .raw = raw, .name = name };
	return 0;
}

static void values_free(struct dbc_value_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	*l = (struct dbc_value_list){ 0 };
}

/* (integer "text")* ';' */
static int parse_value_pairs(struct parser *p, struct dbc_value_list *l)
{
	int r;

	while (!tok_punct(&p->tok, ';')) {
		struct tok name;
		int64_t raw;

		r = expect_int(p, "a raw value or ';'", &raw);
		if (r < 0)
			return r;
		r = expect_string(p, "a quoted value description", &name);
		if (r < 0)
			return r;
		if (l) {
			r = values_add(l, raw, str_unescape(&name));
			if (r < 0)
				return r;
		}
	}
	return advance(p);
}

/* Sorts for binary search; a raw value described twice keeps the last. */
static void values_finish(struct dbc_value_list *l)
{
	size_t i, n = 0;

	/* insertion sort: the lists are short and it keeps file order */
	for (i = 1; i < l->n; i++) {
		struct dbc_value v = l->v[i];
		size_t j = i;

		while (j > 0 && l->v[j - 1].raw > v.raw) {
			l->v[j] = l->v[j - 1];
			j--;
		}
		l->v[j] = v;
	}
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

/* Skips a statement we do not use, up to and including its ';'. */
static int skip_statement(struct parser *p, const struct tok *kw)
{
	int r;

	while (!tok_punct(&p->tok, ';')) {
		if (p->tok.type == TOK_EOF ||
		    (p->tok.col0 && tok_is_keyword(&p->tok)))
			return perr_at(p, p->tok.line,
				       "expected ';' to end the %.*s statement "
				       "of line %u",
				       (int)kw->len, kw->s, kw->line);
		r = advance(p);
		if (r < 0)
			return r;
	}
	return advance(p);
}

static int parse_ns(struct parser *p)
{
	int r = expect_punct(p, ':');

	/* the list holds keywords; it ends at the first unindented word */
	while (r == 0 && p->tok.type == TOK_IDENT && !p->tok.col0 &&
	       !tok_is(&p->tok, "BS_"))
		r = advance(p);
	return r;
}

static int parse_bs(struct parser *p)
{
	int r = expect_punct(p, ':');

	/* [baudrate ':' BTR1 ',' BTR2] */
	while (r == 0 && (p->tok.type == TOK_NUM || tok_punct(&p->tok, ':') ||
			  tok_punct(&p->tok, ',')))
		r = advance(p);
	return r;
}

static int parse_bu(struct parser *p)
{
	int r = expect_punct(p, ':');

	while (r == 0 && p->tok.type == TOK_IDENT && !tok_is_keyword(&p->tok))
		r = advance(p);
	return r;
}

static void message_free_contents(struct dbc_message *m);

static int parse_bo(struct parser *p, const struct tok *kw)
{
	struct dbc *dbc = p->dbc;
	struct dbc_message *m, *dup;
	struct tok name, tx = { 0 };
	uint64_t raw_id, size;
	unsigned id_line = p->tok.line;
	bool independent;
	int r;

	r = expect_uint(p, "a message ID", UINT32_MAX, &raw_id);
	if (r < 0)
		return r;
	r = expect_ident(p, "a message name", &name);
	if (r < 0)
		return r;
	r = expect_punct(p, ':');
	if (r < 0)
		return r;
	r = expect_uint(p, "the message size in bytes", DBC_MAX_SIZE, &size);
	if (r < 0)
		return r;
	if (p->tok.type == TOK_IDENT && !tok_is_keyword(&p->tok)) {
		r = expect_ident(p, "the transmitter", &tx);
		if (r < 0)
			return r;
	}

	independent = name.len == strlen(DBC_INDEPENDENT_MSG) &&
		      !memcmp(name.s, DBC_INDEPENDENT_MSG, name.len);
	if (!independent) {
		if (raw_id & DBC_EFF_FLAG) {
			if ((raw_id & ~DBC_EFF_FLAG) > DBC_EFF_MASK)
				return perr_at(
					p, id_line,
					"expected an extended ID of at most 29 "
					"bits (bit 31 set, at most 0x%X), got "
					"%llu (0x%llX) for message %.*s",
					DBC_EFF_FLAG | DBC_EFF_MASK,
					(unsigned long long)raw_id,
					(unsigned long long)raw_id,
					(int)name.len, name.s);
		} else if (raw_id >= DBC_STD_IDS) {
			return perr_at(p, id_line,
				       "expected a standard ID of at most 11 "
				       "bits (0..2047; extended IDs have bit "
				       "31 set), got %llu (0x%llX) for message "
				       "%.*s",
				       (unsigned long long)raw_id,
				       (unsigned long long)raw_id,
				       (int)name.len, name.s);
		}
	}
	dup = find_msg_raw(p, (uint32_t)raw_id);
	if (dup)
		return perr_at(p, id_line,
			       "expected a new message ID, got %llu already "
			       "used by %s on line %u",
			       (unsigned long long)raw_id, dup->name,
			       dup->line);

	if (dbc->n_msgs == dbc->cap_msgs) {
		size_t cap = dbc->cap_msgs ? dbc->cap_msgs * 2 : 64;
		struct dbc_message *v = realloc(dbc->msgs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		dbc->msgs = v;
		dbc->cap_msgs = cap;
	}
	m = &dbc->msgs[dbc->n_msgs];
	*m = (struct dbc_message){
		.raw_id = (uint32_t)raw_id,
		.id = (uint32_t)raw_id &
		      ((raw_id & DBC_EFF_FLAG) ? DBC_EFF_MASK :
						 DBC_STD_IDS - 1),
		.extended = raw_id & DBC_EFF_FLAG,
		.independent = independent,
		.size = (unsigned)size,
		.line = kw->line,
		.name = tok_strdup(&name),
		.transmitter = tx.len ? tok_strdup(&tx) : strdup(""),
	};
	if (!m->name || !m->transmitter) {
		message_free_contents(m);
		return -ENOMEM;
	}
	dbc->n_msgs++;
	p->last_msg = m;
	p->open_msg = m;
	return 0;
}

/* Byte positions, shift and mask, computed once so decoding is cheap. */
static int signal_layout(struct parser *p, const struct dbc_message *m,
			 struct dbc_signal *s)
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
	if (last >= m->size && !m->independent)
		return perr_at(p, s->line,
			       "expected signal %s (start bit %u, %u bits, %s) "
			       "to fit in the %u bytes of message %s, it "
			       "needs %u bytes",
			       s->name, s->start, s->length,
			       s->little_endian ? "Intel" : "Motorola", m->size,
			       m->name, last + 1);
	s->first_byte = (uint8_t)first;
	s->n_bytes = (uint8_t)(last - first + 1);
	s->need_len = (uint8_t)(last + 1);
	s->mask =
		s->length == 64 ? UINT64_MAX : (((uint64_t)1 << s->length) - 1);
	return 0;
}

/* M, mN or mNM */
static int parse_mux_indicator(struct parser *p, struct dbc_signal *s)
{
	const struct tok *t = &p->tok;
	size_t i = 1, end = t->len;
	uint64_t v = 0;

	if (t->len == 1 && t->s[0] == 'M') {
		s->is_multiplexor = true;
		return advance(p);
	}
	if (t->s[0] != 'm' || t->len < 2)
		return perr_expected(p, "a multiplexer indicator (M, mN or "
					"mNM) or ':'");
	if (t->s[end - 1] == 'M') {
		s->is_multiplexor = true;
		end--;
	}
	if (i == end)
		return perr_expected(p, "a multiplexer indicator (M, mN or "
					"mNM) or ':'");
	for (; i < end; i++) {
		if (!is_digit((unsigned char)t->s[i]) || v > INT32_MAX)
			return perr_expected(p, "a multiplexer indicator (M, "
						"mN or mNM) or ':'");
		v = v * 10 + (unsigned)(t->s[i] - '0');
	}
	s->has_mux_value = true;
	s->mux_value = (int64_t)v;
	return advance(p);
}

static void signal_free_contents(struct dbc_signal *s)
{
	free(s->name);
	free(s->unit);
	free(s->comment);
	free(s->long_name);
	free(s->muxer_name);
	free(s->ranges);
	values_free(&s->values);
}

static int parse_sg(struct parser *p, const struct tok *kw)
{
	struct dbc_message *m = p->open_msg;
	struct dbc_signal s = { .line = kw->line };
	struct tok name, unit;
	uint64_t start, length, order;
	int r;

	if (!m)
		return perr_at(p, kw->line,
			       "expected SG_ lines right after their BO_ "
			       "message");
	r = expect_ident(p, "a signal name", &name);
	if (r < 0)
		return r;
	if (find_sig(m, name.s, name.len))
		return perr_at(p, name.line,
			       "expected a new signal name in message %s, got "
			       "'%.*s' twice",
			       m->name, (int)name.len, name.s);
	if (p->tok.type == TOK_IDENT) {
		r = parse_mux_indicator(p, &s);
		if (r < 0)
			return r;
	}
	if ((r = expect_punct(p, ':')) < 0 ||
	    (r = expect_uint(p, "the start bit", 8 * DBC_MAX_SIZE - 1,
			     &start)) < 0 ||
	    (r = expect_punct(p, '|')) < 0 ||
	    (r = expect_uint(p, "the signal length in bits (1..64)", 64,
			     &length)) < 0)
		return r;
	if (length == 0)
		return perr_at(p, name.line,
			       "expected a signal length of 1..64 bits, got 0 "
			       "for %.*s",
			       (int)name.len, name.s);
	if ((r = expect_punct(p, '@')) < 0)
		return r;
	if (p->tok.type != TOK_NUM || p->tok.len != 1 ||
	    (p->tok.s[0] != '0' && p->tok.s[0] != '1'))
		return perr_expected(p, "the byte order @0 (Motorola) or @1 "
					"(Intel)");
	if ((r = expect_uint(p, "the byte order", 1, &order)) < 0)
		return r;
	if (!tok_punct(&p->tok, '+') && !tok_punct(&p->tok, '-'))
		return perr_expected(p, "'+' (unsigned) or '-' (signed)");
	s.is_signed = p->tok.s[0] == '-';
	if ((r = advance(p)) < 0 || (r = expect_punct(p, '(')) < 0 ||
	    (r = expect_double(p, "the factor", &s.factor)) < 0 ||
	    (r = expect_punct(p, ',')) < 0 ||
	    (r = expect_double(p, "the offset", &s.offset)) < 0 ||
	    (r = expect_punct(p, ')')) < 0 || (r = expect_punct(p, '[')) < 0 ||
	    (r = expect_double(p, "the minimum", &s.min)) < 0 ||
	    (r = expect_punct(p, '|')) < 0 ||
	    (r = expect_double(p, "the maximum", &s.max)) < 0 ||
	    (r = expect_punct(p, ']')) < 0 ||
	    (r = expect_string(p, "the quoted unit", &unit)) < 0)
		return r;
	/* receivers: node (',' node)*; some tools separate with blanks */
	while (p->tok.type == TOK_IDENT && !tok_is_keyword(&p->tok) &&
	       !p->tok.col0) {
		r = advance(p);
		if (r == 0 && tok_punct(&p->tok, ','))
			r = advance(p);
		if (r < 0)
			return r;
	}

	s.start = (unsigned)start;
	s.length = (unsigned)length;
	s.little_endian = order == 1;
	s.type = DBC_VALUE_INT;
	s.name = tok_strdup(&name);
	s.unit = str_unescape(&unit);
	if (!s.name || !s.unit) {
		signal_free_contents(&s);
		return -ENOMEM;
	}
	r = signal_layout(p, m, &s);
	if (r < 0) {
		signal_free_contents(&s);
		return r;
	}
	if (m->n_sigs == m->cap_sigs) {
		size_t cap = m->cap_sigs ? m->cap_sigs * 2 : 8;
		struct dbc_signal *v = realloc(m->sigs, cap * sizeof(*v));

		if (!v) {
			signal_free_contents(&s);
			return -ENOMEM;
		}
		m->sigs = v;
		m->cap_sigs = cap;
	}
	m->sigs[m->n_sigs++] = s;
	return 0;
}

static int parse_cm(struct parser *p)
{
	struct dbc_message *m = NULL;
	struct dbc_signal *s = NULL;
	struct tok t;
	char **dst = NULL;
	int r = 0;

	if (tok_is(&p->tok, "BO_")) {
		if ((r = advance(p)) < 0 ||
		    (r = expect_msg_ref(p, "CM_ BO_", &m)) < 0)
			return r;
		dst = &m->comment;
	} else if (tok_is(&p->tok, "SG_")) {
		if ((r = advance(p)) < 0 ||
		    (r = expect_msg_ref(p, "CM_ SG_", &m)) < 0 ||
		    (r = expect_sig_ref(p, "CM_ SG_", m, &s)) < 0)
			return r;
		dst = &s->comment;
	} else if (tok_is(&p->tok, "BU_") || tok_is(&p->tok, "EV_")) {
		if ((r = advance(p)) < 0 ||
		    (r = expect_ident(p, "a node or variable name", &t)) < 0)
			return r;
	}
	if ((r = expect_string(p, "the quoted comment", &t)) < 0)
		return r;
	if (dst) {
		free(*dst);
		*dst = str_unescape(&t);
		if (!*dst)
			return -ENOMEM;
	}
	/* opendbc files (the BMW one) end some CM_ lines without ';' */
	if (!tok_punct(&p->tok, ';') &&
	    (p->tok.type == TOK_EOF ||
	     (p->tok.col0 && tok_is_keyword(&p->tok))))
		return 0;
	return expect_punct(p, ';');
}

static int parse_val_table(struct parser *p)
{
	struct dbc *dbc = p->dbc;
	struct dbc_table *t;
	struct tok name;
	int r;

	r = expect_ident(p, "a value table name", &name);
	if (r < 0)
		return r;
	if (dbc->n_tables == dbc->cap_tables) {
		size_t cap = dbc->cap_tables ? dbc->cap_tables * 2 : 8;
		struct dbc_table *v = realloc(dbc->tables, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		dbc->tables = v;
		dbc->cap_tables = cap;
	}
	t = &dbc->tables[dbc->n_tables];
	*t = (struct dbc_table){ .name = tok_strdup(&name) };
	if (!t->name)
		return -ENOMEM;
	dbc->n_tables++;
	r = parse_value_pairs(p, &t->values);
	values_finish(&t->values);
	return r;
}

static int parse_val(struct parser *p)
{
	struct dbc_message *m;
	struct dbc_signal *s;
	struct tok t;
	int r;

	if (p->tok.type == TOK_IDENT) {
		/* VAL_ of an environment variable: not used */
		if ((r = expect_ident(p, "a variable name", &t)) < 0)
			return r;
		return parse_value_pairs(p, NULL);
	}
	if ((r = expect_msg_ref(p, "VAL_", &m)) < 0 ||
	    (r = expect_sig_ref(p, "VAL_", m, &s)) < 0)
		return r;
	return parse_value_pairs(p, &s->values);
}

static int parse_sig_valtype(struct parser *p)
{
	struct dbc_message *m;
	struct dbc_signal *s;
	unsigned line;
	uint64_t type;
	int r;

	if ((r = expect_msg_ref(p, "SIG_VALTYPE_", &m)) < 0 ||
	    (r = expect_sig_ref(p, "SIG_VALTYPE_", m, &s)) < 0)
		return r;
	if (tok_punct(&p->tok, ':') && (r = advance(p)) < 0)
		return r;
	line = p->tok.line;
	if ((r = expect_uint(p,
			     "the value type 0 (integer), 1 (float) or 2 "
			     "(double)",
			     2, &type)) < 0)
		return r;
	if ((type == 1 && s->length != 32) || (type == 2 && s->length != 64))
		return perr_at(p, line,
			       "expected signal %s to be %u bits long for "
			       "SIG_VALTYPE_ %u, it has %u",
			       s->name, type == 1 ? 32 : 64, (unsigned)type,
			       s->length);
	s->type = type == 1 ? DBC_VALUE_FLOAT32 :
		  type == 2 ? DBC_VALUE_FLOAT64 :
			      DBC_VALUE_INT;
	return expect_punct(p, ';');
}

static int parse_sg_mul_val(struct parser *p)
{
	struct dbc_message *m;
	struct dbc_signal *s;
	struct tok muxer;
	unsigned line = p->tok.line;
	int r;

	if ((r = expect_msg_ref(p, "SG_MUL_VAL_", &m)) < 0 ||
	    (r = expect_sig_ref(p, "SG_MUL_VAL_", m, &s)) < 0 ||
	    (r = expect_ident(p, "the multiplexor signal name", &muxer)) < 0)
		return r;
	if (s->muxer_name)
		return perr_at(p, line,
			       "expected one SG_MUL_VAL_ per signal, got a "
			       "second one for %s (first on line %u)",
			       s->name, s->mux_line);
	s->muxer_name = tok_strdup(&muxer);
	if (!s->muxer_name)
		return -ENOMEM;
	s->mux_line = line;
	for (;;) {
		struct dbc_mux_range *v;
		uint64_t lo, hi;

		if ((r = expect_uint(p, "a multiplexor value range LO-HI",
				     INT64_MAX, &lo)) < 0 ||
		    (r = expect_punct(p, '-')) < 0 ||
		    (r = expect_uint(p, "the upper end of the range LO-HI",
				     INT64_MAX, &hi)) < 0)
			return r;
		if (hi < lo)
			return perr_at(p, p->tok.line,
				       "expected a range LO-HI with LO <= HI, "
				       "got %llu-%llu",
				       (unsigned long long)lo,
				       (unsigned long long)hi);
		v = realloc(s->ranges, (s->n_ranges + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->ranges = v;
		s->ranges[s->n_ranges++] =
			(struct dbc_mux_range){ (int64_t)lo, (int64_t)hi };
		if (!tok_punct(&p->tok, ','))
			break;
		if ((r = advance(p)) < 0)
			return r;
	}
	return expect_punct(p, ';');
}

/* BA_: only the long-name attributes matter to us, the rest is checked. */
static int parse_ba(struct parser *p)
{
	struct dbc_message *m = NULL;
	struct dbc_signal *s = NULL;
	struct tok name, t;
	int r;

	if ((r = expect_string(p, "the quoted attribute name", &name)) < 0)
		return r;
	if (tok_is(&p->tok, "BO_")) {
		if ((r = advance(p)) < 0 ||
		    (r = expect_msg_ref(p, "BA_ BO_", &m)) < 0)
			return r;
	} else if (tok_is(&p->tok, "SG_")) {
		if ((r = advance(p)) < 0 ||
		    (r = expect_msg_ref(p, "BA_ SG_", &m)) < 0 ||
		    (r = expect_sig_ref(p, "BA_ SG_", m, &s)) < 0)
			return r;
	} else if (tok_is(&p->tok, "BU_") || tok_is(&p->tok, "EV_")) {
		if ((r = advance(p)) < 0 ||
		    (r = expect_ident(p, "a node or variable name", &t)) < 0)
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
			*dst = str_unescape(&p->tok);
			if (!*dst)
				return -ENOMEM;
		}
		r = advance(p);
	} else if (p->tok.type == TOK_IDENT) {
		r = advance(p);
	} else {
		double v;

		r = expect_double(p, "the attribute value", &v);
	}
	if (r < 0)
		return r;
	return expect_punct(p, ';');
}

static int parse_statement(struct parser *p)
{
	struct tok kw = p->tok;
	int r;

	if (kw.type != TOK_IDENT || !tok_is_keyword(&kw))
		return perr_expected(p, "a DBC keyword (BO_, SG_, CM_, BA_, "
					"VAL_, ...)");
	r = advance(p);
	if (r < 0)
		return r;
	if (!tok_is(&kw, "SG_"))
		p->open_msg = NULL;
	if (tok_is(&kw, "VERSION")) {
		struct tok v;

		return expect_string(p, "the quoted version", &v);
	}
	if (tok_is(&kw, "NS_"))
		return parse_ns(p);
	if (tok_is(&kw, "BS_"))
		return parse_bs(p);
	if (tok_is(&kw, "BU_"))
		return parse_bu(p);
	if (tok_is(&kw, "BO_"))
		return parse_bo(p, &kw);
	if (tok_is(&kw, "SG_"))
		return parse_sg(p, &kw);
	if (tok_is(&kw, "CM_"))
		return parse_cm(p);
	if (tok_is(&kw, "VAL_TABLE_"))
		return parse_val_table(p);
	if (tok_is(&kw, "VAL_"))
		return parse_val(p);
	if (tok_is(&kw, "SIG_VALTYPE_"))
		return parse_sig_valtype(p);
	if (tok_is(&kw, "SG_MUL_VAL_"))
		return parse_sg_mul_val(p);
	if (tok_is(&kw, "BA_"))
		return parse_ba(p);
	/* attribute definitions, relations, groups, environment: unused */
	return skip_statement(p, &kw);
}

/* Links each multiplexed signal to its multiplexor, checks the tree. */
static int resolve_mux(struct parser *p, struct dbc_message *m)
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
			return perr_at(p, s->line,
				       "expected multiplexor %s to be an "
				       "integer signal, it is a float",
				       s->name);
	}
	for (i = 0; i < m->n_sigs; i++) {
		struct dbc_signal *s = &m->sigs[i];
		struct dbc_mux_range *r;

		if (s->muxer_name) {
			struct dbc_signal *mux = find_sig(
				m, s->muxer_name, strlen(s->muxer_name));

			if (!mux || mux == s)
				return perr_at(p, s->mux_line,
					       "SG_MUL_VAL_: expected a "
					       "multiplexor of message %s for "
					       "%s, got '%s'",
					       m->name, s->name, s->muxer_name);
			if (!mux->is_multiplexor)
				return perr_at(p, s->mux_line,
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
			return perr_at(p, s->line,
				       "expected exactly one multiplexor (M) "
				       "in message %s for signal %s (m%lld) "
				       "without SG_MUL_VAL_, got %zu",
				       m->name, s->name,
				       (long long)s->mux_value, n_top);
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
				return perr_at(p, m->sigs[i].line,
					       "expected the multiplexors of "
					       "message %s to form a tree, %s "
					       "is in a cycle",
					       m->name, m->sigs[i].name);
		}
	}
	return 0;
}

static int ext_insert(struct dbc *dbc, uint32_t id, size_t idx)
{
	size_t h = (id * 2654435761u) & dbc->ext_mask;

	while (dbc->ext[h].idx1)
		h = (h + 1) & dbc->ext_mask;
	dbc->ext[h] =
		(struct dbc_ext_slot){ .id = id, .idx1 = (uint32_t)idx + 1 };
	return 0;
}

static int finish(struct parser *p)
{
	struct dbc *dbc = p->dbc;
	size_t i, j, n = 0, n_ext = 0, cap;
	int r;

	for (i = 0; i < dbc->n_msgs; i++) {
		struct dbc_message *m = &dbc->msgs[i];

		if (m->independent) {
			message_free_contents(m);
			continue;
		}
		r = resolve_mux(p, m);
		if (r < 0)
			return r;
		for (j = 0; j < m->n_sigs; j++)
			values_finish(&m->sigs[j].values);
		dbc->msgs[n++] = *m;
	}
	dbc->n_msgs = n;

	/* long names (BA_ System*LongSymbol) replace the short ones */
	for (i = 0; i < dbc->n_msgs; i++) {
		struct dbc_message *m = &dbc->msgs[i];

		for (j = 0; j < m->n_sigs; j++) {
			struct dbc_signal *s = &m->sigs[j];

			if (s->long_name) {
				free(s->name);
				s->name = s->long_name;
				s->long_name = NULL;
			}
		}
		if (m->long_name) {
			free(m->name);
			m->name = m->long_name;
			m->long_name = NULL;
		}
		if (m->extended)
			n_ext++;
		else
			dbc->std_idx1[m->id] = (uint32_t)i + 1;
	}
	for (cap = 8; cap < 2 * n_ext; cap *= 2)
		;
	dbc->ext = calloc(cap, sizeof(*dbc->ext));
	if (!dbc->ext)
		return -ENOMEM;
	dbc->ext_mask = cap - 1;
	for (i = 0; i < dbc->n_msgs; i++)
		if (dbc->msgs[i].extended)
			ext_insert(dbc, dbc->msgs[i].id, i);
	return 0;
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
	struct parser p = {
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
	r = advance(&p);
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

static void message_free_contents(struct dbc_message *m)
{
	size_t i;

	for (i = 0; i < m->n_sigs; i++)
		signal_free_contents(&m->sigs[i]);
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
		message_free_contents(&dbc->msgs[i]);
	for (i = 0; i < dbc->n_tables; i++) {
		free(dbc->tables[i].name);
		values_free(&dbc->tables[i].values);
	}
	free(dbc->tables);
	free(dbc->msgs);
	free(dbc->ext);
	free(dbc);
}

size_t dbc_n_messages(const struct dbc *dbc)
{
	return dbc->n_msgs;
}

const struct dbc_message *dbc_message_at(const struct dbc *dbc, size_t i)
{
	return i < dbc->n_msgs ? &dbc->msgs[i] : NULL;
}

const struct dbc_message *dbc_find_message(const struct dbc *dbc, uint32_t id,
					   bool extended)
{
	size_t h;

	if (!extended)
		return id < DBC_STD_IDS && dbc->std_idx1[id] ?
			       &dbc->msgs[dbc->std_idx1[id] - 1] :
			       NULL;
	h = (id * 2654435761u) & dbc->ext_mask;
	while (dbc->ext[h].idx1) {
		if (dbc->ext[h].id == id)
			return &dbc->msgs[dbc->ext[h].idx1 - 1];
		h = (h + 1) & dbc->ext_mask;
	}
	return NULL;
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

unsigned dbc_message_size(const struct dbc_message *m)
{
	return m->size;
}

const char *dbc_message_transmitter(const struct dbc_message *m)
{
	return m->transmitter;
}

const char *dbc_message_comment(const struct dbc_message *m)
{
	return m->comment;
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

const char *dbc_signal_unit(const struct dbc_signal *s)
{
	return s->unit;
}

const char *dbc_signal_comment(const struct dbc_signal *s)
{
	return s->comment;
}

unsigned dbc_signal_start_bit(const struct dbc_signal *s)
{
	return s->start;
}

unsigned dbc_signal_length(const struct dbc_signal *s)
{
	return s->length;
}

bool dbc_signal_little_endian(const struct dbc_signal *s)
{
	return s->little_endian;
}

bool dbc_signal_signed(const struct dbc_signal *s)
{
	return s->is_signed;
}

enum dbc_value_type dbc_signal_value_type(const struct dbc_signal *s)
{
	return s->type;
}

double dbc_signal_factor(const struct dbc_signal *s)
{
	return s->factor;
}

double dbc_signal_offset(const struct dbc_signal *s)
{
	return s->offset;
}

double dbc_signal_minimum(const struct dbc_signal *s)
{
	return s->min;
}

double dbc_signal_maximum(const struct dbc_signal *s)
{
	return s->max;
}

bool dbc_signal_is_multiplexor(const struct dbc_signal *s)
{
	return s->is_multiplexor;
}

const struct dbc_signal *dbc_signal_multiplexer(const struct dbc_signal *s)
{
	return s->parent;
}

size_t dbc_signal_n_mux_ranges(const struct dbc_signal *s)
{
	return s->parent ? s->n_ranges : 0;
}

int dbc_signal_mux_range_at(const struct dbc_signal *s, size_t i,
			    int64_t *ret_lo, int64_t *ret_hi)
{
	if (!s->parent || i >= s->n_ranges)
		return -ENOENT;
	*ret_lo = s->ranges[i].lo;
	*ret_hi = s->ranges[i].hi;
	return 0;
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

int dbc_signal_decode_raw(const struct dbc_message *m,
			  const struct dbc_signal *s, const uint8_t *data,
			  size_t len, int64_t *ret_raw)
{
	int r;

	(void)m;
	if (len < s->need_len)
		return -EMSGSIZE;
	if (s->parent) {
		r = mux_check(s, data, len);
		if (r < 0)
			return r;
	}
	*ret_raw = raw_value(s, extract(s, data));
	return 0;
}

int dbc_signal_decode(const struct dbc_message *m, const struct dbc_signal *s,
		      const uint8_t *data, size_t len, double *ret_value)
{
	uint64_t bits;
	double v;
	int r;

	(void)m;
	if (len < s->need_len)
		return -EMSGSIZE;
	if (s->parent) {
		r = mux_check(s, data, len);
		if (r < 0)
			return r;
	}
	bits = extract(s, data);
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
		ret_present[i] = dbc_signal_decode(m, &m->sigs[i], data, len,
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
