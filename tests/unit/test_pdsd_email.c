/*
 * test_pdsd_email: email tokens (shape, case-insensitive check, one use,
 * expiry, one per account and purpose) over a store in a temporary
 * directory, the token mail's text, and the SMTP message composition
 * (headers, CRLF body, refused header injection).  The token lifetime
 * comes from PDS_EMAIL_TOKEN_TTL_SECONDS through struct config, and the
 * module's periodic job prunes expired tokens.  Sign-in codes
 * (emailAuthFactor) are tokens of purpose 2fa_code, used up atomically.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "../../pdsd/config.h"
#include "../../pdsd/email_tokens.h"
#include "../../pdsd/jobs.h"
#include "../../pdsd/mailer.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/store_migration.h"
#include "t.h"

#define DID	"did:plc:ewvi7nxzyoun6zhxrhs64oiz"
#define HEAD	"From: PDS <noreply@pds.example>\r\nTo: a@b.example\r\n" \
		"Subject: Hello\r\nDate: "

static bool
token_shape(const char *t)
{
	size_t	 i;

	if (strlen(t) != EMAIL_TOKEN_LEN || t[5] != '-')
		return false;
	for (i = 0; i < EMAIL_TOKEN_LEN; i++)
		if (i != 5 && !((t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= '2' && t[i] <= '7')))
			return false;
	return true;
}

static void
test_generate(void)
{
	char	 a[EMAIL_TOKEN_LEN + 1], b[EMAIL_TOKEN_LEN + 1];
	int	 i, ok = 1;

	t_group("generate");
	for (i = 0; i < 200; i++) {
		email_token_generate(a);
		ok &= token_shape(a);
	}
	CHECK(ok, "XXXXX-XXXXX of base32 upper case (%s)", a);
	email_token_generate(b);
	CHECK(strcmp(a, b) != 0, "two tokens differ");
	CHECK(email_purpose_parse("plc_operation") == EMAIL_PLC_OPERATION,
	    "purpose names");
	CHECK(email_purpose_parse("nope") == -1, "unknown purpose");
	t_group_end();
}

static void
test_message(void)
{
	char	 subj[128], text[2048];

	t_group("message");
	CHECK(email_token_message(EMAIL_RESET_PASSWORD, "Coop PDS",
	    "alice.test", "ABCDE-FGHIJ", subj, sizeof(subj), text,
	    sizeof(text)) == PDS_OK, "message");
	CHECK(strncmp(subj, "Coop PDS: ", 10) == 0, "subject: %s", subj);
	CHECK(strstr(text, "ABCDE-FGHIJ") != NULL, "token in text");
	CHECK(strstr(text, "alice.test") != NULL, "handle in text");
	CHECK(strstr(text, "15 minutes") != NULL, "lifetime in text");
	CHECK(email_token_message(EMAIL_RESET_PASSWORD, "Coop PDS",
	    "alice.test", "ABCDE-FGHIJ", subj, sizeof(subj), text, 40) ==
	    PDS_ETOOBIG, "short buffer refused");
	t_group_end();
}

static void
test_compose(void)
{
	struct buf	 b;
	const char	*s;

	t_group("compose");
	buf_init(&b, 1 << 16);
	CHECK(mailer_compose(&b, "PDS <noreply@pds.example>", "a@b.example",
	    "Hello", "line one\nline two\n.dot line") == PDS_OK, "compose");
	s = (const char *)b.p;
	CHECK(strncmp(s, HEAD, strlen(HEAD)) == 0, "headers: %.80s", s);
	CHECK(strstr(s, "@pds.example>\r\n") != NULL, "Message-ID domain");
	CHECK(strstr(s, "Content-Type: text/plain; charset=utf-8\r\n") !=
	    NULL, "content type");
	CHECK(strstr(s, "\r\n\r\nline one\r\nline two\r\n.dot line\r\n") !=
	    NULL, "CRLF body");
	buf_reset(&b);
	CHECK(mailer_compose(&b, "noreply@pds.example", "a@b.example\r\nBcc: "
	    "x@y.example", "Hi", "x") == PDS_EINVAL, "header injection (to)");
	CHECK(mailer_compose(&b, "noreply@pds.example", "a@b.example",
	    "Hi\nBcc: x@y.example", "x") == PDS_EINVAL,
	    "header injection (subject)");
	CHECK(mailer_compose(&b, "no address", "a@b.example", "Hi", "x") ==
	    PDS_EINVAL, "from without an address");
	buf_clear(&b);
	t_group_end();
}

static void
test_tokens(void)
{
	struct store_account	 a;
	char			 tok[EMAIL_TOKEN_LEN + 1], tok2[EMAIL_TOKEN_LEN + 1];
	char			 low[EMAIL_TOKEN_LEN + 1], exp[STORE_TS_LEN];
	char			 did[SA_DID_MAX + 1], now[STORE_TS_LEN];
	uint8_t			 key[32] = { 1 };
	struct config		*cfg = NULL;
	char			*envp[5], err[256], old[STORE_TS_LEN];
	size_t			 i;

	t_group("tokens");
	store_timestamp(now);
	CHECK(store_begin() == PDS_OK, "begin");
	CHECK(store_account_insert(DID, "alice.test", "alice@example.com",
	    "x", key, now) == PDS_OK, "account");
	CHECK(store_commit() == PDS_OK, "commit");
	CHECK(store_account_get(SA_BY_DID, DID, &a) == PDS_OK, "get");

	/* No SMTP: the request succeeds and the token is stored. */
	CHECK(email_token_request(&a, EMAIL_CONFIRM_EMAIL, a.email) == PDS_OK,
	    "request");
	CHECK(email_token_peek(DID, EMAIL_CONFIRM_EMAIL, tok, exp) == PDS_OK,
	    "peek");
	CHECK(token_shape(tok), "shape %s", tok);
	CHECK(exp[0] != '\0' && strcmp(exp, now) > 0, "expiry %s", exp);
	CHECK(email_token_check(DID, EMAIL_CONFIRM_EMAIL, "AAAAA-AAAAA") ==
	    PDS_ENOTFOUND, "wrong token");
	CHECK(email_token_check(DID, EMAIL_CONFIRM_EMAIL, "garbage") ==
	    PDS_ENOTFOUND, "not a token");
	CHECK(email_token_check(DID, EMAIL_UPDATE_EMAIL, tok) ==
	    PDS_ENOTFOUND, "another purpose");
	for (i = 0; i <= EMAIL_TOKEN_LEN; i++)
		low[i] = (char)(tok[i] >= 'A' && tok[i] <= 'Z' ? tok[i] + 32 :
		    tok[i]);
	CHECK(email_token_check(DID, EMAIL_CONFIRM_EMAIL, low) == PDS_OK,
	    "lower case");
	CHECK(email_token_find(EMAIL_CONFIRM_EMAIL, tok, did) == PDS_OK &&
	    strcmp(did, DID) == 0, "find by token");

	/* Asking again replaces it. */
	CHECK(email_token_request(&a, EMAIL_CONFIRM_EMAIL, a.email) == PDS_OK,
	    "request again");
	CHECK(email_token_peek(DID, EMAIL_CONFIRM_EMAIL, tok2, exp) == PDS_OK,
	    "peek again");
	if (strcmp(tok, tok2) != 0)
		CHECK(email_token_check(DID, EMAIL_CONFIRM_EMAIL, tok) ==
		    PDS_ENOTFOUND, "the old token is gone");
	CHECK(email_token_consume(DID, EMAIL_CONFIRM_EMAIL) == PDS_OK,
	    "consume");
	CHECK(email_token_check(DID, EMAIL_CONFIRM_EMAIL, tok2) ==
	    PDS_ENOTFOUND, "used once");

	/* Expiry: a 1-second lifetime from the configuration. */
	CHECK(email_token_ttl() == 15 * 60, "default lifetime 15 minutes");
	envp[0] = "PDS_JWT_SECRET=unit-test-secret";
	envp[1] = "PDS_ADMIN_PASSWORD=unit-test-admin";
	envp[2] = "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX="
	    "4f1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0";
	envp[3] = "PDS_EMAIL_TOKEN_TTL_SECONDS=1";
	envp[4] = NULL;
	CHECK(config_load(&cfg, NULL, envp, err, sizeof(err)) == PDS_OK,
	    "config: %s", err);
	if (cfg == NULL) {
		t_group_end();
		return;
	}
	CHECK(email_tokens_init(cfg) == 0, "module init (adds the prune job)");
	CHECK(email_token_ttl() == 1, "PDS_EMAIL_TOKEN_TTL_SECONDS=1 is used");
	CHECK(email_token_request(&a, EMAIL_RESET_PASSWORD, a.email) ==
	    PDS_OK, "reset request");
	CHECK(email_token_peek(DID, EMAIL_RESET_PASSWORD, tok, exp) == PDS_OK,
	    "fresh");
	sleep(2);
	CHECK(email_token_check(DID, EMAIL_RESET_PASSWORD, tok) ==
	    PDS_EEXPIRED, "expired");
	CHECK(email_token_find(EMAIL_RESET_PASSWORD, tok, did) ==
	    PDS_EEXPIRED, "expired by token");
	CHECK(email_token_peek(DID, EMAIL_RESET_PASSWORD, tok, exp) ==
	    PDS_EEXPIRED, "peek says expired");
	CHECK(email_tokens_prune(0) == PDS_OK, "prune");
	CHECK(email_token_peek(DID, EMAIL_RESET_PASSWORD, tok, exp) ==
	    PDS_ENOTFOUND, "pruned");

	/*
	 * The periodic job drops tokens a day past their expiry, and keeps
	 * the newly expired ones (ExpiredToken, not InvalidToken).
	 */
	CHECK(email_token_request(&a, EMAIL_DELETE_ACCOUNT, a.email) ==
	    PDS_OK, "delete request");
	email_ts_offset(old, -(EMAIL_TOKEN_KEEP_EXPIRED_S + 60));
	CHECK(store_email_token_put("update_email", DID, "AAAAA-BBBBB", old) ==
	    PDS_OK, "a token made over a day ago");
	sleep(2);
	CHECK(email_token_peek(DID, EMAIL_DELETE_ACCOUNT, tok, exp) ==
	    PDS_EEXPIRED, "expired, still stored");
	CHECK(email_token_peek(DID, EMAIL_UPDATE_EMAIL, tok, exp) ==
	    PDS_EEXPIRED, "the old one too");
	jobs_run_all();
	CHECK(email_token_peek(DID, EMAIL_UPDATE_EMAIL, tok, exp) ==
	    PDS_ENOTFOUND, "the prune job dropped the day-old token");
	CHECK(email_token_peek(DID, EMAIL_DELETE_ACCOUNT, tok, exp) ==
	    PDS_EEXPIRED, "... and kept the one expired a second ago");
	config_free(cfg);
	t_group_end();
}

/*
 * Sign-in codes (emailAuthFactor): the 2fa_code purpose in the token
 * store, checked and used up in one step, once, and refused when wrong,
 * of another purpose or expired.  The lifetime is still the 1 s of
 * test_tokens().
 */
static void
test_sign_in(void)
{
	struct store_account	 a;
	char			 tok[EMAIL_TOKEN_LEN + 1], other[EMAIL_TOKEN_LEN + 1];
	char			 low[EMAIL_TOKEN_LEN + 1], exp[STORE_TS_LEN];
	char			 subj[128], text[2048];
	size_t			 i;

	t_group("sign-in codes");
	CHECK(email_purpose_parse("2fa_code") == EMAIL_SIGN_IN,
	    "purpose 2fa_code");
	CHECK(strcmp(email_purpose_name(EMAIL_SIGN_IN), "2fa_code") == 0,
	    "its name");
	CHECK(email_token_message(EMAIL_SIGN_IN, "Coop PDS", "alice.test",
	    "ABCDE-FGHIJ", subj, sizeof(subj), text, sizeof(text)) == PDS_OK &&
	    strcmp(subj, "Coop PDS: Sign-in code") == 0 &&
	    strstr(text, "ABCDE-FGHIJ") != NULL, "its mail: %s", subj);
	CHECK(store_account_get(SA_BY_DID, DID, &a) == PDS_OK, "account");
	CHECK(!a.email_auth_factor, "emailAuthFactor off by default");
	CHECK(store_account_set_email_auth_factor(DID, true) == PDS_OK &&
	    store_account_get(SA_BY_DID, DID, &a) == PDS_OK &&
	    a.email_auth_factor, "turned on");

	CHECK(email_token_request(&a, EMAIL_SIGN_IN, a.email) == PDS_OK,
	    "a code is made (the schema takes 2fa_code)");
	CHECK(email_token_peek(DID, EMAIL_SIGN_IN, tok, exp) == PDS_OK &&
	    token_shape(tok), "XXXXX-XXXXX: %s", tok);
	CHECK(email_token_use(DID, EMAIL_SIGN_IN, "AAAAA-AAAAA") ==
	    PDS_ENOTFOUND || strcmp(tok, "AAAAA-AAAAA") == 0, "wrong code");
	CHECK(email_token_use(DID, EMAIL_SIGN_IN, "") == PDS_ENOTFOUND,
	    "empty code");
	CHECK(email_token_use("did:plc:someoneelse", EMAIL_SIGN_IN, tok) ==
	    PDS_ENOTFOUND, "another account's code");
	CHECK(email_token_request(&a, EMAIL_CONFIRM_EMAIL, a.email) ==
	    PDS_OK && email_token_peek(DID, EMAIL_CONFIRM_EMAIL, other, exp) ==
	    PDS_OK, "a token of another purpose");
	CHECK(email_token_use(DID, EMAIL_SIGN_IN, other) == PDS_ENOTFOUND ||
	    strcmp(other, tok) == 0, "is not a sign-in code");
	for (i = 0; i <= EMAIL_TOKEN_LEN; i++)
		low[i] = (char)(tok[i] >= 'A' && tok[i] <= 'Z' ? tok[i] + 32 :
		    tok[i]);
	CHECK(email_token_use(DID, EMAIL_SIGN_IN, low) == PDS_OK,
	    "the code, typed in lower case, after a wrong one");
	CHECK(email_token_use(DID, EMAIL_SIGN_IN, tok) == PDS_ENOTFOUND,
	    "once only");
	CHECK(email_token_check(DID, EMAIL_CONFIRM_EMAIL, other) == PDS_OK,
	    "the other purpose's token is untouched");

	CHECK(email_token_request(&a, EMAIL_SIGN_IN, a.email) == PDS_OK &&
	    email_token_peek(DID, EMAIL_SIGN_IN, tok, exp) == PDS_OK,
	    "a new code");
	sleep(2);
	CHECK(email_token_use(DID, EMAIL_SIGN_IN, tok) == PDS_EEXPIRED,
	    "expired after the lifetime");
	CHECK(email_token_use(DID, EMAIL_SIGN_IN, tok) == PDS_EEXPIRED,
	    "still expired (an expired code is not used up)");
	CHECK(store_account_set_email_auth_factor(DID, false) == PDS_OK &&
	    store_account_get(SA_BY_DID, DID, &a) == PDS_OK &&
	    !a.email_auth_factor, "turned off");
	t_group_end();
}

int
main(void)
{
	char	 dir[] = "/tmp/pds-email-XXXXXX", path[256];

	log_init("test_pdsd_email", 0, 0);
	test_generate();
	test_message();
	test_compose();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/pds.sqlite", dir);
	if (store_open(path) != PDS_OK) {
		fprintf(stderr, "store_open failed\n");
		return 1;
	}
	test_tokens();
	test_sign_in();
	store_close();
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_pdsd_email");
}
