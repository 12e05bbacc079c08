/*
 * repo_writer_state: the per-repo state cache of the repo writer (see
 * repo_writer_int.h), and the lock order check.
 *
 * Per-repo state (struct rstate) lives in a hash table keyed by DID and
 * is never freed while the daemon runs (one small struct per account
 * that ever wrote).  Its lock serializes the preparation of commits.
 * While commits of a repo are queued but not yet durable, its cached
 * MST keeps their nodes in its write set, so the next commit can be
 * built on top of them; when its queue is empty the tree is dropped
 * once it grows, and reloaded from the database on demand.  The sweep
 * gives back the memory of repos idle for long.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "blockstore.h"
#include "buf.h"
#include "clock.h"
#include "commit.h"
#include "err.h"
#include "keys.h"
#include "log.h"
#include "mst.h"
#include "repo_writer.h"
#include "repo_writer_int.h"
#include "store.h"
#include "store_account.h"
#include "store_repo.h"

#define STATE_BUCKETS		1024

static struct {
	pthread_mutex_t	 mu;
	struct rstate	*b[STATE_BUCKETS];
} states = { PTHREAD_MUTEX_INITIALIZER, { NULL } };

/* ---- the lock order ------------------------------------------------- */

#ifndef NDEBUG
static _Thread_local unsigned	held;	/* bit n: a lock of level n */
#define HELD_CHECK(l)	assert((held >> (l)) == 0)
#define HELD_SET(l)	(held |= 1u << (l))
#define HELD_CLEAR(l)	(held &= ~(1u << (l)))
#else
#define HELD_CHECK(l)	((void)0)
#define HELD_SET(l)	((void)0)
#define HELD_CLEAR(l)	((void)0)
#endif

void
rw_lock(pthread_mutex_t *mu, enum rw_lock_level level)
{
	HELD_CHECK(level);
	pthread_mutex_lock(mu);
	HELD_SET(level);
}

bool
rw_trylock(pthread_mutex_t *mu, enum rw_lock_level level)
{
	HELD_CHECK(level);
	if (pthread_mutex_trylock(mu) != 0)
		return false;
	HELD_SET(level);
	return true;
}

void
rw_unlock(pthread_mutex_t *mu, enum rw_lock_level level)
{
	HELD_CLEAR(level);
	pthread_mutex_unlock(mu);
}

/* ---- the table ------------------------------------------------------ */

static int
src_get(void *ctx, const struct cid *c, const uint8_t **data, size_t *len)
{
	struct rstate	*st = ctx;
	int		 rc;

	if (bs_mem_get(st->pending, c, data, len) == PDS_OK)
		return PDS_OK;
	if ((rc = bs_get(&st->db, c, data, len)) != PDS_OK)
		return rc;
	if (bs_mem_put(st->pending, c, *data, *len) == PDS_OK)
		(void)bs_mem_get(st->pending, c, data, len);
	return PDS_OK;
}

struct rstate *
rstate_get(const char *did)
{
	struct rstate	*s;
	unsigned	 h = 5381;
	const char	*p;

	for (p = did; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	h %= STATE_BUCKETS;
	rw_lock(&states.mu, RW_LOCK_STATES);
	for (s = states.b[h]; s != NULL; s = s->next)
		if (strcmp(s->did, did) == 0)
			break;
	if (s == NULL && (s = calloc(1, sizeof(*s))) != NULL) {
		if ((s->pending = bs_mem_new()) == NULL) {
			free(s);
			rw_unlock(&states.mu, RW_LOCK_STATES);
			return NULL;
		}
		snprintf(s->did, sizeof(s->did), "%s", did);
		pthread_mutex_init(&s->lock, NULL);
		store_bs_init(&s->bs, did);
		s->db = store_bs_store(&s->bs);
		s->src.get = src_get;
		s->src.put = NULL;
		s->src.ctx = s;
		s->next = states.b[h];
		states.b[h] = s;
	}
	rw_unlock(&states.mu, RW_LOCK_STATES);
	return s;
}

void
repo_writer_sweep(uint64_t idle_ms)
{
	struct rstate	*st;
	uint64_t	 now;
	size_t		 i;
	bool		 idle;

	rw_lock(&states.mu, RW_LOCK_STATES);
	for (i = 0; i < STATE_BUCKETS; i++) {
		for (st = states.b[i]; st != NULL; st = st->next) {
			if (!rw_trylock(&st->lock, RW_LOCK_REPO))
				continue;
			/* read under the lock: a write may have just used it */
			now = (uint64_t)clock_mono_ms();
			wq_repo_status(st, &idle, NULL);
			if ((st->key != NULL || st->tree != NULL) && idle &&
			    now >= st->used_ms && now - st->used_ms >= idle_ms) {
				rstate_drop(st);
				bs_mem_release(st->pending);
				store_bs_clear(&st->bs);
				store_bs_init(&st->bs, st->did);
				key_free(st->key);
				st->key = NULL;
			}
			rw_unlock(&st->lock, RW_LOCK_REPO);
		}
	}
	rw_unlock(&states.mu, RW_LOCK_STATES);
}

/* ---- loading a repo's state ----------------------------------------- */

void
rstate_drop(struct rstate *st)
{
	mst_free(st->tree);
	st->tree = NULL;
	st->loaded = false;
}

/*
 * Nothing of st is queued: the database has every pending block, and
 * they are only a cache from now on; keep them unless they grew.
 */
static void
rstate_settle(struct rstate *st)
{
	if (bs_mem_bytes(st->pending) > KEEP_BYTES)
		bs_mem_clear(st->pending);
}

static int
load_key(struct rstate *st)
{
	uint8_t	 priv[32];
	int	 rc;

	if (st->key != NULL)
		return PDS_OK;
	if ((rc = store_account_signing_key(st->did, priv)) != PDS_OK)
		return rc;
	rc = key_from_private(&st->key, KEY_K256, priv);
	sodium_memzero(priv, sizeof(priv));
	return rc;
}

/* Head, rev, MST root and tree from the database (nothing queued). */
static int
rstate_load(struct rstate *st)
{
	struct commit	 c;
	struct buf	 b;
	const char	*why = NULL;
	int		 rc;

	rstate_drop(st);
	bs_mem_clear(st->pending);
	if ((rc = load_key(st)) != PDS_OK)
		return rc;
	if ((rc = store_repo_root_get(st->did, &st->head, st->rev)) != PDS_OK)
		return rc;
	buf_init(&b, (size_t)1 << 20);
	rc = store_block_get(st->did, &st->head, &b);
	if (rc == PDS_OK)
		rc = commit_decode(&c, b.p, b.len, &why);
	buf_clear(&b);
	if (rc != PDS_OK) {
		log_warnx("repo %s: head commit unreadable: %s", st->did,
		    why != NULL ? why : pds_strerror(rc));
		return rc == PDS_ENOTFOUND ? PDS_EIO : rc;
	}
	st->data = c.data;
	if ((rc = mst_load(&st->src, &st->data, &st->tree, &why)) != PDS_OK) {
		log_warnx("repo %s: MST root unreadable: %s", st->did,
		    why != NULL ? why : pds_strerror(rc));
		return rc;
	}
	st->loaded = true;
	st->idle_writes = 0;
	return PDS_OK;
}

int
rstate_ready(struct rstate *st)
{
	bool	 stale = false, idle;
	size_t	 bytes;

	wq_repo_status(st, &idle, &stale);
	bytes = bs_mem_bytes(st->pending);
	if (stale || !st->loaded || st->tree == NULL ||
	    bytes > TREE_MAX_BYTES) {
		wq_wait_idle(st, &stale);
		return rstate_load(st);
	}
	if (idle) {
		rstate_settle(st);
		if (++st->idle_writes > TREE_IDLE_WRITES)
			return rstate_load(st);
	}
	return PDS_OK;
}
