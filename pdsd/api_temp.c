/*
 * api_temp: the com.atproto.temp XRPC methods.
 *
 * This server has no signup queue (no entryway in front of it), so every
 * account is activated as soon as it exists, as with the reference when
 * no entryway is configured.
 */
#include <jansson.h>

#include "api.h"
#include "xrpc.h"

int
api_temp_check_signup_queue(struct xrpc_ctx *ctx)
{
	xrpc_reply_json(ctx, json_pack("{s:b}", "activated", 1));
	return 0;
}
