/* det_egr.c: EGR cooler performance and EGR module temperature spikes */
#include <math.h>
#include <string.h>

#include "detector.h"
#include "macro.h"

/*
 * The recall: glycol leaking from the EGR cooler collects in the EGR module
 * with soot and oil and can ignite. A leaking cooler cools badly (hot gas
 * after it, P2457; at once when the coolant level is low as well), and
 * burning deposits show as a sudden rise of the temperature (P1D05).
 */

#define HISTORY 64

struct sample {
	int64_t ts_ns;
	double value;
	bool bad; /* rise_c below both neighbours: no level it was at */
};

struct det_egr {
	struct detector base;
	struct {
		double coolant_min_c;
		double valve_min_pct;
		double hot_c;
		double hot_s;
		double rise_c;
		double rise_window_s;
		double spike_c;
		double spike_samples;
		double pass_s;
	} cfg;
	int64_t hot_since, ok_since;
	bool hot_failing, hot_confirmed;
	bool level_low_seen;
	/* P2457 failed this operation cycle; confirm_now sent this cycle */
	bool failed_cycle, confirmed_cycle;
	/* EGR temperatures of the last rise_window_s, oldest first */
	struct sample hist[HISTORY];
	unsigned n_hist;
	unsigned candidates; /* consecutive samples showing a spike */
	double spike_base;
	bool spike_failing;
	int64_t calm_since;
	struct detector_result hot, spike;
};

#define CFG(f) offsetof(struct det_egr, cfg.f)

static const struct detector_param params[] = {
	{ "coolant_min_c", CFG(coolant_min_c), 70, -40, 215, false },
	{ "valve_min_pct", CFG(valve_min_pct), 20, 0, 100, false },
	{ "hot_c", CFG(hot_c), 250, 0, 1000, false },
	{ "hot_s", CFG(hot_s), 30, 0.1, 3600, false },
	{ "rise_c", CFG(rise_c), 100, 1, 1000, false },
	{ "rise_window_s", CFG(rise_window_s), 2, 0.1, 60, false },
	{ "spike_c", CFG(spike_c), 400, 0, 1000, false },
	/* consecutive samples that must show the spike (1: a single one) */
	{ "spike_samples", CFG(spike_samples), 2, 1, 10, true },
	/* spike-free, monitored time after which P1D05 reports PASSED */
	{ "pass_s", CFG(pass_s), 30, 1, 3600, false },
};

static const struct detector_signal signals[] = {
	{ SIG_EGR_TEMP_C, false },
	{ SIG_EGR_VALVE_PCT, false },
	{ SIG_COOLANT_TEMP_C, false },
	/* only makes P2457 confirm at once; without it P2457 still works */
	{ SIG_COOLANT_LEVEL_LOW, true },
};

static struct det_egr *to_egr(struct detector *d)
{
	return container_of(d, struct det_egr, base);
}

static void reset(struct det_egr *e)
{
	e->hot_since = e->ok_since = DETECTOR_NEVER;
	e->hot_failing = e->hot_confirmed = false;
	e->level_low_seen = false;
	e->failed_cycle = e->confirmed_cycle = false;
	e->n_hist = 0;
	e->candidates = 0;
	e->spike_failing = false;
	e->calm_since = DETECTOR_NEVER;
	detector_result_reset(&e->hot, "P2457");
	detector_result_reset(&e->spike, "P1D05");
}

static int egr_init(struct detector *d)
{
	reset(to_egr(d));
	return 0;
}

static void check_hot(struct det_egr *e, int64_t now_ns)
{
	double coolant, valve, t, level;
	int64_t at = now_ns;
	bool hot;

	if (detector_get(&e->base, SIG_COOLANT_LEVEL_LOW, now_ns, &level) &&
	    level >= 0.5 && detector_engine_running(&e->base))
		e->level_low_seen = true;
	/*
	 * Spec 3: confirmed at once when the level is low in the cycle that
	 * failed, whenever the level drops: the cooler need not be hot (nor
	 * the valve open) at that moment.
	 */
	if (e->level_low_seen && e->failed_cycle && !e->confirmed_cycle) {
		e->confirmed_cycle = e->hot_confirmed = true;
		detector_fail(&e->base, &e->hot, now_ns, DTC_SEVERITY_DEFAULT,
			      true);
	}
	if (!detector_engine_running(&e->base) ||
	    !detector_get_asof(&e->base, SIG_COOLANT_TEMP_C, now_ns, &coolant,
			       &at) ||
	    !detector_get_asof(&e->base, SIG_EGR_VALVE_PCT, now_ns, &valve,
			       &at) ||
	    !detector_get_asof(&e->base, SIG_EGR_TEMP_C, now_ns, &t, &at) ||
	    coolant < e->cfg.coolant_min_c || valve < e->cfg.valve_min_pct) {
		/* the test's conditions are not met: it does not run */
		e->hot_since = e->ok_since = DETECTOR_NEVER;
		return;
	}
	hot = t > e->cfg.hot_c;
	if (detector_hold(&e->hot_since, hot, now_ns, at, e->cfg.hot_s) &&
	    (!e->hot_failing || (e->level_low_seen && !e->hot_confirmed))) {
		/* again, with confirm_now, when the level drops later */
		e->hot_failing = true;
		e->hot_confirmed = e->level_low_seen;
		e->failed_cycle = true;
		e->confirmed_cycle = e->confirmed_cycle || e->level_low_seen;
		detector_fail(&e->base, &e->hot, now_ns, DTC_SEVERITY_DEFAULT,
			      e->level_low_seen);
	}
	if (hot) {
		e->ok_since = DETECTOR_NEVER;
		return;
	}
	e->hot_failing = e->hot_confirmed = false;
	if (detector_hold(&e->ok_since, true, now_ns, at, e->cfg.hot_s))
		detector_pass(&e->base, &e->hot, now_ns);
}

/*
 * Lowest temperature of the rise window before the sample t at now_ns.
 * Spec 3 asks for a rise "within 2 s", a property of the temperature, not
 * of which samples happen to be 2 s apart: the samples are read as a line
 * through them, so at the window's edge the value is interpolated between
 * the sample before the edge and the one after it. Without that, a 1 Hz
 * answer 1 ms late pushes the sample from before the rise out of the
 * window and the rise is never seen (issue 9: polled and recorded answers
 * jitter by milliseconds).
 */
static bool window_min(struct det_egr *e, int64_t now_ns, double t,
		       double *ret_min)
{
	int64_t from = now_ns - detector_s_to_ns(e->cfg.rise_window_s);
	unsigned first = 0;
	struct sample a, b;
	double min;

	/* keep the newest sample before the edge: the interpolation needs it */
	while (first + 1 < e->n_hist && e->hist[first + 1].ts_ns <= from)
		first++;
	memmove(e->hist, e->hist + first,
		(e->n_hist - first) * sizeof(*e->hist));
	e->n_hist -= first;
	if (!e->n_hist)
		return false;
	min = t;
	for (unsigned i = 0; i < e->n_hist; i++)
		if (e->hist[i].ts_ns >= from && !e->hist[i].bad &&
		    e->hist[i].value < min)
			min = e->hist[i].value;
	a = e->hist[0];
	if (a.ts_ns < from && !a.bad) {
		unsigned i = 1;

		while (i < e->n_hist && e->hist[i].bad)
			i++;
		b = i < e->n_hist ? e->hist[i] :
				    (struct sample){ now_ns, t, false };
		if (b.ts_ns > a.ts_ns)
			min = fmin(min,
				   a.value +
					   (b.value - a.value) *
						   (double)(from - a.ts_ns) /
						   (double)(b.ts_ns - a.ts_ns));
	}
	*ret_min = min;
	return true;
}

static void push(struct det_egr *e, int64_t ts_ns, double v)
{
	if (e->n_hist == HISTORY) {
		for (unsigned i = 1; i < HISTORY; i++)
			e->hist[i - 1] = e->hist[i];
		e->n_hist--;
	}
	e->hist[e->n_hist++] = (struct sample){ ts_ns, v, false };
}

static void on_egr_temp(struct det_egr *e, int64_t ts_ns)
{
	double t, base = 0;
	bool have_base, spike;

	if (!detector_get(&e->base, SIG_EGR_TEMP_C, ts_ns, &t)) {
		/* a gap: a rise across it is no rise "within 2 s" */
		e->n_hist = 0;
		e->candidates = 0;
		e->calm_since = DETECTOR_NEVER;
		return;
	}
	/*
	 * The newest sample has both neighbours now. One a sensor got wrong,
	 * rise_c below the answers before and after it, is no temperature
	 * the gas was at: a rise from it would be a critical P1D05 out of one
	 * bad answer.
	 */
	if (e->n_hist >= 2) {
		struct sample *m = &e->hist[e->n_hist - 1];

		m->bad = m->value + e->cfg.rise_c <=
			 fmin(e->hist[e->n_hist - 2].value, t);
	}
	have_base = window_min(e, ts_ns, t, &base);
	if (e->candidates)
		/* following samples must stay up against the first base */
		spike = t >= e->cfg.spike_c ||
			t - e->spike_base >= e->cfg.rise_c;
	else
		spike = t >= e->cfg.spike_c ||
			(have_base && t - base >= e->cfg.rise_c);
	push(e, ts_ns, t);
	if (!spike) {
		e->candidates = 0;
		e->spike_failing = false;
		if (detector_hold(&e->calm_since,
				  detector_engine_running(&e->base), ts_ns,
				  ts_ns, e->cfg.pass_s))
			detector_pass(&e->base, &e->spike, ts_ns);
		return;
	}
	e->calm_since = DETECTOR_NEVER;
	if (!e->candidates++)
		e->spike_base = have_base ? base : t;
	if (e->candidates >= (unsigned)e->cfg.spike_samples &&
	    !e->spike_failing) {
		e->spike_failing = true;
		detector_fail(&e->base, &e->spike, ts_ns, DTC_SEVERITY_DEFAULT,
			      true);
	}
}

static void egr_on_signal(struct detector *d, int64_t ts_ns, enum signal_id id)
{
	struct det_egr *e = to_egr(d);

	if (id == SIG_EGR_TEMP_C)
		on_egr_temp(e, ts_ns);
	check_hot(e, ts_ns);
}

static void egr_on_tick(struct detector *d, int64_t now_ns)
{
	check_hot(to_egr(d), now_ns);
}

static void egr_on_cycle(struct detector *d, int64_t ts_ns,
			 enum cycle_change change)
{
	struct det_egr *e = to_egr(d);

	if (change == CYCLE_STARTED) {
		reset(e);
		return;
	}
	e->hot_since = e->ok_since = DETECTOR_NEVER;
	e->hot_failing = e->hot_confirmed = false;
}

const struct detector_ops det_egr_ops = {
	.name = "egr",
	.signals = signals,
	.n_signals = ARRAY_SIZE(signals),
	.params = params,
	.n_params = ARRAY_SIZE(params),
	.max_age_s = 5,
	.size = sizeof(struct det_egr),
	.base = offsetof(struct det_egr, base),
	.init = egr_init,
	.on_signal = egr_on_signal,
	.on_tick = egr_on_tick,
	.on_cycle = egr_on_cycle,
};
