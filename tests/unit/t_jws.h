/*
 * t_jws.h: signing compact JWS for the OAuth tests (client assertions,
 * DPoP proofs), with whatever header the test wants.
 */
#ifndef PDS_T_JWS_H
#define PDS_T_JWS_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "keys.h"

static inline void
t_b64url(struct buf *b, const void *p, size_t n)
{
	char	 out[4096];

	sodium_bin2base64(out, sizeof(out), p, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	buf_puts(b, out);
}

/*
 * Replace b's contents with header.claims.signature signed by k (ES256
 * or ES256K by its curve), NUL-terminated; hdr and claims are stolen.
 * With high_s, the signature's s is replaced by n - s, the other valid
 * form that a JOSE signer may give.
 */
static inline const char *
t_jws_s(struct buf *b, const struct pds_key *k, json_t *hdr, json_t *claims,
    int high_s)
{
	const uint8_t	*n = key_curve_order(key_type(k));
	uint8_t		 sig[KEY_SIG_LEN];
	unsigned int	 d, borrow = 0;
	char		*hs, *ps;
	int		 i;

	buf_reset(b);
	hs = json_dumps(hdr, JSON_COMPACT);
	ps = json_dumps(claims, JSON_COMPACT);
	t_b64url(b, hs, strlen(hs));
	buf_putc(b, '.');
	t_b64url(b, ps, strlen(ps));
	key_sign(k, b->p, b->len, sig);
	for (i = 31; high_s && i >= 0; i--) {
		d = (unsigned int)n[i] - sig[32 + i] - borrow;
		sig[32 + i] = (uint8_t)d;
		borrow = (d >> 8) & 1;
	}
	buf_putc(b, '.');
	t_b64url(b, sig, sizeof(sig));
	buf_putc(b, '\0');
	free(hs);
	free(ps);
	json_decref(hdr);
	json_decref(claims);
	return (const char *)b->p;
}

static inline const char *
t_jws(struct buf *b, const struct pds_key *k, json_t *hdr, json_t *claims)
{
	return t_jws_s(b, k, hdr, claims, 0);
}

#endif
