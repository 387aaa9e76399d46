/* db.h: the collector's database: one SQL dialect, SQLite or PostgreSQL */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * The statements are written once for both engines: parameters $1..$n
 * (?1..?n to SQLite: no other $ in a statement's text), upserts with
 * ON CONFLICT, RETURNING, types both know (TEXT, BIGINT, DOUBLE PRECISION,
 * INTEGER). Parameters and results are text, NULL for SQL NULL; the engine
 * converts by the column's type.
 */

/* one result row; 0 to go on, anything else stops and is returned */
typedef int (*db_row_fn)(void *ud, int ncols, const char *const *values);

struct db_ops {
	const char *name;
	/* what to connect to: a path, or a postgresql:// URI */
	int (*open)(const char *target, void **ret_h, char *errbuf,
		    size_t errlen);
	void (*close)(void *h);
	/* one statement with n parameters; n < 0: a script of several
	 * statements without parameters or rows */
	int (*exec)(void *h, const char *sql, int n, const char *const *params,
		    db_row_fn fn, void *ud);
	const char *(*errmsg)(void *h);
	/* after a failure: reconnect if the connection is gone; 0 or -errno */
	int (*reset)(void *h);
	/* begins a transaction that writes (SQLite takes its lock now) */
	const char *begin_sql;
	/* inside the migration's transaction: one collector migrates at a time
	 */
	const char *lock_sql;
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

struct db;

/*
 * Opens target (postgresql:// or postgres:// URIs: PostgreSQL; anything
 * else: an SQLite file) and brings its schema to the current version.
 * 0, or -errno with errbuf saying why.
 */
int db_open(struct db **ret, const char *target, char *errbuf, size_t errlen);
/* Takes NULL. */
void db_close(struct db *db);
int db_exec(struct db *db, const char *sql, int n, const char *const *params,
	    db_row_fn fn, void *ud);
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
int db_reset(struct db *db);
const char *db_errmsg(struct db *db);
const char *db_engine(const struct db *db);
/* the schema version this program writes, and the database's */
int db_schema_version(struct db *db);
#define DB_SCHEMA_VERSION 1
