/*
 * import: `pdsctl import DIR', accounts back from what `pdsctl export'
 * wrote (layout in export.h), onto this server.
 *
 * The import runs in three passes, so that a bad directory changes
 * nothing:
 *  1. check: every account directory's manifest is read (untrusted:
 *     manifest.c, fuzzed) and must say complete; every file listed must
 *     be there with its size and SHA-256.  Any failure stops here.
 *     An export with signing keys (signing-key.json, exportkey.h): each
 *     key file must parse and be the key the DID document names now.
 *  2. load: per account, the migration-in machinery of migration.c: a
 *     deactivated account with the exported DID (account_create) and
 *     either the exported signing key, with the repo as it is
 *     (migration_restore_repo: the CAR's commit is checked against the
 *     DID's current key and the account's, and kept: the same head CID
 *     and rev), or a new signing key, with the repo signed again over
 *     the same tree (migration_import_repo); then every blob
 *     (blobs_upload), the preferences, and the password hash when the
 *     export carried one (secrets.json).  A failure removes every
 *     account this run created.
 *  3. move: per account, a PLC operation signed with this server's
 *     rotation key points the DID at this server: with a kept key, only
 *     its service endpoint changes (migration_plc_point_here), and no
 *     operation is needed when the DID names this server already (the
 *     same host restored on a new machine); with a new key, the
 *     endpoint and the key.  Then the account is activated (#account,
 *     #identity, #sync of the head).
 *     That needs our rotation key among the DID's rotation keys: the
 *     coop's own export, imported by a server that keeps the coop's
 *     PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX.  An account whose move
 *     fails stays deactivated with its data, and is reported; running
 *     the import again retries it (account_create purges an unfinished
 *     migration in).
 *
 * Without secrets.json a member sets a new password (pdsctl account
 * reset-password, or the email reset).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "admin_socket.h"
#include "adminproto.h"
#include "blobs.h"
#include "cid.h"
#include "config.h"
#include "err.h"
#include "export.h"
#include "export_int.h"
#include "exportkey.h"
#include "keys.h"
#include "log.h"
#include "manifest.h"
#include "migration.h"
#include "resolver.h"
#include "store.h"
#include "store_account.h"
#include "store_prefs.h"
#include "strv.h"
#include "syntax.h"

#define IMPORT_MAX_ACCOUNTS	100000
#define JSON_FILE_MAX		((size_t)16 << 20)
#define PREFS_MAX		1000

/*
 * An account directory: its DID; while a pass works on it, its
 * directory and manifest (one account at a time, so that neither
 * descriptors nor memory grow with the number of accounts).
 */
struct acct {
	char		*did;
	struct manifest	 m;
	int		 dirfd;
	bool		 created;
	bool		 keep;		/* it has its signing key */
};

/* A whole listed file into memory, at most max bytes. */
static int
slurp(int dirfd, const char *path, size_t max, char **buf, size_t *len)
{
	return manifest_read_file(dirfd, path, max, buf, len);
}

static json_t *
load_json(int dirfd, const char *path)
{
	char	*buf;
	size_t	 len;
	json_t	*v;

	if (slurp(dirfd, path, JSON_FILE_MAX, &buf, &len) != PDS_OK)
		return NULL;
	v = json_loadb(buf, len, 0, NULL);
	free(buf);
	return v;
}

static void
acct_close(struct acct *a)
{
	manifest_clear(&a->m);
	if (a->dirfd != -1)
		close(a->dirfd);
	a->dirfd = -1;
}

/* Open the account's directory and read its manifest (checked). */
static int
acct_open(struct xjob *j, struct acct *a)
{
	char		*buf, err[256];
	const char	*did;
	size_t		 len;
	int		 rc;

	memset(&a->m, 0, sizeof(a->m));
	a->dirfd = openat(j->dirfd, a->did, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (a->dirfd == -1) {
		xjob_fail(j, PDS_EIO, AP_E_IO_ERROR, "%.100s: cannot open",
		    a->did);
		return PDS_EIO;
	}
	rc = manifest_read_file(a->dirfd, EXPORT_MANIFEST, MANIFEST_MAX_BYTES,
	    &buf, &len);
	if (rc != PDS_OK) {
		xjob_fail(j, rc, AP_E_INVALID_ARGUMENT, "%.100s: no "
		    "manifest.json: the export of this account is unfinished",
		    a->did);
		return rc;
	}
	rc = manifest_parse(buf, len, EXPORT_FORMAT, &a->m, err, sizeof(err));
	free(buf);
	if (rc != PDS_OK) {
		xjob_fail(j, rc, AP_E_INVALID_ARGUMENT, "%.100s: %s", a->did,
		    err);
		return rc;
	}
	did = json_string_value(json_object_get(a->m.doc, "did"));
	if (did == NULL || strcmp(did, a->did) != 0 ||
	    !json_is_true(json_object_get(a->m.doc, "complete")) ||
	    manifest_find(&a->m, "repo.car") == NULL ||
	    manifest_find(&a->m, "account.json") == NULL) {
		xjob_fail(j, PDS_EINVAL, AP_E_INVALID_ARGUMENT, "%.100s: the "
		    "manifest is not of a complete export of this DID",
		    a->did);
		return PDS_EINVAL;
	}
	return PDS_OK;
}

/* ---- 1. check ------------------------------------------------------- */

/* The account's signing key file, parsed (*key: key_free() it). */
static int
read_key(struct xjob *j, struct acct *a, struct pds_key **key,
    char didkey[KEY_DIDKEY_MAX])
{
	char	*buf, err[256];
	size_t	 len;
	int	 rc;

	*key = NULL;
	rc = slurp(a->dirfd, EXPORTKEY_FILE, EXPORTKEY_MAX_BYTES, &buf, &len);
	if (rc != PDS_OK) {
		xjob_fail(j, rc, AP_E_INVALID_ARGUMENT, "%.100s/%s: "
		    "unreadable", a->did, EXPORTKEY_FILE);
		return rc;
	}
	rc = exportkey_parse(buf, len, a->did, key, didkey, err, sizeof(err));
	sodium_memzero(buf, len);
	free(buf);
	if (rc != PDS_OK)
		xjob_fail(j, rc, AP_E_INVALID_ARGUMENT, "%.100s/%s: %s",
		    a->did, EXPORTKEY_FILE, err);
	return rc;
}

/* The key file must hold the key the DID document names now. */
static int
check_key(struct xjob *j, struct acct *a)
{
	struct pds_key	*key, *pub = NULL;
	char		 didkey[KEY_DIDKEY_MAX];
	int		 rc;

	if ((rc = read_key(j, a, &key, didkey)) != PDS_OK)
		return rc;
	if ((rc = resolver_refresh(a->did)) == PDS_OK)
		rc = resolver_did_key(a->did, &pub);
	if (rc != PDS_OK)
		xjob_fail(j, PDS_EUPSTREAM, AP_E_UPSTREAM_FAILURE, "%.100s: "
		    "the DID document could not be read: %s", a->did,
		    pds_strerror(rc));
	else if (!key_equal(key, pub)) {
		rc = PDS_EMISMATCH;
		xjob_fail(j, rc, AP_E_INVALID_ARGUMENT, "%.100s/%s: %.80s is "
		    "not the signing key the DID document names (the DID "
		    "changed keys since the export, or the file is not this "
		    "account's)", a->did, EXPORTKEY_FILE, didkey);
	}
	key_free(pub);
	key_free(key);
	return rc;
}

static int
check_account(struct xjob *j, struct acct *a)
{
	const struct manifest_file *f;
	uint8_t		 sha[32];
	int64_t		 size;
	size_t		 i;
	int		 fd, rc;

	if ((rc = acct_open(j, a)) != PDS_OK)
		return rc;
	for (i = 0; i < a->m.nfiles; i++) {
		f = &a->m.files[i];
		fd = openat(a->dirfd, f->path, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC);
		rc = fd == -1 ? PDS_ENOTFOUND : manifest_copy_fd(fd, -1,
		    f->size, sha, &size, NULL, NULL);
		if (fd != -1)
			close(fd);
		if (rc == PDS_OK && (size != f->size ||
		    memcmp(sha, f->sha256, 32) != 0))
			rc = PDS_EMISMATCH;
		if (rc != PDS_OK) {
			xjob_fail(j, rc, AP_E_INVALID_ARGUMENT,
			    "%.100s/%.100s: %s", a->did, f->path,
			    rc == PDS_EMISMATCH ||
			    rc == PDS_ETOOBIG ? "does not match the manifest" :
			    "missing or unreadable");
			acct_close(a);
			return rc;
		}
	}
	a->keep = manifest_find(&a->m, EXPORTKEY_FILE) != NULL;
	rc = a->keep ? check_key(j, a) : PDS_OK;
	acct_close(a);
	return rc;
}

/* ---- 2. load -------------------------------------------------------- */

static bool
drop_all(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return true;
}

static int
load_prefs(struct acct *a)
{
	struct store_pref	*v = NULL;
	json_t			*doc, *arr, *p;
	char			**dumps = NULL;
	size_t			 i, n = 0;
	int			 rc = PDS_OK;

	if (manifest_find(&a->m, "preferences.json") == NULL)
		return PDS_OK;
	if ((doc = load_json(a->dirfd, "preferences.json")) == NULL)
		return PDS_EINVAL;
	arr = json_object_get(doc, "preferences");
	n = json_array_size(arr);
	if (n > 0 && ((v = calloc(n, sizeof(*v))) == NULL ||
	    (dumps = calloc(n, sizeof(*dumps))) == NULL))
		rc = PDS_ENOMEM;
	if (n > PREFS_MAX)
		rc = PDS_ETOOBIG;
	json_array_foreach(arr, i, p) {
		if (rc != PDS_OK)
			break;
		/* what putPreferences would take: app.bsky.* objects */
		v[i].name = json_string_value(json_object_get(p, "$type"));
		if (!json_is_object(p) || v[i].name == NULL ||
		    strncmp(v[i].name, "app.bsky.", 9) != 0) {
			rc = PDS_EINVAL;
			break;
		}
		dumps[i] = json_dumps(p, JSON_COMPACT);
		v[i].value_json = dumps[i];
		if (dumps[i] == NULL)
			rc = PDS_ENOMEM;
	}
	if (rc == PDS_OK)
		rc = store_prefs_replace(a->did, drop_all, NULL, v, n);
	strv_free(dumps, n);
	free(v);
	json_decref(doc);
	return rc;
}

static int
load_blobs(struct xjob *j, struct acct *a, size_t idx)
{
	struct blob_info info;
	struct cid	 want;
	const char	*path, *cid;
	char		*buf;
	size_t		 i, n = 0, done = 0, len;
	int		 rc = PDS_OK;

	for (i = 0; i < a->m.nfiles; i++)
		if (strncmp(a->m.files[i].path, "blobs/", 6) == 0)
			n++;
	for (i = 0; rc == PDS_OK && i < a->m.nfiles; i++) {
		path = a->m.files[i].path;
		if (strncmp(path, "blobs/", 6) != 0)
			continue;
		cid = path + 6;
		if (cid_parse(&want, cid, strlen(cid), NULL) != PDS_OK)
			return PDS_EINVAL;
		if ((rc = slurp(a->dirfd, path, (size_t)xcfg_export->
		    blob_upload_limit, &buf, &len)) != PDS_OK)
			return rc;
		rc = blobs_upload(a->did, (const uint8_t *)buf, len, NULL,
		    &info);
		free(buf);
		if (rc == PDS_OK && !cid_equal(&info.cid, &want))
			rc = PDS_EMISMATCH;
		j->blobs++;
		j->bytes += (int64_t)len;
		xjob_progress(j, idx, NULL, ++done, n);
	}
	return rc;
}

static int
load_opened(struct xjob *j, struct acct *a, size_t idx)
{
	struct account_new	 in;
	struct account_created	 out;
	struct migration_import	 mi;
	struct pds_error	 err;
	struct pds_key		*key = NULL;
	json_t			*acc, *sec;
	uint8_t			 rnd[24], priv[KEY_PRIV_LEN];
	char			 pw[2 * sizeof(rnd) + 1], *car = NULL;
	char			 didkey[KEY_DIDKEY_MAX];
	const char		*hash;
	size_t			 len;
	int			 rc;

	if (a->keep) {
		if ((rc = read_key(j, a, &key, didkey)) != PDS_OK)
			return rc;
		rc = key_export_private(key, priv);
		key_free(key);
		if (rc != PDS_OK)
			return rc;
	}
	if ((acc = load_json(a->dirfd, "account.json")) == NULL) {
		sodium_memzero(priv, sizeof(priv));
		xjob_fail(j, PDS_EINVAL, AP_E_INVALID_ARGUMENT, "%.100s: "
		    "account.json is not JSON", a->did);
		return PDS_EINVAL;
	}
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	memset(&err, 0, sizeof(err));
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(pw, sizeof(pw), rnd, sizeof(rnd));
	in.did = a->did;
	in.handle = json_string_value(json_object_get(acc, "handle"));
	in.email = json_string_value(json_object_get(acc, "email"));
	if (in.email != NULL && in.email[0] == '\0')
		in.email = NULL;
	in.password = pw;
	in.admin = true;
	in.signing_key = a->keep ? priv : NULL;
	rc = account_create(&in, &out, &err);
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(priv, sizeof(priv));
	json_decref(acc);
	json_decref(out.did_doc);
	if (rc != PDS_OK) {
		xjob_fail(j, rc, AP_E_ALREADY_EXISTS, "%.100s: cannot create "
		    "the account: %s", a->did, err.msg[0] ? err.msg :
		    pds_strerror(rc));
		return rc;
	}
	a->created = true;
	rc = slurp(a->dirfd, "repo.car", (size_t)xcfg_export->
	    max_repo_import_size, &car, &len);
	if (rc == PDS_OK)
		rc = (a->keep ? migration_restore_repo : migration_import_repo)(
		    a->did, (const uint8_t *)car, len, &mi, &err);
	free(car);
	if (rc == PDS_OK)
		rc = load_blobs(j, a, idx);
	if (rc == PDS_OK)
		rc = load_prefs(a);
	if (rc == PDS_OK && manifest_find(&a->m, "secrets.json") != NULL) {
		if ((sec = load_json(a->dirfd, "secrets.json")) == NULL)
			rc = PDS_EINVAL;
		else {
			hash = json_string_value(json_object_get(sec,
			    "passwordHash"));
			rc = hash == NULL || hash[0] != '$' ? PDS_EINVAL :
			    store_account_set_password(a->did, hash);
			json_decref(sec);
		}
	}
	if (rc != PDS_OK)
		xjob_fail(j, rc, AP_E_INVALID_ARGUMENT, "%.100s: loading "
		    "failed: %s", a->did, err.msg[0] ? err.msg :
		    pds_strerror(rc));
	return rc;
}

static int
load_account(struct xjob *j, struct acct *a, size_t idx)
{
	int	 rc;

	if ((rc = acct_open(j, a)) != PDS_OK)
		return rc;
	rc = load_opened(j, a, idx);
	acct_close(a);
	return rc;
}

/* ---- 3. move -------------------------------------------------------- */

/*
 * With a new key: a PLC operation that puts this server's key and
 * endpoint in the DID document (*signed_op when it was submitted).
 */
static int
move_new_key(struct acct *a, bool *signed_op, struct pds_error *err)
{
	json_t	*creds = NULL, *in, *op = NULL;
	int	 rc;

	if ((rc = account_did_credentials(a->did, &creds)) != PDS_OK)
		return rc;
	in = json_pack("{s:O,s:O}", "verificationMethods",
	    json_object_get(creds, "verificationMethods"), "services",
	    json_object_get(creds, "services"));
	json_decref(creds);
	if (in == NULL)
		return PDS_ENOMEM;
	rc = migration_sign_plc_op(a->did, in, &op, err);
	json_decref(in);
	if (rc == PDS_OK)
		rc = migration_submit_plc_op(a->did, op, err);
	*signed_op = rc == PDS_OK;
	json_decref(op);
	return rc;
}

/*
 * The DID's PLC operation (with a kept key the least one; *signed_op
 * says whether there was one), then activation.  On failure why gets
 * the reason.
 */
static int
move_account(struct acct *a, bool *signed_op, char *why, size_t cap)
{
	struct pds_error	 err;
	int			 rc;

	*signed_op = false;
	memset(&err, 0, sizeof(err));
	if (a->keep)
		rc = migration_plc_point_here(a->did, signed_op, &err);
	else
		rc = move_new_key(a, signed_op, &err);
	if (rc == PDS_OK)
		rc = migration_activate(a->did, &err);
	if (rc != PDS_OK)
		snprintf(why, cap, "%.200s", err.msg[0] ? err.msg :
		    pds_strerror(rc));
	return rc;
}

/* ---- the run -------------------------------------------------------- */

static int
list_accounts(struct xjob *j, struct acct **out, size_t *n)
{
	struct dirent	*de;
	struct acct	*v = NULL, *nv;
	DIR		*d;
	int		 fd, rc = PDS_OK;

	*n = 0;
	if ((fd = dup(j->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return PDS_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "did:", 4) != 0 ||
		    strlen(de->d_name) > DID_MAX ||
		    !syntax_is_did(de->d_name, strlen(de->d_name)))
			continue;
		if (*n >= IMPORT_MAX_ACCOUNTS) {
			rc = PDS_ETOOBIG;
			break;
		}
		if ((nv = reallocarray(v, *n + 1, sizeof(*v))) == NULL) {
			rc = PDS_ENOMEM;
			break;
		}
		v = nv;
		memset(&v[*n], 0, sizeof(v[*n]));
		v[*n].dirfd = -1;
		if ((v[*n].did = strdup(de->d_name)) == NULL) {
			rc = PDS_ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(d);
	*out = v;
	return rc;
}

static void
import_run(struct xjob *j)
{
	struct acct	*v = NULL;
	json_t		*failed;
	char		 why[256];
	size_t		 i, n = 0, moved = 0, ops = 0, kept = 0;
	bool		 signed_op;
	int		 rc;

	if ((rc = list_accounts(j, &v, &n)) != PDS_OK || n == 0) {
		xjob_fail(j, rc != PDS_OK ? rc : PDS_ENOTFOUND,
		    AP_E_INVALID_ARGUMENT, "%s", rc == PDS_ETOOBIG ? "over "
		    "100000 accounts: import them in parts" : rc != PDS_OK ?
		    "cannot read the directory" : "no account directories "
		    "(did:...) in it");
		for (i = 0; i < n; i++)
			free(v[i].did);
		free(v);
		return;
	}
	pthread_mutex_lock(&j->bg.mu);
	j->acc_total = n;
	pthread_mutex_unlock(&j->bg.mu);
	for (i = 0, rc = PDS_OK; rc == PDS_OK && i < n; i++) {
		xjob_progress(j, i, v[i].did, 0, 0);
		rc = check_account(j, &v[i]);
	}
	for (i = 0; rc == PDS_OK && i < n; i++) {
		xjob_progress(j, i, v[i].did, 0, 0);
		if (bgjob_aborted(&j->bg)) {
			rc = PDS_EIO;
			xjob_fail(j, rc, AP_E_IO_ERROR, "%s",
			    "the import was cancelled");
		} else
			rc = load_account(j, &v[i], i);
	}
	if (rc != PDS_OK) {
		/* all or nothing: take back what this run created */
		for (i = 0; i < n; i++)
			if (v[i].created)
				(void)migration_account_purge(v[i].did, false);
	}
	failed = json_array();
	for (i = 0; rc == PDS_OK && i < n; i++) {
		xjob_progress(j, i, v[i].did, 0, 0);
		kept += v[i].keep;
		if (move_account(&v[i], &signed_op, why, sizeof(why)) ==
		    PDS_OK) {
			moved++;
			ops += signed_op;
		} else {
			log_warnx("import %s: the DID could not be moved "
			    "here: %s", v[i].did, why);
			json_array_append_new(failed, json_pack("{s:s,s:s}",
			    "did", v[i].did, "reason", why));
		}
	}
	if (rc == PDS_OK && json_array_size(failed) > 0)
		xjob_fail(j, PDS_EUPSTREAM, AP_E_UPSTREAM_FAILURE, "%zu of %zu "
		    "accounts are loaded but their DIDs could not be moved "
		    "here (first: %.100s); they stay deactivated: run the "
		    "import again", json_array_size(failed), n,
		    json_string_value(json_object_get(json_array_get(failed,
		    0), "did")));
	j->extra = json_pack("{s:I,s:I,s:I,s:o}", "moved", (json_int_t)moved,
	    "keysKept", (json_int_t)kept, "plcOperations", (json_int_t)ops,
	    "failed", failed);
	xjob_progress(j, n, NULL, 0, 0);
	for (i = 0; i < n; i++)
		free(v[i].did);
	free(v);
	if (rc == PDS_OK)
		log_info("import from %s: %zu accounts (%zu with their signing "
		    "keys), %zu moved here with %zu PLC operations", j->dest,
		    n, kept, moved, ops);
}

int
admin_import_start(struct admin_call *call)
{
	struct xjob	*j;
	const char	*src = json_string_value(json_object_get(call->args,
			    "src"));
	int		 fd, rc;

	if (xcfg_export == NULL) {
		call->err.name = AP_E_NOT_AVAILABLE;
		return PDS_EINVAL;
	}
	if ((rc = export_open_dir(call, src, &fd)) != PDS_OK)
		return rc;
	if ((j = xjob_new(call, "import", src, fd, import_run)) == NULL) {
		close(fd);
		return PDS_ENOMEM;
	}
	return xjob_start(call, j);
}
