/* output_mqtt.c: DTC events and the DTC list to fleet operators over MQTT */
#include <ctype.h>
#include <errno.h>
#include <ev.h>
#include <json-c/json.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "catalogue.h"
#include "output.h"
#include "pipeline.h"

/* QoS 1/2 messages waiting for the broker: ~1 KiB each */
#define MQTT_MAX_OUTSTANDING 1000
#define MQTT_KEEPALIVE 30
#define MQTT_RECONNECT_MIN 1.0
#define MQTT_RECONNECT_MAX 30.0
/* what a stopping dtcd waits for the broker's acknowledgements */
#define MQTT_STOP_SECONDS 10.0

struct mqtt_out {
	struct mosquitto *mosq;
	const struct pipeline *p;
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
	bool connected;
	bool warned_down;
	double reconnect_delay;
	ev_tstamp next_reconnect;
	/* published with QoS > 0 and not acknowledged yet (queued included) */
	unsigned outstanding;
	unsigned long dropped;
	bool status_dirty; /* a status was dropped: send one when room */
};

static const struct output_ops mqtt_ops;

static void mqtt_watch(struct mqtt_out *m);

static int set_topics(struct mqtt_out *m, const char *vin)
{
	char *e = NULL, *s = NULL, *o = NULL;
	size_t i;

	/* a VIN is 17 letters and digits; anything else must not reach a
	 * topic level ("/", "+", "#") */
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

static void publish_status(struct mqtt_out *m)
{
	struct json_object *o = json_object_new_object();
	const struct dtc_manager *mgr = m->p ? pipeline_manager(m->p) : NULL;

	json_object_object_add(o, "ts",
			       output_json_ts(m->p ? pipeline_now(m->p) : 0));
	json_object_object_add(o, "vin", json_object_new_string(m->vin));
	json_object_object_add(
		o, "dtcs",
		output_json_dtc_list(
			mgr, m->p ? pipeline_catalogue(m->p) : NULL, false));
	m->status_dirty = publish(m, m->t_status, output_json_string(o),
				  true) == -ENOBUFS;
	json_object_put(o);
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
	fd = mosquitto_socket(m->mosq);
	if (fd != m->fd) {
		mqtt_unwatch(m);
		if (fd < 0)
			return;
		m->fd = fd;
		ev_io_set(&m->rio, fd, EV_READ);
		ev_io_set(&m->wio, fd, EV_WRITE);
		ev_io_start(m->loop, &m->rio);
	}
	if (mosquitto_want_write(m->mosq))
		ev_io_start(m->loop, &m->wio);
	else
		ev_io_stop(m->loop, &m->wio);
}

static void schedule_reconnect(struct mqtt_out *m)
{
	m->next_reconnect = ev_now(m->loop) + m->reconnect_delay;
	m->reconnect_delay *= 2;
	if (m->reconnect_delay > MQTT_RECONNECT_MAX)
		m->reconnect_delay = MQTT_RECONNECT_MAX;
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
		if (!m->warned_down) {
			log_warnx("mqtt: %s:%d: %s; events wait in memory, "
				  "retrying",
				  m->host, m->port,
				  rc == MOSQ_ERR_ERRNO ?
					  strerror(errno) :
					  mosquitto_strerror(rc));
			m->warned_down = true;
		}
		schedule_reconnect(m);
		return;
	}
	mqtt_watch(m);
}

static void on_connect(struct mosquitto *mosq, void *ud, int rc)
{
	struct mqtt_out *m = ud;

	if (rc != 0) {
		log_warnx("mqtt: %s:%d refused the connection: %s", m->host,
			  m->port, mosquitto_connack_string(rc));
		mosquitto_disconnect(mosq);
		return;
	}
	log_info("mqtt: connected to %s:%d, %u messages to send", m->host,
		 m->port, m->outstanding);
	m->connected = true;
	m->warned_down = false;
	m->reconnect_delay = MQTT_RECONNECT_MIN;
	if (m->stopping)
		return;
	publish(m, m->t_online, "online", true);
	/* the DTC list as it stands, also after a restart from the store */
	publish_status(m);
}

static void on_disconnect(struct mosquitto *mosq, void *ud, int rc)
{
	struct mqtt_out *m = ud;

	if (m->connected && rc != 0)
		log_warnx("mqtt: lost %s:%d (%s); events wait in memory, "
			  "reconnecting",
			  m->host, m->port, mosquitto_strerror(rc));
	else if (!m->connected && !m->warned_down && rc != 0) {
		log_warnx("mqtt: %s:%d unreachable; events wait in memory, "
			  "retrying",
			  m->host, m->port);
		m->warned_down = true;
	}
	m->connected = false;
	if (m->started) {
		mqtt_unwatch(m);
		schedule_reconnect(m);
	}
}

static void on_publish(struct mosquitto *mosq, void *ud, int mid)
{
	struct mqtt_out *m = ud;

	if (m->qos > 0 && m->outstanding > 0)
		m->outstanding--;
	if (m->status_dirty && m->outstanding < MQTT_MAX_OUTSTANDING)
		publish_status(m);
}

static void on_mosq_log(struct mosquitto *mosq, void *ud, int level,
			const char *str)
{
	log_debug("mqtt: %s", str);
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mqtt_out *m = w->data;

	mosquitto_loop_read(m->mosq, 1);
	mqtt_watch(m);
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mqtt_out *m = w->data;

	mosquitto_loop_write(m->mosq, 1);
	mqtt_watch(m);
}

/* keepalive pings, QoS retries, reconnection with back-off */
static void on_misc(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mqtt_out *m = w->data;

	if (m->fd >= 0)
		mosquitto_loop_misc(m->mosq);
	else if (ev_now(loop) >= m->next_reconnect)
		try_connect(m);
	mqtt_watch(m);
}

/* ---- the output ---- */

static void mqtt_event(void *state, const struct dtc_event *ev,
		       const struct catalogue_entry *e)
{
	const char *action = e ? e->action : NULL, *title = e ? e->title : NULL;
	struct mqtt_out *m = state;
	const struct signal_table *t = m->p ? pipeline_signals(m->p) : NULL;
	const char *vin = NULL;
	struct json_object *o;
	int r;

	if (t && t->slot[SIG_VIN].valid && t->slot[SIG_VIN].text[0])
		vin = t->slot[SIG_VIN].text;
	else if (ev->freeze_frame && ev->freeze_frame->vin[0])
		vin = ev->freeze_frame->vin;
	if (vin && strncmp(vin, m->vin, SIG_VIN_LEN)) {
		/* the car names itself: its own topics from now on; the old
		 * "online" goes, the will follows at the next connection */
		publish(m, m->t_online, "", true);
		if (set_topics(m, vin) == 0) {
			log_info("mqtt: VIN %s: publishing on %s", m->vin,
				 m->t_events);
			if (m->connected)
				publish(m, m->t_online, "online", true);
		}
	}
	o = output_json_event(ev, action, title);
	r = publish(m, m->t_events, output_json_string(o), false);
	json_object_put(o);
	if (r == -ENOBUFS) {
		if (m->dropped++ == 0)
			log_warnx("mqtt: %u messages wait for %s:%d: dropping "
				  "new events until it answers",
				  m->outstanding, m->host, m->port);
		m->status_dirty = true;
		return;
	}
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
				  "%s:%d after %.0f s: lost",
				  left, m->host, m->port, MQTT_STOP_SECONDS);
		if (m->dropped)
			log_warnx("mqtt: %lu events dropped while the "
				  "broker was away",
				  m->dropped);
		m->started = false;
		mqtt_unwatch(m);
		ev_timer_stop(m->loop, &m->misc);
		mosquitto_disconnect(m->mosq);
	}
	mosquitto_destroy(m->mosq);
	mosquitto_lib_cleanup();
	free(m->host);
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
};

static struct mqtt_out *mqtt_of(const struct output *o)
{
	return o && o->ops == &mqtt_ops ? o->state : NULL;
}

int output_mqtt_new(struct output *ret, const struct config *cfg, char *errbuf,
		    size_t errlen)
{
	struct mqtt_out *m;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	mosquitto_lib_init();
	m->fd = -1;
	m->qos = cfg->mqtt_qos;
	m->port = cfg->mqtt_port;
	m->reconnect_delay = MQTT_RECONNECT_MIN;
	m->host = strdup(cfg->mqtt_host);
	m->topic = strdup(cfg->mqtt_topic ? cfg->mqtt_topic : "dtcd");
	/* clean session: what is not acknowledged stays in our memory */
	m->mosq = mosquitto_new(cfg->mqtt_client_id && *cfg->mqtt_client_id ?
					cfg->mqtt_client_id :
					NULL,
				true, m);
	if (!m->host || !m->topic || !m->mosq || set_topics(m, "unknown") < 0) {
		snprintf(errbuf, errlen, "mqtt: %s",
			 m->mosq ? strerror(ENOMEM) : strerror(errno));
		mqtt_free(m);
		return -ENOMEM;
	}
	mosquitto_connect_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
	mosquitto_publish_callback_set(m->mosq, on_publish);
	mosquitto_log_callback_set(m->mosq, on_mosq_log);
	*ret = (struct output){ .ops = &mqtt_ops, .state = m };
	return 0;
}

void output_mqtt_bind(struct output *o, const struct pipeline *p)
{
	struct mqtt_out *m = mqtt_of(o);

	if (m)
		m->p = p;
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
		return m->outstanding;
	ev_timer_init(&t, on_drain_timeout, timeout_s, 0.);
	t.data = &timed_out;
	ev_timer_start(m->loop, &t);
	/* a broker that is down now gets its chance at once */
	if (m->fd < 0)
		m->next_reconnect = ev_now(m->loop);
	while (m->outstanding > 0 && !timed_out)
		ev_run(m->loop, EVRUN_ONCE);
	ev_timer_stop(m->loop, &t);
	return m->outstanding;
}

bool output_mqtt_connected(const struct output *o)
{
	struct mqtt_out *m = mqtt_of(o);

	return m && m->connected;
}
