/* timebase.c: the daemon's clock from frame times that may jump */
#include <string.h>

#include "timebase.h"

void timebase_init(struct timebase *tb)
{
	memset(tb, 0, sizeof(*tb));
}

static int64_t clamp(int64_t t)
{
	if (t > TIMEBASE_LIMIT_NS)
		return TIMEBASE_LIMIT_NS;
	if (t < -TIMEBASE_LIMIT_NS)
		return -TIMEBASE_LIMIT_NS;
	return t;
}

static bool near(int64_t step)
{
	return step <= TIMEBASE_FORWARD_NS && step >= -TIMEBASE_BACK_NS;
}

static int64_t map(struct timebase *tb, int64_t ts_ns,
		   enum timebase_event *ret_event)
{
	int64_t t = clamp(ts_ns), step, jump;
	enum timebase_event ev = TIMEBASE_NONE;

	if (!tb->started) {
		tb->started = true;
		tb->last = t;
		*ret_event = ev;
		return t;
	}
	/* both within +-2^62 plus an offset within +-2^63: saturate */
	step = timebase_sub(clamp(timebase_add(t, tb->offset)), tb->last);
	if (near(step)) {
		if (tb->pending) {
			tb->pending = false;
			tb->outliers++;
			ev = TIMEBASE_OUTLIER;
		}
		tb->last = clamp(timebase_add(t, tb->offset));
		*ret_event = ev;
		return tb->last;
	}
	if (!tb->pending || !near(timebase_sub(t, tb->cand))) {
		/* a new candidate (an earlier one had no follower) */
		if (tb->pending)
			tb->outliers++;
		tb->pending = true;
		tb->cand = t;
		*ret_event = TIMEBASE_HELD;
		return tb->last;
	}
	/* the candidate's follower: the jump is real */
	tb->pending = false;
	tb->jumps++;
	jump = timebase_sub(clamp(timebase_add(tb->cand, tb->offset)),
			    tb->last);
	tb->jump_ns = jump;
	if (jump > 0 && jump <= TIMEBASE_MAX_GAP_NS) {
		ev = TIMEBASE_GAP;
	} else {
		/* the candidate maps to the clock's last time */
		tb->offset = timebase_sub(tb->last, tb->cand);
		ev = TIMEBASE_NEW_BASE;
	}
	tb->last = clamp(timebase_add(t, tb->offset));
	*ret_event = ev;
	return tb->last;
}

int64_t timebase_map_slow(struct timebase *tb, int64_t ts_ns,
			  enum timebase_event *ret_event)
{
	int64_t last = map(tb, ts_ns, ret_event), c;

	/*
	 * The fast path may take the next frame when the clock is this
	 * frame's time plus the offset exactly, unclamped, with no candidate
	 * pending; its window keeps ts_ns and ts_ns + offset within the
	 * limits.
	 */
	tb->fast = !tb->pending && ts_ns <= TIMEBASE_LIMIT_NS &&
		   ts_ns >= -TIMEBASE_LIMIT_NS &&
		   !__builtin_add_overflow(ts_ns, tb->offset, &c) &&
		   c == last && c < TIMEBASE_LIMIT_NS && c > -TIMEBASE_LIMIT_NS;
	tb->last_ts = ts_ns;
	tb->fast_lo = tb->offset > 0 ? -TIMEBASE_LIMIT_NS :
				       -TIMEBASE_LIMIT_NS - tb->offset;
	tb->fast_hi = tb->offset < 0 ? TIMEBASE_LIMIT_NS :
				       TIMEBASE_LIMIT_NS - tb->offset;
	return last;
}
