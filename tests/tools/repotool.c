/*
 * repotool: build and import repository CARs from the command line, so
 * that the interop tests can check our repo code against the reference
 * library (@atproto/repo).
 *
 *   repotool build --seed N --records N --deletes N --key HEX --did DID
 *	Build a repo of N random post-like records (collection
 *	app.bsky.feed.post, TID record keys), delete some of them again,
 *	sign the commit with the k256 key HEX, write the CAR to stdout and
 *	{"commit":"<cid>","root":"<cid>","rev":"<tid>","records":N} on
 *	stderr.
 *   repotool import [--pubkey DIDKEY] [--did DID] < in.car
 *	Check the repo (signature if a key is given) and print
 *	{"commit","root","rev","did","records":{"<key>":"<cid>",...}}.
 *
 * Exit status 0 on success, 1 on a refused repo, 2 on bad usage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

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

static void
usage(void)
{
	fprintf(stderr,
	    "usage: repotool build --seed N --records N --deletes N "
	    "--key HEX --did DID > out.car\n"
	    "       repotool import [--pubkey DIDKEY] [--did DID] < in.car\n");
	exit(2);
}

static uint64_t
num(const char *s)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		usage();
	return v;
}

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *
cidstr(const struct cid *c)
{
	static char	 s[2][CID_STR_MAX];
	static int	 i;

	i ^= 1;
	cid_format(c, s[i], sizeof(s[i]));
	return s[i];
}

/* A post-like record, stored in m. */
static int
make_record(struct bs_mem *m, uint64_t n, uint64_t micros, struct cid *out)
{
	static const char *words[] = { "hello", "world", "bluesky", "repo",
	    "merkle", "search", "tree", "caf\xc3\xa9", "\xe6\x97\xa5",
	    "\xf0\x9f\x98\x80", "atproto", "post" };
	struct buf	 b;
	char		 text[256], when[32];
	size_t		 tl = 0, nw = 1 + rng() % 12, i;
	time_t		 secs = (time_t)(micros / 1000000);
	struct tm	 tm;
	int		 rc = PDS_OK;
	bool		 langs = rng() % 2;

	for (i = 0; i < nw && tl < sizeof(text) - 32; i++) {
		int w = snprintf(text + tl, sizeof(text) - tl, "%s%s",
		    i ? " " : "", words[rng() % 12]);
		if (w > 0)
			tl += (size_t)w;
	}
	snprintf(text + tl, sizeof(text) - tl, " #%llu",
	    (unsigned long long)n);
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03uZ",
	    (unsigned)(micros / 1000 % 1000));
	buf_init(&b, 0);
	/* Keys in canonical order: text, $type, langs, createdAt. */
	rc |= cbor_put_map(&b, langs ? 4 : 3);
	rc |= cbor_put_text(&b, "text", 4);
	rc |= cbor_put_str(&b, text);
	rc |= cbor_put_text(&b, "$type", 5);
	rc |= cbor_put_str(&b, "app.bsky.feed.post");
	if (langs) {
		rc |= cbor_put_text(&b, "langs", 5);
		rc |= cbor_put_array(&b, 1);
		rc |= cbor_put_str(&b, "en");
	}
	rc |= cbor_put_text(&b, "createdAt", 9);
	rc |= cbor_put_str(&b, when);
	if (rc == PDS_OK) {
		cid_compute(out, CID_CODEC_DAGCBOR, b.p, b.len);
		rc = bs_mem_put(m, out, b.p, b.len);
	}
	buf_clear(&b);
	return rc;
}

static int
write_stdout(void *arg, const uint8_t *p, size_t n)
{
	return fwrite(p, 1, n, stdout) == n ? PDS_OK : PDS_EIO;
}

static int
cmd_build(int argc, char **argv)
{
	struct bs_mem	*m;
	struct blockstore bs;
	struct pds_key	*k = NULL;
	struct mst	*t;
	struct cid	 root, commit, *vals;
	struct buf	 cb;
	const char	*keyhex = NULL, *did = NULL, *why = NULL;
	char		 rev[TID_LEN + 1], (*keys)[64];
	uint64_t	 seed = 0, nrec = 0, ndel = 0, base, i, live;
	bool		*alive;
	int		 a, rc;

	for (a = 2; a < argc; a++) {
		if (a + 1 >= argc)
			usage();
		if (strcmp(argv[a], "--seed") == 0)
			seed = num(argv[++a]);
		else if (strcmp(argv[a], "--records") == 0)
			nrec = num(argv[++a]);
		else if (strcmp(argv[a], "--deletes") == 0)
			ndel = num(argv[++a]);
		else if (strcmp(argv[a], "--key") == 0)
			keyhex = argv[++a];
		else if (strcmp(argv[a], "--did") == 0)
			did = argv[++a];
		else
			usage();
	}
	if (keyhex == NULL || did == NULL || nrec > 10000000)
		usage();
	if (key_from_private_hex(&k, KEY_K256, keyhex, strlen(keyhex)) !=
	    PDS_OK) {
		fprintf(stderr, "repotool: bad --key\n");
		return 2;
	}
	rng_state = seed * 0x2545f4914f6cdd1dULL + 1;
	m = bs_mem_new();
	bs = bs_mem_store(m);
	keys = calloc(nrec ? nrec : 1, sizeof(*keys));
	vals = calloc(nrec ? nrec : 1, sizeof(*vals));
	alive = calloc(nrec ? nrec : 1, sizeof(*alive));
	if (m == NULL || keys == NULL || vals == NULL || alive == NULL ||
	    mst_new_empty(&bs, &t) != PDS_OK) {
		fprintf(stderr, "repotool: out of memory\n");
		return 1;
	}
	/* Record keys are TIDs from 2024 on, a few seconds apart. */
	base = 1704067200000000ULL + (seed % 1000) * 86400000000ULL;
	for (i = 0; i < nrec; i++) {
		uint64_t micros = base + i * 1000000 + rng() % 999999;
		char rk[TID_LEN + 1];
		tid_from_parts(rk, micros, (unsigned)(rng() % 32));
		snprintf(keys[i], 64, "app.bsky.feed.post/%s", rk);
		if ((rc = make_record(m, i, micros, &vals[i])) != PDS_OK ||
		    (rc = mst_add(t, (uint8_t *)keys[i], strlen(keys[i]),
		    &vals[i])) != PDS_OK) {
			if (rc == PDS_EEXIST)
				continue;
			fprintf(stderr, "repotool: add: %s\n", pds_strerror(rc));
			return 1;
		}
		alive[i] = true;
	}
	/* Delete ndel distinct records (or all of them). */
	live = 0;
	for (i = 0; i < nrec; i++)
		live += alive[i];
	for (i = 0; i < ndel && live > 0; i++) {
		uint64_t x = rng() % nrec;
		while (!alive[x])
			x = (x + 1) % nrec;
		if (mst_delete(t, (uint8_t *)keys[x], strlen(keys[x]), NULL) !=
		    PDS_OK) {
			fprintf(stderr, "repotool: delete failed\n");
			return 1;
		}
		alive[x] = false;
		live--;
	}
	if ((rc = mst_root(t, &root)) != PDS_OK ||
	    (rc = bs_mem_merge(m, mst_writes(t))) != PDS_OK) {
		fprintf(stderr, "repotool: %s\n", pds_strerror(rc));
		return 1;
	}
	tid_from_parts(rev, base + (nrec + 10) * 1000000, 0);
	buf_init(&cb, 0);
	if ((rc = commit_make(did, rev, &root, k, &cb, &commit)) != PDS_OK ||
	    (rc = bs_mem_put(m, &commit, cb.p, cb.len)) != PDS_OK) {
		fprintf(stderr, "repotool: commit: %s\n", pds_strerror(rc));
		return 1;
	}
	if ((rc = repo_export(&bs, &commit, write_stdout, NULL, &why)) !=
	    PDS_OK || fflush(stdout) != 0) {
		fprintf(stderr, "repotool: export: %s\n", why ? why :
		    pds_strerror(rc));
		return 1;
	}
	fprintf(stderr, "{\"commit\":\"%s\",\"root\":\"%s\",\"rev\":\"%s\","
	    "\"records\":%llu}\n", cidstr(&commit), cidstr(&root), rev,
	    (unsigned long long)live);
	buf_clear(&cb);
	mst_free(t);
	bs_mem_free(m);
	key_free(k);
	free(keys);
	free(vals);
	free(alive);
	return 0;
}

static int
collect(void *arg, const uint8_t *key, size_t klen, const struct cid *c,
    const uint8_t *d, size_t len)
{
	json_t	*recs = arg;
	char	 k[MST_KEY_MAX + 1];

	memcpy(k, key, klen);
	k[klen] = '\0';
	return json_object_set_new(recs, k, json_string(cidstr(c))) == 0 ?
	    0 : PDS_ENOMEM;
}

static int
cmd_import(int argc, char **argv)
{
	struct car_reader r;
	struct repo_import info;
	struct pds_key	*pub = NULL;
	const char	*didkey = NULL, *did = NULL, *why = NULL;
	json_t		*out, *recs;
	char		*s;
	int		 a, rc;

	for (a = 2; a < argc; a++) {
		if (a + 1 >= argc)
			usage();
		if (strcmp(argv[a], "--pubkey") == 0)
			didkey = argv[++a];
		else if (strcmp(argv[a], "--did") == 0)
			did = argv[++a];
		else
			usage();
	}
	if (didkey != NULL && key_from_didkey(&pub, didkey, strlen(didkey),
	    &why) != PDS_OK) {
		fprintf(stderr, "repotool: bad --pubkey: %s\n", why);
		return 2;
	}
	if ((rc = car_reader_open(&r, car_read_stdio, stdin, NULL, &why)) !=
	    PDS_OK) {
		fprintf(stderr, "repotool: CAR: %s\n", why);
		return 1;
	}
	recs = json_object();
	rc = repo_import(&r, pub, did, REPO_IMPORT_CHECK_RECORDS, collect,
	    recs, &info, &why);
	car_reader_close(&r);
	if (rc != PDS_OK) {
		fprintf(stderr, "repotool: import refused: %s (%s)\n",
		    why ? why : "?", pds_strerror(rc));
		if (info.missing > 0 || rc == PDS_ETRUNC)
			fprintf(stderr, "repotool: missing block %s\n",
			    cidstr(&info.first_missing));
		json_decref(recs);
		key_free(pub);
		return 1;
	}
	out = json_object();
	json_object_set_new(out, "commit", json_string(cidstr(
	    &info.commit_cid)));
	json_object_set_new(out, "root", json_string(cidstr(
	    &info.commit.data)));
	json_object_set_new(out, "rev", json_string(info.commit.rev));
	json_object_set_new(out, "did", json_string(info.commit.did));
	json_object_set_new(out, "version", json_integer(info.commit.version));
	json_object_set_new(out, "nodes", json_integer((json_int_t)info.nodes));
	json_object_set_new(out, "blocks",
	    json_integer((json_int_t)info.blocks));
	json_object_set_new(out, "records", recs);
	s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(out);
	key_free(pub);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (key_init() != PDS_OK) {
		fprintf(stderr, "repotool: crypto init failed\n");
		return 1;
	}
	if (strcmp(argv[1], "build") == 0)
		return cmd_build(argc, argv);
	if (strcmp(argv[1], "import") == 0)
		return cmd_import(argc, argv);
	usage();
	return 2;
}
