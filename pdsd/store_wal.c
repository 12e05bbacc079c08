/*
 * store_wal: the repo writer's side of the write-ahead log.  See
 * store_wal.h.
 *
 * The log's size is bounded three ways:
 *
 *   - the jobs thread's checkpoint (every second) copies the log into
 *     the database, and past a quarter of the bound asks for a short
 *     RESTART so that the next COMMIT starts at the beginning of the
 *     file.  Under steady writes and reads that RESTART keeps losing
 *     (to a reader still on the log, or to the writer itself, which
 *     holds the write lock most of the time), so alone it lets the log
 *     grow without end: 1.4 GB after 36,000 commits;
 *   - before a group that could take the file past the bound (the log
 *     ends where the largest recent group, and a quarter more, would
 *     cross it), the writer thread itself, holding no lock, runs a
 *     RESTART checkpoint and waits for it to win, up to BOUND_WAIT_MS,
 *     so that the group starts the log over instead of growing the file
 *     (checking after the fact let a group add 4 MB past a 64 MB
 *     bound): no new frames arrive meanwhile, so it
 *     only waits for the readers already on the log to finish, and new
 *     readers read the database file.  Requests queue up for that
 *     time (and for the rest of a periodic checkpoint already under
 *     way, whose length the bound also limits) and go out in the
 *     next, larger group.  A reader that holds its snapshot longer
 *     than that (a getRepo stream to a slow client) makes the attempt
 *     fail; the writer goes on and tries again BOUND_RETRY_MS later,
 *     so such a reader costs writes at most a fifth of their time.
 *     Past half as much again (BOUND_HARD), the writer tries before
 *     every group: writes slow down to one group per BOUND_WAIT_MS
 *     (a group takes every commit queued meanwhile, up to 1,000)
 *     rather than let the log grow at their pace while the reader
 *     lasts;
 *   - after a restart the writer's first COMMIT trims the file to the
 *     bound (journal_size_limit), should a reader have let it pass,
 *     and when quiet (no new frames for a checkpoint period) the jobs
 *     thread truncates it to nothing, so the space comes back without
 *     a stop.  Not lower under load: a log file overwritten in place
 *     syncs without its size, and one that grows again after each
 *     truncation pays for its blocks again (at 10,000 members a trim
 *     to a quarter of the bound cost 8% more CPU per commit, in ext4's
 *     block allocation).
 *
 * Durability is unchanged.  A checkpoint first syncs the log (with
 * synchronous=NORMAL too), copies it into the database, syncs that,
 * and only then may the log start over: a group that was committed
 * but not yet synced by the syncer is on disk in the database before
 * its frames can be overwritten, and the syncer's fdatasync of the log
 * (the same file, truncated or not) covers the frames after it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "log.h"
#include "store_internal.h"
#include "store_wal.h"

/* A checkpoint run that finds this much of the log asks for a RESTART. */
#define RESTART_DIVISOR		4
/* How long the jobs thread's restart may wait (and hold the writer). */
#define RESTART_WAIT_MS		20
/* How long the writer waits for its RESTART past the bound. */
#define BOUND_WAIT_MS		250
/* Each try's own wait: SQLite's busy handler sleeps longer and longer. */
#define BOUND_TRY_MS		10
/* Past the bound times this (in halves), no pause between attempts. */
#define BOUND_HARD_HALVES	3
/* After a lost RESTART, the writer tries again this much later. */
#define BOUND_RETRY_MS		1000
/* The bound when nothing set it: PDS_SQLITE_WAL_MAX_MB's default. */
#define WAL_MAX_DEFAULT		((int64_t)64 << 20)
/* The log's layout with 4 KB pages: a header, then page-sized frames. */
#define WAL_HDR			32
#define WAL_FRAME		(4096 + 24)

static int		 wal_fd = -1;
/*
 * One checkpoint at a time from pdsd's two checkpointing threads: SQLite
 * answers SQLITE_BUSY at once, without waiting, to a checkpoint that
 * finds another one running, so without it the writer's RESTART lost
 * to the jobs thread's PASSIVE one whenever they met, and the larger
 * the log the longer that one took: 360 MB in 20 s of createRecord.
 */
static pthread_mutex_t	 ckpt_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int64_t	 wal_max = WAL_MAX_DEFAULT;
/* The writer's own: when its last RESTART lost. */
static int64_t		 bound_lost_ms;
/*
 * The writer's page cache, in KiB.  With schema 14, where each commit
 * inserted and deleted tree nodes at random places in (did, CID) order,
 * at 10,000 members the writer missed its 2 MiB cache about 70 times a
 * commit and read 296 KB from the OS (page cache) for it.  At 16 MiB
 * it read 99 to 111 KB and spent 730 to 737 us of CPU per commit
 * against 773 to 790 (1,352 and 1,362 commits a second against 1,290
 * and 1,261); 64 MiB read half as much again for no more speed.  The
 * cache is handed back when the writer has been idle a while
 * (store_wal_idle()).
 */
#define WRITER_CACHE_KB		16384

/*
 * The writer's own, from its COMMITs (wal_hook()): where the log ends
 * (the next group's frames go there), and the most one group has added
 * to it lately.  The writer checkpoints before a group that could take
 * the file past the bound, not after one has.
 */
static int64_t		 wal_end;
static int64_t		 group_max;
/* The jobs thread's own: the log's length at its last run. */
static int		 last_nlog = -1;

void
store_wal_set_max(int64_t bytes)
{
	if (bytes > 0)
		wal_max = bytes;
}

int64_t
store_wal_max(void)
{
	return wal_max;
}

/*
 * After each of the writer's COMMITs: npages is the log's length in
 * frames.  Shorter than before means it started over at the beginning.
 */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int npages)
{
	int64_t	 end = WAL_HDR + (int64_t)npages * WAL_FRAME, grew;

	(void)arg;
	(void)db;
	(void)name;
	grew = end > wal_end ? end - wal_end : end - WAL_HDR;
	/* A burst's largest group counts for the next few hundred. */
	group_max -= group_max / 256;
	if (grew > group_max)
		group_max = grew;
	wal_end = end;
	return SQLITE_OK;
}

int
store_wal_writer_init(void)
{
	sqlite3		*db;
	const char	*path;
	char		 pragma[128];
	int		 rc;

	if ((db = store_db()) == NULL)
		return PDS_EIO;
	/* A read opens the log, so that its file exists. */
	if ((rc = sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0;"
	    "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		return store_err(rc, "writer connection");
	if ((path = sqlite3_filename_wal(sqlite3_db_filename(db,
	    "main"))) == NULL || *path == '\0') {
		log_warnx("store: no log file name");
		return PDS_EIO;
	}
	if ((wal_fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		log_warn("store: %s", path);
		return PDS_EIO;
	}
	(void)snprintf(pragma, sizeof(pragma), "PRAGMA synchronous=NORMAL;"
	    "PRAGMA journal_size_limit=%lld;PRAGMA cache_size=-%d",
	    (long long)wal_max, WRITER_CACHE_KB);
	if ((rc = sqlite3_exec(db, pragma, NULL, NULL, NULL)) != SQLITE_OK) {
		(void)close(wal_fd);
		wal_fd = -1;
		return store_err(rc, "writer connection");
	}
	(void)sqlite3_wal_hook(db, wal_hook, NULL);
	return PDS_OK;
}

void
store_wal_idle(void)
{
	sqlite3	*db;

	if ((db = store_db()) != NULL)
		(void)sqlite3_db_release_memory(db);
}

uint64_t
store_wal_cache_bytes(void)
{
	sqlite3	*db;
	int	 cur = 0, hi = 0;

	if ((db = store_db()) == NULL || sqlite3_db_status(db,
	    SQLITE_DBSTATUS_CACHE_USED, &cur, &hi, 0) != SQLITE_OK || cur < 0)
		return 0;
	return (uint64_t)cur;
}

int
store_wal_sync(void)
{
	if (wal_fd == -1)
		return PDS_OK;
	while (fdatasync(wal_fd) == -1) {
		if (errno == EINTR)
			continue;
		log_warn("store: fdatasync of the log");
		return PDS_EIO;
	}
	return PDS_OK;
}

void
store_wal_close(void)
{
	if (wal_fd != -1)
		(void)close(wal_fd);
	wal_fd = -1;
}

static void
sleep_ms(int ms)
{
	struct timespec	 ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	(void)nanosleep(&ts, NULL);
}

/* A checkpoint of `mode' on this thread's connection, waiting wait_ms. */
static int
checkpoint(sqlite3 *db, int mode, int wait_ms, int *nlog, int *ndone)
{
	int	 rc;

	sqlite3_busy_timeout(db, wait_ms);
	rc = sqlite3_wal_checkpoint_v2(db, NULL, mode, nlog, ndone);
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	return rc;
}

int
store_wal_bound(void)
{
	struct stat	 st;
	sqlite3		*db;
	int64_t		 t, left, next, room;
	int		 rc;

	if (wal_fd == -1 || fstat(wal_fd, &st) == -1)
		return PDS_OK;
	/*
	 * Where the next group could end: as far as the largest recent
	 * one and a quarter more, or an eighth of the bound, whichever is
	 * more (one group can be several times the size of those before
	 * it: a queue that grew during a checkpoint).  Other connections'
	 * commits append to the log too; the file's size catches those.
	 */
	room = group_max + group_max / 4;
	if (room < wal_max / 8)
		room = wal_max / 8;
	next = wal_end + room;
	if (next < st.st_size)
		next = st.st_size;
	if (next <= wal_max)
		return PDS_OK;
	t = clock_mono_ms();
	if (bound_lost_ms != 0 && t - bound_lost_ms < BOUND_RETRY_MS &&
	    next <= wal_max / 2 * BOUND_HARD_HALVES)
		return PDS_OK;
	if ((db = store_db()) == NULL)
		return PDS_EIO;
	/*
	 * Short tries until the time is up: SQLite's busy handler sleeps
	 * up to 100 ms at a time and so misses the moments when no reader
	 * is left on the log, and another connection's checkpoint
	 * (SQLite's automatic one, after a COMMIT on a request's thread)
	 * makes a try fail at once.  Only the first try copies the log.
	 */
	pthread_mutex_lock(&ckpt_mu);
	t = clock_mono_ms();
	for (;;) {
		left = BOUND_WAIT_MS - (clock_mono_ms() - t);
		rc = checkpoint(db, SQLITE_CHECKPOINT_RESTART,
		    left < 1 ? 1 : left > BOUND_TRY_MS ? BOUND_TRY_MS :
		    (int)left, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY || clock_mono_ms() - t >=
		    BOUND_WAIT_MS)
			break;
		sleep_ms(2);
	}
	pthread_mutex_unlock(&ckpt_mu);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		if (bound_lost_ms == 0)
			log_warnx("store: the log (%lld bytes) is past its "
			    "bound and a reader holds it (%s)",
			    (long long)st.st_size, sqlite3_errstr(rc));
		bound_lost_ms = t;
		return PDS_OK;
	}
	bound_lost_ms = 0;
	if (rc == SQLITE_OK)
		wal_end = WAL_HDR;	/* the next COMMIT starts it over */
	return store_err(rc, "checkpoint");
}

static int	checkpoint_locked(void);

int
store_wal_checkpoint(void)
{
	int	 rc;

	pthread_mutex_lock(&ckpt_mu);
	rc = checkpoint_locked();
	pthread_mutex_unlock(&ckpt_mu);
	return rc;
}

static int
checkpoint_locked(void)
{
	struct stat	 st;
	sqlite3		*db;
	const char	*path;
	int		 rc, nlog = 0, ndone = 0, prev = last_nlog;
	int64_t		 restart;

	if ((db = store_db()) == NULL)
		return PDS_EIO;
	rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &nlog, &ndone);
	if (rc == SQLITE_BUSY)
		return PDS_OK;
	if (rc != SQLITE_OK)
		return store_err(rc, "checkpoint");
	last_nlog = nlog;
	/*
	 * Quiet: nothing was added since the last run and all of it is in
	 * the database.  Give the file's space back.
	 */
	if (nlog == ndone && nlog == prev &&
	    (path = sqlite3_filename_wal(sqlite3_db_filename(db, "main"))) !=
	    NULL && stat(path, &st) == 0 && st.st_size > 0) {
		rc = checkpoint(db, SQLITE_CHECKPOINT_TRUNCATE,
		    RESTART_WAIT_MS, &nlog, &ndone);
		if (rc == SQLITE_OK)
			last_nlog = 0;
		return (rc & 0xff) == SQLITE_BUSY ? PDS_OK :
		    store_err(rc, "checkpoint");
	}
	/* 4 KB pages: a frame is a page and a 24-byte header. */
	restart = wal_max / RESTART_DIVISOR / 4096;
	if (nlog < restart)
		return PDS_OK;
	/*
	 * The writer starts the log over only when no reader still reads
	 * from it, which busy readers can prevent for ever.  RESTART waits
	 * (briefly: it holds the writer back meanwhile) until they have
	 * moved on to the database file, so that the next COMMIT starts at
	 * the beginning of the log.  If they do not, the next run retries,
	 * and past the bound the writer itself does (store_wal_bound()).
	 */
	rc = checkpoint(db, SQLITE_CHECKPOINT_RESTART, RESTART_WAIT_MS, NULL,
	    NULL);
	if ((rc & 0xff) == SQLITE_BUSY)
		return PDS_OK;
	return store_err(rc, "checkpoint");
}
