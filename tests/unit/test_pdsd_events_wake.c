/*
 * test_pdsd_events_wake: every kind of event row reaches the firehose
 * at once, without anyone calling events_notify().
 *
 * A store in a temporary directory, the repo writer and the firehose
 * thread (no subscriber: it moves its head over the log all the same).
 * Each kind of event is appended as the daemon appends it and the
 * transaction committed; the firehose's head must reach the new seq
 * well before its once-a-second fallback poll (which a row it was not
 * told about would have to wait for).  Each kind twice in a row, so
 * that one lucky fallback poll cannot pass for a wake-up.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "err.h"
#include "keys.h"
#include "log.h"
#include "../../pdsd/events.h"
#include "../../pdsd/firehose.h"
#include "../../pdsd/repo_writer.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"

#include "t.h"

#define SEEN_WITHIN_MS	500	/* the fallback poll is every 1000 ms */
#define COLL		"app.bsky.feed.post"

static char	 tmpdir[] = "/tmp/pds-events-wake-XXXXXX";
static char	 dbpath[300];
static int	 naccts;

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the firehose's head reaches the log's head in time. */
static bool
seen_soon(int64_t *ms)
{
	struct firehose_stats fs;
	struct timespec	 d = { 0, 1000000 };
	int64_t		 head, t0 = now_ms();

	if (events_head(&head) != PDS_OK)
		return false;
	do {
		firehose_stats(&fs);
		if (fs.head_seq >= head) {
			*ms = now_ms() - t0;
			return true;
		}
		nanosleep(&d, NULL);
	} while (now_ms() - t0 < SEEN_WITHIN_MS);
	*ms = now_ms() - t0;
	return false;
}

/* A new account with its empty repo (#commit and #sync), one tx. */
static int
new_repo(char did[DID_MAX + 1])
{
	struct pds_key	*key = NULL;
	uint8_t		 priv[32];
	char		 now[STORE_TS_LEN], handle[64], email[64];
	int		 rc;

	naccts++;
	snprintf(did, DID_MAX + 1, "did:plc:evwakeaaaaaaaaaaaaaaaa%c%c",
	    'a' + naccts / 26 % 26, 'a' + naccts % 26);
	snprintf(handle, sizeof(handle), "wake%d.test", naccts);
	snprintf(email, sizeof(email), "wake%d@example.com", naccts);
	randombytes_buf(priv, sizeof(priv));
	if ((rc = key_from_private(&key, KEY_K256, priv)) != PDS_OK)
		return rc;
	store_timestamp(now);
	if ((rc = store_begin()) != PDS_OK)
		goto out;
	if ((rc = store_account_insert(did, handle, email,
	    "not-a-password-hash", priv, now)) != PDS_OK ||
	    (rc = repo_writer_create_repo(did, key, NULL, NULL)) != PDS_OK) {
		store_rollback();
		goto out;
	}
	rc = store_commit();
out:
	sodium_memzero(priv, sizeof(priv));
	key_free(key);
	return rc;
}

enum kind { K_REPO, K_IDENTITY, K_ACCOUNT, K_SYNC, K_WRITE };

/* Append one kind of event for did, committed. */
static int
append(enum kind k, const char *did)
{
	struct repo_write_op	 op;
	struct repo_write_result res;
	struct pds_error	 err;
	json_t			*v;
	int			 rc;

	if (k == K_WRITE) {
		/* the writer's own transaction */
		v = json_pack("{s:s, s:s, s:s}", "$type", COLL, "text", "hi",
		    "createdAt", "2024-05-01T12:00:00.000Z");
		if (v == NULL)
			return PDS_ENOMEM;
		memset(&op, 0, sizeof(op));
		op.action = REPO_CREATE;
		snprintf(op.collection, sizeof(op.collection), "%s", COLL);
		op.value = v;
		op.validate = REPO_VALIDATE_AUTO;
		rc = repo_write(did, &op, 1, NULL, 0, &res, &err);
		json_decref(v);
		return rc;
	}
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	switch (k) {
	case K_IDENTITY:
		rc = events_identity(did, "wake.test");
		break;
	case K_ACCOUNT:
		rc = events_account(did, ACCT_ACTIVE);
		break;
	default:
		rc = events_sync(did);
		break;
	}
	if (rc != PDS_OK) {
		store_rollback();
		return rc;
	}
	return store_commit();
}

static void
test_kinds(void)
{
	static const struct {
		enum kind	 k;
		const char	*name;
	} kinds[] = {
		{ K_REPO, "a new repo's #commit and #sync" },
		{ K_IDENTITY, "#identity" },
		{ K_ACCOUNT, "#account" },
		{ K_SYNC, "#sync" },
		{ K_WRITE, "a write's #commit" },
	};
	char		 did[DID_MAX + 1];
	int64_t		 ms;
	size_t		 i;
	int		 round, rc;

	t_group("every event wakes the firehose");
	if (new_repo(did) != PDS_OK) {
		CHECK(0, "the first account");
		t_group_end();
		return;
	}
	(void)seen_soon(&ms);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		for (round = 0; round < 2; round++) {
			if (kinds[i].k == K_REPO)
				rc = new_repo(did);
			else
				rc = append(kinds[i].k, did);
			CHECK(rc == PDS_OK, "%s: appended (%s)", kinds[i].name,
			    pds_strerror(rc));
			CHECK(seen_soon(&ms), "%s: seen after %lld ms",
			    kinds[i].name, (long long)ms);
		}
	}
	t_group_end();
}

int
main(void)
{
	struct firehose_opts fo;
	char		 cmd[300];

	log_init("test_pdsd_events_wake", 0, 0);
	if (sodium_init() < 0 || key_init() != PDS_OK) {
		fprintf(stderr, "crypto init failed\n");
		return 1;
	}
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/pds.sqlite", tmpdir);
	if (store_open(dbpath) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	memset(&fo, 0, sizeof(fo));
	fo.backfill_ms = 3600 * 1000;
	CHECK(repo_writer_start() == PDS_OK, "the repo writer starts");
	CHECK(firehose_start(&fo) == PDS_OK, "the firehose starts");

	test_kinds();

	firehose_stop();
	repo_writer_stop();
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void)system(cmd);
	return t_done("test_pdsd_events_wake");
}
