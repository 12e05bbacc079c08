/*
 * test_pdsd_xrpc: the XRPC router.  The route and error tables are
 * checked directly; routing itself (unknown NSIDs, wrong HTTP method,
 * the auth kinds and flags the table gives, body limits including the
 * two resolved from the config, JSON body errors) through the real http
 * server on 127.0.0.1, over a store in a temporary directory.
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
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "../../pdsd/accounts.h"
#include "../../pdsd/config.h"
#include "../../pdsd/http.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/xrpc.h"
#include "err.h"
#include "log.h"

#include "t.h"
#include "t_http.h"

#define ALICE	"did:plc:xrpcalice0000000000000000"
#define ADMIN_B64 "YWRtaW46dW5pdC10ZXN0LWFkbWlu"	/* admin:unit-test-admin */

static char	 tmpdir[] = "/tmp/test_pdsd_xrpc.XXXXXX";
static struct config *cfg;
static uint16_t	 port;

/* What the last dispatch chose (set on a server thread). */
static volatile size_t	 last_body_max;
static const void *volatile last_route;

static void
dispatch(struct http_req *req, struct http_target *t)
{
	if (strncmp(http_req_path(req), "/xrpc/", 6) != 0)
		return;
	xrpc_dispatch(req, t);
	last_body_max = t->body_max;
	last_route = t->arg;
}

static int
request(struct t_resp *r, const char *method, const char *path,
    const char *headers, long cl, const char *body, size_t len)
{
	return t_request(r, port, method, path, headers, cl, body, len);
}

static int
get(struct t_resp *r, const char *path, const char *headers)
{
	return request(r, "GET", path, headers, -1, NULL, 0);
}

static int
post_json(struct t_resp *r, const char *path, const char *headers,
    const char *body)
{
	char	 h[1024];

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
test_route_table(void)
{
	const struct xrpc_route *rs, *r;
	size_t		 n, i;
	bool		 found = true, shape = true, bodies = true;

	t_group("route table");
	rs = xrpc_routes(&n);
	CHECK(n > 50, "%zu routes", n);
	for (i = 0; i < n; i++) {
		if (xrpc_route_find(rs[i].nsid) != &rs[i])
			found = false;
		if (rs[i].method != HTTP_GET && rs[i].method != HTTP_POST)
			shape = false;
		/* a query takes no body; a procedure's input has a limit */
		if (rs[i].method == HTTP_GET && (rs[i].input != XRPC_IN_NONE ||
		    rs[i].body_max != 0))
			bodies = false;
		if (rs[i].input != XRPC_IN_NONE && rs[i].body_max == 0)
			bodies = false;
	}
	CHECK(found, "every route found by its NSID, and only once");
	CHECK(shape, "every route is GET or POST");
	CHECK(bodies, "body limits fit the input kinds");
	r = xrpc_route_find("com.atproto.server.createSession");
	CHECK(r != NULL && r->method == HTTP_POST && r->auth ==
	    XRPC_AUTH_NONE && r->input == XRPC_IN_JSON &&
	    r->body_max == XRPC_BODY_JSON && r->rate ==
	    XRPC_RATE_CREATE_SESSION, "createSession row");
	r = xrpc_route_find("com.atproto.repo.uploadBlob");
	CHECK(r != NULL && r->input == XRPC_IN_BYTES &&
	    r->body_max == XRPC_BODY_BLOB && (r->auth_flags &
	    XRPC_AF_CHECK_TAKEDOWN), "uploadBlob row");
	r = xrpc_route_find("com.atproto.sync.getRepo");
	CHECK(r != NULL && r->auth == XRPC_AUTH_ACCESS &&
	    (r->auth_flags & XRPC_AF_OPTIONAL) &&
	    (r->auth_flags & XRPC_AF_OR_ADMIN), "getRepo: optional auth");
	CHECK(xrpc_route_find("com.atproto.server.createsession") == NULL,
	    "lookup is case-sensitive");
	CHECK(xrpc_route_find("com.atproto.server.createSessio") == NULL &&
	    xrpc_route_find("com.atproto.server.createSessionX") == NULL,
	    "no prefix matches");
	CHECK(xrpc_route_find("") == NULL, "empty");
	CHECK(xrpc_route_find("app.bsky.feed.getFeedSkeleton") == NULL,
	    "a method only the AppView serves");
	t_group_end();
}

static void
test_error_table(void)
{
	static const struct {
		int		 code;
		unsigned	 status;
		const char	*name;
		const char	*msg;	/* default message */
	} want[] = {
		{ PDS_ENOMEM, 500, "InternalServerError",
		    "Internal Server Error" },
		{ PDS_EINVAL, 400, "InvalidRequest", "invalid input" },
		{ PDS_ETRUNC, 400, "InvalidRequest", "input truncated" },
		{ PDS_ENONCANON, 400, "InvalidRequest",
		    "not in canonical form" },
		{ PDS_ETOOBIG, 400, "InvalidRequest", "limit exceeded" },
		{ PDS_EUNSUPP, 400, "InvalidRequest", "not supported" },
		{ PDS_ENOTFOUND, 400, "InvalidRequest", "not found" },
		{ PDS_EEXIST, 400, "InvalidRequest", "already exists" },
		{ PDS_ECRYPTO, 500, "InternalServerError",
		    "Internal Server Error" },
		{ PDS_EEXPIRED, 400, "InvalidRequest", "expired" },
		{ PDS_EIO, 500, "InternalServerError", "Internal Server Error" },
		{ PDS_EMISMATCH, 400, "InvalidRequest",
		    "hash or signature mismatch" },
		{ PDS_EINTERNAL, 500, "InternalServerError",
		    "Internal Server Error" },
		{ PDS_EAUTHREQ, 401, "AuthenticationRequired",
		    "AuthenticationRequired" },
		{ PDS_EAUTHMISSING, 401, "AuthMissing", "AuthMissing" },
		{ PDS_EBADTOKEN, 400, "InvalidToken", "InvalidToken" },
		{ PDS_ETOKENEXPIRED, 400, "ExpiredToken", "ExpiredToken" },
		{ PDS_EFORBIDDEN, 403, "Forbidden", "Forbidden" },
		{ PDS_ENOSUCH, 404, "NotFound", "NotFound" },
		{ PDS_ENOMETHOD, 404, "XRPCNotSupported", "XRPCNotSupported" },
		{ PDS_EPAYLOAD, 413, "PayloadTooLarge", "PayloadTooLarge" },
		{ PDS_ERATELIMIT, 429, "RateLimitExceeded",
		    "RateLimitExceeded" },
		{ PDS_ENOTIMPL, 501, "MethodNotImplemented",
		    "MethodNotImplemented" },
		{ PDS_EUPSTREAM, 502, "UpstreamFailure", "UpstreamFailure" },
		{ PDS_EBUSY, 503, "NotEnoughResources", "NotEnoughResources" },
		{ PDS_EUPTIMEOUT, 504, "UpstreamTimeout", "UpstreamTimeout" },
		{ PDS_ETAKENDOWN, 400, "AccountTakedown", "AccountTakedown" },
		{ PDS_EDEACTIVATED, 400, "AccountDeactivated",
		    "AccountDeactivated" },
		{ 9999, 500, "InternalServerError", "Internal Server Error" },
		{ -9999, 500, "InternalServerError", "Internal Server Error" },
	};
	size_t	 i;
	int	 c;
	bool	 all = true, seen;

	t_group("error table");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(xrpc_err_status(want[i].code) == want[i].status &&
		    strcmp(xrpc_err_name(want[i].code), want[i].name) == 0 &&
		    strcmp(xrpc_err_message(want[i].code), want[i].msg) == 0,
		    "code %d: %u %s \"%s\"", want[i].code,
		    xrpc_err_status(want[i].code), xrpc_err_name(want[i].code),
		    xrpc_err_message(want[i].code));
	/* every code is listed above, and only the internal ones are 500 */
	for (c = -1; c >= PDS_E__MIN; c--) {
		seen = false;
		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (want[i].code == c)
				seen = true;
		if (!seen || strcmp(pds_strerror(c), "unknown error") == 0)
			all = false;
		if (xrpc_err_status(c) == 500 && c != PDS_ENOMEM &&
		    c != PDS_ECRYPTO && c != PDS_EIO && c != PDS_EINTERNAL)
			all = false;
	}
	CHECK(all, "every code has its own row and text");
	CHECK(strcmp(pds_strerror(PDS_E__MIN - 1), "unknown error") == 0,
	    "PDS_E__MIN is the last code");
	t_group_end();
}

static void
test_admin_basic(void)
{
	char	 b[128];

	t_group("admin basic");
	CHECK(xrpc_admin_ok(cfg, "Basic " ADMIN_B64), "right password");
	CHECK(xrpc_admin_ok(cfg, "basic " ADMIN_B64), "scheme in any case");
	/* admin:unit-test-admiN */
	CHECK(!xrpc_admin_ok(cfg, "Basic YWRtaW46dW5pdC10ZXN0LWFkbWlO"),
	    "wrong password");
	/* root:unit-test-admin */
	CHECK(!xrpc_admin_ok(cfg, "Basic cm9vdDp1bml0LXRlc3QtYWRtaW4="),
	    "wrong user");
	/* admin:unit-test-admin2 */
	CHECK(!xrpc_admin_ok(cfg, "Basic YWRtaW46dW5pdC10ZXN0LWFkbWluMg=="),
	    "a longer password");
	CHECK(!xrpc_admin_ok(cfg, "Basic !!!"), "not base64");
	CHECK(!xrpc_admin_ok(cfg, "Bearer " ADMIN_B64), "not Basic");
	CHECK(!xrpc_admin_ok(cfg, NULL), "no header");
	memset(b, 'Q', sizeof(b));
	memcpy(b, "Basic ", 6);
	b[sizeof(b) - 1] = '\0';
	CHECK(!xrpc_admin_ok(cfg, b), "long junk");
	t_group_end();
}

static void
test_methods(void)
{
	struct t_resp	 r;

	t_group("routing");
	CHECK(get(&r, "/xrpc/com.atproto.identity.resolveHandle?handle="
	    "alice.test", "") == 0 && r.status == 200, "a query: %u %s",
	    r.status, r.body);
	CHECK(strcmp(json_string_value(json_object_get(r.json, "did")),
	    ALICE) == 0, "the handler answered");
	CHECK(last_route == xrpc_route_find(
	    "com.atproto.identity.resolveHandle") && last_body_max == 0,
	    "dispatched to its route, no body accepted");
	t_resp_free(&r);
	CHECK(request(&r, "HEAD", "/xrpc/com.atproto.identity.resolveHandle"
	    "?handle=alice.test", "", -1, NULL, 0) == 0 && r.status == 200,
	    "HEAD on a query: %u", r.status);
	t_resp_free(&r);

	CHECK(request(&r, "POST", "/xrpc/com.atproto.identity.resolveHandle"
	    "?handle=alice.test", "", 0, NULL, 0) == 0 && r.status == 400 &&
	    strcmp(err_name(&r), "InvalidRequest") == 0 &&
	    strcmp(err_msg(&r), "Incorrect HTTP method (POST) expected GET")
	    == 0, "POST on a query: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(get(&r, "/xrpc/com.atproto.server.createSession", "") == 0 &&
	    r.status == 400 && strcmp(err_msg(&r),
	    "Incorrect HTTP method (GET) expected POST") == 0,
	    "GET on a procedure: %u %s", r.status, r.body);
	CHECK(last_body_max == 0, "answered from the head, no body read");
	t_resp_free(&r);
	CHECK(request(&r, "PUT", "/xrpc/com.atproto.server.createSession", "",
	    2, "{}", 2) == 0 && r.status == 400 && strstr(err_msg(&r),
	    "(PUT)") != NULL, "PUT: %u %s", r.status, r.body);
	t_resp_free(&r);

	/* Not in the table: the fallback, with nowhere to proxy to. */
	CHECK(get(&r, "/xrpc/com.example.unknown.method", "") == 0 &&
	    r.status == 501 && strcmp(err_name(&r), "MethodNotImplemented")
	    == 0, "unknown NSID: %u %s", r.status, r.body);
	CHECK(last_route == NULL && last_body_max == 0,
	    "nowhere to proxy: answered from the head, body limit %zu",
	    (size_t)last_body_max);
	t_resp_free(&r);
	CHECK(get(&r, "/xrpc/not-an-nsid", "") == 0 && r.status == 400 &&
	    strcmp(err_name(&r), "InvalidRequest") == 0,
	    "not an NSID: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(get(&r, "/xrpc/com.atproto.server.getSessionX", "") == 0 &&
	    r.status == 501, "near miss is unknown: %u", r.status);
	t_resp_free(&r);
	t_group_end();
}

static void
test_auth_kinds(void)
{
	struct t_resp	 r;
	const char	*p;

	t_group("auth kinds");
	/* NONE ignores an Authorization header. */
	CHECK(post_json(&r, "/xrpc/com.atproto.server.createSession",
	    "Authorization: Bearer junk\r\n", "{\"identifier\":\"alice.test\","
	    "\"password\":\"correct horse\"}") == 0 && r.status == 200 &&
	    json_is_string(json_object_get(r.json, "accessJwt")),
	    "none: header ignored: %u %s", r.status, r.body);
	t_resp_free(&r);

	/* ACCESS: required. */
	p = "/xrpc/com.atproto.server.getSession";
	CHECK(get(&r, p, "") == 0 && r.status == 401 &&
	    strcmp(err_name(&r), "AuthMissing") == 0,
	    "access: none given: %u %s", r.status, r.body);
	CHECK(t_header(&r, "WWW-Authenticate") != NULL &&
	    strcmp(t_header(&r, "WWW-Authenticate"), "Bearer") == 0,
	    "401 carries WWW-Authenticate");
	t_resp_free(&r);
	CHECK(get(&r, p, "Authorization: \r\n") == 0 && r.status == 401 &&
	    strcmp(err_name(&r), "AuthMissing") == 0, "an empty header");
	t_resp_free(&r);
	CHECK(get(&r, p, "Authorization: Basic " ADMIN_B64 "\r\n") == 0 &&
	    r.status == 401 && strcmp(err_name(&r),
	    "AuthenticationRequired") == 0,
	    "access: admin Basic not accepted: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(get(&r, p, "Authorization: Bearer nonsense\r\n") == 0 &&
	    r.status == 400 && strcmp(err_name(&r), "InvalidToken") == 0,
	    "access: a malformed token: %u %s", r.status, r.body);
	t_resp_free(&r);

	/* ADMIN: Basic only. */
	p = "/xrpc/com.atproto.server.createInviteCode";
	/* the reference's name for it on admin routes */
	CHECK(post_json(&r, p, "", "{\"useCount\":1}") == 0 &&
	    r.status == 401 && strcmp(err_name(&r),
	    "AuthenticationRequired") == 0,
	    "admin: none given: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(post_json(&r, p, "Authorization: Basic "
	    "YWRtaW46d3Jvbmc=\r\n", "{\"useCount\":1}") == 0 &&
	    r.status == 401 && strcmp(err_msg(&r),
	    "Invalid admin credentials") == 0, "admin: wrong password: %s",
	    r.body);
	t_resp_free(&r);
	CHECK(post_json(&r, p, "Authorization: Bearer x.y.z\r\n",
	    "{\"useCount\":1}") == 0 && r.status == 401 && strcmp(err_msg(&r),
	    "An admin credential is required (the admin password, HTTP "
	    "Basic); a Bearer token was given") == 0,
	    "admin: a Bearer token: %s", r.body);
	t_resp_free(&r);
	CHECK(post_json(&r, p, "Authorization: Basic " ADMIN_B64 "\r\n",
	    "{\"useCount\":1}") == 0 && r.status == 200 &&
	    json_is_string(json_object_get(r.json, "code")),
	    "admin: accepted: %u %s", r.status, r.body);
	t_resp_free(&r);

	/* MOD: admin Basic accepted. */
	CHECK(get(&r, "/xrpc/com.atproto.admin.getAccountInfo?did=" ALICE,
	    "Authorization: Basic " ADMIN_B64 "\r\n") == 0 &&
	    r.status == 200 && strcmp(json_string_value(json_object_get(
	    r.json, "did")), ALICE) == 0, "mod: admin: %u %s", r.status,
	    r.body);
	t_resp_free(&r);
	CHECK(get(&r, "/xrpc/com.atproto.admin.getAccountInfo?did=" ALICE,
	    "") == 0 && r.status == 401, "mod: none given: %u", r.status);
	t_resp_free(&r);

	/* Optional, or admin: anonymous passes, bad credentials do not. */
	p = "/xrpc/com.atproto.sync.getLatestCommit?did=did:plc:nobody";
	CHECK(get(&r, p, "") == 0 && r.status != 401 &&
	    strcmp(err_name(&r), "InvalidToken") != 0,
	    "optional: anonymous reaches the handler: %u %s", r.status,
	    r.body);
	t_resp_free(&r);
	CHECK(get(&r, p, "Authorization: Basic YWRtaW46d3Jvbmc=\r\n") == 0 &&
	    r.status == 401 && strcmp(err_msg(&r),
	    "Invalid admin credentials") == 0,
	    "optional: a wrong admin password: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(get(&r, p, "Authorization: Bearer junk\r\n") == 0 &&
	    r.status == 400 && strcmp(err_name(&r), "InvalidToken") == 0,
	    "optional: a bad token: %u %s", r.status, r.body);
	t_resp_free(&r);
	t_group_end();
}

static void
test_bodies(void)
{
	struct t_resp	 r;
	char		*big;
	const char	*p = "/xrpc/com.atproto.server.createSession";
	size_t		 n = XRPC_BODY_JSON;

	t_group("JSON bodies");
	CHECK(request(&r, "POST", p, "", 2, "{}", 2) == 0 && r.status == 400 &&
	    strstr(err_msg(&r), "Content-Type") != NULL &&
	    strstr(err_msg(&r), "required") != NULL,
	    "no Content-Type: %u %s", r.status, r.body);
	t_resp_free(&r);
	CHECK(request(&r, "POST", p, "Content-Type: application/json\r\n", 0,
	    NULL, 0) == 0 && r.status == 400 && strstr(err_msg(&r),
	    "required but not provided") != NULL, "no body: %s", r.body);
	t_resp_free(&r);
	CHECK(request(&r, "POST", p, "Content-Type: text/plain\r\n", 2, "{}",
	    2) == 0 && r.status == 400 && strstr(err_msg(&r),
	    "Wrong request encoding") != NULL, "text/plain: %s", r.body);
	t_resp_free(&r);
	CHECK(request(&r, "POST", p, "Content-Type: application/jsonx\r\n",
	    2, "{}", 2) == 0 && r.status == 400 && strstr(err_msg(&r),
	    "Wrong request encoding") != NULL, "application/jsonx: %s",
	    r.body);
	t_resp_free(&r);
	CHECK(post_json(&r, p, "", "{\"identifier\":") == 0 &&
	    r.status == 400 && strstr(err_msg(&r), "Invalid JSON body") !=
	    NULL, "truncated JSON: %s", r.body);
	t_resp_free(&r);
	/* the reference's words (its lexicon check) */
	CHECK(post_json(&r, p, "", "[1,2]") == 0 && r.status == 400 &&
	    strcmp(err_msg(&r), "Expected object value type (got [1, 2]) "
	    "at $") == 0, "an array: %s", r.body);
	t_resp_free(&r);
	CHECK(request(&r, "POST", p, "Content-Type: Application/JSON; "
	    "charset=utf-8\r\n", 2, "{}", 2) == 0 && r.status == 400 &&
	    strstr(err_msg(&r), "\"identifier\"") != NULL,
	    "JSON with parameters reaches the handler: %s", r.body);
	t_resp_free(&r);
	CHECK(post_json(&r, p, "", "{\"identifier\":5,\"password\":\"x\"}") ==
	    0 && r.status == 400 && strcmp(err_msg(&r), "Expected string "
	    "value type (got 5) at $.identifier") == 0,
	    "a number for a string: %s", r.body);
	t_resp_free(&r);
	CHECK(post_json(&r, p, "", "{\"identifier\":\"alice\\u0000.test\","
	    "\"password\":\"x\"}") == 0 && r.status == 400 &&
	    strcmp(err_name(&r), "InvalidRequest") == 0,
	    "an embedded NUL refused: %s", r.body);
	t_resp_free(&r);
	t_group_end();

	t_group("body limits");
	/* Refused on the Content-Length alone, before any body byte. */
	CHECK(request(&r, "POST", p, "Content-Type: application/json\r\n",
	    (long)n + 1, NULL, 0) == 0 && r.status == 413 &&
	    strcmp(err_name(&r), "PayloadTooLarge") == 0,
	    "createSession: one byte over: %u %s", r.status, r.body);
	t_resp_free(&r);
	/* Exactly the limit: read and parsed. */
	if ((big = malloc(n)) != NULL) {
		memset(big, ' ', n);
		memcpy(big, "{}", 2);
		CHECK(request(&r, "POST", p, "Content-Type: application/json"
		    "\r\n", (long)n, big, n) == 0 && r.status == 400 &&
		    strstr(err_msg(&r), "\"identifier\"") != NULL,
		    "createSession: at the limit: %u %s", r.status, r.body);
		t_resp_free(&r);
		free(big);
	}
	/* XRPC_BODY_IMPORT: PDS_MAX_REPO_IMPORT_SIZE (3000 here). */
	p = "/xrpc/com.atproto.repo.importRepo";
	/* streamed, like uploadBlob: credentials come first */
	CHECK(request(&r, "POST", p, "Content-Type: application/vnd.ipld.car"
	    "\r\n", 3001, NULL, 0) == 0 && r.status == 401,
	    "importRepo: 3001 bytes, no credentials: %u %s", r.status,
	    r.body);
	CHECK(last_body_max == 3000, "importRepo limit %zu",
	    (size_t)last_body_max);
	t_resp_free(&r);
	if ((big = calloc(1, 3000)) != NULL) {
		CHECK(request(&r, "POST", p, "", 3000, big, 3000) == 0 &&
		    r.status == 401, "importRepo: 3000 bytes read: %u %s",
		    r.status, r.body);
		t_resp_free(&r);
		free(big);
	}
	/* XRPC_BODY_BLOB: PDS_BLOB_UPLOAD_LIMIT (1000 here). */
	p = "/xrpc/com.atproto.repo.uploadBlob";
	CHECK(request(&r, "POST", p, "", 1000, NULL, 0) == 0 &&
	    r.status == 401, "uploadBlob: credentials first: %u %s",
	    r.status, r.body);
	CHECK(last_body_max == 1000, "uploadBlob limit %zu",
	    (size_t)last_body_max);
	t_resp_free(&r);
	CHECK(get(&r, "/xrpc/com.atproto.server.getSession", "") == 0 &&
	    last_body_max == 0, "a query accepts no body");
	t_resp_free(&r);
	CHECK(request(&r, "GET", "/xrpc/com.atproto.identity.resolveHandle"
	    "?handle=alice.test", "", 5, "hello", 5) == 0 && r.status == 413,
	    "a query with a body: %u", r.status);
	t_resp_free(&r);
	/* credentials are checked from the head, before the size */
	CHECK(request(&r, "POST", "/xrpc/com.atproto.repo.createRecord", "",
	    XRPC_BODY_JSON_WRITE + 1, NULL, 0) == 0 && r.status == 401 &&
	    last_body_max == XRPC_BODY_JSON_WRITE,
	    "createRecord: 1 MB limit, no credentials: %u", r.status);
	t_resp_free(&r);
	t_group_end();
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

int
main(void)
{
	struct http_config hc;
	char		 err[256], path[160], dd[160];
	char		*envp[10];
	int		 rc;

	log_init("test_pdsd_xrpc", 0, 0);
	if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL)
		return 1;
	snprintf(dd, sizeof(dd), "PDS_DATA_DIRECTORY=%s", tmpdir);
	envp[0] = "PDS_HOSTNAME=localhost";
	envp[1] = "PDS_JWT_SECRET=unit-test-secret";
	envp[2] = "PDS_ADMIN_PASSWORD=unit-test-admin";
	envp[3] = "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX="
	    "4f1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0";
	envp[4] = "PDS_BLOB_UPLOAD_LIMIT=1000";
	envp[5] = "PDS_MAX_REPO_IMPORT_SIZE=3000";
	envp[6] = "PDS_DID_PLC_URL=http://127.0.0.1:9";
	envp[7] = dd;
	envp[8] = NULL;
	rc = config_load(&cfg, NULL, envp, err, sizeof(err));
	CHECK(rc == PDS_OK, "config: %s", err);
	if (rc != PDS_OK)
		return t_done("test_pdsd_xrpc");
	snprintf(path, sizeof(path), "%s/pds.sqlite", tmpdir);
	CHECK(store_open(path) == PDS_OK, "store");
	CHECK(accounts_init(cfg) == PDS_OK, "accounts_init");
	xrpc_init(cfg);
	make_account(ALICE, "alice.test", "correct horse");

	test_route_table();
	test_error_table();
	test_admin_basic();

	memset(&hc, 0, sizeof(hc));
	hc.bind_address = "127.0.0.1";
	hc.port = 0;
	hc.threads = 2;
	hc.max_connections = 32;
	hc.timeout_s = 10;
	rc = http_start(&hc, dispatch);
	CHECK(rc == PDS_OK && (port = http_port()) != 0, "http_start");
	if (rc == PDS_OK) {
		test_methods();
		test_auth_kinds();
		test_bodies();
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
	return t_done("test_pdsd_xrpc");
}
