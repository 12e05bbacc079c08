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

/* ---- account status ---- */

static const char *const acct_status_names[] = {
	[ACCT_ACTIVE] = "active",
	[ACCT_DEACTIVATED] = "deactivated",
	[ACCT_TAKENDOWN] = "takendown",
	[ACCT_DELETED] = "deleted",
};
#define NSTATUS	(sizeof(acct_status_names) / sizeof(acct_status_names[0]))

const char *
acct_status_name(enum acct_status s)
{
	if ((size_t)s >= NSTATUS)
		return "unknown";
	return acct_status_names[s];
}

int
acct_status_parse(const char *name, enum acct_status *out)
{
	size_t	 i;

	for (i = 0; i < NSTATUS; i++)
		if (strcmp(acct_status_names[i], name) == 0) {
			*out = (enum acct_status)i;
			return PDS_OK;
		}
	return PDS_EINVAL;
}

int
store_col_status(sqlite3_stmt *st, int i, enum acct_status *out)
{
	char	 name[16];

	if (store_col_text(st, i, name, sizeof(name)) != PDS_OK ||
	    acct_status_parse(name, out) != PDS_OK)
		return PDS_EINTERNAL;
	return PDS_OK;
}

/* ---- accounts ---- */

int
store_account_insert(const char *did, const char *handle, const char *email,
    const char *password_hash, const uint8_t key[32], const char *created_at)
{
	return store_run("INSERT INTO accounts (did, handle, email, "
	    "password_hash, signing_key, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", STORE_ARGS(SB_TEXT(did),
	    SB_NONEMPTY(handle), SB_NONEMPTY(email),
	    SB_NONEMPTY(password_hash), SB_BLOB(key, 32), SB_TEXT(created_at)),
	    "account insert", NULL);
}

int
store_read_account(sqlite3_stmt *st, struct store_account *a,
    int (*text)(sqlite3_stmt *, int, char *, size_t))
{
	int	 rc = PDS_OK;

	memset(a, 0, sizeof(*a));
	if (text(st, 0, a->did, sizeof(a->did)) != PDS_OK ||
	    text(st, 1, a->handle, sizeof(a->handle)) != PDS_OK ||
	    text(st, 2, a->email, sizeof(a->email)) != PDS_OK ||
	    text(st, 4, a->created_at, sizeof(a->created_at)) != PDS_OK ||
	    text(st, 5, a->email_confirmed_at,
	    sizeof(a->email_confirmed_at)) != PDS_OK ||
	    text(st, 6, a->deactivated_at,
	    sizeof(a->deactivated_at)) != PDS_OK ||
	    text(st, 7, a->takedown_ref, sizeof(a->takedown_ref)) != PDS_OK)
		rc = PDS_ETOOBIG;
	else
		rc = store_col_status(st, 3, &a->status);
	a->invites_disabled = sqlite3_column_int(st, 8) != 0;
	a->email_auth_factor = sqlite3_column_int(st, 9) != 0;
	return rc;
}

static int
account_row(sqlite3_stmt *st, void *out)
{
	return store_read_account(st, out, store_col_text);
}

int
store_account_get(enum store_account_by by, const char *key,
    struct store_account *out)
{
	const char	*sql;

	switch (by) {
	case SA_BY_DID:
		sql = "SELECT " STORE_ACCOUNT_COLS " FROM accounts "
		    "WHERE did = ?1";
		break;
	case SA_BY_HANDLE:
		sql = "SELECT " STORE_ACCOUNT_COLS " FROM accounts "
		    "WHERE handle = ?1";
		break;
	case SA_BY_EMAIL:
		sql = "SELECT " STORE_ACCOUNT_COLS " FROM accounts "
		    "WHERE email = ?1";
		break;
	default:
		return PDS_EINVAL;
	}
	return store_get(sql, STORE_ARGS(SB_TEXT(key)), "account get",
	    account_row, out);
}

int
store_account_handle_taken(const char *handle, const char *except_did,
    bool *taken)
{
	return store_has_row("SELECT 1 FROM accounts WHERE handle = ?1 "
	    "AND did IS NOT ?2", STORE_ARGS(SB_TEXT(handle),
	    SB_NONEMPTY(except_did)), taken, "handle check");
}

int
store_account_email_taken(const char *email, bool *taken)
{
	return store_has_row("SELECT 1 FROM accounts WHERE email = ?1",
	    STORE_ARGS(SB_TEXT(email)), taken, "email check");
}

int
store_account_password_hash(const char *did, char *out, size_t cap)
{
	return store_text("SELECT password_hash FROM accounts WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "password hash", out, cap);
}

/* A raw 32-byte key (signing_key_format 0), the only format known. */
static int
signing_key_read(sqlite3_stmt *st, void *out)
{
	size_t	 n;

	if (sqlite3_column_int(st, 1) != 0 ||
	    store_col_blob(st, 0, out, 32, &n) != PDS_OK || n != 32)
		return PDS_EUNSUPP;
	return PDS_OK;
}

int
store_account_signing_key(const char *did, uint8_t out[32])
{
	return store_get("SELECT signing_key, signing_key_format "
	    "FROM accounts WHERE did = ?1", STORE_ARGS(SB_TEXT(did)),
	    "signing key", signing_key_read, out);
}

int
store_account_set_handle(const char *did, const char *handle)
{
	return store_run_changed("UPDATE accounts SET handle = ?2 "
	    "WHERE did = ?1", STORE_ARGS(SB_TEXT(did), SB_NONEMPTY(handle)),
	    "set handle");
}

int
store_account_set_email(const char *did, const char *email)
{
	return store_run_changed("UPDATE accounts SET email = ?2, "
	    "email_confirmed_at = NULL WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did), SB_NONEMPTY(email)), "set email");
}

int
store_account_set_password(const char *did, const char *hash)
{
	return store_run_changed("UPDATE accounts SET password_hash = ?2 "
	    "WHERE did = ?1", STORE_ARGS(SB_TEXT(did), SB_TEXT(hash)),
	    "set password");
}

int
store_account_set_status(const char *did, enum acct_status status,
    const char *at_or_ref)
{
	const char	*sql = NULL;

	switch (status) {
	case ACCT_ACTIVE:
		return store_run_changed("UPDATE accounts SET "
		    "status = 'active', deactivated_at = NULL, "
		    "delete_after = NULL, takedown_ref = NULL WHERE did = ?1",
		    STORE_ARGS(SB_TEXT(did)), "set status");
	case ACCT_DEACTIVATED:
		sql = "UPDATE accounts SET status = 'deactivated', "
		    "deactivated_at = ?2 WHERE did = ?1";
		break;
	case ACCT_TAKENDOWN:
		sql = "UPDATE accounts SET status = 'takendown', "
		    "takedown_ref = ?2 WHERE did = ?1";
		break;
	case ACCT_DELETED:	/* deleting the row is the only deletion */
		break;
	}
	if (sql == NULL)
		return PDS_EINVAL;
	return store_run_changed(sql, STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(at_or_ref != NULL ? at_or_ref : "")), "set status");
}

int
store_account_set_email_auth_factor(const char *did, bool on)
{
	return store_run_changed("UPDATE accounts SET email_auth_factor = ?2 "
	    "WHERE did = ?1", STORE_ARGS(SB_TEXT(did), SB_INT(on ? 1 : 0)),
	    "set email auth factor");
}

int
store_account_set_invites_disabled(const char *did, bool disabled)
{
	return store_run_changed("UPDATE accounts SET invites_disabled = ?2 "
	    "WHERE did = ?1", STORE_ARGS(SB_TEXT(did), SB_INT(disabled ? 1 : 0)),
	    "set invites");
}

int
store_account_delete(const char *did)
{
	return store_run_changed("DELETE FROM accounts WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "account delete");
}

int
store_account_repo_init(const char *did, const struct store_block *blocks,
    size_t n, const char *root_cid, const char *rev, const char *now)
{
	size_t		 i;
	int		 rc;

	for (i = 0; i < n; i++)
		if ((rc = store_run("INSERT OR IGNORE INTO repo_blocks "
		    "(did, cid, rev, size, content) "
		    "VALUES (?1, ?2, ?3, ?4, ?5)", STORE_ARGS(SB_TEXT(did),
		    SB_TEXT(blocks[i].cid), SB_TEXT(rev), SB_INT(blocks[i].len),
		    SB_BLOB(blocks[i].data, blocks[i].len)), "repo block",
		    NULL)) != PDS_OK)
			return rc;
	return store_run("INSERT INTO repo_root (did, cid, rev, indexed_at) "
	    "VALUES (?1, ?2, ?3, ?4)", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(root_cid), SB_TEXT(rev), SB_TEXT(now)), "repo root", NULL);
}

/* ---- refresh tokens ---- */

int
store_refresh_insert(const char *id, const char *did, const char *expires_at,
    const char *app_password_name)
{
	return store_run("INSERT INTO refresh_tokens (id, did, expires_at, "
	    "app_password_name) VALUES (?1, ?2, ?3, ?4)", STORE_ARGS(SB_TEXT(id),
	    SB_TEXT(did), SB_TEXT(expires_at), SB_NONEMPTY(app_password_name)),
	    "refresh insert", NULL);
}

#define REFRESH_COLS "id, did, expires_at, app_password_name, next_id"

static int
refresh_row(sqlite3_stmt *st, void *out)
{
	struct store_refresh	*r = out;

	memset(r, 0, sizeof(*r));
	if (store_col_text(st, 0, r->id, sizeof(r->id)) != PDS_OK ||
	    store_col_text(st, 1, r->did, sizeof(r->did)) != PDS_OK ||
	    store_col_text(st, 2, r->expires_at,
	    sizeof(r->expires_at)) != PDS_OK ||
	    store_col_text(st, 3, r->app_password_name,
	    sizeof(r->app_password_name)) != PDS_OK ||
	    store_col_text(st, 4, r->next_id, sizeof(r->next_id)) != PDS_OK)
		return PDS_ETOOBIG;
	return PDS_OK;
}

int
store_refresh_get(const char *id, struct store_refresh *out)
{
	return store_get("SELECT " REFRESH_COLS " FROM refresh_tokens "
	    "WHERE id = ?1", STORE_ARGS(SB_TEXT(id)), "refresh get",
	    refresh_row, out);
}

int
store_refresh_rotate(const char *id, const char *next_id,
    const char *expires_at)
{
	int	 rc;

	rc = store_run_changed("UPDATE refresh_tokens SET next_id = ?2, "
	    "expires_at = min(expires_at, ?3) "
	    "WHERE id = ?1 AND (next_id IS NULL OR next_id = ?2)",
	    STORE_ARGS(SB_TEXT(id), SB_TEXT(next_id), SB_TEXT(expires_at)),
	    "refresh rotate");
	return rc == PDS_ENOTFOUND ? PDS_EMISMATCH : rc;
}

int
store_refresh_revoke_chain(const char *id)
{
	return store_run("WITH RECURSIVE chain(id) AS (SELECT ?1 UNION "
	    "SELECT r.id FROM refresh_tokens r JOIN chain c "
	    "ON r.next_id = c.id) "
	    "DELETE FROM refresh_tokens WHERE id IN (SELECT id FROM chain)",
	    STORE_ARGS(SB_TEXT(id)), "refresh revoke", NULL);
}

int
store_refresh_revoke_app_password(const char *did, const char *name)
{
	return store_run("DELETE FROM refresh_tokens WHERE did = ?1 "
	    "AND app_password_name = ?2", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(name)), "refresh revoke app password", NULL);
}

int
store_refresh_revoke_all(const char *did)
{
	return store_run("DELETE FROM refresh_tokens WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "refresh revoke all", NULL);
}

int
store_refresh_list(const char *did,
    int (*cb)(void *, const struct store_refresh *), void *arg)
{
	struct store_refresh	 r;
	sqlite3_stmt		*st;
	int			 rc;

	if ((rc = store_prep(&st, "SELECT " REFRESH_COLS " FROM refresh_tokens "
	    "WHERE did = ?1 AND next_id IS NULL ORDER BY expires_at, id",
	    STORE_ARGS(SB_TEXT(did)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "refresh list"))
		if ((rc = refresh_row(st, &r)) != PDS_OK ||
		    (rc = cb(arg, &r)) != 0)
			break;
	store_stmt_done(st);
	return rc;
}

int
store_refresh_prune(const char *did, const char *now)
{
	return store_run("DELETE FROM refresh_tokens WHERE did = ?1 "
	    "AND expires_at <= ?2", STORE_ARGS(SB_TEXT(did), SB_TEXT(now)),
	    "refresh prune", NULL);
}

/* ---- app passwords ---- */

int
store_app_password_insert(const char *did, const char *name,
    const char *hash, bool privileged, const char *created_at)
{
	return store_run("INSERT INTO app_passwords (did, name, "
	    "password_hash, privileged, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(name), SB_TEXT(hash), SB_INT(privileged ? 1 : 0),
	    SB_TEXT(created_at)), "app password insert", NULL);
}

static int
app_password_row(sqlite3_stmt *st, void *out)
{
	struct store_app_password	*ap = out;

	memset(ap, 0, sizeof(*ap));
	if (store_col_text(st, 0, ap->name, sizeof(ap->name)) != PDS_OK ||
	    store_col_text(st, 1, ap->created_at, sizeof(ap->created_at)) !=
	    PDS_OK)
		return PDS_ETOOBIG;
	ap->privileged = sqlite3_column_int(st, 2) != 0;
	return PDS_OK;
}

static int
app_password_one(const char *sql, const char *did, const char *key,
    struct store_app_password *out)
{
	return store_get(sql, STORE_ARGS(SB_TEXT(did), SB_TEXT(key)),
	    "app password get", app_password_row, out);
}

int
store_app_password_find(const char *did, const char *hash,
    struct store_app_password *out)
{
	return app_password_one("SELECT name, created_at, privileged FROM "
	    "app_passwords WHERE did = ?1 AND password_hash = ?2", did, hash,
	    out);
}

int
store_app_password_get(const char *did, const char *name,
    struct store_app_password *out)
{
	return app_password_one("SELECT name, created_at, privileged FROM "
	    "app_passwords WHERE did = ?1 AND name = ?2", did, name, out);
}

int
store_app_password_count(const char *did, size_t *n)
{
	int64_t	 v;
	int	 rc;

	rc = store_ints("SELECT count(*) FROM app_passwords WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "app password count", &v, 1);
	*n = (size_t)v;
	return rc;
}

int
store_app_password_list(const char *did,
    int (*cb)(void *, const struct store_app_password *), void *arg)
{
	struct store_app_password ap;
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_prep(&st, "SELECT name, created_at, privileged FROM "
	    "app_passwords WHERE did = ?1 ORDER BY created_at, name",
	    STORE_ARGS(SB_TEXT(did)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "app password list"))
		if ((rc = app_password_row(st, &ap)) != PDS_OK ||
		    (rc = cb(arg, &ap)) != 0)
			break;
	store_stmt_done(st);
	return rc;
}

int
store_app_password_delete(const char *did, const char *name)
{
	return store_run_changed("DELETE FROM app_passwords WHERE did = ?1 "
	    "AND name = ?2", STORE_ARGS(SB_TEXT(did), SB_TEXT(name)),
	    "app password delete");
}

int
store_app_password_delete_all(const char *did)
{
	return store_run("DELETE FROM app_passwords WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "app password delete all", NULL);
}

/* ---- invite codes ---- */

int
store_invite_insert(const char *code, int64_t uses, const char *for_account,
    const char *created_by, const char *created_at)
{
	return store_run("INSERT INTO invite_codes (code, available_uses, "
	    "for_account, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	    STORE_ARGS(SB_TEXT(code), SB_INT(uses), SB_TEXT(for_account),
	    SB_TEXT(created_by), SB_TEXT(created_at)), "invite insert", NULL);
}

int
store_read_invite(sqlite3_stmt *st, struct store_invite *inv,
    int (*text)(sqlite3_stmt *, int, char *, size_t))
{
	memset(inv, 0, sizeof(*inv));
	inv->available = sqlite3_column_int64(st, 1);
	inv->disabled = sqlite3_column_int(st, 2) != 0;
	inv->used = sqlite3_column_int64(st, 6);
	if (text(st, 0, inv->code, sizeof(inv->code)) != PDS_OK ||
	    text(st, 3, inv->for_account, sizeof(inv->for_account)) !=
	    PDS_OK ||
	    text(st, 4, inv->created_by, sizeof(inv->created_by)) != PDS_OK ||
	    text(st, 5, inv->created_at, sizeof(inv->created_at)) != PDS_OK)
		return PDS_ETOOBIG;
	return PDS_OK;
}

static int
invite_row(sqlite3_stmt *st, void *out)
{
	return store_read_invite(st, out, store_col_text);
}

int
store_invite_get(const char *code, struct store_invite *out)
{
	return store_get("SELECT " STORE_INVITE_COLS " FROM invite_codes c "
	    "WHERE c.code = ?1", STORE_ARGS(SB_TEXT(code)), "invite get",
	    invite_row, out);
}

int
store_invite_use(const char *code, const char *did, const char *now)
{
	/*
	 * One statement: the use is recorded only while the count of uses
	 * is below the limit.  Inside the caller's BEGIN IMMEDIATE no other
	 * writer runs between the count and the insert.
	 */
	return store_run_changed("INSERT INTO invite_code_uses (code, "
	    "used_by, used_at) "
	    "SELECT c.code, ?2, ?3 FROM invite_codes c WHERE c.code = ?1 "
	    "AND c.disabled = 0 AND c.available_uses > "
	    "(SELECT count(*) FROM invite_code_uses u WHERE u.code = c.code)",
	    STORE_ARGS(SB_TEXT(code), SB_TEXT(did), SB_TEXT(now)),
	    "invite use");
}

int
store_invite_list_for(const char *account,
    int (*cb)(void *, const struct store_invite *), void *arg)
{
	struct store_invite inv;
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_prep(&st, "SELECT " STORE_INVITE_COLS " FROM "
	    "invite_codes c WHERE c.for_account = ?1 "
	    "ORDER BY c.created_at DESC, c.code",
	    STORE_ARGS(SB_TEXT(account)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "invite list"))
		if ((rc = invite_row(st, &inv)) != PDS_OK ||
		    (rc = cb(arg, &inv)) != 0)
			break;
	store_stmt_done(st);
	return rc;
}

int
store_invite_list_uses(const char *code,
    int (*cb)(void *, const struct store_invite_use *), void *arg)
{
	struct store_invite_use u;
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_prep(&st, "SELECT used_by, used_at FROM "
	    "invite_code_uses WHERE code = ?1 ORDER BY used_at",
	    STORE_ARGS(SB_TEXT(code)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "invite uses")) {
		if (store_col_text(st, 0, u.used_by,
		    sizeof(u.used_by)) != PDS_OK ||
		    store_col_text(st, 1, u.used_at,
		    sizeof(u.used_at)) != PDS_OK) {
			rc = PDS_ETOOBIG;
			break;
		}
		if ((rc = cb(arg, &u)) != 0)
			break;
	}
	store_stmt_done(st);
	return rc;
}
