/*
 * repo_writer: the commit pipeline.  See repo_writer.h.
 *
 * Per-repo state (struct rstate) lives in a hash table keyed by DID and
 * is never freed while the daemon runs (one small struct per account
 * that ever wrote).  Its lock serializes the preparation of commits.
 * While commits of a repo are queued but not yet durable, its cached
 * MST keeps their nodes in its write set, so the next commit can be
 * built on top of them; when its queue is empty the tree is dropped
 * once it grows, and reloaded from the database on demand.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "blockstore.h"
#include "buf.h"
#include "car.h"
#include "cbor.h"
#include "clock.h"
#include "commit.h"
#include "err.h"
#include "jobs.h"
#include "keys.h"
#include "log.h"
#include "module.h"
#include "mst.h"
#include "repo_validate.h"
#include "repo_writer.h"
#include "store.h"
#include "store_account.h"
#include "stats.h"
#include "store_events.h"
#include "store_repo.h"
#include "store_wal.h"

#define STATE_BUCKETS		1024
#define GROUP_MAX		1000	/* commits per transaction */
#define TREE_IDLE_WRITES	1000	/* then reload the tree when idle */
#define TREE_MAX_BYTES		((size_t)32 << 20)	/* pending blocks */
#define KEEP_BYTES		((size_t)64 << 10)	/* kept once durable */
#define IDLE_SWEEP_MS		60000	/* the sweep job's period */
#define IDLE_FORGET_MS		300000	/* a repo idle this long is dropped */
#define SLICE_MAX		2000000	/* #commit blocks (notes §11) */
#define CHECKPOINT_MS		1000	/* WAL checkpoint job */

void	blobs_forget_files(const char *did, const char *cids, size_t len);
/* events.c: wake the firehose after a commit (weak until it exists). */
void	events_notify(void) __attribute__((weak));

/* ---- per-repo state ------------------------------------------------- */

struct rstate {
	struct rstate	*next;
	char		 did[DID_MAX + 1];
	pthread_mutex_t	 lock;		/* held while preparing */
	/* under lock */
	bool		 loaded;
	uint64_t	 used_ms;	/* last prepared a commit (monotonic) */
	struct cid	 head;		/* latest commit (maybe not durable) */
	struct cid	 data;		/* its MST root */
	char		 rev[TID_LEN + 1];
	struct pds_key	*key;
	struct store_bs	 bs;
	struct blockstore db;		/* repo_blocks */
	/*
	 * Blocks of commits not yet durable, and blocks already read or
	 * written that are kept (up to KEEP_BYTES once nothing is queued):
	 * each commit needs the blocks of the nodes on its keys' paths for
	 * the #commit proof, mostly the ones the previous commit wrote, and
	 * would otherwise read them back from the database.  Blocks are
	 * immutable, so a kept block is never wrong.
	 */
	struct bs_mem	*pending;
	struct blockstore src;		/* pending, then db: the tree's source */
	struct mst	*tree;
	/* under wq.mu */
	unsigned	 idle_writes;	/* commits since the tree was loaded */
	unsigned	 inflight;	/* queued, not yet written */
	bool		 stale;		/* a queued commit failed */
};

static struct {
	pthread_mutex_t	 mu;
	struct rstate	*b[STATE_BUCKETS];
} states = { PTHREAD_MUTEX_INITIALIZER, { NULL } };

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

static struct rstate *
state_get(const char *did)
{
	struct rstate	*s;
	unsigned	 h = 5381;
	const char	*p;

	for (p = did; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	h %= STATE_BUCKETS;
	pthread_mutex_lock(&states.mu);
	for (s = states.b[h]; s != NULL; s = s->next)
		if (strcmp(s->did, did) == 0)
			break;
	if (s == NULL && (s = calloc(1, sizeof(*s))) != NULL) {
		if ((s->pending = bs_mem_new()) == NULL) {
			free(s);
			pthread_mutex_unlock(&states.mu);
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
	pthread_mutex_unlock(&states.mu);
	return s;
}

/* ---- the writer queue ----------------------------------------------- */

struct witem {
	struct witem	*next;
	struct rstate	*st;
	struct store_commit sc;
	struct store_rec_op *ops;
	struct bs_mem	*blocks;		/* the #commit slice */
	struct bs_mem	*store;		/* the new blocks to store */
	struct cid	*removed;
	struct cid	*blobcids;	/* every op's blob refs */
	struct store_event ev;
	struct buf	 head, tail;
	struct buf	 packed;		/* head and tail, compressed */
	char		 rev[TID_LEN + 1];
	char		 now[STORE_TS_LEN];
	struct buf	 gone;		/* cid\0cid\0... of deleted blobs */
	int		 rc;
	bool		 done;
	pthread_cond_t	 cv;
	repo_write_done_fn cb;		/* async: called, then item freed */
	void		*cb_arg;
	struct witem	*anext;		/* async completions of a group */
	/* on a committed group's first item, while it waits for the sync */
	struct witem	*gnext;		/* the next group waiting */
	int64_t		 gmin;		/* the group's lowest event seq */
	size_t		 gn;		/* items in the group */
};

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* work queued, or stop */
	pthread_cond_t	 idle;		/* some repo's inflight reached 0 */
	pthread_cond_t	 scv;		/* a group committed, or stop */
	struct witem	*first, *last;
	/* committed groups waiting for store_wal_sync(), oldest first */
	struct witem	*sfirst, *slast;
	int64_t		 committing;	/* lowest seq of the group in COMMIT */
	bool		 running, stopping, sstopping;
	pthread_t	 thread, sthread;
	struct repo_writer_stats stats;
} wq = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
    PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, NULL,
    NULL, 0, false, false, false, 0, 0, { 0, 0, 0, 0 } };

static bool	jobs_added;

/* pdsctl stats: commits per transaction is commits / transactions. */
static struct stats_counter *c_txns, *c_commits, *c_failed, *c_syncs;

static void
item_free(struct witem *it)
{
	if (it == NULL)
		return;
	free(it->ops);
	bs_mem_free(it->blocks);
	bs_mem_free(it->store);
	free(it->removed);
	free(it->blobcids);
	buf_free(&it->head);
	buf_free(&it->tail);
	buf_free(&it->packed);
	buf_free(&it->gone);
	pthread_cond_destroy(&it->cv);
	free(it);
}

static void
gone_cb(void *arg, const char *did, const char *cid)
{
	struct witem	*it = arg;

	(void)did;
	(void)buf_append(&it->gone, cid, strlen(cid) + 1);
}

static int	err_set(struct repo_err *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));

/* What a written (or failed) item means to its caller. */
static int
item_result(const struct witem *it, struct repo_write_result *res,
    struct repo_err *err)
{
	memset(res, 0, sizeof(*res));
	err->name = NULL;
	err->msg[0] = '\0';
	if (it->rc == PDS_OK) {
		res->committed = true;
		res->commit = it->sc.commit;
		memcpy(res->rev, it->rev, sizeof(res->rev));
		res->seq = it->ev.seq;
		return PDS_OK;
	}
	/* store_repo_apply: a blob the records refer to has no row */
	if (it->rc == PDS_ENOTFOUND)
		return err_set(err, it->rc, "BlobNotFound", "%s",
		    it->sc.why != NULL ? it->sc.why : "Could not find blob");
	if (it->rc == PDS_EMISMATCH)
		return err_set(err, PDS_EIO, NULL, "%s", it->sc.why != NULL ?
		    it->sc.why : "concurrent failure");
	return err_set(err, it->rc, NULL, "%s", pds_strerror(it->rc));
}

/*
 * A group is done (durable, or failed): forget the files of blobs it
 * deleted, wake the firehose, answer the requests.
 */
static void
group_finish(struct witem *batch, size_t n)
{
	struct witem	*it, *async = NULL;
	int64_t		 last_seq = 0;
	size_t		 ok = 0;
	int		 rc;

	for (it = batch; it != NULL; it = it->next) {
		if (it->rc != PDS_OK)
			continue;
		ok++;
		if (it->ev.seq > last_seq)
			last_seq = it->ev.seq;
		if (it->gone.len > 0)
			blobs_forget_files(it->sc.did, (const char *)it->gone.p,
			    it->gone.len);
	}
	if (last_seq > 0 && events_notify != NULL)
		events_notify();
	stats_add(c_txns, 1);
	stats_add(c_commits, ok);
	stats_add(c_failed, n - ok);

	pthread_mutex_lock(&wq.mu);
	wq.stats.transactions++;
	wq.stats.commits += ok;
	wq.stats.failed += n - ok;
	if (n > wq.stats.max_group)
		wq.stats.max_group = n;
	/*
	 * Waiters need wq.mu to see done, so their items live until the
	 * unlock; the batch list must not be walked after it.
	 */
	for (it = batch; it != NULL; it = it->next) {
		if (it->rc != PDS_OK)
			it->st->stale = true;
		if (--it->st->inflight == 0)
			pthread_cond_broadcast(&wq.idle);
		if (it->cb != NULL) {
			it->anext = async;
			async = it;
			continue;
		}
		it->done = true;
		pthread_cond_signal(&it->cv);
	}
	pthread_mutex_unlock(&wq.mu);
	while (async != NULL) {
		struct repo_write_result res;
		struct repo_err err;
		it = async;
		async = it->anext;
		rc = item_result(it, &res, &err);
		it->cb(it->cb_arg, rc, &res, &err);
		item_free(it);
	}
}

/*
 * Write a group in one transaction.  The COMMIT does not wait for the
 * disk (store_wal.h): a committed group joins the sync queue, and the
 * syncer thread finishes it once store_wal_sync() has made it durable,
 * while this thread goes on with the next group.
 */
static void
group_write(struct witem *batch)
{
	struct witem	*it;
	int64_t		 gmin = 0;
	size_t		 n = 0, ok = 0;
	int		 rc;

	rc = store_begin();
	for (it = batch; it != NULL; it = it->next) {
		n++;
		if (rc != PDS_OK) {
			it->rc = rc;
			continue;
		}
		it->sc.blob_gone = gone_cb;
		it->sc.blob_gone_arg = it;
		if ((it->rc = store_repo_savepoint()) != PDS_OK)
			continue;
		it->rc = store_repo_apply(&it->sc);
		if (it->rc != PDS_OK)
			buf_reset(&it->gone);
		store_repo_savepoint_end(it->rc != PDS_OK);
		if (it->rc == PDS_OK) {
			ok++;
			if (it->ev.seq > 0 && (gmin == 0 || it->ev.seq < gmin))
				gmin = it->ev.seq;
		}
	}
	if (rc != PDS_OK || ok == 0) {
		if (rc == PDS_OK)
			(void)store_commit();	/* nothing in it */
		group_finish(batch, n);
		return;
	}
	/* Until the sync, the firehose stops short of gmin. */
	pthread_mutex_lock(&wq.mu);
	wq.committing = gmin;
	pthread_mutex_unlock(&wq.mu);
	if ((rc = store_commit()) != PDS_OK) {
		log_warnx("repo writer: commit of %zu repo commits failed: %s",
		    n, pds_strerror(rc));
		for (it = batch; it != NULL; it = it->next)
			if (it->rc == PDS_OK) {
				it->rc = rc;
				it->sc.why = NULL;
			}
		pthread_mutex_lock(&wq.mu);
		wq.committing = 0;
		pthread_mutex_unlock(&wq.mu);
		group_finish(batch, n);
		return;
	}
	pthread_mutex_lock(&wq.mu);
	batch->gnext = NULL;
	batch->gmin = gmin;
	batch->gn = n;
	if (wq.slast != NULL)
		wq.slast->gnext = batch;
	else
		wq.sfirst = batch;
	wq.slast = batch;
	wq.committing = 0;
	pthread_cond_signal(&wq.scv);
	pthread_mutex_unlock(&wq.mu);
}

/*
 * The syncer: one store_wal_sync() makes every group committed before
 * it durable.  A failed sync leaves the database in a state nobody can
 * vouch for (the kernel may have dropped the pages it could not write),
 * so pdsd stops at once rather than acknowledge or retry; at the next
 * start SQLite recovers the log from what reached the disk.
 */
static void *
syncer_main(void *arg)
{
	struct witem	*upto, *g, *next;
	int		 rc;

	(void)arg;
	(void)pthread_setname_np(pthread_self(), "repo-sync");
	for (;;) {
		pthread_mutex_lock(&wq.mu);
		while (wq.sfirst == NULL && !wq.sstopping)
			pthread_cond_wait(&wq.scv, &wq.mu);
		if (wq.sfirst == NULL) {
			pthread_mutex_unlock(&wq.mu);
			break;
		}
		upto = wq.slast;
		pthread_mutex_unlock(&wq.mu);

		if ((rc = store_wal_sync()) != PDS_OK)
			fatalx("repo writer: cannot make commits durable: %s",
			    pds_strerror(rc));
		stats_add(c_syncs, 1);

		pthread_mutex_lock(&wq.mu);
		g = wq.sfirst;
		wq.sfirst = upto->gnext;
		if (wq.sfirst == NULL)
			wq.slast = NULL;
		upto->gnext = NULL;
		pthread_mutex_unlock(&wq.mu);
		for (; g != NULL; g = next) {
			next = g->gnext;
			group_finish(g, g->gn);
		}
	}
	return NULL;
}

int64_t
repo_writer_durable_seq(void)
{
	int64_t	 v;

	pthread_mutex_lock(&wq.mu);
	v = wq.sfirst != NULL ? wq.sfirst->gmin : wq.committing;
	pthread_mutex_unlock(&wq.mu);
	return v > 0 ? v - 1 : INT64_MAX;
}

static void *
writer_main(void *arg)
{
	struct witem	*batch, *it;
	size_t		 n;

	(void)arg;
	(void)pthread_setname_np(pthread_self(), "repo-writer");
	if (store_wal_writer_init() != PDS_OK)
		log_warnx("repo writer: commits wait for the disk one by one");
	for (;;) {
		pthread_mutex_lock(&wq.mu);
		while (wq.first == NULL && !wq.stopping)
			pthread_cond_wait(&wq.cv, &wq.mu);
		if (wq.first == NULL) {
			pthread_mutex_unlock(&wq.mu);
			break;
		}
		batch = wq.first;
		for (it = batch, n = 1; it->next != NULL && n < GROUP_MAX;
		    it = it->next, n++)
			;
		wq.first = it->next;
		if (wq.first == NULL)
			wq.last = NULL;
		it->next = NULL;
		pthread_mutex_unlock(&wq.mu);
		group_write(batch);
	}
	pthread_mutex_lock(&wq.mu);
	wq.sstopping = true;
	pthread_cond_signal(&wq.scv);
	pthread_mutex_unlock(&wq.mu);
	pthread_join(wq.sthread, NULL);
	store_wal_close();
	store_thread_close();
	return NULL;
}

/* Queue an item; the caller holds its repo's lock. */
static int
enqueue(struct witem *it)
{
	pthread_mutex_lock(&wq.mu);
	if (!wq.running || wq.stopping) {
		pthread_mutex_unlock(&wq.mu);
		return PDS_EIO;
	}
	it->st->inflight++;
	it->next = NULL;
	if (wq.last != NULL)
		wq.last->next = it;
	else
		wq.first = it;
	wq.last = it;
	pthread_cond_signal(&wq.cv);
	pthread_mutex_unlock(&wq.mu);
	return PDS_OK;
}

static int
wait_done(struct witem *it)
{
	int	 rc;

	pthread_mutex_lock(&wq.mu);
	while (!it->done)
		pthread_cond_wait(&it->cv, &wq.mu);
	rc = it->rc;
	pthread_mutex_unlock(&wq.mu);
	return rc;
}

/* Wait until nothing of st is queued; *stale gets (and clears) its flag. */
static void
wait_idle(struct rstate *st, bool *stale)
{
	pthread_mutex_lock(&wq.mu);
	while (st->inflight > 0)
		pthread_cond_wait(&wq.idle, &wq.mu);
	*stale = st->stale;
	st->stale = false;
	pthread_mutex_unlock(&wq.mu);
}

int
repo_writer_start(void)
{
	pthread_mutex_lock(&wq.mu);
	if (wq.running) {
		pthread_mutex_unlock(&wq.mu);
		return PDS_OK;
	}
	wq.stopping = false;
	wq.sstopping = false;
	if (pthread_create(&wq.sthread, NULL, syncer_main, NULL) != 0) {
		pthread_mutex_unlock(&wq.mu);
		log_warn("repo writer: pthread_create");
		return PDS_EIO;
	}
	if (pthread_create(&wq.thread, NULL, writer_main, NULL) != 0) {
		wq.sstopping = true;
		pthread_cond_signal(&wq.scv);
		pthread_mutex_unlock(&wq.mu);
		pthread_join(wq.sthread, NULL);
		log_warn("repo writer: pthread_create");
		return PDS_EIO;
	}
	wq.running = true;
	pthread_mutex_unlock(&wq.mu);
	return PDS_OK;
}

void
repo_writer_stop(void)
{
	pthread_mutex_lock(&wq.mu);
	if (!wq.running) {
		pthread_mutex_unlock(&wq.mu);
		return;
	}
	wq.stopping = true;
	pthread_cond_broadcast(&wq.cv);
	pthread_mutex_unlock(&wq.mu);
	pthread_join(wq.thread, NULL);
	pthread_mutex_lock(&wq.mu);
	wq.running = false;
	pthread_mutex_unlock(&wq.mu);
}

void
repo_writer_stats(struct repo_writer_stats *out)
{
	pthread_mutex_lock(&wq.mu);
	*out = wq.stats;
	pthread_mutex_unlock(&wq.mu);
}

static void	state_drop(struct rstate *);

void
repo_writer_sweep(uint64_t idle_ms)
{
	struct rstate	*st;
	uint64_t	 now;
	size_t		 i;
	bool		 idle;

	pthread_mutex_lock(&states.mu);
	for (i = 0; i < STATE_BUCKETS; i++) {
		for (st = states.b[i]; st != NULL; st = st->next) {
			if (pthread_mutex_trylock(&st->lock) != 0)
				continue;
			/* read under the lock: a write may have just used it */
			now = (uint64_t)clock_mono_ms();
			pthread_mutex_lock(&wq.mu);
			idle = st->inflight == 0;
			pthread_mutex_unlock(&wq.mu);
			if ((st->key != NULL || st->tree != NULL) && idle &&
			    now >= st->used_ms && now - st->used_ms >= idle_ms) {
				state_drop(st);
				bs_mem_release(st->pending);
				store_bs_free(&st->bs);
				store_bs_init(&st->bs, st->did);
				key_free(st->key);
				st->key = NULL;
			}
			pthread_mutex_unlock(&st->lock);
		}
	}
	pthread_mutex_unlock(&states.mu);
}

static void
sweep_job(void *arg)
{
	(void)arg;
	repo_writer_sweep(IDLE_FORGET_MS);
}

static void
checkpoint_job(void *arg)
{
	(void)arg;
	(void)store_wal_checkpoint();
}

static int
writer_init(const struct config *cfg)
{
	(void)cfg;
	c_txns = stats_counter("repo.transactions", STATS_RATE);
	c_commits = stats_counter("repo.commits", STATS_RATE);
	c_failed = stats_counter("repo.failed", STATS_RATE);
	c_syncs = stats_counter("repo.syncs", STATS_RATE);
	/* once per process: the jobs outlive a stop and a new start */
	if (!jobs_added) {
		if (jobs_add("wal checkpoint", CHECKPOINT_MS, checkpoint_job,
		    NULL) != PDS_OK ||
		    jobs_add("repo state sweep", IDLE_SWEEP_MS, sweep_job,
		    NULL) != PDS_OK)
			return -1;
		jobs_added = true;
	}
	return repo_writer_start() == PDS_OK ? 0 : -1;
}

PDSD_MODULE(repo_writer, writer_init, repo_writer_stop);

/* ---- loading a repo's state ----------------------------------------- */

static void
state_drop(struct rstate *st)
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
state_settle(struct rstate *st)
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
state_load(struct rstate *st)
{
	struct commit	 c;
	struct buf	 b;
	const char	*why = NULL;
	int		 rc;

	state_drop(st);
	bs_mem_clear(st->pending);
	if ((rc = load_key(st)) != PDS_OK)
		return rc;
	if ((rc = store_repo_root_get(st->did, &st->head, st->rev)) != PDS_OK)
		return rc;
	buf_init(&b, (size_t)1 << 20);
	rc = store_block_get(st->did, &st->head, &b);
	if (rc == PDS_OK)
		rc = commit_decode(&c, b.p, b.len, &why);
	buf_free(&b);
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

/* Make st ready for the next commit (its lock held). */
static int
state_ready(struct rstate *st)
{
	bool	 stale = false, idle;
	size_t	 bytes;

	pthread_mutex_lock(&wq.mu);
	idle = st->inflight == 0;
	if (st->stale)
		stale = true;
	pthread_mutex_unlock(&wq.mu);
	bytes = bs_mem_bytes(st->pending);
	if (stale || !st->loaded || st->tree == NULL ||
	    bytes > TREE_MAX_BYTES) {
		wait_idle(st, &stale);
		return state_load(st);
	}
	if (idle) {
		state_settle(st);
		if (++st->idle_writes > TREE_IDLE_WRITES)
			return state_load(st);
	}
	return PDS_OK;
}

/* ---- building a commit ---------------------------------------------- */

struct prep {
	struct repo_record *recs;	/* per op (value ops) */
	char		(*keys)[NSID_MAX + 1 + RKEY_MAX + 1];
	size_t		*klens;
	size_t		*sidx;		/* effective op -> op index */
};

static int
err_set(struct repo_err *err, int rc, const char *name, const char *fmt, ...)
{
	va_list	 ap;

	err->name = name;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

static int
check_blobs(const char *did, const struct repo_record *r,
    struct repo_err *err)
{
	struct store_blob b;
	char		 cs[CID_STR_MAX];
	size_t		 i;
	int		 rc;

	for (i = 0; i < r->nblobs; i++) {
		cid_format(&r->blobs[i].cid, cs, sizeof(cs));
		rc = store_blob_get(did, &r->blobs[i].cid, &b);
		if (rc == PDS_ENOTFOUND)
			return err_set(err, PDS_ENOTFOUND, "BlobNotFound",
			    "Could not find blob: %s", cs);
		if (rc != PDS_OK)
			return rc;
		if (strcmp(b.mime_type, r->blobs[i].mime) != 0)
			return err_set(err, PDS_EINVAL, "InvalidMimeType",
			    "Referenced Mimetype does not match stored blob. "
			    "Expected: %.64s, Got: %.64s", b.mime_type,
			    r->blobs[i].mime);
		if (b.size != r->blobs[i].size)
			return err_set(err, PDS_EINVAL, "InvalidSize",
			    "Referenced size does not match stored blob. "
			    "Expected: %lld, Got: %lld", (long long)b.size,
			    (long long)r->blobs[i].size);
	}
	return PDS_OK;
}

/* The first key under node `c' (from blocks in `m'), for GC checks. */
struct first_key {
	uint8_t		 key[MST_KEY_MAX];
	size_t		 klen;
	bool		 found;
};

static int
first_entry(void *arg, const uint8_t *key, size_t klen, const struct cid *v,
    const struct cid *right)
{
	struct first_key *fk = arg;

	(void)v;
	(void)right;
	if (fk->found || klen > sizeof(fk->key))
		return 1;
	memcpy(fk->key, key, klen);
	fk->klen = klen;
	fk->found = true;
	return 1;
}

static bool
first_key_of(const struct bs_mem *m, const struct cid *c,
    struct first_key *fk, int depth)
{
	struct mst_node_info info;
	const uint8_t	*d;
	size_t		 len;

	if (depth > MST_MAX_LAYER || bs_mem_get(m, c, &d, &len) != PDS_OK)
		return false;
	fk->found = false;
	(void)mst_node_parse(d, len, -1, &info, first_entry, fk, NULL);
	if (fk->found)
		return true;
	if (info.nentries == 0 && info.has_left)
		return first_key_of(m, &info.left, fk, depth + 1);
	return false;
}

struct gc_ctx {
	struct mst	*tree;
	struct cid	 root;		/* the new tree's */
	const struct bs_mem *slice;
	const struct bs_mem *old;
	struct bs_mem	*path;
	struct cid	*removed;
	size_t		 n, cap;
};

/*
 * A node of the old covering proofs is gone from the new tree unless it
 * is in the slice or on the new tree's path to its first key.  When in
 * doubt (no key found) it is kept: a leaked block, never a lost one.
 */
static int
gc_candidate(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	struct gc_ctx	*g = arg;
	struct first_key fk;
	int		 rc;

	if (bs_mem_has(g->slice, c))
		return 0;
	if (!first_key_of(g->old, c, &fk, 0)) {
		/* The empty tree's root is gone unless still the root. */
		struct mst_node_info info;
		if (mst_node_parse(d, len, -1, &info, NULL, NULL, NULL) ==
		    PDS_OK && info.nentries == 0 && !info.has_left &&
		    !cid_equal(c, &g->root) && g->n < g->cap)
			g->removed[g->n++] = *c;
		return 0;
	}
	bs_mem_clear(g->path);
	if ((rc = mst_proof_path(g->tree, fk.key, fk.klen, g->path)) !=
	    PDS_OK)
		return rc;
	if (bs_mem_has(g->path, c))
		return 0;
	if (g->n == g->cap)
		return PDS_ETOOBIG;
	g->removed[g->n++] = *c;
	return 0;
}

/* One #commit op map: {cid, path, prev?, action} in canonical order. */
static int
put_op(struct buf *b, const struct store_rec_op *op, const char *key,
    size_t klen)
{
	int	 rc = 0;

	rc |= cbor_put_map(b, op->action == MST_CREATE ? 3 : 4);
	rc |= cbor_put_text(b, "cid", 3);
	if (op->action == MST_DELETE)
		rc |= cbor_put_null(b);
	else
		rc |= cbor_put_link(b, &op->cid);
	rc |= cbor_put_text(b, "path", 4);
	rc |= cbor_put_text(b, key, klen);
	if (op->action != MST_CREATE) {
		rc |= cbor_put_text(b, "prev", 4);
		rc |= cbor_put_link(b, &op->prev);
	}
	rc |= cbor_put_text(b, "action", 6);
	rc |= cbor_put_str(b, op->action == MST_CREATE ? "create" :
	    op->action == MST_UPDATE ? "update" : "delete");
	return rc != 0 ? PDS_ENOMEM : PDS_OK;
}

static int
car_block(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	return car_write_block(arg, c, d, len);
}

/*
 * The #commit body around its seq (store_event): keys in canonical
 * order ops, rev, [seq], repo, time, blobs, since, blocks, commit,
 * rebase, tooBig, prevData.
 */
static int
build_commit_event(struct buf *head, struct buf *tail, const char *did,
    const struct cid *commit, const char *rev, const char *since,
    const struct cid *prev_data, const struct store_rec_op *ops,
    size_t nops, const char (*keys)[NSID_MAX + 1 + RKEY_MAX + 1],
    const size_t *klens, const struct bs_mem *slice, const char *now)
{
	struct buf	 car;
	size_t		 i;
	int		 rc = 0;

	rc |= cbor_put_map(head, prev_data != NULL ? 12 : 11);
	rc |= cbor_put_text(head, "ops", 3);
	rc |= cbor_put_array(head, nops);
	for (i = 0; i < nops && rc == 0; i++)
		rc |= put_op(head, &ops[i], keys[i], klens[i]);
	rc |= cbor_put_text(head, "rev", 3);
	rc |= cbor_put_str(head, rev);
	if (rc != 0)
		return PDS_ENOMEM;

	buf_init(&car, SLICE_MAX + 4096);
	if ((rc = car_write_header(&car, commit, 1)) != PDS_OK ||
	    (rc = bs_mem_foreach(slice, car_block, &car)) != PDS_OK) {
		buf_free(&car);
		return rc;
	}
	rc |= cbor_put_text(tail, "repo", 4);
	rc |= cbor_put_str(tail, did);
	rc |= cbor_put_text(tail, "time", 4);
	rc |= cbor_put_str(tail, now);
	rc |= cbor_put_text(tail, "blobs", 5);
	rc |= cbor_put_array(tail, 0);
	rc |= cbor_put_text(tail, "since", 5);
	if (since != NULL)
		rc |= cbor_put_str(tail, since);
	else
		rc |= cbor_put_null(tail);
	rc |= cbor_put_text(tail, "blocks", 6);
	rc |= cbor_put_bytes(tail, car.p, car.len);
	rc |= cbor_put_text(tail, "commit", 6);
	rc |= cbor_put_link(tail, commit);
	rc |= cbor_put_text(tail, "rebase", 6);
	rc |= cbor_put_bool(tail, false);
	rc |= cbor_put_text(tail, "tooBig", 6);
	rc |= cbor_put_bool(tail, false);
	if (prev_data != NULL) {
		rc |= cbor_put_text(tail, "prevData", 8);
		rc |= cbor_put_link(tail, prev_data);
	}
	buf_free(&car);
	return rc != 0 ? PDS_ENOMEM : PDS_OK;
}

static struct witem *
item_new(void)
{
	struct witem	*it;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	buf_init(&it->head, (size_t)1 << 20);
	buf_init(&it->tail, SLICE_MAX + (size_t)64 * 1024);
	buf_init(&it->packed, STORE_EVENT_BODY_MAX);
	buf_init(&it->gone, (size_t)1 << 20);
	pthread_cond_init(&it->cv, NULL);
	if ((it->blocks = bs_mem_new()) == NULL ||
	    (it->store = bs_mem_new()) == NULL) {
		item_free(it);
		return NULL;
	}
	return it;
}

static int
account_check(const char *did, struct repo_err *err)
{
	struct store_repo_acct a;
	int		 rc;

	if ((rc = store_repo_acct_find(did, &a)) == PDS_ENOTFOUND)
		return err_set(err, PDS_ENOTFOUND, "RepoNotFound",
		    "Could not find repo: %s", did);
	if (rc != PDS_OK)
		return rc;
	if (strcmp(a.status, "takendown") == 0)
		return err_set(err, PDS_EUNSUPP, "AccountTakedown",
		    "Account has been taken down");
	if (strcmp(a.status, "active") != 0)
		return err_set(err, PDS_EUNSUPP, "AccountDeactivated",
		    "Account is deactivated");
	return PDS_OK;
}

/*
 * Apply the ops to the tree (lock held).  On PDS_OK the tree holds the
 * new state; on failure *broken says whether it was changed.
 */
static int
apply_ops(struct rstate *st, struct repo_write_op *ops, size_t nops,
    struct prep *p, struct store_rec_op *sops, size_t *nsops,
    unsigned flags, bool *broken, struct repo_err *err)
{
	struct cid	 cur, prev;
	bool		 found;
	size_t		 i;
	int		 rc;

	*broken = false;
	*nsops = 0;
	/* Checks against the current tree first, so most refusals are clean. */
	for (i = 0; i < nops; i++) {
		rc = mst_get(st->tree, (const uint8_t *)p->keys[i],
		    p->klens[i], &cur);
		if (rc != PDS_OK && rc != PDS_ENOTFOUND)
			return rc;
		found = rc == PDS_OK;
		if (ops[i].has_swap && (ops[i].swap_null ? found :
		    (!found || !cid_equal(&cur, &ops[i].swap))))
			return err_set(err, PDS_EMISMATCH, "InvalidSwap",
			    "Record was at %s", found ? "another CID" :
			    "no CID (absent)");
		if (ops[i].action == REPO_CREATE && found)
			return err_set(err, PDS_EEXIST, "InvalidRequest",
			    "Record already exists: %s", p->keys[i]);
		if (ops[i].action == REPO_UPDATE && !found)
			return err_set(err, PDS_ENOTFOUND, "InvalidRequest",
			    "Could not find record: %s", p->keys[i]);
		if (ops[i].action == REPO_DELETE && !found &&
		    !(flags & REPO_F_DELETE_ABSENT_OK))
			return err_set(err, PDS_ENOTFOUND, "InvalidRequest",
			    "Could not find record: %s", p->keys[i]);
	}
	for (i = 0; i < nops; i++) {
		const uint8_t	*k = (const uint8_t *)p->keys[i];
		struct store_rec_op *so = &sops[*nsops];

		memset(so, 0, sizeof(*so));
		switch (ops[i].action) {
		case REPO_CREATE:
			rc = mst_add(st->tree, k, p->klens[i], &p->recs[i].cid);
			found = false;
			break;
		case REPO_UPDATE:
		case REPO_PUT:
			rc = mst_put(st->tree, k, p->klens[i], &p->recs[i].cid,
			    &prev, &found);
			break;
		case REPO_DELETE:
			rc = mst_delete(st->tree, k, p->klens[i], &prev);
			found = true;
			if (rc == PDS_ENOTFOUND &&
			    (flags & REPO_F_DELETE_ABSENT_OK)) {
				ops[i].done = REPO_DELETE;
				continue;
			}
			break;
		default:
			rc = PDS_EINVAL;
		}
		if (rc != PDS_OK) {
			*broken = i > 0 || rc == PDS_ENOMEM;
			if (rc == PDS_EEXIST || rc == PDS_ENOTFOUND)
				return err_set(err, rc, "InvalidRequest",
				    "Conflicting writes to %s", p->keys[i]);
			return rc;
		}
		if (ops[i].action == REPO_DELETE) {
			so->action = MST_DELETE;
			ops[i].done = REPO_DELETE;
		} else if (found) {
			so->action = MST_UPDATE;
			ops[i].done = REPO_UPDATE;
		} else {
			so->action = MST_CREATE;
			ops[i].done = REPO_CREATE;
		}
		so->collection = ops[i].collection;
		so->rkey = ops[i].rkey;
		if (so->action != MST_CREATE)
			so->prev = prev;
		if (so->action != MST_DELETE) {
			so->cid = p->recs[i].cid;
			ops[i].cid = p->recs[i].cid;
			ops[i].validation = p->recs[i].validation;
			so->nblobs = p->recs[i].nblobs;
		}
		/* keep the key of each effective op next to it */
		if (*nsops != i) {
			memcpy(p->keys[*nsops], p->keys[i], p->klens[i] + 1);
			p->klens[*nsops] = p->klens[i];
		}
		p->sidx[*nsops] = i;
		(*nsops)++;
	}
	return PDS_OK;
}

/*
 * Steps 1 and 2: on PDS_OK, *itp is the queued item, or NULL when there
 * was nothing to commit.  cb (NULL: the caller waits) goes with it.
 */
static int
write_prepare(const char *did, struct repo_write_op *ops, size_t nops,
    const struct cid *swap_commit, unsigned flags, repo_write_done_fn done,
    void *cb_arg, struct witem **itp, struct repo_err *err)
{
	struct prep	 p;
	struct rstate	*st = NULL;
	struct witem	*it = NULL;
	struct bs_mem	*oldp = NULL, *path = NULL;
	struct gc_ctx	 gc;
	struct buf	 cb;
	struct cid	 root, commit, prev_data;
	char		 prev_rev[TID_LEN + 1], rev[TID_LEN + 1];
	size_t		 i, nsops = 0;
	bool		 locked = false, broken = false;
	int		 rc, n;

	*itp = NULL;
	memset(&p, 0, sizeof(p));
	err->name = NULL;
	err->msg[0] = '\0';
	buf_init(&cb, 4096);
	if (nops > REPO_WRITES_MAX)
		return err_set(err, PDS_EINVAL, "InvalidRequest",
		    "Too many writes. Max: %d", REPO_WRITES_MAX);
	if ((rc = account_check(did, err)) != PDS_OK)
		return rc;

	/* 1. Records, outside any lock. */
	p.recs = calloc(nops ? nops : 1, sizeof(*p.recs));
	p.keys = calloc(nops ? nops : 1, sizeof(*p.keys));
	p.klens = calloc(nops ? nops : 1, sizeof(*p.klens));
	p.sidx = calloc(nops ? nops : 1, sizeof(*p.sidx));
	if (p.recs == NULL || p.keys == NULL || p.klens == NULL ||
	    p.sidx == NULL) {
		rc = PDS_ENOMEM;
		goto out;
	}
	for (i = 0; i < nops; i++) {
		if (ops[i].action == REPO_CREATE && ops[i].rkey[0] == '\0')
			tid_next(ops[i].rkey);
		if (!syntax_is_nsid(ops[i].collection,
		    strlen(ops[i].collection))) {
			rc = err_set(err, PDS_EINVAL, "InvalidRequest",
			    "Invalid collection: %.64s", ops[i].collection);
			goto out;
		}
		if (!syntax_is_rkey(ops[i].rkey, strlen(ops[i].rkey))) {
			rc = err_set(err, PDS_EINVAL, "InvalidRequest",
			    "Invalid record key: %.64s", ops[i].rkey);
			goto out;
		}
		n = snprintf(p.keys[i], sizeof(p.keys[i]), "%s/%s",
		    ops[i].collection, ops[i].rkey);
		p.klens[i] = (size_t)n;
		if (ops[i].action == REPO_DELETE)
			continue;
		if ((rc = repo_record_prepare(ops[i].collection, ops[i].rkey,
		    ops[i].value, ops[i].validate, &p.recs[i], err)) !=
		    PDS_OK ||
		    (rc = check_blobs(did, &p.recs[i], err)) != PDS_OK)
			goto out;
	}
	if ((st = state_get(did)) == NULL || (it = item_new()) == NULL ||
	    (oldp = bs_mem_new()) == NULL || (path = bs_mem_new()) == NULL ||
	    (it->ops = calloc(nops ? nops : 1, sizeof(*it->ops))) == NULL) {
		rc = PDS_ENOMEM;
		goto out;
	}

	/* 2. Under the repo's lock. */
	pthread_mutex_lock(&st->lock);
	locked = true;
	st->used_ms = (uint64_t)clock_mono_ms();
	if ((rc = state_ready(st)) != PDS_OK) {
		state_drop(st);
		if (rc == PDS_ENOTFOUND)
			rc = err_set(err, PDS_ENOTFOUND, "RepoNotFound",
			    "Could not find repo: %s", did);
		goto out;
	}
	if (swap_commit != NULL && !cid_equal(swap_commit, &st->head)) {
		rc = err_set(err, PDS_EMISMATCH, "InvalidSwap",
		    "Commit was at a different CID");
		goto out;
	}
	for (i = 0; i < nops; i++)
		if ((rc = mst_proof_covering(st->tree,
		    (const uint8_t *)p.keys[i], p.klens[i], oldp)) != PDS_OK)
			goto broken;
	prev_data = st->data;
	if ((rc = apply_ops(st, ops, nops, &p, it->ops, &nsops, flags,
	    &broken, err)) != PDS_OK) {
		if (broken)
			goto broken;
		goto out;
	}
	if (nsops == 0 && nops > 0) {
		rc = PDS_OK;		/* deleting absent records only */
		goto out;
	}
	for (i = 0, n = 0; i < nsops; i++)
		n += (int)it->ops[i].nblobs;
	if ((it->blobcids = calloc(n > 0 ? (size_t)n : 1,
	    sizeof(*it->blobcids))) == NULL) {
		rc = PDS_ENOMEM;
		goto broken;
	}
	for (i = 0, n = 0; i < nsops; i++) {
		const struct repo_record *r = &p.recs[p.sidx[i]];
		size_t j;
		it->ops[i].blobs = &it->blobcids[n];
		for (j = 0; j < it->ops[i].nblobs; j++)
			it->blobcids[n++] = r->blobs[j].cid;
	}
	if ((rc = mst_root(st->tree, &root)) != PDS_OK)
		goto broken;
	snprintf(prev_rev, sizeof(prev_rev), "%s", st->rev);
	if ((rc = tid_next_after(rev, prev_rev)) != PDS_OK ||
	    (rc = commit_make(did, rev, &root, st->key, &cb, &commit)) !=
	    PDS_OK)
		goto broken;

	/* The slice: commit, new nodes, covering proofs, record blocks. */
	if ((rc = bs_mem_put(it->blocks, &commit, cb.p, cb.len)) != PDS_OK ||
	    (rc = bs_mem_put(it->store, &commit, cb.p, cb.len)) != PDS_OK)
		goto broken;
	if ((rc = bs_mem_merge(it->blocks, mst_writes(st->tree))) != PDS_OK ||
	    (rc = bs_mem_merge(it->store, mst_writes(st->tree))) != PDS_OK)
		goto broken;
	for (i = 0; i < nsops; i++) {
		size_t oi = p.sidx[i];
		if ((rc = mst_proof_covering(st->tree,
		    (const uint8_t *)p.keys[i], p.klens[i], it->blocks)) !=
		    PDS_OK)
			goto broken;
		if (it->ops[i].action == MST_DELETE)
			continue;
		if ((rc = bs_mem_put(it->blocks, &it->ops[i].cid,
		    p.recs[oi].cbor.p, p.recs[oi].cbor.len)) != PDS_OK ||
		    (rc = bs_mem_put(it->store, &it->ops[i].cid,
		    p.recs[oi].cbor.p, p.recs[oi].cbor.len)) != PDS_OK)
			goto broken;
	}

	/* Blocks the commit removes: old nodes, the old commit. */
	gc.tree = st->tree;
	gc.root = root;
	gc.slice = it->blocks;
	gc.old = oldp;
	gc.path = path;
	gc.cap = bs_mem_count(oldp) + 1;
	gc.n = 0;
	if ((gc.removed = calloc(gc.cap, sizeof(*gc.removed))) == NULL) {
		rc = PDS_ENOMEM;
		goto broken;
	}
	it->removed = gc.removed;
	if ((rc = bs_mem_foreach(oldp, gc_candidate, &gc)) != 0)
		goto broken;
	gc.removed[gc.n++] = st->head;

	/* The event and the item. */
	store_timestamp(it->now);
	memcpy(it->rev, rev, sizeof(it->rev));
	if ((rc = build_commit_event(&it->head, &it->tail, did, &commit, rev,
	    prev_rev, &prev_data, it->ops, nsops,
	    (const char (*)[NSID_MAX + 1 + RKEY_MAX + 1])p.keys, p.klens,
	    it->blocks, it->now)) != PDS_OK) {
		if (rc == PDS_ETOOBIG) {
			rc = err_set(err, PDS_EINVAL, "InvalidRequest",
			    "Commit is too big");
		}
		goto broken;
	}
	it->st = st;
	it->sc.did = st->did;
	it->sc.has_prev = true;
	it->sc.prev_commit = st->head;
	it->sc.commit = commit;
	it->sc.rev = it->rev;
	it->sc.now = it->now;
	it->sc.ops = it->ops;
	it->sc.nops = nsops;
	it->sc.blocks = it->store;
	it->sc.removed = gc.removed;
	it->sc.nremoved = gc.n;
	it->ev.type = "commit";
	it->ev.head = it->head.p;
	it->ev.head_len = it->head.len;
	it->ev.tail = it->tail.p;
	it->ev.tail_len = it->tail.len;
	/* Compressed here, so that the writer thread does not. */
	if ((rc = store_events_pack(it->head.p, it->head.len, it->tail.p,
	    it->tail.len, &it->packed)) != PDS_OK)
		goto broken;
	if (it->packed.len > 0) {
		it->ev.packed = it->packed.p;
		it->ev.packed_len = it->packed.len;
	}
	it->sc.events = &it->ev;
	it->sc.nevents = 1;
	it->cb = done;
	it->cb_arg = cb_arg;
	if ((rc = bs_mem_merge(st->pending, mst_writes(st->tree))) != PDS_OK)
		goto broken;
	mst_writes_clear(st->tree);
	if ((rc = enqueue(it)) != PDS_OK)
		goto broken;
	st->head = commit;
	st->data = root;
	memcpy(st->rev, rev, sizeof(st->rev));
	pthread_mutex_unlock(&st->lock);
	locked = false;
	*itp = it;
	it = NULL;
	rc = PDS_OK;
	goto done;

broken:
	/* The cached tree no longer matches the stored head. */
	state_drop(st);
	if (rc == PDS_OK)
		rc = PDS_EINTERNAL;
out:
	if (locked)
		pthread_mutex_unlock(&st->lock);
	item_free(it);
done:
	for (i = 0; i < nops && p.recs != NULL; i++)
		repo_record_clear(&p.recs[i]);
	free(p.recs);
	free(p.keys);
	free(p.klens);
	free(p.sidx);
	bs_mem_free(oldp);
	bs_mem_free(path);
	buf_free(&cb);
	return rc;
}

int
repo_write(const char *did, struct repo_write_op *ops, size_t nops,
    const struct cid *swap_commit, unsigned flags,
    struct repo_write_result *res, struct repo_err *err)
{
	struct witem	*it;
	int		 rc;

	memset(res, 0, sizeof(*res));
	if ((rc = write_prepare(did, ops, nops, swap_commit, flags, NULL,
	    NULL, &it, err)) != PDS_OK || it == NULL)
		return rc;
	(void)wait_done(it);
	rc = item_result(it, res, err);
	item_free(it);
	return rc;
}

int
repo_write_async(const char *did, struct repo_write_op *ops, size_t nops,
    const struct cid *swap_commit, unsigned flags,
    struct repo_write_result *res, struct repo_err *err,
    repo_write_done_fn cb, void *arg)
{
	struct witem	*it;
	int		 rc;

	memset(res, 0, sizeof(*res));
	if ((rc = write_prepare(did, ops, nops, swap_commit, flags, cb, arg,
	    &it, err)) != PDS_OK)
		return rc;
	return it != NULL ? REPO_QUEUED : PDS_OK;
}

/* ---- a new repo ----------------------------------------------------- */

struct only_block {
	struct bs_mem	*out;
	int		 n;
};

static int
take_block(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	struct only_block *ob = arg;

	ob->n++;
	return bs_mem_put(ob->out, c, d, len);
}

int
repo_writer_create_repo(const char *did, const struct pds_key *key,
    struct cid *commit_out, char rev_out[TID_LEN + 1])
{
	struct mst	*t = NULL;
	struct bs_mem	*blocks = NULL, *commit_only = NULL;
	struct store_commit sc;
	struct store_event ev[2];
	struct buf	 cb, h1, t1, h2, t2, car;
	struct only_block ob;
	struct cid	 root, commit;
	char		 rev[TID_LEN + 1], now[STORE_TS_LEN];
	int		 rc = 0;

	buf_init(&cb, 4096);
	buf_init(&h1, 4096);
	buf_init(&t1, 65536);
	buf_init(&h2, 4096);
	buf_init(&t2, 65536);
	buf_init(&car, 65536);
	if ((blocks = bs_mem_new()) == NULL ||
	    (commit_only = bs_mem_new()) == NULL ||
	    (rc = mst_new_empty(NULL, &t)) != PDS_OK ||
	    (rc = mst_root(t, &root)) != PDS_OK) {
		rc = rc != PDS_OK ? rc : PDS_ENOMEM;
		goto out;
	}
	tid_next(rev);
	if ((rc = commit_make(did, rev, &root, key, &cb, &commit)) != PDS_OK ||
	    (rc = bs_mem_put(blocks, &commit, cb.p, cb.len)) != PDS_OK ||
	    (rc = bs_mem_put(commit_only, &commit, cb.p, cb.len)) != PDS_OK)
		goto out;
	ob.out = blocks;
	ob.n = 0;
	if ((rc = bs_mem_foreach(mst_writes(t), take_block, &ob)) != 0)
		goto out;
	if (ob.n != 1) {
		rc = PDS_EINTERNAL;
		goto out;
	}
	store_timestamp(now);
	/* #commit: no ops, since null, no prevData. */
	if ((rc = build_commit_event(&h1, &t1, did, &commit, rev, NULL, NULL,
	    NULL, 0, NULL, NULL, blocks, now)) != PDS_OK)
		goto out;
	/* #sync: did, rev, [seq], time, blocks (the commit alone). */
	if ((rc = car_write_header(&car, &commit, 1)) != PDS_OK ||
	    (rc = car_write_block(&car, &commit, cb.p, cb.len)) != PDS_OK)
		goto out;
	rc |= cbor_put_map(&h2, 5);
	rc |= cbor_put_text(&h2, "did", 3);
	rc |= cbor_put_str(&h2, did);
	rc |= cbor_put_text(&h2, "rev", 3);
	rc |= cbor_put_str(&h2, rev);
	rc |= cbor_put_text(&t2, "time", 4);
	rc |= cbor_put_str(&t2, now);
	rc |= cbor_put_text(&t2, "blocks", 6);
	rc |= cbor_put_bytes(&t2, car.p, car.len);
	if (rc != 0) {
		rc = PDS_ENOMEM;
		goto out;
	}
	memset(ev, 0, sizeof(ev));
	ev[0].type = "commit";
	ev[0].head = h1.p;
	ev[0].head_len = h1.len;
	ev[0].tail = t1.p;
	ev[0].tail_len = t1.len;
	ev[1].type = "sync";
	ev[1].head = h2.p;
	ev[1].head_len = h2.len;
	ev[1].tail = t2.p;
	ev[1].tail_len = t2.len;
	memset(&sc, 0, sizeof(sc));
	sc.did = did;
	sc.has_prev = false;
	sc.commit = commit;
	sc.rev = rev;
	sc.now = now;
	sc.blocks = blocks;
	sc.events = ev;
	sc.nevents = 2;
	if ((rc = store_repo_apply(&sc)) != PDS_OK)
		goto out;
	if (commit_out != NULL)
		*commit_out = commit;
	if (rev_out != NULL)
		memcpy(rev_out, rev, TID_LEN + 1);
out:
	mst_free(t);
	bs_mem_free(blocks);
	bs_mem_free(commit_only);
	buf_free(&cb);
	buf_free(&h1);
	buf_free(&t1);
	buf_free(&h2);
	buf_free(&t2);
	buf_free(&car);
	return rc;
}

void
repo_writer_forget(const char *did)
{
	struct rstate	*st;
	bool		 stale;

	if ((st = state_get(did)) == NULL)
		return;
	pthread_mutex_lock(&st->lock);
	wait_idle(st, &stale);
	state_drop(st);
	bs_mem_clear(st->pending);
	key_free(st->key);
	st->key = NULL;
	pthread_mutex_unlock(&st->lock);
}
