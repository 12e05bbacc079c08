/* Unit tests: libcommon/clock.c's deadline for pthread_cond_timedwait. */
#include <stdint.h>
#include <time.h>

#include "clock.h"
#include "t.h"

static int64_t
realtime_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

static void
test_deadline(void)
{
	static const int64_t ms[] = { 0, 1, 200, 999, 1000, 1001, 60000 };
	struct timespec	 before, d, after;
	size_t		 i;

	t_group("deadline");
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		clock_gettime(CLOCK_REALTIME, &before);
		clock_deadline(&d, ms[i]);
		clock_gettime(CLOCK_REALTIME, &after);
		CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L,
		    "+%lld ms: nanoseconds in range (%ld)", (long long)ms[i],
		    d.tv_nsec);
		CHECK(realtime_ms(&d) >= realtime_ms(&before) + ms[i] &&
		    realtime_ms(&d) <= realtime_ms(&after) + ms[i],
		    "+%lld ms: between the clock before and after, plus it",
		    (long long)ms[i]);
	}
	t_group_end();
}

int
main(void)
{
	test_deadline();
	return t_done("test_clock");
}
