/*
 * jobs: one thread that runs periodic work (temporary blob sweeping,
 * and whatever other modules add: token clean-up, event-log pruning,
 * crawler notification, stats sampling).
 *
 * Jobs run one at a time on the jobs thread, which has its own SQLite
 * connection; a job should finish in well under its interval and must
 * not block on the network for long.  jobs_add() may be called at any
 * time (typically from a module's init); the thread is started and
 * stopped by the jobs module itself.
 */
#ifndef PDSD_JOBS_H
#define PDSD_JOBS_H

#include <stdint.h>

#define JOBS_MAX	32

typedef void	(*job_fn)(void *arg);

/*
 * Run fn(arg) every interval_ms milliseconds (the first run one
 * interval after it is added).  name is a static string for logs.
 * PDS_ETOOBIG when JOBS_MAX jobs exist.
 */
int	jobs_add(const char *name, uint64_t interval_ms, job_fn fn, void *arg);

/* Run every job once now, on the caller's thread (for tests). */
void	jobs_run_all(void);

#endif
