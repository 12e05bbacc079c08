/*
 * auth_factor: email two-factor sign-in (emailAuthFactor), as Bluesky's
 * entryway does it and the Bluesky app expects.
 *
 * An account turns it on or off with com.atproto.server.updateEmail
 * {email, token, emailAuthFactor} (the token of requestEmailUpdate when
 * the address is confirmed, as for any updateEmail); getSession,
 * createSession and refreshSession show it.  Turning it on needs a
 * confirmed address and a server that sends mail.
 *
 * Then createSession with the main password and no authFactorToken
 * mails a sign-in code (an email token of purpose "2fa_code": 10
 * base32 characters "XXXXX-XXXXX", valid PDS_EMAIL_TOKEN_TTL_SECONDS,
 * default 15 minutes; asking again replaces it) and answers 401
 * AuthFactorTokenRequired.  With the code it succeeds and the code is
 * used up; a wrong code is 400 InvalidToken ("Token is invalid", which
 * the app recognises), an old one 400 ExpiredToken, and either counts
 * as a failed login for the login limits.
 *
 * App passwords skip the second factor, as on the entryway: each is a
 * secret of its own that the member made while signed in, and the
 * clients that use them cannot ask for a code.  The sign-in pages
 * (OAuth's and the account page's) ask for the code too, with the
 * password: auth_factor_page().
 *
 * The code is stored at once and mailed on the net pool (offload.h)
 * after the answer: the password's pool never waits for SMTP.  A mail
 * that fails is logged and its code dropped; the member asks again.
 *
 * With PDS_RATE_LIMITS_ENABLED, the mails spend the account's
 * "sign-in-code" budgets (5 an hour, 15 a day: the reference's budgets
 * for the other mailed tokens).
 */
#ifndef PDSD_AUTH_FACTOR_H
#define PDSD_AUTH_FACTOR_H

#include <stdbool.h>

#include "accounts.h"
#include "store_account.h"

struct xrpc_ctx;

/* Whether this login must also give the emailed code. */
bool	auth_factor_required(const struct store_account *,
	    const struct account_login *);

/*
 * createSession's second factor for account a: token NULL or "" mails a
 * fresh code and fails with 401 AuthFactorTokenRequired; else 0 when
 * token is the live code (used up now), or the InvalidToken /
 * ExpiredToken failure.  *failed says whether it counts as a failed
 * login.
 */
int	auth_factor_check(struct xrpc_ctx *, const struct store_account *a,
	    const char *token, bool *failed);

/*
 * Make a fresh sign-in code for a and have it mailed to a's address
 * (the net pool's job counted against client; NULL for a request that
 * bypasses the rate limits, which spends no budget either).
 * PDS_OK, PDS_ERATELIMIT (its budget, or the client's jobs, are spent),
 * PDS_EBUSY (the pool is full: nothing was made).
 */
int	auth_factor_send(const struct store_account *a, const char *client);

/*
 * The sign-in pages' second factor, once oauth_authz_sign_in() took
 * the password of account a (typed as identifier, from addr): PDS_OK
 * when a needs no code or code (may be NULL or "") is its live code,
 * used up now; else *why says what the page should tell, and:
 * PDS_EAUTHREQ, a code was mailed now (none was given, or it had
 * expired); PDS_EBADTOKEN, a wrong code (a failed login for the login
 * limits); PDS_ERATELIMIT; PDS_EBUSY.
 */
int	auth_factor_page(const struct store_account *a, const char *identifier,
	    const char *addr, const char *code, const char **why);

/*
 * updateEmail's emailAuthFactor, judged before anything changes:
 * turning it on needs a confirmed address and SMTP.  0, or an
 * xrpc_fail() result.
 */
int	auth_factor_may_set(struct xrpc_ctx *, const struct store_account *a,
	    bool on);
/* Then set it. */
int	auth_factor_set(const struct store_account *a, bool on);

#endif
