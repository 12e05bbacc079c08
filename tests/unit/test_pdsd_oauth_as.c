/*
 * test_pdsd_oauth_as: the OAuth authorization server (pdsd/oauth_as.c,
 * pdsd/oauth_token.c) through pdsd's real HTTP server and routes, with a
 * loopback client as a real client would send it.
 *
 * Where a user would sign in and press Allow (or Deny), the test calls
 * oauth_as_approve() (or oauth_as_reject()) directly: they load the
 * request and make the same decision the pages make through
 * oauth_as_grant() (oauth_as_deny()), so the store then holds the
 * request exactly as after a consent on the pages.
 *
 * Covered: both discovery documents and the key set; PAR (201, its
 * headers, the DPoP nonce flow, and its validation errors); the
 * authorization_code grant (token shape, single use, replay ending the
 * session, verifier and key binding checks); refresh (rotation, the old
 * access token dying, replay and a different key ending the session);
 * revocation; DPoP jti replay; unsupported grants.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "jwk.h"
#include "jwt.h"
#include "keys.h"
#include "log.h"
#include "pkce.h"
#include "../../pdsd/accounts.h"
#include "../../pdsd/config.h"
#include "../../pdsd/http.h"
#include "../../pdsd/module.h"
#include "../../pdsd/oauth_as.h"
#include "../../pdsd/oauth_clients.h"
#include "../../pdsd/routes.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/store_oauth.h"
#include "t.h"
#include "t_http.h"
#include "t_jws.h"

#define ALICE		"did:plc:aliceaaaaaaaaaaaaaaaaaaa"
#define ISSUER		"http://localhost:2583"
#define CLIENT		"http://localhost?scope=atproto%20transition" \
			"%3Ageneric&redirect_uri=http%3A%2F%2F127.0.0.1" \
			"%2Fcallback"
#define REDIRECT	"http://127.0.0.1/callback"
#define SECRET		"unit-test-secret"

static char		 tmpdir[] = "/tmp/test_pdsd_oauth_as.XXXXXX";
static struct config	*cfg;
static uint16_t		 port;
static struct pds_key	*k1, *k2;
static char		 nonce[64];	/* the last DPoP-Nonce seen */
static unsigned		 jti_n;
static char		 verifier[64];	/* of the last PAR made */
static char		 last_at[4096];	/* the last session's access token */

/* Send one request and read the whole reply; remembers DPoP-Nonce. */
static int
request(struct t_resp *r, const char *method, const char *path,
    const char *headers, const char *body)
{
	const char	*h;
	size_t		 len = body != NULL ? strlen(body) : 0;

	if (t_request(r, port, method, path, headers, (long)len, body,
	    len) == -1)
		return -1;
	if ((h = t_header(r, "DPoP-Nonce")) != NULL)
		snprintf(nonce, sizeof(nonce), "%s", h);
	return 0;
}

static const char *
jstr(const struct t_resp *r, const char *key)
{
	const char *s = json_string_value(json_object_get(r->json, key));

	return s != NULL ? s : "";
}

/* Append key=value, form-encoded, to b. */
static void
form_add(struct buf *b, const char *key, const char *value)
{
	const char	*s;
	int		 i;

	if (b->len > 0)
		buf_putc(b, '&');
	for (i = 0; i < 2; i++) {
		for (s = i == 0 ? key : value; *s != '\0'; s++)
			if (isalnum((unsigned char)*s) || strchr("-._~", *s))
				buf_putc(b, (uint8_t)*s);
			else
				buf_printf(b, "%%%02X", (unsigned char)*s);
		if (i == 0)
			buf_putc(b, '=');
	}
}

/* A DPoP proof by k for POST path, with the last nonce unless none. */
static const char *
proof(struct buf *b, const struct pds_key *k, const char *path, bool with)
{
	json_t	*hdr, *jwk, *claims;
	char	 jti[32];

	jwk_export_public(&jwk, k);
	hdr = json_pack("{s:s, s:s, s:o}", "typ", "dpop+jwt", "alg", "ES256",
	    "jwk", jwk);
	snprintf(jti, sizeof(jti), "jti-%u-%u", (unsigned)getpid(), ++jti_n);
	claims = json_pack("{s:s, s:s, s:s+, s:I}", "jti", jti, "htm", "POST",
	    "htu", ISSUER, path, "iat", (json_int_t)time(NULL));
	if (with)
		json_object_set_new(claims, "nonce", json_string(nonce));
	return t_jws(b, k, hdr, claims);
}

/*
 * POST a form (its fields in form) to path, with a DPoP proof by k
 * (none when k is NULL) carrying the last nonce when `with'.
 */
static int
post_form(struct t_resp *r, const char *path, const struct buf *form,
    const struct pds_key *k, bool with)
{
	struct buf	 p, h;
	int		 rc;

	buf_init(&p, 16384);
	buf_init(&h, 16384);
	buf_puts(&h, "Content-Type: application/x-www-form-urlencoded\r\n");
	if (k != NULL)
		buf_printf(&h, "DPoP: %s\r\n", proof(&p, k, path, with));
	buf_putc(&h, '\0');
	buf_putc((struct buf *)form, '\0');
	((struct buf *)form)->len--;
	rc = request(r, "POST", path, (const char *)h.p,
	    (const char *)form->p);
	buf_clear(&p);
	buf_clear(&h);
	return rc;
}

/* A fresh PKCE verifier: each challenge may be used only once. */
static void
new_verifier(void)
{
	uint8_t	 r[24];

	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(verifier, sizeof(verifier), r, sizeof(r));
}

/* The usual PAR fields for CLIENT, with state and a challenge. */
static void
par_form(struct buf *f)
{
	char	 cc[PKCE_CHALLENGE_SIZE];

	pkce_challenge_s256(cc, verifier, strlen(verifier));
	buf_reset(f);
	form_add(f, "client_id", CLIENT);
	form_add(f, "response_type", "code");
	form_add(f, "redirect_uri", REDIRECT);
	form_add(f, "scope", "atproto transition:generic");
	form_add(f, "state", "st-1");
	form_add(f, "code_challenge", cc);
	form_add(f, "code_challenge_method", "S256");
}

static void
test_metadata(void)
{
	struct t_resp	 r;
	json_t		*o, *a;

	t_group("discovery");
	CHECK(request(&r, "GET", "/.well-known/oauth-protected-resource",
	    NULL, NULL) == 0 && r.status == 200, "protected resource: %u",
	    r.status);
	CHECK(strcmp(jstr(&r, "resource"), ISSUER) == 0, "resource");
	a = json_object_get(r.json, "authorization_servers");
	CHECK(json_array_size(a) == 1 && strcmp(json_string_value(
	    json_array_get(a, 0)), ISSUER) == 0, "one authorization server");
	CHECK(t_header(&r, "Access-Control-Allow-Origin") != NULL &&
	    strcmp(t_header(&r, "Access-Control-Allow-Origin"), "*") == 0,
	    "CORS");
	t_resp_free(&r);

	CHECK(request(&r, "GET", "/.well-known/oauth-authorization-server",
	    NULL, NULL) == 0 && r.status == 200, "AS metadata: %u", r.status);
	o = r.json;
	CHECK(strcmp(jstr(&r, "issuer"), ISSUER) == 0, "issuer");
	CHECK(strcmp(jstr(&r, "token_endpoint"), ISSUER "/oauth/token") ==
	    0 && strcmp(jstr(&r, "pushed_authorization_request_endpoint"),
	    ISSUER "/oauth/par") == 0 && strcmp(jstr(&r,
	    "authorization_endpoint"), ISSUER "/oauth/authorize") == 0 &&
	    strcmp(jstr(&r, "revocation_endpoint"), ISSUER "/oauth/revoke") ==
	    0 && strcmp(jstr(&r, "jwks_uri"), ISSUER "/oauth/jwks") == 0,
	    "endpoints");
	CHECK(json_is_true(json_object_get(o,
	    "require_pushed_authorization_requests")) &&
	    json_is_true(json_object_get(o,
	    "authorization_response_iss_parameter_supported")) &&
	    json_is_true(json_object_get(o,
	    "client_id_metadata_document_supported")) &&
	    json_is_true(json_object_get(o,
	    "require_request_uri_registration")), "required flags");
	a = json_object_get(o, "dpop_signing_alg_values_supported");
	CHECK(json_array_size(a) == 2 && strcmp(json_string_value(
	    json_array_get(a, 0)), "ES256") == 0, "DPoP algs");
	a = json_object_get(o, "token_endpoint_auth_methods_supported");
	CHECK(json_array_size(a) == 2, "auth methods");
	a = json_object_get(o, "protected_resources");
	CHECK(json_array_size(a) == 1 && strcmp(json_string_value(
	    json_array_get(a, 0)), ISSUER) == 0, "protected_resources");
	CHECK(json_object_size(o) == 28, "every field: %zu",
	    json_object_size(o));
	CHECK(t_header(&r, "Cache-Control") != NULL &&
	    strcmp(t_header(&r, "Cache-Control"), "max-age=300") == 0,
	    "Cache-Control");
	t_resp_free(&r);

	CHECK(request(&r, "GET", "/oauth/jwks", NULL, NULL) == 0 &&
	    r.status == 200 && strcmp(r.body, "{\"keys\":[]}") == 0,
	    "jwks: %s", r.body);
	t_resp_free(&r);
	CHECK(request(&r, "GET", "/oauth/par", NULL, NULL) == 0 &&
	    r.status == 405, "GET /oauth/par: %u", r.status);
	t_resp_free(&r);
	t_group_end();
}

/* PAR with one field changed (value NULL: left out); the reply. */
static void
par_with(struct t_resp *r, const char *key, const char *value)
{
	struct buf	 f, g;
	const char	*p, *e;

	buf_init(&f, 16384);
	buf_init(&g, 16384);
	par_form(&f);
	buf_putc(&f, '\0');
	/* copy every field but key */
	for (p = (const char *)f.p; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, '&');
		if (e == NULL)
			e = p + strlen(p);
		if (strncmp(p, key, strlen(key)) == 0 && p[strlen(key)] == '=')
			continue;
		if (g.len > 0)
			buf_putc(&g, '&');
		buf_append(&g, p, (size_t)(e - p));
	}
	if (value != NULL)
		form_add(&g, key, value);
	post_form(r, "/oauth/par", &g, NULL, false);
	buf_clear(&f);
	buf_clear(&g);
}

static void
test_par(void)
{
	struct t_resp	 r;
	struct buf	 f;
	char		 jkt[JWK_THUMB_SIZE];

	t_group("par");
	buf_init(&f, 16384);
	par_form(&f);
	CHECK(post_form(&r, "/oauth/par", &f, NULL, false) == 0 &&
	    r.status == 201, "PAR without DPoP: %u %s", r.status, r.body);
	CHECK(strncmp(jstr(&r, "request_uri"), OAUTH_REQUEST_URI_PREFIX
	    "req-", strlen(OAUTH_REQUEST_URI_PREFIX) + 4) == 0 &&
	    strlen(jstr(&r, "request_uri")) ==
	    strlen(OAUTH_REQUEST_URI_PREFIX) + 36 &&
	    json_integer_value(json_object_get(r.json, "expires_in")) == 300,
	    "request_uri and expires_in");
	CHECK(t_header(&r, "DPoP-Nonce") != NULL &&
	    t_header(&r, "Cache-Control") != NULL &&
	    strcmp(t_header(&r, "Cache-Control"), "no-store") == 0 &&
	    t_header(&r, "Pragma") != NULL, "no-store, no-cache, nonce");
	t_resp_free(&r);

	CHECK(post_form(&r, "/oauth/par", &f, k1, false) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "use_dpop_nonce") ==
	    0 && t_header(&r, "DPoP-Nonce") != NULL,
	    "proof without nonce: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(post_form(&r, "/oauth/par", &f, k1, true) == 0 &&
	    r.status == 201, "proof with the nonce: %u %s", r.status, r.body);
	t_resp_free(&r);
	snprintf(nonce, sizeof(nonce), "AAAAAAAAAAAAAAAAAAAAAA");
	CHECK(post_form(&r, "/oauth/par", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "use_dpop_nonce") ==
	    0, "stale nonce: %s", r.body);
	t_resp_free(&r);

	jwk_thumbprint(k2, jkt);
	form_add(&f, "dpop_jkt", jkt);
	CHECK(post_form(&r, "/oauth/par", &f, k1, true) == 0 &&
	    r.status == 401 && strcmp(jstr(&r, "error"), "invalid_token") ==
	    0, "dpop_jkt of another key: %u %s", r.status, r.body);
	t_resp_free(&r);

	par_with(&r, "code_challenge", NULL);
	CHECK(r.status == 400 && strcmp(jstr(&r, "error"),
	    "invalid_request") == 0 && strcmp(jstr(&r, "error_description"),
	    "Use of PKCE is required") == 0, "no PKCE: %s", r.body);
	t_resp_free(&r);
	par_with(&r, "code_challenge_method", "plain");
	CHECK(r.status == 400 && strcmp(jstr(&r, "error"),
	    "invalid_request") == 0, "plain PKCE: %s", r.body);
	t_resp_free(&r);
	par_with(&r, "scope", "transition:generic");
	CHECK(r.status == 400 && strcmp(jstr(&r, "error"), "invalid_scope") ==
	    0, "no atproto: %s", r.body);
	t_resp_free(&r);
	par_with(&r, "scope", "atproto transition:email");
	CHECK(r.status == 400 && strcmp(jstr(&r, "error"), "invalid_scope") ==
	    0, "undeclared scope: %s", r.body);
	t_resp_free(&r);
	par_with(&r, "scope", "atproto foo:bar");
	CHECK(r.status == 201, "an invalid scope token is dropped: %s",
	    r.body);
	t_resp_free(&r);
	par_with(&r, "response_type", "token");
	CHECK(r.status == 400 && strcmp(jstr(&r, "error"),
	    "unsupported_response_type") == 0, "response_type: %s", r.body);
	t_resp_free(&r);
	par_with(&r, "redirect_uri", "http://127.0.0.1/elsewhere");
	CHECK(r.status == 400 && strcmp(jstr(&r, "error"),
	    "invalid_request") == 0, "unregistered redirect_uri: %s", r.body);
	t_resp_free(&r);
	par_with(&r, "client_id", "http://localhost:8080/");
	CHECK(r.status == 400 && strcmp(jstr(&r, "error"),
	    "invalid_client_metadata") == 0, "bad client_id: %s", r.body);
	t_resp_free(&r);
	par_with(&r, "nonce", "n");
	CHECK(r.status == 400 && strcmp(jstr(&r, "error"),
	    "invalid_request") == 0, "OIDC nonce: %s", r.body);
	t_resp_free(&r);
	par_with(&r, "prompt", "none");
	CHECK(r.status == 400 && strstr(jstr(&r, "error_description"),
	    "silent-sign-on") != NULL, "public client prompt=none: %s",
	    r.body);
	t_resp_free(&r);
	par_with(&r, "login_hint", "not a handle");
	CHECK(r.status == 400 && strcmp(jstr(&r, "error"),
	    "invalid_request") == 0, "bad login_hint: %s", r.body);
	t_resp_free(&r);

	CHECK(request(&r, "POST", "/oauth/par", "Content-Type: "
	    "application/json\r\n", "{\"client_id\":\"http://localhost\","
	    "\"response_type\":\"code\",\"scope\":\"atproto\","
	    "\"code_challenge\":"
	    "\"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\","
	    "\"code_challenge_method\":\"S256\","
	    "\"redirect_uri\":\"http://127.0.0.1/\",\"max_age\":3600}") == 0 &&
	    r.status == 201, "JSON body: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(request(&r, "POST", "/oauth/par", "Content-Type: text/plain\r\n",
	    "x") == 0 && r.status == 400 && strcmp(jstr(&r, "error"),
	    "invalid_request") == 0, "bad Content-Type: %s", r.body);
	t_resp_free(&r);
	buf_clear(&f);
	t_group_end();
}

/*
 * PAR bound to k, then consent by ALICE (standing in for the page),
 * into code[80].  True when both worked.
 */
static bool
authorize_as(const struct pds_key *k, char *code, size_t cap, bool fresh)
{
	struct oauth_as_redirect out;
	struct t_resp	 r;
	struct buf	 f;
	const char	*why = NULL;
	char		 uri[128];
	int		 rc;

	if (fresh)
		new_verifier();
	buf_init(&f, 16384);
	par_form(&f);
	post_form(&r, "/oauth/par", &f, k, true);
	if (r.status == 400 && strcmp(jstr(&r, "error"), "use_dpop_nonce") ==
	    0) {
		t_resp_free(&r);
		post_form(&r, "/oauth/par", &f, k, true);
	}
	buf_clear(&f);
	snprintf(uri, sizeof(uri), "%s", jstr(&r, "request_uri"));
	t_resp_free(&r);
	rc = oauth_as_approve(uri, CLIENT, ALICE, NULL, &out, &why);
	if (rc != PDS_OK) {
		fprintf(stderr, "approve: %s\n", why != NULL ? why : "");
		return false;
	}
	snprintf(code, cap, "%s", out.code);
	rc = strcmp(out.iss, ISSUER) == 0 && strcmp(out.state, "st-1") == 0 &&
	    strcmp(out.redirect_uri, REDIRECT) == 0 &&
	    strcmp(out.response_mode, "query") == 0 && out.error == NULL;
	oauth_as_redirect_clear(&out);
	return rc;
}

static bool
authorize(const struct pds_key *k, char *code, size_t cap)
{
	return authorize_as(k, code, cap, true);
}

static void
code_form(struct buf *f, const char *code, const char *v)
{
	buf_reset(f);
	form_add(f, "grant_type", "authorization_code");
	form_add(f, "client_id", CLIENT);
	form_add(f, "code", code);
	form_add(f, "redirect_uri", REDIRECT);
	form_add(f, "code_verifier", v);
}

static void
refresh_form(struct buf *f, const char *refresh)
{
	buf_reset(f);
	form_add(f, "grant_type", "refresh_token");
	form_add(f, "client_id", CLIENT);
	form_add(f, "refresh_token", refresh);
}

/* The jti of an access token, after checking its signature and claims. */
static bool
token_ok_for(const char *at, const struct pds_key *k, const char *client,
    char *jti, size_t cap)
{
	struct jwt	 t;
	char		 jkt[JWK_THUMB_SIZE];
	const char	*why, *cj;
	int64_t		 exp, iat;
	bool		 ok;

	if (jwt_decode(&t, at, strlen(at), &why) != PDS_OK)
		return false;
	jwk_thumbprint(k, jkt);
	cj = json_string_value(json_object_get(json_object_get(t.payload,
	    "cnf"), "jkt"));
	ok = jwt_verify_hs256(&t, (const uint8_t *)SECRET, strlen(SECRET),
	    &why) == PDS_OK && t.typ != NULL && strcmp(t.typ, "at+jwt") == 0 &&
	    strcmp(jwt_claim_str(&t, "sub"), ALICE) == 0 &&
	    strcmp(jwt_claim_str(&t, "aud"), "did:web:localhost") == 0 &&
	    strcmp(jwt_claim_str(&t, "iss"), ISSUER) == 0 &&
	    strcmp(jwt_claim_str(&t, "client_id"), client) == 0 &&
	    cj != NULL && strcmp(cj, jkt) == 0 &&
	    jwt_claim_int(&t, "exp", &exp) && jwt_claim_int(&t, "iat", &iat) &&
	    exp - iat <= OAUTH_ACCESS_TTL && exp > iat &&
	    jwt_claim_str(&t, "scope") == NULL;
	snprintf(jti, cap, "%s", jwt_claim_str(&t, "jti") != NULL ?
	    jwt_claim_str(&t, "jti") : "");
	jwt_clear(&t);
	return ok;
}

static bool
token_ok(const char *at, const struct pds_key *k, char *jti, size_t cap)
{
	return token_ok_for(at, k, CLIENT, jti, cap);
}

static bool
family_alive(const char *token_id)
{
	struct store_oauth_family f;

	if (store_oauth_family_by_token(token_id, &f) != PDS_OK)
		return false;
	store_oauth_family_clear(&f);
	return true;
}

static void
test_code(void)
{
	struct t_resp	 r;
	struct buf	 f;
	char		 code[80], jti[64];

	t_group("authorization_code");
	buf_init(&f, 16384);
	CHECK(authorize(k1, code, sizeof(code)), "PAR and consent");
	code_form(&f, code, verifier);
	CHECK(post_form(&r, "/oauth/token", &f, NULL, false) == 0 &&
	    r.status == 401 && strcmp(jstr(&r, "error"),
	    "invalid_dpop_proof") == 0 && t_header(&r, "WWW-Authenticate") !=
	    NULL && strncmp(t_header(&r, "WWW-Authenticate"), "DPoP ", 5) == 0,
	    "no proof: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 200, "token: %u %s", r.status, r.body);
	CHECK(strcmp(jstr(&r, "token_type"), "DPoP") == 0 &&
	    strcmp(jstr(&r, "sub"), ALICE) == 0 &&
	    strcmp(jstr(&r, "scope"), "atproto transition:generic") == 0 &&
	    strncmp(jstr(&r, "refresh_token"), "ref-", 4) == 0 &&
	    strlen(jstr(&r, "refresh_token")) == 68 &&
	    json_integer_value(json_object_get(r.json, "expires_in")) > 0 &&
	    json_integer_value(json_object_get(r.json, "expires_in")) <=
	    OAUTH_ACCESS_TTL, "token response: %s", r.body);
	CHECK(token_ok(jstr(&r, "access_token"), k1, jti, sizeof(jti)) &&
	    family_alive(jti), "access token claims, session stored");
	CHECK(t_header(&r, "Cache-Control") != NULL &&
	    strcmp(t_header(&r, "Cache-Control"), "no-store") == 0,
	    "no-store");
	t_resp_free(&r);

	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "invalid_grant") ==
	    0 && strcmp(jstr(&r, "error_description"), "Invalid code") == 0,
	    "code used twice: %s", r.body);
	t_resp_free(&r);
	CHECK(!family_alive(jti), "the replayed code ended its session");

	CHECK(authorize_as(k1, code, sizeof(code), false),
	    "PAR reusing a code challenge");
	code_form(&f, code, verifier);
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error_description"),
	    "Code challenge already used") == 0, "challenge reuse: %s",
	    r.body);
	t_resp_free(&r);

	CHECK(authorize(k1, code, sizeof(code)), "second PAR and consent");
	code_form(&f, code,
	    "x-wrong-verifier-x-wrong-verifier-x-wrong-verifier");
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error_description"),
	    "Invalid code_verifier") == 0, "wrong verifier: %s", r.body);
	t_resp_free(&r);

	CHECK(authorize(k1, code, sizeof(code)), "third PAR and consent");
	code_form(&f, code, verifier);
	CHECK(post_form(&r, "/oauth/token", &f, k2, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "invalid_grant") ==
	    0, "proof by another key than PAR's: %s", r.body);
	t_resp_free(&r);

	buf_reset(&f);
	form_add(&f, "grant_type", "client_credentials");
	form_add(&f, "client_id", CLIENT);
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error_description"),
	    "Grant type \"client_credentials\" is not supported by the "
	    "server") == 0, "unsupported grant: %s", r.body);
	t_resp_free(&r);
	buf_clear(&f);
	t_group_end();
}

/* A fresh session for k: its refresh token and token id. */
static bool
session(const struct pds_key *k, char *refresh, char *jti)
{
	struct t_resp	 r;
	struct buf	 f;
	char		 code[80];
	bool		 ok;

	buf_init(&f, 16384);
	ok = authorize(k, code, sizeof(code));
	code_form(&f, code, verifier);
	ok = ok && post_form(&r, "/oauth/token", &f, k, true) == 0 &&
	    r.status == 200;
	snprintf(refresh, 80, "%s", jstr(&r, "refresh_token"));
	snprintf(last_at, sizeof(last_at), "%s", jstr(&r, "access_token"));
	ok = ok && token_ok(jstr(&r, "access_token"), k, jti, 64);
	t_resp_free(&r);
	buf_clear(&f);
	return ok;
}

static void
test_refresh(void)
{
	struct t_resp	 r;
	struct buf	 f;
	char		 ref[80], ref2[80], jti[64], jti2[64];

	t_group("refresh_token");
	buf_init(&f, 16384);
	CHECK(session(k1, ref, jti), "session");
	refresh_form(&f, ref);
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 200, "refresh: %u %s", r.status, r.body);
	snprintf(ref2, sizeof(ref2), "%s", jstr(&r, "refresh_token"));
	CHECK(strncmp(ref2, "ref-", 4) == 0 && strcmp(ref2, ref) != 0 &&
	    token_ok(jstr(&r, "access_token"), k1, jti2, sizeof(jti2)) &&
	    strcmp(jti, jti2) != 0, "rotated: %s", r.body);
	t_resp_free(&r);
	CHECK(!family_alive(jti) && family_alive(jti2),
	    "the old access token died at once");
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error_description"),
	    "Refresh token replayed") == 0, "replay: %s", r.body);
	t_resp_free(&r);
	CHECK(!family_alive(jti2), "the replay ended the session");
	refresh_form(&f, ref2);
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "invalid_grant") ==
	    0, "the new refresh token died too: %s", r.body);
	t_resp_free(&r);

	CHECK(session(k1, ref, jti), "another session");
	refresh_form(&f, ref);
	CHECK(post_form(&r, "/oauth/token", &f, k2, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "invalid_grant") ==
	    0, "another DPoP key: %s", r.body);
	t_resp_free(&r);
	CHECK(!family_alive(jti), "which ended the session");
	buf_clear(&f);
	t_group_end();
}

#define CONF		"https://app.pds-unit.org/client-metadata.json"
#define CONF_REDIRECT	"https://app.pds-unit.org/callback"

/* A client assertion for CONF signed by k as kid. */
static void
form_assertion(struct buf *f, const struct pds_key *k, const char *kid)
{
	struct buf	 a;
	char		 jti[32];
	time_t		 now = time(NULL);

	buf_init(&a, 16384);
	snprintf(jti, sizeof(jti), "cjti-%u", ++jti_n);
	t_jws(&a, k, json_pack("{s:s, s:s}", "alg", "ES256", "kid", kid),
	    json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", CONF, "sub",
	    CONF, "aud", ISSUER, "iat", (json_int_t)now, "exp",
	    (json_int_t)now + 60, "jti", jti));
	form_add(f, "client_assertion_type",
	    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
	form_add(f, "client_assertion", (const char *)a.p);
	buf_clear(&a);
}

static void
conf_par_form(struct buf *f)
{
	char	 cc[PKCE_CHALLENGE_SIZE];

	new_verifier();
	pkce_challenge_s256(cc, verifier, strlen(verifier));
	buf_reset(f);
	form_add(f, "client_id", CONF);
	form_add(f, "response_type", "code");
	form_add(f, "redirect_uri", CONF_REDIRECT);
	form_add(f, "scope", "atproto");
	form_add(f, "code_challenge", cc);
	form_add(f, "code_challenge_method", "S256");
}

/*
 * A confidential (private_key_jwt) client: its metadata is seeded into
 * the cache, as no https server can run here.  ck1 and ck2 are both in
 * its key set.
 */
static void
test_confidential(void)
{
	struct oauth_as_redirect out;
	struct store_oauth_family fam;
	struct pds_key	*ck1, *ck2;
	struct t_resp	 r;
	struct buf	 f, g;
	json_t		*doc, *j1, *j2;
	const char	*why = NULL;
	char		 uri[128], jti[64], ref[80];

	t_group("confidential client");
	buf_init(&f, 32768);
	buf_init(&g, 32768);
	key_generate(&ck1, KEY_P256);
	key_generate(&ck2, KEY_P256);
	jwk_export_public(&j1, ck1);
	jwk_export_public(&j2, ck2);
	json_object_set_new(j1, "kid", json_string("ck1"));
	json_object_set_new(j2, "kid", json_string("ck2"));
	doc = json_pack("{s:s, s:s, s:[s,s], s:[s], s:[s], s:b, s:s, s:s, "
	    "s:{s:[o,o]}}", "client_id", CONF, "scope", "atproto",
	    "grant_types", "authorization_code", "refresh_token",
	    "response_types", "code", "redirect_uris", CONF_REDIRECT,
	    "dpop_bound_access_tokens", 1,
	    "token_endpoint_auth_method", "private_key_jwt",
	    "token_endpoint_auth_signing_alg", "ES256",
	    "jwks", "keys", j1, j2);
	CHECK(oauth_clients_seed(CONF, doc) == PDS_OK, "seed metadata");
	json_decref(doc);

	conf_par_form(&f);
	CHECK(post_form(&r, "/oauth/par", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "invalid_client") ==
	    0, "PAR without an assertion: %s", r.body);
	t_resp_free(&r);
	form_assertion(&f, ck1, "ck1");
	CHECK(post_form(&r, "/oauth/par", &f, k1, true) == 0 &&
	    r.status == 201, "PAR with an assertion: %u %s", r.status, r.body);
	snprintf(uri, sizeof(uri), "%s", jstr(&r, "request_uri"));
	t_resp_free(&r);
	CHECK(post_form(&r, "/oauth/par", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "invalid_client") ==
	    0 && strstr(jstr(&r, "error_description"), "replayed") != NULL,
	    "the same assertion again: %s", r.body);
	t_resp_free(&r);

	CHECK(oauth_as_approve(uri, CONF, ALICE, NULL, &out, &why) == PDS_OK,
	    "consent: %s", why != NULL ? why : "");
	buf_reset(&g);
	form_add(&g, "grant_type", "authorization_code");
	form_add(&g, "client_id", CONF);
	form_add(&g, "code", out.code != NULL ? out.code : "");
	form_add(&g, "redirect_uri", CONF_REDIRECT);
	form_add(&g, "code_verifier", verifier);
	oauth_as_redirect_clear(&out);
	buf_reset(&f);
	buf_append(&f, g.p, g.len);
	form_assertion(&f, ck1, "ck1");
	CHECK(post_form(&r, "/oauth/token", &f, ck1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "invalid_client") ==
	    0, "DPoP key = assertion key refused: %s", r.body);
	t_resp_free(&r);
	buf_reset(&f);
	buf_append(&f, g.p, g.len);
	form_assertion(&f, ck1, "ck1");
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 200, "token: %u %s", r.status, r.body);
	snprintf(ref, sizeof(ref), "%s", jstr(&r, "refresh_token"));
	CHECK(token_ok_for(jstr(&r, "access_token"), k1, CONF, jti,
	    sizeof(jti)), "access token");
	t_resp_free(&r);
	CHECK(store_oauth_family_by_token(jti, &fam) == PDS_OK &&
	    fam.session_expires_at - fam.created_at == OAUTH_CONF_REFRESH &&
	    strstr(fam.client_auth, "\"kid\":\"ck1\"") != NULL,
	    "confidential lifetimes, key bound");
	store_oauth_family_clear(&fam);

	buf_reset(&f);
	form_add(&f, "grant_type", "refresh_token");
	form_add(&f, "client_id", CONF);
	form_add(&f, "refresh_token", ref);
	form_assertion(&f, ck2, "ck2");
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strstr(jstr(&r, "error_description"),
	    "different key") != NULL, "refresh with another client key: %s",
	    r.body);
	t_resp_free(&r);
	CHECK(!family_alive(jti), "which ended the session");

	oauth_clients_flush();
	key_free(ck1);
	key_free(ck2);
	buf_clear(&f);
	buf_clear(&g);
	t_group_end();
}

static void
test_revoke(void)
{
	struct oauth_as_redirect out;
	struct t_resp	 r;
	struct buf	 f, p, h;
	const char	*why = NULL;
	char		 ref[80], jti[64], uri[128];

	t_group("revoke and reject");
	buf_init(&f, 16384);
	CHECK(session(k1, ref, jti), "session");
	buf_reset(&f);
	form_add(&f, "client_id", CLIENT);
	form_add(&f, "token", ref);
	CHECK(post_form(&r, "/oauth/revoke", &f, NULL, false) == 0 &&
	    r.status == 401, "revoke needs a proof: %u", r.status);
	t_resp_free(&r);
	CHECK(post_form(&r, "/oauth/revoke", &f, k2, true) == 0 &&
	    r.status == 200 && strcmp(r.body, "{}") == 0 && family_alive(jti),
	    "another key cannot revoke: %s", r.body);
	t_resp_free(&r);
	CHECK(post_form(&r, "/oauth/revoke", &f, k1, true) == 0 &&
	    r.status == 200 && strcmp(r.body, "{}") == 0 &&
	    t_header(&r, "DPoP-Nonce") != NULL, "revoke: %s", r.body);
	t_resp_free(&r);
	CHECK(!family_alive(jti), "revoked");
	CHECK(post_form(&r, "/oauth/revoke", &f, k1, true) == 0 &&
	    r.status == 200, "unknown token: still 200");
	t_resp_free(&r);

	CHECK(session(k1, ref, jti), "another session");
	buf_reset(&f);
	form_add(&f, "client_id", CLIENT);
	form_add(&f, "token", last_at);
	CHECK(post_form(&r, "/oauth/revoke", &f, k1, true) == 0 &&
	    r.status == 200 && !family_alive(jti),
	    "revoke by access token: %s", r.body);
	t_resp_free(&r);

	/* the same proof twice */
	buf_init(&p, 16384);
	buf_init(&h, 16384);
	buf_printf(&h, "Content-Type: application/x-www-form-urlencoded\r\n"
	    "DPoP: %s\r\n", proof(&p, k1, "/oauth/revoke", true));
	buf_putc(&h, '\0');
	buf_putc(&f, '\0');
	CHECK(request(&r, "POST", "/oauth/revoke", (const char *)h.p,
	    (const char *)f.p) == 0 && r.status == 200, "first use of a proof");
	t_resp_free(&r);
	CHECK(request(&r, "POST", "/oauth/revoke", (const char *)h.p,
	    (const char *)f.p) == 0 && r.status == 401 &&
	    strcmp(jstr(&r, "error_description"), "DPoP proof replayed") == 0,
	    "replayed proof: %s", r.body);
	t_resp_free(&r);
	buf_clear(&p);
	buf_clear(&h);

	par_form(&f);
	post_form(&r, "/oauth/par", &f, NULL, false);
	snprintf(uri, sizeof(uri), "%s", jstr(&r, "request_uri"));
	t_resp_free(&r);
	CHECK(oauth_as_reject(uri, "http://localhost", &out, &why) ==
	    PDS_ENOTFOUND, "reject for another client refused");
	CHECK(oauth_as_reject(uri, CLIENT, &out, &why) == PDS_OK &&
	    strcmp(out.error, "access_denied") == 0 && out.code == NULL &&
	    strcmp(out.state, "st-1") == 0, "reject");
	oauth_as_redirect_clear(&out);
	CHECK(oauth_as_approve(uri, CLIENT, ALICE, NULL, &out, &why) ==
	    PDS_ENOTFOUND, "a rejected request is gone");
	buf_clear(&f);
	t_group_end();
}

/* A taken-down or deactivated account gets no new OAuth tokens. */
static void
test_status(void)
{
	struct pds_error err;
	struct t_resp	 r;
	struct buf	 f;
	char		 code[80], ref[80], jti[64], now[STORE_TS_LEN];

	t_group("account status");
	buf_init(&f, 16384);
	store_timestamp(now);

	/* A code issued before the takedown dies with it. */
	CHECK(authorize(k1, code, sizeof(code)), "PAR and consent");
	CHECK(account_set_status(ALICE, ACCT_TAKENDOWN, "t-1", &err) ==
	    PDS_OK, "takedown");
	code_form(&f, code, verifier);
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error_description"),
	    "Invalid code") == 0, "the takedown removed the pending code: "
	    "%u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(store_account_set_status(ALICE, ACCT_ACTIVE, now) == PDS_OK,
	    "reversal");

	/* The grants themselves look at the account. */
	CHECK(authorize(k1, code, sizeof(code)), "PAR and consent again");
	CHECK(store_account_set_status(ALICE, ACCT_TAKENDOWN, "t-2") ==
	    PDS_OK, "taken down in the store alone");
	code_form(&f, code, verifier);
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "invalid_grant") ==
	    0, "code grant for a taken-down account: %u %s", r.status,
	    r.body);
	t_resp_free(&r);
	CHECK(store_account_set_status(ALICE, ACCT_ACTIVE, now) == PDS_OK,
	    "reversal");
	CHECK(session(k1, ref, jti), "session");
	CHECK(store_account_set_status(ALICE, ACCT_DEACTIVATED, now) ==
	    PDS_OK, "deactivated in the store alone");
	refresh_form(&f, ref);
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "invalid_grant") ==
	    0, "refresh for a deactivated account: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(store_account_set_status(ALICE, ACCT_ACTIVE, now) == PDS_OK,
	    "reactivated");
	buf_clear(&f);
	t_group_end();
}

/* A new password ends the apps' sessions and the browsers' sign-ins. */
static void
test_password(void)
{
	struct store_oauth_device d;
	struct pds_error err;
	struct t_resp	 r;
	struct buf	 f;
	char		 ref[80], jti[64];
	int64_t		 c, u;

	t_group("password change");
	buf_init(&f, 16384);
	memset(&d, 0, sizeof(d));
	d.id = "dev-0123456789abcdef0123456789abcdef";
	d.session_id = "ses-0123456789abcdef0123456789abcdef";
	d.user_agent = "test";
	d.ip = "127.0.0.1";
	d.last_seen = time(NULL);
	CHECK(store_oauth_device_put(&d) == PDS_OK &&
	    store_oauth_account_device_put(d.id, ALICE, time(NULL)) == PDS_OK,
	    "a browser remembers alice");
	CHECK(session(k1, ref, jti), "session");
	CHECK(account_set_password(ALICE, "a-new-password-1", &err) ==
	    PDS_OK, "new password");
	CHECK(!family_alive(jti), "the session is gone");
	refresh_form(&f, ref);
	CHECK(post_form(&r, "/oauth/token", &f, k1, true) == 0 &&
	    r.status == 400 && strcmp(jstr(&r, "error"), "invalid_grant") ==
	    0, "its refresh token is refused: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(store_oauth_account_device_get(d.id, ALICE, &c, &u) ==
	    PDS_ENOTFOUND, "the browser forgot alice");
	buf_clear(&f);
	t_group_end();
}

int
main(void)
{
	struct http_config hc;
	char		 err[256], path[160], dd[160], now[STORE_TS_LEN];
	char		*envp[10];
	uint8_t		 key[32];
	int		 rc;

	log_init("test_pdsd_oauth_as", 0, 0);
	if (sodium_init() < 0 || key_init() != PDS_OK ||
	    mkdtemp(tmpdir) == NULL)
		return 1;
	snprintf(dd, sizeof(dd), "PDS_DATA_DIRECTORY=%s", tmpdir);
	envp[0] = "PDS_HOSTNAME=localhost";
	envp[1] = "PDS_JWT_SECRET=" SECRET;
	envp[2] = "PDS_ADMIN_PASSWORD=unit-test-admin";
	envp[3] = "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX="
	    "4f1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0";
	envp[4] = "PDS_DID_PLC_URL=http://127.0.0.1:9";
	envp[5] = dd;
	envp[6] = NULL;
	rc = config_load(&cfg, NULL, envp, err, sizeof(err));
	CHECK(rc == PDS_OK, "config: %s", err);
	if (rc != PDS_OK)
		return t_done("test_pdsd_oauth_as");
	snprintf(path, sizeof(path), "%s/pds.sqlite", tmpdir);
	CHECK(store_open(path) == PDS_OK, "store");
	CHECK(accounts_init(cfg) == PDS_OK, "accounts_init");
	CHECK(routes_init(cfg) == PDS_OK, "routes_init");
	CHECK(pdsd_module_oauth.init(cfg) == 0, "oauth init");
	CHECK(strcmp(oauth_as_issuer(), ISSUER) == 0, "issuer %s",
	    oauth_as_issuer());
	randombytes_buf(key, sizeof(key));
	store_timestamp(now);
	CHECK(store_account_insert(ALICE, "alice.test", NULL, NULL, key,
	    now) == PDS_OK, "account");
	CHECK(key_generate(&k1, KEY_P256) == PDS_OK &&
	    key_generate(&k2, KEY_P256) == PDS_OK, "keys");

	memset(&hc, 0, sizeof(hc));
	hc.bind_address = "127.0.0.1";
	hc.port = 0;
	hc.threads = 2;
	hc.max_connections = 32;
	hc.timeout_s = 10;
	new_verifier();
	rc = http_start(&hc, routes_dispatch);
	CHECK(rc == PDS_OK && (port = http_port()) != 0, "http_start");
	if (rc == PDS_OK) {
		test_metadata();
		test_par();
		test_code();
		test_refresh();
		test_revoke();
		test_confidential();
		test_status();
		test_password();
		http_stop(2000);
	}
	pdsd_module_oauth.fini();
	key_free(k1);
	key_free(k2);
	store_close();
	config_free(cfg);
	snprintf(path, sizeof(path), "rm -rf %s", tmpdir);
	if (system(path) != 0)
		fprintf(stderr, "cleanup failed\n");
	return t_done("test_pdsd_oauth_as");
}
