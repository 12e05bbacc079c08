/*
 * store_internal: what pdsd/store*.c files share.  Only those files may
 * include this header (it brings in sqlite3.h).
 *
 * A store_*.c file gets statements from the per-thread cache:
 *
 *	sqlite3_stmt *st = store_stmt("SELECT did FROM accounts WHERE ...");
 *	if (st == NULL)
 *		return PDS_EIO;
 *	sqlite3_bind_text(st, 1, handle, -1, SQLITE_STATIC);
 *	rc = sqlite3_step(st);
 *	...
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

#include <stddef.h>

#include <sqlite3.h>

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
 * violation -> PDS_EEXIST, anything else -> PDS_EIO.
 */
int		 store_err(int sqlite_rc, const char *what);

/*
 * Small helpers every store_*.c file uses.
 *
 * store_col_text: copy text column i into out[cap]; "" for NULL, and
 * PDS_ETOOBIG (out "") when it does not fit.
 * store_bind_text_or_null: bind s, or NULL when s is NULL.
 * store_bind_nonempty_or_null: bind s, or NULL when s is NULL or "".
 * store_step_done: step a statement that returns no rows and finish it
 * (store_stmt_done); *changes (may be NULL) gets the rows it changed.
 * store_step_changed: the same for an UPDATE or DELETE that must touch
 * a row: PDS_ENOTFOUND when it changed none.
 */
int		 store_col_text(sqlite3_stmt *, int i, char *out,
		    size_t cap);
void		 store_bind_text_or_null(sqlite3_stmt *, int i,
		    const char *s);
void		 store_bind_nonempty_or_null(sqlite3_stmt *, int i,
		    const char *s);
int		 store_step_done(sqlite3_stmt *, const char *what,
		    int *changes);
int		 store_step_changed(sqlite3_stmt *, const char *what);

/* Execute SQL without results (may hold several statements). */
int		 store_exec(const char *sql);

/* The migrations (store_schema.c). */
extern const char *const store_migrations[];
extern const size_t	 store_nmigrations;

#endif
