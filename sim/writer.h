/* writer.h: frames in time order to a candump -l log, with bus realism */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "log_writer.h"
#include "scenario.h"

#define WRITER_MAX_TRUTH 6

/* One frame waiting for its time; truth = what the model meant it to say */
struct writer_frame {
	int64_t ts_us; /* log time, microseconds since the epoch */
	uint32_t id;
	uint8_t len;
	uint8_t data[8];
	uint8_t n_truth;
	struct {
		int16_t sig; /* enum signal_id */
		double value;
	} truth[WRITER_MAX_TRUTH];
};

struct writer;

/*
 * out gets the log; truth (may be NULL) gets "ts,id,signal,value" lines for
 * each frame written. Bus realism (jitter, drops, malformed lines) comes from
 * the scenario and its own PRNG stream, so it never changes the model.
 */
int writer_new(struct writer **ret, FILE *out, FILE *truth,
	       const struct scenario *sc, uint64_t seed);
/* Takes NULL. Does not close the streams. */
void writer_free(struct writer *w);

/* Writes ASC or BLF through can/log_writer.h instead of candump lines
 * (which alone get the scenario's malformed lines). 0 or -errno. */
int writer_set_format(struct writer *w, enum log_writer_format format);
/* Stop after this many frames (0 = no limit). */
void writer_set_limit(struct writer *w, uint64_t max_frames);
/* Queues a frame; it may be dropped or jittered here. */
int writer_push(struct writer *w, const struct writer_frame *f);
/* Writes every queued frame older than before_us. 0 or -errno. */
int writer_flush(struct writer *w, int64_t before_us);
/* Writes all queued frames and flushes the streams. 0 or -errno. */
int writer_finish(struct writer *w);

/*
 * Live mode: frames go to sink (in time order, as flushed) instead of the
 * log; a sink error stops the writer.
 */
void writer_set_sink(struct writer *w,
		     int (*sink)(void *ud, const struct writer_frame *f),
		     void *ud);

uint64_t writer_frames(const struct writer *w);
bool writer_full(const struct writer *w);
