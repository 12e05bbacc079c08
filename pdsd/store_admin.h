/*
 * store_admin: the SQL behind the admin service (admin_service.c): the
 * audit log, record and blob takedowns, account listing and search for
 * operators, invite administration, counts for stats, accounts in
 * migration, and the online backup.  Only admin_service.c and backup.c
 * call these.
 *
 * Strings are copied into the caller's fixed buffers and truncated to
 * fit (the sizes below hold every valid value).  Lookups that find
 * nothing return PDS_ENOTFOUND.
 */
#ifndef PDSD_STORE_ADMIN_H
#define PDSD_STORE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_account.h"

/* ---- audit log ---- */

#define SAD_ACTOR_MAX	128
#define SAD_ACTION_MAX	64
#define SAD_SUBJECT_MAX	1024
#define SAD_REASON_MAX	1024
#define SAD_DETAIL_MAX	2048

struct store_audit {
	int64_t	 id;
	char	 at[STORE_TS_LEN];
	char	 actor[SAD_ACTOR_MAX];
	char	 action[SAD_ACTION_MAX];
	char	 subject[SAD_SUBJECT_MAX];	/* "" when NULL */
	char	 reason[SAD_REASON_MAX];	/* "" when NULL */
	char	 detail[SAD_DETAIL_MAX];	/* JSON text, "" when NULL */
	/* the handle of the local account the subject names, or "" */
	char	 subject_handle[SA_HANDLE_MAX + 1];
};

/* Append a row stamped now; subject, reason and detail may be NULL. */
int	store_audit_insert(const char *actor, const char *action,
	    const char *subject, const char *reason, const char *detail);
/*
 * Rows with at >= since (NULL: all) and id > after_id, oldest first,
 * at most limit; cb's non-zero return stops the walk with it.
 */
int	store_audit_list(const char *since, int64_t after_id, size_t limit,
	    int (*cb)(void *, const struct store_audit *), void *arg);

/* ---- takedowns of records and blobs ---- */

/* Set (ref non-NULL) or clear (NULL) a record's takedown. */
int	store_record_takedown_set(const char *uri, const char *ref);
/* The record's cid and takedown ref ("" when none). */
int	store_record_takedown_get(const char *uri, char *cid, size_t cidcap,
	    char *ref, size_t refcap);
int	store_blob_takedown_set(const char *did, const char *cid,
	    const char *ref);
int	store_blob_takedown_get(const char *did, const char *cid, char *ref,
	    size_t refcap);

/* ---- accounts, for operators ---- */

/*
 * Accounts in creation order after `cursor' (NULL: from the start; else
 * the value a previous walk's last row gives by store_admin_cursor()),
 * with status `status' (NULL: any), at most limit.
 */
int	store_admin_account_list(const enum acct_status *status,
	    const char *cursor, size_t limit,
	    int (*cb)(void *, const struct store_account *), void *arg);
/* "<created_at> <did>": where the next page starts. */
void	store_admin_cursor(const struct store_account *, char *out,
	    size_t cap);
/*
 * Accounts whose handle or email starts with q, or whose DID is q
 * (case-insensitive), in DID order after cursor (a DID, or NULL).
 */
int	store_admin_account_search(const char *q,
	    const enum acct_status *status, const char *cursor, size_t limit,
	    int (*cb)(void *, const struct store_account *), void *arg);
/* The code the account signed up with (PDS_ENOTFOUND when none). */
int	store_admin_invited_by(const char *did, char *code, size_t cap);

/* ---- invites ---- */

enum store_invite_sort { SI_SORT_RECENT, SI_SORT_USAGE };

/*
 * Invite codes (newest first, or most used first), skipping `offset'
 * rows, at most limit; for_account NULL: all; include_disabled false:
 * only codes that are enabled.
 */
int	store_admin_invite_list(enum store_invite_sort, const char *for_account,
	    bool include_disabled, size_t offset, size_t limit,
	    int (*cb)(void *, const struct store_invite *), void *arg);
/* Disable one code (PDS_ENOTFOUND if none) / every code of an account. */
int	store_admin_invite_disable(const char *code);
int	store_admin_invite_disable_for(const char *did, int64_t *n);

/* ---- counts ---- */

struct store_admin_counts {
	int64_t	 accounts, active, deactivated, takendown;
	int64_t	 records, repo_blocks, repo_bytes;
	int64_t	 blobs, blob_bytes;
	int64_t	 events, last_seq;
	int64_t	 invites_open;		/* enabled codes with uses left */
	int64_t	 audit_rows;
};

int	store_admin_counts(struct store_admin_counts *);

/* What one account holds: its repo's records and blocks, its blobs. */
struct store_account_usage {
	int64_t	 records, repo_blocks, repo_bytes;
	int64_t	 blobs, blob_bytes;
};

int	store_admin_account_usage(const char *did,
	    struct store_account_usage *);

/* ---- online backup ---- */

struct store_backup;

/*
 * Start copying the database to dest (created; an existing file is
 * refused with PDS_EEXIST).  The copy is one consistent snapshot: the
 * source's read transaction stays open until store_backup_finish().
 * Runs on the calling thread's connection.
 */
int	store_backup_start(const char *dest, struct store_backup **out);
/*
 * Copy up to `pages' more pages; *remaining and *total tell progress;
 * *done becomes true when the copy is complete.
 */
int	store_backup_step(struct store_backup *, int pages, int *remaining,
	    int *total, bool *done);
/*
 * Every blob row (did, cid, size) of the backup's snapshot, in order;
 * call right after store_backup_start(), on its thread.
 */
int	store_backup_blobs(struct store_backup *,
	    int (*cb)(void *, const char *did, const char *cid, int64_t size),
	    void *arg);
/* The schema version of the backup's snapshot. */
int	store_backup_schema(struct store_backup *, int *version);
/* End the backup (on failure or abort, dest is removed); frees it. */
int	store_backup_finish(struct store_backup *, bool ok);

/* The rows of the events table of type `type' for did (for tests). */
int	store_admin_event_count(const char *did, const char *type,
	    int64_t *n);

#endif
