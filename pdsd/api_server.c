/*
 * api_server: com.atproto.server account and session methods
 * (createAccount, createSession, refreshSession, deleteSession,
 * getSession, app passwords, invite codes).  Thin: parse the input, call
 * the account service (accounts.h) or the session tokens (auth.h),
 * format the output.  The router has already checked the HTTP method,
 * the body and the credentials (xrpc.h).
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
#include "auth.h"
#include "auth_factor.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "invites.h"
#include "keys.h"
#include "log.h"
#include "oauth_resource.h"
#include "ratelimit.h"
#include "store_account.h"
#include "syntax.h"
#include "xrpc.h"

#define INVITE_CODES_MAX	1000	/* per createInviteCodes account */
#define INVITE_ACCOUNTS_MAX	100

/*
 * An optional string property: PDS_OK with *out (NULL when absent), or
 * an InvalidRequest for another JSON type.
 */
static int
opt_str(struct xrpc_ctx *ctx, const char *key, const char **out)
{
	json_t	*v = json_object_get(ctx->input, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input/%s must be a string", key);
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input/%s must not contain NUL", key);
	return 0;
}

static int
req_str(struct xrpc_ctx *ctx, const char *key, const char **out)
{
	int	 rc;

	if ((rc = opt_str(ctx, key, out)) != 0)
		return rc;
	if (*out == NULL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input must have the property \"%s\"", key);
	return 0;
}

/* An optional boolean property, false when absent. */
static int
opt_bool(struct xrpc_ctx *ctx, const char *key, bool *out)
{
	int	 v, rc;

	rc = api_input_bool(ctx, "Input/", key, &v);
	*out = v == 1;
	return rc;
}

static int
query_bool(struct xrpc_ctx *ctx, const char *key, bool dflt, bool *out)
{
	const char	*v = http_req_query(ctx->req, key);

	*out = dflt;
	if (v == NULL)
		return 0;
	if (strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0)
		*out = false;
	else
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Parameter %s must be true or false", key);
	return 0;
}

/*
 * The session view createSession, refreshSession and getSession share
 * (tokens when s is non-NULL).
 */
static json_t *
session_json(const struct store_account *a, const struct auth_session *s,
    bool with_doc)
{
	const char	*status;
	json_t		*o, *doc = NULL;
	bool		 active;

	if ((o = json_object()) == NULL)
		return NULL;
	if (s != NULL) {
		json_object_set_new(o, "accessJwt", json_string(s->access));
		json_object_set_new(o, "refreshJwt", json_string(s->refresh));
	}
	json_object_set_new(o, "handle", json_string(a->handle[0] ?
	    a->handle : "handle.invalid"));
	json_object_set_new(o, "did", json_string(a->did));
	if (with_doc && account_did_doc(a->did, &doc) == PDS_OK)
		json_object_set_new(o, "didDoc", doc);
	if (a->email[0] != '\0')
		json_object_set_new(o, "email", json_string(a->email));
	json_object_set_new(o, "emailConfirmed",
	    json_boolean(a->email_confirmed_at[0] != '\0'));
	json_object_set_new(o, "emailAuthFactor",
	    json_boolean(a->email_auth_factor));
	account_status(a, &active, &status);
	json_object_set_new(o, "active", json_boolean(active));
	if (status != NULL)
		json_object_set_new(o, "status", json_string(status));
	return o;
}

/*
 * The end of createSession, refreshSession and getSession: reply with
 * the session view, and wipe s's tokens (s may be NULL).  An OAuth
 * scope without account:email or transition:email does not see the
 * email fields.
 */
static int
reply_session(struct xrpc_ctx *ctx, const struct store_account *a,
    struct auth_session *s)
{
	json_t	*o = session_json(a, s, ctx->cfg->did_doc_with_session);

	if (o != NULL && !oauth_resource_email_readable(ctx)) {
		json_object_del(o, "email");
		json_object_del(o, "emailConfirmed");
		json_object_del(o, "emailAuthFactor");
	}
	xrpc_reply_json(ctx, o);
	if (s != NULL)
		auth_session_clear(s);
	return 0;
}

/* ---- createAccount ---- */

int
api_server_create_account(struct xrpc_ctx *ctx)
{
	struct account_new	 in;
	struct account_created	 out;
	struct pds_error	 err;
	struct auth_session	 s;
	struct pds_key		*k = NULL;
	const char		*why;
	json_t			*o;
	int			 rc;

	memset(&in, 0, sizeof(in));
	if ((rc = opt_str(ctx, "handle", &in.handle)) != 0 ||
	    (rc = opt_str(ctx, "email", &in.email)) != 0 ||
	    (rc = opt_str(ctx, "password", &in.password)) != 0 ||
	    (rc = opt_str(ctx, "inviteCode", &in.invite_code)) != 0 ||
	    (rc = opt_str(ctx, "recoveryKey", &in.recovery_key)) != 0 ||
	    (rc = opt_str(ctx, "did", &in.did)) != 0)
		return rc;
	if (in.handle == NULL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input must have the property \"handle\"");
	/* A PLC operation comes only with a DID, as in the reference. */
	if (in.did == NULL && json_is_object(json_object_get(ctx->input,
	    "plcOp")))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Unsupported input: \"plcOp\"");
	/* An existing DID (migration in): only with a service JWT from it. */
	if (in.did != NULL || ctx->auth.cred == XRPC_CRED_SERVICE) {
		if (in.did == NULL || ctx->auth.cred != XRPC_CRED_SERVICE ||
		    strcmp(ctx->auth.did, in.did) != 0)
			return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
			    "Missing auth to create account with did: %s",
			    in.did != NULL ? in.did : ctx->auth.did);
		in.recovery_key = NULL;
	} else if (in.recovery_key != NULL) {
		rc = key_from_didkey(&k, in.recovery_key,
		    strlen(in.recovery_key), &why);
		key_free(k);
		if (rc != PDS_OK)
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "recoveryKey must be a did:key (k256 or p256)");
	}
	if ((rc = account_create(&in, &out, &err)) != PDS_OK)
		return xrpc_fail_error(ctx, account_error_settle(&err, rc));
	if ((rc = auth_session_create(out.did, AUTH_SCOPE_ACCESS, NULL, true,
	    &s)) != PDS_OK) {
		json_decref(out.did_doc);
		return rc;
	}
	o = json_pack("{s:s,s:s,s:s,s:s}", "handle", out.handle, "did",
	    out.did, "accessJwt", s.access, "refreshJwt", s.refresh);
	if (o != NULL && out.did_doc != NULL)
		json_object_set(o, "didDoc", out.did_doc);
	json_decref(out.did_doc);
	auth_session_clear(&s);
	return xrpc_reply_json_or(ctx, o, PDS_ENOMEM);
}

/* ---- sessions ---- */

int
api_server_create_session(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	struct account_login	 how;
	struct auth_session	 s;
	const char		*id, *pw, *addr, *scope, *factor;
	bool			 allow_td, found, limit, failed;
	int			 rc;

	if ((rc = req_str(ctx, "identifier", &id)) != 0 ||
	    (rc = req_str(ctx, "password", &pw)) != 0 ||
	    (rc = opt_bool(ctx, "allowTakendown", &allow_td)) != 0)
		return rc;
	addr = http_req_client(ctx->req);
	limit = !ratelimit_bypass(ctx->req);
	rc = account_lookup(id, &a);
	if (rc != PDS_OK && rc != PDS_ENOTFOUND)
		return rc;
	found = rc == PDS_OK && a.status != ACCT_DELETED;
	if (limit && auth_login_take(id, found ? a.did : NULL, addr) !=
	    PDS_OK)
		return xrpc_fail(ctx, PDS_ERATELIMIT, NULL,
		    "Too many failed login attempts; try again later");
	rc = account_password_verify(found ? &a : NULL, pw, &how);
	if (rc == PDS_ECRYPTO)
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
		    "Invalid identifier or password");
	if (rc != PDS_OK)
		return rc;
	/* the emailed code of emailAuthFactor (auth_factor.h) */
	if (auth_factor_required(&a, &how)) {
		if ((rc = opt_str(ctx, "authFactorToken", &factor)) != 0)
			return rc;
		if ((rc = auth_factor_check(ctx, &a, factor, &failed)) != 0) {
			if (limit && !failed)
				auth_login_refund(id, a.did, addr);
			return rc;
		}
	}
	if (limit)
		auth_login_refund(id, a.did, addr);

	if (a.status == ACCT_TAKENDOWN) {
		if (!allow_td)
			return xrpc_fail(ctx, PDS_EAUTHREQ,
			    "AccountTakedown", "Account has been taken down");
		scope = AUTH_SCOPE_TAKENDOWN;
	} else if (how.app_password)
		scope = how.privileged ? AUTH_SCOPE_APP_PRIV :
		    AUTH_SCOPE_APP_PASS;
	else
		scope = AUTH_SCOPE_ACCESS;
	/* A taken-down login is not stored: it can never be refreshed. */
	if ((rc = auth_session_create(a.did, scope, how.app_password ?
	    how.app_password_name : NULL, strcmp(scope, AUTH_SCOPE_TAKENDOWN)
	    != 0, &s)) != PDS_OK)
		return rc;
	return reply_session(ctx, &a, &s);
}

/* The account of the token's subject; a BadToken when it has none. */
static int
token_account(struct xrpc_ctx *ctx, struct store_account *a)
{
	int	 rc;

	if ((rc = account_get(ctx->auth.did, a)) == PDS_ENOTFOUND)
		return xrpc_fail(ctx, PDS_EBADTOKEN, NULL,
		    "Token subject is not an account here");
	return rc;
}

int
api_server_refresh_session(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	struct auth_session	 s;
	int			 rc;

	if ((rc = token_account(ctx, &a)) != PDS_OK)
		return rc;
	if (a.status == ACCT_TAKENDOWN)
		return xrpc_fail(ctx, PDS_ETAKENDOWN, NULL,
		    "Account has been taken down");
	rc = auth_session_refresh(a.did, ctx->auth.token_id, &s);
	if (rc == PDS_EEXPIRED || rc == PDS_ENOTFOUND)
		return xrpc_fail(ctx, PDS_ETOKENEXPIRED, NULL,
		    "Token has been revoked");
	if (rc != PDS_OK)
		return rc;
	return reply_session(ctx, &a, &s);
}

int
api_server_delete_session(struct xrpc_ctx *ctx)
{
	int	 rc;

	if ((rc = auth_session_revoke(ctx->auth.token_id)) != PDS_OK)
		return rc;
	xrpc_reply_empty(ctx);
	return 0;
}

int
api_server_get_session(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	int			 rc;

	if ((rc = token_account(ctx, &a)) != PDS_OK)
		return rc;
	return reply_session(ctx, &a, NULL);
}

/* ---- app passwords ---- */

int
api_server_create_app_password(struct xrpc_ctx *ctx)
{
	struct store_app_password	 ap;
	struct pds_error		 err;
	char				 pw[ACCOUNT_APP_PASSWORD_LEN + 1];
	const char			*name;
	bool				 priv;
	int				 rc;

	if ((rc = req_str(ctx, "name", &name)) != 0 ||
	    (rc = opt_bool(ctx, "privileged", &priv)) != 0)
		return rc;
	if ((rc = account_app_password_create(ctx->auth.did, name, priv, pw,
	    &ap, &err)) != PDS_OK)
		return xrpc_fail_error(ctx, account_error_settle(&err, rc));
	xrpc_reply_json(ctx, json_pack("{s:s,s:s,s:s,s:b}", "name", ap.name,
	    "password", pw, "createdAt", ap.created_at, "privileged",
	    ap.privileged));
	sodium_memzero(pw, sizeof(pw));
	return 0;
}

static int
list_one(void *arg, const struct store_app_password *ap)
{
	return json_array_append_new(arg, json_pack("{s:s,s:s,s:b}", "name",
	    ap->name, "createdAt", ap->created_at, "privileged",
	    ap->privileged)) == 0 ? 0 : PDS_ENOMEM;
}

int
api_server_list_app_passwords(struct xrpc_ctx *ctx)
{
	json_t	*a = json_array();
	int	 rc;

	if (a == NULL)
		return PDS_ENOMEM;
	if ((rc = store_app_password_list(ctx->auth.did, list_one, a)) !=
	    PDS_OK) {
		json_decref(a);
		return rc;
	}
	xrpc_reply_json(ctx, json_pack("{s:o}", "passwords", a));
	return 0;
}

int
api_server_revoke_app_password(struct xrpc_ctx *ctx)
{
	const char	*name;
	int		 rc;

	if ((rc = req_str(ctx, "name", &name)) != 0)
		return rc;
	if ((rc = account_app_password_revoke(ctx->auth.did, name)) != PDS_OK)
		return rc;
	xrpc_reply_empty(ctx);
	return 0;
}

/* ---- invite codes ---- */

static int
use_count(struct xrpc_ctx *ctx, int64_t *out)
{
	json_t	*v = json_object_get(ctx->input, "useCount");

	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > ACCOUNT_INVITE_MAX_USES)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input/useCount must be an integer from 1 to %d",
		    ACCOUNT_INVITE_MAX_USES);
	*out = json_integer_value(v);
	return 0;
}

static int
check_for_account(struct xrpc_ctx *ctx, const char *acct)
{
	if (strcmp(acct, "admin") != 0 && !syntax_is_did(acct, strlen(acct)))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "forAccount must be a DID");
	return 0;
}

int
api_server_create_invite_code(struct xrpc_ctx *ctx)
{
	char		 code[SA_CODE_MAX + 1];
	const char	*acct;
	int64_t		 uses;
	int		 rc;

	if ((rc = use_count(ctx, &uses)) != 0 ||
	    (rc = opt_str(ctx, "forAccount", &acct)) != 0)
		return rc;
	if (acct == NULL)
		acct = "admin";
	if ((rc = check_for_account(ctx, acct)) != 0)
		return rc;
	if ((rc = account_invite_create(uses, acct, "admin", code,
	    sizeof(code))) != PDS_OK)
		return rc;
	xrpc_reply_json(ctx, json_pack("{s:s}", "code", code));
	return 0;
}

int
api_server_create_invite_codes(struct xrpc_ctx *ctx)
{
	char		 code[SA_CODE_MAX + 1];
	json_t		*v, *accts, *out, *codes;
	const char	*acct;
	int64_t		 uses, count = 1;
	size_t		 i, j, n;
	int		 rc;

	if ((rc = use_count(ctx, &uses)) != 0)
		return rc;
	if ((v = json_object_get(ctx->input, "codeCount")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > INVITE_CODES_MAX)
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "Input/codeCount must be an integer from 1 to %d",
			    INVITE_CODES_MAX);
		count = json_integer_value(v);
	}
	accts = json_object_get(ctx->input, "forAccounts");
	if (accts != NULL && (!json_is_array(accts) ||
	    json_array_size(accts) > INVITE_ACCOUNTS_MAX))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input/forAccounts must be an array of at most %d DIDs",
		    INVITE_ACCOUNTS_MAX);
	n = accts != NULL && json_array_size(accts) > 0 ?
	    json_array_size(accts) : 1;
	for (i = 0; accts != NULL && i < json_array_size(accts); i++) {
		v = json_array_get(accts, i);
		if (!json_is_string(v) ||
		    (rc = check_for_account(ctx, json_string_value(v))) != 0)
			return json_is_string(v) ? rc : xrpc_fail(ctx,
			    PDS_EINVAL, NULL,
			    "Input/forAccounts must hold strings");
	}
	if ((out = json_array()) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < n; i++) {
		acct = accts != NULL && json_array_size(accts) > 0 ?
		    json_string_value(json_array_get(accts, i)) : "admin";
		codes = json_array();
		for (j = 0; codes != NULL && j < (size_t)count; j++) {
			if ((rc = account_invite_create(uses, acct, "admin",
			    code, sizeof(code))) != PDS_OK) {
				json_decref(codes);
				json_decref(out);
				return rc;
			}
			json_array_append_new(codes, json_string(code));
		}
		json_array_append_new(out, json_pack("{s:s,s:o}", "account",
		    acct, "codes", codes));
	}
	xrpc_reply_json(ctx, json_pack("{s:o}", "codes", out));
	return 0;
}

struct invite_list {
	json_t	*codes;
	bool	 include_used;
};

static int
invite_one(void *arg, const struct store_invite *inv)
{
	struct invite_list *l = arg;

	/* as the reference: never a disabled code; used ones on request */
	if (inv->disabled || (!l->include_used && inv->used >= inv->available))
		return 0;
	return account_invite_add(l->codes, inv);
}

int
api_server_get_account_invite_codes(struct xrpc_ctx *ctx)
{
	struct invite_list l;
	bool		 create;
	size_t		 made;
	int		 rc;

	if ((rc = query_bool(ctx, "includeUsed", true, &l.include_used)) !=
	    0 || (rc = query_bool(ctx, "createAvailable", true, &create)) != 0)
		return rc;
	/* the codes earned since the last call (PDS_INVITE_INTERVAL) */
	if (create && (rc = invites_earn(ctx->auth.did, clock_wall_ms(),
	    &made)) != PDS_OK)
		return rc;
	if ((l.codes = json_array()) == NULL)
		return PDS_ENOMEM;
	if ((rc = store_invite_list_for(ctx->auth.did, invite_one, &l)) !=
	    PDS_OK) {
		json_decref(l.codes);
		return rc;
	}
	xrpc_reply_json(ctx, json_pack("{s:o}", "codes", l.codes));
	return 0;
}
