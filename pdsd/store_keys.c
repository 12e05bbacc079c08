/*
 * store_keys: reserved signing keys.  See store_keys.h.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "store_internal.h"
#include "store_keys.h"

int
store_keys_get(const char *id, uint8_t priv[32])
{
	sqlite3_stmt	*st;
	int		 rc, ret;

	st = store_stmt("SELECT private_key FROM reserved_keys "
	    "WHERE did = ?1 OR key_did = ?1 ORDER BY created_at DESC LIMIT 1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 32)
			ret = PDS_EUNSUPP;
		else {
			memcpy(priv, sqlite3_column_blob(st, 0), 32);
			ret = PDS_OK;
		}
	} else if (rc == SQLITE_DONE)
		ret = PDS_ENOTFOUND;
	else
		ret = store_err(rc, "reserved key");
	store_stmt_done(st);
	return ret;
}

int
store_keys_put(const char *key_did, const char *did, const uint8_t priv[32],
    const char *now)
{
	sqlite3_stmt	*st;
	char		 days[32];
	int		 rc;

	if ((rc = store_begin()) != PDS_OK)
		return rc;
	snprintf(days, sizeof(days), "-%d days", STORE_KEYS_TTL_DAYS);
	st = store_stmt("DELETE FROM reserved_keys WHERE created_at < "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', ?1, ?2)");
	if (st == NULL) {
		store_rollback();
		return PDS_EIO;
	}
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, days, -1, SQLITE_STATIC);
	if ((rc = store_step_done(st, "reserved key expiry", NULL)) !=
	    PDS_OK) {
		store_rollback();
		return rc;
	}
	st = store_stmt("INSERT INTO reserved_keys (key_did, did, "
	    "private_key, created_at) VALUES (?1, ?2, ?3, ?4)");
	if (st == NULL) {
		store_rollback();
		return PDS_EIO;
	}
	sqlite3_bind_text(st, 1, key_did, -1, SQLITE_STATIC);
	store_bind_text_or_null(st, 2, did);
	sqlite3_bind_blob(st, 3, priv, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	if ((rc = store_step_done(st, "reserved key", NULL)) != PDS_OK) {
		store_rollback();
		return rc;
	}
	return store_commit();
}

int
store_keys_clear(const char *key_did, const char *did)
{
	sqlite3_stmt	*st;

	st = store_stmt("DELETE FROM reserved_keys WHERE key_did = ?1 OR "
	    "(?2 IS NOT NULL AND did = ?2)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, key_did, -1, SQLITE_STATIC);
	store_bind_text_or_null(st, 2, did);
	return store_step_done(st, "reserved key clear", NULL);
}
