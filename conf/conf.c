/* conf.c: value kinds, key tables and the one FILE:LINE error path */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

/* a value quoted in an error is cut here: the line is in the file */
#define QUOTE_MAX 60

/* ---- the value kinds ---- */

/*
 * Blanks around a value do not count (inih strips them from a file; a
 * caller of the parsers may not have): the value without them into buf.
 */
static const char *trim(const char *s, char *buf, size_t len)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= len)
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

#define TRIM(s)                                               \
	char trim_buf_[64];                                   \
	if (!((s) = trim((s), trim_buf_, sizeof(trim_buf_)))) \
	return -EINVAL

int conf_parse_bool(const char *s, bool *ret_b)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	TRIM(s);

	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret_b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret_b = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_u64(const char *s, int base, uint64_t *ret_u)
{
	unsigned long long v;
	char *end;

	/* strtoull takes "-1" as ULLONG_MAX and skips blanks: we do not */
	if (!*s || *s == '-' || *s == '+' || *s == ' ' || *s == '\t')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (end == s || *end)
		return -EINVAL;
	if (errno)
		return -ERANGE;
	*ret_u = v;
	return 0;
}

int conf_parse_unsigned(const char *s, uint64_t min, uint64_t max,
			uint64_t *ret_u)
{
	uint64_t v;
	int r;
	TRIM(s);

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		r = parse_u64(s + 2, 16, &v);
	else
		r = parse_u64(s, 10, &v);
	if (r < 0)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*ret_u = v;
	return 0;
}

int conf_parse_signed(const char *s, int64_t min, int64_t max, int64_t *ret_i)
{
	long long v;
	char *end;
	TRIM(s);

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end)
		return -EINVAL;
	if (errno || v < min || v > max)
		return -ERANGE;
	*ret_i = v;
	return 0;
}

int conf_parse_double(const char *s, double min, double max, double *ret_d)
{
	char *end;
	double v;
	TRIM(s);

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	/* no "nan", "inf" or hex floats: a person writes decimal numbers */
	if (end == s || *end || !isfinite(v) || strpbrk(s, "xXnN"))
		return -EINVAL;
	if (errno || v < min || v > max)
		return -ERANGE;
	*ret_d = v;
	return 0;
}

int conf_parse_hex(const char *s, uint64_t max, uint64_t *ret_u)
{
	uint64_t v;
	int r;
	TRIM(s);

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	r = parse_u64(s, 16, &v);
	if (r < 0)
		return r;
	if (v > max)
		return -ERANGE;
	*ret_u = v;
	return 0;
}

int conf_parse_enum(const char *s, const char *const *names, int *ret_index)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0) {
			*ret_index = i;
			return 0;
		}
	return -EINVAL;
}

void conf_names_join(const char *const *names, char *buf, size_t len)
{
	size_t n = 0, used = 0;

	while (names[n])
		n++;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(buf + used, len - used, "%s%s", sep, names[i]);

		if (w < 0)
			return;
		used += (size_t)w;
	}
}

int conf_parse_duration(const char *s, int64_t unit_ns, int64_t min_ns,
			int64_t max_ns, int64_t *ret_ns)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {
		{ "ms", CONF_NS_PER_MS },
		{ "s", CONF_NS_PER_S },
		{ "min", 60 * CONF_NS_PER_S },
		{ "h", 3600 * CONF_NS_PER_S },
	};
	int64_t unit = unit_ns;
	char *end;
	double v, ns;
	size_t i;
	TRIM(s);

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || errno)
		return -EINVAL;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end) {
		for (i = 0; i < sizeof(units) / sizeof(*units); i++)
			if (strcmp(end, units[i].name) == 0)
				break;
		if (i == sizeof(units) / sizeof(*units))
			return -EINVAL;
		unit = units[i].ns;
	}
	ns = round(v * (double)unit);
	if (ns < (double)min_ns || ns > (double)max_ns)
		return -ERANGE;
	*ret_ns = (int64_t)ns;
	return 0;
}

/* ---- errors ---- */

/* first: this error is the one to fix even if another came before */
static void record(struct conf_file *f, int line, const char *what, bool first)
{
	f->n_errors++;
	if (f->on_error)
		f->on_error(f->ud, f->path, line > 0 ? (unsigned)line : 0,
			    what);
	if (f->n_errors > 1 && !first)
		return; /* the first error is the one to fix */
	f->err_line = line;
	if (line > 0)
		snprintf(f->err, sizeof(f->err), "%s:%d: %s", f->path, line,
			 what);
	else
		snprintf(f->err, sizeof(f->err), "%s: %s", f->path, what);
}

static int vfail(struct conf_file *f, int line, const char *fmt, va_list ap)
{
	char what[sizeof(f->err)];

	vsnprintf(what, sizeof(what), fmt, ap);
	record(f, line, what, false);
	return -EINVAL;
}

int conf_fail_at(struct conf_file *f, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(f, line, fmt, ap);
	va_end(ap);
	return r;
}

int conf_fail(struct conf_file *f, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(f, f->ini.line, fmt, ap);
	va_end(ap);
	return r;
}

int conf_bad_value(struct conf_file *f, const char *key, const char *expect,
		   const char *value)
{
	size_t n = strlen(value);

	return conf_fail(f, "%s: expected %s, got '%.*s%s'", key, expect,
			 QUOTE_MAX, value, n > QUOTE_MAX ? "..." : "");
}

int conf_unknown_section(struct conf_file *f, const char *section,
			 const char *expected)
{
	return conf_fail_at(f, f->ini.section_line,
			    "unknown section [%s] (expected %s)", section,
			    expected);
}

/* ---- the key table ---- */

const struct conf_key *conf_key_find(const struct conf_key *table,
				     const char *name)
{
	for (; table && table->key; table++)
		if (strcmp(table->key, name) == 0)
			return table;
	return NULL;
}

const struct conf_key *conf_section_keys(const struct conf_section *sections,
					 const char *name)
{
	for (; sections && sections->name; sections++)
		if (strcmp(sections->name, name) == 0)
			return sections->keys;
	return NULL;
}

/* the integer range of a key: its own, or the field's whole range */
static void int_range(const struct conf_key *k, bool is_signed, double *min,
		      double *max)
{
	unsigned bits = (unsigned)k->size * 8;

	*min = k->min;
	*max = k->max;
	if (k->min != 0 || k->max != 0)
		return;
	if (is_signed) {
		*min = -ldexp(1, (int)bits - 1);
		*max = ldexp(1, (int)bits - 1) - 1;
	} else {
		*max = ldexp(1, (int)bits) - 1;
	}
}

static uint64_t to_u64(double d)
{
	return d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
}

static int64_t to_i64(double d)
{
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	return d <= -9223372036854775808.0 ? INT64_MIN : (int64_t)d;
}

static void unit_name(int64_t unit_ns, char *buf, size_t len)
{
	snprintf(buf, len, "%s",
		 unit_ns == CONF_NS_PER_MS	 ? "ms" :
		 unit_ns == CONF_NS_PER_S	 ? "s" :
		 unit_ns == 60 * CONF_NS_PER_S	 ? "min" :
		 unit_ns == 3600 * CONF_NS_PER_S ? "h" :
						   "ns");
}

void conf_key_expect(const struct conf_key *k, char *buf, size_t len)
{
	char unit[8];
	double min, max;

	switch (k->kind) {
	case CONF_BOOL:
		snprintf(buf, len, "yes or no");
		return;
	case CONF_UNSIGNED:
	case CONF_SIGNED:
		int_range(k, k->kind == CONF_SIGNED, &min, &max);
		snprintf(buf, len, "a whole number %.0f..%.0f", min, max);
		return;
	case CONF_DOUBLE:
		snprintf(buf, len, "%s %.15g..%.15g",
			 k->flags & CONF_WHOLE ? "a whole number" : "a number",
			 k->min, k->max);
		return;
	case CONF_HEX:
		int_range(k, false, &min, &max);
		snprintf(buf, len, "a hex number 0..%llX",
			 (unsigned long long)to_u64(max));
		return;
	case CONF_ENUM:
		conf_names_join(k->names, buf, len);
		return;
	case CONF_STRING:
	case CONF_CHARS:
		if (k->names) {
			conf_names_join(k->names, buf, len);
			return;
		}
		max = k->kind == CONF_CHARS &&
				      (k->max == 0 || k->max >= k->size) ?
			      (double)k->size - 1 :
			      k->max;
		if (max > 0 && k->min == max)
			snprintf(buf, len, "%.0f characters", max);
		else if (max > 0 && k->min > 0)
			snprintf(buf, len, "%.0f to %.0f characters", k->min,
				 max);
		else if (max > 0)
			snprintf(buf, len, "at most %.0f characters", max);
		else
			snprintf(buf, len, "a value");
		return;
	case CONF_PATH:
		snprintf(buf, len, "a path");
		return;
	case CONF_DURATION:
		unit_name(k->unit_ns, unit, sizeof(unit));
		snprintf(buf, len,
			 "a duration %.15g..%.15g %s (250ms, 5s, 2min, 1h; a "
			 "plain "
			 "number counts %s)",
			 k->min, k->max, unit, unit);
		return;
	case CONF_CUSTOM:
		snprintf(buf, len, "%s", k->expect ? k->expect : "a value");
		return;
	}
	snprintf(buf, len, "a value");
}

static void store_u64(void *field, size_t size, uint64_t v)
{
	switch (size) {
	case 1:
		*(uint8_t *)field = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)field = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)field = (uint32_t)v;
		break;
	default:
		*(uint64_t *)field = v;
		break;
	}
}

static int store_string(const struct conf_key *k, void *field,
			const char *value)
{
	size_t n = strlen(value);
	double max = k->max;
	int i;
	char *s;

	if (k->names && conf_parse_enum(value, k->names, &i) < 0)
		return -EINVAL;
	if (k->kind == CONF_CHARS && (max == 0 || max >= k->size))
		max = (double)k->size - 1;
	if (n < k->min || (max > 0 && n > max))
		return -EINVAL;
	if (k->kind == CONF_CHARS) {
		memcpy(field, value, n + 1);
		return 0;
	}
	s = strdup(value);
	if (!s)
		return -ENOMEM;
	free(*(char **)field);
	*(char **)field = s;
	return 0;
}

/* parses value as key k into field; 0, -EINVAL, -ERANGE or -ENOMEM */
static int apply_value(const struct conf_key *k, void *field, const char *value)
{
	double min, max, d;
	uint64_t u;
	int64_t i;
	bool b;
	int e, r;

	switch (k->kind) {
	case CONF_BOOL:
		r = conf_parse_bool(value, &b);
		if (r == 0)
			*(bool *)field = b;
		return r;
	case CONF_UNSIGNED:
	case CONF_HEX:
		int_range(k, false, &min, &max);
		r = k->kind == CONF_HEX ?
			    conf_parse_hex(value, to_u64(max), &u) :
			    conf_parse_unsigned(value, to_u64(min), to_u64(max),
						&u);
		if (r == 0 && u < to_u64(min))
			r = -ERANGE;
		if (r == 0)
			store_u64(field, k->size, u);
		return r;
	case CONF_SIGNED:
		int_range(k, true, &min, &max);
		r = conf_parse_signed(value, to_i64(min), to_i64(max), &i);
		if (r == 0)
			store_u64(field, k->size, (uint64_t)i);
		return r;
	case CONF_DOUBLE:
		r = conf_parse_double(value, k->min, k->max, &d);
		if (r == 0 && (k->flags & CONF_WHOLE) && d != floor(d))
			r = -EINVAL;
		if (r == 0)
			*(double *)field = d;
		return r;
	case CONF_ENUM:
		r = conf_parse_enum(value, k->names, &e);
		if (r == 0)
			store_u64(field, k->size, (uint64_t)e);
		return r;
	case CONF_STRING:
	case CONF_CHARS:
		return store_string(k, field, value);
	case CONF_PATH:
		if (!*value)
			return -EINVAL;
		return store_string(k, field, value);
	case CONF_DURATION:
		r = conf_parse_duration(
			value, k->unit_ns, to_i64(k->min * (double)k->unit_ns),
			to_i64(k->max * (double)k->unit_ns), &i);
		if (r == 0)
			*(int64_t *)field = i;
		return r;
	case CONF_CUSTOM:
		return k->parse(value, field);
	}
	return -EINVAL;
}

int conf_apply(struct conf_file *f, const char *section,
	       const struct conf_key *table, void *base, const char *name,
	       const char *value)
{
	const struct conf_key *k = conf_key_find(table, name);
	char expect[256];
	int r;

	if (!k) {
		const char *keys[128];
		size_t n = 0;

		for (const struct conf_key *t = table;
		     t && t->key && n + 1 < sizeof(keys) / sizeof(*keys); t++)
			keys[n++] = t->key;
		keys[n] = NULL;
		conf_names_join(keys, expect, sizeof(expect));
		conf_fail(f, "unknown key '%s' in [%s] (expected %s)", name,
			  section, expect);
		return -ENOENT;
	}
	r = apply_value(k, (char *)base + k->offset, value);
	if (r == -ENOMEM)
		return conf_fail(f, "out of memory"), -ENOMEM;
	if (r < 0) {
		conf_key_expect(k, expect, sizeof(expect));
		return conf_bad_value(f, name, expect, value);
	}
	return (int)(k - table);
}

/* ---- the file ---- */

void conf_file_init(struct conf_file *f, const char *path)
{
	void (*on_error)(void *, const char *, unsigned, const char *) =
		f->on_error;
	void *ud = f->ud;

	memset(f, 0, sizeof(*f));
	f->path = path;
	f->on_error = on_error;
	f->ud = ud;
}

/* the text of line n of path, for a message about a line inih rejected */
static void line_text(const char *path, int n, char *buf, size_t len)
{
	FILE *in = fopen(path, "re");
	int c, line = 1;
	size_t used = 0;

	buf[0] = '\0';
	if (!in)
		return;
	while ((c = getc(in)) != EOF && line <= n) {
		if (c == '\n')
			line++;
		else if (line == n && c != '\r' && used + 1 < len)
			buf[used++] = (char)c;
	}
	buf[used] = '\0';
	fclose(in);
}

int conf_parse(struct conf_file *f, const char *path,
	       int (*handler)(void *user, const char *section, const char *name,
			      const char *value),
	       void *user)
{
	char text[QUOTE_MAX + 1], what[256];
	int r;

	conf_file_init(f, path);
	r = ini_lines_parse(path, &f->ini, handler, user);
	if (r < 0) {
		record(f, 0, strerror(-r), true);
		return r;
	}
	/* a handler that returned 0 has recorded its own error */
	if (r > 0 && (r != f->err_line || r == f->ini.long_line)) {
		if (r == f->ini.long_line) {
			snprintf(what, sizeof(what),
				 "expected a line of at most %d characters "
				 "(continue a value on indented lines), got "
				 "a longer one",
				 INI_LINES_MAX - 1);
		} else {
			line_text(path, r, text, sizeof(text));
			snprintf(what, sizeof(what),
				 "expected [section], key = value or a "
				 "comment, got '%s'",
				 text);
		}
		/* inih's line is the first error unless one came before */
		record(f, r, what, !f->n_errors || r <= f->err_line);
	}
	return f->n_errors ? -EINVAL : 0;
}
