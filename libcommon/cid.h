/*
 * cid: content identifiers (CIDv1) as atproto uses them.
 *
 * A struct cid holds the binary form.  Blessed atproto CIDs are 36 bytes:
 * 0x01, codec (0x71 dag-cbor or 0x55 raw), 0x12 0x20 (sha2-256, 32 bytes),
 * digest.  Records may carry other well-formed CIDv1 links, which are kept
 * byte for byte (up to CID_MAX_LEN); cid_is_blessed() tells them apart.
 * The text form is multibase base32 ('b' prefix), 59 characters for a
 * blessed CID.  CIDv0 ("Qm...") is refused.
 */
#ifndef PDS_CID_H
#define PDS_CID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CID_MAX_LEN	72
#define CID_STR_MAX	(1 + B32_ENC_LEN_CID + 1)
#define B32_ENC_LEN_CID	((CID_MAX_LEN * 8 + 4) / 5)
#define CID_CODEC_DAGCBOR 0x71
#define CID_CODEC_RAW	0x55
#define MH_SHA2_256	0x12

struct cid {
	uint8_t	len;
	uint8_t	b[CID_MAX_LEN];
};

/* SHA-256 (libsodium). */
void	sha256(uint8_t out[32], const void *data, size_t len);

/* The CIDv1 of `data` with codec CID_CODEC_DAGCBOR or CID_CODEC_RAW. */
void	cid_compute(struct cid *, uint8_t codec, const void *data, size_t len);
/* Build a CID from a codec and a sha2-256 digest. */
void	cid_from_digest(struct cid *, uint8_t codec, const uint8_t digest[32]);

/*
 * Parse a binary CIDv1 at the start of `in`; returns bytes consumed or a
 * negative PDS_E* code (with *why).  Used by CAR and tag-42 decoding.
 */
int	cid_read(struct cid *, const uint8_t *in, size_t len, const char **why);
/* Parse the whole of `in` as a binary CID. */
int	cid_from_bytes(struct cid *, const uint8_t *in, size_t len,
	    const char **why);
/* Parse the text form ("bafy..."); the whole string must be one CID. */
int	cid_parse(struct cid *, const char *s, size_t len, const char **why);
/* Write the text form; returns its length or PDS_ETOOBIG. */
long	cid_format(const struct cid *, char *out, size_t cap);

bool	cid_equal(const struct cid *, const struct cid *);
int	cid_cmp(const struct cid *, const struct cid *);
uint8_t	cid_codec(const struct cid *);
/* A 36-byte sha2-256 CID of codec dag-cbor or raw. */
bool	cid_is_blessed(const struct cid *);
/* Check that `data` hashes to this CID (sha2-256 only). */
bool	cid_matches(const struct cid *, const void *data, size_t len);

#endif
