/* candump_dump.c: prints what the log reader reads (candump, ASC, BLF), one
 * frame a line; with -o OUT writes it through the log writer instead */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log_reader.h"
#include "log_writer.h"
#include "macro.h"

/*
 * The canonical form the comparison tests parse:
 *   TS_NS IFACE ID FLAGS LEN LEN8_DLC DATA DIR
 * TS_NS in nanoseconds, ID hex, FLAGS as letters (E extended, R remote,
 * X error, F FD, B BRS, S ESI) or "-", DATA hex or "-", DIR R/T or "-".
 * Errors go to stderr as "FILE:LINE: expected WHAT".
 */
static void on_error(void *userdata, const char *path, unsigned long line,
		     const char *what)
{
	fprintf(stderr, "%s:%lu: expected %s\n", path, line, what);
}

static void print_frame(const struct frame *f)
{
	static const struct {
		unsigned int flag;
		char c;
	} letters[] = {
		{ FRAME_EFF, 'E' }, { FRAME_RTR, 'R' }, { FRAME_ERR, 'X' },
		{ FRAME_FD, 'F' },  { FRAME_BRS, 'B' }, { FRAME_ESI, 'S' },
	};
	char flags[8], data[2 * FRAME_MAX_DATA + 1];
	size_t n = 0, i;

	for (i = 0; i < ARRAY_SIZE(letters); i++)
		if (f->flags & letters[i].flag)
			flags[n++] = letters[i].c;
	if (!n)
		flags[n++] = '-';
	flags[n] = '\0';

	n = 0;
	if (!(f->flags & FRAME_RTR))
		for (i = 0; i < f->len; i++)
			n += (size_t)sprintf(data + n, "%02X", f->data[i]);
	if (!n)
		strcpy(data, "-");

	printf("%" PRId64 " %s %X %s %u %u %s %c\n", f->ts_ns, f->iface, f->id,
	       flags, f->len, f->len8_dlc, data, f->dir ? f->dir : '-');
}

/* OUT's format by its extension (.asc, .blf, else candump); 0 or 1 */
static int write_all(struct log_reader *r, const char *in, const char *out)
{
	enum log_writer_format fmt = log_writer_format_of_path(out);
	FILE *f = fopen(out, "wb");
	struct log_writer *w = NULL;
	struct frame fr;
	int ret;

	ret = f ? log_writer_new(&w, f, fmt) : -errno;
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", out, strerror(-ret));
		if (f)
			fclose(f);
		return 1;
	}
	while ((ret = log_reader_next(r, &fr)) > 0) {
		ret = log_writer_put(w, &fr);
		if (ret == -ERANGE)
			fprintf(stderr,
				"%s:%lu: expected a time from the first "
				"frame's on (%s counts from it): left out\n",
				in, log_reader_position(r), out);
		else if (ret < 0)
			break;
	}
	if (ret == 0)
		ret = log_writer_finish(w);
	log_writer_free(w);
	if (fclose(f) && ret == 0)
		ret = -EIO;
	if (ret < 0)
		fprintf(stderr, "%s: %s\n", out, strerror(-ret));
	return ret < 0;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	struct log_reader *r;
	struct frame f;
	int ret;

	if (argc == 4 && !strcmp(argv[1], "-o")) {
		out = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: candump_dump [-o OUT] FILE|-\n");
		return 2;
	}
	ret = log_reader_open(&r, argv[1], on_error, NULL);
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	if (out) {
		ret = write_all(r, argv[1], out);
		log_reader_free(r);
		return ret;
	}
	while ((ret = log_reader_next(r, &f)) > 0)
		print_frame(&f);
	if (ret < 0)
		fprintf(stderr, "%s: %s\n", argv[1], strerror(-ret));
	log_reader_free(r);
	return ret < 0 ? 1 : 0;
}
