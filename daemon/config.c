/* config.c: dtcd.conf with libinih; unknown keys and bad values are errors */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ini_lines.h"

struct parse_ctx {
	struct config *c;
	struct ini_lines ini;
	char err[256];
	bool failed;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parse_ctx *p,
						      const char *fmt, ...)
{
	va_list ap;

	if (!p->failed) {
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof(p->err), fmt, ap);
		va_end(ap);
		p->failed = true;
	}
	return 0;
}

int config_set(char **field, const char *value)
{
	char *s = value ? strdup(value) : NULL;

	if (value && !s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

static bool parse_bool(const char *v, bool *ret)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") ||
	    !strcmp(v, "on"))
		*ret = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") ||
		 !strcmp(v, "off"))
		*ret = false;
	else
		return false;
	return true;
}

static bool parse_int(const char *v, long min, long max, long *ret)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < min || n > max)
		return false;
	*ret = n;
	return true;
}

static int on_dtcd(struct parse_ctx *p, const char *name, const char *value)
{
	struct config *c = p->c;
	long n;
	char **field = NULL;

	if (!strcmp(name, "profile"))
		field = &c->profile;
	else if (!strcmp(name, "interface"))
		field = &c->interface;
	else if (!strcmp(name, "state_dir"))
		field = &c->state_dir;
	else if (!strcmp(name, "etc_dir"))
		field = &c->etc_dir;
	else if (!strcmp(name, "control_socket"))
		field = &c->control_socket;
	else if (!strcmp(name, "lang")) {
		if (strcmp(value, "en") && strcmp(value, "de"))
			return fail(p, "lang: expected en or de");
		field = &c->lang;
	} else if (!strcmp(name, "tick_ms")) {
		if (!parse_int(value, 10, 10000, &n))
			return fail(p, "tick_ms: expected 10..10000");
		c->tick_ms = (unsigned)n;
		return 1;
	} else if (!strcmp(name, "json")) {
		if (!parse_bool(value, &c->json))
			return fail(p, "json: expected yes or no");
		return 1;
	} else if (!strcmp(name, "poll")) {
		if (!parse_bool(value, &c->poll))
			return fail(p, "poll: expected yes or no");
		return 1;
	} else {
		return fail(p,
			    "unknown key '%s' in [dtcd] (expected profile, "
			    "interface, state_dir, etc_dir, lang, tick_ms, "
			    "json, poll, control_socket)",
			    name);
	}
	if (!*value)
		return fail(p, "%s: expected a value", name);
	return config_set(field, value) < 0 ? fail(p, "out of memory") : 1;
}

static int on_mqtt(struct parse_ctx *p, const char *name, const char *value)
{
	struct config *c = p->c;
	long n;

	if (!strcmp(name, "host")) {
		if (!*value)
			return fail(p, "host: expected a host name or address");
		return config_set(&c->mqtt_host, value) < 0 ?
			       fail(p, "out of memory") :
			       1;
	}
	if (!strcmp(name, "topic")) {
		if (!*value || strpbrk(value, "#+"))
			return fail(p, "topic: expected a topic without "
				       "wildcards");
		return config_set(&c->mqtt_topic, value) < 0 ?
			       fail(p, "out of memory") :
			       1;
	}
	if (!strcmp(name, "client_id"))
		return config_set(&c->mqtt_client_id, value) < 0 ?
			       fail(p, "out of memory") :
			       1;
	if (!strcmp(name, "port")) {
		if (!parse_int(value, 1, 65535, &n))
			return fail(p, "port: expected 1..65535");
		c->mqtt_port = (int)n;
		return 1;
	}
	if (!strcmp(name, "qos")) {
		if (!parse_int(value, 0, 2, &n))
			return fail(p, "qos: expected 0, 1 or 2");
		c->mqtt_qos = (int)n;
		return 1;
	}
	return fail(p,
		    "unknown key '%s' in [mqtt] (expected host, port, "
		    "topic, client_id, qos)",
		    name);
}

static int on_detector(struct parse_ctx *p, const char *detector,
		       const char *name, const char *value)
{
	struct config *c = p->c;
	struct config_detector_key *k;

	k = realloc(c->detector_keys,
		    (c->n_detector_keys + 1) * sizeof(*c->detector_keys));
	if (!k)
		return fail(p, "out of memory");
	c->detector_keys = k;
	k = &k[c->n_detector_keys];
	k->detector = strdup(detector);
	k->key = strdup(name);
	k->value = strdup(value);
	k->line = (unsigned)p->ini.line;
	c->n_detector_keys++;
	if (!k->detector || !k->key || !k->value)
		return fail(p, "out of memory");
	/* whether the detector and key exist is for the detectors to say */
	return 1;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse_ctx *p = user;

	if (p->failed)
		return 1;
	if (!strcmp(section, "dtcd"))
		return on_dtcd(p, name, value);
	if (!strcmp(section, "mqtt"))
		return on_mqtt(p, name, value);
	if (!strncmp(section, "detector.", 9) && section[9])
		return on_detector(p, section + 9, name, value);
	return fail(p,
		    "unknown section [%s] (expected dtcd, mqtt, "
		    "detector.NAME)",
		    section);
}

int config_load(struct config **ret, const char *path, char *errbuf,
		size_t errlen)
{
	struct parse_ctx p = { 0 };
	struct config *c;
	int line;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tick_ms = 100;
	c->mqtt_port = 1883;
	c->mqtt_qos = 1;
	if (config_set(&c->profile, "bmw-reference") < 0 ||
	    config_set(&c->lang, "en") < 0 ||
	    config_set(&c->interface, "can0") < 0 ||
	    config_set(&c->mqtt_topic, "dtcd") < 0) {
		config_free(c);
		return -ENOMEM;
	}
	if (path) {
		p.c = c;
		line = ini_lines_parse(path, &p.ini, on_key, &p);
		if (line != 0) {
			if (line < 0)
				snprintf(errbuf, errlen, "%s: %s", path,
					 strerror(-line));
			else if (line == p.ini.long_line)
				snprintf(errbuf, errlen, "%s:%d: line too long",
					 path, line);
			else if (p.failed)
				snprintf(errbuf, errlen, "%s:%d: %s", path,
					 line, p.err);
			else
				snprintf(errbuf, errlen,
					 "%s:%d: expected [section], key = "
					 "value or a comment",
					 path, line);
			config_free(c);
			return line < 0 ? line : -EINVAL;
		}
		if (config_set(&c->path, path) < 0) {
			config_free(c);
			return -ENOMEM;
		}
	}
	*ret = c;
	return 0;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_detector_keys; i++) {
		free(c->detector_keys[i].detector);
		free(c->detector_keys[i].key);
		free(c->detector_keys[i].value);
	}
	free(c->detector_keys);
	free(c->path);
	free(c->profile);
	free(c->interface);
	free(c->state_dir);
	free(c->lang);
	free(c->etc_dir);
	free(c->mqtt_host);
	free(c->mqtt_topic);
	free(c->mqtt_client_id);
	free(c->control_socket);
	free(c);
}
