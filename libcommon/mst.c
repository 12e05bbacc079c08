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
	struct blockstore bs = { view_get, NULL, t, NULL };

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
	buf_clear(&t->enc);
	free(t);
}

#define MALLOC_OVERHEAD	16	/* glibc: a header and rounding, roughly */

static size_t
node_footprint(const struct mnode *n)
{
	size_t		 sz;
	uint32_t	 i;

	if (n == NULL)
		return 0;
	sz = sizeof(*n) + MALLOC_OVERHEAD + node_footprint(n->l);
	if (n->e != NULL)
		sz += n->cap * sizeof(*n->e) + MALLOC_OVERHEAD;
	for (i = 0; i < n->n; i++)
		sz += n->e[i].klen + 1 + MALLOC_OVERHEAD +
		    node_footprint(n->e[i].t);
	return sz;
}

size_t
mst_footprint(const struct mst *t)
{
	if (t == NULL)
		return 0;
	return sizeof(*t) + MALLOC_OVERHEAD + node_footprint(t->root) +
	    (t->writes != NULL ? bs_mem_footprint(t->writes) : 0) +
	    t->enc.cap;
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

int
mst_node_seek(struct mst *t, struct mnode *n, const uint8_t *key,
    size_t klen, size_t *i, bool *eq)
{
	int	 rc;

	if ((rc = mst_node_load(t, n, n == t->root)) != PDS_OK)
		return rc;
	*i = mst_node_find(n, key, klen, eq);
	return PDS_OK;
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
		if ((rc = mst_node_seek(t, n, key, klen, &i, &eq)) != PDS_OK)
			return rc;
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

	if ((rc = mst_node_seek(t, n, key, klen, &i, &eq)) != PDS_OK)
		return rc;
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

	if ((rc = mst_node_seek(t, n, key, klen, &i, &eq)) != PDS_OK)
		return rc;
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
	if (plen > 0) {
		c.lo = prefix;
		c.lolen = plen;
	}
	if (endlen > 0) {
		c.hi = end;
		c.hilen = endlen;
	}
	/* The cursor narrows the bound the listing starts from. */
	if (!descending) {
		if (cursor != NULL && (c.lo == NULL ||
		    mst_key_cmp(cursor, clen, c.lo, c.lolen) >= 0)) {
			c.lo = cursor;
			c.lolen = clen;
			c.lo_excl = true;
		}
		rc = list_asc(t, t->root, &c);
	} else {
		if (cursor != NULL && (c.hi == NULL ||
		    mst_key_cmp(cursor, clen, c.hi, c.hilen) < 0)) {
			c.hi = cursor;
			c.hilen = clen;
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
