/*
 * events: the firehose's event log and its message encodings
 * (atproto-notes §11, V11; reference-pds §6).
 *
 * Every change that relays must hear about (a commit, a handle or DID
 * document change, an account status change, a #sync) appends one row
 * to the events table IN THE SAME TRANSACTION as the change, so the log
 * can never miss or invent one.  Each row gets a strictly increasing
 * seq; its body is the message's DAG-CBOR with seq and time inside, so
 * the firehose sends header || stored body without re-encoding.
 *
 * Rules for the *_tx functions and the hooks: call them between
 * store_begin() and store_commit() on the same thread; a non-zero
 * return means the caller must roll back.  They never begin or commit.
 * The firehose notices committed rows by itself (every append wakes it
 * and it polls every few milliseconds until it has seen the row);
 * events_notify() after store_commit() makes it instant.
 *
 * Event groups the reference emits (§11), and the calls that make them:
 *   account creation:	events_identity(did, handle),
 *			events_account(did, ACCT_ACTIVE), then the genesis
 *			#commit and #sync (repo_writer_create_repo())
 *   handle change:	events_identity(did, handle)
 *   identity refresh:	events_identity(did, NULL)  (PLC op submitted)
 *   activation:		events_account(did, ACCT_ACTIVE),
 *			events_identity(did, handle), events_sync(did)
 *   deactivation:	events_account(did, ACCT_DEACTIVATED)
 *   takedown:		events_account(did, ACCT_TAKENDOWN)
 *   takedown reversed:	events_account(did, ACCT_ACTIVE) (or deactivated)
 *   deletion:		events_account(did, ACCT_DELETED), which also
 *			purges did's older rows
 */
#ifndef PDSD_EVENTS_H
#define PDSD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "cid.h"
#include "store_account.h"

#define EVENTS_SYNC_BLOCKS_MAX	10000	/* #sync blocks (lexicon) */
#define EVENTS_COMMIT_BLOCKS_MAX 2000000	/* #commit blocks (notes §11) */

struct bs_mem;
struct store_rec_op;

/* ---- appending (inside an open store transaction) ------------------ */

/*
 * Append an event whose body is head || "seq" <seq> || tail: head holds
 * the map head and the keys that sort before "seq", tail the rest.
 * type is the table's name for it: "commit", "sync", "identity" or
 * "account".  *seq (may be NULL) gets the seq.  events_insert_tx() with
 * sequenced_at now; a failure is logged.
 */
int	events_append_tx(const char *type, const char *did,
	    const uint8_t *head, size_t head_len, const uint8_t *tail,
	    size_t tail_len, int64_t *seq);
/* events_append_tx() with sequenced_at `now', and nothing logged. */
int	events_append_at_tx(const char *type, const char *did,
	    const uint8_t *head, size_t head_len, const uint8_t *tail,
	    size_t tail_len, const char *now, int64_t *seq);

/*
 * The one way into the log: insert a body that is head || "seq" <seq>
 * || tail (as above), or packed, when not NULL, the same parts from
 * store_events_pack(), with sequenced_at now, and wake the firehose
 * (firehose_pending() and firehose_wake()).  *seq (may be NULL) gets
 * the seq.  The bodies are built by the functions of this file; the
 * repo writer builds its parts on the request's thread and inserts
 * them on its writer thread.
 */
struct events_body {
	const char	*type;		/* "commit", "sync", ... */
	const uint8_t	*head;
	size_t		 head_len;
	const uint8_t	*tail;
	size_t		 tail_len;
	const uint8_t	*packed;	/* or NULL */
	size_t		 packed_len;
};
int	events_insert_tx(const char *did, const struct events_body *,
	    const char *now, int64_t *seq);

/*
 * #identity (handle NULL: without one) and #account (active when the
 * status is ACCT_ACTIVE, else inactive with the status's name;
 * ACCT_DELETED also purges the DID's older events).  accounts.c and
 * migration.c call them.
 */
int	events_identity(const char *did, const char *handle);
int	events_account(const char *did, enum acct_status);

/* #sync for did's current head commit (read in the transaction). */
int	events_sync(const char *did);

/*
 * After store_commit() of a transaction that appended events: wake the
 * firehose now (otherwise it notices within a few milliseconds).
 * Cheap; any thread.
 */
void	events_notify(void);


/* ---- reading the log back (the admin socket's firehose.tail) ------ */

struct store_event_row;

/*
 * A row as JSON for people: {"seq", "time", "type", "did", "ops":
 * [{"action", "path", "cid"?}]} plus, by type, "rev", "commit",
 * "tooBig" (#commit), "handle" (#identity), "active", "status"
 * (#account) or "rev" (#sync).  ops is empty except for commits (at
 * most 200 listed, then "opsTotal" has the count); a body that does not
 * decode gives "undecodable": true.  New reference in *out.
 */
int	events_summary(const struct store_event_row *, json_t **out);

/*
 * Summaries of the kept rows with seq > after, oldest first, at most
 * limit, handed to cb (borrowed; cb's non-zero return stops the scan
 * with it).  *last gets the seq of the last row handed over (after when
 * none), *n (may be NULL) how many.  Reads on the calling thread's
 * store connection; it never touches the firehose thread.
 */
int	events_tail(int64_t after, size_t limit, int (*cb)(void *, json_t *),
	    void *arg, int64_t *last, size_t *n);

/* The highest seq handed out so far (0 when none). */
int	events_head(int64_t *seq);


/* ---- encodings (pure; unit-tested against V11) --------------------- */

/*
 * The parts of a #commit body around its seq, appended to head and
 * tail: ops (each op's path is collection/rkey), rev, repo did, time,
 * blobs [], since (NULL: null, the first commit), blocks (a CAR rooted
 * at commit holding the slice's blocks, at most
 * EVENTS_COMMIT_BLOCKS_MAX bytes), commit, rebase and tooBig false, and
 * prevData unless NULL.
 */
int	events_commit_parts(struct buf *head, struct buf *tail,
	    const char *did, const struct cid *commit, const char *rev,
	    const char *since, const struct cid *prev_data,
	    const struct store_rec_op *ops, size_t nops,
	    const struct bs_mem *slice, const char *time);
/* The parts of a #sync body (see events_body_sync()). */
int	events_sync_parts(struct buf *head, struct buf *tail,
	    const char *did, const char *rev, const struct cid *commit,
	    const uint8_t *commit_block, size_t commit_len, const char *time);

/*
 * Bodies with their seq and time (an ISO timestamp with milliseconds,
 * "2024-01-02T03:04:05.678Z"), appended to out.
 */
int	events_body_identity(struct buf *out, int64_t seq, const char *did,
	    const char *handle, const char *time);
int	events_body_account(struct buf *out, int64_t seq, const char *did,
	    bool active, const char *status, const char *time);
/* blocks: a CAR whose one root and one block is the signed commit. */
int	events_body_sync(struct buf *out, int64_t seq, const char *did,
	    const char *rev, const struct cid *commit,
	    const uint8_t *commit_block, size_t commit_len, const char *time);

/* The message header {"t": "#<type>", "op": 1}. */
int	events_frame_header(struct buf *out, const char *type);
/* An error frame: {"op": -1} || {"error": name, "message"?: message}. */
int	events_frame_error(struct buf *out, const char *name,
	    const char *message);
/* An #info frame: header || {"name": name, "message"?: message}. */
int	events_frame_info(struct buf *out, const char *name,
	    const char *message);

#endif
