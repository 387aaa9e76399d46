/* wall.h: the collector's wall clock: received times, waits between retries */
#pragma once

/* seconds since the epoch (CLOCK_REALTIME): what the cars' ts are in */
double wall_now_s(void);
/* sleeps s seconds; a signal ends it early, so callers look at their stop
 * flag after */
void wall_sleep_s(double s);
