/*
 * Unit tests: PKCE S256 (RFC 7636 appendix B).
 */
#include <string.h>

#include "err.h"
#include "pkce.h"
#include "t.h"

static const char *rfc_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char *rfc_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

static int
ver(const char *v, const char *c, const char **why)
{
	return pkce_verify_s256(v, strlen(v), c, strlen(c), why);
}

int
main(void)
{
	char		 ch[PKCE_CHALLENGE_SIZE], v[PKCE_VERIFIER_MAX + 2];
	const char	*why = NULL;
	int		 rc;

	t_group("rfc7636");
	CHECK(pkce_challenge_s256(ch, rfc_verifier, strlen(rfc_verifier)) ==
	    PDS_OK && strcmp(ch, rfc_challenge) == 0, "challenge %s", ch);
	CHECK(ver(rfc_verifier, rfc_challenge, &why) == PDS_OK, "%s", why);
	t_group_end();

	t_group("refusals");
	/* One character changed in each. */
	rc = ver("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", rfc_challenge,
	    &why);
	CHECK(rc == PDS_EMISMATCH && strcmp(why, "Invalid code_verifier") == 0,
	    "rc %d", rc);
	CHECK(ver(rfc_verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN",
	    &why) == PDS_EINVAL, "non-zero padding bits in the challenge");
	CHECK(ver(rfc_verifier, "F9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
	    &why) == PDS_EMISMATCH, "wrong challenge");
	CHECK(ver(rfc_verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=",
	    &why) == PDS_EINVAL, "padded challenge");
	CHECK(ver(rfc_verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
	    &why) == PDS_EINVAL, "standard-alphabet challenge");
	CHECK(ver(rfc_verifier, "", &why) == PDS_EINVAL, "empty challenge");
	/* 42 characters: too short. */
	rc = ver("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX", rfc_challenge,
	    &why);
	CHECK(rc == PDS_EINVAL && strcmp(why, "code_verifier too short") == 0,
	    "rc %d", rc);
	CHECK(ver("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEj+k", rfc_challenge,
	    &why) == PDS_EINVAL, "'+' in verifier");
	CHECK(ver("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEj k", rfc_challenge,
	    &why) == PDS_EINVAL, "space in verifier");
	CHECK(pkce_verify_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEj\0k",
	    43, rfc_challenge, 43, &why) == PDS_EINVAL, "NUL in verifier");
	t_group_end();

	t_group("bounds");
	memset(v, 'a', sizeof(v));
	CHECK(pkce_verifier_valid(v, 43), "43");
	CHECK(pkce_verifier_valid(v, 128), "128");
	CHECK(!pkce_verifier_valid(v, 129), "129");
	CHECK(!pkce_verifier_valid(v, 42), "42");
	CHECK(pkce_verifier_valid("-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz", 66), "every unreserved character");
	CHECK(pkce_challenge_s256(ch, v, 128) == PDS_OK &&
	    pkce_verify_s256(v, 128, ch, strlen(ch), &why) == PDS_OK,
	    "128-character round trip");
	CHECK(pkce_verify_s256(v, 129, ch, strlen(ch), &why) == PDS_EINVAL &&
	    strcmp(why, "code_verifier too long") == 0, "129 refused");
	CHECK(pkce_challenge_valid(rfc_challenge, 43), "valid challenge");
	CHECK(!pkce_challenge_valid(rfc_challenge, 42), "42-char challenge");
	t_group_end();
	return t_done("test_pkce");
}
