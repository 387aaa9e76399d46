/* timebase.h: the daemon's clock from frame times that may jump */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Frame times come from whatever wrote the log or stamped the socket: a
 * logger's clock glitches, a relative log restarts at 0, a recording is
 * corrupt. Every time-driven part of dtcd (ticks, operation cycles,
 * detector hold times, the DTC manager) runs on one clock derived from
 * them by this filter, pure (it never reads a clock):
 *
 * - a step of at most TIMEBASE_FORWARD_NS forward or TIMEBASE_BACK_NS
 *   back from the last frame is taken as it is;
 * - a larger step makes the frame a candidate. When the next frame is back
 *   within those bounds of the old clock, the candidate was an outlier:
 *   its time is ignored (the frame is stamped with the clock's time);
 * - when the next frame continues from the candidate (at most
 *   TIMEBASE_FORWARD_NS forward or TIMEBASE_BACK_NS back of it), the jump
 *   is real. Forward by at most TIMEBASE_MAX_GAP_NS, the bus was quiet
 *   (a parked car) and the time passed: the clock follows. Backwards, or
 *   forward by more, the source's clock was set: a new time base starts,
 *   and the daemon's clock continues from where it was, no duration
 *   invented (the candidate frame maps to the clock's last time);
 * - times are held within +-TIMEBASE_LIMIT_NS (146 years around 1970), so
 *   a duration added to any of them never overflows.
 */
#define TIMEBASE_FORWARD_NS INT64_C(5000000000)			/* 5 s */
#define TIMEBASE_BACK_NS INT64_C(1000000000)			/* 1 s */
#define TIMEBASE_MAX_GAP_NS (INT64_C(400) * 86400 * 1000000000) /* 400 d */
#define TIMEBASE_LIMIT_NS (INT64_C(1) << 62)

enum timebase_event {
	TIMEBASE_NONE,
	TIMEBASE_HELD,	   /* a candidate jump, stamped with the clock's time */
	TIMEBASE_OUTLIER,  /* the previous frame was an outlier */
	TIMEBASE_GAP,	   /* a real forward gap: the clock moved with it */
	TIMEBASE_NEW_BASE, /* a real jump: new time base, clock continues */
};

struct timebase {
	bool started;
	bool pending;
	int64_t offset;	 /* clock = frame time + offset */
	int64_t last;	 /* the clock at the last frame */
	int64_t cand;	 /* frame time of the candidate */
	int64_t jump_ns; /* of the last real jump, frame time (signed) */
	unsigned long outliers;
	unsigned long jumps;
	/* the fast path of timebase_map: valid while fast */
	bool fast;
	int64_t last_ts; /* frame time of the last frame: last - offset */
	int64_t fast_lo, fast_hi; /* frame times the clock maps unclamped */
};

void timebase_init(struct timebase *tb);
/* timebase_map without its fast path: every case */
int64_t timebase_map_slow(struct timebase *tb, int64_t ts_ns,
			  enum timebase_event *ret_event);

/*
 * The clock's time for a frame at ts_ns (frame time). Inline for nearly
 * every frame: while the clock is exactly frame time + offset and no jump
 * is pending (tb->fast), a frame a small step after the last one, within
 * the limits, maps to ts_ns + offset as timebase_map_slow would map it.
 */
static inline int64_t timebase_map(struct timebase *tb, int64_t ts_ns,
				   enum timebase_event *ret_event)
{
	/* unsigned: last_ts and ts_ns within +-2^62, no wrap can fake it */
	if (tb->fast && ts_ns >= tb->fast_lo && ts_ns <= tb->fast_hi &&
	    (uint64_t)ts_ns - (uint64_t)tb->last_ts +
			    (uint64_t)TIMEBASE_BACK_NS <=
		    (uint64_t)(TIMEBASE_BACK_NS + TIMEBASE_FORWARD_NS)) {
		tb->last_ts = ts_ns;
		tb->last = ts_ns + tb->offset;
		*ret_event = TIMEBASE_NONE;
		return tb->last;
	}
	return timebase_map_slow(tb, ts_ns, ret_event);
}

/* a - b and a + b, saturated at the int64_t range */
static inline int64_t timebase_sub(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static inline int64_t timebase_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}
