/*
 * refpds: the formats of the reference PDS's (@atproto/pds) data
 * directory that pdsd reads when it takes one over (pdsctl
 * import-reference, and logins with passwords hashed by the reference).
 * Pure parsers of bytes from files: no I/O, no SQLite.
 *
 * Password hashes.  The reference stores "<salt>:<hash>": the salt is
 * 32 lower-case hex digits used as they are (their 32 ASCII bytes are
 * scrypt's salt), the hash 128 hex digits, scrypt's 64-byte output with
 * N = 16384, r = 8, p = 1 (Node's crypto.scrypt defaults).  An app
 * password has the same form, with the salt the first 16 bytes of
 * SHA-256(did) in hex, so that it can be found by its hash.
 *
 * Sequencer events.  A row of the reference's repo_seq holds the event
 * body as DAG-CBOR without "seq" and "time" (added when it is sent);
 * its eventType is "append" for a #commit.  pdsd stores the whole
 * body, so refpds_event_convert() adds both.
 */
#ifndef PDS_REFPDS_H
#define PDS_REFPDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define REFPDS_SALT_HEX		32	/* hex digits of a salt */
#define REFPDS_HASH_LEN		64	/* bytes of scrypt output */
#define REFPDS_HASH_STR		(REFPDS_SALT_HEX + 1 + 2 * REFPDS_HASH_LEN)
/* scrypt's parameters (Node's defaults) */
#define REFPDS_SCRYPT_N		16384
#define REFPDS_SCRYPT_R		8
#define REFPDS_SCRYPT_P		1

struct refpds_hash {
	char	salt[REFPDS_SALT_HEX + 1];	/* the salt as text */
	uint8_t	hash[REFPDS_HASH_LEN];
};

/*
 * Parse a "<salt>:<hash>" string of exactly len bytes: PDS_OK, or
 * PDS_EINVAL when it is not one (an Argon2id string, garbage).
 */
int	refpds_hash_parse(const char *s, size_t len, struct refpds_hash *out);

/* Whether the NUL-terminated s has the reference's hash form. */
bool	refpds_hash_is(const char *s);

/*
 * The reference's app-password salt for did: hex of the first 16 bytes
 * of SHA-256(did), NUL-terminated.
 */
void	refpds_app_salt(const char *did, char out[REFPDS_SALT_HEX + 1]);

/* "<salt>:<hex of hash>" into out (REFPDS_HASH_STR + 1 bytes). */
void	refpds_hash_format(const struct refpds_hash *,
	    char out[REFPDS_HASH_STR + 1]);

/*
 * pdsd's event type for a reference eventType ("append" is "commit";
 * "sync", "identity", "account" are themselves), or NULL for the
 * retired types (handle, migrate, tombstone, rebase) pdsd does not send.
 */
const char *refpds_event_type(const char *ref_type);

/*
 * A reference event body (len bytes of DAG-CBOR, a map without "seq"
 * and "time") with seq and time added, canonical, appended to out.
 * PDS_EINVAL with *why when the body is not such a map.
 */
int	refpds_event_convert(const uint8_t *body, size_t len, int64_t seq,
	    const char *time, struct buf *out, const char **why);

/*
 * Check a stored preference: valueJson must be a JSON object whose
 * "$type" is name.  PDS_OK or PDS_EINVAL with *why.
 */
int	refpds_pref_check(const char *name, const char *value_json,
	    size_t len, const char **why);

#endif
