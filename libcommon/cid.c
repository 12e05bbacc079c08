#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "cid.h"
#include "err.h"
#include "multibase.h"

/*
 * SHA-256 through OpenSSL, which uses the CPU's SHA extensions: 2x
 * libsodium's portable code on a 40-byte MST key, 4-5x on a 300-byte or
 * 1 KiB block.  The algorithm is fetched once (an implicit fetch on every
 * EVP_DigestInit_ex() would cost more than the hash of a short key) and
 * each thread keeps one digest context, freed when the thread exits.
 * libsodium is the fallback if OpenSSL fails.
 */
static __thread EVP_MD_CTX *sha_ctx;
static pthread_key_t	 sha_key;
static pthread_once_t	 sha_once = PTHREAD_ONCE_INIT;
static int		 sha_key_ok;
static const EVP_MD	*sha_md;

static void
sha_ctx_free(void *p)
{
	EVP_MD_CTX_free(p);
	sha_ctx = NULL;
}

static void
sha_key_init(void)
{
	sha_key_ok = pthread_key_create(&sha_key, sha_ctx_free) == 0;
	if ((sha_md = EVP_MD_fetch(NULL, "SHA2-256", NULL)) == NULL)
		sha_md = EVP_sha256();
}

void
sha256(uint8_t out[32], const void *data, size_t len)
{
	unsigned int	 n;

	if (sha_ctx == NULL) {
		pthread_once(&sha_once, sha_key_init);
		if (sha_key_ok && (sha_ctx = EVP_MD_CTX_new()) != NULL &&
		    pthread_setspecific(sha_key, sha_ctx) != 0) {
			EVP_MD_CTX_free(sha_ctx);
			sha_ctx = NULL;
		}
	}
	if (sha_ctx != NULL &&
	    EVP_DigestInit_ex(sha_ctx, sha_md, NULL) == 1 &&
	    EVP_DigestUpdate(sha_ctx, data, len) == 1 &&
	    EVP_DigestFinal_ex(sha_ctx, out, &n) == 1 && n == 32)
		return;
	crypto_hash_sha256(out, data, len);
}

void
cid_from_digest(struct cid *c, uint8_t codec, const uint8_t digest[32])
{
	c->len = 36;
	c->b[0] = 0x01;
	c->b[1] = codec;
	c->b[2] = MH_SHA2_256;
	c->b[3] = 32;
	memcpy(c->b + 4, digest, 32);
}

void
cid_compute(struct cid *c, uint8_t codec, const void *data, size_t len)
{
	uint8_t	 d[32];

	sha256(d, data, len);
	cid_from_digest(c, codec, d);
}

int
cid_read(struct cid *c, const uint8_t *in, size_t len, const char **why)
{
	uint64_t	 ver, codec, mh, dlen;
	size_t		 off = 0;
	int		 n;

	if (len >= 2 && in[0] == 0x12 && in[1] == 0x20)
		return pds_fail(why, PDS_EUNSUPP, "CIDv0 is not supported");
	if ((n = varint_decode(in, len, &ver)) < 0)
		return pds_fail(why, n, "bad CID version varint");
	off += (size_t)n;
	if (ver != 1)
		return pds_fail(why, PDS_EUNSUPP, "CID version is not 1");
	if ((n = varint_decode(in + off, len - off, &codec)) < 0)
		return pds_fail(why, n, "bad CID codec varint");
	off += (size_t)n;
	if ((n = varint_decode(in + off, len - off, &mh)) < 0)
		return pds_fail(why, n, "bad multihash code varint");
	off += (size_t)n;
	if ((n = varint_decode(in + off, len - off, &dlen)) < 0)
		return pds_fail(why, n, "bad multihash length varint");
	off += (size_t)n;
	if (mh == MH_SHA2_256 && dlen != 32)
		return pds_fail(why, PDS_EINVAL, "sha2-256 digest is not 32 bytes");
	if (dlen > len - off)
		return pds_fail(why, PDS_ETRUNC, "CID digest truncated");
	if (off + dlen > CID_MAX_LEN)
		return pds_fail(why, PDS_ETOOBIG, "CID too long");
	c->len = (uint8_t)(off + dlen);
	memcpy(c->b, in, c->len);
	return c->len;
}

int
cid_from_bytes(struct cid *c, const uint8_t *in, size_t len, const char **why)
{
	int	 n;

	if ((n = cid_read(c, in, len, why)) < 0)
		return n;
	if ((size_t)n != len)
		return pds_fail(why, PDS_EINVAL, "trailing bytes after CID");
	return PDS_OK;
}

int
cid_parse(struct cid *c, const char *s, size_t len, const char **why)
{
	uint8_t	 raw[CID_MAX_LEN];
	long	 n;

	if (len < 2)
		return pds_fail(why, PDS_EINVAL, "CID string too short");
	if (s[0] != 'b')
		return pds_fail(why, PDS_EUNSUPP,
		    "CID string is not multibase base32 ('b')");
	if ((n = b32_decode(raw, sizeof(raw), s + 1, len - 1)) < 0)
		return pds_fail(why, (int)n, "CID string is not valid base32");
	return cid_from_bytes(c, raw, (size_t)n, why);
}

long
cid_format(const struct cid *c, char *out, size_t cap)
{
	long	 n;

	if (cap < 2)
		return PDS_ETOOBIG;
	out[0] = 'b';
	if ((n = b32_encode(out + 1, cap - 1, c->b, c->len)) < 0)
		return n;
	return n + 1;
}

bool
cid_equal(const struct cid *a, const struct cid *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

int
cid_cmp(const struct cid *a, const struct cid *b)
{
	size_t	 n = a->len < b->len ? a->len : b->len;
	int	 r = memcmp(a->b, b->b, n);

	if (r != 0)
		return r;
	return (int)a->len - (int)b->len;
}

uint8_t
cid_codec(const struct cid *c)
{
	return c->len >= 2 ? c->b[1] : 0;
}

bool
cid_is_blessed(const struct cid *c)
{
	return c->len == 36 && c->b[0] == 0x01 &&
	    (c->b[1] == CID_CODEC_DAGCBOR || c->b[1] == CID_CODEC_RAW) &&
	    c->b[2] == MH_SHA2_256 && c->b[3] == 32;
}

bool
cid_matches(const struct cid *c, const void *data, size_t len)
{
	uint8_t	 d[32];

	if (c->len != 36 || c->b[2] != MH_SHA2_256 || c->b[3] != 32)
		return false;
	sha256(d, data, len);
	return sodium_memcmp(d, c->b + 4, 32) == 0;
}
