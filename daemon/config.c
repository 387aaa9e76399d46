/* config.c: dtcd.conf: its keys in one table per section (conf/) */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dtcd-build.h"
#include "conf.h"

struct parse_ctx {
	struct config *c;
	struct conf_file f;
};

int config_set(char **field, const char *value)
{
	char *s = value ? strdup(value) : NULL;

	if (value && !s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

static int parse_topic(const char *value, void *field)
{
	if (!*value || strpbrk(value, "#+"))
		return -EINVAL;
	return config_set(field, value);
}

static int parse_vehicle(const char *value, void *field)
{
	/* one topic level: no separator, no wildcard */
	if (!*value || strpbrk(value, "#+/"))
		return -EINVAL;
	return config_set(field, value);
}

static const char *const lang_names[] = { "en", "de", NULL };
static const char *const tls_versions[] = { "tlsv1.2", "tlsv1.3", NULL };

#define KEY(name, kind, field, ...)                                       \
	{                                                                 \
		name, kind, CONF_FIELD(struct config, field), __VA_ARGS__ \
	}

static const struct conf_key dtcd_keys[] = {
	KEY("profile", CONF_STRING, profile, .min = 1),
	KEY("interface", CONF_STRING, interface, .min = 1),
	KEY("state_dir", CONF_PATH, state_dir),
	KEY("etc_dir", CONF_PATH, etc_dir),
	KEY("lang", CONF_STRING, lang, .names = lang_names),
	KEY("tick_ms", CONF_UNSIGNED, tick_ms, .min = 10, .max = 10000),
	KEY("store_queue_max_events", CONF_UNSIGNED, store_queue_max_events,
	    .min = 1, .max = 100000000),
	KEY("json", CONF_BOOL, json),
	KEY("poll", CONF_BOOL, poll),
	KEY("control_socket", CONF_PATH, control_socket),
	{},
};

static const struct conf_key mqtt_keys[] = {
	KEY("host", CONF_STRING, mqtt_host, .min = 1),
	KEY("port", CONF_SIGNED, mqtt_port, .min = 1, .max = 65535),
	KEY("topic", CONF_CUSTOM, mqtt_topic, .parse = parse_topic,
	    .expect = "a topic without the wildcards # and +"),
	KEY("client_id", CONF_STRING, mqtt_client_id),
	KEY("qos", CONF_SIGNED, mqtt_qos, .min = 0, .max = 2),
	KEY("vehicle", CONF_CUSTOM, mqtt_vehicle, .parse = parse_vehicle,
	    .expect = "an id without / + #"),
	/* TLS and login, named as mosquitto_pub's options */
	KEY("tls", CONF_BOOL, mqtt_tls),
	KEY("cafile", CONF_PATH, mqtt_cafile),
	KEY("capath", CONF_PATH, mqtt_capath),
	KEY("certfile", CONF_PATH, mqtt_certfile),
	KEY("keyfile", CONF_PATH, mqtt_keyfile),
	KEY("tls_version", CONF_STRING, mqtt_tls_version,
	    .names = tls_versions),
	KEY("username", CONF_STRING, mqtt_username, .min = 1),
	KEY("password_file", CONF_PATH, mqtt_password_file),
	KEY("insecure", CONF_BOOL, mqtt_insecure),
	KEY("outbox_max_events", CONF_UNSIGNED, mqtt_outbox_max_events,
	    .min = 1, .max = 100000000),
	KEY("outbox_max_mb", CONF_UNSIGNED, mqtt_outbox_max_mb, .min = 1,
	    .max = 100000),
	KEY("heartbeat_s", CONF_UNSIGNED, mqtt_heartbeat_s, .min = 0,
	    .max = 86400),
	KEY("homeassistant", CONF_BOOL, mqtt_homeassistant),
	{},
};

static const struct conf_key capsule_keys[] = {
	KEY("enabled", CONF_BOOL, capsule),
	KEY("before", CONF_DURATION, capsule_before_ns, .min = 0, .max = 3600,
	    .unit_ns = 1000000000),
	KEY("after", CONF_DURATION, capsule_after_ns, .min = 0, .max = 3600,
	    .unit_ns = 1000000000),
	KEY("max_kb", CONF_UNSIGNED, capsule_max_kb, .min = 1, .max = 1048576),
	KEY("store_mb", CONF_UNSIGNED, capsule_store_mb, .min = 1,
	    .max = 100000),
	KEY("ring_kb", CONF_UNSIGNED, capsule_ring_kb, .min = 64,
	    .max = 4194304),
	{},
};

static const struct conf_section sections[] = {
	{ "dtcd", dtcd_keys },
	{ "mqtt", mqtt_keys },
	{ "capsule", capsule_keys },
	{},
};

const struct conf_key *config_keys(const char *section)
{
	return conf_section_keys(sections, section);
}

static int on_detector(struct parse_ctx *p, const char *detector,
		       const char *name, const char *value)
{
	struct config *c = p->c;
	struct config_detector_key *k;

	k = realloc(c->detector_keys,
		    (c->n_detector_keys + 1) * sizeof(*c->detector_keys));
	if (!k)
		return conf_fail(&p->f, "out of memory");
	c->detector_keys = k;
	k = &k[c->n_detector_keys];
	k->detector = strdup(detector);
	k->key = strdup(name);
	k->value = strdup(value);
	k->line = (unsigned)p->f.ini.line;
	c->n_detector_keys++;
	if (!k->detector || !k->key || !k->value)
		return conf_fail(&p->f, "out of memory");
	/* whether the detector and key exist is for the detectors to say */
	return 0;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse_ctx *p = user;
	const struct conf_key *keys = config_keys(section);

	if (conf_failed(&p->f))
		return 1;
	if (!strcmp(section, "mqtt") && !strcmp(name, "host"))
		p->c->mqtt_line = (unsigned)p->f.ini.line;
	if (keys)
		conf_apply(&p->f, section, keys, p->c, name, value);
	else if (!strncmp(section, "detector.", 9) && section[9])
		on_detector(p, section + 9, name, value);
	else
		conf_unknown_section(&p->f, section,
				     "dtcd, mqtt, capsule, detector.NAME");
	return 1;
}

static bool host_is_loopback(const char *h)
{
	return !strcmp(h, "localhost") || !strncmp(h, "127.", 4) ||
	       !strcmp(h, "::1") || !strcmp(h, "[::1]");
}

/*
 * Nothing leaves the car unencrypted: a broker elsewhere than on this
 * machine gets TLS, or the configuration says in so many words that it
 * may not. Any TLS file turns TLS on, as for mosquitto_pub. The line is
 * the host's.
 */
int config_check_mqtt(struct config *c, const char *path, char *errbuf,
		      size_t errlen)
{
	const char *why = NULL;

	c->mqtt_tls |= c->mqtt_cafile || c->mqtt_capath || c->mqtt_certfile ||
		       c->mqtt_keyfile || c->mqtt_tls_version;
	if (!c->mqtt_port)
		c->mqtt_port = c->mqtt_tls ? 8883 : 1883;
	if (!c->mqtt_host)
		return 0;
	if (!c->mqtt_tls && !c->mqtt_insecure &&
	    !host_is_loopback(c->mqtt_host))
		why = "is not a loopback address and the connection would not "
		      "be encrypted: set cafile or capath (or tls = yes for "
		      "the system's CA store), or insecure = yes to send in "
		      "plain text";
	else if (!c->mqtt_certfile != !c->mqtt_keyfile)
		why = "needs certfile and keyfile together";
	else if (!c->mqtt_username != !c->mqtt_password_file)
		why = "needs username and password_file together";
	if (!why)
		return 0;
	snprintf(errbuf, errlen, "%s:%u: [mqtt] host %s %s", path, c->mqtt_line,
		 c->mqtt_host, why);
	return -EINVAL;
}

int config_load(struct config **ret, const char *path, char *errbuf,
		size_t errlen)
{
	struct parse_ctx p = { 0 };
	struct config *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tick_ms = 100;
	c->mqtt_port = 0; /* 8883 with TLS, else 1883 */
	c->mqtt_qos = 1;
	c->mqtt_outbox_max_events = 100000;
	c->mqtt_outbox_max_mb = 64;
	c->mqtt_heartbeat_s = 60;
	/* docs/desk.md: 60 s before, 10 s after; about 70 s of a busy bus
	 * (4,000 frames/s of 30-byte records) in the ring */
	c->capsule = true;
	c->capsule_before_ns = 60 * 1000000000LL;
	c->capsule_after_ns = 10 * 1000000000LL;
	c->capsule_max_kb = 8192;
	c->capsule_store_mb = 256;
	c->capsule_ring_kb = 8192;
	if (config_set(&c->profile, "bmw-reference") < 0 ||
	    config_set(&c->lang, "en") < 0 ||
	    config_set(&c->interface, "can0") < 0 ||
	    config_set(&c->mqtt_topic, "dtcd") < 0) {
		config_free(c);
		return -ENOMEM;
	}
	if (path) {
		p.c = c;
		r = conf_parse(&p.f, path, on_key, &p);
		if (r < 0) {
			snprintf(errbuf, errlen, "%s", p.f.err);
			config_free(c);
			return r;
		}
		if (config_set(&c->path, path) < 0) {
			config_free(c);
			return -ENOMEM;
		}
	}
	r = config_check_mqtt(c, path, errbuf, errlen);
	if (r < 0) {
		config_free(c);
		return r;
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
	free(c->mqtt_vehicle);
	free(c->mqtt_cafile);
	free(c->mqtt_capath);
	free(c->mqtt_certfile);
	free(c->mqtt_keyfile);
	free(c->mqtt_tls_version);
	free(c->mqtt_username);
	free(c->mqtt_password_file);
	free(c->control_socket);
	free(c);
}

/* A binary in the build tree uses the source tree's etc/, else the installed
 * one. */
const char *config_default_etc_dir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		if (strncmp(exe, DTCD_BUILD_ROOT "/",
			    strlen(DTCD_BUILD_ROOT) + 1) == 0)
			return DTCD_SOURCE_ETC;
	}
	return DTCD_DATADIR;
}
