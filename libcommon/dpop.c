/*
 * dpop: DPoP proof verification (RFC 9449) and stateless server nonces.
 * See dpop.h for the rules.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "cid.h"
#include "dpop.h"
#include "err.h"
#include "jwk.h"
#include "jwt.h"
#include "keys.h"
#include "multibase.h"

#define DPOP_ATH_LEN	43	/* base64url of a SHA-256 digest */
#define DPOP_PORT_MAX	65535
/* The encoder wants room for padding it does not write. */
#define DPOP_NONCE_ENC_SIZE (B64_ENC_LEN(DPOP_NONCE_MAC_LEN) + 1)

/* ---- htu ----------------------------------------------------------- */

static char
dpop_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

long
dpop_htu_normalize(char *out, size_t cap, const char *url, size_t len)
{
	const char	*p = url, *end = url + len, *auth, *aend;
	const char	*host, *hend, *port = NULL, *path, *pend, *q;
	unsigned long	 pnum = 0;
	size_t		 o = 0, i;
	bool		 https;
	int		 n;

	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f)
			return PDS_EINVAL;
	if (len >= 8 && strncasecmp(p, "https://", 8) == 0) {
		https = true;
		auth = p + 8;
	} else if (len >= 7 && strncasecmp(p, "http://", 7) == 0) {
		https = false;
		auth = p + 7;
	} else
		return PDS_EINVAL;
	for (aend = auth; aend < end && *aend != '/' && *aend != '?' &&
	    *aend != '#'; aend++)
		if (*aend == '@')
			return PDS_EINVAL;	/* no userinfo */
	host = auth;
	if (host < aend && *host == '[') {
		if ((hend = memchr(host, ']', (size_t)(aend - host))) == NULL)
			return PDS_EINVAL;
		hend++;
	} else
		for (hend = host; hend < aend && *hend != ':'; hend++)
			;
	if (hend == host)
		return PDS_EINVAL;
	if (hend < aend) {
		if (*hend != ':')
			return PDS_EINVAL;
		port = hend + 1;
		if (aend - port > 5)
			return PDS_EINVAL;
		for (q = port; q < aend; q++) {
			if (*q < '0' || *q > '9')
				return PDS_EINVAL;
			pnum = pnum * 10 + (unsigned long)(*q - '0');
		}
		if (pnum > DPOP_PORT_MAX)
			return PDS_EINVAL;
		/* An empty port means the default (RFC 3986 §6.2.3). */
		if (port == aend || pnum == (https ? 443UL : 80UL))
			port = NULL;
	}
	path = aend;
	for (pend = path; pend < end && *pend != '?' && *pend != '#'; pend++)
		;

	n = snprintf(out, cap, "%s://", https ? "https" : "http");
	if (n < 0 || (size_t)n >= cap)
		return PDS_ETOOBIG;
	o = (size_t)n;
	if ((size_t)(hend - host) >= cap - o)
		return PDS_ETOOBIG;
	for (q = host; q < hend; q++)
		out[o++] = dpop_lower(*q);
	if (port != NULL) {
		n = snprintf(out + o, cap - o, ":%lu", pnum);
		if (n < 0 || (size_t)n >= cap - o)
			return PDS_ETOOBIG;
		o += (size_t)n;
	}
	if (path == pend) {
		if (cap - o < 2)
			return PDS_ETOOBIG;
		out[o++] = '/';
	} else {
		if ((size_t)(pend - path) >= cap - o)
			return PDS_ETOOBIG;
		memcpy(out + o, path, (size_t)(pend - path));
		o += (size_t)(pend - path);
	}
	out[o] = '\0';
	return (long)o;
}

/* ---- proofs -------------------------------------------------------- */

/* The header checks; on success *key is the proof's key, jkt its thumbprint. */
static int
dpop_check_header(const struct jwt *j, struct pds_key **key,
    char jkt[JWK_THUMB_SIZE], const char **why)
{
	if (j->typ == NULL || strcmp(j->typ, "dpop+jwt") != 0)
		return pds_fail(why, PDS_EINVAL, "typ is not dpop+jwt");
	if (strcmp(j->alg, "ES256") != 0 && strcmp(j->alg, "ES256K") != 0)
		return pds_fail(why, PDS_EUNSUPP, "alg not supported for DPoP");
	if (json_object_get(j->header, "jwk") == NULL)
		return pds_fail(why, PDS_EINVAL, "header has no jwk");
	return jwk_parse_public(key, jkt, json_object_get(j->header, "jwk"),
	    why);
}

static int
dpop_check_signature(const struct jwt *j, const struct pds_key *key,
    const char **why)
{
	if (strcmp(j->alg, key_jwt_alg(key)) != 0)
		return pds_fail(why, PDS_ECRYPTO, "alg does not match the jwk");
	if (j->siglen != KEY_SIG_LEN)
		return pds_fail(why, PDS_ECRYPTO, "bad signature length");
	return jwt_verify_es_jose(j, key, why);
}

/* Copy a bounded string claim; absent is PDS_ENOTFOUND. */
static int
dpop_claim_copy(char *out, size_t cap, const json_t *v, const char **why,
    const char *not_string, const char *too_long)
{
	size_t	 len;

	if (v == NULL)
		return PDS_ENOTFOUND;
	if (!json_is_string(v))
		return pds_fail(why, PDS_EINVAL, not_string);
	len = json_string_length(v);
	if (len >= cap)
		return pds_fail(why, PDS_EINVAL, too_long);
	if (memchr(json_string_value(v), '\0', len) != NULL)
		return pds_fail(why, PDS_EINVAL, not_string);
	memcpy(out, json_string_value(v), len);
	out[len] = '\0';
	return PDS_OK;
}

static int
dpop_check_htu(const char *got, const char *want, const char **why)
{
	char	 a[DPOP_HTU_MAX], b[DPOP_HTU_MAX];
	long	 na, nb;

	if ((nb = dpop_htu_normalize(b, sizeof(b), want, strlen(want))) < 0)
		return pds_fail(why, PDS_EINVAL, "expected htu is not a URL");
	if ((na = dpop_htu_normalize(a, sizeof(a), got, strlen(got))) < 0)
		return pds_fail(why, PDS_EINVAL, "htu is not an http(s) URL");
	if (na != nb || memcmp(a, b, (size_t)na) != 0)
		return pds_fail(why, PDS_EMISMATCH, "DPoP htu mismatch");
	return PDS_OK;
}

static int
dpop_check_ath(const struct jwt *j, const struct dpop_expect *e,
    const char **why)
{
	const json_t	*v = json_object_get(j->payload, "ath");
	char		 want[B64_ENC_LEN(32) + 1];
	uint8_t		 digest[32];

	if (e->access_token == NULL) {
		if (v != NULL)
			return pds_fail(why, PDS_EINVAL,
			    "DPoP ath claim not allowed");
		return PDS_OK;
	}
	if (v == NULL)
		return pds_fail(why, PDS_EINVAL, "DPoP ath claim missing");
	if (!json_is_string(v))
		return pds_fail(why, PDS_EINVAL, "ath is not a string");
	sha256(digest, e->access_token, e->access_token_len);
	if (b64url_encode(want, sizeof(want), digest, sizeof(digest)) !=
	    DPOP_ATH_LEN)
		return pds_fail(why, PDS_EINTERNAL, "ath encoding failed");
	if (json_string_length(v) != DPOP_ATH_LEN ||
	    sodium_memcmp(want, json_string_value(v), DPOP_ATH_LEN) != 0)
		return pds_fail(why, PDS_EMISMATCH, "DPoP ath mismatch");
	return PDS_OK;
}

static int
dpop_check_claims(struct dpop_proof *p, const struct jwt *j,
    const struct dpop_expect *e, const char **why)
{
	const char	*s;
	int64_t		 now = (int64_t)e->now;
	int		 rc;

	rc = dpop_claim_copy(p->jti, sizeof(p->jti),
	    json_object_get(j->payload, "jti"), why, "jti is not a string",
	    "jti too long");
	if (rc == PDS_ENOTFOUND)
		return pds_fail(why, PDS_EINVAL, "DPoP jti missing");
	if (rc != PDS_OK)
		return rc;
	if (p->jti[0] == '\0')
		return pds_fail(why, PDS_EINVAL, "jti is empty");

	if ((s = jwt_claim_str(j, "htm")) == NULL)
		return pds_fail(why, PDS_EINVAL, "DPoP htm missing");
	if (e->htm == NULL || strcmp(s, e->htm) != 0)
		return pds_fail(why, PDS_EMISMATCH, "DPoP htm mismatch");
	if ((s = jwt_claim_str(j, "htu")) == NULL)
		return pds_fail(why, PDS_EINVAL, "DPoP htu missing");
	if (e->htu == NULL)
		return pds_fail(why, PDS_EINVAL, "expected htu is not a URL");
	if ((rc = dpop_check_htu(s, e->htu, why)) != PDS_OK)
		return rc;

	if (!jwt_claim_int(j, "iat", &p->iat))
		return pds_fail(why, PDS_EINVAL, "DPoP iat missing");
	if (p->iat < now - (e->iat_past > 0 ? e->iat_past : 0))
		return pds_fail(why, PDS_EEXPIRED,
		    "iat claim timestamp check failed (too far in the past)");
	if (p->iat > now + (e->iat_future > 0 ? e->iat_future : 0))
		return pds_fail(why, PDS_EEXPIRED,
		    "iat claim timestamp check failed (in the future)");

	if ((rc = dpop_check_ath(j, e, why)) != PDS_OK)
		return rc;

	rc = dpop_claim_copy(p->nonce, sizeof(p->nonce),
	    json_object_get(j->payload, "nonce"), why,
	    "nonce is not a string", "nonce too long");
	if (rc == PDS_ENOTFOUND) {
		p->nonce[0] = '\0';
		p->has_nonce = false;
	} else if (rc != PDS_OK)
		return rc;
	else
		p->has_nonce = true;
	return PDS_OK;
}

int
dpop_verify(struct dpop_proof *out, const char *proof, size_t len,
    const struct dpop_expect *e, const char **why)
{
	struct dpop_proof	 p;
	struct jwt		 j;
	struct pds_key		*key = NULL;
	const char		*w = NULL;
	int			 rc;

	memset(&p, 0, sizeof(p));
	if (len > DPOP_MAX_LEN)
		return pds_fail(why, PDS_ETOOBIG, "DPoP proof too long");
	if ((rc = jwt_decode(&j, proof, len, &w)) != PDS_OK)
		goto fail;
	if ((rc = dpop_check_header(&j, &key, p.jkt, &w)) == PDS_OK &&
	    (rc = dpop_check_signature(&j, key, &w)) == PDS_OK &&
	    (rc = dpop_check_claims(&p, &j, e, &w)) == PDS_OK)
		*out = p;
	key_free(key);
	jwt_clear(&j);
	if (rc == PDS_OK)
		return PDS_OK;
fail:
	/* Allocation failures come back without a reason of their own. */
	return pds_fail(why, rc, w != NULL ? w : pds_strerror(rc));
}

/* ---- nonces -------------------------------------------------------- */

uint64_t
dpop_nonce_counter(time_t now)
{
	return now < 0 ? 0 : (uint64_t)now / DPOP_NONCE_STEP;
}

void
dpop_nonce_make(char out[DPOP_NONCE_SIZE],
    const uint8_t secret[DPOP_NONCE_SECRET_LEN], uint64_t counter)
{
	crypto_auth_hmacsha256_state	 st;
	uint8_t				 msg[8], mac[32];
	char				 enc[DPOP_NONCE_ENC_SIZE];
	int				 i;

	for (i = 7; i >= 0; i--) {
		msg[i] = (uint8_t)counter;
		counter >>= 8;
	}
	if (sodium_init() < 0) {
		/* Cannot happen once keys or jwt have run; never match. */
		out[0] = '\0';
		return;
	}
	crypto_auth_hmacsha256_init(&st, secret, DPOP_NONCE_SECRET_LEN);
	crypto_auth_hmacsha256_update(&st, msg, sizeof(msg));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	if (b64url_encode(enc, sizeof(enc), mac, DPOP_NONCE_MAC_LEN) ==
	    DPOP_NONCE_LEN)
		memcpy(out, enc, DPOP_NONCE_SIZE);
	else
		out[0] = '\0';
	sodium_memzero(mac, sizeof(mac));
}

void
dpop_nonce_current(char out[DPOP_NONCE_SIZE],
    const uint8_t secret[DPOP_NONCE_SECRET_LEN], time_t now)
{
	dpop_nonce_make(out, secret, dpop_nonce_counter(now) + 1);
}

int
dpop_nonce_check(const uint8_t secret[DPOP_NONCE_SECRET_LEN],
    const char *nonce, size_t len, time_t now)
{
	char		 want[DPOP_NONCE_SIZE];
	uint64_t	 c = dpop_nonce_counter(now);
	int		 ok = 0, d;

	if (len != DPOP_NONCE_LEN)
		return PDS_EMISMATCH;
	for (d = -1; d <= 1; d++) {
		if (d < 0 && c == 0)
			continue;
		dpop_nonce_make(want, secret, c + (uint64_t)(int64_t)d);
		if (want[0] != '\0' &&
		    sodium_memcmp(want, nonce, DPOP_NONCE_LEN) == 0)
			ok = 1;
	}
	return ok ? PDS_OK : PDS_EMISMATCH;
}
