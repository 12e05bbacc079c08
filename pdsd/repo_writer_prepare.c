/*
 * repo_writer_prepare: steps 1 and 2 of the repo writer
 * (repo_writer.h), on the request's thread.  The records are checked
 * and encoded without a lock; then, under the repo's lock, the ops are
 * applied to the cached tree, the commit is signed, its #commit parts
 * (events.c) and the blocks it adds and removes are gathered into a
 * queue item, and the repo's head moves on.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockstore.h"
#include "buf.h"
#include "clock.h"
#include "commit.h"
#include "err.h"
#include "events.h"
#include "mst.h"
#include "repo_validate.h"
#include "repo_writer.h"
#include "repo_writer_int.h"
#include "store.h"
#include "store_events.h"
#include "store_repo.h"

/* One commit in preparation: what its steps share. */
struct prep {
	const char	*did;
	struct repo_write_op *ops;
	size_t		 nops;
	unsigned	 flags;
	struct repo_record *recs;	/* per op (value ops) */
	char		(*keys)[NSID_MAX + 1 + RKEY_MAX + 1];
	size_t		*klens;
	size_t		*sidx;		/* effective op -> op index */
	size_t		 nsops;		/* effective ops, in it->ops */
	struct rstate	*st;
	bool		 locked;	/* st->lock */
	bool		 broken;	/* st's tree is not its head's */
	struct witem	*it;
	struct bs_mem	*oldp;		/* the old covering proofs */
	struct bs_mem	*path;		/* gc_candidate()'s scratch */
	struct buf	 cb;		/* the signed commit's block */
	struct cid	 root, commit, prev_data;
	char		 prev_rev[TID_LEN + 1], rev[TID_LEN + 1];
	struct cid	*removed;	/* it->removed */
	size_t		 nremoved;
};

int
repo_error_settle(struct pds_error *err, int rc)
{
	if (rc == PDS_OK || err->code == rc)
		return rc;
	switch (rc) {
	case PDS_EINVAL:
	case PDS_ENOTFOUND:
	case PDS_EEXIST:
	case PDS_EMISMATCH:
	case PDS_ETOOBIG:
	case PDS_EUNSUPP:
		(void)pds_error_set(err, rc, NULL, NULL);
		break;
	default:
		(void)pds_error_set(err, PDS_EINTERNAL, NULL, "%s",
		    pds_strerror(rc));
		break;
	}
	return rc;
}

static int
check_blobs(const char *did, const struct repo_record *r,
    struct pds_error *err)
{
	struct store_blob b;
	char		 cs[CID_STR_MAX];
	size_t		 i;
	int		 rc;

	for (i = 0; i < r->nblobs; i++) {
		cid_format(&r->blobs[i].cid, cs, sizeof(cs));
		rc = store_blob_get(did, &r->blobs[i].cid, &b);
		if (rc == PDS_ENOTFOUND)
			return pds_error_set(err, PDS_ENOTFOUND, "BlobNotFound",
			    "Could not find blob: %s", cs);
		if (rc != PDS_OK)
			return rc;
		if (strcmp(b.mime_type, r->blobs[i].mime) != 0)
			return pds_error_set(err, PDS_EINVAL, "InvalidMimeType",
			    "Referenced Mimetype does not match stored blob. "
			    "Expected: %.64s, Got: %.64s", b.mime_type,
			    r->blobs[i].mime);
		if (b.size != r->blobs[i].size)
			return pds_error_set(err, PDS_EINVAL, "InvalidSize",
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

/*
 * A node to store unless the old tree had it: one re-encoded to the same
 * bytes (a record put back unchanged) is stored already, in
 * repo_blocks or repo_blocks_recent, and a second copy in the other
 * would outlive the node (store_repo_apply() deletes one).
 */
static int
put_new(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	struct prep	*p = arg;

	if (bs_mem_has(p->oldp, c))
		return 0;
	return bs_mem_put(p->it->store, c, d, len);
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

static int
account_check(const char *did, struct pds_error *err)
{
	struct store_repo_acct a;
	int		 rc;

	if ((rc = store_repo_acct_find(did, &a)) == PDS_ENOTFOUND)
		return pds_error_set(err, PDS_ENOTFOUND, "RepoNotFound",
		    "Could not find repo: %s", did);
	if (rc != PDS_OK)
		return rc;
	if (a.status == ACCT_TAKENDOWN)
		return pds_error_set(err, PDS_ETAKENDOWN, NULL,
		    "Account has been taken down");
	if (a.status != ACCT_ACTIVE)
		return pds_error_set(err, PDS_EDEACTIVATED, NULL,
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
    unsigned flags, bool *broken, struct pds_error *err)
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
			return pds_error_set(err, PDS_EMISMATCH, "InvalidSwap",
			    "Record was at %s", found ? "another CID" :
			    "no CID (absent)");
		if (ops[i].action == REPO_CREATE && found)
			return pds_error_set(err, PDS_EEXIST, "InvalidRequest",
			    "Record already exists: %s", p->keys[i]);
		if (ops[i].action == REPO_UPDATE && !found)
			return pds_error_set(err, PDS_ENOTFOUND,
			    "InvalidRequest", "Could not find record: %s",
			    p->keys[i]);
		if (ops[i].action == REPO_DELETE && !found &&
		    !(flags & REPO_F_DELETE_ABSENT_OK))
			return pds_error_set(err, PDS_ENOTFOUND,
			    "InvalidRequest", "Could not find record: %s",
			    p->keys[i]);
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
				return pds_error_set(err, rc, "InvalidRequest",
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

static void
prep_init(struct prep *p, const char *did, struct repo_write_op *ops,
    size_t nops, unsigned flags)
{
	memset(p, 0, sizeof(*p));
	p->did = did;
	p->ops = ops;
	p->nops = nops;
	p->flags = flags;
	buf_init(&p->cb, 4096);
}

static void
prep_clear(struct prep *p)
{
	size_t	 i;

	for (i = 0; i < p->nops && p->recs != NULL; i++)
		repo_record_clear(&p->recs[i]);
	free(p->recs);
	free(p->keys);
	free(p->klens);
	free(p->sidx);
	witem_free(p->it);
	bs_mem_free(p->oldp);
	bs_mem_free(p->path);
	buf_clear(&p->cb);
}

/* Step 1, outside any lock: each op's key, record and blobs. */
static int
prep_records(struct prep *p, struct pds_error *err)
{
	struct repo_write_op *op;
	size_t		 i, n = p->nops ? p->nops : 1;
	int		 rc, len;

	p->recs = calloc(n, sizeof(*p->recs));
	p->keys = calloc(n, sizeof(*p->keys));
	p->klens = calloc(n, sizeof(*p->klens));
	p->sidx = calloc(n, sizeof(*p->sidx));
	if (p->recs == NULL || p->keys == NULL || p->klens == NULL ||
	    p->sidx == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < p->nops; i++) {
		op = &p->ops[i];
		if (op->action == REPO_CREATE && op->rkey[0] == '\0')
			tid_next(op->rkey);
		if (!syntax_is_nsid(op->collection, strlen(op->collection)))
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "Invalid collection: %.64s", op->collection);
		if (!syntax_is_rkey(op->rkey, strlen(op->rkey)))
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "Invalid record key: %.64s", op->rkey);
		len = snprintf(p->keys[i], sizeof(p->keys[i]), "%s/%s",
		    op->collection, op->rkey);
		p->klens[i] = (size_t)len;
		if (op->action == REPO_DELETE)
			continue;
		if ((rc = repo_record_prepare(op->collection, op->rkey,
		    op->value, op->validate, &p->recs[i], err)) != PDS_OK ||
		    (rc = check_blobs(p->did, &p->recs[i], err)) != PDS_OK)
			return rc;
	}
	if ((p->st = rstate_get(p->did)) == NULL ||
	    (p->it = witem_new()) == NULL ||
	    (p->oldp = bs_mem_new()) == NULL ||
	    (p->path = bs_mem_new()) == NULL ||
	    (p->it->ops = calloc(n, sizeof(*p->it->ops))) == NULL)
		return PDS_ENOMEM;
	return PDS_OK;
}

/*
 * Step 2a (lock held): the ops applied to the repo's tree, the old
 * covering proofs kept in oldp.  Sets p->broken when the tree was
 * changed or is unknown.
 */
static int
prep_tree(struct prep *p, const struct cid *swap_commit,
    struct pds_error *err)
{
	struct rstate	*st = p->st;
	size_t		 i;
	int		 rc;

	st->used_ms = (uint64_t)clock_mono_ms();
	if ((rc = rstate_ready(st)) != PDS_OK) {
		p->broken = true;
		if (rc == PDS_ENOTFOUND)
			rc = pds_error_set(err, PDS_ENOTFOUND, "RepoNotFound",
			    "Could not find repo: %s", p->did);
		return rc;
	}
	if (swap_commit != NULL && !cid_equal(swap_commit, &st->head))
		return pds_error_set(err, PDS_EMISMATCH, "InvalidSwap",
		    "Commit was at a different CID");
	for (i = 0; i < p->nops; i++)
		if ((rc = mst_proof_covering(st->tree,
		    (const uint8_t *)p->keys[i], p->klens[i], p->oldp)) !=
		    PDS_OK) {
			p->broken = true;
			return rc;
		}
	p->prev_data = st->data;
	return apply_ops(st, p->ops, p->nops, p, p->it->ops, &p->nsops,
	    p->flags, &p->broken, err);
}

/*
 * Step 2b: the blob refs, the signed commit and the #commit slice
 * (commit, new nodes, covering proofs, record blocks).
 */
static int
prep_commit(struct prep *p)
{
	struct rstate	*st = p->st;
	struct witem	*it = p->it;
	const struct repo_record *r;
	size_t		 i, j, n;
	int		 rc;

	for (i = 0, n = 0; i < p->nsops; i++)
		n += it->ops[i].nblobs;
	if ((it->blobcids = calloc(n > 0 ? n : 1,
	    sizeof(*it->blobcids))) == NULL)
		return PDS_ENOMEM;
	for (i = 0, n = 0; i < p->nsops; i++) {
		r = &p->recs[p->sidx[i]];
		it->ops[i].blobs = &it->blobcids[n];
		for (j = 0; j < it->ops[i].nblobs; j++)
			it->blobcids[n++] = r->blobs[j].cid;
	}
	if ((rc = mst_root(st->tree, &p->root)) != PDS_OK)
		return rc;
	snprintf(p->prev_rev, sizeof(p->prev_rev), "%s", st->rev);
	if ((rc = tid_next_after(p->rev, p->prev_rev)) != PDS_OK ||
	    (rc = commit_make(p->did, p->rev, &p->root, st->key, &p->cb,
	    &p->commit)) != PDS_OK)
		return rc;

	if ((rc = bs_mem_put(it->blocks, &p->commit, p->cb.p,
	    p->cb.len)) != PDS_OK ||
	    (rc = bs_mem_put(it->store, &p->commit, p->cb.p,
	    p->cb.len)) != PDS_OK ||
	    (rc = bs_mem_merge(it->blocks, mst_writes(st->tree))) != PDS_OK ||
	    (rc = bs_mem_foreach(mst_writes(st->tree), put_new, p)) != 0)
		return rc;
	for (i = 0; i < p->nsops; i++) {
		r = &p->recs[p->sidx[i]];
		if ((rc = mst_proof_covering(st->tree,
		    (const uint8_t *)p->keys[i], p->klens[i], it->blocks)) !=
		    PDS_OK)
			return rc;
		if (it->ops[i].action == MST_DELETE)
			continue;
		if ((rc = bs_mem_put(it->blocks, &it->ops[i].cid, r->cbor.p,
		    r->cbor.len)) != PDS_OK ||
		    (rc = bs_mem_put(it->store, &it->ops[i].cid, r->cbor.p,
		    r->cbor.len)) != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

/* Step 2c: the blocks the commit removes: old nodes, the old commit. */
static int
prep_removed(struct prep *p)
{
	struct gc_ctx	 gc;
	int		 rc;

	gc.tree = p->st->tree;
	gc.root = p->root;
	gc.slice = p->it->blocks;
	gc.old = p->oldp;
	gc.path = p->path;
	gc.cap = bs_mem_count(p->oldp) + 1;
	gc.n = 0;
	if ((gc.removed = calloc(gc.cap, sizeof(*gc.removed))) == NULL)
		return PDS_ENOMEM;
	p->it->removed = gc.removed;
	if ((rc = bs_mem_foreach(p->oldp, gc_candidate, &gc)) != 0)
		return rc;
	gc.removed[gc.n++] = p->st->head;
	p->removed = gc.removed;
	p->nremoved = gc.n;
	return PDS_OK;
}

/*
 * Step 2d: the #commit parts (packed here, so that the writer thread
 * does not compress) and the item's store_commit.
 */
static int
prep_item(struct prep *p, repo_write_done_fn done, void *cb_arg,
    struct pds_error *err)
{
	struct rstate	*st = p->st;
	struct witem	*it = p->it;
	int		 rc;

	store_timestamp(it->now);
	memcpy(it->rev, p->rev, sizeof(it->rev));
	if ((rc = events_commit_parts(&it->head, &it->tail, p->did,
	    &p->commit, p->rev, p->prev_rev, &p->prev_data, it->ops,
	    p->nsops, it->blocks, it->now)) != PDS_OK) {
		if (rc == PDS_ETOOBIG)
			rc = pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "Commit is too big");
		return rc;
	}
	it->st = st;
	it->sc.did = st->did;
	it->sc.has_prev = true;
	it->sc.prev_commit = st->head;
	it->sc.commit = p->commit;
	it->sc.rev = it->rev;
	it->sc.now = it->now;
	it->sc.ops = it->ops;
	it->sc.nops = p->nsops;
	it->sc.blocks = it->store;
	it->sc.removed = p->removed;
	it->sc.nremoved = p->nremoved;
	it->ev.type = "commit";
	it->ev.head = it->head.p;
	it->ev.head_len = it->head.len;
	it->ev.tail = it->tail.p;
	it->ev.tail_len = it->tail.len;
	if ((rc = store_events_pack(it->head.p, it->head.len, it->tail.p,
	    it->tail.len, &it->packed)) != PDS_OK)
		return rc;
	if (it->packed.len > 0) {
		it->ev.packed = it->packed.p;
		it->ev.packed_len = it->packed.len;
	}
	it->cb = done;
	it->cb_arg = cb_arg;
	return PDS_OK;
}

int
repo_writer_prepare(const char *did, struct repo_write_op *ops,
    size_t nops, const struct cid *swap_commit, unsigned flags,
    repo_write_done_fn done, void *cb_arg, struct witem **itp,
    struct pds_error *err)
{
	struct prep	 p;
	struct rstate	*st;
	int		 rc;

	*itp = NULL;
	pds_error_clear(err);
	if (nops > REPO_WRITES_MAX)
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Too many writes. Max: %d", REPO_WRITES_MAX);
	if ((rc = account_check(did, err)) != PDS_OK)
		return repo_error_settle(err, rc);
	prep_init(&p, did, ops, nops, flags);
	if ((rc = prep_records(&p, err)) != PDS_OK)
		goto out;

	st = p.st;
	rw_lock(&st->lock, RW_LOCK_REPO);
	p.locked = true;
	if ((rc = prep_tree(&p, swap_commit, err)) != PDS_OK)
		goto out;
	if (p.nsops == 0 && nops > 0)
		goto out;		/* deleting absent records only */
	/* From here on, a failure leaves the tree ahead of the head. */
	p.broken = true;
	if ((rc = prep_commit(&p)) != PDS_OK ||
	    (rc = prep_removed(&p)) != PDS_OK ||
	    (rc = prep_item(&p, done, cb_arg, err)) != PDS_OK ||
	    (rc = bs_mem_merge(st->pending, mst_writes(st->tree))) != PDS_OK)
		goto out;
	mst_writes_clear(st->tree);
	if ((rc = wq_enqueue(p.it)) != PDS_OK)
		goto out;
	p.broken = false;
	st->head = p.commit;
	st->data = p.root;
	memcpy(st->rev, p.rev, sizeof(st->rev));
	*itp = p.it;
	p.it = NULL;
out:
	if (p.broken) {
		/* The cached tree no longer matches the stored head. */
		rstate_drop(p.st);
		if (rc == PDS_OK)
			rc = PDS_EINTERNAL;
	}
	if (p.locked) {
		rstate_charge(p.st);
		rw_unlock(&p.st->lock, RW_LOCK_REPO);
		rstate_trim();
	}
	prep_clear(&p);
	return repo_error_settle(err, rc);
}
