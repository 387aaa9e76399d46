/* det_vanos.c: camshaft timing deviation and the VANOS emergency program */
#include <stddef.h>
#include <math.h>

#include "detector.h"
#include "macro.h"

/*
 * The recall: bolts of the VANOS unit break; the camshaft no longer follows
 * its target, the engine light comes on and the DME goes into its emergency
 * program. A healthy unit follows target steps within 0.5 s, so only a
 * deviation that persists outside that tolerance counts.
 */

enum { CAM_INTAKE, CAM_EXHAUST, N_CAM };

struct cam {
	enum signal_id target, actual;
	int64_t tolerance_until; /* after a target step */
	bool have_ref;
	double step_ref; /* target at the last step */
	int64_t dev_since;
	int64_t ok_since;
	bool failing;
	int64_t last_valid_ns;
	int64_t fail_end_ns; /* when the last failing deviation ended */
	struct detector_result res;
};

struct det_vanos {
	struct detector base;
	struct {
		double deviation_deg;
		double hold_s;
		double follow_s;
		double step_deg;
		double emergency_window_s;
		double pass_s;
	} cfg;
	struct cam cam[N_CAM];
	bool emergency_reported;
	int64_t em_ok_since;
	struct detector_result emergency;
};

#define CFG(f) offsetof(struct det_vanos, cfg.f)

static const struct detector_param params[] = {
	{ "deviation_deg", CFG(deviation_deg), 10, 0.5, 200, false },
	{ "hold_s", CFG(hold_s), 2, 0.1, 600, false },
	{ "follow_s", CFG(follow_s), 0.5, 0, 60, false },
	/* a target change of at least this restarts the follow tolerance */
	{ "step_deg", CFG(step_deg), 2, 0.1, 200, false },
	{ "emergency_window_s", CFG(emergency_window_s), 10, 0, 600, false },
	/* healthy, monitored time after which the test reports PASSED */
	{ "pass_s", CFG(pass_s), 10, 1, 3600, false },
};

static const struct detector_signal signals[] = {
	{ SIG_VANOS_INTAKE_TARGET_DEG, false },
	{ SIG_VANOS_INTAKE_ACTUAL_DEG, false },
	{ SIG_VANOS_EXHAUST_TARGET_DEG, false },
	{ SIG_VANOS_EXHAUST_ACTUAL_DEG, false },
	/* only P1D01 needs it: without it the deviations are still watched */
	{ SIG_ENGINE_EMERGENCY_MODE, true },
};

static struct det_vanos *to_vanos(struct detector *d)
{
	return container_of(d, struct det_vanos, base);
}

static void cam_reset(struct cam *c)
{
	c->tolerance_until = DETECTOR_NEVER;
	c->have_ref = false;
	c->dev_since = DETECTOR_NEVER;
	c->ok_since = DETECTOR_NEVER;
	c->failing = false;
	c->last_valid_ns = DETECTOR_NEVER;
	c->fail_end_ns = DETECTOR_NEVER;
}

static void reset(struct det_vanos *v)
{
	static const char *const codes[N_CAM] = { "P0011", "P0014" };

	for (int i = 0; i < N_CAM; i++) {
		cam_reset(&v->cam[i]);
		detector_result_reset(&v->cam[i].res, codes[i]);
	}
	v->emergency_reported = false;
	v->em_ok_since = DETECTOR_NEVER;
	detector_result_reset(&v->emergency, "P1D01");
}

static int vanos_init(struct detector *d)
{
	struct det_vanos *v = to_vanos(d);

	v->cam[CAM_INTAKE].target = SIG_VANOS_INTAKE_TARGET_DEG;
	v->cam[CAM_INTAKE].actual = SIG_VANOS_INTAKE_ACTUAL_DEG;
	v->cam[CAM_EXHAUST].target = SIG_VANOS_EXHAUST_TARGET_DEG;
	v->cam[CAM_EXHAUST].actual = SIG_VANOS_EXHAUST_ACTUAL_DEG;
	reset(v);
	return 0;
}

/* a failing deviation now, or one that ended within the window */
static bool recently_failing(const struct det_vanos *v, int64_t now_ns)
{
	for (int i = 0; i < N_CAM; i++) {
		const struct cam *c = &v->cam[i];

		if (c->failing)
			return true;
		if (c->fail_end_ns != DETECTOR_NEVER &&
		    now_ns - c->fail_end_ns <=
			    detector_s_to_ns(v->cfg.emergency_window_s))
			return true;
	}
	return false;
}

static void check_emergency(struct det_vanos *v, int64_t now_ns)
{
	double em;

	if (!detector_get(&v->base, SIG_ENGINE_EMERGENCY_MODE, now_ns, &em)) {
		v->em_ok_since = DETECTOR_NEVER;
		return;
	}
	if (em < 0.5) {
		v->emergency_reported = false;
		if (detector_hold(&v->em_ok_since,
				  detector_engine_running(&v->base), now_ns,
				  now_ns, v->cfg.pass_s))
			detector_pass(&v->base, &v->emergency, now_ns);
		return;
	}
	v->em_ok_since = DETECTOR_NEVER;
	if (!v->emergency_reported && recently_failing(v, now_ns)) {
		v->emergency_reported = true;
		detector_fail(&v->base, &v->emergency, now_ns,
			      DTC_SEVERITY_DEFAULT, true);
	}
}

static void end_failing(struct cam *c, int64_t at_ns)
{
	if (c->failing) {
		c->failing = false;
		c->fail_end_ns = at_ns;
	}
}

/* Engine stopped: deviations end, but P1D01 stays possible for a while. */
static void cam_stop(struct cam *c, int64_t at_ns)
{
	int64_t end;

	end_failing(c, at_ns);
	end = c->fail_end_ns;
	cam_reset(c);
	c->fail_end_ns = end;
}

static void check_cam(struct det_vanos *v, struct cam *c, int64_t now_ns)
{
	double target, actual;
	int64_t at = now_ns;
	bool deviating;

	if (!detector_engine_running(&v->base)) {
		cam_stop(c, now_ns);
		return;
	}
	if (!detector_get_asof(&v->base, c->target, now_ns, &target, &at) ||
	    !detector_get_asof(&v->base, c->actual, now_ns, &actual, &at)) {
		/* unknown: no timer runs, and a failing one ends at the last
		 * value we had */
		c->dev_since = DETECTOR_NEVER;
		c->ok_since = DETECTOR_NEVER;
		end_failing(c, c->last_valid_ns);
		return;
	}
	c->last_valid_ns = at;
	if (!c->have_ref || fabs(target - c->step_ref) >= v->cfg.step_deg) {
		if (c->have_ref)
			c->tolerance_until =
				at + detector_s_to_ns(v->cfg.follow_s);
		c->have_ref = true;
		c->step_ref = target;
	}
	deviating = fabs(actual - target) > v->cfg.deviation_deg;
	if (deviating) {
		c->ok_since = DETECTOR_NEVER;
		/* following a step: not a deviation (yet) */
		if (c->tolerance_until != DETECTOR_NEVER &&
		    at < c->tolerance_until) {
			c->dev_since = DETECTOR_NEVER;
			return;
		}
		if (detector_hold(&c->dev_since, true, now_ns, at,
				  v->cfg.hold_s) &&
		    !c->failing) {
			c->failing = true;
			detector_fail(&v->base, &c->res, now_ns,
				      DTC_SEVERITY_DEFAULT, false);
		}
		return;
	}
	c->dev_since = DETECTOR_NEVER;
	end_failing(c, at);
	if (detector_hold(&c->ok_since, true, now_ns, at, v->cfg.pass_s))
		detector_pass(&v->base, &c->res, now_ns);
}

static void evaluate(struct det_vanos *v, int64_t now_ns)
{
	for (int i = 0; i < N_CAM; i++)
		check_cam(v, &v->cam[i], now_ns);
	check_emergency(v, now_ns);
}

static void vanos_on_signal(struct detector *d, int64_t ts_ns,
			    enum signal_id id)
{
	evaluate(to_vanos(d), ts_ns);
}

static void vanos_on_tick(struct detector *d, int64_t now_ns)
{
	evaluate(to_vanos(d), now_ns);
}

static void vanos_on_cycle(struct detector *d, int64_t ts_ns,
			   enum cycle_change change)
{
	struct det_vanos *v = to_vanos(d);

	if (change == CYCLE_STARTED) {
		reset(v);
		return;
	}
	for (int i = 0; i < N_CAM; i++)
		cam_stop(&v->cam[i], ts_ns);
}

const struct detector_ops det_vanos_ops = {
	.name = "vanos",
	.signals = signals,
	.n_signals = ARRAY_SIZE(signals),
	.params = params,
	.n_params = ARRAY_SIZE(params),
	.max_age_s = 1,
	.size = sizeof(struct det_vanos),
	.base = offsetof(struct det_vanos, base),
	.init = vanos_init,
	.on_signal = vanos_on_signal,
	.reads_all = true,
	.on_tick = vanos_on_tick,
	.on_cycle = vanos_on_cycle,
};
