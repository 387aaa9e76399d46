/* det_harness.h: synthetic signal scenarios driven through the detectors */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cycle.h"
#include "detector.h"
#include "signal.h"

/*
 * A scenario is a set of tracks; each track sends one canonical signal
 * every period_s, its value piecewise linear through the points (two
 * points at the same time make a step). A point value of HARNESS_SILENT
 * stops the frames from that time on (until a later point gives a value);
 * HARNESS_NO_VALUE sends frames that carry "no value" (a negative response).
 */
#define HARNESS_SILENT NAN
#define HARNESS_NO_VALUE (-INFINITY)
#define HARNESS_MAX_POINTS 16
#define HARNESS_MAX_TRACKS 32
#define HARNESS_MAX_EXPECT 12
#define HARNESS_MAX_REPORTS 4096

struct harness_point {
	double t, v;
};

struct harness_track {
	enum signal_id id;
	double period_s;
	double noise;  /* uniform ± noise, deterministic */
	bool integer;  /* counters: floor() */
	double modulo; /* counters that wrap: value mod this (0: none) */
	/*
	 * Each sample arrives up to ± jitter_s off its period (deterministic,
	 * the value is the one of its nominal time): polled answers do.
	 */
	double jitter_s;
	/* if n_at: samples only at these times (period_s is then ignored) */
	size_t n_at;
	double at_s[HARNESS_MAX_POINTS];
	size_t n;
	struct harness_point pts[HARNESS_MAX_POINTS];
};

#define HARNESS_N_POINTS(...)                              \
	(sizeof((struct harness_point[]){ __VA_ARGS__ }) / \
	 sizeof(struct harness_point))

#define TRACK(sig, period, ...)                     \
	{                                           \
		.id = sig, .period_s = period,      \
		.n = HARNESS_N_POINTS(__VA_ARGS__), \
		.pts = { __VA_ARGS__ }              \
	}
#define TRACK_NOISY(sig, period, amplitude, ...)                   \
	{                                                          \
		.id = sig, .period_s = period, .noise = amplitude, \
		.n = HARNESS_N_POINTS(__VA_ARGS__),                \
		.pts = { __VA_ARGS__ }                             \
	}
#define TRACK_COUNTER(sig, period, mod, ...)                                   \
	{                                                                      \
		.id = sig, .period_s = period, .integer = true, .modulo = mod, \
		.n = HARNESS_N_POINTS(__VA_ARGS__),                            \
		.pts = { __VA_ARGS__ }                                         \
	}

/* One result the scenario must produce. */
struct harness_expect {
	const char *code;
	enum dtc_result result;
	enum dtc_severity severity;
	bool confirm_now;
	/*
	 * FAILED: the fault begins at onset_s, none is reported before it,
	 * and the first matching one comes within max_latency_s of it.
	 * PASSED: the first one comes after onset_s and, if max_latency_s
	 * > 0, within it.
	 */
	double onset_s;
	double max_latency_s;
};

struct harness_case {
	const char *name;
	/* "detector.key=value" lines, as from [detector.NAME] sections */
	const char *config[8];
	struct harness_track tracks[HARNESS_MAX_TRACKS];
	double end_s;
	/* signals the vehicle profile does not bind */
	enum signal_id unbound[SIG_MISFIRE_MAX_CYL + 4];
	size_t n_unbound;
	/* "detector:signal" the inactive callback must name, exactly once */
	const char *inactive[SIG_MISFIRE_MAX_CYL + 4];
	/* every FAILED not listed here is a false alarm */
	struct harness_expect expect[HARNESS_MAX_EXPECT];
};

struct harness_report {
	int64_t ts_ns;
	char code[8];
	char detector[16];
	enum dtc_result result;
	enum dtc_severity severity;
	bool confirm_now;
	unsigned cycle; /* operation cycles started before it */
};

struct harness {
	struct signal_table signals;
	struct cycle cycle;
	struct detector_env env;
	struct detectors *det;
	struct harness_report rep[HARNESS_MAX_REPORTS];
	size_t n_rep;
	char inactive[32][64];
	size_t n_inactive;
	unsigned cycles_started;
	uint32_t rng;
};

/* Set after harness_setup: another seed of the noise and jitter. */
void harness_seed(struct harness *h, uint32_t seed);

/* Scenario time 0 is this frame time: nothing may assume small times. */
#define HARNESS_T0_NS INT64_C(1700000000000000000)

static inline int64_t harness_ns(double s)
{
	return HARNESS_T0_NS + (int64_t)llround(s * 1e9);
}

static inline double harness_s(int64_t ts_ns)
{
	return (double)(ts_ns - HARNESS_T0_NS) / 1e9;
}

/* Build, configure and check the profile of a case (asserts on errors). */
void harness_setup(struct harness *h, const struct harness_case *c);
void harness_teardown(struct harness *h);
/* Send one value (or store it as "no value" when valid is false). */
void harness_send(struct harness *h, int64_t ts_ns, enum signal_id id,
		  double value, bool valid);
void harness_tick(struct harness *h, int64_t now_ns);
/* Drive all tracks from 0 to end_s, ticking every 100 ms. */
void harness_play(struct harness *h, const struct harness_case *c);

const struct harness_report *
harness_find(const struct harness *h, const char *code, enum dtc_result result);
size_t harness_count(const struct harness *h, enum dtc_result result);

/* The whole table-driven check of one case (a cmocka test body). */
void harness_run_case(void **state);

/* tests[i] runs cases[i] through harness_run_case, named after it */
void harness_tests(struct CMUnitTest *tests, const struct harness_case *cases,
		   size_t n);

/* the expected reports of a case: code, onset and latency bound in s */
#define FAILED(code, onset, latency)                                         \
	{                                                                    \
		code, DTC_RESULT_FAILED, DTC_SEVERITY_DEFAULT, false, onset, \
			latency                                              \
	}
#define FAILED_NOW(code, onset, latency)                                    \
	{                                                                   \
		code, DTC_RESULT_FAILED, DTC_SEVERITY_DEFAULT, true, onset, \
			latency                                             \
	}
#define PASSED(code, onset, latency)                                         \
	{                                                                    \
		code, DTC_RESULT_PASSED, DTC_SEVERITY_DEFAULT, false, onset, \
			latency                                              \
	}
