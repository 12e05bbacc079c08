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

#include <sqlite3.h>

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

/* Execute SQL without results (may hold several statements). */
int		 store_exec(const char *sql);

/* The migrations (store_schema.c). */
extern const char *const store_migrations[];
extern const size_t	 store_nmigrations;

#endif
