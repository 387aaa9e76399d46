/* batch.h: the messages read together, stored in one transaction */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "ingest.h"

/*
 * One commit (one fsync) for a burst instead of one per message: committed
 * message by message, a collector was bound by the disk's flush rate, not
 * its CPU. The bounds are the loss window of a collector killed after
 * libmosquitto's PUBACK and before the commit (docs/fleet.md): at most
 * BATCH_MAX messages, read within BATCH_WAIT s. 1,024 rather than 256: a
 * collector that fell behind (a stall) catches up with four times the
 * events per commit: at 10,000 events/s p99 0.4 s against 1.5-3 s
 * (bench/collect_load.py).
 */
#define BATCH_MAX 1024
#define BATCH_WAIT 0.05

struct batch;

/* what has been committed since batch_new() */
struct batch_stats {
	unsigned long events, duplicates, statuses, onlines, commits;
	double seconds; /* in the database: from BEGIN to COMMIT, retries */
};

/* stop: a failed commit is retried until it succeeds or *stop is set */
int batch_new(struct batch **ret, struct db *db, volatile sig_atomic_t *stop);
/* Takes NULL. What is held is dropped: batch_commit() first. */
void batch_free(struct batch *b);

/*
 * Each takes the message over (ev, st are released by the batch) and
 * holds it until batch_commit(); a batch that becomes full is committed
 * at once.
 */
void batch_add_event(struct batch *b, struct ingest_event *ev);
void batch_add_status(struct batch *b, struct ingest_status *st);
void batch_add_online(struct batch *b, const char *vehicle, bool online);

bool batch_empty(const struct batch *b);
/*
 * Whether to commit now: something is held and more_readable is false
 * (the burst is read), or the first message held is BATCH_WAIT old.
 */
bool batch_due(const struct batch *b, bool more_readable);
/*
 * Stores everything held in one transaction, received (and last seen) at
 * the collector's clock of the first try. A failure rolls it back and
 * applies the whole batch again, doubling a pause from 0.1 s to 5 s,
 * reading nothing meanwhile; storing twice is harmless (unique keys,
 * upserts). Gives up (and says what is lost) only once *stop is set.
 */
void batch_commit(struct batch *b);
const struct batch_stats *batch_stats(const struct batch *b);
