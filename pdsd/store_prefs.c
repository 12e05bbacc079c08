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
	int		 rc, r = 0;

	st = store_stmt("SELECT name, value_json FROM preferences "
	    "WHERE did = ?1 ORDER BY id");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		p.name = (const char *)sqlite3_column_text(st, 0);
		p.value_json = (const char *)sqlite3_column_text(st, 1);
		if (p.name == NULL || p.value_json == NULL)
			continue;
		if ((r = cb(arg, &p)) != 0)
			break;
	}
	store_stmt_done(st);
	if (r != 0)
		return r;
	return rc == SQLITE_DONE ? PDS_OK : store_err(rc, "prefs list");
}

struct pref_row {
	int64_t	 id;
	char	*name;
};

/* The (id, name) rows of did, malloc'd. */
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
	if ((st = store_stmt("SELECT id, name FROM preferences "
	    "WHERE did = ?1")) == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = nv;
		}
		name = (const char *)sqlite3_column_text(st, 1);
		v[n].id = sqlite3_column_int64(st, 0);
		if ((v[n].name = strdup(name != NULL ? name : "")) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		n++;
	}
	store_stmt_done(st);
	*out = v;
	*np = n;
	if (rc == SQLITE_NOMEM)
		return PDS_ENOMEM;
	return rc == SQLITE_DONE ? PDS_OK : store_err(rc, "prefs rows");
}

int
store_prefs_replace(const char *did, bool (*drop)(void *, const char *),
    void *arg, const struct store_pref *v, size_t n)
{
	sqlite3_stmt	*st;
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
		if ((st = store_stmt("DELETE FROM preferences WHERE id = ?1"))
		    == NULL) {
			rc = PDS_EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, rows[i].id);
		rc = sqlite3_step(st);
		store_stmt_done(st);
		rc = rc == SQLITE_DONE ? PDS_OK : store_err(rc, "prefs delete");
	}
	for (i = 0; i < n && rc == PDS_OK; i++) {
		if ((st = store_stmt("INSERT INTO preferences (did, name, "
		    "value_json) VALUES (?1, ?2, ?3)")) == NULL) {
			rc = PDS_EIO;
			break;
		}
		sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, v[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v[i].value_json, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		store_stmt_done(st);
		rc = rc == SQLITE_DONE ? PDS_OK : store_err(rc, "prefs insert");
	}
out:
	for (i = 0; i < nrows; i++)
		free(rows[i].name);
	free(rows);
	if (rc == PDS_OK)
		return store_commit();
	store_rollback();
	return rc;
}

int
store_records_since(const char *did, const char *rev,
    const char *const *coll, size_t ncoll, size_t limit,
    int (*cb)(void *, const struct store_raw_record *), void *arg)
{
	sqlite3_stmt	*st;
	struct store_raw_record r;
	size_t		 i;
	int		 rc, x = 0;

	if (ncoll > 4)
		return PDS_EINVAL;
	st = store_stmt("SELECT r.collection, r.rkey, r.cid, r.rev, "
	    "r.indexed_at, b.content FROM records r JOIN repo_blocks b "
	    "ON b.did = r.did AND b.cid = r.cid "
	    "WHERE r.did = ?1 AND r.rev > ?2 AND r.takedown_ref IS NULL "
	    "AND r.collection IN (?3, ?4, ?5, ?6) "
	    "ORDER BY r.rev, r.rkey LIMIT ?7");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rev, -1, SQLITE_STATIC);
	for (i = 0; i < 4; i++) {
		if (i < ncoll)
			sqlite3_bind_text(st, 3 + (int)i, coll[i], -1,
			    SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 3 + (int)i);
	}
	sqlite3_bind_int64(st, 7, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
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
		if ((x = cb(arg, &r)) != 0)
			break;
	}
	store_stmt_done(st);
	if (x != 0)
		return x;
	return rc == SQLITE_DONE ? PDS_OK : store_err(rc, "records since");
}
