/*
 * test_pdsd_auth: session tokens and the credential verifier.  Tokens
 * are minted with auth_session_create() (and by hand, for expired,
 * forged and odd ones) and presented to routes of the real table over
 * the real http server on 127.0.0.1, over a store in a temporary
 * directory: signature, expiry and type checks, the scope rules of
 * each auth kind (app passwords, takendown and signupQueued scopes),
 * the account checks the route flags ask for, and refresh rotation.
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

#include "../../pdsd/accounts.h"
#include "../../pdsd/auth.h"
#include "../../pdsd/config.h"
#include "../../pdsd/http.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/xrpc.h"
#include "buf.h"
#include "err.h"
#include "jwt.h"
#include "log.h"

#include "t.h"
#include "t_http.h"

#define ALICE	"did:plc:authalice0000000000000000"
#define BOB	"did:plc:authbob000000000000000000"
#define CAROL	"did:plc:authcarol0000000000000000"
#define SECRET	"unit-test-secret"
#define SVC	"did:web:localhost"

static char	 tmpdir[] = "/tmp/test_pdsd_auth.XXXXXX";
static struct config *cfg;
static uint16_t	 port;

static void
dispatch(struct http_req *req, struct http_target *t)
{
	if (strncmp(http_req_path(req), "/xrpc/", 6) == 0)
		xrpc_dispatch(req, t);
}

static int
request(struct t_resp *r, const char *method, const char *path,
    const char *headers, long cl, const char *body, size_t len)
{
	return t_request(r, port, method, path, headers, cl, body, len);
}

static int
post_json(struct t_resp *r, const char *path, const char *headers,
    const char *body)
{
	char	 h[JWT_MAX_LEN + 256];

	snprintf(h, sizeof(h), "Content-Type: application/json\r\n%s",
	    headers);
	return request(r, "POST", path, h, (long)strlen(body), body,
	    strlen(body));
}

static const char *
err_name(const struct t_resp *r)
{
	const char *s = json_string_value(json_object_get(r->json, "error"));

	return s != NULL ? s : "";
}

static const char *
err_msg(const struct t_resp *r)
{
	const char *s = json_string_value(json_object_get(r->json,
	    "message"));

	return s != NULL ? s : "";
}

static void
make_account(const char *did, const char *handle, const char *pw)
{
	char	 hash[SA_HASH_MAX], now[STORE_TS_LEN], email[64];
	uint8_t	 key[32];

	randombytes_buf(key, sizeof(key));
	store_timestamp(now);
	snprintf(email, sizeof(email), "%s@example.com", handle);
	CHECK(account_password_hash(pw, hash, sizeof(hash)) == PDS_OK,
	    "hash");
	CHECK(store_begin() == PDS_OK, "begin");
	CHECK(store_account_insert(did, handle, email, hash, key, now) ==
	    PDS_OK, "insert %s", did);
	CHECK(store_commit() == PDS_OK, "commit");
}

/* A token signed with key over payload (stolen), malloc'd. */
static char *
mint(const char *typ, json_t *payload, const char *key)
{
	struct buf	 b;
	size_t		 n;
	char		*s = NULL;

	buf_init(&b, JWT_MAX_LEN);
	if (payload != NULL && jwt_sign_hs256(&b, typ, payload,
	    (const uint8_t *)key, strlen(key)) == PDS_OK)
		s = (char *)buf_detach(&b, &n);
	buf_clear(&b);
	json_decref(payload);
	return s;
}

/* Claims of an access token for sub with scope, exp offset from now. */
static char *
mint_access(const char *sub, const char *scope, long exp_in)
{
	time_t	 now = time(NULL);

	return mint("at+jwt", json_pack("{s:s,s:s,s:s,s:I,s:I}", "scope",
	    scope, "aud", SVC, "sub", sub, "iat", (json_int_t)now - 60,
	    "exp", (json_int_t)(now + exp_in)), SECRET);
}

/* The decoded payload (new reference) and typ of a token, or NULL. */
static json_t *
claims_of(const char *tok, char *typ, size_t typlen)
{
	struct jwt	 j;
	const char	*why;
	json_t		*p = NULL;

	memset(&j, 0, sizeof(j));
	if (tok != NULL && jwt_decode(&j, tok, strlen(tok), &why) == PDS_OK) {
		p = json_incref(j.payload);
		snprintf(typ, typlen, "%s", j.typ != NULL ? j.typ : "");
	}
	jwt_clear(&j);
	return p;
}

/* method path with "Authorization: Bearer tok"; body JSON if non-NULL. */
static int
call(struct t_resp *r, const char *method, const char *path, const char *tok,
    const char *body)
{
	char	 h[JWT_MAX_LEN + 64];

	snprintf(h, sizeof(h), "Authorization: Bearer %s\r\n",
	    tok != NULL ? tok : "");
	if (body != NULL)
		return post_json(r, path, h, body);
	return request(r, method, path, h, strcmp(method, "POST") == 0 ? 0 :
	    -1, NULL, 0);
}

#define GET_SESSION	"/xrpc/com.atproto.server.getSession"
#define LIST_APP_PW	"/xrpc/com.atproto.server.listAppPasswords"
#define INVITE_CODES	"/xrpc/com.atproto.server.getAccountInviteCodes"
#define SERVICE_AUTH	"/xrpc/com.atproto.server.getServiceAuth"
#define CONFIRM_EMAIL	"/xrpc/com.atproto.server.confirmEmail"
#define REFRESH		"/xrpc/com.atproto.server.refreshSession"
#define DELETE_SESSION	"/xrpc/com.atproto.server.deleteSession"

/* The error name method path with tok gets ("" for a 2xx). */
static const char *
outcome(const char *method, const char *path, const char *tok,
    const char *body)
{
	static char	 name[64];
	struct t_resp	 r;

	if (call(&r, method, path, tok, body) != 0)
		return "(no reply)";
	if (r.status >= 200 && r.status < 300)
		name[0] = '\0';
	else
		snprintf(name, sizeof(name), "%s", err_name(&r));
	t_resp_free(&r);
	return name;
}

/* Whether the credentials passed: no auth error (handler errors are fine). */
static bool
passes(const char *method, const char *path, const char *tok,
    const char *body)
{
	const char *e = outcome(method, path, tok, body);

	return strcmp(e, "InvalidToken") != 0 &&
	    strcmp(e, "ExpiredToken") != 0 &&
	    strcmp(e, "AuthMissing") != 0 &&
	    strcmp(e, "AuthenticationRequired") != 0 &&
	    strcmp(e, "AccountTakedown") != 0 &&
	    strcmp(e, "AccountDeactivated") != 0 &&
	    strcmp(e, "(no reply)") != 0;
}

static void
test_tokens(void)
{
	struct auth_session s, s2;
	json_t		*a, *f;
	char		 typ[32];
	struct jwt	 j;
	const char	*why;
	time_t		 now = time(NULL);

	t_group("minting");
	CHECK(auth_session_create(ALICE, AUTH_SCOPE_ACCESS, NULL, true, &s) ==
	    PDS_OK, "create");
	CHECK(strcmp(s.scope, AUTH_SCOPE_ACCESS) == 0, "scope kept");
	a = claims_of(s.access, typ, sizeof(typ));
	CHECK(a != NULL && strcmp(typ, "at+jwt") == 0, "access typ %s", typ);
	CHECK(strcmp(json_string_value(json_object_get(a, "scope")),
	    AUTH_SCOPE_ACCESS) == 0 && strcmp(json_string_value(
	    json_object_get(a, "aud")), SVC) == 0 && strcmp(
	    json_string_value(json_object_get(a, "sub")), ALICE) == 0,
	    "access claims");
	CHECK(json_integer_value(json_object_get(a, "exp")) -
	    json_integer_value(json_object_get(a, "iat")) ==
	    AUTH_ACCESS_TTL_S, "access lives 2 hours");
	CHECK(llabs(json_integer_value(json_object_get(a, "iat")) -
	    (long long)now) <= 5, "issued now");
	f = claims_of(s.refresh, typ, sizeof(typ));
	CHECK(f != NULL && strcmp(typ, "refresh+jwt") == 0, "refresh typ %s",
	    typ);
	CHECK(strcmp(json_string_value(json_object_get(f, "scope")),
	    AUTH_SCOPE_REFRESH) == 0 && json_string_length(json_object_get(f,
	    "jti")) >= 32, "refresh scope and jti");
	CHECK(json_integer_value(json_object_get(f, "exp")) -
	    json_integer_value(json_object_get(f, "iat")) ==
	    AUTH_REFRESH_TTL_S, "refresh lives 90 days");
	memset(&j, 0, sizeof(j));
	CHECK(jwt_decode(&j, s.access, strlen(s.access), &why) == PDS_OK &&
	    jwt_verify_hs256(&j, (const uint8_t *)SECRET, strlen(SECRET),
	    &why) == PDS_OK && jwt_verify_hs256(&j, (const uint8_t *)"other",
	    5, &why) != PDS_OK, "HS256 with PDS_JWT_SECRET");
	jwt_clear(&j);
	CHECK(auth_session_create(ALICE, AUTH_SCOPE_ACCESS, NULL, true, &s2) ==
	    PDS_OK, "again");
	json_decref(a);
	a = claims_of(s2.refresh, typ, sizeof(typ));
	CHECK(a != NULL && f != NULL && strcmp(json_string_value(
	    json_object_get(a, "jti")), json_string_value(json_object_get(f,
	    "jti"))) != 0, "a fresh jti each time");
	json_decref(a);
	json_decref(f);
	auth_session_clear(&s);
	auth_session_clear(&s2);
	CHECK(s.access == NULL && s.refresh == NULL, "cleared");
	t_group_end();
}

static void
test_verify(void)
{
	struct auth_session s;
	struct t_resp	 r;
	char		*t, *p;
	time_t		 now = time(NULL);

	t_group("verification");
	if (auth_session_create(ALICE, AUTH_SCOPE_ACCESS, NULL, true, &s) !=
	    PDS_OK) {
		CHECK(0, "session");
		return;
	}
	CHECK(call(&r, "GET", GET_SESSION, s.access, NULL) == 0 &&
	    r.status == 200 && strcmp(json_string_value(json_object_get(
	    r.json, "did")), ALICE) == 0, "an access token: %u %s", r.status,
	    r.body);
	t_resp_free(&r);
	CHECK(call(&r, "GET", GET_SESSION, s.refresh, NULL) == 0 &&
	    r.status == 400 && strcmp(err_name(&r), "InvalidToken") == 0 &&
	    strcmp(err_msg(&r), "Invalid token type") == 0,
	    "a refresh token for access: %s", r.body);
	t_resp_free(&r);
	CHECK(strcmp(outcome("POST", REFRESH, s.access, NULL),
	    "InvalidToken") == 0, "an access token for refresh");
	/* Admin methods: 401, saying an admin credential is wanted. */
	CHECK(call(&r, "GET", "/xrpc/com.atproto.admin.getAccountInfo?did="
	    ALICE, s.access, NULL) == 0 && r.status == 401 &&
	    strcmp(err_name(&r), "AuthenticationRequired") == 0 &&
	    strstr(err_msg(&r), "admin credential is required") != NULL &&
	    strstr(err_msg(&r), "a member's access token was given") != NULL,
	    "a member's token for a moderation method: %u %s", r.status,
	    r.body);
	t_resp_free(&r);
	CHECK(call(&r, "POST", "/xrpc/com.atproto.admin.deleteAccount",
	    s.access, "{\"did\":\"" ALICE "\"}") == 0 && r.status == 401 &&
	    strcmp(err_name(&r), "AuthenticationRequired") == 0 &&
	    strstr(err_msg(&r), "admin credential is required") != NULL,
	    "a member's token for an admin method: %u %s", r.status, r.body);
	t_resp_free(&r);

	t = mint_access(ALICE, AUTH_SCOPE_ACCESS, -10);
	CHECK(call(&r, "GET", GET_SESSION, t, NULL) == 0 && r.status == 400 &&
	    strcmp(err_name(&r), "ExpiredToken") == 0, "expired: %s", r.body);
	t_resp_free(&r);
	free(t);
	t = mint_access(ALICE, AUTH_SCOPE_ACCESS, 60);
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "") == 0,
	    "a hand-made token with the right secret");
	/* Change one character of the payload: the signature breaks. */
	p = strchr(t, '.') + 5;
	*p = *p == 'A' ? 'B' : 'A';
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "InvalidToken") ==
	    0, "tampered payload");
	free(t);
	t = mint("at+jwt", json_pack("{s:s,s:s,s:s,s:I,s:I}", "scope",
	    AUTH_SCOPE_ACCESS, "aud", SVC, "sub", ALICE, "iat",
	    (json_int_t)now, "exp", (json_int_t)now + 60), "wrong-secret");
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "InvalidToken") ==
	    0, "wrong secret");
	free(t);
	t = mint("at+jwt", json_pack("{s:s,s:s,s:s,s:I,s:I}", "scope",
	    AUTH_SCOPE_ACCESS, "aud", "did:web:elsewhere.example", "sub",
	    ALICE, "iat", (json_int_t)now, "exp", (json_int_t)now + 60),
	    SECRET);
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "InvalidToken") ==
	    0, "another service's audience");
	free(t);
	t = mint("at+jwt", json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "scope",
	    AUTH_SCOPE_ACCESS, "aud", SVC, "sub", ALICE, "lxm",
	    "com.atproto.server.getSession", "iat", (json_int_t)now, "exp",
	    (json_int_t)now + 60), SECRET);
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "InvalidToken") ==
	    0, "an lxm claim (a service token shape)");
	free(t);
	t = mint("at+jwt", json_pack("{s:s,s:s,s:I,s:I}", "scope",
	    AUTH_SCOPE_ACCESS, "aud", SVC, "iat", (json_int_t)now, "exp",
	    (json_int_t)now + 60), SECRET);
	CHECK(call(&r, "GET", GET_SESSION, t, NULL) == 0 && r.status == 400 &&
	    strstr(err_msg(&r), "sub") != NULL, "no sub: %s", r.body);
	t_resp_free(&r);
	free(t);
	t = mint_access("alice.test", AUTH_SCOPE_ACCESS, 60);
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "InvalidToken") ==
	    0, "a sub that is not a DID");
	free(t);
	t = mint_access("did:plc:nobodyhere000000000000000", AUTH_SCOPE_ACCESS,
	    60);
	CHECK(call(&r, "GET", GET_SESSION, t, NULL) == 0 && r.status == 400 &&
	    strcmp(err_name(&r), "InvalidToken") == 0 && strstr(err_msg(&r),
	    "not an account") != NULL, "an unknown account: %s", r.body);
	t_resp_free(&r);
	free(t);
	CHECK(strcmp(outcome("GET", GET_SESSION, "a.b", NULL),
	    "InvalidToken") == 0, "two parts");
	CHECK(call(&r, "GET", GET_SESSION, "", NULL) == 0 &&
	    (r.status == 400 || r.status == 401), "an empty token: %s",
	    r.body);
	t_resp_free(&r);
	CHECK(request(&r, "GET", GET_SESSION, "Authorization: Token abc\r\n",
	    -1, NULL, 0) == 0 && r.status == 401 && strcmp(err_name(&r),
	    "AuthenticationRequired") == 0, "an unknown scheme: %s", r.body);
	t_resp_free(&r);
	auth_session_clear(&s);
	t_group_end();
}

static void
test_scopes(void)
{
	char	*t;

	t_group("scopes");
	t = mint_access(ALICE, AUTH_SCOPE_ACCESS, 60);
	CHECK(passes("GET", INVITE_CODES, t, NULL), "full scope: full route");
	CHECK(passes("GET", LIST_APP_PW, t, NULL), "full scope: access route");
	free(t);

	t = mint_access(ALICE, AUTH_SCOPE_APP_PASS, 60);
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "") == 0,
	    "app password: access route");
	CHECK(strcmp(outcome("GET", INVITE_CODES, t, NULL), "InvalidToken") ==
	    0, "app password: full route refused");
	free(t);

	t = mint_access(ALICE, AUTH_SCOPE_APP_PRIV, 60);
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "") == 0,
	    "privileged app password: access route");
	CHECK(strcmp(outcome("GET", INVITE_CODES, t, NULL), "InvalidToken") ==
	    0, "privileged app password: full route refused");
	free(t);

	t = mint_access(ALICE, AUTH_SCOPE_TAKENDOWN, 60);
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "InvalidToken") ==
	    0, "takendown scope: refused without +td");
	CHECK(strcmp(outcome("GET", SERVICE_AUTH, t, NULL), "InvalidRequest")
	    == 0, "takendown scope: getServiceAuth (+td) reaches the handler");
	free(t);

	t = mint_access(ALICE, AUTH_SCOPE_SIGNUP_QUEUED, 60);
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "") == 0,
	    "signupQueued scope: getSession (+sq)");
	CHECK(strcmp(outcome("GET", LIST_APP_PW, t, NULL), "InvalidToken") ==
	    0, "signupQueued scope: refused without +sq");
	free(t);

	t = mint_access(ALICE, AUTH_SCOPE_REFRESH, 60);
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "InvalidToken") ==
	    0, "the refresh scope in an access token");
	free(t);
	t = mint_access(ALICE, "com.atproto.accessX", 60);
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "InvalidToken") ==
	    0, "an unknown scope");
	free(t);
	t_group_end();
}

static void
test_account_flags(void)
{
	char	*t;

	t_group("account flags");
	CHECK(store_account_set_status(BOB, ACCT_TAKENDOWN, "ref-1") == PDS_OK,
	    "take down");
	t = mint_access(BOB, AUTH_SCOPE_ACCESS, 60);
	CHECK(strcmp(outcome("POST", CONFIRM_EMAIL, t, "{}"),
	    "AccountTakedown") == 0, "a takedown check refuses");
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "") == 0,
	    "no takedown check: getSession answers");
	free(t);
	t = mint_access(ALICE, AUTH_SCOPE_ACCESS, 60);
	CHECK(strcmp(outcome("POST", CONFIRM_EMAIL, t, "{}"),
	    "InvalidRequest") == 0, "an active account passes the check");
	free(t);

	CHECK(store_account_set_status(CAROL, ACCT_DEACTIVATED,
	    "2024-01-01T00:00:00.000Z") == PDS_OK, "deactivate");
	t = mint_access(CAROL, AUTH_SCOPE_ACCESS, 60);
	/* No route of the table asks for the deactivated check. */
	CHECK(strcmp(outcome("POST", CONFIRM_EMAIL, t, "{}"),
	    "InvalidRequest") == 0, "deactivated: a takedown check passes");
	CHECK(strcmp(outcome("GET", GET_SESSION, t, NULL), "") == 0,
	    "deactivated: getSession answers");
	free(t);
	t_group_end();
}

/* The jti of a refresh token, or "". */
static const char *
jti_of(const char *tok)
{
	static char	 out[128];
	char		 typ[32];
	json_t		*c = claims_of(tok, typ, sizeof(typ));

	snprintf(out, sizeof(out), "%s", c != NULL ? json_string_value(
	    json_object_get(c, "jti")) : "");
	json_decref(c);
	return out;
}

static void
test_refresh(void)
{
	struct auth_session s;
	struct store_app_password ap;
	struct pds_error	 e;
	struct t_resp	 r;
	char		 pw[ACCOUNT_APP_PASSWORD_LEN + 1], typ[32];
	char		 next[128], *t;
	json_t		*c;
	time_t		 now = time(NULL);

	t_group("refresh");
	if (auth_session_create(ALICE, AUTH_SCOPE_ACCESS, NULL, true, &s) !=
	    PDS_OK) {
		CHECK(0, "session");
		return;
	}
	CHECK(request(&r, "POST", REFRESH, "Authorization: Bearer x\r\n"
	    "Content-Type: application/json\r\n", 2, "{}", 2) == 0 &&
	    r.status == 400 && strcmp(err_name(&r), "InvalidToken") == 0,
	    "credentials before the body");
	t_resp_free(&r);
	CHECK(call(&r, "POST", REFRESH, s.refresh, "{}") == 0 &&
	    r.status == 400 && strstr(err_msg(&r), "body was provided") !=
	    NULL, "a body where none is expected: %s", r.body);
	t_resp_free(&r);
	CHECK(call(&r, "POST", REFRESH, s.refresh, NULL) == 0 &&
	    r.status == 200, "rotate: %u %s", r.status, r.body);
	snprintf(next, sizeof(next), "%s", jti_of(json_string_value(
	    json_object_get(r.json, "refreshJwt"))));
	CHECK(next[0] != '\0' && strcmp(next, jti_of(s.refresh)) != 0,
	    "a new refresh token");
	CHECK(strcmp(outcome("GET", GET_SESSION, json_string_value(
	    json_object_get(r.json, "accessJwt")), NULL), "") == 0,
	    "the new access token works");
	t_resp_free(&r);
	CHECK(call(&r, "POST", REFRESH, s.refresh, NULL) == 0 &&
	    r.status == 200 && strcmp(jti_of(json_string_value(
	    json_object_get(r.json, "refreshJwt"))), next) == 0,
	    "a retry in the grace window gets the same next token");
	t_resp_free(&r);
	auth_session_clear(&s);

	/* Never stored: refused as revoked. */
	CHECK(auth_session_create(ALICE, AUTH_SCOPE_ACCESS, NULL, false, &s) ==
	    PDS_OK, "unstored session");
	CHECK(strcmp(outcome("POST", REFRESH, s.refresh, NULL),
	    "ExpiredToken") == 0, "an unstored refresh token");
	CHECK(strcmp(outcome("GET", GET_SESSION, s.access, NULL), "") == 0,
	    "... its access token works");
	auth_session_clear(&s);

	/* An app-password session keeps its scope across rotation. */
	CHECK(account_app_password_create(ALICE, "phone", false, pw, &ap,
	    &e) == PDS_OK, "app password");
	CHECK(auth_session_create(ALICE, AUTH_SCOPE_APP_PASS, "phone", true,
	    &s) == PDS_OK, "app-password session");
	CHECK(call(&r, "POST", REFRESH, s.refresh, NULL) == 0 &&
	    r.status == 200, "rotate: %u %s", r.status, r.body);
	c = claims_of(json_string_value(json_object_get(r.json, "accessJwt")),
	    typ, sizeof(typ));
	CHECK(c != NULL && strcmp(json_string_value(json_object_get(c,
	    "scope")), AUTH_SCOPE_APP_PASS) == 0, "still appPass");
	json_decref(c);
	t_resp_free(&r);
	CHECK(account_app_password_revoke(ALICE, "phone") == PDS_OK,
	    "revoke the app password");
	CHECK(strcmp(outcome("POST", REFRESH, s.refresh, NULL),
	    "ExpiredToken") == 0, "its sessions end");
	auth_session_clear(&s);

	/* deleteSession takes an expired refresh token; refreshSession not. */
	CHECK(auth_session_create(ALICE, AUTH_SCOPE_ACCESS, NULL, true, &s) ==
	    PDS_OK, "session");
	t = mint("refresh+jwt", json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}",
	    "scope", AUTH_SCOPE_REFRESH, "aud", SVC, "sub", ALICE, "jti",
	    jti_of(s.refresh), "iat", (json_int_t)now - 200, "exp",
	    (json_int_t)now - 100), SECRET);
	CHECK(strcmp(outcome("POST", REFRESH, t, NULL), "ExpiredToken") == 0,
	    "refresh: expired");
	CHECK(strcmp(outcome("POST", DELETE_SESSION, t, NULL), "") == 0,
	    "logout: expired accepted");
	CHECK(strcmp(outcome("POST", REFRESH, s.refresh, NULL),
	    "ExpiredToken") == 0, "logged out");
	free(t);
	auth_session_clear(&s);
	t_group_end();
}

int
main(void)
{
	struct http_config hc;
	char		 err[256], path[160], dd[160];
	char		*envp[8];
	int		 rc;

	log_init("test_pdsd_auth", 0, 0);
	if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL)
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
		return t_done("test_pdsd_auth");
	snprintf(path, sizeof(path), "%s/pds.sqlite", tmpdir);
	CHECK(store_open(path) == PDS_OK, "store");
	CHECK(accounts_init(cfg) == PDS_OK, "accounts_init");
	xrpc_init(cfg);
	make_account(ALICE, "alice.test", "correct horse");
	make_account(BOB, "bob.test", "battery staple");
	make_account(CAROL, "carol.test", "tr0ub4dor");

	memset(&hc, 0, sizeof(hc));
	hc.bind_address = "127.0.0.1";
	hc.port = 0;
	hc.threads = 2;
	hc.max_connections = 32;
	hc.timeout_s = 10;
	rc = http_start(&hc, dispatch);
	CHECK(rc == PDS_OK && (port = http_port()) != 0, "http_start");
	if (rc == PDS_OK) {
		test_tokens();
		test_verify();
		test_scopes();
		test_account_flags();
		test_refresh();
		http_stop(2000);
	}

	store_close();
	config_free(cfg);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pds.sqlite-wal", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pds.sqlite-shm", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return t_done("test_pdsd_auth");
}
