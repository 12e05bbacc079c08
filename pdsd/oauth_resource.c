/*
 * oauth_resource: DPoP token checks.  See oauth_resource.h.
 */
#include "err.h"
#include "oauth_resource.h"
#include "xrpc.h"

int
auth_oauth_verify(struct xrpc_ctx *ctx)
{
	return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
	    "OAuth (DPoP) tokens are not supported by this server yet");
}
