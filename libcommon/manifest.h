/*
 * manifest: the list of files a backup or an export writes beside its
 * files, and reads back before it trusts them (pdsctl restore, import).
 *
 *   { "format": "pds-backup" or "pds-export", "version": 1,
 *     ...other members, kept in doc...,
 *     "files": [ { "path": "a/b", "size": N, "sha256": "<64 hex>" } ] }
 *
 * A path is relative to the manifest's directory: 1 to MANIFEST_DEPTH
 * components of [A-Za-z0-9._:%-], none empty, "." or "..", nor starting
 * with '.', each at most 255 bytes and MANIFEST_PATH_MAX in all; no path
 * twice.  A file whose last component is a raw CID (a blob) must have
 * that CID's digest as its sha256.
 *
 * The input is untrusted (tests/fuzz/fuzz_manifest.c).
 */
#ifndef PDS_MANIFEST_H
#define PDS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define MANIFEST_VERSION	1
#define MANIFEST_DEPTH		4
#define MANIFEST_PATH_MAX	1024
#define MANIFEST_MAX_BYTES	((size_t)512 << 20)
#define MANIFEST_MAX_FILES	((size_t)4 << 20)
#define MANIFEST_NAME		"manifest.json"

struct manifest_file {
	const char	*path;		/* in doc */
	int64_t		 size;
	uint8_t		 sha256[32];
};

struct manifest {
	json_t			*doc;	/* the whole document */
	struct manifest_file	*files;	/* sorted by path */
	size_t			 nfiles;
	int64_t			 bytes;	/* the sizes' sum */
};

/*
 * Parse a manifest of the given format (NULL: any) into *m; on error
 * returns PDS_EINVAL (PDS_ETOOBIG past the limits) with a reason in
 * err.  Clear *m with manifest_clear() either way.
 */
int	manifest_parse(const char *buf, size_t len, const char *format,
	    struct manifest *m, char *err, size_t errlen);
void	manifest_clear(struct manifest *);

/* Whether path may appear in a manifest (see above). */
bool	manifest_path_ok(const char *path);

/* The entry for path, or NULL. */
const struct manifest_file *manifest_find(const struct manifest *,
	    const char *path);

/* {"path", "size", "sha256"}: a new entry (NULL when out of memory). */
json_t	*manifest_entry(const char *path, int64_t size,
	    const uint8_t sha256[32]);

/* Lower-case hex of a digest. */
void	manifest_hex(const uint8_t d[32], char out[65]);

/*
 * Copy in to out (out may be -1: only hash) until EOF, at most max
 * bytes (PDS_ETOOBIG past it), hashing with SHA-256; *size gets the
 * count.  progress, when set, is called with the bytes of each chunk.
 */
int	manifest_copy_fd(int in, int out, int64_t max, uint8_t sha256[32],
	    int64_t *size, void (*progress)(void *, int64_t), void *arg);

/* Write all n bytes of p to fd, again after EINTR; PDS_EIO, errno set. */
int	manifest_write_all(int fd, const void *p, size_t n);

/* Read a whole file of at most max bytes into *buf (NUL-terminated). */
int	manifest_read_file(int dirfd, const char *path, size_t max,
	    char **buf, size_t *len);

#endif
