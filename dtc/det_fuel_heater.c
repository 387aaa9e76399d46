/* det_fuel_heater.c: fuel-filter heater on, or battery drain, engine off */
#include "detector.h"
#include "macro.h"

/*
 * The recall: a contact problem keeps the fuel-filter heater on
 * permanently, draining the battery or, at worst, starting a smouldering
 * fire. It matters most while the car is parked, so this detector works
 * with the engine and the ignition off, as long as frames arrive.
 */

struct det_fuel_heater {
	struct detector base;
	struct {
		double heater_on_s;
		double heater_current_a;
		double after_run_s;
		double drain_current_a;
		double drain_s;
	} cfg;
	int64_t heater_since;
	bool heater_failing;
	int64_t drain_since;
	int64_t drain_ok_since;
	bool drain_failing;
	struct detector_result heater, drain;
};

#define CFG(f) offsetof(struct det_fuel_heater, cfg.f)

static const struct detector_param params[] = {
	{ "heater_on_s", CFG(heater_on_s), 60, 1, 86400, false },
	{ "heater_current_a", CFG(heater_current_a), 1.0, 0.01, 60, false },
	/* heater off within this after the engine stopped: PASSED */
	{ "after_run_s", CFG(after_run_s), 30, 0, 3600, false },
	{ "drain_current_a", CFG(drain_current_a), -5, -1000, 0, false },
	{ "drain_s", CFG(drain_s), 120, 1, 86400, false },
};

static const struct detector_signal signals[] = {
	{ SIG_FUEL_HEATER_ON, false },
	{ SIG_FUEL_HEATER_CURRENT_A, false },
	{ SIG_BATTERY_CURRENT_A, false },
	{ SIG_IGNITION_ON, false },
	/* when fresh, confirms the engine really stands (see engine_off) */
	{ SIG_ENGINE_SPEED_RPM, true },
};

static struct det_fuel_heater *to_heater(struct detector *d)
{
	return container_of(d, struct det_fuel_heater, base);
}

static void reset(struct det_fuel_heater *h)
{
	h->heater_since = DETECTOR_NEVER;
	h->heater_failing = false;
	h->drain_since = DETECTOR_NEVER;
	h->drain_ok_since = DETECTOR_NEVER;
	h->drain_failing = false;
	detector_result_reset(&h->heater, "P1D02");
	detector_result_reset(&h->drain, "P1D03");
}

static int fuel_heater_init(struct detector *d)
{
	reset(to_heater(d));
	return 0;
}

/*
 * Off: not in an operation cycle and, if the engine speed is fresh, below
 * the cycle's stop speed (an operation cycle that ended because speed
 * frames vanished must not make a running engine look off).
 */
static bool engine_off(const struct det_fuel_heater *h, int64_t now_ns)
{
	const struct cycle *cyc = h->base.env->cycle;
	double rpm;

	if (cycle_engine_running(cyc))
		return false;
	if (detector_get(&h->base, SIG_ENGINE_SPEED_RPM, now_ns, &rpm))
		return rpm < cyc->cfg.stop_rpm;
	return true;
}

static void check_heater(struct det_fuel_heater *h, bool off, int64_t now_ns)
{
	double on, amps;
	bool have_on, have_amps, heating;
	int64_t stopped, at = now_ns;

	/* before the values: the engine runs at most of the calls */
	if (!off) {
		h->heater_failing = false;
		h->heater_since = DETECTOR_NEVER;
		return;
	}
	have_on = detector_get_asof(&h->base, SIG_FUEL_HEATER_ON, now_ns, &on,
				    &at);
	have_amps = detector_get_asof(&h->base, SIG_FUEL_HEATER_CURRENT_A,
				      now_ns, &amps, &at);
	if (!have_on && !have_amps) {
		h->heater_since = DETECTOR_NEVER;
		return;
	}
	heating = (have_on && on >= 0.5) ||
		  (have_amps && amps > h->cfg.heater_current_a);
	if (detector_hold(&h->heater_since, heating, now_ns, at,
			  h->cfg.heater_on_s) &&
	    !h->heater_failing) {
		h->heater_failing = true;
		detector_fail(&h->base, &h->heater, now_ns,
			      DTC_SEVERITY_DEFAULT, true);
	}
	if (heating) {
		return;
	}
	h->heater_failing = false;
	/* off once the after-run is over: it switched off as it should */
	stopped = cycle_engine_stopped_at(h->base.env->cycle);
	if (stopped == 0 ||
	    now_ns - stopped >= detector_s_to_ns(h->cfg.after_run_s))
		detector_pass(&h->base, &h->heater, now_ns);
}

static void check_drain(struct det_fuel_heater *h, bool off, int64_t now_ns)
{
	double ign, amps;
	int64_t at = now_ns;
	bool parked, draining;

	parked = off && detector_get(&h->base, SIG_IGNITION_ON, now_ns, &ign) &&
		 ign < 0.5;
	if (!parked) {
		/* the ignition or the engine on ends a drain episode */
		if (!off ||
		    (detector_get(&h->base, SIG_IGNITION_ON, now_ns, &ign) &&
		     ign >= 0.5))
			h->drain_failing = false;
		h->drain_since = h->drain_ok_since = DETECTOR_NEVER;
		return;
	}
	if (!detector_get_asof(&h->base, SIG_BATTERY_CURRENT_A, now_ns, &amps,
			       &at)) {
		h->drain_since = h->drain_ok_since = DETECTOR_NEVER;
		return;
	}
	draining = amps < h->cfg.drain_current_a;
	if (detector_hold(&h->drain_since, draining, now_ns, at,
			  h->cfg.drain_s) &&
	    !h->drain_failing) {
		h->drain_failing = true;
		detector_fail(&h->base, &h->drain, now_ns, DTC_SEVERITY_DEFAULT,
			      true);
	}
	if (draining) {
		h->drain_ok_since = DETECTOR_NEVER;
		return;
	}
	h->drain_failing = false;
	if (detector_hold(&h->drain_ok_since, true, now_ns, at, h->cfg.drain_s))
		detector_pass(&h->base, &h->drain, now_ns);
}

static void evaluate(struct det_fuel_heater *h, int64_t now_ns)
{
	bool off = engine_off(h, now_ns);

	check_heater(h, off, now_ns);
	check_drain(h, off, now_ns);
}

static void fuel_heater_on_signal(struct detector *d, int64_t ts_ns,
				  enum signal_id id)
{
	evaluate(to_heater(d), ts_ns);
}

static void fuel_heater_on_tick(struct detector *d, int64_t now_ns)
{
	evaluate(to_heater(d), now_ns);
}

static void fuel_heater_on_cycle(struct detector *d, int64_t ts_ns,
				 enum cycle_change change)
{
	/* every engine-off period is a test of its own */
	reset(to_heater(d));
}

const struct detector_ops det_fuel_heater_ops = {
	.name = "fuel_heater",
	.signals = signals,
	.n_signals = ARRAY_SIZE(signals),
	.params = params,
	.n_params = ARRAY_SIZE(params),
	.max_age_s = 5,
	.size = sizeof(struct det_fuel_heater),
	.base = offsetof(struct det_fuel_heater, base),
	.init = fuel_heater_init,
	.on_signal = fuel_heater_on_signal,
	.reads_all = true,
	.on_tick = fuel_heater_on_tick,
	.on_cycle = fuel_heater_on_cycle,
};
