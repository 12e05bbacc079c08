/*
 * store_oauth: the OAuth authorization server's state, kept in SQLite so
 * that a restart keeps every grant valid and every replay refused.
 *
 * Times are unix seconds.  Identifiers are made by the caller:
 * requests req-<32 hex>, codes cod-<64 hex>, devices dev-<32 hex>,
 * sessions ses-<32 hex>, token ids tok-<32 hex>, refresh tokens
 * ref-<64 hex>.  JSON columns (client auth, parameters) are stored as
 * given and never parsed here.
 *
 * Rows that name an account go with it (foreign keys, ON DELETE
 * CASCADE).  Expired rows stay until store_oauth_purge(); lookups
 * return them as they are and the caller compares expires_at.
 *
 * The structs' strings are owned by the struct once filled by a get:
 * release them with the matching _clear() (NULL-safe, idempotent).
 * A struct passed to a create is borrowed.
 */
#ifndef PDSD_STORE_OAUTH_H
#define PDSD_STORE_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- authorization requests (PAR) ---- */

struct store_oauth_request {
	char	*id;		/* req-<32 hex> */
	char	*client_id;
	char	*client_auth;	/* JSON: how the client authenticated */
	char	*params;	/* JSON: the validated request */
	char	*device_id;	/* NULL until a browser takes it */
	char	*did;		/* NULL until sign-in */
	char	*code;		/* NULL until issued */
	int64_t	 expires_at;
};

void	store_oauth_request_clear(struct store_oauth_request *);

/* Insert r (device_id, did and code may be NULL).  PDS_EEXIST: id taken. */
int	store_oauth_request_create(const struct store_oauth_request *r);

/* The request id, into *out.  PDS_ENOTFOUND when there is none. */
int	store_oauth_request_get(const char *id,
	    struct store_oauth_request *out);

/*
 * Replace the parameters (when params is not NULL) and the device (when
 * device_id is not NULL) of request id, and set its expiry to expires_at
 * if that is later.  PDS_ENOTFOUND when there is no such request.
 */
int	store_oauth_request_update(const char *id, const char *params,
	    const char *device_id, int64_t expires_at);

/* Record who signed in for request id.  PDS_ENOTFOUND: no request. */
int	store_oauth_request_set_did(const char *id, const char *did);

/*
 * Attach code to request id, which must have a did and no code yet, and
 * set its expiry to expires_at.  PDS_ENOTFOUND when the request does not
 * exist, has no did or already has a code; PDS_EEXIST when the code is
 * taken.
 */
int	store_oauth_request_set_code(const char *id, const char *code,
	    int64_t expires_at);

/* Delete request id.  PDS_ENOTFOUND when there was none. */
int	store_oauth_request_delete(const char *id);
/* Delete every request signed in as did (codes not yet exchanged). */
int	store_oauth_request_delete_did(const char *did);

/*
 * Atomically delete the request holding code and return it in *out:
 * of two concurrent calls with one code, exactly one gets PDS_OK, the
 * other PDS_ENOTFOUND.  The caller checks out->expires_at.
 */
int	store_oauth_request_consume(const char *code,
	    struct store_oauth_request *out);

/* ---- token families (one per grant) ---- */

struct store_oauth_family {
	int64_t	 id;		/* set by create */
	char	*token_id;	/* tok-<32 hex>: the access token's jti */
	char	*did;
	char	*client_id;
	char	*client_auth;	/* JSON */
	char	*device_id;	/* may be NULL */
	char	*params;	/* JSON */
	char	*code;		/* may be NULL */
	char	*refresh_token;	/* NULL when the client cannot refresh */
	char	*scope;
	char	*dpop_jkt;	/* may be NULL */
	int64_t	 created_at;	/* the session's start */
	int64_t	 updated_at;	/* the last refresh */
	int64_t	 expires_at;	/* the current access token's expiry */
	int64_t	 session_expires_at;	/* no refresh, and purged, after */
};

void	store_oauth_family_clear(struct store_oauth_family *);
/* Replace the family's token scope (a refresh recomputes include:). */
int	store_oauth_family_set_scope(int64_t id, const char *scope);

/*
 * Insert f and set f->id.  PDS_EEXIST when its token id, code or
 * refresh token is taken.
 */
int	store_oauth_family_create(struct store_oauth_family *f);

/* Lookups; PDS_ENOTFOUND when nothing matches. */
int	store_oauth_family_by_token(const char *token_id,
	    struct store_oauth_family *out);
int	store_oauth_family_by_code(const char *code,
	    struct store_oauth_family *out);

/*
 * The family whose current refresh token is refresh (*used false), or
 * which had it before a rotation (*used true: a replay).
 */
int	store_oauth_family_by_refresh(const char *refresh,
	    struct store_oauth_family *out, bool *used);

/*
 * In one transaction: move family id's current refresh token, which must
 * be old_refresh, to the used tokens, and give it token_id, refresh (may
 * be NULL), updated_at, expires_at and session_expires_at.
 * PDS_ENOTFOUND when the family is gone or was rotated meanwhile;
 * PDS_EEXIST when the new token id or refresh token is taken.
 */
int	store_oauth_family_rotate(int64_t id, const char *old_refresh,
	    const char *token_id, const char *refresh, int64_t updated_at,
	    int64_t expires_at, int64_t session_expires_at);

/* Delete family id and its used refresh tokens.  PDS_ENOTFOUND: none. */
int	store_oauth_family_delete(int64_t id);
/* Delete every family of did; *n (may be NULL) gets how many. */
int	store_oauth_family_delete_did(const char *did, int *n);

/*
 * Walk the families of an account, or of a client, newest first; cb's
 * non-zero return stops the walk and is returned.  The family passed to
 * cb is valid only during the call.
 */
int	store_oauth_family_list_did(const char *did,
	    int (*cb)(void *, const struct store_oauth_family *), void *arg);
int	store_oauth_family_list_client(const char *client_id,
	    int (*cb)(void *, const struct store_oauth_family *), void *arg);

/* ---- devices (browsers) and the accounts signed in on them ---- */

struct store_oauth_device {
	char	*id;		/* dev-<32 hex> */
	char	*session_id;	/* ses-<32 hex> */
	char	*user_agent;	/* may be NULL */
	char	*ip;		/* may be NULL */
	int64_t	 last_seen;
};

void	store_oauth_device_clear(struct store_oauth_device *);

/* Insert or replace device d. */
int	store_oauth_device_put(const struct store_oauth_device *d);
int	store_oauth_device_get(const char *id, struct store_oauth_device *out);
/* Delete device id with its account links.  PDS_ENOTFOUND: none. */
int	store_oauth_device_delete(const char *id);

/*
 * Record that did authenticated on device_id at now: created at the
 * first time, updated every time.
 */
int	store_oauth_account_device_put(const char *device_id, const char *did,
	    int64_t now);
/* The link's times; PDS_ENOTFOUND when did never signed in there. */
int	store_oauth_account_device_get(const char *device_id, const char *did,
	    int64_t *created_at, int64_t *updated_at);
/* The accounts signed in on device_id, most recent first. */
int	store_oauth_account_device_list(const char *device_id,
	    int (*cb)(void *, const char *did, int64_t created_at,
	    int64_t updated_at), void *arg);
int	store_oauth_account_device_delete(const char *device_id,
	    const char *did);
/* Forget every device did signed in on (each must sign in again). */
int	store_oauth_account_device_delete_did(const char *did);

/* ---- clients an account has authorized ---- */

/* Insert or replace the scope did granted client_id (space-separated). */
int	store_oauth_client_authorize(const char *did, const char *client_id,
	    const char *scope, int64_t now);
/*
 * The scope did granted client_id, into *scope (the caller frees it),
 * and when (either may be NULL).  PDS_ENOTFOUND when never granted.
 */
int	store_oauth_client_authorized(const char *did, const char *client_id,
	    char **scope, int64_t *created_at, int64_t *updated_at);
int	store_oauth_client_forget(const char *did, const char *client_id);
/* Forget every client did authorized (each must ask again). */
int	store_oauth_client_forget_did(const char *did);

/*
 * Revoke did's grant (family) id.  With the client's last grant to did
 * gone, its consent goes too, or a silent sign-in would bring the access
 * back; *forgot tells whether it went.  PDS_ENOTFOUND when did has no
 * grant id.
 */
int	store_oauth_grant_revoke(const char *did, int64_t id, bool *forgot);

/* ---- replay protection and expiry ---- */

/* Namespaces of the replay table. */
#define STORE_OAUTH_NS_DPOP		"dpop"		/* DPoP proof jti */
#define STORE_OAUTH_NS_ASSERTION	"assertion"	/* assertion jti */
#define STORE_OAUTH_NS_CHALLENGE	"challenge"	/* code_challenge */

/*
 * Remember key in namespace ns until expires_at: PDS_OK the first time,
 * PDS_EEXIST when it was already there (a replay), until it is purged.
 * The request paths go through oauth_replay.h, which calls this only
 * when its memory cannot decide alone.
 */
int	store_oauth_replay_check_and_add(const char *ns, const char *key,
	    int64_t expires_at);

/*
 * Record key in namespace ns until expires_at, or until the later of
 * that and its present expiry when it is there already (the batched
 * writes of oauth_replay.c; the caller holds the transaction).
 */
int	store_oauth_replay_put(const char *ns, const char *key,
	    int64_t expires_at);

/*
 * Walk the entries that expire at now or later, latest first; cb's
 * non-zero return stops the walk and is returned.  The strings are
 * valid only during the call.
 */
int	store_oauth_replay_scan(int64_t now,
	    int (*cb)(void *, const char *ns, const char *key,
	    int64_t expires_at), void *arg);

/*
 * Devices not seen for this long go with the purge; those no account is
 * signed in on (a sign-in begun and never finished) much sooner.
 */
#define STORE_OAUTH_DEVICE_TTL		(365 * 24 * 3600)
#define STORE_OAUTH_DEVICE_BARE_TTL	(24 * 3600)

/*
 * Delete what expired before now: requests, families past their session
 * expiry (with their used refresh tokens), replay entries, devices
 * unseen for STORE_OAUTH_DEVICE_TTL and devices with no account unseen
 * for STORE_OAUTH_DEVICE_BARE_TTL.  *n (may be NULL) gets the rows
 * deleted.
 */
int	store_oauth_purge(int64_t now, int *n);

#endif
