/*
 * api_proxy: the catch-all for XRPC methods missing from the route
 * table (xrpc_fallback(), xrpc.h): checked as the reference checks
 * them, then forwarded to their service (proxy.h).
 */
#include <stdbool.h>
#include <string.h>

#include "api.h"
#include "err.h"
#include "http.h"
#include "proxy.h"
#include "syntax.h"
#include "xrpc.h"

/* How the fallback checks credentials: an access token of any scope. */
static const struct xrpc_route proxy_route = {
	.nsid = NULL,
	.method = HTTP_GET,
	.auth = XRPC_AUTH_ACCESS,
	.auth_flags = 0,
	.input = XRPC_IN_BYTES,
};

int
xrpc_fallback(struct xrpc_ctx *ctx)
{
	struct proxy_target t;
	struct proxy_call c;
	enum http_method m = http_req_method(ctx->req);
	int		 rc;

	if (m != HTTP_GET && m != HTTP_HEAD && m != HTTP_POST)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "XRPC requests only supports GET and POST");
	if (!syntax_is_nsid(ctx->nsid, strlen(ctx->nsid)))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "invalid xrpc path");
	if (proxy_method_protected(ctx->nsid))
		return xrpc_fail(ctx, PDS_EBADTOKEN, NULL,
		    "Bad token method");
	/* Nowhere to send it: the method is simply not implemented here. */
	if (http_req_header(ctx->req, "atproto-proxy") == NULL &&
	    !proxy_has_default(ctx->cfg, ctx->nsid))
		return xrpc_fail(ctx, PDS_ENOTIMPL, NULL,
		    "Method Not Implemented");
	ctx->route = &proxy_route;
	rc = xrpc_auth_verify(ctx);
	ctx->route = NULL;
	if (rc != 0)
		return rc;
	if (proxy_method_privileged(ctx->nsid) && !proxy_cred_privileged(ctx))
		return xrpc_fail(ctx, PDS_EBADTOKEN, NULL,
		    "Bad token method");
	if ((rc = proxy_call_select(ctx, &t, &c)) != 0)
		return rc;
	return proxy_forward(ctx, &c);
}
