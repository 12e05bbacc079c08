/*
 * store_account: the SQL behind accounts, sessions (refresh tokens), app
 * passwords and invite codes.  Only pdsd/accounts.c and pdsd/auth.c call
 * these; everything else goes through accounts.h.
 *
 * Strings are copied into the caller's fixed buffers; a value too long
 * for its buffer is PDS_ETOOBIG (it never happens with the sizes below,
 * which are the syntax limits).  A lookup that finds nothing is
 * PDS_ENOTFOUND; a UNIQUE or foreign-key violation is PDS_EEXIST.
 * Functions marked "in a transaction" expect store_begin() to have been
 * called on this thread; the others run on their own (autocommit).
 */
#ifndef PDSD_STORE_ACCOUNT_H
#define PDSD_STORE_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SA_DID_MAX	2048
#define SA_HANDLE_MAX	253
#define SA_EMAIL_MAX	254
#define SA_REF_MAX	256
#define SA_HASH_MAX	192	/* crypto_pwhash_STRBYTES is 128 */
#define SA_NAME_MAX	64	/* app password names */
#define SA_CODE_MAX	128	/* invite codes */
#define SA_TOKEN_ID_MAX	64	/* refresh token jti */

/*
 * An account's status.  acct_status_name() gives the one spelling every
 * wire uses: the accounts.status column, the #account event's status,
 * the XRPC replies and the admin socket.
 */
enum acct_status {
	ACCT_ACTIVE,
	ACCT_DEACTIVATED,
	ACCT_TAKENDOWN,
	ACCT_DELETED,
};

/* "active", "deactivated", "takendown", "deleted". */
const char	*acct_status_name(enum acct_status);
/* The status a name spells; PDS_EINVAL for any other string. */
int		 acct_status_parse(const char *name, enum acct_status *out);

struct store_account {
	char	did[SA_DID_MAX + 1];
	char	handle[SA_HANDLE_MAX + 1];	/* "" when NULL */
	char	email[SA_EMAIL_MAX + 1];	/* "" when NULL */
	enum acct_status status;
	char	created_at[STORE_TS_LEN];
	char	email_confirmed_at[STORE_TS_LEN];	/* "" when NULL */
	char	deactivated_at[STORE_TS_LEN];		/* "" when NULL */
	char	takedown_ref[SA_REF_MAX];		/* "" when NULL */
	bool	invites_disabled;
	bool	email_auth_factor;	/* sign-in codes by email */
};

enum store_account_by {
	SA_BY_DID,
	SA_BY_HANDLE,	/* compared case-insensitively */
	SA_BY_EMAIL,	/* compared case-insensitively */
};

/* ---- accounts ---- */

/*
 * Insert an account row (in a transaction).  handle and email may be
 * NULL.  PDS_EEXIST when the DID, handle or email is taken.
 */
int	store_account_insert(const char *did, const char *handle,
	    const char *email, const char *password_hash,
	    const uint8_t signing_key[32], const char *created_at);
int	store_account_get(enum store_account_by, const char *key,
	    struct store_account *out);
/* Whether a handle / email is in use by an account other than `did'. */
int	store_account_handle_taken(const char *handle, const char *except_did,
	    bool *taken);
int	store_account_email_taken(const char *email, bool *taken);
/* The password hash ("" if the account has none). */
int	store_account_password_hash(const char *did, char *out, size_t cap);
/* The account's 32-byte signing key; wipe it after use. */
int	store_account_signing_key(const char *did, uint8_t out[32]);
int	store_account_set_handle(const char *did, const char *handle);
int	store_account_set_email(const char *did, const char *email);
/* Turn email two-factor sign-in (emailAuthFactor) on or off. */
int	store_account_set_email_auth_factor(const char *did, bool on);
int	store_account_set_password(const char *did, const char *hash);
/*
 * Set the status (ACCT_ACTIVE, ACCT_DEACTIVATED, ACCT_TAKENDOWN; any
 * other is PDS_EINVAL) with its timestamp or reference: deactivated_at
 * for deactivated, takedown_ref for takendown; moving to active clears
 * both.
 */
int	store_account_set_status(const char *did, enum acct_status,
	    const char *at_or_ref);
int	store_account_set_invites_disabled(const char *did, bool disabled);
/* Delete the account row (cascades to everything it owns). */
int	store_account_delete(const char *did);

/*
 * The empty repository of a new account (in a transaction): its blocks
 * and the repo_root row.
 */
struct store_block {
	const char	*cid;		/* base32 text */
	const uint8_t	*data;
	size_t		 len;
};
int	store_account_repo_init(const char *did, const struct store_block *,
	    size_t nblocks, const char *root_cid, const char *rev,
	    const char *now);

/* ---- refresh tokens ---- */

struct store_refresh {
	char	id[SA_TOKEN_ID_MAX + 1];
	char	did[SA_DID_MAX + 1];
	char	expires_at[STORE_TS_LEN];
	char	app_password_name[SA_NAME_MAX + 1];	/* "" when NULL */
	char	next_id[SA_TOKEN_ID_MAX + 1];		/* "" when NULL */
};

int	store_refresh_insert(const char *id, const char *did,
	    const char *expires_at, const char *app_password_name);
int	store_refresh_get(const char *id, struct store_refresh *out);
/*
 * Mark `id' rotated to `next_id' and cut its expiry to `expires_at'
 * when earlier, unless it was already rotated to another token (then
 * PDS_EMISMATCH).  In a transaction, with the insert of next_id.
 */
int	store_refresh_rotate(const char *id, const char *next_id,
	    const char *expires_at);
/* Revoke `id' and every token rotated into it (its predecessors). */
int	store_refresh_revoke_chain(const char *id);
int	store_refresh_revoke_app_password(const char *did, const char *name);
int	store_refresh_revoke_all(const char *did);
/*
 * Calls cb per live session of did: its current refresh token (not
 * rotated), soonest expiry first; non-zero stops with it.
 */
int	store_refresh_list(const char *did,
	    int (*cb)(void *, const struct store_refresh *), void *arg);
/* Drop the account's tokens that expired before `now'. */
int	store_refresh_prune(const char *did, const char *now);

/* ---- app passwords ---- */

struct store_app_password {
	char	name[SA_NAME_MAX + 1];
	char	created_at[STORE_TS_LEN];
	bool	privileged;
};

/* PDS_EEXIST if the name is in use. */
int	store_app_password_insert(const char *did, const char *name,
	    const char *hash, bool privileged, const char *created_at);
/* The one whose stored hash is `hash' (PDS_ENOTFOUND if none). */
int	store_app_password_find(const char *did, const char *hash,
	    struct store_app_password *out);
int	store_app_password_get(const char *did, const char *name,
	    struct store_app_password *out);
int	store_app_password_count(const char *did, size_t *n);
/* Calls cb per app password, oldest first; non-zero stops with it. */
int	store_app_password_list(const char *did,
	    int (*cb)(void *, const struct store_app_password *), void *arg);
/* PDS_ENOTFOUND if there was none of that name. */
int	store_app_password_delete(const char *did, const char *name);
/* Delete every app password of did. */
int	store_app_password_delete_all(const char *did);

/* ---- invite codes ---- */

struct store_invite {
	char	code[SA_CODE_MAX + 1];
	int64_t	available;	/* available_uses */
	int64_t	used;		/* rows in invite_code_uses */
	bool	disabled;
	char	for_account[SA_DID_MAX + 1];
	char	created_by[SA_DID_MAX + 1];
	char	created_at[STORE_TS_LEN];
};

struct store_invite_use {
	char	used_by[SA_DID_MAX + 1];
	char	used_at[STORE_TS_LEN];
};

int	store_invite_insert(const char *code, int64_t uses,
	    const char *for_account, const char *created_by,
	    const char *created_at);
int	store_invite_get(const char *code, struct store_invite *out);
/*
 * Record one use of `code' by `did' (in a transaction) if the code
 * exists, is not disabled and has a use left; PDS_ENOTFOUND otherwise.
 */
int	store_invite_use(const char *code, const char *did, const char *now);
/* The codes made for `account', newest first, with their uses. */
int	store_invite_list_for(const char *account,
	    int (*cb)(void *, const struct store_invite *), void *arg);
int	store_invite_list_uses(const char *code,
	    int (*cb)(void *, const struct store_invite_use *), void *arg);

#endif
