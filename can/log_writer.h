/* log_writer.h: frames to a log file: candump, Vector ASC or BLF */
#pragma once

#include <stdio.h>

#include "frame.h"

enum log_writer_format {
	LOG_WRITER_CANDUMP,
	LOG_WRITER_ASC,
	LOG_WRITER_BLF,
};

/* "candump" (or "log"), "asc", "blf": 0, or -EINVAL */
int log_writer_format_from_name(const char *name, enum log_writer_format *ret);
/* by the file name's extension (.asc, .blf, any other: candump) */
enum log_writer_format log_writer_format_of_path(const char *path);

struct log_writer;

/* out stays the caller's (not closed by log_writer_free) */
int log_writer_new(struct log_writer **ret, FILE *out,
		   enum log_writer_format format);
/*
 * Frames in time order; 0 or -errno (the stream's error). ASC and BLF count
 * time from the first frame: an earlier frame is -ERANGE, left out, and the
 * writer goes on. What they cannot hold (docs/desk.md): an error frame's
 * direction and FD flag (both), its class and data (ASC, whose ErrorFrame
 * line has neither); an interface's name but for its number; a frame
 * without a direction is written as received.
 */
int log_writer_put(struct log_writer *w, const struct frame *f);
/* writes what a format keeps to the end (BLF's last container and its
 * header), flushes; 0 or -errno */
int log_writer_finish(struct log_writer *w);
/* Takes NULL. */
void log_writer_free(struct log_writer *w);

/* one candump -l line for f, with its newline, into buf (at least
 * LOG_WRITER_LINE_MAX bytes): its length */
#define LOG_WRITER_LINE_MAX 200
size_t log_writer_candump_line(const struct frame *f, char *buf);
