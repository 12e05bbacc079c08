/*
 * test_pdsd_thread: thread_ncpu(), thread_stop() and thread_value().
 */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
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

static int	 made, dropped, freed;

static void *
make_int(void)
{
	made++;
	return malloc(sizeof(int));
}

static void
drop_int(void *p)
{
	dropped++;
	free(p);
}

static void
free_int(void *p)
{
	freed++;
	free(p);
}

struct other {
	pthread_key_t	 key;
	void		*v;	/* its value, while it ran */
};

static void *
other_thread(void *arg)
{
	struct other	*o = arg;

	o->v = thread_value(o->key, make_int, drop_int);
	return NULL;
}

static void
test_value(void)
{
	pthread_key_t	 key;
	pthread_t	 thr;
	struct other	 other;
	void		*v;

	t_group("thread_value");
	CHECK(pthread_key_create(&key, free_int) == 0, "key");
	v = thread_value(key, make_int, drop_int);
	CHECK(v != NULL && made == 1, "made on first use");
	CHECK(thread_value(key, make_int, drop_int) == v && made == 1,
	    "kept for the thread");
	other.key = key;
	CHECK(pthread_create(&thr, NULL, other_thread, &other) == 0 &&
	    pthread_join(thr, NULL) == 0, "another thread");
	CHECK(other.v != NULL && other.v != v && made == 2 && freed == 1,
	    "its own value, freed when it ended");
	CHECK(dropped == 0, "nothing dropped");
	pthread_setspecific(key, NULL);
	free(v);
	pthread_key_delete(key);
	t_group_end();
}

int
main(void)
{
	test_ncpu();
	test_stop();
	test_value();
	return t_done("test_pdsd_thread");
}
