/*
 * api_repo: the com.atproto.repo.* handlers for records and blobs
 * (reference-pds §1.2).  Thin: parse, call repo_writer / blobs /
 * store_repo, format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "accounts.h"
#include "api.h"
#include "api_blob_read.h"
#include "blobs.h"
#include "cbor.h"
#include "dmjson.h"
#include "err.h"
#include "http.h"
#include "jsonw.h"
#include "repo_writer.h"
#include "store_repo.h"
#include "syntax.h"

#define LIST_LIMIT_DEFAULT	50
#define LIST_LIMIT_MAX		100

/* ---- shared with api_sync.c ---- */

int
api_query_page(struct xrpc_ctx *ctx, size_t def, size_t max, size_t *out,
    const char **cursor)
{
	const char	*s = http_req_query(ctx->req, "limit");
	int64_t		 v;

	*cursor = http_req_query(ctx->req, "cursor");
	if (*cursor != NULL && **cursor == '\0')
		*cursor = NULL;
	*out = def;
	if (s == NULL || *s == '\0')
		return 0;
	if (!syntax_dec_i64(s, &v))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "limit must be an integer");
	if (v < 1 || (unsigned long long)v > max)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "limit must be between 1 and %zu", max);
	*out = (size_t)v;
	return 0;
}

int
api_query_check(struct xrpc_ctx *ctx, const char *key, bool required,
    bool (*is)(const char *, size_t), const char *what, const char **out)
{
	*out = http_req_query(ctx->req, key);
	if (required && (*out == NULL || **out == '\0'))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Params must have the property \"%s\"", key);
	if (*out == NULL || !is(*out, strlen(*out)))
		return xrpc_fail(ctx, PDS_EINVAL, NULL, "%s must be %s", key,
		    what);
	return 0;
}

int
api_input_bool(struct xrpc_ctx *ctx, const char *prefix, const char *key,
    int *v)
{
	const json_t	*j = json_object_get(ctx->input, key);

	*v = -1;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_boolean(j))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "%s%s must be a boolean", prefix, key);
	*v = json_is_true(j);
	return 0;
}

int
api_query_record(struct xrpc_ctx *ctx, const char **coll, const char **rkey)
{
	int	 rc;

	if ((rc = api_query_check(ctx, "collection", false, syntax_is_nsid,
	    "a valid NSID", coll)) != 0)
		return rc;
	return api_query_check(ctx, "rkey", false, syntax_is_rkey,
	    "a valid record key", rkey);
}

int
api_repo_unavailable(struct xrpc_ctx *ctx, const struct store_repo_acct *a)
{
	if (a->status == ACCT_TAKENDOWN)
		return xrpc_fail(ctx, PDS_EINVAL, "RepoTakendown",
		    "Repo has been takendown: %s", a->did);
	return xrpc_fail(ctx, PDS_EINVAL, "RepoDeactivated",
	    "Repo has been deactivated: %s", a->did);
}

/* ---- helpers ---- */

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/*
 * The repo a write names must be the caller's own (by DID or handle).
 * The account's state is checked by repo_write().
 */
static int
write_repo(struct xrpc_ctx *ctx, const char *repo)
{
	struct store_repo_acct a;
	int		 rc;

	if (repo == NULL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input must have the property \"repo\"");
	if (strcmp(repo, ctx->auth.did) == 0)
		return 0;
	if (strncmp(repo, "did:", 4) == 0)
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
		    "Not authorized to write to this repo");
	rc = store_repo_acct_find(repo, &a);
	if (rc == PDS_ENOTFOUND)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Could not find repo: %.256s", repo);
	if (rc != PDS_OK)
		return xrpc_fail(ctx, PDS_EINTERNAL, NULL, "account lookup");
	if (strcmp(a.did, ctx->auth.did) != 0)
		return xrpc_fail(ctx, PDS_EAUTHREQ, NULL,
		    "Not authorized to write to this repo");
	return 0;
}

/* The input's validate: AUTO when absent, else YES or NO. */
static int
opt_validate(struct xrpc_ctx *ctx, enum repo_validate *v)
{
	int	 b, rc;

	if ((rc = api_input_bool(ctx, "", "validate", &b)) != 0)
		return rc;
	*v = b < 0 ? REPO_VALIDATE_AUTO : b == 1 ? REPO_VALIDATE_YES :
	    REPO_VALIDATE_NO;
	return 0;
}

/* An optional CID field; *has says whether it is there (and non-null). */
static int
opt_cid(struct xrpc_ctx *ctx, const json_t *in, const char *key,
    struct cid *out, bool *has, bool *is_null)
{
	const json_t	*j = json_object_get(in, key);
	const char	*s;

	*has = false;
	if (is_null != NULL)
		*is_null = false;
	if (j == NULL)
		return 0;
	if (json_is_null(j)) {
		if (is_null != NULL)
			*is_null = true;
		return 0;
	}
	if ((s = json_string_value(j)) == NULL ||
	    cid_parse(out, s, strlen(s), NULL) != PDS_OK)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "%s must be a CID", key);
	*has = true;
	return 0;
}

static int
copy_field(struct xrpc_ctx *ctx, const json_t *in, const char *key,
    char *out, size_t cap, bool required)
{
	const char	*s = jstr(in, key);

	out[0] = '\0';
	if (s == NULL) {
		if (json_object_get(in, key) != NULL &&
		    !json_is_null(json_object_get(in, key)))
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "%s must be a string", key);
		if (required)
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "Input must have the property \"%s\"", key);
		return 0;
	}
	if (strlen(s) >= cap)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "%s is too long", key);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static json_t *
commit_json(const struct repo_write_result *res)
{
	return json_pack("{s:o,s:s}", "cid", dm_cid_json(&res->commit), "rev",
	    res->rev);
}

static json_t *
uri_json(const char *did, const struct repo_write_op *op)
{
	char	 uri[8 + DID_MAX + NSID_MAX + RKEY_MAX];

	snprintf(uri, sizeof(uri), "at://%s/%s/%s", did, op->collection,
	    op->rkey);
	return json_string(uri);
}

/* ---- writes: createRecord, putRecord, deleteRecord, applyWrites ---- */

/*
 * A write in flight: the request is deferred (http_req_defer) while its
 * commit waits for the writer thread's group transaction; write_done()
 * then answers from that thread.
 */
struct wjob {
	struct http_req	*req;
	char		 did[DID_MAX + 1];
	bool		 batch;		/* applyWrites */
	size_t		 nops;
	struct repo_write_op ops[];
};

static struct wjob *
wjob_new(struct xrpc_ctx *ctx, size_t nops, bool batch)
{
	struct wjob	*j;

	j = calloc(1, sizeof(*j) + (nops ? nops : 1) * sizeof(j->ops[0]));
	if (j == NULL)
		return NULL;
	j->req = ctx->req;
	snprintf(j->did, sizeof(j->did), "%s", ctx->auth.did);
	j->batch = batch;
	j->nops = nops;
	return j;
}

static json_t *
write_output(const struct wjob *j, const struct repo_write_result *res)
{
	const struct repo_write_op *op = &j->ops[0];
	const char	*rt;
	json_t		*out, *results, *r;
	size_t		 i;

	if (!j->batch && op->action == REPO_DELETE)
		return res->committed ? json_pack("{s:o}", "commit",
		    commit_json(res)) : json_object();
	if (!j->batch) {
		out = json_pack("{s:o,s:o,s:o}", "uri", uri_json(j->did, op),
		    "cid", dm_cid_json(&op->cid), "commit", commit_json(res));
		if (out != NULL && op->validation != NULL)
			json_object_set_new(out, "validationStatus",
			    json_string(op->validation));
		return out;
	}
	if ((results = json_array()) == NULL)
		return NULL;
	for (i = 0; i < j->nops; i++) {
		op = &j->ops[i];
		if (op->done == REPO_DELETE) {
			r = json_pack("{s:s}", "$type",
			    "com.atproto.repo.applyWrites#deleteResult");
		} else {
			rt = op->done == REPO_CREATE ?
			    "com.atproto.repo.applyWrites#createResult" :
			    "com.atproto.repo.applyWrites#updateResult";
			r = json_pack("{s:s,s:o,s:o}", "$type", rt, "uri",
			    uri_json(j->did, op), "cid", dm_cid_json(&op->cid));
			if (r != NULL && op->validation != NULL)
				json_object_set_new(r, "validationStatus",
				    json_string(op->validation));
		}
		if (r == NULL || json_array_append_new(results, r) != 0) {
			json_decref(results);
			return NULL;
		}
	}
	if (!res->committed)
		return json_pack("{s:o}", "results", results);
	return json_pack("{s:o,s:o}", "commit", commit_json(res), "results",
	    results);
}

/* From the writer thread: answer the deferred request. */
static void
write_done(void *arg, int rc, const struct repo_write_result *res,
    const struct pds_error *err)
{
	struct wjob	*j = arg;
	json_t		*out;

	if (rc != PDS_OK)
		xrpc_reply_pds_error(j->req, err);
	else if ((out = write_output(j, res)) == NULL)
		xrpc_reply_error(j->req, PDS_EINTERNAL, NULL, NULL);
	else
		http_reply_json(j->req, 200, out);
	http_req_resume(j->req);
	free(j);
}

/* Start the write; the reply comes from write_done() unless refused. */
static int
write_start(struct xrpc_ctx *ctx, struct wjob *j,
    const struct cid *swap_commit, unsigned flags)
{
	struct repo_write_result res;
	struct pds_error	 err;
	json_t			*out;
	int			 rc;

	http_req_defer(ctx->req);
	rc = repo_write_async(j->did, j->ops, j->nops, swap_commit, flags,
	    &res, &err, write_done, j);
	if (rc == REPO_QUEUED)
		return 0;
	http_req_resume(ctx->req);		/* answered right here */
	if (rc != PDS_OK) {
		free(j);
		return xrpc_fail_error(ctx, &err);
	}
	out = write_output(j, &res);
	free(j);
	return xrpc_reply_json_or(ctx, out, PDS_EINTERNAL);
}

/* createRecord, putRecord and deleteRecord: the route says which. */
int
api_repo_write_record(struct xrpc_ctx *ctx)
{
	enum repo_action action = ctx->route->arg;
	struct repo_write_op *op;
	struct wjob	*j;
	struct cid	 swap_commit;
	bool		 has_swap_commit, swap_null;
	int		 rc;

	if ((rc = write_repo(ctx, jstr(ctx->input, "repo"))) != 0)
		return rc;
	if ((j = wjob_new(ctx, 1, false)) == NULL)
		return PDS_EINTERNAL;
	op = &j->ops[0];
	op->action = action;
	if ((rc = copy_field(ctx, ctx->input, "collection", op->collection,
	    sizeof(op->collection), true)) != 0 ||
	    (rc = copy_field(ctx, ctx->input, "rkey", op->rkey,
	    sizeof(op->rkey), action != REPO_CREATE)) != 0 ||
	    (rc = opt_validate(ctx, &op->validate)) != 0 ||
	    (rc = opt_cid(ctx, ctx->input, "swapCommit", &swap_commit,
	    &has_swap_commit, NULL)) != 0)
		goto fail;
	if (action != REPO_DELETE) {
		op->value = json_object_get(ctx->input, "record");
		if (op->value == NULL) {
			rc = xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "Input must have the property \"record\"");
			goto fail;
		}
	}
	if (action != REPO_CREATE) {
		if ((rc = opt_cid(ctx, ctx->input, "swapRecord", &op->swap,
		    &op->has_swap, &swap_null)) != 0)
			goto fail;
		/* putRecord: an explicit null means "must not exist" */
		if (swap_null && action == REPO_PUT) {
			op->has_swap = true;
			op->swap_null = true;
		}
	}
	return write_start(ctx, j, has_swap_commit ? &swap_commit : NULL,
	    action == REPO_DELETE && !op->has_swap ?
	    REPO_F_DELETE_ABSENT_OK : 0);
fail:
	free(j);
	return rc;
}

int
api_repo_apply_writes(struct xrpc_ctx *ctx)
{
	struct repo_write_op *op;
	struct wjob	*j = NULL;
	struct cid	 swap_commit;
	enum repo_validate validate;
	const json_t	*writes, *w;
	const char	*type;
	bool		 has_swap_commit;
	size_t		 i, n;
	int		 rc;

	if ((rc = write_repo(ctx, jstr(ctx->input, "repo"))) != 0 ||
	    (rc = opt_validate(ctx, &validate)) != 0 ||
	    (rc = opt_cid(ctx, ctx->input, "swapCommit", &swap_commit,
	    &has_swap_commit, NULL)) != 0)
		return rc;
	writes = json_object_get(ctx->input, "writes");
	if (!json_is_array(writes))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input must have the property \"writes\"");
	n = json_array_size(writes);
	if (n > REPO_WRITES_MAX)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Too many writes. Max: %d", REPO_WRITES_MAX);
	if ((j = wjob_new(ctx, n, true)) == NULL)
		return PDS_EINTERNAL;
	for (i = 0; i < n; i++) {
		w = json_array_get(writes, i);
		op = &j->ops[i];
		type = jstr(w, "$type");
		if (type == NULL) {
			rc = xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "writes/%zu must have a $type", i);
			goto fail;
		}
		if (strcmp(type, "com.atproto.repo.applyWrites#create") == 0)
			op->action = REPO_CREATE;
		else if (strcmp(type,
		    "com.atproto.repo.applyWrites#update") == 0)
			op->action = REPO_UPDATE;
		else if (strcmp(type,
		    "com.atproto.repo.applyWrites#delete") == 0)
			op->action = REPO_DELETE;
		else {
			rc = xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "writes/%zu has an unknown $type", i);
			goto fail;
		}
		op->validate = validate;
		if ((rc = copy_field(ctx, w, "collection", op->collection,
		    sizeof(op->collection), true)) != 0 ||
		    (rc = copy_field(ctx, w, "rkey", op->rkey,
		    sizeof(op->rkey), op->action != REPO_CREATE)) != 0)
			goto fail;
		if (op->action != REPO_DELETE &&
		    (op->value = json_object_get(w, "value")) == NULL) {
			rc = xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "writes/%zu must have a value", i);
			goto fail;
		}
	}
	return write_start(ctx, j, has_swap_commit ? &swap_commit : NULL, 0);
fail:
	free(j);
	return rc;
}

/* ---- uploadBlob ---- */

int
api_repo_upload_blob(struct xrpc_ctx *ctx)
{
	struct blob_info b;
	struct store_repo_acct a;
	int		 rc;

	if ((rc = store_repo_acct_find(ctx->auth.did, &a)) != PDS_OK)
		return xrpc_fail(ctx, rc == PDS_ENOTFOUND ?
		    PDS_EINVAL : PDS_EINTERNAL, NULL,
		    "Could not find account");
	if (a.status == ACCT_TAKENDOWN)	/* the message it had */
		return xrpc_fail(ctx, PDS_ETAKENDOWN, NULL, "%s",
		    pds_strerror(PDS_EUNSUPP));
	if (ctx->upload != NULL)	/* the body was streamed into it */
		rc = blobs_upload_finish(ctx->upload, ctx->auth.did,
		    http_req_header(ctx->req, "Content-Type"), &b);
	else
		rc = blobs_upload(ctx->auth.did, ctx->body, ctx->body_len,
		    http_req_header(ctx->req, "Content-Type"), &b);
	if (rc == PDS_EBUSY) {		/* the blob store: not stored */
		api_blob_unavailable(ctx->req);
		return xrpc_fail(ctx, PDS_EBUSY, NULL, "The blob store is "
		    "unavailable; the blob was not stored, try again later");
	}
	if (rc == PDS_EUPSTREAM)
		return xrpc_fail(ctx, PDS_EUPSTREAM, NULL, "The blob store "
		    "refused the blob; it was not stored (see pdsctl stats)");
	if (rc != PDS_OK)
		return xrpc_fail(ctx, PDS_EINTERNAL, NULL, "blob upload");
	xrpc_reply_json(ctx, json_pack("{s:{s:s,s:{s:o},s:s,s:I}}", "blob",
	    "$type", "blob", "ref", "$link", dm_cid_json(&b.cid), "mimeType",
	    b.mime, "size", (json_int_t)b.size));
	return 0;
}

/* ---- reads ---- */

/*
 * The repo a read names (DID or handle), which must be active: taken-down
 * and deactivated repos answer RepoTakendown / RepoDeactivated.
 */
static int
read_repo(struct xrpc_ctx *ctx, struct store_repo_acct *a)
{
	const char	*repo;
	int		 rc;

	if ((rc = api_query_check(ctx, "repo", true, syntax_is_atidentifier,
	    "a valid did or a handle", &repo)) != 0)
		return rc;
	rc = store_repo_acct_find(repo, a);
	if (rc == PDS_ENOTFOUND || (rc == PDS_OK &&
	    a->status == ACCT_DELETED))
		return xrpc_fail(ctx, PDS_EINVAL, "RepoNotFound",
		    "Could not find repo: %.256s", repo);
	if (rc != PDS_OK)
		return xrpc_fail(ctx, PDS_EINTERNAL, NULL, "account lookup");
	if (a->status != ACCT_ACTIVE)
		return api_repo_unavailable(ctx, a);
	return 0;
}

/*
 * {"uri":...,"cid":...,"value":<the record as JSON> (no closing brace),
 * written straight from the stored DAG-CBOR (jsonw_cbor()): no tree, no
 * json_t, no second UTF-8 scan.  The bytes are those json_dumps() gave
 * for the same tree, and a record dm_decode() refuses fails the same.
 */
static int
record_json_write(struct buf *out, const char *uri, const char *cid,
    const uint8_t *data, size_t len)
{
	int		 rc;

	if ((rc = buf_append(out, "{\"uri\":", 7)) == PDS_OK &&
	    (rc = jsonw_cstr(out, uri)) == PDS_OK &&
	    (rc = buf_append(out, ",\"cid\":", 7)) == PDS_OK &&
	    (rc = jsonw_cstr(out, cid)) == PDS_OK &&
	    (rc = buf_append(out, ",\"value\":", 9)) == PDS_OK)
		rc = jsonw_cbor(out, data, len, NULL);
	return rc;
}

/* Reply 200 with the JSON text in b (which is emptied). */
static void
reply_buf(struct xrpc_ctx *ctx, struct buf *b)
{
	size_t	 len;
	uint8_t	*p = buf_detach(b, &len);

	if (p == NULL) {
		xrpc_reply_json(ctx, NULL);
		return;
	}
	http_reply_owned(ctx->req, 200, "application/json; charset=utf-8",
	    p, len);
}

static int
get_record(struct xrpc_ctx *ctx)
{
	struct store_repo_acct a;
	struct cid	 cid, want;
	struct buf	 b, out;
	const char	*coll, *rkey;
	const char	*wcid = http_req_query(ctx->req, "cid");
	char		 uri[8 + DID_MAX + NSID_MAX + RKEY_MAX];
	char		 cs[CID_STR_MAX];
	int		 rc;

	if ((rc = read_repo(ctx, &a)) != 0 ||
	    (rc = api_query_record(ctx, &coll, &rkey)) != 0)
		return rc;
	if (wcid != NULL && *wcid != '\0' &&
	    cid_parse(&want, wcid, strlen(wcid), NULL) != PDS_OK)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "cid must be a CID");
	snprintf(uri, sizeof(uri), "at://%s/%s/%s", a.did, coll, rkey);
	buf_init(&b, (size_t)4 << 20);
	rc = store_record_get(a.did, coll, rkey, false, &cid, &b);
	if (rc == PDS_OK && wcid != NULL && *wcid != '\0' &&
	    !cid_equal(&cid, &want))
		rc = PDS_ENOTFOUND;
	if (rc != PDS_OK) {
		buf_clear(&b);
		if (rc == PDS_ENOTFOUND)
			return xrpc_fail(ctx, PDS_EINVAL,
			    "RecordNotFound", "Could not locate record: %s",
			    uri);
		return PDS_EINTERNAL;
	}
	if (cid_format(&cid, cs, sizeof(cs)) < 0) {
		buf_clear(&b);
		return PDS_EINTERNAL;
	}
	buf_init(&out, BUF_MAX_DEFAULT);
	rc = record_json_write(&out, uri, cs, b.p, b.len);
	buf_clear(&b);
	if (rc != PDS_OK || (rc = buf_putc(&out, '}')) != PDS_OK) {
		buf_clear(&out);
		return PDS_EINTERNAL;
	}
	reply_buf(ctx, &out);
	return 0;
}

struct list_ctx {
	struct buf	 out;
	/* "at://did/collection/", then each record's rkey after it */
	char		 uri[8 + DID_MAX + NSID_MAX + RKEY_MAX];
	size_t		 prefix;
	char		 last[RKEY_MAX + 1];
	size_t		 n;
};

static int
list_cb(void *arg, const struct store_record_listed *l)
{
	struct list_ctx	*lc = arg;
	size_t		 len = strlen(l->rkey);
	int		 rc;

	/* no snprintf() per record: the prefix is written once */
	if (len > sizeof(lc->uri) - lc->prefix - 1)
		len = sizeof(lc->uri) - lc->prefix - 1;
	memcpy(lc->uri + lc->prefix, l->rkey, len);
	lc->uri[lc->prefix + len] = '\0';
	if ((lc->n > 0 && (rc = buf_putc(&lc->out, ',')) != PDS_OK) ||
	    (rc = record_json_write(&lc->out, lc->uri, l->cid,
	    l->data, l->len)) != PDS_OK ||
	    (rc = buf_putc(&lc->out, '}')) != PDS_OK)
		return rc == PDS_EINVAL ? PDS_EINTERNAL : rc;
	if (len > sizeof(lc->last) - 1)
		len = sizeof(lc->last) - 1;
	memcpy(lc->last, l->rkey, len);
	lc->last[len] = '\0';
	lc->n++;
	return 0;
}

static int
list_records(struct xrpc_ctx *ctx)
{
	struct store_repo_acct a;
	struct list_ctx	 lc;
	const char	*coll, *cursor;
	const char	*rev = http_req_query(ctx->req, "reverse");
	size_t		 limit;
	bool		 reverse = rev != NULL && strcmp(rev, "true") == 0;
	int		 rc;

	if ((rc = read_repo(ctx, &a)) != 0 ||
	    (rc = api_query_page(ctx, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX,
	    &limit, &cursor)) != 0 ||
	    (rc = api_query_check(ctx, "collection", false, syntax_is_nsid,
	    "a valid NSID", &coll)) != 0)
		return rc;
	if (rev != NULL && strcmp(rev, "true") != 0 &&
	    strcmp(rev, "false") != 0)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "reverse must be a boolean");
	memset(&lc, 0, sizeof(lc));
	lc.prefix = (size_t)snprintf(lc.uri, sizeof(lc.uri), "at://%s/%s/",
	    a.did, coll);
	if (lc.prefix >= sizeof(lc.uri))
		return PDS_EINTERNAL;
	/* {"records":[...],"cursor":"..."}, written as the rows come. */
	buf_init(&lc.out, BUF_MAX_DEFAULT);
	if (buf_reserve(&lc.out, 512 * (limit + 1)) != PDS_OK ||
	    buf_append(&lc.out, "{\"records\":[", 12) != PDS_OK) {
		buf_clear(&lc.out);
		return PDS_EINTERNAL;
	}
	rc = store_record_list(a.did, coll, cursor, reverse, limit, list_cb,
	    &lc);
	if (rc == PDS_OK)
		rc = buf_putc(&lc.out, ']');
	if (rc == PDS_OK && lc.n == limit &&
	    (rc = buf_append(&lc.out, ",\"cursor\":", 10)) == PDS_OK)
		rc = jsonw_cstr(&lc.out, lc.last);
	if (rc == PDS_OK)
		rc = buf_putc(&lc.out, '}');
	if (rc != PDS_OK) {
		buf_clear(&lc.out);
		return PDS_EINTERNAL;
	}
	reply_buf(ctx, &lc.out);
	return 0;
}

/*
 * getRecord and listRecords read the account, then the records: in one
 * read transaction rather than one per statement, since beginning and
 * ending one (a lock and an unlock of the log's shared memory, under a
 * mutex the HTTP workers share) cost as much as the account lookup.  If
 * BEGIN fails, each statement reads on its own as before.
 */
static int
in_read_tx(struct xrpc_ctx *ctx, int (*fn)(struct xrpc_ctx *))
{
	bool	 tx;
	int	 rc;

	store_read_cache();
	tx = store_repo_read_begin() == PDS_OK;

	rc = fn(ctx);
	if (tx)
		store_repo_read_end();
	return rc;
}

int
api_repo_get_record(struct xrpc_ctx *ctx)
{
	return in_read_tx(ctx, get_record);
}

int
api_repo_list_records(struct xrpc_ctx *ctx)
{
	return in_read_tx(ctx, list_records);
}

struct coll_ctx {
	json_t	*arr;
};

static int
coll_cb(void *arg, const char *c)
{
	struct coll_ctx	*cc = arg;

	return json_array_append_new(cc->arr, json_string(c)) == 0 ? 0 :
	    PDS_ENOMEM;
}

/* Whether the DID document's alsoKnownAs names at://handle. */
static bool
handle_in_doc(const json_t *doc, const char *handle)
{
	const json_t	*aka = json_object_get(doc, "alsoKnownAs"), *v;
	const char	*s;
	size_t		 i;

	json_array_foreach(aka, i, v) {
		if ((s = json_string_value(v)) != NULL &&
		    strncmp(s, "at://", 5) == 0 && strcasecmp(s + 5, handle) == 0)
			return true;
	}
	return false;
}

int
api_repo_describe_repo(struct xrpc_ctx *ctx)
{
	struct store_repo_acct a;
	struct coll_ctx	 cc;
	json_t		*doc = NULL, *out;
	bool		 correct;
	int		 rc;

	if ((rc = read_repo(ctx, &a)) != 0)
		return rc;
	if ((cc.arr = json_array()) == NULL)
		return PDS_EINTERNAL;
	if (store_repo_collections(a.did, coll_cb, &cc) != PDS_OK) {
		json_decref(cc.arr);
		return PDS_EINTERNAL;
	}
	if (account_did_doc(a.did, &doc) != PDS_OK || doc == NULL)
		doc = json_object();
	correct = a.handle[0] != '\0' && handle_in_doc(doc, a.handle);
	out = json_pack("{s:s,s:s,s:o,s:o,s:b}", "handle",
	    a.handle[0] != '\0' ? a.handle : "handle.invalid", "did", a.did,
	    "didDoc", doc, "collections", cc.arr, "handleIsCorrect", correct);
	return xrpc_reply_json_or(ctx, out, PDS_EINTERNAL);
}
