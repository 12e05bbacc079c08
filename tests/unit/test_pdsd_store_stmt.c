/*
 * test_pdsd_store_stmt: the statement layer every store_*.c file uses
 * (pdsd/store_stmt.c).  Each parameter type binds and reads back (text,
 * text or NULL, non-empty text or NULL, integer, blob, CID); a lookup
 * without a row is PDS_ENOTFOUND and a duplicate key PDS_EEXIST; an
 * UPDATE that touches nothing is PDS_ENOTFOUND through
 * store_run_changed(); text, blob and buffer columns refuse what does
 * not fit, and store_col_trunc() cuts it; a walk stops at the
 * callback's value and ends with PDS_OK; store_get() hands the row to
 * its reader and passes on what it says, store_text() and store_texts()
 * read one or two text columns (cut or refused when too long) and
 * store_col_dup() copies a text column (NULL for NULL); and SQL that
 * does not prepare is PDS_EIO.
 *
 * It works on a scratch table in a store opened in a temporary
 * directory.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cid.h"
#include "err.h"
#include "log.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_internal.h"
#include "t.h"

static const char q_ins[] = "INSERT INTO t (k, n, v, b, x) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char q_get[] = "SELECT n, v, b, x, typeof(n), typeof(x) "
    "FROM t WHERE k = ?1";

static void
test_round_trip(void)
{
	sqlite3_stmt	*st;
	uint8_t		 blob[5] = { 0, 1, 2, 0xfe, 0xff }, got[8];
	char		 s[32];
	size_t		 n;
	int		 rc;

	t_group("round trip");
	rc = store_run(q_ins, STORE_ARGS(SB_TEXT("a"), SB_TEXTN("text"),
	    SB_INT(INT64_C(-5000000000)), SB_BLOB(blob, sizeof(blob)),
	    SB_NONEMPTY("x")), "test insert", NULL);
	CHECK(rc == PDS_OK, "insert a: %s", pds_strerror(rc));
	rc = store_row(&st, q_get, STORE_ARGS(SB_TEXT("a")), "test get");
	CHECK(rc == PDS_OK, "get a: %s", pds_strerror(rc));
	if (rc == PDS_OK) {
		CHECK(store_col_text(st, 0, s, sizeof(s)) == PDS_OK &&
		    strcmp(s, "text") == 0, "text back: %s", s);
		CHECK(sqlite3_column_int64(st, 1) == INT64_C(-5000000000),
		    "int64 back");
		CHECK(store_col_blob(st, 2, got, sizeof(got), &n) == PDS_OK &&
		    n == sizeof(blob) && memcmp(got, blob, n) == 0,
		    "blob back (%zu bytes)", n);
		CHECK(store_col_text(st, 3, s, sizeof(s)) == PDS_OK &&
		    strcmp(s, "x") == 0, "non-empty text back: %s", s);
		store_stmt_done(st);
	}

	/* NULL for a NULL text and for "" where empty means none */
	rc = store_run(q_ins, STORE_ARGS(SB_TEXT("b"), SB_TEXTN(NULL),
	    SB_INT(0), SB_NULL, SB_NONEMPTY("")), "test insert", NULL);
	CHECK(rc == PDS_OK, "insert b: %s", pds_strerror(rc));
	rc = store_row(&st, q_get, STORE_ARGS(SB_TEXT("b")), "test get");
	CHECK(rc == PDS_OK, "get b: %s", pds_strerror(rc));
	if (rc == PDS_OK) {
		CHECK(strcmp((const char *)sqlite3_column_text(st, 4),
		    "null") == 0, "SB_TEXTN(NULL) is NULL");
		CHECK(strcmp((const char *)sqlite3_column_text(st, 5),
		    "null") == 0, "SB_NONEMPTY(\"\") is NULL");
		snprintf(s, sizeof(s), "junk");
		CHECK(store_col_text(st, 0, s, sizeof(s)) == PDS_OK &&
		    s[0] == '\0', "a NULL text column reads as \"\"");
		CHECK(store_col_blob(st, 2, got, sizeof(got), &n) == PDS_OK &&
		    n == 0, "a NULL blob column is zero bytes");
		store_stmt_done(st);
	}
	t_group_end();
}

static void
test_codes(void)
{
	sqlite3_stmt	*st = (sqlite3_stmt *)&st;	/* not NULL */
	bool		 yes = true;
	int		 rc, n = -1;

	t_group("codes");
	rc = store_run(q_ins, STORE_ARGS(SB_TEXT("a"), SB_NULL, SB_INT(1),
	    SB_NULL, SB_NULL), "test insert", NULL);
	CHECK(rc == PDS_EEXIST, "duplicate key: %s", pds_strerror(rc));
	rc = store_run(q_ins, STORE_ARGS(SB_NULL, SB_NULL, SB_INT(1),
	    SB_NULL, SB_NULL), "test insert", NULL);
	CHECK(rc == PDS_EEXIST, "NOT NULL violated: %s", pds_strerror(rc));
	rc = store_row(&st, q_get, STORE_ARGS(SB_TEXT("nope")), "test get");
	CHECK(rc == PDS_ENOTFOUND && st == NULL, "no row: %s",
	    pds_strerror(rc));
	CHECK(store_has_row("SELECT 1 FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("nope")), &yes, "test has") == PDS_OK && !yes,
	    "store_has_row without a row");
	CHECK(store_has_row("SELECT 1 FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("a")), &yes, "test has") == PDS_OK && yes,
	    "store_has_row with a row");
	rc = store_run_changed("UPDATE t SET v = 2 WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("nope")), "test update");
	CHECK(rc == PDS_ENOTFOUND, "update of nothing: %s", pds_strerror(rc));
	rc = store_run_changed("UPDATE t SET v = 2 WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("a")), "test update");
	CHECK(rc == PDS_OK, "update of a: %s", pds_strerror(rc));
	rc = store_run("UPDATE t SET v = v + 1", NULL, "test update", &n);
	CHECK(rc == PDS_OK && n == 2, "changes counted: %d", n);
	rc = store_prep(&st, "SELECT nonsense FROM nowhere", NULL);
	CHECK(rc == PDS_EIO && st == NULL, "bad SQL: %s", pds_strerror(rc));
	/* a failed statement left nothing open: a write transaction works */
	CHECK(store_begin() == PDS_OK && store_commit() == PDS_OK,
	    "begin and commit after the errors");
	t_group_end();
}

static void
test_bounds(void)
{
	sqlite3_stmt	*st;
	struct buf	 b;
	uint8_t		 got[4];
	char		 s[5];
	size_t		 n;
	int		 rc;

	t_group("bounds");
	rc = store_run(q_ins, STORE_ARGS(SB_TEXT("long"), SB_TEXT("12345"),
	    SB_INT(1), SB_BLOB("abcdef", 6), SB_TEXT("1234")), "test insert",
	    NULL);
	CHECK(rc == PDS_OK, "insert: %s", pds_strerror(rc));
	rc = store_row(&st, q_get, STORE_ARGS(SB_TEXT("long")), "test get");
	CHECK(rc == PDS_OK, "get: %s", pds_strerror(rc));
	if (rc != PDS_OK) {
		t_group_end();
		return;
	}
	CHECK(store_col_text(st, 0, s, sizeof(s)) == PDS_ETOOBIG &&
	    s[0] == '\0', "5 characters do not fit in 5 bytes");
	CHECK(store_col_text(st, 3, s, sizeof(s)) == PDS_OK &&
	    strcmp(s, "1234") == 0, "4 characters fit: %s", s);
	CHECK(store_col_trunc(st, 0, s, sizeof(s)) == PDS_OK &&
	    strcmp(s, "1234") == 0, "store_col_trunc cuts 5 to 4: %s", s);
	CHECK(store_col_trunc(st, 3, s, sizeof(s)) == PDS_OK &&
	    strcmp(s, "1234") == 0, "store_col_trunc, 4 fit: %s", s);
	memset(got, 0x55, sizeof(got));
	CHECK(store_col_blob(st, 2, got, sizeof(got), &n) == PDS_ETOOBIG &&
	    n == 6 && got[0] == 0x55, "6 bytes do not fit in 4");
	buf_init(&b, 5);
	CHECK(store_col_buf(st, 2, &b) == PDS_ETOOBIG,
	    "6 bytes do not fit a 5-byte buf");
	buf_clear(&b);
	buf_init(&b, 6);
	CHECK(store_col_buf(st, 2, &b) == PDS_OK && b.len == 6 &&
	    memcmp(b.p, "abcdef", 6) == 0, "6 bytes fit a 6-byte buf");
	buf_clear(&b);
	store_stmt_done(st);
	t_group_end();
}

static void
test_cid(void)
{
	sqlite3_stmt	*st;
	struct cid	 c;
	char		 want[CID_STR_MAX], s[CID_STR_MAX];
	int		 rc;

	t_group("cid");
	cid_compute(&c, CID_CODEC_RAW, "hello", 5);
	cid_format(&c, want, sizeof(want));
	rc = store_run(q_ins, STORE_ARGS(SB_TEXT("cid"), SB_CID(&c),
	    SB_INT(0), SB_NULL, SB_NULL), "test insert", NULL);
	CHECK(rc == PDS_OK, "insert: %s", pds_strerror(rc));
	rc = store_row(&st, "SELECT k FROM t WHERE n = ?1",
	    STORE_ARGS(SB_CID(&c)), "test get");
	CHECK(rc == PDS_OK, "found by its CID: %s", pds_strerror(rc));
	if (rc == PDS_OK) {
		CHECK(store_col_text(st, 0, s, sizeof(s)) == PDS_OK &&
		    strcmp(s, "cid") == 0, "the row: %s", s);
		store_stmt_done(st);
	}
	rc = store_row(&st, q_get, STORE_ARGS(SB_TEXT("cid")), "test get");
	if (rc == PDS_OK) {
		CHECK(store_col_text(st, 0, s, sizeof(s)) == PDS_OK &&
		    strcmp(s, want) == 0, "stored as text: %s", s);
		store_stmt_done(st);
	}
	t_group_end();
}

static void
test_walk_ints(void)
{
	sqlite3_stmt	*st;
	int64_t		 v[3], sum = 0, total;
	int		 rc, rows = 0;

	t_group("walk and ints");
	rc = store_ints("SELECT count(*), sum(v), 7 FROM t", NULL, "test ints",
	    v, 3);
	CHECK(rc == PDS_OK && v[0] == 4 && v[2] == 7, "ints: %s %lld %lld",
	    pds_strerror(rc), (long long)v[0], (long long)v[2]);
	total = v[1];
	v[0] = 9;
	rc = store_ints("SELECT v FROM t WHERE k = 'nope'", NULL, "test ints",
	    v, 1);
	CHECK(rc == PDS_OK && v[0] == 0, "no row is zero");

	rc = store_prep(&st, "SELECT v FROM t ORDER BY k", NULL);
	CHECK(rc == PDS_OK, "prep: %s", pds_strerror(rc));
	while (rc == PDS_OK && store_next(st, &rc, "test walk")) {
		rows++;
		sum += sqlite3_column_int64(st, 0);
	}
	store_stmt_done(st);
	CHECK(rc == PDS_OK && rows == 4 && sum == total,
	    "walked %d rows summing to %lld: %s", rows, (long long)sum,
	    pds_strerror(rc));

	rows = 0;
	rc = store_prep(&st, "SELECT v FROM t ORDER BY k", NULL);
	while (rc == PDS_OK && store_next(st, &rc, "test walk"))
		if (++rows == 2)
			rc = 42;	/* a callback's stop */
	store_stmt_done(st);
	CHECK(rc == 42 && rows == 2, "stopped at 2 with 42: %d", rc);
	t_group_end();
}

/* A store_get() reader: column 0 into *out; an error when *out is -1. */
static int
read_v(sqlite3_stmt *st, void *out)
{
	int64_t	*v = out;

	if (*v == -1)
		return PDS_EINTERNAL;
	*v = sqlite3_column_int64(st, 0);
	return PDS_OK;
}

static void
test_get_text(void)
{
	sqlite3_stmt	*st;
	int64_t		 v = 0;
	char		 a[8], b[8], *d = (char *)&d;
	int		 rc;

	t_group("get and text");
	rc = store_get("SELECT v FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("long")), "test get", read_v, &v);
	CHECK(rc == PDS_OK && v == 1, "store_get: %s %lld", pds_strerror(rc),
	    (long long)v);
	v = -1;
	rc = store_get("SELECT v FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("long")), "test get", read_v, &v);
	CHECK(rc == PDS_EINTERNAL, "the reader's error: %s",
	    pds_strerror(rc));
	rc = store_get("SELECT v FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("nope")), "test get", read_v, &v);
	CHECK(rc == PDS_ENOTFOUND && v == -1, "no row, no read: %s",
	    pds_strerror(rc));

	rc = store_text("SELECT x FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("long")), "test text", a, sizeof(a));
	CHECK(rc == PDS_OK && strcmp(a, "1234") == 0, "store_text: %s %s",
	    pds_strerror(rc), a);
	rc = store_text("SELECT x FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("long")), "test text", a, 4);
	CHECK(rc == PDS_ETOOBIG, "store_text too long: %s", pds_strerror(rc));
	rc = store_text("SELECT x FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("nope")), "test text", a, sizeof(a));
	CHECK(rc == PDS_ENOTFOUND, "store_text without a row: %s",
	    pds_strerror(rc));
	rc = store_texts("SELECT x, n FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("long")), "test texts", store_col_text, a,
	    sizeof(a), b, sizeof(b));
	CHECK(rc == PDS_OK && strcmp(a, "1234") == 0 &&
	    strcmp(b, "12345") == 0, "store_texts: %s %s %s",
	    pds_strerror(rc), a, b);
	rc = store_texts("SELECT x, n FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("long")), "test texts", store_col_text, a,
	    sizeof(a), b, 5);
	CHECK(rc == PDS_ETOOBIG, "store_texts, second too long: %s",
	    pds_strerror(rc));
	rc = store_texts("SELECT x, n FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("long")), "test texts", store_col_trunc, a,
	    sizeof(a), b, 5);
	CHECK(rc == PDS_OK && strcmp(b, "1234") == 0,
	    "store_texts, second cut: %s %s", pds_strerror(rc), b);

	rc = store_row(&st, "SELECT x, n FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("b")), "test dup");
	CHECK(rc == PDS_OK, "get b: %s", pds_strerror(rc));
	if (rc == PDS_OK) {
		CHECK(store_col_dup(st, 0, &d) == PDS_OK && d == NULL,
		    "store_col_dup of NULL");
		store_stmt_done(st);
	}
	rc = store_row(&st, "SELECT x, n FROM t WHERE k = ?1",
	    STORE_ARGS(SB_TEXT("long")), "test dup");
	if (rc == PDS_OK) {
		CHECK(store_col_dup(st, 1, &d) == PDS_OK && d != NULL &&
		    strcmp(d, "12345") == 0, "store_col_dup: %s",
		    d != NULL ? d : "(null)");
		free(d);
		store_stmt_done(st);
	}
	t_group_end();
}

int
main(void)
{
	char	 dir[] = "/tmp/test_store_stmt.XXXXXX";
	char	 path[128], cmd[160];

	log_init("test_pdsd_store_stmt", 0, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);
	if (store_open(path) != PDS_OK || store_exec("CREATE TABLE t ("
	    "k TEXT PRIMARY KEY NOT NULL, n TEXT, v INTEGER NOT NULL, b BLOB, "
	    "x TEXT)") != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	test_round_trip();
	test_codes();
	test_bounds();
	test_cid();
	test_walk_ints();
	test_get_text();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_store_stmt");
}
