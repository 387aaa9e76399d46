/* ingest.c: event, status and online payloads parsed with json-c and checked */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ingest.h"

#define INGEST_MAX_TEXT 4096
#define INGEST_MAX_DTCS 512

static int bad(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* what the payload had there, short, for the message */
static const char *shown(struct json_object *v, char *buf, size_t len)
{
	const char *s =
		v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) :
		    "nothing";

	snprintf(buf, len, "%.40s%s", s, strlen(s) > 40 ? "..." : "");
	return buf;
}

bool ingest_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > INGEST_MAX_ID)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '/' ||
		    *s == '+' || *s == '#')
			return false;
	return true;
}

static struct json_object *parse(const char *payload, size_t len, char *errbuf,
				 size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error e;

	if (len > INGEST_MAX_PAYLOAD) {
		bad(errbuf, errlen, "payload of %zu bytes, at most %d", len,
		    INGEST_MAX_PAYLOAD);
		return NULL;
	}
	tok = json_tokener_new_ex(32);
	if (!tok) {
		bad(errbuf, errlen, "out of memory");
		return NULL;
	}
	/* PostgreSQL refuses text that is not UTF-8: such a payload would
	 * fail its batch's commit again and again, holding the collector */
	json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, payload, (int)len);
	e = json_tokener_get_error(tok);
	if (o && json_tokener_get_parse_end(tok) < len)
		e = json_tokener_error_parse_unexpected;
	json_tokener_free(tok);
	if (e != json_tokener_success || !o) {
		json_object_put(o);
		bad(errbuf, errlen, "not JSON: %s",
		    e == json_tokener_continue ?
			    "the payload ends in the middle of it" :
			    json_tokener_error_desc(e));
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		bad(errbuf, errlen, "expected a JSON object");
		return NULL;
	}
	return o;
}

/* key's string of 1..max characters; optional: NULL when absent or null */
static int get_string(struct json_object *o, const char *key, size_t max,
		      bool optional, const char **ret, char *errbuf,
		      size_t errlen)
{
	struct json_object *v = NULL;
	char buf[64];
	size_t n;

	json_object_object_get_ex(o, key, &v);
	if (!v && optional) {
		*ret = NULL;
		return 0;
	}
	n = v && json_object_is_type(v, json_type_string) ?
		    (size_t)json_object_get_string_len(v) :
		    0;
	if (n == 0 || n > max || memchr(json_object_get_string(v), '\0', n))
		return bad(errbuf, errlen,
			   "%s: expected a string of 1..%zu characters, got %s",
			   key, max, shown(v, buf, sizeof(buf)));
	*ret = json_object_get_string(v);
	return 0;
}

/* key's whole number in [min, max]; absent and optional: *ret untouched */
static int get_int(struct json_object *o, const char *key, int64_t min,
		   int64_t max, bool optional, int64_t *ret, char *errbuf,
		   size_t errlen)
{
	struct json_object *v = NULL;
	char buf[64];
	int64_t i;

	json_object_object_get_ex(o, key, &v);
	if (!v && optional)
		return 0;
	if (!v || !json_object_is_type(v, json_type_int))
		goto fail;
	errno = 0;
	i = json_object_get_int64(v);
	if (errno || i < min || i > max)
		goto fail;
	*ret = i;
	return 0;
fail:
	return bad(errbuf, errlen,
		   "%s: expected a whole number %lld..%lld, got %s", key,
		   (long long)min, (long long)max, shown(v, buf, sizeof(buf)));
}

/* a time in s since 1970, or null (never) when optional */
static int get_time(struct json_object *o, const char *key, bool optional,
		    double *ret, char *errbuf, size_t errlen)
{
	struct json_object *v = NULL;
	char buf[64];
	double d;

	json_object_object_get_ex(o, key, &v);
	if (!v && optional)
		return 0;
	if (v && (json_object_is_type(v, json_type_double) ||
		  json_object_is_type(v, json_type_int))) {
		d = json_object_get_double(v);
		/* up to year 9999 */
		if (d >= 0 && d < 253402300800.0) {
			*ret = d;
			return 0;
		}
	}
	return bad(errbuf, errlen,
		   "%s: expected a time in seconds since 1970, got %s", key,
		   shown(v, buf, sizeof(buf)));
}

static const char *const severities[] = { "low", "medium", "high", "critical",
					  NULL };

static int get_severity(struct json_object *o, const char **ret, char *errbuf,
			size_t errlen)
{
	int r = get_string(o, "severity", 16, true, ret, errbuf, errlen);

	if (r < 0 || !*ret)
		return r;
	for (size_t i = 0; severities[i]; i++)
		if (!strcmp(*ret, severities[i]))
			return 0;
	return bad(errbuf, errlen,
		   "severity: expected low, medium, high or critical, got "
		   "\"%.20s\"",
		   *ret);
}

static int get_vehicle(struct json_object *o, const char **ret, char *errbuf,
		       size_t errlen)
{
	int r = get_string(o, "vehicle", INGEST_MAX_ID, false, ret, errbuf,
			   errlen);

	if (r == 0 && !ingest_id_valid(*ret))
		r = bad(errbuf, errlen,
			"vehicle: expected an id without control characters, "
			"/ + #, got \"%.40s\"",
			*ret);
	return r;
}

static bool word(const char *s)
{
	for (; *s; s++)
		if ((*s < 'a' || *s > 'z') && *s != '_')
			return false;
	return true;
}

int ingest_event(const char *payload, size_t len, struct ingest_event *ret,
		 char *errbuf, size_t errlen)
{
	struct ingest_event ev = { .status = -1 };
	int64_t status = -1;
	int r;

	ev.obj = parse(payload, len, errbuf, errlen);
	if (!ev.obj)
		return -EINVAL;
	r = get_vehicle(ev.obj, &ev.vehicle, errbuf, errlen);
	if (r == 0)
		r = get_int(ev.obj, "event_id", 0, INT64_MAX, false,
			    &ev.event_id, errbuf, errlen);
	if (r == 0)
		r = get_time(ev.obj, "ts", false, &ev.ts, errbuf, errlen);
	if (r == 0)
		r = get_string(ev.obj, "event", 32, false, &ev.event, errbuf,
			       errlen);
	if (r == 0 && !word(ev.event))
		r = bad(errbuf, errlen,
			"event: expected a word (pending, confirmed, ...), got "
			"\"%.32s\"",
			ev.event);
	if (r == 0)
		r = get_string(ev.obj, "code", 16, true, &ev.code, errbuf,
			       errlen);
	if (r == 0)
		r = get_severity(ev.obj, &ev.severity, errbuf, errlen);
	if (r == 0)
		r = get_int(ev.obj, "status", 0, 255, true, &status, errbuf,
			    errlen);
	if (r < 0) {
		json_object_put(ev.obj);
		return r;
	}
	ev.status = (int)status;
	*ret = ev;
	return 0;
}

void ingest_event_free(struct ingest_event *ev)
{
	if (ev)
		json_object_put(ev->obj);
}

/* one DTC of the status list: the fields the database keeps */
static int check_dtc(struct json_object *d, size_t i, char *errbuf,
		     size_t errlen)
{
	struct json_object *ff = NULL;
	const char *s;
	int64_t n;
	double t;
	char pre[32];
	int r;

	if (!json_object_is_type(d, json_type_object))
		return bad(errbuf, errlen, "dtcs[%zu]: expected an object", i);
	r = get_string(d, "code", 16, false, &s, errbuf, errlen);
	if (r == 0)
		r = get_severity(d, &s, errbuf, errlen);
	if (r == 0)
		r = get_int(d, "status", 0, 255, true, &n, errbuf, errlen);
	if (r == 0)
		r = get_int(d, "occurrences", 0, INT32_MAX, true, &n, errbuf,
			    errlen);
	if (r == 0 && json_object_object_get_ex(d, "first_failure", &ff) && ff)
		r = get_time(d, "first_failure", true, &t, errbuf, errlen);
	if (r == 0 && json_object_object_get_ex(d, "last_failure", &ff) && ff)
		r = get_time(d, "last_failure", true, &t, errbuf, errlen);
	if (r == 0)
		r = get_string(d, "action", INGEST_MAX_TEXT, true, &s, errbuf,
			       errlen);
	if (r == 0)
		r = get_string(d, "title", INGEST_MAX_TEXT, true, &s, errbuf,
			       errlen);
	ff = NULL;
	if (r == 0 && json_object_object_get_ex(d, "freeze_frame", &ff) && ff &&
	    !json_object_is_type(ff, json_type_object))
		r = bad(errbuf, errlen, "freeze_frame: expected an object");
	if (r < 0) {
		/* "dtcs[2]: " before what is wrong */
		snprintf(pre, sizeof(pre), "dtcs[%zu]: ", i);
		if (strlen(pre) + strlen(errbuf) < errlen) {
			memmove(errbuf + strlen(pre), errbuf,
				strlen(errbuf) + 1);
			memcpy(errbuf, pre, strlen(pre));
		}
	}
	return r;
}

int ingest_status(const char *payload, size_t len, struct ingest_status *ret,
		  char *errbuf, size_t errlen)
{
	struct ingest_status st = { .frames = -1, .outbox = -1 };
	size_t n;
	int r;

	st.obj = parse(payload, len, errbuf, errlen);
	if (!st.obj)
		return -EINVAL;
	r = get_vehicle(st.obj, &st.vehicle, errbuf, errlen);
	if (r == 0)
		r = get_time(st.obj, "ts", false, &st.ts, errbuf, errlen);
	if (r == 0)
		r = get_string(st.obj, "dtcd_version", 64, true,
			       &st.dtcd_version, errbuf, errlen);
	if (r == 0)
		r = get_int(st.obj, "frames", 0, INT64_MAX, true, &st.frames,
			    errbuf, errlen);
	if (r == 0)
		r = get_int(st.obj, "outbox", 0, INT64_MAX, true, &st.outbox,
			    errbuf, errlen);
	if (r == 0 && (!json_object_object_get_ex(st.obj, "dtcs", &st.dtcs) ||
		       !json_object_is_type(st.dtcs, json_type_array)))
		r = bad(errbuf, errlen, "dtcs: expected an array");
	n = r == 0 ? json_object_array_length(st.dtcs) : 0;
	if (n > INGEST_MAX_DTCS)
		r = bad(errbuf, errlen, "dtcs: %zu DTCs, at most %d", n,
			INGEST_MAX_DTCS);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = check_dtc(json_object_array_get_idx(st.dtcs, i), i, errbuf,
			      errlen);
	if (r < 0) {
		json_object_put(st.obj);
		return r;
	}
	*ret = st;
	return 0;
}

void ingest_status_free(struct ingest_status *st)
{
	if (st)
		json_object_put(st->obj);
}

int ingest_online(const char *payload, size_t len)
{
	if (len == 6 && !memcmp(payload, "online", 6))
		return 1;
	if (len == 7 && !memcmp(payload, "offline", 7))
		return 0;
	return -EINVAL;
}
