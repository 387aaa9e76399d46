/* det_turbo_pump.c: turbocharger coolant pump not running, over-temperature */
#include "detector.h"
#include "macro.h"

/*
 * The recall: the electric turbocharger coolant pump can fail at high
 * temperatures and the turbocharger overheats, up to a vehicle fire. After
 * the engine stops the pump keeps running (after-run, up to 15 min while
 * the turbo coolant is above 90 °C): that is normal, and a pump that stops
 * while commanded is a fault then as much as while driving, so neither test
 * depends on the engine state.
 */

struct det_turbo_pump {
	struct detector base;
	struct {
		double duty_min_pct;
		double speed_ratio_pct;
		double full_speed_rpm;
		double pump_s;
		double high_c;
		double high_s;
		double critical_c;
		double critical_s;
	} cfg;
	int64_t stall_since, run_since;
	bool stall_failing;
	int64_t high_since, crit_since, cool_since;
	bool high_failing, crit_failing;
	struct detector_result pump, temp;
};

#define CFG(f) offsetof(struct det_turbo_pump, cfg.f)

static const struct detector_param params[] = {
	{ "duty_min_pct", CFG(duty_min_pct), 30, 1, 100, false },
	{ "speed_ratio_pct", CFG(speed_ratio_pct), 10, 1, 100, false },
	{ "full_speed_rpm", CFG(full_speed_rpm), 3000, 100, 10000, false },
	{ "pump_s", CFG(pump_s), 5, 0.1, 3600, false },
	{ "high_c", CFG(high_c), 115, 50, 250, false },
	{ "high_s", CFG(high_s), 10, 0.1, 3600, false },
	{ "critical_c", CFG(critical_c), 125, 50, 250, false },
	/* a single sample is never enough: noise must not set it */
	{ "critical_s", CFG(critical_s), 2, 0, 3600, false },
};

static const struct detector_signal signals[] = {
	{ SIG_TURBO_PUMP_DUTY_PCT, false },
	{ SIG_TURBO_PUMP_SPEED_RPM, false },
	{ SIG_TURBO_COOLANT_TEMP_C, false },
};

static struct det_turbo_pump *to_pump(struct detector *d)
{
	return container_of(d, struct det_turbo_pump, base);
}

static void reset(struct det_turbo_pump *p)
{
	p->stall_since = p->run_since = DETECTOR_NEVER;
	p->stall_failing = false;
	p->high_since = p->crit_since = p->cool_since = DETECTOR_NEVER;
	p->high_failing = p->crit_failing = false;
	detector_result_reset(&p->pump, "P2600");
	detector_result_reset(&p->temp, "P1D04");
}

static int turbo_pump_init(struct detector *d)
{
	reset(to_pump(d));
	return 0;
}

static void check_pump(struct det_turbo_pump *p, int64_t now_ns)
{
	double duty, speed, commanded;
	int64_t at = now_ns;
	bool stalled;

	if (!detector_get_asof(&p->base, SIG_TURBO_PUMP_DUTY_PCT, now_ns, &duty,
			       &at) ||
	    !detector_get_asof(&p->base, SIG_TURBO_PUMP_SPEED_RPM, now_ns,
			       &speed, &at)) {
		p->stall_since = p->run_since = DETECTOR_NEVER;
		return;
	}
	if (duty < p->cfg.duty_min_pct) {
		/* not commanded: the test does not run */
		p->stall_since = p->run_since = DETECTOR_NEVER;
		p->stall_failing = false;
		return;
	}
	commanded = duty / 100 * p->cfg.full_speed_rpm;
	stalled = speed < p->cfg.speed_ratio_pct / 100 * commanded;
	if (detector_hold(&p->stall_since, stalled, now_ns, at,
			  p->cfg.pump_s) &&
	    !p->stall_failing) {
		p->stall_failing = true;
		detector_fail(&p->base, &p->pump, now_ns, DTC_SEVERITY_DEFAULT,
			      false);
	}
	if (stalled) {
		p->run_since = DETECTOR_NEVER;
		return;
	}
	p->stall_failing = false;
	if (detector_hold(&p->run_since, true, now_ns, at, p->cfg.pump_s))
		detector_pass(&p->base, &p->pump, now_ns);
}

static void check_temp(struct det_turbo_pump *p, int64_t now_ns)
{
	double t;
	int64_t at = now_ns;

	if (!detector_get_asof(&p->base, SIG_TURBO_COOLANT_TEMP_C, now_ns, &t,
			       &at)) {
		p->high_since = p->crit_since = p->cool_since = DETECTOR_NEVER;
		return;
	}
	if (detector_hold(&p->crit_since, t >= p->cfg.critical_c, now_ns, at,
			  p->cfg.critical_s) &&
	    !p->crit_failing) {
		p->crit_failing = p->high_failing = true;
		detector_fail(&p->base, &p->temp, now_ns, DTC_SEVERITY_CRITICAL,
			      true);
	}
	if (detector_hold(&p->high_since, t >= p->cfg.high_c, now_ns, at,
			  p->cfg.high_s) &&
	    !p->high_failing) {
		p->high_failing = true;
		detector_fail(&p->base, &p->temp, now_ns, DTC_SEVERITY_HIGH,
			      false);
	}
	if (t >= p->cfg.high_c) {
		p->cool_since = DETECTOR_NEVER;
		return;
	}
	p->high_failing = p->crit_failing = false;
	if (detector_hold(&p->cool_since, true, now_ns, at, p->cfg.high_s))
		detector_pass(&p->base, &p->temp, now_ns);
}

static void evaluate(struct det_turbo_pump *p, int64_t now_ns)
{
	check_pump(p, now_ns);
	check_temp(p, now_ns);
}

static void turbo_pump_on_signal(struct detector *d, int64_t ts_ns,
				 enum signal_id id)
{
	evaluate(to_pump(d), ts_ns);
}

static void turbo_pump_on_tick(struct detector *d, int64_t now_ns)
{
	evaluate(to_pump(d), now_ns);
}

static void turbo_pump_on_cycle(struct detector *d, int64_t ts_ns,
				enum cycle_change change)
{
	/* a new operation cycle tests again (and reports PASSED again) */
	if (change == CYCLE_STARTED)
		reset(to_pump(d));
}

const struct detector_ops det_turbo_pump_ops = {
	.name = "turbo_pump",
	.signals = signals,
	.n_signals = ARRAY_SIZE(signals),
	.params = params,
	.n_params = ARRAY_SIZE(params),
	.max_age_s = 5,
	.size = sizeof(struct det_turbo_pump),
	.base = offsetof(struct det_turbo_pump, base),
	.init = turbo_pump_init,
	.on_signal = turbo_pump_on_signal,
	.reads_all = true,
	.on_tick = turbo_pump_on_tick,
	.on_cycle = turbo_pump_on_cycle,
};
