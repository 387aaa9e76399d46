/* signal.c: the canonical signal table and the last-value store */
#include <string.h>

#include "signal.h"

#define NUM(n, u, lo, hi)                                  \
	{                                                  \
		.name = n, .unit = u, .min = lo, .max = hi \
	}
/* a sensor that reports the range end r (RAIL_MIN, _MAX, _BOTH) when broken */
#define RAILED(n, u, lo, hi, r)                             \
	{                                                   \
		.name = n, .unit = u, .min = lo, .max = hi, \
		.rails = SIGNAL_##r                         \
	}

/* Ranges are the sensors' physical ones, wide enough for any healthy car. */
static const struct signal_info signals[SIG__MAX] = {
	[SIG_ENGINE_SPEED_RPM] =
		RAILED("engine_speed_rpm", "rpm", 0, 12000, RAIL_MAX),
	[SIG_COOLANT_TEMP_C] =
		RAILED("coolant_temp_c", "°C", -40, 215, RAIL_BOTH),
	[SIG_OIL_TEMP_C] = RAILED("oil_temp_c", "°C", -40, 215, RAIL_BOTH),
	[SIG_ENGINE_RUN_STATE] = NUM("engine_run_state", "", 0, 3),
	[SIG_IGNITION_ON] = NUM("ignition_on", "", 0, 1),
	[SIG_BATTERY_VOLTAGE_V] = NUM("battery_voltage_v", "V", 0, 32),
	[SIG_TORQUE_MAX_AVAILABLE_NM] =
		NUM("torque_max_available_nm", "Nm", -1024, 1024),
	[SIG_ECU_MIL_ON] = NUM("ecu_mil_on", "", 0, 1),
	[SIG_ECU_DTC_COUNT] = NUM("ecu_dtc_count", "", 0, 127),
	[SIG_VEHICLE_SPEED_KMH] = NUM("vehicle_speed_kmh", "km/h", 0, 255),
	[SIG_ENGINE_RUN_TIME_S] = NUM("engine_run_time_s", "s", 0, 65535),
	[SIG_EGR_COMMANDED_PCT] = NUM("egr_commanded_pct", "%", 0, 100),
	[SIG_AMBIENT_TEMP_C] =
		RAILED("ambient_temp_c", "°C", -40, 215, RAIL_BOTH),
	[SIG_EGR_TEMP_C] = RAILED("egr_temp_c", "°C", -40, 1000, RAIL_BOTH),
	[SIG_MISFIRE_COUNT_CYL_1] =
		RAILED("misfire_count_cyl_1", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_2] =
		RAILED("misfire_count_cyl_2", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_3] =
		RAILED("misfire_count_cyl_3", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_4] =
		RAILED("misfire_count_cyl_4", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_5] =
		RAILED("misfire_count_cyl_5", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_6] =
		RAILED("misfire_count_cyl_6", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_7] =
		RAILED("misfire_count_cyl_7", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_8] =
		RAILED("misfire_count_cyl_8", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_9] =
		RAILED("misfire_count_cyl_9", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_10] =
		RAILED("misfire_count_cyl_10", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_11] =
		RAILED("misfire_count_cyl_11", "", 0, 65535, RAIL_MAX),
	[SIG_MISFIRE_COUNT_CYL_12] =
		RAILED("misfire_count_cyl_12", "", 0, 65535, RAIL_MAX),
	[SIG_VIN] = { .name = "vin", .unit = "", .is_text = true },
	[SIG_ODOMETER_KM] = NUM("odometer_km", "km", 0, 5e6),
	[SIG_VANOS_INTAKE_TARGET_DEG] =
		RAILED("vanos_intake_target_deg", "°CRK", -200, 200, RAIL_BOTH),
	[SIG_VANOS_INTAKE_ACTUAL_DEG] =
		RAILED("vanos_intake_actual_deg", "°CRK", -200, 200, RAIL_BOTH),
	[SIG_VANOS_EXHAUST_TARGET_DEG] = RAILED("vanos_exhaust_target_deg",
						"°CRK", -200, 200, RAIL_BOTH),
	[SIG_VANOS_EXHAUST_ACTUAL_DEG] = RAILED("vanos_exhaust_actual_deg",
						"°CRK", -200, 200, RAIL_BOTH),
	[SIG_ENGINE_EMERGENCY_MODE] = NUM("engine_emergency_mode", "", 0, 1),
	[SIG_ENGINE_POWER_REDUCED] = NUM("engine_power_reduced", "", 0, 1),
	[SIG_FUEL_HEATER_ON] = NUM("fuel_heater_on", "", 0, 1),
	[SIG_FUEL_HEATER_CURRENT_A] =
		RAILED("fuel_heater_current_a", "A", 0, 60, RAIL_MAX),
	[SIG_BATTERY_CURRENT_A] =
		RAILED("battery_current_a", "A", -1000, 1000, RAIL_BOTH),
	[SIG_TURBO_PUMP_DUTY_PCT] = NUM("turbo_pump_duty_pct", "%", 0, 100),
	[SIG_TURBO_PUMP_SPEED_RPM] =
		RAILED("turbo_pump_speed_rpm", "rpm", 0, 10000, RAIL_MAX),
	[SIG_TURBO_COOLANT_TEMP_C] =
		RAILED("turbo_coolant_temp_c", "°C", -40, 250, RAIL_BOTH),
	[SIG_EGR_VALVE_PCT] = NUM("egr_valve_pct", "%", 0, 100),
	[SIG_COOLANT_LEVEL_LOW] = NUM("coolant_level_low", "", 0, 1),
};

const struct signal_info *signal_info(enum signal_id id)
{
	if (id < 0 || id >= SIG__MAX)
		return NULL;
	return &signals[id];
}

const char *signal_name(enum signal_id id)
{
	const struct signal_info *i = signal_info(id);

	return i ? i->name : "?";
}

enum signal_id signal_from_name(const char *name)
{
	for (int i = 0; i < SIG__MAX; i++)
		if (strcmp(signals[i].name, name) == 0)
			return (enum signal_id)i;
	return SIG_INVALID;
}

bool signal_plausible(enum signal_id id, double value)
{
	const struct signal_info *i = signal_info(id);

	if (!i || i->is_text)
		return false;
	/* NaN fails both comparisons and so is implausible too */
	return value >= i->min && value <= i->max;
}

bool signal_at_rail(enum signal_id id, double value)
{
	const struct signal_info *i = signal_info(id);

	if (!i)
		return false;
	return ((i->rails & SIGNAL_RAIL_MIN) && value == i->min) ||
	       ((i->rails & SIGNAL_RAIL_MAX) && value == i->max);
}

bool signal_usable(enum signal_id id, double value)
{
	const struct signal_info *i = signal_info(id);

	if (!i || i->is_text)
		return false;
	/* a rail end excluded; NaN fails every comparison */
	if ((i->rails & SIGNAL_RAIL_MIN) ? !(value > i->min) :
					   !(value >= i->min))
		return false;
	return (i->rails & SIGNAL_RAIL_MAX) ? value < i->max : value <= i->max;
}

void signal_table_init(struct signal_table *t)
{
	memset(t, 0, sizeof(*t));
}

bool signal_table_get(const struct signal_table *t, enum signal_id id,
		      int64_t now_ns, int64_t max_age_ns, double *ret_value)
{
	const struct signal_slot *s;

	if (id < 0 || id >= SIG__MAX)
		return false;
	s = &t->slot[id];
	if (!s->valid)
		return false;
	if (max_age_ns > 0 && now_ns - s->ts_ns > max_age_ns)
		return false;
	if (!signal_plausible(id, s->value))
		return false;
	*ret_value = s->value;
	return true;
}
