/*
 * migration_admin: the operator's view of migrations and the email
 * tokens, as admin socket command handlers (migration.h lists the rows
 * admin_cmds.c's table gives them).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "admin_service.h"
#include "admin_socket.h"
#include "adminproto.h"
#include "email_tokens.h"
#include "err.h"
#include "log.h"
#include "migration.h"
#include "store.h"
#include "store_migration.h"

struct status_acc {
	json_t	*in, *out;
};

/*
 * One account: inbound while it is being moved here, outbound once it
 * asked to leave (or its DID names another server).
 */
static int
status_row(void *arg, const struct store_mig *m)
{
	struct status_acc	*acc = arg;
	char			 why[256], pds[512];
	bool			 valid = false, checked;
	json_t			*e;

	checked = migration_did_check(m->did, &valid, why, sizeof(why), pds,
	    sizeof(pds)) == PDS_OK;
	/* What the account holds here: import progress, or what is left. */
	e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:I}", "did",
	    m->did, "handle", m->handle[0] ? m->handle : "handle.invalid",
	    "status", acct_status_name(m->status), "startedAt", m->started_at,
	    "updatedAt", m->updated_at, "didPointsHere", checked && valid,
	    "records", (json_int_t)m->records, "repoBlocks",
	    (json_int_t)m->repo_blocks, "blobs", (json_int_t)m->blobs_imported,
	    "blobsExpected", (json_int_t)m->blobs_expected);
	if (e == NULL)
		return PDS_ENOMEM;
	if (checked && pds[0] != '\0')
		json_object_set_new(e, "didPds", json_string(pds));
	if (!checked)
		json_object_set_new(e, "didError", json_string(why));
	if (strcmp(m->direction, "in") == 0 ||
	    (m->direction[0] == '\0' && (!checked || !valid) &&
	    m->records_expected >= 0)) {
		json_object_set_new(e, "state", json_string(m->state[0] ?
		    m->state : "created"));
		if (m->records_expected >= 0)
			json_object_set_new(e, "recordsExpected",
			    json_integer(m->records_expected));
		if (m->peer[0])
			json_object_set_new(e, "from", json_string(m->peer));
		if (m->source_rev[0])
			json_object_set_new(e, "sourceRev",
			    json_string(m->source_rev));
		return json_array_append_new(acc->in, e) == 0 ? 0 :
		    PDS_ENOMEM;
	}
	/* Outbound, or deactivated without a migration row. */
	json_object_set_new(e, "state", json_string(checked && !valid ?
	    "moved" : m->state[0] ? m->state : "deactivated"));
	json_object_set_new(e, "completed", json_boolean(checked && !valid));
	if (m->peer[0])
		json_object_set_new(e, "to", json_string(m->peer));
	return json_array_append_new(acc->out, e) == 0 ? 0 : PDS_ENOMEM;
}

int
migration_status_json(json_t **out)
{
	struct status_acc	 acc;
	int			 rc;

	*out = NULL;
	acc.in = json_array();
	acc.out = json_array();
	if (acc.in == NULL || acc.out == NULL) {
		json_decref(acc.in);
		json_decref(acc.out);
		return PDS_ENOMEM;
	}
	if ((rc = store_mig_list(status_row, &acc)) != PDS_OK) {
		json_decref(acc.in);
		json_decref(acc.out);
		return rc;
	}
	*out = json_pack("{s:o,s:o}", "inbound", acc.in, "outbound",
	    acc.out);
	return *out != NULL ? PDS_OK : PDS_ENOMEM;
}

static int
arg_str(struct admin_call *call, const char *key, bool required,
    const char **out)
{
	const json_t	*v = json_object_get(call->args, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return PDS_OK;
		call->err.name = AP_E_INVALID_ARGUMENT;
		snprintf(call->err.e.msg, sizeof(call->err.e.msg),
		    "argument %s is required", key);
		return PDS_EINVAL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		call->err.name = AP_E_INVALID_ARGUMENT;
		snprintf(call->err.e.msg, sizeof(call->err.e.msg),
		    "argument %s must be a non-empty string", key);
		return PDS_EINVAL;
	}
	*out = json_string_value(v);
	return PDS_OK;
}

static int
internal(struct admin_call *call, int rc)
{
	call->err.name = AP_E_INTERNAL;
	snprintf(call->err.e.msg, sizeof(call->err.e.msg), "%s",
	    pds_strerror(rc));
	return rc;
}

int
migration_cmd_status(struct admin_call *call)
{
	int	 rc;

	if ((rc = migration_status_json(&call->result)) != PDS_OK)
		return internal(call, rc);
	return PDS_OK;
}

/* Purge one account if (and only if) its DID now names another server. */
static int
purge_one(struct admin_call *call, const struct store_account *a,
    const char *reason, json_t *done)
{
	char	 why[256], pds[512];
	bool	 valid = true;
	json_t	*d;
	int	 rc;

	rc = migration_did_check(a->did, &valid, why, sizeof(why), pds,
	    sizeof(pds));
	if (rc != PDS_OK || valid || pds[0] == '\0' ||
	    a->status == ACCT_ACTIVE) {
		d = json_pack("{s:s}", "why", rc != PDS_OK ? why : valid ?
		    "the DID document still points here" :
		    a->status == ACCT_ACTIVE ?
		    "the account is active" : "the DID names no server");
		admin_audit(call->actor, "migration.purge", a->did, reason,
		    "refused", AP_E_INVALID_ARGUMENT, d);
		json_decref(d);
		return PDS_EINVAL;
	}
	d = json_pack("{s:s,s:s}", "handle", a->handle, "movedTo", pds);
	if ((rc = migration_account_purge(a->did, false)) != PDS_OK) {
		admin_audit(call->actor, "migration.purge", a->did, reason,
		    "failed", AP_E_INTERNAL, d);
		json_decref(d);
		return rc;
	}
	admin_audit(call->actor, "migration.purge", a->did, reason, "ok",
	    NULL, d);
	json_decref(d);
	log_info("migration: purged %s (moved to %s)", a->did, pds);
	return json_array_append_new(done, json_string(a->did)) == 0 ?
	    PDS_OK : PDS_ENOMEM;
}

struct purge_all {
	struct admin_call	*call;
	const char		*reason;
	json_t			*done;
	json_t			*dids;
};

static int
collect_out(void *arg, const struct store_mig *m)
{
	struct purge_all	*pa = arg;

	if (m->status == ACCT_ACTIVE || strcmp(m->direction, "in") == 0)
		return 0;
	return json_array_append_new(pa->dids, json_string(m->did)) == 0 ?
	    0 : PDS_ENOMEM;
}

int
migration_cmd_purge(struct admin_call *call)
{
	struct store_account	 a;
	struct purge_all	 pa;
	const char		*who, *reason;
	const json_t		*all;
	json_t			*v;
	size_t			 i;
	int			 rc;

	if ((rc = arg_str(call, "account", false, &who)) != PDS_OK ||
	    (rc = arg_str(call, "reason", false, &reason)) != PDS_OK)
		return rc;
	all = json_object_get(call->args, "all");
	if ((who == NULL) == !json_is_true(all)) {
		call->err.name = AP_E_INVALID_ARGUMENT;
		snprintf(call->err.e.msg, sizeof(call->err.e.msg),
		    "give either account or all: true");
		return PDS_EINVAL;
	}
	memset(&pa, 0, sizeof(pa));
	pa.call = call;
	pa.reason = reason;
	if ((pa.done = json_array()) == NULL)
		return internal(call, PDS_ENOMEM);
	if (who != NULL) {
		if ((rc = admin_account_resolve(who, &a, &call->err)) !=
		    PDS_OK) {
			json_decref(pa.done);
			return rc;
		}
		if ((rc = purge_one(call, &a, reason, pa.done)) != PDS_OK) {
			json_decref(pa.done);
			if (rc == PDS_EINVAL) {
				call->err.name = AP_E_INVALID_ARGUMENT;
				snprintf(call->err.e.msg,
				    sizeof(call->err.e.msg),
				    "%s has not moved to another server", who);
				return rc;
			}
			return internal(call, rc);
		}
	} else {
		if ((pa.dids = json_array()) == NULL ||
		    (rc = store_mig_list(collect_out, &pa)) != PDS_OK) {
			json_decref(pa.dids);
			json_decref(pa.done);
			return internal(call, PDS_ENOMEM);
		}
		json_array_foreach(pa.dids, i, v) {
			if (store_account_get(SA_BY_DID, json_string_value(v),
			    &a) != PDS_OK)
				continue;
			rc = purge_one(call, &a, reason, pa.done);
			if (rc != PDS_OK && rc != PDS_EINVAL) {
				json_decref(pa.dids);
				json_decref(pa.done);
				return internal(call, rc);
			}
		}
		json_decref(pa.dids);
	}
	call->result = json_pack("{s:o}", "purged", pa.done);
	return call->result != NULL ? PDS_OK : internal(call, PDS_ENOMEM);
}

int
migration_cmd_account_token(struct admin_call *call)
{
	struct store_account	 a;
	const char		*who, *purpose, *reason;
	char			 token[EMAIL_TOKEN_LEN + 1];
	char			 expires[STORE_TS_LEN];
	json_t			*d;
	int			 p, rc;

	if ((rc = arg_str(call, "account", true, &who)) != PDS_OK ||
	    (rc = arg_str(call, "purpose", true, &purpose)) != PDS_OK ||
	    (rc = arg_str(call, "reason", false, &reason)) != PDS_OK)
		return rc;
	if ((p = email_purpose_parse(purpose)) < 0) {
		call->err.name = AP_E_INVALID_ARGUMENT;
		snprintf(call->err.e.msg, sizeof(call->err.e.msg),
		    "purpose must be confirm_email, update_email, "
		    "reset_password, delete_account, plc_operation or "
		    "2fa_code");
		return PDS_EINVAL;
	}
	if ((rc = admin_account_resolve(who, &a, &call->err)) != PDS_OK)
		return rc;
	d = json_pack("{s:s}", "purpose", purpose);
	rc = email_token_peek(a.did, (enum email_purpose)p, token, expires);
	if (rc != PDS_OK) {
		admin_audit(call->actor, "account.token", a.did, reason,
		    "failed", rc == PDS_EEXPIRED ? "ExpiredToken" :
		    "NoSuchToken", d);
		json_decref(d);
		call->err.name = rc == PDS_EEXPIRED || rc == PDS_ENOTFOUND ?
		    AP_E_NO_SUCH_TOKEN : AP_E_INTERNAL;
		snprintf(call->err.e.msg, sizeof(call->err.e.msg), "%s",
		    rc == PDS_EEXPIRED ? "the token has expired; the member "
		    "must ask for a new one" : rc == PDS_ENOTFOUND ?
		    "no token of that purpose was requested" :
		    pds_strerror(rc));
		return rc == PDS_EEXPIRED ? PDS_ENOTFOUND : rc;
	}
	/* The audit row names the purpose, never the token. */
	admin_audit(call->actor, "account.token", a.did, reason, "ok", NULL,
	    d);
	json_decref(d);
	call->result = json_pack("{s:s,s:s,s:s,s:s}", "did", a.did,
	    "purpose", purpose, "token", token, "expiresAt", expires);
	sodium_memzero(token, sizeof(token));
	return call->result != NULL ? PDS_OK : internal(call, PDS_ENOMEM);
}
