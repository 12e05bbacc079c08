/*
 * api_email: the com.atproto.server methods behind the email tokens
 * (email_tokens.h): requestEmailConfirmation / confirmEmail,
 * requestEmailUpdate / updateEmail, requestPasswordReset /
 * resetPassword, requestAccountDelete / deleteAccount.  The reference's
 * errors: a bad token is 400 InvalidToken, an old one 400 ExpiredToken.
 * requestPlcOperationSignature is in api_migration.c.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "api.h"
#include "auth.h"
#include "auth_factor.h"
#include "email_tokens.h"
#include "err.h"
#include "log.h"
#include "migration.h"
#include "store.h"
#include "store_account.h"
#include "store_migration.h"
#include "xrpc.h"

/*
 * The caller's account (the router has authenticated it); with
 * need_email, one that has an email address.
 */
static int
caller(struct xrpc_ctx *ctx, struct store_account *a, bool need_email)
{
	int	 rc = account_get(ctx->auth.did, a);

	if (rc == PDS_ENOTFOUND)
		return xrpc_fail(ctx, PDS_EINVAL,
		    "AccountNotFound", "Account not found");
	if (rc == PDS_OK && need_email && a->email[0] == '\0')
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "account does not have an email address");
	return rc;
}

/*
 * The end of a method that took an emailed token for purpose: the
 * token is spent, the answer 200 empty.
 */
static int
token_spent(struct xrpc_ctx *ctx, const char *did, enum email_purpose purpose)
{
	(void)email_token_consume(did, purpose);
	xrpc_reply_empty(ctx);
	return 0;
}

/*
 * The request* methods (requestEmailConfirmation, requestAccountDelete,
 * requestPlcOperationSignature): mail the caller a token for the
 * route's purpose at the account's address (400 when it has none) and
 * answer 200 empty.
 */
int
api_email_request_token(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	enum email_purpose	 purpose = ctx->route->arg;
	int			 rc;

	if ((rc = caller(ctx, &a, true)) != PDS_OK)
		return rc;
	if ((rc = email_token_request(&a, purpose, a.email)) != PDS_OK)
		return api_email_send_error(ctx, rc);
	xrpc_reply_empty(ctx);
	return 0;
}

int
api_email_token_error(struct xrpc_ctx *ctx, int rc)
{
	if (rc == PDS_EEXPIRED)
		return xrpc_fail(ctx, PDS_ETOKENEXPIRED, "ExpiredToken",
		    "Token is expired");
	if (rc == PDS_ENOTFOUND || rc == PDS_EINVAL)
		return xrpc_fail(ctx, PDS_EBADTOKEN, "InvalidToken",
		    "Token is invalid");
	return rc;
}

int
api_email_send_error(struct xrpc_ctx *ctx, int rc)
{
	if (rc == PDS_EIO)
		return xrpc_fail(ctx, PDS_EUPSTREAM, NULL,
		    "The email could not be sent; please try again later");
	if (rc == PDS_EINVAL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "The account's email address is not usable");
	return rc;
}

/* ---- email confirmation ---- */

int
api_server_confirm_email(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	const char		*email, *token;
	char			 now[STORE_TS_LEN];
	int			 rc;

	if ((rc = xrpc_input_str(ctx, "email", true, &email)) != 0 ||
	    (rc = xrpc_input_str(ctx, "token", true, &token)) != 0)
		return rc;
	if ((rc = caller(ctx, &a, false)) != PDS_OK)
		return rc;
	if (a.email[0] == '\0' || strcasecmp(a.email, email) != 0)
		return xrpc_fail(ctx, PDS_EINVAL, "InvalidEmail",
		    "invalid email");
	if ((rc = email_token_check(a.did, EMAIL_CONFIRM_EMAIL, token)) !=
	    PDS_OK)
		return api_email_token_error(ctx, rc);
	store_timestamp(now);
	if ((rc = store_account_email_confirmed(a.did, now)) != PDS_OK)
		return rc;
	return token_spent(ctx, a.did, EMAIL_CONFIRM_EMAIL);
}

/* ---- email update ---- */

int
api_server_request_email_update(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	bool			 required;
	int			 rc;

	if ((rc = caller(ctx, &a, true)) != PDS_OK)
		return rc;
	required = a.email_confirmed_at[0] != '\0';
	if (required && (rc = email_token_request(&a, EMAIL_UPDATE_EMAIL,
	    a.email)) != PDS_OK)
		return api_email_send_error(ctx, rc);
	xrpc_reply_json(ctx, json_pack("{s:b}", "tokenRequired", required));
	return 0;
}

int
api_server_update_email(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	struct pds_error	 err;
	const char		*email, *token;
	char			 norm[SA_EMAIL_MAX + 1];
	bool			 taken, same;
	int			 rc, factor;

	memset(&err, 0, sizeof(err));
	if ((rc = xrpc_input_str(ctx, "email", true, &email)) != 0 ||
	    (rc = xrpc_input_str(ctx, "token", false, &token)) != 0)
		return rc;
	if ((rc = caller(ctx, &a, false)) != PDS_OK)
		return rc;
	if ((rc = account_email_check(email, norm, sizeof(norm), &err)) !=
	    PDS_OK)
		return xrpc_fail_error(ctx, account_error_settle(&err, rc));
	if (a.email_confirmed_at[0] != '\0') {
		if (token == NULL || *token == '\0')
			return xrpc_fail(ctx, PDS_EINVAL,
			    "TokenRequired", "confirmation token required");
		if ((rc = email_token_check(a.did, EMAIL_UPDATE_EMAIL,
		    token)) != PDS_OK)
			return api_email_token_error(ctx, rc);
	}
	if ((rc = api_input_bool(ctx, "", "emailAuthFactor", &factor)) != 0 ||
	    (factor >= 0 && (rc = auth_factor_may_set(ctx, &a,
	    factor == 1)) != 0))
		return rc;
	/*
	 * The same address again (the app's way to turn emailAuthFactor
	 * on or off) stays confirmed; a new one must be confirmed again.
	 */
	same = strcasecmp(a.email, norm) == 0;
	if (!same) {
		/* taken now, or by the time it is set */
		if ((rc = store_account_email_taken(norm, &taken)) == PDS_OK)
			rc = taken ? PDS_EEXIST :
			    store_account_set_email(a.did, norm);
		if (rc == PDS_EEXIST)
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "This email address is already in use, please "
			    "use a different one.");
		if (rc != PDS_OK)
			return rc;
		log_info("account %s: email changed", a.did);
	}
	if (factor >= 0 && (rc = auth_factor_set(&a, factor == 1)) != PDS_OK)
		return rc;
	return token_spent(ctx, a.did, EMAIL_UPDATE_EMAIL);
}

/* ---- password reset ---- */

int
api_server_request_password_reset(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	const char		*email;
	int			 rc;

	if ((rc = xrpc_input_str(ctx, "email", true, &email)) != 0)
		return rc;
	rc = store_account_get(SA_BY_EMAIL, email, &a);
	if (rc == PDS_ENOTFOUND || (rc == PDS_OK &&
	    a.status == ACCT_DELETED)) {
		/* Do not tell strangers which addresses have accounts. */
		xrpc_reply_empty(ctx);
		return 0;
	}
	if (rc != PDS_OK)
		return rc;
	if ((rc = email_token_request(&a, EMAIL_RESET_PASSWORD, a.email)) !=
	    PDS_OK)
		return api_email_send_error(ctx, rc);
	xrpc_reply_empty(ctx);
	return 0;
}

int
api_server_reset_password(struct xrpc_ctx *ctx)
{
	struct pds_error	 err;
	const char		*token, *password;
	char			 did[SA_DID_MAX + 1];
	int			 rc;

	memset(&err, 0, sizeof(err));
	if ((rc = xrpc_input_str(ctx, "token", true, &token)) != 0 ||
	    (rc = xrpc_input_str(ctx, "password", true, &password)) != 0)
		return rc;
	if ((rc = email_token_find(EMAIL_RESET_PASSWORD, token, did)) !=
	    PDS_OK)
		return api_email_token_error(ctx, rc);
	/* Also ends every session (account_set_password). */
	if ((rc = account_set_password(did, password, &err)) != PDS_OK)
		return xrpc_fail_error(ctx, account_error_settle(&err, rc));
	log_info("account %s: password reset by email token", did);
	return token_spent(ctx, did, EMAIL_RESET_PASSWORD);
}

/* ---- account deletion ---- */

int
api_server_delete_account(struct xrpc_ctx *ctx)
{
	struct store_account	 a;
	struct account_login	 how;
	const char		*did, *password, *token;
	int			 rc;

	if ((rc = xrpc_input_str(ctx, "did", true, &did)) != 0 ||
	    (rc = xrpc_input_str(ctx, "password", true, &password)) != 0 ||
	    (rc = xrpc_input_str(ctx, "token", true, &token)) != 0)
		return rc;
	memset(&how, 0, sizeof(how));
	rc = store_account_get(SA_BY_DID, did, &a);
	if (rc != PDS_OK && rc != PDS_ENOTFOUND)
		return rc;
	/* Main password only; the same work whether or not did exists. */
	if (account_password_verify(rc == PDS_OK ? &a : NULL, password,
	    &how) != PDS_OK || rc != PDS_OK || how.app_password)
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
		    "Invalid did or password");
	if ((rc = email_token_check(a.did, EMAIL_DELETE_ACCOUNT, token)) !=
	    PDS_OK)
		return api_email_token_error(ctx, rc);
	if ((rc = migration_account_purge(a.did, true)) != PDS_OK)
		return rc;
	log_info("account %s (%s) deleted by its owner", a.did,
	    a.handle[0] ? a.handle : "handle.invalid");
	xrpc_reply_empty(ctx);
	return 0;
}
