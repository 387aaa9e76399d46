/* pipeline.h: frames -> signals -> cycles, detectors, DTC manager -> outputs */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "frame.h"
#include "output.h"
#include "profile.h"

#define PIPELINE_MAX_OUTPUTS 4

struct pipeline;

struct pipeline_options {
	const struct config *cfg;
	const struct profile *profile;
	bool signals_only; /* --signals: decode, write signal changes, no DTCs
			    */
	struct output outputs[PIPELINE_MAX_OUTPUTS];
	size_t n_outputs;
};

/* Takes the outputs over (freed with the pipeline). errbuf says why not. */
int pipeline_new(struct pipeline **ret, struct pipeline_options *opts,
		 char *errbuf, size_t errlen);
/* Takes NULL. */
void pipeline_free(struct pipeline *p);

void pipeline_feed(struct pipeline *p, const struct frame *f);
/*
 * Time passes without frames (live mode's timer), on the daemon's clock:
 * pipeline_frame_time() plus the time since. Frame times go through the
 * filter of timebase.h first.
 */
void pipeline_tick(struct pipeline *p, int64_t now_ns);
/* The end of the input: an operation cycle still running ends here. */
void pipeline_finish(struct pipeline *p);
/* Writes out what the outputs buffer (a pipe's reader waits for it). */
void pipeline_flush(struct pipeline *p);
/* A batch of DTC changes waits for the store (see store_retry.h). */
bool pipeline_store_failing(const struct pipeline *p);
size_t pipeline_store_waiting(const struct pipeline *p);
/* 0 when it is stored and announced now, -EAGAIN when it failed again */
int pipeline_store_retry(struct pipeline *p);
/* Clears DTCs (code NULL = all) as UDS 0x14 does. */
int pipeline_clear(struct pipeline *p, int64_t ts_ns, const char *code);

/* ---- what the control socket reads (outputs get struct output_env) ---- */
struct catalogue;
struct dtc_manager;
struct dtc_store;

/* NULL with --signals (no diagnosis) */
const struct dtc_manager *pipeline_manager(const struct pipeline *p);
const struct catalogue *pipeline_catalogue(const struct pipeline *p);
/* the last value of each canonical signal (slot ts_ns 0: never seen) */
const struct signal_table *pipeline_signals(const struct pipeline *p);
/* frame time of the latest frame or tick; 0 before the first frame */
int64_t pipeline_now(const struct pipeline *p);
/* the daemon's clock (timebase.h) at the latest frame; 0 before it */
int64_t pipeline_frame_time(const struct pipeline *p);
unsigned long pipeline_frames(const struct pipeline *p);
/* a detector enabled with all its signals bound (false: none, unknown) */
bool pipeline_detector_active(const struct pipeline *p, const char *name);
const char *pipeline_profile_name(const struct pipeline *p);
const struct profile *pipeline_profile(const struct pipeline *p);
struct decoder;
/* what the pipeline decodes (for the kernel's receive filter) */
const struct decoder *pipeline_decoder(const struct pipeline *p);
/*
 * SIGHUP: the pipeline's config and profile (the same objects, whose
 * contents the caller replaced) are applied anew: decoder and detectors
 * are made again from them; the DTC manager, the store, the catalogue,
 * the outputs and the operation cycle stay. On an error (errbuf: FILE:LINE
 * why) nothing changed: the caller puts the old contents back.
 */
int pipeline_reload(struct pipeline *p, char *errbuf, size_t errlen);
/* inside an operation cycle (spec 2) */
bool pipeline_engine_running(const struct pipeline *p);
/* the DTC store (evidence capsules); NULL without one */
struct dtc_store *pipeline_store(const struct pipeline *p);
/* the evidence of code is still being recorded (its after window) */
bool pipeline_capsule_recording(const struct pipeline *p, const char *code);
