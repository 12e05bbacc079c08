/*
 * store: connections, the statement cache, transactions, migrations.
 * See store.h and store_internal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "store_internal.h"

#define STMT_CACHE_MIN	64

struct stmt_slot {
	const char	*sql;		/* the key: the literal's address */
	sqlite3_stmt	*st;
};

struct conn {
	sqlite3		*db;
	struct stmt_slot *slots;
	size_t		 nslots;	/* a power of two */
	size_t		 nused;
	bool		 read_cache;	/* store_read_cache() was applied */
};

static char		*store_path;
static int		 store_version;
static pthread_key_t	 conn_key;
static pthread_once_t	 conn_once = PTHREAD_ONCE_INIT;
static __thread struct conn *tl_conn;

static void
conn_free(struct conn *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nslots; i++)
		if (c->slots[i].st != NULL)
			sqlite3_finalize(c->slots[i].st);
	free(c->slots);
	if (c->db != NULL && sqlite3_close(c->db) != SQLITE_OK)
		log_warnx("store: close: %s", sqlite3_errmsg(c->db));
	free(c);
}

static void
conn_destructor(void *p)
{
	conn_free(p);
	tl_conn = NULL;
}

static void
conn_key_init(void)
{
	if (pthread_key_create(&conn_key, conn_destructor) != 0)
		fatalx("store: pthread_key_create");
}

int
store_err(int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return PDS_OK;
	case SQLITE_CONSTRAINT:
		return PDS_EEXIST;
	case SQLITE_NOMEM:
		return PDS_ENOMEM;
	}
	log_warnx("store: %s: %s (%d)", what, sqlite3_errstr(rc), rc);
	return PDS_EIO;
}

static int
conn_exec(sqlite3 *db, const char *sql)
{
	char	*msg = NULL;
	int	 rc;

	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_warnx("store: %s", msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return (rc & 0xff) == SQLITE_CONSTRAINT ? PDS_EEXIST : PDS_EIO;
	}
	return PDS_OK;
}

/*
 * The settings every connection gets.  synchronous=FULL: see store.h
 * (the repo writer's connection relaxes it: store_wal.h).
 *
 * No memory map.  SQLite drops a connection's whole map whenever another
 * connection has written since its last read, and maps the file again
 * (an munmap is a TLB flush on every core), so under a steady stream of
 * commits nearly every read transaction paid for that; and the mapped
 * pages of every connection count in pdsd's RSS (32 getRepo producers
 * showed 177 MB).  Without it a page comes from the connection's own
 * cache, or from the OS page cache with one pread: getRecord, listRecords
 * and getRepo measured the same either way, and createRecord used about
 * 15% less CPU per commit.
 *
 * The page cache is per connection, so per thread: 2 MiB each (8 MiB for
 * the threads that serve record reads: store_read_cache()).  At 8 MiB
 * the writer's cache alone kept 8.8 MB resident after a benchmark load;
 * at 2 MiB createRecord ran within a few per cent of it.  At 10,000
 * members and a million records the writer's reads grow with the tree
 * and its cache is larger (store_wal.c), and handed back when idle.
 *
 * journal_size_limit: when the log starts over after a checkpoint, the
 * first COMMIT trims the file to 16 MiB, so a log that grew in a burst
 * does not keep its largest size on disk (the repo writer's connection
 * sets its own: store_wal.c).
 */
static const char conn_pragmas[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA temp_store=MEMORY;"
    "PRAGMA cache_size=-2048;"
    "PRAGMA mmap_size=0;"
    "PRAGMA journal_size_limit=16777216;";

static struct conn *
conn_open(void)
{
	struct conn	*c;
	int		 rc;

	if (store_path == NULL) {
		log_warnx("store: used before store_open");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	rc = sqlite3_open_v2(store_path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_warnx("store: open %s: %s", store_path,
		    c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		conn_free(c);
		return NULL;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, STORE_BUSY_TIMEOUT_MS);
	if (conn_exec(c->db, conn_pragmas) != PDS_OK) {
		conn_free(c);
		return NULL;
	}
	return c;
}

sqlite3 *
store_db(void)
{
	if (tl_conn != NULL)
		return tl_conn->db;
	pthread_once(&conn_once, conn_key_init);
	if ((tl_conn = conn_open()) == NULL)
		return NULL;
	pthread_setspecific(conn_key, tl_conn);
	return tl_conn->db;
}

/*
 * The threads that serve getRecord and listRecords: 8 MiB of page cache
 * instead of 2, so that the pages of the most read members stay.  When
 * a page of listRecords looked up each record's block by CID (before
 * schema 14), at 2 MiB about 35 pages per request came from the OS
 * with a pread each, a quarter of its CPU; the rows are adjacent now,
 * but getRecord still reads a leaf and the lowest interior pages of a
 * table whose interior cells are whole rows.  The writer, the getRepo
 * producers and the other threads keep 2 MiB, and so do the read
 * threads past the first READ_CACHE_THREADS (automatic PDS_THREADS is
 * one per CPU): 24 MiB more at most on any machine, 6 on one core.
 */
#define READ_CACHE_THREADS	4

void
store_read_cache(void)
{
	static atomic_int	 n;

	if (store_db() == NULL || tl_conn->read_cache)
		return;
	tl_conn->read_cache = true;
	/* At most READ_CACHE_THREADS of them: memory stays bounded. */
	if (atomic_fetch_add(&n, 1) < READ_CACHE_THREADS)
		(void)conn_exec(tl_conn->db, "PRAGMA cache_size=-8192");
}

void
store_thread_close(void)
{
	if (tl_conn == NULL)
		return;
	pthread_setspecific(conn_key, NULL);
	conn_free(tl_conn);
	tl_conn = NULL;
}

static size_t
slot_hash(const char *sql, size_t mask)
{
	uintptr_t	 h = (uintptr_t)sql;

	h ^= h >> 17;
	h *= (uintptr_t)0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 7) & mask;
}

static int
cache_grow(struct conn *c)
{
	struct stmt_slot *old = c->slots, *ns;
	size_t		 on = c->nslots, n, i, j;

	n = on ? on * 2 : STMT_CACHE_MIN;
	if ((ns = calloc(n, sizeof(*ns))) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < on; i++) {
		if (old[i].sql == NULL)
			continue;
		for (j = slot_hash(old[i].sql, n - 1); ns[j].sql != NULL;
		    j = (j + 1) & (n - 1))
			;
		ns[j] = old[i];
	}
	free(old);
	c->slots = ns;
	c->nslots = n;
	return PDS_OK;
}

sqlite3_stmt *
store_stmt(const char *sql)
{
	struct conn	*c;
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	if (store_db() == NULL)
		return NULL;
	c = tl_conn;
	if (c->nslots != 0) {
		for (i = slot_hash(sql, c->nslots - 1); c->slots[i].sql != NULL;
		    i = (i + 1) & (c->nslots - 1))
			if (c->slots[i].sql == sql) {
				st = c->slots[i].st;
				sqlite3_reset(st);
				sqlite3_clear_bindings(st);
				return st;
			}
	}
	if ((c->nused + 1) * 2 > c->nslots && cache_grow(c) != PDS_OK)
		return NULL;
	rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st, NULL);
	if (rc != SQLITE_OK) {
		log_warnx("store: prepare: %s: %.80s", sqlite3_errmsg(c->db),
		    sql);
		return NULL;
	}
	for (i = slot_hash(sql, c->nslots - 1); c->slots[i].sql != NULL;
	    i = (i + 1) & (c->nslots - 1))
		;
	c->slots[i].sql = sql;
	c->slots[i].st = st;
	c->nused++;
	return st;
}

void
store_stmt_done(sqlite3_stmt *st)
{
	if (st != NULL)
		sqlite3_reset(st);
}

int
store_exec(const char *sql)
{
	sqlite3	*db;

	if ((db = store_db()) == NULL)
		return PDS_EIO;
	return conn_exec(db, sql);
}

int
store_begin(void)
{
	sqlite3	*db;

	if ((db = store_db()) == NULL)
		return PDS_EIO;
	if (!sqlite3_get_autocommit(db)) {
		log_warnx("store: nested transaction");
		return PDS_EINTERNAL;
	}
	return conn_exec(db, "BEGIN IMMEDIATE");
}

int
store_commit(void)
{
	sqlite3	*db;
	int	 rc;

	if ((db = store_db()) == NULL)
		return PDS_EIO;
	if ((rc = conn_exec(db, "COMMIT")) != PDS_OK &&
	    !sqlite3_get_autocommit(db))
		(void)conn_exec(db, "ROLLBACK");
	return rc;
}

void
store_rollback(void)
{
	sqlite3	*db;

	if ((db = store_db()) != NULL && !sqlite3_get_autocommit(db))
		(void)conn_exec(db, "ROLLBACK");
}

int
store_end(int rc)
{
	if (rc == PDS_OK)
		return store_commit();
	store_rollback();
	return rc;
}

static int
read_version(int *v)
{
	sqlite3_stmt	*st;

	*v = -1;
	if (store_row(&st, "SELECT version FROM schema_version", NULL,
	    "schema version") != PDS_OK)
		return PDS_EIO;
	*v = sqlite3_column_int(st, 0);
	store_stmt_done(st);
	return PDS_OK;
}

static int
migrate(void)
{
	char	 sql[64];
	int	 v, rc;
	size_t	 i;

	if ((rc = store_begin()) != PDS_OK)
		return rc;
	rc = store_exec("CREATE TABLE IF NOT EXISTS schema_version "
	    "(version INTEGER NOT NULL);"
	    "INSERT INTO schema_version (version) SELECT 0 "
	    "WHERE NOT EXISTS (SELECT 1 FROM schema_version);");
	if (rc == PDS_OK)
		rc = read_version(&v);
	rc = store_end(rc);
	if (rc != PDS_OK)
		return rc;
	if (v < 0 || (size_t)v > store_nmigrations) {
		log_warnx("store: database schema version %d is newer than "
		    "this pdsd knows (%zu)", v, store_nmigrations);
		return PDS_EUNSUPP;
	}
	/*
	 * An existing database's upgrade can rewrite large tables (a
	 * minute each for a million records): say so, and how long each
	 * step took, where the operator looks (warnings are logged by
	 * default).
	 */
	if (v > 0 && (size_t)v < store_nmigrations)
		log_warnx("store: upgrading the database from schema %d to "
		    "%zu before serving; on a large database this takes "
		    "minutes", v, store_nmigrations);
	for (i = (size_t)v; i < store_nmigrations; i++) {
		int64_t t0 = clock_mono_ms(), ms;

		snprintf(sql, sizeof(sql),
		    "UPDATE schema_version SET version = %zu", i + 1);
		if ((rc = store_begin()) != PDS_OK)
			return rc;
		if ((rc = store_exec(store_migrations[i])) != PDS_OK ||
		    (rc = store_exec(sql)) != PDS_OK ||
		    (rc = store_commit()) != PDS_OK) {
			store_rollback();
			log_warnx("store: migration %zu failed", i + 1);
			return rc;
		}
		if (v > 0 && (ms = clock_mono_ms() - t0) >= 1000)
			log_warnx("store: schema %zu applied in %lld.%lld s",
			    i + 1, (long long)(ms / 1000),
			    (long long)(ms % 1000 / 100));
		else
			log_info("store: applied migration %zu", i + 1);
	}
	store_version = (int)store_nmigrations;
	return PDS_OK;
}

/*
 * Before SQLite's first use: no memory accounting (with it on, every
 * SQLite allocation in every thread takes one global mutex, for
 * sqlite3_memory_used(), which pdsd does not call; the getRepo
 * producers spent about a tenth of their time waiting on it), and the
 * default VFS that gathers the log's writes (store_vfs.c).
 */
static void
sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* The log's appends in few system calls: store_vfs.c. */
	if (store_vfs_register() != SQLITE_OK)
		log_warnx("store: the log's write layer is not in use");
}

int
store_open(const char *path)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int	 fd, rc;

	(void)pthread_once(&once, sqlite_setup);
	free(store_path);
	if ((store_path = strdup(path)) == NULL)
		return PDS_ENOMEM;
	/* Create it 0600 ourselves: it holds keys and password hashes. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_warn("store: %s", path);
		return PDS_EIO;
	}
	close(fd);
	if (store_db() == NULL)
		return PDS_EIO;
	if ((rc = migrate()) != PDS_OK)
		return rc;
	return store_ping();
}

/*
 * A clean stop folds the WAL back into the database and truncates it,
 * so a stopped server's directory holds no WAL bytes even when another
 * thread's connection is still open (the last close would otherwise
 * delete it, and only then).
 */
void
store_close(void)
{
	if (tl_conn != NULL)
		(void)sqlite3_wal_checkpoint_v2(tl_conn->db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	store_thread_close();
}

int
store_schema_version(void)
{
	return store_version;
}

int
store_schema_latest(void)
{
	return (int)store_nmigrations;
}

int
store_ping(void)
{
	bool	 yes;

	return store_has_row("SELECT 1", NULL, &yes, "ping");
}

void
store_timestamp(char out[STORE_TS_LEN])
{
	clock_ms_to_iso(clock_wall_ms(), out);
}

int
store_handle_to_did(const char *handle, char *did, size_t didsz)
{
	int	 rc;

	rc = store_text("SELECT did FROM accounts WHERE handle = ?1 "
	    "AND status = 'active'", STORE_ARGS(SB_TEXT(handle)),
	    "handle lookup", did, didsz);
	/* a NULL (read as "") did is as wrong as one too long */
	if (rc == PDS_OK && *did == '\0')
		rc = PDS_ETOOBIG;
	return rc;
}
