/* report.c: the fleet's open DTCs per vehicle, readable, CSV or JSON */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "report.h"

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static void fmt_time(struct json_object *o, const char *key, char *buf,
		     size_t len)
{
	struct json_object *v;
	time_t t;

	buf[0] = '\0';
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return;
	t = (time_t)json_object_get_double(v);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
}

/* the action in the reader's language, else what the car sent */
static void localize(struct json_object *d, const struct actions *a,
		     const char *lang)
{
	const char *code = str(d, "code");
	const char *action = actions_action(a, code, lang);
	const char *title = actions_title(a, code, lang);

	if (action)
		json_object_object_add(d, "action",
				       json_object_new_string(action));
	if (title)
		json_object_object_add(d, "title",
				       json_object_new_string(title));
}

static void csv_field(FILE *out, const char *s, const char *sep)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
	fputs(sep, out);
}

static void print_text(FILE *out, struct json_object *v)
{
	struct json_object *dtcs = json_object_object_get(v, "dtcs");
	struct json_object *open = json_object_object_get(v, "open");
	struct json_object *on = json_object_object_get(v, "online");
	char seen[64];
	int n = 0;

	fmt_time(v, "last_seen", seen, sizeof(seen));
	fprintf(out, "%s  %s  last seen %s  open:", str(v, "vehicle"),
		!on			    ? "online unknown" :
		json_object_get_boolean(on) ? "online" :
					      "offline",
		seen[0] ? seen : "never");
	json_object_object_foreach(open, sev, cnt)
	{
		if (json_object_get_int(cnt) > 0)
			fprintf(out, "%s %d %s", n++ ? "," : "",
				json_object_get_int(cnt), sev);
	}
	fprintf(out, "%s\n", n ? "" : " none");
	for (size_t i = 0; i < json_object_array_length(dtcs); i++) {
		struct json_object *d = json_object_array_get_idx(dtcs, i);
		const char *action = str(d, "action");

		fmt_time(d, "last_failure", seen, sizeof(seen));
		fprintf(out, "  %-6s %-8s last seen %s  %s\n", str(d, "code"),
			str(d, "severity") ? str(d, "severity") : "-",
			seen[0] ? seen : "never",
			str(d, "title") ? str(d, "title") : "");
		if (action)
			fprintf(out, "    action: %s\n", action);
	}
}

static void print_csv(FILE *out, struct json_object *v)
{
	struct json_object *dtcs = json_object_object_get(v, "dtcs");
	struct json_object *on = json_object_object_get(v, "online");
	size_t n = json_object_array_length(dtcs);
	char seen[64], last[64];

	fmt_time(v, "last_seen", seen, sizeof(seen));
	/* a vehicle without open DTCs is still one line */
	for (size_t i = 0; i < (n ? n : 1); i++) {
		struct json_object *d =
			n ? json_object_array_get_idx(dtcs, i) : NULL;

		csv_field(out, str(v, "vehicle"), ",");
		csv_field(out,
			  !on			      ? "" :
			  json_object_get_boolean(on) ? "online" :
							"offline",
			  ",");
		csv_field(out, seen, ",");
		last[0] = '\0';
		if (d)
			fmt_time(d, "last_failure", last, sizeof(last));
		csv_field(out, d ? str(d, "code") : NULL, ",");
		csv_field(out, d ? str(d, "severity") : NULL, ",");
		csv_field(out, d ? str(d, "status") : NULL, ",");
		csv_field(out, d ? str(d, "occurrences") : NULL, ",");
		csv_field(out, last, ",");
		csv_field(out, d ? str(d, "title") : NULL, ",");
		csv_field(out, d ? str(d, "action") : NULL, "\r\n");
	}
}

int report_print(FILE *out, struct db *db, const struct store_filter *f,
		 enum report_format fmt, const struct actions *a,
		 const char *lang)
{
	struct json_object *vs, *shown;
	int r;

	r = store_vehicles(db, f, true, &vs);
	if (r < 0)
		return r;
	shown = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(vs); i++) {
		struct json_object *v = json_object_array_get_idx(vs, i);
		struct json_object *dtcs = json_object_object_get(v, "dtcs");

		if (f->severity && json_object_array_length(dtcs) == 0)
			continue;
		for (size_t j = 0; j < json_object_array_length(dtcs); j++)
			localize(json_object_array_get_idx(dtcs, j), a, lang);
		json_object_array_add(shown, json_object_get(v));
	}
	json_object_put(vs);
	if (fmt == REPORT_JSON)
		fprintf(out, "%s\n",
			json_object_to_json_string_ext(
				shown, JSON_C_TO_STRING_PRETTY |
					       JSON_C_TO_STRING_NOSLASHESCAPE));
	if (fmt == REPORT_CSV)
		fputs("vehicle,online,last_seen,code,severity,status,"
		      "occurrences,last_failure,title,action\r\n",
		      out);
	for (size_t i = 0;
	     fmt != REPORT_JSON && i < json_object_array_length(shown); i++) {
		if (fmt == REPORT_TEXT)
			print_text(out, json_object_array_get_idx(shown, i));
		else
			print_csv(out, json_object_array_get_idx(shown, i));
	}
	if (fmt == REPORT_TEXT && json_object_array_length(shown) == 0)
		fprintf(out, "no vehicle%s\n",
			f->severity || f->vehicle ? " matches" : " yet");
	json_object_put(shown);
	return fflush(out) == 0 ? 0 : -EIO;
}
