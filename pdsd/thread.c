/*
 * thread: CPU counts, stopping a waiting thread and per-thread values.
 * See thread.h.
 */
#include <sched.h>
#include <unistd.h>

#include "thread.h"

long
thread_ncpu(long lo, long hi)
{
	cpu_set_t	 set;
	long		 n;

	/* those this process may run on: taskset, a container's cpuset */
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    CPU_COUNT(&set) > 0)
		n = CPU_COUNT(&set);
	else
		n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < lo)
		return lo;
	return n > hi ? hi : n;
}

void
thread_stop(pthread_t thr, pthread_mutex_t *mu, pthread_cond_t *cv,
    bool *stop)
{
	pthread_mutex_lock(mu);
	*stop = true;
	pthread_cond_signal(cv);
	pthread_mutex_unlock(mu);
	pthread_join(thr, NULL);
}

void *
thread_value(pthread_key_t key, void *(*make)(void), void (*drop)(void *))
{
	void	*v;

	if ((v = pthread_getspecific(key)) != NULL)
		return v;
	if ((v = make()) == NULL)
		return NULL;
	if (pthread_setspecific(key, v) != 0) {
		drop(v);
		return NULL;
	}
	return v;
}
