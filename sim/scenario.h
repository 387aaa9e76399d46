/* scenario.h: what a dtcd-sim run simulates: drive cycles, faults, bus realism
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define SCENARIO_MAX_FAULTS 16
#define SCENARIO_MAX_DIDS 8
#define SCENARIO_MAX_DTCS 8

enum scenario_profile {
	SCENARIO_PROFILE_IDLE,	  /* standing, engine idling */
	SCENARIO_PROFILE_CITY,	  /* 0-60 km/h with stops */
	SCENARIO_PROFILE_HIGHWAY, /* 90-140 km/h */
	SCENARIO_PROFILE_MIXED,	  /* city and highway in turns */
	SCENARIO_PROFILE_HILL,	  /* 70-110 km/h up a long grade: high load */
};

/* One drive cycle: wake, ignition, crank, idle, drive, stop, after-run, park */
struct scenario_cycle {
	double key_s;	   /* key in, terminal R, before ignition on */
	double ignition_s; /* ignition on before cranking */
	double crank_s;
	double idle_s; /* idle after the start */
	enum scenario_profile profile;
	double drive_s;
	double idle_end_s;  /* idle before the engine stops */
	double ign_after_s; /* ignition still on after the engine stops */
	double awake_s; /* bus awake after ignition off (after-run extends) */
	double park_s;	/* bus asleep before the next cycle */
	double ambient_c;
};

enum scenario_fault_type {
	SCENARIO_FAULT_MISFIRE,
	SCENARIO_FAULT_COIL, /* intermittent coil: misfire bursts under load */
	SCENARIO_FAULT_VANOS,
	SCENARIO_FAULT_FUEL_HEATER,
	SCENARIO_FAULT_TURBO_PUMP_DEAD,
	SCENARIO_FAULT_TURBO_PUMP_WEAK,
	SCENARIO_FAULT_EGR_LEAK,
	SCENARIO_FAULT_EGR_COMBUSTION,
	SCENARIO_FAULT__MAX,
};

struct scenario_fault {
	char name[48];
	enum scenario_fault_type type;
	unsigned line; /* of its section header */
	/* active from start_s (log time) and start_cycle, until end_* (0 =
	 * never) */
	double start_s;
	unsigned start_cycle;
	double end_s;
	unsigned end_cycle;
	/* misfire, coil */
	int cylinder;
	double rate;	 /* fraction of that cylinder's firings */
	double burst_s;	 /* coil: mean length of a misfiring burst */
	double gap_s;	 /* coil: mean time between bursts */
	double min_load; /* coil: misfires only above this load */
	/* vanos */
	bool exhaust;
	double growth_deg_s; /* deviation growth per second of engine running */
	double max_deg;
	double emergency_deg; /* deviation that starts the emergency program */
	/* fuel_heater */
	double current_a;
	/* turbo_pump_weak: speed fraction; egr_leak: cooler efficiency */
	double efficiency;
	/* egr_leak */
	double loss_l_h;    /* coolant loss while EGR flows */
	double low_after_l; /* loss at which the level sensor says low */
	/* egr_combustion */
	double peak_c;
	double rise_s;
	double repeat_s; /* 0 = once */
};

struct scenario {
	char *path;
	uint64_t seed;
	double start_time; /* epoch seconds of the first frame */
	char vin[18];
	char iface[16];
	unsigned cycles;
	struct scenario_cycle *cycle; /* [cycles], defaults + overrides */

	/* bus realism */
	unsigned jitter_us;
	/* every message (a broadcast frame, a whole ISO-TP exchange) ± this */
	unsigned sample_jitter_us;
	uint64_t jitter_seed; /* the PRNG stream of sample_jitter_us */
	double drop_rate;
	bool other_ecus;
	unsigned malformed_lines;
	unsigned malformed_every;

	/* testers */
	bool obd;
	bool uds;
	unsigned obd_interval_ms;
	/* a profile (name or path): the testers ask what its [poll] lists */
	char poll_profile[256];
	uint16_t unknown_did[SCENARIO_MAX_DIDS];
	unsigned n_unknown_dids;
	uint8_t uds_padding;
	uint8_t obd_padding;
	bool ecu_mil;
	uint16_t ecu_dtc[SCENARIO_MAX_DTCS]; /* SAE J2012 two-byte form */
	unsigned n_ecu_dtcs;

	struct scenario_fault fault[SCENARIO_MAX_FAULTS];
	unsigned n_faults;
};

/*
 * Called for every error with the file, its 1-based line (0 = the file as a
 * whole) and what was expected; parsing goes on so all errors are reported.
 */
typedef void (*scenario_error_fn)(void *userdata, const char *path,
				  unsigned line, const char *what);

/* The built-in scenario: one cold start with a 10 minute mixed drive. */
int scenario_new_default(struct scenario **ret);
/* Returns 0, -EINVAL after reporting the errors, or -errno. */
int scenario_load(struct scenario **ret, const char *path,
		  scenario_error_fn on_error, void *userdata);
/* Takes NULL. */
void scenario_free(struct scenario *sc);

/* Cycle n (1-based); past the last one the last repeats. */
const struct scenario_cycle *scenario_cycle(const struct scenario *sc,
					    unsigned n);
