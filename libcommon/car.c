/*
 * car: a bounded streaming CAR v1 reader and a writer (atproto-notes §3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "car.h"
#include "cbor.h"
#include "err.h"
#include "multibase.h"

#define CAR_READAHEAD	((size_t)64 << 10)

/* ---- input ---------------------------------------------------------- */

static const uint8_t *
rd_ptr(const struct car_reader *r)
{
	return (r->mem != NULL ? r->mem : r->buf) + r->off;
}

/*
 * Make `want` bytes available at rd_ptr() if the input has them.
 * Returns the bytes available (less than want only at end of input) or
 * a negative PDS_E* code.  Moves the buffered bytes, so pointers into the
 * buffer taken before the call are stale after it.
 */
static long
rd_fill(struct car_reader *r, size_t want, const char **why)
{
	uint8_t	*nb;
	size_t	 ncap;
	long	 n;

	if (r->end - r->off >= want || r->mem != NULL || r->eof)
		return (long)(r->end - r->off);
	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->end - r->off);
		r->end -= r->off;
		r->off = 0;
	}
	if (r->cap < want) {
		ncap = want > CAR_READAHEAD ? want : CAR_READAHEAD;
		if ((nb = realloc(r->buf, ncap)) == NULL)
			return pds_fail(why, PDS_ENOMEM, "out of memory");
		r->buf = nb;
		r->cap = ncap;
	}
	while (r->end < want) {
		n = r->read(r->arg, r->buf + r->end, r->cap - r->end);
		if (n < 0)
			return pds_fail(why, (int)n, "read failed");
		if (n == 0) {
			r->eof = true;
			break;
		}
		if ((size_t)n > r->cap - r->end)
			return pds_fail(why, PDS_EINTERNAL,
			    "read callback overran its buffer");
		r->end += (size_t)n;
	}
	return (long)r->end;
}

static void
rd_skip(struct car_reader *r, size_t n)
{
	r->off += n;
	r->total += n;
}

/*
 * Read a varint.  Returns its size in bytes (consumed), 0 if the input
 * ended before its first byte, or a negative PDS_E* code.
 */
static int
rd_varint(struct car_reader *r, uint64_t *v, const char *what,
    const char **why)
{
	long	 avail;
	int	 n;

	if ((avail = rd_fill(r, VARINT_MAX, why)) < 0)
		return (int)avail;
	if (avail == 0)
		return 0;
	n = varint_decode(rd_ptr(r), (size_t)avail, v);
	if (n == PDS_ETRUNC)
		return pds_fail(why, n, what[0] == 'h' ?
		    "input ends inside the header length" :
		    "input ends inside a section length");
	if (n == PDS_ENONCANON)
		return pds_fail(why, n, "varint is not in its shortest form");
	if (n < 0)
		return pds_fail(why, n, "varint is too long");
	rd_skip(r, (size_t)n);
	return n;
}

/* ---- header --------------------------------------------------------- */

/* The header's version (it must be 1) and roots, into r. */
static int
header_read(void *arg, const struct dm_value *v, const char **why)
{
	struct car_reader	*r = arg;
	const struct dm_value	*ver, *roots;
	size_t			 i;

	if (v->type != DM_MAP)
		return pds_fail(why, PDS_EINVAL, "CAR header is not a map");
	ver = dm_map_get(v, "version");
	if (ver == NULL || ver->type != DM_INT)
		return pds_fail(why, PDS_EINVAL,
		    "CAR header has no integer version");
	if (ver->u.i != 1)
		return pds_fail(why, PDS_EUNSUPP, "CAR version is not 1");
	roots = dm_map_get(v, "roots");
	if (roots == NULL || roots->type != DM_ARRAY)
		return pds_fail(why, PDS_EINVAL,
		    "CAR header has no roots array");
	for (i = 0; i < roots->u.arr.n; i++)
		if (roots->u.arr.items[i]->type != DM_LINK)
			return pds_fail(why, PDS_EINVAL,
			    "CAR root is not a CID link");
	if (roots->u.arr.n > 0) {
		r->roots = calloc(roots->u.arr.n, sizeof(*r->roots));
		if (r->roots == NULL)
			return pds_fail(why, PDS_ENOMEM, "out of memory");
		for (i = 0; i < roots->u.arr.n; i++)
			r->roots[i] = roots->u.arr.items[i]->u.link;
	}
	r->nroots = roots->u.arr.n;
	return PDS_OK;
}

static int
parse_header(struct car_reader *r, const uint8_t *h, size_t len,
    const char **why)
{
	/* A decoded tree takes at most ~100 bytes per input byte. */
	return dm_decode_read(h, len, len * 128 + ((size_t)64 << 10),
	    header_read, r, why);
}

static int
open_common(struct car_reader *r, const struct car_opts *opts,
    const char **why)
{
	uint64_t	 hlen;
	long		 avail;
	int		 n, rc;

	if (opts != NULL)
		r->opts = *opts;
	if (r->opts.header_max == 0)
		r->opts.header_max = CAR_HEADER_MAX_DEFAULT;
	if (r->opts.block_max == 0)
		r->opts.block_max = CAR_BLOCK_MAX_DEFAULT;

	if ((n = rd_varint(r, &hlen, "header", why)) < 0) {
		rc = n;
		goto fail;
	}
	if (n == 0) {
		rc = pds_fail(why, PDS_ETRUNC, "empty input: no CAR header");
		goto fail;
	}
	if (hlen == 0) {
		rc = pds_fail(why, PDS_EINVAL, "CAR header length is zero");
		goto fail;
	}
	if (hlen > r->opts.header_max) {
		rc = pds_fail(why, PDS_ETOOBIG, "CAR header too large");
		goto fail;
	}
	if (r->opts.total_max != 0 && r->total + hlen > r->opts.total_max) {
		rc = pds_fail(why, PDS_ETOOBIG, "CAR exceeds the size limit");
		goto fail;
	}
	if ((avail = rd_fill(r, (size_t)hlen, why)) < 0) {
		rc = (int)avail;
		goto fail;
	}
	if ((uint64_t)avail < hlen) {
		rc = pds_fail(why, PDS_ETRUNC, "input ends inside the header");
		goto fail;
	}
	if ((rc = parse_header(r, rd_ptr(r), (size_t)hlen, why)) != PDS_OK)
		goto fail;
	rd_skip(r, (size_t)hlen);
	return PDS_OK;
fail:
	car_reader_close(r);
	return rc;
}

int
car_reader_open(struct car_reader *r, car_read_fn fn, void *arg,
    const struct car_opts *opts, const char **why)
{
	memset(r, 0, sizeof(*r));
	r->read = fn;
	r->arg = arg;
	return open_common(r, opts, why);
}

int
car_reader_open_mem(struct car_reader *r, const uint8_t *p, size_t len,
    const struct car_opts *opts, const char **why)
{
	static const uint8_t empty[1];

	memset(r, 0, sizeof(*r));
	r->mem = p != NULL ? p : empty;
	r->memlen = r->end = len;
	r->eof = true;
	return open_common(r, opts, why);
}

void
car_reader_close(struct car_reader *r)
{
	free(r->roots);
	free(r->buf);
	r->roots = NULL;
	r->nroots = 0;
	r->buf = NULL;
	r->cap = r->off = r->end = 0;
	r->mem = NULL;
	r->err = PDS_EINVAL;
	r->errwhy = "CAR reader is closed";
}

/* ---- blocks --------------------------------------------------------- */

/*
 * Check a block against its CID: sha2-256 digests must match; other hash
 * functions pass only with CAR_KEEP_UNVERIFIED.
 */
static int
verify_block(const struct car_reader *r, const struct cid *c,
    const uint8_t *data, size_t len, const char **why)
{
	uint64_t	 v;
	uint8_t		 d[32];
	size_t		 off = 0;
	int		 i, n;

	/* Skip version and codec to reach the multihash code. */
	for (i = 0; i < 2; i++) {
		if ((n = varint_decode(c->b + off, c->len - off, &v)) < 0)
			return pds_fail(why, PDS_EINVAL, "bad CID");
		off += (size_t)n;
	}
	if ((n = varint_decode(c->b + off, c->len - off, &v)) < 0)
		return pds_fail(why, PDS_EINVAL, "bad CID");
	if (v != MH_SHA2_256) {
		if (r->opts.flags & CAR_KEEP_UNVERIFIED)
			return PDS_OK;
		return pds_fail(why, PDS_EUNSUPP,
		    "block CID uses a hash function other than sha2-256");
	}
	/* cid_read() saw to it that a sha2-256 digest is 32 bytes, last. */
	if (c->len < 32)
		return pds_fail(why, PDS_EINVAL, "bad CID");
	sha256(d, data, len);
	if (sodium_memcmp(d, c->b + c->len - 32, 32) != 0)
		return pds_fail(why, PDS_EMISMATCH,
		    "block bytes do not match their CID");
	return PDS_OK;
}

static int
next_block(struct car_reader *r, struct cid *c, const uint8_t **data,
    size_t *len, const char **why)
{
	const uint8_t	*p;
	uint64_t	 slen;
	long		 avail;
	int		 n, rc;

	if ((n = rd_varint(r, &slen, "section", why)) <= 0)
		return n;
	if (slen == 0)
		return pds_fail(why, PDS_EINVAL, "zero-length CAR section");
	if (slen > r->opts.block_max + CID_MAX_LEN)
		return pds_fail(why, PDS_ETOOBIG, "CAR block too large");
	if (r->opts.total_max != 0 &&
	    (r->total > r->opts.total_max ||
	    slen > r->opts.total_max - r->total))
		return pds_fail(why, PDS_ETOOBIG, "CAR exceeds the size limit");
	if ((avail = rd_fill(r, (size_t)slen, why)) < 0)
		return (int)avail;
	if ((uint64_t)avail < slen)
		return pds_fail(why, PDS_ETRUNC, "input ends inside a block");
	p = rd_ptr(r);
	if ((n = cid_read(c, p, (size_t)slen, why)) < 0) {
		if (n == PDS_ETRUNC)
			return pds_fail(why, PDS_EINVAL,
			    "block CID runs past its section");
		return n;
	}
	if (slen - (size_t)n > r->opts.block_max)
		return pds_fail(why, PDS_ETOOBIG, "CAR block too large");
	if ((rc = verify_block(r, c, p + n, (size_t)slen - (size_t)n, why)) !=
	    PDS_OK)
		return rc;
	*data = p + n;
	*len = (size_t)slen - (size_t)n;
	rd_skip(r, (size_t)slen);
	return 1;
}

int
car_next(struct car_reader *r, struct cid *c, const uint8_t **data,
    size_t *len, const char **why)
{
	const char	*w = NULL;
	int		 rc;

	if (r->err != PDS_OK)
		return pds_fail(why, r->err, r->errwhy);
	if ((rc = next_block(r, c, data, len, &w)) < 0) {
		r->err = rc;
		r->errwhy = w != NULL ? w : pds_strerror(rc);
		return pds_fail(why, rc, r->errwhy);
	}
	return rc;
}

long
car_read_stdio(void *fp, uint8_t *buf, size_t len)
{
	size_t	 n;

	n = fread(buf, 1, len, fp);
	if (n == 0 && ferror((FILE *)fp))
		return PDS_EIO;
	return (long)n;
}

long
car_read_fd(void *fdp, uint8_t *buf, size_t len)
{
	ssize_t	 n;

	if (len > (size_t)1 << 30)
		len = (size_t)1 << 30;
	do {
		n = read(*(int *)fdp, buf, len);
	} while (n == -1 && errno == EINTR);
	return n < 0 ? PDS_EIO : (long)n;
}

/* ---- writer --------------------------------------------------------- */

/* H without its length prefix. */
static int
encode_header(struct buf *h, const struct cid *roots, size_t n)
{
	size_t	 i;
	int	 rc;

	if ((rc = cbor_put_map(h, 2)) != PDS_OK ||
	    (rc = cbor_put_text(h, "roots", 5)) != PDS_OK ||
	    (rc = cbor_put_array(h, n)) != PDS_OK)
		return rc;
	for (i = 0; i < n; i++)
		if ((rc = cbor_put_link(h, &roots[i])) != PDS_OK)
			return rc;
	if ((rc = cbor_put_text(h, "version", 7)) != PDS_OK ||
	    (rc = cbor_put_int(h, 1)) != PDS_OK)
		return rc;
	return PDS_OK;
}

static int
emit_header(car_write_fn fn, void *arg, struct buf *dst,
    const struct cid *roots, size_t n)
{
	struct buf	 h;
	uint8_t		 vb[VARINT_MAX];
	size_t		 vn;
	int		 rc;

	buf_init(&h, dst != NULL ? dst->max : 0);
	if ((rc = encode_header(&h, roots, n)) != PDS_OK)
		goto out;
	vn = varint_encode(vb, h.len);
	if (dst != NULL) {
		/* Reserve first so that a failure leaves dst as it was. */
		if ((rc = buf_reserve(dst, vn + h.len)) == PDS_OK) {
			buf_append(dst, vb, vn);
			buf_append(dst, h.p, h.len);
		}
	} else if ((rc = fn(arg, vb, vn)) == PDS_OK)
		rc = fn(arg, h.p, h.len);
out:
	buf_clear(&h);
	return rc;
}

int
car_write_header(struct buf *b, const struct cid *roots, size_t n)
{
	return emit_header(NULL, NULL, b, roots, n);
}

int
car_emit_header(car_write_fn fn, void *arg, const struct cid *roots,
    size_t n)
{
	return emit_header(fn, arg, NULL, roots, n);
}

/*
 * A block's section head, its length as a varint then its CID, into hd;
 * the head's size, or 0 if c or len is out of range.
 */
static size_t
block_head(uint8_t hd[VARINT_MAX + CID_MAX_LEN], const struct cid *c,
    size_t len)
{
	size_t	 vn;

	if (c->len == 0 || c->len > CID_MAX_LEN ||
	    len > ((uint64_t)1 << 62) - c->len)
		return 0;
	vn = varint_encode(hd, (uint64_t)c->len + len);
	memcpy(hd + vn, c->b, c->len);
	return vn + c->len;
}

int
car_write_block(struct buf *b, const struct cid *c, const uint8_t *data,
    size_t len)
{
	uint8_t	 hd[VARINT_MAX + CID_MAX_LEN];
	size_t	 hn;
	int	 rc;

	if ((hn = block_head(hd, c, len)) == 0)
		return PDS_EINVAL;
	if (len > SIZE_MAX - hn)
		return PDS_ETOOBIG;
	/* Reserve first so that a failure leaves b as it was. */
	if ((rc = buf_reserve(b, hn + len)) != PDS_OK)
		return rc;
	buf_append(b, hd, hn);
	buf_append(b, data, len);
	return PDS_OK;
}

int
car_emit_block(car_write_fn fn, void *arg, const struct cid *c,
    const uint8_t *data, size_t len)
{
	uint8_t	 hd[VARINT_MAX + CID_MAX_LEN];
	size_t	 hn;
	int	 rc;

	if ((hn = block_head(hd, c, len)) == 0)
		return PDS_EINVAL;
	if ((rc = fn(arg, hd, hn)) != PDS_OK)
		return rc;
	return len > 0 ? fn(arg, data, len) : PDS_OK;
}

int
car_write_stdio(void *fp, const uint8_t *buf, size_t len)
{
	if (len > 0 && fwrite(buf, 1, len, fp) != len)
		return PDS_EIO;
	return PDS_OK;
}
