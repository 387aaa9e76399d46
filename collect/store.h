/* store.h: what the collector writes and reads, in db.h's one dialect */
#pragma once

#include <stdbool.h>

#include "db.h"
#include "ingest.h"

struct json_object;

/*
 * Each write runs inside the caller's transaction (db_begin() ..
 * db_commit(): collect/batch.c stores a burst of messages in one); after
 * a failure the caller rolls back. Each is idempotent, so a rolled-back
 * batch is applied again as it is. now: the collector's clock, s since
 * 1970.
 */
/*
 * The vehicles heard of, last seen now, in one statement: n distinct
 * vehicles, whose rows it locks (PostgreSQL) in the order given.
 */
int store_seen(struct db *db, const char *const *vehicles, size_t n,
	       double now);
/*
 * n events in one statement. An event already stored, or earlier in evs
 * (same vehicle and event_id), is left as it is: ret_new[i] false, else
 * true.
 */
int store_events(struct db *db, const struct ingest_event *const *evs, size_t n,
		 double now, bool *ret_new);
/* the DTC list replaced, unless a newer status is stored already */
int store_status(struct db *db, const struct ingest_status *st, double now,
		 bool *ret_applied);
int store_online(struct db *db, const char *vehicle, bool online, double now);

/* which DTCs a query shows */
struct store_filter {
	const char *vehicle;  /* NULL: every vehicle */
	const char *severity; /* at least this one; NULL: any */
};

/*
 * The fleet: an array of vehicles (vehicle, online, last_seen, status_ts,
 * dtcd_version, open: {critical, high, medium, low}), the most critical
 * first; with dtcs, each vehicle's DTC list too.
 */
int store_vehicles(struct db *db, const struct store_filter *f, bool dtcs,
		   struct json_object **ret);
/* One vehicle with its dtcs and its last events (the timeline), oldest
 * first; -ENOENT for a vehicle never heard of. */
int store_vehicle(struct db *db, const char *vehicle, unsigned max_events,
		  struct json_object **ret);
/* severity's rank: low 1 .. critical 4, 0 for anything else */
int store_severity_rank(const char *severity);
