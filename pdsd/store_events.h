/*
 * store_events: the SQL behind the firehose's event log (the events
 * table).  events.c (every insert, events_insert_tx()) and firehose.c
 * call these.
 *
 * A row's `event' column holds the whole DAG-CBOR body of the message,
 * `seq' included (and `time', which is its sequenced_at), so a frame is
 * the header for its type followed by the stored bytes.  Seqs come from
 * store_events_next_seq() (one past the larger of sqlite_sequence and
 * max(seq)), which every writer calls inside its write transaction, so
 * they are strictly increasing in commit order and never reused.
 *
 * The `encoding' column says how `event' holds the body: as it is
 * (STORE_EVENT_RAW; every row written before migration 3), as a zlib
 * stream of it (STORE_EVENT_ZLIB; chosen by store_events_insert() when
 * smaller), or as a zlib stream of the body without its "seq" entry
 * (STORE_EVENT_ZLIB_SEQ, from store_events_pack()), which the row's seq
 * puts back: the repo writer's #commit bodies, compressed on the
 * request's thread before their seq is known, so that the one writer
 * thread does not spend its time compressing.  Readers here always hand
 * out the original bytes.
 */
#ifndef PDSD_STORE_EVENTS_H
#define PDSD_STORE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

/* How a row's `event' column holds the body. */
#define STORE_EVENT_RAW		0	/* the DAG-CBOR body itself */
#define STORE_EVENT_ZLIB	1	/* a zlib (RFC 1950) stream of it */
/* zlib of: head length (u32, big-endian), head, tail; see store_events_pack */
#define STORE_EVENT_ZLIB_SEQ	2

/*
 * The largest body written or read back: the events writer's own cap
 * (events.c), so nothing stored inflates past a frame the
 * firehose would send.
 */
#define STORE_EVENT_BODY_MAX	((size_t)8 << 20)

/*
 * A body from its parts around the seq (events.c builds them): head,
 * the "seq" entry, tail, appended to out.
 */
int	store_events_join(const uint8_t *head, size_t hlen, int64_t seq,
	    const uint8_t *tail, size_t tlen, struct buf *out);

/* The seq the next event will get (in a transaction). */
int	store_events_next_seq(int64_t *seq);

/*
 * Insert a row (in a transaction); the body is stored compressed when
 * that is smaller.  PDS_ETOOBIG past STORE_EVENT_BODY_MAX.
 */
int	store_events_insert(int64_t seq, const char *did, const char *type,
	    const uint8_t *body, size_t len, const char *now);

/*
 * A body made of head, a "seq" entry and tail (see events.c) in the
 * STORE_EVENT_ZLIB_SEQ form, into out (replacing its contents), for
 * store_events_insert_packed() once the seq is known.  Any thread, no
 * transaction.  PDS_OK with out empty when packing would not save
 * bytes (then store the body with store_events_insert()).
 */
int	store_events_pack(const uint8_t *head, size_t hlen,
	    const uint8_t *tail, size_t tlen, struct buf *out);

/* Insert a row whose body store_events_pack() packed (in a transaction). */
int	store_events_insert_packed(int64_t seq, const char *did,
	    const char *type, const uint8_t *packed, size_t len,
	    const char *now);

/* Delete did's events with seq < before (account deletion; in a tx). */
int	store_events_purge_did(const char *did, int64_t before);

/*
 * did's head commit for a #sync: its CID text (cap bytes), rev
 * (TID_LEN + 1 bytes) and block (replacing out's contents).
 * PDS_ENOTFOUND when the repo has no head.
 */
int	store_events_head_commit(const char *did, char *cid, size_t cap,
	    char *rev, size_t revcap, struct buf *out);

/*
 * The highest seq ever handed out (0 when none): what FutureCursor is
 * judged against.  Runs on its own.
 */
int	store_events_head(int64_t *seq);

struct store_event_row {
	int64_t		 seq;
	const char	*type;		/* "commit", "sync", ... */
	const char	*did;
	const uint8_t	*body;
	size_t		 len;
	const char	*time;		/* sequenced_at */
};

/*
 * Rows with after < seq <= upto that are not invalidated, seq
 * ascending, at most limit; cb per row (its pointers live for the
 * call only; body is the original DAG-CBOR, inflated when stored
 * compressed).  cb's non-zero return stops the scan with that value.
 * A compressed body that does not inflate, or an unknown encoding,
 * stops it before that row reaches cb, with the error (logged).
 * *n (may be NULL) gets the number of rows passed to cb.
 */
int	store_events_scan(int64_t after, int64_t upto, size_t limit,
	    int (*cb)(void *, const struct store_event_row *), void *arg,
	    size_t *n);

/*
 * Inflate a STORE_EVENT_ZLIB column into out (replacing its contents),
 * at most STORE_EVENT_BODY_MAX bytes (and out's own maximum).
 * PDS_EINVAL for a corrupt stream or bytes after it, PDS_ETOOBIG when
 * it would inflate past the limit; out is then empty.
 */
int	store_events_body_inflate(const uint8_t *in, size_t len,
	    struct buf *out);

/*
 * The first kept row after `after': its seq and sequenced_at into
 * time[STORE_TS_LEN].  PDS_ENOTFOUND when none.
 */
int	store_events_first_after(int64_t after, int64_t *seq,
	    char time[STORE_TS_LEN]);

/*
 * The seq of the first row after `after' sequenced at or after `time';
 * PDS_ENOTFOUND when none.
 */
int	store_events_first_since(int64_t after, const char *time,
	    int64_t *seq);

/*
 * Delete at most limit of the oldest rows sequenced before `time' (its
 * own transaction); *n gets how many, *last the highest seq deleted
 * (unchanged when none).
 */
int	store_events_prune(const char *time, size_t limit, size_t *n,
	    int64_t *last);

#endif
