/*
 * blobs: blobs, content-addressed, and their lifecycle (atproto-notes
 * §12).  The bytes live in a blob store (blobstore.h): the disk, as
 * below, or an S3 bucket (PDS_BLOBSTORE_S3_*); uploads are spooled to
 * the temporary directory either way.
 *
 * Layout (the reference's disk blob store, so an operator's
 * PDS_BLOBSTORE_DISK_LOCATION keeps its meaning):
 *   <PDS_BLOBSTORE_DISK_LOCATION>/<did>/<cid>	every stored blob
 *   <PDS_BLOBSTORE_DISK_TMP_LOCATION>/<random>	an upload being written
 * (defaults <data dir>/blocks and <data dir>/blocks/tempt).
 *
 * Lifecycle: an upload is written to a temporary file while it is
 * hashed, synced, renamed to its final name and recorded in the blobs
 * table as temporary.  A commit whose records reference it makes it
 * permanent (repo_writer, in the commit's transaction); when no record
 * references it any more its row goes in that transaction and its file
 * right after.  Temporary blobs never referenced are swept by a job
 * once older than the grace period (PDS_BLOB_TEMP_GRACE_SECONDS,
 * default 6 hours; the sweep runs every quarter of it, at most every 10
 * minutes).  One mutex orders file changes against the
 * rows, so a re-upload racing a deletion never loses its file.
 */
#ifndef PDSD_BLOBS_H
#define PDSD_BLOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cid.h"

#define BLOB_MIME_MAX	128
#define BLOBS_GRACE_DEFAULT_S	(6 * 3600)

struct blob_info {
	struct cid	 cid;
	char		 mime[BLOB_MIME_MAX];
	int64_t		 size;
};

/*
 * Store an upload of did: the MIME type is sniffed from the first bytes
 * (JPEG, PNG, GIF, WebP, AVIF/HEIC, MP4/QuickTime, WebM, PDF, MP3, Ogg,
 * TIFF), else taken from content_type (may be NULL; parameters
 * dropped), else application/octet-stream.
 */
int	blobs_upload(const char *did, const uint8_t *data, size_t len,
	    const char *content_type, struct blob_info *out);

/*
 * The same, streamed: begin opens a temporary file, each write appends
 * to it and updates the hash, finish stores the blob (as
 * blobs_upload), and free removes the temporary file unless finish
 * stored it.  Call free exactly once, whatever happened.
 */
struct blob_upload;
int	blobs_upload_begin(struct blob_upload **);
int	blobs_upload_write(struct blob_upload *, const uint8_t *data,
	    size_t len);
int	blobs_upload_finish(struct blob_upload *, const char *did,
	    const char *content_type, struct blob_info *out);
void	blobs_upload_free(struct blob_upload *);

/* The sniffed type of these bytes, or NULL. */
const char *blobs_sniff(const uint8_t *data, size_t len);

/* Open a stored blob for reading: *fd (close it) and *size. */
int	blobs_open(const char *did, const struct cid *, int *fd,
	    int64_t *size);

/*
 * Open [off, off + len) of a stored blob (len -1: to its end), from
 * whichever store holds it; release with blobs_read_done().
 */
struct blobstore_read;
int	blobs_open_range(const char *did, const struct cid *, int64_t off,
	    int64_t len, struct blobstore_read *);
void	blobs_read_done(struct blobstore_read *);

/* Takedown of a blob's bytes: to the quarantine (on) and back (off). */
int	blobs_quarantine(const char *did, const char *cid, bool on);

/* Make kind (blobstore.h) the store new uploads go to, and remember it. */
int	blobs_store_switch(int kind);
/*
 * Move one blob's bytes from store `from' to store `to' (blobstore.h's
 * kinds): copied through a local temporary file while hashed (the
 * source must match the CID), stored, read back from `to' and hashed
 * again, and only then removed from `from'.  *what says what happened.
 */
enum blobs_moved {
	BLOBS_MOVE_COPIED,	/* copied and verified */
	BLOBS_MOVE_ALREADY,	/* only in `to' already (an earlier run) */
	BLOBS_MOVE_MISSING,	/* in neither store */
	BLOBS_MOVE_FAILED,
};
int	blobs_move(const char *did, const char *cid, int64_t size,
	    bool takendown, int from, int to, enum blobs_moved *what);

/* The store and S3's health, for stats: {store, s3?: {...}}. */
json_t	*blobs_health_json(void);
/* True when some blob calls may go over the network (S3 configured). */
bool	blobs_store_remote(void);

/* Sweep temporary blobs older than the grace period now (the job). */
void	blobs_sweep(void *arg);

/* Remove the files of blobs whose rows are gone (NUL-separated CIDs). */
void	blobs_forget_files(const char *did, const char *cids, size_t len);

/* Remove every blob file of an account (after the account is deleted). */
int	blobs_delete_account(const char *did);

/*
 * Backups (backup.c) and exports read blobs through these, never by
 * walking the directory, so that another store can stand in.
 *
 * blobs_hold() stops every blob file change (an upload's rename, a
 * deletion) until blobs_release(): a database snapshot taken in between
 * lists exactly the blobs whose files exist.  blobs_stage_open() makes
 * (or reopens) the directory tag under the store, on the store's file
 * system, and blobs_stage() puts a second name there on one blob (a
 * hard link, else a copy), which later deletions do not touch;
 * blobs_stage_remove() removes that directory.  A store without files
 * (S3) would keep deleted objects while a backup holds, instead.
 */
void	blobs_hold(void);
void	blobs_release(void);
int	blobs_stage_open(const char *tag, int *dirfd);
int	blobs_stage(const char *did, const char *cid, int dirfd,
	    const char *name);
void	blobs_stage_remove(const char *tag);
/* Remove every staging directory whose tag starts with prefix. */
void	blobs_stage_sweep(const char *prefix);
/* Where the store keeps its blobs: "disk". */
const char *blobs_store_kind(void);

/* The grace period in seconds. */
int64_t	blobs_grace_seconds(void);

#endif
