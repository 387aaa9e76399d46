/* mqtt_tls.c: TLS and login of a libmosquitto client from the [mqtt] keys */
#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <string.h>

#include "mqtt_tls.h"

#define MQTT_SYSTEM_CAPATH "/etc/ssl/certs"

/* an encrypted key file needs a passphrase we do not have: no prompt */
static int no_passphrase(char *buf, int size, int rwflag, void *ud)
{
	return 0;
}

/* the first line of password_file: the password never sits in dtcd.conf */
static int read_password(const char *path, char *buf, size_t len, char *errbuf,
			 size_t errlen)
{
	FILE *f = fopen(path, "re");
	int r = 0;

	if (!f) {
		snprintf(errbuf, errlen, "mqtt: password_file %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	if (!fgets(buf, (int)len, f)) {
		snprintf(errbuf, errlen, "mqtt: password_file %s: empty", path);
		r = -EINVAL;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return r;
}

int mqtt_tls_setup(struct mosquitto *mosq, const struct config *cfg,
		   char *errbuf, size_t errlen)
{
	const char *capath = cfg->mqtt_capath;
	char pw[256];
	int rc, r;

	if (cfg->mqtt_tls) {
		/* no CA named: the system's store, as mosquitto_pub does */
		if (!cfg->mqtt_cafile && !capath)
			capath = MQTT_SYSTEM_CAPATH;
		rc = mosquitto_tls_set(mosq, cfg->mqtt_cafile, capath,
				       cfg->mqtt_certfile, cfg->mqtt_keyfile,
				       no_passphrase);
		if (rc != MOSQ_ERR_SUCCESS) {
			snprintf(errbuf, errlen,
				 "mqtt: TLS: cannot use cafile %s, capath %s, "
				 "certfile %s, keyfile %s: %s",
				 cfg->mqtt_cafile ? cfg->mqtt_cafile : "-",
				 capath ? capath : "-",
				 cfg->mqtt_certfile ? cfg->mqtt_certfile : "-",
				 cfg->mqtt_keyfile ? cfg->mqtt_keyfile : "-",
				 rc == MOSQ_ERR_ERRNO ? strerror(errno) :
							mosquitto_strerror(rc));
			return -EINVAL;
		}
		/* 1 = SSL_VERIFY_PEER: the broker's certificate, always */
		rc = mosquitto_tls_opts_set(mosq, 1, cfg->mqtt_tls_version,
					    NULL);
		if (rc == MOSQ_ERR_SUCCESS)
			/* and its host name */
			rc = mosquitto_tls_insecure_set(mosq, false);
		if (rc != MOSQ_ERR_SUCCESS) {
			snprintf(errbuf, errlen, "mqtt: TLS: %s",
				 mosquitto_strerror(rc));
			return -EINVAL;
		}
	}
	if (!cfg->mqtt_username)
		return 0;
	r = read_password(cfg->mqtt_password_file, pw, sizeof(pw), errbuf,
			  errlen);
	if (r < 0)
		return r;
	rc = mosquitto_username_pw_set(mosq, cfg->mqtt_username, pw);
	explicit_bzero(pw, sizeof(pw));
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(errbuf, errlen, "mqtt: username: %s",
			 mosquitto_strerror(rc));
		return -EINVAL;
	}
	return 0;
}
