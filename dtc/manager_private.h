/* manager_private.h: the DTC manager's state, shared by its two files */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manager.h"
#include "policy.h"

#define CODE_MAX DTC_POLICY_CODE_MAX
#define DETECTOR_MAX DTC_POLICY_DETECTOR_MAX
/* status after a clear, and of a DTC never tested */
#define ST_CLEARED                               \
	(DTC_ST_TEST_NOT_COMPLETED_SINCE_CLEAR | \
	 DTC_ST_TEST_NOT_COMPLETED_THIS_OP_CYCLE)

struct entry {
	char code[CODE_MAX];
	struct dtc_policy pol;
	enum dtc_severity severity; /* now: the last failure's, or policy's */
	uint8_t status;
	bool stored;
	unsigned occurrences, failed_cycles, aging_cycles, passed_cycles;
	int64_t first_ns, last_ns;
	bool has_ff;
	struct dtc_freeze_frame ff;
	/* debounce, not persisted (AUTOSAR does not either by default) */
	int counter;
	int timer_dir; /* +1 towards failed, -1 towards passed, 0 idle */
	bool timer_running;
	int64_t timer_since;
	/* changed in this batch */
	bool dirty, ff_dirty;
};

enum { SVC_STORED, SVC_PENDING, SVC_PERMANENT, SVC__MAX };

struct ecu {
	uint32_t id;
	bool have_status;
	int mil_on, dtc_count;
	bool have_codes[SVC__MAX];
	uint16_t *codes[SVC__MAX];
	size_t n_codes[SVC__MAX];
};

/* an event waiting for its batch to be committed */
struct queued {
	struct dtc_event ev;
	char code[CODE_MAX];
	char detector[DETECTOR_MAX];
	struct entry *entry; /* freeze frame source, NULL for none */
};

struct dtc_manager {
	struct dtc_policy defaults;
	struct entry **entries; /* sorted by code, each allocated alone */
	size_t n, cap;
	struct ecu *ecus;
	size_t n_ecus;
	struct dtc_store *store;
	void (*on_event)(void *ud, const struct dtc_event *ev);
	void *ud;
	void (*on_error)(void *ud, const char *msg);
	void *err_ud;
	/* the daemon's last values, for freeze frames (NULL: none) */
	const struct signal_table *signals;
	uint64_t operation_cycles, warmup_cycles;
	bool counters_dirty;
	bool any_dirty; /* an entry is dirty (mark()) */
	bool timers;	/* an entry's debounce timer may run */
	struct queued *queue;
	size_t n_queue, cap_queue;
	/* the last event_id given; written with every batch of events */
	uint64_t last_event_id;
	bool have_event_id; /* the store had one */
	/* the outbox's payload of an event (malloc'd), NULL: no outbox */
	char *(*encode)(void *ud, const struct dtc_event *ev);
	void *enc_ud;
	struct dtc_store_limits limits;
	/* a batch failed to commit: it waits for dtc_manager_retry() */
	bool failing;
	/* what may wait while failing (0: DTC_MANAGER_QUEUE_MAX), and what
	 * that bound dropped since the last commit (told in a "dropped"
	 * event of code QUEUE) */
	size_t queue_max;
	unsigned queue_dropped;
	char last_error[256];
};

/* manager.c: the entry of a code, NULL if none; a new one with defaults */
struct entry *manager_entry_find(const struct dtc_manager *m, const char *code);
struct entry *manager_entry_add(struct dtc_manager *m, const char *code);
/* manager.c: an event into the batch (ff_src: its freeze frame, or NULL) */
void manager_queue_event(struct dtc_manager *m, enum dtc_event_type type,
			 int64_t ts_ns, const char *code, const char *detector,
			 enum dtc_severity sev, uint8_t status,
			 unsigned occurrences, struct entry *ff_src);
/* the queued event's pointers into its own copies */
void manager_event_bind(struct queued *q);

/*
 * manager_store.c: one transaction for what changed in the batch (0 or
 * -errno, told to on_error); the entries and counters back at start.
 */
int manager_store_persist(struct dtc_manager *m);
int manager_store_restore(struct dtc_manager *m, char *errbuf, size_t errlen);
