/*
 * jwt: compact JSON Web Tokens as atproto uses them (atproto-notes §10.1,
 * §10.2): HS256 legacy session tokens and ES256K / ES256 inter-service
 * tokens.
 *
 * Making a token: the header is {"typ":<typ>,"alg":<alg>} (typ left out
 * when NULL) and the payload is the caller's JSON object, both written
 * compactly in insertion order, then base64url without padding.
 *
 * Reading a token is three steps, each refusing on its own:
 *   jwt_decode()        syntax: exactly three non-empty base64url parts
 *                       (no padding), header and payload JSON objects,
 *                       alg one of HS256, ES256K, ES256 ("none" and the
 *                       rest are refused), at most JWT_MAX_LEN bytes;
 *   jwt_verify_*()      the signature, with a key of the token's alg;
 *   jwt_check_claims()  typ, aud, lxm, exp, iat, nbf.
 * Only a passed exp gives PDS_EEXPIRED (for the XRPC error ExpiredToken);
 * every other refusal is PDS_EINVAL, PDS_ETOOBIG, PDS_EUNSUPP or
 * PDS_ECRYPTO (InvalidToken), with *why naming the reason.
 */
#ifndef PDS_JWT_H
#define PDS_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "keys.h"

#define JWT_MAX_LEN	8192	/* the longest token jwt_decode() reads */
#define JWT_SIG_MAX	96	/* the longest signature part it keeps */

struct jwt {
	json_t		*header;	/* owned; a JSON object */
	json_t		*payload;	/* owned; a JSON object */
	const char	*alg;		/* in header: "HS256", "ES256K", "ES256" */
	const char	*typ;		/* in header, or NULL */
	char		*signed_part;	/* owned copy of "header.payload" */
	size_t		 signed_len;
	uint8_t		 sig[JWT_SIG_MAX];
	size_t		 siglen;
};

/*
 * Append a token to `out`.  jwt_sign_es() takes the alg from the key
 * (ES256K or ES256), which must hold a private key.  On failure `out` is
 * left as it was.
 */
int	 jwt_sign_hs256(struct buf *out, const char *typ, const json_t *payload,
	    const uint8_t *secret, size_t secretlen);
int	 jwt_sign_es(struct buf *out, const char *typ, const json_t *payload,
	    const struct pds_key *key);

/*
 * Decode without verifying.  On success the caller owns *out and frees
 * it with jwt_clear(); on failure there is nothing to free.
 */
int	 jwt_decode(struct jwt *out, const char *token, size_t len,
	    const char **why);
/* Free what jwt_decode() filled in; safe on a zeroed struct. */
void	 jwt_clear(struct jwt *);

/*
 * PDS_OK when the signature is right for this key and the token's alg is
 * the key's (HS256 for a secret, the key's curve for an EC key); else
 * PDS_ECRYPTO (or PDS_EINVAL for an empty secret).
 */
int	 jwt_verify_hs256(const struct jwt *, const uint8_t *secret,
	    size_t secretlen, const char **why);
int	 jwt_verify_es(const struct jwt *, const struct pds_key *pub,
	    const char **why);
/*
 * jwt_verify_es() for a token from a JOSE signer (DPoP proofs, client
 * assertions), which need not give a low-S signature: either S passes.
 */
int	 jwt_verify_es_jose(const struct jwt *, const struct pds_key *pub,
	    const char **why);

/* jwt_expect.flags */
#define JWT_REFUSE_LXM		0x01	/* lxm unset: refuse a token with lxm */
#define JWT_REFUSE_SESSION_TYP	0x02	/* refuse typ at+jwt, refresh+jwt, dpop+jwt */
#define JWT_REFUSE_CNF		0x04	/* refuse a token with cnf (key-bound) */

struct jwt_expect {
	time_t		 now;
	long		 skew;	/* seconds of leeway for exp, iat and nbf */
	const char	*typ;	/* header typ must equal this; NULL: any */
	const char	*aud;	/* aud must equal this or aud_alt; NULL: any */
	const char	*aud_alt;
	const char	*lxm;	/* lxm must equal this; NULL: see flags */
	int		 flags;
};

/*
 * Check the claims: exp is required and must be later than now - skew
 * (PDS_EEXPIRED otherwise); iat and nbf, when present, must not be later
 * than now + skew; then typ, aud, lxm and the flags as documented above.
 */
int	 jwt_check_claims(const struct jwt *, const struct jwt_expect *,
	    const char **why);

/* A payload string claim, or NULL when absent or not a string. */
const char *jwt_claim_str(const struct jwt *, const char *name);
/* A payload numeric claim (integral part); false when absent or not a number. */
bool	 jwt_claim_int(const struct jwt *, const char *name, int64_t *out);

#endif
