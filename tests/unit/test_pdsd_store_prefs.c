/*
 * test_pdsd_store_prefs: preferences and the records-since read
 * (pdsd/store_prefs.c).  Preferences come back in the order they were
 * put; a replace drops only what its callback names and keeps the
 * rest; a replace that fails half-way (a NULL value) changes nothing;
 * records since a rev come in rev order, filtered by collection and
 * cut at the limit, and a callback's value stops the walk.
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
#include "../../pdsd/store_migration.h"
#include "../../pdsd/store_prefs.h"
#include "../../pdsd/store_repo.h"
#include "t.h"

static const char did[] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
static const char ts[] = "2024-01-02T03:04:05.678Z";

struct got {
	int	 n;
	char	 s[256];
	int	 stop_at;
};

static int
pref_cb(void *arg, const struct store_pref *p)
{
	struct got	*g = arg;
	size_t		 len = strlen(g->s);

	g->n++;
	snprintf(g->s + len, sizeof(g->s) - len, "%s=%s;", p->name,
	    p->value_json);
	return 0;
}

static bool
drop_b(void *arg, const char *name)
{
	return strcmp(name, "b") == 0;
}

static int
rec_cb(void *arg, const struct store_raw_record *r)
{
	struct got	*g = arg;
	size_t		 len = strlen(g->s);

	g->n++;
	snprintf(g->s + len, sizeof(g->s) - len, "%s/%s@%s:%zu;",
	    r->collection, r->rkey, r->rev, r->len);
	return g->n == g->stop_at ? 99 : 0;
}

static void
test_prefs(void)
{
	struct store_pref v[2] = { { "a", "{\"x\":1}" }, { "b", "{}" } };
	struct store_pref w[2] = { { "c", "[]" }, { "d", NULL } };
	struct got	 g;
	int		 rc;

	t_group("preferences");
	memset(&g, 0, sizeof(g));
	CHECK(store_prefs_list(did, pref_cb, &g) == PDS_OK && g.n == 0,
	    "none at first");
	rc = store_prefs_replace(did, drop_b, NULL, v, 2);
	CHECK(rc == PDS_OK, "put two: %s", pds_strerror(rc));
	memset(&g, 0, sizeof(g));
	CHECK(store_prefs_list(did, pref_cb, &g) == PDS_OK &&
	    strcmp(g.s, "a={\"x\":1};b={};") == 0, "listed: %s", g.s);
	rc = store_prefs_replace(did, drop_b, NULL, w, 1);
	CHECK(rc == PDS_OK, "replace b: %s", pds_strerror(rc));
	memset(&g, 0, sizeof(g));
	CHECK(store_prefs_list(did, pref_cb, &g) == PDS_OK &&
	    strcmp(g.s, "a={\"x\":1};c=[];") == 0, "b dropped, c added: %s",
	    g.s);
	rc = store_prefs_replace(did, drop_b, NULL, w, 2);
	CHECK(rc == PDS_EEXIST, "a NULL value: %s", pds_strerror(rc));
	memset(&g, 0, sizeof(g));
	CHECK(store_prefs_list(did, pref_cb, &g) == PDS_OK &&
	    strcmp(g.s, "a={\"x\":1};c=[];") == 0, "rolled back: %s", g.s);
	t_group_end();
}

static void
test_since(void)
{
	static const uint8_t b1[] = { 0xa1, 0x61, 0x61, 0x01 };
	static const uint8_t b2[] = { 0xa1, 0x61, 0x62, 0x02, 0x00 };
	struct store_block blocks[2] = {
		{ "bafy-one", b1, sizeof(b1) }, { "bafy-two", b2, sizeof(b2) },
	};
	const char	*posts[] = { "app.bsky.feed.post" };
	const char	*both[] = { "app.bsky.feed.post", "app.bsky.feed.like" };
	struct got	 g;
	int		 rc;

	t_group("records since");
	rc = store_account_repo_init(did, blocks, 2, "bafy-root", "rev1", ts);
	CHECK(rc == PDS_OK, "blocks: %s", pds_strerror(rc));
	CHECK(store_import_record(did, "app.bsky.feed.post", "p1", "bafy-one",
	    "rev1", ts) == PDS_OK &&
	    store_import_record(did, "app.bsky.feed.like", "l1", "bafy-two",
	    "rev2", ts) == PDS_OK &&
	    store_import_record(did, "app.bsky.feed.post", "p2", "bafy-two",
	    "rev3", ts) == PDS_OK && store_records_absorb(did) == PDS_OK,
	    "records, their bytes moved into their rows as an import does");
	memset(&g, 0, sizeof(g));
	rc = store_records_since(did, "rev0", both, 2, 10, rec_cb, &g);
	CHECK(rc == PDS_OK && strcmp(g.s, "app.bsky.feed.post/p1@rev1:4;"
	    "app.bsky.feed.like/l1@rev2:5;app.bsky.feed.post/p2@rev3:5;") == 0,
	    "all: %s", g.s);
	memset(&g, 0, sizeof(g));
	rc = store_records_since(did, "rev1", posts, 1, 10, rec_cb, &g);
	CHECK(rc == PDS_OK && strcmp(g.s, "app.bsky.feed.post/p2@rev3:5;") ==
	    0, "posts after rev1: %s", g.s);
	memset(&g, 0, sizeof(g));
	rc = store_records_since(did, "rev0", both, 2, 1, rec_cb, &g);
	CHECK(rc == PDS_OK && g.n == 1, "limit 1: %d", g.n);
	memset(&g, 0, sizeof(g));
	g.stop_at = 2;
	rc = store_records_since(did, "rev0", both, 2, 10, rec_cb, &g);
	CHECK(rc == 99 && g.n == 2, "stopped: %d after %d", rc, g.n);
	CHECK(store_records_since(did, "rev0", both, 5, 10, rec_cb, &g) ==
	    PDS_EINVAL, "more than four collections");
	t_group_end();
}

int
main(void)
{
	static const uint8_t key[32];
	char	 dir[] = "/tmp/test_store_prefs.XXXXXX";
	char	 path[128], cmd[160];

	log_init("test_pdsd_store_prefs", 0, 0);
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
	test_prefs();
	test_since();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_store_prefs");
}
