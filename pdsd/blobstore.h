/*
 * blobstore: where blob bytes live, behind one small set of operations
 * (blobs.c keeps the lifecycle: rows, the sweep, the locking).
 *
 * Two backends:
 *   disk	<PDS_BLOBSTORE_DISK_LOCATION>/<did>/<cid> (blobstore_disk.c)
 *   s3		blocks/<did>/<cid> in PDS_BLOBSTORE_S3_BUCKET, taken-down
 *		blobs under quarantine/<did>/<cid> (blobstore_s3.c): the
 *		reference's S3 layout.
 *
 * An upload is always first spooled to a local temporary file while it
 * is hashed (blobs.c); put() then stores that file under its CID:
 * disk renames it, s3 sends it (one PUT, or a multipart upload above
 * BLOBSTORE_S3_PART bytes) with its SHA-256 as the payload hash, so the
 * server checks the bytes it stores against the CID.  Nothing is
 * recorded before put() returns PDS_OK.
 *
 * Reads: open() gives a struct blobstore_read: a file descriptor
 * (disk), or a stream that reads from S3 as the client takes the bytes
 * (never the whole blob in memory).
 *
 * Errors: PDS_ENOTFOUND (no such blob), PDS_EBUSY (the store is down or
 * too slow: the client should retry; blobstore_last_error() says why),
 * PDS_EIO, PDS_EINVAL.
 */
#ifndef PDSD_BLOBSTORE_H
#define PDSD_BLOBSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct config;

enum blobstore_kind {
	BLOBSTORE_DISK,
	BLOBSTORE_S3,
	BLOBSTORE_NKINDS
};

struct blobstore_stream;

/* An opened blob: [off, off + len) of a blob of total bytes. */
struct blobstore_read {
	int		 fd;		/* disk: the file (caller closes), or -1 */
	struct blobstore_stream *stream;	/* s3: or NULL */
	int64_t		 total;		/* the blob's size */
	int64_t		 off, len;	/* the part asked for */
};

struct blobstore_ops {
	const char	*name;
	/* Store the spooled file (fd open for reading at any offset). */
	int		(*put)(const char *did, const char *cid,
			    const char *tmp_path, int fd, int64_t size,
			    const uint8_t sha256[32], bool *consumed);
	/* Open [off, off + len) (len -1: to the end). */
	int		(*open)(const char *did, const char *cid, int64_t off,
			    int64_t len, struct blobstore_read *);
	/* The size of a stored blob (PDS_ENOTFOUND if none). */
	int		(*stat)(const char *did, const char *cid,
			    int64_t *size);
	int		(*remove)(const char *did, const char *cid);
	/* Every blob of an account, quarantined ones too. */
	int		(*remove_account)(const char *did);
	/* Takedown: move out of reach (on) and back (off). */
	int		(*quarantine)(const char *did, const char *cid,
			    bool on);
};

extern const struct blobstore_ops blobstore_disk_ops;
extern const struct blobstore_ops blobstore_s3_ops;

int	blobstore_disk_init(const struct config *);
/* A disk blob's path (cid NULL: the account's directory). */
int	blobstore_disk_path(char *out, size_t cap, const char *did,
	    const char *cid);
int	blobstore_mkdir_p(const char *);
int	blobstore_s3_init(const struct config *);
bool	blobstore_s3_configured(void);

/* ---- streams (s3) ---- */

/*
 * Up to max bytes of the stream into buf: the count, 0 at its end, or
 * -1 on an error (the store failed or stalled: the caller drops the
 * connection).  Blocks at most the request timeout for data.
 */
ssize_t	blobstore_stream_read(struct blobstore_stream *, char *buf,
	    size_t max);
void	blobstore_stream_free(struct blobstore_stream *);

/* Abort S3 multipart uploads begun before `before' (ISO time). */
int	blobstore_s3_sweep(const char *before);

/* ---- health (s3) ---- */

struct blobstore_health {
	bool		 configured;
	unsigned long	 ok, failed, retries;
	int64_t		 last_ms;	/* the last call's latency */
	int64_t		 avg_ms;	/* a moving average */
	int64_t		 last_error_at;	/* unix seconds, 0: never */
	char		 last_error[200];
	char		 endpoint[200];
	char		 bucket[64];
};
void	blobstore_s3_health(struct blobstore_health *);

/* The admin command "blobstore.migrate" (blobstore_migrate.c). */
struct admin_call;
int	blobstore_cmd_migrate(struct admin_call *);

#define BLOBSTORE_S3_PART	((int64_t)8 * 1024 * 1024)

#endif
