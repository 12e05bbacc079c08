/*
 * fuzz_jwt: jwt_decode() on arbitrary bytes; whatever decodes is then
 * verified with a fixed HS256 secret and a fixed k256 public key and its
 * claims checked.  Nothing may crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "jwt.h"
#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The notes' §14 k256 key (public part). */
static const char fz_didkey[] =
    "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme";
static const uint8_t fz_secret[] = "fuzz-jwt-secret";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pds_key	*pub;
	struct jwt		 j;
	struct jwt_expect	 e = { 0 };
	const char		*why;
	int64_t			 n;

	if (pub == NULL && key_from_didkey(&pub, fz_didkey,
	    sizeof(fz_didkey) - 1, NULL) != PDS_OK)
		abort();
	if (jwt_decode(&j, (const char *)data, size, &why) != PDS_OK)
		return 0;
	if (j.header == NULL || j.payload == NULL || j.alg == NULL ||
	    j.signed_part == NULL || j.siglen > JWT_SIG_MAX)
		abort();
	(void)jwt_verify_hs256(&j, fz_secret, sizeof(fz_secret) - 1, &why);
	(void)jwt_verify_es(&j, pub, &why);
	e.now = 1704067230;
	e.skew = 5;
	e.aud = "did:web:api.bsky.app#bsky_appview";
	e.lxm = "app.bsky.feed.getTimeline";
	e.flags = JWT_REFUSE_SESSION_TYP;
	(void)jwt_check_claims(&j, &e, &why);
	e.typ = "at+jwt";
	e.lxm = NULL;
	e.flags = JWT_REFUSE_LXM | JWT_REFUSE_CNF;
	(void)jwt_check_claims(&j, &e, &why);
	(void)jwt_claim_str(&j, "iss");
	(void)jwt_claim_int(&j, "iat", &n);
	jwt_clear(&j);
	return 0;
}
