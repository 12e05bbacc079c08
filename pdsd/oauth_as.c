/*
 * oauth_as: the OAuth authorization server's module, its discovery
 * documents, pushed authorization requests, revocation, and the
 * approve/reject calls of the authorization page.  The token endpoint
 * is in oauth_token.c.  See oauth_as.h.
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

#include "buf.h"
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
#include "oauth_scope.h"
#include "pkce.h"
#include "routes.h"
#include "store_oauth.h"
#include "syntax.h"

#define ID_HEX_SHORT	16	/* random bytes of req-, tok-, dev-, ses- */
#define ID_HEX_LONG	32	/* random bytes of cod-, ref- */

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
	uint8_t	 r[ID_HEX_LONG];
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
			return pds_fail(why, PDS_ETOOBIG, "Too many parameters");
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

/* Parse a JSON body (an object of strings) into params. */
static int
params_json(json_t *params, const char *p, size_t len, const char **why)
{
	json_t		*doc, *v;
	const char	*k;

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
	rc = store_oauth_replay_check_and_add(STORE_OAUTH_NS_DPOP, p.jti,
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

/* ---- PAR ---- */

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

/*
 * Normalise scope into out (NUL-terminated): invalid tokens dropped,
 * duplicates merged.  Each kept token must be in `allowed' (a normalised
 * list; NULL: any).  An OAuth error name and description on failure.
 */
static int
scope_normalise(const char *scope, const char *allowed, struct buf *out,
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
	if (rc == PDS_EUNSUPP) {
		scope_set_free(s);
		return pds_fail(why, rc, "Could not resolve Lexicon for NSID");
	}
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
	buf_free(&one);
	if (rc == PDS_OK && !scope_set_has(s, SCOPE_ATPROTO))
		rc = pds_fail(why, PDS_EINVAL,
		    "The \"atproto\" scope is required");
	if (rc == PDS_OK && ((rc = scope_set_format(s, out)) != PDS_OK ||
	    (rc = buf_putc(out, '\0')) != PDS_OK))
		*why = "Out of memory";
	scope_set_free(s);
	return rc;
}

/* The client's own scope, normalised, into out. */
static int
client_scope(const struct oauth_client *c, struct buf *out)
{
	const char	*err, *why;

	return scope_normalise(c->scope != NULL ? c->scope : "atproto", NULL,
	    out, &err, &why);
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
		buf_free(&cs);
		buf_free(&ns);
		*err = "invalid_client_metadata";
		return pds_fail(why, rc, "Invalid client scope");
	}
	allowed = (const char *)cs.p;
	rc = scope_normalise(scope, allowed, &ns, err, why);
	buf_free(&cs);
	if (rc != PDS_OK) {
		buf_free(&ns);
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
		buf_free(&ns);
		return rc;
	}

	mode = as_param(x, "response_mode");
	if (mode != NULL && strcmp(mode, "query") != 0 &&
	    strcmp(mode, "fragment") != 0 && strcmp(mode, "form_post") != 0) {
		buf_free(&ns);
		return pds_fail(why, PDS_EINVAL, "Invalid response_mode");
	}
	prompt = as_param(x, "prompt");
	if (prompt != NULL && strcmp(prompt, "none") != 0 &&
	    strcmp(prompt, "login") != 0 && strcmp(prompt, "consent") != 0 &&
	    strcmp(prompt, "select_account") != 0 &&
	    strcmp(prompt, "create") != 0) {
		buf_free(&ns);
		return pds_fail(why, PDS_EINVAL, "Invalid prompt");
	}
	/* Public clients (there is no trusted list) always ask consent. */
	if (!x->confidential) {
		if (prompt != NULL && strcmp(prompt, "none") == 0) {
			buf_free(&ns);
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
			buf_free(&ns);
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
	buf_free(&ns);
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

static void
serve_par(struct http_req *req, const void *arg)
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
	as_random_id("req-", ID_HEX_SHORT, id, sizeof(id));
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
	jwt_free(&t);
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

/* ---- the authorization page's side ---- */

void
oauth_as_redirect_clear(struct oauth_as_redirect *r)
{
	if (r == NULL)
		return;
	free(r->redirect_uri);
	free(r->response_mode);
	free(r->code);
	free(r->error);
	free(r->error_description);
	free(r->state);
	free(r->iss);
	memset(r, 0, sizeof(*r));
}

int
oauth_as_request_id(const char *uri, char *id, size_t cap)
{
	size_t	 pl = strlen(OAUTH_REQUEST_URI_PREFIX), i;

	if (uri == NULL || strncmp(uri, OAUTH_REQUEST_URI_PREFIX, pl) != 0)
		return PDS_EINVAL;
	uri += pl;
	if (strlen(uri) != 4 + 2 * ID_HEX_SHORT ||
	    strncmp(uri, "req-", 4) != 0 || cap <= strlen(uri))
		return PDS_EINVAL;
	for (i = 4; uri[i] != '\0'; i++)
		if (!isxdigit((unsigned char)uri[i]) ||
		    isupper((unsigned char)uri[i]))
			return PDS_EINVAL;
	memcpy(id, uri, strlen(uri) + 1);
	return PDS_OK;
}

/* The pending request of uri for client_id, with its parameters. */
static int
page_request(const char *uri, const char *client_id,
    struct store_oauth_request *r, json_t **params, const char **why)
{
	char	 id[64];
	int	 rc;

	*params = NULL;
	if (oauth_as_request_id(uri, id, sizeof(id)) != PDS_OK)
		return pds_fail(why, PDS_ENOTFOUND, "Invalid request_uri");
	if ((rc = store_oauth_request_get(id, r)) != PDS_OK)
		return pds_fail(why, rc, rc == PDS_ENOTFOUND ?
		    "Unknown request_uri" : "Could not read the request");
	rc = PDS_ENOTFOUND;
	if (strcmp(r->client_id, client_id) != 0)
		*why = "This request is for another client";
	else if (r->expires_at < (int64_t)time(NULL))
		*why = "This request has expired";
	else if (r->code != NULL)
		*why = "This request was already authorized";
	else if ((*params = json_loads(r->params, 0, NULL)) == NULL)
		*why = "The request's parameters are unreadable";
	else
		rc = PDS_OK;
	if (rc != PDS_OK)
		store_oauth_request_clear(r);
	return rc;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Fill out's redirect_uri, mode, state and iss from params. */
static int
redirect_fill(struct oauth_as_redirect *out, const json_t *params)
{
	const char *mode = json_string_value(json_object_get(params,
	    "response_mode"));

	memset(out, 0, sizeof(*out));
	out->redirect_uri = dup_or_null(json_string_value(
	    json_object_get(params, "redirect_uri")));
	out->response_mode = strdup(mode != NULL ? mode : "query");
	out->state = dup_or_null(json_string_value(json_object_get(params,
	    "state")));
	out->iss = strdup(issuer);
	if (out->redirect_uri == NULL || out->response_mode == NULL ||
	    out->iss == NULL || (out->state == NULL &&
	    json_object_get(params, "state") != NULL)) {
		oauth_as_redirect_clear(out);
		return PDS_ENOMEM;
	}
	return PDS_OK;
}

/* The union of did's earlier consent to client_id and scope, into b. */
static int
consent_union(const char *did, const char *client_id, const char *scope,
    struct buf *b)
{
	const char	*err, *why;
	char		*old = NULL, *all;
	int		 rc;

	if (store_oauth_client_authorized(did, client_id, &old, NULL, NULL) !=
	    PDS_OK || old == NULL)
		return scope_normalise(scope, NULL, b, &err, &why);
	if (asprintf(&all, "%s %s", old, scope) == -1) {
		free(old);
		return PDS_ENOMEM;
	}
	rc = scope_normalise(all, NULL, b, &err, &why);
	free(all);
	free(old);
	return rc;
}

int
oauth_as_approve(const char *uri, const char *client_id, const char *did,
    const char *scope, struct oauth_as_redirect *out, const char **why)
{
	struct store_oauth_request r;
	struct buf	 granted, consent;
	json_t		*params;
	const char	*requested, *err;
	char		*pj = NULL, code[80];
	int64_t		 now = (int64_t)time(NULL);
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = page_request(uri, client_id, &r, &params, why)) != PDS_OK)
		return rc;
	buf_init(&granted, SCOPE_STR_MAX + 1);
	buf_init(&consent, 2 * SCOPE_STR_MAX + 2);
	requested = json_string_value(json_object_get(params, "scope"));
	if (requested == NULL)
		requested = "atproto";
	if ((rc = scope_normalise(scope != NULL ? scope : requested,
	    requested, &granted, &err, why)) != PDS_OK)
		goto out;
	json_object_set_new(params, "scope",
	    json_string((const char *)granted.p));
	rc = PDS_ENOMEM;
	*why = "Could not record the consent";
	if ((pj = json_dumps(params, JSON_COMPACT)) == NULL ||
	    store_oauth_request_update(r.id, pj, NULL, 0) != PDS_OK ||
	    store_oauth_request_set_did(r.id, did) != PDS_OK ||
	    consent_union(did, client_id, (const char *)granted.p,
	    &consent) != PDS_OK ||
	    store_oauth_client_authorize(did, client_id,
	    (const char *)consent.p, now) != PDS_OK)
		goto out;
	as_random_id("cod-", ID_HEX_LONG, code, sizeof(code));
	if ((rc = store_oauth_request_set_code(r.id, code,
	    now + OAUTH_CODE_TTL)) != PDS_OK) {
		*why = "This request was already authorized";
		goto out;
	}
	if ((rc = redirect_fill(out, params)) == PDS_OK &&
	    (out->code = strdup(code)) == NULL) {
		oauth_as_redirect_clear(out);
		rc = PDS_ENOMEM;
	}
out:
	free(pj);
	buf_free(&granted);
	buf_free(&consent);
	json_decref(params);
	store_oauth_request_clear(&r);
	return rc;
}

int
oauth_as_reject(const char *uri, const char *client_id,
    struct oauth_as_redirect *out, const char **why)
{
	struct store_oauth_request r;
	json_t	*params;
	int	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = page_request(uri, client_id, &r, &params, why)) != PDS_OK)
		return rc;
	(void)store_oauth_request_delete(r.id);
	if ((rc = redirect_fill(out, params)) == PDS_OK &&
	    ((out->error = strdup("access_denied")) == NULL ||
	    (out->error_description = strdup("The user rejected the request"))
	    == NULL)) {
		oauth_as_redirect_clear(out);
		rc = PDS_ENOMEM;
	}
	json_decref(params);
	store_oauth_request_clear(&r);
	return rc;
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
	    (rc = routes_add("/oauth/par", false, serve_par, NULL,
	    AS_BODY_MAX)) != PDS_OK ||
	    (rc = routes_add("/oauth/token", false, as_token, NULL,
	    AS_BODY_MAX)) != PDS_OK ||
	    (rc = routes_add("/oauth/revoke", false, serve_revoke, NULL,
	    AS_BODY_MAX)) != PDS_OK)
		return rc;
	return jobs_add("oauth purge", OAUTH_PURGE_INTERVAL_MS, purge_job,
	    NULL);
}

static void
oauth_fini(void)
{
	sodium_memzero(nonce_secret, sizeof(nonce_secret));
	oauth_clients_flush();
}

PDSD_MODULE(oauth, oauth_init, oauth_fini);
