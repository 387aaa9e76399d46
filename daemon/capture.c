/* capture.c: evidence capsules out of the store, as candump logs */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "frame_ring.h"
#include "log.h"
#include "log_writer.h"
#include "store.h"

struct write_ctx {
	FILE *out;
	struct capture_info *info;
};

static int write_capsule(void *ud, const struct dtc_store_capsule *c)
{
	struct write_ctx *x = ud;
	struct log_writer *w;
	struct frame f;
	size_t off = 0;
	int n, r;

	snprintf(x->info->events, sizeof(x->info->events), "%s", c->events);
	x->info->event_ts = c->event_ns / 1e9;
	x->info->start_ts = c->start_ns / 1e9;
	x->info->end_ts = c->end_ns / 1e9;
	x->info->frames = c->frames;
	x->info->cut = c->cut;
	x->info->ring_cut = c->ring_cut;
	x->info->complete = c->complete;
	r = log_writer_new(&w, x->out, LOG_WRITER_CANDUMP);
	if (r < 0)
		return r;
	while (r == 0 && (n = frame_record_next(c->data, c->len, &off, &f)) > 0)
		r = log_writer_put(w, &f);
	if (r == 0 && n < 0)
		r = n;
	if (r == 0)
		r = log_writer_finish(w);
	log_writer_free(w);
	return r < 0 ? r : 1;
}

int capture_write(struct dtc_store *s, const char *code, FILE *out,
		  struct capture_info *ret_info)
{
	struct write_ctx x = { .out = out, .info = ret_info };
	int r;

	memset(ret_info, 0, sizeof(*ret_info));
	r = dtc_store_capsule_get(s, code, write_capsule, &x);
	if (r == 0)
		return -ENOENT;
	return r < 0 ? r : 0;
}

void capture_note(const char *code, const struct capture_info *info, char *buf,
		  size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (info->cut)
		n += (size_t)snprintf(buf + n, len - n,
				      "%s: capsule truncated: the %lu oldest "
				      "frames were beyond its bound "
				      "([capsule] max_kb) and left out; ",
				      code, info->cut);
	if (info->ring_cut && n < len)
		n += (size_t)snprintf(buf + n, len - n,
				      "%s: capsule truncated: the frames from "
				      "%.3f s were no longer in memory "
				      "([capsule] ring_kb); ",
				      code, info->start_ts);
	if (!info->complete && n < len)
		n += (size_t)snprintf(buf + n, len - n,
				      "%s: the input ended before %.3f s: the "
				      "after window is short; ",
				      code, info->end_ts);
	if (n >= 2 && n < len)
		buf[n - 2] = '\0';
}

int capture_run(const char *state_dir, const char *code)
{
	struct dtc_store *s;
	struct capture_info info;
	char err[512], note[768];
	int r;

	r = dtc_store_open(&s, state_dir, err, sizeof(err));
	if (r < 0) {
		log_warnx("%s", err);
		return r;
	}
	r = capture_write(s, code, stdout, &info);
	if (r == -ENOENT)
		log_warnx("%s: no evidence in %s/" DTC_STORE_FILE, code,
			  state_dir);
	else if (r < 0)
		log_warnx("%s: capsule: %s (%s)", code, strerror(-r),
			  dtc_store_errmsg(s));
	if (r == 0) {
		capture_note(code, &info, note, sizeof(note));
		if (note[0])
			log_warnx("%s", note);
	}
	dtc_store_close(s);
	return r;
}
