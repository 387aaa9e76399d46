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
 */
int dtc_store_open(struct dtc_store **ret, const char *state_dir, char *errbuf,
		   size_t errlen);
void dtc_store_close(struct dtc_store *s);
/* the last SQLite error message, for logs */
const char *dtc_store_errmsg(const struct dtc_store *s);

/*
 * One transaction per batch of changes: begin, put what changed, commit.
 * After a failed put the caller rolls back (the batch is lost as a whole).
 */
int dtc_store_begin(struct dtc_store *s);
int dtc_store_commit(struct dtc_store *s);
void dtc_store_rollback(struct dtc_store *s);

int dtc_store_put_dtc(struct dtc_store *s, const struct dtc_store_dtc *d);
/* appends to the event history (the oldest rows go beyond a cap) */
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
/* number of rows in the event history (tests, dtcctl) */
int dtc_store_count_events(struct dtc_store *s, int64_t *ret_n);
