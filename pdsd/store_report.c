/*
 * store_report: the queries behind governance reports (report.c) and
 * the tables they keep (daily_stats, server_runs).  See store_report.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "log.h"
#include "store.h"
#include "store_internal.h"
#include "store_report.h"

/* ---- keeping ---------------------------------------------------------- */

int
store_run_start(const char *now, const char *version, int64_t *id)
{
	int	 rc;

	rc = store_run("INSERT INTO server_runs (started_at, last_seen_at, "
	    "version) VALUES (?1, ?1, ?2)", STORE_ARGS(SB_TEXT(now),
	    SB_TEXT(version)), "run start", NULL);
	if (rc == PDS_OK)
		*id = sqlite3_last_insert_rowid(store_db());
	return rc;
}

int
store_run_seen(int64_t id, const char *now, bool stopped)
{
	return store_run(stopped ? "UPDATE server_runs SET last_seen_at = ?2, "
	    "stopped_at = ?2 WHERE id = ?1" : "UPDATE server_runs SET "
	    "last_seen_at = ?2 WHERE id = ?1", STORE_ARGS(SB_INT(id),
	    SB_TEXT(now)), "run seen", NULL);
}

int
store_daily_add(const char *day, int64_t requests, int64_t errors)
{
	return store_run_tx("INSERT INTO daily_stats (day, requests, errors, "
	    "peak_rpm, accounts, db_bytes, blob_bytes) VALUES (?1, ?2, ?3, "
	    "?2, (SELECT count(*) FROM accounts), (SELECT page_count * "
	    "page_size FROM pragma_page_count, pragma_page_size), (SELECT "
	    "coalesce(sum(size), 0) FROM blobs)) ON CONFLICT (day) DO UPDATE "
	    "SET requests = requests + ?2, errors = errors + ?3, peak_rpm = "
	    "max(peak_rpm, ?2), accounts = excluded.accounts, db_bytes = "
	    "excluded.db_bytes, blob_bytes = excluded.blob_bytes",
	    STORE_ARGS(SB_TEXT(day), SB_INT(requests), SB_INT(errors)),
	    "daily stats", NULL);
}

/* ---- reading ---------------------------------------------------------- */

/* Rows of sql (?1 since, ?2 until) as an array of objects. */
static int
rows(const char *sql, const char *since, const char *until, json_t **out)
{
	sqlite3_stmt	*st;
	json_t		*arr, *row, *v;
	int		 rc, i, n;

	*out = NULL;
	if (sqlite3_prepare_v2(store_db(), sql, -1, &st, NULL) != SQLITE_OK) {
		log_warnx("report: %s", sqlite3_errmsg(store_db()));
		return PDS_EIO;
	}
	sqlite3_bind_text(st, 1, since, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, until, -1, SQLITE_STATIC);
	arr = json_array();
	n = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row = json_object();
		for (i = 0; i < n; i++) {
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				v = json_integer(sqlite3_column_int64(st, i));
				break;
			case SQLITE_FLOAT:
				v = json_real(sqlite3_column_double(st, i));
				break;
			case SQLITE_NULL:
				v = json_null();
				break;
			default:
				v = json_string((const char *)
				    sqlite3_column_text(st, i));
			}
			json_object_set_new(row, sqlite3_column_name(st, i),
			    v != NULL ? v : json_null());
		}
		json_array_append_new(arr, row);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_err(rc, "report");
	}
	*out = arr;
	return PDS_OK;
}

/* The one row of sql as an object. */
static int
row(const char *sql, const char *since, const char *until, json_t **out)
{
	json_t	*arr;
	int	 rc;

	if ((rc = rows(sql, since, until, &arr)) != PDS_OK)
		return rc;
	*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return *out != NULL ? PDS_OK : PDS_EIO;
}

static const struct part {
	const char	*key;
	bool		 many;
	const char	*sql;
} parts[] = {
	{ "members", false,
	  "SELECT (SELECT count(*) FROM accounts) AS total,"
	  " (SELECT count(*) FROM accounts WHERE status = 'active') AS current,"
	  " (SELECT count(*) FROM accounts WHERE created_at >= ?1 AND"
	  "  created_at < ?2) AS joined,"
	  " (SELECT count(DISTINCT did) FROM (SELECT did FROM records WHERE"
	  "  indexed_at >= ?1 AND indexed_at < ?2 UNION SELECT did FROM events"
	  "  WHERE type = 'commit' AND sequenced_at >= ?1 AND sequenced_at < ?2"
	  " )) AS active,"
	  " (SELECT count(*) FROM accounts WHERE deactivated_at >= ?1 AND"
	  "  deactivated_at < ?2) AS deactivated,"
	  " (SELECT count(*) FROM accounts WHERE takedown_ref IS NOT NULL)"
	  "  AS takendown,"
	  " (SELECT count(*) FROM account_migrations WHERE direction = 'in'"
	  "  AND started_at >= ?1 AND started_at < ?2) AS migratedIn,"
	  " (SELECT count(*) FROM account_migrations WHERE direction = 'out'"
	  "  AND started_at >= ?1 AND started_at < ?2) AS migratedOut" },
	{ "content", false,
	  "SELECT (SELECT count(*) FROM records WHERE collection ="
	  "  'app.bsky.feed.post' AND indexed_at >= ?1 AND indexed_at < ?2)"
	  "  AS posts,"
	  " (SELECT count(*) FROM records WHERE indexed_at >= ?1 AND"
	  "  indexed_at < ?2) AS records,"
	  " (SELECT count(*) FROM blobs WHERE created_at >= ?1 AND"
	  "  created_at < ?2) AS blobs,"
	  " (SELECT coalesce(sum(size), 0) FROM blobs WHERE created_at >= ?1"
	  "  AND created_at < ?2) AS blobBytes" },
	{ "storage", false,
	  "SELECT (SELECT page_count * page_size FROM pragma_page_count,"
	  "  pragma_page_size) AS databaseBytes,"
	  " (SELECT coalesce(sum(size), 0) FROM blobs) AS blobBytes,"
	  " (SELECT coalesce(sum(size), 0) FROM repo_blocks) +"
	  "  (SELECT coalesce(sum(size), 0) FROM repo_blocks_recent) +"
	  "  (SELECT coalesce(sum(length(content)), 0) FROM records)"
	  "  AS repoBytes,"
	  " (SELECT count(*) FROM records) AS records,"
	  " (SELECT count(*) FROM blobs) AS blobs,"
	  " (SELECT db_bytes + blob_bytes FROM daily_stats WHERE day >="
	  "  substr(?1, 1, 10) ORDER BY day LIMIT 1) AS startBytes" },
	{ "traffic", false,
	  "SELECT coalesce(sum(requests), 0) AS requests,"
	  " coalesce(sum(errors), 0) AS errors,"
	  " coalesce(max(peak_rpm), 0) AS peakRequestsPerMinute,"
	  " (SELECT day FROM daily_stats WHERE day >= substr(?1, 1, 10) AND"
	  "  day <= substr(?2, 1, 10) ORDER BY peak_rpm DESC LIMIT 1)"
	  "  AS peakDay"
	  " FROM daily_stats WHERE day >= substr(?1, 1, 10) AND"
	  " day <= substr(?2, 1, 10)" },
	{ "moderation", true,
	  "SELECT action AS kind, count(*) AS count FROM audit_log"
	  " WHERE at >= ?1 AND at < ?2 AND action IN ('account.takedown',"
	  " 'account.untakedown', 'record.takedown', 'record.untakedown',"
	  " 'blob.takedown', 'blob.untakedown', 'account.deactivate',"
	  " 'account.activate', 'account.delete', 'account.disable-invites',"
	  " 'account.enable-invites', 'account.revoke-session',"
	  " 'account.reset-password', 'invite.disable', 'migration.purge')"
	  " AND coalesce(json_extract(detail, '$.outcome'), 'ok') = 'ok'"
	  " GROUP BY action ORDER BY count(*) DESC, action" },
	{ "runs", true,
	  "SELECT started_at AS startedAt, last_seen_at AS lastSeenAt,"
	  " stopped_at AS stoppedAt, version FROM server_runs"
	  " WHERE last_seen_at >= ?1 AND started_at < ?2"
	  " ORDER BY started_at, id" },
	{ "daily", true,
	  "WITH d(day) AS (SELECT substr(created_at, 1, 10) FROM accounts"
	  "  WHERE created_at >= ?1 AND created_at < ?2"
	  " UNION SELECT substr(indexed_at, 1, 10) FROM records"
	  "  WHERE indexed_at >= ?1 AND indexed_at < ?2"
	  " UNION SELECT day FROM daily_stats WHERE day >= substr(?1, 1, 10)"
	  "  AND day <= substr(?2, 1, 10))"
	  " SELECT d.day AS day,"
	  " (SELECT count(*) FROM accounts WHERE substr(created_at, 1, 10) ="
	  "  d.day) AS joined,"
	  " (SELECT count(*) FROM records WHERE collection ="
	  "  'app.bsky.feed.post' AND substr(indexed_at, 1, 10) = d.day)"
	  "  AS posts,"
	  " (SELECT count(*) FROM blobs WHERE substr(created_at, 1, 10) ="
	  "  d.day) AS blobs,"
	  " coalesce(s.requests, 0) AS requests,"
	  " coalesce(s.peak_rpm, 0) AS peakRpm,"
	  " s.db_bytes AS dbBytes, s.blob_bytes AS blobBytes"
	  " FROM d LEFT JOIN daily_stats s ON s.day = d.day ORDER BY d.day" },
};

int
store_report(const char *since, const char *until, json_t *out)
{
	json_t	*v;
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		rc = parts[i].many ? rows(parts[i].sql, since, until, &v) :
		    row(parts[i].sql, since, until, &v);
		if (rc != PDS_OK)
			return rc;
		json_object_set_new(out, parts[i].key, v);
	}
	return PDS_OK;
}
