/*
 * oauth_resource: this server as an OAuth resource server, the check of
 * "Authorization: DPoP <token>" credentials on XRPC requests.
 *
 * OAuth is not supported yet: every DPoP-bound token is refused with
 * 401 AuthenticationRequired, so clients fall back to legacy sessions.
 */
#ifndef PDSD_OAUTH_RESOURCE_H
#define PDSD_OAUTH_RESOURCE_H

struct xrpc_ctx;

/*
 * Verify the DPoP token and proof of ctx->req for ctx->route, fill
 * ctx->auth and return 0, or return the error (xrpc_fail()).  Called by
 * xrpc_auth_verify() for the DPoP scheme only.
 */
int	auth_oauth_verify(struct xrpc_ctx *);

#endif
