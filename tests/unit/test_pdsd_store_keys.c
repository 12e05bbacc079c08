/*
 * test_pdsd_store_keys: reserved signing keys (pdsd/store_keys.c).  A
 * key comes back by its did:key and by the DID it was reserved for, the
 * newest first; one older than STORE_KEYS_TTL_DAYS goes when the next
 * is reserved; clearing removes it; the same did:key twice is
 * PDS_EEXIST and rolls back the whole reservation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_keys.h"
#include "t.h"

static const char did[] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";

static void
key_fill(uint8_t k[32], uint8_t v)
{
	memset(k, v, 32);
}

int
main(void)
{
	char	 dir[] = "/tmp/test_store_keys.XXXXXX";
	char	 path[128], cmd[160];
	uint8_t	 k1[32], k2[32], got[32];
	int	 rc;

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
	CHECK(store_keys_get("did:key:old", got) == PDS_ENOTFOUND,
	    "eight days old: expired by the next reservation");
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

	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_store_keys");
}
