/* scenario.c: reading dtcd-sim scenario files (INI, conf/) */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "scenario.h"

#define MAX_OVERRIDES 256

static const char *const profile_names[] = {
	[SCENARIO_PROFILE_IDLE] = "idle",
	[SCENARIO_PROFILE_CITY] = "city",
	[SCENARIO_PROFILE_HIGHWAY] = "highway",
	[SCENARIO_PROFILE_MIXED] = "mixed",
	[SCENARIO_PROFILE_HILL] = "hill",
	NULL,
};

static const char *const fault_names[SCENARIO_FAULT__MAX + 1] = {
	[SCENARIO_FAULT_MISFIRE] = "misfire",
	[SCENARIO_FAULT_COIL] = "coil",
	[SCENARIO_FAULT_VANOS] = "vanos",
	[SCENARIO_FAULT_FUEL_HEATER] = "fuel_heater",
	[SCENARIO_FAULT_TURBO_PUMP_DEAD] = "turbo_pump_dead",
	[SCENARIO_FAULT_TURBO_PUMP_WEAK] = "turbo_pump_weak",
	[SCENARIO_FAULT_EGR_LEAK] = "egr_leak",
	[SCENARIO_FAULT_EGR_COMBUSTION] = "egr_combustion",
};

static const char *const camshaft_names[] = { "intake", "exhaust", NULL };

static int parse_iface(const char *value, void *field)
{
	if (!*value || strlen(value) >= sizeof(((struct scenario *)0)->iface) ||
	    strpbrk(value, " \t()#"))
		return -EINVAL;
	strcpy(field, value);
	return 0;
}

/* "P0303" -> the two bytes of SAE J2012 */
static int parse_dtc(const char *s, uint16_t *ret)
{
	static const char letters[] = "PCBU";
	const char *l;
	uint64_t rest;

	if (strlen(s) != 5 ||
	    !(l = strchr(letters, toupper((unsigned char)s[0]))) || !*l ||
	    s[1] < '0' || s[1] > '3' || !isxdigit((unsigned char)s[2]) ||
	    conf_parse_hex(s + 2, 0xFFF, &rest) < 0)
		return -EINVAL;
	*ret = (uint16_t)(((l - letters) << 14) | ((s[1] - '0') << 12) | rest);
	return 0;
}

/* A comma-separated list of at most max items into out[], *n the count */
static int parse_list(const char *value, uint16_t *out, unsigned max,
		      unsigned *n, int (*each)(const char *item, uint16_t *ret))
{
	char buf[256], *save = NULL, *tok;
	unsigned k = 0;

	if (strlen(value) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, value);
	for (tok = strtok_r(buf, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (k == max || each(tok, &out[k]) < 0)
			return -EINVAL;
		k++;
	}
	*n = k;
	return 0;
}

static int parse_did(const char *item, uint16_t *ret)
{
	uint64_t v;
	int r = conf_parse_hex(item, 0xFFFF, &v);

	if (r == 0)
		*ret = (uint16_t)v;
	return r;
}

/* field: the whole struct scenario (offset 0) */
static int parse_dids(const char *value, void *field)
{
	struct scenario *sc = field;

	return parse_list(value, sc->unknown_did, SCENARIO_MAX_DIDS,
			  &sc->n_unknown_dids, parse_did);
}

static int parse_dtcs(const char *value, void *field)
{
	struct scenario *sc = field;

	return parse_list(value, sc->ecu_dtc, SCENARIO_MAX_DTCS,
			  &sc->n_ecu_dtcs, parse_dtc);
}

#define KEY(type, name, kind, ...)                               \
	{                                                        \
#name, kind, CONF_FIELD(type, name), __VA_ARGS__ \
	}
#define NUM(type, name, lo, hi) \
	KEY(type, name, CONF_DOUBLE, .min = lo, .max = hi)
#define CYC(name, lo, hi) NUM(struct scenario_cycle, name, lo, hi)
#define FLT(name, lo, hi) NUM(struct scenario_fault, name, lo, hi)
#define SIM(name, kind, ...) KEY(struct scenario, name, kind, __VA_ARGS__)

static const struct conf_key cycle_keys[] = {
	CYC(key_s, 0, 3600),
	CYC(ignition_s, 0, 3600),
	CYC(crank_s, 0.2, 10),
	CYC(idle_s, 0, 86400),
	KEY(struct scenario_cycle, profile, CONF_ENUM, .names = profile_names),
	CYC(drive_s, 0, 86400 * 7),
	CYC(idle_end_s, 0, 86400),
	CYC(ign_after_s, 0, 3600),
	CYC(awake_s, 0, 86400),
	CYC(park_s, 0, 86400 * 365),
	CYC(ambient_c, -40, 50),
	{},
};

enum { FAULT_KEY_TYPE };

static const struct conf_key fault_keys[] = {
	[FAULT_KEY_TYPE] = KEY(struct scenario_fault, type, CONF_ENUM,
			       .names = fault_names),
	KEY(struct scenario_fault, cylinder, CONF_SIGNED, .min = 1, .max = 6),
	{ "camshaft", CONF_ENUM, CONF_FIELD(struct scenario_fault, exhaust),
	  .names = camshaft_names },
	FLT(start_s, 0, 1e9),
	KEY(struct scenario_fault, start_cycle, CONF_UNSIGNED, .min = 1,
	    .max = 1000000),
	FLT(end_s, 0, 1e9),
	KEY(struct scenario_fault, end_cycle, CONF_UNSIGNED, .min = 1,
	    .max = 1000000),
	FLT(rate, 0, 1),
	FLT(burst_s, 0.01, 86400),
	FLT(gap_s, 0.01, 86400),
	FLT(min_load, 0, 1),
	FLT(growth_deg_s, 0, 100),
	FLT(max_deg, 0, 60),
	FLT(emergency_deg, 0, 60),
	FLT(current_a, 0, 50),
	FLT(efficiency, 0, 1),
	FLT(loss_l_h, 0, 100),
	FLT(low_after_l, 0, 20),
	FLT(peak_c, 100, 1000),
	FLT(rise_s, 0.1, 10),
	FLT(repeat_s, 0, 1e9),
	{},
};

static const struct conf_key sim_keys[] = {
	SIM(seed, CONF_UNSIGNED),
	SIM(start_time, CONF_DOUBLE, .min = 0, .max = 4e9),
	SIM(vin, CONF_CHARS, .min = 17, .max = 17),
	{ "interface", CONF_CUSTOM, CONF_FIELD(struct scenario, iface),
	  .parse = parse_iface, .expect = "an interface name like can0" },
	SIM(cycles, CONF_UNSIGNED, .min = 1, .max = 1000000),
	{},
};

static const struct conf_key bus_keys[] = {
	/* more jitter would reorder the frames of one ISO-TP transfer */
	SIM(jitter_us, CONF_UNSIGNED, .min = 0, .max = 400),
	/*
	 * Whole messages move, so ISO-TP stays whole; half the 100 Hz period
	 * at most, so no two frames of one ID swap
	 */
	SIM(sample_jitter_us, CONF_UNSIGNED, .min = 0, .max = 5000),
	SIM(jitter_seed, CONF_UNSIGNED),
	SIM(drop_rate, CONF_DOUBLE, .min = 0, .max = 0.5),
	SIM(other_ecus, CONF_BOOL),
	SIM(malformed_lines, CONF_UNSIGNED, .min = 0, .max = 1000000),
	SIM(malformed_every, CONF_UNSIGNED, .min = 1, .max = 100000000),
	{},
};

static const struct conf_key tester_keys[] = {
	SIM(obd, CONF_BOOL),
	SIM(uds, CONF_BOOL),
	SIM(obd_interval_ms, CONF_UNSIGNED, .min = 20, .max = 60000),
	SIM(poll_profile, CONF_CHARS, .min = 1, .max = 255),
	{ "unknown_dids", CONF_CUSTOM, .parse = parse_dids,
	  .expect = "DIDs in hex, e.g. 5A50, F190" },
	SIM(uds_padding, CONF_UNSIGNED),
	SIM(obd_padding, CONF_UNSIGNED),
	SIM(ecu_mil, CONF_BOOL),
	{ "ecu_dtcs", CONF_CUSTOM, .parse = parse_dtcs,
	  .expect = "DTC codes, e.g. P0303, U0100" },
	{},
};

static const struct conf_section sections[] = {
	{ "sim", sim_keys },
	{ "bus", bus_keys },
	{ "tester", tester_keys },
	{ "drive", cycle_keys },
	{},
};

/* A [cycle N] key, applied once the number of cycles and [drive] are known */
struct override {
	unsigned cycle;
	int line;
	const char *key; /* in cycle_keys */
	char value[64];
};

struct parse {
	struct scenario *sc;
	struct conf_file f; /* the file, the line inih reads, the errors */
	struct scenario_fault *fault; /* current [fault NAME] or NULL */
	bool fault_has_type;
	bool skip_section; /* its header was an error: its keys are not */
	char section[64];  /* the last section seen */
	struct override *ov;
	unsigned n_ov;
};

static void fault_defaults(struct scenario_fault *f)
{
	/* NAN = not given in the file */
	const double d[][2] = {
		{ offsetof(struct scenario_fault, rate), 0.05 },
		{ offsetof(struct scenario_fault, burst_s), 3 },
		{ offsetof(struct scenario_fault, gap_s), 20 },
		{ offsetof(struct scenario_fault, min_load), 0.3 },
		{ offsetof(struct scenario_fault, growth_deg_s), 0.05 },
		{ offsetof(struct scenario_fault, max_deg), 25 },
		{ offsetof(struct scenario_fault, emergency_deg), 18 },
		{ offsetof(struct scenario_fault, current_a), 11 },
		{ offsetof(struct scenario_fault, loss_l_h), 2 },
		{ offsetof(struct scenario_fault, low_after_l), 0.5 },
		{ offsetof(struct scenario_fault, peak_c), 450 },
		{ offsetof(struct scenario_fault, rise_s), 1 },
	};

	for (size_t i = 0; i < sizeof(d) / sizeof(*d); i++) {
		double *v = (double *)((char *)f + (size_t)d[i][0]);

		if (isnan(*v))
			*v = d[i][1];
	}
	if (isnan(f->efficiency))
		f->efficiency = f->type == SCENARIO_FAULT_EGR_LEAK ? 0.25 : 0.3;
	if (f->type == SCENARIO_FAULT_COIL && isnan(f->rate))
		f->rate = 0.3;
	if (isnan(f->rate))
		f->rate = 0.05;
}

static void fault_begin(struct parse *p, const char *section)
{
	struct scenario *sc = p->sc;
	struct scenario_fault *f;

	if (sc->n_faults >= SCENARIO_MAX_FAULTS) {
		conf_fail_at(&p->f, p->f.ini.section_line,
			     "too many faults (at most %d)",
			     SCENARIO_MAX_FAULTS);
		p->skip_section = true;
		return;
	}
	f = &sc->fault[sc->n_faults++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", section);
	f->line = (unsigned)p->f.ini.section_line;
	f->start_cycle = 1;
	f->cylinder = 0;
	f->rate = f->burst_s = f->gap_s = f->min_load = NAN;
	f->growth_deg_s = f->max_deg = f->emergency_deg = NAN;
	f->current_a = f->efficiency = f->loss_l_h = f->low_after_l = NAN;
	f->peak_c = f->rise_s = NAN;
	p->fault = f;
	p->fault_has_type = false;
}

static void fault_end(struct parse *p)
{
	struct scenario_fault *f = p->fault;
	char names[256];
	int line;

	if (!f)
		return;
	p->fault = NULL;
	line = (int)f->line;
	if (!p->fault_has_type) {
		conf_names_join(fault_names, names, sizeof(names));
		conf_fail_at(&p->f, line, "[%s]: no type = (expected %s)",
			     f->name, names);
		return;
	}
	if ((f->type == SCENARIO_FAULT_MISFIRE ||
	     f->type == SCENARIO_FAULT_COIL) &&
	    !f->cylinder)
		conf_fail_at(&p->f, line, "[%s]: %s needs cylinder = 1..6",
			     f->name, fault_names[f->type]);
	fault_defaults(f);
	if (f->end_cycle && f->end_cycle < f->start_cycle)
		conf_fail_at(&p->f, line,
			     "[%s]: end_cycle %u before start_cycle %u",
			     f->name, f->end_cycle, f->start_cycle);
	if (f->end_s > 0 && f->end_s <= f->start_s)
		conf_fail_at(&p->f, line, "[%s]: end_s must be after start_s",
			     f->name);
}

static void cycle_key(struct parse *p, const char *section, const char *name,
		      const char *value)
{
	struct scenario_cycle scratch = p->sc->cycle[0];
	struct override *o;
	uint64_t n;

	if (conf_parse_unsigned(section + 6, 1, 1000000, &n) < 0) {
		conf_fail_at(&p->f, p->f.ini.section_line,
			     "[%s]: expected [cycle N] with N from 1", section);
		p->skip_section = true;
		return;
	}
	/* checked now, applied once the cycles are known */
	if (conf_apply(&p->f, section, cycle_keys, &scratch, name, value) < 0)
		return;
	if (p->n_ov >= MAX_OVERRIDES) {
		conf_fail(&p->f, "too many [cycle N] keys (at most %d)",
			  MAX_OVERRIDES);
		return;
	}
	o = &p->ov[p->n_ov++];
	o->cycle = (unsigned)n;
	o->line = p->f.ini.line;
	o->key = conf_key_find(cycle_keys, name)->key;
	snprintf(o->value, sizeof(o->value), "%s", value);
}

/* inih gives no "new section" call: notice the change ourselves */
static void section_begin(struct parse *p, const char *section)
{
	fault_end(p);
	snprintf(p->section, sizeof(p->section), "%s", section);
	p->skip_section = false;
	if (!strncmp(section, "fault", 5) &&
	    (section[5] == ' ' || section[5] == ':'))
		fault_begin(p, section);
	else if (strncmp(section, "cycle ", 6) &&
		 !conf_section_keys(sections, section)) {
		conf_unknown_section(&p->f, section,
				     "sim, drive, cycle N, bus, tester or "
				     "fault NAME");
		p->skip_section = true;
	}
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *p = user;
	const struct conf_key *keys;
	int r;

	if (strcmp(section, p->section))
		section_begin(p, section);
	if (p->skip_section)
		return 1;
	if (p->fault) {
		r = conf_apply(&p->f, section, fault_keys, p->fault, name,
			       value);
		if (r == FAULT_KEY_TYPE)
			p->fault_has_type = true;
		return 1;
	}
	if (!strncmp(section, "cycle ", 6)) {
		cycle_key(p, section, name, value);
		return 1;
	}
	keys = conf_section_keys(sections, section);
	/* [drive] is the first cycle until expand_cycles() */
	conf_apply(&p->f, section, keys,
		   keys == cycle_keys ? (void *)&p->sc->cycle[0] :
					(void *)p->sc,
		   name, value);
	return 1;
}

static const struct scenario_cycle default_cycle = {
	.key_s = 1,
	.ignition_s = 3,
	.crank_s = 0.9,
	.idle_s = 30,
	.profile = SCENARIO_PROFILE_MIXED,
	.drive_s = 540,
	.idle_end_s = 10,
	.ign_after_s = 3,
	.awake_s = 20,
	.park_s = 8 * 3600,
	.ambient_c = 5,
};

static struct scenario *scenario_alloc(void)
{
	struct scenario *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->seed = 1;
	sc->start_time = 1718000000.0; /* 2024-06-10, any fixed epoch */
	snprintf(sc->vin, sizeof(sc->vin), "WBAPH5C55BA123456");
	snprintf(sc->iface, sizeof(sc->iface), "can0");
	sc->cycles = 1;
	sc->malformed_every = 5000;
	sc->obd = true;
	sc->uds = true;
	sc->jitter_seed = 1;
	sc->obd_interval_ms = 100;
	sc->uds_padding = 0x55;
	sc->obd_padding = 0xAA;
	sc->cycle = calloc(1, sizeof(*sc->cycle));
	if (!sc->cycle) {
		free(sc);
		return NULL;
	}
	sc->cycle[0] = default_cycle;
	return sc;
}

int scenario_new_default(struct scenario **ret)
{
	struct scenario *sc = scenario_alloc();

	if (!sc)
		return -ENOMEM;
	sc->path = strdup("(built-in)");
	if (!sc->path) {
		scenario_free(sc);
		return -ENOMEM;
	}
	*ret = sc;
	return 0;
}

/* Copies [drive] into every cycle and applies the [cycle N] keys */
static int expand_cycles(struct parse *p)
{
	struct scenario *sc = p->sc;
	struct scenario_cycle *c;

	c = calloc(sc->cycles, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (unsigned i = 0; i < sc->cycles; i++)
		c[i] = sc->cycle[0];
	for (unsigned i = 0; i < p->n_ov; i++) {
		struct override *o = &p->ov[i];

		p->f.ini.line = o->line;
		if (o->cycle > sc->cycles) {
			conf_fail(&p->f,
				  "[cycle %u]: the scenario has only %u cycles "
				  "(set cycles = in [sim])",
				  o->cycle, sc->cycles);
			continue;
		}
		conf_apply(&p->f, "cycle", cycle_keys, &c[o->cycle - 1], o->key,
			   o->value);
	}
	free(sc->cycle);
	sc->cycle = c;
	return 0;
}

int scenario_load(struct scenario **ret, const char *path,
		  scenario_error_fn on_error, void *userdata)
{
	struct parse p = { .f = { .on_error = on_error, .ud = userdata } };
	struct scenario *sc;
	int r;

	sc = scenario_alloc();
	if (!sc)
		return -ENOMEM;
	sc->path = strdup(path);
	p.ov = calloc(MAX_OVERRIDES, sizeof(*p.ov));
	if (!sc->path || !p.ov) {
		free(p.ov);
		scenario_free(sc);
		return -ENOMEM;
	}
	p.sc = sc;
	r = conf_parse(&p.f, sc->path, handler, &p);
	if (r < 0 && r != -EINVAL) {
		free(p.ov);
		scenario_free(sc);
		return r;
	}
	fault_end(&p);
	if (expand_cycles(&p) < 0) {
		free(p.ov);
		scenario_free(sc);
		return -ENOMEM;
	}
	free(p.ov);
	if (conf_failed(&p.f)) {
		scenario_free(sc);
		return -EINVAL;
	}
	*ret = sc;
	return 0;
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	free(sc->cycle);
	free(sc->path);
	free(sc);
}

const struct scenario_cycle *scenario_cycle(const struct scenario *sc,
					    unsigned n)
{
	if (n < 1)
		n = 1;
	if (n > sc->cycles)
		n = sc->cycles;
	return &sc->cycle[n - 1];
}
