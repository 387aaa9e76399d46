/* mqtt_ha.c: Home Assistant discovery: retained configs and states */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "catalogue.h"
#include "detector.h"
#include "dtcd-build.h"
#include "manager.h"
#include "mqtt_ha.h"
#include "output_json.h"

static struct json_object *device(const struct mqtt_ha *ha)
{
	struct json_object *d = json_object_new_object(), *ids;
	char buf[128];

	ids = json_object_new_array();
	snprintf(buf, sizeof(buf), "dtcd_%s", ha->vehicle);
	json_object_array_add(ids, json_object_new_string(buf));
	json_object_object_add(d, "identifiers", ids);
	snprintf(buf, sizeof(buf), "dtcd %s", ha->vehicle);
	json_object_object_add(d, "name", json_object_new_string(buf));
	json_object_object_add(d, "manufacturer",
			       json_object_new_string("dtcd"));
	json_object_object_add(
		d, "model",
		json_object_new_string(ha->model ? ha->model : "dtcd"));
	json_object_object_add(d, "sw_version",
			       json_object_new_string(DTCD_VERSION));
	return d;
}

/* one entity: component sensor or binary_sensor, object its id */
static void entity(const struct mqtt_ha *ha, const char *component,
		   const char *object, const char *name, const char *state,
		   const char *value_template, bool attributes)
{
	struct json_object *o = json_object_new_object();
	char topic[512], uid[256];

	snprintf(uid, sizeof(uid), "dtcd_%s_%s", ha->vehicle, object);
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "unique_id", json_object_new_string(uid));
	json_object_object_add(o, "state_topic", json_object_new_string(state));
	json_object_object_add(o, "value_template",
			       json_object_new_string(value_template));
	json_object_object_add(o, "availability_topic",
			       json_object_new_string(ha->online_topic));
	json_object_object_add(o, "payload_available",
			       json_object_new_string("online"));
	json_object_object_add(o, "payload_not_available",
			       json_object_new_string("offline"));
	if (!strcmp(component, "binary_sensor")) {
		json_object_object_add(o, "device_class",
				       json_object_new_string("problem"));
		json_object_object_add(o, "payload_on",
				       json_object_new_string("ON"));
		json_object_object_add(o, "payload_off",
				       json_object_new_string("OFF"));
	}
	if (attributes)
		json_object_object_add(o, "json_attributes_topic",
				       json_object_new_string(state));
	json_object_object_add(o, "device", device(ha));
	snprintf(topic, sizeof(topic), "homeassistant/%s/dtcd_%s/%s/config",
		 component, ha->vehicle, object);
	/* an empty retained config removes the entity */
	ha->publish(ha->ud, topic, ha->remove ? "" : output_json_string(o));
	json_object_put(o);
}

void mqtt_ha_config(const struct mqtt_ha *ha)
{
	char state[512];

	entity(ha, "sensor", "open_dtcs", "Open DTCs", ha->status_topic,
	       "{{ value_json.open_dtcs }}", false);
	snprintf(state, sizeof(state), "%s/mil", ha->base);
	entity(ha, "binary_sensor", "mil", "Malfunction indicator lamp", state,
	       "{{ value_json.state }}", true);
	for (size_t i = 0; i < detectors_count(); i++) {
		const char *name = detectors_name(i);

		snprintf(state, sizeof(state), "%s/detector/%s", ha->base,
			 name);
		entity(ha, "binary_sensor", name, name, state,
		       "{{ value_json.state }}", true);
	}
}

/* the worst current DTC of a detector (NULL: none): the sensor's ON */
static void detector_state(const struct mqtt_ha *ha,
			   const struct output_env *env, const char *name)
{
	const struct dtc_manager *m = env->manager;
	const struct catalogue *c = env->catalogue;
	struct json_object *o = json_object_new_object(), *codes;
	const struct catalogue_entry *e;
	struct dtc_info d, worst = { 0 };
	char topic[512];

	codes = json_object_new_array();
	for (size_t i = 0; m && i < dtc_manager_n_dtcs(m); i++) {
		if (dtc_manager_dtc(m, i, &d) < 0 || strcmp(d.detector, name) ||
		    !(d.status & (DTC_ST_PENDING | DTC_ST_CONFIRMED)))
			continue;
		json_object_array_add(codes, json_object_new_string(d.code));
		if (!worst.code || d.severity > worst.severity)
			worst = d;
	}
	e = worst.code && c ? catalogue_find(c, worst.code) : NULL;
	json_object_object_add(
		o, "state", json_object_new_string(worst.code ? "ON" : "OFF"));
	json_object_object_add(o, "code",
			       worst.code ? json_object_new_string(worst.code) :
					    NULL);
	json_object_object_add(o, "severity",
			       worst.code ?
				       json_object_new_string(dtc_severity_name(
					       worst.severity)) :
				       NULL);
	json_object_object_add(
		o, "action",
		e && e->action ? json_object_new_string(e->action) : NULL);
	json_object_object_add(o, "codes", codes);
	json_object_object_add(
		o, "active",
		json_object_new_boolean(
			env->detectors &&
			detectors_is_active(env->detectors, name)));
	snprintf(topic, sizeof(topic), "%s/detector/%s", ha->base, name);
	ha->publish(ha->ud, topic, output_json_string(o));
	json_object_put(o);
}

void mqtt_ha_state(const struct mqtt_ha *ha, const struct output_env *env,
		   bool ecu_mil)
{
	const struct dtc_manager *m = env->manager;
	struct json_object *o = json_object_new_object(), *codes;
	bool mil = ecu_mil;
	struct dtc_info d;
	char topic[512];

	codes = json_object_new_array();
	for (size_t i = 0; m && i < dtc_manager_n_dtcs(m); i++)
		if (dtc_manager_dtc(m, i, &d) == 0 &&
		    (d.status & DTC_ST_WARNING_INDICATOR)) {
			mil = true;
			json_object_array_add(codes,
					      json_object_new_string(d.code));
		}
	json_object_object_add(o, "state",
			       json_object_new_string(mil ? "ON" : "OFF"));
	json_object_object_add(o, "ecu_mil", json_object_new_boolean(ecu_mil));
	json_object_object_add(o, "codes", codes);
	snprintf(topic, sizeof(topic), "%s/mil", ha->base);
	ha->publish(ha->ud, topic, output_json_string(o));
	json_object_put(o);
	for (size_t i = 0; i < detectors_count(); i++)
		detector_state(ha, env, detectors_name(i));
}
