/*
 * clock: the monotonic and wall clocks.  See clock.h.
 */
#include <stdio.h>
#include <time.h>

#include "clock.h"

/* Milliseconds of the clock id. */
static int64_t
ms_of(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_mono_ms(void)
{
	return ms_of(CLOCK_MONOTONIC);
}

double
clock_mono_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t
clock_wall_ms(void)
{
	return ms_of(CLOCK_REALTIME);
}

void
clock_deadline(struct timespec *out, int64_t ms)
{
	clock_gettime(CLOCK_REALTIME, out);
	out->tv_sec += (time_t)(ms / 1000);
	out->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

void
clock_ms_to_iso(int64_t ms, char out[CLOCK_ISO_LEN])
{
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);
	size_t		 n;

	gmtime_r(&t, &tm);
	n = strftime(out, CLOCK_ISO_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, CLOCK_ISO_LEN - n, ".%03dZ", (int)(ms % 1000));
}
