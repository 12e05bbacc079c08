/*
 * http: pdsd's HTTP server (libmicrohttpd, the only file that includes
 * microhttpd.h) and the request/reply API handlers use.
 *
 * Flow of one request:
 *   1. Headers are in: the dispatch function (given to http_start) looks
 *      at method and path and picks a handler, its argument and the most
 *      body bytes it accepts.  A Content-Length above that limit gets 413
 *      before any body byte is kept; a chunked body is cut off with 413
 *      as soon as it passes the limit.  Bodies collected in memory also
 *      count against one server-wide cap (max_body_buffered): past it,
 *      503.  An answer chosen before the body is read (413, 503, or
 *      the dispatch function's own, such as a 401) is sent at once when
 *      no body follows, when the client waits for "100 Continue", or
 *      when the body is too big to be worth reading; otherwise the body
 *      is read and thrown away (bounded in bytes and time) and the
 *      answer sent after it, so that a client that writes its whole
 *      body before reading sees the answer instead of a reset.
 *   2. The body is in: the handler runs (on a worker thread) and sets a
 *      reply with exactly one of the http_reply_* calls below; extra
 *      headers may be added before or after.  A handler that sets no
 *      reply produces a 500.
 *   3. The reply is sent; one log line records method, path (never the
 *      query string), status and duration.
 *
 * Connections: at most max_per_ip from one address (so one address can
 * never take every slot; see http_start()), and a request head must be
 * complete within headers_timeout_ms of the accept (or of the end of
 * the previous request on the connection, plus the idle timeout), or
 * the connection is closed: a client dribbling header bytes keeps
 * resetting the idle timeout but not this deadline.
 *
 * CORS: every reply carries Access-Control-Allow-Origin: * and
 * Access-Control-Expose-Headers; OPTIONS on any path is a preflight
 * answered here (204) without calling any handler.
 *
 * Everything in a struct http_req lives until the reply has been sent;
 * strings returned by the accessors are borrowed from it.  A request is
 * only ever touched by one thread at a time.
 */
#ifndef PDSD_HTTP_H
#define PDSD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

enum http_method {
	HTTP_OTHER, HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE,
	HTTP_OPTIONS, HTTP_PATCH,
};

struct http_req;

typedef void	(*http_handler_fn)(struct http_req *, const void *arg);

/* What the dispatch function chooses for a request (step 1). */
struct http_target {
	http_handler_fn	 fn;
	const void	*arg;
	size_t		 body_max;	/* 0: no body accepted */
};

/*
 * Called once per request when its headers are complete; fills t.
 * Must be fast and must not block: it runs before the body is read.
 * It may also set a reply (an auth failure, say): that reply is then
 * sent at once, no body byte is read and t.fn is not called.
 */
typedef void	(*http_dispatch_fn)(struct http_req *, struct http_target *t);

struct http_config {
	const char	*bind_address;	/* IPv4 or IPv6 literal */
	uint16_t	 port;
	unsigned	 threads;	/* worker threads, each with its epoll */
	unsigned	 max_connections;
	unsigned	 timeout_s;	/* idle connection timeout */
	unsigned	 max_per_ip;	/* connections from one address */
	unsigned	 headers_timeout_ms;	/* accept to complete head */
	uint64_t	 max_body_buffered;	/* bodies in memory, in all */
};

int	http_start(const struct http_config *, http_dispatch_fn);
/*
 * Called once for every finished request, on any thread, with its path
 * (no query), its status (0 if none was sent) and the microseconds
 * since its head arrived (metrics.c).  Set before http_start().
 */
typedef void	(*http_done_fn)(const char *path, unsigned status,
		    uint64_t us);
void	http_set_done_hook(http_done_fn);
/* Stop accepting connections; in-flight requests continue. */
void	http_quiesce(void);
/* Wait (up to timeout_ms) for in-flight requests, then stop. */
void	http_stop(unsigned timeout_ms);
/* The port actually bound (useful when 0 was asked for). */
uint16_t http_port(void);

/* ---- the request ---- */

enum http_method http_req_method(const struct http_req *);
const char	*http_req_method_str(const struct http_req *);
/* The path, percent-decoded, without the query string. */
const char	*http_req_path(const struct http_req *);
/* A request header by case-insensitive name, or NULL. */
const char	*http_req_header(const struct http_req *, const char *name);
/* The first value of query parameter key (decoded), or NULL. */
const char	*http_req_query(const struct http_req *, const char *key);
/*
 * Every value of a repeated query key, in order: up to max pointers into
 * out; returns the number present (which may exceed max).
 */
size_t		 http_req_query_all(const struct http_req *, const char *key,
		    const char **out, size_t max);
/*
 * From now on, http_req_query() and http_req_query_all() take a
 * parameter with an empty value ("?key=", "?key") for absent, as XRPC
 * servers do: http_req_query() gives the first non-empty value.
 * http_req_query_each() still sees every parameter.
 */
void		 http_req_query_skip_empty(struct http_req *);
/*
 * Every query parameter in the order sent (decoded; "" for "?key"):
 * fn(arg, key, value) for each.  For handlers that pass a query on
 * unchanged (the XRPC proxy).
 */
void		 http_req_query_each(const struct http_req *,
		    void (*fn)(void *arg, const char *key, const char *value),
		    void *arg);
/* The body (NUL-terminated for convenience, not counted in len). */
const uint8_t	*http_req_body(const struct http_req *, size_t *lenp);
/*
 * Stream the body instead of collecting it (call from the dispatch
 * function): each piece goes to fn(arg, data, len) as it arrives, and
 * http_req_body() stays empty.  t.body_max still applies, counted over
 * the pieces: 413 as soon as it is passed, with or without a
 * Content-Length.  fn returns 0 to go on; anything else stops reading
 * and sends the reply fn set (500 if none).  free_fn(arg) (may be
 * NULL) runs exactly once: right away when the body is refused (413,
 * or fn failed), else after the handler, when the request ends or the
 * client goes away.  The handler finds arg with http_req_sink_arg().
 */
typedef int	(*http_body_fn)(void *arg, const uint8_t *data, size_t len);
void		 http_req_body_sink(struct http_req *, http_body_fn fn,
		    void *arg, void (*free_fn)(void *));
/* The body sink's arg, or NULL (none, or freed already). */
void		*http_req_sink_arg(const struct http_req *);
/* The peer's address as text ("127.0.0.1", "::1"). */
const char	*http_req_remote(struct http_req *);
/*
 * The client's address, for per-client limits.  From a trusted reverse
 * proxy (PDS_TRUSTED_PROXIES, loopback by default: the usual Caddy
 * set-up) X-Forwarded-For names the client: its entries are read from
 * the end (the one the proxy itself added) past those of other trusted
 * proxies.  From any other peer the header is ignored and this is
 * http_req_remote().
 */
const char	*http_req_client(struct http_req *);
/* The Host header without port, lower-cased; NULL if absent. */
const char	*http_req_host(struct http_req *);

/* ---- the reply (exactly one of the first six per request) ---- */

/* A JSON body; takes ownership of (steals the reference to) body. */
void	http_reply_json(struct http_req *, unsigned status, json_t *body);
/* Bytes copied into the reply. */
int	http_reply_bytes(struct http_req *, unsigned status,
	    const char *content_type, const void *data, size_t len);
/* Bytes the caller guarantees outlive the server (static data). */
void	http_reply_static(struct http_req *, unsigned status,
	    const char *content_type, const void *data, size_t len);
/* Bytes from malloc(3) that the reply now owns and frees. */
void	http_reply_owned(struct http_req *, unsigned status,
	    const char *content_type, void *data, size_t len);

/*
 * A streamed body.  fn is called from the worker thread with the byte
 * position reached so far; it writes up to max bytes into buf and
 * returns how many, HTTP_STREAM_END when done, or HTTP_STREAM_ERROR to
 * abort the connection (the status line is already sent then).  It
 * should block until it has data (or return HTTP_STREAM_WAIT, below)
 * rather than return 0.  free_fn(arg)
 * runs exactly once, when the reply is finished or abandoned.
 */
#define HTTP_STREAM_END		((ssize_t)-1)
#define HTTP_STREAM_ERROR	((ssize_t)-2)
#define HTTP_STREAM_WAIT	((ssize_t)-3)
typedef ssize_t	(*http_stream_fn)(void *arg, uint64_t pos, char *buf,
		    size_t max);
void	http_reply_stream(struct http_req *, unsigned status,
	    const char *content_type, http_stream_fn fn, void *arg,
	    void (*free_fn)(void *));

/*
 * Instead of blocking, fn may return HTTP_STREAM_WAIT when it has no
 * bytes yet: the connection is suspended, and its worker thread serves
 * other connections, until some thread calls http_stream_wake() with
 * the stream's handle; fn is then called again.  A wake that comes
 * before the suspension is not lost.  The handle, from
 * http_reply_stream_handle() right after http_reply_stream(), stays
 * valid until free_fn(arg) has returned: the waker must stop using it
 * then (say, under a lock that free_fn also takes).
 */
struct http_stream;
struct http_stream *http_reply_stream_handle(struct http_req *);
void	http_stream_wake(struct http_stream *);

/*
 * An open file's bytes [0, size) with Content-Length: size; the reply
 * owns fd and closes it (also when it is never sent).
 */
void	http_reply_fd(struct http_req *, unsigned status,
	    const char *content_type, int fd, uint64_t size);
/* The same for the file's bytes [off, off + size). */
void	http_reply_fd_at(struct http_req *, unsigned status,
	    const char *content_type, int fd, uint64_t off, uint64_t size);
/* http_reply_stream() with Content-Length: size (not chunked). */
void	http_reply_stream_len(struct http_req *, unsigned status,
	    const char *content_type, uint64_t size, http_stream_fn fn,
	    void *arg, void (*free_fn)(void *));

/*
 * Switch protocols (the WebSocket handshake).  Instead of a reply, the
 * handler adds the 101 reply's headers (Upgrade, Sec-WebSocket-Accept)
 * with http_reply_header() and calls this.  Once "101 Switching
 * Protocols" has gone out, fn(arg, fd, extra, extra_len, handle) runs on
 * a server thread and must not block: fd is the connection's socket,
 * now non-blocking, and extra holds bytes the client already sent after
 * its request (to be treated as read from fd).  From then on the socket
 * is the caller's; it ends it with exactly one http_upgraded_close()
 * (never close(2)), at the latest from the hook set with
 * http_set_stop_hook(), which http_stop() calls before it waits for
 * requests to finish.  If the connection is lost before the switch,
 * free_fn(arg) (may be NULL) runs instead of fn.
 */
struct http_upgraded;
typedef void	(*http_upgrade_fn)(void *arg, int fd, const uint8_t *extra,
		    size_t extra_len, struct http_upgraded *);
void	http_reply_upgrade(struct http_req *, http_upgrade_fn fn, void *arg,
	    void (*free_fn)(void *));
void	http_upgraded_close(struct http_upgraded *);
void	http_set_stop_hook(void (*fn)(void));

/*
 * An extra response header (copied).  Names and values with CR or LF
 * are refused.  At most HTTP_MAX_EXTRA_HEADERS per reply.
 */
#define HTTP_MAX_EXTRA_HEADERS	16
int	http_reply_header(struct http_req *, const char *name,
	    const char *value);

/* The status set so far (0 if none). */
unsigned http_reply_status(const struct http_req *);

/* An error body {"error": name, "message": msg} with that status. */
void	http_reply_error(struct http_req *, unsigned status,
	    const char *name, const char *msg);

/*
 * Deferred replies, for a handler that waits on something slow (a repo
 * commit waits for its group's fsync).  The handler calls
 * http_req_defer() and returns without a reply; its worker thread then
 * serves other connections while this one is suspended.  Later, any
 * thread sets the reply with the http_reply_* calls above and calls
 * http_req_resume() exactly once; after that it must not touch the
 * request.  The handler itself may call http_req_resume() before it
 * returns (say, when the slow work failed to start): the reply it sets
 * is then sent as usual.  Deferred requests count as in flight, so
 * http_stop() waits for them.
 */
void	http_req_defer(struct http_req *);
void	http_req_resume(struct http_req *);

/* Per-request slot for the layer above (the XRPC router), or NULL. */
void	*http_req_userdata(const struct http_req *);
void	 http_req_set_userdata(struct http_req *, void *,
	    void (*free_fn)(void *));

#endif
