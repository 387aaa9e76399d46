/* profile.c: vehicle profiles (INI, read with libinih) */
#include <errno.h>
#include <limits.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "obd.h"
#include "profile.h"
#include "macro.h"

struct parse_ctx {
	struct profile *p;
	struct conf_file f;
	/* per section: a signal bound twice is an error */
	bool seen[4][SIG__MAX];
};

enum section {
	SEC_PROFILE,
	SEC_DBC,
	SEC_OBD,
	SEC_MONITOR,
	SEC_DID,
	SEC_POLL,
	SEC_UNKNOWN
};

static enum section section_of(const char *s)
{
	static const char *const names[] = { "profile",	    "dbc", "obd",
					     "obd_monitor", "did", "poll" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (enum section)i;
	return SEC_UNKNOWN;
}

static int grow(void **array, size_t n, size_t size)
{
	void *a = realloc(*array, (n + 1) * size);

	if (!a)
		return -ENOMEM;
	*array = a;
	return 0;
}

static int fail_oom(struct parse_ctx *c)
{
	conf_fail(&c->f, "out of memory");
	return -ENOMEM;
}

static int hex(const char *s, uint64_t max, unsigned long *ret)
{
	uint64_t v;
	int r = conf_parse_hex(s, max, &v);

	if (r == 0)
		*ret = (unsigned long)v;
	return r;
}

static int udec(const char *s, uint64_t max, unsigned long *ret)
{
	uint64_t v;
	int r = conf_parse_unsigned(s, 0, max, &v);

	if (r == 0)
		*ret = (unsigned long)v;
	return r;
}

/* Splits value into at most max whitespace separated words (in place). */
static size_t split(char *value, char **words, size_t max)
{
	size_t n = 0;

	for (char *s = strtok(value, " \t"); s; s = strtok(NULL, " \t")) {
		if (n == max)
			return max + 1;
		words[n++] = s;
	}
	return n;
}

static char *resolve(const char *base_file, const char *rel)
{
	const char *slash = strrchr(base_file, '/');
	char *out;

	if (rel[0] == '/' || !slash)
		return strdup(rel);
	if (asprintf(&out, "%.*s/%s", (int)(slash - base_file), base_file,
		     rel) < 0)
		return NULL;
	return out;
}

/* description is for people only */
static int parse_description(const char *value, void *field)
{
	return 0;
}

static const struct conf_key profile_keys[] = {
	{ "name", CONF_CHARS, CONF_FIELD(struct profile, name) },
	{ "description", CONF_CUSTOM, .parse = parse_description },
	{ "isotp_timeout_ms", CONF_DURATION,
	  CONF_FIELD(struct profile, isotp_timeout_ns), .min = 1, .max = 60000,
	  .unit_ns = CONF_NS_PER_MS },
	{},
};

static const struct conf_key did_keys[] = {
	{ "ecu", CONF_HEX, CONF_FIELD(struct profile, did_ecu) },
	{},
};

static int on_dbc_key(struct parse_ctx *c, enum signal_id sig, const char *name,
		      const char *value, unsigned line)
{
	struct profile *p = c->p;
	struct profile_dbc_binding *b;
	const char *dot = strchr(value, '.');

	if (!dot || dot == value || !dot[1] || strchr(dot + 1, '.') ||
	    strpbrk(value, " \t"))
		return conf_bad_value(&c->f, name, "MESSAGE.SIGNAL of the DBC",
				      value);
	if (grow((void **)&p->dbc, p->n_dbc, sizeof(*p->dbc)) < 0)
		return fail_oom(c);
	b = &p->dbc[p->n_dbc];
	*b = (struct profile_dbc_binding){ .sig = sig, .line = line };
	b->message = strndup(value, (size_t)(dot - value));
	b->signal = strdup(dot + 1);
	if (!b->message || !b->signal) {
		free(b->message);
		free(b->signal);
		return fail_oom(c);
	}
	p->n_dbc++;
	return 0;
}

static int on_obd_key(struct parse_ctx *c, enum signal_id sig, const char *name,
		      const char *value, char *words)
{
	struct profile *p = c->p;
	char *w[3];
	size_t n = split(words, w, 2);
	unsigned long pid;
	int field = 0;

	if (n < 1 || n > 2 || hex(w[0], 0xff, &pid) < 0)
		return conf_bad_value(&c->f, name,
				      "PID in hex [FIELD], e.g. 0C or 01 "
				      "mil_on",
				      value);
	if (n == 2) {
		field = obd_pid_field((uint8_t)pid, w[1]);
		if (field < 0)
			return conf_fail(&c->f,
					 "%s: PID %02lX has no field '%s'",
					 name, pid, w[1]);
	} else if (obd_pid_field((uint8_t)pid, "value") < 0 &&
		   obd_pid_field((uint8_t)pid, NULL) < 0) {
		return conf_fail(&c->f,
				 "%s: PID %02lX is not decoded (or needs a "
				 "FIELD)",
				 name, pid);
	}
	if (grow((void **)&p->obd, p->n_obd, sizeof(*p->obd)) < 0)
		return fail_oom(c);
	p->obd[p->n_obd++] = (struct profile_obd_binding){ .sig = sig,
							   .pid = (uint8_t)pid,
							   .field = field };
	return 0;
}

static int on_monitor_key(struct parse_ctx *c, enum signal_id sig,
			  const char *name, const char *value, char *words)
{
	struct profile *p = c->p;
	char *w[3];
	unsigned long mid, tid;

	if (split(words, w, 2) != 2 || hex(w[0], 0xff, &mid) < 0 ||
	    hex(w[1], 0xff, &tid) < 0)
		return conf_bad_value(&c->f, name, "MID TID in hex, e.g. A2 0C",
				      value);
	if (grow((void **)&p->monitor, p->n_monitor, sizeof(*p->monitor)) < 0)
		return fail_oom(c);
	p->monitor[p->n_monitor++] = (struct profile_monitor_binding){
		.sig = sig, .mid = (uint8_t)mid, .tid = (uint8_t)tid
	};
	return 0;
}

static int on_did_key(struct parse_ctx *c, enum signal_id sig, const char *name,
		      const char *value, char *words)
{
	static const char usage[] =
		"DID OFFSET LENGTH TYPE [SCALE [OFFSET]] with TYPE u, s, text "
		"or bitN, e.g. 5A20 2 2 s 0.1";
	struct profile *p = c->p;
	struct profile_did_binding b = { .sig = sig, .scale = 1 };
	char *w[7];
	size_t n = split(words, w, 6);
	unsigned long did, off, len, bit;

	if (n < 4 || n > 6 || hex(w[0], 0xffff, &did) < 0 ||
	    udec(w[1], 4094, &off) < 0 || udec(w[2], 4095, &len) < 0 ||
	    len == 0)
		return conf_bad_value(&c->f, name, usage, value);
	b.did = (uint16_t)did;
	b.offset = (unsigned)off;
	b.length = (unsigned)len;
	if (strcmp(w[3], "u") == 0) {
		b.type = PROFILE_DID_UNSIGNED;
	} else if (strcmp(w[3], "s") == 0) {
		b.type = PROFILE_DID_SIGNED;
	} else if (strcmp(w[3], "text") == 0) {
		b.type = PROFILE_DID_TEXT;
	} else if (strncmp(w[3], "bit", 3) == 0 &&
		   udec(w[3] + 3, 7, &bit) == 0) {
		b.type = PROFILE_DID_BIT;
		b.bit = (unsigned)bit;
	} else {
		return conf_bad_value(&c->f, name, usage, value);
	}
	if ((b.type == PROFILE_DID_TEXT) != signal_info(sig)->is_text)
		return conf_fail(&c->f, "%s: %s", name,
				 signal_info(sig)->is_text ?
					 "a text signal needs TYPE text" :
					 "a numeric signal cannot have TYPE "
					 "text");
	if ((b.type == PROFILE_DID_UNSIGNED || b.type == PROFILE_DID_SIGNED) &&
	    len > 8)
		return conf_fail(&c->f, "%s: a number is at most 8 bytes long",
				 name);
	if (b.type == PROFILE_DID_BIT && len != 1)
		return conf_fail(&c->f, "%s: bitN takes LENGTH 1", name);
	if (n >= 5 &&
	    (b.type == PROFILE_DID_TEXT ||
	     conf_parse_double(w[4], -DBL_MAX, DBL_MAX, &b.scale) < 0))
		return conf_bad_value(&c->f, name, usage, value);
	if (n == 6 && conf_parse_double(w[5], -DBL_MAX, DBL_MAX, &b.add) < 0)
		return conf_bad_value(&c->f, name, usage, value);
	if (grow((void **)&p->did, p->n_did, sizeof(*p->did)) < 0)
		return fail_oom(c);
	p->did[p->n_did++] = b;
	return 0;
}

/* the keys of [dbc], [obd] and [did] that are no signal; 1: not one */
static int on_reserved_key(struct parse_ctx *c, enum section sec,
			   const char *name, const char *value, char *words)
{
	struct profile *p = c->p;
	unsigned long v;
	char *w[PROFILE_MAX_ECUS + 1];
	size_t n;

	if (sec == SEC_DBC && strcmp(name, "file") == 0) {
		if (!*value)
			return conf_bad_value(&c->f, name, "a path", value);
		free(p->dbc_path);
		p->dbc_path = resolve(c->f.path, value);
		return p->dbc_path ? 0 : fail_oom(c);
	}
	if (sec == SEC_OBD && strcmp(name, "ecus") == 0) {
		n = split(words, w, PROFILE_MAX_ECUS);
		if (n == 0 || n > PROFILE_MAX_ECUS)
			return conf_fail(&c->f,
					 "ecus: expected 1 to %d answer IDs "
					 "in hex, e.g. 7E8 7E9, got '%s'",
					 PROFILE_MAX_ECUS, value);
		for (size_t i = 0; i < n; i++) {
			if (hex(w[i], 0x7ff, &v) < 0)
				return conf_fail(&c->f,
						 "ecus: expected 11-bit IDs in "
						 "hex, got '%s'",
						 w[i]);
			p->obd_ecus[i] = (uint32_t)v;
		}
		p->n_obd_ecus = n;
		return 0;
	}
	if (sec == SEC_DID && conf_key_find(did_keys, name))
		return conf_apply(&c->f, "did", did_keys, p, name, value);
	return 1;
}

static int on_signal_key(struct parse_ctx *c, enum section sec,
			 const char *section, const char *name,
			 const char *value)
{
	enum signal_id sig;
	char words[256];
	int r;

	if (strlen(value) >= sizeof(words))
		return conf_bad_value(&c->f, name, "a shorter value", value);
	strcpy(words, value);
	r = on_reserved_key(c, sec, name, value, words);
	if (r <= 0)
		return r;
	sig = signal_from_name(name);
	if (sig == SIG_INVALID)
		return conf_fail(&c->f,
				 "unknown signal '%s' in [%s] (see the "
				 "canonical signals in the README)",
				 name, section);
	if (c->seen[sec - SEC_DBC][sig])
		return conf_fail(&c->f, "%s bound twice in [%s]", name,
				 section);
	c->seen[sec - SEC_DBC][sig] = true;
	c->p->bound[sig] = true;
	switch (sec) {
	case SEC_DBC:
		return on_dbc_key(c, sig, name, value, (unsigned)c->f.ini.line);
	case SEC_OBD:
		return on_obd_key(c, sig, name, value, words);
	case SEC_MONITOR:
		return on_monitor_key(c, sig, name, value, words);
	case SEC_DID:
		return on_did_key(c, sig, name, value, words);
	default:
		return conf_fail(&c->f, "internal error");
	}
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse_ctx *c = user;
	enum section sec = section_of(section);
	char err[300];

	if (conf_failed(&c->f))
		return 1;
	if (sec == SEC_UNKNOWN)
		conf_unknown_section(&c->f, section,
				     "profile, dbc, obd, obd_monitor, did, "
				     "poll");
	else if (sec == SEC_POLL) {
		/* poll_profile.c; each request passes the gate there */
		if (poll_plan_key(&c->p->poll, name, value,
				  (unsigned)c->f.ini.line, err,
				  sizeof(err)) < 0)
			conf_fail(&c->f, "%s", err);
	} else if (sec == SEC_PROFILE)
		conf_apply(&c->f, section, profile_keys, c->p, name, value);
	else
		on_signal_key(c, sec, section, name, value);
	return 1;
}

int profile_load(struct profile **ret, const char *path, char *errbuf,
		 size_t errlen)
{
	struct parse_ctx *c;
	struct profile *p;
	int r;

	p = calloc(1, sizeof(*p));
	c = calloc(1, sizeof(*c));
	if (!p || !c || !(p->path = strdup(path))) {
		free(c);
		profile_free(p);
		snprintf(errbuf, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	p->did_ecu = 0x12;
	poll_plan_init(&p->poll);
	p->isotp_timeout_ns = 1000000000LL;
	c->p = p;
	r = conf_parse(&c->f, path, on_key, c);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s", c->f.err);
		free(c);
		profile_free(p);
		return r;
	}
	free(c);
	if (p->n_dbc > 0 && !p->dbc_path) {
		snprintf(errbuf, errlen,
			 "%s: [dbc] binds signals but names no file", path);
		profile_free(p);
		return -EINVAL;
	}
	if (!p->name[0]) {
		const char *base = strrchr(path, '/');

		snprintf(p->name, sizeof(p->name), "%s",
			 base ? base + 1 : path);
	}
	*ret = p;
	return 0;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_dbc; i++) {
		free(p->dbc[i].message);
		free(p->dbc[i].signal);
	}
	free(p->dbc);
	free(p->obd);
	free(p->monitor);
	free(p->did);
	poll_plan_done(&p->poll);
	free(p->dbc_path);
	free(p->path);
	free(p);
}

int profile_find(const char *name_or_path, const char *const *search_dirs,
		 char **ret_path)
{
	char *path;

	if (strchr(name_or_path, '/') || strstr(name_or_path, ".ini")) {
		path = strdup(name_or_path);
		if (!path)
			return -ENOMEM;
		*ret_path = path;
		return 0;
	}
	for (size_t i = 0; search_dirs && search_dirs[i]; i++) {
		if (asprintf(&path, "%s/%s.ini", search_dirs[i], name_or_path) <
		    0)
			return -ENOMEM;
		if (access(path, R_OK) == 0) {
			*ret_path = path;
			return 0;
		}
		free(path);
	}
	return -ENOENT;
}
