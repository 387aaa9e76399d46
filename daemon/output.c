/* output.c: shared helpers of the outputs */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "output.h"

void output_free(struct output *o)
{
	if (o && o->ops && o->ops->free)
		o->ops->free(o->state);
}

void output_format_ts(char *buf, size_t len, int64_t ts_ns)
{
	/* integer arithmetic: a double would round a 1.8e9 s timestamp */
	int64_t us = ts_ns / 1000;
	const char *sign = "";

	if (us < 0) {
		sign = "-";
		us = -us;
	}
	snprintf(buf, len, "%s%" PRId64 ".%06" PRId64, sign, us / 1000000,
		 us % 1000000);
}

int64_t output_env_now(const struct output_env *env)
{
	if (!env || !env->frame_ns)
		return 0;
	return *env->frame_ns > *env->tick_ns ? *env->frame_ns : *env->tick_ns;
}
