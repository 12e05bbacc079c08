/*
 * lexicon_validate: one validator for every lexicon type, walking a
 * data-model value against a lex_table.  See lexicon.h.
 *
 * A value absent from an object is NULL here (the reference's
 * undefined); a JSON null is a DM_NULL value.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/utext.h>

#include "dmjson.h"
#include "lexicon.h"
#include "syntax.h"
#include "thread.h"

#define LEXV_DEPTH	64	/* schema refs followed, at most */

struct vctx {
	const struct lex_table *t;
	int		 flags;
	struct lex_verr	*err;
	char		 path[512];
	size_t		 plen;
	int		 depth;
};

static int __attribute__((format(printf, 2, 3)))
verr(struct vctx *c, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	n = snprintf(c->err->msg, sizeof(c->err->msg), "%s ", c->path);
	if (n < 0 || (size_t)n >= sizeof(c->err->msg))
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err->msg + n, sizeof(c->err->msg) - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Append "/seg" to the path; returns the length to restore. */
static size_t
path_push(struct vctx *c, const char *seg, size_t len)
{
	size_t	 old = c->plen, room = sizeof(c->path) - c->plen;

	if (room > 1) {
		c->path[c->plen++] = '/';
		room--;
		if (len >= room)
			len = room - 1;
		memcpy(c->path + c->plen, seg, len);
		c->plen += len;
		c->path[c->plen] = '\0';
	}
	return old;
}

static void
path_pop(struct vctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static const char *
str(const struct vctx *c, int64_t i)
{
	return c->t->strs[i];
}

static bool
dm_str_eq(const struct dm_value *v, const char *s)
{
	size_t	 n = strlen(s);

	return v->u.s.len == n && memcmp(v->u.s.p, s, n) == 0;
}

/*
 * One ICU character break iterator per thread (opening one costs more
 * than counting a post), made at first use; only text longer in bytes
 * than a maxGraphemes is ever counted.  ICU follows the current Unicode
 * rules (UAX #29): a ZWJ emoji sequence or a flag is one grapheme.
 */
static pthread_key_t	gbi_key;
static pthread_once_t	gbi_once = PTHREAD_ONCE_INIT;
static bool		gbi_keyed;

static void
gbi_close(void *p)
{
	ubrk_close(p);
}

static void
gbi_init(void)
{
	gbi_keyed = pthread_key_create(&gbi_key, gbi_close) == 0;
}

static void *
gbi_open(void)
{
	UBreakIterator	*bi;
	UErrorCode	 st = U_ZERO_ERROR;

	bi = ubrk_open(UBRK_CHARACTER, "", NULL, 0, &st);
	return U_FAILURE(st) ? NULL : bi;
}

/* This thread's iterator (closed when the thread ends), or NULL. */
static UBreakIterator *
gbi_get(void)
{
	pthread_once(&gbi_once, gbi_init);
	if (!gbi_keyed)
		return NULL;
	return thread_value(gbi_key, gbi_open, gbi_close);
}

size_t
lex_graphemes(const uint8_t *p, size_t len)
{
	UErrorCode	 st = U_ZERO_ERROR;
	UText		 ut = UTEXT_INITIALIZER;
	UBreakIterator	*gbi;
	size_t		 n = 0, i;

	if (len == 0)
		return 0;
	/*
	 * ASCII alone: every byte is a grapheme but CR LF (UAX #29 GB3;
	 * no ASCII character extends, prepends or joins).
	 */
	for (n = 0; n < len && p[n] < 0x80; n++)
		;
	if (n == len) {
		for (i = 0; i + 1 < len; i++)
			if (p[i] == '\r' && p[i + 1] == '\n')
				n--;
		return n;
	}
	n = 0;
	if (len > INT32_MAX)
		return SIZE_MAX;
	if ((gbi = gbi_get()) == NULL)
		return SIZE_MAX;	/* refuse rather than guess */
	utext_openUTF8(&ut, (const char *)p, (int64_t)len, &st);
	ubrk_setUText(gbi, &ut, &st);
	if (U_FAILURE(st)) {
		utext_close(&ut);
		return SIZE_MAX;
	}
	ubrk_first(gbi);
	while (ubrk_next(gbi) != UBRK_DONE)
		n++;
	utext_close(&ut);
	return n;
}

static const struct {
	bool		(*ok)(const char *, size_t);
	const char	*msg;
} formats[LEXF_NFORMATS] = {
	[LEXF_DATETIME] = { syntax_is_datetime, "must be an valid atproto "
	    "datetime (both RFC-3339 and ISO-8601)" },
	[LEXF_URI] = { syntax_is_uri, "must be a uri" },
	[LEXF_ATURI] = { syntax_is_aturi, "must be a valid at-uri" },
	[LEXF_DID] = { syntax_is_did, "must be a valid did" },
	[LEXF_HANDLE] = { syntax_is_handle, "must be a valid handle" },
	[LEXF_ATID] = { syntax_is_atidentifier,
	    "must be a valid did or a handle" },
	[LEXF_NSID] = { syntax_is_nsid, "must be a valid nsid" },
	[LEXF_CID] = { syntax_is_cid, "must be a cid string" },
	[LEXF_LANGUAGE] = { syntax_is_language,
	    "must be a well-formed BCP 47 language tag" },
	[LEXF_TID] = { syntax_is_tid, "must be a valid TID" },
	[LEXF_RKEY] = { syntax_is_rkey, "must be a valid Record Key" },
};

/* The enum of n as "(a|b|c)" into buf. */
static const char *
enum_list(const struct vctx *c, const struct lex_node *n, char *buf,
    size_t cap)
{
	size_t	 i, o = 0;
	int	 w;

	buf[0] = '\0';
	for (i = 0; i < n->n && o < cap; i++) {
		w = snprintf(buf + o, cap - o, "%s%s", i ? "|" : "",
		    str(c, c->t->items[n->list + i].name));
		if (w < 0)
			break;
		o += (size_t)w;
	}
	return buf;
}

static int
v_string(struct vctx *c, const struct lex_node *n, const struct dm_value *v)
{
	const char	*s = (const char *)v->u.s.p;
	size_t		 len = v->u.s.len, i, g;
	char		 buf[200];

	if (v->type != DM_STRING)
		return verr(c, "must be a string");
	if ((n->flags & LEXN_CONST) && !dm_str_eq(v, str(c, n->k)))
		return verr(c, "must be %s", str(c, n->k));
	if (n->flags & LEXN_ENUM) {
		for (i = 0; i < n->n; i++)
			if (dm_str_eq(v, str(c, c->t->items[n->list + i].name)))
				break;
		if (i == n->n)
			return verr(c, "must be one of (%s)",
			    enum_list(c, n, buf, sizeof(buf)));
	}
	if ((n->flags & LEXN_MAX) && (int64_t)len > n->max)
		return verr(c, "must not be longer than %" PRId64
		    " characters", n->max);
	if ((n->flags & LEXN_MIN) && (int64_t)len < n->min)
		return verr(c, "must not be shorter than %" PRId64
		    " characters", n->min);
	/* A grapheme takes one byte at least: count only when it matters. */
	if (((n->flags & LEXN_GMAX) && len > n->gmax) ||
	    (n->flags & LEXN_GMIN)) {
		g = lex_graphemes(v->u.s.p, len);
		if ((n->flags & LEXN_GMAX) && g > n->gmax)
			return verr(c, "must not be longer than %" PRIu32
			    " graphemes", n->gmax);
		if ((n->flags & LEXN_GMIN) && g < n->gmin)
			return verr(c, "must not be shorter than %" PRIu32
			    " graphemes", n->gmin);
	}
	if (n->format != LEXF_NONE && n->format < LEXF_NFORMATS &&
	    !formats[n->format].ok(s, len))
		return verr(c, "%s", formats[n->format].msg);
	return 0;
}

static int
v_integer(struct vctx *c, const struct lex_node *n, const struct dm_value *v)
{
	char	 num[32], buf[200];
	size_t	 i;

	if (v->type != DM_INT)
		return verr(c, "must be an integer");
	if ((n->flags & LEXN_CONST) && v->u.i != n->k)
		return verr(c, "must be %" PRId64, n->k);
	if (n->flags & LEXN_ENUM) {
		snprintf(num, sizeof(num), "%" PRId64, v->u.i);
		for (i = 0; i < n->n; i++)
			if (strcmp(num, str(c, c->t->items[n->list + i].name))
			    == 0)
				break;
		if (i == n->n)
			return verr(c, "must be one of (%s)",
			    enum_list(c, n, buf, sizeof(buf)));
	}
	if ((n->flags & LEXN_MAX) && v->u.i > n->max)
		return verr(c, "can not be greater than %" PRId64, n->max);
	if ((n->flags & LEXN_MIN) && v->u.i < n->min)
		return verr(c, "can not be less than %" PRId64, n->min);
	return 0;
}

/* Does a MIME type match an accept entry: "image/png", "image/" + "*"? */
static bool
mime_match(const char *pat, const struct dm_value *mime)
{
	size_t	 n = strlen(pat);

	if (strcmp(pat, "*/*") == 0 || strcmp(pat, "*") == 0)
		return true;
	if (n >= 2 && pat[n - 1] == '*' && pat[n - 2] == '/')
		return mime->u.s.len >= n - 1 &&
		    memcmp(mime->u.s.p, pat, n - 1) == 0;
	return dm_str_eq(mime, pat);
}

static int
v_blob(struct vctx *c, const struct lex_node *n, const struct dm_value *v)
{
	const struct dm_value *mime, *size;
	char		 buf[200];
	size_t		 i, o = 0;

	if (!dm_is_blob(v))
		return verr(c, "should be a blob ref");
	if (!(c->flags & LEXV_BLOBS))
		return 0;
	mime = dm_map_get(v, "mimeType");
	size = dm_map_get(v, "size");
	if ((n->flags & LEXN_MAX) && size != NULL && size->type == DM_INT &&
	    size->u.i > n->max)
		return verr(c, "must not be larger than %" PRId64 " bytes",
		    n->max);
	if (n->n == 0 || mime == NULL || mime->type != DM_STRING)
		return 0;
	for (i = 0; i < n->n; i++)
		if (mime_match(str(c, c->t->items[n->list + i].name), mime))
			return 0;
	buf[0] = '\0';
	for (i = 0; i < n->n && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
		    i ? ", " : "", str(c, c->t->items[n->list + i].name));
	return verr(c, "must be of an accepted type (%s), not %.*s", buf,
	    (int)(mime->u.s.len > 64 ? 64 : mime->u.s.len),
	    (const char *)mime->u.s.p);
}

static int	v_one(struct vctx *, uint32_t, const struct dm_value *);

/*
 * A value the reference takes for a JavaScript object: maps, but also
 * arrays, links and bytes (typeof "object"), which then have none of an
 * object schema's properties.  Kept so that verdicts match the network's.
 */
static bool
is_obj(const struct dm_value *v)
{
	return v != NULL && (v->type == DM_MAP || v->type == DM_ARRAY ||
	    v->type == DM_LINK || v->type == DM_BYTES);
}

/* Does a primitive schema give an absent value a default? */
static bool
has_default(const struct lex_node *p)
{
	return (p->type == LEX_INTEGER || p->type == LEX_BOOLEAN ||
	    p->type == LEX_STRING) && (p->flags & LEXN_DEFAULT);
}

static int
v_object(struct vctx *c, const struct lex_node *n, const struct dm_value *v)
{
	const struct lex_item *it;
	const struct lex_node *p;
	const struct dm_value *pv;
	const char	*key;
	size_t		 i, old;
	int		 rc;

	if (!is_obj(v))
		return verr(c, "must be an object");
	for (i = 0; i < n->n; i++) {
		it = &c->t->items[n->list + i];
		key = str(c, it->name);
		pv = v->type == DM_MAP ? dm_map_get(v, key) : NULL;
		if (pv != NULL && pv->type == DM_NULL &&
		    (it->flags & LEXI_NULLABLE))
			continue;
		p = &c->t->nodes[it->node];
		if (pv == NULL) {
			/* A default is valid by construction. */
			if (has_default(p))
				continue;
			if (it->flags & LEXI_REQUIRED)
				return verr(c, "must have the property \"%s\"",
				    key);
			continue;
		}
		old = path_push(c, key, strlen(key));
		rc = v_one(c, it->node, pv);
		path_pop(c, old);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
v_array(struct vctx *c, const struct lex_node *n, const struct dm_value *v)
{
	char	 idx[24];
	size_t	 i, old;
	int	 rc;

	if (v->type != DM_ARRAY)
		return verr(c, "must be an array");
	if ((n->flags & LEXN_MAX) && (int64_t)v->u.arr.n > n->max)
		return verr(c, "must not have more than %" PRId64 " elements",
		    n->max);
	if ((n->flags & LEXN_MIN) && (int64_t)v->u.arr.n < n->min)
		return verr(c, "must not have fewer than %" PRId64 " elements",
		    n->min);
	for (i = 0; i < v->u.arr.n; i++) {
		snprintf(idx, sizeof(idx), "%zu", i);
		old = path_push(c, idx, strlen(idx));
		rc = n->sub == LEX_NOREF ? verr(c, "has no item schema") :
		    v_one(c, n->sub, v->u.arr.items[i]);
		path_pop(c, old);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static const char *const type_names[LEX_NTYPES] = {
	[LEX_NONE] = "none", [LEX_PARAMS] = "params", [LEX_REF] = "ref",
	[LEX_UNION] = "union", [LEX_TOKEN] = "token",
	[LEX_RECORD] = "record", [LEX_QUERY] = "query",
	[LEX_PROCEDURE] = "procedure", [LEX_SUBSCRIPTION] = "subscription",
	[LEX_PERMSET] = "permission-set",
};

/* A value against a schema that is not a ref or a union. */
static int
v_concrete(struct vctx *c, const struct lex_node *n,
    const struct dm_value *v)
{
	switch (n->type) {
	case LEX_OBJECT:
		return v_object(c, n, v);
	case LEX_ARRAY:
		return v_array(c, n, v);
	case LEX_BLOB:
		return v_blob(c, n, v);
	case LEX_BOOLEAN:
		if (v->type != DM_BOOL)
			return verr(c, "must be a boolean");
		if ((n->flags & LEXN_CONST) && v->u.b != (n->k != 0))
			return verr(c, "must be %s", n->k ? "true" : "false");
		return 0;
	case LEX_INTEGER:
		return v_integer(c, n, v);
	case LEX_STRING:
		return v_string(c, n, v);
	case LEX_BYTES:
		if (v->type != DM_BYTES)
			return verr(c, "must be a byte array");
		if ((n->flags & LEXN_MAX) && (int64_t)v->u.s.len > n->max)
			return verr(c, "must not be larger than %" PRId64
			    " bytes", n->max);
		if ((n->flags & LEXN_MIN) && (int64_t)v->u.s.len < n->min)
			return verr(c, "must not be smaller than %" PRId64
			    " bytes", n->min);
		return 0;
	case LEX_CIDLINK:
		return v->type == DM_LINK ? 0 : verr(c, "must be a CID");
	case LEX_UNKNOWN:
		return is_obj(v) ? 0 : verr(c, "must be an object");
	default:
		snprintf(c->err->msg, sizeof(c->err->msg),
		    "Unexpected lexicon type: %s", n->type < LEX_NTYPES &&
		    type_names[n->type] != NULL ? type_names[n->type] : "?");
		return -1;
	}
}

/*
 * Does a union's ref list hold $type t?  "nsid" and "nsid#main" name
 * the same def, as in the reference.
 */
static uint32_t
union_target(const struct vctx *c, const struct lex_node *n,
    const struct dm_value *t)
{
	const char	*s = (const char *)t->u.s.p, *r;
	size_t		 len = t->u.s.len, i, rl;
	bool		 main = false, hash;

	if (len >= 4 && memcmp(s, "lex:", 4) == 0) {
		s += 4;
		len -= 4;
	}
	hash = memchr(s, '#', len) != NULL;
	if (len >= 5 && memcmp(s + len - 5, "#main", 5) == 0) {
		main = true;
		len -= 5;
	}
	for (i = 0; i < n->n; i++) {
		r = str(c, c->t->items[n->list + i].name);
		rl = strlen(r);
		if (rl == len + (main ? 5 : 0) && memcmp(r, s, rl) == 0)
			return c->t->items[n->list + i].node;
		if (main && rl == len && memcmp(r, s, len) == 0)
			return c->t->items[n->list + i].node;
		if (!hash && rl == len + 5 && memcmp(r, s, len) == 0 &&
		    memcmp(r + len, "#main", 5) == 0)
			return c->t->items[n->list + i].node;
	}
	return LEX_NOREF - 1;	/* not in the list */
}

static int
v_union(struct vctx *c, const struct lex_node *n, const struct dm_value *v)
{
	const struct dm_value *t;
	const uint8_t	*hashes;
	uint32_t	 target;
	char		 buf[400];
	size_t		 i, o = 0;
	int		 w;

	t = v != NULL && v->type == DM_MAP ? dm_map_get(v, "$type") : NULL;
	if (t == NULL || t->type != DM_STRING)
		return verr(c, "must be an object which includes the "
		    "\"$type\" property");
	/* $types the reference cannot even parse, open union or not. */
	hashes = t->u.s.p == NULL ? NULL : memchr(t->u.s.p, '#', t->u.s.len);
	if (hashes != NULL && memchr(hashes + 1, '#', t->u.s.len -
	    (size_t)(hashes + 1 - t->u.s.p)) != NULL) {
		snprintf(c->err->msg, sizeof(c->err->msg),
		    "Uri can only have one hash segment");
		return -1;
	}
	if (t->u.s.len > 0 && t->u.s.p[0] == '#') {
		snprintf(c->err->msg, sizeof(c->err->msg),
		    "Unable to resolve uri without anchor: %.64s",
		    (const char *)t->u.s.p);
		return -1;
	}
	target = union_target(c, n, t);
	if (target == LEX_NOREF - 1) {
		if (!(n->flags & LEXN_CLOSED))
			return 0;
		buf[0] = '\0';
		for (i = 0; i < n->n && o < sizeof(buf); i++) {
			w = snprintf(buf + o, sizeof(buf) - o, "%slex:%s",
			    i ? ", " : "",
			    str(c, c->t->items[n->list + i].name));
			if (w < 0)
				break;
			o += (size_t)w;
		}
		return verr(c, "$type must be one of %s", buf);
	}
	if (target == LEX_NOREF) {
		snprintf(c->err->msg, sizeof(c->err->msg),
		    "Lexicon definition not found: %.200s",
		    (const char *)t->u.s.p);
		return -1;
	}
	return v_concrete(c, &c->t->nodes[target], v);
}

/* A value against a schema of any type (the reference's validateOneOf). */
static int
v_one(struct vctx *c, uint32_t ni, const struct dm_value *v)
{
	const struct lex_node *n = &c->t->nodes[ni];
	int	 rc;

	if (++c->depth > LEXV_DEPTH) {
		c->depth--;
		snprintf(c->err->msg, sizeof(c->err->msg),
		    "%.200s is nested too deeply", c->path);
		return -1;
	}
	if (n->type == LEX_UNION)
		rc = v_union(c, n, v);
	else if (n->type == LEX_REF) {
		if (n->sub == LEX_NOREF) {
			snprintf(c->err->msg, sizeof(c->err->msg),
			    "Lexicon definition not found: %s", str(c, n->k));
			rc = -1;
		} else
			rc = v_concrete(c, &c->t->nodes[n->sub], v);
	} else
		rc = v_concrete(c, n, v);
	c->depth--;
	return rc;
}

static void
ctx_init(struct vctx *c, const struct lex_table *t, const char *path,
    int flags, struct lex_verr *err)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->flags = flags;
	c->err = err;
	err->name = NULL;
	err->msg[0] = '\0';
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->plen = strlen(c->path);
}

int
lex_validate_value(const struct lex_table *t, const struct lex_node *n,
    const char *path, const struct dm_value *v, int flags,
    struct lex_verr *err)
{
	struct vctx	 c;

	ctx_init(&c, t, path, flags, err);
	return v_one(&c, (uint32_t)(n - t->nodes), v);
}

static int
check_rkey(const struct vctx *c, const struct lex_node *rec,
    const char *rkey, struct lex_verr *err)
{
	const char	*key = str(c, rec->k);

	if (rkey == NULL || strcmp(key, "any") == 0)
		return 0;
	if (strncmp(key, "literal:", 8) == 0) {
		if (strcmp(rkey, key + 8) == 0)
			return 0;
		snprintf(err->msg, sizeof(err->msg), "Invalid record key: "
		    "must be \"%s\"", key + 8);
		return -1;
	}
	if (strcmp(key, "tid") == 0 && !syntax_is_tid(rkey, strlen(rkey))) {
		snprintf(err->msg, sizeof(err->msg),
		    "Invalid record key: must be a TID");
		return -1;
	}
	if (strcmp(key, "nsid") == 0 && !syntax_is_nsid(rkey, strlen(rkey))) {
		snprintf(err->msg, sizeof(err->msg),
		    "Invalid record key: must be an NSID");
		return -1;
	}
	return 0;
}

int
lex_validate_record(const struct lex_table *t, const struct lex_node *rec,
    const char *rkey, const struct dm_value *v, int flags,
    struct lex_verr *err)
{
	struct vctx	 c;

	ctx_init(&c, t, "Record", flags, err);
	if (rec->type != LEX_RECORD || rec->sub == LEX_NOREF) {
		snprintf(err->msg, sizeof(err->msg), "Not a record schema");
		return -1;
	}
	if (v == NULL || v->type != DM_MAP) {
		snprintf(err->msg, sizeof(err->msg),
		    "Record must be an object");
		return -1;
	}
	if (check_rkey(&c, rec, rkey, err) != 0)
		return -1;
	return v_concrete(&c, &t->nodes[rec->sub], v);
}
