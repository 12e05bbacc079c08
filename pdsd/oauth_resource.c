/*
 * oauth_resource: DPoP token checks and the permissions of OAuth scopes
 * at the XRPC routes.  See oauth_resource.h.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "dpop.h"
#include "err.h"
#include "http.h"
#include "jwt.h"
#include "oauth_as.h"
#include "oauth_replay.h"
#include "oauth_resource.h"
#include "oauth_scope.h"
#include "store_oauth.h"
#include "syntax.h"
#include "xrpc.h"

/* ---- what each route needs ---- */

enum rs_need {
	RS_REFUSED,		/* no OAuth credentials at all */
	RS_ANY,			/* atproto alone */
	RS_REPO,		/* each write in the body: repo:<coll>?action= */
	RS_BLOB,		/* blob:<the upload's Content-Type> */
	RS_EMAIL,		/* account:email?action=manage */
	RS_ACCOUNT_REPO,	/* account:repo?action=manage */
	RS_HANDLE,		/* identity:handle */
	RS_IDENTITY,		/* identity:* (PLC operations) */
	RS_RPC_APPVIEW,		/* rpc:<nsid>?aud=<AppView>#bsky_appview */
	RS_RPC_OUT,		/* forwarded: proxy.c checks the target */
	RS_SERVICE_AUTH,	/* rpc:<lxm param or *>?aud=<aud param> */
};

struct rs_rule {
	const char	*nsid;
	enum rs_need	 need;
};

/*
 * Every route that takes session credentials.  Answered locally for
 * what the reference would proxy (preferences) needs the rpc scope of
 * that call; forwarded ones are checked on the way out, against the
 * service actually called.
 */
static const struct rs_rule rules[] = {
	{ "com.atproto.server.getSession",		RS_ANY },
	{ "com.atproto.server.checkAccountStatus",	RS_ANY },
	{ "com.atproto.server.getServiceAuth",		RS_SERVICE_AUTH },
	{ "com.atproto.server.createAppPassword",	RS_REFUSED },
	{ "com.atproto.server.listAppPasswords",	RS_REFUSED },
	{ "com.atproto.server.revokeAppPassword",	RS_REFUSED },
	{ "com.atproto.server.getAccountInviteCodes",	RS_REFUSED },
	{ "com.atproto.server.requestAccountDelete",	RS_REFUSED },
	{ "com.atproto.server.requestEmailConfirmation", RS_EMAIL },
	{ "com.atproto.server.confirmEmail",		RS_EMAIL },
	/*
	 * A new email (and then a password reset to it) would hand the app
	 * the account; status changes are the account holder's alone.
	 */
	{ "com.atproto.server.requestEmailUpdate",	RS_REFUSED },
	{ "com.atproto.server.updateEmail",		RS_REFUSED },
	{ "com.atproto.server.activateAccount",		RS_REFUSED },
	{ "com.atproto.server.deactivateAccount",	RS_REFUSED },
	{ "com.atproto.repo.createRecord",		RS_REPO },
	{ "com.atproto.repo.putRecord",			RS_REPO },
	{ "com.atproto.repo.deleteRecord",		RS_REPO },
	{ "com.atproto.repo.applyWrites",		RS_REPO },
	{ "com.atproto.repo.uploadBlob",		RS_BLOB },
	{ "com.atproto.repo.importRepo",		RS_ACCOUNT_REPO },
	{ "com.atproto.repo.listMissingBlobs",		RS_ANY },
	{ "com.atproto.sync.getRepo",			RS_ANY },
	{ "com.atproto.sync.getBlocks",			RS_ANY },
	{ "com.atproto.sync.getRecord",			RS_ANY },
	{ "com.atproto.sync.getLatestCommit",		RS_ANY },
	{ "com.atproto.sync.listBlobs",			RS_ANY },
	{ "com.atproto.sync.getBlob",			RS_ANY },
	{ "com.atproto.sync.getCheckout",		RS_ANY },
	{ "com.atproto.sync.getHead",			RS_ANY },
	{ "com.atproto.identity.updateHandle",		RS_HANDLE },
	{ "com.atproto.identity.getRecommendedDidCredentials", RS_ANY },
	{ "com.atproto.identity.requestPlcOperationSignature", RS_IDENTITY },
	{ "com.atproto.identity.signPlcOperation",	RS_IDENTITY },
	{ "com.atproto.identity.submitPlcOperation",	RS_IDENTITY },
	{ "com.atproto.moderation.createReport",	RS_RPC_OUT },
	{ "com.atproto.temp.checkSignupQueue",		RS_REFUSED },
	{ "app.bsky.actor.getPreferences",		RS_RPC_APPVIEW },
	{ "app.bsky.actor.putPreferences",		RS_RPC_APPVIEW },
	{ "app.bsky.actor.getProfile",			RS_RPC_OUT },
	{ "app.bsky.actor.getProfiles",			RS_RPC_OUT },
	{ "app.bsky.feed.getTimeline",			RS_RPC_OUT },
	{ "app.bsky.feed.getAuthorFeed",		RS_RPC_OUT },
	{ "app.bsky.feed.getActorLikes",		RS_RPC_OUT },
	{ "app.bsky.feed.getPostThread",		RS_RPC_OUT },
	{ "app.bsky.feed.getFeed",			RS_RPC_OUT },
	{ "app.bsky.notification.registerPush",		RS_RPC_OUT },
	{ "app.bsky.notification.unregisterPush",	RS_RPC_OUT },
};

static const struct rs_rule *
rule_find(const char *nsid)
{
	size_t	 i;

	for (i = 0; nsid != NULL && i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].nsid, nsid) == 0)
			return &rules[i];
	return NULL;
}

bool
oauth_resource_route_known(const char *nsid)
{
	return rule_find(nsid) != NULL;
}

/* ---- verification ---- */

#define RS_ALGS		"ES256 ES256K"

static int
rs_fail(struct xrpc_ctx *ctx, const char *error, const char *msg)
{
	return xrpc_fail(ctx, PDS_EAUTHREQ, error, "%s", msg);
}

static int
forbidden(struct xrpc_ctx *ctx)
{
	return xrpc_fail(ctx, PDS_EFORBIDDEN, NULL,
	    "OAuth credentials are not supported for this endpoint");
}

static void
scope_free(void *p)
{
	scope_set_free(p);
}

/* Steps 1 to 3: headers, route, proof.  *jkt gets the proof's key. */
static int
check_proof(struct xrpc_ctx *ctx, const char *tok, time_t now,
    char jkt[JWK_THUMB_SIZE])
{
	struct dpop_expect e;
	struct dpop_proof p;
	const char	*h, *why = "Invalid DPoP proof";
	char		 htu[DPOP_HTU_MAX];
	int		 n, rc;

	if ((h = http_req_header(ctx->req, "DPoP")) == NULL)
		return rs_fail(ctx, "invalid_dpop_proof",
		    "DPoP proof required");
	n = snprintf(htu, sizeof(htu), "%s%s", oauth_as_issuer(),
	    http_req_path(ctx->req));
	if (n < 0 || (size_t)n >= sizeof(htu))
		return rs_fail(ctx, "invalid_dpop_proof", "DPoP htu mismatch");
	memset(&e, 0, sizeof(e));
	e.htm = http_req_method_str(ctx->req);
	e.htu = htu;
	e.now = now;
	e.iat_past = DPOP_IAT_PAST;
	e.iat_future = DPOP_IAT_FUTURE;
	e.access_token = tok;
	e.access_token_len = strlen(tok);
	if (dpop_verify(&p, h, strlen(h), &e, &why) != PDS_OK)
		return rs_fail(ctx, "invalid_dpop_proof", why);
	if (!p.has_nonce)
		return rs_fail(ctx, "use_dpop_nonce",
		    "Resource server requires nonce in DPoP proof");
	if (dpop_nonce_check(oauth_as_dpop_secret(), p.nonce,
	    strlen(p.nonce), now) != PDS_OK)
		return rs_fail(ctx, "use_dpop_nonce", "DPoP \"nonce\" mismatch");
	rc = oauth_replay_check_and_add(STORE_OAUTH_NS_DPOP, p.jti,
	    (int64_t)now + OAUTH_DPOP_JTI_TTL);
	if (rc == PDS_EEXIST)
		return rs_fail(ctx, "invalid_dpop_proof",
		    "DPoP proof replayed");
	if (rc != PDS_OK)
		return PDS_EINTERNAL;
	memcpy(jkt, p.jkt, JWK_THUMB_SIZE);
	return 0;
}

/* Steps 4 to 6: the token, its family and the key binding. */
static int
check_token(struct xrpc_ctx *ctx, const struct jwt *j, time_t now,
    const char *jkt, struct store_oauth_family *f)
{
	const struct config *cfg = ctx->cfg;
	struct jwt_expect e;
	const char	*why = "Invalid token", *jti, *sub, *iss, *cj;
	int64_t		 exp;
	int		 rc;

	if (jwt_verify_hs256(j, (const uint8_t *)cfg->jwt_secret,
	    strlen(cfg->jwt_secret), &why) != PDS_OK)
		return rs_fail(ctx, "invalid_token", "Invalid token");
	memset(&e, 0, sizeof(e));
	e.now = now;
	e.typ = "at+jwt";
	e.aud = cfg->service_did;
	e.flags = JWT_REFUSE_LXM;
	if ((rc = jwt_check_claims(j, &e, &why)) == PDS_EEXPIRED)
		return rs_fail(ctx, "invalid_token", "Token expired");
	if (rc != PDS_OK)
		return rs_fail(ctx, "invalid_token", why);
	jti = jwt_claim_str(j, "jti");
	sub = jwt_claim_str(j, "sub");
	iss = jwt_claim_str(j, "iss");
	cj = json_string_value(json_object_get(json_object_get(j->payload,
	    "cnf"), "jkt"));
	if (jti == NULL || sub == NULL || cj == NULL || iss == NULL ||
	    strcmp(iss, oauth_as_issuer()) != 0 ||
	    strlen(sub) >= sizeof(ctx->auth.did) ||
	    strlen(jti) >= sizeof(ctx->auth.token_id) ||
	    !syntax_is_did(sub, strlen(sub)))
		return rs_fail(ctx, "invalid_token", "Invalid token");
	if ((rc = store_oauth_family_by_token(jti, f)) == PDS_ENOTFOUND)
		return rs_fail(ctx, "invalid_token", "Invalid token");
	if (rc != PDS_OK)
		return PDS_EINTERNAL;
	if (strcmp(f->did, sub) != 0 || f->expires_at <= (int64_t)now ||
	    f->dpop_jkt == NULL || strcmp(f->dpop_jkt, cj) != 0)
		return rs_fail(ctx, "invalid_token", "Invalid token");
	if (strcmp(cj, jkt) != 0)
		return rs_fail(ctx, "invalid_token",
		    "Invalid DPoP key binding");
	memcpy(ctx->auth.did, sub, strlen(sub) + 1);
	memcpy(ctx->auth.token_id, jti, strlen(jti) + 1);
	if (jwt_claim_int(j, "exp", &exp))
		ctx->auth.exp = exp;
	return 0;
}

int
auth_oauth_verify(struct xrpc_ctx *ctx)
{
	const struct xrpc_route *rt = ctx->route;
	struct store_oauth_family f;
	struct scope_set *s;
	struct jwt	 j;
	const char	*tok, *why;
	char		 nonce[DPOP_NONCE_SIZE], jkt[JWK_THUMB_SIZE];
	time_t		 now = time(NULL);
	int		 rc;

	dpop_nonce_current(nonce, oauth_as_dpop_secret(), now);
	(void)http_reply_header(ctx->req, "DPoP-Nonce", nonce);
	(void)http_reply_header(ctx->req, "Cache-Control", "private");
	(void)http_reply_header(ctx->req, "Vary", "Authorization");

	if (rt->auth != XRPC_AUTH_ACCESS && rt->auth != XRPC_AUTH_PRIVILEGED &&
	    rt->auth != XRPC_AUTH_FULL)
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
		    "Unexpected authorization type");
	if (rt->auth_flags & XRPC_AF_NO_OAUTH)
		return forbidden(ctx);

	for (tok = http_req_header(ctx->req, "Authorization") + 5;
	    *tok == ' '; tok++)
		;
	if ((rc = check_proof(ctx, tok, now, jkt)) != 0)
		return rc;
	memset(&j, 0, sizeof(j));
	if (jwt_decode(&j, tok, strlen(tok), &why) != PDS_OK)
		return rs_fail(ctx, "invalid_token", "Malformed token");
	memset(&f, 0, sizeof(f));
	rc = check_token(ctx, &j, now, jkt, &f);
	jwt_clear(&j);
	if (rc != 0) {
		store_oauth_family_clear(&f);
		return rc;
	}

	if ((s = scope_set_new()) == NULL) {
		store_oauth_family_clear(&f);
		return PDS_ENOMEM;
	}
	/* Token scopes hold include: sets expanded (oauth_include.h). */
	rc = scope_set_parse(s, f.scope, strlen(f.scope), &why);
	store_oauth_family_clear(&f);
	if (rc != PDS_OK ||
	    !scope_set_has(s, SCOPE_ATPROTO)) {
		scope_set_free(s);
		return rs_fail(ctx, "invalid_token", "Invalid token scope");
	}
	ctx->auth.cred = XRPC_CRED_OAUTH;
	ctx->auth.scope[0] = '\0';
	ctx->auth.ext = s;
	ctx->auth.ext_free = scope_free;
	return auth_check_account(ctx);
}

/* ---- permissions ---- */

static const struct scope_set *
scope_of(const struct xrpc_ctx *ctx)
{
	return ctx->auth.cred == XRPC_CRED_OAUTH ? ctx->auth.ext : NULL;
}

static int	missing(struct xrpc_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* 403 ScopeMissingError naming the scope (printf-style). */
static int
missing(struct xrpc_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;
	char	 scope[512];

	va_start(ap, fmt);
	vsnprintf(scope, sizeof(scope), fmt, ap);
	va_end(ap);
	return xrpc_fail(ctx, PDS_EFORBIDDEN, "ScopeMissingError",
	    "Missing required scope \"%s\"", scope);
}

static const char *
action_name(unsigned action)
{
	switch (action) {
	case SCOPE_REPO_CREATE:
		return "create";
	case SCOPE_REPO_UPDATE:
		return "update";
	default:
		return "delete";
	}
}

static int
need_repo(struct xrpc_ctx *ctx, const json_t *coll, unsigned action)
{
	const char	*c = json_string_value(coll);

	if (c == NULL)
		return 0;	/* the handler refuses it */
	if (!scope_allows_repo(ctx->auth.ext, c, action))
		return missing(ctx, "repo:%s?action=%s", c,
		    action_name(action));
	return 0;
}

/*
 * The writes of a repo call.  putRecord needs both create and update,
 * as the reference asks: whether the record exists is only known in the
 * writer, and a scope that can create but not update must not overwrite.
 */
static int
authorize_repo(struct xrpc_ctx *ctx)
{
	const char	*nsid = ctx->route->nsid, *type;
	const json_t	*w;
	size_t		 i;
	int		 rc;

	if (strcmp(nsid, "com.atproto.repo.createRecord") == 0)
		return need_repo(ctx, json_object_get(ctx->input,
		    "collection"), SCOPE_REPO_CREATE);
	if (strcmp(nsid, "com.atproto.repo.putRecord") == 0) {
		if ((rc = need_repo(ctx, json_object_get(ctx->input,
		    "collection"), SCOPE_REPO_CREATE)) != 0)
			return rc;
		return need_repo(ctx, json_object_get(ctx->input,
		    "collection"), SCOPE_REPO_UPDATE);
	}
	if (strcmp(nsid, "com.atproto.repo.deleteRecord") == 0)
		return need_repo(ctx, json_object_get(ctx->input,
		    "collection"), SCOPE_REPO_DELETE);
	json_array_foreach(json_object_get(ctx->input, "writes"), i, w) {
		type = json_string_value(json_object_get(w, "$type"));
		if (type == NULL)
			continue;	/* the handler refuses it */
		if (strcmp(type, "com.atproto.repo.applyWrites#create") == 0)
			rc = need_repo(ctx, json_object_get(w, "collection"),
			    SCOPE_REPO_CREATE);
		else if (strcmp(type,
		    "com.atproto.repo.applyWrites#update") == 0)
			rc = need_repo(ctx, json_object_get(w, "collection"),
			    SCOPE_REPO_UPDATE);
		else if (strcmp(type,
		    "com.atproto.repo.applyWrites#delete") == 0)
			rc = need_repo(ctx, json_object_get(w, "collection"),
			    SCOPE_REPO_DELETE);
		else
			rc = 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
authorize_blob(struct xrpc_ctx *ctx)
{
	const char	*ct = http_req_header(ctx->req, "Content-Type");
	char		 mime[256];
	size_t		 n;

	if (ct == NULL || *ct == '\0')
		ct = "application/octet-stream";
	if (scope_allows_blob(ctx->auth.ext, ct))
		return 0;
	n = strcspn(ct, "; \t");
	snprintf(mime, sizeof(mime), "%.*s", (int)(n < 200 ? n : 200), ct);
	return missing(ctx, "blob:%s", mime);
}

static int
authorize_account(struct xrpc_ctx *ctx, enum scope_account_attr attr,
    const char *name)
{
	if (scope_allows_account(ctx->auth.ext, attr, SCOPE_ACCOUNT_MANAGE))
		return 0;
	return missing(ctx, "account:%s?action=%s", name, "manage");
}

static int
authorize_identity(struct xrpc_ctx *ctx, enum scope_identity_attr attr)
{
	if (scope_allows_identity(ctx->auth.ext, attr))
		return 0;
	return missing(ctx, "identity:%s",
	    attr == SCOPE_IDENTITY_HANDLE ? "handle" : "*");
}

int
oauth_resource_authorize(struct xrpc_ctx *ctx)
{
	const struct config *cfg = ctx->cfg;
	const struct rs_rule *r;
	char		 aud[512];

	if (scope_of(ctx) == NULL)
		return 0;
	if ((r = rule_find(ctx->route->nsid)) == NULL)
		return forbidden(ctx);
	switch (r->need) {
	case RS_REFUSED:
		return forbidden(ctx);
	case RS_ANY:
	case RS_RPC_OUT:
		return 0;
	case RS_REPO:
		return authorize_repo(ctx);
	case RS_BLOB:
		return authorize_blob(ctx);
	case RS_EMAIL:
		return authorize_account(ctx, SCOPE_ATTR_EMAIL, "email");
	case RS_ACCOUNT_REPO:
		return authorize_account(ctx, SCOPE_ATTR_REPO, "repo");
	case RS_HANDLE:
		return authorize_identity(ctx, SCOPE_IDENTITY_HANDLE);
	case RS_IDENTITY:
		return authorize_identity(ctx, SCOPE_IDENTITY_ANY);
	case RS_RPC_APPVIEW:
		snprintf(aud, sizeof(aud), "%s#bsky_appview",
		    cfg->appview_did != NULL ? cfg->appview_did : "");
		return oauth_resource_check_rpc(ctx, ctx->route->nsid, aud);
	case RS_SERVICE_AUTH:
		if (http_req_query(ctx->req, "aud") == NULL)
			return 0;	/* the handler refuses it */
		return oauth_resource_check_rpc(ctx,
		    http_req_query(ctx->req, "lxm"),
		    http_req_query(ctx->req, "aud"));
	}
	return forbidden(ctx);
}

int
oauth_resource_check_rpc(struct xrpc_ctx *ctx, const char *lxm,
    const char *aud)
{
	const struct scope_set *s = scope_of(ctx);
	char		 enc[512];
	size_t		 i, n = 0;

	if (s == NULL || scope_allows_rpc(s, lxm, aud))
		return 0;
	/* the scope's syntax percent-encodes the fragment's '#' */
	for (i = 0; aud[i] != '\0' && n + 4 < sizeof(enc); i++)
		if (aud[i] == '#') {
			memcpy(enc + n, "%23", 3);
			n += 3;
		} else
			enc[n++] = aud[i];
	enc[n] = '\0';
	return missing(ctx, "rpc:%s?aud=%s", lxm != NULL ? lxm : "*", enc);
}

bool
oauth_resource_email_readable(const struct xrpc_ctx *ctx)
{
	const struct scope_set *s = scope_of(ctx);

	return s == NULL || scope_allows_account(s, SCOPE_ATTR_EMAIL,
	    SCOPE_ACCOUNT_READ);
}
