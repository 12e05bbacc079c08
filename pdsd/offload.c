/*
 * offload: the net and cpu pools, their bounds, and the worker guard.
 * See offload.h.
 *
 * Each pool is a FIFO of jobs under one mutex, with a fixed set of
 * threads.  One client's jobs (queued or running) are counted in a
 * small table sized for the most jobs the pool can hold
 * (threads + queue), so it never needs to grow: a linear scan of it is
 * cheap next to what a job costs (a network round trip, an Argon2
 * hash).
 */
#include <sys/resource.h>
#include <sys/syscall.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "module.h"
#include "offload.h"
#include "ratelimit.h"
#include "stats.h"
#include "xrpc.h"

#define STACK_SIZE	(1024 * 1024)
#define CLIENT_LEN	64
#define RETRY_MAX_S	60
#define CPU_NICE	5	/* Argon2 yields to the HTTP workers */

struct job {
	void		(*fn)(void *);
	void		*arg;
	struct job	*next;
	int		 slot;		/* client slot, -1: none */
};

struct client {
	char		 addr[CLIENT_LEN];
	unsigned	 n;		/* jobs queued or running; 0: free */
};

struct pool {
	const char		*name;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* a job, or stop */
	pthread_cond_t		 idle;		/* queue and threads empty */
	pthread_t		*tids;
	unsigned		 nthreads, started;
	struct job		*head, *tail;
	unsigned		 queued, running, queue_max, client_max;
	struct client		*clients;
	size_t			 nclients;
	bool			 stop;
	double			 avg_ms;	/* moving average of a job */
	unsigned long		 done, refused_busy, refused_client;
	struct stats_counter	*c_queued, *c_running, *c_done, *c_busy,
				*c_client;
};

static struct pool pools[OFFLOAD_NPOOLS] = {
	[OFFLOAD_NET] = { .name = "net", .mu = PTHREAD_MUTEX_INITIALIZER,
	    .cv = PTHREAD_COND_INITIALIZER,
	    .idle = PTHREAD_COND_INITIALIZER },
	[OFFLOAD_CPU] = { .name = "cpu", .mu = PTHREAD_MUTEX_INITIALIZER,
	    .cv = PTHREAD_COND_INITIALIZER,
	    .idle = PTHREAD_COND_INITIALIZER },
};
static bool	running;
static atomic_bool quiescing;

/* ---- the guard ---- */

static _Thread_local enum offload_guard	tl_guard;
static _Thread_local bool		tl_blocked;

void
offload_guard_begin(enum offload_guard g)
{
	tl_guard = running ? g : OFFLOAD_GUARD_NONE;	/* no pools: inline */
	tl_blocked = false;
}

bool
offload_guard_end(void)
{
	bool	b = tl_blocked;

	tl_guard = OFFLOAD_GUARD_NONE;
	tl_blocked = false;
	return b;
}

enum offload_guard
offload_guard(void)
{
	return tl_guard;
}

bool
offload_would_block(void)
{
	if (tl_guard == OFFLOAD_GUARD_NONE)
		return false;
	tl_blocked = true;
	return true;
}

/* ---- the pools ---- */

static void
counters(struct pool *p)
{
	stats_set(p->c_queued, p->queued);
	stats_set(p->c_running, p->running);
}

/* The client's slot, made if needed (callers hold p->mu); -1: full. */
static int
client_slot(struct pool *p, const char *client, bool make)
{
	size_t	 i;
	int	 fr = -1;

	for (i = 0; i < p->nclients; i++) {
		if (p->clients[i].n == 0) {
			if (fr < 0)
				fr = (int)i;
			continue;
		}
		if (strcmp(p->clients[i].addr, client) == 0)
			return (int)i;
	}
	if (!make || fr < 0)
		return -1;
	snprintf(p->clients[fr].addr, CLIENT_LEN, "%s", client);
	return fr;
}

static void *
pool_main(void *arg)
{
	struct pool	*p = arg;
	struct job	*j;
	int64_t		 t0;

	/* Linux: a thread's nice value is its own. */
	if (p == &pools[OFFLOAD_CPU])
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
		    CPU_NICE);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if ((j = p->head) == NULL)
			break;			/* stopping, queue empty */
		if ((p->head = j->next) == NULL)
			p->tail = NULL;
		p->queued--;
		p->running++;
		counters(p);
		pthread_mutex_unlock(&p->mu);

		t0 = clock_mono_ms();
		j->fn(j->arg);
		t0 = clock_mono_ms() - t0;

		pthread_mutex_lock(&p->mu);
		p->running--;
		p->done++;
		p->avg_ms = p->avg_ms * 0.9 + (double)t0 * 0.1;
		if (j->slot >= 0)
			p->clients[j->slot].n--;
		counters(p);
		stats_add(p->c_done, 1);
		if (p->head == NULL && p->running == 0)
			pthread_cond_broadcast(&p->idle);
		free(j);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static unsigned
retry_after(const struct pool *p)
{
	double	 s;

	s = p->avg_ms * (double)(p->queued + p->running) /
	    (double)(p->nthreads ? p->nthreads : 1) / 1000.0;
	if (s < 1)
		return 1;
	return s > RETRY_MAX_S ? RETRY_MAX_S : (unsigned)s + 1;
}

int
offload_submit(enum offload_pool which, const char *client,
    void (*fn)(void *), void *arg, unsigned *retry_s)
{
	struct pool	*p = &pools[which];
	struct job	*j;
	int		 slot = -1;

	if (retry_s != NULL)
		*retry_s = 0;
	if (!running) {
		fn(arg);
		return PDS_OK;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return PDS_ENOMEM;
	j->fn = fn;
	j->arg = arg;
	pthread_mutex_lock(&p->mu);
	if (p->queued >= p->queue_max || p->stop) {
		p->refused_busy++;
		stats_add(p->c_busy, 1);
		goto refused;
	}
	if (client != NULL) {
		slot = client_slot(p, client, true);
		if (slot < 0 || p->clients[slot].n >= p->client_max) {
			p->refused_client++;
			stats_add(p->c_client, 1);
			pthread_mutex_unlock(&p->mu);
			if (retry_s != NULL)
				*retry_s = retry_after(p);
			free(j);
			return PDS_ERATELIMIT;
		}
		p->clients[slot].n++;
	}
	j->slot = slot;
	if (p->tail != NULL)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	counters(p);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return PDS_OK;
refused:
	if (retry_s != NULL)
		*retry_s = retry_after(p);
	pthread_mutex_unlock(&p->mu);
	free(j);
	return PDS_EBUSY;
}

static void
pool_stop(struct pool *p)
{
	unsigned	i;

	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->started; i++)
		pthread_join(p->tids[i], NULL);
	p->started = 0;
	free(p->tids);
	free(p->clients);
	p->tids = NULL;
	p->clients = NULL;
	p->nclients = 0;
}

static int
pool_start(struct pool *p, unsigned threads, unsigned queue,
    unsigned client_max)
{
	pthread_attr_t	 at;
	char		 name[STATS_NAME_MAX + 1];
	unsigned	 i;

	p->nthreads = threads;
	p->queue_max = queue;
	p->client_max = client_max;
	p->stop = false;
	p->head = p->tail = NULL;
	p->queued = p->running = 0;
	p->nclients = (size_t)threads + queue;
	if ((p->clients = calloc(p->nclients, sizeof(*p->clients))) == NULL ||
	    (p->tids = calloc(threads, sizeof(*p->tids))) == NULL)
		return PDS_ENOMEM;
#define C(what, fl) (snprintf(name, sizeof(name), "offload.%s." what,	\
	    p->name), stats_counter(name, fl))
	p->c_queued = C("queued", STATS_GAUGE);
	p->c_running = C("running", STATS_GAUGE);
	p->c_done = C("done", STATS_RATE);
	p->c_busy = C("refused_busy", 0);
	p->c_client = C("refused_client", 0);
#undef C
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, STACK_SIZE);
	for (i = 0; i < threads; i++) {
		if (pthread_create(&p->tids[i], &at, pool_main, p) != 0) {
			pthread_attr_destroy(&at);
			return PDS_ENOMEM;
		}
		p->started++;
	}
	pthread_attr_destroy(&at);
	return PDS_OK;
}

int
offload_start(const struct offload_config *c)
{
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned	 def_t[OFFLOAD_NPOOLS], def_q[OFFLOAD_NPOOLS];
	unsigned	 t, q, cm;
	int		 i, rc;

	if (running)
		return PDS_OK;
	def_t[OFFLOAD_NET] = OFFLOAD_NET_THREADS;
	def_t[OFFLOAD_CPU] = ncpu > 0 ? (unsigned)ncpu : 1;
	def_q[OFFLOAD_NET] = OFFLOAD_NET_QUEUE;
	def_q[OFFLOAD_CPU] = OFFLOAD_CPU_QUEUE;
	cm = c->client_max ? c->client_max : OFFLOAD_CLIENT_MAX;
	for (i = 0; i < OFFLOAD_NPOOLS; i++) {
		t = c->threads[i] ? c->threads[i] : def_t[i];
		q = c->queue[i] ? c->queue[i] : def_q[i];
		if (t > OFFLOAD_THREADS_MAX)
			t = OFFLOAD_THREADS_MAX;
		if (q > OFFLOAD_QUEUE_MAX)
			q = OFFLOAD_QUEUE_MAX;
		if ((rc = pool_start(&pools[i], t, q, cm)) != PDS_OK) {
			while (i >= 0)
				pool_stop(&pools[i--]);
			return rc;
		}
	}
	running = true;
	return PDS_OK;
}

void
offload_stop(void)
{
	int	i;

	if (!running)
		return;
	for (i = 0; i < OFFLOAD_NPOOLS; i++)
		pool_stop(&pools[i]);
	running = false;
}

void
offload_quiesce(void)
{
	atomic_store(&quiescing, true);
}

bool
offload_quiescing(void)
{
	return atomic_load(&quiescing);
}

void
offload_get_stats(enum offload_pool which, struct offload_stats *st)
{
	struct pool	*p = &pools[which];

	pthread_mutex_lock(&p->mu);
	st->threads = p->nthreads;
	st->queue_max = p->queue_max;
	st->client_max = p->client_max;
	st->queued = p->queued;
	st->running = p->running;
	st->done = p->done;
	st->refused_busy = p->refused_busy;
	st->refused_client = p->refused_client;
	pthread_mutex_unlock(&p->mu);
}

/* ---- HTTP requests ---- */

struct http_job {
	struct http_req	*req;
	http_handler_fn	 fn;
	const void	*arg;
};

static void
http_job_run(void *arg)
{
	struct http_job	*hj = arg;

	if (offload_quiescing())
		offload_reply_refused(hj->req, PDS_EBUSY, 1);
	else
		hj->fn(hj->req, hj->arg);
	http_req_resume(hj->req);
	free(hj);
}

void
offload_reply_refused(struct http_req *req, int code, unsigned retry_s)
{
	char	 v[16];

	snprintf(v, sizeof(v), "%u", retry_s ? retry_s : 1);
	if (code == PDS_ERATELIMIT)
		xrpc_reply_error(req, code, NULL,
		    "Too many requests from this client in progress");
	else if (code == PDS_EBUSY)
		xrpc_reply_error(req, code, NULL,
		    "Server busy, try again later");
	else
		xrpc_reply_error(req, code, NULL, NULL);
	(void)http_reply_header(req, "Retry-After", v);
}

const char *
offload_client(struct http_req *req)
{
	return ratelimit_bypass(req) ? NULL : http_req_client(req);
}

int
offload_http(struct http_req *req, enum offload_pool p, http_handler_fn fn,
    const void *arg)
{
	struct http_job	*hj;
	unsigned	 retry = 0;
	int		 rc;

	if ((hj = malloc(sizeof(*hj))) == NULL) {
		xrpc_reply_error(req, PDS_ENOMEM, NULL, NULL);
		return PDS_ENOMEM;
	}
	hj->req = req;
	hj->fn = fn;
	hj->arg = arg;
	http_req_defer(req);
	rc = offload_submit(p, offload_client(req), http_job_run, hj,
	    &retry);
	if (rc != PDS_OK) {
		free(hj);
		offload_reply_refused(req, rc, retry);
		http_req_resume(req);
	}
	return rc;
}

void
offload_route_handler(struct http_req *req, const void *arg)
{
	const struct offload_route *r = arg;

	(void)offload_http(req, r->pool, r->fn, r->arg);
}

/* ---- the module ---- */

static int
offload_init(const struct config *cfg)
{
	struct offload_config	 c;

	memset(&c, 0, sizeof(c));
	c.threads[OFFLOAD_NET] = (unsigned)cfg->offload_net_threads;
	c.threads[OFFLOAD_CPU] = (unsigned)cfg->offload_cpu_threads;
	c.queue[OFFLOAD_NET] = (unsigned)cfg->offload_net_queue;
	c.queue[OFFLOAD_CPU] = (unsigned)cfg->offload_cpu_queue;
	c.client_max = (unsigned)cfg->offload_client_max;
	return offload_start(&c);
}

PDSD_MODULE(offload, offload_init, offload_stop);
