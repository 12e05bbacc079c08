/*
 * dpop: DPoP proofs (RFC 9449) as atproto OAuth uses them, and the
 * server's stateless nonces.
 *
 * dpop_verify() checks one proof JWT, in this order, refusing at the
 * first fault:
 *   size            at most DPOP_MAX_LEN bytes (PDS_ETOOBIG);
 *   syntax          a compact JWS (jwt_decode());
 *   header          typ exactly "dpop+jwt", alg ES256 or ES256K, jwk a
 *                   public EC key of the alg's curve (jwk_parse_public());
 *   signature       raw r||s over the signing input, with the header's
 *                   key; a high-S signature is accepted (JOSE does not
 *                   require low S, and browsers do not produce it);
 *   jti             a non-empty string of at most DPOP_JTI_MAX bytes;
 *   htm             equal to the request method, case-sensitively;
 *   htu             equal to the request URL once both are normalised
 *                   by dpop_htu_normalize();
 *   iat             a number between now - iat_past and now + iat_future;
 *   ath             with an access token: present and equal to
 *                   base64url(SHA-256(token)); without one: absent;
 *   nonce           when present, a string of at most DPOP_NONCE_MAX
 *                   bytes, handed back unchecked.
 * Signature faults are PDS_ECRYPTO, an iat out of the window
 * PDS_EEXPIRED, a wrong htm, htu or ath PDS_EMISMATCH, an unsupported
 * alg or key PDS_EUNSUPP, everything else PDS_EINVAL; *why names the
 * reason (all map to the OAuth error invalid_dpop_proof).  The caller
 * still checks the nonce (dpop_nonce_check()), jti replay and, for a
 * bound token, that the token's cnf.jkt equals the proof's jkt.
 *
 * Nonces: nonce(c) = base64url(first 16 bytes of HMAC-SHA256(secret, c
 * as 8 big-endian bytes)), with c = floor(now / DPOP_NONCE_STEP).  The
 * server hands out nonce(c + 1) (dpop_nonce_current()) and accepts the
 * nonces of c - 1, c and c + 1, so one lives two to three steps and every
 * client sees the same one.  No state is kept.
 */
#ifndef PDS_DPOP_H
#define PDS_DPOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "jwk.h"

#define DPOP_MAX_LEN		8192	/* the longest proof read */
#define DPOP_JTI_MAX		256	/* the longest jti kept */
#define DPOP_NONCE_MAX		256	/* the longest nonce kept */
#define DPOP_HTU_MAX		2048	/* the longest normalised htu */
#define DPOP_IAT_PAST		190	/* the reference's window, seconds */
#define DPOP_IAT_FUTURE		180

#define DPOP_NONCE_SECRET_LEN	32
#define DPOP_NONCE_STEP		60	/* seconds per nonce */
#define DPOP_NONCE_MAC_LEN	16	/* HMAC bytes kept */
#define DPOP_NONCE_LEN		22	/* base64url of 16 bytes */
#define DPOP_NONCE_SIZE		(DPOP_NONCE_LEN + 1)	/* with the NUL */

struct dpop_expect {
	const char	*htm;		/* the request method, "POST" */
	const char	*htu;		/* the public URL of the request */
	time_t		 now;
	long		 iat_past;	/* seconds iat may lie before now */
	long		 iat_future;	/* seconds iat may lie after now */
	const char	*access_token;	/* NULL: the proof must have no ath */
	size_t		 access_token_len;
};

/* What a verified proof says; caller-owned, nothing to free. */
struct dpop_proof {
	char		 jkt[JWK_THUMB_SIZE];	/* the key's thumbprint */
	char		 jti[DPOP_JTI_MAX + 1];
	int64_t		 iat;
	bool		 has_nonce;
	char		 nonce[DPOP_NONCE_MAX + 1];	/* "" without one */
};

/* Verify a proof as described above; *out is filled only on PDS_OK. */
int	 dpop_verify(struct dpop_proof *out, const char *proof, size_t len,
	    const struct dpop_expect *, const char **why);

/*
 * Write the normalised form of an http or https URL: scheme and host
 * lower-cased, the scheme's default port dropped, an empty path made
 * "/", query and fragment removed.  Returns the length, or PDS_EINVAL
 * (not an absolute http(s) URL, userinfo, a bad port) or PDS_ETOOBIG.
 */
long	 dpop_htu_normalize(char *out, size_t cap, const char *url,
	    size_t len);

/* The nonce counter for a time: floor(now / DPOP_NONCE_STEP). */
uint64_t dpop_nonce_counter(time_t now);
/* The nonce of one counter value. */
void	 dpop_nonce_make(char out[DPOP_NONCE_SIZE],
	    const uint8_t secret[DPOP_NONCE_SECRET_LEN], uint64_t counter);
/* The nonce to hand out now: that of dpop_nonce_counter(now) + 1. */
void	 dpop_nonce_current(char out[DPOP_NONCE_SIZE],
	    const uint8_t secret[DPOP_NONCE_SECRET_LEN], time_t now);
/*
 * PDS_OK when `nonce` is that of the current, previous or next counter;
 * PDS_EMISMATCH otherwise.  Constant time in the nonce's contents.
 */
int	 dpop_nonce_check(const uint8_t secret[DPOP_NONCE_SECRET_LEN],
	    const char *nonce, size_t len, time_t now);

#endif
