/* detector.h: the recall detectors: one ops table each, a registry, the set */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "cycle.h"
#include "report.h"
#include "signal.h"

/*
 * What every detector sees: the last value of each canonical signal, the
 * operation cycle (owned by the daemon) and where results go.
 */
struct detector_env {
	const struct signal_table *signals;
	const struct cycle *cycle;
	struct dtc_sink sink;
};

/* --- The set the daemon drives --------------------------------------- */

struct detectors;

/*
 * All detectors of the registry, enabled, with the spec's defaults. *env
 * is copied; the signal table and the cycle it points to must outlive d.
 */
int detectors_new(struct detectors **ret, const struct detector_env *env);
void detectors_free(struct detectors *d);

/*
 * One key of a [detector.NAME] section. Unknown detector or key: -ENOENT;
 * a value that is not a number in the key's range (or not a boolean for
 * `enabled`): -EINVAL. The error goes to f (at f->ini.line) unless f is
 * NULL. Call before the first signal.
 */
int detectors_configure(struct detectors *d, const char *detector,
			const char *key, const char *value,
			struct conf_file *f);

/*
 * bound[id]: the vehicle profile gives signal id. A detector that needs an
 * unbound signal becomes inactive; inactive() is called once per missing
 * signal (enabled detectors only) so the daemon can say so.
 */
void detectors_check_profile(struct detectors *d, const bool bound[SIG__MAX],
			     void (*inactive)(void *ud, const char *detector,
					      const char *signal),
			     void *ud);

/*
 * Call order for one decoded value: store it in env->signals, feed the
 * cycle, call detectors_cycle_changed() if the cycle changed, then
 * detectors_on_signal().
 */
void detectors_on_signal(struct detectors *d, int64_t ts_ns, enum signal_id id);
/*
 * The values of one frame (a CAN frame, or the ISO-TP message it ends), all
 * of time ts_ns, stored and fed to the cycle: detectors_on_signal() for
 * each of ids[] in order, but a detector with reads_all is called only for
 * the first of its signals there.
 */
void detectors_on_frame(struct detectors *d, int64_t ts_ns,
			const enum signal_id *ids, size_t n);
/* Bit per signal id that some detector reads (none: no call needed). */
uint64_t detectors_signals(const struct detectors *d);
/* At least every 100 ms of frame time while frames arrive. */
void detectors_on_tick(struct detectors *d, int64_t now_ns);
void detectors_cycle_changed(struct detectors *d, int64_t ts_ns,
			     enum cycle_change change);

/* The keys of [detector.NAME] (NULL-terminated), NULL for no such detector */
const struct conf_key *detectors_keys(const struct detectors *d,
				      const char *detector);

/* Number of detectors and their names, for help texts and docs. */
size_t detectors_count(void);
const char *detectors_name(size_t i);
/* The registry's ops table i (its signals and keys), NULL past the end. */
const struct detector_ops *detectors_ops(size_t i);
/* Whether a detector is enabled and has all its signals (false if unknown). */
bool detectors_is_active(const struct detectors *d, const char *detector);

/* --- The interface each detector module implements ------------------- */

/* A signal a detector reads; an optional one never makes it inactive. */
struct detector_signal {
	enum signal_id id;
	bool optional;
};

/*
 * A configuration key of the detector: a double at `offset` in the
 * detector's state, default `def`, accepted range [min, max].
 */
struct detector_param {
	const char *key;
	size_t offset;
	double def, min, max;
	bool integer;
};

struct detector;

struct detector_ops {
	const char *name;
	const struct detector_signal *signals;
	size_t n_signals;
	const struct detector_param *params;
	size_t n_params;
	double max_age_s; /* default of the `max_age_s` key */
	size_t size;	  /* of the state, which holds a struct detector */
	size_t base;	  /* offsetof(the state, that struct detector) */
	/* after the defaults are set; 0 or -errno */
	int (*init)(struct detector *d);
	/* optional: whether a listed signal is needed with this config */
	bool (*needs)(const struct detector *d, enum signal_id id);
	/* a listed signal has a new value (read it with detector_get) */
	void (*on_signal)(struct detector *d, int64_t ts_ns, enum signal_id id);
	/*
	 * on_signal ignores id and reads all its signals, and a second call
	 * at the same time with the same values changes nothing: for several
	 * of its signals in one frame one call does (detectors_on_frame).
	 */
	bool reads_all;
	void (*on_tick)(struct detector *d, int64_t now_ns);
	/* optional */
	void (*on_cycle)(struct detector *d, int64_t ts_ns,
			 enum cycle_change change);
	/* optional: free what init allocated (not the state itself) */
	void (*teardown)(struct detector *d);
};

struct detector {
	const struct detector_ops *ops;
	const struct detector_env *env;
	bool enabled;
	bool active;
	double max_age_s;
	int64_t max_age_ns; /* max_age_s, converted once when it is set */
};

/*
 * Each det_NAME.c defines one `const struct detector_ops det_NAME_ops`;
 * dtc/detector.c declares it and lists it in the registry (docs/detectors.md
 * has the files a new detector touches).
 */

/* --- Helpers for detector modules ------------------------------------- */

/*
 * A value a detector may use at now_ns: seen, valid, within the sensor's
 * physical range, not older than the detector's max_age_s, and not exactly
 * at a range end that the sensor reports when it is open or shorted.
 */
bool detector_get(const struct detector *d, enum signal_id id, int64_t now_ns,
		  double *ret_value);
/*
 * The same, and lowers *asof_ns to the value's frame time: a condition on
 * several values holds "as of" the oldest of them. Timers run on these
 * times, so a value seen once is never held for longer than it was seen.
 */
bool detector_get_asof(const struct detector *d, enum signal_id id,
		       int64_t now_ns, double *ret_value, int64_t *asof_ns);
bool detector_engine_running(const struct detector *d);

/*
 * The last result sent for one DTC: PASSED is sent only when the last one
 * sent was not PASSED (so at most once per state change); FAILED is sent
 * whenever the detector calls detector_fail (once per fault episode or
 * failing window). detector_result_reset() forgets (new operation cycle).
 */
struct detector_result {
	const char *code;
	int last; /* -1 nothing sent yet, else enum dtc_result */
};

void detector_result_reset(struct detector_result *r, const char *code);
void detector_pass(struct detector *d, struct detector_result *r,
		   int64_t ts_ns);
void detector_fail(struct detector *d, struct detector_result *r, int64_t ts_ns,
		   enum dtc_severity severity, bool confirm_now);

/* "not since": a timer that is not running */
#define DETECTOR_NEVER INT64_MIN

static inline int64_t detector_s_to_ns(double s)
{
	return (int64_t)(s * 1e9);
}

/*
 * A condition timer: *since is when cond became true (DETECTOR_NEVER while
 * it is false). Returns whether cond has held for at least s seconds.
 * start_ns is the time of the evaluation that finds cond true (the frame
 * that made it true: the newest of its values), asof_ns the time the
 * condition is known to hold as of (detector_get_asof: the oldest of its
 * values). A condition on several values thus never starts before its
 * newest value was seen (the older ones were evaluated with other values
 * then), and a value seen once is never held longer than it was seen.
 */
static inline bool detector_hold(int64_t *since, bool cond, int64_t start_ns,
				 int64_t asof_ns, double s)
{
	if (!cond) {
		*since = DETECTOR_NEVER;
		return false;
	}
	if (*since == DETECTOR_NEVER)
		*since = start_ns;
	return asof_ns - *since >= detector_s_to_ns(s);
}
