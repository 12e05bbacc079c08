/*
 * store_account: SQL for accounts, refresh tokens, app passwords and
 * invite codes.  See store_account.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "store_account.h"
#include "store_internal.h"

/* ---- accounts ---- */

int
store_account_insert(const char *did, const char *handle, const char *email,
    const char *password_hash, const uint8_t key[32], const char *created_at)
{
	sqlite3_stmt	*st;

	st = store_stmt("INSERT INTO accounts (did, handle, email, "
	    "password_hash, signing_key, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	store_bind_nonempty_or_null(st, 2, handle);
	store_bind_nonempty_or_null(st, 3, email);
	store_bind_nonempty_or_null(st, 4, password_hash);
	sqlite3_bind_blob(st, 5, key, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, created_at, -1, SQLITE_STATIC);
	return store_step_done(st, "account insert", NULL);
}

#define ACCOUNT_COLS "did, handle, email, status, created_at, " \
	"email_confirmed_at, deactivated_at, takedown_ref, invites_disabled"

static int
account_row(sqlite3_stmt *st, struct store_account *a)
{
	int	 rc = PDS_OK;

	memset(a, 0, sizeof(*a));
	if (store_col_text(st, 0, a->did, sizeof(a->did)) != PDS_OK ||
	    store_col_text(st, 1, a->handle, sizeof(a->handle)) != PDS_OK ||
	    store_col_text(st, 2, a->email, sizeof(a->email)) != PDS_OK ||
	    store_col_text(st, 3, a->status, sizeof(a->status)) != PDS_OK ||
	    store_col_text(st, 4, a->created_at,
	    sizeof(a->created_at)) != PDS_OK ||
	    store_col_text(st, 5, a->email_confirmed_at,
	    sizeof(a->email_confirmed_at)) != PDS_OK ||
	    store_col_text(st, 6, a->deactivated_at,
	    sizeof(a->deactivated_at)) != PDS_OK ||
	    store_col_text(st, 7, a->takedown_ref,
	    sizeof(a->takedown_ref)) != PDS_OK)
		rc = PDS_ETOOBIG;
	a->invites_disabled = sqlite3_column_int(st, 8) != 0;
	return rc;
}

int
store_account_get(enum store_account_by by, const char *key,
    struct store_account *out)
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	switch (by) {
	case SA_BY_DID:
		st = store_stmt("SELECT " ACCOUNT_COLS " FROM accounts "
		    "WHERE did = ?1");
		break;
	case SA_BY_HANDLE:
		st = store_stmt("SELECT " ACCOUNT_COLS " FROM accounts "
		    "WHERE handle = ?1");
		break;
	case SA_BY_EMAIL:
		st = store_stmt("SELECT " ACCOUNT_COLS " FROM accounts "
		    "WHERE email = ?1");
		break;
	default:
		return PDS_EINVAL;
	}
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = account_row(st, out);
	else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "account get");
	store_stmt_done(st);
	return ret;
}

int
store_account_handle_taken(const char *handle, const char *except_did,
    bool *taken)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_stmt("SELECT 1 FROM accounts WHERE handle = ?1 "
	    "AND did IS NOT ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, handle, -1, SQLITE_STATIC);
	store_bind_nonempty_or_null(st, 2, except_did);
	rc = sqlite3_step(st);
	store_stmt_done(st);
	*taken = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PDS_OK :
	    store_err(rc, "handle check");
}

int
store_account_email_taken(const char *email, bool *taken)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_stmt("SELECT 1 FROM accounts WHERE email = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	store_stmt_done(st);
	*taken = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PDS_OK :
	    store_err(rc, "email check");
}

int
store_account_password_hash(const char *did, char *out, size_t cap)
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT password_hash FROM accounts WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = store_col_text(st, 0, out, cap);
	else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "password hash");
	store_stmt_done(st);
	return ret;
}

int
store_account_signing_key(const char *did, uint8_t out[32])
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT signing_key, signing_key_format FROM accounts "
	    "WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_int(st, 1) != 0 ||
		    sqlite3_column_bytes(st, 0) != 32)
			ret = PDS_EUNSUPP;
		else {
			memcpy(out, sqlite3_column_blob(st, 0), 32);
			ret = PDS_OK;
		}
	} else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "signing key");
	store_stmt_done(st);
	return ret;
}

int
store_account_set_handle(const char *did, const char *handle)
{
	sqlite3_stmt	*st;

	st = store_stmt("UPDATE accounts SET handle = ?2 WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	store_bind_nonempty_or_null(st, 2, handle);
	return store_step_changed(st, "set handle");
}

int
store_account_set_email(const char *did, const char *email)
{
	sqlite3_stmt	*st;

	st = store_stmt("UPDATE accounts SET email = ?2, "
	    "email_confirmed_at = NULL WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	store_bind_nonempty_or_null(st, 2, email);
	return store_step_changed(st, "set email");
}

int
store_account_set_password(const char *did, const char *hash)
{
	sqlite3_stmt	*st;

	st = store_stmt("UPDATE accounts SET password_hash = ?2 "
	    "WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	return store_step_changed(st, "set password");
}

int
store_account_set_status(const char *did, const char *status,
    const char *at_or_ref)
{
	sqlite3_stmt	*st;

	if (strcmp(status, "active") == 0)
		st = store_stmt("UPDATE accounts SET status = 'active', "
		    "deactivated_at = NULL, delete_after = NULL, "
		    "takedown_ref = NULL WHERE did = ?1");
	else if (strcmp(status, "deactivated") == 0)
		st = store_stmt("UPDATE accounts SET status = 'deactivated', "
		    "deactivated_at = ?2 WHERE did = ?1");
	else if (strcmp(status, "takendown") == 0)
		st = store_stmt("UPDATE accounts SET status = 'takendown', "
		    "takedown_ref = ?2 WHERE did = ?1");
	else
		return PDS_EINVAL;
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	if (strcmp(status, "active") != 0)
		sqlite3_bind_text(st, 2, at_or_ref != NULL ? at_or_ref : "",
		    -1, SQLITE_STATIC);
	return store_step_changed(st, "set status");
}

int
store_account_set_invites_disabled(const char *did, bool disabled)
{
	sqlite3_stmt	*st;

	st = store_stmt("UPDATE accounts SET invites_disabled = ?2 "
	    "WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, disabled ? 1 : 0);
	return store_step_changed(st, "set invites");
}

int
store_account_delete(const char *did)
{
	sqlite3_stmt	*st;

	st = store_stmt("DELETE FROM accounts WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	return store_step_changed(st, "account delete");
}

int
store_account_repo_init(const char *did, const struct store_block *blocks,
    size_t n, const char *root_cid, const char *rev, const char *now)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	for (i = 0; i < n; i++) {
		st = store_stmt("INSERT OR IGNORE INTO repo_blocks "
		    "(did, cid, rev, size, content) "
		    "VALUES (?1, ?2, ?3, ?4, ?5)");
		if (st == NULL)
			return PDS_EIO;
		sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, blocks[i].cid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, rev, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)blocks[i].len);
		sqlite3_bind_blob(st, 5, blocks[i].data, (int)blocks[i].len,
		    SQLITE_STATIC);
		if ((rc = store_step_done(st, "repo block", NULL)) != PDS_OK)
			return rc;
	}
	st = store_stmt("INSERT INTO repo_root (did, cid, rev, indexed_at) "
	    "VALUES (?1, ?2, ?3, ?4)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, root_cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	return store_step_done(st, "repo root", NULL);
}

/* ---- refresh tokens ---- */

int
store_refresh_insert(const char *id, const char *did, const char *expires_at,
    const char *app_password_name)
{
	sqlite3_stmt	*st;

	st = store_stmt("INSERT INTO refresh_tokens (id, did, expires_at, "
	    "app_password_name) VALUES (?1, ?2, ?3, ?4)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, expires_at, -1, SQLITE_STATIC);
	store_bind_nonempty_or_null(st, 4, app_password_name);
	return store_step_done(st, "refresh insert", NULL);
}

int
store_refresh_get(const char *id, struct store_refresh *out)
{
	sqlite3_stmt	*st;
	int		 rc, ret = PDS_OK;

	st = store_stmt("SELECT id, did, expires_at, app_password_name, "
	    "next_id FROM refresh_tokens WHERE id = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (store_col_text(st, 0, out->id, sizeof(out->id)) != PDS_OK ||
		    store_col_text(st, 1, out->did,
		    sizeof(out->did)) != PDS_OK ||
		    store_col_text(st, 2, out->expires_at,
		    sizeof(out->expires_at)) != PDS_OK ||
		    store_col_text(st, 3, out->app_password_name,
		    sizeof(out->app_password_name)) != PDS_OK ||
		    store_col_text(st, 4, out->next_id, sizeof(out->next_id)) !=
		    PDS_OK)
			ret = PDS_ETOOBIG;
	} else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "refresh get");
	store_stmt_done(st);
	return ret;
}

int
store_refresh_rotate(const char *id, const char *next_id,
    const char *expires_at)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_stmt("UPDATE refresh_tokens SET next_id = ?2, "
	    "expires_at = min(expires_at, ?3) "
	    "WHERE id = ?1 AND (next_id IS NULL OR next_id = ?2)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, next_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, expires_at, -1, SQLITE_STATIC);
	rc = store_step_changed(st, "refresh rotate");
	return rc == PDS_ENOTFOUND ? PDS_EMISMATCH : rc;
}

int
store_refresh_revoke_chain(const char *id)
{
	sqlite3_stmt	*st;

	st = store_stmt("WITH RECURSIVE chain(id) AS (SELECT ?1 UNION "
	    "SELECT r.id FROM refresh_tokens r JOIN chain c "
	    "ON r.next_id = c.id) "
	    "DELETE FROM refresh_tokens WHERE id IN (SELECT id FROM chain)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return store_step_done(st, "refresh revoke", NULL);
}

int
store_refresh_revoke_app_password(const char *did, const char *name)
{
	sqlite3_stmt	*st;

	st = store_stmt("DELETE FROM refresh_tokens WHERE did = ?1 "
	    "AND app_password_name = ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return store_step_done(st, "refresh revoke app password", NULL);
}

int
store_refresh_revoke_all(const char *did)
{
	sqlite3_stmt	*st;

	st = store_stmt("DELETE FROM refresh_tokens WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	return store_step_done(st, "refresh revoke all", NULL);
}

int
store_refresh_prune(const char *did, const char *now)
{
	sqlite3_stmt	*st;

	st = store_stmt("DELETE FROM refresh_tokens WHERE did = ?1 "
	    "AND expires_at <= ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	return store_step_done(st, "refresh prune", NULL);
}

/* ---- app passwords ---- */

int
store_app_password_insert(const char *did, const char *name,
    const char *hash, bool privileged, const char *created_at)
{
	sqlite3_stmt	*st;

	st = store_stmt("INSERT INTO app_passwords (did, name, password_hash, "
	    "privileged, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, privileged ? 1 : 0);
	sqlite3_bind_text(st, 5, created_at, -1, SQLITE_STATIC);
	return store_step_done(st, "app password insert", NULL);
}

static int
app_password_row(sqlite3_stmt *st, struct store_app_password *out)
{
	memset(out, 0, sizeof(*out));
	if (store_col_text(st, 0, out->name, sizeof(out->name)) != PDS_OK ||
	    store_col_text(st, 1, out->created_at, sizeof(out->created_at)) !=
	    PDS_OK)
		return PDS_ETOOBIG;
	out->privileged = sqlite3_column_int(st, 2) != 0;
	return PDS_OK;
}

static int
app_password_one(sqlite3_stmt *st, struct store_app_password *out)
{
	int	 rc, ret;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = app_password_row(st, out);
	else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "app password get");
	store_stmt_done(st);
	return ret;
}

int
store_app_password_find(const char *did, const char *hash,
    struct store_app_password *out)
{
	sqlite3_stmt	*st;

	st = store_stmt("SELECT name, created_at, privileged FROM "
	    "app_passwords WHERE did = ?1 AND password_hash = ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	return app_password_one(st, out);
}

int
store_app_password_get(const char *did, const char *name,
    struct store_app_password *out)
{
	sqlite3_stmt	*st;

	st = store_stmt("SELECT name, created_at, privileged FROM "
	    "app_passwords WHERE did = ?1 AND name = ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return app_password_one(st, out);
}

int
store_app_password_count(const char *did, size_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_stmt("SELECT count(*) FROM app_passwords WHERE did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
	store_stmt_done(st);
	return rc == SQLITE_ROW ? PDS_OK : store_err(rc, "app password count");
}

int
store_app_password_list(const char *did,
    int (*cb)(void *, const struct store_app_password *), void *arg)
{
	struct store_app_password ap;
	sqlite3_stmt	*st;
	int		 rc, ret = PDS_OK;

	st = store_stmt("SELECT name, created_at, privileged FROM "
	    "app_passwords WHERE did = ?1 ORDER BY created_at, name");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((ret = app_password_row(st, &ap)) != PDS_OK ||
		    (ret = cb(arg, &ap)) != 0)
			break;
	}
	if (ret == PDS_OK && rc != SQLITE_DONE)
		ret = store_err(rc, "app password list");
	store_stmt_done(st);
	return ret;
}

int
store_app_password_delete(const char *did, const char *name)
{
	sqlite3_stmt	*st;

	st = store_stmt("DELETE FROM app_passwords WHERE did = ?1 "
	    "AND name = ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return store_step_changed(st, "app password delete");
}

/* ---- invite codes ---- */

int
store_invite_insert(const char *code, int64_t uses, const char *for_account,
    const char *created_by, const char *created_at)
{
	sqlite3_stmt	*st;

	st = store_stmt("INSERT INTO invite_codes (code, available_uses, "
	    "for_account, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uses);
	sqlite3_bind_text(st, 3, for_account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, created_by, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, created_at, -1, SQLITE_STATIC);
	return store_step_done(st, "invite insert", NULL);
}

#define INVITE_COLS "c.code, c.available_uses, c.disabled, c.for_account, " \
	"c.created_by, c.created_at, " \
	"(SELECT count(*) FROM invite_code_uses u WHERE u.code = c.code)"

static int
invite_row(sqlite3_stmt *st, struct store_invite *out)
{
	memset(out, 0, sizeof(*out));
	out->available = sqlite3_column_int64(st, 1);
	out->disabled = sqlite3_column_int(st, 2) != 0;
	out->used = sqlite3_column_int64(st, 6);
	if (store_col_text(st, 0, out->code, sizeof(out->code)) != PDS_OK ||
	    store_col_text(st, 3, out->for_account, sizeof(out->for_account)) !=
	    PDS_OK ||
	    store_col_text(st, 4, out->created_by, sizeof(out->created_by)) !=
	    PDS_OK ||
	    store_col_text(st, 5, out->created_at,
	    sizeof(out->created_at)) != PDS_OK)
		return PDS_ETOOBIG;
	return PDS_OK;
}

int
store_invite_get(const char *code, struct store_invite *out)
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT " INVITE_COLS " FROM invite_codes c "
	    "WHERE c.code = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = invite_row(st, out);
	else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "invite get");
	store_stmt_done(st);
	return ret;
}

int
store_invite_use(const char *code, const char *did, const char *now)
{
	sqlite3_stmt	*st;

	/*
	 * One statement: the use is recorded only while the count of uses
	 * is below the limit.  Inside the caller's BEGIN IMMEDIATE no other
	 * writer runs between the count and the insert.
	 */
	st = store_stmt("INSERT INTO invite_code_uses (code, used_by, used_at) "
	    "SELECT c.code, ?2, ?3 FROM invite_codes c WHERE c.code = ?1 "
	    "AND c.disabled = 0 AND c.available_uses > "
	    "(SELECT count(*) FROM invite_code_uses u WHERE u.code = c.code)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	return store_step_changed(st, "invite use");
}

int
store_invite_list_for(const char *account,
    int (*cb)(void *, const struct store_invite *), void *arg)
{
	struct store_invite inv;
	sqlite3_stmt	*st;
	int		 rc, ret = PDS_OK;

	st = store_stmt("SELECT " INVITE_COLS " FROM invite_codes c "
	    "WHERE c.for_account = ?1 ORDER BY c.created_at DESC, c.code");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((ret = invite_row(st, &inv)) != PDS_OK ||
		    (ret = cb(arg, &inv)) != 0)
			break;
	}
	if (ret == PDS_OK && rc != SQLITE_DONE)
		ret = store_err(rc, "invite list");
	store_stmt_done(st);
	return ret;
}

int
store_invite_list_uses(const char *code,
    int (*cb)(void *, const struct store_invite_use *), void *arg)
{
	struct store_invite_use u;
	sqlite3_stmt	*st;
	int		 rc, ret = PDS_OK;

	st = store_stmt("SELECT used_by, used_at FROM invite_code_uses "
	    "WHERE code = ?1 ORDER BY used_at");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (store_col_text(st, 0, u.used_by,
		    sizeof(u.used_by)) != PDS_OK ||
		    store_col_text(st, 1, u.used_at,
		    sizeof(u.used_at)) != PDS_OK) {
			ret = PDS_ETOOBIG;
			break;
		}
		if ((ret = cb(arg, &u)) != 0)
			break;
	}
	if (ret == PDS_OK && rc != SQLITE_DONE)
		ret = store_err(rc, "invite uses");
	store_stmt_done(st);
	return ret;
}
