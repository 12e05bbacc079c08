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
#include "mst.h"
#include "repo_validate.h"
#include "syntax.h"

/* ---- the lexicon table ---------------------------------------------- */

enum fkind {
	F_STRING, F_DATETIME, F_DID, F_ATURI, F_STRONGREF, F_OBJECT,
	F_ARRAY, F_INT, F_BOOL, F_BLOB,
};

enum kkind { K_ANY, K_TID, K_SELF };

struct field {
	const char	*name;
	enum fkind	 kind;
	bool		 required;
	size_t		 max;		/* strings: bytes; blobs: size */
	const char	*accept;	/* blobs: MIME list, "image/" prefix */
};

#define FMAX	10

struct lexicon {
	const char	*nsid;
	enum kkind	 key;
	struct field	 f[FMAX];
};

#define REQ(n, k)	{ n, k, true, 0, NULL }
#define OPT(n, k)	{ n, k, false, 0, NULL }
#define STR(n, r, m)	{ n, F_STRING, r, m, NULL }
#define BLOB(n, m, a)	{ n, F_BLOB, false, m, a }

static const struct lexicon lexicons[] = {
	{ "app.bsky.feed.post", K_TID, {
	    STR("text", true, 3000), REQ("createdAt", F_DATETIME),
	    OPT("reply", F_OBJECT), OPT("embed", F_OBJECT),
	    OPT("facets", F_ARRAY), OPT("langs", F_ARRAY),
	    OPT("labels", F_OBJECT), OPT("tags", F_ARRAY) } },
	{ "app.bsky.feed.like", K_TID, {
	    REQ("subject", F_STRONGREF), REQ("createdAt", F_DATETIME),
	    OPT("via", F_STRONGREF) } },
	{ "app.bsky.feed.repost", K_TID, {
	    REQ("subject", F_STRONGREF), REQ("createdAt", F_DATETIME),
	    OPT("via", F_STRONGREF) } },
	{ "app.bsky.graph.follow", K_TID, {
	    REQ("subject", F_DID), REQ("createdAt", F_DATETIME) } },
	{ "app.bsky.graph.block", K_TID, {
	    REQ("subject", F_DID), REQ("createdAt", F_DATETIME) } },
	{ "app.bsky.graph.list", K_TID, {
	    STR("name", true, 640), STR("purpose", true, 0),
	    REQ("createdAt", F_DATETIME), STR("description", false, 3000),
	    BLOB("avatar", 1000000, "image/png,image/jpeg") } },
	{ "app.bsky.graph.listitem", K_TID, {
	    REQ("subject", F_DID), REQ("list", F_ATURI),
	    REQ("createdAt", F_DATETIME) } },
	{ "app.bsky.graph.listblock", K_TID, {
	    REQ("subject", F_ATURI), REQ("createdAt", F_DATETIME) } },
	{ "app.bsky.graph.starterpack", K_TID, {
	    STR("name", true, 500), REQ("list", F_ATURI),
	    REQ("createdAt", F_DATETIME) } },
	{ "app.bsky.actor.profile", K_SELF, {
	    STR("displayName", false, 640), STR("description", false, 2560),
	    BLOB("avatar", 1000000, "image/png,image/jpeg"),
	    BLOB("banner", 1000000, "image/png,image/jpeg"),
	    OPT("createdAt", F_DATETIME),
	    OPT("pinnedPost", F_STRONGREF) } },
	{ "app.bsky.feed.threadgate", K_TID, {
	    REQ("post", F_ATURI), REQ("createdAt", F_DATETIME),
	    OPT("allow", F_ARRAY), OPT("hiddenReplies", F_ARRAY) } },
	{ "app.bsky.feed.postgate", K_TID, {
	    REQ("post", F_ATURI), REQ("createdAt", F_DATETIME) } },
	{ "app.bsky.feed.generator", K_ANY, {
	    REQ("did", F_DID), STR("displayName", true, 240),
	    REQ("createdAt", F_DATETIME),
	    BLOB("avatar", 1000000, "image/png,image/jpeg") } },
	{ "app.bsky.labeler.service", K_SELF, {
	    REQ("policies", F_OBJECT), REQ("createdAt", F_DATETIME) } },
	{ "chat.bsky.actor.declaration", K_SELF, {
	    STR("allowIncoming", true, 0) } },
};

static const struct lexicon *
lexicon_find(const char *nsid)
{
	size_t	 i;

	for (i = 0; i < sizeof(lexicons) / sizeof(lexicons[0]); i++)
		if (strcmp(lexicons[i].nsid, nsid) == 0)
			return &lexicons[i];
	return NULL;
}

bool
repo_lexicon_known(const char *collection)
{
	return lexicon_find(collection) != NULL;
}

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

/* A NUL-terminated copy of a dm string into out[cap]; false if too long. */
static bool
str_copy(const struct dm_value *v, char *out, size_t cap)
{
	if (!is_str(v) || v->u.s.len >= cap ||
	    memchr(v->u.s.p, '\0', v->u.s.len) != NULL)
		return false;
	memcpy(out, v->u.s.p, v->u.s.len);
	out[v->u.s.len] = '\0';
	return true;
}

static bool
str_is(const struct dm_value *v, bool (*check)(const char *, size_t))
{
	return is_str(v) && check((const char *)v->u.s.p, v->u.s.len);
}

/* Does mime match an accept list of types and "type/" + "*" globs? */
static bool
mime_accepted(const char *accept, const char *mime)
{
	const char	*p = accept, *end;
	size_t		 n;

	while (*p != '\0') {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n >= 2 && p[n - 1] == '*' && p[n - 2] == '/') {
			if (strncmp(mime, p, n - 1) == 0)
				return true;
		} else if (strlen(mime) == n && strncmp(mime, p, n) == 0)
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

/*
 * The kinds one test settles, and what is wrong with a value that
 * fails it: a string of the syntax, or (syntax NULL) a value of type.
 */
static const struct {
	enum dm_type	 type;
	bool		(*syntax)(const char *, size_t);
	const char	*bad;
} plain[] = {
	[F_DATETIME] = { DM_STRING, syntax_is_datetime,
	    "must be a valid datetime" },
	[F_DID] = { DM_STRING, syntax_is_did, "must be a valid did" },
	[F_ATURI] = { DM_STRING, syntax_is_aturi, "must be a valid at-uri" },
	[F_OBJECT] = { DM_MAP, NULL, "must be an object" },
	[F_ARRAY] = { DM_ARRAY, NULL, "must be an array" },
	[F_INT] = { DM_INT, NULL, "must be an integer" },
	[F_BOOL] = { DM_BOOL, NULL, "must be a boolean" },
};

static int
check_field(const char *nsid, const struct field *f,
    const struct dm_value *v, struct pds_error *err)
{
	const char	*bad = NULL;
	const struct dm_value *m;

	switch (f->kind) {
	case F_STRING:
		if (!is_str(v))
			bad = "must be a string";
		else if (f->max > 0 && v->u.s.len > f->max)
			bad = "is too long";
		break;
	case F_STRONGREF:
		if (v->type != DM_MAP)
			bad = "must be an object";
		else if (!str_is(dm_map_get(v, "uri"), syntax_is_aturi))
			bad = "must have a valid at-uri \"uri\"";
		else if (!str_is(dm_map_get(v, "cid"), syntax_is_cid))
			bad = "must have a valid \"cid\"";
		break;
	default:
		if (plain[f->kind].syntax != NULL ?
		    !str_is(v, plain[f->kind].syntax) :
		    v->type != plain[f->kind].type)
			bad = plain[f->kind].bad;
		break;
	case F_BLOB:
		if (!dm_is_blob(v)) {
			bad = "must be a blob";
			break;
		}
		m = dm_map_get(v, "mimeType");
		if (f->accept != NULL) {
			char mime[256];
			if (!str_copy(m, mime, sizeof(mime)) ||
			    !mime_accepted(f->accept, mime))
				return fail(err, "InvalidRequest",
				    "Invalid %s record: %s mimeType is not "
				    "accepted (%s)", nsid, f->name, f->accept);
		}
		m = dm_map_get(v, "size");
		if (f->max > 0 && m != NULL && m->type == DM_INT &&
		    m->u.i > (int64_t)f->max)
			return fail(err, "InvalidRequest", "Invalid %s record: "
			    "%s is too big (max %zu bytes)", nsid, f->name,
			    f->max);
		break;
	}
	if (bad != NULL)
		return fail(err, "InvalidRequest", "Invalid %s record: %s %s",
		    nsid, f->name, bad);
	return PDS_OK;
}

/* Images embedded in a post: at most 1,000,000 bytes each. */
static int
check_post_blobs(const struct repo_record *r, struct pds_error *err)
{
	size_t	 i;

	for (i = 0; i < r->nblobs; i++) {
		if (strncmp(r->blobs[i].mime, "image/", 6) == 0 &&
		    r->blobs[i].size > 1000000)
			return fail(err, "InvalidRequest", "Invalid "
			    "app.bsky.feed.post record: image is too big "
			    "(max 1000000 bytes)");
	}
	return PDS_OK;
}

static int
check_lexicon(const struct lexicon *lx, const char *rkey,
    const struct repo_record *r, struct pds_error *err)
{
	const struct field *f;
	const struct dm_value *v;
	size_t		 i;
	int		 rc;

	if (lx->key == K_SELF && strcmp(rkey, "self") != 0)
		return fail(err, "InvalidRequest", "Invalid %s record key: "
		    "must be \"self\"", lx->nsid);
	if (lx->key == K_TID && !syntax_is_tid(rkey, strlen(rkey)))
		return fail(err, "InvalidRequest", "Invalid %s record key: "
		    "must be a TID", lx->nsid);
	for (i = 0; i < FMAX && lx->f[i].name != NULL; i++) {
		f = &lx->f[i];
		v = dm_map_get(r->value, f->name);
		if (v == NULL || v->type == DM_NULL) {
			if (f->required)
				return fail(err, "InvalidRequest",
				    "Invalid %s record: Record must have the "
				    "property \"%s\"", lx->nsid, f->name);
			continue;
		}
		if ((rc = check_field(lx->nsid, f, v, err)) != PDS_OK)
			return rc;
	}
	if (strcmp(lx->nsid, "app.bsky.feed.post") == 0)
		return check_post_blobs(r, err);
	return PDS_OK;
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
	const struct lexicon *lx;
	const struct dm_value *type;
	const char	*why = NULL;
	char		 key[NSID_MAX + 1 + RKEY_MAX + 1];
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

	lx = lexicon_find(collection);
	if (validate == REPO_VALIDATE_NO)
		r->validation = NULL;
	else if (lx == NULL) {
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
