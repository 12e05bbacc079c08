/*
 * jobs: the periodic jobs thread.  See jobs.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "jobs.h"
#include "log.h"
#include "module.h"
#include "store.h"

struct job {
	const char	*name;
	uint64_t	 interval_ms;
	uint64_t	 due_ms;
	job_fn		 fn;
	void		*arg;
};

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct job	 j[JOBS_MAX];
	size_t		 n;
	bool		 running, stopping;
	pthread_t	 thread;
} jobs = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { { 0 } },
    0, false, false, 0 };

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
jobs_add(const char *name, uint64_t interval_ms, job_fn fn, void *arg)
{
	pthread_mutex_lock(&jobs.mu);
	if (jobs.n == JOBS_MAX) {
		pthread_mutex_unlock(&jobs.mu);
		log_warnx("jobs: too many jobs, %s not added", name);
		return PDS_ETOOBIG;
	}
	if (interval_ms == 0)
		interval_ms = 1;
	jobs.j[jobs.n].name = name;
	jobs.j[jobs.n].interval_ms = interval_ms;
	jobs.j[jobs.n].due_ms = now_ms() + interval_ms;
	jobs.j[jobs.n].fn = fn;
	jobs.j[jobs.n].arg = arg;
	jobs.n++;
	pthread_cond_signal(&jobs.cv);
	pthread_mutex_unlock(&jobs.mu);
	return PDS_OK;
}

void
jobs_run_all(void)
{
	struct job	 copy[JOBS_MAX];
	size_t		 i, n;

	pthread_mutex_lock(&jobs.mu);
	n = jobs.n;
	for (i = 0; i < n; i++)
		copy[i] = jobs.j[i];
	pthread_mutex_unlock(&jobs.mu);
	for (i = 0; i < n; i++)
		copy[i].fn(copy[i].arg);
}

static void *
jobs_main(void *arg)
{
	struct timespec	 ts;
	struct job	 run;
	uint64_t	 now, next, wake;
	size_t		 i;
	bool		 have;

	(void)arg;
	(void)pthread_setname_np(pthread_self(), "jobs");
	pthread_mutex_lock(&jobs.mu);
	while (!jobs.stopping) {
		now = now_ms();
		have = false;
		next = now + 60000;
		for (i = 0; i < jobs.n; i++) {
			if (jobs.j[i].due_ms <= now) {
				run = jobs.j[i];
				jobs.j[i].due_ms = now + jobs.j[i].interval_ms;
				have = true;
				break;
			}
			if (jobs.j[i].due_ms < next)
				next = jobs.j[i].due_ms;
		}
		if (have) {
			pthread_mutex_unlock(&jobs.mu);
			log_debug("jobs: running %s", run.name);
			run.fn(run.arg);
			pthread_mutex_lock(&jobs.mu);
			continue;
		}
		/* CLOCK_REALTIME deadline for the wait. */
		clock_gettime(CLOCK_REALTIME, &ts);
		wake = next - now;
		ts.tv_sec += (time_t)(wake / 1000);
		ts.tv_nsec += (long)(wake % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&jobs.cv, &jobs.mu, &ts);
	}
	pthread_mutex_unlock(&jobs.mu);
	store_thread_close();
	return NULL;
}

static int
jobs_init(const struct config *cfg)
{
	(void)cfg;
	pthread_mutex_lock(&jobs.mu);
	jobs.stopping = false;
	if (pthread_create(&jobs.thread, NULL, jobs_main, NULL) != 0) {
		pthread_mutex_unlock(&jobs.mu);
		log_warn("jobs: pthread_create");
		return -1;
	}
	jobs.running = true;
	pthread_mutex_unlock(&jobs.mu);
	return 0;
}

static void
jobs_fini(void)
{
	pthread_mutex_lock(&jobs.mu);
	if (!jobs.running) {
		pthread_mutex_unlock(&jobs.mu);
		return;
	}
	jobs.stopping = true;
	pthread_cond_broadcast(&jobs.cv);
	pthread_mutex_unlock(&jobs.mu);
	pthread_join(jobs.thread, NULL);
	jobs.running = false;
}

PDSD_MODULE(jobs, jobs_init, jobs_fini);
