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

#include "capture.h"
#include "control.h"
#include "control_request.h"
#include "poll_live.h"
#include "log.h"
#include "manager.h"
#include "output_json.h"
#include "output_mqtt.h"

/*
 * Bounds (docs/mqtt.md): a slot per client; when all are taken the one
 * quiet longest makes room, so clients that connect and say nothing never
 * lock the others out. The answers a client does not read wait in its own
 * buffer (the loop never blocks on a send); past CONTROL_OUT_MAX its
 * requests are no longer read, and a client that neither asks nor reads
 * for CONTROL_IDLE_S is closed.
 */
#define CONTROL_MAX_CLIENTS 64
#define CONTROL_OUT_MAX (256 * 1024)
#define CONTROL_IDLE_S 10.0
/* clients closed or pushed out are said once, then summed up this often */
#define CONTROL_LOG_EVERY_S 60.0

struct control_client {
	struct control *c;
	int fd;
	ev_io rio, wio;
	ev_tstamp active; /* last request or progress in sending */
	bool eof;	  /* nothing more to read: close once sent */
	char in[CONTROL_LINE_MAX];
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
};

struct control {
	struct ev_loop *loop;
	struct control_options o;
	char *path;
	char *mode;
	char *source;
	int fd;
	ev_io io;
	ev_timer idle;
	struct timespec started;
	struct control_client *clients[CONTROL_MAX_CLIENTS];
	/* what was not said yet, and when it was said last */
	unsigned long n_pushed, n_idle, n_refused;
	ev_tstamp logged;
	bool ever_logged;
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

/* the evidence of code's last event: the candump log in "log" */
static struct json_object *answer_capture(struct control *c, const char *code)
{
	struct dtc_store *s = pipeline_store(c->o.p);
	struct capture_info info;
	struct json_object *o;
	char *log = NULL, note[768];
	size_t len = 0;
	FILE *f;
	int r;

	if (!code)
		return error_answer("capture: expected a DTC code");
	if (!s || !c->o.cfg->state_dir)
		return error_answer("no evidence kept: dtcd runs without "
				    "--state");
	f = open_memstream(&log, &len);
	if (!f)
		return error_answer("capture: %s", strerror(errno));
	r = capture_write(s, code, f, &info);
	if (fclose(f) && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(log);
		if (r == -ENOENT && pipeline_capsule_recording(c->o.p, code))
			return error_answer("%s: the evidence is still being "
					    "recorded (until %g s after the "
					    "event)",
					    code,
					    c->o.cfg->capsule_after_ns / 1e9);
		if (r == -ENOENT)
			return error_answer("no evidence of %s in the store",
					    code);
		return error_answer("capture %s: %s (%s)", code, strerror(-r),
				    dtc_store_errmsg(s));
	}
	capture_note(code, &info, note, sizeof(note));
	o = json_object_new_object();
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "events",
			       json_object_new_string(info.events));
	json_object_object_add(o, "event_ts",
			       output_json_number(info.event_ts));
	json_object_object_add(o, "start_ts",
			       output_json_number(info.start_ts));
	json_object_object_add(o, "end_ts", output_json_number(info.end_ts));
	json_object_object_add(o, "frames",
			       json_object_new_int64((int64_t)info.frames));
	json_object_object_add(
		o, "truncated",
		json_object_new_boolean(info.cut || info.ring_cut));
	json_object_object_add(o, "complete",
			       json_object_new_boolean(info.complete));
	if (note[0])
		json_object_object_add(o, "note", json_object_new_string(note));
	json_object_object_add(o, "log",
			       json_object_new_string_len(log, (int)len));
	free(log);
	return o;
}

static struct json_object *answer(struct control *c, char *line)
{
	struct control_request q;
	char err[256];

	if (control_request_parse(line, &q, err, sizeof(err)) < 0)
		return error_answer("%s", err);
	switch (q.verb) {
	case CONTROL_LIST:
	case CONTROL_LIST_ALL:
		return answer_list(c, q.verb == CONTROL_LIST_ALL);
	case CONTROL_SIGNALS:
		return answer_signals(c);
	case CONTROL_CLEAR:
		return answer_clear(c, q.code);
	case CONTROL_CAPTURE:
		return answer_capture(c, q.code);
	case CONTROL_STATUS:
		break;
	}
	return answer_status(c);
}

/* ---- clients ---- */

/* at most one line per CONTROL_LOG_EVERY_S, the first at once */
static void note_closed(struct control *c, unsigned long *counter)
{
	ev_tstamp now = ev_now(c->loop);

	(*counter)++;
	if (c->ever_logged && now - c->logged < CONTROL_LOG_EVERY_S)
		return;
	log_warnx("%s: clients closed: %lu pushed out by newer ones (more "
		  "than %d at once), %lu idle for %.0f s, %lu refused; next "
		  "summary in %.0f s at the earliest",
		  c->path, c->n_pushed, CONTROL_MAX_CLIENTS, c->n_idle,
		  CONTROL_IDLE_S, c->n_refused, CONTROL_LOG_EVERY_S);
	c->n_pushed = c->n_idle = c->n_refused = 0;
	c->logged = now;
	c->ever_logged = true;
}

static void client_free(struct control_client *cl)
{
	struct control *c = cl->c;

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i] == cl)
			c->clients[i] = NULL;
	ev_io_stop(c->loop, &cl->rio);
	ev_io_stop(c->loop, &cl->wio);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

/* reads while the answers waiting stay under their bound */
static void client_watch(struct control_client *cl)
{
	struct ev_loop *loop = cl->c->loop;

	if (!cl->eof && cl->out_len - cl->out_off < CONTROL_OUT_MAX)
		ev_io_start(loop, &cl->rio);
	else
		ev_io_stop(loop, &cl->rio);
	if (cl->out_off < cl->out_len)
		ev_io_start(loop, &cl->wio);
	else
		ev_io_stop(loop, &cl->wio);
}

/* Sends what the socket takes now. Returns false when cl is gone. */
static bool client_flush(struct control_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off,
				 cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			client_free(cl); /* the client went away */
			return false;
		}
		cl->out_off += (size_t)n;
		cl->active = ev_now(cl->c->loop);
	}
	if (cl->out_off == cl->out_len) {
		cl->out_off = cl->out_len = 0;
		if (cl->eof) {
			client_free(cl);
			return false;
		}
	}
	client_watch(cl);
	return true;
}

/* queues one answer line; false when memory ran out (cl is then freed) */
static bool client_queue(struct control_client *cl, struct json_object *o)
{
	const char *s = output_json_string(o);
	size_t len = strlen(s);

	if (cl->out_off > 0 && cl->out_off == cl->out_len)
		cl->out_off = cl->out_len = 0;
	if (cl->out_len + len + 1 > cl->out_cap) {
		size_t cap = (cl->out_len + len + 1) * 2;
		char *p = realloc(cl->out, cap);

		if (!p) {
			client_free(cl);
			return false;
		}
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, s, len);
	cl->out[cl->out_len + len] = '\n'; /* the newline ends the answer */
	cl->out_len += len + 1;
	return true;
}

static bool client_answer(struct control_client *cl, struct json_object *o)
{
	bool ok = client_queue(cl, o);

	json_object_put(o);
	return ok;
}

/* answers the complete requests while the answers waiting stay bounded */
static void client_process(struct control_client *cl)
{
	size_t used = 0;
	char *line;

	while (cl->out_len - cl->out_off < CONTROL_OUT_MAX &&
	       (line = control_request_next(cl->in, cl->in_len, &used))) {
		cl->active = ev_now(cl->c->loop);
		if (!client_answer(cl, answer(cl->c, line)))
			return;
	}
	memmove(cl->in, cl->in + used, cl->in_len - used);
	cl->in_len -= used;
	if (cl->in_len == sizeof(cl->in) - 1 &&
	    !memchr(cl->in, '\n', cl->in_len)) {
		if (!client_answer(cl, error_answer("request longer than %zu "
						    "bytes",
						    sizeof(cl->in) - 1)))
			return;
		cl->eof = true;
	}
	client_flush(cl);
}

static void on_client_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_client *cl = w->data;
	ssize_t n;

	n = read(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - 1 - cl->in_len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	/* dtcctl shuts its side after the request: answer, then go */
	if (n <= 0)
		cl->eof = true;
	else
		cl->in_len += (size_t)n;
	client_process(cl);
}

static void on_client_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_client *cl = w->data;

	/* room again: the requests read but not answered yet */
	if (client_flush(cl) && memchr(cl->in, '\n', cl->in_len))
		client_process(cl);
}

static void on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *c = w->data;
	ev_tstamp now = ev_now(loop);

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *cl = c->clients[i];

		if (cl && now - cl->active >= CONTROL_IDLE_S) {
			client_free(cl);
			note_closed(c, &c->n_idle);
		}
	}
}

/* a free slot, made by closing the client quiet longest if need be */
static size_t client_slot(struct control *c)
{
	size_t slot, oldest = 0;

	for (slot = 0; slot < CONTROL_MAX_CLIENTS; slot++) {
		if (!c->clients[slot])
			return slot;
		if (c->clients[slot]->active < c->clients[oldest]->active)
			oldest = slot;
	}
	client_free(c->clients[oldest]);
	note_closed(c, &c->n_pushed);
	return oldest;
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *c = w->data;

	/* a burst of connections is taken in one go, but not forever */
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *cl;
		size_t slot;
		int fd;

		fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN &&
			    errno != ECONNABORTED)
				log_warn("%s: accept", c->path);
			return;
		}
		slot = client_slot(c);
		cl = calloc(1, sizeof(*cl));
		if (!cl) {
			note_closed(c, &c->n_refused);
			close(fd);
			continue;
		}
		cl->c = c;
		cl->fd = fd;
		cl->active = ev_now(loop);
		ev_io_init(&cl->rio, on_client_read, fd, EV_READ);
		ev_io_init(&cl->wio, on_client_write, fd, EV_WRITE);
		cl->rio.data = cl->wio.data = cl;
		ev_io_start(loop, &cl->rio);
		c->clients[slot] = cl;
	}
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
	/* whatever the umask: connecting needs write access, the group's */
	if (r < 0 || chmod(opts->path, 0660) < 0 ||
	    listen(c->fd, CONTROL_MAX_CLIENTS) < 0) {
		r = -errno;
		goto fail_errno;
	}
	ev_io_init(&c->io, on_accept, c->fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	ev_timer_init(&c->idle, on_idle, 1.0, 1.0);
	c->idle.data = c;
	ev_timer_start(loop, &c->idle);
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
		ev_timer_stop(c->loop, &c->idle);
		close(c->fd);
	}
	if (c->path)
		unlink(c->path);
	free(c->path);
	free(c->mode);
	free(c->source);
	free(c);
}
