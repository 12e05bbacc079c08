/*
 * oauth_replay: replay protection in memory, written behind to the
 * replay table.  See oauth_replay.h.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "err.h"
#include "jobs.h"
#include "log.h"
#include "oauth_replay.h"
#include "store.h"
#include "store_oauth.h"

#define STRIPES		64	/* bucket locks */

struct bucket {
	uint64_t	 tag[OAUTH_REPLAY_WAYS];
	uint32_t	 exp[OAUTH_REPLAY_WAYS];	/* 0: never used */
	/*
	 * Until then the table holds keys of this bucket that memory may
	 * not: every key of the bucket that memory misses asks the table.
	 */
	uint32_t	 spill;
};

struct queued {
	int64_t		 exp;
	char		 ns[OAUTH_REPLAY_NS_MAX + 1];
	char		 key[OAUTH_REPLAY_KEY_MAX + 1];
};

struct oauth_replay {
	uint8_t		 hkey[crypto_generichash_KEYBYTES];
	struct bucket	*b;
	size_t		 nb;
	pthread_mutex_t	 mu[STRIPES];
	/*
	 * The queue, a ring: q[tail..head) wait for the flush, which
	 * reads them without qmu (only head moves meanwhile) and then
	 * moves tail.  Lock order: a stripe, then qmu.
	 */
	pthread_mutex_t	 qmu;
	struct queued	*q;
	size_t		 qcap, head, tail;	/* head - tail <= qcap */
	pthread_mutex_t	 flushmu;
};

static void
tag_of(const struct oauth_replay *r, const char *ns, const char *key,
    size_t *bucket, uint64_t *tag)
{
	crypto_generichash_state st;
	uint8_t		 h[16];
	uint64_t	 hi;

	crypto_generichash_init(&st, r->hkey, sizeof(r->hkey), sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)ns, strlen(ns) + 1);
	crypto_generichash_update(&st, (const uint8_t *)key, strlen(key));
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(&hi, h, sizeof(hi));
	memcpy(tag, h + 8, sizeof(*tag));
	*bucket = (size_t)(hi % r->nb);
}

static uint32_t
exp32(int64_t t)
{
	if (t < 1)
		return 1;
	if (t > (int64_t)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)t;
}

static bool
live(const struct bucket *b, size_t i, int64_t now)
{
	return b->exp[i] != 0 && (int64_t)b->exp[i] >= now;
}

/* Whether b holds tag live at now.  The bucket's stripe is held. */
static bool
holds(const struct bucket *b, uint64_t tag, int64_t now)
{
	size_t	 i;

	for (i = 0; i < OAUTH_REPLAY_WAYS; i++)
		if (b->tag[i] == tag && live(b, i, now))
			return true;
	return false;
}

/* A slot of b free at now (never used or expired), or -1. */
static int
free_slot(const struct bucket *b, int64_t now)
{
	int	 i;

	for (i = 0; i < OAUTH_REPLAY_WAYS; i++)
		if (!live(b, (size_t)i, now))
			return i;
	return -1;
}

/* Put tag in a free slot of b: false when every slot is live. */
static bool
put(struct bucket *b, uint64_t tag, int64_t expires_at, int64_t now)
{
	int	 i;

	if ((i = free_slot(b, now)) == -1)
		return false;
	b->tag[i] = tag;
	b->exp[i] = exp32(expires_at);
	return true;
}

/* The table holds a key of b that memory does not, until expires_at. */
static void
spill(struct bucket *b, int64_t expires_at)
{
	if (b->spill < exp32(expires_at))
		b->spill = exp32(expires_at);
}

/* Queue a key for the flush: false when it is full or key too long. */
static bool
enqueue(struct oauth_replay *r, const char *ns, const char *key,
    int64_t expires_at)
{
	struct queued	*e;
	size_t		 nl, kl;
	bool		 ok = false;

	nl = strlen(ns);
	kl = strlen(key);
	if (nl > OAUTH_REPLAY_NS_MAX || kl > OAUTH_REPLAY_KEY_MAX)
		return false;
	pthread_mutex_lock(&r->qmu);
	if (r->head - r->tail < r->qcap) {
		e = &r->q[r->head % r->qcap];
		e->exp = expires_at;
		memcpy(e->ns, ns, nl + 1);
		memcpy(e->key, key, kl + 1);
		r->head++;
		ok = true;
	}
	pthread_mutex_unlock(&r->qmu);
	return ok;
}

struct oauth_replay *
oauth_replay_new(size_t slots, size_t queue)
{
	struct oauth_replay	*r;
	size_t			 i;

	if (slots < OAUTH_REPLAY_WAYS || slots % OAUTH_REPLAY_WAYS != 0 ||
	    queue == 0)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->nb = slots / OAUTH_REPLAY_WAYS;
	r->qcap = queue;
	if ((r->b = calloc(r->nb, sizeof(*r->b))) == NULL ||
	    (r->q = calloc(queue, sizeof(*r->q))) == NULL) {
		free(r->b);
		free(r);
		return NULL;
	}
	randombytes_buf(r->hkey, sizeof(r->hkey));
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_init(&r->mu[i], NULL);
	pthread_mutex_init(&r->qmu, NULL);
	pthread_mutex_init(&r->flushmu, NULL);
	return r;
}

void
oauth_replay_free(struct oauth_replay *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&r->mu[i]);
	pthread_mutex_destroy(&r->qmu);
	pthread_mutex_destroy(&r->flushmu);
	free(r->b);
	free(r->q);
	sodium_memzero(r->hkey, sizeof(r->hkey));
	free(r);
}

int
oauth_replay_add(struct oauth_replay *r, const char *ns, const char *key,
    int64_t expires_at, int64_t now)
{
	pthread_mutex_t	*mu;
	struct bucket	*b;
	uint64_t	 tag;
	size_t		 bi;
	int		 slot, rc;

	tag_of(r, ns, key, &bi, &tag);
	b = &r->b[bi];
	mu = &r->mu[bi % STRIPES];
	pthread_mutex_lock(mu);
	if (holds(b, tag, now)) {
		pthread_mutex_unlock(mu);
		return PDS_EEXIST;
	}
	/* The usual case: memory alone decides, the flush writes it. */
	if ((int64_t)b->spill < now &&
	    (slot = free_slot(b, now)) != -1 &&
	    enqueue(r, ns, key, expires_at)) {
		b->tag[slot] = tag;
		b->exp[slot] = exp32(expires_at);
		pthread_mutex_unlock(mu);
		return PDS_OK;
	}
	pthread_mutex_unlock(mu);

	/*
	 * The table decides.  Then memory learns the key, unless another
	 * thread accepted it from memory meanwhile (that one won); when
	 * its bucket is full, every miss of that bucket asks the table
	 * until it expires.
	 */
	if ((rc = store_oauth_replay_check_and_add(ns, key, expires_at)) !=
	    PDS_OK)
		return rc;
	pthread_mutex_lock(mu);
	if (holds(b, tag, now))
		rc = PDS_EEXIST;
	else if (!put(b, tag, expires_at, now))
		spill(b, expires_at);
	pthread_mutex_unlock(mu);
	return rc;
}

int
oauth_replay_flush(struct oauth_replay *r, size_t *np)
{
	struct queued	*e;
	size_t		 head, i;
	int		 rc = PDS_OK;

	if (np != NULL)
		*np = 0;
	pthread_mutex_lock(&r->flushmu);
	pthread_mutex_lock(&r->qmu);
	head = r->head;
	pthread_mutex_unlock(&r->qmu);
	if (head == r->tail)
		goto out;
	if ((rc = store_begin()) != PDS_OK)
		goto out;
	for (i = r->tail; i != head; i++) {
		e = &r->q[i % r->qcap];
		if ((rc = store_oauth_replay_put(e->ns, e->key, e->exp)) !=
		    PDS_OK) {
			store_rollback();
			goto out;
		}
	}
	if ((rc = store_commit()) != PDS_OK)
		goto out;
	pthread_mutex_lock(&r->qmu);
	if (np != NULL)
		*np = head - r->tail;
	r->tail = head;
	pthread_mutex_unlock(&r->qmu);
out:
	pthread_mutex_unlock(&r->flushmu);
	return rc;
}

struct load {
	struct oauth_replay	*r;
	int64_t			 now;
	size_t			 n;
};

static int
load_row(void *arg, const char *ns, const char *key, int64_t expires_at)
{
	struct load	*l = arg;
	pthread_mutex_t	*mu;
	struct bucket	*b;
	uint64_t	 tag;
	size_t		 bi;

	tag_of(l->r, ns, key, &bi, &tag);
	b = &l->r->b[bi];
	mu = &l->r->mu[bi % STRIPES];
	pthread_mutex_lock(mu);
	if (!holds(b, tag, l->now)) {
		if (put(b, tag, expires_at, l->now))
			l->n++;
		else
			spill(b, expires_at);
	}
	pthread_mutex_unlock(mu);
	return 0;
}

int
oauth_replay_load(struct oauth_replay *r, int64_t now, size_t *np)
{
	struct load	 l;
	int		 rc;

	l.r = r;
	l.now = now;
	l.n = 0;
	rc = store_oauth_replay_scan(now, load_row, &l);
	if (np != NULL)
		*np = l.n;
	return rc;
}

/* ---- the daemon's cache ---- */

static struct oauth_replay	*cache;
static bool			 job_added;

static void
flush_job(void *arg)
{
	size_t	 n;
	int	 rc;

	if ((rc = oauth_replay_flush(arg, &n)) != PDS_OK)
		log_warnx("oauth: replay write-behind: %s", pds_strerror(rc));
	else if (n > 0)
		log_debug("oauth: wrote %zu replay keys", n);
}

int
oauth_replay_start(void)
{
	size_t	 n;
	int	 rc;

	if (cache == NULL && (cache = oauth_replay_new(OAUTH_REPLAY_SLOTS,
	    OAUTH_REPLAY_QUEUE)) == NULL)
		return PDS_ENOMEM;
	if ((rc = oauth_replay_load(cache, (int64_t)time(NULL), &n)) !=
	    PDS_OK)
		return rc;
	if (n > 0)
		log_debug("oauth: %zu replay keys loaded", n);
	if (!job_added) {
		if ((rc = jobs_add("oauth replay write-behind",
		    OAUTH_REPLAY_FLUSH_MS, flush_job, cache)) != PDS_OK)
			return rc;
		job_added = true;
	}
	return PDS_OK;
}

void
oauth_replay_stop(void)
{
	int	 rc;

	if (cache != NULL && (rc = oauth_replay_flush(cache, NULL)) != PDS_OK)
		log_warnx("oauth: replay write-behind: %s", pds_strerror(rc));
}

int
oauth_replay_check_and_add(const char *ns, const char *key,
    int64_t expires_at)
{
	if (cache == NULL)
		return store_oauth_replay_check_and_add(ns, key, expires_at);
	return oauth_replay_add(cache, ns, key, expires_at,
	    (int64_t)time(NULL));
}
