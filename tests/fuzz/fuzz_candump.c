/* fuzz_candump.c: the candump reader against its own line parser */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candump.h"
#include "fuzz.h"

/*
 * The reader has a fast path for candump's own layout and the full parser
 * (candump_parse_line) for everything else. Split into lines here, the
 * input goes through the full parser line by line; the reader must give
 * the same frames, field for field, and report the same lines as bad.
 */
struct seen {
	unsigned long errors[64];
	size_t n_errors;
	unsigned long total_errors;
};

static void on_error(void *userdata, const char *path, unsigned long line,
		     const char *what)
{
	struct seen *s = userdata;

	FUZZ_ASSERT(what && *what);
	if (s->n_errors < 64)
		s->errors[s->n_errors++] = line;
	s->total_errors++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct candump_reader *r;
	struct seen seen = { 0 };
	struct frame got, want;
	const char *p = (const char *)data, *e = p + size, *what;
	unsigned long line = 0, want_errors = 0;
	FILE *stream;
	int ret;

	if (size == 0)
		return 0;
	stream = fmemopen((void *)data, size, "r");
	FUZZ_ASSERT(stream);
	ret = candump_reader_from_stream(&r, stream, "fuzz", on_error, &seen);
	FUZZ_ASSERT(ret == 0);

	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(e - p);

		line++;
		ret = candump_parse_line(p, len, &want, &what);
		p += len + (nl ? 1 : 0);
		if (ret == -ENODATA)
			continue;
		if (ret == -EINVAL) {
			FUZZ_ASSERT(what && *what);
			want_errors++;
			continue;
		}
		FUZZ_ASSERT(ret == 0);
		ret = candump_reader_next(r, &got);
		FUZZ_ASSERT(ret == 1);
		FUZZ_ASSERT(candump_reader_line(r) == line);
		FUZZ_ASSERT(memcmp(&got, &want, sizeof(got)) == 0);
		/* every bad line before this frame was reported before it */
		FUZZ_ASSERT(seen.total_errors == want_errors);
	}
	ret = candump_reader_next(r, &got);
	FUZZ_ASSERT(ret == 0);
	FUZZ_ASSERT(seen.total_errors == want_errors);
	FUZZ_ASSERT(candump_reader_errors(r) == want_errors);
	candump_reader_free(r);
	fclose(stream);
	return 0;
}
