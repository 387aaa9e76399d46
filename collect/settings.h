/* settings.h: dtc-collect.conf: [mqtt] as dtcd's, [collect], [http] */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct settings {
	char *path; /* NULL: defaults only */
	/* dtcd's own [mqtt] keys, parsers and rules: host, port, topic,
	 * client_id, qos, tls, cafile, capath, certfile, keyfile,
	 * tls_version, username, password_file, insecure */
	struct config *mqtt;
	char *group;   /* [mqtt] group: a shared subscription; NULL: none */
	char *db;      /* [collect] db: an SQLite path or a postgresql:// URI */
	char *etc_dir; /* [collect] etc_dir: the workshop actions */
	unsigned max_events; /* [collect] max_events: a vehicle's timeline */
	char *http;	     /* [http] listen = ADDR:PORT */
	char *users_file;    /* [http] users_file: USER:CRYPT-HASH lines */
	char *token_file;    /* [http] token_file: one bearer token */
	unsigned http_max_connections;
	unsigned http_max_per_ip;
};

#define SETTINGS_DEFAULT_DB "/var/lib/dtc-collect/fleet.db"
#define SETTINGS_DEFAULT_CONF "/etc/dtcd/dtc-collect.conf"

/* Defaults, then path if not NULL; errbuf gets FILE:LINE: KEY: why. */
int settings_load(struct settings **ret, const char *path, char *errbuf,
		  size_t errlen);
/* Takes NULL. */
void settings_free(struct settings *s);
