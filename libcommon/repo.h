/*
 * repo: whole repositories as CAR files (atproto-notes §3, §4.6, §5).
 *
 * Export streams through a car_write_fn so that memory stays bounded by
 * the tree's height (one decoded node per level), whatever the repo's
 * size: the commit first, then the MST in pre-order with each record
 * right after the slot that holds it (the order §3 prefers).
 *
 * Import reads a CAR, holds its blocks in a compact in-memory block map
 * (struct bs_mem), checks the commit (signature against a given public
 * key, unless NULL), walks every MST node from the root checking its
 * structure, canonical encoding and global key order, and calls back
 * once per record with its key, CID and bytes.  No more than one node
 * per tree level is decoded at a time.
 *
 * The commit slice for the firehose (#commit `blocks`) is the new MST
 * blocks, a covering proof per written key, and the record blocks of the
 * created and updated records (§4.6).
 */
#ifndef PDS_REPO_H
#define PDS_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blockstore.h"
#include "car.h"
#include "cid.h"
#include "commit.h"
#include "mst.h"

struct pds_key;

/*
 * The whole repo whose signed commit is `commit`, from `store`.  A block
 * missing from the store fails with PDS_ETRUNC and a reason; what was
 * written by then is a truncated CAR.  The store is one whose blocks were
 * checked when they were written (the daemon's): the walk does not hash
 * the MST's nodes and keys again (the reader of the CAR checks them).
 */
int	repo_export(const struct blockstore *, const struct cid *commit,
	    car_write_fn, void *arg, const char **why);
/*
 * The same, telling `prefetch' (with the store's ctx) of the tree's
 * nodes it will read soon: see mst_walk_cbs.
 */
int	repo_export_hinted(const struct blockstore *,
	    void (*prefetch)(void *ctx, const struct cid *, int stage),
	    const struct cid *commit, car_write_fn, void *arg,
	    const char **why);

/*
 * A CAR with root `root` and the given blocks from `store`, in that
 * order (for getRepo?since=, getBlocks, and the like).  Missing blocks
 * fail with PDS_ETRUNC.
 */
int	repo_write_blocks(const struct blockstore *, const struct cid *root,
	    const struct cid *cids, size_t n, car_write_fn, void *arg,
	    const char **why);

/* A CAR with root `root` and every block of `blocks` in insertion order. */
int	repo_write_mem(const struct bs_mem *blocks, const struct cid *root,
	    car_write_fn, void *arg);

/*
 * sync.getRecord: a CAR whose root is the commit, holding the commit, the
 * MST nodes on the path to `key`, and the record if it exists.
 * *found (if non-NULL) says whether it does.
 */
int	repo_export_record(const struct blockstore *, const struct cid *commit,
	    const uint8_t *key, size_t klen, car_write_fn, void *arg,
	    bool *found, const char **why);

/*
 * The #commit `blocks` slice for a commit whose new tree is `tree`: the
 * tree's write set minus blocks its source already held, the covering
 * proof of every op's key, and (from `records`) the record blocks of
 * create and update ops.  The caller has put the commit block in `out`
 * first, so that it leads the slice.
 */
int	repo_commit_blocks(struct mst *tree, const struct mst_op *ops,
	    size_t nops, const struct blockstore *records, struct bs_mem *out,
	    const char **why);

/* Import. */

/* Per record in key order; non-zero stops the import with that value. */
typedef int (*repo_record_cb)(void *arg, const uint8_t *key, size_t klen,
    const struct cid *, const uint8_t *data, size_t len);

#define REPO_IMPORT_CHECK_RECORDS 0x01	/* records must decode as maps */
#define REPO_IMPORT_KEEP_BLOCKS	  0x02	/* hand the block map to the caller */

struct repo_import {
	struct cid	 commit_cid;
	struct commit	 commit;
	size_t		 blocks;	/* sections in the CAR */
	size_t		 block_bytes;	/* their data bytes */
	size_t		 nodes;		/* MST nodes walked */
	size_t		 records;	/* leaves walked */
	size_t		 missing;	/* record blocks absent */
	struct cid	 first_missing;	/* MST node or record */
	size_t		 mem_bytes;	/* block map's memory */
	struct bs_mem	*blocks_kept;	/* REPO_IMPORT_KEEP_BLOCKS: caller frees */
};

/*
 * Read and check a repo from an open CAR reader.  The CAR must have
 * exactly one root, the commit; with `pub` its signature must verify
 * (PDS_ECRYPTO otherwise); with `did` its did must match.  A missing
 * MST node or record fails with PDS_ETRUNC (info->first_missing names
 * it); structural faults are PDS_EINVAL or PDS_ENONCANON.  *why says
 * which.  info is filled as far as the import got.
 */
int	repo_import(struct car_reader *, const struct pds_key *pub,
	    const char *did, unsigned flags, repo_record_cb, void *arg,
	    struct repo_import *info, const char **why);

#endif
