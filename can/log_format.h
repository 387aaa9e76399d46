/* log_format.h: one ops table per log format (candump, Vector ASC and BLF) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "candump.h"
#include "frame.h"

/*
 * What every reader of a format keeps about its input and its errors; the
 * first member of the reader's state, so log_source_position() and
 * log_source_errors() serve as its ops.
 */
struct log_source {
	FILE *f;
	const char *path;
	candump_error_fn on_error;
	void *userdata;
	unsigned long position; /* the line (text) or object (binary) */
	unsigned long errors;
	int64_t origin_ns; /* the file's time base (its start date) */
};

void log_source_init(struct log_source *s, FILE *f, const char *path,
		     candump_error_fn on_error, void *userdata);
/* counts the error and tells on_error what was expected, at position */
void log_source_report(struct log_source *s, const char *what);
unsigned long log_source_position(const void *state);
unsigned long log_source_errors(const void *state);

/*
 * A format module reads frames from an open stream; log_reader.c picks the
 * module by the file's first bytes (sniff), never by its name, so a log
 * renamed or sent without an extension still reads.
 */
struct log_format_ops {
	const char *name;
	/* the first bytes of the file say it is this format */
	bool (*sniff)(const uint8_t *head, size_t len);
	/* f stays the caller's; errors go to on_error as "what was expected"
	 */
	int (*open)(void **ret_state, FILE *f, const char *path,
		    candump_error_fn on_error, void *userdata);
	/* 1 with a frame, 0 at the end, -errno on a read error */
	int (*next)(void *state, struct frame *ret_frame);
	/* the line (text) or object (binary) last read, for messages */
	unsigned long (*position)(const void *state);
	unsigned long (*errors)(const void *state);
	void (*free)(void *state);
};

/* the registry, most specific first; candump is the default */
extern const struct log_format_ops log_blf_ops;
extern const struct log_format_ops log_asc_ops;
extern const struct log_format_ops log_candump_ops;

/* "Mon Jun 10 06:13:20.123 am 2024" (local time) -> ns since 1970 */
int log_asc_parse_date(const char *s, int64_t *ret_ns);

/*
 * A format's writer (log_writer.c picks it by name): frames in time order
 * to a stream that stays the caller's. finish writes what the format keeps
 * for the end and flushes.
 */
struct log_writer_ops {
	const char *name;
	int (*open)(void **ret_state, FILE *f);
	int (*put)(void *state, const struct frame *f);
	int (*finish)(void *state);
	void (*free)(void *state);
};

extern const struct log_writer_ops log_asc_writer_ops;
extern const struct log_writer_ops log_blf_writer_ops;

/* the channel number Vector's formats give an interface: "can0" 1, "can1"
 * 2 (python-can's channel2int() + 1), 1 when it has no number */
unsigned log_format_channel(const char *iface);
/* the CAN FD DLC of a payload length (0..64): 9 for 12 bytes ... 15 */
uint8_t log_format_fd_dlc(unsigned len);
/* a classic frame's DLC: its raw 9..F (len8_dlc, candump's "_F") with 8
 * bytes, else its length (at most 8) */
uint8_t log_format_classic_dlc(const struct frame *f);
/* ns down to the millisecond the formats' start dates hold (also before
 * 1970): the writers count times from it, so every frame keeps its own */
int64_t log_format_start(int64_t ns);
