/*
 * xrpc: the router for /xrpc/<nsid>, the route table's types, the
 * error table and the handler API.
 *
 * The route table (xrpc_methods.h) lists every XRPC method pdsd serves
 * with its HTTP method, auth kind, input kind, body limit and rate
 * class.  Before a handler runs the router has already:
 *   - answered a wrong HTTP method with 400 InvalidRequest,
 *   - enforced the body limit (413 PayloadTooLarge),
 *   - checked the query parameters against the method's lexicon
 *     (xrpc_lex.h; 400 InvalidRequest), before the credentials, as the
 *     reference does,
 *   - parsed a JSON body (400 InvalidRequest when malformed or of the
 *     wrong Content-Type) into ctx->input,
 *   - checked credentials as the route's auth kind says (admin Basic
 *     here, everything else through xrpc_auth_verify()),
 *   - checked the JSON input against the method's lexicon (400
 *     InvalidRequest), after the credentials, as the reference does,
 *   - spent the route's rate budgets (ratelimit.c; 429 RateLimitExceeded).
 * Handlers never re-check those.
 *
 * Adding a handler: implement the function the table names, e.g.
 *
 *	int api_server_create_session(struct xrpc_ctx *ctx)
 *	{
 *		const char *id = json_string_value(
 *		    json_object_get(ctx->input, "identifier"));
 *		if (id == NULL)
 *			return xrpc_fail(ctx, PDS_EINVAL, NULL,
 *			    "identifier is required");
 *		...
 *		xrpc_reply_json(ctx, json_pack("{s:s}", "did", did));
 *		return 0;
 *	}
 *
 * in any pdsd .c file, with its prototype from api.h; the table refers
 * to it by name, so a handler no file defines fails the link.  One
 * handler may serve several methods that differ in one choice (which
 * write, which view): their rows give it an argument of its own, which
 * it reads from ctx->route->arg (0 in rows that give none).  A handler
 * returns 0 after replying, or a (negative) PDS_E* code, possibly the
 * result of xrpc_fail() for a lexicon-specific error name or a message.
 * The router writes the error reply.
 */
#ifndef PDSD_XRPC_H
#define PDSD_XRPC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "http.h"

struct config;

/* Which credentials a route takes (the reference's auth legend). */
enum xrpc_auth {
	XRPC_AUTH_NONE,		/* none; an Authorization header is ignored */
	XRPC_AUTH_ACCESS,	/* access token, any scope (app passwords) */
	XRPC_AUTH_PRIVILEGED,	/* main password or privileged app password */
	XRPC_AUTH_FULL,		/* main password only ("user-full") */
	XRPC_AUTH_REFRESH,	/* refresh token */
	XRPC_AUTH_ADMIN,	/* HTTP Basic admin:PDS_ADMIN_PASSWORD */
	XRPC_AUTH_MOD,		/* admin, or a mod-service JWT */
	XRPC_AUTH_SERVICE,	/* inter-service JWT signed by the user's DID */
};

/* Modifiers of the auth kind. */
#define XRPC_AF_OPTIONAL	0x001	/* no credentials is fine ("opt") */
#define XRPC_AF_OR_ADMIN	0x002	/* admin Basic also accepted */
#define XRPC_AF_OR_SERVICE	0x004	/* a service JWT also accepted */
#define XRPC_AF_OR_MOD_SERVICE	0x008	/* a mod-service JWT also accepted */
#define XRPC_AF_TAKENDOWN	0x010	/* +td: takendown scope accepted */
#define XRPC_AF_SIGNUP_QUEUED	0x020	/* +sq */
#define XRPC_AF_NO_OAUTH	0x040	/* OAuth tokens refused (403) */
#define XRPC_AF_CHECK_TAKEDOWN	0x080	/* refuse taken-down accounts */
#define XRPC_AF_CHECK_DEACTIVATED 0x100	/* refuse deactivated accounts */
#define XRPC_AF_ALLOW_EXPIRED	0x200	/* expired token accepted */
/*
 * Where the handler runs (offload.h): on the net pool for methods that
 * call other servers, on the cpu pool for those that hash passwords;
 * without either, on the HTTP worker, where it must not block (no
 * network call: see offload.h's guard).  Such handlers must not defer
 * their reply themselves.  The credentials are checked on the worker
 * first, and on the net pool only when they need a DID document the
 * resolver does not have (a service JWT's issuer).
 */
#define XRPC_AF_NET		0x400
#define XRPC_AF_CPU		0x800
/* On the net pool when the blob store is remote (blobs_store_remote). */
#define XRPC_AF_BLOBS		0x1000
/*
 * Parameters and input not checked against the lexicon by the router:
 * the method is forwarded to another server, which checks them.
 */
#define XRPC_AF_NOLEX		0x2000
/*
 * Forwarded, unchecked, when an access token comes with an atproto-proxy
 * header naming a service other than the AppView (the preferences).
 */
#define XRPC_AF_PROXY_HDR	0x4000

enum xrpc_input {
	XRPC_IN_NONE,		/* no body expected (400 if one is sent) */
	XRPC_IN_JSON,		/* application/json, parsed into ctx->input */
	XRPC_IN_BYTES,		/* any Content-Type, raw bytes */
};

/* Rate-limit classes (the reference's per-method limits, §1 and §3.7). */
enum xrpc_rate {
	XRPC_RATE_DEFAULT,	/* only the global per-IP bucket */
	XRPC_RATE_EXEMPT,	/* not even that (getRepo has its own) */
	XRPC_RATE_CREATE_ACCOUNT,
	XRPC_RATE_CREATE_SESSION,
	XRPC_RATE_EMAIL,
	XRPC_RATE_PASSWORD_RESET_REQUEST,
	XRPC_RATE_RESET_PASSWORD,
	XRPC_RATE_DELETE_ACCOUNT,
	XRPC_RATE_UPLOAD_BLOB,
	XRPC_RATE_HANDLE,
	XRPC_RATE_REPO_WRITE,
	XRPC_RATE_GET_REPO,
	XRPC_RATE_RESERVE_KEY,	/* reserveSigningKey (pdsd's own budget) */
};

/* Body limits (bytes); the two sentinels are resolved from the config. */
#define XRPC_BODY_JSON		(150 * 1024)
#define XRPC_BODY_JSON_WRITE	1000000
#define XRPC_BODY_BLOB		((size_t)-1)	/* PDS_BLOB_UPLOAD_LIMIT */
#define XRPC_BODY_IMPORT	((size_t)-2)	/* PDS_MAX_REPO_IMPORT_SIZE */

struct xrpc_ctx;
struct blob_upload;
typedef int	(*xrpc_handler_fn)(struct xrpc_ctx *);

struct xrpc_route {
	const char	*nsid;
	enum http_method method;	/* HTTP_GET query, HTTP_POST procedure */
	enum xrpc_auth	 auth;
	unsigned	 auth_flags;	/* XRPC_AF_* */
	enum xrpc_input	 input;
	size_t		 body_max;
	enum xrpc_rate	 rate;
	xrpc_handler_fn	 handler;
	int		 arg;		/* for a handler of several methods */
};

/* What the credentials turned out to be. */
enum xrpc_cred {
	XRPC_CRED_NONE,		/* anonymous */
	XRPC_CRED_ACCESS,	/* legacy access JWT */
	XRPC_CRED_REFRESH,	/* legacy refresh JWT */
	XRPC_CRED_OAUTH,	/* DPoP-bound OAuth access token */
	XRPC_CRED_ADMIN,	/* admin Basic */
	XRPC_CRED_SERVICE,	/* inter-service JWT (iss in did) */
	XRPC_CRED_MOD_SERVICE,	/* JWT from the configured mod service */
};

struct xrpc_auth_info {
	enum xrpc_cred	 cred;
	char		 did[2048];	/* sub, or iss for service JWTs */
	char		 scope[64];	/* com.atproto.access, ... */
	char		 token_id[128];	/* refresh jti */
	char		 app_password[128];	/* name, for app passwords */
	long long	 exp;		/* token expiry, unix seconds */
	void		*ext;		/* verifier's own data */
	void		(*ext_free)(void *);
};

struct xrpc_ctx {
	struct http_req		*req;
	const struct xrpc_route	*route;		/* NULL in xrpc_fallback */
	const char		*nsid;
	const struct config	*cfg;
	json_t			*input;		/* XRPC_IN_JSON body, borrowed */
	const uint8_t		*body;		/* raw body (any input kind) */
	size_t			 body_len;
	/*
	 * Routes taking XRPC_IN_BYTES up to XRPC_BODY_BLOB have their body
	 * streamed into a blob upload instead (body_len is 0); the router
	 * checks their credentials from the headers, before any body byte
	 * is read.  The upload is freed after the handler.
	 */
	struct blob_upload	*upload;
	struct xrpc_auth_info	 auth;

	/* the name and message of the error, set by xrpc_fail() */
	struct pds_error	 err;
};

/*
 * Credential verifier for every kind except admin Basic, provided by
 * the accounts module.  It reads the Authorization (and DPoP) headers,
 * applies ctx->route's auth kind and flags, fills ctx->auth and returns
 * 0, or returns an error (xrpc_fail() for names such as ExpiredToken).
 * Called only when the route needs credentials or, for XRPC_AF_OPTIONAL,
 * when an Authorization header is present.  Defined in auth.c.
 */
int	xrpc_auth_verify(struct xrpc_ctx *);
/*
 * Only the checks of xrpc_auth_verify() that need no database or
 * network (the token's presence, form, signature and expiry), for the
 * router to refuse before a body is read.  Defined in auth.c.
 */
int	xrpc_auth_precheck(struct xrpc_ctx *);

/*
 * Called for an NSID missing from the table (the reference proxies those
 * to the AppView).  Defined with the other proxy handlers.
 */
int	xrpc_fallback(struct xrpc_ctx *);

/* Set up the router (the config must outlive it). */
void	xrpc_init(const struct config *);

/* The route for nsid, or NULL. */
const struct xrpc_route *xrpc_route_find(const char *nsid);
/* The whole table (for pdsctl, docs and tests). */
const struct xrpc_route *xrpc_routes(size_t *n);
/*
 * The lexicon nodes the router checks a route's query parameters and
 * JSON input against (xrpc_lex.h), each NULL when none.
 */
struct lex_node;
void	xrpc_route_lex(const struct xrpc_route *,
	    const struct lex_node **params, const struct lex_node **input);

/* http_target for /xrpc/<nsid> requests (used by the dispatcher). */
void	xrpc_dispatch(struct http_req *, struct http_target *);

/* ---- for handlers ---- */

/* Reply 200 with JSON (steals the reference). */
void	xrpc_reply_json(struct xrpc_ctx *, json_t *body);
/*
 * The end of a handler that built its output: reply 200 with body
 * (stolen) and 0, or, when building it failed (body NULL), err.
 */
int	xrpc_reply_json_or(struct xrpc_ctx *, json_t *body, int err);
/* Reply 200 with an empty body (procedures with no output). */
void	xrpc_reply_empty(struct xrpc_ctx *);
/*
 * A string property of the JSON input: 0 with *out (NULL when absent or
 * null and not required), or an InvalidRequest for a missing required
 * one, another JSON type or an embedded NUL.
 */
int	xrpc_input_str(struct xrpc_ctx *, const char *key, bool required,
	    const char **out);
/*
 * Set a lexicon-specific error name (static string, e.g.
 * "RecordNotFound"; NULL keeps the code's default name) and a message;
 * returns code for `return xrpc_fail(...)'.
 */
int	xrpc_fail(struct xrpc_ctx *, int code, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Take e as the request's error, like xrpc_fail(); returns e->code. */
int	xrpc_fail_error(struct xrpc_ctx *, const struct pds_error *e);

/*
 * Write the error reply for e: the status from e->code, e->name or the
 * code's default name, e->msg or the code's default message.
 */
void	xrpc_reply_pds_error(struct http_req *, const struct pds_error *e);
/* The same for code, name (NULL: default) and msg (NULL: default). */
void	xrpc_reply_error(struct http_req *, int code, const char *name,
	    const char *msg);

/*
 * HTTP status, default name and default message of a PDS_E* code (an
 * unknown code is an internal error).
 */
unsigned	 xrpc_err_status(int code);
const char	*xrpc_err_name(int code);
const char	*xrpc_err_message(int code);

/* Constant-time check of an "Authorization: Basic" admin header. */
bool	xrpc_admin_ok(const struct config *, const char *authorization);

#endif
