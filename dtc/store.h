/* store.h: the DTC store, an SQLite file that survives power loss */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct dtc_store;

/* the file in the state directory (docs and etc/dtcd.conf say DIR/dtcd.db) */
#define DTC_STORE_FILE "dtcd.db"

/* One DTC as the store keeps it (the manager's record, flattened). */
struct dtc_store_dtc {
	const char *code;
	const char *detector;
	enum dtc_severity severity;
	uint8_t status;
	bool stored; /* in event memory: failed since clear/heal */
	unsigned occurrences;
	unsigned failed_cycles; /* operation cycles with a failure, for confirm
				 */
	unsigned
		aging_cycles; /* warm-up cycles without failure since confirm */
	unsigned passed_cycles; /* cycles passed in a row, for the warning lamp
				 */
	int64_t first_failure_ns; /* 0 = none */
	int64_t last_failure_ns;
	const struct dtc_freeze_frame *freeze_frame; /* NULL = none */
	bool freeze_frame_changed; /* write freeze_frame too (NULL erases) */
};

/*
 * Opens (creating when missing) STATE_DIR/DTC_STORE_FILE: WAL journal,
 * synchronous=FULL (see store.c for why). The directory must exist.
 * state_dir NULL: a store in memory, gone with the process (the outbox of
 * a dtcd without --state). After opening, a store another process holds
 * fails at once with -EBUSY (no busy wait): the caller retries later.
 */
int dtc_store_open(struct dtc_store **ret, const char *state_dir, char *errbuf,
		   size_t errlen);
void dtc_store_close(struct dtc_store *s);
/* the last SQLite error message, for logs */
const char *dtc_store_errmsg(const struct dtc_store *s);

/*
 * One transaction per batch of changes: begin, put what changed, commit.
 * After a failed put or commit the caller rolls back and may try the whole
 * batch again; dtc_store_errmsg() keeps the failure's message.
 */
int dtc_store_begin(struct dtc_store *s);
int dtc_store_commit(struct dtc_store *s);
void dtc_store_rollback(struct dtc_store *s);

int dtc_store_put_dtc(struct dtc_store *s, const struct dtc_store_dtc *d);
/* appends to the event history (the oldest rows go beyond a cap), with
 * ev->event_id when not 0 */
int dtc_store_put_event(struct dtc_store *s, const struct dtc_event *ev);
/* named counters: "operation_cycles", "warmup_cycles" */
int dtc_store_put_counter(struct dtc_store *s, const char *name, int64_t value);
/* 0 and *ret_value untouched when the counter was never written */
int dtc_store_get_counter(struct dtc_store *s, const char *name,
			  int64_t *ret_value);

/* Calls cb for each DTC in the store (freeze frame included); stops when
 * cb returns < 0 and returns that. The record is valid during the call. */
int dtc_store_load(struct dtc_store *s,
		   int (*cb)(void *ud, const struct dtc_store_dtc *d),
		   void *ud);

/*
 * The outbox: payloads an output has to deliver, keyed by event_id, put in
 * the transaction of their event and deleted once acknowledged. Beyond a
 * limit (0 = none) the oldest of the lowest severity goes first, a
 * critical one never; *ret_dropped says how many went.
 */
struct dtc_store_limits {
	uint64_t max_events;
	uint64_t max_bytes;
};

int dtc_store_outbox_put(struct dtc_store *s, uint64_t event_id,
			 enum dtc_severity sev, const char *payload,
			 const struct dtc_store_limits *lim,
			 unsigned *ret_dropped);
/* 1 and the first entry after after_id (payload malloc'd), 0 when none */
int dtc_store_outbox_next(struct dtc_store *s, uint64_t after_id,
			  uint64_t *ret_id, char **ret_payload);
/* the broker has it: out of the outbox (own transaction) */
int dtc_store_outbox_ack(struct dtc_store *s, uint64_t event_id);
uint64_t dtc_store_outbox_depth(const struct dtc_store *s);

/*
 * Evidence capsules: the raw frames from before to after a pending or
 * confirmed event (the records of can/frame_ring.h), so the event can be
 * replayed elsewhere. Each put is its own transaction. Beyond max_bytes
 * (0 = no bound) for all capsules the oldest of a DTC no longer in event
 * memory (healed or cleared) go first, then the oldest of any; the new one
 * always stays. *ret_dropped says how many went.
 */
struct dtc_store_capsule {
	const char *code;
	const char *events; /* "pending", "confirmed", "pending confirmed" */
	uint64_t event_id;  /* of the first event, 0: none */
	int64_t event_ns;
	int64_t start_ns, end_ns; /* the window asked for */
	unsigned long frames;
	unsigned long cut; /* frames left out: beyond the capsule's bound */
	bool ring_cut;	   /* the frames from start_ns no longer in memory */
	bool complete;	   /* false: the input ended before end_ns */
	const uint8_t *data;
	size_t len;
};

int dtc_store_capsule_put(struct dtc_store *s,
			  const struct dtc_store_capsule *c, uint64_t max_bytes,
			  unsigned *ret_dropped);
/* the latest capsule of code: cb's result (>= 0) after calling it, or 0
 * and no call when there is none; the record is valid during the call */
int dtc_store_capsule_get(struct dtc_store *s, const char *code,
			  int (*cb)(void *ud,
				    const struct dtc_store_capsule *c),
			  void *ud);
/* number and bytes of the capsules held */
int dtc_store_capsule_stats(struct dtc_store *s, uint64_t *ret_n,
			    uint64_t *ret_bytes);
