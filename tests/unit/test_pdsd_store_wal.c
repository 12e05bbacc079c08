/*
 * test_pdsd_store_wal: the write-ahead log stays bounded (store_wal.c)
 * under sustained writes while other connections read all the time,
 * and gives its space back once writes stop.
 *
 * The store, the jobs thread and the repo writer run as the daemon
 * starts them, with a 1 MiB bound (a commit adds some 40 KB to the
 * log, so a few seconds of writes pass it many times).  Writer threads
 * create records through repo_write() while two reader threads, each
 * on a connection of its own, hold read transactions of READ_HOLD_MS back to back and
 * staggered, so that at any moment some reader is on the log (as busy
 * getRecord and listRecords traffic is).  A monitor samples the log
 * file's size all along.
 *
 *   1. Every write succeeds, the log did reach its bound (the load was
 *	enough to test it), and its largest size stays under three times
 *	the bound (the writer stops pausing between its tries at one and
 *	a half, and a group may come on top).  Without the writer's own
 *	checkpoint it grows with every commit, to some 275 MB here: the
 *	jobs thread's short RESTART loses to the readers.
 *   2. With the readers still going but no more writes, the log file
 *	is truncated to nothing within a few checkpoint periods.
 */
#include <sys/stat.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "err.h"
#include "keys.h"
#include "log.h"
#include "tid.h"
#include "../../pdsd/module.h"
#include "../../pdsd/repo_writer.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/store_wal.h"

#include "t.h"

#define NACCTS		2
#define NWRITERS	6
#define NREADERS	2
#define WAL_BOUND	((int64_t)1 << 20)
#define WRITE_MS	4000	/* how long the writers write */
#define READ_HOLD_MS	80	/* each read transaction's length */
#define QUIET_WAIT_MS	8000	/* how long the log may take to shrink */
#define COLL		"app.bsky.feed.post"

static const char *const dids[NACCTS] = {
	"did:plc:waltestaaaaaaaaaaaaaaaaa",
	"did:plc:waltestbbbbbbbbbbbbbbbbb",
};
static const char *const handles[NACCTS] = { "wala.test", "walb.test" };

static char	 tmpdir[] = "/tmp/test_pdsd_store_wal.XXXXXX";
static char	 dbpath[256], walpath[300];

static volatile int	 writing = 1, reading = 1, watching = 1;
static int64_t		 wal_max_seen;
static int		 nwrites, nfailed, nreads, nread_fail;

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec	 ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	(void)nanosleep(&ts, NULL);
}

static int64_t
wal_size(void)
{
	struct stat	 st;

	return stat(walpath, &st) == 0 ? (int64_t)st.st_size : 0;
}

static int
make_account(int a)
{
	struct pds_key	*key = NULL;
	struct cid	 head;
	uint8_t		 priv[32];
	char		 now[STORE_TS_LEN], email[64], rev[TID_LEN + 1];
	int		 rc;

	randombytes_buf(priv, sizeof(priv));
	if ((rc = key_from_private(&key, KEY_K256, priv)) != PDS_OK)
		return rc;
	store_timestamp(now);
	snprintf(email, sizeof(email), "%s@example.com", handles[a]);
	if ((rc = store_begin()) != PDS_OK)
		goto out;
	if ((rc = store_account_insert(dids[a], handles[a], email,
	    "not-a-password-hash", priv, now)) != PDS_OK ||
	    (rc = repo_writer_create_repo(dids[a], key, &head, rev)) !=
	    PDS_OK) {
		store_rollback();
		goto out;
	}
	rc = store_commit();
out:
	sodium_memzero(priv, sizeof(priv));
	key_free(key);
	return rc;
}

static void *
writer_main(void *arg)
{
	struct repo_write_op	 op;
	struct repo_write_result res;
	struct pds_error	 err;
	json_t			*v;
	char			 text[200];
	int			 id = (int)(intptr_t)arg, j;

	for (j = 0; writing; j++) {
		/* Some bulk, as posts have, so that the log fills up. */
		snprintf(text, sizeof(text), "post %d of writer %d: %0*d", j,
		    id, 120, j);
		v = json_pack("{s:s, s:s, s:s}", "$type", COLL, "text", text,
		    "createdAt", "2024-05-01T12:00:00.000Z");
		if (v == NULL)
			break;
		memset(&op, 0, sizeof(op));
		op.action = REPO_CREATE;
		snprintf(op.collection, sizeof(op.collection), "%s", COLL);
		op.value = v;
		op.validate = REPO_VALIDATE_AUTO;
		if (repo_write(dids[(id + j) % NACCTS], &op, 1, NULL, 0, &res,
		    &err) == PDS_OK)
			__atomic_add_fetch(&nwrites, 1, __ATOMIC_RELAXED);
		else
			__atomic_add_fetch(&nfailed, 1, __ATOMIC_RELAXED);
		json_decref(v);
	}
	return NULL;
}

/* Read transactions of READ_HOLD_MS, one after the other. */
static void *
reader_main(void *arg)
{
	sqlite3		*db = NULL;
	int		 id = (int)(intptr_t)arg;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		__atomic_add_fetch(&nread_fail, 1, __ATOMIC_RELAXED);
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	sleep_ms(id * READ_HOLD_MS / NREADERS);
	while (reading) {
		/* The SELECT starts the snapshot; COMMIT ends it. */
		if (sqlite3_exec(db, "BEGIN; SELECT count(*) FROM records",
		    NULL, NULL, NULL) != SQLITE_OK) {
			__atomic_add_fetch(&nread_fail, 1, __ATOMIC_RELAXED);
			(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			sleep_ms(10);
			continue;
		}
		sleep_ms(READ_HOLD_MS);
		(void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		__atomic_add_fetch(&nreads, 1, __ATOMIC_RELAXED);
	}
	sqlite3_close(db);
	return NULL;
}

static void *
watch_main(void *arg)
{
	int64_t	 sz;

	(void)arg;
	while (watching) {
		if ((sz = wal_size()) > wal_max_seen)
			wal_max_seen = sz;
		sleep_ms(2);
	}
	return NULL;
}

static void
test_bounded(void)
{
	pthread_t	 wt[NWRITERS], rt[NREADERS], mt;
	int64_t		 t0, sz = -1;
	int		 i;

	t_group("bounded");
	for (i = 0; i < NREADERS; i++)
		(void)pthread_create(&rt[i], NULL, reader_main,
		    (void *)(intptr_t)i);
	(void)pthread_create(&mt, NULL, watch_main, NULL);
	for (i = 0; i < NWRITERS; i++)
		(void)pthread_create(&wt[i], NULL, writer_main,
		    (void *)(intptr_t)i);
	sleep_ms(WRITE_MS);
	writing = 0;
	for (i = 0; i < NWRITERS; i++)
		pthread_join(wt[i], NULL);
	watching = 0;
	pthread_join(mt, NULL);

	CHECK(nwrites > 0 && nfailed == 0, "%d writes, %d failed", nwrites,
	    nfailed);
	CHECK(nreads > 0 && nread_fail == 0, "%d reads, %d failed", nreads,
	    nread_fail);
	/* The writer checkpoints before a group could cross the bound. */
	CHECK(wal_max_seen >= WAL_BOUND / 2, "the log came near its bound "
	    "(%lld bytes at most, after %d writes)",
	    (long long)wal_max_seen, nwrites);
	CHECK(wal_max_seen < 3 * WAL_BOUND, "the log stayed under three "
	    "times its bound of %lld bytes: at most %lld, after %d writes",
	    (long long)WAL_BOUND, (long long)wal_max_seen, nwrites);
	printf("  %d writes in %d ms, log at most %lld bytes\n", nwrites,
	    WRITE_MS, (long long)wal_max_seen);

	/* Quiet: the readers go on, nothing is written. */
	t0 = now_ms();
	while (now_ms() - t0 < QUIET_WAIT_MS && (sz = wal_size()) > 0)
		sleep_ms(50);
	CHECK(sz == 0, "the log file is empty after %lld ms without "
	    "writes (%lld bytes)", (long long)(now_ms() - t0),
	    (long long)sz);
	reading = 0;
	for (i = 0; i < NREADERS; i++)
		pthread_join(rt[i], NULL);
	t_group_end();
}

int
main(void)
{
	const struct pdsd_module *writer = &pdsd_module_repo_writer;
	const struct pdsd_module *jobs = &pdsd_module_jobs;
	char		 cmd[300];
	int		 a;

	log_init("test_pdsd_store_wal", 0, 0);
	if (sodium_init() < 0 || key_init() != PDS_OK) {
		fprintf(stderr, "crypto init failed\n");
		return 1;
	}
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/pds.sqlite", tmpdir);
	snprintf(walpath, sizeof(walpath), "%s-wal", dbpath);
	if (store_open(dbpath) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	/* The daemon sets it from PDS_SQLITE_WAL_MAX_MB. */
	store_wal_set_max(WAL_BOUND);
	CHECK(store_wal_max() == WAL_BOUND, "the bound is set");
	CHECK(jobs->init(NULL) == 0, "jobs start");
	CHECK(writer->init(NULL) == 0, "the repo writer starts");
	for (a = 0; a < NACCTS; a++)
		CHECK(make_account(a) == PDS_OK, "account %s", dids[a]);

	test_bounded();

	writer->fini();
	jobs->fini();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void)system(cmd);
	return t_done("test_pdsd_store_wal");
}
