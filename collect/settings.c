/* settings.c: dtc-collect.conf through conf/'s key tables; [mqtt] is dtcd's */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "settings.h"

struct ctx {
	struct conf_file f;
	struct settings *s;
};

static int parse_group(const char *value, void *field)
{
	/* one topic level of $share/GROUP/... */
	if (!*value || strpbrk(value, "#+/"))
		return -EINVAL;
	return config_set(field, value);
}

#define KEY(name, kind, field, ...)                                         \
	{                                                                   \
		name, kind, CONF_FIELD(struct settings, field), __VA_ARGS__ \
	}

static const struct conf_key mqtt_keys[] = {
	KEY("group", CONF_CUSTOM, group, .parse = parse_group,
	    .expect = "a name without / + #"),
	{},
};

static const struct conf_key collect_keys[] = {
	KEY("db", CONF_STRING, db, .min = 1),
	KEY("etc_dir", CONF_PATH, etc_dir),
	KEY("max_events", CONF_UNSIGNED, max_events, .min = 1, .max = 100000),
	{},
};

static const struct conf_key http_keys[] = {
	KEY("listen", CONF_STRING, http, .min = 3),
	KEY("users_file", CONF_PATH, users_file),
	KEY("token_file", CONF_PATH, token_file),
	KEY("max_connections", CONF_UNSIGNED, http_max_connections, .min = 1,
	    .max = 10000),
	KEY("max_per_ip", CONF_UNSIGNED, http_max_per_ip, .min = 1,
	    .max = 10000),
	{},
};

/* what a collector takes of dtcd's [mqtt] (not vehicle, outbox_*, ...) */
static const char *const dtcd_mqtt_keys[] = {
	"host",	       "port",	   "topic",	    "client_id", "qos",
	"tls",	       "cafile",   "capath",	    "certfile",	 "keyfile",
	"tls_version", "username", "password_file", "insecure",	 NULL,
};

static bool dtcd_key(const char *name)
{
	for (size_t i = 0; dtcd_mqtt_keys[i]; i++)
		if (!strcmp(name, dtcd_mqtt_keys[i]))
			return true;
	return false;
}

static void on_mqtt(struct ctx *x, const char *name, const char *value)
{
	struct config *c = x->s->mqtt;

	if (conf_key_find(mqtt_keys, name)) {
		conf_apply(&x->f, "mqtt", mqtt_keys, x->s, name, value);
		return;
	}
	if (!dtcd_key(name)) {
		conf_fail(&x->f,
			  "unknown key '%s' in [mqtt] (expected host, port, "
			  "topic, client_id, qos, tls, cafile, capath, "
			  "certfile, keyfile, tls_version, username, "
			  "password_file, insecure, group)",
			  name);
		return;
	}
	if (!strcmp(name, "host"))
		c->mqtt_line = (unsigned)x->f.ini.line;
	conf_apply(&x->f, "mqtt", config_keys("mqtt"), c, name, value);
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct ctx *x = user;

	if (conf_failed(&x->f))
		return 1;
	if (!strcmp(section, "mqtt"))
		on_mqtt(x, name, value);
	else if (!strcmp(section, "collect"))
		conf_apply(&x->f, section, collect_keys, x->s, name, value);
	else if (!strcmp(section, "http"))
		conf_apply(&x->f, section, http_keys, x->s, name, value);
	else
		conf_unknown_section(&x->f, section, "mqtt, collect, http");
	return 1;
}

static int defaults(struct settings *s, char *errbuf, size_t errlen)
{
	char host[64] = "", id[96];
	int r;

	r = config_load(&s->mqtt, NULL, errbuf, errlen);
	if (r < 0)
		return r;
	/* the port follows tls once the file is read */
	s->mqtt->mqtt_port = 0;
	s->max_events = 500;
	s->http_max_connections = 64;
	s->http_max_per_ip = 16;
	/* a persistent session needs the same id at each start */
	gethostname(host, sizeof(host) - 1);
	snprintf(id, sizeof(id), "dtc-collect-%s", host[0] ? host : "host");
	if (config_set(&s->mqtt->mqtt_host, "localhost") < 0 ||
	    config_set(&s->mqtt->mqtt_client_id, id) < 0 ||
	    config_set(&s->db, SETTINGS_DEFAULT_DB) < 0)
		return -ENOMEM;
	return 0;
}

int settings_load(struct settings **ret, const char *path, char *errbuf,
		  size_t errlen)
{
	struct settings *s = calloc(1, sizeof(*s));
	struct ctx x = { 0 };
	int r;

	if (!s)
		return -ENOMEM;
	r = defaults(s, errbuf, errlen);
	if (r == 0 && path) {
		x.s = s;
		r = conf_parse(&x.f, path, on_key, &x);
		if (r < 0)
			snprintf(errbuf, errlen, "%s", x.f.err);
		else if (config_set(&s->path, path) < 0)
			r = -ENOMEM;
	}
	if (r == 0)
		r = config_check_mqtt(s->mqtt, path ? path : "(defaults)",
				      errbuf, errlen);
	if (r == 0 && !s->etc_dir &&
	    config_set(&s->etc_dir, config_default_etc_dir()) < 0)
		r = -ENOMEM;
	if (r < 0) {
		settings_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void settings_free(struct settings *s)
{
	if (!s)
		return;
	config_free(s->mqtt);
	free(s->path);
	free(s->group);
	free(s->db);
	free(s->etc_dir);
	free(s->http);
	free(s->users_file);
	free(s->token_file);
	free(s);
}
