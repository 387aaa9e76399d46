/* signal.h: the canonical engine signals of the reference vehicle spec */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Every decoder output and every detector input is one of these; a vehicle
 * profile binds each to a source. Keep in step with spec section 1 and 2.
 */
enum signal_id {
	SIG_ENGINE_SPEED_RPM,
	SIG_COOLANT_TEMP_C,
	SIG_OIL_TEMP_C,
	SIG_ENGINE_RUN_STATE,
	SIG_IGNITION_ON,
	SIG_BATTERY_VOLTAGE_V,
	SIG_TORQUE_MAX_AVAILABLE_NM,
	SIG_ECU_MIL_ON,
	SIG_ECU_DTC_COUNT,
	SIG_VEHICLE_SPEED_KMH,
	SIG_ENGINE_RUN_TIME_S,
	SIG_EGR_COMMANDED_PCT,
	SIG_AMBIENT_TEMP_C,
	SIG_EGR_TEMP_C,
	SIG_MISFIRE_COUNT_CYL_1,
	SIG_MISFIRE_COUNT_CYL_2,
	SIG_MISFIRE_COUNT_CYL_3,
	SIG_MISFIRE_COUNT_CYL_4,
	SIG_MISFIRE_COUNT_CYL_5,
	SIG_MISFIRE_COUNT_CYL_6,
	SIG_MISFIRE_COUNT_CYL_7,
	SIG_MISFIRE_COUNT_CYL_8,
	SIG_MISFIRE_COUNT_CYL_9,
	SIG_MISFIRE_COUNT_CYL_10,
	SIG_MISFIRE_COUNT_CYL_11,
	SIG_MISFIRE_COUNT_CYL_12,
	SIG_VIN,
	SIG_ODOMETER_KM,
	SIG_VANOS_INTAKE_TARGET_DEG,
	SIG_VANOS_INTAKE_ACTUAL_DEG,
	SIG_VANOS_EXHAUST_TARGET_DEG,
	SIG_VANOS_EXHAUST_ACTUAL_DEG,
	SIG_ENGINE_EMERGENCY_MODE,
	SIG_ENGINE_POWER_REDUCED,
	SIG_FUEL_HEATER_ON,
	SIG_FUEL_HEATER_CURRENT_A,
	SIG_BATTERY_CURRENT_A,
	SIG_TURBO_PUMP_DUTY_PCT,
	SIG_TURBO_PUMP_SPEED_RPM,
	SIG_TURBO_COOLANT_TEMP_C,
	SIG_EGR_VALVE_PCT,
	SIG_COOLANT_LEVEL_LOW,
	SIG__MAX,
	SIG_INVALID = -1,
};

#define SIG_MISFIRE_MAX_CYL 12
#define SIG_VIN_LEN 17

/*
 * Range ends that are no measurement: a sensor that is open or shorted
 * reports one (the OBD encodings 0x00 and 0xFF of a temperature are -40
 * and 215 °C). Signals whose range ends are normal readings (a stopped
 * pump at 0 rpm, 0 A, 0 % duty, the booleans) have none.
 */
enum signal_rail {
	SIGNAL_RAIL_NONE = 0,
	SIGNAL_RAIL_MIN = 1,
	SIGNAL_RAIL_MAX = 2,
	SIGNAL_RAIL_BOTH = 3,
};

struct signal_info {
	const char *name; /* as in the spec and the JSON output */
	const char *unit;
	bool is_text; /* vin: a string, never a number */
	/* the sensor's physical range: outside it a value is implausible */
	double min, max;
	enum signal_rail rails;
};

const struct signal_info *signal_info(enum signal_id id);
const char *signal_name(enum signal_id id);
/* SIG_INVALID when unknown */
enum signal_id signal_from_name(const char *name);
bool signal_plausible(enum signal_id id, double value);
/* value is exactly at one of the signal's rails: no measurement */
bool signal_at_rail(enum signal_id id, double value);
/* plausible and not at a rail, in one look at the table */
bool signal_usable(enum signal_id id, double value);

/* The last value of each canonical signal, with the frame time it came at. */
struct signal_slot {
	int64_t ts_ns; /* frame time of the last update; 0 = never */
	bool valid;    /* false: never seen, or the ECU answered "no value" */
	double value;
	char text[SIG_VIN_LEN + 1];
	uint32_t
		src; /* CAN ID the value came from (answering ECU or message) */
};

struct signal_table {
	struct signal_slot slot[SIG__MAX];
};

void signal_table_init(struct signal_table *t);
/*
 * A value usable now: seen, valid, plausible and not older than max_age_ns
 * (0 = any age). Returns false otherwise and leaves *ret_value untouched.
 */
bool signal_table_get(const struct signal_table *t, enum signal_id id,
		      int64_t now_ns, int64_t max_age_ns, double *ret_value);
