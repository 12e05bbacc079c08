/*
 * api_migration: the XRPC methods of account migration (reference-pds
 * §7): repo.importRepo,
 * repo.listMissingBlobs, server.checkAccountStatus, activateAccount,
 * deactivateAccount, server.reserveSigningKey, and
 * identity.requestPlcOperationSignature, signPlcOperation,
 * submitPlcOperation.  Thin: the work is in migration.c.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "api.h"
#include "config.h"
#include "email_tokens.h"
#include "err.h"
#include "keys.h"
#include "log.h"
#include "migration.h"
#include "store.h"
#include "store_account.h"
#include "store_keys.h"
#include "store_migration.h"
#include "store_repo.h"
#include "syntax.h"
#include "xrpc.h"

#define MISSING_BLOBS_DEFAULT	500
#define MISSING_BLOBS_MAX	1000

/*
 * The end of a procedure with no output that called the account or
 * migration layer: 200 empty, or that layer's error for rc.
 */
static int
reply_done(struct xrpc_ctx *ctx, int rc, struct pds_error *err)
{
	if (rc != PDS_OK)
		return xrpc_fail_error(ctx, account_error_settle(err, rc));
	xrpc_reply_empty(ctx);
	return 0;
}

/*
 * com.atproto.server.reserveSigningKey: a new secp256k1 key, kept so
 * that createAccount for `did' (when given) uses it, and a PLC operation
 * can name it before the account exists.  The same DID gets the same
 * key until its account is created or the reservation expires
 * (store_keys.h).  The reference keeps such keys but, outside an
 * entryway, creates a new one at createAccount anyway.
 */
int
api_server_reserve_signing_key(struct xrpc_ctx *ctx)
{
	struct pds_key	*key = NULL;
	const char	*did = NULL;
	char		 keydid[KEY_DIDKEY_MAX], now[STORE_TS_LEN];
	uint8_t		 priv[KEY_PRIV_LEN];
	int		 rc;

	if (ctx->input != NULL &&
	    (rc = xrpc_input_str(ctx, "did", false, &did)) != 0)
		return rc;
	if (did != NULL && !syntax_is_did(did, strlen(did)))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Invalid DID: %.64s", did);
	if (did != NULL && (rc = store_keys_get(did, priv)) != PDS_ENOTFOUND) {
		if (rc == PDS_OK)
			rc = key_from_private(&key, KEY_K256, priv);
		if (rc == PDS_OK && key_to_didkey(key, keydid,
		    sizeof(keydid)) < 0)
			rc = PDS_EINTERNAL;
		goto out;
	}
	if ((rc = key_generate(&key, KEY_K256)) != PDS_OK ||
	    (rc = key_export_private(key, priv)) != PDS_OK)
		goto out;
	if (key_to_didkey(key, keydid, sizeof(keydid)) < 0) {
		rc = PDS_EINTERNAL;
		goto out;
	}
	store_timestamp(now);
	if ((rc = store_keys_put(keydid, did, priv, now)) == PDS_EBUSY)
		rc = xrpc_fail(ctx, PDS_EBUSY, NULL, "Too many signing keys "
		    "are reserved; try again later");
out:
	sodium_memzero(priv, sizeof(priv));
	key_free(key);
	if (rc != PDS_OK)
		return rc;
	xrpc_reply_json(ctx, json_pack("{s:s}", "signingKey", keydid));
	return 0;
}

/* ---- com.atproto.repo ---- */

int
api_repo_import_repo(struct xrpc_ctx *ctx)
{
	struct migration_import	 res;
	struct pds_error	 err;
	int			 rc;

	if (!ctx->cfg->accepting_repo_imports)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Service is not accepting repo imports");
	if (ctx->body == NULL || ctx->body_len == 0)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Request body must be a CAR file");
	rc = migration_import_repo(ctx->auth.did, ctx->body,
	    ctx->body_len, &res, &err);
	return reply_done(ctx, rc, &err);
}

struct missing {
	json_t	*arr;
	char	 last[SM_CID_MAX];
};

static int
missing_one(void *arg, const char *cid, const char *uri)
{
	struct missing	*m = arg;

	snprintf(m->last, sizeof(m->last), "%s", cid);
	return json_array_append_new(m->arr, json_pack("{s:s,s:s}", "cid",
	    cid, "recordUri", uri)) == 0 ? 0 : PDS_ENOMEM;
}

int
api_repo_list_missing_blobs(struct xrpc_ctx *ctx)
{
	const char	*ls = http_req_query(ctx->req, "limit");
	const char	*cursor = http_req_query(ctx->req, "cursor");
	struct missing	 m;
	int64_t		 limit = MISSING_BLOBS_DEFAULT;
	json_t		*o;
	int		 rc;

	if (ls != NULL && (!syntax_dec_i64(ls, &limit) || limit < 1 ||
	    limit > MISSING_BLOBS_MAX))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "limit must be an integer from 1 to %d",
		    MISSING_BLOBS_MAX);
	memset(&m, 0, sizeof(m));
	if ((m.arr = json_array()) == NULL)
		return PDS_ENOMEM;
	if ((rc = store_missing_blobs(ctx->auth.did, cursor, (size_t)limit,
	    missing_one, &m)) != PDS_OK) {
		json_decref(m.arr);
		return rc;
	}
	o = json_pack("{s:o}", "blobs", m.arr);
	if (o != NULL && json_array_size(m.arr) == (size_t)limit)
		json_object_set_new(o, "cursor", json_string(m.last));
	xrpc_reply_json(ctx, o);
	return 0;
}

/* ---- com.atproto.server ---- */

int
api_server_check_account_status(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	struct store_repo_counts c;
	struct cid		 head;
	char			 rev[TID_LEN + 1], hs[CID_STR_MAX], why[256];
	bool			 valid = false;
	json_t			*o;
	int			 rc;

	if ((rc = account_get(ctx->auth.did, &a)) != PDS_OK)
		return rc;
	if ((rc = store_repo_counts(a.did, &c)) != PDS_OK)
		return rc;
	if ((rc = store_repo_root_get(a.did, &head, rev)) != PDS_OK ||
	    cid_format(&head, hs, sizeof(hs)) < 0)
		return rc != PDS_OK ? rc : PDS_EINTERNAL;
	if (migration_did_check(a.did, &valid, why, sizeof(why), NULL, 0) !=
	    PDS_OK)
		valid = false;
	o = json_pack("{s:b,s:b,s:s,s:s,s:I,s:I,s:I,s:I,s:I}",
	    "activated", a.status == ACCT_ACTIVE,
	    "validDid", valid,
	    "repoCommit", hs, "repoRev", rev,
	    "repoBlocks", (json_int_t)c.repo_blocks,
	    "indexedRecords", (json_int_t)c.records,
	    "privateStateValues", (json_int_t)0,
	    "expectedBlobs", (json_int_t)c.blobs_expected,
	    "importedBlobs", (json_int_t)c.blobs_imported);
	return xrpc_reply_json_or(ctx, o, PDS_ENOMEM);
}

int
api_server_activate_account(struct xrpc_ctx *ctx)
{
	struct pds_error	 err;
	int			 rc;

	rc = migration_activate(ctx->auth.did, &err);
	return reply_done(ctx, rc, &err);
}

int
api_server_deactivate_account(struct xrpc_ctx *ctx)
{
	struct pds_error	 err;
	const char		*after;
	int			 rc;

	if (ctx->input != NULL &&
	    (rc = xrpc_input_str(ctx, "deleteAfter", false, &after)) != 0)
		return rc;
	if (ctx->input == NULL)
		after = NULL;
	rc = migration_deactivate(ctx->auth.did, after, &err);
	return reply_done(ctx, rc, &err);
}

/* ---- com.atproto.identity ---- */

int
api_identity_sign_plc_operation(struct xrpc_ctx *ctx)
{
	struct pds_error	 err;
	const char		*token;
	json_t			*op = NULL;
	int			 rc;

	memset(&err, 0, sizeof(err));
	if ((rc = xrpc_input_str(ctx, "token", false, &token)) != 0)
		return rc;
	if (token == NULL || *token == '\0')
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "email confirmation token required to sign PLC "
		    "operations");
	if ((rc = email_token_check(ctx->auth.did, EMAIL_PLC_OPERATION,
	    token)) != PDS_OK)
		return api_email_token_error(ctx, rc);
	if ((rc = migration_sign_plc_op(ctx->auth.did, ctx->input, &op,
	    &err)) != PDS_OK)
		return xrpc_fail_error(ctx, account_error_settle(&err, rc));
	(void)email_token_consume(ctx->auth.did, EMAIL_PLC_OPERATION);
	xrpc_reply_json(ctx, json_pack("{s:o}", "operation", op));
	return 0;
}

int
api_identity_submit_plc_operation(struct xrpc_ctx *ctx)
{
	struct pds_error	 err;
	int			 rc;

	memset(&err, 0, sizeof(err));
	rc = migration_submit_plc_op(ctx->auth.did,
	    json_object_get(ctx->input, "operation"), &err);
	return reply_done(ctx, rc, &err);
}
