/*
 * keys: secp256k1 through libsecp256k1, P-256 through OpenSSL 3 libcrypto,
 * did:key and Multikey text (atproto-notes §6).
 *
 * OpenSSL 3.0 has no deterministic ECDSA, so P-256 signing is done here:
 * an RFC 6979 HMAC-DRBG (libsodium HMAC-SHA256) picks k, OpenSSL's
 * constant-time ladder computes k*G, and the scalar arithmetic is
 * blinded with a random factor.  P-256 verification is OpenSSL's, after
 * our own range and low-S checks.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <secp256k1.h>
#include <sodium.h>

#include "cid.h"
#include "err.h"
#include "keys.h"
#include "multibase.h"

#define CODEC_K256	0xe7
#define CODEC_P256	0x1200

struct pds_key {
	enum key_type	 type;
	bool		 has_priv;
	uint8_t		 priv[KEY_PRIV_LEN];
	uint8_t		 pub[KEY_PUB_LEN];
	secp256k1_pubkey k1pub;		/* KEY_K256 */
	EVP_PKEY	*evp;		/* KEY_P256: the public key */
};

static pthread_once_t	 key_once = PTHREAD_ONCE_INIT;
static int		 key_init_rc = PDS_ECRYPTO;
static secp256k1_context *k1ctx;
static EC_GROUP		*p256;
static BIGNUM		*p256_n, *p256_half;

/* The group orders, big-endian. */
static const uint8_t p256_order[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};
static const uint8_t k256_order[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
	0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
	0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

static void
key_init_once(void)
{
	uint8_t		 seed[32];
	unsigned int	 flags;

	if (sodium_init() < 0)
		return;
#ifdef SECP256K1_CONTEXT_NONE
	flags = SECP256K1_CONTEXT_NONE;
#else
	flags = SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY;
#endif
	if ((k1ctx = secp256k1_context_create(flags)) == NULL)
		return;
	randombytes_buf(seed, sizeof(seed));
	if (!secp256k1_context_randomize(k1ctx, seed)) {
		sodium_memzero(seed, sizeof(seed));
		return;
	}
	sodium_memzero(seed, sizeof(seed));

	if ((p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL)
		return;
	if ((p256_n = BN_bin2bn(p256_order, 32, NULL)) == NULL ||
	    (p256_half = BN_new()) == NULL ||
	    !BN_rshift1(p256_half, p256_n))
		return;
	key_init_rc = PDS_OK;
}

int
key_init(void)
{
	if (pthread_once(&key_once, key_init_once) != 0)
		return PDS_ECRYPTO;
	return key_init_rc;
}

/* ---- P-256 helpers ------------------------------------------------- */

static EVP_PKEY *
p256_evp_public(const uint8_t full[KEY_PUB_FULL_LEN])
{
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pk = NULL;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    full, KEY_PUB_FULL_LEN) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pk;
}

/* Both encodings of a point; PDS_ECRYPTO if OpenSSL fails. */
static int
p256_point_out(const EC_POINT *pt, uint8_t pub[KEY_PUB_LEN],
    uint8_t full[KEY_PUB_FULL_LEN], BN_CTX *bctx)
{
	if (EC_POINT_point2oct(p256, pt, POINT_CONVERSION_COMPRESSED, pub,
	    KEY_PUB_LEN, bctx) != KEY_PUB_LEN ||
	    EC_POINT_point2oct(p256, pt, POINT_CONVERSION_UNCOMPRESSED, full,
	    KEY_PUB_FULL_LEN, bctx) != KEY_PUB_FULL_LEN)
		return PDS_ECRYPTO;
	return PDS_OK;
}

/* The public point d*G of a private key already checked to be in range. */
static int
p256_public_of(const uint8_t priv[KEY_PRIV_LEN], uint8_t pub[KEY_PUB_LEN],
    uint8_t full[KEY_PUB_FULL_LEN])
{
	BN_CTX		*bctx;
	BIGNUM		*d = NULL;
	EC_POINT	*pt = NULL;
	int		 rc = PDS_ECRYPTO;

	if ((bctx = BN_CTX_secure_new()) == NULL)
		return PDS_ENOMEM;
	if ((d = BN_secure_new()) == NULL ||
	    BN_bin2bn(priv, KEY_PRIV_LEN, d) == NULL)
		goto out;
	BN_set_flags(d, BN_FLG_CONSTTIME);
	if ((pt = EC_POINT_new(p256)) == NULL ||
	    !EC_POINT_mul(p256, pt, d, NULL, NULL, bctx))
		goto out;
	rc = p256_point_out(pt, pub, full, bctx);
out:
	EC_POINT_free(pt);
	BN_clear_free(d);
	BN_CTX_free(bctx);
	return rc;
}

/* Decode and check a 33- or 65-byte point. */
static int
p256_parse_public(const uint8_t *in, size_t len, uint8_t pub[KEY_PUB_LEN],
    uint8_t full[KEY_PUB_FULL_LEN])
{
	BN_CTX		*bctx;
	EC_POINT	*pt = NULL;
	int		 rc = PDS_EINVAL;

	if ((bctx = BN_CTX_new()) == NULL)
		return PDS_ENOMEM;
	if ((pt = EC_POINT_new(p256)) == NULL) {
		rc = PDS_ENOMEM;
		goto out;
	}
	if (EC_POINT_oct2point(p256, pt, in, len, bctx) != 1 ||
	    EC_POINT_is_at_infinity(p256, pt) ||
	    EC_POINT_is_on_curve(p256, pt, bctx) != 1)
		goto out;
	rc = p256_point_out(pt, pub, full, bctx);
out:
	EC_POINT_free(pt);
	BN_CTX_free(bctx);
	return rc;
}

/* One HMAC-SHA256 step of the RFC 6979 generator: HMAC_K(V [|| sep || x || h]). */
static void
drbg_hmac(uint8_t out[32], const uint8_t key[32], const uint8_t v[32],
    int sep, const uint8_t *x, const uint8_t *h)
{
	crypto_auth_hmacsha256_state	 st;
	uint8_t				 b;

	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, v, 32);
	if (sep >= 0) {
		b = (uint8_t)sep;
		crypto_auth_hmacsha256_update(&st, &b, 1);
		if (x != NULL)
			crypto_auth_hmacsha256_update(&st, x, 32);
		if (h != NULL)
			crypto_auth_hmacsha256_update(&st, h, 32);
	}
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/*
 * ECDSA over P-256 with an RFC 6979 nonce (SHA-256, qlen = hlen = 256)
 * and low S.
 */
static int
p256_sign_digest(const uint8_t priv[KEY_PRIV_LEN], const uint8_t digest[32],
    uint8_t sig[KEY_SIG_LEN])
{
	uint8_t		 K[32], V[32], h1[32];
	BN_CTX		*bctx;
	BIGNUM		*d, *k, *z, *x, *r, *s, *b, *t, *u, *kb;
	EC_POINT	*R = NULL;
	int		 rc = PDS_ECRYPTO, tries;

	if ((bctx = BN_CTX_secure_new()) == NULL)
		return PDS_ENOMEM;
	BN_CTX_start(bctx);
	d = BN_CTX_get(bctx);
	k = BN_CTX_get(bctx);
	z = BN_CTX_get(bctx);
	x = BN_CTX_get(bctx);
	r = BN_CTX_get(bctx);
	s = BN_CTX_get(bctx);
	b = BN_CTX_get(bctx);
	t = BN_CTX_get(bctx);
	u = BN_CTX_get(bctx);
	if ((kb = BN_CTX_get(bctx)) == NULL ||
	    (R = EC_POINT_new(p256)) == NULL)
		goto out;
	BN_set_flags(d, BN_FLG_CONSTTIME);
	BN_set_flags(k, BN_FLG_CONSTTIME);
	if (BN_bin2bn(priv, 32, d) == NULL || BN_bin2bn(digest, 32, z) == NULL)
		goto out;

	/* h1 = bits2octets(H(m)) = (H(m) mod n) as 32 bytes. */
	if (!BN_nnmod(t, z, p256_n, bctx) || BN_bn2binpad(t, h1, 32) != 32)
		goto out;
	memset(V, 0x01, sizeof(V));
	memset(K, 0x00, sizeof(K));
	drbg_hmac(K, K, V, 0x00, priv, h1);
	drbg_hmac(V, K, V, -1, NULL, NULL);
	drbg_hmac(K, K, V, 0x01, priv, h1);
	drbg_hmac(V, K, V, -1, NULL, NULL);

	for (tries = 0; tries < 64; tries++) {
		if (tries > 0) {
			drbg_hmac(K, K, V, 0x00, NULL, NULL);
			drbg_hmac(V, K, V, -1, NULL, NULL);
		}
		drbg_hmac(V, K, V, -1, NULL, NULL);
		if (BN_bin2bn(V, 32, k) == NULL)
			goto out;
		if (BN_is_zero(k) || BN_cmp(k, p256_n) >= 0)
			continue;
		/* r = x(k*G) mod n */
		if (!EC_POINT_mul(p256, R, k, NULL, NULL, bctx) ||
		    !EC_POINT_get_affine_coordinates(p256, R, x, NULL, bctx) ||
		    !BN_nnmod(r, x, p256_n, bctx))
			goto out;
		if (BN_is_zero(r))
			continue;
		/*
		 * s = k^-1 (z + r d) mod n, computed as
		 * (k b)^-1 (b z + b d r) with a random blinding factor b.
		 */
		do {
			if (!BN_priv_rand_range(b, p256_n))
				goto out;
		} while (BN_is_zero(b));
		if (!BN_mod_mul(t, b, d, p256_n, bctx) ||
		    !BN_mod_mul(t, t, r, p256_n, bctx) ||
		    !BN_mod_mul(u, b, z, p256_n, bctx) ||
		    !BN_mod_add(t, t, u, p256_n, bctx) ||
		    !BN_mod_mul(kb, k, b, p256_n, bctx) ||
		    BN_mod_inverse(kb, kb, p256_n, bctx) == NULL ||
		    !BN_mod_mul(s, kb, t, p256_n, bctx))
			goto out;
		if (BN_is_zero(s))
			continue;
		if (BN_cmp(s, p256_half) > 0 && !BN_sub(s, p256_n, s))
			goto out;
		if (BN_bn2binpad(r, sig, 32) != 32 ||
		    BN_bn2binpad(s, sig + 32, 32) != 32)
			goto out;
		rc = PDS_OK;
		break;
	}
out:
	sodium_memzero(K, sizeof(K));
	sodium_memzero(V, sizeof(V));
	sodium_memzero(h1, sizeof(h1));
	if (kb != NULL) {
		BN_clear(d);
		BN_clear(k);
		BN_clear(b);
		BN_clear(t);
		BN_clear(u);
		BN_clear(kb);
	}
	EC_POINT_free(R);
	BN_CTX_end(bctx);
	BN_CTX_free(bctx);
	return rc;
}

static int
p256_verify_digest(EVP_PKEY *pk, const uint8_t digest[32],
    const uint8_t sig[KEY_SIG_LEN])
{
	ECDSA_SIG	*es = NULL;
	BIGNUM		*r = NULL, *s = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	uint8_t		 der[80], *p = der;
	int		 n, rc = PDS_ECRYPTO;

	if ((r = BN_bin2bn(sig, 32, NULL)) == NULL ||
	    (s = BN_bin2bn(sig + 32, 32, NULL)) == NULL)
		goto out;
	/* 0 < r < n, 0 < s <= n/2 */
	if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, p256_n) >= 0 ||
	    BN_cmp(s, p256_half) > 0)
		goto out;
	if ((es = ECDSA_SIG_new()) == NULL || !ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL;
	if ((n = i2d_ECDSA_SIG(es, NULL)) <= 0 || (size_t)n > sizeof(der) ||
	    i2d_ECDSA_SIG(es, &p) != n)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL ||
	    EVP_PKEY_verify_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0)
		goto out;
	if (EVP_PKEY_verify(ctx, der, (size_t)n, digest, 32) == 1)
		rc = PDS_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	return rc;
}

/* ---- construction -------------------------------------------------- */

static struct pds_key *
key_alloc(enum key_type type)
{
	struct pds_key	*k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->type = type;
	return k;
}

void
key_free(struct pds_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->evp);
	sodium_memzero(k, sizeof(*k));
	free(k);
}

/* The libraries set up, and type one of ours. */
static int
key_ready(enum key_type type)
{
	int	 rc;

	if ((rc = key_init()) != PDS_OK)
		return rc;
	if (type != KEY_K256 && type != KEY_P256)
		return PDS_EINVAL;
	return PDS_OK;
}

/*
 * Completes k once its public point is known (k->k1pub for K256; for
 * P256, k->pub and full) and hands it to *out, or frees it.
 */
static int
key_finish(struct pds_key **out, struct pds_key *k,
    const uint8_t full[KEY_PUB_FULL_LEN])
{
	size_t	 n = KEY_PUB_LEN;

	if (k->type == KEY_K256) {
		if (!secp256k1_ec_pubkey_serialize(k1ctx, k->pub, &n,
		    &k->k1pub, SECP256K1_EC_COMPRESSED) || n != KEY_PUB_LEN)
			goto fail;
	} else if ((k->evp = p256_evp_public(full)) == NULL)
		goto fail;
	*out = k;
	return PDS_OK;
fail:
	key_free(k);
	return PDS_ECRYPTO;
}

int
key_from_private(struct pds_key **out, enum key_type type,
    const uint8_t priv[KEY_PRIV_LEN])
{
	struct pds_key	*k;
	uint8_t		 full[KEY_PUB_FULL_LEN];
	int		 rc;

	*out = NULL;
	if ((rc = key_ready(type)) != PDS_OK)
		return rc;
	if ((k = key_alloc(type)) == NULL)
		return PDS_ENOMEM;
	memcpy(k->priv, priv, KEY_PRIV_LEN);
	k->has_priv = true;
	rc = PDS_EINVAL;
	if (type == KEY_K256) {
		if (!secp256k1_ec_seckey_verify(k1ctx, priv) ||
		    !secp256k1_ec_pubkey_create(k1ctx, &k->k1pub, priv))
			goto fail;
	} else {
		if (sodium_is_zero(priv, KEY_PRIV_LEN) ||
		    memcmp(priv, p256_order, KEY_PRIV_LEN) >= 0)
			goto fail;
		if ((rc = p256_public_of(priv, k->pub, full)) != PDS_OK)
			goto fail;
	}
	return key_finish(out, k, full);
fail:
	key_free(k);
	return rc;
}

int
key_generate(struct pds_key **out, enum key_type type)
{
	uint8_t		 priv[KEY_PRIV_LEN];
	int		 rc, tries;

	*out = NULL;
	if ((rc = key_init()) != PDS_OK)
		return rc;
	/* Out-of-range draws are astronomically rare; retry a few times. */
	for (tries = 0; tries < 16; tries++) {
		randombytes_buf(priv, sizeof(priv));
		rc = key_from_private(out, type, priv);
		if (rc != PDS_EINVAL)
			break;
	}
	sodium_memzero(priv, sizeof(priv));
	return rc;
}

int
key_from_private_hex(struct pds_key **out, enum key_type type,
    const char *hex, size_t len)
{
	uint8_t		 priv[KEY_PRIV_LEN];
	size_t		 n = 0;
	const char	*end = NULL;
	int		 rc;

	*out = NULL;
	if (len != 2 * KEY_PRIV_LEN)
		return PDS_EINVAL;
	if (sodium_hex2bin(priv, sizeof(priv), hex, len, NULL, &n, &end) != 0 ||
	    n != KEY_PRIV_LEN || end != hex + len) {
		sodium_memzero(priv, sizeof(priv));
		return PDS_EINVAL;
	}
	rc = key_from_private(out, type, priv);
	sodium_memzero(priv, sizeof(priv));
	return rc;
}

int
key_from_public(struct pds_key **out, enum key_type type, const uint8_t *pub,
    size_t len)
{
	struct pds_key	*k;
	uint8_t		 full[KEY_PUB_FULL_LEN];
	int		 rc;

	*out = NULL;
	if ((rc = key_ready(type)) != PDS_OK)
		return rc;
	/* Only the two standard forms: no hybrid (06/07) encodings. */
	if (!(len == KEY_PUB_LEN && (pub[0] == 0x02 || pub[0] == 0x03)) &&
	    !(len == KEY_PUB_FULL_LEN && pub[0] == 0x04))
		return PDS_EINVAL;
	if ((k = key_alloc(type)) == NULL)
		return PDS_ENOMEM;
	rc = PDS_EINVAL;
	if (type == KEY_K256) {
		if (!secp256k1_ec_pubkey_parse(k1ctx, &k->k1pub, pub, len))
			goto fail;
	} else {
		if ((rc = p256_parse_public(pub, len, k->pub, full)) != PDS_OK)
			goto fail;
	}
	return key_finish(out, k, full);
fail:
	key_free(k);
	return rc;
}

/* ---- accessors ----------------------------------------------------- */

const uint8_t *
key_curve_order(enum key_type t)
{
	return t == KEY_K256 ? k256_order : p256_order;
}

/*
 * (r, s) and (r, n - s) are both valid or both not, so a high s in
 * 0 < s < n is replaced by n - s.  Anything else is left for the
 * verifier to refuse.
 */
void
key_sig_low_s(uint8_t sig[KEY_SIG_LEN], enum key_type t)
{
	const uint8_t	*n = key_curve_order(t);
	uint8_t		 half[32], *s = sig + 32;
	unsigned int	 carry = 0, borrow = 0, d;
	int		 i, cmp_half = 0, cmp_n = 0;

	/* half = n >> 1 */
	for (i = 0; i < 32; i++) {
		half[i] = (uint8_t)((n[i] >> 1) | (carry << 7));
		carry = n[i] & 1;
	}
	for (i = 0; i < 32 && cmp_half == 0; i++)
		cmp_half = (s[i] > half[i]) - (s[i] < half[i]);
	for (i = 0; i < 32 && cmp_n == 0; i++)
		cmp_n = (s[i] > n[i]) - (s[i] < n[i]);
	if (cmp_half <= 0 || cmp_n >= 0)
		return;
	for (i = 31; i >= 0; i--) {
		d = (unsigned int)n[i] - s[i] - borrow;
		s[i] = (uint8_t)d;
		borrow = (d >> 8) & 1;
	}
}

enum key_type
key_type(const struct pds_key *k)
{
	return k->type;
}

bool
key_has_private(const struct pds_key *k)
{
	return k->has_priv;
}

const char *
key_jwt_alg(const struct pds_key *k)
{
	return k->type == KEY_K256 ? "ES256K" : "ES256";
}

bool
key_equal(const struct pds_key *a, const struct pds_key *b)
{
	return a->type == b->type && memcmp(a->pub, b->pub, KEY_PUB_LEN) == 0;
}

int
key_export_private(const struct pds_key *k, uint8_t out[KEY_PRIV_LEN])
{
	if (!k->has_priv)
		return PDS_EINVAL;
	memcpy(out, k->priv, KEY_PRIV_LEN);
	return PDS_OK;
}

int
key_export_private_hex(const struct pds_key *k, char out[KEY_HEX_LEN])
{
	if (!k->has_priv)
		return PDS_EINVAL;
	sodium_bin2hex(out, KEY_HEX_LEN, k->priv, KEY_PRIV_LEN);
	return PDS_OK;
}

void
key_public(const struct pds_key *k, uint8_t out[KEY_PUB_LEN])
{
	memcpy(out, k->pub, KEY_PUB_LEN);
}

/* ---- sign and verify ----------------------------------------------- */

int
key_sign_digest(const struct pds_key *k, const uint8_t digest[32],
    uint8_t sig[KEY_SIG_LEN])
{
	secp256k1_ecdsa_signature	 s;
	int				 rc;

	if ((rc = key_init()) != PDS_OK)
		return rc;
	if (!k->has_priv)
		return PDS_EINVAL;
	if (k->type == KEY_P256)
		return p256_sign_digest(k->priv, digest, sig);
	/* The default nonce function is RFC 6979; the result is low-S. */
	if (!secp256k1_ecdsa_sign(k1ctx, &s, digest, k->priv, NULL, NULL))
		return PDS_ECRYPTO;
	/* libsecp256k1 always signs low-S; normalizing keeps that explicit. */
	secp256k1_ecdsa_signature_normalize(k1ctx, &s, &s);
	if (!secp256k1_ecdsa_signature_serialize_compact(k1ctx, sig, &s))
		return PDS_ECRYPTO;
	return PDS_OK;
}

int
key_sign(const struct pds_key *k, const void *msg, size_t len,
    uint8_t sig[KEY_SIG_LEN])
{
	uint8_t		 digest[32];

	sha256(digest, msg, len);
	return key_sign_digest(k, digest, sig);
}

int
key_verify_digest(const struct pds_key *k, const uint8_t digest[32],
    const uint8_t *sig, size_t siglen)
{
	secp256k1_ecdsa_signature	 s;

	if (key_init() != PDS_OK || siglen != KEY_SIG_LEN)
		return PDS_ECRYPTO;
	if (k->type == KEY_P256)
		return p256_verify_digest(k->evp, digest, sig);
	/*
	 * parse_compact refuses r or s >= n; verify refuses high S, which
	 * is the atproto rule, so no normalization here.
	 */
	if (!secp256k1_ecdsa_signature_parse_compact(k1ctx, &s, sig) ||
	    !secp256k1_ecdsa_verify(k1ctx, &s, digest, &k->k1pub))
		return PDS_ECRYPTO;
	return PDS_OK;
}

int
key_verify(const struct pds_key *k, const void *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	uint8_t		 digest[32];

	sha256(digest, msg, len);
	return key_verify_digest(k, digest, sig, siglen);
}

/* ---- Multikey and did:key ------------------------------------------ */

long
key_to_multikey(const struct pds_key *k, char *out, size_t cap)
{
	uint8_t		 raw[VARINT_MAX + KEY_PUB_LEN];
	size_t		 n;
	long		 r;

	if (cap < 2)
		return PDS_ETOOBIG;
	n = varint_encode(raw, k->type == KEY_K256 ? CODEC_K256 : CODEC_P256);
	memcpy(raw + n, k->pub, KEY_PUB_LEN);
	out[0] = 'z';
	if ((r = b58_encode(out + 1, cap - 1, raw, n + KEY_PUB_LEN)) < 0) {
		out[0] = '\0';
		return r;
	}
	return r + 1;
}

long
key_to_didkey(const struct pds_key *k, char *out, size_t cap)
{
	static const char	 pfx[] = "did:key:";
	long			 r;

	if (cap < sizeof(pfx))
		return PDS_ETOOBIG;
	memcpy(out, pfx, sizeof(pfx) - 1);
	if ((r = key_to_multikey(k, out + sizeof(pfx) - 1,
	    cap - (sizeof(pfx) - 1))) < 0) {
		out[0] = '\0';
		return r;
	}
	return r + (long)(sizeof(pfx) - 1);
}

/* Decode "z" + base58btc into raw bytes; returns the byte count. */
static long
key_unmultibase(uint8_t *raw, size_t cap, const char *s, size_t len,
    const char **why)
{
	long	 n;

	if (len < 2 || s[0] != 'z')
		return pds_fail(why, PDS_EINVAL, "not base58btc multibase ('z')");
	if (len > 2 * cap)
		return pds_fail(why, PDS_EINVAL, "multibase key too long");
	if ((n = b58_decode(raw, cap, s + 1, len - 1)) < 0)
		return pds_fail(why, PDS_EINVAL, n == PDS_ETOOBIG ?
		    "multibase key too long" : "bad base58btc character");
	return n;
}

int
key_from_multikey(struct pds_key **out, const char *s, size_t len,
    const char **why)
{
	uint8_t		 raw[VARINT_MAX + KEY_PUB_FULL_LEN];
	uint64_t	 codec;
	enum key_type	 type;
	long		 n;
	int		 m, rc;

	*out = NULL;
	if ((n = key_unmultibase(raw, sizeof(raw), s, len, why)) < 0)
		return (int)n;
	if ((m = varint_decode(raw, (size_t)n, &codec)) < 0)
		return pds_fail(why, PDS_EINVAL, "bad multicodec varint");
	if (codec == CODEC_K256)
		type = KEY_K256;
	else if (codec == CODEC_P256)
		type = KEY_P256;
	else
		return pds_fail(why, PDS_EUNSUPP, "unsupported key multicodec");
	rc = key_from_public(out, type, raw + m, (size_t)(n - m));
	if (rc == PDS_EINVAL)
		return pds_fail(why, rc, "not a valid public key");
	return rc;
}

int
key_from_didkey(struct pds_key **out, const char *s, size_t len,
    const char **why)
{
	static const char	 pfx[] = "did:key:";

	*out = NULL;
	if (len < sizeof(pfx) - 1 || memcmp(s, pfx, sizeof(pfx) - 1) != 0)
		return pds_fail(why, PDS_EINVAL, "not a did:key");
	return key_from_multikey(out, s + sizeof(pfx) - 1,
	    len - (sizeof(pfx) - 1), why);
}

int
key_from_legacy_multibase(struct pds_key **out, const char *type,
    const char *s, size_t len, const char **why)
{
	uint8_t		 raw[KEY_PUB_FULL_LEN + 1];
	enum key_type	 kt;
	long		 n;
	int		 rc;

	*out = NULL;
	if (type == NULL)
		return pds_fail(why, PDS_EINVAL, "no verification method type");
	if (strcmp(type, "Multikey") == 0)
		return key_from_multikey(out, s, len, why);
	if (strcmp(type, "EcdsaSecp256k1VerificationKey2019") == 0)
		kt = KEY_K256;
	else if (strcmp(type, "EcdsaSecp256r1VerificationKey2019") == 0)
		kt = KEY_P256;
	else
		return pds_fail(why, PDS_EUNSUPP,
		    "unsupported verification method type");
	if ((n = key_unmultibase(raw, sizeof(raw), s, len, why)) < 0)
		return (int)n;
	rc = key_from_public(out, kt, raw, (size_t)n);
	if (rc == PDS_EINVAL)
		return pds_fail(why, rc, "not a valid public key");
	return rc;
}
