/*
 * jobs: the periodic jobs thread.  See jobs.h.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "jobs.h"
#include "log.h"
#include "module.h"
#include "stats.h"
#include "store.h"

/*
 * Freed memory goes back to the system.  glibc keeps what is freed in
 * its arenas for the next malloc and returns only the top of an arena
 * by itself; after a burst (a getRepo fan-out, a thousand firehose
 * subscribers, a run of writes) the arenas hold tens of MB of free pages
 * that only malloc_trim() hands back.  Trimming under load would only
 * make the next requests fault the same pages in again, so the job trims
 * once per quiet spell: after a tick (TRIM_TICK_MS) in which no HTTP
 * request finished and no firehose frame went out, following ticks that
 * had some.  A server that is never quiet is trimmed every
 * TRIM_BUSY_TICKS ticks, so what the arenas keep stays bounded by what
 * one such period used.  A trim walks each arena's free chunks under the
 * arena's lock: under 4 ms for the arenas after the benchmark load.
 */
#define TRIM_TICK_MS	500
#define TRIM_BUSY_TICKS	120		/* one minute */

static struct {
	struct stats_counter	*requests, *frames;
	uint64_t		 last;		/* requests + frames seen */
	unsigned		 busy;		/* ticks with activity, untrimmed */
	bool			 added;
} trim;

static void
trim_job(void *arg)
{
	uint64_t	 n;

	(void)arg;
	n = stats_get(trim.requests) + stats_get(trim.frames);
	if (n != trim.last) {
		trim.last = n;
		if (++trim.busy < TRIM_BUSY_TICKS)
			return;
	} else if (trim.busy == 0)
		return;
	trim.busy = 0;
	(void)malloc_trim(0);
}

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
	jobs.j[jobs.n].due_ms = (uint64_t)clock_mono_ms() + interval_ms;
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
	uint64_t	 now, next;
	size_t		 i;
	bool		 have;

	(void)arg;
	(void)pthread_setname_np(pthread_self(), "jobs");
	pthread_mutex_lock(&jobs.mu);
	while (!jobs.stopping) {
		now = (uint64_t)clock_mono_ms();
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
		clock_deadline(&ts, (int64_t)(next - now));
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
	if (!trim.added) {
		trim.requests = stats_counter("http.requests", STATS_RATE);
		trim.frames = stats_counter("firehose.frames", STATS_RATE);
		trim.added = jobs_add("malloc trim", TRIM_TICK_MS, trim_job,
		    NULL) == PDS_OK;
	}
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
