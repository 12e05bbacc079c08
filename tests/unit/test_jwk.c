/*
 * Unit tests: EC JWKs and RFC 7638 thumbprints (RFC 9449 §4.1 / §6.1
 * example key and jkt).
 */
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "jwk.h"
#include "keys.h"
#include "t.h"

static const char *rfc_jwk =
    "{\"kty\":\"EC\",\"x\":\"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs\","
    "\"y\":\"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA\",\"crv\":\"P-256\"}";
static const char *rfc_jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

/* Parse JSON text as a JWK; returns the code, frees the key. */
static int
parse(const char *text, char jkt[JWK_THUMB_SIZE], const char **why)
{
	struct pds_key	*k = NULL;
	json_t		*j;
	int		 rc;

	if ((j = json_loads(text, 0, NULL)) == NULL)
		return 1;
	rc = jwk_parse_public(&k, jkt, j, why);
	if (rc == PDS_OK && (k == NULL || key_has_private(k)))
		rc = 2;
	key_free(k);
	json_decref(j);
	return rc;
}

static void
test_rfc(void)
{
	struct pds_key	*k = NULL;
	json_t		*j, *back = NULL;
	char		 jkt[JWK_THUMB_SIZE], jkt2[JWK_THUMB_SIZE];
	const char	*why = NULL;

	t_group("rfc9449 key");
	j = json_loads(rfc_jwk, 0, NULL);
	CHECK(jwk_parse_public(&k, jkt, j, &why) == PDS_OK, "%s", why);
	CHECK(k != NULL && key_type(k) == KEY_P256, "P-256");
	CHECK(strcmp(jkt, rfc_jkt) == 0, "jkt %s", jkt);
	CHECK(k != NULL && jwk_thumbprint(k, jkt2) == PDS_OK &&
	    strcmp(jkt2, rfc_jkt) == 0, "jkt from the key %s", jkt2);
	CHECK(k != NULL && jwk_export_public(&back, k) == PDS_OK &&
	    json_equal(back, j), "export gives the same members");
	CHECK(back != NULL && json_object_get(back, "d") == NULL, "no d");
	CHECK(parse(rfc_jwk, NULL, &why) == PDS_OK, "jkt may be NULL");
	json_decref(back);
	json_decref(j);
	key_free(k);
	t_group_end();
}

/* A fresh key: export, parse back, same key and thumbprint. */
static void
test_roundtrip(enum key_type type, const char *crv)
{
	struct pds_key	*k = NULL, *p = NULL;
	json_t		*j = NULL;
	char		 a[JWK_THUMB_SIZE], b[JWK_THUMB_SIZE];
	const char	*why = NULL;
	int		 i;

	t_group(crv);
	for (i = 0; i < 20; i++) {
		CHECK(key_generate(&k, type) == PDS_OK, "generate");
		CHECK(jwk_export_public(&j, k) == PDS_OK, "export");
		CHECK(strcmp(json_string_value(json_object_get(j, "crv")),
		    crv) == 0, "crv");
		CHECK(jwk_parse_public(&p, a, j, &why) == PDS_OK, "%s", why);
		CHECK(p != NULL && key_equal(k, p) && !key_has_private(p),
		    "same public key");
		CHECK(jwk_thumbprint(k, b) == PDS_OK && strcmp(a, b) == 0,
		    "thumbprints %s %s", a, b);
		key_free(k);
		key_free(p);
		json_decref(j);
		k = p = NULL;
		j = NULL;
	}
	t_group_end();
}

static void
test_refusals(void)
{
	const char	*why = NULL;
	int		 rc;

	t_group("refusals");
	rc = parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"l8tFrhx-34tV3hRI"
	    "CRDY9zCkDlpBhF42UQUfWVAWBFs\",\"y\":\"9VE4jf_Ok_o64zbTTlcuNJajHmt6"
	    "v9TDVrU0CdvGRDA\",\"d\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAE\"}", NULL, &why);
	CHECK(rc == PDS_EINVAL && strcmp(why, "jwk holds a private key") == 0,
	    "private key: %d", rc);
	rc = parse("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", NULL,
	    &why);
	CHECK(rc == PDS_EUNSUPP && strcmp(why, "jwk kty is not EC") == 0,
	    "RSA: %d", rc);
	rc = parse("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\"}", NULL,
	    &why);
	CHECK(rc == PDS_EUNSUPP, "OKP: %d", rc);
	rc = parse("{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":"
	    "\"AA\"}", NULL, &why);
	CHECK(rc == PDS_EUNSUPP && strcmp(why, "jwk crv not supported") == 0,
	    "P-384: %d", rc);
	CHECK(parse("[]", NULL, &why) == PDS_EINVAL, "array");
	CHECK(parse("{}", NULL, &why) == PDS_EINVAL, "empty object");
	CHECK(parse("{\"kty\":1}", NULL, &why) == PDS_EINVAL, "kty number");
	CHECK(parse("{\"kty\":\"EC\"}", NULL, &why) == PDS_EINVAL, "no crv");
	CHECK(parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"y\":\"9VE4jf_Ok_o64zbT"
	    "TlcuNJajHmt6v9TDVrU0CdvGRDA\"}", NULL, &why) == PDS_EINVAL, "no x");
	CHECK(parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"l8tFrhx-34tV3hRI"
	    "CRDY9zCkDlpBhF42UQUfWVAWBFs\"}", NULL, &why) == PDS_EINVAL, "no y");
	/* 31 bytes of x. */
	rc = parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"l8tFrhx-34tV3hRI"
	    "CRDY9zCkDlpBhF42UQUfWVAWBA\",\"y\":\"9VE4jf_Ok_o64zbTTlcuNJajHmt6"
	    "v9TDVrU0CdvGRDA\"}", NULL, &why);
	CHECK(rc == PDS_EINVAL, "short x: %d", rc);
	/* Padded x. */
	CHECK(parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"l8tFrhx-34tV3hRI"
	    "CRDY9zCkDlpBhF42UQUfWVAWBFs=\",\"y\":\"9VE4jf_Ok_o64zbTTlcuNJajHmt6"
	    "v9TDVrU0CdvGRDA\"}", NULL, &why) == PDS_EINVAL, "padded x");
	/* y changed in its last byte: not on the curve. */
	rc = parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"l8tFrhx-34tV3hRI"
	    "CRDY9zCkDlpBhF42UQUfWVAWBFs\",\"y\":\"9VE4jf_Ok_o64zbTTlcuNJajHmt6"
	    "v9TDVrU0CdvGRDE\"}", NULL, &why);
	CHECK(rc == PDS_EINVAL && strcmp(why, "jwk point is not on the curve")
	    == 0, "off curve: %d", rc);
	/* The P-256 point read as a k256 key is off that curve. */
	CHECK(parse("{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"l8tFrhx-34tV"
	    "3hRICRDY9zCkDlpBhF42UQUfWVAWBFs\",\"y\":\"9VE4jf_Ok_o64zbTTlcuNJajH"
	    "mt6v9TDVrU0CdvGRDA\"}", NULL, &why) == PDS_EINVAL, "wrong curve");
	rc = parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256K\",\"x\":"
	    "\"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs\",\"y\":\"9VE4jf_Ok_o"
	    "64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA\"}", NULL, &why);
	CHECK(rc == PDS_EINVAL, "alg ES256K on P-256: %d", rc);
	rc = parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\",\"use\":"
	    "\"sig\",\"kid\":\"k1\",\"x\":\"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUf"
	    "WVAWBFs\",\"y\":\"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA\"}",
	    NULL, &why);
	CHECK(rc == PDS_OK, "alg, use and kid accepted: %d", rc);
	t_group_end();
}

int
main(void)
{
	test_rfc();
	test_roundtrip(KEY_P256, "P-256");
	test_roundtrip(KEY_K256, "secp256k1");
	test_refusals();
	return t_done("test_jwk");
}
