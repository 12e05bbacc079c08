/*
 * store_wal: the repo writer's side of SQLite's write-ahead log.
 *
 * The repo writer's connection commits with synchronous=NORMAL: a COMMIT
 * writes its frames to the log but does not wait for the disk.  The
 * writer hands each committed group to its syncer thread and goes on
 * with the next group, and the syncer makes all the groups committed so
 * far durable with one store_wal_sync() (fdatasync of the log file).
 * Only then are the writes acknowledged and their events sent on the
 * firehose (repo_writer_durable_seq), so an acknowledged write is as
 * durable as with synchronous=FULL, and the fsync no longer holds up
 * the next transaction.  Between a COMMIT and its sync, other requests
 * can read the new rows: a power failure in that window (a millisecond
 * or two) loses commits that nobody was told had succeeded.  A crash of
 * pdsd alone loses nothing: the frames are in the kernel's page cache.
 * Every other connection keeps synchronous=FULL.
 *
 * Checkpoints run from a job, not after the writer's commits: see
 * store_wal_checkpoint(); only past its bound does the writer run one
 * (store_wal_bound()).  How the log's size stays bounded: store_wal.c.
 */
#ifndef PDSD_STORE_WAL_H
#define PDSD_STORE_WAL_H

#include <stdint.h>

/*
 * On the writer's thread, before its first transaction: no automatic
 * checkpoints, synchronous=NORMAL, a larger page cache than other
 * connections (WRITER_CACHE_KB), the file trimmed to the bound after a
 * restart, and the log file opened for store_wal_sync().  On failure the
 * connection keeps synchronous=FULL (each COMMIT waits for the disk) and
 * store_wal_sync() does nothing.
 */
int	store_wal_writer_init(void);

/*
 * The log file's bound in bytes (PDS_SQLITE_WAL_MAX_MB; default 64 MiB).
 * Set before the writer starts.
 */
void	store_wal_set_max(int64_t bytes);
int64_t	store_wal_max(void);

/*
 * On the writer's thread, between two transactions: once the next group
 * could take the log file past its bound, run a RESTART checkpoint and wait (briefly) for
 * it to win over the readers still on the log.  Always PDS_OK unless
 * the checkpoint fails for another reason than a busy reader.
 */
int	store_wal_bound(void);

/*
 * On the writer's thread, once it has had nothing to write for a while:
 * give back the pages its cache holds, so that a server that took a
 * burst of writes does not keep WRITER_CACHE_KB (store_wal.c) resident
 * while quiet (the jobs thread's malloc_trim() returns them to the OS).
 */
void	store_wal_idle(void);

/* The writer's page cache in bytes, on its thread (repo.writer_cache_bytes). */
uint64_t store_wal_cache_bytes(void);

/* Make every COMMIT that has returned durable (any thread). */
int	store_wal_sync(void);

/* After the last store_wal_sync(), on the writer's thread. */
void	store_wal_close(void);

/*
 * Copy the log back into the database (PASSIVE: never waits for the
 * writer), and once the log has grown past a few megabytes, make the
 * writer start it over from the beginning (a short RESTART checkpoint).
 * Without that, a steady stream of readers can keep the log from ever
 * being reused, and it grows without end.  When nothing was written
 * since the last run, truncate the file to nothing.  For the jobs
 * thread.
 */
int	store_wal_checkpoint(void);

#endif
