/*
 * store_wal: the repo writer's side of the write-ahead log.  See
 * store_wal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "store_internal.h"
#include "store_wal.h"

/* Frames in the log (4 KB pages) past which a checkpoint restarts it. */
#define RESTART_FRAMES		4096
/* How long the restart may wait for readers (and hold up the writer). */
#define RESTART_WAIT_MS		20

static int	wal_fd = -1;

int
store_wal_writer_init(void)
{
	sqlite3		*db;
	const char	*path;
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
	if ((rc = sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL,
	    NULL)) != SQLITE_OK) {
		(void)close(wal_fd);
		wal_fd = -1;
		return store_err(rc, "writer connection");
	}
	return PDS_OK;
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

int
store_wal_checkpoint(void)
{
	sqlite3	*db;
	int	 rc, nlog = 0, ndone = 0;

	if ((db = store_db()) == NULL)
		return PDS_EIO;
	rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &nlog, &ndone);
	if (rc == SQLITE_BUSY)
		return PDS_OK;
	if (rc != SQLITE_OK)
		return store_err(rc, "checkpoint");
	if (nlog < RESTART_FRAMES)
		return PDS_OK;
	/*
	 * The writer starts the log over only when no reader still reads
	 * from it, which busy readers can prevent for ever.  RESTART waits
	 * (briefly: it holds the writer back meanwhile) until they have
	 * moved on to the database file, so that the next COMMIT starts at
	 * the beginning of the log.  If they do not, the next run retries.
	 */
	sqlite3_busy_timeout(db, RESTART_WAIT_MS);
	rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_RESTART,
	    NULL, NULL);
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	if (rc == SQLITE_BUSY)
		return PDS_OK;
	return store_err(rc, "checkpoint");
}
