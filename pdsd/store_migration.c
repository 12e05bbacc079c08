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
	return store_run("INSERT INTO email_tokens (purpose, did, token, "
	    "requested_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (purpose, did) "
	    "DO UPDATE SET token = ?3, requested_at = ?4",
	    STORE_ARGS(SB_TEXT(purpose), SB_TEXT(did), SB_TEXT(token),
	    SB_TEXT(now)), "email token put", NULL);
}

int
store_email_token_get(const char *purpose, const char *did,
    char token[SM_TOKEN_MAX], char requested_at[STORE_TS_LEN])
{
	return store_texts("SELECT token, requested_at FROM email_tokens "
	    "WHERE purpose = ?1 AND did = ?2", STORE_ARGS(SB_TEXT(purpose),
	    SB_TEXT(did)), "email token get", store_col_text, token,
	    SM_TOKEN_MAX, requested_at, STORE_TS_LEN);
}

int
store_email_token_find(const char *purpose, const char *token,
    char did[SA_DID_MAX + 1], char requested_at[STORE_TS_LEN])
{
	return store_texts("SELECT did, requested_at FROM email_tokens "
	    "WHERE purpose = ?1 AND token = ?2", STORE_ARGS(SB_TEXT(purpose),
	    SB_TEXT(token)), "email token find", store_col_text, did,
	    SA_DID_MAX + 1, requested_at, STORE_TS_LEN);
}

int
store_email_token_delete(const char *purpose, const char *did)
{
	return store_run("DELETE FROM email_tokens WHERE purpose = ?1 AND "
	    "did = ?2", STORE_ARGS(SB_TEXT(purpose), SB_TEXT(did)),
	    "email token delete", NULL);
}

int
store_email_token_take(const char *purpose, const char *did,
    const char *token)
{
	int	 n = 0, rc;

	rc = store_run("DELETE FROM email_tokens WHERE purpose = ?1 AND "
	    "did = ?2 AND token = ?3", STORE_ARGS(SB_TEXT(purpose),
	    SB_TEXT(did), SB_TEXT(token)), "email token take", &n);
	if (rc == PDS_OK && n == 0)
		rc = PDS_ENOTFOUND;
	return rc;
}

int
store_email_token_prune(const char *before, int64_t *n)
{
	int	 rc, changes;

	rc = store_run("DELETE FROM email_tokens WHERE requested_at < ?1",
	    STORE_ARGS(SB_TEXT(before)), "email token prune", &changes);
	if (n != NULL)
		*n = changes;
	return rc;
}

int
store_account_email_confirmed(const char *did, const char *at)
{
	return store_run_changed("UPDATE accounts SET email_confirmed_at = ?2 "
	    "WHERE did = ?1", STORE_ARGS(SB_TEXT(did), SB_TEXTN(at)),
	    "email confirmed");
}

int
store_account_mark_deactivated(const char *did, const char *at,
    const char *delete_after)
{
	return store_run_changed("UPDATE accounts SET deactivated_at = ?2, "
	    "delete_after = ?3 WHERE did = ?1", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(at), SB_TEXTN(delete_after)), "mark deactivated");
}

/* ---- migrations ---- */

int
store_mig_put(const char *did, const char *direction, const char *state,
    const char *peer, const char *now)
{
	return store_run("INSERT INTO account_migrations (did, direction, "
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
	    "direction = ?2, state = ?3, updated_at = ?4",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(direction), SB_TEXT(state),
	    SB_TEXT(now), SB_TEXTN(peer)), "migration put", NULL);
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
	"(SELECT count(*) FROM repo_blocks b WHERE b.did = a.did) + " \
	"(SELECT count(*) FROM repo_blocks_recent b WHERE b.did = a.did) + " \
	"(SELECT count(content) FROM records r WHERE r.did = a.did), " \
	"(SELECT count(DISTINCT blob_cid) FROM record_blobs rb " \
	"  WHERE rb.did = a.did), " \
	"(SELECT count(DISTINCT rb.blob_cid) FROM record_blobs rb " \
	"  JOIN blobs bl ON bl.did = rb.did AND bl.cid = rb.blob_cid " \
	"  WHERE rb.did = a.did) "

static int
mig_row(sqlite3_stmt *st, void *out)
{
	struct store_mig	*m = out;

	memset(m, 0, sizeof(*m));
	if (store_col_text(st, 0, m->did, sizeof(m->did)) != PDS_OK ||
	    store_col_text(st, 1, m->handle, sizeof(m->handle)) != PDS_OK ||
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
	return store_col_status(st, 2, &m->status);
}

int
store_mig_get(const char *did, struct store_mig *out)
{
	return store_get("SELECT " MIG_COLUMNS "FROM accounts a "
	    "LEFT JOIN account_migrations m ON m.did = a.did "
	    "WHERE a.did = ?1", STORE_ARGS(SB_TEXT(did)), "migration get",
	    mig_row, out);
}

int
store_mig_set_import(const char *did, int64_t records, int64_t blocks,
    const char *source_commit, const char *source_rev, const char *now)
{
	return store_run("UPDATE account_migrations SET records_expected = ?2,"
	    " blocks_imported = ?3, source_commit = ?4, source_rev = ?5, "
	    "state = CASE WHEN direction = 'in' THEN 'imported' ELSE state END,"
	    " updated_at = ?6 WHERE did = ?1", STORE_ARGS(SB_TEXT(did),
	    SB_INT(records), SB_INT(blocks), SB_TEXTN(source_commit),
	    SB_TEXTN(source_rev), SB_TEXT(now)), "migration import", NULL);
}

int
store_mig_delete(const char *did)
{
	return store_run("DELETE FROM account_migrations WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "migration delete", NULL);
}

int
store_mig_list(int (*cb)(void *, const struct store_mig *), void *arg)
{
	struct store_mig	*m;
	sqlite3_stmt		*st;
	int			 rc;

	if ((m = malloc(sizeof(*m))) == NULL)
		return PDS_ENOMEM;
	if ((rc = store_prep(&st, "SELECT " MIG_COLUMNS "FROM accounts a "
	    "LEFT JOIN account_migrations m ON m.did = a.did "
	    "WHERE m.did IS NOT NULL OR a.status = 'deactivated' "
	    "ORDER BY 6, a.did", NULL)) != PDS_OK) {
		free(m);
		return rc;
	}
	while (store_next(st, &rc, "migration list"))
		if ((rc = mig_row(st, m)) != PDS_OK ||
		    (rc = cb(arg, m)) != 0)
			break;
	store_stmt_done(st);
	free(m);
	return rc;
}

int
store_repo_counts(const char *did, struct store_repo_counts *out)
{
	int64_t	 v[4];
	int	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_ints("SELECT "
	    "(SELECT count(*) FROM repo_blocks WHERE did = ?1) + "
	    "(SELECT count(*) FROM repo_blocks_recent WHERE did = ?1) + "
	    "(SELECT count(DISTINCT cid) FROM records WHERE did = ?1 AND "
	    "  content IS NOT NULL), "
	    "(SELECT count(*) FROM records WHERE did = ?1), "
	    "(SELECT count(DISTINCT blob_cid) FROM record_blobs "
	    "  WHERE did = ?1), "
	    "(SELECT count(DISTINCT rb.blob_cid) FROM record_blobs rb "
	    "  JOIN blobs bl ON bl.did = rb.did AND bl.cid = rb.blob_cid "
	    "  WHERE rb.did = ?1)", STORE_ARGS(SB_TEXT(did)), "repo counts",
	    v, 4)) != PDS_OK)
		return rc;
	out->repo_blocks = v[0];
	out->records = v[1];
	out->blobs_expected = v[2];
	out->blobs_imported = v[3];
	return PDS_OK;
}

int
store_missing_blobs(const char *did, const char *cursor, size_t limit,
    int (*cb)(void *, const char *, const char *), void *arg)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_prep(&st, "SELECT rb.blob_cid, min(rb.record_uri) "
	    "FROM record_blobs rb WHERE rb.did = ?1 AND rb.blob_cid > ?2 "
	    "AND NOT EXISTS (SELECT 1 FROM blobs bl WHERE bl.did = rb.did "
	    "  AND bl.cid = rb.blob_cid) "
	    "GROUP BY rb.blob_cid ORDER BY rb.blob_cid LIMIT ?3",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(cursor != NULL ? cursor : ""),
	    SB_INT(limit)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "missing blobs"))
		if ((rc = cb(arg, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1))) != 0)
			break;
	store_stmt_done(st);
	return rc;
}

/* ---- importRepo ---- */

int
store_import_clear(const char *did)
{
	static const char *const sql[] = {
		"DELETE FROM repo_blocks WHERE did = ?1",
		"DELETE FROM repo_blocks_recent WHERE did = ?1",
		"DELETE FROM records WHERE did = ?1",
		"DELETE FROM record_blobs WHERE did = ?1",
		"DELETE FROM backlinks WHERE did = ?1",
	};
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
		if ((rc = store_run(sql[i], STORE_ARGS(SB_TEXT(did)),
		    "import clear", NULL)) != PDS_OK)
			return rc;
	return PDS_OK;
}

int
store_import_block(const char *did, const char *cid, const char *rev,
    const uint8_t *data, size_t len)
{
	return store_run("INSERT OR IGNORE INTO repo_blocks (did, cid, rev, "
	    "size, content) VALUES (?1, ?2, ?3, ?4, ?5)",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(cid), SB_TEXT(rev), SB_INT(len),
	    SB_BLOB(data, len)), "import block", NULL);
}

int
store_import_record(const char *did, const char *collection,
    const char *rkey, const char *cid, const char *rev, const char *now)
{
	return store_run("INSERT INTO records (did, collection, rkey, "
	    "cid, rev, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(collection), SB_TEXT(rkey),
	    SB_TEXT(cid), SB_TEXT(rev), SB_TEXT(now)), "import record", NULL);
}

int
store_import_record_blob(const char *did, const char *blob_cid,
    const char *record_uri)
{
	return store_run("INSERT OR IGNORE INTO record_blobs (did, blob_cid, "
	    "record_uri) VALUES (?1, ?2, ?3)", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(blob_cid), SB_TEXT(record_uri)), "import record blob",
	    NULL);
}

int
store_import_set_root(const char *did, const char *cid, const char *rev,
    const char *now)
{
	return store_run("INSERT INTO repo_root (did, cid, rev, indexed_at) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (did) DO UPDATE SET "
	    "cid = ?2, rev = ?3, indexed_at = ?4", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(cid), SB_TEXT(rev), SB_TEXT(now)), "import root", NULL);
}

int
store_import_keep_blobs(const char *did)
{
	return store_run("UPDATE blobs SET temp_key = NULL WHERE did = ?1 AND "
	    "temp_key IS NOT NULL AND EXISTS (SELECT 1 FROM record_blobs rb "
	    "WHERE rb.did = ?1 AND rb.blob_cid = blobs.cid)",
	    STORE_ARGS(SB_TEXT(did)), "import keep blobs", NULL);
}
