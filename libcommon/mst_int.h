/*
 * mst_int: the MST's in-memory node structure, shared by mst.c (loading,
 * mutation, serialization, listing), mst_node.c (keys, node bytes) and
 * mst_proof.c (proofs, diffs, inversion, streaming walks).  Not for use
 * outside those files.
 */
#ifndef PDS_MST_INT_H
#define PDS_MST_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "cid.h"

#define MST_NODE_MAX	((size_t)2 << 20)	/* bytes of one node block */

struct mnode;

struct ment {
	uint8_t		*key;		/* full key, NUL after */
	uint32_t	 klen;
	struct mnode	*t;		/* subtree right of this entry */
	struct cid	 val;
};

struct mnode {
	struct mnode	*l;		/* subtree left of e[0] */
	struct ment	*e;
	uint32_t	 n, cap;
	int16_t		 layer;
	bool		 loaded;	/* entries present (else a stub) */
	bool		 dirty;		/* cid out of date */
	struct cid	 cid;
};

struct mst {
	const struct blockstore	*src;
	struct bs_mem	*writes;
	struct mnode	*root;		/* always loaded */
	struct buf	 enc;
	const char	*why;
};

struct mst_enc_entry {
	const uint8_t	*key;
	size_t		 klen;
	const struct cid *val;
	const struct cid *right;	/* NULL: none */
};

/*
 * mst_node_parse(), or with `trusted' (blocks from the daemon's own
 * store, checked when they were written) without checking the keys'
 * syntax and depths: no hash per key, and info->layer is `layer'.
 */
int	 mst_node_parse_as(const uint8_t *data, size_t len, int layer,
	    bool trusted, struct mst_node_info *, mst_entry_cb, void *arg,
	    const char **why);
int	 mst_node_encode(struct buf *, const struct cid *left, size_t n,
	    const struct mst_enc_entry *);
int	 mst_node_load(struct mst *, struct mnode *, bool root);
void	 mst_node_free(struct mnode *);
size_t	 mst_node_find(const struct mnode *, const uint8_t *key, size_t klen,
	    bool *eq);
/*
 * Load n (as the root when it is t's) and find key in it: *i is its
 * index or where it would go, *eq whether it is there.
 */
int	 mst_node_seek(struct mst *, struct mnode *, const uint8_t *key,
	    size_t klen, size_t *i, bool *eq);
struct mnode *mst_node_gap(const struct mnode *, size_t i);
int	 mst_block_get(struct mst *, const struct cid *, const uint8_t **data,
	    size_t *len);

#endif
