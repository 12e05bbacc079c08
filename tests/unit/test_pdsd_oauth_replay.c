/*
 * test_pdsd_oauth_replay: the replay cache (pdsd/oauth_replay.c).  A
 * key is accepted once and refused while live, in its namespace only;
 * an expired key's slot is taken again without the table; a full
 * bucket, a full queue and a long key make the table decide, and the
 * keys the table holds alone stay refused; the flush writes the queue
 * and a fresh cache loaded from the table refuses the old keys and not
 * the expired ones; threads racing on the same keys accept each once.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "log.h"
#include "../../pdsd/oauth_replay.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_oauth.h"
#include "t.h"

#define NOW	1000000

static int
count_cb(void *arg, const char *ns, const char *key, int64_t expires_at)
{
	(void)ns;
	(void)key;
	(void)expires_at;
	(*(int *)arg)++;
	return 0;
}

/* Rows of the replay table, expired or not. */
static int
rows(void)
{
	int	 n = 0;

	(void)store_oauth_replay_scan(0, count_cb, &n);
	return n;
}

static void
empty_table(void)
{
	(void)store_oauth_purge(INT64_MAX, NULL);
}

static void
test_basic(void)
{
	struct oauth_replay *r;

	t_group("accept once, per namespace, until expiry");
	empty_table();
	r = oauth_replay_new(1024, 64);
	CHECK(r != NULL, "new");
	CHECK(oauth_replay_add(r, "dpop", "j1", NOW + 10, NOW) == PDS_OK,
	    "first");
	CHECK(oauth_replay_add(r, "dpop", "j1", NOW + 10, NOW) == PDS_EEXIST,
	    "replayed");
	CHECK(oauth_replay_add(r, "dpop", "j1", NOW + 10, NOW + 10) ==
	    PDS_EEXIST, "replayed at its expiry");
	CHECK(oauth_replay_add(r, "assertion", "j1", NOW + 10, NOW) ==
	    PDS_OK, "another namespace");
	CHECK(oauth_replay_add(r, "dpopj", "1", NOW + 10, NOW) == PDS_OK,
	    "the namespace is not a prefix");
	CHECK(oauth_replay_add(r, "dpop", "j1", NOW + 20, NOW + 11) ==
	    PDS_OK, "accepted again once expired");
	CHECK(rows() == 0, "nothing written before a flush (%d)", rows());
	CHECK(oauth_replay_new(7, 1) == NULL && oauth_replay_new(12, 1) ==
	    NULL && oauth_replay_new(8, 0) == NULL, "bad sizes");
	oauth_replay_free(r);
	oauth_replay_free(NULL);
}

static void
test_reuse_and_full(void)
{
	struct oauth_replay *r;
	char	 k[32];
	int	 i, ok;

	t_group("expired slots reused, full bucket asks the table");
	empty_table();
	/* one bucket of OAUTH_REPLAY_WAYS slots */
	r = oauth_replay_new(OAUTH_REPLAY_WAYS, 1024);
	for (i = ok = 0; i < OAUTH_REPLAY_WAYS; i++) {
		snprintf(k, sizeof(k), "a%d", i);
		ok += oauth_replay_add(r, "dpop", k, NOW + 5, NOW) == PDS_OK;
	}
	CHECK(ok == OAUTH_REPLAY_WAYS && rows() == 0, "fill from memory");
	for (i = ok = 0; i < OAUTH_REPLAY_WAYS; i++) {
		snprintf(k, sizeof(k), "b%d", i);
		ok += oauth_replay_add(r, "dpop", k, NOW + 20, NOW + 6) ==
		    PDS_OK;
	}
	CHECK(ok == OAUTH_REPLAY_WAYS && rows() == 0,
	    "expired slots taken again without the table (%d rows)", rows());

	CHECK(oauth_replay_add(r, "dpop", "c0", NOW + 30, NOW + 7) ==
	    PDS_OK && rows() == 1, "full: the table decides");
	CHECK(oauth_replay_add(r, "dpop", "c0", NOW + 30, NOW + 8) ==
	    PDS_EEXIST, "the table's key refused");
	CHECK(oauth_replay_add(r, "dpop", "b3", NOW + 30, NOW + 8) ==
	    PDS_EEXIST, "memory's keys still refused");
	/* memory frees up at NOW + 21 but c0 is live until NOW + 30 */
	CHECK(oauth_replay_add(r, "dpop", "d0", NOW + 40, NOW + 22) ==
	    PDS_OK && rows() == 2, "a miss asks the table while it holds "
	    "keys alone");
	CHECK(oauth_replay_add(r, "dpop", "c0", NOW + 40, NOW + 23) ==
	    PDS_EEXIST, "still refused with room in memory");
	CHECK(oauth_replay_add(r, "dpop", "e0", NOW + 40, NOW + 31) ==
	    PDS_OK && rows() == 2, "from memory again once they expired");
	oauth_replay_free(r);
}

/*
 * A full bucket sends only its own keys to the table: with 8 buckets,
 * 200 keys fill all 64 slots from memory and the table gets the other
 * 136.  Were one spilled bucket to send every miss to the table, far
 * fewer would come from memory.  Every key is refused after.
 */
static void
test_spill_per_bucket(void)
{
	struct oauth_replay *r;
	char	 k[32];
	int	 i, ok, again;

	t_group("a full bucket spills alone");
	empty_table();
	r = oauth_replay_new(8 * OAUTH_REPLAY_WAYS, 4096);
	for (i = ok = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "s%d", i);
		ok += oauth_replay_add(r, "dpop", k, NOW + 100, NOW) == PDS_OK;
	}
	CHECK(ok == 200 && rows() == 200 - 8 * OAUTH_REPLAY_WAYS,
	    "memory holds every slot, the table the rest (%d rows)", rows());
	for (i = again = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "s%d", i);
		again += oauth_replay_add(r, "dpop", k, NOW + 100, NOW + 1) ==
		    PDS_EEXIST;
	}
	CHECK(again == 200, "every key refused after (%d)", again);
	oauth_replay_free(r);
}

static void
test_queue_limits(void)
{
	struct oauth_replay *r;
	char	 longkey[OAUTH_REPLAY_KEY_MAX + 2];

	t_group("full queue and long keys ask the table");
	empty_table();
	r = oauth_replay_new(1024, 2);
	CHECK(oauth_replay_add(r, "dpop", "q1", NOW + 10, NOW) == PDS_OK &&
	    oauth_replay_add(r, "dpop", "q2", NOW + 10, NOW) == PDS_OK &&
	    rows() == 0, "queued");
	CHECK(oauth_replay_add(r, "dpop", "q3", NOW + 10, NOW) == PDS_OK &&
	    rows() == 1, "queue full: written at once");
	CHECK(oauth_replay_add(r, "dpop", "q3", NOW + 10, NOW) == PDS_EEXIST,
	    "and refused after");
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	CHECK(oauth_replay_add(r, "challenge", longkey, NOW + 10, NOW) ==
	    PDS_OK && rows() == 2, "long key: written at once");
	CHECK(oauth_replay_add(r, "challenge", longkey, NOW + 10, NOW) ==
	    PDS_EEXIST, "and refused after");
	oauth_replay_free(r);
}

static void
test_persist(void)
{
	struct oauth_replay *r;
	size_t	 n;
	int	 rc;

	t_group("write-behind, then a fresh cache loads it");
	empty_table();
	r = oauth_replay_new(1024, 64);
	CHECK(oauth_replay_add(r, "dpop", "p1", NOW + 100, NOW) == PDS_OK &&
	    oauth_replay_add(r, "dpop", "p2", NOW + 5, NOW) == PDS_OK &&
	    oauth_replay_add(r, "assertion", "p1", NOW + 100, NOW) == PDS_OK,
	    "accepted");
	rc = oauth_replay_flush(r, &n);
	CHECK(rc == PDS_OK && n == 3 && rows() == 3, "flushed %zu: %s", n,
	    pds_strerror(rc));
	rc = oauth_replay_flush(r, &n);
	CHECK(rc == PDS_OK && n == 0, "nothing left to flush");
	/* a key re-accepted after its expiry raises its row's expiry */
	CHECK(oauth_replay_add(r, "dpop", "p2", NOW + 200, NOW + 6) ==
	    PDS_OK && oauth_replay_flush(r, &n) == PDS_OK && n == 1 &&
	    rows() == 3, "re-accepted key written again");
	CHECK(oauth_replay_add(r, "dpop", "p3", NOW + 100, NOW) == PDS_OK,
	    "a key never flushed");
	oauth_replay_free(r);

	r = oauth_replay_new(1024, 64);
	rc = oauth_replay_load(r, NOW + 50, &n);
	CHECK(rc == PDS_OK && n == 3, "loaded %zu: %s", n, pds_strerror(rc));
	CHECK(oauth_replay_add(r, "dpop", "p1", NOW + 150, NOW + 50) ==
	    PDS_EEXIST, "old key refused after the reload");
	CHECK(oauth_replay_add(r, "assertion", "p1", NOW + 150, NOW + 50) ==
	    PDS_EEXIST, "in its namespace");
	CHECK(oauth_replay_add(r, "dpop", "p2", NOW + 150, NOW + 50) ==
	    PDS_EEXIST, "the later expiry was kept");
	CHECK(oauth_replay_add(r, "dpop", "p3", NOW + 150, NOW + 50) ==
	    PDS_OK, "the unflushed key is lost (a crash)");
	CHECK(oauth_replay_add(r, "dpop", "new", NOW + 150, NOW + 50) ==
	    PDS_OK, "a new key accepted");
	oauth_replay_free(r);

	t_group("a load larger than memory");
	r = oauth_replay_new(OAUTH_REPLAY_WAYS, 64);
	empty_table();
	for (n = 0; n < OAUTH_REPLAY_WAYS + 2; n++) {
		char	 k[16];

		snprintf(k, sizeof(k), "L%zu", n);
		(void)store_oauth_replay_put("dpop", k, NOW + 100);
	}
	rc = oauth_replay_load(r, NOW, &n);
	CHECK(rc == PDS_OK && n == OAUTH_REPLAY_WAYS, "loaded %zu", n);
	CHECK(oauth_replay_add(r, "dpop", "L0", NOW + 100, NOW) == PDS_EEXIST &&
	    oauth_replay_add(r, "dpop", "L9", NOW + 100, NOW) == PDS_EEXIST,
	    "every loaded key refused, in memory or not");
	oauth_replay_free(r);
}

struct race {
	struct oauth_replay	*r;
	int			 ok;
};

static void *
racer(void *arg)
{
	struct race	*x = arg;
	char		 k[16];
	int		 i;

	for (i = 0; i < 400; i++) {
		snprintf(k, sizeof(k), "r%d", i);
		if (oauth_replay_add(x->r, "dpop", k, NOW + 10, NOW) == PDS_OK)
			x->ok++;
	}
	store_thread_close();
	return NULL;
}

static void
test_race(void)
{
	struct race	 x[4];
	pthread_t	 th[4];
	struct oauth_replay *r;
	int		 i, total = 0;

	t_group("threads on the same keys");
	empty_table();
	/* 256 slots for 400 keys: memory and the table both decide */
	r = oauth_replay_new(256, 4096);
	for (i = 0; i < 4; i++) {
		x[i].r = r;
		x[i].ok = 0;
		CHECK(pthread_create(&th[i], NULL, racer, &x[i]) == 0,
		    "thread");
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += x[i].ok;
	}
	CHECK(total == 400, "each key accepted once (%d)", total);
	oauth_replay_free(r);
}

int
main(void)
{
	char	 dir[] = "/tmp/test_oauth_replay.XXXXXX";
	char	 path[128], cmd[160];

	log_init("test_pdsd_oauth_replay", 0, 0);
	if (sodium_init() < 0 || mkdtemp(dir) == NULL) {
		perror("init");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);
	if (store_open(path) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	test_basic();
	test_reuse_and_full();
	test_spill_per_bucket();
	test_queue_limits();
	test_persist();
	test_race();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	return t_done("test_pdsd_oauth_replay");
}
