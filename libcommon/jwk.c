/*
 * jwk: EC public keys as JWKs and their RFC 7638 thumbprints.  See jwk.h.
 *
 * keys.c keeps only the compressed point, so writing a JWK (which needs
 * y) decompresses it here: OpenSSL for P-256, libsecp256k1 for k256.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <secp256k1.h>

#include "cid.h"
#include "err.h"
#include "jwk.h"
#include "keys.h"
#include "multibase.h"

/* The longest x or y text we look at: 43 characters, with some slack. */
#define JWK_COORD_TEXT_MAX	64
/* {"crv":"secp256k1","kty":"EC","x":"<43>","y":"<43>"} fits easily. */
#define JWK_CANON_MAX		160

static const char *
jwk_crv_name(enum key_type t)
{
	return t == KEY_K256 ? "secp256k1" : "P-256";
}

/* The thumbprint of a curve and its raw coordinates. */
static int
jwk_thumb_raw(char out[JWK_THUMB_SIZE], enum key_type t,
    const uint8_t x[JWK_COORD_LEN], const uint8_t y[JWK_COORD_LEN])
{
	char	 xs[B64_ENC_LEN(JWK_COORD_LEN) + 1];
	char	 ys[B64_ENC_LEN(JWK_COORD_LEN) + 1];
	char	 canon[JWK_CANON_MAX];
	char	 enc[B64_ENC_LEN(32) + 1];	/* with the encoder's slack */
	uint8_t	 digest[32];
	int	 n;

	if (b64url_encode(xs, sizeof(xs), x, JWK_COORD_LEN) < 0 ||
	    b64url_encode(ys, sizeof(ys), y, JWK_COORD_LEN) < 0)
		return PDS_EINTERNAL;
	n = snprintf(canon, sizeof(canon),
	    "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
	    jwk_crv_name(t), xs, ys);
	if (n < 0 || (size_t)n >= sizeof(canon))
		return PDS_EINTERNAL;
	sha256(digest, canon, (size_t)n);
	if (b64url_encode(enc, sizeof(enc), digest, sizeof(digest)) !=
	    JWK_THUMB_LEN)
		return PDS_EINTERNAL;
	memcpy(out, enc, JWK_THUMB_SIZE);
	return PDS_OK;
}

/* Decode one coordinate: base64url of exactly 32 bytes. */
static int
jwk_coord(uint8_t out[JWK_COORD_LEN], const json_t *v, const char **why,
    const char *missing, const char *bad)
{
	const char	*s;
	size_t		 len;

	if (!json_is_string(v))
		return pds_fail(why, PDS_EINVAL, missing);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > JWK_COORD_TEXT_MAX ||
	    b64url_decode(out, JWK_COORD_LEN, s, len) != JWK_COORD_LEN)
		return pds_fail(why, PDS_EINVAL, bad);
	return PDS_OK;
}

int
jwk_parse_public(struct pds_key **out, char jkt[JWK_THUMB_SIZE],
    const json_t *jwk, const char **why)
{
	const json_t	*v;
	const char	*kty, *crv;
	enum key_type	 t;
	uint8_t		 full[KEY_PUB_FULL_LEN];
	int		 rc;

	*out = NULL;
	if (!json_is_object(jwk))
		return pds_fail(why, PDS_EINVAL, "jwk is not an object");
	if (!json_is_string(v = json_object_get(jwk, "kty")))
		return pds_fail(why, PDS_EINVAL, "jwk has no kty");
	kty = json_string_value(v);
	if (strcmp(kty, "EC") != 0)
		return pds_fail(why, PDS_EUNSUPP, "jwk kty is not EC");
	if (!json_is_string(v = json_object_get(jwk, "crv")))
		return pds_fail(why, PDS_EINVAL, "jwk has no crv");
	crv = json_string_value(v);
	if (strcmp(crv, "P-256") == 0)
		t = KEY_P256;
	else if (strcmp(crv, "secp256k1") == 0)
		t = KEY_K256;
	else
		return pds_fail(why, PDS_EUNSUPP, "jwk crv not supported");
	if (json_object_get(jwk, "d") != NULL)
		return pds_fail(why, PDS_EINVAL, "jwk holds a private key");
	if ((v = json_object_get(jwk, "alg")) != NULL &&
	    (!json_is_string(v) || strcmp(json_string_value(v),
	    t == KEY_K256 ? "ES256K" : "ES256") != 0))
		return pds_fail(why, PDS_EINVAL, "jwk alg does not match crv");

	full[0] = 0x04;
	if ((rc = jwk_coord(full + 1, json_object_get(jwk, "x"), why,
	    "jwk has no x", "jwk x is not 32 bytes of base64url")) != PDS_OK ||
	    (rc = jwk_coord(full + 1 + JWK_COORD_LEN, json_object_get(jwk, "y"),
	    why, "jwk has no y", "jwk y is not 32 bytes of base64url")) !=
	    PDS_OK)
		return rc;
	if ((rc = key_from_public(out, t, full, sizeof(full))) == PDS_ENOMEM)
		return pds_fail(why, rc, "out of memory");
	if (rc != PDS_OK)
		return pds_fail(why, PDS_EINVAL, "jwk point is not on the curve");
	if (jkt != NULL && (rc = jwk_thumb_raw(jkt, t, full + 1,
	    full + 1 + JWK_COORD_LEN)) != PDS_OK) {
		key_free(*out);
		*out = NULL;
		return pds_fail(why, rc, "jwk thumbprint failed");
	}
	return PDS_OK;
}

/* The uncompressed point 04 || x || y of a key. */
static int
jwk_point_full(const struct pds_key *k, uint8_t full[KEY_PUB_FULL_LEN])
{
	uint8_t			 pub[KEY_PUB_LEN];
	EC_GROUP		*g = NULL;
	EC_POINT		*pt = NULL;
	secp256k1_context	*ctx;
	secp256k1_pubkey	 pk;
	size_t			 n = KEY_PUB_FULL_LEN;
	int			 rc = PDS_ECRYPTO;

	key_public(k, pub);
	if (key_type(k) == KEY_K256) {
		/* A context for parse and serialise only: no tables needed. */
		if ((ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY))
		    == NULL)
			return PDS_ENOMEM;
		if (secp256k1_ec_pubkey_parse(ctx, &pk, pub, sizeof(pub)) &&
		    secp256k1_ec_pubkey_serialize(ctx, full, &n, &pk,
		    SECP256K1_EC_UNCOMPRESSED) && n == KEY_PUB_FULL_LEN)
			rc = PDS_OK;
		secp256k1_context_destroy(ctx);
		return rc;
	}
	if ((g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (pt = EC_POINT_new(g)) == NULL)
		goto out;
	if (EC_POINT_oct2point(g, pt, pub, sizeof(pub), NULL) == 1 &&
	    EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, full,
	    KEY_PUB_FULL_LEN, NULL) == KEY_PUB_FULL_LEN)
		rc = PDS_OK;
out:
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	return rc;
}

int
jwk_thumbprint(const struct pds_key *k, char out[JWK_THUMB_SIZE])
{
	uint8_t	 full[KEY_PUB_FULL_LEN];
	int	 rc;

	if ((rc = jwk_point_full(k, full)) != PDS_OK)
		return rc;
	return jwk_thumb_raw(out, key_type(k), full + 1,
	    full + 1 + JWK_COORD_LEN);
}

int
jwk_export_public(json_t **out, const struct pds_key *k)
{
	uint8_t	 full[KEY_PUB_FULL_LEN];
	char	 xs[B64_ENC_LEN(JWK_COORD_LEN) + 1];
	char	 ys[B64_ENC_LEN(JWK_COORD_LEN) + 1];
	int	 rc;

	*out = NULL;
	if ((rc = jwk_point_full(k, full)) != PDS_OK)
		return rc;
	if (b64url_encode(xs, sizeof(xs), full + 1, JWK_COORD_LEN) < 0 ||
	    b64url_encode(ys, sizeof(ys), full + 1 + JWK_COORD_LEN,
	    JWK_COORD_LEN) < 0)
		return PDS_EINTERNAL;
	*out = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC",
	    "crv", jwk_crv_name(key_type(k)), "x", xs, "y", ys);
	return *out == NULL ? PDS_ENOMEM : PDS_OK;
}
