/*
 * migration: moving accounts into and out of this server
 * (reference-pds §7), and the account deletion they share.
 *
 * In:  createAccount with an existing DID and a service JWT from it
 *	(account_create() with in->did, accounts.h) makes a DEACTIVATED
 *	account with the DID's reserved (or a fresh) signing key and an
 *	empty repo, and no events; importRepo (migration_import_repo)
 *	checks the CAR (structure, canonical encoding, the commit's
 *	signature against the DID's current key), stores its blocks,
 *	indexes its records and blob references, and signs a new commit
 *	over the same tree with the local key; uploadBlob fills in the
 *	blobs; the PLC operation is checked and submitted
 *	(migration_submit_plc_op); activateAccount (migration_activate)
 *	checks that the DID document points here and emits #account,
 *	#identity and #sync.
 * Out: signPlcOperation (migration_sign_plc_op) signs an update with
 *	the server's rotation key after the email token;
 *	deactivateAccount (migration_deactivate).  Once the DID
 *	document names another server the account counts as migrated
 *	out; the operator may purge it (migration_purge_moved).
 *
 * Progress is kept in the account_migrations table (store_migration.h).
 * Refusals are PDS_E* codes with a struct pds_error naming the XRPC
 * error (account_error_settle() completes them for the front ends).
 */
#ifndef PDSD_MIGRATION_H
#define PDSD_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "accounts.h"

struct admin_call;

/* ---- the service ---- */

/*
 * Whether the DID document of did (fetched fresh) points here: the
 * atproto_pds endpoint is PDS_PUBLIC_URL, the #atproto key is the
 * account's signing key, and for did:plc our rotation key is among the
 * rotation keys.  *valid false with a reason in why[cap] when not; an
 * error only when the document could not be fetched.  *pds (may be
 * NULL) gets the endpoint the document names ("" if none).
 */
int	migration_did_check(const char *did, bool *valid, char *why,
	    size_t cap, char *pds, size_t pds_cap);

struct migration_import {
	int64_t	 records;
	int64_t	 blocks;
	int64_t	 blob_refs;		/* distinct blobs referenced */
	char	 source_commit[128];	/* the CAR's root */
	char	 source_rev[16];
	char	 commit[128];		/* the new local head */
	char	 rev[16];
};

/*
 * importRepo: replace did's repository with the one in car[len] (see
 * above).  The account's cached writer state is dropped around it.  An
 * active account also gets a #sync event for the new head.
 */
int	migration_import_repo(const char *did, const uint8_t *car,
	    size_t len, struct migration_import *out, struct pds_error *);

/*
 * The same, but the CAR's head commit is kept as it is (its CID, rev
 * and signature) instead of signed again: it must verify with the
 * account's own signing key (pdsctl import of an export that carried
 * the key).
 */
int	migration_restore_repo(const char *did, const uint8_t *car,
	    size_t len, struct migration_import *out, struct pds_error *);

/* activateAccount (checks the DID document first). */
int	migration_activate(const char *did, struct pds_error *);
/* deactivateAccount; delete_after: the owner's hint, or NULL. */
int	migration_deactivate(const char *did, const char *delete_after,
	    struct pds_error *);

/*
 * signPlcOperation: an update on top of the DID's latest operation with
 * the fields of `in' (rotationKeys, alsoKnownAs, verificationMethods,
 * services; absent ones are kept), signed with our rotation key.  The
 * caller has checked the email token.  *op: the operation's JSON.
 */
int	migration_sign_plc_op(const char *did, const json_t *in,
	    json_t **op, struct pds_error *);
/*
 * submitPlcOperation: check that the op keeps our rotation key, our
 * endpoint, the account's signing key and its handle, send it to the
 * PLC directory and sequence #identity.
 */
int	migration_submit_plc_op(const char *did, const json_t *op,
	    struct pds_error *);

/*
 * Point a did:plc document here with the least PLC operation, signed
 * with our rotation key: the atproto_pds service's endpoint (and the
 * handle, when alsoKnownAs lacks it), every key kept; nothing at all
 * when the document names this server already (*changed false), nor
 * for a did:web.  Refused when the document's signing key is not the
 * account's.
 */
int	migration_plc_point_here(const char *did, bool *changed,
	    struct pds_error *);

/*
 * Delete an account and everything it owns here (rows, repo, blob
 * files).  announce: sequence #account "deleted" (deleteAccount); an
 * account that moved away is purged silently.
 */
int	migration_account_purge(const char *did, bool announce);

/* ---- the operator's view (admin socket) ---- */

/*
 * {"inbound": [...], "outbound": [...]}: accounts being moved here with
 * records and blobs imported versus expected, and accounts that left
 * (state "moved" once the DID document names another server).  Every
 * entry has did, handle, status, startedAt, updatedAt, didPointsHere,
 * records, repoBlocks, blobs (present) and blobsExpected (referenced).
 * Serves both migration.status and its older name migration.list.  It
 * fetches each account's DID document, so callers should not poll it
 * fast.
 */
int	migration_status_json(json_t **out);

/*
 * Admin socket command handlers (rows for admin_cmds.c's table):
 *   "migration.status"	read-only	{}
 *   "migration.purge"	mutating	{account?, all?, reason?}: delete
 *			the local copy of accounts that moved away
 *			(only those whose DID document names another
 *			server); audited per account
 *   "account.token"	mutating	{account, purpose}: the live
 *			email token (confirm_email, update_email,
 *			reset_password, delete_account, plc_operation)
 *			for operators without SMTP; audited
 */
int	migration_cmd_status(struct admin_call *);
int	migration_cmd_purge(struct admin_call *);
int	migration_cmd_account_token(struct admin_call *);

#endif
