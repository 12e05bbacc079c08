/*
 * store_prefs: preferences and records-since reads.  See store_prefs.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "store_internal.h"
#include "store_prefs.h"

int
store_prefs_list(const char *did,
    int (*cb)(void *, const struct store_pref *), void *arg)
{
	sqlite3_stmt	*st;
	struct store_pref p;
	int		 rc;

	if ((rc = store_prep(&st, "SELECT name, value_json FROM preferences "
	    "WHERE did = ?1 ORDER BY id", STORE_ARGS(SB_TEXT(did)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "prefs list")) {
		p.name = (const char *)sqlite3_column_text(st, 0);
		p.value_json = (const char *)sqlite3_column_text(st, 1);
		if (p.name == NULL || p.value_json == NULL)
			continue;
		if ((rc = cb(arg, &p)) != 0)
			break;
	}
	store_stmt_done(st);
	return rc;
}

struct pref_row {
	int64_t	 id;
	char	*name;
};

static int
pref_rows(const char *did, struct pref_row **out, size_t *np)
{
	sqlite3_stmt	*st;
	struct pref_row	*v = NULL, *nv;
	size_t		 n = 0, cap = 0;
	const char	*name;
	int		 rc;

	*out = NULL;
	*np = 0;
	if ((rc = store_prep(&st, "SELECT id, name FROM preferences "
	    "WHERE did = ?1", STORE_ARGS(SB_TEXT(did)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "prefs rows")) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = PDS_ENOMEM;
				break;
			}
			v = nv;
		}
		name = (const char *)sqlite3_column_text(st, 1);
		v[n].id = sqlite3_column_int64(st, 0);
		if ((v[n].name = strdup(name != NULL ? name : "")) == NULL) {
			rc = PDS_ENOMEM;
			break;
		}
		n++;
	}
	store_stmt_done(st);
	*out = v;
	*np = n;
	return rc;
}

int
store_prefs_replace(const char *did, bool (*drop)(void *, const char *),
    void *arg, const struct store_pref *v, size_t n)
{
	struct pref_row	*rows = NULL;
	size_t		 nrows = 0, i;
	int		 rc;

	if ((rc = store_begin()) != PDS_OK)
		return rc;
	if ((rc = pref_rows(did, &rows, &nrows)) != PDS_OK)
		goto out;
	for (i = 0; i < nrows && rc == PDS_OK; i++) {
		if (!drop(arg, rows[i].name))
			continue;
		rc = store_run("DELETE FROM preferences WHERE id = ?1",
		    STORE_ARGS(SB_INT(rows[i].id)), "prefs delete", NULL);
	}
	for (i = 0; i < n && rc == PDS_OK; i++)
		rc = store_run("INSERT INTO preferences (did, name, value_json) "
		    "VALUES (?1, ?2, ?3)", STORE_ARGS(SB_TEXT(did),
		    SB_TEXT(v[i].name), SB_TEXT(v[i].value_json)),
		    "prefs insert", NULL);
out:
	for (i = 0; i < nrows; i++)
		free(rows[i].name);
	free(rows);
	return store_end(rc);
}

int
store_records_since(const char *did, const char *rev,
    const char *const *coll, size_t ncoll, size_t limit,
    int (*cb)(void *, const struct store_raw_record *), void *arg)
{
	sqlite3_stmt	*st;
	struct store_raw_record r;
	const char	*c[4] = { NULL, NULL, NULL, NULL };
	size_t		 i;
	int		 rc;

	if (ncoll > 4)
		return PDS_EINVAL;
	for (i = 0; i < ncoll; i++)
		c[i] = coll[i];
	if ((rc = store_prep(&st, "SELECT r.collection, r.rkey, r.cid, r.rev, "
	    "r.indexed_at, r.content FROM records r "
	    "WHERE r.did = ?1 AND r.rev > ?2 AND r.takedown_ref IS NULL "
	    "AND r.content IS NOT NULL "
	    "AND r.collection IN (?3, ?4, ?5, ?6) "
	    "ORDER BY r.rev, r.rkey LIMIT ?7", STORE_ARGS(SB_TEXT(did),
	    SB_TEXT(rev), SB_TEXTN(c[0]), SB_TEXTN(c[1]), SB_TEXTN(c[2]),
	    SB_TEXTN(c[3]), SB_INT(limit)))) != PDS_OK)
		return rc;
	while (store_next(st, &rc, "records since")) {
		r.collection = (const char *)sqlite3_column_text(st, 0);
		r.rkey = (const char *)sqlite3_column_text(st, 1);
		r.cid = (const char *)sqlite3_column_text(st, 2);
		r.rev = (const char *)sqlite3_column_text(st, 3);
		r.indexed_at = (const char *)sqlite3_column_text(st, 4);
		r.data = sqlite3_column_blob(st, 5);
		r.len = (size_t)sqlite3_column_bytes(st, 5);
		if (r.collection == NULL || r.rkey == NULL || r.cid == NULL ||
		    r.rev == NULL || r.indexed_at == NULL || r.data == NULL)
			continue;
		if ((rc = cb(arg, &r)) != 0)
			break;
	}
	store_stmt_done(st);
	return rc;
}
