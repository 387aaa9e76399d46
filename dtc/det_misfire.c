/* det_misfire.c: per-cylinder misfire rates over crank-revolution windows */
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detector.h"
#include "macro.h"

/*
 * The recall: ignition coils failing early (misfires, rough running).
 * Revolutions come from integrating engine speed over frame time; misfires
 * from the per-cylinder counters (DME DID or OBD Mode 06, same canonical
 * signals), which reset at engine start and may wrap at 65535.
 */

#define MAX_CYL SIG_MISFIRE_MAX_CYL
#define COUNTER_MODULO 65536.0

enum { WIN_RATE, WIN_CATALYST, N_WIN };

struct window {
	double revs;
	double misfires[MAX_CYL];
	unsigned samples[MAX_CYL]; /* counter updates seen in the window */
};

struct counter {
	bool have;
	double last;
	int64_t ts_ns;
	double revs_at; /* revolutions total at the last update */
};

struct det_misfire {
	struct detector base;
	struct {
		double cylinders;
		double window_revs;
		double rate_pct;
		double cat_window_revs;
		double cat_rate_pct;
		double wrap_margin;
		double min_rpm;
	} cfg;
	bool have_rpm;
	double rpm;
	int64_t rpm_ts_ns;
	double revs_total;
	struct counter cnt[MAX_CYL];
	struct window win[N_WIN];
	/* the last completed window of each kind failed: [MAX_CYL] is P0300 */
	bool failing[N_WIN][MAX_CYL + 1];
	struct detector_result any;	     /* P0300 */
	struct detector_result cyl[MAX_CYL]; /* P0301.. */
	char codes[MAX_CYL][8];
};

#define CFG(f) offsetof(struct det_misfire, cfg.f)

static const struct detector_param params[] = {
	{ "cylinders", CFG(cylinders), 6, 1, MAX_CYL, true },
	{ "window_revs", CFG(window_revs), 1000, 10, 100000, false },
	{ "rate_pct", CFG(rate_pct), 2.0, 0.01, 100, false },
	{ "cat_window_revs", CFG(cat_window_revs), 200, 10, 100000, false },
	{ "cat_rate_pct", CFG(cat_rate_pct), 10.0, 0.01, 100, false },
	/* a decrease from within this of 65535 to below it is a wrap */
	{ "wrap_margin", CFG(wrap_margin), 1000, 0, 30000, true },
	/* windows advance only at or above this speed (not while cranking) */
	{ "min_rpm", CFG(min_rpm), 400, 0, 3000, false },
};

static const struct detector_signal signals[] = {
	{ SIG_ENGINE_SPEED_RPM, false },
	{ SIG_MISFIRE_COUNT_CYL_1, false },
	{ SIG_MISFIRE_COUNT_CYL_2, false },
	{ SIG_MISFIRE_COUNT_CYL_3, false },
	{ SIG_MISFIRE_COUNT_CYL_4, false },
	{ SIG_MISFIRE_COUNT_CYL_5, false },
	{ SIG_MISFIRE_COUNT_CYL_6, false },
	{ SIG_MISFIRE_COUNT_CYL_7, false },
	{ SIG_MISFIRE_COUNT_CYL_8, false },
	{ SIG_MISFIRE_COUNT_CYL_9, false },
	{ SIG_MISFIRE_COUNT_CYL_10, false },
	{ SIG_MISFIRE_COUNT_CYL_11, false },
	{ SIG_MISFIRE_COUNT_CYL_12, false },
};

static struct det_misfire *to_misfire(struct detector *d)
{
	return container_of(d, struct det_misfire, base);
}

static int ncyl(const struct det_misfire *m)
{
	return (int)m->cfg.cylinders;
}

static void windows_reset(struct det_misfire *m)
{
	for (int w = 0; w < N_WIN; w++)
		m->win[w] = (struct window){ 0 };
}

static void results_reset(struct det_misfire *m)
{
	memset(m->failing, 0, sizeof(m->failing));
	detector_result_reset(&m->any, "P0300");
	for (int c = 0; c < MAX_CYL; c++)
		detector_result_reset(&m->cyl[c], m->codes[c]);
}

static int misfire_init(struct detector *d)
{
	struct det_misfire *m = to_misfire(d);

	for (int c = 0; c < MAX_CYL; c++)
		snprintf(m->codes[c], sizeof(m->codes[c]), "P03%02d", c + 1);
	results_reset(m);
	windows_reset(m);
	return 0;
}

static bool misfire_needs(const struct detector *d, enum signal_id id)
{
	const struct det_misfire *m = (const struct det_misfire *)d;

	if (id >= SIG_MISFIRE_COUNT_CYL_1 && id <= SIG_MISFIRE_COUNT_CYL_12)
		return id - SIG_MISFIRE_COUNT_CYL_1 < ncyl(m);
	return true;
}

/*
 * FAILED when a window fails after one that did not (no repeat every 4 s
 * while a fault lasts); PASSED, once, from the rate window only: the
 * catalyst window has no passing verdict of its own.
 */
static void result(struct det_misfire *m, int w, int i,
		   struct detector_result *r, bool fail, int64_t ts_ns)
{
	bool catalyst = w == WIN_CATALYST;

	if (fail && !m->failing[w][i])
		detector_fail(&m->base, r, ts_ns, DTC_SEVERITY_DEFAULT,
			      catalyst);
	else if (!fail && !catalyst)
		detector_pass(&m->base, r, ts_ns);
	m->failing[w][i] = fail;
}

static void window_complete(struct det_misfire *m, int w, int64_t ts_ns)
{
	struct window *win = &m->win[w];
	bool catalyst = w == WIN_CATALYST;
	double size = catalyst ? m->cfg.cat_window_revs : m->cfg.window_revs;
	double limit = catalyst ? m->cfg.cat_rate_pct : m->cfg.rate_pct;
	double firings = size / 2; /* four-stroke: once every 2 revolutions */
	int failed = 0, tested = 0;

	for (int c = 0; c < ncyl(m); c++) {
		bool fail;

		/* no counter update in the window: the test did not run */
		if (!win->samples[c])
			continue;
		tested++;
		fail = 100.0 * win->misfires[c] / firings > limit;
		failed += fail;
		result(m, w, c, &m->cyl[c], fail, ts_ns);
	}
	if (failed >= 2 || tested == ncyl(m))
		result(m, w, MAX_CYL, &m->any, failed >= 2, ts_ns);
	*win = (struct window){ 0 };
}

static void advance_window(struct det_misfire *m, int w, double size,
			   double revs, int64_t ts_ns)
{
	m->win[w].revs += revs;
	if (m->win[w].revs >= size)
		window_complete(m, w, ts_ns);
}

/* each speed value: both windows, without an array of their sizes */
static void advance(struct det_misfire *m, double revs, int64_t ts_ns)
{
	advance_window(m, WIN_RATE, m->cfg.window_revs, revs, ts_ns);
	advance_window(m, WIN_CATALYST, m->cfg.cat_window_revs, revs, ts_ns);
}

static bool counting(const struct det_misfire *m)
{
	return detector_engine_running(&m->base) && m->have_rpm &&
	       m->rpm >= m->cfg.min_rpm;
}

static void on_rpm(struct det_misfire *m, int64_t ts_ns)
{
	double v, revs;

	if (!detector_get(&m->base, SIG_ENGINE_SPEED_RPM, ts_ns, &v)) {
		m->have_rpm = false;
		return;
	}
	if (m->have_rpm && ts_ns > m->rpm_ts_ns &&
	    ts_ns - m->rpm_ts_ns <= m->base.max_age_ns) {
		/* trapezoid: rpm / 60 revolutions per second */
		revs = (m->rpm + v) / 2 / 60 * (double)(ts_ns - m->rpm_ts_ns) /
		       1e9;
		m->revs_total += revs;
		if (counting(m) && v >= m->cfg.min_rpm)
			advance(m, revs, ts_ns);
	}
	m->have_rpm = true;
	m->rpm = v;
	m->rpm_ts_ns = ts_ns;
}

static void on_counter(struct det_misfire *m, int c, int64_t ts_ns)
{
	struct counter *k = &m->cnt[c];
	double v, delta, firings;

	if (!detector_get(&m->base, SIG_MISFIRE_COUNT_CYL_1 + c, ts_ns, &v))
		return;
	if (!k->have || ts_ns - k->ts_ns > m->base.max_age_ns)
		goto baseline;
	if (v >= k->last)
		delta = v - k->last;
	else if (k->last >= COUNTER_MODULO - 1 - m->cfg.wrap_margin &&
		 v < m->cfg.wrap_margin)
		delta = COUNTER_MODULO - k->last + v; /* wrapped */
	else
		delta = v; /* reset (engine start): counting from 0 again */
	/*
	 * More misfires than the cylinder can have fired since the last
	 * update (with slack for the counter lagging the speed signal) is no
	 * measurement: start again from this value.
	 */
	firings = (m->revs_total - k->revs_at) / 2;
	if (delta > firings * 1.5 + 3)
		goto baseline;
	if (counting(m)) {
		for (int w = 0; w < N_WIN; w++) {
			m->win[w].misfires[c] += delta;
			m->win[w].samples[c]++;
		}
	}
	k->last = v;
	k->ts_ns = ts_ns;
	k->revs_at = m->revs_total;
	return;
baseline:
	k->have = true;
	k->last = v;
	k->ts_ns = ts_ns;
	k->revs_at = m->revs_total;
}

static void misfire_on_signal(struct detector *d, int64_t ts_ns,
			      enum signal_id id)
{
	struct det_misfire *m = to_misfire(d);

	if (id == SIG_ENGINE_SPEED_RPM)
		on_rpm(m, ts_ns);
	else if (id >= SIG_MISFIRE_COUNT_CYL_1 &&
		 id - SIG_MISFIRE_COUNT_CYL_1 < ncyl(m))
		on_counter(m, id - SIG_MISFIRE_COUNT_CYL_1, ts_ns);
}

static void misfire_on_tick(struct detector *d, int64_t now_ns)
{
	struct det_misfire *m = to_misfire(d);

	/* speed gone stale: no revolutions are integrated across the gap */
	if (m->have_rpm && now_ns - m->rpm_ts_ns > d->max_age_ns)
		m->have_rpm = false;
}

static void misfire_on_cycle(struct detector *d, int64_t ts_ns,
			     enum cycle_change change)
{
	struct det_misfire *m = to_misfire(d);

	/* a window never spans two operation cycles; partial ones are lost */
	windows_reset(m);
	if (change == CYCLE_STARTED)
		results_reset(m);
}

const struct detector_ops det_misfire_ops = {
	.name = "misfire",
	.signals = signals,
	.n_signals = ARRAY_SIZE(signals),
	.params = params,
	.n_params = ARRAY_SIZE(params),
	.max_age_s = 5,
	.size = sizeof(struct det_misfire),
	.base = offsetof(struct det_misfire, base),
	.init = misfire_init,
	.needs = misfire_needs,
	.on_signal = misfire_on_signal,
	.on_tick = misfire_on_tick,
	.on_cycle = misfire_on_cycle,
};
