/* scenario.c: reading dtcd-sim scenario files (INI, libinih) */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ini_lines.h"
#include "scenario.h"

#define MAX_OVERRIDES 256

enum key_kind {
	KEY_DOUBLE,
	KEY_UINT,
	KEY_BOOL,
	KEY_PROFILE,
};

struct key {
	const char *name;
	enum key_kind kind;
	size_t offset;
	double min, max;
};

#define CYC(n, k, lo, hi)                                         \
	{                                                         \
#n, k, offsetof(struct scenario_cycle, n), lo, hi \
	}
static const struct key cycle_keys[] = {
	CYC(key_s, KEY_DOUBLE, 0, 3600),
	CYC(ignition_s, KEY_DOUBLE, 0, 3600),
	CYC(crank_s, KEY_DOUBLE, 0.2, 10),
	CYC(idle_s, KEY_DOUBLE, 0, 86400),
	CYC(profile, KEY_PROFILE, 0, 0),
	CYC(drive_s, KEY_DOUBLE, 0, 86400 * 7),
	CYC(idle_end_s, KEY_DOUBLE, 0, 86400),
	CYC(ign_after_s, KEY_DOUBLE, 0, 3600),
	CYC(awake_s, KEY_DOUBLE, 0, 86400),
	CYC(park_s, KEY_DOUBLE, 0, 86400 * 365),
	CYC(ambient_c, KEY_DOUBLE, -40, 50),
	{ NULL, 0, 0, 0, 0 },
};

#define FLT(n, k, lo, hi)                                         \
	{                                                         \
#n, k, offsetof(struct scenario_fault, n), lo, hi \
	}
static const struct key fault_keys[] = {
	FLT(start_s, KEY_DOUBLE, 0, 1e9),
	FLT(start_cycle, KEY_UINT, 1, 1000000),
	FLT(end_s, KEY_DOUBLE, 0, 1e9),
	FLT(end_cycle, KEY_UINT, 1, 1000000),
	FLT(rate, KEY_DOUBLE, 0, 1),
	FLT(burst_s, KEY_DOUBLE, 0.01, 86400),
	FLT(gap_s, KEY_DOUBLE, 0.01, 86400),
	FLT(min_load, KEY_DOUBLE, 0, 1),
	FLT(growth_deg_s, KEY_DOUBLE, 0, 100),
	FLT(max_deg, KEY_DOUBLE, 0, 60),
	FLT(emergency_deg, KEY_DOUBLE, 0, 60),
	FLT(current_a, KEY_DOUBLE, 0, 50),
	FLT(efficiency, KEY_DOUBLE, 0, 1),
	FLT(loss_l_h, KEY_DOUBLE, 0, 100),
	FLT(low_after_l, KEY_DOUBLE, 0, 20),
	FLT(peak_c, KEY_DOUBLE, 100, 1000),
	FLT(rise_s, KEY_DOUBLE, 0.1, 10),
	FLT(repeat_s, KEY_DOUBLE, 0, 1e9),
	{ NULL, 0, 0, 0, 0 },
};

static const char *const profile_names[] = {
	[SCENARIO_PROFILE_IDLE] = "idle",
	[SCENARIO_PROFILE_CITY] = "city",
	[SCENARIO_PROFILE_HIGHWAY] = "highway",
	[SCENARIO_PROFILE_MIXED] = "mixed",
	[SCENARIO_PROFILE_HILL] = "hill",
};

static const char *const fault_names[SCENARIO_FAULT__MAX] = {
	[SCENARIO_FAULT_MISFIRE] = "misfire",
	[SCENARIO_FAULT_COIL] = "coil",
	[SCENARIO_FAULT_VANOS] = "vanos",
	[SCENARIO_FAULT_FUEL_HEATER] = "fuel_heater",
	[SCENARIO_FAULT_TURBO_PUMP_DEAD] = "turbo_pump_dead",
	[SCENARIO_FAULT_TURBO_PUMP_WEAK] = "turbo_pump_weak",
	[SCENARIO_FAULT_EGR_LEAK] = "egr_leak",
	[SCENARIO_FAULT_EGR_COMBUSTION] = "egr_combustion",
};

/* A [cycle N] key, applied once the number of cycles and [drive] are known */
struct override {
	unsigned cycle;
	unsigned line;
	const struct key *key;
	char value[64];
};

struct parse {
	struct scenario *sc;
	struct ini_lines ini; /* the file and the line inih reads */
	unsigned errors;
	scenario_error_fn on_error;
	void *userdata;
	struct scenario_fault *fault; /* current [fault NAME] or NULL */
	bool fault_has_type;
	char section[64]; /* the last section seen */
	struct override *ov;
	unsigned n_ov;
};

/* the line inih reads now, and that of the last [section] header */
static unsigned cur_line(const struct parse *p)
{
	return (unsigned)p->ini.line;
}

static unsigned section_line(const struct parse *p)
{
	return (unsigned)p->ini.section_line;
}

static void error_at(struct parse *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void error_at(struct parse *p, unsigned line, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p->errors++;
	if (p->on_error)
		p->on_error(p->userdata, p->sc->path, line, buf);
}

static const char *const *profile_lookup(const char *s)
{
	for (size_t i = 0; i < sizeof(profile_names) / sizeof(*profile_names);
	     i++)
		if (!strcmp(s, profile_names[i]))
			return &profile_names[i];
	return NULL;
}

static int parse_double(const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_ulong(const char *s, int base, unsigned long max,
		       unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Sets one table key in struct base; 0 or -EINVAL with the error reported */
static int set_key(struct parse *p, const struct key *k, void *base,
		   const char *value, unsigned line)
{
	char *field = (char *)base + k->offset;
	double d;
	unsigned long u;
	bool b;
	const char *const *prof;

	switch (k->kind) {
	case KEY_DOUBLE:
		if (parse_double(value, &d) || d < k->min || d > k->max) {
			error_at(p, line,
				 "%s: expected a number from %g to %g, not "
				 "\"%s\"",
				 k->name, k->min, k->max, value);
			return -EINVAL;
		}
		*(double *)field = d;
		return 0;
	case KEY_UINT:
		if (parse_ulong(value, 10, (unsigned long)k->max, &u) ||
		    u < k->min) {
			error_at(p, line,
				 "%s: expected a whole number from %g to %g, "
				 "not \"%s\"",
				 k->name, k->min, k->max, value);
			return -EINVAL;
		}
		*(unsigned *)field = (unsigned)u;
		return 0;
	case KEY_BOOL:
		if (parse_bool(value, &b)) {
			error_at(p, line,
				 "%s: expected true or false, not \"%s\"",
				 k->name, value);
			return -EINVAL;
		}
		*(bool *)field = b;
		return 0;
	case KEY_PROFILE:
		prof = profile_lookup(value);
		if (!prof) {
			error_at(p, line,
				 "%s: expected idle, city, highway, mixed or "
				 "hill, not \"%s\"",
				 k->name, value);
			return -EINVAL;
		}
		*(enum scenario_profile *)field =
			(enum scenario_profile)(prof - profile_names);
		return 0;
	}
	return -EINVAL;
}

static const struct key *find_key(const struct key *table, const char *name)
{
	for (; table->name; table++)
		if (!strcmp(table->name, name))
			return table;
	return NULL;
}

/* "P0303" -> the two bytes of SAE J2012 */
static int parse_dtc(const char *s, uint16_t *ret)
{
	static const char letters[] = "PCBU";
	const char *l;
	unsigned long rest;

	if (strlen(s) != 5 ||
	    !(l = strchr(letters, toupper((unsigned char)s[0]))) || !*l ||
	    s[1] < '0' || s[1] > '3' || parse_ulong(s + 2, 16, 0xFFF, &rest) ||
	    !isxdigit((unsigned char)s[2]))
		return -EINVAL;
	*ret = (uint16_t)(((l - letters) << 14) | ((s[1] - '0') << 12) | rest);
	return 0;
}

/* Comma-separated list; calls each() per item, reports bad ones */
static void parse_list(struct parse *p, const char *key, const char *value,
		       int (*each)(struct parse *p, const char *item))
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save))
		if (each(p, tok))
			error_at(p, cur_line(p), "%s: bad item \"%s\"", key,
				 tok);
}

static int add_did(struct parse *p, const char *item)
{
	struct scenario *sc = p->sc;
	unsigned long v;

	if (parse_ulong(item, 16, 0xFFFF, &v))
		return -EINVAL;
	if (sc->n_unknown_dids >= SCENARIO_MAX_DIDS)
		return -E2BIG;
	sc->unknown_did[sc->n_unknown_dids++] = (uint16_t)v;
	return 0;
}

static int add_dtc(struct parse *p, const char *item)
{
	struct scenario *sc = p->sc;
	uint16_t code;

	if (parse_dtc(item, &code))
		return -EINVAL;
	if (sc->n_ecu_dtcs >= SCENARIO_MAX_DTCS)
		return -E2BIG;
	sc->ecu_dtc[sc->n_ecu_dtcs++] = code;
	return 0;
}

static void sim_key(struct parse *p, const char *name, const char *value)
{
	struct scenario *sc = p->sc;
	unsigned long u;
	double d;

	if (!strcmp(name, "seed")) {
		if (parse_ulong(value, 0, ULONG_MAX, &u))
			error_at(p, cur_line(p),
				 "seed: expected a whole number, not \"%s\"",
				 value);
		else
			sc->seed = u;
	} else if (!strcmp(name, "start_time")) {
		if (parse_double(value, &d) || d < 0 || d > 4e9)
			error_at(p, cur_line(p),
				 "start_time: expected epoch seconds, not "
				 "\"%s\"",
				 value);
		else
			sc->start_time = d;
	} else if (!strcmp(name, "vin")) {
		if (strlen(value) != 17)
			error_at(p, cur_line(p),
				 "vin: expected 17 characters, not \"%s\"",
				 value);
		else
			snprintf(sc->vin, sizeof(sc->vin), "%s", value);
	} else if (!strcmp(name, "interface")) {
		if (!*value || strlen(value) >= sizeof(sc->iface) ||
		    strpbrk(value, " \t()#"))
			error_at(p, cur_line(p),
				 "interface: expected a name like can0, not "
				 "\"%s\"",
				 value);
		else
			snprintf(sc->iface, sizeof(sc->iface), "%s", value);
	} else if (!strcmp(name, "cycles")) {
		if (parse_ulong(value, 10, 1000000, &u) || !u)
			error_at(p, cur_line(p),
				 "cycles: expected a whole number from 1, not "
				 "\"%s\"",
				 value);
		else
			sc->cycles = (unsigned)u;
	} else {
		error_at(p, cur_line(p),
			 "[sim]: unknown key \"%s\" (expected seed, "
			 "start_time, vin, interface or cycles)",
			 name);
	}
}

static void bus_key(struct parse *p, const char *name, const char *value)
{
	struct scenario *sc = p->sc;
	unsigned long u;
	double d;

	if (!strcmp(name, "jitter_us")) {
		/* more would reorder the frames of one ISO-TP transfer */
		if (parse_ulong(value, 10, 400, &u))
			error_at(p, cur_line(p),
				 "jitter_us: expected 0 to 400, not \"%s\"",
				 value);
		else
			sc->jitter_us = (unsigned)u;
	} else if (!strcmp(name, "drop_rate")) {
		if (parse_double(value, &d) || d < 0 || d > 0.5)
			error_at(p, cur_line(p),
				 "drop_rate: expected a fraction from 0 to "
				 "0.5, not \"%s\"",
				 value);
		else
			sc->drop_rate = d;
	} else if (!strcmp(name, "other_ecus")) {
		if (parse_bool(value, &sc->other_ecus))
			error_at(p, cur_line(p),
				 "other_ecus: expected true or false, not "
				 "\"%s\"",
				 value);
	} else if (!strcmp(name, "malformed_lines")) {
		if (parse_ulong(value, 10, 1000000, &u))
			error_at(p, cur_line(p),
				 "malformed_lines: expected a whole number, "
				 "not \"%s\"",
				 value);
		else
			sc->malformed_lines = (unsigned)u;
	} else if (!strcmp(name, "malformed_every")) {
		if (parse_ulong(value, 10, 100000000, &u) || !u)
			error_at(p, cur_line(p),
				 "malformed_every: expected a whole number "
				 "from 1, not \"%s\"",
				 value);
		else
			sc->malformed_every = (unsigned)u;
	} else {
		error_at(p, cur_line(p),
			 "[bus]: unknown key \"%s\" (expected jitter_us, "
			 "drop_rate, other_ecus, malformed_lines or "
			 "malformed_every)",
			 name);
	}
}

static void tester_key(struct parse *p, const char *name, const char *value)
{
	struct scenario *sc = p->sc;
	unsigned long u;

	if (!strcmp(name, "obd") || !strcmp(name, "uds") ||
	    !strcmp(name, "ecu_mil")) {
		bool *b = !strcmp(name, "obd") ? &sc->obd :
			  !strcmp(name, "uds") ? &sc->uds :
						 &sc->ecu_mil;

		if (parse_bool(value, b))
			error_at(p, cur_line(p),
				 "%s: expected true or false, not \"%s\"", name,
				 value);
	} else if (!strcmp(name, "obd_interval_ms")) {
		if (parse_ulong(value, 10, 60000, &u) || u < 20)
			error_at(p, cur_line(p),
				 "obd_interval_ms: expected 20 to 60000, not "
				 "\"%s\"",
				 value);
		else
			sc->obd_interval_ms = (unsigned)u;
	} else if (!strcmp(name, "uds_padding") ||
		   !strcmp(name, "obd_padding")) {
		if (parse_ulong(value, 0, 0xFF, &u))
			error_at(p, cur_line(p),
				 "%s: expected a byte like 0x55, not \"%s\"",
				 name, value);
		else if (name[0] == 'u')
			sc->uds_padding = (uint8_t)u;
		else
			sc->obd_padding = (uint8_t)u;
	} else if (!strcmp(name, "unknown_dids")) {
		sc->n_unknown_dids = 0;
		parse_list(p, name, value, add_did);
	} else if (!strcmp(name, "ecu_dtcs")) {
		sc->n_ecu_dtcs = 0;
		parse_list(p, name, value, add_dtc);
	} else {
		error_at(p, cur_line(p),
			 "[tester]: unknown key \"%s\" (expected obd, uds, "
			 "obd_interval_ms, unknown_dids, uds_padding, "
			 "obd_padding, ecu_mil or ecu_dtcs)",
			 name);
	}
}

static void fault_key(struct parse *p, const char *name, const char *value)
{
	struct scenario_fault *f = p->fault;
	const struct key *k;
	unsigned long u;

	if (!strcmp(name, "type")) {
		for (int t = 0; t < SCENARIO_FAULT__MAX; t++) {
			if (!strcmp(value, fault_names[t])) {
				f->type = (enum scenario_fault_type)t;
				p->fault_has_type = true;
				return;
			}
		}
		error_at(p, cur_line(p),
			 "type: expected misfire, coil, vanos, fuel_heater, "
			 "turbo_pump_dead, turbo_pump_weak, egr_leak or "
			 "egr_combustion, not \"%s\"",
			 value);
	} else if (!strcmp(name, "cylinder")) {
		if (parse_ulong(value, 10, 6, &u) || !u)
			error_at(p, cur_line(p),
				 "cylinder: expected 1 to 6, not \"%s\"",
				 value);
		else
			f->cylinder = (int)u;
	} else if (!strcmp(name, "camshaft")) {
		if (!strcmp(value, "intake"))
			f->exhaust = false;
		else if (!strcmp(value, "exhaust"))
			f->exhaust = true;
		else
			error_at(p, cur_line(p),
				 "camshaft: expected intake or exhaust, not "
				 "\"%s\"",
				 value);
	} else if ((k = find_key(fault_keys, name))) {
		set_key(p, k, f, value, cur_line(p));
	} else {
		error_at(p, cur_line(p), "[%s]: unknown key \"%s\"", f->name,
			 name);
	}
}

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
		error_at(p, cur_line(p), "too many faults (at most %d)",
			 SCENARIO_MAX_FAULTS);
		p->fault = NULL;
		return;
	}
	f = &sc->fault[sc->n_faults++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", section);
	f->line = section_line(p);
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

	if (!f)
		return;
	p->fault = NULL;
	if (!p->fault_has_type) {
		error_at(p, f->line,
			 "[%s]: no type = (expected misfire, coil, vanos, "
			 "fuel_heater, turbo_pump_dead, turbo_pump_weak, "
			 "egr_leak or egr_combustion)",
			 f->name);
		return;
	}
	if ((f->type == SCENARIO_FAULT_MISFIRE ||
	     f->type == SCENARIO_FAULT_COIL) &&
	    !f->cylinder)
		error_at(p, f->line, "[%s]: %s needs cylinder = 1..6", f->name,
			 fault_names[f->type]);
	fault_defaults(f);
	if (f->end_cycle && f->end_cycle < f->start_cycle)
		error_at(p, f->line, "[%s]: end_cycle %u before start_cycle %u",
			 f->name, f->end_cycle, f->start_cycle);
	if (f->end_s > 0 && f->end_s <= f->start_s)
		error_at(p, f->line, "[%s]: end_s must be after start_s",
			 f->name);
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *p = user;
	unsigned long n;

	/* inih gives no "new section" call: notice the change ourselves */
	if (strcmp(section, p->section)) {
		fault_end(p);
		snprintf(p->section, sizeof(p->section), "%s", section);
		if (!strncmp(section, "fault", 5) &&
		    (section[5] == ' ' || section[5] == ':'))
			fault_begin(p, section);
	}

	if (!strcmp(section, "sim")) {
		sim_key(p, name, value);
	} else if (!strcmp(section, "drive")) {
		const struct key *k = find_key(cycle_keys, name);

		if (!k)
			error_at(p, cur_line(p), "[drive]: unknown key \"%s\"",
				 name);
		else
			set_key(p, k, &p->sc->cycle[0], value, cur_line(p));
	} else if (!strncmp(section, "cycle ", 6)) {
		const struct key *k = find_key(cycle_keys, name);
		struct scenario_cycle scratch = p->sc->cycle[0];

		if (parse_ulong(section + 6, 10, 1000000, &n) || !n) {
			error_at(p, cur_line(p),
				 "[%s]: expected [cycle N] with N from 1",
				 section);
		} else if (!k) {
			error_at(p, cur_line(p), "[%s]: unknown key \"%s\"",
				 section, name);
		} else if (!set_key(p, k, &scratch, value, cur_line(p))) {
			struct override *o;

			if (p->n_ov >= MAX_OVERRIDES) {
				error_at(p, cur_line(p),
					 "too many [cycle N] keys (at most %d)",
					 MAX_OVERRIDES);
				return 1;
			}
			o = &p->ov[p->n_ov++];
			o->cycle = (unsigned)n;
			o->line = cur_line(p);
			o->key = k;
			snprintf(o->value, sizeof(o->value), "%s", value);
		}
	} else if (!strcmp(section, "bus")) {
		bus_key(p, name, value);
	} else if (!strcmp(section, "tester")) {
		tester_key(p, name, value);
	} else if (p->fault) {
		fault_key(p, name, value);
	} else if (!(p->sc->n_faults >= SCENARIO_MAX_FAULTS &&
		     !strncmp(section, "fault", 5))) {
		error_at(p, cur_line(p),
			 "unknown section [%s] (expected sim, drive, cycle N, "
			 "bus, tester or fault NAME)",
			 section);
	}
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

		if (o->cycle > sc->cycles) {
			error_at(p, o->line,
				 "[cycle %u]: the scenario has only %u cycles "
				 "(set cycles = in [sim])",
				 o->cycle, sc->cycles);
			continue;
		}
		set_key(p, o->key, &c[o->cycle - 1], o->value, o->line);
	}
	free(sc->cycle);
	sc->cycle = c;
	return 0;
}

int scenario_load(struct scenario **ret, const char *path,
		  scenario_error_fn on_error, void *userdata)
{
	struct parse p = { .on_error = on_error, .userdata = userdata };
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
	r = ini_lines_parse(path, &p.ini, handler, &p);
	if (r < 0) {
		error_at(&p, 0, "cannot open: %s", strerror(-r));
		free(p.ov);
		scenario_free(sc);
		return r;
	}
	fault_end(&p);
	/*
	 * The handler never fails, so r > 0 is inih's own first error: a line
	 * that is neither [section] nor key = value.
	 */
	if (r > 0 && r == p.ini.long_line)
		error_at(&p, (unsigned)r, "line too long");
	else if (r > 0)
		error_at(&p, (unsigned)r, "expected [section] or key = value");
	if (expand_cycles(&p) < 0) {
		free(p.ov);
		scenario_free(sc);
		return -ENOMEM;
	}
	free(p.ov);
	if (p.errors) {
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

const char *scenario_fault_type_name(enum scenario_fault_type t)
{
	return t < SCENARIO_FAULT__MAX ? fault_names[t] : "?";
}
