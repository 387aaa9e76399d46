/* output.h: where signals and DTC events go: the ops table every output
 * (output_json.h, output_text.h, output_mqtt.h, output_report.h) fills */
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
struct detectors;
struct output_env;
struct dtc_store;

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
	/* optional: what it reads of the pipeline (see struct output_env) */
	void (*attach)(void *state, const struct output_env *env);
};

struct output {
	const struct output_ops *ops;
	void *state;
};

/*
 * What an output may read of the pipeline, handed to it by attach once the
 * pipeline's parts exist (pipeline_new); valid for the pipeline's life.
 * The output never calls back into the pipeline.
 */
struct output_env {
	const struct dtc_manager *manager; /* NULL with --signals */
	const struct catalogue *catalogue; /* NULL with --signals */
	const struct detectors *detectors; /* NULL with --signals */
	const struct signal_table *signals;
	const char *profile_name;
	/* frame time of the latest frame and tick (0 before the first) */
	const int64_t *frame_ns, *tick_ns;
	const unsigned long *frames;
};

/* the later of *env->frame_ns and *env->tick_ns: dtcd's "now" */
int64_t output_env_now(const struct output_env *env);

void output_free(struct output *o);

/* "1602360.123456": seconds with the six decimals candump logs have */
void output_format_ts(char *buf, size_t len, int64_t ts_ns);
