/*
 * oauth_token: POST /oauth/token, the authorization_code and
 * refresh_token grants.  See oauth_as.h.
 *
 * Order: the parameters, the client (invalid_client_metadata), the DPoP
 * proof (required), the client's assertion, then the grant.  A code is
 * consumed before anything else is checked, so it is spent whatever the
 * outcome; a code presented again finds the session it made, which is
 * ended.  A refresh token presented after its rotation ends its session,
 * and so does any failed check after a refresh token was found.
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
#include "jwt.h"
#include "log.h"
#include "oauth_as.h"
#include "oauth_as_int.h"
#include "oauth_client.h"
#include "oauth_include.h"
#include "oauth_scope.h"
#include "oauth_replay.h"
#include "pkce.h"
#include "store_oauth.h"

#define CODE_LEN	68	/* cod-<64 hex> */
#define REFRESH_LEN	68	/* ref-<64 hex> */

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * The expiry of a new access token and the time after which the session
 * can no longer be refreshed, for a session that began at created.
 */
static void
lifetimes(bool confidential, bool refresh, int64_t created, int64_t now,
    int64_t *access_exp, int64_t *session_exp)
{
	int64_t	 end = created + (confidential ? OAUTH_CONF_SESSION :
	    OAUTH_PUBLIC_SESSION);

	*access_exp = min64(now + OAUTH_ACCESS_TTL, end);
	*session_exp = refresh ? min64(end, now + (confidential ?
	    OAUTH_CONF_REFRESH : OAUTH_PUBLIC_REFRESH)) : *access_exp;
}

/* Answer the token response for family f. */
static void
token_reply(struct as_ctx *x, const struct store_oauth_family *f)
{
	struct buf	 at;
	const uint8_t	*secret;
	json_t		*claims, *body;
	size_t		 slen;
	int		 rc;

	claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:{s:s}, s:s}",
	    "iss", as_issuer(), "aud", as_service_did(), "sub", f->did,
	    "iat", (json_int_t)x->now, "exp", (json_int_t)f->expires_at,
	    "jti", f->token_id, "cnf", "jkt", x->jkt,
	    "client_id", f->client_id);
	buf_init(&at, JWT_MAX_LEN);
	secret = as_jwt_secret(&slen);
	rc = claims != NULL ? jwt_sign_hs256(&at, "at+jwt", claims, secret,
	    slen) : PDS_ENOMEM;
	json_decref(claims);
	if (rc != PDS_OK || (rc = buf_putc(&at, '\0')) != PDS_OK) {
		buf_clear(&at);
		as_fail(x, 500, "server_error", "Could not sign the token");
		return;
	}
	body = json_pack("{s:s, s:s}", "access_token", (const char *)at.p,
	    "token_type", "DPoP");
	sodium_memzero(at.p, at.len);
	buf_clear(&at);
	if (f->refresh_token != NULL)
		json_object_set_new(body, "refresh_token",
		    json_string(f->refresh_token));
	json_object_set_new(body, "scope", json_string(f->scope));
	json_object_set_new(body, "expires_in",
	    json_integer(f->expires_at - (int64_t)x->now));
	json_object_set_new(body, "sub", json_string(f->did));
	as_reply(x, 200, body);
}

/* A code came back after its exchange: end the session it made. */
static void
code_replayed(const char *code)
{
	struct store_oauth_family f;

	if (store_oauth_family_by_code(code, &f) != PDS_OK)
		return;
	log_info("oauth: code replayed; ending the session of %s", f.did);
	(void)store_oauth_family_delete(f.id);
	if (f.device_id != NULL)
		(void)store_oauth_account_device_delete(f.device_id, f.did);
	store_oauth_family_clear(&f);
}

/*
 * Check a consumed request against the token request; NULL when it
 * passes, else the invalid_grant description (or *err another error).
 */
static const char *
code_check(struct as_ctx *x, const struct store_oauth_request *r,
    const json_t *params, const char **err)
{
	const char	*jkt, *stored, *given, *verifier, *challenge, *why;
	int		 rc;

	*err = "invalid_grant";
	if (r->did == NULL || r->expires_at < (int64_t)x->now)
		return "Invalid code";
	if (strcmp(r->client_id, x->client.client_id) != 0)
		return "The code was not issued to this client";
	if (!as_client_auth_same(x, r->client_auth))
		return "The session was initiated with a different key";
	jkt = json_string_value(json_object_get(params, "dpop_jkt"));
	if (jkt != NULL && strcmp(jkt, x->jkt) != 0)
		return "DPoP proof does not match the expected JKT";
	stored = json_string_value(json_object_get(params, "redirect_uri"));
	given = as_param(x, "redirect_uri");
	if ((given != NULL || json_is_true(json_object_get(params,
	    "redirect_uri_sent"))) && (given == NULL || stored == NULL ||
	    strcmp(given, stored) != 0))
		return "The redirect_uri parameter must match the one used "
		    "in the authorization request";
	if ((verifier = as_param(x, "code_verifier")) == NULL) {
		*err = "invalid_request";
		return "code_verifier is required";
	}
	if (strlen(verifier) < PKCE_VERIFIER_MIN)
		return "code_verifier too short";
	challenge = json_string_value(json_object_get(params,
	    "code_challenge"));
	if (challenge == NULL || pkce_verify_s256(verifier, strlen(verifier),
	    challenge, strlen(challenge), &why) != PDS_OK)
		return "Invalid code_verifier";
	rc = oauth_replay_check_and_add(STORE_OAUTH_NS_CHALLENGE,
	    challenge, (int64_t)x->now + OAUTH_CHALLENGE_TTL);
	if (rc == PDS_EEXIST)
		return "Code challenge already used";
	if (rc != PDS_OK) {
		*err = "server_error";
		return "Could not record the code challenge";
	}
	return NULL;
}

/* Whether did may get OAuth tokens: only an active account may. */
static bool
account_ok(const char *did)
{
	struct store_account a;

	return account_get(did, &a) == PDS_OK && a.status == ACCT_ACTIVE;
}

static void
grant_code(struct as_ctx *x)
{
	struct store_oauth_request r;
	struct store_oauth_family f;
	json_t		*params = NULL;
	struct buf	 ts;
	const char	*code, *err, *why;
	char		 tok[48], ref[80], ierr[OAUTH_INCLUDE_ERR_MAX];
	int		 rc;

	buf_init(&ts, SCOPE_STR_MAX + 1);
	if ((code = as_param(x, "code")) == NULL) {
		as_fail(x, 400, "invalid_request", "Missing code");
		return;
	}
	if (strlen(code) != CODE_LEN || strncmp(code, "cod-", 4) != 0) {
		as_fail(x, 400, "invalid_grant", "Invalid code");
		return;
	}
	if ((rc = store_oauth_request_consume(code, &r)) == PDS_ENOTFOUND) {
		code_replayed(code);
		as_fail(x, 400, "invalid_grant", "Invalid code");
		return;
	}
	if (rc != PDS_OK) {
		as_fail(x, 500, "server_error", "Could not read the code");
		return;
	}
	if ((params = json_loads(r.params, 0, NULL)) == NULL) {
		as_fail(x, 500, "server_error", "Unreadable request");
		goto out;
	}
	if ((why = code_check(x, &r, params, &err)) != NULL) {
		as_fail(x, strcmp(err, "server_error") == 0 ? 500 : 400, err,
		    why);
		goto out;
	}
	if (!account_ok(r.did)) {
		as_fail(x, 400, "invalid_grant", "Account is not active");
		goto out;
	}
	memset(&f, 0, sizeof(f));
	as_random_id("tok-", 16, tok, sizeof(tok));
	as_random_id("ref-", 32, ref, sizeof(ref));
	f.token_id = tok;
	f.did = r.did;
	f.client_id = r.client_id;
	f.client_auth = as_client_auth_json(x);
	f.device_id = r.device_id;
	f.params = r.params;
	f.code = r.code;
	f.refresh_token = x->client.refresh ? ref : NULL;
	f.scope = (char *)json_string_value(json_object_get(params, "scope"));
	/* The token carries the permissions of its include: sets. */
	if (f.scope != NULL && oauth_include_present(f.scope)) {
		if (oauth_include_token_scope(f.scope, &ts, ierr,
		    sizeof(ierr)) != PDS_OK) {
			as_fail(x, 400, "invalid_request", ierr);
			free(f.client_auth);
			goto out;
		}
		f.scope = (char *)ts.p;
	}
	f.dpop_jkt = x->jkt;
	f.created_at = f.updated_at = (int64_t)x->now;
	lifetimes(x->confidential, f.refresh_token != NULL, f.created_at,
	    f.created_at, &f.expires_at, &f.session_expires_at);
	rc = f.client_auth != NULL && f.scope != NULL ?
	    store_oauth_family_create(&f) : PDS_ENOMEM;
	if (rc != PDS_OK)
		as_fail(x, 500, "server_error", "Could not store the session");
	else
		token_reply(x, &f);
	free(f.client_auth);
out:
	buf_clear(&ts);
	json_decref(params);
	store_oauth_request_clear(&r);
}

/* Why the session f may not be refreshed by x now, or NULL. */
static const char *
refresh_check(const struct as_ctx *x, const struct store_oauth_family *f,
    bool confidential)
{
	int64_t	 now = (int64_t)x->now;

	if (strcmp(f->client_id, x->client.client_id) != 0)
		return "The refresh token was not issued to this client";
	if (!as_client_auth_same(x, f->client_auth))
		return "The session was initiated with a different key";
	if (f->dpop_jkt != NULL && strcmp(f->dpop_jkt, x->jkt) != 0)
		return "DPoP proof does not match the expected JKT";
	if (now - f->created_at > (confidential ? OAUTH_CONF_SESSION :
	    OAUTH_PUBLIC_SESSION))
		return "Session expired";
	if (now - f->updated_at > (confidential ? OAUTH_CONF_REFRESH :
	    OAUTH_PUBLIC_REFRESH))
		return "Refresh token expired";
	return NULL;
}

/*
 * Recompute the token scope of a session whose request named include:
 * sets (their permissions may have changed) into f->scope and the
 * store.  As in the reference, a failure here is the server's.
 */
static int
refresh_scope(struct as_ctx *x, struct store_oauth_family *f)
{
	json_t		*params;
	const char	*scope;
	struct buf	 ts;
	char		 ierr[OAUTH_INCLUDE_ERR_MAX] = "", *dup;
	int		 rc = PDS_OK;

	if ((params = json_loads(f->params, 0, NULL)) == NULL) {
		as_fail(x, 500, "server_error", "Unreadable session");
		return PDS_EINVAL;
	}
	scope = json_string_value(json_object_get(params, "scope"));
	if (scope == NULL || !oauth_include_present(scope)) {
		json_decref(params);
		return PDS_OK;
	}
	buf_init(&ts, SCOPE_STR_MAX + 1);
	rc = oauth_include_token_scope(scope, &ts, ierr, sizeof(ierr));
	json_decref(params);
	if (rc == PDS_OK && strcmp((const char *)ts.p, f->scope) != 0) {
		if ((dup = strdup((const char *)ts.p)) == NULL)
			rc = PDS_ENOMEM;
		else {
			free(f->scope);
			f->scope = dup;
			rc = store_oauth_family_set_scope(f->id, f->scope);
		}
	}
	buf_clear(&ts);
	if (rc != PDS_OK)
		as_fail(x, 500, "server_error", ierr[0] != '\0' ? ierr :
		    "Could not compute the session's scope");
	return rc;
}

static void
grant_refresh(struct as_ctx *x)
{
	struct store_oauth_family f;
	const char	*rt, *why;
	char		 tok[48], ref[80], *old_tok, *old_ref;
	bool		 used, conf;
	int		 rc;

	if ((rt = as_param(x, "refresh_token")) == NULL) {
		as_fail(x, 400, "invalid_request", "Missing refresh_token");
		return;
	}
	if (strlen(rt) != REFRESH_LEN || strncmp(rt, "ref-", 4) != 0 ||
	    (rc = store_oauth_family_by_refresh(rt, &f, &used)) ==
	    PDS_ENOTFOUND) {
		as_fail(x, 400, "invalid_grant", "Invalid refresh token");
		return;
	}
	if (rc != PDS_OK) {
		as_fail(x, 500, "server_error", "Could not read the session");
		return;
	}
	conf = as_client_auth_confidential(f.client_auth) || x->confidential;
	if (used)
		why = "Refresh token replayed";
	else if ((why = refresh_check(x, &f, conf)) == NULL &&
	    !account_ok(f.did))
		why = "Account is not active";
	if (why != NULL) {
		/* Whatever went wrong, the session ends here. */
		(void)store_oauth_family_delete(f.id);
		as_fail(x, 400, "invalid_grant", why);
		store_oauth_family_clear(&f);
		return;
	}
	if (refresh_scope(x, &f) != PDS_OK) {
		store_oauth_family_clear(&f);
		return;
	}
	as_random_id("tok-", 16, tok, sizeof(tok));
	as_random_id("ref-", 32, ref, sizeof(ref));
	lifetimes(conf, true, f.created_at, (int64_t)x->now, &f.expires_at,
	    &f.session_expires_at);
	f.updated_at = (int64_t)x->now;
	rc = store_oauth_family_rotate(f.id, rt, tok, ref, f.updated_at,
	    f.expires_at, f.session_expires_at);
	if (rc == PDS_ENOTFOUND)
		/* Another refresh with this token won the race. */
		as_fail(x, 400, "invalid_grant", "Invalid refresh token");
	else if (rc != PDS_OK)
		as_fail(x, 500, "server_error", "Could not rotate the session");
	else {
		old_tok = f.token_id;
		old_ref = f.refresh_token;
		f.token_id = tok;
		f.refresh_token = ref;
		token_reply(x, &f);
		f.token_id = old_tok;
		f.refresh_token = old_ref;
	}
	store_oauth_family_clear(&f);
}

void
as_token(struct http_req *req, const void *arg)
{
	struct as_ctx	 x;
	const char	*gt;
	char		 why[160];

	(void)arg;
	if (!as_ctx_begin(&x, req, "/oauth/token") ||
	    !as_ctx_client_load(&x) || !as_ctx_dpop(&x, true) ||
	    !as_ctx_client_auth(&x))
		goto out;
	if ((gt = as_param(&x, "grant_type")) == NULL)
		as_fail(&x, 400, "invalid_request", "Missing grant_type");
	else if (strcmp(gt, "authorization_code") == 0)
		grant_code(&x);
	else if (strcmp(gt, "refresh_token") == 0 && !x.client.refresh)
		as_fail(&x, 400, "invalid_grant", "This client is not "
		    "allowed to use the \"refresh_token\" grant type");
	else if (strcmp(gt, "refresh_token") == 0)
		grant_refresh(&x);
	else {
		snprintf(why, sizeof(why), "Grant type \"%.64s\" is not "
		    "supported by the server", gt);
		as_fail(&x, 400, "invalid_grant", why);
	}
out:
	as_ctx_end(&x);
}
