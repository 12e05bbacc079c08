/*
 * test_pdsd_import_ref: the conversion of a reference PDS data directory
 * (pdsd/import_ref.c, pdsd/store_import_ref.c) on small directories
 * built here with the reference's table layout (its kysely migrations):
 * one that converts, and damaged ones that must each fail with a clear
 * message and leave nothing behind.  The round trip with a directory
 * the reference itself wrote is tests/interop/test_import_ref.mjs.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "buf.h"
#include "cbor.h"
#include "cid.h"
#include "commit.h"
#include "err.h"
#include "keys.h"
#include "log.h"
#include "../../pdsd/import_ref.h"
#include "t.h"

static const char did[] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
static const char did2[] = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb";
static const char rev[] = "3l6ov4ojmls2a";
static const char ts[] = "2026-01-02T03:04:05.678Z";
static const char pwhash[] = "a65a4c7963d4e20cfc01f893a97944ed:"
    "21d36b164bbde414273ab703bcf6c40bd851131c5e4e01533a9d13ff7982409b"
    "576f250f306b6ae84a417dbae3560c28e2a9cedd0f95b050b59ae064eb34cb75";

enum damage {
	D_NONE, D_NO_HEAD, D_SHORT_KEY, D_BAD_EVENT, D_NEWER_ACTOR,
	D_NO_BLOB, D_BAD_PREF, D_WRONG_DID_HEAD
};

static char	 base[256];

static void
sql(sqlite3 *db, const char *s)
{
	char	*e = NULL;

	if (sqlite3_exec(db, s, NULL, NULL, &e) != SQLITE_OK) {
		fprintf(stderr, "sql: %s: %s\n", s, e);
		exit(2);
	}
}

static sqlite3 *
db_new(const char *path, const char *version)
{
	sqlite3		*db;
	char		 q[256];

	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(2);
	sql(db, "CREATE TABLE kysely_migration (name varchar primary key, "
	    "timestamp varchar not null)");
	snprintf(q, sizeof(q), "INSERT INTO kysely_migration VALUES "
	    "('%s', 'x')", version);
	sql(db, q);
	return db;
}

static void
bind_exec(sqlite3 *db, const char *q, const void *blob, int n)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		exit(2);
	sqlite3_bind_blob(st, 1, blob, n, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		exit(2);
	sqlite3_finalize(st);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE	*f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		exit(2);
}

static void
mkdirs(const char *path)
{
	char	 cmd[600];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	if (system(cmd) != 0)
		exit(2);
}

/* The reference directory src with one kind of damage. */
static void
make_ref(const char *src, enum damage dmg)
{
	struct pds_key	*k;
	struct buf	 b;
	struct cid	 data, head, bc;
	uint8_t		 priv[32], d[32];
	char		 p[512], hex[65], q[1024], hs[CID_STR_MAX], bs[CID_STR_MAX];
	const char	 blob[] = "the bytes of a blob";
	sqlite3		*db;

	mkdirs(src);
	snprintf(p, sizeof(p), "%s/account.sqlite", src);
	db = db_new(p, "007");
	sql(db, "CREATE TABLE actor (did varchar primary key, handle varchar, "
	    "createdAt varchar not null, takedownRef varchar, deactivatedAt "
	    "varchar, deleteAfter varchar)");
	sql(db, "CREATE TABLE account (did varchar primary key, email varchar "
	    "not null, passwordScrypt varchar not null, emailConfirmedAt "
	    "varchar, invitesDisabled int2 not null default 0)");
	sql(db, "CREATE TABLE app_password (did varchar, name varchar, "
	    "passwordScrypt varchar, createdAt varchar, privileged integer "
	    "not null default 0)");
	sql(db, "CREATE TABLE invite_code (code varchar primary key, "
	    "availableUses integer, disabled int2 default 0, forAccount "
	    "varchar, createdBy varchar, createdAt varchar)");
	sql(db, "CREATE TABLE invite_code_use (code varchar, usedBy varchar, "
	    "usedAt varchar)");
	sql(db, "CREATE TABLE email_token (purpose varchar, did varchar, "
	    "token varchar, requestedAt varchar)");
	snprintf(q, sizeof(q), "INSERT INTO actor VALUES ('%s', 'Alice.Test', "
	    "'%s', NULL, '%s', NULL)", did, ts, ts);
	sql(db, q);
	snprintf(q, sizeof(q), "INSERT INTO account VALUES ('%s', "
	    "'Alice@Example.com', '%s', NULL, 0)", did, pwhash);
	sql(db, q);
	/* an app password of an account that is gone: left out */
	snprintf(q, sizeof(q), "INSERT INTO app_password VALUES ('%s', 'a', "
	    "'%s', '%s', 0), ('%s', 'b', '%s', '%s', 1)", did, pwhash, ts,
	    did2, pwhash, ts);
	sql(db, q);
	snprintf(q, sizeof(q), "INSERT INTO invite_code VALUES ('code-1', 2, "
	    "0, 'admin', 'admin', '%s'); INSERT INTO invite_code_use VALUES "
	    "('code-1', '%s', '%s'), ('gone', '%s', '%s')", ts, did, ts, did,
	    ts);
	sql(db, q);
	sqlite3_close(db);

	/* the actor store */
	sha256(d, did, strlen(did));
	sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
	snprintf(p, sizeof(p), "%s/actors/%.2s/%s", src, hex, did);
	mkdirs(p);
	if (key_generate(&k, KEY_K256) != PDS_OK ||
	    key_export_private(k, priv) != PDS_OK)
		exit(2);
	snprintf(p, sizeof(p), "%s/actors/%.2s/%s/key", src, hex, did);
	write_file(p, priv, dmg == D_SHORT_KEY ? 31 : 32);
	buf_init(&b, 0);
	cid_compute(&data, CID_CODEC_DAGCBOR, "\xa0", 1);
	if (commit_make(dmg == D_WRONG_DID_HEAD ? did2 : did, rev, &data, k,
	    &b, &head) != PDS_OK)
		exit(2);
	key_free(k);
	cid_format(&head, hs, sizeof(hs));
	cid_compute(&bc, CID_CODEC_RAW, blob, strlen(blob));
	cid_format(&bc, bs, sizeof(bs));
	snprintf(p, sizeof(p), "%s/actors/%.2s/%s/store.sqlite", src, hex,
	    did);
	db = db_new(p, dmg == D_NEWER_ACTOR ? "002" : "001");
	sql(db, "CREATE TABLE repo_root (did varchar primary key, cid varchar, "
	    "rev varchar, indexedAt varchar)");
	sql(db, "CREATE TABLE repo_block (cid varchar primary key, repoRev "
	    "varchar, size integer, content blob)");
	sql(db, "CREATE TABLE record (uri varchar primary key, cid varchar, "
	    "collection varchar, rkey varchar, repoRev varchar, indexedAt "
	    "varchar, takedownRef varchar)");
	sql(db, "CREATE TABLE blob (cid varchar primary key, mimeType varchar, "
	    "size integer, tempKey varchar, width integer, height integer, "
	    "createdAt varchar, takedownRef varchar)");
	sql(db, "CREATE TABLE record_blob (blobCid varchar, recordUri "
	    "varchar)");
	sql(db, "CREATE TABLE backlink (uri varchar, path varchar, linkTo "
	    "varchar)");
	sql(db, "CREATE TABLE account_pref (id integer primary key "
	    "autoincrement, name varchar, valueJson text)");
	snprintf(q, sizeof(q), "INSERT INTO repo_root VALUES ('%s', '%s', "
	    "'%s', '%s')", did, hs, rev, ts);
	sql(db, q);
	if (dmg != D_NO_HEAD) {
		snprintf(q, sizeof(q), "INSERT INTO repo_block VALUES ('%s', "
		    "'%s', %zu, ?1)", hs, rev, b.len);
		bind_exec(db, q, b.p, (int)b.len);
	}
	snprintf(q, sizeof(q), "INSERT INTO blob VALUES ('%s', 'text/plain', "
	    "%zu, NULL, NULL, NULL, '%s', NULL), ('bafkreitemp', 'image/png', "
	    "3, 'tmpkey', NULL, NULL, '%s', NULL)", bs, strlen(blob), ts, ts);
	sql(db, q);
	snprintf(q, sizeof(q), "INSERT INTO account_pref (name, valueJson) "
	    "VALUES ('app.bsky.actor.defs#adultContentPref', '{\"$type\":"
	    "\"app.bsky.actor.defs#%s\",\"enabled\":true}')",
	    dmg == D_BAD_PREF ? "other" : "adultContentPref");
	sql(db, q);
	sqlite3_close(db);
	buf_clear(&b);

	if (dmg != D_NO_BLOB) {
		snprintf(p, sizeof(p), "%s/blocks/%s", src, did);
		mkdirs(p);
		snprintf(p, sizeof(p), "%s/blocks/%s/%s", src, did, bs);
		write_file(p, blob, strlen(blob));
	}

	/* the sequencer: seqs 5, 6 (a retired type), 7; the counter at 9 */
	snprintf(p, sizeof(p), "%s/sequencer.sqlite", src);
	db = db_new(p, "001");
	sql(db, "CREATE TABLE repo_seq (seq integer primary key "
	    "autoincrement, did varchar, eventType varchar, event blob, "
	    "invalidated int2 default 0, sequencedAt varchar)");
	buf_init(&b, 0);
	cbor_put_map(&b, 2);
	cbor_put_str(&b, "did");
	cbor_put_str(&b, did);
	cbor_put_str(&b, "active");
	cbor_put_bool(&b, true);
	snprintf(q, sizeof(q), "INSERT INTO repo_seq VALUES (5, '%s', "
	    "'account', ?1, 0, '%s')", did, ts);
	bind_exec(db, q, b.p, (int)b.len);
	snprintf(q, sizeof(q), "INSERT INTO repo_seq VALUES (6, '%s', "
	    "'handle', ?1, 0, '%s')", did, ts);
	bind_exec(db, q, b.p, (int)b.len);
	snprintf(q, sizeof(q), "INSERT INTO repo_seq VALUES (7, '%s', "
	    "'identity', ?1, 0, '%s')", did, ts);
	bind_exec(db, q, dmg == D_BAD_EVENT ? (const void *)"\x80" : b.p,
	    dmg == D_BAD_EVENT ? 1 : (int)b.len);
	sql(db, "UPDATE sqlite_sequence SET seq = 9 WHERE name = 'repo_seq'");
	sqlite3_close(db);
	buf_clear(&b);
}

static int
run(const char *src, const char *dest)
{
	char	*av[] = { "import-reference", "--quiet", "--json",
	    (char *)src, (char *)dest, NULL };

	fflush(stdout);
	return import_ref_main(5, av);
}

/* Nothing named dest or dest.partial-* beside it. */
static bool
nothing_left(const char *dest)
{
	const char	*name = strrchr(dest, '/') + 1;
	DIR		*d = opendir(base);
	struct dirent	*de;
	bool		 ok = true;

	while (d != NULL && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, name, strlen(name)) == 0)
			ok = false;
	if (d != NULL)
		closedir(d);
	return ok;
}

static int64_t
one_int(sqlite3 *db, const char *q)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
test_good(void)
{
	char		 src[300], dest[300], p[400];
	struct stat	 sb;
	sqlite3		*db;

	t_group("a directory that converts");
	snprintf(src, sizeof(src), "%s/good", base);
	snprintf(dest, sizeof(dest), "%s/out-good", base);
	make_ref(src, D_NONE);
	CHECK(run(src, dest) == 0, "converts");
	snprintf(p, sizeof(p), "%s/pds.sqlite", dest);
	CHECK(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK, "the new store opens");
	CHECK(one_int(db, "SELECT count(*) FROM accounts WHERE handle = "
	    "'alice.test' AND email = 'alice@example.com' AND status = "
	    "'deactivated' AND length(signing_key) = 32 AND password_hash "
	    "LIKE 'a65a4c79%'") == 1, "the account, lower-cased, "
	    "deactivated");
	CHECK(one_int(db, "SELECT count(*) FROM app_passwords") == 1,
	    "the orphan app password left out");
	CHECK(one_int(db, "SELECT count(*) FROM invite_code_uses") == 1,
	    "the orphan invite use left out");
	CHECK(one_int(db, "SELECT count(*) FROM blobs") == 1,
	    "the temporary blob left out");
	CHECK(one_int(db, "SELECT count(*) FROM preferences") == 1,
	    "the preference");
	CHECK(one_int(db, "SELECT count(*) FROM events WHERE seq IN (5, 7)") ==
	    2, "events 5 and 7, with their seqs");
	CHECK(one_int(db, "SELECT count(*) FROM events WHERE seq = 6") == 0,
	    "the retired type left out");
	CHECK(one_int(db, "SELECT seq FROM sqlite_sequence WHERE name = "
	    "'events'") == 9, "the next seq follows the reference's counter");
	CHECK(one_int(db, "SELECT count(*) FROM audit_log WHERE action = "
	    "'import_reference'") == 1, "an audit entry");
	sqlite3_close(db);
	snprintf(p, sizeof(p), "%s/blocks/%s", dest, did);
	CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode), "the blob directory");
	CHECK(run(src, dest) == 1, "a second run refuses the full target");
	t_group_end();
}

/* --actors: the reference's PDS_ACTOR_STORE_DIRECTORY elsewhere. */
static void
test_actors_elsewhere(void)
{
	char	 src[300], dest[300], moved[300], from[400];
	char	*av[] = { "import-reference", "--quiet", "--actors", moved,
	    src, dest, NULL };

	t_group("actor stores elsewhere");
	snprintf(src, sizeof(src), "%s/moved", base);
	snprintf(dest, sizeof(dest), "%s/out-moved", base);
	snprintf(moved, sizeof(moved), "%s/actor-stores", base);
	make_ref(src, D_NONE);
	snprintf(from, sizeof(from), "%s/actors", src);
	CHECK(rename(from, moved) == 0, "moved");
	CHECK(run(src, dest) == 1 && nothing_left(dest),
	    "not found without --actors");
	fflush(stdout);
	CHECK(import_ref_main(6, av) == 0, "found with --actors");
	t_group_end();
}

static void
test_damaged(void)
{
	static const struct {
		enum damage	 d;
		const char	*name;
	} cases[] = {
		{ D_NO_HEAD, "the head commit block missing" },
		{ D_SHORT_KEY, "a key file of 31 bytes" },
		{ D_BAD_EVENT, "an event body that is not CBOR" },
		{ D_NEWER_ACTOR, "an actor store newer than known" },
		{ D_NO_BLOB, "a blob file missing" },
		{ D_BAD_PREF, "a preference of another $type" },
		{ D_WRONG_DID_HEAD, "a head commit of another DID" },
	};
	char	 src[300], dest[300];
	size_t	 i;

	t_group("damaged directories");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(src, sizeof(src), "%s/bad%zu", base, i);
		snprintf(dest, sizeof(dest), "%s/out-bad%zu", base, i);
		make_ref(src, cases[i].d);
		CHECK(run(src, dest) == 1, "%s: refused", cases[i].name);
		CHECK(nothing_left(dest), "%s: nothing left", cases[i].name);
	}
	t_group_end();
}

int
main(void)
{
	char	 cmd[300];

	log_init("test_pdsd_import_ref", 0, 0);
	if (sodium_init() < 0)
		return 1;
	snprintf(base, sizeof(base), "/tmp/pds-import-ref-XXXXXX");
	if (mkdtemp(base) == NULL)
		return 1;
	test_good();
	test_actors_elsewhere();
	test_damaged();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", base);
	return t_done("test_pdsd_import_ref");
}
