/* store.c: the DTC store in SQLite: DTCs, freeze frames, events, counters */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "store.h"

/*
 * Durability. The Pi's power can be cut at any moment (ignition off, a
 * battery clamp pulled) and the daemon writes an event to its outputs only
 * after the event is committed here, so a commit must be on the medium when
 * sqlite3_step(COMMIT) returns:
 * - journal_mode=WAL: a commit appends to one file and fsyncs it once; the
 *   database file is only written at checkpoints. A torn write at power loss
 *   leaves a WAL frame with a bad checksum that recovery ignores, so the
 *   database stays at the last whole commit. Fewer writes than a rollback
 *   journal (which writes every page twice and fsyncs the journal, the
 *   database and the directory) also spare the SD card.
 * - synchronous=FULL: in WAL mode NORMAL fsyncs only at checkpoints, so the
 *   last commits before a power cut could roll back although their events
 *   were already sent: FULL fsyncs the WAL at every commit.
 * The manager batches the changes of one report/cycle into one transaction,
 * so the cost is one fsync per batch, not per row.
 */
#define STORE_SCHEMA_VERSION 3
/* the history is a ring: older rows go, the DTC rows themselves stay */
#define STORE_EVENT_CAP 100000

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS counter ("
	" name TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS dtc ("
	" code TEXT PRIMARY KEY,"
	" detector TEXT NOT NULL,"
	" severity TEXT NOT NULL,"
	" status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 255),"
	" stored INTEGER NOT NULL,"
	" occurrences INTEGER NOT NULL,"
	" failed_cycles INTEGER NOT NULL,"
	" aging_cycles INTEGER NOT NULL,"
	" passed_cycles INTEGER NOT NULL,"
	" first_failure_ns INTEGER NOT NULL,"
	" last_failure_ns INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS freeze_frame ("
	" code TEXT NOT NULL REFERENCES dtc(code),"
	" signal TEXT NOT NULL,"
	" value REAL,"
	" text TEXT,"
	" PRIMARY KEY (code, signal)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS event ("
	" id INTEGER PRIMARY KEY,"
	" ts_ns INTEGER NOT NULL,"
	" type TEXT NOT NULL,"
	" code TEXT NOT NULL,"
	" detector TEXT NOT NULL,"
	" severity TEXT NOT NULL,"
	" status INTEGER NOT NULL,"
	" occurrences INTEGER NOT NULL,"
	" ecu_id INTEGER,"
	" ecu_kind TEXT,"
	" mil_on INTEGER,"
	" dtc_count INTEGER);"
	"CREATE INDEX IF NOT EXISTS event_code ON event (code);";

/*
 * Version 2: each event's event_id (per vehicle, monotonic, the key a
 * collector drops duplicates by) and the outbox: the payloads an output
 * has not seen acknowledged yet, written in the transaction of the event.
 */
static const char schema_v2[] =
	"ALTER TABLE event ADD COLUMN event_id INTEGER;"
	"CREATE TABLE outbox ("
	" event_id INTEGER PRIMARY KEY,"
	" rank INTEGER NOT NULL," /* 0 low .. 3 critical: who goes first */
	" payload TEXT NOT NULL);";

/*
 * Version 3: evidence capsules, the raw frames around an event (frame
 * records of can/frame_ring.h in one blob: a capsule is written and read
 * whole).
 */
static const char schema_v3[] = "CREATE TABLE capsule ("
				" id INTEGER PRIMARY KEY,"
				" code TEXT NOT NULL,"
				" events TEXT NOT NULL,"
				" event_id INTEGER,"
				" event_ns INTEGER NOT NULL,"
				" start_ns INTEGER NOT NULL,"
				" end_ns INTEGER NOT NULL,"
				" frames INTEGER NOT NULL,"
				" cut INTEGER NOT NULL,"
				" ring_cut INTEGER NOT NULL,"
				" complete INTEGER NOT NULL,"
				" data BLOB NOT NULL);"
				"CREATE INDEX capsule_code ON capsule (code);";

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PUT_DTC,
	ST_FF_DELETE,
	ST_FF_INSERT,
	ST_PUT_EVENT,
	ST_TRIM_EVENTS,
	ST_PUT_COUNTER,
	ST_GET_COUNTER,
	ST_LOAD_DTC,
	ST_LOAD_FF,
	ST_OB_PUT,
	ST_OB_VICTIM,
	ST_OB_DELETE,
	ST_OB_NEXT,
	ST_OB_STATS,
	ST_CAP_PUT,
	ST_CAP_VICTIM,
	ST_CAP_DELETE,
	ST_CAP_GET,
	ST_CAP_STATS,
	ST__MAX,
};

static const char *const stmt_sql[ST__MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PUT_DTC] =
		"INSERT INTO dtc (code, detector, severity, status, stored,"
		" occurrences, failed_cycles, aging_cycles, passed_cycles,"
		" first_failure_ns, last_failure_ns)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		" ON CONFLICT (code) DO UPDATE SET detector = ?2,"
		" severity = ?3, status = ?4, stored = ?5, occurrences = ?6,"
		" failed_cycles = ?7, aging_cycles = ?8, passed_cycles = ?9,"
		" first_failure_ns = ?10, last_failure_ns = ?11",
	[ST_FF_DELETE] = "DELETE FROM freeze_frame WHERE code = ?1",
	[ST_FF_INSERT] = "INSERT INTO freeze_frame (code, signal, value, text)"
			 " VALUES (?1, ?2, ?3, ?4)",
	[ST_PUT_EVENT] =
		"INSERT INTO event (ts_ns, type, code, detector, severity,"
		" status, occurrences, ecu_id, ecu_kind, mil_on, dtc_count,"
		" event_id)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_TRIM_EVENTS] = "DELETE FROM event WHERE id <= ?1",
	[ST_PUT_COUNTER] = "INSERT INTO counter (name, value) VALUES (?1, ?2)"
			   " ON CONFLICT (name) DO UPDATE SET value = ?2",
	[ST_GET_COUNTER] = "SELECT value FROM counter WHERE name = ?1",
	[ST_LOAD_DTC] =
		"SELECT code, detector, severity, status, stored, occurrences,"
		" failed_cycles, aging_cycles, passed_cycles,"
		" first_failure_ns, last_failure_ns FROM dtc ORDER BY code",
	[ST_LOAD_FF] = "SELECT signal, value, text FROM freeze_frame"
		       " WHERE code = ?1",
	[ST_OB_PUT] = "INSERT INTO outbox (event_id, rank, payload)"
		      " VALUES (?1, ?2, ?3)",
	/* the oldest of the lowest severity; never a critical one */
	[ST_OB_VICTIM] = "SELECT event_id, length(payload) FROM outbox"
			 " WHERE rank < 3 ORDER BY rank, event_id LIMIT 1",
	[ST_OB_DELETE] = "DELETE FROM outbox WHERE event_id = ?1",
	[ST_OB_NEXT] = "SELECT event_id, payload FROM outbox"
		       " WHERE event_id > ?1 ORDER BY event_id LIMIT 1",
	[ST_OB_STATS] = "SELECT count(*), coalesce(sum(length(payload)), 0)"
			" FROM outbox",
	[ST_CAP_PUT] = "INSERT INTO capsule (code, events, event_id,"
		       " event_ns, start_ns, end_ns, frames, cut, ring_cut,"
		       " complete, data)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	/* a DTC no longer in event memory first, then the oldest */
	[ST_CAP_VICTIM] = "SELECT c.id, length(c.data) FROM capsule c"
			  " LEFT JOIN dtc d ON d.code = c.code"
			  " WHERE c.id != ?1"
			  " ORDER BY coalesce(d.stored, 0), c.id LIMIT 1",
	[ST_CAP_DELETE] = "DELETE FROM capsule WHERE id = ?1",
	[ST_CAP_GET] = "SELECT events, event_id, event_ns, start_ns, end_ns,"
		       " frames, cut, ring_cut, complete, data FROM capsule"
		       " WHERE code = ?1 ORDER BY id DESC LIMIT 1",
	[ST_CAP_STATS] = "SELECT count(*), coalesce(sum(length(data)), 0)"
			 " FROM capsule",
};

struct dtc_store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__MAX];
	/* the outbox's size, kept so a put needs no count(*) */
	uint64_t ob_events, ob_bytes;
	char err[256]; /* the error of the last failed step */
};

static int errno_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_READONLY:
		return -EACCES;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

/* keeps SQLite's message: a ROLLBACK after it would replace it */
static int failed(struct dtc_store *s, int rc)
{
	int e = sqlite3_system_errno(s->db);

	/* "disk I/O error" alone hides a full disk or a file size limit */
	if ((rc & 0xff) == SQLITE_IOERR && e)
		snprintf(s->err, sizeof(s->err), "%s: %s",
			 sqlite3_errmsg(s->db), strerror(e));
	else
		snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	return errno_of(rc);
}

/* runs a prepared statement that returns no rows, then resets it */
static int run(struct dtc_store *s, enum stmt which)
{
	sqlite3_stmt *st = s->st[which];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : failed(s, rc);
}

const char *dtc_store_errmsg(const struct dtc_store *s)
{
	if (!s || !s->db)
		return "no store";
	return s->err[0] ? s->err : sqlite3_errmsg(s->db);
}

void dtc_store_close(struct dtc_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST__MAX; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

static int pragma_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(buf, len, "%s",
			 (const char *)sqlite3_column_text(st, 0));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int ob_stats(struct dtc_store *s)
{
	sqlite3_stmt *st = s->st[ST_OB_STATS];
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		s->ob_events = (uint64_t)sqlite3_column_int64(st, 0);
		s->ob_bytes = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : failed(s, rc);
}

/* the tables of a new store, or what an older one lacks, in one
 * transaction: power may go while the schema is written */
static int migrate(struct dtc_store *s, int version)
{
	int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc == SQLITE_OK && version < 1)
		rc = sqlite3_exec(s->db, schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK && version < 2)
		rc = sqlite3_exec(s->db, schema_v2, NULL, NULL, NULL);
	if (rc == SQLITE_OK && version < 3)
		rc = sqlite3_exec(s->db, schema_v3, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "PRAGMA user_version=3; COMMIT", NULL,
				  NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	rc = failed(s, rc);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int setup(struct dtc_store *s, const char *path, int version,
		 char *errbuf, size_t errlen)
{
	char mode[16] = "";
	int rc, r = 0;

	/* in memory (no --state) the journal stays in memory too */
	rc = pragma_text(
		s->db, path ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode",
		mode, sizeof(mode));
	if (rc == SQLITE_OK && path && strcmp(mode, "wal") != 0) {
		snprintf(errbuf, errlen, "%s: cannot use WAL (got %s)", path,
			 mode);
		return -EIO;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db,
				  "PRAGMA synchronous=FULL;"
				  "PRAGMA foreign_keys=ON;"
				  "PRAGMA journal_size_limit=1048576;",
				  NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		r = failed(s, rc);
	/* a current store needs no write to open: a lock held by another
	 * process only delays the first commit */
	if (r == 0 && version < STORE_SCHEMA_VERSION)
		r = migrate(s, version);
	for (int i = 0; r == 0 && i < ST__MAX; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &s->st[i],
					NULL);
		if (rc != SQLITE_OK)
			r = failed(s, rc);
	}
	if (r == 0)
		r = ob_stats(s);
	if (r < 0)
		snprintf(errbuf, errlen, "%s: %s%s",
			 path ? path : ":memory:", s->err,
			 r == -EBUSY ? " (another process holds it)" : "");
	return r;
}

int dtc_store_open(struct dtc_store **ret, const char *state_dir, char *errbuf,
		   size_t errlen)
{
	struct dtc_store *s;
	char path[4096] = ":memory:";
	char ver[16] = "";
	int rc, r;

	if (state_dir &&
	    (size_t)snprintf(path, sizeof(path), "%s/" DTC_STORE_FILE,
			     state_dir) >= sizeof(path)) {
		snprintf(errbuf, errlen, "%s: path too long", state_dir);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		dtc_store_close(s);
		return errno_of(rc);
	}
	/*
	 * Opening may wait for another process (a migration needs the write
	 * lock); afterwards a busy store fails at once and the daemon retries
	 * from its loop: a wait here would stall the bus.
	 */
	sqlite3_busy_timeout(s->db, 2000);
	rc = pragma_text(s->db, "PRAGMA user_version", ver, sizeof(ver));
	if (rc != SQLITE_OK || atoi(ver) > STORE_SCHEMA_VERSION) {
		snprintf(errbuf, errlen,
			 rc != SQLITE_OK ? "%s: %s" :
					   "%s: schema version %s is newer "
					   "than this dtcd",
			 path, rc != SQLITE_OK ? sqlite3_errmsg(s->db) : ver);
		dtc_store_close(s);
		return rc != SQLITE_OK ? errno_of(rc) : -EPROTO;
	}
	r = setup(s, state_dir ? path : NULL, atoi(ver), errbuf, errlen);
	if (r < 0) {
		dtc_store_close(s);
		return r;
	}
	sqlite3_busy_timeout(s->db, 0);
	*ret = s;
	return 0;
}

int dtc_store_begin(struct dtc_store *s)
{
	s->err[0] = '\0';
	return run(s, ST_BEGIN);
}

int dtc_store_commit(struct dtc_store *s)
{
	return run(s, ST_COMMIT);
}

void dtc_store_rollback(struct dtc_store *s)
{
	char keep[sizeof(s->err)];

	if (!sqlite3_get_autocommit(s->db)) {
		memcpy(keep, s->err, sizeof(keep));
		run(s, ST_ROLLBACK);
		memcpy(s->err, keep, sizeof(keep));
	}
	/* the outbox is as it was before the transaction */
	ob_stats(s);
}

static const char *severity_text(enum dtc_severity sev)
{
	return sev == DTC_SEVERITY_DEFAULT ? "default" : dtc_severity_name(sev);
}

static int put_freeze_frame(struct dtc_store *s, const char *code,
			    const struct dtc_freeze_frame *ff)
{
	sqlite3_stmt *st = s->st[ST_FF_INSERT];
	int r;

	sqlite3_bind_text(s->st[ST_FF_DELETE], 1, code, -1, SQLITE_STATIC);
	r = run(s, ST_FF_DELETE);
	if (r < 0 || !ff)
		return r;
	for (int i = 0; i < SIG__MAX && r == 0; i++) {
		if (i == SIG_VIN) {
			if (!ff->vin[0])
				continue;
			sqlite3_bind_null(st, 3);
			sqlite3_bind_text(st, 4, ff->vin, -1, SQLITE_STATIC);
		} else if (ff->present[i]) {
			sqlite3_bind_double(st, 3, ff->value[i]);
		} else {
			continue;
		}
		sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, signal_name(i), -1, SQLITE_STATIC);
		r = run(s, ST_FF_INSERT);
	}
	return r;
}

int dtc_store_put_dtc(struct dtc_store *s, const struct dtc_store_dtc *d)
{
	sqlite3_stmt *st = s->st[ST_PUT_DTC];
	int r;

	sqlite3_bind_text(st, 1, d->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->detector, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, severity_text(d->severity), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, d->status);
	sqlite3_bind_int(st, 5, d->stored);
	sqlite3_bind_int64(st, 6, d->occurrences);
	sqlite3_bind_int64(st, 7, d->failed_cycles);
	sqlite3_bind_int64(st, 8, d->aging_cycles);
	sqlite3_bind_int64(st, 9, d->passed_cycles);
	sqlite3_bind_int64(st, 10, d->first_failure_ns);
	sqlite3_bind_int64(st, 11, d->last_failure_ns);
	r = run(s, ST_PUT_DTC);
	if (r < 0 || !d->freeze_frame_changed)
		return r;
	return put_freeze_frame(s, d->code, d->freeze_frame);
}

int dtc_store_put_event(struct dtc_store *s, const struct dtc_event *ev)
{
	sqlite3_stmt *st = s->st[ST_PUT_EVENT];
	int64_t id;
	int r;

	sqlite3_bind_int64(st, 1, ev->ts_ns);
	sqlite3_bind_text(st, 2, dtc_event_type_name(ev->type), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->detector ? ev->detector : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 5, severity_text(ev->severity), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int(st, 6, ev->status);
	sqlite3_bind_int64(st, 7, ev->occurrences);
	if (ev->type == DTC_EVENT_ECU) {
		sqlite3_bind_int64(st, 8, ev->ecu_id);
		if (ev->ecu_kind)
			sqlite3_bind_text(st, 9, ev->ecu_kind, -1,
					  SQLITE_STATIC);
		if (ev->mil_on >= 0)
			sqlite3_bind_int(st, 10, ev->mil_on);
		if (ev->dtc_count >= 0)
			sqlite3_bind_int(st, 11, ev->dtc_count);
	}
	if (ev->event_id)
		sqlite3_bind_int64(st, 12, (int64_t)ev->event_id);
	r = run(s, ST_PUT_EVENT);
	if (r < 0)
		return r;
	id = sqlite3_last_insert_rowid(s->db);
	if (id > STORE_EVENT_CAP && id % 1000 == 0) {
		sqlite3_bind_int64(s->st[ST_TRIM_EVENTS], 1,
				   id - STORE_EVENT_CAP);
		r = run(s, ST_TRIM_EVENTS);
	}
	return r;
}

int dtc_store_put_counter(struct dtc_store *s, const char *name, int64_t value)
{
	sqlite3_bind_text(s->st[ST_PUT_COUNTER], 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->st[ST_PUT_COUNTER], 2, value);
	return run(s, ST_PUT_COUNTER);
}

int dtc_store_get_counter(struct dtc_store *s, const char *name,
			  int64_t *ret_value)
{
	sqlite3_stmt *st = s->st[ST_GET_COUNTER];
	int rc;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_value = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : errno_of(rc);
}

static int load_freeze_frame(struct dtc_store *s, const char *code,
			     struct dtc_freeze_frame *ff, bool *ret_any)
{
	sqlite3_stmt *st = s->st[ST_LOAD_FF];
	int rc;

	memset(ff, 0, sizeof(*ff));
	*ret_any = false;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		enum signal_id id = signal_from_name(name ? name : "");

		/* a signal this build no longer knows is skipped */
		if (id == SIG_INVALID)
			continue;
		*ret_any = true;
		if (id == SIG_VIN) {
			const char *t =
				(const char *)sqlite3_column_text(st, 2);

			snprintf(ff->vin, sizeof(ff->vin), "%s", t ? t : "");
		} else if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			ff->present[id] = true;
			ff->value[id] = sqlite3_column_double(st, 1);
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : errno_of(rc);
}

int dtc_store_load(struct dtc_store *s,
		   int (*cb)(void *ud, const struct dtc_store_dtc *d), void *ud)
{
	sqlite3_stmt *st = s->st[ST_LOAD_DTC];
	struct dtc_freeze_frame ff;
	int rc = SQLITE_DONE, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *sev = (const char *)sqlite3_column_text(st, 2);
		struct dtc_store_dtc d = {
			.code = (const char *)sqlite3_column_text(st, 0),
			.detector = (const char *)sqlite3_column_text(st, 1),
			.status = (uint8_t)sqlite3_column_int(st, 3),
			.stored = sqlite3_column_int(st, 4) != 0,
			.occurrences = sqlite3_column_int64(st, 5),
			.failed_cycles = sqlite3_column_int64(st, 6),
			.aging_cycles = sqlite3_column_int64(st, 7),
			.passed_cycles = sqlite3_column_int64(st, 8),
			.first_failure_ns = sqlite3_column_int64(st, 9),
			.last_failure_ns = sqlite3_column_int64(st, 10),
		};
		bool any;

		if (!d.code || !d.detector)
			continue;
		if (!sev || catalogue_parse_severity(sev, &d.severity) < 0)
			d.severity = DTC_SEVERITY_DEFAULT;
		r = load_freeze_frame(s, d.code, &ff, &any);
		if (r < 0)
			break;
		d.freeze_frame = any ? &ff : NULL;
		r = cb(ud, &d);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = errno_of(rc);
	sqlite3_reset(st);
	return r;
}

/* ---- the outbox ---- */

int dtc_store_outbox_put(struct dtc_store *s, uint64_t event_id,
			 enum dtc_severity sev, const char *payload,
			 const struct dtc_store_limits *lim,
			 unsigned *ret_dropped)
{
	sqlite3_stmt *st = s->st[ST_OB_PUT];
	size_t len = strlen(payload);
	int rc, r;

	*ret_dropped = 0;
	sqlite3_bind_int64(st, 1, (int64_t)event_id);
	sqlite3_bind_int(st, 2, dtc_severity_drop_rank(sev));
	sqlite3_bind_text(st, 3, payload, (int)len, SQLITE_STATIC);
	r = run(s, ST_OB_PUT);
	if (r < 0)
		return r;
	s->ob_events++;
	s->ob_bytes += len;
	while (lim && ((lim->max_events && s->ob_events > lim->max_events) ||
		       (lim->max_bytes && s->ob_bytes > lim->max_bytes))) {
		sqlite3_stmt *v = s->st[ST_OB_VICTIM];
		int64_t victim, vlen;

		rc = sqlite3_step(v);
		victim = sqlite3_column_int64(v, 0);
		vlen = sqlite3_column_int64(v, 1);
		sqlite3_reset(v);
		if (rc == SQLITE_DONE)
			break; /* only critical events left: they all stay */
		if (rc != SQLITE_ROW)
			return failed(s, rc);
		sqlite3_bind_int64(s->st[ST_OB_DELETE], 1, victim);
		r = run(s, ST_OB_DELETE);
		if (r < 0)
			return r;
		s->ob_events--;
		s->ob_bytes -= (uint64_t)vlen;
		(*ret_dropped)++;
	}
	return 0;
}

int dtc_store_outbox_next(struct dtc_store *s, uint64_t after_id,
			  uint64_t *ret_id, char **ret_payload)
{
	sqlite3_stmt *st = s->st[ST_OB_NEXT];
	int rc;

	sqlite3_bind_int64(st, 1, (int64_t)after_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_id = (uint64_t)sqlite3_column_int64(st, 0);
		*ret_payload = strdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return failed(s, rc);
	return *ret_payload ? 1 : -ENOMEM;
}

int dtc_store_outbox_ack(struct dtc_store *s, uint64_t event_id)
{
	int r;

	sqlite3_bind_int64(s->st[ST_OB_DELETE], 1, (int64_t)event_id);
	r = run(s, ST_OB_DELETE);
	if (r == 0 && sqlite3_changes(s->db) > 0)
		r = ob_stats(s);
	return r;
}

uint64_t dtc_store_outbox_depth(const struct dtc_store *s)
{
	return s ? s->ob_events : 0;
}

/* ---- evidence capsules ---- */

int dtc_store_capsule_stats(struct dtc_store *s, uint64_t *ret_n,
			    uint64_t *ret_bytes)
{
	sqlite3_stmt *st = s->st[ST_CAP_STATS];
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*ret_n = (uint64_t)sqlite3_column_int64(st, 0);
		*ret_bytes = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : failed(s, rc);
}

/* the oldest capsules out until the rest fits max_bytes */
static int capsule_trim(struct dtc_store *s, int64_t keep, uint64_t max_bytes,
			unsigned *ret_dropped)
{
	uint64_t n, bytes;
	int r = dtc_store_capsule_stats(s, &n, &bytes);

	while (r == 0 && bytes > max_bytes) {
		sqlite3_stmt *v = s->st[ST_CAP_VICTIM];
		int64_t victim, vlen;
		int rc;

		sqlite3_bind_int64(v, 1, keep);
		rc = sqlite3_step(v);
		victim = sqlite3_column_int64(v, 0);
		vlen = sqlite3_column_int64(v, 1);
		sqlite3_reset(v);
		sqlite3_clear_bindings(v);
		if (rc == SQLITE_DONE)
			break; /* only the new one is left */
		if (rc != SQLITE_ROW)
			return failed(s, rc);
		sqlite3_bind_int64(s->st[ST_CAP_DELETE], 1, victim);
		r = run(s, ST_CAP_DELETE);
		bytes -= (uint64_t)vlen;
		(*ret_dropped)++;
	}
	return r;
}

int dtc_store_capsule_put(struct dtc_store *s,
			  const struct dtc_store_capsule *c, uint64_t max_bytes,
			  unsigned *ret_dropped)
{
	sqlite3_stmt *st = s->st[ST_CAP_PUT];
	int r;

	*ret_dropped = 0;
	r = dtc_store_begin(s);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, c->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->events, -1, SQLITE_STATIC);
	if (c->event_id)
		sqlite3_bind_int64(st, 3, (int64_t)c->event_id);
	sqlite3_bind_int64(st, 4, c->event_ns);
	sqlite3_bind_int64(st, 5, c->start_ns);
	sqlite3_bind_int64(st, 6, c->end_ns);
	sqlite3_bind_int64(st, 7, (int64_t)c->frames);
	sqlite3_bind_int64(st, 8, (int64_t)c->cut);
	sqlite3_bind_int(st, 9, c->ring_cut);
	sqlite3_bind_int(st, 10, c->complete);
	sqlite3_bind_blob64(st, 11, c->len ? (const void *)c->data : "", c->len,
			    SQLITE_STATIC);
	r = run(s, ST_CAP_PUT);
	if (r == 0 && max_bytes)
		r = capsule_trim(s, sqlite3_last_insert_rowid(s->db), max_bytes,
				 ret_dropped);
	if (r == 0)
		r = dtc_store_commit(s);
	if (r < 0)
		dtc_store_rollback(s);
	return r;
}

int dtc_store_capsule_get(struct dtc_store *s, const char *code,
			  int (*cb)(void *ud,
				    const struct dtc_store_capsule *c),
			  void *ud)
{
	sqlite3_stmt *st = s->st[ST_CAP_GET];
	int rc, r = 0;

	sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct dtc_store_capsule c = {
			.code = code,
			.events = (const char *)sqlite3_column_text(st, 0),
			.event_id = (uint64_t)sqlite3_column_int64(st, 1),
			.event_ns = sqlite3_column_int64(st, 2),
			.start_ns = sqlite3_column_int64(st, 3),
			.end_ns = sqlite3_column_int64(st, 4),
			.frames = (unsigned long)sqlite3_column_int64(st, 5),
			.cut = (unsigned long)sqlite3_column_int64(st, 6),
			.ring_cut = sqlite3_column_int(st, 7) != 0,
			.complete = sqlite3_column_int(st, 8) != 0,
			.data = sqlite3_column_blob(st, 9),
			.len = (size_t)sqlite3_column_bytes(st, 9),
		};

		if (!c.events)
			c.events = "";
		r = cb(ud, &c);
	} else if (rc != SQLITE_DONE) {
		r = failed(s, rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}
