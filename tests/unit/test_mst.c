/*
 * Unit tests: the Merkle Search Tree (atproto-notes §4, §14 V6-V8, V16).
 *
 * Besides the fixtures and vectors, a property test compares the
 * incremental tree after every step with a tree rebuilt from scratch by
 * the pure rule of §4.4 (implemented here independently, with its own
 * encoder), and get/list with a plain sorted array.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "blockstore.h"
#include "buf.h"
#include "cbor.h"
#include "cid.h"
#include "err.h"
#include "mst.h"
#include "t.h"

#define REC_V5	"bafyreieawtmh7hwfrqpamqkodza5r62bbfhsepe2iyustgxhgbhi6b2lfi"

static struct cid
cidp(const char *s)
{
	struct cid	 c;

	memset(&c, 0, sizeof(c));
	if (cid_parse(&c, s, strlen(s), NULL) != PDS_OK)
		fprintf(stderr, "bad CID in test: %s\n", s);
	return c;
}

static const char *
cids(const struct cid *c)
{
	static char	 s[4][CID_STR_MAX];
	static int	 i;

	i = (i + 1) % 4;
	cid_format(c, s[i], sizeof(s[i]));
	return s[i];
}

static int
add(struct mst *t, const char *k, const struct cid *v)
{
	return mst_add(t, (const uint8_t *)k, strlen(k), v);
}

/* ---- fixtures ------------------------------------------------------- */

static void
test_key_fixtures(void)
{
	json_t		*j, *e;
	size_t		 i;

	t_group("mst/key_heights.json");
	j = json_load_file("tests/fixtures/mst/key_heights.json", 0, NULL);
	CHECK(j != NULL && json_array_size(j) > 0, "fixture loads");
	json_array_foreach(j, i, e) {
		const char *k = json_string_value(json_object_get(e, "key"));
		int h = (int)json_integer_value(json_object_get(e, "height"));
		CHECK(mst_key_depth((const uint8_t *)k, strlen(k)) == h,
		    "depth of '%s' want %d", k, h);
	}
	json_decref(j);
	t_group_end();

	t_group("mst/common_prefix.json");
	j = json_load_file("tests/fixtures/mst/common_prefix.json",
	    JSON_ALLOW_NUL, NULL);
	CHECK(j != NULL && json_array_size(j) > 0, "fixture loads");
	json_array_foreach(j, i, e) {
		json_t *l = json_object_get(e, "left");
		json_t *r = json_object_get(e, "right");
		size_t want = (size_t)json_integer_value(json_object_get(e,
		    "len"));
		CHECK(mst_common_prefix(
		    (const uint8_t *)json_string_value(l), json_string_length(l),
		    (const uint8_t *)json_string_value(r), json_string_length(r))
		    == want, "case %zu", i);
	}
	json_decref(j);
	t_group_end();

	t_group("mst key syntax");
	{
		static const char *good[] = { "app.bsky.feed.post/3khuwc44c2222",
		    "a/b", "com.example/self", "x/a:b~c_d-e.f" };
		static const char *bad[] = { "", "nocollection", "/rkey", "coll/",
		    "a/b/c", "a/b c", "a/\xc3\xa9", "a//b" };
		char big[MST_KEY_MAX + 2];
		for (i = 0; i < sizeof(good) / sizeof(*good); i++)
			CHECK(mst_key_check((const uint8_t *)good[i],
			    strlen(good[i]), NULL) == PDS_OK, "%s", good[i]);
		for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
			CHECK(mst_key_check((const uint8_t *)bad[i],
			    strlen(bad[i]), NULL) != PDS_OK, "%s", bad[i]);
		memset(big, 'a', sizeof(big));
		big[3] = '/';
		CHECK(mst_key_check((uint8_t *)big, MST_KEY_MAX, NULL) == PDS_OK,
		    "1024 ok");
		CHECK(mst_key_check((uint8_t *)big, MST_KEY_MAX + 1, NULL) !=
		    PDS_OK, "1025 refused");
	}
	t_group_end();
}

/* ---- §14 vectors ---------------------------------------------------- */

static bool
block_is(struct mst *t, const struct cid *c, const char *hex)
{
	uint8_t		 want[512];
	const uint8_t	*d;
	size_t		 len;
	long		 n = t_unhex(want, sizeof(want), hex);
	struct blockstore view = mst_store(t);

	if (n < 0 || bs_get(&view, c, &d, &len) != PDS_OK)
		return false;
	return len == (size_t)n && memcmp(d, want, len) == 0;
}

static void
test_vectors(void)
{
	struct mst	*t;
	struct cid	 v = cidp(REC_V5), root, x;
	const char	*k1 = "app.bsky.feed.post/3khuwc44c2222";

	t_group("V6-V8 vectors");
	CHECK(mst_empty_root(&root) == PDS_OK && strcmp(cids(&root),
	    "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm") == 0,
	    "empty root %s", cids(&root));
	mst_new_empty(NULL, &t);
	CHECK(mst_root(t, &x) == PDS_OK && cid_equal(&x, &root), "empty tree");
	CHECK(block_is(t, &x, "a2616580616cf6"), "empty node bytes");

	CHECK(add(t, k1, &v) == PDS_OK, "add V6");
	CHECK(mst_root(t, &root) == PDS_OK, "root");
	CHECK(strcmp(cids(&root),
	    "bafyreiczzhbpzlcir2wmpb5b7a3ckljnnqwssa6aoukyfcteuluuyhsira") == 0,
	    "V6 root %s", cids(&root));
	CHECK(block_is(t, &root, "a2616581a4616b58206170702e62736b792e666565642e706f73742f336b68757763343463323232326170006174f66176d82a5825000171122080b4d87f9ec58c1e06414e1e41d8fb41094f223c9a4629299ae7304e8f074b2a616cf6"),
	    "V6 node bytes");
	CHECK(add(t, k1, &v) == PDS_EEXIST, "add twice");

	CHECK(add(t, "app.bsky.feed.post/3khuwc44c2322", &v) == PDS_OK, "V7");
	mst_root(t, &root);
	CHECK(strcmp(cids(&root),
	    "bafyreic22oqhzlio2vgerjgdyrislitxp6n6nh5imxcpak7yiovuijyioq") == 0,
	    "V7 root %s", cids(&root));
	CHECK(mst_delete(t, (const uint8_t *)"app.bsky.feed.post/3khuwc44c2322",
	    32, NULL) == PDS_OK, "delete");
	mst_root(t, &root);
	CHECK(strcmp(cids(&root),
	    "bafyreiczzhbpzlcir2wmpb5b7a3ckljnnqwssa6aoukyfcteuluuyhsira") == 0,
	    "back to V6 %s", cids(&root));

	CHECK(add(t, "app.bsky.feed.post/3khuwc44ju222", &v) == PDS_OK, "V8");
	mst_root(t, &root);
	CHECK(strcmp(cids(&root),
	    "bafyreigg2xrfleq4rlgijvmuoqux6p2wnqsmoud5gywlusexqmwcyx77vm") == 0,
	    "V8 root %s", cids(&root));
	x = cidp("bafyreiepykww5iw5xpo6ldh5564lcv65vf5vl3a4azt7e3bttb3jom32zi");
	CHECK(block_is(t, &x, "a2616580616cd82a5825000171122059c9c2fcac488eacc787a1f836252d2d6c2d2903c07515828a64a2e94c1e4888"),
	    "V8 intermediate node");
	mst_free(t);

	/* The three-key tree with a depth-1 key in the middle. */
	mst_new_empty(NULL, &t);
	add(t, "app.bsky.feed.post/3khuwc44dyk22", &v);
	add(t, "app.bsky.feed.post/3khuwc44czc22", &v);
	add(t, k1, &v);
	mst_root(t, &root);
	CHECK(strcmp(cids(&root),
	    "bafyreie6n5zcck6stgadjf65wx2icacyyofqzo56sxrmckqtjpxveizxi4") == 0,
	    "three-key root %s", cids(&root));
	x = cidp("bafyreiabdg42lwjunjgp7xauct4f3wpwckqncx3xeiiovwfghlhptx2x2e");
	{
		struct blockstore view = mst_store(t);
		const uint8_t *d;
		size_t len;
		CHECK(bs_get(&view, &x, &d, &len) == PDS_OK, "e[0].t block");
	}
	mst_free(t);
	t_group_end();
}

/* ---- commit-proof fixtures ------------------------------------------ */

struct fop {
	const char	*key;
	bool		 add;
};

static bool
inv_ok(struct bs_mem *blocks, const struct cid *after,
    const struct cid *before, const struct fop *ops, size_t n,
    const struct cid *leaf)
{
	struct mst_op	 mo[8];
	struct blockstore bs = bs_mem_store(blocks);
	struct cid	 got;
	const char	*why = NULL;
	size_t		 i;
	int		 rc;

	for (i = 0; i < n; i++) {
		mo[i].action = ops[i].add ? MST_CREATE : MST_DELETE;
		mo[i].key = (const uint8_t *)ops[i].key;
		mo[i].klen = strlen(ops[i].key);
		mo[i].cid = ops[i].add ? leaf : NULL;
		mo[i].prev = ops[i].add ? NULL : leaf;
	}
	rc = mst_invert(&bs, after, mo, n, &got, &why);
	if (rc != PDS_OK) {
		fprintf(stderr, "  invert: %s (%s)\n", pds_strerror(rc), why);
		return false;
	}
	return cid_equal(&got, before);
}

/* Heap's algorithm over all orders of ops. */
static void
permute(struct fop *ops, size_t k, size_t n, int *bad, int *count,
    struct bs_mem *blocks, const struct cid *after, const struct cid *before,
    const struct cid *leaf)
{
	size_t	 i;

	if (k == 1) {
		(*count)++;
		if (!inv_ok(blocks, after, before, ops, n, leaf))
			(*bad)++;
		return;
	}
	for (i = 0; i < k; i++) {
		struct fop tmp;
		permute(ops, k - 1, n, bad, count, blocks, after, before, leaf);
		if (k % 2 == 0) {
			tmp = ops[i]; ops[i] = ops[k - 1]; ops[k - 1] = tmp;
		} else {
			tmp = ops[0]; ops[0] = ops[k - 1]; ops[k - 1] = tmp;
		}
	}
}

struct copy_ctx {
	struct bs_mem	*dst;
	json_t		*want;
};

static int
copy_wanted(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	struct copy_ctx	*cc = arg;
	size_t		 i;
	json_t		*e;

	json_array_foreach(cc->want, i, e)
		if (strcmp(json_string_value(e), cids(c)) == 0)
			return bs_mem_put(cc->dst, c, d, len);
	return 0;
}

static void
test_commit_proofs(void)
{
	json_t		*j, *c, *e;
	size_t		 ci, i;

	t_group("firehose/commit-proof-fixtures.json");
	j = json_load_file("tests/fixtures/firehose/commit-proof-fixtures.json",
	    0, NULL);
	CHECK(j != NULL && json_array_size(j) == 6, "six cases");
	json_array_foreach(j, ci, c) {
		const char *name = json_string_value(json_object_get(c,
		    "comment"));
		struct cid leaf = cidp(json_string_value(json_object_get(c,
		    "leafValue")));
		struct cid before = cidp(json_string_value(json_object_get(c,
		    "rootBeforeCommit")));
		struct cid after = cidp(json_string_value(json_object_get(c,
		    "rootAfterCommit")));
		json_t *adds = json_object_get(c, "adds");
		json_t *dels = json_object_get(c, "dels");
		json_t *inproof = json_object_get(c, "blocksInProof");
		struct bs_mem *proof = bs_mem_new(), *fixproof = bs_mem_new();
		struct mst *t;
		struct cid root;
		struct fop ops[8];
		size_t nops = 0;
		int bad = 0, count = 0, missing = 0;

		mst_new_empty(NULL, &t);
		json_array_foreach(json_object_get(c, "keys"), i, e)
			CHECK(add(t, json_string_value(e), &leaf) == PDS_OK,
			    "%s: add", name);
		CHECK(mst_root(t, &root) == PDS_OK && cid_equal(&root, &before),
		    "%s: before %s", name, cids(&root));
		json_array_foreach(adds, i, e) {
			CHECK(add(t, json_string_value(e), &leaf) == PDS_OK,
			    "%s: add op", name);
			ops[nops].key = json_string_value(e);
			ops[nops++].add = true;
		}
		json_array_foreach(dels, i, e) {
			const char *k = json_string_value(e);
			CHECK(mst_delete(t, (const uint8_t *)k, strlen(k), NULL) ==
			    PDS_OK, "%s: del op", name);
			ops[nops].key = k;
			ops[nops++].add = false;
		}
		CHECK(mst_root(t, &root) == PDS_OK && cid_equal(&root, &after),
		    "%s: after %s", name, cids(&root));
		for (i = 0; i < nops; i++)
			CHECK(mst_proof_covering(t, (const uint8_t *)ops[i].key,
			    strlen(ops[i].key), proof) == PDS_OK, "%s: proof",
			    name);
		json_array_foreach(inproof, i, e) {
			struct cid x = cidp(json_string_value(e));
			if (!bs_mem_has(proof, &x))
				missing++;
		}
		CHECK(missing == 0, "%s: %d fixture proof blocks missing", name,
		    missing);
		CHECK(bs_mem_count(proof) == json_array_size(inproof),
		    "%s: proof has %zu blocks, fixture %zu", name,
		    bs_mem_count(proof), json_array_size(inproof));
		permute(ops, nops, nops, &bad, &count, proof, &after, &before,
		    &leaf);
		CHECK(bad == 0 && count > 0, "%s: %d of %d orders failed to "
		    "invert on our proof", name, bad, count);
		{
			struct copy_ctx cc = { fixproof, inproof };
			bs_mem_foreach(proof, copy_wanted, &cc);
		}
		bad = count = 0;
		permute(ops, nops, nops, &bad, &count, fixproof, &after,
		    &before, &leaf);
		CHECK(bad == 0, "%s: %d of %d orders failed to invert on the "
		    "fixture's blocks", name, bad, count);
		/*
		 * With the root block only, inversion either fails cleanly
		 * or (when the op needs no other node) still gets it right.
		 */
		{
			struct bs_mem *only = bs_mem_new();
			struct blockstore bs = bs_mem_store(only);
			const uint8_t *d;
			size_t len;
			struct mst_op mo = { MST_CREATE, NULL, 0, &leaf, NULL };
			struct cid got;
			const char *why = NULL;
			struct blockstore view = mst_store(t);
			int rc;
			bs_get(&view, &after, &d, &len);
			bs_mem_put(only, &after, d, len);
			if (nops > 0 && ops[0].add) {
				mo.key = (const uint8_t *)ops[0].key;
				mo.klen = strlen(ops[0].key);
				struct cid full;
				rc = mst_invert(&view, &after, &mo, 1, &full,
				    &why);
				CHECK(rc == PDS_OK, "%s: single op on the full "
				    "tree: %s", name, why);
				rc = mst_invert(&bs, &after, &mo, 1, &got, &why);
				CHECK(rc == PDS_ETRUNC || (rc == PDS_OK &&
				    cid_equal(&got, &full)),
				    "%s: root-only inversion rc %d", name, rc);
			}
			bs_mem_free(only);
		}
		mst_free(t);
		bs_mem_free(proof);
		bs_mem_free(fixproof);
	}
	json_decref(j);
	t_group_end();
}

/* ---- the pure rule, independently ----------------------------------- */

struct pkey {
	char		 key[64];
	size_t		 len;
	int		 depth;
	struct cid	 val;
};

static int
pkey_cmp(const void *a, const void *b)
{
	const struct pkey *x = a, *y = b;

	return mst_key_cmp((const uint8_t *)x->key, x->len,
	    (const uint8_t *)y->key, y->len);
}

/* Build the node for keys[0..n) at layer; *out its CID. */
static void
pure_build(const struct pkey *k, size_t n, int layer, struct cid *out)
{
	struct buf	 b;
	size_t		 i, start = 0, ne = 0, idx[512];
	struct cid	 sub[513];
	bool		 has[513];
	size_t		 g = 0;

	for (i = 0; i < n; i++)
		if (k[i].depth == layer)
			idx[ne++] = i;
	/* gaps: before idx[0], between, after idx[ne-1] */
	for (g = 0; g <= ne; g++) {
		size_t end = g < ne ? idx[g] : n;
		has[g] = end > start;
		if (has[g])
			pure_build(k + start, end - start, layer - 1, &sub[g]);
		start = end + 1;
	}
	buf_init(&b, 0);
	cbor_put_map(&b, 2);
	cbor_put_text(&b, "e", 1);
	cbor_put_array(&b, ne);
	for (i = 0; i < ne; i++) {
		const struct pkey *e = &k[idx[i]];
		size_t p = 0;
		if (i > 0) {
			const struct pkey *pr = &k[idx[i - 1]];
			while (p < pr->len && p < e->len &&
			    pr->key[p] == e->key[p])
				p++;
		}
		cbor_put_map(&b, 4);
		cbor_put_text(&b, "k", 1);
		cbor_put_bytes(&b, e->key + p, e->len - p);
		cbor_put_text(&b, "p", 1);
		cbor_put_int(&b, (int64_t)p);
		cbor_put_text(&b, "t", 1);
		if (has[i + 1])
			cbor_put_link(&b, &sub[i + 1]);
		else
			cbor_put_null(&b);
		cbor_put_text(&b, "v", 1);
		cbor_put_link(&b, &e->val);
	}
	cbor_put_text(&b, "l", 1);
	if (has[0])
		cbor_put_link(&b, &sub[0]);
	else
		cbor_put_null(&b);
	cid_compute(out, CID_CODEC_DAGCBOR, b.p, b.len);
	buf_clear(&b);
}

static void
pure_root(struct pkey *k, size_t n, struct cid *out)
{
	int	 maxd = 0;
	size_t	 i;

	if (n == 0) {
		static const uint8_t empty[] = { 0xa2, 0x61, 0x65, 0x80, 0x61,
		    0x6c, 0xf6 };
		cid_compute(out, CID_CODEC_DAGCBOR, empty, sizeof(empty));
		return;
	}
	qsort(k, n, sizeof(*k), pkey_cmp);
	for (i = 0; i < n; i++)
		if (k[i].depth > maxd)
			maxd = k[i].depth;
	pure_build(k, n, maxd, out);
}

/* ---- property test -------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static char	 example[200][64];
static size_t	 nexample;

static void
load_examples(void)
{
	FILE	*f = fopen("tests/fixtures/mst/example_keys.txt", "r");
	char	 line[128];

	if (f == NULL)
		return;
	while (nexample < 200 && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '\0' && strlen(line) < 64)
			snprintf(example[nexample++], 64, "%.63s", line);
	}
	fclose(f);
}

static void
random_key(char *out)
{
	static const char *colls[] = { "app.bsky.feed.post",
	    "app.bsky.feed.like", "app.bsky.graph.follow", "com.example.x" };
	static const char b32[] = "234567abcdefghijklmnopqrstuvwxyz";
	char	 rk[16];
	size_t	 i;

	if (nexample > 0 && rng() % 3 == 0) {
		snprintf(out, 64, "%s", example[rng() % nexample]);
		return;
	}
	for (i = 0; i < 13; i++)
		rk[i] = b32[rng() % 32];
	rk[i] = '\0';
	if (rng() % 4 == 0)
		rk[1 + rng() % 5] = '\0';	/* short keys: prefix variety */
	snprintf(out, 64, "%s/%s", colls[rng() % 4], rk);
}

static void
random_cid(struct cid *c)
{
	uint64_t r[2] = { rng(), rng() };

	cid_compute(c, CID_CODEC_DAGCBOR, r, sizeof(r));
}

struct lctx {
	char	 keys[4096][64];
	size_t	 n;
	bool	 ok;
};

static int
list_cb(void *arg, const uint8_t *key, size_t klen, const struct cid *v)
{
	struct lctx *l = arg;

	if (l->n < 4096) {
		memcpy(l->keys[l->n], key, klen);
		l->keys[l->n][klen] = '\0';
		l->n++;
	}
	return 0;
}

static int
store_cb(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	return bs_mem_put(arg, c, d, len);
}

/* Compare get and list against the sorted array k[0..n). */
static bool
check_reads(struct mst *t, struct pkey *k, size_t n)
{
	static struct lctx l;
	struct cid	 got;
	size_t		 i, j, want, limit;
	int		 q;
	bool		 ok = true;

	qsort(k, n, sizeof(*k), pkey_cmp);
	for (i = 0; i < n; i++)
		if (mst_get(t, (uint8_t *)k[i].key, k[i].len, &got) != PDS_OK ||
		    !cid_equal(&got, &k[i].val))
			ok = false;
	if (mst_get(t, (const uint8_t *)"zz.none/x", 9, &got) != PDS_ENOTFOUND)
		ok = false;
	for (q = 0; q < 12; q++) {
		bool desc = q % 2;
		const char *prefix = q % 4 < 2 ? "" : "app.bsky.feed.post/";
		size_t plen = strlen(prefix);
		char cursor[64];
		bool hascur = q >= 4 && n > 0;
		size_t clen = 0;

		if (hascur) {
			if (q >= 8)
				random_key(cursor);
			else
				snprintf(cursor, 64, "%s", k[rng() % n].key);
			clen = strlen(cursor);
		}
		limit = rng() % 3 == 0 ? 1 + rng() % 10 : 0;
		l.n = 0;
		if (mst_list(t, (const uint8_t *)prefix, plen,
		    hascur ? (uint8_t *)cursor : NULL, clen, desc, limit,
		    list_cb, &l) != PDS_OK)
			return false;
		want = 0;
		for (j = 0; j < n; j++) {
			size_t jj = desc ? n - 1 - j : j;
			int c;
			if (strncmp(k[jj].key, prefix, plen) != 0)
				continue;
			if (hascur) {
				c = mst_key_cmp((uint8_t *)k[jj].key, k[jj].len,
				    (uint8_t *)cursor, clen);
				if ((!desc && c <= 0) || (desc && c >= 0))
					continue;
			}
			if (limit && want == limit)
				break;
			if (want >= l.n || strcmp(l.keys[want], k[jj].key) != 0)
				ok = false;
			want++;
		}
		if (want != l.n)
			ok = false;
	}
	return ok;
}

static int
node_collect(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	return bs_mem_put(arg, c, d, len);
}

struct onlyctx {
	struct bs_mem	*other;
	size_t		 n;
};

static int
only_cb(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	struct onlyctx *oc = arg;

	if (!bs_mem_has(oc->other, c))
		oc->n++;
	return 0;
}

static bool
diff_matches(struct mst *old, struct mst *new, struct pkey *ok, size_t nold,
    struct pkey *nk, size_t nnew, struct bs_mem *store)
{
	struct mst_diff	 d;
	struct bs_mem	*on = bs_mem_new(), *nn = bs_mem_new();
	struct blockstore bs = bs_mem_store(store);
	struct mst_walk_cbs cbs;
	struct cid	 ro, rn;
	size_t		 i = 0, j = 0, o = 0, newcount = 0;
	bool		 good = true;

	if (mst_diff(old, new, &d) != PDS_OK)
		return false;
	qsort(ok, nold, sizeof(*ok), pkey_cmp);
	qsort(nk, nnew, sizeof(*nk), pkey_cmp);
	while (i < nold || j < nnew) {
		int c = i == nold ? 1 : j == nnew ? -1 :
		    pkey_cmp(&ok[i], &nk[j]);
		enum mst_action a = 0;
		const struct pkey *k = NULL;
		if (c < 0) {
			a = MST_DELETE;
			k = &ok[i++];
		} else if (c > 0) {
			a = MST_CREATE;
			k = &nk[j++];
		} else {
			if (!cid_equal(&ok[i].val, &nk[j].val)) {
				a = MST_UPDATE;
				k = &nk[j];
			}
			i++;
			j++;
		}
		if (k == NULL)
			continue;
		if (o >= d.nops || d.ops[o].action != a ||
		    strcmp((char *)d.ops[o].key, k->key) != 0)
			good = false;
		o++;
	}
	if (o != d.nops)
		good = false;
	/* Node sets: walk both trees. */
	memset(&cbs, 0, sizeof(cbs));
	cbs.node = node_collect;
	mst_root(old, &ro);
	mst_root(new, &rn);
	cbs.arg = on;
	mst_walk_store(&bs, &ro, &cbs, NULL);
	cbs.arg = nn;
	mst_walk_store(&bs, &rn, &cbs, NULL);
	for (i = 0; i < d.nnew; i++)
		if (!bs_mem_has(nn, &d.new_nodes[i]) ||
		    bs_mem_has(on, &d.new_nodes[i]))
			good = false;
	for (i = 0; i < d.nremoved; i++)
		if (!bs_mem_has(on, &d.removed_nodes[i]) ||
		    bs_mem_has(nn, &d.removed_nodes[i]))
			good = false;
	/* Every node only in the new tree is reported, and only those. */
	{
		struct onlyctx oc = { on, 0 };
		bs_mem_foreach(nn, only_cb, &oc);
		newcount = oc.n;
		oc.other = nn;
		oc.n = 0;
		bs_mem_foreach(on, only_cb, &oc);
		if (newcount != d.nnew || oc.n != d.nremoved)
			good = false;
	}
	bs_mem_free(on);
	bs_mem_free(nn);
	mst_diff_clear(&d);
	return good;
}

static void
test_property(void)
{
	static struct pkey keys[600], snap[600], tmp[600];
	size_t		 n, nsnap, s, step, total = 0, i;
	int		 bad_root = 0, bad_read = 0, bad_diff = 0, bad_verify = 0;
	int		 seq;

	t_group("property: incremental == pure rebuild");
	load_examples();
	CHECK(nexample > 100, "example_keys.txt loaded (%zu)", nexample);
	for (seq = 0; seq < 24; seq++) {
		struct bs_mem	*store = bs_mem_new();
		struct blockstore bs = bs_mem_store(store);
		struct mst	*t, *old;
		struct cid	 got, want, snaproot;
		size_t		 steps = 150 + rng() % 150;
		size_t		 target = seq % 3 == 0 ? 20 : seq % 3 == 1 ?
		    120 : 400;

		rng_state = 0x1234567ULL * (uint64_t)(seq + 1);
		n = 0;
		mst_new_empty(&bs, &t);
		mst_root(t, &snaproot);
		memcpy(snap, keys, 0);
		nsnap = 0;
		for (step = 0; step < steps; step++) {
			unsigned op = (unsigned)(rng() % 10);
			if (n < target / 2 || (op < 5 && n < target)) {
				struct pkey k;
				random_key(k.key);
				k.len = strlen(k.key);
				k.depth = mst_key_depth((uint8_t *)k.key, k.len);
				random_cid(&k.val);
				for (i = 0; i < n; i++)
					if (strcmp(keys[i].key, k.key) == 0)
						break;
				if (i < n) {
					if (add(t, k.key, &k.val) != PDS_EEXIST)
						bad_root++;
					continue;
				}
				if (add(t, k.key, &k.val) != PDS_OK)
					bad_root++;
				keys[n++] = k;
			} else if (op < 7 && n > 0) {
				size_t x = rng() % n;
				struct cid prev;
				random_cid(&keys[x].val);
				if (mst_update(t, (uint8_t *)keys[x].key,
				    keys[x].len, &keys[x].val, &prev) != PDS_OK)
					bad_root++;
			} else if (n > 0) {
				size_t x = rng() % n;
				if (mst_delete(t, (uint8_t *)keys[x].key,
				    keys[x].len, NULL) != PDS_OK)
					bad_root++;
				keys[x] = keys[--n];
			}
			total++;
			if (mst_root(t, &got) != PDS_OK)
				bad_root++;
			memcpy(tmp, keys, n * sizeof(*keys));
			pure_root(tmp, n, &want);
			if (!cid_equal(&got, &want)) {
				if (bad_root++ < 3)
					fprintf(stderr, "  seq %d step %zu: %s "
					    "want %s (n=%zu)\n", seq, step,
					    cids(&got), cids(&want), n);
			}
			if (step % 25 == 24) {
				/* Persist, reload lazily, compare, diff. */
				bs_mem_foreach(mst_writes(t), store_cb, store);
				mst_writes_clear(t);
				if (!check_reads(t, keys, n))
					bad_read++;
				if (mst_verify(t, NULL) != PDS_OK)
					bad_verify++;
				if (mst_load(&bs, &snaproot, &old, NULL) ==
				    PDS_OK) {
					memcpy(tmp, keys, n * sizeof(*keys));
					if (!diff_matches(old, t, snap, nsnap,
					    tmp, n, store))
						bad_diff++;
					mst_free(old);
				} else
					bad_diff++;
				memcpy(snap, keys, n * sizeof(*keys));
				nsnap = n;
				snaproot = got;
				mst_free(t);
				if (mst_load(&bs, &got, &t, NULL) != PDS_OK) {
					bad_read++;
					mst_new_empty(&bs, &t);
					n = 0;
				}
			}
		}
		bs_mem_foreach(mst_writes(t), store_cb, store);
		if (!check_reads(t, keys, n))
			bad_read++;
		/* Delete everything: back to the empty root. */
		for (s = n; s > 0; s--)
			mst_delete(t, (uint8_t *)keys[s - 1].key,
			    keys[s - 1].len, NULL);
		mst_root(t, &got);
		pure_root(keys, 0, &want);
		CHECK(cid_equal(&got, &want), "seq %d: emptied tree", seq);
		mst_free(t);
		bs_mem_free(store);
	}
	CHECK(total >= 3000, "%zu steps", total);
	CHECK(bad_root == 0, "%d steps with a wrong root", bad_root);
	CHECK(bad_read == 0, "%d read checks failed", bad_read);
	CHECK(bad_diff == 0, "%d diffs wrong", bad_diff);
	CHECK(bad_verify == 0, "%d verifies failed", bad_verify);
	printf("  (%zu random steps)\n", total);
	t_group_end();
}

/* ---- malformed nodes ------------------------------------------------ */

struct nent {
	const char	*k;		/* suffix */
	int		 p;
	const struct cid *t;
};

static void
mk_node(struct bs_mem *m, const struct cid *l, const struct nent *e, size_t n,
    const struct cid *v, struct cid *out)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	cbor_put_map(&b, 2);
	cbor_put_text(&b, "e", 1);
	cbor_put_array(&b, n);
	for (i = 0; i < n; i++) {
		cbor_put_map(&b, 4);
		cbor_put_text(&b, "k", 1);
		cbor_put_bytes(&b, e[i].k, strlen(e[i].k));
		cbor_put_text(&b, "p", 1);
		cbor_put_int(&b, e[i].p);
		cbor_put_text(&b, "t", 1);
		if (e[i].t)
			cbor_put_link(&b, e[i].t);
		else
			cbor_put_null(&b);
		cbor_put_text(&b, "v", 1);
		cbor_put_link(&b, v);
	}
	cbor_put_text(&b, "l", 1);
	if (l)
		cbor_put_link(&b, l);
	else
		cbor_put_null(&b);
	cid_compute(out, CID_CODEC_DAGCBOR, b.p, b.len);
	bs_mem_put(m, out, b.p, b.len);
	buf_clear(&b);
}

static void
test_malformed(void)
{
	struct bs_mem	*m = bs_mem_new();
	struct blockstore bs = bs_mem_store(m);
	struct cid	 v = cidp(REC_V5), c, c2, ghost;
	struct mst	*t = NULL;
	const char	*why = NULL;
	int		 rc;
	/* depths: ...c2222 0, ...c2322 0, ...czc22 1, ...ju222 2 */
	const char	*k0 = "app.bsky.feed.post/3khuwc44c2222";

	t_group("malformed nodes");
	/* Wrong layer: a depth-0 and a depth-2 key in one node. */
	{
		struct nent e[] = { { k0, 0, NULL },
		    { "ju222", 27, NULL } };
		mk_node(m, NULL, e, 2, &v, &c);
		rc = mst_load(&bs, &c, &t, &why);
		CHECK(rc == PDS_EINVAL && why && strstr(why, "layer"),
		    "wrong layer: %d %s", rc, why);
	}
	/* Unsorted keys. */
	{
		struct nent e[] = { { "app.bsky.feed.post/3khuwc44c2322", 0,
		    NULL }, { "222", 29, NULL } };
		mk_node(m, NULL, e, 2, &v, &c);
		why = NULL;
		rc = mst_load(&bs, &c, &t, &why);
		CHECK(rc == PDS_EINVAL && why && strstr(why, "order"),
		    "unsorted: %d %s", rc, why);
	}
	/* Duplicate keys. */
	{
		struct nent e[] = { { k0, 0, NULL }, { "", 32, NULL } };
		mk_node(m, NULL, e, 2, &v, &c);
		why = NULL;
		rc = mst_load(&bs, &c, &t, &why);
		CHECK(rc == PDS_EINVAL, "duplicate: %d %s", rc, why);
	}
	/* Prefix longer than the previous key; non-zero first prefix. */
	{
		struct nent e[] = { { k0, 0, NULL }, { "322", 40, NULL } };
		mk_node(m, NULL, e, 2, &v, &c);
		why = NULL;
		rc = mst_load(&bs, &c, &t, &why);
		CHECK(rc == PDS_EINVAL && why && strstr(why, "prefix"),
		    "bad prefix: %d %s", rc, why);
		struct nent e2[] = { { k0, 3, NULL } };
		mk_node(m, NULL, e2, 1, &v, &c);
		why = NULL;
		rc = mst_load(&bs, &c, &t, &why);
		CHECK(rc == PDS_EINVAL && why && strstr(why, "prefix"),
		    "first prefix: %d %s", rc, why);
	}
	/* Invalid key syntax inside a node. */
	{
		struct nent e[] = { { "no-slash-here", 0, NULL } };
		mk_node(m, NULL, e, 1, &v, &c);
		why = NULL;
		CHECK(mst_load(&bs, &c, &t, &why) == PDS_EINVAL, "bad key: %s",
		    why);
	}
	/* Subtree below layer 0 (a depth-0 node with an l). */
	{
		struct nent e[] = { { k0, 0, NULL } };
		mk_node(m, NULL, e, 1, &v, &c2);
		mk_node(m, &c2, e, 1, &v, &c);
		why = NULL;
		CHECK(mst_load(&bs, &c, &t, &why) == PDS_EINVAL, "l at layer 0:"
		    " %s", why);
	}
	/* Root with no entries but a subtree. */
	{
		struct nent e[] = { { k0, 0, NULL } };
		mk_node(m, NULL, e, 1, &v, &c2);
		mk_node(m, &c2, NULL, 0, &v, &c);
		why = NULL;
		CHECK(mst_load(&bs, &c, &t, &why) == PDS_EINVAL &&
		    strstr(why, "root"), "entry-less root: %s", why);
	}
	/* Child one layer too low: layer-2 root whose l holds a depth-0 key. */
	{
		struct nent e0[] = { { k0, 0, NULL } };
		struct nent e2[] = { { "app.bsky.feed.post/3khuwc44ju222", 0,
		    NULL } };
		struct cid got;
		mk_node(m, NULL, e0, 1, &v, &c2);
		mk_node(m, &c2, e2, 1, &v, &c);
		why = NULL;
		rc = mst_load(&bs, &c, &t, &why);
		CHECK(rc == PDS_OK, "root loads: %s", why);
		if (rc == PDS_OK) {
			rc = mst_get(t, (const uint8_t *)k0, strlen(k0), &got);
			CHECK(rc == PDS_EINVAL && strstr(mst_why(t), "layer"),
			    "skipped layer: %d %s", rc, mst_why(t));
			CHECK(mst_verify(t, &why) == PDS_EINVAL, "verify: %s",
			    why);
			mst_free(t);
		}
	}
	/* Missing block. */
	{
		struct nent e2[] = { { "app.bsky.feed.post/3khuwc44ju222", 0,
		    NULL } };
		struct cid got;
		cid_compute(&ghost, CID_CODEC_DAGCBOR, "nope", 4);
		mk_node(m, &ghost, e2, 1, &v, &c);
		why = NULL;
		rc = mst_load(&bs, &c, &t, &why);
		CHECK(rc == PDS_OK, "root loads");
		if (rc == PDS_OK) {
			rc = mst_get(t, (const uint8_t *)k0, strlen(k0), &got);
			CHECK(rc == PDS_ETRUNC && strstr(mst_why(t), "missing"),
			    "missing: %d %s", rc, mst_why(t));
			/* A key on the other side needs no missing block. */
			rc = mst_get(t, (const uint8_t *)"app.bsky.feed.post/"
			    "3khuwc44ju222", 32, &got);
			CHECK(rc == PDS_OK, "present key: %d", rc);
			mst_free(t);
		}
		rc = mst_load(&bs, &ghost, &t, &why);
		CHECK(rc == PDS_ETRUNC, "missing root: %d", rc);
	}
	/* Not a node at all. */
	{
		static const uint8_t junk[] = { 0xa1, 0x61, 0x65, 0x80 };
		cid_compute(&c, CID_CODEC_DAGCBOR, junk, sizeof(junk));
		bs_mem_put(m, &c, junk, sizeof(junk));
		CHECK(mst_load(&bs, &c, &t, &why) == PDS_EINVAL, "junk: %s",
		    why);
	}
	/* Non-canonical prefix: loads, but mst_verify refuses it. */
	{
		struct nent e[] = { { k0, 0, NULL },
		    { "app.bsky.feed.post/3khuwc44c2322", 0, NULL } };
		mk_node(m, NULL, e, 2, &v, &c);
		rc = mst_load(&bs, &c, &t, &why);
		CHECK(rc == PDS_OK, "uncompressed loads");
		if (rc == PDS_OK) {
			CHECK(mst_verify(t, &why) == PDS_ENONCANON, "verify: %s",
			    why);
			mst_free(t);
		}
	}
	bs_mem_free(m);
	t_group_end();
}

/* ---- a bigger tree: proofs, paths --------------------------------- */

static void
test_proof_path(void)
{
	struct mst	*t;
	struct bs_mem	*p = bs_mem_new();
	struct cid	 v, root;
	char		 k[64];
	int		 i, bad = 0;

	t_group("record proofs");
	mst_new_empty(NULL, &t);
	rng_state = 42;
	for (i = 0; i < 2000; i++) {
		random_key(k);
		random_cid(&v);
		mst_put(t, (uint8_t *)k, strlen(k), &v, NULL, NULL);
	}
	mst_root(t, &root);
	for (i = 0; i < 50; i++) {
		struct mst *pt;
		struct blockstore bs = bs_mem_store(p);
		struct cid a, b;
		int ra, rb;
		bs_mem_clear(p);
		random_key(k);
		if (mst_proof_path(t, (uint8_t *)k, strlen(k), p) != PDS_OK) {
			bad++;
			continue;
		}
		/* The path alone answers get() the same way. */
		if (mst_load(&bs, &root, &pt, NULL) != PDS_OK) {
			bad++;
			continue;
		}
		ra = mst_get(t, (uint8_t *)k, strlen(k), &a);
		rb = mst_get(pt, (uint8_t *)k, strlen(k), &b);
		if (ra != rb || (ra == PDS_OK && !cid_equal(&a, &b)))
			bad++;
		mst_free(pt);
	}
	CHECK(bad == 0, "%d path proofs wrong", bad);
	mst_free(t);
	bs_mem_free(p);
	t_group_end();
}

int
main(void)
{
	test_key_fixtures();
	test_vectors();
	test_commit_proofs();
	test_malformed();
	test_proof_path();
	test_property();
	return t_done("test_mst");
}
