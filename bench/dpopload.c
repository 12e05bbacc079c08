/*
 * dpopload: the load generator of the OAuth scenarios (bench.mjs --only
 * oauth): XRPC requests with DPoP-bound access tokens, each carrying its
 * own proof, which wrk cannot make.  Every proof needs a fresh jti, the
 * server's nonce and the hash of the access token, and is signed with the
 * session's key (ES256 or ES256K, keys.h).
 *
 *   dpopload -u http://127.0.0.1:2583 -o http://localhost:2583 -c 8 -d 4
 *       -n 20000 -f requests.txt
 *
 * -u is where to connect, -o the server's public URL (the proofs' htu and
 * the Host header), -c the connections, -d the seconds, -t the threads
 * (2), -n the proofs signed per session before the clock starts (0: each
 * is signed as it is sent).  requests.txt holds tab-separated lines:
 *
 *   S <tab> access-token <tab> crv <tab> d       a session: its private
 *                                                JWK's crv and d
 *   R <tab> session <tab> METHOD <tab> path <tab> JSON body or "-"
 *
 * Connection k speaks for session k mod n and goes round that session's
 * requests.  The server's nonce is asked for first: a proof without one
 * gets 401 (or 400) use_dpop_nonce and a DPoP-Nonce header, and changes
 * nothing.  A new nonce during the run drops the signed proofs; later
 * ones are signed on the spot.  At the end one line
 *
 *   BENCHJSON {"requests":...,"errors":{...},"latency_us":{...},...}
 *
 * goes to stdout, in the shape of bench/wrk.lua's; errors.status counts
 * answers that were not 2xx.  Plain http on loopback only.  Requests carry
 * x-ratelimit-bypass: $BENCH_RATELIMIT_BYPASS when that is set.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <jansson.h>

#include "err.h"
#include "jwk.h"
#include "keys.h"
#include "multibase.h"

#define MAXSESS		64
#define MAXTHREADS	16
#define NONCE_MAX	256
#define PROOF_MAX	4096

struct sess {
	char		*token;
	struct pds_key	*key;
	char		*head;		/* base64url of the JOSE header */
	char		 ath[64];
	int		*reqs;		/* indexes into reqv */
	int		 nreqs;
	char		**pool;		/* signed proofs for reqs[0]'s htm/htu */
	size_t		 npool;
	atomic_size_t	 next;
};

struct req {
	int	 sess;
	char	*method, *path, *htu, *body;
	size_t	 bodylen;
};

struct conn {
	int	 fd, sess, i;
	char	*out;
	size_t	 outlen, outoff, outcap;
	char	*in;
	size_t	 inlen, incap;
	double	 sent;
	bool	 busy;
};

struct thr {
	pthread_t	 tid;
	int		 id, ep;
	struct conn	*conns;
	int		 nconns;
	uint64_t	 requests, bytes, status_err, connect_err, read_err,
			 write_err;
	uint64_t	 statuses[600];
	float		*lat;
	size_t		 nlat, latcap;
};

static struct sess	 sessv[MAXSESS];
static int		 nsess;
static struct req	*reqv;
static int		 nreq;
static struct sockaddr_in addr;
static char		 host[256], origin[256];
static char		 bypass_hdr[256];	/* "x-ratelimit-bypass: k\r\n" */
static double		 deadline;

static pthread_mutex_t	 nonce_mu = PTHREAD_MUTEX_INITIALIZER;
static char		 nonce[NONCE_MAX];
static atomic_int	 pool_ok = 1;
static atomic_ulong	 jti_seq, signed_live, nonce_changes;
static char		 jti_prefix[16];

static void __attribute__((noreturn))
die(const char *what, const char *why)
{
	fprintf(stderr, "dpopload: %s: %s\n", what, why);
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		die("malloc", strerror(errno));
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void
grow(char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 4096;
	if ((*p = realloc(*p, *cap)) == NULL)
		die("realloc", strerror(errno));
}

/* ---- proofs --------------------------------------------------------- */

/* A proof for htm htu by s, with the current nonce, into out. */
static void
sign_proof(char out[PROOF_MAX], const struct sess *s, const char *htm,
    const char *htu)
{
	char claims[1024], cb[1500], sb[100], n[NONCE_MAX];
	uint8_t sig[KEY_SIG_LEN];
	size_t hl;
	long cl;
	int len;

	pthread_mutex_lock(&nonce_mu);
	memcpy(n, nonce, sizeof(n));
	pthread_mutex_unlock(&nonce_mu);
	len = snprintf(claims, sizeof(claims), "{\"jti\":\"%s%lx\","
	    "\"htm\":\"%s\",\"htu\":\"%s\",\"iat\":%lld,%s%s%s\"ath\":\"%s\"}",
	    jti_prefix, atomic_fetch_add(&jti_seq, 1), htm, htu,
	    (long long)time(NULL), n[0] ? "\"nonce\":\"" : "", n,
	    n[0] ? "\"," : "", s->ath);
	if (len < 0 || (size_t)len >= sizeof(claims))
		die("proof", "claims too long");
	if ((cl = b64url_encode(cb, sizeof(cb), (uint8_t *)claims,
	    (size_t)len)) < 0)
		die("proof", "encoding");
	hl = strlen(s->head);
	if (hl + 1 + (size_t)cl + 1 + 90 > PROOF_MAX)
		die("proof", "too long");
	memcpy(out, s->head, hl);
	out[hl] = '.';
	memcpy(out + hl + 1, cb, (size_t)cl);
	out[hl + 1 + (size_t)cl] = '\0';
	if (key_sign(s->key, out, hl + 1 + (size_t)cl, sig) != PDS_OK)
		die("key_sign", "failed");
	if (b64url_encode(sb, sizeof(sb), sig, sizeof(sig)) < 0)
		die("proof", "encoding");
	out[hl + 1 + (size_t)cl] = '.';
	strcpy(out + hl + 2 + (size_t)cl, sb);
}

/* The next proof for r: a signed-ahead one when it fits, else a new one. */
static const char *
next_proof(char buf[PROOF_MAX], struct sess *s, const struct req *r)
{
	const struct req *r0 = &reqv[s->reqs[0]];
	size_t i;

	if (atomic_load(&pool_ok) && s->npool > 0 &&
	    strcmp(r->method, r0->method) == 0 &&
	    strcmp(r->htu, r0->htu) == 0) {
		i = atomic_fetch_add(&s->next, 1);
		if (i < s->npool)
			return s->pool[i];
	}
	atomic_fetch_add(&signed_live, 1);
	sign_proof(buf, s, r->method, r->htu);
	return buf;
}

/* ---- HTTP ------------------------------------------------------------ */

static void
build(struct conn *c, const struct req *r)
{
	char pb[PROOF_MAX];
	const char *proof = next_proof(pb, &sessv[c->sess], r);
	size_t need = strlen(r->path) + strlen(host) + strlen(bypass_hdr) +
	    strlen(sessv[c->sess].token) + strlen(proof) + r->bodylen + 256;
	int n;

	grow(&c->out, &c->outcap, need);
	if (r->body == NULL)
		n = snprintf(c->out, c->outcap, "%s %s HTTP/1.1\r\nHost: %s\r\n"
		    "%sAuthorization: DPoP %s\r\nDPoP: %s\r\n\r\n", r->method,
		    r->path, host, bypass_hdr, sessv[c->sess].token, proof);
	else
		n = snprintf(c->out, c->outcap, "%s %s HTTP/1.1\r\nHost: %s\r\n"
		    "%sAuthorization: DPoP %s\r\nDPoP: %s\r\n"
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		    "\r\n%s", r->method, r->path, host, bypass_hdr,
		    sessv[c->sess].token, proof, r->bodylen, r->body);
	if (n < 0 || (size_t)n >= c->outcap)
		die("request", "too long");
	c->outlen = (size_t)n;
	c->outoff = 0;
}

/* The value of header name in head (NUL-terminated), or NULL; *len set. */
static const char *
header(const char *head, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n"), *e;

	while (p != NULL && p[2] != '\0') {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			e = strstr(p, "\r\n");
			if (e == NULL)
				e = p + strlen(p);
			*len = (size_t)(e - p);
			return p;
		}
		p = strstr(p, "\r\n");
	}
	return NULL;
}

/*
 * The length of the answer at the start of c->in once it is complete,
 * else 0; *status and *close_after set, and a new DPoP-Nonce kept on a
 * refusal.
 */
static size_t
answer(struct conn *c, int *status, bool *close_after)
{
	char head[8192], *end;
	const char *v;
	size_t hl, vl, len;

	if (c->inlen < 12)
		return 0;
	end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	hl = (size_t)(end - c->in) + 4;
	if (hl > sizeof(head))
		die("answer", "head too long");
	memcpy(head, c->in, hl - 2);	/* the last "\r\n" kept */
	head[hl - 2] = '\0';
	*status = atoi(head + 9);
	*close_after = (v = header(head, "connection", &vl)) != NULL &&
	    strncasecmp(v, "close", 5) == 0;
	if ((v = header(head, "content-length", &vl)) != NULL) {
		len = hl + strtoul(v, NULL, 10);
	} else if ((v = header(head, "transfer-encoding", &vl)) != NULL &&
	    strncasecmp(v, "chunked", 7) == 0) {
		end = memmem(c->in + hl - 2, c->inlen - hl + 2,
		    "\r\n0\r\n\r\n", 7);
		if (end == NULL)
			return 0;
		len = (size_t)(end - c->in) + 7;
	} else
		len = hl;
	if (len > c->inlen)
		return 0;
	if (*status >= 300 && (v = header(head, "dpop-nonce", &vl)) != NULL &&
	    vl > 0 && vl < NONCE_MAX) {
		pthread_mutex_lock(&nonce_mu);
		if (strncmp(nonce, v, vl) != 0 || nonce[vl] != '\0') {
			memcpy(nonce, v, vl);
			nonce[vl] = '\0';
			atomic_store(&pool_ok, 0);
			atomic_fetch_add(&nonce_changes, 1);
		}
		pthread_mutex_unlock(&nonce_mu);
	}
	return len;
}

static int
dial(void)
{
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Write what is left of c->out; false when the connection failed. */
static bool
flush(struct thr *t, struct conn *c)
{
	ssize_t n;
	struct epoll_event ev;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->outoff += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev.events = EPOLLIN | EPOLLOUT;
			ev.data.ptr = c;
			epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev);
			return true;
		}
		if (n == -1 && errno == EINTR)
			continue;
		t->write_err++;
		return false;
	}
	return true;
}

static void
send_next(struct thr *t, struct conn *c)
{
	struct sess *s = &sessv[c->sess];
	const struct req *r = &reqv[s->reqs[c->i]];

	c->i = (c->i + 1) % s->nreqs;
	build(c, r);
	c->sent = now_s();
	c->busy = true;
	if (!flush(t, c))
		c->busy = false;
}

/* (Re)open c and send its next request. */
static void
open_conn(struct thr *t, struct conn *c)
{
	struct epoll_event ev;

	if (c->fd != -1) {
		epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->inlen = 0;
	c->busy = false;
	while ((c->fd = dial()) == -1) {
		t->connect_err++;
		if (now_s() >= deadline)
			return;
		usleep(10000);
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev);
	send_next(t, c);
}

static void
record(struct thr *t, double us)
{
	if (t->nlat == t->latcap) {
		t->latcap = t->latcap ? t->latcap * 2 : 65536;
		if ((t->lat = realloc(t->lat, t->latcap * sizeof(float))) ==
		    NULL)
			die("realloc", strerror(errno));
	}
	t->lat[t->nlat++] = (float)us;
}

static void
readable(struct thr *t, struct conn *c)
{
	struct epoll_event ev;
	size_t len;
	ssize_t n;
	int status;
	bool cl;

	for (;;) {
		grow(&c->in, &c->incap, c->inlen + 16384);
		n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
		if (n > 0) {
			c->inlen += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* closed or failed */
		if (c->busy)
			t->read_err++;
		if (now_s() < deadline)
			open_conn(t, c);
		return;
	}
	if (!c->busy || (len = answer(c, &status, &cl)) == 0)
		return;
	if (now_s() >= deadline)
		return;		/* late: not counted */
	t->requests++;
	t->bytes += len;
	record(t, (now_s() - c->sent) * 1e6);
	t->statuses[status > 0 && status < 600 ? status : 0]++;
	if (status < 200 || status > 299)
		t->status_err++;
	memmove(c->in, c->in + len, c->inlen - len);
	c->inlen -= len;
	c->busy = false;
	if (cl) {
		open_conn(t, c);
		return;
	}
	if (c->outoff >= c->outlen) {
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
	send_next(t, c);
}

static void *
thread_main(void *arg)
{
	struct thr *t = arg;
	struct epoll_event evs[64], ev;
	struct conn *c;
	int i, n;

	if ((t->ep = epoll_create1(0)) == -1)
		die("epoll_create1", strerror(errno));
	for (i = 0; i < t->nconns; i++)
		open_conn(t, &t->conns[i]);
	while (now_s() < deadline) {
		n = epoll_wait(t->ep, evs, 64, 20);
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (evs[i].events & EPOLLOUT) {
				if (!flush(t, c)) {
					open_conn(t, c);
					continue;
				}
				if (c->outoff >= c->outlen) {
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd,
					    &ev);
				}
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				readable(t, c);
		}
	}
	for (i = 0; i < t->nconns; i++)
		if (t->conns[i].fd != -1)
			close(t->conns[i].fd);
	close(t->ep);
	return NULL;
}

/* ---- set-up ----------------------------------------------------------- */

static void
add_session(char *f[])
{
	struct sess *s;
	uint8_t d[64], h[32];
	enum key_type kt;
	json_t *jwk;
	char hdr[512], hb[800], *js;
	long n;

	if (nsess == MAXSESS)
		die("sessions", "too many");
	s = &sessv[nsess++];
	memset(s, 0, sizeof(*s));
	s->token = xstrndup(f[1], strlen(f[1]));
	if (strcmp(f[2], "P-256") == 0)
		kt = KEY_P256;
	else if (strcmp(f[2], "secp256k1") == 0)
		kt = KEY_K256;
	else
		die("crv", f[2]);
	if (b64url_decode(d, sizeof(d), f[3], strlen(f[3])) != KEY_PRIV_LEN)
		die("d", "not 32 bytes of base64url");
	if (key_from_private(&s->key, kt, d) != PDS_OK)
		die("d", "not a private key");
	sodium_memzero(d, sizeof(d));
	if (jwk_export_public(&jwk, s->key) != PDS_OK)
		die("jwk_export_public", "failed");
	js = json_dumps(jwk, JSON_COMPACT);
	json_decref(jwk);
	snprintf(hdr, sizeof(hdr), "{\"typ\":\"dpop+jwt\",\"alg\":\"%s\","
	    "\"jwk\":%s}", key_jwt_alg(s->key), js);
	free(js);
	if ((n = b64url_encode(hb, sizeof(hb), (uint8_t *)hdr,
	    strlen(hdr))) < 0)
		die("header", "too long");
	s->head = xstrndup(hb, (size_t)n);
	crypto_hash_sha256(h, (uint8_t *)s->token, strlen(s->token));
	b64url_encode(s->ath, sizeof(s->ath), h, sizeof(h));
}

static void
add_request(char *f[])
{
	struct req *r;
	char *q;
	int si = atoi(f[1]);

	if (si < 0 || si >= nsess)
		die("request", "no such session");
	if ((reqv = realloc(reqv, (size_t)(nreq + 1) * sizeof(*reqv))) ==
	    NULL)
		die("realloc", strerror(errno));
	r = &reqv[nreq];
	r->sess = si;
	r->method = xstrndup(f[2], strlen(f[2]));
	r->path = xstrndup(f[3], strlen(f[3]));
	q = strchr(r->path, '?');
	r->htu = xmalloc(strlen(origin) + strlen(r->path) + 1);
	sprintf(r->htu, "%s%.*s", origin, q ? (int)(q - r->path) :
	    (int)strlen(r->path), r->path);
	if (strcmp(f[4], "-") == 0) {
		r->body = NULL;
		r->bodylen = 0;
	} else {
		r->body = xstrndup(f[4], strlen(f[4]));
		r->bodylen = strlen(f[4]);
	}
	sessv[si].reqs = realloc(sessv[si].reqs,
	    (size_t)(sessv[si].nreqs + 1) * sizeof(int));
	if (sessv[si].reqs == NULL)
		die("realloc", strerror(errno));
	sessv[si].reqs[sessv[si].nreqs++] = nreq++;
}

static void
load(const char *file)
{
	FILE *fp;
	char *line = NULL, *f[6], *p;
	size_t cap = 0;
	ssize_t n;
	int k;

	if ((fp = fopen(file, "r")) == NULL)
		die(file, strerror(errno));
	while ((n = getline(&line, &cap, fp)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		for (k = 0, p = line; k < 6 && p != NULL; k++) {
			f[k] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (line[0] == 'S' && k >= 4)
			add_session(f);
		else if (line[0] == 'R' && k >= 5)
			add_request(f);
		else
			die(file, "bad line");
	}
	free(line);
	fclose(fp);
	for (k = 0; k < nsess; k++)
		if (sessv[k].nreqs == 0)
			die(file, "a session without requests");
}

/* One request of session 0 whose proof has no nonce: the server's nonce. */
static void
fetch_nonce(void)
{
	struct conn c;
	struct sess *s = &sessv[0];
	const struct req *r = &reqv[s->reqs[0]];
	size_t len = 0;
	ssize_t n;
	int status = 0;
	bool cl;

	memset(&c, 0, sizeof(c));
	c.sess = 0;
	nonce[0] = '\0';
	if ((c.fd = dial()) == -1)
		die("connect", strerror(errno));
	s->npool = 0;
	build(&c, r);
	if (send(c.fd, c.out, c.outlen, MSG_NOSIGNAL) != (ssize_t)c.outlen)
		die("send", strerror(errno));
	c.busy = true;
	while (len == 0) {
		grow(&c.in, &c.incap, c.inlen + 16384);
		if ((n = recv(c.fd, c.in + c.inlen, c.incap - c.inlen, 0)) <= 0)
			die("nonce", "no answer");
		c.inlen += (size_t)n;
		len = answer(&c, &status, &cl);
	}
	close(c.fd);
	free(c.in);
	free(c.out);
	atomic_store(&pool_ok, 1);
	atomic_store(&signed_live, 0);
	atomic_store(&nonce_changes, 0);
	if (status >= 300 && nonce[0] == '\0')
		fprintf(stderr, "dpopload: HTTP %d and no DPoP-Nonce\n",
		    status);
}

static int
cmp_f(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

static void
usage(void)
{
	fprintf(stderr, "usage: dpopload -u URL -o ORIGIN -f FILE [-c conns] "
	    "[-d secs] [-t threads] [-n proofs]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct thr thr[MAXTHREADS];
	const char *url = NULL, *file = NULL;
	char hostpart[256], *colon;
	double secs = 4, t0, presign, start, dur;
	long proofs = 0;
	int conns = 8, nthr = 2, ch, i, k;
	uint64_t requests = 0, bytes = 0, se = 0, ce = 0, re = 0, we = 0;
	uint64_t statuses[600] = { 0 };
	float *all;
	size_t nall = 0;
	uint8_t rnd[6];

	while ((ch = getopt(argc, argv, "u:o:f:c:d:t:n:")) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'o': snprintf(origin, sizeof(origin), "%s", optarg); break;
		case 'f': file = optarg; break;
		case 'c': conns = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 't': nthr = atoi(optarg); break;
		case 'n': proofs = atol(optarg); break;
		default: usage();
		}
	}
	if (url == NULL || file == NULL || origin[0] == '\0' || conns < 1 ||
	    secs <= 0 || nthr < 1 || nthr > MAXTHREADS || proofs < 0)
		usage();
	if (strncmp(url, "http://", 7) != 0 ||
	    strncmp(origin, "http://", 7) != 0)
		die(url, "plain http only");
	snprintf(host, sizeof(host), "%s", origin + 7);
	host[strcspn(host, "/")] = '\0';
	if (getenv("BENCH_RATELIMIT_BYPASS") != NULL &&
	    strlen(getenv("BENCH_RATELIMIT_BYPASS")) < 200)
		snprintf(bypass_hdr, sizeof(bypass_hdr),
		    "x-ratelimit-bypass: %s\r\n",
		    getenv("BENCH_RATELIMIT_BYPASS"));
	origin[7 + strlen(host)] = '\0';
	snprintf(hostpart, sizeof(hostpart), "%s", url + 7);
	hostpart[strcspn(hostpart, "/")] = '\0';
	if ((colon = strrchr(hostpart, ':')) == NULL)
		die(url, "no port");
	*colon = '\0';
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, hostpart, &addr.sin_addr) != 1)
		die(url, "not an IPv4 address");
	if (sodium_init() < 0 || key_init() != PDS_OK)
		die("init", "failed");
	randombytes_buf(rnd, sizeof(rnd));
	b64url_encode(jti_prefix, sizeof(jti_prefix), rnd, sizeof(rnd));
	load(file);
	if (nthr > conns)
		nthr = conns;

	fetch_nonce();
	t0 = now_s();
	for (k = 0; k < nsess && proofs > 0; k++) {
		struct sess *s = &sessv[k];
		const struct req *r = &reqv[s->reqs[0]];
		char pb[PROOF_MAX];

		s->pool = xmalloc((size_t)proofs * sizeof(char *));
		for (s->npool = 0; s->npool < (size_t)proofs; s->npool++) {
			sign_proof(pb, s, r->method, r->htu);
			s->pool[s->npool] = xstrndup(pb, strlen(pb));
		}
	}
	presign = now_s() - t0;

	memset(thr, 0, sizeof(thr));
	for (i = 0; i < nthr; i++) {
		thr[i].id = i;
		thr[i].conns = calloc((size_t)conns, sizeof(struct conn));
		if (thr[i].conns == NULL)
			die("calloc", strerror(errno));
	}
	for (k = 0; k < conns; k++) {
		struct thr *t = &thr[k % nthr];
		struct conn *c = &t->conns[t->nconns++];

		c->fd = -1;
		c->sess = k % nsess;
		c->i = (k / nsess * 7919) % sessv[c->sess].nreqs;
	}
	start = now_s();
	deadline = start + secs;
	for (i = 0; i < nthr; i++)
		if (pthread_create(&thr[i].tid, NULL, thread_main, &thr[i]) != 0)
			die("pthread_create", "failed");
	for (i = 0; i < nthr; i++)
		pthread_join(thr[i].tid, NULL);
	dur = now_s() - start;
	if (dur < secs)
		dur = secs;

	for (i = 0; i < nthr; i++)
		nall += thr[i].nlat;
	all = xmalloc((nall + 1) * sizeof(float));
	nall = 0;
	for (i = 0; i < nthr; i++) {
		memcpy(all + nall, thr[i].lat, thr[i].nlat * sizeof(float));
		nall += thr[i].nlat;
		requests += thr[i].requests;
		bytes += thr[i].bytes;
		se += thr[i].status_err;
		ce += thr[i].connect_err;
		re += thr[i].read_err;
		we += thr[i].write_err;
		for (k = 0; k < 600; k++)
			statuses[k] += thr[i].statuses[k];
	}
	qsort(all, nall, sizeof(float), cmp_f);
#define PCT(p)	(nall ? (double)all[(size_t)((double)nall * (p) / 100) < \
	nall ? (size_t)((double)nall * (p) / 100) : nall - 1] : 0.0)
	printf("BENCHJSON {\"requests\":%llu,\"bytes\":%llu,"
	    "\"duration_us\":%.0f,\"errors\":{\"connect\":%llu,\"read\":%llu,"
	    "\"write\":%llu,\"status\":%llu,\"timeout\":0},"
	    "\"latency_us\":{\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,"
	    "\"max\":%.0f},\"signed_live\":%lu,\"presign_ms\":%.0f,"
	    "\"nonce_changes\":%lu,\"nonce_at_start\":%s,\"statuses\":{",
	    (unsigned long long)requests, (unsigned long long)bytes, dur * 1e6,
	    (unsigned long long)ce, (unsigned long long)re,
	    (unsigned long long)we, (unsigned long long)se, PCT(50), PCT(90),
	    PCT(99), nall ? (double)all[nall - 1] : 0.0,
	    atomic_load(&signed_live), presign * 1e3,
	    atomic_load(&nonce_changes), nonce[0] ? "true" : "false");
	for (k = 0, i = 0; k < 600; k++)
		if (statuses[k] > 0)
			printf("%s\"%d\":%llu", i++ ? "," : "", k,
			    (unsigned long long)statuses[k]);
	printf("}}\n");
	return 0;
}
