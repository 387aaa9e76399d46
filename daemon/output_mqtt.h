/* output_mqtt.h: DTC events, status and Home Assistant over MQTT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "output.h"

struct ev_loop;

/*
 * MQTT (libmosquitto): each DTC event as output_json_event() plus vehicle,
 * event_id and dtcd_version on TOPIC/VEHICLE/events, sent from the store's
 * outbox (docs/mqtt.md); a retained status on TOPIC/VEHICLE/status,
 * retained online/offline (Last Will) on TOPIC/VEHICLE/online. Needs
 * cfg->mqtt_host. What it reads of the pipeline comes with attach (struct
 * output_env), the store with outbox_attach. It connects on
 * output_mqtt_start().
 */
int output_mqtt_new(struct output *ret, const struct config *cfg, char *errbuf,
		    size_t errlen);
/* Joins the libev loop: connects, reconnects, sends. */
int output_mqtt_start(struct output *o, struct ev_loop *loop);
/* Runs the loop until the broker acknowledged every message or timeout_s
 * passed. Returns the number of messages still unacknowledged. */
unsigned output_mqtt_drain(struct output *o, double timeout_s);
bool output_mqtt_connected(const struct output *o);
