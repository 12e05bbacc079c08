/*
 * test_pdsd_store_vfs: the layer that gathers the log's appends
 * (store_vfs.c) never lets a connection see a commit whose frames are
 * not in the file, and a COMMIT never returns before its frames are.
 *
 *   1. The layer is SQLite's default VFS once registered.
 *   2. A writer thread commits groups of rows (some groups larger than
 *	the layer's buffer, some with a tiny page cache so that SQLite
 *	spills frames mid-transaction and later overwrites them and
 *	rewrites their checksums), while reader threads, each on its own
 *	connection, check in every read transaction that the rows the
 *	last commit announces are all there with their exact bytes, a
 *	checkpointer thread runs PASSIVE and RESTART checkpoints (so the
 *	log starts over and its offsets are written again), and a second
 *	writer commits small transactions on its own connection (so runs
 *	follow another connection's frames).  At the end a new connection
 *	finds every row and an intact database.
 *   3. A child process commits with synchronous=NORMAL and reports each
 *	COMMIT that returned; killed with SIGKILL mid-write, the database
 *	has every commit it reported.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../../pdsd/store_internal.h"

#include "t.h"

#define NREADERS	3
#define NGROUPS		300
#define ROW_MAX		6000	/* a row's bytes: 1 to ROW_MAX */
#define MIN_READS	100
#define CRASH_GROUPS	100000
#define CRASH_ROUNDS	5

static char	 tmpdir[] = "/tmp/test_pdsd_store_vfs.XXXXXX";
static char	 dbpath[256];

static volatile int	 running = 1;
static int		 nread_ok, nread_bad, nread_err, nckpt;
static int		 nside, nside_err;
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;

/* Row k's bytes: its length and content follow from k alone. */
static size_t
row_len(int64_t k)
{
	uint64_t	 h = (uint64_t)k * 0x9e3779b97f4a7c15ULL;

	/* Every tenth row spills onto overflow pages. */
	return k % 10 == 0 ? (size_t)(h >> 40) % ROW_MAX + 4096 :
	    (size_t)(h >> 40) % 400 + 1;
}

static void
row_fill(int64_t k, unsigned char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(k * 31 + (int64_t)i * 7 + (int64_t)(i >> 8));
}

static bool
row_ok(int64_t k, const unsigned char *p, int n)
{
	unsigned char	 want[ROW_MAX + 4096];
	size_t		 len = row_len(k);

	if (n < 0 || (size_t)n != len)
		return false;
	row_fill(k, want, len);
	return memcmp(p, want, len) == 0;
}

static sqlite3 *
open_conn(int sync_normal)
{
	sqlite3	*db = NULL;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA mmap_size=0;"
	    "PRAGMA journal_size_limit=1048576", NULL, NULL, NULL) !=
	    SQLITE_OK || sqlite3_exec(db, sync_normal ?
	    "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", NULL,
	    NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* Rows first..last of group g, and the head row that announces them. */
static int
write_group(sqlite3 *db, sqlite3_stmt *ins, sqlite3_stmt *head, int g,
    int64_t first, int64_t last, bool rewrite)
{
	unsigned char	 buf[ROW_MAX + 4096];
	int64_t		 k;
	int		 rc;

	if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		return rc;
	for (k = first; k <= last; k++) {
		size_t	 n = row_len(k);

		row_fill(k, buf, n);
		sqlite3_bind_int64(ins, 1, k);
		sqlite3_bind_int(ins, 2, g);
		sqlite3_bind_blob(ins, 3, buf, (int)n, SQLITE_TRANSIENT);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	/* Rewrite some earlier rows too: pages written again. */
	if (rewrite && g % 3 == 0 && (rc = sqlite3_exec(db, "UPDATE t SET g = g "
	    "WHERE k % 97 = 0", NULL, NULL, NULL)) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(head, 1, g);
	sqlite3_bind_int64(head, 2, last);
	rc = sqlite3_step(head);
	sqlite3_reset(head);
	if (rc != SQLITE_DONE)
		goto fail;
	return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
fail:
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * One read transaction: as many rows as the last commit announced, and
 * the newest `tail' of them (all if 0) with their exact bytes.
 */
static int
read_check(sqlite3 *db, int64_t tail)
{
	sqlite3_stmt	*st = NULL;
	int64_t		 last = -1, n = 0, k, prev, from, count = -1;
	int		 rc, bad = 0;

	if ((rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT last FROM head WHERE id = 1", -1,
	    &st, NULL) != SQLITE_OK)
		goto err;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		last = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		goto err;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto err;
	count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	from = prev = tail > 0 && last > tail ? last - tail : 0;
	if (sqlite3_prepare_v2(db, "SELECT k, v FROM t WHERE k > ? ORDER BY k",
	    -1, &st, NULL) != SQLITE_OK)
		goto err;
	sqlite3_bind_int64(st, 1, from);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		k = sqlite3_column_int64(st, 0);
		if (k != prev + 1 || !row_ok(k, sqlite3_column_blob(st, 1),
		    sqlite3_column_bytes(st, 1)))
			bad = 1;
		prev = k;
		n++;
	}
	if (rc != SQLITE_DONE)
		goto err;
	sqlite3_finalize(st);
	(void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (last >= 0 && (count != last || from + n != last))
		bad = 1;
	return bad;
err:
	sqlite3_finalize(st);
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static void *
reader(void *arg)
{
	sqlite3	*db;
	int	 r;

	(void)arg;
	if ((db = open_conn(0)) == NULL) {
		pthread_mutex_lock(&mu);
		nread_err++;
		pthread_mutex_unlock(&mu);
		return NULL;
	}
	while (running) {
		r = read_check(db, 3000);
		pthread_mutex_lock(&mu);
		if (r == 0)
			nread_ok++;
		else if (r > 0)
			nread_bad++;
		else
			nread_err++;
		pthread_mutex_unlock(&mu);
	}
	sqlite3_close(db);
	return NULL;
}

static void *
checkpointer(void *arg)
{
	struct timespec	 ts = { 0, 3000000 };
	sqlite3		*db;
	int		 i = 0, rc;

	(void)arg;
	if ((db = open_conn(0)) == NULL)
		return NULL;
	while (running) {
		sqlite3_busy_timeout(db, 20);
		rc = sqlite3_wal_checkpoint_v2(db, NULL, i++ % 4 == 3 ?
		    SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
		if (rc == SQLITE_OK) {
			pthread_mutex_lock(&mu);
			nckpt++;
			pthread_mutex_unlock(&mu);
		}
		(void)nanosleep(&ts, NULL);
	}
	sqlite3_close(db);
	return NULL;
}

/* Small commits on another connection, between the writer's. */
static void *
side_writer(void *arg)
{
	struct timespec	 ts = { 0, 2000000 };
	sqlite3		*db;
	int		 i = 0;
	char		 sql[128];

	(void)arg;
	if ((db = open_conn(1)) == NULL)
		return NULL;
	while (running) {
		(void)snprintf(sql, sizeof(sql), "INSERT INTO side (n, v) "
		    "VALUES (%d, zeroblob(%d))", i, 100 + i % 3000);
		pthread_mutex_lock(&mu);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
			nside++;
		else
			nside_err++;
		pthread_mutex_unlock(&mu);
		i++;
		(void)nanosleep(&ts, NULL);
	}
	sqlite3_close(db);
	return NULL;
}

static void
test_concurrent(void)
{
	pthread_t	 rd[NREADERS], ck, sw;
	sqlite3		*db, *chk;
	sqlite3_stmt	*ins = NULL, *head = NULL;
	int64_t		 last = 0, n;
	int		 g, i, rc, fails = 0;

	t_group("concurrent readers");
	db = open_conn(1);
	CHECK(db != NULL, "the writer's connection");
	if (db == NULL)
		return;
	CHECK(sqlite3_exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, "
	    "g INTEGER NOT NULL, v BLOB NOT NULL);"
	    "CREATE TABLE head (id INTEGER PRIMARY KEY, g INTEGER, "
	    "last INTEGER);"
	    "CREATE TABLE side (n INTEGER, v BLOB)", NULL, NULL, NULL) ==
	    SQLITE_OK, "schema: %s", sqlite3_errmsg(db));
	CHECK(sqlite3_prepare_v2(db, "INSERT INTO t (k, g, v) VALUES "
	    "(?, ?, ?)", -1, &ins, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO head (id, g, last) "
	    "VALUES (1, ?, ?)", -1, &head, NULL) == SQLITE_OK,
	    "statements: %s", sqlite3_errmsg(db));
	for (i = 0; i < NREADERS; i++)
		(void)pthread_create(&rd[i], NULL, reader, NULL);
	(void)pthread_create(&ck, NULL, checkpointer, NULL);
	(void)pthread_create(&sw, NULL, side_writer, NULL);
	/* NGROUPS, and on until the readers have checked enough. */
	for (g = 1; g <= NGROUPS * 10; g++) {
		if (g > NGROUPS) {
			pthread_mutex_lock(&mu);
			i = nread_ok + nread_bad >= MIN_READS;
			pthread_mutex_unlock(&mu);
			if (i)
				break;
		}
		/* Mostly small groups; every 25th past the 1 MiB buffer. */
		n = g % 25 == 0 ? 1500 : 1 + g % 40;
		/* Now and then a tiny cache: frames spilled, then rewritten. */
		(void)sqlite3_exec(db, g % 7 == 0 ? "PRAGMA cache_size=10" :
		    "PRAGMA cache_size=-2048", NULL, NULL, NULL);
		rc = write_group(db, ins, head, g, last + 1, last + n, true);
		if (rc == SQLITE_OK)
			last += n;
		else
			fails++;
	}
	running = 0;
	for (i = 0; i < NREADERS; i++)
		(void)pthread_join(rd[i], NULL);
	(void)pthread_join(ck, NULL);
	(void)pthread_join(sw, NULL);
	sqlite3_finalize(ins);
	sqlite3_finalize(head);
	CHECK(fails == 0, "%d groups failed", fails);
	CHECK(nread_bad == 0, "%d of %d reads saw incomplete data",
	    nread_bad, nread_ok + nread_bad);
	CHECK(nread_err == 0, "%d reads failed", nread_err);
	CHECK(nread_ok >= MIN_READS, "enough reads ran: %d", nread_ok);
	CHECK(nckpt > 0, "checkpoints ran: %d", nckpt);
	CHECK(nside > 0 && nside_err == 0, "side commits: %d, %d failed",
	    nside, nside_err);
	sqlite3_close(db);

	/* A new connection: all of it, intact. */
	chk = open_conn(0);
	CHECK(chk != NULL && read_check(chk, 0) == 0, "every row, exact");
	if (chk != NULL) {
		sqlite3_stmt	*st = NULL;

		CHECK(sqlite3_prepare_v2(chk, "PRAGMA integrity_check", -1,
		    &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0,
		    "integrity_check");
		sqlite3_finalize(st);
		sqlite3_close(chk);
	}
	t_group_end();
}

/*
 * The child: commit group after group, reporting each on fd.  No
 * rewrites of earlier rows (their reads of the log would write out the
 * buffer anyway): only the COMMITs decide what reaches the file.
 */
static void
crash_child(int fd)
{
	sqlite3		*db;
	sqlite3_stmt	*ins = NULL, *head = NULL;
	int64_t		 last = 0, n;
	int		 g;

	/* No checkpoints (as pdsd's writer): only COMMIT writes the log. */
	if ((db = open_conn(1)) == NULL || sqlite3_exec(db,
	    "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t (k, g, v) VALUES (?, ?, ?)",
	    -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO head (id, g, last) "
	    "VALUES (1, ?, ?)", -1, &head, NULL) != SQLITE_OK)
		_exit(2);
	for (g = 1; g <= CRASH_GROUPS; g++) {
		n = g % 10 == 0 ? 400 : 1 + g % 30;
		if (write_group(db, ins, head, g, last + 1, last + n,
		    false) != SQLITE_OK)
			_exit(3);
		last += n;
		if (write(fd, &last, sizeof(last)) != sizeof(last))
			_exit(4);
	}
	_exit(0);
}

static void
test_crash(void)
{
	struct timespec	 ts = { 0, 0 };
	sqlite3		*db;
	int64_t		 acked = 0, v;
	pid_t		 pid;
	int		 p[2], round, status, bad = 0;

	t_group("SIGKILL mid-write");
	for (round = 0; round < CRASH_ROUNDS; round++) {
		/* A fresh database for each round. */
		(void)snprintf(dbpath, sizeof(dbpath), "%s/crash%d.sqlite",
		    tmpdir, round);
		db = open_conn(1);
		CHECK(db != NULL && sqlite3_exec(db, "CREATE TABLE t (k INTEGER "
		    "PRIMARY KEY, g INTEGER NOT NULL, v BLOB NOT NULL);"
		    "CREATE TABLE head (id INTEGER PRIMARY KEY, g INTEGER, "
		    "last INTEGER)", NULL, NULL, NULL) == SQLITE_OK, "schema");
		sqlite3_close(db);
		if (pipe(p) == -1 || (pid = fork()) == -1) {
			CHECK(0, "fork");
			return;
		}
		if (pid == 0) {
			close(p[0]);
			crash_child(p[1]);
		}
		close(p[1]);
		/* Its first commit, however busy the machine, then a while. */
		acked = 0;
		if (read(p[0], &v, sizeof(v)) == sizeof(v))
			acked = v;
		ts.tv_nsec = 100000000L + round * 60000000L;
		(void)nanosleep(&ts, NULL);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		/* Everything it said was committed. */
		while (read(p[0], &v, sizeof(v)) == sizeof(v))
			acked = v;
		close(p[0]);
		CHECK(WIFSIGNALED(status), "the child was killed mid-write "
		    "(status %d)", status);
		CHECK(acked > 0, "the child committed before it was killed");
		db = open_conn(0);
		if (db == NULL) {
			CHECK(0, "reopen");
			continue;
		}
		{
			sqlite3_stmt	*st = NULL;
			int64_t		 last = -1;

			if (sqlite3_prepare_v2(db, "SELECT last FROM head", -1,
			    &st, NULL) == SQLITE_OK &&
			    sqlite3_step(st) == SQLITE_ROW)
				last = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
			if (last < acked)
				bad++;
			CHECK(last >= acked, "round %d: committed %lld rows, "
			    "found %lld", round, (long long)acked,
			    (long long)last);
		}
		CHECK(read_check(db, 0) == 0, "round %d: the rows are exact",
		    round);
		sqlite3_close(db);
	}
	(void)bad;
	t_group_end();
}

int
main(void)
{
	char	 cmd[300];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	(void)snprintf(dbpath, sizeof(dbpath), "%s/vfs.sqlite", tmpdir);
	t_group("register");
	CHECK(store_vfs_register() == SQLITE_OK, "registered");
	CHECK(sqlite3_vfs_find(NULL) != NULL &&
	    strcmp(sqlite3_vfs_find(NULL)->zName, "pds") == 0,
	    "the default VFS");
	t_group_end();

	test_concurrent();
	test_crash();

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void)system(cmd);
	return t_done("test_pdsd_store_vfs");
}
