/*
 * test_pdsd_lexres: the pure parts of lexicon resolution: an NSID's
 * authority, the check of a sync.getRecord proof (built here with the
 * repo writer, then tampered with), and the expansion of a permission
 * set into OAuth scopes (the worked example of the reference's
 * behaviour, and entries it drops).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "blockstore.h"
#include "buf.h"
#include "car.h"
#include "cbor.h"
#include "cid.h"
#include "commit.h"
#include "err.h"
#include "keys.h"
#include "../../pdsd/lexicon_resolve.h"
#include "mst.h"
#include "oauth_permset.h"
#include "../../pdsd/oauth_include.h"
#include "record_proof.h"
#include "repo.h"
#include "t.h"

#define DID	"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
#define COLL	"com.atproto.lexicon.schema"

static void
test_authority(void)
{
	char	 out[256];

	t_group("authority");
	CHECK(lexres_authority("app.bsky.feed.post", out, sizeof(out)) ==
	    PDS_OK && strcmp(out, "feed.bsky.app") == 0, "%s", out);
	CHECK(lexres_authority("edu.university.dept.lab.blogging.getBlogPost",
	    out, sizeof(out)) == PDS_OK &&
	    strcmp(out, "blogging.lab.dept.university.edu") == 0, "%s", out);
	CHECK(lexres_authority("com.example.fooBar", out, sizeof(out)) ==
	    PDS_OK && strcmp(out, "example.com") == 0, "%s", out);
	CHECK(lexres_authority("not an nsid", out, sizeof(out)) ==
	    PDS_EINVAL, "bad nsid");
	CHECK(lexres_authority("com.example.fooBar", out, 5) == PDS_ETOOBIG,
	    "small buffer");
	t_group_end();
}

static int
buf_writer(void *arg, const uint8_t *p, size_t n)
{
	return buf_append(arg, p, n);
}

static int
put_block(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	return bs_mem_put(arg, c, d, len);
}

/* A repo of DID holding a few schema records; the proof of `rkey'. */
static int
make_proof(const struct pds_key *k, const char *rkey, struct buf *car)
{
	static const char *const rkeys[] = { "com.example.a", "com.example.b",
	    "com.example.c", "com.example.d", "com.example.e" };
	struct bs_mem	*m = bs_mem_new();
	struct blockstore bs = bs_mem_store(m);
	struct mst	*t = NULL;
	struct cid	 root, commit, rc;
	struct buf	 b;
	char		 key[128];
	size_t		 i;
	bool		 found;
	int		 ret;

	mst_new_empty(&bs, &t);
	for (i = 0; i < sizeof(rkeys) / sizeof(rkeys[0]); i++) {
		buf_init(&b, 0);
		cbor_put_map(&b, 3);
		cbor_put_text(&b, "id", 2);
		cbor_put_str(&b, rkeys[i]);
		cbor_put_text(&b, "$type", 5);
		cbor_put_str(&b, COLL);
		cbor_put_text(&b, "lexicon", 7);
		cbor_put_int(&b, 1);
		cid_compute(&rc, CID_CODEC_DAGCBOR, b.p, b.len);
		bs_mem_put(m, &rc, b.p, b.len);
		buf_clear(&b);
		snprintf(key, sizeof(key), "%s/%s", COLL, rkeys[i]);
		mst_add(t, (uint8_t *)key, strlen(key), &rc);
	}
	mst_root(t, &root);
	bs_mem_foreach(mst_writes(t), put_block, m);
	buf_init(&b, 0);
	commit_make(DID, "3khuwc44c2227", &root, k, &b, &commit);
	bs_mem_put(m, &commit, b.p, b.len);
	buf_clear(&b);
	snprintf(key, sizeof(key), "%s/%s", COLL, rkey);
	ret = repo_export_record(&bs, &commit, (uint8_t *)key, strlen(key),
	    buf_writer, car, &found, NULL);
	mst_free(t);
	bs_mem_free(m);
	return ret;
}

static void
test_proof(void)
{
	struct pds_key	*k = NULL, *other = NULL;
	struct buf	 car, rec;
	struct cid	 c;
	const char	*why = NULL;
	size_t		 i;
	int		 rc, bad = 0;

	t_group("record proofs");
	key_generate(&k, KEY_K256);
	key_generate(&other, KEY_K256);
	buf_init(&car, 0);
	buf_init(&rec, 0);
	CHECK(make_proof(k, "com.example.c", &car) == PDS_OK, "export");
	rc = record_proof_verify(car.p, car.len, DID, k, COLL,
	    "com.example.c", &rec, &c, &why);
	CHECK(rc == PDS_OK && rec.len > 0, "verifies: %d %s", rc, why);
	CHECK(rec.len > 0 && memmem(rec.p, rec.len, "com.example.c", 13) !=
	    NULL, "the record's bytes");
	buf_reset(&rec);
	CHECK(record_proof_verify(car.p, car.len, DID, other, COLL,
	    "com.example.c", &rec, &c, &why) == PDS_ECRYPTO,
	    "another key: %s", why);
	CHECK(record_proof_verify(car.p, car.len,
	    "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb", k, COLL, "com.example.c",
	    &rec, &c, &why) == PDS_EMISMATCH, "another DID: %s", why);
	/* The proof of c is not a proof of b (its record is not there). */
	rc = record_proof_verify(car.p, car.len, DID, k, COLL,
	    "com.example.b", &rec, &c, &why);
	CHECK(rc != PDS_OK, "another key of the tree: %d", rc);
	/* A proof of absence. */
	buf_reset(&car);
	CHECK(make_proof(k, "com.example.zzz", &car) == PDS_OK, "export");
	CHECK(record_proof_verify(car.p, car.len, DID, k, COLL,
	    "com.example.zzz", &rec, &c, &why) == PDS_ENOTFOUND,
	    "absent: %s", why);
	/* Every single flipped byte and every truncation is refused. */
	buf_reset(&car);
	make_proof(k, "com.example.c", &car);
	for (i = 0; i < car.len; i++) {
		car.p[i] ^= 0x01;
		buf_reset(&rec);
		if (record_proof_verify(car.p, car.len, DID, k, COLL,
		    "com.example.c", &rec, &c, &why) == PDS_OK)
			bad++;
		car.p[i] ^= 0x01;
		if (record_proof_verify(car.p, i, DID, k, COLL,
		    "com.example.c", &rec, &c, &why) == PDS_OK)
			bad++;
	}
	CHECK(bad == 0, "%d tampered proofs accepted", bad);
	buf_clear(&car);
	buf_clear(&rec);
	key_free(k);
	key_free(other);
	t_group_end();
}

/* The expansion of set (JSON text) included as nsid with aud. */
static void
expand_is(const char *set, const char *nsid, const char *aud,
    const char *want)
{
	json_t		*j = json_loads(set, 0, NULL);
	struct buf	 out;
	int		 rc;

	buf_init(&out, 0);
	rc = oauth_permset_expand(j, nsid, aud, &out);
	buf_putc(&out, '\0');
	CHECK(rc == PDS_OK && strcmp((char *)out.p, want) == 0,
	    "%s\n  got  %s\n  want %s", nsid, (char *)out.p, want);
	buf_clear(&out);
	json_decref(j);
}

static void
test_expand(void)
{
	t_group("permission sets");
	expand_is("{\"type\":\"permission-set\",\"permissions\":["
	    "{\"type\":\"permission\",\"resource\":\"repo\","
	    "\"collection\":[\"com.example.post\"]},"
	    "{\"type\":\"permission\",\"resource\":\"repo\","
	    "\"collection\":[\"com.example.like\"],\"action\":[\"delete\"]},"
	    "{\"type\":\"permission\",\"resource\":\"rpc\","
	    "\"lxm\":[\"com.example.getFeed\"],\"inheritAud\":true},"
	    "{\"type\":\"permission\",\"resource\":\"rpc\","
	    "\"lxm\":[\"com.example.getSkeleton\"],\"aud\":\"*\"},"
	    "{\"type\":\"permission\",\"resource\":\"rpc\","
	    "\"lxm\":[\"com.example.fixed\"],\"aud\":\"did:web:x.com#y\"},"
	    "{\"type\":\"permission\",\"resource\":\"repo\","
	    "\"collection\":[\"org.other.thing\"]},"
	    "{\"type\":\"permission\",\"resource\":\"repo\","
	    "\"collection\":[\"com.example.sub.thing\"]},"
	    "{\"type\":\"permission\",\"resource\":\"blob\","
	    "\"accept\":[\"*/*\"]},"
	    "{\"type\":\"permission\",\"resource\":\"repo\","
	    "\"collection\":[\"com.example.odd\"],\"color\":\"blue\"}]}",
	    "com.example.authFull", "did:web:api.example.com#svc",
	    "repo:com.example.post repo:com.example.like?action=delete "
	    "rpc:com.example.getFeed?aud=did:web:api.example.com%23svc "
	    "rpc:com.example.getSkeleton?aud=* repo:com.example.sub.thing");
	/* inheritAud without an include aud: dropped. */
	expand_is("{\"permissions\":[{\"type\":\"permission\","
	    "\"resource\":\"rpc\",\"lxm\":[\"com.example.getFeed\"],"
	    "\"inheritAud\":true}]}", "com.example.authFull", NULL, "");
	/* Wildcards, strings where arrays go, an empty array: dropped. */
	expand_is("{\"permissions\":["
	    "{\"type\":\"permission\",\"resource\":\"repo\","
	    "\"collection\":[\"*\"]},"
	    "{\"type\":\"permission\",\"resource\":\"repo\","
	    "\"collection\":\"com.example.post\"},"
	    "{\"type\":\"permission\",\"resource\":\"repo\","
	    "\"collection\":[]},"
	    "{\"type\":\"permission\",\"resource\":\"rpc\","
	    "\"lxm\":[\"com.example.a\",\"com.example.b\"],\"aud\":\"*\"},"
	    "{\"type\":\"permission\",\"resource\":\"repo\","
	    "\"collection\":[\"com.example\"]}]}",
	    "com.example.authFull", NULL,
	    "rpc?lxm=com.example.a&lxm=com.example.b&aud=*");
	expand_is("{\"type\":\"permission-set\"}", "com.example.x", NULL, "");
	CHECK(oauth_include_present("atproto include:com.example.x"),
	    "present");
	CHECK(!oauth_include_present("atproto repo:com.example.include"),
	    "absent");
	t_group_end();
}

int
main(void)
{
	test_authority();
	test_proof();
	test_expand();
	return t_done("test_pdsd_lexres");
}
