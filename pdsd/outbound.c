/*
 * outbound: libcurl with timeouts, size caps and an address policy.
 * See outbound.h.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "offload.h"
#include "outbound.h"
#include "thread.h"

#define ALLOW_HOSTS_MAX	32
#define HOST_MAX	256

static struct {
	char	 user_agent[128];
	bool	 allow_private;
	char	*allow_hosts[ALLOW_HOSTS_MAX];
	size_t	 nallow;
	long	 timeout_ms;
	size_t	 max_response;
	bool	 ready;
} ob;

static pthread_once_t	key_once = PTHREAD_ONCE_INIT;
/*
 * libcurl (and with it OpenSSL: its configuration, providers and error
 * tables, some 2 MB of resident pages) starts at the first outbound
 * request rather than at start-up, so an idle daemon does not carry it
 * and start-up does not wait for it.
 */
static pthread_mutex_t	curl_mu = PTHREAD_MUTEX_INITIALIZER;
static bool		curl_up;
static pthread_key_t	curl_key;

/* Per-request state shared with the callbacks. */
struct req_ctx {
	struct buf	*body;
	bool		 too_big;
	bool		 check_addr;
	int		 refused;	/* sockets refused by the policy */
};

/* ---- address policy ------------------------------------------------- */

static bool
v4_is_public(uint32_t a)
{
	static const struct { uint32_t net, mask; } deny[] = {
		{ 0x00000000, 0xff000000 },	/* 0/8 "this network" */
		{ 0x0a000000, 0xff000000 },	/* 10/8 */
		{ 0x64400000, 0xffc00000 },	/* 100.64/10 CGNAT */
		{ 0x7f000000, 0xff000000 },	/* 127/8 loopback */
		{ 0xa9fe0000, 0xffff0000 },	/* 169.254/16 link-local */
		{ 0xac100000, 0xfff00000 },	/* 172.16/12 */
		{ 0xc0000000, 0xffffff00 },	/* 192.0.0/24 IETF */
		{ 0xc0000200, 0xffffff00 },	/* 192.0.2/24 TEST-NET-1 */
		{ 0xc0586300, 0xffffff00 },	/* 192.88.99/24 6to4 relay */
		{ 0xc0a80000, 0xffff0000 },	/* 192.168/16 */
		{ 0xc6120000, 0xfffe0000 },	/* 198.18/15 benchmarking */
		{ 0xc6336400, 0xffffff00 },	/* 198.51.100/24 TEST-NET-2 */
		{ 0xcb007100, 0xffffff00 },	/* 203.0.113/24 TEST-NET-3 */
		{ 0xe0000000, 0xf0000000 },	/* 224/4 multicast */
		{ 0xf0000000, 0xf0000000 },	/* 240/4 reserved, broadcast */
	};
	size_t	i;

	for (i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		if ((a & deny[i].mask) == deny[i].net)
			return false;
	return true;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static bool
v6_is_public(const uint8_t b[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };

	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_is_public(be32(b + 12));
	/* Only global unicast 2000::/3 beyond this point. */
	if ((b[0] & 0xe0) != 0x20)
		return false;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return false;			/* 2001:db8::/32 docs */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02)
		return false;			/* 2001::/23 incl. Teredo */
	if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0)
		return false;			/* 3fff::/20 docs */
	if (b[0] == 0x20 && b[1] == 0x02)
		return v4_is_public(be32(b + 2));	/* 6to4 */
	return true;
}

bool
outbound_addr_is_public(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		return v4_is_public(ntohl(s4->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)sa;
		return v6_is_public(s6->sin6_addr.s6_addr);
	}
	return false;
}

static curl_socket_t
open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct req_ctx	*ctx = clientp;
	char		 txt[INET6_ADDRSTRLEN] = "?";

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (ctx->check_addr && !outbound_addr_is_public(&a->addr)) {
		if (a->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)
			    &a->addr)->sin_addr, txt, sizeof(txt));
		else if (a->family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
			    &a->addr)->sin6_addr, txt, sizeof(txt));
		log_debug("outbound: refused non-public address %s", txt);
		ctx->refused++;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ---- handles and set-up --------------------------------------------- */

static void
curl_key_free(void *h)
{
	curl_easy_cleanup(h);
}

static void
make_key(void)
{
	if (pthread_key_create(&curl_key, curl_key_free) != 0)
		fatalx("outbound: pthread_key_create");
}

static bool
curl_start(void)
{
	bool	 up;

	pthread_mutex_lock(&curl_mu);
	if (!curl_up)
		curl_up = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	up = curl_up;
	pthread_mutex_unlock(&curl_mu);
	return up;
}

static void *
curl_make(void)
{
	return curl_start() ? curl_easy_init() : NULL;
}

static CURL *
thread_handle(void)
{
	CURL	*h;

	pthread_once(&key_once, make_key);
	/* a handle kept from an earlier request starts afresh */
	if ((h = thread_value(curl_key, curl_make, curl_key_free)) != NULL)
		curl_easy_reset(h);
	return h;
}

int
outbound_init(const struct outbound_config *c)
{
	size_t	i;

	if (ob.ready)
		return PDS_OK;
	snprintf(ob.user_agent, sizeof(ob.user_agent), "%s",
	    c->user_agent != NULL ? c->user_agent : "pdsd");
	ob.allow_private = c->allow_private;
	ob.timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : OUTBOUND_TIMEOUT_MS;
	ob.max_response = c->max_response > 0 ? c->max_response :
	    OUTBOUND_MAX_RESPONSE;
	for (i = 0; c->allow_hosts != NULL && c->allow_hosts[i] != NULL; i++) {
		if (ob.nallow == ALLOW_HOSTS_MAX)
			return PDS_ETOOBIG;
		if ((ob.allow_hosts[ob.nallow++] =
		    strdup(c->allow_hosts[i])) == NULL)
			return PDS_ENOMEM;
	}
	pthread_once(&key_once, make_key);
	ob.ready = true;
	return PDS_OK;
}

void
outbound_shutdown(void)
{
	CURL	*h;
	size_t	 i;

	if (!ob.ready)
		return;
	if ((h = pthread_getspecific(curl_key)) != NULL) {
		curl_easy_cleanup(h);
		pthread_setspecific(curl_key, NULL);
	}
	for (i = 0; i < ob.nallow; i++)
		free(ob.allow_hosts[i]);
	ob.nallow = 0;
	pthread_mutex_lock(&curl_mu);
	if (curl_up)
		curl_global_cleanup();
	curl_up = false;
	pthread_mutex_unlock(&curl_mu);
	ob.ready = false;
}

/* ---- requests ------------------------------------------------------- */

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct req_ctx	*ctx = arg;
	size_t		 len = size * n;

	if (buf_append(ctx->body, p, len) != PDS_OK) {
		ctx->too_big = true;
		return 0;	/* curl aborts with CURLE_WRITE_ERROR */
	}
	return len;
}

/* The URL's host, lower case, into out; false if there is none. */
static bool
url_host(const char *url, char *out, size_t cap)
{
	CURLU	*u;
	char	*host = NULL;
	bool	 ok = false;
	size_t	 i;

	if ((u = curl_url()) == NULL)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    strlen(host) < cap) {
		for (i = 0; host[i] != '\0'; i++)
			out[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ?
			    host[i] + 32 : host[i]);
		out[i] = '\0';
		ok = true;
	}
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

static bool
host_allowed(const char *host)
{
	size_t	i;

	for (i = 0; i < ob.nallow; i++)
		if (strcasecmp(ob.allow_hosts[i], host) == 0)
			return true;
	return false;
}

void
outbound_resp_clear(struct outbound_resp *r)
{
	buf_clear(&r->body);
}

#define SETOPT(h, o, v) do {						\
	if (curl_easy_setopt(h, o, v) != CURLE_OK) {			\
		snprintf(resp->err, sizeof(resp->err),			\
		    "curl option %s refused", #o);			\
		rc = PDS_EINTERNAL;					\
		goto out;						\
	}								\
} while (0)

int
outbound_do(const struct outbound_req *req, struct outbound_resp *resp)
{
	CURL			*h;
	struct curl_slist	*hdrs = NULL, *nh;
	struct req_ctx		 ctx;
	char			 host[HOST_MAX], ebuf[CURL_ERROR_SIZE];
	char			*ct = NULL;
	size_t			 max, i;
	long			 timeout;
	bool			 trusted, post;
	int			 rc = PDS_OK, redirects;
	CURLcode		 cc;

	memset(resp, 0, sizeof(*resp));
	max = req->max_response > 0 ? req->max_response : ob.max_response;
	buf_init(&resp->body, max);
	if (!ob.ready) {
		snprintf(resp->err, sizeof(resp->err), "outbound not set up");
		return PDS_EINTERNAL;
	}
	if (offload_would_block()) {	/* an HTTP worker (offload.h) */
		snprintf(resp->err, sizeof(resp->err),
		    "no network calls on an HTTP worker");
		return PDS_EIO;
	}
	if (req->url == NULL || !url_host(req->url, host, sizeof(host)) ||
	    (strncasecmp(req->url, "https://", 8) != 0 &&
	    strncasecmp(req->url, "http://", 7) != 0)) {
		snprintf(resp->err, sizeof(resp->err), "bad URL");
		return PDS_EINVAL;
	}
	post = req->method != NULL && strcmp(req->method, "POST") == 0;
	if (req->method != NULL && !post && strcmp(req->method, "GET") != 0) {
		snprintf(resp->err, sizeof(resp->err), "unsupported method");
		return PDS_EINVAL;
	}
	if ((h = thread_handle()) == NULL) {
		snprintf(resp->err, sizeof(resp->err), "curl_easy_init failed");
		return PDS_ENOMEM;
	}
	trusted = (req->flags & OUTBOUND_TRUSTED) || host_allowed(host);
	memset(&ctx, 0, sizeof(ctx));
	ctx.body = &resp->body;
	ctx.check_addr = !ob.allow_private && !trusted;
	/* A trusted host's redirect could lead anywhere: no redirects. */
	redirects = trusted && !ob.allow_private ? 0 : req->max_redirects;
	timeout = req->timeout_ms > 0 ? req->timeout_ms : ob.timeout_ms;
	ebuf[0] = '\0';

	for (i = 0; i < req->nheaders && i < OUTBOUND_MAX_HEADERS; i++) {
		if ((nh = curl_slist_append(hdrs, req->headers[i])) == NULL) {
			rc = PDS_ENOMEM;
			goto out;
		}
		hdrs = nh;
	}
	/* No "Expect: 100-continue" round trip on POST. */
	if (post && (nh = curl_slist_append(hdrs, "Expect:")) != NULL)
		hdrs = nh;

	SETOPT(h, CURLOPT_URL, req->url);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_ERRORBUFFER, ebuf);
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(h, CURLOPT_PROXY, "");
	SETOPT(h, CURLOPT_USERAGENT, ob.user_agent);
	SETOPT(h, CURLOPT_TIMEOUT_MS, timeout);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	SETOPT(h, CURLOPT_FOLLOWLOCATION, redirects > 0 ? 1L : 0L);
	SETOPT(h, CURLOPT_MAXREDIRS, (long)(redirects > 0 ? redirects : 0));
	SETOPT(h, CURLOPT_WRITEFUNCTION, on_write);
	SETOPT(h, CURLOPT_WRITEDATA, &ctx);
	SETOPT(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	SETOPT(h, CURLOPT_OPENSOCKETDATA, &ctx);
	SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
	if (ctx.check_addr)
		SETOPT(h, CURLOPT_FRESH_CONNECT, 1L);
	if (post) {
		SETOPT(h, CURLOPT_POST, 1L);
		SETOPT(h, CURLOPT_POSTFIELDS, req->body != NULL ?
		    (const char *)req->body : "");
		SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(req->body != NULL ? req->body_len : 0));
	}

	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct != NULL)
		snprintf(resp->content_type, sizeof(resp->content_type), "%s",
		    ct);
	if (cc == CURLE_OK)
		goto out;
	if (ctx.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(resp->err, sizeof(resp->err),
		    "response larger than %zu bytes", max);
		rc = PDS_ETOOBIG;
	} else if (ctx.refused > 0 && cc == CURLE_COULDNT_CONNECT) {
		snprintf(resp->err, sizeof(resp->err),
		    "%.180s resolves only to non-public addresses", host);
		rc = PDS_EMISMATCH;
	} else if (cc == CURLE_URL_MALFORMAT ||
	    cc == CURLE_UNSUPPORTED_PROTOCOL) {
		snprintf(resp->err, sizeof(resp->err), "bad URL: %.200s",
		    ebuf[0] ? ebuf : curl_easy_strerror(cc));
		rc = PDS_EINVAL;
	} else if (cc == CURLE_TOO_MANY_REDIRECTS) {
		snprintf(resp->err, sizeof(resp->err), "too many redirects");
		rc = PDS_EIO;
	} else {
		snprintf(resp->err, sizeof(resp->err), "%s",
		    ebuf[0] ? ebuf : curl_easy_strerror(cc));
		rc = PDS_EIO;
	}
out:
	/* The handle is reused: drop pointers into this frame. */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	if (rc != PDS_OK && resp->err[0] == '\0')
		snprintf(resp->err, sizeof(resp->err), "%s",
		    pds_strerror(rc));
	return rc;
}

int
outbound_json(const char *url, const json_t *body, int flags,
    long timeout_ms, size_t max_response, long *status, json_t **json,
    char *err, size_t errlen)
{
	struct outbound_req	 req;
	struct outbound_resp	 resp;
	json_error_t		 jerr;
	char			*text = NULL;
	int			 rc;

	*json = NULL;
	*status = 0;
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.flags = flags;
	req.timeout_ms = timeout_ms;
	req.max_response = max_response;
	req.headers[req.nheaders++] = "Accept: application/json";
	if (body != NULL) {
		if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
			if (err != NULL)
				snprintf(err, errlen, "cannot encode JSON");
			return PDS_ENOMEM;
		}
		req.method = "POST";
		req.body = text;
		req.body_len = strlen(text);
		req.headers[req.nheaders++] = "Content-Type: application/json";
	}
	rc = outbound_do(&req, &resp);
	free(text);
	*status = resp.status;
	if (rc == PDS_OK && resp.body.len > 0)
		*json = json_loadb((const char *)resp.body.p, resp.body.len, 0,
		    &jerr);
	if (rc != PDS_OK && err != NULL)
		snprintf(err, errlen, "%s", resp.err);
	outbound_resp_clear(&resp);
	return rc;
}
