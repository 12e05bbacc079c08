/*
 * thread: for pdsd's own threads, how many CPUs there are to size them
 * by, and how to stop one that waits on a condition variable.
 */
#ifndef PDSD_THREAD_H
#define PDSD_THREAD_H

#include <pthread.h>
#include <stdbool.h>

/*
 * The CPUs this process may run on (its affinity mask, else the online
 * ones), at least lo and at most hi.
 */
long	thread_ncpu(long lo, long hi);

/*
 * Set *stop under mu, wake the thread thr waiting on cv for it, and
 * wait for thr to end.
 */
void	thread_stop(pthread_t thr, pthread_mutex_t *mu, pthread_cond_t *cv,
	    bool *stop);

#endif
