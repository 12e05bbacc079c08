/*
 * thread: for pdsd's own threads, how many CPUs there are to size them
 * by, how to stop one that waits on a condition variable, and a handle
 * kept per thread.
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

/*
 * This thread's value under key, made by make() on the thread's first
 * call (the key's destructor frees it when the thread ends).  NULL when
 * make() fails or the key can't hold the value (then drop() frees it).
 */
void	*thread_value(pthread_key_t key, void *(*make)(void),
	    void (*drop)(void *));

#endif
