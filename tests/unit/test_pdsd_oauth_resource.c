/*
 * test_pdsd_oauth_resource: OAuth access tokens at the XRPC routes
 * (pdsd/oauth_resource.c) through pdsd's real HTTP server, router and
 * repository writer.
 *
 * The token families are made with the store API and the tokens signed
 * in the format the token endpoint issues (HS256, typ at+jwt, jti the
 * family's token id, cnf.jkt), so that each family can have the scope a
 * case needs without a consent round.
 *
 * Covered: a good proof; the refusals of a missing proof, a wrong htu,
 * a wrong htm, a replayed jti, a missing or wrong ath, another key, a
 * made-up nonce (use_dpop_nonce with DPoP-Nonce and WWW-Authenticate),
 * a stale iat, the token sent as Bearer, a rotated family's old token,
 * a taken-down account;
 * scopes: a post-only scope creates a post but not a like and cannot
 * delete, getSession shows the email only with transition:email, app
 * passwords are refused, service tokens follow rpc: scopes; and every
 * route that takes session credentials has a row in the permission
 * table.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

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
#include "dpop.h"
#include "err.h"
#include "jwk.h"
#include "jwt.h"
#include "keys.h"
#include "log.h"
#include "../../pdsd/accounts.h"
#include "../../pdsd/config.h"
#include "../../pdsd/http.h"
#include "../../pdsd/module.h"
#include "../../pdsd/oauth_as.h"
#include "../../pdsd/oauth_resource.h"
#include "../../pdsd/repo_writer.h"
#include "../../pdsd/routes.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/store_oauth.h"
#include "../../pdsd/xrpc.h"
#include "t.h"
#include "t_http.h"
#include "t_jws.h"

#define ALICE		"did:plc:aliceaaaaaaaaaaaaaaaaaaa"
#define ISSUER		"http://localhost:2583"
#define CLIENT		"http://localhost"
#define SECRET		"unit-test-secret"
#define EMAIL		"alice@example.com"

#define CREATE		"/xrpc/com.atproto.repo.createRecord"
#define DELETE		"/xrpc/com.atproto.repo.deleteRecord"
#define SESSION		"/xrpc/com.atproto.server.getSession"

static char		 tmpdir[] = "/tmp/test_pdsd_oauth_resource.XXXXXX";
static struct config	*cfg;
static uint16_t		 port;
static struct pds_key	*k1, *k2;
static char		 nonce[64];	/* the last DPoP-Nonce seen */
static unsigned		 jti_n;

/*
 * Send one request and read the whole reply; remembers DPoP-Nonce.  The
 * Host sent is 127.0.0.1, not the public URL: htu must not be built
 * from it.
 */
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

static bool
header_is(const struct t_resp *r, const char *name, const char *want)
{
	const char	*v = t_header(r, name);

	return v != NULL && strcmp(v, want) == 0;
}

static const char *
jstr(const struct t_resp *r, const char *key)
{
	const char *s = json_string_value(json_object_get(r->json, key));

	return s != NULL ? s : "";
}

static bool
is_error(const struct t_resp *r, unsigned status, const char *error)
{
	return r->status == status && strcmp(jstr(r, "error"), error) == 0;
}

/* What a proof says; the zero value is a good proof. */
struct pf {
	const struct pds_key *key;	/* NULL: k1 */
	const char	*htm;		/* NULL: the request's */
	const char	*htu;		/* NULL: ISSUER + path */
	bool		 no_ath;
	const char	*ath_of;	/* the token ath is made from */
	bool		 no_nonce;
	const char	*nonce;		/* NULL: the last one seen */
	long		 iat_off;
};

static const char *
proof(struct buf *b, const char *method, const char *path, const char *at,
    const struct pf *o)
{
	const struct pds_key *k = o->key != NULL ? o->key : k1;
	json_t		*hdr, *jwk, *claims;
	uint8_t		 h[crypto_hash_sha256_BYTES];
	char		 jti[32], ath[64];
	const char	*a = o->ath_of != NULL ? o->ath_of : at;

	jwk_export_public(&jwk, k);
	hdr = json_pack("{s:s, s:s, s:o}", "typ", "dpop+jwt", "alg", "ES256",
	    "jwk", jwk);
	snprintf(jti, sizeof(jti), "rs-%u-%u", (unsigned)getpid(), ++jti_n);
	claims = json_pack("{s:s, s:s, s:I}", "jti", jti, "htm",
	    o->htm != NULL ? o->htm : method, "iat",
	    (json_int_t)(time(NULL) + o->iat_off));
	if (o->htu != NULL)
		json_object_set_new(claims, "htu", json_string(o->htu));
	else
		json_object_set_new(claims, "htu", json_pack("s+", ISSUER,
		    path));
	if (!o->no_ath) {
		crypto_hash_sha256(h, (const uint8_t *)a, strlen(a));
		sodium_bin2base64(ath, sizeof(ath), h, sizeof(h),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		json_object_set_new(claims, "ath", json_string(ath));
	}
	if (!o->no_nonce)
		json_object_set_new(claims, "nonce", json_string(o->nonce !=
		    NULL ? o->nonce : nonce));
	return t_jws(b, k, hdr, claims);
}

/*
 * A call with token `at' under `scheme' and the proof p (NULL: none),
 * a JSON body when body is not NULL.
 */
static int
send_with(struct t_resp *r, const char *method, const char *path,
    const char *scheme, const char *at, const char *p, const char *body)
{
	struct buf	 h;
	int		 rc;

	buf_init(&h, 32768);
	buf_printf(&h, "Authorization: %s %s\r\n", scheme, at);
	if (p != NULL)
		buf_printf(&h, "DPoP: %s\r\n", p);
	if (body != NULL)
		buf_puts(&h, "Content-Type: application/json\r\n");
	buf_putc(&h, '\0');
	rc = request(r, method, path, (const char *)h.p, body);
	buf_clear(&h);
	return rc;
}

/* A call with a fresh proof as o says. */
static int
call(struct t_resp *r, const char *method, const char *path, const char *at,
    const struct pf *o, const char *body)
{
	struct pf	 none;
	struct buf	 p;
	int		 rc;

	memset(&none, 0, sizeof(none));
	buf_init(&p, 16384);
	rc = send_with(r, method, path, "DPoP", at, proof(&p, method, path, at,
	    o != NULL ? o : &none), body);
	buf_clear(&p);
	return rc;
}

/* ---- token families ---- */

struct family {
	char	 token_id[40];
	char	 refresh[80];
	int64_t	 id;
	char	 at[4096];
};

/* Store a family for ALICE with scope, bound to k; sign its token. */
static bool
family_make(struct family *fm, const char *scope, const struct pds_key *k)
{
	struct store_oauth_family f;
	char		 jkt[JWK_THUMB_SIZE];
	uint8_t		 rnd[16];
	int64_t		 now = (int64_t)time(NULL);
	struct buf	 b;
	json_t		*claims;
	bool		 ok;

	randombytes_buf(rnd, sizeof(rnd));
	memcpy(fm->token_id, "tok-", 4);
	sodium_bin2hex(fm->token_id + 4, sizeof(fm->token_id) - 4, rnd,
	    sizeof(rnd));
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(fm->refresh, "ref-", 4);
	sodium_bin2hex(fm->refresh + 4, sizeof(fm->refresh) - 4, rnd,
	    sizeof(rnd));
	jwk_thumbprint(k, jkt);
	memset(&f, 0, sizeof(f));
	f.token_id = fm->token_id;
	f.did = ALICE;
	f.client_id = CLIENT;
	f.client_auth = "{\"method\":\"none\"}";
	f.params = "{}";
	f.refresh_token = fm->refresh;
	f.scope = (char *)scope;
	f.dpop_jkt = jkt;
	f.created_at = f.updated_at = now;
	f.expires_at = now + OAUTH_ACCESS_TTL;
	f.session_expires_at = now + 86400;
	if (store_oauth_family_create(&f) != PDS_OK)
		return false;
	fm->id = f.id;
	claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:{s:s}, s:s}",
	    "iss", ISSUER, "aud", "did:web:localhost", "sub", ALICE,
	    "iat", (json_int_t)now, "exp", (json_int_t)f.expires_at,
	    "jti", fm->token_id, "cnf", "jkt", jkt, "client_id", CLIENT);
	buf_init(&b, JWT_MAX_LEN);
	ok = jwt_sign_hs256(&b, "at+jwt", claims, (const uint8_t *)SECRET,
	    strlen(SECRET)) == PDS_OK && buf_putc(&b, '\0') == PDS_OK &&
	    b.len < sizeof(fm->at);
	if (ok)
		memcpy(fm->at, b.p, b.len);
	json_decref(claims);
	buf_clear(&b);
	return ok;
}

static const char post_body[] =
    "{\"repo\":\"" ALICE "\",\"collection\":\"app.bsky.feed.post\","
    "\"record\":{\"$type\":\"app.bsky.feed.post\",\"text\":\"hello\","
    "\"createdAt\":\"2026-01-01T00:00:00.000Z\"}}";
static const char like_body[] =
    "{\"repo\":\"" ALICE "\",\"collection\":\"app.bsky.feed.like\","
    "\"record\":{\"$type\":\"app.bsky.feed.like\",\"subject\":{\"uri\":"
    "\"at://" ALICE "/app.bsky.feed.post/3kabcdefghi22\",\"cid\":"
    "\"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm\"},"
    "\"createdAt\":\"2026-01-01T00:00:00.000Z\"}}";

/* ---- the cases ---- */

static void
test_nonce_and_success(const struct family *g)
{
	struct t_resp	 r;
	struct pf	 o;
	const char	*w;

	t_group("nonce and a good proof");
	memset(&o, 0, sizeof(o));
	o.no_nonce = true;
	CHECK(call(&r, "GET", SESSION, g->at, &o, NULL) == 0 &&
	    is_error(&r, 401, "use_dpop_nonce"), "no nonce: %u %s", r.status,
	    r.body);
	w = t_header(&r, "WWW-Authenticate");
	CHECK(w != NULL && strncmp(w, "DPoP ", 5) == 0 &&
	    strstr(w, "error=\"use_dpop_nonce\"") != NULL &&
	    strstr(w, "algs=\"ES256 ES256K\"") != NULL, "challenge: %s",
	    w != NULL ? w : "(none)");
	CHECK(t_header(&r, "DPoP-Nonce") != NULL &&
	    strlen(t_header(&r, "DPoP-Nonce")) == DPOP_NONCE_LEN, "DPoP-Nonce");
	CHECK(json_object_get(r.json, "message") != NULL, "XRPC shape");
	t_resp_free(&r);

	memset(&o, 0, sizeof(o));
	o.nonce = "AAAAAAAAAAAAAAAAAAAAAA";
	CHECK(call(&r, "GET", SESSION, g->at, &o, NULL) == 0 &&
	    is_error(&r, 401, "use_dpop_nonce") &&
	    t_header(&r, "DPoP-Nonce") != NULL, "made-up nonce: %u %s",
	    r.status, r.body);
	t_resp_free(&r);

	CHECK(call(&r, "GET", SESSION, g->at, NULL, NULL) == 0 &&
	    r.status == 200 && strcmp(jstr(&r, "did"), ALICE) == 0,
	    "getSession: %u %s", r.status, r.body);
	CHECK(t_header(&r, "DPoP-Nonce") != NULL &&
	    header_is(&r, "Cache-Control", "private") &&
	    header_is(&r, "Vary", "Authorization"), "success headers");
	w = t_header(&r, "Access-Control-Expose-Headers");
	CHECK(w != NULL && strstr(w, "dpop-nonce") != NULL &&
	    strstr(w, "www-authenticate") != NULL, "exposed headers");
	t_resp_free(&r);

	CHECK(call(&r, "POST", CREATE, g->at, NULL, post_body) == 0 &&
	    r.status == 200 && strncmp(jstr(&r, "uri"), "at://" ALICE
	    "/app.bsky.feed.post/", 5 + strlen(ALICE) + 20) == 0,
	    "createRecord: %u %s", r.status, r.body);
	t_resp_free(&r);
	t_group_end();
}

static void
test_proof_faults(const struct family *g)
{
	struct t_resp	 r;
	struct pf	 o;
	struct buf	 p;
	const char	*w;

	t_group("proof faults");
	CHECK(send_with(&r, "GET", SESSION, "DPoP", g->at, NULL, NULL) == 0 &&
	    is_error(&r, 401, "invalid_dpop_proof") &&
	    t_header(&r, "DPoP-Nonce") != NULL, "no proof: %u %s", r.status,
	    r.body);
	w = t_header(&r, "WWW-Authenticate");
	CHECK(w != NULL && strstr(w, "error=\"invalid_dpop_proof\"") != NULL,
	    "challenge: %s", w != NULL ? w : "(none)");
	t_resp_free(&r);

	memset(&o, 0, sizeof(o));
	o.htu = "http://127.0.0.1" SESSION;
	CHECK(call(&r, "GET", SESSION, g->at, &o, NULL) == 0 &&
	    is_error(&r, 401, "invalid_dpop_proof"), "htu of Host: %s",
	    r.body);
	t_resp_free(&r);
	o.htu = ISSUER "/xrpc/com.atproto.server.checkAccountStatus";
	CHECK(call(&r, "GET", SESSION, g->at, &o, NULL) == 0 &&
	    is_error(&r, 401, "invalid_dpop_proof"), "another path: %s",
	    r.body);
	t_resp_free(&r);

	memset(&o, 0, sizeof(o));
	o.htm = "POST";
	CHECK(call(&r, "GET", SESSION, g->at, &o, NULL) == 0 &&
	    is_error(&r, 401, "invalid_dpop_proof"), "wrong htm: %s", r.body);
	t_resp_free(&r);

	memset(&o, 0, sizeof(o));
	o.no_ath = true;
	CHECK(call(&r, "GET", SESSION, g->at, &o, NULL) == 0 &&
	    is_error(&r, 401, "invalid_dpop_proof"), "no ath: %s", r.body);
	t_resp_free(&r);
	o.no_ath = false;
	o.ath_of = "another token";
	CHECK(call(&r, "GET", SESSION, g->at, &o, NULL) == 0 &&
	    is_error(&r, 401, "invalid_dpop_proof"), "wrong ath: %s", r.body);
	t_resp_free(&r);

	memset(&o, 0, sizeof(o));
	o.iat_off = -300;
	CHECK(call(&r, "GET", SESSION, g->at, &o, NULL) == 0 &&
	    is_error(&r, 401, "invalid_dpop_proof"), "stale iat: %s", r.body);
	t_resp_free(&r);
	o.iat_off = -150;
	CHECK(call(&r, "GET", SESSION, g->at, &o, NULL) == 0 &&
	    r.status == 200, "iat 150 s ago: %u %s", r.status, r.body);
	t_resp_free(&r);

	memset(&o, 0, sizeof(o));
	o.key = k2;
	CHECK(call(&r, "GET", SESSION, g->at, &o, NULL) == 0 &&
	    is_error(&r, 401, "invalid_token") && strcmp(jstr(&r, "message"),
	    "Invalid DPoP key binding") == 0, "another key: %s", r.body);
	t_resp_free(&r);

	/* the same proof twice */
	memset(&o, 0, sizeof(o));
	buf_init(&p, 16384);
	proof(&p, "GET", SESSION, g->at, &o);
	CHECK(send_with(&r, "GET", SESSION, "DPoP", g->at, (const char *)p.p,
	    NULL) == 0 && r.status == 200, "first use: %u", r.status);
	t_resp_free(&r);
	CHECK(send_with(&r, "GET", SESSION, "DPoP", g->at, (const char *)p.p,
	    NULL) == 0 && is_error(&r, 401, "invalid_dpop_proof") &&
	    strcmp(jstr(&r, "message"), "DPoP proof replayed") == 0,
	    "replayed jti: %s", r.body);
	t_resp_free(&r);
	buf_clear(&p);
	t_group_end();
}

static void
test_token_faults(const struct family *g)
{
	struct t_resp	 r;
	struct family	 f;
	struct buf	 p;
	struct pf	 o;
	int64_t		 now = (int64_t)time(NULL);

	t_group("token faults");
	memset(&o, 0, sizeof(o));
	o.no_ath = true;
	buf_init(&p, 16384);
	proof(&p, "GET", SESSION, g->at, &o);
	CHECK(send_with(&r, "GET", SESSION, "Bearer", g->at,
	    (const char *)p.p, NULL) == 0 && is_error(&r, 400, "InvalidToken") &&
	    strncmp(jstr(&r, "message"), "Malformed token", 15) == 0,
	    "as Bearer: %u %s", r.status, r.body);
	t_resp_free(&r);
	buf_clear(&p);

	CHECK(call(&r, "GET", SESSION, "not.a.token", NULL, NULL) == 0 &&
	    is_error(&r, 401, "invalid_token"), "garbage token: %u %s",
	    r.status, r.body);
	t_resp_free(&r);

	CHECK(family_make(&f, "atproto transition:generic", k1), "family");
	CHECK(call(&r, "GET", SESSION, f.at, NULL, NULL) == 0 &&
	    r.status == 200, "before the refresh: %u", r.status);
	t_resp_free(&r);
	CHECK(store_oauth_family_rotate(f.id, f.refresh, "tok-rotated0000000"
	    "00000000000000", "ref-rotated", now, now + 900, now + 86400) ==
	    PDS_OK, "rotate");
	CHECK(call(&r, "GET", SESSION, f.at, NULL, NULL) == 0 &&
	    is_error(&r, 401, "invalid_token"), "rotated away: %u %s",
	    r.status, r.body);
	CHECK(t_header(&r, "WWW-Authenticate") != NULL && strstr(t_header(&r,
	    "WWW-Authenticate"), "error=\"invalid_token\"") != NULL,
	    "challenge");
	t_resp_free(&r);
	CHECK(store_oauth_family_delete(f.id) == PDS_OK, "revoke");

	CHECK(store_account_set_status(ALICE, ACCT_TAKENDOWN, "ref-1") ==
	    PDS_OK, "take down");
	CHECK(call(&r, "GET", SESSION, g->at, NULL, NULL) == 0 &&
	    is_error(&r, 400, "AccountTakedown"), "taken down: %u %s",
	    r.status, r.body);
	t_resp_free(&r);
	CHECK(store_account_set_status(ALICE, ACCT_ACTIVE, NULL) == PDS_OK,
	    "restore");
	CHECK(call(&r, "GET", SESSION, g->at, NULL, NULL) == 0 &&
	    r.status == 200, "restored: %u %s", r.status, r.body);
	t_resp_free(&r);
	t_group_end();
}

static void
test_scopes(const struct family *g)
{
	struct t_resp	 r;
	struct family	 post, mail, svc, acct;
	char		 body[512], now[STORE_TS_LEN];
	const char	*uri, *rkey;

	t_group("scopes");
	CHECK(family_make(&post, "atproto "
	    "repo:app.bsky.feed.post?action=create", k1), "post family");
	CHECK(call(&r, "POST", CREATE, post.at, NULL, post_body) == 0 &&
	    r.status == 200, "creates a post: %u %s", r.status, r.body);
	uri = jstr(&r, "uri");
	rkey = strrchr(uri, '/') != NULL ? strrchr(uri, '/') + 1 : "x";
	snprintf(body, sizeof(body), "{\"repo\":\"" ALICE "\",\"collection\":"
	    "\"app.bsky.feed.post\",\"rkey\":\"%s\"}", rkey);
	t_resp_free(&r);
	CHECK(call(&r, "POST", CREATE, post.at, NULL, like_body) == 0 &&
	    is_error(&r, 403, "ScopeMissingError") && strcmp(jstr(&r,
	    "message"), "Missing required scope "
	    "\"repo:app.bsky.feed.like?action=create\"") == 0,
	    "no like: %u %s", r.status, r.body);
	CHECK(t_header(&r, "WWW-Authenticate") == NULL, "403: no challenge");
	t_resp_free(&r);
	CHECK(call(&r, "POST", DELETE, post.at, NULL, body) == 0 &&
	    is_error(&r, 403, "ScopeMissingError") && strcmp(jstr(&r,
	    "message"), "Missing required scope "
	    "\"repo:app.bsky.feed.post?action=delete\"") == 0,
	    "no delete: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(call(&r, "POST", "/xrpc/com.atproto.repo.applyWrites", post.at,
	    NULL, "{\"repo\":\"" ALICE "\",\"writes\":[{\"$type\":"
	    "\"com.atproto.repo.applyWrites#delete\",\"collection\":"
	    "\"app.bsky.feed.post\",\"rkey\":\"abc\"}]}") == 0 &&
	    is_error(&r, 403, "ScopeMissingError"), "no delete in applyWrites: "
	    "%u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(call(&r, "POST", "/xrpc/com.atproto.repo.putRecord", post.at,
	    NULL, "{\"repo\":\"" ALICE "\",\"collection\":\"app.bsky.feed.post\""
	    ",\"rkey\":\"abc\",\"record\":{}}") == 0 &&
	    is_error(&r, 403, "ScopeMissingError") && strstr(jstr(&r,
	    "message"), "action=update") != NULL, "putRecord needs update: %s",
	    r.body);
	t_resp_free(&r);
	CHECK(call(&r, "POST", "/xrpc/com.atproto.identity.updateHandle",
	    post.at, NULL, "{\"handle\":\"bob.test\"}") == 0 &&
	    is_error(&r, 403, "ScopeMissingError") && strstr(jstr(&r,
	    "message"), "identity:handle") != NULL, "updateHandle: %s",
	    r.body);
	t_resp_free(&r);
	CHECK(call(&r, "POST", DELETE, g->at, NULL, body) == 0 &&
	    r.status == 200, "transition:generic deletes it: %u %s", r.status,
	    r.body);
	t_resp_free(&r);

	CHECK(call(&r, "GET", SESSION, g->at, NULL, NULL) == 0 &&
	    r.status == 200 && json_object_get(r.json, "email") == NULL &&
	    json_object_get(r.json, "emailConfirmed") == NULL,
	    "no email without transition:email: %s", r.body);
	t_resp_free(&r);
	CHECK(family_make(&mail, "atproto transition:email", k1),
	    "email family");
	CHECK(call(&r, "GET", SESSION, mail.at, NULL, NULL) == 0 &&
	    r.status == 200 && strcmp(jstr(&r, "email"), EMAIL) == 0 &&
	    json_object_get(r.json, "emailConfirmed") != NULL,
	    "email with transition:email: %s", r.body);
	t_resp_free(&r);

	CHECK(call(&r, "POST", "/xrpc/com.atproto.server.createAppPassword",
	    g->at, NULL, "{\"name\":\"x\"}") == 0 &&
	    is_error(&r, 403, "Forbidden"), "createAppPassword: %u %s",
	    r.status, r.body);
	t_resp_free(&r);
	CHECK(call(&r, "GET", "/xrpc/com.atproto.server.listAppPasswords",
	    g->at, NULL, NULL) == 0 && is_error(&r, 403, "Forbidden"),
	    "listAppPasswords: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(call(&r, "POST", "/xrpc/com.atproto.server.requestAccountDelete",
	    g->at, NULL, NULL) == 0 && is_error(&r, 403, "Forbidden"),
	    "requestAccountDelete: %u %s", r.status, r.body);
	t_resp_free(&r);

	/*
	 * No OAuth token may change the account's email (the app would set
	 * its own address, then reset the password) or its status, whatever
	 * its scope.
	 */
	CHECK(family_make(&acct, "atproto account:email?action=manage "
	    "account:status?action=manage", k1), "account family");
	CHECK(call(&r, "POST", "/xrpc/com.atproto.server.updateEmail",
	    acct.at, NULL, "{\"email\":\"mallory@example.com\"}") == 0 &&
	    is_error(&r, 403, "Forbidden"), "updateEmail: %u %s", r.status,
	    r.body);
	t_resp_free(&r);
	CHECK(call(&r, "GET", SESSION, mail.at, NULL, NULL) == 0 &&
	    r.status == 200 && strcmp(jstr(&r, "email"), EMAIL) == 0,
	    "... the email is unchanged: %s", r.body);
	t_resp_free(&r);
	CHECK(call(&r, "POST", "/xrpc/com.atproto.server.requestEmailUpdate",
	    acct.at, NULL, NULL) == 0 && is_error(&r, 403, "Forbidden"),
	    "requestEmailUpdate: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(call(&r, "POST", "/xrpc/com.atproto.server.deactivateAccount",
	    acct.at, NULL, "{}") == 0 && is_error(&r, 403, "Forbidden"),
	    "deactivateAccount: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(call(&r, "POST", "/xrpc/com.atproto.server.activateAccount",
	    acct.at, NULL, NULL) == 0 && is_error(&r, 403, "Forbidden"),
	    "activateAccount: %u %s", r.status, r.body);
	t_resp_free(&r);

	CHECK(family_make(&svc, "atproto rpc:app.bsky.feed.getFeedSkeleton"
	    "?aud=*", k1), "rpc family");
	CHECK(call(&r, "GET", "/xrpc/com.atproto.server.getServiceAuth"
	    "?aud=did:web:feed.example&lxm=app.bsky.feed.getFeedSkeleton",
	    svc.at, NULL, NULL) == 0 && r.status == 200 &&
	    strlen(jstr(&r, "token")) > 0,
	    "service token its scope allows: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(call(&r, "GET", "/xrpc/com.atproto.server.getServiceAuth"
	    "?aud=did:web:feed.example&lxm=app.bsky.feed.getTimeline",
	    svc.at, NULL, NULL) == 0 && is_error(&r, 403,
	    "ScopeMissingError") && strcmp(jstr(&r, "message"),
	    "Missing required scope \"rpc:app.bsky.feed.getTimeline"
	    "?aud=did:web:feed.example\"") == 0,
	    "another lxm: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(call(&r, "GET", "/xrpc/com.atproto.server.getServiceAuth"
	    "?aud=did:web:feed.example", svc.at, NULL, NULL) == 0 &&
	    is_error(&r, 403, "ScopeMissingError") && strstr(jstr(&r,
	    "message"), "rpc:*?aud=") != NULL, "no lxm: %s", r.body);
	t_resp_free(&r);
	/* A taken-down account's OAuth session may only move away. */
	store_timestamp(now);
	CHECK(store_account_set_status(ALICE, ACCT_TAKENDOWN, "t-1") ==
	    PDS_OK, "taken down in the store alone");
	CHECK(call(&r, "GET", "/xrpc/com.atproto.server.getServiceAuth"
	    "?aud=did:web:feed.example&lxm=app.bsky.feed.getFeedSkeleton",
	    svc.at, NULL, NULL) == 0 && is_error(&r, 401, "AccountTakedown"),
	    "no service token once taken down: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(store_account_set_status(ALICE, ACCT_ACTIVE, now) == PDS_OK,
	    "reversal");
	t_group_end();
}

/* Every route taking session credentials has a permission row. */
static void
test_table(void)
{
	const struct xrpc_route *rt;
	size_t		 i, n;

	t_group("permission table");
	rt = xrpc_routes(&n);
	for (i = 0; i < n; i++) {
		if (rt[i].auth != XRPC_AUTH_ACCESS &&
		    rt[i].auth != XRPC_AUTH_PRIVILEGED &&
		    rt[i].auth != XRPC_AUTH_FULL)
			continue;
		CHECK(oauth_resource_route_known(rt[i].nsid), "row for %s",
		    rt[i].nsid);
	}
	CHECK(xrpc_route_find("com.atproto.server.createAppPassword")->
	    auth_flags & XRPC_AF_NO_OAUTH, "createAppPassword: NO_OAUTH");
	CHECK(xrpc_route_find("com.atproto.server.listAppPasswords")->
	    auth_flags & XRPC_AF_NO_OAUTH, "listAppPasswords: NO_OAUTH");
	CHECK(xrpc_route_find("com.atproto.server.revokeAppPassword")->
	    auth_flags & XRPC_AF_NO_OAUTH, "revokeAppPassword: NO_OAUTH");
	t_group_end();
}

static bool
make_account(void)
{
	struct pds_key	*key = NULL;
	struct cid	 commit;
	uint8_t		 priv[32];
	char		 now[STORE_TS_LEN], rev[TID_LEN + 1];
	int		 rc;

	randombytes_buf(priv, sizeof(priv));
	if (key_from_private(&key, KEY_K256, priv) != PDS_OK)
		return false;
	store_timestamp(now);
	if ((rc = store_begin()) == PDS_OK) {
		if ((rc = store_account_insert(ALICE, "alice.test", EMAIL,
		    "not-a-password-hash", priv, now)) != PDS_OK ||
		    (rc = repo_writer_create_repo(ALICE, key, &commit, rev)) !=
		    PDS_OK)
			store_rollback();
		else
			rc = store_commit();
	}
	sodium_memzero(priv, sizeof(priv));
	key_free(key);
	return rc == PDS_OK;
}

int
main(void)
{
	struct http_config hc;
	struct family	 g;
	char		 err[256], path[160], dd[160];
	char		*envp[10];
	int		 rc;

	log_init("test_pdsd_oauth_resource", 0, 0);
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
		return t_done("test_pdsd_oauth_resource");
	snprintf(path, sizeof(path), "%s/pds.sqlite", tmpdir);
	CHECK(store_open(path) == PDS_OK, "store");
	CHECK(accounts_init(cfg) == PDS_OK, "accounts_init");
	CHECK(routes_init(cfg) == PDS_OK, "routes_init");
	xrpc_init(cfg);
	CHECK(pdsd_module_jobs.init(cfg) == 0, "jobs");
	CHECK(pdsd_module_oauth.init(cfg) == 0, "oauth init");
	CHECK(pdsd_module_repo_writer.init(cfg) == 0, "repo writer");
	CHECK(make_account(), "account with a repo");
	CHECK(key_generate(&k1, KEY_P256) == PDS_OK &&
	    key_generate(&k2, KEY_P256) == PDS_OK, "keys");
	CHECK(family_make(&g, "atproto transition:generic", k1),
	    "generic family");

	memset(&hc, 0, sizeof(hc));
	hc.bind_address = "127.0.0.1";
	hc.port = 0;
	hc.threads = 2;
	hc.max_connections = 32;
	hc.timeout_s = 10;
	rc = http_start(&hc, routes_dispatch);
	CHECK(rc == PDS_OK && (port = http_port()) != 0, "http_start");
	if (rc == PDS_OK) {
		test_nonce_and_success(&g);
		test_proof_faults(&g);
		test_token_faults(&g);
		test_scopes(&g);
		http_stop(2000);
	}
	test_table();
	pdsd_module_repo_writer.fini();
	pdsd_module_oauth.fini();
	pdsd_module_jobs.fini();
	key_free(k1);
	key_free(k2);
	store_close();
	config_free(cfg);
	snprintf(path, sizeof(path), "rm -rf %s", tmpdir);
	if (system(path) != 0)
		fprintf(stderr, "cleanup failed\n");
	return t_done("test_pdsd_oauth_resource");
}
