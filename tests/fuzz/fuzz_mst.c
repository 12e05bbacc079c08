/*
 * fuzz_mst: the MST on hostile input.  Must never crash or leak.
 *
 * First byte even: the rest is one node block.  It is parsed on its own,
 * then loaded as the root of a tree (its subtrees are missing) and put
 * through verify, listing, lookups, mutations and a diff.
 * First byte odd: the rest is a script of operations (two bytes each:
 * op, key number) on a tree of 256 possible keys; afterwards the tree
 * must verify, reload from its own blocks to the same root, and hold
 * exactly the keys the script left.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockstore.h"
#include "err.h"
#include "mst.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
count_leaf(void *arg, const uint8_t *key, size_t klen, const struct cid *v)
{
	(*(size_t *)arg)++;
	return 0;
}

static int
count_entry(void *arg, const uint8_t *key, size_t klen, const struct cid *v,
    const struct cid *right)
{
	(*(size_t *)arg)++;
	return 0;
}

static void
one_node(const uint8_t *data, size_t len)
{
	struct bs_mem		*m = bs_mem_new();
	struct blockstore	 bs = bs_mem_store(m);
	struct mst_node_info	 info;
	struct mst		*t = NULL, *e = NULL;
	struct mst_diff		 d;
	struct cid		 c, v, root;
	const char		*why = NULL;
	size_t			 n = 0;
	static const char	*keys[] = { "app.bsky.feed.post/3khuwc44c2222",
	    "a/b", "zzz/zzz", "app.bsky.feed.post/3khuwc44ju222", "m/m" };
	size_t			 i;

	if (m == NULL)
		return;
	(void)mst_node_parse(data, len, -1, &info, count_entry, &n, &why);
	(void)mst_node_parse(data, len, 0, &info, NULL, NULL, &why);
	cid_compute(&c, CID_CODEC_DAGCBOR, data, len);
	if (bs_mem_put(m, &c, data, len) != PDS_OK ||
	    mst_load(&bs, &c, &t, &why) != PDS_OK) {
		bs_mem_free(m);
		return;
	}
	(void)mst_verify(t, &why);
	n = 0;
	(void)mst_walk(t, count_leaf, &n);
	(void)mst_list(t, (const uint8_t *)"app.", 4, NULL, 0, true, 3,
	    count_leaf, &n);
	cid_compute(&v, CID_CODEC_DAGCBOR, "v", 1);
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const uint8_t *k = (const uint8_t *)keys[i];
		size_t kl = strlen(keys[i]);
		(void)mst_get(t, k, kl, NULL);
		if (i % 2 == 0)
			(void)mst_put(t, k, kl, &v, NULL, NULL);
		else
			(void)mst_delete(t, k, kl, NULL);
	}
	if (mst_root(t, &root) == PDS_OK && mst_new_empty(NULL, &e) ==
	    PDS_OK && mst_diff(e, t, &d) == PDS_OK)
		mst_diff_clear(&d);
	mst_free(e);
	mst_free(t);
	bs_mem_free(m);
}

static void
script(const uint8_t *data, size_t len)
{
	uint8_t		 live[256];
	struct cid	 vals[256], v, root, root2;
	struct mst	*t, *t2;
	struct bs_mem	*store;
	struct blockstore bs;
	size_t		 i, n = 0, count;
	char		 key[32];

	if (mst_new_empty(NULL, &t) != PDS_OK)
		return;
	memset(live, 0, sizeof(live));
	for (i = 0; i + 1 < len && i < 4000; i += 2) {
		unsigned op = data[i] % 4, kn = data[i + 1];
		int kl = snprintf(key, sizeof(key), "col.x/k%u", kn);
		cid_compute(&v, CID_CODEC_DAGCBOR, data + i, 2);
		switch (op) {
		case 0:
		case 1:
			if (mst_put(t, (uint8_t *)key, (size_t)kl, &v, NULL,
			    NULL) != PDS_OK)
				abort();
			n += !live[kn];
			live[kn] = 1;
			vals[kn] = v;
			break;
		case 2:
			if (mst_delete(t, (uint8_t *)key, (size_t)kl, NULL) !=
			    (live[kn] ? PDS_OK : PDS_ENOTFOUND))
				abort();
			n -= live[kn];
			live[kn] = 0;
			break;
		default:
			if (data[i] & 0x80 && mst_root(t, NULL) != PDS_OK)
				abort();
			break;
		}
	}
	if (mst_root(t, &root) != PDS_OK || mst_verify(t, NULL) != PDS_OK ||
	    mst_count(t, &count) != PDS_OK || count != n)
		abort();
	for (i = 0; i < 256; i++) {
		struct cid got;
		int kl = snprintf(key, sizeof(key), "col.x/k%zu", i);
		int rc = mst_get(t, (uint8_t *)key, (size_t)kl, &got);
		if (live[i] ? (rc != PDS_OK || !cid_equal(&got, &vals[i])) :
		    rc != PDS_ENOTFOUND)
			abort();
	}
	store = mst_writes(t);
	bs = bs_mem_store(store);
	if (mst_load(&bs, &root, &t2, NULL) != PDS_OK ||
	    mst_count(t2, &count) != PDS_OK || count != n ||
	    mst_root(t2, &root2) != PDS_OK || !cid_equal(&root, &root2))
		abort();
	mst_free(t2);
	mst_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	if (data[0] % 2 == 0)
		one_node(data + 1, len - 1);
	else
		script(data + 1, len - 1);
	return 0;
}
