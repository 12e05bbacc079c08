/*
 * store_keys: reserved signing keys.  See store_keys.h.
 *
 * The number of rows is kept in memory (counted once, then kept up to
 * date by each insert and clear, and counted again by every prune), so
 * that the cap costs no count(*) per reservation.  A clear whose
 * transaction then rolls back leaves the count low until the next
 * prune: the cap is exact again within STORE_KEYS_PRUNE_MS.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "store_internal.h"
#include "store_keys.h"

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t		 nrows = -1;	/* -1: not counted yet */
static size_t		 max_rows = STORE_KEYS_MAX;

void
store_keys_set_max(size_t max)
{
	pthread_mutex_lock(&mu);
	max_rows = max > 0 ? max : STORE_KEYS_MAX;
	nrows = -1;
	pthread_mutex_unlock(&mu);
}

/* Count the rows; with mu held. */
static int
recount(void)
{
	int64_t	 n;
	int	 rc;

	if ((rc = store_ints("SELECT count(*) FROM reserved_keys", NULL,
	    "reserved key count", &n, 1)) != PDS_OK)
		return rc;
	nrows = n;
	return PDS_OK;
}

static int
key_read(sqlite3_stmt *st, void *priv)
{
	size_t	 n;

	if (store_col_blob(st, 0, priv, 32, &n) != PDS_OK || n != 32)
		return PDS_EUNSUPP;
	return PDS_OK;
}

int
store_keys_get(const char *id, uint8_t priv[32])
{
	return store_get("SELECT private_key FROM reserved_keys "
	    "WHERE did = ?1 OR key_did = ?1 ORDER BY created_at DESC LIMIT 1",
	    STORE_ARGS(SB_TEXT(id)), "reserved key", key_read, priv);
}

int
store_keys_put(const char *key_did, const char *did, const uint8_t priv[32],
    const char *now)
{
	int	 rc;

	pthread_mutex_lock(&mu);
	if (nrows < 0 && (rc = recount()) != PDS_OK)
		goto out;
	if (nrows >= (int64_t)max_rows) {
		rc = PDS_EBUSY;
		goto out;
	}
	if ((rc = store_run("INSERT INTO reserved_keys (key_did, did, "
	    "private_key, created_at) VALUES (?1, ?2, ?3, ?4)",
	    STORE_ARGS(SB_TEXT(key_did), SB_TEXTN(did), SB_BLOB(priv, 32),
	    SB_TEXT(now)), "reserved key", NULL)) == PDS_OK)
		nrows++;
out:
	pthread_mutex_unlock(&mu);
	return rc;
}

int
store_keys_clear(const char *key_did, const char *did)
{
	int	 n = 0, rc;

	rc = store_run("DELETE FROM reserved_keys WHERE key_did = ?1 OR "
	    "(?2 IS NOT NULL AND did = ?2)", STORE_ARGS(SB_TEXT(key_did),
	    SB_TEXTN(did)), "reserved key clear", &n);
	pthread_mutex_lock(&mu);
	if (rc == PDS_OK && nrows >= 0)
		nrows = nrows > n ? nrows - n : 0;
	pthread_mutex_unlock(&mu);
	return rc;
}

int
store_keys_prune(const char *now, int *n)
{
	char	 days[32];
	int	 rc;

	snprintf(days, sizeof(days), "-%d days", STORE_KEYS_TTL_DAYS);
	pthread_mutex_lock(&mu);
	if ((rc = store_run("DELETE FROM reserved_keys WHERE created_at < "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', ?1, ?2)",
	    STORE_ARGS(SB_TEXT(now), SB_TEXT(days)), "reserved key expiry",
	    n)) == PDS_OK)
		rc = recount();
	pthread_mutex_unlock(&mu);
	return rc;
}
