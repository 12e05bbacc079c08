/*
 * offload: two bounded thread pools that keep slow work off
 * libmicrohttpd's worker threads (issue 16, findings 2 and 5).
 *
 * pdsd has a handful of HTTP workers (PDS_THREADS); a handler that
 * blocks on one stops every connection that worker serves, /xrpc/_health
 * included.  So nothing a request waits for that may take long runs on
 * a worker:
 *
 *   OFFLOAD_NET  outbound calls: DID and handle resolution, the PLC
 *                directory, the AppView proxy, mail, OAuth client
 *                metadata (PDS_OFFLOAD_NET_THREADS threads).
 *   OFFLOAD_CPU  Argon2 password hashing: logins, account creation,
 *                password changes (PDS_OFFLOAD_CPU_THREADS, default one
 *                per core).
 *
 * A request goes to a pool with offload_http() (or xrpc's route flags,
 * xrpc.h): the worker defers the reply (http_req_defer), a pool thread
 * runs the handler and resumes the request (http_req_resume).  Each pool
 * has a bounded queue (PDS_OFFLOAD_*_QUEUE) and a cap on one client's
 * jobs, queued or running (PDS_OFFLOAD_CLIENT_MAX, by http_req_client).
 * Past the queue a request is answered at once, on the worker, with 503
 * NotEnoughResources, past the client cap with 429 RateLimitExceeded;
 * both carry Retry-After.
 *
 * The guard.  Whatever xrpc runs on a worker runs inside
 * offload_guard_begin()/offload_guard_end(): there the resolver and the
 * HTTP clients (outbound.c, mailer.c) do not touch the network
 * (offload_would_block() says so and notes it) and answer only from
 * their caches.  The credential check runs in OFFLOAD_GUARD_RETRY mode:
 * when the guard was hit it is done again on the net pool (so it must
 * have no side effects before its network call).  Handlers of routes
 * left on the workers run in OFFLOAD_GUARD_DEGRADE mode: the resolver
 * serves a stale document, or fails, and refreshes it on the net pool
 * behind the request; any other network call fails (and is logged: its
 * route wants XRPC_AF_NET).
 *
 * Before offload_start() (unit tests that do not start the module)
 * offload_submit() runs the job at once on the calling thread.
 * Counters: offload.{net,cpu}.{queued,running,done,refused_busy,
 * refused_client} in stats.
 */
#ifndef PDSD_OFFLOAD_H
#define PDSD_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

enum offload_pool {
	OFFLOAD_NET,
	OFFLOAD_CPU,
	OFFLOAD_NPOOLS
};

struct offload_config {
	unsigned	threads[OFFLOAD_NPOOLS];	/* 0: the default */
	unsigned	queue[OFFLOAD_NPOOLS];		/* 0: the default */
	unsigned	client_max;	/* per client per pool; 0: default */
};

#define OFFLOAD_NET_THREADS	16
#define OFFLOAD_NET_QUEUE	256
#define OFFLOAD_CPU_QUEUE	64
#define OFFLOAD_CLIENT_MAX	16
#define OFFLOAD_THREADS_MAX	256
#define OFFLOAD_QUEUE_MAX	65536

int	offload_start(const struct offload_config *);
/* Wait for the queued and running jobs, then join the threads. */
void	offload_stop(void);
/*
 * Shutting down: requests still queued are answered 503 with
 * Retry-After instead of being served, so that the HTTP server's grace
 * period is spent only on those already running.
 */
void	offload_quiesce(void);
bool	offload_quiescing(void);

/*
 * Run fn(arg) on pool p, counted against client (NULL: not counted
 * against any).  PDS_OK (fn will run exactly once), PDS_EBUSY when the
 * queue is full, PDS_ERATELIMIT when client has client_max jobs in
 * the pool already, PDS_ENOMEM; then fn never runs.  *retry_s (may be
 * NULL) gets the seconds a refused client should wait.
 */
int	offload_submit(enum offload_pool p, const char *client,
	    void (*fn)(void *), void *arg, unsigned *retry_s);

/*
 * The key req's jobs are counted under: its client's address, or NULL
 * (not counted) when it carries the rate-limit bypass (ratelimit.h), as
 * a trusted load generator or service does.
 */
const char *offload_client(struct http_req *);

/*
 * Serve req with fn(req, arg) on pool p: defer req, run fn there and
 * resume req after it.  fn sets the reply like any handler, but must
 * not defer it again.  A refusal is answered at once (503 or 429 as
 * above, with Retry-After, in XRPC's error shape).  Returns the
 * submission's code.
 */
int	offload_http(struct http_req *, enum offload_pool p,
	    http_handler_fn fn, const void *arg);

/*
 * For routes_add(): an http handler that runs route->fn on route->pool
 * (route is the handler's arg and must outlive the server).
 */
struct offload_route {
	enum offload_pool	 pool;
	http_handler_fn		 fn;
	const void		*arg;
};
void	offload_route_handler(struct http_req *, const void *route);

/* Reply 503/429 for a refusal code, with Retry-After: retry_s. */
void	offload_reply_refused(struct http_req *, int code, unsigned retry_s);

/* ---- the guard (per thread) ---- */

enum offload_guard {
	OFFLOAD_GUARD_NONE,
	OFFLOAD_GUARD_RETRY,	/* the caller redoes the work on the pool */
	OFFLOAD_GUARD_DEGRADE,	/* it does not: use caches, refresh behind */
};

void	offload_guard_begin(enum offload_guard);
/* Ends the guard; true if something would have blocked meanwhile. */
bool	offload_guard_end(void);
enum offload_guard offload_guard(void);
/*
 * For code about to make a network call: true (and noted) when this
 * thread is guarded, and the call must fail instead (PDS_EIO).
 */
bool	offload_would_block(void);

/* Numbers for tests and the admin socket. */
struct offload_stats {
	unsigned	threads, queue_max, client_max;
	unsigned	queued, running;
	unsigned long	done, refused_busy, refused_client;
};
void	offload_get_stats(enum offload_pool, struct offload_stats *);

#endif
