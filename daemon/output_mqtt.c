/* output_mqtt.c: DTC events and the DTC list to fleet operators over MQTT */
#include <ctype.h>
#include <errno.h>
#include <ev.h>
#include <json-c/json.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dtcd-build.h"
#include "log.h"
#include "manager.h"
#include "catalogue.h"
#include "detector.h"
#include "mqtt_ha.h"
#include "mqtt_tls.h"
#include "output_json.h"
#include "output_mqtt.h"
#include "store.h"

/* status and online messages waiting for the broker: ~1 KiB each */
#define MQTT_MAX_OUTSTANDING 1000
/* events handed to libmosquitto before their PUBACK: the rest wait in the
 * outbox, so a broker away for days costs no memory */
#define MQTT_WINDOW 20
#define MQTT_KEEPALIVE 30
#define MQTT_RECONNECT_MIN 1.0
#define MQTT_RECONNECT_MAX 60.0
/* a TLS handshake or CONNACK that does not come: the attempt failed */
#define MQTT_CONNECT_TIMEOUT 20.0
/* what a stopping dtcd waits for the broker's acknowledgements */
#define MQTT_STOP_SECONDS 10.0

struct mqtt_out {
	struct mosquitto *mosq;
	/* what it reads of the pipeline; all NULL before attach */
	struct output_env env;
	struct ev_loop *loop;
	char *host;
	int port;
	int qos;
	char *topic;
	char vin[SIG_VIN_LEN + 1];
	char *t_events, *t_status, *t_online;
	/* libmosquitto's socket in the loop; fd -1 while disconnected */
	int fd;
	ev_io rio, wio;
	ev_timer misc;
	bool started;
	bool stopping; /* "offline" is queued: no "online" after it */
	bool ever_tried;
	bool open; /* an attempt's socket is open, its outcome not known yet */
	ev_tstamp attempt_start;
	bool connected;
	bool refused; /* the broker's CONNACK said no: on_disconnect follows */
	/* the failure last logged ("" while connected): each reason once */
	char warned[384];
	double reconnect_delay;
	ev_tstamp next_reconnect;
	/* status/online published with QoS > 0, not acknowledged yet */
	unsigned outstanding;
	unsigned long dropped; /* status messages without room */
	bool status_dirty;     /* a status was dropped: send one when room */
	/* the outbox: events are sent from the store, in event_id order */
	struct dtc_store *store;
	struct {
		int mid;
		uint64_t event_id;
	} inflight[MQTT_WINDOW];
	size_t n_inflight;
	uint64_t last_sent; /* the highest event_id given to libmosquitto */
	unsigned long sent, acked, outbox_dropped;
	bool warned_ack;
	char *vehicle; /* configured id, NULL: the VIN */
	/* libmosquitto's last error (a TLS failure says why there) */
	char last_error[256];
	unsigned heartbeat_s;
	ev_timer heartbeat;
	bool ha;
	bool ecu_mil;
	int64_t last_ecu_ns; /* the last answer an ECU gave about itself */
};

static const struct output_ops mqtt_ops;

static void mqtt_watch(struct mqtt_out *m);

static int set_topics(struct mqtt_out *m, const char *vin)
{
	char *e = NULL, *s = NULL, *o = NULL;
	size_t i;

	/* a VIN is 17 letters and digits; anything else must not reach a
	 * topic level ("/", "+", "#"); a configured id wins */
	if (m->vehicle)
		vin = m->vehicle;
	for (i = 0; vin[i] && i < SIG_VIN_LEN; i++)
		m->vin[i] = isalnum((unsigned char)vin[i]) ? vin[i] : '_';
	m->vin[i] = '\0';
	if (asprintf(&e, "%s/%s/events", m->topic, m->vin) < 0 ||
	    asprintf(&s, "%s/%s/status", m->topic, m->vin) < 0 ||
	    asprintf(&o, "%s/%s/online", m->topic, m->vin) < 0) {
		free(e);
		free(s);
		return -ENOMEM;
	}
	free(m->t_events);
	free(m->t_status);
	free(m->t_online);
	m->t_events = e;
	m->t_status = s;
	m->t_online = o;
	return 0;
}

/* 0, or -ENOBUFS when the queue is full, -EIO when libmosquitto refused */
static int publish(struct mqtt_out *m, const char *topic, const char *payload,
		   bool retain)
{
	int rc;

	/* the status and online go out at each connection anyway; nothing
	 * is written to a connection the broker refused */
	if (!m->connected)
		return -ENOTCONN;
	if (m->qos > 0 && m->outstanding >= MQTT_MAX_OUTSTANDING)
		return -ENOBUFS;
	rc = mosquitto_publish(m->mosq, NULL, topic, (int)strlen(payload),
			       payload, m->qos, retain);
	/*
	 * Without a connection libmosquitto keeps a QoS 1/2 message in its
	 * queue and sends it after the next CONNACK, yet says NO_CONN.
	 */
	if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && m->qos > 0)) {
		if (m->qos > 0)
			m->outstanding++;
		mqtt_watch(m);
		return 0;
	}
	if (rc != MOSQ_ERR_NO_CONN)
		log_warnx("mqtt: publish on %s: %s", topic,
			  mosquitto_strerror(rc));
	return -EIO;
}

static void publish_retained(void *ud, const char *topic, const char *payload)
{
	publish(ud, topic, payload, true);
}

static struct mqtt_ha ha_of(struct mqtt_out *m, char *base, size_t len)
{
	snprintf(base, len, "%s/%s", m->topic, m->vin);
	return (struct mqtt_ha){
		.vehicle = m->vin,
		.base = base,
		.status_topic = m->t_status,
		.online_topic = m->t_online,
		.model = m->env.profile_name,
		.publish = publish_retained,
		.ud = m,
	};
}

static int open_dtcs(const struct dtc_manager *mgr)
{
	struct dtc_info d;
	int n = 0;

	for (size_t i = 0; mgr && i < dtc_manager_n_dtcs(mgr); i++)
		if (dtc_manager_dtc(mgr, i, &d) == 0 &&
		    output_json_dtc_current(&d))
			n++;
	return n;
}

/* the retained status: the DTC list and the heartbeat's counters */
static void publish_status(struct mqtt_out *m)
{
	struct json_object *o = json_object_new_object(), *det;
	const struct dtc_manager *mgr = m->env.manager;
	char base[256];

	json_object_object_add(o, "ts",
			       output_json_ts(output_env_now(&m->env)));
	json_object_object_add(o, "vin", json_object_new_string(m->vin));
	json_object_object_add(o, "vehicle", json_object_new_string(m->vin));
	json_object_object_add(o, "dtcd_version",
			       json_object_new_string(DTCD_VERSION));
	json_object_object_add(
		o, "frames",
		json_object_new_int64(m->env.frames ? (int64_t)*m->env.frames :
						      0));
	json_object_object_add(
		o, "dropped",
		json_object_new_int64((int64_t)m->outbox_dropped));
	det = json_object_new_array();
	for (size_t i = 0; m->env.detectors && i < detectors_count(); i++)
		if (detectors_is_active(m->env.detectors, detectors_name(i)))
			json_object_array_add(
				det, json_object_new_string(detectors_name(i)));
	json_object_object_add(o, "active_detectors", det);
	json_object_object_add(o, "open_dtcs",
			       json_object_new_int(open_dtcs(mgr)));
	json_object_object_add(
		o, "outbox",
		json_object_new_int64(
			(int64_t)dtc_store_outbox_depth(m->store)));
	json_object_object_add(o, "last_poll",
			       m->last_ecu_ns ? output_json_ts(m->last_ecu_ns) :
						NULL);
	json_object_object_add(
		o, "dtcs", output_json_dtc_list(mgr, m->env.catalogue, false));
	m->status_dirty = publish(m, m->t_status, output_json_string(o),
				  true) == -ENOBUFS;
	json_object_put(o);
	if (m->ha && m->env.signals && !m->status_dirty) {
		struct mqtt_ha ha = ha_of(m, base, sizeof(base));

		mqtt_ha_state(&ha, &m->env, m->ecu_mil);
	}
}

/* ---- the outbox ---- */

/* events from the store, oldest first, while the broker is there */
static void pump(struct mqtt_out *m)
{
	uint64_t id;
	char *payload;
	int mid, rc;

	while (m->connected && m->store && m->n_inflight < MQTT_WINDOW &&
	       dtc_store_outbox_next(m->store, m->last_sent, &id, &payload) >
		       0) {
		rc = mosquitto_publish(m->mosq, &mid, m->t_events,
				       (int)strlen(payload), payload, m->qos,
				       false);
		free(payload);
		if (rc != MOSQ_ERR_SUCCESS) {
			log_debug("mqtt: event %llu: %s",
				  (unsigned long long)id,
				  mosquitto_strerror(rc));
			break;
		}
		m->inflight[m->n_inflight].mid = mid;
		m->inflight[m->n_inflight++].event_id = id;
		m->last_sent = id;
		m->sent++;
	}
	mqtt_watch(m);
}

/* the broker has it (PUBACK; for QoS 0: written): out of the outbox */
static bool acked(struct mqtt_out *m, int mid)
{
	int r;

	for (size_t i = 0; i < m->n_inflight; i++) {
		if (m->inflight[i].mid != mid)
			continue;
		r = dtc_store_outbox_ack(m->store, m->inflight[i].event_id);
		/* the row stays: sent again after a restart, a duplicate a
		 * collector drops by event_id, never a loss */
		if (r < 0 && !m->warned_ack) {
			log_warnx("mqtt: outbox: %s (%s); acknowledged events "
				  "may be sent again after a restart",
				  strerror(-r), dtc_store_errmsg(m->store));
			m->warned_ack = true;
		}
		m->acked++;
		memmove(&m->inflight[i], &m->inflight[i + 1],
			(m->n_inflight - i - 1) * sizeof(m->inflight[0]));
		m->n_inflight--;
		return true;
	}
	return false;
}

static char *mqtt_payload(void *state, const struct dtc_event *ev,
			  const struct catalogue_entry *e)
{
	struct mqtt_out *m = state;
	const struct signal_table *t = m->env.signals;
	const char *vehicle = m->vehicle;
	struct json_object *o;
	char *s;

	if (!vehicle && t && t->slot[SIG_VIN].valid && t->slot[SIG_VIN].text[0])
		vehicle = t->slot[SIG_VIN].text;
	if (!vehicle && ev->freeze_frame && ev->freeze_frame->vin[0])
		vehicle = ev->freeze_frame->vin;
	o = output_json_event(ev, e ? e->action : NULL, e ? e->title : NULL);
	/* what a collector drops duplicates by: (vehicle, event_id) */
	json_object_object_add(
		o, "vehicle",
		json_object_new_string(vehicle ? vehicle : "unknown"));
	json_object_object_add(o, "event_id",
			       json_object_new_int64((int64_t)ev->event_id));
	json_object_object_add(o, "dtcd_version",
			       json_object_new_string(DTCD_VERSION));
	s = strdup(output_json_string(o));
	json_object_put(o);
	return s;
}

static void mqtt_attach(void *state, struct dtc_store *store)
{
	struct mqtt_out *m = state;

	m->store = store;
}

static void mqtt_env(void *state, const struct output_env *env)
{
	struct mqtt_out *m = state;

	m->env = *env;
}

/* ---- connection ---- */

static void mqtt_unwatch(struct mqtt_out *m)
{
	ev_io_stop(m->loop, &m->rio);
	ev_io_stop(m->loop, &m->wio);
	m->fd = -1;
}

/* libmosquitto's socket may change with each connection */
static void mqtt_watch(struct mqtt_out *m)
{
	int fd;

	if (!m->started)
		return;
	/* an abandoned attempt's socket stays libmosquitto's until the next
	 * reconnect closes it: not ours to watch */
	fd = m->open ? mosquitto_socket(m->mosq) : -1;
	if (fd != m->fd) {
		mqtt_unwatch(m);
		if (fd < 0)
			return;
		m->fd = fd;
		ev_io_set(&m->rio, fd, EV_READ);
		ev_io_set(&m->wio, fd, EV_WRITE);
		ev_io_start(m->loop, &m->rio);
	}
	/* no socket (refused, abandoned): the write watcher still holds the
	 * closed one's number, and libev asserts on an fd it cannot watch */
	if (m->fd < 0)
		return;
	if (mosquitto_want_write(m->mosq))
		ev_io_start(m->loop, &m->wio);
	else
		ev_io_stop(m->loop, &m->wio);
}

/* exponential back-off with jitter: a fleet whose broker comes back does
 * not reconnect all at the same second */
static void schedule_reconnect(struct mqtt_out *m)
{
	m->next_reconnect =
		ev_now(m->loop) + m->reconnect_delay * (0.75 + 0.5 * drand48());
	m->reconnect_delay *= 2;
	if (m->reconnect_delay > MQTT_RECONNECT_MAX)
		m->reconnect_delay = MQTT_RECONNECT_MAX;
}

/*
 * A connection attempt failed, however libmosquitto tells it: a refused
 * CONNACK, a disconnect, or (a TLS handshake done in the loop) only
 * mosquitto_loop_read()'s return code with the socket closed and no
 * on_disconnect. Said once per reason, with OpenSSL's words when it gave
 * some; never retried without TLS.
 */
static void attempt_failed(struct mqtt_out *m, const char *why)
{
	char reason[sizeof(m->warned)];
	size_t n = strlen(why);

	/* "A TLS error occurred. OpenSSL Error[0]: ...", "unreachable: ..." */
	snprintf(reason, sizeof(reason), "%s%s%s", why,
		 !m->last_error[0]	? "" :
		 n && why[n - 1] == '.' ? " " :
					  ": ",
		 m->last_error);
	m->last_error[0] = '\0';
	if (!strcmp(reason, m->warned))
		return;
	log_warnx("mqtt: %s:%d: %s; events wait in the outbox, retrying with "
		  "back-off",
		  m->host, m->port, reason);
	snprintf(m->warned, sizeof(m->warned), "%s", reason);
}

/* the attempt is over without on_disconnect: the next one after back-off */
static void attempt_abandon(struct mqtt_out *m, const char *why)
{
	attempt_failed(m, why);
	m->open = false;
	mqtt_unwatch(m);
	schedule_reconnect(m);
}

static void try_connect(struct mqtt_out *m)
{
	int rc;

	/* the will names the VIN known now */
	mosquitto_will_set(m->mosq, m->t_online, 7, "offline", m->qos, true);
	if (!m->ever_tried)
		rc = mosquitto_connect_async(m->mosq, m->host, m->port,
					     MQTT_KEEPALIVE);
	else
		rc = mosquitto_reconnect_async(m->mosq);
	m->ever_tried = true;
	if (rc != MOSQ_ERR_SUCCESS) {
		attempt_failed(m, rc == MOSQ_ERR_ERRNO ?
					  strerror(errno) :
					  mosquitto_strerror(rc));
		schedule_reconnect(m);
		return;
	}
	m->open = true;
	m->attempt_start = ev_now(m->loop);
	mqtt_watch(m);
}

static void on_connect(struct mosquitto *mosq, void *ud, int rc)
{
	struct mqtt_out *m = ud;

	if (rc != 0) {
		char why[128];

		snprintf(why, sizeof(why), "refused the connection: %s",
			 mosquitto_connack_string(rc));
		attempt_failed(m, why);
		m->refused = true;
		mosquitto_disconnect(mosq);
		return;
	}
	log_info("mqtt: connected to %s:%d, %llu events in the outbox", m->host,
		 m->port, (unsigned long long)dtc_store_outbox_depth(m->store));
	if (m->warned[0])
		log_warnx("mqtt: %s:%d reached again", m->host, m->port);
	m->connected = true;
	m->warned[0] = '\0';
	m->last_error[0] = '\0';
	m->reconnect_delay = MQTT_RECONNECT_MIN;
	/* what was pending, also from before a restart, goes first */
	pump(m);
	/* a dtcd stopping already says so itself: the will is for a lost car */
	publish(m, m->t_online, m->stopping ? "offline" : "online", true);
	if (m->ha) {
		char base[256];
		struct mqtt_ha ha = ha_of(m, base, sizeof(base));

		mqtt_ha_config(&ha);
	}
	/* the DTC list as it stands, also after a restart from the store */
	publish_status(m);
}

static void on_disconnect(struct mosquitto *mosq, void *ud, int rc)
{
	struct mqtt_out *m = ud;

	if (m->connected && rc != 0)
		log_warnx("mqtt: lost %s:%d (%s); events wait in the outbox, "
			  "reconnecting",
			  m->host, m->port, mosquitto_strerror(rc));
	else if (!m->connected && !m->refused && rc != 0)
		attempt_failed(m, "unreachable");
	m->connected = false;
	m->refused = false;
	m->open = false;
	if (m->started) {
		mqtt_unwatch(m);
		schedule_reconnect(m);
	}
}

static void on_publish(struct mosquitto *mosq, void *ud, int mid)
{
	struct mqtt_out *m = ud;

	if (acked(m, mid)) {
		pump(m);
		return;
	}
	if (m->qos > 0 && m->outstanding > 0)
		m->outstanding--;
	if (m->status_dirty && m->outstanding < MQTT_MAX_OUTSTANDING)
		publish_status(m);
}

static void on_mosq_log(struct mosquitto *mosq, void *ud, int level,
			const char *str)
{
	struct mqtt_out *m = ud;

	/* OpenSSL's reason ("certificate verify failed") comes this way */
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		snprintf(m->last_error, sizeof(m->last_error), "%s", str);
	log_debug("mqtt: %s", str);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mqtt_out *m = w->data;

	if (m->connected)
		publish_status(m);
}

/*
 * A TLS connect to a closed port: libmosquitto 2.0.11's first handshake
 * write takes the ECONNREFUSED, then it keeps writing to the dead socket
 * as if the handshake were under way, without end. The kernel knows.
 */
static bool attempt_refused(struct mqtt_out *m)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (!m->open || m->connected || m->fd < 0 ||
	    getsockopt(m->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    ti.tcpi_state != TCP_CLOSE)
		return false;
	attempt_abandon(m, "unreachable: the connection was refused or "
			   "reset");
	return true;
}

/* libmosquitto's read or write step on the socket the loop saw ready */
static void socket_step(struct mqtt_out *m, bool write)
{
	int rc;

	if (attempt_refused(m))
		return;
	rc = write ? mosquitto_loop_write(m->mosq, 1) :
		     mosquitto_loop_read(m->mosq, 1);
	/* a failed TLS handshake: libmosquitto closed the socket itself */
	if (rc != MOSQ_ERR_SUCCESS && m->open && !m->connected &&
	    mosquitto_socket(m->mosq) < 0) {
		attempt_abandon(m, rc == MOSQ_ERR_ERRNO ?
					   strerror(errno) :
					   mosquitto_strerror(rc));
		return;
	}
	mqtt_watch(m);
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	socket_step(w->data, false);
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	socket_step(w->data, true);
}

/* keepalive pings, QoS retries, reconnection with back-off */
static void on_misc(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mqtt_out *m = w->data;

	if (m->open && !m->connected &&
	    ev_now(loop) - m->attempt_start > MQTT_CONNECT_TIMEOUT)
		/* the next attempt's reconnect closes this socket */
		attempt_abandon(m, "no TLS handshake or CONNACK in time");
	else if (m->fd >= 0)
		mosquitto_loop_misc(m->mosq);
	else if (ev_now(loop) >= m->next_reconnect)
		try_connect(m);
	mqtt_watch(m);
}

/* ---- the output ---- */

static void mqtt_event(void *state, const struct dtc_event *ev,
		       const struct catalogue_entry *e)
{
	struct mqtt_out *m = state;
	const struct signal_table *t = m->env.signals;
	const char *vin = NULL;

	if (t && t->slot[SIG_VIN].valid && t->slot[SIG_VIN].text[0])
		vin = t->slot[SIG_VIN].text;
	else if (ev->freeze_frame && ev->freeze_frame->vin[0])
		vin = ev->freeze_frame->vin;
	if (!m->vehicle && vin && strncmp(vin, m->vin, SIG_VIN_LEN)) {
		/* the car names itself: its own topics from now on; the old
		 * "online" and status go (nothing retained stays behind
		 * under a name the car no longer has), the will follows at
		 * the next connection */
		publish(m, m->t_online, "", true);
		publish(m, m->t_status, "", true);
		if (m->connected && m->ha) {
			char base[256];
			struct mqtt_ha ha = ha_of(m, base, sizeof(base));

			ha.remove = true;
			mqtt_ha_config(&ha);
		}
		if (set_topics(m, vin) == 0) {
			log_info("mqtt: VIN %s: publishing on %s", m->vin,
				 m->t_events);
			if (m->connected)
				publish(m, m->t_online, "online", true);
			if (m->connected && m->ha) {
				char base[256];
				struct mqtt_ha ha =
					ha_of(m, base, sizeof(base));

				mqtt_ha_config(&ha);
			}
		}
	}
	if (ev->type == DTC_EVENT_ECU) {
		m->last_ecu_ns = ev->ts_ns;
		if (!strcmp(ev->code, "MIL") && ev->mil_on >= 0)
			m->ecu_mil = ev->mil_on;
	}
	if (ev->type == DTC_EVENT_DROPPED) {
		m->outbox_dropped += ev->dropped;
		log_warnx("mqtt: %s: %u events dropped (low severity first, "
			  "never critical)",
			  strcmp(ev->code, "QUEUE") ?
				  "outbox full" :
				  "the events waiting for the store at their "
				  "bound",
			  ev->dropped);
	}
	/* committed: it is in the outbox, on its way in event_id order */
	pump(m);
	publish_status(m);
}

static void mqtt_free(void *state)
{
	struct mqtt_out *m = state;
	unsigned left;

	if (!m)
		return;
	if (m->started) {
		/* a clean stop says so itself: the will is for a lost car */
		m->stopping = true;
		publish(m, m->t_online, "offline", true);
		left = output_mqtt_drain(&(struct output){ &mqtt_ops, m },
					 MQTT_STOP_SECONDS);
		if (left)
			log_warnx("mqtt: %u messages not acknowledged by "
				  "%s:%d after %.0f s: %s",
				  left, m->host, m->port, MQTT_STOP_SECONDS,
				  m->store && dtc_store_outbox_depth(m->store) ?
					  "the events stay in the outbox" :
					  "lost");
		m->started = false;
		mqtt_unwatch(m);
		ev_timer_stop(m->loop, &m->misc);
		ev_timer_stop(m->loop, &m->heartbeat);
		mosquitto_disconnect(m->mosq);
	}
	mosquitto_destroy(m->mosq);
	mosquitto_lib_cleanup();
	free(m->host);
	free(m->vehicle);
	free(m->topic);
	free(m->t_events);
	free(m->t_status);
	free(m->t_online);
	free(m);
}

static const struct output_ops mqtt_ops = {
	.name = "mqtt",
	.event = mqtt_event,
	.free = mqtt_free,
	.outbox_payload = mqtt_payload,
	.outbox_attach = mqtt_attach,
	.attach = mqtt_env,
};

static struct mqtt_out *mqtt_of(const struct output *o)
{
	return o && o->ops == &mqtt_ops ? o->state : NULL;
}

int output_mqtt_new(struct output *ret, const struct config *cfg, char *errbuf,
		    size_t errlen)
{
	struct mqtt_out *m;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	mosquitto_lib_init();
	srand48((long)getpid() ^ (long)time(NULL));
	m->fd = -1;
	m->qos = cfg->mqtt_qos;
	m->port = cfg->mqtt_port;
	m->heartbeat_s = cfg->mqtt_heartbeat_s;
	m->ha = cfg->mqtt_homeassistant;
	m->reconnect_delay = MQTT_RECONNECT_MIN;
	m->host = strdup(cfg->mqtt_host);
	m->topic = strdup(cfg->mqtt_topic ? cfg->mqtt_topic : "dtcd");
	if (cfg->mqtt_vehicle)
		m->vehicle = strdup(cfg->mqtt_vehicle);
	/* clean session: what is not acknowledged stays in the outbox */
	m->mosq = mosquitto_new(cfg->mqtt_client_id && *cfg->mqtt_client_id ?
					cfg->mqtt_client_id :
					NULL,
				true, m);
	if (!m->host || !m->topic || !m->mosq ||
	    (cfg->mqtt_vehicle && !m->vehicle) ||
	    set_topics(m, "unknown") < 0) {
		snprintf(errbuf, errlen, "mqtt: %s",
			 m->mosq ? strerror(ENOMEM) : strerror(errno));
		mqtt_free(m);
		return -ENOMEM;
	}
	r = mqtt_tls_setup(m->mosq, cfg, errbuf, errlen);
	if (r < 0) {
		mqtt_free(m);
		return r;
	}
	mosquitto_connect_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
	mosquitto_publish_callback_set(m->mosq, on_publish);
	mosquitto_log_callback_set(m->mosq, on_mosq_log);
	*ret = (struct output){ .ops = &mqtt_ops, .state = m };
	return 0;
}

int output_mqtt_start(struct output *o, struct ev_loop *loop)
{
	struct mqtt_out *m = mqtt_of(o);

	if (!m)
		return -EINVAL;
	if (m->started)
		return 0;
	m->loop = loop;
	m->started = true;
	ev_io_init(&m->rio, on_read, -1, EV_READ);
	ev_io_init(&m->wio, on_write, -1, EV_WRITE);
	m->rio.data = m->wio.data = m;
	ev_timer_init(&m->misc, on_misc, 1.0, 1.0);
	m->misc.data = m;
	ev_timer_start(loop, &m->misc);
	if (m->heartbeat_s) {
		ev_timer_init(&m->heartbeat, on_heartbeat, m->heartbeat_s,
			      m->heartbeat_s);
		m->heartbeat.data = m;
		ev_timer_start(loop, &m->heartbeat);
	}
	try_connect(m);
	return 0;
}

static void on_drain_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	*(bool *)w->data = true;
}

unsigned output_mqtt_drain(struct output *o, double timeout_s)
{
	struct mqtt_out *m = mqtt_of(o);
	bool timed_out = false;
	ev_timer t;

	if (!m)
		return 0;
	if (!m->started)
		return m->outstanding +
		       (unsigned)dtc_store_outbox_depth(m->store);
	ev_timer_init(&t, on_drain_timeout, timeout_s, 0.);
	t.data = &timed_out;
	ev_timer_start(m->loop, &t);
	/* a broker that is down now gets its chance at once */
	if (m->fd < 0)
		m->next_reconnect = ev_now(m->loop);
	while ((m->outstanding > 0 || dtc_store_outbox_depth(m->store) > 0) &&
	       !timed_out)
		ev_run(m->loop, EVRUN_ONCE);
	ev_timer_stop(m->loop, &t);
	return m->outstanding + (unsigned)dtc_store_outbox_depth(m->store);
}

bool output_mqtt_connected(const struct output *o)
{
	struct mqtt_out *m = mqtt_of(o);

	return m && m->connected;
}
