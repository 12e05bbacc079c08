/*
 * store_blobstore: the blob rows `pdsctl blobstore migrate' walks.
 * See store_blobstore.h.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "store_blobstore.h"
#include "store_internal.h"

int
store_blobstore_count(int64_t *n, int64_t *bytes)
{
	sqlite3_stmt	*st;
	int		 rc;

	*n = *bytes = 0;
	if ((rc = store_prep(&st, "SELECT count(*), coalesce(sum(size), 0) "
	    "FROM blobs", NULL)) != PDS_OK)
		return rc;
	if (store_next(st, &rc, "blob count")) {
		*n = sqlite3_column_int64(st, 0);
		*bytes = sqlite3_column_int64(st, 1);
	}
	store_stmt_done(st);
	return rc;
}

int
store_blobstore_page(const char *after_did, const char *after_cid,
    size_t limit, struct store_blobstore_row *rows, size_t *n)
{
	sqlite3_stmt	*st;
	const char	*d, *c;
	int		 rc;

	*n = 0;
	if ((rc = store_prep(&st, "SELECT did, cid, size, "
	    "takedown_ref IS NOT NULL FROM blobs WHERE did > ?1 OR "
	    "(did = ?1 AND cid > ?2) ORDER BY did, cid LIMIT ?3",
	    STORE_ARGS(SB_TEXT(after_did), SB_TEXT(after_cid),
	    SB_INT(limit)))) != PDS_OK)
		return rc;
	while (*n < limit && store_next(st, &rc, "blob page")) {
		d = (const char *)sqlite3_column_text(st, 0);
		c = (const char *)sqlite3_column_text(st, 1);
		if (d == NULL || c == NULL || strlen(d) >=
		    sizeof(rows[*n].did) || strlen(c) >= sizeof(rows[*n].cid))
			continue;
		snprintf(rows[*n].did, sizeof(rows[*n].did), "%s", d);
		snprintf(rows[*n].cid, sizeof(rows[*n].cid), "%s", c);
		rows[*n].size = sqlite3_column_int64(st, 2);
		rows[*n].takendown = sqlite3_column_int(st, 3) != 0;
		(*n)++;
	}
	store_stmt_done(st);
	return rc;
}
