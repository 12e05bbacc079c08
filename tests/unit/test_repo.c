/*
 * Unit tests: repositories as CAR files (atproto-notes §3, §4.6, V10):
 * export byte for byte, export/import round trips, record proofs, the
 * firehose commit slice (inverted back to the previous root), refusals.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
#include "t.h"

#define PRIV	"9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c"
#define DID	"did:plc:ewvi7nxzyoun6zhxrhs64oiz"
#define V5HEX	"a364746578746b68656c6c6f20776f726c64652474797065726170702e62736b792e666565642e706f7374696372656174656441747818323032342d30312d30315430303a30303a30302e3030305a"

static int
buf_writer(void *arg, const uint8_t *p, size_t n)
{
	return buf_append(arg, p, n);
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
store_cb(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	return bs_mem_put(arg, c, d, len);
}

static void
test_v10(struct pds_key *k)
{
	struct bs_mem	*m = bs_mem_new();
	struct blockstore bs = bs_mem_store(m);
	struct mst	*t;
	struct cid	 rec, root, commit;
	struct buf	 b, car;
	uint8_t		 v5[128], want[128];
	long		 n = t_unhex(v5, sizeof(v5), V5HEX);
	const char	*why = NULL;
	const char	*key = "app.bsky.feed.post/3khuwc44c2222";
	size_t		 off;

	t_group("V10 CAR");
	cid_compute(&rec, CID_CODEC_DAGCBOR, v5, (size_t)n);
	bs_mem_put(m, &rec, v5, (size_t)n);
	mst_new_empty(&bs, &t);
	mst_add(t, (const uint8_t *)key, strlen(key), &rec);
	mst_root(t, &root);
	bs_mem_foreach(mst_writes(t), store_cb, m);
	buf_init(&b, 0);
	CHECK(commit_make(DID, "3khuwc44c2227", &root, k, &b, &commit) ==
	    PDS_OK, "commit");
	bs_mem_put(m, &commit, b.p, b.len);
	buf_init(&car, 0);
	CHECK(repo_export(&bs, &commit, buf_writer, &car, &why) == PDS_OK,
	    "export: %s", why);
	CHECK(car.len == 532, "532 bytes, got %zu", car.len);
	n = t_unhex(want, sizeof(want), "3aa265726f6f747381d82a582500017112201d0be2e64b4fe1516908f2f03d83ea6885ca21f66eb51ffbcdbc95b2b88f0b056776657273696f6e01");
	CHECK(car.len > 59 && memcmp(car.p, want, (size_t)n) == 0, "header");
	off = 59;
	CHECK(car.p[off] == 0xe0 && car.p[off + 1] == 0x01 &&
	    memcmp(car.p + off + 2, commit.b, 36) == 0 &&
	    memcmp(car.p + off + 38, b.p, b.len) == 0, "commit block first");
	off += 2 + 36 + 188;
	CHECK(car.p[off] == 0x81 && car.p[off + 1] == 0x01 &&
	    memcmp(car.p + off + 2, root.b, 36) == 0, "node second");
	off += 2 + 36 + 93;
	CHECK(car.p[off] == 0x73 && memcmp(car.p + off + 1, rec.b, 36) == 0 &&
	    memcmp(car.p + off + 37, v5, 79) == 0 && off + 37 + 79 == 532,
	    "record last");
	buf_clear(&b);
	buf_clear(&car);
	mst_free(t);
	bs_mem_free(m);
	t_group_end();
}

/*
 * A trusted walk (getRepo's, over the daemon's own checked blocks) does
 * not hash nodes again: a node stored under another CID is walked, where
 * the checking walk refuses it.
 */
static void
test_trusted_walk(void)
{
	struct bs_mem	*m = bs_mem_new();
	struct blockstore bs = bs_mem_store(m);
	struct mst_walk_cbs cbs;
	struct mst	*t;
	struct cid	 rec, root, fake;
	const uint8_t	*d;
	size_t		 len;
	const char	*why = NULL;
	const char	*key = "app.bsky.feed.post/3khuwc44c2222";

	t_group("trusted walk");
	cid_compute(&rec, CID_CODEC_DAGCBOR, (const uint8_t *)"\xa0", 1);
	bs_mem_put(m, &rec, (const uint8_t *)"\xa0", 1);
	mst_new_empty(&bs, &t);
	mst_add(t, (const uint8_t *)key, strlen(key), &rec);
	mst_root(t, &root);
	bs_mem_foreach(mst_writes(t), store_cb, m);
	bs_mem_get(m, &root, &d, &len);
	cid_compute(&fake, CID_CODEC_DAGCBOR, (const uint8_t *)"x", 1);
	bs_mem_put(m, &fake, d, len);
	memset(&cbs, 0, sizeof(cbs));
	CHECK(mst_walk_store(&bs, &root, &cbs, &why) == PDS_OK,
	    "checked walk: %s", why);
	CHECK(mst_walk_store(&bs, &fake, &cbs, &why) == PDS_EMISMATCH,
	    "checked walk refuses a node under another CID");
	cbs.trusted = true;
	CHECK(mst_walk_store(&bs, &fake, &cbs, &why) == PDS_OK,
	    "trusted walk takes it: %s", why);
	mst_free(t);
	bs_mem_free(m);
	t_group_end();
}

/* ---- random repos --------------------------------------------------- */

/*
 * repo_export_hinted()'s prefetch: counts, and checks the block is there
 * and is a node.
 */
struct hints {
	const struct bs_mem *m;
	size_t		 n[2], missing, nodes;
};

static struct hints *hints_now;

static void
count_hint(void *ctx, const struct cid *c, int stage)
{
	(void)ctx;
	hints_now->n[stage != 0]++;
	if (!bs_mem_has(hints_now->m, c))
		hints_now->missing++;
}

static int
count_node(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	((struct hints *)arg)->nodes++;
	return 0;
}

static uint64_t rng_state = 7;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct rrec {
	char		 key[64];
	struct cid	 cid;
	bool		 live;
};

/* A post-like record; its CID; stored in m. */
static void
make_record(struct bs_mem *m, int i, struct cid *out)
{
	struct buf	 b;
	char		 text[64];

	buf_init(&b, 0);
	snprintf(text, sizeof(text), "post number %d (%llu)", i,
	    (unsigned long long)(rng() % 1000000));
	cbor_put_map(&b, 3);
	cbor_put_text(&b, "text", 4);
	cbor_put_str(&b, text);
	cbor_put_text(&b, "$type", 5);
	cbor_put_str(&b, "app.bsky.feed.post");
	cbor_put_text(&b, "createdAt", 9);
	cbor_put_str(&b, "2024-01-01T00:00:00.000Z");
	cid_compute(out, CID_CODEC_DAGCBOR, b.p, b.len);
	bs_mem_put(m, out, b.p, b.len);
	buf_clear(&b);
}

static void
random_key(char *out)
{
	static const char b32[] = "234567abcdefghijklmnopqrstuvwxyz";
	static const char *colls[] = { "app.bsky.feed.post",
	    "app.bsky.feed.like", "app.bsky.graph.follow" };
	char	 rk[14];
	int	 i;

	for (i = 0; i < 13; i++)
		rk[i] = b32[rng() % 32];
	rk[0] = "234567abcdefghij"[rng() % 16];
	rk[13] = '\0';
	snprintf(out, 64, "%s/%s", colls[rng() % 3], rk);
}

struct imported {
	struct rrec	*want;
	size_t		 n, seen, bad;
};

static int
check_record(void *arg, const uint8_t *key, size_t klen, const struct cid *c,
    const uint8_t *d, size_t len)
{
	struct imported	*im = arg;
	size_t		 i;

	for (i = 0; i < im->n; i++)
		if (im->want[i].live && strlen(im->want[i].key) == klen &&
		    memcmp(im->want[i].key, key, klen) == 0)
			break;
	if (i == im->n || !cid_equal(&im->want[i].cid, c) ||
	    !cid_matches(c, d, len))
		im->bad++;
	im->seen++;
	return 0;
}

static void
test_round_trip(struct pds_key *k)
{
	static struct rrec recs[1200];
	struct pds_key	*other = NULL;
	int		 round, bad = 0;

	t_group("export/import round trip");
	key_generate(&other, KEY_K256);
	for (round = 0; round < 8; round++) {
		struct bs_mem	*m = bs_mem_new();
		struct blockstore bs = bs_mem_store(m);
		struct mst	*t;
		struct cid	 root, commit;
		struct buf	 b, car;
		struct car_reader r;
		struct repo_import info;
		struct imported	 im;
		size_t		 n = round == 0 ? 0 : 1 + rng() % 1000, i, live;
		const char	*why = NULL;
		int		 rc;

		rng_state = 1000 + (uint64_t)round;
		mst_new_empty(&bs, &t);
		for (i = 0; i < n; i++) {
			random_key(recs[i].key);
			make_record(m, (int)i, &recs[i].cid);
			recs[i].live = mst_add(t, (uint8_t *)recs[i].key,
			    strlen(recs[i].key), &recs[i].cid) == PDS_OK;
		}
		live = 0;
		for (i = 0; i < n; i++) {
			if (recs[i].live && rng() % 4 == 0) {
				mst_delete(t, (uint8_t *)recs[i].key,
				    strlen(recs[i].key), NULL);
				recs[i].live = false;
			}
			live += recs[i].live;
		}
		mst_root(t, &root);
		bs_mem_foreach(mst_writes(t), store_cb, m);
		buf_init(&b, 0);
		commit_make(DID, "3khuwc44c2227", &root, k, &b, &commit);
		bs_mem_put(m, &commit, b.p, b.len);
		buf_init(&car, 0);
		if (repo_export(&bs, &commit, buf_writer, &car, &why) != PDS_OK) {
			bad++;
			fprintf(stderr, "  export: %s\n", why);
		}
		{
			struct hints	 h = { m, { 0, 0 }, 0, 0 };
			struct mst_walk_cbs wc;
			struct commit	 cm;
			struct buf	 car2;

			hints_now = &h;
			buf_init(&car2, 0);
			CHECK(repo_export_hinted(&bs, count_hint, &commit,
			    buf_writer, &car2, &why) == PDS_OK &&
			    car2.len == car.len &&
			    memcmp(car2.p, car.p, car.len) == 0,
			    "round %d: hinted export, same bytes", round);
			/* every node but the root, once each stage */
			memset(&wc, 0, sizeof(wc));
			wc.node = count_node;
			wc.arg = &h;
			CHECK(commit_decode(&cm, b.p, b.len, &why) == PDS_OK &&
			    mst_walk_store(&bs, &cm.data, &wc, &why) ==
			    PDS_OK && h.nodes > 0 && h.n[0] == h.nodes - 1 &&
			    h.n[1] == h.n[0] && h.missing == 0,
			    "round %d: %zu/%zu hints for %zu nodes, %zu missing",
			    round, h.n[0], h.n[1], h.nodes, h.missing);
			buf_clear(&car2);
		}
		CHECK(car_reader_open_mem(&r, car.p, car.len, NULL, &why) ==
		    PDS_OK, "open: %s", why);
		im.want = recs;
		im.n = n;
		im.seen = im.bad = 0;
		rc = repo_import(&r, k, DID, REPO_IMPORT_CHECK_RECORDS,
		    check_record, &im, &info, &why);
		car_reader_close(&r);
		CHECK(rc == PDS_OK, "round %d import: %s", round, why);
		CHECK(cid_equal(&info.commit_cid, &commit) &&
		    cid_equal(&info.commit.data, &root) &&
		    strcmp(info.commit.rev, "3khuwc44c2227") == 0,
		    "round %d: commit, root, rev", round);
		CHECK(info.records == live && im.seen == live && im.bad == 0,
		    "round %d: %zu records, want %zu, %zu bad", round,
		    info.records, live, im.bad);

		/* Wrong key: refused. */
		car_reader_open_mem(&r, car.p, car.len, NULL, NULL);
		rc = repo_import(&r, other, NULL, 0, NULL, NULL, &info, &why);
		car_reader_close(&r);
		CHECK(rc == PDS_ECRYPTO && strstr(why, "signature"),
		    "round %d bad key: %d %s", round, rc, why);
		/* Wrong DID: refused. */
		car_reader_open_mem(&r, car.p, car.len, NULL, NULL);
		rc = repo_import(&r, NULL, "did:plc:someoneelse", 0, NULL, NULL,
		    &info, &why);
		car_reader_close(&r);
		CHECK(rc == PDS_EMISMATCH, "round %d bad did: %d", round, rc);
		buf_clear(&b);
		buf_clear(&car);
		mst_free(t);
		bs_mem_free(m);
	}
	CHECK(bad == 0, "%d exports failed", bad);
	key_free(other);
	t_group_end();
}

/* A CAR of the blocks of `m` minus the one at index `skip` (-1: none). */
struct drop {
	struct buf	*car;
	long		 skip, i;
};

static int
drop_cb(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	struct drop	*dr = arg;

	if (dr->i++ == dr->skip)
		return 0;
	return car_write_block(dr->car, c, d, len);
}

static int
import_buf(const struct buf *car, const struct pds_key *k,
    struct repo_import *info, const char **why)
{
	struct car_reader r;
	int		 rc;

	if ((rc = car_reader_open_mem(&r, car->p, car->len, NULL, why)) !=
	    PDS_OK)
		return rc;
	rc = repo_import(&r, k, NULL, 0, NULL, NULL, info, why);
	car_reader_close(&r);
	return rc;
}

static void
test_refusals(struct pds_key *k)
{
	struct bs_mem	*m = bs_mem_new(), *order = bs_mem_new();
	struct blockstore bs = bs_mem_store(m);
	struct mst	*t;
	struct cid	 root, commit, rec, two[2];
	struct buf	 b, car;
	struct repo_import info;
	struct drop	 dr;
	const char	*why = NULL;
	char		 key[64];
	int		 i, rc;
	long		 nblocks;

	t_group("import refusals");
	rng_state = 99;
	mst_new_empty(&bs, &t);
	for (i = 0; i < 50; i++) {
		random_key(key);
		make_record(m, i, &rec);
		mst_add(t, (uint8_t *)key, strlen(key), &rec);
	}
	mst_root(t, &root);
	bs_mem_foreach(mst_writes(t), store_cb, m);
	buf_init(&b, 0);
	commit_make(DID, "3khuwc44c2227", &root, k, &b, &commit);
	bs_mem_put(m, &commit, b.p, b.len);
	buf_init(&car, 0);
	repo_export(&bs, &commit, buf_writer, &car, NULL);
	/* Re-read the export to get its block order. */
	{
		struct car_reader r;
		struct cid c;
		const uint8_t *d;
		size_t len;
		car_reader_open_mem(&r, car.p, car.len, NULL, NULL);
		while (car_next(&r, &c, &d, &len, NULL) == 1)
			bs_mem_put(order, &c, d, len);
		car_reader_close(&r);
	}
	nblocks = (long)bs_mem_count(order);
	CHECK(nblocks > 50, "%ld blocks", nblocks);
	CHECK(import_buf(&car, k, &info, &why) == PDS_OK, "whole: %s", why);
	/* Drop the commit, the root node, a later node and a record. */
	{
		long skips[] = { 0, 1, 2, nblocks - 1 };
		const char *what[] = { "commit", "root", "node", "record" };
		for (i = 0; i < 4; i++) {
			buf_reset(&car);
			car_write_header(&car, &commit, 1);
			dr.car = &car;
			dr.skip = skips[i];
			dr.i = 0;
			bs_mem_foreach(order, drop_cb, &dr);
			why = NULL;
			rc = import_buf(&car, k, &info, &why);
			CHECK(rc == PDS_ETRUNC && why && strstr(why, "missing"),
			    "missing %s: %d %s", what[i], rc, why);
		}
	}
	/* Two roots. */
	buf_reset(&car);
	two[0] = commit;
	two[1] = root;
	car_write_header(&car, two, 2);
	dr.car = &car;
	dr.skip = -1;
	dr.i = 0;
	bs_mem_foreach(order, drop_cb, &dr);
	rc = import_buf(&car, k, &info, &why);
	CHECK(rc == PDS_EINVAL && strstr(why, "root"), "two roots: %s", why);
	/* Root is not a commit. */
	buf_reset(&car);
	car_write_header(&car, &root, 1);
	dr.i = 0;
	bs_mem_foreach(order, drop_cb, &dr);
	rc = import_buf(&car, k, &info, &why);
	CHECK(rc != PDS_OK, "root is a node: %d %s", rc, why);
	buf_clear(&b);
	buf_clear(&car);
	mst_free(t);
	bs_mem_free(m);
	bs_mem_free(order);
	t_group_end();
}

/* ---- record proofs -------------------------------------------------- */

static void
test_record_proofs(struct pds_key *k)
{
	struct bs_mem	*m = bs_mem_new();
	struct blockstore bs = bs_mem_store(m);
	struct mst	*t;
	struct cid	 root, commit, recs[300];
	char		 keys[300][64];
	struct buf	 b, car;
	int		 i, bad = 0;

	t_group("record proof CARs");
	rng_state = 5;
	mst_new_empty(&bs, &t);
	for (i = 0; i < 300; i++) {
		random_key(keys[i]);
		make_record(m, i, &recs[i]);
		mst_add(t, (uint8_t *)keys[i], strlen(keys[i]), &recs[i]);
	}
	mst_root(t, &root);
	bs_mem_foreach(mst_writes(t), store_cb, m);
	buf_init(&b, 0);
	commit_make(DID, "3khuwc44c2227", &root, k, &b, &commit);
	bs_mem_put(m, &commit, b.p, b.len);
	buf_init(&car, 0);
	for (i = 0; i < 60; i++) {
		struct car_reader r;
		struct bs_mem	*got = bs_mem_new();
		struct blockstore gs = bs_mem_store(got);
		struct mst	*pt = NULL;
		struct commit	 c;
		struct cid	 cc, v;
		const uint8_t	*d;
		size_t		 len;
		const char	*why = NULL;
		bool		 present = i < 40, found;
		char		 key[64];
		int		 rc;

		if (present)
			memcpy(key, keys[i * 7 % 300], sizeof(key));
		else
			random_key(key);
		buf_reset(&car);
		rc = repo_export_record(&bs, &commit, (uint8_t *)key,
		    strlen(key), buf_writer, &car, &found, &why);
		if (rc != PDS_OK || found != present) {
			bad++;
			continue;
		}
		car_reader_open_mem(&r, car.p, car.len, NULL, NULL);
		if (r.nroots != 1 || !cid_equal(&r.roots[0], &commit))
			bad++;
		/* The commit is the first block. */
		if (car_next(&r, &cc, &d, &len, NULL) != 1 ||
		    !cid_equal(&cc, &commit))
			bad++;
		else
			bs_mem_put(got, &cc, d, len);
		while (car_next(&r, &cc, &d, &len, NULL) == 1)
			bs_mem_put(got, &cc, d, len);
		car_reader_close(&r);
		/* The proof alone answers the lookup. */
		if (bs_get(&gs, &commit, &d, &len) != PDS_OK ||
		    commit_decode(&c, d, len, NULL) != PDS_OK ||
		    commit_verify(&c, k) != PDS_OK ||
		    mst_load(&gs, &c.data, &pt, NULL) != PDS_OK) {
			bad++;
			bs_mem_free(got);
			continue;
		}
		rc = mst_get(pt, (uint8_t *)key, strlen(key), &v);
		if (present) {
			if (rc != PDS_OK || !cid_equal(&v, &recs[i * 7 % 300]) ||
			    bs_get(&gs, &v, &d, &len) != PDS_OK)
				bad++;
		} else if (rc != PDS_ENOTFOUND)
			bad++;
		mst_free(pt);
		bs_mem_free(got);
	}
	CHECK(bad == 0, "%d record proofs wrong", bad);
	buf_clear(&b);
	buf_clear(&car);
	mst_free(t);
	bs_mem_free(m);
	t_group_end();
}

/* ---- firehose slice ------------------------------------------------- */

static void
test_commit_slice(struct pds_key *k)
{
	struct bs_mem	*m = bs_mem_new();
	struct blockstore bs = bs_mem_store(m);
	static char	 keys[400][64];
	static struct cid recs[400];
	int		 round, i, bad = 0, rounds = 0;
	size_t		 n = 0;

	t_group("commit slices invert to prevData");
	rng_state = 77;
	for (i = 0; i < 300; i++) {
		random_key(keys[i]);
		make_record(m, i, &recs[i]);
	}
	n = 300;
	{
		struct mst *t;
		struct cid root;
		mst_new_empty(&bs, &t);
		for (i = 0; i < 200; i++)
			mst_add(t, (uint8_t *)keys[i], strlen(keys[i]),
			    &recs[i]);
		mst_root(t, &root);
		bs_mem_foreach(mst_writes(t), store_cb, m);
		mst_free(t);
		for (round = 0; round < 30; round++) {
			struct mst	*nt;
			struct mst_op	 ops[8];
			struct cid	 newrecs[8], prevs[8], newroot, back,
					 commit;
			struct bs_mem	*slice = bs_mem_new();
			struct blockstore ss = bs_mem_store(slice);
			struct buf	 cb;
			const char	*why = NULL;
			int		 nops = 1 + (int)(rng() % 6), j;
			bool		 used[400] = { false };

			mst_load(&bs, &root, &nt, NULL);
			for (j = 0; j < nops; j++) {
				size_t x;
				struct cid cur;
				do
					x = rng() % n;
				while (used[x]);
				used[x] = true;
				ops[j].key = (uint8_t *)keys[x];
				ops[j].klen = strlen(keys[x]);
				if (mst_get(nt, ops[j].key, ops[j].klen, &cur) ==
				    PDS_OK) {
					prevs[j] = cur;
					ops[j].prev = &prevs[j];
					if (rng() % 2) {
						ops[j].action = MST_DELETE;
						ops[j].cid = NULL;
						mst_delete(nt, ops[j].key,
						    ops[j].klen, NULL);
					} else {
						ops[j].action = MST_UPDATE;
						make_record(m, 1000 + j,
						    &newrecs[j]);
						ops[j].cid = &newrecs[j];
						mst_update(nt, ops[j].key,
						    ops[j].klen, &newrecs[j],
						    NULL);
					}
				} else {
					ops[j].action = MST_CREATE;
					ops[j].cid = &recs[x];
					ops[j].prev = NULL;
					mst_add(nt, ops[j].key, ops[j].klen,
					    &recs[x]);
				}
			}
			mst_root(nt, &newroot);
			buf_init(&cb, 0);
			commit_make(DID, "3khuwc44c2227", &newroot, k, &cb,
			    &commit);
			bs_mem_put(slice, &commit, cb.p, cb.len);
			if (repo_commit_blocks(nt, ops, (size_t)nops, &bs,
			    slice, &why) != PDS_OK) {
				fprintf(stderr, "  slice: %s\n", why);
				bad++;
			} else if (mst_invert(&ss, &newroot, ops,
			    (size_t)nops, &back, &why) != PDS_OK ||
			    !cid_equal(&back, &root)) {
				fprintf(stderr, "  invert: %s (%s vs %s)\n",
				    why ? why : "", cids(&back), cids(&root));
				bad++;
			}
			/* Created and updated records are in the slice. */
			for (j = 0; j < nops; j++)
				if (ops[j].cid != NULL &&
				    !bs_mem_has(slice, ops[j].cid))
					bad++;
			rounds++;
			/* Persist and move on from the new tree. */
			bs_mem_foreach(mst_writes(nt), store_cb, m);
			root = newroot;
			mst_free(nt);
			bs_mem_free(slice);
			buf_clear(&cb);
		}
	}
	CHECK(rounds == 30 && bad == 0, "%d of %d slices wrong", bad, rounds);
	bs_mem_free(m);
	t_group_end();
}

int
main(void)
{
	struct pds_key	*k = NULL;

	if (key_from_private_hex(&k, KEY_K256, PRIV, 64) != PDS_OK) {
		fprintf(stderr, "no key\n");
		return 1;
	}
	test_v10(k);
	test_trusted_walk();
	test_round_trip(k);
	test_refusals(k);
	test_record_proofs(k);
	test_commit_slice(k);
	key_free(k);
	return t_done("test_repo");
}
