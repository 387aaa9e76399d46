/* output_report.c: dtcd --report FILE: one self-contained HTML page per drive
 */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "detector.h"
#include "dtcd-build.h"
#include "output_json.h"
#include "output_report.h"
#include "report_assets.h"

/*
 * The page is data plus code: the drive's signals, cycles and events as one
 * JSON object, and the chart code and styles of this project (report.js,
 * report.css, compiled into the binary) that draw it. Nothing is fetched:
 * the file is the evidence a mechanic mails on, and it must open offline.
 *
 * A signal's series keeps a point per change; a long drive is thinned by
 * halving (every other point dropped) whenever a series reaches its cap, so
 * memory stays bounded and the chart keeps its shape.
 */
#define SERIES_MAX 100000
#define EVENTS_MAX 4096
#define CYCLES_MAX 4096

struct series {
	double *t; /* seconds of frame time */
	double *v;
	size_t n, cap;
	unsigned stride; /* a point kept per `stride` changes after thinning */
	unsigned skipped;
	bool have_last;
	double last;
};

struct report_cycle {
	double start, end; /* end < start: still running */
	bool warmup;
};

struct report_out {
	char *path;
	char *source;
	char *lang;
	struct series sig[SIG__MAX];
	struct report_cycle cycles[CYCLES_MAX];
	size_t n_cycles;
	struct json_object *events; /* array */
	double first_ts, last_ts;
	bool have_ts;
};

static double ns_to_s(int64_t ts_ns)
{
	return (double)ts_ns / 1e9;
}

static void see_time(struct report_out *r, double t)
{
	if (!r->have_ts) {
		r->first_ts = t;
		r->have_ts = true;
	}
	if (t > r->last_ts || r->last_ts == 0)
		r->last_ts = t;
}

static void series_thin(struct series *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->n; i += 2, j++) {
		s->t[j] = s->t[i];
		s->v[j] = s->v[i];
	}
	s->n = j;
	s->stride = s->stride ? s->stride * 2 : 2;
}

static void series_add(struct series *s, double t, double v)
{
	if (s->have_last && s->last == v)
		return;
	s->have_last = true;
	s->last = v;
	if (s->stride > 1 && ++s->skipped < s->stride)
		return;
	s->skipped = 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		double *nt, *nv;

		if (cap > SERIES_MAX) {
			series_thin(s);
		} else {
			nt = realloc(s->t, cap * sizeof(*nt));
			if (!nt)
				return;
			s->t = nt;
			nv = realloc(s->v, cap * sizeof(*nv));
			if (!nv)
				return;
			s->v = nv;
			s->cap = cap;
		}
	}
	s->t[s->n] = t;
	s->v[s->n++] = v;
}

static void report_sample(void *state, int64_t ts_ns, enum signal_id id,
			  const struct signal_slot *slot)
{
	struct report_out *r = state;

	see_time(r, ns_to_s(ts_ns));
	if (signal_info(id)->is_text || !slot->valid ||
	    !signal_plausible(id, slot->value))
		return;
	series_add(&r->sig[id], ns_to_s(ts_ns), slot->value);
}

static void report_cycle(void *state, int64_t ts_ns, enum cycle_change change,
			 bool warmup)
{
	struct report_out *r = state;
	struct report_cycle *c;

	see_time(r, ns_to_s(ts_ns));
	if (change == CYCLE_STARTED && r->n_cycles < CYCLES_MAX) {
		r->cycles[r->n_cycles++] =
			(struct report_cycle){ .start = ns_to_s(ts_ns),
					       .end = -1 };
	} else if (change == CYCLE_ENDED && r->n_cycles) {
		c = &r->cycles[r->n_cycles - 1];
		if (c->end < c->start) {
			c->end = ns_to_s(ts_ns);
			c->warmup = warmup;
		}
	}
}

/* values to 6 digits and times to the ms: the page stays small */
static struct json_object *jnum(double v)
{
	return output_json_number_digits(v, 6);
}

static struct json_object *jtime(double t)
{
	return output_json_seconds(t, 3);
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
	if (s)
		json_object_object_add(o, key, json_object_new_string(s));
}

static const struct detector_ops *find_detector(const char *name)
{
	for (size_t i = 0; i < detectors_count(); i++)
		if (!strcmp(detectors_ops(i)->name, name))
			return detectors_ops(i);
	return NULL;
}

/*
 * A detector's inputs and thresholds (its keys' defaults), for the chart the
 * page draws of each of its events.
 */
static void add_detector(struct json_object *o, const char *name)
{
	const struct detector_ops *ops = find_detector(name);
	struct json_object *in, *params;

	if (!ops)
		return;
	in = json_object_new_array();
	params = json_object_new_object();
	for (size_t k = 0; k < ops->n_signals; k++)
		json_object_array_add(in, json_object_new_string(signal_name(
						  ops->signals[k].id)));
	for (size_t k = 0; k < ops->n_params; k++)
		json_object_object_add(params, ops->params[k].key,
				       jnum(ops->params[k].def));
	json_object_object_add(o, "inputs", in);
	json_object_object_add(o, "params", params);
}

static void report_event(void *state, const struct dtc_event *ev,
			 const struct catalogue_entry *e)
{
	struct report_out *r = state;
	struct json_object *o, *ff;

	see_time(r, ns_to_s(ev->ts_ns));
	if (json_object_array_length(r->events) >= EVENTS_MAX)
		return;
	o = json_object_new_object();
	add_str(o, "type", dtc_event_type_name(ev->type));
	add_str(o, "code", ev->code);
	add_str(o, "detector", ev->detector);
	add_str(o, "severity", dtc_severity_name(ev->severity));
	json_object_object_add(o, "ts", jtime(ns_to_s(ev->ts_ns)));
	json_object_object_add(o, "status", json_object_new_int(ev->status));
	json_object_object_add(o, "occurrences",
			       json_object_new_int((int)ev->occurrences));
	if (e) {
		add_str(o, "title", e->title);
		add_str(o, "description", e->description);
		add_str(o, "advice", e->driver_advice);
		add_str(o, "action", e->action);
	}
	if (ev->type == DTC_EVENT_ECU) {
		json_object_object_add(o, "mil_on",
				       json_object_new_int(ev->mil_on));
		json_object_object_add(o, "dtc_count",
				       json_object_new_int(ev->dtc_count));
	} else if (ev->detector) {
		add_detector(o, ev->detector);
	}
	ff = json_object_new_object();
	if (ev->freeze_frame) {
		for (int i = 0; i < SIG__MAX; i++)
			if (ev->freeze_frame->present[i])
				json_object_object_add(
					ff, signal_name(i),
					jnum(ev->freeze_frame->value[i]));
		if (ev->freeze_frame->vin[0])
			add_str(ff, "vin", ev->freeze_frame->vin);
	}
	json_object_object_add(o, "freeze_frame", ff);
	json_object_array_add(r->events, o);
}

static struct json_object *build_data(struct report_out *r)
{
	struct json_object *d = json_object_new_object();
	struct json_object *sigs = json_object_new_object();
	struct json_object *cyc = json_object_new_array();

	add_str(d, "generator", "dtcd " DTCD_VERSION);
	add_str(d, "source", r->source);
	add_str(d, "lang", r->lang);
	json_object_object_add(d, "start", jtime(r->first_ts));
	json_object_object_add(d, "end", jtime(r->last_ts));
	for (int i = 0; i < SIG__MAX; i++) {
		struct series *s = &r->sig[i];
		struct json_object *o, *t, *v;

		if (!s->n)
			continue;
		o = json_object_new_object();
		t = json_object_new_array_ext((int)s->n);
		v = json_object_new_array_ext((int)s->n);
		for (size_t k = 0; k < s->n; k++) {
			json_object_array_add(t, jtime(s->t[k]));
			json_object_array_add(v, jnum(s->v[k]));
		}
		add_str(o, "unit", signal_info(i)->unit);
		json_object_object_add(o, "t", t);
		json_object_object_add(o, "v", v);
		json_object_object_add(sigs, signal_name(i), o);
	}
	for (size_t i = 0; i < r->n_cycles; i++) {
		struct json_object *o = json_object_new_object();
		double end = r->cycles[i].end;

		json_object_object_add(o, "start", jtime(r->cycles[i].start));
		json_object_object_add(
			o, "end",
			jtime(end < r->cycles[i].start ? r->last_ts : end));
		json_object_object_add(
			o, "warmup",
			json_object_new_boolean(r->cycles[i].warmup));
		json_object_array_add(cyc, o);
	}
	json_object_object_add(d, "signals", sigs);
	json_object_object_add(d, "cycles", cyc);
	json_object_object_add(d, "events", json_object_get(r->events));
	return d;
}

/* The JSON goes inside <script>: json-c escapes '/', so "</script>" cannot
 * occur in it and close the element early. */
static int write_page(struct report_out *r)
{
	struct json_object *d = build_data(r);
	FILE *f = fopen(r->path, "we");
	int ret = 0;

	if (!f) {
		ret = -errno;
		json_object_put(d);
		return ret;
	}
	fprintf(f,
		"<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
		"<meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width\">\n"
		"<title>dtcd report</title>\n<style>\n%s</style>\n</head>\n"
		"<body>\n<script type=\"application/json\" id=\"dtcd-data\">",
		r->lang, report_css);
	fputs(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN), f);
	fprintf(f,
		"</script>\n<main id=\"app\"></main>\n<script>\n%s</script>\n"
		"<script>\n%s</script>\n"
		"</body>\n</html>\n",
		dom_js, report_js);
	json_object_put(d);
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) != 0 && ret == 0)
		ret = -errno;
	return ret;
}

static void report_flush(void *state)
{
	(void)state;
}

static void report_free(void *state)
{
	struct report_out *r = state;
	int ret;

	if (!r)
		return;
	ret = write_page(r);
	if (ret < 0)
		fprintf(stderr, "dtcd: %s: %s\n", r->path, strerror(-ret));
	for (int i = 0; i < SIG__MAX; i++) {
		free(r->sig[i].t);
		free(r->sig[i].v);
	}
	json_object_put(r->events);
	free(r->path);
	free(r->source);
	free(r->lang);
	free(r);
}

static const struct output_ops report_ops = {
	.name = "report",
	.sample = report_sample,
	.cycle = report_cycle,
	.event = report_event,
	.flush = report_flush,
	.free = report_free,
};

int output_report_new(struct output *ret, const char *path, const char *source,
		      const char *lang)
{
	struct report_out *r = calloc(1, sizeof(*r));
	FILE *f;

	if (!r)
		return -ENOMEM;
	/* fail now, not after a long replay: the file must be writable */
	f = fopen(path, "we");
	if (!f) {
		int e = -errno;

		free(r);
		return e;
	}
	fclose(f);
	r->path = strdup(path);
	r->source = strdup(source ? source : "");
	r->lang = strdup(lang && !strcmp(lang, "de") ? "de" : "en");
	r->events = json_object_new_array();
	if (!r->path || !r->source || !r->lang || !r->events) {
		report_free(r);
		return -ENOMEM;
	}
	*ret = (struct output){ .ops = &report_ops, .state = r };
	return 0;
}
