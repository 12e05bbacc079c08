/*
 * store: pdsd's one SQLite database, <data dir>/pds.sqlite.
 *
 * Only pdsd/store*.c include sqlite3.h (through store_internal.h); the
 * rest of pdsd calls typed functions declared here and in the store_*.h
 * headers other modules add (store_account.h, ...).
 *
 * Durability: WAL mode with synchronous=FULL.  With NORMAL, a commit
 * survives a killed process (kill -9) but the last commits before a power
 * loss or kernel crash may roll back; FULL syncs the WAL on every commit,
 * so a write the client saw acknowledged (and a commit relays saw on the
 * firehose) is never lost.  That costs one fsync per write transaction,
 * which is why a repo commit and its event go in one transaction.  The
 * repo writer's own connection is the exception: it commits with NORMAL
 * and syncs the log itself, beside its next transaction, before it
 * acknowledges anything (store_wal.h), which keeps the same guarantee.
 *
 * Threads: every thread gets its own connection, opened on first use and
 * closed when the thread exits (or by store_thread_close()).  Nothing is
 * shared between connections except the file, so readers never take a
 * lock in pdsd; SQLite's WAL lets them run beside the single writer.
 *
 * Transactions: store_begin() starts a write transaction (BEGIN
 * IMMEDIATE: the write lock is taken at once, so two writers never
 * deadlock upgrading read locks); end it with store_commit() or
 * store_rollback() on the same thread.  Transactions do not nest.
 *
 * Timestamps are ISO 8601 UTC text with milliseconds
 * ("2024-01-02T03:04:05.678Z", as the API shows them), except the
 * integer milliseconds of did_cache.updated_at and login_attempts.at.
 * CIDs are stored as their base32 text form ("bafy...").
 */
#ifndef PDSD_STORE_H
#define PDSD_STORE_H

#include <stddef.h>

#include "clock.h"

#define STORE_TS_LEN	CLOCK_ISO_LEN	/* room for a timestamp and its NUL */

/*
 * Open (creating if needed, mode 0600) the database at path, set it to
 * WAL mode and apply the pending migrations, each in its own
 * transaction.  Call once, from the main thread, before any worker
 * starts.  Fails if the database is newer than this program.
 */
int	store_open(const char *path);

/* Close the calling thread's connection (main thread, at shutdown). */
void	store_close(void);
void	store_thread_close(void);
/* This thread serves record reads: a larger page cache (see store.c). */
void	store_read_cache(void);

/* Schema version the database is at (after store_open). */
int	store_schema_version(void);
/* Number of migrations this program knows. */
int	store_schema_latest(void);

/* SELECT 1 on this thread's connection: PDS_OK when the store works. */
int	store_ping(void);

int	store_begin(void);
int	store_commit(void);
void	store_rollback(void);
/*
 * End the transaction by how its work went: commit when rc is PDS_OK
 * (then the commit's result), else roll back and pass rc through.
 */
int	store_end(int rc);

/* The current time as a store timestamp. */
void	store_timestamp(char out[STORE_TS_LEN]);

/*
 * The DID of the active account whose handle is `handle' (compared
 * case-insensitively) into did[didsz].  PDS_ENOTFOUND when there is none.
 */
int	store_handle_to_did(const char *handle, char *did, size_t didsz);

#endif
