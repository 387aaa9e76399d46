/* output_json.c: one JSON object per line (spec section 5), built with json-c
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "catalogue.h"
#include "manager.h"
#include "output_json.h"

struct json_out {
	FILE *out;
};

/*
 * json-c prints doubles with %.17g, which turns 12.345 into
 * 12.345000000000001; the decoded values never have more than ten
 * significant digits, so we give json-c the text to print.
 */
struct json_object *output_json_number_digits(double v, int digits)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*g", digits, v);
	return json_object_new_double_s(v, buf);
}

struct json_object *output_json_number(double v)
{
	return output_json_number_digits(v, 10);
}

struct json_object *output_json_seconds(double t, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, t);
	return json_object_new_double_s(t, buf);
}

struct json_object *output_json_ts(int64_t ts_ns)
{
	char buf[32];

	output_format_ts(buf, sizeof(buf), ts_ns);
	return json_object_new_double_s((double)ts_ns / 1e9, buf);
}

const char *output_json_string(struct json_object *o)
{
	return json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void put(struct json_out *j, struct json_object *o)
{
	fputs(output_json_string(o), j->out);
	fputc('\n', j->out);
	json_object_put(o);
}

static void json_signal(void *state, int64_t ts_ns, enum signal_id id,
			const struct signal_slot *slot)
{
	struct json_out *j = state;
	struct json_object *o = json_object_new_object();
	char src[16];

	json_object_object_add(o, "ts", output_json_ts(ts_ns));
	json_object_object_add(o, "signal",
			       json_object_new_string(signal_name(id)));
	if (!slot->valid)
		json_object_object_add(o, "value", NULL); /* "no value" */
	else if (signal_info(id)->is_text)
		json_object_object_add(o, "value",
				       json_object_new_string(slot->text));
	else
		json_object_object_add(o, "value",
				       output_json_number(slot->value));
	snprintf(src, sizeof(src), "%03X", slot->src);
	json_object_object_add(o, "src", json_object_new_string(src));
	put(j, o);
}

struct json_object *
output_json_freeze_frame(const struct dtc_freeze_frame *frame)
{
	struct json_object *ff = json_object_new_object();

	if (!frame)
		return ff;
	for (int i = 0; i < SIG__MAX; i++)
		if (frame->present[i] && !signal_info(i)->is_text)
			json_object_object_add(
				ff, signal_name(i),
				output_json_number(frame->value[i]));
	if (frame->vin[0])
		json_object_object_add(ff, "vin",
				       json_object_new_string(frame->vin));
	return ff;
}

struct json_object *output_json_event(const struct dtc_event *ev,
				      const char *action, const char *title)
{
	struct json_object *o = json_object_new_object();
	char buf[16];

	json_object_object_add(o, "ts", output_json_ts(ev->ts_ns));
	json_object_object_add(
		o, "event",
		json_object_new_string(dtc_event_type_name(ev->type)));
	json_object_object_add(o, "code", json_object_new_string(ev->code));
	json_object_object_add(o, "detector",
			       json_object_new_string(ev->detector));
	json_object_object_add(
		o, "severity",
		json_object_new_string(dtc_severity_name(ev->severity)));
	json_object_object_add(o, "status", json_object_new_int(ev->status));
	json_object_object_add(o, "action",
			       json_object_new_string(action ? action : ""));
	if (title)
		json_object_object_add(o, "title",
				       json_object_new_string(title));
	if (ev->type == DTC_EVENT_DROPPED)
		json_object_object_add(o, "dropped",
				       json_object_new_int((int)ev->dropped));
	else if (ev->type != DTC_EVENT_ECU)
		json_object_object_add(
			o, "occurrences",
			json_object_new_int((int)ev->occurrences));
	if (ev->type == DTC_EVENT_ECU) {
		snprintf(buf, sizeof(buf), "%03X", ev->ecu_id);
		json_object_object_add(o, "ecu", json_object_new_string(buf));
		if (ev->mil_on >= 0)
			json_object_object_add(
				o, "mil_on",
				json_object_new_boolean(ev->mil_on));
		if (ev->dtc_count >= 0)
			json_object_object_add(
				o, "dtc_count",
				json_object_new_int(ev->dtc_count));
		if (ev->ecu_kind)
			json_object_object_add(
				o, "kind",
				json_object_new_string(ev->ecu_kind));
	}
	json_object_object_add(o, "freeze_frame",
			       output_json_freeze_frame(ev->freeze_frame));
	return o;
}

static void json_event(void *state, const struct dtc_event *ev,
		       const struct catalogue_entry *e)
{
	put(state,
	    output_json_event(ev, e ? e->action : NULL, e ? e->title : NULL));
}

bool output_json_dtc_current(const struct dtc_info *d)
{
	return d->stored ||
	       (d->status & (DTC_ST_TEST_FAILED | DTC_ST_PENDING |
			     DTC_ST_CONFIRMED | DTC_ST_WARNING_INDICATOR));
}

struct json_object *output_json_dtc_list(const struct dtc_manager *m,
					 const struct catalogue *c, bool all)
{
	struct json_object *list = json_object_new_array();
	size_t n = m ? dtc_manager_n_dtcs(m) : 0;

	for (size_t i = 0; i < n; i++) {
		const struct catalogue_entry *e;
		struct json_object *o;
		struct dtc_info d;

		if (dtc_manager_dtc(m, i, &d) < 0 ||
		    (!all && !output_json_dtc_current(&d)))
			continue;
		e = c ? catalogue_find(c, d.code) : NULL;
		o = json_object_new_object();
		json_object_object_add(o, "code",
				       json_object_new_string(d.code));
		json_object_object_add(o, "detector",
				       json_object_new_string(d.detector));
		json_object_object_add(
			o, "severity",
			json_object_new_string(dtc_severity_name(d.severity)));
		json_object_object_add(o, "status",
				       json_object_new_int(d.status));
		json_object_object_add(o, "stored",
				       json_object_new_boolean(d.stored));
		json_object_object_add(o, "occurrences",
				       json_object_new_int((int)d.occurrences));
		json_object_object_add(
			o, "failed_cycles",
			json_object_new_int((int)d.failed_cycles));
		json_object_object_add(
			o, "aging_cycles",
			json_object_new_int((int)d.aging_cycles));
		/* null: never failed since the last clear */
		json_object_object_add(
			o, "first_failure",
			d.first_failure_ns ?
				output_json_ts(d.first_failure_ns) :
				NULL);
		json_object_object_add(
			o, "last_failure",
			d.last_failure_ns ? output_json_ts(d.last_failure_ns) :
					    NULL);
		if (e && e->title)
			json_object_object_add(
				o, "title", json_object_new_string(e->title));
		if (e && e->driver_advice)
			json_object_object_add(
				o, "advice",
				json_object_new_string(e->driver_advice));
		if (e && e->action)
			json_object_object_add(
				o, "action", json_object_new_string(e->action));
		json_object_object_add(
			o, "freeze_frame",
			output_json_freeze_frame(d.freeze_frame));
		json_object_array_add(list, o);
	}
	return list;
}

static void json_flush(void *state)
{
	struct json_out *j = state;

	fflush(j->out);
}

static const struct output_ops json_ops = {
	.name = "json",
	.signal = json_signal,
	.event = json_event,
	.flush = json_flush,
	.free = free,
};

int output_json_new(struct output *ret, FILE *out)
{
	struct json_out *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->out = out;
	*ret = (struct output){ .ops = &json_ops, .state = j };
	return 0;
}
