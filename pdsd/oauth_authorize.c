/*
 * oauth_authorize: the authorization endpoint's pages and the end of a
 * request.  See oauth_authorize.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "buf.h"
#include "err.h"
#include "http.h"
#include "module.h"
#include "oauth_as.h"
#include "oauth_authorize.h"
#include "oauth_include.h"
#include "oauth_client.h"
#include "oauth_clients.h"
#include "oauth_pages.h"
#include "oauth_scope.h"
#include "offload.h"
#include "routes.h"
#include "store_account.h"
#include "store_oauth.h"

#define PAGE_MAX		(256 * 1024)	/* one rendered page */

/* ---- scopes ---- */

/* Whether the space-separated token tok[0..n) is in list. */
static bool
scope_has_token(const char *list, const char *tok, size_t n)
{
	const char	*p = list;
	size_t		 m;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " ");
		m = strcspn(p, " ");
		if (m == n && m > 0 && strncmp(p, tok, n) == 0)
			return true;
		p += m;
	}
	return false;
}

/* Whether every token of want is in have. */
static bool
scope_covers(const char *have, const char *want)
{
	const char	*p = want;
	size_t		 m;

	while (*p != '\0') {
		p += strspn(p, " ");
		if ((m = strcspn(p, " ")) > 0 && !scope_has_token(have, p, m))
			return false;
		p += m;
	}
	return true;
}

/* Whether did already granted client_id every token of scope. */
static bool
grant_covers(const char *did, const char *client_id, const char *scope)
{
	char	*old = NULL;
	bool	 ok;

	if (store_oauth_client_authorized(did, client_id, &old, NULL, NULL) !=
	    PDS_OK || old == NULL)
		return false;
	ok = scope_covers(old, scope);
	free(old);
	return ok;
}

/* ---- finishing a request ---- */

static const char *
pstr(const json_t *params, const char *key)
{
	return json_string_value(json_object_get(params, key));
}

int
oauth_authorize_finish(struct http_req *req,
    const struct store_oauth_request *r, json_t *params,
    const char *did, const char *error, const char *error_description)
{
	struct oauth_as_redirect	 out;
	struct oauth_authz_result	 res;
	enum oauth_authz_mode		 mode;
	struct buf			 b;
	const char			*uri, *why;
	uint8_t				*p;
	size_t				 len;
	int				 rc;

	if (pstr(params, "redirect_uri") == NULL ||
	    oauth_authz_mode_parse(pstr(params, "response_mode"), &mode) !=
	    PDS_OK || (error == NULL && did == NULL))
		return PDS_EINVAL;
	if (error == NULL)
		rc = oauth_as_grant(r, params, did, NULL, &out, &why);
	else
		rc = oauth_as_deny(r, params, error, error_description, &out);
	if (rc != PDS_OK)
		return rc;
	memset(&res, 0, sizeof(res));
	res.code = out.code;
	res.error = out.error;
	res.error_description = out.error_description;
	res.state = out.state;
	res.iss = out.iss;
	uri = out.redirect_uri;
	buf_init(&b, PAGE_MAX);
	if ((rc = oauth_authz_redirect_build(&b, uri, mode, &res,
	    oauth_authz_server_name())) != PDS_OK)
		goto out;
	if (mode == OAUTH_AUTHZ_FORM_POST) {
		oauth_authz_reply_html(req, 200, &b, &uri, 1);
		rc = PDS_OK;
		goto out;
	}
	oauth_authz_page_headers(req);
	if ((rc = http_reply_header(req, "Location", (char *)b.p)) != PDS_OK)
		goto out;
	http_reply_static(req, 303, "text/plain; charset=utf-8", "", 0);
out:
	if (b.p != NULL) {
		p = buf_detach(&b, &len);
		sodium_memzero(p, len);
		free(p);
	}
	if (out.code != NULL)
		sodium_memzero(out.code, strlen(out.code));
	oauth_as_redirect_clear(&out);
	return rc;
}

/* ---- one browser visit to a request ---- */

struct authz {
	struct http_req			*req;
	struct oauth_authz_browser	 br;
	struct store_oauth_request	 r;
	json_t				*params;
	struct oauth_client		 client;
	char				 uri[160];	/* request_uri */
	const char			*redirect;	/* in params */
	int64_t				 now;
};

static void
authz_end(struct authz *a)
{
	store_oauth_request_clear(&a->r);
	json_decref(a->params);
	a->params = NULL;
	oauth_client_clear(&a->client);
}

/* Send error to the client, or the error page when that fails. */
static void
authz_deny(struct authz *a, const char *error, const char *desc)
{
	if (oauth_authorize_finish(a->req, &a->r, a->params, NULL, error,
	    desc) != PDS_OK)
		oauth_authz_reply_error(a->req, 400, "Sign-in failed", desc);
}

/*
 * Load request_uri (for client_id, unless NULL) into a, bind it to this
 * browser and extend it; posted: it must be bound to this browser
 * already.  false when a reply is set.
 */
static bool
authz_load(struct authz *a, const char *uri, const char *client_id,
    bool posted)
{
	const char	*why;
	char		 id[OAUTH_AUTHZ_ID_MAX];
	int		 rc;

	if (uri == NULL || oauth_authz_request_id(uri, id, sizeof(id)) !=
	    PDS_OK || strlen(uri) >= sizeof(a->uri)) {
		oauth_authz_reply_error(a->req, 400, "Invalid sign-in link",
		    "The app sent an invalid request.  Go back to the app and "
		    "try again.");
		return false;
	}
	snprintf(a->uri, sizeof(a->uri), "%s", uri);
	if ((rc = store_oauth_request_get(id, &a->r)) != PDS_OK) {
		if (rc == PDS_ENOTFOUND)
			oauth_authz_reply_error(a->req, 400, "Sign-in link "
			    "expired", "This sign-in request is unknown or has "
			    "expired.  Go back to the app and try again.");
		else
			oauth_authz_reply_retry(a->req);
		return false;
	}
	if (client_id != NULL && strcmp(client_id, a->r.client_id) != 0) {
		oauth_authz_reply_error(a->req, 400, "Invalid sign-in link",
		    "This sign-in request belongs to another app.");
		return false;
	}
	if ((a->params = json_loads(a->r.params, 0, NULL)) == NULL ||
	    !json_is_object(a->params) ||
	    (a->redirect = pstr(a->params, "redirect_uri")) == NULL) {
		oauth_authz_reply_error(a->req, 500, "Server error",
		    "This sign-in request cannot be read.");
		return false;
	}
	if (a->r.expires_at < a->now) {
		authz_deny(a, "access_denied", "This request has expired");
		return false;
	}
	if (a->r.code != NULL) {
		authz_deny(a, "access_denied",
		    "This request was already authorized");
		return false;
	}
	if ((a->r.device_id != NULL && strcmp(a->r.device_id,
	    a->br.device_id) != 0) || (posted && a->r.device_id == NULL)) {
		authz_deny(a, "access_denied",
		    "This request was started in another browser");
		return false;
	}
	if (oauth_authz_browser_save(a->req, &a->br) != PDS_OK ||
	    store_oauth_request_update(a->r.id, NULL, a->br.device_id,
	    a->now + OAUTH_AUTHZ_INACTIVITY) != PDS_OK) {
		oauth_authz_reply_retry(a->req);
		return false;
	}
	if (oauth_clients_load(&a->client, a->r.client_id, &why) != PDS_OK) {
		oauth_authz_reply_error(a->req, 400, "The app could not be "
		    "verified", why);
		return false;
	}
	return true;
}

/* The request a's page answers, its form posting to action. */
static void
page_request(const struct authz *a, struct oauth_page_request *r,
    const char *action)
{
	memset(r, 0, sizeof(*r));
	r->server_name = oauth_authz_server_name();
	r->client.client_id = a->client.client_id;
	r->client.name = a->client.client_name;
	r->client.logo_uri = a->client.logo_uri;
	r->client.client_uri = a->client.client_uri;
	r->client.tos_uri = a->client.tos_uri;
	r->client.policy_uri = a->client.policy_uri;
	r->action = action;
	r->csrf_token = a->br.csrf;
	r->request_uri = a->uri;
}

/*
 * The sign-in page, with error (or NULL); with code, the field for the
 * emailed code of the second factor too.
 */
static void
authz_signin_page(struct authz *a, unsigned status, const char *error,
    const char *identifier, bool remember, bool code)
{
	struct oauth_signin_page	 pg;
	struct buf			 b;
	const char			*hint = pstr(a->params, "login_hint");

	memset(&pg, 0, sizeof(pg));
	page_request(a, &pg.req, OAUTH_AUTHZ_SIGNIN_PATH);
	pg.identifier = hint != NULL ? hint : identifier;
	pg.identifier_locked = hint != NULL;
	pg.remember = remember;
	pg.error = error;
	pg.code = code;
	buf_init(&b, PAGE_MAX);
	if (oauth_page_render_signin(&b, &pg) != PDS_OK) {
		buf_clear(&b);
		oauth_authz_reply_error(a->req, 500, "Server error", NULL);
		return;
	}
	oauth_authz_reply_html(a->req, status, &b, &a->redirect, 1);
}

static void
authz_consent_page(struct authz *a, const char *did)
{
	struct oauth_consent_page	 pg;
	struct oauth_page_perm		*perms = NULL;
	struct store_account		 acct;
	struct scope_set		*set = NULL;
	struct buf			 b, *texts = NULL;
	const char			*scope = pstr(a->params, "scope");
	size_t				 i, n = 0;
	int				 rc;

	buf_init(&b, PAGE_MAX);
	if (scope == NULL)
		scope = "atproto";
	if (account_get(did, &acct) != PDS_OK ||
	    (set = scope_set_new()) == NULL)
		goto fail;
	rc = scope_set_parse(set, scope, strlen(scope), NULL);
	if (rc != PDS_OK ||
	    (perms = calloc(set->n + 1, sizeof(*perms))) == NULL ||
	    (texts = calloc(2 * (set->n + 1), sizeof(*texts))) == NULL)
		goto fail;
	for (i = 0; i < set->n; i++) {
		/* A permission that cannot be shown is not granted unseen. */
		buf_init(&texts[i], SCOPE_DESCRIBE_MAX);
		buf_init(&texts[set->n + 1 + i], 4 * SCOPE_DESCRIBE_MAX);
		if (set->p[i].kind == SCOPE_INCLUDE) {
			/* A permission set: its title, then what it grants. */
			if (oauth_include_describe(&set->p[i], &texts[i],
			    &texts[set->n + 1 + i]) != PDS_OK)
				goto fail;
			perms[n].text = (const char *)texts[i].p;
			perms[n].detail =
			    (const char *)texts[set->n + 1 + i].p;
			n++;
			continue;
		}
		if (scope_perm_describe(&set->p[i], &texts[i]) != PDS_OK ||
		    texts[i].p == NULL)
			goto fail;
		perms[n].text = (const char *)texts[i].p;
		perms[n].warn = oauth_authz_perm_warn(&set->p[i]);
		if (perms[n].warn)
			perms[n].detail = "Broad access: only allow apps you "
			    "trust completely.";
		n++;
	}
	memset(&pg, 0, sizeof(pg));
	page_request(a, &pg.req, OAUTH_AUTHZ_CONSENT_PATH);
	pg.handle = acct.handle;
	pg.did = acct.did;
	pg.perms = perms;
	pg.nperms = n;
	pg.switch_action = OAUTH_AUTHZ_SWITCH_PATH;
	if (oauth_page_render_consent(&b, &pg) != PDS_OK)
		goto fail;
	oauth_authz_reply_html(a->req, 200, &b, &a->redirect, 1);
	goto out;
fail:
	buf_clear(&b);
	oauth_authz_reply_error(a->req, 500, "Server error", NULL);
out:
	if (texts != NULL)
		for (i = 0; i < 2 * (set->n + 1); i++)
			buf_clear(&texts[i]);
	free(texts);
	free(perms);
	scope_set_free(set);
}

static bool
streq(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

/*
 * Go on with a loaded request: signed_in is the account that just gave
 * its password for it, or NULL to look at what the browser remembers.
 */
static void
authz_proceed(struct authz *a, const char *signed_in)
{
	struct store_account	 h;
	char			 dids[OAUTH_AUTHZ_FRESH_MAX][SA_DID_MAX + 1];
	const char		*prompt = pstr(a->params, "prompt");
	const char		*hint = pstr(a->params, "login_hint");
	const char		*scope = pstr(a->params, "scope");
	const char		*did = signed_in;
	bool			 consent;
	int			 n, i, m = 0, first = -1;

	if (scope == NULL)
		scope = "atproto";
	if (did == NULL) {
		if (streq(prompt, "login")) {
			authz_signin_page(a, 200, NULL, NULL, false, false);
			return;
		}
		n = oauth_authz_fresh_accounts(a->br.device_id, a->now, dids,
		    OAUTH_AUTHZ_FRESH_MAX);
		if (n < 0) {
			oauth_authz_reply_error(a->req, 500, "Server error",
			    NULL);
			return;
		}
		if (hint != NULL && account_lookup(hint, &h) != PDS_OK)
			h.did[0] = '\0';
		for (i = 0; i < n && i < OAUTH_AUTHZ_FRESH_MAX; i++)
			if (hint == NULL || strcmp(dids[i], h.did) == 0) {
				if (first < 0)
					first = i;
				m++;
			}
		if (streq(prompt, "none") && m != 1) {
			authz_deny(a, m == 0 ? "login_required" :
			    "account_selection_required", m == 0 ?
			    "Sign-in required" : "Account selection required");
			return;
		}
		if (streq(prompt, "select_account") && m == 0) {
			authz_deny(a, "account_selection_required",
			    "Account selection required");
			return;
		}
		if (m == 0) {
			authz_signin_page(a, 200, NULL, NULL, false, false);
			return;
		}
		did = dids[first];
		if (store_oauth_request_set_did(a->r.id, did) != PDS_OK) {
			oauth_authz_reply_error(a->req, 500, "Server error",
			    NULL);
			return;
		}
	}
	consent = streq(prompt, "consent") ||
	    (signed_in == NULL && streq(prompt, "select_account")) ||
	    !grant_covers(did, a->r.client_id, scope);
	if (!consent) {
		if (oauth_authorize_finish(a->req, &a->r, a->params, did,
		    NULL, NULL) != PDS_OK)
			oauth_authz_reply_error(a->req, 500, "Server error",
			    NULL);
		return;
	}
	if (streq(prompt, "none")) {
		authz_deny(a, "consent_required", "Consent required");
		return;
	}
	authz_consent_page(a, did);
}

/* ---- handlers ---- */

/*
 * Every handler's start (oauth_authz_page_begin()); whatever it returns,
 * a is ready for authz_end().
 */
static bool
authz_begin(struct authz *a, struct http_req *req, bool post)
{
	memset(a, 0, sizeof(*a));
	a->req = req;
	a->now = (int64_t)time(NULL);
	return oauth_authz_page_begin(req, &a->br, post);
}

static void
serve_authorize(struct http_req *req, const void *arg)
{
	struct authz	 a;
	const char	*client_id, *uri;

	(void)arg;
	if (!authz_begin(&a, req, false))
		return;
	client_id = http_req_query(req, "client_id");
	uri = http_req_query(req, "request_uri");
	if (uri == NULL)
		oauth_authz_reply_error(req, 400, "Invalid sign-in link",
		    "This server only accepts pushed authorization requests "
		    "(request_uri).");
	else if (client_id == NULL)
		oauth_authz_reply_error(req, 400, "Invalid sign-in link",
		    "The app did not say who it is (client_id).");
	else if (authz_load(&a, uri, client_id, false))
		authz_proceed(&a, NULL);
	authz_end(&a);
}

/*
 * The common start of a POST: the method, the browser, its CSRF token
 * and the request the form names.  false when a reply is set.
 */
static bool
authz_post(struct authz *a, struct http_req *req, const uint8_t **body,
    size_t *len)
{
	char	 uri[160];

	if (!authz_begin(a, req, true))
		return false;
	*body = http_req_body(req, len);
	if (oauth_authz_form(*body, *len, "request_uri", uri, sizeof(uri)) !=
	    PDS_OK)
		uri[0] = '\0';
	return authz_load(a, uri, NULL, true);
}

static void
serve_signin(struct http_req *req, const void *arg)
{
	struct authz		 a;
	struct store_account	 acct, h;
	const uint8_t		*body;
	size_t			 len;
	const char		*why = NULL, *hint;
	char			 ident[OAUTH_AUTHZ_FIELD_MAX], rem[8];
	unsigned		 status;
	bool			 remember, code;
	int			 rc;

	(void)arg;
	if (!authz_post(&a, req, &body, &len))
		goto out;
	remember = oauth_authz_form(body, len, "remember", rem, sizeof(rem)) ==
	    PDS_OK && strcmp(rem, "1") == 0;
	rc = oauth_authz_form_sign_in(req, ident, &acct, &why);
	if (oauth_authz_signin_again(rc, &status, &code)) {
		authz_signin_page(&a, status, why, ident, remember, code);
		goto out;
	}
	if (rc != PDS_OK) {
		oauth_authz_reply_retry(req);
		goto out;
	}
	hint = pstr(a.params, "login_hint");
	if (hint != NULL && (account_lookup(hint, &h) != PDS_OK ||
	    strcmp(h.did, acct.did) != 0)) {
		authz_signin_page(&a, 403, "The app asked for another account",
		    ident, remember, false);
		goto out;
	}
	if ((remember && store_oauth_account_device_put(a.br.device_id,
	    acct.did, a.now) != PDS_OK) ||
	    store_oauth_request_set_did(a.r.id, acct.did) != PDS_OK) {
		oauth_authz_reply_retry(req);
		goto out;
	}
	authz_proceed(&a, acct.did);
out:
	authz_end(&a);
}

static void
serve_consent(struct http_req *req, const void *arg)
{
	struct authz		 a;
	struct store_account	 acct;
	const uint8_t		*body;
	size_t			 len;
	char			 decision[16];

	(void)arg;
	if (!authz_post(&a, req, &body, &len))
		goto out;
	if (oauth_authz_form(body, len, "decision", decision,
	    sizeof(decision)) != PDS_OK)
		decision[0] = '\0';
	if (strcmp(decision, "deny") == 0) {
		authz_deny(&a, "access_denied", "The user rejected the request");
		goto out;
	}
	if (strcmp(decision, "allow") != 0) {
		oauth_authz_reply_error(req, 400, "Invalid form",
		    "Choose Allow or Deny.");
		goto out;
	}
	if (a.r.did == NULL) {
		authz_signin_page(&a, 403, "Sign in first", NULL, false, false);
		goto out;
	}
	if (account_get(a.r.did, &acct) != PDS_OK ||
	    acct.status != ACCT_ACTIVE) {
		authz_signin_page(&a, 403, "This account cannot sign in to "
		    "apps now", NULL, false, false);
		goto out;
	}
	if (oauth_authorize_finish(req, &a.r, a.params, acct.did, NULL,
	    NULL) != PDS_OK)
		oauth_authz_reply_retry(req);
out:
	authz_end(&a);
}

static void
serve_switch(struct http_req *req, const void *arg)
{
	struct authz	 a;
	const uint8_t	*body;
	size_t		 len;

	(void)arg;
	if (authz_post(&a, req, &body, &len))
		authz_signin_page(&a, 200, NULL, NULL, false, false);
	authz_end(&a);
}

/* ---- the module ---- */

static int
oauth_authorize_init(const struct config *cfg)
{
	/*
	 * Every page loads the client's metadata, which may mean fetching
	 * it (net pool); the sign-in checks a password (cpu pool).
	 */
	static const struct {
		const char		*path;
		struct offload_route	 o;
		size_t			 body_max;
	} r[] = {
		{ OAUTH_AUTHZ_PATH, { OFFLOAD_NET, serve_authorize, NULL }, 0 },
		{ OAUTH_AUTHZ_SIGNIN_PATH, { OFFLOAD_CPU, serve_signin, NULL },
		    OAUTH_AUTHZ_FORM_MAX },
		{ OAUTH_AUTHZ_CONSENT_PATH,
		    { OFFLOAD_NET, serve_consent, NULL },
		    OAUTH_AUTHZ_FORM_MAX },
		{ OAUTH_AUTHZ_SWITCH_PATH, { OFFLOAD_NET, serve_switch, NULL },
		    OAUTH_AUTHZ_FORM_MAX },
	};
	size_t	 i;
	int	 rc;

	oauth_authz_configure(cfg);
	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if ((rc = routes_add(r[i].path, false, offload_route_handler,
		    &r[i].o, r[i].body_max)) != PDS_OK)
			return rc;
	return 0;
}

PDSD_MODULE(oauth_authorize, oauth_authorize_init, NULL);
