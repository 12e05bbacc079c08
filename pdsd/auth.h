/*
 * auth: legacy session tokens (atproto-notes §10.1) and the XRPC
 * credential verifier (xrpc_auth_verify, declared in xrpc.h).
 *
 * Access token: HS256 with PDS_JWT_SECRET, header typ "at+jwt", claims
 * scope, aud (the service DID), sub (the account DID), iat, exp
 * (120 minutes).  Refresh token: typ "refresh+jwt", scope
 * com.atproto.refresh, a random jti that names its refresh_tokens row,
 * 90 days.  Rotating a refresh token gives the next one and leaves the
 * used one valid for a 2-hour grace window (a client that lost the reply
 * can retry and gets the same next token).
 *
 * Verification order: scheme, syntax, signature, then claims; an expired
 * token is 400 ExpiredToken, every other fault 400 InvalidToken (a
 * DPoP-bound token under Bearer is "Malformed token").  Then the
 * route's scope rules and the account checks its flags ask for.
 *
 * Service JWTs (ES256K, signed by an account's DID key) go to
 * auth_service_verify() (service_auth.h), OAuth DPoP tokens to
 * auth_oauth_verify() (oauth_resource.h).
 */
#ifndef PDSD_AUTH_H
#define PDSD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "store_account.h"

struct config;

#define AUTH_SCOPE_ACCESS	"com.atproto.access"
#define AUTH_SCOPE_APP_PASS	"com.atproto.appPass"
#define AUTH_SCOPE_APP_PRIV	"com.atproto.appPassPrivileged"
#define AUTH_SCOPE_REFRESH	"com.atproto.refresh"
#define AUTH_SCOPE_TAKENDOWN	"com.atproto.takendown"
#define AUTH_SCOPE_SIGNUP_QUEUED "com.atproto.signupQueued"

#define AUTH_ACCESS_TTL_S	(120 * 60)
#define AUTH_REFRESH_TTL_S	(90 * 24 * 3600)
#define AUTH_REFRESH_GRACE_S	(2 * 3600)

struct auth_session {
	char	*access;	/* malloc'd token text */
	char	*refresh;
	char	 scope[40];
};

/* Once, at start-up (accounts_init calls it). */
int	auth_init(const struct config *);

/*
 * Mint an access and a refresh token for did with that access scope.
 * app_password_name (may be NULL) is remembered with the refresh token;
 * with store_refresh false the refresh token is not stored, so it can
 * never be used (taken-down logins).
 */
int	auth_session_create(const char *did, const char *scope,
	    const char *app_password_name, bool store_refresh,
	    struct auth_session *out);
/* Free the tokens (wiping them). */
void	auth_session_clear(struct auth_session *);

/*
 * Rotate the refresh token `jti' of did: PDS_OK and a new pair (the
 * access scope follows the app password the session was made with), or
 * PDS_EEXPIRED if the token was revoked, rotated away past its grace
 * window or expired, or PDS_ENOTFOUND if its app password is gone.
 */
int	auth_session_refresh(const char *did, const char *jti,
	    struct auth_session *out);
/* Revoke a refresh token and those rotated into it (logout). */
int	auth_session_revoke(const char *jti);

/*
 * The account checks every session credential gets, for ctx->auth.did
 * and ctx->route's flags: InvalidToken when the account is gone, then
 * AccountTakedown and AccountDeactivated as XRPC_AF_CHECK_TAKEDOWN and
 * XRPC_AF_CHECK_DEACTIVATED ask (for an OAuth credential, a taken-down
 * account only passes on XRPC_AF_TAKENDOWN routes).  0 or the error
 * (xrpc_fail()).
 */
struct xrpc_ctx;
int	auth_check_account(struct xrpc_ctx *);

/*
 * Answer a token that failed to verify with rc: ExpiredToken for
 * PDS_EEXPIRED, else InvalidToken saying what.  The error (xrpc_fail()).
 */
int	auth_bad_token(struct xrpc_ctx *, int rc, const char *what);

/*
 * Login attempt limits against online guessing, token buckets:
 *   - per account (did, when the identifier names one; else the
 *     identifier as typed) and client address: 10 failures, then one
 *     per 30 s, so switching between handle, email and DID buys nothing;
 *   - per account from any address: 100 failures, then one per minute,
 *     against guessing spread over many addresses;
 *   - per client address: 50 attempts, failed or not, then one per 2 s,
 *     against one client trying many accounts (or logging in in a loop).
 * The client address is http_req_client(): X-Forwarded-For counts only
 * from PDS_TRUSTED_PROXIES.  take() spends one token from each bucket
 * and returns PDS_OK, or PDS_ETOOBIG (nothing spent) when this client's
 * own buckets (the first and the third) are empty.  An empty
 * per-account bucket never refuses, so strangers failing on purpose
 * cannot lock a member out: the password is checked, and each client
 * is slowed to one try per 30 s on that account (its first bucket is
 * emptied) until the account's bucket refills.  refund(), after a
 * successful login, fills the first bucket and gives the account's
 * token back; the per-address token stays spent.  The tables are
 * fixed-size (4096 buckets each) and forget the fullest buckets first.
 * The bypass of ratelimit.h skips them (the caller does not call).
 */
int	auth_login_take(const char *identifier, const char *did,
	    const char *addr);
void	auth_login_refund(const char *identifier, const char *did,
	    const char *addr);

#endif
