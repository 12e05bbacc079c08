/*
 * store_events: the event log's SQL.  See store_events.h.
 */
#include <string.h>

#include "err.h"
#include "store_events.h"
#include "store_internal.h"

int
store_events_next_seq(int64_t *seq)
{
	sqlite3_stmt	*st;
	int		 rc;

	/* The same rule as store_repo.c's, so both writers agree. */
	st = store_stmt("SELECT max(coalesce((SELECT seq FROM sqlite_sequence "
	    "WHERE name = 'events'), 0), coalesce((SELECT max(seq) FROM "
	    "events), 0)) + 1");
	if (st == NULL)
		return PDS_EIO;
	rc = sqlite3_step(st);
	*seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	store_stmt_done(st);
	return rc == SQLITE_ROW ? PDS_OK : store_err(rc, "event next seq");
}

int
store_events_head(int64_t *seq)
{
	int	 rc;

	if ((rc = store_events_next_seq(seq)) == PDS_OK)
		(*seq)--;
	return rc;
}

int
store_events_insert(int64_t seq, const char *did, const char *type,
    const uint8_t *body, size_t len, const char *now)
{
	sqlite3_stmt	*st;

	if (len > INT32_MAX)
		return PDS_ETOOBIG;
	st = store_stmt("INSERT INTO events (seq, did, type, event, "
	    "sequenced_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, body, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	return store_step_done(st, "event insert", NULL);
}

int
store_events_purge_did(const char *did, int64_t before)
{
	sqlite3_stmt	*st;

	st = store_stmt("DELETE FROM events WHERE did = ?1 AND seq < ?2");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, before);
	return store_step_done(st, "event purge", NULL);
}

int
store_events_scan(int64_t after, int64_t upto, size_t limit,
    int (*cb)(void *, const struct store_event_row *), void *arg, size_t *n)
{
	struct store_event_row	 row;
	sqlite3_stmt		*st;
	size_t			 got = 0;
	int			 rc, ret = PDS_OK;

	if (n != NULL)
		*n = 0;
	st = store_stmt("SELECT seq, type, did, event, sequenced_at FROM "
	    "events WHERE seq > ?1 AND seq <= ?2 AND invalidated = 0 "
	    "ORDER BY seq LIMIT ?3");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, upto);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.seq = sqlite3_column_int64(st, 0);
		row.type = (const char *)sqlite3_column_text(st, 1);
		row.did = (const char *)sqlite3_column_text(st, 2);
		row.body = sqlite3_column_blob(st, 3);
		row.len = (size_t)sqlite3_column_bytes(st, 3);
		row.time = (const char *)sqlite3_column_text(st, 4);
		if (row.type == NULL || row.did == NULL || row.time == NULL ||
		    row.body == NULL)
			continue;
		got++;
		if ((ret = cb(arg, &row)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = store_err(rc, "event scan");
	store_stmt_done(st);
	if (n != NULL)
		*n = got;
	return ret;
}

int
store_events_first_after(int64_t after, int64_t *seq, char time[STORE_TS_LEN])
{
	sqlite3_stmt	*st;
	const char	*t;
	int		 rc, ret = PDS_ENOTFOUND;

	st = store_stmt("SELECT seq, sequenced_at FROM events WHERE seq > ?1 "
	    "AND invalidated = 0 ORDER BY seq LIMIT 1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_int64(st, 1, after);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		t = (const char *)sqlite3_column_text(st, 1);
		if (t == NULL || strlen(t) >= STORE_TS_LEN)
			t = "";
		memcpy(time, t, strlen(t) + 1);
		ret = PDS_OK;
	} else if (rc != SQLITE_DONE)
		ret = store_err(rc, "event first after");
	store_stmt_done(st);
	return ret;
}

int
store_events_first_since(int64_t after, const char *time, int64_t *seq)
{
	sqlite3_stmt	*st;
	int		 rc, ret = PDS_ENOTFOUND;

	st = store_stmt("SELECT min(seq) FROM events WHERE sequenced_at >= ?1 "
	    "AND seq > ?2 AND invalidated = 0");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, time, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*seq = sqlite3_column_int64(st, 0);
		ret = PDS_OK;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_err(rc, "event first since");
	store_stmt_done(st);
	return ret;
}

int
store_events_prune(const char *time, size_t limit, size_t *n, int64_t *last)
{
	sqlite3_stmt	*st;
	int64_t		 upto = 0;
	int		 rc;

	*n = 0;
	/* The seq up to which everything old goes (the index on time). */
	st = store_stmt("SELECT max(seq) FROM (SELECT seq FROM events WHERE "
	    "sequenced_at < ?1 ORDER BY seq LIMIT ?2)");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, time, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		upto = sqlite3_column_int64(st, 0);
	store_stmt_done(st);
	if (rc != SQLITE_ROW)
		return store_err(rc, "event prune");
	if (upto == 0)
		return PDS_OK;
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	st = store_stmt("DELETE FROM events WHERE seq <= ?1 AND "
	    "sequenced_at < ?2");
	if (st == NULL) {
		store_rollback();
		return PDS_EIO;
	}
	sqlite3_bind_int64(st, 1, upto);
	sqlite3_bind_text(st, 2, time, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		*n = (size_t)sqlite3_changes(store_db());
	store_stmt_done(st);
	if (rc != SQLITE_DONE) {
		store_rollback();
		return store_err(rc, "event prune");
	}
	if ((rc = store_commit()) != PDS_OK) {
		*n = 0;
		return rc;
	}
	*last = upto;
	return PDS_OK;
}

int
store_events_head_commit(const char *did, char *cid, size_t cap, char *rev,
    size_t revcap, struct buf *out)
{
	sqlite3_stmt	*st;
	const char	*c, *r;
	const void	*data;
	size_t		 len;
	int		 rc, ret = PDS_ENOTFOUND;

	st = store_stmt("SELECT r.cid, r.rev, b.content FROM repo_root r "
	    "JOIN repo_blocks b ON b.did = r.did AND b.cid = r.cid "
	    "WHERE r.did = ?1");
	if (st == NULL)
		return PDS_EIO;
	sqlite3_bind_text(st, 1, did, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c = (const char *)sqlite3_column_text(st, 0);
		r = (const char *)sqlite3_column_text(st, 1);
		data = sqlite3_column_blob(st, 2);
		len = (size_t)sqlite3_column_bytes(st, 2);
		buf_reset(out);
		if (c == NULL || r == NULL || data == NULL ||
		    strlen(c) >= cap || strlen(r) >= revcap)
			ret = PDS_EINTERNAL;
		else if ((ret = buf_append(out, data, len)) == PDS_OK) {
			memcpy(cid, c, strlen(c) + 1);
			memcpy(rev, r, strlen(r) + 1);
		}
	} else if (rc != SQLITE_DONE)
		ret = store_err(rc, "head commit");
	store_stmt_done(st);
	return ret;
}
