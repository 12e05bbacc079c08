/*
 * firehose: the transport of com.atproto.sync.subscribeRepos
 * (atproto-notes §11, reference-pds §6).
 *
 * The XRPC handler (api_sync.c) checks the WebSocket handshake and the
 * cursor and calls firehose_subscribe(), which asks the HTTP layer to
 * switch protocols; the upgraded socket goes to ONE firehose thread that
 * serves every subscriber with epoll and non-blocking writes.
 *
 * Events come from the event log (events.h): the thread reads rows with
 * seq above the last one it saw, encodes each as one WebSocket frame
 * (frame header || message header || stored body) ONCE, and queues the
 * same refcounted frame on every live subscriber.  It looks when woken
 * (events_notify()/firehose_wake() after a commit), every few
 * milliseconds while an append it was told about (firehose_pending())
 * has not shown up yet, and once a second regardless.
 *
 * A subscriber with a cursor first replays seq > cursor from the log, a
 * page at a time as its socket drains, up to the seq the thread has
 * fanned out so far, and then joins the live set: no gap, no duplicate.
 * A cursor above the head gets the FutureCursor error; one whose next
 * event is older than the backfill window gets #info OutdatedCursor and
 * starts at the window.
 *
 * Priority.  The live subscribers go first: each turn of the loop fans
 * out what is new and writes the live queues, and only then does the
 * replay work (reading the log, filling replay queues, writing replay
 * sockets), within a byte budget per turn, one replaying subscriber
 * after another from where the last turn stopped.  A wake (a commit)
 * cuts the replays' turn short, to a small share that they always get,
 * so a new event waits for little replay work whatever the replays'
 * number or speed, and the replays still have the thread whenever
 * nothing live is pending.
 *
 * Memory.  Replayed frames are shared too: every data frame alive (held
 * by some queue) is in a cache by seq, with the seq of the row before it
 * (`prev'), so a replayer at position p takes the cached frame whose
 * prev <= p < seq instead of reading and encoding the row again; N
 * subscribers replaying one range hold one copy.  Each subscriber's
 * queue is capped in bytes (PDS_FIREHOSE_MAX_SUBSCRIBER_BYTES) as well
 * as in frames (PDS_MAX_SUBSCRIPTION_BUFFER): a replay fills it no
 * further, and stops building new frames while all the frames alive
 * pass FIREHOSE_BUDGET_CAPS caps' worth.  A live subscriber with either
 * cap reached when an event comes, and a replaying one that has had
 * frames queued and accepted no byte for FIREHOSE_STALL_MS, get
 * ConsumerTooSlow: the queue is dropped, the error frame and a 1008
 * close follow, and the socket is closed FIREHOSE_CLOSE_GRACE_MS later
 * at the latest (with a reset when bytes are still waiting, so the
 * kernel lets go of them too).
 *
 * Admission.  firehose_subscribe() refuses, before the 101, a client
 * over PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP (429 RateLimitExceeded; the
 * address is http_req_client()'s) or past PDS_FIREHOSE_MAX_SUBSCRIBERS
 * in all (503 NotEnoughResources).  Subscribers waiting for the thread
 * count; one whose socket closed while it waited is discarded before
 * any of its replay is read.
 *
 * Events older than the window are pruned from the log by a job on the
 * jobs thread (jobs.h), in small batches.  Relays in PDS_CRAWLERS are notified after
 * new events (crawlers.h).
 */
#ifndef PDSD_FIREHOSE_H
#define PDSD_FIREHOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_req;

#define FIREHOSE_CLOSE_GRACE_MS	5000
#define FIREHOSE_STALL_MS	10000
#define FIREHOSE_PRUNE_BATCH	5000
#define FIREHOSE_BUDGET_CAPS	8

struct pds_error;

/* Zero fields take the defaults in brackets. */
struct firehose_opts {
	size_t		 max_buffer;	/* frames per subscriber [500] */
	size_t		 max_bytes;	/* bytes per subscriber [4 MB] */
	size_t		 max_subs;	/* subscribers in all [512] */
	size_t		 max_subs_ip;	/* per client address [16] */
	int64_t		 stall_ms;	/* [FIREHOSE_STALL_MS] */
	int64_t		 backfill_ms;	/* window kept and replayed */
	int64_t		 prune_every_ms;	/* 0: backfill_ms / 24, <= 1 h */
};

/* Start / stop the thread (the module does this from the config). */
int	firehose_start(const struct firehose_opts *);
/* Close every subscriber (1001) and stop the thread; idempotent. */
void	firehose_stop(void);

/* Whether the thread runs (subscribeRepos answers 503 when not). */
bool	firehose_running(void);
/*
 * From the subscribeRepos handler, after it checked the handshake: reply
 * 101 to req and hand the socket to the firehose thread, replaying from
 * *cursor first (cursor NULL: live events only).  PDS_ERATELIMIT (this
 * client's cap) or PDS_EBUSY (the total cap), with e's message, and
 * then no reply is set; PDS_ENOMEM.
 */
int	firehose_subscribe(struct http_req *, const int64_t *cursor,
	    struct pds_error *e);

/* Any thread: an event with this seq was appended in an open tx. */
void	firehose_pending(int64_t seq);
/* Any thread: events were committed; look now. */
void	firehose_wake(void);

/* Delete events older than the backfill window now; *n how many. */
int	firehose_prune(size_t *n);

struct firehose_stats {
	uint64_t	 subscribers;
	int64_t		 head_seq;	/* last seq fanned out */
	uint64_t	 events;	/* events read from the log */
	uint64_t	 frames_sent;
	uint64_t	 bytes_sent;
	uint64_t	 too_slow;	/* subscribers dropped */
	uint64_t	 refused;	/* upgrades refused by a cap */
	uint64_t	 pruned;	/* events pruned */
	uint64_t	 frames_live;	/* frames allocated now */
	uint64_t	 bytes_live;	/* their bytes */
};
void	firehose_stats(struct firehose_stats *);

#endif
