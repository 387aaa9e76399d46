/* manager.h: the DTC manager: debounce, status byte, cycles, aging, store */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "report.h"
#include "signal.h"
#include "store.h"

struct dtc_manager;

/*
 * Loads the per-DTC policy from dtc_ini_path (see docs/dtc.md for the keys)
 * and, when store is not NULL, restores the DTCs and cycle counters from it.
 * The manager does not own the store. on_event is called for each event
 * after it is committed to the store (in the order the events happened).
 * Errors name file:line.
 */
int dtc_manager_new(struct dtc_manager **ret, const char *dtc_ini_path,
		    struct dtc_store *store,
		    void (*on_event)(void *ud, const struct dtc_event *ev),
		    void *ud, char *errbuf, size_t errlen);
void dtc_manager_free(struct dtc_manager *m);

/*
 * Store failures do not stop the manager: the batch that failed to commit
 * and every later one wait in memory, in order, and are announced once
 * dtc_manager_retry() commits them (an event goes out only once it is
 * stored). on_error, when set, gets the store's message, once per kind of
 * failure. The default is silence; the daemon logs them.
 */
void dtc_manager_set_error_handler(struct dtc_manager *m,
				   void (*on_error)(void *ud, const char *msg),
				   void *ud);

/* a batch waits for the store (the caller's back-off retries it) */
bool dtc_manager_store_failing(const struct dtc_manager *m);
/* events waiting for the store */
size_t dtc_manager_waiting(const struct dtc_manager *m);
/* commits what waits and announces it: 0, or -EAGAIN when it failed again */
int dtc_manager_retry(struct dtc_manager *m);
/*
 * While the store fails, at most max events wait (0: the default
 * DTC_MANAGER_QUEUE_MAX, about 2 MB); past it the oldest of the lowest
 * severity goes, as in the outbox, never a critical one. The next commit
 * adds a "dropped" event (code QUEUE) with their number.
 */
#define DTC_MANAGER_QUEUE_MAX 10000
void dtc_manager_set_queue_max(struct dtc_manager *m, size_t max);

/*
 * The outbox (needs a store): each event's payload, from encode, is put
 * into the store's outbox in the transaction of the event, within limits
 * (see dtc_store_outbox_put; a drop becomes a "dropped" event).
 */
void dtc_manager_set_outbox(struct dtc_manager *m,
			    char *(*encode)(void *ud,
					    const struct dtc_event *ev),
			    void *ud, const struct dtc_store_limits *limits);
/*
 * event_id of the events: one more per event, kept in the store. A store
 * that never had one (a new one, or in memory) starts after seed, which
 * the daemon takes from the wall clock so ids still grow across restarts.
 */
void dtc_manager_seed_event_id(struct dtc_manager *m, uint64_t seed);

/* a dtc_sink target: the manager as userdata */
void dtc_manager_report(struct dtc_manager *m, int64_t ts_ns,
			const struct dtc_report *r);
void dtc_manager_sink_report(void *userdata, int64_t ts_ns,
			     const struct dtc_report *r);

/*
 * The table of last values a freeze frame is taken from: the daemon's own
 * (the pipeline's, as the detectors read it), not a copy; it must outlive
 * the manager. Without one, freeze frames are empty.
 */
void dtc_manager_set_signals(struct dtc_manager *m,
			     const struct signal_table *signals);

/* operation cycle boundaries from the daemon's struct cycle (spec 2) */
void dtc_manager_cycle_started(struct dtc_manager *m, int64_t ts_ns);
void dtc_manager_cycle_ended(struct dtc_manager *m, int64_t ts_ns, bool warmup);

/* time passes without reports: time-based debounce can qualify */
void dtc_manager_on_tick(struct dtc_manager *m, int64_t now_ns);

/* What ECUs say themselves (OBD 01 01; Mode 03/07/0A): an "ecu" event when
 * a state is first seen and when it changes. mil_on/dtc_count -1 = unknown. */
void dtc_manager_ecu_status(struct dtc_manager *m, int64_t ts_ns,
			    uint32_t ecu_id, int mil_on, int dtc_count);
void dtc_manager_ecu_codes(struct dtc_manager *m, int64_t ts_ns,
			   uint32_t ecu_id, uint8_t service,
			   const uint16_t *codes, size_t n);

/*
 * As UDS 0x14 ClearDiagnosticInformation: status 0x50, counters and freeze
 * frame erased, a "cleared" event per DTC. code NULL = all DTCs that hold
 * anything. -ENOENT for a code the manager does not know.
 */
int dtc_manager_clear(struct dtc_manager *m, int64_t ts_ns, const char *code);

/* A DTC as dtcctl and --list show it; pointers valid until the next call
 * into the manager. */
struct dtc_info {
	const char *code;
	const char *detector;
	enum dtc_severity severity;
	uint8_t status;
	bool stored; /* in event memory (failed since the last clear/heal) */
	unsigned occurrences;
	unsigned failed_cycles;
	unsigned aging_cycles;
	int64_t first_failure_ns; /* 0 = never */
	int64_t last_failure_ns;
	const struct dtc_freeze_frame *freeze_frame; /* NULL = none */
};

/* every DTC the manager knows (dtc.ini and reported), in code order */
size_t dtc_manager_n_dtcs(const struct dtc_manager *m);
int dtc_manager_dtc(const struct dtc_manager *m, size_t i,
		    struct dtc_info *ret_info);
/* -ENOENT when unknown */
int dtc_manager_find(const struct dtc_manager *m, const char *code,
		     struct dtc_info *ret_info);

/* completed operation and warm-up cycles since the store was created */
uint64_t dtc_manager_operation_cycles(const struct dtc_manager *m);
uint64_t dtc_manager_warmup_cycles(const struct dtc_manager *m);
