/*
 * proxy: XRPC calls pdsd does not serve itself go to another service
 * (reference-pds §2.2, atproto-notes §10.3): the AppView, a chat
 * service, a labeler, a feed generator.
 *
 * The target is the one the atproto-proxy: <did>#<service id> header
 * names (the configured AppView, mod and report services directly,
 * anything else through its DID document's service entry), or by
 * default tools.ozone.* -> PDS_MOD_SERVICE_*, createReport ->
 * PDS_REPORT_SERVICE_* (else the mod service), the rest ->
 * PDS_BSKY_APP_VIEW_*.
 *
 * The caller's Authorization is replaced by a fresh service JWT
 * (service_auth.h) from the caller's account to the target's DID with
 * lxm = the method.  Request headers passed on: accept-encoding
 * (default identity), accept-language, atproto-accept-labelers,
 * x-bsky-topics, and for POST content-type and content-encoding; the
 * body goes unchanged.  Response headers passed back: content-type,
 * content-encoding, content-language, atproto-repo-rev,
 * atproto-content-labelers, retry-after.  The response body streams
 * back as it arrives (short ones are sent with a Content-Length).  An
 * upstream 5xx becomes 502 UpstreamFailure; other statuses pass
 * through.  Limits: PDS_PROXY_HEADERS_TIMEOUT for the response head,
 * PDS_PROXY_BODY_TIMEOUT for the whole exchange, and
 * PDS_PROXY_MAX_RESPONSE_SIZE bytes (a longer stream is cut off).
 *
 * Address policy: targets found through DID documents must be https
 * and connect only to public addresses (checked on the socket actually
 * opened, outbound.h), unless PDS_DEV_MODE or
 * PDS_DISABLE_SSRF_PROTECTION is set.  Operator-configured endpoints
 * are trusted.  Redirects are never followed.
 *
 * Refused before anything is sent: the account-management methods the
 * reference protects (InvalidToken "Bad token method", whatever the
 * case of the NSID), a passed-on header whose value holds a control
 * character (C0 but HTAB, or DEL: 400 InvalidRequest, rather than
 * dropping it, so that a client never has a request split or silently
 * changed), a taken-down account whatever token it holds (401
 * AccountTakedown), privileged methods (chat.bsky.*,
 * com.atproto.server.createAccount) for non-privileged app passwords,
 * and any call without credentials.  An OAuth credential instead needs
 * rpc:<lxm>?aud=<did>#<service id> (or the call's own aud) in its
 * scope, for every call made (oauth_resource.h).  With no atproto-proxy header and
 * no service configured for the method, the answer is 501
 * MethodNotImplemented before credentials are looked at (the reference
 * answers 401, then "No service configured").  The catch-all handler
 * for methods missing from the route table, xrpc_fallback(), is in
 * api_proxy.c.
 */
#ifndef PDSD_PROXY_H
#define PDSD_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "syntax.h"

struct config;
struct xrpc_ctx;

#define PROXY_URL_MAX		512
#define PROXY_SERVICE_MAX	64
#define PROXY_RESP_HDRS		8

struct proxy_target {
	char	did[DID_MAX + 1];		/* the service's DID */
	char	service[PROXY_SERVICE_MAX];	/* its id, without '#' */
	char	url[PROXY_URL_MAX];		/* endpoint, no trailing '/' */
	bool	trusted;			/* operator-configured */
};

/*
 * The target for a call of nsid.  0, or an XRPC error (400
 * InvalidRequest for a malformed header, an unresolvable service or no
 * configured service).
 */
int	proxy_target_select(struct xrpc_ctx *, const char *nsid,
	    struct proxy_target *);
/* Whether an atproto-proxy header names anything but the AppView. */
bool	proxy_header_names_other(const struct xrpc_ctx *);
/* Whether a service is configured for nsid when no header names one. */
bool	proxy_has_default(const struct config *, const char *nsid);

/* The reference's lists (NSIDs compared case-insensitively). */
bool	proxy_method_protected(const char *nsid);
bool	proxy_method_privileged(const char *nsid);
/* Whether ctx's credentials may call privileged methods. */
bool	proxy_cred_privileged(const struct xrpc_ctx *);

struct proxy_call {
	const struct proxy_target *target;
	const char	*aud;	/* the JWT's aud; NULL: target->did */
	const char	*lxm;	/* the JWT's lxm; NULL: nsid */
	const char	*nsid;	/* the method called upstream; NULL: ctx's */
	const char	*query;	/* encoded, without '?'; NULL: the request's */
	bool		 get;	/* GET without a body whatever the request */
};

/*
 * Start a call of ctx's method to the target proxy_target_select()
 * picks for it (into t): c names t and leaves all else to the
 * defaults.  0, or that function's XRPC error.
 */
int	proxy_call_select(struct xrpc_ctx *, struct proxy_target *t,
	    struct proxy_call *c);

/*
 * Forward the call (iss = ctx->auth.did) and reply with what comes back,
 * streaming.  0 once a reply is set, else an XRPC error code.
 */
int	proxy_forward(struct xrpc_ctx *, const struct proxy_call *);

struct proxy_hdr {
	char	name[32];
	char	value[256];
};

/* A whole upstream response, decoded (no content-encoding). */
struct proxy_resp {
	long		 status;
	struct buf	 body;
	char		 content_type[128];
	struct proxy_hdr hdrs[PROXY_RESP_HDRS];	/* to pass back */
	size_t		 nhdrs;
	char		 repo_rev[64];		/* atproto-repo-rev, or "" */
};

/*
 * Make the call and read the whole response into r (free it with
 * proxy_resp_clear(), also on failure).  0 when a response arrived
 * (any status), else an XRPC error code.
 */
int	proxy_fetch(struct xrpc_ctx *, const struct proxy_call *,
	    struct proxy_resp *r);
/*
 * Reply with r: its status, headers and body, or `json' instead of the
 * body when non-NULL (stolen).  An upstream 5xx gives 502.  0 or an
 * XRPC error code.
 */
int	proxy_reply(struct xrpc_ctx *, struct proxy_resp *r, json_t *json);
void	proxy_resp_clear(struct proxy_resp *);

#endif
