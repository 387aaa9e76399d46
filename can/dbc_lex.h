/* dbc_lex.h: DBC tokens and the FILE:LINE errors of the DBC parser */
#pragma once

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

struct dbc_parser {
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
	struct dbc_message *open_msg; /* the BO_ that following SG_ belong to */
};

/* Reads the next token into p->tok: 0 or -EINVAL (error written). */
int dbc_lex_advance(struct dbc_parser *p);
/* Writes "PATH:LINE: " and the text (only the first error); -EINVAL. */
int dbc_lex_error(struct dbc_parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "expected WHAT, got TOKEN" at the lookahead token; -EINVAL */
int dbc_lex_expected(struct dbc_parser *p, const char *what);

bool dbc_lex_is(const struct tok *t, const char *word);
bool dbc_lex_is_punct(const struct tok *t, char c);
/* String contents with \" and \\ unescaped, or NULL (no memory). */
char *dbc_lex_unescape(const struct tok *t);

/*
 * Each checks the lookahead token, stores it and reads the next one: 0, or
 * -EINVAL with "expected WHAT, got ..." written.
 */
int dbc_lex_punct(struct dbc_parser *p, char c);
int dbc_lex_ident(struct dbc_parser *p, const char *what, struct tok *ret);
int dbc_lex_string(struct dbc_parser *p, const char *what, struct tok *ret);
/* a decimal integer of at most max */
int dbc_lex_uint(struct dbc_parser *p, const char *what, uint64_t max,
		 uint64_t *ret);
/* [+|-] integer; values above INT64_MAX keep their bit pattern */
int dbc_lex_int(struct dbc_parser *p, const char *what, int64_t *ret);
/* [+|-] number, in the C locale */
int dbc_lex_double(struct dbc_parser *p, const char *what, double *ret);
