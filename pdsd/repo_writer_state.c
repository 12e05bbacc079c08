/*
 * repo_writer_state: the per-repo state cache of the repo writer (see
 * repo_writer_int.h), and the lock order check.
 *
 * Per-repo state (struct rstate) lives in a hash table keyed by DID and
 * is never freed while the daemon runs (one small struct per account
 * that ever wrote: a hundred bytes and the DID).  Its lock serializes
 * the preparation of commits.  While commits of a repo are queued but
 * not yet durable, its cached MST keeps their nodes in its write set,
 * so the next commit can be built on top of them; when its queue is
 * empty the tree is dropped once it grows, and reloaded from the
 * database on demand.
 *
 * What a state holds beyond its fixed part (the tree's loaded nodes,
 * the kept blocks, a read buffer, the signing key) is charged to one
 * total.  Past the budget (PDS_REPO_CACHE_MB), each commit gives back
 * the memory of the least recently used idle repos until the total is
 * under it again; the sweep also gives back the memory of repos idle
 * for long.  A repo given back costs its next commit a reload: the
 * head, the root node and the nodes on the new keys' paths.
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
#include "stats.h"
#include "store.h"
#include "store_account.h"
#include "store_repo.h"

#define STATE_BUCKETS		1024
#define KEY_FOOTPRINT		192	/* a struct pds_key, roughly */

static struct {
	pthread_mutex_t	 mu;
	struct rstate	*b[STATE_BUCKETS];
	TAILQ_HEAD(rstate_lru, rstate) lru;	/* most recent first */
	size_t		 n;			/* states */
	_Atomic size_t	 bytes;		/* charged by the states */
	_Atomic size_t	 budget;
} states = { PTHREAD_MUTEX_INITIALIZER, { NULL },
    TAILQ_HEAD_INITIALIZER(states.lru), 0, 0, REPO_STATE_BUDGET_DEFAULT };

static struct stats_counter	*c_bytes, *c_states, *c_evicted;

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
	if ((rc = store_block_get(st->did, c, &st->tmp)) != PDS_OK)
		return rc;
	*data = st->tmp.p != NULL ? st->tmp.p : (const uint8_t *)"";
	*len = st->tmp.len;
	if (bs_mem_put(st->pending, c, *data, *len) == PDS_OK)
		(void)bs_mem_get(st->pending, c, data, len);
	return PDS_OK;
}

void
repo_writer_set_budget(size_t bytes)
{
	states.budget = bytes;
	c_bytes = stats_counter("repo.state_bytes", STATS_GAUGE);
	c_states = stats_counter("repo.states", STATS_GAUGE);
	c_evicted = stats_counter("repo.states_evicted", 0);
}

size_t
repo_writer_state_bytes(void)
{
	return states.bytes;
}

/* s (on the LRU list) to its front; states.mu held. */
static void
lru_touch(struct rstate *s)
{
	TAILQ_REMOVE(&states.lru, s, lru);
	TAILQ_INSERT_HEAD(&states.lru, s, lru);
}

struct rstate *
rstate_get(const char *did)
{
	struct rstate	*s;
	unsigned	 h = 5381;
	const char	*p;
	size_t		 len = strlen(did);

	for (p = did; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	h %= STATE_BUCKETS;
	rw_lock(&states.mu, RW_LOCK_STATES);
	for (s = states.b[h]; s != NULL; s = s->next)
		if (strcmp(s->did, did) == 0)
			break;
	if (s == NULL && (s = calloc(1, sizeof(*s) + len + 1)) != NULL) {
		if ((s->pending = bs_mem_new()) == NULL) {
			free(s);
			rw_unlock(&states.mu, RW_LOCK_STATES);
			return NULL;
		}
		memcpy(s->did, did, len + 1);
		pthread_mutex_init(&s->lock, NULL);
		buf_init(&s->tmp, (size_t)4 << 20);
		s->src.get = src_get;
		s->src.put = NULL;
		s->src.ctx = s;
		s->next = states.b[h];
		states.b[h] = s;
		states.n++;
		stats_set(c_states, states.n);
		TAILQ_INSERT_HEAD(&states.lru, s, lru);
	} else if (s != NULL && TAILQ_FIRST(&states.lru) != s)
		lru_touch(s);
	rw_unlock(&states.mu, RW_LOCK_STATES);
	return s;
}

/*
 * What st holds beyond its fixed part: the tree, the kept blocks, the
 * read buffer and the signing key.
 */
static size_t
rstate_footprint(const struct rstate *st)
{
	size_t	 sz;

	sz = mst_footprint(st->tree) + bs_mem_footprint(st->pending) +
	    st->tmp.cap;
	if (st->key != NULL)
		sz += KEY_FOOTPRINT;
	return sz;
}

void
rstate_charge(struct rstate *st)
{
	size_t	 now = rstate_footprint(st);

	if (now >= st->charged)
		states.bytes += now - st->charged;
	else
		states.bytes -= st->charged - now;
	st->charged = now;
	stats_set(c_bytes, states.bytes);
}

/* Give back what st holds (its lock held, nothing of it queued). */
static void
rstate_forget(struct rstate *st)
{
	rstate_drop(st);
	bs_mem_release(st->pending);
	buf_clear(&st->tmp);
	buf_init(&st->tmp, (size_t)4 << 20);
	key_free(st->key);
	st->key = NULL;
	rstate_charge(st);
}

/*
 * A walk looks at no more than TRIM_WALK_MAX states (under states.mu):
 * when the rest of the budget is held by repos with writes in flight,
 * the next commits try again.
 */
#define TRIM_WALK_MAX		256

void
rstate_trim(void)
{
	struct rstate	*st, *prev;
	unsigned	 n = 0;
	bool		 idle;

	if (states.bytes <= states.budget)
		return;
	rw_lock(&states.mu, RW_LOCK_STATES);
	for (st = TAILQ_LAST(&states.lru, rstate_lru); st != NULL &&
	    n++ < TRIM_WALK_MAX && states.bytes > states.budget; st = prev) {
		prev = TAILQ_PREV(st, rstate_lru, lru);
		if (st->charged == 0 || !rw_trylock(&st->lock, RW_LOCK_REPO))
			continue;
		wq_repo_status(st, &idle, NULL);
		if (idle) {
			rstate_forget(st);
			stats_add(c_evicted, 1);
			/* out of the way of the next walk from the tail */
			lru_touch(st);
		}
		rw_unlock(&st->lock, RW_LOCK_REPO);
	}
	rw_unlock(&states.mu, RW_LOCK_STATES);
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
			    now >= st->used_ms && now - st->used_ms >= idle_ms)
				rstate_forget(st);
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
	if (bs_mem_footprint(st->pending) > KEEP_BYTES)
		bs_mem_release(st->pending);
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
		if (++st->idle_writes > TREE_IDLE_WRITES ||
		    mst_footprint(st->tree) > TREE_KEEP_BYTES)
			return rstate_load(st);
	}
	return PDS_OK;
}
