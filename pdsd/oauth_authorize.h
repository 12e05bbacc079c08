/*
 * oauth_authorize: the authorization endpoint of the OAuth server (the
 * module `oauth_authorize'): the pages a browser goes through between
 * a client's pushed authorization request and the redirect back to the
 * client with a code.  Plain HTML forms (oauth_pages.h); nothing needs
 * JavaScript.
 *
 * Paths served:
 *	GET  /oauth/authorize?client_id=...&request_uri=...
 *	     Look up the pushed request (it must exist, be the client's,
 *	     unexpired, not yet authorized, and not taken by another
 *	     browser), bind it to this browser and give it
 *	     OAUTH_AUTHZ_INACTIVITY more seconds, then show the sign-in
 *	     or the consent page, or finish at once when neither is
 *	     needed.  A request without request_uri is refused: pushed
 *	     requests are required.
 *	POST /oauth/authorize/sign-in	(csrf_token, request_uri,
 *	     identifier, password, remember)
 *	POST /oauth/authorize/consent	(csrf_token, request_uri, decision)
 *	POST /oauth/authorize/switch	(csrf_token, request_uri): "Not
 *	     you?", the sign-in page again
 *
 * Who signs in: the accounts this browser remembers (account-device
 * links) that signed in within OAUTH_AUTHZ_LOGIN_MAX_AGE and are
 * active skip the password, unless prompt=login; a login_hint allows
 * only that account.  prompt=none never shows a page: it answers
 * login_required, account_selection_required or consent_required to
 * the client.  Consent is skipped when the account already granted the
 * client every requested scope and prompt is not consent.
 *
 * Sign-ins spend the same login-limit buckets as createSession
 * (auth.h), in oauth_authz_sign_in(), the one place every password of
 * the pages is checked; past the limit the form comes back with 429.
 *
 * A browser is a device row with two cookies, dev-id=dev-<32 hex> and
 * ses-id=ses-<32 hex> (HttpOnly, SameSite=Lax, Max-Age 10 years, Secure
 * when the issuer is https), and a csrf-token=<24 hex> cookie that every
 * POST must repeat in its csrf_token field (double submit, compared in
 * constant time).  Passwords are wiped after use and never logged.
 *
 * Errors of a request whose client and redirect_uri are known go back
 * to the client per response_mode; others get an HTML error page.
 * Every page carries Cache-Control: no-store, the pages' CSP,
 * X-Frame-Options: DENY and Referrer-Policy: no-referrer.
 *
 * oauth_authorize.c has the pages and oauth_authorize_finish();
 * oauth_web.c the helpers below that the account page (oauth_account.h)
 * shares.
 */
#ifndef PDSD_OAUTH_AUTHORIZE_H
#define PDSD_OAUTH_AUTHORIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "http.h"
#include "oauth_scope.h"
#include "store_account.h"
#include "store_oauth.h"

#define OAUTH_AUTHZ_PATH		"/oauth/authorize"
#define OAUTH_AUTHZ_SIGNIN_PATH		"/oauth/authorize/sign-in"
#define OAUTH_AUTHZ_CONSENT_PATH	"/oauth/authorize/consent"
#define OAUTH_AUTHZ_SWITCH_PATH		"/oauth/authorize/switch"
#define OAUTH_AUTHZ_REQUEST_URI_PREFIX	"urn:ietf:params:oauth:request_uri:"

/* Lifetimes, seconds. */
#define OAUTH_AUTHZ_INACTIVITY	300		/* a visit extends a request */
#define OAUTH_AUTHZ_LOGIN_MAX_AGE (7 * 86400)	/* a remembered sign-in */
#define OAUTH_AUTHZ_COOKIE_AGE	(10 * 365 * 86400)

/* Identifier shapes: prefix plus this many lowercase hex digits. */
#define OAUTH_AUTHZ_ID_HEX	32		/* req-, dev-, ses- */
#define OAUTH_AUTHZ_CODE_HEX	64		/* cod- */
#define OAUTH_AUTHZ_CSRF_HEX	24		/* csrf-token, no prefix */
#define OAUTH_AUTHZ_ID_MAX	72		/* room for any of them */

#define OAUTH_AUTHZ_FORM_MAX	(16 * 1024)	/* a POSTed form */
#define OAUTH_AUTHZ_FRESH_MAX	16		/* remembered accounts used */
#define OAUTH_AUTHZ_FIELD_MAX	1024		/* one form field */

/* ---- pure helpers (no HTTP, no storage) ---- */

/*
 * The value of cookie name in a Cookie header ("a=1; b=2") into
 * out[cap].  PDS_ENOTFOUND when absent (or header is NULL),
 * PDS_ETOOBIG when it does not fit.
 */
int	oauth_authz_cookie(const char *header, const char *name, char *out,
	    size_t cap);

/* Whether s is prefix followed by exactly nhex lowercase hex digits. */
bool	oauth_authz_id_ok(const char *s, const char *prefix, size_t nhex);

/* prefix plus nhex random lowercase hex digits into out[cap]. */
int	oauth_authz_random_id(const char *prefix, size_t nhex, char *out,
	    size_t cap);

/*
 * Whether the csrf_token form field matches the csrf-token cookie: both
 * present, both OAUTH_AUTHZ_CSRF_HEX hex digits, equal (compared in
 * constant time).
 */
bool	oauth_authz_csrf_ok(const char *cookie, const char *field);

/*
 * A Set-Cookie value into b: name=value; Path=/; Max-Age; SameSite=Lax,
 * and HttpOnly and Secure when asked.  max_age 0 deletes the cookie.
 */
int	oauth_authz_cookie_format(struct buf *b, const char *name,
	    const char *value, int64_t max_age, bool http_only, bool secure);

/*
 * The field key of a form body (application/x-www-form-urlencoded),
 * decoded, into out[cap].  PDS_ENOTFOUND when absent, PDS_EINVAL for a
 * bad escape, a NUL byte or a key given twice, PDS_ETOOBIG when it does
 * not fit.
 */
int	oauth_authz_form(const uint8_t *body, size_t len, const char *key,
	    char *out, size_t cap);

/* The request id (req-<32 hex>) of a request_uri.  PDS_EINVAL if none. */
int	oauth_authz_request_id(const char *request_uri, char *id,
	    size_t cap);

enum oauth_authz_mode {
	OAUTH_AUTHZ_QUERY,
	OAUTH_AUTHZ_FRAGMENT,
	OAUTH_AUTHZ_FORM_POST,
};

/* "query" (and NULL), "fragment", "form_post"; PDS_EINVAL otherwise. */
int	oauth_authz_mode_parse(const char *s, enum oauth_authz_mode *out);

/* What goes back to the client; all borrowed. */
struct oauth_authz_result {
	const char	*code;		/* on success, else NULL */
	const char	*error;		/* on failure, else NULL */
	const char	*error_description; /* or NULL */
	const char	*state;		/* NULL when the client sent none */
	const char	*iss;		/* required */
};

/*
 * Build the answer for redirect_uri into b: for query and fragment the
 * Location URL (state, iss, then code or error and error_description,
 * each percent-encoded: only unreserved characters stay), joined with
 * '&' when the URI already has a query; for form_post the
 * auto-submitting HTML page (server_name shown on it).  PDS_EINVAL for
 * a redirect_uri with a fragment, or a result with neither or both of
 * code and error, or without iss.
 */
int	oauth_authz_redirect_build(struct buf *b, const char *redirect_uri,
	    enum oauth_authz_mode mode, const struct oauth_authz_result *res,
	    const char *server_name);

/* ---- settings, the browser, replies (the account page's too) ---- */

struct config;

/*
 * Take the issuer, the server's name and the cookies' Secure flag from
 * cfg (which must outlive the server): the module's init calls it.
 */
void	oauth_authz_configure(const struct config *cfg);

/* Whether a permission is broad enough for a strong warning. */
bool	oauth_authz_perm_warn(const struct scope_perm *);

struct oauth_authz_browser {
	char	device_id[OAUTH_AUTHZ_ID_MAX];
	char	session_id[OAUTH_AUTHZ_ID_MAX];
	char	csrf[OAUTH_AUTHZ_ID_MAX];
};

/*
 * Find this browser's device from its cookies, or make a new one (and
 * the Set-Cookie headers for it), and give it a CSRF token if it has
 * none.  Nothing is stored: see oauth_authz_browser_save().
 */
int	oauth_authz_browser_begin(struct http_req *,
	    struct oauth_authz_browser *);
/*
 * Store the device with its user agent, address and time: only once the
 * browser has a valid request or has signed in, so that requests from
 * anyone else leave no row behind.
 */
int	oauth_authz_browser_save(struct http_req *,
	    const struct oauth_authz_browser *);

/* Whether the POSTed form carries this browser's CSRF token. */
bool	oauth_authz_browser_csrf(const struct oauth_authz_browser *,
	    const uint8_t *body, size_t len);
/*
 * The start of every page handler: the method (GET or HEAD; POST with
 * post), this browser (oauth_authz_browser_begin()), and for a POST the
 * form's CSRF token.  false when the reply is set (405, 403 or retry).
 */
bool	oauth_authz_page_begin(struct http_req *,
	    struct oauth_authz_browser *, bool post);

/*
 * The accounts remembered on device_id that signed in within
 * OAUTH_AUTHZ_LOGIN_MAX_AGE of now and are active, most recent first:
 * up to max DIDs into dids[]; returns how many (which may exceed max)
 * or a negative PDS_E* code.
 */
int	oauth_authz_fresh_accounts(const char *device_id, int64_t now,
	    char dids[][SA_DID_MAX + 1], size_t max);

/*
 * Check a password sign-in: the account by handle, email or DID, its
 * main password (app passwords are refused), and that it is active.
 * PDS_OK fills *out; PDS_ECRYPTO for a wrong identifier or password;
 * PDS_EINVAL for a refusal; PDS_ERATELIMIT when the login limits
 * (auth.h, shared with createSession; addr is http_req_client()) are
 * spent; each with *why in words for the page.
 */
int	oauth_authz_sign_in(const char *identifier, const char *password,
	    const char *addr, struct store_account *out, const char **why);
/*
 * The sign-in form (req's body) of both page sets: oauth_authz_sign_in()
 * with its identifier (copied to ident, OAUTH_AUTHZ_FIELD_MAX bytes, for
 * the page to show again) and password, then, when the account asks for
 * it, the emailed code (auth_factor_page(): PDS_EAUTHREQ to ask for it,
 * PDS_EBADTOKEN for a wrong one).
 */
int	oauth_authz_form_sign_in(struct http_req *, char *ident,
	    struct store_account *out, const char **why);
/*
 * Whether a refused sign-in (oauth_authz_form_sign_in()'s rc) shows its
 * form again, and then with what status (401 for a wrong password or
 * code, 403, 429) and whether with the code field; if not, the caller
 * answers that the server failed.
 */
bool	oauth_authz_signin_again(int rc, unsigned *status, bool *code);

/* The server's name as the pages show it. */
const char *oauth_authz_server_name(void);
/* The issuer: the public URL with no trailing slash. */
const char *oauth_authz_issuer(void);

/*
 * Cache-Control: no-store, Pragma: no-cache, X-Frame-Options: DENY,
 * Referrer-Policy: no-referrer, X-Content-Type-Options: nosniff.
 */
void	oauth_authz_page_headers(struct http_req *);
/*
 * Reply with the HTML page in b (consumed): status, the page headers,
 * and a CSP whose form-action allows redirect_uris[0..n).
 */
void	oauth_authz_reply_html(struct http_req *, unsigned status,
	    struct buf *b, const char *const *redirect_uris, size_t n);
/* Reply with the HTML error page. */
void	oauth_authz_reply_error(struct http_req *, unsigned status,
	    const char *title, const char *message);
/* The error page for a failure of ours the user can only retry (500). */
void	oauth_authz_reply_retry(struct http_req *);

/* ---- finishing a request ---- */

/*
 * Finish request r, whose stored parameters are params, and answer the
 * browser.  The decision is oauth_as_grant() (with did, no error) or
 * oauth_as_deny() (with error: access_denied, login_required, ...);
 * this sends its outcome to the client per the request's
 * response_mode: a 303 to the URL (query, fragment) or the form_post
 * page.  On PDS_OK the reply is set; otherwise nothing was sent and the
 * caller answers.
 */
int	oauth_authorize_finish(struct http_req *,
	    const struct store_oauth_request *r, json_t *params,
	    const char *did, const char *error, const char *error_description);

#endif
