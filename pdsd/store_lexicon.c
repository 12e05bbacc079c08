/*
 * store_lexicon: the lexicon cache.  See store_lexicon.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "store_internal.h"
#include "store_lexicon.h"

static int
lexicon_read(sqlite3_stmt *st, void *out)
{
	struct store_lexicon	*l = out;
	int			 rc;

	if ((rc = store_col_dup(st, 0, &l->nsid)) == PDS_OK &&
	    (rc = store_col_dup(st, 1, &l->uri)) == PDS_OK &&
	    (rc = store_col_dup(st, 2, &l->cid)) == PDS_OK &&
	    (rc = store_col_dup(st, 3, &l->doc)) == PDS_OK)
		rc = store_col_dup(st, 4, &l->error);
	l->created_at = sqlite3_column_int64(st, 5);
	l->updated_at = sqlite3_column_int64(st, 6);
	l->succeeded_at = sqlite3_column_int64(st, 7);
	if (rc != PDS_OK)
		store_lexicon_clear(l);
	return rc;
}

int
store_lexicon_get(const char *nsid, struct store_lexicon *out)
{
	memset(out, 0, sizeof(*out));
	return store_get("SELECT nsid, uri, cid, doc, error, created_at, "
	    "updated_at, succeeded_at FROM lexicons WHERE nsid = ?1",
	    STORE_ARGS(SB_TEXT(nsid)), "lexicon get", lexicon_read, out);
}

int
store_lexicon_put(const struct store_lexicon *l)
{
	return store_run("INSERT INTO lexicons (nsid, uri, cid, doc, error, "
	    "created_at, updated_at, succeeded_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	    "ON CONFLICT (nsid) DO UPDATE SET uri = ?2, cid = ?3, doc = ?4, "
	    "error = ?5, updated_at = ?7, succeeded_at = ?8",
	    STORE_ARGS(SB_TEXT(l->nsid), SB_TEXTN(l->uri), SB_TEXTN(l->cid),
	    SB_TEXTN(l->doc), SB_TEXTN(l->error), SB_INT(l->created_at),
	    SB_INT(l->updated_at), l->succeeded_at > 0 ?
	    (struct store_arg)SB_INT(l->succeeded_at) :
	    (struct store_arg)SB_NULL), "lexicon put", NULL);
}

int
store_lexicon_delete(const char *nsid)
{
	return store_run("DELETE FROM lexicons WHERE nsid = ?1",
	    STORE_ARGS(SB_TEXT(nsid)), "lexicon delete", NULL);
}

int
store_lexicon_cap(int64_t keep)
{
	return store_run("DELETE FROM lexicons WHERE nsid IN "
	    "(SELECT nsid FROM lexicons ORDER BY updated_at DESC "
	    "LIMIT -1 OFFSET ?1)", STORE_ARGS(SB_INT(keep)), "lexicon cap",
	    NULL);
}

int
store_lexicon_prune(int64_t before, int64_t keep, int64_t *n)
{
	int	 a = 0, b = 0, rc;

	rc = store_run("DELETE FROM lexicons WHERE doc IS NULL AND "
	    "updated_at < ?1", STORE_ARGS(SB_INT(before)), "lexicon prune",
	    &a);
	if (rc == PDS_OK)
		rc = store_run("DELETE FROM lexicons WHERE nsid IN "
		    "(SELECT nsid FROM lexicons WHERE doc IS NULL "
		    "ORDER BY updated_at DESC LIMIT -1 OFFSET ?1)",
		    STORE_ARGS(SB_INT(keep)), "lexicon prune", &b);
	if (n != NULL)
		*n = a + b;
	return rc;
}

void
store_lexicon_clear(struct store_lexicon *l)
{
	free(l->nsid);
	free(l->uri);
	free(l->cid);
	free(l->doc);
	free(l->error);
	memset(l, 0, sizeof(*l));
}
