/* db_sqlite.c: the collector's database in one SQLite file */
#include <ctype.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
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

/*
 * $N (PostgreSQL's parameter N) in SQLite's terms. SQLite looks each $N or
 * ?N up among the parameters before it, when parsing and again when
 * generating code, so the thousands of store_events() took quadratic
 * time; a plain ? (the next number) is not looked up. So: ? where the $N
 * come as 1, 2, 3, ... each once (the batch's statements), else ?N. The
 * statements have no $ in their text otherwise.
 */
static char *numbered(const char *sql)
{
	char *q = malloc(strlen(sql) + 1), *o = q;
	bool in_order = true;
	long next = 1;

	if (!q)
		return NULL;
	for (const char *p = sql; (p = strchr(p, '$')); p++)
		if (isdigit((unsigned char)p[1]) &&
		    strtol(p + 1, NULL, 10) != next++)
			in_order = false;
	for (const char *p = sql; *p;) {
		if (*p != '$' || !isdigit((unsigned char)p[1])) {
			*o++ = *p++;
			continue;
		}
		*o++ = '?';
		p++;
		while (in_order && isdigit((unsigned char)*p))
			p++;
	}
	*o = '\0';
	return q;
}

static int sq_exec(void *h, const char *sql, int n, const char *const *params,
		   db_row_fn fn, void *ud)
{
	const char *vals[32];
	sqlite3_stmt *st = NULL;
	char *q;
	int rc, r = 0, ncols;

	if (n < 0)
		return sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK ?
			       0 :
			       -EIO;
	q = numbered(sql);
	if (!q)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(h, q, -1, &st, NULL);
	free(q);
	if (rc != SQLITE_OK)
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
