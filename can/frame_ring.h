/* frame_ring.h: the recent raw frames in bounded memory, and their records */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/*
 * A frame as a record of bytes: 18 bytes of header (time, id, flags,
 * length, raw DLC, direction, interface name length), the interface name,
 * the payload. A classic frame on "can0" takes 30 bytes. The records of an
 * evidence capsule are stored as they are in the ring, so the store and the
 * ring share one encoding.
 */
#define FRAME_RECORD_HEADER 18
#define FRAME_RECORD_MAX (FRAME_RECORD_HEADER + FRAME_IFNAMSIZ + FRAME_MAX_DATA)

/* the record of f into buf (FRAME_RECORD_MAX bytes): its length */
size_t frame_record_encode(const struct frame *f, uint8_t *buf);
/* the record at buf[*off]: 1 and *off past it, 0 at the end, -EBADMSG */
int frame_record_next(const uint8_t *buf, size_t len, size_t *off,
		      struct frame *ret_frame);

struct frame_ring;

/* at most max_bytes of records; the oldest go first */
int frame_ring_new(struct frame_ring **ret, size_t max_bytes);
/* Takes NULL. */
void frame_ring_free(struct frame_ring *r);
void frame_ring_push(struct frame_ring *r, const struct frame *f);
/* frames dropped to make room, since the start */
unsigned long frame_ring_dropped(const struct frame_ring *r);
/* the frame time of the oldest record still held; INT64_MAX when empty */
int64_t frame_ring_oldest_ns(const struct frame_ring *r);

/*
 * The records with from_ns <= time <= to_ns, in the order pushed, into a
 * malloc'd *ret_buf of at most max_bytes: when they do not fit, the oldest
 * are left out (the frames nearest to_ns matter most) and *ret_cut counts
 * them. 0 or -ENOMEM.
 */
int frame_ring_copy(const struct frame_ring *r, int64_t from_ns, int64_t to_ns,
		    size_t max_bytes, uint8_t **ret_buf, size_t *ret_len,
		    unsigned long *ret_frames, unsigned long *ret_cut);
