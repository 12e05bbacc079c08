/*
 * accounts: the account service.  Creating accounts (key, did:plc
 * genesis, empty signed repo, rows), finding them by handle, email or
 * DID, changing handle, password and status, app passwords and invite
 * codes.
 *
 * Nothing here knows HTTP: the XRPC handlers (api_server.c,
 * api_identity.c), the admin socket and the admin XRPC methods all call
 * these same functions.  A refusal comes back as a PDS_E* code plus a
 * struct pds_error naming the reason the way the reference PDS's XRPC
 * errors do ("HandleNotAvailable", "InvalidInviteCode", ...) with a
 * message for people; account_error_settle() makes it complete for the
 * front ends, which turn it into their own wire form.
 *
 *   PDS_EINVAL, PDS_EEXIST, PDS_ENOTFOUND, PDS_ETOOBIG: the caller's
 *	input was refused (XRPC 400 with err->name)
 *   PDS_ECRYPTO: wrong password (XRPC 401)
 *   PDS_EUPSTREAM: the PLC directory failed (XRPC 502)
 *   anything else: an internal failure (XRPC 500)
 *
 * Thread-safe after accounts_init() (a module init, see module.h).
 */
#ifndef PDSD_ACCOUNTS_H
#define PDSD_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "store_account.h"

struct config;
struct pds_key;

/* Password rules (the reference's): new ones <= 256, checked <= 512. */
#define ACCOUNT_PASSWORD_MAX		256
#define ACCOUNT_PASSWORD_CHECK_MAX	512
/*
 * Argon2id cost: 19 MiB and 2 passes (OWASP's recommendation; more
 * memory than the reference's scrypt N=16384 r=8 p=1 at 16 MiB).
 * Measured on a 2-core VM: about 22 ms per hash or verify.
 */
#define ACCOUNT_PWHASH_OPSLIMIT		2
#define ACCOUNT_PWHASH_MEMLIMIT		((size_t)19 << 20)
/* App passwords: "xxxx-xxxx-xxxx-xxxx" of base32 (80 random bits). */
#define ACCOUNT_APP_PASSWORD_LEN	19
#define ACCOUNT_APP_PASSWORDS_MAX	50
/* Service handles: the label under the handle domain. */
#define ACCOUNT_HANDLE_LABEL_MIN	3
#define ACCOUNT_HANDLE_LABEL_MAX	18

struct pds_error;

/*
 * Complete err for the refusal rc of an account function: a refusal
 * the function named stays; for a bare code, the caller's faults keep
 * their code, a wrong password (PDS_ECRYPTO) becomes PDS_EAUTHREQ and
 * anything else PDS_EINTERNAL.  Returns err.
 */
const struct pds_error *account_error_settle(struct pds_error *err, int rc);

/* This server's PLC rotation key and its did:key (set at start-up). */
const struct pds_key *account_rotation_key(void);
const char	*account_rotation_didkey(void);
/*
 * The rotation keys of a new DID into keys[3]: the user's recovery key
 * (may be NULL), then PDS_RECOVERY_DID_KEY when set, then ours; returns
 * how many.
 */
size_t	account_rotation_keys(const char *keys[3], const char *user_key);
/* Fill err for a PLC directory failure rc while doing `what'; returns rc. */
int	account_plc_fail(struct pds_error *err, int rc, const char *what,
	    const char *msg);
/*
 * Fetch the DID's latest PLC operation and start the next one on top of
 * it in *next (free with plc_op_free); refused (InvalidRequest) when this
 * server's rotation key is not among the DID's rotation keys.
 */
struct plc_op;
int	account_plc_next_op(const char *did, struct plc_op **next,
	    struct pds_error *err);

int	accounts_init(const struct config *);
const struct config *accounts_config(void);

/* ---- handles, emails ---- */

#define ACCOUNT_HANDLE_ADMIN	0x01	/* reserved words, any length */
#define ACCOUNT_HANDLE_SERVICE	0x02	/* must be under our domains */

/*
 * Normalise (lower-case) and check a handle for this server into
 * out[HANDLE_MAX + 1]: syntax, disallowed TLDs (.test allowed in dev
 * mode), and for handles under PDS_SERVICE_HANDLE_DOMAINS a single
 * label of 3-18 characters that is not a reserved word (unless
 * ACCOUNT_HANDLE_ADMIN).  *is_service tells whether it is one of ours.
 * Does not check whether the handle is taken.
 */
int	account_handle_check(const char *handle, unsigned flags, char *out,
	    size_t cap, bool *is_service, struct pds_error *);
/* Lower-case and check an email address into out. */
int	account_email_check(const char *email, char *out, size_t cap,
	    struct pds_error *);

/* ---- accounts ---- */

struct account_new {
	const char	*handle;
	const char	*email;
	const char	*password;
	const char	*invite_code;	/* NULL: none given */
	const char	*recovery_key;	/* the user's did:key, or NULL */
	const char	*did;		/* existing DID (migrating in), NULL */
	const uint8_t	*signing_key;	/* with did: the k256 key to keep */
	bool		 admin;		/* no invite needed, any handle */
};

struct account_created {
	char		 did[SA_DID_MAX + 1];
	char		 handle[SA_HANDLE_MAX + 1];
	json_t		*did_doc;	/* owned: json_decref() */
	char		 rev[16];
	char		 commit[128];
};

/*
 * Create an account (accounts_create.c): check handle, email, password
 * and invite code, then in one transaction consume the invite and
 * insert the account and its empty signed repo.
 *
 * A new DID (in->did NULL): the handle must be under our domains; make
 * a k256 signing key, sign a did:plc genesis op with the server's
 * rotation key (account_rotation_keys()) and send it to the PLC
 * directory; the account starts active and the events hooks are called
 * (out->did_doc is set).
 *
 * An existing DID (migration in; did:plc or did:web only, the caller
 * has checked that the request comes from it): a handle outside our
 * domains must resolve to the DID; a local copy the DID left behind
 * (moved away, or a migration in that never finished) is purged first,
 * but a live or taken-down account is refused (AlreadyExists,
 * AccountTakedown); nothing is sent to the PLC directory; the signing
 * key is in->signing_key when set (an import that keeps the key), else
 * the one reserveSigningKey reserved for the DID (else a new one) and the reservation is dropped in the same transaction; the
 * account starts deactivated, with an inbound migration row and no
 * events (out->did_doc is NULL).
 */
int	account_create(const struct account_new *, struct account_created *,
	    struct pds_error *);

/* By DID, by handle, or (with '@') by email; for logins. */
int	account_lookup(const char *identifier, struct store_account *out);
int	account_get(const char *did, struct store_account *out);

/*
 * Whether a session or login of this account may proceed, as the
 * "active"/"status" pair the API shows: *active false with *status
 * "deactivated" or "takendown".  status may be NULL.
 */
void	account_status(const struct store_account *, bool *active,
	    const char **status);

/*
 * Change the handle: check it (ACCOUNT_HANDLE_* flags; handles outside
 * our domains must resolve to the DID), refuse a taken one, sign and
 * submit a PLC update (did:plc) with the server's rotation key, store
 * it and call events_identity().  The same handle again only
 * re-announces it.
 */
int	account_set_handle(const char *did, const char *handle,
	    unsigned flags, struct pds_error *);
/* New password (hashes it) and revoke every session. */
int	account_set_password(const char *did, const char *password,
	    struct pds_error *);
/*
 * ACCT_ACTIVE, ACCT_DEACTIVATED (ref: the deleteAfter hint, may be
 * NULL) or ACCT_TAKENDOWN (ref: the takedown reference); calls
 * events_account().
 */
int	account_set_status(const char *did, enum acct_status,
	    const char *ref, struct pds_error *);

/* The account's k256 signing key pair (key_free() it). */
int	account_signing_key(const char *did, struct pds_key **out);
/* The same as a did:key, into out[cap] (KEY_DIDKEY_MAX will do). */
int	account_signing_didkey(const char *did, char *out, size_t cap);
/* What getRecommendedDidCredentials answers. */
int	account_did_credentials(const char *did, json_t **out);
/* The account's DID document: the PLC directory's, else built locally. */
int	account_did_doc(const char *did, json_t **out);

/* ---- passwords ---- */

/* Hash a password into out[SA_HASH_MAX]. */
int	account_password_hash(const char *password, char *out, size_t cap);

struct account_login {
	bool	app_password;			/* logged in with one */
	bool	privileged;
	char	app_password_name[SA_NAME_MAX + 1];
};

/*
 * Check a password for the account: its main password, or one of its app
 * passwords.  PDS_OK (and *how), or PDS_ECRYPTO.  Takes the same time
 * whether or not `acct' is NULL (an unknown identifier).
 */
int	account_password_verify(const struct store_account *acct,
	    const char *password, struct account_login *how);

/* ---- app passwords ---- */

/*
 * A new app password `name' (1-64 characters); its text (shown once)
 * into password[ACCOUNT_APP_PASSWORD_LEN + 1].
 */
int	account_app_password_create(const char *did, const char *name,
	    bool privileged, char *password, struct store_app_password *out,
	    struct pds_error *);
/* Remove it and revoke the sessions made with it. */
int	account_app_password_revoke(const char *did, const char *name);

/* ---- invite codes ---- */

#define ACCOUNT_INVITE_MAX_USES	100000
/* A new code for `for_account' (a DID or "admin") into code[SA_CODE_MAX+1]. */
int	account_invite_create(int64_t uses, const char *for_account,
	    const char *created_by, char *code, size_t cap);
/* The inviteCode view (lexicon com.atproto.server.defs#inviteCode). */
int	account_invite_json(const struct store_invite *, json_t **out);
/*
 * Append that view of inv to the JSON array arr; a store_invite_list_*
 * callback on its own.
 */
int	account_invite_add(void *arr, const struct store_invite *inv);

#endif
