/* catalogue.c: the workshop-action catalogue, loaded from an INI file */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalogue.h"
#include "conf.h"

enum field {
	F_TITLE,
	F_DESCRIPTION,
	F_SEVERITY,
	F_DRIVER_ADVICE,
	F_ACTION,
	F__MAX,
};

struct entry {
	struct catalogue_entry pub;
	char *text[F__MAX];
	int line; /* of the section header, for "missing key" messages */
};

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

/* a repeated key is inih's continuation of an indented line */
static int append_text(const char *value, void *field)
{
	return *value ? append(field, value) : -EINVAL;
}

static int append_severity(const char *value, void *field)
{
	enum dtc_severity sev;

	if (catalogue_parse_severity(value, &sev) < 0)
		return -EINVAL;
	return append(field, value);
}

#define TEXT(name, f, fn, what)                                               \
	[f] = { name, CONF_CUSTOM, .offset = offsetof(struct entry, text[f]), \
		.parse = fn, .expect = what }

static const struct conf_key keys[F__MAX + 1] = {
	TEXT("title", F_TITLE, append_text, "a text"),
	TEXT("description", F_DESCRIPTION, append_text, "a text"),
	TEXT("severity", F_SEVERITY, append_severity,
	     "low, medium, high or critical"),
	TEXT("driver_advice", F_DRIVER_ADVICE, append_text, "a text"),
	TEXT("action", F_ACTION, append_text, "a text"),
	[F__MAX] = {},
};

struct catalogue {
	struct entry *entries;
	size_t n, cap;
};

struct load_ctx {
	struct catalogue *c;
	struct conf_file f;
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

	if (c->n && c->entries[c->n - 1].line == x->f.ini.section_line)
		return &c->entries[c->n - 1];
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].pub.code, section) == 0) {
			conf_fail_at(&x->f, x->f.ini.section_line,
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
	e->line = x->f.ini.section_line;
	c->n++;
	return e;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct load_ctx *x = user;
	struct entry *e;

	if (conf_failed(&x->f))
		return 1;
	if (!*section)
		conf_fail(&x->f, "key '%s' outside a [CODE] section", name);
	else if (!catalogue_code_valid(section))
		conf_fail_at(
			&x->f, x->f.ini.section_line,
			"section [%s]: expected a DTC code such as [P0301]",
			section);
	else if ((e = entry_get(x, section)))
		conf_apply(&x->f, section, keys, e, name, value);
	else if (!conf_failed(&x->f))
		conf_fail(&x->f, "out of memory");
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
			if (!e->text[f])
				return conf_fail_at(&x->f, e->line,
						    "[%s]: missing key '%s'",
						    e->pub.code, keys[f].key);
		if (catalogue_parse_severity(e->text[F_SEVERITY],
					     &e->pub.severity) < 0)
			return conf_fail_at(&x->f, e->line,
					    "[%s]: severity: expected one of "
					    "low, medium, high or critical, "
					    "got '%s'",
					    e->pub.code, e->text[F_SEVERITY]);
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
	struct load_ctx x = { 0 };
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
		path = file;
	}
	x.c = calloc(1, sizeof(*x.c));
	if (!x.c)
		return -ENOMEM;
	r = conf_parse(&x.f, path, handler, &x);
	if (r == 0 && x.c->n == 0)
		r = conf_fail_at(&x.f, 0, "no entries");
	if (r == 0)
		r = check_complete(&x);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s", x.f.err);
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
