/* dbc_lex.c: DBC tokens, token expectations and FILE:LINE errors */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbc_lex.h"

bool dbc_lex_is(const struct tok *t, const char *word)
{
	size_t n = strlen(word);

	return t->type == TOK_IDENT && t->len == n && !memcmp(t->s, word, n);
}

bool dbc_lex_is_punct(const struct tok *t, char c)
{
	return t->type == TOK_PUNCT && t->s[0] == c;
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

int dbc_lex_error(struct dbc_parser *p, unsigned line, const char *fmt, ...)
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

int dbc_lex_expected(struct dbc_parser *p, const char *what)
{
	char got[64];

	tok_describe(&p->tok, got, sizeof(got));
	return dbc_lex_error(p, p->tok.line, "expected %s, got %s", what, got);
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

int dbc_lex_advance(struct dbc_parser *p)
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
			return dbc_lex_error(
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
			return dbc_lex_error(
				p, first_line,
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
			return dbc_lex_error(p, p->line,
					     "expected a DBC token, got '%c'",
					     c);
		return dbc_lex_error(
			p, p->line,
			"expected a DBC token, got byte 0x%02x outside "
			"a string",
			c);
	}
	p->tok.s = b + start;
	p->tok.len = p->pos - start;
	return 0;
}

char *dbc_lex_unescape(const struct tok *t)
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

int dbc_lex_punct(struct dbc_parser *p, char c)
{
	char what[8];

	if (!dbc_lex_is_punct(&p->tok, c)) {
		snprintf(what, sizeof(what), "'%c'", c);
		return dbc_lex_expected(p, what);
	}
	return dbc_lex_advance(p);
}

int dbc_lex_ident(struct dbc_parser *p, const char *what, struct tok *ret)
{
	*ret = p->tok;
	if (p->tok.type != TOK_IDENT)
		return dbc_lex_expected(p, what);
	return dbc_lex_advance(p);
}

int dbc_lex_string(struct dbc_parser *p, const char *what, struct tok *ret)
{
	*ret = p->tok;
	if (p->tok.type != TOK_STR)
		return dbc_lex_expected(p, what);
	return dbc_lex_advance(p);
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

int dbc_lex_uint(struct dbc_parser *p, const char *what, uint64_t max,
		 uint64_t *ret)
{
	char tmp[32];
	unsigned long long v;

	if (!tok_is_integer(&p->tok) || p->tok.len >= sizeof(tmp))
		return dbc_lex_expected(p, what);
	memcpy(tmp, p->tok.s, p->tok.len);
	tmp[p->tok.len] = 0;
	errno = 0;
	v = strtoull(tmp, NULL, 10);
	if (errno || v > max)
		return dbc_lex_error(p, p->tok.line,
				     "expected %s (at most %llu), got "
				     "%s",
				     what, (unsigned long long)max, tmp);
	*ret = v;
	return dbc_lex_advance(p);
}

/* an optional '+' or '-' before a number */
static int take_sign(struct dbc_parser *p, bool *ret_neg)
{
	*ret_neg = dbc_lex_is_punct(&p->tok, '-');
	if (*ret_neg || dbc_lex_is_punct(&p->tok, '+'))
		return dbc_lex_advance(p);
	return 0;
}

int dbc_lex_int(struct dbc_parser *p, const char *what, int64_t *ret)
{
	bool neg = false;
	uint64_t v;
	int r;

	r = take_sign(p, &neg);
	if (r < 0)
		return r;
	r = dbc_lex_uint(p, what, neg ? (uint64_t)INT64_MAX + 1 : UINT64_MAX,
			 &v);
	if (r < 0)
		return r;
	/* two's complement: values above INT64_MAX keep their bit pattern */
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int dbc_lex_double(struct dbc_parser *p, const char *what, double *ret)
{
	char tmp[64];
	bool neg = false;
	char *end;
	int r;

	r = take_sign(p, &neg);
	if (r < 0)
		return r;
	if (p->tok.type != TOK_NUM || p->tok.len >= sizeof(tmp))
		return dbc_lex_expected(p, what);
	memcpy(tmp, p->tok.s, p->tok.len);
	tmp[p->tok.len] = 0;
	*ret = strtod_l(tmp, &end, p->c_locale);
	if (*end)
		return dbc_lex_expected(p, what);
	if (neg)
		*ret = -*ret;
	return dbc_lex_advance(p);
}
