/*
 * store_migration: email tokens, account migrations and importRepo's
 * repository replacement.  See store_migration.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store_internal.h"
#include "store_migration.h"

static int64_t
col_int_or(sqlite3_stmt *st, int i, int64_t dflt)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return dflt;
	return sqlite3_column_int64(st, i);
}

/* ---- email tokens ---- */

int
store_email_token_put(const char *purpose, const char *did,
    const char *token, const char *now)
{
	sqlite3_stmt	*st;

	st = store_stmt("INSERT INTO email_tokens (purpose, did, token, "
	    "requested_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (purpose, did) "
	    "DO UPDATE SET token = ?3, requested_at = ?4");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, purpose, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	return store_step_done(st, "email token put", NULL);
}

int
store_email_token_get(const char *purpose, const char *did,
    char token[SM_TOKEN_MAX], char requested_at[STORE_TS_LEN])
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT token, requested_at FROM email_tokens "
	    "WHERE purpose = ?1 AND did = ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, purpose, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, did, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((ret = store_col_text(st, 0, token,
		    SM_TOKEN_MAX)) == PDS_OK)
			ret = store_col_text(st, 1, requested_at, STORE_TS_LEN);
	} else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "email token get");
	store_stmt_done(st);
	return ret;
}

int
store_email_token_find(const char *purpose, const char *token,
    char did[SA_DID_MAX + 1], char requested_at[STORE_TS_LEN])
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT did, requested_at FROM email_tokens "
	    "WHERE purpose = ?1 AND token = ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, purpose, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, token, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((ret = store_col_text(st, 0, did,
		    SA_DID_MAX + 1)) == PDS_OK)
			ret = store_col_text(st, 1, requested_at, STORE_TS_LEN);
	} else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "email token find");
	store_stmt_done(st);
	return ret;
}

int
store_email_token_delete(const char *purpose, const char *did)
{
	sqlite3_stmt	*st;

	st = store_stmt("DELETE FROM email_tokens WHERE purpose = ?1 AND "
	    "did = ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, purpose, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, did, -1, SQLITE_STATIC);
	return store_step_done(st, "email token delete", NULL);
}

int
store_email_token_prune(const char *before, int64_t *n)
{
	sqlite3_stmt	*st;
	int		 rc, changes;

	st = store_stmt("DELETE FROM email_tokens WHERE requested_at < ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, before, -1, SQLITE_STATIC);
	rc = store_step_done(st, "email token prune", &changes);
	if (n != NULL)
		*n = changes;
	return rc;
}

int
store_account_email_confirmed(const char *did, const char *at)
{
	sqlite3_stmt	*st;
	int		 rc, changes;

	st = store_stmt("UPDATE accounts SET email_confirmed_at = ?2 "
	    "WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	store_bind_text_or_null(st, 2, at);
	rc = store_step_done(st, "email confirmed", &changes);
	if (rc == PDS_OK && changes == 0)
		rc = PDS_ENOTFOUND;
	return rc;
}

int
store_account_mark_deactivated(const char *did, const char *at,
    const char *delete_after)
{
	sqlite3_stmt	*st;
	int		 rc, changes;

	st = store_stmt("UPDATE accounts SET deactivated_at = ?2, "
	    "delete_after = ?3 WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
	store_bind_text_or_null(st, 3, delete_after);
	rc = store_step_done(st, "mark deactivated", &changes);
	if (rc == PDS_OK && changes == 0)
		rc = PDS_ENOTFOUND;
	return rc;
}

/* ---- migrations ---- */

int
store_mig_put(const char *did, const char *direction, const char *state,
    const char *peer, const char *now)
{
	sqlite3_stmt	*st;

	st = store_stmt("INSERT INTO account_migrations (did, direction, "
	    "state, started_at, updated_at, peer) "
	    "VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (did) DO UPDATE SET "
	    "started_at = CASE WHEN direction = ?2 THEN started_at ELSE ?4 END,"
	    "records_expected = CASE WHEN direction = ?2 THEN "
	    "  records_expected END,"
	    "blocks_imported = CASE WHEN direction = ?2 THEN "
	    "  blocks_imported END,"
	    "source_commit = CASE WHEN direction = ?2 THEN source_commit END,"
	    "source_rev = CASE WHEN direction = ?2 THEN source_rev END,"
	    "peer = coalesce(?5, CASE WHEN direction = ?2 THEN peer END),"
	    "direction = ?2, state = ?3, updated_at = ?4");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, direction, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	store_bind_text_or_null(st, 5, peer);
	return store_step_done(st, "migration put", NULL);
}

/*
 * The columns both store_mig_get() and store_mig_list() read: the
 * account, its migration row (maybe absent) and the live counts.
 */
#define MIG_COLUMNS \
	"a.did, a.handle, a.status, m.direction, m.state, " \
	"coalesce(m.started_at, a.deactivated_at, a.created_at), " \
	"coalesce(m.updated_at, a.deactivated_at, a.created_at), " \
	"m.records_expected, m.blocks_imported, m.source_commit, " \
	"m.source_rev, m.peer, " \
	"(SELECT count(*) FROM records r WHERE r.did = a.did), " \
	"(SELECT count(*) FROM repo_blocks b WHERE b.did = a.did), " \
	"(SELECT count(DISTINCT blob_cid) FROM record_blobs rb " \
	"  WHERE rb.did = a.did), " \
	"(SELECT count(DISTINCT rb.blob_cid) FROM record_blobs rb " \
	"  JOIN blobs bl ON bl.did = rb.did AND bl.cid = rb.blob_cid " \
	"  WHERE rb.did = a.did) "

static int
mig_row(sqlite3_stmt *st, struct store_mig *m)
{
	memset(m, 0, sizeof(*m));
	if (store_col_text(st, 0, m->did, sizeof(m->did)) != PDS_OK ||
	    store_col_text(st, 1, m->handle, sizeof(m->handle)) != PDS_OK ||
	    store_col_text(st, 2, m->status, sizeof(m->status)) != PDS_OK ||
	    store_col_text(st, 3, m->direction,
	    sizeof(m->direction)) != PDS_OK ||
	    store_col_text(st, 4, m->state, sizeof(m->state)) != PDS_OK ||
	    store_col_text(st, 5, m->started_at,
	    sizeof(m->started_at)) != PDS_OK ||
	    store_col_text(st, 6, m->updated_at,
	    sizeof(m->updated_at)) != PDS_OK ||
	    store_col_text(st, 9, m->source_commit, sizeof(m->source_commit)) !=
	    PDS_OK ||
	    store_col_text(st, 10, m->source_rev,
	    sizeof(m->source_rev)) != PDS_OK ||
	    store_col_text(st, 11, m->peer, sizeof(m->peer)) != PDS_OK)
		return PDS_ETOOBIG;
	m->records_expected = col_int_or(st, 7, -1);
	m->blocks_imported = col_int_or(st, 8, -1);
	m->records = sqlite3_column_int64(st, 12);
	m->repo_blocks = sqlite3_column_int64(st, 13);
	m->blobs_expected = sqlite3_column_int64(st, 14);
	m->blobs_imported = sqlite3_column_int64(st, 15);
	return PDS_OK;
}

int
store_mig_get(const char *did, struct store_mig *out)
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT " MIG_COLUMNS "FROM accounts a "
	    "LEFT JOIN account_migrations m ON m.did = a.did "
	    "WHERE a.did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = mig_row(st, out);
	else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "migration get");
	store_stmt_done(st);
	return ret;
}

int
store_mig_set_import(const char *did, int64_t records, int64_t blocks,
    const char *source_commit, const char *source_rev, const char *now)
{
	sqlite3_stmt	*st;

	st = store_stmt("UPDATE account_migrations SET records_expected = ?2,"
	    " blocks_imported = ?3, source_commit = ?4, source_rev = ?5, "
	    "state = CASE WHEN direction = 'in' THEN 'imported' ELSE state END,"
	    " updated_at = ?6 WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, records);
	sqlite3_bind_int64(st, 3, blocks);
	store_bind_text_or_null(st, 4, source_commit);
	store_bind_text_or_null(st, 5, source_rev);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	return store_step_done(st, "migration import", NULL);
}

int
store_mig_delete(const char *did)
{
	sqlite3_stmt	*st;

	st = store_stmt("DELETE FROM account_migrations WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	return store_step_done(st, "migration delete", NULL);
}

int
store_mig_list(int (*cb)(void *, const struct store_mig *), void *arg)
{
	struct store_mig	*m;
	sqlite3_stmt		*st;
	int			 rc, ret = PDS_OK;

	st = store_stmt("SELECT " MIG_COLUMNS "FROM accounts a "
	    "LEFT JOIN account_migrations m ON m.did = a.did "
	    "WHERE m.did IS NOT NULL OR a.status = 'deactivated' "
	    "ORDER BY 6, a.did");
	if (st == NULL)
		return PDS_EIO;
	if ((m = malloc(sizeof(*m))) == NULL) {
		store_stmt_done(st);
		return PDS_ENOMEM;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((ret = mig_row(st, m)) != PDS_OK ||
		    (ret = cb(arg, m)) != 0)
			break;
	}
	store_stmt_done(st);
	free(m);
	if (ret != PDS_OK)
		return ret;
	return rc == SQLITE_DONE ? PDS_OK : store_err(rc, "migration list");
}

int
store_repo_counts(const char *did, struct store_repo_counts *out)
{
	sqlite3_stmt	*st;
	int		 rc, ret = PDS_OK;

	memset(out, 0, sizeof(*out));
	st = store_stmt("SELECT "
	    "(SELECT count(*) FROM repo_blocks WHERE did = ?1), "
	    "(SELECT count(*) FROM records WHERE did = ?1), "
	    "(SELECT count(DISTINCT blob_cid) FROM record_blobs "
	    "  WHERE did = ?1), "
	    "(SELECT count(DISTINCT rb.blob_cid) FROM record_blobs rb "
	    "  JOIN blobs bl ON bl.did = rb.did AND bl.cid = rb.blob_cid "
	    "  WHERE rb.did = ?1)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->repo_blocks = sqlite3_column_int64(st, 0);
		out->records = sqlite3_column_int64(st, 1);
		out->blobs_expected = sqlite3_column_int64(st, 2);
		out->blobs_imported = sqlite3_column_int64(st, 3);
	} else
		ret = store_err(rc, "repo counts");
	store_stmt_done(st);
	return ret;
}

int
store_missing_blobs(const char *did, const char *cursor, size_t limit,
    int (*cb)(void *, const char *, const char *), void *arg)
{
	sqlite3_stmt	*st;
	int		 rc, ret = PDS_OK;

	st = store_stmt("SELECT rb.blob_cid, min(rb.record_uri) "
	    "FROM record_blobs rb WHERE rb.did = ?1 AND rb.blob_cid > ?2 "
	    "AND NOT EXISTS (SELECT 1 FROM blobs bl WHERE bl.did = rb.did "
	    "  AND bl.cid = rb.blob_cid) "
	    "GROUP BY rb.blob_cid ORDER BY rb.blob_cid LIMIT ?3");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cursor != NULL ? cursor : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((ret = cb(arg, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1))) != 0)
			break;
	}
	store_stmt_done(st);
	if (ret != PDS_OK)
		return ret;
	return rc == SQLITE_DONE ? PDS_OK : store_err(rc, "missing blobs");
}

/* ---- importRepo ---- */

int
store_import_clear(const char *did)
{
	static const char *const sql[] = {
		"DELETE FROM repo_blocks WHERE did = ?1",
		"DELETE FROM records WHERE did = ?1",
		"DELETE FROM record_blobs WHERE did = ?1",
		"DELETE FROM backlinks WHERE did = ?1",
	};
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if ((st = store_stmt(sql[i])) == NULL)
			return PDS_EIO;
		sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
		if ((rc = store_step_done(st, "import clear", NULL)) != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

int
store_import_block(const char *did, const char *cid, const char *rev,
    const uint8_t *data, size_t len)
{
	sqlite3_stmt	*st;

	st = store_stmt("INSERT OR IGNORE INTO repo_blocks (did, cid, rev, "
	    "size, content) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rev, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)len);
	sqlite3_bind_blob(st, 5, data, (int)len, SQLITE_STATIC);
	return store_step_done(st, "import block", NULL);
}

int
store_import_record(const char *did, const char *collection,
    const char *rkey, const char *cid, const char *rev, const char *now)
{
	sqlite3_stmt	*st;
	char		*uri;
	int		 rc;

	if (asprintf(&uri, "at://%s/%s/%s", did, collection, rkey) < 0)
		return PDS_ENOMEM;
	st = store_stmt("INSERT INTO records (uri, did, collection, rkey, "
	    "cid, rev, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (st == NULL) {
		free(uri);
		return PDS_EIO;
	}
	sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, rev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
	rc = store_step_done(st, "import record", NULL);
	free(uri);
	return rc;
}

int
store_import_record_blob(const char *did, const char *blob_cid,
    const char *record_uri)
{
	sqlite3_stmt	*st;

	st = store_stmt("INSERT OR IGNORE INTO record_blobs (did, blob_cid, "
	    "record_uri) VALUES (?1, ?2, ?3)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, blob_cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, record_uri, -1, SQLITE_STATIC);
	return store_step_done(st, "import record blob", NULL);
}

int
store_import_set_root(const char *did, const char *cid, const char *rev,
    const char *now)
{
	sqlite3_stmt	*st;

	st = store_stmt("INSERT INTO repo_root (did, cid, rev, indexed_at) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (did) DO UPDATE SET "
	    "cid = ?2, rev = ?3, indexed_at = ?4");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	return store_step_done(st, "import root", NULL);
}

int
store_import_keep_blobs(const char *did)
{
	sqlite3_stmt	*st;

	st = store_stmt("UPDATE blobs SET temp_key = NULL WHERE did = ?1 AND "
	    "temp_key IS NOT NULL AND EXISTS (SELECT 1 FROM record_blobs rb "
	    "WHERE rb.did = ?1 AND rb.blob_cid = blobs.cid)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	return store_step_done(st, "import keep blobs", NULL);
}
