/*
 * jwk: public EC keys as JSON Web Keys (RFC 7517, RFC 7518 §6.2) and
 * their RFC 7638 SHA-256 thumbprints, for DPoP proofs and the server's
 * own key set.
 *
 * Only elliptic-curve public keys are read: "kty":"EC" with "crv"
 * "P-256" (JWT alg ES256) or "secp256k1" (ES256K), "x" and "y" each the
 * base64url of exactly 32 bytes, and the point on the curve.  A JWK
 * carrying a private part ("d") is refused: a key sent over the wire
 * must never be a secret.  Members other than kty, crv, x, y, d and alg
 * are ignored; "alg", when present, must name the curve's JWT alg.
 *
 * The thumbprint is base64url(SHA-256(JSON)) where the JSON is
 * {"crv":…,"kty":"EC","x":…,"y":…}: members in that order, no spaces.
 * It is computed from the decoded coordinates, so one key has exactly
 * one thumbprint.
 */
#ifndef PDS_JWK_H
#define PDS_JWK_H

#include <jansson.h>

#include "keys.h"

#define JWK_COORD_LEN	32	/* bytes in x and in y */
#define JWK_THUMB_LEN	43	/* base64url of a SHA-256 digest */
#define JWK_THUMB_SIZE	(JWK_THUMB_LEN + 1)	/* with the NUL */

/*
 * Read a public EC JWK.  On success *out is a public key the caller
 * frees with key_free(), and when jkt is non-NULL it receives the key's
 * thumbprint.  Refusals: PDS_EINVAL (not an object, a member missing or
 * of the wrong type, bad base64url, wrong length, "d" present, alg not
 * the curve's, point not on the curve) or PDS_EUNSUPP (kty other than
 * EC, another curve), with *why naming the reason.
 */
int	 jwk_parse_public(struct pds_key **out, char jkt[JWK_THUMB_SIZE],
	    const json_t *jwk, const char **why);

/* The RFC 7638 thumbprint of a key's public part. */
int	 jwk_thumbprint(const struct pds_key *, char out[JWK_THUMB_SIZE]);

/*
 * A new JSON object {"kty":"EC","crv":…,"x":…,"y":…} for the key's
 * public part (never the private part); the caller json_decref()s it.
 */
int	 jwk_export_public(json_t **out, const struct pds_key *);

#endif
