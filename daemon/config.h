/* config.h: dtcd.conf, an INI file read with libinih */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

struct config_detector_key {
	char *detector; /* from [detector.NAME] */
	char *key;
	char *value;
	unsigned line;
};

struct config {
	char *path;    /* NULL: built-in defaults */
	char *profile; /* name or path */
	char *interface;
	char *state_dir; /* NULL: no persistence */
	char *lang;
	char *etc_dir; /* where profiles/, dtc.ini and actions live */
	unsigned tick_ms;
	/* events that may wait in memory while the store fails (0: default) */
	unsigned store_queue_max_events;
	bool json;
	bool poll;	 /* live: ask the car ([poll] of the profile) */
	char *mqtt_host; /* NULL: no MQTT */
	int mqtt_port;
	char *mqtt_topic;
	char *mqtt_client_id;
	int mqtt_qos;
	char *mqtt_vehicle; /* the id in payloads and topics; NULL: the VIN */
	/* TLS and login, named as mosquitto_pub's options */
	bool mqtt_tls;	    /* set by tls = yes or any TLS file */
	bool mqtt_insecure; /* plaintext to a non-loopback broker allowed */
	char *mqtt_cafile, *mqtt_capath, *mqtt_certfile, *mqtt_keyfile;
	char *mqtt_tls_version;
	char *mqtt_username, *mqtt_password_file;
	unsigned mqtt_outbox_max_events;
	unsigned mqtt_outbox_max_mb;
	unsigned mqtt_heartbeat_s;
	bool mqtt_homeassistant;
	bool mqtt_port_set; /* else 8883 with TLS, 1883 without */
	unsigned mqtt_line; /* of the host key, for errors */
	char *control_socket;
	/* [capsule]: evidence kept around each pending/confirmed event */
	bool capsule;		   /* enabled (with a store) */
	int64_t capsule_before_ns; /* frames from this long before */
	int64_t capsule_after_ns;  /* to this long after */
	unsigned capsule_max_kb;   /* one capsule at most */
	unsigned capsule_store_mb; /* all capsules in the store */
	unsigned capsule_ring_kb;  /* memory for the recent frames */
	struct config_detector_key *detector_keys;
	size_t n_detector_keys;
};

/* Defaults, then the file if path is not NULL. errbuf gets FILE:LINE: why. */
int config_load(struct config **ret, const char *path, char *errbuf,
		size_t errlen);
/* Takes NULL. */
void config_free(struct config *c);
/*
 * The keys of section "dtcd" or "mqtt" (NULL-terminated), NULL for any
 * other: what dtcd.conf accepts there, for tests and help texts.
 */
const struct conf_key *config_keys(const char *section);
/* Replace a string setting (from the command line). */
int config_set(char **field, const char *value);
/*
 * The [mqtt] rules once all keys are read: any TLS file turns TLS on, the
 * port defaults by it (8883, 1883), a broker off this machine needs TLS
 * unless insecure = yes, certfile and keyfile, username and password_file
 * go together. path and c->mqtt_line name the host's line in errbuf.
 */
int config_check_mqtt(struct config *c, const char *path, char *errbuf,
		      size_t errlen);
/* where profiles/, dtc.ini and the actions are: the source tree's etc/ for
 * a binary in the build tree, else the installed data directory */
const char *config_default_etc_dir(void);
