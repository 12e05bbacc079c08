/*
 * oauth_as: the OAuth authorization server's module, what its endpoints
 * share (parameters, client authentication, DPoP, replies), the
 * discovery documents and revocation.  PAR is in oauth_par.c, the token
 * endpoint in oauth_token.c, the authorization page's side in
 * oauth_consent.c.  See oauth_as.h.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "dpop.h"
#include "err.h"
#include "jobs.h"
#include "jwt.h"
#include "log.h"
#include "module.h"
#include "oauth_as.h"
#include "oauth_as_int.h"
#include "oauth_client.h"
#include "oauth_clients.h"
#include "oauth_replay.h"
#include "offload.h"
#include "routes.h"
#include "store_oauth.h"

static char		 issuer[AS_ISSUER_MAX];
static const char	*service_did = "";
static const char	*jwt_secret = "";
static uint8_t		 nonce_secret[DPOP_NONCE_SECRET_LEN];

/* The algorithms we verify, for DPoP proofs and client assertions. */
static const char *const algs[] = { "ES256", "ES256K" };
#define DPOP_ALGS	"ES256 ES256K"

const char *
oauth_as_issuer(void)
{
	return issuer;
}

const uint8_t *
oauth_as_dpop_secret(void)
{
	return nonce_secret;
}

const char *
as_issuer(void)
{
	return issuer;
}

const char *
as_service_did(void)
{
	return service_did;
}

const uint8_t *
as_jwt_secret(size_t *len)
{
	*len = strlen(jwt_secret);
	return (const uint8_t *)jwt_secret;
}

void
as_random_id(const char *prefix, size_t n, char *out, size_t cap)
{
	uint8_t	 r[AS_ID_LONG];
	size_t	 pl = strlen(prefix);

	if (n > sizeof(r) || cap < pl + 2 * n + 1) {
		out[0] = '\0';
		return;
	}
	randombytes_buf(r, n);
	memcpy(out, prefix, pl);
	sodium_bin2hex(out + pl, cap - pl, r, n);
}

/* ---- replies ---- */

static void
as_headers(struct as_ctx *x)
{
	char	 nonce[DPOP_NONCE_SIZE];

	dpop_nonce_current(nonce, nonce_secret, time(NULL));
	http_reply_header(x->req, "Cache-Control", "no-store");
	http_reply_header(x->req, "Pragma", "no-cache");
	http_reply_header(x->req, "DPoP-Nonce", nonce);
}

void
as_reply(struct as_ctx *x, unsigned status, json_t *body)
{
	as_headers(x);
	http_reply_json(x->req, status, body);
}

void
as_fail(struct as_ctx *x, unsigned status, const char *error,
    const char *desc)
{
	char	 h[512];

	if (x->quiet)
		return;
	if (status == 401) {
		/* A value holding '"' cannot be quoted: leave it out. */
		if (strchr(desc, '"') == NULL && strlen(desc) < 300)
			snprintf(h, sizeof(h), "DPoP algs=\"" DPOP_ALGS "\", "
			    "error=\"%s\", error_description=\"%s\"", error,
			    desc);
		else
			snprintf(h, sizeof(h), "DPoP algs=\"" DPOP_ALGS "\", "
			    "error=\"%s\"", error);
		http_reply_header(x->req, "WWW-Authenticate", h);
	}
	as_reply(x, status, json_pack("{s:s, s:s}", "error", error,
	    "error_description", desc));
}

/* ---- parameters ---- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A form-encoded component, decoded into a new string; NULL if bad. */
static char *
form_decode(const char *s, size_t n)
{
	char	*out, *o;
	size_t	 i;
	int	 h, l;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] != '%')
			*o++ = s[i];
		else {
			if (i + 2 >= n)
				goto bad;
			if ((h = hexval((unsigned char)s[i + 1])) < 0 ||
			    (l = hexval((unsigned char)s[i + 2])) < 0 ||
			    (h == 0 && l == 0))
				goto bad;
			*o++ = (char)(h << 4 | l);
			i += 2;
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* Parse a form body into params; why names the fault. */
static int
params_form(json_t *params, const char *p, size_t len, const char **why)
{
	const char	*e, *end = p + len, *eq;
	char		*k, *v;
	size_t		 n = 0;

	while (p < end) {
		if ((e = memchr(p, '&', (size_t)(end - p))) == NULL)
			e = end;
		if (e == p) {
			p++;
			continue;
		}
		if (++n > AS_PARAMS_MAX)
			return pds_fail(why, PDS_ETOOBIG,
			    "Too many parameters");
		eq = memchr(p, '=', (size_t)(e - p));
		k = form_decode(p, (size_t)((eq != NULL ? eq : e) - p));
		v = eq != NULL ? form_decode(eq + 1, (size_t)(e - eq - 1)) :
		    strdup("");
		if (k == NULL || v == NULL) {
			free(k);
			free(v);
			return pds_fail(why, PDS_EINVAL, "Malformed form body");
		}
		if (json_object_get(params, k) != NULL) {
			free(k);
			free(v);
			return pds_fail(why, PDS_EINVAL,
			    "A parameter is repeated");
		}
		if (json_object_set_new(params, k, json_string(v)) != 0) {
			free(k);
			free(v);
			return pds_fail(why, PDS_EINVAL,
			    "Parameters must be UTF-8");
		}
		free(k);
		free(v);
		p = e + 1;
	}
	return PDS_OK;
}

/* Parse a JSON body (an object of strings or integers) into params. */
static int
params_json(json_t *params, const char *p, size_t len, const char **why)
{
	json_t		*doc, *v;
	const char	*k;
	char		 num[32];

	if ((doc = json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(doc)) {
		json_decref(doc);
		return pds_fail(why, PDS_EINVAL, "Malformed JSON body");
	}
	if (json_object_size(doc) > AS_PARAMS_MAX) {
		json_decref(doc);
		return pds_fail(why, PDS_ETOOBIG, "Too many parameters");
	}
	json_object_foreach(doc, k, v) {
		if (json_is_null(v))
			continue;
		if (json_is_integer(v)) {	/* max_age, say */
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
			json_object_set_new(params, k, json_string(num));
			continue;
		}
		if (!json_is_string(v)) {
			json_decref(doc);
			return pds_fail(why, PDS_EINVAL,
			    "Parameters must be strings");
		}
		json_object_set(params, k, v);
	}
	json_decref(doc);
	return PDS_OK;
}

bool
as_ctx_begin(struct as_ctx *x, struct http_req *req, const char *path)
{
	const char	*ct, *why = NULL;
	const uint8_t	*body;
	size_t		 len;
	int		 rc;

	memset(x, 0, sizeof(*x));
	x->req = req;
	x->path = path;
	x->now = time(NULL);
	snprintf(x->url, sizeof(x->url), "%s%s", issuer, path);
	if (http_req_method(req) != HTTP_POST) {
		http_reply_header(req, "Allow", "POST, OPTIONS");
		as_fail(x, 405, "invalid_request", "Method not allowed");
		return false;
	}
	if ((x->params = json_object()) == NULL) {
		as_fail(x, 500, "server_error", "Out of memory");
		return false;
	}
	body = http_req_body(req, &len);
	ct = http_req_header(req, "Content-Type");
	if (len == 0)
		rc = PDS_OK;
	else if (ct != NULL && strncasecmp(ct,
	    "application/x-www-form-urlencoded", 33) == 0)
		rc = params_form(x->params, (const char *)body, len, &why);
	else if (ct != NULL && strncasecmp(ct, "application/json", 16) == 0)
		rc = params_json(x->params, (const char *)body, len, &why);
	else
		rc = pds_fail(&why, PDS_EINVAL, "Unsupported Content-Type");
	if (rc != PDS_OK) {
		as_fail(x, 400, "invalid_request", why);
		return false;
	}
	return true;
}

void
as_ctx_end(struct as_ctx *x)
{
	json_decref(x->params);
	x->params = NULL;
	if (x->have_client)
		oauth_client_clear(&x->client);
	x->have_client = false;
}

const char *
as_param(const struct as_ctx *x, const char *name)
{
	return json_string_value(json_object_get(x->params, name));
}

/* ---- client authentication ---- */

bool
as_ctx_client_load(struct as_ctx *x)
{
	const char	*id = as_param(x, "client_id"), *why = NULL;

	if (id == NULL || *id == '\0') {
		as_fail(x, 400, "invalid_request", "Missing client_id");
		return false;
	}
	if (oauth_clients_load(&x->client, id, &why) != PDS_OK) {
		as_fail(x, 400, "invalid_client_metadata", why != NULL ? why :
		    "Invalid client metadata");
		return false;
	}
	x->have_client = true;
	return true;
}

bool
as_ctx_client_auth(struct as_ctx *x)
{
	const char	*type, *assertion, *why = NULL;
	const char	*auds[3];
	char		 token_url[AS_URL_MAX];

	type = as_param(x, "client_assertion_type");
	assertion = as_param(x, "client_assertion");
	if (x->client.auth_method == OAUTH_AUTH_NONE) {
		if (type != NULL || assertion != NULL) {
			as_fail(x, 400, "invalid_client", "This client does "
			    "not authenticate with a client assertion");
			return false;
		}
		return true;
	}
	snprintf(token_url, sizeof(token_url), "%s/oauth/token", issuer);
	auds[0] = issuer;
	auds[1] = x->url;
	auds[2] = token_url;
	if (type == NULL || assertion == NULL) {
		as_fail(x, 400, "invalid_client",
		    "Client authentication is required");
		return false;
	}
	if (oauth_clients_verify_assertion(&x->client, type, assertion, auds,
	    3, x->now, &x->ckey, &why) != PDS_OK) {
		as_fail(x, 400, "invalid_client", why != NULL ? why :
		    "Invalid client assertion");
		return false;
	}
	if (x->has_proof && strcmp(x->jkt, x->ckey.jkt) == 0) {
		as_fail(x, 400, "invalid_client", "The DPoP proof must be "
		    "signed with a different key than the client assertion");
		return false;
	}
	x->confidential = true;
	return true;
}

char *
as_client_auth_json(const struct as_ctx *x)
{
	json_t	*o;
	char	*s;

	if (x->confidential)
		o = json_pack("{s:s, s:s, s:s, s:s}", "method",
		    "private_key_jwt", "kid", x->ckey.kid, "alg", x->ckey.alg,
		    "jkt", x->ckey.jkt);
	else
		o = json_pack("{s:s}", "method", "none");
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

bool
as_client_auth_confidential(const char *stored)
{
	json_t		*o = json_loads(stored, 0, NULL);
	const char	*m;
	bool		 yes;

	m = json_string_value(json_object_get(o, "method"));
	yes = m != NULL && strcmp(m, "private_key_jwt") == 0;
	json_decref(o);
	return yes;
}

bool
as_client_auth_same(const struct as_ctx *x, const char *stored)
{
	json_t		*o = json_loads(stored, 0, NULL);
	const char	*m, *kid, *alg, *jkt;
	bool		 same = false;

	m = json_string_value(json_object_get(o, "method"));
	kid = json_string_value(json_object_get(o, "kid"));
	alg = json_string_value(json_object_get(o, "alg"));
	jkt = json_string_value(json_object_get(o, "jkt"));
	if (m == NULL)
		same = false;
	else if (strcmp(m, "none") == 0)
		same = true;	/* a public session may become confidential */
	else if (strcmp(m, "private_key_jwt") == 0 && x->confidential)
		same = kid != NULL && alg != NULL && jkt != NULL &&
		    strcmp(kid, x->ckey.kid) == 0 &&
		    strcmp(alg, x->ckey.alg) == 0 &&
		    strcmp(jkt, x->ckey.jkt) == 0;
	json_decref(o);
	return same;
}

/* ---- DPoP ---- */

bool
as_ctx_dpop(struct as_ctx *x, bool required)
{
	struct dpop_expect	 e;
	struct dpop_proof	 p;
	const char		*h, *why = "Invalid DPoP proof";
	int			 rc;

	x->has_proof = false;
	if ((h = http_req_header(x->req, "DPoP")) == NULL) {
		if (!required)
			return true;
		as_fail(x, 401, "invalid_dpop_proof", "DPoP proof required");
		return false;
	}
	memset(&e, 0, sizeof(e));
	e.htm = http_req_method_str(x->req);
	e.htu = x->url;
	e.now = x->now;
	e.iat_past = DPOP_IAT_PAST;
	e.iat_future = DPOP_IAT_FUTURE;
	if (dpop_verify(&p, h, strlen(h), &e, &why) != PDS_OK) {
		as_fail(x, 401, "invalid_dpop_proof", why);
		return false;
	}
	if (!p.has_nonce) {
		as_fail(x, 400, "use_dpop_nonce",
		    "Authorization server requires nonce in DPoP proof");
		return false;
	}
	if (dpop_nonce_check(nonce_secret, p.nonce, strlen(p.nonce),
	    x->now) != PDS_OK) {
		as_fail(x, 400, "use_dpop_nonce", "DPoP \"nonce\" mismatch");
		return false;
	}
	rc = oauth_replay_check_and_add(STORE_OAUTH_NS_DPOP, p.jti,
	    (int64_t)x->now + OAUTH_DPOP_JTI_TTL);
	if (rc == PDS_EEXIST) {
		as_fail(x, 401, "invalid_dpop_proof", "DPoP proof replayed");
		return false;
	}
	if (rc != PDS_OK) {
		as_fail(x, 500, "server_error", "Could not record the proof");
		return false;
	}
	memcpy(x->jkt, p.jkt, sizeof(x->jkt));
	x->has_proof = true;
	return true;
}

/* ---- discovery ---- */

static json_t *
str_array(const char *const *v, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static bool
get_only(struct http_req *req)
{
	enum http_method m = http_req_method(req);

	if (m == HTTP_GET || m == HTTP_HEAD)
		return true;
	http_reply_header(req, "Allow", "GET, HEAD, OPTIONS");
	http_reply_json(req, 405, json_pack("{s:s, s:s}", "error",
	    "invalid_request", "error_description", "Method not allowed"));
	return false;
}

static void
serve_protected_resource(struct http_req *req, const void *arg)
{
	(void)arg;
	if (!get_only(req))
		return;
	http_reply_json(req, 200, json_pack("{s:s, s:[s], s:[], s:[s], s:s}",
	    "resource", issuer,
	    "authorization_servers", issuer,
	    "scopes_supported",
	    "bearer_methods_supported", "header",
	    "resource_documentation", "https://atproto.com"));
}

static void
serve_as_metadata(struct http_req *req, const void *arg)
{
	static const char *const scopes[] = { "atproto", "transition:email",
	    "transition:generic", "transition:chat.bsky" };
	static const char *const modes[] = { "query", "fragment",
	    "form_post" };
	static const char *const grants[] = { "authorization_code",
	    "refresh_token" };
	static const char *const display[] = { "page", "popup", "touch" };
	static const char *const prompts[] = { "none", "login", "consent",
	    "select_account", "create" };
	static const char *const methods[] = { "none", "private_key_jwt" };
	char	 u[5][AS_URL_MAX];
	json_t	*o;

	(void)arg;
	if (!get_only(req))
		return;
	snprintf(u[0], sizeof(u[0]), "%s/oauth/jwks", issuer);
	snprintf(u[1], sizeof(u[1]), "%s/oauth/authorize", issuer);
	snprintf(u[2], sizeof(u[2]), "%s/oauth/token", issuer);
	snprintf(u[3], sizeof(u[3]), "%s/oauth/revoke", issuer);
	snprintf(u[4], sizeof(u[4]), "%s/oauth/par", issuer);
	o = json_object();
	json_object_set_new(o, "issuer", json_string(issuer));
	json_object_set_new(o, "request_parameter_supported", json_false());
	json_object_set_new(o, "request_uri_parameter_supported",
	    json_true());
	json_object_set_new(o, "require_request_uri_registration",
	    json_true());
	json_object_set_new(o, "scopes_supported", str_array(scopes, 4));
	json_object_set_new(o, "subject_types_supported",
	    json_pack("[s]", "public"));
	json_object_set_new(o, "response_types_supported",
	    json_pack("[s]", "code"));
	json_object_set_new(o, "response_modes_supported",
	    str_array(modes, 3));
	json_object_set_new(o, "grant_types_supported", str_array(grants, 2));
	json_object_set_new(o, "code_challenge_methods_supported",
	    json_pack("[s]", "S256"));
	json_object_set_new(o, "ui_locales_supported",
	    json_pack("[s]", "en-US"));
	json_object_set_new(o, "display_values_supported",
	    str_array(display, 3));
	json_object_set_new(o, "request_object_signing_alg_values_supported",
	    str_array(algs, 2));
	json_object_set_new(o,
	    "authorization_response_iss_parameter_supported", json_true());
	json_object_set_new(o,
	    "request_object_encryption_alg_values_supported", json_array());
	json_object_set_new(o,
	    "request_object_encryption_enc_values_supported", json_array());
	json_object_set_new(o, "jwks_uri", json_string(u[0]));
	json_object_set_new(o, "authorization_endpoint", json_string(u[1]));
	json_object_set_new(o, "token_endpoint", json_string(u[2]));
	json_object_set_new(o, "token_endpoint_auth_methods_supported",
	    str_array(methods, 2));
	json_object_set_new(o,
	    "token_endpoint_auth_signing_alg_values_supported",
	    str_array(algs, 2));
	json_object_set_new(o, "revocation_endpoint", json_string(u[3]));
	json_object_set_new(o, "pushed_authorization_request_endpoint",
	    json_string(u[4]));
	json_object_set_new(o, "require_pushed_authorization_requests",
	    json_true());
	json_object_set_new(o, "dpop_signing_alg_values_supported",
	    str_array(algs, 2));
	json_object_set_new(o, "protected_resources",
	    json_pack("[s]", issuer));
	json_object_set_new(o, "client_id_metadata_document_supported",
	    json_true());
	json_object_set_new(o, "prompt_values_supported",
	    str_array(prompts, 5));
	http_reply_header(req, "Cache-Control", "max-age=300");
	http_reply_header(req, "Access-Control-Allow-Headers",
	    "Content-Type,DPoP");
	http_reply_header(req, "Access-Control-Allow-Methods", "*");
	http_reply_header(req, "Access-Control-Max-Age", "86400");
	http_reply_json(req, 200, o);
}

static void
serve_jwks(struct http_req *req, const void *arg)
{
	(void)arg;
	if (!get_only(req))
		return;
	http_reply_json(req, 200, json_pack("{s:[]}", "keys"));
}

/* ---- revocation ---- */

/* The family a token of any kind names, into *f. */
static int
revoke_find(const char *token, struct store_oauth_family *f)
{
	struct jwt	 t;
	const uint8_t	*secret;
	const char	*jti;
	size_t		 slen;
	bool		 used;
	int		 rc;

	if (strncmp(token, "ref-", 4) == 0)
		return store_oauth_family_by_refresh(token, f, &used);
	if (strncmp(token, "tok-", 4) == 0)
		return store_oauth_family_by_token(token, f);
	if (strncmp(token, "cod-", 4) == 0)
		return store_oauth_family_by_code(token, f);
	if (jwt_decode(&t, token, strlen(token), NULL) != PDS_OK)
		return PDS_ENOTFOUND;
	secret = as_jwt_secret(&slen);
	rc = PDS_ENOTFOUND;
	if (jwt_verify_hs256(&t, secret, slen, NULL) == PDS_OK &&
	    (jti = jwt_claim_str(&t, "jti")) != NULL)
		rc = store_oauth_family_by_token(jti, f);
	jwt_clear(&t);
	return rc;
}

static void
serve_revoke(struct http_req *req, const void *arg)
{
	struct as_ctx	 x;
	struct store_oauth_family f;
	const char	*token;

	(void)arg;
	if (!as_ctx_begin(&x, req, "/oauth/revoke") || !as_ctx_dpop(&x, true))
		goto out;
	/* From here on nothing is reported (RFC 7009): the answer is {}. */
	x.quiet = true;
	if ((token = as_param(&x, "token")) == NULL ||
	    !as_ctx_client_load(&x) || !as_ctx_client_auth(&x) ||
	    revoke_find(token, &f) != PDS_OK)
		goto done;
	if (strcmp(f.client_id, x.client.client_id) == 0 &&
	    (f.dpop_jkt == NULL || strcmp(f.dpop_jkt, x.jkt) == 0))
		(void)store_oauth_family_delete(f.id);
	store_oauth_family_clear(&f);
done:
	x.quiet = false;
	as_reply(&x, 200, json_object());
out:
	as_ctx_end(&x);
}

/* ---- the module ---- */

static void
purge_job(void *arg)
{
	int	 n = 0;

	(void)arg;
	if (store_oauth_purge((int64_t)time(NULL), &n) == PDS_OK && n > 0)
		log_debug("oauth: purged %d expired rows", n);
}

/*
 * PAR, the token endpoint and revocation load the client's metadata,
 * which may mean fetching it: on the net pool (offload.h).
 */
static const struct offload_route par_route =
    { OFFLOAD_NET, as_par, NULL };
static const struct offload_route token_route =
    { OFFLOAD_NET, as_token, NULL };
static const struct offload_route revoke_route =
    { OFFLOAD_NET, serve_revoke, NULL };

static int
oauth_init(const struct config *cfg)
{
	size_t	 n, len;
	int	 rc;

	len = strlen(cfg->public_url);
	while (len > 0 && cfg->public_url[len - 1] == '/')
		len--;
	if (len >= sizeof(issuer))
		return PDS_ETOOBIG;
	memcpy(issuer, cfg->public_url, len);
	issuer[len] = '\0';
	service_did = cfg->service_did;
	jwt_secret = cfg->jwt_secret;
	oauth_clients_set_dev(cfg->dev_mode);
	/*
	 * 64 hex digits are the secret itself (the reference's form); any
	 * other text is hashed into one, so that it still survives restarts.
	 */
	if (cfg->dpop_secret == NULL)
		randombytes_buf(nonce_secret, sizeof(nonce_secret));
	else if (strlen(cfg->dpop_secret) != 2 * sizeof(nonce_secret) ||
	    sodium_hex2bin(nonce_secret, sizeof(nonce_secret),
	    cfg->dpop_secret, strlen(cfg->dpop_secret), NULL, &n, NULL) != 0 ||
	    n != sizeof(nonce_secret))
		crypto_hash_sha256(nonce_secret,
		    (const unsigned char *)cfg->dpop_secret,
		    strlen(cfg->dpop_secret));
	if ((rc = routes_add("/.well-known/oauth-protected-resource", false,
	    serve_protected_resource, NULL, 0)) != PDS_OK ||
	    (rc = routes_add("/.well-known/oauth-authorization-server", false,
	    serve_as_metadata, NULL, 0)) != PDS_OK ||
	    (rc = routes_add("/oauth/jwks", false, serve_jwks, NULL, 0)) !=
	    PDS_OK ||
	    (rc = routes_add("/oauth/par", false, offload_route_handler,
	    &par_route, AS_BODY_MAX)) != PDS_OK ||
	    (rc = routes_add("/oauth/token", false, offload_route_handler,
	    &token_route, AS_BODY_MAX)) != PDS_OK ||
	    (rc = routes_add("/oauth/revoke", false, offload_route_handler,
	    &revoke_route, AS_BODY_MAX)) != PDS_OK ||
	    (rc = oauth_replay_start()) != PDS_OK)
		return rc;
	return jobs_add("oauth purge", OAUTH_PURGE_INTERVAL_MS, purge_job,
	    NULL);
}

static void
oauth_fini(void)
{
	oauth_replay_stop();
	sodium_memzero(nonce_secret, sizeof(nonce_secret));
	oauth_clients_flush();
}

PDSD_MODULE(oauth, oauth_init, oauth_fini);
