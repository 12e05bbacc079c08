/*
 * xrpc: the router and the error table.  See xrpc.h.
 *
 * xrpc_dispatch() runs when a request's headers are in, before any body
 * byte is read, and refuses there whatever it can judge from the
 * headers, so that no body is ever held for a request that will be
 * refused: a wrong HTTP method, an unknown method with nowhere to
 * proxy it, and credentials that are missing, malformed, badly signed
 * or expired (xrpc_auth_precheck(); service JWTs and DPoP proofs wait
 * for the handler phase).  Bodies too big to hold in memory are
 * streamed: blob uploads into the blob store, importRepo into an
 * unlinked temporary file in the data directory, which the handler
 * then sees mapped read-only as ctx->body.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "blobs.h"
#include "config.h"
#include "err.h"
#include "lexicon.h"
#include "log.h"
#include "oauth_resource.h"
#include "offload.h"
#include "proxy.h"
#include "ratelimit.h"
#include "syntax.h"
#include "xrpc.h"
#include "xrpc_lex.h"

void	xrpc_routes_index(void);	/* xrpc_routes.c */

static const struct config *xcfg;

/* ---- the error table ---- */

/*
 * Every PDS_E* code with its HTTP status, default error name and the
 * message a reply without one carries (NULL: pds_strerror()'s text).
 * A 500 never carries a message of its own; see xrpc_reply_error().
 */
struct err_row {
	int		 code;
	unsigned	 status;
	const char	*name;
	const char	*msg;
};

static const struct err_row err_table[] = {
	{ PDS_ENOMEM,		500, "InternalServerError", NULL },
	{ PDS_EINVAL,		400, "InvalidRequest", NULL },
	{ PDS_ETRUNC,		400, "InvalidRequest", NULL },
	{ PDS_ENONCANON,	400, "InvalidRequest", NULL },
	{ PDS_ETOOBIG,		400, "InvalidRequest", NULL },
	{ PDS_EUNSUPP,		400, "InvalidRequest", NULL },
	{ PDS_ENOTFOUND,	400, "InvalidRequest", NULL },
	{ PDS_EEXIST,		400, "InvalidRequest", NULL },
	{ PDS_ECRYPTO,		500, "InternalServerError", NULL },
	{ PDS_EEXPIRED,		400, "InvalidRequest", NULL },
	{ PDS_EIO,		500, "InternalServerError", NULL },
	{ PDS_EMISMATCH,	400, "InvalidRequest", NULL },
	{ PDS_EINTERNAL,	500, "InternalServerError", NULL },
	{ PDS_EAUTHREQ,		401, "AuthenticationRequired",
	    "AuthenticationRequired" },
	{ PDS_EAUTHMISSING,	401, "AuthMissing", "AuthMissing" },
	{ PDS_EBADTOKEN,	400, "InvalidToken", "InvalidToken" },
	{ PDS_ETOKENEXPIRED,	400, "ExpiredToken", "ExpiredToken" },
	{ PDS_EFORBIDDEN,	403, "Forbidden", "Forbidden" },
	{ PDS_ENOSUCH,		404, "NotFound", "NotFound" },
	{ PDS_ENOMETHOD,	404, "XRPCNotSupported", "XRPCNotSupported" },
	{ PDS_EPAYLOAD,		413, "PayloadTooLarge", "PayloadTooLarge" },
	{ PDS_ERATELIMIT,	429, "RateLimitExceeded", "RateLimitExceeded" },
	{ PDS_ENOTIMPL,		501, "MethodNotImplemented",
	    "MethodNotImplemented" },
	{ PDS_EUPSTREAM,	502, "UpstreamFailure", "UpstreamFailure" },
	{ PDS_EBUSY,		503, "NotEnoughResources", "NotEnoughResources" },
	{ PDS_EUPTIMEOUT,	504, "UpstreamTimeout", "UpstreamTimeout" },
	{ PDS_ETAKENDOWN,	400, "AccountTakedown", "AccountTakedown" },
	{ PDS_EDEACTIVATED,	400, "AccountDeactivated", "AccountDeactivated" },
};

static const struct err_row err_internal =
    { PDS_EINTERNAL, 500, "InternalServerError", NULL };

static const struct err_row *
err_lookup(int code)
{
	size_t	 i;

	for (i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == code)
			return &err_table[i];
	return &err_internal;		/* unknown codes are internal errors */
}

unsigned
xrpc_err_status(int code)
{
	return err_lookup(code)->status;
}

const char *
xrpc_err_name(int code)
{
	return err_lookup(code)->name;
}

const char *
xrpc_err_message(int code)
{
	const struct err_row *e = err_lookup(code);

	if (e->status == 500)
		return "Internal Server Error";
	return e->msg != NULL ? e->msg : pds_strerror(e->code);
}

/*
 * The challenge of a 401: DPoP for the OAuth errors (oauth_resource.c),
 * with the message unless it holds a '"', which cannot be quoted; else
 * Bearer.
 */
static void
www_authenticate(struct http_req *req, const char *name, const char *msg)
{
	static const char *const dpop_errors[] = { "use_dpop_nonce",
	    "invalid_dpop_proof", "invalid_token" };
	char	 h[512];
	size_t	 i;

	for (i = 0; name != NULL && i < sizeof(dpop_errors) /
	    sizeof(dpop_errors[0]); i++) {
		if (strcmp(name, dpop_errors[i]) != 0)
			continue;
		if (strchr(msg, '"') == NULL && strlen(msg) < 300)
			snprintf(h, sizeof(h), "DPoP algs=\"ES256 ES256K\", "
			    "error=\"%s\", error_description=\"%s\"", name,
			    msg);
		else
			snprintf(h, sizeof(h), "DPoP algs=\"ES256 ES256K\", "
			    "error=\"%s\"", name);
		(void)http_reply_header(req, "WWW-Authenticate", h);
		return;
	}
	(void)http_reply_header(req, "WWW-Authenticate", "Bearer");
}

void
xrpc_reply_error(struct http_req *req, int code, const char *name,
    const char *msg)
{
	const struct err_row *e = err_lookup(code);

	if (e->status == 500 || msg == NULL || *msg == '\0')
		msg = xrpc_err_message(code);	/* 500s never leak internals */
	if (e->status == 401)
		www_authenticate(req, name, msg);
	http_reply_error(req, e->status, name != NULL ? name : e->name, msg);
}

void
xrpc_reply_pds_error(struct http_req *req, const struct pds_error *e)
{
	xrpc_reply_error(req, e->code, e->name, e->msg);
}

int
xrpc_fail(struct xrpc_ctx *ctx, int code, const char *name,
    const char *fmt, ...)
{
	va_list	 ap;

	ctx->err.name = name;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(ctx->err.msg, sizeof(ctx->err.msg), fmt, ap);
		va_end(ap);
	}
	return code != 0 ? code : PDS_EINTERNAL;
}

int
xrpc_fail_error(struct xrpc_ctx *ctx, const struct pds_error *e)
{
	ctx->err = *e;
	if (ctx->err.code == PDS_OK)
		ctx->err.code = PDS_EINTERNAL;
	return ctx->err.code;
}

void
xrpc_reply_json(struct xrpc_ctx *ctx, json_t *body)
{
	http_reply_json(ctx->req, 200, body);
}

int
xrpc_reply_json_or(struct xrpc_ctx *ctx, json_t *body, int err)
{
	if (body == NULL)
		return err;
	xrpc_reply_json(ctx, body);
	return 0;
}

void
xrpc_reply_empty(struct xrpc_ctx *ctx)
{
	http_reply_static(ctx->req, 200, "", "", 0);
}

int
xrpc_input_str(struct xrpc_ctx *ctx, const char *key, bool required,
    const char **out)
{
	json_t	*v = json_object_get(ctx->input, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "Input must have the property \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input/%s must be a string", key);
	*out = json_string_value(v);
	return 0;
}

/* ---- admin Basic ---- */

bool
xrpc_admin_ok(const struct config *cfg, const char *authz)
{
	unsigned char	 got[32], want[32];
	char		 dec[512];
	size_t		 declen = 0;
	crypto_generichash_state st;
	bool		 ok;

	if (authz == NULL || strncasecmp(authz, "Basic ", 6) != 0 ||
	    cfg->admin_password == NULL)
		return false;
	if (sodium_base642bin((unsigned char *)dec, sizeof(dec) - 1,
	    authz + 6, strlen(authz + 6), NULL, &declen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	/*
	 * Compare hashes so the comparison takes the same time whatever
	 * the lengths and contents of the two strings.
	 */
	crypto_generichash(got, sizeof(got), (unsigned char *)dec, declen,
	    NULL, 0);
	crypto_generichash_init(&st, NULL, 0, sizeof(want));
	crypto_generichash_update(&st, (const unsigned char *)"admin:", 6);
	crypto_generichash_update(&st,
	    (const unsigned char *)cfg->admin_password,
	    strlen(cfg->admin_password));
	crypto_generichash_final(&st, want, sizeof(want));
	ok = sodium_memcmp(got, want, sizeof(got)) == 0;
	sodium_memzero(dec, sizeof(dec));
	sodium_memzero(&st, sizeof(st));
	return ok;
}

/*
 * The route's credentials, checked by verify for everything but admin
 * Basic: xrpc_auth_verify(), or xrpc_auth_precheck() before the body.
 */
static int
check_auth_with(struct xrpc_ctx *ctx, int (*verify)(struct xrpc_ctx *))
{
	const struct xrpc_route *rt = ctx->route;
	const char	*authz;
	bool		 basic, admin_ok;
	int		 rc;

	if (rt->auth == XRPC_AUTH_NONE)
		return 0;
	authz = http_req_header(ctx->req, "Authorization");
	if (authz == NULL || *authz == '\0') {
		if (rt->auth_flags & XRPC_AF_OPTIONAL)
			return 0;
		/* the reference's names: its admin verifier's differs */
		return xrpc_fail(ctx, rt->auth == XRPC_AUTH_ADMIN ||
		    rt->auth == XRPC_AUTH_MOD ? PDS_EAUTHREQ :
		    PDS_EAUTHMISSING, NULL, "Authentication Required");
	}
	basic = strncasecmp(authz, "Basic ", 6) == 0;
	admin_ok = rt->auth == XRPC_AUTH_ADMIN || rt->auth == XRPC_AUTH_MOD ||
	    (rt->auth_flags & XRPC_AF_OR_ADMIN);
	if (basic && admin_ok) {
		/* wrong admin passwords are limited per client */
		if ((rc = ratelimit_admin_check(ctx)) != 0)
			return rc;
		if (!xrpc_admin_ok(ctx->cfg, authz)) {
			ratelimit_admin_failed(ctx);
			return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
			    "Invalid admin credentials");
		}
		ctx->auth.cred = XRPC_CRED_ADMIN;
		return 0;
	}
	if (rt->auth == XRPC_AUTH_ADMIN)
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL, "An admin credential "
		    "is required (the admin password, HTTP Basic); %s was given",
		    basic ? "another Basic credential" : "a Bearer token");
	return verify(ctx);
}

static int
check_auth(struct xrpc_ctx *ctx)
{
	return check_auth_with(ctx, xrpc_auth_verify);
}

/* "application/json" with optional parameters, case-insensitive. */
static bool
is_json_type(const char *ct)
{
	size_t	 n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static int	check_input(struct xrpc_ctx *);

static int
parse_input(struct xrpc_ctx *ctx)
{
	const char	*ct;
	json_error_t	 jerr;
	int		 rc;

	ct = http_req_header(ctx->req, "Content-Type");
	switch (ctx->route->input) {
	case XRPC_IN_NONE:
		if (ctx->body_len > 0)
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "A request body was provided when none was "
			    "expected");
		return 0;
	case XRPC_IN_BYTES:
		return 0;
	case XRPC_IN_JSON:
		break;
	}
	if (ctx->body_len == 0 || ct == NULL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Request encoding (Content-Type) required but not "
		    "provided");
	if (!is_json_type(ct))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Wrong request encoding (Content-Type): %.64s", ct);
	ctx->input = json_loadb((const char *)ctx->body, ctx->body_len, 0,
	    &jerr);
	if (ctx->input == NULL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Invalid JSON body: %s", jerr.text);
	if (!json_is_object(ctx->input)) {
		if ((rc = check_input(ctx)) != 0)	/* the lexicon's words */
			return rc;
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input must be an object");
	}
	return 0;
}

/*
 * Whether the lexicon's checks apply: not to a request the route's
 * handler forwards on its atproto-proxy header (the other server
 * checks it), as the handler decides (api_prefs.c).
 */
static bool
lex_checked(const struct xrpc_ctx *ctx)
{
	return !(ctx->route->auth_flags & XRPC_AF_PROXY_HDR) ||
	    ctx->auth.cred != XRPC_CRED_ACCESS ||
	    !proxy_header_names_other(ctx);
}

/* The JSON input against the method's lexicon (after the credentials). */
static int
check_input(struct xrpc_ctx *ctx)
{
	const struct lex_node *params, *input;
	char		 msg[sizeof(ctx->err.msg)];

	xrpc_route_lex(ctx->route, &params, &input);
	if (input == NULL || ctx->input == NULL || !lex_checked(ctx))
		return 0;
	if (xrpc_lex_input(&lex_builtin, input, ctx->input, msg,
	    sizeof(msg)) == 0)
		return 0;
	return xrpc_fail(ctx, PDS_EINVAL, NULL, "%s", msg);
}

#define XRPC_QMAX	32	/* query parameters held without malloc */

struct qlist {
	struct xrpc_qparam  q0[XRPC_QMAX];
	struct xrpc_qparam *q;
	size_t		    n, cap, seen;
};

static void
qlist_add(void *arg, const char *key, const char *value)
{
	struct qlist	*l = arg;

	if (l->n < l->cap) {
		l->q[l->n].key = key;
		l->q[l->n].value = value;
		l->n++;
	}
	l->seen++;
}

/*
 * The query parameters against the method's lexicon (before the
 * credentials, as the reference checks them).  Past XRPC_QMAX
 * parameters, a second pass into an allocated list.
 */
static int
check_params(struct xrpc_ctx *ctx)
{
	const struct lex_node *params, *input;
	struct qlist	 l;
	int		 rc = 0;

	xrpc_route_lex(ctx->route, &params, &input);
	if (params == NULL || !lex_checked(ctx))
		return 0;
	http_req_query_skip_empty(ctx->req);	/* empty is absent */
	l.q = l.q0;
	l.cap = XRPC_QMAX;
	l.n = l.seen = 0;
	http_req_query_each(ctx->req, qlist_add, &l);
	if (l.seen > l.n) {
		if ((l.q = calloc(l.seen, sizeof(*l.q))) == NULL)
			return PDS_ENOMEM;
		l.cap = l.seen;
		l.n = l.seen = 0;
		http_req_query_each(ctx->req, qlist_add, &l);
	}
	if (xrpc_lex_params(&lex_builtin, params, ctx->nsid, l.q, l.n,
	    ctx->err.msg, sizeof(ctx->err.msg)) != 0)
		rc = PDS_EINVAL;
	if (l.q != l.q0)
		free(l.q);
	return rc;
}

static const char *
method_name(enum http_method m)
{
	return m == HTTP_GET ? "GET" : "POST";
}

/*
 * Credentials checked before the body (streamed routes); pending when
 * that needed the network, and so is left to the net pool once the
 * body is in.
 */
struct pre_auth {
	struct xrpc_auth_info	 auth;
	bool			 pending;
};

static void
pre_auth_free(void *arg)
{
	struct pre_auth	*pa = arg;

	if (pa->auth.ext_free != NULL)
		pa->auth.ext_free(pa->auth.ext);
	sodium_memzero(pa, sizeof(*pa));
	free(pa);
}

static bool
route_streams(const struct xrpc_route *rt)
{
	return rt->input == XRPC_IN_BYTES && (rt->body_max == XRPC_BODY_BLOB ||
	    rt->body_max == XRPC_BODY_IMPORT);
}

/* A body streamed to an unlinked temporary file (importRepo). */
struct body_file {
	int		 fd;
	uint64_t	 size;
};

static int
body_file_begin(struct body_file **out)
{
	struct body_file *bf;
	char		*path;

	if ((bf = calloc(1, sizeof(*bf))) == NULL)
		return PDS_ENOMEM;
	if (asprintf(&path, "%s/.body-XXXXXX", xcfg->data_dir) == -1) {
		free(bf);
		return PDS_ENOMEM;
	}
	if ((bf->fd = mkostemp(path, O_CLOEXEC)) == -1) {
		log_warn("xrpc: %s", path);
		free(path);
		free(bf);
		return PDS_EIO;
	}
	(void)unlink(path);	/* gone with the descriptor, even on a crash */
	free(path);
	*out = bf;
	return PDS_OK;
}

static int
body_file_write(void *arg, const uint8_t *data, size_t len)
{
	struct body_file *bf = arg;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(bf->fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("xrpc: request body file");
			return -1;
		}
		data += n;
		len -= (size_t)n;
		bf->size += (uint64_t)n;
	}
	return 0;
}

static void
body_file_free(void *arg)
{
	struct body_file *bf = arg;

	close(bf->fd);
	free(bf);
}

static void
reply_fail(struct xrpc_ctx *ctx, int rc)
{
	ctx->err.code = rc;
	if (xrpc_err_status(rc) >= 500 && xrpc_err_status(rc) != 501)
		log_warnx("xrpc %s: %s%s%s", ctx->nsid, xrpc_err_name(rc),
		    ctx->err.msg[0] ? ": " : "", ctx->err.msg);
	xrpc_reply_pds_error(ctx->req, &ctx->err);
}

/* A fresh context for req, whose route is rt (NULL: not in the table). */
static void
ctx_init(struct xrpc_ctx *ctx, struct http_req *req,
    const struct xrpc_route *rt)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->req = req;
	ctx->route = rt;
	ctx->cfg = xcfg;
	ctx->nsid = http_req_path(req) + strlen("/xrpc/");
	ctx->body = http_req_body(req, &ctx->body_len);
}

/*
 * A body streamed to a file: the handler sees it as ctx->body, mapped
 * read-only, so its pages are the file's and the kernel may drop them.
 */
static int
handle_body_file(struct xrpc_ctx *ctx)
{
	struct body_file *bf = http_req_sink_arg(ctx->req);
	void		*p = NULL;
	int		 rc;

	if (bf == NULL || bf->size > SIZE_MAX)
		return PDS_EINTERNAL;
	if (bf->size > 0) {
		p = mmap(NULL, (size_t)bf->size, PROT_READ, MAP_PRIVATE,
		    bf->fd, 0);
		if (p == MAP_FAILED) {
			log_warn("xrpc: mapping a request body");
			return PDS_EIO;
		}
	}
	ctx->body = p;
	ctx->body_len = (size_t)bf->size;
	rc = ctx->route->handler(ctx);
	if (p != NULL)
		munmap(p, (size_t)bf->size);
	ctx->body = NULL;
	ctx->body_len = 0;
	return rc;
}

/*
 * The handler of a streamed route: the blob upload or (importRepo) the
 * body file is the request's sink.
 */
static int
xrpc_run_streamed(struct xrpc_ctx *ctx)
{
	if (ctx->route->body_max == XRPC_BODY_IMPORT)
		return handle_body_file(ctx);
	if ((ctx->upload = http_req_sink_arg(ctx->req)) == NULL)
		return PDS_EINTERNAL;
	return ctx->route->handler(ctx);
}

/*
 * What follows the credential check (any thread).  A streamed route
 * has had its input, scope and budget checked before its body, unless
 * its credentials had to wait for the network (then !authed).
 */
static int
xrpc_run(struct xrpc_ctx *ctx, bool authed)
{
	bool	 streamed = route_streams(ctx->route);
	int	 rc;

	if ((!authed && (rc = check_auth(ctx)) != 0) ||
	    (!streamed && (rc = parse_input(ctx)) != 0) ||
	    ((!streamed || !authed) &&
	    ((rc = oauth_resource_authorize(ctx)) != 0 ||
	    (!streamed && (rc = check_input(ctx)) != 0) ||
	    (rc = ratelimit_xrpc(ctx)) != 0)))
		return rc;
	return streamed ? xrpc_run_streamed(ctx) : ctx->route->handler(ctx);
}

/* Reply with rc unless 0, and free what ctx holds. */
static void
xrpc_end(struct xrpc_ctx *ctx, int rc)
{
	if (rc != 0)
		reply_fail(ctx, rc);
	json_decref(ctx->input);
	ctx->input = NULL;
	if (ctx->auth.ext_free != NULL)
		ctx->auth.ext_free(ctx->auth.ext);
	sodium_memzero(&ctx->auth, sizeof(ctx->auth));
}

/* A request finished on a pool (offload.h). */
struct xrpc_job {
	struct xrpc_ctx	 ctx;
	bool		 authed;
};

static void
xrpc_job_run(void *arg)
{
	struct xrpc_job	*j = arg;
	struct http_req	*req = j->ctx.req;

	if (offload_quiescing()) {		/* shutting down */
		offload_reply_refused(req, PDS_EBUSY, 1);
		xrpc_end(&j->ctx, 0);
	} else if (j->ctx.route == NULL)
		xrpc_end(&j->ctx, xrpc_fallback(&j->ctx));
	else
		xrpc_end(&j->ctx, xrpc_run(&j->ctx, j->authed));
	free(j);
	http_req_resume(req);
}

/* Defer the request and finish it on pool p; ctx is taken over. */
static void
xrpc_offload(struct xrpc_ctx *ctx, enum offload_pool p, bool authed)
{
	struct xrpc_job	*j;
	unsigned	 retry = 0;
	int		 rc;

	if ((j = malloc(sizeof(*j))) == NULL) {
		xrpc_end(ctx, PDS_ENOMEM);
		return;
	}
	j->ctx = *ctx;
	j->authed = authed;
	http_req_defer(ctx->req);
	rc = offload_submit(p, offload_client(ctx->req), xrpc_job_run, j,
	    &retry);
	if (rc != PDS_OK) {
		free(j);
		offload_reply_refused(ctx->req, rc, retry);
		xrpc_end(ctx, 0);
		http_req_resume(ctx->req);
	}
	sodium_memzero(&ctx->auth, sizeof(ctx->auth));
}

/*
 * check_auth() on an HTTP worker, under the guard.  True when it needed
 * the network: then nothing of it is kept (ctx is as before) and the
 * caller has it done again on the net pool.  Else *rcp is its result.
 */
static bool
check_auth_needs_pool(struct xrpc_ctx *ctx, int *rcp)
{
	offload_guard_begin(OFFLOAD_GUARD_RETRY);
	*rcp = check_auth(ctx);
	if (!offload_guard_end())
		return false;
	if (ctx->auth.ext_free != NULL)
		ctx->auth.ext_free(ctx->auth.ext);
	memset(&ctx->auth, 0, sizeof(ctx->auth));
	memset(&ctx->err, 0, sizeof(ctx->err));
	*rcp = 0;
	return true;
}

/*
 * A request whose credentials are checked: on its route's pool if the
 * route is flagged for one, else here, under the guard.
 */
static void
xrpc_finish(struct xrpc_ctx *ctx)
{
	const struct xrpc_route *rt = ctx->route;
	int	 rc;

	if ((rt->auth_flags & (XRPC_AF_NET | XRPC_AF_CPU)) ||
	    ((rt->auth_flags & XRPC_AF_BLOBS) && blobs_store_remote())) {
		xrpc_offload(ctx, rt->auth_flags & XRPC_AF_CPU ?
		    OFFLOAD_CPU : OFFLOAD_NET, true);
		return;
	}
	offload_guard_begin(OFFLOAD_GUARD_DEGRADE);
	rc = xrpc_run(ctx, true);
	if (offload_guard_end())	/* the route wants XRPC_AF_NET */
		log_warnx("xrpc %s: a network call was refused on an HTTP "
		    "worker", ctx->nsid);
	xrpc_end(ctx, rc);
}

/* The http handler for every /xrpc/<nsid> request. */
static void
xrpc_handle(struct http_req *req, const void *arg)
{
	struct xrpc_ctx	 ctx;
	const struct xrpc_route *rt = arg;
	enum http_method m = http_req_method(req);
	struct pre_auth	*pa = http_req_userdata(req);
	int		 rc;

	ctx_init(&ctx, req, rt);
	if (rt != NULL && route_streams(rt) && pa != NULL && pa->pending) {
		xrpc_offload(&ctx, OFFLOAD_NET, false);
		return;
	}
	if (rt != NULL && route_streams(rt) && pa != NULL) {
		/* checked in xrpc_dispatch(); pa keeps owning ext */
		ctx.auth = pa->auth;
		ctx.auth.ext_free = NULL;
		xrpc_finish(&ctx);
		return;
	}

	if (rt == NULL) {		/* the proxy's */
		if ((rc = ratelimit_xrpc(&ctx)) != 0)
			xrpc_end(&ctx, rc);
		else
			xrpc_offload(&ctx, OFFLOAD_NET, false);
		return;
	}
	if (m != rt->method && !(m == HTTP_HEAD && rt->method == HTTP_GET)) {
		xrpc_end(&ctx, xrpc_fail(&ctx, PDS_EINVAL, NULL,
		    "Incorrect HTTP method (%s) expected %s",
		    http_req_method_str(req), method_name(rt->method)));
		return;
	}
	/* The credentials here, unless they need the network. */
	if (check_auth_needs_pool(&ctx, &rc))
		xrpc_offload(&ctx, OFFLOAD_NET, false);
	else if (rc != 0)
		xrpc_end(&ctx, rc);
	else
		xrpc_finish(&ctx);
}

static size_t
body_limit(const struct xrpc_route *rt)
{
	if (rt->body_max == XRPC_BODY_BLOB)
		return (size_t)xcfg->blob_upload_limit;
	if (rt->body_max == XRPC_BODY_IMPORT)
		return (size_t)xcfg->max_repo_import_size;
	return rt->body_max;
}

static int
sink_write(void *arg, const uint8_t *data, size_t len)
{
	return blobs_upload_write(arg, data, len) == PDS_OK ? 0 : -1;
}

static void
sink_free(void *arg)
{
	blobs_upload_free(arg);
}

/*
 * A streamed route: check the credentials now, from the headers, and
 * refuse before the body is read; else stream the body into a blob
 * upload, or (importRepo) a temporary file.
 */
static void
stream_start(struct http_req *req, const struct xrpc_route *rt)
{
	struct xrpc_ctx	 ctx;
	struct pre_auth	*pa = NULL;
	struct blob_upload *u;
	struct body_file *bf;
	int		 rc;

	ctx_init(&ctx, req, rt);
	/*
	 * Credentials that need the network (a DID document not at hand)
	 * cannot be checked here, before the body, on the worker: they
	 * are checked on the net pool once the body is in.
	 */
	if (check_auth_needs_pool(&ctx, &rc)) {
		if ((pa = calloc(1, sizeof(*pa))) == NULL)
			rc = PDS_EINTERNAL;
		else
			pa->pending = true;
	} else if (rc == 0 && (rc = oauth_resource_authorize(&ctx)) == 0 &&
	    (rc = ratelimit_xrpc(&ctx)) == 0 &&
	    (pa = calloc(1, sizeof(*pa))) == NULL)
		rc = PDS_EINTERNAL;
	if (rc != 0) {
		reply_fail(&ctx, rc);
		if (ctx.auth.ext_free != NULL)
			ctx.auth.ext_free(ctx.auth.ext);
		sodium_memzero(&ctx.auth, sizeof(ctx.auth));
		return;
	}
	pa->auth = ctx.auth;
	sodium_memzero(&ctx.auth, sizeof(ctx.auth));
	http_req_set_userdata(req, pa, pre_auth_free);
	if (rt->body_max == XRPC_BODY_IMPORT) {
		if (body_file_begin(&bf) != PDS_OK) {
			reply_fail(&ctx, PDS_EINTERNAL);
			return;
		}
		http_req_body_sink(req, body_file_write, bf, body_file_free);
		return;
	}
	if (blobs_upload_begin(&u) != PDS_OK) {
		reply_fail(&ctx, PDS_EINTERNAL);
		return;
	}
	http_req_body_sink(req, sink_write, u, sink_free);
}

/*
 * Any other route that takes credentials: refuse now what the headers
 * already show to be refused (the full check runs again after the
 * body, in xrpc_handle()).
 */
static void
precheck(struct http_req *req, const struct xrpc_route *rt)
{
	struct xrpc_ctx	 ctx;
	int		 rc;

	if (rt->auth == XRPC_AUTH_NONE)
		return;
	ctx_init(&ctx, req, rt);
	if ((rc = check_auth_with(&ctx, xrpc_auth_precheck)) != 0)
		reply_fail(&ctx, rc);
	if (ctx.auth.ext_free != NULL)
		ctx.auth.ext_free(ctx.auth.ext);
	sodium_memzero(&ctx.auth, sizeof(ctx.auth));
}

/* How xrpc_fallback() checks the credentials of what it forwards. */
static const struct xrpc_route proxy_precheck_route = {
	.nsid = NULL,
	.method = HTTP_GET,
	.auth = XRPC_AUTH_ACCESS,
	.input = XRPC_IN_BYTES,
};

/*
 * Whether xrpc_fallback() would forward this request, rather than
 * refuse it without looking at credentials or body.
 */
static bool
fallback_forwards(struct http_req *req, const char *nsid)
{
	enum http_method m = http_req_method(req);

	return (m == HTTP_GET || m == HTTP_HEAD || m == HTTP_POST) &&
	    syntax_is_nsid(nsid, strlen(nsid)) &&
	    !proxy_method_protected(nsid) &&
	    (http_req_header(req, "atproto-proxy") != NULL ||
	    proxy_has_default(xcfg, nsid));
}

/* check_params() from the dispatcher: false when it answered. */
static bool
params_ok(struct http_req *req, const struct xrpc_route *rt)
{
	struct xrpc_ctx	 ctx;
	int		 rc;

	ctx_init(&ctx, req, rt);
	if ((rc = check_params(&ctx)) == 0)
		return true;
	reply_fail(&ctx, rc);
	return false;
}

void
xrpc_dispatch(struct http_req *req, struct http_target *t)
{
	const char	*nsid = http_req_path(req) + strlen("/xrpc/");
	const struct xrpc_route *rt;
	enum http_method m = http_req_method(req);

	rt = xrpc_route_find(nsid);
	t->fn = xrpc_handle;
	t->arg = rt;
	t->body_max = 0;
	if (rt == NULL) {
		if (!fallback_forwards(req, nsid)) {
			struct xrpc_ctx	 ctx;	/* 501 or 400, no body read */

			ctx_init(&ctx, req, NULL);
			xrpc_end(&ctx, xrpc_fallback(&ctx));
			return;
		}
		t->body_max = (size_t)xcfg->blob_upload_limit;
		precheck(req, &proxy_precheck_route);
	} else if (m != rt->method && !(m == HTTP_HEAD &&
	    rt->method == HTTP_GET))
		xrpc_handle(req, rt);		/* 400, no body read */
	else if (!params_ok(req, rt))
		return;				/* 400, no body read */
	else {
		t->body_max = body_limit(rt);
		if (route_streams(rt))
			stream_start(req, rt);
		else
			precheck(req, rt);
	}
}

void
xrpc_init(const struct config *cfg)
{
	xcfg = cfg;
	xrpc_routes_index();
}
