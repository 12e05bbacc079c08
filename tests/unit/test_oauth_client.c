/*
 * Unit tests: OAuth client_id syntax, client metadata validation,
 * development and loopback clients and redirect URI matching (brief
 * §1.2).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "oauth_client.h"
#include "t.h"

#define ID	"https://app.example.com/oauth-client-metadata.json"

static const char good_web[] =
    "{\"client_id\":\"" ID "\","
    "\"application_type\":\"web\","
    "\"client_name\":\"Example\","
    "\"client_uri\":\"https://app.example.com\","
    "\"logo_uri\":\"https://app.example.com/logo.png\","
    "\"tos_uri\":\"https://app.example.com/tos\","
    "\"policy_uri\":\"https://app.example.com/policy\","
    "\"redirect_uris\":[\"https://app.example.com/callback\"],"
    "\"scope\":\"atproto transition:generic\","
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"],"
    "\"response_types\":[\"code\"],"
    "\"token_endpoint_auth_method\":\"none\","
    "\"dpop_bound_access_tokens\":true}";

static const char good_native[] =
    "{\"client_id\":\"" ID "\","
    "\"application_type\":\"native\","
    "\"redirect_uris\":[\"com.example.app:/callback\","
    "\"http://127.0.0.1/cb\",\"https://app.example.com/cb\"],"
    "\"scope\":\"atproto\","
    "\"grant_types\":[\"authorization_code\"],"
    "\"response_types\":[\"code\"],"
    "\"token_endpoint_auth_method\":\"none\","
    "\"dpop_bound_access_tokens\":true}";

static const char good_conf[] =
    "{\"client_id\":\"" ID "\","
    "\"redirect_uris\":[\"https://app.example.com/callback\"],"
    "\"scope\":\"atproto\","
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"],"
    "\"response_types\":[\"code\"],"
    "\"token_endpoint_auth_method\":\"private_key_jwt\","
    "\"token_endpoint_auth_signing_alg\":\"ES256\","
    "\"jwks\":{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\","
    "\"x\":\"AA\",\"y\":\"AA\"}]},"
    "\"dpop_bound_access_tokens\":true}";

/* Parse base, apply one change (set key to JSON value, or delete). */
static int
with(const char *base, const char *key, const char *val, const char **why)
{
	struct oauth_client	 c;
	json_t			*doc = json_loads(base, 0, NULL), *v;
	int			 rc;

	if (doc == NULL)
		return 99;
	if (key != NULL && val == NULL)
		json_object_del(doc, key);
	else if (key != NULL) {
		if ((v = json_loads(val, JSON_DECODE_ANY, NULL)) == NULL) {
			json_decref(doc);
			return 98;
		}
		json_object_set_new(doc, key, v);
	}
	*why = NULL;
	rc = oauth_client_from_json(&c, ID, doc, why);
	oauth_client_clear(&c);
	json_decref(doc);
	return rc;
}

static void
test_client_id(void)
{
	static const char *const good[] = {
		ID,
		"https://example.com/client.json",
		"https://app.example.com:8443/client.json",
		"https://a.b.example.com/x/y/client",
		"https://example.com/client?x=1",
	};
	static const char *const bad[] = {
		"http://app.example.com/client.json",
		"https://app.example.com",
		"https://app.example.com/",
		"https://app.example.com/dir/",
		"https://user:pw@app.example.com/c.json",
		"https://app.example.com/c.json#frag",
		"https://127.0.0.1/c.json",
		"https://[::1]/c.json",
		"https://localhost/c.json",
		"https://example/c.json",
		"https://app.local/c.json",
		"https://app.test/c.json",
		"https://app.example/c.json",
		"https://app.invalid/c.json",
		"https://App.Example.com/c.json",
		"https://app.example.com/a/../c.json",
		"https://app.example.com/./c.json",
		"https://app.example.com//c.json",
		"https://app.example.com:443/c.json",
		"https://app.example.com:/c.json",
		"https://app.example.com:0/c.json",
		"https://app.example.com:65536/c.json",
		"https://app.example.com/c.json?",
		"https://app.example.com/c json",
		"app.example.com/c.json",
		"",
	};
	const char	*why;
	size_t		 i;

	t_group("client_id");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(oauth_client_id_check(good[i], strlen(good[i]), &why) ==
		    PDS_OK, "%s: %s", good[i], why);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CHECK(oauth_client_id_check(bad[i], strlen(bad[i]), &why) !=
		    PDS_OK && why != NULL && strncmp(why, "client_id", 9) == 0,
		    "%s accepted", bad[i]);
	}
	CHECK(oauth_client_id_is_loopback("http://localhost", 16), "lb");
	CHECK(oauth_client_id_is_loopback("http://localhost/?scope=x", 25),
	    "lb q");
	CHECK(!oauth_client_id_is_loopback("http://localhostx", 17), "lbx");
	CHECK(!oauth_client_id_is_loopback(ID, strlen(ID)), "https");
	t_group_end();
}

struct field_case {
	const char	*base;
	const char	*key;
	const char	*val;		/* NULL: delete the key */
	int		 want;
	const char	*why;		/* prefix of the reason */
};

static const struct field_case field_cases[] = {
	/* valid variants */
	{ good_web, NULL, NULL, PDS_OK, NULL },
	{ good_native, NULL, NULL, PDS_OK, NULL },
	{ good_conf, NULL, NULL, PDS_OK, NULL },
	{ good_web, "application_type", NULL, PDS_OK, NULL },
	{ good_web, "client_name", NULL, PDS_OK, NULL },
	{ good_web, "client_uri", "\"https://app.example.com/\"", PDS_OK, NULL },
	{ good_web, "grant_types", "[\"authorization_code\"]", PDS_OK, NULL },
	{ good_web, "subject_type", "\"public\"", PDS_OK, NULL },
	{ good_native, "redirect_uris", "[\"http://[::1]:8080/cb\"]", PDS_OK,
	  NULL },
	{ good_conf, "jwks", NULL, PDS_EINVAL, "jwks:" },
	/* client_id */
	{ good_web, "client_id", "\"https://other.example.com/c.json\"",
	  PDS_EINVAL, "client_id:" },
	{ good_web, "client_id", NULL, PDS_EINVAL, "client_id:" },
	{ good_web, "client_id", "42", PDS_EINVAL, "client_id:" },
	/* scope */
	{ good_web, "scope", NULL, PDS_EINVAL, "scope:" },
	{ good_web, "scope", "\"transition:generic\"", PDS_EINVAL, "scope:" },
	{ good_web, "scope", "\"atproto atproto\"", PDS_EINVAL, "scope:" },
	{ good_web, "scope", "[\"atproto\"]", PDS_EINVAL, "scope:" },
	/* grant_types */
	{ good_web, "grant_types", NULL, PDS_EINVAL, "grant_types:" },
	{ good_web, "grant_types", "[\"refresh_token\"]", PDS_EINVAL,
	  "grant_types:" },
	{ good_web, "grant_types", "[\"authorization_code\",\"implicit\"]",
	  PDS_EINVAL, "grant_types:" },
	{ good_web, "grant_types",
	  "[\"authorization_code\",\"authorization_code\"]", PDS_EINVAL,
	  "grant_types:" },
	{ good_web, "grant_types", "\"authorization_code\"", PDS_EINVAL,
	  "grant_types:" },
	/* response_types */
	{ good_web, "response_types", NULL, PDS_EINVAL, "response_types:" },
	{ good_web, "response_types", "[]", PDS_EINVAL, "response_types:" },
	{ good_web, "response_types", "[\"token\"]", PDS_EINVAL,
	  "response_types:" },
	/* dpop */
	{ good_web, "dpop_bound_access_tokens", NULL, PDS_EINVAL, "dpop" },
	{ good_web, "dpop_bound_access_tokens", "false", PDS_EINVAL, "dpop" },
	{ good_web, "dpop_bound_access_tokens", "\"true\"", PDS_EINVAL,
	  "dpop" },
	/* auth method */
	{ good_web, "token_endpoint_auth_method", NULL, PDS_EINVAL,
	  "token_endpoint_auth_method:" },
	{ good_web, "token_endpoint_auth_method", "\"client_secret_basic\"",
	  PDS_EUNSUPP, "token_endpoint_auth_method:" },
	{ good_web, "token_endpoint_auth_signing_alg", "\"ES256\"", PDS_EINVAL,
	  "token_endpoint_auth_signing_alg:" },
	{ good_conf, "token_endpoint_auth_signing_alg", NULL, PDS_EINVAL,
	  "token_endpoint_auth_signing_alg:" },
	{ good_conf, "token_endpoint_auth_signing_alg", "\"RS256\"",
	  PDS_EUNSUPP, "token_endpoint_auth_signing_alg:" },
	{ good_conf, "jwks", "{\"keys\":[]}", PDS_EINVAL, "jwks:" },
	{ good_conf, "jwks", "{\"keys\":[1]}", PDS_EINVAL, "jwks:" },
	{ good_conf, "jwks_uri", "\"https://app.example.com/jwks\"",
	  PDS_EINVAL, "jwks:" },
	{ good_conf, "application_type", "\"native\"", PDS_EINVAL,
	  "token_endpoint_auth_method:" },
	/* application_type */
	{ good_web, "application_type", "\"desktop\"", PDS_EINVAL,
	  "application_type:" },
	/* refused fields */
	{ good_web, "default_max_age", "60", PDS_EINVAL, "metadata:" },
	{ good_web, "id_token_signed_response_alg", "\"ES256\"", PDS_EINVAL,
	  "metadata:" },
	{ good_web, "tls_client_certificate_bound_access_tokens", "true",
	  PDS_EINVAL, "metadata:" },
	{ good_web, "subject_type", "\"pairwise\"", PDS_EINVAL,
	  "subject_type:" },
	/* redirect_uris */
	{ good_web, "redirect_uris", NULL, PDS_EINVAL, "redirect_uris:" },
	{ good_web, "redirect_uris", "[]", PDS_EINVAL, "redirect_uris:" },
	{ good_web, "redirect_uris", "[42]", PDS_EINVAL, "redirect_uris:" },
	{ good_web, "redirect_uris", "[\"http://127.0.0.1/cb\"]", PDS_EINVAL,
	  "redirect_uris:" },
	{ good_web, "redirect_uris", "[\"com.example.app:/cb\"]", PDS_EINVAL,
	  "redirect_uris:" },
	{ good_web, "redirect_uris", "[\"http://app.example.com/cb\"]",
	  PDS_EINVAL, "redirect_uris:" },
	{ good_web, "redirect_uris", "[\"https://localhost/cb\"]", PDS_EINVAL,
	  "redirect_uris:" },
	{ good_web, "redirect_uris", "[\"https://u:p@app.example.com/cb\"]",
	  PDS_EINVAL, "redirect_uris:" },
	{ good_web, "redirect_uris", "[\"https://app.example.com/cb#x\"]",
	  PDS_EINVAL, "redirect_uris:" },
	{ good_web, "redirect_uris", "[\"https://10.0.0.1/cb\"]", PDS_EINVAL,
	  "redirect_uris:" },
	{ good_web, "redirect_uris", "[\"javascript:alert(1)\"]", PDS_EINVAL,
	  "redirect_uris:" },
	{ good_native, "redirect_uris", "[\"http://localhost/cb\"]",
	  PDS_EINVAL, "redirect_uris:" },
	{ good_native, "redirect_uris", "[\"com.example.app://cb\"]",
	  PDS_EINVAL, "redirect_uris:" },
	{ good_native, "redirect_uris", "[\"com.other.app:/cb\"]", PDS_EINVAL,
	  "redirect_uris:" },
	{ good_native, "redirect_uris", "[\"com.example:/cb\"]", PDS_EINVAL,
	  "redirect_uris:" },
	{ good_native, "redirect_uris", "[\"https://127.0.0.1/cb\"]",
	  PDS_EINVAL, "redirect_uris:" },
	/* optional display fields */
	{ good_web, "client_uri", "\"https://other.example.com\"", PDS_EINVAL,
	  "client_uri:" },
	{ good_web, "client_uri", "\"https://app.example.com/other\"",
	  PDS_EINVAL, "client_uri:" },
	{ good_web, "client_uri", "\"http://app.example.com\"", PDS_EINVAL,
	  "client_uri:" },
	{ good_web, "logo_uri", "\"http://app.example.com/logo.png\"",
	  PDS_EINVAL, "logo_uri:" },
	{ good_web, "logo_uri", "\"data:image/png;base64,AA\"", PDS_EINVAL,
	  "logo_uri:" },
	{ good_web, "tos_uri", "7", PDS_EINVAL, "tos_uri:" },
	{ good_web, "policy_uri", "\"not a uri\"", PDS_EINVAL, "policy_uri:" },
	{ good_web, "client_name", "\"\"", PDS_EINVAL, "client_name:" },
};

static void
test_metadata(void)
{
	struct oauth_client	 c;
	json_t			*doc;
	const char		*why;
	size_t			 i;
	int			 rc;

	t_group("metadata");
	for (i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const struct field_case *f = &field_cases[i];
		rc = with(f->base, f->key, f->val, &why);
		CHECK(rc == f->want, "case %zu (%s): rc %d want %d (%s)", i,
		    f->key ? f->key : "-", rc, f->want, why ? why : "");
		if (f->why != NULL)
			CHECK(why != NULL && strncmp(why, f->why,
			    strlen(f->why)) == 0, "case %zu: why %s", i,
			    why ? why : "(null)");
	}
	doc = json_loads(good_web, 0, NULL);
	CHECK(oauth_client_from_json(&c, ID, doc, &why) == PDS_OK, "web");
	CHECK(c.app_type == OAUTH_APP_WEB && c.auth_method ==
	    OAUTH_AUTH_NONE && c.refresh && !c.loopback, "web fields");
	CHECK(c.nredirect == 1 && c.client_name != NULL &&
	    strcmp(c.client_name, "Example") == 0 &&
	    strcmp(c.scope, "atproto transition:generic") == 0, "web copy");
	oauth_client_clear(&c);
	CHECK(oauth_client_from_json(&c, "https://app.example.com/", doc,
	    &why) == PDS_EINVAL, "bad fetched id");
	json_decref(doc);
	doc = json_loads(good_conf, 0, NULL);
	CHECK(oauth_client_from_json(&c, ID, doc, &why) == PDS_OK &&
	    c.auth_method == OAUTH_AUTH_PRIVATE_KEY_JWT && c.jwks != NULL,
	    "confidential");
	oauth_client_clear(&c);
	json_decref(doc);
	CHECK(oauth_client_from_json(&c, ID, json_null(), &why) == PDS_EINVAL,
	    "not an object");
	t_group_end();
}

/* Development client_ids: syntax, and the loopback redirects they get. */
static void
test_dev(void)
{
	static const char *const good[] = {
		"http://127.0.0.1:8080/client-metadata.json",
		"http://localhost:8080/client-metadata.json",
		"http://127.0.0.1/oauth/client.json",
		"http://localhost:3000/c.json?v=1",
	};
	static const char *const bad[] = {
		"http://localhost",
		"http://localhost/",
		"http://localhost:8080/",
		"http://localhost?scope=atproto",
		"http://127.0.0.1:8080",
		"http://127.0.0.1:8080/dir/",
		"http://[::1]:8080/c.json",
		"http://10.0.0.1:8080/c.json",
		"http://app.example.com/c.json",
		"https://127.0.0.1:8080/c.json",
		"http://u@127.0.0.1:8080/c.json",
		"http://127.0.0.1:8080/c.json#f",
		"http://127.0.0.1:0/c.json",
		"http://127.0.0.1:8080/a/../c.json",
		"http://127.0.0.1:8080/c.json?",
	};
	static const char doc_fmt[] =
	    "{\"client_id\":\"%s\","
	    "\"redirect_uris\":[\"http://127.0.0.1:8080/callback\"],"
	    "\"scope\":\"atproto\","
	    "\"grant_types\":[\"authorization_code\",\"refresh_token\"],"
	    "\"response_types\":[\"code\"],"
	    "\"token_endpoint_auth_method\":\"private_key_jwt\","
	    "\"token_endpoint_auth_signing_alg\":\"ES256\","
	    "\"jwks\":{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"kid\":\"k1\",\"x\":\"AA\",\"y\":\"AA\"}]},"
	    "\"dpop_bound_access_tokens\":true}";
	struct oauth_client	 c;
	json_t			*doc;
	const char		*why, *dev = good[0];
	char			 text[1024];
	size_t			 i;

	t_group("development client_id");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(oauth_client_id_is_dev(good[i], strlen(good[i])),
		    "%s refused", good[i]);
		why = NULL;
		CHECK(oauth_client_id_check(good[i], strlen(good[i]), &why) ==
		    PDS_EINVAL, "%s: a discoverable client_id", good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!oauth_client_id_is_dev(bad[i], strlen(bad[i])),
		    "%s accepted", bad[i]);

	snprintf(text, sizeof(text), doc_fmt, dev);
	doc = json_loads(text, 0, NULL);
	why = NULL;
	CHECK(oauth_client_dev_from_json(&c, dev, doc, &why) == PDS_OK &&
	    c.app_type == OAUTH_APP_WEB && !c.loopback &&
	    c.auth_method == OAUTH_AUTH_PRIVATE_KEY_JWT && c.nredirect == 1,
	    "a confidential web client with a loopback redirect: %s",
	    why != NULL ? why : "");
	oauth_client_clear(&c);
	CHECK(oauth_client_from_json(&c, dev, doc, &why) == PDS_EINVAL,
	    "the same as a discoverable client refused");
	CHECK(oauth_client_dev_from_json(&c, ID, doc, &why) == PDS_EINVAL,
	    "an https client_id is not a development one");
	CHECK(oauth_client_dev_from_json(&c,
	    "http://localhost:8080/client-metadata.json", doc, &why) ==
	    PDS_EINVAL && strncmp(why, "client_id", 9) == 0,
	    "the document's client_id must equal the URL");
	json_object_set_new(doc, "redirect_uris",
	    json_pack("[s]", "http://192.168.1.2/callback"));
	CHECK(oauth_client_dev_from_json(&c, dev, doc, &why) == PDS_EINVAL,
	    "http redirect off loopback refused");
	json_object_set_new(doc, "redirect_uris",
	    json_pack("[s]", "http://127.0.0.1:8080/callback"));
	json_object_set_new(doc, "application_type", json_string("native"));
	CHECK(oauth_client_dev_from_json(&c, dev, doc, &why) == PDS_EINVAL,
	    "native and private_key_jwt still refused");
	json_decref(doc);
	t_group_end();
}

static void
test_loopback(void)
{
	static const char *const bad[] = {
		"http://127.0.0.1/",
		"http://localhost:8080/",
		"http://localhost/foo",
		"https://localhost/",
		"http://localhost/#x",
		"http://localhost?foo=bar",
		"http://localhost?scope=atproto&scope=atproto",
		"http://localhost?scope=transition:generic",
		"http://localhost?redirect_uri=http://localhost/cb",
		"http://localhost?redirect_uri=https://app.example.com/cb",
		"http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%2",
		"http://u@localhost/",
	};
	struct oauth_client	 c;
	const char		*why, *id;
	size_t			 i;

	t_group("loopback");
	id = "http://localhost";
	CHECK(oauth_client_loopback(&c, id, strlen(id), &why) == PDS_OK,
	    "bare: %s", why);
	CHECK(c.loopback && c.app_type == OAUTH_APP_NATIVE &&
	    c.auth_method == OAUTH_AUTH_NONE && c.refresh, "implied");
	CHECK(strcmp(c.scope, "atproto") == 0, "default scope");
	CHECK(c.nredirect == 2 &&
	    strcmp(c.redirect_uris[0], "http://127.0.0.1/") == 0 &&
	    strcmp(c.redirect_uris[1], "http://[::1]/") == 0, "defaults");
	CHECK(strcmp(c.client_id, id) == 0, "id");
	/* default registered URIs have no port: any port matches */
	CHECK(oauth_client_redirect(&c, "http://127.0.0.1:5173/") != NULL,
	    "any port");
	CHECK(oauth_client_redirect(&c, "http://127.0.0.1/") != NULL, "exact");
	CHECK(oauth_client_redirect(&c, "http://127.0.0.1:5173/cb") == NULL,
	    "other path");
	CHECK(oauth_client_redirect(&c, "http://localhost:5173/") == NULL,
	    "localhost");
	CHECK(oauth_client_redirect(&c, NULL) == NULL, "two registered");
	oauth_client_clear(&c);

	id = "http://localhost/?scope=atproto+transition%3Ageneric&"
	    "redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback";
	CHECK(oauth_client_loopback(&c, id, strlen(id), &why) == PDS_OK,
	    "query: %s", why);
	CHECK(strcmp(c.scope, "atproto transition:generic") == 0, "scope %s",
	    c.scope);
	CHECK(c.nredirect == 1 &&
	    strcmp(c.redirect_uris[0], "http://127.0.0.1/callback") == 0,
	    "redirect");
	CHECK(oauth_client_redirect(&c, NULL) != NULL &&
	    strcmp(oauth_client_redirect(&c, NULL),
	    "http://127.0.0.1/callback") == 0, "only one");
	CHECK(oauth_client_redirect(&c, "http://127.0.0.1:9/callback") != NULL,
	    "port");
	CHECK(oauth_client_redirect(&c, "http://127.0.0.1:9/callback?x") ==
	    NULL, "query differs");
	CHECK(oauth_client_redirect(&c, "http://[::1]:9/callback") == NULL,
	    "host differs");
	oauth_client_clear(&c);

	id = "http://localhost?redirect_uri=http://[::1]:8080/cb";
	CHECK(oauth_client_loopback(&c, id, strlen(id), &why) == PDS_OK,
	    "v6 port: %s", why);
	CHECK(oauth_client_redirect(&c, "http://[::1]:8080/cb") != NULL,
	    "exact with port");
	CHECK(oauth_client_redirect(&c, "http://[::1]:8081/cb") == NULL,
	    "registered port is fixed");
	oauth_client_clear(&c);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CHECK(oauth_client_loopback(&c, bad[i], strlen(bad[i]), &why) !=
		    PDS_OK && why != NULL, "%s accepted", bad[i]);
		CHECK(c.client_id == NULL && c.nredirect == 0, "cleared");
	}
	t_group_end();
}

static void
test_redirect(void)
{
	struct oauth_client	 c;
	json_t			*doc = json_loads(good_native, 0, NULL);
	const char		*why;

	t_group("redirect");
	CHECK(oauth_client_from_json(&c, ID, doc, &why) == PDS_OK, "native");
	CHECK(oauth_client_redirect(&c, "com.example.app:/callback") != NULL,
	    "exact");
	CHECK(oauth_client_redirect(&c, "com.example.app:/callback/") == NULL,
	    "trailing slash");
	CHECK(oauth_client_redirect(&c, "https://app.example.com:8443/cb") ==
	    NULL, "https port is not free");
	CHECK(oauth_client_redirect(&c, "http://127.0.0.1:1234/cb") != NULL,
	    "loopback port");
	CHECK(oauth_client_redirect(&c, "http://127.0.0.1:1234/cb#f") == NULL,
	    "fragment");
	CHECK(oauth_client_redirect(&c, "http://127.0.0.1:/cb") == NULL,
	    "empty port");
	CHECK(oauth_client_redirect(&c, "http://127.0.0.1:65536/cb") == NULL,
	    "port out of range");
	CHECK(oauth_client_redirect(&c, "http://127.0.0.1:65535/cb") != NULL,
	    "highest port");
	CHECK(oauth_client_redirect(&c, NULL) == NULL, "three registered");
	oauth_client_clear(&c);
	json_decref(doc);
	t_group_end();
}

int
main(void)
{
	test_client_id();
	test_metadata();
	test_dev();
	test_loopback();
	test_redirect();
	return t_done("test_oauth_client");
}
