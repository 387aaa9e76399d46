/* http.c: the fleet dashboard's pages and /api/vehicles[/ID] */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "http.h"
#include "log.h"
#include "store.h"
#include "web_assets.h"
#include "wall.h"

#define HTTP_TIMEOUT_S 10
/* a request line and its headers; a body is refused */
#define HTTP_MEMORY_LIMIT (32 * 1024)
#define HTTP_REALM "dtc-collect"

struct http {
	struct db *db;
	const struct actions *actions;
	struct auth *auth; /* NULL: loopback, no login */
	unsigned max_events;
};

struct listen_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	bool loopback;
	char text[128];
};

static int parse_listen(const char *s, struct listen_addr *l, char *errbuf,
			size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[128];
	const char *colon = s ? strrchr(s, ':') : NULL;
	size_t n;

	if (!s || !colon || colon == s || !colon[1] ||
	    (size_t)(colon - s) >= sizeof(host))
		goto bad;
	n = (size_t)(colon - s);
	/* [::1]:8080 */
	if (s[0] == '[' && s[n - 1] == ']') {
		memcpy(host, s + 1, n - 2);
		host[n - 2] = '\0';
	} else {
		memcpy(host, s, n);
		host[n] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
		goto bad;
	memcpy(&l->sa, res->ai_addr, res->ai_addrlen);
	l->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (l->sa.ss_family == AF_INET)
		l->loopback = (ntohl(((struct sockaddr_in *)&l->sa)
					     ->sin_addr.s_addr) >>
			       24) == 127;
	else
		l->loopback = IN6_IS_ADDR_LOOPBACK(
			&((struct sockaddr_in6 *)&l->sa)->sin6_addr);
	snprintf(l->text, sizeof(l->text), "%s", s);
	return 0;
bad:
	snprintf(errbuf, errlen,
		 "http: listen: expected ADDR:PORT (127.0.0.1:8080, "
		 "[::1]:8080, 0.0.0.0:8080), got '%s'",
		 s ? s : "");
	return -EINVAL;
}

int http_check(const struct settings *s, char *errbuf, size_t errlen)
{
	struct listen_addr l;
	int r = parse_listen(s->http, &l, errbuf, errlen);

	if (r < 0)
		return r;
	if (!l.loopback && !s->users_file && !s->token_file) {
		snprintf(errbuf, errlen,
			 "http: listen %s is not a loopback address: set "
			 "users_file or token_file in [http], the dashboard "
			 "is not served without a login",
			 s->http);
		return -EINVAL;
	}
	return 0;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status,
				 const char *type, const char *body, bool copy)
{
	struct MHD_Response *res;
	enum MHD_Result ret;

	res = MHD_create_response_from_buffer(strlen(body), (void *)body,
					      copy ? MHD_RESPMEM_MUST_COPY :
						     MHD_RESPMEM_PERSISTENT);
	if (!res)
		return MHD_NO;
	MHD_add_response_header(res, "Content-Type", type);
	/* nothing from elsewhere, ever; no framing by other sites */
	MHD_add_response_header(res, "Content-Security-Policy",
				"default-src 'self'; frame-ancestors 'none'");
	MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(res, "Cache-Control", "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		ret = MHD_queue_basic_auth_fail_response(c, HTTP_REALM, res);
	else
		ret = MHD_queue_response(c, status, res);
	MHD_destroy_response(res);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status,
				 struct json_object *o)
{
	enum MHD_Result ret =
		send_text(c, status, "application/json; charset=utf-8",
			  json_object_to_json_string_ext(
				  o, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE),
			  true);

	json_object_put(o);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status,
				  const char *what)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(what));
	return send_json(c, status, o);
}

static bool allowed(struct http *h, struct MHD_Connection *c)
{
	const char *authz;
	char *pass = NULL, *user;
	bool ok;

	if (!h->auth)
		return true;
	authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_AUTHORIZATION);
	if (authz && !strncmp(authz, "Bearer ", 7))
		return auth_token(h->auth, authz + 7);
	user = MHD_basic_auth_get_username_password(c, &pass);
	ok = auth_basic(h->auth, user, pass);
	if (pass)
		explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

/* both languages of the workshop action beside what the car sent */
static void add_texts(struct http *h, struct json_object *v)
{
	struct json_object *dtcs = json_object_object_get(v, "dtcs");
	static const char *const langs[] = { "en", "de" };

	for (size_t i = 0; i < json_object_array_length(dtcs); i++) {
		struct json_object *d = json_object_array_get_idx(dtcs, i);
		const char *code = json_object_get_string(
			json_object_object_get(d, "code"));

		for (int l = 0; l < 2; l++) {
			const char *act =
				actions_action(h->actions, code, langs[l]);
			const char *title =
				actions_title(h->actions, code, langs[l]);
			char key[16];

			snprintf(key, sizeof(key), "action_%s", langs[l]);
			json_object_object_add(
				d, key,
				act ? json_object_new_string(act) : NULL);
			snprintf(key, sizeof(key), "title_%s", langs[l]);
			json_object_object_add(
				d, key,
				title ? json_object_new_string(title) : NULL);
		}
	}
}

static enum MHD_Result api(struct http *h, struct MHD_Connection *c,
			   const char *path)
{
	struct store_filter all = { 0 };
	struct json_object *o, *wrap;
	int r;

	if (!strcmp(path, "")) {
		r = store_vehicles(h->db, &all, false, &o);
		if (r < 0)
			return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  db_errmsg(h->db));
		wrap = json_object_new_object();
		json_object_object_add(wrap, "now",
				       json_object_new_int64(time(NULL)));
		json_object_object_add(wrap, "vehicles", o);
		return send_json(c, MHD_HTTP_OK, wrap);
	}
	if (path[0] != '/' || !path[1] || strchr(path + 1, '/'))
		return send_error(c, MHD_HTTP_NOT_FOUND, "no such resource");
	r = store_vehicle(h->db, path + 1, h->max_events, &o);
	if (r == -ENOENT)
		return send_error(c, MHD_HTTP_NOT_FOUND, "no such vehicle");
	if (r < 0)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  db_errmsg(h->db));
	add_texts(h, o);
	json_object_object_add(o, "now", json_object_new_int64(time(NULL)));
	return send_json(c, MHD_HTTP_OK, o);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	static int first_call;
	struct http *h = cls;
	const char *len;

	if (!*state) {
		*state = &first_call;
		/* refused before anything of a body is read */
		len = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "only GET");
		if (len && strcmp(len, "0"))
			return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
					  "no request body");
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
				  "no request body");
	}
	log_debug("http: %s %s", method, url);
	if (!allowed(h, c))
		return send_text(c, MHD_HTTP_UNAUTHORIZED,
				 "text/plain; charset=utf-8",
				 "login required\n", false);
	if (!strcmp(url, "/") || !strncmp(url, "/vehicle/", 9))
		return send_text(c, MHD_HTTP_OK, "text/html; charset=utf-8",
				 web_index_html, false);
	if (!strcmp(url, "/app.js"))
		return send_text(c, MHD_HTTP_OK,
				 "text/javascript; charset=utf-8", web_app_js,
				 false);
	if (!strcmp(url, "/dom.js"))
		return send_text(c, MHD_HTTP_OK,
				 "text/javascript; charset=utf-8", web_dom_js,
				 false);
	if (!strcmp(url, "/app.css"))
		return send_text(c, MHD_HTTP_OK, "text/css; charset=utf-8",
				 web_app_css, false);
	if (!strncmp(url, "/api/vehicles", 13))
		return api(h, c, url + 13);
	return send_error(c, MHD_HTTP_NOT_FOUND, "no such page");
}

int http_serve(const struct settings *s, struct db *db, const struct actions *a,
	       volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	struct http h = { .db = db, .actions = a, .max_events = s->max_events };
	struct listen_addr l;
	struct MHD_Daemon *d;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int r;

	r = http_check(s, errbuf, errlen);
	if (r == 0)
		r = parse_listen(s->http, &l, errbuf, errlen);
	if (r == 0 && (s->users_file || s->token_file))
		r = auth_load(&h.auth, s->users_file, s->token_file, errbuf,
			      errlen);
	if (r < 0)
		return r;
	if (l.sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* one thread answers, one request at a time: the database handle
	 * is that thread's */
	d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, &h, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&l.sa, MHD_OPTION_CONNECTION_LIMIT,
		s->http_max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		s->http_max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)HTTP_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_END);
	if (!d) {
		snprintf(errbuf, errlen, "http: cannot listen on %s: %s",
			 l.text, strerror(errno));
		auth_free(h.auth);
		return -EADDRNOTAVAIL;
	}
	log_info("http: serving on %s%s", l.text,
		 h.auth ? ", login required" : " (loopback, no login)");
	while (!*stop)
		wall_sleep_s(0.2);
	MHD_stop_daemon(d);
	auth_free(h.auth);
	return 0;
}
