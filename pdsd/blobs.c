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

#include <jansson.h>
#include <sodium.h>

#include "blobs.h"
#include "blobstore.h"
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

/* ---- the store ---------------------------------------------------- */

static bool
did_ok(const char *did)
{
	return syntax_is_did(did, strlen(did)) && strchr(did, '/') == NULL;
}

/*
 * active takes new uploads; other (when configured) is the store a
 * blob may still be in while `pdsctl blobstore migrate` runs: reads
 * that miss in active try it, removals and takedowns touch both.
 */
static const struct blobstore_ops *active = &blobstore_disk_ops;
static const struct blobstore_ops *other;

/*
 * Uploads between their put() and their row (under file_mu): a removal
 * of the same blob meanwhile leaves the stored bytes alone, since the
 * row is about to come back.
 */
#define PENDING_MAX	256
static struct pending {
	char	did[DID_MAX + 1];
	char	cid[CID_STR_MAX];
	bool	used;
} pending[PENDING_MAX];

static int
pending_add(const char *did, const char *cid)
{
	size_t	 i;

	for (i = 0; i < PENDING_MAX; i++)
		if (!pending[i].used) {
			snprintf(pending[i].did, sizeof(pending[i].did), "%s",
			    did);
			snprintf(pending[i].cid, sizeof(pending[i].cid), "%s",
			    cid);
			pending[i].used = true;
			return (int)i;
		}
	return -1;
}

static bool
pending_has(const char *did, const char *cid)
{
	size_t	 i;

	for (i = 0; i < PENDING_MAX; i++)
		if (pending[i].used && strcmp(pending[i].cid, cid) == 0 &&
		    strcmp(pending[i].did, did) == 0)
			return true;
	return false;
}

/* Remove a blob's bytes from every store (under file_mu). */
static void
bytes_remove(const char *did, const char *cid)
{
	if (pending_has(did, cid))
		return;
	(void)active->remove(did, cid);
	if (other != NULL)
		(void)other->remove(did, cid);
}

static char *
now_ts(char *now)
{
	store_timestamp(now);
	return now;
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
	u->fd = open(u->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
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
	char		 cs[CID_STR_MAX];
	char		 now[STORE_TS_LEN];
	const char	*sniffed;
	bool		 consumed = false;
	int		 rc, slot;

	if (u->failed || u->fd == -1 || !did_ok(did))
		return u->failed || u->fd == -1 ? PDS_EIO : PDS_EINVAL;
	crypto_hash_sha256_final(&u->hs, digest);
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

	pthread_mutex_lock(&file_mu);
	slot = pending_add(did, cs);
	pthread_mutex_unlock(&file_mu);
	if (slot == -1)
		return PDS_EBUSY;
	rc = active->put(did, cs, u->tmp, u->fd, out->size, digest,
	    &consumed);
	if (consumed)
		u->stored = true;
	pthread_mutex_lock(&file_mu);
	pending[slot].used = false;
	if (rc == PDS_OK)
		rc = store_blob_uploaded(did, &out->cid, out->mime, out->size,
		    u->key, now_ts(now));
	pthread_mutex_unlock(&file_mu);
	close(u->fd);
	u->fd = -1;
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
blobs_open_range(const char *did, const struct cid *cid, int64_t off,
    int64_t len, struct blobstore_read *r)
{
	char	 cs[CID_STR_MAX];
	int	 rc;

	if (bcfg == NULL || !did_ok(did))
		return bcfg == NULL ? PDS_EIO : PDS_EINVAL;
	cid_format(cid, cs, sizeof(cs));
	rc = active->open(did, cs, off, len, r);
	if (rc == PDS_ENOTFOUND && other != NULL)
		rc = other->open(did, cs, off, len, r);
	return rc;
}

int
blobs_open(const char *did, const struct cid *cid, int *fdp, int64_t *size)
{
	struct blobstore_read r;
	int	 rc;

	if ((rc = blobs_open_range(did, cid, 0, -1, &r)) != PDS_OK)
		return rc;
	if (r.fd == -1) {		/* a stream: not a file */
		blobstore_stream_free(r.stream);
		return PDS_EUNSUPP;
	}
	*fdp = r.fd;
	*size = r.total;
	return PDS_OK;
}

void
blobs_read_done(struct blobstore_read *r)
{
	if (r->fd != -1)
		close(r->fd);
	r->fd = -1;
	blobstore_stream_free(r->stream);
	r->stream = NULL;
}

/* ---- removal -------------------------------------------------------- */

void
blobs_forget_files(const char *did, const char *cids, size_t len)
{
	const char	*p, *end = cids + len;
	bool		 exists;

	if (bcfg == NULL || !did_ok(did))
		return;
	for (p = cids; p < end; p += strlen(p) + 1) {
		pthread_mutex_lock(&file_mu);
		if (store_blob_exists(did, p, &exists) == PDS_OK && !exists)
			bytes_remove(did, p);
		pthread_mutex_unlock(&file_mu);
	}
}

int
blobs_delete_account(const char *did)
{
	int	 rc;

	if (bcfg == NULL)
		return PDS_EIO;
	if (!did_ok(did))
		return PDS_EINVAL;
	pthread_mutex_lock(&file_mu);
	rc = active->remove_account(did);
	if (other != NULL && rc == PDS_OK)
		rc = other->remove_account(did);
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
	return active->name;
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
	if (active != &blobstore_disk_ops)
		return PDS_EUNSUPP;	/* S3: the objects stay in the bucket */
	if ((rc = blobstore_disk_path(path, sizeof(path), did, cid)) !=
	    PDS_OK)
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

int
blobs_quarantine(const char *did, const char *cid, bool on)
{
	int	 rc, rc2 = PDS_OK;

	if (bcfg == NULL)
		return PDS_EIO;
	if (!did_ok(did))
		return PDS_EINVAL;
	pthread_mutex_lock(&file_mu);
	rc = active->quarantine(did, cid, on);
	if (other != NULL)
		rc2 = other->quarantine(did, cid, on);
	pthread_mutex_unlock(&file_mu);
	if (rc == PDS_ENOTFOUND)
		rc = rc2;
	return rc == PDS_ENOTFOUND ? PDS_OK : rc;
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
	char		 before[STORE_TS_LEN];
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
				bytes_remove(vs.v[i].did, vs.v[i].cid);
			}
			pthread_mutex_unlock(&file_mu);
		}
	} while (vs.n == SWEEP_BATCH);
	free(vs.v);
	sweep_tmp_dir(cutoff);
	if (blobstore_s3_configured())
		(void)blobstore_s3_sweep(before);
	if (swept > 0)
		log_info("blobs: swept %zu unreferenced uploads", swept);
}

/* ---- choosing the store -------------------------------------------- */

#define ACTIVE_FILE	"blobstore.active"

static int
active_file(char *out, size_t cap)
{
	int	 n = snprintf(out, cap, "%s/%s", bcfg->data_dir, ACTIVE_FILE);

	return n < 0 || (size_t)n >= cap ? PDS_ETOOBIG : PDS_OK;
}

/* What `pdsctl blobstore migrate` last chose, or -1. */
static int
active_saved(void)
{
	char	 path[PATH_MAX], v[16];
	FILE	*f;
	int	 k = -1;

	if (active_file(path, sizeof(path)) != PDS_OK ||
	    (f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(v, sizeof(v), f) != NULL) {
		v[strcspn(v, "\n")] = '\0';
		if (strcmp(v, "disk") == 0)
			k = BLOBSTORE_DISK;
		else if (strcmp(v, "s3") == 0)
			k = BLOBSTORE_S3;
	}
	fclose(f);
	return k;
}

/* Remember the choice (atomically: temp file, fsync, rename). */
static int
active_save(enum blobstore_kind k)
{
	char	 path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE	*f;
	int	 ok;

	if (active_file(path, sizeof(path)) != PDS_OK ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return PDS_ETOOBIG;
	if ((f = fopen(tmp, "w")) == NULL)
		return PDS_EIO;
	ok = fprintf(f, "%s\n", k == BLOBSTORE_S3 ? "s3" : "disk") > 0 &&
	    fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return PDS_EIO;
	}
	return PDS_OK;
}

static void
set_active(enum blobstore_kind k)
{
	bool	 s3 = blobstore_s3_configured();

	pthread_mutex_lock(&file_mu);
	active = k == BLOBSTORE_S3 ? &blobstore_s3_ops : &blobstore_disk_ops;
	other = !s3 ? NULL : k == BLOBSTORE_S3 ? &blobstore_disk_ops :
	    &blobstore_s3_ops;
	pthread_mutex_unlock(&file_mu);
}

static int
blobs_choose_store(const struct config *cfg)
{
	int	 saved;

	if (cfg->s3_bucket != NULL && blobstore_s3_init(cfg) != PDS_OK)
		return PDS_EINVAL;
	saved = active_saved();
	if (saved == BLOBSTORE_S3 && cfg->s3_bucket == NULL) {
		log_warnx("blobs: the blobs were moved to S3 (%s/%s says so) "
		    "but PDS_BLOBSTORE_S3_BUCKET is not set", cfg->data_dir,
		    ACTIVE_FILE);
		return PDS_EINVAL;
	}
	if (saved == -1)
		saved = cfg->s3_bucket != NULL ? BLOBSTORE_S3 : BLOBSTORE_DISK;
	set_active((enum blobstore_kind)saved);
	log_info("blobs: stored on %s%s%s", active->name,
	    other != NULL ? ", reads also look on " : "",
	    other != NULL ? other->name : "");
	return PDS_OK;
}

int
blobs_store_switch(int k)
{
	int	 rc;

	if (k == BLOBSTORE_S3 && !blobstore_s3_configured())
		return PDS_EINVAL;
	if ((rc = active_save(k)) != PDS_OK)
		return rc;
	set_active((enum blobstore_kind)k);
	return PDS_OK;
}

bool
blobs_store_remote(void)
{
	return blobstore_s3_configured();
}

/* ---- moving a blob between stores (blobstore migrate) ---------------- */

static const struct blobstore_ops *
ops_of(int kind)
{
	return kind == BLOBSTORE_S3 ? &blobstore_s3_ops : &blobstore_disk_ops;
}

/* Read all of rd into fd (from 0) while hashing; the digest in d. */
static int
copy_out(struct blobstore_read *rd, int fd, uint8_t d[32], int64_t *n)
{
	crypto_hash_sha256_state hs;
	char		 buf[65536];
	ssize_t		 got, w;
	size_t		 off;

	crypto_hash_sha256_init(&hs);
	*n = 0;
	for (;;) {
		if (rd->stream != NULL)
			got = blobstore_stream_read(rd->stream, buf,
			    sizeof(buf));
		else
			got = pread(rd->fd, buf, sizeof(buf), (off_t)*n);
		if (got == -1 && rd->stream == NULL && errno == EINTR)
			continue;
		if (got < 0)
			return PDS_EBUSY;
		if (got == 0)
			break;
		crypto_hash_sha256_update(&hs, (uint8_t *)buf, (size_t)got);
		for (off = 0; fd != -1 && off < (size_t)got; off += (size_t)w)
			if ((w = write(fd, buf + off, (size_t)got - off)) <= 0)
				return PDS_EIO;
		*n += got;
	}
	crypto_hash_sha256_final(&hs, d);
	return PDS_OK;
}

/* True when digest d is the one cid names. */
static bool
digest_is(const uint8_t d[32], const char *cid)
{
	struct cid	 c;
	char		 cs[CID_STR_MAX];

	cid_from_digest(&c, CID_CODEC_RAW, d);
	cid_format(&c, cs, sizeof(cs));
	return strcmp(cs, cid) == 0;
}

/* The bytes of did/cid in store o hash to cid. */
static int
verify_in(const struct blobstore_ops *o, const char *did, const char *cid,
    int64_t size)
{
	struct blobstore_read rd;
	uint8_t		 d[32];
	int64_t		 n;
	int		 rc;

	if ((rc = o->open(did, cid, 0, -1, &rd)) != PDS_OK)
		return rc;
	rc = copy_out(&rd, -1, d, &n);
	blobs_read_done(&rd);
	if (rc == PDS_OK && (n != size || !digest_is(d, cid)))
		rc = PDS_EMISMATCH;
	return rc;
}

static int
move_bytes(const struct blobstore_ops *f, const struct blobstore_ops *t,
    const char *did, const char *cid, int64_t size)
{
	struct blobstore_read rd;
	char		 tmp[PATH_MAX], key[2 * 12 + 1];
	uint8_t		 rnd[12], d[32];
	int64_t		 n;
	bool		 consumed = false;
	int		 fd, rc;

	if ((rc = f->open(did, cid, 0, -1, &rd)) != PDS_OK)
		return rc;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(key, sizeof(key), rnd, sizeof(rnd));
	if (snprintf(tmp, sizeof(tmp), "%s/m%s", bcfg->blobstore_tmp_dir,
	    key) >= (int)sizeof(tmp)) {
		blobs_read_done(&rd);
		return PDS_ETOOBIG;
	}
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		blobs_read_done(&rd);
		return PDS_EIO;
	}
	rc = copy_out(&rd, fd, d, &n);
	blobs_read_done(&rd);
	if (rc == PDS_OK && (n != size || !digest_is(d, cid)))
		rc = PDS_EMISMATCH;	/* the source is not what it should be */
	if (rc == PDS_OK)
		rc = t->put(did, cid, tmp, fd, n, d, &consumed);
	close(fd);
	if (!consumed)
		(void)unlink(tmp);
	if (rc == PDS_OK && (rc = verify_in(t, did, cid, size)) != PDS_OK)
		(void)t->remove(did, cid);
	return rc;
}

int
blobs_move(const char *did, const char *cid, int64_t size, bool takendown,
    int from, int to, enum blobs_moved *what)
{
	const struct blobstore_ops *f = ops_of(from), *t = ops_of(to);
	int64_t		 tsize;
	bool		 exists = false;
	int		 rc;

	*what = BLOBS_MOVE_FAILED;
	if (bcfg == NULL || !did_ok(did) || f == t ||
	    (to == BLOBSTORE_S3 && !blobstore_s3_configured()))
		return PDS_EINVAL;
	if (takendown) {	/* out of quarantine for the copy */
		if ((rc = f->quarantine(did, cid, false)) != PDS_OK &&
		    rc != PDS_ENOTFOUND)
			return rc;
		if ((rc = t->quarantine(did, cid, false)) != PDS_OK &&
		    rc != PDS_ENOTFOUND)
			return rc;
	}
	rc = move_bytes(f, t, did, cid, size);
	if (rc == PDS_ENOTFOUND) {
		/* moved by an earlier run (verified then), or lost */
		rc = t->stat(did, cid, &tsize);
		*what = rc == PDS_OK ? BLOBS_MOVE_ALREADY : BLOBS_MOVE_MISSING;
		rc = rc == PDS_ENOTFOUND ? PDS_OK : rc;
	} else if (rc == PDS_OK) {
		*what = BLOBS_MOVE_COPIED;
		pthread_mutex_lock(&file_mu);
		if (store_blob_exists(did, cid, &exists) == PDS_OK && exists)
			(void)f->remove(did, cid);
		else if (!pending_has(did, cid))
			(void)t->remove(did, cid);	/* deleted meanwhile */
		pthread_mutex_unlock(&file_mu);
	}
	if (takendown && *what != BLOBS_MOVE_MISSING && rc == PDS_OK)
		rc = t->quarantine(did, cid, true);
	if (rc != PDS_OK)
		*what = BLOBS_MOVE_FAILED;
	return rc;
}

json_t *
blobs_health_json(void)
{
	struct blobstore_health h;
	json_t		*o, *s3j;
	char		 at[CLOCK_ISO_LEN];

	if ((o = json_pack("{s:s}", "store", active->name)) == NULL)
		return NULL;
	blobstore_s3_health(&h);
	if (!h.configured)
		return o;
	if (h.last_error_at > 0)
		clock_ms_to_iso(h.last_error_at * 1000, at);
	s3j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:s?,s:s?}",
	    "endpoint", h.endpoint, "bucket", h.bucket,
	    "ok", (json_int_t)h.ok, "failed", (json_int_t)h.failed,
	    "retries", (json_int_t)h.retries, "lastMs", (json_int_t)h.last_ms,
	    "avgMs", (json_int_t)h.avg_ms,
	    "lastError", h.last_error_at > 0 ? h.last_error : NULL,
	    "lastErrorAt", h.last_error_at > 0 ? at : NULL);
	json_object_set_new(o, "s3", s3j);
	return o;
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
	if (blobstore_disk_init(cfg) != PDS_OK)
		return -1;
	if (blobs_choose_store(cfg) != PDS_OK)
		return -1;
	every = (uint64_t)grace_s * 1000 / 4;
	if (every > 600000)
		every = 600000;
	if (every < 500)
		every = 500;
	return jobs_add("blob sweep", every, blobs_sweep, NULL) == PDS_OK ?
	    0 : -1;
}

PDSD_MODULE(blobs, blobs_init, NULL);
