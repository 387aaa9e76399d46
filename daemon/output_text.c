/* output_text.c: one readable line per DTC event, for people at a terminal */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"

struct text_out {
	FILE *out;
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
		       const char *action, const char *title)
{
	struct text_out *t = state;
	char ts[32];

	format_time(ts, sizeof(ts), ev->ts_ns);
	if (ev->type == DTC_EVENT_ECU) {
		if (ev->ecu_kind)
			fprintf(t->out, "%s  ecu %03X reports %s code %s\n", ts,
				ev->ecu_id, ev->ecu_kind, ev->code);
		else
			fprintf(t->out,
				"%s  ecu %03X: engine light %s, %d stored "
				"emission code(s)\n",
				ts, ev->ecu_id,
				ev->mil_on > 0	    ? "ON" :
				ev->mil_on == 0 ? "off" :
						  "unknown",
				ev->dtc_count);
		return;
	}
	fprintf(t->out, "%s  %-9s %s %s [%s, status 0x%02X]\n", ts,
		dtc_event_type_name(ev->type), ev->code, title ? title : "",
		dtc_severity_name(ev->severity), ev->status);
	if (action && *action &&
	    (ev->type == DTC_EVENT_PENDING || ev->type == DTC_EVENT_CONFIRMED))
		fprintf(t->out, "%*s  -> %s\n", (int)strlen(ts), "", action);
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

int output_text_new(struct output *ret, FILE *out)
{
	struct text_out *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->out = out;
	*ret = (struct output){ .ops = &text_ops, .state = t };
	return 0;
}
