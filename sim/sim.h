/* sim.h: dtcd-sim, the reference-vehicle simulator: scenario in, candump log
 * out */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "scenario.h"

struct sim_options {
	uint64_t seed; /* the scenario's seed unless seed_set */
	bool seed_set;
	uint64_t max_frames; /* 0 = no limit */
	double max_duration; /* seconds of log time, 0 = no limit */
	FILE *out;	     /* the candump -l log */
	FILE *truth;	     /* "ts,id,signal,value" lines, or NULL */
};

struct sim;

/*
 * The scenario must outlive the sim. With a frame or duration limit the
 * last drive cycle repeats until the limit is reached.
 */
int sim_new(struct sim **ret, const struct scenario *sc,
	    const struct sim_options *opt);
/* Takes NULL. */
void sim_free(struct sim *s);

/* Writes the whole log. Returns 0 or -errno (a write error). */
int sim_run(struct sim *s);
/*
 * One model step with its frames queued (for tests that watch the model).
 * Returns 1 while there is more, 0 at the end, -errno on error.
 */
int sim_step(struct sim *s);

const struct model *sim_model(const struct sim *s);
uint64_t sim_frames(const struct sim *s);
