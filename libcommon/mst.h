/*
 * mst: the repository's Merkle Search Tree (atproto-notes §4).
 *
 * A struct mst is one tree, loaded lazily from a block source: a node is
 * fetched and decoded the first time an operation needs it and then kept.
 * Mutations change the nodes in memory and mark the path to the root
 * dirty; mst_root() serializes the dirty nodes, computes their CIDs and
 * adds the new blocks to the tree's write set, which the caller stores
 * (and puts on the firehose) and then clears.  The shape after any
 * sequence of operations equals the pure rebuild rule of §4.4, so the
 * root CID depends only on the key -> CID map.
 *
 * Every node is checked when loaded (the layer is known from the parent,
 * or from the first key at the root): each key is a valid repo path whose
 * depth equals the node's layer, keys strictly ascend, a prefix length
 * never passes the previous key, at most MST_MAX_ENTRIES entries, no
 * subtree below layer 0, no entry-less node without a subtree below the
 * root, and a root without entries only for the empty tree.  A bad or
 * missing node makes the operation fail with a code; mst_why() then
 * names the reason.  A node block absent from the source is PDS_ETRUNC
 * (the tree is incomplete), never PDS_ENOTFOUND, which always means an
 * absent key.  The order of keys across nodes is checked by
 * mst_verify() (and repo_import()), which walk the whole tree.
 *
 * Keys are byte strings (not NUL-terminated) of at most MST_KEY_MAX bytes.
 * Callback pointers to keys are valid only during the call.
 *
 * After PDS_ENOMEM from a mutation the tree may be half changed: free it.
 */
#ifndef PDS_MST_H
#define PDS_MST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blockstore.h"
#include "cid.h"

#define MST_KEY_MAX	1024
#define MST_MAX_ENTRIES	1024	/* per node, against key mining */
#define MST_MAX_LAYER	128	/* a 256-bit hash has at most 128 2-bit zeros */

struct mst;
struct bs_mem;

/* ---- keys ----------------------------------------------------------- */

/* The layer of a key: leading zero bits of SHA-256(key), halved. */
int	mst_key_depth(const uint8_t *key, size_t len);
/* Length of the common prefix of two byte strings. */
size_t	mst_common_prefix(const uint8_t *a, size_t alen, const uint8_t *b,
	    size_t blen);
/*
 * A valid repo path: at most MST_KEY_MAX bytes, "collection/rkey", exactly
 * one '/', each side non-empty and of [a-zA-Z0-9_~\-:.] only.
 */
int	mst_key_check(const uint8_t *key, size_t len, const char **why);
/* memcmp order, a shorter prefix first. */
int	mst_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
	    size_t blen);

/* ---- trees ---------------------------------------------------------- */

/*
 * A tree over `src` (borrowed; it must outlive the tree).  src may be
 * NULL for a tree built only in memory.  mst_load() fetches and checks
 * the root node at once.
 */
int	mst_new_empty(const struct blockstore *src, struct mst **out);
int	mst_load(const struct blockstore *src, const struct cid *root,
	    struct mst **out, const char **why);
void	mst_free(struct mst *);			/* NULL-safe */

/* The reason for the last failure, or NULL. */
const char *mst_why(const struct mst *);

/* PDS_OK and the value, or PDS_ENOTFOUND. */
int	mst_get(struct mst *, const uint8_t *key, size_t klen, struct cid *out);
/* PDS_EEXIST if the key is there. */
int	mst_add(struct mst *, const uint8_t *key, size_t klen,
	    const struct cid *val);
/* PDS_ENOTFOUND if the key is not there; *prev (if non-NULL) = old value. */
int	mst_update(struct mst *, const uint8_t *key, size_t klen,
	    const struct cid *val, struct cid *prev);
/* Add or update; *prev_found (if non-NULL) says whether it was there. */
int	mst_put(struct mst *, const uint8_t *key, size_t klen,
	    const struct cid *val, struct cid *prev, bool *prev_found);
/* PDS_ENOTFOUND if the key is not there; *prev = old value. */
int	mst_delete(struct mst *, const uint8_t *key, size_t klen,
	    struct cid *prev);

/*
 * Serialize every dirty node, put the new blocks in the write set, and
 * give the root CID.  Cheap when nothing changed.
 */
int	mst_root(struct mst *, struct cid *out);
/*
 * Flush, then add to `out` the blocks of the write set that the source
 * does not already hold: the MST part of a commit's new blocks.
 */
int	mst_new_blocks(struct mst *, struct bs_mem *out);
/* New node blocks since the last mst_writes_clear() (owned by the tree). */
struct bs_mem	*mst_writes(struct mst *);
void	mst_writes_clear(struct mst *);
/*
 * A read-only view of the tree's blocks (write set first, then src), for
 * fetching proof and diff blocks; valid while the tree lives.
 */
struct blockstore mst_store(struct mst *);
/*
 * The heap bytes the tree holds now: its loaded nodes, their entries
 * and keys, the write set and the encoding buffer, with a word of
 * allocator overhead per allocation.  Walks the loaded nodes only.
 */
size_t	mst_footprint(const struct mst *);
/* Number of keys (walks the whole tree: loads every node). */
int	mst_count(struct mst *, size_t *out);

/* ---- listing -------------------------------------------------------- */

/*
 * Called per leaf in order.  Return 0 to go on, 1 to stop (mst_list then
 * returns PDS_OK), or a negative code to abort with that code.
 */
typedef int (*mst_leaf_cb)(void *arg, const uint8_t *key, size_t klen,
    const struct cid *val);

/*
 * The keys starting with `prefix` (plen may be 0 for all), strictly after
 * `cursor` when ascending or strictly before it when descending (cursor
 * NULL: from the first or the last such key), at most `limit` (0: no
 * limit).  For listRecords: prefix "collection/", cursor
 * "collection/rkey".
 */
int	mst_list(struct mst *, const uint8_t *prefix, size_t plen,
	    const uint8_t *cursor, size_t clen, bool descending, size_t limit,
	    mst_leaf_cb, void *arg);
/* Every leaf in ascending order. */
int	mst_walk(struct mst *, mst_leaf_cb, void *arg);

/*
 * Walk the whole tree checking everything: node checks, the global key
 * order, and that each node's bytes re-encode to themselves (canonical
 * prefix compression).  Streams from the blocks: memory stays bounded by
 * the tree's height, not its size.
 */
int	mst_verify(struct mst *, const char **why);

/*
 * The streaming walk behind mst_verify() and CAR export, straight from a
 * block source without building a struct mst.  Pre-order, interleaved:
 * each node (node callback), then for each slot in the node's order its
 * subtree (recursively) or its leaf (leaf callback).  So leaves come in
 * ascending key order.  Callbacks may be NULL; a non-zero return stops
 * the walk with that value.  A missing node fails with PDS_ETRUNC and
 * its CID in *missing (when non-NULL).  With `canonical`, each node must
 * re-encode to its exact bytes.  With `trusted` (a store whose blocks
 * were checked when written: getRepo's), neither the nodes' CIDs nor the
 * keys' syntax and depths are checked again: no hashing at all.
 */
struct mst_walk_cbs {
	int	(*node)(void *arg, const struct cid *, const uint8_t *data,
		    size_t len);
	int	(*leaf)(void *arg, const uint8_t *key, size_t klen,
		    const struct cid *val);
	void	*arg;
	bool	 canonical;
	bool	 trusted;
	struct cid *missing;
	/*
	 * When set, told of the nodes a node links to (its subtrees, not
	 * its entries' values), in two passes: stage 0 for all of them,
	 * then stage 1, before any is read; a store in memory can fetch
	 * them into the cache while the walk goes on.
	 */
	void	(*prefetch)(void *arg, const struct cid *, int stage);
};
int	mst_walk_store(const struct blockstore *, const struct cid *root,
	    const struct mst_walk_cbs *, const char **why);

/* ---- proofs, diffs, inversion (§4.6) -------------------------------- */

/*
 * Add to `out` the node blocks on the path from the root to where `key`
 * is or would be (sync.getRecord's proof, without the record).
 */
int	mst_proof_path(struct mst *, const uint8_t *key, size_t klen,
	    struct bs_mem *out);
/*
 * Add to `out` the covering proof of `key` in this tree: the union of the
 * reference's proofForKey, proofForLeftSib and proofForRightSib (the path
 * to the key and to its neighbour leaves).  Flushes the tree first.
 */
int	mst_proof_covering(struct mst *, const uint8_t *key, size_t klen,
	    struct bs_mem *out);

enum mst_action { MST_CREATE = 1, MST_UPDATE = 2, MST_DELETE = 3 };

struct mst_diff_op {
	enum mst_action	 action;
	uint8_t		*key;		/* NUL-terminated copy */
	size_t		 klen;
	struct cid	 old_cid;	/* update, delete */
	struct cid	 new_cid;	/* create, update */
};

struct mst_diff {
	struct mst_diff_op *ops;	/* ascending key order */
	size_t		 nops;
	struct cid	*new_nodes;	/* nodes of the new tree, not the old */
	size_t		 nnew;
	struct cid	*removed_nodes;	/* nodes of the old tree, not the new */
	size_t		 nremoved;
};

/*
 * Compare two trees (old may be NULL: the empty tree), skipping equal
 * subtrees.  Both trees are flushed first.  Free with mst_diff_clear().
 */
int	mst_diff(struct mst *old, struct mst *new, struct mst_diff *out);
void	mst_diff_clear(struct mst_diff *);

struct mst_op {
	enum mst_action	 action;
	const uint8_t	*key;
	size_t		 klen;
	const struct cid *cid;		/* create, update: the new value */
	const struct cid *prev;		/* update, delete: the old value */
};

/*
 * Inversion (sync 1.1): load the tree `new_root` from `proof` (usually a
 * firehose CAR slice), undo each op (create -> delete, update -> put
 * back prev, delete -> re-add prev), and give the resulting root, which a
 * consumer compares with the event's prevData.  Fails with PDS_ETRUNC
 * (and *why) if the blocks do not cover the ops, PDS_EMISMATCH if an op's
 * cid does not match the tree.
 */
int	mst_invert(const struct blockstore *proof, const struct cid *new_root,
	    const struct mst_op *ops, size_t nops, struct cid *prev_root,
	    const char **why);

/* ---- single nodes --------------------------------------------------- */

/*
 * Decode and check one node's bytes as a node at `layer` (-1: unknown,
 * as for a root) and call `cb` per entry with the full key.  *layer_out
 * (if non-NULL) gets the node's layer (-1 for an entry-less node).  For
 * fuzzing and for streaming walkers that do not build a struct mst.
 */
struct mst_node_info {
	bool		 has_left;
	struct cid	 left;
	size_t		 nentries;
	int		 layer;
};
typedef int (*mst_entry_cb)(void *arg, const uint8_t *key, size_t klen,
    const struct cid *val, const struct cid *right /* NULL: none */);
int	mst_node_parse(const uint8_t *data, size_t len, int layer,
	    struct mst_node_info *info, mst_entry_cb cb, void *arg,
	    const char **why);

/* Encode the empty node {"e":[],"l":null} (7 bytes). */
int	mst_empty_root(struct cid *out);

#endif
