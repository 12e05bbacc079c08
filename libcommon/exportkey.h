/*
 * exportkey: the signing key file of an export made with
 * --include-secrets (pdsctl export, import), so that a move between the
 * coop's own servers keeps each repository's signed head as it is.
 *
 *   { "did": "did:plc:...", "type": "secp256k1",
 *     "privateKeyHex": "<64 hex>", "publicKey": "did:key:zQ3s..." }
 *
 * The public key is written beside the private one so that a damaged
 * file is told from a key of another account: the private key must
 * give exactly that did:key.
 *
 * The input is untrusted (tests/fuzz/fuzz_manifest.c).
 */
#ifndef PDS_EXPORTKEY_H
#define PDS_EXPORTKEY_H

#include <stddef.h>

#include "keys.h"

#define EXPORTKEY_FILE		"signing-key.json"
#define EXPORTKEY_MAX_BYTES	4096

/*
 * The file's text for did's key pair into *out (free it after wiping
 * it with sodium_memzero); PDS_EINVAL for a public-only key.
 */
int	exportkey_format(const char *did, const struct pds_key *key,
	    char **out, size_t *len);

/*
 * Parse the file: on PDS_OK *key is the key pair (key_free() it) and
 * didkey[KEY_DIDKEY_MAX] its did:key.  did, when not NULL, must be the
 * file's.  Any fault is PDS_EINVAL (PDS_ETOOBIG past
 * EXPORTKEY_MAX_BYTES) with a reason in err.
 */
int	exportkey_parse(const char *buf, size_t len, const char *did,
	    struct pds_key **key, char didkey[KEY_DIDKEY_MAX], char *err,
	    size_t errlen);

#endif
