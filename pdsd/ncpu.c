/*
 * ncpu: how many CPUs are online.  See ncpu.h.
 */
#include <unistd.h>

#include "ncpu.h"

long
ncpu_between(long lo, long hi)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < lo)
		return lo;
	return n > hi ? hi : n;
}
