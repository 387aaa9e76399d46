/* detector.c: the detector registry, the set the daemon drives, helpers */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "macro.h"

/*
 * The registry: one line per detector here and one in the table below. The
 * order is the order of detectors_name(), of the docs and of the sample
 * dtcd.conf; the tests read the names from here (detectors_name()).
 */
extern const struct detector_ops det_misfire_ops;
extern const struct detector_ops det_vanos_ops;
extern const struct detector_ops det_fuel_heater_ops;
extern const struct detector_ops det_turbo_pump_ops;
extern const struct detector_ops det_egr_ops;

static const struct detector_ops *const registry[] = {
	&det_misfire_ops,    &det_vanos_ops, &det_fuel_heater_ops,
	&det_turbo_pump_ops, &det_egr_ops,
};

#define N_DETECTORS ARRAY_SIZE(registry)

struct detectors {
	struct detector_env env; /* a copy: the caller's may be temporary */
	struct detector *det[N_DETECTORS];
	uint64_t listens[N_DETECTORS]; /* bit per signal id */
	/* the other way round, for the dispatch of each value: bit per
	 * detector index */
	uint32_t listeners[SIG__MAX];
	/* bit per detector enabled and active (runs()), kept with them */
	uint32_t running;
	/* the keys of [detector.NAME]: enabled, max_age_s, the params */
	struct conf_key *keys[N_DETECTORS];
};

_Static_assert(SIG__MAX <= 64, "listens[] holds one bit per signal");
_Static_assert(N_DETECTORS <= 32, "listeners[] holds one bit per detector");

size_t detectors_count(void)
{
	return N_DETECTORS;
}

const char *detectors_name(size_t i)
{
	return i < N_DETECTORS ? registry[i]->name : NULL;
}

const struct detector_ops *detectors_ops(size_t i)
{
	return i < N_DETECTORS ? registry[i] : NULL;
}

/* the detector's own struct, which holds det at ops->base */
static void *state_of(struct detector *det)
{
	return (char *)det - det->ops->base;
}

static double *param_ptr(struct detector *det, const struct detector_param *p)
{
	return (double *)((char *)state_of(det) + p->offset);
}

static bool runs(const struct detector *det)
{
	return det && det->enabled && det->active;
}

static void update_running(struct detectors *d)
{
	d->running = 0;
	for (size_t i = 0; i < N_DETECTORS; i++)
		if (runs(d->det[i]))
			d->running |= UINT32_C(1) << i;
}

void detectors_free(struct detectors *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < N_DETECTORS; i++) {
		struct detector *det = d->det[i];

		if (!det)
			continue;
		if (det->ops->teardown)
			det->ops->teardown(det);
		free(state_of(det));
	}
	for (size_t i = 0; i < N_DETECTORS; i++)
		free(d->keys[i]);
	free(d);
}

/* the key table of a detector's section, NULL-terminated */
static struct conf_key *keys_new(const struct detector_ops *ops)
{
	struct conf_key *k = calloc(ops->n_params + 3, sizeof(*k));

	if (!k)
		return NULL;
	k[0] = (struct conf_key){ "enabled", CONF_BOOL,
				  CONF_FIELD(struct detector, enabled) };
	k[1] = (struct conf_key){ "max_age_s", CONF_DOUBLE,
				  CONF_FIELD(struct detector, max_age_s),
				  .min = 0.01, .max = 3600 };
	for (size_t i = 0; i < ops->n_params; i++) {
		const struct detector_param *p = &ops->params[i];

		k[i + 2] = (struct conf_key){
			.key = p->key,
			.kind = CONF_DOUBLE,
			.offset = p->offset,
			.size = sizeof(double),
			.min = p->min,
			.max = p->max,
			.flags = p->integer ? CONF_WHOLE : 0,
		};
	}
	return k;
}

int detectors_new(struct detectors **ret, const struct detector_env *env)
{
	struct detectors *d;
	int r;

	if (!ret || !env || !env->signals || !env->cycle)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->env = *env;
	for (size_t i = 0; i < N_DETECTORS; i++) {
		const struct detector_ops *ops = registry[i];
		char *state = calloc(1, ops->size);
		struct detector *det = (struct detector *)(state + ops->base);

		if (!state) {
			detectors_free(d);
			return -ENOMEM;
		}
		d->det[i] = det;
		d->keys[i] = keys_new(ops);
		if (!d->keys[i]) {
			detectors_free(d);
			return -ENOMEM;
		}
		det->ops = ops;
		det->env = &d->env;
		det->enabled = true;
		det->active = true;
		det->max_age_s = ops->max_age_s;
		det->max_age_ns = detector_s_to_ns(det->max_age_s);
		for (size_t k = 0; k < ops->n_params; k++)
			*param_ptr(det, &ops->params[k]) = ops->params[k].def;
		for (size_t k = 0; k < ops->n_signals; k++) {
			d->listens[i] |= UINT64_C(1) << ops->signals[k].id;
			d->listeners[ops->signals[k].id] |= UINT32_C(1) << i;
		}
		r = ops->init ? ops->init(det) : 0;
		if (r < 0) {
			/* no teardown for a detector whose init failed */
			free(state);
			d->det[i] = NULL;
			detectors_free(d);
			return r;
		}
	}
	update_running(d);
	*ret = d;
	return 0;
}

static int find_index(const char *name)
{
	for (size_t i = 0; i < N_DETECTORS; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return (int)i;
	return -ENOENT;
}

static struct detector *find(const struct detectors *d, const char *name)
{
	int i = find_index(name);

	return i < 0 ? NULL : d->det[i];
}

const struct conf_key *detectors_keys(const struct detectors *d,
				      const char *detector)
{
	int i = find_index(detector);

	return d && i >= 0 ? d->keys[i] : NULL;
}

bool detectors_is_active(const struct detectors *d, const char *detector)
{
	const struct detector *det = find(d, detector);

	return det && det->enabled && det->active;
}

int detectors_configure(struct detectors *d, const char *detector,
			const char *key, const char *value, struct conf_file *f)
{
	struct conf_file scratch = { 0 };
	char section[64], names[256];
	const char *list[N_DETECTORS + 1];
	int i, r;

	if (!d || !detector || !key || !value)
		return -EINVAL;
	if (!f) {
		conf_file_init(&scratch, "(detectors)");
		f = &scratch;
	}
	snprintf(section, sizeof(section), "detector.%s", detector);
	i = find_index(detector);
	if (i < 0) {
		for (size_t k = 0; k < N_DETECTORS; k++)
			list[k] = registry[k]->name;
		list[N_DETECTORS] = NULL;
		conf_names_join(list, names, sizeof(names));
		conf_fail(f,
			  "unknown section [%s] (expected detector.NAME with "
			  "NAME %s)",
			  section, names);
		return -ENOENT;
	}
	r = conf_apply(f, section, d->keys[i], d->det[i], key, value);
	d->det[i]->max_age_ns = detector_s_to_ns(d->det[i]->max_age_s);
	update_running(d);
	return r < 0 ? r : 0;
}

void detectors_check_profile(struct detectors *d, const bool bound[SIG__MAX],
			     void (*inactive)(void *ud, const char *detector,
					      const char *signal),
			     void *ud)
{
	for (size_t i = 0; i < N_DETECTORS; i++) {
		struct detector *det = d->det[i];
		const struct detector_ops *ops = det->ops;

		det->active = true;
		for (size_t k = 0; k < ops->n_signals; k++) {
			enum signal_id id = ops->signals[k].id;

			if (ops->signals[k].optional || bound[id])
				continue;
			if (ops->needs && !ops->needs(det, id))
				continue;
			det->active = false;
			if (det->enabled && inactive)
				inactive(ud, ops->name, signal_name(id));
		}
	}
	update_running(d);
}

void detectors_on_signal(struct detectors *d, int64_t ts_ns, enum signal_id id)
{
	uint32_t todo;

	if (id < 0 || id >= SIG__MAX)
		return;
	/* once per value: only the detectors listening to it, in order */
	for (todo = d->listeners[id] & d->running; todo; todo &= todo - 1) {
		struct detector *det = d->det[__builtin_ctz(todo)];

		det->ops->on_signal(det, ts_ns, id);
	}
}

void detectors_on_frame(struct detectors *d, int64_t ts_ns,
			const enum signal_id *ids, size_t n)
{
	/* the detectors still to call for this frame */
	uint32_t open = d->running;

	for (size_t i = 0; i < n; i++) {
		uint32_t todo;

		if (ids[i] < 0 || ids[i] >= SIG__MAX)
			continue;
		for (todo = d->listeners[ids[i]] & open; todo;
		     todo &= todo - 1) {
			unsigned k = (unsigned)__builtin_ctz(todo);
			struct detector *det = d->det[k];

			if (det->ops->reads_all)
				open &= ~(UINT32_C(1) << k);
			det->ops->on_signal(det, ts_ns, ids[i]);
		}
	}
}

uint64_t detectors_signals(const struct detectors *d)
{
	uint64_t all = 0;

	for (size_t i = 0; i < N_DETECTORS; i++)
		all |= d->listens[i];
	return all;
}

void detectors_on_tick(struct detectors *d, int64_t now_ns)
{
	for (size_t i = 0; i < N_DETECTORS; i++)
		if (runs(d->det[i]) && d->det[i]->ops->on_tick)
			d->det[i]->ops->on_tick(d->det[i], now_ns);
}

void detectors_cycle_changed(struct detectors *d, int64_t ts_ns,
			     enum cycle_change change)
{
	if (change == CYCLE_NONE)
		return;
	for (size_t i = 0; i < N_DETECTORS; i++)
		if (runs(d->det[i]) && d->det[i]->ops->on_cycle)
			d->det[i]->ops->on_cycle(d->det[i], ts_ns, change);
}

bool detector_get(const struct detector *d, enum signal_id id, int64_t now_ns,
		  double *ret_value)
{
	const struct signal_slot *s;

	/* signal_table_get(), !signal_at_rail() with one look at each */
	if (id < 0 || id >= SIG__MAX)
		return false;
	s = &d->env->signals->slot[id];
	if (!s->valid)
		return false;
	if (d->max_age_ns > 0 && now_ns - s->ts_ns > d->max_age_ns)
		return false;
	/* a value from the future (out-of-order frames) is not "fresh" */
	if (s->ts_ns > now_ns)
		return false;
	/* implausible, or an open or shorted sensor: no measurement */
	if (!signal_usable(id, s->value))
		return false;
	*ret_value = s->value;
	return true;
}

bool detector_get_asof(const struct detector *d, enum signal_id id,
		       int64_t now_ns, double *ret_value, int64_t *asof_ns)
{
	int64_t ts = d->env->signals->slot[id].ts_ns;

	if (!detector_get(d, id, now_ns, ret_value))
		return false;
	if (ts < *asof_ns)
		*asof_ns = ts;
	return true;
}

bool detector_engine_running(const struct detector *d)
{
	return cycle_engine_running(d->env->cycle);
}

void detector_result_reset(struct detector_result *r, const char *code)
{
	r->code = code;
	r->last = -1;
}

static void send(struct detector *d, struct detector_result *r, int64_t ts_ns,
		 enum dtc_result result, enum dtc_severity severity,
		 bool confirm_now)
{
	struct dtc_report rep = {
		.code = r->code,
		.detector = d->ops->name,
		.result = result,
		.severity = severity,
		.confirm_now = confirm_now,
	};

	r->last = (int)result;
	dtc_sink_report(&d->env->sink, ts_ns, &rep);
}

void detector_pass(struct detector *d, struct detector_result *r, int64_t ts_ns)
{
	if (r->last != DTC_RESULT_PASSED)
		send(d, r, ts_ns, DTC_RESULT_PASSED, DTC_SEVERITY_DEFAULT,
		     false);
}

void detector_fail(struct detector *d, struct detector_result *r, int64_t ts_ns,
		   enum dtc_severity severity, bool confirm_now)
{
	send(d, r, ts_ns, DTC_RESULT_FAILED, severity, confirm_now);
}
