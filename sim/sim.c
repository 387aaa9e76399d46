/* sim.c: dtcd-sim's main loop: model steps, frames, the log in time order */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "bus.h"
#include "sim.h"
#include "writer.h"

#define STEP_US 10000

struct sim {
	const struct scenario *sc;
	struct sim_options opt;
	struct model model;
	struct bus *bus;
	struct writer *writer;
	int64_t t0_us;
	bool done;
};

int sim_new(struct sim **ret, const struct scenario *sc,
	    const struct sim_options *opt)
{
	struct sim *s = calloc(1, sizeof(*s));
	uint64_t seed;
	int r;

	if (!s)
		return -ENOMEM;
	s->sc = sc;
	s->opt = *opt;
	seed = opt->seed_set ? opt->seed : sc->seed;
	model_init(&s->model, sc, seed);
	s->model.endless = opt->max_frames || opt->max_duration > 0;
	s->t0_us = llround(sc->start_time * 1e6);
	r = writer_new(&s->writer, opt->out, opt->truth, sc, seed);
	if (!r && opt->format != LOG_WRITER_CANDUMP)
		r = writer_set_format(s->writer, opt->format);
	if (!r)
		r = bus_new(&s->bus, sc, seed, s->writer, opt->poll);
	if (r) {
		sim_free(s);
		return r;
	}
	writer_set_limit(s->writer, opt->max_frames);
	*ret = s;
	return 0;
}

void sim_free(struct sim *s)
{
	if (!s)
		return;
	bus_free(s->bus);
	writer_free(s->writer);
	free(s);
}

static int64_t now_us(const struct sim *s)
{
	/* model time is a sum of steps: round to whole microseconds */
	return s->t0_us + llround(s->model.t * 1e6);
}

int sim_step(struct sim *s)
{
	struct model *m = &s->model;
	int64_t t;
	int r;

	if (s->done)
		return 0;
	if (m->phase == MODEL_ASLEEP) {
		r = writer_flush(s->writer, INT64_MAX);
		if (r)
			return r;
		bus_sleep(s->bus);
		model_sleep(m);
	}
	if (m->phase == MODEL_DONE || writer_full(s->writer) ||
	    (s->opt.max_duration > 0 && m->t >= s->opt.max_duration)) {
		s->done = true;
		return 0;
	}
	t = now_us(s);
	r = bus_step(s->bus, m, t);
	if (r)
		return r;
	model_step(m);
	/* a frame may come sample_jitter_us before its step's time */
	r = writer_flush(s->writer,
			 t + STEP_US - (int64_t)s->sc->sample_jitter_us);
	return r ? r : 1;
}

int sim_run(struct sim *s)
{
	int r;

	while ((r = sim_step(s)) > 0)
		;
	if (r < 0)
		return r;
	return writer_finish(s->writer);
}

const struct model *sim_model(const struct sim *s)
{
	return &s->model;
}

uint64_t sim_frames(const struct sim *s)
{
	return writer_frames(s->writer);
}

struct bus *sim_bus(struct sim *s)
{
	return s->bus;
}

struct writer *sim_writer(struct sim *s)
{
	return s->writer;
}
