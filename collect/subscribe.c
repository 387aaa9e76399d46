/* subscribe.c: libmosquitto subscriber; a burst read is one commit (batch.c) */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "ingest.h"
#include "log.h"
#include "mqtt_tls.h"
#include "subscribe.h"
#include "wall.h"

#define SUB_KEEPALIVE 30
#define SUB_RECONNECT_MIN 1.0
#define SUB_RECONNECT_MAX 30.0
/* the broker keeps the session (subscriptions, queued QoS 1 messages)
 * while the collector is away: as MQTT 3.1.1's clean_session = false */
#define SUB_SESSION_EXPIRY UINT32_MAX

struct sub {
	const struct settings *s;
	struct batch *batch;
	struct mosquitto *mosq;
	const char *topic;
	size_t topic_len;
	bool connected;
	double reconnect_delay;
	unsigned long rejected;
	char last_error[256];
};

/* the car's id from TOPIC/VEHICLE/KIND, and KIND; false: not ours */
static bool split_topic(struct sub *sb, const char *topic, char *vehicle,
			size_t len, const char **kind)
{
	const char *v, *slash;

	if (strncmp(topic, sb->topic, sb->topic_len) ||
	    topic[sb->topic_len] != '/')
		return false;
	v = topic + sb->topic_len + 1;
	slash = strchr(v, '/');
	if (!slash || slash == v || (size_t)(slash - v) >= len)
		return false;
	memcpy(vehicle, v, (size_t)(slash - v));
	vehicle[slash - v] = '\0';
	*kind = slash + 1;
	return true;
}

static void on_event(struct sub *sb, const struct mosquitto_message *msg)
{
	struct ingest_event ev;
	char err[256];

	if (ingest_event(msg->payload, (size_t)msg->payloadlen, &ev, err,
			 sizeof(err)) < 0) {
		sb->rejected++;
		log_warnx("%s: rejected: %s", msg->topic, err);
		return;
	}
	batch_add_event(sb->batch, &ev);
}

static void on_status(struct sub *sb, const struct mosquitto_message *msg)
{
	struct ingest_status st;
	char err[256];

	if (msg->payloadlen == 0)
		return; /* a retained status cleared */
	if (ingest_status(msg->payload, (size_t)msg->payloadlen, &st, err,
			  sizeof(err)) < 0) {
		sb->rejected++;
		log_warnx("%s: rejected: %s", msg->topic, err);
		return;
	}
	batch_add_status(sb->batch, &st);
}

static void on_online(struct sub *sb, const char *vehicle,
		      const struct mosquitto_message *msg)
{
	int online = ingest_online(msg->payload, (size_t)msg->payloadlen);

	if (msg->payloadlen == 0)
		return; /* the car's retained state cleared (VIN now known) */
	if (online < 0 || !ingest_id_valid(vehicle)) {
		sb->rejected++;
		log_warnx("%s: rejected: expected online or offline",
			  msg->topic);
		return;
	}
	batch_add_online(sb->batch, vehicle, online);
}

static void on_message(struct mosquitto *mosq, void *ud,
		       const struct mosquitto_message *msg)
{
	struct sub *sb = ud;
	char vehicle[INGEST_MAX_ID + 1];
	const char *kind;

	log_debug("mqtt: received %s (%d bytes, qos %d%s)", msg->topic,
		  msg->payloadlen, msg->qos, msg->retain ? ", retained" : "");
	if (!split_topic(sb, msg->topic, vehicle, sizeof(vehicle), &kind))
		return;
	if (!strcmp(kind, "events"))
		on_event(sb, msg);
	else if (!strcmp(kind, "status"))
		on_status(sb, msg);
	else if (!strcmp(kind, "online"))
		on_online(sb, vehicle, msg);
}

static void on_connect(struct mosquitto *mosq, void *ud, int rc, int flags,
		       const mosquitto_property *props)
{
	struct sub *sb = ud;
	const struct config *c = sb->s->mqtt;
	char events[512], status[512], online[512];
	int r;

	if (rc != 0) {
		log_warnx("mqtt: %s:%d refused the connection: %s; retrying",
			  c->mqtt_host, c->mqtt_port,
			  mosquitto_reason_string(rc));
		return;
	}
	sb->connected = true;
	sb->reconnect_delay = SUB_RECONNECT_MIN;
	if (sb->s->group)
		snprintf(events, sizeof(events), "$share/%s/%s/+/events",
			 sb->s->group, sb->topic);
	else
		snprintf(events, sizeof(events), "%s/+/events", sb->topic);
	snprintf(status, sizeof(status), "%s/+/status", sb->topic);
	snprintf(online, sizeof(online), "%s/+/online", sb->topic);
	log_info("mqtt: connected to %s:%d as %s (%s session), subscribing "
		 "%s, %s, %s",
		 c->mqtt_host, c->mqtt_port, c->mqtt_client_id,
		 flags & 1 ? "the kept" : "a new", events, status, online);
	/* QoS 1 at most: QoS 2 buys nothing here (docs/fleet.md) */
	r = mosquitto_subscribe_v5(mosq, NULL, events, 1, 0, NULL);
	if (r == MOSQ_ERR_SUCCESS)
		r = mosquitto_subscribe_v5(mosq, NULL, status, 1,
					   MQTT_SUB_OPT_SEND_RETAIN_ALWAYS,
					   NULL);
	if (r == MOSQ_ERR_SUCCESS)
		r = mosquitto_subscribe_v5(mosq, NULL, online, 1,
					   MQTT_SUB_OPT_SEND_RETAIN_ALWAYS,
					   NULL);
	if (r != MOSQ_ERR_SUCCESS)
		log_warnx("mqtt: subscribe: %s", mosquitto_strerror(r));
}

static void on_subscribe(struct mosquitto *mosq, void *ud, int mid,
			 int qos_count, const int *granted)
{
	for (int i = 0; i < qos_count; i++)
		if (granted[i] > 2)
			log_warnx("mqtt: the broker refused a subscription "
				  "(reason %d)",
				  granted[i]);
	log_info("mqtt: subscribed (mid %d)", mid);
}

static void on_disconnect(struct mosquitto *mosq, void *ud, int rc)
{
	struct sub *sb = ud;
	const struct config *c = sb->s->mqtt;

	if (sb->connected && rc != 0)
		log_warnx("mqtt: lost %s:%d (%s); the broker keeps the "
			  "session, reconnecting",
			  c->mqtt_host, c->mqtt_port, mosquitto_strerror(rc));
	sb->connected = false;
}

static void on_log(struct mosquitto *mosq, void *ud, int level, const char *str)
{
	struct sub *sb = ud;

	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		snprintf(sb->last_error, sizeof(sb->last_error), "%s", str);
	log_debug("mqtt: %s", str);
}

static int connect_broker(struct sub *sb)
{
	const struct config *c = sb->s->mqtt;
	mosquitto_property *props = NULL;
	int rc;

	mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
				     SUB_SESSION_EXPIRY);
	rc = mosquitto_connect_bind_v5(sb->mosq, c->mqtt_host, c->mqtt_port,
				       SUB_KEEPALIVE, NULL, props);
	mosquitto_property_free_all(&props);
	return rc;
}

static int setup(struct sub *sb, char *errbuf, size_t errlen)
{
	const struct config *c = sb->s->mqtt;
	int r;

	sb->mosq = mosquitto_new(c->mqtt_client_id, false, sb);
	if (!sb->mosq) {
		snprintf(errbuf, errlen, "mqtt: %s", strerror(errno));
		return -errno;
	}
	mosquitto_int_option(sb->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			     MQTT_PROTOCOL_V5);
	r = mqtt_tls_setup(sb->mosq, c, errbuf, errlen);
	if (r < 0)
		return r;
	mosquitto_connect_v5_callback_set(sb->mosq, on_connect);
	mosquitto_disconnect_callback_set(sb->mosq, on_disconnect);
	mosquitto_message_callback_set(sb->mosq, on_message);
	mosquitto_subscribe_callback_set(sb->mosq, on_subscribe);
	mosquitto_log_callback_set(sb->mosq, on_log);
	return 0;
}

/*
 * More of a burst is waiting: read it into the batch before committing.
 * libmosquitto reads one packet per mosquitto_loop() (lib/loop.c, when it
 * has nothing queued to send) and over TLS drains what OpenSSL holds, so
 * the socket alone says whether more has come.
 */
static bool more_readable(struct mosquitto *mosq)
{
	struct pollfd p = { .fd = mosquitto_socket(mosq), .events = POLLIN };

	return p.fd >= 0 && poll(&p, 1, 0) > 0;
}

int subscribe_run(const struct settings *s, struct db *db,
		  volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	struct sub sb = { .s = s };
	const struct config *c = s->mqtt;
	const struct batch_stats *st;
	bool warned = false;
	int rc, r;

	sb.topic = c->mqtt_topic;
	sb.topic_len = strlen(sb.topic);
	sb.reconnect_delay = SUB_RECONNECT_MIN;
	r = batch_new(&sb.batch, db, stop);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s", strerror(-r));
		return r;
	}
	mosquitto_lib_init();
	r = setup(&sb, errbuf, errlen);
	if (r < 0) {
		mosquitto_destroy(sb.mosq);
		mosquitto_lib_cleanup();
		batch_free(sb.batch);
		return r;
	}
	rc = connect_broker(&sb);
	while (!*stop) {
		if (rc == MOSQ_ERR_SUCCESS)
			/* with messages held, only what has come already */
			rc = mosquitto_loop(
				sb.mosq, batch_empty(sb.batch) ? 1000 : 0, 1);
		if (batch_due(sb.batch,
			      rc == MOSQ_ERR_SUCCESS && more_readable(sb.mosq)))
			batch_commit(sb.batch);
		if (rc == MOSQ_ERR_SUCCESS) {
			warned = false;
			continue;
		}
		if (*stop)
			break;
		if (!warned)
			log_warnx("mqtt: %s:%d: %s%s%s; retrying with back-off",
				  c->mqtt_host, c->mqtt_port,
				  rc == MOSQ_ERR_ERRNO ? strerror(errno) :
							 mosquitto_strerror(rc),
				  sb.last_error[0] ? ": " : "", sb.last_error);
		warned = true;
		wall_sleep_s(sb.reconnect_delay * (0.75 + 0.5 * drand48()));
		sb.reconnect_delay =
			sb.reconnect_delay * 2 > SUB_RECONNECT_MAX ?
				SUB_RECONNECT_MAX :
				sb.reconnect_delay * 2;
		if (!*stop)
			rc = connect_broker(&sb);
	}
	/* what was read before the stop */
	batch_commit(sb.batch);
	st = batch_stats(sb.batch);
	log_info("stopping: %lu events stored, %lu duplicates dropped, %lu "
		 "status messages, %lu rejected, in %lu commits (%.1f s in "
		 "the database)",
		 st->events, st->duplicates, st->statuses, sb.rejected,
		 st->commits, st->seconds);
	mosquitto_disconnect_v5(sb.mosq, 0, NULL);
	mosquitto_destroy(sb.mosq);
	mosquitto_lib_cleanup();
	batch_free(sb.batch);
	return 0;
}
