/*
 * service_auth: inter-service JWTs (atproto-notes §10.2,
 * reference-pds §2.4), both ways.
 *
 * Outbound: service_jwt_mint() signs a token for an account hosted
 * here with the account's repo signing key (secp256k1, so alg ES256K):
 * header {"typ":"JWT","alg":"ES256K"}, payload iat, iss (the account
 * DID), aud (the target service's bare DID), exp, lxm (the method; left
 * out when NULL) and jti (16 random bytes, hex), in that order.
 *
 * Inbound: auth_service_verify() is the hook auth.c's xrpc_auth_verify()
 * calls for non-HS256 Bearer tokens on routes that take service JWTs
 * (XRPC_AUTH_SERVICE, XRPC_AUTH_MOD, XRPC_AF_OR_SERVICE,
 * XRPC_AF_OR_MOD_SERVICE).  The token must not be a session token (typ
 * at+jwt, refresh+jwt, dpop+jwt), must be unexpired, addressed to this
 * PDS (aud = PDS_SERVICE_DID, or that DID with "#atproto_pds"), name the
 * called method in lxm, and be signed by the issuer's key as its DID
 * document publishes it: "#atproto", or "#atproto_label" when iss
 * carries the fragment "#atproto_labeler".  When the signature fails
 * with the cached document the document is fetched again once (the key
 * may have been rotated).  Mod-service tokens must come from
 * PDS_MOD_SERVICE_DID.  A token must also live at most
 * SERVICE_JWT_MAX_TTL_S (exp - iat, and exp - now; the reference's
 * verifier has no bound, but getServiceAuth mints none longer) and
 * carry a jti, which is accepted once: the (iss, jti) pair stays in the
 * replay cache of oauth_replay.h until the token expires, so a token
 * seen on the wire cannot be spent again, even after a restart.  Any other token on an admin-or-mod-service route
 * (a member's access token, another issuer's service JWT) is 401
 * AuthenticationRequired, naming what was wanted and what was given.
 */
#ifndef PDSD_SERVICE_AUTH_H
#define PDSD_SERVICE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"

struct jwt;
struct xrpc_ctx;

#define SERVICE_JWT_TTL_S	60	/* default lifetime */
#define SERVICE_JWT_MAX_TTL_S	3600	/* getServiceAuth's upper bound */

/*
 * Append a service JWT to out for the local account iss.  exp 0 means
 * now + SERVICE_JWT_TTL_S.  PDS_ENOTFOUND when iss is not hosted here.
 */
int	service_jwt_mint(const char *iss, const char *aud, const char *lxm,
	    time_t exp, struct buf *out);

/*
 * Verify a decoded service JWT for ctx->route's method (or `lxm` when
 * non-NULL) and fill ctx->auth (cred XRPC_CRED_SERVICE or
 * XRPC_CRED_MOD_SERVICE, did = the issuer without fragment).  Returns 0
 * or an XRPC error code (via xrpc_fail()).
 */
int	service_auth_check(struct xrpc_ctx *, const struct jwt *,
	    const char *lxm, bool mod_service);

/*
 * The same from the Authorization header: for handlers outside the
 * route table (e.g. the proxy's fallback) that accept a service JWT.
 */
int	auth_verify_service_jwt(struct xrpc_ctx *, const char *lxm);

/* The hook declared in auth.h (defined here, strong). */
int	auth_service_verify(struct xrpc_ctx *, const struct jwt *);

#endif
