/* output_json.h: --json, and the JSON builders every JSON writer shares */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "output.h"

struct json_object;

/* JSON lines of spec section 5 on a stream */
int output_json_new(struct output *ret, FILE *out);

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
