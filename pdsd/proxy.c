/*
 * proxy: the catch-all XRPC proxy and the upstream exchange it and the
 * local app.bsky handlers share.  See proxy.h.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "accounts.h"
#include "auth.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "curl_lazy.h"
#include "diddoc.h"
#include "err.h"
#include "jwt.h"
#include "log.h"
#include "oauth_resource.h"
#include "outbound.h"
#include "proxy.h"
#include "resolver.h"
#include "service_auth.h"
#include "syntax.h"
#include "xrpc.h"

#define HDR_TIMEOUT_MS		10000
#define BODY_TIMEOUT_MS		30000
#define MAX_RESPONSE		(10 * 1024 * 1024)
#define STREAM_WINDOW		(256 * 1024)	/* bytes held per stream */
#define SMALL_REPLY		(64 * 1024)	/* sent whole, with a length */
#define REQ_HDR_MAX		4096

/* ---- the reference's method lists ----------------------------------- */

static const char *const protected_methods[] = {
	"com.atproto.admin.sendEmail",
	"com.atproto.identity.requestPlcOperationSignature",
	"com.atproto.identity.signPlcOperation",
	"com.atproto.identity.updateHandle",
	"com.atproto.server.activateAccount",
	"com.atproto.server.confirmEmail",
	"com.atproto.server.createAppPassword",
	"com.atproto.server.deactivateAccount",
	"com.atproto.server.getAccountInviteCodes",
	"com.atproto.server.getSession",
	"com.atproto.server.listAppPasswords",
	"com.atproto.server.requestAccountDelete",
	"com.atproto.server.requestEmailConfirmation",
	"com.atproto.server.requestEmailUpdate",
	"com.atproto.server.revokeAppPassword",
	"com.atproto.server.updateEmail",
};

bool
proxy_method_protected(const char *nsid)
{
	size_t	 i;

	for (i = 0; i < sizeof(protected_methods) /
	    sizeof(protected_methods[0]); i++)
		if (strcasecmp(nsid, protected_methods[i]) == 0)
			return true;
	return false;
}

bool
proxy_method_privileged(const char *nsid)
{
	return strncasecmp(nsid, "chat.bsky.", 10) == 0 ||
	    strcasecmp(nsid, "com.atproto.server.createAccount") == 0;
}

bool
proxy_cred_privileged(const struct xrpc_ctx *ctx)
{
	/* an OAuth scope says itself what it may call (rpc:, chat.bsky) */
	if (ctx->auth.cred == XRPC_CRED_OAUTH)
		return true;
	if (ctx->auth.cred != XRPC_CRED_ACCESS)
		return false;
	return strcmp(ctx->auth.scope, AUTH_SCOPE_ACCESS) == 0 ||
	    strcmp(ctx->auth.scope, AUTH_SCOPE_APP_PRIV) == 0;
}

/* ---- choosing the target -------------------------------------------- */

static bool
set_configured(struct proxy_target *t, const char *did, const char *url,
    const char *service)
{
	if (did == NULL || url == NULL || strlen(did) >= sizeof(t->did))
		return false;
	if (diddoc_check_endpoint(url, t->url, sizeof(t->url), NULL) !=
	    PDS_OK)
		snprintf(t->url, sizeof(t->url), "%s", url);
	memcpy(t->did, did, strlen(did) + 1);
	snprintf(t->service, sizeof(t->service), "%s", service);
	t->trusted = true;
	return true;
}

/* A configured service named by (did, service id), if any. */
static bool
configured_ref(const struct config *cfg, const char *did, const char *frag,
    struct proxy_target *t)
{
	if (cfg->appview_did != NULL && strcmp(did, cfg->appview_did) == 0 &&
	    strcmp(frag, "bsky_appview") == 0)
		return set_configured(t, cfg->appview_did, cfg->appview_url,
		    frag);
	if (strcmp(frag, "atproto_labeler") != 0)
		return false;
	if (cfg->mod_service_did != NULL &&
	    strcmp(did, cfg->mod_service_did) == 0)
		return set_configured(t, cfg->mod_service_did,
		    cfg->mod_service_url, frag);
	if (cfg->report_service_did != NULL &&
	    strcmp(did, cfg->report_service_did) == 0)
		return set_configured(t, cfg->report_service_did,
		    cfg->report_service_url, frag);
	return false;
}

bool
proxy_header_names_other(const struct xrpc_ctx *ctx)
{
	const char	*h = http_req_header(ctx->req, "atproto-proxy");
	const struct config *cfg = ctx->cfg;
	size_t		 n;

	if (h == NULL)
		return false;
	if (cfg->appview_did == NULL)
		return true;
	n = strlen(cfg->appview_did);
	return strncmp(h, cfg->appview_did, n) != 0 ||
	    strcmp(h + n, "#bsky_appview") != 0;
}

int
proxy_target_select(struct xrpc_ctx *ctx, const char *nsid,
    struct proxy_target *t)
{
	const struct config *cfg = ctx->cfg;
	const char	*h, *hash;
	char		 frag[PROXY_SERVICE_MAX];
	int		 rc;

	memset(t, 0, sizeof(*t));
	if ((h = http_req_header(ctx->req, "atproto-proxy")) != NULL) {
		hash = strchr(h, '#');
		if (hash == NULL || hash == h || hash[1] == '\0' ||
		    strchr(hash + 1, '#') != NULL || strpbrk(h, " \t") != NULL ||
		    diddoc_split_service_ref(h, t->did, sizeof(t->did), frag,
		    sizeof(frag)) != PDS_OK)
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "invalid 'atproto-proxy' header");
		if (configured_ref(cfg, t->did, frag, t))
			return 0;
		snprintf(t->service, sizeof(t->service), "%s", frag);
		rc = resolver_service_endpoint(t->did, frag, NULL, t->url,
		    sizeof(t->url));
		if (rc != PDS_OK) {
			log_info("proxy: %s: no usable #%s endpoint: %s",
			    t->did, frag, pds_strerror(rc));
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "could not resolve proxy did service url");
		}
		return 0;
	}
	if (strncasecmp(nsid, "tools.ozone.", 12) == 0) {
		if (set_configured(t, cfg->mod_service_did,
		    cfg->mod_service_url, "atproto_labeler"))
			return 0;
	} else if (strcasecmp(nsid, "com.atproto.moderation.createReport") ==
	    0) {
		if (set_configured(t, cfg->report_service_did,
		    cfg->report_service_url, "atproto_labeler") ||
		    set_configured(t, cfg->mod_service_did,
		    cfg->mod_service_url, "atproto_labeler"))
			return 0;
	} else if (set_configured(t, cfg->appview_did, cfg->appview_url,
	    "bsky_appview"))
		return 0;
	return xrpc_fail(ctx, PDS_EINVAL, NULL,
	    "No service configured for %.200s", nsid);
}

int
proxy_call_select(struct xrpc_ctx *ctx, struct proxy_target *t,
    struct proxy_call *c)
{
	int	 rc;

	if ((rc = proxy_target_select(ctx, ctx->nsid, t)) != 0)
		return rc;
	memset(c, 0, sizeof(*c));
	c->target = t;
	return 0;
}

/* ---- the upstream exchange ------------------------------------------ */

struct upstream {
	CURL		*easy;
	CURLM		*multi;
	struct curl_slist *hdrs;
	char		*url;
	char		*auth;		/* "Authorization: Bearer ..." */

	struct buf	 buf;		/* body bytes not yet passed on */
	size_t		 off;
	size_t		 total, max_total;
	bool		 buffer_all;	/* proxy_fetch: no window */

	bool		 check_addr;
	int		 refused;
	bool		 headers_done, done, paused, too_big, timed_out;
	CURLcode	 cc;
	long		 status;
	char		 ctype[128];
	struct proxy_hdr hdr[PROXY_RESP_HDRS];
	size_t		 nhdr;
	bool		 keep_encoding;

	int64_t		 hdr_deadline, deadline;	/* monotonic ms */
};

static void
up_free(void *arg)
{
	struct upstream	*u = arg;

	if (u == NULL)
		return;
	curl_lazy_multi_free(u->multi, u->easy);
	curl_slist_free_all(u->hdrs);
	free(u->url);
	if (u->auth != NULL) {
		explicit_bzero(u->auth, strlen(u->auth));
		free(u->auth);
	}
	buf_clear(&u->buf);
	free(u);
}

static curl_socket_t
up_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct upstream	*u = arg;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (u->check_addr && !outbound_addr_is_public(&a->addr)) {
		u->refused++;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t
up_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct upstream	*u = arg;
	size_t		 n = size * nmemb, pending;

	if (u->total + n > u->max_total) {
		u->too_big = true;
		return 0;
	}
	if (!u->buffer_all) {
		pending = u->buf.len - u->off;
		if (u->off > 0) {		/* compact */
			memmove(u->buf.p, u->buf.p + u->off, pending);
			u->buf.len = pending;
			u->off = 0;
		}
		if (pending > 0 && pending + n > STREAM_WINDOW) {
			u->paused = true;
			return CURL_WRITEFUNC_PAUSE;
		}
	}
	if (buf_append(&u->buf, p, n) != PDS_OK) {
		u->too_big = true;
		return 0;
	}
	u->total += n;
	return n;
}

/* Response headers passed back to the client. */
static const char *const pass_back[] = {
	"content-encoding", "content-language", "atproto-repo-rev",
	"atproto-content-labelers", "retry-after",
};

static size_t
up_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct upstream	*u = arg;
	size_t		 n = size * nmemb, nl, i, vl;
	const char	*colon, *v;
	long		 st = 0;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		u->nhdr = 0;		/* a new response head (after 1xx) */
		u->ctype[0] = '\0';
		return n;
	}
	if (n <= 2 && (p[0] == '\r' || p[0] == '\n')) {
		curl_easy_getinfo(u->easy, CURLINFO_RESPONSE_CODE, &st);
		if (st >= 200)
			u->headers_done = true;
		return n;
	}
	if ((colon = memchr(p, ':', n)) == NULL)
		return n;
	nl = (size_t)(colon - p);
	v = colon + 1;
	vl = n - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
	    v[vl - 1] == ' '))
		vl--;
	if (nl == 12 && strncasecmp(p, "content-type", 12) == 0) {
		if (vl < sizeof(u->ctype)) {
			memcpy(u->ctype, v, vl);
			u->ctype[vl] = '\0';
		}
		return n;
	}
	for (i = 0; i < sizeof(pass_back) / sizeof(pass_back[0]); i++) {
		if (strlen(pass_back[i]) != nl ||
		    strncasecmp(p, pass_back[i], nl) != 0)
			continue;
		if (i == 0 && !u->keep_encoding)
			break;		/* curl decoded it */
		if (u->nhdr == PROXY_RESP_HDRS ||
		    vl >= sizeof(u->hdr[0].value))
			break;
		memcpy(u->hdr[u->nhdr].name, pass_back[i], nl + 1);
		memcpy(u->hdr[u->nhdr].value, v, vl);
		u->hdr[u->nhdr].value[vl] = '\0';
		u->nhdr++;
		break;
	}
	return n;
}

/* One round of work; -1 when the exchange has failed for good. */
static int
up_step(struct upstream *u, int64_t deadline)
{
	CURLMsg		*m;
	int		 running = 0, q;
	int64_t		 now, wait;

	if (curl_multi_perform(u->multi, &running) != CURLM_OK) {
		u->done = true;
		u->cc = CURLE_FAILED_INIT;
		return -1;
	}
	if (running == 0) {
		while ((m = curl_multi_info_read(u->multi, &q)) != NULL)
			if (m->msg == CURLMSG_DONE)
				u->cc = m->data.result;
		u->done = true;
		return 0;
	}
	now = clock_mono_ms();
	if (now >= deadline) {
		u->timed_out = true;
		return -1;
	}
	wait = deadline - now < 1000 ? deadline - now : 1000;
	curl_multi_poll(u->multi, NULL, 0, (int)wait, NULL);
	return 0;
}

/* Append "key=value&" with both escaped. */
static void
query_add(void *arg, const char *key, const char *value)
{
	struct buf	*q = arg;
	char		*k, *v;

	k = curl_easy_escape(NULL, key, 0);
	v = curl_easy_escape(NULL, value, 0);
	if (k != NULL && v != NULL)
		(void)buf_printf(q, "%s%s=%s", q->len > 0 ? "&" : "", k, v);
	curl_free(k);
	curl_free(v);
}

static int
add_header(struct upstream *u, const char *name, const char *value)
{
	struct curl_slist *n;
	char		 line[REQ_HDR_MAX + 64];
	int		 len;

	if (value == NULL)
		return 0;
	len = snprintf(line, sizeof(line), "%s: %s", name, value);
	if (len < 0 || (size_t)len >= sizeof(line))
		return 0;		/* too long to pass on: dropped */
	if ((n = curl_slist_append(u->hdrs, line)) == NULL)
		return -1;
	u->hdrs = n;
	return 0;
}

/* u->url: the target's endpoint, the method and the query. */
static int
up_url(struct xrpc_ctx *ctx, const struct proxy_call *c,
    const char *nsid, struct upstream *u)
{
	struct buf	 b;
	size_t		 n;

	buf_init(&b, 64 * 1024);
	(void)buf_printf(&b, "%s/xrpc/%s", c->target->url, nsid);
	if (c->query != NULL) {
		if (*c->query != '\0')
			(void)buf_printf(&b, "?%s", c->query);
	} else {
		struct buf	 q;

		buf_init(&q, 60 * 1024);
		http_req_query_each(ctx->req, query_add, &q);
		if (q.len > 0)
			(void)buf_printf(&b, "?%.*s", (int)q.len,
			    (const char *)q.p);
		buf_clear(&q);
	}
	if (buf_putc(&b, '\0') != PDS_OK) {
		buf_clear(&b);
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Request URL too long");
	}
	u->url = (char *)buf_detach(&b, &n);
	return 0;
}

/*
 * The client's headers passed on upstream.  A value with a control
 * character (C0 but HTAB, or DEL) refuses the whole request: a bare CR
 * or LF would let the client write headers of its own into our request,
 * next to the service token we sign.
 */
static const char *const fwd_headers[] = {
	"Accept-Encoding", "Accept-Language", "atproto-accept-labelers",
	"X-Bsky-Topics", "Content-Type", "Content-Encoding",
};

static int
check_fwd_headers(struct xrpc_ctx *ctx)
{
	const unsigned char *v;
	size_t		 i;

	for (i = 0; i < sizeof(fwd_headers) / sizeof(fwd_headers[0]); i++) {
		v = (const unsigned char *)http_req_header(ctx->req,
		    fwd_headers[i]);
		for (; v != NULL && *v != '\0'; v++)
			if ((*v < 0x20 && *v != '\t') || *v == 0x7f)
				return xrpc_fail(ctx, PDS_EINVAL, NULL,
				    "control character in the %s header",
				    fwd_headers[i]);
	}
	return 0;
}

/*
 * No service token is signed for a taken-down account, whatever token
 * it still holds (one issued before the takedown has the full access
 * scope).  401 AccountTakedown, as the reference's takedown check.
 */
static int
refuse_takendown(struct xrpc_ctx *ctx)
{
	struct store_account a;

	if (ctx->auth.did[0] == '\0' ||
	    account_get(ctx->auth.did, &a) != PDS_OK ||
	    a.status != ACCT_TAKENDOWN)
		return 0;
	return xrpc_fail(ctx, PDS_EAUTHREQ, "AccountTakedown",
	    "Account has been taken down");
}

/* u->auth and u->hdrs: the service JWT and the headers passed on. */
static int
up_headers(struct xrpc_ctx *ctx, const char *aud, const char *lxm,
    bool post, struct upstream *u)
{
	struct buf	 tok;
	size_t		 n;
	int		 rc;

	buf_init(&tok, JWT_MAX_LEN + 64);
	(void)buf_puts(&tok, "Authorization: Bearer ");
	rc = service_jwt_mint(ctx->auth.did, aud, lxm, 0, &tok);
	if (rc != PDS_OK || buf_putc(&tok, '\0') != PDS_OK) {
		buf_clear(&tok);
		log_warnx("proxy: cannot sign a service token for %s: %s",
		    ctx->auth.did, pds_strerror(rc));
		return PDS_EINTERNAL;
	}
	u->auth = (char *)buf_detach(&tok, &n);

	if ((u->hdrs = curl_slist_append(NULL, u->auth)) == NULL)
		return PDS_EINTERNAL;
	if (!u->buffer_all && add_header(u, "Accept-Encoding",
	    http_req_header(ctx->req, "Accept-Encoding") != NULL ?
	    http_req_header(ctx->req, "Accept-Encoding") : "identity") != 0)
		return PDS_EINTERNAL;
	if (add_header(u, "Accept-Language",
	    http_req_header(ctx->req, "Accept-Language")) != 0 ||
	    add_header(u, "atproto-accept-labelers",
	    http_req_header(ctx->req, "atproto-accept-labelers")) != 0 ||
	    add_header(u, "X-Bsky-Topics",
	    http_req_header(ctx->req, "X-Bsky-Topics")) != 0 ||
	    add_header(u, "Expect", "") != 0)
		return PDS_EINTERNAL;
	if (post && (add_header(u, "Content-Type",
	    http_req_header(ctx->req, "Content-Type")) != 0 ||
	    add_header(u, "Content-Encoding",
	    http_req_header(ctx->req, "Content-Encoding")) != 0))
		return PDS_EINTERNAL;
	return 0;
}

#define UP_SET(o, v) do {						\
	if (curl_easy_setopt(u->easy, o, v) != CURLE_OK)		\
		return -1;						\
} while (0)

/* The curl handles for u, added to its multi handle; -1 on failure. */
static int
up_curl(struct xrpc_ctx *ctx, bool post, int64_t hdr_ms, int64_t body_ms,
    struct upstream *u)
{
	if ((u->easy = curl_easy_init()) == NULL ||
	    (u->multi = curl_multi_init()) == NULL)
		return -1;
	UP_SET(CURLOPT_URL, u->url);
	UP_SET(CURLOPT_NOSIGNAL, 1L);
	UP_SET(CURLOPT_PROTOCOLS_STR, "http,https");
	UP_SET(CURLOPT_PROXY, "");
	UP_SET(CURLOPT_USERAGENT, "pdsd/" PDSD_VERSION);
	UP_SET(CURLOPT_CONNECTTIMEOUT_MS, (long)hdr_ms);
	UP_SET(CURLOPT_TIMEOUT_MS, (long)(hdr_ms + body_ms));
	UP_SET(CURLOPT_FOLLOWLOCATION, 0L);
	UP_SET(CURLOPT_HTTPHEADER, u->hdrs);
	UP_SET(CURLOPT_WRITEFUNCTION, up_write);
	UP_SET(CURLOPT_WRITEDATA, u);
	UP_SET(CURLOPT_HEADERFUNCTION, up_header);
	UP_SET(CURLOPT_HEADERDATA, u);
	UP_SET(CURLOPT_OPENSOCKETFUNCTION, up_open_socket);
	UP_SET(CURLOPT_OPENSOCKETDATA, u);
	if (u->buffer_all)
		UP_SET(CURLOPT_ACCEPT_ENCODING, "");	/* curl decodes */
	else
		UP_SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
	if (post) {
		UP_SET(CURLOPT_POST, 1L);
		UP_SET(CURLOPT_POSTFIELDS, ctx->body_len > 0 ?
		    (const char *)ctx->body : "");
		UP_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)ctx->body_len);
	}
	if (curl_multi_add_handle(u->multi, u->easy) != CURLM_OK)
		return -1;
	return 0;
}

#undef UP_SET

/* Wait for the response head: 0, or the XRPC error for its absence. */
static int
up_wait_head(struct xrpc_ctx *ctx, const struct proxy_target *t,
    struct upstream *u)
{
	while (!u->headers_done && !u->done)
		if (up_step(u, u->hdr_deadline) != 0)
			break;
	if (u->headers_done)
		return 0;
	if (u->refused > 0) {
		log_info("proxy: %s: refused non-public address", t->url);
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "proxy target resolves to a non-public address");
	}
	if (u->timed_out || u->cc == CURLE_OPERATION_TIMEDOUT)
		return xrpc_fail(ctx, PDS_EUPTIMEOUT, NULL,
		    "Upstream service did not answer in time");
	log_info("proxy: %s: %s", t->url, curl_easy_strerror(u->cc));
	return xrpc_fail(ctx, PDS_EUPSTREAM, NULL,
	    "Upstream service unreachable");
}

/*
 * Start the exchange and wait for the response head.  On success *up
 * holds the running exchange with its status; on failure the XRPC
 * error code is returned and nothing is left to free.
 */
static int
up_start(struct xrpc_ctx *ctx, const struct proxy_call *c, bool buffer_all,
    struct upstream **up)
{
	const struct config *cfg = ctx->cfg;
	const struct proxy_target *t = c->target;
	const char	*nsid = c->nsid != NULL ? c->nsid : ctx->nsid;
	const char	*lxm = c->lxm != NULL ? c->lxm : nsid;
	const char	*aud = c->aud != NULL ? c->aud : t->did;
	struct upstream	*u;
	enum http_method m = http_req_method(ctx->req);
	bool		 post = !c->get && m == HTTP_POST;
	bool		 open_net;
	char		 ref[DID_MAX + PROXY_SERVICE_MAX + 2];
	int64_t		 hdr_ms, body_ms;
	int		 rc;

	*up = NULL;
	if ((rc = check_fwd_headers(ctx)) != 0 ||
	    (rc = refuse_takendown(ctx)) != 0)
		return rc;
	/* an OAuth scope must name the call: rpc:<lxm>?aud=<did#service> */
	if (c->aud != NULL)
		rc = oauth_resource_check_rpc(ctx, lxm, aud);
	else {
		snprintf(ref, sizeof(ref), "%s#%s", t->did, t->service);
		rc = oauth_resource_check_rpc(ctx, lxm, ref);
	}
	if (rc != 0)
		return rc;
	open_net = cfg->dev_mode || cfg->disable_ssrf_protection;
	if (!t->trusted && !open_net && strncasecmp(t->url, "https://", 8) !=
	    0)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "proxy target must use https");
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return PDS_EINTERNAL;
	u->buffer_all = buffer_all;
	u->keep_encoding = !buffer_all;
	u->max_total = cfg->proxy_max_response_size > 0 ?
	    (size_t)cfg->proxy_max_response_size : MAX_RESPONSE;
	buf_init(&u->buf, buffer_all ? u->max_total : STREAM_WINDOW +
	    CURL_MAX_WRITE_SIZE * 4);
	u->check_addr = !t->trusted && !open_net;

	hdr_ms = cfg->proxy_headers_timeout_ms > 0 ?
	    cfg->proxy_headers_timeout_ms : HDR_TIMEOUT_MS;
	body_ms = cfg->proxy_body_timeout_ms > 0 ?
	    cfg->proxy_body_timeout_ms : BODY_TIMEOUT_MS;
	if ((rc = up_url(ctx, c, nsid, u)) != 0 ||
	    (rc = up_headers(ctx, aud, lxm, post, u)) != 0)
		goto fail;
	u->hdr_deadline = clock_mono_ms() + hdr_ms;
	u->deadline = u->hdr_deadline + body_ms;
	if (up_curl(ctx, post, hdr_ms, body_ms, u) != 0) {
		rc = PDS_EINTERNAL;
		goto fail;
	}
	if ((rc = up_wait_head(ctx, t, u)) != 0)
		goto fail;
	curl_easy_getinfo(u->easy, CURLINFO_RESPONSE_CODE, &u->status);
	*up = u;
	return 0;
fail:
	up_free(u);
	return rc;
}

/* Read until done or `want' bytes are pending; -1 on failure. */
static int
up_fill(struct upstream *u, size_t want)
{
	while (!u->done && u->buf.len - u->off < want) {
		if (u->paused) {
			u->paused = false;
			curl_easy_pause(u->easy, CURLPAUSE_CONT);
		}
		if (up_step(u, u->deadline) != 0)
			return -1;
	}
	/* Bytes already here are good even if the rest failed. */
	if (u->done && (u->cc != CURLE_OK || u->too_big) &&
	    u->buf.len - u->off < want)
		return -1;
	return 0;
}

static ssize_t
up_stream(void *arg, uint64_t pos, char *out, size_t max)
{
	struct upstream	*u = arg;
	size_t		 n;

	if (up_fill(u, 1) != 0) {
		log_info("proxy: %s: stream ended early (%s)", u->url,
		    u->too_big ? "too large" : u->timed_out ? "timeout" :
		    curl_easy_strerror(u->cc));
		return HTTP_STREAM_ERROR;
	}
	if (u->buf.len == u->off)
		return HTTP_STREAM_END;
	n = u->buf.len - u->off;
	if (n > max)
		n = max;
	memcpy(out, u->buf.p + u->off, n);
	u->off += n;
	return (ssize_t)n;
}

static int
upstream_5xx(struct xrpc_ctx *ctx, long status)
{
	log_info("proxy: %s: upstream answered %ld", ctx->nsid, status);
	return xrpc_fail(ctx, PDS_EUPSTREAM, NULL,
	    "Upstream service failed (HTTP %ld)", status);
}

static void
add_reply_headers(struct xrpc_ctx *ctx, const struct proxy_hdr *h,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		(void)http_reply_header(ctx->req, h[i].name, h[i].value);
}

int
proxy_forward(struct xrpc_ctx *ctx, const struct proxy_call *c)
{
	struct upstream	*u;
	const char	*ct;
	uint8_t		*data;
	size_t		 len;
	int		 rc;

	if ((rc = up_start(ctx, c, false, &u)) != 0)
		return rc;
	if (u->status >= 500) {
		rc = upstream_5xx(ctx, u->status);
		up_free(u);
		return rc;
	}
	/*
	 * A short answer goes out whole, with a Content-Length; one that
	 * failed before anything was sent is a 502, not a cut-off body.
	 */
	if (up_fill(u, SMALL_REPLY) != 0 || (u->done && (u->cc != CURLE_OK ||
	    u->too_big))) {
		log_info("proxy: %s: %s", u->url, u->too_big ?
		    "response too large" : u->timed_out ? "timeout" :
		    curl_easy_strerror(u->cc));
		rc = u->timed_out ? PDS_EUPTIMEOUT :
		    PDS_EUPSTREAM;
		up_free(u);
		return xrpc_fail(ctx, rc, NULL, "Upstream response failed");
	}
	ct = u->ctype[0] != '\0' ? u->ctype : "application/octet-stream";
	add_reply_headers(ctx, u->hdr, u->nhdr);
	if (u->done) {
		data = buf_detach(&u->buf, &len);
		len -= u->off;
		if (u->off > 0)
			memmove(data, data + u->off, len);
		http_reply_owned(ctx->req, (unsigned)u->status, ct, data, len);
		up_free(u);
		return 0;
	}
	http_reply_stream(ctx->req, (unsigned)u->status, ct, up_stream, u,
	    up_free);
	return 0;
}

int
proxy_fetch(struct xrpc_ctx *ctx, const struct proxy_call *c,
    struct proxy_resp *r)
{
	struct upstream	*u;
	int		 rc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 1);
	if ((rc = up_start(ctx, c, true, &u)) != 0)
		return rc;
	r->status = u->status;
	if (up_fill(u, (size_t)-1) != 0) {
		rc = xrpc_fail(ctx, PDS_EUPSTREAM, NULL,
		    u->too_big ? "Upstream response too large" :
		    "Upstream response failed");
		up_free(u);
		return rc;
	}
	buf_clear(&r->body);
	r->body = u->buf;
	buf_init(&u->buf, 1);
	snprintf(r->content_type, sizeof(r->content_type), "%s", u->ctype);
	memcpy(r->hdrs, u->hdr, sizeof(r->hdrs));
	r->nhdrs = u->nhdr;
	for (size_t i = 0; i < r->nhdrs; i++)
		if (strcmp(r->hdrs[i].name, "atproto-repo-rev") == 0)
			snprintf(r->repo_rev, sizeof(r->repo_rev), "%.*s",
			    (int)sizeof(r->repo_rev) - 1, r->hdrs[i].value);
	up_free(u);
	return 0;
}

int
proxy_reply(struct xrpc_ctx *ctx, struct proxy_resp *r, json_t *json)
{
	uint8_t		*data;
	size_t		 len;

	if (r->status >= 500) {
		json_decref(json);
		return upstream_5xx(ctx, r->status);
	}
	add_reply_headers(ctx, r->hdrs, r->nhdrs);
	if (json != NULL) {
		http_reply_json(ctx->req, (unsigned)r->status, json);
		return 0;
	}
	data = buf_detach(&r->body, &len);
	http_reply_owned(ctx->req, (unsigned)r->status,
	    r->content_type[0] != '\0' ? r->content_type :
	    "application/octet-stream", data, len);
	return 0;
}

void
proxy_resp_clear(struct proxy_resp *r)
{
	buf_clear(&r->body);
}

/* ---- defaults ------------------------------------------------------ */

bool
proxy_has_default(const struct config *cfg, const char *nsid)
{
	if (strncasecmp(nsid, "tools.ozone.", 12) == 0)
		return cfg->mod_service_url != NULL;
	if (strcasecmp(nsid, "com.atproto.moderation.createReport") == 0)
		return cfg->report_service_url != NULL ||
		    cfg->mod_service_url != NULL;
	return cfg->appview_url != NULL;
}
