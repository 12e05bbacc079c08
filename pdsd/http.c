/*
 * http: libmicrohttpd glue.  See http.h for the contract.
 *
 * libmicrohttpd runs an internal pool of worker threads, each with its
 * own epoll set and its own share of the connections; a request is
 * handled start to finish on one worker, so nothing on the request path
 * takes a global lock (the in-flight counter and the count of body bytes
 * held in memory are atomics).
 *
 * Early answers and unread bodies: libmicrohttpd takes a reply only
 * when the headers are in or the whole body is; one queued at headers
 * time makes it stop reading and close after sending, and closing a
 * socket with unread bytes sends a reset, which a client still writing
 * its body sees as EPIPE before it ever reads the answer.  So when an
 * answer chosen before the body (413, 503, a 401 from the dispatch
 * function) leaves a body unread, the connection's slot is marked to
 * linger: when libmicrohttpd lets the connection go (after sending the
 * answer; it takes the socket out of its epoll set itself), the
 * housekeeping thread keeps a duplicate of the socket, shuts down its
 * sending side (FIN after the answer) and reads and drops what the
 * client still sends, up to DRAIN_413 or DRAIN_OTHER bytes and for at
 * most DRAIN_MS, then closes it.  At most LINGER_MAX sockets linger;
 * past that they are closed at once.  A body found too big only midway
 * (chunked) cannot be answered before its end with this libmicrohttpd:
 * it is read and dropped, within the same bounds, and answered after.
 *
 * The head deadline: libmicrohttpd's timeout is an idle timeout, which
 * a client sending one header byte every few seconds never reaches.
 * Each connection has a slot (MHD_OPTION_NOTIFY_CONNECTION) with its
 * socket and the time by which its request head must be complete; a
 * reaper thread shuts down the sockets past their deadline, which
 * libmicrohttpd then sees as a closed connection.
 *
 * Connections per address: counted here (an accept policy and the same
 * connection notifications) rather than by libmicrohttpd's own limit,
 * so that a trusted reverse proxy (PDS_TRUSTED_PROXIES), whose
 * connections carry every client's requests, is not held to the limit
 * meant for one client; in front of pdsd it guards against slow heads
 * itself.  IPv6 addresses count by their /64, the block one subscriber
 * usually holds.  The counts live in an open-addressed table of
 * IPC_PROBE-slot windows under slots_mu, with a hash seeded at start;
 * an address whose window is full is not counted (it is still held to
 * the total connection cap).
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "stats.h"
#include "syntax.h"

/* the most body bytes read and dropped to deliver an early answer */
#define DRAIN_413	((uint64_t)128 << 20)	/* a 413: the client means it */
#define DRAIN_OTHER	((uint64_t)1 << 20)	/* 401, 503: it may not */
#define DRAIN_MS	5000
#define LINGER_MAX	1024
#define REAP_MS		250		/* how often deadlines are checked */

enum reply_kind { R_NONE, R_MEM, R_STREAM, R_UPGRADE, R_FD };
enum req_state { ST_READING, ST_REPLIED, ST_QUEUED, ST_UPGRADED,
    ST_DEFERRED };
/* http_req_defer(): none, deferred, suspended, or resumed early */
enum defer_state { DF_NONE, DF_DEFERRED, DF_SUSPENDED, DF_READY };

struct hdr {
	char	*name;
	char	*value;
};

struct stream {
	http_stream_fn	 fn;
	void		*arg;
	void		(*free_fn)(void *);
	struct MHD_Connection *conn;
	bool		 suspended;	/* under defer_mu: waits for a wake */
	bool		 woken;		/* under defer_mu: a wake came early */
	uint64_t	 size;		/* MHD_SIZE_UNKNOWN: chunked */
};

struct upgrade {
	http_upgrade_fn	 fn;
	void		*arg;
	void		(*free_fn)(void *);
	bool		 fired;		/* fn ran: arg is fn's now */
};

struct http_req {
	struct MHD_Connection	*conn;
	enum http_method	 m;
	const char		*method;
	const char		*path;
	struct timespec		 start;
	struct http_target	 t;
	enum req_state		 state;
	enum defer_state	 defer;		/* under defer_mu */
	struct buf		 body;
	http_body_fn		 sink_fn;	/* or NULL: collect in body */
	void			*sink_arg;
	void			(*sink_free)(void *);
	uint64_t		 body_seen;	/* bytes given to sink_fn */
	uint64_t		 held;		/* of body_held, ours */
	uint64_t		 drain_left;	/* body bytes still droppable */
	int64_t			 drain_until;	/* ms, monotonic */

	/* the reply */
	unsigned		 status;
	enum reply_kind		 kind;
	char			 ctype[128];
	const void		*mem;	/* R_MEM */
	void			*data;	/* mem when malloc'd and ours */
	size_t			 len;
	struct stream		*stream;
	struct upgrade		*upgrade;	/* R_UPGRADE */
	int			 fd;		/* R_FD: ours until queued */
	uint64_t		 fd_size;
	uint64_t		 fd_off;
	struct hdr		 hdrs[HTTP_MAX_EXTRA_HEADERS];
	size_t			 nhdrs;

	char			 remote[INET6_ADDRSTRLEN];
	char			 client[64];	/* http_req_client() */
	char			 host[256];
	bool			 have_host;
	bool			 query_skip_empty;	/* see http.h */
	void			*ud;
	void			(*ud_free)(void *);
};

static struct MHD_Daemon	*daemon_h;
static pthread_mutex_t		 defer_mu = PTHREAD_MUTEX_INITIALIZER;
static http_dispatch_fn		 dispatch;
static atomic_int		 inflight;
static int			 quiesced_fd = -1;
static void			(*stop_hook)(void);
/* every finished request, and those answered 5xx (one atomic add each) */
static struct stats_counter	*c_requests, *c_errors;
/* body bytes collected in memory by all requests, and the cap (0: none) */
static atomic_uint_fast64_t	 body_held;
static uint64_t			 body_cap;

/* A connection's head deadline and linger (see the top of the file). */
struct conn_slot {
	int			 fd;
	bool			 busy;		/* in a request: no deadline */
	bool			 reaped;
	int64_t			 deadline;	/* ms, monotonic */
	uint64_t		 linger;	/* bytes to drop after close */
	bool			 counted;	/* in ipc[] under key */
	uint8_t			 key[16];
	LIST_ENTRY(conn_slot)	 link;		/* on slots */
};

/* A socket libmicrohttpd is done with, read and dropped for a while. */
struct lingerer {
	int			 fd;
	uint64_t		 left;
	int64_t			 until;		/* ms, monotonic */
};

static struct lingerer		 lingers[LINGER_MAX];	/* under slots_mu */
static size_t			 nlingers;
static int			 wake_fd[2] = { -1, -1 };

static pthread_mutex_t		 slots_mu = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(, conn_slot)	 slots = LIST_HEAD_INITIALIZER(slots);
static pthread_t		 reaper;
static bool			 reaper_on, reaper_stop;
static unsigned			 head_ms, idle_s;

/* Connections per address (see the top of the file). */
#define IPC_PROBE	32
#define IPC_MIN		1024
#define IPC_MAX		65536

struct ip_count {
	uint8_t		 addr[16];	/* IPv4 as ::ffff:a.b.c.d */
	unsigned	 n;		/* 0: free */
};

static struct ip_count		*ipc;		/* under slots_mu */
static size_t			 ipc_mask;
static uint64_t			 ipc_seed;
static unsigned			 per_ip_max;
static struct stats_counter	*c_per_ip;

/*
 * The key sa counts under, or false when sa is no IP address or is a
 * trusted proxy (not counted).
 */
static bool
ip_key(const struct sockaddr *sa, uint8_t key[16])
{
	char	 text[INET6_ADDRSTRLEN];

	memset(key, 0, 16);
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		if (inet_ntop(AF_INET, &in->sin_addr, text,
		    sizeof(text)) == NULL)
			return false;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		if (inet_ntop(AF_INET6, &in6->sin6_addr, text,
		    sizeof(text)) == NULL)
			return false;
		memcpy(key, &in6->sin6_addr, 16);
		if (!IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			memset(key + 8, 0, 8);	/* the /64 */
	} else
		return false;
	return !ratelimit_proxy_trusted(text);
}

/* The entry of key (created empty if absent and create), or NULL. */
static struct ip_count *
ipc_find(const uint8_t key[16], bool create)
{
	struct ip_count	*e, *free_e = NULL;
	uint64_t	 h = ipc_seed;
	size_t		 i;

	for (i = 0; i < 16; i++)		/* FNV-1a, seeded */
		h = (h ^ key[i]) * 0x100000001b3ULL;
	for (i = 0; i < IPC_PROBE; i++) {
		e = &ipc[(h + i) & ipc_mask];
		if (e->n > 0 && memcmp(e->addr, key, 16) == 0)
			return e;
		if (e->n == 0 && free_e == NULL)
			free_e = e;
	}
	if (!create || free_e == NULL)
		return NULL;
	memcpy(free_e->addr, key, 16);
	return free_e;
}

/* libmicrohttpd's accept policy: refuse an address at its limit. */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct ip_count	*e;
	uint8_t		 key[16];
	bool		 full;

	(void)cls;
	(void)len;
	if (ipc == NULL || !ip_key(sa, key))
		return MHD_YES;
	pthread_mutex_lock(&slots_mu);
	full = (e = ipc_find(key, false)) != NULL && e->n >= per_ip_max;
	pthread_mutex_unlock(&slots_mu);
	if (full) {
		stats_add(c_per_ip, 1);
		return MHD_NO;
	}
	return MHD_YES;
}

/* Once libmicrohttpd has stopped (or never started). */
static void
ipc_end(void)
{
	free(ipc);
	ipc = NULL;
}

static const char cors_expose[] =
    "dpop-nonce, www-authenticate, atproto-repo-rev, "
    "atproto-content-labelers, ratelimit-limit, ratelimit-remaining, "
    "ratelimit-reset, ratelimit-policy";

static enum http_method
method_of(const char *m)
{
	switch (m[0]) {
	case 'G': return strcmp(m, "GET") == 0 ? HTTP_GET : HTTP_OTHER;
	case 'H': return strcmp(m, "HEAD") == 0 ? HTTP_HEAD : HTTP_OTHER;
	case 'P':
		if (strcmp(m, "POST") == 0)
			return HTTP_POST;
		if (strcmp(m, "PUT") == 0)
			return HTTP_PUT;
		return strcmp(m, "PATCH") == 0 ? HTTP_PATCH : HTTP_OTHER;
	case 'D': return strcmp(m, "DELETE") == 0 ? HTTP_DELETE : HTTP_OTHER;
	case 'O': return strcmp(m, "OPTIONS") == 0 ? HTTP_OPTIONS : HTTP_OTHER;
	}
	return HTTP_OTHER;
}

/* ---- request accessors ---- */

enum http_method
http_req_method(const struct http_req *r)
{
	return r->m;
}

const char *
http_req_method_str(const struct http_req *r)
{
	return r->method;
}

const char *
http_req_path(const struct http_req *r)
{
	return r->path;
}

const char *
http_req_header(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
http_req_query(const struct http_req *r, const char *key)
{
	const char *v;

	if (r->query_skip_empty) {
		if (http_req_query_all(r, key, &v, 1) == 0)
			return NULL;
		return v;
	}
	v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
	if (v == NULL && MHD_lookup_connection_value_n(r->conn,
	    MHD_GET_ARGUMENT_KIND, key, strlen(key), NULL, NULL) == MHD_YES)
		return "";		/* "?key" without a value */
	return v;
}

struct qall {
	const char	 *key;
	const char	**out;
	size_t		  max, n;
	bool		  skip_empty;
};

static enum MHD_Result
qall_iter(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct qall	*q = cls;

	if (strcmp(key, q->key) == 0) {
		if (q->skip_empty && (value == NULL || *value == '\0'))
			return MHD_YES;
		if (q->n < q->max)
			q->out[q->n] = value != NULL ? value : "";
		q->n++;
	}
	return MHD_YES;
}

size_t
http_req_query_all(const struct http_req *r, const char *key,
    const char **out, size_t max)
{
	struct qall	 q = { key, out, max, 0, r->query_skip_empty };

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, qall_iter,
	    &q);
	return q.n;
}

struct qeach {
	void	(*fn)(void *, const char *, const char *);
	void	 *arg;
};

static enum MHD_Result
qeach_iter(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct qeach	*q = cls;

	q->fn(q->arg, key, value != NULL ? value : "");
	return MHD_YES;
}

void
http_req_query_skip_empty(struct http_req *r)
{
	r->query_skip_empty = true;
}

void
http_req_query_each(const struct http_req *r,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	struct qeach	 q = { fn, arg };

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, qeach_iter,
	    &q);
}

const uint8_t *
http_req_body(const struct http_req *r, size_t *lenp)
{
	*lenp = r->body.len;
	return r->body.p != NULL ? r->body.p : (const uint8_t *)"";
}

void
http_req_body_sink(struct http_req *r, http_body_fn fn, void *arg,
    void (*free_fn)(void *))
{
	r->sink_fn = fn;
	r->sink_arg = arg;
	r->sink_free = free_fn;
}

void *
http_req_sink_arg(const struct http_req *r)
{
	return r->sink_fn != NULL ? r->sink_arg : NULL;
}

/* Release the body sink now (the body was refused, or the request ends). */
static void
sink_end(struct http_req *r)
{
	void	(*free_fn)(void *) = r->sink_free;
	void	 *arg = r->sink_arg;

	r->sink_fn = NULL;
	r->sink_arg = NULL;
	r->sink_free = NULL;
	if (free_fn != NULL)
		free_fn(arg);
}

const char *
http_req_remote(struct http_req *r)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	if (r->remote[0] != '\0')
		return r->remote;
	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci != NULL ? ci->client_addr : NULL;
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, r->remote, sizeof(r->remote));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, r->remote,
		    sizeof(r->remote));
	if (r->remote[0] == '\0')
		memcpy(r->remote, "-", 2);
	return r->remote;
}

const char *
http_req_client(struct http_req *r)
{
	const char	*peer = http_req_remote(r), *xff, *end, *p;
	char		 a[sizeof(r->client)];
	uint8_t		 bin[16];
	size_t		 n;

	if (r->client[0] != '\0')
		return r->client;
	if (!ratelimit_proxy_trusted(peer) ||
	    (xff = http_req_header(r, "X-Forwarded-For")) == NULL)
		return peer;
	/*
	 * Walk the list from its end (the entry the proxy itself added)
	 * past the trusted proxies; the first other address is the client.
	 * Anything that is not an address stops the walk.
	 */
	memcpy(r->client, peer, strlen(peer) + 1);
	end = xff + strlen(xff);
	while (end > xff) {
		p = end;
		while (p > xff && p[-1] != ',')
			p--;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(a))
			break;
		memcpy(a, p, n);
		a[n] = '\0';
		if (inet_pton(AF_INET, a, bin) != 1 &&
		    inet_pton(AF_INET6, a, bin) != 1)
			break;
		memcpy(r->client, a, n + 1);
		if (!ratelimit_proxy_trusted(a))
			break;
		end = p;
		while (end > xff && end[-1] != ',')
			end--;
		if (end > xff)
			end--;		/* the comma */
	}
	return r->client;
}

const char *
http_req_host(struct http_req *r)
{
	const char	*h, *end;
	size_t		 n, i;

	if (r->have_host)
		return r->host[0] != '\0' ? r->host : NULL;
	r->have_host = true;
	if ((h = http_req_header(r, "Host")) == NULL)
		return NULL;
	if (h[0] == '[')			/* [v6]:port */
		end = strchr(h, ']') ? strchr(h, ']') + 1 : h + strlen(h);
	else if ((end = strchr(h, ':')) == NULL)
		end = h + strlen(h);
	n = (size_t)(end - h);
	if (n == 0 || n >= sizeof(r->host))
		return NULL;
	for (i = 0; i < n; i++)
		r->host[i] = (char)tolower((unsigned char)h[i]);
	r->host[n] = '\0';
	return r->host;
}

void *
http_req_userdata(const struct http_req *r)
{
	return r->ud;
}

void
http_req_set_userdata(struct http_req *r, void *ud, void (*free_fn)(void *))
{
	r->ud = ud;
	r->ud_free = free_fn;
}

/* ---- reply ---- */

static void
reply_clear(struct http_req *r)
{
	free(r->data);
	r->data = NULL;
	r->mem = NULL;
	r->len = 0;
	if (r->stream != NULL) {
		if (r->stream->free_fn != NULL)
			r->stream->free_fn(r->stream->arg);
		free(r->stream);
		r->stream = NULL;
	}
	if (r->upgrade != NULL) {
		if (!r->upgrade->fired && r->upgrade->free_fn != NULL)
			r->upgrade->free_fn(r->upgrade->arg);
		free(r->upgrade);
		r->upgrade = NULL;
	}
	if (r->kind == R_FD && r->fd != -1) {
		close(r->fd);
		r->fd = -1;
	}
	r->kind = R_NONE;
}

static void
set_ctype(struct http_req *r, const char *ct)
{
	size_t	 n = strlen(ct);

	if (n >= sizeof(r->ctype) || strpbrk(ct, "\r\n") != NULL)
		ct = "application/octet-stream", n = strlen(ct);
	memcpy(r->ctype, ct, n + 1);
}

/* After reply_clear() and the body's fields: what the reply is. */
static void
reply_set(struct http_req *r, unsigned status, enum reply_kind kind,
    const char *ct)
{
	r->status = status;
	r->kind = kind;
	set_ctype(r, ct);
}

/* Out of memory: release what the caller handed over, and reply 500. */
static void
reply_oom(struct http_req *r, void (*free_fn)(void *), void *arg)
{
	if (free_fn != NULL)
		free_fn(arg);
	http_reply_error(r, 500, "InternalServerError",
	    "Internal Server Error");
}

/* A body in memory; owned (NULL for a static one) is freed after. */
static void
reply_mem(struct http_req *r, unsigned status, const char *ct,
    const void *body, void *owned, size_t len)
{
	reply_clear(r);
	r->mem = body;
	r->data = owned;
	r->len = len;
	reply_set(r, status, R_MEM, ct);
}

void
http_reply_owned(struct http_req *r, unsigned status, const char *ct,
    void *data, size_t len)
{
	reply_mem(r, status, ct, data, data, len);
}

void
http_reply_static(struct http_req *r, unsigned status, const char *ct,
    const void *data, size_t len)
{
	reply_mem(r, status, ct, data, NULL, len);
}

int
http_reply_bytes(struct http_req *r, unsigned status, const char *ct,
    const void *data, size_t len)
{
	void	*copy;

	if ((copy = malloc(len ? len : 1)) == NULL) {
		reply_oom(r, NULL, NULL);
		return PDS_ENOMEM;
	}
	if (len > 0)
		memcpy(copy, data, len);
	http_reply_owned(r, status, ct, copy, len);
	return PDS_OK;
}

void
http_reply_json(struct http_req *r, unsigned status, json_t *body)
{
	char	*s;

	s = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (s == NULL) {
		static const char oom[] = "{\"error\":\"InternalServerError\","
		    "\"message\":\"Internal Server Error\"}";
		http_reply_static(r, 500, "application/json; charset=utf-8",
		    oom, sizeof(oom) - 1);
		return;
	}
	http_reply_owned(r, status, "application/json; charset=utf-8", s,
	    strlen(s));
}

void
http_reply_error(struct http_req *r, unsigned status, const char *name,
    const char *msg)
{
	json_t	*o;

	o = json_pack("{s:s,s:s}", "error", name, "message",
	    msg != NULL ? msg : name);
	http_reply_json(r, status, o);
	r->status = status;
}

void
http_reply_stream(struct http_req *r, unsigned status, const char *ct,
    http_stream_fn fn, void *arg, void (*free_fn)(void *))
{
	struct stream	*s;

	reply_clear(r);
	if ((s = malloc(sizeof(*s))) == NULL) {
		reply_oom(r, free_fn, arg);
		return;
	}
	s->fn = fn;
	s->arg = arg;
	s->free_fn = free_fn;
	s->conn = r->conn;
	s->suspended = s->woken = false;
	s->size = MHD_SIZE_UNKNOWN;
	r->stream = s;
	reply_set(r, status, R_STREAM, ct);
}

struct http_stream *
http_reply_stream_handle(struct http_req *r)
{
	return r->kind == R_STREAM ? (struct http_stream *)r->stream : NULL;
}

void
http_stream_wake(struct http_stream *hs)
{
	struct stream	*s = (struct stream *)hs;

	pthread_mutex_lock(&defer_mu);
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	} else
		s->woken = true;
	pthread_mutex_unlock(&defer_mu);
}

void
http_reply_stream_len(struct http_req *r, unsigned status, const char *ct,
    uint64_t size, http_stream_fn fn, void *arg, void (*free_fn)(void *))
{
	http_reply_stream(r, status, ct, fn, arg, free_fn);
	if (r->stream != NULL)
		r->stream->size = size;
}

void
http_reply_fd(struct http_req *r, unsigned status, const char *ct, int fd,
    uint64_t size)
{
	reply_clear(r);
	r->fd = fd;
	r->fd_size = size;
	r->fd_off = 0;
	reply_set(r, status, R_FD, ct);
}

void
http_reply_fd_at(struct http_req *r, unsigned status, const char *ct,
    int fd, uint64_t off, uint64_t size)
{
	http_reply_fd(r, status, ct, fd, size);
	r->fd_off = off;
}

void
http_reply_upgrade(struct http_req *r, http_upgrade_fn fn, void *arg,
    void (*free_fn)(void *))
{
	struct upgrade	*u;

	reply_clear(r);
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		reply_oom(r, free_fn, arg);
		return;
	}
	u->fn = fn;
	u->arg = arg;
	u->free_fn = free_fn;
	r->upgrade = u;
	r->status = 101;
	r->kind = R_UPGRADE;
	r->ctype[0] = '\0';
}

void
http_upgraded_close(struct http_upgraded *h)
{
	(void)MHD_upgrade_action((struct MHD_UpgradeResponseHandle *)
	    (void *)h, MHD_UPGRADE_ACTION_CLOSE);
}

void
http_set_stop_hook(void (*fn)(void))
{
	stop_hook = fn;
}

int
http_reply_header(struct http_req *r, const char *name, const char *value)
{
	struct hdr	*h;

	if (r->nhdrs >= HTTP_MAX_EXTRA_HEADERS ||
	    strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return PDS_EINVAL;
	h = &r->hdrs[r->nhdrs];
	if ((h->name = strdup(name)) == NULL ||
	    (h->value = strdup(value)) == NULL) {
		free(h->name);
		h->name = NULL;
		return PDS_ENOMEM;
	}
	r->nhdrs++;
	return PDS_OK;
}

unsigned
http_reply_status(const struct http_req *r)
{
	return r->status;
}

/* ---- libmicrohttpd callbacks ---- */

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream	*s = cls;
	ssize_t		 n;

	/*
	 * HTTP_STREAM_WAIT: suspend the connection until the wake, unless
	 * the wake came in between (then ask again).
	 */
	while ((n = s->fn(s->arg, pos, buf, max)) == HTTP_STREAM_WAIT) {
		pthread_mutex_lock(&defer_mu);
		if (!s->woken) {
			s->suspended = true;
			MHD_suspend_connection(s->conn);
			pthread_mutex_unlock(&defer_mu);
			return 0;
		}
		s->woken = false;
		pthread_mutex_unlock(&defer_mu);
	}
	if (n == HTTP_STREAM_END)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void
stream_free(void *cls)
{
	struct stream	*s = cls;

	if (s->free_fn != NULL)
		s->free_fn(s->arg);
	free(s);
}

/*
 * The 101 is out: hand the socket over.  The request stops counting as
 * in flight (its socket may stay open for hours).
 */
static void
on_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
    const char *extra, size_t extra_len, MHD_socket sock,
    struct MHD_UpgradeResponseHandle *urh)
{
	struct http_req	*r = con_cls;
	struct upgrade	*u = r->upgrade;
	int		 fl;

	if ((fl = fcntl(sock, F_GETFL)) != -1)
		(void)fcntl(sock, F_SETFL, fl | O_NONBLOCK);
	u->fired = true;
	r->state = ST_UPGRADED;
	atomic_fetch_sub_explicit(&inflight, 1, memory_order_relaxed);
	u->fn(u->arg, sock, (const uint8_t *)extra, extra_len,
	    (struct http_upgraded *)(void *)urh);
}

static void
add_cors(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(resp, "Access-Control-Expose-Headers",
	    cors_expose);
}

/* Turn r's reply into a libmicrohttpd response and queue it. */
static enum MHD_Result
queue_reply(struct http_req *r)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	size_t			 i;

	if (r->kind == R_NONE || r->status < 100 || r->status > 599) {
		log_warnx("http: %s %s: handler set no reply", r->method,
		    r->path);
		reply_clear(r);
		http_reply_error(r, 500, "InternalServerError",
		    "Internal Server Error");
	}
	switch (r->kind) {
	case R_MEM:
		/* r->data stays ours until on_completed(), after the send */
		resp = MHD_create_response_from_buffer(r->len,
		    (void *)(uintptr_t)r->mem, MHD_RESPMEM_PERSISTENT);
		break;
	case R_STREAM:
		resp = MHD_create_response_from_callback(r->stream->size,
		    32 * 1024, stream_read, r->stream, stream_free);
		if (resp != NULL)
			r->stream = NULL;	/* MHD owns it now */
		break;
	case R_UPGRADE:
		resp = MHD_create_response_for_upgrade(on_upgraded, NULL);
		break;
	case R_FD:
		resp = MHD_create_response_from_fd_at_offset64(r->fd_size,
		    r->fd, r->fd_off);
		if (resp != NULL)
			r->fd = -1;		/* MHD closes it */
		break;
	default:
		resp = NULL;
	}
	if (resp == NULL)
		return MHD_NO;
	if (r->ctype[0] != '\0')
		MHD_add_response_header(resp, "Content-Type", r->ctype);
	add_cors(resp);
	for (i = 0; i < r->nhdrs; i++)
		MHD_add_response_header(resp, r->hdrs[i].name,
		    r->hdrs[i].value);
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		r->state = ST_QUEUED;
	return ret;
}

static bool
token_list(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++, n++)
		if (n > 1024 || !(isalnum((unsigned char)*s) ||
		    strchr("-_, ", *s) != NULL))
			return false;
	return true;
}

static enum MHD_Result
preflight(struct http_req *r)
{
	struct MHD_Response	*resp;
	const char		*h;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(resp, "Access-Control-Allow-Methods",
	    "GET,HEAD,PUT,PATCH,POST,DELETE");
	h = http_req_header(r, "Access-Control-Request-Headers");
	if (h != NULL && token_list(h))
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
		    h);
	MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
	MHD_add_response_header(resp, "Vary",
	    "Access-Control-Request-Headers");
	r->status = 204;
	ret = MHD_queue_response(r->conn, 204, resp);
	MHD_destroy_response(resp);
	r->state = ST_QUEUED;
	return ret;
}

/* Take n more bytes of the server-wide body allowance, if there is room. */
static bool
body_hold(struct http_req *r, uint64_t n)
{
	uint_fast64_t	 cur;

	if (body_cap == 0)
		return true;
	cur = atomic_load_explicit(&body_held, memory_order_relaxed);
	do {
		if (n > body_cap || cur > body_cap - n)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&body_held, &cur,
	    cur + n, memory_order_relaxed, memory_order_relaxed));
	r->held += n;
	return true;
}

/* Drop the collected body and give its allowance back. */
static void
body_release(struct http_req *r)
{
	buf_clear(&r->body);
	if (r->held > 0)
		atomic_fetch_sub_explicit(&body_held, r->held,
		    memory_order_relaxed);
	r->held = 0;
}

/* Too many bodies in memory already: 503, the body is not read. */
static void
too_busy(struct http_req *r)
{
	reply_clear(r);
	http_reply_error(r, 503, "NotEnoughResources",
	    "too many request bodies in progress; try again later");
	r->state = ST_REPLIED;
	body_release(r);
	sink_end(r);
}

static void
too_large(struct http_req *r)
{
	char	 msg[96];

	snprintf(msg, sizeof(msg), "request entity too large (limit %zu "
	    "bytes)", r->t.body_max);
	reply_clear(r);
	http_reply_error(r, 413, "PayloadTooLarge", msg);
	r->state = ST_REPLIED;
	sink_end(r);		/* a streamed body's partial output goes now */
}

/* One piece of the body: collect it, or give it to the sink. */
static void
body_piece(struct http_req *r, const char *data, size_t n)
{
	if (r->t.body_max == 0 || n > r->t.body_max - r->body_seen) {
		too_large(r);
		body_release(r);
		return;
	}
	if (r->sink_fn == NULL) {
		if (r->body.len + n > r->held &&
		    !body_hold(r, r->body.len + n - r->held)) {
			too_busy(r);
			return;
		}
		if (buf_append(&r->body, data, n) != PDS_OK) {
			too_large(r);
			body_release(r);
		}
		return;
	}
	r->body_seen += n;
	if (r->sink_fn(r->sink_arg, (const uint8_t *)data, n) != 0) {
		if (r->kind == R_NONE)
			http_reply_error(r, 500, "InternalServerError",
			    "Internal Server Error");
		r->state = ST_REPLIED;
		sink_end(r);
	}
}

/* Stands for "answer the CORS preflight"; never called. */
static void
preflight_marker(struct http_req *r, const void *arg)
{
}

static void
not_found(struct http_req *r, const void *arg)
{
	http_reply_error(r, 404, "NotFound", "Not Found");
}

/* Wake the housekeeping thread. */
static void
wake(void)
{
	if (write(wake_fd[1], "", 1) == -1 && errno != EAGAIN)
		log_warn("http: waking the housekeeping thread");
}

/* The connection's slot, or NULL. */
static struct conn_slot *
slot_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/*
 * A request head is in (busy), or a request is over: the next head must
 * come within the idle timeout plus the head deadline.
 */
static void
slot_busy(struct MHD_Connection *conn, bool busy)
{
	struct conn_slot *sl;

	if ((sl = slot_of(conn)) == NULL)
		return;
	pthread_mutex_lock(&slots_mu);
	sl->busy = busy;
	if (!busy && head_ms > 0)
		sl->deadline = clock_mono_ms() + (int64_t)idle_s * 1000 + head_ms;
	pthread_mutex_unlock(&slots_mu);
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **sctx,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct conn_slot *sl;
	int		 fd;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD)) == NULL ||
		    (sl = calloc(1, sizeof(*sl))) == NULL)
			return;
		sl->fd = ci->connect_fd;
		sl->deadline = head_ms > 0 ? clock_mono_ms() + head_ms :
		    INT64_MAX;
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		sl->counted = ipc != NULL && ci != NULL &&
		    ip_key(ci->client_addr, sl->key);
		pthread_mutex_lock(&slots_mu);
		if (sl->counted) {
			struct ip_count	*e = ipc_find(sl->key, true);

			if (e != NULL)
				e->n++;
			else
				sl->counted = false;
		}
		LIST_INSERT_HEAD(&slots, sl, link);
		pthread_mutex_unlock(&slots_mu);
		*sctx = sl;
		return;
	}
	if ((sl = *sctx) == NULL)
		return;
	/* before libmicrohttpd closes the socket: the reaper lets go */
	pthread_mutex_lock(&slots_mu);
	if (sl->counted) {
		struct ip_count	*e = ipc_find(sl->key, false);

		if (e != NULL && e->n > 0)
			e->n--;
	}
	LIST_REMOVE(sl, link);
	if (sl->linger > 0 && nlingers < LINGER_MAX &&
	    (fd = fcntl(sl->fd, F_DUPFD_CLOEXEC, 0)) != -1) {
		(void)fcntl(fd, F_SETFL, O_NONBLOCK);
		(void)shutdown(fd, SHUT_WR);
		lingers[nlingers].fd = fd;
		lingers[nlingers].left = sl->linger;
		lingers[nlingers].until = clock_mono_ms() + DRAIN_MS;
		nlingers++;
		wake();
	}
	pthread_mutex_unlock(&slots_mu);
	free(sl);
	*sctx = NULL;
}

/* Read and drop what lingering sockets have; close the finished ones. */
static void
linger_run(const struct pollfd *pf, size_t n, int64_t now)
{
	static char	 sink[65536];
	struct lingerer	*l;
	ssize_t		 k = 0;	/* read only after a recv() */
	size_t		 i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < nlingers && lingers[j].fd != pf[i].fd; j++)
			;
		if (j == nlingers || pf[i].revents == 0)
			continue;
		l = &lingers[j];
		while (l->left > 0 && (k = recv(l->fd, sink, sizeof(sink),
		    0)) > 0)
			l->left = (uint64_t)k >= l->left ? 0 :
			    l->left - (uint64_t)k;
		if (l->left == 0 || k == 0 || (errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR))
			l->until = 0;		/* done */
	}
	for (j = 0; j < nlingers; ) {
		if (now < lingers[j].until) {
			j++;
			continue;
		}
		close(lingers[j].fd);
		lingers[j] = lingers[--nlingers];
	}
}

/*
 * The housekeeping thread: lingering sockets, and the sockets whose
 * request head is late, which it shuts down.
 */
static void *
reaper_main(void *arg)
{
	static struct pollfd pf[LINGER_MAX + 1];
	struct conn_slot *sl;
	char		 junk[64];
	size_t		 n, i;
	int64_t		 now;

	pthread_mutex_lock(&slots_mu);
	while (!reaper_stop) {
		pf[0].fd = wake_fd[0];
		pf[0].events = POLLIN;
		for (n = 0; n < nlingers; n++) {
			pf[n + 1].fd = lingers[n].fd;
			pf[n + 1].events = POLLIN;
			pf[n + 1].revents = 0;
		}
		pthread_mutex_unlock(&slots_mu);
		(void)poll(pf, n + 1, REAP_MS);
		if (pf[0].revents != 0)
			while (read(wake_fd[0], junk, sizeof(junk)) > 0)
				;
		pthread_mutex_lock(&slots_mu);
		now = clock_mono_ms();
		linger_run(pf + 1, n, now);
		LIST_FOREACH(sl, &slots, link)
			if (!sl->busy && !sl->reaped && now > sl->deadline) {
				(void)shutdown(sl->fd, SHUT_RDWR);
				sl->reaped = true;
				log_debug("http: request head too slow; "
				    "connection closed");
			}
	}
	for (i = 0; i < nlingers; i++)
		close(lingers[i].fd);
	nlingers = 0;
	pthread_mutex_unlock(&slots_mu);
	return NULL;
}

/*
 * An answer was chosen before the body: send it now, and if a body is
 * coming, have the connection linger when it closes (see the top of
 * the file).
 */
static enum MHD_Result
early_answer(struct http_req *r, bool have_cl, uint64_t cl)
{
	const char	*te = http_req_header(r, "Transfer-Encoding");
	bool		 chunked = te != NULL && strcasestr(te, "chunked");
	struct conn_slot *sl;

	if ((chunked || (have_cl && cl > 0)) &&
	    http_req_header(r, "Expect") == NULL &&
	    (sl = slot_of(r->conn)) != NULL) {
		pthread_mutex_lock(&slots_mu);
		sl->linger = r->status == 413 ? DRAIN_413 : DRAIN_OTHER;
		pthread_mutex_unlock(&slots_mu);
	}
	return queue_reply(r);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **ctx)
{
	struct http_req	*r = *ctx;
	uint64_t	 cl = 0;
	bool		 have_cl;

	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		r->fd = -1;
		r->conn = conn;
		r->method = method;
		r->m = method_of(method);
		r->path = url;
		*ctx = r;
		atomic_fetch_add_explicit(&inflight, 1, memory_order_relaxed);
		slot_busy(conn, true);
		if (r->m == HTTP_OPTIONS)
			r->t.fn = preflight_marker;
		else
			dispatch(r, &r->t);
		/*
		 * No handler: 404 at once, before any body byte is read, so
		 * an unknown path never reads as "limit 0 bytes" (413).
		 */
		if (r->t.fn == NULL && r->kind == R_NONE) {
			r->t.fn = not_found;
			not_found(r, NULL);
		}
		buf_init(&r->body, r->t.body_max ? r->t.body_max : 1);
		have_cl = syntax_dec_u64(http_req_header(r,
		    "Content-Length"), &cl);
		if (r->kind != R_NONE) {	/* dispatch answered already */
			r->state = ST_REPLIED;
			sink_end(r);
		} else if (have_cl && cl > r->t.body_max)
			too_large(r);
		else if (have_cl && cl > 0 && r->sink_fn == NULL &&
		    !body_hold(r, cl))
			too_busy(r);
		if (r->state == ST_REPLIED)
			return early_answer(r, have_cl, cl);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (r->state == ST_READING) {
			body_piece(r, upload, *upload_size);
			if (r->state == ST_REPLIED) {
				r->drain_left = r->status == 413 ?
				    DRAIN_413 : DRAIN_OTHER;
				r->drain_until = clock_mono_ms() + DRAIN_MS;
				/* Older libmicrohttpd refuse this mid-body. */
				(void)queue_reply(r);
			}
		} else if (r->state == ST_REPLIED) {
			/* dropping the body of an early answer */
			if (*upload_size > r->drain_left ||
			    clock_mono_ms() > r->drain_until)
				return MHD_NO;
			r->drain_left -= *upload_size;
		}
		*upload_size = 0;	/* consumed (or discarded) */
		return MHD_YES;
	}
	if (r->state == ST_QUEUED)
		return MHD_YES;
	if (r->state == ST_READING && r->t.fn == preflight_marker)
		return preflight(r);
	if (r->state == ST_DEFERRED) {		/* called again on resume */
		r->state = ST_REPLIED;
		return queue_reply(r);
	}
	if (r->state == ST_READING)
		r->t.fn(r, r->t.arg);
	if (r->defer != DF_NONE) {
		pthread_mutex_lock(&defer_mu);
		if (r->defer == DF_DEFERRED) {
			r->defer = DF_SUSPENDED;
			r->state = ST_DEFERRED;
			MHD_suspend_connection(conn);
			pthread_mutex_unlock(&defer_mu);
			return MHD_YES;
		}
		r->defer = DF_NONE;		/* resumed already */
		pthread_mutex_unlock(&defer_mu);
	}
	return queue_reply(r);
}

void
http_req_defer(struct http_req *r)
{
	pthread_mutex_lock(&defer_mu);
	r->defer = DF_DEFERRED;
	pthread_mutex_unlock(&defer_mu);
}

void
http_req_resume(struct http_req *r)
{
	pthread_mutex_lock(&defer_mu);
	if (r->defer == DF_SUSPENDED) {
		r->defer = DF_NONE;
		MHD_resume_connection(r->conn);
	} else
		r->defer = DF_READY;
	pthread_mutex_unlock(&defer_mu);
}

static void
log_request(struct http_req *r)
{
	struct timespec	 now;
	char		 path[160];
	double		 ms;
	size_t		 i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - r->start.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - r->start.tv_nsec) / 1e6;
	for (i = 0; r->path[i] != '\0' && i < sizeof(path) - 1; i++)
		path[i] = (unsigned char)r->path[i] < 0x20 ||
		    (unsigned char)r->path[i] >= 0x7f ? '?' : r->path[i];
	path[i] = '\0';
	log_info("%s %s %u %.1fms", r->method, path, r->status, ms);
}

static http_done_fn done_hook;

void
http_set_done_hook(http_done_fn fn)
{
	done_hook = fn;
}

static void
call_done_hook(const struct http_req *r)
{
	struct timespec	 now;
	int64_t		 us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - r->start.tv_sec) * 1000000 +
	    (now.tv_nsec - r->start.tv_nsec) / 1000;
	done_hook(r->path, r->status, us > 0 ? (uint64_t)us : 0);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req	*r = *ctx;
	size_t		 i;

	if (r == NULL)
		return;
	*ctx = NULL;
	stats_add(c_requests, 1);
	if (r->status >= 500)
		stats_add(c_errors, 1);
	if (done_hook != NULL)
		call_done_hook(r);
	if (log_getverbose() >= 1)
		log_request(r);
	reply_clear(r);
	for (i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	if (r->ud_free != NULL)
		r->ud_free(r->ud);
	sink_end(r);
	body_release(r);
	if (r->state != ST_UPGRADED) {
		atomic_fetch_sub_explicit(&inflight, 1,
		    memory_order_relaxed);
		slot_busy(conn, false);
	}
	free(r);
}

static void	mhd_log(void *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	 msg[512];
	size_t	 n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("microhttpd: %s", msg);
}

static void
reaper_end(void)
{
	if (!reaper_on)
		return;
	pthread_mutex_lock(&slots_mu);
	reaper_stop = true;
	wake();
	pthread_mutex_unlock(&slots_mu);
	pthread_join(reaper, NULL);
	reaper_on = false;
	close(wake_fd[0]);
	close(wake_fd[1]);
	wake_fd[0] = wake_fd[1] = -1;
}

int
http_start(const struct http_config *hc, http_dispatch_fn fn)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	unsigned		 flags, per_ip;

	memset(&ss, 0, sizeof(ss));
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ITC | MHD_USE_TURBO | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_UPGRADE | MHD_ALLOW_SUSPEND_RESUME;
	if (inet_pton(AF_INET, hc->bind_address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(hc->port);
	} else if (inet_pton(AF_INET6, hc->bind_address,
	    &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(hc->port);
		flags |= MHD_USE_IPv6;
	} else {
		log_warnx("http: bad bind address %s", hc->bind_address);
		return PDS_EINVAL;
	}
	signal(SIGPIPE, SIG_IGN);
	dispatch = fn;
	body_cap = hc->max_body_buffered;
	head_ms = hc->headers_timeout_ms;
	idle_s = hc->timeout_s;
	/*
	 * One address never gets more than three quarters of the slots:
	 * the rest stay for everyone else (and their _health checks).
	 */
	per_ip = hc->max_per_ip;
	if (per_ip > hc->max_connections - hc->max_connections / 4)
		per_ip = hc->max_connections - hc->max_connections / 4;
	per_ip_max = per_ip;
	for (ipc_mask = IPC_MIN; ipc_mask < IPC_MAX &&
	    ipc_mask < 2 * (size_t)hc->max_connections; ipc_mask *= 2)
		;
	if ((ipc = calloc(ipc_mask, sizeof(*ipc))) == NULL)
		return PDS_ENOMEM;
	ipc_mask--;
	if (getrandom(&ipc_seed, sizeof(ipc_seed), 0) != sizeof(ipc_seed))
		ipc_seed = (uint64_t)clock_mono_ms() * 0x9e3779b97f4a7c15ULL;
	ipc_seed ^= 0xcbf29ce484222325ULL;
	c_per_ip = stats_counter("http.refused_per_ip", STATS_RATE);
	if (pipe2(wake_fd, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("http: pipe");
		ipc_end();
		return PDS_EIO;
	}
	reaper_stop = false;
	if (pthread_create(&reaper, NULL, reaper_main, NULL) != 0) {
		log_warnx("http: cannot start the housekeeping thread");
		close(wake_fd[0]);
		close(wake_fd[1]);
		wake_fd[0] = wake_fd[1] = -1;
		ipc_end();
		return PDS_EIO;
	}
	reaper_on = true;
	c_requests = stats_counter("http.requests", STATS_RATE);
	c_errors = stats_counter("http.errors", STATS_RATE);
	daemon_h = MHD_start_daemon(flags, 0, on_accept, NULL, on_request,
	    NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)hc->threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)hc->max_connections,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)hc->timeout_s,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_END);
	if (daemon_h == NULL) {
		log_warn("http: cannot listen on %s port %u",
		    hc->bind_address, (unsigned)hc->port);
		reaper_end();
		ipc_end();
		return PDS_EIO;
	}
	return PDS_OK;
}

uint16_t
http_port(void)
{
	const union MHD_DaemonInfo *di;

	if (daemon_h == NULL)
		return 0;
	di = MHD_get_daemon_info(daemon_h, MHD_DAEMON_INFO_BIND_PORT);
	return di != NULL ? di->port : 0;
}

void
http_quiesce(void)
{
	if (daemon_h != NULL && quiesced_fd == -1)
		quiesced_fd = MHD_quiesce_daemon(daemon_h);
}

void
http_stop(unsigned timeout_ms)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	unsigned	 waited = 0;

	if (daemon_h == NULL)
		return;
	http_quiesce();
	if (stop_hook != NULL)
		stop_hook();	/* upgraded connections end here */
	while (atomic_load(&inflight) > 0 && waited < timeout_ms) {
		nanosleep(&ts, NULL);
		waited += 10;
	}
	if (atomic_load(&inflight) > 0)
		log_warnx("http: stopping with %d requests in flight",
		    atomic_load(&inflight));
	MHD_stop_daemon(daemon_h);
	daemon_h = NULL;
	reaper_end();
	ipc_end();
	if (quiesced_fd != -1) {
		close(quiesced_fd);
		quiesced_fd = -1;
	}
}
