/*
 * oauth_account: the member's own page of apps (the module
 * `oauth_account'): which OAuth clients hold a grant on the account,
 * and a way to take each one back.
 *
 * Paths served:
 *	GET  /account		the apps page of the account signed in on
 *				this browser, else the sign-in form
 *	POST /account/sign-in	(csrf_token, identifier, password): sign
 *				in on this browser, then back to /account
 *	POST /account/revoke	(csrf_token, grant_id): end that grant (its
 *				token family) at once; with the app's last
 *				grant gone, forget the consent too, so that
 *				the app must ask again
 *	POST /account/sign-out	(csrf_token): forget the account on this
 *				browser
 *
 * The browser, its cookies and CSRF token, the sign-in checks and the
 * page headers are the authorization pages' (oauth_authorize.h): a
 * member signed in there is signed in here, and the other way round.
 * Signing in here always remembers the browser for the account.  Every
 * POST answers with a 303 back to /account (so a reload never repeats
 * it) unless it has an error to show.
 */
#ifndef PDSD_OAUTH_ACCOUNT_H
#define PDSD_OAUTH_ACCOUNT_H

#define OAUTH_ACCOUNT_PATH		"/account"
#define OAUTH_ACCOUNT_SIGNIN_PATH	"/account/sign-in"
#define OAUTH_ACCOUNT_REVOKE_PATH	"/account/revoke"
#define OAUTH_ACCOUNT_SIGNOUT_PATH	"/account/sign-out"

#define OAUTH_ACCOUNT_GRANTS_MAX	200	/* grants shown on the page */

#endif
