/*
 * service_auth: minting and verifying inter-service JWTs.  See
 * service_auth.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "auth.h"
#include "config.h"
#include "err.h"
#include "jwt.h"
#include "keys.h"
#include "log.h"
#include "oauth_replay.h"
#include "resolver.h"
#include "service_auth.h"
#include "store_account.h"
#include "syntax.h"
#include "xrpc.h"

#define CLOCK_SKEW_S	5
#define REPLAY_NS	"service-jwt"	/* in the replay table */

int
service_jwt_mint(const char *iss, const char *aud, const char *lxm,
    time_t exp, struct buf *out)
{
	struct pds_key	*key;
	json_t		*p;
	uint8_t		 r[16];
	char		 jti[33];
	time_t		 now = time(NULL);
	int		 rc;

	if (iss == NULL || aud == NULL)
		return PDS_EINVAL;
	if ((rc = account_signing_key(iss, &key)) != PDS_OK)
		return rc;
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(jti, sizeof(jti), r, sizeof(r));
	if (exp == 0)
		exp = now + SERVICE_JWT_TTL_S;
	/* The reference's claim order: iat, iss, aud, exp, lxm, jti. */
	p = json_pack("{s:I,s:s,s:s,s:I}", "iat", (json_int_t)now,
	    "iss", iss, "aud", aud, "exp", (json_int_t)exp);
	if (p != NULL && lxm != NULL &&
	    json_object_set_new(p, "lxm", json_string(lxm)) != 0) {
		json_decref(p);
		p = NULL;
	}
	if (p != NULL && json_object_set_new(p, "jti", json_string(jti)) != 0) {
		json_decref(p);
		p = NULL;
	}
	rc = p != NULL ? jwt_sign_es(out, "JWT", p, key) : PDS_ENOMEM;
	json_decref(p);
	key_free(key);
	return rc;
}

/* The verification key: "#atproto", or "#atproto_label" for labelers. */
static int
issuer_key(const char *did, bool label, bool refresh, struct pds_key **out)
{
	json_t		*doc = NULL;
	const char	*why = NULL;
	int		 rc;

	*out = NULL;
	if (refresh && (rc = resolver_refresh(did)) != PDS_OK)
		return rc;
	if (!label)
		return resolver_did_key(did, out);
	if ((rc = resolver_did_doc(did, &doc)) != PDS_OK)
		return rc;
	rc = diddoc_get_key(doc, did, "#atproto_label", out, &why);
	json_decref(doc);
	return rc;
}

/*
 * A verified token's lifetime and first use: exp at most
 * SERVICE_JWT_MAX_TTL_S after iat (and after now), the longest
 * getServiceAuth mints, and each (iss, jti) accepted once while the
 * token lives.  The replay key is a hash of both, so one issuer cannot
 * spend another's jti and keys stay short enough to be written behind.
 */
static int
fresh_token(struct xrpc_ctx *ctx, const struct jwt *j, const char *iss)
{
	crypto_generichash_state st;
	const char	*jti;
	int64_t		 exp, iat, now = (int64_t)time(NULL);
	uint8_t		 h[16];
	char		 key[2 * sizeof(h) + 1];
	int		 rc;

	if (!jwt_claim_int(j, "exp", &exp))
		return auth_bad_token(ctx, PDS_EINVAL,
		    "Malformed token: no exp");
	if (exp - now > SERVICE_JWT_MAX_TTL_S + CLOCK_SKEW_S ||
	    (jwt_claim_int(j, "iat", &iat) &&
	    exp - iat > SERVICE_JWT_MAX_TTL_S + CLOCK_SKEW_S))
		return auth_bad_token(ctx, PDS_EINVAL,
		    "Token lifetime is longer than an hour");
	if ((jti = jwt_claim_str(j, "jti")) == NULL || *jti == '\0')
		return auth_bad_token(ctx, PDS_EINVAL,
		    "Malformed token: no jti");
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)iss, strlen(iss) + 1);
	crypto_generichash_update(&st, (const uint8_t *)jti, strlen(jti));
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(key, sizeof(key), h, sizeof(h));
	rc = oauth_replay_check_and_add(REPLAY_NS, key, exp + CLOCK_SKEW_S);
	if (rc == PDS_EEXIST)
		return auth_bad_token(ctx, PDS_EINVAL,
		    "Token has been used already");
	return rc == PDS_OK ? 0 : PDS_EINTERNAL;
}

int
service_auth_check(struct xrpc_ctx *ctx, const struct jwt *j,
    const char *lxm, bool mod_service)
{
	const struct config *cfg = ctx->cfg;
	struct jwt_expect e;
	struct pds_key	*key = NULL;
	const char	*iss, *frag, *why = "bad token";
	char		 did[sizeof(ctx->auth.did)], aud_alt[SA_DID_MAX + 32];
	bool		 label = false;
	int64_t		 exp;
	size_t		 n;
	int		 rc;

	if (strcmp(j->alg, "ES256K") != 0 && strcmp(j->alg, "ES256") != 0)
		return auth_bad_token(ctx, PDS_EINVAL, "Invalid service token");
	if ((iss = jwt_claim_str(j, "iss")) == NULL)
		return auth_bad_token(ctx, PDS_EINVAL,
		    "Malformed token: no iss");
	n = (frag = strchr(iss, '#')) != NULL ? (size_t)(frag - iss) :
	    strlen(iss);
	if (n == 0 || n >= sizeof(did) || !syntax_is_did(iss, n))
		return auth_bad_token(ctx, PDS_EINVAL,
		    "Malformed token: bad iss");
	memcpy(did, iss, n);
	did[n] = '\0';
	/* Labelers sign with their label key, everyone else with #atproto. */
	label = frag != NULL && strcmp(frag, "#atproto_labeler") == 0;
	if (mod_service && (cfg->mod_service_did == NULL ||
	    strcmp(did, cfg->mod_service_did) != 0))
		return auth_bad_token(ctx, PDS_EINVAL, "Untrusted issuer");

	/* Claims first: they cost no network round trip. */
	memset(&e, 0, sizeof(e));
	e.now = time(NULL);
	e.skew = CLOCK_SKEW_S;
	e.aud = cfg->service_did;
	snprintf(aud_alt, sizeof(aud_alt), "%s#atproto_pds", cfg->service_did);
	e.aud_alt = aud_alt;
	e.lxm = lxm != NULL ? lxm : ctx->nsid;
	e.flags = JWT_REFUSE_SESSION_TYP | JWT_REFUSE_CNF;
	if ((rc = jwt_check_claims(j, &e, &why)) != PDS_OK) {
		if (strcmp(why, "wrong lxm") == 0 || strcmp(why, "no lxm") == 0)
			return auth_bad_token(ctx, rc, "Bad token method");
		return auth_bad_token(ctx, rc, why);
	}

	/* The signature, with one fresh look at the document if it fails. */
	rc = issuer_key(did, label, false, &key);
	if (rc == PDS_OK && jwt_verify_es(j, key, &why) == PDS_OK)
		goto ok;
	key_free(key);
	key = NULL;
	if (rc != PDS_OK && rc != PDS_ENOTFOUND && rc != PDS_EUNSUPP &&
	    rc != PDS_EINVAL)
		return xrpc_fail(ctx, PDS_EUPSTREAM, NULL,
		    "Could not resolve the token issuer's DID");
	rc = issuer_key(did, label, true, &key);
	if (rc == PDS_OK && jwt_verify_es(j, key, &why) == PDS_OK)
		goto ok;
	key_free(key);
	log_info("service auth: %s: signature refused", did);
	return auth_bad_token(ctx, PDS_ECRYPTO,
	    "jwt signature does not match jwt issuer");
ok:
	key_free(key);
	if ((rc = fresh_token(ctx, j, iss)) != 0)
		return rc;
	memcpy(ctx->auth.did, did, n + 1);
	ctx->auth.scope[0] = '\0';
	ctx->auth.cred = mod_service ? XRPC_CRED_MOD_SERVICE :
	    XRPC_CRED_SERVICE;
	if (jwt_claim_int(j, "exp", &exp))
		ctx->auth.exp = exp;
	return 0;
}

/* Whether the issuer of j is the configured mod service. */
static bool
from_mod_service(const struct config *cfg, const struct jwt *j)
{
	const char	*iss = jwt_claim_str(j, "iss");
	size_t		 n;

	if (iss == NULL || cfg->mod_service_did == NULL)
		return false;
	n = strlen(cfg->mod_service_did);
	return strncmp(iss, cfg->mod_service_did, n) == 0 &&
	    (iss[n] == '\0' || iss[n] == '#');
}

int
auth_service_verify(struct xrpc_ctx *ctx, const struct jwt *j)
{
	const struct xrpc_route *rt = ctx->route;
	struct store_account a;
	bool		 mod_ok, user_ok;
	int		 rc;

	if (rt == NULL)
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
		    "Unexpected authorization type");
	mod_ok = rt->auth == XRPC_AUTH_MOD ||
	    (rt->auth_flags & XRPC_AF_OR_MOD_SERVICE);
	user_ok = rt->auth == XRPC_AUTH_SERVICE ||
	    (rt->auth_flags & XRPC_AF_OR_SERVICE);
	if (mod_ok && from_mod_service(ctx->cfg, j))
		return service_auth_check(ctx, j, rt->nsid, true);
	/* An admin method: say what it wants, and what it got instead. */
	if (rt->auth == XRPC_AUTH_MOD)
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL, "An admin credential "
		    "is required (the admin password, or a token of the "
		    "moderation service); %s was given",
		    strcmp(j->alg, "HS256") == 0 ? "a member's access token" :
		    "a service token of another issuer");
	if (!user_ok)
		return xrpc_fail(ctx, PDS_EBADTOKEN, NULL,
		    "Service tokens are not accepted for this method");
	if ((rc = service_auth_check(ctx, j, rt->nsid, false)) != 0)
		return rc;
	/* The account checks the route asks for, when it is hosted here. */
	if ((rt->auth_flags & (XRPC_AF_CHECK_TAKEDOWN |
	    XRPC_AF_CHECK_DEACTIVATED)) &&
	    store_account_get(SA_BY_DID, ctx->auth.did, &a) == PDS_OK) {
		if ((rt->auth_flags & XRPC_AF_CHECK_TAKEDOWN) &&
		    a.status == ACCT_TAKENDOWN)
			return xrpc_fail(ctx, PDS_ETAKENDOWN, NULL,
			    "Account has been taken down");
		if ((rt->auth_flags & XRPC_AF_CHECK_DEACTIVATED) &&
		    a.status == ACCT_DEACTIVATED)
			return xrpc_fail(ctx, PDS_EDEACTIVATED,
			    NULL, "Account is deactivated");
	}
	return 0;
}

int
auth_verify_service_jwt(struct xrpc_ctx *ctx, const char *lxm)
{
	const char	*authz, *tok, *why = NULL;
	struct jwt	 j;
	bool		 mod;
	int		 rc;

	authz = http_req_header(ctx->req, "Authorization");
	if (authz == NULL || *authz == '\0')
		return xrpc_fail(ctx, PDS_EAUTHMISSING, NULL,
		    "Authentication Required");
	if (strncasecmp(authz, "Bearer ", 7) != 0)
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
		    "Unexpected authorization type");
	tok = authz + 7;
	memset(&j, 0, sizeof(j));
	if (jwt_decode(&j, tok, strlen(tok), &why) != PDS_OK)
		return xrpc_fail(ctx, PDS_EBADTOKEN, NULL,
		    "Malformed token");
	mod = from_mod_service(ctx->cfg, &j);
	rc = service_auth_check(ctx, &j, lxm, mod);
	jwt_clear(&j);
	return rc;
}
