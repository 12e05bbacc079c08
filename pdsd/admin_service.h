/*
 * admin_service: what operators can do, for both front ends: the admin
 * socket's command table (admin_cmds.c, used by pdsctl and pdstui) and
 * the com.atproto.admin XRPC methods (api_admin.c).  Nothing here knows
 * about sockets or HTTP, and neither front end implements an operation
 * itself.
 *
 * Mutating functions take the actor (who asked) and a reason, and write
 * the audit log themselves: one row per attempt, with the outcome
 * ("ok", "failed" or "refused") in its detail.
 *
 * Errors: a PDS_E* code, plus a struct admin_err: the error the XRPC
 * front end answers with (err->e: its code, the XRPC error name or NULL
 * for the code's default, the message for people) and the AP_E_* name
 * from adminproto.h the admin socket answers with (err->name).
 * Results are JSON values (new references) in the shapes the admin
 * lexicons use where there is one (accountView, inviteCode, subject
 * status), so both front ends show the same thing.
 */
#ifndef PDSD_ADMIN_SERVICE_H
#define PDSD_ADMIN_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "err.h"
#include "store_account.h"

struct config;

#define ADMIN_ACTOR_MAX		128
#define ADMIN_PASSWORD_GEN_LEN	24	/* generated passwords */
#define ADMIN_LIST_MAX		1000	/* page size cap */
#define ADMIN_INVITE_COUNT_MAX	1000	/* codes per invite.create */

struct admin_actor {
	char	 name[ADMIN_ACTOR_MAX];	/* "unix:alice(1000)", "xrpc-admin" */
};

/*
 * The admin protocol's name is kept explicitly: the code does not
 * decide it (PDS_ENOTFOUND is NoSuchAccount, NoSuchRecord, NoSuchBlob,
 * ... there).
 */
struct admin_err {
	struct pds_error e;		/* XRPC code, name and message */
	const char	*name;		/* AP_E_*, static */
};

/* err->e for the refusal rc, filled from rc when nothing was named. */
const struct pds_error *admin_error_settle(struct admin_err *err, int rc);

void	admin_actor_unix(struct admin_actor *, uid_t, const char *user);
void	admin_actor_xrpc(struct admin_actor *);

/* Set up (the config must outlive it).  Called by the admin modules. */
void	admin_service_init(const struct config *);

/* ---- audit ---- */

/*
 * One audit row.  outcome: "ok", "failed" or "refused"; error: the
 * error name for the last two; detail: extra JSON (borrowed) or NULL.
 */
void	admin_audit(const struct admin_actor *, const char *action,
	    const char *subject, const char *reason, const char *outcome,
	    const char *error, const json_t *detail);
/* {"entries":[...], "cursor": last id} from id > after_id, at >= since. */
int	admin_audit_list(const char *since, int64_t after_id, size_t limit,
	    json_t **out, struct admin_err *);

/* ---- accounts ---- */

/* A DID, handle or email to the account, or NoSuchAccount. */
int	admin_account_resolve(const char *who, struct store_account *out,
	    struct admin_err *);
/* The admin accountView (with invites and invitedBy when `full'). */
int	admin_account_view(const struct store_account *, bool full,
	    json_t **out);
/*
 * Add what the account holds to a view: "repo": {records, blocks,
 * bytes} and "blobs": {count, bytes} (account.show).
 */
int	admin_account_usage(const char *did, json_t *view,
	    struct admin_err *);
/* {"accounts":[accountView...], "cursor"?}; status NULL: any. */
int	admin_account_list(const char *status, const char *cursor,
	    size_t limit, json_t **out, struct admin_err *);
/*
 * Handle or email prefix, or exact DID, with an optional status as
 * admin_account_list takes it; {"accounts", "cursor"?}.
 */
int	admin_account_search(const char *q, const char *status,
	    const char *cursor, size_t limit, json_t **out,
	    struct admin_err *);
/*
 * Create an account (no invite needed, any handle).  password NULL:
 * generate one and return it in the result {did, handle, password?}.
 */
int	admin_account_create(const struct admin_actor *, const char *email,
	    const char *handle, const char *password, const char *reason,
	    json_t **out, struct admin_err *);
int	admin_account_delete(const struct admin_actor *, const char *who,
	    const char *reason, struct admin_err *);
/* Take down (applied) or restore; ref NULL: a timestamp. */
int	admin_account_takedown(const struct admin_actor *, const char *who,
	    bool applied, const char *ref, const char *reason,
	    struct admin_err *);
int	admin_account_deactivate(const struct admin_actor *, const char *who,
	    bool deactivate, const char *reason, struct admin_err *);
int	admin_account_set_handle(const struct admin_actor *, const char *who,
	    const char *handle, const char *reason, struct admin_err *);
int	admin_account_set_email(const struct admin_actor *, const char *who,
	    const char *email, const char *reason, struct admin_err *);
/* password NULL: generate; the new one in *out as {"password": ...}. */
int	admin_account_set_password(const struct admin_actor *,
	    const char *who, const char *password, const char *reason,
	    json_t **out, struct admin_err *);
int	admin_account_invites_enable(const struct admin_actor *,
	    const char *who, bool enabled, const char *reason,
	    struct admin_err *);

/* ---- sessions ---- */

/*
 * The kinds of credential account.revoke-session ends, and what names
 * one: a session by its refresh token's id, an app password by its
 * name, an OAuth grant by its id.
 */
#define ADMIN_SESSION_PASSWORD		"session"
#define ADMIN_SESSION_APP_PASSWORD	"app-password"
#define ADMIN_SESSION_OAUTH		"oauth"

/*
 * How the account is signed in: {did, handle, "sessions": [{id,
 * issuedAt, expiresAt, appPassword?}], "appPasswords": [{name,
 * privileged, createdAt}], "oauthGrants": [{id, clientId, scope,
 * createdAt, updatedAt, expiresAt, device?: {id, userAgent?, ip?,
 * lastSeen}}]}.  A session's issuedAt is when its current refresh
 * token was made (the sign-in or the last refresh).
 */
int	admin_account_sessions(const char *who, json_t **out,
	    struct admin_err *);
/*
 * End one credential of the account (kind ADMIN_SESSION_*, id: the
 * session's id, the app password's name or the grant's id), or all of
 * them (all: every session, app password, OAuth grant, consent and
 * browser sign-in).  Ending an OAuth grant forgets the client's consent
 * when it was its last grant.  Unknown or another account's: NoSuchToken.
 * {did, "revoked": {sessions, appPasswords, oauthGrants}}.
 */
int	admin_account_revoke_session(const struct admin_actor *,
	    const char *who, const char *kind, const char *id, bool all,
	    const char *reason, json_t **out, struct admin_err *);

/* ---- records and blobs ---- */

int	admin_record_takedown(const struct admin_actor *, const char *uri,
	    bool applied, const char *ref, const char *reason,
	    struct admin_err *);
int	admin_blob_takedown(const struct admin_actor *, const char *did,
	    const char *cid, bool applied, const char *ref, const char *reason,
	    struct admin_err *);

/*
 * getSubjectStatus: exactly one of did (account), uri (record), or
 * did + cid (blob).  {"subject": {...}, "takedown": {applied, ref?},
 * "deactivated"?: {applied}}.
 */
int	admin_subject_status(const char *did, const char *uri,
	    const char *cid, json_t **out, struct admin_err *);

/* ---- invites ---- */

/* count codes of `uses' uses each for for_account (NULL: "admin"). */
int	admin_invite_create(const struct admin_actor *, int64_t uses,
	    const char *for_account, int64_t count, const char *reason,
	    json_t **out, struct admin_err *);
/*
 * {"codes":[inviteCode...], "cursor"?}; sort "recent" or "usage";
 * cursor: what a previous page returned.
 */
int	admin_invite_list(const char *sort, const char *for_account,
	    bool include_disabled, const char *cursor, size_t limit,
	    json_t **out, struct admin_err *);
/* Disable the listed codes and every code of the listed accounts. */
int	admin_invite_disable(const struct admin_actor *, const json_t *codes,
	    const json_t *accounts, const char *reason, struct admin_err *);

/* ---- server ---- */

/* Counts from the store and every registered counter. */
int	admin_stats(json_t **out, struct admin_err *);
/* POST requestCrawl to each relay (NULL/empty: PDS_CRAWLERS). */
int	admin_request_crawl(const struct admin_actor *, const json_t *relays,
	    json_t **out, struct admin_err *);

#endif
