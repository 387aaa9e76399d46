/* wall.c: the collector's wall clock */
#include <time.h>

#include "wall.h"

double wall_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void wall_sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (long)s) * 1e9) };

	nanosleep(&ts, NULL);
}
