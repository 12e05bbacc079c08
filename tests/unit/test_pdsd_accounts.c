/*
 * test_pdsd_accounts: the account service's pieces that need no PLC
 * directory, in process over a store in a temporary directory: handle
 * and email rules, password and app-password checks, refresh-token
 * rotation with its grace window and chain revocation, atomic invite
 * use, the login limits, and creation with an existing DID (a
 * migration in, which sends nothing to the PLC directory).  (Creation
 * with a new DID, which needs a PLC directory, is covered by
 * tests/integration/test_accounts.sh and tests/interop/test_accounts.mjs.)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../../pdsd/accounts.h"
#include "../../pdsd/auth.h"
#include "../../pdsd/config.h"
#include "err.h"
#include "keys.h"
#include "log.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_account.h"
#include "../../pdsd/store_keys.h"
#include "syntax.h"

#include "t.h"

static char	 tmpdir[] = "/tmp/test_pdsd_accounts.XXXXXX";

static bool
handle_ok(const char *in, unsigned flags, const char *want, bool service)
{
	struct pds_error	 e;
	char		 out[HANDLE_MAX + 1];
	bool		 s;

	memset(&e, 0, sizeof(e));
	return account_handle_check(in, flags, out, sizeof(out), &s, &e) ==
	    PDS_OK && strcmp(out, want) == 0 && s == service;
}

/* The refusal's name, or "" if accepted. */
static const char *
handle_err(const char *in, unsigned flags)
{
	static struct pds_error e;
	char		 out[HANDLE_MAX + 1];
	bool		 s;

	memset(&e, 0, sizeof(e));
	if (account_handle_check(in, flags, out, sizeof(out), &s, &e) ==
	    PDS_OK)
		return "";
	return e.name != NULL ? e.name : "?";
}

static void
test_handles(void)
{
	const unsigned S = ACCOUNT_HANDLE_SERVICE, A = ACCOUNT_HANDLE_ADMIN;

	t_group("handles");
	CHECK(handle_ok("Alice.Test", S, "alice.test", true), "normalised");
	CHECK(handle_ok("bob.example.org", 0, "bob.example.org", false),
	    "an external handle when allowed");
	CHECK(strcmp(handle_err("bob.example.org", S), "UnsupportedDomain") ==
	    0, "an external handle for a new account");
	CHECK(strcmp(handle_err("bo_b.test", S), "InvalidHandle") == 0,
	    "bad syntax");
	CHECK(strcmp(handle_err("ab.test", S), "InvalidHandle") == 0,
	    "2-character label");
	CHECK(handle_ok("abc.test", S, "abc.test", true), "3-character label");
	CHECK(handle_ok("abcdefghijklmnopqr.test", S,
	    "abcdefghijklmnopqr.test", true), "18-character label");
	CHECK(strcmp(handle_err("abcdefghijklmnopqrs.test", S),
	    "InvalidHandle") == 0, "19-character label");
	CHECK(strcmp(handle_err("a.b.test", S), "InvalidHandle") == 0,
	    "two labels under the domain");
	CHECK(strcmp(handle_err("admin.test", S), "HandleNotAvailable") == 0,
	    "a reserved label");
	CHECK(handle_ok("admin.test", S | A, "admin.test", true),
	    "the operator may assign a reserved label");
	CHECK(handle_ok("ab.test", S | A, "ab.test", true),
	    "... and a short one");
	CHECK(strcmp(handle_err("bob.local", 0), "InvalidHandle") == 0,
	    "a disallowed TLD");
	CHECK(strcmp(handle_err("bob.onion", 0), "InvalidHandle") == 0,
	    "another disallowed TLD");
	CHECK(strcmp(handle_err("", S), "InvalidHandle") == 0, "empty");
	t_group_end();
}

static bool
email_ok(const char *in, const char *want)
{
	struct pds_error	 e;
	char		 out[SA_EMAIL_MAX + 1];

	return account_email_check(in, out, sizeof(out), &e) == PDS_OK &&
	    strcmp(out, want) == 0;
}

static void
test_emails(void)
{
	t_group("emails");
	CHECK(email_ok("Alice@Example.COM", "alice@example.com"),
	    "lower-cased");
	CHECK(email_ok("a.b+tag@mail.example.org", "a.b+tag@mail.example.org"),
	    "plus and dots");
	CHECK(!email_ok("alice", ""), "no @");
	CHECK(!email_ok("a@b@example.com", ""), "two @");
	CHECK(!email_ok("@example.com", ""), "empty local part");
	CHECK(!email_ok("alice@localhost", ""), "undotted domain");
	CHECK(!email_ok("alice@example..com", ""), "empty label");
	CHECK(!email_ok("alice@example.com.", ""), "trailing dot");
	CHECK(!email_ok("al ice@example.com", ""), "space");
	CHECK(!email_ok("alice@exa_mple.com", ""), "underscore in domain");
	t_group_end();
}

static void
make_account(const char *did, const char *handle, const char *pw)
{
	char	 hash[SA_HASH_MAX], now[STORE_TS_LEN], email[64];
	uint8_t	 key[32];

	randombytes_buf(key, sizeof(key));
	store_timestamp(now);
	snprintf(email, sizeof(email), "%s@example.com", handle);
	CHECK(account_password_hash(pw, hash, sizeof(hash)) == PDS_OK,
	    "hash");
	CHECK(store_begin() == PDS_OK, "begin");
	CHECK(store_account_insert(did, handle, email, hash, key, now) ==
	    PDS_OK, "insert %s", did);
	CHECK(store_commit() == PDS_OK, "commit");
}

static void
test_passwords(void)
{
	struct store_account	 a;
	struct account_login	 how;
	struct store_app_password ap;
	struct pds_error	 e;
	char			 pw[ACCOUNT_APP_PASSWORD_LEN + 1];
	char			 hash[SA_HASH_MAX];
	const char		*did = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";

	t_group("passwords");
	CHECK(account_password_hash("hunter2", hash, sizeof(hash)) == PDS_OK,
	    "hash");
	CHECK(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0,
	    "Argon2id with 19 MiB and 2 passes: %s", hash);
	make_account(did, "alice.test", "correct horse");
	CHECK(account_lookup("ALICE.test", &a) == PDS_OK &&
	    strcmp(a.did, did) == 0, "lookup by handle");
	CHECK(account_lookup("Alice.Test@Example.com", &a) == PDS_OK,
	    "lookup by email");
	CHECK(account_lookup(did, &a) == PDS_OK, "lookup by DID");
	CHECK(account_lookup("nobody.test", &a) == PDS_ENOTFOUND, "unknown");
	CHECK(account_password_verify(&a, "correct horse", &how) == PDS_OK &&
	    !how.app_password, "main password");
	CHECK(account_password_verify(&a, "correct horsE", &how) ==
	    PDS_ECRYPTO, "wrong password");
	CHECK(account_password_verify(NULL, "correct horse", &how) ==
	    PDS_ECRYPTO, "no account");

	CHECK(account_app_password_create(did, "phone", true, pw, &ap, &e) ==
	    PDS_OK, "app password");
	CHECK(strlen(pw) == 19 && pw[4] == '-' && pw[9] == '-' &&
	    pw[14] == '-', "xxxx-xxxx-xxxx-xxxx: %s", pw);
	CHECK(account_password_verify(&a, pw, &how) == PDS_OK &&
	    how.app_password && how.privileged &&
	    strcmp(how.app_password_name, "phone") == 0,
	    "the app password logs in, privileged");
	CHECK(account_app_password_create(did, "phone", false, pw, &ap, &e) ==
	    PDS_EEXIST, "a duplicate name");
	CHECK(account_app_password_create(did, "", false, pw, &ap, &e) ==
	    PDS_EINVAL, "an empty name");
	CHECK(account_app_password_revoke(did, "phone") == PDS_OK, "revoke");
	CHECK(account_password_verify(&a, pw, &how) == PDS_ECRYPTO,
	    "a revoked app password");
	CHECK(account_set_password(did, "new password", &e) == PDS_OK,
	    "set password");
	CHECK(account_password_verify(&a, "new password", &how) == PDS_OK,
	    "the new password");
	CHECK(account_password_verify(&a, "correct horse", &how) ==
	    PDS_ECRYPTO, "not the old one");
	t_group_end();
}

static char *
jti_of(const char *jwt)
{
	static char	 out[128];
	unsigned char	 dec[1024];
	const char	*p = strchr(jwt, '.'), *q, *j;
	size_t		 n = 0;

	out[0] = '\0';
	if (p == NULL || (q = strchr(p + 1, '.')) == NULL ||
	    sodium_base642bin(dec, sizeof(dec) - 1, p + 1, (size_t)(q - p - 1),
	    NULL, &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return out;
	dec[n] = '\0';
	if ((j = strstr((char *)dec, "\"jti\":\"")) != NULL) {
		j += 7;
		n = strcspn(j, "\"");
		if (n < sizeof(out)) {
			memcpy(out, j, n);
			out[n] = '\0';
		}
	}
	return out;
}

static void
test_refresh(void)
{
	struct auth_session	 s, r1, r2;
	char			 j0[128], j1[128];
	const char		*did = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb";

	t_group("refresh tokens");
	make_account(did, "bob.test", "pw");
	CHECK(auth_session_create(did, AUTH_SCOPE_ACCESS, NULL, true, &s) ==
	    PDS_OK, "session");
	snprintf(j0, sizeof(j0), "%s", jti_of(s.refresh));
	CHECK(strlen(j0) == 43, "a 32-byte base64url jti: %s", j0);
	CHECK(auth_session_refresh(did, j0, &r1) == PDS_OK, "rotate");
	snprintf(j1, sizeof(j1), "%s", jti_of(r1.refresh));
	CHECK(strcmp(j0, j1) != 0, "a new token id");
	CHECK(auth_session_refresh(did, j0, &r2) == PDS_OK,
	    "the old token within its grace window");
	CHECK(strcmp(jti_of(r2.refresh), j1) == 0, "... gives the same next");
	auth_session_clear(&r2);
	CHECK(auth_session_refresh("did:plc:cccccccccccccccccccccccc", j1,
	    &r2) == PDS_EEXPIRED, "another account's token id");
	CHECK(auth_session_revoke(j1) == PDS_OK, "logout");
	CHECK(auth_session_refresh(did, j1, &r2) == PDS_EEXPIRED,
	    "the logged-out token");
	CHECK(auth_session_refresh(did, j0, &r2) == PDS_EEXPIRED,
	    "the token it came from");
	CHECK(auth_session_refresh(did, "never-issued", &r2) == PDS_EEXPIRED,
	    "an unknown token id");
	auth_session_clear(&s);
	auth_session_clear(&r1);
	t_group_end();
}

static void
test_invites(void)
{
	struct store_invite	 inv;
	char			 code[SA_CODE_MAX + 1], now[STORE_TS_LEN];

	t_group("invite codes");
	store_timestamp(now);
	CHECK(account_invite_create(2, "admin", "admin", code, sizeof(code)) ==
	    PDS_OK, "create");
	CHECK(strncmp(code, "pds-example-com-", 16) == 0 &&
	    strlen(code) == 16 + 11, "host-xxxxx-xxxxx: %s", code);
	CHECK(store_begin() == PDS_OK && store_invite_use(code, "did:a", now)
	    == PDS_OK && store_commit() == PDS_OK, "first use");
	CHECK(store_begin() == PDS_OK && store_invite_use(code, "did:b", now)
	    == PDS_OK && store_commit() == PDS_OK, "second use");
	CHECK(store_begin() == PDS_OK && store_invite_use(code, "did:c", now)
	    == PDS_ENOTFOUND, "no third use");
	store_rollback();
	CHECK(store_invite_get(code, &inv) == PDS_OK && inv.used == 2 &&
	    inv.available == 2, "two uses recorded");
	CHECK(account_invite_create(0, "admin", "admin", code, sizeof(code)) ==
	    PDS_EINVAL, "zero uses");
	t_group_end();
}

static void
test_limits(void)
{
	const char	*did = "did:plc:dddddddddddddddddddddddd";
	int		 i, ok = 0;

	t_group("login limits");
	for (i = 0; i < 10; i++)
		ok += auth_login_take("dave.test", did, "192.0.2.1") == PDS_OK;
	CHECK(ok == 10, "ten failures allowed");
	CHECK(auth_login_take("dave@example.com", did, "192.0.2.1") ==
	    PDS_ETOOBIG, "the eleventh, by another identifier, is refused");
	CHECK(auth_login_take("dave.test", did, "192.0.2.2") == PDS_OK,
	    "another client may still try");
	auth_login_refund("dave.test", did, "192.0.2.2");
	for (i = 0, ok = 0; i < 60; i++) {
		char	 id[32];

		snprintf(id, sizeof(id), "user%d.test", i);
		ok += auth_login_take(id, NULL, "192.0.2.9") == PDS_OK;
	}
	CHECK(ok == 50, "one client gets 50 failures over many accounts (%d)",
	    ok);
	auth_login_refund("x.test", NULL, "192.0.2.3");
	CHECK(auth_login_take("x.test", NULL, "192.0.2.3") == PDS_OK,
	    "a refund never overfills");

	/* issue 16, finding 6: guessing from many addresses */
	did = "did:plc:eeeeeeeeeeeeeeeeeeeeeeee";
	for (i = 0, ok = 0; i < 110; i++) {
		char	 a[32];

		snprintf(a, sizeof(a), "198.18.0.%d", i);
		ok += auth_login_take("erin.test", did, a) == PDS_OK;
	}
	CHECK(ok == 110, "an empty account bucket refuses no address "
	    "outright (%d of 110)", ok);
	CHECK(auth_login_take("erin.test", did, "203.0.113.5") == PDS_OK,
	    "the member's own try is heard (and checked)");
	auth_login_refund("erin.test", did, "203.0.113.5");
	CHECK(auth_login_take("erin.test", did, "203.0.113.5") == PDS_OK,
	    "after a success the member's address may try again");
	CHECK(auth_login_take("erin.test", did, "198.18.0.200") == PDS_OK,
	    "a new guesser is heard once");
	CHECK(auth_login_take("erin.test", did, "198.18.0.200") ==
	    PDS_ETOOBIG, "... then slowed down while the account is guessed "
	    "at");
	CHECK(auth_login_take("erin.test", did, "198.18.0.105") ==
	    PDS_ETOOBIG, "... as are the guessers heard since it emptied");

	/* finding 5: successful logins count against the address */
	for (i = 0, ok = 0; i < 60; i++) {
		if (auth_login_take("fay.test", NULL, "192.0.2.50") != PDS_OK)
			break;
		auth_login_refund("fay.test", NULL, "192.0.2.50");
		ok++;
	}
	CHECK(ok == 50, "50 successful logins from one address, then it "
	    "waits (%d)", ok);
	t_group_end();
}

static char	 create_invite[SA_CODE_MAX + 1];

/* The name of account_create()'s refusal of an existing-DID input. */
static const char *
create_err(const char *did, const char *handle, const char *email)
{
	static struct pds_error	 e;
	struct account_new	 in;
	struct account_created	 out;

	memset(&in, 0, sizeof(in));
	in.did = did;
	in.handle = handle;
	in.email = email;
	in.password = "hunter22";
	in.invite_code = create_invite;
	if (account_create(&in, &out, &e) == PDS_OK) {
		json_decref(out.did_doc);
		return "";
	}
	return e.name != NULL ? e.name : "?";
}

static void
test_create_existing_did(void)
{
	const char		*did = "did:web:localhost%3A1";
	struct account_new	 in;
	struct account_created	 out;
	struct pds_error	 e;
	struct store_account	 a;
	struct pds_key		*key = NULL;
	uint8_t			 priv[KEY_PRIV_LEN], got[KEY_PRIV_LEN];
	char			 keydid[KEY_DIDKEY_MAX], now[STORE_TS_LEN];

	t_group("create with an existing DID");
	CHECK(account_invite_create(10, "admin", "admin", create_invite,
	    sizeof(create_invite)) == PDS_OK, "an invite code");
	CHECK(key_generate(&key, KEY_K256) == PDS_OK &&
	    key_export_private(key, priv) == PDS_OK &&
	    key_to_didkey(key, keydid, sizeof(keydid)) > 0, "a key");
	key_free(key);
	store_timestamp(now);
	CHECK(store_keys_put(keydid, did, priv, now) == PDS_OK,
	    "reserve it for the DID");
	CHECK(strcmp(create_err("did:key:zQ3shabc", "mover.test",
	    "mover@example.com"), "InvalidRequest") == 0,
	    "only did:plc and did:web");
	memset(&in, 0, sizeof(in));
	in.did = did;
	in.handle = "mover.test";
	in.email = "Mover@Example.com";
	in.password = "hunter22";
	in.invite_code = create_invite;
	CHECK(account_create(&in, &out, &e) == PDS_OK, "created: %s",
	    e.msg);
	CHECK(strcmp(out.did, did) == 0 && strcmp(out.handle,
	    "mover.test") == 0 && out.did_doc == NULL && out.rev[0] != '\0',
	    "the DID kept, no DID document");
	json_decref(out.did_doc);
	CHECK(account_get(did, &a) == PDS_OK &&
	    a.status == ACCT_DEACTIVATED &&
	    strcmp(a.email, "mover@example.com") == 0,
	    "deactivated from the start");
	CHECK(store_account_signing_key(did, got) == PDS_OK &&
	    memcmp(got, priv, sizeof(priv)) == 0, "the reserved key is used");
	CHECK(store_keys_get(did, got) == PDS_ENOTFOUND &&
	    store_keys_get(keydid, got) == PDS_ENOTFOUND,
	    "and its reservation dropped");
	CHECK(strcmp(create_err("did:web:example.com", "mover.test",
	    "other@example.com"), "HandleNotAvailable") == 0, "handle taken");
	CHECK(store_begin() == PDS_OK && store_account_set_status(did,
	    ACCT_ACTIVE, now) == PDS_OK && store_commit() == PDS_OK,
	    "activate");
	CHECK(strcmp(create_err(did, "mover2.test", "m2@example.com"),
	    "AlreadyExists") == 0, "a live account is not replaced");
	CHECK(store_begin() == PDS_OK && store_account_set_status(did,
	    ACCT_TAKENDOWN, "t1") == PDS_OK && store_commit() == PDS_OK,
	    "take down");
	CHECK(strcmp(create_err(did, "mover2.test", "m2@example.com"),
	    "AccountTakedown") == 0, "nor a taken-down one");
	CHECK(store_begin() == PDS_OK && store_account_set_status(did,
	    ACCT_DEACTIVATED, now) == PDS_OK && store_commit() == PDS_OK,
	    "deactivate");
	/* A DID uses a code once (invite_code_uses' key): a new one. */
	CHECK(account_invite_create(1, "admin", "admin", create_invite,
	    sizeof(create_invite)) == PDS_OK, "another invite code");
	CHECK(strcmp(create_err(did, "mover.test", "mover@example.com"),
	    "") == 0, "a copy left behind is replaced, handle and all");
	CHECK(account_get(did, &a) == PDS_OK &&
	    a.status == ACCT_DEACTIVATED, "by a new one");
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(got, sizeof(got));
	t_group_end();
}

int
main(void)
{
	struct config	*cfg = NULL;
	char		 err[256], path[128], dd[128];
	char		*envp[8];
	int		 rc;

	log_init("test_pdsd_accounts", 0, 0);
	if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL)
		return 1;
	snprintf(dd, sizeof(dd), "PDS_DATA_DIRECTORY=%s", tmpdir);
	envp[0] = "PDS_HOSTNAME=pds.example.com";
	envp[1] = "PDS_JWT_SECRET=unit-test-secret";
	envp[2] = "PDS_ADMIN_PASSWORD=unit-test-admin";
	envp[3] = "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX="
	    "4f1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0";
	envp[4] = "PDS_SERVICE_HANDLE_DOMAINS=.test";
	envp[5] = "PDS_DEV_MODE=true";
	envp[6] = dd;
	envp[7] = NULL;
	rc = config_load(&cfg, NULL, envp, err, sizeof(err));
	CHECK(rc == PDS_OK, "config: %s", err);
	if (rc != PDS_OK)
		return t_done("test_pdsd_accounts");
	snprintf(path, sizeof(path), "%s/pds.sqlite", tmpdir);
	CHECK(store_open(path) == PDS_OK, "store");
	CHECK(accounts_init(cfg) == PDS_OK, "accounts_init");

	test_handles();
	test_emails();
	test_passwords();
	test_refresh();
	test_invites();
	test_limits();
	test_create_existing_did();

	store_close();
	config_free(cfg);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pds.sqlite-wal", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pds.sqlite-shm", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return t_done("test_pdsd_accounts");
}
