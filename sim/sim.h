/* sim.h: dtcd-sim, the reference-vehicle simulator: scenario in, candump log
 * out */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "log_writer.h"
#include "poll_profile.h"

#include "model.h"
#include "scenario.h"

struct sim_options {
	uint64_t seed; /* the scenario's seed unless seed_set */
	bool seed_set;
	uint64_t max_frames; /* 0 = no limit */
	double max_duration; /* seconds of log time, 0 = no limit */
	FILE *out;	     /* the log */
	/* candump -l (bus realism's malformed lines only there), ASC, BLF */
	enum log_writer_format format;
	FILE *truth; /* "ts,id,signal,value" lines, or NULL */
	/* the testers ask this instead of their own rounds (NULL: those) */
	const struct poll_plan *poll;
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

/* for live mode (sim_live.c) */
struct bus;
struct writer;
struct bus *sim_bus(struct sim *s);
struct writer *sim_writer(struct sim *s);

#define SIM_LIVE_MAX_NRC 8
struct sim_live_options {
	const char *ifname;
	/*
	 * The DME answers 22 DID with 7F 22 NRC: 0x78 is followed by the
	 * real answer 300 ms later, 0x21 alternates with real answers.
	 */
	struct {
		uint16_t did;
		uint8_t nrc;
	} nrc[SIM_LIVE_MAX_NRC];
	size_t n_nrc;
	double mute_after_s; /* the DME stops answering then (0: never) */
};

/*
 * Plays the scenario on a CAN interface in real time: the broadcasts on a
 * raw socket, and the DME (0x6F1 -> 0x612) and its OBD-II side (0x7DF and
 * 0x7E0 -> 0x7E8) answering a tester's requests over CAN_ISOTP from the
 * model, faults included. The scenario's own testers stay silent.
 */
int sim_live_run(struct sim *s, const struct sim_live_options *o);
