/*
 * test_pdsd_store_account: accounts, refresh tokens, app passwords and
 * invite codes as pdsd/store_account.c stores them.  Rows round-trip;
 * handles and emails match case-insensitively; a second account with
 * the same DID or handle is PDS_EEXIST; changing a missing account is
 * PDS_ENOTFOUND; a refresh token rotates once, to one successor, and
 * only the unrotated ones are listed as sessions; an
 * invite code with one use refuses a second; a text that does not fit
 * the caller's buffer is PDS_ETOOBIG.  Every account status names
 * itself and parses back; any other name is refused.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "t.h"

static const char did1[] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
static const char did2[] = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb";
static const char ts[] = "2024-01-02T03:04:05.678Z";
static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

static int
count_cb(void *arg, const struct store_app_password *ap)
{
	int	*n = arg;

	(*n)++;
	return strcmp(ap->name, "stop") == 0 ? 7 : 0;
}

static int
refresh_cb(void *arg, const struct store_refresh *r)
{
	char	*ids = arg;
	size_t	 n = strlen(ids);

	snprintf(ids + n, 64 - n, "%s%s", n ? "," : "", r->id);
	return 0;
}

static int
use_cb(void *arg, const struct store_invite_use *u)
{
	if (strcmp(u->used_by, did2) == 0 && strcmp(u->used_at, ts) == 0)
		*(int *)arg = 1;
	return 0;
}

static int
invite_cb(void *arg, const struct store_invite *inv)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_status(void)
{
	static const struct {
		enum acct_status	 s;
		const char		*name;
	} v[] = {
		{ ACCT_ACTIVE, "active" },
		{ ACCT_DEACTIVATED, "deactivated" },
		{ ACCT_TAKENDOWN, "takendown" },
		{ ACCT_DELETED, "deleted" },
	};
	static const char *const bad[] = {
		"", "Active", "takedown", "suspended", "active ", "bogus",
	};
	enum acct_status s;
	size_t		 i;

	t_group("status");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK(strcmp(acct_status_name(v[i].s), v[i].name) == 0,
		    "name of %d: %s", (int)v[i].s, acct_status_name(v[i].s));
		s = v[i].s == ACCT_ACTIVE ? ACCT_DELETED : ACCT_ACTIVE;
		CHECK(acct_status_parse(v[i].name, &s) == PDS_OK &&
		    s == v[i].s, "round trip of %s", v[i].name);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = ACCT_TAKENDOWN;
		CHECK(acct_status_parse(bad[i], &s) == PDS_EINVAL &&
		    s == ACCT_TAKENDOWN, "refused: \"%s\"", bad[i]);
	}
	t_group_end();
}

static void
test_accounts(void)
{
	struct store_account a;
	uint8_t		 k[32];
	char		 h[SA_HASH_MAX], small[4];
	bool		 taken;
	int		 rc;

	t_group("accounts");
	rc = store_account_insert(did1, "alice.test", "Alice@Example.com",
	    "$argon2id$hash", key, ts);
	CHECK(rc == PDS_OK, "insert: %s", pds_strerror(rc));
	rc = store_account_insert(did1, "other.test", NULL, NULL, key, ts);
	CHECK(rc == PDS_EEXIST, "same DID: %s", pds_strerror(rc));
	rc = store_account_insert(did2, "ALICE.test", NULL, NULL, key, ts);
	CHECK(rc == PDS_EEXIST, "same handle: %s", pds_strerror(rc));
	rc = store_account_insert(did2, "", "", "", key, ts);
	CHECK(rc == PDS_OK, "insert without handle: %s", pds_strerror(rc));

	rc = store_account_get(SA_BY_HANDLE, "Alice.TEST", &a);
	CHECK(rc == PDS_OK && strcmp(a.did, did1) == 0 &&
	    strcmp(a.handle, "alice.test") == 0 &&
	    a.status == ACCT_ACTIVE && strcmp(a.created_at, ts) == 0,
	    "by handle: %s %s", pds_strerror(rc), a.did);
	rc = store_account_get(SA_BY_EMAIL, "alice@example.com", &a);
	CHECK(rc == PDS_OK && strcmp(a.did, did1) == 0, "by email: %s",
	    pds_strerror(rc));
	rc = store_account_get(SA_BY_DID, did2, &a);
	CHECK(rc == PDS_OK && a.handle[0] == '\0' && a.email[0] == '\0',
	    "empty handle and email are NULL: %s", pds_strerror(rc));
	rc = store_account_get(SA_BY_DID, "did:plc:nobody", &a);
	CHECK(rc == PDS_ENOTFOUND, "missing: %s", pds_strerror(rc));

	CHECK(store_account_handle_taken("alice.test", NULL, &taken) ==
	    PDS_OK && taken, "handle taken");
	CHECK(store_account_handle_taken("alice.test", did1, &taken) ==
	    PDS_OK && !taken, "handle taken except by its own account");
	CHECK(store_account_email_taken("ALICE@example.com", &taken) ==
	    PDS_OK && taken, "email taken");
	CHECK(store_account_email_taken("bob@example.com", &taken) ==
	    PDS_OK && !taken, "email free");

	CHECK(store_account_password_hash(did1, h, sizeof(h)) == PDS_OK &&
	    strcmp(h, "$argon2id$hash") == 0, "password hash: %s", h);
	CHECK(store_account_password_hash(did1, small, sizeof(small)) ==
	    PDS_ETOOBIG, "password hash too long for the buffer");
	CHECK(store_account_password_hash("did:plc:nobody", h, sizeof(h)) ==
	    PDS_ENOTFOUND, "password hash of nobody");
	CHECK(store_account_signing_key(did1, k) == PDS_OK &&
	    memcmp(k, key, 32) == 0, "signing key");

	CHECK(store_account_set_handle(did1, "alice2.test") == PDS_OK &&
	    store_account_get(SA_BY_DID, did1, &a) == PDS_OK &&
	    strcmp(a.handle, "alice2.test") == 0, "set handle");
	CHECK(store_account_set_handle(did2, "alice2.test") == PDS_EEXIST,
	    "set a taken handle");
	CHECK(store_account_set_handle("did:plc:nobody", "x.test") ==
	    PDS_ENOTFOUND, "set handle of nobody");
	CHECK(store_account_set_password(did1, "$new") == PDS_OK &&
	    store_account_password_hash(did1, h, sizeof(h)) == PDS_OK &&
	    strcmp(h, "$new") == 0, "set password");
	CHECK(store_account_set_status(did1, ACCT_TAKENDOWN, "ref-1") ==
	    PDS_OK && store_account_get(SA_BY_DID, did1, &a) == PDS_OK &&
	    a.status == ACCT_TAKENDOWN &&
	    strcmp(a.takedown_ref, "ref-1") == 0, "takedown");
	CHECK(store_account_set_status(did1, ACCT_ACTIVE, NULL) == PDS_OK &&
	    store_account_get(SA_BY_DID, did1, &a) == PDS_OK &&
	    a.status == ACCT_ACTIVE && a.takedown_ref[0] == '\0',
	    "reactivate clears the reference");
	CHECK(store_account_set_status(did1, ACCT_DELETED, NULL) ==
	    PDS_EINVAL, "deleted is not a status to set");
	CHECK(store_account_set_invites_disabled(did1, true) == PDS_OK &&
	    store_account_get(SA_BY_DID, did1, &a) == PDS_OK &&
	    a.invites_disabled, "invites disabled");
	t_group_end();
}

static void
test_refresh(void)
{
	struct store_refresh r;
	char		 ids[64];
	int		 rc;

	t_group("refresh tokens");
	CHECK(store_refresh_insert("t1", did1, "2030-01-01T00:00:00.000Z",
	    "app") == PDS_OK, "insert");
	rc = store_refresh_get("t1", &r);
	CHECK(rc == PDS_OK && strcmp(r.did, did1) == 0 &&
	    strcmp(r.app_password_name, "app") == 0 && r.next_id[0] == '\0',
	    "get: %s", pds_strerror(rc));
	CHECK(store_refresh_rotate("t1", "t2", "2029-01-01T00:00:00.000Z") ==
	    PDS_OK, "rotate");
	CHECK(store_refresh_rotate("t1", "t2", "2029-01-01T00:00:00.000Z") ==
	    PDS_OK, "the same rotation again");
	CHECK(store_refresh_rotate("t1", "t3", "2029-01-01T00:00:00.000Z") ==
	    PDS_EMISMATCH, "a second successor");
	CHECK(store_refresh_get("t1", &r) == PDS_OK &&
	    strcmp(r.next_id, "t2") == 0 &&
	    strcmp(r.expires_at, "2029-01-01T00:00:00.000Z") == 0,
	    "rotated: %s %s", r.next_id, r.expires_at);
	CHECK(store_refresh_insert("t2", did1, "2030-01-01T00:00:00.000Z",
	    NULL) == PDS_OK, "insert the successor");
	ids[0] = '\0';
	CHECK(store_refresh_insert("t5", did2, "2030-01-01T00:00:00.000Z",
	    NULL) == PDS_OK && store_refresh_list(did1, refresh_cb, ids) ==
	    PDS_OK && strcmp(ids, "t2") == 0,
	    "list: the current token of the account only: %s", ids);
	CHECK(store_refresh_revoke_chain("t2") == PDS_OK &&
	    store_refresh_get("t1", &r) == PDS_ENOTFOUND &&
	    store_refresh_get("t2", &r) == PDS_ENOTFOUND, "revoke the chain");
	CHECK(store_refresh_insert("t4", did1, "2020-01-01T00:00:00.000Z",
	    NULL) == PDS_OK && store_refresh_prune(did1, ts) == PDS_OK &&
	    store_refresh_get("t4", &r) == PDS_ENOTFOUND, "prune expired");
	t_group_end();
}

static void
test_app_passwords(void)
{
	struct store_app_password ap;
	size_t		 n;
	int		 calls = 0;

	t_group("app passwords");
	CHECK(store_app_password_insert(did1, "one", "h1", true, ts) ==
	    PDS_OK, "insert");
	CHECK(store_app_password_insert(did1, "stop", "h2", false, ts) ==
	    PDS_OK, "insert another");
	CHECK(store_app_password_insert(did1, "one", "h3", false, ts) ==
	    PDS_EEXIST, "same name");
	CHECK(store_app_password_find(did1, "h1", &ap) == PDS_OK &&
	    strcmp(ap.name, "one") == 0 && ap.privileged, "find by hash");
	CHECK(store_app_password_find(did1, "nope", &ap) == PDS_ENOTFOUND,
	    "unknown hash");
	CHECK(store_app_password_get(did1, "stop", &ap) == PDS_OK &&
	    !ap.privileged, "get by name");
	CHECK(store_app_password_count(did1, &n) == PDS_OK && n == 2,
	    "count %zu", n);
	CHECK(store_app_password_list(did1, count_cb, &calls) == 7 &&
	    calls == 2, "the callback's value stops the list");
	CHECK(store_app_password_delete(did1, "one") == PDS_OK &&
	    store_app_password_delete(did1, "one") == PDS_ENOTFOUND,
	    "delete once");
	CHECK(store_app_password_insert(did2, "keep", "h4", false, ts) ==
	    PDS_OK && store_app_password_delete_all(did1) == PDS_OK &&
	    store_app_password_count(did1, &n) == PDS_OK && n == 0 &&
	    store_app_password_count(did2, &n) == PDS_OK && n == 1,
	    "delete all: that account's only");
	t_group_end();
}

static void
test_invites(void)
{
	struct store_invite inv;
	int		 seen = 0, n = 0;

	t_group("invites");
	CHECK(store_invite_insert("code-1", 1, did1, "admin", ts) == PDS_OK,
	    "insert");
	CHECK(store_invite_insert("code-1", 1, did1, "admin", ts) ==
	    PDS_EEXIST, "same code");
	CHECK(store_invite_use("code-1", did2, ts) == PDS_OK, "use");
	CHECK(store_invite_use("code-1", did1, ts) == PDS_ENOTFOUND,
	    "no use left");
	CHECK(store_invite_use("code-x", did1, ts) == PDS_ENOTFOUND,
	    "unknown code");
	CHECK(store_invite_get("code-1", &inv) == PDS_OK &&
	    inv.available == 1 && inv.used == 1 && !inv.disabled &&
	    strcmp(inv.for_account, did1) == 0, "get");
	CHECK(store_invite_list_uses("code-1", use_cb, &seen) == PDS_OK &&
	    seen == 1, "uses");
	CHECK(store_invite_list_for(did1, invite_cb, &n) == PDS_OK && n == 1,
	    "list for the account: %d", n);
	t_group_end();
}

static void
test_delete(void)
{
	struct store_account a;

	t_group("delete");
	CHECK(store_account_delete(did2) == PDS_OK, "delete");
	CHECK(store_account_get(SA_BY_DID, did2, &a) == PDS_ENOTFOUND,
	    "gone");
	CHECK(store_account_delete(did2) == PDS_ENOTFOUND, "delete again");
	t_group_end();
}

int
main(void)
{
	char	 dir[] = "/tmp/test_store_account.XXXXXX";
	char	 path[128], cmd[160];

	log_init("test_pdsd_store_account", 0, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);
	if (store_open(path) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	test_status();
	test_accounts();
	test_refresh();
	test_app_passwords();
	test_invites();
	test_delete();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_store_account");
}
