/*
 * metrics: the OpenMetrics exposition and its small listener.  See
 * metrics.h.
 *
 * Per-method counts live in one fixed array, a slot per route of the
 * XRPC table plus one for the NSIDs the table does not have (forwarded
 * to another service, or refused): one label for all of them, so
 * strangers cannot grow the output.  A slot holds non-cumulative bucket counts; the scrape
 * adds them up, and derives _count and requests_total from the same
 * reads, so a histogram is always consistent with itself.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "httphead.h"
#include "log.h"
#include "metrics.h"
#include "module.h"
#include "stats.h"
#include "store_admin.h"
#include "store_wal.h"
#include "syntax.h"
#include "xrpc.h"

/* Latency bucket bounds in microseconds; the last bucket is +Inf. */
static const uint64_t bound_us[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};
#define NBOUNDS	(sizeof(bound_us) / sizeof(bound_us[0]))

struct slot {
	_Atomic uint64_t	 bucket[NBOUNDS + 1];	/* not cumulative */
	_Atomic uint64_t	 sum_us;
	_Atomic uint64_t	 err4, err5;
};

static struct slot		*slots;		/* nroutes + 1 */
static const struct xrpc_route	*routes;
static size_t			 nroutes;
static const struct config	*mcfg;

static int			 lfd = -1;
static int			 stop_pipe[2] = { -1, -1 };
static pthread_t		 thr;
static bool			 running;

void
metrics_note(const char *path, unsigned status, uint64_t us)
{
	const struct xrpc_route	*rt;
	struct slot		*s;
	size_t			 i, b;

	if (slots == NULL || path == NULL || strncmp(path, "/xrpc/", 6) != 0)
		return;
	rt = xrpc_route_find(path + 6);
	if (rt == NULL && !syntax_is_nsid(path + 6, strlen(path + 6)))
		return;		/* /xrpc/_health and the like */
	i = rt != NULL ? (size_t)(rt - routes) : nroutes;
	if (i > nroutes)
		i = nroutes;
	s = &slots[i];
	for (b = 0; b < NBOUNDS && us > bound_us[b]; b++)
		;
	atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us, us, memory_order_relaxed);
	if (status >= 500)
		atomic_fetch_add_explicit(&s->err5, 1, memory_order_relaxed);
	else if (status >= 400)
		atomic_fetch_add_explicit(&s->err4, 1, memory_order_relaxed);
}

/* ---- the exposition ---- */

struct out {
	struct buf	*b;
	bool		 om;	/* OpenMetrics, else Prometheus 0.0.4 */
	int		 rc;
};

static void	emit(struct out *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
emit(struct out *o, const char *fmt, ...)
{
	va_list	 ap;

	if (o->rc != PDS_OK)
		return;
	va_start(ap, fmt);
	o->rc = buf_vprintf(o->b, fmt, ap);
	va_end(ap);
}

/*
 * The family's metadata lines.  type is counter, gauge or histogram;
 * unit NULL or the name's suffix.  Prometheus 0.0.4 names a counter's
 * family with its _total and has no UNIT line.
 */
static void
family(struct out *o, const char *name, const char *type, const char *unit,
    const char *help)
{
	const char *tot = !o->om && strcmp(type, "counter") == 0 ? "_total" :
	    "";

	emit(o, "# TYPE %s%s %s\n", name, tot, type);
	if (o->om && unit != NULL)
		emit(o, "# UNIT %s %s\n", name, unit);
	emit(o, "# HELP %s%s %s\n", name, tot, help);
}

/* Seconds from microseconds, exactly and short ("0.0025", "1.0"). */
static void
us_to_s(uint64_t us, char out[32])
{
	size_t	 n;

	n = (size_t)snprintf(out, 32, "%llu.%06llu",
	    (unsigned long long)(us / 1000000),
	    (unsigned long long)(us % 1000000));
	while (n > 2 && out[n - 1] == '0' && out[n - 2] != '.')
		out[--n] = '\0';
}

static const char *
slot_name(size_t i)
{
	return i < nroutes ? routes[i].nsid : "_other";
}

struct snap {
	uint64_t	 bucket[NBOUNDS + 1];
	uint64_t	 count, sum_us, err4, err5;
};

static void
slot_read(size_t i, struct snap *sn)
{
	size_t	 b;

	sn->count = 0;
	for (b = 0; b <= NBOUNDS; b++) {
		sn->bucket[b] = atomic_load_explicit(&slots[i].bucket[b],
		    memory_order_relaxed);
		sn->count += sn->bucket[b];
	}
	sn->sum_us = atomic_load_explicit(&slots[i].sum_us,
	    memory_order_relaxed);
	sn->err4 = atomic_load_explicit(&slots[i].err4, memory_order_relaxed);
	sn->err5 = atomic_load_explicit(&slots[i].err5, memory_order_relaxed);
}

static void
render_xrpc(struct out *o)
{
	struct snap	*sn;
	char		 le[32], sum[32];
	uint64_t	 cum;
	size_t		 i, b;

	if (slots == NULL)
		return;
	if ((sn = calloc(nroutes + 1, sizeof(*sn))) == NULL) {
		o->rc = PDS_ENOMEM;
		return;
	}
	for (i = 0; i <= nroutes; i++)
		slot_read(i, &sn[i]);
	family(o, "pds_xrpc_requests", "counter", NULL,
	    "XRPC requests answered, by method (_other: methods pdsd "
	    "does not serve itself, forwarded or refused)");
	for (i = 0; i <= nroutes; i++)
		if (sn[i].count > 0)
			emit(o, "pds_xrpc_requests_total{method=\"%s\"} %llu\n",
			    slot_name(i), (unsigned long long)sn[i].count);
	family(o, "pds_xrpc_errors", "counter", NULL,
	    "XRPC requests answered with an error status, by method and "
	    "class (4xx, 5xx)");
	for (i = 0; i <= nroutes; i++) {
		if (sn[i].err4 > 0)
			emit(o, "pds_xrpc_errors_total{method=\"%s\","
			    "class=\"4xx\"} %llu\n", slot_name(i),
			    (unsigned long long)sn[i].err4);
		if (sn[i].err5 > 0)
			emit(o, "pds_xrpc_errors_total{method=\"%s\","
			    "class=\"5xx\"} %llu\n", slot_name(i),
			    (unsigned long long)sn[i].err5);
	}
	family(o, "pds_xrpc_request_duration_seconds", "histogram", "seconds",
	    "Time from a request's head to its last byte, by method");
	for (i = 0; i <= nroutes; i++) {
		if (sn[i].count == 0)
			continue;
		cum = 0;
		for (b = 0; b < NBOUNDS; b++) {
			cum += sn[i].bucket[b];
			us_to_s(bound_us[b], le);
			emit(o, "pds_xrpc_request_duration_seconds_bucket{"
			    "method=\"%s\",le=\"%s\"} %llu\n", slot_name(i), le,
			    (unsigned long long)cum);
		}
		emit(o, "pds_xrpc_request_duration_seconds_bucket{"
		    "method=\"%s\",le=\"+Inf\"} %llu\n", slot_name(i),
		    (unsigned long long)sn[i].count);
		us_to_s(sn[i].sum_us, sum);
		emit(o, "pds_xrpc_request_duration_seconds_sum{method=\"%s\"} "
		    "%s\n", slot_name(i), sum);
		emit(o, "pds_xrpc_request_duration_seconds_count{"
		    "method=\"%s\"} %llu\n", slot_name(i),
		    (unsigned long long)sn[i].count);
	}
	free(sn);
}

/* What the stats.h counters mean, for HELP; others get a generic one. */
static const struct {
	const char	*name, *help;
} helps[] = {
	{ "http.requests", "HTTP requests answered (every path)" },
	{ "http.errors", "HTTP requests answered with a 5xx status" },
	{ "http.refused_per_ip", "Connections refused: too many from one "
	    "address" },
	{ "repo.commits", "Repository commits written" },
	{ "repo.transactions", "SQLite transactions of the repo writer" },
	{ "repo.failed", "Repository writes that failed" },
	{ "repo.syncs", "fdatasync calls of the WAL by the repo writer" },
	{ "firehose.events", "Firehose events sent to subscribers" },
	{ "firehose.frames", "Firehose WebSocket frames sent" },
	{ "firehose.bytes", "Firehose bytes sent" },
	{ "firehose.too_slow", "Firehose subscribers dropped for being too "
	    "slow" },
	{ "firehose.refused", "Firehose subscriptions refused" },
	{ "firehose.subscribers", "Live firehose subscribers" },
	{ "firehose.head_seq", "The newest firehose event's seq" },
	{ "ratelimit.limited", "Requests refused by a rate limit (429)" },
	{ "ratelimit.admin_limited", "Admin password attempts refused by "
	    "their limit" },
	{ "ratelimit.login_limited", "Logins refused by the login limits" },
	{ "ratelimit.evicted", "Rate-limit cells evicted from the full "
	    "table" },
	{ "ratelimit.bypassed", "Requests that bypassed the rate limits" },
	{ "admin.requests", "Admin socket requests" },
	{ "admin.refused", "Admin socket connections refused" },
};

static void
stat_one(void *arg, const char *name, unsigned flags, uint64_t v)
{
	struct out	*o = arg;
	const char	*help = NULL;
	char		 m[STATS_NAME_MAX + 8], generic[STATS_NAME_MAX + 32];
	size_t		 i;

	snprintf(m, sizeof(m), "pds_%s", name);
	for (i = 0; m[i] != '\0'; i++)
		if (m[i] == '.')
			m[i] = '_';
	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (strcmp(helps[i].name, name) == 0)
			help = helps[i].help;
	if (help == NULL) {
		snprintf(generic, sizeof(generic), "%s in pdsctl stats", name);
		help = generic;
	}
	if (flags & STATS_GAUGE) {
		family(o, m, "gauge", NULL, help);
		emit(o, "%s %llu\n", m, (unsigned long long)v);
	} else {
		family(o, m, "counter", NULL, help);
		emit(o, "%s_total %llu\n", m, (unsigned long long)v);
	}
}

static int64_t
file_size(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

static void
render_store(struct out *o)
{
	char	 wal[1024];
	int64_t	 head, low;

	family(o, "pds_sqlite_database_bytes", "gauge", "bytes",
	    "Size of the SQLite database file");
	emit(o, "pds_sqlite_database_bytes %lld\n",
	    (long long)file_size(mcfg->db_path));
	snprintf(wal, sizeof(wal), "%s-wal", mcfg->db_path);
	family(o, "pds_sqlite_wal_bytes", "gauge", "bytes",
	    "Size of the SQLite write-ahead log file");
	emit(o, "pds_sqlite_wal_bytes %lld\n", (long long)file_size(wal));
	family(o, "pds_sqlite_wal_limit_bytes", "gauge", "bytes",
	    "The write-ahead log's bound (PDS_SQLITE_WAL_MAX_MB)");
	emit(o, "pds_sqlite_wal_limit_bytes %lld\n",
	    (long long)store_wal_max());

	head = (int64_t)stats_get(stats_counter("firehose.head_seq",
	    STATS_GAUGE));
	low = stats_sub_min_seq();
	family(o, "pds_firehose_lag_events", "gauge", NULL,
	    "Events between the firehose's head and its slowest live "
	    "subscriber");
	emit(o, "pds_firehose_lag_events %lld\n", (long long)(head >= 0 &&
	    low >= 0 && head > low ? head - low : 0));
}

/*
 * What pdstui's overview shows from the database (store_admin_counts():
 * full counts), read at most every METRICS_COUNTS_MS whatever the
 * scrape rate.
 */
static void
render_counts(struct out *o)
{
	static pthread_mutex_t		 mu = PTHREAD_MUTEX_INITIALIZER;
	static struct store_admin_counts cached;
	static int64_t			 at;
	static bool			 ok;
	struct store_admin_counts	 c;
	int64_t				 now = clock_mono_ms();

	pthread_mutex_lock(&mu);
	if (at == 0 || now - at >= METRICS_COUNTS_MS) {
		ok = store_admin_counts(&c) == PDS_OK;
		if (ok)
			cached = c;
		at = now;
	}
	c = cached;
	pthread_mutex_unlock(&mu);
	family(o, "pds_store_up", "gauge", NULL,
	    "1 when the last read of the database's counts worked");
	emit(o, "pds_store_up %d\n", ok ? 1 : 0);
	if (!ok)
		return;
	family(o, "pds_accounts", "gauge", NULL, "Accounts, by status");
	emit(o, "pds_accounts{status=\"active\"} %lld\n",
	    (long long)c.active);
	emit(o, "pds_accounts{status=\"deactivated\"} %lld\n",
	    (long long)c.deactivated);
	emit(o, "pds_accounts{status=\"takendown\"} %lld\n",
	    (long long)c.takendown);
	family(o, "pds_repo_records", "gauge", NULL, "Records in all repos");
	emit(o, "pds_repo_records %lld\n", (long long)c.records);
	family(o, "pds_repo_blocks", "gauge", NULL, "Blocks in all repos");
	emit(o, "pds_repo_blocks %lld\n", (long long)c.repo_blocks);
	family(o, "pds_repo_size_bytes", "gauge", "bytes",
	    "Bytes of the blocks of all repos");
	emit(o, "pds_repo_size_bytes %lld\n", (long long)c.repo_bytes);
	family(o, "pds_blobs", "gauge", NULL, "Blobs stored");
	emit(o, "pds_blobs %lld\n", (long long)c.blobs);
	family(o, "pds_blobs_size_bytes", "gauge", "bytes",
	    "Bytes of the blobs stored");
	emit(o, "pds_blobs_size_bytes %lld\n", (long long)c.blob_bytes);
	family(o, "pds_firehose_log_events", "gauge", NULL,
	    "Events kept in the firehose's log");
	emit(o, "pds_firehose_log_events %lld\n", (long long)c.events);
	family(o, "pds_invites_open", "gauge", NULL,
	    "Invite codes enabled with uses left");
	emit(o, "pds_invites_open %lld\n", (long long)c.invites_open);
}

static void
render_blobs(struct out *o)
{
	struct statvfs	 vf;
	const char	*dir = mcfg->blobstore_dir;
	bool		 up;

	up = dir != NULL && access(dir, W_OK | X_OK) == 0 &&
	    statvfs(dir, &vf) == 0;
	family(o, "pds_blobstore_up", "gauge", NULL,
	    "1 when the blob store is usable (disk: the directory is "
	    "writable)");
	emit(o, "pds_blobstore_up{backend=\"disk\"} %d\n", up ? 1 : 0);
	if (!up)
		return;
	family(o, "pds_blobstore_available_bytes", "gauge", "bytes",
	    "Bytes the blob store can still take");
	emit(o, "pds_blobstore_available_bytes{backend=\"disk\"} %llu\n",
	    (unsigned long long)vf.f_bavail * vf.f_frsize);
	family(o, "pds_blobstore_capacity_bytes", "gauge", "bytes",
	    "Size of the blob store's file system");
	emit(o, "pds_blobstore_capacity_bytes{backend=\"disk\"} %llu\n",
	    (unsigned long long)vf.f_blocks * vf.f_frsize);
}

int
metrics_render(struct buf *b, bool om)
{
	struct out	 o = { b, om, PDS_OK };

	family(&o, "pds_uptime_seconds", "gauge", "seconds",
	    "Seconds since pdsd started");
	emit(&o, "pds_uptime_seconds %lld\n", (long long)stats_uptime_s());
	render_xrpc(&o);
	stats_foreach(stat_one, &o);
	if (mcfg != NULL) {
		render_store(&o);
		render_counts(&o);
		render_blobs(&o);
	}
	if (om)
		emit(&o, "# EOF\n");
	return o.rc;
}

/* ---- the listener ---- */

/* Wait for fd to be ready for ev until the deadline; false on timeout. */
static bool
wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd	 p = { fd, ev, 0 };
	int64_t		 left;

	for (;;) {
		if ((left = deadline - clock_mono_ms()) <= 0)
			return false;
		if (poll(&p, 1, (int)left) > 0)
			return true;
		if (errno != EINTR && errno != 0)
			return false;
	}
}

static void
send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	ssize_t	 w;

	while (n > 0) {
		if (!wait_fd(fd, POLLOUT, deadline))
			return;
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) <= 0) {
			if (w < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
answer(int fd, int64_t deadline, const char *status, const char *ctype,
    const char *body, size_t len, bool head_only)
{
	char	 h[512];
	int	 n;

	n = snprintf(h, sizeof(h), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", status, ctype, len);
	send_all(fd, h, (size_t)n, deadline);
	if (!head_only)
		send_all(fd, body, len, deadline);
}

/* Whether the Accept header asks for OpenMetrics (or says nothing). */
static bool
wants_openmetrics(const char *head, size_t n)
{
	const char	*a;
	char		 v[512];
	size_t		 len;

	if ((a = httphead_header(head, n, "Accept", &len)) == NULL)
		return true;
	if (len >= sizeof(v))
		len = sizeof(v) - 1;
	memcpy(v, a, len);
	v[len] = '\0';
	if (strcasestr(v, "application/openmetrics-text") != NULL)
		return true;
	return strcasestr(v, "text/plain") == NULL;
}

static void
serve(int fd)
{
	static const char om_type[] =
	    "application/openmetrics-text; version=1.0.0; charset=utf-8";
	static const char prom_type[] =
	    "text/plain; version=0.0.4; charset=utf-8";
	int64_t		 deadline = clock_mono_ms() + METRICS_IO_MS;
	char		 head[METRICS_HEAD_MAX];
	struct httphead	 h;
	struct buf	 b;
	size_t		 n = 0;
	ssize_t		 r;
	bool		 is_head, om;
	int		 rc;

	while ((rc = httphead_parse(head, n, &h)) == PDS_ETRUNC) {
		if (n == sizeof(head)) {
			answer(fd, deadline, "431 Request Header Fields Too "
			    "Large", "text/plain", "", 0, false);
			return;
		}
		if (!wait_fd(fd, POLLIN, deadline))
			return;
		if ((r = recv(fd, head + n, sizeof(head) - n, 0)) <= 0) {
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return;
		}
		n += (size_t)r;
	}
	if (rc != PDS_OK) {
		answer(fd, deadline, "400 Bad Request", "text/plain", "", 0,
		    false);
		return;
	}
	is_head = strcmp(h.method, "HEAD") == 0;
	if (strcmp(h.method, "GET") != 0 && !is_head) {
		answer(fd, deadline, "405 Method Not Allowed", "text/plain",
		    "only GET /metrics\n", 18, false);
		return;
	}
	if (strcmp(h.path, "/metrics") != 0) {
		answer(fd, deadline, "404 Not Found", "text/plain",
		    "only GET /metrics\n", 18, is_head);
		return;
	}
	om = wants_openmetrics(head, h.len);
	buf_init(&b, METRICS_BODY_MAX);
	if (metrics_render(&b, om) != PDS_OK)
		answer(fd, deadline, "500 Internal Server Error", "text/plain",
		    "", 0, is_head);
	else
		answer(fd, deadline, "200 OK", om ? om_type : prom_type, b.p != NULL ? (const char *)b.p : "",
		    b.len, is_head);
	buf_clear(&b);
}

static void *
listener_main(void *arg)
{
	struct pollfd	 p[2];
	int		 fd;

	(void)arg;
	p[0].fd = lfd;
	p[0].events = POLLIN;
	p[1].fd = stop_pipe[0];
	p[1].events = POLLIN;
	for (;;) {
		p[0].revents = p[1].revents = 0;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("metrics: poll");
			return NULL;
		}
		if (p[1].revents != 0)
			return NULL;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC |
		    SOCK_NONBLOCK)) == -1)
			continue;
		serve(fd);
		close(fd);
	}
}

static int
listen_on(const char *ip, int port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 4) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
metrics_init(const struct config *cfg)
{
	mcfg = cfg;
	if (cfg->metrics_address == NULL)
		return 0;		/* off: no hook, no cost */
	routes = xrpc_routes(&nroutes);
	if ((slots = calloc(nroutes + 1, sizeof(*slots))) == NULL)
		return -1;
	if ((lfd = listen_on(cfg->metrics_ip, cfg->metrics_port)) == -1) {
		log_warn("metrics: cannot listen on %s", cfg->metrics_address);
		return -1;
	}
	if (pipe2(stop_pipe, O_CLOEXEC) == -1 ||
	    pthread_create(&thr, NULL, listener_main, NULL) != 0) {
		log_warnx("metrics: cannot start the listener");
		close(lfd);
		lfd = -1;
		return -1;
	}
	running = true;
	http_set_done_hook(metrics_note);
	log_info("metrics on http://%s%s%s:%d/metrics",
	    strchr(cfg->metrics_ip, ':') ? "[" : "", cfg->metrics_ip,
	    strchr(cfg->metrics_ip, ':') ? "]" : "", cfg->metrics_port);
	return 0;
}

static void
metrics_fini(void)
{
	if (running) {
		(void)write(stop_pipe[1], "x", 1);
		pthread_join(thr, NULL);
		running = false;
	}
	if (lfd != -1)
		close(lfd);
	lfd = -1;
	if (stop_pipe[0] != -1) {
		close(stop_pipe[0]);
		close(stop_pipe[1]);
	}
	stop_pipe[0] = stop_pipe[1] = -1;
	/* the HTTP server has stopped: no hook runs any more */
	http_set_done_hook(NULL);
	free(slots);
	slots = NULL;
}

PDSD_MODULE(metrics, metrics_init, metrics_fini)
