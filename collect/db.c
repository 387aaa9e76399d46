/* db.c: picks the engine by the target, runs the migrations */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

struct db {
	const struct db_ops *ops;
	void *h;
};

/*
 * Migration N takes the schema from version N-1 to N; each runs in its own
 * transaction with schema_version, so a collector stopped half-way leaves
 * the previous version, and collectors starting together (one PostgreSQL)
 * wait for each other on lock_sql instead of creating the tables twice.
 */
static const char *const migrations[] = {
	/* 1: vehicles, their current DTC list, every event once */
	"CREATE TABLE vehicles ("
	" vehicle TEXT PRIMARY KEY,"
	" online INTEGER,"		    /* 1, 0; NULL: never said */
	" online_changed DOUBLE PRECISION," /* the collector's clock, s */
	" last_seen DOUBLE PRECISION,"	    /* any message, collector's clock */
	" status_ts DOUBLE PRECISION,"	    /* the car's time of the status */
	" dtcd_version TEXT,"
	" frames BIGINT,"
	" outbox BIGINT);"
	"CREATE TABLE dtcs ("
	" vehicle TEXT NOT NULL,"
	" code TEXT NOT NULL,"
	" detector TEXT,"
	" severity TEXT,"
	" status INTEGER,"
	" occurrences INTEGER,"
	" first_failure DOUBLE PRECISION,"
	" last_failure DOUBLE PRECISION,"
	" title TEXT,"
	" action TEXT,"
	" freeze_frame TEXT," /* JSON object */
	" PRIMARY KEY (vehicle, code));"
	"CREATE TABLE events ("
	" vehicle TEXT NOT NULL,"
	" event_id BIGINT NOT NULL,"
	" ts DOUBLE PRECISION,"
	" event TEXT NOT NULL,"
	" code TEXT,"
	" severity TEXT,"
	" status INTEGER,"
	" received DOUBLE PRECISION NOT NULL," /* collector's clock */
	" payload TEXT NOT NULL,"
	" UNIQUE (vehicle, event_id));"
	"CREATE INDEX events_vehicle_ts ON events (vehicle, ts);",
};

static int version_row(void *ud, int ncols, const char *const *v)
{
	*(int *)ud = v[0] ? atoi(v[0]) : 0;
	return 0;
}

int db_schema_version(struct db *db)
{
	int version = 0;

	if (db_exec(db, "SELECT MAX(version) FROM schema_version", 0, NULL,
		    version_row, &version) < 0)
		return -EIO;
	return version;
}

static int migrate(struct db *db, char *errbuf, size_t errlen)
{
	const int n = (int)(sizeof(migrations) / sizeof(migrations[0]));
	char v[16];
	const char *p[] = { v };
	int version, r;

	for (;;) {
		r = db_begin(db);
		if (r < 0)
			goto fail;
		if (db->ops->lock_sql && (r = db_exec(db, db->ops->lock_sql, 0,
						      NULL, NULL, NULL)) < 0)
			goto fail_tx;
		r = db_exec(db,
			    "CREATE TABLE IF NOT EXISTS schema_version ("
			    " version INTEGER PRIMARY KEY)",
			    0, NULL, NULL, NULL);
		if (r < 0)
			goto fail_tx;
		version = db_schema_version(db);
		if (version < 0) {
			r = version;
			goto fail_tx;
		}
		if (version > n) {
			db_rollback(db);
			snprintf(errbuf, errlen,
				 "%s: schema version %d is newer than this "
				 "dtc-collect's %d",
				 db->ops->name, version, n);
			return -EPROTO;
		}
		if (version == n) {
			db_rollback(db);
			return 0;
		}
		snprintf(v, sizeof(v), "%d", version + 1);
		r = db_exec(db, migrations[version], -1, NULL, NULL, NULL);
		if (r == 0)
			r = db_exec(db,
				    "INSERT INTO schema_version (version) "
				    "VALUES ($1)",
				    1, p, NULL, NULL);
		if (r == 0)
			r = db_commit(db);
		if (r < 0)
			goto fail_tx;
	}
fail_tx:
	snprintf(errbuf, errlen, "%s: migration: %s", db->ops->name,
		 db_errmsg(db));
	db_rollback(db);
	return r;
fail:
	snprintf(errbuf, errlen, "%s: %s", db->ops->name, db_errmsg(db));
	return r;
}

int db_open(struct db **ret, const char *target, char *errbuf, size_t errlen)
{
	struct db *db = calloc(1, sizeof(*db));
	int r;

	if (!db)
		return -ENOMEM;
	db->ops = !strncmp(target, "postgresql://", 13) ||
				  !strncmp(target, "postgres://", 11) ?
			  &db_pg_ops :
			  &db_sqlite_ops;
	r = db->ops->open(target, &db->h, errbuf, errlen);
	if (r == 0)
		r = migrate(db, errbuf, errlen);
	if (r < 0) {
		db_close(db);
		return r;
	}
	*ret = db;
	return 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->h)
		db->ops->close(db->h);
	free(db);
}

int db_exec(struct db *db, const char *sql, int n, const char *const *params,
	    db_row_fn fn, void *ud)
{
	return db->ops->exec(db->h, sql, n, params, fn, ud);
}

int db_begin(struct db *db)
{
	return db_exec(db, db->ops->begin_sql, 0, NULL, NULL, NULL);
}

int db_commit(struct db *db)
{
	return db_exec(db, "COMMIT", 0, NULL, NULL, NULL);
}

void db_rollback(struct db *db)
{
	db_exec(db, "ROLLBACK", 0, NULL, NULL, NULL);
}

int db_reset(struct db *db)
{
	return db->ops->reset(db->h);
}

const char *db_errmsg(struct db *db)
{
	return db->ops->errmsg(db->h);
}

const char *db_engine(const struct db *db)
{
	return db->ops->name;
}
