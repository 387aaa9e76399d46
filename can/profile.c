/* profile.c: vehicle profiles (INI, read with libinih) */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ini_lines.h"
#include "obd.h"
#include "profile.h"

struct parse_ctx {
	struct profile *p;
	const char *path;
	char *err; /* the first error's text, without file:line */
	size_t errlen;
	bool failed;
	struct ini_lines ini;
	bool seen[4]
		 [SIG__MAX]; /* per section: a signal bound twice is an error */
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

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (enum section)i;
	return SEC_UNKNOWN;
}

__attribute__((format(printf, 2, 3))) static int fail(struct parse_ctx *c,
						      const char *fmt, ...)
{
	va_list ap;

	if (!c->failed) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
		c->failed = true;
	}
	return 0; /* inih: this line is an error */
}

static int grow(void **array, size_t n, size_t size)
{
	void *a = realloc(*array, (n + 1) * size);

	if (!a)
		return -ENOMEM;
	*array = a;
	return 0;
}

static bool parse_hex(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!*s)
		return false;
	errno = 0;
	v = strtoul(s, &end, 16);
	if (errno || *end || v > max)
		return false;
	*ret = v;
	return true;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*ret = v;
	return true;
}

static bool parse_double(const char *s, double *ret)
{
	char *end;
	double v;

	if (!*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return false;
	*ret = v;
	return true;
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

static int on_profile_key(struct parse_ctx *c, const char *name,
			  const char *value)
{
	unsigned long v;

	if (strcmp(name, "name") == 0) {
		if (strlen(value) >= sizeof(c->p->name))
			return fail(c, "name: at most %zu characters",
				    sizeof(c->p->name) - 1);
		strcpy(c->p->name, value);
	} else if (strcmp(name, "description") == 0) {
		/* for people only */
	} else if (strcmp(name, "isotp_timeout_ms") == 0) {
		if (!parse_uint(value, 60000, &v) || v == 0)
			return fail(c, "isotp_timeout_ms: expected 1..60000");
		c->p->isotp_timeout_ns = (int64_t)v * 1000000;
	} else {
		return fail(c,
			    "unknown key '%s' in [profile] (expected name, "
			    "description, isotp_timeout_ms)",
			    name);
	}
	return 1;
}

static int on_dbc_key(struct parse_ctx *c, enum signal_id sig, const char *name,
		      const char *value, unsigned line)
{
	struct profile *p = c->p;
	struct profile_dbc_binding *b;
	const char *dot = strchr(value, '.');

	if (!dot || dot == value || !dot[1] || strchr(dot + 1, '.') ||
	    strpbrk(value, " \t"))
		return fail(c, "%s: expected MESSAGE.SIGNAL of the DBC", name);
	if (grow((void **)&p->dbc, p->n_dbc, sizeof(*p->dbc)) < 0)
		return fail(c, "out of memory");
	b = &p->dbc[p->n_dbc];
	*b = (struct profile_dbc_binding){ .sig = sig, .line = line };
	b->message = strndup(value, (size_t)(dot - value));
	b->signal = strdup(dot + 1);
	if (!b->message || !b->signal) {
		free(b->message);
		free(b->signal);
		return fail(c, "out of memory");
	}
	p->n_dbc++;
	return 1;
}

static int on_obd_key(struct parse_ctx *c, enum signal_id sig, const char *name,
		      char *value)
{
	struct profile *p = c->p;
	char *w[3];
	size_t n = split(value, w, 2);
	unsigned long pid;
	int field = 0;

	if (n < 1 || n > 2 || !parse_hex(w[0], 0xff, &pid))
		return fail(c,
			    "%s: expected PID in hex [FIELD], e.g. 0C or "
			    "01 mil_on",
			    name);
	if (n == 2) {
		field = obd_pid_field((uint8_t)pid, w[1]);
		if (field < 0)
			return fail(c, "%s: PID %02lX has no field '%s'", name,
				    pid, w[1]);
	} else if (obd_pid_field((uint8_t)pid, "value") < 0 &&
		   obd_pid_field((uint8_t)pid, NULL) < 0) {
		return fail(c,
			    "%s: PID %02lX is not decoded (or needs a "
			    "FIELD)",
			    name, pid);
	}
	if (grow((void **)&p->obd, p->n_obd, sizeof(*p->obd)) < 0)
		return fail(c, "out of memory");
	p->obd[p->n_obd++] = (struct profile_obd_binding){ .sig = sig,
							   .pid = (uint8_t)pid,
							   .field = field };
	return 1;
}

static int on_monitor_key(struct parse_ctx *c, enum signal_id sig,
			  const char *name, char *value)
{
	struct profile *p = c->p;
	char *w[3];
	unsigned long mid, tid;

	if (split(value, w, 2) != 2 || !parse_hex(w[0], 0xff, &mid) ||
	    !parse_hex(w[1], 0xff, &tid))
		return fail(c, "%s: expected MID TID in hex, e.g. A2 0C", name);
	if (grow((void **)&p->monitor, p->n_monitor, sizeof(*p->monitor)) < 0)
		return fail(c, "out of memory");
	p->monitor[p->n_monitor++] = (struct profile_monitor_binding){
		.sig = sig, .mid = (uint8_t)mid, .tid = (uint8_t)tid
	};
	return 1;
}

static int on_did_key(struct parse_ctx *c, enum signal_id sig, const char *name,
		      char *value)
{
	static const char usage[] =
		"expected DID OFFSET LENGTH TYPE [SCALE [OFFSET]] with TYPE "
		"u, s, text or bitN, e.g. 5A20 2 2 s 0.1";
	struct profile *p = c->p;
	struct profile_did_binding b = { .sig = sig, .scale = 1 };
	char *w[7];
	size_t n = split(value, w, 6);
	unsigned long did, off, len, bit;

	if (n < 4 || n > 6 || !parse_hex(w[0], 0xffff, &did) ||
	    !parse_uint(w[1], 4094, &off) || !parse_uint(w[2], 4095, &len) ||
	    len == 0)
		return fail(c, "%s: %s", name, usage);
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
		   parse_uint(w[3] + 3, 7, &bit)) {
		b.type = PROFILE_DID_BIT;
		b.bit = (unsigned)bit;
	} else {
		return fail(c, "%s: %s", name, usage);
	}
	if ((b.type == PROFILE_DID_TEXT) != signal_info(sig)->is_text)
		return fail(c, "%s: %s", name,
			    signal_info(sig)->is_text ?
				    "a text signal needs TYPE text" :
				    "a numeric signal cannot have TYPE text");
	if ((b.type == PROFILE_DID_UNSIGNED || b.type == PROFILE_DID_SIGNED) &&
	    len > 8)
		return fail(c, "%s: a number is at most 8 bytes long", name);
	if (b.type == PROFILE_DID_BIT && len != 1)
		return fail(c, "%s: bitN takes LENGTH 1", name);
	if (n >= 5 &&
	    (b.type == PROFILE_DID_TEXT || !parse_double(w[4], &b.scale)))
		return fail(c, "%s: %s", name, usage);
	if (n == 6 && !parse_double(w[5], &b.add))
		return fail(c, "%s: %s", name, usage);
	if (grow((void **)&p->did, p->n_did, sizeof(*p->did)) < 0)
		return fail(c, "out of memory");
	p->did[p->n_did++] = b;
	return 1;
}

static int on_reserved_key(struct parse_ctx *c, enum section sec,
			   const char *name, char *value)
{
	struct profile *p = c->p;
	unsigned long v;
	char *w[PROFILE_MAX_ECUS + 1];
	size_t n;

	if (sec == SEC_DBC && strcmp(name, "file") == 0) {
		free(p->dbc_path);
		p->dbc_path = resolve(c->path, value);
		return p->dbc_path ? 1 : fail(c, "out of memory");
	}
	if (sec == SEC_OBD && strcmp(name, "ecus") == 0) {
		n = split(value, w, PROFILE_MAX_ECUS);
		if (n == 0 || n > PROFILE_MAX_ECUS)
			return fail(c,
				    "ecus: expected 1 to %d answer IDs in "
				    "hex, e.g. 7E8 7E9",
				    PROFILE_MAX_ECUS);
		for (size_t i = 0; i < n; i++) {
			if (!parse_hex(w[i], 0x7ff, &v))
				return fail(c,
					    "ecus: '%s' is not an 11-bit ID "
					    "in hex",
					    w[i]);
			p->obd_ecus[i] = (uint32_t)v;
		}
		p->n_obd_ecus = n;
		return 1;
	}
	if (sec == SEC_DID && strcmp(name, "ecu") == 0) {
		if (!parse_hex(value, 0xff, &v))
			return fail(c, "ecu: expected the ECU's address in "
				       "hex, e.g. 12");
		p->did_ecu = (uint8_t)v;
		return 1;
	}
	return -1;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value_in)
{
	struct parse_ctx *c = user;
	enum section sec = section_of(section);
	enum signal_id sig;
	char value[256];
	int r;

	if (c->failed)
		return 1;
	if (sec == SEC_UNKNOWN)
		return fail(c,
			    "unknown section [%s] (expected profile, dbc, "
			    "obd, obd_monitor, did, poll)",
			    section);
	if (sec == SEC_PROFILE)
		return on_profile_key(c, name, value_in);
	if (sec == SEC_POLL)
		return poll_plan_key(&c->p->poll, name, value_in,
				     (unsigned)c->ini.line, value,
				     sizeof(value)) < 0 ?
			       fail(c, "%s", value) :
			       1;
	if (strlen(value_in) >= sizeof(value))
		return fail(c, "%s: value too long", name);
	strcpy(value, value_in);
	r = on_reserved_key(c, sec, name, value);
	if (r >= 0)
		return r;
	sig = signal_from_name(name);
	if (sig == SIG_INVALID)
		return fail(c,
			    "unknown signal '%s' in [%s] (see the canonical "
			    "signals in the README)",
			    name, section);
	if (c->seen[sec - SEC_DBC][sig])
		return fail(c, "%s bound twice in [%s]", name, section);
	c->seen[sec - SEC_DBC][sig] = true;
	c->p->bound[sig] = true;
	switch (sec) {
	case SEC_DBC:
		return on_dbc_key(c, sig, name, value, (unsigned)c->ini.line);
	case SEC_OBD:
		return on_obd_key(c, sig, name, value);
	case SEC_MONITOR:
		return on_monitor_key(c, sig, name, value);
	case SEC_DID:
		return on_did_key(c, sig, name, value);
	default:
		return fail(c, "internal error");
	}
}

int profile_load(struct profile **ret, const char *path, char *errbuf,
		 size_t errlen)
{
	struct parse_ctx *c;
	struct profile *p;
	char msg[256] = "";
	int line;

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
	*c = (struct parse_ctx){
		.p = p, .path = path, .err = msg, .errlen = sizeof(msg)
	};
	line = ini_lines_parse(path, &c->ini, on_key, c);
	if (line != 0) {
		if (line < 0)
			snprintf(errbuf, errlen, "%s: %s", path,
				 strerror(-line));
		else if (line == c->ini.long_line)
			snprintf(errbuf, errlen, "%s:%d: line too long", path,
				 line);
		else if (c->failed)
			snprintf(errbuf, errlen, "%s:%d: %s", path, line, msg);
		else
			snprintf(errbuf, errlen,
				 "%s:%d: expected [section], key = value or "
				 "a comment",
				 path, line);
		free(c);
		profile_free(p);
		return line < 0 ? line : -EINVAL;
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
