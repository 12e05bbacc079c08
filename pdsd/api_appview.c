/*
 * api_appview: the app.bsky methods the PDS answers from the AppView
 * with the caller's newest records patched in (read_after_write.h).
 */
#include "api.h"
#include "read_after_write.h"
#include "xrpc.h"

int
api_bsky_actor_get_profile(struct xrpc_ctx *ctx)
{
	return raw_proxy(ctx, RAW_PROFILE);
}

int
api_bsky_actor_get_profiles(struct xrpc_ctx *ctx)
{
	return raw_proxy(ctx, RAW_PROFILES);
}

int
api_bsky_feed_get_timeline(struct xrpc_ctx *ctx)
{
	return raw_proxy(ctx, RAW_TIMELINE);
}

int
api_bsky_feed_get_author_feed(struct xrpc_ctx *ctx)
{
	return raw_proxy(ctx, RAW_AUTHOR);
}

int
api_bsky_feed_get_post_thread(struct xrpc_ctx *ctx)
{
	return raw_proxy(ctx, RAW_THREAD);
}
