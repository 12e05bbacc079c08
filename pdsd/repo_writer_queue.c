/*
 * repo_writer_queue: steps 3 and 4 of the repo writer (repo_writer.h):
 * the queue of prepared commits, the writer thread that writes them in
 * groups, one transaction each, and the syncer thread that makes the
 * committed groups durable and then answers their requests and wakes
 * the firehose.
 *
 * The firehose reads no further than repo_writer_durable_seq(): below
 * the lowest seq of the group in COMMIT and of every group committed
 * but not yet synced, so it never sends an event that a power failure
 * could take back.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blobs.h"
#include "blockstore.h"
#include "buf.h"
#include "clock.h"
#include "err.h"
#include "events.h"
#include "log.h"
#include "repo_writer.h"
#include "repo_writer_int.h"
#include "stats.h"
#include "store.h"
#include "store_events.h"
#include "store_repo.h"
#include "store_wal.h"

#define GROUP_MAX		1000	/* commits per transaction */
/* Nothing to write this long: the writer gives back its page cache. */
#define WRITER_IDLE_MS		200

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

/* pdsctl stats: commits per transaction is commits / transactions. */
static struct stats_counter *c_txns, *c_commits, *c_failed, *c_syncs;
static struct stats_counter *c_cache, *c_settled;
static int64_t	 recent_keep = RECENT_KEEP_DEFAULT;

void
wq_set_recent(int64_t keep)
{
	if (keep > 0)
		recent_keep = keep;
}

void
wq_stats_init(void)
{
	c_txns = stats_counter("repo.transactions", STATS_RATE);
	c_commits = stats_counter("repo.commits", STATS_RATE);
	c_failed = stats_counter("repo.failed", STATS_RATE);
	c_syncs = stats_counter("repo.syncs", STATS_RATE);
	c_cache = stats_counter("repo.writer_cache_bytes", STATS_GAUGE);
	c_settled = stats_counter("repo.blocks_settled", STATS_RATE);
}

struct witem *
witem_new(void)
{
	struct witem	*it;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	buf_init(&it->head, (size_t)1 << 20);
	buf_init(&it->tail, EVENTS_COMMIT_BLOCKS_MAX + (size_t)64 * 1024);
	buf_init(&it->packed, STORE_EVENT_BODY_MAX);
	buf_init(&it->gone, (size_t)1 << 20);
	pthread_cond_init(&it->cv, NULL);
	if ((it->blocks = bs_mem_new()) == NULL ||
	    (it->store = bs_mem_new()) == NULL) {
		witem_free(it);
		return NULL;
	}
	return it;
}

void
witem_free(struct witem *it)
{
	if (it == NULL)
		return;
	free(it->ops);
	bs_mem_free(it->blocks);
	bs_mem_free(it->store);
	free(it->removed);
	free(it->blobcids);
	buf_clear(&it->head);
	buf_clear(&it->tail);
	buf_clear(&it->packed);
	buf_clear(&it->gone);
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

int
witem_result(const struct witem *it, struct repo_write_result *res,
    struct pds_error *err)
{
	memset(res, 0, sizeof(*res));
	pds_error_clear(err);
	if (it->rc == PDS_OK) {
		res->committed = true;
		res->commit = it->sc.commit;
		memcpy(res->rev, it->rev, sizeof(res->rev));
		res->seq = it->seq;
		return PDS_OK;
	}
	/* store_repo_apply: a blob the records refer to has no row */
	if (it->rc == PDS_ENOTFOUND)
		return pds_error_set(err, it->rc, "BlobNotFound", "%s",
		    it->sc.why != NULL ? it->sc.why : "Could not find blob");
	if (it->rc == PDS_EMISMATCH)
		return pds_error_set(err, PDS_EIO, NULL, "%s",
		    it->sc.why != NULL ? it->sc.why : "concurrent failure");
	return repo_error_settle(err, it->rc);
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
		if (it->seq > last_seq)
			last_seq = it->seq;
		if (it->gone.len > 0)
			blobs_forget_files(it->sc.did, (const char *)it->gone.p,
			    it->gone.len);
	}
	if (last_seq > 0)
		events_notify();
	stats_add(c_txns, 1);
	stats_add(c_commits, ok);
	stats_add(c_failed, n - ok);

	rw_lock(&wq.mu, RW_LOCK_QUEUE);
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
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
	while (async != NULL) {
		struct repo_write_result res;
		struct pds_error err;
		it = async;
		async = it->anext;
		rc = witem_result(it, &res, &err);
		it->cb(it->cb_arg, rc, &res, &err);
		witem_free(it);
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
		if ((it->rc = store_repo_apply(&it->sc)) == PDS_OK)
			it->rc = events_insert_tx(it->sc.did, &it->ev, it->now,
			    &it->seq);
		if (it->rc != PDS_OK)
			buf_reset(&it->gone);
		store_repo_savepoint_end(it->rc != PDS_OK);
		if (it->rc == PDS_OK) {
			ok++;
			if (it->seq > 0 && (gmin == 0 || it->seq < gmin))
				gmin = it->seq;
		}
	}
	if (rc != PDS_OK || ok == 0) {
		if (rc == PDS_OK)
			(void)store_commit();	/* nothing in it */
		group_finish(batch, n);
		return;
	}
	/* Until the sync, the firehose stops short of gmin. */
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	wq.committing = gmin;
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
	if ((rc = store_commit()) != PDS_OK) {
		log_warnx("repo writer: commit of %zu repo commits failed: %s",
		    n, pds_strerror(rc));
		for (it = batch; it != NULL; it = it->next)
			if (it->rc == PDS_OK) {
				it->rc = rc;
				it->sc.why = NULL;
			}
		rw_lock(&wq.mu, RW_LOCK_QUEUE);
		wq.committing = 0;
		rw_unlock(&wq.mu, RW_LOCK_QUEUE);
		group_finish(batch, n);
		return;
	}
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
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
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
}

/*
 * Either thread's wait for work: take wq.mu and wait until *head has
 * some or *stop is set.  false, with wq.mu released, when stopping has
 * left nothing to do.
 */
static bool
wq_await(struct witem *const *head, const bool *stop, pthread_cond_t *cv)
{
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	while (*head == NULL && !*stop)
		pthread_cond_wait(cv, &wq.mu);
	if (*head != NULL)
		return true;
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
	return false;
}

/*
 * The writer, between groups: true once the queue has stayed empty for
 * WRITER_IDLE_MS (an enqueue wakes it at once, so a write never waits
 * for this).
 */
static bool
wq_quiet(void)
{
	struct timespec	 until;
	bool		 quiet;

	clock_deadline(&until, WRITER_IDLE_MS);
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	while (wq.first == NULL && !wq.stopping &&
	    pthread_cond_timedwait(&wq.cv, &wq.mu, &until) == 0)
		;
	quiet = wq.first == NULL && !wq.stopping;
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
	return quiet;
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
	while (wq_await(&wq.sfirst, &wq.sstopping, &wq.scv)) {
		upto = wq.slast;
		rw_unlock(&wq.mu, RW_LOCK_QUEUE);

		if ((rc = store_wal_sync()) != PDS_OK)
			fatalx("repo writer: cannot make commits durable: %s",
			    pds_strerror(rc));
		stats_add(c_syncs, 1);

		rw_lock(&wq.mu, RW_LOCK_QUEUE);
		g = wq.sfirst;
		wq.sfirst = upto->gnext;
		if (wq.sfirst == NULL)
			wq.slast = NULL;
		upto->gnext = NULL;
		rw_unlock(&wq.mu, RW_LOCK_QUEUE);
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

	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	v = wq.sfirst != NULL ? wq.sfirst->gmin : wq.committing;
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
	return v > 0 ? v - 1 : INT64_MAX;
}

static void *
writer_main(void *arg)
{
	struct witem	*batch, *it;
	bool		 settle_failing = false;
	int		 moved, rc;
	size_t		 n;

	(void)arg;
	(void)pthread_setname_np(pthread_self(), "repo-writer");
	if (store_wal_writer_init() != PDS_OK)
		log_warnx("repo writer: commits wait for the disk one by one");
	for (;;) {
		/* The log past its bound: checkpoint (store_wal.c). */
		(void)store_wal_bound();
		if (wq_quiet()) {
			store_wal_idle();
			stats_set(c_cache, store_wal_cache_bytes());
		}
		if (!wq_await(&wq.first, &wq.stopping, &wq.cv))
			break;
		batch = wq.first;
		for (it = batch, n = 1; it->next != NULL && n < GROUP_MAX;
		    it = it->next, n++)
			;
		wq.first = it->next;
		if (wq.first == NULL)
			wq.last = NULL;
		it->next = NULL;
		rw_unlock(&wq.mu, RW_LOCK_QUEUE);
		group_write(batch);
		if ((rc = store_repo_settle(recent_keep, recent_keep / 16,
		    &moved)) != PDS_OK) {
			/* Tried again after the next group. */
			if (!settle_failing)
				log_warnx("repo writer: cannot move blocks "
				    "to repo_blocks: %s", pds_strerror(rc));
			settle_failing = true;
		} else {
			settle_failing = false;
			if (moved > 0)
				stats_add(c_settled, (uint64_t)moved);
		}
		stats_set(c_cache, store_wal_cache_bytes());
	}
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	wq.sstopping = true;
	pthread_cond_signal(&wq.scv);
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
	pthread_join(wq.sthread, NULL);
	store_wal_close();
	store_thread_close();
	return NULL;
}

int
wq_enqueue(struct witem *it)
{
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	if (!wq.running || wq.stopping) {
		rw_unlock(&wq.mu, RW_LOCK_QUEUE);
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
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
	return PDS_OK;
}

int
wq_wait_done(struct witem *it)
{
	int	 rc;

	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	while (!it->done)
		pthread_cond_wait(&it->cv, &wq.mu);
	rc = it->rc;
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
	return rc;
}

void
wq_wait_idle(struct rstate *st, bool *stale)
{
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	while (st->inflight > 0)
		pthread_cond_wait(&wq.idle, &wq.mu);
	*stale = st->stale;
	st->stale = false;
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
}

void
wq_repo_status(struct rstate *st, bool *idle, bool *stale)
{
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	*idle = st->inflight == 0;
	if (stale != NULL)
		*stale = st->stale;
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
}

int
repo_writer_start(void)
{
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	if (wq.running) {
		rw_unlock(&wq.mu, RW_LOCK_QUEUE);
		return PDS_OK;
	}
	wq.stopping = false;
	wq.sstopping = false;
	if (pthread_create(&wq.sthread, NULL, syncer_main, NULL) != 0) {
		rw_unlock(&wq.mu, RW_LOCK_QUEUE);
		log_warn("repo writer: pthread_create");
		return PDS_EIO;
	}
	if (pthread_create(&wq.thread, NULL, writer_main, NULL) != 0) {
		wq.sstopping = true;
		pthread_cond_signal(&wq.scv);
		rw_unlock(&wq.mu, RW_LOCK_QUEUE);
		pthread_join(wq.sthread, NULL);
		log_warn("repo writer: pthread_create");
		return PDS_EIO;
	}
	wq.running = true;
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
	return PDS_OK;
}

void
repo_writer_stop(void)
{
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	if (!wq.running) {
		rw_unlock(&wq.mu, RW_LOCK_QUEUE);
		return;
	}
	wq.stopping = true;
	pthread_cond_broadcast(&wq.cv);
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
	pthread_join(wq.thread, NULL);
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	wq.running = false;
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
}

void
repo_writer_stats(struct repo_writer_stats *out)
{
	rw_lock(&wq.mu, RW_LOCK_QUEUE);
	*out = wq.stats;
	rw_unlock(&wq.mu, RW_LOCK_QUEUE);
}

