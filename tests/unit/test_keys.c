/*
 * Unit tests: k256 / P-256 keys, signatures, did:key and Multikey
 * (atproto-notes §6, §14 V9, V15; interop crypto fixtures; RFC 6979 A.2.5).
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cid.h"
#include "err.h"
#include "keys.h"
#include "multibase.h"
#include "t.h"

static const char *k256_n_hex =
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
static const char *p256_n_hex =
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

/* out = a - b over 32-byte big-endian numbers (a >= b). */
static void
be_sub(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
	int	 i, borrow = 0, v;

	for (i = 31; i >= 0; i--) {
		v = a[i] - b[i] - borrow;
		borrow = v < 0;
		out[i] = (uint8_t)(v + (borrow ? 256 : 0));
	}
}

/* Replace s in a compact signature with n - s. */
static void
sig_flip_s(uint8_t sig[64], enum key_type type)
{
	uint8_t	 n[32];

	t_unhex(n, sizeof(n), type == KEY_K256 ? k256_n_hex : p256_n_hex);
	be_sub(sig + 32, n, sig + 32);
}

static int
s_is_low(const uint8_t sig[64], enum key_type type)
{
	uint8_t	 n[32], half[32];
	int	 i, carry = 0;

	t_unhex(n, sizeof(n), type == KEY_K256 ? k256_n_hex : p256_n_hex);
	for (i = 0; i < 32; i++) {		/* half = n >> 1 */
		half[i] = (uint8_t)((n[i] >> 1) | (carry << 7));
		carry = n[i] & 1;
	}
	return memcmp(sig + 32, half, 32) <= 0;
}

static json_t *
load_json(const char *path)
{
	json_error_t	 err;
	json_t		*j = json_load_file(path, 0, &err);

	if (j == NULL)
		fprintf(stderr, "%s: %s\n", path, err.text);
	return j;
}

static void
test_signature_fixtures(void)
{
	const char	*path = "tests/fixtures/crypto/signature-fixtures.json";
	json_t		*root, *c;
	size_t		 i;

	t_group("signature-fixtures.json");
	root = load_json(path);
	CHECK(json_is_array(root) && json_array_size(root) == 6, "%s", path);
	json_array_foreach(root, i, c) {
		const char *msg64 = json_string_value(json_object_get(c, "messageBase64"));
		const char *sig64 = json_string_value(json_object_get(c, "signatureBase64"));
		const char *alg = json_string_value(json_object_get(c, "algorithm"));
		const char *suite = json_string_value(json_object_get(c, "didDocSuite"));
		const char *did = json_string_value(json_object_get(c, "publicKeyDid"));
		const char *mb = json_string_value(json_object_get(c, "publicKeyMultibase"));
		int valid = json_is_true(json_object_get(c, "validSignature"));
		json_t *tags = json_object_get(c, "tags");
		struct pds_key *kd = NULL, *km = NULL;
		uint8_t msg[256], sig[256];
		long msglen, siglen;
		const char *why = "";
		int high_s = 0;
		size_t ti;
		json_t *tag;

		if (msg64 == NULL || sig64 == NULL || alg == NULL ||
		    suite == NULL || did == NULL || mb == NULL) {
			CHECK(0, "case %zu: missing field", i);
			continue;
		}
		json_array_foreach(tags, ti, tag)
			if (json_is_string(tag) &&
			    strcmp(json_string_value(tag), "high-s") == 0)
				high_s = 1;
		msglen = b64_decode(msg, sizeof(msg), msg64, strlen(msg64));
		siglen = b64_decode(sig, sizeof(sig), sig64, strlen(sig64));
		CHECK(msglen > 0 && siglen > 0, "case %zu: base64", i);
		if (msglen <= 0 || siglen <= 0)
			continue;
		CHECK(key_from_didkey(&kd, did, strlen(did), &why) == PDS_OK,
		    "case %zu: %s: %s", i, did, why);
		CHECK(key_from_legacy_multibase(&km, suite, mb, strlen(mb),
		    &why) == PDS_OK, "case %zu: %s: %s", i, mb, why);
		if (kd == NULL || km == NULL) {
			key_free(kd);
			key_free(km);
			continue;
		}
		CHECK(key_equal(kd, km), "case %zu: did:key and multibase differ", i);
		CHECK(strcmp(key_jwt_alg(kd), alg) == 0, "case %zu: alg %s", i,
		    key_jwt_alg(kd));
		CHECK((key_verify(kd, msg, (size_t)msglen, sig, (size_t)siglen) ==
		    PDS_OK) == valid, "case %zu (did:key): %s", i,
		    json_string_value(json_object_get(c, "comment")));
		CHECK((key_verify(km, msg, (size_t)msglen, sig, (size_t)siglen) ==
		    PDS_OK) == valid, "case %zu (multibase): %s", i,
		    json_string_value(json_object_get(c, "comment")));
		if (high_s && siglen == 64) {
			/* The same signature with s normalized must verify. */
			sig_flip_s(sig, key_type(kd));
			CHECK(key_verify(kd, msg, (size_t)msglen, sig, 64) == PDS_OK,
			    "case %zu: normalized high-S", i);
		}
		if (valid && siglen == 64) {
			CHECK(s_is_low(sig, key_type(kd)), "case %zu: low S", i);
			sig_flip_s(sig, key_type(kd));
			CHECK(key_verify(kd, msg, (size_t)msglen, sig, 64) ==
			    PDS_ECRYPTO, "case %zu: made high-S", i);
		}
		key_free(kd);
		key_free(km);
	}
	json_decref(root);
	t_group_end();
}

static void
test_w3c_didkey(const char *path, enum key_type type, size_t count)
{
	json_t		*root, *c;
	size_t		 i;

	t_group(path + strlen("tests/fixtures/crypto/"));
	root = load_json(path);
	CHECK(json_is_array(root) && json_array_size(root) == count, "%s", path);
	json_array_foreach(root, i, c) {
		const char *hex = json_string_value(json_object_get(c, "privateKeyBytesHex"));
		const char *b58 = json_string_value(json_object_get(c, "privateKeyBytesBase58"));
		const char *want = json_string_value(json_object_get(c, "publicDidKey"));
		struct pds_key *k = NULL, *p = NULL;
		uint8_t priv[64], back[KEY_PRIV_LEN];
		char s[KEY_DIDKEY_MAX], h[KEY_HEX_LEN];
		const char *why = "";
		long n;

		if (want == NULL || (hex == NULL && b58 == NULL)) {
			CHECK(0, "case %zu: missing field", i);
			continue;
		}
		if (hex != NULL) {
			CHECK(key_from_private_hex(&k, type, hex, strlen(hex)) ==
			    PDS_OK, "case %zu: import hex", i);
		} else {
			n = b58_decode(priv, sizeof(priv), b58, strlen(b58));
			CHECK(n == KEY_PRIV_LEN, "case %zu: base58 private key", i);
			if (n == KEY_PRIV_LEN)
				CHECK(key_from_private(&k, type, priv) == PDS_OK,
				    "case %zu: import", i);
		}
		if (k == NULL)
			continue;
		n = key_to_didkey(k, s, sizeof(s));
		CHECK(n == (long)strlen(want) && strcmp(s, want) == 0,
		    "case %zu: %s != %s", i, s, want);
		if (hex != NULL) {
			CHECK(key_export_private_hex(k, h) == PDS_OK &&
			    strcmp(h, hex) == 0, "case %zu: export hex %s", i, h);
		} else {
			CHECK(key_export_private(k, back) == PDS_OK &&
			    memcmp(back, priv, KEY_PRIV_LEN) == 0,
			    "case %zu: export", i);
		}
		/* did:key -> public key -> did:key */
		CHECK(key_from_didkey(&p, want, strlen(want), &why) == PDS_OK,
		    "case %zu: %s", i, why);
		if (p != NULL) {
			CHECK(key_equal(p, k) && key_type(p) == type &&
			    !key_has_private(p), "case %zu: same key", i);
			n = key_to_didkey(p, s, sizeof(s));
			CHECK(n > 0 && strcmp(s, want) == 0, "case %zu: round trip %s", i, s);
			n = key_to_multikey(p, s, sizeof(s));
			CHECK(n > 0 && strcmp(s, want + 8) == 0, "case %zu: multikey %s", i, s);
		}
		key_free(k);
		key_free(p);
	}
	json_decref(root);
	t_group_end();
}

/* §14: the k256 key, V9 commit signature and V15 did:key decoding. */
static void
test_notes_vectors(void)
{
	static const char *unsigned_hex =
	    "a56364696478206469643a706c633a65777669376e787a796f756e367a687872"
	    "687336346f697a637265766d336b68757763343463323232376464617461d82a"
	    "5825000171122059c9c2fcac488eacc787a1f836252d2d6c2d2903c07515828a"
	    "64a2e94c1e48886470726576f66776657273696f6e03";
	struct pds_key	*k = NULL, *p = NULL;
	uint8_t		 msg[200], want[64], sig[64], dig[32], wantdig[32];
	uint8_t		 pub[KEY_PUB_LEN], wantpub[KEY_PUB_LEN];
	char		 s[KEY_DIDKEY_MAX];
	const char	*why = "";
	const char	*d1 = "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc";
	const char	*d2 = "did:key:zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo";
	long		 n;

	t_group("notes §14 V9, V15");
	CHECK(key_from_private_hex(&k, KEY_K256,
	    "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
	    64) == PDS_OK, "import");
	if (k == NULL) {
		t_group_end();
		return;
	}
	key_public(k, pub);
	t_unhex(wantpub, sizeof(wantpub),
	    "03874c15c7fda20e539c6e5ba573c139884c351188799f5458b4b41f7924f235cd");
	CHECK(memcmp(pub, wantpub, KEY_PUB_LEN) == 0, "compressed public key");
	key_to_didkey(k, s, sizeof(s));
	CHECK(strcmp(s, "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme") == 0, "%s", s);

	n = t_unhex(msg, sizeof(msg), unsigned_hex);
	CHECK(n == 118, "unsigned commit length %ld", n);
	t_unhex(want, sizeof(want),
	    "966bf24b76b984bc0456a41bedbbddb90a3333f4b868f17096462bc5e09a91aa"
	    "467c32a94805caa35930a361c7401f807c95351661682302a89e2d0285d3caea");
	t_unhex(wantdig, sizeof(wantdig),
	    "b66af5b7049269d0b21700bfa7abdfc972f6d738c555f5b33538bb975ffa0651");
	sha256(dig, msg, (size_t)n);
	CHECK(memcmp(dig, wantdig, 32) == 0, "commit sha256");
	CHECK(key_sign(k, msg, (size_t)n, sig) == PDS_OK &&
	    memcmp(sig, want, 64) == 0, "V9 signature");
	memset(sig, 0, sizeof(sig));
	CHECK(key_sign_digest(k, wantdig, sig) == PDS_OK &&
	    memcmp(sig, want, 64) == 0, "V9 signature from digest");
	CHECK(key_verify(k, msg, (size_t)n, want, 64) == PDS_OK, "V9 verifies");
	CHECK(key_verify_digest(k, wantdig, want, 64) == PDS_OK, "V9 digest verifies");
	msg[5] ^= 1;
	CHECK(key_verify(k, msg, (size_t)n, want, 64) == PDS_ECRYPTO, "altered commit");
	key_free(k);

	/* V15 */
	CHECK(key_from_didkey(&p, d1, strlen(d1), &why) == PDS_OK, "%s", why);
	if (p != NULL) {
		key_public(p, pub);
		t_unhex(wantpub, sizeof(wantpub),
		    "03a7d7fbf04846fa1fcff728ba594f3c5819345e88908e874b537ba5a65d1fc3bb");
		CHECK(key_type(p) == KEY_K256 && memcmp(pub, wantpub, 33) == 0,
		    "V15 k256 bytes");
		key_free(p);
	}
	CHECK(key_from_didkey(&p, d2, strlen(d2), &why) == PDS_OK, "%s", why);
	if (p != NULL) {
		key_public(p, pub);
		t_unhex(wantpub, sizeof(wantpub),
		    "033a8273eece6b0d82e95c3506617db5000e14ff0023325d0bb0274918bc6a6cdc");
		CHECK(key_type(p) == KEY_P256 && memcmp(pub, wantpub, 33) == 0,
		    "V15 p256 bytes");
		key_free(p);
	}
	t_group_end();
}

/*
 * RFC 6979 A.2.5 (P-256, SHA-256): deterministic nonces.  "sample" gives
 * a high S, which we must return as n - s.
 */
static void
test_rfc6979_p256(void)
{
	struct pds_key	*k = NULL, *p = NULL;
	uint8_t		 sig[64], r[32], sv[32], full[65], pub[33];
	char		 mb[256];
	const char	*why = "";

	t_group("RFC 6979 A.2.5 P-256");
	CHECK(key_from_private_hex(&k, KEY_P256,
	    "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
	    64) == PDS_OK, "import (upper-case hex)");
	if (k == NULL) {
		t_group_end();
		return;
	}
	t_unhex(full, sizeof(full), "04"
	    "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
	    "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299");
	key_public(k, pub);
	CHECK(pub[0] == 0x03 && memcmp(pub + 1, full + 1, 32) == 0,
	    "public key (Uy odd)");

	CHECK(key_sign(k, "sample", 6, sig) == PDS_OK, "sign sample");
	t_unhex(r, sizeof(r), "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716");
	t_unhex(sv, sizeof(sv), "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8");
	CHECK(memcmp(sig, r, 32) == 0, "sample r");
	CHECK(s_is_low(sig, KEY_P256), "sample low S");
	sig_flip_s(sig, KEY_P256);
	CHECK(memcmp(sig + 32, sv, 32) == 0, "sample s = n - s(RFC)");
	CHECK(key_verify(k, "sample", 6, sig, 64) == PDS_ECRYPTO, "RFC high S refused");

	CHECK(key_sign(k, "test", 4, sig) == PDS_OK, "sign test");
	t_unhex(r, sizeof(r), "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367");
	t_unhex(sv, sizeof(sv), "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083");
	CHECK(memcmp(sig, r, 32) == 0 && memcmp(sig + 32, sv, 32) == 0, "test r||s");
	CHECK(key_verify(k, "test", 4, sig, 64) == PDS_OK, "test verifies");

	/* The uncompressed point as a legacy DID-document key. */
	mb[0] = 'z';
	CHECK(b58_encode(mb + 1, sizeof(mb) - 1, full, 65) > 0, "b58");
	CHECK(key_from_legacy_multibase(&p, "EcdsaSecp256r1VerificationKey2019",
	    mb, strlen(mb), &why) == PDS_OK, "legacy uncompressed: %s", why);
	if (p != NULL) {
		CHECK(key_equal(p, k), "legacy key equals");
		CHECK(key_verify(p, "test", 4, sig, 64) == PDS_OK, "legacy key verifies");
		key_free(p);
	}
	CHECK(key_from_public(&p, KEY_P256, full, 65) == PDS_OK && key_equal(p, k),
	    "uncompressed import");
	key_free(p);
	full[64] ^= 1;
	CHECK(key_from_public(&p, KEY_P256, full, 65) == PDS_EINVAL, "point off curve");
	key_free(k);
	t_group_end();
}

/* secp256k1's generator: private key 1. */
static void
test_k256_generator(void)
{
	struct pds_key	*k = NULL, *p = NULL;
	uint8_t		 priv[32] = { 0 }, full[65], pub[33];
	char		 mb[256];
	const char	*why = "";

	t_group("k256 generator point");
	priv[31] = 1;
	t_unhex(full, sizeof(full), "04"
	    "79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798"
	    "483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8");
	CHECK(key_from_private(&k, KEY_K256, priv) == PDS_OK, "import 1");
	if (k == NULL) {
		t_group_end();
		return;
	}
	key_public(k, pub);
	CHECK(pub[0] == 0x02 && memcmp(pub + 1, full + 1, 32) == 0, "G compressed");
	mb[0] = 'z';
	b58_encode(mb + 1, sizeof(mb) - 1, full, 65);
	CHECK(key_from_legacy_multibase(&p, "EcdsaSecp256k1VerificationKey2019",
	    mb, strlen(mb), &why) == PDS_OK, "legacy uncompressed: %s", why);
	if (p != NULL)
		CHECK(key_equal(p, k), "same key");
	key_free(p);
	p = NULL;
	full[0] = 0x06;			/* hybrid encoding */
	CHECK(key_from_public(&p, KEY_K256, full, 65) == PDS_EINVAL, "hybrid refused");
	full[0] = 0x04;
	full[64] ^= 1;
	CHECK(key_from_public(&p, KEY_K256, full, 65) == PDS_EINVAL, "off curve");
	key_free(k);
	t_group_end();
}

static void
test_round_trips(enum key_type type, const char *name)
{
	struct pds_key	*k = NULL, *k2 = NULL, *p = NULL, *o = NULL;
	uint8_t		 msg[100], sig[64], sig2[64], priv[32], pub[33];
	char		 s[KEY_DIDKEY_MAX];
	const char	*why = "";
	int		 i, bad = 0;

	t_group(name);
	CHECK(key_generate(&k, type) == PDS_OK && k != NULL, "generate");
	CHECK(key_generate(&o, type) == PDS_OK && o != NULL, "generate other");
	if (k == NULL || o == NULL) {
		key_free(k);
		key_free(o);
		t_group_end();
		return;
	}
	CHECK(key_type(k) == type && key_has_private(k), "type");
	CHECK(!key_equal(k, o), "two keys differ");
	key_to_didkey(k, s, sizeof(s));
	CHECK(strncmp(s, type == KEY_K256 ? "did:key:zQ3s" : "did:key:zDna", 12) == 0,
	    "prefix %s", s);
	CHECK(key_from_didkey(&p, s, strlen(s), &why) == PDS_OK, "%s", why);
	CHECK(key_export_private(k, priv) == PDS_OK, "export");
	CHECK(key_from_private(&k2, type, priv) == PDS_OK && key_equal(k, k2),
	    "re-import");
	sodium_memzero(priv, sizeof(priv));
	key_public(k, pub);
	for (i = 0; i < 32 && p != NULL && k2 != NULL; i++) {
		randombytes_buf(msg, sizeof(msg));
		if (key_sign(k, msg, sizeof(msg), sig) != PDS_OK ||
		    key_sign(k2, msg, sizeof(msg), sig2) != PDS_OK ||
		    memcmp(sig, sig2, 64) != 0 || !s_is_low(sig, type) ||
		    key_verify(p, msg, sizeof(msg), sig, 64) != PDS_OK ||
		    key_verify(k, msg, sizeof(msg), sig, 64) != PDS_OK ||
		    key_verify(o, msg, sizeof(msg), sig, 64) != PDS_ECRYPTO)
			bad++;
		sig[i % 64] ^= (uint8_t)(1u << (i % 8));
		if (key_verify(p, msg, sizeof(msg), sig, 64) != PDS_ECRYPTO)
			bad++;
		sig[i % 64] ^= (uint8_t)(1u << (i % 8));
		msg[i] ^= 0x80;
		if (key_verify(p, msg, sizeof(msg), sig, 64) != PDS_ECRYPTO)
			bad++;
		msg[i] ^= 0x80;
		/* high S of a good signature */
		sig_flip_s(sig, type);
		if (key_verify(p, msg, sizeof(msg), sig, 64) != PDS_ECRYPTO)
			bad++;
	}
	CHECK(bad == 0, "%d sign/verify failures", bad);
	CHECK(key_verify(p, msg, sizeof(msg), sig, 63) == PDS_ECRYPTO, "63 bytes");
	memset(sig, 0, sizeof(sig));
	CHECK(key_verify(p, msg, sizeof(msg), sig, 64) == PDS_ECRYPTO, "zero sig");
	t_unhex(sig, 32, type == KEY_K256 ? k256_n_hex : p256_n_hex);
	sig[63] = 1;
	CHECK(key_verify(p, msg, sizeof(msg), sig, 64) == PDS_ECRYPTO, "r = n");
	CHECK(key_sign(p, msg, sizeof(msg), sig) == PDS_EINVAL, "public key cannot sign");
	CHECK(key_export_private(p, priv) == PDS_EINVAL, "public key has no secret");
	key_free(k);
	key_free(k2);
	key_free(p);
	key_free(o);
	t_group_end();
}

static void
test_refusals(void)
{
	struct pds_key	*k = NULL;
	uint8_t		 b[40];
	const char	*why = "";
	const char	*good = "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme";

	t_group("refusals");
	memset(b, 0, sizeof(b));
	CHECK(key_from_private(&k, KEY_K256, b) == PDS_EINVAL && k == NULL, "k256 zero");
	CHECK(key_from_private(&k, KEY_P256, b) == PDS_EINVAL, "p256 zero");
	t_unhex(b, sizeof(b), k256_n_hex);
	CHECK(key_from_private(&k, KEY_K256, b) == PDS_EINVAL, "k256 n");
	t_unhex(b, sizeof(b), p256_n_hex);
	CHECK(key_from_private(&k, KEY_P256, b) == PDS_EINVAL, "p256 n");
	CHECK(key_from_private_hex(&k, KEY_K256, k256_n_hex, 63) == PDS_EINVAL, "63 digits");
	CHECK(key_from_private_hex(&k, KEY_K256,
	    "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0g",
	    64) == PDS_EINVAL, "non-hex");
	CHECK(key_from_private_hex(&k, KEY_K256,
	    "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
	    64) == PDS_OK, "good hex");
	key_free(k);
	k = NULL;

	CHECK(key_from_multikey(&k, good, strlen(good), &why) == PDS_OK, "good");
	key_free(k);
	k = NULL;
	CHECK(key_from_multikey(&k, good + 1, strlen(good) - 1, &why) == PDS_EINVAL, "no z");
	CHECK(key_from_multikey(&k, good, strlen(good) - 1, &why) < 0 && k == NULL, "truncated");
	CHECK(key_from_multikey(&k, "z", 1, &why) == PDS_EINVAL, "empty");
	CHECK(key_from_multikey(&k, "zQ3sh0kFTS", 10, &why) == PDS_EINVAL, "bad char");
	CHECK(key_from_didkey(&k, good, strlen(good), &why) == PDS_EINVAL, "not did:key");
	CHECK(key_from_didkey(&k, "did:key:", 8, &why) == PDS_EINVAL, "did:key: only");
	/* An Ed25519 did:key (W3C did:key spec example). */
	CHECK(key_from_didkey(&k,
	    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", 56,
	    &why) == PDS_EUNSUPP, "ed25519 unsupported: %s", why);
	CHECK(key_from_legacy_multibase(&k, "Ed25519VerificationKey2018", good,
	    strlen(good), &why) == PDS_EUNSUPP, "unknown type");
	CHECK(key_from_legacy_multibase(&k, "Multikey", good, strlen(good),
	    &why) == PDS_OK, "Multikey type");
	key_free(k);
	k = NULL;
	/* A Multikey given as a legacy key has a codec prefix: 35 bytes. */
	CHECK(key_from_legacy_multibase(&k, "EcdsaSecp256k1VerificationKey2019",
	    good, strlen(good), &why) == PDS_EINVAL, "legacy with codec");
	b[0] = 0x05;
	CHECK(key_from_public(&k, KEY_K256, b, 33) == PDS_EINVAL, "prefix 05");
	CHECK(key_from_public(&k, KEY_P256, b, 32) == PDS_EINVAL, "32 bytes");
	CHECK(k == NULL, "nothing returned");
	t_group_end();
}

int
main(void)
{
	if (key_init() != PDS_OK) {
		fprintf(stderr, "key_init failed\n");
		return 1;
	}
	test_signature_fixtures();
	test_w3c_didkey("tests/fixtures/crypto/w3c_didkey_K256.json", KEY_K256, 5);
	test_w3c_didkey("tests/fixtures/crypto/w3c_didkey_P256.json", KEY_P256, 1);
	test_notes_vectors();
	test_rfc6979_p256();
	test_k256_generator();
	test_round_trips(KEY_K256, "k256 round trips");
	test_round_trips(KEY_P256, "p256 round trips");
	test_refusals();
	return t_done("test_keys");
}
