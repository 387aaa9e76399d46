/* capsule.h: evidence capsules: the raw frames around each DTC event */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "frame.h"
#include "store.h"

/*
 * The recorder keeps the recent frames in a ring of ring_bytes (the one
 * memory bound: 30 bytes a classic frame, so 8 MiB hold about 280,000
 * frames, 70 s of a bus at 4,000 frames/s). A pending or confirmed event
 * opens a capture; once a frame later than the event plus after_ns comes
 * (or the input ends) the frames from before_ns before the event to
 * after_ns after it go into the store as one capsule of at most
 * capsule_bytes. Events of the same code while its capture is open join
 * it. Time is the frames' own, as everywhere in dtc/.
 */
struct capsule_limits {
	int64_t before_ns, after_ns;
	size_t ring_bytes;
	size_t capsule_bytes;
	uint64_t store_bytes; /* all capsules in the store */
};

struct capsule_recorder;

/* the store stays the caller's; on_error hears of capsules not stored */
int capsule_recorder_new(struct capsule_recorder **ret, struct dtc_store *store,
			 const struct capsule_limits *lim,
			 void (*on_error)(void *ud, const char *msg), void *ud);
/* Takes NULL. Open captures are lost: capsule_recorder_finish() first. */
void capsule_recorder_free(struct capsule_recorder *c);

/* each frame as the pipeline sees it, before it is decoded */
void capsule_recorder_frame(struct capsule_recorder *c, const struct frame *f);
/* each event once stored; other types than pending/confirmed are ignored */
void capsule_recorder_event(struct capsule_recorder *c,
			    const struct dtc_event *ev);
/* the end of the input: the open captures stored with what they have */
void capsule_recorder_finish(struct capsule_recorder *c);
/* a capture of code waits for its after window */
bool capsule_recorder_recording(const struct capsule_recorder *c,
				const char *code);
