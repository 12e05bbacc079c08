/*
 * migration: accounts moving in and out.  See migration.h.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "accounts.h"
#include "blobs.h"
#include "car.h"
#include "cbor.h"
#include "cid.h"
#include "commit.h"
#include "config.h"
#include "diddoc.h"
#include "dmjson.h"
#include "err.h"
#include "events.h"
#include "jobs.h"
#include "keys.h"
#include "log.h"
#include "migration.h"
#include "module.h"
#include "plc.h"
#include "plc_client.h"
#include "repo.h"
#include "repo_writer.h"
#include "resolver.h"
#include "store.h"
#include "store_account.h"
#include "store_keys.h"
#include "store_migration.h"
#include "store_repo.h"
#include "syntax.h"
#include "tid.h"

static const struct config *mcfg;

/* Reserved signing keys expire here, not on the request's path. */
static void
prune_reserved_keys(void *arg)
{
	char	 now[STORE_TS_LEN];
	int	 n = 0, rc;

	(void)arg;
	store_timestamp(now);
	if ((rc = store_keys_prune(now, &n)) != PDS_OK)
		log_warnx("reserved keys: prune: %s", pds_strerror(rc));
	else if (n > 0)
		log_debug("reserved keys: %d expired", n);
}

static int
migration_init(const struct config *cfg)
{
	mcfg = cfg;
	return jobs_add("reserved key pruning", STORE_KEYS_PRUNE_MS,
	    prune_reserved_keys, NULL) == PDS_OK ? PDS_OK : -1;
}

PDSD_MODULE(migration, migration_init, NULL)

/* Compare two service URLs, ignoring one trailing slash. */
static bool
same_url(const char *a, const char *b)
{
	size_t	 na = strlen(a), nb = strlen(b);

	if (na > 0 && a[na - 1] == '/')
		na--;
	if (nb > 0 && b[nb - 1] == '/')
		nb--;
	return na == nb && strncasecmp(a, b, na) == 0;
}

int
migration_did_check(const char *did, bool *valid, char *why, size_t cap,
    char *pds, size_t pds_cap)
{
	char		 mine[KEY_DIDKEY_MAX], err[PLC_CLIENT_ERR_MAX];
	json_t		*data = NULL, *rk, *v;
	struct diddoc	 dd;
	const char	*ep = NULL, *sk = NULL;
	bool		 ours = false;
	size_t		 i;
	int		 rc;

	*valid = false;
	why[0] = '\0';
	if (pds != NULL && pds_cap > 0)
		pds[0] = '\0';
	memset(&dd, 0, sizeof(dd));
	if ((rc = account_signing_didkey(did, mine, sizeof(mine))) != PDS_OK)
		return rc;
	if (did_is_plc(did, strlen(did))) {
		if ((rc = plc_client_get_data(did, &data, err,
		    sizeof(err))) != PDS_OK) {
			snprintf(why, cap, "%s", err);
			return rc;
		}
		rk = json_object_get(data, "rotationKeys");
		json_array_foreach(rk, i, v)
			if (json_is_string(v) && strcmp(json_string_value(v),
			    account_rotation_didkey()) == 0)
				ours = true;
		ep = json_string_value(json_object_get(json_object_get(
		    json_object_get(data, "services"), "atproto_pds"),
		    "endpoint"));
		sk = json_string_value(json_object_get(json_object_get(data,
		    "verificationMethods"), "atproto"));
	} else {
		if ((rc = resolver_refresh(did)) != PDS_OK ||
		    (rc = resolver_did_data(did, &dd)) != PDS_OK) {
			snprintf(why, cap, "the DID document could not be "
			    "fetched: %s", pds_strerror(rc));
			return rc;
		}
		ours = true;	/* no rotation keys for did:web */
		ep = dd.pds;
		sk = dd.signing_key;
	}
	if (pds != NULL && ep != NULL)
		snprintf(pds, pds_cap, "%s", ep);
	if (!ours)
		snprintf(why, cap, "Server rotation key not included in PLC "
		    "DID data");
	else if (ep == NULL || !same_url(ep, mcfg->public_url))
		snprintf(why, cap, "DID document atproto_pds service endpoint "
		    "does not match PDS public url");
	else if (sk == NULL || strcmp(sk, mine) != 0)
		snprintf(why, cap, "DID document verification method does not "
		    "match expected signing key");
	else
		*valid = true;
	json_decref(data);
	diddoc_clear(&dd);
	return PDS_OK;
}

/* ---- importRepo ---- */

struct imp_rec {
	char	*collection;
	char	*rkey;
	char	 cid[CID_STR_MAX];
	char	*blobs;		/* NUL-separated CID strings */
	size_t	 blobs_len;
};

struct imp {
	struct imp_rec	*recs;
	size_t		 n, cap;
	const char	*why;
};

static int
add_blob(struct imp_rec *r, const struct cid *c)
{
	char	 s[CID_STR_MAX];
	char	*nb;
	size_t	 n;

	if (cid_format(c, s, sizeof(s)) < 0)
		return PDS_EINVAL;
	n = strlen(s) + 1;
	if ((nb = realloc(r->blobs, r->blobs_len + n)) == NULL)
		return PDS_ENOMEM;
	memcpy(nb + r->blobs_len, s, n);
	r->blobs = nb;
	r->blobs_len += n;
	return PDS_OK;
}

/* Collect the blob references of a record value (current and legacy). */
static int
find_blobs(const struct dm_value *v, struct imp_rec *r, int depth)
{
	const struct dm_value	*ref, *cidv, *mime;
	struct cid		 c;
	size_t			 i;
	int			 rc;

	if (depth > 64)
		return PDS_ETOOBIG;
	if (v->type == DM_ARRAY) {
		for (i = 0; i < v->u.arr.n; i++)
			if ((rc = find_blobs(v->u.arr.items[i], r,
			    depth + 1)) != PDS_OK)
				return rc;
		return PDS_OK;
	}
	if (v->type != DM_MAP)
		return PDS_OK;
	if (dm_is_blob(v) && (ref = dm_map_get(v, "ref")) != NULL &&
	    ref->type == DM_LINK)
		return add_blob(r, &ref->u.link);
	if (dm_map_get(v, "$type") == NULL &&
	    (cidv = dm_map_get(v, "cid")) != NULL && cidv->type == DM_STRING &&
	    (mime = dm_map_get(v, "mimeType")) != NULL &&
	    mime->type == DM_STRING && v->u.map.n == 2) {
		if (cid_parse(&c, (const char *)cidv->u.s.p, cidv->u.s.len,
		    NULL) == PDS_OK)
			return add_blob(r, &c);
		return PDS_OK;
	}
	for (i = 0; i < v->u.map.n; i++)
		if ((rc = find_blobs(v->u.map.e[i].val, r, depth + 1)) !=
		    PDS_OK)
			return rc;
	return PDS_OK;
}

static int
imp_record(void *arg, const uint8_t *key, size_t klen, const struct cid *c,
    const uint8_t *data, size_t len)
{
	struct imp	*im = arg;
	struct imp_rec	*r, *nr;
	struct dm_arena	*a;
	struct dm_value	*v;
	const uint8_t	*slash;
	const char	*why = NULL;
	int		 rc;

	slash = memchr(key, '/', klen);
	if (slash == NULL) {
		im->why = "record key without a collection";
		return PDS_EINVAL;
	}
	if (im->n == im->cap) {
		size_t ncap = im->cap ? im->cap * 2 : 256;

		if ((nr = realloc(im->recs, ncap * sizeof(*nr))) == NULL)
			return PDS_ENOMEM;
		im->recs = nr;
		im->cap = ncap;
	}
	r = &im->recs[im->n];
	memset(r, 0, sizeof(*r));
	r->collection = strndup((const char *)key, (size_t)(slash - key));
	r->rkey = strndup((const char *)slash + 1,
	    klen - (size_t)(slash - key) - 1);
	im->n++;
	if (r->collection == NULL || r->rkey == NULL)
		return PDS_ENOMEM;
	if (!syntax_is_nsid(r->collection, strlen(r->collection)) ||
	    !syntax_is_rkey(r->rkey, strlen(r->rkey))) {
		im->why = "a record key is not collection/rkey";
		return PDS_EINVAL;
	}
	if (cid_format(c, r->cid, sizeof(r->cid)) < 0)
		return PDS_EINVAL;
	if ((a = dm_arena_new()) == NULL)
		return PDS_ENOMEM;
	rc = dm_decode(a, data, len, &v, &why);
	if (rc == PDS_OK)
		rc = find_blobs(v, r, 0);
	else
		im->why = "a record does not decode";
	dm_arena_free(a);
	return rc;
}

static void
imp_clear(struct imp *im)
{
	size_t	 i;

	for (i = 0; i < im->n; i++) {
		free(im->recs[i].collection);
		free(im->recs[i].rkey);
		free(im->recs[i].blobs);
	}
	free(im->recs);
	memset(im, 0, sizeof(*im));
}

struct put_blocks {
	const char		*did;
	const char		*rev;
	const struct cid	*skip;	/* the source commit */
	int64_t			 n;
};

static int
put_block(void *arg, const struct cid *c, const uint8_t *data, size_t len)
{
	struct put_blocks	*pb = arg;
	char			 s[CID_STR_MAX];

	if (pb->skip != NULL && cid_equal(c, pb->skip))
		return 0;
	if (cid_format(c, s, sizeof(s)) < 0)
		return PDS_EINVAL;
	pb->n++;
	return store_import_block(pb->did, s, pb->rev, data, len);
}

/* Read and check the CAR; with the DID's key, refreshed once on failure. */
static int
read_car(const char *did, const uint8_t *car, size_t len, struct imp *im,
    struct repo_import *info, struct pds_error *err)
{
	struct car_reader	 cr;
	struct pds_key		*pub = NULL;
	const char		*why = NULL;
	int			 rc, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (attempt == 1 && resolver_refresh(did) != PDS_OK)
			break;
		if ((rc = resolver_did_key(did, &pub)) != PDS_OK)
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "The DID's signing key could not be resolved: %s",
			    pds_strerror(rc));
		if ((rc = car_reader_open_mem(&cr, car, len, NULL, &why)) !=
		    PDS_OK) {
			key_free(pub);
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "Invalid CAR file: %s", why ? why : "unreadable");
		}
		imp_clear(im);
		memset(info, 0, sizeof(*info));
		rc = repo_import(&cr, pub, did, REPO_IMPORT_CHECK_RECORDS |
		    REPO_IMPORT_KEEP_BLOCKS, imp_record, im, info, &why);
		car_reader_close(&cr);
		key_free(pub);
		pub = NULL;
		if (rc != PDS_ECRYPTO)
			break;
		bs_mem_free(info->blocks_kept);
		info->blocks_kept = NULL;
	}
	if (rc == PDS_ECRYPTO)
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "The repo's commit is not signed by the DID's current "
		    "signing key");
	if (rc == PDS_ENOMEM)
		return rc;
	if (rc != PDS_OK)
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Invalid repo: %s", im->why ? im->why : why ? why :
		    pds_strerror(rc));
	return PDS_OK;
}

/*
 * The head of the repo to store: with keep, the CAR's own commit, which
 * must be a v3 commit signed by the account's key (key); else a new
 * commit over the same tree, signed with key, at a rev past both the
 * source's and ours, into cb.
 */
static int
import_head(const char *did, const struct repo_import *info,
    const struct pds_key *key, bool keep, struct buf *cb, struct cid *ncid,
    char rev[TID_LEN + 1], struct pds_error *err)
{
	struct cid	 head;
	char		 cur_rev[TID_LEN + 1], after[TID_LEN + 1];
	int		 rc;

	if (keep) {
		if (!info->commit.has_rev || !tid_valid(info->commit.rev,
		    strlen(info->commit.rev)))
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "The repo's head commit has no valid rev");
		if (commit_verify(&info->commit, key) != PDS_OK)
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "The repo's head commit is not signed by the "
			    "account's signing key");
		*ncid = info->commit_cid;
		snprintf(rev, TID_LEN + 1, "%s", info->commit.rev);
		return PDS_OK;
	}
	snprintf(after, sizeof(after), "%s", info->commit.rev);
	if (store_repo_root_get(did, &head, cur_rev) == PDS_OK &&
	    strcmp(cur_rev, after) > 0)
		memcpy(after, cur_rev, sizeof(after));
	if ((rc = tid_next_after(rev, tid_valid(after, strlen(after)) ?
	    after : NULL)) != PDS_OK)
		return rc;
	return commit_make(did, rev, &info->commit.data, key, cb, ncid);
}

static int
import_repo(const char *did, const uint8_t *car, size_t len, bool keep,
    struct migration_import *out, struct pds_error *err)
{
	struct store_account	 a;
	struct repo_import	 info;
	struct imp		 im;
	struct put_blocks	 pb;
	struct pds_key		*key = NULL;
	struct buf		 cb;
	struct cid		 ncid;
	char			 rev[TID_LEN + 1], now[STORE_TS_LEN];
	char			 ncid_s[CID_STR_MAX], uri[SA_DID_MAX + 600];
	const char		*p, *end;
	int64_t			 nblobs = 0;
	size_t			 i;
	bool			 active, in_tx = false;
	int			 rc;

	memset(out, 0, sizeof(*out));
	memset(&info, 0, sizeof(info));
	memset(&im, 0, sizeof(im));
	memset(err, 0, sizeof(*err));
	buf_init(&cb, 64 * 1024);
	if (!mcfg->accepting_repo_imports)
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Service is not accepting repo imports");
	if ((rc = account_get(did, &a)) != PDS_OK)
		return rc;
	if (a.status == ACCT_TAKENDOWN)
		return pds_error_set(err, PDS_EINVAL, "AccountTakedown",
		    "Account has been taken down");
	active = a.status == ACCT_ACTIVE;

	if ((rc = read_car(did, car, len, &im, &info, err)) != PDS_OK)
		goto out;
	if ((rc = account_signing_key(did, &key)) != PDS_OK)
		goto out;

	if ((rc = import_head(did, &info, key, keep, &cb, &ncid, rev,
	    err)) != PDS_OK ||
	    cid_format(&ncid, ncid_s, sizeof(ncid_s)) < 0) {
		rc = rc != PDS_OK ? rc : PDS_EINTERNAL;
		goto out;
	}

	/* No queued commit may land on the old repo in between. */
	repo_writer_forget(did);
	store_timestamp(now);
	if ((rc = store_begin()) != PDS_OK)
		goto out;
	in_tx = true;
	memset(&pb, 0, sizeof(pb));
	pb.did = did;
	pb.rev = rev;
	pb.skip = keep ? NULL : &info.commit_cid;
	if ((rc = store_import_clear(did)) != PDS_OK ||
	    (rc = bs_mem_foreach(info.blocks_kept, put_block, &pb)) !=
	    PDS_OK ||
	    (!keep && (rc = store_import_block(did, ncid_s, rev, cb.p,
	    cb.len)) != PDS_OK))
		goto out;
	for (i = 0; i < im.n; i++) {
		struct imp_rec *r = &im.recs[i];

		if ((rc = store_import_record(did, r->collection, r->rkey,
		    r->cid, rev, now)) != PDS_OK)
			goto out;
		if (r->blobs_len == 0)
			continue;
		snprintf(uri, sizeof(uri), "at://%s/%s/%s", did,
		    r->collection, r->rkey);
		p = r->blobs;
		end = p + r->blobs_len;
		for (; p < end; p += strlen(p) + 1) {
			if ((rc = store_import_record_blob(did, p, uri)) !=
			    PDS_OK)
				goto out;
			nblobs++;
		}
	}
	if ((rc = store_records_absorb(did)) != PDS_OK ||
	    (rc = store_import_set_root(did, ncid_s, rev, now)) != PDS_OK ||
	    (rc = store_import_keep_blobs(did)) != PDS_OK)
		goto out;
	if (cid_format(&info.commit_cid, out->source_commit,
	    sizeof(out->source_commit)) < 0)
		out->source_commit[0] = '\0';
	snprintf(out->source_rev, sizeof(out->source_rev), "%s",
	    info.commit.rev);
	if ((rc = store_mig_set_import(did, (int64_t)info.records,
	    pb.n + (keep ? 0 : 1), out->source_commit, out->source_rev,
	    now)) != PDS_OK)
		goto out;
	if (active && (rc = events_sync(did)) != PDS_OK)
		goto out;
	rc = store_commit();
	in_tx = false;
	if (rc != PDS_OK)
		goto out;
	if (active)
		events_notify();
	repo_writer_forget(did);
	out->records = (int64_t)info.records;
	out->blocks = pb.n + (keep ? 0 : 1);
	out->blob_refs = nblobs;
	snprintf(out->commit, sizeof(out->commit), "%s", ncid_s);
	snprintf(out->rev, sizeof(out->rev), "%s", rev);
	log_info("importRepo %s: %zu records, %lld blocks, source %s rev %s, "
	    "%s head %s rev %s", did, info.records, (long long)out->blocks,
	    out->source_commit, out->source_rev, keep ? "kept" : "new",
	    ncid_s, rev);
out:
	if (in_tx) {
		store_rollback();
		repo_writer_forget(did);
	}
	key_free(key);
	buf_clear(&cb);
	bs_mem_free(info.blocks_kept);
	imp_clear(&im);
	return rc;
}

int
migration_import_repo(const char *did, const uint8_t *car, size_t len,
    struct migration_import *out, struct pds_error *err)
{
	return import_repo(did, car, len, false, out, err);
}

int
migration_restore_repo(const char *did, const uint8_t *car, size_t len,
    struct migration_import *out, struct pds_error *err)
{
	return import_repo(did, car, len, true, out, err);
}

/* ---- activation ---- */

int
migration_activate(const char *did, struct pds_error *err)
{
	struct store_account	 a;
	struct store_mig	 m;
	char			 why[256], now[STORE_TS_LEN];
	bool			 valid;
	int			 rc;

	memset(err, 0, sizeof(*err));
	if ((rc = account_get(did, &a)) != PDS_OK)
		return rc;
	if (a.status == ACCT_TAKENDOWN)
		return pds_error_set(err, PDS_EINVAL, "AccountTakedown",
		    "Account has been taken down");
	rc = migration_did_check(did, &valid, why, sizeof(why), NULL, 0);
	if (rc != PDS_OK) {
		return pds_error_set(err, rc == PDS_EIO ? PDS_EUPSTREAM :
		    PDS_EINVAL, rc == PDS_EIO ? NULL : "InvalidRequest",
		    "Could not check the DID document: %s",
		    why[0] ? why : pds_strerror(rc));
	}
	if (!valid)
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest", "%s",
		    why);
	store_timestamp(now);
	repo_writer_forget(did);
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	if ((rc = store_account_set_status(did, ACCT_ACTIVE, NULL)) != PDS_OK ||
	    (rc = events_account(did, ACCT_ACTIVE)) != PDS_OK ||
	    (rc = events_identity(did, a.handle[0] ? a.handle : NULL)) !=
	    PDS_OK ||
	    (rc = events_sync(did)) != PDS_OK ||
	    (rc = store_import_keep_blobs(did)) != PDS_OK)
		goto rollback;
	if (store_mig_get(did, &m) == PDS_OK && strcmp(m.direction, "in") ==
	    0 && (rc = store_mig_put(did, "in", "activated", NULL, now)) !=
	    PDS_OK)
		goto rollback;
	if (store_mig_get(did, &m) == PDS_OK && strcmp(m.direction, "out") ==
	    0 && (rc = store_mig_delete(did)) != PDS_OK)
		goto rollback;
	if ((rc = store_commit()) != PDS_OK)
		return rc;
	events_notify();
	resolver_forget(did);
	log_info("account %s activated", did);
	return PDS_OK;
rollback:
	store_rollback();
	return rc;
}

int
migration_deactivate(const char *did, const char *delete_after,
    struct pds_error *err)
{
	struct store_account	 a;
	char			 why[256], pds[512], now[STORE_TS_LEN];
	bool			 valid = true;
	int			 rc;

	memset(err, 0, sizeof(*err));
	if ((rc = account_get(did, &a)) != PDS_OK)
		return rc;
	if (delete_after != NULL && !syntax_is_datetime(delete_after,
	    strlen(delete_after)))
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "deleteAfter must be a datetime");
	pds[0] = '\0';
	(void)migration_did_check(did, &valid, why, sizeof(why), pds,
	    sizeof(pds));
	store_timestamp(now);
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	if (a.status == ACCT_TAKENDOWN) {
		/* Takedown outranks: remember the deactivation only. */
		rc = store_account_mark_deactivated(did, now, delete_after);
	} else {
		if ((rc = store_account_set_status(did, ACCT_DEACTIVATED,
		    now)) == PDS_OK)
			rc = store_account_mark_deactivated(did, now,
			    delete_after);
		if (rc == PDS_OK && a.status != ACCT_DEACTIVATED)
			rc = events_account(did, ACCT_DEACTIVATED);
	}
	if (rc == PDS_OK)
		rc = store_mig_put(did, "out", valid ? "deactivated" : "moved",
		    pds[0] ? pds : NULL, now);
	if ((rc = store_end(rc)) != PDS_OK)
		return rc;
	events_notify();
	log_info("account %s deactivated by its owner%s%s", did,
	    valid ? "" : "; its DID now names ", valid ? "" : pds);
	return PDS_OK;
}

/* ---- PLC operations ---- */

static int
json_strings(const json_t *arr, const char *what, struct pds_error *err)
{
	size_t	 i;
	json_t	*v;

	if (!json_is_array(arr))
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "%s must be an array of strings", what);
	json_array_foreach(arr, i, v)
		if (!json_is_string(v))
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "%s must be an array of strings", what);
	return PDS_OK;
}

static int
apply_fields(struct plc_op *op, const json_t *in, struct pds_error *err)
{
	const json_t	*v, *e;
	const char	*k;
	size_t		 i;
	int		 rc = PDS_OK;

	if ((v = json_object_get(in, "rotationKeys")) != NULL &&
	    !json_is_null(v)) {
		if ((rc = json_strings(v, "rotationKeys", err)) != PDS_OK)
			return rc;
		plc_op_clear_rotation_keys(op);
		json_array_foreach(v, i, e)
			if ((rc = plc_op_add_rotation_key(op,
			    json_string_value(e))) != PDS_OK)
				return pds_error_set(err, PDS_EINVAL,
				    "InvalidRequest",
				    "bad rotation key: %s",
				    json_string_value(e));
	}
	if ((v = json_object_get(in, "alsoKnownAs")) != NULL &&
	    !json_is_null(v)) {
		if ((rc = json_strings(v, "alsoKnownAs", err)) != PDS_OK)
			return rc;
		plc_op_clear_aka(op);
		json_array_foreach(v, i, e)
			if ((rc = plc_op_add_aka(op, json_string_value(e))) !=
			    PDS_OK)
				return pds_error_set(err, PDS_EINVAL,
				    "InvalidRequest",
				    "bad alsoKnownAs entry");
	}
	if ((v = json_object_get(in, "verificationMethods")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_object(v))
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "verificationMethods must be an object");
		plc_op_clear_vmethods(op);
		json_object_foreach((json_t *)v, k, e)
			if (!json_is_string(e) || plc_op_set_vmethod(op, k,
			    json_string_value(e)) != PDS_OK)
				return pds_error_set(err, PDS_EINVAL,
				    "InvalidRequest",
				    "bad verification method %s", k);
	}
	if ((v = json_object_get(in, "services")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_object(v))
			return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
			    "services must be an object");
		plc_op_clear_services(op);
		json_object_foreach((json_t *)v, k, e) {
			const char *t = json_string_value(json_object_get(e,
			    "type"));
			const char *u = json_string_value(json_object_get(e,
			    "endpoint"));

			if (t == NULL || u == NULL || plc_op_set_service(op, k,
			    t, u) != PDS_OK)
				return pds_error_set(err, PDS_EINVAL,
				    "InvalidRequest",
				    "bad service %s", k);
		}
	}
	return PDS_OK;
}

int
migration_sign_plc_op(const char *did, const json_t *in, json_t **opj,
    struct pds_error *err)
{
	struct plc_op		*next = NULL;
	const struct plc_service *svc;
	char			 now[STORE_TS_LEN];
	int			 rc;

	*opj = NULL;
	memset(err, 0, sizeof(*err));
	if (!did_is_plc(did, strlen(did)))
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Only did:plc identities have PLC operations");
	if ((rc = account_plc_next_op(did, &next, err)) != PDS_OK)
		goto out;
	if ((rc = apply_fields(next, in, err)) != PDS_OK)
		goto out;
	if ((rc = plc_op_sign(next, account_rotation_key())) != PDS_OK ||
	    (rc = plc_op_to_json(next, opj)) != PDS_OK)
		goto out;
	/* An op that points elsewhere starts an outbound migration. */
	svc = plc_op_service(next, "atproto_pds");
	if (svc != NULL && !same_url(svc->endpoint, mcfg->public_url)) {
		store_timestamp(now);
		(void)store_mig_put(did, "out", "signed", svc->endpoint, now);
	}
	log_info("signPlcOperation %s: signed an update", did);
out:
	plc_op_free(next);
	return rc;
}

int
migration_submit_plc_op(const char *did, const json_t *opj,
    struct pds_error *err)
{
	struct store_account	 a;
	struct plc_op		*op = NULL;
	const struct plc_service *svc;
	const char		*why = NULL, *sk;
	char			 mine[KEY_DIDKEY_MAX], aka[SA_HANDLE_MAX + 8];
	char			 plcerr[PLC_CLIENT_ERR_MAX];
	bool			 ours = false, handle_ok;
	size_t			 i;
	int			 rc;

	memset(err, 0, sizeof(*err));
	if (!did_is_plc(did, strlen(did)))
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Only did:plc identities have PLC operations");
	if ((rc = account_get(did, &a)) != PDS_OK)
		return rc;
	if (!json_is_object(opj))
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Input must have the property \"operation\"");
	if ((rc = plc_op_from_json(opj, &op, &why)) != PDS_OK)
		return pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Invalid PLC operation: %s", why ? why : "unreadable");
	if (op->type != PLC_OP_OPERATION || op->sig == NULL) {
		rc = pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "The operation must be a signed plc_operation");
		goto out;
	}
	for (i = 0; i < op->n_rotation_keys; i++)
		if (strcmp(op->rotation_keys[i],
		    account_rotation_didkey()) == 0)
			ours = true;
	if (!ours) {
		rc = pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Rotation keys do not include server's rotation key");
		goto out;
	}
	svc = plc_op_service(op, "atproto_pds");
	if (svc == NULL || strcmp(svc->type, "AtprotoPersonalDataServer") !=
	    0 || !same_url(svc->endpoint, mcfg->public_url)) {
		rc = pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Incorrect endpoint on atproto_pds service");
		goto out;
	}
	if ((rc = account_signing_didkey(did, mine, sizeof(mine))) != PDS_OK)
		goto out;
	sk = plc_op_vmethod(op, "atproto");
	if (sk == NULL || strcmp(sk, mine) != 0) {
		rc = pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Incorrect signing key");
		goto out;
	}
	handle_ok = a.handle[0] == '\0';
	snprintf(aka, sizeof(aka), "at://%s", a.handle);
	for (i = 0; i < op->n_aka && !handle_ok; i++)
		if (strcasecmp(op->aka[i], aka) == 0)
			handle_ok = true;
	if (!handle_ok) {
		rc = pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Incorrect handle in alsoKnownAs");
		goto out;
	}
	if ((rc = plc_op_check_submit(op, &why)) != PDS_OK) {
		rc = pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "Invalid PLC operation: %s", why ? why : "refused");
		goto out;
	}
	if ((rc = plc_client_submit(did, op, plcerr, sizeof(plcerr))) !=
	    PDS_OK) {
		log_warnx("submitPlcOperation %s: PLC: %s", did, plcerr);
		rc = account_plc_fail(err, rc, "operation", plcerr);
		goto out;
	}
	if ((rc = store_begin()) != PDS_OK)
		goto out;
	if ((rc = events_identity(did, NULL)) != PDS_OK) {
		store_rollback();
		goto out;
	}
	if ((rc = store_commit()) != PDS_OK)
		goto out;
	events_notify();
	(void)resolver_refresh(did);
	log_info("submitPlcOperation %s: the DID now points here", did);
out:
	plc_op_free(op);
	return rc;
}

/*
 * alsoKnownAs with want (at://handle) first, in place of any other
 * at:// name, and the other names kept.
 */
static json_t *
aka_with(const json_t *aka, const char *want)
{
	json_t		*out = json_array(), *v;
	const char	*s;
	size_t		 i;

	if (out == NULL || json_array_append_new(out, json_string(want)) != 0) {
		json_decref(out);
		return NULL;
	}
	json_array_foreach(aka, i, v) {
		s = json_string_value(v);
		if (s != NULL && strncmp(s, "at://", 5) != 0)
			json_array_append(out, v);
	}
	return out;
}

int
migration_plc_point_here(const char *did, bool *changed,
    struct pds_error *err)
{
	struct store_account	 a;
	json_t			*data = NULL, *svcs = NULL, *in = NULL;
	json_t			*op = NULL, *aka, *v;
	char			 plcerr[PLC_CLIENT_ERR_MAX];
	char			 want[SA_HANDLE_MAX + 8], mine[KEY_DIDKEY_MAX];
	const char		*ep, *sk;
	bool			 has_handle;
	size_t			 i;
	int			 rc;

	*changed = false;
	memset(err, 0, sizeof(*err));
	if (!did_is_plc(did, strlen(did)))
		return PDS_OK;	/* activation checks a did:web document */
	if ((rc = account_get(did, &a)) != PDS_OK ||
	    (rc = account_signing_didkey(did, mine, sizeof(mine))) != PDS_OK)
		return rc;
	if ((rc = plc_client_get_data(did, &data, plcerr, sizeof(plcerr))) !=
	    PDS_OK)
		return account_plc_fail(err, rc, "DID data", plcerr);
	sk = json_string_value(json_object_get(json_object_get(data,
	    "verificationMethods"), "atproto"));
	if (sk == NULL || strcmp(sk, mine) != 0) {
		rc = pds_error_set(err, PDS_EINVAL, "InvalidRequest",
		    "The DID document names another signing key");
		goto out;
	}
	ep = json_string_value(json_object_get(json_object_get(
	    json_object_get(data, "services"), "atproto_pds"), "endpoint"));
	snprintf(want, sizeof(want), "at://%s", a.handle);
	aka = json_object_get(data, "alsoKnownAs");
	has_handle = a.handle[0] == '\0';
	json_array_foreach(aka, i, v)
		if (json_is_string(v) && strcasecmp(json_string_value(v),
		    want) == 0)
			has_handle = true;
	if (ep != NULL && same_url(ep, mcfg->public_url) && has_handle)
		goto out;	/* it names us already: nothing to sign */
	svcs = json_deep_copy(json_object_get(data, "services"));
	if (!json_is_object(svcs)) {
		json_decref(svcs);
		svcs = json_object();
	}
	if (svcs == NULL || json_object_set_new(svcs, "atproto_pds",
	    json_pack("{s:s,s:s}", "type", "AtprotoPersonalDataServer",
	    "endpoint", mcfg->public_url)) != 0 ||
	    (in = json_pack("{s:O}", "services", svcs)) == NULL ||
	    (!has_handle && json_object_set_new(in, "alsoKnownAs",
	    aka_with(aka, want)) != 0)) {
		rc = PDS_ENOMEM;
		goto out;
	}
	if ((rc = migration_sign_plc_op(did, in, &op, err)) == PDS_OK &&
	    (rc = migration_submit_plc_op(did, op, err)) == PDS_OK)
		*changed = true;
out:
	json_decref(op);
	json_decref(in);
	json_decref(svcs);
	json_decref(data);
	return rc;
}

/* ---- deletion ---- */

int
migration_account_purge(const char *did, bool announce)
{
	int	 rc;

	repo_writer_forget(did);
	if ((rc = store_begin()) != PDS_OK)
		return rc;
	rc = store_account_delete(did);
	if (rc == PDS_OK && announce)
		rc = events_account(did, ACCT_DELETED);
	if ((rc = store_end(rc)) != PDS_OK)
		return rc;
	if (announce)
		events_notify();
	repo_writer_forget(did);
	resolver_forget(did);
	if (blobs_delete_account(did) != PDS_OK)
		log_warnx("account %s deleted, but not all of its blob files "
		    "were removed", did);
	return PDS_OK;
}
