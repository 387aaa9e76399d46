/* output_text.c: one readable line per DTC event, for people at a terminal */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalogue.h"
#include "output_text.h"

struct text_out {
	FILE *out;
	const char *driver; /* labels of the two advice lines */
	const char *workshop;
};

/*
 * People read wall-clock time: a log with absolute timestamps (after 2001)
 * shows the UTC date and time, a relative one its seconds.
 */
static void format_time(char *buf, size_t len, int64_t ts_ns)
{
	time_t sec = (time_t)(ts_ns / 1000000000LL);
	struct tm tm;

	if (ts_ns < 1000000000LL * 1000000000LL || !gmtime_r(&sec, &tm)) {
		output_format_ts(buf, len, ts_ns);
		return;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void text_event(void *state, const struct dtc_event *ev,
		       const struct catalogue_entry *e)
{
	struct text_out *t = state;
	char ts[32];

	format_time(ts, sizeof(ts), ev->ts_ns);
	if (ev->type == DTC_EVENT_ECU) {
		/* status 0: the ECU stopped reporting the code */
		if (ev->ecu_kind)
			fprintf(t->out, "%s  ecu %03X %s %s code %s\n", ts,
				ev->ecu_id,
				ev->status ? "reports" : "no longer reports",
				ev->ecu_kind, ev->code);
		else
			fprintf(t->out,
				"%s  ecu %03X: engine light %s, %d stored "
				"emission code(s)\n",
				ts, ev->ecu_id,
				ev->mil_on > 0	? "ON" :
				ev->mil_on == 0 ? "off" :
						  "unknown",
				ev->dtc_count);
		return;
	}
	fprintf(t->out, "%s  %-9s %s %s [%s, status 0x%02X]\n", ts,
		dtc_event_type_name(ev->type), ev->code, e ? e->title : "",
		dtc_severity_name(ev->severity), ev->status);
	if (!e ||
	    (ev->type != DTC_EVENT_PENDING && ev->type != DTC_EVENT_CONFIRMED))
		return;
	/* what the driver does now, then what the workshop does */
	if (e->driver_advice && *e->driver_advice)
		fprintf(t->out, "%*s  %s %s\n", (int)strlen(ts), "", t->driver,
			e->driver_advice);
	if (e->action && *e->action)
		fprintf(t->out, "%*s  %s %s\n", (int)strlen(ts), "",
			t->workshop, e->action);
}

static void text_flush(void *state)
{
	struct text_out *t = state;

	fflush(t->out);
}

static const struct output_ops text_ops = {
	.name = "text",
	.event = text_event,
	.flush = text_flush,
	.free = free,
};

int output_text_new(struct output *ret, FILE *out, const char *lang)
{
	struct text_out *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->out = out;
	t->driver = "driver:  ";
	t->workshop = "workshop:";
	if (lang && strcmp(lang, "de") == 0) {
		t->driver = "Fahrer:   ";
		t->workshop = "Werkstatt:";
	}
	*ret = (struct output){ .ops = &text_ops, .state = t };
	return 0;
}
