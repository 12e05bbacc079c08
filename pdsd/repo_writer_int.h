/*
 * repo_writer_int: what the repo writer's files share; nothing else
 * includes it.  The pipeline (repo_writer.h) is split by concern:
 *
 *   repo_writer.c		the public calls, the module and its jobs, a
 *				new account's empty repo
 *   repo_writer_state.c	the per-repo state cache, its loading and
 *				sweep, and the lock order check
 *   repo_writer_prepare.c	steps 1 and 2: records, tree, commit, the
 *				#commit parts, the queued item
 *   repo_writer_queue.c	steps 3 and 4: the writer queue, group
 *				commit, the syncer
 */
#ifndef PDSD_REPO_WRITER_INT_H
#define PDSD_REPO_WRITER_INT_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blockstore.h"
#include "buf.h"
#include "cid.h"
#include "events.h"
#include "repo_writer.h"
#include "store.h"
#include "store_repo.h"
#include "syntax.h"
#include "tid.h"

#define TREE_IDLE_WRITES	1000	/* then reload the tree when idle */
#define TREE_MAX_BYTES		((size_t)32 << 20)	/* pending blocks */
#define KEEP_BYTES		((size_t)64 << 10)	/* kept once durable */
#define TREE_KEEP_BYTES		((size_t)256 << 10)	/* then reload when idle */

/* ---- the lock order (see repo_writer.h) ----------------------------- */

enum rw_lock_level {
	RW_LOCK_STATES = 1,	/* states.mu, the table of rstates */
	RW_LOCK_REPO,		/* an rstate's lock */
	RW_LOCK_QUEUE,		/* wq.mu, the writer queue */
};

/*
 * pthread_mutex_lock() and friends for the three locks above.  Unless
 * NDEBUG, each thread records the levels it holds and an acquire
 * asserts that none of its level or a later one is held.  A condition
 * wait on a held lock needs nothing more.
 */
void	rw_lock(pthread_mutex_t *, enum rw_lock_level);
bool	rw_trylock(pthread_mutex_t *, enum rw_lock_level);
void	rw_unlock(pthread_mutex_t *, enum rw_lock_level);

/* ---- per-repo state (repo_writer_state.c) --------------------------- */

struct pds_key;
struct mst;

struct rstate {
	struct rstate	*next;
	/* under states.mu: most recently used first */
	TAILQ_ENTRY(rstate) lru;
	pthread_mutex_t	 lock;		/* held while preparing */
	/* under lock */
	bool		 loaded;
	uint64_t	 used_ms;	/* last prepared a commit (monotonic) */
	struct cid	 head;		/* latest commit (maybe not durable) */
	struct cid	 data;		/* its MST root */
	char		 rev[TID_LEN + 1];
	struct pds_key	*key;
	struct buf	 tmp;		/* a block read from repo_blocks */
	/*
	 * Blocks of commits not yet durable, and blocks already read or
	 * written that are kept (up to KEEP_BYTES once nothing is queued):
	 * each commit needs the blocks of the nodes on its keys' paths for
	 * the #commit proof, mostly the ones the previous commit wrote, and
	 * would otherwise read them back from the database.  Blocks are
	 * immutable, so a kept block is never wrong.
	 */
	struct bs_mem	*pending;
	struct blockstore src;		/* pending, then the database */
	struct mst	*tree;
	unsigned	 idle_writes;	/* commits since the tree was loaded */
	size_t		 charged;	/* bytes counted in the budget */
	/* under wq.mu */
	unsigned	 inflight;	/* queued, not yet written */
	bool		 stale;		/* a queued commit failed */
	char		 did[];		/* as long as it is */
};

/* did's state, made on first use (never freed); NULL when out of memory. */
struct rstate	*rstate_get(const char *did);
/* Forget the tree (the lock held): the next commit reloads it. */
void		 rstate_drop(struct rstate *);
/* Make st ready for the next commit (its lock held). */
int		 rstate_ready(struct rstate *);
/* Count st's memory now in the states' total (its lock held). */
void		 rstate_charge(struct rstate *);
/*
 * While the states' total is over the budget, give back the memory of
 * the least recently used idle repos (no repo lock held).
 */
void		 rstate_trim(void);

/* ---- the writer queue (repo_writer_queue.c) ------------------------- */

struct witem {
	struct witem	*next;
	struct rstate	*st;
	struct store_commit sc;
	struct store_rec_op *ops;
	struct bs_mem	*blocks;		/* the #commit slice */
	struct bs_mem	*store;		/* the new blocks to store */
	struct cid	*removed;
	struct cid	*blobcids;	/* every op's blob refs */
	struct events_body ev;		/* the #commit */
	int64_t		 seq;		/* its seq, once written */
	struct buf	 head, tail;
	struct buf	 packed;		/* head and tail, compressed */
	char		 rev[TID_LEN + 1];
	char		 now[STORE_TS_LEN];
	struct buf	 gone;		/* cid\0cid\0... of deleted blobs */
	int		 rc;
	bool		 done;
	pthread_cond_t	 cv;
	repo_write_done_fn cb;		/* async: called, then item freed */
	void		*cb_arg;
	struct witem	*anext;		/* async completions of a group */
	/* on a committed group's first item, while it waits for the sync */
	struct witem	*gnext;		/* the next group waiting */
	int64_t		 gmin;		/* the group's lowest event seq */
	size_t		 gn;		/* items in the group */
};

/* Register the repo.* counters (the module's init). */
void		 wq_stats_init(void);
/*
 * How many of the newest blocks (by id) repo_blocks_recent keeps
 * (PDS_REPO_RECENT_BLOCKS); the writer moves the rest to repo_blocks
 * between groups, a sixteenth of that at a time at least.
 */
#define RECENT_KEEP_DEFAULT	16384
void		 wq_set_recent(int64_t keep);

struct witem	*witem_new(void);
void		 witem_free(struct witem *);
/* What a written (or failed) item means to its caller. */
int		 witem_result(const struct witem *, struct repo_write_result *,
		    struct pds_error *);

/* Queue an item (its repo's lock held); PDS_EIO once stopping. */
int		 wq_enqueue(struct witem *);
/* Wait until the item is written (not async); its rc. */
int		 wq_wait_done(struct witem *);
/* Wait until nothing of st is queued; *stale gets (and clears) its flag. */
void		 wq_wait_idle(struct rstate *, bool *stale);
/* A snapshot of st's idle (nothing queued) and stale (may be NULL). */
void		 wq_repo_status(struct rstate *, bool *idle, bool *stale);

/* ---- preparing a commit (repo_writer_prepare.c) --------------------- */

/*
 * Steps 1 and 2: on PDS_OK, *itp is the queued item, or NULL when there
 * was nothing to commit.  done (NULL: the caller waits) goes with it.
 */
int	repo_writer_prepare(const char *did, struct repo_write_op *ops,
	    size_t nops, const struct cid *swap_commit, unsigned flags,
	    repo_write_done_fn done, void *cb_arg, struct witem **itp,
	    struct pds_error *err);

/*
 * Make err describe the failure rc for the client: a code the steps
 * did not explain is kept when it is the request's fault and becomes
 * PDS_EINTERNAL otherwise.  Returns rc.
 */
int	repo_error_settle(struct pds_error *err, int rc);

#endif
