/*
 * dmjson: atproto JSON <-> data model, and data-model rule checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cbor.h"
#include "cid.h"
#include "dmjson.h"
#include "err.h"
#include "multibase.h"

/* ---- rules shared by both forms ------------------------------------ */

static bool
key_is(const struct dm_entry *e, const char *s, size_t len)
{
	return e->klen == len && memcmp(e->key, s, len) == 0;
}

static bool
str_is(const struct dm_value *v, const char *s, size_t len)
{
	return v != NULL && v->type == DM_STRING && v->u.s.len == len &&
	    memcmp(v->u.s.p, s, len) == 0;
}

bool
dm_is_blob(const struct dm_value *v)
{
	return v != NULL && v->type == DM_MAP &&
	    str_is(dm_map_get(v, "$type"), "blob", 4);
}

/* A map whose "$type" is "blob" must be exactly a blob reference. */
static int
check_blob(const struct dm_value *v, const char **why)
{
	const struct dm_entry	*e;
	const struct dm_value	*ref = NULL, *mime = NULL, *size = NULL;
	size_t			 i;

	for (i = 0; i < v->u.map.n; i++) {
		e = &v->u.map.e[i];
		if (key_is(e, "ref", 3))
			ref = e->val;
		else if (key_is(e, "size", 4))
			size = e->val;
		else if (key_is(e, "mimeType", 8))
			mime = e->val;
		else if (!key_is(e, "$type", 5))
			return pds_fail(why, PDS_EINVAL,
			    "blob has a key other than $type, ref, "
			    "mimeType, size");
	}
	if (ref == NULL || mime == NULL || size == NULL)
		return pds_fail(why, PDS_EINVAL,
		    "blob lacks ref, mimeType or size");
	if (ref->type != DM_LINK)
		return pds_fail(why, PDS_EINVAL, "blob ref is not a link");
	if (cid_codec(&ref->u.link) != CID_CODEC_RAW ||
	    !cid_is_blessed(&ref->u.link))
		return pds_fail(why, PDS_EINVAL,
		    "blob ref is not a raw sha2-256 CID");
	if (mime->type != DM_STRING || mime->u.s.len == 0)
		return pds_fail(why, PDS_EINVAL,
		    "blob mimeType is not a non-empty string");
	if (size->type != DM_INT || size->u.i < 0)
		return pds_fail(why, PDS_EINVAL,
		    "blob size is not a non-negative integer");
	return PDS_OK;
}

/* The rules for one map, its children already checked. */
static int
check_map(const struct dm_value *v, const char **why)
{
	const struct dm_value	*t;

	if ((t = dm_map_get(v, "$type")) == NULL)
		return PDS_OK;
	if (t->type != DM_STRING || t->u.s.len == 0)
		return pds_fail(why, PDS_EINVAL,
		    "$type is not a non-empty string");
	if (str_is(t, "blob", 4))
		return check_blob(v, why);
	return PDS_OK;
}

static int
check_int(int64_t i, const char **why)
{
	if (i < DM_INT_MIN || i > DM_INT_MAX)
		return pds_fail(why, PDS_EINVAL,
		    "integer outside ±(2^53-1)");
	return PDS_OK;
}

static int
validate(const struct dm_value *v, int depth, const char **why)
{
	size_t	 i;
	int	 rc;

	if (v == NULL)
		return pds_fail(why, PDS_EINVAL, "missing value");
	switch (v->type) {
	case DM_INT:
		return check_int(v->u.i, why);
	case DM_ARRAY:
		if (depth >= DM_MAX_DEPTH)
			return pds_fail(why, PDS_ETOOBIG, "nesting too deep");
		for (i = 0; i < v->u.arr.n; i++)
			if ((rc = validate(v->u.arr.items[i], depth + 1,
			    why)) != PDS_OK)
				return rc;
		return PDS_OK;
	case DM_MAP:
		if (depth >= DM_MAX_DEPTH)
			return pds_fail(why, PDS_ETOOBIG, "nesting too deep");
		for (i = 0; i < v->u.map.n; i++)
			if ((rc = validate(v->u.map.e[i].val, depth + 1,
			    why)) != PDS_OK)
				return rc;
		return check_map(v, why);
	default:
		return PDS_OK;
	}
}

int
dm_validate(const struct dm_value *v, const char **why)
{
	return validate(v, 0, why);
}

static int
check_record_top(const struct dm_value *v, const char **why)
{
	if (v == NULL || v->type != DM_MAP)
		return pds_fail(why, PDS_EINVAL, "record is not an object");
	if (dm_is_blob(v))
		return pds_fail(why, PDS_EINVAL, "record is a blob");
	return PDS_OK;
}

int
dm_validate_record(const struct dm_value *v, const char **why)
{
	int	 rc;

	if ((rc = check_record_top(v, why)) != PDS_OK)
		return rc;
	return validate(v, 0, why);
}

/* ---- JSON → data model --------------------------------------------- */

static int	from_json(struct dm_arena *, const json_t *, struct dm_value **,
		    int, const char **);

static int
nomem(const char **why)
{
	return pds_fail(why, PDS_ENOMEM, "out of memory");
}

static int
from_link(struct dm_arena *a, const json_t *s, struct dm_value **out,
    const char **why)
{
	struct cid	 c;
	int		 rc;

	if (!json_is_string(s))
		return pds_fail(why, PDS_EINVAL, "$link is not a string");
	if ((rc = cid_parse(&c, json_string_value(s), json_string_length(s),
	    why)) != PDS_OK)
		return rc < 0 ? rc : PDS_EINVAL;
	if ((*out = dm_link(a, &c)) == NULL)
		return nomem(why);
	return PDS_OK;
}

static int
from_bytes(struct dm_arena *a, const json_t *s, struct dm_value **out,
    const char **why)
{
	struct dm_value	*v;
	const char	*in;
	uint8_t		*p;
	size_t		 len, cap;
	long		 n;

	if (!json_is_string(s))
		return pds_fail(why, PDS_EINVAL, "$bytes is not a string");
	in = json_string_value(s);
	len = json_string_length(s);
	cap = len / 4 * 3 + 3;
	if ((v = dm_bytes(a, NULL, 0)) == NULL ||
	    (p = dm_arena_alloc(a, cap + 1)) == NULL)
		return nomem(why);
	if ((n = b64_decode(p, cap, in, len)) < 0)
		return pds_fail(why, PDS_EINVAL, "$bytes is not valid base64");
	v->u.s.p = p;
	v->u.s.len = (size_t)n;
	*out = v;
	return PDS_OK;
}

static int
from_number(struct dm_arena *a, const json_t *j, struct dm_value **out,
    const char **why)
{
	json_int_t	 i;
	double		 r;
	int		 rc;

	if (json_is_integer(j)) {
		i = json_integer_value(j);
		if (i < DM_INT_MIN || i > DM_INT_MAX)
			return pds_fail(why, PDS_EINVAL,
			    "integer outside ±(2^53-1)");
	} else {
		r = json_real_value(j);
		if (!isfinite(r) || r != floor(r))
			return pds_fail(why, PDS_EINVAL,
			    "floats are not allowed");
		if (r < (double)DM_INT_MIN || r > (double)DM_INT_MAX)
			return pds_fail(why, PDS_EINVAL,
			    "integer outside ±(2^53-1)");
		i = (json_int_t)r;
	}
	if ((rc = check_int(i, why)) != PDS_OK)
		return rc;
	if ((*out = dm_int(a, i)) == NULL)
		return nomem(why);
	return PDS_OK;
}

static int
from_object(struct dm_arena *a, const json_t *j, struct dm_value **out,
    int depth, const char **why)
{
	struct dm_value	*m, *v;
	const json_t	*x;
	void		*it;
	const char	*k;
	char		*kc;
	size_t		 n, klen;
	int		 rc;

	n = json_object_size(j);
	if ((x = json_object_get(j, "$link")) != NULL) {
		if (n != 1)
			return pds_fail(why, PDS_EINVAL,
			    "$link object has other keys");
		return from_link(a, x, out, why);
	}
	if ((x = json_object_get(j, "$bytes")) != NULL) {
		if (n != 1)
			return pds_fail(why, PDS_EINVAL,
			    "$bytes object has other keys");
		return from_bytes(a, x, out, why);
	}
	if (depth >= DM_MAX_DEPTH)
		return pds_fail(why, PDS_ETOOBIG, "nesting too deep");
	if ((m = dm_map(a, n)) == NULL)
		return nomem(why);
	/* jansson's iterators take a non-const object but do not change it. */
	for (it = json_object_iter((json_t *)(uintptr_t)j); it != NULL;
	    it = json_object_iter_next((json_t *)(uintptr_t)j, it)) {
		k = json_object_iter_key(it);
		klen = json_object_iter_key_len(it);
		if ((rc = from_json(a, json_object_iter_value(it), &v,
		    depth + 1, why)) != PDS_OK)
			return rc;
		if (klen == SIZE_MAX ||
		    (kc = dm_arena_alloc(a, klen + 1)) == NULL)
			return nomem(why);
		memcpy(kc, k, klen);
		if ((rc = dm_map_set(m, kc, klen, v)) != PDS_OK)
			return pds_fail(why, rc, "object changed size");
	}
	if ((rc = dm_map_sort(m, why)) != PDS_OK)
		return rc;
	if ((rc = check_map(m, why)) != PDS_OK)
		return rc;
	*out = m;
	return PDS_OK;
}

static int
from_json(struct dm_arena *a, const json_t *j, struct dm_value **out,
    int depth, const char **why)
{
	struct dm_value	*arr, *v;
	size_t		 i, n;
	int		 rc;

	*out = NULL;
	switch (json_typeof(j)) {
	case JSON_NULL:
		v = dm_null(a);
		break;
	case JSON_TRUE:
		v = dm_bool(a, true);
		break;
	case JSON_FALSE:
		v = dm_bool(a, false);
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		return from_number(a, j, out, why);
	case JSON_STRING:
		v = dm_string(a, json_string_value(j), json_string_length(j));
		break;
	case JSON_ARRAY:
		if (depth >= DM_MAX_DEPTH)
			return pds_fail(why, PDS_ETOOBIG, "nesting too deep");
		n = json_array_size(j);
		if ((arr = dm_array(a, n)) == NULL)
			return nomem(why);
		for (i = 0; i < n; i++) {
			if ((rc = from_json(a, json_array_get(j, i), &v,
			    depth + 1, why)) != PDS_OK)
				return rc;
			if ((rc = dm_array_push(arr, v)) != PDS_OK)
				return pds_fail(why, rc, "array changed size");
		}
		*out = arr;
		return PDS_OK;
	case JSON_OBJECT:
		return from_object(a, j, out, depth, why);
	default:
		return pds_fail(why, PDS_EINVAL, "unknown JSON type");
	}
	if (v == NULL)
		return nomem(why);
	*out = v;
	return PDS_OK;
}

int
dm_from_json(struct dm_arena *a, const json_t *j, struct dm_value **out,
    const char **why)
{
	*out = NULL;
	if (j == NULL)
		return pds_fail(why, PDS_EINVAL, "no JSON value");
	return from_json(a, j, out, 0, why);
}

int
dm_from_json_record(struct dm_arena *a, const json_t *j,
    struct dm_value **out, const char **why)
{
	struct dm_value	*v;
	int		 rc;

	*out = NULL;
	if (!json_is_object(j))
		return pds_fail(why, PDS_EINVAL, "record is not an object");
	if ((rc = from_json(a, j, &v, 0, why)) != PDS_OK)
		return rc;
	if (v->type == DM_LINK)
		return pds_fail(why, PDS_EINVAL, "record is a $link");
	if (v->type == DM_BYTES)
		return pds_fail(why, PDS_EINVAL, "record is a $bytes");
	if ((rc = check_record_top(v, why)) != PDS_OK)
		return rc;
	*out = v;
	return PDS_OK;
}

/* ---- data model → JSON --------------------------------------------- */

static json_t *
wrap1(const char *key, json_t *v)
{
	json_t	*o;

	if (v == NULL)
		return NULL;
	if ((o = json_object()) == NULL || json_object_set_new(o, key, v)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
bytes_to_json(const uint8_t *p, size_t len)
{
	char	 stack[256], *s;
	size_t	 cap;
	json_t	*r;

	if (len > (SIZE_MAX - 8) / 4 * 3)
		return NULL;
	cap = B64_ENC_LEN(len) + 1;
	if (cap <= sizeof(stack))
		s = stack;
	else if ((s = malloc(cap)) == NULL)
		return NULL;
	if (b64_encode(s, cap, p, len) < 0)
		r = NULL;
	else
		r = wrap1("$bytes", json_string_nocheck(s));
	if (s != stack)
		free(s);
	return r;
}

static json_t *
to_json(const struct dm_value *v)
{
	char		 cs[CID_STR_MAX];
	json_t		*r, *x;
	size_t		 i;

	if (v == NULL)
		return NULL;
	switch (v->type) {
	case DM_NULL:
		return json_null();
	case DM_BOOL:
		return json_boolean(v->u.b);
	case DM_INT:
		return json_integer((json_int_t)v->u.i);
	case DM_STRING:
		return json_stringn((const char *)v->u.s.p, v->u.s.len);
	case DM_BYTES:
		return bytes_to_json(v->u.s.p, v->u.s.len);
	case DM_LINK:
		if (cid_format(&v->u.link, cs, sizeof(cs)) < 0)
			return NULL;
		return wrap1("$link", json_string_nocheck(cs));
	case DM_ARRAY:
		if ((r = json_array()) == NULL)
			return NULL;
		for (i = 0; i < v->u.arr.n; i++) {
			if ((x = to_json(v->u.arr.items[i])) == NULL ||
			    json_array_append_new(r, x) != 0) {
				json_decref(r);
				return NULL;
			}
		}
		return r;
	case DM_MAP:
		if ((r = json_object()) == NULL)
			return NULL;
		for (i = 0; i < v->u.map.n; i++) {
			if ((x = to_json(v->u.map.e[i].val)) == NULL ||
			    json_object_setn_new(r, v->u.map.e[i].key,
			    v->u.map.e[i].klen, x) != 0) {
				json_decref(r);
				return NULL;
			}
		}
		return r;
	}
	return NULL;
}

json_t *
dm_to_json(const struct dm_value *v)
{
	return to_json(v);
}

json_t *
dm_cid_json(const struct cid *c)
{
	char	 s[CID_STR_MAX];

	if (cid_format(c, s, sizeof(s)) < 0)
		return json_null();
	return json_string(s);
}
