/*
 * repo_validate: records from JSON to checked DAG-CBOR.  See
 * repo_validate.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "dmjson.h"
#include "err.h"
#include "lexicon.h"
#include "lexicon_resolve.h"
#include "mst.h"
#include "repo_validate.h"
#include "syntax.h"

/* ---- helpers -------------------------------------------------------- */

static int
fail(struct pds_error *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct pds_error *err, const char *name, const char *fmt, ...)
{
	va_list	 ap;

	err->code = PDS_EINVAL;
	err->name = name;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return PDS_EINVAL;
}

static bool
is_str(const struct dm_value *v)
{
	return v != NULL && v->type == DM_STRING;
}

bool
repo_lexicon_known(const char *collection)
{
	return lex_record_find(&lex_builtin, collection) != NULL;
}

/*
 * The record against its lexicon (lexicon.h), blobs against their
 * accept and maxSize, with the reference's messages ("Record/text must
 * not be longer than 300 graphemes").
 */
static int
check_lexicon(const struct lex_node *rec, const char *rkey,
    const struct repo_record *r, struct pds_error *err)
{
	struct lex_verr	 verr;

	if (lex_validate_record(&lex_builtin, rec, rkey, r->value, LEXV_BLOBS,
	    &verr) == 0)
		return PDS_OK;
	return fail(err, verr.name != NULL ? verr.name : "InvalidRequest",
	    "%s", verr.msg);
}

/* ---- blob references ------------------------------------------------ */

static int
blob_add(struct repo_record *r, const struct dm_value *v,
    struct pds_error *err)
{
	const struct dm_value *ref = dm_map_get(v, "ref");
	const struct dm_value *mime = dm_map_get(v, "mimeType");
	const struct dm_value *size = dm_map_get(v, "size");
	struct repo_blobref *nb;
	char		*m;
	size_t		 i;

	if (ref == NULL || ref->type != DM_LINK || !is_str(mime) ||
	    size == NULL || size->type != DM_INT)
		return fail(err, "InvalidRequest", "Invalid blob reference");
	if (cid_codec(&ref->u.link) != CID_CODEC_RAW ||
	    !cid_is_blessed(&ref->u.link))
		return fail(err, "InvalidRequest", "Invalid blob reference: "
		    "not a raw sha2-256 CID");
	for (i = 0; i < r->nblobs; i++)
		if (cid_equal(&r->blobs[i].cid, &ref->u.link))
			return PDS_OK;
	if (r->nblobs == r->blobcap) {
		size_t n = r->blobcap ? r->blobcap * 2 : 4;
		if (n > 10000)
			return fail(err, "InvalidRequest", "Too many blobs");
		if ((nb = reallocarray(r->blobs, n, sizeof(*nb))) == NULL)
			return PDS_ENOMEM;
		r->blobs = nb;
		r->blobcap = n;
	}
	if ((m = dm_arena_alloc(r->arena, mime->u.s.len + 1)) == NULL)
		return PDS_ENOMEM;
	memcpy(m, mime->u.s.p, mime->u.s.len);
	r->blobs[r->nblobs].cid = ref->u.link;
	r->blobs[r->nblobs].mime = m;
	r->blobs[r->nblobs].size = size->u.i;
	r->nblobs++;
	return PDS_OK;
}

static int
blob_walk(struct repo_record *r, const struct dm_value *v, int depth,
    struct pds_error *err)
{
	size_t	 i;
	int	 rc;

	if (depth > DM_MAX_DEPTH)
		return fail(err, "InvalidRequest", "Record nested too deeply");
	if (v->type == DM_MAP) {
		if (dm_is_blob(v))
			return blob_add(r, v, err);
		for (i = 0; i < v->u.map.n; i++)
			if ((rc = blob_walk(r, v->u.map.e[i].val, depth + 1,
			    err)) != PDS_OK)
				return rc;
	} else if (v->type == DM_ARRAY) {
		for (i = 0; i < v->u.arr.n; i++)
			if ((rc = blob_walk(r, v->u.arr.items[i], depth + 1,
			    err)) != PDS_OK)
				return rc;
	}
	return PDS_OK;
}

/* ---- the record ----------------------------------------------------- */

/* Give the record a "$type" of `collection' (a copy with one more key). */
static int
add_type(struct repo_record *r, const char *collection)
{
	struct dm_value	*m, *t;
	size_t		 i, n = r->value->u.map.n;
	const char	*why;

	if ((m = dm_map(r->arena, n + 1)) == NULL ||
	    (t = dm_string(r->arena, collection, strlen(collection))) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < n; i++)
		if (dm_map_set(m, r->value->u.map.e[i].key,
		    r->value->u.map.e[i].klen, r->value->u.map.e[i].val) !=
		    PDS_OK)
			return PDS_ENOMEM;
	if (dm_map_set(m, "$type", 5, t) != PDS_OK ||
	    dm_map_sort(m, &why) != PDS_OK)
		return PDS_ENOMEM;
	r->value = m;
	return PDS_OK;
}

int
repo_record_prepare(const char *collection, const char *rkey,
    const json_t *value, enum repo_validate validate, struct repo_record *r,
    struct pds_error *err)
{
	const struct lex_node *lx;
	const struct dm_value *type;
	const char	*why = NULL;
	char		 key[NSID_MAX + 1 + RKEY_MAX + 1], vmsg[256];
	int		 n, rc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->cbor, REPO_RECORD_MAX);
	if (!syntax_is_nsid(collection, strlen(collection)))
		return fail(err, "InvalidRequest", "Invalid collection: %.64s",
		    collection);
	if (!syntax_is_rkey(rkey, strlen(rkey)))
		return fail(err, "InvalidRequest", "Invalid record key: %.64s",
		    rkey);
	n = snprintf(key, sizeof(key), "%s/%s", collection, rkey);
	if (n < 0 || (size_t)n >= sizeof(key) ||
	    mst_key_check((const uint8_t *)key, (size_t)n, &why) != PDS_OK)
		return fail(err, "InvalidRequest", "Invalid record path: %s",
		    why != NULL ? why : "too long");
	if ((r->arena = dm_arena_new()) == NULL)
		return PDS_ENOMEM;
	dm_arena_set_max(r->arena, (size_t)32 << 20);
	if (value == NULL || !json_is_object(value))
		return fail(err, "InvalidRequest", "Record must be an object");
	if ((rc = dm_from_json_record(r->arena, value, &r->value, &why)) !=
	    PDS_OK) {
		if (rc == PDS_ENOMEM)
			return rc;
		return fail(err, "InvalidRequest", "Invalid record: %s",
		    why != NULL ? why : pds_strerror(rc));
	}
	type = dm_map_get(r->value, "$type");
	if (type == NULL) {
		if ((rc = add_type(r, collection)) != PDS_OK)
			return rc;
	} else if (!is_str(type) || type->u.s.len != strlen(collection) ||
	    memcmp(type->u.s.p, collection, type->u.s.len) != 0)
		return fail(err, "InvalidRequest", "Invalid $type: expected "
		    "%s, got %.64s", collection, is_str(type) ?
		    (const char *)type->u.s.p : "(not a string)");
	if ((rc = blob_walk(r, r->value, 0, err)) != PDS_OK)
		return rc;

	lx = lex_record_find(&lex_builtin, collection);
	if (validate == REPO_VALIDATE_NO)
		r->validation = NULL;
	else if (lx == NULL && (rc = lexres_check_record(collection, rkey,
	    r->value, vmsg, sizeof(vmsg))) != PDS_ENOTFOUND) {
		/* A third-party lexicon, resolved (lexicon_resolve.h). */
		if (rc == PDS_EINVAL)
			return fail(err, "InvalidRequest", "%s", vmsg);
		if (rc != PDS_OK)
			return rc;
		r->validation = "valid";
	} else if (lx == NULL) {
		if (validate == REPO_VALIDATE_YES)
			return fail(err, "InvalidRequest",
			    "Lexicon not found: lex:%s", collection);
		r->validation = "unknown";
	} else {
		if ((rc = check_lexicon(lx, rkey, r, err)) != PDS_OK)
			return rc;
		r->validation = "valid";
	}

	if ((rc = dm_encode(&r->cbor, r->value)) != PDS_OK) {
		if (rc == PDS_ETOOBIG)
			return fail(err, "InvalidRequest", "Record is too "
			    "big (max %d bytes)", REPO_RECORD_MAX);
		return rc;
	}
	cid_compute(&r->cid, CID_CODEC_DAGCBOR, r->cbor.p, r->cbor.len);
	return PDS_OK;
}

void
repo_record_clear(struct repo_record *r)
{
	dm_arena_free(r->arena);
	buf_clear(&r->cbor);
	free(r->blobs);
	memset(r, 0, sizeof(*r));
}
