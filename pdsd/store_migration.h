/*
 * store_migration: the SQL behind email tokens (email_tokens), account
 * migrations (account_migrations) and importRepo's replacement of a
 * repository.  Only email_tokens.c and migration.c call these.
 *
 * Functions marked "in a transaction" expect store_begin() on this
 * thread; the others run on their own (autocommit).  A lookup that
 * finds nothing is PDS_ENOTFOUND.
 */
#ifndef PDSD_STORE_MIGRATION_H
#define PDSD_STORE_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_account.h"

#define SM_TOKEN_MAX	32
#define SM_PURPOSE_MAX	32
#define SM_CID_MAX	128

/* ---- email tokens ---- */

/* Replace did's token for purpose (one per account and purpose). */
int	store_email_token_put(const char *purpose, const char *did,
	    const char *token, const char *now);
/* did's token for purpose and when it was made. */
int	store_email_token_get(const char *purpose, const char *did,
	    char token[SM_TOKEN_MAX], char requested_at[STORE_TS_LEN]);
/* The account a token (of that purpose) belongs to. */
int	store_email_token_find(const char *purpose, const char *token,
	    char did[SA_DID_MAX + 1], char requested_at[STORE_TS_LEN]);
int	store_email_token_delete(const char *purpose, const char *did);
/* Delete (purpose, did)'s token if it is `token': PDS_ENOTFOUND if not. */
int	store_email_token_take(const char *purpose, const char *did,
	    const char *token);
/* Drop every token made before `before'; *n (may be NULL) how many. */
int	store_email_token_prune(const char *before, int64_t *n);
/*
 * Record a deactivation time and the owner's deleteAfter hint (may be
 * NULL) without touching the status (a taken-down account stays so).
 */
int	store_account_mark_deactivated(const char *did, const char *at,
	    const char *delete_after);
/* Set email_confirmed_at. */
int	store_account_email_confirmed(const char *did, const char *at);

/* ---- migrations ---- */

struct store_mig {
	char	 did[SA_DID_MAX + 1];
	char	 handle[SA_HANDLE_MAX + 1];	/* "" when none */
	enum acct_status status;		/* the account's */
	char	 direction[4];			/* "in", "out" */
	char	 state[16];
	char	 started_at[STORE_TS_LEN];
	char	 updated_at[STORE_TS_LEN];
	int64_t	 records_expected;		/* -1: unknown */
	int64_t	 blocks_imported;		/* -1: unknown */
	char	 source_commit[SM_CID_MAX];
	char	 source_rev[16];
	char	 peer[512];
	/* live counts */
	int64_t	 records;
	int64_t	 repo_blocks;
	int64_t	 blobs_expected;
	int64_t	 blobs_imported;
};

/*
 * Start or move on a migration row: a new direction restarts it
 * (started_at = now, import figures cleared); the same one updates
 * state, updated_at and peer (when peer is not NULL).
 */
int	store_mig_put(const char *did, const char *direction,
	    const char *state, const char *peer, const char *now);
/* The row with the account's live counts. */
int	store_mig_get(const char *did, struct store_mig *out);
/* After an import (in a transaction). */
int	store_mig_set_import(const char *did, int64_t records,
	    int64_t blocks, const char *source_commit, const char *source_rev,
	    const char *now);
int	store_mig_delete(const char *did);
/*
 * Every migration row, and every deactivated account without one, in
 * started_at order; cb's non-zero return stops with it.
 */
int	store_mig_list(int (*cb)(void *, const struct store_mig *),
	    void *arg);

/* The live counts of checkAccountStatus. */
struct store_repo_counts {
	int64_t	 repo_blocks;
	int64_t	 records;
	int64_t	 blobs_expected;	/* distinct blobs records refer to */
	int64_t	 blobs_imported;	/* of those, the ones stored here */
};
int	store_repo_counts(const char *did, struct store_repo_counts *out);

/*
 * listMissingBlobs: blobs records refer to that are not stored here,
 * CID ascending after cursor (NULL: from the start), at most limit.
 */
int	store_missing_blobs(const char *did, const char *cursor, size_t limit,
	    int (*cb)(void *, const char *cid, const char *record_uri),
	    void *arg);

/* ---- importRepo (all in one transaction) ---- */

/* Forget the repo's blocks, records, blob references and backlinks. */
int	store_import_clear(const char *did);
int	store_import_block(const char *did, const char *cid, const char *rev,
	    const uint8_t *data, size_t len);
int	store_import_record(const char *did, const char *collection,
	    const char *rkey, const char *cid, const char *rev,
	    const char *now);
int	store_import_record_blob(const char *did, const char *blob_cid,
	    const char *record_uri);
/* Move the head (insert the repo_root row if there is none). */
int	store_import_set_root(const char *did, const char *cid,
	    const char *rev, const char *now);
/* Uploaded blobs that records refer to stop being temporary. */
int	store_import_keep_blobs(const char *did);

#endif
