#include <stdint.h>
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

/* 1 + the value of each base32 symbol; 0: not one. */
#define B32V(c, v)	[(unsigned char)(c)] = (v) + 1
static const uint8_t b32_val[256] = {
	B32V('a', 0), B32V('b', 1), B32V('c', 2), B32V('d', 3),
	B32V('e', 4), B32V('f', 5), B32V('g', 6), B32V('h', 7),
	B32V('i', 8), B32V('j', 9), B32V('k', 10), B32V('l', 11),
	B32V('m', 12), B32V('n', 13), B32V('o', 14), B32V('p', 15),
	B32V('q', 16), B32V('r', 17), B32V('s', 18), B32V('t', 19),
	B32V('u', 20), B32V('v', 21), B32V('w', 22), B32V('x', 23),
	B32V('y', 24), B32V('z', 25), B32V('2', 26), B32V('3', 27),
	B32V('4', 28), B32V('5', 29), B32V('6', 30), B32V('7', 31),
};

long
b32_decode(uint8_t *out, size_t cap, const char *in, size_t len)
{
	uint64_t	 acc;
	size_t		 o = 0, i = 0, j;
	unsigned	 v, bad;
	long		 n;

	/* Lengths 1, 3 and 6 mod 8 cannot come from whole bytes. */
	if (len % 8 == 1 || len % 8 == 3 || len % 8 == 6)
		return PDS_EINVAL;
	/*
	 * Eight symbols are five whole bytes (a CID of every block that
	 * getRepo sends); the rest, or a group with a bad symbol or that
	 * would not fit, goes the general way, which says what is wrong.
	 */
	for (; i + 8 <= len && o + 5 <= cap; i += 8, o += 5) {
		acc = 0;
		bad = 0;
		for (j = 0; j < 8; j++) {
			v = b32_val[(unsigned char)in[i + j]];
			bad |= v == 0;
			acc = (acc << 5) | ((v - 1) & 31);
		}
		if (bad)
			break;
		out[o] = (uint8_t)(acc >> 32);
		out[o + 1] = (uint8_t)(acc >> 24);
		out[o + 2] = (uint8_t)(acc >> 16);
		out[o + 3] = (uint8_t)(acc >> 8);
		out[o + 4] = (uint8_t)acc;
	}
	if ((n = unpack_bits(b32_alpha, 5, out + o, cap - o, in + i,
	    len - i)) < 0)
		return n;
	return (long)o + n;
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
