/*
 * pkce: RFC 7636 S256 verification.  See pkce.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "cid.h"
#include "err.h"
#include "multibase.h"
#include "pkce.h"

/* RFC 7636 §4.1 unreserved characters. */
static bool
pkce_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

bool
pkce_verifier_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len < PKCE_VERIFIER_MIN || len > PKCE_VERIFIER_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!pkce_unreserved((unsigned char)s[i]))
			return false;
	return true;
}

bool
pkce_challenge_valid(const char *s, size_t len)
{
	uint8_t	 digest[32];

	/* The strict decoder also refuses non-zero trailing bits. */
	return len == PKCE_CHALLENGE_LEN &&
	    b64url_decode(digest, sizeof(digest), s, len) == sizeof(digest);
}

int
pkce_challenge_s256(char out[PKCE_CHALLENGE_SIZE], const char *verifier,
    size_t len)
{
	char	 enc[B64_ENC_LEN(32) + 1];	/* with the encoder's slack */
	uint8_t	 digest[32];

	if (!pkce_verifier_valid(verifier, len))
		return PDS_EINVAL;
	sha256(digest, verifier, len);
	if (b64url_encode(enc, sizeof(enc), digest, sizeof(digest)) !=
	    PKCE_CHALLENGE_LEN)
		return PDS_EINTERNAL;
	memcpy(out, enc, PKCE_CHALLENGE_SIZE);
	return PDS_OK;
}

int
pkce_verify_s256(const char *verifier, size_t vlen, const char *challenge,
    size_t clen, const char **why)
{
	char	 want[PKCE_CHALLENGE_SIZE];
	int	 rc;

	if (!pkce_challenge_valid(challenge, clen))
		return pds_fail(why, PDS_EINVAL, "malformed code_challenge");
	if (vlen < PKCE_VERIFIER_MIN)
		return pds_fail(why, PDS_EINVAL, "code_verifier too short");
	if (vlen > PKCE_VERIFIER_MAX)
		return pds_fail(why, PDS_EINVAL, "code_verifier too long");
	if ((rc = pkce_challenge_s256(want, verifier, vlen)) != PDS_OK)
		return pds_fail(why, rc, "malformed code_verifier");
	if (sodium_init() < 0)
		return pds_fail(why, PDS_ECRYPTO, "libsodium failed");
	rc = sodium_memcmp(want, challenge, PKCE_CHALLENGE_LEN) == 0 ?
	    PDS_OK : pds_fail(why, PDS_EMISMATCH, "Invalid code_verifier");
	return rc;
}
