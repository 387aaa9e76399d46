/* cycle.h: operation (driving) and warm-up cycles, from the signals (spec 2) */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "signal.h"

struct cycle_config {
	double start_rpm;     /* 400: running when at or above ... */
	int64_t start_ns;     /* ... for 1 s, or engine_run_state = 2 */
	double stop_rpm;      /* 50: standing when below ... */
	int64_t stop_ns;      /* ... for 2 s, or engine_run_state = 0 */
	double warmup_rise_c; /* 22 */
	double warmup_min_c;  /* 70 */
};

enum cycle_change {
	CYCLE_NONE,
	CYCLE_STARTED, /* an operation cycle began at this frame time */
	CYCLE_ENDED,   /* it ended; cycle_last_was_warmup() tells its kind */
};

struct cycle {
	struct cycle_config cfg;
	bool running;	       /* inside an operation cycle */
	bool cond_active;      /* the start/stop condition holds ... */
	int64_t cond_since_ns; /* ... since this frame time */
	int64_t started_ns;    /* when the current/last cycle started */
	int64_t ended_ns;      /* when the last cycle ended; 0 = never */
	double coolant_at_start;
	double coolant_max;
	bool have_coolant_start;
	bool last_was_warmup;
	unsigned operation_cycles; /* completed and running, since creation */
	double rpm;
	bool have_rpm;
	int run_state; /* -1 unknown */
};

void cycle_config_default(struct cycle_config *cfg);
void cycle_init(struct cycle *c, const struct cycle_config *cfg);

/*
 * Feed every canonical signal update (only engine speed, run state and
 * coolant matter: CYCLE_SIGNALS, so a caller can skip the others). Returns
 * what changed at this time.
 */
#define CYCLE_SIGNALS                          \
	(UINT64_C(1) << SIG_ENGINE_SPEED_RPM | \
	 UINT64_C(1) << SIG_ENGINE_RUN_STATE | \
	 UINT64_C(1) << SIG_COOLANT_TEMP_C)
enum cycle_change cycle_on_signal(struct cycle *c, int64_t ts_ns,
				  enum signal_id id, double value);
/* Time passes without frames: the stop timer can still expire. */
enum cycle_change cycle_on_tick(struct cycle *c, int64_t now_ns);

/* Observation stops (end of a replay, shutdown): a running cycle ends now. */
enum cycle_change cycle_end(struct cycle *c, int64_t ts_ns);

static inline bool cycle_engine_running(const struct cycle *c)
{
	return c->running;
}

/* frame time the engine last stopped (0 = never ran / unknown) */
static inline int64_t cycle_engine_stopped_at(const struct cycle *c)
{
	return c->running ? 0 : c->ended_ns;
}

static inline bool cycle_last_was_warmup(const struct cycle *c)
{
	return c->last_was_warmup;
}
