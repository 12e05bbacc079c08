/*
 * repo_writer: the commit pipeline.  See repo_writer.h; how it is split
 * into files is in repo_writer_int.h.  This file has the public calls,
 * the module with its jobs, and the empty repo of a new account.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockstore.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "events.h"
#include "jobs.h"
#include "keys.h"
#include "module.h"
#include "repo_init.h"
#include "repo_writer.h"
#include "repo_writer_int.h"
#include "store.h"
#include "store_repo.h"
#include "store_wal.h"

#define IDLE_SWEEP_MS		60000	/* the sweep job's period */
#define IDLE_FORGET_MS		300000	/* a repo idle this long is dropped */
#define CHECKPOINT_MS		1000	/* WAL checkpoint job */


static bool	jobs_added;

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
	if (cfg != NULL)
		store_wal_set_max(cfg->wal_max_mb << 20);
	repo_writer_set_budget(cfg != NULL ?
	    (size_t)cfg->repo_cache_mb << 20 : REPO_STATE_BUDGET_DEFAULT);
	wq_set_recent(cfg != NULL ? cfg->repo_recent_blocks :
	    RECENT_KEEP_DEFAULT);
	wq_stats_init();
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

int
repo_write(const char *did, struct repo_write_op *ops, size_t nops,
    const struct cid *swap_commit, unsigned flags,
    struct repo_write_result *res, struct pds_error *err)
{
	struct witem	*it;
	int		 rc;

	memset(res, 0, sizeof(*res));
	if ((rc = repo_writer_prepare(did, ops, nops, swap_commit, flags, NULL,
	    NULL, &it, err)) != PDS_OK || it == NULL)
		return rc;
	(void)wq_wait_done(it);
	rc = witem_result(it, res, err);
	witem_free(it);
	return rc;
}

int
repo_write_async(const char *did, struct repo_write_op *ops, size_t nops,
    const struct cid *swap_commit, unsigned flags,
    struct repo_write_result *res, struct pds_error *err,
    repo_write_done_fn cb, void *arg)
{
	struct witem	*it;
	int		 rc;

	memset(res, 0, sizeof(*res));
	if ((rc = repo_writer_prepare(did, ops, nops, swap_commit, flags, cb,
	    arg, &it, err)) != PDS_OK)
		return rc;
	return it != NULL ? REPO_QUEUED : PDS_OK;
}

/* ---- a new repo ----------------------------------------------------- */

int
repo_writer_create_repo(const char *did, const struct pds_key *key,
    struct cid *commit_out, char rev_out[TID_LEN + 1])
{
	struct repo_init ri;
	struct bs_mem	*blocks = NULL;
	struct store_commit sc;
	struct buf	 h1, t1, h2, t2;
	char		 now[STORE_TS_LEN];
	int		 rc;

	buf_init(&h1, 4096);
	buf_init(&t1, 65536);
	buf_init(&h2, 4096);
	buf_init(&t2, 65536);
	/* The signed commit over the empty MST node: the repo's two blocks. */
	if ((rc = repo_init_build(&ri, did, key)) != PDS_OK)
		goto out;
	if ((blocks = bs_mem_new()) == NULL) {
		rc = PDS_ENOMEM;
		goto out;
	}
	if ((rc = bs_mem_put(blocks, &ri.commit_cid, ri.commit_block,
	    ri.commit_len)) != PDS_OK ||
	    (rc = bs_mem_put(blocks, &ri.data_cid, ri.data_block,
	    ri.data_len)) != PDS_OK)
		goto out;
	store_timestamp(now);
	/* #commit: no ops, since null, no prevData; #sync: the commit. */
	if ((rc = events_commit_parts(&h1, &t1, did, &ri.commit_cid, ri.rev,
	    NULL, NULL, NULL, 0, blocks, now)) != PDS_OK ||
	    (rc = events_sync_parts(&h2, &t2, did, ri.rev, &ri.commit_cid,
	    ri.commit_block, ri.commit_len, now)) != PDS_OK)
		goto out;
	memset(&sc, 0, sizeof(sc));
	sc.did = did;
	sc.has_prev = false;
	sc.commit = ri.commit_cid;
	sc.rev = ri.rev;
	sc.now = now;
	sc.blocks = blocks;
	if ((rc = store_repo_apply(&sc)) != PDS_OK)
		goto out;
	if ((rc = events_append_at_tx("commit", did, h1.p, h1.len, t1.p,
	    t1.len, now, NULL)) != PDS_OK ||
	    (rc = events_append_at_tx("sync", did, h2.p, h2.len, t2.p,
	    t2.len, now, NULL)) != PDS_OK)
		goto out;
	if (commit_out != NULL)
		*commit_out = ri.commit_cid;
	if (rev_out != NULL)
		memcpy(rev_out, ri.rev, TID_LEN + 1);
out:
	repo_init_clear(&ri);
	bs_mem_free(blocks);
	buf_clear(&h1);
	buf_clear(&t1);
	buf_clear(&h2);
	buf_clear(&t2);
	return rc;
}

void
repo_writer_forget(const char *did)
{
	struct rstate	*st;
	bool		 stale;

	if ((st = rstate_get(did)) == NULL)
		return;
	rw_lock(&st->lock, RW_LOCK_REPO);
	wq_wait_idle(st, &stale);
	rstate_drop(st);
	bs_mem_clear(st->pending);
	key_free(st->key);
	st->key = NULL;
	rstate_charge(st);
	rw_unlock(&st->lock, RW_LOCK_REPO);
}
