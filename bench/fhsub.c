/*
 * fhsub: firehose load for the benchmarks.  Opens N WebSocket subscribers
 * to com.atproto.sync.subscribeRepos on a PDS, then writes posts with
 * com.atproto.repo.createRecord at a fixed rate from W writer threads
 * (open loop: write k is due at start + k/rate, whatever happened to the
 * writes before it), and reports as JSON on stdout:
 *
 *   - the writes: scheduled, acknowledged, failed, the rate achieved, the
 *     acknowledgement latency and how late the writers fell behind;
 *   - the delivery: for every (subscriber, acknowledged write) pair the
 *     time from the write's acknowledgement (its HTTP response) to the
 *     arrival of the frame carrying its commit, p50/p99/max (a frame that
 *     arrives before the acknowledgement counts 0 and is counted apart);
 *     drops (pairs never delivered), disconnects and error frames.
 *
 * A frame is matched to a write by the commit's rev: the 13-character TID
 * that the createRecord response gives as commit.rev and that the frame
 * carries under the key "rev" (found as the DAG-CBOR bytes 63 'r' 'e' 'v'
 * 6d).  Without commit.rev in the response the write's record key is used,
 * matched to the frame's op path "<collection>/<rkey>".
 *
 *   fhsub -u http://127.0.0.1:2583 -n 100 -r 20 -d 10 -t tokens.txt
 *
 * tokens.txt holds one "did accessJwt" line per writer account; writer i
 * uses line i modulo the count.  The URL must be plain http (loopback).
 * The writes carry x-ratelimit-bypass: $BENCH_RATELIMIT_BYPASS when that
 * is set (bench.mjs runs the servers with their rate limits on).
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define REV_LEN		13
#define MAX_SUBS	20000
#define MAX_WRITERS	64
#define MAX_TOKENS	256
#define MAX_MSG		(4 * 1024 * 1024)
#define RESP_MAX	(64 * 1024)
#define COLLECTION	"app.bsky.feed.post"

struct opts {
	char	 host[256];
	char	 port[8];
	char	 base[512];		/* http://host:port */
	int	 subs;
	double	 rate;
	double	 duration;
	int	 writers;
	double	 grace;
	double	 connect_timeout;
	const char *tokens_file;
};

struct token {
	char	*did;
	char	*jwt;
};

/* One scheduled write. */
struct write {
	int64_t	 due;		/* ns, monotonic */
	int64_t	 sent;
	int64_t	 acked;		/* 0: failed or never sent */
	char	 key[REV_LEN + 1];	/* rev (or rkey) of the commit */
	int	 status;
};

/* One frame that carried a rev, as it arrived. */
struct arrival {
	int64_t	 t;
	uint32_t sub;
	char	 key[REV_LEN + 1];	/* rev or rkey, chosen at the end */
	char	 rev[REV_LEN + 1];
	char	 rkey[REV_LEN + 1];
};

enum sub_state { SUB_CONNECTING, SUB_HANDSHAKE, SUB_OPEN, SUB_CLOSED };

struct sub {
	int		 fd;
	enum sub_state	 state;
	unsigned char	*buf;		/* bytes read, not yet consumed */
	size_t		 len, cap;
	unsigned char	*msg;		/* message being reassembled */
	size_t		 msglen, msgcap;
	uint64_t	 frames;
	uint64_t	 errors;
	bool		 opened;
};

static struct opts	 opt;
static struct token	 tokens[MAX_TOKENS];
static int		 ntokens;
static struct write	*writes;
static long		 nwrites;
static atomic_long	 next_write;
static int64_t		 t_start;
static int64_t		 t_cutoff;	/* no new writes after this */
static bool		 use_rkey;	/* responses lack commit.rev */
static atomic_int	 saw_rev, saw_norev;

static struct arrival	*arrivals;
static size_t		 narrivals, arrivals_cap;

/*
 * Where every read lands (see sub_read()).  It and the arrivals are
 * touched before the writes start: the first touch of a page is a page
 * fault, and on some virtual machines a thousand subscribers' worth of
 * them, taken as the first frames came, held the reading back by
 * hundreds of milliseconds, which the figures then counted as the
 * server's delivery time.
 */
static unsigned char	 rbuf[256 * 1024];
#define ARRIVALS_RESERVE_MAX	(2u << 20)	/* arrivals: 112 MiB */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_until(int64_t t)
{
	struct timespec ts;

	ts.tv_sec = t / 1000000000;
	ts.tv_nsec = t % 1000000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fhsub: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL)
		die("out of memory");
	return q;
}

static double
parse_num(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		die("bad %s: %s", what, s);
	return v;
}

static void
parse_url(const char *url)
{
	const char *p, *colon, *slash;
	size_t hl;

	if (strncmp(url, "http://", 7) != 0)
		die("URL must start with http://: %s", url);
	p = url + 7;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	colon = memchr(p, ':', (size_t)(slash - p));
	if (colon == NULL) {
		hl = (size_t)(slash - p);
		snprintf(opt.port, sizeof(opt.port), "80");
	} else {
		hl = (size_t)(colon - p);
		if ((size_t)(slash - colon - 1) >= sizeof(opt.port) ||
		    slash - colon - 1 == 0)
			die("bad port in %s", url);
		memcpy(opt.port, colon + 1, (size_t)(slash - colon - 1));
		opt.port[slash - colon - 1] = '\0';
	}
	if (hl == 0 || hl >= sizeof(opt.host))
		die("bad host in %s", url);
	memcpy(opt.host, p, hl);
	opt.host[hl] = '\0';
	snprintf(opt.base, sizeof(opt.base), "http://%s:%s", opt.host,
	    opt.port);
}

static void
read_tokens(const char *file)
{
	FILE *f;
	char *line = NULL, *sp;
	size_t cap = 0;
	ssize_t n;

	if ((f = fopen(file, "r")) == NULL)
		die("%s: %s", file, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0 && ntokens < MAX_TOKENS) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		tokens[ntokens].did = strdup(line);
		tokens[ntokens].jwt = strdup(sp + 1);
		if (tokens[ntokens].did == NULL ||
		    tokens[ntokens].jwt == NULL)
			die("out of memory");
		ntokens++;
	}
	free(line);
	fclose(f);
	if (ntokens == 0)
		die("%s: no \"did token\" lines", file);
}

/* ---- writers ------------------------------------------------------ */

struct resp {
	char	 data[RESP_MAX];
	size_t	 len;
};

static size_t
resp_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct resp *r = arg;
	size_t n = size * nmemb;

	if (n > sizeof(r->data) - 1 - r->len)
		n = sizeof(r->data) - 1 - r->len;
	memcpy(r->data + r->len, ptr, n);
	r->len += n;
	r->data[r->len] = '\0';
	return size * nmemb;
}

/* The commit rev of a createRecord response, else the record key. */
static void
resp_key(const char *body, char key[REV_LEN + 1])
{
	json_t *root, *rev, *uri;
	const char *s, *slash;

	key[0] = '\0';
	if ((root = json_loads(body, 0, NULL)) == NULL)
		return;
	rev = json_object_get(json_object_get(root, "commit"), "rev");
	if (json_is_string(rev) && json_string_length(rev) == REV_LEN) {
		memcpy(key, json_string_value(rev), REV_LEN);
		key[REV_LEN] = '\0';
		atomic_fetch_add(&saw_rev, 1);
	} else {
		uri = json_object_get(root, "uri");
		s = json_string_value(uri);
		if (s != NULL && (slash = strrchr(s, '/')) != NULL &&
		    strlen(slash + 1) == REV_LEN) {
			memcpy(key, slash + 1, REV_LEN);
			key[REV_LEN] = '\0';
		}
		atomic_fetch_add(&saw_norev, 1);
	}
	json_decref(root);
}

static void *
writer_main(void *arg)
{
	int id = (int)(intptr_t)arg;
	const struct token *tok = &tokens[id % ntokens];
	struct curl_slist *hdrs = NULL;
	char url[600], auth[4096], body[1024], ts[64], bph[256];
	const char *bypass;
	struct resp *r;
	CURL *c;
	long k, status;
	time_t wall;
	struct tm tm;

	if ((r = malloc(sizeof(*r))) == NULL)
		die("out of memory");
	if ((c = curl_easy_init()) == NULL)
		die("curl_easy_init");
	snprintf(url, sizeof(url), "%s/xrpc/com.atproto.repo.createRecord",
	    opt.base);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok->jwt);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Expect:");
	if ((bypass = getenv("BENCH_RATELIMIT_BYPASS")) != NULL &&
	    *bypass != '\0') {
		snprintf(bph, sizeof(bph), "x-ratelimit-bypass: %s", bypass);
		hdrs = curl_slist_append(hdrs, bph);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, resp_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);

	while ((k = atomic_fetch_add(&next_write, 1)) < nwrites) {
		struct write *w = &writes[k];

		/* A server that cannot keep up gets twice the time, no more. */
		if (now_ns() > t_cutoff)
			continue;
		sleep_until(w->due);
		wall = time(NULL);
		gmtime_r(&wall, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
		snprintf(body, sizeof(body),
		    "{\"repo\":\"%s\",\"collection\":\"" COLLECTION "\","
		    "\"record\":{\"$type\":\"" COLLECTION "\","
		    "\"text\":\"firehose bench write %ld\","
		    "\"createdAt\":\"%s\"}}", tok->did, k, ts);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		r->len = 0;
		r->data[0] = '\0';
		w->sent = now_ns();
		status = 0;
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		w->status = (int)status;
		if (status == 200) {
			w->acked = now_ns();
			resp_key(r->data, w->key);
			if (w->key[0] == '\0')
				w->acked = 0;
		} else if (status != 0 && k < 3) {
			fprintf(stderr, "fhsub: createRecord %ld: %.300s\n",
			    status, r->data);
		}
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(r);
	return NULL;
}

/* ---- subscribers -------------------------------------------------- */

static void
sub_need(unsigned char **p, size_t *cap, size_t want)
{
	size_t n = *cap ? *cap : 4096;

	if (want <= *cap)
		return;
	while (n < want)
		n *= 2;
	*p = xrealloc(*p, n);
	*cap = n;
}

static void
arrival_add(uint32_t sub, int64_t t, const unsigned char *rev,
    const unsigned char *rkey)
{
	struct arrival *a;

	if (narrivals == arrivals_cap) {
		arrivals_cap = arrivals_cap ? arrivals_cap * 2 : 65536;
		arrivals = xrealloc(arrivals, arrivals_cap * sizeof(*arrivals));
	}
	a = &arrivals[narrivals++];
	memset(a, 0, sizeof(*a));
	a->t = t;
	a->sub = sub;
	if (rev != NULL)
		memcpy(a->rev, rev, REV_LEN);
	if (rkey != NULL)
		memcpy(a->rkey, rkey, REV_LEN);
}

static const unsigned char *
find(const unsigned char *h, size_t hl, const void *n, size_t nl)
{
	return memmem(h, hl, n, nl);
}

/* A whole binary message m (header then body, both DAG-CBOR). */
static void
sub_message(struct sub *s, uint32_t idx, int64_t t, const unsigned char *m,
    size_t len)
{
	static const unsigned char rev_key[] = { 0x63, 'r', 'e', 'v', 0x6d };
	static const unsigned char err_op[] = { 0x62, 'o', 'p', 0x20 };
	static const char path[] = COLLECTION "/";
	const unsigned char *p, *rev = NULL, *rkey = NULL;
	size_t head = len < 24 ? len : 24;

	s->frames++;
	if (find(m, head, err_op, sizeof(err_op)) != NULL) {
		s->errors++;
		return;
	}
	p = find(m, len, rev_key, sizeof(rev_key));
	if (p != NULL && (size_t)(p - m) + sizeof(rev_key) + REV_LEN <= len)
		rev = p + sizeof(rev_key);
	/* The op path comes before the blocks in canonical key order. */
	p = find(m, len, path, sizeof(path) - 1);
	if (p != NULL && (size_t)(p - m) + sizeof(path) - 1 + REV_LEN <= len)
		rkey = p + sizeof(path) - 1;
	if (rev != NULL || rkey != NULL)
		arrival_add(idx, t, rev, rkey);
}

static void
sub_close(struct sub *s, int ep)
{
	if (s->state == SUB_CLOSED)
		return;
	epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
	s->state = SUB_CLOSED;
}

/* Send a masked control frame (pong or close) with a short payload. */
static void
sub_send_control(struct sub *s, int opcode, const unsigned char *pl,
    size_t len)
{
	unsigned char f[2 + 4 + 125];
	size_t i;

	if (len > 125)
		len = 125;
	f[0] = (unsigned char)(0x80 | opcode);
	f[1] = (unsigned char)(0x80 | len);
	f[2] = 0x12; f[3] = 0x34; f[4] = 0x56; f[5] = 0x78;
	for (i = 0; i < len; i++)
		f[6 + i] = pl[i] ^ f[2 + i % 4];
	(void)!send(s->fd, f, 6 + len, MSG_NOSIGNAL);
}

/*
 * Consume the complete frames in b[0..len): returns the bytes consumed,
 * or -1 when the peer closed.  A message in one frame is looked at where
 * it lies; only fragments are copied, into s->msg.
 */
static ssize_t
sub_frames(struct sub *s, uint32_t idx, int64_t t, const unsigned char *b,
    size_t len)
{
	size_t off = 0;

	while (len - off >= 2) {
		const unsigned char *f = b + off;
		size_t avail = len - off, hl = 2, pl;
		int opcode = f[0] & 0x0f, fin = f[0] & 0x80;

		pl = f[1] & 0x7f;
		if (pl == 126) {
			if (avail < 4)
				break;
			pl = ((size_t)f[2] << 8) | f[3];
			hl = 4;
		} else if (pl == 127) {
			if (avail < 10)
				break;
			pl = 0;
			for (int i = 0; i < 8; i++)
				pl = (pl << 8) | f[2 + i];
			hl = 10;
		}
		if (f[1] & 0x80)
			hl += 4;	/* servers do not mask; skip a key */
		if (pl > MAX_MSG)
			return -1;
		if (avail < hl + pl)
			break;
		switch (opcode) {
		case 0x0:	/* continuation */
		case 0x1:
		case 0x2:
			if (opcode != 0x0 && fin) {
				sub_message(s, idx, t, f + hl, pl);
				break;
			}
			if (opcode != 0x0)
				s->msglen = 0;
			sub_need(&s->msg, &s->msgcap, s->msglen + pl);
			memcpy(s->msg + s->msglen, f + hl, pl);
			s->msglen += pl;
			if (fin)
				sub_message(s, idx, t, s->msg, s->msglen);
			break;
		case 0x8:
			return -1;
		case 0x9:
			sub_send_control(s, 0xa, f + hl, pl);
			break;
		default:
			break;
		}
		off += hl + pl;
	}
	return (ssize_t)off;
}

static int
sub_connect(struct sub *s, const struct addrinfo *ai, int ep, uint32_t idx)
{
	struct epoll_event ev;
	int one = 1;

	s->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (s->fd == -1)
		return -1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	s->state = SUB_CONNECTING;
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u32 = idx;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) == -1) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	return 0;
}

static void
sub_send_handshake(struct sub *s, int ep, uint32_t idx)
{
	char req[1024];
	struct epoll_event ev;
	int n, err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 ||
	    err != 0) {
		sub_close(s, ep);
		return;
	}
	/* The key is fixed: the server's answer is not checked beyond 101. */
	n = snprintf(req, sizeof(req),
	    "GET /xrpc/com.atproto.sync.subscribeRepos HTTP/1.1\r\n"
	    "Host: %s:%s\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", opt.host, opt.port);
	if (send(s->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		sub_close(s, ep);
		return;
	}
	s->state = SUB_HANDSHAKE;
	ev.events = EPOLLIN;
	ev.data.u32 = idx;
	epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
}

/*
 * Read what is there; returns false when the subscriber is gone.  Bytes
 * land in rbuf, shared by every subscriber, and the frames are taken
 * from there; s->buf holds only what is left over (the handshake, or a
 * frame that is not complete yet) until the next read.
 */
static bool
sub_read(struct sub *s, uint32_t idx, int64_t t)
{
	const unsigned char *b;
	unsigned char *end;
	size_t len;
	ssize_t n, used;

	for (;;) {
		n = recv(s->fd, rbuf, sizeof(rbuf), 0);
		if (n == 0)
			return false;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			if (errno == EINTR)
				continue;
			return false;
		}
		if (s->len > 0 || s->state == SUB_HANDSHAKE) {
			sub_need(&s->buf, &s->cap, s->len + (size_t)n);
			memcpy(s->buf + s->len, rbuf, (size_t)n);
			s->len += (size_t)n;
			b = s->buf;
			len = s->len;
		} else {
			b = rbuf;
			len = (size_t)n;
		}
		if (s->state == SUB_HANDSHAKE) {
			end = memmem(s->buf, s->len, "\r\n\r\n", 4);
			if (end == NULL) {
				if (s->len > 16384)
					return false;
				continue;
			}
			if (s->len < 12 || memcmp(s->buf + 9, "101", 3) != 0)
				return false;
			end += 4;
			s->len -= (size_t)(end - s->buf);
			memmove(s->buf, end, s->len);
			s->state = SUB_OPEN;
			s->opened = true;
			len = s->len;
		}
		if ((used = sub_frames(s, idx, t, b, len)) < 0)
			return false;
		/* keep the rest (an incomplete frame) for the next read */
		if (b == s->buf) {
			memmove(s->buf, s->buf + used, s->len - (size_t)used);
			s->len -= (size_t)used;
		} else if ((size_t)used < len) {
			sub_need(&s->buf, &s->cap, len - (size_t)used);
			memcpy(s->buf, b + used, len - (size_t)used);
			s->len = len - (size_t)used;
		}
	}
}

/* Handle ready subscribers for up to ms milliseconds. */
static void
subs_poll(struct sub *subs, int ep, int ms, uint64_t *events_seen)
{
	struct epoll_event evs[256];
	int n, i;
	int64_t t;

	n = epoll_wait(ep, evs, 256, ms);
	if (n <= 0)
		return;
	t = now_ns();
	for (i = 0; i < n; i++) {
		uint32_t idx = evs[i].data.u32;
		struct sub *s = &subs[idx];

		if (s->state == SUB_CLOSED)
			continue;
		if (s->state == SUB_CONNECTING) {
			if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				sub_send_handshake(s, ep, idx);
			continue;
		}
		if (!sub_read(s, idx, t))
			sub_close(s, ep);
		if (events_seen != NULL)
			(*events_seen)++;
	}
}

/* ---- results ------------------------------------------------------ */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double
pct_ms(int64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return -1;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	if (i >= n)
		i = n - 1;
	return (double)v[i] / 1e6;
}

static int
cmp_arrival(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;
	int c = memcmp(x->key, y->key, REV_LEN);

	if (c != 0)
		return c;
	return (x->sub > y->sub) - (x->sub < y->sub);
}

struct keyidx {
	char	key[REV_LEN + 1];
	long	w;
};

static int
cmp_keyidx(const void *a, const void *b)
{
	return memcmp(((const struct keyidx *)a)->key,
	    ((const struct keyidx *)b)->key, REV_LEN);
}

static void
usage(void)
{
	fprintf(stderr, "usage: fhsub -u URL -t TOKENS [-n subscribers] "
	    "[-r writes/s] [-d seconds] [-w writers] [-g grace-seconds] "
	    "[-c connect-timeout]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct addrinfo hints, *ai = NULL;
	struct sub *subs;
	pthread_t th[MAX_WRITERS];
	struct rlimit rl;
	int ch, ep, i, connected = 0, disconnects = 0;
	int64_t t0, deadline, last_event, t_end_writes;
	uint64_t seen, frames = 0, errframes = 0;
	long acked = 0, failed = 0, unsent = 0, w;
	int64_t *lat, *ack_lat, *lag, last_ack = 0;
	size_t nlat = 0, nack = 0, early = 0, a;
	struct keyidx *ki;
	uint64_t *got;
	const char *url = NULL;
	int e;

	opt.subs = 1;
	opt.rate = 20;
	opt.duration = 10;
	opt.writers = 8;
	opt.grace = 3;
	opt.connect_timeout = 30;
	while ((ch = getopt(argc, argv, "u:n:r:d:w:g:c:t:")) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'n': opt.subs = (int)parse_num(optarg, "subscribers");
			break;
		case 'r': opt.rate = parse_num(optarg, "rate"); break;
		case 'd': opt.duration = parse_num(optarg, "duration"); break;
		case 'w': opt.writers = (int)parse_num(optarg, "writers");
			break;
		case 'g': opt.grace = parse_num(optarg, "grace"); break;
		case 'c': opt.connect_timeout = parse_num(optarg, "timeout");
			break;
		case 't': opt.tokens_file = optarg; break;
		default: usage();
		}
	}
	if (url == NULL || opt.tokens_file == NULL || opt.subs > MAX_SUBS ||
	    opt.writers < 1 || opt.writers > MAX_WRITERS || opt.rate <= 0)
		usage();
	parse_url(url);
	read_tokens(opt.tokens_file);

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur <
	    (rlim_t)opt.subs + 256) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(rbuf, 0xa5, sizeof(rbuf));	/* touched (see rbuf) */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("curl_global_init");
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(opt.host, opt.port, &hints, &ai)) != 0)
		die("%s: %s", opt.host, gai_strerror(e));
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));

	/* Connect every subscriber, 64 at a time in flight. */
	subs = calloc((size_t)opt.subs + 1, sizeof(*subs));
	if (subs == NULL)
		die("out of memory");
	t0 = now_ns();
	deadline = t0 + (int64_t)(opt.connect_timeout * 1e9);
	for (i = 0; i < opt.subs; ) {
		int inflight = 0, j;

		for (j = 0; j < i; j++)
			if (subs[j].state == SUB_CONNECTING ||
			    subs[j].state == SUB_HANDSHAKE)
				inflight++;
		while (inflight < 64 && i < opt.subs) {
			if (sub_connect(&subs[i], ai, ep, (uint32_t)i) == -1)
				subs[i].state = SUB_CLOSED;
			i++;
			inflight++;
		}
		subs_poll(subs, ep, 5, NULL);
		if (now_ns() > deadline)
			break;
	}
	for (;;) {
		int pending = 0;

		for (i = 0; i < opt.subs; i++)
			if (subs[i].state == SUB_CONNECTING ||
			    subs[i].state == SUB_HANDSHAKE)
				pending++;
		if (pending == 0 || now_ns() > deadline)
			break;
		subs_poll(subs, ep, 10, NULL);
	}
	for (i = 0; i < opt.subs; i++)
		if (subs[i].state == SUB_OPEN)
			connected++;
	/* Let the server settle its subscriptions before writing. */
	{
		int64_t settle = now_ns() + 300000000;

		while (now_ns() < settle)
			subs_poll(subs, ep, 20, NULL);
	}
	narrivals = 0;

	/* Schedule and start the writers. */
	nwrites = (long)(opt.rate * opt.duration + 0.5);
	if (nwrites < 1)
		nwrites = 1;
	/* Room for every arrival expected, touched (see rbuf). */
	{
		size_t want = (size_t)connected * (size_t)nwrites;

		if (want > ARRIVALS_RESERVE_MAX)
			want = ARRIVALS_RESERVE_MAX;
		if (want > arrivals_cap) {
			arrivals_cap = want;
			arrivals = xrealloc(arrivals, arrivals_cap *
			    sizeof(*arrivals));
		}
		if (arrivals != NULL)
			memset(arrivals, 0, arrivals_cap * sizeof(*arrivals));
	}
	writes = calloc((size_t)nwrites, sizeof(*writes));
	if (writes == NULL)
		die("out of memory");
	t_start = now_ns() + 50000000;
	t_cutoff = t_start + (int64_t)(2 * opt.duration * 1e9) + 1000000000;
	for (w = 0; w < nwrites; w++)
		writes[w].due = t_start + (int64_t)((double)w * 1e9 /
		    opt.rate);
	for (i = 0; i < opt.writers; i++)
		if (pthread_create(&th[i], NULL, writer_main,
		    (void *)(intptr_t)i) != 0)
			die("pthread_create");

	/* Read frames until the writers are done, then through the grace. */
	last_event = now_ns();
	t_end_writes = 0;
	for (;;) {
		seen = 0;
		subs_poll(subs, ep, 20, &seen);
		if (seen)
			last_event = now_ns();
		if (t_end_writes == 0 &&
		    atomic_load(&next_write) >= nwrites + opt.writers)
			t_end_writes = now_ns();
		if (t_end_writes != 0) {
			int64_t t = now_ns();

			if (t - t_end_writes > (int64_t)(opt.grace * 1e9))
				break;
			if (t - t_end_writes > 500000000 &&
			    t - last_event > 500000000)
				break;
		}
	}
	for (i = 0; i < opt.writers; i++)
		pthread_join(th[i], NULL);

	for (i = 0; i < opt.subs; i++) {
		frames += subs[i].frames;
		errframes += subs[i].errors;
		if (subs[i].state == SUB_CLOSED && subs[i].opened)
			disconnects++;
	}
	for (i = 0; i < opt.subs; i++)
		if (subs[i].state == SUB_OPEN)
			close(subs[i].fd);

	/*
	 * Match arrivals to writes by the commit rev, or by the record key
	 * when the server's responses gave no commit.rev.
	 */
	use_rkey = atomic_load(&saw_norev) > atomic_load(&saw_rev);
	for (a = 0; a < narrivals; a++)
		memcpy(arrivals[a].key, use_rkey ? arrivals[a].rkey :
		    arrivals[a].rev, REV_LEN + 1);
	ki = calloc((size_t)nwrites + 1, sizeof(*ki));
	ack_lat = calloc((size_t)nwrites + 1, sizeof(*ack_lat));
	lag = calloc((size_t)nwrites + 1, sizeof(*lag));
	got = calloc((size_t)nwrites + 1, sizeof(*got));
	if (ki == NULL || ack_lat == NULL || lag == NULL || got == NULL)
		die("out of memory");
	for (w = 0; w < nwrites; w++) {
		struct write *x = &writes[w];

		if (x->sent != 0)
			lag[w] = x->sent - x->due;
		else
			lag[w] = now_ns() - x->due;	/* never sent */
		if (x->sent == 0) {
			unsent++;
			continue;
		}
		if (x->acked == 0) {
			failed++;
			continue;
		}
		memcpy(ki[acked].key, x->key, REV_LEN + 1);
		ki[acked].w = w;
		ack_lat[nack++] = x->acked - x->sent;
		if (x->acked > last_ack)
			last_ack = x->acked;
		acked++;
	}
	qsort(ki, (size_t)acked, sizeof(*ki), cmp_keyidx);
	if (narrivals > 0)
		qsort(arrivals, narrivals, sizeof(*arrivals), cmp_arrival);
	lat = calloc(narrivals + 1, sizeof(*lat));
	if (lat == NULL)
		die("out of memory");
	for (a = 0; a < narrivals; a++) {
		struct keyidx k, *hit;
		int64_t d;

		/* Count each (subscriber, write) pair once. */
		if (a > 0 && cmp_arrival(&arrivals[a - 1], &arrivals[a]) == 0)
			continue;
		memcpy(k.key, arrivals[a].key, REV_LEN + 1);
		hit = bsearch(&k, ki, (size_t)acked, sizeof(*ki), cmp_keyidx);
		if (hit == NULL)
			continue;
		got[hit - ki]++;
		d = arrivals[a].t - writes[hit->w].acked;
		if (d < 0) {
			early++;
			d = 0;
		}
		lat[nlat++] = d;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_i64);
	qsort(ack_lat, nack, sizeof(*ack_lat), cmp_i64);
	qsort(lag, (size_t)nwrites, sizeof(*lag), cmp_i64);

	{
		double span = (double)(last_ack - t_start) / 1e9;
		double achieved = acked > 0 && span > 0 ?
		    (double)acked / (span > opt.duration ? span :
		    opt.duration) : 0;
		uint64_t expected = (uint64_t)acked * (uint64_t)connected;
		bool holds = acked >= (long)(0.95 * (double)nwrites) &&
		    achieved >= 0.95 * opt.rate &&
		    pct_ms(lag, (size_t)nwrites, 99) < 1000;

		printf("{\"subscribers\":%d,\"connected\":%d,"
		    "\"connect_ms\":%.1f,"
		    "\"rate_target\":%.1f,\"duration_s\":%.1f,\"writers\":%d,"
		    "\"writes_scheduled\":%ld,\"writes_acked\":%ld,"
		    "\"writes_failed\":%ld,\"writes_unsent\":%ld,"
		    "\"rate_achieved\":%.2f,"
		    "\"rate_holds\":%s,"
		    "\"ack_ms\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
		    "\"lag_ms\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
		    "\"match\":\"%s\","
		    "\"frames\":%" PRIu64 ",\"error_frames\":%" PRIu64 ","
		    "\"delivered\":%zu,\"expected\":%" PRIu64 ","
		    "\"drops\":%" PRIu64 ",\"before_ack\":%zu,"
		    "\"disconnects\":%d,"
		    "\"delivery_ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
		    "\"max\":%.2f}}\n",
		    opt.subs, connected,
		    (double)(t_start - t0 - 50000000) / 1e6,
		    opt.rate, opt.duration, opt.writers,
		    nwrites, acked, failed, unsent, achieved, holds ? "true" : "false",
		    pct_ms(ack_lat, nack, 50), pct_ms(ack_lat, nack, 99),
		    pct_ms(ack_lat, nack, 100),
		    pct_ms(lag, (size_t)nwrites, 50),
		    pct_ms(lag, (size_t)nwrites, 99),
		    pct_ms(lag, (size_t)nwrites, 100),
		    use_rkey ? "rkey" : "rev",
		    frames, errframes, nlat, expected,
		    expected > nlat ? expected - nlat : 0, early, disconnects,
		    pct_ms(lat, nlat, 50), pct_ms(lat, nlat, 90),
		    pct_ms(lat, nlat, 99), pct_ms(lat, nlat, 100));
	}
	for (i = 0; i < opt.subs; i++) {
		free(subs[i].buf);
		free(subs[i].msg);
	}
	for (i = 0; i < ntokens; i++) {
		free(tokens[i].did);
		free(tokens[i].jwt);
	}
	free(subs);
	free(writes);
	free(arrivals);
	free(ki);
	free(ack_lat);
	free(lag);
	free(got);
	free(lat);
	close(ep);
	freeaddrinfo(ai);
	curl_global_cleanup();
	return 0;
}
