/*
 * keys: the two signature curves atproto uses, did:key and Multikey
 * (atproto-notes §6).
 *
 * A struct pds_key is opaque.  It holds a secp256k1 ("k256", JWT alg
 * ES256K) or NIST P-256 ("p256", ES256) key, either a key pair or a
 * public key only.  What key_generate() and the key_from_*() functions
 * return the caller frees with key_free(), which wipes the secret bytes.
 * A key is immutable once made, so one key may be used from several
 * threads at once.
 *
 * Signatures are always the 64-byte compact form r||s with low S
 * (s <= n/2).  Signing hashes the message with SHA-256 and uses RFC 6979
 * deterministic nonces, so a given key and message always give the same
 * bytes.  Verification is strict: anything that is not exactly 64 bytes
 * (a DER signature, say) and any high-S signature is refused.
 *
 * Multikey text is "z" + base58btc(varint multicodec || compressed key),
 * multicodec 0xe7 (k256, "zQ3s...") or 0x1200 (p256, "zDna...");
 * did:key is "did:key:" + Multikey.
 */
#ifndef PDS_KEYS_H
#define PDS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum key_type {
	KEY_K256 = 1,	/* secp256k1 */
	KEY_P256 = 2,	/* NIST P-256 (secp256r1, prime256v1) */
};

#define KEY_PRIV_LEN	32
#define KEY_PUB_LEN	33	/* compressed point: 02/03 || X */
#define KEY_PUB_FULL_LEN 65	/* uncompressed point: 04 || X || Y */
#define KEY_SIG_LEN	64	/* r || s */
#define KEY_HEX_LEN	(2 * KEY_PRIV_LEN + 1)
/* Text sizes including the NUL: "z" + base58 of 2 + 33 bytes is <= 49. */
#define KEY_MULTIKEY_MAX 64
#define KEY_DIDKEY_MAX	(8 + KEY_MULTIKEY_MAX)

struct pds_key;

/*
 * Set up the libraries once (libsodium, a randomized libsecp256k1
 * context, the P-256 group).  Every function below calls it itself; it
 * is exported so that a daemon can fail early.  Returns PDS_OK or
 * PDS_ECRYPTO.
 */
int	 key_init(void);

/* A fresh random key pair. */
int	 key_generate(struct pds_key **out, enum key_type);
/* A key pair from 32 big-endian private-key bytes (0 < d < n). */
int	 key_from_private(struct pds_key **out, enum key_type,
	    const uint8_t priv[KEY_PRIV_LEN]);
/* The same from 64 hex digits (either case); nothing else is accepted. */
int	 key_from_private_hex(struct pds_key **out, enum key_type,
	    const char *hex, size_t len);
/*
 * A public key from a 33-byte compressed or 65-byte uncompressed (04...)
 * point; the point must be on the curve.
 */
int	 key_from_public(struct pds_key **out, enum key_type,
	    const uint8_t *pub, size_t len);
/* Wipes and frees; NULL-safe. */
void	 key_free(struct pds_key *);

enum key_type key_type(const struct pds_key *);
bool	 key_has_private(const struct pds_key *);
/* "ES256K" or "ES256". */
const char *key_jwt_alg(const struct pds_key *);
/* Same curve and same public point. */
bool	 key_equal(const struct pds_key *, const struct pds_key *);
/* The order n of the curve of type t: 32 bytes, big-endian. */
const uint8_t *key_curve_order(enum key_type t);
/*
 * Make a compact signature (r || s) low-S in place: key_verify() accepts
 * only low-S signatures (the atproto rule), a JOSE signer may give either.
 */
void	 key_sig_low_s(uint8_t sig[KEY_SIG_LEN], enum key_type t);

/* The private key bytes; PDS_EINVAL for a public-only key.  Wipe after use. */
int	 key_export_private(const struct pds_key *, uint8_t out[KEY_PRIV_LEN]);
/* The same as 64 lower-case hex digits and a NUL. */
int	 key_export_private_hex(const struct pds_key *, char out[KEY_HEX_LEN]);
/* The compressed public key. */
void	 key_public(const struct pds_key *, uint8_t out[KEY_PUB_LEN]);

/* Sign SHA-256(msg).  PDS_EINVAL for a public-only key. */
int	 key_sign(const struct pds_key *, const void *msg, size_t len,
	    uint8_t sig[KEY_SIG_LEN]);
/* Sign a precomputed 32-byte digest. */
int	 key_sign_digest(const struct pds_key *, const uint8_t digest[32],
	    uint8_t sig[KEY_SIG_LEN]);
/*
 * Verify a signature over SHA-256(msg): PDS_OK, or PDS_ECRYPTO for any
 * bad, high-S or wrong-length signature.
 */
int	 key_verify(const struct pds_key *, const void *msg, size_t len,
	    const uint8_t *sig, size_t siglen);
int	 key_verify_digest(const struct pds_key *, const uint8_t digest[32],
	    const uint8_t *sig, size_t siglen);

/* Write the Multikey / did:key text; returns its length or PDS_ETOOBIG. */
long	 key_to_multikey(const struct pds_key *, char *out, size_t cap);
long	 key_to_didkey(const struct pds_key *, char *out, size_t cap);

/*
 * Parse a Multikey ("zQ3s...") or a did:key ("did:key:zQ3s...") into a
 * public key.  Unknown multicodecs are PDS_EUNSUPP; other faults are
 * PDS_EINVAL (with *why).  The key may be compressed or uncompressed.
 */
int	 key_from_multikey(struct pds_key **out, const char *s, size_t len,
	    const char **why);
int	 key_from_didkey(struct pds_key **out, const char *s, size_t len,
	    const char **why);

/*
 * Parse a DID document verification method's publicKeyMultibase by its
 * `type`: "EcdsaSecp256k1VerificationKey2019" and
 * "EcdsaSecp256r1VerificationKey2019" carry "z" + base58btc of the raw
 * compressed or uncompressed point, without a multicodec prefix;
 * "Multikey" is handed to key_from_multikey().  Other types are
 * PDS_EUNSUPP.
 */
int	 key_from_legacy_multibase(struct pds_key **out, const char *type,
	    const char *s, size_t len, const char **why);

#endif
