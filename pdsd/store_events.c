/*
 * store_events: the event log's SQL.  See store_events.h.
 *
 * Bodies are stored as they are (encoding 0) or as a zlib stream of
 * them (encoding 1, RFC 1950) when that is smaller: a #commit's CAR
 * names each CID twice (as a link and as a block's key), so a typical
 * one shrinks to about two thirds and two rows fit in a 4 KB page
 * where one did.  Readers inflate into a buffer bounded by
 * STORE_EVENT_BODY_MAX and hand callbacks the original bytes.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <zlib.h>

#include "cbor.h"
#include "err.h"
#include "log.h"
#include "store_events.h"
#include "store_internal.h"

/* Smaller bodies (#identity, #account) gain too little to compress. */
#define COMPRESS_MIN	256
/*
 * libdeflate's fastest level, in zlib's format: about 20 us for a 2.5 KB
 * #commit body where zlib's own level 1 takes 70, for the same size;
 * deeper levels save under 1% more.  Reading uses zlib's inflate.
 */
#define COMPRESS_LEVEL	1

/*
 * Each writing thread keeps one compressor (setting one up costs more
 * than compressing a body).  Freed when the thread exits.
 */
static pthread_key_t	 zc_key;
static pthread_once_t	 zc_once = PTHREAD_ONCE_INIT;
static int		 zc_key_ok;
static __thread struct libdeflate_compressor *tl_zc;

static void
zc_destructor(void *p)
{
	libdeflate_free_compressor(p);
	tl_zc = NULL;
}

static void
zc_key_init(void)
{
	zc_key_ok = pthread_key_create(&zc_key, zc_destructor) == 0;
}

static struct libdeflate_compressor *
zc_get(void)
{
	struct libdeflate_compressor *zc;

	if (tl_zc != NULL)
		return tl_zc;
	(void)pthread_once(&zc_once, zc_key_init);
	if (!zc_key_ok ||
	    (zc = libdeflate_alloc_compressor(COMPRESS_LEVEL)) == NULL)
		return NULL;
	if (pthread_setspecific(zc_key, zc) != 0) {
		libdeflate_free_compressor(zc);
		return NULL;
	}
	tl_zc = zc;
	return zc;
}

/*
 * in as a zlib stream into out (replacing its contents) when that is
 * smaller; out empty means store it as it is (small, incompressible,
 * or no memory: compression is only an optimisation).
 */
static void
body_deflate(const uint8_t *in, size_t len, struct buf *out)
{
	struct libdeflate_compressor *zc;
	size_t		 n;

	buf_reset(out);
	if (len < COMPRESS_MIN || len > STORE_EVENT_BODY_MAX ||
	    (zc = zc_get()) == NULL || buf_reserve(out, len) != PDS_OK)
		return;
	/* it must save a byte: 0 when it does not fit */
	if ((n = libdeflate_zlib_compress(zc, in, len, out->p, len - 1)) > 0)
		out->len = n;
}

int
store_events_body_inflate(const uint8_t *in, size_t len, struct buf *out)
{
	z_stream	 zs;
	size_t		 room;
	int		 zrc, rc = PDS_OK;

	buf_reset(out);
	if (len == 0 || len > STORE_EVENT_BODY_MAX)
		return PDS_EINVAL;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return PDS_ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	do {
		if (out->len >= STORE_EVENT_BODY_MAX) {
			rc = PDS_ETOOBIG;
			break;
		}
		/* four times the input left, at least 4 KB, or double */
		room = (size_t)zs.avail_in * 4;
		if (room < out->len)
			room = out->len;
		if (room < 4096)
			room = 4096;
		if (room > STORE_EVENT_BODY_MAX - out->len)
			room = STORE_EVENT_BODY_MAX - out->len;
		if ((rc = buf_reserve(out, room)) != PDS_OK)
			break;
		zs.next_out = out->p + out->len;
		zs.avail_out = (uInt)room;
		zrc = inflate(&zs, Z_FINISH);
		out->len += room - zs.avail_out;
		if (zrc == Z_STREAM_END)
			break;
		if (zrc == Z_MEM_ERROR) {
			rc = PDS_ENOMEM;
			break;
		}
		/* Z_BUF_ERROR with input left: out of room, go round */
		if (zrc != Z_OK && !(zrc == Z_BUF_ERROR && zs.avail_out == 0)) {
			rc = PDS_EINVAL;
			break;
		}
		if (zs.avail_in == 0 && zs.avail_out != 0) {
			rc = PDS_ETRUNC;	/* the stream stops short */
			break;
		}
	} while (rc == PDS_OK);
	if (rc == PDS_OK && zs.avail_in != 0)
		rc = PDS_EINVAL;		/* bytes after the stream */
	inflateEnd(&zs);
	if (rc == PDS_OK)
		out->p[out->len] = '\0';
	else
		buf_reset(out);
	return rc;
}

int
store_events_join(const uint8_t *head, size_t hlen, int64_t seq,
    const uint8_t *tail, size_t tlen, struct buf *out)
{
	int	 rc;

	if ((rc = buf_append(out, head, hlen)) != PDS_OK ||
	    (rc = cbor_put_text(out, "seq", 3)) != PDS_OK ||
	    (rc = cbor_put_int(out, seq)) != PDS_OK)
		return rc;
	return buf_append(out, tail, tlen);
}

int
store_events_next_seq(int64_t *seq)
{
	return store_ints("SELECT max(coalesce((SELECT seq FROM "
	    "sqlite_sequence WHERE name = 'events'), 0), coalesce((SELECT "
	    "max(seq) FROM events), 0)) + 1", NULL, "event next seq", seq, 1);
}

int
store_events_head(int64_t *seq)
{
	int	 rc;

	if ((rc = store_events_next_seq(seq)) == PDS_OK)
		(*seq)--;
	return rc;
}

/* One row, its column `event' as given (in a transaction). */
static int
insert_row(int64_t seq, const char *did, const char *type,
    const uint8_t *ev, size_t len, int encoding, const char *now)
{
	return store_run("INSERT INTO events (seq, did, type, event, "
	    "sequenced_at, encoding) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	    STORE_ARGS(SB_INT(seq), SB_TEXT(did), SB_TEXT(type),
	    SB_BLOB(len ? (const void *)ev : (const void *)"", len),
	    SB_TEXT(now), SB_INT(encoding)), "event insert", NULL);
}

int
store_events_insert(int64_t seq, const char *did, const char *type,
    const uint8_t *body, size_t len, const char *now)
{
	struct buf	 z;
	int		 rc;

	if (len > STORE_EVENT_BODY_MAX)
		return PDS_ETOOBIG;
	buf_init(&z, STORE_EVENT_BODY_MAX);
	body_deflate(body, len, &z);
	if (z.len > 0)
		rc = insert_row(seq, did, type, z.p, z.len, STORE_EVENT_ZLIB,
		    now);
	else
		rc = insert_row(seq, did, type, body, len, STORE_EVENT_RAW,
		    now);
	buf_clear(&z);
	return rc;
}

int
store_events_pack(const uint8_t *head, size_t hlen, const uint8_t *tail,
    size_t tlen, struct buf *out)
{
	struct buf	 in;
	uint8_t		 hdr[4];
	int		 rc;

	buf_reset(out);
	/* the body is hlen + tlen plus the seq entry (at most 13 bytes) */
	if (hlen + tlen < COMPRESS_MIN || hlen + tlen > STORE_EVENT_BODY_MAX -
	    16 || hlen > UINT32_MAX)
		return PDS_OK;
	hdr[0] = (uint8_t)(hlen >> 24);
	hdr[1] = (uint8_t)(hlen >> 16);
	hdr[2] = (uint8_t)(hlen >> 8);
	hdr[3] = (uint8_t)hlen;
	buf_init(&in, STORE_EVENT_BODY_MAX);
	if ((rc = buf_append(&in, hdr, sizeof(hdr))) == PDS_OK &&
	    (rc = buf_append(&in, head, hlen)) == PDS_OK &&
	    (rc = buf_append(&in, tail, tlen)) == PDS_OK)
		body_deflate(in.p, in.len, out);
	buf_clear(&in);
	/* smaller than the stored body would be without packing */
	if (out->len >= hlen + tlen)
		buf_reset(out);
	return rc;
}

int
store_events_insert_packed(int64_t seq, const char *did, const char *type,
    const uint8_t *packed, size_t len, const char *now)
{
	if (len == 0 || len > STORE_EVENT_BODY_MAX)
		return PDS_EINVAL;
	return insert_row(seq, did, type, packed, len, STORE_EVENT_ZLIB_SEQ,
	    now);
}

/*
 * A STORE_EVENT_ZLIB_SEQ column back into the body, with seq's entry
 * between head and tail, into out (tmp is scratch).
 */
static int
unpack_seq(const uint8_t *in, size_t len, int64_t seq, struct buf *tmp,
    struct buf *out)
{
	size_t	 hlen;
	int	 rc;

	buf_reset(out);
	if ((rc = store_events_body_inflate(in, len, tmp)) != PDS_OK)
		return rc;
	if (tmp->len < 4)
		return PDS_ETRUNC;
	hlen = (size_t)tmp->p[0] << 24 | (size_t)tmp->p[1] << 16 |
	    (size_t)tmp->p[2] << 8 | tmp->p[3];
	if (hlen > tmp->len - 4)
		return PDS_EINVAL;
	if ((rc = store_events_join(tmp->p + 4, hlen, seq, tmp->p + 4 + hlen,
	    tmp->len - 4 - hlen, out)) != PDS_OK) {
		buf_reset(out);
		return rc;
	}
	return PDS_OK;
}

int
store_events_purge_did(const char *did, int64_t before)
{
	return store_run("DELETE FROM events WHERE did = ?1 AND seq < ?2",
	    STORE_ARGS(SB_TEXT(did), SB_INT(before)), "event purge", NULL);
}

int
store_events_scan(int64_t after, int64_t upto, size_t limit,
    int (*cb)(void *, const struct store_event_row *), void *arg, size_t *n)
{
	struct store_event_row	 row;
	struct buf		 plain, tmp;
	sqlite3_stmt		*st;
	size_t			 got = 0;
	int			 enc, ret;

	if (n != NULL)
		*n = 0;
	if ((ret = store_prep(&st, "SELECT seq, type, did, event, "
	    "sequenced_at, encoding FROM events WHERE seq > ?1 AND "
	    "seq <= ?2 AND invalidated = 0 ORDER BY seq LIMIT ?3",
	    STORE_ARGS(SB_INT(after), SB_INT(upto), SB_INT(limit)))) != PDS_OK)
		return ret;
	buf_init(&plain, STORE_EVENT_BODY_MAX);
	buf_init(&tmp, STORE_EVENT_BODY_MAX);
	while (store_next(st, &ret, "event scan")) {
		memset(&row, 0, sizeof(row));
		row.seq = sqlite3_column_int64(st, 0);
		row.type = (const char *)sqlite3_column_text(st, 1);
		row.did = (const char *)sqlite3_column_text(st, 2);
		row.body = sqlite3_column_blob(st, 3);
		row.len = (size_t)sqlite3_column_bytes(st, 3);
		row.time = (const char *)sqlite3_column_text(st, 4);
		enc = sqlite3_column_int(st, 5);
		if (row.type == NULL || row.did == NULL || row.time == NULL ||
		    row.body == NULL)
			continue;
		/* none of the row reaches cb unless it decodes */
		if (enc != STORE_EVENT_RAW) {
			if (enc == STORE_EVENT_ZLIB)
				ret = store_events_body_inflate(row.body,
				    row.len, &plain);
			else if (enc == STORE_EVENT_ZLIB_SEQ)
				ret = unpack_seq(row.body, row.len, row.seq,
				    &tmp, &plain);
			else
				ret = PDS_EUNSUPP;
			if (ret != PDS_OK) {
				log_warnx("store: event %" PRId64 ": its body "
				    "(encoding %d) does not decode (%s)",
				    row.seq, enc, pds_strerror(ret));
				break;
			}
			row.body = plain.p;
			row.len = plain.len;
		}
		got++;
		if ((ret = cb(arg, &row)) != 0)
			break;
	}
	store_stmt_done(st);
	buf_clear(&plain);
	buf_clear(&tmp);
	if (n != NULL)
		*n = got;
	return ret;
}

int
store_events_first_after(int64_t after, int64_t *seq, char time[STORE_TS_LEN])
{
	sqlite3_stmt	*st;
	const char	*t;
	int		 rc;

	if ((rc = store_row(&st, "SELECT seq, sequenced_at FROM events "
	    "WHERE seq > ?1 AND invalidated = 0 ORDER BY seq LIMIT 1",
	    STORE_ARGS(SB_INT(after)), "event first after")) != PDS_OK)
		return rc;
	*seq = sqlite3_column_int64(st, 0);
	t = (const char *)sqlite3_column_text(st, 1);
	if (t == NULL || strlen(t) >= STORE_TS_LEN)
		t = "";
	memcpy(time, t, strlen(t) + 1);
	store_stmt_done(st);
	return PDS_OK;
}

int
store_events_first_since(int64_t after, const char *time, int64_t *seq)
{
	int64_t	 v;
	int	 rc;

	/* seqs start at 1: 0 is none */
	if ((rc = store_ints("SELECT coalesce(min(seq), 0) FROM events "
	    "WHERE sequenced_at >= ?1 AND seq > ?2 AND invalidated = 0",
	    STORE_ARGS(SB_TEXT(time), SB_INT(after)), "event first since",
	    &v, 1)) != PDS_OK)
		return rc;
	if (v == 0)
		return PDS_ENOTFOUND;
	*seq = v;
	return PDS_OK;
}

int
store_events_prune(const char *time, size_t limit, size_t *n, int64_t *last)
{
	int64_t		 upto;
	int		 rc, changes;

	*n = 0;
	/* The seq up to which everything old goes (the index on time). */
	if ((rc = store_ints("SELECT coalesce(max(seq), 0) FROM (SELECT seq "
	    "FROM events WHERE sequenced_at < ?1 ORDER BY seq LIMIT ?2)",
	    STORE_ARGS(SB_TEXT(time), SB_INT(limit)), "event prune", &upto,
	    1)) != PDS_OK || upto == 0)
		return rc;
	if ((rc = store_run_tx("DELETE FROM events WHERE seq <= ?1 AND "
	    "sequenced_at < ?2", STORE_ARGS(SB_INT(upto), SB_TEXT(time)),
	    "event prune", &changes)) != PDS_OK)
		return rc;
	*n = (size_t)changes;
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
	int		 rc;

	/* The commit is in repo_blocks_recent, or settled (schema 15). */
	if ((rc = store_row(&st, "SELECT * FROM (SELECT r.cid, r.rev, "
	    "coalesce((SELECT content FROM repo_blocks_recent b WHERE "
	    "b.did = r.did AND b.cid = r.cid), (SELECT content FROM "
	    "repo_blocks b WHERE b.did = r.did AND b.cid = r.cid)) AS content "
	    "FROM repo_root r WHERE r.did = ?1) WHERE content IS NOT NULL",
	    STORE_ARGS(SB_TEXT(did)), "head commit")) != PDS_OK)
		return rc;
	c = (const char *)sqlite3_column_text(st, 0);
	r = (const char *)sqlite3_column_text(st, 1);
	data = sqlite3_column_blob(st, 2);
	len = (size_t)sqlite3_column_bytes(st, 2);
	buf_reset(out);
	if (c == NULL || r == NULL || data == NULL ||
	    strlen(c) >= cap || strlen(r) >= revcap)
		rc = PDS_EINTERNAL;
	else if ((rc = buf_append(out, data, len)) == PDS_OK) {
		memcpy(cid, c, strlen(c) + 1);
		memcpy(rev, r, strlen(r) + 1);
	}
	store_stmt_done(st);
	return rc;
}
