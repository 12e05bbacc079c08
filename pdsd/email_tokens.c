/*
 * email_tokens: one-time email tokens and their messages.  See
 * email_tokens.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <sodium.h>

#include "accounts.h"
#include "config.h"
#include "email_tokens.h"
#include "err.h"
#include "log.h"
#include "jobs.h"
#include "mailer.h"
#include "module.h"
#include "store_migration.h"

#define PRUNE_EVERY_MS	(10 * 60 * 1000)

/* PDS_EMAIL_TOKEN_TTL_SECONDS, once email_tokens_init() ran. */
static long	ttl_s = EMAIL_TOKEN_TTL_S;

static const char *const purpose_names[] = {
	[EMAIL_CONFIRM_EMAIL] = "confirm_email",
	[EMAIL_UPDATE_EMAIL] = "update_email",
	[EMAIL_RESET_PASSWORD] = "reset_password",
	[EMAIL_DELETE_ACCOUNT] = "delete_account",
	[EMAIL_PLC_OPERATION] = "plc_operation",
	[EMAIL_SIGN_IN] = "2fa_code",
};
#define NPURPOSES	(sizeof(purpose_names) / sizeof(purpose_names[0]))

const char *
email_purpose_name(enum email_purpose p)
{
	if ((size_t)p >= NPURPOSES)
		return "unknown";
	return purpose_names[p];
}

int
email_purpose_parse(const char *name)
{
	size_t	 i;

	for (i = 0; i < NPURPOSES; i++)
		if (strcmp(purpose_names[i], name) == 0)
			return (int)i;
	return -1;
}

long
email_token_ttl(void)
{
	return ttl_s;
}

void
email_ts_offset(char out[STORE_TS_LEN], long delta_s)
{
	struct timeval	 tv;
	struct tm	 tm;
	time_t		 t;
	size_t		 n;
	unsigned	 ms;

	gettimeofday(&tv, NULL);
	t = tv.tv_sec + delta_s;
	ms = (unsigned)(tv.tv_usec / 1000) % 1000;
	gmtime_r(&t, &tm);
	n = strftime(out, STORE_TS_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, STORE_TS_LEN - n, ".%03uZ", ms);
}

void
email_token_generate(char out[EMAIL_TOKEN_LEN + 1])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t		 r[10];
	size_t		 i, o = 0;

	randombytes_buf(r, sizeof(r));
	for (i = 0; i < sizeof(r); i++) {
		if (i == 5)
			out[o++] = '-';
		out[o++] = b32[r[i] & 31];
	}
	out[o] = '\0';
	sodium_memzero(r, sizeof(r));
}

/* Normalise typed input: trim, upper-case; PDS_EINVAL if not a token. */
static int
normalise(const char *in, char out[EMAIL_TOKEN_LEN + 1])
{
	size_t	 n, i;

	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t' ||
	    in[n - 1] == '\n' || in[n - 1] == '\r'))
		n--;
	if (n != EMAIL_TOKEN_LEN)
		return PDS_EINVAL;
	for (i = 0; i < n; i++) {
		if (i == 5) {
			if (in[i] != '-')
				return PDS_EINVAL;
			out[i] = '-';
			continue;
		}
		if (!isalnum((unsigned char)in[i]))
			return PDS_EINVAL;
		out[i] = (char)toupper((unsigned char)in[i]);
	}
	out[n] = '\0';
	return PDS_OK;
}

int
email_token_message(enum email_purpose p, const char *service,
    const char *handle, const char *token, char *subject, size_t scap,
    char *text, size_t tcap)
{
	const char	*subj, *what;
	int		 n;

	switch (p) {
	case EMAIL_CONFIRM_EMAIL:
		subj = "Email confirmation";
		what = "To confirm this email address for your account, "
		    "enter this code in your app";
		break;
	case EMAIL_UPDATE_EMAIL:
		subj = "Email update requested";
		what = "Someone (hopefully you) asked to change the email "
		    "address of your account.  To allow it, enter this code";
		break;
	case EMAIL_RESET_PASSWORD:
		subj = "Password reset requested";
		what = "Someone (hopefully you) asked to reset the password "
		    "of your account.  To choose a new password, enter this "
		    "code";
		break;
	case EMAIL_DELETE_ACCOUNT:
		subj = "Account deletion requested";
		what = "Someone (hopefully you) asked to DELETE your account "
		    "and everything in it.  To confirm the deletion, enter "
		    "this code";
		break;
	case EMAIL_PLC_OPERATION:
		subj = "Identity update requested";
		what = "Someone (hopefully you) asked to change your account's "
		    "identity (DID) document, usually to move the account to "
		    "another server.  To allow it, enter this code";
		break;
	case EMAIL_SIGN_IN:
		subj = "Sign-in code";
		what = "Someone (hopefully you) signed in to your account with "
		    "its password.  Your account asks for a code from this "
		    "mailbox too: to finish signing in, enter this code";
		break;
	default:
		return PDS_EINVAL;
	}
	n = snprintf(subject, scap, "%s: %s", service, subj);
	if (n < 0 || (size_t)n >= scap)
		return PDS_ETOOBIG;
	n = snprintf(text, tcap,
	    "Hello %s,\n\n"
	    "%s:\n\n"
	    "    %s\n\n"
	    "The code is valid for %ld minutes and can be used once.\n"
	    "If you did not ask for this, ignore this message; nothing "
	    "changes without the code.\n\n"
	    "-- \n%s\n",
	    handle != NULL && *handle != '\0' ? handle : "there", what, token,
	    (email_token_ttl() + 59) / 60, service);
	if (n < 0 || (size_t)n >= tcap)
		return PDS_ETOOBIG;
	return PDS_OK;
}

int
email_token_request(const struct store_account *a, enum email_purpose p,
    const char *to)
{
	const struct config *cfg = accounts_config();
	char		 token[EMAIL_TOKEN_LEN + 1], now[STORE_TS_LEN];
	char		 subject[256], text[2048];
	const char	*service;
	int		 rc;

	if ((size_t)p >= NPURPOSES || to == NULL || *to == '\0')
		return PDS_EINVAL;
	service = cfg != NULL && cfg->service_name != NULL ?
	    cfg->service_name : "PDS";
	email_token_generate(token);
	store_timestamp(now);
	if ((rc = store_email_token_put(email_purpose_name(p), a->did, token,
	    now)) != PDS_OK)
		goto out;
	if ((rc = email_token_message(p, service, a->handle, token, subject,
	    sizeof(subject), text, sizeof(text))) != PDS_OK)
		goto out;
	rc = mailer_send(to, subject, text);
	if (rc == PDS_EUNSUPP) {
		/*
		 * No SMTP: the operator hands the code over.  Logged at
		 * warning level on purpose (see email_tokens.h).
		 */
		log_warnx("email not sent (no SMTP): %s token for %s (%s): "
		    "%s; `pdsctl account token %s %s' shows it",
		    email_purpose_name(p), a->did,
		    a->handle[0] ? a->handle : "handle.invalid", token,
		    a->handle[0] ? a->handle : a->did, email_purpose_name(p));
		rc = PDS_OK;
	} else if (rc != PDS_OK)
		(void)store_email_token_delete(email_purpose_name(p), a->did);
out:
	sodium_memzero(token, sizeof(token));
	sodium_memzero(text, sizeof(text));
	return rc;
}

/* Whether a token made at requested_at has run out. */
static bool
expired(const char *requested_at)
{
	char	 cutoff[STORE_TS_LEN];

	email_ts_offset(cutoff, -email_token_ttl());
	return strcmp(requested_at, cutoff) < 0;
}

int
email_token_check(const char *did, enum email_purpose p, const char *in)
{
	char	 want[SM_TOKEN_MAX], got[EMAIL_TOKEN_LEN + 1];
	char	 at[STORE_TS_LEN];
	int	 rc;

	if (in == NULL || normalise(in, got) != PDS_OK)
		return PDS_ENOTFOUND;
	rc = store_email_token_get(email_purpose_name(p), did, want, at);
	if (rc != PDS_OK)
		goto out;
	if (strlen(want) != EMAIL_TOKEN_LEN ||
	    sodium_memcmp(want, got, EMAIL_TOKEN_LEN) != 0)
		rc = PDS_ENOTFOUND;
	else if (expired(at))
		rc = PDS_EEXPIRED;
out:
	sodium_memzero(want, sizeof(want));
	sodium_memzero(got, sizeof(got));
	return rc;
}

int
email_token_find(enum email_purpose p, const char *in,
    char did[SA_DID_MAX + 1])
{
	char	 got[EMAIL_TOKEN_LEN + 1], at[STORE_TS_LEN];
	int	 rc;

	if (in == NULL || normalise(in, got) != PDS_OK)
		return PDS_ENOTFOUND;
	rc = store_email_token_find(email_purpose_name(p), got, did, at);
	if (rc == PDS_OK && expired(at))
		rc = PDS_EEXPIRED;
	sodium_memzero(got, sizeof(got));
	return rc;
}

int
email_token_consume(const char *did, enum email_purpose p)
{
	return store_email_token_delete(email_purpose_name(p), did);
}

int
email_token_use(const char *did, enum email_purpose p, const char *in)
{
	char	 got[EMAIL_TOKEN_LEN + 1];
	int	 rc;

	if ((rc = email_token_check(did, p, in)) != PDS_OK)
		return rc;
	if (normalise(in, got) != PDS_OK)
		return PDS_ENOTFOUND;
	/* of two callers with the same token, one removes it */
	rc = store_email_token_take(email_purpose_name(p), did, got);
	sodium_memzero(got, sizeof(got));
	return rc;
}

int
email_token_peek(const char *did, enum email_purpose p,
    char token[EMAIL_TOKEN_LEN + 1], char expires_at[STORE_TS_LEN])
{
	char		 t[SM_TOKEN_MAX], at[STORE_TS_LEN];
	struct tm	 tm;
	time_t		 when;
	size_t		 n;
	int		 ms = 0, rc;

	if ((rc = store_email_token_get(email_purpose_name(p), did, t, at)) !=
	    PDS_OK)
		return rc;
	if (strlen(t) != EMAIL_TOKEN_LEN) {
		sodium_memzero(t, sizeof(t));
		return PDS_EINVAL;
	}
	memcpy(token, t, EMAIL_TOKEN_LEN + 1);
	sodium_memzero(t, sizeof(t));
	memset(&tm, 0, sizeof(tm));
	if (sscanf(at, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &ms) >= 6) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		when = timegm(&tm) + email_token_ttl();
		gmtime_r(&when, &tm);
		n = strftime(expires_at, STORE_TS_LEN, "%Y-%m-%dT%H:%M:%S",
		    &tm);
		snprintf(expires_at + n, STORE_TS_LEN - n, ".%03uZ",
		    (unsigned)ms % 1000);
	} else
		expires_at[0] = '\0';
	return expired(at) ? PDS_EEXPIRED : PDS_OK;
}

int
email_tokens_prune(long keep_s)
{
	char	 cutoff[STORE_TS_LEN];

	email_ts_offset(cutoff, -email_token_ttl() - keep_s);
	return store_email_token_prune(cutoff, NULL);
}

/* ---- module ---- */

static void
prune_job(void *arg)
{
	(void)arg;
	if (email_tokens_prune(EMAIL_TOKEN_KEEP_EXPIRED_S) != PDS_OK)
		log_warnx("email tokens: could not drop the expired ones");
}

int
email_tokens_init(const struct config *cfg)
{
	ttl_s = (long)cfg->email_token_ttl_s;
	return jobs_add("email token pruning", PRUNE_EVERY_MS, prune_job,
	    NULL) == PDS_OK ? 0 : -1;
}

PDSD_MODULE(email_tokens, email_tokens_init, NULL);
