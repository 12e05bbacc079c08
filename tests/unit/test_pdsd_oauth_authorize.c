/*
 * test_pdsd_oauth_authorize: the authorization pages' pure helpers:
 * cookies (reading a Cookie header, the Set-Cookie attributes), the
 * CSRF comparison, identifiers, form fields, request URIs, and the
 * redirect back to the client in each response_mode, with state and
 * iss always there and hostile values percent-encoded or escaped.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "../../pdsd/oauth_authorize.h"
#include "t.h"

#define CSRF	"0123456789abcdef01234567"
#define REQID	"req-0123456789abcdef0123456789abcdef"
#define ISS	"https://pds.example.com"

static void
test_cookies(void)
{
	char		 v[64];
	struct buf	 b;

	t_group("cookies");
	CHECK(oauth_authz_cookie("a=1; dev-id=dev-x; b=2", "dev-id", v,
	    sizeof(v)) == PDS_OK && strcmp(v, "dev-x") == 0, "middle");
	CHECK(oauth_authz_cookie("dev-id=first;dev-id=second", "dev-id", v,
	    sizeof(v)) == PDS_OK && strcmp(v, "first") == 0, "first wins");
	CHECK(oauth_authz_cookie("xdev-id=1; dev-idx=2", "dev-id", v,
	    sizeof(v)) == PDS_ENOTFOUND, "no prefix or suffix matches");
	CHECK(oauth_authz_cookie(NULL, "dev-id", v, sizeof(v)) ==
	    PDS_ENOTFOUND, "no header");
	CHECK(oauth_authz_cookie("csrf-token=  ", "csrf-token", v,
	    sizeof(v)) == PDS_OK && v[0] == '\0', "empty value");
	CHECK(oauth_authz_cookie("a=0123456789", "a", v, 5) == PDS_ETOOBIG,
	    "too long");

	buf_init(&b, 512);
	CHECK(oauth_authz_cookie_format(&b, "dev-id", "dev-1", 315360000,
	    true, true) == PDS_OK && strcmp((char *)b.p, "dev-id=dev-1; "
	    "Path=/; Max-Age=315360000; SameSite=Lax; HttpOnly; Secure") == 0,
	    "set-cookie: %s", (char *)b.p);
	buf_reset(&b);
	CHECK(oauth_authz_cookie_format(&b, "csrf-token", CSRF, 10, false,
	    false) == PDS_OK && strstr((char *)b.p, "HttpOnly") == NULL &&
	    strstr((char *)b.p, "Secure") == NULL &&
	    strstr((char *)b.p, "SameSite=Lax") != NULL, "plain cookie");
	buf_clear(&b);
	t_group_end();
}

static void
test_ids_csrf(void)
{
	char	 id[OAUTH_AUTHZ_ID_MAX], id2[OAUTH_AUTHZ_ID_MAX];

	t_group("ids and csrf");
	CHECK(oauth_authz_random_id("dev-", OAUTH_AUTHZ_ID_HEX, id,
	    sizeof(id)) == PDS_OK && oauth_authz_id_ok(id, "dev-",
	    OAUTH_AUTHZ_ID_HEX), "random device id: %s", id);
	CHECK(oauth_authz_random_id("cod-", OAUTH_AUTHZ_CODE_HEX, id2,
	    sizeof(id2)) == PDS_OK && strlen(id2) == 68, "code is 68 long");
	CHECK(oauth_authz_random_id("cod-", OAUTH_AUTHZ_CODE_HEX, id, 60) ==
	    PDS_EINVAL, "no room");
	CHECK(!oauth_authz_id_ok("dev-0123456789ABCDEF0123456789abcdef",
	    "dev-", 32), "upper case refused");
	CHECK(!oauth_authz_id_ok("dev-0123", "dev-", 32), "short refused");
	CHECK(!oauth_authz_id_ok("ses-0123456789abcdef0123456789abcdef",
	    "dev-", 32), "other prefix refused");

	CHECK(oauth_authz_csrf_ok(CSRF, CSRF), "equal tokens");
	CHECK(!oauth_authz_csrf_ok(CSRF, "0123456789abcdef01234568"),
	    "one digit off");
	CHECK(!oauth_authz_csrf_ok(CSRF, NULL), "no field");
	CHECK(!oauth_authz_csrf_ok(NULL, CSRF), "no cookie");
	CHECK(!oauth_authz_csrf_ok("", ""), "both empty");
	CHECK(!oauth_authz_csrf_ok("x", "x"), "equal but malformed");
	CHECK(!oauth_authz_csrf_ok(CSRF "00", CSRF "00"), "too long");
	t_group_end();
}

static void
test_form(void)
{
	static const char body[] = "csrf_token=" CSRF "&identifier=alice%40"
	    "example.com&password=a+b%26c%3D&remember=1&empty=&flag";
	const uint8_t	*p = (const uint8_t *)body;
	size_t		 n = sizeof(body) - 1;
	char		 v[64], uri[128];

	t_group("form fields");
	CHECK(oauth_authz_form(p, n, "identifier", v, sizeof(v)) == PDS_OK &&
	    strcmp(v, "alice@example.com") == 0, "percent-decoded");
	CHECK(oauth_authz_form(p, n, "password", v, sizeof(v)) == PDS_OK &&
	    strcmp(v, "a b&c=") == 0, "plus is space, escapes kept apart");
	CHECK(oauth_authz_form(p, n, "empty", v, sizeof(v)) == PDS_OK &&
	    v[0] == '\0', "empty value");
	CHECK(oauth_authz_form(p, n, "flag", v, sizeof(v)) == PDS_OK &&
	    v[0] == '\0', "key alone");
	CHECK(oauth_authz_form(p, n, "missing", v, sizeof(v)) ==
	    PDS_ENOTFOUND, "absent");
	CHECK(oauth_authz_form(p, n, "identifier", v, 5) == PDS_ETOOBIG,
	    "too long");
	CHECK(oauth_authz_form((const uint8_t *)"a=1&a=2", 7, "a", v,
	    sizeof(v)) == PDS_EINVAL, "a key twice");
	CHECK(oauth_authz_form((const uint8_t *)"a=%2", 4, "a", v,
	    sizeof(v)) == PDS_EINVAL, "cut escape");
	CHECK(oauth_authz_form((const uint8_t *)"a=%zz", 5, "a", v,
	    sizeof(v)) == PDS_EINVAL, "bad escape");
	CHECK(oauth_authz_form((const uint8_t *)"a=x%00y", 7, "a", v,
	    sizeof(v)) == PDS_EINVAL, "NUL byte");
	CHECK(oauth_authz_form(NULL, 0, "a", v, sizeof(v)) == PDS_ENOTFOUND,
	    "no body");

	CHECK(oauth_authz_request_id(OAUTH_AUTHZ_REQUEST_URI_PREFIX REQID,
	    uri, sizeof(uri)) == PDS_OK && strcmp(uri, REQID) == 0,
	    "request_uri");
	CHECK(oauth_authz_request_id(REQID, uri, sizeof(uri)) == PDS_EINVAL,
	    "bare id refused");
	CHECK(oauth_authz_request_id(OAUTH_AUTHZ_REQUEST_URI_PREFIX
	    "req-0123", uri, sizeof(uri)) == PDS_EINVAL, "short id refused");
	CHECK(oauth_authz_request_id(OAUTH_AUTHZ_REQUEST_URI_PREFIX REQID
	    "&x", uri, sizeof(uri)) == PDS_EINVAL, "trailing bytes refused");
	t_group_end();
}

static bool
build(struct buf *b, const char *uri, enum oauth_authz_mode mode,
    const struct oauth_authz_result *res, const char *want)
{
	buf_reset(b);
	if (oauth_authz_redirect_build(b, uri, mode, res, "pds.example.com")
	    != PDS_OK)
		return want == NULL;
	if (want == NULL || strcmp((char *)b->p, want) != 0) {
		fprintf(stderr, "  got  %s\n  want %s\n", (char *)b->p,
		    want != NULL ? want : "(failure)");
		return false;
	}
	return true;
}

static void
test_redirect(void)
{
	struct oauth_authz_result	 ok = {
		.code = "cod-1", .state = "s1", .iss = ISS,
	};
	struct oauth_authz_result	 deny = {
		.error = "access_denied",
		.error_description = "The user rejected the request",
		.state = "s1", .iss = ISS,
	};
	struct oauth_authz_result	 evil = {
		.code = "cod-1", .iss = ISS,
		.state = "a&code=stolen#x \"'<script>\r\n%",
	};
	struct oauth_authz_result	 nostate = { .code = "c", .iss = ISS };
	struct oauth_authz_result	 both = {
		.code = "c", .error = "e", .iss = ISS,
	};
	struct oauth_authz_result	 noiss = { .code = "c" };
	struct buf			 b;
	enum oauth_authz_mode		 m;

	t_group("redirect");
	buf_init(&b, 64 * 1024);
	CHECK(build(&b, "https://app.example/cb", OAUTH_AUTHZ_QUERY, &ok,
	    "https://app.example/cb?state=s1&iss=https%3A%2F%2Fpds.example.com"
	    "&code=cod-1"), "query");
	CHECK(build(&b, "https://app.example/cb?x=1", OAUTH_AUTHZ_QUERY, &ok,
	    "https://app.example/cb?x=1&state=s1&iss=https%3A%2F%2F"
	    "pds.example.com&code=cod-1"), "query joined to a query");
	CHECK(build(&b, "https://app.example/cb?", OAUTH_AUTHZ_QUERY,
	    &nostate, "https://app.example/cb?iss=https%3A%2F%2F"
	    "pds.example.com&code=c"), "empty query, no state");
	CHECK(build(&b, "com.example.app:/cb", OAUTH_AUTHZ_FRAGMENT, &ok,
	    "com.example.app:/cb#state=s1&iss=https%3A%2F%2Fpds.example.com"
	    "&code=cod-1"), "fragment");
	CHECK(build(&b, "https://app.example/cb", OAUTH_AUTHZ_QUERY, &deny,
	    "https://app.example/cb?state=s1&iss=https%3A%2F%2F"
	    "pds.example.com&error=access_denied&error_description=The%20"
	    "user%20rejected%20the%20request"), "access_denied");
	CHECK(build(&b, "https://app.example/cb", OAUTH_AUTHZ_QUERY, &evil,
	    "https://app.example/cb?state=a%26code%3Dstolen%23x%20%22%27"
	    "%3Cscript%3E%0D%0A%25&iss=https%3A%2F%2Fpds.example.com"
	    "&code=cod-1"), "hostile state percent-encoded");
	CHECK(build(&b, "https://app.example/cb#frag", OAUTH_AUTHZ_QUERY,
	    &ok, NULL), "redirect_uri with a fragment refused");
	CHECK(build(&b, "https://app.example/cb", OAUTH_AUTHZ_QUERY, &both,
	    NULL), "code and error refused");
	CHECK(build(&b, "https://app.example/cb", OAUTH_AUTHZ_QUERY, &noiss,
	    NULL), "no iss refused");
	CHECK(build(&b, "", OAUTH_AUTHZ_QUERY, &ok, NULL), "empty uri");

	buf_reset(&b);
	CHECK(oauth_authz_redirect_build(&b, "https://app.example/cb",
	    OAUTH_AUTHZ_FORM_POST, &evil, "pds.example.com") == PDS_OK,
	    "form_post renders");
	CHECK(strstr((char *)b.p, "action=\"https://app.example/cb\"") !=
	    NULL, "form_post posts to the redirect_uri");
	CHECK(strstr((char *)b.p, "<script>\r") == NULL &&
	    strstr((char *)b.p, "&lt;script&gt;") != NULL,
	    "form_post escapes the state");
	CHECK(strstr((char *)b.p, "name=\"iss\"") != NULL &&
	    strstr((char *)b.p, "value=\"" ISS "\"") != NULL &&
	    strstr((char *)b.p, "name=\"code\"") != NULL &&
	    strstr((char *)b.p, "name=\"state\"") != NULL,
	    "form_post carries state, iss and code");
	buf_reset(&b);
	CHECK(oauth_authz_redirect_build(&b, "https://app.example/cb",
	    OAUTH_AUTHZ_FORM_POST, &deny, "pds.example.com") == PDS_OK &&
	    strstr((char *)b.p, "access_denied") != NULL &&
	    strstr((char *)b.p, "name=\"code\"") == NULL,
	    "form_post error");
	buf_reset(&b);
	CHECK(oauth_authz_redirect_build(&b, "javascript:alert(1)",
	    OAUTH_AUTHZ_FORM_POST, &ok, "pds.example.com") != PDS_OK,
	    "form_post to a non-http URI refused");
	buf_clear(&b);

	CHECK(oauth_authz_mode_parse(NULL, &m) == PDS_OK &&
	    m == OAUTH_AUTHZ_QUERY, "default mode is query");
	CHECK(oauth_authz_mode_parse("form_post", &m) == PDS_OK &&
	    m == OAUTH_AUTHZ_FORM_POST, "form_post");
	CHECK(oauth_authz_mode_parse("fragment", &m) == PDS_OK &&
	    m == OAUTH_AUTHZ_FRAGMENT, "fragment");
	CHECK(oauth_authz_mode_parse("web_message", &m) == PDS_EINVAL,
	    "unknown mode");
	t_group_end();
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_cookies();
	test_ids_csrf();
	test_form();
	test_redirect();
	return t_done("test_pdsd_oauth_authorize");
}
