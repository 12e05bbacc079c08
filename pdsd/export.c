/*
 * export: `pdsctl export ACCOUNT|--all DIR', every member's data in
 * files they can take away (layout in export.h).
 *
 * The work runs on its own thread, like a backup; the admin stream
 * reports progress per account and per blob.  Every file is written
 * under a temporary name, synced and renamed; manifest.json last.  A
 * second run over the same DIR skips each account whose manifest says
 * complete and whose files all still match it, and reuses every blob
 * file whose content still hashes to its CID: an export cut short is
 * resumed by running it again.
 *
 * Blobs are read through blobs_open() (blobs.c), never from the
 * store's directory, so another blob store can stand in.
 *
 * The job plumbing (a thread, a mutex-guarded progress, the stream's
 * ticks) is shared with import.c through export_int.h.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "admin_service.h"
#include "admin_socket.h"
#include "adminproto.h"
#include "bgjob.h"
#include "blobs.h"
#include "buf.h"
#include "car.h"
#include "cid.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "export.h"
#include "exportkey.h"
#include "export_int.h"
#include "keys.h"
#include "log.h"
#include "manifest.h"
#include "module.h"
#include "plc_client.h"
#include "repo.h"
#include "store.h"
#include "store_account.h"
#include "store_prefs.h"
#include "store_repo.h"
#include "strv.h"
#include "syntax.h"

#define TICK_MS		250
#define BLOB_PAGE	500

const struct config		*xcfg_export;
/* export or import */
static struct bgjob_slot	 slot = BGJOB_SLOT_INITIALIZER;

/* ---- the job ------------------------------------------------------ */

void
xjob_unref(struct xjob *j)
{
	if (!bgjob_release(&j->bg))
		return;
	if (j->dirfd != -1)
		close(j->dirfd);
	strv_free(j->dids, j->ndids);
	json_decref(j->extra);
	free(j);
}

void
xjob_fail(struct xjob *j, int rc, const char *name, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	bgjob_vfail(&j->bg, rc, name, fmt, ap);
	va_end(ap);
}

void
xjob_progress(struct xjob *j, size_t acc_done, const char *did,
    size_t blobs_done, size_t blobs_total)
{
	pthread_mutex_lock(&j->bg.mu);
	j->acc_done = acc_done;
	if (did != NULL)
		snprintf(j->cur, sizeof(j->cur), "%s", did);
	j->blobs_done = blobs_done;
	j->blobs_total = blobs_total;
	j->serial++;
	pthread_mutex_unlock(&j->bg.mu);
}

static enum admin_stream_rc
xjob_tick(struct admin_call *call, void *state, int *next_ms)
{
	struct xjob	*j = state;
	json_t		*ev, *res;
	unsigned	 serial;
	bool		 done;

	pthread_mutex_lock(&j->bg.mu);
	done = j->bg.done;
	serial = j->serial;
	if (serial != j->reported) {
		j->reported = serial;
		ev = json_pack("{s:s,s:I,s:I,s:s,s:I,s:I,s:i}", "phase",
		    j->what, "accountsDone", (json_int_t)j->acc_done,
		    "accountsTotal", (json_int_t)j->acc_total, "did", j->cur,
		    "blobsDone", (json_int_t)j->blobs_done, "blobsTotal",
		    (json_int_t)j->blobs_total, "percent", j->acc_total == 0 ?
		    100 : (int)(j->acc_done * 100 / j->acc_total));
	} else
		ev = NULL;
	pthread_mutex_unlock(&j->bg.mu);
	if (ev != NULL)
		admin_stream_event(call, ev);
	json_decref(ev);
	if (!done) {
		*next_ms = TICK_MS;
		return ADMIN_STREAM_MORE;
	}
	if (j->bg.rc != PDS_OK)
		return bgjob_stream_error(call, &j->bg);
	res = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:f}", "dir", j->dest,
	    "accounts", (json_int_t)j->acc_total, "skipped",
	    (json_int_t)j->skipped, "blobs", (json_int_t)j->blobs,
	    "blobsReused", (json_int_t)j->reused, "bytes",
	    (json_int_t)j->bytes, "seconds", j->seconds);
	if (res != NULL && j->extra != NULL)
		json_object_update(res, j->extra);
	call->result = res;
	return ADMIN_STREAM_END;
}

static void
xjob_free(void *state)
{
	struct xjob	*j = state;

	bgjob_cancel(&j->bg);
	xjob_unref(j);
}

static const struct admin_stream_ops xjob_ops = { xjob_tick, xjob_free };

static void *
xjob_main(void *arg)
{
	struct xjob	*j = arg;
	double		 t0 = clock_mono_s();

	j->run(j);
	store_thread_close();
	pthread_mutex_lock(&j->bg.mu);
	j->seconds = clock_mono_s() - t0;
	j->bg.done = true;
	j->serial++;
	pthread_mutex_unlock(&j->bg.mu);
	bgjob_audit(&j->bg, &j->actor, j->what, j->dest);
	bgjob_finished(&slot);
	xjob_unref(j);
	return NULL;
}

struct xjob *
xjob_new(struct admin_call *call, const char *what, const char *dest,
    int dirfd, void (*run)(struct xjob *))
{
	struct xjob	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	bgjob_init(&j->bg);
	j->dirfd = dirfd;
	j->uid = call->peer_uid;
	j->actor = *call->actor;
	j->what = what;
	j->run = run;
	j->reported = (unsigned)-1;
	snprintf(j->dest, sizeof(j->dest), "%s", dest);
	return j;
}

int
xjob_start(struct admin_call *call, struct xjob *j)
{
	int	 rc;

	if ((rc = bgjob_start(&slot, &j->bg, j, xjob_main, call,
	    &xjob_ops)) == PDS_OK)
		return PDS_OK;
	xjob_unref(j);
	if (rc == PDS_EEXIST)
		return bgjob_refuse(call, rc, AP_E_NOT_AVAILABLE,
		    "an export or import is already running");
	call->err.name = AP_E_INTERNAL;
	return rc;
}

int
export_open_dir(struct admin_call *call, const char *dest, int *fdp)
{
	struct stat	 st;
	int		 fd;

	*fdp = -1;
	if (dest == NULL || dest[0] != '/' || strlen(dest) >= PATH_MAX - 64)
		return bgjob_refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "the directory must be an absolute path");
	fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		if (fd != -1)
			close(fd);
		return bgjob_refuse(call, PDS_EIO, AP_E_IO_ERROR,
		    "cannot open the directory (it must exist)");
	}
	if (call->peer_uid != 0 && call->peer_uid != geteuid() &&
	    st.st_uid != call->peer_uid) {
		close(fd);
		return bgjob_refuse(call, PDS_EINVAL, AP_E_PERMISSION_DENIED,
		    "the directory must be one you own");
	}
	*fdp = fd;
	return PDS_OK;
}

/* ---- files ---------------------------------------------------------- */

void
xjob_own(struct xjob *j, int dirfd, const char *name)
{
	if (j->uid != geteuid() && fchownat(dirfd, name, j->uid, (gid_t)-1,
	    AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("export: chown %s", name);
}

struct fout {
	int				 fd;
	crypto_hash_sha256_state	 hs;
	int64_t				 size;
	char				 tmp[NAME_MAX + 1];
};

static int
fout_open(struct xjob *j, int dirfd, const char *name, struct fout *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), ".%.200s.tmp", name);
	f->fd = openat(dirfd, f->tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f->fd == -1)
		return PDS_EIO;
	crypto_hash_sha256_init(&f->hs);
	return PDS_OK;
}

static int
fout_write(void *arg, const uint8_t *p, size_t n)
{
	struct fout	*f = arg;

	crypto_hash_sha256_update(&f->hs, p, n);
	f->size += (int64_t)n;
	return manifest_write_all(f->fd, p, n);
}

/* Sync, rename into place and list it; on failure remove it. */
static int
fout_finish(struct xjob *j, int dirfd, const char *name, const char *path,
    struct fout *f, int rc, json_t *files)
{
	uint8_t	 sha[32];
	json_t	*e;

	crypto_hash_sha256_final(&f->hs, sha);
	if (rc == PDS_OK && fsync(f->fd) == -1)
		rc = PDS_EIO;
	if (close(f->fd) == -1 && rc == PDS_OK)
		rc = PDS_EIO;
	if (rc == PDS_OK && renameat(dirfd, f->tmp, dirfd, name) == -1)
		rc = PDS_EIO;
	if (rc != PDS_OK) {
		(void)unlinkat(dirfd, f->tmp, 0);
		return rc;
	}
	xjob_own(j, dirfd, name);
	j->bytes += f->size;
	if ((e = manifest_entry(path, f->size, sha)) == NULL ||
	    json_array_append_new(files, e) == -1)
		return PDS_ENOMEM;
	return PDS_OK;
}

static int
write_json(struct xjob *j, int dirfd, const char *name, json_t *v,
    json_t *files, size_t flags)
{
	struct fout	 f;
	char		*s;
	int		 rc;

	if (v == NULL)
		return PDS_ENOMEM;
	s = json_dumps(v, JSON_INDENT(1) | JSON_SORT_KEYS | flags);
	json_decref(v);
	if (s == NULL)
		return PDS_ENOMEM;
	if ((rc = fout_open(j, dirfd, name, &f)) == PDS_OK) {
		rc = fout_write(&f, (const uint8_t *)s, strlen(s));
		rc = fout_finish(j, dirfd, name, name, &f, rc, files);
	}
	free(s);
	return rc;
}

/* Mark the file just listed as a secret in the manifest. */
static int
mark_secret(json_t *files)
{
	json_t	*e = json_array_get(files, json_array_size(files) - 1);

	return json_object_set_new(e, "secret", json_true()) == 0 ? PDS_OK :
	    PDS_ENOMEM;
}

/*
 * With --include-secrets: the password hash (secrets.json) and the
 * repo's signing key (signing-key.json), each mode 0600 and marked
 * "secret" in the manifest.
 */
static int
write_secrets(struct xjob *j, int adir, const char *did, json_t *files)
{
	struct pds_key	*key = NULL;
	struct fout	 f;
	char		 hash[SA_HASH_MAX], *text = NULL;
	size_t		 len = 0;
	int		 rc;

	if ((rc = store_account_password_hash(did, hash, sizeof(hash))) !=
	    PDS_OK)
		return rc;
	rc = write_json(j, adir, "secrets.json", json_pack("{s:s}",
	    "passwordHash", hash), files, 0);
	sodium_memzero(hash, sizeof(hash));
	if (rc == PDS_OK)
		rc = mark_secret(files);
	if (rc == PDS_OK && (rc = account_signing_key(did, &key)) == PDS_OK)
		rc = exportkey_format(did, key, &text, &len);
	key_free(key);
	if (rc == PDS_OK && (rc = fout_open(j, adir, EXPORTKEY_FILE, &f)) ==
	    PDS_OK) {
		rc = fout_write(&f, (const uint8_t *)text, len);
		rc = fout_finish(j, adir, EXPORTKEY_FILE, EXPORTKEY_FILE, &f,
		    rc, files);
	}
	if (text != NULL) {
		sodium_memzero(text, len);
		free(text);
	}
	if (rc == PDS_OK)
		rc = mark_secret(files);
	return rc;
}

/* ---- one account ---------------------------------------------------- */

struct cids {
	char	**v;
	size_t	  n, cap;
};

static int
cid_cb(void *arg, const char *cid)
{
	struct cids	*c = arg;
	char		**nv;

	if (c->n == c->cap) {
		c->cap = c->cap == 0 ? 64 : c->cap * 2;
		if ((nv = reallocarray(c->v, c->cap, sizeof(*nv))) == NULL)
			return PDS_ENOMEM;
		c->v = nv;
	}
	if ((c->v[c->n] = strdup(cid)) == NULL)
		return PDS_ENOMEM;
	c->n++;
	return 0;
}

static void
cids_clear(struct cids *c)
{
	strv_free(c->v, c->n);
}

/* The blobs the repo references, in the read transaction of the CAR. */
static int
list_blobs(const char *did, struct cids *c)
{
	const char	*cursor = NULL;
	size_t		 before;
	int		 rc;

	do {
		before = c->n;
		rc = store_blob_list(did, NULL, cursor, BLOB_PAGE, cid_cb, c);
		cursor = c->n > before ? c->v[c->n - 1] : NULL;
	} while (rc == PDS_OK && c->n - before == BLOB_PAGE);
	return rc;
}

/*
 * repo.car, and the CIDs of the blobs its records reference (*c), from
 * one snapshot.
 */
static int
write_car(struct xjob *j, int dirfd, const char *did, json_t *files,
    json_t *info, struct cids *c)
{
	struct store_bs	 sbs;
	struct blockstore bs;
	struct cid	 commit;
	struct fout	 f;
	char		 rev[TID_LEN + 1], cs[CID_STR_MAX];
	const char	*why = NULL;
	int		 rc;

	if ((rc = fout_open(j, dirfd, "repo.car", &f)) != PDS_OK)
		return rc;
	if ((rc = store_repo_read_begin()) == PDS_OK) {
		store_bs_init(&sbs, did);
		bs = store_bs_store(&sbs);
		rc = store_repo_root_get(did, &commit, rev);
		if (rc == PDS_OK)
			rc = repo_export(&bs, &commit, fout_write, &f, &why);
		if (rc == PDS_OK)
			rc = list_blobs(did, c);
		store_bs_clear(&sbs);
		store_repo_read_end();
	}
	if (rc == PDS_OK) {
		cid_format(&commit, cs, sizeof(cs));
		json_object_set_new(info, "commit", json_string(cs));
		json_object_set_new(info, "rev", json_string(rev));
	} else
		log_warnx("export %s: repo: %s", did, why != NULL ? why :
		    pds_strerror(rc));
	return fout_finish(j, dirfd, "repo.car", "repo.car", &f, rc, files);
}

/* An existing blob file whose bytes hash to its name: keep it. */
static bool
blob_file_ok(int dirfd, const char *cid, uint8_t sha[32], int64_t *size)
{
	struct cid	 c, want;
	int		 fd, rc;

	if ((fd = openat(dirfd, cid, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return false;
	rc = manifest_copy_fd(fd, -1, INT64_MAX, sha, size, NULL, NULL);
	close(fd);
	if (rc != PDS_OK || cid_parse(&c, cid, strlen(cid), NULL) != PDS_OK)
		return false;
	cid_from_digest(&want, CID_CODEC_RAW, sha);
	return cid_equal(&c, &want);
}

static int
write_blob(struct xjob *j, int bdir, const char *did, const char *cid,
    json_t *files, json_t *missing)
{
	struct cid	 c, want;
	struct fout	 f;
	uint8_t		 sha[32];
	char		 path[CID_STR_MAX + 8];
	int64_t		 size, bsize;
	int		 in, rc;

	snprintf(path, sizeof(path), "blobs/%s", cid);
	if (blob_file_ok(bdir, cid, sha, &size)) {
		j->reused++;
		j->blobs++;
		return json_array_append_new(files, manifest_entry(path, size,
		    sha)) == 0 ? PDS_OK : PDS_ENOMEM;
	}
	if (cid_parse(&c, cid, strlen(cid), NULL) != PDS_OK)
		return PDS_EINVAL;
	rc = blobs_open(did, &c, &in, &bsize);
	if (rc == PDS_ENOTFOUND) {
		log_warnx("export %s: blob %s is referenced but missing", did,
		    cid);
		return json_array_append_new(missing, json_string(cid)) == 0 ?
		    PDS_OK : PDS_ENOMEM;
	}
	if (rc != PDS_OK)
		return rc;
	if ((rc = fout_open(j, bdir, cid, &f)) != PDS_OK) {
		close(in);
		return rc;
	}
	rc = manifest_copy_fd(in, f.fd, INT64_MAX, sha, &size, NULL, NULL);
	close(in);
	if (rc == PDS_OK) {
		/* the copy hashed it: check it against the CID */
		cid_from_digest(&want, CID_CODEC_RAW, sha);
		if (!cid_equal(&c, &want))
			rc = PDS_EMISMATCH;
	}
	if (rc == PDS_OK && fsync(f.fd) == -1)
		rc = PDS_EIO;
	if (close(f.fd) == -1 && rc == PDS_OK)
		rc = PDS_EIO;
	if (rc == PDS_OK && renameat(bdir, f.tmp, bdir, cid) == -1)
		rc = PDS_EIO;
	if (rc != PDS_OK) {
		(void)unlinkat(bdir, f.tmp, 0);
		return rc;
	}
	xjob_own(j, bdir, cid);
	j->bytes += size;
	j->blobs++;
	return json_array_append_new(files, manifest_entry(path, size, sha)) ==
	    0 ? PDS_OK : PDS_ENOMEM;
}

static int
write_blobs(struct xjob *j, int adir, const char *did, json_t *files,
    json_t *info, const struct cids *cl)
{
	const struct cids c = *cl;
	json_t		*missing = json_array();
	size_t		 i;
	int		 bdir, rc = PDS_OK;

	if (missing == NULL)
		return PDS_ENOMEM;
	if (mkdirat(adir, "blobs", 0700) == 0)
		xjob_own(j, adir, "blobs");
	bdir = rc != PDS_OK ? -1 : openat(adir, "blobs", O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rc == PDS_OK && bdir == -1)
		rc = PDS_EIO;
	for (i = 0; rc == PDS_OK && i < c.n; i++) {
		if (bgjob_aborted(&j->bg))
			rc = PDS_EIO;
		else
			rc = write_blob(j, bdir, did, c.v[i], files, missing);
		xjob_progress(j, j->acc_done, NULL, i + 1, c.n);
	}
	if (bdir != -1) {
		if (rc == PDS_OK && fsync(bdir) == -1)
			rc = PDS_EIO;
		close(bdir);
	}
	json_object_set_new(info, "blobs", json_integer((json_int_t)c.n));
	json_object_set_new(info, "missingBlobs", missing);
	return rc;
}

static int
pref_cb(void *arg, const struct store_pref *p)
{
	json_t	*v = json_loads(p->value_json, 0, NULL);

	if (v == NULL)
		return PDS_EINVAL;
	return json_array_append_new(arg, v) == 0 ? 0 : PDS_ENOMEM;
}

/* Whether adir holds a complete export that still matches its manifest. */
static bool
already_done(struct xjob *j, int adir)
{
	struct manifest	 m;
	char		*buf;
	size_t		 len, i;
	bool		 ok;

	if (manifest_read_file(adir, EXPORT_MANIFEST, MANIFEST_MAX_BYTES,
	    &buf, &len) != PDS_OK)
		return false;
	ok = manifest_parse(buf, len, EXPORT_FORMAT, &m, NULL, 0) == PDS_OK &&
	    json_is_true(json_object_get(m.doc, "complete")) &&
	    json_is_true(json_object_get(m.doc, "secrets")) == j->secrets &&
	    (!j->secrets || manifest_find(&m, EXPORTKEY_FILE) != NULL);
	free(buf);
	for (i = 0; ok && i < m.nfiles; i++) {
		uint8_t	 sha[32];
		int64_t	 size;
		int	 fd;

		fd = openat(adir, m.files[i].path, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC);
		ok = fd != -1 && manifest_copy_fd(fd, -1, m.files[i].size,
		    sha, &size, NULL, NULL) == PDS_OK && size ==
		    m.files[i].size && memcmp(sha, m.files[i].sha256, 32) == 0;
		if (fd != -1)
			close(fd);
	}
	manifest_clear(&m);
	return ok;
}

/*
 * Export one account into its directory.  On failure *why says which
 * step failed when it is not the files (the DID's document or its PLC
 * log: the directory may be down or may not know the DID).
 */
static int
export_account(struct xjob *j, const char *did, char *why, size_t whylen)
{
	struct store_account a;
	json_t		*files, *info, *prefs, *man;
	json_t		*doc = NULL, *audit = NULL;
	struct cids	 cl = { NULL, 0, 0 };
	char		 err[PLC_CLIENT_ERR_MAX], now[CLOCK_ISO_LEN];
	int		 adir, rc;

	if ((rc = store_account_get(SA_BY_DID, did, &a)) != PDS_OK)
		return rc;
	if (mkdirat(j->dirfd, did, 0700) == 0)
		xjob_own(j, j->dirfd, did);
	else if (errno != EEXIST)
		return PDS_EIO;
	adir = openat(j->dirfd, did, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (adir == -1)
		return PDS_EIO;
	if (already_done(j, adir)) {
		j->skipped++;
		close(adir);
		return PDS_OK;
	}
	(void)unlinkat(adir, EXPORT_MANIFEST, 0);
	files = json_array();
	info = json_object();
	rc = write_json(j, adir, "account.json", json_pack(
	    "{s:s,s:s,s:s,s:s,s:s}", "did", a.did, "handle", a.handle,
	    "email", a.email, "createdAt", a.created_at, "status",
	    acct_status_name(a.status)), files, 0);
	if (rc == PDS_OK)
		rc = write_car(j, adir, did, files, info, &cl);
	if (rc == PDS_OK)
		rc = write_blobs(j, adir, did, files, info, &cl);
	cids_clear(&cl);
	if (rc == PDS_OK) {
		prefs = json_array();
		rc = store_prefs_list(did, pref_cb, prefs);
		if (rc == PDS_OK)
			rc = write_json(j, adir, "preferences.json",
			    json_pack("{s:o}", "preferences", prefs), files, 0);
		else
			json_decref(prefs);
	}
	if (rc == PDS_OK && (rc = account_did_doc(did, &doc)) != PDS_OK)
		(void)snprintf(why, whylen, "its DID document could not be "
		    "resolved: %s", pds_strerror(rc));
	else if (rc == PDS_OK)
		rc = write_json(j, adir, "did.json", doc, files, 0);
	if (rc == PDS_OK && strncmp(did, "did:plc:", 8) == 0) {
		rc = plc_client_get_audit(did, &audit, err, sizeof(err));
		if (rc != PDS_OK)
			(void)snprintf(why, whylen, "its PLC log could not be "
			    "fetched: %s", err);
		else
			rc = write_json(j, adir, "plc-audit.json", audit, files,
			    0);
	}
	if (rc == PDS_OK && j->secrets)
		rc = write_secrets(j, adir, did, files);
	if (rc == PDS_OK) {
		clock_ms_to_iso(clock_wall_ms(), now);
		man = json_pack("{s:s,s:i,s:s,s:s,s:s,s:b,s:b,s:s,s:O,s:O}",
		    "format", EXPORT_FORMAT, "version", MANIFEST_VERSION,
		    "did", did, "handle", a.handle, "exportedAt", now,
		    "complete", 1, "secrets", j->secrets, "server",
		    xcfg_export->public_url, "repo", info, "files", files);
		rc = write_json(j, adir, EXPORT_MANIFEST, man,
		    json_array(), 0);
	}
	if (rc == PDS_OK && fsync(adir) == -1)
		rc = PDS_EIO;
	json_decref(files);
	json_decref(info);
	close(adir);
	return rc;
}

static void
export_run(struct xjob *j)
{
	char	 why[PLC_CLIENT_ERR_MAX + 64];
	size_t	 i;
	int	 rc = PDS_OK;

	for (i = 0; rc == PDS_OK && i < j->ndids; i++) {
		xjob_progress(j, i, j->dids[i], 0, 0);
		if (bgjob_aborted(&j->bg)) {
			xjob_fail(j, PDS_EIO, AP_E_IO_ERROR, "%s",
			    "the export was cancelled");
			return;
		}
		why[0] = '\0';
		rc = export_account(j, j->dids[i], why, sizeof(why));
		if (rc != PDS_OK) {
			if (why[0] != '\0')
				log_warnx("export %s: %s", j->dids[i], why);
			xjob_fail(j, rc, AP_E_IO_ERROR, "exporting %.100s "
			    "failed: %s (run it again to resume)", j->dids[i],
			    why[0] != '\0' ? why : pds_strerror(rc));
		}
	}
	if (rc == PDS_OK && fsync(j->dirfd) == -1)
		xjob_fail(j, PDS_EIO, AP_E_IO_ERROR, "%s", "sync failed");
	xjob_progress(j, i, NULL, 0, 0);
	if (rc == PDS_OK)
		log_info("export to %s: %zu accounts (%zu unchanged), %zu "
		    "blobs (%zu kept), %lld bytes", j->dest, j->ndids,
		    j->skipped, j->blobs, j->reused, (long long)j->bytes);
}

/* ---- the command ---------------------------------------------------- */

static int
add_did(struct xjob *j, const char *did)
{
	char	**nv;

	if ((nv = reallocarray(j->dids, j->ndids + 1, sizeof(*nv))) == NULL)
		return PDS_ENOMEM;
	j->dids = nv;
	if ((j->dids[j->ndids] = strdup(did)) == NULL)
		return PDS_ENOMEM;
	j->ndids++;
	return PDS_OK;
}

static int
add_all(struct xjob *j, struct admin_call *call)
{
	json_t		*page, *acc;
	const char	*cursor = NULL;
	char		 cur[SA_DID_MAX + 64] = "";
	size_t		 i;
	int		 rc;

	do {
		rc = admin_account_list(NULL, cursor, 500, &page, &call->err);
		if (rc != PDS_OK)
			return rc;
		json_array_foreach(json_object_get(page, "accounts"), i, acc)
			if ((rc = add_did(j, json_string_value(json_object_get(
			    acc, "did")))) != PDS_OK)
				break;
		cursor = json_string_value(json_object_get(page, "cursor"));
		if (cursor != NULL) {
			snprintf(cur, sizeof(cur), "%s", cursor);
			cursor = cur;
		}
		json_decref(page);
	} while (rc == PDS_OK && cursor != NULL);
	return rc;
}

int
admin_export_start(struct admin_call *call)
{
	const json_t		*accts = json_object_get(call->args,
				    "accounts"), *v;
	struct store_account	 a;
	struct xjob		*j;
	const char		*dest = json_string_value(json_object_get(
				    call->args, "dest"));
	size_t			 i;
	int			 fd, rc;
	bool			 all;

	if (xcfg_export == NULL)
		return bgjob_refuse(call, PDS_EINVAL, AP_E_NOT_AVAILABLE,
		    "exports are not set up");
	all = json_is_true(json_object_get(call->args, "all"));
	if (all == (json_array_size(accts) > 0))
		return bgjob_refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "give accounts or all, not both");
	if ((rc = export_open_dir(call, dest, &fd)) != PDS_OK)
		return rc;
	if ((j = xjob_new(call, "export", dest, fd, export_run)) == NULL) {
		close(fd);
		return PDS_ENOMEM;
	}
	j->secrets = json_is_true(json_object_get(call->args, "secrets"));
	rc = all ? add_all(j, call) : PDS_OK;
	json_array_foreach(accts, i, v) {
		if (rc != PDS_OK)
			break;
		if (!json_is_string(v)) {
			rc = bgjob_refuse(call, PDS_EINVAL,
			    AP_E_INVALID_ARGUMENT, "accounts are strings");
			break;
		}
		if ((rc = admin_account_resolve(json_string_value(v), &a,
		    &call->err)) == PDS_OK)
			rc = add_did(j, a.did);
	}
	if (rc != PDS_OK) {
		xjob_unref(j);
		return rc;
	}
	j->acc_total = j->ndids;
	return xjob_start(call, j);
}

static int
export_init(const struct config *cfg)
{
	xcfg_export = cfg;
	return PDS_OK;
}

/* At shutdown: stop a running export or import and wait for it. */
static void
export_fini(void)
{
	bgjob_stop(&slot);
	xcfg_export = NULL;
}

PDSD_MODULE(export, export_init, export_fini)
