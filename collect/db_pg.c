/* db_pg.c: the collector's database in PostgreSQL, through libpq */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

struct pg {
	PGconn *conn;
	char err[256];
};

static void set_err(struct pg *p, const char *msg)
{
	snprintf(p->err, sizeof(p->err), "%s", msg ? msg : "");
	p->err[strcspn(p->err, "\n")] = '\0';
}

static int pg_open(const char *target, void **ret_h, char *errbuf,
		   size_t errlen)
{
	struct pg *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->conn = PQconnectdb(target);
	if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
		set_err(p, p->conn ? PQerrorMessage(p->conn) : "out of memory");
		/* the URI may hold a password: say only the error */
		snprintf(errbuf, errlen, "postgresql: %s", p->err);
		PQfinish(p->conn);
		free(p);
		return -EIO;
	}
	/* notices ("relation exists") are not errors */
	PQclear(PQexec(p->conn, "SET client_min_messages = warning"));
	*ret_h = p;
	return 0;
}

static void pg_close(void *h)
{
	struct pg *p = h;

	PQfinish(p->conn);
	free(p);
}

static int pg_exec(void *h, const char *sql, int n, const char *const *params,
		   db_row_fn fn, void *ud)
{
	struct pg *p = h;
	const char *vals[32];
	PGresult *res;
	int r = 0, rows, ncols;
	ExecStatusType st;

	res = n < 0 ? PQexec(p->conn, sql) :
		      PQexecParams(p->conn, sql, n, NULL, params, NULL, NULL,
				   0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_err(p, res ? PQresultErrorMessage(res) :
				 PQerrorMessage(p->conn));
		PQclear(res);
		return -EIO;
	}
	rows = PQntuples(res);
	ncols = PQnfields(res);
	if (ncols > (int)(sizeof(vals) / sizeof(vals[0]))) {
		PQclear(res);
		return -E2BIG;
	}
	for (int i = 0; fn && i < rows && !r; i++) {
		for (int c = 0; c < ncols; c++)
			vals[c] = PQgetisnull(res, i, c) ?
					  NULL :
					  PQgetvalue(res, i, c);
		r = fn(ud, ncols, vals);
	}
	PQclear(res);
	return r;
}

static const char *pg_errmsg(void *h)
{
	struct pg *p = h;

	return p->err;
}

static int pg_reset(void *h)
{
	struct pg *p = h;

	if (PQstatus(p->conn) == CONNECTION_OK)
		return 0;
	PQreset(p->conn);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		set_err(p, PQerrorMessage(p->conn));
		return -EIO;
	}
	return 0;
}

const struct db_ops db_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.errmsg = pg_errmsg,
	.reset = pg_reset,
	.begin_sql = "BEGIN",
	/* any number: the collectors' one migration lock */
	.lock_sql = "SELECT pg_advisory_xact_lock(7421)",
};
