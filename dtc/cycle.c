/* cycle.c: operation and warm-up cycles from engine speed, run state, coolant
 */
#include <string.h>

#include "cycle.h"

void cycle_config_default(struct cycle_config *cfg)
{
	cfg->start_rpm = 400;
	cfg->start_ns = 1000000000LL;
	cfg->stop_rpm = 50;
	cfg->stop_ns = 2000000000LL;
	cfg->warmup_rise_c = 22;
	cfg->warmup_min_c = 70;
}

void cycle_init(struct cycle *c, const struct cycle_config *cfg)
{
	memset(c, 0, sizeof(*c));
	if (cfg)
		c->cfg = *cfg;
	else
		cycle_config_default(&c->cfg);
	c->run_state = -1;
}

/*
 * The start condition holds while the engine speed is at or above start_rpm
 * or the DME itself says "running"; the stop condition while the speed is
 * below stop_rpm or the DME says "off". Whichever source a profile has, the
 * other one is simply unknown and does not vote.
 */
static bool start_condition(const struct cycle *c)
{
	return (c->have_rpm && c->rpm >= c->cfg.start_rpm) || c->run_state == 2;
}

static bool stop_condition(const struct cycle *c)
{
	if (c->run_state == 2)
		return false;
	if (c->have_rpm && c->rpm >= c->cfg.stop_rpm)
		return false;
	return (c->have_rpm && c->rpm < c->cfg.stop_rpm) || c->run_state == 0;
}

static enum cycle_change start(struct cycle *c, int64_t ts_ns)
{
	c->running = true;
	c->cond_active = false;
	c->started_ns = ts_ns;
	c->operation_cycles++;
	/* the coolant at start: the value known now, or the first to come */
	c->coolant_max = c->have_coolant_start ? c->coolant_at_start : -1e9;
	return CYCLE_STARTED;
}

static enum cycle_change end(struct cycle *c, int64_t ts_ns)
{
	c->running = false;
	c->cond_active = false;
	c->ended_ns = ts_ns;
	c->last_was_warmup =
		c->have_coolant_start &&
		c->coolant_max - c->coolant_at_start >= c->cfg.warmup_rise_c &&
		c->coolant_max >= c->cfg.warmup_min_c;
	c->have_coolant_start = false;
	return CYCLE_ENDED;
}

static enum cycle_change evaluate(struct cycle *c, int64_t now_ns)
{
	bool cond = c->running ? stop_condition(c) : start_condition(c);
	int64_t need = c->running ? c->cfg.stop_ns : c->cfg.start_ns;

	if (!cond) {
		c->cond_active = false;
		return CYCLE_NONE;
	}
	/* the DME's own "running" needs no confirmation time */
	if (!c->running && c->run_state == 2)
		return start(c, now_ns);
	if (!c->cond_active) {
		c->cond_active = true;
		c->cond_since_ns = now_ns;
		return CYCLE_NONE;
	}
	if (now_ns - c->cond_since_ns < need)
		return CYCLE_NONE;
	return c->running ? end(c, now_ns) : start(c, now_ns);
}

enum cycle_change cycle_on_signal(struct cycle *c, int64_t ts_ns,
				  enum signal_id id, double value)
{
	switch (id) {
	case SIG_ENGINE_SPEED_RPM:
		c->rpm = value;
		c->have_rpm = true;
		break;
	case SIG_ENGINE_RUN_STATE:
		c->run_state = (int)value;
		break;
	case SIG_COOLANT_TEMP_C:
		if (!c->running) {
			/* the latest value before the start counts as "at
			 * start" */
			c->coolant_at_start = value;
			c->have_coolant_start = true;
			c->coolant_max = value;
		} else {
			if (!c->have_coolant_start) {
				c->coolant_at_start = value;
				c->have_coolant_start = true;
			}
			if (value > c->coolant_max)
				c->coolant_max = value;
		}
		return CYCLE_NONE;
	default:
		return CYCLE_NONE;
	}
	return evaluate(c, ts_ns);
}

enum cycle_change cycle_on_tick(struct cycle *c, int64_t now_ns)
{
	if (!c->cond_active)
		return CYCLE_NONE;
	return evaluate(c, now_ns);
}

enum cycle_change cycle_end(struct cycle *c, int64_t ts_ns)
{
	return c->running ? end(c, ts_ns) : CYCLE_NONE;
}
