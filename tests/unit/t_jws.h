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
 */
static inline const char *
t_jws(struct buf *b, const struct pds_key *k, json_t *hdr, json_t *claims)
{
	uint8_t	 sig[KEY_SIG_LEN];
	char	*hs, *ps;

	buf_reset(b);
	hs = json_dumps(hdr, JSON_COMPACT);
	ps = json_dumps(claims, JSON_COMPACT);
	t_b64url(b, hs, strlen(hs));
	buf_putc(b, '.');
	t_b64url(b, ps, strlen(ps));
	key_sign(k, b->p, b->len, sig);
	buf_putc(b, '.');
	t_b64url(b, sig, sizeof(sig));
	buf_putc(b, '\0');
	free(hs);
	free(ps);
	json_decref(hdr);
	json_decref(claims);
	return (const char *)b->p;
}

#endif
