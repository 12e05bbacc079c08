/*
 * store_oauth: the OAuth authorization server's tables.  See
 * store_oauth.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "store_internal.h"
#include "store_oauth.h"

/* Column i as a new string, or NULL for NULL. */
static int
col_dup(sqlite3_stmt *st, int i, char **out)
{
	const char	*s = (const char *)sqlite3_column_text(st, i);

	*out = NULL;
	if (s == NULL)
		return PDS_OK;
	if ((*out = strdup(s)) == NULL)
		return PDS_ENOMEM;
	return PDS_OK;
}

/* ---- requests ---- */

#define REQUEST_COLS	"id, client_id, client_auth, params, device_id, " \
			"did, code, expires_at"

void
store_oauth_request_clear(struct store_oauth_request *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->client_id);
	free(r->client_auth);
	free(r->params);
	free(r->device_id);
	free(r->did);
	free(r->code);
	memset(r, 0, sizeof(*r));
}

/* Read a row of REQUEST_COLS into *r. */
static int
request_read(sqlite3_stmt *st, struct store_oauth_request *r)
{
	int	 rc;

	memset(r, 0, sizeof(*r));
	if ((rc = col_dup(st, 0, &r->id)) != PDS_OK ||
	    (rc = col_dup(st, 1, &r->client_id)) != PDS_OK ||
	    (rc = col_dup(st, 2, &r->client_auth)) != PDS_OK ||
	    (rc = col_dup(st, 3, &r->params)) != PDS_OK ||
	    (rc = col_dup(st, 4, &r->device_id)) != PDS_OK ||
	    (rc = col_dup(st, 5, &r->did)) != PDS_OK ||
	    (rc = col_dup(st, 6, &r->code)) != PDS_OK) {
		store_oauth_request_clear(r);
		return rc;
	}
	r->expires_at = sqlite3_column_int64(st, 7);
	return PDS_OK;
}

int
store_oauth_request_create(const struct store_oauth_request *r)
{
	return store_run("INSERT INTO oauth_requests (" REQUEST_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", STORE_ARGS(
	    SB_TEXT(r->id), SB_TEXT(r->client_id), SB_TEXT(r->client_auth),
	    SB_TEXT(r->params), SB_TEXTN(r->device_id), SB_TEXTN(r->did),
	    SB_TEXTN(r->code), SB_INT(r->expires_at)), "oauth request create",
	    NULL);
}

int
store_oauth_request_get(const char *id, struct store_oauth_request *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_row(&st, "SELECT " REQUEST_COLS " FROM oauth_requests "
	    "WHERE id = ?1", STORE_ARGS(SB_TEXT(id)),
	    "oauth request get")) != PDS_OK)
		return rc;
	rc = request_read(st, out);
	store_stmt_done(st);
	return rc;
}

int
store_oauth_request_update(const char *id, const char *params,
    const char *device_id, int64_t expires_at)
{
	return store_run_changed("UPDATE oauth_requests SET "
	    "params = coalesce(?2, params), "
	    "device_id = coalesce(?3, device_id), "
	    "expires_at = max(expires_at, ?4) WHERE id = ?1",
	    STORE_ARGS(SB_TEXT(id), SB_TEXTN(params), SB_TEXTN(device_id),
	    SB_INT(expires_at)), "oauth request update");
}

int
store_oauth_request_set_did(const char *id, const char *did)
{
	return store_run_changed("UPDATE oauth_requests SET did = ?2 "
	    "WHERE id = ?1", STORE_ARGS(SB_TEXT(id), SB_TEXT(did)),
	    "oauth request did");
}

int
store_oauth_request_set_code(const char *id, const char *code,
    int64_t expires_at)
{
	return store_run_changed("UPDATE oauth_requests SET code = ?2, "
	    "expires_at = ?3 WHERE id = ?1 AND did IS NOT NULL AND "
	    "code IS NULL", STORE_ARGS(SB_TEXT(id), SB_TEXT(code),
	    SB_INT(expires_at)), "oauth request code");
}

int
store_oauth_request_delete(const char *id)
{
	return store_run_changed("DELETE FROM oauth_requests WHERE id = ?1",
	    STORE_ARGS(SB_TEXT(id)), "oauth request delete");
}

int
store_oauth_request_delete_did(const char *did)
{
	return store_run("DELETE FROM oauth_requests WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "oauth request delete did", NULL);
}

int
store_oauth_request_consume(const char *code, struct store_oauth_request *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	/* One statement, so one write: a second consumer finds no row. */
	memset(out, 0, sizeof(*out));
	if ((rc = store_row(&st, "DELETE FROM oauth_requests WHERE code = ?1 "
	    "RETURNING " REQUEST_COLS, STORE_ARGS(SB_TEXT(code)),
	    "oauth request consume")) != PDS_OK)
		return rc;
	rc = request_read(st, out);
	/* Step to the end so that the delete completes. */
	if (rc == PDS_OK && sqlite3_step(st) != SQLITE_DONE)
		rc = store_err(sqlite3_errcode(sqlite3_db_handle(st)),
		    "oauth request consume");
	store_stmt_done(st);
	if (rc != PDS_OK)
		store_oauth_request_clear(out);
	return rc;
}

/* ---- families ---- */

#define FAMILY_COLS	"id, token_id, did, client_id, client_auth, " \
			"device_id, params, code, refresh_token, scope, " \
			"dpop_jkt, created_at, updated_at, expires_at, " \
			"session_expires_at"

void
store_oauth_family_clear(struct store_oauth_family *f)
{
	if (f == NULL)
		return;
	free(f->token_id);
	free(f->did);
	free(f->client_id);
	free(f->client_auth);
	free(f->device_id);
	free(f->params);
	free(f->code);
	free(f->refresh_token);
	free(f->scope);
	free(f->dpop_jkt);
	memset(f, 0, sizeof(*f));
}

/* Read a row of FAMILY_COLS into the struct store_oauth_family out. */
static int
family_read(sqlite3_stmt *st, void *out)
{
	struct store_oauth_family	*f = out;
	int				 rc;

	memset(f, 0, sizeof(*f));
	f->id = sqlite3_column_int64(st, 0);
	if ((rc = col_dup(st, 1, &f->token_id)) != PDS_OK ||
	    (rc = col_dup(st, 2, &f->did)) != PDS_OK ||
	    (rc = col_dup(st, 3, &f->client_id)) != PDS_OK ||
	    (rc = col_dup(st, 4, &f->client_auth)) != PDS_OK ||
	    (rc = col_dup(st, 5, &f->device_id)) != PDS_OK ||
	    (rc = col_dup(st, 6, &f->params)) != PDS_OK ||
	    (rc = col_dup(st, 7, &f->code)) != PDS_OK ||
	    (rc = col_dup(st, 8, &f->refresh_token)) != PDS_OK ||
	    (rc = col_dup(st, 9, &f->scope)) != PDS_OK ||
	    (rc = col_dup(st, 10, &f->dpop_jkt)) != PDS_OK) {
		store_oauth_family_clear(f);
		return rc;
	}
	f->created_at = sqlite3_column_int64(st, 11);
	f->updated_at = sqlite3_column_int64(st, 12);
	f->expires_at = sqlite3_column_int64(st, 13);
	f->session_expires_at = sqlite3_column_int64(st, 14);
	return PDS_OK;
}

int
store_oauth_family_create(struct store_oauth_family *f)
{
	int	 rc;

	rc = store_run("INSERT INTO oauth_families (token_id, did, client_id, "
	    "client_auth, device_id, params, code, refresh_token, scope, "
	    "dpop_jkt, created_at, updated_at, expires_at, "
	    "session_expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	    "?9, ?10, ?11, ?12, ?13, ?14)", STORE_ARGS(SB_TEXT(f->token_id),
	    SB_TEXT(f->did), SB_TEXT(f->client_id), SB_TEXT(f->client_auth),
	    SB_TEXTN(f->device_id), SB_TEXT(f->params), SB_TEXTN(f->code),
	    SB_TEXTN(f->refresh_token), SB_TEXT(f->scope),
	    SB_TEXTN(f->dpop_jkt), SB_INT(f->created_at),
	    SB_INT(f->updated_at), SB_INT(f->expires_at),
	    SB_INT(f->session_expires_at)), "oauth family create", NULL);
	if (rc == PDS_OK)
		f->id = sqlite3_last_insert_rowid(store_db());
	return rc;
}

/* The one family sql (selecting FAMILY_COLS by ?1) finds. */
static int
family_one(const char *sql, const char *key, struct store_oauth_family *out)
{
	memset(out, 0, sizeof(*out));
	return store_get(sql, STORE_ARGS(SB_TEXT(key)), "oauth family get",
	    family_read, out);
}

int
store_oauth_family_by_token(const char *token_id,
    struct store_oauth_family *out)
{
	return family_one("SELECT " FAMILY_COLS " FROM oauth_families "
	    "WHERE token_id = ?1", token_id, out);
}

int
store_oauth_family_by_code(const char *code, struct store_oauth_family *out)
{
	return family_one("SELECT " FAMILY_COLS " FROM oauth_families "
	    "WHERE code = ?1", code, out);
}

int
store_oauth_family_by_refresh(const char *refresh,
    struct store_oauth_family *out, bool *used)
{
	int	 rc;

	*used = false;
	rc = family_one("SELECT " FAMILY_COLS " FROM oauth_families "
	    "WHERE refresh_token = ?1", refresh, out);
	if (rc != PDS_ENOTFOUND)
		return rc;
	rc = family_one("SELECT " FAMILY_COLS " FROM oauth_families "
	    "WHERE id = (SELECT family_id FROM oauth_used_refresh_tokens "
	    "WHERE refresh_token = ?1)", refresh, out);
	if (rc == PDS_OK)
		*used = true;
	return rc;
}

int
store_oauth_family_rotate(int64_t id, const char *old_refresh,
    const char *token_id, const char *refresh, int64_t updated_at,
    int64_t expires_at, int64_t session_expires_at)
{
	int	 rc;

	if ((rc = store_begin()) != PDS_OK)
		return rc;
	rc = store_run("INSERT INTO oauth_used_refresh_tokens (refresh_token, "
	    "family_id) SELECT refresh_token, id FROM oauth_families "
	    "WHERE id = ?1 AND refresh_token = ?2", STORE_ARGS(SB_INT(id),
	    SB_TEXT(old_refresh)), "oauth family rotate", NULL);
	if (rc == PDS_OK)
		rc = store_run_changed("UPDATE oauth_families SET "
		    "token_id = ?3, refresh_token = ?4, updated_at = ?5, "
		    "expires_at = ?6, session_expires_at = ?7 "
		    "WHERE id = ?1 AND refresh_token = ?2", STORE_ARGS(
		    SB_INT(id), SB_TEXT(old_refresh), SB_TEXT(token_id),
		    SB_TEXTN(refresh), SB_INT(updated_at), SB_INT(expires_at),
		    SB_INT(session_expires_at)), "oauth family rotate");
	return store_end(rc);
}

int
store_oauth_family_set_scope(int64_t id, const char *scope)
{
	return store_run_changed("UPDATE oauth_families SET scope = ?2 "
	    "WHERE id = ?1", STORE_ARGS(SB_INT(id), SB_TEXT(scope)),
	    "oauth family scope");
}

int
store_oauth_family_delete(int64_t id)
{
	/* The used refresh tokens go by ON DELETE CASCADE. */
	return store_run_changed("DELETE FROM oauth_families WHERE id = ?1",
	    STORE_ARGS(SB_INT(id)), "oauth family delete");
}

int
store_oauth_family_delete_did(const char *did, int *n)
{
	return store_run("DELETE FROM oauth_families WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "oauth family delete did", n);
}

static int
family_walk(const char *sql, const char *key,
    int (*cb)(void *, const struct store_oauth_family *), void *arg)
{
	sqlite3_stmt		*st;
	struct store_oauth_family f;
	int			 rc;

	if ((rc = store_prep(&st, sql, STORE_ARGS(SB_TEXT(key)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "oauth family list")) {
		if ((rc = family_read(st, &f)) != PDS_OK)
			break;
		rc = cb(arg, &f);
		store_oauth_family_clear(&f);
		if (rc != 0)
			break;
	}
	store_stmt_done(st);
	return rc;
}

int
store_oauth_family_list_did(const char *did,
    int (*cb)(void *, const struct store_oauth_family *), void *arg)
{
	return family_walk("SELECT " FAMILY_COLS " FROM oauth_families "
	    "WHERE did = ?1 ORDER BY created_at DESC, id DESC", did, cb, arg);
}

int
store_oauth_family_list_client(const char *client_id,
    int (*cb)(void *, const struct store_oauth_family *), void *arg)
{
	return family_walk("SELECT " FAMILY_COLS " FROM oauth_families "
	    "WHERE client_id = ?1 ORDER BY created_at DESC, id DESC",
	    client_id, cb, arg);
}

/* ---- devices ---- */

void
store_oauth_device_clear(struct store_oauth_device *d)
{
	if (d == NULL)
		return;
	free(d->id);
	free(d->session_id);
	free(d->user_agent);
	free(d->ip);
	memset(d, 0, sizeof(*d));
}

int
store_oauth_device_put(const struct store_oauth_device *d)
{
	return store_run("INSERT INTO oauth_devices (id, session_id, "
	    "user_agent, ip, last_seen) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (id) DO UPDATE SET session_id = excluded.session_id, "
	    "user_agent = excluded.user_agent, ip = excluded.ip, "
	    "last_seen = excluded.last_seen", STORE_ARGS(SB_TEXT(d->id),
	    SB_TEXT(d->session_id), SB_TEXTN(d->user_agent), SB_TEXTN(d->ip),
	    SB_INT(d->last_seen)), "oauth device put", NULL);
}

static int
device_read(sqlite3_stmt *st, void *out)
{
	struct store_oauth_device	*d = out;
	int				 rc;

	if ((rc = col_dup(st, 0, &d->id)) != PDS_OK ||
	    (rc = col_dup(st, 1, &d->session_id)) != PDS_OK ||
	    (rc = col_dup(st, 2, &d->user_agent)) != PDS_OK ||
	    (rc = col_dup(st, 3, &d->ip)) != PDS_OK)
		store_oauth_device_clear(d);
	else
		d->last_seen = sqlite3_column_int64(st, 4);
	return rc;
}

int
store_oauth_device_get(const char *id, struct store_oauth_device *out)
{
	memset(out, 0, sizeof(*out));
	return store_get("SELECT id, session_id, user_agent, ip, last_seen "
	    "FROM oauth_devices WHERE id = ?1", STORE_ARGS(SB_TEXT(id)),
	    "oauth device get", device_read, out);
}

int
store_oauth_device_delete(const char *id)
{
	return store_run_changed("DELETE FROM oauth_devices WHERE id = ?1",
	    STORE_ARGS(SB_TEXT(id)), "oauth device delete");
}

int
store_oauth_account_device_put(const char *device_id, const char *did,
    int64_t now)
{
	return store_run("INSERT INTO oauth_account_devices (device_id, did, "
	    "created_at, updated_at) VALUES (?1, ?2, ?3, ?3) "
	    "ON CONFLICT (device_id, did) DO UPDATE SET "
	    "updated_at = excluded.updated_at", STORE_ARGS(SB_TEXT(device_id),
	    SB_TEXT(did), SB_INT(now)), "oauth account device put", NULL);
}

int
store_oauth_account_device_get(const char *device_id, const char *did,
    int64_t *created_at, int64_t *updated_at)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_row(&st, "SELECT created_at, updated_at FROM "
	    "oauth_account_devices WHERE device_id = ?1 AND did = ?2",
	    STORE_ARGS(SB_TEXT(device_id), SB_TEXT(did)),
	    "oauth account device get")) != PDS_OK)
		return rc;
	if (created_at != NULL)
		*created_at = sqlite3_column_int64(st, 0);
	if (updated_at != NULL)
		*updated_at = sqlite3_column_int64(st, 1);
	store_stmt_done(st);
	return PDS_OK;
}

int
store_oauth_account_device_list(const char *device_id,
    int (*cb)(void *, const char *, int64_t, int64_t), void *arg)
{
	sqlite3_stmt	*st;
	const char	*did;
	int		 rc;

	if ((rc = store_prep(&st, "SELECT did, created_at, updated_at FROM "
	    "oauth_account_devices WHERE device_id = ?1 "
	    "ORDER BY updated_at DESC, did", STORE_ARGS(SB_TEXT(device_id))))
	    != PDS_OK)
		return rc;
	while (store_next(st, &rc, "oauth account device list")) {
		if ((did = (const char *)sqlite3_column_text(st, 0)) == NULL)
			continue;
		if ((rc = cb(arg, did, sqlite3_column_int64(st, 1),
		    sqlite3_column_int64(st, 2))) != 0)
			break;
	}
	store_stmt_done(st);
	return rc;
}

int
store_oauth_account_device_delete(const char *device_id, const char *did)
{
	return store_run_changed("DELETE FROM oauth_account_devices "
	    "WHERE device_id = ?1 AND did = ?2", STORE_ARGS(SB_TEXT(device_id),
	    SB_TEXT(did)), "oauth account device delete");
}

int
store_oauth_account_device_delete_did(const char *did)
{
	return store_run("DELETE FROM oauth_account_devices WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "oauth account device delete did", NULL);
}

/* ---- authorized clients ---- */

int
store_oauth_client_authorize(const char *did, const char *client_id,
    const char *scope, int64_t now)
{
	return store_run("INSERT INTO oauth_authorized_clients (did, "
	    "client_id, scope, created_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (did, client_id) "
	    "DO UPDATE SET scope = excluded.scope, "
	    "updated_at = excluded.updated_at", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(client_id), SB_TEXT(scope), SB_INT(now)),
	    "oauth client authorize", NULL);
}

int
store_oauth_client_authorized(const char *did, const char *client_id,
    char **scope, int64_t *created_at, int64_t *updated_at)
{
	sqlite3_stmt	*st;
	int		 rc;

	*scope = NULL;
	if ((rc = store_row(&st, "SELECT scope, created_at, updated_at FROM "
	    "oauth_authorized_clients WHERE did = ?1 AND client_id = ?2",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(client_id)),
	    "oauth client authorized")) != PDS_OK)
		return rc;
	rc = col_dup(st, 0, scope);
	if (rc == PDS_OK && *scope == NULL && (*scope = strdup("")) == NULL)
		rc = PDS_ENOMEM;
	if (created_at != NULL)
		*created_at = sqlite3_column_int64(st, 1);
	if (updated_at != NULL)
		*updated_at = sqlite3_column_int64(st, 2);
	store_stmt_done(st);
	return rc;
}

int
store_oauth_client_forget(const char *did, const char *client_id)
{
	return store_run_changed("DELETE FROM oauth_authorized_clients "
	    "WHERE did = ?1 AND client_id = ?2", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(client_id)), "oauth client forget");
}

int
store_oauth_client_forget_did(const char *did)
{
	return store_run("DELETE FROM oauth_authorized_clients WHERE did = ?1",
	    STORE_ARGS(SB_TEXT(did)), "oauth client forget did", NULL);
}

struct grant_find {
	int64_t	 id;
	char	*client_id;	/* the grant's, once found */
	size_t	 others;	/* the client's other grants */
};

static int
grant_find_cb(void *arg, const struct store_oauth_family *f)
{
	struct grant_find	*g = arg;

	if (f->id != g->id)
		return 0;
	return (g->client_id = strdup(f->client_id)) == NULL ?
	    PDS_ENOMEM : 1;
}

static int
grant_count_cb(void *arg, const struct store_oauth_family *f)
{
	struct grant_find	*g = arg;

	if (f->id != g->id && strcmp(f->client_id, g->client_id) == 0)
		g->others++;
	return 0;
}

int
store_oauth_grant_revoke(const char *did, int64_t id, bool *forgot)
{
	struct grant_find	 g;
	int			 rc;

	memset(&g, 0, sizeof(g));
	g.id = id;
	*forgot = false;
	/* only a grant of this account */
	if ((rc = store_oauth_family_list_did(did, grant_find_cb, &g)) < 0)
		return rc;
	if (g.client_id == NULL)
		return PDS_ENOTFOUND;
	if ((rc = store_begin()) == PDS_OK) {
		rc = store_oauth_family_delete(id);
		if (rc == PDS_ENOTFOUND)
			rc = PDS_OK;	/* revoked meanwhile */
		if (rc == PDS_OK)
			rc = store_oauth_family_list_did(did, grant_count_cb,
			    &g);
		if (rc == PDS_OK && g.others == 0 &&
		    (rc = store_oauth_client_forget(did, g.client_id)) ==
		    PDS_OK)
			*forgot = true;
		if (rc == PDS_ENOTFOUND && g.others == 0)
			rc = PDS_OK;	/* no consent was kept */
		rc = store_end(rc);
	}
	free(g.client_id);
	if (rc != PDS_OK)
		*forgot = false;
	return rc;
}

/* ---- replay and purge ---- */

int
store_oauth_replay_check_and_add(const char *ns, const char *key,
    int64_t expires_at)
{
	int	 n, rc;

	rc = store_run("INSERT INTO oauth_replay (namespace, key, expires_at) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", STORE_ARGS(
	    SB_TEXT(ns), SB_TEXT(key), SB_INT(expires_at)),
	    "oauth replay", &n);
	if (rc != PDS_OK)
		return rc;
	return n > 0 ? PDS_OK : PDS_EEXIST;
}

int
store_oauth_replay_put(const char *ns, const char *key, int64_t expires_at)
{
	return store_run("INSERT INTO oauth_replay (namespace, key, expires_at) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (namespace, key) DO UPDATE SET "
	    "expires_at = max(expires_at, excluded.expires_at)", STORE_ARGS(
	    SB_TEXT(ns), SB_TEXT(key), SB_INT(expires_at)),
	    "oauth replay put", NULL);
}

int
store_oauth_replay_scan(int64_t now,
    int (*cb)(void *, const char *, const char *, int64_t), void *arg)
{
	sqlite3_stmt	*st;
	const char	*ns, *key;
	int		 rc;

	if ((rc = store_prep(&st, "SELECT namespace, key, expires_at "
	    "FROM oauth_replay WHERE expires_at >= ?1 "
	    "ORDER BY expires_at DESC", STORE_ARGS(SB_INT(now)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "oauth replay scan")) {
		ns = (const char *)sqlite3_column_text(st, 0);
		key = (const char *)sqlite3_column_text(st, 1);
		if (ns == NULL || key == NULL)
			continue;
		if ((rc = cb(arg, ns, key, sqlite3_column_int64(st, 2))) != 0)
			break;
	}
	store_stmt_done(st);
	return rc;
}

int
store_oauth_purge(int64_t now, int *np)
{
	int	 n[5], i, rc;

	if (np != NULL)
		*np = 0;
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	if ((rc = store_run("DELETE FROM oauth_requests WHERE expires_at < ?1",
	    STORE_ARGS(SB_INT(now)), "oauth purge", &n[0])) != PDS_OK ||
	    (rc = store_run("DELETE FROM oauth_families "
	    "WHERE session_expires_at < ?1", STORE_ARGS(SB_INT(now)),
	    "oauth purge", &n[1])) != PDS_OK ||
	    (rc = store_run("DELETE FROM oauth_replay WHERE expires_at < ?1",
	    STORE_ARGS(SB_INT(now)), "oauth purge", &n[2])) != PDS_OK ||
	    (rc = store_run("DELETE FROM oauth_devices WHERE last_seen < ?1",
	    STORE_ARGS(SB_INT(now - STORE_OAUTH_DEVICE_TTL)), "oauth purge",
	    &n[3])) != PDS_OK ||
	    (rc = store_run("DELETE FROM oauth_devices WHERE last_seen < ?1 "
	    "AND id NOT IN (SELECT device_id FROM oauth_account_devices)",
	    STORE_ARGS(SB_INT(now - STORE_OAUTH_DEVICE_BARE_TTL)),
	    "oauth purge", &n[4])) != PDS_OK) {
		store_rollback();
		return rc;
	}
	if ((rc = store_commit()) != PDS_OK)
		return rc;
	if (np != NULL)
		for (i = 0; i < 5; i++)
			*np += n[i];
	return PDS_OK;
}
