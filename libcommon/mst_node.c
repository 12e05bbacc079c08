/*
 * mst_node: MST keys (depth, syntax, order) and node bytes: a strict
 * direct reader for the one shape a node may have, and the canonical
 * encoder (atproto-notes §4.1-4.3).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cbor.h"
#include "err.h"
#include "mst.h"
#include "mst_int.h"
#include "syntax.h"

/* ---- keys ----------------------------------------------------------- */

int
mst_key_depth(const uint8_t *key, size_t len)
{
	uint8_t	 h[32];
	int	 z = 0, i;

	sha256(h, key, len);
	for (i = 0; i < 32; i++) {
		if (h[i] == 0) {
			z += 8;
			continue;
		}
		z += __builtin_clz((unsigned)h[i]) - 24;
		break;
	}
	return z / 2;
}

size_t
mst_common_prefix(const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen)
{
	size_t	 n = alen < blen ? alen : blen, i;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	return i;
}

int
mst_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t	 n = alen < blen ? alen : blen;
	int	 r = n ? memcmp(a, b, n) : 0;

	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen;
}

int
mst_key_check(const uint8_t *key, size_t len, const char **why)
{
	size_t	 i, slash = 0, nslash = 0;

	if (len == 0)
		return pds_fail(why, PDS_EINVAL, "empty MST key");
	if (len > MST_KEY_MAX)
		return pds_fail(why, PDS_EINVAL, "MST key too long");
	for (i = 0; i < len; i++) {
		if (key[i] == '/') {
			slash = i;
			nslash++;
		} else if (!syntax_rkey_char((char)key[i]))
			return pds_fail(why, PDS_EINVAL,
			    "invalid character in MST key");
	}
	if (nslash != 1)
		return pds_fail(why, PDS_EINVAL,
		    "MST key must have exactly one '/'");
	if (slash == 0 || slash == len - 1)
		return pds_fail(why, PDS_EINVAL,
		    "MST key has an empty collection or record key");
	return PDS_OK;
}

/* ---- node bytes ----------------------------------------------------- */

/*
 * A direct reader for the one shape a node may have, as strict as
 * dm_decode() (shortest-form heads, canonical key order, tag 42 with its
 * 0x00 prefix, no trailing bytes) but without building a value tree.
 */
struct nrd {
	const uint8_t	*p, *end;
	const char	**why;
};

static int
nrd_head(struct nrd *r, unsigned *major, uint64_t *arg)
{
	unsigned	 info, n;
	int		 rc;

	if (r->p >= r->end)
		return pds_fail(r->why, PDS_ETRUNC, "MST node truncated");
	*major = r->p[0] >> 5;
	info = r->p[0] & 31;
	r->p++;
	if (info < 24) {
		*arg = info;
		return PDS_OK;
	}
	if (info > 27 || *major == CBOR_SIMPLE)
		return pds_fail(r->why, PDS_EINVAL,
		    "unexpected CBOR item in MST node");
	n = 1u << (info - 24);
	if ((size_t)(r->end - r->p) < n)
		return pds_fail(r->why, PDS_ETRUNC, "MST node truncated");
	rc = cbor_head_arg(info, r->p, arg, r->why);
	r->p += n;
	return rc;
}

/* The one-letter text key `c`. */
static int
nrd_key(struct nrd *r, char c, const char *what)
{
	if (r->end - r->p < 2 || r->p[0] != 0x61 || r->p[1] != (uint8_t)c)
		return pds_fail(r->why, PDS_EINVAL, what);
	r->p += 2;
	return PDS_OK;
}

/* A tag-42 link, or (if null_ok) null: *is_null says which. */
static int
nrd_link(struct nrd *r, bool null_ok, struct cid *c, bool *is_null,
    const char *what)
{
	unsigned	 major;
	uint64_t	 len;
	int		 rc;

	*is_null = false;
	if (r->p < r->end && r->p[0] == 0xf6 && null_ok) {
		r->p++;
		*is_null = true;
		return PDS_OK;
	}
	if (r->end - r->p < 2 || r->p[0] != 0xd8 || r->p[1] != 0x2a)
		return pds_fail(r->why, PDS_EINVAL, what);
	r->p += 2;
	if ((rc = nrd_head(r, &major, &len)) != PDS_OK)
		return rc;
	if (major != CBOR_BYTES)
		return pds_fail(r->why, PDS_EINVAL,
		    "tag 42 payload is not a byte string");
	if (len > (uint64_t)(r->end - r->p))
		return pds_fail(r->why, PDS_ETRUNC, "MST node truncated");
	if (len == 0 || r->p[0] != 0x00)
		return pds_fail(r->why, PDS_EINVAL,
		    "tag 42 payload does not start with 0x00");
	if ((rc = cid_from_bytes(c, r->p + 1, (size_t)len - 1, r->why)) !=
	    PDS_OK)
		return PDS_EINVAL;
	r->p += len;
	return PDS_OK;
}

/*
 * The one-letter text key `c` (else what: the shape expected) and the
 * head of its value, which must be of type major (else bad_type).
 */
static int
nrd_field(struct nrd *r, char c, const char *what, unsigned major,
    const char *bad_type, uint64_t *arg)
{
	unsigned	 m;
	int		 rc;

	if ((rc = nrd_key(r, c, what)) != PDS_OK ||
	    (rc = nrd_head(r, &m, arg)) != PDS_OK)
		return rc;
	if (m != major)
		return pds_fail(r->why, PDS_EINVAL, bad_type);
	return PDS_OK;
}

#define NODE_SHAPE	"MST node is not a map of exactly e and l"
#define ENTRY_SHAPE	"MST entry is not a map of exactly k, p, t, v"

static bool
is_node_cid(const struct cid *c)
{
	return cid_is_blessed(c) && cid_codec(c) == CID_CODEC_DAGCBOR;
}

int
mst_node_parse(const uint8_t *data, size_t len, int layer,
    struct mst_node_info *info, mst_entry_cb cb, void *arg, const char **why)
{
	return mst_node_parse_as(data, len, layer, false, info, cb, arg, why);
}

int
mst_node_parse_as(const uint8_t *data, size_t len, int layer, bool trusted,
    struct mst_node_info *info, mst_entry_cb cb, void *arg, const char **why)
{
	struct nrd	 r = { data, data + len, why };
	uint8_t		 key[MST_KEY_MAX];
	size_t		 klen = 0, i;
	uint64_t	 n, v;
	struct cid	 val, t;
	bool		 tnull, vnull, lnull;
	int		 rc, d;

	memset(info, 0, sizeof(*info));
	if (len > MST_NODE_MAX)
		return pds_fail(why, PDS_ETOOBIG, "MST node block too large");
	if (len < 1 || data[0] != 0xa2) {
		if (len >= 1 && (data[0] >> 5) == CBOR_MAP && data[0] != 0xa2)
			return pds_fail(why, PDS_EINVAL, NODE_SHAPE);
		return pds_fail(why, len ? PDS_EINVAL : PDS_ETRUNC,
		    "MST node is not a map");
	}
	r.p++;
	if ((rc = nrd_field(&r, 'e', NODE_SHAPE, CBOR_ARRAY,
	    "MST node e is not an array", &n)) != PDS_OK)
		return rc;
	if (n > MST_MAX_ENTRIES)
		return pds_fail(why, PDS_ETOOBIG, "too many entries in MST node");
	for (i = 0; i < n; i++) {
		const uint8_t	*suffix;
		size_t		 slen, plen;

		if (r.p >= r.end || r.p[0] != 0xa4)
			return pds_fail(why, r.p >= r.end ? PDS_ETRUNC :
			    PDS_EINVAL, ENTRY_SHAPE);
		r.p++;
		if ((rc = nrd_field(&r, 'k', ENTRY_SHAPE, CBOR_BYTES,
		    "MST entry k is not a byte string", &v)) != PDS_OK)
			return rc;
		if (v > (uint64_t)(r.end - r.p))
			return pds_fail(why, PDS_ETRUNC, "MST node truncated");
		suffix = r.p;
		slen = (size_t)v;
		r.p += slen;
		if ((rc = nrd_field(&r, 'p', ENTRY_SHAPE, CBOR_UINT,
		    "MST entry p is not an unsigned int", &v)) != PDS_OK)
			return rc;
		if (v > klen)
			return pds_fail(why, PDS_EINVAL,
			    "MST prefix length longer than the previous key");
		plen = (size_t)v;
		if ((rc = nrd_key(&r, 't', ENTRY_SHAPE)) != PDS_OK ||
		    (rc = nrd_link(&r, true, &t, &tnull,
		    "MST entry t is not null or a link")) != PDS_OK)
			return rc;
		if (!tnull && !is_node_cid(&t))
			return pds_fail(why, PDS_EINVAL,
			    "MST entry t is not a dag-cbor link");
		if ((rc = nrd_key(&r, 'v', ENTRY_SHAPE)) != PDS_OK ||
		    (rc = nrd_link(&r, false, &val, &vnull,
		    "MST entry v is not a link")) != PDS_OK)
			return rc;
		if (slen > MST_KEY_MAX - plen)
			return pds_fail(why, PDS_EINVAL, "MST key too long");
		/* The new key shares plen bytes with the previous one. */
		if (i > 0 && mst_key_cmp(suffix, slen, key + plen,
		    klen - plen) <= 0)
			return pds_fail(why, PDS_EINVAL,
			    "MST keys not in strictly ascending order");
		if (slen > 0)
			memcpy(key + plen, suffix, slen);
		klen = plen + slen;
		if (trusted)
			goto checked;
		if ((rc = mst_key_check(key, klen, why)) != PDS_OK)
			return rc;
		d = mst_key_depth(key, klen);
		if (layer < 0)
			layer = d;
		if (d != layer)
			return pds_fail(why, PDS_EINVAL,
			    "MST key depth does not match the node's layer");
		if (layer == 0 && !tnull)
			return pds_fail(why, PDS_EINVAL,
			    "MST subtree below layer 0");
checked:
		if (cb != NULL && (rc = cb(arg, key, klen, &val,
		    tnull ? NULL : &t)) != PDS_OK) {
			if (rc > 0)
				rc = PDS_EINVAL;
			return pds_fail(why, rc, rc == PDS_ENOMEM ?
			    "out of memory" : "MST entry refused");
		}
	}
	if ((rc = nrd_key(&r, 'l', NODE_SHAPE)) != PDS_OK ||
	    (rc = nrd_link(&r, true, &info->left, &lnull,
	    "MST node l is not null or a link")) != PDS_OK)
		return rc;
	if (!lnull && !is_node_cid(&info->left))
		return pds_fail(why, PDS_EINVAL,
		    "MST node l is not a dag-cbor link");
	if (r.p != r.end)
		return pds_fail(why, PDS_EINVAL, "trailing bytes after MST node");
	if (layer == 0 && !lnull)
		return pds_fail(why, PDS_EINVAL, "MST subtree below layer 0");
	info->has_left = !lnull;
	info->nentries = (size_t)n;
	info->layer = layer;
	return PDS_OK;
}

/* Encode a node from its entries; keys are compressed against each other. */
int
mst_node_encode(struct buf *b, const struct cid *left, size_t n,
    const struct mst_enc_entry *e)
{
	size_t	 i, p;

	cbor_put_map(b, 2);
	cbor_put_text(b, "e", 1);
	cbor_put_array(b, n);
	for (i = 0; i < n && cbor_put_error(b) == PDS_OK; i++) {
		p = i == 0 ? 0 : mst_common_prefix(e[i - 1].key,
		    e[i - 1].klen, e[i].key, e[i].klen);
		cbor_put_map(b, 4);
		cbor_put_text(b, "k", 1);
		cbor_put_bytes(b, e[i].key + p, e[i].klen - p);
		cbor_put_text(b, "p", 1);
		cbor_put_int(b, (int64_t)p);
		cbor_put_text(b, "t", 1);
		if (e[i].right != NULL)
			cbor_put_link(b, e[i].right);
		else
			cbor_put_null(b);
		cbor_put_text(b, "v", 1);
		cbor_put_link(b, e[i].val);
	}
	cbor_put_text(b, "l", 1);
	if (left != NULL)
		cbor_put_link(b, left);
	else
		cbor_put_null(b);
	return cbor_put_error(b);
}

int
mst_empty_root(struct cid *out)
{
	static const uint8_t empty[] = { 0xa2, 0x61, 0x65, 0x80, 0x61, 0x6c,
	    0xf6 };

	cid_compute(out, CID_CODEC_DAGCBOR, empty, sizeof(empty));
	return PDS_OK;
}
