/* fuzz_control.c: the control socket's requests, as a client sends them */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control_request.h"
#include "dtcd-build.h"
#include "fuzz.h"
#include "output_json.h"
#include "pipeline.h"
#include "profile.h"

/*
 * Input: the bytes a client writes, read into a buffer of
 * CONTROL_LINE_MAX as control.c reads them and split into requests by
 * control_request_next; a buffer full without a newline ends the client,
 * as it does there. Each request is parsed by control_request_parse and
 * checked against a tokenizer of its own; list and clear then run on a
 * pipeline of the reference profile (clear with whatever CODE was sent).
 */
static struct config *cfg;
static struct profile *profile;
static struct pipeline *pipe_;

static void load_once(void)
{
	struct pipeline_options o = { 0 };
	char path[4096], err[512];

	if (pipe_)
		return;
	FUZZ_ASSERT(config_load(&cfg, NULL, err, sizeof(err)) == 0);
	FUZZ_ASSERT(config_set(&cfg->etc_dir, DTCD_SOURCE_ETC) == 0);
	snprintf(path, sizeof(path), "%s/profiles/bmw-reference.ini",
		 DTCD_SOURCE_ETC);
	if (profile_load(&profile, path, err, sizeof(err)) < 0 ||
	    (o.cfg = cfg, o.profile = profile,
	     pipeline_new(&pipe_, &o, err, sizeof(err)) < 0)) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
}

/* the words of a line, split on blanks, tabs and CRs: at most 3 kept */
static int words(const char *line, const char *w[3], size_t wl[3])
{
	int n = 0;

	for (const char *p = line; *p;) {
		size_t len;

		p += strspn(p, " \t\r");
		len = strcspn(p, " \t\r");
		if (!len)
			break;
		if (n < 3) {
			w[n] = p;
			wl[n] = len;
		}
		n++;
		p += len;
	}
	return n;
}

static bool word_is(const char *w, size_t len, const char *s)
{
	return len == strlen(s) && !memcmp(w, s, len);
}

static void check_request(char *line)
{
	const char *w[3] = { NULL };
	size_t wl[3] = { 0 };
	char copy[CONTROL_LINE_MAX], err[256];
	struct control_request q;
	int n, r;

	FUZZ_ASSERT(strlen(line) < sizeof(copy));
	strcpy(copy, line);
	n = words(copy, w, wl);
	r = control_request_parse(line, &q, err, sizeof(err));
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL);
		FUZZ_ASSERT(err[0] && strlen(err) < sizeof(err));
		/* what parses fine is never refused */
		FUZZ_ASSERT(!(n == 1 && (word_is(w[0], wl[0], "list") ||
					 word_is(w[0], wl[0], "signals") ||
					 word_is(w[0], wl[0], "status") ||
					 word_is(w[0], wl[0], "clear") ||
					 word_is(w[0], wl[0], "capture"))));
		return;
	}
	FUZZ_ASSERT(n == 1 || n == 2);
	switch (q.verb) {
	case CONTROL_LIST:
		FUZZ_ASSERT(n == 1 && word_is(w[0], wl[0], "list"));
		break;
	case CONTROL_LIST_ALL:
		FUZZ_ASSERT(n == 2 && word_is(w[0], wl[0], "list") &&
			    word_is(w[1], wl[1], "all"));
		break;
	case CONTROL_SIGNALS:
		FUZZ_ASSERT(n == 1 && word_is(w[0], wl[0], "signals"));
		break;
	case CONTROL_STATUS:
		FUZZ_ASSERT(n == 1 && word_is(w[0], wl[0], "status"));
		break;
	case CONTROL_CLEAR:
	case CONTROL_CAPTURE:
		FUZZ_ASSERT(
			word_is(w[0], wl[0],
				q.verb == CONTROL_CLEAR ? "clear" : "capture"));
		FUZZ_ASSERT(n == 1 ? !q.code :
				     q.code && word_is(w[1], wl[1], q.code));
		break;
	default:
		FUZZ_ASSERT(!"a verb of its own");
	}
	if (q.verb == CONTROL_CLEAR) {
		r = pipeline_clear(pipe_, 1700000000000000000LL, q.code);
		pipeline_flush(pipe_);
		FUZZ_ASSERT(r == 0 || r == -ENOENT || r == -EINVAL);
		FUZZ_ASSERT(r == 0 || q.code);
	}
	if (q.verb == CONTROL_LIST || q.verb == CONTROL_LIST_ALL) {
		struct json_object *o = output_json_dtc_list(
			pipeline_manager(pipe_), pipeline_catalogue(pipe_),
			q.verb == CONTROL_LIST_ALL);

		FUZZ_ASSERT(o && output_json_string(o)[0] == '[');
		json_object_put(o);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[CONTROL_LINE_MAX];
	size_t in_len = 0, off = 0;

	load_once();
	while (off < size) {
		/* one read(): as much as the buffer takes */
		size_t n = sizeof(in) - 1 - in_len, used = 0;
		char *line;

		if (n > size - off)
			n = size - off;
		memcpy(in + in_len, data + off, n);
		in_len += n;
		off += n;
		while ((line = control_request_next(in, in_len, &used))) {
			FUZZ_ASSERT(line >= in &&
				    line + strlen(line) < in + in_len);
			FUZZ_ASSERT(used <= in_len);
			check_request(line);
		}
		memmove(in, in + used, in_len - used);
		in_len -= used;
		/* control.c answers "request longer than" and closes */
		if (in_len == sizeof(in) - 1 && !memchr(in, '\n', in_len))
			break;
	}
	return 0;
}
