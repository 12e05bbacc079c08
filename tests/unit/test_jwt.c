/*
 * Unit tests: compact JWTs (atproto-notes §10.1, §10.2, §14 V14;
 * RFC 7515 appendix A.1 for HS256).
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "jwt.h"
#include "keys.h"
#include "multibase.h"
#include "t.h"

static const char *v14 =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NksifQ."
    "eyJpYXQiOjE3MDQwNjcyMDAsImlzcyI6ImRpZDpwbGM6ZXd2aTdueHp5b3VuNnpoeHJo"
    "czY0b2l6IiwiYXVkIjoiZGlkOndlYjphcGkuYnNreS5hcHAjYnNreV9hcHB2aWV3Iiwi"
    "ZXhwIjoxNzA0MDY3MjYwLCJseG0iOiJhcHAuYnNreS5mZWVkLmdldFRpbWVsaW5lIiwi"
    "anRpIjoiMDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmYifQ."
    "j-WWm6eQBjQVsX4kz3-PFw0sr25_rZqLZerJPmM4nzk07Fp6eEF_OUjC2UOzz5KQDAiR"
    "S3Kd8FGN6yE7cgs8Tg";
static const char *v14_priv =
    "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c";
static const char *v14_did =
    "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme";
static const char *v14_aud = "did:web:api.bsky.app#bsky_appview";
static const char *v14_lxm = "app.bsky.feed.getTimeline";

/* Build "b64url(h).b64url(p).sig" from raw JSON text. */
static void
mk(struct buf *b, const char *h, const char *p, const char *sig)
{
	char	 t[4096];

	buf_reset(b);
	b64url_encode(t, sizeof(t), (const uint8_t *)h, strlen(h));
	buf_puts(b, t);
	buf_putc(b, '.');
	b64url_encode(t, sizeof(t), (const uint8_t *)p, strlen(p));
	buf_puts(b, t);
	buf_putc(b, '.');
	buf_puts(b, sig);
}

static int
dec(const char *tok, size_t len, const char **why)
{
	struct jwt	 j;
	int		 rc;

	rc = jwt_decode(&j, tok, len, why);
	if (rc == PDS_OK)
		jwt_clear(&j);
	return rc;
}

static void
test_v14(void)
{
	struct pds_key	*k = NULL, *pub = NULL, *other = NULL, *p256 = NULL;
	struct buf	 b;
	struct jwt	 j;
	struct jwt_expect e;
	json_t		*payload;
	const char	*why = "";
	int64_t		 n;

	t_group("notes §14 V14 service JWT");
	buf_init(&b, 0);
	CHECK(key_from_private_hex(&k, KEY_K256, v14_priv, 64) == PDS_OK, "key");
	CHECK(key_from_didkey(&pub, v14_did, strlen(v14_did), &why) == PDS_OK, "%s", why);
	CHECK(key_generate(&other, KEY_K256) == PDS_OK, "other key");
	CHECK(key_generate(&p256, KEY_P256) == PDS_OK, "p256 key");
	if (k == NULL || pub == NULL || other == NULL || p256 == NULL)
		goto out;
	payload = json_pack("{s:I,s:s,s:s,s:I,s:s,s:s}",
	    "iat", (json_int_t)1704067200,
	    "iss", "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
	    "aud", v14_aud,
	    "exp", (json_int_t)1704067260,
	    "lxm", v14_lxm,
	    "jti", "00112233445566778899aabbccddeeff");
	CHECK(payload != NULL, "payload");
	CHECK(jwt_sign_es(&b, "JWT", payload, k) == PDS_OK, "sign");
	CHECK(b.len == strlen(v14) && strcmp((char *)b.p, v14) == 0,
	    "token differs:\n%s", (char *)b.p);
	CHECK(jwt_sign_es(&b, "JWT", payload, pub) == PDS_EINVAL &&
	    b.len == strlen(v14), "public key cannot sign; buffer kept");
	json_decref(payload);

	CHECK(jwt_decode(&j, v14, strlen(v14), &why) == PDS_OK, "decode: %s", why);
	CHECK(strcmp(j.alg, "ES256K") == 0 && j.typ != NULL &&
	    strcmp(j.typ, "JWT") == 0, "header");
	CHECK(j.siglen == 64, "siglen %zu", j.siglen);
	CHECK(jwt_claim_str(&j, "iss") != NULL &&
	    strcmp(jwt_claim_str(&j, "iss"), "did:plc:ewvi7nxzyoun6zhxrhs64oiz") == 0, "iss");
	CHECK(jwt_claim_int(&j, "exp", &n) && n == 1704067260, "exp");
	CHECK(!jwt_claim_int(&j, "iss", &n) && jwt_claim_str(&j, "exp") == NULL,
	    "claim types");
	CHECK(jwt_verify_es(&j, pub, &why) == PDS_OK, "verify: %s", why);
	CHECK(jwt_verify_es(&j, k, &why) == PDS_OK, "verify with the pair");
	CHECK(jwt_verify_es(&j, other, &why) == PDS_ECRYPTO, "other key");
	CHECK(jwt_verify_es(&j, p256, &why) == PDS_ECRYPTO, "alg mismatch: %s", why);
	CHECK(jwt_verify_hs256(&j, (const uint8_t *)"secret", 6, &why) ==
	    PDS_ECRYPTO, "ES token as HS256");

	memset(&e, 0, sizeof(e));
	e.now = 1704067200 + 30;
	e.aud = v14_aud;
	e.lxm = v14_lxm;
	e.flags = JWT_REFUSE_SESSION_TYP;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_OK, "claims: %s", why);
	e.typ = "JWT";
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_OK, "typ JWT: %s", why);
	e.typ = "at+jwt";
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "wrong typ");
	e.typ = NULL;
	e.now = 1704067259;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_OK, "last second");
	e.now = 1704067260;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EEXPIRED, "expired at exp");
	e.skew = 5;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_OK, "skew");
	e.now = 1704067265;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EEXPIRED, "expired past skew");
	e.now = 1704067100;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "iat in the future");
	e.now = 1704067200;
	e.skew = 0;
	e.aud = "did:web:api.bsky.app";
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "wrong aud");
	e.aud_alt = v14_aud;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_OK, "aud_alt");
	e.aud_alt = NULL;
	e.aud = v14_aud;
	e.lxm = "app.bsky.feed.getAuthorFeed";
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "wrong lxm");
	e.lxm = NULL;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_OK, "lxm not asked");
	e.flags |= JWT_REFUSE_LXM;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "lxm refused");
	jwt_clear(&j);
	jwt_clear(&j);		/* idempotent on the zeroed struct */
out:
	buf_clear(&b);
	key_free(k);
	key_free(pub);
	key_free(other);
	key_free(p256);
	t_group_end();
}

/* RFC 7515 A.1: an HS256 JWS with whitespace in its JSON. */
static void
test_rfc7515(void)
{
	static const char *tok =
	    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
	    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
	    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	static const char *k64 =
	    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0i"
	    "PS4hcgUuTwjAzZr1Z9CAow";
	uint8_t		 key[64];
	long		 klen;
	struct jwt	 j;
	struct jwt_expect e;
	const char	*why = "";

	t_group("RFC 7515 A.1 HS256");
	klen = b64url_decode(key, sizeof(key), k64, strlen(k64));
	CHECK(klen == 64, "key");
	CHECK(jwt_decode(&j, tok, strlen(tok), &why) == PDS_OK, "%s", why);
	if (j.header == NULL) {
		t_group_end();
		return;
	}
	CHECK(jwt_verify_hs256(&j, key, (size_t)klen, &why) == PDS_OK, "verify: %s", why);
	key[0] ^= 1;
	CHECK(jwt_verify_hs256(&j, key, (size_t)klen, &why) == PDS_ECRYPTO, "wrong key");
	CHECK(jwt_verify_hs256(&j, key, 0, &why) == PDS_EINVAL, "empty key");
	memset(&e, 0, sizeof(e));
	e.now = 1300819379;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_OK, "%s", why);
	e.now = 1300819380;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EEXPIRED, "expired");
	jwt_clear(&j);
	t_group_end();
}

static void
test_hs256(void)
{
	static const uint8_t secret[] = "a jwt secret of some arbitrary length!!";
	struct buf	 b;
	struct jwt	 j;
	struct jwt_expect e;
	json_t		*p, *arr;
	uint8_t		 hdr[128];
	long		 n;
	char		*dot;
	const char	*why = "";

	t_group("HS256 session tokens");
	buf_init(&b, 0);
	p = json_pack("{s:s,s:s,s:s,s:I,s:I}", "scope", "com.atproto.access",
	    "aud", "did:web:pds.example.com", "sub", "did:plc:abc",
	    "iat", (json_int_t)1704067200, "exp", (json_int_t)(1704067200 + 7200));
	CHECK(jwt_sign_hs256(&b, "at+jwt", p, secret, sizeof(secret) - 1) == PDS_OK, "sign");
	CHECK(jwt_sign_hs256(&b, "at+jwt", p, secret, 0) == PDS_EINVAL, "empty secret");
	dot = strchr((char *)b.p, '.');
	CHECK(dot != NULL, "dot");
	if (dot == NULL)
		goto out;
	n = b64url_decode(hdr, sizeof(hdr), (char *)b.p, (size_t)(dot - (char *)b.p));
	CHECK(n == 30 && memcmp(hdr, "{\"typ\":\"at+jwt\",\"alg\":\"HS256\"}", 30) == 0,
	    "header JSON");
	CHECK(jwt_decode(&j, (char *)b.p, b.len, &why) == PDS_OK, "%s", why);
	if (j.header == NULL)
		goto out;
	CHECK(j.siglen == 32, "siglen");
	CHECK(jwt_verify_hs256(&j, secret, sizeof(secret) - 1, &why) == PDS_OK, "%s", why);
	CHECK(jwt_verify_hs256(&j, secret, sizeof(secret) - 2, &why) == PDS_ECRYPTO, "shorter secret");
	memset(&e, 0, sizeof(e));
	e.now = 1704067200 + 60;
	e.typ = "at+jwt";
	e.aud = "did:web:pds.example.com";
	e.flags = JWT_REFUSE_LXM | JWT_REFUSE_CNF;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_OK, "%s", why);
	e.typ = "refresh+jwt";
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "refresh typ wanted");
	e.typ = NULL;
	e.flags = JWT_REFUSE_SESSION_TYP;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "session typ as service");
	jwt_clear(&j);

	/* No typ at all. */
	buf_reset(&b);
	CHECK(jwt_sign_hs256(&b, NULL, p, secret, 5) == PDS_OK, "no typ");
	CHECK(strncmp((char *)b.p, "eyJhbGciOiJIUzI1NiJ9.", 21) == 0,
	    "{\"alg\":\"HS256\"}");
	CHECK(jwt_decode(&j, (char *)b.p, b.len, &why) == PDS_OK && j.typ == NULL, "%s", why);
	e.typ = "at+jwt";
	e.flags = 0;
	CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "typ required");
	jwt_clear(&j);
	arr = json_array();
	CHECK(jwt_sign_hs256(&b, "JWT", arr, secret, 5) == PDS_EINVAL,
	    "payload must be an object");
	json_decref(arr);
out:
	json_decref(p);
	buf_clear(&b);
	t_group_end();
}

static void
test_refusals(void)
{
	struct buf	 b;
	struct jwt	 j;
	struct jwt_expect e;
	struct pds_key	*pub = NULL;
	char		 t[9000];
	const char	*why = "";
	const char	*sig86 =
	    "j-WWm6eQBjQVsX4kz3-PFw0sr25_rZqLZerJPmM4nzk07Fp6eEF_OUjC2UOzz5KQDAiR"
	    "S3Kd8FGN6yE7cgs8Tg";
	const char	*hdr = "{\"typ\":\"JWT\",\"alg\":\"ES256K\"}";
	const char	*pl = "{\"iat\":1704067200,\"exp\":1704067260}";
	size_t		 len = strlen(v14), d1, d2;

	t_group("refusals");
	buf_init(&b, 0);
	key_from_didkey(&pub, v14_did, strlen(v14_did), NULL);
	d1 = (size_t)(strchr(v14, '.') - v14);
	d2 = (size_t)(strrchr(v14, '.') - v14);

	/* Tampered payload: a different payload under V14's signature. */
	mk(&b, hdr, "{\"iat\":1704067200,\"iss\":\"did:plc:ewvi7nxzyoun6zhxrhs64oiz\","
	    "\"aud\":\"did:web:api.bsky.app#bsky_appview\",\"exp\":1804067260}", sig86);
	CHECK(jwt_decode(&j, (char *)b.p, b.len, &why) == PDS_OK, "%s", why);
	if (j.header != NULL) {
		CHECK(jwt_verify_es(&j, pub, &why) == PDS_ECRYPTO, "tampered payload");
		jwt_clear(&j);
	}
	/* Tampered signature: one character in its middle. */
	memcpy(t, v14, len + 1);
	t[d2 + 10] = t[d2 + 10] == 'A' ? 'B' : 'A';
	CHECK(jwt_decode(&j, t, len, &why) == PDS_OK, "%s", why);
	if (j.header != NULL) {
		CHECK(jwt_verify_es(&j, pub, &why) == PDS_ECRYPTO, "tampered signature");
		jwt_clear(&j);
	}
	/* alg none, with and without a signature part. */
	mk(&b, "{\"alg\":\"none\"}", pl, "");
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EINVAL, "alg none, empty sig");
	mk(&b, "{\"alg\":\"none\"}", pl, "AAAA");
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EUNSUPP, "alg none");
	mk(&b, "{\"alg\":\"RS256\"}", pl, "AAAA");
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EUNSUPP, "alg RS256");
	mk(&b, "{\"typ\":\"JWT\"}", pl, "AAAA");
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EINVAL, "no alg");
	mk(&b, "{\"alg\":\"ES256K\",\"crit\":[\"b64\"],\"b64\":false}", pl, sig86);
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EUNSUPP, "crit");
	/* alg mismatch: an ES256 header with a k256 key, an HS256 header. */
	mk(&b, "{\"typ\":\"JWT\",\"alg\":\"ES256\"}", pl, sig86);
	CHECK(jwt_decode(&j, (char *)b.p, b.len, &why) == PDS_OK, "%s", why);
	if (j.header != NULL) {
		CHECK(jwt_verify_es(&j, pub, &why) == PDS_ECRYPTO, "ES256 vs k256");
		jwt_clear(&j);
	}
	mk(&b, "{\"typ\":\"JWT\",\"alg\":\"HS256\"}", pl, sig86);
	CHECK(jwt_decode(&j, (char *)b.p, b.len, &why) == PDS_OK, "%s", why);
	if (j.header != NULL) {
		CHECK(jwt_verify_es(&j, pub, &why) == PDS_ECRYPTO, "HS256 vs k256");
		CHECK(jwt_verify_hs256(&j, (const uint8_t *)"k", 1, &why) ==
		    PDS_ECRYPTO, "HS256 with a 64-byte signature");
		jwt_clear(&j);
	}
	/* A DER-encoded (70-72 byte) signature part. */
	mk(&b, hdr, pl, "MEUCIQDaRU0rZ6g6ZI7tW1Cy5vjSAWvbBX4pB2W6HHoQcXqxAAIgVYnE9LtVGm4k"
	    "ZbhkNvHXCbGW3ZbC5HOJDqTgoxuQGi4");
	CHECK(jwt_decode(&j, (char *)b.p, b.len, &why) == PDS_OK, "%s", why);
	if (j.header != NULL) {
		CHECK(j.siglen > 64 && jwt_verify_es(&j, pub, &why) == PDS_ECRYPTO,
		    "DER signature");
		jwt_clear(&j);
	}

	/* Padding and alphabet. */
	snprintf(t, sizeof(t), "%.*s==%s", (int)d1, v14, v14 + d1);
	CHECK(dec(t, strlen(t), &why) == PDS_EINVAL, "padded header");
	snprintf(t, sizeof(t), "%s==", v14);
	CHECK(dec(t, strlen(t), &why) == PDS_EINVAL, "padded signature");
	memcpy(t, v14, len + 1);
	t[d2 + 1] = '+';
	CHECK(dec(t, len, &why) == PDS_EINVAL, "standard alphabet");
	memcpy(t, v14, len + 1);
	t[len - 1] = 'h';		/* non-zero padding bits */
	CHECK(dec(t, len, &why) == PDS_EINVAL, "non-canonical base64url");

	/* Dots. */
	CHECK(dec(v14, d2, &why) == PDS_EINVAL, "two parts");
	snprintf(t, sizeof(t), "%s.", v14);
	CHECK(dec(t, strlen(t), &why) == PDS_EINVAL, "trailing dot");
	snprintf(t, sizeof(t), "%s.%s", v14, sig86);
	CHECK(dec(t, strlen(t), &why) == PDS_EINVAL, "four parts");
	CHECK(dec("..", 2, &why) == PDS_EINVAL, "empty parts");
	CHECK(dec("", 0, &why) == PDS_EINVAL, "empty");
	snprintf(t, sizeof(t), "%.*s.%s", (int)d1, v14, v14 + d2);
	CHECK(dec(t, strlen(t), &why) == PDS_EINVAL, "empty payload");
	memcpy(t, v14, len + 1);
	t[d1 + 3] = '\0';
	CHECK(dec(t, len, &why) == PDS_EINVAL, "NUL inside");

	/* Size. */
	CHECK(dec(v14, len, &why) == PDS_OK, "V14 decodes");
	memset(t, 'A', sizeof(t));
	memcpy(t, v14, len);
	t[d2] = 'A';
	t[d1 + 10] = '.';
	t[8500] = '.';
	CHECK(dec(t, JWT_MAX_LEN + 1, &why) == PDS_ETOOBIG, "oversize: %s", why);
	mk(&b, hdr, pl, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EINVAL, "signature too long");

	/* JSON shape. */
	mk(&b, "[1]", pl, sig86);
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EINVAL, "header array");
	mk(&b, hdr, "\"x\"", sig86);
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EINVAL, "payload string");
	mk(&b, hdr, "{\"exp\":1,\"exp\":2}", sig86);
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EINVAL, "duplicate key");
	mk(&b, hdr, "{\"exp\":1} x", sig86);
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EINVAL, "trailing garbage");
	mk(&b, "{\"typ\":7,\"alg\":\"ES256K\"}", pl, sig86);
	CHECK(dec((char *)b.p, b.len, &why) == PDS_EINVAL, "typ not a string");

	/* Claims. */
	memset(&e, 0, sizeof(e));
	e.now = 1704067200;
	mk(&b, hdr, "{\"iat\":1704067200}", sig86);
	if (jwt_decode(&j, (char *)b.p, b.len, &why) == PDS_OK) {
		CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "no exp");
		jwt_clear(&j);
	}
	mk(&b, hdr, "{\"exp\":\"1704067260\"}", sig86);
	if (jwt_decode(&j, (char *)b.p, b.len, &why) == PDS_OK) {
		CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "exp string");
		jwt_clear(&j);
	}
	mk(&b, hdr, "{\"exp\":1704067360.5,\"nbf\":1704067300}", sig86);
	if (jwt_decode(&j, (char *)b.p, b.len, &why) == PDS_OK) {
		CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "nbf future");
		e.now = 1704067300;
		CHECK(jwt_check_claims(&j, &e, &why) == PDS_OK, "real exp: %s", why);
		e.now = 1704067360;
		CHECK(jwt_check_claims(&j, &e, &why) == PDS_EEXPIRED, "real exp truncated");
		e.now = 1704067200;
		jwt_clear(&j);
	}
	mk(&b, hdr, "{\"exp\":1704067260,\"cnf\":{\"jkt\":\"x\"}}", sig86);
	if (jwt_decode(&j, (char *)b.p, b.len, &why) == PDS_OK) {
		CHECK(jwt_check_claims(&j, &e, &why) == PDS_OK, "cnf allowed");
		e.flags = JWT_REFUSE_CNF;
		CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "cnf refused");
		e.flags = 0;
		e.aud = "did:web:x";
		CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "missing aud");
		e.aud = NULL;
		e.lxm = "com.atproto.x";
		CHECK(jwt_check_claims(&j, &e, &why) == PDS_EINVAL, "missing lxm");
		jwt_clear(&j);
	}
	key_free(pub);
	buf_clear(&b);
	t_group_end();
}

int
main(void)
{
	if (key_init() != PDS_OK) {
		fprintf(stderr, "key_init failed\n");
		return 1;
	}
	test_v14();
	test_rfc7515();
	test_hs256();
	test_refusals();
	return t_done("test_jwt");
}
