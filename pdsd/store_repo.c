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

static int
bind_cid(sqlite3_stmt *st, int i, const struct cid *c)
{
	char	 s[CID_STR_MAX];

	if (cid_format(c, s, sizeof(s)) < 0)
		return PDS_EINVAL;
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) == SQLITE_OK ?
	    PDS_OK : PDS_ENOMEM;
}

/* ---- the block store ------------------------------------------------ */

static int
sbs_get(void *ctx, const struct cid *c, const uint8_t **data, size_t *len)
{
	struct store_bs	*bs = ctx;
	int		 rc;

	if ((rc = store_block_get(bs->did, c, &bs->tmp)) != PDS_OK)
		return rc;
	*data = bs->tmp.p != NULL ? bs->tmp.p : (const uint8_t *)"";
	*len = bs->tmp.len;
	return PDS_OK;
}

void
store_bs_init(struct store_bs *bs, const char *did)
{
	snprintf(bs->did, sizeof(bs->did), "%s", did);
	buf_init(&bs->tmp, (size_t)4 << 20);
}

void
store_bs_free(struct store_bs *bs)
{
	buf_free(&bs->tmp);
}

struct blockstore
store_bs_store(struct store_bs *bs)
{
	struct blockstore b = { sbs_get, NULL, bs };

	return b;
}

int
store_block_get(const char *did, const struct cid *c, struct buf *out)
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT content FROM repo_blocks "
	    "WHERE did = ?1 AND cid = ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	if ((ret = bind_cid(st, 2, c)) != PDS_OK) {
		store_stmt_done(st);
		return ret;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		buf_reset(out);
		ret = buf_append(out, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
	} else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "block get");
	store_stmt_done(st);
	return ret;
}

static int
exec_cached(const char *sql)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_stmt(sql)) == NULL)
		return PDS_EIO;
	rc = sqlite3_step(st);
	store_stmt_done(st);
	return store_err(rc, sql);
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
	return store_exec("BEGIN DEFERRED");
}

void
store_repo_read_end(void)
{
	sqlite3	*db = store_db();

	if (db != NULL && !sqlite3_get_autocommit(db))
		(void)store_exec("COMMIT");
}

/* ---- accounts ------------------------------------------------------- */

int
store_repo_acct_find(const char *id, struct store_repo_acct *out)
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	if (strncmp(id, "did:", 4) == 0)
		st = store_stmt("SELECT did, handle, status, created_at "
		    "FROM accounts WHERE did = ?1");
	else
		st = store_stmt("SELECT did, handle, status, created_at "
		    "FROM accounts WHERE handle = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = store_col_text(st, 0, out->did, sizeof(out->did));
		if (ret == PDS_OK)
			ret = store_col_text(st, 1, out->handle,
			    sizeof(out->handle));
		if (ret == PDS_OK)
			ret = store_col_text(st, 2, out->status,
			    sizeof(out->status));
		if (ret == PDS_OK)
			ret = store_col_text(st, 3, out->created_at,
			    sizeof(out->created_at));
	} else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "account lookup");
	store_stmt_done(st);
	return ret;
}

/* ---- the head ------------------------------------------------------- */

int
store_repo_root_get(const char *did, struct cid *commit,
    char rev[TID_LEN + 1])
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT cid, rev FROM repo_root WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = col_cid(st, 0, commit);
		if (ret == PDS_OK)
			ret = store_col_text(st, 1, rev, TID_LEN + 1);
	} else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "repo root");
	store_stmt_done(st);
	return ret;
}

int
store_repo_list(const char *cursor, size_t limit,
    int (*cb)(void *, const struct store_repo_listed *), void *arg,
    char *next, size_t cap)
{
	sqlite3_stmt	*st;
	struct store_repo_listed l;
	const char	*sep;
	char		 ts[STORE_TS_LEN];
	size_t		 n = 0;
	int		 rc, ret = PDS_OK;

	st = store_stmt("SELECT a.did, r.cid, r.rev, a.status, a.created_at "
	    "FROM accounts a JOIN repo_root r ON r.did = a.did "
	    "WHERE a.status != 'deleted' AND (a.created_at, a.did) > (?1, ?2) "
	    "ORDER BY a.created_at, a.did LIMIT ?3");
	if (st == NULL)
		return PDS_EIO;
	if (cursor != NULL && (sep = strstr(cursor, "::")) != NULL &&
	    (size_t)(sep - cursor) < sizeof(ts)) {
		memcpy(ts, cursor, (size_t)(sep - cursor));
		ts[sep - cursor] = '\0';
		sqlite3_bind_text(st, 1, ts, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, sep + 2, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(st, 1, "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, "", -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	if (cap > 0)
		next[0] = '\0';
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		l.did = (const char *)sqlite3_column_text(st, 0);
		l.head = (const char *)sqlite3_column_text(st, 1);
		l.rev = (const char *)sqlite3_column_text(st, 2);
		l.status = (const char *)sqlite3_column_text(st, 3);
		l.created_at = (const char *)sqlite3_column_text(st, 4);
		if (l.did == NULL || l.head == NULL || l.rev == NULL ||
		    l.status == NULL || l.created_at == NULL)
			continue;
		n++;
		if ((ret = cb(arg, &l)) != 0)
			break;
		snprintf(next, cap, "%s::%s", l.created_at, l.did);
	}
	if (ret == PDS_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_err(rc, "repo list");
	if (ret == PDS_OK && n < limit && cap > 0)
		next[0] = '\0';
	store_stmt_done(st);
	return ret;
}

/* ---- the record index ----------------------------------------------- */

int
store_record_get(const char *did, const char *collection, const char *rkey,
    bool with_takendown, struct cid *cid, struct buf *out)
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT r.cid, r.takedown_ref IS NOT NULL, b.content "
	    "FROM records r LEFT JOIN repo_blocks b "
	    "ON b.did = r.did AND b.cid = r.cid "
	    "WHERE r.did = ?1 AND r.collection = ?2 AND r.rkey = ?3");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rkey, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (!with_takendown && sqlite3_column_int(st, 1))
			ret = PDS_ENOTFOUND;
		else if (sqlite3_column_type(st, 2) == SQLITE_NULL)
			ret = PDS_ENOTFOUND;
		else if ((ret = col_cid(st, 0, cid)) == PDS_OK && out != NULL) {
			buf_reset(out);
			ret = buf_append(out, sqlite3_column_blob(st, 2),
			    (size_t)sqlite3_column_bytes(st, 2));
		}
	} else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "record get");
	store_stmt_done(st);
	return ret;
}

#define RECORD_LIST_COLS "SELECT r.rkey, r.cid, b.content FROM records r " \
	"JOIN repo_blocks b ON b.did = r.did AND b.cid = r.cid "	\
	"WHERE r.did = ?1 AND r.collection = ?2 AND r.takedown_ref IS NULL "

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
	int		 rc, ret = PDS_OK;

	if (cursor != NULL)
		st = store_stmt(reverse ? q_asc : q_desc);
	else
		st = store_stmt(reverse ? q_asc : q_desc0);
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
	/* ascending from the start: every rkey is > "" */
	sqlite3_bind_text(st, 3, cursor != NULL ? cursor : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		l.rkey = (const char *)sqlite3_column_text(st, 0);
		l.cid = (const char *)sqlite3_column_text(st, 1);
		l.data = sqlite3_column_blob(st, 2);
		l.len = (size_t)sqlite3_column_bytes(st, 2);
		if (l.rkey == NULL || l.cid == NULL)
			continue;
		if ((ret = cb(arg, &l)) != 0)
			break;
	}
	if (ret == PDS_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_err(rc, "record list");
	store_stmt_done(st);
	return ret;
}

/*
 * Step st, a query of one text column, calling cb per non-NULL value;
 * cb's non-zero return stops the walk with that value.  Finishes st.
 */
static int
walk_text(sqlite3_stmt *st, int (*cb)(void *, const char *), void *arg,
    const char *what)
{
	const char	*c;
	int		 rc, ret = PDS_OK;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((c = (const char *)sqlite3_column_text(st, 0)) == NULL)
			continue;
		if ((ret = cb(arg, c)) != 0)
			break;
	}
	if (ret == PDS_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_err(rc, what);
	store_stmt_done(st);
	return ret;
}

int
store_repo_collections(const char *did, int (*cb)(void *, const char *),
    void *arg)
{
	sqlite3_stmt	*st;

	st = store_stmt("SELECT DISTINCT collection FROM records "
	    "WHERE did = ?1 ORDER BY collection");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	return walk_text(st, cb, arg, "collections");
}

int
store_record_count(const char *did, int64_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_stmt("SELECT count(*) FROM records WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	store_stmt_done(st);
	return rc == SQLITE_ROW ? PDS_OK : store_err(rc, "record count");
}

int
store_blocks_since(const char *did, const char *since,
    int (*cb)(void *, const char *, const uint8_t *, size_t), void *arg)
{
	sqlite3_stmt	*st;
	const char	*c;
	int		 rc, ret = PDS_OK;

	st = store_stmt("SELECT cid, content FROM repo_blocks "
	    "WHERE did = ?1 AND rev > ?2 ORDER BY rev DESC, cid DESC");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((c = (const char *)sqlite3_column_text(st, 0)) == NULL)
			continue;
		if ((ret = cb(arg, c, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1))) != 0)
			break;
	}
	if (ret == PDS_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_err(rc, "blocks since");
	store_stmt_done(st);
	return ret;
}

/* ---- blobs ---------------------------------------------------------- */

int
store_blob_get(const char *did, const struct cid *c, struct store_blob *out)
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT mime_type, size, temp_key IS NOT NULL, "
	    "takedown_ref IS NOT NULL, created_at FROM blobs "
	    "WHERE did = ?1 AND cid = ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	if ((ret = bind_cid(st, 2, c)) != PDS_OK) {
		store_stmt_done(st);
		return ret;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = store_col_text(st, 0, out->mime_type,
		    sizeof(out->mime_type));
		out->size = sqlite3_column_int64(st, 1);
		out->temp = sqlite3_column_int(st, 2) != 0;
		out->takendown = sqlite3_column_int(st, 3) != 0;
		if (ret == PDS_OK)
			ret = store_col_text(st, 4, out->created_at,
			    sizeof(out->created_at));
	} else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "blob get");
	store_stmt_done(st);
	return ret;
}

int
store_blob_uploaded(const char *did, const struct cid *c, const char *mime,
    int64_t size, const char *key, const char *now)
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("INSERT INTO blobs (did, cid, mime_type, size, "
	    "temp_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (did, cid) DO UPDATE SET created_at = ?6 "
	    "WHERE temp_key IS NOT NULL");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	if ((ret = bind_cid(st, 2, c)) != PDS_OK) {
		store_stmt_done(st);
		return ret;
	}
	sqlite3_bind_text(st, 3, mime, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, size);
	sqlite3_bind_text(st, 5, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	ret = store_err(rc, "blob insert");
	store_stmt_done(st);
	return ret;
}

int
store_blob_list(const char *did, const char *since, const char *cursor,
    size_t limit, int (*cb)(void *, const char *), void *arg)
{
	sqlite3_stmt	*st;

	if (since != NULL)
		st = store_stmt("SELECT DISTINCT rb.blob_cid FROM record_blobs "
		    "rb JOIN records r ON r.uri = rb.record_uri "
		    "WHERE rb.did = ?1 AND r.rev > ?2 AND rb.blob_cid > ?3 "
		    "ORDER BY rb.blob_cid LIMIT ?4");
	else
		st = store_stmt("SELECT DISTINCT blob_cid FROM record_blobs "
		    "WHERE did = ?1 AND blob_cid > ?3 "
		    "ORDER BY blob_cid LIMIT ?4");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	if (since != NULL)
		sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cursor != NULL ? cursor : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
	return walk_text(st, cb, arg, "blob list");
}

int
store_blob_temp_list(const char *before, size_t limit,
    void (*cb)(void *, const char *, const char *), void *arg)
{
	sqlite3_stmt	*st;
	const char	*d, *c;
	int		 rc;

	st = store_stmt("SELECT did, cid FROM blobs WHERE temp_key IS NOT "
	    "NULL AND created_at < ?1 ORDER BY created_at LIMIT ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, before, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		d = (const char *)sqlite3_column_text(st, 0);
		c = (const char *)sqlite3_column_text(st, 1);
		if (d != NULL && c != NULL)
			cb(arg, d, c);
	}
	store_stmt_done(st);
	return rc == SQLITE_DONE ? PDS_OK : store_err(rc, "temp blob list");
}

int
store_blob_temp_delete(const char *did, const char *cid, const char *before,
    bool *deleted)
{
	sqlite3_stmt	*st;
	int		 rc;

	*deleted = false;
	st = store_stmt("DELETE FROM blobs WHERE did = ?1 AND cid = ?2 AND "
	    "temp_key IS NOT NULL AND created_at < ?3 AND NOT EXISTS "
	    "(SELECT 1 FROM record_blobs WHERE did = ?1 AND blob_cid = ?2)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, before, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		*deleted = sqlite3_changes(store_db()) > 0;
	store_stmt_done(st);
	return store_err(rc, "temp blob delete");
}

int
store_blob_exists(const char *did, const char *cid, bool *exists)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_stmt("SELECT 1 FROM blobs WHERE did = ?1 AND cid = ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*exists = rc == SQLITE_ROW;
	store_stmt_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PDS_OK :
	    store_err(rc, "blob exists");
}

/* ---- applying a commit ---------------------------------------------- */

static int
check_head(const struct store_commit *c)
{
	sqlite3_stmt	*st;
	struct cid	 head;
	int		 rc, ret;

	st = store_stmt("SELECT cid FROM repo_root WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, c->did, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = col_cid(st, 0, &head);
		if (ret == PDS_OK && (!c->has_prev ||
		    !cid_equal(&head, &c->prev_commit)))
			ret = PDS_EMISMATCH;
	} else if (rc == SQLITE_DONE)
		ret = c->has_prev ? PDS_EMISMATCH : PDS_OK;
	else
		ret = store_err(rc, "head check");
	store_stmt_done(st);
	return ret;
}

/* The blobs `uri' referenced before this commit, for the GC. */
static int
old_blob_refs(const char *uri, struct buf *gone)
{
	sqlite3_stmt	*st;
	const char	*c;
	int		 rc, ret = PDS_OK;

	st = store_stmt("SELECT blob_cid FROM record_blobs "
	    "WHERE record_uri = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((c = (const char *)sqlite3_column_text(st, 0)) == NULL)
			continue;
		if ((ret = buf_append(gone, c, strlen(c) + 1)) != PDS_OK)
			break;
	}
	if (ret == PDS_OK && rc != SQLITE_DONE)
		ret = store_err(rc, "old blob refs");
	store_stmt_done(st);
	return ret;
}

static int
apply_op(struct store_commit *c, const struct store_rec_op *op,
    struct buf *gone)
{
	sqlite3_stmt	*st;
	char		 uri[URI_BUF];
	size_t		 i;
	int		 rc, n;

	snprintf(uri, sizeof(uri), "at://%s/%s/%s", c->did, op->collection,
	    op->rkey);
	if (op->action != MST_CREATE) {
		if ((rc = old_blob_refs(uri, gone)) != PDS_OK)
			return rc;
		st = store_stmt("DELETE FROM record_blobs WHERE record_uri = ?1");
		if (st == NULL)
			return PDS_EIO;
		sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
		if ((rc = store_step_done(st, "record blobs delete",
		    NULL)) != PDS_OK)
			return rc;
	}
	if (op->action == MST_DELETE) {
		st = store_stmt("DELETE FROM records WHERE uri = ?1");
		if (st == NULL)
			return PDS_EIO;
		sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
		return store_step_done(st, "record delete", NULL);
	}
	st = store_stmt("INSERT INTO records (uri, did, collection, rkey, cid, "
	    "rev, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	    "ON CONFLICT (uri) DO UPDATE SET cid = ?5, rev = ?6, "
	    "indexed_at = ?7");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, op->rkey, -1, SQLITE_STATIC);
	if ((rc = bind_cid(st, 5, &op->cid)) != PDS_OK) {
		store_stmt_done(st);
		return rc;
	}
	sqlite3_bind_text(st, 6, c->rev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->now, -1, SQLITE_STATIC);
	if ((rc = store_step_done(st, "record upsert", NULL)) != PDS_OK)
		return rc;
	for (i = 0; i < op->nblobs; i++) {
		/* The blob becomes permanent, or the commit fails. */
		st = store_stmt("UPDATE blobs SET temp_key = NULL "
		    "WHERE did = ?1 AND cid = ?2");
		if (st == NULL)
			return PDS_EIO;
		sqlite3_bind_text(st, 1, c->did, -1, SQLITE_STATIC);
		if ((rc = bind_cid(st, 2, &op->blobs[i])) != PDS_OK) {
			store_stmt_done(st);
			return rc;
		}
		if ((rc = store_step_done(st, "blob keep", &n)) != PDS_OK)
			return rc;
		if (n == 0) {
			c->why = "Could not find blob";
			c->err_name = "BlobNotFound";
			return PDS_ENOTFOUND;
		}
		st = store_stmt("INSERT OR IGNORE INTO record_blobs (did, "
		    "blob_cid, record_uri) VALUES (?1, ?2, ?3)");
		if (st == NULL)
			return PDS_EIO;
		sqlite3_bind_text(st, 1, c->did, -1, SQLITE_STATIC);
		if ((rc = bind_cid(st, 2, &op->blobs[i])) != PDS_OK) {
			store_stmt_done(st);
			return rc;
		}
		sqlite3_bind_text(st, 3, uri, -1, SQLITE_STATIC);
		if ((rc = store_step_done(st, "record blob", NULL)) != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

/* Delete the rows of blobs no record refers to any more. */
static int
collect_blobs(struct store_commit *c, const struct buf *gone)
{
	sqlite3_stmt	*st;
	const char	*p, *end;
	int		 rc, n;

	if (gone->len == 0)
		return PDS_OK;
	p = (const char *)gone->p;
	end = p + gone->len;
	for (; p < end; p += strlen(p) + 1) {
		st = store_stmt("DELETE FROM blobs WHERE did = ?1 AND "
		    "cid = ?2 AND temp_key IS NULL AND NOT EXISTS (SELECT 1 "
		    "FROM record_blobs WHERE did = ?1 AND blob_cid = ?2)");
		if (st == NULL)
			return PDS_EIO;
		sqlite3_bind_text(st, 1, c->did, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p, -1, SQLITE_STATIC);
		if ((rc = store_step_done(st, "blob gc", &n)) != PDS_OK)
			return rc;
		if (n > 0 && c->blob_gone != NULL)
			c->blob_gone(c->blob_gone_arg, c->did, p);
	}
	return PDS_OK;
}

static int
remove_blocks(const struct store_commit *c)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	for (i = 0; i < c->nremoved; i++) {
		st = store_stmt("DELETE FROM repo_blocks WHERE did = ?1 AND "
		    "cid = ?2");
		if (st == NULL)
			return PDS_EIO;
		sqlite3_bind_text(st, 1, c->did, -1, SQLITE_STATIC);
		if ((rc = bind_cid(st, 2, &c->removed[i])) != PDS_OK) {
			store_stmt_done(st);
			return rc;
		}
		if ((rc = store_step_done(st, "block delete", NULL)) != PDS_OK)
			return rc;
	}
	/* Old record values, unless another record has the same bytes. */
	for (i = 0; i < c->nops; i++) {
		if (c->ops[i].action == MST_CREATE)
			continue;
		st = store_stmt("DELETE FROM repo_blocks WHERE did = ?1 AND "
		    "cid = ?2 AND NOT EXISTS (SELECT 1 FROM records "
		    "WHERE did = ?1 AND cid = ?2)");
		if (st == NULL)
			return PDS_EIO;
		sqlite3_bind_text(st, 1, c->did, -1, SQLITE_STATIC);
		if ((rc = bind_cid(st, 2, &c->ops[i].prev)) != PDS_OK) {
			store_stmt_done(st);
			return rc;
		}
		if ((rc = store_step_done(st, "record block delete",
		    NULL)) != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

static int
insert_block(void *arg, const struct cid *cid, const uint8_t *data,
    size_t len)
{
	const struct store_commit *c = arg;
	sqlite3_stmt	*st;
	int		 rc;

	st = store_stmt("INSERT OR IGNORE INTO repo_blocks (did, cid, rev, "
	    "size, content) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, c->did, -1, SQLITE_STATIC);
	if ((rc = bind_cid(st, 2, cid)) != PDS_OK) {
		store_stmt_done(st);
		return rc;
	}
	sqlite3_bind_text(st, 3, c->rev, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)len);
	sqlite3_bind_blob(st, 5, len ? (const void *)data : (const void *)"",
	    (int)len, SQLITE_STATIC);
	return store_step_done(st, "block insert", NULL);
}

static int
set_head(const struct store_commit *c)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_stmt("INSERT INTO repo_root (did, cid, rev, indexed_at) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (did) DO UPDATE SET "
	    "cid = ?2, rev = ?3, indexed_at = ?4");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, c->did, -1, SQLITE_STATIC);
	if ((rc = bind_cid(st, 2, &c->commit)) != PDS_OK) {
		store_stmt_done(st);
		return rc;
	}
	sqlite3_bind_text(st, 3, c->rev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->now, -1, SQLITE_STATIC);
	return store_step_done(st, "head update", NULL);
}

int
store_repo_apply(struct store_commit *c)
{
	struct buf	 gone;
	size_t		 i;
	int		 rc;

	c->why = NULL;
	c->err_name = NULL;
	if ((rc = check_head(c)) != PDS_OK) {
		c->why = "the repo moved on (a concurrent write failed)";
		return rc;
	}
	buf_init(&gone, (size_t)16 << 20);
	for (i = 0; i < c->nops && rc == PDS_OK; i++)
		rc = apply_op(c, &c->ops[i], &gone);
	if (rc == PDS_OK)
		rc = collect_blobs(c, &gone);
	if (rc == PDS_OK)
		rc = remove_blocks(c);
	if (rc == PDS_OK && c->blocks != NULL)
		rc = bs_mem_foreach(c->blocks, insert_block, c);
	if (rc == PDS_OK)
		rc = set_head(c);
	buf_free(&gone);
	return rc;
}
