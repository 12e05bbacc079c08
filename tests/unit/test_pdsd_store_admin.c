/*
 * test_pdsd_store_admin: the admin service's SQL (pdsd/store_admin.c).
 * Audit rows list in order after an id; takedown references set, read
 * and clear, and a missing record or blob is PDS_ENOTFOUND; the account
 * list pages with its cursor and filters by status; the search matches
 * handle and email prefixes with LIKE's metacharacters taken literally;
 * invites list, sort by use and disable; the counts add up.  Admin reads
 * truncate text to the caller's buffer rather than fail.
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
#include "../../pdsd/store_admin.h"
#include "../../pdsd/store_migration.h"
#include "t.h"

static const char did1[] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
static const char did2[] = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb";
static const char did3[] = "did:plc:cccccccccccccccccccccccc";
static const char ts1[] = "2024-01-01T00:00:00.000Z";
static const char ts2[] = "2024-01-02T00:00:00.000Z";
static const char uri[] = "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/"
    "app.bsky.feed.post/p1";

struct seen {
	int	 n;
	char	 s[512];
	char	 last[128];
};

static int
audit_cb(void *arg, const struct store_audit *a)
{
	struct seen	*g = arg;
	size_t		 len = strlen(g->s);

	g->n++;
	snprintf(g->s + len, sizeof(g->s) - len, "%s:%s:%s;", a->action,
	    a->subject, a->reason);
	return 0;
}

static int
account_cb(void *arg, const struct store_account *a)
{
	struct seen	*g = arg;
	size_t		 len = strlen(g->s);

	g->n++;
	snprintf(g->s + len, sizeof(g->s) - len, "%s;", a->handle);
	store_admin_cursor(a, g->last, sizeof(g->last));
	return 0;
}

static int
invite_cb(void *arg, const struct store_invite *inv)
{
	struct seen	*g = arg;
	size_t		 len = strlen(g->s);

	g->n++;
	snprintf(g->s + len, sizeof(g->s) - len, "%s/%lld%s;", inv->code,
	    (long long)inv->used, inv->disabled ? "x" : "");
	return 0;
}

static void
test_audit(void)
{
	struct seen	 g;

	t_group("audit");
	CHECK(store_audit_insert("admin", "takedown", did1, "spam", NULL) ==
	    PDS_OK && store_audit_insert("admin", "restore", NULL, NULL,
	    "{}") == PDS_OK, "insert");
	memset(&g, 0, sizeof(g));
	CHECK(store_audit_list(NULL, 0, 10, audit_cb, &g) == PDS_OK &&
	    strcmp(g.s, "takedown:did:plc:aaaaaaaaaaaaaaaaaaaaaaaa:spam;"
	    "restore::;") == 0, "list: %s", g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_audit_list(NULL, 1, 10, audit_cb, &g) == PDS_OK &&
	    g.n == 1, "after id 1: %d", g.n);
	memset(&g, 0, sizeof(g));
	CHECK(store_audit_list("2999-01-01T00:00:00.000Z", 0, 10, audit_cb,
	    &g) == PDS_OK && g.n == 0, "since the future");
	t_group_end();
}

static void
test_takedowns(void)
{
	char	 cid[64], ref[8];

	t_group("takedowns");
	CHECK(store_import_record(did1, "app.bsky.feed.post", "p1",
	    "bafy-record", "rev1", ts1) == PDS_OK, "a record");
	CHECK(store_record_takedown_set(uri, "ref-long-one") == PDS_OK,
	    "record takedown");
	CHECK(store_record_takedown_get(uri, cid, sizeof(cid), ref,
	    sizeof(ref)) == PDS_OK && strcmp(cid, "bafy-record") == 0 &&
	    strcmp(ref, "ref-lon") == 0, "read, truncated: %s %s", cid, ref);
	CHECK(store_record_takedown_set(uri, NULL) == PDS_OK &&
	    store_record_takedown_get(uri, cid, sizeof(cid), ref,
	    sizeof(ref)) == PDS_OK && ref[0] == '\0', "restored");
	CHECK(store_record_takedown_set("at://x/y/z", "r") == PDS_ENOTFOUND,
	    "missing record");
	CHECK(store_record_takedown_get("at://x/y/z", cid, sizeof(cid), ref,
	    sizeof(ref)) == PDS_ENOTFOUND, "missing record read");
	CHECK(store_blob_takedown_set(did1, "bafy-blob", "r") ==
	    PDS_ENOTFOUND, "missing blob");
	CHECK(store_blob_takedown_get(did1, "bafy-blob", ref, sizeof(ref)) ==
	    PDS_ENOTFOUND, "missing blob read");
	t_group_end();
}

static void
test_accounts(void)
{
	struct seen	 g;
	enum acct_status td = ACCT_TAKENDOWN, act = ACCT_ACTIVE;
	char		 cur[128], code[8];

	t_group("accounts");
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_account_list(NULL, NULL, 2, account_cb, &g) ==
	    PDS_OK && strcmp(g.s, "a.test;b_x.test;") == 0, "page 1: %s",
	    g.s);
	snprintf(cur, sizeof(cur), "%s", g.last);
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_account_list(NULL, cur, 2, account_cb, &g) ==
	    PDS_OK && strcmp(g.s, "bxx.test;") == 0, "page 2: %s", g.s);
	CHECK(store_admin_account_list(NULL, "no-space", 2, account_cb, &g) ==
	    PDS_EINVAL, "a bad cursor");
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_account_list(&td, NULL, 10, account_cb,
	    &g) == PDS_OK && strcmp(g.s, "bxx.test;") == 0, "by status: %s",
	    g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_account_search("b_", NULL, NULL, 10, account_cb, &g) ==
	    PDS_OK && strcmp(g.s, "b_x.test;") == 0,
	    "_ matches itself only: %s", g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_account_search(did1, NULL, NULL, 10, account_cb, &g) ==
	    PDS_OK && strcmp(g.s, "a.test;") == 0, "by DID: %s", g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_account_search("B", NULL, did2, 10, account_cb, &g) ==
	    PDS_OK && strcmp(g.s, "bxx.test;") == 0, "after a cursor: %s",
	    g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_account_search("b", &td, NULL, 10, account_cb,
	    &g) == PDS_OK && strcmp(g.s, "bxx.test;") == 0,
	    "a search keeps the status filter: %s", g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_account_search("b", &act, NULL, 10, account_cb,
	    &g) == PDS_OK && strcmp(g.s, "b_x.test;") == 0,
	    "... active only: %s", g.s);
	CHECK(store_admin_invited_by(did2, code, sizeof(code)) == PDS_OK &&
	    strcmp(code, "code-no") == 0, "invited by, truncated: %s", code);
	CHECK(store_admin_invited_by(did1, code, sizeof(code)) ==
	    PDS_ENOTFOUND, "not invited");
	t_group_end();
}

static void
test_invites(void)
{
	struct seen	 g;
	int64_t		 n = -1;

	t_group("invites");
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_invite_list(SI_SORT_RECENT, NULL, true, 0, 10,
	    invite_cb, &g) == PDS_OK &&
	    strcmp(g.s, "code-two/0;code-none/1;") == 0, "recent: %s", g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_invite_list(SI_SORT_USAGE, NULL, true, 0, 10,
	    invite_cb, &g) == PDS_OK &&
	    strcmp(g.s, "code-none/1;code-two/0;") == 0, "by use: %s", g.s);
	CHECK(store_admin_invite_disable("code-two") == PDS_OK,
	    "disable");
	CHECK(store_admin_invite_disable("code-zzz") == PDS_ENOTFOUND,
	    "disable an unknown code");
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_invite_list(SI_SORT_RECENT, NULL, false, 0, 10,
	    invite_cb, &g) == PDS_OK && strcmp(g.s, "code-none/1;") == 0,
	    "without the disabled: %s", g.s);
	memset(&g, 0, sizeof(g));
	CHECK(store_admin_invite_list(SI_SORT_RECENT, NULL, true, 1, 10,
	    invite_cb, &g) == PDS_OK && strcmp(g.s, "code-none/1;") == 0,
	    "offset 1: %s", g.s);
	CHECK(store_admin_invite_disable_for(did1, &n) == PDS_OK && n == 1,
	    "disable for an account: %lld", (long long)n);
	t_group_end();
}

static void
test_counts(void)
{
	struct store_admin_counts c;
	struct store_account_usage u;
	int64_t		 n = -1;

	t_group("counts");
	CHECK(store_admin_counts(&c) == PDS_OK && c.accounts == 3 &&
	    c.active == 2 && c.takendown == 1 && c.records == 1 &&
	    c.audit_rows == 2 && c.invites_open == 0 && c.events == 0,
	    "counts: %lld accounts %lld records %lld open",
	    (long long)c.accounts, (long long)c.records,
	    (long long)c.invites_open);
	CHECK(store_admin_account_usage(did1, &u) == PDS_OK &&
	    u.records == 1 && u.repo_blocks == 0 && u.blobs == 0, "usage");
	CHECK(store_admin_event_count(did1, "#commit", &n) == PDS_OK &&
	    n == 0, "events");
	t_group_end();
}

int
main(void)
{
	static const uint8_t key[32];
	char	 dir[] = "/tmp/test_store_admin.XXXXXX";
	char	 path[128], cmd[160];

	log_init("test_pdsd_store_admin", 0, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);
	if (store_open(path) != PDS_OK ||
	    store_account_insert(did1, "a.test", "a@example.com", NULL, key,
	    ts1) != PDS_OK ||
	    store_account_insert(did2, "b_x.test", NULL, NULL, key, ts1) !=
	    PDS_OK ||
	    store_account_insert(did3, "bxx.test", NULL, NULL, key, ts2) !=
	    PDS_OK ||
	    store_account_set_status(did3, ACCT_TAKENDOWN, "r") != PDS_OK ||
	    store_invite_insert("code-none", 1, did1, "admin", ts1) !=
	    PDS_OK ||
	    store_invite_insert("code-two", 2, did1, "admin", ts2) !=
	    PDS_OK ||
	    store_invite_use("code-none", did2, ts1) != PDS_OK) {
		fprintf(stderr, "store set-up failed\n");
		return 1;
	}
	test_audit();
	test_takedowns();
	test_accounts();
	test_invites();
	test_counts();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_store_admin");
}
