/* subscribe.h: the collector's MQTT side: every car's events into the db */
#pragma once

#include <signal.h>

#include "db.h"
#include "settings.h"

/*
 * Connects (MQTT v5, persistent session, QoS 1, TLS and login as [mqtt]
 * says), subscribes TOPIC/+/events ($share/GROUP/TOPIC/+/events with a
 * group), TOPIC/+/status and TOPIC/+/online, and stores the messages in
 * db, those read in one burst in one transaction (batch.h), until *stop;
 * what is held then is committed. 0, or -errno with errbuf saying why it
 * could not start.
 */
int subscribe_run(const struct settings *s, struct db *db,
		  volatile sig_atomic_t *stop, char *errbuf, size_t errlen);
