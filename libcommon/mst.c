/*
 * mst: the Merkle Search Tree in memory (atproto-notes §4).
 *
 * A node holds its left subtree `l` and entries e[0..n), each a full key,
 * a value CID and the subtree `t` to its right.  A subtree that has not
 * been needed yet is a struct mnode with only its CID and layer (loaded
 * false).  The layer of every node is known from its parent (root: from
 * its first key), so loading never has to look below a node.
 *
 * The mutations keep the pure shape of §4.4:
 *  - insert at layer d into a node of layer L: d == L splits the gap
 *    subtree around the key into the gaps left and right of the new
 *    entry; d < L descends into the gap (creating an empty node one layer
 *    down if there is none); d above the root's layer splits the whole
 *    tree and stacks entry-less parents on both halves up to d - 1.
 *  - delete merges the two gaps either side of the removed entry (the
 *    left one's last gap with the right one's first gap, recursively),
 *    drops subtrees that became empty and trims entry-less roots.
 * These touch the same nodes as the reference, which is what lets
 * inversion run on a covering proof alone (mst_proof.c).
 */
#include <stdlib.h>
#include <string.h>

#include "blockstore.h"
#include "buf.h"
#include "cbor.h"
#include "err.h"
#include "mst.h"
#include "mst_int.h"

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

static bool
path_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '~' || c == '-' ||
	    c == ':' || c == '.';
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
		} else if (!path_char(key[i]))
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
	unsigned	 info, n, i;
	uint64_t	 v = 0;

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
	for (i = 0; i < n; i++)
		v = v << 8 | r->p[i];
	r->p += n;
	if ((info == 24 && v < 24) || (info == 25 && v <= 0xff) ||
	    (info == 26 && v <= 0xffff) || (info == 27 && v <= 0xffffffffULL))
		return pds_fail(r->why, PDS_ENONCANON,
		    "integer or length not in shortest form");
	*arg = v;
	return PDS_OK;
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

static bool
is_node_cid(const struct cid *c)
{
	return cid_is_blessed(c) && cid_codec(c) == CID_CODEC_DAGCBOR;
}

int
mst_node_parse(const uint8_t *data, size_t len, int layer,
    struct mst_node_info *info, mst_entry_cb cb, void *arg, const char **why)
{
	struct nrd	 r = { data, data + len, why };
	uint8_t		 key[MST_KEY_MAX];
	size_t		 klen = 0, i;
	uint64_t	 n, v;
	unsigned	 major;
	struct cid	 val, t;
	bool		 tnull, vnull, lnull;
	int		 rc, d;

	memset(info, 0, sizeof(*info));
	if (len > MST_NODE_MAX)
		return pds_fail(why, PDS_ETOOBIG, "MST node block too large");
	if (len < 1 || data[0] != 0xa2) {
		if (len >= 1 && (data[0] >> 5) == CBOR_MAP && data[0] != 0xa2)
			return pds_fail(why, PDS_EINVAL,
			    "MST node is not a map of exactly e and l");
		return pds_fail(why, len ? PDS_EINVAL : PDS_ETRUNC,
		    "MST node is not a map");
	}
	r.p++;
	if ((rc = nrd_key(&r, 'e', "MST node is not a map of exactly e and "
	    "l")) != PDS_OK)
		return rc;
	if ((rc = nrd_head(&r, &major, &n)) != PDS_OK)
		return rc;
	if (major != CBOR_ARRAY)
		return pds_fail(why, PDS_EINVAL, "MST node e is not an array");
	if (n > MST_MAX_ENTRIES)
		return pds_fail(why, PDS_ETOOBIG, "too many entries in MST node");
	for (i = 0; i < n; i++) {
		const uint8_t	*suffix;
		size_t		 slen, plen;

		if (r.p >= r.end || r.p[0] != 0xa4)
			return pds_fail(why, r.p >= r.end ? PDS_ETRUNC :
			    PDS_EINVAL,
			    "MST entry is not a map of exactly k, p, t, v");
		r.p++;
		if ((rc = nrd_key(&r, 'k', "MST entry is not a map of exactly "
		    "k, p, t, v")) != PDS_OK ||
		    (rc = nrd_head(&r, &major, &v)) != PDS_OK)
			return rc;
		if (major != CBOR_BYTES)
			return pds_fail(why, PDS_EINVAL,
			    "MST entry k is not a byte string");
		if (v > (uint64_t)(r.end - r.p))
			return pds_fail(why, PDS_ETRUNC, "MST node truncated");
		suffix = r.p;
		slen = (size_t)v;
		r.p += slen;
		if ((rc = nrd_key(&r, 'p', "MST entry is not a map of exactly "
		    "k, p, t, v")) != PDS_OK ||
		    (rc = nrd_head(&r, &major, &v)) != PDS_OK)
			return rc;
		if (major != CBOR_UINT)
			return pds_fail(why, PDS_EINVAL,
			    "MST entry p is not an unsigned int");
		if (v > klen)
			return pds_fail(why, PDS_EINVAL,
			    "MST prefix length longer than the previous key");
		plen = (size_t)v;
		if ((rc = nrd_key(&r, 't', "MST entry is not a map of exactly "
		    "k, p, t, v")) != PDS_OK ||
		    (rc = nrd_link(&r, true, &t, &tnull,
		    "MST entry t is not null or a link")) != PDS_OK)
			return rc;
		if (!tnull && !is_node_cid(&t))
			return pds_fail(why, PDS_EINVAL,
			    "MST entry t is not a dag-cbor link");
		if ((rc = nrd_key(&r, 'v', "MST entry is not a map of exactly "
		    "k, p, t, v")) != PDS_OK ||
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
		if (cb != NULL && (rc = cb(arg, key, klen, &val,
		    tnull ? NULL : &t)) != PDS_OK) {
			if (rc > 0)
				rc = PDS_EINVAL;
			return pds_fail(why, rc, rc == PDS_ENOMEM ?
			    "out of memory" : "MST entry refused");
		}
	}
	if ((rc = nrd_key(&r, 'l', "MST node is not a map of exactly e and "
	    "l")) != PDS_OK ||
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
	int	 rc = PDS_OK;

	rc |= cbor_put_map(b, 2);
	rc |= cbor_put_text(b, "e", 1);
	rc |= cbor_put_array(b, n);
	for (i = 0; i < n && rc == PDS_OK; i++) {
		p = i == 0 ? 0 : mst_common_prefix(e[i - 1].key,
		    e[i - 1].klen, e[i].key, e[i].klen);
		rc |= cbor_put_map(b, 4);
		rc |= cbor_put_text(b, "k", 1);
		rc |= cbor_put_bytes(b, e[i].key + p, e[i].klen - p);
		rc |= cbor_put_text(b, "p", 1);
		rc |= cbor_put_int(b, (int64_t)p);
		rc |= cbor_put_text(b, "t", 1);
		rc |= e[i].right ? cbor_put_link(b, e[i].right) :
		    cbor_put_null(b);
		rc |= cbor_put_text(b, "v", 1);
		rc |= cbor_put_link(b, e[i].val);
	}
	rc |= cbor_put_text(b, "l", 1);
	rc |= left ? cbor_put_link(b, left) : cbor_put_null(b);
	if (rc != PDS_OK)
		return b->len > b->max / 2 ? PDS_ETOOBIG : PDS_ENOMEM;
	return PDS_OK;
}

int
mst_empty_root(struct cid *out)
{
	static const uint8_t empty[] = { 0xa2, 0x61, 0x65, 0x80, 0x61, 0x6c,
	    0xf6 };

	cid_compute(out, CID_CODEC_DAGCBOR, empty, sizeof(empty));
	return PDS_OK;
}

/* ---- tree in memory ------------------------------------------------- */

static struct mnode *
node_new(int layer)
{
	struct mnode	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->layer = (int16_t)layer;
	n->loaded = true;
	n->dirty = true;
	return n;
}

static struct mnode *
node_stub(const struct cid *c, int layer)
{
	struct mnode	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->layer = (int16_t)layer;
	n->cid = *c;
	return n;
}

void
mst_node_free(struct mnode *n)
{
	uint32_t	 i;

	if (n == NULL)
		return;
	mst_node_free(n->l);
	for (i = 0; i < n->n; i++) {
		mst_node_free(n->e[i].t);
		free(n->e[i].key);
	}
	free(n->e);
	free(n);
}

static int
node_reserve(struct mnode *n, size_t extra)
{
	size_t		 ncap;
	struct ment	*ne;

	if (n->n + extra <= n->cap)
		return PDS_OK;
	ncap = n->cap ? n->cap : 4;
	while (ncap < n->n + extra)
		ncap *= 2;
	if ((ne = realloc(n->e, ncap * sizeof(*ne))) == NULL)
		return PDS_ENOMEM;
	n->e = ne;
	n->cap = (uint32_t)ncap;
	return PDS_OK;
}

static int
view_get(void *ctx, const struct cid *c, const uint8_t **data, size_t *len)
{
	struct mst	*t = ctx;

	if (bs_mem_get(t->writes, c, data, len) == PDS_OK)
		return PDS_OK;
	if (t->src == NULL)
		return PDS_ENOTFOUND;
	return bs_get(t->src, c, data, len);
}

struct blockstore
mst_store(struct mst *t)
{
	struct blockstore bs = { view_get, NULL, t };

	return bs;
}

int
mst_block_get(struct mst *t, const struct cid *c, const uint8_t **data,
    size_t *len)
{
	int	 rc = view_get(t, c, data, len);

	if (rc == PDS_ENOTFOUND) {
		t->why = "missing MST node block";
		return PDS_ETRUNC;
	}
	return rc;
}

struct load_ctx {
	struct mnode	*n;
	bool		 root;
};

static int
load_entry(void *arg, const uint8_t *key, size_t klen, const struct cid *val,
    const struct cid *right)
{
	struct load_ctx	*lc = arg;
	struct mnode	*n = lc->n;
	struct ment	*e;

	/* A root learns its layer from its first key. */
	if (lc->root && n->n == 0)
		n->layer = (int16_t)mst_key_depth(key, klen);
	if (node_reserve(n, 1) != PDS_OK)
		return PDS_ENOMEM;
	e = &n->e[n->n];
	memset(e, 0, sizeof(*e));
	if ((e->key = malloc(klen + 1)) == NULL)
		return PDS_ENOMEM;
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->klen = (uint32_t)klen;
	e->val = *val;
	n->n++;
	if (right != NULL &&
	    (e->t = node_stub(right, n->layer - 1)) == NULL)
		return PDS_ENOMEM;
	return PDS_OK;
}

/* Fetch and decode a node; `root` says its layer comes from its keys. */
int
mst_node_load(struct mst *t, struct mnode *n, bool root)
{
	struct mst_node_info info;
	struct load_ctx	 lc = { n, root };
	const uint8_t	*d;
	size_t		 len;
	uint32_t	 i;
	int		 rc;

	if (n->loaded)
		return PDS_OK;
	if ((rc = view_get(t, &n->cid, &d, &len)) != PDS_OK) {
		if (rc != PDS_ENOTFOUND) {
			t->why = "block store failure";
			return rc;
		}
		t->why = "missing MST node block";
		return PDS_ETRUNC;
	}
	if (!cid_matches(&n->cid, d, len)) {
		t->why = "MST node block does not match its CID";
		return PDS_EMISMATCH;
	}
	if (!root && n->layer < 0) {
		t->why = "MST subtree below layer 0";
		return PDS_EINVAL;
	}
	if (root)
		n->layer = 0;
	rc = mst_node_parse(d, len, root ? -1 : n->layer, &info, load_entry,
	    &lc, &t->why);
	if (rc == PDS_OK) {
		if (info.nentries == 0 && root && info.has_left) {
			t->why = "MST root has no entries but a subtree";
			rc = PDS_EINVAL;
		} else if (info.nentries == 0 && !root && !info.has_left) {
			t->why = "empty MST node below the root";
			rc = PDS_EINVAL;
		} else if (info.has_left &&
		    (n->l = node_stub(&info.left, n->layer - 1)) == NULL) {
			t->why = "out of memory";
			rc = PDS_ENOMEM;
		}
	}
	if (rc != PDS_OK) {
		mst_node_free(n->l);
		n->l = NULL;
		for (i = 0; i < n->n; i++) {
			mst_node_free(n->e[i].t);
			free(n->e[i].key);
		}
		n->n = 0;
		return rc;
	}
	n->loaded = true;
	n->dirty = false;
	return PDS_OK;
}

int
mst_new_empty(const struct blockstore *src, struct mst **out)
{
	struct mst	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return PDS_ENOMEM;
	t->src = src;
	buf_init(&t->enc, MST_NODE_MAX);
	if ((t->writes = bs_mem_new()) == NULL ||
	    (t->root = node_new(0)) == NULL) {
		mst_free(t);
		return PDS_ENOMEM;
	}
	*out = t;
	return PDS_OK;
}

int
mst_load(const struct blockstore *src, const struct cid *root,
    struct mst **out, const char **why)
{
	struct mst	*t;
	int		 rc;

	if ((rc = mst_new_empty(src, &t)) != PDS_OK)
		return pds_fail(why, rc, "out of memory");
	mst_node_free(t->root);
	if ((t->root = node_stub(root, -1)) == NULL) {
		mst_free(t);
		return pds_fail(why, PDS_ENOMEM, "out of memory");
	}
	if ((rc = mst_node_load(t, t->root, true)) != PDS_OK) {
		if (why != NULL)
			*why = t->why;
		mst_free(t);
		return rc;
	}
	*out = t;
	return PDS_OK;
}

void
mst_free(struct mst *t)
{
	if (t == NULL)
		return;
	mst_node_free(t->root);
	bs_mem_free(t->writes);
	buf_free(&t->enc);
	free(t);
}

const char *
mst_why(const struct mst *t)
{
	return t->why;
}

struct bs_mem *
mst_writes(struct mst *t)
{
	return t->writes;
}

void
mst_writes_clear(struct mst *t)
{
	bs_mem_clear(t->writes);
}

/* First index whose key is >= key; *eq says whether it is equal. */
size_t
mst_node_find(const struct mnode *n, const uint8_t *key, size_t klen,
    bool *eq)
{
	size_t	 lo = 0, hi = n->n, mid;
	int	 c;

	*eq = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = mst_key_cmp(n->e[mid].key, n->e[mid].klen, key, klen);
		if (c < 0)
			lo = mid + 1;
		else {
			if (c == 0) {
				*eq = true;
				return mid;
			}
			hi = mid;
		}
	}
	return lo;
}

/* The subtree slot just left of entry i (i == n: after the last). */
static struct mnode **
gap_slot(struct mnode *n, size_t i)
{
	return i == 0 ? &n->l : &n->e[i - 1].t;
}

struct mnode *
mst_node_gap(const struct mnode *n, size_t i)
{
	return i == 0 ? n->l : n->e[i - 1].t;
}

int
mst_get(struct mst *t, const uint8_t *key, size_t klen, struct cid *out)
{
	struct mnode	*n = t->root;
	size_t		 i;
	bool		 eq;
	int		 rc;

	for (;;) {
		if ((rc = mst_node_load(t, n, n == t->root)) != PDS_OK)
			return rc;
		i = mst_node_find(n, key, klen, &eq);
		if (eq) {
			if (out != NULL)
				*out = n->e[i].val;
			return PDS_OK;
		}
		if ((n = mst_node_gap(n, i)) == NULL)
			return PDS_ENOTFOUND;
	}
}

/*
 * Split the subtree n (loaded or not) around key (not in it) into the
 * parts before and after it, at the same layer; NULL for an empty part.
 * n is consumed.
 */
static int
split(struct mst *t, struct mnode *n, const uint8_t *key, size_t klen,
    struct mnode **left, struct mnode **right)
{
	struct mnode	*rn, **gp, *gl = NULL, *gr = NULL;
	size_t		 i;
	bool		 eq;
	int		 rc;

	if ((rc = mst_node_load(t, n, false)) != PDS_OK)
		return rc;
	i = mst_node_find(n, key, klen, &eq);
	gp = gap_slot(n, i);
	if (*gp != NULL) {
		if ((rc = split(t, *gp, key, klen, &gl, &gr)) != PDS_OK)
			return rc;
		*gp = gl;
	}
	if ((rn = node_new(n->layer)) == NULL)
		return PDS_ENOMEM;
	rn->l = gr;
	if (n->n > i) {
		if (node_reserve(rn, n->n - i) != PDS_OK) {
			free(rn);
			return PDS_ENOMEM;
		}
		memcpy(rn->e, n->e + i, (n->n - i) * sizeof(*n->e));
		rn->n = n->n - (uint32_t)i;
		n->n = (uint32_t)i;
	}
	n->dirty = true;
	if (n->n == 0 && n->l == NULL) {
		mst_node_free(n);
		n = NULL;
	}
	if (rn->n == 0 && rn->l == NULL) {
		mst_node_free(rn);
		rn = NULL;
	}
	*left = n;
	*right = rn;
	return PDS_OK;
}

static int
entry_insert(struct mnode *n, size_t i, const uint8_t *key, size_t klen,
    const struct cid *val, struct mnode *right)
{
	struct ment	*e;

	memmove(n->e + i + 1, n->e + i, (n->n - i) * sizeof(*n->e));
	e = &n->e[i];
	memset(e, 0, sizeof(*e));
	if ((e->key = malloc(klen + 1)) == NULL) {
		memmove(n->e + i, n->e + i + 1, (n->n - i) * sizeof(*n->e));
		return PDS_ENOMEM;
	}
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->klen = (uint32_t)klen;
	e->val = *val;
	e->t = right;
	n->n++;
	n->dirty = true;
	return PDS_OK;
}

/* Insert a key of depth d <= n's layer into the loaded node n. */
static int
node_insert(struct mst *t, struct mnode *n, const uint8_t *key, size_t klen,
    int d, const struct cid *val)
{
	struct mnode	**gp, *gl = NULL, *gr = NULL;
	size_t		 i;
	bool		 eq;
	int		 rc;

	if ((rc = node_reserve(n, 1)) != PDS_OK)
		return rc;
	i = mst_node_find(n, key, klen, &eq);
	if (eq)
		return PDS_EEXIST;
	gp = gap_slot(n, i);
	n->dirty = true;
	if (d == n->layer) {
		if (*gp != NULL) {
			if ((rc = split(t, *gp, key, klen, &gl, &gr)) != PDS_OK)
				return rc;
			*gp = gl;
		}
		return entry_insert(n, i, key, klen, val, gr);
	}
	if (*gp == NULL) {
		if ((*gp = node_new(n->layer - 1)) == NULL)
			return PDS_ENOMEM;
	} else if ((rc = mst_node_load(t, *gp, false)) != PDS_OK)
		return rc;
	return node_insert(t, *gp, key, klen, d, val);
}

/* Stack entry-less parents on n until it is at `layer`. */
static int
raise_to(struct mnode **np, int layer)
{
	struct mnode	*p;

	while (*np != NULL && (*np)->layer < layer) {
		if ((p = node_new((*np)->layer + 1)) == NULL)
			return PDS_ENOMEM;
		p->l = *np;
		*np = p;
	}
	return PDS_OK;
}

int
mst_add(struct mst *t, const uint8_t *key, size_t klen,
    const struct cid *val)
{
	struct mnode	*root, *left = NULL, *right = NULL, *nr;
	int		 rc, d;

	if ((rc = mst_key_check(key, klen, &t->why)) != PDS_OK)
		return rc;
	if ((rc = mst_get(t, key, klen, NULL)) == PDS_OK) {
		t->why = "MST key already exists";
		return PDS_EEXIST;
	}
	if (rc != PDS_ENOTFOUND)
		return rc;
	d = mst_key_depth(key, klen);
	root = t->root;
	if (root->n == 0 && root->l == NULL) {
		root->layer = (int16_t)d;
		if ((rc = node_reserve(root, 1)) != PDS_OK)
			return rc;
		return entry_insert(root, 0, key, klen, val, NULL);
	}
	if (d <= root->layer)
		return node_insert(t, root, key, klen, d, val);
	if ((nr = node_new(d)) == NULL || node_reserve(nr, 1) != PDS_OK) {
		free(nr);
		return PDS_ENOMEM;
	}
	if ((rc = split(t, root, key, klen, &left, &right)) != PDS_OK) {
		mst_node_free(nr);
		return rc;
	}
	t->root = nr;
	nr->l = left;
	if ((rc = raise_to(&nr->l, d - 1)) != PDS_OK ||
	    (rc = raise_to(&right, d - 1)) != PDS_OK)
		return rc;
	return entry_insert(nr, 0, key, klen, val, right);
}

static int
node_update(struct mst *t, struct mnode *n, const uint8_t *key, size_t klen,
    const struct cid *val, struct cid *prev)
{
	size_t	 i;
	bool	 eq;
	int	 rc;

	if ((rc = mst_node_load(t, n, n == t->root)) != PDS_OK)
		return rc;
	i = mst_node_find(n, key, klen, &eq);
	if (eq) {
		if (prev != NULL)
			*prev = n->e[i].val;
		if (!cid_equal(&n->e[i].val, val)) {
			n->e[i].val = *val;
			n->dirty = true;
		}
		return PDS_OK;
	}
	if (mst_node_gap(n, i) == NULL) {
		t->why = "MST key not found";
		return PDS_ENOTFOUND;
	}
	if ((rc = node_update(t, mst_node_gap(n, i), key, klen, val, prev)) !=
	    PDS_OK)
		return rc;
	if (mst_node_gap(n, i)->dirty)
		n->dirty = true;
	return PDS_OK;
}

int
mst_update(struct mst *t, const uint8_t *key, size_t klen,
    const struct cid *val, struct cid *prev)
{
	return node_update(t, t->root, key, klen, val, prev);
}

int
mst_put(struct mst *t, const uint8_t *key, size_t klen,
    const struct cid *val, struct cid *prev, bool *prev_found)
{
	int	 rc;

	rc = mst_update(t, key, klen, val, prev);
	if (prev_found != NULL)
		*prev_found = rc == PDS_OK;
	if (rc != PDS_ENOTFOUND)
		return rc;
	return mst_add(t, key, klen, val);
}

/* Merge two adjacent subtrees of one layer (a's keys all below b's). */
static int
merge(struct mst *t, struct mnode *a, struct mnode *b, struct mnode **out)
{
	struct mnode	**lp, *m;
	int		 rc;

	if (a == NULL || b == NULL) {
		*out = a != NULL ? a : b;
		return PDS_OK;
	}
	if ((rc = mst_node_load(t, a, false)) != PDS_OK ||
	    (rc = mst_node_load(t, b, false)) != PDS_OK)
		return rc;
	if ((rc = node_reserve(a, b->n)) != PDS_OK)
		return rc;
	lp = gap_slot(a, a->n);
	if ((rc = merge(t, *lp, b->l, &m)) != PDS_OK)
		return rc;
	*lp = m;
	if (b->n > 0)
		memcpy(a->e + a->n, b->e, b->n * sizeof(*b->e));
	a->n += b->n;
	free(b->e);
	free(b);
	a->dirty = true;
	*out = a;
	return PDS_OK;
}

static int
node_delete(struct mst *t, struct mnode *n, const uint8_t *key, size_t klen,
    struct cid *prev)
{
	struct mnode	**gp, *m;
	size_t		 i;
	bool		 eq;
	int		 rc;

	if ((rc = mst_node_load(t, n, n == t->root)) != PDS_OK)
		return rc;
	i = mst_node_find(n, key, klen, &eq);
	if (eq) {
		if ((rc = merge(t, mst_node_gap(n, i), n->e[i].t, &m)) !=
		    PDS_OK)
			return rc;
		if (prev != NULL)
			*prev = n->e[i].val;
		free(n->e[i].key);
		memmove(n->e + i, n->e + i + 1,
		    (n->n - i - 1) * sizeof(*n->e));
		n->n--;
		*gap_slot(n, i) = m;
		n->dirty = true;
		return PDS_OK;
	}
	gp = gap_slot(n, i);
	if (*gp == NULL) {
		t->why = "MST key not found";
		return PDS_ENOTFOUND;
	}
	if ((rc = node_delete(t, *gp, key, klen, prev)) != PDS_OK)
		return rc;
	if ((*gp)->n == 0 && (*gp)->l == NULL) {
		mst_node_free(*gp);
		*gp = NULL;
	}
	n->dirty = true;
	return PDS_OK;
}

int
mst_delete(struct mst *t, const uint8_t *key, size_t klen, struct cid *prev)
{
	struct mnode	*r;
	int		 rc;

	if ((rc = mst_get(t, key, klen, NULL)) != PDS_OK) {
		if (rc == PDS_ENOTFOUND)
			t->why = "MST key not found";
		return rc;
	}
	if ((rc = node_delete(t, t->root, key, klen, prev)) != PDS_OK)
		return rc;
	while (t->root->n == 0 && t->root->l != NULL) {
		r = t->root->l;
		if ((rc = mst_node_load(t, r, false)) != PDS_OK)
			return rc;
		t->root->l = NULL;
		mst_node_free(t->root);
		t->root = r;
	}
	if (t->root->n == 0)
		t->root->layer = 0;
	return PDS_OK;
}

/* ---- serialization -------------------------------------------------- */

static int
flush(struct mst *t, struct mnode *n)
{
	struct mst_enc_entry	 stack[16] = { { 0 } }, *e = stack;
	uint32_t		 i;
	int			 rc;

	if (!n->dirty)
		return PDS_OK;
	if (n->l != NULL && (rc = flush(t, n->l)) != PDS_OK)
		return rc;
	for (i = 0; i < n->n; i++)
		if (n->e[i].t != NULL && (rc = flush(t, n->e[i].t)) != PDS_OK)
			return rc;
	if (n->n > 16 && (e = calloc(n->n, sizeof(*e))) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < n->n; i++) {
		e[i].key = n->e[i].key;
		e[i].klen = n->e[i].klen;
		e[i].val = &n->e[i].val;
		e[i].right = n->e[i].t ? &n->e[i].t->cid : NULL;
	}
	buf_reset(&t->enc);
	rc = mst_node_encode(&t->enc, n->l ? &n->l->cid : NULL, n->n, e);
	if (e != stack)
		free(e);
	if (rc != PDS_OK)
		return rc;
	cid_compute(&n->cid, CID_CODEC_DAGCBOR, t->enc.p, t->enc.len);
	if ((rc = bs_mem_put(t->writes, &n->cid, t->enc.p, t->enc.len)) !=
	    PDS_OK)
		return rc;
	n->dirty = false;
	return PDS_OK;
}

int
mst_root(struct mst *t, struct cid *out)
{
	int	 rc;

	if ((rc = flush(t, t->root)) != PDS_OK) {
		t->why = "could not encode MST node";
		return rc;
	}
	if (out != NULL)
		*out = t->root->cid;
	return PDS_OK;
}

/* ---- listing -------------------------------------------------------- */

struct list_ctx {
	const uint8_t	*lo, *hi;	/* bounds; NULL: open */
	size_t		 lolen, hilen;
	bool		 lo_excl;	/* lo itself excluded */
	const uint8_t	*prefix;
	size_t		 plen;
	size_t		 limit, count;
	mst_leaf_cb	 cb;
	void		*arg;
};

#define LIST_STOP 1

static int
list_emit(struct list_ctx *c, const struct ment *e, bool desc)
{
	int	 rc;

	if (!desc && c->hi != NULL &&
	    mst_key_cmp(e->key, e->klen, c->hi, c->hilen) >= 0)
		return LIST_STOP;
	if (desc && c->lo != NULL) {
		int r = mst_key_cmp(e->key, e->klen, c->lo, c->lolen);
		if (r < 0 || (r == 0 && c->lo_excl))
			return LIST_STOP;
	}
	if (c->plen > 0 && (e->klen < c->plen ||
	    memcmp(e->key, c->prefix, c->plen) != 0))
		return LIST_STOP;
	if ((rc = c->cb(c->arg, e->key, e->klen, &e->val)) != 0)
		return rc < 0 ? rc : LIST_STOP;
	if (c->limit > 0 && ++c->count >= c->limit)
		return LIST_STOP;
	return 0;
}

static int
list_asc(struct mst *t, struct mnode *n, struct list_ctx *c)
{
	size_t	 i, j;
	bool	 eq = false;
	int	 rc;

	if ((rc = mst_node_load(t, n, n == t->root)) != PDS_OK)
		return rc;
	i = c->lo ? mst_node_find(n, c->lo, c->lolen, &eq) : 0;
	if (eq && c->lo_excl) {
		/* Everything left of the bound is out of range. */
		if (n->e[i].t != NULL && (rc = list_asc(t, n->e[i].t, c)) != 0)
			return rc;
		i++;
	} else if (mst_node_gap(n, i) != NULL &&
	    (rc = list_asc(t, mst_node_gap(n, i), c)) != 0)
		return rc;
	for (j = i; j < n->n; j++) {
		if ((rc = list_emit(c, &n->e[j], false)) != 0)
			return rc;
		if (n->e[j].t != NULL && (rc = list_asc(t, n->e[j].t, c)) != 0)
			return rc;
	}
	return 0;
}

static int
list_desc(struct mst *t, struct mnode *n, struct list_ctx *c)
{
	size_t	 i;
	bool	 eq = false;
	int	 rc;

	if ((rc = mst_node_load(t, n, n == t->root)) != PDS_OK)
		return rc;
	/* i = number of entries strictly below hi. */
	i = c->hi ? mst_node_find(n, c->hi, c->hilen, &eq) : n->n;
	/* The gap right of entry i-1 may hold keys below hi. */
	if (mst_node_gap(n, i) != NULL &&
	    (rc = list_desc(t, mst_node_gap(n, i), c)) != 0)
		return rc;
	while (i > 0) {
		i--;
		if ((rc = list_emit(c, &n->e[i], true)) != 0)
			return rc;
		if (mst_node_gap(n, i) != NULL &&
		    (rc = list_desc(t, mst_node_gap(n, i), c)) != 0)
			return rc;
	}
	return 0;
}

int
mst_list(struct mst *t, const uint8_t *prefix, size_t plen,
    const uint8_t *cursor, size_t clen, bool descending, size_t limit,
    mst_leaf_cb cb, void *arg)
{
	struct list_ctx	 c;
	uint8_t		 end[MST_KEY_MAX + 1];
	size_t		 endlen = 0;
	int		 rc;

	memset(&c, 0, sizeof(c));
	c.prefix = prefix;
	c.plen = plen;
	c.limit = limit;
	c.cb = cb;
	c.arg = arg;
	/* The first key past every key with the prefix, if there is one. */
	if (plen > 0 && plen <= MST_KEY_MAX) {
		memcpy(end, prefix, plen);
		endlen = plen;
		while (endlen > 0 && end[endlen - 1] == 0xff)
			endlen--;
		if (endlen > 0)
			end[endlen - 1]++;
	}
	if (!descending) {
		c.lo = plen ? prefix : NULL;
		c.lolen = plen;
		if (cursor != NULL && (c.lo == NULL ||
		    mst_key_cmp(cursor, clen, c.lo, c.lolen) >= 0)) {
			c.lo = cursor;
			c.lolen = clen;
			c.lo_excl = true;
		}
		if (endlen > 0) {
			c.hi = end;
			c.hilen = endlen;
		}
		rc = list_asc(t, t->root, &c);
	} else {
		if (endlen > 0) {
			c.hi = end;
			c.hilen = endlen;
		}
		if (cursor != NULL && (c.hi == NULL ||
		    mst_key_cmp(cursor, clen, c.hi, c.hilen) < 0)) {
			c.hi = cursor;
			c.hilen = clen;
		}
		if (plen > 0) {
			c.lo = prefix;
			c.lolen = plen;
		}
		rc = list_desc(t, t->root, &c);
	}
	return rc == LIST_STOP ? PDS_OK : rc;
}

int
mst_walk(struct mst *t, mst_leaf_cb cb, void *arg)
{
	return mst_list(t, NULL, 0, NULL, 0, false, 0, cb, arg);
}

static int
count_cb(void *arg, const uint8_t *key, size_t klen, const struct cid *val)
{
	(*(size_t *)arg)++;
	return 0;
}

int
mst_count(struct mst *t, size_t *out)
{
	*out = 0;
	return mst_walk(t, count_cb, out);
}
