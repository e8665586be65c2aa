/*
 * timeutil.h — calendar arithmetic shared by the time parser/printer
 * (timeutil.c) and readers that render dates themselves (evtx.c renders
 * FILETIMEs far outside the int64-nanosecond range of tr_time).
 */
#ifndef TR_UTIL_TIMEUTIL_H
#define TR_UTIL_TIMEUTIL_H

#include <stdint.h>

/* The proleptic Gregorian date of `days` since 1970-01-01 (any int64 day
 * count a FILETIME can express). */
void tr_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);
/* Seconds on the monotonic clock, for measuring intervals. */
double tr_monotonic_seconds(void);

#endif
