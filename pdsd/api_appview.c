/*
 * api_appview: the app.bsky methods the PDS answers from the AppView
 * with the caller's newest records patched in (read_after_write.h).
 */
#include "api.h"
#include "read_after_write.h"
#include "xrpc.h"

/* getProfile, getProfiles, ...: the route names the view (enum raw_kind). */
int
api_bsky_read_after_write(struct xrpc_ctx *ctx)
{
	return raw_proxy(ctx, ctx->route->arg);
}
