/*
 * accounts_create: account_create(), the one path by which an account
 * comes to be here, whether its DID is new (a did:plc genesis operation
 * sent to the PLC directory) or already exists (an account migrating
 * in).  See accounts.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "config.h"
#include "diddoc.h"
#include "err.h"
#include "events.h"
#include "keys.h"
#include "log.h"
#include "migration.h"
#include "plc.h"
#include "plc_client.h"
#include "repo_init.h"
#include "resolver.h"
#include "store.h"
#include "store_account.h"
#include "store_keys.h"
#include "store_migration.h"
#include "syntax.h"

static int
check_invite(const char *code, struct pds_error *err)
{
	struct store_invite	 inv;
	int			 rc;

	if (code == NULL || *code == '\0')
		return pds_error_set(err, PDS_EINVAL, "InvalidInviteCode",
		    "No invite code provided");
	if (strlen(code) > SA_CODE_MAX)
		goto bad;
	rc = store_invite_get(code, &inv);
	if (rc == PDS_ENOTFOUND)
		goto bad;
	if (rc != PDS_OK)
		return rc;
	if (inv.disabled || inv.used >= inv.available)
		goto bad;
	return PDS_OK;
bad:
	return pds_error_set(err, PDS_EINVAL, "InvalidInviteCode",
	    "Provided invite code not available");
}

/*
 * The checks made before anything is made or sent: handle (into
 * handle[SA_HANDLE_MAX + 1]), email (into email[SA_EMAIL_MAX + 1]),
 * password and invite code (*need_invite: one is to be consumed).
 */
static int
create_check(const struct account_new *in, char *handle, char *email,
    bool *need_invite, struct pds_error *err)
{
	const struct config	*cfg = accounts_config();
	char			 rdid[DID_MAX + 1];
	unsigned		 flags = 0;
	bool			 service;
	int			 rc;

	if (in->handle == NULL)
		return pds_error_set(err, PDS_EINVAL, "InvalidHandle",
		    "Handle is required");
	if (in->did == NULL)
		flags |= ACCOUNT_HANDLE_SERVICE;
	if (in->admin)
		flags |= ACCOUNT_HANDLE_ADMIN;
	if ((rc = account_handle_check(in->handle, flags, handle,
	    SA_HANDLE_MAX + 1, &service, err)) != PDS_OK)
		return rc;
	if (in->did != NULL && !service) {
		rc = resolver_handle(handle, rdid, sizeof(rdid));
		if (rc != PDS_OK || strcmp(rdid, in->did) != 0)
			return pds_error_set(err, PDS_EINVAL, "InvalidHandle",
			    "External handle did not resolve to DID");
	}
	if (in->email == NULL || *in->email == '\0')
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Email is required");
	/* refused in the reference's words */
	if ((rc = account_email_check(in->email, email, SA_EMAIL_MAX + 1,
	    err)) != PDS_OK)
		return rc != PDS_EINVAL ? rc : pds_error_set(err, PDS_EINVAL,
		    "InvalidRequest", "This email address is not supported, "
		    "please use a different email.");
	if (in->password == NULL || *in->password == '\0')
		return pds_error_set(err, PDS_EINVAL, "InvalidPassword",
		    "Password is required");
	if (strlen(in->password) > ACCOUNT_PASSWORD_MAX)
		return pds_error_set(err, PDS_EINVAL, "InvalidPassword",
		    "Password too long");
	*need_invite = cfg->invite_required && !in->admin;
	if (*need_invite && (rc = check_invite(in->invite_code, err)) !=
	    PDS_OK)
		return rc;
	return PDS_OK;
}

/*
 * An account of this DID here already: one that moved away (or a
 * migration in that never finished) is purged; a live or taken-down one
 * is refused.
 */
static int
create_replace_stale(const char *did, struct pds_error *err)
{
	struct store_account	 old;
	char			 why[256];
	bool			 valid = false;
	int			 rc;

	rc = store_account_get(SA_BY_DID, did, &old);
	if (rc == PDS_ENOTFOUND)
		return PDS_OK;
	if (rc != PDS_OK)
		return rc;
	if (old.status == ACCT_TAKENDOWN)
		return pds_error_set(err, PDS_EINVAL, "AccountTakedown",
		    "Account has been taken down");
	if (old.status == ACCT_ACTIVE) {
		if (migration_did_check(did, &valid, why, sizeof(why), NULL,
		    0) == PDS_OK && valid)
			return pds_error_set(err, PDS_EEXIST, "AlreadyExists",
			    "Account already exists");
		return pds_error_set(err, PDS_EEXIST, "AlreadyExists",
		    "Account already exists and is active; deactivate it "
		    "first");
	}
	log_info("createAccount %s: replacing the local copy left by an "
	    "earlier migration", did);
	return migration_account_purge(did, false);
}

/*
 * A new DID: a new signing key into *key and a did:plc genesis
 * operation into *op (signed with our rotation key, not yet sent), and
 * its DID into did.
 */
static int
create_plc_genesis(const struct account_new *in, const char *handle,
    struct pds_key **key, struct plc_op **op, char did[PLC_DID_BUF])
{
	char		 sigkey[KEY_DIDKEY_MAX];
	const char	*keys[3];
	int		 rc;

	if ((rc = key_generate(key, KEY_K256)) != PDS_OK ||
	    key_to_didkey(*key, sigkey, sizeof(sigkey)) < 0 ||
	    (rc = plc_op_build(op, keys, account_rotation_keys(keys,
	    in->recovery_key), sigkey, handle,
	    accounts_config()->public_url, NULL)) != PDS_OK ||
	    (rc = plc_op_sign(*op, account_rotation_key())) != PDS_OK ||
	    (rc = plc_op_did(*op, did)) != PDS_OK)
		return rc != PDS_OK ? rc : PDS_EINTERNAL;
	return PDS_OK;
}

/*
 * An existing DID's signing key: the one given (kept), the one reserved
 * for it, or a new one.
 */
static int
create_reserved_key(const char *did, const uint8_t *keep,
    struct pds_key **key)
{
	uint8_t	 priv[KEY_PRIV_LEN];
	int	 rc;

	if (keep != NULL)
		return key_from_private(key, KEY_K256, keep);
	if ((rc = store_keys_get(did, priv)) == PDS_OK)
		rc = key_from_private(key, KEY_K256, priv);
	else if (rc == PDS_ENOTFOUND)
		rc = key_generate(key, KEY_K256);
	sodium_memzero(priv, sizeof(priv));
	return rc;
}

/*
 * Store the empty repo's two blocks and its repo_root row only,
 * sequencing nothing (an account migrating in announces itself when it
 * is activated); inside the transaction.
 */
static int
create_store_repo_quiet(const struct repo_init *ri, const char *did,
    const char *now)
{
	struct store_block	 blocks[2];

	blocks[0].cid = ri->data_str;
	blocks[0].data = ri->data_block;
	blocks[0].len = ri->data_len;
	blocks[1].cid = ri->commit_str;
	blocks[1].data = ri->commit_block;
	blocks[1].len = ri->commit_len;
	return store_account_repo_init(did, blocks, 2, ri->commit_str,
	    ri->rev, now);
}

int
account_create(const struct account_new *in, struct account_created *out,
    struct pds_error *err)
{
	char		 handle[SA_HANDLE_MAX + 1], email[SA_EMAIL_MAX + 1];
	char		 hash[SA_HASH_MAX], now[STORE_TS_LEN];
	char		 keydid[KEY_DIDKEY_MAX], plcerr[PLC_CLIENT_ERR_MAX];
	char		 newdid[PLC_DID_BUF], pds[512];
	const char	*did = in->did;
	uint8_t		 priv[KEY_PRIV_LEN];
	struct pds_key	*key = NULL;
	struct plc_op	*op = NULL;
	struct repo_init ri;
	bool		 taken, need_invite = false;
	int		 rc;

	memset(out, 0, sizeof(*out));
	memset(&ri, 0, sizeof(ri));
	memset(err, 0, sizeof(*err));
	memset(priv, 0, sizeof(priv));
	memset(hash, 0, sizeof(hash));
	pds[0] = '\0';

	/* Check everything before anything is made or sent. */
	if (did != NULL && !did_is_plc(did, strlen(did)) &&
	    !did_is_web(did, strlen(did)))
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Only did:plc and did:web accounts can be hosted here");
	if ((rc = create_check(in, handle, email, &need_invite, err)) !=
	    PDS_OK)
		return rc;
	if (did != NULL && (rc = create_replace_stale(did, err)) != PDS_OK)
		return rc;
	if ((rc = store_account_handle_taken(handle, NULL, &taken)) != PDS_OK)
		return rc;
	if (taken)
		return pds_error_set(err, PDS_EEXIST, "HandleNotAvailable",
		    "Handle already taken: %s", handle);
	if ((rc = store_account_email_taken(email, &taken)) != PDS_OK)
		return rc;
	if (taken)
		return pds_error_set(err, PDS_EEXIST, "InvalidRequest",
		    "Email already taken: %s", email);

	if ((rc = account_password_hash(in->password, hash, sizeof(hash))) !=
	    PDS_OK)
		return rc;
	if (did != NULL)
		rc = create_reserved_key(did, in->signing_key, &key);
	else if ((rc = create_plc_genesis(in, handle, &key, &op, newdid)) ==
	    PDS_OK)
		did = newdid;
	if (rc != PDS_OK ||
	    (rc = key_export_private(key, priv)) != PDS_OK ||
	    key_to_didkey(key, keydid, sizeof(keydid)) < 0 ||
	    (rc = repo_init_build(&ri, did, key)) != PDS_OK) {
		if (rc == PDS_OK)
			rc = PDS_EINTERNAL;
		goto out;
	}
	if (op != NULL && (rc = plc_client_submit(did, op, plcerr,
	    sizeof(plcerr))) != PDS_OK) {
		log_warnx("createAccount %s: PLC: %s", handle, plcerr);
		rc = account_plc_fail(err, rc, "new DID", plcerr);
		goto out;
	}
	if (op == NULL)
		(void)resolver_pds_endpoint(did, pds, sizeof(pds));

	store_timestamp(now);
	if ((rc = store_begin()) != PDS_OK)
		goto out;
	if (need_invite && (rc = store_invite_use(in->invite_code, did,
	    now)) != PDS_OK) {
		if (rc == PDS_ENOTFOUND)
			rc = pds_error_set(err, PDS_EINVAL, "InvalidInviteCode",
			    "Provided invite code not available");
		goto rollback;
	}
	rc = store_account_insert(did, handle, email, hash, priv, now);
	if (rc == PDS_EEXIST) {
		rc = pds_error_set(err, PDS_EEXIST, "HandleNotAvailable",
		    "Handle or email already taken");
		goto rollback;
	}
	if (rc != PDS_OK)
		goto rollback;
	if (op != NULL) {
		/* The reference's order: #identity, #account, then the repo. */
		if ((rc = events_identity(did, handle)) != PDS_OK ||
		    (rc = events_account(did, ACCT_ACTIVE)) != PDS_OK ||
		    (rc = repo_init_store(&ri, did, key, now)) != PDS_OK)
			goto rollback;
	} else {
		/* Deactivated from the start, no events (the reference's). */
		if ((rc = create_store_repo_quiet(&ri, did, now)) != PDS_OK ||
		    (rc = store_account_set_status(did,
		    ACCT_DEACTIVATED, now)) != PDS_OK ||
		    (rc = store_mig_put(did, "in", "created",
		    pds[0] != '\0' ? pds : NULL, now)) != PDS_OK ||
		    (rc = store_keys_clear(keydid, did)) != PDS_OK)
			goto rollback;
	}
	if ((rc = store_commit()) != PDS_OK)
		goto out;

	snprintf(out->did, sizeof(out->did), "%s", did);
	memcpy(out->handle, handle, sizeof(handle));
	snprintf(out->rev, sizeof(out->rev), "%s", ri.rev);
	snprintf(out->commit, sizeof(out->commit), "%s", ri.commit_str);
	if (op == NULL)
		log_info("createAccount %s (%s): migrating in from %s", did,
		    handle, pds[0] != '\0' ? pds : "an unknown server");
	else {
		if (diddoc_from_plc_op(op, did, &out->did_doc) != PDS_OK)
			out->did_doc = NULL;
		log_info("created account %s (%s)", did, handle);
	}
	goto out;
rollback:
	store_rollback();
out:
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(hash, sizeof(hash));
	repo_init_clear(&ri);
	plc_op_free(op);
	key_free(key);
	return rc;
}
