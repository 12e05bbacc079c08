/*
 * test_pdsd_store_migration: email tokens, account migrations and
 * importRepo's writes (pdsd/store_migration.c).  A token is found by
 * its account and by its value, replaced by the next one for the same
 * purpose, and pruned by age; an unknown purpose is refused
 * (PDS_EEXIST: a CHECK constraint); a migration row reads back with the
 * live counts, and a change of direction starts it over; the import
 * clears and refills a repository, and the blobs its records name but
 * the store lacks are listed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cid.h"
#include "err.h"
#include "log.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/store_migration.h"
#include "../../pdsd/store_repo.h"
#include "t.h"

static const char did[] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
static const char ts[] = "2024-01-02T03:04:05.678Z";
static const char uri[] = "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/"
    "app.bsky.feed.post/p1";

static void
test_tokens(void)
{
	char	 tok[SM_TOKEN_MAX], at[STORE_TS_LEN], d[SA_DID_MAX + 1];
	int64_t	 n = -1;
	int	 rc;

	t_group("email tokens");
	rc = store_email_token_put("confirm_email", did, "tok-1", ts);
	CHECK(rc == PDS_OK, "put: %s", pds_strerror(rc));
	CHECK(store_email_token_get("confirm_email", did, tok, at) ==
	    PDS_OK && strcmp(tok, "tok-1") == 0 && strcmp(at, ts) == 0,
	    "get: %s %s", tok, at);
	CHECK(store_email_token_put("confirm_email", did, "tok-2",
	    "2024-02-01T00:00:00.000Z") == PDS_OK &&
	    store_email_token_get("confirm_email", did, tok, at) == PDS_OK &&
	    strcmp(tok, "tok-2") == 0, "replaced: %s", tok);
	CHECK(store_email_token_find("confirm_email", "tok-2", d, at) ==
	    PDS_OK && strcmp(d, did) == 0, "found by value");
	CHECK(store_email_token_find("confirm_email", "tok-1", d, at) ==
	    PDS_ENOTFOUND, "the old value is gone");
	CHECK(store_email_token_get("reset_password", did, tok, at) ==
	    PDS_ENOTFOUND, "another purpose");
	CHECK(store_email_token_put("nonsense", did, "x", ts) == PDS_EEXIST,
	    "an unknown purpose");
	CHECK(store_email_token_put("reset_password", did, "tok-3", ts) ==
	    PDS_OK && store_email_token_prune("2024-01-15T00:00:00.000Z",
	    &n) == PDS_OK && n == 1, "pruned %lld", (long long)n);
	CHECK(store_email_token_get("reset_password", did, tok, at) ==
	    PDS_ENOTFOUND && store_email_token_get("confirm_email", did,
	    tok, at) == PDS_OK, "the old one went, the new one stayed");
	CHECK(store_email_token_delete("confirm_email", did) == PDS_OK &&
	    store_email_token_get("confirm_email", did, tok, at) ==
	    PDS_ENOTFOUND, "delete");
	CHECK(store_account_email_confirmed(did, ts) == PDS_OK,
	    "email confirmed");
	CHECK(store_account_email_confirmed("did:plc:nobody", ts) ==
	    PDS_ENOTFOUND, "email confirmed for nobody");
	CHECK(store_account_mark_deactivated("did:plc:nobody", ts, NULL) ==
	    PDS_ENOTFOUND, "deactivate nobody");
	t_group_end();
}

static int
mig_cb(void *arg, const struct store_mig *m)
{
	(*(int *)arg)++;
	return 0;
}

static int
missing_cb(void *arg, const char *cid, const char *record_uri)
{
	char	*out = arg;

	snprintf(out, 256, "%s %s", cid, record_uri);
	return 0;
}

static void
test_migration(void)
{
	static const uint8_t block[] = { 0xa0 };
	struct store_mig m;
	struct store_repo_counts c;
	struct cid	 b1, b2;
	char		 s1[CID_STR_MAX], s2[CID_STR_MAX], got[256], want[256];
	int		 n = 0, rc;

	t_group("migration");
	rc = store_mig_put(did, "in", "started", "https://old.example", ts);
	CHECK(rc == PDS_OK, "put: %s", pds_strerror(rc));
	CHECK(store_mig_put(did, "sideways", "started", NULL, ts) ==
	    PDS_EEXIST, "an unknown direction");
	CHECK(store_mig_set_import(did, 2, 3, "bafy-commit", "rev9", ts) ==
	    PDS_OK, "set import");
	rc = store_mig_get(did, &m);
	CHECK(rc == PDS_OK && strcmp(m.direction, "in") == 0 &&
	    strcmp(m.state, "imported") == 0 && m.records_expected == 2 &&
	    m.blocks_imported == 3 && strcmp(m.source_rev, "rev9") == 0 &&
	    strcmp(m.peer, "https://old.example") == 0 &&
	    strcmp(m.handle, "a.test") == 0, "get: %s %s", pds_strerror(rc),
	    m.state);
	CHECK(store_mig_put(did, "out", "started", NULL, ts) == PDS_OK &&
	    store_mig_get(did, &m) == PDS_OK && m.records_expected == -1 &&
	    m.peer[0] == '\0' && m.source_commit[0] == '\0',
	    "a new direction starts over");
	CHECK(store_mig_list(mig_cb, &n) == PDS_OK && n == 1, "list: %d", n);
	CHECK(store_mig_get("did:plc:nobody", &m) == PDS_ENOTFOUND,
	    "get nobody");

	/* import: two records naming two blobs, one of them stored */
	cid_compute(&b1, CID_CODEC_RAW, "one", 3);
	cid_compute(&b2, CID_CODEC_RAW, "two", 3);
	cid_format(&b1, s1, sizeof(s1));
	cid_format(&b2, s2, sizeof(s2));
	CHECK(store_import_clear(did) == PDS_OK, "clear");
	CHECK(store_import_block(did, "bafy-block", "rev9", block,
	    sizeof(block)) == PDS_OK &&
	    store_import_block(did, "bafy-block", "rev9", block,
	    sizeof(block)) == PDS_OK, "a block, twice");
	CHECK(store_import_record(did, "app.bsky.feed.post", "p1",
	    "bafy-block", "rev9", ts) == PDS_OK, "a record");
	CHECK(store_import_record(did, "app.bsky.feed.post", "p1",
	    "bafy-block", "rev9", ts) == PDS_EEXIST, "the record again");
	CHECK(store_import_record_blob(did, s1, uri) == PDS_OK &&
	    store_import_record_blob(did, s2, uri) == PDS_OK, "blob refs");
	CHECK(store_blob_uploaded(did, &b1, "image/png", 3, "tmp-key", ts) ==
	    PDS_OK, "blob one uploaded");
	CHECK(store_import_set_root(did, "bafy-commit", "rev9", ts) ==
	    PDS_OK, "root");
	CHECK(store_import_keep_blobs(did) == PDS_OK, "keep blobs");
	rc = store_repo_counts(did, &c);
	CHECK(rc == PDS_OK && c.repo_blocks == 1 && c.records == 1 &&
	    c.blobs_expected == 2 && c.blobs_imported == 1,
	    "counts %lld %lld %lld %lld", (long long)c.repo_blocks,
	    (long long)c.records, (long long)c.blobs_expected,
	    (long long)c.blobs_imported);
	got[0] = '\0';
	rc = store_missing_blobs(did, NULL, 10, missing_cb, got);
	snprintf(want, sizeof(want), "%s %s", s2, uri);
	CHECK(rc == PDS_OK && strcmp(got, want) == 0, "missing: %s", got);
	CHECK(store_import_clear(did) == PDS_OK &&
	    store_repo_counts(did, &c) == PDS_OK && c.records == 0 &&
	    c.repo_blocks == 0 && c.blobs_expected == 0, "cleared");
	CHECK(store_mig_delete(did) == PDS_OK &&
	    store_mig_get(did, &m) == PDS_OK && m.direction[0] == '\0',
	    "migration row deleted");
	t_group_end();
}

int
main(void)
{
	static const uint8_t key[32];
	char	 dir[] = "/tmp/test_store_migration.XXXXXX";
	char	 path[128], cmd[160];

	log_init("test_pdsd_store_migration", 0, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);
	if (store_open(path) != PDS_OK ||
	    store_account_insert(did, "a.test", NULL, NULL, key, ts) !=
	    PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	test_tokens();
	test_migration();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_store_migration");
}
