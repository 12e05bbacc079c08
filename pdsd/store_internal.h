/*
 * store_internal: what pdsd/store*.c files share.  Only those files may
 * include this header (it brings in sqlite3.h).
 *
 * A store_*.c file gets statements from the per-thread cache, through
 * the helpers below (store_row(), store_run(), ...) or directly:
 *
 *	sqlite3_stmt *st = store_stmt("SELECT did FROM accounts WHERE ...");
 *	if (st == NULL)
 *		return PDS_EIO;
 *	...bind, step, read...
 *	store_stmt_done(st);
 *
 * The SQL must be a string literal (or otherwise live for the whole
 * program): the cache is keyed on its address, which is what makes a
 * lookup one pointer hash.  The statement comes reset and with cleared
 * bindings; store_stmt_done() must be called on every path, because a
 * stepped statement that is not reset keeps its read snapshot open.
 */
#ifndef PDSD_STORE_INTERNAL_H
#define PDSD_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store_account.h"

/* How long a connection waits for a lock before SQLITE_BUSY. */
#define STORE_BUSY_TIMEOUT_MS	10000

/* This thread's connection, opened on first use; NULL on failure. */
sqlite3		*store_db(void);

/* A cached prepared statement on this thread's connection, or NULL. */
sqlite3_stmt	*store_stmt(const char *sql);
void		 store_stmt_done(sqlite3_stmt *);

/*
 * Turn an SQLite result code into a PDS_E* code, logging unexpected
 * ones with `what': SQLITE_OK/ROW/DONE -> PDS_OK, a constraint
 * violation -> PDS_EEXIST, out of memory -> PDS_ENOMEM, anything else
 * -> PDS_EIO.
 */
int		 store_err(int sqlite_rc, const char *what);

/*
 * store_vfs.c: make the layer that gathers the write-ahead log's appends
 * into few writes SQLite's default VFS.  Before the first connection;
 * an SQLite result code.
 */
int		 store_vfs_register(void);

/*
 * store_stmt.c: the statement helpers every store_*.c file uses, so
 * that a query reads as its SQL, its parameters and what it returns.
 *
 * Parameters.  A statement's ?1, ?2, ... are bound, in order, from a
 * list made with STORE_ARGS(); pass NULL for a statement without any:
 *
 *	SB_TEXT(s)	 text s (borrowed until the statement is done)
 *	SB_TEXTN(s)	 text s, or NULL when s is NULL
 *	SB_NONEMPTY(s)	 text s, or NULL when s is NULL or ""
 *	SB_INT(n)	 an integer, as int64_t
 *	SB_BLOB(p, n)	 n bytes at p (borrowed; p NULL binds NULL)
 *	SB_CID(c)	 a const struct cid *, bound as its text (copied)
 *	SB_NULL		 NULL
 *
 * A one-row lookup:
 *
 *	rc = store_row(&st, "SELECT handle FROM accounts WHERE did = ?1",
 *	    STORE_ARGS(SB_TEXT(did)), "handle get");
 *	if (rc != PDS_OK)
 *		return rc;		(PDS_ENOTFOUND when there is no row)
 *	rc = store_col_text(st, 0, handle, sizeof(handle));
 *	store_stmt_done(st);
 *	return rc;
 *
 * or, the same, store_text(sql, args, "handle get", handle,
 * sizeof(handle)); store_get() does it for a function that reads the
 * row into a struct.
 *
 * A walk over rows:
 *
 *	if ((rc = store_prep(&st, sql, args)) != PDS_OK)
 *		return rc;
 *	while (store_next(st, &rc, "what"))
 *		if ((rc = cb(arg, ...)) != 0)
 *			break;
 *	store_stmt_done(st);
 *	return rc;
 *
 * A write: rc = store_run(sql, args, "what", NULL).
 *
 * Every function that fails has already finished (reset) the statement
 * it prepared; every one that hands back a statement leaves finishing
 * it, with store_stmt_done(), to the caller.  Errors are store_err()'s
 * mapping: a constraint violation is PDS_EEXIST, out of memory
 * PDS_ENOMEM, anything else PDS_EIO (logged with `what').
 */
struct cid;
struct buf;

enum store_arg_type {
	SB_T_END,
	SB_T_TEXT,
	SB_T_TEXTN,
	SB_T_NONEMPTY,
	SB_T_INT,
	SB_T_BLOB,
	SB_T_CID,
	SB_T_NULL,
};

struct store_arg {
	enum store_arg_type	 type;
	const char		*s;
	const void		*p;
	size_t			 len;
	int64_t			 i;
	const struct cid	*cid;
};

#define SB_TEXT(x)	{ .type = SB_T_TEXT, .s = (x) }
#define SB_TEXTN(x)	{ .type = SB_T_TEXTN, .s = (x) }
#define SB_NONEMPTY(x)	{ .type = SB_T_NONEMPTY, .s = (x) }
#define SB_INT(x)	{ .type = SB_T_INT, .i = (x) }
#define SB_BLOB(x, n)	{ .type = SB_T_BLOB, .p = (x), .len = (n) }
#define SB_CID(x)	{ .type = SB_T_CID, .cid = (x) }
#define SB_NULL		{ .type = SB_T_NULL }
#define STORE_ARGS(...)	\
	((const struct store_arg []){ __VA_ARGS__, { .type = SB_T_END } })

/*
 * store_bind: bind args (may be NULL) to st's parameters from ?1 on.
 * PDS_EINVAL for a CID that does not format, else store_err()'s code.
 * Does not finish st.
 */
int		 store_bind(sqlite3_stmt *, const struct store_arg *);

/*
 * store_prep: the cached statement for sql (see store_stmt()) with
 * args bound, into *stp.  PDS_EIO when it cannot be prepared; on any
 * error *stp is NULL and the statement is finished.
 */
int		 store_prep(sqlite3_stmt **stp, const char *sql,
		    const struct store_arg *);

/*
 * store_row: store_prep() and step to the first row.  PDS_OK with *stp
 * on that row (the caller reads its columns, then store_stmt_done());
 * PDS_ENOTFOUND when there is none, or an error, with *stp NULL and
 * the statement finished.
 */
int		 store_row(sqlite3_stmt **stp, const char *sql,
		    const struct store_arg *, const char *what);

/*
 * store_get: store_row() and reader(st, out) on that row, then finish
 * the statement.  PDS_ENOTFOUND when there is no row (reader is not
 * called), else the error or reader's result.
 * store_text: the same for text column 0 into out[cap], read with
 * store_col_text().  store_texts: text column 0 into a[acap] and, when
 * b is not NULL, column 1 into b[bcap], read with text (store_col_text
 * or store_col_trunc).
 */
int		 store_get(const char *sql, const struct store_arg *,
		    const char *what, int (*reader)(sqlite3_stmt *, void *),
		    void *out);
int		 store_text(const char *sql, const struct store_arg *,
		    const char *what, char *out, size_t cap);
int		 store_texts(const char *sql, const struct store_arg *,
		    const char *what,
		    int (*text)(sqlite3_stmt *, int, char *, size_t),
		    char *a, size_t acap, char *b, size_t bcap);

/*
 * store_has_row: whether a query returns a row, into *yes (false on an
 * error).  Finishes the statement.
 */
int		 store_has_row(const char *sql, const struct store_arg *,
		    bool *yes, const char *what);

/*
 * store_step_row: step st once.  PDS_OK on a row, PDS_ENOTFOUND at the
 * end, or the error.  Does not finish st.
 */
int		 store_step_row(sqlite3_stmt *, const char *what);

/*
 * store_next: step st; true while it is on a row.  At the end, or on
 * an error, false with *rc set to PDS_OK or the error.  *rc is not
 * read, and not touched while rows come.  Does not finish st.
 */
bool		 store_next(sqlite3_stmt *, int *rc, const char *what);

/*
 * store_run: prepare, bind and step a statement that returns no rows,
 * and finish it; *changes (may be NULL) gets the rows it changed.
 * store_run_changed: the same for an UPDATE or DELETE that must touch
 * a row: PDS_ENOTFOUND when it changed none.
 * store_run_tx: store_run() in a write transaction of its own,
 * store_begin() to store_end(); not for use inside a transaction.
 */
int		 store_run(const char *sql, const struct store_arg *,
		    const char *what, int *changes);
int		 store_run_tx(const char *sql, const struct store_arg *,
		    const char *what, int *changes);
int		 store_run_changed(const char *sql, const struct store_arg *,
		    const char *what);

/*
 * store_step_done: step a prepared statement that returns no rows and
 * finish it; *changes (may be NULL) gets the rows it changed.
 * store_step_changed: the same, PDS_ENOTFOUND when it changed none.
 */
int		 store_step_done(sqlite3_stmt *, const char *what,
		    int *changes);
int		 store_step_changed(sqlite3_stmt *, const char *what);

/*
 * store_ints: run a query and read the first n columns of its first
 * row as integers into v[0..n-1]; all zero (and PDS_OK) when there is
 * no row.  Finishes the statement.
 */
int		 store_ints(const char *sql, const struct store_arg *,
		    const char *what, int64_t *v, size_t n);

/*
 * Columns of the row st is on.
 *
 * store_col_text: copy text column i into out[cap]; "" for NULL, and
 * PDS_ETOOBIG (out "") when it does not fit.
 * store_col_trunc: the same, but a text that does not fit is cut to
 * cap - 1 bytes; always PDS_OK (cap must not be 0).
 * store_col_blob: copy blob column i into out[cap] and its length into
 * *len; PDS_ETOOBIG (nothing copied, *len the real length) when it
 * does not fit.  NULL is zero bytes.
 * store_col_buf: replace out's bytes with blob column i; PDS_ETOOBIG
 * past out's maximum.
 * store_col_dup: text column i as a new string into *out (NULL for
 * NULL); PDS_ENOMEM.
 */
int		 store_col_text(sqlite3_stmt *, int i, char *out,
		    size_t cap);
int		 store_col_trunc(sqlite3_stmt *, int i, char *out,
		    size_t cap);
int		 store_col_blob(sqlite3_stmt *, int i, void *out, size_t cap,
		    size_t *len);
int		 store_col_buf(sqlite3_stmt *, int i, struct buf *out);
int		 store_col_dup(sqlite3_stmt *, int i, char **out);
/*
 * store_col_status: text column i (accounts.status) as an account
 * status; PDS_EINTERNAL for a value the schema does not allow.
 * Defined in store_account.c.
 */
int		 store_col_status(sqlite3_stmt *, int i, enum acct_status *);

/*
 * Rows that store_account.c and store_admin.c both read: the columns
 * STORE_ACCOUNT_COLS of accounts into a struct store_account, and
 * STORE_INVITE_COLS of invite_codes c (with its count of uses, named
 * `used') into a struct store_invite.  Text columns are read with text:
 * store_col_text() (PDS_ETOOBIG for one that does not fit), or
 * store_col_trunc() for the admin's listings, which show such a value
 * cut.  PDS_EINTERNAL for an unknown status.  Defined in
 * store_account.c.
 */
#define STORE_ACCOUNT_COLS "did, handle, email, status, created_at, " \
	"email_confirmed_at, deactivated_at, takedown_ref, invites_disabled, " \
	"email_auth_factor"
#define STORE_INVITE_COLS "c.code, c.available_uses, c.disabled, " \
	"c.for_account, c.created_by, c.created_at, " \
	"(SELECT count(*) FROM invite_code_uses u WHERE u.code = c.code) " \
	"AS used"
int		 store_read_account(sqlite3_stmt *, struct store_account *,
		    int (*text)(sqlite3_stmt *, int, char *, size_t));
int		 store_read_invite(sqlite3_stmt *, struct store_invite *,
		    int (*text)(sqlite3_stmt *, int, char *, size_t));

/* Execute SQL without results (may hold several statements). */
int		 store_exec(const char *sql);

/* The migrations (store_schema.c). */
extern const char *const store_migrations[];
extern const size_t	 store_nmigrations;

#endif
