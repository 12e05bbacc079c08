/*
 * repo: CAR export and import of whole repositories, record proofs and
 * the firehose commit slice.
 */
#include <stdlib.h>
#include <string.h>

#include "blockstore.h"
#include "car.h"
#include "cbor.h"
#include "commit.h"
#include "err.h"
#include "keys.h"
#include "mst.h"
#include "repo.h"

static int
load_commit(const struct blockstore *store, const struct cid *cid,
    struct commit *c, const uint8_t **data, size_t *len, const char **why)
{
	int	 rc;

	if ((rc = bs_get(store, cid, data, len)) != PDS_OK)
		return pds_fail(why, rc == PDS_ENOTFOUND ? PDS_ETRUNC : rc,
		    rc == PDS_ENOTFOUND ? "commit block missing" :
		    "block store failure");
	return commit_decode(c, *data, *len, why);
}

/* ---- export --------------------------------------------------------- */

struct exp {
	const struct blockstore	*store;
	void		(*prefetch)(void *, const struct cid *, int);
	car_write_fn	 write;
	void		*arg;
	const char	**why;
};

static int
exp_node(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	struct exp	*x = arg;

	return car_emit_block(x->write, x->arg, c, d, len);
}

static int
exp_leaf(void *arg, const uint8_t *key, size_t klen, const struct cid *val)
{
	struct exp	*x = arg;
	const uint8_t	*d;
	size_t		 len;
	int		 rc;

	if ((rc = bs_get_leaf(x->store, key, klen, val, &d, &len)) != PDS_OK)
		return pds_fail(x->why, rc == PDS_ENOTFOUND ? PDS_ETRUNC : rc,
		    rc == PDS_ENOTFOUND ? "missing record block" :
		    "block store failure");
	return car_emit_block(x->write, x->arg, val, d, len);
}

static void
exp_prefetch(void *arg, const struct cid *c, int stage)
{
	struct exp	*x = arg;

	x->prefetch(x->store->ctx, c, stage);
}

int
repo_export(const struct blockstore *store, const struct cid *commit,
    car_write_fn write, void *arg, const char **why)
{
	return repo_export_hinted(store, NULL, commit, write, arg, why);
}

int
repo_export_hinted(const struct blockstore *store,
    void (*prefetch)(void *ctx, const struct cid *, int stage),
    const struct cid *commit, car_write_fn write, void *arg,
    const char **why)
{
	struct commit		 c;
	struct mst_walk_cbs	 cbs;
	struct exp		 x = { store, prefetch, write, arg, why };
	const uint8_t		*d;
	size_t			 len;
	int			 rc;

	if ((rc = load_commit(store, commit, &c, &d, &len, why)) != PDS_OK)
		return rc;
	if ((rc = car_emit_header(write, arg, commit, 1)) != PDS_OK ||
	    (rc = car_emit_block(write, arg, commit, d, len)) != PDS_OK)
		return pds_fail(why, rc, "CAR write failed");
	memset(&cbs, 0, sizeof(cbs));
	cbs.node = exp_node;
	cbs.leaf = exp_leaf;
	cbs.arg = &x;
	cbs.trusted = true;
	if (prefetch != NULL)
		cbs.prefetch = exp_prefetch;
	return mst_walk_store(store, &c.data, &cbs, why);
}

int
repo_write_blocks(const struct blockstore *store, const struct cid *root,
    const struct cid *cids, size_t n, car_write_fn write, void *arg,
    const char **why)
{
	const uint8_t	*d;
	size_t		 i, len;
	int		 rc;

	if ((rc = car_emit_header(write, arg, root, 1)) != PDS_OK)
		return pds_fail(why, rc, "CAR write failed");
	for (i = 0; i < n; i++) {
		if ((rc = bs_get(store, &cids[i], &d, &len)) != PDS_OK)
			return pds_fail(why, rc == PDS_ENOTFOUND ? PDS_ETRUNC :
			    rc, "block missing from store");
		if ((rc = car_emit_block(write, arg, &cids[i], d, len)) !=
		    PDS_OK)
			return pds_fail(why, rc, "CAR write failed");
	}
	return PDS_OK;
}

struct wm {
	car_write_fn	 write;
	void		*arg;
};

static int
wm_block(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	struct wm	*w = arg;

	return car_emit_block(w->write, w->arg, c, d, len);
}

int
repo_write_mem(const struct bs_mem *blocks, const struct cid *root,
    car_write_fn write, void *arg)
{
	struct wm	 w = { write, arg };
	int		 rc;

	if ((rc = car_emit_header(write, arg, root, 1)) != PDS_OK)
		return rc;
	return bs_mem_foreach(blocks, wm_block, &w);
}

int
repo_export_record(const struct blockstore *store, const struct cid *commit,
    const uint8_t *key, size_t klen, car_write_fn write, void *arg,
    bool *found, const char **why)
{
	struct commit	 c;
	struct mst	*t = NULL;
	struct bs_mem	*path = NULL;
	struct cid	 val;
	const uint8_t	*d;
	size_t		 len;
	int		 rc;

	if (found != NULL)
		*found = false;
	if ((rc = mst_key_check(key, klen, why)) != PDS_OK)
		return rc;
	if ((rc = load_commit(store, commit, &c, &d, &len, why)) != PDS_OK)
		return rc;
	if ((path = bs_mem_new()) == NULL ||
	    (rc = bs_mem_put(path, commit, d, len)) != PDS_OK) {
		rc = pds_fail(why, PDS_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = mst_load(store, &c.data, &t, why)) != PDS_OK)
		goto out;
	if ((rc = mst_proof_path(t, key, klen, path)) != PDS_OK) {
		pds_fail(why, rc, mst_why(t));
		goto out;
	}
	rc = mst_get(t, key, klen, &val);
	if (rc == PDS_OK) {
		if ((rc = bs_get_leaf(store, key, klen, &val, &d, &len)) !=
		    PDS_OK) {
			rc = pds_fail(why, rc == PDS_ENOTFOUND ? PDS_ETRUNC :
			    rc, "missing record block");
			goto out;
		}
		if ((rc = bs_mem_put(path, &val, d, len)) != PDS_OK) {
			pds_fail(why, rc, "out of memory");
			goto out;
		}
		if (found != NULL)
			*found = true;
	} else if (rc != PDS_ENOTFOUND) {
		pds_fail(why, rc, mst_why(t));
		goto out;
	}
	if ((rc = repo_write_mem(path, commit, write, arg)) != PDS_OK)
		pds_fail(why, rc, "CAR write failed");
out:
	mst_free(t);
	bs_mem_free(path);
	return rc;
}

/* ---- firehose slice ------------------------------------------------- */

int
repo_commit_blocks(struct mst *tree, const struct mst_op *ops, size_t nops,
    const struct blockstore *records, struct bs_mem *out, const char **why)
{
	size_t		 i;
	int		 rc;

	if ((rc = mst_new_blocks(tree, out)) != PDS_OK)
		return pds_fail(why, rc, mst_why(tree));
	for (i = 0; i < nops; i++) {
		const uint8_t	*d;
		size_t		 len;

		if ((rc = mst_proof_covering(tree, ops[i].key, ops[i].klen,
		    out)) != PDS_OK)
			return pds_fail(why, rc, mst_why(tree));
		if (ops[i].action == MST_DELETE)
			continue;
		if (ops[i].cid == NULL)
			return pds_fail(why, PDS_EINVAL, "op without a cid");
		if ((rc = bs_get(records, ops[i].cid, &d, &len)) != PDS_OK)
			return pds_fail(why, rc == PDS_ENOTFOUND ? PDS_ETRUNC :
			    rc, "missing record block");
		if ((rc = bs_mem_put(out, ops[i].cid, d, len)) != PDS_OK)
			return pds_fail(why, rc, "out of memory");
	}
	return PDS_OK;
}

/* ---- import --------------------------------------------------------- */

struct imp {
	struct bs_mem	*m;
	struct repo_import *info;
	unsigned	 flags;
	repo_record_cb	 cb;
	void		*arg;
	const char	**why;
};

static int
imp_node(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	struct imp	*x = arg;

	x->info->nodes++;
	return 0;
}

static int
record_is_map(void *arg, const struct dm_value *v, const char **why)
{
	if (v->type != DM_MAP)
		return pds_fail(why, PDS_EINVAL, "record is not a map");
	return PDS_OK;
}

static int
imp_leaf(void *arg, const uint8_t *key, size_t klen, const struct cid *val)
{
	struct imp	*x = arg;
	const uint8_t	*d;
	size_t		 len;
	int		 rc;

	x->info->records++;
	if (bs_mem_get(x->m, val, &d, &len) != PDS_OK) {
		if (x->info->missing++ == 0)
			x->info->first_missing = *val;
		return 0;
	}
	if ((x->flags & REPO_IMPORT_CHECK_RECORDS) &&
	    (rc = dm_decode_read(d, len, DM_ARENA_MAX_DEFAULT, record_is_map,
	    NULL, x->why)) != PDS_OK)
		return rc;
	if (x->cb != NULL && (rc = x->cb(x->arg, key, klen, val, d, len)) != 0)
		return rc;
	return 0;
}

int
repo_import(struct car_reader *r, const struct pds_key *pub, const char *did,
    unsigned flags, repo_record_cb cb, void *arg, struct repo_import *info,
    const char **why)
{
	struct bs_mem		*m;
	struct blockstore	 bs;
	struct mst_walk_cbs	 cbs;
	struct imp		 x;
	struct cid		 c;
	const uint8_t		*d;
	size_t			 len;
	int			 rc;

	memset(info, 0, sizeof(*info));
	if (r->nroots != 1)
		return pds_fail(why, PDS_EINVAL,
		    "CAR must have exactly one root");
	info->commit_cid = r->roots[0];
	if ((m = bs_mem_new()) == NULL)
		return pds_fail(why, PDS_ENOMEM, "out of memory");
	while ((rc = car_next(r, &c, &d, &len, why)) == 1) {
		info->blocks++;
		info->block_bytes += len;
		if ((rc = bs_mem_put(m, &c, d, len)) != PDS_OK) {
			pds_fail(why, rc, "out of memory");
			goto out;
		}
	}
	if (rc < 0)
		goto out;
	info->mem_bytes = bs_mem_footprint(m);
	if ((rc = bs_mem_get(m, &info->commit_cid, &d, &len)) != PDS_OK) {
		info->first_missing = info->commit_cid;
		rc = pds_fail(why, PDS_ETRUNC, "commit block missing from CAR");
		goto out;
	}
	if ((rc = commit_decode(&info->commit, d, len, why)) != PDS_OK)
		goto out;
	if (did != NULL && strcmp(did, info->commit.did) != 0) {
		rc = pds_fail(why, PDS_EMISMATCH,
		    "commit is for a different DID");
		goto out;
	}
	if (pub != NULL && commit_verify(&info->commit, pub) != PDS_OK) {
		rc = pds_fail(why, PDS_ECRYPTO,
		    "commit signature does not verify");
		goto out;
	}
	x = (struct imp){ m, info, flags, cb, arg, why };
	cbs = (struct mst_walk_cbs){ .node = imp_node, .leaf = imp_leaf,
	    .arg = &x, .canonical = true, .missing = &info->first_missing };
	bs = bs_mem_store(m);
	if ((rc = mst_walk_store(&bs, &info->commit.data, &cbs, why)) !=
	    PDS_OK)
		goto out;
	if (info->missing > 0)
		rc = pds_fail(why, PDS_ETRUNC, "record block missing from CAR");
out:
	if (rc == PDS_OK && (flags & REPO_IMPORT_KEEP_BLOCKS)) {
		info->blocks_kept = m;
		m = NULL;
	}
	bs_mem_free(m);
	return rc;
}
