/*
 * store_repo: the SQL behind repositories.  See store_repo.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "mst.h"
#include "store_internal.h"
#include "store_repo.h"

#define URI_BUF	(5 + DID_MAX + 1 + NSID_MAX + 1 + RKEY_MAX + 1)

static int
col_cid(sqlite3_stmt *st, int i, struct cid *out)
{
	const char	*s = (const char *)sqlite3_column_text(st, i);

	if (s == NULL)
		return PDS_EINVAL;
	return cid_parse(out, s, (size_t)sqlite3_column_bytes(st, i), NULL);
}

/* ---- the block store ------------------------------------------------ */

/* The instance's buffer, filled by a lookup that gave rc, as the block. */
static int
sbs_found(struct store_bs *bs, int rc, const uint8_t **data, size_t *len)
{
	if (rc != PDS_OK)
		return rc;
	*data = bs->tmp.p != NULL ? bs->tmp.p : (const uint8_t *)"";
	*len = bs->tmp.len;
	return PDS_OK;
}

static int
sbs_get(void *ctx, const struct cid *c, const uint8_t **data, size_t *len)
{
	struct store_bs	*bs = ctx;

	return sbs_found(bs, store_block_get(bs->did, c, &bs->tmp), data,
	    len);
}

void
store_bs_init(struct store_bs *bs, const char *did)
{
	snprintf(bs->did, sizeof(bs->did), "%s", did);
	buf_init(&bs->tmp, (size_t)4 << 20);
}

void
store_bs_clear(struct store_bs *bs)
{
	buf_clear(&bs->tmp);
}

/*
 * A record, by its key ("collection/rkey"): its row holds its bytes.  A
 * row with other bytes than the tree says (it cannot be, but a walk
 * must not trust the index for them) falls back to the CID.
 */
static int
sbs_get_leaf(void *ctx, const uint8_t *key, size_t klen,
    const struct cid *c, const uint8_t **data, size_t *len)
{
	struct store_bs	*bs = ctx;
	const uint8_t	*slash;
	char		 coll[NSID_MAX + 1], rkey[RKEY_MAX + 1];
	size_t		 clen;
	int		 rc;

	if ((slash = memchr(key, '/', klen)) == NULL ||
	    (clen = (size_t)(slash - key)) >= sizeof(coll) ||
	    klen - clen - 1 >= sizeof(rkey))
		return sbs_get(ctx, c, data, len);
	memcpy(coll, key, clen);
	coll[clen] = '\0';
	memcpy(rkey, slash + 1, klen - clen - 1);
	rkey[klen - clen - 1] = '\0';
	rc = store_record_block(bs->did, coll, rkey, c, &bs->tmp);
	if (rc == PDS_ENOTFOUND)
		rc = store_block_get(bs->did, c, &bs->tmp);
	return sbs_found(bs, rc, data, len);
}

struct blockstore
store_bs_store(struct store_bs *bs)
{
	struct blockstore b = { sbs_get, NULL, bs, sbs_get_leaf };

	return b;
}

static int
content_read(sqlite3_stmt *st, void *out)
{
	return store_col_buf(st, 0, out);
}

int
store_node_get(const char *did, const struct cid *c, struct buf *out)
{
	return store_get("SELECT content FROM repo_blocks_recent "
	    "WHERE did = ?1 AND cid = ?2 UNION ALL SELECT content FROM "
	    "repo_blocks WHERE did = ?1 AND cid = ?2 LIMIT 1",
	    STORE_ARGS(SB_TEXT(did), SB_CID(c)), "block get", content_read,
	    out);
}

/*
 * Records are not ordered by CID: finding one by it reads the account's
 * rows.  Only for a block the tree does not say the key of.
 */
int
store_block_get(const char *did, const struct cid *c, struct buf *out)
{
	int	 rc;

	if ((rc = store_node_get(did, c, out)) != PDS_ENOTFOUND)
		return rc;
	return store_get("SELECT content FROM records WHERE did = ?1 AND "
	    "cid = ?2 AND content IS NOT NULL LIMIT 1",
	    STORE_ARGS(SB_TEXT(did), SB_CID(c)), "record block by cid",
	    content_read, out);
}

int
store_record_block(const char *did, const char *collection,
    const char *rkey, const struct cid *c, struct buf *out)
{
	sqlite3_stmt	*st;
	struct cid	 have;
	int		 rc;

	if ((rc = store_row(&st, "SELECT cid, content FROM records "
	    "WHERE did = ?1 AND collection = ?2 AND rkey = ?3",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(collection), SB_TEXT(rkey)),
	    "record block")) != PDS_OK)
		return rc;
	if (sqlite3_column_type(st, 1) == SQLITE_NULL ||
	    col_cid(st, 0, &have) != PDS_OK || !cid_equal(&have, c))
		rc = PDS_ENOTFOUND;
	else
		rc = store_col_buf(st, 1, out);
	store_stmt_done(st);
	return rc;
}

static int
exec_cached(const char *sql)
{
	return store_run(sql, NULL, sql, NULL);
}

int
store_repo_savepoint(void)
{
	return exec_cached("SAVEPOINT c");
}

void
store_repo_savepoint_end(bool rollback)
{
	if (rollback)
		(void)exec_cached("ROLLBACK TO c");
	(void)exec_cached("RELEASE c");
}

int
store_repo_read_begin(void)
{
	return exec_cached("BEGIN DEFERRED");
}

void
store_repo_read_end(void)
{
	sqlite3	*db = store_db();

	if (db != NULL && !sqlite3_get_autocommit(db))
		(void)exec_cached("COMMIT");
}

/* ---- accounts ------------------------------------------------------- */

static int
acct_read(sqlite3_stmt *st, void *arg)
{
	struct store_repo_acct	*out = arg;
	int			 rc;

	if ((rc = store_col_text(st, 0, out->did, sizeof(out->did))) ==
	    PDS_OK &&
	    (rc = store_col_text(st, 1, out->handle,
	    sizeof(out->handle))) == PDS_OK &&
	    (rc = store_col_status(st, 2, &out->status)) == PDS_OK)
		rc = store_col_text(st, 3, out->created_at,
		    sizeof(out->created_at));
	return rc;
}

int
store_repo_acct_find(const char *id, struct store_repo_acct *out)
{
	const char	*sql;

	if (strncmp(id, "did:", 4) == 0)
		sql = "SELECT did, handle, status, created_at "
		    "FROM accounts WHERE did = ?1";
	else
		sql = "SELECT did, handle, status, created_at "
		    "FROM accounts WHERE handle = ?1";
	return store_get(sql, STORE_ARGS(SB_TEXT(id)), "account lookup",
	    acct_read, out);
}

/* ---- the head ------------------------------------------------------- */

int
store_repo_root_get(const char *did, struct cid *commit,
    char rev[TID_LEN + 1])
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_row(&st, "SELECT cid, rev FROM repo_root "
	    "WHERE did = ?1", STORE_ARGS(SB_TEXT(did)), "repo root")) != PDS_OK)
		return rc;
	if ((rc = col_cid(st, 0, commit)) == PDS_OK)
		rc = store_col_text(st, 1, rev, TID_LEN + 1);
	store_stmt_done(st);
	return rc;
}

int
store_repo_list(const char *cursor, size_t limit,
    int (*cb)(void *, const struct store_repo_listed *), void *arg,
    char *next, size_t cap)
{
	sqlite3_stmt	*st;
	struct store_repo_listed l;
	const char	*sep, *cdid = "";
	char		 ts[STORE_TS_LEN];
	size_t		 n = 0;
	int		 rc;

	ts[0] = '\0';
	if (cursor != NULL && (sep = strstr(cursor, "::")) != NULL &&
	    (size_t)(sep - cursor) < sizeof(ts)) {
		memcpy(ts, cursor, (size_t)(sep - cursor));
		ts[sep - cursor] = '\0';
		cdid = sep + 2;
	}
	if ((rc = store_prep(&st, "SELECT a.did, r.cid, r.rev, a.status, "
	    "a.created_at FROM accounts a JOIN repo_root r ON r.did = a.did "
	    "WHERE a.status != 'deleted' AND (a.created_at, a.did) > (?1, ?2) "
	    "ORDER BY a.created_at, a.did LIMIT ?3", STORE_ARGS(SB_TEXT(ts),
	    SB_TEXT(cdid), SB_INT(limit)))) != PDS_OK)
		return rc;
	if (cap > 0)
		next[0] = '\0';
	while (store_next(st, &rc, "repo list")) {
		l.did = (const char *)sqlite3_column_text(st, 0);
		l.head = (const char *)sqlite3_column_text(st, 1);
		l.rev = (const char *)sqlite3_column_text(st, 2);
		l.created_at = (const char *)sqlite3_column_text(st, 4);
		if (l.did == NULL || l.head == NULL || l.rev == NULL ||
		    store_col_status(st, 3, &l.status) != PDS_OK ||
		    l.created_at == NULL)
			continue;
		n++;
		if ((rc = cb(arg, &l)) != 0)
			break;
		snprintf(next, cap, "%s::%s", l.created_at, l.did);
	}
	if (rc == PDS_OK && n < limit && cap > 0)
		next[0] = '\0';
	store_stmt_done(st);
	return rc;
}

/* ---- the record index ----------------------------------------------- */

int
store_record_get(const char *did, const char *collection, const char *rkey,
    bool with_takendown, struct cid *cid, struct buf *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_row(&st, "SELECT cid, takedown_ref IS NOT NULL, "
	    "content FROM records "
	    "WHERE did = ?1 AND collection = ?2 AND rkey = ?3",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(collection), SB_TEXT(rkey)),
	    "record get")) != PDS_OK)
		return rc;
	if (!with_takendown && sqlite3_column_int(st, 1))
		rc = PDS_ENOTFOUND;
	else if (sqlite3_column_type(st, 2) == SQLITE_NULL)
		rc = PDS_ENOTFOUND;
	else if ((rc = col_cid(st, 0, cid)) == PDS_OK && out != NULL)
		rc = store_col_buf(st, 2, out);
	store_stmt_done(st);
	return rc;
}

/* The page's records, bytes and all, are adjacent rows of the table. */
#define RECORD_LIST_COLS "SELECT r.rkey, r.cid, r.content FROM records r " \
	"WHERE r.did = ?1 AND r.collection = ?2 AND r.takedown_ref IS NULL " \
	"AND r.content IS NOT NULL "

int
store_record_list(const char *did, const char *collection,
    const char *cursor, bool reverse, size_t limit,
    int (*cb)(void *, const struct store_record_listed *), void *arg)
{
	static const char q_desc[] = RECORD_LIST_COLS
	    "AND r.rkey < ?3 ORDER BY r.rkey DESC LIMIT ?4";
	static const char q_asc[] = RECORD_LIST_COLS
	    "AND r.rkey > ?3 ORDER BY r.rkey ASC LIMIT ?4";
	static const char q_desc0[] = RECORD_LIST_COLS
	    "ORDER BY r.rkey DESC LIMIT ?4";
	struct store_record_listed l;
	sqlite3_stmt	*st;
	const char	*sql;
	int		 rc;

	if (cursor != NULL)
		sql = reverse ? q_asc : q_desc;
	else
		sql = reverse ? q_asc : q_desc0;
	/* ascending from the start: every rkey is > "" */
	if ((rc = store_prep(&st, sql, STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(collection), SB_TEXT(cursor != NULL ? cursor : ""),
	    SB_INT(limit)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "record list")) {
		l.rkey = (const char *)sqlite3_column_text(st, 0);
		l.cid = (const char *)sqlite3_column_text(st, 1);
		l.data = sqlite3_column_blob(st, 2);
		l.len = (size_t)sqlite3_column_bytes(st, 2);
		if (l.rkey == NULL || l.cid == NULL)
			continue;
		if ((rc = cb(arg, &l)) != 0)
			break;
	}
	store_stmt_done(st);
	return rc;
}

/*
 * Each row of sql whose text column 0 is not NULL, to text(arg, column
 * 0) or, when text is NULL, to block(arg, column 0, column 1's bytes);
 * until one returns non-zero.
 */
static int
walk_rows(const char *sql, const struct store_arg *args,
    int (*text)(void *, const char *),
    int (*block)(void *, const char *, const uint8_t *, size_t), void *arg,
    const char *what)
{
	sqlite3_stmt	*st;
	const char	*c;
	int		 rc;

	if ((rc = store_prep(&st, sql, args)) != PDS_OK)
		return rc;
	while (store_next(st, &rc, what)) {
		if ((c = (const char *)sqlite3_column_text(st, 0)) == NULL)
			continue;
		if (text != NULL)
			rc = text(arg, c);
		else
			rc = block(arg, c, sqlite3_column_blob(st, 1),
			    (size_t)sqlite3_column_bytes(st, 1));
		if (rc != 0)
			break;
	}
	store_stmt_done(st);
	return rc;
}

int
store_repo_collections(const char *did, int (*cb)(void *, const char *),
    void *arg)
{
	/*
	 * One seek per collection: the rows hold the records' bytes, and
	 * reading them all for a 20,000-record repo (describeRepo, which
	 * anyone may ask for) is megabytes.
	 */
	return walk_rows("WITH RECURSIVE c (x) AS (SELECT min(collection) "
	    "FROM records WHERE did = ?1 UNION ALL SELECT (SELECT "
	    "min(collection) FROM records WHERE did = ?1 AND collection > x) "
	    "FROM c WHERE x IS NOT NULL) SELECT x FROM c WHERE x IS NOT NULL",
	    STORE_ARGS(SB_TEXT(did)), cb, NULL, arg, "collections");
}

int
store_record_count(const char *did, int64_t *n)
{
	return store_ints("SELECT count(*) FROM records WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "record count", n, 1);
}

/* Nodes and commits: records are read in key order by a stream. */
int
store_nodes_all(const char *did,
    int (*cb)(void *, const char *, const uint8_t *, size_t), void *arg)
{
	return walk_rows("SELECT cid, content FROM repo_blocks WHERE did = ?1 "
	    "UNION ALL SELECT cid, content FROM repo_blocks_recent WHERE "
	    "did = ?1", STORE_ARGS(SB_TEXT(did)), NULL, cb, arg, "nodes all");
}

/*
 * The rows come in (collection, rkey) order, which is the tree's order
 * of "collection/rkey" except where one collection's name is another's
 * followed by a byte below '/' ("a.b" and "a.b.c"): the key asked for
 * then sorts before the row the stream is at, and the lookup finds it.
 */
int
store_recstream_open(struct store_recstream *rs, const char *did)
{
	memset(rs, 0, sizeof(*rs));
	return store_prep(&rs->st, "SELECT collection, rkey, cid, content "
	    "FROM records WHERE did = ?1", STORE_ARGS(SB_TEXT(did)));
}

/* Step to the next row; false at the end (or on an error, kept). */
static bool
recstream_step(struct store_recstream *rs)
{
	int	 r;

	rs->row = false;
	if (rs->end)
		return false;
	if ((r = sqlite3_step(rs->st)) == SQLITE_ROW)
		return rs->row = true;
	rs->end = true;
	if (r != SQLITE_DONE)
		rs->rc = store_err(r, "record stream");
	return false;
}

/* The current row's key against key: <0, 0 or >0, as memcmp. */
static int
recstream_cmp(struct store_recstream *rs, const uint8_t *key, size_t klen)
{
	const char	*c = (const char *)sqlite3_column_text(rs->st, 0);
	const char	*r = (const char *)sqlite3_column_text(rs->st, 1);
	size_t		 cl = (size_t)sqlite3_column_bytes(rs->st, 0);
	size_t		 rl = (size_t)sqlite3_column_bytes(rs->st, 1);
	size_t		 n;
	int		 d;

	if (c == NULL || r == NULL)
		return -1;		/* cannot be: skip the row */
	n = cl < klen ? cl : klen;
	if ((d = memcmp(c, key, n)) != 0)
		return d;
	if (cl >= klen)
		return 1;		/* key is a prefix of the collection */
	if (key[cl] != '/')
		return '/' - (int)key[cl];
	key += cl + 1;
	klen -= cl + 1;
	n = rl < klen ? rl : klen;
	if ((d = memcmp(r, key, n)) != 0)
		return d;
	return rl < klen ? -1 : rl > klen;
}

int
store_recstream_get(struct store_recstream *rs, const uint8_t *key,
    size_t klen, const struct cid *c, const uint8_t **data, size_t *len)
{
	struct cid	 have;
	int		 d = 1;

	if (rs->st == NULL)
		return PDS_ENOTFOUND;
	if (!rs->row && !rs->end)
		(void)recstream_step(rs);
	/* rows before the key: another order's, or looked up already */
	while (rs->row && (d = recstream_cmp(rs, key, klen)) < 0)
		(void)recstream_step(rs);
	if (rs->rc != PDS_OK)
		return rs->rc;
	if (!rs->row || d != 0 ||
	    sqlite3_column_type(rs->st, 3) == SQLITE_NULL ||
	    col_cid(rs->st, 2, &have) != PDS_OK || !cid_equal(&have, c))
		return PDS_ENOTFOUND;
	*data = sqlite3_column_blob(rs->st, 3);
	*len = (size_t)sqlite3_column_bytes(rs->st, 3);
	if (*data == NULL)
		*data = (const uint8_t *)"";
	rs->row = false;	/* the bytes stay valid until the next step */
	return PDS_OK;
}

void
store_recstream_close(struct store_recstream *rs)
{
	store_stmt_done(rs->st);
	memset(rs, 0, sizeof(*rs));
}

/*
 * SQLite matches the CIDs (against a table it builds of the wanted
 * ones): a third of the CPU of handing every row to cb to parse its CID,
 * 17 ms for one CID in a 25,000-record repo.
 */
int
store_record_blocks(const char *did, const char *cids_json,
    int (*cb)(void *, const char *, const uint8_t *, size_t), void *arg)
{
	return walk_rows("SELECT cid, content FROM records WHERE did = ?1 "
	    "AND content IS NOT NULL AND cid IN (SELECT value FROM "
	    "json_each(?2))", STORE_ARGS(SB_TEXT(did), SB_TEXT(cids_json)),
	    NULL, cb, arg, "record blocks");
}

/* Each record block once, at the newest rev that wrote it. */
int
store_blocks_since(const char *did, const char *since,
    int (*cb)(void *, const char *, const uint8_t *, size_t), void *arg)
{
	return walk_rows("SELECT cid, content, rev FROM repo_blocks "
	    "WHERE did = ?1 AND rev > ?2 UNION ALL SELECT cid, content, rev "
	    "FROM repo_blocks_recent WHERE did = ?1 AND rev > ?2 "
	    "UNION ALL SELECT cid, content, "
	    "max(rev) FROM records WHERE did = ?1 AND rev > ?2 AND content "
	    "IS NOT NULL GROUP BY cid ORDER BY 3 DESC, 1 DESC",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(since)), NULL, cb, arg,
	    "blocks since");
}

int
store_records_absorb(const char *did)
{
	int	 rc;

	if ((rc = store_run("UPDATE records SET content = b.content "
	    "FROM repo_blocks b WHERE records.did = ?1 AND b.did = ?1 AND "
	    "b.cid = records.cid AND records.content IS NULL",
	    STORE_ARGS(SB_TEXT(did)), "records absorb", NULL)) != PDS_OK)
		return rc;
	return store_run("DELETE FROM repo_blocks WHERE did = ?1 AND cid IN "
	    "(SELECT cid FROM records WHERE did = ?1 AND content IS NOT NULL)",
	    STORE_ARGS(SB_TEXT(did)), "record blocks moved", NULL);
}

/* ---- blobs ---------------------------------------------------------- */

static int
blob_read(sqlite3_stmt *st, void *arg)
{
	struct store_blob	*out = arg;
	int			 rc;

	rc = store_col_text(st, 0, out->mime_type, sizeof(out->mime_type));
	out->size = sqlite3_column_int64(st, 1);
	out->temp = sqlite3_column_int(st, 2) != 0;
	out->takendown = sqlite3_column_int(st, 3) != 0;
	if (rc == PDS_OK)
		rc = store_col_text(st, 4, out->created_at,
		    sizeof(out->created_at));
	return rc;
}

int
store_blob_get(const char *did, const struct cid *c, struct store_blob *out)
{
	return store_get("SELECT mime_type, size, "
	    "temp_key IS NOT NULL, takedown_ref IS NOT NULL, created_at "
	    "FROM blobs WHERE did = ?1 AND cid = ?2",
	    STORE_ARGS(SB_TEXT(did), SB_CID(c)), "blob get", blob_read, out);
}

int
store_blob_uploaded(const char *did, const struct cid *c, const char *mime,
    int64_t size, const char *key, const char *now)
{
	return store_run("INSERT INTO blobs (did, cid, mime_type, size, "
	    "temp_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (did, cid) DO UPDATE SET created_at = ?6 "
	    "WHERE temp_key IS NOT NULL", STORE_ARGS(SB_TEXT(did), SB_CID(c),
	    SB_TEXT(mime), SB_INT(size), SB_TEXT(key), SB_TEXT(now)),
	    "blob insert", NULL);
}

int
store_blob_list(const char *did, const char *since, const char *cursor,
    size_t limit, int (*cb)(void *, const char *), void *arg)
{
	const char	*sql;

	if (since != NULL)
		/* The uris of the records written since, looked up once. */
		sql = "SELECT DISTINCT blob_cid FROM record_blobs "
		    "WHERE did = ?1 AND blob_cid > ?3 AND record_uri IN "
		    "(SELECT 'at://' || did || '/' || collection || '/' || "
		    "rkey FROM records WHERE did = ?1 AND rev > ?2) "
		    "ORDER BY blob_cid LIMIT ?4";
	else
		sql = "SELECT DISTINCT blob_cid FROM record_blobs "
		    "WHERE did = ?1 AND blob_cid > ?3 "
		    "ORDER BY blob_cid LIMIT ?4";
	return walk_rows(sql, STORE_ARGS(SB_TEXT(did), SB_TEXTN(since),
	    SB_TEXT(cursor != NULL ? cursor : ""), SB_INT(limit)), cb, NULL,
	    arg, "blob list");
}

int
store_blob_temp_list(const char *before, size_t limit,
    void (*cb)(void *, const char *, const char *), void *arg)
{
	sqlite3_stmt	*st;
	const char	*d, *c;
	int		 rc;

	if ((rc = store_prep(&st, "SELECT did, cid FROM blobs WHERE temp_key "
	    "IS NOT NULL AND created_at < ?1 ORDER BY created_at LIMIT ?2",
	    STORE_ARGS(SB_TEXT(before), SB_INT(limit)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "temp blob list")) {
		d = (const char *)sqlite3_column_text(st, 0);
		c = (const char *)sqlite3_column_text(st, 1);
		if (d != NULL && c != NULL)
			cb(arg, d, c);
	}
	store_stmt_done(st);
	return rc;
}

int
store_blob_temp_delete(const char *did, const char *cid, const char *before,
    bool *deleted)
{
	int	 rc, n;

	rc = store_run("DELETE FROM blobs WHERE did = ?1 AND cid = ?2 AND "
	    "temp_key IS NOT NULL AND created_at < ?3 AND NOT EXISTS "
	    "(SELECT 1 FROM record_blobs WHERE did = ?1 AND blob_cid = ?2)",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(cid), SB_TEXT(before)),
	    "temp blob delete", &n);
	*deleted = n > 0;
	return rc;
}

int
store_blob_exists(const char *did, const char *cid, bool *exists)
{
	return store_has_row("SELECT 1 FROM blobs WHERE did = ?1 AND cid = ?2",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(cid)), exists, "blob exists");
}

/* ---- applying a commit ---------------------------------------------- */

static int
check_head(const struct store_commit *c)
{
	sqlite3_stmt	*st;
	struct cid	 head;
	int		 rc;

	if ((rc = store_row(&st, "SELECT cid FROM repo_root WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(c->did)), "head check")) == PDS_ENOTFOUND)
		return c->has_prev ? PDS_EMISMATCH : PDS_OK;
	if (rc != PDS_OK)
		return rc;
	rc = col_cid(st, 0, &head);
	if (rc == PDS_OK && (!c->has_prev ||
	    !cid_equal(&head, &c->prev_commit)))
		rc = PDS_EMISMATCH;
	store_stmt_done(st);
	return rc;
}

/* Append c and its NUL to the buf arg. */
static int
append_str(void *arg, const char *c)
{
	return buf_append(arg, c, strlen(c) + 1);
}

static int
old_blob_refs(const char *uri, struct buf *gone)
{
	return walk_rows("SELECT blob_cid FROM record_blobs "
	    "WHERE record_uri = ?1", STORE_ARGS(SB_TEXT(uri)), append_str, NULL,
	    gone, "old blob refs");
}

static int
apply_op(struct store_commit *c, const struct store_rec_op *op,
    struct buf *gone)
{
	char		 uri[URI_BUF];
	const uint8_t	*data;
	size_t		 i, len;
	int		 rc, n;

	snprintf(uri, sizeof(uri), "at://%s/%s/%s", c->did, op->collection,
	    op->rkey);
	if (op->action != MST_CREATE) {
		if ((rc = old_blob_refs(uri, gone)) != PDS_OK)
			return rc;
		if ((rc = store_run("DELETE FROM record_blobs "
		    "WHERE record_uri = ?1", STORE_ARGS(SB_TEXT(uri)),
		    "record blobs delete", NULL)) != PDS_OK)
			return rc;
	}
	if (op->action == MST_DELETE)
		return store_run("DELETE FROM records WHERE did = ?1 AND "
		    "collection = ?2 AND rkey = ?3", STORE_ARGS(SB_TEXT(c->did),
		    SB_TEXT(op->collection), SB_TEXT(op->rkey)), "record delete",
		    NULL);
	/* The record's bytes are among the commit's new blocks. */
	if (c->blocks == NULL ||
	    bs_mem_get(c->blocks, &op->cid, &data, &len) != PDS_OK) {
		c->why = "the record's block is not in the commit";
		return PDS_EINTERNAL;
	}
	if ((rc = store_run("INSERT INTO records (did, collection, rkey, "
	    "cid, rev, indexed_at, content) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "?7) ON CONFLICT (did, collection, rkey) DO UPDATE SET cid = ?4, "
	    "rev = ?5, indexed_at = ?6, content = ?7",
	    STORE_ARGS(SB_TEXT(c->did), SB_TEXT(op->collection),
	    SB_TEXT(op->rkey), SB_CID(&op->cid), SB_TEXT(c->rev),
	    SB_TEXT(c->now), SB_BLOB(len ? (const void *)data :
	    (const void *)"", len)), "record upsert", NULL)) != PDS_OK)
		return rc;
	for (i = 0; i < op->nblobs; i++) {
		/* The blob becomes permanent, or the commit fails. */
		if ((rc = store_run("UPDATE blobs SET temp_key = NULL "
		    "WHERE did = ?1 AND cid = ?2", STORE_ARGS(SB_TEXT(c->did),
		    SB_CID(&op->blobs[i])), "blob keep", &n)) != PDS_OK)
			return rc;
		if (n == 0) {
			c->why = "Could not find blob";
			return PDS_ENOTFOUND;
		}
		if ((rc = store_run("INSERT OR IGNORE INTO record_blobs (did, "
		    "blob_cid, record_uri) VALUES (?1, ?2, ?3)",
		    STORE_ARGS(SB_TEXT(c->did), SB_CID(&op->blobs[i]),
		    SB_TEXT(uri)), "record blob", NULL)) != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

static int
collect_blobs(struct store_commit *c, const struct buf *gone)
{
	const char	*p, *end;
	int		 rc, n;

	if (gone->len == 0)
		return PDS_OK;
	p = (const char *)gone->p;
	end = p + gone->len;
	for (; p < end; p += strlen(p) + 1) {
		if ((rc = store_run("DELETE FROM blobs WHERE did = ?1 AND "
		    "cid = ?2 AND temp_key IS NULL AND NOT EXISTS (SELECT 1 "
		    "FROM record_blobs WHERE did = ?1 AND blob_cid = ?2)",
		    STORE_ARGS(SB_TEXT(c->did), SB_TEXT(p)), "blob gc",
		    &n)) != PDS_OK)
			return rc;
		if (n > 0 && c->blob_gone != NULL)
			c->blob_gone(c->blob_gone_arg, c->did, p);
	}
	return PDS_OK;
}

static int
remove_blocks(const struct store_commit *c)
{
	size_t		 i;
	int		 rc, n;

	/* Old record values went with their rows (schema 14). */
	for (i = 0; i < c->nremoved; i++) {
		if ((rc = store_run("DELETE FROM repo_blocks_recent WHERE "
		    "did = ?1 AND cid = ?2", STORE_ARGS(SB_TEXT(c->did),
		    SB_CID(&c->removed[i])), "recent block delete", &n)) !=
		    PDS_OK)
			return rc;
		if (n == 0 && (rc = store_run("DELETE FROM repo_blocks WHERE "
		    "did = ?1 AND cid = ?2", STORE_ARGS(SB_TEXT(c->did),
		    SB_CID(&c->removed[i])), "block delete", NULL)) != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

/* A new node or commit; a record's bytes went into its row. */
static int
insert_block(void *arg, const struct cid *cid, const uint8_t *data,
    size_t len)
{
	const struct store_commit *c = arg;
	size_t		 i;

	for (i = 0; i < c->nops; i++)
		if (c->ops[i].action != MST_DELETE &&
		    cid_equal(&c->ops[i].cid, cid))
			return PDS_OK;
	return store_run("INSERT OR IGNORE INTO repo_blocks_recent (did, cid, "
	    "rev, size, content) VALUES (?1, ?2, ?3, ?4, ?5)",
	    STORE_ARGS(SB_TEXT(c->did), SB_CID(cid), SB_TEXT(c->rev),
	    SB_INT(len), SB_BLOB(len ? (const void *)data : (const void *)"",
	    len)), "block insert", NULL);
}

static int
set_head(const struct store_commit *c)
{
	return store_run("INSERT INTO repo_root (did, cid, rev, indexed_at) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (did) DO UPDATE SET "
	    "cid = ?2, rev = ?3, indexed_at = ?4", STORE_ARGS(SB_TEXT(c->did),
	    SB_CID(&c->commit), SB_TEXT(c->rev), SB_TEXT(c->now)),
	    "head update", NULL);
}

int
store_repo_settle(int64_t keep, int64_t batch, int *moved)
{
	int64_t	 v[2];
	int	 rc;

	if (moved != NULL)
		*moved = 0;
	if ((rc = store_ints("SELECT coalesce(max(id), 0), "
	    "coalesce(min(id), 0) FROM repo_blocks_recent", NULL,
	    "recent span", v, 2)) != PDS_OK)
		return rc;
	if (v[0] - v[1] < keep + batch)
		return PDS_OK;
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	rc = store_run("INSERT OR IGNORE INTO repo_blocks (did, cid, rev, "
	    "size, content) SELECT did, cid, rev, size, content FROM "
	    "repo_blocks_recent WHERE id <= ?1 ORDER BY did, cid",
	    STORE_ARGS(SB_INT(v[0] - keep)), "recent blocks settle", NULL);
	if (rc == PDS_OK)
		rc = store_run("DELETE FROM repo_blocks_recent WHERE id <= ?1",
		    STORE_ARGS(SB_INT(v[0] - keep)), "recent blocks settled",
		    moved);
	return store_end(rc);
}

int
store_repo_apply(struct store_commit *c)
{
	struct buf	 gone;
	size_t		 i;
	int		 rc;

	c->why = NULL;
	if ((rc = check_head(c)) != PDS_OK) {
		c->why = "the repo moved on (a concurrent write failed)";
		return rc;
	}
	buf_init(&gone, (size_t)16 << 20);
	if (c->blocks != NULL)
		rc = bs_mem_foreach(c->blocks, insert_block, c);
	for (i = 0; i < c->nops && rc == PDS_OK; i++)
		rc = apply_op(c, &c->ops[i], &gone);
	if (rc == PDS_OK)
		rc = collect_blobs(c, &gone);
	if (rc == PDS_OK)
		rc = remove_blocks(c);
	if (rc == PDS_OK)
		rc = set_head(c);
	buf_clear(&gone);
	return rc;
}
