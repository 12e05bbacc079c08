/*
 * firehose: subscribeRepos over WebSocket, served by one epoll thread.
 * See firehose.h.
 *
 * Everything about subscribers (their queues, sockets, state) is touched
 * by the firehose thread only, so none of it is locked; other threads
 * talk to it through the inbox (new connections, under inbox_mu), two
 * atomics and an eventfd.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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

struct frame {
	uint32_t	 refs;
	bool		 data;		/* an event (counts against the cap) */
	int64_t		 seq;
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
	size_t			 off;		/* sent of q[qhead] */
	bool			 pollout;
	bool			 shut;		/* SHUT_WR done */
	int64_t			 deadline_ms;	/* SUB_CLOSING */
	int64_t			 cursor;	/* asked for, -1: none */
	int64_t			 sent_seq;
	uint64_t		 events, bytes;
	uint64_t		 stats_id;
	char			 remote[REMOTE_MAX];
	struct sub		*prev, *next;
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
	struct newconn		*next;
};

static struct firehose_opts opts;
static pthread_t	 thr;
static bool		 running;
static int		 efd = -1, epfd = -1;
static atomic_bool	 stopping;
static atomic_llong	 pending_seq;

static pthread_mutex_t	 inbox_mu = PTHREAD_MUTEX_INITIALIZER;
static struct newconn	*inbox;
static bool		 inbox_closed;

/* thread state */
static struct sub	*subs;
static int64_t		 head_seq;	/* last seq fanned out */
static atomic_llong	 prune_floor;	/* highest seq pruned */
static int64_t		 pending_since_ms;
static int64_t		 next_stats_ms;

/* counters (read by firehose_stats() from any thread) */
static atomic_ullong	 n_subs, n_events, n_frames, n_bytes, n_slow;
static atomic_ullong	 n_pruned, n_frames_live, n_bytes_live;
static atomic_llong	 a_head;
static struct stats_counter *c_events, *c_frames, *c_bytes, *c_slow;
static struct stats_counter *c_subs, *c_head;

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
	f->seq = seq;
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

static void
frame_unref(struct frame *f)
{
	if (f == NULL || --f->refs > 0)
		return;
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
	s->q[(s->qhead + s->qlen) % s->qcap] = f;
	s->qlen++;
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
	while (s->qlen > 0) {
		frame_unref(s->q[s->qhead]);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
	}
	epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		subs = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	stats_sub_remove(s->stats_id);
	ws_in_free(s->in);
	http_upgraded_close(s->uh);
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
 * Write what the socket takes.  Returns PDS_OK, or PDS_EIO when the
 * connection is gone (the caller destroys it).
 */
static int
sub_flush(struct sub *s)
{
	struct iovec	 iov[IOV_MAX_USE];
	ssize_t		 n;
	size_t		 i, cnt, left;
	struct frame	*f;

	while (s->qlen > 0) {
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
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return s->pollout ? PDS_OK : sub_epoll(s, true);
			return PDS_EIO;
		}
		s->bytes += (uint64_t)n;
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
	if (s->pollout && sub_epoll(s, false) != PDS_OK)
		return PDS_EIO;
	if (s->state == SUB_CLOSING && !s->shut) {
		/* the close frame is out: no more from us */
		shutdown(s->fd, SHUT_WR);
		s->shut = true;
	}
	return PDS_OK;
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

	lc->last = row->seq;
	lc->n++;
	if ((f = frame_event(row->type, row->seq, row->body, row->len)) ==
	    NULL)
		return PDS_ENOMEM;
	for (s = subs; s != NULL; s = next) {
		next = s->next;
		if (s->state != SUB_LIVE)
			continue;
		if (s->ndata >= opts.max_buffer) {
			atomic_fetch_add(&n_slow, 1);
			stats_add(c_slow, 1);
			log_info("firehose: %s too slow at seq %" PRId64
			    ", dropped", s->remote, row->seq);
			sub_close(s, WS_CLOSE_POLICY, "ConsumerTooSlow",
			    "Stream consumer too slow");
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

	if (subs == NULL) {
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

static int
replay_row(void *arg, const struct store_event_row *row)
{
	struct sub	*s = arg;
	struct frame	*f;
	int		 rc;

	if ((f = frame_event(row->type, row->seq, row->body, row->len)) ==
	    NULL)
		return PDS_ENOMEM;
	rc = sub_push(s, f);
	frame_unref(f);
	return rc;
}

/* One page of a replaying subscriber's history, if it has room. */
static void
replay_step(struct sub *s)
{
	size_t	 room, n;
	int	 rc;

	if (s->ndata > opts.max_buffer / 2)
		return;
	room = opts.max_buffer - s->ndata;
	if (room > REPLAY_PAGE)
		room = REPLAY_PAGE;
	if (s->pos >= head_seq) {
		s->state = SUB_LIVE;
		return;
	}
	rc = store_events_scan(s->pos, head_seq, room, replay_row, s, &n);
	if (rc != PDS_OK) {
		log_warnx("firehose: replay for %s: %s", s->remote,
		    pds_strerror(rc));
		sub_close(s, WS_CLOSE_GOING_AWAY, NULL, NULL);
		return;
	}
	if (n < room) {
		/* nothing else up to head_seq: from now on, live */
		s->pos = head_seq;
		s->state = SUB_LIVE;
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

/* ---- new subscribers ---- */

static void
start_sub(struct newconn *nc)
{
	struct epoll_event ev;
	struct sub	*s;
	struct buf	 b;
	char		 t[STORE_TS_LEN], cutoff[STORE_TS_LEN];
	int64_t		 first, since;
	bool		 outdated = false;

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
	s->next = subs;
	if (subs != NULL)
		subs->prev = s;
	subs = s;
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
		free(nc->extra);
		free(nc);
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

	for (s = subs; s != NULL; s = s->next)
		stats_sub_update(s->stats_id, s->sent_seq, s->events,
		    s->bytes, (uint64_t)s->ndata);
}

static void
drain_efd(void)
{
	uint64_t	 v;

	while (read(efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

static void
close_all(void)
{
	struct sub	*s;

	for (s = subs; s != NULL; s = s->next)
		if (s->state != SUB_CLOSING)
			sub_close(s, WS_CLOSE_GOING_AWAY, NULL, NULL);
	/* one try to get the close frames out; then they go */
	while ((s = subs) != NULL) {
		(void)sub_flush(s);
		sub_destroy(s);
	}
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
	if (store_events_head(&head_seq) != PDS_OK)
		log_warnx("firehose: cannot read the event log's head");
	atomic_store(&a_head, head_seq);
	stats_set(c_head, (uint64_t)head_seq);
	while (!atomic_load(&stopping)) {
		pend = atomic_load(&pending_seq);
		timeout = pend > head_seq ? FAST_POLL_MS : IDLE_POLL_MS;
		for (s = subs; s != NULL; s = s->next) {
			if (s->state == SUB_CLOSING && timeout > 100)
				timeout = 100;
			/* a replay with room goes on at once */
			if (s->state == SUB_REPLAY && !s->pollout &&
			    s->ndata <= opts.max_buffer / 2)
				timeout = 0;
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
			if ((evs[i].events & EPOLLOUT) && s->pollout &&
			    sub_flush(s) != PDS_OK)
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
		for (s = subs; s != NULL; s = next) {
			next = s->next;
			if (s->state == SUB_REPLAY)
				replay_step(s);
			if (s->qlen > 0 && !s->pollout &&
			    sub_flush(s) != PDS_OK) {
				sub_destroy(s);
				continue;
			}
			if (s->state == SUB_CLOSING && (now >= s->deadline_ms ||
			    (s->qlen == 0 && s->shut && s->deadline_ms == 0)))
				sub_destroy(s);
		}
		if (now >= next_stats_ms) {
			sweep_stats();
			next_stats_ms = now + 1000;
		}
	}
	close_all();
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
		free(nc->extra);
		free(nc);
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
		free(nc->extra);
		free(nc);
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
firehose_subscribe(struct http_req *req, const int64_t *cursor)
{
	struct newconn	*nc;
	char		 accept[WS_ACCEPT_LEN + 1];

	if ((nc = calloc(1, sizeof(*nc))) == NULL)
		return PDS_ENOMEM;
	nc->fd = -1;
	if (cursor != NULL) {
		nc->cursor = *cursor;
		nc->has_cursor = true;
	}
	snprintf(nc->remote, sizeof(nc->remote), "%s", http_req_remote(req));
	if (ws_accept_key(http_req_header(req, "Sec-WebSocket-Key"),
	    accept) != PDS_OK ||
	    http_reply_header(req, "Upgrade", "websocket") != PDS_OK ||
	    http_reply_header(req, "Sec-WebSocket-Accept", accept) != PDS_OK) {
		free(nc);
		return PDS_ENOMEM;
	}
	http_reply_upgrade(req, on_upgraded, nc, free);
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
