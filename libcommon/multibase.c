#include <string.h>

#include "err.h"
#include "multibase.h"

static const char b32_alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b58_alpha[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

long
b32_encode(char *out, size_t cap, const uint8_t *in, size_t len)
{
	size_t		 n = B32_ENC_LEN(len), o = 0, i;
	unsigned	 acc = 0, bits = 0;

	if (cap < n + 1)
		return PDS_ETOOBIG;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32_alpha[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32_alpha[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return (long)o;
}

/* The value of symbol c in alpha, or -1. */
static int
sym_val(const char *alpha, char c)
{
	const char	*p;

	if (alpha == b32_alpha) {	/* CIDs: every block of a repo */
		if (c >= 'a' && c <= 'z')
			return c - 'a';
		if (c >= '2' && c <= '7')
			return c - '2' + 26;
		return -1;
	}
	if (c == '\0' || (p = strchr(alpha, c)) == NULL)
		return -1;
	return (int)(p - alpha);
}

/*
 * Pack len symbols of `width' bits each (their values in alpha) into
 * whole bytes; the bits left over at the end must be zero.
 */
static long
unpack_bits(const char *alpha, unsigned width, uint8_t *out, size_t cap,
    const char *in, size_t len)
{
	size_t		 o = 0, i;
	uint32_t	 acc = 0;
	unsigned	 bits = 0;
	int		 v;

	for (i = 0; i < len; i++) {
		if ((v = sym_val(alpha, in[i])) < 0)
			return PDS_EINVAL;
		acc = (acc << width) | (uint32_t)v;
		bits += width;
		if (bits >= 8) {
			if (o >= cap)
				return PDS_ETOOBIG;
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
		acc &= 0xff;
	}
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return PDS_ENONCANON;
	return (long)o;
}

long
b32_decode(uint8_t *out, size_t cap, const char *in, size_t len)
{
	/* Lengths 1, 3 and 6 mod 8 cannot come from whole bytes. */
	if (len % 8 == 1 || len % 8 == 3 || len % 8 == 6)
		return PDS_EINVAL;
	return unpack_bits(b32_alpha, 5, out, cap, in, len);
}

long
b58_encode(char *out, size_t cap, const uint8_t *in, size_t len)
{
	uint8_t	 tmp[256];
	size_t	 zeros = 0, size, i, j, high, o;
	unsigned carry;

	while (zeros < len && in[zeros] == 0)
		zeros++;
	size = (len - zeros) * 138 / 100 + 1;
	if (size > sizeof(tmp))
		return PDS_ETOOBIG;
	memset(tmp, 0, size);
	high = size - 1;
	for (i = zeros; i < len; i++) {
		carry = in[i];
		for (j = size - 1; j > high || carry != 0; j--) {
			carry += 256u * tmp[j];
			tmp[j] = (uint8_t)(carry % 58);
			carry /= 58;
			if (j == 0)
				break;
		}
		high = j;
	}
	for (j = 0; j < size && tmp[j] == 0; j++)
		;
	if (cap < zeros + (size - j) + 1)
		return PDS_ETOOBIG;
	for (o = 0; o < zeros; o++)
		out[o] = '1';
	for (; j < size; j++)
		out[o++] = b58_alpha[tmp[j]];
	out[o] = '\0';
	return (long)o;
}

long
b58_decode(uint8_t *out, size_t cap, const char *in, size_t len)
{
	uint8_t		 tmp[256];
	size_t		 zeros = 0, size, i, j, o;
	unsigned	 carry;
	int		 v;

	while (zeros < len && in[zeros] == '1')
		zeros++;
	size = (len - zeros) * 733 / 1000 + 1;
	if (size > sizeof(tmp))
		return PDS_ETOOBIG;
	memset(tmp, 0, size);
	for (i = zeros; i < len; i++) {
		if ((v = sym_val(b58_alpha, in[i])) < 0)
			return PDS_EINVAL;
		carry = (unsigned)v;
		for (j = size; j-- > 0;) {
			carry += 58u * tmp[j];
			tmp[j] = (uint8_t)(carry & 0xff);
			carry >>= 8;
		}
		if (carry != 0)
			return PDS_EINTERNAL;
	}
	for (j = 0; j < size && tmp[j] == 0; j++)
		;
	if (cap < zeros + (size - j))
		return PDS_ETOOBIG;
	memset(out, 0, zeros);
	o = zeros;
	for (; j < size; j++)
		out[o++] = tmp[j];
	return (long)o;
}

static long
b64_enc(const char *alpha, char *out, size_t cap, const uint8_t *in,
    size_t len)
{
	size_t		 i, o = 0;
	uint32_t	 v;

	if (cap < B64_ENC_LEN(len) + 1)
		return PDS_ETOOBIG;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		out[o++] = alpha[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
	}
	out[o] = '\0';
	return (long)o;
}

static long
b64_dec(const char *alpha, int pad_ok, uint8_t *out, size_t cap,
    const char *in, size_t len)
{
	size_t		 pad = 0;

	if (pad_ok) {
		while (len > 0 && in[len - 1] == '=' && pad < 2) {
			len--;
			pad++;
		}
		if (pad > 0 && (len + pad) % 4 != 0)
			return PDS_EINVAL;
	}
	if (len % 4 == 1)
		return PDS_EINVAL;
	return unpack_bits(alpha, 6, out, cap, in, len);
}

long
b64_encode(char *out, size_t cap, const uint8_t *in, size_t len)
{
	return b64_enc(b64_std, out, cap, in, len);
}

long
b64_decode(uint8_t *out, size_t cap, const char *in, size_t len)
{
	return b64_dec(b64_std, 1, out, cap, in, len);
}

long
b64url_encode(char *out, size_t cap, const uint8_t *in, size_t len)
{
	return b64_enc(b64_url, out, cap, in, len);
}

long
b64url_decode(uint8_t *out, size_t cap, const char *in, size_t len)
{
	return b64_dec(b64_url, 0, out, cap, in, len);
}

size_t
varint_encode(uint8_t out[VARINT_MAX], uint64_t v)
{
	size_t	 n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

int
varint_decode(const uint8_t *in, size_t len, uint64_t *v)
{
	uint64_t	 r = 0;
	size_t		 i;

	for (i = 0; i < VARINT_MAX; i++) {
		if (i >= len)
			return PDS_ETRUNC;
		r |= (uint64_t)(in[i] & 0x7f) << (7 * i);
		if ((in[i] & 0x80) == 0) {
			if (i > 0 && in[i] == 0)
				return PDS_ENONCANON;
			*v = r;
			return (int)i + 1;
		}
	}
	return PDS_ETOOBIG;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_pair(const char *p)
{
	int	 h, l;

	if ((h = hexval((unsigned char)p[0])) < 0 ||
	    (l = hexval((unsigned char)p[1])) < 0)
		return -1;
	return h << 4 | l;
}
