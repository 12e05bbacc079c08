/*
 * store_keys: signing keys reserved before their account exists
 * (com.atproto.server.reserveSigningKey), in the reserved_keys table.
 *
 * A key is found by the DID it was reserved for, or by its own did:key.
 * Reservations older than STORE_KEYS_TTL_DAYS are dropped when a new one
 * is made: the method needs no authentication, so nothing may pile up.
 */
#ifndef PDSD_STORE_KEYS_H
#define PDSD_STORE_KEYS_H

#include <stdint.h>

#define STORE_KEYS_TTL_DAYS	7

/*
 * The private key (32 bytes) reserved for `id', a DID or a did:key.
 * PDS_ENOTFOUND when there is none.
 */
int	store_keys_get(const char *id, uint8_t priv[32]);

/* Reserve priv under key_did, and for did when not NULL. */
int	store_keys_put(const char *key_did, const char *did,
	    const uint8_t priv[32], const char *now);

/* Drop the reservations of key_did and of did (NULL: none); in a tx. */
int	store_keys_clear(const char *key_did, const char *did);

#endif
