/* mqtt_tls.h: TLS and login of a libmosquitto client (dtcd, dtc-collect) */
#pragma once

#include <stddef.h>

#include "config.h"

struct mosquitto;

/*
 * The [mqtt] keys cafile, capath, certfile, keyfile, tls_version, username
 * and password_file of cfg (config_check_mqtt() has run) on mosq: the
 * broker's certificate and host name always verified, the password read
 * from its file. 0, or -errno with errbuf saying why.
 */
int mqtt_tls_setup(struct mosquitto *mosq, const struct config *cfg,
		   char *errbuf, size_t errlen);
