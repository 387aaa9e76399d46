/* db_sqlite.c: the collector's database in one SQLite file */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* a writer (the subscriber) and readers (report, serve) share the file:
 * WAL, and a wait rather than SQLITE_BUSY */
#define SQLITE_BUSY_MS 10000

static int sq_open(const char *target, void **ret_h, char *errbuf,
		   size_t errlen)
{
	sqlite3 *s = NULL;
	int rc;

	rc = sqlite3_open_v2(target, &s,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "sqlite: %s: %s", target,
			 s ? sqlite3_errmsg(s) : sqlite3_errstr(rc));
		sqlite3_close(s);
		return -EIO;
	}
	sqlite3_busy_timeout(s, SQLITE_BUSY_MS);
	/* synchronous = FULL: a commit is on the disk before the next
	 * message is read (docs/fleet.md says what that buys) */
	rc = sqlite3_exec(s,
			  "PRAGMA journal_mode = WAL;"
			  "PRAGMA synchronous = FULL;",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "sqlite: %s: %s", target,
			 sqlite3_errmsg(s));
		sqlite3_close(s);
		return -EIO;
	}
	*ret_h = s;
	return 0;
}

static void sq_close(void *h)
{
	sqlite3_close(h);
}

static int sq_exec(void *h, const char *sql, int n, const char *const *params,
		   db_row_fn fn, void *ud)
{
	const char *vals[32];
	sqlite3_stmt *st = NULL;
	int rc, r = 0, ncols;

	if (n < 0)
		return sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK ?
			       0 :
			       -EIO;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	for (int i = 0; i < n; i++) {
		rc = params[i] ? sqlite3_bind_text(st, i + 1, params[i], -1,
						   SQLITE_STATIC) :
				 sqlite3_bind_null(st, i + 1);
		if (rc != SQLITE_OK) {
			sqlite3_finalize(st);
			return -EIO;
		}
	}
	ncols = sqlite3_column_count(st);
	if (ncols > (int)(sizeof(vals) / sizeof(vals[0]))) {
		sqlite3_finalize(st);
		return -E2BIG;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!fn || r)
			continue;
		for (int i = 0; i < ncols; i++)
			vals[i] = (const char *)sqlite3_column_text(st, i);
		r = fn(ud, ncols, vals);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return r;
}

static const char *sq_errmsg(void *h)
{
	return sqlite3_errmsg(h);
}

static int sq_reset(void *h)
{
	/* a file has no connection to lose: the next try may succeed */
	return 0;
}

const struct db_ops db_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.errmsg = sq_errmsg,
	.reset = sq_reset,
	/* the write lock at once: no deadlock between two writers */
	.begin_sql = "BEGIN IMMEDIATE",
	.lock_sql = NULL,
};
