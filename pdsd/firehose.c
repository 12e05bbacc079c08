/*
 * firehose: subscribeRepos over WebSocket, served by one epoll thread.
 * See firehose.h.
 *
 * Everything about subscribers (their queues, sockets, state) and the
 * frame cache is touched by the firehose thread only, so none of it is
 * locked; other threads talk to it through the inbox (new connections,
 * under inbox_mu), two atomics and an eventfd.  The admission counts
 * (subscribers in all and per client address) are under adm_mu: the
 * HTTP threads take a slot before the 101, and whoever ends the
 * connection (the firehose thread, or the HTTP layer when it is lost
 * before the switch) gives it back.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cbor.h"
#include "clock.h"
#include "config.h"
#include "crawlers.h"
#include "err.h"
#include "events.h"
#include "firehose.h"
#include "http.h"
#include "log.h"
#include "module.h"
#include "repo_writer.h"
#include "jobs.h"
#include "stats.h"
#include "store.h"
#include "store_events.h"
#include "ws.h"

#define LOAD_BATCH	1000	/* log rows read per query */
#define REPLAY_PAGE	200	/* rows per replay step */
#define IOV_MAX_USE	64
#define FAST_POLL_MS	2	/* while a told-about append is unseen */
#define FAST_POLL_FOR_MS 2000
#define IDLE_POLL_MS	1000
#define REMOTE_MAX	64
#define STARVED_POLL_MS	10	/* a replay waiting for the budget */
/*
 * Replay work (bytes queued from the cache or the log, plus bytes
 * written to replaying sockets) per turn of the loop: live frames wait
 * for at most one turn of it.  A turn stops at TURN_MAX, or at TURN_MIN
 * once the thread has been woken (a commit to fan out, most likely);
 * the replays always get TURN_MIN, so they never starve.
 */
#define REPLAY_TURN_MAX	(512 * 1024)
#define REPLAY_TURN_MIN	(64 * 1024)

struct frame {
	uint32_t	 refs;
	bool		 data;		/* an event (counts against the cap) */
	bool		 cached;	/* in the cache (data frames) */
	int64_t		 seq;
	int64_t		 prev;		/* no row in (prev, seq) */
	size_t		 len;
	uint8_t		 b[];
};

enum sub_state { SUB_REPLAY, SUB_LIVE, SUB_CLOSING };

struct sub {
	int			 fd;
	struct http_upgraded	*uh;
	struct ws_in		*in;
	enum sub_state		 state;
	int64_t			 pos;		/* highest seq queued */
	struct frame		**q;		/* ring */
	size_t			 qcap, qhead, qlen, ndata;
	size_t			 qbytes;	/* bytes of the frames queued */
	size_t			 off;		/* sent of q[qhead] */
	int64_t			 since_ms;	/* last byte out, or queued */
	bool			 pollout;
	bool			 shut;		/* SHUT_WR done */
	bool			 starved;	/* replay waits for the budget */
	bool			 writable;	/* replay: EPOLLOUT came */
	int64_t			 deadline_ms;	/* SUB_CLOSING */
	int64_t			 cursor;	/* asked for, -1: none */
	int64_t			 sent_seq;
	uint64_t		 events, bytes;
	uint64_t		 stats_id;
	char			 remote[REMOTE_MAX];
	char			 client[REMOTE_MAX];	/* its admission slot */
	LIST_ENTRY(sub)		 link;			/* on subs */
};

/* A connection handed over by the HTTP layer, waiting for the thread. */
struct newconn {
	int			 fd;
	struct http_upgraded	*uh;
	uint8_t			*extra;
	size_t			 extra_len;
	bool			 has_cursor;
	int64_t			 cursor;
	char			 remote[REMOTE_MAX];
	char			 client[REMOTE_MAX];	/* its admission slot */
	struct newconn		*next;
};

/* Subscribers (and connections on their way) per client address. */
struct adm_slot {
	char			 client[REMOTE_MAX];
	size_t			 n;
};

static struct firehose_opts opts;
static pthread_t	 thr;
static bool		 running;
static int		 efd = -1, epfd = -1;
static atomic_bool	 stopping;
static atomic_bool	 woken;		/* efd written since drained */
static atomic_llong	 pending_seq;

static pthread_mutex_t	 inbox_mu = PTHREAD_MUTEX_INITIALIZER;
static struct newconn	*inbox;
static bool		 inbox_closed;

static pthread_mutex_t	 adm_mu = PTHREAD_MUTEX_INITIALIZER;
static struct adm_slot	*adm;
static size_t		 adm_n, adm_cap, adm_total;

/* thread state */
static LIST_HEAD(, sub)	 subs = LIST_HEAD_INITIALIZER(subs);
static struct frame	**cache;	/* data frames alive, by seq */
static size_t		 cache_n, cache_cap;
static size_t		 budget;	/* bytes of frames a replay may add to */
static int64_t		 head_seq;	/* last seq fanned out */
static atomic_llong	 prune_floor;	/* highest seq pruned */
static int64_t		 pending_since_ms;
static int64_t		 next_stats_ms;
static struct sub	*rr_next;	/* the replay served first next turn */
static size_t		 turn_spent;	/* replay bytes this turn */
static bool		 turn_cut;	/* the last turn left replay work */

/* counters (read by firehose_stats() from any thread) */
static atomic_ullong	 n_subs, n_events, n_frames, n_bytes, n_slow;
static atomic_ullong	 n_pruned, n_frames_live, n_bytes_live, n_refused;
static atomic_llong	 a_head;
static struct stats_counter *c_events, *c_frames, *c_bytes, *c_slow;
static struct stats_counter *c_subs, *c_head, *c_refused;

static void	adm_release(const char *);

/* ---- frames ---- */

/* A binary frame of payload = a || b (b may be NULL). */
static struct frame *
frame_new(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    int64_t seq, bool data, enum ws_opcode op)
{
	struct frame	*f;
	uint8_t		 wh[WS_FRAME_HEADER_MAX];
	size_t		 whl;

	whl = ws_frame_header(wh, op, (uint64_t)alen + blen);
	if ((f = malloc(sizeof(*f) + whl + alen + blen)) == NULL)
		return NULL;
	f->refs = 1;
	f->data = data;
	f->cached = false;
	f->seq = seq;
	f->prev = seq;
	f->len = whl + alen + blen;
	memcpy(f->b, wh, whl);
	if (alen > 0)
		memcpy(f->b + whl, a, alen);
	if (blen > 0)
		memcpy(f->b + whl + alen, b, blen);
	atomic_fetch_add(&n_frames_live, 1);
	atomic_fetch_add(&n_bytes_live, f->len);
	return f;
}

static struct frame *
frame_event(const char *type, int64_t seq, const uint8_t *body, size_t len)
{
	struct buf	 h;
	struct frame	*f = NULL;

	buf_init(&h, 64);
	if (events_frame_header(&h, type) == PDS_OK)
		f = frame_new(h.p, h.len, body, len, seq, true,
		    WS_OP_BINARY);
	buf_clear(&h);
	return f;
}

/* The index of the first cached frame with a seq >= seq. */
static size_t
cache_lower(int64_t seq)
{
	size_t	 lo = 0, hi = cache_n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cache[mid]->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The cached frame that comes right after position pos in the log. */
static struct frame *
cache_next(int64_t pos)
{
	size_t	 i = cache_lower(pos + 1);

	return i < cache_n && cache[i]->prev <= pos ? cache[i] : NULL;
}

/* Failing to cache costs sharing, never correctness. */
static void
cache_add(struct frame *f)
{
	struct frame	**nc;
	size_t		 i, ncap;

	if (cache_n == cache_cap) {
		ncap = cache_cap > 0 ? cache_cap * 2 : 256;
		if ((nc = reallocarray(cache, ncap, sizeof(*nc))) == NULL)
			return;
		cache = nc;
		cache_cap = ncap;
	}
	i = cache_lower(f->seq);
	memmove(cache + i + 1, cache + i, (cache_n - i) * sizeof(*cache));
	cache[i] = f;
	cache_n++;
	f->cached = true;
}

static void
cache_del(struct frame *f)
{
	size_t	 i = cache_lower(f->seq);

	if (i < cache_n && cache[i] == f) {
		memmove(cache + i, cache + i + 1,
		    (cache_n - i - 1) * sizeof(*cache));
		cache_n--;
	}
}

/*
 * The frame of a row read from the log right after position prev, with
 * a reference for the caller: the cached one if the row's frame is
 * alive, else a new one, cached.
 */
static struct frame *
frame_row(const struct store_event_row *row, int64_t prev)
{
	struct frame	*f;
	size_t		 i = cache_lower(row->seq);

	if (i < cache_n && cache[i]->seq == row->seq) {
		f = cache[i];
		if (prev < f->prev)
			f->prev = prev;
		f->refs++;
		return f;
	}
	if ((f = frame_event(row->type, row->seq, row->body, row->len)) ==
	    NULL)
		return NULL;
	f->prev = prev;
	cache_add(f);
	return f;
}

static void
frame_unref(struct frame *f)
{
	if (f == NULL || --f->refs > 0)
		return;
	if (f->cached)
		cache_del(f);
	atomic_fetch_sub(&n_frames_live, 1);
	atomic_fetch_sub(&n_bytes_live, f->len);
	free(f);
}

/* ---- subscribers ---- */

static int
sub_epoll(struct sub *s, bool out)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0);
	ev.data.ptr = s;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev) == -1)
		return PDS_EIO;
	s->pollout = out;
	return PDS_OK;
}

/* Queue f (taking a reference); data frames obey the cap elsewhere. */
static int
sub_push(struct sub *s, struct frame *f)
{
	if (s->qlen == s->qcap)
		return PDS_ETOOBIG;
	if (s->qlen == 0)
		s->since_ms = clock_mono_ms();
	s->q[(s->qhead + s->qlen) % s->qcap] = f;
	s->qlen++;
	s->qbytes += f->len;
	f->refs++;
	if (f->data) {
		s->ndata++;
		s->pos = f->seq;
	}
	return PDS_OK;
}

static void
sub_pop(struct sub *s)
{
	struct frame	*f = s->q[s->qhead];

	s->q[s->qhead] = NULL;
	s->qhead = (s->qhead + 1) % s->qcap;
	s->qlen--;
	s->qbytes -= f->len;
	s->off = 0;
	if (f->data) {
		s->ndata--;
		s->events++;
		s->sent_seq = f->seq;
		atomic_fetch_add(&n_frames, 1);
		stats_add(c_frames, 1);
	}
	frame_unref(f);
}

static void
sub_destroy(struct sub *s)
{
	struct linger	 lg = { 1, 0 };

	/*
	 * Bytes still queued: the peer is gone or not reading.  Reset
	 * rather than close, or the kernel would keep what sits in the
	 * socket's buffer, trying to deliver it, long after.
	 */
	if (s->qlen > 0)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg,
		    sizeof(lg));
	while (s->qlen > 0) {
		frame_unref(s->q[s->qhead]);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
	}
	epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (rr_next == s)
		rr_next = LIST_NEXT(s, link);
	LIST_REMOVE(s, link);
	stats_sub_remove(s->stats_id);
	ws_in_free(s->in);
	http_upgraded_close(s->uh);
	adm_release(s->client);
	free(s->q);
	free(s);
	atomic_fetch_sub(&n_subs, 1);
	stats_set(c_subs, atomic_load(&n_subs));
}

/* Queue a one-off frame built from a buf (error, info, close). */
static int
sub_push_new(struct sub *s, struct frame *f)
{
	int	 rc;

	if (f == NULL)
		return PDS_ENOMEM;
	rc = sub_push(s, f);
	frame_unref(f);
	return rc;
}

/*
 * End the subscription: keep only the frame being written (its bytes
 * must finish), then the error frame (if name) and a close frame.
 */
static void
sub_close(struct sub *s, uint16_t code, const char *name, const char *msg)
{
	struct buf	 b;
	uint8_t		 cf[2 + WS_CONTROL_MAX];
	size_t		 keep = s->off > 0 ? 1 : 0;
	size_t		 cl;

	while (s->qlen > keep) {
		size_t	 i = (s->qhead + s->qlen - 1) % s->qcap;

		if (s->q[i]->data)
			s->ndata--;
		s->qbytes -= s->q[i]->len;
		frame_unref(s->q[i]);
		s->q[i] = NULL;
		s->qlen--;
	}
	if (name != NULL) {
		buf_init(&b, 4096);
		if (events_frame_error(&b, name, msg) == PDS_OK)
			(void)sub_push_new(s, frame_new(b.p, b.len, NULL, 0,
			    0, false, WS_OP_BINARY));
		buf_clear(&b);
	}
	cl = ws_close_frame(cf, code, name);
	/* the close frame's own bytes include its header already */
	(void)sub_push_new(s, frame_new(cf + 2, cl - 2, NULL, 0, 0, false,
	    WS_OP_CLOSE));
	s->state = SUB_CLOSING;
	s->deadline_ms = clock_mono_ms() + FIREHOSE_CLOSE_GRACE_MS;
}

/*
 * Write what the socket takes, stopping once limit bytes are out (and
 * adding them to *wrote).  Returns PDS_OK, or PDS_EIO when the
 * connection is gone (the caller destroys it).
 */
static int
sub_flush_upto(struct sub *s, size_t limit, size_t *wrote)
{
	struct iovec	 iov[IOV_MAX_USE];
	ssize_t		 n;
	size_t		 i, cnt, left, out = 0;
	struct frame	*f;

	while (s->qlen > 0) {
		if (out >= limit) {
			/* more next turn: the socket may take it still */
			if (wrote != NULL)
				*wrote += out;
			return PDS_OK;
		}
		cnt = s->qlen < IOV_MAX_USE ? s->qlen : IOV_MAX_USE;
		for (i = 0; i < cnt; i++) {
			f = s->q[(s->qhead + i) % s->qcap];
			iov[i].iov_base = f->b + (i == 0 ? s->off : 0);
			iov[i].iov_len = f->len - (i == 0 ? s->off : 0);
		}
		n = writev(s->fd, iov, (int)cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (wrote != NULL)
				*wrote += out;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return s->pollout ? PDS_OK : sub_epoll(s, true);
			return PDS_EIO;
		}
		out += (size_t)n;
		s->bytes += (uint64_t)n;
		if (n > 0)
			s->since_ms = clock_mono_ms();
		atomic_fetch_add(&n_bytes, (uint64_t)n);
		stats_add(c_bytes, (uint64_t)n);
		left = (size_t)n;
		while (left > 0 && s->qlen > 0) {
			f = s->q[s->qhead];
			if (left >= f->len - s->off) {
				left -= f->len - s->off;
				sub_pop(s);
			} else {
				s->off += left;
				left = 0;
			}
		}
	}
	if (wrote != NULL)
		*wrote += out;
	if (s->pollout && sub_epoll(s, false) != PDS_OK)
		return PDS_EIO;
	if (s->state == SUB_CLOSING && !s->shut) {
		/* the close frame is out: no more from us */
		shutdown(s->fd, SHUT_WR);
		s->shut = true;
	}
	return PDS_OK;
}

static int
sub_flush(struct sub *s)
{
	return sub_flush_upto(s, SIZE_MAX, NULL);
}

/* Drop s: ConsumerTooSlow (why says which cap) and close. */
static void
sub_too_slow(struct sub *s, const char *why, int64_t seq)
{
	atomic_fetch_add(&n_slow, 1);
	stats_add(c_slow, 1);
	log_info("firehose: %s too slow at seq %" PRId64 " (%s), dropped",
	    s->remote, seq, why);
	sub_close(s, WS_CLOSE_POLICY, "ConsumerTooSlow",
	    "Stream consumer too slow");
}

/* Whether a replay may queue another frame on s. */
static bool
sub_room(const struct sub *s)
{
	return s->ndata < opts.max_buffer && s->qbytes < opts.max_bytes;
}

/* Whether a replay may build new frames (cached ones cost nothing). */
static bool
budget_left(void)
{
	return atomic_load(&n_bytes_live) < budget;
}

/*
 * The replay work this turn may still do: 0 once the turn is over.  A
 * wake (a commit for the live subscribers, most likely) ends it early.
 */
static size_t
turn_left(void)
{
	size_t	 max = REPLAY_TURN_MAX;

	if (atomic_load_explicit(&woken, memory_order_relaxed))
		max = REPLAY_TURN_MIN;
	return turn_spent < max ? max - turn_spent : 0;
}

/* ---- the log ---- */

struct load_ctx {
	int64_t		 last;
	size_t		 n;
};

static int
fanout_row(void *arg, const struct store_event_row *row)
{
	struct load_ctx	*lc = arg;
	struct frame	*f;
	struct sub	*s, *next;

	if ((f = frame_row(row, lc->last)) == NULL)
		return PDS_ENOMEM;
	lc->last = row->seq;
	lc->n++;
	for (s = LIST_FIRST(&subs); s != NULL; s = next) {
		next = LIST_NEXT(s, link);
		if (s->state != SUB_LIVE)
			continue;
		if (s->ndata >= opts.max_buffer) {
			sub_too_slow(s, "frame cap", row->seq);
			continue;
		}
		/* past the cap by one frame at most, however big */
		if (s->qbytes >= opts.max_bytes) {
			sub_too_slow(s, "byte cap", row->seq);
			continue;
		}
		(void)sub_push(s, f);
	}
	frame_unref(f);
	return 0;
}

/* Fan out everything committed since head_seq. */
static void
load_new(void)
{
	struct load_ctx	 lc;
	uint64_t	 total = 0;
	int64_t		 top, upto = repo_writer_durable_seq();
	int		 rc;

	if (upto <= head_seq)
		return;		/* nothing durable that is new */
	if (LIST_EMPTY(&subs)) {
		/*
		 * Nobody to send to: move the head on without reading (and
		 * inflating) the bodies.  A subscriber that comes later with
		 * a cursor replays them from the log.
		 */
		if ((rc = store_events_head(&top)) != PDS_OK) {
			log_warnx("firehose: reading the event log: %s",
			    pds_strerror(rc));
			return;
		}
		if (top > upto)
			top = upto;
		if (top > head_seq) {
			total = (uint64_t)(top - head_seq);
			head_seq = top;
		}
		goto out;
	}
	do {
		memset(&lc, 0, sizeof(lc));
		lc.last = head_seq;
		rc = store_events_scan(head_seq, upto, LOAD_BATCH, fanout_row,
		    &lc, NULL);
		/* rows handed to subscribers count even if the scan failed */
		head_seq = lc.last;
		total += lc.n;
	} while (rc == PDS_OK && lc.n == LOAD_BATCH);
	if (rc != PDS_OK)
		log_warnx("firehose: reading the event log: %s",
		    pds_strerror(rc));
out:
	if (total > 0) {
		atomic_fetch_add(&n_events, total);
		stats_add(c_events, total);
		atomic_store(&a_head, head_seq);
		stats_set(c_head, (uint64_t)head_seq);
		crawlers_notify();
	}
}

struct replay_ctx {
	struct sub	*s;
	int64_t		 prev;		/* the row before (or the start) */
	bool		 stopped;	/* by us, not for want of rows */
};

static int
replay_row(void *arg, const struct store_event_row *row)
{
	struct replay_ctx *rc = arg;
	struct frame	*f;
	int		 r;

	if ((f = frame_row(row, rc->prev)) == NULL)
		return PDS_ENOMEM;
	rc->prev = row->seq;
	r = sub_push(rc->s, f);
	if (r == PDS_OK)
		turn_spent += f->len;
	frame_unref(f);
	if (r != PDS_OK)
		return r;
	/*
	 * Full, over budget, the turn is over, or the rest is cached:
	 * stop reading.
	 */
	if (!sub_room(rc->s) || !budget_left() || turn_left() == 0 ||
	    cache_next(row->seq) != NULL) {
		rc->stopped = true;
		return 1;
	}
	return 0;
}

/*
 * Fill a replaying subscriber's queue, once it is down to half its caps:
 * frames other subscribers hold already come from the cache; the rest
 * is read from the log a page at a time, while the budget and the turn
 * allow.
 */
static void
replay_step(struct sub *s)
{
	struct replay_ctx rc;
	struct frame	*f;
	size_t		 n;
	int		 r;

	s->starved = false;
	if (s->ndata > opts.max_buffer / 2 || s->qbytes > opts.max_bytes / 2)
		return;
	while (sub_room(s)) {
		if (s->pos >= head_seq) {
			s->state = SUB_LIVE;
			return;
		}
		if (turn_left() == 0)
			return;
		if ((f = cache_next(s->pos)) != NULL) {
			if (sub_push(s, f) != PDS_OK)
				return;
			turn_spent += f->len;
			continue;
		}
		if (!budget_left()) {
			s->starved = true;
			return;
		}
		memset(&rc, 0, sizeof(rc));
		rc.s = s;
		rc.prev = s->pos;
		r = store_events_scan(s->pos, head_seq, REPLAY_PAGE,
		    replay_row, &rc, &n);
		if (r < 0) {
			log_warnx("firehose: replay for %s: %s", s->remote,
			    pds_strerror(r));
			sub_close(s, WS_CLOSE_GOING_AWAY, NULL, NULL);
			return;
		}
		if (!rc.stopped && n < REPLAY_PAGE) {
			/* nothing else up to head_seq: from now on, live */
			s->pos = head_seq;
			s->state = SUB_LIVE;
			return;
		}
	}
}

int
firehose_prune(size_t *np)
{
	char	 cutoff[STORE_TS_LEN];
	size_t	 n, total = 0;
	int64_t	 last = 0;
	int	 rc;

	clock_ms_to_iso(clock_wall_ms() - opts.backfill_ms, cutoff);
	/* small batches, each its own short transaction */
	do {
		n = 0;
		rc = store_events_prune(cutoff, FIREHOSE_PRUNE_BATCH, &n,
		    &last);
		total += n;
		if (n > 0 && last > atomic_load(&prune_floor))
			atomic_store(&prune_floor, last);
	} while (rc == PDS_OK && n == FIREHOSE_PRUNE_BATCH);
	if (rc != PDS_OK)
		log_warnx("firehose: pruning the event log: %s",
		    pds_strerror(rc));
	if (total > 0) {
		atomic_fetch_add(&n_pruned, total);
		log_info("firehose: pruned %zu events older than %s", total,
		    cutoff);
	}
	if (np != NULL)
		*np = total;
	return rc;
}

static void
prune_job(void *arg)
{
	(void)firehose_prune(NULL);
}

/* ---- admission ---- */

/*
 * Take a slot for client: PDS_ERATELIMIT past its own cap, PDS_EBUSY
 * past the total (e says which).  Any thread.
 */
static int
adm_take(const char *client, struct pds_error *e)
{
	struct adm_slot	*a = NULL, *na;
	size_t		 i, ncap;
	int		 rc = PDS_OK;

	pthread_mutex_lock(&adm_mu);
	for (i = 0; i < adm_n; i++)
		if (strcmp(adm[i].client, client) == 0) {
			a = &adm[i];
			break;
		}
	if (a != NULL && a->n >= opts.max_subs_ip) {
		rc = pds_error_set(e, PDS_ERATELIMIT, NULL, "%zu firehose "
		    "subscriptions from this address already; no more",
		    a->n);
		goto out;
	}
	if (adm_total >= opts.max_subs) {
		rc = pds_error_set(e, PDS_EBUSY, NULL, "The firehose has "
		    "its %zu subscribers; try again later", adm_total);
		goto out;
	}
	if (a == NULL) {
		if (adm_n == adm_cap) {
			ncap = adm_cap > 0 ? adm_cap * 2 : 16;
			if ((na = reallocarray(adm, ncap, sizeof(*na))) ==
			    NULL) {
				rc = pds_error_set(e, PDS_ENOMEM, NULL, NULL);
				goto out;
			}
			adm = na;
			adm_cap = ncap;
		}
		a = &adm[adm_n++];
		snprintf(a->client, sizeof(a->client), "%s", client);
		a->n = 0;
	}
	a->n++;
	adm_total++;
out:
	pthread_mutex_unlock(&adm_mu);
	return rc;
}

/* Give back client's slot ("": none taken).  Any thread. */
static void
adm_release(const char *client)
{
	size_t	 i;

	if (client[0] == '\0')
		return;
	pthread_mutex_lock(&adm_mu);
	for (i = 0; i < adm_n; i++) {
		if (strcmp(adm[i].client, client) != 0)
			continue;
		if (--adm[i].n == 0)
			adm[i] = adm[--adm_n];
		adm_total--;
		break;
	}
	pthread_mutex_unlock(&adm_mu);
}

static void
newconn_free(void *arg)
{
	struct newconn	*nc = arg;

	if (nc == NULL)
		return;
	adm_release(nc->client);
	free(nc->extra);
	free(nc);
}

/* ---- new subscribers ---- */

/* Whether the peer closed (or reset) the connection already. */
static bool
conn_gone(int fd)
{
	struct pollfd	 p;

	memset(&p, 0, sizeof(p));
	p.fd = fd;
	p.events = POLLIN | POLLRDHUP;
	return poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* Make nc a subscriber; nc's admission slot goes to it.  nc stays. */
static void
start_sub(struct newconn *nc)
{
	struct epoll_event ev;
	struct sub	*s;
	struct buf	 b;
	char		 t[STORE_TS_LEN], cutoff[STORE_TS_LEN];
	int64_t		 first, since;
	bool		 outdated = false;

	/* no work at all for a client that left while it waited */
	if (conn_gone(nc->fd)) {
		log_info("firehose: %s went away before it was served",
		    nc->remote);
		http_upgraded_close(nc->uh);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->q = calloc(opts.max_buffer + 8, sizeof(*s->q))) == NULL ||
	    (s->in = ws_in_new(nc->fd, nc->extra, nc->extra_len)) == NULL) {
		if (s != NULL) {
			free(s->q);
			free(s);
		}
		http_upgraded_close(nc->uh);
		return;
	}
	s->qcap = opts.max_buffer + 8;
	s->fd = nc->fd;
	s->uh = nc->uh;
	s->cursor = nc->has_cursor ? nc->cursor : -1;
	s->sent_seq = -1;
	memcpy(s->remote, nc->remote, sizeof(s->remote));
	memcpy(s->client, nc->client, sizeof(s->client));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = s;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) == -1) {
		log_warn("firehose: epoll_ctl");
		ws_in_free(s->in);
		free(s->q);
		free(s);
		http_upgraded_close(nc->uh);
		return;
	}
	nc->client[0] = '\0';		/* the slot is s's now */
	LIST_INSERT_HEAD(&subs, s, link);
	atomic_fetch_add(&n_subs, 1);
	stats_set(c_subs, atomic_load(&n_subs));
	s->stats_id = stats_sub_add(s->remote, s->cursor);
	log_info("firehose: %s subscribed%s%" PRId64, s->remote,
	    nc->has_cursor ? " from cursor " : ", live at ",
	    nc->has_cursor ? nc->cursor : head_seq);

	if (!nc->has_cursor) {
		s->pos = head_seq;
		s->state = SUB_LIVE;
		return;
	}
	if (nc->cursor > head_seq) {
		sub_close(s, WS_CLOSE_POLICY, "FutureCursor",
		    "Cursor in the future.");
		return;
	}
	s->state = SUB_REPLAY;
	s->pos = nc->cursor;
	clock_ms_to_iso(clock_wall_ms() - opts.backfill_ms, cutoff);
	if (store_events_first_after(nc->cursor, &first, t) == PDS_OK &&
	    strcmp(t, cutoff) < 0) {
		outdated = true;
		if (store_events_first_since(nc->cursor, cutoff, &since) == PDS_OK)
			s->pos = since - 1;
		else
			s->pos = head_seq;
	} else if (nc->cursor < atomic_load(&prune_floor))
		outdated = true;
	if (outdated) {
		buf_init(&b, 256);
		if (events_frame_info(&b, "OutdatedCursor",
		    "Requested cursor exceeded limit. Possibly missing events")
		    == PDS_OK)
			(void)sub_push_new(s, frame_new(b.p, b.len, NULL, 0, 0,
			    false, WS_OP_BINARY));
		buf_clear(&b);
	}
}

static void
take_inbox(void)
{
	struct newconn	*nc, *next;

	pthread_mutex_lock(&inbox_mu);
	nc = inbox;
	inbox = NULL;
	pthread_mutex_unlock(&inbox_mu);
	/* oldest first: the list is newest first */
	{
		struct newconn *rev = NULL;

		while (nc != NULL) {
			next = nc->next;
			nc->next = rev;
			rev = nc;
			nc = next;
		}
		nc = rev;
	}
	for (; nc != NULL; nc = next) {
		next = nc->next;
		start_sub(nc);
		newconn_free(nc);
	}
}

/* ---- the loop ---- */

static void
sub_input(struct sub *s, uint32_t evs)
{
	struct ws_in_result r;
	uint8_t		 pong[WS_CONTROL_MAX];

	if (ws_in_pump(s->in, &r) != PDS_OK || r.closed) {
		if (r.proto_error && s->state != SUB_CLOSING)
			sub_close(s, WS_CLOSE_PROTOCOL, NULL, NULL);
		else if (r.close_frame && s->state != SUB_CLOSING)
			sub_close(s, WS_CLOSE_NORMAL, NULL, NULL);
		else
			s->deadline_ms = 0;	/* gone: destroy now */
		if (s->state != SUB_CLOSING)
			s->state = SUB_CLOSING;
		return;
	}
	if (r.ping && s->state != SUB_CLOSING) {
		memcpy(pong, r.ping_data, r.ping_len);
		(void)sub_push_new(s, frame_new(pong, r.ping_len, NULL, 0, 0,
		    false, WS_OP_PONG));
	}
}

static void
sweep_stats(void)
{
	struct sub	*s;

	LIST_FOREACH(s, &subs, link)
		stats_sub_update(s->stats_id, s->sent_seq, s->events,
		    s->bytes, (uint64_t)s->qbytes);
}

static void
drain_efd(void)
{
	uint64_t	 v;

	/* cleared first: a wake from now on leaves the flag set */
	atomic_store(&woken, false);
	while (read(efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

static void
close_all(void)
{
	struct sub	*s;

	LIST_FOREACH(s, &subs, link)
		if (s->state != SUB_CLOSING)
			sub_close(s, WS_CLOSE_GOING_AWAY, NULL, NULL);
	/* one try to get the close frames out; then they go */
	while ((s = LIST_FIRST(&subs)) != NULL) {
		(void)sub_flush(s);
		sub_destroy(s);
	}
}

/*
 * Write out s's queue (up to limit bytes, counted in the turn when s
 * replays), and destroy s if it is gone or its close is done.
 */
static void
sub_serve(struct sub *s, int64_t now, size_t limit)
{
	bool	 replay = s->state == SUB_REPLAY;

	if (s->qlen > 0 && (!s->pollout || s->writable)) {
		s->writable = false;
		if (sub_flush_upto(s, limit, replay ? &turn_spent : NULL) !=
		    PDS_OK) {
			sub_destroy(s);
			return;
		}
	}
	if (s->state == SUB_CLOSING && (now >= s->deadline_ms ||
	    (s->qlen == 0 && s->shut && s->deadline_ms == 0)))
		sub_destroy(s);
}

/*
 * The replays' share of a turn, after the live subscribers': each
 * replaying subscriber in turn, from where the last turn stopped, is
 * filled and written to until the turn's budget is spent.
 */
static void
replay_turn(int64_t now)
{
	struct sub	*s, *next;
	size_t		 k, n = atomic_load(&n_subs);

	turn_spent = 0;
	s = rr_next != NULL ? rr_next : LIST_FIRST(&subs);
	for (k = 0; s != NULL && k < n; k++, s = next) {
		next = LIST_NEXT(s, link);
		if (next == NULL)
			next = LIST_FIRST(&subs);
		if (next == s)
			next = NULL;	/* the only one */
		if (s->state != SUB_REPLAY)
			continue;
		if (turn_left() == 0)
			break;
		/* a replay its socket stopped taking: as too slow */
		if (s->qlen > 0 && now - s->since_ms > opts.stall_ms)
			sub_too_slow(s, "replay stalled", s->sent_seq);
		else
			replay_step(s);
		sub_serve(s, now, s->state == SUB_CLOSING ? SIZE_MAX :
		    turn_left());
	}
	turn_cut = turn_left() == 0;
	rr_next = s;
}

static void *
fh_main(void *arg)
{
	struct epoll_event evs[64];
	struct sub	*s, *next;
	int64_t		 now;
	long long	 pend;		/* pending_seq's type */
	int		 n, i, timeout;
	bool		 look;

	head_seq = 0;
	rr_next = NULL;
	turn_cut = false;
	if (store_events_head(&head_seq) != PDS_OK)
		log_warnx("firehose: cannot read the event log's head");
	atomic_store(&a_head, head_seq);
	stats_set(c_head, (uint64_t)head_seq);
	while (!atomic_load(&stopping)) {
		pend = atomic_load(&pending_seq);
		timeout = pend > head_seq ? FAST_POLL_MS : IDLE_POLL_MS;
		if (turn_cut)
			timeout = 0;	/* replay work left over */
		LIST_FOREACH(s, &subs, link) {
			if (s->state == SUB_CLOSING && timeout > 100)
				timeout = 100;
			/* a replay with room goes on at once */
			if (s->state != SUB_REPLAY || s->pollout ||
			    s->ndata > opts.max_buffer / 2 ||
			    s->qbytes > opts.max_bytes / 2)
				continue;
			if (!s->starved)
				timeout = 0;
			else if (timeout > STARVED_POLL_MS)
				timeout = STARVED_POLL_MS;
		}
		n = epoll_wait(epfd, evs, 64, timeout);
		look = n == 0;		/* the fallback poll */
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				drain_efd();
				look = true;
				continue;
			}
			s = evs[i].data.ptr;
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR))
				sub_input(s, evs[i].events);
			if (!(evs[i].events & EPOLLOUT) || !s->pollout)
				continue;
			/* a replay writes in its turn, after the live */
			if (s->state == SUB_REPLAY)
				s->writable = true;
			else if (sub_flush(s) != PDS_OK)
				s->deadline_ms = 0, s->state = SUB_CLOSING;
		}
		if (atomic_load(&stopping))
			break;
		now = clock_mono_ms();
		pend = atomic_load(&pending_seq);
		if (pend > head_seq) {
			if (pending_since_ms == 0)
				pending_since_ms = now;
			look = true;
		}
		if (look)
			load_new();
		if (pend <= head_seq || now - pending_since_ms >
		    FAST_POLL_FOR_MS) {
			/* seen, or rolled back: stop the fast polling */
			if (pend > head_seq)
				atomic_compare_exchange_strong(&pending_seq,
				    &pend, head_seq);
			pending_since_ms = 0;
		}
		take_inbox();
		/* the live first: what load_new() queued goes out now */
		for (s = LIST_FIRST(&subs); s != NULL; s = next) {
			next = LIST_NEXT(s, link);
			if (s->state != SUB_REPLAY)
				sub_serve(s, now, SIZE_MAX);
		}
		replay_turn(now);
		if (now >= next_stats_ms) {
			sweep_stats();
			next_stats_ms = now + 1000;
		}
	}
	close_all();
	free(cache);
	cache = NULL;
	cache_n = cache_cap = 0;
	store_thread_close();
	return NULL;
}

/* ---- the API other threads use ---- */

void
firehose_pending(int64_t seq)
{
	long long	 cur = atomic_load(&pending_seq);

	while (cur < seq && !atomic_compare_exchange_weak(&pending_seq, &cur,
	    seq))
		;
}

void
firehose_wake(void)
{
	uint64_t	 one = 1;

	atomic_store(&woken, true);
	if (efd != -1)
		(void)write(efd, &one, sizeof(one));
}

void
firehose_stats(struct firehose_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->subscribers = atomic_load(&n_subs);
	st->head_seq = atomic_load(&a_head);
	st->events = atomic_load(&n_events);
	st->frames_sent = atomic_load(&n_frames);
	st->bytes_sent = atomic_load(&n_bytes);
	st->too_slow = atomic_load(&n_slow);
	st->refused = atomic_load(&n_refused);
	st->pruned = atomic_load(&n_pruned);
	st->frames_live = atomic_load(&n_frames_live);
	st->bytes_live = atomic_load(&n_bytes_live);
}

int
firehose_start(const struct firehose_opts *o)
{
	struct epoll_event ev;

	if (running)
		return PDS_OK;
	opts = *o;
	if (opts.max_buffer == 0)
		opts.max_buffer = 500;
	if (opts.max_bytes == 0)
		opts.max_bytes = (size_t)4 << 20;
	if (opts.max_subs == 0)
		opts.max_subs = 512;
	if (opts.max_subs_ip == 0)
		opts.max_subs_ip = 16;
	if (opts.stall_ms <= 0)
		opts.stall_ms = FIREHOSE_STALL_MS;
	budget = opts.max_bytes * FIREHOSE_BUDGET_CAPS;
	if (opts.backfill_ms <= 0)
		opts.backfill_ms = 24LL * 3600 * 1000;
	if (opts.prune_every_ms <= 0) {
		opts.prune_every_ms = opts.backfill_ms / 24;
		if (opts.prune_every_ms > 3600 * 1000)
			opts.prune_every_ms = 3600 * 1000;
		if (opts.prune_every_ms < 1000)
			opts.prune_every_ms = 1000;
	}
	c_events = stats_counter("firehose.events", STATS_RATE);
	c_frames = stats_counter("firehose.frames", STATS_RATE);
	c_bytes = stats_counter("firehose.bytes", STATS_RATE);
	c_slow = stats_counter("firehose.too_slow", STATS_RATE);
	c_refused = stats_counter("firehose.refused", STATS_RATE);
	c_subs = stats_counter("firehose.subscribers", STATS_GAUGE);
	c_head = stats_counter("firehose.head_seq", STATS_GAUGE);
	if ((efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_warn("firehose: eventfd/epoll");
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev) == -1)
		goto fail;
	atomic_store(&stopping, false);
	pthread_mutex_lock(&inbox_mu);
	inbox_closed = false;
	pthread_mutex_unlock(&inbox_mu);
	if (pthread_create(&thr, NULL, fh_main, NULL) != 0)
		goto fail;
	running = true;
	http_set_stop_hook(firehose_stop);
	return PDS_OK;
fail:
	if (efd != -1)
		close(efd);
	if (epfd != -1)
		close(epfd);
	efd = epfd = -1;
	return PDS_EIO;
}

void
firehose_stop(void)
{
	struct newconn	*nc, *next;

	if (!running)
		return;
	pthread_mutex_lock(&inbox_mu);
	inbox_closed = true;
	nc = inbox;
	inbox = NULL;
	pthread_mutex_unlock(&inbox_mu);
	atomic_store(&stopping, true);
	firehose_wake();
	pthread_join(thr, NULL);
	running = false;
	for (; nc != NULL; nc = next) {
		next = nc->next;
		http_upgraded_close(nc->uh);
		newconn_free(nc);
	}
	close(efd);
	close(epfd);
	efd = epfd = -1;
}

/* ---- taking subscribers over from the HTTP layer ---- */

static void
on_upgraded(void *arg, int fd, const uint8_t *extra, size_t extra_len,
    struct http_upgraded *uh)
{
	struct newconn	*nc = arg;
	bool		 closed;

	nc->fd = fd;
	nc->uh = uh;
	if (extra_len > 0 && (nc->extra = malloc(extra_len)) != NULL) {
		memcpy(nc->extra, extra, extra_len);
		nc->extra_len = extra_len;
	}
	pthread_mutex_lock(&inbox_mu);
	closed = inbox_closed;
	if (!closed) {
		nc->next = inbox;
		inbox = nc;
	}
	pthread_mutex_unlock(&inbox_mu);
	if (closed) {
		http_upgraded_close(uh);
		newconn_free(nc);
		return;
	}
	firehose_wake();
}

bool
firehose_running(void)
{
	return running;
}

int
firehose_subscribe(struct http_req *req, const int64_t *cursor,
    struct pds_error *e)
{
	struct newconn	*nc;
	char		 accept[WS_ACCEPT_LEN + 1];
	const char	*client = http_req_client(req);
	int		 rc;

	if ((nc = calloc(1, sizeof(*nc))) == NULL)
		return pds_error_set(e, PDS_ENOMEM, NULL, NULL);
	nc->fd = -1;
	if (cursor != NULL) {
		nc->cursor = *cursor;
		nc->has_cursor = true;
	}
	snprintf(nc->remote, sizeof(nc->remote), "%s", http_req_remote(req));
	if ((rc = adm_take(client != NULL ? client : nc->remote, e)) !=
	    PDS_OK) {
		free(nc);
		if (rc != PDS_ENOMEM) {
			atomic_fetch_add(&n_refused, 1);
			stats_add(c_refused, 1);
			log_info("firehose: %s refused: %s", client != NULL ?
			    client : "?", e != NULL ? e->msg : "");
		}
		return rc;
	}
	snprintf(nc->client, sizeof(nc->client), "%s", client != NULL ?
	    client : nc->remote);
	if (ws_accept_key(http_req_header(req, "Sec-WebSocket-Key"),
	    accept) != PDS_OK ||
	    http_reply_header(req, "Upgrade", "websocket") != PDS_OK ||
	    http_reply_header(req, "Sec-WebSocket-Accept", accept) != PDS_OK) {
		newconn_free(nc);
		return pds_error_set(e, PDS_ENOMEM, NULL, NULL);
	}
	http_reply_upgrade(req, on_upgraded, nc, newconn_free);
	return PDS_OK;
}

/* ---- the module ---- */

static int
fh_init(const struct config *cfg)
{
	struct firehose_opts o;
	int		 rc;

	memset(&o, 0, sizeof(o));
	o.max_buffer = cfg->max_subscription_buffer > 0 ?
	    (size_t)cfg->max_subscription_buffer : 500;
	o.max_bytes = (size_t)cfg->firehose_max_subscriber_bytes;
	o.max_subs = (size_t)cfg->firehose_max_subscribers;
	o.max_subs_ip = (size_t)cfg->firehose_max_subscribers_per_ip;
	o.backfill_ms = cfg->repo_backfill_limit_ms;
	if ((rc = firehose_start(&o)) != PDS_OK)
		return rc;
	if ((rc = jobs_add("event-log pruning", (uint64_t)opts.prune_every_ms,
	    prune_job, NULL)) != PDS_OK) {
		firehose_stop();
		return rc;
	}
	if ((rc = crawlers_start(cfg)) != PDS_OK) {
		firehose_stop();
		return rc;
	}
	return 0;
}

static void
fh_fini(void)
{
	crawlers_stop();
	firehose_stop();
}

PDSD_MODULE(firehose, fh_init, fh_fini)
