/* mqtt_ha.h: Home Assistant MQTT discovery for dtcd's MQTT output */
#pragma once

#include <stdbool.h>

struct catalogue;
struct dtc_manager;
struct output_env;

/* what the discovery messages name: TOPIC/VEHICLE is base */
struct mqtt_ha {
	const char *vehicle; /* topic-safe: letters, digits, _ */
	const char *base;
	const char *status_topic;
	const char *online_topic;
	const char *model; /* the profile */
	bool remove;	   /* mqtt_ha_config() clears the configs instead */
	/* retained publish; the output's own */
	void (*publish)(void *ud, const char *topic, const char *payload);
	void *ud;
};

/*
 * Retained config topics homeassistant/{sensor,binary_sensor}/dtcd_VEHICLE/
 * OBJECT/config: the open DTCs (from the status topic), one problem binary
 * sensor per detector, the MIL; availability from the online topic.
 */
void mqtt_ha_config(const struct mqtt_ha *ha);
/* mqtt_ha_config() with .remove: when the VIN replaces "unknown" */
/* the retained states those sensors read: BASE/detector/NAME, BASE/mil */
void mqtt_ha_state(const struct mqtt_ha *ha, const struct output_env *env,
		   bool ecu_mil);
