/*
 * ncpu: how many CPUs are online, for sizing thread counts, arenas and
 * semaphores.
 */
#ifndef PDSD_NCPU_H
#define PDSD_NCPU_H

/* The online CPUs, at least lo and at most hi (lo when unknown). */
long	ncpu_between(long lo, long hi);

#endif
