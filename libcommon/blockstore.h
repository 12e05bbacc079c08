/*
 * blockstore: where repository blocks (MST nodes, records, commits) come
 * from and go to, keyed by CID.
 *
 * struct blockstore is a small interface (two function pointers and a
 * context) so that the MST, commits and CAR code work the same over the
 * daemon's SQLite store, an imported CAR held in memory, a firehose
 * slice or a test's hash map.
 *
 *   get: find the block with this CID.  On PDS_OK *data and *len point at
 *        its bytes, borrowed: valid until the store is changed or freed.
 *        PDS_ENOTFOUND when absent; any other code is a store failure.
 *        The MST, commit and repo code never hold a borrowed pointer
 *        across another call on the same store, so an implementation
 *        (SQLite, say) may hand out one reused buffer.
 *   put: store a copy of the block; storing a CID already held is PDS_OK
 *        and keeps the first copy.  May be NULL for a read-only store
 *        (bs_put() then fails with PDS_EUNSUPP).
 *   get_leaf: like get, for a record: the block an MST entry with this
 *        key points at.  May be NULL (bs_get_leaf() then calls get); a
 *        store that keeps records by their key (the daemon's, where a
 *        record's bytes live in its records row) finds them by it.
 *
 * Stores never check that the bytes hash to the CID; the code that
 * receives blocks from outside (the CAR reader) does that.
 *
 * struct bs_mem is the in-memory implementation: an open-addressing hash
 * table keyed by the CID (the digest's own bits), blocks copied into
 * large append-only chunks.  It iterates in insertion order, which is what
 * a write set (new blocks of a commit) needs.  Blocks are never removed
 * one by one; bs_mem_clear() drops all of them.
 */
#ifndef PDS_BLOCKSTORE_H
#define PDS_BLOCKSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cid.h"

struct blockstore {
	int	(*get)(void *ctx, const struct cid *, const uint8_t **data,
		    size_t *len);
	int	(*put)(void *ctx, const struct cid *, const uint8_t *data,
		    size_t len);
	void	*ctx;
	int	(*get_leaf)(void *ctx, const uint8_t *key, size_t klen,
		    const struct cid *, const uint8_t **data, size_t *len);
};

int	bs_get(const struct blockstore *, const struct cid *,
	    const uint8_t **data, size_t *len);
int	bs_put(const struct blockstore *, const struct cid *,
	    const uint8_t *data, size_t len);
int	bs_get_leaf(const struct blockstore *, const uint8_t *key,
	    size_t klen, const struct cid *, const uint8_t **data,
	    size_t *len);

/* ---- in-memory store ------------------------------------------------ */

struct bs_mem;

/* Called once per block in insertion order; non-zero stops the walk. */
typedef int (*bs_mem_cb)(void *arg, const struct cid *, const uint8_t *data,
    size_t len);

struct bs_mem	*bs_mem_new(void);
void		 bs_mem_free(struct bs_mem *);		/* NULL-safe */
/* Drop every block, keep the table's memory for reuse. */
void		 bs_mem_clear(struct bs_mem *);
/* Drop every block and give all the memory back (an empty store). */
void		 bs_mem_release(struct bs_mem *);
int		 bs_mem_put(struct bs_mem *, const struct cid *,
		    const uint8_t *data, size_t len);
/* Like the interface's get: PDS_OK with borrowed bytes, or PDS_ENOTFOUND. */
int		 bs_mem_get(const struct bs_mem *, const struct cid *,
		    const uint8_t **data, size_t *len);
bool		 bs_mem_has(const struct bs_mem *, const struct cid *);
size_t		 bs_mem_count(const struct bs_mem *);
/* Bytes of block data held (not counting CIDs and the table). */
size_t		 bs_mem_bytes(const struct bs_mem *);
/* Total memory the store has allocated. */
size_t		 bs_mem_footprint(const struct bs_mem *);
/* Walk blocks in insertion order; returns the callback's non-zero value. */
int		 bs_mem_foreach(const struct bs_mem *, bs_mem_cb, void *arg);
/* Copy every block of `src` into `dst` (skipping those already there). */
int		 bs_mem_merge(struct bs_mem *dst, const struct bs_mem *src);
/* The interface view of this store (valid while the store lives). */
struct blockstore bs_mem_store(struct bs_mem *);

#endif
