/*
 * store_import_ref: the SQL of pdsctl import-reference (import_ref.c):
 * reading the reference PDS's SQLite files, read-only, and writing
 * their rows into a new pds.sqlite opened with store_open().  Also the
 * two lookups logins need for app passwords the reference hashed.
 *
 * The reference's files and what becomes of them:
 *   account.sqlite	actor + account -> accounts; app_password,
 *			invite_code, invite_code_use, email_token
 *   actors/<xx>/<did>/store.sqlite
 *			repo_root, repo_block, record, blob (permanent
 *			ones), record_blob, backlink, account_pref
 *   sequencer.sqlite	repo_seq -> events, same seqs (refpds.h)
 *   did_cache.sqlite	did_doc -> did_cache
 * Each file's kysely_migration table says its schema version; a newer
 * one than this program knows is refused.
 */
#ifndef PDSD_STORE_IMPORT_REF_H
#define PDSD_STORE_IMPORT_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IREF_ERR_MAX	512

struct iref_account {
	const char	*did;
	const char	*handle;		/* NULL: none */
	const char	*email;			/* NULL: no account row */
	const char	*password;		/* the reference's scrypt */
	const char	*created_at;
	const char	*takedown_ref;
	const char	*deactivated_at;
	const char	*delete_after;
	const char	*email_confirmed_at;
	int64_t		 invites_disabled;
};

struct iref_counts {
	int64_t	accounts, blocks, records, blobs, blob_bytes, prefs;
	int64_t	app_passwords, invites, events, events_skipped, last_seq;
	int64_t	did_docs;
};

/*
 * The new store commits without syncing (PRAGMA synchronous=OFF): the
 * conversion syncs the whole directory once before it is published.
 */
int	store_iref_nosync(char *err, size_t errlen);

/* Open account.sqlite of the reference directory read-only; check it. */
int	store_iref_open(const char *src_dir, char *err, size_t errlen);
void	store_iref_close(void);

/* Calls cb per account (oldest first); non-zero stops with it. */
int	store_iref_accounts(int (*cb)(void *, const struct iref_account *),
	    void *arg, char *err, size_t errlen);

/* What store_iref_actor() calls back; non-zero fails the account. */
struct iref_cbs {
	/* the head commit block's bytes, before anything is written */
	int	(*head)(void *, const char *did, const uint8_t *, size_t);
	/* each permanent blob (its CID text), before the commit */
	int	(*blob)(void *, const char *did, const char *cid);
	void	*arg;
};

/*
 * One account into the new store, in one transaction: its accounts
 * row with its signing key (32 bytes) and every row of its actor store
 * at store_path.
 */
int	store_iref_actor(const struct iref_account *, const uint8_t key[32],
	    const char *store_path, const struct iref_cbs *,
	    struct iref_counts *, char *err, size_t errlen);

/* App passwords, invite codes and their uses, email tokens. */
int	store_iref_globals(struct iref_counts *, char *err, size_t errlen);

/* sequencer.sqlite's events, with their seqs, and the seq counter. */
int	store_iref_events(const char *path, struct iref_counts *, char *err,
	    size_t errlen);

/* did_cache.sqlite's documents (a missing file is not an error). */
int	store_iref_did_cache(const char *path, struct iref_counts *,
	    char *err, size_t errlen);

/* An audit_log row saying where the store came from. */
int	store_iref_audit(const char *src_dir, const struct iref_counts *);

/* ---- for logins (accounts.c) ---- */

/* Whether did has an app password still in the reference's form. */
int	store_app_password_any_reference(const char *did, bool *any);
/* Replace app password name's hash with pdsd's digest of it. */
int	store_app_password_rehash(const char *did, const char *name,
	    const char *hash);

#endif
