/*
 * restore: `pdsctl restore BACKUP DATA_DIR', a working data directory
 * from what `pdsctl backup' wrote.  No daemon is involved: pdsd must
 * not run on DATA_DIR.
 *
 * BACKUP names the database copy (DEST of the backup) or its
 * DEST.manifest.json.  The manifest is read first and checked (every
 * path plain, every blob's digest its CID's); then every file is copied
 * into a new directory beside DATA_DIR while it is hashed, and compared
 * with its size and SHA-256 in the manifest.  Only when every file
 * matched is that directory renamed to DATA_DIR, which must not exist
 * or be empty: a restore is all or nothing, and never touches a data
 * directory that holds anything.
 *
 * The result: DATA_DIR/pds.sqlite and DATA_DIR/blocks/<did>/<cid> (the
 * default PDS_BLOBSTORE_DISK_LOCATION), mode 0600 files in 0700
 * directories owned by whoever ran pdsctl.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "err.h"
#include "manifest.h"
#include "pdsctl.h"

#define MANIFEST_SUFFIX	".manifest.json"

struct restore {
	const struct manifest	*m;
	const char		*db;		/* the database's name */
	const char		*blobs_dir;	/* the blobs' directory */
	int			 src;		/* the backup's */
	int			 dst;		/* the new data dir */
	char			 stage[PATH_MAX];
	struct ctl_progress	 prog;
	size_t			 nblobs;
};

static int
say(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
say(int rc, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "pdsctl: restore: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return rc;
}

/* Where file f goes under the new data directory (NULL: nowhere). */
static const char *
target_of(const struct restore *r, const char *path, char *out, size_t cap)
{
	size_t	 n = strlen(r->blobs_dir);
	int	 slashes = 0;
	const char *p;

	if (strcmp(path, r->db) == 0)
		return "pds.sqlite";
	if (strncmp(path, r->blobs_dir, n) != 0 || path[n] != '/')
		return NULL;
	for (p = path + n + 1; *p != '\0'; p++)
		if (*p == '/')
			slashes++;
	if (slashes != 1 || (size_t)snprintf(out, cap, "blocks/%s",
	    path + n + 1) >= cap)
		return NULL;
	return out;
}

static int
mkdirs_for(int dirfd, const char *rel)
{
	char	 tmp[MANIFEST_PATH_MAX + 16];
	char	*p;

	snprintf(tmp, sizeof(tmp), "%s", rel);
	for (p = tmp; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdirat(dirfd, tmp, 0700) == -1 && errno != EEXIST)
			return PDS_EIO;
		*p = '/';
	}
	return PDS_OK;
}

static void
on_bytes(void *arg, int64_t n)
{
	ctl_progress_add(arg, n);
}

static int
restore_file(struct restore *r, const struct manifest_file *f)
{
	struct stat	 st;
	char		 buf[MANIFEST_PATH_MAX + 16];
	const char	*to = target_of(r, f->path, buf, sizeof(buf));
	uint8_t		 sha[32];
	int64_t		 size;
	int		 in, out, rc;

	if (to == NULL)
		return say(PDS_EINVAL, "%s: not the database nor a blob",
		    f->path);
	in = openat(r->src, f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in == -1)
		return say(PDS_EIO, "%s: %s", f->path, strerror(errno));
	if (fstat(in, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size != f->size) {
		close(in);
		return say(PDS_EMISMATCH, "%s: not a file of %lld bytes",
		    f->path, (long long)f->size);
	}
	if (mkdirs_for(r->dst, to) != PDS_OK || (out = openat(r->dst, to,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1) {
		close(in);
		return say(PDS_EIO, "%s: %s", to, strerror(errno));
	}
	rc = manifest_copy_fd(in, out, f->size, sha, &size, on_bytes,
	    &r->prog);
	close(in);
	if (rc == PDS_OK && fsync(out) == -1)
		rc = PDS_EIO;
	if (close(out) == -1 && rc == PDS_OK)
		rc = PDS_EIO;
	if (rc != PDS_OK)
		return say(rc, "%s: %s", f->path, rc == PDS_ETOOBIG ?
		    "larger than the manifest says" : strerror(errno));
	if (size != f->size || memcmp(sha, f->sha256, 32) != 0)
		return say(PDS_EMISMATCH, "%s: its SHA-256 is not the "
		    "manifest's: the backup is damaged", f->path);
	if (to[0] == 'b')
		r->nblobs++;
	return PDS_OK;
}

/* Remove the staging tree (at most blocks/<did>/<cid> deep). */
static void
rm_tree(int at, const char *name, int depth)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if (unlinkat(at, name, 0) == 0 || depth > 4)
		return;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			rm_tree(fd, de->d_name, depth + 1);
	closedir(d);
	(void)unlinkat(at, name, AT_REMOVEDIR);
}

/* DATA_DIR: absent, or an empty directory. */
static int
check_target(const char *dir)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 n = 0;

	if (lstat(dir, &st) == -1)
		return errno == ENOENT ? PDS_OK : say(PDS_EIO, "%s: %s", dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return say(PDS_EEXIST, "%s exists and is not a directory", dir);
	if ((d = opendir(dir)) == NULL)
		return say(PDS_EIO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n == 0 ? PDS_OK : say(PDS_EEXIST, "%s is not empty: a "
	    "restore never writes over a data directory", dir);
}

static int
open_manifest(const char *backup, struct manifest *m, int *srcfd)
{
	char		 mpath[PATH_MAX], dir[PATH_MAX], err[256];
	const char	*slash, *base;
	char		*buf;
	size_t		 len, n = strlen(backup);
	int		 rc;

	*srcfd = -1;
	if (n >= sizeof(MANIFEST_SUFFIX) && strcmp(backup + n -
	    (sizeof(MANIFEST_SUFFIX) - 1), MANIFEST_SUFFIX) == 0)
		snprintf(mpath, sizeof(mpath), "%s", backup);
	else if ((size_t)snprintf(mpath, sizeof(mpath), "%s%s", backup,
	    MANIFEST_SUFFIX) >= sizeof(mpath))
		return say(PDS_ETOOBIG, "%s: path too long", backup);
	slash = strrchr(mpath, '/');
	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
		base = mpath;
	} else {
		snprintf(dir, sizeof(dir), "%.*s", slash == mpath ? 1 :
		    (int)(slash - mpath), mpath);
		base = slash + 1;
	}
	if ((*srcfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return say(PDS_EIO, "%s: %s", dir, strerror(errno));
	rc = manifest_read_file(*srcfd, base, MANIFEST_MAX_BYTES, &buf, &len);
	if (rc != PDS_OK)
		return say(rc, "%s: %s (a backup without its manifest is "
		    "incomplete)", mpath, rc == PDS_ENOTFOUND ? "missing" :
		    pds_strerror(rc));
	rc = manifest_parse(buf, len, "pds-backup", m, err, sizeof(err));
	free(buf);
	if (rc != PDS_OK)
		return say(rc, "%s: %s", mpath, err);
	return PDS_OK;
}

static int
check_layout(struct restore *r)
{
	const json_t	*doc = r->m->doc;
	const char	*kind;
	char		 buf[MANIFEST_PATH_MAX + 16];
	size_t		 i;

	r->db = json_string_value(json_object_get(doc, "database"));
	r->blobs_dir = json_string_value(json_object_get(doc, "blobsDir"));
	kind = json_string_value(json_object_get(doc, "blobstore"));
	if (r->db == NULL || r->blobs_dir == NULL || strchr(r->db, '/') ||
	    strchr(r->blobs_dir, '/') || !manifest_path_ok(r->db) ||
	    !manifest_path_ok(r->blobs_dir))
		return say(PDS_EINVAL, "%s", "the manifest names no plain "
		    "database and blobs directory");
	if (kind == NULL || strcmp(kind, "disk") != 0)
		return say(PDS_EUNSUPP, "a backup of a %s blob store: only "
		    "disk stores are restored from the backup's files",
		    kind != NULL ? kind : "unknown");
	if (manifest_find(r->m, r->db) == NULL)
		return say(PDS_EINVAL, "%s", "the manifest lists no database");
	for (i = 0; i < r->m->nfiles; i++)
		if (target_of(r, r->m->files[i].path, buf, sizeof(buf)) ==
		    NULL)
			return say(PDS_EINVAL, "%s: not the database nor a "
			    "blob", r->m->files[i].path);
	return PDS_OK;
}

static int
place(struct restore *r, const char *datadir)
{
	char	 parent[PATH_MAX];
	char	*slash;
	int	 fd;

	if (fsync(r->dst) == -1)
		return say(PDS_EIO, "sync: %s", strerror(errno));
	if (rename(r->stage, datadir) == -1)
		return say(PDS_EIO, "cannot put the restored directory at "
		    "%s: %s", datadir, strerror(errno));
	snprintf(parent, sizeof(parent), "%s", datadir);
	slash = strrchr(parent, '/');
	if (slash != NULL)
		parent[slash == parent ? 1 : slash - parent] = '\0';
	else
		snprintf(parent, sizeof(parent), ".");
	if ((fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);	/* the rename itself */
		close(fd);
	}
	return PDS_OK;
}

int
ctl_restore(const char *backup, const char *arg_dir)
{
	char		 datadir[PATH_MAX - 32];
	size_t		 dl;
	struct manifest	 m;
	struct restore	 r;
	json_t		*out;
	char		 parent[PATH_MAX];
	const char	*slash;
	double		 t0 = clock_mono_s();
	size_t		 i;
	int		 rc, pfd;
	bool		 staged = false;

	memset(&r, 0, sizeof(r));
	memset(&m, 0, sizeof(m));
	r.dst = -1;
	/* "dir/" is "dir": the stage goes beside it, not inside */
	dl = strlen(arg_dir);
	while (dl > 1 && arg_dir[dl - 1] == '/')
		dl--;
	if (dl == 0 || dl >= sizeof(datadir) || (dl == 1 &&
	    arg_dir[0] == '/')) {
		fprintf(stderr, "pdsctl: restore: DATA_DIR is empty, / or "
		    "too long\n");
		return EXIT_USAGE;
	}
	memcpy(datadir, arg_dir, dl);
	datadir[dl] = '\0';
	if ((rc = check_target(datadir)) != PDS_OK)
		return rc == PDS_EEXIST ? EXIT_CONFLICT : EXIT_FAIL;
	if ((rc = open_manifest(backup, &m, &r.src)) != PDS_OK) {
		manifest_clear(&m);
		if (r.src != -1)
			close(r.src);
		return rc == PDS_EIO || rc == PDS_ENOTFOUND ? EXIT_FAIL :
		    EXIT_DATAERR;
	}
	r.m = &m;
	if ((rc = check_layout(&r)) != PDS_OK) {
		manifest_clear(&m);
		close(r.src);
		return EXIT_DATAERR;
	}
	/* The stage: beside DATA_DIR, so that the last step is a rename. */
	snprintf(r.stage, sizeof(r.stage), "%s.restore-XXXXXX", datadir);
	if (mkdtemp(r.stage) == NULL) {
		rc = say(PDS_EIO, "%s: %s", r.stage, strerror(errno));
		goto done;
	}
	staged = true;
	r.dst = open(r.stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r.dst == -1) {
		rc = say(PDS_EIO, "%s: %s", r.stage, strerror(errno));
		goto done;
	}
	ctl_progress_begin(&r.prog, "restore", m.bytes, m.nfiles);
	for (i = 0, rc = PDS_OK; rc == PDS_OK && i < m.nfiles; i++) {
		rc = restore_file(&r, &m.files[i]);
		ctl_progress_file(&r.prog);
	}
	ctl_progress_end(&r.prog, rc == PDS_OK);
	if (rc == PDS_OK && mkdirat(r.dst, "blocks", 0700) == -1 &&
	    errno != EEXIST)
		rc = say(PDS_EIO, "blocks: %s", strerror(errno));
	if (rc == PDS_OK)
		rc = place(&r, datadir);
done:
	if (rc != PDS_OK && staged) {
		snprintf(parent, sizeof(parent), "%s", r.stage);
		slash = strrchr(parent, '/');
		if (slash == NULL)
			pfd = AT_FDCWD;
		else {
			parent[slash == parent ? 1 : slash - parent] = '\0';
			pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
		if (pfd != -1 || slash == NULL) {
			rm_tree(pfd, strrchr(r.stage, '/') != NULL ?
			    strrchr(r.stage, '/') + 1 : r.stage, 0);
			if (pfd != AT_FDCWD)
				close(pfd);
		}
	}
	if (r.dst != -1)
		close(r.dst);
	close(r.src);
	if (rc == PDS_OK) {
		out = json_pack("{s:s,s:s,s:I,s:I,s:I,s:f}", "dataDir",
		    datadir, "createdAt", json_string_value(json_object_get(
		    m.doc, "createdAt")) ? json_string_value(json_object_get(
		    m.doc, "createdAt")) : "", "files", (json_int_t)m.nfiles,
		    "blobs", (json_int_t)r.nblobs, "bytes",
		    (json_int_t)m.bytes, "seconds", clock_mono_s() - t0);
		if (ctl_json)
			out_json(out);
		else
			printf("restored %zu files (%zu blobs, %lld bytes) "
			    "into %s in %.1f s; every SHA-256 matched\n",
			    m.nfiles, r.nblobs, (long long)m.bytes, datadir,
			    clock_mono_s() - t0);
		json_decref(out);
	}
	manifest_clear(&m);
	if (rc == PDS_OK)
		return EXIT_OK;
	return rc == PDS_EMISMATCH || rc == PDS_EINVAL ? EXIT_DATAERR :
	    EXIT_FAIL;
}
