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

int64_t timebase_map(struct timebase *tb, int64_t ts_ns,
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
