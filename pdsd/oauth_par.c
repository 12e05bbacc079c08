/*
 * oauth_par: POST /oauth/par, pushed authorization requests.  See
 * oauth_as.h.
 *
 * Order: the parameters, the client (invalid_client_metadata), the DPoP
 * proof (optional here, as in the reference: a client that sends none
 * binds its key at the token endpoint), the client's assertion, then
 * the authorization parameters, whose checked and normalised form is
 * stored with the request for the authorization page and the token
 * endpoint.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "jwk.h"
#include "oauth_as.h"
#include "oauth_as_int.h"
#include "oauth_client.h"
#include "oauth_include.h"
#include "oauth_scope.h"
#include "pkce.h"
#include "store_oauth.h"
#include "syntax.h"

/* The description of the last include: failure (one PAR per thread). */
static __thread char include_err[OAUTH_INCLUDE_ERR_MAX];

/* Whether the space-separated list has tok. */
static bool
list_has(const char *list, const char *tok)
{
	size_t	 n = strlen(tok);
	const char *p = list;

	while ((p = strstr(p, tok)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' ||
		    p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

int
as_scope_normalise(const char *scope, const char *allowed, struct buf *out,
    const char **err, const char **why)
{
	struct scope_set *s;
	struct buf	 one;
	size_t		 i;
	int		 rc;

	*err = "invalid_scope";
	if (list_has(scope, "openid"))
		return pds_fail(why, PDS_EINVAL,
		    "OpenID Connect is not supported");
	if ((s = scope_set_new()) == NULL)
		return pds_fail(why, PDS_ENOMEM, "Out of memory");
	rc = scope_set_parse(s, scope, strlen(scope), why);
	if (rc != PDS_OK) {
		scope_set_free(s);
		*err = "invalid_request";
		return pds_fail(why, rc, "Invalid scope");
	}
	buf_init(&one, SCOPE_STR_MAX + 1);
	for (i = 0; allowed != NULL && i < s->n && rc == PDS_OK; i++) {
		buf_reset(&one);
		if ((rc = scope_perm_format(&s->p[i], &one)) != PDS_OK ||
		    (rc = buf_putc(&one, '\0')) != PDS_OK)
			break;
		if (!list_has(allowed, (const char *)one.p))
			rc = pds_fail(why, PDS_EINVAL,
			    "A requested scope is not declared in the "
			    "client metadata");
	}
	buf_clear(&one);
	if (rc == PDS_OK && !scope_set_has(s, SCOPE_ATPROTO))
		rc = pds_fail(why, PDS_EINVAL,
		    "The \"atproto\" scope is required");
	if (rc == PDS_OK && ((rc = scope_set_format(s, out)) != PDS_OK ||
	    (rc = buf_putc(out, '\0')) != PDS_OK))
		*why = "Out of memory";
	scope_set_free(s);
	return rc;
}

/*
 * The client's own scope, normalised, into out.
 */
static int
client_scope(const struct oauth_client *c, struct buf *out)
{
	struct scope_set *s;
	const char	*scope = c->scope != NULL ? c->scope : "atproto";
	int		 rc;

	if ((s = scope_set_new()) == NULL)
		return PDS_ENOMEM;
	rc = scope_set_parse(s, scope, strlen(scope), NULL);
	if (rc == PDS_OK)
		rc = scope_set_format(s, out);
	if (rc == PDS_OK)
		rc = buf_putc(out, '\0');
	scope_set_free(s);
	return rc;
}

/*
 * Check the authorization parameters of a PAR and build the stored
 * parameters into *stored.  On failure: the OAuth error, its status and
 * description.
 */
static int
par_params(struct as_ctx *x, json_t **stored, const char **err,
    unsigned *status, const char **why)
{
	static const char *const refused[] = { "nonce", "claims",
	    "id_token_hint", "authorization_details", "request",
	    "request_uri" };
	static const char *const copied[] = { "state", "ui_locales",
	    "display", "code_challenge", "code_challenge_method" };
	const char	*rt, *ru, *redirect, *scope, *cc, *ccm, *mode, *prompt;
	const char	*hint, *jkt, *allowed;
	struct buf	 cs, ns;
	char		 lower[256];
	json_t		*o;
	size_t		 i;
	int		 rc;

	*err = "invalid_request";
	*status = 400;
	*stored = NULL;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (as_param(x, refused[i]) != NULL)
			return pds_fail(why, PDS_EINVAL, strcmp(refused[i],
			    "nonce") == 0 ? "Unsupported \"nonce\" parameter" :
			    "Unsupported parameter");
	jkt = as_param(x, "dpop_jkt");
	if (jkt != NULL && x->has_proof && strcmp(jkt, x->jkt) != 0) {
		*err = "invalid_token";
		*status = 401;
		return pds_fail(why, PDS_EINVAL, "Invalid DPoP key binding");
	}
	if (jkt == NULL && x->has_proof)
		jkt = x->jkt;
	if (jkt != NULL && strlen(jkt) != JWK_THUMB_LEN)
		return pds_fail(why, PDS_EINVAL, "Invalid dpop_jkt");

	ru = as_param(x, "redirect_uri");
	if ((redirect = oauth_client_redirect(&x->client, ru)) == NULL)
		return pds_fail(why, PDS_EINVAL, ru == NULL ?
		    "redirect_uri is required" : "Invalid redirect_uri");

	if ((scope = as_param(x, "scope")) == NULL)
		scope = "";
	buf_init(&cs, SCOPE_STR_MAX + 1);
	buf_init(&ns, SCOPE_STR_MAX + 1);
	if ((rc = client_scope(&x->client, &cs)) != PDS_OK) {
		buf_clear(&cs);
		buf_clear(&ns);
		*err = "invalid_client_metadata";
		return pds_fail(why, rc, "Invalid client scope");
	}
	allowed = (const char *)cs.p;
	rc = as_scope_normalise(scope, allowed, &ns, err, why);
	buf_clear(&cs);
	/* Every include: must name a permission set that resolves. */
	if (rc == PDS_OK && (rc = oauth_include_check((const char *)ns.p,
	    include_err, sizeof(include_err))) != PDS_OK)
		*why = include_err;
	if (rc != PDS_OK) {
		buf_clear(&ns);
		return rc;
	}
	*err = "invalid_request";

	cc = as_param(x, "code_challenge");
	ccm = as_param(x, "code_challenge_method");
	rc = PDS_EINVAL;
	if (cc == NULL)
		*why = "Use of PKCE is required";
	else if (ccm == NULL || strcmp(ccm, "S256") != 0)
		*why = "atproto requires use of \"S256\" "
		    "code_challenge_method";
	else if (!pkce_challenge_valid(cc, strlen(cc)))
		*why = "Invalid code_challenge";
	else if ((rt = as_param(x, "response_type")) == NULL)
		*why = "Missing response_type";
	else if (strcmp(rt, "code") != 0) {
		*err = "unsupported_response_type";
		*why = "Unsupported response_type";
	} else
		rc = PDS_OK;
	if (rc != PDS_OK) {
		buf_clear(&ns);
		return rc;
	}

	mode = as_param(x, "response_mode");
	if (mode != NULL && strcmp(mode, "query") != 0 &&
	    strcmp(mode, "fragment") != 0 && strcmp(mode, "form_post") != 0) {
		buf_clear(&ns);
		return pds_fail(why, PDS_EINVAL, "Invalid response_mode");
	}
	prompt = as_param(x, "prompt");
	if (prompt != NULL && strcmp(prompt, "none") != 0 &&
	    strcmp(prompt, "login") != 0 && strcmp(prompt, "consent") != 0 &&
	    strcmp(prompt, "select_account") != 0 &&
	    strcmp(prompt, "create") != 0) {
		buf_clear(&ns);
		return pds_fail(why, PDS_EINVAL, "Invalid prompt");
	}
	/* Public clients (there is no trusted list) always ask consent. */
	if (!x->confidential) {
		if (prompt != NULL && strcmp(prompt, "none") == 0) {
			buf_clear(&ns);
			return pds_fail(why, PDS_EINVAL, "Public clients are "
			    "not allowed to use silent-sign-on");
		}
		if (prompt == NULL || strcmp(prompt, "create") != 0)
			prompt = "consent";
	}
	hint = as_param(x, "login_hint");
	if (hint != NULL) {
		for (i = 0; hint[i] != '\0' && i < sizeof(lower) - 1; i++)
			lower[i] = (char)tolower((unsigned char)hint[i]);
		lower[i] = '\0';
		if (hint[i] != '\0' || (!syntax_is_handle(lower, i) &&
		    !syntax_is_did(hint, strlen(hint)))) {
			buf_clear(&ns);
			return pds_fail(why, PDS_EINVAL, "Invalid login_hint");
		}
		hint = syntax_is_did(hint, strlen(hint)) ? hint : lower;
	}

	o = json_object();
	json_object_set_new(o, "client_id", json_string(x->client.client_id));
	json_object_set_new(o, "response_type", json_string("code"));
	json_object_set_new(o, "redirect_uri", json_string(redirect));
	json_object_set_new(o, "redirect_uri_sent", json_boolean(ru != NULL));
	json_object_set_new(o, "scope", json_string((const char *)ns.p));
	buf_clear(&ns);
	for (i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
		if (as_param(x, copied[i]) != NULL)
			json_object_set_new(o, copied[i],
			    json_string(as_param(x, copied[i])));
	json_object_set_new(o, "response_mode", json_string(mode != NULL ?
	    mode : "query"));
	if (prompt != NULL)
		json_object_set_new(o, "prompt", json_string(prompt));
	if (hint != NULL)
		json_object_set_new(o, "login_hint", json_string(hint));
	if (jkt != NULL)
		json_object_set_new(o, "dpop_jkt", json_string(jkt));
	*stored = o;
	return PDS_OK;
}

void
as_par(struct http_req *req, const void *arg)
{
	struct as_ctx	 x;
	struct store_oauth_request r;
	json_t		*stored = NULL;
	const char	*err, *why = NULL;
	char		 id[64], uri[128];
	unsigned	 status;
	int		 rc;

	(void)arg;
	if (!as_ctx_begin(&x, req, "/oauth/par"))
		goto out;
	/* The client first, then the proof, then the client's assertion. */
	if (!as_ctx_client_load(&x) || !as_ctx_dpop(&x, false) ||
	    !as_ctx_client_auth(&x))
		goto out;
	if (par_params(&x, &stored, &err, &status, &why) != PDS_OK) {
		as_fail(&x, status, err, why);
		goto out;
	}
	memset(&r, 0, sizeof(r));
	as_random_id("req-", AS_ID_SHORT, id, sizeof(id));
	r.id = id;
	r.client_id = x.client.client_id;
	r.client_auth = as_client_auth_json(&x);
	r.params = json_dumps(stored, JSON_COMPACT);
	r.expires_at = (int64_t)x.now + OAUTH_PAR_TTL;
	rc = r.client_auth != NULL && r.params != NULL ?
	    store_oauth_request_create(&r) : PDS_ENOMEM;
	free(r.client_auth);
	free(r.params);
	if (rc != PDS_OK) {
		as_fail(&x, 500, "server_error", "Could not store the request");
		goto out;
	}
	snprintf(uri, sizeof(uri), OAUTH_REQUEST_URI_PREFIX "%s", id);
	as_reply(&x, 201, json_pack("{s:s, s:i}", "request_uri", uri,
	    "expires_in", OAUTH_PAR_TTL));
out:
	json_decref(stored);
	as_ctx_end(&x);
}
