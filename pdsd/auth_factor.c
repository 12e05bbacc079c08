/*
 * auth_factor: email two-factor sign-in.  See auth_factor.h.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "auth.h"
#include "auth_factor.h"
#include "email_tokens.h"
#include "err.h"
#include "log.h"
#include "mailer.h"
#include "offload.h"
#include "ratelimit.h"
#include "store.h"
#include "store_account.h"
#include "store_migration.h"
#include "config.h"
#include "xrpc.h"

bool
auth_factor_required(const struct store_account *a,
    const struct account_login *how)
{
	return a->email_auth_factor && a->email[0] != '\0' &&
	    !how->app_password;
}

/* A sign-in code's mail, sent on the net pool. */
struct code_mail {
	char	 did[SA_DID_MAX + 1];
	char	 token[EMAIL_TOKEN_LEN + 1];
	char	 to[SA_EMAIL_MAX + 1];
	char	 subject[256];
	char	 text[2048];
};

static void
code_mail_free(struct code_mail *m)
{
	sodium_memzero(m, sizeof(*m));
	free(m);
}

static void
code_mail_run(void *arg)
{
	struct code_mail	*m = arg;
	int			 rc;

	rc = mailer_send(m->to, m->subject, m->text);
	if (rc == PDS_EUNSUPP)		/* SMTP gone since it was turned on */
		log_warnx("email not sent (no SMTP): 2fa_code token for %s: "
		    "%s", m->did, m->token);
	else if (rc != PDS_OK) {
		/* only this code: a newer one may have replaced it */
		(void)store_email_token_take(email_purpose_name(EMAIL_SIGN_IN),
		    m->did, m->token);
		log_warnx("sign-in code for %s could not be mailed; dropped",
		    m->did);
	}
	code_mail_free(m);
}

int
auth_factor_send(const struct store_account *a, const char *client)
{
	const struct config	*cfg = accounts_config();
	struct code_mail	*m;
	char			 now[STORE_TS_LEN];
	const char		*purpose = email_purpose_name(EMAIL_SIGN_IN);
	int			 rc;

	if (client != NULL && !ratelimit_signin_code(a->did))
		return PDS_ERATELIMIT;
	if (strlen(a->email) >= sizeof(m->to) ||
	    (m = calloc(1, sizeof(*m))) == NULL)
		return PDS_ENOMEM;
	memcpy(m->did, a->did, strlen(a->did) + 1);
	memcpy(m->to, a->email, strlen(a->email) + 1);
	email_token_generate(m->token);
	store_timestamp(now);
	if ((rc = email_token_message(EMAIL_SIGN_IN, cfg != NULL &&
	    cfg->service_name != NULL ? cfg->service_name : "PDS", a->handle,
	    m->token, m->subject, sizeof(m->subject), m->text,
	    sizeof(m->text))) != PDS_OK ||
	    (rc = store_email_token_put(purpose, a->did, m->token, now)) !=
	    PDS_OK) {
		code_mail_free(m);
		return rc;
	}
	if ((rc = offload_submit(OFFLOAD_NET, client, code_mail_run, m,
	    NULL)) != PDS_OK) {
		(void)store_email_token_take(purpose, a->did, m->token);
		code_mail_free(m);
	}
	return rc;
}

int
auth_factor_check(struct xrpc_ctx *ctx, const struct store_account *a,
    const char *token, bool *failed)
{
	int	 rc;

	*failed = false;
	if (token == NULL || *token == '\0') {
		rc = auth_factor_send(a, ratelimit_bypass(ctx->req) ? NULL :
		    http_req_client(ctx->req));
		if (rc == PDS_ERATELIMIT)
			return xrpc_fail(ctx, PDS_ERATELIMIT, NULL,
			    "Too many sign-in codes asked for; try again "
			    "later");
		if (rc != PDS_OK)
			return rc;
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
		rc = auth_factor_send(a, addr);
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
	if (rc == PDS_EEXPIRED) {
		/* the page's field is required: a new code, not a dead end */
		if ((rc = auth_factor_send(a, addr)) != PDS_OK) {
			*why = "That sign-in code has expired, and a new one "
			    "could not be sent: try again later";
			return rc;
		}
		*why = "That sign-in code had expired: we sent a new one";
		return PDS_EAUTHREQ;
	}
	if (rc != PDS_ENOTFOUND) {
		*why = "Could not check the code";
		return rc;
	}
	/* a wrong code is a failed login, as a wrong password is */
	if (auth_login_take(identifier, a->did, addr) != PDS_OK) {
		*why = "Too many failed sign-in attempts: try again later";
		return PDS_ERATELIMIT;
	}
	*why = "Wrong sign-in code";
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
