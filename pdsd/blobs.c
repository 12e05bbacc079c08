/*
 * blobs: blob files and their lifecycle.  See blobs.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "blobs.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "jobs.h"
#include "log.h"
#include "module.h"
#include "store.h"
#include "store_repo.h"
#include "syntax.h"

#define WRITE_CHUNK	((size_t)64 * 1024)
#define SWEEP_BATCH	500

static const struct config *bcfg;
static int64_t	grace_s = BLOBS_GRACE_DEFAULT_S;
/* Orders blob file changes against their rows (see blobs.h). */
static pthread_mutex_t file_mu = PTHREAD_MUTEX_INITIALIZER;

int64_t
blobs_grace_seconds(void)
{
	return grace_s;
}

/* ---- sniffing ------------------------------------------------------- */

static bool
has(const uint8_t *d, size_t len, size_t off, const char *magic, size_t n)
{
	return len >= off + n && memcmp(d + off, magic, n) == 0;
}

/*
 * Magic numbers, the first match wins: n bytes m at off and, where
 * brand is set, the four bytes brand at 8 as well (the RIFF type, the
 * brand of an ISO media file); no shorter than min bytes.  An ISO
 * media file (ftyp at 4) of no brand listed is video/mp4.
 */
static const struct magic {
	size_t		 off;
	const char	*m;
	size_t		 n;
	const char	*brand;
	size_t		 min;
	const char	*type;
} magics[] = {
	{ 0, "\xff\xd8\xff", 3, NULL, 0, "image/jpeg" },
	{ 0, "\x89PNG\r\n\x1a\n", 8, NULL, 0, "image/png" },
	{ 0, "GIF87a", 6, NULL, 0, "image/gif" },
	{ 0, "GIF89a", 6, NULL, 0, "image/gif" },
	{ 0, "RIFF", 4, "WEBP", 0, "image/webp" },
	{ 4, "ftyp", 4, "avif", 0, "image/avif" },
	{ 4, "ftyp", 4, "avis", 0, "image/avif" },
	{ 4, "ftyp", 4, "heic", 0, "image/heic" },
	{ 4, "ftyp", 4, "heix", 0, "image/heic" },
	{ 4, "ftyp", 4, "mif1", 0, "image/heic" },
	{ 4, "ftyp", 4, "msf1", 0, "image/heic" },
	{ 4, "ftyp", 4, "qt  ", 0, "video/quicktime" },
	{ 4, "ftyp", 4, "M4A ", 0, "audio/mp4" },
	{ 4, "ftyp", 4, NULL, 12, "video/mp4" },
	{ 0, "\x1a\x45\xdf\xa3", 4, NULL, 0, "video/webm" },
	{ 0, "%PDF-", 5, NULL, 0, "application/pdf" },
	{ 0, "ID3", 3, NULL, 0, "audio/mpeg" },
	{ 0, "\xff\xfb", 2, NULL, 0, "audio/mpeg" },
	{ 0, "OggS", 4, NULL, 0, "audio/ogg" },
	{ 0, "II*\0", 4, NULL, 0, "image/tiff" },
	{ 0, "MM\0*", 4, NULL, 0, "image/tiff" },
};

const char *
blobs_sniff(const uint8_t *d, size_t len)
{
	const struct magic	*g;
	size_t			 i;

	for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		g = &magics[i];
		if (len >= g->min && has(d, len, g->off, g->m, g->n) &&
		    (g->brand == NULL || has(d, len, 8, g->brand, 4)))
			return g->type;
	}
	return NULL;
}

/* A Content-Type "type/subtype" without parameters, lower-cased. */
static bool
mime_from_header(const char *ct, char *out, size_t cap)
{
	size_t	 i, n = 0;
	bool	 slash = false;

	if (ct == NULL)
		return false;
	while (*ct == ' ')
		ct++;
	for (i = 0; ct[i] != '\0' && ct[i] != ';' && ct[i] != ' '; i++) {
		char c = ct[i];
		if (c == '/') {
			if (slash || i == 0)
				return false;
			slash = true;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' &&
		    c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		    c == '+' || c == '-' || c == '_'))
			return false;
		if (n + 1 >= cap)
			return false;
		out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	out[n] = '\0';
	return slash && n > 0 && out[n - 1] != '/';
}

/* ---- paths ---------------------------------------------------------- */

static bool
did_ok(const char *did)
{
	return syntax_is_did(did, strlen(did)) && strchr(did, '/') == NULL;
}

static int
blob_path(char *out, size_t cap, const char *did, const char *cid)
{
	int	 n;

	if (!did_ok(did))
		return PDS_EINVAL;
	n = cid != NULL ? snprintf(out, cap, "%s/%s/%s", bcfg->blobstore_dir,
	    did, cid) : snprintf(out, cap, "%s/%s", bcfg->blobstore_dir, did);
	return n < 0 || (size_t)n >= cap ? PDS_ETOOBIG : PDS_OK;
}

static int
mkdir_p(const char *path)
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

/* ---- upload --------------------------------------------------------- */

#define SNIFF_HEAD	32	/* blobs_sniff() looks at no more than this */

struct blob_upload {
	crypto_hash_sha256_state hs;
	char		 key[2 * 12 + 1];	/* the temp file's name */
	char		 tmp[PATH_MAX];
	uint8_t		 head[SNIFF_HEAD];	/* the first bytes, to sniff */
	size_t		 headlen;
	uint64_t	 size;
	int		 fd;		/* -1 once closed */
	bool		 failed;
	bool		 stored;	/* renamed away: nothing to remove */
};

int
blobs_upload_begin(struct blob_upload **up)
{
	struct blob_upload *u;
	uint8_t		 rnd[12];

	*up = NULL;
	if (bcfg == NULL)
		return PDS_EINVAL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return PDS_ENOMEM;
	u->fd = -1;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(u->key, sizeof(u->key), rnd, sizeof(rnd));
	if (snprintf(u->tmp, sizeof(u->tmp), "%s/%s", bcfg->blobstore_tmp_dir,
	    u->key) >= (int)sizeof(u->tmp)) {
		free(u);
		return PDS_ETOOBIG;
	}
	u->fd = open(u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (u->fd == -1) {
		log_warn("blobs: %s", u->tmp);
		free(u);
		return PDS_EIO;
	}
	crypto_hash_sha256_init(&u->hs);
	*up = u;
	return PDS_OK;
}

/* Write and hash in the same pass. */
int
blobs_upload_write(struct blob_upload *u, const uint8_t *data, size_t len)
{
	size_t	 off, n;
	ssize_t	 w;

	if (u->failed || u->fd == -1)
		return PDS_EIO;
	if (u->headlen < sizeof(u->head)) {
		n = sizeof(u->head) - u->headlen;
		n = n < len ? n : len;
		memcpy(u->head + u->headlen, data, n);
		u->headlen += n;
	}
	for (off = 0; off < len; off += (size_t)w) {
		n = len - off < WRITE_CHUNK ? len - off : WRITE_CHUNK;
		if ((w = write(u->fd, data + off, n)) <= 0) {
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			log_warn("blobs: write %s", u->tmp);
			u->failed = true;
			return PDS_EIO;
		}
		crypto_hash_sha256_update(&u->hs, data + off, (size_t)w);
	}
	u->size += len;
	return PDS_OK;
}

int
blobs_upload_finish(struct blob_upload *u, const char *did,
    const char *content_type, struct blob_info *out)
{
	uint8_t		 digest[32];
	char		 dir[PATH_MAX], final[PATH_MAX], cs[CID_STR_MAX];
	char		 now[STORE_TS_LEN];
	const char	*sniffed;
	int		 fd, rc;

	if (u->failed || u->fd == -1 || !did_ok(did))
		return u->failed || u->fd == -1 ? PDS_EIO : PDS_EINVAL;
	crypto_hash_sha256_final(&u->hs, digest);
	fd = u->fd;
	u->fd = -1;
	if (fsync(fd) == -1 || close(fd) == -1) {
		log_warn("blobs: sync %s", u->tmp);
		return PDS_EIO;
	}
	cid_from_digest(&out->cid, CID_CODEC_RAW, digest);
	cid_format(&out->cid, cs, sizeof(cs));
	out->size = (int64_t)u->size;
	sniffed = blobs_sniff(u->head, u->headlen);
	if (sniffed != NULL)
		snprintf(out->mime, sizeof(out->mime), "%s", sniffed);
	else if (!mime_from_header(content_type, out->mime,
	    sizeof(out->mime)))
		snprintf(out->mime, sizeof(out->mime),
		    "application/octet-stream");

	if ((rc = blob_path(dir, sizeof(dir), did, NULL)) != PDS_OK ||
	    (rc = blob_path(final, sizeof(final), did, cs)) != PDS_OK)
		return rc;
	store_timestamp(now);
	pthread_mutex_lock(&file_mu);
	if ((rc = mkdir_p(dir)) != PDS_OK || rename(u->tmp, final) == -1) {
		log_warn("blobs: store %s", final);
		pthread_mutex_unlock(&file_mu);
		return rc != PDS_OK ? rc : PDS_EIO;
	}
	u->stored = true;
	rc = store_blob_uploaded(did, &out->cid, out->mime, out->size, u->key,
	    now);
	pthread_mutex_unlock(&file_mu);
	return rc;
}

void
blobs_upload_free(struct blob_upload *u)
{
	if (u == NULL)
		return;
	if (u->fd != -1)
		close(u->fd);
	if (!u->stored && unlink(u->tmp) == -1 && errno != ENOENT)
		log_warn("blobs: unlink %s", u->tmp);
	free(u);
}

int
blobs_upload(const char *did, const uint8_t *data, size_t len,
    const char *content_type, struct blob_info *out)
{
	struct blob_upload *u;
	int		 rc;

	if (bcfg == NULL || !did_ok(did))
		return PDS_EINVAL;
	if ((rc = blobs_upload_begin(&u)) != PDS_OK)
		return rc;
	if ((rc = blobs_upload_write(u, data, len)) == PDS_OK)
		rc = blobs_upload_finish(u, did, content_type, out);
	blobs_upload_free(u);
	return rc;
}

int
blobs_open(const char *did, const struct cid *cid, int *fdp, int64_t *size)
{
	struct stat	 sb;
	char		 path[PATH_MAX], cs[CID_STR_MAX];
	int		 fd, rc;

	if (bcfg == NULL)
		return PDS_EIO;
	cid_format(cid, cs, sizeof(cs));
	if ((rc = blob_path(path, sizeof(path), did, cs)) != PDS_OK)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? PDS_ENOTFOUND : PDS_EIO;
	if (fstat(fd, &sb) == -1) {
		close(fd);
		return PDS_EIO;
	}
	*fdp = fd;
	*size = (int64_t)sb.st_size;
	return PDS_OK;
}

/* ---- removal -------------------------------------------------------- */

void
blobs_forget_files(const char *did, const char *cids, size_t len)
{
	const char	*p, *end = cids + len;
	char		 path[PATH_MAX];
	bool		 exists;

	if (bcfg == NULL)
		return;
	for (p = cids; p < end; p += strlen(p) + 1) {
		if (blob_path(path, sizeof(path), did, p) != PDS_OK)
			continue;
		pthread_mutex_lock(&file_mu);
		if (store_blob_exists(did, p, &exists) == PDS_OK && !exists &&
		    unlink(path) == -1 && errno != ENOENT)
			log_warn("blobs: unlink %s", path);
		pthread_mutex_unlock(&file_mu);
	}
}

int
blobs_delete_account(const char *did)
{
	char		 dir[PATH_MAX], path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	int		 rc;

	if (bcfg == NULL)
		return PDS_EIO;
	if ((rc = blob_path(dir, sizeof(dir), did, NULL)) != PDS_OK)
		return rc;
	pthread_mutex_lock(&file_mu);
	if ((d = opendir(dir)) == NULL) {
		pthread_mutex_unlock(&file_mu);
		return errno == ENOENT ? PDS_OK : PDS_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    (int)sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
	rc = rmdir(dir) == 0 || errno == ENOENT ? PDS_OK : PDS_EIO;
	pthread_mutex_unlock(&file_mu);
	return rc;
}

/* ---- backups -------------------------------------------------------- */

void
blobs_hold(void)
{
	pthread_mutex_lock(&file_mu);
}

void
blobs_release(void)
{
	pthread_mutex_unlock(&file_mu);
}

const char *
blobs_store_kind(void)
{
	return "disk";
}

static int
stage_path(char *out, size_t cap, const char *tag)
{
	if (bcfg == NULL || tag[0] == '\0' || strchr(tag, '/') != NULL)
		return PDS_EINVAL;
	if ((size_t)snprintf(out, cap, "%s/.%s", bcfg->blobstore_dir, tag) >=
	    cap)
		return PDS_ETOOBIG;
	return PDS_OK;
}

int
blobs_stage_open(const char *tag, int *dirfd)
{
	char	 path[PATH_MAX];
	int	 rc;

	*dirfd = -1;
	if ((rc = stage_path(path, sizeof(path), tag)) != PDS_OK)
		return rc;
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return PDS_EIO;
	*dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return *dirfd == -1 ? PDS_EIO : PDS_OK;
}

/* Copy a blob file where a hard link cannot go. */
static int
stage_copy(const char *path, int dirfd, const char *name)
{
	char	 buf[65536];
	ssize_t	 n, w, off;
	int	 in, out, rc = PDS_OK;

	if ((in = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? PDS_ENOTFOUND : PDS_EIO;
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (out == -1) {
		close(in);
		return PDS_EIO;
	}
	while (rc == PDS_OK && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno != EINTR)
				rc = PDS_EIO;
			continue;
		}
		for (off = 0; rc == PDS_OK && off < n; off += w)
			if ((w = write(out, buf + off, (size_t)(n - off))) <= 0)
				rc = PDS_EIO;
	}
	close(in);
	if (close(out) == -1 && rc == PDS_OK)
		rc = PDS_EIO;
	return rc;
}

int
blobs_stage(const char *did, const char *cid, int dirfd, const char *name)
{
	char	 path[PATH_MAX];
	int	 rc;

	if (bcfg == NULL)
		return PDS_EIO;
	if ((rc = blob_path(path, sizeof(path), did, cid)) != PDS_OK)
		return rc;
	(void)unlinkat(dirfd, name, 0);
	if (linkat(AT_FDCWD, path, dirfd, name, 0) == 0)
		return PDS_OK;
	if (errno == ENOENT)
		return PDS_ENOTFOUND;
	return stage_copy(path, dirfd, name);
}

void
blobs_stage_remove(const char *tag)
{
	char		 path[PATH_MAX];
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if (stage_path(path, sizeof(path), tag) != PDS_OK)
		return;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			(void)unlinkat(fd, de->d_name, 0);
	closedir(d);
	if (rmdir(path) == -1)
		log_warn("blobs: rmdir %s", path);
}

void
blobs_stage_sweep(const char *prefix)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 n = strlen(prefix);

	if (bcfg == NULL || (d = opendir(bcfg->blobstore_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] == '.' && strncmp(de->d_name + 1, prefix,
		    n) == 0) {
			log_info("blobs: removing a backup's leftover "
			    "staging directory %s", de->d_name);
			blobs_stage_remove(de->d_name + 1);
		}
	closedir(d);
}

/* ---- the sweep job -------------------------------------------------- */

struct victim {
	char	did[DID_MAX + 1];
	char	cid[CID_STR_MAX];
};

struct victims {
	struct victim	*v;
	size_t		 n;
};

static void
victim_cb(void *arg, const char *did, const char *cid)
{
	struct victims	*vs = arg;

	if (vs->n >= SWEEP_BATCH)
		return;
	snprintf(vs->v[vs->n].did, sizeof(vs->v[vs->n].did), "%s", did);
	snprintf(vs->v[vs->n].cid, sizeof(vs->v[vs->n].cid), "%s", cid);
	vs->n++;
}

/* Upload temp files left behind by a crash. */
static void
sweep_tmp_dir(time_t before)
{
	char		 path[PATH_MAX];
	struct stat	 sb;
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(bcfg->blobstore_tmp_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s",
		    bcfg->blobstore_tmp_dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_mtime < before)
			(void)unlink(path);
	}
	closedir(d);
}

void
blobs_sweep(void *arg)
{
	struct victims	 vs;
	char		 before[STORE_TS_LEN], path[PATH_MAX];
	time_t		 cutoff;
	size_t		 i, swept = 0;
	bool		 deleted;

	(void)arg;
	if (bcfg == NULL)
		return;
	cutoff = time(NULL) - (time_t)grace_s;
	clock_ms_to_iso((int64_t)cutoff * 1000, before);
	if ((vs.v = calloc(SWEEP_BATCH, sizeof(*vs.v))) == NULL)
		return;
	do {
		vs.n = 0;
		if (store_blob_temp_list(before, SWEEP_BATCH, victim_cb,
		    &vs) != PDS_OK)
			break;
		for (i = 0; i < vs.n; i++) {
			pthread_mutex_lock(&file_mu);
			if (store_blob_temp_delete(vs.v[i].did, vs.v[i].cid,
			    before, &deleted) == PDS_OK && deleted) {
				swept++;
				if (blob_path(path, sizeof(path), vs.v[i].did,
				    vs.v[i].cid) == PDS_OK &&
				    unlink(path) == -1 && errno != ENOENT)
					log_warn("blobs: unlink %s", path);
			}
			pthread_mutex_unlock(&file_mu);
		}
	} while (vs.n == SWEEP_BATCH);
	free(vs.v);
	sweep_tmp_dir(cutoff);
	if (swept > 0)
		log_info("blobs: swept %zu unreferenced uploads", swept);
}

/* ---- module --------------------------------------------------------- */

static int
blobs_init(const struct config *cfg)
{
	uint64_t	 every;

	bcfg = cfg;
	grace_s = cfg->blob_temp_grace_s;	/* config.c checked the range */
	if (grace_s < 3600)
		log_warnx("blobs: temporary uploads are swept after only "
		    "%llds (the spec asks for at least 1 h)",
		    (long long)grace_s);
	if (mkdir_p(cfg->blobstore_dir) != PDS_OK ||
	    mkdir_p(cfg->blobstore_tmp_dir) != PDS_OK) {
		log_warn("blobs: cannot create %s", cfg->blobstore_dir);
		return -1;
	}
	every = (uint64_t)grace_s * 1000 / 4;
	if (every > 600000)
		every = 600000;
	if (every < 500)
		every = 500;
	return jobs_add("blob sweep", every, blobs_sweep, NULL) == PDS_OK ?
	    0 : -1;
}

PDSD_MODULE(blobs, blobs_init, NULL);
