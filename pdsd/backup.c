/*
 * backup: `pdsctl backup DEST', a consistent copy of the database made
 * with SQLite's online backup API while pdsd keeps serving.
 *
 * The copy runs on its own thread (so the admin socket stays
 * responsive) into a temporary file in the data directory, holding one
 * read transaction so that it is a single snapshot; the admin stream
 * reports progress.  When it is complete the file is renamed (never
 * over an existing file) into DEST's directory, or copied there when
 * that is another file system.
 *
 * DEST is written by pdsd, which may run as another user than the
 * operator, so it must be an absolute path in a directory that the
 * requesting user owns (root and pdsd's own user may use any); the
 * directory is opened once and every later step works relative to that
 * descriptor, so swapping a symbolic link in cannot redirect the file.
 * The result is mode 0600, owned by the requesting user.
 * One backup at a time.
 *
 * Blobs: while the snapshot is taken, blob file changes are held
 * (blobs_hold), the snapshot's blob rows are listed and each blob is
 * given a second name in a staging directory on the store's file system
 * (blobs_stage: a hard link), so the files match the rows however long
 * the copy takes.  After the database, the staged blobs are copied to
 * DEST.blobs/<did>/<cid>, each checked against its CID, and last
 * DEST.manifest.json lists every file with its size and SHA-256: a
 * backup without its manifest is incomplete (pdsctl restore refuses it).
 * On failure everything written is removed.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin_service.h"
#include "bgjob.h"
#include "blobs.h"
#include "cid.h"
#include "manifest.h"
#include "syntax.h"
#include "admin_socket.h"
#include "adminproto.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "module.h"
#include "store.h"
#include "store_admin.h"

#define BACKUP_STEP_PAGES	256
#define BACKUP_TICK_MS		250

#define BLOBS_SUFFIX		".blobs"
#define MANIFEST_SUFFIX		".manifest.json"
#define BACKUP_FORMAT		"pds-backup"
#define NAMEBUF			(NAME_MAX + 32)	/* name and suffix */

enum phase { PH_COPY, PH_PLACE, PH_BLOBS, PH_DONE };

/* One blob of the snapshot: did is shared by the DID's run of blobs. */
struct bblob {
	char		*did;
	char		*cid;
	int64_t		 size;
	bool		 missing;	/* a row without its file */
};

struct job {
	struct bgjob		 bg;		/* its mu guards the rest */
	enum phase		 phase;
	int			 remaining, total;
	int			 reported;	/* pages done last reported */
	int64_t			 bytes;
	double			 started, seconds;
	int			 dirfd;
	char			 base[NAME_MAX + 1];
	char			 dest[PATH_MAX];
	char			 tmp[PATH_MAX];
	uid_t			 uid;
	struct admin_actor	 actor;
	/* blobs: the snapshot's list, staged under the store */
	struct bblob		*blobs;
	size_t			 nblobs, cap;
	size_t			 nmissing;
	size_t			 blobs_done;	/* under mu */
	int64_t			 blob_bytes;
	int			 schema;
	char			 stage[64];
	size_t			 blobs_last;	/* the stream's */
	bool			 blobs_started, blobs_reported;
	json_t			*files;		/* manifest entries */
	bool			 remote;	/* blobs on S3: listed, not copied */
};

static const struct config	*bcfg;
static struct bgjob_slot	 slot = BGJOB_SLOT_INITIALIZER;
static unsigned			 job_serial;

static void
job_unref(struct job *j)
{
	size_t	 i;

	if (!bgjob_release(&j->bg))
		return;
	if (j->dirfd != -1)
		close(j->dirfd);
	for (i = 0; i < j->nblobs; i++) {
		if (i + 1 == j->nblobs || j->blobs[i + 1].did !=
		    j->blobs[i].did)
			free(j->blobs[i].did);
		free(j->blobs[i].cid);
	}
	free(j->blobs);
	json_decref(j->files);
	free(j);
}

static void
set_phase(struct job *j, enum phase ph)
{
	pthread_mutex_lock(&j->bg.mu);
	j->phase = ph;
	pthread_mutex_unlock(&j->bg.mu);
}

/* The error name of a failure to write DEST's files. */
static const char *
io_err_name(int rc)
{
	return rc == PDS_EEXIST ? AP_E_ALREADY_EXISTS : AP_E_IO_ERROR;
}

/* Copy tmp into DEST (another file system). */
static int
place_copy(struct job *j)
{
	uint8_t	 sha[32];	/* unused: the placed copy is hashed later */
	int64_t	 size;
	int	 in, out, rc;

	if ((in = open(j->tmp, O_RDONLY | O_CLOEXEC)) == -1)
		return PDS_EIO;
	out = openat(j->dirfd, j->base, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out == -1) {
		rc = errno == EEXIST ? PDS_EEXIST : PDS_EIO;
		close(in);
		return rc;
	}
	rc = manifest_copy_fd(in, out, INT64_MAX, sha, &size, NULL, NULL);
	if (rc == PDS_OK && fsync(out) == -1)
		rc = PDS_EIO;
	close(in);
	if (close(out) == -1 && rc == PDS_OK)
		rc = PDS_EIO;
	if (rc != PDS_OK)
		(void)unlinkat(j->dirfd, j->base, 0);
	return rc;
}

/* ---- blobs ---------------------------------------------------------- */

static int
add_blob(void *arg, const char *did, const char *cid, int64_t size)
{
	struct job	*j = arg;
	struct bblob	*nb;
	size_t		 ncap;

	if (did == NULL || cid == NULL || strlen(did) > DID_MAX ||
	    strlen(cid) >= CID_STR_MAX)
		return PDS_EINVAL;
	if (j->nblobs == j->cap) {
		ncap = j->cap == 0 ? 256 : j->cap * 2;
		if ((nb = reallocarray(j->blobs, ncap, sizeof(*nb))) == NULL)
			return PDS_ENOMEM;
		j->blobs = nb;
		j->cap = ncap;
	}
	nb = &j->blobs[j->nblobs];
	memset(nb, 0, sizeof(*nb));
	if (j->nblobs > 0 && strcmp(nb[-1].did, did) == 0)
		nb->did = nb[-1].did;
	else if ((nb->did = strdup(did)) == NULL)
		return PDS_ENOMEM;
	if ((nb->cid = strdup(cid)) == NULL) {
		if (j->nblobs == 0 || nb[-1].did != nb->did)
			free(nb->did);
		return PDS_ENOMEM;
	}
	nb->size = size;
	j->nblobs++;
	return PDS_OK;
}

/*
 * With blob changes held: the snapshot's schema and blob list, and a
 * staged name for every blob.
 */
static int
stage_blobs(struct job *j, struct store_backup *b)
{
	char	 name[32];
	size_t	 i;
	int	 fd = -1, rc;

	if ((rc = store_backup_schema(b, &j->schema)) != PDS_OK ||
	    (rc = store_backup_blobs(b, add_blob, j)) != PDS_OK)
		return rc;
	if (strcmp(blobs_store_kind(), "disk") != 0) {
		/* S3 keeps its objects: the manifest lists them */
		j->remote = true;
		return PDS_OK;
	}
	if ((rc = blobs_stage_open(j->stage, &fd)) != PDS_OK)
		return rc;
	for (i = 0; rc == PDS_OK && i < j->nblobs; i++) {
		snprintf(name, sizeof(name), "%zu", i);
		rc = blobs_stage(j->blobs[i].did, j->blobs[i].cid, fd, name);
		if (rc == PDS_ENOTFOUND) {
			/* lost before this backup: say so, back up the rest */
			log_warnx("backup: blob %s of %s has a row but no "
			    "file", j->blobs[i].cid, j->blobs[i].did);
			j->blobs[i].missing = true;
			j->nmissing++;
			rc = PDS_OK;
		} else if (rc != PDS_OK)
			log_warnx("backup: blob %s of %s: %s", j->blobs[i].cid,
			    j->blobs[i].did, pds_strerror(rc));
	}
	close(fd);
	return rc;
}

static void
own(struct job *j, int dirfd, const char *name)
{
	if (j->uid != geteuid() && fchownat(dirfd, name, j->uid, (gid_t)-1,
	    AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("backup: chown %s", name);
}

static int
add_file(struct job *j, const char *path, int64_t size,
    const uint8_t sha[32])
{
	json_t	*e = manifest_entry(path, size, sha);

	if (e == NULL || json_array_append_new(j->files, e) == -1)
		return PDS_ENOMEM;
	return PDS_OK;
}

/* Copy staged blob i into bdir/<did>/<cid>, checked against its CID. */
static int
copy_blob(struct job *j, int stagefd, int bdir, size_t i, uint8_t sha[32])
{
	const struct bblob	*bb = &j->blobs[i];
	struct cid		 want, got;
	char			 name[32];
	int64_t			 size;
	int			 in, out, dfd, rc;

	if (mkdirat(bdir, bb->did, 0700) == 0)
		own(j, bdir, bb->did);
	else if (errno != EEXIST)
		return PDS_EIO;
	snprintf(name, sizeof(name), "%zu", i);
	if ((in = openat(stagefd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return PDS_EIO;
	dfd = openat(bdir, bb->did, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	out = dfd == -1 ? -1 : openat(dfd, bb->cid, O_WRONLY | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out == -1) {
		close(in);
		if (dfd != -1)
			close(dfd);
		return PDS_EIO;
	}
	rc = manifest_copy_fd(in, out, INT64_MAX, sha, &size, NULL, NULL);
	close(in);
	if (rc == PDS_OK && fsync(out) == -1)
		rc = PDS_EIO;
	if (close(out) == -1 && rc == PDS_OK)
		rc = PDS_EIO;
	if (rc == PDS_OK)
		own(j, dfd, bb->cid);
	close(dfd);
	if (rc != PDS_OK)
		return rc;
	cid_from_digest(&want, CID_CODEC_RAW, sha);
	if (cid_parse(&got, bb->cid, strlen(bb->cid), NULL) != PDS_OK ||
	    !cid_equal(&got, &want) || size != bb->size) {
		log_warnx("backup: blob %s of %s does not match its CID or "
		    "size", bb->cid, bb->did);
		return PDS_EMISMATCH;
	}
	j->blob_bytes += size;
	return PDS_OK;
}

static int
write_blobs(struct job *j)
{
	char	 dname[NAMEBUF], path[NAMEBUF + DID_MAX + CID_STR_MAX + 3];
	uint8_t	 sha[32];
	size_t	 i;
	int	 bdir, stagefd, rc = PDS_OK;

	if (j->remote) {
		pthread_mutex_lock(&j->bg.mu);
		j->blobs_done = j->nblobs;
		pthread_mutex_unlock(&j->bg.mu);
		return PDS_OK;
	}
	snprintf(dname, sizeof(dname), "%s%s", j->base, BLOBS_SUFFIX);
	if (mkdirat(j->dirfd, dname, 0700) == -1)
		return errno == EEXIST ? PDS_EEXIST : PDS_EIO;
	own(j, j->dirfd, dname);
	bdir = openat(j->dirfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (bdir == -1)
		return PDS_EIO;
	if ((rc = blobs_stage_open(j->stage, &stagefd)) != PDS_OK) {
		close(bdir);
		return rc;
	}
	for (i = 0; rc == PDS_OK && i < j->nblobs; i++) {
		pthread_mutex_lock(&j->bg.mu);
		if (j->bg.abort)
			rc = PDS_EIO;
		pthread_mutex_unlock(&j->bg.mu);
		if (rc == PDS_OK && j->blobs[i].missing)
			goto next;
		if (rc == PDS_OK)
			rc = copy_blob(j, stagefd, bdir, i, sha);
		if (rc == PDS_OK) {
			snprintf(path, sizeof(path), "%s/%s/%s", dname,
			    j->blobs[i].did, j->blobs[i].cid);
			rc = add_file(j, path, j->blobs[i].size, sha);
		}
next:
		pthread_mutex_lock(&j->bg.mu);
		j->blobs_done = i + 1;
		pthread_mutex_unlock(&j->bg.mu);
	}
	if (rc == PDS_OK && fsync(bdir) == -1)
		rc = PDS_EIO;
	close(stagefd);
	close(bdir);
	return rc;
}

/* The database's entry: hash the placed copy. */
static int
hash_database(struct job *j)
{
	uint8_t	 sha[32];
	int64_t	 size;
	int	 fd, rc;

	fd = openat(j->dirfd, j->base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return PDS_EIO;
	rc = manifest_copy_fd(fd, -1, INT64_MAX, sha, &size, NULL, NULL);
	close(fd);
	return rc == PDS_OK ? add_file(j, j->base, size, sha) : rc;
}

static int
write_manifest(struct job *j)
{
	json_t	*doc;
	char	 name[NAMEBUF], tmp[NAMEBUF + 8], now[CLOCK_ISO_LEN];
	char	 bname[NAMEBUF];
	char	*s;
	json_t	*missing, *objs = NULL;
	int64_t	 obytes = 0;
	size_t	 n, i;
	int	 fd, rc = PDS_OK;

	snprintf(name, sizeof(name), "%s%s", j->base, MANIFEST_SUFFIX);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	snprintf(bname, sizeof(bname), "%s%s", j->base, BLOBS_SUFFIX);
	clock_ms_to_iso(clock_wall_ms(), now);
	if ((missing = json_array()) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < j->nblobs; i++)
		if (j->blobs[i].missing)
			json_array_append_new(missing, json_pack("{s:s,s:s}",
			    "did", j->blobs[i].did, "cid", j->blobs[i].cid));
	doc = json_pack("{s:s,s:i,s:s,s:i,s:s,s:s,s:s,s:I,s:I,s:o,s:O}",
	    "format", BACKUP_FORMAT, "version", MANIFEST_VERSION,
	    "createdAt", now, "schemaVersion", j->schema,
	    "blobstore", blobs_store_kind(), "database", j->base,
	    "blobsDir", bname, "blobs", (json_int_t)(j->remote ? 0 :
	    j->nblobs - j->nmissing), "blobBytes", (json_int_t)j->blob_bytes,
	    "missingBlobs", missing, "files", j->files);
	/*
	 * Blobs on S3 stay in the bucket (its own versioning or
	 * replication keeps them): the manifest names every object the
	 * snapshot's rows reference, with its size.
	 */
	if (doc != NULL && j->remote) {
		if ((objs = json_array()) == NULL)
			rc = PDS_ENOMEM;
		for (i = 0; rc == PDS_OK && i < j->nblobs; i++) {
			obytes += j->blobs[i].size;
			if (json_array_append_new(objs, json_pack("{s:s,s:s,"
			    "s:I}", "did", j->blobs[i].did, "cid",
			    j->blobs[i].cid, "size",
			    (json_int_t)j->blobs[i].size)) == -1)
				rc = PDS_ENOMEM;
		}
		if (rc != PDS_OK || json_object_set_new(doc, "bucketObjects",
		    objs) == -1 || json_object_set_new(doc, "bucketBytes",
		    json_integer(obytes)) == -1) {
			json_decref(doc);
			return PDS_ENOMEM;
		}
	}
	if (doc == NULL || (s = json_dumps(doc, JSON_INDENT(1) |
	    JSON_SORT_KEYS)) == NULL) {
		json_decref(doc);
		return PDS_ENOMEM;
	}
	json_decref(doc);
	n = strlen(s);
	fd = openat(j->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, s, n) != (ssize_t)n || fsync(fd) == -1)
		rc = PDS_EIO;
	if (fd != -1 && close(fd) == -1)
		rc = PDS_EIO;
	free(s);
	if (rc == PDS_OK) {
		own(j, j->dirfd, tmp);
		if (renameat2(j->dirfd, tmp, j->dirfd, name,
		    RENAME_NOREPLACE) == -1)
			rc = errno == EEXIST ? PDS_EEXIST : PDS_EIO;
	}
	if (rc != PDS_OK)
		(void)unlinkat(j->dirfd, tmp, 0);
	else if (fsync(j->dirfd) == -1)
		rc = PDS_EIO;
	return rc;
}

/* After a failure: remove what this backup wrote. */
static void
remove_outputs(struct job *j)
{
	char		 dname[NAMEBUF];
	size_t		 i;
	int		 bdir, dfd;

	(void)unlinkat(j->dirfd, j->base, 0);
	snprintf(dname, sizeof(dname), "%s%s", j->base, BLOBS_SUFFIX);
	bdir = openat(j->dirfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (bdir == -1)
		return;
	for (i = 0; i < j->nblobs; i++) {
		if ((dfd = openat(bdir, j->blobs[i].did, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		(void)unlinkat(dfd, j->blobs[i].cid, 0);
		close(dfd);
		(void)unlinkat(bdir, j->blobs[i].did, AT_REMOVEDIR);
	}
	close(bdir);
	(void)unlinkat(j->dirfd, dname, AT_REMOVEDIR);
}

/* The blobs, then the manifest; PDS_OK or the first failure. */
static int
finish_backup(struct job *j)
{
	int	 rc;

	set_phase(j, PH_BLOBS);
	if ((rc = hash_database(j)) != PDS_OK)
		bgjob_fail(&j->bg, rc, AP_E_IO_ERROR, "%s",
		    "cannot read the database copy back");
	else if ((rc = write_blobs(j)) != PDS_OK)
		bgjob_fail(&j->bg, rc, io_err_name(rc),
		    "copying the blobs failed: %s", pds_strerror(rc));
	else if ((rc = write_manifest(j)) != PDS_OK)
		bgjob_fail(&j->bg, rc, io_err_name(rc),
		    "writing the manifest failed: %s", pds_strerror(rc));
	if (rc != PDS_OK)
		remove_outputs(j);
	return rc;
}

static void *
job_main(void *arg)
{
	struct job		*j = arg;
	struct store_backup	*b = NULL;
	struct stat		 st;
	int			 rc, rem = 0, tot = 0;
	bool			 fin = false, stop;

	blobs_hold();
	rc = store_backup_start(j->tmp, &b);
	if (rc != PDS_OK)
		bgjob_fail(&j->bg, rc, AP_E_IO_ERROR,
		    "cannot start the backup into %.200s", j->tmp);
	else if ((rc = stage_blobs(j, b)) != PDS_OK)
		bgjob_fail(&j->bg, rc, AP_E_IO_ERROR,
		    "cannot list and stage the blobs: %s", pds_strerror(rc));
	blobs_release();
	while (rc == PDS_OK && !fin) {
		rc = store_backup_step(b, BACKUP_STEP_PAGES, &rem, &tot, &fin);
		pthread_mutex_lock(&j->bg.mu);
		j->remaining = rem;
		j->total = tot;
		stop = j->bg.abort;
		pthread_mutex_unlock(&j->bg.mu);
		if (rc != PDS_OK)
			bgjob_fail(&j->bg, rc, AP_E_IO_ERROR,
			    "copying failed: %s", pds_strerror(rc));
		else if (stop) {
			rc = PDS_EIO;
			bgjob_fail(&j->bg, rc, AP_E_IO_ERROR, "%s",
			    "the backup was cancelled");
		}
	}
	if (b != NULL && (rc = store_backup_finish(b, rc == PDS_OK)) !=
	    PDS_OK)
		bgjob_fail(&j->bg, rc, AP_E_IO_ERROR,
		    "finishing the copy failed: %s", pds_strerror(rc));
	store_thread_close();

	if (rc == PDS_OK) {
		set_phase(j, PH_PLACE);
		if (stat(j->tmp, &st) == 0)
			j->bytes = (int64_t)st.st_size;
		if (renameat2(AT_FDCWD, j->tmp, j->dirfd, j->base,
		    RENAME_NOREPLACE) == 0)
			rc = PDS_OK;
		else if (errno == EXDEV || errno == EINVAL || errno == ENOSYS)
			rc = place_copy(j);
		else
			rc = errno == EEXIST ? PDS_EEXIST : PDS_EIO;
		if (rc != PDS_OK)
			bgjob_fail(&j->bg, rc, io_err_name(rc),
			    "cannot write %.200s", j->dest);
		else if (j->uid != geteuid() && fchownat(j->dirfd, j->base,
		    j->uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW) == -1)
			log_warn("backup %s: chown", j->dest);
		if (rc == PDS_OK)
			rc = finish_backup(j);
	}
	(void)unlink(j->tmp);
	blobs_stage_remove(j->stage);
	pthread_mutex_lock(&j->bg.mu);
	j->phase = PH_DONE;
	j->bg.done = true;
	j->seconds = clock_mono_s() - j->started;
	rc = j->bg.rc;
	pthread_mutex_unlock(&j->bg.mu);
	bgjob_audit(&j->bg, &j->actor, "backup", j->dest);
	if (rc == PDS_OK)
		log_info("backup written to %s (%lld bytes, %zu blobs of "
		    "%lld bytes)", j->dest, (long long)j->bytes, j->nblobs,
		    (long long)j->blob_bytes);
	bgjob_finished(&slot);
	job_unref(j);
	return NULL;
}

static enum admin_stream_rc
backup_tick(struct admin_call *call, void *state, int *next_ms)
{
	struct job	*j = state;
	json_t		*ev;
	enum phase	 ph;
	int		 done, total, rc;

	pthread_mutex_lock(&j->bg.mu);
	ph = j->phase;
	total = j->total;
	done = total - j->remaining;
	rc = j->bg.rc;
	pthread_mutex_unlock(&j->bg.mu);
	if (ph == PH_DONE && rc == PDS_OK && total > 0 &&
	    j->reported != total) {
		/* a small copy may finish between ticks: still say 100% */
		j->reported = total;
		ev = json_pack("{s:s,s:i,s:i,s:i}", "phase", "copy",
		    "pagesDone", total, "pagesTotal", total, "percent", 100);
		if (ev != NULL)
			admin_stream_event(call, ev);
		json_decref(ev);
	}
	if (ph == PH_BLOBS || (ph == PH_DONE && rc == PDS_OK &&
	    j->nblobs > 0 && !j->blobs_reported)) {
		size_t	 bd;

		pthread_mutex_lock(&j->bg.mu);
		bd = j->blobs_done;
		pthread_mutex_unlock(&j->bg.mu);
		if (ph == PH_DONE)
			bd = j->nblobs;
		if (bd != j->blobs_last || !j->blobs_started) {
			j->blobs_started = true;
			j->blobs_last = bd;
			j->blobs_reported = bd == j->nblobs;
			ev = json_pack("{s:s,s:I,s:I,s:i}", "phase", "blobs",
			    "filesDone", (json_int_t)bd, "filesTotal",
			    (json_int_t)j->nblobs, "percent", j->nblobs == 0 ?
			    100 : (int)(bd * 100 / j->nblobs));
			if (ev != NULL)
				admin_stream_event(call, ev);
			json_decref(ev);
		}
	}
	if (ph == PH_DONE) {
		if (rc != PDS_OK)
			return bgjob_stream_error(call, &j->bg);
		call->result = json_pack("{s:s,s:I,s:i,s:f,s:I,s:I,s:I,s:s+}",
		    "dest", j->dest, "bytes", (json_int_t)j->bytes, "pages",
		    total, "seconds", j->seconds, "blobs",
		    (json_int_t)(j->nblobs - j->nmissing), "blobBytes",
		    (json_int_t)j->blob_bytes, "missingBlobs",
		    (json_int_t)j->nmissing, "manifest", j->dest,
		    MANIFEST_SUFFIX);
		return ADMIN_STREAM_END;
	}
	if (total > 0 && done != j->reported) {
		j->reported = done;
		ev = json_pack("{s:s,s:i,s:i,s:i}", "phase",
		    ph == PH_COPY ? "copy" : "place", "pagesDone", done,
		    "pagesTotal", total, "percent", (int)((int64_t)done * 100 /
		    total));
		if (ev != NULL)
			admin_stream_event(call, ev);
		json_decref(ev);
	}
	*next_ms = BACKUP_TICK_MS;
	return ADMIN_STREAM_MORE;
}

/* The client went away, or the stream ended: let go of the job. */
static void
backup_free(void *state)
{
	struct job	*j = state;

	bgjob_cancel(&j->bg);
	job_unref(j);
}

static const struct admin_stream_ops backup_ops = { backup_tick,
    backup_free };

static int
refuse(struct admin_call *call, int rc, const char *name, const char *msg,
    const char *dest)
{
	admin_audit(call->actor, "backup", dest, NULL, "failed", name, NULL);
	return bgjob_refuse(call, rc, name, msg);
}

static bool
exists_at(int dirfd, const char *base, const char *suffix)
{
	struct stat	 st;
	char		 name[NAMEBUF];

	snprintf(name, sizeof(name), "%s%s", base, suffix);
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int
admin_backup_start(struct admin_call *call)
{
	const json_t	*v = json_object_get(call->args, "dest");
	struct job	*j;
	struct stat	 st;
	const char	*dest, *slash;
	char		 dir[PATH_MAX], why[sizeof(call->err.e.msg)];
	size_t		 n;
	int		 fd, e, rc;

	if (bcfg == NULL)
		return refuse(call, PDS_EINVAL, AP_E_NOT_AVAILABLE,
		    "backups are not set up", NULL);
	if (!json_is_string(v))
		return refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "argument dest (an absolute path) is required", NULL);
	dest = json_string_value(v);
	n = strlen(dest);
	if (n != json_string_length(v) || dest[0] != '/' || n >= PATH_MAX ||
	    dest[n - 1] == '/')
		return refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "dest must be an absolute path to a file", dest);
	slash = strrchr(dest, '/');
	if (strlen(slash + 1) > NAME_MAX || strcmp(slash + 1, ".") == 0 ||
	    strcmp(slash + 1, "..") == 0)
		return refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "dest must name a file", dest);
	n = (size_t)(slash - dest);
	memcpy(dir, dest, n);
	dir[n] = '\0';
	if (n == 0)
		memcpy(dir, "/", 2);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		e = errno;
		if (fd != -1)
			close(fd);
		if (snprintf(why, sizeof(why), "cannot open dest's directory "
		    "%s: %s", dir, strerror(e)) >= (int)sizeof(why))
			snprintf(why, sizeof(why), "cannot open dest's "
			    "directory: %s", strerror(e));
		return refuse(call, PDS_EIO, AP_E_IO_ERROR, why, dest);
	}
	if (call->peer_uid != 0 && call->peer_uid != geteuid() &&
	    st.st_uid != call->peer_uid) {
		close(fd);
		return refuse(call, PDS_EINVAL, AP_E_PERMISSION_DENIED,
		    "dest's directory must be one you own", dest);
	}
	if (strlen(slash + 1) + sizeof(MANIFEST_SUFFIX) > NAME_MAX + 1) {
		close(fd);
		return refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "dest's name is too long", dest);
	}
	if (exists_at(fd, slash + 1, "") || exists_at(fd, slash + 1,
	    BLOBS_SUFFIX) || exists_at(fd, slash + 1, MANIFEST_SUFFIX)) {
		close(fd);
		return refuse(call, PDS_EEXIST, AP_E_ALREADY_EXISTS,
		    "dest (or its .blobs or .manifest.json) exists; backups "
		    "never overwrite", dest);
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		close(fd);
		return PDS_ENOMEM;
	}
	bgjob_init(&j->bg);
	j->dirfd = fd;
	j->uid = call->peer_uid;
	j->actor = *call->actor;
	j->started = clock_mono_s();
	j->reported = -1;
	snprintf(j->base, sizeof(j->base), "%s", slash + 1);
	snprintf(j->dest, sizeof(j->dest), "%s", dest);
	if ((j->files = json_array()) == NULL) {
		job_unref(j);
		return PDS_ENOMEM;
	}
	/* admin calls come one at a time: job_serial needs no lock */
	if ((size_t)snprintf(j->tmp, sizeof(j->tmp), "%s/.backup-%ld-%u.tmp",
	    bcfg->data_dir, (long)getpid(), ++job_serial) >= sizeof(j->tmp)) {
		job_unref(j);
		return refuse(call, PDS_ETOOBIG, AP_E_IO_ERROR,
		    "data directory path too long", dest);
	}
	snprintf(j->stage, sizeof(j->stage), "backup-%ld-%u", (long)getpid(),
	    job_serial);
	if ((rc = bgjob_start(&slot, &j->bg, j, job_main, call,
	    &backup_ops)) != PDS_OK) {
		job_unref(j);
		if (rc == PDS_EEXIST)
			return refuse(call, rc, AP_E_NOT_AVAILABLE,
			    "a backup is already running", dest);
		return refuse(call, rc, AP_E_INTERNAL,
		    "cannot start the backup thread", dest);
	}
	return PDS_OK;
}

static int
backup_init(const struct config *cfg)
{
	bcfg = cfg;
	blobs_stage_sweep("backup-");	/* left by a crash mid-backup */
	return PDS_OK;
}

/* At shutdown: stop a running copy and wait for its thread. */
static void
backup_fini(void)
{
	bgjob_stop(&slot);
	bcfg = NULL;
}

PDSD_MODULE(backup, backup_init, backup_fini)
