/*
 * oauth_resource: this server as an OAuth resource server, the check of
 * "Authorization: DPoP <token>" credentials on XRPC requests and of the
 * permissions their scope grants.
 *
 * auth_oauth_verify() works in this order, refusing at the first fault:
 *   1. the reply headers every DPoP request gets, whatever the outcome:
 *      DPoP-Nonce (the authorization server's nonce, oauth_as.h),
 *      Cache-Control: private and Vary: Authorization;
 *   2. the route takes session credentials at all, and OAuth ones
 *      (XRPC_AF_NO_OAUTH: 403 Forbidden);
 *   3. the DPoP proof (dpop.h): htm the request method, htu the public
 *      URL plus the request path (never Host), ath required, the iat
 *      window; then its nonce (absent or unknown: use_dpop_nonce) and its
 *      jti, each accepted once within OAUTH_DPOP_JTI_TTL;
 *   4. the token: HS256 with PDS_JWT_SECRET, typ at+jwt, iss the issuer,
 *      aud the service DID, exp, and a jti and cnf.jkt present;
 *   5. its family, by token id: gone or rotated away (a refresh kills
 *      the previous access token at once), of another account or bound
 *      to another key is invalid_token;
 *   6. the key binding: cnf.jkt, the proof's key and the family's
 *      dpop_jkt all equal ("Invalid DPoP key binding");
 *   7. the scope holds atproto; the account checks of the route's flags
 *      (auth_check_account());
 * then ctx->auth has cred XRPC_CRED_OAUTH, the did, the token id, exp,
 * and in ext the parsed scope (a struct scope_set).
 *
 * Proof and token faults are 401 with the OAuth error as the XRPC error
 * name (use_dpop_nonce, invalid_dpop_proof, invalid_token); xrpc.c gives
 * them WWW-Authenticate: DPoP.  A DPoP-bound token sent as Bearer never
 * gets here: the legacy verifier refuses it (400 InvalidToken).
 *
 * Permissions (oauth-and-lexicons §1.9) are one table in
 * oauth_resource.c, keyed by the route's NSID: what each route needs
 * from an OAuth scope.  A route missing from it is refused to OAuth
 * credentials.  A missing permission is 403 ScopeMissingError naming
 * the narrowest scope that would have done.  include: permission sets
 * grant nothing here (they are refused at the authorization server
 * until lexicon resolution exists).
 */
#ifndef PDSD_OAUTH_RESOURCE_H
#define PDSD_OAUTH_RESOURCE_H

#include <stdbool.h>

struct xrpc_ctx;

/*
 * Verify the DPoP token and proof of ctx->req for ctx->route, fill
 * ctx->auth and return 0, or return the error (xrpc_fail()).  Called by
 * xrpc_auth_verify() for the DPoP scheme only.
 */
int	auth_oauth_verify(struct xrpc_ctx *);

/*
 * The route's permission check, run by the router once the body is
 * parsed (for streamed routes, from the headers): 0 when ctx->auth is
 * not an OAuth credential or its scope allows the call, else 403
 * (ScopeMissingError or Forbidden).  Malformed input is left to the
 * handler, which refuses it before acting.
 */
int	oauth_resource_authorize(struct xrpc_ctx *);

/*
 * For proxied calls and service tokens: 0 when ctx->auth is not an
 * OAuth credential or its scope has rpc:<lxm>?aud=<aud> ("did#service"
 * or a bare DID, compared as a string; lxm NULL: any method), else 403
 * ScopeMissingError.
 */
int	oauth_resource_check_rpc(struct xrpc_ctx *, const char *lxm,
	    const char *aud);

/*
 * Whether the credentials may read the account's email: always, but
 * for an OAuth scope without account:email or transition:email.
 */
bool	oauth_resource_email_readable(const struct xrpc_ctx *);

/* Whether the permission table has a row for nsid (for the tests). */
bool	oauth_resource_route_known(const char *nsid);

#endif
