/*
 * api_proxy_local: the methods the PDS registers itself only to attach
 * service auth (reference-pds §1.1, §1.6, §1.7):
 * com.atproto.server.getServiceAuth, com.atproto.moderation.createReport,
 * app.bsky.feed.getFeed, app.bsky.feed.getActorLikes and
 * app.bsky.notification.registerPush / unregisterPush.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "accounts.h"
#include "api.h"
#include "auth.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "proxy.h"
#include "resolver.h"
#include "service_auth.h"
#include "syntax.h"
#include "xrpc.h"

#define NSID_GET_FEED_GENERATOR	"app.bsky.feed.getFeedGenerator"
#define NSID_GET_FEED_SKELETON	"app.bsky.feed.getFeedSkeleton"
#define NSID_CREATE_ACCOUNT	"com.atproto.server.createAccount"

int
api_server_get_service_auth(struct xrpc_ctx *ctx)
{
	const char	*aud = http_req_query(ctx->req, "aud");
	const char	*lxm = http_req_query(ctx->req, "lxm");
	const char	*exps = http_req_query(ctx->req, "exp");
	struct store_account acct;
	struct buf	 tok;
	int64_t		 exp = 0, diff;
	time_t		 now = time(NULL);
	size_t		 n;
	char		*s;
	int		 rc;

	if (aud == NULL || !syntax_is_did(aud, strlen(aud)))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Error: Params must have the property \"aud\" (a DID)");
	if (lxm != NULL && !syntax_is_nsid(lxm, strlen(lxm)))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "lxm must be an NSID");
	if (exps != NULL && !syntax_dec_i64(exps, &exp))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "exp must be an integer");
	/*
	 * A taken-down account may only move away, whatever credential it
	 * holds: the takendown scope gets the reference's InvalidToken;
	 * any other token (an OAuth session, or an access token issued
	 * before the takedown) the reference's takedown check, 401.
	 */
	if (lxm == NULL || strcmp(lxm, NSID_CREATE_ACCOUNT) != 0) {
		if (strcmp(ctx->auth.scope, AUTH_SCOPE_TAKENDOWN) == 0)
			return xrpc_fail(ctx, PDS_EBADTOKEN, NULL,
			    "Bad token scope");
		if (account_get(ctx->auth.did, &acct) == PDS_OK &&
		    acct.status == ACCT_TAKENDOWN)
			return xrpc_fail(ctx, PDS_EAUTHREQ, "AccountTakedown",
			    "Account has been taken down");
	}
	if (exp == 0)
		exps = NULL;	/* as the reference: 0 is the default */
	if (exps != NULL) {
		diff = exp - (int64_t)now;
		if (diff < 0)
			return xrpc_fail(ctx, PDS_EINVAL,
			    "BadExpiration", "expiration is in past");
		if (diff > SERVICE_JWT_MAX_TTL_S)
			return xrpc_fail(ctx, PDS_EINVAL,
			    "BadExpiration", "cannot request a token with an "
			    "expiration more than an hour in the future");
		if (lxm == NULL && diff > SERVICE_JWT_TTL_S)
			return xrpc_fail(ctx, PDS_EINVAL,
			    "BadExpiration", "cannot request a method-less "
			    "token with an expiration more than a minute in "
			    "the future");
	}
	if (lxm != NULL && proxy_method_protected(lxm))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "cannot request a service auth token for the following "
		    "protected method: %.200s", lxm);
	if (lxm != NULL && proxy_method_privileged(lxm) &&
	    !proxy_cred_privileged(ctx))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "insufficient access to request a service auth token for "
		    "the following method: %.200s", lxm);
	buf_init(&tok, 16384);
	if ((rc = service_jwt_mint(ctx->auth.did, aud, lxm, (time_t)exp,
	    &tok)) != PDS_OK || buf_putc(&tok, '\0') != PDS_OK) {
		buf_clear(&tok);
		log_warnx("getServiceAuth: %s: %s", ctx->auth.did,
		    pds_strerror(rc));
		return PDS_EINTERNAL;
	}
	s = (char *)buf_detach(&tok, &n);
	xrpc_reply_json(ctx, json_pack("{s:s}", "token", s));
	free(s);
	return 0;
}

int
api_proxy_forward(struct xrpc_ctx *ctx)
{
	struct proxy_target t;
	struct proxy_call c;
	int		 rc;

	if ((rc = proxy_call_select(ctx, &t, &c)) != 0)
		return rc;
	return proxy_forward(ctx, &c);
}

/*
 * registerPush and unregisterPush: to serviceDid's #bsky_notif
 * endpoint, or the configured AppView when serviceDid is the AppView's.
 */
int
api_bsky_notification_push(struct xrpc_ctx *ctx)
{
	const char	*sdid = json_string_value(json_object_get(ctx->input,
	    "serviceDid"));
	struct proxy_target t;
	struct proxy_call c;
	int		 rc;

	if (sdid == NULL || !syntax_is_did(sdid, strlen(sdid)))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "serviceDid must be a DID");
	if ((rc = proxy_call_select(ctx, &t, &c)) != 0)
		return rc;
	if (strcmp(t.did, sdid) != 0) {
		memset(&t, 0, sizeof(t));
		snprintf(t.did, sizeof(t.did), "%s", sdid);
		snprintf(t.service, sizeof(t.service), "bsky_notif");
		if (resolver_service_endpoint(sdid, "bsky_notif", NULL, t.url,
		    sizeof(t.url)) != PDS_OK)
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "Invalid serviceDid.");
	}
	return proxy_forward(ctx, &c);
}

/*
 * getFeed: ask the AppView which generator serves the feed, then pass
 * the call through with a token for that generator (aud = its DID, lxm
 * getFeedSkeleton), which the AppView hands on to it.
 */
int
api_bsky_feed_get_feed(struct xrpc_ctx *ctx)
{
	const char	*feed = http_req_query(ctx->req, "feed");
	struct proxy_target t;
	struct proxy_call c;
	struct proxy_resp r;
	json_t		*j = NULL;
	const char	*gen;
	char		 gdid[DID_MAX + 1], *esc, q[2048];
	int		 rc;

	if (feed == NULL || !syntax_is_aturi(feed, strlen(feed)))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Error: Params must have the property \"feed\"");
	if ((rc = proxy_target_select(ctx, ctx->nsid, &t)) != 0)
		return rc;
	if ((esc = curl_easy_escape(NULL, feed, 0)) == NULL)
		return PDS_EINTERNAL;
	rc = snprintf(q, sizeof(q), "feed=%s", esc);
	curl_free(esc);
	if (rc < 0 || (size_t)rc >= sizeof(q))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "feed is too long");
	memset(&c, 0, sizeof(c));
	c.target = &t;
	c.nsid = NSID_GET_FEED_GENERATOR;
	c.query = q;
	c.get = true;
	if ((rc = proxy_fetch(ctx, &c, &r)) != 0) {
		proxy_resp_clear(&r);
		return rc;
	}
	if (r.status != 200) {
		rc = proxy_reply(ctx, &r, NULL);
		proxy_resp_clear(&r);
		return rc;
	}
	j = json_loadb((const char *)r.body.p, r.body.len, 0, NULL);
	proxy_resp_clear(&r);
	gen = json_string_value(json_object_get(json_object_get(j, "view"),
	    "did"));
	if (gen == NULL || !syntax_is_did(gen, strlen(gen))) {
		json_decref(j);
		return xrpc_fail(ctx, PDS_EUPSTREAM, NULL,
		    "The AppView gave no feed generator DID");
	}
	snprintf(gdid, sizeof(gdid), "%s", gen);
	json_decref(j);
	memset(&c, 0, sizeof(c));
	c.target = &t;
	c.aud = gdid;
	c.lxm = NSID_GET_FEED_SKELETON;
	return proxy_forward(ctx, &c);
}
