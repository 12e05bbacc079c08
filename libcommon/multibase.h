/*
 * multibase: the text encodings atproto uses for binary values,
 * unsigned LEB128 varints, and the hex pair of a percent escape.
 *
 * base32 is RFC 4648 lower case without padding (CIDs, did:plc); base58btc
 * is Bitcoin's alphabet with leading zero bytes as '1' (did:key,
 * Multikey); base64 comes in the standard alphabet ($bytes in JSON,
 * padding optional on input, never written) and the URL-safe alphabet
 * (JWTs, PLC signatures; never padded, and a '=' is refused on input).
 * Every decoder refuses characters outside its alphabet and non-zero
 * padding bits, so each value has exactly one text form.
 *
 * Encoders write into a caller's buffer and NUL-terminate; they return the
 * text length or PDS_ETOOBIG if `cap` is too small.  Decoders return the
 * byte count or a negative PDS_E* code.
 */
#ifndef PDS_MULTIBASE_H
#define PDS_MULTIBASE_H

#include <stddef.h>
#include <stdint.h>

#define B32_ENC_LEN(n)	(((n) * 8 + 4) / 5)
#define B64_ENC_LEN(n)	(((n) + 2) / 3 * 4)

long	b32_encode(char *out, size_t cap, const uint8_t *in, size_t len);
long	b32_decode(uint8_t *out, size_t cap, const char *in, size_t len);
long	b58_encode(char *out, size_t cap, const uint8_t *in, size_t len);
long	b58_decode(uint8_t *out, size_t cap, const char *in, size_t len);
long	b64_encode(char *out, size_t cap, const uint8_t *in, size_t len);
long	b64_decode(uint8_t *out, size_t cap, const char *in, size_t len);
long	b64url_encode(char *out, size_t cap, const uint8_t *in, size_t len);
long	b64url_decode(uint8_t *out, size_t cap, const char *in, size_t len);

/* Unsigned varints (at most 9 bytes, values < 2^63, shortest form only). */
#define VARINT_MAX 9
size_t	varint_encode(uint8_t out[VARINT_MAX], uint64_t v);
/* Returns bytes read (> 0), or PDS_ETRUNC / PDS_ENONCANON / PDS_ETOOBIG. */
int	varint_decode(const uint8_t *in, size_t len, uint64_t *v);

/* The byte two hex digits (either case) at p stand for, or -1. */
int	hex_pair(const char *p);

#endif
