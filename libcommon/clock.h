/*
 * clock: the monotonic clock in milliseconds, for deadlines, timeouts
 * and ages, and the wall clock, only for the ISO 8601 timestamps pdsd
 * stores and shows (see also tid.h).
 */
#ifndef PDS_CLOCK_H
#define PDS_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_ISO_LEN	32	/* room for an ISO timestamp and its NUL */

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
int64_t	clock_mono_ms(void);
/* Seconds of CLOCK_MONOTONIC, with their fraction, for rates. */
double	clock_mono_s(void);

/* Milliseconds since the epoch of CLOCK_REALTIME: may step backwards. */
int64_t	clock_wall_ms(void);

/*
 * The CLOCK_REALTIME time ms milliseconds (not negative) from now, for
 * pthread_cond_timedwait() on a condition with the default clock.
 */
void	clock_deadline(struct timespec *out, int64_t ms);

/* Unix milliseconds (not negative) as "2025-01-02T03:04:05.678Z". */
void	clock_ms_to_iso(int64_t ms, char out[CLOCK_ISO_LEN]);

#endif
