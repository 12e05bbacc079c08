/*
 * mst_proof: what is computed over whole MSTs rather than single keys
 * (atproto-notes §4.6): the streaming walk (verification, CAR export),
 * record and covering proofs, diffs between two trees, and inversion of
 * a commit's operations on a partial tree.
 */
#include <stdlib.h>
#include <string.h>

#include "blockstore.h"
#include "buf.h"
#include "err.h"
#include "mst.h"
#include "mst_int.h"

/* ---- streaming walk ------------------------------------------------- */

struct went {
	size_t		 koff, klen;
	struct cid	 val;
	bool		 has_t;
	struct cid	 t;
};

struct wlevel {
	struct went	*e;
	size_t		 n, cap;
	uint8_t		*keys;
	size_t		 keyslen, keyscap;
};

struct swalk {
	const struct blockstore	*bs;
	const struct mst_walk_cbs *cbs;
	const char	**why;
	uint8_t		 prev[MST_KEY_MAX];
	size_t		 prevlen;
	bool		 have_prev;
	struct buf	 enc;
	struct wlevel	 lv[MST_MAX_LAYER + 2];
};

static int
wlevel_entry(void *arg, const uint8_t *key, size_t klen,
    const struct cid *val, const struct cid *right)
{
	struct wlevel	*l = arg;
	struct went	*e;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct went *ne = realloc(l->e, ncap * sizeof(*ne));
		if (ne == NULL)
			return PDS_ENOMEM;
		l->e = ne;
		l->cap = ncap;
	}
	if (l->keyscap - l->keyslen < klen) {
		size_t ncap = l->keyscap ? l->keyscap : 1024;
		uint8_t *nk;
		while (ncap - l->keyslen < klen)
			ncap *= 2;
		if ((nk = realloc(l->keys, ncap)) == NULL)
			return PDS_ENOMEM;
		l->keys = nk;
		l->keyscap = ncap;
	}
	e = &l->e[l->n++];
	e->koff = l->keyslen;
	e->klen = klen;
	memcpy(l->keys + l->keyslen, key, klen);
	l->keyslen += klen;
	e->val = *val;
	e->has_t = right != NULL;
	if (right != NULL)
		e->t = *right;
	return PDS_OK;
}

static int
canonical_check(struct swalk *w, struct wlevel *l, const struct cid *left,
    const uint8_t *d, size_t len)
{
	struct mst_enc_entry	*ee;
	size_t			 i;
	int			 rc;

	if ((ee = calloc(l->n ? l->n : 1, sizeof(*ee))) == NULL)
		return pds_fail(w->why, PDS_ENOMEM, "out of memory");
	for (i = 0; i < l->n; i++) {
		ee[i].key = l->keys + l->e[i].koff;
		ee[i].klen = l->e[i].klen;
		ee[i].val = &l->e[i].val;
		ee[i].right = l->e[i].has_t ? &l->e[i].t : NULL;
	}
	buf_reset(&w->enc);
	rc = mst_node_encode(&w->enc, left, l->n, ee);
	free(ee);
	if (rc != PDS_OK)
		return pds_fail(w->why, rc, "could not re-encode MST node");
	if (w->enc.len != len || memcmp(w->enc.p, d, len) != 0)
		return pds_fail(w->why, PDS_ENONCANON,
		    "MST node is not canonically encoded");
	return PDS_OK;
}

static void
prefetch(struct swalk *w, const struct wlevel *l, const struct cid *left)
{
	size_t	 i;
	int	 stage;

	for (stage = 0; stage < 2; stage++) {
		if (left != NULL)
			w->cbs->prefetch(w->cbs->arg, left, stage);
		for (i = 0; i < l->n; i++) {
			if (l->e[i].has_t)
				w->cbs->prefetch(w->cbs->arg, &l->e[i].t,
				    stage);
		}
	}
}

static int
swalk_node(struct swalk *w, const struct cid *c, int layer, int depth)
{
	struct mst_node_info	 info;
	struct wlevel		*l;
	struct cid		 left;
	const uint8_t		*d;
	size_t			 len, i;
	int			 rc;

	if (depth >= MST_MAX_LAYER + 2)
		return pds_fail(w->why, PDS_ETOOBIG, "MST too deep");
	if ((rc = bs_get(w->bs, c, &d, &len)) != PDS_OK) {
		if (rc != PDS_ENOTFOUND)
			return pds_fail(w->why, rc, "block store failure");
		if (w->cbs->missing != NULL)
			*w->cbs->missing = *c;
		return pds_fail(w->why, PDS_ETRUNC, "missing MST node block");
	}
	if (!w->cbs->trusted && !cid_matches(c, d, len))
		return pds_fail(w->why, PDS_EMISMATCH,
		    "MST node block does not match its CID");
	l = &w->lv[depth];
	l->n = 0;
	l->keyslen = 0;
	if ((rc = mst_node_parse_as(d, len, layer, w->cbs->trusted, &info,
	    wlevel_entry, l, w->why)) != PDS_OK)
		return rc;
	if (info.nentries == 0 && depth == 0 && info.has_left)
		return pds_fail(w->why, PDS_EINVAL,
		    "MST root has no entries but a subtree");
	if (info.nentries == 0 && depth > 0 && !info.has_left)
		return pds_fail(w->why, PDS_EINVAL,
		    "empty MST node below the root");
	if (info.nentries > 0)
		layer = info.layer;
	if (info.has_left)
		left = info.left;
	if (w->cbs->canonical && (rc = canonical_check(w, l,
	    info.has_left ? &left : NULL, d, len)) != PDS_OK)
		return rc;
	if (w->cbs->prefetch != NULL)
		prefetch(w, l, info.has_left ? &left : NULL);
	if (w->cbs->node != NULL &&
	    (rc = w->cbs->node(w->cbs->arg, c, d, len)) != 0)
		return rc;
	/* Deeper levels use their own lv[] slots, so l stays valid. */
	if (info.has_left && (rc = swalk_node(w, &left, layer - 1,
	    depth + 1)) != 0)
		return rc;
	for (i = 0; i < l->n; i++) {
		struct went	*e = &l->e[i];
		const uint8_t	*key = l->keys + e->koff;

		if (w->have_prev &&
		    mst_key_cmp(w->prev, w->prevlen, key, e->klen) >= 0)
			return pds_fail(w->why, PDS_EINVAL,
			    "MST keys not in order across nodes");
		memcpy(w->prev, key, e->klen);
		w->prevlen = e->klen;
		w->have_prev = true;
		if (w->cbs->leaf != NULL &&
		    (rc = w->cbs->leaf(w->cbs->arg, key, e->klen, &e->val)) != 0)
			return rc;
		if (e->has_t) {
			struct cid t = e->t;
			if ((rc = swalk_node(w, &t, layer - 1, depth + 1)) != 0)
				return rc;
		}
	}
	return PDS_OK;
}

int
mst_walk_store(const struct blockstore *bs, const struct cid *root,
    const struct mst_walk_cbs *cbs, const char **why)
{
	struct swalk	*w;
	size_t		 i;
	int		 rc;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return pds_fail(why, PDS_ENOMEM, "out of memory");
	w->bs = bs;
	w->cbs = cbs;
	w->why = why;
	buf_init(&w->enc, MST_NODE_MAX * 2);
	rc = swalk_node(w, root, -1, 0);
	for (i = 0; i < MST_MAX_LAYER + 2; i++) {
		free(w->lv[i].e);
		free(w->lv[i].keys);
	}
	buf_clear(&w->enc);
	free(w);
	return rc;
}

int
mst_verify(struct mst *t, const char **why)
{
	struct mst_walk_cbs	 cbs;
	struct blockstore	 view = mst_store(t);
	struct cid		 root;
	int			 rc;

	if ((rc = mst_root(t, &root)) != PDS_OK)
		return pds_fail(why, rc, t->why);
	memset(&cbs, 0, sizeof(cbs));
	cbs.canonical = true;
	return mst_walk_store(&view, &root, &cbs, why);
}

/* ---- new blocks ----------------------------------------------------- */

struct newblk {
	struct mst	*t;
	struct bs_mem	*out;
};

static int
newblk_cb(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	struct newblk	*nb = arg;
	const uint8_t	*od;
	size_t		 olen;

	if (nb->t->src != NULL && bs_get(nb->t->src, c, &od, &olen) == PDS_OK)
		return 0;
	return bs_mem_put(nb->out, c, d, len);
}

int
mst_new_blocks(struct mst *t, struct bs_mem *out)
{
	struct newblk	 nb = { t, out };
	int		 rc;

	if ((rc = mst_root(t, NULL)) != PDS_OK)
		return rc;
	return bs_mem_foreach(t->writes, newblk_cb, &nb);
}

/* ---- proofs --------------------------------------------------------- */

static int
proof_add(struct mst *t, const struct mnode *n, struct bs_mem *out)
{
	const uint8_t	*d;
	size_t		 len;
	int		 rc;

	if ((rc = mst_block_get(t, &n->cid, &d, &len)) != PDS_OK)
		return rc;
	return bs_mem_put(out, &n->cid, d, len);
}

static int
load(struct mst *t, struct mnode *n)
{
	return mst_node_load(t, n, n == t->root);
}

/* Every node on the path to where key is or would be. */
static int
proof_path(struct mst *t, struct mnode *n, const uint8_t *key, size_t klen,
    struct bs_mem *out)
{
	size_t	 i;
	bool	 eq;
	int	 rc;

	for (;;) {
		if ((rc = load(t, n)) != PDS_OK ||
		    (rc = proof_add(t, n, out)) != PDS_OK)
			return rc;
		i = mst_node_find(n, key, klen, &eq);
		if (eq || (n = mst_node_gap(n, i)) == NULL)
			return PDS_OK;
	}
}

/*
 * The reference's covering proof, one side at a time, down from n:
 *   PROOF_KEY (proofForKey): towards the key; stops above a gap with
 *	no subtree;
 *   PROOF_LEFT (proofForLeftSib): down the subtree just left of the
 *	key's position;
 *   PROOF_RIGHT (proofForRightSib): past the key if it is here, else
 *	into the gap that would hold it.
 */
enum proof_side { PROOF_KEY, PROOF_LEFT, PROOF_RIGHT };

static int
proof_side(struct mst *t, struct mnode *n, const uint8_t *key, size_t klen,
    enum proof_side side, struct bs_mem *out)
{
	struct mnode	*g;
	size_t		 i;
	bool		 eq;
	int		 rc;

	if ((rc = mst_node_seek(t, n, key, klen, &i, &eq)) != PDS_OK)
		return rc;
	switch (side) {
	case PROOF_KEY:
		if (eq)
			g = NULL;
		else if ((g = mst_node_gap(n, i)) == NULL)
			return PDS_OK;
		break;
	case PROOF_LEFT:
		g = mst_node_gap(n, i);
		break;
	default:
		g = eq ? n->e[i].t : mst_node_gap(n, i);
		break;
	}
	if (g != NULL && (rc = proof_side(t, g, key, klen, side, out)) !=
	    PDS_OK)
		return rc;
	return proof_add(t, n, out);
}

int
mst_proof_path(struct mst *t, const uint8_t *key, size_t klen,
    struct bs_mem *out)
{
	int	 rc;

	if ((rc = mst_root(t, NULL)) != PDS_OK)
		return rc;
	return proof_path(t, t->root, key, klen, out);
}

int
mst_proof_covering(struct mst *t, const uint8_t *key, size_t klen,
    struct bs_mem *out)
{
	int	 rc;

	if ((rc = mst_root(t, NULL)) != PDS_OK)
		return rc;
	if ((rc = proof_side(t, t->root, key, klen, PROOF_KEY, out)) !=
	    PDS_OK ||
	    (rc = proof_side(t, t->root, key, klen, PROOF_LEFT, out)) !=
	    PDS_OK ||
	    (rc = proof_side(t, t->root, key, klen, PROOF_RIGHT, out)) !=
	    PDS_OK)
		return rc;
	/* The root is always part of it, even for an empty tree. */
	return proof_add(t, t->root, out);
}

/* ---- diff ----------------------------------------------------------- */

/*
 * A walker over a tree in flat order: slot 0 is `l`, slot 2j+1 is entry
 * j's leaf, slot 2j+2 is entry j's subtree `t`; empty subtree slots are
 * skipped.
 */
struct wframe {
	struct mnode	*n;
	uint32_t	 s;
};

struct walker {
	struct mst	*t;
	struct wframe	 st[MST_MAX_LAYER + 2];
	int		 sp;		/* -1: done */
};

static struct mnode *
slot_tree(const struct wframe *f)
{
	return f->s == 0 ? f->n->l : f->n->e[f->s / 2 - 1].t;
}

static void
w_norm(struct walker *w)
{
	struct wframe	*f;

	while (w->sp >= 0) {
		f = &w->st[w->sp];
		if (f->s > 2 * f->n->n) {
			if (--w->sp >= 0)
				w->st[w->sp].s++;
			continue;
		}
		if (f->s % 2 == 0 && slot_tree(f) == NULL) {
			f->s++;
			continue;
		}
		return;
	}
}

static bool
w_leaf(const struct walker *w)
{
	return w->st[w->sp].s % 2 == 1;
}

static struct ment *
w_ent(const struct walker *w)
{
	const struct wframe *f = &w->st[w->sp];

	return &f->n->e[(f->s - 1) / 2];
}

static int
w_layer(const struct walker *w)
{
	return w->st[w->sp].n->layer;
}

static void
w_over(struct walker *w)
{
	w->st[w->sp].s++;
	w_norm(w);
}

static int
w_into(struct walker *w)
{
	struct mnode	*c = slot_tree(&w->st[w->sp]);
	int		 rc;

	if (w->sp + 1 >= MST_MAX_LAYER + 2)
		return PDS_ETOOBIG;
	if ((rc = mst_node_load(w->t, c, false)) != PDS_OK)
		return rc;
	w->sp++;
	w->st[w->sp].n = c;
	w->st[w->sp].s = 0;
	w_norm(w);
	return PDS_OK;
}

struct leafref {
	const uint8_t	*key;
	size_t		 klen;
	const struct cid *val;
};

/* One side of a diff: the leaves and the node CIDs only it has. */
struct dside {
	struct leafref	*leaves;
	size_t		 nleaves, capleaves;
	struct cid	*nodes;
	size_t		 nnodes, capnodes;
};

struct dacc {
	struct dside	 add, del;	/* right (new) side, left (old) side */
};

static int
push_leaf(struct leafref **a, size_t *n, size_t *cap, const struct ment *e)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct leafref *na = realloc(*a, ncap * sizeof(*na));
		if (na == NULL)
			return PDS_ENOMEM;
		*a = na;
		*cap = ncap;
	}
	(*a)[*n].key = e->key;
	(*a)[*n].klen = e->klen;
	(*a)[*n].val = &e->val;
	(*n)++;
	return PDS_OK;
}

static int
push_cid(struct cid **a, size_t *n, size_t *cap, const struct cid *c)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct cid *na = realloc(*a, ncap * sizeof(*na));
		if (na == NULL)
			return PDS_ENOMEM;
		*a = na;
		*cap = ncap;
	}
	(*a)[(*n)++] = *c;
	return PDS_OK;
}

/* Record a walker's current item on its side, then move past it. */
static int
take(struct walker *w, struct dside *d)
{
	int	 rc;

	if (w_leaf(w)) {
		if ((rc = push_leaf(&d->leaves, &d->nleaves, &d->capleaves,
		    w_ent(w))) != PDS_OK)
			return rc;
		w_over(w);
		return PDS_OK;
	}
	if ((rc = push_cid(&d->nodes, &d->nnodes, &d->capnodes,
	    &slot_tree(&w->st[w->sp])->cid)) != PDS_OK)
		return rc;
	return w_into(w);
}

static int
leaf_cmp(const void *a, const void *b)
{
	const struct leafref *x = a, *y = b;

	return mst_key_cmp(x->key, x->klen, y->key, y->klen);
}

static int
cid_qcmp(const void *a, const void *b)
{
	return cid_cmp(a, b);
}

/* Sort a side's leaves by key and its node CIDs, for the merges. */
static void
side_sort(struct dside *s)
{
	if (s->nleaves > 0)
		qsort(s->leaves, s->nleaves, sizeof(*s->leaves), leaf_cmp);
	if (s->nnodes > 0)
		qsort(s->nodes, s->nnodes, sizeof(*s->nodes), cid_qcmp);
}

static int
diff_walk(struct walker *l, struct walker *r, struct dacc *a)
{
	int	 rc = PDS_OK, c;

	while (rc == PDS_OK && (l->sp >= 0 || r->sp >= 0)) {
		if (l->sp < 0) {
			rc = take(r, &a->add);
			continue;
		}
		if (r->sp < 0) {
			rc = take(l, &a->del);
			continue;
		}
		if (w_leaf(l) && w_leaf(r)) {
			struct ment *x = w_ent(l), *y = w_ent(r);
			c = mst_key_cmp(x->key, x->klen, y->key, y->klen);
			if (c < 0)
				rc = take(l, &a->del);
			else if (c > 0)
				rc = take(r, &a->add);
			else if (cid_equal(&x->val, &y->val)) {
				w_over(l);
				w_over(r);
			} else if ((rc = take(l, &a->del)) == PDS_OK)
				rc = take(r, &a->add);
			continue;
		}
		if (w_layer(l) > w_layer(r)) {
			rc = w_leaf(l) ? take(r, &a->add) : take(l, &a->del);
			continue;
		}
		if (w_layer(r) > w_layer(l)) {
			rc = w_leaf(r) ? take(l, &a->del) : take(r, &a->add);
			continue;
		}
		if (!w_leaf(l) && !w_leaf(r)) {
			if (cid_equal(&slot_tree(&l->st[l->sp])->cid,
			    &slot_tree(&r->st[r->sp])->cid)) {
				w_over(l);
				w_over(r);
			} else if ((rc = take(l, &a->del)) == PDS_OK)
				rc = take(r, &a->add);
			continue;
		}
		rc = w_leaf(l) ? take(r, &a->add) : take(l, &a->del);
	}
	return rc;
}

static int
op_new(struct mst_diff *d, enum mst_action act, const struct leafref *o,
    const struct leafref *n)
{
	const struct leafref	*k = n != NULL ? n : o;
	struct mst_diff_op	*op = &d->ops[d->nops];

	memset(op, 0, sizeof(*op));
	if ((op->key = malloc(k->klen + 1)) == NULL)
		return PDS_ENOMEM;
	memcpy(op->key, k->key, k->klen);
	op->key[k->klen] = '\0';
	op->klen = k->klen;
	op->action = act;
	if (o != NULL)
		op->old_cid = *o->val;
	if (n != NULL)
		op->new_cid = *n->val;
	d->nops++;
	return PDS_OK;
}

/* Sorted, cancelled: what is only in a goes to out. */
static int
cid_minus(const struct cid *a, size_t na, const struct cid *b, size_t nb,
    struct cid **out, size_t *nout)
{
	size_t	 i = 0, j = 0;

	*nout = 0;
	if ((*out = calloc(na ? na : 1, sizeof(**out))) == NULL)
		return PDS_ENOMEM;
	while (i < na) {
		int c = j < nb ? cid_cmp(&a[i], &b[j]) : -1;
		if (c < 0) {
			if (*nout == 0 || !cid_equal(&(*out)[*nout - 1], &a[i]))
				(*out)[(*nout)++] = a[i];
			i++;
		} else if (c > 0)
			j++;
		else
			i++;
	}
	return PDS_OK;
}

static int
diff_finish(struct dacc *a, struct mst_diff *d)
{
	const struct dside *ad = &a->add, *dl = &a->del;
	size_t	 i = 0, j = 0;
	int	 rc = PDS_OK;

	side_sort(&a->add);
	side_sort(&a->del);
	if ((d->ops = calloc(ad->nleaves + dl->nleaves + 1,
	    sizeof(*d->ops))) == NULL)
		return PDS_ENOMEM;
	while (rc == PDS_OK && (i < dl->nleaves || j < ad->nleaves)) {
		int c = i == dl->nleaves ? 1 : j == ad->nleaves ? -1 :
		    leaf_cmp(&dl->leaves[i], &ad->leaves[j]);
		if (c < 0)
			rc = op_new(d, MST_DELETE, &dl->leaves[i++], NULL);
		else if (c > 0)
			rc = op_new(d, MST_CREATE, NULL, &ad->leaves[j++]);
		else {
			if (!cid_equal(dl->leaves[i].val, ad->leaves[j].val))
				rc = op_new(d, MST_UPDATE, &dl->leaves[i],
				    &ad->leaves[j]);
			i++;
			j++;
		}
	}
	if (rc != PDS_OK)
		return rc;
	if ((rc = cid_minus(ad->nodes, ad->nnodes, dl->nodes, dl->nnodes,
	    &d->new_nodes, &d->nnew)) != PDS_OK)
		return rc;
	return cid_minus(dl->nodes, dl->nnodes, ad->nodes, ad->nnodes,
	    &d->removed_nodes, &d->nremoved);
}

static void
walker_start(struct walker *w, struct mst *t)
{
	w->t = t;
	w->sp = -1;
	if (t == NULL || (t->root->n == 0 && t->root->l == NULL))
		return;
	w->sp = 0;
	w->st[0].n = t->root;
	w->st[0].s = 0;
	w_norm(w);
}

int
mst_diff(struct mst *old, struct mst *new, struct mst_diff *out)
{
	struct walker	*wl = NULL, *wr = NULL;
	struct dacc	 a;
	struct cid	 ro, rn;
	int		 rc;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	if ((old != NULL && (rc = mst_root(old, &ro)) != PDS_OK) ||
	    (rc = mst_root(new, &rn)) != PDS_OK)
		return rc;
	if (old != NULL && cid_equal(&ro, &rn))
		return PDS_OK;
	rc = PDS_ENOMEM;
	if ((wl = calloc(1, sizeof(*wl))) == NULL ||
	    (wr = calloc(1, sizeof(*wr))) == NULL)
		goto done;
	if ((old != NULL && push_cid(&a.del.nodes, &a.del.nnodes,
	    &a.del.capnodes, &ro) != PDS_OK) ||
	    push_cid(&a.add.nodes, &a.add.nnodes, &a.add.capnodes, &rn) !=
	    PDS_OK)
		goto done;
	walker_start(wl, old);
	walker_start(wr, new);
	if ((rc = diff_walk(wl, wr, &a)) == PDS_OK)
		rc = diff_finish(&a, out);
done:
	free(wl);
	free(wr);
	free(a.add.leaves);
	free(a.del.leaves);
	free(a.add.nodes);
	free(a.del.nodes);
	if (rc != PDS_OK)
		mst_diff_clear(out);
	return rc;
}

void
mst_diff_clear(struct mst_diff *d)
{
	size_t	 i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nops; i++)
		free(d->ops[i].key);
	free(d->ops);
	free(d->new_nodes);
	free(d->removed_nodes);
	memset(d, 0, sizeof(*d));
}

/* ---- inversion ------------------------------------------------------ */

static int
invert_one(struct mst *t, const struct mst_op *op, const char **why)
{
	struct cid	 cur;
	int		 rc;

	rc = mst_get(t, op->key, op->klen, &cur);
	if (rc != PDS_OK && rc != PDS_ENOTFOUND)
		return pds_fail(why, rc, t->why);
	switch (op->action) {
	case MST_CREATE:
	case MST_UPDATE:
		if (op->cid == NULL ||
		    (op->action == MST_UPDATE && op->prev == NULL))
			return pds_fail(why, PDS_EINVAL,
			    "operation lacks a cid or prev");
		if (rc == PDS_ENOTFOUND || !cid_equal(&cur, op->cid))
			return pds_fail(why, PDS_EMISMATCH,
			    "operation's cid is not in the new tree");
		if (op->action == MST_CREATE)
			rc = mst_delete(t, op->key, op->klen, NULL);
		else
			rc = mst_update(t, op->key, op->klen, op->prev, NULL);
		break;
	case MST_DELETE:
		if (op->prev == NULL)
			return pds_fail(why, PDS_EINVAL,
			    "delete operation lacks prev");
		if (rc == PDS_OK)
			return pds_fail(why, PDS_EMISMATCH,
			    "deleted key is still in the new tree");
		rc = mst_add(t, op->key, op->klen, op->prev);
		break;
	default:
		return pds_fail(why, PDS_EINVAL, "unknown operation");
	}
	if (rc != PDS_OK)
		return pds_fail(why, rc, t->why ? t->why : "inversion failed");
	return PDS_OK;
}

int
mst_invert(const struct blockstore *proof, const struct cid *new_root,
    const struct mst_op *ops, size_t nops, struct cid *prev_root,
    const char **why)
{
	struct mst	*t;
	size_t		 i;
	int		 rc;

	if ((rc = mst_load(proof, new_root, &t, why)) != PDS_OK)
		return rc;
	for (i = 0; i < nops && rc == PDS_OK; i++) {
		if ((rc = mst_key_check(ops[i].key, ops[i].klen, why)) ==
		    PDS_OK)
			rc = invert_one(t, &ops[i], why);
	}
	if (rc == PDS_OK && (rc = mst_root(t, prev_root)) != PDS_OK)
		pds_fail(why, rc, t->why);
	mst_free(t);
	return rc;
}
