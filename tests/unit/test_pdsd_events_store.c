/*
 * test_pdsd_events_store: how the event log stores bodies
 * (pdsd/store_events.c).  Bodies go in compressed when that is smaller
 * and come back byte-identical; rows stored as they are (every row from
 * before migration 3) read back too; a compressed row that does not
 * inflate, inflates past STORE_EVENT_BODY_MAX or has an unknown
 * encoding stops the scan with an error before it reaches the callback;
 * a body packed without its seq (store_events_pack) comes back with the
 * row's seq in place; and a database at schema version 2 with rows in
 * it upgrades and keeps them.
 *
 * The test opens its own SQLite connection beside the store's to look
 * at and plant rows, and includes store_internal.h for the migration
 * texts that build the old schema.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <zlib.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_events.h"
#include "../../pdsd/store_internal.h"
#include "t.h"
#include "t_store.h"

static const char did[] = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
static const char ts[] = "2024-01-02T03:04:05.678Z";

#define NSEEN	16

/* What a scan handed its callback. */
struct seen {
	size_t		 n;
	int64_t		 seq[NSEEN];
	char		 type[NSEEN][16];
	uint8_t		*body[NSEEN];
	size_t		 len[NSEEN];
	int		 bad_meta;
};

static int
collect(void *arg, const struct store_event_row *row)
{
	struct seen	*s = arg;

	if (s->n >= NSEEN)
		return PDS_ETOOBIG;
	if (strcmp(row->did, did) != 0 || strcmp(row->time, ts) != 0)
		s->bad_meta++;
	s->seq[s->n] = row->seq;
	snprintf(s->type[s->n], sizeof(s->type[0]), "%s", row->type);
	if ((s->body[s->n] = malloc(row->len + 1)) == NULL)
		return PDS_ENOMEM;
	memcpy(s->body[s->n], row->body, row->len);
	s->len[s->n] = row->len;
	s->n++;
	return 0;
}

static void
seen_free(struct seen *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		free(s->body[i]);
	memset(s, 0, sizeof(*s));
}

static int
scan(int64_t after, struct seen *s, size_t *n)
{
	memset(s, 0, sizeof(*s));
	return store_events_scan(after, INT64_MAX, 100, collect, s, n);
}

static bool
same(const struct seen *s, size_t i, const uint8_t *body, size_t len)
{
	return i < s->n && s->len[i] == len &&
	    memcmp(s->body[i], body, len) == 0;
}

/*
 * A body shaped like a #commit's: CIDs (random hashes) that each appear
 * twice, as a link and as a block's key, between map keys.
 */
static void
commit_like(uint8_t *p, size_t len, unsigned seed)
{
	uint8_t	 cid[36];
	size_t	 i = 0, k, m;

	srand(seed);
	while (i < len) {
		for (k = 0; k < sizeof(cid); k++)
			cid[k] = (uint8_t)rand();
		for (k = 0; k < 2 && i < len; k++) {
			m = len - i < sizeof(cid) ? len - i : sizeof(cid);
			memcpy(p + i, cid, m);
			i += m;
			m = len - i < 8 ? len - i : 8;
			memcpy(p + i, "\x66" "blocks\xd8", m);
			i += m;
		}
	}
}

static void
random_bytes(uint8_t *p, size_t len, unsigned seed)
{
	size_t	 i;

	srand(seed);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)rand();
}

static int
insert(int64_t seq, const char *type, const uint8_t *body, size_t len)
{
	int	 rc;

	if ((rc = store_begin()) != PDS_OK)
		return rc;
	if ((rc = store_events_insert(seq, did, type, body, len, ts)) !=
	    PDS_OK) {
		store_rollback();
		return rc;
	}
	return store_commit();
}

/* One integer from SQL on db, or -1. */
static int64_t
sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Put a row in with SQL, as written before or by something else. */
static int
plant(sqlite3 *db, int64_t seq, const char *type, const void *ev,
    size_t len, int encoding)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (encoding < 0)
		rc = sqlite3_prepare_v2(db, "INSERT INTO events (seq, did, "
		    "type, event, sequenced_at) VALUES (?1, ?2, ?3, ?4, ?5)",
		    -1, &st, NULL);
	else
		rc = sqlite3_prepare_v2(db, "INSERT INTO events (seq, did, "
		    "type, event, sequenced_at, encoding) VALUES (?1, ?2, ?3, "
		    "?4, ?5, ?6)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return PDS_EIO;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, did, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, ev, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ts, -1, SQLITE_STATIC);
	if (encoding >= 0)
		sqlite3_bind_int(st, 6, encoding);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? PDS_OK : PDS_EIO;
}

static sqlite3 *
side_open(const char *path)
{
	sqlite3	*db;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static uint8_t big[2600], big2[3000], noise[1200], small[90];

static void
test_round_trip(const char *path)
{
	struct seen	 s;
	sqlite3		*db;
	size_t		 n = 0;
	int64_t		 next;

	t_group("round trip");
	commit_like(big, sizeof(big), 1);
	commit_like(big2, sizeof(big2), 2);
	random_bytes(noise, sizeof(noise), 3);
	memcpy(small, "\xa3" "a" "identity", 10);
	random_bytes(small + 10, sizeof(small) - 10, 4);

	CHECK(store_begin() == PDS_OK && store_events_next_seq(&next) ==
	    PDS_OK && store_commit() == PDS_OK && next == 1, "next seq 1");
	CHECK(insert(1, "commit", big, sizeof(big)) == PDS_OK, "insert big");
	CHECK(insert(2, "identity", small, sizeof(small)) == PDS_OK,
	    "insert small");
	CHECK(insert(3, "commit", noise, sizeof(noise)) == PDS_OK,
	    "insert incompressible");
	CHECK(insert(4, "commit", big2, sizeof(big2)) == PDS_OK,
	    "insert big2");

	db = side_open(path);
	CHECK(db != NULL, "side connection");
	CHECK(sql_int(db, "SELECT encoding FROM events WHERE seq = 1") ==
	    STORE_EVENT_ZLIB, "a #commit-like body is stored compressed");
	CHECK(sql_int(db, "SELECT length(event) FROM events WHERE seq = 1") <
	    (int64_t)sizeof(big) * 3 / 4, "and smaller (%" PRId64 " of %zu)",
	    sql_int(db, "SELECT length(event) FROM events WHERE seq = 1"),
	    sizeof(big));
	CHECK(sql_int(db, "SELECT encoding FROM events WHERE seq = 2") ==
	    STORE_EVENT_RAW &&
	    sql_int(db, "SELECT length(event) FROM events WHERE seq = 2") ==
	    (int64_t)sizeof(small), "a small body is stored as it is");
	CHECK(sql_int(db, "SELECT encoding FROM events WHERE seq = 3") ==
	    STORE_EVENT_RAW &&
	    sql_int(db, "SELECT length(event) FROM events WHERE seq = 3") ==
	    (int64_t)sizeof(noise), "an incompressible body as it is");
	CHECK(sql_int(db, "SELECT encoding FROM events WHERE seq = 4") ==
	    STORE_EVENT_ZLIB, "big2 compressed");

	CHECK(scan(0, &s, &n) == PDS_OK, "scan");
	CHECK(n == 4 && s.n == 4, "four rows (%zu)", n);
	CHECK(same(&s, 0, big, sizeof(big)), "big back byte-identical");
	CHECK(same(&s, 1, small, sizeof(small)), "small back");
	CHECK(same(&s, 2, noise, sizeof(noise)), "incompressible back");
	CHECK(same(&s, 3, big2, sizeof(big2)), "big2 back");
	CHECK(s.seq[0] == 1 && s.seq[3] == 4 && strcmp(s.type[0], "commit") ==
	    0 && strcmp(s.type[1], "identity") == 0 && s.bad_meta == 0,
	    "seq, type, did and time");
	seen_free(&s);

	/* a scan from the middle, and with a limit */
	CHECK(store_events_scan(1, 3, 100, collect, &s, &n) == PDS_OK &&
	    n == 2 && same(&s, 0, small, sizeof(small)) &&
	    same(&s, 1, noise, sizeof(noise)), "rows 2..3");
	seen_free(&s);

	/* a row stored as it is, written with SQL: explicit and default 0 */
	CHECK(plant(db, 5, "commit", big, sizeof(big), STORE_EVENT_RAW) ==
	    PDS_OK, "plant raw");
	CHECK(plant(db, 6, "commit", big2, sizeof(big2), -1) == PDS_OK,
	    "plant raw without naming the encoding");
	CHECK(scan(4, &s, &n) == PDS_OK && n == 2 &&
	    same(&s, 0, big, sizeof(big)) && same(&s, 1, big2, sizeof(big2)),
	    "raw rows read back");
	seen_free(&s);
	sqlite3_close(db);
	t_group_end();
}

/* A zlib stream of in (level 9: the smallest). */
static uint8_t *
zstream(const uint8_t *in, size_t len, size_t *zlen)
{
	uLongf	 cap = compressBound((uLong)len);
	uint8_t	*z;

	if ((z = malloc(cap)) == NULL)
		return NULL;
	if (compress2(z, &cap, in, (uLong)len, 9) != Z_OK) {
		free(z);
		return NULL;
	}
	*zlen = cap;
	return z;
}

static void
test_refused(const char *path)
{
	struct seen	 s;
	struct buf	 out;
	sqlite3		*db;
	uint8_t		*z, *zeros, *tail, *bomb;
	size_t		 zlen, bomb_len, bomb_zlen = 0, n = 0;
	int		 rc;

	t_group("refused rows");
	db = side_open(path);
	CHECK(db != NULL, "side connection");
	if (db == NULL) {
		t_group_end();
		return;
	}
	z = zstream(big, sizeof(big), &zlen);
	CHECK(z != NULL, "zlib stream");
	if (z == NULL) {
		sqlite3_close(db);
		t_group_end();
		return;
	}

	/* the library call itself */
	buf_init(&out, STORE_EVENT_BODY_MAX);
	CHECK(store_events_body_inflate(z, zlen, &out) == PDS_OK &&
	    out.len == sizeof(big) && memcmp(out.p, big, sizeof(big)) == 0,
	    "inflate a good stream");
	z[zlen / 2] ^= 0x55;
	rc = store_events_body_inflate(z, zlen, &out);
	CHECK(rc == PDS_EINVAL && out.len == 0, "a flipped byte: EINVAL (%d)",
	    rc);
	z[zlen / 2] ^= 0x55;
	rc = store_events_body_inflate(z, zlen - 5, &out);
	CHECK(rc != PDS_OK && out.len == 0, "a truncated stream (%d)", rc);
	CHECK(store_events_body_inflate((const uint8_t *)"hello", 5, &out) ==
	    PDS_EINVAL, "not zlib at all");
	CHECK(store_events_body_inflate(z, 0, &out) == PDS_EINVAL, "empty");
	if ((tail = malloc(zlen + 3)) != NULL) {
		memcpy(tail, z, zlen);
		memcpy(tail + zlen, "xyz", 3);
		CHECK(store_events_body_inflate(tail, zlen + 3, &out) ==
		    PDS_EINVAL, "bytes after the stream");
		free(tail);
	}
	buf_clear(&out);
	buf_init(&out, 1000);
	CHECK(store_events_body_inflate(z, zlen, &out) == PDS_ETOOBIG &&
	    out.len == 0, "past the buffer's own maximum");
	buf_clear(&out);

	/* a stream that inflates past the frame limit */
	bomb_len = STORE_EVENT_BODY_MAX + 4096;
	zeros = calloc(1, bomb_len);
	bomb = zeros != NULL ? zstream(zeros, bomb_len, &bomb_zlen) : NULL;
	CHECK(bomb != NULL && bomb_zlen < 64 * 1024,
	    "a small stream of %zu zeros", bomb_len);
	buf_init(&out, STORE_EVENT_BODY_MAX);
	CHECK(bomb != NULL && store_events_body_inflate(bomb, bomb_zlen,
	    &out) == PDS_ETOOBIG && out.len == 0, "refused past the limit");
	buf_clear(&out);

	/* through the scan: rows before a bad one are handed out, not it */
	CHECK(plant(db, 7, "commit", z, zlen, STORE_EVENT_ZLIB) == PDS_OK,
	    "plant a good compressed row");
	z[zlen / 2] ^= 0x55;
	CHECK(plant(db, 8, "commit", z, zlen, STORE_EVENT_ZLIB) == PDS_OK,
	    "plant a corrupt one");
	rc = scan(6, &s, &n);
	CHECK(rc == PDS_EINVAL, "the scan fails (%d)", rc);
	CHECK(n == 1 && s.n == 1 && s.seq[0] == 7 &&
	    same(&s, 0, big, sizeof(big)), "with only the good row handed out");
	seen_free(&s);
	CHECK(sqlite3_exec(db, "DELETE FROM events WHERE seq = 8", NULL, NULL,
	    NULL) == SQLITE_OK, "remove it");

	if (bomb != NULL) {
		CHECK(plant(db, 9, "commit", bomb, bomb_zlen,
		    STORE_EVENT_ZLIB) ==
		    PDS_OK, "plant a bomb");
		rc = scan(7, &s, &n);
		CHECK(rc == PDS_ETOOBIG && n == 0 && s.n == 0,
		    "the scan refuses it (%d)", rc);
		seen_free(&s);
		CHECK(sqlite3_exec(db, "DELETE FROM events WHERE seq = 9",
		    NULL, NULL, NULL) == SQLITE_OK, "remove it");
	}

	CHECK(plant(db, 10, "commit", big, sizeof(big), 7) == PDS_OK,
	    "plant an unknown encoding");
	rc = scan(7, &s, &n);
	CHECK(rc == PDS_EUNSUPP && n == 0, "the scan refuses it (%d)", rc);
	seen_free(&s);
	CHECK(sqlite3_exec(db, "DELETE FROM events WHERE seq = 10", NULL, NULL,
	    NULL) == SQLITE_OK, "remove it");
	CHECK(scan(0, &s, &n) == PDS_OK && n == 7, "the log reads again");
	seen_free(&s);

	free(bomb);
	free(zeros);
	free(z);
	sqlite3_close(db);
	t_group_end();
}

/* A database at schema version 2 with rows in it, made with SQL. */
static int
make_v2(const char *path)
{
	sqlite3	*db;
	int	 rc = PDS_OK;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return PDS_EIO;
	}
	if (!t_schema_at(db, 2) ||
	    plant(db, 1, "identity", small, sizeof(small), -1) != PDS_OK ||
	    plant(db, 2, "commit", big, sizeof(big), -1) != PDS_OK ||
	    plant(db, 3, "commit", big2, sizeof(big2), -1) != PDS_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = PDS_EIO;
	sqlite3_close(db);
	return rc;
}

static void
test_upgrade(const char *path)
{
	struct seen	 s;
	sqlite3		*db;
	size_t		 n = 0;
	int64_t		 next = 0;

	t_group("upgrade from schema 2");
	CHECK(make_v2(path) == PDS_OK, "a version 2 database");
	CHECK(store_open(path) == PDS_OK, "store_open upgrades it");
	CHECK(store_schema_version() == store_schema_latest(),
	    "at the latest version (%d)", store_schema_version());
	CHECK(scan(0, &s, &n) == PDS_OK && n == 3 &&
	    same(&s, 0, small, sizeof(small)) && same(&s, 1, big, sizeof(big))
	    && same(&s, 2, big2, sizeof(big2)) && s.bad_meta == 0,
	    "the old rows read back as they were (%zu)", n);
	seen_free(&s);
	CHECK(store_begin() == PDS_OK && store_events_next_seq(&next) ==
	    PDS_OK && store_commit() == PDS_OK && next == 4,
	    "seqs go on after them (%" PRId64 ")", next);
	CHECK(insert(4, "commit", big, sizeof(big)) == PDS_OK, "a new row");
	db = side_open(path);
	CHECK(db != NULL && sql_int(db, "SELECT count(*) FROM events WHERE "
	    "encoding = 0 AND seq <= 3") == 3 && sql_int(db, "SELECT encoding "
	    "FROM events WHERE seq = 4") == STORE_EVENT_ZLIB,
	    "old rows stay as they are, the new one is compressed");
	sqlite3_close(db);
	CHECK(scan(0, &s, &n) == PDS_OK && n == 4 &&
	    same(&s, 3, big, sizeof(big)) && same(&s, 1, big, sizeof(big)),
	    "old and new read back together");
	seen_free(&s);
	t_group_end();
}

/*
 * The repo writer's form: head and tail packed before the seq is known,
 * the "seq" entry put back from the row.  The expected body is spelled
 * out by hand: text "seq" (63 73 65 71), then the seq as a CBOR
 * unsigned (1a + 4 bytes for 100000).
 */
static void
test_packed(const char *path)
{
	static const uint8_t seq_entry[] = { 0x63, 's', 'e', 'q', 0x1a, 0x00,
	    0x01, 0x86, 0xa0 };
	static uint8_t	 head[700], tail[1900], body[sizeof(head) +
			    sizeof(seq_entry) + sizeof(tail)];
	struct seen	 s;
	struct buf	 out;
	sqlite3		*db;
	uint8_t		*bad;
	size_t		 n = 0;

	t_group("packed without the seq");
	commit_like(head, sizeof(head), 7);
	commit_like(tail, sizeof(tail), 8);
	memcpy(body, head, sizeof(head));
	memcpy(body + sizeof(head), seq_entry, sizeof(seq_entry));
	memcpy(body + sizeof(head) + sizeof(seq_entry), tail, sizeof(tail));
	buf_init(&out, STORE_EVENT_BODY_MAX);

	CHECK(store_events_pack(head, sizeof(head), tail, sizeof(tail),
	    &out) == PDS_OK && out.len > 0 && out.len < sizeof(body) * 3 / 4,
	    "packed smaller (%zu of %zu)", out.len, sizeof(body));
	CHECK(store_begin() == PDS_OK && store_events_insert_packed(100000,
	    did, "commit", out.p, out.len, ts) == PDS_OK &&
	    store_commit() == PDS_OK, "insert packed at seq 100000");
	db = side_open(path);
	CHECK(db != NULL && sql_int(db, "SELECT encoding FROM events WHERE "
	    "seq = 100000") == STORE_EVENT_ZLIB_SEQ, "stored as encoding 2");
	CHECK(scan(99999, &s, &n) == PDS_OK && n == 1 &&
	    same(&s, 0, body, sizeof(body)) && s.seq[0] == 100000,
	    "read back as head, seq 100000, tail");
	seen_free(&s);

	/* the same stream under another seq reads back with that seq */
	CHECK(plant(db, 100001, "commit", out.p, out.len,
	    STORE_EVENT_ZLIB_SEQ) == PDS_OK, "plant it again at 100001");
	body[sizeof(head) + 8] = 0xa1;
	CHECK(scan(100000, &s, &n) == PDS_OK && n == 1 &&
	    same(&s, 0, body, sizeof(body)), "read back with seq 100001");
	seen_free(&s);

	/* nothing gained: out stays empty */
	random_bytes(noise, sizeof(noise), 9);
	CHECK(store_events_pack(noise, 600, noise + 600, 600, &out) ==
	    PDS_OK && out.len == 0, "incompressible: not packed");
	CHECK(store_events_pack(head, 10, tail, 10, &out) == PDS_OK &&
	    out.len == 0, "small: not packed");

	/* a head length past the end is refused, and nothing is handed on */
	head[0] = 0x7f;
	if ((bad = malloc(4 + sizeof(tail))) != NULL) {
		uLongf	 cap = compressBound(4 + sizeof(tail));
		uint8_t	*z = malloc(cap);

		memcpy(bad, "\x00\x00\x10\x00", 4);	/* 4096 > what follows */
		memcpy(bad + 4, tail, sizeof(tail));
		CHECK(z != NULL && compress2(z, &cap, bad, 4 + sizeof(tail),
		    6) == Z_OK && plant(db, 100002, "commit", z, cap,
		    STORE_EVENT_ZLIB_SEQ) == PDS_OK, "plant a bad head length");
		CHECK(scan(100001, &s, &n) != PDS_OK && s.n == 0,
		    "bad head length refused");
		seen_free(&s);
		free(z);
		free(bad);
	}
	sqlite3_close(db);
	buf_clear(&out);
	t_group_end();
}

int
main(void)
{
	char	 dir[] = "/tmp/test_events_store.XXXXXX";
	char	 p1[128], p2[128], cmd[160];

	log_init("test_pdsd_events_store", 0, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(p1, sizeof(p1), "%s/pds.sqlite", dir);
	snprintf(p2, sizeof(p2), "%s/old.sqlite", dir);
	if (store_open(p1) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	test_round_trip(p1);
	test_refused(p1);
	test_packed(p1);
	store_close();
	test_upgrade(p2);
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_events_store");
}
