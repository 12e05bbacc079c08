/*
 * import_ref: convert a reference PDS data directory into a new pdsd
 * data directory, offline.  See import_ref.h and pdsctl(8).
 *
 *	pdsd import-reference [--json] [--quiet] [--blobs DIR] [--actors DIR]
 *	    SRC DEST
 *
 * All or nothing: everything is written into a new directory next to
 * DEST ("DEST.partial-XXXXXX"), synced, and renamed to DEST only when
 * the whole conversion succeeded; on failure it is removed and DEST is
 * untouched.  DEST must not exist or be an empty directory.  The
 * source is only read (its databases are opened read-only), so the
 * reference can be started again on it if the coop changes its mind.
 *
 * Every blob is copied and checked against its CID on the way; the
 * repos' blocks are copied as they are, so heads, revs and every record
 * stay byte for byte what the reference served.  The signing key of
 * each account comes from its actor directory, so DID documents need
 * no change.  The sequencer's events keep their seqs, and pdsd's next
 * seq follows the reference's last one: a relay that followed the old
 * host resumes from its cursor.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cid.h"
#include "commit.h"
#include "err.h"
#include "import_ref.h"
#include "keys.h"
#include "log.h"
#include "store.h"
#include "store_import_ref.h"
#include "syntax.h"

#define KEY_LEN		32	/* the reference's raw secp256k1 key file */

struct iref {
	const char		*src;
	const char		*blobs;		/* the reference's blob dir */
	const char		*actors;	/* its actor store dir */
	char			 tmp[PATH_MAX];	/* the new directory */
	bool			 json, quiet;
	const uint8_t		*key;		/* the account's, for head() */
	int64_t			 warnings;
	struct iref_counts	 c;
	char			 err[IREF_ERR_MAX];
};

static int __attribute__((format(printf, 2, 3)))
fail(struct iref *r, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return PDS_EINVAL;
}

/* A path from fmt into out (PATH_MAX); -1 when it does not fit. */
static int __attribute__((format(printf, 2, 3)))
pathf(char out[PATH_MAX], const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: pdsctl import-reference [--json] [--quiet] "
	    "[--blobs DIR] [--actors DIR] REF_DATA_DIR NEW_DATA_DIR\n");
}

/* SIGINT, SIGTERM, SIGHUP: stop at the next account or blob, clean up. */
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = 1;
}

static void
signals(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* ---- files ------------------------------------------------------------ */

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(path);
}

static void
rm_tree(const char *dir)
{
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
mkdir_p(char *path, mode_t mode)
{
	char	*p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, mode) == -1 && errno != EEXIST ? -1 : 0;
}

/* DEST may be missing or an empty directory. */
static int
check_dest(struct iref *r, const char *dest)
{
	struct stat	 sb;
	int		 n = 0;
	DIR		*d;
	struct dirent	*de;

	if (stat(dest, &sb) == -1)
		return errno == ENOENT ? PDS_OK : fail(r, "%s: %s", dest,
		    strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return fail(r, "%s: exists and is not a directory", dest);
	if ((d = opendir(dest)) == NULL)
		return fail(r, "%s: %s", dest, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	if (n > 0)
		return fail(r, "%s: not empty; give a new directory (the "
		    "conversion never writes into existing data)", dest);
	return PDS_OK;
}

static int
check_src(struct iref *r)
{
	char		 p[PATH_MAX];
	struct stat	 sb;

	if (stat(r->src, &sb) == -1 || !S_ISDIR(sb.st_mode))
		return fail(r, "%s: not a directory", r->src);
	if (pathf(p, "%s/account.sqlite", r->src) == -1 || stat(p, &sb) == -1)
		return fail(r, "%s: no account.sqlite: not a reference PDS "
		    "data directory", r->src);
	if (pathf(p, "%s/account.sqlite-wal", r->src) == 0 &&
	    stat(p, &sb) == 0 && sb.st_size > 0)
		return fail(r, "%s: account.sqlite-wal is not empty: stop "
		    "the reference PDS first (it is running, or was not "
		    "stopped cleanly; starting and stopping it again folds "
		    "the log in)", r->src);
	return PDS_OK;
}

/* Copy one blob, checking its bytes against its CID. */
static int
blob_copy(void *arg, const char *did, const char *cs)
{
	struct iref		*r = arg;
	crypto_hash_sha256_state st;
	struct cid		 c, got;
	uint8_t			 buf[65536], dig[32];
	char			 from[PATH_MAX], to[PATH_MAX], q[PATH_MAX];
	const char		*why = NULL;
	ssize_t			 n;
	int			 in = -1, out = -1, rc = PDS_EINVAL;

	if (interrupted)
		return fail(r, "interrupted");
	if (cid_parse(&c, cs, strlen(cs), &why) != PDS_OK ||
	    !cid_is_blessed(&c))
		return fail(r, "%s: blob %s: not a sha2-256 CID", did, cs);
	if (pathf(from, "%s/%s/%s", r->blobs, did, cs) == -1 ||
	    pathf(to, "%s/blocks/%s", r->tmp, did) == -1)
		return fail(r, "%s: blob %s: path too long", did, cs);
	if (mkdir_p(to, 0700) == -1)
		return fail(r, "%s: %s", to, strerror(errno));
	if (pathf(to, "%s/blocks/%s/%s", r->tmp, did, cs) == -1)
		return fail(r, "%s: blob %s: path too long", did, cs);
	/* A taken-down blob is in the reference's quarantine. */
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1 && errno == ENOENT &&
	    pathf(q, "%s/quarantine/%s/%s", r->blobs, did, cs) == 0)
		in = open(q, O_RDONLY | O_CLOEXEC);
	if (in == -1) {
		rc = fail(r, "%s: blob %s: %s (is --blobs the reference's "
		    "PDS_BLOBSTORE_DISK_LOCATION?)", did, from,
		    strerror(errno));
		goto done;
	}
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		rc = fail(r, "%s: %s", to, strerror(errno));
		goto done;
	}
	crypto_hash_sha256_init(&st);
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		crypto_hash_sha256_update(&st, buf, (size_t)n);
		if (write(out, buf, (size_t)n) != n) {
			rc = fail(r, "%s: %s", to, strerror(errno));
			goto done;
		}
	}
	if (n < 0) {
		rc = fail(r, "%s: %s", from, strerror(errno));
		goto done;
	}
	crypto_hash_sha256_final(&st, dig);
	cid_from_digest(&got, cid_codec(&c), dig);
	if (!cid_equal(&got, &c)) {
		rc = fail(r, "%s: blob %s: its bytes do not match its CID",
		    did, from);
		goto done;
	}
	rc = PDS_OK;
done:
	if (in != -1)
		close(in);
	if (out != -1 && close(out) == -1 && rc == PDS_OK)
		rc = fail(r, "%s: %s", to, strerror(errno));
	return rc;
}

static int
read_key(struct iref *r, const char *path, uint8_t key[KEY_LEN])
{
	uint8_t	 extra;
	ssize_t	 n;
	int	 fd, rc = PDS_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return fail(r, "%s: %s", path, strerror(errno));
	if ((n = read(fd, key, KEY_LEN)) != KEY_LEN ||
	    read(fd, &extra, 1) != 0)
		rc = fail(r, "%s: not a 32-byte secp256k1 private key", path);
	close(fd);
	return rc;
}

/* ---- accounts -------------------------------------------------------- */

/*
 * The head commit must be a commit of this DID; its signature should
 * verify with the key file.  It may not: the reference keeps serving
 * the head an account brought when it migrated in (signed by its old
 * host) until its next write.  Then pdsd's first write re-signs, as the
 * reference's would, so that is a warning, not an error.
 */
static int
head_check(void *arg, const char *did, const uint8_t *p, size_t n)
{
	struct iref	*r = arg;
	struct commit	 cm;
	struct pds_key	*k = NULL;
	const char	*why = NULL;

	if (commit_decode(&cm, p, n, &why) != PDS_OK)
		return fail(r, "%s: the head commit does not decode: %s", did,
		    why != NULL ? why : "?");
	if (strcmp(cm.did, did) != 0)
		return fail(r, "%s: the head commit is %s's", did, cm.did);
	if (key_from_private(&k, KEY_K256, r->key) != PDS_OK)
		return fail(r, "%s: the key file holds no valid secp256k1 key",
		    did);
	if (commit_verify(&cm, k) != PDS_OK) {
		r->warnings++;
		fprintf(stderr, "import-reference: warning: %s: the head "
		    "commit is not signed by the account's key (migrated in "
		    "and not written since?); pdsd signs the next one\n", did);
	}
	key_free(k);
	return PDS_OK;
}

static int
one_account(void *arg, const struct iref_account *a)
{
	struct iref	*r = arg;
	struct iref_cbs	 cbs = { head_check, blob_copy, arg };
	uint8_t		 d[32], key[KEY_LEN];
	char		 dir[PATH_MAX], path[PATH_MAX], hex[65];
	int64_t		 recs = r->c.records, blobs = r->c.blobs;
	int		 rc;

	if (interrupted)
		return fail(r, "interrupted");
	if (!syntax_is_did(a->did, strlen(a->did)))
		return fail(r, "account.sqlite: %s is not a DID", a->did);
	if (a->email != NULL && a->password == NULL)
		return fail(r, "%s: an account without a password", a->did);
	/* actors/<first two hex digits of sha256(did)>/<did> */
	sha256(d, a->did, strlen(a->did));
	sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
	if (pathf(dir, "%s/%.2s/%s", r->actors, hex, a->did) == -1 ||
	    pathf(path, "%s/key", dir) == -1)
		return fail(r, "%s: path too long", a->did);
	if ((rc = read_key(r, path, key)) != PDS_OK)
		return rc;
	if (pathf(path, "%s/store.sqlite", dir) == -1)
		return fail(r, "%s: path too long", a->did);
	r->key = key;
	rc = store_iref_actor(a, key, path, &cbs, &r->c, r->err,
	    sizeof(r->err));
	r->key = NULL;
	sodium_memzero(key, sizeof(key));
	if (rc != PDS_OK)
		return rc;
	if (!r->quiet)
		fprintf(stderr, "import-reference: account %lld: %s (%s): "
		    "%lld records, %lld blobs%s\n", (long long)r->c.accounts,
		    a->did, a->handle != NULL ? a->handle : "no handle",
		    (long long)(r->c.records - recs),
		    (long long)(r->c.blobs - blobs),
		    a->takedown_ref != NULL ? ", taken down" :
		    a->deactivated_at != NULL ? ", deactivated" : "");
	return PDS_OK;
}

static void
step(struct iref *r, const char *what)
{
	if (!r->quiet)
		fprintf(stderr, "import-reference: %s\n", what);
}

static int
convert(struct iref *r)
{
	char	 p[PATH_MAX];
	int	 rc;

	if (pathf(p, "%s/pds.sqlite", r->tmp) == -1 || store_open(p) != PDS_OK)
		return fail(r, "%s: cannot create the new store", p);
	if ((rc = store_iref_nosync(r->err, sizeof(r->err))) != PDS_OK)
		return rc;
	if ((rc = store_iref_open(r->src, r->err, sizeof(r->err))) != PDS_OK)
		return rc;
	step(r, "accounts, repos and blobs");
	if ((rc = store_iref_accounts(one_account, r, r->err,
	    sizeof(r->err))) != PDS_OK)
		goto done;
	step(r, "app passwords, invite codes, email tokens");
	if ((rc = store_iref_globals(&r->c, r->err, sizeof(r->err))) !=
	    PDS_OK)
		goto done;
	step(r, "firehose events");
	if (pathf(p, "%s/sequencer.sqlite", r->src) == 0 && access(p, F_OK) == 0 && (rc = store_iref_events(p, &r->c, r->err,
	    sizeof(r->err))) != PDS_OK)
		goto done;
	if (pathf(p, "%s/did_cache.sqlite", r->src) == 0 && access(p, F_OK) == 0 && (rc = store_iref_did_cache(p, &r->c,
	    r->err, sizeof(r->err))) != PDS_OK)
		goto done;
	if (store_iref_audit(r->src, &r->c) != PDS_OK)
		rc = fail(r, "the new store: cannot write the audit log");
done:
	store_iref_close();
	return rc;
}

/* Sync the new directory's files, rename it to dest, sync the parent. */
static int
publish(struct iref *r, const char *dest)
{
	char	 parent[PATH_MAX];
	int	 fd;

	if ((fd = open(r->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    syncfs(fd) == -1) {
		if (fd != -1)
			close(fd);
		return fail(r, "%s: sync: %s", r->tmp, strerror(errno));
	}
	close(fd);
	if (rename(r->tmp, dest) == -1)
		return fail(r, "rename %s to %s: %s", r->tmp, dest,
		    strerror(errno));
	snprintf(parent, sizeof(parent), "%s", dest);
	if ((fd = open(dirname(parent), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	return PDS_OK;
}

static void
report(const struct iref *r, const char *dest, double secs)
{
	const struct iref_counts *c = &r->c;
	json_t	*o;

	if (r->json) {
		o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		    "s:I,s:I,s:I,s:I,s:f}", "source", r->src, "data_directory",
		    dest, "accounts", (json_int_t)c->accounts, "blocks",
		    (json_int_t)c->blocks, "records", (json_int_t)c->records,
		    "blobs", (json_int_t)c->blobs, "blob_bytes",
		    (json_int_t)c->blob_bytes, "preferences",
		    (json_int_t)c->prefs, "app_passwords",
		    (json_int_t)c->app_passwords, "invite_codes",
		    (json_int_t)c->invites, "events", (json_int_t)c->events,
		    "events_skipped", (json_int_t)c->events_skipped,
		    "last_seq", (json_int_t)c->last_seq, "did_documents",
		    (json_int_t)c->did_docs, "warnings", (json_int_t)r->warnings,
		    "seconds", secs);
		if (o != NULL) {
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(o);
		}
		return;
	}
	printf("converted %s into %s in %.1f s\n", r->src, dest, secs);
	printf("  accounts        %lld\n", (long long)c->accounts);
	printf("  records         %lld (%lld blocks)\n",
	    (long long)c->records, (long long)c->blocks);
	printf("  blobs           %lld (%lld bytes, each checked against "
	    "its CID)\n", (long long)c->blobs, (long long)c->blob_bytes);
	printf("  preferences     %lld\n", (long long)c->prefs);
	printf("  app passwords   %lld\n", (long long)c->app_passwords);
	printf("  invite codes    %lld\n", (long long)c->invites);
	printf("  events          %lld (last seq %lld; %lld of retired "
	    "types left out)\n", (long long)c->events,
	    (long long)c->last_seq, (long long)c->events_skipped);
	if (r->warnings > 0)
		printf("  warnings        %lld (above)\n",
		    (long long)r->warnings);
	printf("Start pdsd with PDS_DATA_DIRECTORY=%s and the reference's "
	    "other settings (pdsctl(8), import-reference).\n", dest);
}

int
import_ref_main(int argc, char *argv[])
{
	struct iref	 r;
	struct timespec	 t0, t1;
	char		 blobs[PATH_MAX], actors[PATH_MAX], destbuf[PATH_MAX];
	const char	*dest = NULL;
	size_t		 n;
	bool		 opts = true;
	int		 i, rc;

	memset(&r, 0, sizeof(r));
	for (i = 1; i < argc; i++) {
		if (opts && strcmp(argv[i], "--") == 0)
			opts = false;
		else if (!opts || argv[i][0] != '-' || argv[i][1] == '\0') {
			if (r.src == NULL)
				r.src = argv[i];
			else if (dest == NULL)
				dest = argv[i];
			else {
				usage();
				return 64;
			}
		} else if (strcmp(argv[i], "--json") == 0)
			r.json = true;
		else if (strcmp(argv[i], "--quiet") == 0)
			r.quiet = true;
		else if (strcmp(argv[i], "--blobs") == 0 && i + 1 < argc)
			r.blobs = argv[++i];
		else if (strcmp(argv[i], "--actors") == 0 && i + 1 < argc)
			r.actors = argv[++i];
		else {
			usage();
			return 64;
		}
	}
	if (r.src == NULL || dest == NULL || dest[0] == '\0') {
		usage();
		return 64;
	}
	/* "new/" names new: the partial directory goes beside it */
	if (pathf(destbuf, "%s", dest) == -1) {
		fprintf(stderr, "pdsctl: %s: path too long\n", dest);
		return 1;
	}
	for (n = strlen(destbuf); n > 1 && destbuf[n - 1] == '/'; n--)
		destbuf[n - 1] = '\0';
	dest = destbuf;
	/* the store's own notes (migrations applied) are not progress */
	log_init("pdsctl import-reference", 0, 0);
	if (sodium_init() < 0) {
		fprintf(stderr, "pdsctl: libsodium initialisation failed\n");
		return 1;
	}
	if (r.blobs == NULL) {
		if (pathf(blobs, "%s/blocks", r.src) == -1) {
			fprintf(stderr, "pdsctl: %s: path too long\n", r.src);
			return 1;
		}
		r.blobs = blobs;
	}
	if (r.actors == NULL) {
		if (pathf(actors, "%s/actors", r.src) == -1) {
			fprintf(stderr, "pdsctl: %s: path too long\n", r.src);
			return 1;
		}
		r.actors = actors;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	signals();
	if ((rc = check_src(&r)) != PDS_OK || (rc = check_dest(&r, dest)) !=
	    PDS_OK)
		goto out;
	if (pathf(r.tmp, "%s.partial-XXXXXX", dest) == -1 ||
	    mkdtemp(r.tmp) == NULL) {
		rc = fail(&r, "%s.partial-XXXXXX: %s", dest, strerror(errno));
		r.tmp[0] = '\0';
		goto out;
	}
	(void)chmod(r.tmp, 0700);
	rc = convert(&r);
	store_close();
	if (rc == PDS_OK)
		rc = publish(&r, dest);
	if (rc != PDS_OK)
		rm_tree(r.tmp);
out:
	if (rc != PDS_OK) {
		fprintf(stderr, "pdsctl: import-reference: %s\n", r.err);
		if (r.tmp[0] != '\0')
			fprintf(stderr, "pdsctl: import-reference: nothing "
			    "was written to %s\n", dest);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(&r, dest, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
