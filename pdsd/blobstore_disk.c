/*
 * blobstore_disk: blobs as files, <PDS_BLOBSTORE_DISK_LOCATION>/<did>/<cid>
 * (the reference's disk layout).  See blobstore.h.
 *
 * Takedown leaves the file where it is: the blob's row carries the
 * takedown and every read path checks it (as before the interface).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blobstore.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "syntax.h"

static const char *root;

static bool
did_ok(const char *did)
{
	return syntax_is_did(did, strlen(did)) && strchr(did, '/') == NULL;
}

int
blobstore_disk_path(char *out, size_t cap, const char *did, const char *cid)
{
	int	 n;

	if (root == NULL)
		return PDS_EIO;
	if (!did_ok(did) || (cid != NULL && (strchr(cid, '/') != NULL ||
	    cid[0] == '.' || cid[0] == '\0')))
		return PDS_EINVAL;
	n = cid != NULL ? snprintf(out, cap, "%s/%s/%s", root, did, cid) :
	    snprintf(out, cap, "%s/%s", root, did);
	return n < 0 || (size_t)n >= cap ? PDS_ETOOBIG : PDS_OK;
}

int
blobstore_mkdir_p(const char *path)
{
	char	 tmp[PATH_MAX];
	char	*p;
	size_t	 n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return PDS_EINVAL;
	memcpy(tmp, path, n + 1);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
			return PDS_EIO;
		*p = '/';
	}
	if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
		return PDS_EIO;
	return PDS_OK;
}

static int
disk_put(const char *did, const char *cid, const char *tmp_path, int fd,
    int64_t size, const uint8_t sha256[32], bool *consumed)
{
	char	 dir[PATH_MAX], final[PATH_MAX];
	int	 rc;

	(void)size;
	(void)sha256;
	*consumed = false;
	if (fsync(fd) == -1) {
		log_warn("blobs: sync %s", tmp_path);
		return PDS_EIO;
	}
	if ((rc = blobstore_disk_path(dir, sizeof(dir), did, NULL)) != PDS_OK ||
	    (rc = blobstore_disk_path(final, sizeof(final), did, cid)) != PDS_OK)
		return rc;
	if ((rc = blobstore_mkdir_p(dir)) != PDS_OK ||
	    rename(tmp_path, final) == -1) {
		log_warn("blobs: store %s", final);
		return rc != PDS_OK ? rc : PDS_EIO;
	}
	*consumed = true;
	return PDS_OK;
}

static int
disk_open(const char *did, const char *cid, int64_t off, int64_t len,
    struct blobstore_read *r)
{
	struct stat	 sb;
	char		 path[PATH_MAX];
	int		 fd, rc;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if ((rc = blobstore_disk_path(path, sizeof(path), did, cid)) != PDS_OK)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? PDS_ENOTFOUND : PDS_EIO;
	if (fstat(fd, &sb) == -1) {
		close(fd);
		return PDS_EIO;
	}
	r->fd = fd;
	r->total = (int64_t)sb.st_size;
	r->off = off < r->total ? off : r->total;
	r->len = len < 0 || r->off + len > r->total ? r->total - r->off : len;
	return PDS_OK;
}

static int
disk_stat(const char *did, const char *cid, int64_t *size)
{
	struct stat	 sb;
	char		 path[PATH_MAX];
	int		 rc;

	if ((rc = blobstore_disk_path(path, sizeof(path), did, cid)) != PDS_OK)
		return rc;
	if (stat(path, &sb) == -1)
		return errno == ENOENT ? PDS_ENOTFOUND : PDS_EIO;
	*size = (int64_t)sb.st_size;
	return PDS_OK;
}

static int
disk_remove(const char *did, const char *cid)
{
	char	 path[PATH_MAX];
	int	 rc;

	if ((rc = blobstore_disk_path(path, sizeof(path), did, cid)) != PDS_OK)
		return rc;
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("blobs: unlink %s", path);
		return PDS_EIO;
	}
	return PDS_OK;
}

static int
disk_remove_account(const char *did)
{
	char		 dir[PATH_MAX], path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	int		 rc;

	if ((rc = blobstore_disk_path(dir, sizeof(dir), did, NULL)) != PDS_OK)
		return rc;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? PDS_OK : PDS_EIO;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    (int)sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
	return rmdir(dir) == 0 || errno == ENOENT ? PDS_OK : PDS_EIO;
}

static int
disk_quarantine(const char *did, const char *cid, bool on)
{
	(void)did;
	(void)cid;
	(void)on;
	return PDS_OK;
}

const struct blobstore_ops blobstore_disk_ops = {
	.name = "disk",
	.put = disk_put,
	.open = disk_open,
	.stat = disk_stat,
	.remove = disk_remove,
	.remove_account = disk_remove_account,
	.quarantine = disk_quarantine,
};

int
blobstore_disk_init(const struct config *cfg)
{
	root = cfg->blobstore_dir;
	if (blobstore_mkdir_p(cfg->blobstore_dir) != PDS_OK ||
	    blobstore_mkdir_p(cfg->blobstore_tmp_dir) != PDS_OK) {
		log_warn("blobs: cannot create %s", cfg->blobstore_dir);
		return PDS_EIO;
	}
	return PDS_OK;
}
