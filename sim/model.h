/* model.h: the reference vehicle's physics, step by step, and its drive cycles
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "rng.h"
#include "scenario.h"

#define MODEL_CYLINDERS 6
#define MODEL_DT 0.01 /* seconds per step: the rate of the fastest frame */

enum model_phase {
	MODEL_ASLEEP,	/* bus asleep: no frames at all */
	MODEL_KEY,	/* key in, terminal R, ignition off */
	MODEL_IGNITION, /* ignition on, engine off, before cranking */
	MODEL_CRANKING,
	MODEL_RUNNING,
	MODEL_STOPPED, /* engine stopped, ignition still on */
	MODEL_AFTER,   /* ignition off, bus still awake (after-run) */
	MODEL_DONE,    /* the scenario is over */
};

enum model_drive {
	MODEL_DRIVE_IDLE_START,
	MODEL_DRIVE_DRIVING,
	MODEL_DRIVE_IDLE_END,
};

struct model {
	const struct scenario *sc;
	const struct scenario_cycle *cyc;
	struct rng rng;
	bool endless; /* repeat the last cycle instead of stopping */

	double t;	/* seconds since the log started */
	double phase_t; /* seconds in the current phase */
	enum model_phase phase;
	enum model_drive drive;
	unsigned cycle;	 /* 1-based drive cycle */
	double cycle_t0; /* t of the cycle's wake-up */

	/* engine and vehicle */
	double rpm, load, pedal_pct, speed_kmh, target_kmh;
	double seg_left_s; /* time left in the current drive segment */
	double accel;	   /* m/s^2 the driver aims for */
	double grade_load;
	double run_time_s; /* since engine start */
	double torque_max_nm;
	int run_state; /* 0 off, 1 starting, 2 running */
	bool ignition;

	/* temperatures, °C */
	double ambient_c, coolant_c, oil_c, fuel_c;
	double thermostat; /* 0 closed .. 1 open */

	/* VANOS, °CRK */
	double vanos_in_target, vanos_in_actual;
	double vanos_ex_target,
		vanos_ex_actual;	   /* actual: as the sensor says */
	double vanos_in_lag, vanos_ex_lag; /* the actuators, noise-free */
	double vanos_fault_deg;		   /* deviation the broken bolts add */
	double vanos_fail_s; /* how long the deviation has exceeded emergency */
	bool emergency, power_reduced;

	/* misfires */
	double firing_acc[MODEL_CYLINDERS];   /* fractional firings */
	uint32_t misfires[MODEL_CYLINDERS];   /* since engine start */
	uint64_t firings[MODEL_CYLINDERS];    /* since engine start */
	double misfire_ewma[MODEL_CYLINDERS]; /* of past cycles (OBD TID 0B) */
	bool overrun;			      /* fuel cut while decelerating */

	/* battery and loads */
	double battery_v, battery_a, discharged_ah;
	bool heater_on;
	double heater_a;
	double heater_off_at; /* run_time-independent t when a healthy heater
				 ends */

	/* turbocharger coolant circuit */
	double turbo_housing_c, turbo_coolant_c;
	double pump_duty_pct, pump_speed_rpm;
	bool after_run;
	double stop_t; /* t when the engine last stopped */

	/* EGR */
	double egr_valve_pct, egr_temp_c, egr_flow;
	double egr_clean_c; /* without sensor noise and spikes */
	double coolant_lost_l;
	bool coolant_low;
	double spike_t0; /* start of the spike in progress, or -1 */
	double spike_from_c;
	double spike_peak_c;
	double spike_rise_s;

	/* per scenario fault: coil bursts, next combustion spike */
	struct {
		bool burst;
		double left_s;
		double next_t;
	} fs[SCENARIO_MAX_FAULTS];
};

void model_init(struct model *m, const struct scenario *sc, uint64_t seed);
/* One MODEL_DT step while the bus is awake. */
void model_step(struct model *m);
/*
 * While asleep: jump to the next wake-up in one go (cooling and battery
 * drain applied in closed form). Returns the seconds skipped.
 */
double model_sleep(struct model *m);

bool model_fault_active(const struct model *m, const struct scenario_fault *f);
