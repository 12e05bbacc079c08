/*
 * fuzz_dpop: dpop_verify() on arbitrary bytes, with and without an
 * access token; the same bytes as a JWK (jwk_parse_public(), then the
 * thumbprint and a write and re-read that must agree), as a URL
 * (dpop_htu_normalize(), which must be idempotent) and as a nonce.
 * An input "HEADER\nCLAIMS" is also made into a proof signed with a
 * fixed P-256 key, so that mutations reach the checks that follow the
 * signature (seeds carry that key's JWK in HEADER).  The expected
 * method, URL and time are those of the RFC 9449 example proof, which
 * is in the seed corpus.  Nothing may crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dpop.h"
#include "err.h"
#include "jwk.h"
#include "keys.h"
#include "multibase.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t fz_secret[DPOP_NONCE_SECRET_LEN] =
    "fuzz-dpop-nonce-secret-32-bytes";

/* The signing key of the HEADER\nCLAIMS inputs: d = 1, 2, ..., 32. */
static const uint8_t fz_priv[KEY_PRIV_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

#define FZ_PART_MAX	4096

static void
fz_proof(const uint8_t *data, size_t size, const char *token)
{
	struct dpop_expect	 e;
	struct dpop_proof	 p;
	const char		*why = NULL;

	memset(&e, 0, sizeof(e));
	e.htm = "POST";
	e.htu = "https://server.example.com/token";
	e.now = 1562262616;
	e.iat_past = DPOP_IAT_PAST;
	e.iat_future = DPOP_IAT_FUTURE;
	e.access_token = token;
	e.access_token_len = token != NULL ? strlen(token) : 0;
	if (dpop_verify(&p, (const char *)data, size, &e, &why) != PDS_OK) {
		if (why == NULL)
			abort();
		return;
	}
	if (strlen(p.jkt) != JWK_THUMB_LEN || p.jti[0] == '\0' ||
	    strlen(p.jti) > DPOP_JTI_MAX || strlen(p.nonce) > DPOP_NONCE_MAX ||
	    (!p.has_nonce && p.nonce[0] != '\0'))
		abort();
}

static void
fz_jwk(const uint8_t *data, size_t size)
{
	struct pds_key	*k = NULL, *k2 = NULL;
	json_t		*j, *out = NULL;
	char		 a[JWK_THUMB_SIZE], b[JWK_THUMB_SIZE];
	const char	*why = NULL;

	if ((j = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return;
	if (jwk_parse_public(&k, a, j, &why) == PDS_OK) {
		if (k == NULL || key_has_private(k) ||
		    jwk_thumbprint(k, b) != PDS_OK || strcmp(a, b) != 0 ||
		    jwk_export_public(&out, k) != PDS_OK ||
		    jwk_parse_public(&k2, b, out, &why) != PDS_OK ||
		    !key_equal(k, k2) || strcmp(a, b) != 0)
			abort();
	} else if (k != NULL || why == NULL)
		abort();
	key_free(k);
	key_free(k2);
	json_decref(out);
	json_decref(j);
}

static void
fz_htu(const uint8_t *data, size_t size)
{
	char	 a[DPOP_HTU_MAX], b[DPOP_HTU_MAX];
	long	 na, nb;

	if ((na = dpop_htu_normalize(a, sizeof(a), (const char *)data,
	    size)) < 0)
		return;
	if ((size_t)na != strlen(a))
		abort();
	nb = dpop_htu_normalize(b, sizeof(b), a, (size_t)na);
	if (nb != na || memcmp(a, b, (size_t)na) != 0)
		abort();
}

/* Sign "b64url(HEADER).b64url(CLAIMS)" with the fixed key and verify it. */
static void
fz_signed(const uint8_t *data, size_t size)
{
	static struct pds_key	*key;
	static char		 tok[2 * B64_ENC_LEN(FZ_PART_MAX) +
				    B64_ENC_LEN(KEY_SIG_LEN) + 8];
	const uint8_t		*nl;
	uint8_t			 sig[KEY_SIG_LEN];
	size_t			 hlen, plen, o;
	long			 n;

	if ((nl = memchr(data, '\n', size)) == NULL)
		return;
	hlen = (size_t)(nl - data);
	plen = size - hlen - 1;
	if (hlen == 0 || plen == 0 || hlen > FZ_PART_MAX ||
	    plen > FZ_PART_MAX)
		return;
	if (key == NULL && key_from_private(&key, KEY_P256, fz_priv) !=
	    PDS_OK)
		abort();
	if ((n = b64url_encode(tok, sizeof(tok), data, hlen)) < 0)
		abort();
	o = (size_t)n;
	tok[o++] = '.';
	if ((n = b64url_encode(tok + o, sizeof(tok) - o, nl + 1, plen)) < 0)
		abort();
	o += (size_t)n;
	if (key_sign(key, tok, o, sig) != PDS_OK)
		abort();
	tok[o++] = '.';
	if ((n = b64url_encode(tok + o, sizeof(tok) - o, sig, sizeof(sig))) <
	    0)
		abort();
	o += (size_t)n;
	fz_proof((const uint8_t *)tok, o, NULL);
	fz_proof((const uint8_t *)tok, o, "fuzz-access-token");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_signed(data, size);
	fz_proof(data, size, NULL);
	fz_proof(data, size, "fuzz-access-token");
	fz_jwk(data, size);
	fz_htu(data, size);
	(void)dpop_nonce_check(fz_secret, (const char *)data, size,
	    1562262616);
	return 0;
}
