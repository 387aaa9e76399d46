/* output.h: where signals and DTC events go (stdout JSON, text, MQTT) */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "cycle.h"
#include "event.h"
#include "signal.h"

struct catalogue;
struct catalogue_entry;
struct dtc_info;
struct dtc_manager;
struct dtc_store;
struct ev_loop;
struct json_object;
struct pipeline;

/* One ops table per output kind, as libinput does per plug-in module. */
struct output_ops {
	const char *name;
	/* --signals: each change of a canonical signal */
	void (*signal)(void *state, int64_t ts_ns, enum signal_id id,
		       const struct signal_slot *slot);
	/* optional, diagnosis: every decoded value (the report's charts) */
	void (*sample)(void *state, int64_t ts_ns, enum signal_id id,
		       const struct signal_slot *slot);
	/* optional: an operation cycle started or ended (warmup: it was a
	 * warm-up cycle) */
	void (*cycle)(void *state, int64_t ts_ns, enum cycle_change change,
		      bool warmup);
	/* entry: the catalogue's texts for the code, NULL when it has none */
	void (*event)(void *state, const struct dtc_event *ev,
		      const struct catalogue_entry *entry);
	void (*flush)(void *state);
	void (*free)(void *state);
	/*
	 * An output that delivers from the store's outbox (MQTT): the payload
	 * it will send for an event (malloc'd), put into the outbox in the
	 * event's transaction; attach gives it the store to send from.
	 */
	char *(*outbox_payload)(void *state, const struct dtc_event *ev,
				const struct catalogue_entry *entry);
	void (*outbox_attach)(void *state, struct dtc_store *store);
};

struct output {
	const struct output_ops *ops;
	void *state;
};

/* JSON lines of spec section 5 on a stream */
int output_json_new(struct output *ret, FILE *out);
/* readable lines per event; lang "de" labels them in German */
int output_text_new(struct output *ret, FILE *out, const char *lang);

/*
 * The JSON builders every JSON writer shares (--json, MQTT, the control
 * socket), so a DTC event reads the same wherever it goes. The caller owns
 * the object (json_object_put).
 */
struct json_object *output_json_event(const struct dtc_event *ev,
				      const char *action, const char *title);
struct json_object *
output_json_freeze_frame(const struct dtc_freeze_frame *frame);
struct json_object *output_json_number(double v);
/* with at most digits significant digits (the report: 6, smaller pages) */
struct json_object *output_json_number_digits(double v, int digits);
/* seconds with decimals places after the point */
struct json_object *output_json_seconds(double t, int decimals);
struct json_object *output_json_ts(int64_t ts_ns);
/* in the DTC list of dtcctl and MQTT status: failed, pending, confirmed or
 * stored since the last clear */
bool output_json_dtc_current(const struct dtc_info *d);
/* array of DTC objects (code, status, occurrences, first/last failure,
 * freeze frame...): the current ones, or every known one with all */
struct json_object *output_json_dtc_list(const struct dtc_manager *m,
					 const struct catalogue *c, bool all);
/* compact, no escaped slashes; valid until o changes or is freed */
const char *output_json_string(struct json_object *o);

/*
 * MQTT (libmosquitto): each DTC event as output_json_event() on
 * TOPIC/VIN/events, a retained DTC list on TOPIC/VIN/status, retained
 * online/offline (Last Will) on TOPIC/VIN/online. Needs cfg->mqtt_host. It
 * connects on output_mqtt_start(); until then, and whenever the broker is
 * unreachable, QoS 1/2 messages wait in memory (at most 1000 events).
 */
int output_mqtt_new(struct output *ret, const struct config *cfg, char *errbuf,
		    size_t errlen);
/* The pipeline the status message lists the DTCs of (after pipeline_new). */
void output_mqtt_bind(struct output *o, const struct pipeline *p);
/* Joins the libev loop: connects, reconnects, sends. */
int output_mqtt_start(struct output *o, struct ev_loop *loop);
/* Runs the loop until the broker acknowledged every message or timeout_s
 * passed. Returns the number of messages still unacknowledged. */
unsigned output_mqtt_drain(struct output *o, double timeout_s);
bool output_mqtt_connected(const struct output *o);

void output_free(struct output *o);

/* "1602360.123456": seconds with the six decimals candump logs have */
void output_format_ts(char *buf, size_t len, int64_t ts_ns);
