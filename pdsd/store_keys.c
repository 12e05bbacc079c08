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
	size_t		 n;
	int		 rc;

	if ((rc = store_row(&st, "SELECT private_key FROM reserved_keys "
	    "WHERE did = ?1 OR key_did = ?1 ORDER BY created_at DESC LIMIT 1",
	    STORE_ARGS(SB_TEXT(id)), "reserved key")) != PDS_OK)
		return rc;
	if (store_col_blob(st, 0, priv, 32, &n) != PDS_OK || n != 32)
		rc = PDS_EUNSUPP;
	store_stmt_done(st);
	return rc;
}

int
store_keys_put(const char *key_did, const char *did, const uint8_t priv[32],
    const char *now)
{
	char		 days[32];
	int		 rc;

	if ((rc = store_begin()) != PDS_OK)
		return rc;
	snprintf(days, sizeof(days), "-%d days", STORE_KEYS_TTL_DAYS);
	if ((rc = store_run("DELETE FROM reserved_keys WHERE created_at < "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', ?1, ?2)",
	    STORE_ARGS(SB_TEXT(now), SB_TEXT(days)), "reserved key expiry",
	    NULL)) != PDS_OK ||
	    (rc = store_run("INSERT INTO reserved_keys (key_did, did, "
	    "private_key, created_at) VALUES (?1, ?2, ?3, ?4)",
	    STORE_ARGS(SB_TEXT(key_did), SB_TEXTN(did), SB_BLOB(priv, 32),
	    SB_TEXT(now)), "reserved key", NULL)) != PDS_OK) {
		store_rollback();
		return rc;
	}
	return store_commit();
}

int
store_keys_clear(const char *key_did, const char *did)
{
	return store_run("DELETE FROM reserved_keys WHERE key_did = ?1 OR "
	    "(?2 IS NOT NULL AND did = ?2)", STORE_ARGS(SB_TEXT(key_did),
	    SB_TEXTN(did)), "reserved key clear", NULL);
}
