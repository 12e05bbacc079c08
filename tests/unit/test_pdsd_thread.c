/*
 * test_pdsd_thread: thread_ncpu() and thread_stop().
 */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <unistd.h>

#include "../../pdsd/thread.h"

#include "t.h"

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv = PTHREAD_COND_INITIALIZER;
static bool		 stop, saw_stop;

static void *
waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stop)
		pthread_cond_wait(&cv, &mu);
	saw_stop = true;
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void
test_ncpu(void)
{
	cpu_set_t	 saved, one;
	long		 n;
	int		 cpu;

	t_group("thread_ncpu");
	CHECK(thread_ncpu(1, 1) == 1, "at most hi");
	CHECK(thread_ncpu(100000, 200000) == 100000, "at least lo");
	if (sched_getaffinity(0, sizeof(saved), &saved) != 0) {
		CHECK(0, "sched_getaffinity");
		t_group_end();
		return;
	}
	n = CPU_COUNT(&saved);
	CHECK(thread_ncpu(1, 100000) == n, "the CPUs we may run on: %ld "
	    "of %ld", thread_ncpu(1, 100000), n);
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &saved); cpu++)
		;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == 0) {
		CHECK(thread_ncpu(1, 100000) == 1, "pinned to one CPU: %ld",
		    thread_ncpu(1, 100000));
		CHECK(sched_setaffinity(0, sizeof(saved), &saved) == 0,
		    "affinity restored");
	}
	t_group_end();
}

static void
test_stop(void)
{
	pthread_t	 thr;

	t_group("thread_stop");
	CHECK(pthread_create(&thr, NULL, waiter, NULL) == 0, "started");
	thread_stop(thr, &mu, &cv, &stop);
	CHECK(stop && saw_stop, "the flag is set and the thread saw it");
	t_group_end();
}

int
main(void)
{
	test_ncpu();
	test_stop();
	return t_done("test_pdsd_thread");
}
