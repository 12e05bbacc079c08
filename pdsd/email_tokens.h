/*
 * email_tokens: the one-time tokens the reference PDS mails to members
 * (confirm_email, update_email, reset_password, delete_account,
 * plc_operation, and 2fa_code: the sign-in code of an account with
 * emailAuthFactor on), and the messages that carry them.
 *
 * A token is 10 random base32 characters, upper case, shown as
 * "XXXXX-XXXXX"; input is compared case-insensitively.  One token per
 * account and purpose: asking again replaces the old one.  A token is
 * valid for PDS_EMAIL_TOKEN_TTL_SECONDS (default EMAIL_TOKEN_TTL_S) and
 * is removed when used; a job drops those long expired.
 *
 * Without SMTP (mailer.h) the token is written to the log at warning
 * level, and an operator can read it with email_token_peek() (the admin
 * socket's account.token, audited), so a small community can work
 * without mail.
 */
#ifndef PDSD_EMAIL_TOKENS_H
#define PDSD_EMAIL_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"
#include "store_account.h"

#define EMAIL_TOKEN_LEN		11	/* XXXXX-XXXXX */
#define EMAIL_TOKEN_TTL_S	(15 * 60)

enum email_purpose {
	EMAIL_CONFIRM_EMAIL,
	EMAIL_UPDATE_EMAIL,
	EMAIL_RESET_PASSWORD,
	EMAIL_DELETE_ACCOUNT,
	EMAIL_PLC_OPERATION,
	EMAIL_SIGN_IN,		/* "2fa_code": emailAuthFactor sign-in */
};

/* "confirm_email", ... (the email_tokens.purpose values). */
const char	*email_purpose_name(enum email_purpose);
/* The purpose of a name; -1 if unknown. */
int		 email_purpose_parse(const char *name);

/* The lifetime in seconds (EMAIL_TOKEN_TTL_S unless overridden). */
long		 email_token_ttl(void);

/* A fresh random token into out. */
void		 email_token_generate(char out[EMAIL_TOKEN_LEN + 1]);

/*
 * Make and store a token for the account and send it to `to' (the
 * account's address, or the new one for nothing: update_email goes to
 * the current address).  Without SMTP, PDS_OK after logging it.
 * PDS_EIO when SMTP is configured but the mail could not be sent (the
 * token is dropped again).
 */
int	email_token_request(const struct store_account *,
	    enum email_purpose, const char *to);

/*
 * Check a token the member typed for (did, purpose): PDS_OK,
 * PDS_EEXPIRED (ExpiredToken) or PDS_ENOTFOUND (InvalidToken).  Does not
 * use it up: call email_token_consume() once the action succeeded.
 */
int	email_token_check(const char *did, enum email_purpose,
	    const char *token);
/* The same for a token without a DID (resetPassword): *did gets it. */
int	email_token_find(enum email_purpose, const char *token,
	    char did[SA_DID_MAX + 1]);
int	email_token_consume(const char *did, enum email_purpose);
/*
 * Check and use up in one step (a sign-in code): PDS_OK only for the
 * one caller that removed the live token; PDS_EEXPIRED or
 * PDS_ENOTFOUND as email_token_check().
 */
int	email_token_use(const char *did, enum email_purpose,
	    const char *token);

/*
 * The live token of (did, purpose) for an operator, with its expiry
 * (a store timestamp).  PDS_ENOTFOUND if there is none, PDS_EEXPIRED if
 * it has run out.
 */
int	email_token_peek(const char *did, enum email_purpose,
	    char token[EMAIL_TOKEN_LEN + 1], char expires_at[STORE_TS_LEN]);

/*
 * Drop the tokens that expired more than keep_s seconds ago (0: every
 * expired one).  The periodic job keeps them EMAIL_TOKEN_KEEP_EXPIRED_S
 * so that a member who types an old token is told it expired
 * (ExpiredToken) rather than that it is wrong (InvalidToken).
 */
#define EMAIL_TOKEN_KEEP_EXPIRED_S	(24 * 3600)
int	email_tokens_prune(long keep_s);

struct config;
/*
 * Take the token lifetime from cfg and add the job that prunes tokens
 * a day past their expiry (every 10 minutes).  The module's init; tests
 * call it with their own config.
 */
int	email_tokens_init(const struct config *);

/* A store timestamp `delta_s' seconds from now (may be negative). */
void	email_ts_offset(char out[STORE_TS_LEN], long delta_s);

/* The subject and plain-text body of a token mail (for the tests). */
int	email_token_message(enum email_purpose, const char *service_name,
	    const char *handle, const char *token, char *subject,
	    size_t subject_cap, char *text, size_t text_cap);

#endif
