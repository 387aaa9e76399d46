/* policy.c: dtc.ini into an array of policies, all its keys in one table */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "policy.h"

static int parse_severity(const char *value, void *field)
{
	return catalogue_parse_severity(value, field);
}

static const char *const confirm_names[] = {
	[DTC_CONFIRM_CYCLES] = "cycles",
	[DTC_CONFIRM_AT_ONCE] = "at_once",
	[DTC_CONFIRM_AT_ONCE_WHEN_CRITICAL] = "at_once_when_critical",
	NULL,
};

static const char *const debounce_names[] = {
	[DTC_DEBOUNCE_COUNTER] = "counter",
	[DTC_DEBOUNCE_TIME] = "time",
	NULL,
};

#define KEY(name, kind, ...)                                                  \
	{                                                                     \
#name, kind, CONF_FIELD(struct dtc_policy, name), __VA_ARGS__ \
	}
#define MS(name)                                                             \
	{                                                                    \
#name "_ms", CONF_DURATION,                                  \
			CONF_FIELD(struct dtc_policy, name##_ns),            \
			.min = 0, .max = 86400000, .unit_ns = CONF_NS_PER_MS \
	}

/* the index of a key is its bit in struct dtc_policy's set */
const struct conf_key dtc_policy_keys[] = {
	KEY(detector, CONF_CHARS, .min = 1),
	{ "severity", CONF_CUSTOM, CONF_FIELD(struct dtc_policy, severity),
	  .parse = parse_severity, .expect = "low, medium, high or critical" },
	KEY(confirm, CONF_ENUM, .names = confirm_names),
	KEY(confirm_cycles, CONF_UNSIGNED, .min = 1, .max = 255),
	KEY(aging_cycles, CONF_UNSIGNED, .min = 0, .max = 65535),
	KEY(warning_indicator, CONF_BOOL),
	KEY(warning_off_cycles, CONF_UNSIGNED, .min = 0, .max = 255),
	KEY(debounce, CONF_ENUM, .names = debounce_names),
	KEY(counter_fail, CONF_SIGNED, .min = 1, .max = 127),
	KEY(counter_pass, CONF_SIGNED, .min = 1, .max = 127),
	MS(time_fail),
	MS(time_pass),
	{},
};

enum { KEY_DETECTOR = 0 };

void dtc_policy_default(struct dtc_policy *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->detector, sizeof(p->detector), "unknown");
	p->severity = DTC_SEVERITY_MEDIUM;
	p->confirm = DTC_CONFIRM_CYCLES;
	p->confirm_cycles = 2;
	p->aging_cycles = 40;
	p->warning_indicator = true;
	p->warning_off_cycles = 3;
	p->debounce = DTC_DEBOUNCE_COUNTER;
	p->counter_fail = 3;
	p->counter_pass = 3;
	p->time_fail_ns = 1000 * CONF_NS_PER_MS;
	p->time_pass_ns = 1000 * CONF_NS_PER_MS;
}

struct parse_ctx {
	struct dtc_policies *p;
	struct conf_file f;
	struct dtc_policy *cur;
	int cur_line; /* the header line of cur's section */
};

static struct dtc_policy *find(const struct dtc_policies *p, const char *code)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->dtc[i].code, code) == 0)
			return &p->dtc[i];
	return NULL;
}

static struct dtc_policy *add(struct dtc_policies *p, const char *code)
{
	struct dtc_policy *n = realloc(p->dtc, (p->n + 1) * sizeof(*n));

	if (!n)
		return NULL;
	p->dtc = n;
	n = &p->dtc[p->n++];
	memset(n, 0, sizeof(*n));
	snprintf(n->code, sizeof(n->code), "%s", code);
	return n;
}

/* the policy a new [section] header starts; NULL after an error */
static struct dtc_policy *section_begin(struct parse_ctx *x,
					const char *section)
{
	struct conf_file *f = &x->f;
	int line = f->ini.section_line;
	struct dtc_policy *p;

	if (strcmp(section, "defaults") == 0) {
		if (x->p->n) {
			conf_fail_at(f, line,
				     "[defaults] must come before the DTC "
				     "sections");
			return NULL;
		}
		return &x->p->defaults;
	}
	if (!catalogue_code_valid(section)) {
		conf_fail_at(f, line,
			     "section [%s]: expected [defaults] or a DTC code "
			     "such as [P0301]",
			     section);
		return NULL;
	}
	if (find(x->p, section)) {
		conf_fail_at(f, line, "section [%s] appears twice", section);
		return NULL;
	}
	p = add(x->p, section);
	if (!p) {
		conf_fail_at(f, line, "out of memory");
		return NULL;
	}
	p->line = line;
	return p;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse_ctx *x = user;
	int k;

	if (conf_failed(&x->f))
		return 1;
	/* a new header, even with the name of the last (a duplicate) */
	if (x->f.ini.section_line != x->cur_line || !x->cur) {
		x->cur_line = x->f.ini.section_line;
		x->cur = section_begin(x, section);
		if (!x->cur)
			return 1;
	}
	k = conf_apply(&x->f, section, dtc_policy_keys, x->cur, name, value);
	if (k >= 0)
		x->cur->set |= 1u << k;
	return 1;
}

/* a DTC section takes the fields it does not set from [defaults] */
static void inherit(struct dtc_policy *p, const struct dtc_policy *d)
{
	for (int k = 0; dtc_policy_keys[k].key; k++) {
		const struct conf_key *key = &dtc_policy_keys[k];

		if (!(p->set & (1u << k)))
			memcpy((char *)p + key->offset,
			       (const char *)d + key->offset, key->size);
	}
}

int dtc_policies_load(struct dtc_policies *ret, const char *path, char *errbuf,
		      size_t errlen)
{
	struct parse_ctx x = { .p = ret };
	int r;

	memset(ret, 0, sizeof(*ret));
	dtc_policy_default(&ret->defaults);
	r = conf_parse(&x.f, path, on_key, &x);
	for (size_t i = 0; r == 0 && i < ret->n; i++) {
		struct dtc_policy *p = &ret->dtc[i];

		inherit(p, &ret->defaults);
		if (!(p->set & (1u << KEY_DETECTOR)))
			r = conf_fail_at(&x.f, p->line,
					 "[%s]: missing key 'detector'",
					 p->code);
	}
	if (r < 0) {
		snprintf(errbuf, errlen, "%s", x.f.err);
		dtc_policies_free(ret);
	}
	return r;
}

void dtc_policies_free(struct dtc_policies *p)
{
	if (!p)
		return;
	free(p->dtc);
	p->dtc = NULL;
	p->n = 0;
}
