/*
 * store_keys: signing keys reserved before their account exists
 * (com.atproto.server.reserveSigningKey), in the reserved_keys table.
 *
 * A key is found by the DID it was reserved for, or by its own did:key.
 * The method needs no authentication, so nothing may pile up: the
 * table holds at most STORE_KEYS_MAX reservations (another is refused
 * with PDS_EBUSY until some expire or are used), and the reservations
 * older than STORE_KEYS_TTL_DAYS are dropped by store_keys_prune(),
 * which a periodic job calls (migration.c), not the request.  A
 * reservation costs one insert into an index of created_at: O(log n).
 *
 * Refusing rather than evicting the oldest: a reservation may be half
 * of a migration whose PLC operation already names the key; evicting it
 * would break that migration silently, a refusal is visible and brief.
 */
#ifndef PDSD_STORE_KEYS_H
#define PDSD_STORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define STORE_KEYS_TTL_DAYS	7
#define STORE_KEYS_MAX		10000	/* reservations at once */
#define STORE_KEYS_PRUNE_MS	(10 * 60 * 1000)	/* the job's period */

/*
 * The private key (32 bytes) reserved for `id', a DID or a did:key.
 * PDS_ENOTFOUND when there is none.
 */
int	store_keys_get(const char *id, uint8_t priv[32]);

/*
 * Reserve priv under key_did, and for did when not NULL.  PDS_EBUSY
 * when the table holds the maximum already.
 */
int	store_keys_put(const char *key_did, const char *did,
	    const uint8_t priv[32], const char *now);

/* Drop the reservations of key_did and of did (NULL: none); in a tx. */
int	store_keys_clear(const char *key_did, const char *did);

/*
 * Drop the reservations older than STORE_KEYS_TTL_DAYS as of now, and
 * count the table again; *n (may be NULL) gets how many went.
 */
int	store_keys_prune(const char *now, int *n);

/*
 * The most reservations kept at once (tests); 0 restores the default.
 * The rows are counted again at the next reservation.
 */
void	store_keys_set_max(size_t max);

#endif
