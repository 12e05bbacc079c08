/*
 * test_pdsd_store_repo: the repository SQL (pdsd/store_repo.c), driven
 * through store_repo_apply() as the repo writer drives it.  A commit's
 * blocks, records, blob references and head read back; a commit that
 * does not build on the head is PDS_EMISMATCH; one that refers to a
 * blob without a row is PDS_ENOTFOUND (with a reason, and no XRPC
 * name) and, in its savepoint, leaves nothing behind; an uploaded blob
 * is temporary until a record refers to it and its row goes when the
 * last record does; listings page and skip taken-down records; getRepo's
 * record stream gives rows in the tree's order, and says where that
 * order is not the rows'.  A
 * database from before repo_blocks was clustered (schema 8) keeps its
 * blocks through the upgrade.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "blockstore.h"
#include "buf.h"
#include "cid.h"
#include "err.h"
#include "log.h"
#include "mst.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/store_admin.h"
#include "../../pdsd/store_events.h"
#include "../../pdsd/store_internal.h"
#include "../../pdsd/store_repo.h"
#include "t.h"
#include "t_store.h"

static const char did[] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
static const char ts[] = "2024-01-02T03:04:05.678Z";
static const char coll[] = "app.bsky.feed.post";

struct seen {
	int	 n;
	char	 s[512];
};

static int
text_cb(void *arg, const char *c)
{
	struct seen	*g = arg;
	size_t		 len = strlen(g->s);

	g->n++;
	snprintf(g->s + len, sizeof(g->s) - len, "%s;", c);
	return 0;
}

static int
rec_cb(void *arg, const struct store_record_listed *l)
{
	return text_cb(arg, l->rkey);
}

static int
repo_cb(void *arg, const struct store_repo_listed *l)
{
	return text_cb(arg, l->rev);
}

static void
gone_cb(void *arg, const char *d, const char *cid)
{
	text_cb(arg, cid);
}

static void
temp_cb(void *arg, const char *d, const char *cid)
{
	text_cb(arg, cid);
}

static int
blocks_cb(void *arg, const char *cid, const uint8_t *data, size_t len)
{
	return text_cb(arg, cid);
}

/* The blocks the next apply() removes (settle test). */
static const struct cid *t_removed;
static size_t	 t_nremoved;

/* A commit of one op on top of *head; the head moves on success. */
static int
apply(struct cid *head, bool has_head, const char *rev,
    const struct store_rec_op *op, const uint8_t *rec, size_t len,
    struct seen *gone)
{
	struct store_commit c;
	struct bs_mem	*bs;
	struct cid	 next;
	int		 rc;

	if ((bs = bs_mem_new()) == NULL)
		return PDS_ENOMEM;
	cid_compute(&next, CID_CODEC_DAGCBOR, rev, strlen(rev));
	if (rec != NULL)
		bs_mem_put(bs, &op->cid, rec, len);
	bs_mem_put(bs, &next, (const uint8_t *)rev, strlen(rev));
	memset(&c, 0, sizeof(c));
	c.did = did;
	c.has_prev = has_head;
	c.prev_commit = *head;
	c.commit = next;
	c.rev = rev;
	c.now = ts;
	c.ops = op;
	c.nops = 1;
	c.blocks = bs;
	c.blob_gone = gone_cb;
	c.blob_gone_arg = gone;
	c.removed = t_removed;
	c.nremoved = t_nremoved;
	if ((rc = store_begin()) != PDS_OK) {
		bs_mem_free(bs);
		return rc;
	}
	if ((rc = store_repo_savepoint()) == PDS_OK) {
		rc = store_repo_apply(&c);
		store_repo_savepoint_end(rc != PDS_OK);
	}
	if (rc == PDS_ENOTFOUND && (c.why == NULL ||
	    strcmp(c.why, "Could not find blob") != 0))
		rc = PDS_EINTERNAL;
	if (store_commit() != PDS_OK)
		rc = PDS_EIO;
	if (rc == PDS_OK)
		*head = next;
	bs_mem_free(bs);
	return rc;
}

static void
test_commits(void)
{
	static const uint8_t rec1[] = { 0xa1, 0x61, 0x61, 0x01 };
	static const uint8_t rec2[] = { 0xa1, 0x61, 0x61, 0x02 };
	static const uint8_t rec3[] = { 0xa1, 0x61, 0x61, 0x03 };
	struct store_rec_op op;
	struct store_repo_acct acct;
	struct store_blob b;
	struct seen	 g, gone;
	struct cid	 head, blob, nope, got, rc1, rc2;
	struct buf	 out;
	char		 rev[TID_LEN + 1], bs[CID_STR_MAX], next[128];
	int64_t		 n = -1;
	bool		 yes;
	int		 rc;

	t_group("commits");
	memset(&head, 0, sizeof(head));
	memset(&gone, 0, sizeof(gone));
	buf_init(&out, 1 << 20);
	cid_compute(&blob, CID_CODEC_RAW, "blob", 4);
	cid_compute(&nope, CID_CODEC_RAW, "nope", 4);
	cid_format(&blob, bs, sizeof(bs));
	CHECK(store_blob_uploaded(did, &blob, "image/png", 4, "tmp1", ts) ==
	    PDS_OK, "upload");
	CHECK(store_blob_get(did, &blob, &b) == PDS_OK && b.temp &&
	    b.size == 4 && strcmp(b.mime_type, "image/png") == 0,
	    "uploaded blob is temporary");
	CHECK(store_blob_get(did, &nope, &b) == PDS_ENOTFOUND,
	    "unknown blob");

	memset(&op, 0, sizeof(op));
	op.action = MST_CREATE;
	op.collection = coll;
	op.rkey = "p1";
	cid_compute(&op.cid, CID_CODEC_DAGCBOR, rec1, sizeof(rec1));
	rc1 = op.cid;
	op.blobs = &nope;
	op.nblobs = 1;
	rc = apply(&head, false, "rev1", &op, rec1, sizeof(rec1), &gone);
	CHECK(rc == PDS_ENOTFOUND, "a blob without a row: %s",
	    pds_strerror(rc));
	CHECK(store_record_get(did, coll, "p1", true, &got, NULL) ==
	    PDS_ENOTFOUND && store_repo_root_get(did, &got, rev) ==
	    PDS_ENOTFOUND, "the failed commit left nothing");

	op.blobs = &blob;
	rc = apply(&head, false, "rev1", &op, rec1, sizeof(rec1), &gone);
	CHECK(rc == PDS_OK, "create p1: %s", pds_strerror(rc));
	CHECK(store_blob_get(did, &blob, &b) == PDS_OK && !b.temp,
	    "the blob is kept");
	CHECK(store_repo_root_get(did, &got, rev) == PDS_OK &&
	    cid_equal(&got, &head) && strcmp(rev, "rev1") == 0, "head");
	CHECK(store_record_get(did, coll, "p1", false, &got, &out) ==
	    PDS_OK && cid_equal(&got, &rc1) && out.len == sizeof(rec1) &&
	    memcmp(out.p, rec1, sizeof(rec1)) == 0, "record p1");
	CHECK(store_block_get(did, &rc1, &out) == PDS_OK &&
	    out.len == sizeof(rec1), "its block");
	rc = apply(&head, false, "rev2", &op, rec1, sizeof(rec1), &gone);
	CHECK(rc == PDS_EMISMATCH, "not on the head: %s", pds_strerror(rc));

	op.rkey = "p2";
	op.blobs = NULL;
	op.nblobs = 0;
	cid_compute(&op.cid, CID_CODEC_DAGCBOR, rec2, sizeof(rec2));
	rc = apply(&head, true, "rev2", &op, rec2, sizeof(rec2), &gone);
	CHECK(rc == PDS_OK, "create p2: %s", pds_strerror(rc));

	memset(&g, 0, sizeof(g));
	CHECK(store_record_list(did, coll, NULL, false, 10, rec_cb, &g) ==
	    PDS_OK && strcmp(g.s, "p2;p1;") == 0, "list: %s", g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_record_list(did, coll, "p1", true, 10, rec_cb, &g) ==
	    PDS_OK && strcmp(g.s, "p2;") == 0, "after p1: %s", g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_repo_collections(did, text_cb, &g) == PDS_OK &&
	    strcmp(g.s, "app.bsky.feed.post;") == 0, "collections: %s",
	    g.s);
	CHECK(store_record_count(did, &n) == PDS_OK && n == 2, "count");
	memset(&g, 0, sizeof(g));
	CHECK(store_blocks_since(did, "rev1", blocks_cb, &g) == PDS_OK &&
	    g.n == 2, "blocks since rev1: %d", g.n);
	memset(&g, 0, sizeof(g));
	CHECK(store_blob_list(did, NULL, NULL, 10, text_cb, &g) == PDS_OK &&
	    g.n == 1 && strncmp(g.s, bs, strlen(bs)) == 0, "blobs: %s", g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_blob_list(did, "rev1", NULL, 10, text_cb, &g) == PDS_OK &&
	    g.n == 0, "blobs since rev1: %s", g.s);
	CHECK(store_repo_acct_find("A.test", &acct) == PDS_OK &&
	    strcmp(acct.did, did) == 0 && acct.status == ACCT_ACTIVE,
	    "account by handle");
	CHECK(store_repo_acct_find("did:plc:nobody", &acct) == PDS_ENOTFOUND,
	    "no account");
	memset(&g, 0, sizeof(g));
	CHECK(store_repo_list(NULL, 10, repo_cb, &g, next, sizeof(next)) ==
	    PDS_OK && strcmp(g.s, "rev2;") == 0 && next[0] == '\0',
	    "repos: %s next '%s'", g.s, next);

	/* a takedown hides p1 from reads and lists */
	snprintf(next, sizeof(next), "at://%s/%s/p1", did, coll);
	CHECK(store_record_takedown_set(next, "t") == PDS_OK &&
	    store_record_get(did, coll, "p1", false, &got, NULL) ==
	    PDS_ENOTFOUND && store_record_get(did, coll, "p1", true, &got,
	    NULL) == PDS_OK, "taken down");
	memset(&g, 0, sizeof(g));
	CHECK(store_record_list(did, coll, NULL, false, 10, rec_cb, &g) ==
	    PDS_OK && strcmp(g.s, "p2;") == 0, "list skips it: %s", g.s);

	/* deleting p1 drops the last reference to the blob */
	op.action = MST_DELETE;
	op.rkey = "p1";
	op.prev = rc1;
	rc = apply(&head, true, "rev3", &op, NULL, 0, &gone);
	CHECK(rc == PDS_OK && gone.n == 1 &&
	    strncmp(gone.s, bs, strlen(bs)) == 0, "delete p1: %s, gone %s",
	    pds_strerror(rc), gone.s);
	CHECK(store_blob_exists(did, bs, &yes) == PDS_OK && !yes,
	    "the blob row went");
	CHECK(store_block_get(did, &rc1, &out) == PDS_ENOTFOUND,
	    "and the record's block");

	/* a block two records hold goes with the last of them */
	op.action = MST_CREATE;
	op.rkey = "p3";
	cid_compute(&op.cid, CID_CODEC_DAGCBOR, rec2, sizeof(rec2));
	rc2 = op.cid;
	rc = apply(&head, true, "rev4", &op, rec2, sizeof(rec2), &gone);
	CHECK(rc == PDS_OK, "create p3 with p2's bytes: %s",
	    pds_strerror(rc));
	op.action = MST_DELETE;
	op.rkey = "p2";
	op.prev = rc2;
	rc = apply(&head, true, "rev5", &op, NULL, 0, &gone);
	CHECK(rc == PDS_OK && store_block_get(did, &rc2, &out) == PDS_OK &&
	    out.len == sizeof(rec2) && store_record_get(did, coll, "p3",
	    false, &got, &out) == PDS_OK && cid_equal(&got, &rc2),
	    "deleting p2 keeps the block p3 holds: %s", pds_strerror(rc));
	op.action = MST_UPDATE;
	op.rkey = "p3";
	op.prev = rc2;
	cid_compute(&op.cid, CID_CODEC_DAGCBOR, rec3, sizeof(rec3));
	rc = apply(&head, true, "rev6", &op, rec3, sizeof(rec3), &gone);
	CHECK(rc == PDS_OK && store_block_get(did, &rc2, &out) ==
	    PDS_ENOTFOUND && store_record_get(did, coll, "p3", false, &got,
	    &out) == PDS_OK && out.len == sizeof(rec3) &&
	    memcmp(out.p, rec3, sizeof(rec3)) == 0,
	    "updating p3 drops the old block: %s", pds_strerror(rc));
	op.action = MST_UPDATE;
	op.prev = op.cid;
	rc = apply(&head, true, "rev7", &op, rec3, sizeof(rec3), &gone);
	CHECK(rc == PDS_OK && store_record_get(did, coll, "p3", false, &got,
	    &out) == PDS_OK && out.len == sizeof(rec3),
	    "an update to the same bytes keeps them: %s", pds_strerror(rc));
	buf_clear(&out);
	t_group_end();
}

static int64_t
count_sql(const char *sql)
{
	int64_t	 n = -1;

	if (store_ints(sql, NULL, "test count", &n, 1) != PDS_OK)
		return -1;
	return n;
}

/*
 * New blocks go to repo_blocks_recent; store_repo_settle() moves those
 * past the newest keep to repo_blocks, where every read still finds
 * them, and a commit that removes a block deletes it from either table.
 */
static void
test_settle(void)
{
	static const uint8_t rec[] = { 0xa1, 0x61, 0x62, 0x01 };
	struct store_rec_op op;
	struct cid	 head, commits[6];
	struct seen	 g, gone;
	struct buf	 out;
	char		 rev[16], rkey[8], sql[320], hc[CID_STR_MAX];
	char		 hrev[TID_LEN + 1];
	int		 i, found, moved = -1, rc = PDS_OK;

	t_group("recent blocks settle");
	buf_init(&out, 1 << 20);
	memset(&gone, 0, sizeof(gone));
	CHECK(store_repo_settle(0, 0, &moved) == PDS_OK && moved > 0 &&
	    count_sql("SELECT count(*) FROM repo_blocks_recent") == 0,
	    "the earlier commits' blocks settle (%d)", moved);
	CHECK(store_repo_root_get(did, &head, rev) == PDS_OK, "the head");
	memset(&op, 0, sizeof(op));
	op.action = MST_CREATE;
	op.collection = coll;
	for (i = 0; i < 6; i++) {
		snprintf(rev, sizeof(rev), "srev%d", i);
		snprintf(rkey, sizeof(rkey), "s%d", i);
		op.rkey = rkey;
		cid_compute(&op.cid, CID_CODEC_DAGCBOR, rec, sizeof(rec));
		if ((rc = apply(&head, true, rev, &op, rec, sizeof(rec),
		    &gone)) != PDS_OK)
			break;
		commits[i] = head;
	}
	CHECK(i == 6, "six commits: %s", pds_strerror(rc));
	CHECK(count_sql("SELECT count(*) FROM repo_blocks_recent") == 6,
	    "their blocks are recent (%lld)",
	    (long long)count_sql("SELECT count(*) FROM repo_blocks_recent"));
	CHECK(store_repo_settle(2, 4, &moved) == PDS_OK && moved == 0,
	    "a span under keep + batch stays (%d)", moved);
	CHECK(store_repo_settle(2, 3, &moved) == PDS_OK && moved == 4,
	    "past it, all but the newest two move (%d)", moved);
	CHECK(count_sql("SELECT count(*) FROM repo_blocks_recent") == 2 &&
	    count_sql("SELECT count(*) FROM repo_blocks WHERE cid LIKE "
	    "'b%'") >= 4, "two left recent, four settled");
	for (i = 0, found = 0; i < 6; i++)
		if (store_node_get(did, &commits[i], &out) == PDS_OK &&
		    out.len == 5)
			found++;
	CHECK(found == 6, "every block is found where it is (%d)", found);
	memset(&g, 0, sizeof(g));
	snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM "
	    "repo_blocks WHERE did = '%s') + (SELECT count(*) FROM "
	    "repo_blocks_recent WHERE did = '%s')", did, did);
	CHECK(store_nodes_all(did, blocks_cb, &g) == PDS_OK &&
	    g.n == count_sql(sql) && g.n >= 6, "all nodes: both tables, "
	    "each row once (%d)", g.n);
	memset(&g, 0, sizeof(g));
	CHECK(store_blocks_since(did, "srev2", blocks_cb, &g) == PDS_OK &&
	    g.n == 4, "blocks since a rev come from both tables (%d)", g.n);
	CHECK(store_events_head_commit(did, hc, sizeof(hc), hrev,
	    sizeof(hrev), &out) == PDS_OK && strcmp(hrev, "srev5") == 0 &&
	    out.len == 5, "the head commit is read");

	/* a commit removes the four settled blocks and a recent one */
	t_removed = commits;
	t_nremoved = 5;
	op.rkey = "s6";
	rc = apply(&head, true, "srev6", &op, rec, sizeof(rec), &gone);
	t_removed = NULL;
	t_nremoved = 0;
	CHECK(rc == PDS_OK, "a commit removing five: %s", pds_strerror(rc));
	for (i = 0, found = 0; i < 6; i++)
		if (store_node_get(did, &commits[i], &out) == PDS_OK)
			found++;
	CHECK(found == 1, "each went from the table it was in; the sixth "
	    "stays (%d)", found);
	CHECK(store_repo_settle(0, 0, &moved) == PDS_OK && moved == 2 &&
	    count_sql("SELECT count(*) FROM repo_blocks_recent") == 0 &&
	    store_node_get(did, &head, &out) == PDS_OK && out.len == 5,
	    "settling the rest empties the table (%d)", moved);
	buf_clear(&out);
	t_group_end();
}

/*
 * getRepo's record stream: rows in (collection, rkey) order, asked for
 * in the tree's order of "collection/rkey".  Where the two differ (a
 * collection whose name is another's and ".b") the stream says it does
 * not have the key, and still has the rows that come after it.
 */
static void
test_recstream(void)
{
	static const char *const colls[] = {
		"com.example.a", "com.example.a", "com.example.a.b",
		"com.example.b"
	};
	static const char *const rkeys[] = { "k1", "k2", "k1", "k1" };
	/* the tree's order of the same four */
	static const int order[] = { 2, 0, 1, 3 };
	struct store_recstream rs;
	struct store_rec_op op;
	struct seen	 gone;
	struct cid	 head, cids[4], other;
	uint8_t		 recs[4][4];
	const uint8_t	*d;
	char		 rev[TID_LEN + 1], key[64];
	size_t		 len;
	int		 i, k, got[4], rc = PDS_OK;

	t_group("record stream");
	memset(&gone, 0, sizeof(gone));
	CHECK(store_repo_root_get(did, &head, rev) == PDS_OK, "the head");
	memset(&op, 0, sizeof(op));
	op.action = MST_CREATE;
	for (i = 0; i < 4; i++) {
		recs[i][0] = 0xa1;
		recs[i][1] = 0x61;
		recs[i][2] = 0x63;
		recs[i][3] = (uint8_t)i;
		op.collection = colls[i];
		op.rkey = rkeys[i];
		cid_compute(&op.cid, CID_CODEC_DAGCBOR, recs[i], 4);
		cids[i] = op.cid;
		snprintf(rev, sizeof(rev), "trev%d", i);
		if ((rc = apply(&head, true, rev, &op, recs[i], 4, &gone)) !=
		    PDS_OK)
			break;
	}
	CHECK(i == 4, "four records: %s", pds_strerror(rc));
	CHECK(store_repo_read_begin() == PDS_OK &&
	    store_recstream_open(&rs, did) == PDS_OK, "opened");
	for (k = 0; k < 4; k++) {
		i = order[k];
		snprintf(key, sizeof(key), "%s/%s", colls[i], rkeys[i]);
		rc = store_recstream_get(&rs, (const uint8_t *)key,
		    strlen(key), &cids[i], &d, &len);
		got[k] = rc == PDS_OK && len == 4 && memcmp(d, recs[i], 4) == 0
		    ? 1 : rc == PDS_ENOTFOUND ? 0 : -1;
	}
	CHECK(got[0] == 0 && got[1] == 1 && got[2] == 1 && got[3] == 1,
	    "the key out of the rows' order is looked up, the others "
	    "streamed (%d %d %d %d)", got[0], got[1], got[2], got[3]);
	CHECK(store_recstream_get(&rs, (const uint8_t *)"com.example.c/k1",
	    16, &cids[0], &d, &len) == PDS_ENOTFOUND, "past the end");
	store_recstream_close(&rs);
	CHECK(store_recstream_open(&rs, did) == PDS_OK, "again");
	cid_compute(&other, CID_CODEC_DAGCBOR, "x", 1);
	CHECK(store_recstream_get(&rs, (const uint8_t *)"com.example.a/k1",
	    16, &other, &d, &len) == PDS_ENOTFOUND &&
	    store_recstream_get(&rs, (const uint8_t *)"com.example.a/k2",
	    16, &cids[1], &d, &len) == PDS_OK && len == 4 &&
	    memcmp(d, recs[1], 4) == 0, "a row with another CID is not "
	    "given; the next one is");
	store_recstream_close(&rs);
	store_repo_read_end();
	t_group_end();
}

static void
test_temp_blobs(void)
{
	struct seen	 g;
	struct cid	 c;
	char		 cs[CID_STR_MAX];
	bool		 deleted = true, yes;

	t_group("temporary blobs");
	cid_compute(&c, CID_CODEC_RAW, "temp", 4);
	cid_format(&c, cs, sizeof(cs));
	CHECK(store_blob_uploaded(did, &c, "text/plain", 4, "k", ts) ==
	    PDS_OK, "upload");
	CHECK(store_blob_uploaded(did, &c, "text/plain", 4, "k", ts) ==
	    PDS_OK, "upload again");
	memset(&g, 0, sizeof(g));
	CHECK(store_blob_temp_list("2024-01-01T00:00:00.000Z", 10, temp_cb,
	    &g) == PDS_OK && g.n == 0, "none older than its upload");
	CHECK(store_blob_temp_list("2030-01-01T00:00:00.000Z", 10, temp_cb,
	    &g) == PDS_OK && g.n == 1, "one before 2030");
	CHECK(store_blob_temp_delete(did, cs, "2024-01-01T00:00:00.000Z",
	    &deleted) == PDS_OK && !deleted, "too young to delete");
	CHECK(store_blob_temp_delete(did, cs, "2030-01-01T00:00:00.000Z",
	    &deleted) == PDS_OK && deleted, "deleted");
	CHECK(store_blob_exists(did, cs, &yes) == PDS_OK && !yes, "gone");
	t_group_end();
}

/* ---- the upgrade that clusters repo_blocks (migration 9) ---- */

#define UP_DIDS		3
#define UP_BLOCKS	40

static void
up_block(int d, int i, uint8_t *data, size_t *len, char *cs, size_t cap)
{
	struct cid	 c;
	size_t		 j;

	/* sizes from a few bytes to past SQLite's in-page limit */
	*len = 3 + (size_t)((i * 97 + d * 13) % 3000);
	for (j = 0; j < *len; j++)
		data[j] = (uint8_t)(d * 31 + i * 7 + j);
	cid_compute(&c, CID_CODEC_DAGCBOR, data, *len);
	cid_format(&c, cs, cap);
}

static void
up_did(int d, char *out, size_t cap)
{
	snprintf(out, cap, "did:plc:upgrade%017d", d);
}

/*
 * A database at schema `version' with UP_DIDS accounts, in an open
 * transaction (the caller commits).
 */
static bool
up_open(const char *path, size_t version, sqlite3 **dbp)
{
	static const uint8_t key[32];
	sqlite3_stmt	*st = NULL;
	char		 d[64];
	bool		 ok;
	int		 k;

	if (sqlite3_open(path, dbp) != SQLITE_OK)
		return false;
	ok = t_schema_at(*dbp, version);
	for (k = 0; ok && k < UP_DIDS; k++) {
		up_did(k, d, sizeof(d));
		ok = sqlite3_prepare_v2(*dbp, "INSERT INTO accounts (did, "
		    "signing_key, created_at) VALUES (?1, ?2, ?3)", -1, &st,
		    NULL) == SQLITE_OK &&
		    sqlite3_bind_text(st, 1, d, -1, SQLITE_TRANSIENT) ==
		    SQLITE_OK && sqlite3_bind_blob(st, 2, key, sizeof(key),
		    SQLITE_STATIC) == SQLITE_OK && sqlite3_bind_text(st, 3, ts,
		    -1, SQLITE_STATIC) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_DONE;
		sqlite3_finalize(st);
		st = NULL;
	}
	return ok;
}

/* A schema 8 database with UP_DIDS accounts' blocks interleaved. */
static int
make_v8(const char *path)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	uint8_t		 data[3100];
	char		 d[64], cs[CID_STR_MAX], rev[16];
	size_t		 len;
	int		 i, k, ok;

	if (!up_open(path, 8, &db)) {
		sqlite3_close(db);
		return PDS_EIO;
	}
	ok = sqlite3_prepare_v2(db, "INSERT INTO repo_blocks (did, cid, "
	    "rev, size, content) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st,
	    NULL) == SQLITE_OK;
	/* in write order: the accounts' blocks interleave */
	for (i = 0; ok && i < UP_BLOCKS; i++)
		for (k = 0; ok && k < UP_DIDS; k++) {
			up_did(k, d, sizeof(d));
			up_block(k, i, data, &len, cs, sizeof(cs));
			snprintf(rev, sizeof(rev), "3kaaaaaaa%04d", i);
			ok = sqlite3_bind_text(st, 1, d, -1, SQLITE_TRANSIENT) ==
			    SQLITE_OK && sqlite3_bind_text(st, 2, cs, -1,
			    SQLITE_TRANSIENT) == SQLITE_OK &&
			    sqlite3_bind_text(st, 3, rev, -1, SQLITE_TRANSIENT) ==
			    SQLITE_OK && sqlite3_bind_int64(st, 4, (int64_t)len)
			    == SQLITE_OK && sqlite3_bind_blob(st, 5, data,
			    (int)len, SQLITE_TRANSIENT) == SQLITE_OK &&
			    sqlite3_step(st) == SQLITE_DONE &&
			    sqlite3_reset(st) == SQLITE_OK;
		}
	sqlite3_finalize(st);
	if (ok)
		ok = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	return ok ? PDS_OK : PDS_EIO;
}

struct up_walk {
	int		 d, n, bad;
	char		 last[CID_STR_MAX];
};

/* Every block of account w->d, each once, as written, in CID order. */
static int
up_walk_cb(void *arg, const char *cs, const uint8_t *p, size_t len)
{
	struct up_walk	*w = arg;
	struct cid	 c;

	if (cid_parse(&c, cs, strlen(cs), NULL) != PDS_OK ||
	    !cid_matches(&c, p, len) || strcmp(cs, w->last) <= 0)
		w->bad++;
	snprintf(w->last, sizeof(w->last), "%s", cs);
	w->n++;
	return 0;
}

/* Blocks since a rev: newest rev first. */
static int
up_since_cb(void *arg, const char *cs, const uint8_t *p, size_t len)
{
	struct up_walk	*w = arg;

	(void)p;
	(void)len;
	(void)cs;
	w->n++;
	return 0;
}

static void
test_upgrade(const char *path)
{
	struct up_walk	 w;
	struct buf	 b;
	struct cid	 c;
	uint8_t		 data[3100];
	char		 d[64], cs[CID_STR_MAX], sql[320];
	size_t		 len;
	int		 k, good = 0;
	sqlite3		*db;
	sqlite3_stmt	*st;

	t_group("upgrade: repo_blocks clustered");
	CHECK(make_v8(path) == PDS_OK, "a schema 8 database with blocks");
	CHECK(store_open(path) == PDS_OK && store_schema_version() ==
	    store_schema_latest(), "store_open upgrades it (%d)",
	    store_schema_version());
	for (k = 0; k < UP_DIDS; k++) {
		up_did(k, d, sizeof(d));
		memset(&w, 0, sizeof(w));
		w.d = k;
		if (store_nodes_all(d, up_walk_cb, &w) == PDS_OK &&
		    w.n == UP_BLOCKS && w.bad == 0)
			good++;
	}
	CHECK(good == UP_DIDS, "every account's blocks, in key order (%d)",
	    good);
	buf_init(&b, 1 << 20);
	up_did(1, d, sizeof(d));
	up_block(1, 17, data, &len, cs, sizeof(cs));
	CHECK(cid_parse(&c, cs, strlen(cs), NULL) == PDS_OK &&
	    store_block_get(d, &c, &b) == PDS_OK && b.len == len &&
	    memcmp(b.p, data, len) == 0, "a block by its CID");
	buf_clear(&b);
	memset(&w, 0, sizeof(w));
	CHECK(store_blocks_since(d, "3kaaaaaaa0029", up_since_cb, &w) ==
	    PDS_OK && w.n == UP_BLOCKS - 30, "blocks since a rev (%d)", w.n);
	store_close();
	db = NULL;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK, "opened beside");
	snprintf(sql, sizeof(sql), "SELECT (SELECT sql LIKE '%%WITHOUT ROWID' "
	    "FROM sqlite_master WHERE name = 'repo_blocks') + (SELECT count(*) "
	    "FROM sqlite_master WHERE name = 'repo_blocks_rev') * 10 + (SELECT "
	    "count(*) = %d FROM repo_blocks)", UP_DIDS * UP_BLOCKS);
	CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 2,
	    "WITHOUT ROWID, no rev index (migration 12), every row");
	sqlite3_finalize(st);
	sqlite3_close(db);
	t_group_end();
}

/* ---- the upgrade that clusters records (migration 11) ---- */

#define UR_RECS		30
#define UR_DUP		20	/* account 0's record 20 has 19's bytes */

static void
ur_key(int d, int i, char *nsid, size_t ccap, char *rkey, size_t rcap)
{
	snprintf(nsid, ccap, "%s", i % 3 ? "app.bsky.feed.like" :
	    "app.bsky.feed.post");
	snprintf(rkey, rcap, "3kzzzzzz%02d%03d", d, i);
}

/* A schema 10 database: records with their uri, written interleaved. */
static int
make_v10(const char *path)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL, *bt = NULL;
	uint8_t		 data[3100];
	char		 d[64], cs[CID_STR_MAX], nsid[64], rkey[32], uri[256];
	size_t		 len;
	int		 i, k, ok;

	if (!up_open(path, 10, &db)) {
		sqlite3_close(db);
		return PDS_EIO;
	}
	ok = sqlite3_prepare_v2(db, "INSERT INTO records (uri, did, "
	    "collection, rkey, cid, rev, indexed_at, takedown_ref) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st,
	    NULL) == SQLITE_OK && sqlite3_prepare_v2(db,
	    "INSERT OR IGNORE INTO repo_blocks (did, cid, rev, size, "
	    "content) VALUES (?1, ?2, 'r', ?3, ?4)", -1, &bt, NULL) ==
	    SQLITE_OK;
	for (i = 0; ok && i < UR_RECS; i++)
		for (k = 0; ok && k < UP_DIDS; k++) {
			up_did(k, d, sizeof(d));
			/* one block two records hold */
			up_block(k, k == 0 && i == UR_DUP ? UR_DUP - 1 : i, data,
			    &len, cs, sizeof(cs));
			ur_key(k, i, nsid, sizeof(nsid), rkey, sizeof(rkey));
			snprintf(uri, sizeof(uri), "at://%s/%s/%s", d, nsid,
			    rkey);
			ok = sqlite3_bind_text(st, 1, uri, -1,
			    SQLITE_TRANSIENT) == SQLITE_OK &&
			    sqlite3_bind_text(st, 2, d, -1, SQLITE_TRANSIENT) ==
			    SQLITE_OK && sqlite3_bind_text(st, 3, nsid, -1,
			    SQLITE_TRANSIENT) == SQLITE_OK &&
			    sqlite3_bind_text(st, 4, rkey, -1, SQLITE_TRANSIENT)
			    == SQLITE_OK && sqlite3_bind_text(st, 5, cs, -1,
			    SQLITE_TRANSIENT) == SQLITE_OK &&
			    sqlite3_bind_text(st, 6, rkey, -1, SQLITE_TRANSIENT)
			    == SQLITE_OK && sqlite3_bind_text(st, 7, ts, -1,
			    SQLITE_STATIC) == SQLITE_OK && (i == 7 ?
			    sqlite3_bind_text(st, 8, "td-7", -1,
			    SQLITE_STATIC) : sqlite3_bind_null(st, 8)) ==
			    SQLITE_OK && sqlite3_step(st) == SQLITE_DONE &&
			    sqlite3_reset(st) == SQLITE_OK &&
			    sqlite3_bind_text(bt, 1, d, -1, SQLITE_TRANSIENT) ==
			    SQLITE_OK && sqlite3_bind_text(bt, 2, cs, -1,
			    SQLITE_TRANSIENT) == SQLITE_OK &&
			    sqlite3_bind_int64(bt, 3, (int64_t)len) ==
			    SQLITE_OK && sqlite3_bind_blob(bt, 4, data,
			    (int)len, SQLITE_TRANSIENT) == SQLITE_OK &&
			    sqlite3_step(bt) == SQLITE_DONE &&
			    sqlite3_reset(bt) == SQLITE_OK;
		}
	sqlite3_finalize(st);
	sqlite3_finalize(bt);
	if (ok)
		ok = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	return ok ? PDS_OK : PDS_EIO;
}

struct ur_list {
	int		 d, n, bad;
	char		 last[32];
};

/* A page of likes: newest rkey first, each record's own bytes. */
static int
ur_list_cb(void *arg, const struct store_record_listed *l)
{
	struct ur_list	*u = arg;
	struct cid	 c;

	if (cid_parse(&c, l->cid, strlen(l->cid), NULL) != PDS_OK ||
	    !cid_matches(&c, l->data, l->len) || (u->n > 0 &&
	    strcmp(l->rkey, u->last) >= 0) || strncmp(l->rkey, "3kzzzzzz",
	    8) != 0 || atoi(l->rkey + 8) / 1000 != u->d)
		u->bad++;
	snprintf(u->last, sizeof(u->last), "%s", l->rkey);
	u->n++;
	return 0;
}

static void
test_upgrade_records(const char *path)
{
	static const char *const bad[] = { "", "at://", "at://a/b",
	    "at:///b/c", "at://a//c", "at://a/b/", "at://a/b/c/d",
	    "x://did:plc:upgrade00000000000000001/app.bsky.feed.post/x" };
	struct ur_list	 u;
	struct buf	 b;
	struct cid	 c;
	uint8_t		 data[3100];
	char		 d[64], cs[CID_STR_MAX], nsid[64], rkey[32], uri[256];
	char		 rcid[CID_STR_MAX], ref[64], sql[640];
	size_t		 len, i;
	int64_t		 n;
	int		 k, good = 0, nbad = 0;
	sqlite3		*db;
	sqlite3_stmt	*st;

	t_group("upgrade: records clustered");
	CHECK(make_v10(path) == PDS_OK, "a schema 10 database with records");
	CHECK(store_open(path) == PDS_OK && store_schema_version() ==
	    store_schema_latest(), "store_open upgrades it (%d)",
	    store_schema_version());
	for (k = 0; k < UP_DIDS; k++) {
		up_did(k, d, sizeof(d));
		memset(&u, 0, sizeof(u));
		u.d = k;
		if (store_record_count(d, &n) == PDS_OK && n == UR_RECS &&
		    store_record_list(d, "app.bsky.feed.like", NULL, false, 100,
		    ur_list_cb, &u) == PDS_OK && u.n == UR_RECS - UR_RECS / 3 -
		    1 && u.bad == 0)
			good++;
	}
	CHECK(good == UP_DIDS, "every account's records; its likes listed "
	    "newest first, without the one taken down (%d)", good);
	buf_init(&b, 1 << 20);
	up_did(2, d, sizeof(d));
	up_block(2, 12, data, &len, cs, sizeof(cs));
	ur_key(2, 12, nsid, sizeof(nsid), rkey, sizeof(rkey));
	CHECK(store_record_get(d, nsid, rkey, false, &c, &b) == PDS_OK &&
	    b.len == len && memcmp(b.p, data, len) == 0 &&
	    cid_format(&c, rcid, sizeof(rcid)) > 0 && strcmp(rcid, cs) == 0,
	    "a record by its key");
	ur_key(2, 7, nsid, sizeof(nsid), rkey, sizeof(rkey));
	CHECK(store_record_get(d, nsid, rkey, false, &c, &b) ==
	    PDS_ENOTFOUND && store_record_get(d, nsid, rkey, true, &c, &b) ==
	    PDS_OK, "its takedown kept");
	buf_clear(&b);
	snprintf(uri, sizeof(uri), "at://%s/%s/%s", d, nsid, rkey);
	up_block(2, 7, data, &len, cs, sizeof(cs));
	CHECK(store_record_takedown_get(uri, rcid, sizeof(rcid), ref,
	    sizeof(ref)) == PDS_OK && strcmp(rcid, cs) == 0 &&
	    strcmp(ref, "td-7") == 0, "a takedown read by the record's uri");
	CHECK(store_record_takedown_set(uri, NULL) == PDS_OK &&
	    store_record_takedown_get(uri, rcid, sizeof(rcid), ref,
	    sizeof(ref)) == PDS_OK && ref[0] == '\0',
	    "and lifted by it");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (store_record_takedown_set(bad[i], "x") != PDS_ENOTFOUND ||
		    store_record_takedown_get(bad[i], rcid, sizeof(rcid), ref,
		    sizeof(ref)) != PDS_ENOTFOUND)
			nbad++;
	CHECK(nbad == 0, "a uri of another shape names no record (%d)", nbad);
	store_close();
	db = NULL;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK, "opened beside");
	snprintf(sql, sizeof(sql), "SELECT (SELECT sql LIKE '%%WITHOUT ROWID' "
	    "FROM sqlite_master WHERE name = 'records') + (SELECT count(*) "
	    "FROM sqlite_master WHERE tbl_name = 'records' AND type = "
	    "'index') + (SELECT count(*) FROM pragma_table_info('records') "
	    "WHERE name = 'uri') * 10 + (SELECT count(*) = %d FROM records)",
	    UP_DIDS * UR_RECS);
	CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 3,
	    "WITHOUT ROWID, one index (by rev), no uri, every "
	    "row (%d)", sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
	up_did(0, d, sizeof(d));
	up_block(0, UR_DUP - 1, data, &len, cs, sizeof(cs));
	snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM records "
	    "WHERE did = '%s' AND cid = '%s' AND length(content) = %zu) * "
	    "1000 + (SELECT count(*) FROM records WHERE content IS NULL) * "
	    "100 + (SELECT count(*) FROM repo_blocks) * 10 + (SELECT "
	    "count(*) FROM sqlite_master WHERE type = 'trigger') + (SELECT "
	    "count(*) FROM pragma_table_info('repo_blocks') WHERE name = "
	    "'refs')", d, cs, len);
	CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) ==
	    2000, "each record's bytes moved into its row, the shared block "
	    "into both; none left in repo_blocks; no triggers, no count of "
	    "holders (%d)", sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	t_group_end();
}

int
main(void)
{
	static const uint8_t key[32];
	char	 dir[] = "/tmp/test_store_repo.XXXXXX";
	char	 path[128], cmd[160];

	log_init("test_pdsd_store_repo", 0, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);
	if (store_open(path) != PDS_OK ||
	    store_account_insert(did, "a.test", NULL, NULL, key, ts) !=
	    PDS_OK) {
		fprintf(stderr, "store set-up failed\n");
		return 1;
	}
	test_commits();
	test_settle();
	test_recstream();
	test_temp_blobs();
	store_close();
	snprintf(path, sizeof(path), "%s/v8.sqlite", dir);
	test_upgrade(path);
	snprintf(path, sizeof(path), "%s/v10.sqlite", dir);
	test_upgrade_records(path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_store_repo");
}
