/* catalogue.c: the workshop-action catalogue, loaded from an INI file */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalogue.h"
#include "ini_lines.h"

enum field {
	F_TITLE,
	F_DESCRIPTION,
	F_SEVERITY,
	F_DRIVER_ADVICE,
	F_ACTION,
	F__MAX,
};

static const char *const field_names[F__MAX] = {
	[F_TITLE] = "title",	   [F_DESCRIPTION] = "description",
	[F_SEVERITY] = "severity", [F_DRIVER_ADVICE] = "driver_advice",
	[F_ACTION] = "action",
};

struct entry {
	struct catalogue_entry pub;
	char *text[F__MAX];
	int line; /* of the section header, for "missing key" messages */
};

struct catalogue {
	struct entry *entries;
	size_t n, cap;
};

struct load_ctx {
	struct catalogue *c;
	struct ini_lines ini;
	const char *path;
	char *errbuf;
	size_t errlen;
	bool failed;
	int fail_line;
};

int catalogue_parse_severity(const char *s, enum dtc_severity *ret_severity)
{
	static const char *const names[] = {
		[DTC_SEVERITY_LOW] = "low",
		[DTC_SEVERITY_MEDIUM] = "medium",
		[DTC_SEVERITY_HIGH] = "high",
		[DTC_SEVERITY_CRITICAL] = "critical",
	};

	for (size_t i = DTC_SEVERITY_LOW; i < sizeof(names) / sizeof(*names);
	     i++)
		if (strcmp(s, names[i]) == 0) {
			*ret_severity = (enum dtc_severity)i;
			return 0;
		}
	return -EINVAL;
}

static void fail(struct load_ctx *x, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->failed)
		return; /* keep the first message, it is the cause */
	x->failed = true;
	x->fail_line = line;
	n = snprintf(x->errbuf, x->errlen, "%s:%d: ", x->path, line);
	if (n < 0 || (size_t)n >= x->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(x->errbuf + n, x->errlen - n, fmt, ap);
	va_end(ap);
}

bool catalogue_code_valid(const char *s)
{
	/* SAE J2012: a letter of P, C, B, U and four hex digits */
	if (strlen(s) != 5 || !strchr("PCBU", s[0]))
		return false;
	for (int i = 1; i < 5; i++)
		if (!strchr("0123456789ABCDEF", s[i]))
			return false;
	return true;
}

static struct entry *entry_get(struct load_ctx *x, const char *section)
{
	struct catalogue *c = x->c;
	struct entry *e;

	if (c->n && c->entries[c->n - 1].line == x->ini.section_line)
		return &c->entries[c->n - 1];
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].pub.code, section) == 0) {
			fail(x, x->ini.section_line,
			     "section [%s] appears twice", section);
			return NULL;
		}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct entry *n = realloc(c->entries, cap * sizeof(*n));

		if (!n)
			return NULL;
		c->entries = n;
		c->cap = cap;
	}
	e = &c->entries[c->n];
	memset(e, 0, sizeof(*e));
	e->pub.code = strdup(section);
	if (!e->pub.code)
		return NULL;
	e->line = x->ini.section_line;
	c->n++;
	return e;
}

static int append(char **dst, const char *value)
{
	size_t old = *dst ? strlen(*dst) : 0;
	char *n = realloc(*dst, old + strlen(value) + 2);

	if (!n)
		return -ENOMEM;
	if (old)
		n[old++] = ' ';
	strcpy(n + old, value);
	*dst = n;
	return 0;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct load_ctx *x = user;
	struct entry *e;
	int f;

	if (!*section) {
		fail(x, x->ini.line, "key '%s' outside a [CODE] section", name);
		return 0;
	}
	if (!catalogue_code_valid(section)) {
		fail(x, x->ini.section_line,
		     "section [%s]: expected a DTC code such as [P0301]",
		     section);
		return 0;
	}
	for (f = 0; f < F__MAX; f++)
		if (strcmp(name, field_names[f]) == 0)
			break;
	if (f == F__MAX) {
		fail(x, x->ini.line,
		     "unknown key '%s' (expected title, description, "
		     "severity, driver_advice or action)",
		     name);
		return 0;
	}
	e = entry_get(x, section);
	if (!e)
		return 0;
	if (!*value) {
		fail(x, x->ini.line, "key '%s': empty value", name);
		return 0;
	}
	if (f == F_SEVERITY) {
		if (catalogue_parse_severity(value, &e->pub.severity) < 0) {
			fail(x, x->ini.line,
			     "severity '%s': expected low, medium, high or "
			     "critical",
			     value);
			return 0;
		}
	}
	/* a repeated key is inih's continuation of an indented line */
	if (append(&e->text[f], value) < 0)
		return 0;
	return 1;
}

void catalogue_free(struct catalogue *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free((char *)c->entries[i].pub.code);
		for (int f = 0; f < F__MAX; f++)
			free(c->entries[i].text[f]);
	}
	free(c->entries);
	free(c);
}

static int check_complete(struct load_ctx *x)
{
	for (size_t i = 0; i < x->c->n; i++) {
		struct entry *e = &x->c->entries[i];

		for (int f = 0; f < F__MAX; f++)
			if (!e->text[f]) {
				fail(x, e->line, "[%s]: missing key '%s'",
				     e->pub.code, field_names[f]);
				return -EINVAL;
			}
		e->pub.title = e->text[F_TITLE];
		e->pub.description = e->text[F_DESCRIPTION];
		e->pub.driver_advice = e->text[F_DRIVER_ADVICE];
		e->pub.action = e->text[F_ACTION];
	}
	return 0;
}

int catalogue_load(struct catalogue **ret, const char *path, const char *lang,
		   char *errbuf, size_t errlen)
{
	struct load_ctx x = { .path = path,
			      .errbuf = errbuf,
			      .errlen = errlen };
	char file[4096];
	struct stat st;
	int r;

	if (errlen)
		errbuf[0] = '\0';
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (!lang || !*lang || strchr(lang, '/')) {
			snprintf(errbuf, errlen, "%s: no language given", path);
			return -EINVAL;
		}
		snprintf(file, sizeof(file), "%s/actions.%s.ini", path, lang);
		x.path = file;
	}
	x.c = calloc(1, sizeof(*x.c));
	if (!x.c)
		return -ENOMEM;
	r = ini_lines_parse(x.path, &x.ini, handler, &x);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: %s", x.path, strerror(-r));
	} else if (r > 0) {
		/* inih's first rejected line wins over a later message */
		if (r == x.ini.long_line || r < x.fail_line)
			x.failed = false;
		fail(&x, r,
		     r == x.ini.long_line ?
			     "line longer than 199 characters (continue "
			     "a value on indented lines)" :
			     "expected [CODE] or key = value");
		r = -EINVAL;
	} else if (x.c->n == 0) {
		snprintf(errbuf, errlen, "%s: no entries", x.path);
		r = -EINVAL;
	} else {
		r = check_complete(&x);
	}
	if (r < 0) {
		catalogue_free(x.c);
		return r;
	}
	*ret = x.c;
	return 0;
}

const struct catalogue_entry *catalogue_find(const struct catalogue *c,
					     const char *code)
{
	if (!c || !code)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].pub.code, code) == 0)
			return &c->entries[i].pub;
	return NULL;
}

size_t catalogue_count(const struct catalogue *c)
{
	return c ? c->n : 0;
}

const struct catalogue_entry *catalogue_at(const struct catalogue *c, size_t i)
{
	return c && i < c->n ? &c->entries[i].pub : NULL;
}
