/*
 * mst_bench: how fast the repository core is (not a test).
 *
 *   - inserts per second into a tree growing to N keys (default 100000),
 *     computing the root after every insert, every 100 inserts, and only
 *     at the end;
 *   - single-record commits on a tree of N keys loaded lazily from a
 *     block store (root + covering proof per write, as a PDS does);
 *   - CAR export and import throughput of the N-record repo.
 *
 * Usage: mst_bench [N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "blockstore.h"
#include "buf.h"
#include "car.h"
#include "cbor.h"
#include "cid.h"
#include "commit.h"
#include "err.h"
#include "keys.h"
#include "mst.h"
#include "repo.h"
#include "tid.h"

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
rss_kb(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static uint64_t rng_state = 1;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct kv {
	char		 key[48];
	size_t		 len;
	struct cid	 val;
};

static void
make_keys(struct kv *kv, size_t n, struct bs_mem *records)
{
	static const char *colls[] = { "app.bsky.feed.post",
	    "app.bsky.feed.like", "app.bsky.graph.follow" };
	uint64_t	 base = 1704067200000000ULL;
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		char rk[TID_LEN + 1], text[48];
		tid_from_parts(rk, base + i * 1000 + rng() % 1000,
		    (unsigned)(rng() % 32));
		kv[i].len = (size_t)snprintf(kv[i].key, sizeof(kv[i].key),
		    "%s/%s", colls[rng() % 3], rk);
		snprintf(text, sizeof(text), "post %zu %llu", i,
		    (unsigned long long)rng());
		buf_reset(&b);
		cbor_put_map(&b, 3);
		cbor_put_text(&b, "text", 4);
		cbor_put_str(&b, text);
		cbor_put_text(&b, "$type", 5);
		cbor_put_str(&b, "app.bsky.feed.post");
		cbor_put_text(&b, "createdAt", 9);
		cbor_put_str(&b, "2024-01-01T00:00:00.000Z");
		cid_compute(&kv[i].val, CID_CODEC_DAGCBOR, b.p, b.len);
		if (records != NULL)
			bs_mem_put(records, &kv[i].val, b.p, b.len);
	}
	buf_clear(&b);
}

static double
bench_inserts(const struct kv *kv, size_t n, size_t every, struct cid *root)
{
	struct mst	*t;
	double		 t0 = now();
	size_t		 i;

	mst_new_empty(NULL, &t);
	for (i = 0; i < n; i++) {
		if (mst_add(t, (const uint8_t *)kv[i].key, kv[i].len,
		    &kv[i].val) != PDS_OK) {
			fprintf(stderr, "add failed\n");
			exit(1);
		}
		if (every > 0 && (i + 1) % every == 0) {
			mst_root(t, root);
			mst_writes_clear(t);
		}
	}
	mst_root(t, root);
	t0 = now() - t0;
	mst_free(t);
	return (double)n / t0;
}

struct sink {
	size_t	 bytes;
};

static int
sink_write(void *arg, const uint8_t *p, size_t n)
{
	((struct sink *)arg)->bytes += n;
	return PDS_OK;
}

static int
buf_write(void *arg, const uint8_t *p, size_t n)
{
	return buf_append(arg, p, n);
}

int
main(int argc, char **argv)
{
	size_t		 n = 100000, i;
	struct kv	*kv;
	struct bs_mem	*store;
	struct blockstore bs;
	struct cid	 root, r2, commit;
	struct mst	*t;
	struct pds_key	*k = NULL;
	struct buf	 cb, car;
	struct sink	 s = { 0 };
	double		 t0, dt;
	const char	*why = NULL;
	char		*end;

	if (argc > 1) {
		n = strtoul(argv[1], &end, 10);
		if (*end != '\0' || n == 0 || n > 5000000) {
			fprintf(stderr, "usage: mst_bench [N]\n");
			return 2;
		}
	}
	if ((kv = calloc(n + 1000, sizeof(*kv))) == NULL ||
	    (store = bs_mem_new()) == NULL)
		return 1;
	bs = bs_mem_store(store);
	make_keys(kv, n + 1000, store);
	printf("mst_bench: %zu keys\n", n);

	printf("  inserts, root after every insert:  %9.0f /s\n",
	    bench_inserts(kv, n, 1, &root));
	printf("  inserts, root every 100 inserts:   %9.0f /s\n",
	    bench_inserts(kv, n, 100, &r2));
	printf("  inserts, root once at the end:     %9.0f /s\n",
	    bench_inserts(kv, n, 0, &r2));
	if (!cid_equal(&root, &r2)) {
		fprintf(stderr, "roots differ\n");
		return 1;
	}

	/* Persist the tree, then commit single writes on a lazy load. */
	mst_new_empty(&bs, &t);
	for (i = 0; i < n; i++)
		mst_add(t, (const uint8_t *)kv[i].key, kv[i].len, &kv[i].val);
	mst_root(t, &root);
	bs_mem_merge(store, mst_writes(t));
	mst_free(t);
	{
		struct bs_mem *slice = bs_mem_new();
		struct cid cur = root;
		size_t nodes = 0;
		t0 = now();
		for (i = 0; i < 1000; i++) {
			struct mst_op op = { MST_CREATE,
			    (const uint8_t *)kv[n + i].key, kv[n + i].len,
			    &kv[n + i].val, NULL };
			mst_load(&bs, &cur, &t, NULL);
			mst_add(t, op.key, op.klen, op.cid);
			bs_mem_clear(slice);
			repo_commit_blocks(t, &op, 1, &bs, slice, NULL);
			nodes += bs_mem_count(slice);
			mst_root(t, &cur);
			bs_mem_merge(store, mst_writes(t));
			mst_free(t);
		}
		dt = now() - t0;
		printf("  commits of one create on a loaded %zu-key tree "
		    "(load, add, root, slice): %.0f /s, %.1f blocks/slice\n",
		    n, 1000 / dt, (double)nodes / 1000);
		bs_mem_free(slice);
		root = cur;
	}

	/* Export. */
	key_from_private_hex(&k, KEY_K256,
	    "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
	    64);
	buf_init(&cb, 0);
	commit_make("did:plc:ewvi7nxzyoun6zhxrhs64oiz", "3khuwc44c2227", &root,
	    k, &cb, &commit);
	bs_mem_put(store, &commit, cb.p, cb.len);
	t0 = now();
	if (repo_export(&bs, &commit, sink_write, &s, &why) != PDS_OK) {
		fprintf(stderr, "export: %s\n", why);
		return 1;
	}
	dt = now() - t0;
	printf("  CAR export: %.1f MB in %.3f s = %.1f MB/s\n",
	    (double)s.bytes / 1e6, dt, (double)s.bytes / 1e6 / dt);

	/* Import (into memory, with records checked). */
	buf_init(&car, 0);
	repo_export(&bs, &commit, buf_write, &car, NULL);
	{
		struct car_reader r;
		struct repo_import info;
		long before = rss_kb();
		t0 = now();
		car_reader_open_mem(&r, car.p, car.len, NULL, NULL);
		if (repo_import(&r, k, NULL, REPO_IMPORT_CHECK_RECORDS, NULL,
		    NULL, &info, &why) != PDS_OK) {
			fprintf(stderr, "import: %s\n", why);
			return 1;
		}
		car_reader_close(&r);
		dt = now() - t0;
		printf("  CAR import (verify + walk + records): %zu records, "
		    "%.1f MB in %.3f s = %.1f MB/s; block map %.1f MB "
		    "(peak RSS %ld MB, before %ld MB)\n", info.records,
		    (double)car.len / 1e6, dt, (double)car.len / 1e6 / dt,
		    (double)info.mem_bytes / 1e6, rss_kb() / 1024,
		    before / 1024);
	}
	buf_clear(&car);
	buf_clear(&cb);
	key_free(k);
	bs_mem_free(store);
	free(kv);
	return 0;
}
