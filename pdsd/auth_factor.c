/*
 * auth_factor: email two-factor sign-in.  See auth_factor.h.
 */
#include <stdbool.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "auth_factor.h"
#include "email_tokens.h"
#include "err.h"
#include "log.h"
#include "mailer.h"
#include "ratelimit.h"
#include "store_account.h"
#include "xrpc.h"

bool
auth_factor_required(const struct store_account *a,
    const struct account_login *how)
{
	return a->email_auth_factor && a->email[0] != '\0' &&
	    !how->app_password;
}

int
auth_factor_send(const struct store_account *a)
{
	if (!ratelimit_signin_code(a->did))
		return PDS_ERATELIMIT;
	return email_token_request(a, EMAIL_SIGN_IN, a->email);
}

int
auth_factor_check(struct xrpc_ctx *ctx, const struct store_account *a,
    const char *token, bool *failed)
{
	int	 rc;

	*failed = false;
	if (token == NULL || *token == '\0') {
		rc = ratelimit_bypass(ctx->req) ?
		    email_token_request(a, EMAIL_SIGN_IN, a->email) :
		    auth_factor_send(a);
		if (rc == PDS_ERATELIMIT)
			return xrpc_fail(ctx, PDS_ERATELIMIT, NULL,
			    "Too many sign-in codes asked for; try again "
			    "later");
		if (rc != PDS_OK)
			return api_email_send_error(ctx, rc);
		return xrpc_fail(ctx, PDS_EAUTHREQ, "AuthFactorTokenRequired",
		    "A sign in code has been sent to your email address");
	}
	/* checked and used up in one step: a code works once */
	if ((rc = email_token_use(a->did, EMAIL_SIGN_IN, token)) != PDS_OK) {
		*failed = rc == PDS_ENOTFOUND || rc == PDS_EINVAL ||
		    rc == PDS_EEXPIRED;
		return api_email_token_error(ctx, rc);
	}
	return 0;
}

int
auth_factor_page(const struct store_account *a, const char *identifier,
    const char *addr, const char *code, const char **why)
{
	struct account_login	 how;
	int			 rc;

	memset(&how, 0, sizeof(how));
	*why = NULL;
	if (!auth_factor_required(a, &how))
		return PDS_OK;
	if (code == NULL || *code == '\0') {
		rc = auth_factor_send(a);
		if (rc == PDS_ERATELIMIT)
			*why = "Too many sign-in codes were asked for: try "
			    "again later";
		else if (rc != PDS_OK)
			*why = "The sign-in code could not be mailed: try "
			    "again later";
		else
			*why = "This account asks for a code too: we sent one "
			    "to its email address.  Enter it with your "
			    "password";
		return rc == PDS_OK ? PDS_EAUTHREQ : rc;
	}
	rc = email_token_use(a->did, EMAIL_SIGN_IN, code);
	if (rc == PDS_OK)
		return PDS_OK;
	if (rc != PDS_ENOTFOUND && rc != PDS_EEXPIRED) {
		*why = "Could not check the code";
		return rc;
	}
	/* a wrong code is a failed login, as a wrong password is */
	if (auth_login_take(identifier, a->did, addr) != PDS_OK) {
		*why = "Too many failed sign-in attempts: try again later";
		return PDS_ERATELIMIT;
	}
	*why = rc == PDS_EEXPIRED ? "This sign-in code has expired: sign "
	    "in without a code to get a new one" : "Wrong sign-in code";
	return PDS_EBADTOKEN;
}

int
auth_factor_may_set(struct xrpc_ctx *ctx, const struct store_account *a,
    bool on)
{
	if (!on || a->email_auth_factor)
		return 0;
	if (a->email_confirmed_at[0] == '\0')
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Confirm the account's email address before turning on "
		    "sign-in codes");
	if (!mailer_enabled())
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "This server does not send email, so it cannot send "
		    "sign-in codes");
	return 0;
}

int
auth_factor_set(const struct store_account *a, bool on)
{
	int	 rc;

	if (on == a->email_auth_factor)
		return PDS_OK;
	if ((rc = store_account_set_email_auth_factor(a->did, on)) != PDS_OK)
		return rc;
	log_info("account %s: email sign-in codes turned %s", a->did,
	    on ? "on" : "off");
	return PDS_OK;
}
