/* control.c: the control socket: list, signals, clear, status as JSON lines */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "poll_live.h"
#include "log.h"
#include "manager.h"

#define CONTROL_MAX_CLIENTS 8
#define CONTROL_LINE_MAX 256
/* a client that does not read its answer stalls the loop this long at most */
#define CONTROL_SEND_TIMEOUT_S 1

struct control_client {
	struct control *c;
	int fd;
	ev_io io;
	char buf[CONTROL_LINE_MAX];
	size_t len;
};

struct control {
	struct ev_loop *loop;
	struct control_options o;
	char *path;
	char *mode;
	char *source;
	int fd;
	ev_io io;
	struct timespec started;
	struct control_client *clients[CONTROL_MAX_CLIENTS];
};

static int64_t wall_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- answers ---- */

__attribute__((format(printf, 1, 2))) static struct json_object *
error_answer(const char *fmt, ...)
{
	va_list ap;
	struct json_object *o = json_object_new_object();
	char buf[256];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(buf));
	return o;
}

static struct json_object *answer_list(struct control *c, bool all)
{
	struct json_object *o = json_object_new_object();
	const struct pipeline *p = c->o.p;

	json_object_object_add(o, "ts", output_json_ts(pipeline_now(p)));
	json_object_object_add(o, "dtcs",
			       output_json_dtc_list(pipeline_manager(p),
						    pipeline_catalogue(p),
						    all));
	return o;
}

static struct json_object *answer_signals(struct control *c)
{
	const struct signal_table *t = pipeline_signals(c->o.p);
	int64_t now = pipeline_now(c->o.p);
	struct json_object *o = json_object_new_object();
	struct json_object *list = json_object_new_array();
	char src[16];

	json_object_object_add(o, "ts", output_json_ts(now));
	for (int i = 0; i < SIG__MAX; i++) {
		const struct signal_slot *s = &t->slot[i];
		struct json_object *e;

		if (!s->ts_ns)
			continue; /* never seen */
		e = json_object_new_object();
		json_object_object_add(e, "signal",
				       json_object_new_string(signal_name(i)));
		if (!s->valid)
			json_object_object_add(e, "value", NULL);
		else if (signal_info(i)->is_text)
			json_object_object_add(e, "value",
					       json_object_new_string(s->text));
		else
			json_object_object_add(e, "value",
					       output_json_number(s->value));
		if (signal_info(i)->unit && *signal_info(i)->unit)
			json_object_object_add(
				e, "unit",
				json_object_new_string(signal_info(i)->unit));
		snprintf(src, sizeof(src), "%03X", s->src);
		json_object_object_add(e, "src", json_object_new_string(src));
		json_object_object_add(e, "ts", output_json_ts(s->ts_ns));
		/* in frame time: how long before the latest frame it came */
		json_object_object_add(
			e, "age", output_json_number((now - s->ts_ns) / 1e9));
		json_object_array_add(list, e);
	}
	json_object_object_add(o, "signals", list);
	return o;
}

static struct json_object *answer_clear(struct control *c, const char *code)
{
	int64_t ts = pipeline_now(c->o.p);
	struct json_object *o;
	int r;

	/* cleared before the first frame: the wall clock stands in */
	r = pipeline_clear(c->o.p, ts ? ts : wall_clock_ns(), code);
	/* the "cleared" events go out now, not with the next frames */
	pipeline_flush(c->o.p);
	if (r == -ENOENT)
		return error_answer("unknown DTC '%s'", code);
	if (r == -EINVAL)
		return error_answer("'%s': expected a DTC code such as P0301",
				    code);
	if (r < 0)
		return error_answer("clear: %s", strerror(-r));
	o = json_object_new_object();
	json_object_object_add(o, "cleared",
			       json_object_new_string(code ? code : "all"));
	return o;
}

static struct json_object *answer_status(struct control *c)
{
	const struct dtc_manager *m = pipeline_manager(c->o.p);
	struct json_object *o = json_object_new_object();
	struct timespec now;
	size_t n = m ? dtc_manager_n_dtcs(m) : 0, current = 0;
	double up;

	for (size_t i = 0; i < n; i++) {
		struct dtc_info d;

		if (dtc_manager_dtc(m, i, &d) == 0 &&
		    output_json_dtc_current(&d))
			current++;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	up = (double)(now.tv_sec - c->started.tv_sec) +
	     (now.tv_nsec - c->started.tv_nsec) / 1e9;
	json_object_object_add(o, "mode", json_object_new_string(c->mode));
	json_object_object_add(
		o, "profile",
		json_object_new_string(pipeline_profile_name(c->o.p)));
	json_object_object_add(o, "interface",
			       json_object_new_string(c->o.cfg->interface));
	json_object_object_add(o, "source", json_object_new_string(c->source));
	json_object_object_add(
		o, "frames",
		json_object_new_int64((int64_t)pipeline_frames(c->o.p)));
	json_object_object_add(o, "frame_time",
			       output_json_ts(pipeline_now(c->o.p)));
	json_object_object_add(o, "uptime", output_json_number(up));
	json_object_object_add(o, "dtcs", json_object_new_int((int)current));
	json_object_object_add(o, "poll", poll_live_status());
	if (c->o.mqtt)
		json_object_object_add(
			o, "mqtt",
			json_object_new_string(
				output_mqtt_connected(c->o.mqtt) ?
					"connected" :
					"disconnected"));
	return o;
}

static struct json_object *answer(struct control *c, char *line)
{
	char *save = NULL;
	char *cmd = strtok_r(line, " \t\r", &save);
	char *arg = strtok_r(NULL, " \t\r", &save);

	if (!cmd)
		return error_answer("expected list, signals, clear [CODE] or "
				    "status");
	if (strtok_r(NULL, " \t\r", &save))
		return error_answer("%s: too many arguments", cmd);
	if (!strcmp(cmd, "list") && (!arg || !strcmp(arg, "all")))
		return answer_list(c, arg != NULL);
	if (!strcmp(cmd, "signals") && !arg)
		return answer_signals(c);
	if (!strcmp(cmd, "clear"))
		return answer_clear(c, arg);
	if (!strcmp(cmd, "status") && !arg)
		return answer_status(c);
	return error_answer("'%s': expected list [all], signals, clear [CODE] "
			    "or status",
			    cmd);
}

/* ---- clients ---- */

static void client_free(struct control_client *cl)
{
	struct control *c = cl->c;

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i] == cl)
			c->clients[i] = NULL;
	ev_io_stop(c->loop, &cl->io);
	close(cl->fd);
	free(cl);
}

static int client_send(struct control_client *cl, struct json_object *o)
{
	const char *s = output_json_string(o);
	size_t len = strlen(s), off = 0;
	ssize_t n;

	while (off <= len) {
		/* the newline ends the answer */
		if (off == len)
			n = send(cl->fd, "\n", 1, MSG_NOSIGNAL);
		else
			n = send(cl->fd, s + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

static void on_client(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_client *cl = w->data;
	ssize_t n;
	char *nl;

	n = read(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - 1 - cl->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		client_free(cl);
		return;
	}
	cl->len += (size_t)n;
	cl->buf[cl->len] = '\0';
	while ((nl = memchr(cl->buf, '\n', cl->len))) {
		struct json_object *o;
		size_t used = (size_t)(nl - cl->buf) + 1;
		int r;

		*nl = '\0';
		o = answer(cl->c, cl->buf);
		r = client_send(cl, o);
		json_object_put(o);
		if (r < 0) {
			client_free(cl);
			return;
		}
		memmove(cl->buf, cl->buf + used, cl->len - used);
		cl->len -= used;
	}
	if (cl->len == sizeof(cl->buf) - 1) {
		struct json_object *o = error_answer(
			"request longer than %zu bytes", sizeof(cl->buf) - 1);

		client_send(cl, o);
		json_object_put(o);
		client_free(cl);
	}
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *c = w->data;
	struct timeval tv = { .tv_sec = CONTROL_SEND_TIMEOUT_S };
	struct control_client *cl;
	size_t slot;
	int fd;

	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN)
			log_warn("%s: accept", c->path);
		return;
	}
	for (slot = 0; slot < CONTROL_MAX_CLIENTS && c->clients[slot]; slot++)
		;
	cl = slot < CONTROL_MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
	if (!cl) {
		log_warnx("%s: more than %d clients: one refused", c->path,
			  CONTROL_MAX_CLIENTS);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	cl->c = c;
	cl->fd = fd;
	ev_io_init(&cl->io, on_client, fd, EV_READ);
	cl->io.data = cl;
	ev_io_start(loop, &cl->io);
	c->clients[slot] = cl;
}

/* 0: nobody answers there (a stale file or none); -EADDRINUSE: a dtcd does */
static int check_stale(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		r = -EADDRINUSE;
	close(fd);
	return r;
}

int control_new(struct control **ret, struct ev_loop *loop,
		const struct control_options *opts, char *errbuf, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *c;
	mode_t old;
	int r;

	if (strlen(opts->path) >= sizeof(sa.sun_path)) {
		snprintf(errbuf, errlen,
			 "%s: control socket path longer than "
			 "%zu bytes",
			 opts->path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, opts->path);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->o = *opts;
	c->fd = -1;
	c->path = strdup(opts->path);
	c->mode = strdup(opts->mode ? opts->mode : "live");
	c->source = strdup(opts->source ? opts->source : "");
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	if (!c->path || !c->mode || !c->source) {
		r = -ENOMEM;
		goto fail;
	}
	r = check_stale(&sa);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: another dtcd answers there",
			 opts->path);
		free(c->path);
		c->path = NULL; /* not ours to remove */
		goto fail;
	}
	unlink(opts->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		r = -errno;
		goto fail_errno;
	}
	/* clear changes state: the owner and its group only */
	old = umask(0117);
	r = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(c->fd, CONTROL_MAX_CLIENTS) < 0) {
		r = -errno;
		goto fail_errno;
	}
	ev_io_init(&c->io, on_accept, c->fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	*ret = c;
	return 0;
fail_errno:
	snprintf(errbuf, errlen, "%s: %s", opts->path, strerror(-r));
	free(c->path);
	c->path = NULL; /* bind failed: nothing of ours to remove */
fail:
	control_free(c);
	return r;
}

void control_free(struct control *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i])
			client_free(c->clients[i]);
	if (c->fd >= 0) {
		ev_io_stop(c->loop, &c->io);
		close(c->fd);
	}
	if (c->path)
		unlink(c->path);
	free(c->path);
	free(c->mode);
	free(c->source);
	free(c);
}
