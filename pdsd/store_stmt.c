/*
 * store_stmt: binding, stepping and reading statements for the
 * store_*.c files.  See store_internal.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "cid.h"
#include "err.h"
#include "store_internal.h"

/* Bind one parameter that is not a CID; an SQLite result code. */
static int
bind_one(sqlite3_stmt *st, int i, const struct store_arg *a)
{
	switch (a->type) {
	case SB_T_TEXT:
		return sqlite3_bind_text(st, i, a->s, -1, SQLITE_STATIC);
	case SB_T_TEXTN:
	case SB_T_NONEMPTY:
		if (a->s == NULL || (a->type == SB_T_NONEMPTY &&
		    *a->s == '\0'))
			return sqlite3_bind_null(st, i);
		return sqlite3_bind_text(st, i, a->s, -1, SQLITE_STATIC);
	case SB_T_INT:
		return sqlite3_bind_int64(st, i, a->i);
	case SB_T_BLOB:
		return sqlite3_bind_blob64(st, i, a->p, a->len,
		    SQLITE_STATIC);
	default:
		return sqlite3_bind_null(st, i);
	}
}

int
store_bind(sqlite3_stmt *st, const struct store_arg *args)
{
	char	 s[CID_STR_MAX];
	int	 i, rc;

	for (i = 0; args != NULL && args[i].type != SB_T_END; i++) {
		if (args[i].type == SB_T_CID) {
			if (cid_format(args[i].cid, s, sizeof(s)) < 0)
				return PDS_EINVAL;
			rc = sqlite3_bind_text(st, i + 1, s, -1,
			    SQLITE_TRANSIENT);
		} else
			rc = bind_one(st, i + 1, &args[i]);
		if (rc != SQLITE_OK)
			return store_err(rc, "bind");
	}
	return PDS_OK;
}

int
store_prep(sqlite3_stmt **stp, const char *sql, const struct store_arg *args)
{
	sqlite3_stmt	*st;
	int		 rc;

	*stp = NULL;
	if ((st = store_stmt(sql)) == NULL)
		return PDS_EIO;
	if ((rc = store_bind(st, args)) != PDS_OK) {
		store_stmt_done(st);
		return rc;
	}
	*stp = st;
	return PDS_OK;
}

int
store_step_row(sqlite3_stmt *st, const char *what)
{
	int	 rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return PDS_OK;
	if (rc == SQLITE_DONE)
		return PDS_ENOTFOUND;
	return store_err(rc, what);
}

int
store_row(sqlite3_stmt **stp, const char *sql, const struct store_arg *args,
    const char *what)
{
	int	 rc;

	if ((rc = store_prep(stp, sql, args)) != PDS_OK)
		return rc;
	if ((rc = store_step_row(*stp, what)) != PDS_OK) {
		store_stmt_done(*stp);
		*stp = NULL;
	}
	return rc;
}

int
store_get(const char *sql, const struct store_arg *args, const char *what,
    int (*reader)(sqlite3_stmt *, void *), void *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_row(&st, sql, args, what)) != PDS_OK)
		return rc;
	rc = reader(st, out);
	store_stmt_done(st);
	return rc;
}

/* Where store_texts() puts its columns; b NULL for one column. */
struct text_out {
	int	(*text)(sqlite3_stmt *, int, char *, size_t);
	char	*a, *b;
	size_t	 acap, bcap;
};

static int
read_texts(sqlite3_stmt *st, void *arg)
{
	struct text_out	*t = arg;
	int		 rc;

	if ((rc = t->text(st, 0, t->a, t->acap)) == PDS_OK && t->b != NULL)
		rc = t->text(st, 1, t->b, t->bcap);
	return rc;
}

int
store_text(const char *sql, const struct store_arg *args, const char *what,
    char *out, size_t cap)
{
	return store_texts(sql, args, what, store_col_text, out, cap, NULL, 0);
}

int
store_texts(const char *sql, const struct store_arg *args, const char *what,
    int (*text)(sqlite3_stmt *, int, char *, size_t), char *a, size_t acap,
    char *b, size_t bcap)
{
	struct text_out	 t = { text, a, b, acap, bcap };

	return store_get(sql, args, what, read_texts, &t);
}

int
store_has_row(const char *sql, const struct store_arg *args, bool *yes,
    const char *what)
{
	sqlite3_stmt	*st;
	int		 rc;

	*yes = false;
	if ((rc = store_row(&st, sql, args, what)) == PDS_OK) {
		*yes = true;
		store_stmt_done(st);
	}
	return rc == PDS_ENOTFOUND ? PDS_OK : rc;
}

bool
store_next(sqlite3_stmt *st, int *rc, const char *what)
{
	int	 r = sqlite3_step(st);

	if (r == SQLITE_ROW)
		return true;
	*rc = store_err(r, what);
	return false;
}

int
store_step_done(sqlite3_stmt *st, const char *what, int *changes)
{
	int	 rc = sqlite3_step(st);

	if (changes != NULL)
		*changes = rc == SQLITE_DONE ?
		    sqlite3_changes(sqlite3_db_handle(st)) : 0;
	store_stmt_done(st);
	return store_err(rc, what);
}

int
store_step_changed(sqlite3_stmt *st, const char *what)
{
	int	 n, rc;

	if ((rc = store_step_done(st, what, &n)) != PDS_OK)
		return rc;
	return n > 0 ? PDS_OK : PDS_ENOTFOUND;
}

int
store_run(const char *sql, const struct store_arg *args, const char *what,
    int *changes)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (changes != NULL)
		*changes = 0;
	if ((rc = store_prep(&st, sql, args)) != PDS_OK)
		return rc;
	return store_step_done(st, what, changes);
}

int
store_run_tx(const char *sql, const struct store_arg *args,
    const char *what, int *changes)
{
	int	 rc;

	if (changes != NULL)
		*changes = 0;
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	rc = store_run(sql, args, what, changes);
	return store_end(rc);
}

int
store_run_changed(const char *sql, const struct store_arg *args,
    const char *what)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = store_prep(&st, sql, args)) != PDS_OK)
		return rc;
	return store_step_changed(st, what);
}

int
store_ints(const char *sql, const struct store_arg *args, const char *what,
    int64_t *v, size_t n)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	for (i = 0; i < n; i++)
		v[i] = 0;
	if ((rc = store_prep(&st, sql, args)) != PDS_OK)
		return rc;
	rc = sqlite3_step(st);
	for (i = 0; rc == SQLITE_ROW && i < n; i++)
		v[i] = sqlite3_column_int64(st, (int)i);
	store_stmt_done(st);
	return store_err(rc, what);
}

/* Text column i into out[cap]; one too long is cut when cut, else refused. */
static int
col_text(sqlite3_stmt *st, int i, char *out, size_t cap, bool cut)
{
	const unsigned char	*s = sqlite3_column_text(st, i);
	size_t			 n;

	if (cap > 0)
		out[0] = '\0';
	if (s == NULL)
		return PDS_OK;
	n = (size_t)sqlite3_column_bytes(st, i);
	if (n >= cap) {
		if (!cut)
			return PDS_ETOOBIG;
		n = cap - 1;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return PDS_OK;
}

int
store_col_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	return col_text(st, i, out, cap, false);
}

int
store_col_trunc(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	return col_text(st, i, out, cap, true);
}

int
store_col_blob(sqlite3_stmt *st, int i, void *out, size_t cap, size_t *len)
{
	const void	*p = sqlite3_column_blob(st, i);
	size_t		 n = (size_t)sqlite3_column_bytes(st, i);

	*len = n;
	if (n > cap)
		return PDS_ETOOBIG;
	if (n > 0)
		memcpy(out, p, n);
	return PDS_OK;
}

int
store_col_dup(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	if (s == NULL) {
		*out = NULL;
		return PDS_OK;
	}
	*out = strdup((const char *)s);
	return *out != NULL ? PDS_OK : PDS_ENOMEM;
}

int
store_col_buf(sqlite3_stmt *st, int i, struct buf *out)
{
	const void	*p = sqlite3_column_blob(st, i);

	buf_reset(out);
	return buf_append(out, p, (size_t)sqlite3_column_bytes(st, i));
}
