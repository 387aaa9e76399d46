/* pipeline.c: the one path every frame takes, in replay and live alike */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "capsule.h"
#include "catalogue.h"
#include "cycle.h"
#include "decoder.h"
#include "detector.h"
#include "log.h"
#include "manager.h"
#include "pipeline.h"
#include "store.h"
#include "timebase.h"

#define SRCS_PER_SIGNAL 4

/* the last value written per signal and source, for --signals */
struct last_value {
	bool used;
	bool valid;
	uint32_t src;
	double value;
	char text[SIG_VIN_LEN + 1];
};

struct pipeline {
	const struct config *cfg;
	const struct profile *profile;
	bool signals_only;
	struct signal_table table;
	struct decoder *decoder;
	struct cycle cycle;
	struct detectors *detectors;
	struct dtc_manager *manager;
	struct dtc_store *store;
	struct capsule_recorder *capsules; /* NULL: no store, or disabled */
	struct catalogue *catalogue;
	struct output *outbox; /* the output sending from the outbox */
	struct output outputs[PIPELINE_MAX_OUTPUTS];
	size_t n_outputs;
	/* --signals, or an output takes every value (report) */
	bool signal_outputs;
	uint64_t listened; /* bit per signal id the detectors read */
	int64_t tick_ns;
	int64_t last_tick_ns;
	int64_t last_ts_ns; /* the clock at the last frame (timebase.h) */
	bool have_ts;
	struct timebase tb;
	unsigned long frames;
	struct last_value last[SIG__MAX][SRCS_PER_SIGNAL];
	/*
	 * signals of the frame being decoded, for the detectors after it
	 * (all at the frame's time: one frame ends at most one message)
	 */
	enum signal_id frame_ids[SIG__MAX];
	uint64_t frame_queued; /* bit per id in frame_ids */
	size_t n_frame_ids;
};

/* ---- outputs ---- */

static bool signal_changed(struct pipeline *p, enum signal_id id,
			   const struct signal_slot *s)
{
	struct last_value *l = p->last[id], *slot = NULL;

	for (size_t i = 0; i < SRCS_PER_SIGNAL; i++) {
		if (l[i].used && l[i].src == s->src) {
			slot = &l[i];
			break;
		}
		if (!l[i].used && !slot)
			slot = &l[i];
	}
	if (!slot)
		slot = &l[SRCS_PER_SIGNAL - 1]; /* more sources than we track */
	if (slot->used && slot->src == s->src && slot->valid == s->valid &&
	    (!s->valid ||
	     (signal_info(id)->is_text ? strcmp(slot->text, s->text) == 0 :
					 slot->value == s->value)))
		return false;
	*slot = (struct last_value){ .used = true,
				     .valid = s->valid,
				     .src = s->src,
				     .value = s->value };
	memcpy(slot->text, s->text, sizeof(slot->text));
	return true;
}

static const struct catalogue_entry *entry_of(struct pipeline *p,
					      const struct dtc_event *ev)
{
	if (p->catalogue && ev->type != DTC_EVENT_ECU &&
	    ev->type != DTC_EVENT_DROPPED)
		return catalogue_find(p->catalogue, ev->code);
	return NULL;
}

static char *encode(void *userdata, const struct dtc_event *ev)
{
	struct pipeline *p = userdata;

	return p->outbox->ops->outbox_payload(p->outbox->state, ev,
					      entry_of(p, ev));
}

static void on_event(void *userdata, const struct dtc_event *ev)
{
	struct pipeline *p = userdata;
	const struct catalogue_entry *e = entry_of(p, ev);

	for (size_t i = 0; i < p->n_outputs; i++)
		if (p->outputs[i].ops->event)
			p->outputs[i].ops->event(p->outputs[i].state, ev, e);
	if (p->capsules)
		capsule_recorder_event(p->capsules, ev);
}

/* ---- cycles, detectors, manager ---- */

/* out of line: rare, and inlined it costs on_signal registers per value */
static __attribute__((noinline)) void
cycle_changed(struct pipeline *p, int64_t ts_ns, enum cycle_change change)
{
	if (change == CYCLE_NONE)
		return;
	for (size_t i = 0; i < p->n_outputs; i++)
		if (p->outputs[i].ops->cycle)
			p->outputs[i].ops->cycle(
				p->outputs[i].state, ts_ns, change,
				change == CYCLE_ENDED &&
					cycle_last_was_warmup(&p->cycle));
	log_debug("operation cycle %s at %.6f",
		  change == CYCLE_STARTED ? "started" : "ended", ts_ns / 1e9);
	if (change == CYCLE_STARTED)
		dtc_manager_cycle_started(p->manager, ts_ns);
	else
		dtc_manager_cycle_ended(p->manager, ts_ns,
					cycle_last_was_warmup(&p->cycle));
	detectors_cycle_changed(p->detectors, ts_ns, change);
}

/* implausible or "no value" never drives a cycle */
static __attribute__((noinline)) void
cycle_value(struct pipeline *p, int64_t ts_ns, enum signal_id id,
	    const struct signal_slot *slot)
{
	enum cycle_change change;

	if (!slot->valid || !signal_plausible(id, slot->value))
		return;
	change = cycle_on_signal(&p->cycle, ts_ns, id, slot->value);
	if (change != CYCLE_NONE)
		cycle_changed(p, ts_ns, change);
}

/*
 * The part of each value without outputs, a leaf but for the cycle's tail
 * call: a torque value nobody reads costs a few instructions
 */
static inline void on_value(struct pipeline *p, int64_t ts_ns,
			    enum signal_id id, const struct signal_slot *slot)
{
	uint64_t bit = UINT64_C(1) << id;

	/*
	 * The detectors see a frame's values once all of it is decoded: one
	 * UDS answer carries a VANOS target and its actual angle, a pump's
	 * duty and speed; evaluated value by value, a new target would be
	 * compared with the previous answer's actual angle.
	 */
	if ((p->listened & bit) && !(p->frame_queued & bit)) {
		p->frame_queued |= bit;
		p->frame_ids[p->n_frame_ids++] = id;
	}
	if (CYCLE_SIGNALS & bit)
		cycle_value(p, ts_ns, id, slot);
}

/* with --signals, or an output that takes every value */
static __attribute__((noinline)) void signal_out(struct pipeline *p,
						 int64_t ts_ns,
						 enum signal_id id,
						 const struct signal_slot *slot)
{
	if (p->signals_only) {
		if (!signal_changed(p, id, slot))
			return;
		for (size_t i = 0; i < p->n_outputs; i++)
			if (p->outputs[i].ops->signal)
				p->outputs[i].ops->signal(p->outputs[i].state,
							  ts_ns, id, slot);
		return;
	}
	for (size_t i = 0; i < p->n_outputs; i++)
		if (p->outputs[i].ops->sample)
			p->outputs[i].ops->sample(p->outputs[i].state, ts_ns,
						  id, slot);
	on_value(p, ts_ns, id, slot);
}

static void on_signal(void *userdata, int64_t ts_ns, enum signal_id id,
		      const struct signal_slot *slot)
{
	struct pipeline *p = userdata;

	if (p->signal_outputs)
		signal_out(p, ts_ns, id, slot);
	else
		on_value(p, ts_ns, id, slot);
}

static void on_ecu_status(void *userdata, int64_t ts_ns, uint32_t ecu_id,
			  int mil_on, int dtc_count)
{
	struct pipeline *p = userdata;

	if (!p->signals_only)
		dtc_manager_ecu_status(p->manager, ts_ns, ecu_id, mil_on,
				       dtc_count);
}

static void on_ecu_codes(void *userdata, int64_t ts_ns, uint32_t ecu_id,
			 uint8_t service, const uint16_t *codes, size_t n)
{
	struct pipeline *p = userdata;

	if (!p->signals_only)
		dtc_manager_ecu_codes(p->manager, ts_ns, ecu_id, service, codes,
				      n);
}

static void on_warning(void *userdata, const char *what)
{
	log_warnx("%s", what);
}

static const struct decoder_ops decoder_ops = {
	.signal = on_signal,
	.ecu_status = on_ecu_status,
	.ecu_codes = on_ecu_codes,
	.warning = on_warning,
};

static void detector_inactive(void *userdata, const char *detector,
			      const char *signal)
{
	struct pipeline *p = userdata;

	log_warnx("detector %s is inactive: profile %s binds no %s", detector,
		  p->profile->name, signal);
}

static void on_store_error(void *userdata, const char *msg)
{
	log_warnx("store: %s", msg);
}

/* the detectors as the config's [detector.NAME] sections set them */
static int make_detectors(struct pipeline *p, struct detectors **ret,
			  char *errbuf, size_t errlen)
{
	const struct config *cfg = p->cfg;
	struct detector_env env = {
		.signals = &p->table,
		.cycle = &p->cycle,
		.sink = { .report = dtc_manager_sink_report,
			  .userdata = p->manager },
	};
	struct detectors *ds;
	int r;

	r = detectors_new(&ds, &env);
	if (r < 0) {
		snprintf(errbuf, errlen, "detectors: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < cfg->n_detector_keys; i++) {
		const struct config_detector_key *k = &cfg->detector_keys[i];
		struct conf_file f = { 0 };

		/* read with dtcd.conf, applied now: the error names its line */
		conf_file_init(&f, cfg->path);
		f.ini.line = f.ini.section_line = (int)k->line;
		r = detectors_configure(ds, k->detector, k->key, k->value, &f);
		if (r < 0) {
			snprintf(errbuf, errlen, "%s", f.err);
			detectors_free(ds);
			return r;
		}
	}
	detectors_check_profile(ds, p->profile->bound, detector_inactive, p);
	p->listened = detectors_signals(ds);
	*ret = ds;
	return 0;
}

static int setup_diagnosis(struct pipeline *p, char *errbuf, size_t errlen)
{
	const struct config *cfg = p->cfg;
	struct dtc_store_limits lim = {
		.max_events = cfg->mqtt_outbox_max_events,
		.max_bytes = (uint64_t)cfg->mqtt_outbox_max_mb << 20,
	};
	struct timespec now;
	char path[4096];
	int r;

	for (size_t i = 0; i < p->n_outputs && !p->outbox; i++)
		if (p->outputs[i].ops->outbox_payload)
			p->outbox = &p->outputs[i];
	/* the directory: the catalogue picks actions.LANG.ini itself */
	r = catalogue_load(&p->catalogue, cfg->etc_dir, cfg->lang, errbuf,
			   errlen);
	if (r < 0)
		return r;
	if (cfg->state_dir) {
		/* "--state ~/car" on the first day: make the directory */
		if (mkdir(cfg->state_dir, 0750) < 0 && errno != EEXIST) {
			r = -errno;
			snprintf(errbuf, errlen, "%s: %s", cfg->state_dir,
				 strerror(-r));
			return r;
		}
	}
	/* without --state an outbox still needs a store: one in memory */
	if (cfg->state_dir || p->outbox) {
		r = dtc_store_open(&p->store, cfg->state_dir, errbuf, errlen);
		if (r < 0)
			return r;
	}
	/* in memory (no --state) capsules would only cost RAM */
	if (p->store && cfg->state_dir && cfg->capsule) {
		struct capsule_limits cl = {
			.before_ns = cfg->capsule_before_ns,
			.after_ns = cfg->capsule_after_ns,
			.ring_bytes = (size_t)cfg->capsule_ring_kb << 10,
			.capsule_bytes = (size_t)cfg->capsule_max_kb << 10,
			.store_bytes = (uint64_t)cfg->capsule_store_mb << 20,
		};

		r = capsule_recorder_new(&p->capsules, p->store, &cl,
					 on_store_error, p);
		if (r < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/dtc.ini", cfg->etc_dir);
	r = dtc_manager_new(&p->manager, path, p->store, on_event, p, errbuf,
			    errlen);
	if (r < 0)
		return r;
	dtc_manager_set_error_handler(p->manager, on_store_error, p);
	dtc_manager_set_signals(p->manager, &p->table);
	dtc_manager_set_queue_max(p->manager, cfg->store_queue_max_events);
	/* a store without event ids yet: they start at the wall clock's
	 * microseconds, above any id an earlier store or run gave */
	clock_gettime(CLOCK_REALTIME, &now);
	dtc_manager_seed_event_id(p->manager,
				  (uint64_t)now.tv_sec * 1000000 +
					  (uint64_t)now.tv_nsec / 1000);
	if (p->outbox) {
		dtc_manager_set_outbox(p->manager, encode, p, &lim);
		p->outbox->ops->outbox_attach(p->outbox->state, p->store);
	}
	return make_detectors(p, &p->detectors, errbuf, errlen);
}

/* what the outputs read of the pipeline, handed over once: no output
 * calls back into the pipeline */
static void attach_outputs(struct pipeline *p)
{
	const struct output_env env = {
		.manager = p->manager,
		.catalogue = p->catalogue,
		.detectors = p->detectors,
		.signals = &p->table,
		.profile_name = p->profile->name,
		.frame_ns = &p->last_ts_ns,
		.tick_ns = &p->last_tick_ns,
		.frames = &p->frames,
	};

	for (size_t i = 0; i < p->n_outputs; i++)
		if (p->outputs[i].ops->attach)
			p->outputs[i].ops->attach(p->outputs[i].state, &env);
}

int pipeline_new(struct pipeline **ret, struct pipeline_options *opts,
		 char *errbuf, size_t errlen)
{
	struct pipeline *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = opts->cfg;
	p->profile = opts->profile;
	p->signals_only = opts->signals_only;
	p->tick_ns = (int64_t)opts->cfg->tick_ms * 1000000;
	memcpy(p->outputs, opts->outputs, sizeof(p->outputs));
	p->n_outputs = opts->n_outputs;
	opts->n_outputs = 0;
	p->signal_outputs = p->signals_only;
	for (size_t i = 0; i < p->n_outputs; i++)
		p->signal_outputs |= p->outputs[i].ops->sample != NULL;
	signal_table_init(&p->table);
	timebase_init(&p->tb);
	cycle_init(&p->cycle, NULL);
	r = decoder_new(&p->decoder, p->profile, &p->table, &decoder_ops, p,
			errbuf, errlen);
	if (r == 0 && !p->signals_only)
		r = setup_diagnosis(p, errbuf, errlen);
	if (r < 0) {
		pipeline_free(p);
		return r;
	}
	attach_outputs(p);
	*ret = p;
	return 0;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_outputs; i++) {
		if (p->outputs[i].ops->flush)
			p->outputs[i].ops->flush(p->outputs[i].state);
		output_free(&p->outputs[i]);
	}
	detectors_free(p->detectors);
	dtc_manager_free(p->manager);
	capsule_recorder_free(p->capsules);
	dtc_store_close(p->store);
	catalogue_free(p->catalogue);
	decoder_free(p->decoder);
	free(p);
}

void pipeline_tick(struct pipeline *p, int64_t now_ns)
{
	p->last_tick_ns = now_ns;
	if (p->signals_only)
		return;
	cycle_changed(p, now_ns, cycle_on_tick(&p->cycle, now_ns));
	detectors_on_tick(p->detectors, now_ns);
	dtc_manager_on_tick(p->manager, now_ns);
}

/* a few lines per log, not one per jump of a log full of them */
#define TIME_WARNINGS 5

static __attribute__((noinline)) void
time_jumped(struct pipeline *p, enum timebase_event ev, int64_t now)
{
	if (p->tb.jumps > TIME_WARNINGS)
		return;
	if (ev == TIMEBASE_GAP)
		log_debug(
			"frame time: the bus was quiet for %.3f s, up to %.6f",
			p->tb.jump_ns / 1e9, now / 1e9);
	else
		log_warnx(
			"frame time jumps by %+.3f s at %.6f: a new time base, "
			"dtcd's clock goes on from %.6f%s",
			p->tb.jump_ns / 1e9, (now - p->tb.offset) / 1e9,
			now / 1e9,
			p->tb.jumps == TIME_WARNINGS ?
				" (further jumps not reported)" :
				"");
}

void pipeline_feed(struct pipeline *p, const struct frame *f)
{
	/*
	 * Time-driven checks run at the frame time of the first frame after
	 * each tick interval: a replay at full speed and a live run of the
	 * same frames see the same times.
	 */
	struct frame mapped;
	enum timebase_event ev;
	int64_t ts = timebase_map(&p->tb, f->ts_ns, &ev);

	if (ts != f->ts_ns) {
		/* every part downstream sees the daemon's clock */
		mapped = *f;
		mapped.ts_ns = ts;
		f = &mapped;
	}
	if (ev >= TIMEBASE_GAP)
		time_jumped(p, ev, f->ts_ns);
	if (!p->have_ts) {
		p->have_ts = true;
		p->last_tick_ns = f->ts_ns;
	} else if (timebase_sub(f->ts_ns, p->last_tick_ns) >= p->tick_ns) {
		pipeline_tick(p, f->ts_ns);
	} else if (f->ts_ns < p->last_tick_ns &&
		   timebase_sub(p->last_tick_ns, f->ts_ns) > TIMEBASE_BACK_NS) {
		/* a new time base behind the last tick: tick from here on */
		p->last_tick_ns = f->ts_ns;
	}
	p->last_ts_ns = f->ts_ns;
	p->frames++;
	/* before decoding: the frame that sets a DTC is in its capsule */
	if (p->capsules)
		capsule_recorder_frame(p->capsules, f);
	decoder_feed(p->decoder, f);
	if (p->n_frame_ids) {
		detectors_on_frame(p->detectors, f->ts_ns, p->frame_ids,
				   p->n_frame_ids);
		p->n_frame_ids = 0;
		p->frame_queued = 0;
	}
}

void pipeline_finish(struct pipeline *p)
{
	if (p->tb.outliers)
		log_warnx("%lu frame%s with a time far off the others: their "
			  "time ignored",
			  p->tb.outliers, p->tb.outliers == 1 ? "" : "s");
	if (!p->signals_only && p->have_ts) {
		pipeline_tick(p, p->last_ts_ns);
		/* dtcd stops watching: for it the operation cycle ends here */
		cycle_changed(p, p->last_ts_ns,
			      cycle_end(&p->cycle, p->last_ts_ns));
	}
	if (p->capsules)
		capsule_recorder_finish(p->capsules);
	pipeline_flush(p);
}

void pipeline_flush(struct pipeline *p)
{
	for (size_t i = 0; i < p->n_outputs; i++)
		if (p->outputs[i].ops->flush)
			p->outputs[i].ops->flush(p->outputs[i].state);
}

bool pipeline_store_failing(const struct pipeline *p)
{
	return dtc_manager_store_failing(p->manager);
}

size_t pipeline_store_waiting(const struct pipeline *p)
{
	return dtc_manager_waiting(p->manager);
}

int pipeline_store_retry(struct pipeline *p)
{
	return p->manager ? dtc_manager_retry(p->manager) : 0;
}

int pipeline_clear(struct pipeline *p, int64_t ts_ns, const char *code)
{
	if (!p->manager)
		return -EOPNOTSUPP;
	return dtc_manager_clear(p->manager, ts_ns, code);
}

/* ---- accessors for the control socket ---- */

const struct dtc_manager *pipeline_manager(const struct pipeline *p)
{
	return p->manager;
}

const struct catalogue *pipeline_catalogue(const struct pipeline *p)
{
	return p->catalogue;
}

const struct signal_table *pipeline_signals(const struct pipeline *p)
{
	return &p->table;
}

int64_t pipeline_now(const struct pipeline *p)
{
	if (!p->have_ts)
		return 0;
	return p->last_ts_ns > p->last_tick_ns ? p->last_ts_ns :
						 p->last_tick_ns;
}

int64_t pipeline_frame_time(const struct pipeline *p)
{
	return p->last_ts_ns;
}

unsigned long pipeline_frames(const struct pipeline *p)
{
	return p->frames;
}

bool pipeline_detector_active(const struct pipeline *p, const char *name)
{
	return p->detectors && detectors_is_active(p->detectors, name);
}

const char *pipeline_profile_name(const struct pipeline *p)
{
	return p->profile->name;
}

bool pipeline_engine_running(const struct pipeline *p)
{
	return cycle_engine_running(&p->cycle);
}

const struct decoder *pipeline_decoder(const struct pipeline *p)
{
	return p->decoder;
}

int pipeline_reload(struct pipeline *p, char *errbuf, size_t errlen)
{
	struct decoder *d = NULL;
	struct detectors *ds = NULL;
	int r;

	r = decoder_new(&d, p->profile, &p->table, &decoder_ops, p, errbuf,
			errlen);
	if (r == 0 && !p->signals_only)
		r = make_detectors(p, &ds, errbuf, errlen);
	if (r < 0) {
		decoder_free(d);
		return r;
	}
	decoder_free(p->decoder);
	p->decoder = d;
	if (!p->signals_only) {
		/* the detectors start anew; what they found is the
		 * manager's, which stays */
		detectors_free(p->detectors);
		p->detectors = ds;
	}
	p->tick_ns = (int64_t)p->cfg->tick_ms * 1000000;
	return 0;
}

const struct profile *pipeline_profile(const struct pipeline *p)
{
	return p->profile;
}

struct dtc_store *pipeline_store(const struct pipeline *p)
{
	return p->store;
}

bool pipeline_capsule_recording(const struct pipeline *p, const char *code)
{
	return p->capsules && capsule_recorder_recording(p->capsules, code);
}
