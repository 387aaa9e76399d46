/* candump.h: streaming reader for the log format of can-utils (candump -l) */
#pragma once

#include <stdio.h>

#include "frame.h"

struct candump_reader;

/*
 * Called for every line that is not a frame, a blank line or a DROPCOUNT
 * line: path as given ("-" for stdin), 1-based line number, what was
 * expected. can/ never prints: the caller decides where this goes.
 */
typedef void (*candump_error_fn)(void *userdata, const char *path,
				 unsigned long line, const char *what);

/* path "-" reads stdin. Returns 0 or -errno. */
int candump_reader_open(struct candump_reader **ret, const char *path,
			candump_error_fn on_error, void *userdata);
/*
 * Takes an already open stream (not closed by candump_reader_free). Reads
 * its descriptor directly (stdio only for streams without one, such as
 * fmemopen), so nothing may have been read from it through stdio before.
 */
int candump_reader_from_stream(struct candump_reader **ret, FILE *stream,
			       const char *name, candump_error_fn on_error,
			       void *userdata);
/* Takes NULL. */
void candump_reader_free(struct candump_reader *r);

/*
 * The next frame: 1 with *ret_frame filled, 0 at the end of input, -errno on
 * a read error. Malformed lines are reported and skipped; memory is constant
 * whatever the file size.
 */
int candump_reader_next(struct candump_reader *r, struct frame *ret_frame);

unsigned long candump_reader_line(const struct candump_reader *r);
unsigned long candump_reader_errors(const struct candump_reader *r);

/*
 * One line without its newline. Returns 0 (frame), -ENODATA (blank or
 * DROPCOUNT line: nothing to do) or -EINVAL with *ret_what saying what was
 * expected.
 */
int candump_parse_line(const char *line, size_t len, struct frame *ret_frame,
		       const char **ret_what);
