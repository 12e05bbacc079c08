/*
 * api_sync: the com.atproto.sync.* handlers that read repositories and
 * blobs (reference-pds §1.3; subscribeRepos lives with the firehose).
 *
 * getRepo streams: a producer thread reads the repo inside one read
 * snapshot of its own SQLite connection (its blocks gathered in one
 * scan when they fit in a shared budget, else one lookup per block),
 * walks it and pushes CAR bytes into a bounded ring; the HTTP worker
 * pulls from it, and suspends the connection rather than wait when the
 * ring is empty.  At most PRODUCERS_MAX producers run, so memory stays
 * at their rings, the scan budget and one MST node per tree level each,
 * whatever the repos' sizes and the number of downloads.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "api_blob_read.h"
#include "blobs.h"
#include "car.h"
#include "clock.h"
#include "dmjson.h"
#include "err.h"
#include "firehose.h"
#include "http.h"
#include "jsonw.h"
#include "log.h"
#include "module.h"
#include "repo.h"
#include "stats.h"
#include "store_repo.h"
#include "syntax.h"
#include "ws.h"

#define RING_SIZE		((size_t)256 * 1024)
#define STAGE_SIZE		((size_t)32 * 1024)
#define BLOB_INMEM_MAX		((int64_t)16 << 20)
#define LIST_DEFAULT		500
#define LIST_MAX		1000
#define GET_BLOCKS_MAX		10000
#define CAR_MIME		"application/vnd.ipld.car"

/* ---- access ---- */

/* did's repo, or RepoNotFound when it has none or it is deleted. */
static int
find_repo(struct xrpc_ctx *ctx, const char *did, struct store_repo_acct *a)
{
	int	 rc = store_repo_acct_find(did, a);

	if (rc == PDS_ENOTFOUND || (rc == PDS_OK &&
	    a->status == ACCT_DELETED))
		return xrpc_fail(ctx, PDS_EINVAL, "RepoNotFound",
		    "Could not find repo for DID: %.256s", did);
	return rc == PDS_OK ? 0 : PDS_EINTERNAL;
}

/*
 * ?since= into *since: a TID, or NULL when absent or empty; an
 * InvalidRequest otherwise.
 */
static int
query_since(struct xrpc_ctx *ctx, const char **since)
{
	*since = http_req_query(ctx->req, "since");
	if (*since != NULL && **since == '\0')
		*since = NULL;
	if (*since != NULL && !syntax_is_tid(*since, strlen(*since)))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "since must be a TID");
	return 0;
}

/*
 * The repo named by ?did=, readable by this caller: RepoNotFound,
 * RepoTakendown and RepoDeactivated, except that the owner and an
 * admin may read a taken-down or deactivated repo.
 */
static int
sync_repo(struct xrpc_ctx *ctx, struct store_repo_acct *a)
{
	const char	*did;
	bool		 privileged;
	int		 rc;

	if ((rc = api_query_check(ctx, "did", true, syntax_is_did,
	    "a valid did", &did)) != 0 ||
	    (rc = find_repo(ctx, did, a)) != 0)
		return rc;
	privileged = ctx->auth.cred == XRPC_CRED_ADMIN ||
	    (ctx->auth.cred != XRPC_CRED_NONE &&
	    strcmp(ctx->auth.did, a->did) == 0);
	if (privileged || a->status == ACCT_ACTIVE)
		return 0;
	return api_repo_unavailable(ctx, a);
}

/* did's head commit, or `missing' (an error name) when it has none. */
static int
root_of(struct xrpc_ctx *ctx, const char *did, struct cid *commit,
    char rev[TID_LEN + 1], const char *missing)
{
	int	 rc = store_repo_root_get(did, commit, rev);

	if (rc == PDS_ENOTFOUND)
		return xrpc_fail(ctx, PDS_EINVAL, missing,
		    "Could not find root for DID: %s", did);
	return rc == PDS_OK ? 0 : PDS_EINTERNAL;
}

/* A repo this caller may read (sync_repo()) and its head commit. */
struct sync_head {
	struct store_repo_acct	 a;
	struct cid		 commit;
	char			 rev[TID_LEN + 1];
};

/* sync_repo() and root_of() into h. */
static int
sync_head(struct xrpc_ctx *ctx, struct sync_head *h, const char *missing)
{
	int	 rc;

	if ((rc = sync_repo(ctx, &h->a)) != 0)
		return rc;
	return root_of(ctx, h->a.did, &h->commit, h->rev, missing);
}

static int
buf_write(void *arg, const uint8_t *p, size_t n)
{
	return buf_append(arg, p, n);
}

static void
reply_car(struct xrpc_ctx *ctx, struct buf *b)
{
	size_t	 len;
	uint8_t	*p = buf_detach(b, &len);

	if (p == NULL) {
		http_reply_bytes(ctx->req, 200, CAR_MIME, "", 0);
		return;
	}
	http_reply_owned(ctx->req, 200, CAR_MIME, p, len);
}

/* ---- getRepo: the streaming producer ---- */

struct pipe {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	uint8_t		*ring;
	size_t		 head, len;	/* read position, bytes held */
	bool		 done;		/* producer finished */
	bool		 failed;	/* ... with an error */
	bool		 abandoned;	/* the client went away */
	bool		 waiting;	/* the reader is suspended for bytes */
	struct http_stream *hs;		/* its handle, to wake it */
	int		 refs;
	char		 did[DID_MAX + 1];
	char		 since[TID_LEN + 1];	/* "" for the whole repo */
	/*
	 * The producer's own staging area: CAR pieces (varints, CIDs,
	 * blocks of a few hundred bytes) gather here and go into the ring
	 * 32 KiB at a time, so the lock and the wake-up are paid per
	 * chunk rather than per piece.
	 */
	uint8_t		 stage[STAGE_SIZE];
	size_t		 slen;
	struct pipe	*next;		/* in the producers' queue */
};

/*
 * Producer threads outlive their request: an idle one takes the next
 * getRepo, so its SQLite connection, prepared statements and page cache
 * stay warm, and a thread is created only when none is idle, up to
 * PRODUCERS_MAX; past that, jobs wait in the queue.  Waiting is safe
 * because no HTTP worker ever blocks on a pipe: a reader with no bytes
 * suspends its connection (HTTP_STREAM_WAIT) and the producer wakes it,
 * so the clients that running producers wait for are always served.  A
 * thread idle for PRODUCER_IDLE_S exits and closes its connection.
 */
#define PRODUCER_IDLE_S		5
#define PRODUCERS_MAX		4

static pthread_mutex_t	 prod_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 prod_cv = PTHREAD_COND_INITIALIZER;
static struct pipe	*prod_head, **prod_tail = &prod_head;
static unsigned		 prod_idle;	/* threads waiting for a job */
static unsigned		 prod_queued;	/* jobs not yet taken */
static unsigned		 prod_threads;	/* running producers */
static bool		 prod_stop;	/* the daemon is stopping */
static pthread_cond_t	 prod_gone = PTHREAD_COND_INITIALIZER;

static void
pipe_unref(struct pipe *p)
{
	bool	 last;

	pthread_mutex_lock(&p->mu);
	last = --p->refs == 0;
	pthread_mutex_unlock(&p->mu);
	if (!last)
		return;
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->ring);
	free(p);
}

/*
 * The reader waits for bytes or the end: wake it (p->mu held) once a
 * quarter of the ring is full or the producer is done, so that each
 * wake-up moves a good share of the ring.
 */
static void
pipe_wake(struct pipe *p)
{
	if (p->waiting && !p->abandoned && p->hs != NULL &&
	    (p->done || p->len >= RING_SIZE / 4)) {
		p->waiting = false;
		http_stream_wake(p->hs);
	}
}

/* car_write_fn: blocks while the ring is full. */
static int
pipe_write(void *arg, const uint8_t *d, size_t n)
{
	struct pipe	*p = arg;
	size_t		 tail, k;

	pthread_mutex_lock(&p->mu);
	while (n > 0) {
		while (p->len == RING_SIZE && !p->abandoned)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->abandoned) {
			pthread_mutex_unlock(&p->mu);
			return PDS_EIO;
		}
		tail = (p->head + p->len) % RING_SIZE;
		k = RING_SIZE - p->len;
		if (k > RING_SIZE - tail)
			k = RING_SIZE - tail;
		if (k > n)
			k = n;
		memcpy(p->ring + tail, d, k);
		p->len += k;
		d += k;
		n -= k;
		pipe_wake(p);
	}
	pthread_mutex_unlock(&p->mu);
	return PDS_OK;
}

/* car_write_fn: stage small pieces; the ring sees whole chunks. */
static int
pipe_put(void *arg, const uint8_t *d, size_t n)
{
	struct pipe	*p = arg;
	int		 rc;

	if (p->slen + n <= STAGE_SIZE) {
		memcpy(p->stage + p->slen, d, n);
		p->slen += n;
		return PDS_OK;
	}
	if (p->slen > 0) {
		if ((rc = pipe_write(p, p->stage, p->slen)) != PDS_OK)
			return rc;
		p->slen = 0;
	}
	if (n >= STAGE_SIZE)
		return pipe_write(p, d, n);
	memcpy(p->stage, d, n);
	p->slen = n;
	return PDS_OK;
}

static int
pipe_flush(struct pipe *p)
{
	int	 rc = PDS_OK;

	if (p->slen > 0)
		rc = pipe_write(p, p->stage, p->slen);
	p->slen = 0;
	return rc;
}

struct since_ctx {
	struct pipe	*p;
	const char	*skip;		/* the commit, already written */
};

static int
since_block(void *arg, const char *cs, const uint8_t *d, size_t len)
{
	struct since_ctx *sc = arg;
	struct cid	 c;

	if (strcmp(cs, sc->skip) == 0)
		return 0;
	if (cid_parse(&c, cs, strlen(cs), NULL) != PDS_OK)
		return PDS_EINVAL;
	return car_emit_block(pipe_put, sc->p, &c, d, len);
}

/*
 * One scan gathers the repo's tree (its nodes and commits) in memory,
 * so that the walk that writes the CAR (in the MST's order, which the
 * scan cannot give) needs no lookup per node; the records come from
 * their own scan, in that order (export_src, below).  The blocks go
 * back to back into one arena,
 *	u32 data length | u8 CID length | CID bytes | data
 * and an open-addressing table maps a CID to its block's offset there:
 * a lookup touches one slot and the block itself.  Arena and table share
 * one mapping of SCAN_BUDGET bytes (address space: only what is written
 * is memory), in huge pages where the kernel has them, so that a scan
 * does not take a page fault for every 4 KiB it gathers.
 *
 * All getRepo producers share SCAN_BUDGET bytes.  A scan reserves
 * SCAN_SHARE of it, or, when none is free, takes what is left; a repo
 * that does not fit there waits up to SCAN_WAIT_MS for a share, or for
 * the whole budget when a share was not enough (on one core, waiting
 * for the CPU another download is using costs nothing, where the
 * lookups cost three times the CPU), and is scanned again.  A repo that
 * outgrows its share takes more when it is free.  One that cannot have
 * enough is walked with one lookup per block, as before: the CAR is the
 * same either way.
 */
#define SCAN_BUDGET		((size_t)16 << 20)
#define SCAN_SHARE		(SCAN_BUDGET / 2)
#define SCAN_WAIT_MS		1000
#define SCAN_HDR		5
#define SCAN_ARENA_MIN		((size_t)256 << 10)	/* charged at a time */
#define SCAN_ALIGN		((size_t)2 << 20)	/* a huge page */
#define SCAN_TAB_MIN		((size_t)64)

/* whole-repo getRepos walked from a scan, and from lookups */
static struct stats_counter *c_scans, *c_lookups;

static pthread_mutex_t	 scan_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 scan_cv = PTHREAD_COND_INITIALIZER;
static size_t		 scan_used;	/* reserved by all scans */
static unsigned		 scan_big;	/* scans waiting for all of it */

struct scan_slot {
	uint32_t	 hash;
	uint32_t	 off;		/* arena offset + 1; 0 = empty */
};

struct scan {
	void		*map;		/* SCAN_BUDGET + SCAN_ALIGN bytes */
	uint8_t		*arena;		/* in map, aligned to SCAN_ALIGN */
	size_t		 len, cap;
	struct scan_slot *tab;
	size_t		 tabsize, n;	/* power of two; blocks held */
	size_t		 reserved;	/* of SCAN_BUDGET */
	size_t		 charged;	/* what arena and tab take of it */
};

/*
 * Reserve n more bytes of the budget, waiting until `until' (if set).
 * While a scan waits for the whole budget, a new scan (start: one that
 * holds none yet) takes none of it: the big one would otherwise wait
 * behind new ones until its time is up.
 */
static bool
scan_reserve(struct scan *sc, size_t n, bool start,
    const struct timespec *until)
{
	bool	 ok, big = n == SCAN_BUDGET;

	pthread_mutex_lock(&scan_mu);
	if (big)
		scan_big++;
	while (!(ok = scan_used + n <= SCAN_BUDGET &&
	    !(start && !big && scan_big > 0)) && until != NULL &&
	    pthread_cond_timedwait(&scan_cv, &scan_mu, until) == 0)
		;
	if (ok) {
		scan_used += n;
		sc->reserved += n;
	}
	if (big && --scan_big == 0)
		pthread_cond_broadcast(&scan_cv);
	pthread_mutex_unlock(&scan_mu);
	return ok;
}

static void
scan_release(struct scan *sc)
{
	if (sc->map != NULL)
		(void)munmap(sc->map, SCAN_BUDGET + SCAN_ALIGN);
	if (sc->reserved > 0) {
		pthread_mutex_lock(&scan_mu);
		scan_used -= sc->reserved;
		pthread_cond_broadcast(&scan_cv);
		pthread_mutex_unlock(&scan_mu);
	}
	memset(sc, 0, sizeof(*sc));
}

/* Charge n more bytes: within the reservation, else more of the budget. */
static bool
scan_charge(struct scan *sc, size_t n)
{
	size_t	 more;

	if (sc->charged + n > sc->reserved) {
		more = sc->charged + n - sc->reserved;
		if (more < SCAN_ARENA_MIN)
			more = SCAN_ARENA_MIN;
		/* one that started with nothing is new: it queues too */
		if (!scan_reserve(sc, more, sc->reserved == 0, NULL))
			return false;
	}
	sc->charged += n;
	return true;
}

/* sha2-256 digests are uniform already; anything else gets FNV-1a. */
static uint64_t
scan_hash(const uint8_t *b, size_t len)
{
	uint64_t	 h = 1469598103934665603ULL;
	size_t		 i;

	if (len == 36 && b[2] == MH_SHA2_256 && b[3] == 32) {
		memcpy(&h, b + 28, sizeof(h));
		return h ^ b[1];
	}
	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* The slot of the block with CID (b, len), or of the empty one for it. */
static struct scan_slot *
scan_find(const struct scan *sc, const uint8_t *b, size_t len, uint64_t h)
{
	size_t		 mask = sc->tabsize - 1, i;
	uint32_t	 h32 = (uint32_t)(h >> 32);
	const uint8_t	*r;

	for (i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct scan_slot *s = &sc->tab[i];
		if (s->off == 0)
			return s;
		r = sc->arena + s->off - 1;
		if (s->hash == h32 && r[4] == len &&
		    memcmp(r + SCAN_HDR, b, len) == 0)
			return s;
	}
}

/*
 * The table, once every block is in the arena (the table's primary key
 * makes each CID come once): the slot of block i + PREFETCH is fetched
 * while block i is entered, so the cache misses overlap.
 */
#define SCAN_PREFETCH		8

static int
scan_index(struct scan *sc)
{
	uint64_t	 hs[SCAN_PREFETCH];
	uint32_t	 offs[SCAN_PREFETCH];
	size_t		 mask, off = 0, i, k;
	const uint8_t	*r;
	uint32_t	 n;

	sc->tabsize = SCAN_TAB_MIN;
	while (sc->tabsize < sc->n * 2)
		sc->tabsize *= 2;
	if (!scan_charge(sc, sc->tabsize * sizeof(*sc->tab)))
		return 1;
	/* past the blocks, in the mapping's zeroed pages */
	off = (sc->len + 63) & ~(size_t)63;
	if (off + sc->tabsize * sizeof(*sc->tab) > sc->cap)
		return 1;
	sc->tab = (struct scan_slot *)(void *)(sc->arena + off);
	off = 0;
	mask = sc->tabsize - 1;
	for (i = 0; i < sc->n + SCAN_PREFETCH; i++) {
		k = i % SCAN_PREFETCH;
		if (i >= SCAN_PREFETCH) {
			struct scan_slot *s;
			size_t j = (size_t)hs[k] & mask;

			while (sc->tab[j].off != 0)
				j = (j + 1) & mask;
			s = &sc->tab[j];
			s->hash = (uint32_t)(hs[k] >> 32);
			s->off = offs[k] + 1;
		}
		if (i < sc->n) {
			r = sc->arena + off;
			hs[k] = scan_hash(r + SCAN_HDR, r[4]);
			offs[k] = (uint32_t)off;
			__builtin_prefetch(&sc->tab[(size_t)hs[k] & mask], 1);
			memcpy(&n, r, 4);
			off += SCAN_HDR + r[4] + n;
		}
	}
	return PDS_OK;
}

static int
scan_block(void *arg, const char *cs, const uint8_t *d, size_t len)
{
	struct scan	*sc = arg;
	struct cid	 c;
	size_t		 need;
	uint32_t	 n32;
	uint8_t		*r;

	if (cid_parse(&c, cs, strlen(cs), NULL) != PDS_OK)
		return PDS_EINVAL;
	need = SCAN_HDR + c.len + len;
	if (len > UINT32_MAX || sc->len + need >= UINT32_MAX ||
	    sc->n >= UINT32_MAX / 4)
		return 1;
	/* what is written is what the process holds: charge that */
	if (sc->len + need > sc->cap || !scan_charge(sc, need))
		return 1;
	r = sc->arena + sc->len;
	n32 = (uint32_t)len;
	memcpy(r, &n32, 4);
	r[4] = c.len;
	memcpy(r + SCAN_HDR, c.b, c.len);
	if (len > 0)
		memcpy(r + SCAN_HDR + c.len, d, len);
	sc->len += need;
	sc->n++;
	return 0;
}

/* blockstore get over a scan. */
static int
scan_get(void *ctx, const struct cid *c, const uint8_t **data, size_t *len)
{
	const struct scan *sc = ctx;
	const struct scan_slot *s;
	const uint8_t	*r;
	uint32_t	 n;

	if (sc->tabsize == 0)
		return PDS_ENOTFOUND;
	s = scan_find(sc, c->b, c->len, scan_hash(c->b, c->len));
	if (s->off == 0)
		return PDS_ENOTFOUND;
	r = sc->arena + s->off - 1;
	memcpy(&n, r, 4);
	*data = r + SCAN_HDR + r[4];
	*len = n;
	return PDS_OK;
}

/*
 * repo_export_hinted()'s prefetch: stage 0 fetches the block's slot,
 * stage 1 (the slot in the cache by then, or on its way) its bytes.
 */
static void
scan_prefetch(void *ctx, const struct cid *c, int stage)
{
	const struct scan *sc = ctx;
	uint64_t	 h = scan_hash(c->b, c->len);
	size_t		 mask = sc->tabsize - 1, i = (size_t)h & mask;
	uint32_t	 h32 = (uint32_t)(h >> 32);

	if (sc->tabsize == 0)
		return;
	if (stage == 0) {
		__builtin_prefetch(&sc->tab[i]);
		return;
	}
	for (; sc->tab[i].off != 0; i = (i + 1) & mask)
		if (sc->tab[i].hash == h32) {
			__builtin_prefetch(sc->arena + sc->tab[i].off - 1);
			return;
		}
}

/* One scan of did's blocks into sc, within what sc may charge. */
static int
scan_once(struct scan *sc, const char *did)
{
	int	 rc;

	sc->map = mmap(NULL, SCAN_BUDGET + SCAN_ALIGN, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sc->map == MAP_FAILED) {
		sc->map = NULL;
		return PDS_ENOMEM;
	}
	sc->arena = (uint8_t *)(((uintptr_t)sc->map + SCAN_ALIGN - 1) &
	    ~(uintptr_t)(SCAN_ALIGN - 1));
	sc->cap = SCAN_BUDGET;
#ifdef MADV_HUGEPAGE
	(void)madvise(sc->arena, SCAN_BUDGET, MADV_HUGEPAGE);
#endif
	if ((rc = store_nodes_all(did, scan_block, sc)) == PDS_OK)
		rc = scan_index(sc);
	return rc;
}

/*
 * did's tree into sc: PDS_OK, or not (sc released: look up).  A scan
 * takes a share of the budget, or what is left when no share is free,
 * and charges more as it needs it while the budget has more.  One that
 * did not fit scans again once a share is free, or the whole budget if
 * a share was not enough, until SCAN_WAIT_MS have passed.  (Two repos
 * past their shares that each waited for a share would take both and
 * fall back to their lookups together: when the records were gathered
 * too, a 42,000-record repo at c=32 went at 11 CARs a second, 100 ms of
 * CPU each.  The tree alone is about a quarter of the bytes: 1.5 MB
 * for 20,000 records.)
 */
static int
scan_repo(struct scan *sc, const char *did)
{
	struct timespec	 until;
	size_t		 want;
	int		 rc;

	memset(sc, 0, sizeof(*sc));
	(void)scan_reserve(sc, SCAN_SHARE, true, NULL);
	clock_deadline(&until, SCAN_WAIT_MS);
	for (;;) {
		if ((rc = scan_once(sc, did)) == PDS_OK)
			return PDS_OK;
		want = sc->reserved >= SCAN_SHARE ? SCAN_BUDGET : SCAN_SHARE;
		if (sc->reserved >= SCAN_BUDGET)	/* it cannot fit */
			rc = rc == 1 ? PDS_ENOMEM : rc;
		scan_release(sc);
		if (rc != 1)
			return rc;
		if (!scan_reserve(sc, want, true, &until))
			return PDS_ENOMEM;
	}
}

/*
 * The blocks a whole-repo export reads: the tree's from the scan (or
 * looked up, when it could not have one), the records' from one ordered
 * scan of their rows beside the walk, which asks for them in the same
 * order; one the stream does not have where the walk is (see
 * store_recstream_get()) is looked up.
 */
struct export_src {
	struct blockstore	 nodes;
	struct blockstore	 lookup;
	struct store_recstream	 recs;
};

static int
src_get(void *ctx, const struct cid *c, const uint8_t **data, size_t *len)
{
	struct export_src *x = ctx;

	return bs_get(&x->nodes, c, data, len);
}

static int
src_get_leaf(void *ctx, const uint8_t *key, size_t klen,
    const struct cid *c, const uint8_t **data, size_t *len)
{
	struct export_src *x = ctx;
	int		 rc;

	rc = store_recstream_get(&x->recs, key, klen, c, data, len);
	if (rc != PDS_ENOTFOUND)
		return rc;
	return bs_get_leaf(&x->lookup, key, klen, c, data, len);
}

static void
src_prefetch(void *ctx, const struct cid *c, int stage)
{
	struct export_src *x = ctx;

	scan_prefetch(x->nodes.ctx, c, stage);
}

static int
produce(struct pipe *p)
{
	struct scan	 scan;
	struct store_bs	 sbs;
	struct blockstore bs;
	struct export_src src;
	struct since_ctx sc;
	struct cid	 commit;
	struct buf	 cb;
	char		 rev[TID_LEN + 1], cs[CID_STR_MAX];
	const char	*why = NULL;
	int		 rc;

	memset(&scan, 0, sizeof(scan));
	memset(&src, 0, sizeof(src));
	if ((rc = store_repo_read_begin()) != PDS_OK)
		return rc;
	store_bs_init(&sbs, p->did);
	bs = store_bs_store(&sbs);
	buf_init(&cb, (size_t)1 << 20);
	if ((rc = store_repo_root_get(p->did, &commit, rev)) != PDS_OK)
		goto out;
	if (p->since[0] == '\0') {
		src.lookup = bs;
		src.nodes = bs;
		if (scan_repo(&scan, p->did) == PDS_OK) {
			src.nodes.get = scan_get;
			src.nodes.put = NULL;
			src.nodes.ctx = &scan;
			src.nodes.get_leaf = NULL;
			stats_add(c_scans, 1);
		} else
			stats_add(c_lookups, 1);
		if ((rc = store_recstream_open(&src.recs, p->did)) != PDS_OK)
			goto out;
		bs.get = src_get;
		bs.put = NULL;
		bs.ctx = &src;
		bs.get_leaf = src_get_leaf;
		rc = repo_export_hinted(&bs, scan.tabsize != 0 ?
		    src_prefetch : NULL, &commit, pipe_put, p, &why);
		if (rc == PDS_OK)
			rc = pipe_flush(p);
		if (rc != PDS_OK && !p->abandoned)
			log_warnx("getRepo %s: %s", p->did,
			    why != NULL ? why : pds_strerror(rc));
		goto out;
	}
	/* since=: the commit, then every block written after that rev. */
	if ((rc = store_node_get(p->did, &commit, &cb)) != PDS_OK ||
	    (rc = car_emit_header(pipe_put, p, &commit, 1)) != PDS_OK ||
	    (rc = car_emit_block(pipe_put, p, &commit, cb.p, cb.len)) !=
	    PDS_OK)
		goto out;
	cid_format(&commit, cs, sizeof(cs));
	sc.p = p;
	sc.skip = cs;
	rc = store_blocks_since(p->did, p->since, since_block, &sc);
	if (rc == PDS_OK)
		rc = pipe_flush(p);
out:
	store_recstream_close(&src.recs);
	scan_release(&scan);
	buf_clear(&cb);
	store_bs_clear(&sbs);
	store_repo_read_end();
	return rc;
}

static void
produce_one(struct pipe *p)
{
	int	 rc;

	rc = produce(p);
	pthread_mutex_lock(&p->mu);
	p->done = true;
	p->failed = rc != PDS_OK;
	pipe_wake(p);
	pthread_mutex_unlock(&p->mu);
	pipe_unref(p);
}

static void *
producer_main(void *arg)
{
	struct pipe	*p;
	struct timespec	 ts;

	(void)arg;
	(void)pthread_setname_np(pthread_self(), "getRepo");
	pthread_mutex_lock(&prod_mu);
	for (;;) {
		if (prod_head == NULL) {
			clock_deadline(&ts, PRODUCER_IDLE_S * 1000);
			prod_idle++;
			while (prod_head == NULL && !prod_stop &&
			    pthread_cond_timedwait(&prod_cv, &prod_mu, &ts) == 0)
				;
			prod_idle--;
			if (prod_head == NULL)
				break;
		}
		p = prod_head;
		if ((prod_head = p->next) == NULL)
			prod_tail = &prod_head;
		prod_queued--;
		pthread_mutex_unlock(&prod_mu);
		produce_one(p);
		pthread_mutex_lock(&prod_mu);
	}
	pthread_mutex_unlock(&prod_mu);
	store_thread_close();
	pthread_mutex_lock(&prod_mu);
	prod_threads--;
	pthread_cond_broadcast(&prod_gone);
	pthread_mutex_unlock(&prod_mu);
	return NULL;
}

/*
 * At a stop (after the HTTP server, so every pipe is abandoned), idle
 * producers exit and close their SQLite connections, so the last close
 * removes the WAL and shared-memory files.  Waits at most 2 s.
 */
static void
producers_stop(void)
{
	struct timespec	 ts;

	clock_deadline(&ts, 2000);
	pthread_mutex_lock(&prod_mu);
	prod_stop = true;
	pthread_cond_broadcast(&prod_cv);
	while (prod_threads > 0 &&
	    pthread_cond_timedwait(&prod_gone, &prod_mu, &ts) == 0)
		;
	pthread_mutex_unlock(&prod_mu);
}

static int
producers_init(const struct config *cfg)
{
	(void)cfg;
	c_scans = stats_counter("getrepo.scans", STATS_RATE);
	c_lookups = stats_counter("getrepo.lookups", STATS_RATE);
	pthread_mutex_lock(&prod_mu);
	prod_stop = false;
	pthread_mutex_unlock(&prod_mu);
	return 0;
}

PDSD_MODULE(get_repo, producers_init, producers_stop)

/* Queue p for an idle producer, or start one.  PDS_OK or PDS_ENOMEM. */
static int
producer_submit(struct pipe *p)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	int		 rc = PDS_OK;

	pthread_mutex_lock(&prod_mu);
	p->next = NULL;
	*prod_tail = p;
	prod_tail = &p->next;
	prod_queued++;
	if (prod_queued <= prod_idle || prod_threads >= PRODUCERS_MAX) {
		/* an idle producer, or the next one that finishes */
		pthread_cond_signal(&prod_cv);
		pthread_mutex_unlock(&prod_mu);
		return PDS_OK;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, producer_main, NULL) == 0)
		prod_threads++;
	else {
		/* Unqueue p: it is the last job, nobody took it yet. */
		struct pipe **pp;

		for (pp = &prod_head; *pp != p; pp = &(*pp)->next)
			;
		*pp = NULL;
		prod_tail = pp;
		prod_queued--;
		rc = PDS_ENOMEM;
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_unlock(&prod_mu);
	return rc;
}

/* http_stream_fn: the worker's side. */
static ssize_t
pipe_read(void *arg, uint64_t pos, char *buf, size_t max)
{
	struct pipe	*p = arg;
	size_t		 n, k;

	(void)pos;
	pthread_mutex_lock(&p->mu);
	if (p->len == 0 && !p->done) {
		p->waiting = true;
		pthread_mutex_unlock(&p->mu);
		return HTTP_STREAM_WAIT;
	}
	if (p->len == 0) {
		bool failed = p->failed;
		pthread_mutex_unlock(&p->mu);
		return failed ? HTTP_STREAM_ERROR : HTTP_STREAM_END;
	}
	n = p->len < max ? p->len : max;
	k = RING_SIZE - p->head;
	if (k > n)
		k = n;
	memcpy(buf, p->ring + p->head, k);
	if (n > k)
		memcpy(buf + k, p->ring, n - k);
	p->head = (p->head + n) % RING_SIZE;
	p->len -= n;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return (ssize_t)n;
}

static void
pipe_abandon(void *arg)
{
	struct pipe	*p = arg;

	pthread_mutex_lock(&p->mu);
	p->abandoned = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pipe_unref(p);
}

static int
stream_repo(struct xrpc_ctx *ctx, const char *did, const char *since)
{
	struct pipe	*p;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->ring = malloc(RING_SIZE)) == NULL) {
		free(p);
		return PDS_EINTERNAL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->refs = 2;
	snprintf(p->did, sizeof(p->did), "%s", did);
	snprintf(p->since, sizeof(p->since), "%s", since != NULL ? since : "");
	/* the reply first: the producer needs its handle to wake it */
	http_reply_stream(ctx->req, 200, CAR_MIME, pipe_read, p,
	    pipe_abandon);
	if ((p->hs = http_reply_stream_handle(ctx->req)) == NULL ||
	    producer_submit(p) != PDS_OK) {
		/* the error reply drops the stream, and the reader's ref */
		pipe_unref(p);
		return PDS_EINTERNAL;
	}
	return 0;
}

/*
 * getRepo, or without `since' (the route's argument is false) its
 * deprecated forerunner getCheckout: the whole repo as a CAR.
 */
int
api_sync_get_repo(struct xrpc_ctx *ctx)
{
	struct sync_head h;
	const char	*since = NULL;
	int		 rc;

	if ((rc = sync_head(ctx, &h, "RepoNotFound")) != 0 ||
	    (ctx->route->arg && (rc = query_since(ctx, &since)) != 0))
		return rc;
	return stream_repo(ctx, h.a.did, since);
}

/* ---- getBlocks, getRecord ---- */

struct want {
	struct bs_mem	*seen;		/* the CIDs written (without bytes) */
	struct buf	*out;
};

static int
want_record(void *arg, const char *cs, const uint8_t *d, size_t len)
{
	struct want	*w = arg;
	struct cid	 c;
	int		 rc;

	if (cid_parse(&c, cs, strlen(cs), NULL) != PDS_OK ||
	    bs_mem_has(w->seen, &c))
		return 0;
	if ((rc = car_write_block(w->out, &c, d, len)) != PDS_OK)
		return rc;
	return bs_mem_put(w->seen, &c, NULL, 0);
}

/*
 * The blocks of cs (n of them) onto the CAR in out, each once, and
 * their CIDs into seen: nodes and commits by lookup, records (not
 * ordered by CID) in one read of the account's rows, and only when some
 * are not nodes.  A CID found nowhere is left out of seen.  The order
 * is the one they were found in, as the reference's is.
 */
static int
blocks_find(const char *did, const struct cid *cs, size_t n,
    struct bs_mem *seen, struct buf *out)
{
	struct want	 w = { seen, out };
	struct buf	 blk, want;
	char		 s[CID_STR_MAX];
	size_t		 i;
	int		 rc = PDS_OK;

	buf_init(&blk, (size_t)4 << 20);
	/* a JSON array of the CIDs that are not nodes (quoted, a comma) */
	buf_init(&want, n * (CID_STR_MAX + 3) + 2);
	for (i = 0; i < n && rc == PDS_OK; i++) {
		if (bs_mem_has(seen, &cs[i]))
			continue;
		if ((rc = store_node_get(did, &cs[i], &blk)) == PDS_OK) {
			if ((rc = car_write_block(out, &cs[i], blk.p,
			    blk.len)) == PDS_OK)
				rc = bs_mem_put(seen, &cs[i], NULL, 0);
		} else if (rc == PDS_ENOTFOUND) {
			if (cid_format(&cs[i], s, sizeof(s)) < 0)
				rc = PDS_EINVAL;
			else if ((rc = buf_putc(&want, want.len ? ',' :
			    '[')) == PDS_OK)
				rc = jsonw_cstr(&want, s);
		}
	}
	buf_clear(&blk);
	if (rc == PDS_OK && want.len > 0 &&
	    (rc = buf_putc(&want, ']')) == PDS_OK &&
	    (rc = buf_putc(&want, '\0')) == PDS_OK)
		rc = store_record_blocks(did, (const char *)want.p,
		    want_record, &w);
	buf_clear(&want);
	return rc;
}

int
api_sync_get_blocks(struct xrpc_ctx *ctx)
{
	struct sync_head h;
	const char	**cs = NULL;
	struct cid	*cids = NULL;
	struct bs_mem	*seen = NULL;
	struct buf	 out;
	size_t		 n, i;
	int		 rc;

	if ((rc = sync_head(ctx, &h, "RepoNotFound")) != 0)
		return rc;
	n = http_req_query_all(ctx->req, "cids", NULL, 0);
	if (n > GET_BLOCKS_MAX)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Too many cids (max %d)", GET_BLOCKS_MAX);
	buf_init(&out, (size_t)256 << 20);
	if ((cs = calloc(n ? n : 1, sizeof(*cs))) == NULL ||
	    (cids = calloc(n ? n : 1, sizeof(*cids))) == NULL ||
	    (seen = bs_mem_new()) == NULL) {
		rc = PDS_EINTERNAL;
		goto out;
	}
	(void)http_req_query_all(ctx->req, "cids", cs, n);
	for (i = 0; i < n; i++)
		if (cid_parse(&cids[i], cs[i], strlen(cs[i]), NULL) != PDS_OK) {
			rc = xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "Invalid cid: %.80s", cs[i]);
			goto out;
		}
	if ((rc = car_write_header(&out, &h.commit, 1)) == PDS_OK)
		rc = blocks_find(h.a.did, cids, n, seen, &out);
	for (i = 0; i < n && rc == PDS_OK; i++)
		if (!bs_mem_has(seen, &cids[i])) {
			rc = xrpc_fail(ctx, PDS_EINVAL,
			    "BlockNotFound", "Could not find cids: %.80s",
			    cs[i]);
			goto out;
		}
	if (rc != PDS_OK) {
		rc = PDS_EINTERNAL;
		goto out;
	}
	reply_car(ctx, &out);
out:
	buf_clear(&out);
	bs_mem_free(seen);
	free(cids);
	free(cs);
	return rc;
}

int
api_sync_get_record(struct xrpc_ctx *ctx)
{
	struct store_repo_acct a;
	struct store_bs	 sbs;
	struct blockstore bs;
	struct cid	 commit;
	struct buf	 out;
	const char	*coll, *rkey, *why = NULL;
	char		 key[NSID_MAX + 1 + RKEY_MAX + 1], rev[TID_LEN + 1];
	bool		 found = false;
	int		 rc, n;

	if ((rc = sync_repo(ctx, &a)) != 0 ||
	    (rc = api_query_record(ctx, &coll, &rkey)) != 0)
		return rc;
	n = snprintf(key, sizeof(key), "%s/%s", coll, rkey);
	if (n < 0 || (size_t)n >= sizeof(key))
		return xrpc_fail(ctx, PDS_EINVAL, NULL, "InvalidRequest");
	if ((rc = store_repo_read_begin()) != PDS_OK)
		return PDS_EINTERNAL;
	if ((rc = root_of(ctx, a.did, &commit, rev, "RepoNotFound")) != 0) {
		store_repo_read_end();
		return rc;
	}
	store_bs_init(&sbs, a.did);
	bs = store_bs_store(&sbs);
	buf_init(&out, (size_t)64 << 20);
	rc = repo_export_record(&bs, &commit, (const uint8_t *)key,
	    (size_t)n, buf_write, &out, &found, &why);
	store_repo_read_end();
	store_bs_clear(&sbs);
	if (rc != PDS_OK) {
		log_warnx("sync.getRecord %s %s: %s", a.did, key,
		    why != NULL ? why : pds_strerror(rc));
		buf_clear(&out);
		return PDS_EINTERNAL;
	}
	reply_car(ctx, &out);
	buf_clear(&out);
	return 0;
}

/* ---- heads and status ---- */

/*
 * getLatestCommit, or as_head (the route's argument) its deprecated
 * forerunner getHead: the same head, with HeadNotFound and only the
 * root in the reply.
 */
int
api_sync_get_latest_commit(struct xrpc_ctx *ctx)
{
	struct sync_head h;
	bool		 as_head = ctx->route->arg;
	int		 rc;

	if ((rc = sync_head(ctx, &h,
	    as_head ? "HeadNotFound" : "RepoNotFound")) != 0)
		return rc;
	if (as_head)
		xrpc_reply_json(ctx, json_pack("{s:o}", "root",
		    dm_cid_json(&h.commit)));
	else
		xrpc_reply_json(ctx, json_pack("{s:o,s:s}", "cid",
		    dm_cid_json(&h.commit), "rev", h.rev));
	return 0;
}

int
api_sync_get_repo_status(struct xrpc_ctx *ctx)
{
	struct store_repo_acct a;
	struct cid	 commit;
	const char	*did;
	char		 rev[TID_LEN + 1];
	json_t		*out;
	bool		 active;
	int		 rc;

	if ((rc = api_query_check(ctx, "did", false, syntax_is_did,
	    "a valid did", &did)) != 0 ||
	    (rc = find_repo(ctx, did, &a)) != 0)
		return rc;
	active = a.status == ACCT_ACTIVE;
	out = json_pack("{s:s,s:b}", "did", a.did, "active", active);
	if (out == NULL)
		return PDS_EINTERNAL;
	if (!active)
		json_object_set_new(out, "status",
		    json_string(acct_status_name(a.status)));
	else if (store_repo_root_get(a.did, &commit, rev) == PDS_OK)
		json_object_set_new(out, "rev", json_string(rev));
	xrpc_reply_json(ctx, out);
	return 0;
}

/* ---- listRepos, listBlobs ---- */

static int
repo_cb(void *arg, const struct store_repo_listed *l)
{
	json_t	*r;
	bool	 active = l->status == ACCT_ACTIVE;

	r = json_pack("{s:s,s:s,s:s,s:b}", "did", l->did, "head", l->head,
	    "rev", l->rev, "active", active);
	if (r != NULL && !active)
		json_object_set_new(r, "status",
		    json_string(acct_status_name(l->status)));
	if (r == NULL || json_array_append_new(arg, r) != 0)
		return PDS_ENOMEM;
	return 0;
}

int
api_sync_list_repos(struct xrpc_ctx *ctx)
{
	const char	*cursor;
	char		 next[STORE_TS_LEN + 2 + DID_MAX + 1];
	json_t		*repos, *out;
	size_t		 limit;
	int		 rc;

	if ((rc = api_query_page(ctx, LIST_DEFAULT, LIST_MAX, &limit,
	    &cursor)) != 0)
		return rc;
	if ((repos = json_array()) == NULL)
		return PDS_EINTERNAL;
	if (store_repo_list(cursor, limit, repo_cb, repos, next,
	    sizeof(next)) != PDS_OK) {
		json_decref(repos);
		return PDS_EINTERNAL;
	}
	out = json_pack("{s:o}", "repos", repos);
	if (out != NULL && next[0] != '\0')
		json_object_set_new(out, "cursor", json_string(next));
	return xrpc_reply_json_or(ctx, out, PDS_EINTERNAL);
}

static int
blob_cb(void *arg, const char *cid)
{
	return json_array_append_new(arg, json_string(cid)) == 0 ? 0 :
	    PDS_ENOMEM;
}

int
api_sync_list_blobs(struct xrpc_ctx *ctx)
{
	struct store_repo_acct a;
	const char	*since, *cursor;
	json_t		*cids, *out;
	size_t		 limit;
	int		 rc;

	if ((rc = sync_repo(ctx, &a)) != 0 ||
	    (rc = api_query_page(ctx, LIST_DEFAULT, LIST_MAX, &limit,
	    &cursor)) != 0 || (rc = query_since(ctx, &since)) != 0)
		return rc;
	if ((cids = json_array()) == NULL)
		return PDS_EINTERNAL;
	if (store_blob_list(a.did, since, cursor, limit, blob_cb, cids) !=
	    PDS_OK) {
		json_decref(cids);
		return PDS_EINTERNAL;
	}
	/* a full page: the next starts after its last CID (out owns cids) */
	out = json_pack("{s:o}", "cids", cids);
	if (out != NULL && json_array_size(cids) == limit)
		json_object_set(out, "cursor", json_array_get(cids, limit - 1));
	return xrpc_reply_json_or(ctx, out, PDS_EINTERNAL);
}

/* ---- getBlob ---- */

int
api_sync_get_blob(struct xrpc_ctx *ctx)
{
	struct store_repo_acct a;
	struct store_blob b;
	struct cid	 c;
	const char	*cs = http_req_query(ctx->req, "cid");
	char		 disp[CID_STR_MAX + 40];
	int		 rc;

	if ((rc = sync_repo(ctx, &a)) != 0)
		return rc;
	if (cs == NULL || cid_parse(&c, cs, strlen(cs), NULL) != PDS_OK)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "cid must be a CID");
	rc = store_blob_get(a.did, &c, &b);
	if (rc == PDS_OK && (b.temp || b.takendown))
		rc = PDS_ENOTFOUND;
	if (rc == PDS_OK) {
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"",
		    cs);
		(void)http_reply_header(ctx->req, "X-Content-Type-Options",
		    "nosniff");
		(void)http_reply_header(ctx->req, "Content-Security-Policy",
		    "default-src 'none'; sandbox");
		(void)http_reply_header(ctx->req, "Content-Disposition", disp);
		rc = api_blob_reply(ctx->req, a.did, &c, b.mime_type, b.size);
	}
	if (rc == PDS_ENOTFOUND)
		return xrpc_fail(ctx, PDS_EINVAL, "BlobNotFound",
		    "Blob not found");
	if (rc == PDS_EBUSY) {
		api_blob_unavailable(ctx->req);
		return xrpc_fail(ctx, PDS_EBUSY, NULL, "The blob store is "
		    "unavailable; try again later");
	}
	if (rc != PDS_OK)
		return xrpc_fail(ctx, PDS_EINTERNAL, NULL, "The blob store "
		    "failed to read the blob");
	return 0;
}

/* ---- the firehose (its transport is firehose.c) ---- */

static bool
parse_cursor(const char *s, int64_t *out)
{
	/* digits only: no blanks or sign before them */
	return s != NULL && *s >= '0' && *s <= '9' && syntax_dec_i64(s, out) &&
	    *out <= DM_INT_MAX;
}

int
api_sync_subscribe_repos(struct xrpc_ctx *ctx)
{
	struct http_req	*req = ctx->req;
	struct pds_error e;
	const char	*why = NULL, *c;
	int64_t		 cursor;

	if (!firehose_running())
		return xrpc_fail(ctx, PDS_EBUSY, NULL,
		    "The firehose is not running");
	if (!ws_handshake_check(http_req_header(req, "Upgrade"),
	    http_req_header(req, "Connection"),
	    http_req_header(req, "Sec-WebSocket-Version"),
	    http_req_header(req, "Sec-WebSocket-Key"), &why))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "subscribeRepos is a WebSocket endpoint: %s", why);
	if ((c = http_req_query(req, "cursor")) != NULL &&
	    !parse_cursor(c, &cursor))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "cursor must be a non-negative integer");
	pds_error_clear(&e);
	if (firehose_subscribe(req, c != NULL ? &cursor : NULL, &e) != PDS_OK)
		return xrpc_fail_error(ctx, &e);
	return 0;
}
