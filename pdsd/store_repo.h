/*
 * store_repo: the SQL behind repositories: the block store over
 * repo_blocks, the head (repo_root), the record index (records,
 * record_blobs) and blob metadata (blobs); a commit's event log rows
 * are events.c's.  Only repo_writer.c, blobs.c, jobs.c and the
 * api_repo.c / api_sync.c handlers call these.
 *
 * CIDs are stored as base32 text.  Functions marked "in a transaction"
 * expect store_begin() on this thread; the rest run on their own.
 * Strings come back in the caller's fixed buffers.
 */
#ifndef PDSD_STORE_REPO_H
#define PDSD_STORE_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blockstore.h"
#include "buf.h"
#include "cid.h"
#include "store.h"
#include "store_account.h"
#include "syntax.h"
#include "tid.h"

/* ---- the block store ------------------------------------------------ */

/*
 * A struct blockstore over one repo's blocks, read through the calling
 * thread's connection: get() is store_block_get(), get_leaf() finds a
 * record by its key.  Both copy the block into the instance's buffer:
 * the pointer is valid until the next call on the same instance.  One
 * instance must not be used by two threads at once.  put() is not
 * supported (blocks are written by store_repo_apply()).
 */
struct store_bs {
	char		 did[DID_MAX + 1];
	struct buf	 tmp;
};

void	store_bs_init(struct store_bs *, const char *did);
void	store_bs_clear(struct store_bs *);
struct blockstore store_bs_store(struct store_bs *);

/*
 * A read snapshot on this thread's connection (BEGIN DEFERRED ...
 * COMMIT): everything read in between comes from one database state.
 * Not for threads that also write.
 */
int	store_repo_read_begin(void);
void	store_repo_read_end(void);

/*
 * A savepoint inside the current write transaction, so that one commit
 * of a group can fail alone; end it with rollback true to undo it.
 */
int	store_repo_savepoint(void);
void	store_repo_savepoint_end(bool rollback);


/*
 * One block's bytes into out (replacing its contents).  A record's bytes
 * are in its records row (schema 14), the tree's nodes and the commits
 * in repo_blocks: store_node_get() looks only there, store_block_get()
 * then reads the account's records for the CID (they are not ordered
 * by it: for a block whose key is not known), store_record_block() reads
 * the record at its key if it has that CID (PDS_ENOTFOUND otherwise).
 */
int	store_node_get(const char *did, const struct cid *, struct buf *out);
int	store_block_get(const char *did, const struct cid *, struct buf *out);
int	store_record_block(const char *did, const char *collection,
	    const char *rkey, const struct cid *, struct buf *out);
/*
 * The record blocks of did whose CID is in cids_json (a JSON array of
 * CIDs as base32 text), in key order, by one read of the account's
 * rows; two records with the same bytes give it twice.  cb's non-zero
 * return stops with it.
 */
int	store_record_blocks(const char *did, const char *cids_json,
	    int (*cb)(void *, const char *cid, const uint8_t *, size_t),
	    void *arg);

/* ---- accounts as the repo layer sees them --------------------------- */

struct store_repo_acct {
	char	did[DID_MAX + 1];
	char	handle[HANDLE_MAX + 1];		/* "" when none */
	enum acct_status status;
	char	created_at[STORE_TS_LEN];
};

/* By DID, or by handle (case-insensitively).  PDS_ENOTFOUND if none. */
int	store_repo_acct_find(const char *did_or_handle,
	    struct store_repo_acct *out);

/* ---- the head ------------------------------------------------------- */

/* The head commit and rev.  PDS_ENOTFOUND when the repo has none. */
int	store_repo_root_get(const char *did, struct cid *commit,
	    char rev[TID_LEN + 1]);

/*
 * Every hosted repo after `cursor' (NULL: from the start) in
 * (created_at, did) order, at most limit; cb per repo.  The cursor is
 * "<created_at>::<did>"; next_cursor (cap bytes) gets the last one
 * seen, "" at the end.
 */
struct store_repo_listed {
	const char	*did;
	const char	*head;
	const char	*rev;
	enum acct_status status;
	const char	*created_at;
};
int	store_repo_list(const char *cursor, size_t limit,
	    int (*cb)(void *, const struct store_repo_listed *), void *arg,
	    char *next_cursor, size_t cap);

/* ---- the record index ----------------------------------------------- */

/*
 * A record's CID and bytes (out may be NULL).  Taken-down records are
 * PDS_ENOTFOUND unless with_takendown.
 */
int	store_record_get(const char *did, const char *collection,
	    const char *rkey, bool with_takendown, struct cid *cid,
	    struct buf *out);

struct store_record_listed {
	const char	*rkey;
	const char	*cid;
	const uint8_t	*data;
	size_t		 len;
};
/*
 * Records of a collection, rkey descending (ascending if reverse),
 * strictly after cursor (NULL: from the end), at most limit; taken-down
 * ones skipped.  cb's non-zero return stops with it.
 */
int	store_record_list(const char *did, const char *collection,
	    const char *cursor, bool reverse, size_t limit,
	    int (*cb)(void *, const struct store_record_listed *), void *arg);

/* The distinct collections of a repo, in order. */
int	store_repo_collections(const char *did,
	    int (*cb)(void *, const char *collection), void *arg);

/* Number of indexed records of a repo. */
int	store_record_count(const char *did, int64_t *n);

/*
 * Every stored node and commit of did in one scan (in no particular
 * order; after an import, record blocks that were not absorbed too),
 * for getRepo to gather a repo's tree in one pass instead of one lookup
 * per node.  cb's non-zero return stops with it.
 */
int	store_nodes_all(const char *did,
	    int (*cb)(void *, const char *cid, const uint8_t *, size_t),
	    void *arg);

/*
 * A repo's records read in one ordered scan, for a walk that asks for
 * them in the tree's order (getRepo): store_recstream_get() gives the
 * bytes of the record with this key and CID when the scan is at it (the
 * bytes are valid until the next call), PDS_ENOTFOUND when not (look
 * it up), or a store failure.  Inside a read snapshot; close on every
 * path.
 */
struct store_recstream {
	struct sqlite3_stmt *st;
	bool		 row;		/* st is at a row not yet given */
	bool		 end;
	int		 rc;		/* the scan's failure */
};
int	store_recstream_open(struct store_recstream *, const char *did);
int	store_recstream_get(struct store_recstream *, const uint8_t *key,
	    size_t klen, const struct cid *, const uint8_t **data,
	    size_t *len);
void	store_recstream_close(struct store_recstream *);

/*
 * After an import wrote did's blocks to repo_blocks and its records
 * without their bytes (in a transaction): each record's bytes move
 * from repo_blocks into its row.
 */
int	store_records_absorb(const char *did);

/*
 * getRepo?since=: every stored block of did whose rev is > since, rev
 * then CID descending.  cb's non-zero return stops with it.
 */
int	store_blocks_since(const char *did, const char *since,
	    int (*cb)(void *, const char *cid, const uint8_t *data,
	    size_t len), void *arg);

/* ---- blobs ---------------------------------------------------------- */

struct store_blob {
	char	 mime_type[256];
	int64_t	 size;
	bool	 temp;		/* uploaded, not yet referenced */
	bool	 takendown;
	char	 created_at[STORE_TS_LEN];
};

int	store_blob_get(const char *did, const struct cid *,
	    struct store_blob *out);
/*
 * After an upload: insert the row as temporary (temp_key = key), or
 * leave an existing row alone except for refreshing a temporary one's
 * time, so a re-upload restarts its grace period.
 */
int	store_blob_uploaded(const char *did, const struct cid *,
	    const char *mime_type, int64_t size, const char *key,
	    const char *now);
/*
 * listBlobs: the blobs referenced by records (with since: by records
 * written after that rev), CID ascending after cursor, at most limit.
 */
int	store_blob_list(const char *did, const char *since,
	    const char *cursor, size_t limit,
	    int (*cb)(void *, const char *cid), void *arg);
/*
 * Temporary blobs created before `before': cb gets (did, cid) for each,
 * oldest first, at most limit.
 */
int	store_blob_temp_list(const char *before, size_t limit,
	    void (*cb)(void *, const char *did, const char *cid), void *arg);
/*
 * Delete the row of a temporary blob created before `before' (checked
 * again here); *deleted says whether there was one.
 */
int	store_blob_temp_delete(const char *did, const char *cid,
	    const char *before, bool *deleted);
/* Whether a row for (did, cid) exists (for the file sweeper). */
int	store_blob_exists(const char *did, const char *cid, bool *exists);

/* ---- applying a commit ---------------------------------------------- */

/* One record change of a commit. */
struct store_rec_op {
	int		 action;	/* MST_CREATE, MST_UPDATE, MST_DELETE */
	const char	*collection;
	const char	*rkey;
	struct cid	 cid;		/* create, update */
	struct cid	 prev;		/* update, delete */
	const struct cid *blobs;	/* blob refs of the new record */
	size_t		 nblobs;
};

struct store_commit {
	const char	*did;
	bool		 has_prev;	/* the head it builds on */
	struct cid	 prev_commit;
	struct cid	 commit;
	const char	*rev;
	const char	*now;
	const struct store_rec_op *ops;
	size_t		 nops;
	const struct bs_mem *blocks;	/* new blocks to store */
	const struct cid *removed;	/* blocks no longer in the repo */
	size_t		 nremoved;
	/*
	 * out: the blobs whose rows were deleted because no record refers
	 * to them any more; the caller removes their files after commit.
	 */
	void		(*blob_gone)(void *, const char *did, const char *cid);
	void		*blob_gone_arg;
	/* out: why it was refused (static text), when it was */
	const char	*why;
};

/*
 * Apply a prepared commit (in a transaction): check that the head is
 * still prev_commit (PDS_EMISMATCH otherwise), update the record index
 * (each record row with its bytes, from blocks) and blob references
 * (every referenced blob must have a row: PDS_ENOTFOUND, and nothing
 * else returns it), delete the removed blocks, insert the new nodes and
 * the commit and move the head.  The caller appends the
 * commit's events (events_insert_tx()) in the same transaction.
 */
int	store_repo_apply(struct store_commit *);

/*
 * The repo writer, between groups: once repo_blocks_recent spans more
 * than keep + batch rows (by id), move the blocks older than its newest
 * keep into repo_blocks, in a transaction of its own.  *moved (may be
 * NULL) gets how many rows it took out of repo_blocks_recent.
 */
int	store_repo_settle(int64_t keep, int64_t batch, int *moved);

#endif
