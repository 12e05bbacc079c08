/*
 * store_import_ref: reading the reference PDS's SQLite files and
 * writing their rows into pdsd's store.  See store_import_ref.h.
 *
 * The reference's files are opened read-only (SQLITE_OPEN_READONLY), so
 * converting never changes them.  Rows are copied value by value with
 * the same types; pdsd's tables are STRICT, so a value of the wrong
 * type in a damaged source fails the conversion instead of being
 * stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "refpds.h"
#include "store.h"
#include "store_import_ref.h"
#include "store_internal.h"
#include "store_repo.h"

/* The newest kysely migration of each reference file this code knows. */
#define REF_ACCOUNT_MIGRATION	"007"
#define REF_ACTOR_MIGRATION	"001"
#define REF_SEQ_MIGRATION	"001"
#define REF_DIDCACHE_MIGRATION	"001"

static sqlite3	*acct_db;	/* account.sqlite */

/* Every failure to read a reference file is PDS_EINVAL. */
#define fail(err, errlen, ...)	\
	pds_errf(err, errlen, PDS_EINVAL, __VA_ARGS__)

static int
ref_open(const char *path, sqlite3 **db, char *err, size_t errlen)
{
	int	 rc;

	*db = NULL;
	rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		fail(err, errlen, "%s: cannot open: %s", path,
		    *db != NULL ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
		sqlite3_close(*db);
		*db = NULL;
		return PDS_EIO;
	}
	sqlite3_busy_timeout(*db, STORE_BUSY_TIMEOUT_MS);
	return PDS_OK;
}

/*
 * The file's schema version: its newest kysely migration, which must
 * be known (at most newest).  A file without the table is not one of
 * the reference's.
 */
static int
ref_version(sqlite3 *db, const char *path, const char *newest, char *err,
    size_t errlen)
{
	sqlite3_stmt	*st = NULL;
	const char	*v;
	int		 rc;

	rc = sqlite3_prepare_v2(db, "SELECT max(name) FROM kysely_migration",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = fail(err, errlen, "%s: not a reference PDS database (%s)",
		    path, sqlite3_errmsg(db));
		goto done;
	}
	if (sqlite3_step(st) != SQLITE_ROW ||
	    (v = (const char *)sqlite3_column_text(st, 0)) == NULL) {
		rc = fail(err, errlen, "%s: no schema version (empty "
		    "kysely_migration)", path);
		goto done;
	}
	if (strlen(v) != strlen(newest) || strcmp(v, newest) > 0) {
		rc = fail(err, errlen, "%s: schema version %s is newer than "
		    "this program knows (%s): update pds", path, v, newest);
		goto done;
	}
	rc = PDS_OK;
done:
	sqlite3_finalize(st);
	return rc;
}

int
store_iref_open(const char *src_dir, char *err, size_t errlen)
{
	char	 path[4096];
	int	 rc;

	if (snprintf(path, sizeof(path), "%s/account.sqlite", src_dir) >=
	    (int)sizeof(path))
		return fail(err, errlen, "%s: path too long", src_dir);
	if ((rc = ref_open(path, &acct_db, err, errlen)) != PDS_OK)
		return rc;
	if ((rc = ref_version(acct_db, path, REF_ACCOUNT_MIGRATION, err,
	    errlen)) != PDS_OK)
		store_iref_close();
	return rc;
}

void
store_iref_close(void)
{
	sqlite3_close(acct_db);
	acct_db = NULL;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int
store_iref_accounts(int (*cb)(void *, const struct iref_account *),
    void *arg, char *err, size_t errlen)
{
	struct iref_account	 a;
	sqlite3_stmt		*st = NULL;
	int			 rc, s;

	rc = sqlite3_prepare_v2(acct_db,
	    "SELECT a.did, a.handle, a.createdAt, a.takedownRef, "
	    "a.deactivatedAt, a.deleteAfter, c.email, c.passwordScrypt, "
	    "c.emailConfirmedAt, coalesce(c.invitesDisabled, 0) "
	    "FROM actor a LEFT JOIN account c ON c.did = a.did "
	    "ORDER BY a.createdAt, a.did", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(err, errlen, "account.sqlite: %s",
		    sqlite3_errmsg(acct_db));
	rc = PDS_OK;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.did = col(st, 0);
		a.handle = col(st, 1);
		a.created_at = col(st, 2);
		a.takedown_ref = col(st, 3);
		a.deactivated_at = col(st, 4);
		a.delete_after = col(st, 5);
		a.email = col(st, 6);
		a.password = col(st, 7);
		a.email_confirmed_at = col(st, 8);
		a.invites_disabled = sqlite3_column_int64(st, 9);
		if (a.did == NULL || a.created_at == NULL) {
			rc = fail(err, errlen, "account.sqlite: an actor row "
			    "without did or createdAt");
			break;
		}
		if ((rc = cb(arg, &a)) != 0)
			break;
	}
	if (rc == PDS_OK && s != SQLITE_DONE)
		rc = fail(err, errlen, "account.sqlite: %s",
		    sqlite3_errmsg(acct_db));
	sqlite3_finalize(st);
	return rc;
}

/*
 * Copy the rows of sel (run on src; ?1 is did when did is not NULL)
 * into ins (on the store), column i to parameter i + 1.  *n counts.
 */
static int
copy_rows(sqlite3 *src, const char *what, const char *sel, const char *did,
    const char *ins, int64_t *n, char *err, size_t errlen)
{
	sqlite3		*dst = store_db();
	sqlite3_stmt	*s = NULL, *d = NULL;
	int		 rc, i, ncol;

	if (dst == NULL)
		return fail(err, errlen, "the new store cannot be opened");
	if (sqlite3_prepare_v2(src, sel, -1, &s, NULL) != SQLITE_OK) {
		rc = fail(err, errlen, "%s: %s", what, sqlite3_errmsg(src));
		goto done;
	}
	if (sqlite3_prepare_v2(dst, ins, -1, &d, NULL) != SQLITE_OK) {
		rc = fail(err, errlen, "%s: %s", what, sqlite3_errmsg(dst));
		goto done;
	}
	if (did != NULL)
		sqlite3_bind_text(s, 1, did, -1, SQLITE_STATIC);
	ncol = sqlite3_column_count(s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < ncol; i++)
			sqlite3_bind_value(d, i + 1, sqlite3_column_value(s, i));
		if (sqlite3_step(d) != SQLITE_DONE) {
			rc = fail(err, errlen, "%s: a row was refused: %s",
			    what, sqlite3_errmsg(dst));
			goto done;
		}
		/* an INSERT ... SELECT ... WHERE may insert nothing */
		if (n != NULL && sqlite3_changes(dst) > 0)
			(*n)++;
		sqlite3_reset(d);
		sqlite3_clear_bindings(d);
	}
	if (rc != SQLITE_DONE) {
		rc = fail(err, errlen, "%s: %s", what, sqlite3_errmsg(src));
		goto done;
	}
	rc = PDS_OK;
done:
	sqlite3_finalize(s);
	sqlite3_finalize(d);
	return rc;
}

static int
exec_dst(const char *sql, char *err, size_t errlen)
{
	sqlite3	*dst = store_db();

	if (dst == NULL)
		return fail(err, errlen, "the new store cannot be opened");
	if (sqlite3_exec(dst, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(err, errlen, "the new store: %s",
		    sqlite3_errmsg(dst));
	return PDS_OK;
}

/*
 * End the new store's transaction: commit it after rc PDS_OK, else (or
 * when the commit fails) roll it back.  rc or the commit's error.
 */
static int
end_dst(int rc, char *err, size_t errlen)
{
	if (rc == PDS_OK)
		rc = exec_dst("COMMIT", err, errlen);
	if (rc != PDS_OK)
		(void)exec_dst("ROLLBACK", NULL, 0);
	return rc;
}

int
store_iref_nosync(char *err, size_t errlen)
{
	return exec_dst("PRAGMA synchronous=OFF", err, errlen);
}

static int
account_insert(const struct iref_account *a, const uint8_t key[32],
    char *err, size_t errlen)
{
	const char	*status = "active";
	sqlite3_stmt	*st = NULL;
	sqlite3		*dst = store_db();
	int		 rc;

	if (a->takedown_ref != NULL)
		status = "takendown";
	else if (a->deactivated_at != NULL)
		status = "deactivated";
	if (sqlite3_prepare_v2(dst, "INSERT INTO accounts (did, handle, "
	    "email, password_hash, signing_key, created_at, status, "
	    "deactivated_at, delete_after, takedown_ref, email_confirmed_at, "
	    "invites_disabled) VALUES (?1, lower(?2), lower(?3), ?4, ?5, ?6, "
	    "?7, ?8, ?9, ?10, ?11, ?12)", -1, &st, NULL) != SQLITE_OK)
		return fail(err, errlen, "accounts: %s", sqlite3_errmsg(dst));
	sqlite3_bind_text(st, 1, a->did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->handle, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->password, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, key, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->created_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, a->deactivated_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, a->delete_after, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, a->takedown_ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, a->email_confirmed_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, a->invites_disabled != 0);
	rc = sqlite3_step(st) == SQLITE_DONE ? PDS_OK :
	    fail(err, errlen, "%s: the account was refused: %s", a->did,
	    sqlite3_errmsg(dst));
	sqlite3_finalize(st);
	return rc;
}

/*
 * The actor store's head: one repo_root row, of this DID, whose commit
 * block is present; its bytes go to cbs->head.
 */
static int
actor_check(sqlite3 *db, const char *did, const char *path,
    const struct iref_cbs *cbs, char *err, size_t errlen)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM repo_root), "
	    "(SELECT b.content FROM repo_root r JOIN repo_block b ON "
	    "b.cid = r.cid WHERE r.did = ?1)", -1, &st, NULL) != SQLITE_OK)
		return fail(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = fail(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
	else if (sqlite3_column_int64(st, 0) != 1)
		rc = fail(err, errlen, "%s: %lld repo roots, not one", path,
		    (long long)sqlite3_column_int64(st, 0));
	else if (sqlite3_column_type(st, 1) != SQLITE_BLOB)
		rc = fail(err, errlen, "%s: the head commit of %s is not in "
		    "its blocks", path, did);
	else
		rc = cbs->head(cbs->arg, did, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1));
	sqlite3_finalize(st);
	return rc;
}

static int
actor_blobs(sqlite3 *db, const char *did, const struct iref_cbs *cbs,
    struct iref_counts *c, char *err, size_t errlen)
{
	sqlite3_stmt	*st = NULL;
	const char	*cid;
	int		 rc = PDS_OK;

	if (sqlite3_prepare_v2(db, "SELECT cid, size FROM blob WHERE "
	    "tempKey IS NULL ORDER BY cid", -1, &st, NULL) != SQLITE_OK)
		return fail(err, errlen, "blob: %s", sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((cid = col(st, 0)) == NULL) {
			rc = fail(err, errlen, "%s: a blob without a CID", did);
			break;
		}
		if ((rc = cbs->blob(cbs->arg, did, cid)) != 0)
			break;
		c->blobs++;
		c->blob_bytes += sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Each preference's JSON must be an object of its own $type. */
static int
actor_prefs(sqlite3 *db, const char *did, char *err, size_t errlen)
{
	sqlite3_stmt	*st = NULL;
	const char	*name, *v, *why = NULL;
	int		 rc = PDS_OK;

	if (sqlite3_prepare_v2(db, "SELECT name, valueJson FROM account_pref",
	    -1, &st, NULL) != SQLITE_OK)
		return fail(err, errlen, "account_pref: %s",
		    sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		name = col(st, 0);
		v = col(st, 1);
		if (name == NULL || v == NULL || refpds_pref_check(name, v,
		    (size_t)sqlite3_column_bytes(st, 1), &why) != PDS_OK) {
			rc = fail(err, errlen, "%s: preference %s: %s", did,
			    name != NULL ? name : "(none)",
			    why != NULL ? why : "missing");
			break;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* Each record's bytes into its row (store_records_absorb()). */
static int
absorb(const char *did, char *err, size_t errlen)
{
	int	 rc;

	if ((rc = store_records_absorb(did)) != PDS_OK)
		snprintf(err, errlen, "records: %s", sqlite3_errmsg(store_db()));
	return rc;
}

static int
actor_copy(sqlite3 *db, const struct iref_account *a,
    const struct iref_cbs *cbs, struct iref_counts *c, char *err,
    size_t errlen)
{
	const char	*did = a->did;
	int		 rc;

	if ((rc = copy_rows(db, "repo_root", "SELECT did, cid, rev, "
	    "indexedAt FROM repo_root WHERE did = ?1", did,
	    "INSERT INTO repo_root (did, cid, rev, indexed_at) VALUES "
	    "(?1, ?2, ?3, ?4)", NULL, err, errlen)) != PDS_OK ||
	    (rc = copy_rows(db, "repo_block", "SELECT ?1, cid, repoRev, size, "
	    "content FROM repo_block", did, "INSERT INTO repo_blocks (did, "
	    "cid, rev, size, content) VALUES (?1, ?2, ?3, ?4, ?5)",
	    &c->blocks, err, errlen)) != PDS_OK ||
	    (rc = copy_rows(db, "record", "SELECT ?1, collection, rkey, "
	    "cid, repoRev, indexedAt, takedownRef FROM record", did,
	    "INSERT INTO records (did, collection, rkey, cid, rev, "
	    "indexed_at, takedown_ref) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    &c->records, err, errlen)) != PDS_OK ||
	    (rc = absorb(did, err, errlen)) != PDS_OK ||
	    (rc = copy_rows(db, "blob", "SELECT ?1, cid, mimeType, size, "
	    "width, height, createdAt, takedownRef FROM blob WHERE tempKey "
	    "IS NULL", did, "INSERT INTO blobs (did, cid, mime_type, size, "
	    "width, height, created_at, takedown_ref) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8)", NULL, err, errlen)) != PDS_OK ||
	    (rc = copy_rows(db, "record_blob", "SELECT ?1, blobCid, recordUri "
	    "FROM record_blob", did, "INSERT INTO record_blobs (did, "
	    "blob_cid, record_uri) VALUES (?1, ?2, ?3)", NULL, err,
	    errlen)) != PDS_OK ||
	    (rc = copy_rows(db, "backlink", "SELECT ?1, uri, path, linkTo "
	    "FROM backlink", did, "INSERT INTO backlinks (did, uri, path, "
	    "link_to) VALUES (?1, ?2, ?3, ?4)", NULL, err, errlen)) !=
	    PDS_OK ||
	    (rc = actor_prefs(db, did, err, errlen)) != PDS_OK ||
	    (rc = copy_rows(db, "account_pref", "SELECT ?1, name, valueJson "
	    "FROM account_pref ORDER BY id", did, "INSERT INTO preferences "
	    "(did, name, value_json) VALUES (?1, ?2, ?3)", &c->prefs, err,
	    errlen)) != PDS_OK)
		return rc;
	return actor_blobs(db, did, cbs, c, err, errlen);
}

int
store_iref_actor(const struct iref_account *a, const uint8_t key[32],
    const char *store_path, const struct iref_cbs *cbs,
    struct iref_counts *c, char *err, size_t errlen)
{
	sqlite3	*db = NULL;
	int	 rc;

	if ((rc = ref_open(store_path, &db, err, errlen)) != PDS_OK)
		return rc;
	if ((rc = ref_version(db, store_path, REF_ACTOR_MIGRATION, err,
	    errlen)) != PDS_OK ||
	    (rc = actor_check(db, a->did, store_path, cbs, err, errlen)) !=
	    PDS_OK)
		goto done;
	if ((rc = exec_dst("BEGIN IMMEDIATE", err, errlen)) != PDS_OK)
		goto done;
	if ((rc = account_insert(a, key, err, errlen)) == PDS_OK)
		rc = actor_copy(db, a, cbs, c, err, errlen);
	if ((rc = end_dst(rc, err, errlen)) == PDS_OK)
		c->accounts++;
done:
	sqlite3_close(db);
	return rc;
}

int
store_iref_globals(struct iref_counts *c, char *err, size_t errlen)
{
	int	 rc;

	if ((rc = exec_dst("BEGIN IMMEDIATE", err, errlen)) != PDS_OK)
		return rc;
	/* Only rows of accounts that came over (foreign keys). */
	if ((rc = copy_rows(acct_db, "app_password", "SELECT did, name, "
	    "passwordScrypt, privileged, createdAt FROM app_password "
	    "ORDER BY did, createdAt", NULL, "INSERT INTO app_passwords "
	    "(did, name, password_hash, privileged, created_at) SELECT ?1, "
	    "?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM accounts WHERE "
	    "did = ?1)", &c->app_passwords, err, errlen)) == PDS_OK &&
	    (rc = copy_rows(acct_db, "invite_code", "SELECT code, "
	    "availableUses, coalesce(disabled, 0), forAccount, createdBy, "
	    "createdAt FROM invite_code", NULL, "INSERT INTO invite_codes "
	    "(code, available_uses, disabled, for_account, created_by, "
	    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &c->invites, err,
	    errlen)) == PDS_OK &&
	    (rc = copy_rows(acct_db, "invite_code_use", "SELECT code, usedBy, "
	    "usedAt FROM invite_code_use", NULL, "INSERT INTO "
	    "invite_code_uses (code, used_by, used_at) SELECT ?1, ?2, ?3 "
	    "WHERE EXISTS (SELECT 1 FROM invite_codes WHERE code = ?1)",
	    NULL, err, errlen)) == PDS_OK)
		rc = copy_rows(acct_db, "email_token", "SELECT purpose, "
		    "did, token, requestedAt FROM email_token WHERE purpose IN "
		    "('confirm_email', 'update_email', 'reset_password', "
		    "'delete_account', 'plc_operation')", NULL, "INSERT INTO "
		    "email_tokens (purpose, did, token, requested_at) SELECT "
		    "?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM accounts "
		    "WHERE did = ?2)", NULL, err, errlen);
	return end_dst(rc, err, errlen);
}

static int
event_insert(sqlite3_stmt *ins, int64_t seq, const char *did,
    const char *type, const struct buf *body, int64_t invalidated,
    const char *at)
{
	sqlite3_bind_int64(ins, 1, seq);
	sqlite3_bind_text(ins, 2, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_blob(ins, 4, body->p, (int)body->len, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 5, invalidated != 0);
	sqlite3_bind_text(ins, 6, at, -1, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE)
		return PDS_EIO;
	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
	return PDS_OK;
}

static int
events_copy(sqlite3 *db, const char *path, struct iref_counts *c, char *err,
    size_t errlen)
{
	sqlite3		*dst = store_db();
	sqlite3_stmt	*s = NULL, *d = NULL;
	struct buf	 body;
	const char	*did, *rtype, *type, *at, *why = NULL;
	int64_t		 seq;
	int		 rc;

	buf_init(&body, 0);
	if (sqlite3_prepare_v2(db, "SELECT seq, did, eventType, event, "
	    "invalidated, sequencedAt FROM repo_seq ORDER BY seq", -1, &s,
	    NULL) != SQLITE_OK) {
		rc = fail(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		goto done;
	}
	if (sqlite3_prepare_v2(dst, "INSERT INTO events (seq, did, type, "
	    "event, invalidated, sequenced_at, encoding) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, 0)", -1, &d, NULL) != SQLITE_OK) {
		rc = fail(err, errlen, "events: %s", sqlite3_errmsg(dst));
		goto done;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(s, 0);
		did = col(s, 1);
		rtype = col(s, 2);
		at = col(s, 5);
		if (did == NULL || rtype == NULL || at == NULL ||
		    sqlite3_column_type(s, 3) != SQLITE_BLOB) {
			rc = fail(err, errlen, "%s: event %lld is incomplete",
			    path, (long long)seq);
			goto done;
		}
		if (seq > c->last_seq)
			c->last_seq = seq;
		if ((type = refpds_event_type(rtype)) == NULL) {
			c->events_skipped++;
			continue;
		}
		buf_reset(&body);
		if (refpds_event_convert(sqlite3_column_blob(s, 3),
		    (size_t)sqlite3_column_bytes(s, 3), seq, at, &body,
		    &why) != PDS_OK) {
			rc = fail(err, errlen, "%s: event %lld: %s", path,
			    (long long)seq, why != NULL ? why : "bad body");
			goto done;
		}
		if (event_insert(d, seq, did, type, &body,
		    sqlite3_column_int64(s, 4), at) != PDS_OK) {
			rc = fail(err, errlen, "events: event %lld: %s",
			    (long long)seq, sqlite3_errmsg(dst));
			goto done;
		}
		c->events++;
	}
	if (rc != SQLITE_DONE) {
		rc = fail(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		goto done;
	}
	rc = PDS_OK;
done:
	buf_clear(&body);
	sqlite3_finalize(s);
	sqlite3_finalize(d);
	return rc;
}

/*
 * The next seq pdsd gives must pass every seq the reference gave, even
 * those of rows it no longer has (its sqlite_sequence).
 */
static int
seq_counter(sqlite3 *db, struct iref_counts *c, char *err, size_t errlen)
{
	sqlite3_stmt	*st = NULL;
	int64_t		 last = c->last_seq;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence WHERE "
	    "name = 'repo_seq'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_int64(st, 0) > last)
		last = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	c->last_seq = last;
	if (last == 0)
		return PDS_OK;
	if (sqlite3_prepare_v2(store_db(), "INSERT OR REPLACE INTO "
	    "sqlite_sequence (name, seq) VALUES ('events', ?1)", -1, &st,
	    NULL) != SQLITE_OK)
		return fail(err, errlen, "events: %s",
		    sqlite3_errmsg(store_db()));
	/* sqlite_sequence has no key: clear the row AUTOINCREMENT made. */
	(void)exec_dst("DELETE FROM sqlite_sequence WHERE name = 'events'",
	    NULL, 0);
	sqlite3_bind_int64(st, 1, last);
	rc = sqlite3_step(st) == SQLITE_DONE ? PDS_OK : fail(err, errlen,
	    "events: %s", sqlite3_errmsg(store_db()));
	sqlite3_finalize(st);
	return rc;
}

/*
 * Open the reference file path, check that its schema is at most
 * newest, and run copy(db, path, c, err, errlen) in one transaction of
 * the new store.
 */
static int
ref_import(const char *path, const char *newest,
    int (*copy)(sqlite3 *, const char *, struct iref_counts *, char *,
    size_t), struct iref_counts *c, char *err, size_t errlen)
{
	sqlite3	*db = NULL;
	int	 rc;

	if ((rc = ref_open(path, &db, err, errlen)) != PDS_OK)
		return rc;
	if ((rc = ref_version(db, path, newest, err, errlen)) == PDS_OK &&
	    (rc = exec_dst("BEGIN IMMEDIATE", err, errlen)) == PDS_OK)
		rc = end_dst(copy(db, path, c, err, errlen), err, errlen);
	sqlite3_close(db);
	return rc;
}

/* The events, then the seq counter past them. */
static int
events_import(sqlite3 *db, const char *path, struct iref_counts *c,
    char *err, size_t errlen)
{
	int	 rc;

	if ((rc = events_copy(db, path, c, err, errlen)) == PDS_OK)
		rc = seq_counter(db, c, err, errlen);
	return rc;
}

int
store_iref_events(const char *path, struct iref_counts *c, char *err,
    size_t errlen)
{
	return ref_import(path, REF_SEQ_MIGRATION, events_import, c, err,
	    errlen);
}

static int
did_docs_import(sqlite3 *db, const char *path, struct iref_counts *c,
    char *err, size_t errlen)
{
	return copy_rows(db, "did_doc", "SELECT did, doc, updatedAt FROM "
	    "did_doc", NULL, "INSERT INTO did_cache (did, doc, updated_at) "
	    "VALUES (?1, ?2, ?3)", &c->did_docs, err, errlen);
}

int
store_iref_did_cache(const char *path, struct iref_counts *c, char *err,
    size_t errlen)
{
	return ref_import(path, REF_DIDCACHE_MIGRATION, did_docs_import, c,
	    err, errlen);
}

int
store_iref_audit(const char *src_dir, const struct iref_counts *c)
{
	char	 now[STORE_TS_LEN], detail[512];

	store_timestamp(now);
	snprintf(detail, sizeof(detail), "{\"accounts\":%lld,\"records\":"
	    "%lld,\"blobs\":%lld,\"events\":%lld,\"last_seq\":%lld}",
	    (long long)c->accounts, (long long)c->records,
	    (long long)c->blobs, (long long)c->events,
	    (long long)c->last_seq);
	return store_run("INSERT INTO audit_log (at, actor, action, subject, "
	    "detail) VALUES (?1, 'pdsctl import-reference', "
	    "'import_reference', ?2, ?3)", STORE_ARGS(SB_TEXT(now),
	    SB_TEXT(src_dir), SB_TEXT(detail)), "import audit", NULL);
}

/* ---- for logins ---- */

int
store_app_password_any_reference(const char *did, bool *any)
{
	int64_t	 n = 0;
	int	 rc;

	rc = store_ints("SELECT count(*) FROM app_passwords WHERE did = ?1 "
	    "AND password_hash NOT LIKE 'b2:%'", STORE_ARGS(SB_TEXT(did)),
	    "app password reference", &n, 1);
	*any = n > 0;
	return rc;
}

int
store_app_password_rehash(const char *did, const char *name,
    const char *hash)
{
	return store_run_changed("UPDATE app_passwords SET password_hash = ?3 "
	    "WHERE did = ?1 AND name = ?2", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(name), SB_TEXT(hash)), "app password rehash");
}
