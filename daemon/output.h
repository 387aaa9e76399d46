/* output.h: where signals and DTC events go (stdout JSON, text, MQTT) */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "event.h"
#include "signal.h"

struct catalogue_entry;

/* One ops table per output kind, as libinput does per plug-in module. */
struct output_ops {
	const char *name;
	void (*signal)(void *state, int64_t ts_ns, enum signal_id id,
		       const struct signal_slot *slot);
	void (*event)(void *state, const struct dtc_event *ev,
		      const char *action, const char *title);
	void (*flush)(void *state);
	void (*free)(void *state);
};

struct output {
	const struct output_ops *ops;
	void *state;
};

/* JSON lines of spec section 5 on a stream */
int output_json_new(struct output *ret, FILE *out);
/* one readable line per event */
int output_text_new(struct output *ret, FILE *out);

void output_free(struct output *o);

/* "1602360.123456": seconds with the six decimals candump logs have */
void output_format_ts(char *buf, size_t len, int64_t ts_ns);
