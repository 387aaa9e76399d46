/* output_json.c: one JSON object per line (spec section 5), built with json-c */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "output.h"

struct json_out {
	FILE *out;
};

/*
 * json-c prints doubles with %.17g, which turns 12.345 into
 * 12.345000000000001; the decoded values never have more than ten
 * significant digits, so we give json-c the text to print.
 */
static struct json_object *number(double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.10g", v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *ts_number(int64_t ts_ns)
{
	char buf[32];

	output_format_ts(buf, sizeof(buf), ts_ns);
	return json_object_new_double_s((double)ts_ns / 1e9, buf);
}

static void put(struct json_out *j, struct json_object *o)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE),
	      j->out);
	fputc('\n', j->out);
	json_object_put(o);
}

static void json_signal(void *state, int64_t ts_ns, enum signal_id id,
			const struct signal_slot *slot)
{
	struct json_out *j = state;
	struct json_object *o = json_object_new_object();
	char src[16];

	json_object_object_add(o, "ts", ts_number(ts_ns));
	json_object_object_add(o, "signal",
			       json_object_new_string(signal_name(id)));
	if (!slot->valid)
		json_object_object_add(o, "value", NULL); /* "no value" */
	else if (signal_info(id)->is_text)
		json_object_object_add(o, "value",
				       json_object_new_string(slot->text));
	else
		json_object_object_add(o, "value", number(slot->value));
	snprintf(src, sizeof(src), "%03X", slot->src);
	json_object_object_add(o, "src", json_object_new_string(src));
	put(j, o);
}

static void json_event(void *state, const struct dtc_event *ev,
		       const char *action, const char *title)
{
	struct json_out *j = state;
	struct json_object *o = json_object_new_object();
	struct json_object *ff = json_object_new_object();
	char buf[16];

	json_object_object_add(o, "ts", ts_number(ev->ts_ns));
	json_object_object_add(o, "event", json_object_new_string(
						    dtc_event_type_name(ev->type)));
	json_object_object_add(o, "code", json_object_new_string(ev->code));
	json_object_object_add(o, "detector",
			       json_object_new_string(ev->detector));
	json_object_object_add(o, "severity", json_object_new_string(
						       dtc_severity_name(ev->severity)));
	json_object_object_add(o, "status", json_object_new_int(ev->status));
	json_object_object_add(o, "action",
			       json_object_new_string(action ? action : ""));
	if (title)
		json_object_object_add(o, "title", json_object_new_string(title));
	if (ev->type != DTC_EVENT_ECU)
		json_object_object_add(o, "occurrences",
				       json_object_new_int((int)ev->occurrences));
	if (ev->type == DTC_EVENT_ECU) {
		snprintf(buf, sizeof(buf), "%03X", ev->ecu_id);
		json_object_object_add(o, "ecu", json_object_new_string(buf));
		if (ev->mil_on >= 0)
			json_object_object_add(o, "mil_on",
					       json_object_new_boolean(ev->mil_on));
		if (ev->dtc_count >= 0)
			json_object_object_add(o, "dtc_count",
					       json_object_new_int(ev->dtc_count));
		if (ev->ecu_kind)
			json_object_object_add(o, "kind", json_object_new_string(
								  ev->ecu_kind));
	}
	if (ev->freeze_frame) {
		for (int i = 0; i < SIG__MAX; i++)
			if (ev->freeze_frame->present[i] &&
			    !signal_info(i)->is_text)
				json_object_object_add(
					ff, signal_name(i),
					number(ev->freeze_frame->value[i]));
		if (ev->freeze_frame->vin[0])
			json_object_object_add(ff, "vin", json_object_new_string(
								  ev->freeze_frame->vin));
	}
	json_object_object_add(o, "freeze_frame", ff);
	put(j, o);
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
