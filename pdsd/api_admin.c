/*
 * api_admin: the com.atproto.admin XRPC methods.  The router has checked
 * the admin credentials (XRPC_AUTH_ADMIN / XRPC_AUTH_MOD routes); each
 * handler parses its input, calls admin_service (the same functions the
 * admin socket's commands call) as actor "xrpc-admin", and formats the
 * lexicon's output.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin_service.h"
#include "adminproto.h"
#include "api.h"
#include "err.h"
#include "log.h"
#include "mailer.h"
#include "store_account.h"
#include "xrpc.h"

#define INFOS_MAX	100
#define SEND_EMAIL_SUBJECT	"Message via your PDS"

static const char *
in_str(struct xrpc_ctx *ctx, const char *key)
{
	json_t	*v = json_object_get(ctx->input, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int
need(struct xrpc_ctx *ctx, const char *v, const char *key)
{
	if (v == NULL || *v == '\0')
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input must have the property \"%s\"", key);
	return 0;
}

static void
reply_empty(struct xrpc_ctx *ctx)
{
	xrpc_reply_json(ctx, json_object());
}

/*
 * The end of a handler that called the admin layer: rc's error (out
 * is dropped), or 200 with out.
 */
static int
reply_done(struct xrpc_ctx *ctx, int rc, struct admin_err *err, json_t *out)
{
	if (rc != PDS_OK) {
		json_decref(out);
		return xrpc_fail_error(ctx, admin_error_settle(err, rc));
	}
	xrpc_reply_json(ctx, out);
	return 0;
}

/* ---- subject status ---- */

int
api_admin_update_subject_status(struct xrpc_ctx *ctx)
{
	struct admin_actor	 actor;
	struct admin_err	 err;
	json_t			*subj, *td, *de, *out;
	const char		*type, *did, *uri, *cid, *ref = NULL;
	bool			 applied, deactivate;
	int			 rc = PDS_OK;

	memset(&err, 0, sizeof(err));
	admin_actor_xrpc(&actor);
	subj = json_object_get(ctx->input, "subject");
	td = json_object_get(ctx->input, "takedown");
	de = json_object_get(ctx->input, "deactivated");
	if (!json_is_object(subj))
		return need(ctx, NULL, "subject");
	type = json_string_value(json_object_get(subj, "$type"));
	did = json_string_value(json_object_get(subj, "did"));
	uri = json_string_value(json_object_get(subj, "uri"));
	cid = json_string_value(json_object_get(subj, "cid"));
	if (td != NULL && (!json_is_object(td) ||
	    !json_is_boolean(json_object_get(td, "applied"))))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "takedown must be {applied: boolean, ref?: string}");
	if (de != NULL && (!json_is_object(de) ||
	    !json_is_boolean(json_object_get(de, "applied"))))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "deactivated must be {applied: boolean}");
	if (td != NULL)
		ref = json_string_value(json_object_get(td, "ref"));
	applied = json_is_true(json_object_get(td, "applied"));
	deactivate = json_is_true(json_object_get(de, "applied"));
	if (type == NULL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "subject must have a $type");
	if (strcmp(type, "com.atproto.admin.defs#repoRef") == 0) {
		if (need(ctx, did, "subject.did"))
			return PDS_EINVAL;
		if (td != NULL && applied && de != NULL && !deactivate)
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "Cannot both take down and activate an account");
		if (td != NULL)
			rc = admin_account_takedown(&actor, did, applied, ref,
			    NULL, &err);
		if (rc == PDS_OK && de != NULL)
			rc = admin_account_deactivate(&actor, did, deactivate,
			    NULL, &err);
	} else if (strcmp(type, "com.atproto.repo.strongRef") == 0) {
		if (need(ctx, uri, "subject.uri"))
			return PDS_EINVAL;
		if (td != NULL)
			rc = admin_record_takedown(&actor, uri, applied, ref,
			    NULL, &err);
	} else if (strcmp(type, "com.atproto.admin.defs#repoBlobRef") == 0) {
		if (need(ctx, did, "subject.did") ||
		    need(ctx, cid, "subject.cid"))
			return PDS_EINVAL;
		if (td != NULL)
			rc = admin_blob_takedown(&actor, did, cid, applied,
			    ref, NULL, &err);
	} else
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Invalid subject type: %s", type);
	if (rc != PDS_OK)
		return xrpc_fail_error(ctx, admin_error_settle(&err, rc));
	out = json_pack("{s:O}", "subject", subj);
	if (out != NULL && td != NULL)
		json_object_set(out, "takedown", td);
	xrpc_reply_json(ctx, out);
	return 0;
}

int
api_admin_get_subject_status(struct xrpc_ctx *ctx)
{
	struct admin_err	 err;
	const char		*did, *uri, *blob;
	json_t			*out;
	int			 rc;

	memset(&err, 0, sizeof(err));
	did = http_req_query(ctx->req, "did");
	uri = http_req_query(ctx->req, "uri");
	blob = http_req_query(ctx->req, "blob");
	if (blob != NULL && did == NULL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Must provide a did to request blob state");
	if (did == NULL && uri == NULL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "No provided subject");
	rc = admin_subject_status(uri != NULL ? NULL : did, uri, blob, &out,
	    &err);
	if (rc == PDS_ENOTFOUND)
		return xrpc_fail(ctx, PDS_ENOSUCH, "NotFound",
		    "Subject not found");
	return reply_done(ctx, rc, &err, out);
}

/* ---- accounts ---- */

int
api_admin_get_account_info(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	struct admin_err	 err;
	const char		*did = http_req_query(ctx->req, "did");
	json_t			*out;
	int			 rc;

	memset(&err, 0, sizeof(err));
	if (did == NULL || strncmp(did, "did:", 4) != 0)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "did must be a DID");
	if ((rc = admin_account_resolve(did, &a, &err)) != PDS_OK) {
		if (rc == PDS_ENOTFOUND)
			return xrpc_fail(ctx, PDS_EINVAL,
			    "NotFound", "Account not found");
		return xrpc_fail_error(ctx, admin_error_settle(&err, rc));
	}
	if (admin_account_view(&a, true, &out) != PDS_OK)
		return PDS_EINTERNAL;
	xrpc_reply_json(ctx, out);
	return 0;
}

int
api_admin_get_account_infos(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	struct admin_err	 err;
	const char		*dids[INFOS_MAX];
	json_t			*infos, *v;
	size_t			 i, n;

	n = http_req_query_all(ctx->req, "dids", dids, INFOS_MAX);
	if (n == 0)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "dids is required");
	if (n > INFOS_MAX)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "at most %d dids", INFOS_MAX);
	if ((infos = json_array()) == NULL)
		return PDS_EINTERNAL;
	for (i = 0; i < n; i++) {
		memset(&err, 0, sizeof(err));
		if (strncmp(dids[i], "did:", 4) != 0 ||
		    admin_account_resolve(dids[i], &a, &err) != PDS_OK)
			continue;	/* unknown DIDs are left out */
		if (admin_account_view(&a, true, &v) != PDS_OK) {
			json_decref(infos);
			return PDS_EINTERNAL;
		}
		json_array_append_new(infos, v);
	}
	xrpc_reply_json(ctx, json_pack("{s:o}", "infos", infos));
	return 0;
}

/* ?limit= into *out (def when absent), refused unless 1 to max. */
static int
query_limit(struct xrpc_ctx *ctx, size_t def, size_t max, size_t *out)
{
	const char	*s = http_req_query(ctx->req, "limit");
	char		*end;
	unsigned long	 n;

	*out = def;
	if (s == NULL)
		return 0;
	n = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n < 1 || n > max)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "limit must be 1 to %zu", max);
	*out = (size_t)n;
	return 0;
}

int
api_admin_search_accounts(struct xrpc_ctx *ctx)
{
	struct admin_err	 err;
	const char		*q = http_req_query(ctx->req, "email");
	json_t			*out;
	size_t			 limit;
	int			 rc;

	memset(&err, 0, sizeof(err));
	if ((rc = query_limit(ctx, 50, 100, &limit)) != 0)
		return rc;
	if (q == NULL || *q == '\0')
		rc = admin_account_list(NULL, http_req_query(ctx->req,
		    "cursor"), limit, &out, &err);
	else
		rc = admin_account_search(q, NULL, http_req_query(ctx->req,
		    "cursor"), limit, &out, &err);
	return reply_done(ctx, rc, &err, out);
}

/* ---- invites ---- */

int
api_admin_get_invite_codes(struct xrpc_ctx *ctx)
{
	struct admin_err	 err;
	json_t			*out;
	size_t			 limit;
	int			 rc;

	memset(&err, 0, sizeof(err));
	if ((rc = query_limit(ctx, 100, 500, &limit)) != 0)
		return rc;
	rc = admin_invite_list(http_req_query(ctx->req, "sort"), NULL, true,
	    http_req_query(ctx->req, "cursor"), limit, &out, &err);
	return reply_done(ctx, rc, &err, out);
}

int
api_admin_disable_invite_codes(struct xrpc_ctx *ctx)
{
	struct admin_actor	 actor;
	struct admin_err	 err;
	json_t			*codes, *accounts;
	int			 rc;

	memset(&err, 0, sizeof(err));
	admin_actor_xrpc(&actor);
	codes = json_object_get(ctx->input, "codes");
	accounts = json_object_get(ctx->input, "accounts");
	if ((codes != NULL && !json_is_array(codes)) ||
	    (accounts != NULL && !json_is_array(accounts)))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "codes and accounts must be arrays");
	if (json_array_size(codes) + json_array_size(accounts) == 0) {
		reply_empty(ctx);	/* nothing to do, as in the reference */
		return 0;
	}
	rc = admin_invite_disable(&actor, codes, accounts,
	    in_str(ctx, "note"), &err);
	return reply_done(ctx, rc, &err, json_object());
}

/* enableAccountInvites, or disableAccountInvites: the route says which. */
int
api_admin_account_invites(struct xrpc_ctx *ctx)
{
	struct admin_actor	 actor;
	struct admin_err	 err;
	const char		*acct = in_str(ctx, "account");
	bool			 enabled = ctx->route->arg;
	int			 rc;

	memset(&err, 0, sizeof(err));
	admin_actor_xrpc(&actor);
	if (need(ctx, acct, "account"))
		return PDS_EINVAL;
	rc = admin_account_invites_enable(&actor, acct, enabled,
	    in_str(ctx, "note"), &err);
	return reply_done(ctx, rc, &err, json_object());
}


/* ---- account changes ---- */

/*
 * updateAccountHandle and updateAccountEmail: the account named by the
 * input's who_key gets the input's key through set.
 */
static int
account_set(struct xrpc_ctx *ctx, const char *who_key, const char *key,
    int (*set)(const struct admin_actor *, const char *, const char *,
    const char *, struct admin_err *))
{
	struct admin_actor	 actor;
	struct admin_err	 err;
	const char		*who = in_str(ctx, who_key);
	const char		*value = in_str(ctx, key);
	int			 rc;

	memset(&err, 0, sizeof(err));
	admin_actor_xrpc(&actor);
	if (need(ctx, who, who_key) || need(ctx, value, key))
		return PDS_EINVAL;
	rc = set(&actor, who, value, NULL, &err);
	return reply_done(ctx, rc, &err, json_object());
}

int
api_admin_update_account_handle(struct xrpc_ctx *ctx)
{
	return account_set(ctx, "did", "handle", admin_account_set_handle);
}

int
api_admin_update_account_email(struct xrpc_ctx *ctx)
{
	return account_set(ctx, "account", "email", admin_account_set_email);
}

int
api_admin_update_account_password(struct xrpc_ctx *ctx)
{
	struct admin_actor	 actor;
	struct admin_err	 err;
	const char		*did = in_str(ctx, "did");
	const char		*pw = in_str(ctx, "password");
	json_t			*out = NULL;
	int			 rc;

	memset(&err, 0, sizeof(err));
	admin_actor_xrpc(&actor);
	if (need(ctx, did, "did") || need(ctx, pw, "password"))
		return PDS_EINVAL;
	rc = admin_account_set_password(&actor, did, pw, NULL, &out, &err);
	json_decref(out);
	return reply_done(ctx, rc, &err, json_object());
}

int
api_admin_delete_account(struct xrpc_ctx *ctx)
{
	struct admin_actor	 actor;
	struct admin_err	 err;
	const char		*did = in_str(ctx, "did");
	int			 rc;

	memset(&err, 0, sizeof(err));
	admin_actor_xrpc(&actor);
	if (need(ctx, did, "did"))
		return PDS_EINVAL;
	rc = admin_account_delete(&actor, did, NULL, &err);
	return reply_done(ctx, rc, &err, json_object());
}

/* ---- messages to members ---- */

int
api_admin_send_email(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	const char		*did = in_str(ctx, "recipientDid");
	const char		*content = in_str(ctx, "content");
	const char		*sender = in_str(ctx, "senderDid");
	const char		*subject = in_str(ctx, "subject");
	int			 rc;

	if (need(ctx, did, "recipientDid") || need(ctx, content, "content") ||
	    need(ctx, sender, "senderDid"))
		return PDS_EINVAL;
	if (subject == NULL)
		subject = SEND_EMAIL_SUBJECT;
	if (strpbrk(subject, "\r\n") != NULL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "subject must be one line");
	memset(&a, 0, sizeof(a));
	rc = store_account_get(SA_BY_DID, did, &a);
	if (rc == PDS_ENOTFOUND)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Recipient not found");
	if (rc != PDS_OK)
		return rc;
	if (a.email[0] == '\0')
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "account does not have an email address");
	rc = mailer_send_moderation(a.email, subject, content);
	if (rc == PDS_EUNSUPP) {
		/* No SMTP at all: say so rather than pretend. */
		log_warnx("admin.sendEmail to %s from %s: no SMTP configured",
		    did, sender);
		xrpc_reply_json(ctx, json_pack("{s:b}", "sent", 0));
		return 0;
	}
	if (rc != PDS_OK)
		return api_email_send_error(ctx, rc);
	log_info("admin.sendEmail to %s from %s", did, sender);
	xrpc_reply_json(ctx, json_pack("{s:b}", "sent", 1));
	return 0;
}
