/* conf.h: one grammar for every INI file of dtcd: values, key tables, errors */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ini_lines.h"

/*
 * Every configuration file of dtcd (dtcd.conf, profiles, dtc.ini, the
 * workshop actions, simulator scenarios) is read the same way, so the same
 * mistake gives the same message everywhere:
 *
 *	FILE:LINE: KEY: expected WHAT, got 'VALUE'
 *
 * A reader keeps a struct conf_file in its parse context, describes its keys
 * in a table and lets conf_apply() do the rest:
 *
 *	struct thing {
 *		unsigned tick_ms;
 *		bool json;
 *		char *name;
 *	};
 *
 *	static const struct conf_key thing_keys[] = {
 *		{ "tick_ms", CONF_UNSIGNED, CONF_FIELD(struct thing, tick_ms),
 *		  .min = 10, .max = 10000 },
 *		{ "json", CONF_BOOL, CONF_FIELD(struct thing, json) },
 *		{ "name", CONF_STRING, CONF_FIELD(struct thing, name),
 *		  .min = 1 },
 *		{ NULL }
 *	};
 *
 *	struct ctx {
 *		struct conf_file f; // anywhere in the context
 *		struct thing *t;
 *	};
 *
 *	static int on_key(void *user, const char *section, const char *name,
 *			  const char *value)
 *	{
 *		struct ctx *x = user;
 *
 *		if (!strcmp(section, "thing"))
 *			conf_apply(&x->f, section, thing_keys, x->t, name,
 *				   value);
 *		else
 *			conf_unknown_section(&x->f, section, "thing");
 *		return 1; // always: the errors are in x->f
 *	}
 *
 *	r = conf_parse(&x.f, path, on_key, &x);
 *	if (r < 0)
 *		fprintf(stderr, "%s\n", x.f.err); // FILE:LINE: ...
 *
 * conf_parse() turns what inih itself rejects (a line that is no INI, a line
 * too long, a file that cannot be read) into the same kind of message. The
 * first error is kept in f.err (it is the one to fix); set f.on_error before
 * conf_parse() to hear of every error (the simulator lists them all).
 *
 * A key the table cannot express (several words, cross-checks) is parsed by
 * the handler with the conf_parse_*() functions below and reported with
 * conf_bad_value(), which words the message as conf_apply() does.
 */

enum conf_kind {
	CONF_BOOL,     /* bool: yes/no, true/false, on/off, 1/0 (any case) */
	CONF_UNSIGNED, /* unsigned integer of .size bytes: 42 or 0x2A */
	CONF_SIGNED,   /* signed integer of .size bytes: -40 */
	CONF_DOUBLE,   /* double; CONF_WHOLE: no fraction */
	CONF_HEX,      /* unsigned integer of .size bytes in hex: 7E8, 0x7E8 */
	CONF_ENUM,     /* an int-sized enum: the index of the name in .names */
	CONF_STRING,   /* char *: strdup'ed, the old value freed */
	CONF_CHARS,    /* char[.size]: at most .size - 1 characters */
	CONF_PATH,     /* char *: a path, not empty */
	CONF_DURATION, /* int64_t ns: 250ms, 5s, 2min, 1h; a plain number in
			  .unit_ns */
	CONF_CUSTOM,   /* .parse(value, field) says; .expect says what */
};

/* .flags */
enum {
	CONF_WHOLE = 1 << 0, /* CONF_DOUBLE: a whole number */
};

#define CONF_NS_PER_MS INT64_C(1000000)
#define CONF_NS_PER_S INT64_C(1000000000)

/* .offset and .size of a field of the struct conf_apply() writes to */
#define CONF_FIELD(type, field) \
	.offset = offsetof(type, field), .size = sizeof(((type *)0)->field)

struct conf_key {
	const char *key;
	enum conf_kind kind;
	size_t offset; /* of the field in the struct handed to conf_apply */
	size_t size;   /* of the field (integers: 1, 2, 4 or 8 bytes) */
	/*
	 * Numbers and durations: the accepted range, in the key's unit
	 * (durations: in .unit_ns). CONF_STRING, CONF_CHARS: the length range
	 * (max 0: no limit but the field's). Both 0 for an integer: the
	 * field's whole range.
	 */
	double min, max;
	/* CONF_ENUM: the names, NULL-terminated; CONF_STRING: the only
	 * values accepted, if not NULL */
	const char *const *names;
	int64_t unit_ns; /* CONF_DURATION: what a plain number counts */
	unsigned flags;
	/* CONF_CUSTOM: 0 or -EINVAL; and what the error says is expected */
	int (*parse)(const char *value, void *field);
	const char *expect;
};

/* The sections of a file with their key tables, ending with { NULL } */
struct conf_section {
	const char *name;
	const struct conf_key *keys;
};

/* The keys of section name, NULL for a section not in the table */
const struct conf_key *conf_section_keys(const struct conf_section *sections,
					 const char *name);

/* A file being read, and its first error */
struct conf_file {
	const char *path;
	struct ini_lines ini; /* .line: the line now; .section_line */
	int err_line;	      /* of the first error, 0: none, or the file */
	unsigned n_errors;
	char err[512]; /* "FILE:LINE: what" of the first error */
	/* optional, set before conf_parse(): every error, as it is found */
	void (*on_error)(void *ud, const char *path, unsigned line,
			 const char *what);
	void *ud;
};

/*
 * Reads path with the inih handler (which returns 1 and records its errors
 * in f). Returns 0, -errno when the file cannot be read ("FILE: why"),
 * -EINVAL when any line was rejected. Keeps f->on_error and f->ud.
 */
int conf_parse(struct conf_file *f, const char *path,
	       int (*handler)(void *user, const char *section, const char *name,
			      const char *value),
	       void *user);

/*
 * Prepares f for errors without parsing (for keys read earlier and applied
 * later, such as dtcd.conf's [detector.NAME] keys); set f->ini.line to the
 * key's line before conf_apply().
 */
void conf_file_init(struct conf_file *f, const char *path);

/*
 * Applies name = value from the table of section (NULL-terminated) to the
 * struct at base. Returns the key's index in the table, -ENOENT for a key
 * not in it ("unknown key 'x' in [section] (expected a, b, c)"), -EINVAL
 * (or -ENOMEM) for a bad value ("KEY: expected WHAT, got 'VALUE'"); the
 * error is recorded in f at f->ini.line.
 */
int conf_apply(struct conf_file *f, const char *section,
	       const struct conf_key *table, void *base, const char *name,
	       const char *value);
/* The key of that name, or NULL */
const struct conf_key *conf_key_find(const struct conf_key *table,
				     const char *name);

/* Errors; each returns -EINVAL so a handler can `return conf_fail(...)`. */
int conf_fail(struct conf_file *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int conf_fail_at(struct conf_file *f, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "KEY: expected EXPECT, got 'VALUE'" at the current line */
int conf_bad_value(struct conf_file *f, const char *key, const char *expect,
		   const char *value);
/* "unknown section [S] (expected EXPECTED)" at the section's line */
int conf_unknown_section(struct conf_file *f, const char *section,
			 const char *expected);
static inline bool conf_failed(const struct conf_file *f)
{
	return f->n_errors > 0;
}

/* What a key accepts, as the error says it: "a whole number 10..10000" */
void conf_key_expect(const struct conf_key *k, char *buf, size_t len);

/*
 * The value kinds. Each returns 0 and sets *ret_*, or -EINVAL (not of the
 * kind) or -ERANGE (outside [min, max]); *ret_* is untouched on error.
 */
int conf_parse_bool(const char *s, bool *ret_b);
/* decimal, or hex after 0x */
int conf_parse_unsigned(const char *s, uint64_t min, uint64_t max,
			uint64_t *ret_u);
int conf_parse_signed(const char *s, int64_t min, int64_t max, int64_t *ret_i);
int conf_parse_double(const char *s, double min, double max, double *ret_d);
/* hex digits, 0x allowed */
int conf_parse_hex(const char *s, uint64_t max, uint64_t *ret_u);
/* the index of s in names (NULL-terminated) */
int conf_parse_enum(const char *s, const char *const *names, int *ret_index);
/* "a, b or c" */
void conf_names_join(const char *const *names, char *buf, size_t len);
/*
 * A number with an optional unit ms, s, min or h; a plain number counts
 * unit_ns. The result in ns, in [min_ns, max_ns].
 */
int conf_parse_duration(const char *s, int64_t unit_ns, int64_t min_ns,
			int64_t max_ns, int64_t *ret_ns);
