/* ingest.h: what a car publishes, parsed and checked (docs/mqtt.md) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* a payload larger than this is refused unread */
#define INGEST_MAX_PAYLOAD (256 * 1024)
#define INGEST_MAX_ID 64

/* TOPIC/VEHICLE/events: the --json event plus vehicle, event_id,
 * dtcd_version. The strings point into obj. */
struct ingest_event {
	struct json_object *obj; /* the whole payload */
	const char *vehicle;
	int64_t event_id;
	double ts;
	const char *event; /* pending, confirmed, healed, cleared, ecu, ... */
	const char *code;  /* NULL: none (a "dropped" event) */
	const char *severity;
	int status; /* -1: none */
};

/* TOPIC/VEHICLE/status: the retained DTC list */
struct ingest_status {
	struct json_object *obj;
	const char *vehicle;
	double ts;
	const char *dtcd_version;
	int64_t frames, outbox;	  /* -1: not said */
	struct json_object *dtcs; /* array of objects, each with a code */
};

/*
 * 0, or -EINVAL with errbuf saying what is wrong ("event_id: expected a
 * whole number >= 0, got "x""); ret is to be released with
 * ingest_*_free() after a success only.
 */
int ingest_event(const char *payload, size_t len, struct ingest_event *ret,
		 char *errbuf, size_t errlen);
void ingest_event_free(struct ingest_event *ev);
int ingest_status(const char *payload, size_t len, struct ingest_status *ret,
		  char *errbuf, size_t errlen);
void ingest_status_free(struct ingest_status *st);
/* "online" 1, "offline" 0, else -EINVAL */
int ingest_online(const char *payload, size_t len);
/* a vehicle id as topics and the database take it: 1..64 printable
 * characters without / + # */
bool ingest_id_valid(const char *s);
