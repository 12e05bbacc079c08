/*
 * test_pdsd_oauth_clients: loading OAuth clients and verifying client
 * assertions (pdsd/oauth_clients.c).  A loopback client needs no
 * document; a discoverable client's document comes from the cache
 * (seeded here, as no https server can run in a unit test) and is
 * validated; a bad client_id is refused before any fetch.  A
 * development client_id (http on loopback) loads only in development
 * mode.  An assertion signed by a key of the client's jwks passes once
 * (its jti is then refused), in either S form, and every claim is
 * checked on its own: kid, signature, iss, sub, aud, exp, iat,
 * assertion type.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "jwk.h"
#include "keys.h"
#include "log.h"
#include "../../pdsd/oauth_clients.h"
#include "../../pdsd/store.h"
#include "t.h"
#include "t_jws.h"

#define CLIENT	"https://app.pds-unit.org/oauth/client-metadata.json"
#define ISSUER	"https://pds.pds-unit.org"

static struct pds_key	*ckey, *other;
static json_t		*jwks;

static json_t *
client_doc(const char *method)
{
	json_t	*d;

	d = json_pack("{s:s, s:s, s:[s,s], s:[s], s:[s], s:b, s:s, s:s}",
	    "client_id", CLIENT, "scope", "atproto transition:generic",
	    "grant_types", "authorization_code", "refresh_token",
	    "response_types", "code",
	    "redirect_uris", "https://app.pds-unit.org/callback",
	    "dpop_bound_access_tokens", 1,
	    "token_endpoint_auth_method", method,
	    "application_type", "web");
	if (strcmp(method, "private_key_jwt") == 0) {
		json_object_set_new(d, "token_endpoint_auth_signing_alg",
		    json_string("ES256"));
		json_object_set(d, "jwks", jwks);
	}
	return d;
}

static void
test_load(void)
{
	struct oauth_client c;
	const char	*why = NULL;
	json_t		*d;
	int		 rc;

	t_group("load");
	rc = oauth_clients_load(&c, "http://localhost?scope=atproto%20"
	    "transition%3Ageneric&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb",
	    &why);
	CHECK(rc == PDS_OK && c.loopback && c.auth_method == OAUTH_AUTH_NONE &&
	    c.nredirect == 1 && strcmp(c.redirect_uris[0],
	    "http://127.0.0.1/cb") == 0, "loopback: %s", why);
	oauth_client_clear(&c);
	CHECK(oauth_clients_load(&c, "http://localhost", &why) == PDS_OK &&
	    c.nredirect == 2, "bare loopback: the two default redirects");
	oauth_client_clear(&c);
	CHECK(oauth_clients_load(&c, "http://localhost:8080/", &why) != PDS_OK,
	    "loopback with a port refused");
	CHECK(oauth_clients_load(&c, "http://127.0.0.1/", &why) != PDS_OK,
	    "127.0.0.1 client_id refused");
	CHECK(oauth_clients_load(&c, "https://app.localhost/meta.json",
	    &why) != PDS_OK, "local TLD refused before fetching");
	CHECK(oauth_clients_load(&c, "https://app.pds-unit.org/", &why) !=
	    PDS_OK, "path ending in / refused");

	d = client_doc("none");
	CHECK(oauth_clients_seed(CLIENT, d) == PDS_OK, "seed");
	json_decref(d);
	why = NULL;
	rc = oauth_clients_load(&c, CLIENT, &why);
	CHECK(rc == PDS_OK && !c.loopback && c.refresh &&
	    c.auth_method == OAUTH_AUTH_NONE && strcmp(c.scope,
	    "atproto transition:generic") == 0, "discoverable: %s",
	    why != NULL ? why : "");
	oauth_client_clear(&c);

	d = client_doc("none");
	json_object_set_new(d, "dpop_bound_access_tokens", json_false());
	oauth_clients_seed(CLIENT, d);
	json_decref(d);
	why = NULL;
	CHECK(oauth_clients_load(&c, CLIENT, &why) == PDS_EINVAL &&
	    why != NULL && strstr(why, "dpop_bound") != NULL,
	    "invalid document refused: %s", why != NULL ? why : "");

	d = client_doc("none");
	json_object_set_new(d, "client_id",
	    json_string("https://evil.pds-unit.org/meta.json"));
	oauth_clients_seed(CLIENT, d);
	json_decref(d);
	CHECK(oauth_clients_load(&c, CLIENT, &why) == PDS_EINVAL,
	    "document naming another client_id refused");
	oauth_clients_flush();
	t_group_end();
}

/*
 * A development client_id: refused outside development mode, before any
 * fetch; in it, loaded from its document (seeded here) with the usual
 * checks, and a loopback client_id still a loopback client.
 */
static void
test_dev(void)
{
	static const char *const ids[] = {
		"http://127.0.0.1:8080/client-metadata.json",
		"http://localhost:8080/client-metadata.json",
	};
	struct oauth_client c;
	const char	*why;
	json_t		*d;
	size_t		 i;
	int		 rc;

	t_group("development client_id");
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		d = client_doc("private_key_jwt");
		json_object_set_new(d, "client_id", json_string(ids[i]));
		json_object_set_new(d, "redirect_uris",
		    json_pack("[s]", "http://127.0.0.1:8080/callback"));
		oauth_clients_seed(ids[i], d);
		json_decref(d);

		oauth_clients_set_dev(false);
		why = NULL;
		CHECK(oauth_clients_load(&c, ids[i], &why) == PDS_EINVAL &&
		    why != NULL && strncmp(why, "client_id", 9) == 0,
		    "%s refused outside dev mode: %s", ids[i],
		    why != NULL ? why : "");

		oauth_clients_set_dev(true);
		why = NULL;
		rc = oauth_clients_load(&c, ids[i], &why);
		CHECK(rc == PDS_OK && !c.loopback &&
		    c.auth_method == OAUTH_AUTH_PRIVATE_KEY_JWT &&
		    c.jwks != NULL && strcmp(c.client_id, ids[i]) == 0,
		    "%s loaded in dev mode: %s", ids[i],
		    why != NULL ? why : "");
		oauth_client_clear(&c);
	}

	d = client_doc("none");
	json_object_set_new(d, "client_id", json_string(ids[1]));
	oauth_clients_seed(ids[0], d);
	json_decref(d);
	CHECK(oauth_clients_load(&c, ids[0], &why) == PDS_EINVAL,
	    "dev mode: a document naming another client_id refused");
	CHECK(oauth_clients_load(&c, "http://127.0.0.1:8080/", &why) ==
	    PDS_EINVAL, "dev mode: a client_id without a document path");
	CHECK(oauth_clients_load(&c, "http://[::1]:8080/c.json", &why) ==
	    PDS_EINVAL, "dev mode: only 127.0.0.1 and localhost");
	rc = oauth_clients_load(&c, "http://localhost", &why);
	CHECK(rc == PDS_OK && c.loopback, "dev mode: loopback client");
	oauth_client_clear(&c);
	oauth_clients_set_dev(false);
	oauth_clients_flush();
	t_group_end();
}

static json_t *
claims(const char *iss, const char *sub, const char *aud, time_t exp,
    time_t iat, const char *jti)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", iss,
	    "sub", sub, "aud", aud, "exp", (json_int_t)exp,
	    "iat", (json_int_t)iat, "jti", jti);
}

static json_t *
hdr(const char *kid)
{
	return kid != NULL ? json_pack("{s:s, s:s, s:s}", "typ", "JWT",
	    "alg", "ES256", "kid", kid) : json_pack("{s:s, s:s}", "typ",
	    "JWT", "alg", "ES256");
}

static int
verify(const struct oauth_client *c, const char *a, time_t now,
    struct oauth_client_key *k, const char **why)
{
	static const char *const auds[] = { ISSUER,
	    ISSUER "/oauth/token" };

	*why = NULL;
	return oauth_clients_verify_assertion(c, OAUTH_ASSERTION_TYPE, a,
	    auds, 2, now, k, why);
}

static void
test_assertion(void)
{
	struct oauth_client	 c;
	struct oauth_client_key	 k;
	struct buf		 b;
	const char		*why = NULL, *a;
	char			 jkt[JWK_THUMB_SIZE];
	json_t			*d;
	time_t			 now = time(NULL);
	int			 rc;

	t_group("client assertion");
	buf_init(&b, 16384);
	d = client_doc("private_key_jwt");
	oauth_clients_seed(CLIENT, d);
	json_decref(d);
	rc = oauth_clients_load(&c, CLIENT, &why);
	CHECK(rc == PDS_OK && c.auth_method == OAUTH_AUTH_PRIVATE_KEY_JWT,
	    "confidential client: %s", why != NULL ? why : "");
	if (rc != PDS_OK) {
		t_group_end();
		return;
	}
	jwk_thumbprint(ckey, jkt);

	a = t_jws(&b, ckey, hdr("k1"), claims(CLIENT, CLIENT, ISSUER,
	    now + 60, now, "jti-1"));
	rc = verify(&c, a, now, &k, &why);
	CHECK(rc == PDS_OK && strcmp(k.kid, "k1") == 0 &&
	    strcmp(k.alg, "ES256") == 0 && strcmp(k.jkt, jkt) == 0,
	    "good assertion: %s", why != NULL ? why : "");
	rc = verify(&c, a, now, &k, &why);
	CHECK(rc == PDS_EEXIST, "same jti again: %s", why);
	/* JOSE signers do not normalise S: a high S is as good. */
	a = t_jws_s(&b, ckey, hdr("k1"), claims(CLIENT, CLIENT, ISSUER,
	    now + 60, now, "jti-high-s"), 1);
	CHECK(verify(&c, a, now, &k, &why) == PDS_OK,
	    "high-S assertion: %s", why != NULL ? why : "");

	a = t_jws(&b, ckey, hdr("k1"), claims(CLIENT, CLIENT,
	    ISSUER "/oauth/token", now + 60, now, "jti-2"));
	CHECK(verify(&c, a, now, &k, &why) == PDS_OK,
	    "aud: the token endpoint");
	a = t_jws(&b, ckey, hdr("k1"), claims(CLIENT, CLIENT,
	    "https://other.pds-unit.org", now + 60, now, "jti-3"));
	CHECK(verify(&c, a, now, &k, &why) == PDS_EINVAL,
	    "aud: another server: %s", why);
	a = t_jws(&b, ckey, hdr("k2"), claims(CLIENT, CLIENT, ISSUER,
	    now + 60, now, "jti-4"));
	CHECK(verify(&c, a, now, &k, &why) == PDS_EINVAL,
	    "unknown kid: %s", why);
	a = t_jws(&b, ckey, hdr(NULL), claims(CLIENT, CLIENT, ISSUER,
	    now + 60, now, "jti-5"));
	CHECK(verify(&c, a, now, &k, &why) == PDS_EINVAL, "no kid: %s", why);
	a = t_jws(&b, other, hdr("k1"), claims(CLIENT, CLIENT, ISSUER,
	    now + 60, now, "jti-6"));
	CHECK(verify(&c, a, now, &k, &why) == PDS_ECRYPTO,
	    "signed by another key: %s", why);
	a = t_jws(&b, ckey, hdr("k1"), claims("https://x.pds-unit.org/m.json",
	    CLIENT, ISSUER, now + 60, now, "jti-7"));
	CHECK(verify(&c, a, now, &k, &why) == PDS_EINVAL, "iss: %s", why);
	a = t_jws(&b, ckey, hdr("k1"), claims(CLIENT, "did:plc:x", ISSUER,
	    now + 60, now, "jti-8"));
	CHECK(verify(&c, a, now, &k, &why) == PDS_EINVAL, "sub: %s", why);
	a = t_jws(&b, ckey, hdr("k1"), claims(CLIENT, CLIENT, ISSUER,
	    now - 30, now - 50, "jti-9"));
	CHECK(verify(&c, a, now, &k, &why) == PDS_EEXPIRED, "expired: %s",
	    why);
	a = t_jws(&b, ckey, hdr("k1"), claims(CLIENT, CLIENT, ISSUER,
	    now + 86400, now, "jti-10"));
	CHECK(verify(&c, a, now, &k, &why) == PDS_EINVAL,
	    "exp too far ahead: %s", why);
	a = t_jws(&b, ckey, hdr("k1"), claims(CLIENT, CLIENT, ISSUER,
	    now + 60, now - 300, "jti-11"));
	CHECK(verify(&c, a, now, &k, &why) == PDS_EEXPIRED, "iat too old: %s",
	    why);
	a = t_jws(&b, ckey, hdr("k1"), claims(CLIENT, CLIENT, ISSUER,
	    now + 60, now, "jti-12"));
	CHECK(oauth_clients_verify_assertion(&c, "urn:other", a, NULL, 0, now,
	    &k, &why) == PDS_EINVAL, "wrong assertion type");
	CHECK(verify(&c, "not.a.jwt", now, &k, &why) == PDS_EINVAL,
	    "garbage");
	oauth_client_clear(&c);
	buf_clear(&b);
	t_group_end();
}

int
main(void)
{
	char	 dir[] = "/tmp/test_oauth_clients.XXXXXX";
	char	 path[128], cmd[160];
	json_t	*jwk;

	log_init("test_pdsd_oauth_clients", 0, 0);
	if (sodium_init() < 0 || key_init() != PDS_OK ||
	    mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);
	if (store_open(path) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	if (key_generate(&ckey, KEY_P256) != PDS_OK ||
	    key_generate(&other, KEY_P256) != PDS_OK ||
	    jwk_export_public(&jwk, ckey) != PDS_OK)
		return 1;
	json_object_set_new(jwk, "kid", json_string("k1"));
	jwks = json_pack("{s:[o]}", "keys", jwk);

	test_load();
	test_dev();
	test_assertion();

	json_decref(jwks);
	key_free(ckey);
	key_free(other);
	oauth_clients_flush();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	return t_done("test_pdsd_oauth_clients");
}
