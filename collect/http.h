/* http.h: dtc-collect serve: the dashboard and its JSON API (libmicrohttpd) */
#pragma once

#include <signal.h>
#include <stddef.h>

#include "actions.h"
#include "db.h"
#include "settings.h"

/*
 * s->http (ADDR:PORT) can be listened on as configured: an address, and
 * a login (users_file or token_file) unless it is a loopback address.
 * 0, or -EINVAL with errbuf saying why.
 */
int http_check(const struct settings *s, char *errbuf, size_t errlen);
/* Serves until *stop. 0, or -errno with errbuf saying why it could not. */
int http_serve(const struct settings *s, struct db *db, const struct actions *a,
	       volatile sig_atomic_t *stop, char *errbuf, size_t errlen);
