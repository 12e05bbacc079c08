/*
 * jwt: compact JWTs (HS256 via libsodium HMAC-SHA256, ES256K / ES256 via
 * keys.c).  See jwt.h for the rules.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "jwt.h"
#include "keys.h"
#include "multibase.h"

#define HS256_LEN	32

/* ---- making tokens ------------------------------------------------- */

/* Append base64url(data) to b. */
static int
jwt_put_b64url(struct buf *b, const void *data, size_t len)
{
	size_t	 need = B64_ENC_LEN(len);
	long	 r;
	int	 rc;

	if ((rc = buf_reserve(b, need)) != PDS_OK)
		return rc;
	r = b64url_encode((char *)b->p + b->len, b->cap - b->len, data, len);
	if (r < 0)
		return (int)r;
	b->len += (size_t)r;
	return PDS_OK;
}

/* Append b64url(header) "." b64url(payload). */
static int
jwt_put_signing_input(struct buf *out, const char *alg, const char *typ,
    const json_t *payload)
{
	json_t	*h;
	char	*hs = NULL, *ps = NULL;
	int	 rc = PDS_ENOMEM;

	if (!json_is_object(payload))
		return PDS_EINVAL;
	if ((h = json_object()) == NULL)
		return PDS_ENOMEM;
	if (typ != NULL) {
		json_t *t = json_string(typ);

		if (t == NULL || json_object_set_new(h, "typ", t) != 0) {
			rc = PDS_EINVAL;
			goto out;
		}
	}
	if (json_object_set_new(h, "alg", json_string(alg)) != 0)
		goto out;
	/* JSON_PRESERVE_ORDER is the default since jansson 2.8. */
	if ((hs = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL ||
	    (ps = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		goto out;
	if ((rc = jwt_put_b64url(out, hs, strlen(hs))) != PDS_OK ||
	    (rc = buf_putc(out, '.')) != PDS_OK ||
	    (rc = jwt_put_b64url(out, ps, strlen(ps))) != PDS_OK)
		goto out;
out:
	free(hs);
	free(ps);
	json_decref(h);
	return rc;
}

static void
jwt_hs256(uint8_t mac[HS256_LEN], const uint8_t *secret, size_t secretlen,
    const void *data, size_t len)
{
	crypto_auth_hmacsha256_state	 st;

	/* Unlike crypto_auth_hmacsha256(), init takes a key of any length. */
	crypto_auth_hmacsha256_init(&st, secret, secretlen);
	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

/* Put the buffer back to `len` bytes after a failure. */
static int
jwt_undo(struct buf *out, size_t len, int rc)
{
	out->len = len;
	if (out->p != NULL)
		out->p[len] = '\0';
	return rc;
}

int
jwt_sign_hs256(struct buf *out, const char *typ, const json_t *payload,
    const uint8_t *secret, size_t secretlen)
{
	uint8_t	 mac[HS256_LEN];
	size_t	 start = out->len;
	int	 rc;

	if (secretlen == 0)
		return PDS_EINVAL;
	if (sodium_init() < 0)
		return PDS_ECRYPTO;
	if ((rc = jwt_put_signing_input(out, "HS256", typ, payload)) != PDS_OK)
		return jwt_undo(out, start, rc);
	jwt_hs256(mac, secret, secretlen, out->p + start, out->len - start);
	if ((rc = buf_putc(out, '.')) != PDS_OK ||
	    (rc = jwt_put_b64url(out, mac, sizeof(mac))) != PDS_OK)
		return jwt_undo(out, start, rc);
	return PDS_OK;
}

int
jwt_sign_es(struct buf *out, const char *typ, const json_t *payload,
    const struct pds_key *key)
{
	uint8_t	 sig[KEY_SIG_LEN];
	size_t	 start = out->len;
	int	 rc;

	if (!key_has_private(key))
		return PDS_EINVAL;
	if ((rc = jwt_put_signing_input(out, key_jwt_alg(key), typ,
	    payload)) != PDS_OK)
		return jwt_undo(out, start, rc);
	if ((rc = key_sign(key, out->p + start, out->len - start, sig)) !=
	    PDS_OK ||
	    (rc = buf_putc(out, '.')) != PDS_OK ||
	    (rc = jwt_put_b64url(out, sig, sizeof(sig))) != PDS_OK)
		return jwt_undo(out, start, rc);
	return PDS_OK;
}

/* ---- reading tokens ------------------------------------------------ */

void
jwt_clear(struct jwt *j)
{
	if (j == NULL)
		return;
	json_decref(j->header);
	json_decref(j->payload);
	if (j->signed_part != NULL) {
		sodium_memzero(j->signed_part, j->signed_len);
		free(j->signed_part);
	}
	memset(j, 0, sizeof(*j));
}

/* base64url-decode one part and parse it as a JSON object. */
static int
jwt_part_json(json_t **out, uint8_t *tmp, size_t cap, const char *s,
    size_t len, const char **why, const char *what_b64, const char *what_json)
{
	json_error_t	 err;
	long		 n;

	if ((n = b64url_decode(tmp, cap, s, len)) < 0)
		return pds_fail(why, PDS_EINVAL, what_b64);
	*out = json_loadb((const char *)tmp, (size_t)n, JSON_REJECT_DUPLICATES,
	    &err);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return pds_fail(why, PDS_EINVAL, what_json);
	}
	return PDS_OK;
}

int
jwt_decode(struct jwt *j, const char *tok, size_t len, const char **why)
{
	const char	*d1, *d2;
	json_t		*v;
	uint8_t		*tmp = NULL;
	long		 n;
	int		 rc;

	memset(j, 0, sizeof(*j));
	if (len == 0)
		return pds_fail(why, PDS_EINVAL, "empty token");
	if (len > JWT_MAX_LEN)
		return pds_fail(why, PDS_ETOOBIG, "token too long");
	if (memchr(tok, '\0', len) != NULL)
		return pds_fail(why, PDS_EINVAL, "NUL in token");
	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL)
		return pds_fail(why, PDS_EINVAL, "token is not three parts");
	if (d1 == tok || d2 == d1 + 1 || d2 + 1 == tok + len)
		return pds_fail(why, PDS_EINVAL, "empty token part");

	/* Decoded parts are shorter than their text. */
	if ((tmp = malloc(len)) == NULL)
		return PDS_ENOMEM;
	if ((rc = jwt_part_json(&j->header, tmp, len, tok, (size_t)(d1 - tok),
	    why, "bad base64url in header", "header is not a JSON object")) !=
	    PDS_OK)
		goto fail;
	if ((rc = jwt_part_json(&j->payload, tmp, len, d1 + 1,
	    (size_t)(d2 - d1 - 1), why, "bad base64url in payload",
	    "payload is not a JSON object")) != PDS_OK)
		goto fail;

	v = json_object_get(j->header, "alg");
	if (!json_is_string(v)) {
		rc = pds_fail(why, PDS_EINVAL, "header has no alg");
		goto fail;
	}
	j->alg = json_string_value(v);
	if (strcmp(j->alg, "HS256") != 0 && strcmp(j->alg, "ES256K") != 0 &&
	    strcmp(j->alg, "ES256") != 0) {
		rc = pds_fail(why, PDS_EUNSUPP, strcmp(j->alg, "none") == 0 ?
		    "alg none refused" : "unsupported alg");
		goto fail;
	}
	if ((v = json_object_get(j->header, "typ")) != NULL) {
		if (!json_is_string(v)) {
			rc = pds_fail(why, PDS_EINVAL, "typ is not a string");
			goto fail;
		}
		j->typ = json_string_value(v);
	}
	/* No extensions are understood, so any critical one is refused. */
	if (json_object_get(j->header, "crit") != NULL) {
		rc = pds_fail(why, PDS_EUNSUPP, "crit header refused");
		goto fail;
	}

	if ((n = b64url_decode(j->sig, sizeof(j->sig), d2 + 1,
	    len - (size_t)(d2 + 1 - tok))) < 0) {
		rc = pds_fail(why, PDS_EINVAL, n == PDS_ETOOBIG ?
		    "signature too long" : "bad base64url in signature");
		goto fail;
	}
	j->siglen = (size_t)n;

	j->signed_len = (size_t)(d2 - tok);
	if ((j->signed_part = malloc(j->signed_len + 1)) == NULL) {
		rc = PDS_ENOMEM;
		goto fail;
	}
	memcpy(j->signed_part, tok, j->signed_len);
	j->signed_part[j->signed_len] = '\0';
	free(tmp);
	return PDS_OK;
fail:
	free(tmp);
	jwt_clear(j);
	return rc;
}

int
jwt_verify_hs256(const struct jwt *j, const uint8_t *secret, size_t secretlen,
    const char **why)
{
	uint8_t	 mac[HS256_LEN];
	int	 ok;

	if (secretlen == 0)
		return pds_fail(why, PDS_EINVAL, "empty HMAC secret");
	if (j->alg == NULL || strcmp(j->alg, "HS256") != 0)
		return pds_fail(why, PDS_ECRYPTO, "alg is not HS256");
	if (j->siglen != HS256_LEN)
		return pds_fail(why, PDS_ECRYPTO, "bad signature length");
	if (sodium_init() < 0)
		return pds_fail(why, PDS_ECRYPTO, "libsodium failed");
	jwt_hs256(mac, secret, secretlen, j->signed_part, j->signed_len);
	ok = sodium_memcmp(mac, j->sig, HS256_LEN) == 0;
	sodium_memzero(mac, sizeof(mac));
	if (!ok)
		return pds_fail(why, PDS_ECRYPTO, "bad signature");
	return PDS_OK;
}

int
jwt_verify_es(const struct jwt *j, const struct pds_key *pub,
    const char **why)
{
	if (j->alg == NULL || strcmp(j->alg, key_jwt_alg(pub)) != 0)
		return pds_fail(why, PDS_ECRYPTO, "alg does not match the key");
	if (j->siglen != KEY_SIG_LEN)
		return pds_fail(why, PDS_ECRYPTO, "bad signature length");
	if (key_verify(pub, j->signed_part, j->signed_len, j->sig,
	    j->siglen) != PDS_OK)
		return pds_fail(why, PDS_ECRYPTO, "bad signature");
	return PDS_OK;
}

int
jwt_verify_es_jose(const struct jwt *j, const struct pds_key *pub,
    const char **why)
{
	struct jwt	 low = *j;

	/* A shallow copy: only sig is changed, nothing is freed. */
	if (low.siglen == KEY_SIG_LEN)
		key_sig_low_s(low.sig, key_type(pub));
	return jwt_verify_es(&low, pub, why);
}

/* ---- claims -------------------------------------------------------- */

/* A NumericDate: an integer, or a finite real truncated toward zero. */
static bool
jwt_num(const json_t *v, int64_t *out)
{
	double	 d;

	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		/* NaN and the infinities fail the range test. */
		if (!(d >= -9.0e15 && d <= 9.0e15))
			return false;
		*out = (int64_t)d;
		return true;
	}
	return false;
}

const char *
jwt_claim_str(const struct jwt *j, const char *name)
{
	return json_string_value(json_object_get(j->payload, name));
}

bool
jwt_claim_int(const struct jwt *j, const char *name, int64_t *out)
{
	return jwt_num(json_object_get(j->payload, name), out);
}

static bool
jwt_typ_is_session(const char *typ)
{
	return strcmp(typ, "at+jwt") == 0 || strcmp(typ, "refresh+jwt") == 0 ||
	    strcmp(typ, "dpop+jwt") == 0;
}

int
jwt_check_claims(const struct jwt *j, const struct jwt_expect *e,
    const char **why)
{
	const json_t	*v;
	const char	*s;
	int64_t		 now = (int64_t)e->now, skew = e->skew, t;

	if (skew < 0)
		skew = 0;
	if (e->typ != NULL && (j->typ == NULL || strcmp(j->typ, e->typ) != 0))
		return pds_fail(why, PDS_EINVAL, "wrong typ");
	if ((e->flags & JWT_REFUSE_SESSION_TYP) && j->typ != NULL &&
	    jwt_typ_is_session(j->typ))
		return pds_fail(why, PDS_EINVAL, "session token typ refused");

	if (e->aud != NULL) {
		v = json_object_get(j->payload, "aud");
		if (!json_is_string(v))
			return pds_fail(why, PDS_EINVAL, "no aud");
		s = json_string_value(v);
		if (strcmp(s, e->aud) != 0 &&
		    (e->aud_alt == NULL || strcmp(s, e->aud_alt) != 0))
			return pds_fail(why, PDS_EINVAL, "wrong aud");
	}

	v = json_object_get(j->payload, "lxm");
	if (e->lxm != NULL) {
		if (!json_is_string(v))
			return pds_fail(why, PDS_EINVAL, "no lxm");
		if (strcmp(json_string_value(v), e->lxm) != 0)
			return pds_fail(why, PDS_EINVAL, "wrong lxm");
	} else if ((e->flags & JWT_REFUSE_LXM) && v != NULL)
		return pds_fail(why, PDS_EINVAL, "lxm not allowed");

	if ((e->flags & JWT_REFUSE_CNF) &&
	    json_object_get(j->payload, "cnf") != NULL)
		return pds_fail(why, PDS_EINVAL, "cnf not allowed");

	if ((v = json_object_get(j->payload, "iat")) != NULL) {
		if (!jwt_num(v, &t))
			return pds_fail(why, PDS_EINVAL, "iat is not a number");
		if (t > now + skew)
			return pds_fail(why, PDS_EINVAL, "iat in the future");
	}
	if ((v = json_object_get(j->payload, "nbf")) != NULL) {
		if (!jwt_num(v, &t))
			return pds_fail(why, PDS_EINVAL, "nbf is not a number");
		if (t > now + skew)
			return pds_fail(why, PDS_EINVAL, "not yet valid (nbf)");
	}
	if ((v = json_object_get(j->payload, "exp")) == NULL)
		return pds_fail(why, PDS_EINVAL, "no exp");
	if (!jwt_num(v, &t))
		return pds_fail(why, PDS_EINVAL, "exp is not a number");
	if (t <= now - skew)
		return pds_fail(why, PDS_EEXPIRED, "token expired");
	return PDS_OK;
}
