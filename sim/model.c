/* model.c: a simple but plausible physical model of the reference vehicle */
#include <math.h>
#include <string.h>

#include "model.h"

/*
 * Units per second unless said otherwise. The constants are chosen so a
 * healthy car stays well clear of every detector threshold of spec section 3
 * and each fault crosses the one it is about; docs/sim.md lists the margins.
 */
#define PARK_TAU_S 10800.0 /* engine cools to ambient, parked */
#define THERMOSTAT_OPEN_C 88.0
#define THERMOSTAT_FULL_C 96.0
#define MISFIRE_HEALTHY 2e-5 /* rare single misfires */
#define VANOS_TAU_S 0.06
#define VANOS_RATE_DEG_S 250.0
#define VANOS_EMERGENCY_S 2.0
#define TURBO_K_HOUSING 0.0005 /* housing -> turbo coolant */
#define TURBO_H_PASSIVE 0.004  /* turbo coolant -> engine coolant, no pump */
#define TURBO_H_PUMP 0.03      /* the same at full pump speed */
#define PUMP_MAX_RPM 3000.0
#define PUMP_AFTER_RUN_S 900.0
#define PUMP_AFTER_RUN_DUTY 60.0
#define PUMP_AMPS_FULL 3.0
#define EGR_EFFICIENCY 0.78
#define EGR_SENSOR_TAU_S 6.0
#define HEATER_HEALTHY_A 9.5
#define DME_AWAKE_A 0.6 /* quiescent draw with the bus awake */
#define SLEEP_A 0.03	/* with the bus asleep */

static const double gear_rpm_per_kmh[] = { 110, 65, 45, 34, 27, 21 };

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* First-order lag of x toward target with time constant tau */
static double lag(double x, double target, double tau)
{
	return x + (target - x) * (1.0 - exp(-MODEL_DT / tau));
}

static double expo(struct rng *r, double mean)
{
	return -mean * log(1.0 - rng_uniform(r));
}

bool model_fault_active(const struct model *m, const struct scenario_fault *f)
{
	if (m->cycle < f->start_cycle || m->t < f->start_s)
		return false;
	if (f->end_cycle && m->cycle > f->end_cycle)
		return false;
	if (f->end_s > 0 && m->t >= f->end_s)
		return false;
	return true;
}

/* The first active fault of a type, or NULL */
static const struct scenario_fault *active(const struct model *m,
					   enum scenario_fault_type type)
{
	for (unsigned i = 0; i < m->sc->n_faults; i++)
		if (m->sc->fault[i].type == type &&
		    model_fault_active(m, &m->sc->fault[i]))
			return &m->sc->fault[i];
	return NULL;
}

static void enter(struct model *m, enum model_phase p)
{
	m->phase = p;
	m->phase_t = 0;
}

static void begin_cycle(struct model *m)
{
	m->cyc = scenario_cycle(m->sc, m->cycle);
	m->ambient_c = m->cyc->ambient_c;
	m->cycle_t0 = m->t;
	enter(m, MODEL_KEY);
}

void model_init(struct model *m, const struct scenario *sc, uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	m->sc = sc;
	rng_seed(&m->rng, seed, 1);
	m->cycle = 1;
	begin_cycle(m);
	m->coolant_c = m->oil_c = m->fuel_c = m->ambient_c;
	m->turbo_housing_c = m->turbo_coolant_c = m->ambient_c;
	m->egr_clean_c = m->egr_temp_c = m->ambient_c;
	m->battery_v = 12.65;
	m->spike_t0 = -1;
	m->stop_t = -1e9;
	for (unsigned i = 0; i < sc->n_faults; i++) {
		m->fs[i].left_s = expo(&m->rng, sc->fault[i].gap_s);
		m->fs[i].next_t = 0;
	}
}

/* A new stretch of the drive: the driver picks a speed and how long */
static void new_segment(struct model *m)
{
	struct rng *r = &m->rng;
	enum scenario_profile p = m->cyc->profile;
	bool stop;

	if (p == SCENARIO_PROFILE_MIXED)
		p = rng_chance(r, 0.35) ? SCENARIO_PROFILE_HIGHWAY :
					  SCENARIO_PROFILE_CITY;
	m->grade_load = 0;
	switch (p) {
	case SCENARIO_PROFILE_IDLE:
		m->target_kmh = 0;
		m->seg_left_s = 60;
		return;
	case SCENARIO_PROFILE_CITY:
		/* every other segment a stop at lights */
		stop = m->target_kmh > 0 && rng_chance(r, 0.6);
		m->target_kmh = stop ? 0 : rng_range(r, 25, 60);
		m->seg_left_s =
			stop ? rng_range(r, 5, 25) : rng_range(r, 15, 50);
		m->accel = rng_range(r, 1.0, 2.0);
		return;
	case SCENARIO_PROFILE_HIGHWAY:
		m->target_kmh = rng_range(r, 90, 140);
		m->seg_left_s = rng_range(r, 30, 120);
		m->accel = rng_range(r, 0.7, 1.4);
		return;
	case SCENARIO_PROFILE_HILL:
		m->target_kmh = rng_range(r, 70, 110);
		m->seg_left_s = rng_range(r, 60, 180);
		m->accel = rng_range(r, 0.6, 1.2);
		m->grade_load = 0.3;
		return;
	case SCENARIO_PROFILE_MIXED:
		break;
	}
}

static double idle_rpm(const struct model *m)
{
	return 720 + 230 * clamp((60 - m->coolant_c) / 70, 0, 1);
}

/* Engine speed, load and vehicle speed for one step of the running engine */
static void step_drive(struct model *m)
{
	struct rng *r = &m->rng;
	double target_rpm, v0 = m->speed_kmh, a, load, idle = idle_rpm(m);
	double flare = 0;
	bool limp = m->emergency;

	if (m->run_time_s < 3)
		flare = 550 * exp(-m->run_time_s / 0.7) *
			clamp(m->run_time_s / 0.25, 0, 1);

	if (m->drive == MODEL_DRIVE_DRIVING) {
		m->seg_left_s -= MODEL_DT;
		if (m->seg_left_s <= 0)
			new_segment(m);
	} else {
		m->target_kmh = 0;
	}
	if (m->target_kmh > m->speed_kmh)
		m->speed_kmh = fmin(m->target_kmh,
				    m->speed_kmh + m->accel * 3.6 * MODEL_DT);
	else
		m->speed_kmh = fmax(m->target_kmh,
				    m->speed_kmh - 2.0 * 3.6 * MODEL_DT);
	if (limp)
		m->speed_kmh = fmin(m->speed_kmh, 110);
	a = (m->speed_kmh - v0) / 3.6 / MODEL_DT;
	m->overrun = a < -0.3 && m->speed_kmh > 15;

	if (m->speed_kmh < 8) {
		/* clutch slipping off the line, or standing */
		target_rpm = a > 0.1 ? 1250 : idle;
	} else {
		int g = 5;
		double thr = a > 1.2 ? 1900 : 1350;

		while (g > 0 && m->speed_kmh * gear_rpm_per_kmh[g] < thr)
			g--;
		target_rpm = fmax(idle, m->speed_kmh * gear_rpm_per_kmh[g]);
	}
	target_rpm += flare;
	if (limp)
		target_rpm = fmin(target_rpm, 3200);
	m->rpm = lag(m->rpm, target_rpm, 0.15) + rng_gauss(r) * 4;

	if (m->overrun)
		load = 0.03;
	else if (m->speed_kmh < 1 && a <= 0.1)
		load = 0.12 + 0.05 * clamp((60 - m->coolant_c) / 70, 0, 1);
	else
		load = 0.10 + 0.22 * fmax(a, 0) +
		       0.000028 * m->speed_kmh * m->speed_kmh + m->grade_load;
	if (limp)
		load = fmin(load, 0.45);
	m->load = clamp(lag(m->load, load, 0.2) + rng_gauss(r) * 0.004, 0, 1);
	m->pedal_pct = m->overrun ? 0 : clamp(m->load * 95, 0, 100);
}

static void step_temperatures(struct model *m, bool running)
{
	double heat = 0, loss, radiator = 0, open, oil_target, tau;

	if (running)
		heat = 0.10 + 0.55 * m->load * clamp(m->rpm / 3000, 0.2, 2);
	loss = (running ? 0.0006 : 1.0 / PARK_TAU_S) *
	       (m->coolant_c - m->ambient_c);
	open = clamp((m->coolant_c - THERMOSTAT_OPEN_C) /
			     (THERMOSTAT_FULL_C - THERMOSTAT_OPEN_C),
		     0, 1);
	m->thermostat = lag(m->thermostat, open, 20);
	if (running)
		radiator = 0.025 * m->thermostat * (1 + m->speed_kmh / 60) *
			   (m->coolant_c - m->ambient_c);
	m->coolant_c += (heat - loss - radiator) * MODEL_DT;

	if (running) {
		oil_target = m->coolant_c + 4 + 16 * m->load;
		tau = m->oil_c < m->coolant_c ? 300 : 120;
	} else {
		oil_target = m->ambient_c;
		tau = PARK_TAU_S;
	}
	m->oil_c = lag(m->oil_c, oil_target, tau);
	m->fuel_c = lag(m->fuel_c,
			running ? m->ambient_c +
					  0.25 * (m->coolant_c - m->ambient_c) :
				  m->ambient_c,
			running ? 600 : PARK_TAU_S);
}

static double vanos_follow(double actual, double target)
{
	double next = lag(actual, target, VANOS_TAU_S);
	double max = VANOS_RATE_DEG_S * MODEL_DT;

	return actual + clamp(next - actual, -max, max);
}

static void step_vanos(struct model *m, bool running)
{
	struct rng *r = &m->rng;
	const struct scenario_fault *f = active(m, SCENARIO_FAULT_VANOS);
	double win, in_t = 0, ex_t = 0, dev, noise;

	if (!f)
		m->vanos_fault_deg = 0; /* bolts replaced, or never broken */
	if (running) {
		win = clamp((m->rpm - 700) / 2500, 0, 1);
		if (m->overrun) {
			in_t = 0; /* fuel cut: parked, a step of the target */
			ex_t = 0;
		} else {
			in_t = 5 + 35 * m->load * win;
			ex_t = 4 + 22 * (1 - m->load) * win;
		}
	}
	/* maps give steps of 0.1 °CRK */
	m->vanos_in_target = round(in_t * 10) / 10;
	m->vanos_ex_target = round(ex_t * 10) / 10;
	m->vanos_in_lag = vanos_follow(m->vanos_in_lag, m->vanos_in_target);
	m->vanos_ex_lag = vanos_follow(m->vanos_ex_lag, m->vanos_ex_target);

	if (f && running) {
		m->vanos_fault_deg =
			fmin(f->max_deg,
			     m->vanos_fault_deg + f->growth_deg_s * MODEL_DT);
		m->vanos_fail_s = m->vanos_fault_deg >= f->emergency_deg ?
					  m->vanos_fail_s + MODEL_DT :
					  0;
		if (m->vanos_fail_s >= VANOS_EMERGENCY_S)
			m->emergency = m->power_reduced = true;
	}
	dev = f && running ? m->vanos_fault_deg : 0;
	/* loose bolts rattle: the noise grows with the deviation */
	noise = running ? 0.2 + dev / 20 : 0.05;
	m->vanos_in_actual = m->vanos_in_lag + rng_gauss(r) * noise;
	m->vanos_ex_actual = m->vanos_ex_lag + rng_gauss(r) * noise;
	/* a broken bolt lets the camshaft fall back */
	if (f && f->exhaust)
		m->vanos_ex_actual += dev;
	else
		m->vanos_in_actual -= dev;
}

static void step_misfires(struct model *m)
{
	struct rng *r = &m->rng;
	double p[MODEL_CYLINDERS], per_step = m->rpm / 120.0 * MODEL_DT;

	for (int c = 0; c < MODEL_CYLINDERS; c++)
		p[c] = m->run_time_s < 20 ? 5 * MISFIRE_HEALTHY :
					    MISFIRE_HEALTHY;
	for (unsigned i = 0; i < m->sc->n_faults; i++) {
		const struct scenario_fault *f = &m->sc->fault[i];

		if (!model_fault_active(m, f))
			continue;
		if (f->type == SCENARIO_FAULT_MISFIRE) {
			p[f->cylinder - 1] += f->rate;
		} else if (f->type == SCENARIO_FAULT_COIL) {
			m->fs[i].left_s -= MODEL_DT;
			if (m->fs[i].left_s <= 0) {
				m->fs[i].burst = !m->fs[i].burst;
				m->fs[i].left_s =
					expo(r, m->fs[i].burst ? f->burst_s :
								 f->gap_s);
			}
			if (m->fs[i].burst && m->load >= f->min_load)
				p[f->cylinder - 1] += f->rate;
		}
	}
	for (int c = 0; c < MODEL_CYLINDERS; c++) {
		m->firing_acc[c] += per_step;
		while (m->firing_acc[c] >= 1) {
			m->firing_acc[c] -= 1;
			m->firings[c]++;
			if (rng_chance(r, p[c])) {
				if (m->misfires[c] < 0xFFFF)
					m->misfires[c]++;
				m->rpm -= 12; /* the crank slows a little */
			}
		}
	}
}

static void step_turbo(struct model *m, bool running)
{
	struct rng *r = &m->rng;
	double factor = 1, flow_per_rpm = 1, target, h;
	const struct scenario_fault *f;

	if (active(m, SCENARIO_FAULT_TURBO_PUMP_DEAD))
		factor = 0;
	else if ((f = active(m, SCENARIO_FAULT_TURBO_PUMP_WEAK)))
		/* worn: turns slower, and its impeller moves less per turn */
		factor = flow_per_rpm = f->efficiency;

	if (running)
		m->turbo_housing_c =
			lag(m->turbo_housing_c, 120 + 580 * m->load, 60);
	else
		m->turbo_housing_c =
			lag(m->turbo_housing_c, m->turbo_coolant_c, 900);

	if (running) {
		m->after_run = false;
		m->pump_duty_pct =
			m->turbo_coolant_c < 40 ?
				0 :
				clamp(30 + 60 * m->load +
					      3 * fmax(0,
						       m->turbo_coolant_c - 95),
				      30, 100);
	} else {
		double since = m->t - m->stop_t;

		/*
		 * After-run against heat soak: on above 95 °C, off at 90 °C,
		 * for at most 15 minutes after the engine stopped.
		 */
		m->after_run = since < PUMP_AFTER_RUN_S &&
			       m->turbo_coolant_c > (m->after_run ? 90 : 95);
		m->pump_duty_pct = m->after_run ? PUMP_AFTER_RUN_DUTY : 0;
	}
	target = m->pump_duty_pct / 100 * PUMP_MAX_RPM * factor;
	m->pump_speed_rpm = lag(m->pump_speed_rpm, target, 0.5);
	if (m->pump_speed_rpm < 1 && target == 0)
		m->pump_speed_rpm = 0;
	h = TURBO_H_PASSIVE +
	    TURBO_H_PUMP * flow_per_rpm * m->pump_speed_rpm / PUMP_MAX_RPM;
	m->turbo_coolant_c +=
		(TURBO_K_HOUSING * (m->turbo_housing_c - m->turbo_coolant_c) -
		 h * (m->turbo_coolant_c - m->coolant_c)) *
		MODEL_DT;
	(void)r;
}

static void step_egr(struct model *m, bool running)
{
	struct rng *r = &m->rng;
	const struct scenario_fault *leak = active(m, SCENARIO_FAULT_EGR_LEAK);
	double valve = 0, target, t_exh, eff, out;

	/* EGR only at part load: it closes toward 0.5 load */
	if (running && m->coolant_c >= 60 && m->rpm < 3200 && m->load < 0.5 &&
	    !m->overrun)
		valve = clamp(50 - 60 * m->load, 0, 50);
	m->egr_valve_pct = clamp(lag(m->egr_valve_pct, valve, 0.5), 0, 100);
	m->egr_flow = m->egr_valve_pct / 100 * clamp(m->rpm / 2000, 0.3, 1.5);

	eff = leak ? leak->efficiency : EGR_EFFICIENCY;
	if (running) {
		t_exh = 250 + 450 * m->load;
		target = m->coolant_c + 5 +
			 (t_exh - m->coolant_c - 5) * (1 - eff) *
				 fmin(1, m->egr_flow / 0.1);
	} else {
		target = m->coolant_c;
	}
	m->egr_clean_c = lag(m->egr_clean_c, target, EGR_SENSOR_TAU_S);

	if (leak && running && m->egr_flow > 0.05) {
		m->coolant_lost_l += leak->loss_l_h / 3600 * MODEL_DT;
		if (m->coolant_lost_l >= leak->low_after_l)
			m->coolant_low = true;
	}

	/* deposits igniting: a spike well above what the cooler lets through */
	for (unsigned i = 0; i < m->sc->n_faults; i++) {
		const struct scenario_fault *f = &m->sc->fault[i];

		if (f->type != SCENARIO_FAULT_EGR_COMBUSTION ||
		    !model_fault_active(m, f) || !running || m->spike_t0 >= 0 ||
		    m->t < m->fs[i].next_t || m->egr_flow < 0.05)
			continue;
		m->spike_t0 = m->t;
		m->spike_from_c = m->egr_temp_c;
		m->spike_peak_c = f->peak_c + rng_gauss(r) * 5;
		m->spike_rise_s = f->rise_s;
		m->fs[i].next_t =
			f->repeat_s > 0 ? m->t + f->repeat_s : INFINITY;
	}
	out = m->egr_clean_c + rng_gauss(r) * 0.8;
	if (m->spike_t0 >= 0) {
		double s = m->t - m->spike_t0, v;

		if (s < m->spike_rise_s)
			v = m->spike_from_c +
			    (m->spike_peak_c - m->spike_from_c) * s /
				    m->spike_rise_s;
		else if (s < m->spike_rise_s + 2)
			v = m->spike_peak_c;
		else
			v = m->egr_clean_c +
			    (m->spike_peak_c - m->egr_clean_c) *
				    exp(-(s - m->spike_rise_s - 2) / 8);
		out = fmax(out, v + rng_gauss(r) * 2);
		if (s > m->spike_rise_s + 60)
			m->spike_t0 = -1;
	}
	m->egr_temp_c = out;
}

static void step_heater(struct model *m, bool running)
{
	struct rng *r = &m->rng;
	const struct scenario_fault *f = active(m, SCENARIO_FAULT_FUEL_HEATER);

	if (running) {
		/* cold diesel: heat the filter until the fuel is warm */
		if (m->fuel_c < 3)
			m->heater_on = true;
		else if (m->fuel_c > 8)
			m->heater_on = false;
		m->heater_off_at = INFINITY;
	} else if (m->heater_on && m->t >= m->heater_off_at) {
		m->heater_on = false;
	}
	if (f) {
		m->heater_on = true; /* the contact welded shut */
		m->heater_a = f->current_a + rng_gauss(r) * 0.15;
	} else {
		m->heater_a = m->heater_on ?
				      HEATER_HEALTHY_A + rng_gauss(r) * 0.1 :
				      0;
	}
}

static void step_battery(struct model *m)
{
	struct rng *r = &m->rng;
	double i, rest,
		pump_a = PUMP_AMPS_FULL * m->pump_speed_rpm / PUMP_MAX_RPM;

	rest = fmax(11.0, 12.65 - 0.02 * m->discharged_ah);
	switch (m->phase) {
	case MODEL_CRANKING:
		i = -165 + rng_gauss(r) * 8;
		m->battery_v = 9.8 +
			       0.7 * clamp(m->phase_t / m->cyc->crank_s, 0, 1) +
			       rng_gauss(r) * 0.05;
		break;
	case MODEL_RUNNING:
		i = 1.5 + 30 * clamp(m->discharged_ah, 0, 1.3) +
		    rng_gauss(r) * 0.25;
		m->battery_v = 14.35 + rng_gauss(r) * 0.03;
		break;
	default:
		i = m->phase == MODEL_KEY   ? -3.0 :
		    m->phase == MODEL_AFTER ? -DME_AWAKE_A :
					      -11.0;
		i += rng_gauss(r) * 0.05 - m->heater_a - pump_a;
		m->battery_v = rest + 0.012 * i + rng_gauss(r) * 0.01;
		break;
	}
	m->battery_a = i;
	m->discharged_ah = fmax(0, m->discharged_ah - i * MODEL_DT / 3600);
}

static void engine_start(struct model *m)
{
	m->run_state = 2;
	m->run_time_s = 0;
	m->drive = MODEL_DRIVE_IDLE_START;
	m->target_kmh = 0;
	m->seg_left_s = 0;
	memset(m->misfires, 0, sizeof(m->misfires));
	memset(m->firings, 0, sizeof(m->firings));
	enter(m, MODEL_RUNNING);
}

static void engine_stop(struct model *m)
{
	m->run_state = 0;
	m->stop_t = m->t;
	m->emergency = m->power_reduced = false;
	m->vanos_fail_s = 0;
	m->load = 0;
	m->pedal_pct = 0;
	m->speed_kmh = 0;
	m->overrun = false;
	/* a healthy heater relay drops out a few seconds after stop */
	m->heater_off_at = m->t + rng_range(&m->rng, 2, 20);
	for (int c = 0; c < MODEL_CYLINDERS; c++)
		m->misfire_ewma[c] =
			0.9 * m->misfire_ewma[c] + 0.1 * m->misfires[c];
	enter(m, MODEL_STOPPED);
}

/* The drive cycle's timeline */
static void step_phase(struct model *m)
{
	const struct scenario_cycle *c = m->cyc;

	switch (m->phase) {
	case MODEL_KEY:
		if (m->phase_t >= c->key_s) {
			m->ignition = true;
			enter(m, MODEL_IGNITION);
		}
		break;
	case MODEL_IGNITION:
		if (m->phase_t >= c->ignition_s) {
			m->run_state = 1;
			enter(m, MODEL_CRANKING);
		}
		break;
	case MODEL_CRANKING:
		if (m->phase_t >= c->crank_s)
			engine_start(m);
		break;
	case MODEL_RUNNING:
		if (m->drive == MODEL_DRIVE_IDLE_START &&
		    m->phase_t >= c->idle_s) {
			m->drive = MODEL_DRIVE_DRIVING;
			m->phase_t = 0;
		} else if (m->drive == MODEL_DRIVE_DRIVING &&
			   m->phase_t >= c->drive_s) {
			m->drive = MODEL_DRIVE_IDLE_END;
			m->phase_t = 0;
		} else if (m->drive == MODEL_DRIVE_IDLE_END &&
			   m->speed_kmh > 0) {
			m->phase_t = 0; /* idle counts once standing */
		} else if (m->drive == MODEL_DRIVE_IDLE_END &&
			   m->phase_t >= c->idle_end_s) {
			engine_stop(m);
		}
		break;
	case MODEL_STOPPED:
		if (m->phase_t >= c->ign_after_s) {
			m->ignition = false;
			enter(m, MODEL_AFTER);
		}
		break;
	case MODEL_AFTER:
		if (m->phase_t >= c->awake_s && !m->after_run &&
		    !(m->heater_on && m->t < m->heater_off_at))
			enter(m, MODEL_ASLEEP);
		break;
	case MODEL_ASLEEP:
	case MODEL_DONE:
		break;
	}
}

void model_step(struct model *m)
{
	bool running;

	if (m->phase == MODEL_ASLEEP || m->phase == MODEL_DONE)
		return;
	running = m->phase == MODEL_RUNNING;
	if (running) {
		step_drive(m);
		m->run_time_s += MODEL_DT;
	} else if (m->phase == MODEL_CRANKING) {
		m->rpm = 210 + rng_gauss(&m->rng) * 15;
	} else {
		m->rpm = m->rpm > 30 ? m->rpm * exp(-MODEL_DT / 0.15) : 0;
	}
	step_temperatures(m, running);
	step_vanos(m, running);
	if (running)
		step_misfires(m);
	step_turbo(m, running);
	step_egr(m, running);
	step_heater(m, running);
	step_battery(m);
	if (running)
		m->torque_max_nm =
			m->emergency ? 150 :
				       clamp(190 + 0.035 * m->rpm, 190, 300);
	else
		m->torque_max_nm = 100;
	m->rpm = fmax(0, m->rpm);
	m->t += MODEL_DT;
	m->phase_t += MODEL_DT;
	step_phase(m);
}

double model_sleep(struct model *m)
{
	const struct scenario_cycle *next;
	const struct scenario_fault *f;
	double dt, k, drain;

	if (m->phase != MODEL_ASLEEP)
		return 0;
	dt = m->cyc->park_s;
	if (m->cycle >= m->sc->cycles && !m->endless) {
		enter(m, MODEL_DONE);
		return 0;
	}
	next = scenario_cycle(m->sc, m->cycle + 1);
	/* cooling toward the next cycle's ambient, in closed form */
	k = exp(-dt / PARK_TAU_S);
	m->ambient_c = next->ambient_c;
	m->coolant_c = m->ambient_c + (m->coolant_c - m->ambient_c) * k;
	m->oil_c = m->ambient_c + (m->oil_c - m->ambient_c) * k;
	m->fuel_c = m->ambient_c + (m->fuel_c - m->ambient_c) * k;
	m->turbo_coolant_c =
		m->ambient_c + (m->turbo_coolant_c - m->ambient_c) * k;
	m->turbo_housing_c = m->turbo_coolant_c;
	m->egr_clean_c = m->egr_temp_c = m->coolant_c;
	m->thermostat = 0;
	m->rpm = 0;
	m->pump_speed_rpm = 0;
	m->after_run = false;
	/* a stuck heater keeps draining the parked car */
	drain = SLEEP_A;
	f = active(m, SCENARIO_FAULT_FUEL_HEATER);
	if (f)
		drain += f->current_a;
	m->heater_on = f != NULL;
	m->discharged_ah += drain * dt / 3600;
	m->t += dt;
	m->cycle++;
	begin_cycle(m);
	return dt;
}
