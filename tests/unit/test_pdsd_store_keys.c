/*
 * test_pdsd_store_keys: reserved signing keys (pdsd/store_keys.c).  A
 * key comes back by its did:key and by the DID it was reserved for, the
 * newest first; one older than STORE_KEYS_TTL_DAYS stays until the
 * prune, which the periodic job runs; clearing removes it; the same
 * did:key twice is PDS_EEXIST; the table stays at its cap, however
 * many reservations are asked for, until the prune makes room.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "../../pdsd/jobs.h"
#include "../../pdsd/module.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_internal.h"
#include "../../pdsd/store_keys.h"
#include "t.h"

static const char did[] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";

static void
key_fill(uint8_t k[32], uint8_t v)
{
	memset(k, v, 32);
}

/* The rows of the table, counted by SQLite. */
static int
rows(void)
{
	int64_t	 n = -1;

	if (store_ints("SELECT count(*) FROM reserved_keys", NULL, "count",
	    &n, 1) != PDS_OK)
		return -1;
	return (int)n;
}

int
main(void)
{
	char	 dir[] = "/tmp/test_store_keys.XXXXXX";
	char	 path[128], cmd[160];
	uint8_t	 k1[32], k2[32], got[32];
	char	 kd[64], ts_now[STORE_TS_LEN];
	int	 rc, i, n, ok, busy;

	log_init("test_pdsd_store_keys", 0, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);
	if (store_open(path) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	store_timestamp(ts_now);
	key_fill(k1, 0x11);
	key_fill(k2, 0x22);

	t_group("reserve");
	rc = store_keys_put("did:key:old", NULL, k1,
	    "2024-01-01T00:00:00.000Z");
	CHECK(rc == PDS_OK, "put: %s", pds_strerror(rc));
	CHECK(store_keys_get("did:key:old", got) == PDS_OK &&
	    memcmp(got, k1, 32) == 0, "by did:key");
	CHECK(store_keys_get(did, got) == PDS_ENOTFOUND, "no DID named");
	rc = store_keys_put("did:key:new", did, k2,
	    "2024-01-09T00:00:00.000Z");
	CHECK(rc == PDS_OK, "put for a DID: %s", pds_strerror(rc));
	CHECK(store_keys_get(did, got) == PDS_OK &&
	    memcmp(got, k2, 32) == 0, "by DID");
	CHECK(store_keys_get("did:key:old", got) == PDS_OK,
	    "eight days old: a reservation does not prune");
	n = -1;
	CHECK(store_keys_prune("2024-01-09T00:00:00.000Z", &n) == PDS_OK &&
	    n == 1 && store_keys_get("did:key:old", got) == PDS_ENOTFOUND,
	    "the prune drops it: %d", n);
	rc = store_keys_put("did:key:new", NULL, k1,
	    "2024-01-09T00:00:01.000Z");
	CHECK(rc == PDS_EEXIST, "same did:key: %s", pds_strerror(rc));
	CHECK(store_keys_get("did:key:new", got) == PDS_OK &&
	    memcmp(got, k2, 32) == 0, "the first reservation stands");
	rc = store_keys_put("did:key:newer", did, k1,
	    "2024-01-09T00:00:02.000Z");
	CHECK(rc == PDS_OK && store_keys_get(did, got) == PDS_OK &&
	    memcmp(got, k1, 32) == 0, "the newest for a DID wins");
	t_group_end();

	t_group("clear");
	CHECK(store_keys_clear("did:key:none", did) == PDS_OK &&
	    store_keys_get(did, got) == PDS_ENOTFOUND &&
	    store_keys_get("did:key:new", got) == PDS_ENOTFOUND,
	    "clear by DID clears all of its keys");
	CHECK(store_begin() == PDS_OK && store_commit() == PDS_OK,
	    "no transaction left open");
	t_group_end();

	t_group("cap and prune job");
	store_keys_set_max(100);
	for (i = 0, ok = 0, busy = 0; i < 400; i++) {
		snprintf(kd, sizeof(kd), "did:key:cap%d", i);
		/* the first 250 are old enough to go at the next prune */
		rc = store_keys_put(kd, NULL, k1, i < 250 ?
		    "2020-01-01T00:00:00.000Z" : ts_now);
		if (rc == PDS_OK)
			ok++;
		else if (rc == PDS_EBUSY)
			busy++;
	}
	CHECK(ok == 100 && busy == 300, "400 asked, 100 kept, 300 refused: "
	    "%d %d", ok, busy);
	CHECK(rows() == 100, "the table holds 100: %d", rows());
	CHECK(pdsd_module_migration.init(NULL) == PDS_OK,
	    "the module adds its job");
	jobs_run_all();
	CHECK(rows() == 0, "the job pruned the old ones: %d left", rows());
	for (i = 0, ok = 0; i < 150; i++) {
		snprintf(kd, sizeof(kd), "did:key:new%d", i);
		if (store_keys_put(kd, NULL, k1, ts_now) == PDS_OK)
			ok++;
	}
	CHECK(ok == 100 && rows() == 100, "room again, up to the cap: %d %d",
	    ok, rows());
	jobs_run_all();
	CHECK(rows() == 100, "the job keeps the fresh ones: %d", rows());
	CHECK(store_keys_clear("did:key:new0", NULL) == PDS_OK &&
	    store_keys_put("did:key:again", NULL, k1, ts_now) == PDS_OK &&
	    store_keys_put("did:key:again2", NULL, k1, ts_now) == PDS_EBUSY,
	    "a clear makes room for one");
	t_group_end();

	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_store_keys");
}
