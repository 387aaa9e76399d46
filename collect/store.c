/* store.c: events, status and online state in and the fleet's state out */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define RANK_SQL(col)                                                   \
	"(CASE " col " WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN " \
	"'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END)"

int store_severity_rank(const char *severity)
{
	static const char *const names[] = { "low", "medium", "high",
					     "critical" };

	for (int i = 0; severity && i < 4; i++)
		if (!strcmp(severity, names[i]))
			return i + 1;
	return 0;
}

static int count_row(void *ud, int ncols, const char *const *v)
{
	(*(int *)ud)++;
	return 0;
}

static void fmt_double(char *buf, size_t len, double d)
{
	snprintf(buf, len, "%.6f", d);
}

/* "($k+1, .., $k+cols), .." for rows rows: one statement for many */
static char *values(const char *head, size_t rows, int cols, const char *tail)
{
	size_t len = strlen(head) + strlen(tail) + rows * (cols * 9 + 4) + 1;
	char *sql = malloc(len), *p;
	int k = 0;

	if (!sql)
		return NULL;
	p = sql + sprintf(sql, "%s", head);
	for (size_t i = 0; i < rows; i++) {
		*p++ = i ? ',' : ' ';
		*p++ = '(';
		for (int c = 0; c < cols; c++)
			p += sprintf(p, "%s$%d", c ? ", " : "", ++k);
		*p++ = ')';
	}
	sprintf(p, " %s", tail);
	return sql;
}

int store_seen(struct db *db, const char *const *vehicles, size_t n, double now)
{
	char rcv[32], *sql;
	const char **p;
	int r;

	if (n == 0)
		return 0;
	sql = values("INSERT INTO vehicles (vehicle, last_seen) VALUES", n, 2,
		     "ON CONFLICT (vehicle) DO UPDATE "
		     "SET last_seen = excluded.last_seen");
	p = calloc(2 * n, sizeof(*p));
	fmt_double(rcv, sizeof(rcv), now);
	for (size_t i = 0; p && i < n; i++) {
		p[2 * i] = vehicles[i];
		p[2 * i + 1] = rcv;
	}
	r = sql && p ? db_exec(db, sql, (int)(2 * n), p, NULL, NULL) : -ENOMEM;
	free(p);
	free(sql);
	return r;
}

/* the numbers of one event as parameter text */
struct event_text {
	char id[24], ts[32], status[8];
};

struct inserted {
	const struct ingest_event *const *evs;
	size_t n;
	bool *ret_new;
};

/* a (vehicle, event_id) RETURNING gave back: the first of the batch's
 * events with that key is new (any other is a duplicate in the batch) */
static int mark_new(void *ud, int ncols, const char *const *v)
{
	struct inserted *in = ud;
	long long id = strtoll(v[1], NULL, 10);

	for (size_t i = 0; i < in->n; i++)
		if (!in->ret_new[i] && in->evs[i]->event_id == id &&
		    !strcmp(in->evs[i]->vehicle, v[0])) {
			in->ret_new[i] = true;
			break;
		}
	return 0;
}

int store_events(struct db *db, const struct ingest_event *const *evs, size_t n,
		 double now, bool *ret_new)
{
	struct inserted in = { evs, n, ret_new };
	struct event_text *t;
	char rcv[32], *sql;
	const char **p;
	int r;

	if (n == 0)
		return 0;
	sql = values("INSERT INTO events (vehicle, event_id, ts, event, code, "
		     "severity, status, received, payload) VALUES",
		     n, 9,
		     "ON CONFLICT (vehicle, event_id) DO NOTHING "
		     "RETURNING vehicle, event_id");
	p = calloc(9 * n, sizeof(*p));
	t = calloc(n, sizeof(*t));
	fmt_double(rcv, sizeof(rcv), now);
	for (size_t i = 0; p && t && i < n; i++) {
		const struct ingest_event *ev = evs[i];
		const char **q = p + 9 * i;

		ret_new[i] = false;
		snprintf(t[i].id, sizeof(t[i].id), "%lld",
			 (long long)ev->event_id);
		fmt_double(t[i].ts, sizeof(t[i].ts), ev->ts);
		if (ev->status >= 0)
			snprintf(t[i].status, sizeof(t[i].status), "%d",
				 ev->status);
		q[0] = ev->vehicle;
		q[1] = t[i].id;
		q[2] = t[i].ts;
		q[3] = ev->event;
		q[4] = ev->code;
		q[5] = ev->severity;
		q[6] = ev->status >= 0 ? t[i].status : NULL;
		q[7] = rcv;
		q[8] = json_object_to_json_string_ext(
			ev->obj, JSON_C_TO_STRING_PLAIN |
					 JSON_C_TO_STRING_NOSLASHESCAPE);
	}
	r = sql && p && t ? db_exec(db, sql, (int)(9 * n), p, mark_new, &in) :
			    -ENOMEM;
	free(t);
	free(p);
	free(sql);
	return r;
}

static const char *field(struct json_object *o, const char *key, char *buf,
			 size_t len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	if (json_object_is_type(v, json_type_double)) {
		fmt_double(buf, len, json_object_get_double(v));
		return buf;
	}
	if (json_object_is_type(v, json_type_object))
		return json_object_to_json_string_ext(
			v, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE);
	return json_object_get_string(v);
}

static int put_dtc(struct db *db, const char *vehicle, struct json_object *d)
{
	static const char *const keys[] = { "code",	    "detector",
					    "severity",	    "status",
					    "occurrences",  "first_failure",
					    "last_failure", "title",
					    "action",	    "freeze_frame" };
	char buf[10][32];
	const char *p[11] = { vehicle };

	for (int i = 0; i < 10; i++)
		p[i + 1] = field(d, keys[i], buf[i], sizeof(buf[i]));
	return db_exec(db,
		       "INSERT INTO dtcs (vehicle, code, detector, severity, "
		       "status, occurrences, first_failure, last_failure, "
		       "title, action, freeze_frame) VALUES ($1, $2, $3, $4, "
		       "$5, $6, $7, $8, $9, $10, $11) "
		       "ON CONFLICT (vehicle, code) DO NOTHING",
		       11, p, NULL, NULL);
}

int store_status(struct db *db, const struct ingest_status *st, double now,
		 bool *ret_applied)
{
	char ts[32], rcv[32], fr[24], ob[24];
	const char *p[6] = {
		st->vehicle, rcv, ts, st->dtcd_version, NULL, NULL
	};
	int applied = 0, r;

	fmt_double(ts, sizeof(ts), st->ts);
	fmt_double(rcv, sizeof(rcv), now);
	if (st->frames >= 0) {
		snprintf(fr, sizeof(fr), "%lld", (long long)st->frames);
		p[4] = fr;
	}
	if (st->outbox >= 0) {
		snprintf(ob, sizeof(ob), "%lld", (long long)st->outbox);
		p[5] = ob;
	}
	/* the vehicle's row is locked from here to the commit: two
	 * collectors replacing the list of one car take turns */
	r = db_exec(db,
		    "INSERT INTO vehicles (vehicle, last_seen, status_ts, "
		    "dtcd_version, frames, outbox) VALUES ($1, $2, $3, $4, $5, "
		    "$6) ON CONFLICT (vehicle) DO UPDATE SET "
		    "last_seen = excluded.last_seen, "
		    "status_ts = excluded.status_ts, "
		    "dtcd_version = excluded.dtcd_version, "
		    "frames = excluded.frames, outbox = excluded.outbox "
		    "WHERE vehicles.status_ts IS NULL OR "
		    "vehicles.status_ts <= excluded.status_ts "
		    "RETURNING vehicle",
		    6, p, count_row, &applied);
	if (r == 0 && !applied)
		/* an older list than the one stored: only heard of */
		r = db_exec(db,
			    "UPDATE vehicles SET last_seen = $2 "
			    "WHERE vehicle = $1",
			    2, p, NULL, NULL);
	if (r == 0 && applied)
		r = db_exec(db, "DELETE FROM dtcs WHERE vehicle = $1", 1, p,
			    NULL, NULL);
	for (size_t i = 0;
	     r == 0 && applied && i < json_object_array_length(st->dtcs); i++)
		r = put_dtc(db, st->vehicle,
			    json_object_array_get_idx(st->dtcs, i));
	if (r == 0)
		*ret_applied = applied > 0;
	return r;
}

int store_online(struct db *db, const char *vehicle, bool online, double now)
{
	char rcv[32];
	const char *p[3] = { vehicle, online ? "1" : "0", rcv };

	fmt_double(rcv, sizeof(rcv), now);
	return db_exec(db,
		       "INSERT INTO vehicles (vehicle, online, online_changed, "
		       "last_seen) VALUES ($1, $2, $3, $3) "
		       "ON CONFLICT (vehicle) DO UPDATE SET "
		       "online = excluded.online, "
		       "online_changed = excluded.online_changed, "
		       "last_seen = excluded.last_seen",
		       3, p, NULL, NULL);
}

/* ---- reading: rows into JSON by a column list ---- */

/* a column: its JSON name and kind: s text, i integer, d number, b bool,
 * j JSON text */
struct col {
	const char *name;
	char kind;
};

struct rows {
	const struct col *cols;
	struct json_object *arr;
};

static struct json_object *value(char kind, const char *v)
{
	if (!v)
		return NULL;
	switch (kind) {
	case 'i':
		return json_object_new_int64(strtoll(v, NULL, 10));
	case 'd':
		return json_object_new_double(strtod(v, NULL));
	case 'b':
		return json_object_new_boolean(strtoll(v, NULL, 10) != 0);
	case 'j':
		return json_tokener_parse(v);
	default:
		return json_object_new_string(v);
	}
}

static int to_json(void *ud, int ncols, const char *const *v)
{
	struct rows *rs = ud;
	struct json_object *o = json_object_new_object();

	for (int i = 0; i < ncols && rs->cols[i].name; i++)
		json_object_object_add(o, rs->cols[i].name,
				       value(rs->cols[i].kind, v[i]));
	json_object_array_add(rs->arr, o);
	return 0;
}

static int query(struct db *db, const char *sql, int n, const char *const *p,
		 const struct col *cols, struct json_object **ret)
{
	struct rows rs = { cols, json_object_new_array() };
	int r = db_exec(db, sql, n, p, to_json, &rs);

	if (r < 0) {
		json_object_put(rs.arr);
		return r;
	}
	*ret = rs.arr;
	return 0;
}

static const struct col vehicle_cols[] = {
	{ "vehicle", 's' },   { "online", 'b' },    { "online_changed", 'd' },
	{ "last_seen", 'd' }, { "status_ts", 'd' }, { "dtcd_version", 's' },
	{ "frames", 'i' },    { "outbox", 'i' },    { "critical", 'i' },
	{ "high", 'i' },      { "medium", 'i' },    { "low", 'i' },
	{ NULL, 0 },
};

static const struct col dtc_cols[] = {
	{ "vehicle", 's' },	  { "code", 's' },
	{ "detector", 's' },	  { "severity", 's' },
	{ "status", 'i' },	  { "occurrences", 'i' },
	{ "first_failure", 'd' }, { "last_failure", 'd' },
	{ "title", 's' },	  { "action", 's' },
	{ "freeze_frame", 'j' },  { NULL, 0 },
};

static const struct col event_cols[] = {
	{ "event_id", 'i' }, { "ts", 'd' },	  { "event", 's' },
	{ "code", 's' },     { "severity", 's' }, { "status", 'i' },
	{ "received", 'd' }, { NULL, 0 },
};

#define COUNT_SQL(sev) \
	"SUM(CASE WHEN d.severity = '" sev "' THEN 1 ELSE 0 END), "

static int vehicles(struct db *db, const char *vehicle,
		    struct json_object **ret)
{
	const char *p[1] = { vehicle };

	return query(
		db,
		"SELECT v.vehicle, v.online, v.online_changed, "
		"v.last_seen, v.status_ts, v.dtcd_version, v.frames, "
		"v.outbox, " COUNT_SQL("critical") COUNT_SQL("high") COUNT_SQL(
			"medium") "SUM(CASE WHEN d.severity = "
				  "'low' THEN 1 ELSE 0 END) "
				  "FROM vehicles v LEFT JOIN dtcs d ON "
				  "d.vehicle = "
				  "v.vehicle WHERE CAST($1 AS TEXT) IS NULL OR "
				  "v.vehicle = "
				  "CAST($1 AS TEXT) GROUP BY v.vehicle "
				  "ORDER BY 9 DESC, 10 DESC, 11 DESC, 12 DESC, "
				  "v.vehicle",
		1, p, vehicle_cols, ret);
}

static int dtcs(struct db *db, const struct store_filter *f,
		struct json_object **ret)
{
	char rank[4];
	const char *p[2] = { f->vehicle, rank };

	snprintf(rank, sizeof(rank), "%d", store_severity_rank(f->severity));
	return query(
		db,
		"SELECT d.vehicle, d.code, d.detector, d.severity, "
		"d.status, d.occurrences, d.first_failure, "
		"d.last_failure, d.title, d.action, d.freeze_frame "
		"FROM dtcs d WHERE (CAST($1 AS TEXT) IS NULL OR "
		"d.vehicle = CAST($1 AS TEXT)) AND " RANK_SQL(
			"d.severity") " >= CAST($2 AS INTEGER) "
				      "ORDER BY d.vehicle, " RANK_SQL(
					      "d.severity") " DESC, d.code",
		2, p, dtc_cols, ret);
}

/* the open counts, then each vehicle's DTC list under "dtcs" */
static void nest(struct json_object *vs, struct json_object *ds)
{
	size_t j = 0, nd = ds ? json_object_array_length(ds) : 0;

	for (size_t i = 0; i < json_object_array_length(vs); i++) {
		struct json_object *v = json_object_array_get_idx(vs, i);
		struct json_object *list = json_object_new_array(), *open;
		const char *id = json_object_get_string(
			json_object_object_get(v, "vehicle"));

		open = json_object_new_object();
		for (int k = 0; k < 4; k++) {
			static const char *const sev[] = { "critical", "high",
							   "medium", "low" };
			struct json_object *c = NULL;

			json_object_object_get_ex(v, sev[k], &c);
			json_object_object_add(open, sev[k],
					       json_object_get(c));
			json_object_object_del(v, sev[k]);
		}
		json_object_object_add(v, "open", open);
		for (j = 0; ds && j < nd; j++) {
			struct json_object *d =
				json_object_array_get_idx(ds, j);

			if (!strcmp(json_object_get_string(
					    json_object_object_get(d,
								   "vehicle")),
				    id))
				json_object_array_add(list, json_object_get(d));
		}
		if (ds)
			json_object_object_add(v, "dtcs", list);
		else
			json_object_put(list);
	}
}

int store_vehicles(struct db *db, const struct store_filter *f, bool with_dtcs,
		   struct json_object **ret)
{
	struct json_object *vs = NULL, *ds = NULL;
	int r;

	r = vehicles(db, f->vehicle, &vs);
	if (r == 0 && with_dtcs)
		r = dtcs(db, f, &ds);
	if (r < 0) {
		json_object_put(vs);
		return r;
	}
	nest(vs, ds);
	json_object_put(ds);
	*ret = vs;
	return 0;
}

int store_vehicle(struct db *db, const char *vehicle, unsigned max_events,
		  struct json_object **ret)
{
	struct store_filter f = { .vehicle = vehicle };
	struct json_object *vs = NULL, *ev = NULL, *v;
	char lim[16];
	const char *p[2] = { vehicle, lim };
	int r;

	r = store_vehicles(db, &f, true, &vs);
	if (r < 0)
		return r;
	if (json_object_array_length(vs) == 0) {
		json_object_put(vs);
		return -ENOENT;
	}
	snprintf(lim, sizeof(lim), "%u", max_events);
	r = query(db,
		  "SELECT * FROM (SELECT event_id, ts, event, code, severity, "
		  "status, received FROM events WHERE vehicle = "
		  "CAST($1 AS TEXT) ORDER BY ts DESC, event_id DESC "
		  "LIMIT CAST($2 AS INTEGER)) e ORDER BY ts, event_id",
		  2, p, event_cols, &ev);
	if (r < 0) {
		json_object_put(vs);
		return r;
	}
	v = json_object_get(json_object_array_get_idx(vs, 0));
	json_object_put(vs);
	json_object_object_add(v, "events", ev);
	*ret = v;
	return 0;
}
