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
 * starts at the window.  A live subscriber with more than
 * PDS_MAX_SUBSCRIPTION_BUFFER frames queued gets ConsumerTooSlow: its
 * queue is dropped, the error frame and a 1008 close follow, and the
 * socket is closed (at the latest FIREHOSE_CLOSE_GRACE_MS later).
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
#define FIREHOSE_PRUNE_BATCH	5000

struct firehose_opts {
	size_t		 max_buffer;	/* frames per subscriber */
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
 * *cursor first (cursor NULL: live events only).  PDS_ENOMEM.
 */
int	firehose_subscribe(struct http_req *, const int64_t *cursor);

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
	uint64_t	 pruned;	/* events pruned */
	uint64_t	 frames_live;	/* frames allocated now */
	uint64_t	 bytes_live;	/* their bytes */
};
void	firehose_stats(struct firehose_stats *);

#endif
