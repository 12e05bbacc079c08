/*
 * test_pdsd_store_core: connections, transactions and the lookups of
 * pdsd/store.c.  A new store is at the latest schema and answers a
 * ping; a second BEGIN on one thread is refused; a rollback undoes and
 * a commit keeps; another thread's connection sees committed rows; the
 * handle lookup finds only active accounts, case-insensitively, and
 * refuses a buffer too small for the DID; and a reopened store keeps
 * its rows.
 */
#include <pthread.h>
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

static const char did[] = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
static const char ts[] = "2024-01-02T03:04:05.678Z";
static const uint8_t key[32];

static void *
other_thread(void *arg)
{
	char	*out = arg;

	if (store_handle_to_did("kept.test", out, SA_DID_MAX + 1) != PDS_OK)
		out[0] = '\0';
	store_thread_close();
	return NULL;
}

int
main(void)
{
	char		 dir[] = "/tmp/test_store_core.XXXXXX";
	char		 path[128], cmd[160], d[SA_DID_MAX + 1], small[8];
	char		 tsbuf[STORE_TS_LEN];
	pthread_t	 t;

	log_init("test_pdsd_store_core", 0, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);

	t_group("open");
	CHECK(store_open(path) == PDS_OK, "open");
	CHECK(store_schema_version() == store_schema_latest() &&
	    store_schema_latest() > 0, "at the latest schema (%d)",
	    store_schema_version());
	CHECK(store_ping() == PDS_OK, "ping");
	store_timestamp(tsbuf);
	CHECK(strlen(tsbuf) == 24 && tsbuf[10] == 'T' && tsbuf[23] == 'Z',
	    "timestamp %s", tsbuf);
	t_group_end();

	t_group("transactions");
	CHECK(store_begin() == PDS_OK, "begin");
	CHECK(store_begin() == PDS_EINTERNAL, "nested begin refused");
	CHECK(store_account_insert(did, "gone.test", NULL, NULL, key, ts) ==
	    PDS_OK, "insert");
	store_rollback();
	CHECK(store_handle_to_did("gone.test", d, sizeof(d)) ==
	    PDS_ENOTFOUND, "rolled back");
	CHECK(store_begin() == PDS_OK && store_account_insert(did,
	    "kept.test", NULL, NULL, key, ts) == PDS_OK &&
	    store_commit() == PDS_OK, "commit");
	d[0] = '\0';
	CHECK(pthread_create(&t, NULL, other_thread, d) == 0 &&
	    pthread_join(t, NULL) == 0 && strcmp(d, did) == 0,
	    "another thread sees it: %s", d);
	t_group_end();

	t_group("handle lookup");
	CHECK(store_handle_to_did("KEPT.test", d, sizeof(d)) == PDS_OK &&
	    strcmp(d, did) == 0, "case-insensitive");
	CHECK(store_handle_to_did("kept.test", small, sizeof(small)) ==
	    PDS_ETOOBIG, "a buffer too small");
	CHECK(store_account_set_status(did, ACCT_DEACTIVATED, ts) == PDS_OK &&
	    store_handle_to_did("kept.test", d, sizeof(d)) == PDS_ENOTFOUND,
	    "only active accounts");
	CHECK(store_account_set_status(did, ACCT_ACTIVE, NULL) == PDS_OK,
	    "reactivate");
	t_group_end();

	t_group("reopen");
	store_close();
	CHECK(store_open(path) == PDS_OK &&
	    store_handle_to_did("kept.test", d, sizeof(d)) == PDS_OK &&
	    strcmp(d, did) == 0, "rows survive a reopen");
	t_group_end();

	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_store_core");
}
