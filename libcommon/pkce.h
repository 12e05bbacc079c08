/*
 * pkce: Proof Key for Code Exchange (RFC 7636), S256 only.
 *
 * A code_verifier is 43 to 128 characters of [A-Za-z0-9-._~]; a
 * code_challenge is BASE64URL(SHA-256(code_verifier)), so exactly 43
 * base64url characters.  The "plain" method is not offered.
 */
#ifndef PDS_PKCE_H
#define PDS_PKCE_H

#include <stdbool.h>
#include <stddef.h>

#define PKCE_VERIFIER_MIN	43
#define PKCE_VERIFIER_MAX	128
#define PKCE_CHALLENGE_LEN	43
#define PKCE_CHALLENGE_SIZE	(PKCE_CHALLENGE_LEN + 1)	/* with the NUL */

bool	 pkce_verifier_valid(const char *, size_t);
bool	 pkce_challenge_valid(const char *, size_t);

/* The S256 challenge of a verifier; PDS_EINVAL for a malformed verifier. */
int	 pkce_challenge_s256(char out[PKCE_CHALLENGE_SIZE],
	    const char *verifier, size_t len);

/*
 * PDS_OK when the verifier is well formed and its S256 challenge equals
 * `challenge` (compared in constant time); PDS_EINVAL for a malformed
 * verifier or challenge, PDS_EMISMATCH when they do not match, with
 * *why naming the reason.
 */
int	 pkce_verify_s256(const char *verifier, size_t vlen,
	    const char *challenge, size_t clen, const char **why);

#endif
