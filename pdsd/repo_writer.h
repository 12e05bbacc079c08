/*
 * repo_writer: every change to a repository goes through here.
 *
 * A write (createRecord, putRecord, deleteRecord, applyWrites) runs in
 * four steps:
 *
 *   1. On the request's thread, without any lock: each record is checked
 *      (collection and rkey syntax, $type, the data model, the small
 *      lexicon table of lexicon.h) and encoded as DAG-CBOR; the
 *      blobs it references must exist with the same MIME type and size.
 *   2. Under the repo's lock: the MST is updated, a new commit is signed
 *      with a new rev, and the parts of the firehose #commit body (the
 *      CAR slice of atproto-notes §4.6, ops, prevData; events.c encodes
 *      them) are built.  The prepared commit joins the writer queue
 *      and the repo's in-memory head moves on, so the next write to the
 *      same repo can be prepared at once.
 *   3. The writer thread takes everything queued and writes it in ONE
 *      SQLite transaction (blocks, record index, blob references, head,
 *      event rows; each commit in its own savepoint).  Many commits
 *      share one fsync ("group commit"), which is what lifts writes
 *      above the disk's fsync rate.
 *   4. The syncer thread makes the committed transactions durable (one
 *      fdatasync for all those committed so far, see store_wal.h) while
 *      the writer goes on with the next one, then wakes the waiting
 *      requests and the firehose.
 *
 * A request is answered only after its transaction is on the disk, so an
 * acknowledged write is durable.  If a commit fails in step 3, the
 * commits queued after it on the same repo fail too (each checks that
 * the stored head is the one it was built on), and the repo's cached
 * state is reloaded from the database once its queue is empty.
 *
 * Lock order: the table of repo states (states.mu), then one repo's
 * lock (st->lock), then the writer queue's (wq.mu); no thread holds two
 * repo locks, and callbacks (repo_write_async's cb) run with none held.
 * Builds without NDEBUG assert it on every acquire.
 *
 * Thread-safe after repo_writer_start() (a module init).
 */
#ifndef PDSD_REPO_WRITER_H
#define PDSD_REPO_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cid.h"
#include "syntax.h"
#include "tid.h"

struct pds_key;

#define REPO_WRITES_MAX		200	/* applyWrites */
#define REPO_RECORD_MAX		1000000	/* bytes of one record's CBOR */

enum repo_action {
	REPO_CREATE = 1,	/* must not exist */
	REPO_UPDATE,		/* must exist (applyWrites #update) */
	REPO_PUT,		/* either (putRecord) */
	REPO_DELETE,		/* must exist, unless REPO_F_DELETE_ABSENT_OK */
};

enum repo_validate {
	REPO_VALIDATE_AUTO,	/* known lexicons: validate; else "unknown" */
	REPO_VALIDATE_YES,	/* the lexicon must be known and pass */
	REPO_VALIDATE_NO,	/* data model only; no validationStatus */
};

struct repo_write_op {
	enum repo_action action;
	char		 collection[NSID_MAX + 1];
	char		 rkey[RKEY_MAX + 1];	/* "" on create: a new TID */
	const json_t	*value;			/* create, update, put */
	enum repo_validate validate;
	/* putRecord / deleteRecord swapRecord */
	bool		 has_swap;
	bool		 swap_null;	/* the record must not exist */
	struct cid	 swap;

	/* results */
	enum repo_action done;		/* CREATE, UPDATE or DELETE */
	struct cid	 cid;		/* create, update */
	const char	*validation;	/* "valid", "unknown" or NULL */
};

struct repo_write_result {
	bool		 committed;	/* false: nothing to do (no commit) */
	struct cid	 commit;
	char		 rev[TID_LEN + 1];
	int64_t		 seq;		/* the #commit event's seq */
};

/*
 * Why a write was refused: on failure err holds the answer for the
 * client (code, name, message); the returned code may be more precise.
 *   PDS_EINVAL	  400 (InvalidRequest, InvalidSwap, InvalidMimeType, ...)
 *   PDS_ENOTFOUND 400 (RecordNotFound, BlobNotFound, RepoNotFound)
 *   PDS_EEXIST	  400 (the record exists)
 *   PDS_EMISMATCH 400 InvalidSwap
 *   PDS_EUNSUPP	  400 (a record the server cannot take)
 *   PDS_ETAKENDOWN 400 AccountTakedown, PDS_EDEACTIVATED 400
 *		  AccountDeactivated (the account may not write)
 *   PDS_EINTERNAL 500 (any failure not caused by the request)
 */
struct pds_error;

int	repo_writer_start(void);
void	repo_writer_stop(void);

/*
 * Apply ops (at most REPO_WRITES_MAX) to did's repo in one commit.
 * swap_commit (may be NULL) must equal the current head.  Fills each
 * op's results and *res.  REPO_F_DELETE_ABSENT_OK: deleting an absent
 * record is not an error (deleteRecord); if nothing is left to do, no
 * commit is made (res->committed false).
 */
#define REPO_F_DELETE_ABSENT_OK	0x01
int	repo_write(const char *did, struct repo_write_op *ops, size_t nops,
	    const struct cid *swap_commit, unsigned flags,
	    struct repo_write_result *res, struct pds_error *err);

/*
 * The same without blocking the caller's thread (the XRPC handlers use
 * it with http_req_defer()): REPO_QUEUED means the commit is queued and
 * cb(arg, rc, res, err) will be called once, from the writer thread,
 * after its transaction (rc as repo_write() would return; the op
 * results were filled before queueing).  cb must be quick.  PDS_OK
 * means there was nothing to commit (res->committed false) and a
 * negative code a refusal; cb is not called then.  ops must stay valid
 * until cb runs.
 */
#define REPO_QUEUED	1
typedef void	(*repo_write_done_fn)(void *arg, int rc,
		    const struct repo_write_result *, const struct pds_error *);
int	repo_write_async(const char *did, struct repo_write_op *ops,
	    size_t nops, const struct cid *swap_commit, unsigned flags,
	    struct repo_write_result *res, struct pds_error *err,
	    repo_write_done_fn cb, void *arg);

/*
 * The empty repository of a new account, for account creation: an empty
 * MST and a commit signed with key (prev null), stored with its head, a
 * #commit event (since null, no prevData, its CAR slice holds the commit
 * and the empty node) and a #sync event.  Call inside the caller's
 * store_begin() transaction (it takes no repo lock: the account is not
 * visible yet).  commit_out and rev_out may be NULL.
 */
int	repo_writer_create_repo(const char *did, const struct pds_key *key,
	    struct cid *commit_out, char rev_out[TID_LEN + 1]);

/*
 * Forget what is cached about did's repo (its signing key, head and
 * tree): after the account's key changed, its repo was replaced
 * (importRepo) or the account was deleted.  Waits for its queued
 * commits.
 */
void	repo_writer_forget(const char *did);

/* Statistics for the admin socket and tests. */
struct repo_writer_stats {
	uint64_t	 commits;	/* committed */
	uint64_t	 failed;
	uint64_t	 transactions;	/* group commits */
	uint64_t	 max_group;	/* most commits in one transaction */
};
void	repo_writer_stats(struct repo_writer_stats *);

/*
 * The highest event seq the firehose may send: every event up to it is
 * durable.  INT64_MAX when no commit is waiting for the disk.
 */
int64_t	repo_writer_durable_seq(void);

/*
 * Give back the memory of repos that have not prepared a commit for
 * idle_ms and have nothing queued: their tree, kept blocks and signing
 * key (the next write loads them again).  A job runs it every minute
 * with five minutes; a server with many accounts would otherwise keep
 * the state of every account that ever wrote.  Repos whose lock is busy
 * are skipped.
 */
void	repo_writer_sweep(uint64_t idle_ms);

/*
 * The budget of the per-repo state (trees, kept blocks, keys) in bytes:
 * past it, the least recently used idle repos give back their memory.
 * Set at start-up (PDS_REPO_CACHE_MB); registers the repo.state_bytes,
 * repo.states and repo.states_evicted counters.
 */
#define REPO_STATE_BUDGET_DEFAULT	((size_t)16 << 20)
void	repo_writer_set_budget(size_t bytes);
/* What the per-repo state holds now, in bytes. */
size_t	repo_writer_state_bytes(void);

#endif
