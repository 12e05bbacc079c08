/*
 * stats: counters with a once-a-second rate sampler, and the firehose
 * subscriber registry.  See stats.h.
 *
 * Counters live in a fixed array; registration takes a mutex, bumping
 * is a relaxed atomic add.  The sampler reads each counter's value and
 * the monotonic clock and stores (value - last) / elapsed as the rate.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "clock.h"
#include "err.h"
#include "log.h"
#include "module.h"
#include "stats.h"
#include "thread.h"

struct stats_counter {
	char			 name[STATS_NAME_MAX + 1];
	unsigned		 flags;
	_Atomic uint64_t	 value;
	uint64_t		 last;		/* sampler only */
	_Atomic uint64_t	 rate_bits;	/* a double's bits */
};

static struct stats_counter	 counters[STATS_MAX];
static _Atomic size_t		 ncounters;
static pthread_mutex_t		 reg_mu = PTHREAD_MUTEX_INITIALIZER;
static double			 last_sample;	/* sampler only */

static _Atomic int64_t		 started_ms;	/* monotonic; 0: not yet */

static pthread_t		 sampler;
static bool			 sampler_running;
static bool			 sampler_stop;
static pthread_mutex_t		 stop_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 stop_cv = PTHREAD_COND_INITIALIZER;

static bool
name_ok(const char *s)
{
	size_t	 i, n = strlen(s);

	if (n == 0 || n > STATS_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '_'))
			return false;
	return true;
}

struct stats_counter *
stats_counter(const char *name, unsigned flags)
{
	struct stats_counter	*c = NULL;
	size_t			 i, n;

	if (name == NULL || !name_ok(name))
		return NULL;
	pthread_mutex_lock(&reg_mu);
	n = atomic_load(&ncounters);
	for (i = 0; i < n; i++)
		if (strcmp(counters[i].name, name) == 0) {
			c = &counters[i];
			break;
		}
	if (c == NULL && n < STATS_MAX) {
		c = &counters[n];
		memcpy(c->name, name, strlen(name) + 1);
		c->flags = flags;
		atomic_store(&c->value, 0);
		/* publish only once the slot is filled */
		atomic_store(&ncounters, n + 1);
	} else if (c == NULL)
		log_warnx("stats: registry full, counter %s dropped", name);
	pthread_mutex_unlock(&reg_mu);
	return c;
}

void
stats_add(struct stats_counter *c, uint64_t n)
{
	if (c != NULL)
		atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

void
stats_set(struct stats_counter *c, uint64_t v)
{
	if (c != NULL)
		atomic_store_explicit(&c->value, v, memory_order_relaxed);
}

uint64_t
stats_get(const struct stats_counter *c)
{
	if (c == NULL)
		return 0;
	return atomic_load_explicit(&((struct stats_counter *)c)->value,
	    memory_order_relaxed);
}

double
stats_rate(const struct stats_counter *c)
{
	uint64_t	 bits;
	double		 d;

	if (c == NULL)
		return 0;
	bits = atomic_load(&((struct stats_counter *)c)->rate_bits);
	memcpy(&d, &bits, sizeof(d));
	return d;
}

void
stats_sample(void)
{
	static pthread_mutex_t	 sample_mu = PTHREAD_MUTEX_INITIALIZER;
	double			 t, dt, r;
	uint64_t		 v, bits;
	size_t			 i, n;

	pthread_mutex_lock(&sample_mu);
	t = clock_mono_s();
	dt = last_sample > 0 ? t - last_sample : 0;
	n = atomic_load(&ncounters);
	for (i = 0; i < n; i++) {
		struct stats_counter *c = &counters[i];

		if (!(c->flags & STATS_RATE))
			continue;
		v = stats_get(c);
		r = dt > 0.05 && v >= c->last ? (double)(v - c->last) / dt :
		    0;
		c->last = v;
		memcpy(&bits, &r, sizeof(bits));
		atomic_store(&c->rate_bits, bits);
	}
	last_sample = t;
	pthread_mutex_unlock(&sample_mu);
}

json_t *
stats_counters_json(void)
{
	json_t	*o, *e;
	size_t	 i, n;

	if ((o = json_object()) == NULL)
		return NULL;
	n = atomic_load(&ncounters);
	for (i = 0; i < n; i++) {
		const struct stats_counter *c = &counters[i];

		e = json_pack("{s:I}", "value", (json_int_t)stats_get(c));
		if (e != NULL && (c->flags & STATS_RATE))
			json_object_set_new(e, "rate",
			    json_real(stats_rate(c)));
		if (e == NULL || json_object_set_new(o, c->name, e) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

void
stats_foreach(void (*fn)(void *, const char *, unsigned, uint64_t),
    void *arg)
{
	size_t	 i, n = atomic_load(&ncounters);

	for (i = 0; i < n; i++)
		fn(arg, counters[i].name, counters[i].flags,
		    stats_get(&counters[i]));
}

int64_t
stats_uptime_s(void)
{
	int64_t	 t0 = atomic_load(&started_ms);

	if (t0 == 0)
		return 0;
	return ((int64_t)(clock_mono_s() * 1000) - t0) / 1000;
}

/* ---- the sampler thread ---- */

static void *
sampler_main(void *arg)
{
	struct timespec	 ts;

	(void)arg;
	pthread_mutex_lock(&stop_mu);
	while (!sampler_stop) {
		pthread_mutex_unlock(&stop_mu);
		stats_sample();
		pthread_mutex_lock(&stop_mu);
		clock_deadline(&ts, 1000);
		while (!sampler_stop &&
		    pthread_cond_timedwait(&stop_cv, &stop_mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&stop_mu);
	return NULL;
}

static int
stats_init(const struct config *cfg)
{
	(void)cfg;
	atomic_store(&started_ms, (int64_t)(clock_mono_s() * 1000));
	sampler_stop = false;
	if (pthread_create(&sampler, NULL, sampler_main, NULL) != 0) {
		log_warnx("stats: cannot start the sampler thread");
		return PDS_EIO;
	}
	sampler_running = true;
	return PDS_OK;
}

static void
stats_fini(void)
{
	if (!sampler_running)
		return;
	thread_stop(sampler, &stop_mu, &stop_cv, &sampler_stop);
	sampler_running = false;
}

PDSD_MODULE(stats, stats_init, stats_fini)

/* ---- firehose subscribers ---- */

struct sub_slot {
	struct stats_sub	 s;
	bool			 used;
};

static struct sub_slot	*subs;		/* STATS_SUBS_MAX, allocated lazily */
static size_t		 nsubs;
static uint64_t		 next_sub_id = 1;
static pthread_mutex_t	 sub_mu = PTHREAD_MUTEX_INITIALIZER;

uint64_t
stats_sub_add(const char *remote, int64_t cursor)
{
	struct sub_slot	*sl;
	uint64_t	 id = 0;
	size_t		 i, n;

	pthread_mutex_lock(&sub_mu);
	if (subs == NULL)
		subs = calloc(STATS_SUBS_MAX, sizeof(*subs));
	if (subs != NULL)
		for (i = 0; i < STATS_SUBS_MAX; i++) {
			sl = &subs[i];
			if (sl->used)
				continue;
			memset(sl, 0, sizeof(*sl));
			sl->used = true;
			sl->s.id = id = next_sub_id++;
			n = remote != NULL ? strlen(remote) : 0;
			if (n > STATS_REMOTE_MAX)
				n = STATS_REMOTE_MAX;
			if (n > 0)
				memcpy(sl->s.remote, remote, n);
			sl->s.cursor = cursor;
			sl->s.seq = -1;
			sl->s.connected_ms = clock_wall_ms();
			nsubs++;
			break;
		}
	pthread_mutex_unlock(&sub_mu);
	return id;
}

static struct sub_slot *
sub_find(uint64_t id)
{
	size_t	 i;

	if (subs == NULL || id == 0)
		return NULL;
	for (i = 0; i < STATS_SUBS_MAX; i++)
		if (subs[i].used && subs[i].s.id == id)
			return &subs[i];
	return NULL;
}

void
stats_sub_update(uint64_t id, int64_t seq, uint64_t events, uint64_t bytes,
    uint64_t queued)
{
	struct sub_slot	*sl;

	pthread_mutex_lock(&sub_mu);
	if ((sl = sub_find(id)) != NULL) {
		sl->s.seq = seq;
		sl->s.events = events;
		sl->s.bytes = bytes;
		sl->s.queued = queued;
	}
	pthread_mutex_unlock(&sub_mu);
}

void
stats_sub_remove(uint64_t id)
{
	struct sub_slot	*sl;

	pthread_mutex_lock(&sub_mu);
	if ((sl = sub_find(id)) != NULL) {
		sl->used = false;
		nsubs--;
	}
	pthread_mutex_unlock(&sub_mu);
}

size_t
stats_sub_count(void)
{
	size_t	 n;

	pthread_mutex_lock(&sub_mu);
	n = nsubs;
	pthread_mutex_unlock(&sub_mu);
	return n;
}

int64_t
stats_sub_min_seq(void)
{
	int64_t	 min = -1;
	size_t	 i;

	pthread_mutex_lock(&sub_mu);
	for (i = 0; subs != NULL && i < STATS_SUBS_MAX; i++)
		if (subs[i].used && subs[i].s.seq >= 0 &&
		    (min < 0 || subs[i].s.seq < min))
			min = subs[i].s.seq;
	pthread_mutex_unlock(&sub_mu);
	return min;
}

static int
cmp_sub(const void *a, const void *b)
{
	const struct stats_sub	*x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

json_t *
stats_subs_json(void)
{
	struct stats_sub	*copy = NULL;
	json_t			*arr, *e;
	size_t			 i, n = 0;

	if ((arr = json_array()) == NULL)
		return NULL;
	pthread_mutex_lock(&sub_mu);
	if (nsubs > 0 && (copy = calloc(nsubs, sizeof(*copy))) != NULL)
		for (i = 0; i < STATS_SUBS_MAX && n < nsubs; i++)
			if (subs[i].used)
				copy[n++] = subs[i].s;
	pthread_mutex_unlock(&sub_mu);
	if (n > 0)
		qsort(copy, n, sizeof(*copy), cmp_sub);
	for (i = 0; i < n; i++) {
		e = json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:I}",
		    "id", (json_int_t)copy[i].id, "remote", copy[i].remote,
		    "cursor", (json_int_t)copy[i].cursor,
		    "seq", (json_int_t)copy[i].seq,
		    "events", (json_int_t)copy[i].events,
		    "bytes", (json_int_t)copy[i].bytes,
		    "queued", (json_int_t)copy[i].queued,
		    "connectedMs", (json_int_t)copy[i].connected_ms);
		if (e == NULL || json_array_append_new(arr, e) != 0) {
			json_decref(arr);
			arr = NULL;
			break;
		}
	}
	free(copy);
	return arr;
}
