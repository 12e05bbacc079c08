/*
 * store_admin: SQL for the admin service.  See store_admin.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "store_admin.h"
#include "store_internal.h"

/* ---- audit ---- */

int
store_audit_insert(const char *actor, const char *action,
    const char *subject, const char *reason, const char *detail)
{
	char	 now[STORE_TS_LEN];

	store_timestamp(now);
	return store_run("INSERT INTO audit_log (at, actor, action, subject, "
	    "reason, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	    STORE_ARGS(SB_TEXT(now), SB_TEXT(actor), SB_TEXT(action),
	    SB_TEXTN(subject), SB_TEXTN(reason), SB_TEXTN(detail)),
	    "audit insert", NULL);
}

int
store_audit_list(const char *since, int64_t after_id, size_t limit,
    int (*cb)(void *, const struct store_audit *), void *arg)
{
	struct store_audit	*a;
	sqlite3_stmt		*st;
	int			 rc;

	if ((a = malloc(sizeof(*a))) == NULL)
		return PDS_ENOMEM;
	/* the subject's account: a DID, or an at:// URI's authority */
	if ((rc = store_prep(&st, "SELECT l.id, l.at, l.actor, l.action, "
	    "l.subject, l.reason, l.detail, ac.handle FROM audit_log l "
	    "LEFT JOIN accounts ac ON ac.did = CASE WHEN "
	    "substr(l.subject, 1, 5) = 'at://' THEN substr(l.subject, 6, "
	    "instr(substr(l.subject, 6) || '/', '/') - 1) ELSE l.subject END "
	    "WHERE (?1 IS NULL OR l.at >= ?1) AND "
	    "l.id > ?2 ORDER BY l.id LIMIT ?3", STORE_ARGS(SB_TEXTN(since),
	    SB_INT(after_id), SB_INT(limit)))) != PDS_OK) {
		free(a);
		return rc;
	}
	while (store_next(st, &rc, "audit list")) {
		a->id = sqlite3_column_int64(st, 0);
		store_col_trunc(st, 1, a->at, sizeof(a->at));
		store_col_trunc(st, 2, a->actor, sizeof(a->actor));
		store_col_trunc(st, 3, a->action, sizeof(a->action));
		store_col_trunc(st, 4, a->subject, sizeof(a->subject));
		store_col_trunc(st, 5, a->reason, sizeof(a->reason));
		store_col_trunc(st, 6, a->detail, sizeof(a->detail));
		store_col_trunc(st, 7, a->subject_handle,
		    sizeof(a->subject_handle));
		if ((rc = cb(arg, a)) != 0)
			break;
	}
	store_stmt_done(st);
	free(a);
	return rc;
}

/* ---- takedowns ---- */

/*
 * A record's at://did/collection/rkey into its key (in buf): false when
 * it has not that shape, which no stored record has.
 */
static bool
uri_key(const char *uri, char *buf, size_t cap, const char **did,
    const char **coll, const char **rkey)
{
	char	*c, *r;

	if (strncmp(uri, "at://", 5) != 0 || strlen(uri + 5) >= cap)
		return false;
	memcpy(buf, uri + 5, strlen(uri + 5) + 1);
	if ((c = strchr(buf, '/')) == NULL || (r = strchr(c + 1, '/')) ==
	    NULL || strchr(r + 1, '/') != NULL || c == buf || r == c + 1 ||
	    r[1] == '\0')
		return false;
	*c++ = '\0';
	*r++ = '\0';
	*did = buf;
	*coll = c;
	*rkey = r;
	return true;
}

int
store_record_takedown_set(const char *uri, const char *ref)
{
	char		 key[1024];
	const char	*did, *coll, *rkey;

	if (!uri_key(uri, key, sizeof(key), &did, &coll, &rkey))
		return PDS_ENOTFOUND;
	return store_run_changed("UPDATE records SET takedown_ref = ?4 "
	    "WHERE did = ?1 AND collection = ?2 AND rkey = ?3",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(coll), SB_TEXT(rkey),
	    SB_TEXTN(ref)), "record takedown");
}

int
store_record_takedown_get(const char *uri, char *cid, size_t cidcap,
    char *ref, size_t refcap)
{
	char		 key[1024];
	const char	*did, *coll, *rkey;

	if (!uri_key(uri, key, sizeof(key), &did, &coll, &rkey))
		return PDS_ENOTFOUND;
	return store_texts("SELECT cid, takedown_ref FROM records "
	    "WHERE did = ?1 AND collection = ?2 AND rkey = ?3",
	    STORE_ARGS(SB_TEXT(did), SB_TEXT(coll), SB_TEXT(rkey)),
	    "record status", store_col_trunc, cid, cidcap, ref, refcap);
}

int
store_blob_takedown_set(const char *did, const char *cid, const char *ref)
{
	return store_run_changed("UPDATE blobs SET takedown_ref = ?3 "
	    "WHERE did = ?1 AND cid = ?2", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(cid), SB_TEXTN(ref)), "blob takedown");
}

int
store_blob_takedown_get(const char *did, const char *cid, char *ref,
    size_t refcap)
{
	return store_texts("SELECT takedown_ref FROM blobs "
	    "WHERE did = ?1 AND cid = ?2", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(cid)), "blob status", store_col_trunc, ref, refcap, NULL,
	    0);
}

/* ---- accounts ---- */

static int
account_walk(sqlite3_stmt *st, int (*cb)(void *,
    const struct store_account *), void *arg, const char *what)
{
	struct store_account	*a;
	int			 rc = PDS_OK;

	if ((a = malloc(sizeof(*a))) == NULL) {
		store_stmt_done(st);
		return PDS_ENOMEM;
	}
	while (store_next(st, &rc, what)) {
		if ((rc = store_read_account(st, a, store_col_trunc)) !=
		    PDS_OK || (rc = cb(arg, a)) != 0)
			break;
	}
	store_stmt_done(st);
	free(a);
	return rc;
}

void
store_admin_cursor(const struct store_account *a, char *out, size_t cap)
{
	snprintf(out, cap, "%s %s", a->created_at, a->did);
}

int
store_admin_account_list(const enum acct_status *status,
    const char *cursor, size_t limit,
    int (*cb)(void *, const struct store_account *), void *arg)
{
	sqlite3_stmt	*st;
	char		 at[STORE_TS_LEN];
	const char	*did = "", *sp, *name = NULL;
	size_t		 n;
	int		 rc;

	at[0] = '\0';
	if (cursor != NULL && *cursor != '\0') {
		if ((sp = strchr(cursor, ' ')) == NULL ||
		    (n = (size_t)(sp - cursor)) >= sizeof(at))
			return PDS_EINVAL;
		memcpy(at, cursor, n);
		at[n] = '\0';
		did = sp + 1;
	}
	if (status != NULL)
		name = acct_status_name(*status);
	if ((rc = store_prep(&st, "SELECT " STORE_ACCOUNT_COLS " FROM "
	    "accounts WHERE (?1 IS NULL OR status = ?1) AND "
	    "(created_at > ?2 OR (created_at = ?2 AND did > ?3)) "
	    "ORDER BY created_at, did LIMIT ?4", STORE_ARGS(SB_TEXTN(name),
	    SB_TEXT(at), SB_TEXT(did), SB_INT(limit)))) != PDS_OK)
		return rc;
	return account_walk(st, cb, arg, "account list");
}

int
store_admin_account_search(const char *q, const enum acct_status *status,
    const char *cursor, size_t limit,
    int (*cb)(void *, const struct store_account *), void *arg)
{
	sqlite3_stmt	*st;
	const char	*name = NULL;
	char		*pat;
	size_t		 i, n = strlen(q), k = 0;
	int		 rc;

	/* q with LIKE's metacharacters escaped, then a % */
	if ((pat = malloc(2 * n + 2)) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < n; i++) {
		if (q[i] == '%' || q[i] == '_' || q[i] == '\\')
			pat[k++] = '\\';
		pat[k++] = q[i];
	}
	pat[k++] = '%';
	pat[k] = '\0';
	if (status != NULL)
		name = acct_status_name(*status);
	rc = store_prep(&st, "SELECT " STORE_ACCOUNT_COLS " FROM accounts "
	    "WHERE (handle LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\' "
	    "OR did = ?2) AND (?5 IS NULL OR status = ?5) AND did > ?3 "
	    "ORDER BY did LIMIT ?4",
	    STORE_ARGS(SB_TEXT(pat), SB_TEXT(q),
	    SB_TEXT(cursor != NULL ? cursor : ""), SB_INT(limit),
	    SB_TEXTN(name)));
	if (rc == PDS_OK)
		rc = account_walk(st, cb, arg, "account search");
	free(pat);
	return rc;
}

int
store_admin_invited_by(const char *did, char *code, size_t cap)
{
	return store_texts("SELECT code FROM invite_code_uses "
	    "WHERE used_by = ?1 ORDER BY used_at LIMIT 1",
	    STORE_ARGS(SB_TEXT(did)), "invited by", store_col_trunc, code, cap,
	    NULL, 0);
}

/* ---- invites ---- */

int
store_admin_invite_list(enum store_invite_sort sort, const char *for_account,
    bool include_disabled, size_t offset, size_t limit,
    int (*cb)(void *, const struct store_invite *), void *arg)
{
	struct store_invite	*inv;
	sqlite3_stmt		*st;
	const char		*sql;
	int			 rc;

	if (sort == SI_SORT_USAGE)
		sql = "SELECT " STORE_INVITE_COLS " FROM invite_codes c "
		    "WHERE (?1 IS NULL OR c.for_account = ?1) AND "
		    "(?2 OR c.disabled = 0) "
		    "ORDER BY used DESC, c.created_at DESC, c.code "
		    "LIMIT ?3 OFFSET ?4";
	else
		sql = "SELECT " STORE_INVITE_COLS " FROM invite_codes c "
		    "WHERE (?1 IS NULL OR c.for_account = ?1) AND "
		    "(?2 OR c.disabled = 0) "
		    "ORDER BY c.created_at DESC, c.code LIMIT ?3 OFFSET ?4";
	if ((inv = malloc(sizeof(*inv))) == NULL)
		return PDS_ENOMEM;
	if ((rc = store_prep(&st, sql, STORE_ARGS(SB_TEXTN(for_account),
	    SB_INT(include_disabled ? 1 : 0), SB_INT(limit),
	    SB_INT(offset)))) != PDS_OK) {
		free(inv);
		return rc;
	}
	while (store_next(st, &rc, "invite list"))
		if ((rc = store_read_invite(st, inv, store_col_trunc)) !=
		    PDS_OK || (rc = cb(arg, inv)) != 0)
			break;
	store_stmt_done(st);
	free(inv);
	return rc;
}

int
store_admin_invite_disable(const char *code)
{
	return store_run_changed("UPDATE invite_codes SET disabled = 1 "
	    "WHERE code = ?1", STORE_ARGS(SB_TEXT(code)), "invite disable");
}

int
store_admin_invite_disable_for(const char *did, int64_t *n)
{
	int	 rc, changes;

	rc = store_run("UPDATE invite_codes SET disabled = 1 "
	    "WHERE for_account = ?1 AND disabled = 0",
	    STORE_ARGS(SB_TEXT(did)), "invite disable", &changes);
	*n = changes;
	return rc;
}

/* ---- counts ---- */

static int
count1(const char *sql, int64_t *out)
{
	return store_ints(sql, NULL, "count", out, 1);
}

int
store_admin_counts(struct store_admin_counts *c)
{
	int64_t	 v[4];
	int	 rc;

	memset(c, 0, sizeof(*c));
	if ((rc = store_ints("SELECT count(*), "
	    "coalesce(sum(status = 'active'), 0), "
	    "coalesce(sum(status = 'deactivated'), 0), "
	    "coalesce(sum(status = 'takendown'), 0) FROM accounts", NULL,
	    "count accounts", v, 4)) != PDS_OK)
		return rc;
	c->accounts = v[0];
	c->active = v[1];
	c->deactivated = v[2];
	c->takendown = v[3];
	/* a record's block is in its row (schema 14) */
	if ((rc = store_ints("SELECT (SELECT count(*) FROM repo_blocks) + "
	    "(SELECT count(*) FROM repo_blocks_recent) + "
	    "(SELECT count(content) FROM records), (SELECT "
	    "coalesce(sum(size), 0) FROM repo_blocks) + (SELECT "
	    "coalesce(sum(size), 0) FROM repo_blocks_recent) + (SELECT "
	    "coalesce(sum(length(content)), 0) FROM records)", NULL,
	    "count blocks", v, 2)) != PDS_OK)
		return rc;
	c->repo_blocks = v[0];
	c->repo_bytes = v[1];
	if ((rc = store_ints("SELECT count(*), coalesce(sum(size), 0) "
	    "FROM blobs", NULL, "count blobs", v, 2)) != PDS_OK)
		return rc;
	c->blobs = v[0];
	c->blob_bytes = v[1];
	if ((rc = count1("SELECT count(*) FROM records", &c->records)) !=
	    PDS_OK ||
	    (rc = count1("SELECT count(*) FROM events", &c->events)) !=
	    PDS_OK ||
	    (rc = count1("SELECT coalesce(max(seq), 0) FROM events",
	    &c->last_seq)) != PDS_OK ||
	    (rc = count1("SELECT count(*) FROM invite_codes c WHERE "
	    "c.disabled = 0 AND c.available_uses > (SELECT count(*) FROM "
	    "invite_code_uses u WHERE u.code = c.code)", &c->invites_open)) !=
	    PDS_OK ||
	    (rc = count1("SELECT count(*) FROM audit_log", &c->audit_rows)) !=
	    PDS_OK)
		return rc;
	return PDS_OK;
}

static int
count2_did(const char *sql, const char *did, int64_t *a, int64_t *b)
{
	int64_t	 v[2];
	int	 rc;

	rc = store_ints(sql, STORE_ARGS(SB_TEXT(did)), "account usage", v,
	    b != NULL ? 2 : 1);
	if (rc == PDS_OK) {
		*a = v[0];
		if (b != NULL)
			*b = v[1];
	}
	return rc;
}

int
store_admin_account_usage(const char *did, struct store_account_usage *u)
{
	int	 rc;

	memset(u, 0, sizeof(*u));
	/* each walks an index or primary key that starts with did */
	if ((rc = count2_did("SELECT count(*) FROM records WHERE did = ?1",
	    did, &u->records, NULL)) != PDS_OK ||
	    (rc = count2_did("SELECT (SELECT count(*) FROM repo_blocks "
	    "WHERE did = ?1) + (SELECT count(*) FROM repo_blocks_recent "
	    "WHERE did = ?1) + (SELECT count(content) FROM records WHERE "
	    "did = ?1), (SELECT coalesce(sum(size), 0) FROM repo_blocks "
	    "WHERE did = ?1) + (SELECT coalesce(sum(size), 0) FROM "
	    "repo_blocks_recent WHERE did = ?1) + (SELECT "
	    "coalesce(sum(length(content)), 0) FROM records WHERE did = ?1)",
	    did, &u->repo_blocks,
	    &u->repo_bytes)) != PDS_OK ||
	    (rc = count2_did("SELECT count(*), coalesce(sum(size), 0) FROM "
	    "blobs WHERE did = ?1", did, &u->blobs, &u->blob_bytes)) != PDS_OK)
		return rc;
	return PDS_OK;
}

int
store_admin_event_count(const char *did, const char *type, int64_t *n)
{
	return store_ints("SELECT count(*) FROM events WHERE did = ?1 AND "
	    "type = ?2", STORE_ARGS(SB_TEXT(did), SB_TEXT(type)),
	    "event count", n, 1);
}

/* ---- online backup ---- */

struct store_backup {
	sqlite3		*src;
	sqlite3		*dst;
	sqlite3_backup	*bk;
	char		*path;
	bool		 in_txn;
};

int
store_backup_start(const char *dest, struct store_backup **out)
{
	struct store_backup	*b;
	int			 fd, rc;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return PDS_ENOMEM;
	if ((b->path = strdup(dest)) == NULL) {
		free(b);
		return PDS_ENOMEM;
	}
	if ((b->src = store_db()) == NULL) {
		rc = PDS_EIO;
		goto fail_nofile;
	}
	/* Create it ourselves: never overwrite, and mode 0600. */
	fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = errno == EEXIST ? PDS_EEXIST : PDS_EIO;
		goto fail_nofile;
	}
	close(fd);
	if (sqlite3_open_v2(dest, &b->dst, SQLITE_OPEN_READWRITE,
	    NULL) != SQLITE_OK) {
		log_warnx("backup: open %s: %s", dest,
		    b->dst ? sqlite3_errmsg(b->dst) : "out of memory");
		rc = PDS_EIO;
		goto fail;
	}
	/*
	 * Hold one read transaction on the source for the whole copy, so
	 * that writers (WAL) never make the backup restart and the copy is
	 * the snapshot this BEGIN sees.
	 */
	if (sqlite3_exec(b->src, "BEGIN; SELECT count(*) FROM sqlite_schema;",
	    NULL, NULL, NULL) != SQLITE_OK) {
		rc = store_err(sqlite3_errcode(b->src), "backup begin");
		goto fail;
	}
	b->in_txn = true;
	if ((b->bk = sqlite3_backup_init(b->dst, "main", b->src,
	    "main")) == NULL) {
		log_warnx("backup: %s", sqlite3_errmsg(b->dst));
		rc = PDS_EIO;
		goto fail;
	}
	*out = b;
	return PDS_OK;
fail:
	(void)store_backup_finish(b, false);
	return rc;
fail_nofile:
	free(b->path);
	free(b);
	return rc;
}

int
store_backup_step(struct store_backup *b, int pages, int *remaining,
    int *total, bool *done)
{
	int	 rc;

	rc = sqlite3_backup_step(b->bk, pages);
	*remaining = sqlite3_backup_remaining(b->bk);
	*total = sqlite3_backup_pagecount(b->bk);
	*done = rc == SQLITE_DONE;
	if (rc == SQLITE_OK || rc == SQLITE_DONE)
		return PDS_OK;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return PDS_OK;		/* try again on the next step */
	log_warnx("backup %s: %s", b->path, sqlite3_errstr(rc));
	return PDS_EIO;
}

int
store_backup_blobs(struct store_backup *b,
    int (*cb)(void *, const char *, const char *, int64_t), void *arg)
{
	sqlite3_stmt	*st;
	int		 rc, src;

	if (sqlite3_prepare_v2(b->src, "SELECT did, cid, size FROM blobs "
	    "ORDER BY did, cid", -1, &st, NULL) != SQLITE_OK)
		return store_err(sqlite3_errcode(b->src), "backup blobs");
	rc = PDS_OK;
	while (rc == PDS_OK && (src = sqlite3_step(st)) == SQLITE_ROW)
		rc = cb(arg, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    sqlite3_column_int64(st, 2));
	if (rc == PDS_OK && src != SQLITE_DONE)
		rc = store_err(src, "backup blobs");
	sqlite3_finalize(st);
	return rc;
}

int
store_backup_schema(struct store_backup *b, int *version)
{
	sqlite3_stmt	*st;
	int		 rc = PDS_EIO;

	*version = 0;
	if (sqlite3_prepare_v2(b->src, "SELECT version FROM schema_version",
	    -1, &st, NULL) != SQLITE_OK)
		return PDS_EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		rc = PDS_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int
store_backup_finish(struct store_backup *b, bool ok)
{
	int	 rc = PDS_OK;

	if (b == NULL)
		return PDS_OK;
	if (b->bk != NULL && sqlite3_backup_finish(b->bk) != SQLITE_OK) {
		log_warnx("backup %s: %s", b->path, sqlite3_errmsg(b->dst));
		rc = PDS_EIO;
	}
	if (b->in_txn)
		(void)sqlite3_exec(b->src, "COMMIT", NULL, NULL, NULL);
	if (b->dst != NULL && sqlite3_close(b->dst) != SQLITE_OK)
		rc = PDS_EIO;
	if (!ok || rc != PDS_OK)
		(void)unlink(b->path);
	if (!ok)
		rc = PDS_OK;	/* an abort asked for is not an error */
	free(b->path);
	free(b);
	return rc;
}
