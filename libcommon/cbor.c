/*
 * cbor: canonical DAG-CBOR (DRISL) writer, value-tree arena, strict
 * decoder and canonical encoder for the atproto data model.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "err.h"
#include "jsonw.h"

/* ---- streaming writer ---------------------------------------------- */

/* Write a shortest-form head into out; returns its length (1..9). */
static size_t
head_encode(uint8_t out[9], unsigned major, uint64_t arg)
{
	uint8_t	 m = (uint8_t)(major << 5);

	if (arg < 24) {
		out[0] = m | (uint8_t)arg;
		return 1;
	}
	if (arg <= 0xff) {
		out[0] = m | 24;
		out[1] = (uint8_t)arg;
		return 2;
	}
	if (arg <= 0xffff) {
		out[0] = m | 25;
		out[1] = (uint8_t)(arg >> 8);
		out[2] = (uint8_t)arg;
		return 3;
	}
	if (arg <= 0xffffffffULL) {
		out[0] = m | 26;
		out[1] = (uint8_t)(arg >> 24);
		out[2] = (uint8_t)(arg >> 16);
		out[3] = (uint8_t)(arg >> 8);
		out[4] = (uint8_t)arg;
		return 5;
	}
	out[0] = m | 27;
	out[1] = (uint8_t)(arg >> 56);
	out[2] = (uint8_t)(arg >> 48);
	out[3] = (uint8_t)(arg >> 40);
	out[4] = (uint8_t)(arg >> 32);
	out[5] = (uint8_t)(arg >> 24);
	out[6] = (uint8_t)(arg >> 16);
	out[7] = (uint8_t)(arg >> 8);
	out[8] = (uint8_t)arg;
	return 9;
}

/*
 * The writer's errors are sticky: the first one is kept in b->err, and
 * every cbor_put_* after it does nothing and returns it.
 */
static int
put_end(struct buf *b, int rc)
{
	if (rc != PDS_OK && b->err == PDS_OK)
		b->err = rc;
	return rc;
}

int
cbor_put_error(const struct buf *b)
{
	return b->err;
}

int
cbor_put_head(struct buf *b, enum cbor_major major, uint64_t arg)
{
	uint8_t	 h[9];

	if (b->err != PDS_OK)
		return b->err;
	return put_end(b, buf_append(b, h, head_encode(h,
	    (unsigned)major & 7, arg)));
}

int
cbor_put_int(struct buf *b, int64_t v)
{
	if (v >= 0)
		return cbor_put_head(b, CBOR_UINT, (uint64_t)v);
	/* -1 - v without overflow at INT64_MIN. */
	return cbor_put_head(b, CBOR_NEGINT, ~(uint64_t)v);
}

/* A head and a payload in one append (one bounds check, one copy). */
static int
put_string(struct buf *b, unsigned major, const void *p, size_t len)
{
	uint8_t	 h[9];
	size_t	 hl;
	int	 rc;

	if (b->err != PDS_OK)
		return b->err;
	hl = head_encode(h, major, len);
	if ((rc = buf_reserve(b, hl + len)) != PDS_OK)
		return put_end(b, rc);
	memcpy(b->p + b->len, h, hl);
	if (len > 0)
		memcpy(b->p + b->len + hl, p, len);
	b->len += hl + len;
	b->p[b->len] = '\0';
	return PDS_OK;
}

int
cbor_put_bytes(struct buf *b, const void *p, size_t len)
{
	return put_string(b, CBOR_BYTES, p, len);
}

int
cbor_put_text(struct buf *b, const char *s, size_t len)
{
	return put_string(b, CBOR_TEXT, s, len);
}

int
cbor_put_str(struct buf *b, const char *s)
{
	return put_string(b, CBOR_TEXT, s, strlen(s));
}

int
cbor_put_bool(struct buf *b, bool v)
{
	if (b->err != PDS_OK)
		return b->err;
	return put_end(b, buf_putc(b, v ? 0xf5 : 0xf4));
}

int
cbor_put_null(struct buf *b)
{
	if (b->err != PDS_OK)
		return b->err;
	return put_end(b, buf_putc(b, 0xf6));
}

int
cbor_put_link(struct buf *b, const struct cid *c)
{
	uint8_t	 t[2 + 2 + 1 + CID_MAX_LEN];
	size_t	 n = 0;

	if (b->err != PDS_OK)
		return b->err;
	if (c->len == 0 || c->len > CID_MAX_LEN)
		return put_end(b, PDS_EINVAL);
	t[n++] = 0xd8;				/* tag(42) */
	t[n++] = 42;
	n += head_encode(t + n, CBOR_BYTES, (uint64_t)c->len + 1);
	t[n++] = 0x00;				/* multibase identity prefix */
	memcpy(t + n, c->b, c->len);
	n += c->len;
	return put_end(b, buf_append(b, t, n));
}

int
cbor_put_array(struct buf *b, size_t n)
{
	return cbor_put_head(b, CBOR_ARRAY, n);
}

int
cbor_put_map(struct buf *b, size_t n)
{
	return cbor_put_head(b, CBOR_MAP, n);
}

/* ---- arena --------------------------------------------------------- */

/*
 * A bump allocator over chunks that grow geometrically; a request larger
 * than a quarter of the next chunk gets a chunk of its own so that the
 * current chunk's tail is not wasted.  Only the bytes handed out are
 * zeroed (not whole chunks), and string copies are not zeroed at all.
 */
#define ARENA_FIRST	2048
#define ARENA_CHUNK_MAX	((size_t)1 << 20)
#define ARENA_ALIGN	alignof(max_align_t)

struct chunk {
	struct chunk	*next;
	alignas(max_align_t) uint8_t data[];
};

struct dm_arena {
	uint8_t		*cur;
	uint8_t		*end;
	struct chunk	*chunks;
	size_t		 next_size;	/* data size of the next chunk */
	size_t		 total;		/* bytes of chunk data held */
	size_t		 max;
	bool		 over;		/* an allocation passed max */
	alignas(max_align_t) uint8_t first[ARENA_FIRST];
};

struct dm_arena *
dm_arena_new(void)
{
	struct dm_arena	*a;

	if ((a = malloc(sizeof(*a))) == NULL)
		return NULL;
	a->chunks = NULL;
	dm_arena_reset(a);
	a->max = DM_ARENA_MAX_DEFAULT;
	return a;
}

void
dm_arena_free(struct dm_arena *a)
{
	struct chunk	*c, *n;

	if (a == NULL)
		return;
	for (c = a->chunks; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

void
dm_arena_reset(struct dm_arena *a)
{
	struct chunk	*c, *n;

	for (c = a->chunks; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	a->chunks = NULL;
	a->over = false;
	a->cur = a->first;
	a->end = a->first + sizeof(a->first);
	a->next_size = 8192;
	a->total = sizeof(a->first);
}

void
dm_arena_set_max(struct dm_arena *a, size_t max)
{
	a->max = max;
}

static void *
arena_chunk(struct dm_arena *a, size_t size)
{
	struct chunk	*c;

	if (size > a->max || a->total > a->max - size) {
		a->over = true;
		return NULL;
	}
	if (size > SIZE_MAX - sizeof(*c) ||
	    (c = malloc(sizeof(*c) + size)) == NULL)
		return NULL;
	c->next = a->chunks;
	a->chunks = c;
	a->total += size;
	return c->data;
}

/* Allocate n bytes (not zeroed) aligned to `align` (a power of two). */
static void *
arena_raw(struct dm_arena *a, size_t n, size_t align)
{
	uintptr_t	 p;
	size_t		 pad, size;
	uint8_t		*d;

	p = (uintptr_t)a->cur;
	pad = (size_t)(-p & (align - 1));
	if (pad <= (size_t)(a->end - a->cur) &&
	    n <= (size_t)(a->end - a->cur) - pad) {
		d = a->cur + pad;
		a->cur = d + n;
		return d;
	}
	if (n > a->next_size / 4) {
		/* Its own chunk; keep the current one for small requests. */
		return arena_chunk(a, n ? n : 1);
	}
	size = a->next_size;
	if ((d = arena_chunk(a, size)) == NULL)
		return NULL;
	if (a->next_size < ARENA_CHUNK_MAX)
		a->next_size *= 2;
	a->cur = d + n;
	a->end = d + size;
	return d;
}

/* Allocate n zeroed bytes. */
static void *
arena_get(struct dm_arena *a, size_t n, size_t align)
{
	void	*p;

	if ((p = arena_raw(a, n, align)) != NULL && n > 0)
		memset(p, 0, n);
	return p;
}

void *
dm_arena_alloc(struct dm_arena *a, size_t n)
{
	return arena_get(a, n, ARENA_ALIGN);
}

/* Room for n objects of `size`, or NULL on overflow or failure. */
static void *
arena_array(struct dm_arena *a, size_t n, size_t size)
{
	if (n != 0 && size > SIZE_MAX / n)
		return NULL;
	return arena_get(a, n * size, alignof(struct dm_value));
}

static const uint8_t empty_string[1] = { 0 };

/* Copy into the arena with a NUL after; empty copies share a static "". */
static const uint8_t *
arena_dup(struct dm_arena *a, const void *p, size_t len)
{
	uint8_t	*d;

	if (len == 0)
		return empty_string;
	if (len == SIZE_MAX || (d = arena_raw(a, len + 1, 1)) == NULL)
		return NULL;
	memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

/* ---- constructors -------------------------------------------------- */

static struct dm_value *
value_new(struct dm_arena *a, enum dm_type t)
{
	struct dm_value	*v;

	if ((v = arena_get(a, sizeof(*v), alignof(struct dm_value))) != NULL)
		v->type = t;
	return v;
}

struct dm_value *
dm_null(struct dm_arena *a)
{
	return value_new(a, DM_NULL);
}

struct dm_value *
dm_bool(struct dm_arena *a, bool b)
{
	struct dm_value	*v;

	if ((v = value_new(a, DM_BOOL)) != NULL)
		v->u.b = b;
	return v;
}

struct dm_value *
dm_int(struct dm_arena *a, int64_t i)
{
	struct dm_value	*v;

	if ((v = value_new(a, DM_INT)) != NULL)
		v->u.i = i;
	return v;
}

static struct dm_value *
dm_str_new(struct dm_arena *a, enum dm_type t, const void *p, size_t len)
{
	struct dm_value	*v;

	if ((v = value_new(a, t)) == NULL)
		return NULL;
	if ((v->u.s.p = arena_dup(a, p, len)) == NULL)
		return NULL;
	v->u.s.len = len;
	return v;
}

struct dm_value *
dm_bytes(struct dm_arena *a, const void *p, size_t len)
{
	return dm_str_new(a, DM_BYTES, p, len);
}

struct dm_value *
dm_string(struct dm_arena *a, const char *s, size_t len)
{
	return dm_str_new(a, DM_STRING, s, len);
}

struct dm_value *
dm_link(struct dm_arena *a, const struct cid *c)
{
	struct dm_value	*v;

	if ((v = value_new(a, DM_LINK)) != NULL)
		v->u.link = *c;
	return v;
}

struct dm_value *
dm_array(struct dm_arena *a, size_t cap)
{
	struct dm_value	*v;

	if ((v = value_new(a, DM_ARRAY)) == NULL)
		return NULL;
	if (cap > 0 && (v->u.arr.items = arena_array(a, cap,
	    sizeof(*v->u.arr.items))) == NULL)
		return NULL;
	v->u.arr.cap = cap;
	return v;
}

struct dm_value *
dm_map(struct dm_arena *a, size_t cap)
{
	struct dm_value	*v;

	if ((v = value_new(a, DM_MAP)) == NULL)
		return NULL;
	if (cap > 0 && (v->u.map.e = arena_array(a, cap,
	    sizeof(*v->u.map.e))) == NULL)
		return NULL;
	v->u.map.cap = cap;
	return v;
}

int
dm_array_push(struct dm_value *arr, struct dm_value *v)
{
	if (arr == NULL || arr->type != DM_ARRAY || v == NULL)
		return PDS_EINVAL;
	if (arr->u.arr.n >= arr->u.arr.cap)
		return PDS_ETOOBIG;
	arr->u.arr.items[arr->u.arr.n++] = v;
	return PDS_OK;
}

/*
 * The key is not copied: it must live as long as the map (a literal, or
 * arena memory).
 */
int
dm_map_set(struct dm_value *map, const char *key, size_t klen,
    struct dm_value *v)
{
	struct dm_entry	*e;

	if (map == NULL || map->type != DM_MAP || v == NULL || key == NULL)
		return PDS_EINVAL;
	if (map->u.map.n >= map->u.map.cap)
		return PDS_ETOOBIG;
	e = &map->u.map.e[map->u.map.n++];
	map->u.map.sorted = false;
	e->key = key;
	e->klen = klen;
	e->val = v;
	return PDS_OK;
}

/* ---- key order ----------------------------------------------------- */

/* Canonical order: shorter keys first, then bytewise. */
static inline int
key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return alen == 0 ? 0 : memcmp(a, b, alen);
}

static inline int
entry_cmp(const struct dm_entry *a, const struct dm_entry *b)
{
	return key_cmp(a->key, a->klen, b->key, b->klen);
}

static int
entry_qsort_cmp(const void *a, const void *b)
{
	return entry_cmp(a, b);
}

static int
entry_ptr_cmp(const void *a, const void *b)
{
	return entry_cmp(*(const struct dm_entry *const *)a,
	    *(const struct dm_entry *const *)b);
}

/* Is e[0..n) strictly increasing?  (Then also free of duplicates.) */
static bool
entries_canonical(const struct dm_entry *e, size_t n)
{
	size_t	 i;

	for (i = 1; i < n; i++)
		if (entry_cmp(&e[i - 1], &e[i]) >= 0)
			return false;
	return true;
}

/* Sort pointers to entries; insertion sort for small maps. */
static void
sort_entry_ptrs(const struct dm_entry **p, size_t n)
{
	size_t			 i, j;
	const struct dm_entry	*t;

	if (n > 16) {
		qsort(p, n, sizeof(*p), entry_ptr_cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		t = p[i];
		for (j = i; j > 0 && entry_cmp(p[j - 1], t) > 0; j--)
			p[j] = p[j - 1];
		p[j] = t;
	}
}

int
dm_map_sort(struct dm_value *map, const char **why)
{
	struct dm_entry	*e, t;
	size_t		 n, i, j;

	if (map == NULL || map->type != DM_MAP)
		return pds_fail(why, PDS_EINVAL, "not a map");
	e = map->u.map.e;
	n = map->u.map.n;
	if (entries_canonical(e, n)) {
		map->u.map.sorted = true;
		return PDS_OK;
	}
	if (n > 16)
		qsort(e, n, sizeof(*e), entry_qsort_cmp);
	else {
		for (i = 1; i < n; i++) {
			t = e[i];
			for (j = i; j > 0 && entry_cmp(&e[j - 1], &t) > 0; j--)
				e[j] = e[j - 1];
			e[j] = t;
		}
	}
	for (i = 1; i < n; i++)
		if (entry_cmp(&e[i - 1], &e[i]) == 0)
			return pds_fail(why, PDS_EINVAL, "duplicate map key");
	map->u.map.sorted = true;
	return PDS_OK;
}

struct dm_value *
dm_map_get(const struct dm_value *map, const char *key)
{
	size_t		 klen, i, lo, hi, mid;
	const struct dm_entry *e;
	int		 c;

	if (map == NULL || map->type != DM_MAP || key == NULL)
		return NULL;
	klen = strlen(key);
	e = map->u.map.e;
	if (map->u.map.n > 8 && map->u.map.sorted) {
		/* Decoded and sorted maps: binary search. */
		lo = 0;
		hi = map->u.map.n;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			c = key_cmp(e[mid].key, e[mid].klen, key, klen);
			if (c == 0)
				return e[mid].val;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}
	for (i = 0; i < map->u.map.n; i++)
		if (e[i].klen == klen && memcmp(e[i].key, key, klen) == 0)
			return e[i].val;
	return NULL;
}

/* ---- encoder ------------------------------------------------------- */

static int	encode_value(struct buf *, const struct dm_value *, int);

static int
encode_map(struct buf *b, const struct dm_value *v, int depth)
{
	const struct dm_entry	*e = v->u.map.e;
	const struct dm_entry	*stack[32], **p;
	size_t			 n = v->u.map.n, i;
	int			 rc;

	if ((rc = cbor_put_map(b, n)) != PDS_OK)
		return rc;
	if (entries_canonical(e, n)) {
		for (i = 0; i < n; i++) {
			if ((rc = cbor_put_text(b, e[i].key, e[i].klen)) != 0 ||
			    (rc = encode_value(b, e[i].val, depth + 1)) != 0)
				return rc;
		}
		return PDS_OK;
	}
	/* Sort an index, leaving the caller's (const) tree untouched. */
	if (n <= sizeof(stack) / sizeof(stack[0]))
		p = stack;
	else if ((p = reallocarray(NULL, n, sizeof(*p))) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < n; i++)
		p[i] = &e[i];
	sort_entry_ptrs(p, n);
	rc = PDS_OK;
	for (i = 0; i < n && rc == PDS_OK; i++) {
		if (i > 0 && entry_cmp(p[i - 1], p[i]) == 0)
			rc = PDS_EINVAL;	/* duplicate key */
		else if ((rc = cbor_put_text(b, p[i]->key, p[i]->klen)) == 0)
			rc = encode_value(b, p[i]->val, depth + 1);
	}
	if (p != stack)
		free(p);
	return rc;
}

static int
encode_value(struct buf *b, const struct dm_value *v, int depth)
{
	size_t	 i;
	int	 rc;

	if (v == NULL)
		return PDS_EINVAL;
	switch (v->type) {
	case DM_NULL:
		return cbor_put_null(b);
	case DM_BOOL:
		return cbor_put_bool(b, v->u.b);
	case DM_INT:
		return cbor_put_int(b, v->u.i);
	case DM_BYTES:
		return put_string(b, CBOR_BYTES, v->u.s.p, v->u.s.len);
	case DM_STRING:
		return put_string(b, CBOR_TEXT, v->u.s.p, v->u.s.len);
	case DM_LINK:
		return cbor_put_link(b, &v->u.link);
	case DM_ARRAY:
		if (depth >= DM_MAX_DEPTH)
			return PDS_ETOOBIG;
		if ((rc = cbor_put_array(b, v->u.arr.n)) != PDS_OK)
			return rc;
		for (i = 0; i < v->u.arr.n; i++)
			if ((rc = encode_value(b, v->u.arr.items[i],
			    depth + 1)) != PDS_OK)
				return rc;
		return PDS_OK;
	case DM_MAP:
		if (depth >= DM_MAX_DEPTH)
			return PDS_ETOOBIG;
		return encode_map(b, v, depth);
	}
	return PDS_EINVAL;
}

int
dm_encode(struct buf *b, const struct dm_value *v)
{
	size_t	 len = b->len;
	int	 rc;

	/* On failure leave the buffer as it was. */
	if ((rc = encode_value(b, v, 0)) != PDS_OK) {
		b->len = len;
		if (b->p != NULL)
			b->p[len] = '\0';
	}
	return rc;
}

/* ---- decoder ------------------------------------------------------- */

struct dec {
	const uint8_t	*p;
	const uint8_t	*end;
	struct dm_arena	*a;
	const char	**why;
};

static inline size_t
dec_left(const struct dec *d)
{
	return (size_t)(d->end - d->p);
}

static int
dec_nomem(struct dec *d)
{
	if (d->a->over)
		return pds_fail(d->why, PDS_ETOOBIG, "decoded tree too large");
	return pds_fail(d->why, PDS_ENOMEM, "out of memory");
}

int
cbor_head_arg(unsigned info, const uint8_t *p, uint64_t *arg,
    const char **why)
{
	unsigned	 n = 1u << (info - 24), i;
	uint64_t	 v = 0;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	if ((info == 24 && v < 24) || (info == 25 && v <= 0xff) ||
	    (info == 26 && v <= 0xffff) || (info == 27 && v <= 0xffffffffULL))
		return pds_fail(why, PDS_ENONCANON,
		    "integer or length not in shortest form");
	*arg = v;
	return PDS_OK;
}

/*
 * Read a head: the major type, and the argument in *arg.  Enforces the
 * shortest form and refuses indefinite lengths and reserved values.  For
 * major 7 *arg is the additional info (the simple value or float size).
 */
static int
dec_head(struct dec *d, unsigned *major, uint64_t *arg)
{
	unsigned	 info, n;
	int		 rc;

	if (d->p >= d->end)
		return pds_fail(d->why, PDS_ETRUNC, "input truncated");
	*major = d->p[0] >> 5;
	info = d->p[0] & 31;
	d->p++;
	if (*major == CBOR_SIMPLE) {
		/* Only false, true and null are data-model values. */
		switch (info) {
		case 20: case 21: case 22:
			*arg = info;
			return PDS_OK;
		case 23:
			return pds_fail(d->why, PDS_EINVAL,
			    "undefined is not allowed");
		case 25: case 26: case 27:
			return pds_fail(d->why, PDS_EINVAL,
			    "floats are not allowed");
		case 31:
			return pds_fail(d->why, PDS_EINVAL,
			    "unexpected break");
		default:
			return pds_fail(d->why, PDS_EINVAL,
			    "simple values other than true, false, null "
			    "are not allowed");
		}
	}
	if (info < 24) {
		*arg = info;
		return PDS_OK;
	}
	if (info == 31)
		return pds_fail(d->why, PDS_EINVAL,
		    "indefinite lengths are not allowed");
	if (info > 27)
		return pds_fail(d->why, PDS_EINVAL,
		    "reserved additional information value");
	n = 1u << (info - 24);
	if (dec_left(d) < n)
		return pds_fail(d->why, PDS_ETRUNC, "input truncated");
	rc = cbor_head_arg(info, d->p, arg, d->why);
	d->p += n;
	return rc;
}

/*
 * Well-formed UTF-8: no overlong forms, no surrogates, nothing past
 * U+10FFFF, no stray continuation bytes.
 */
static bool
utf8_valid(const uint8_t *s, size_t n)
{
	size_t	 i = 0;
	uint64_t w;
	uint8_t	 c;

	while (i < n) {
		/* Skip ASCII eight bytes at a time. */
		while (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (n - i < 2 || (s[i + 1] & 0xc0) != 0x80)
				return false;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			if (n - i < 3 || (s[i + 1] & 0xc0) != 0x80 ||
			    (s[i + 2] & 0xc0) != 0x80)
				return false;
			if (c == 0xe0 && s[i + 1] < 0xa0)
				return false;		/* overlong */
			if (c == 0xed && s[i + 1] > 0x9f)
				return false;		/* surrogate */
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			if (n - i < 4 || (s[i + 1] & 0xc0) != 0x80 ||
			    (s[i + 2] & 0xc0) != 0x80 ||
			    (s[i + 3] & 0xc0) != 0x80)
				return false;
			if (c == 0xf0 && s[i + 1] < 0x90)
				return false;		/* overlong */
			if (c == 0xf4 && s[i + 1] > 0x8f)
				return false;		/* > U+10FFFF */
			i += 4;
		} else
			return false;
	}
	return true;
}

static int	dec_value(struct dec *, struct dm_value *, int);

/*
 * The checks both readers of DAG-CBOR make, the one that builds values
 * (dec_value()) and the one that writes JSON (json_value()), so that they
 * accept exactly the same inputs.
 */

/* An integer's head (major type 0 or 1) as an int64. */
static int
chk_int(struct dec *d, unsigned major, uint64_t arg, int64_t *out)
{
	if (arg > INT64_MAX)
		return pds_fail(d->why, PDS_ETOOBIG,
		    "integer does not fit in 64 bits");
	*out = major == CBOR_NEGINT ? -1 - (int64_t)arg : (int64_t)arg;
	return PDS_OK;
}

/*
 * A text string of len bytes (its head read), in place at *pp; *plain
 * says it is ASCII with no byte to escape, valid UTF-8 at once.
 */
static int
chk_text(struct dec *d, uint64_t len, const uint8_t **pp, bool *plain)
{
	if (len > dec_left(d))
		return pds_fail(d->why, PDS_ETRUNC, "string runs past the end");
	if (!(*plain = jsonw_is_plain(d->p, (size_t)len)) &&
	    !utf8_valid(d->p, (size_t)len))
		return pds_fail(d->why, PDS_EINVAL, "text is not valid UTF-8");
	*pp = d->p;
	d->p += len;
	return PDS_OK;
}

/* A byte string of len bytes (its head read), in place at *pp. */
static int
chk_bytes(struct dec *d, uint64_t len, const uint8_t **pp)
{
	if (len > dec_left(d))
		return pds_fail(d->why, PDS_ETRUNC,
		    "byte string runs past the end");
	*pp = d->p;
	d->p += len;
	return PDS_OK;
}

/*
 * A tag (its head read, tag its number): only 42, whose payload is a
 * byte string 0x00 and a CID.
 */
static int
chk_link(struct dec *d, uint64_t tag, struct cid *c)
{
	unsigned	 major;
	uint64_t	 len;
	int		 rc;

	if (tag != 42)
		return pds_fail(d->why, PDS_EINVAL,
		    "only tag 42 (CID link) is allowed");
	if ((rc = dec_head(d, &major, &len)) != PDS_OK)
		return rc;
	if (major != CBOR_BYTES)
		return pds_fail(d->why, PDS_EINVAL,
		    "tag 42 payload is not a byte string");
	if (len > dec_left(d))
		return pds_fail(d->why, PDS_ETRUNC,
		    "tag 42 payload runs past the end");
	if (len == 0 || d->p[0] != 0x00)
		return pds_fail(d->why, PDS_EINVAL,
		    "tag 42 payload does not start with 0x00");
	if ((rc = cid_from_bytes(c, d->p + 1, (size_t)len - 1,
	    d->why)) != PDS_OK) {
		/* The payload is complete, so a short CID is malformed. */
		return rc < 0 && rc != PDS_ETRUNC ? rc : PDS_EINVAL;
	}
	d->p += len;
	return PDS_OK;
}

/* An array's or map's length n at depth (per item, min bytes). */
static int
chk_length(struct dec *d, uint64_t n, int depth, size_t min,
    const char *toolong)
{
	if (depth >= DM_MAX_DEPTH)
		return pds_fail(d->why, PDS_ETOOBIG, "nesting too deep");
	if (n > dec_left(d) / min)
		return pds_fail(d->why, PDS_ETRUNC, toolong);
	return PDS_OK;
}

/*
 * A map key (text, its head not read yet) into *cur, after *prev unless
 * first: strictly in canonical order.
 */
static int
chk_key(struct dec *d, bool first, const struct dm_entry *prev,
    struct dm_entry *cur, bool *plain)
{
	const uint8_t	*key;
	unsigned	 major;
	uint64_t	 klen;
	int		 rc, c;

	if ((rc = dec_head(d, &major, &klen)) != PDS_OK)
		return rc;
	if (major != CBOR_TEXT)
		return pds_fail(d->why, PDS_EINVAL,
		    "map key is not a text string");
	if ((rc = chk_text(d, klen, &key, plain)) != PDS_OK)
		return rc;
	cur->key = (const char *)key;
	cur->klen = (size_t)klen;
	if (!first && (c = entry_cmp(prev, cur)) >= 0) {
		if (c == 0)
			return pds_fail(d->why, PDS_EINVAL,
			    "duplicate map key");
		return pds_fail(d->why, PDS_ENONCANON,
		    "map keys not in canonical order");
	}
	return PDS_OK;
}

/* A text string (its head read) copied into the arena. */
static int
dec_text(struct dec *d, uint64_t len, const uint8_t **pp)
{
	const uint8_t	*p;
	bool		 plain;
	int		 rc;

	if ((rc = chk_text(d, len, &p, &plain)) != PDS_OK)
		return rc;
	if ((*pp = arena_dup(d->a, p, (size_t)len)) == NULL)
		return dec_nomem(d);
	return PDS_OK;
}

static int
dec_array(struct dec *d, struct dm_value *v, uint64_t n, int depth)
{
	struct dm_value	*vals;
	size_t		 i;
	int		 rc;

	/* Every item takes at least one byte. */
	if ((rc = chk_length(d, n, depth, 1,
	    "array length exceeds the input")) != PDS_OK)
		return rc;
	v->type = DM_ARRAY;
	if (n == 0)
		return PDS_OK;
	v->u.arr.items = arena_array(d->a, (size_t)n, sizeof(*v->u.arr.items));
	vals = arena_array(d->a, (size_t)n, sizeof(*vals));
	if (v->u.arr.items == NULL || vals == NULL)
		return dec_nomem(d);
	v->u.arr.n = v->u.arr.cap = (size_t)n;
	for (i = 0; i < n; i++) {
		v->u.arr.items[i] = &vals[i];
		if ((rc = dec_value(d, &vals[i], depth + 1)) != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

static int
dec_map(struct dec *d, struct dm_value *v, uint64_t n, int depth)
{
	struct dm_value	*vals;
	struct dm_entry	*e;
	size_t		 i;
	bool		 plain;
	int		 rc;

	/* Every entry takes at least two bytes. */
	if ((rc = chk_length(d, n, depth, 2,
	    "map length exceeds the input")) != PDS_OK)
		return rc;
	v->type = DM_MAP;
	if (n == 0)
		return PDS_OK;
	e = arena_array(d->a, (size_t)n, sizeof(*e));
	vals = arena_array(d->a, (size_t)n, sizeof(*vals));
	if (e == NULL || vals == NULL)
		return dec_nomem(d);
	v->u.map.e = e;
	v->u.map.cap = (size_t)n;
	v->u.map.sorted = true;		/* checked entry by entry below */
	for (i = 0; i < n; i++) {
		if ((rc = chk_key(d, i == 0, i > 0 ? &e[i - 1] : NULL, &e[i],
		    &plain)) != PDS_OK)
			return rc;
		if ((e[i].key = (const char *)arena_dup(d->a, e[i].key,
		    e[i].klen)) == NULL)
			return dec_nomem(d);
		e[i].val = &vals[i];
		v->u.map.n = i + 1;
		if ((rc = dec_value(d, &vals[i], depth + 1)) != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

/* Decode one item into *v (zeroed arena memory). */
static int
dec_value(struct dec *d, struct dm_value *v, int depth)
{
	unsigned	 major;
	uint64_t	 arg;
	const uint8_t	*q;
	int		 rc;

	if ((rc = dec_head(d, &major, &arg)) != PDS_OK)
		return rc;
	switch (major) {
	case CBOR_UINT:
	case CBOR_NEGINT:
		if ((rc = chk_int(d, major, arg, &v->u.i)) == PDS_OK)
			v->type = DM_INT;
		return rc;
	case CBOR_BYTES:
		if ((rc = chk_bytes(d, arg, &q)) != PDS_OK)
			return rc;
		if ((q = arena_dup(d->a, q, (size_t)arg)) == NULL)
			return dec_nomem(d);
		v->type = DM_BYTES;
		v->u.s.p = q;
		v->u.s.len = (size_t)arg;
		return PDS_OK;
	case CBOR_TEXT:
		if ((rc = dec_text(d, arg, &q)) != PDS_OK)
			return rc;
		v->type = DM_STRING;
		v->u.s.p = q;
		v->u.s.len = (size_t)arg;
		return PDS_OK;
	case CBOR_ARRAY:
		return dec_array(d, v, arg, depth);
	case CBOR_MAP:
		return dec_map(d, v, arg, depth);
	case CBOR_TAG:
		if ((rc = chk_link(d, arg, &v->u.link)) == PDS_OK)
			v->type = DM_LINK;
		return rc;
	case CBOR_SIMPLE:
		if (arg == 22)
			v->type = DM_NULL;
		else {
			v->type = DM_BOOL;
			v->u.b = arg == 21;
		}
		return PDS_OK;
	}
	return pds_fail(d->why, PDS_EINTERNAL, "bad major type");
}

int
dm_decode_prefix(struct dm_arena *a, const uint8_t *in, size_t len,
    struct dm_value **out, size_t *used, const char **why)
{
	struct dec	 d;
	struct dm_value	*v;
	int		 rc;

	*out = NULL;
	if (used != NULL)
		*used = 0;
	if (in == NULL || len == 0)
		return pds_fail(why, PDS_ETRUNC, "empty input");
	d.p = in;
	d.end = in + len;
	d.a = a;
	d.why = why;
	if ((v = value_new(a, DM_NULL)) == NULL)
		return dec_nomem(&d);
	if ((rc = dec_value(&d, v, 0)) != PDS_OK)
		return rc;
	*out = v;
	if (used != NULL)
		*used = (size_t)(d.p - in);
	return PDS_OK;
}

int
dm_decode(struct dm_arena *a, const uint8_t *in, size_t len,
    struct dm_value **out, const char **why)
{
	size_t	 used;
	int	 rc;

	if ((rc = dm_decode_prefix(a, in, len, out, &used, why)) != PDS_OK)
		return rc;
	if (used != len) {
		*out = NULL;
		return pds_fail(why, PDS_EINVAL, "trailing bytes after item");
	}
	return PDS_OK;
}

/* ---- DAG-CBOR straight to JSON (jsonw.h) ----------------------------- */

/*
 * dec_value() and its helpers, with the same checks (chk_*()), writing
 * jsonw_dm()'s bytes for each value instead of building it: listRecords
 * and getRecord turn every record they send into JSON this way.
 */
static int	json_value(struct dec *, struct buf *, int);

/* Text chk_text() read, as a JSON string. */
static int
json_string(struct buf *b, const uint8_t *p, uint64_t len, bool plain)
{
	return plain ? jsonw_plain(b, (const char *)p, (size_t)len) :
	    jsonw_string(b, (const char *)p, (size_t)len);
}

static int
json_array(struct dec *d, struct buf *b, uint64_t n, int depth)
{
	uint64_t	 i;
	int		 rc;

	if ((rc = chk_length(d, n, depth, 1,
	    "array length exceeds the input")) != PDS_OK ||
	    (rc = jsonw_char(b, '[')) != PDS_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if ((i > 0 && (rc = jsonw_char(b, ',')) != PDS_OK) ||
		    (rc = json_value(d, b, depth + 1)) != PDS_OK)
			return rc;
	}
	return jsonw_char(b, ']');
}

static int
json_map(struct dec *d, struct buf *b, uint64_t n, int depth)
{
	struct dm_entry	 prev, cur;
	uint64_t	 i;
	bool		 plain;
	int		 rc;

	if ((rc = chk_length(d, n, depth, 2,
	    "map length exceeds the input")) != PDS_OK ||
	    (rc = jsonw_char(b, '{')) != PDS_OK)
		return rc;
	memset(&prev, 0, sizeof(prev));
	memset(&cur, 0, sizeof(cur));
	for (i = 0; i < n; i++) {
		if ((rc = chk_key(d, i == 0, &prev, &cur, &plain)) != PDS_OK)
			return rc;
		prev = cur;
		if ((i > 0 && (rc = jsonw_char(b, ',')) != PDS_OK) ||
		    (rc = json_string(b, (const uint8_t *)cur.key, cur.klen,
		    plain)) != PDS_OK ||
		    (rc = jsonw_char(b, ':')) != PDS_OK ||
		    (rc = json_value(d, b, depth + 1)) != PDS_OK)
			return rc;
	}
	return jsonw_char(b, '}');
}

static int
json_value(struct dec *d, struct buf *b, int depth)
{
	struct cid	 c;
	unsigned	 major;
	uint64_t	 arg;
	int64_t		 i;
	const uint8_t	*q;
	bool		 plain;
	int		 rc;

	if ((rc = dec_head(d, &major, &arg)) != PDS_OK)
		return rc;
	switch (major) {
	case CBOR_UINT:
	case CBOR_NEGINT:
		if ((rc = chk_int(d, major, arg, &i)) != PDS_OK)
			return rc;
		return jsonw_int(b, i);
	case CBOR_BYTES:
		if ((rc = chk_bytes(d, arg, &q)) != PDS_OK)
			return rc;
		return jsonw_bytes(b, q, (size_t)arg);
	case CBOR_TEXT:
		if ((rc = chk_text(d, arg, &q, &plain)) != PDS_OK)
			return rc;
		return json_string(b, q, arg, plain);
	case CBOR_ARRAY:
		return json_array(d, b, arg, depth);
	case CBOR_MAP:
		return json_map(d, b, arg, depth);
	case CBOR_TAG:
		if ((rc = chk_link(d, arg, &c)) != PDS_OK)
			return rc;
		return jsonw_link(b, &c);
	case CBOR_SIMPLE:
		if (arg == 22)
			return jsonw_lit(b, "null", 4);
		return arg == 21 ? jsonw_lit(b, "true", 4) :
		    jsonw_lit(b, "false", 5);
	}
	return pds_fail(d->why, PDS_EINTERNAL, "bad major type");
}

int
jsonw_cbor(struct buf *b, const uint8_t *in, size_t len, const char **why)
{
	struct dm_arena	*a;
	struct dm_value	*v;
	struct dec	 d;
	int		 rc;

	if (in == NULL || len == 0)
		return pds_fail(why, PDS_ETRUNC, "empty input");
	if (len > JSONW_CBOR_MAX) {
		/* where the arena's cap may refuse it, as before */
		if ((a = dm_arena_new()) == NULL)
			return pds_fail(why, PDS_ENOMEM, "out of memory");
		if ((rc = dm_decode(a, in, len, &v, why)) == PDS_OK)
			rc = jsonw_dm(b, v);
		dm_arena_free(a);
		return rc;
	}
	d.p = in;
	d.end = in + len;
	d.a = NULL;
	d.why = why;
	if ((rc = json_value(&d, b, 0)) != PDS_OK)
		return rc;
	if (d.p != d.end)
		return pds_fail(why, PDS_EINVAL, "trailing bytes after item");
	return PDS_OK;
}

int
dm_decode_read(const uint8_t *in, size_t len, size_t max, dm_read_fn fn,
    void *arg, const char **why)
{
	struct dm_arena	*a;
	struct dm_value	*v;
	int		 rc;

	if ((a = dm_arena_new()) == NULL)
		return pds_fail(why, PDS_ENOMEM, "out of memory");
	dm_arena_set_max(a, max);
	if ((rc = dm_decode(a, in, len, &v, why)) == PDS_OK)
		rc = fn(arg, v, why);
	dm_arena_free(a);
	return rc;
}

/* ---- equality ------------------------------------------------------ */

static bool
map_equal(const struct dm_value *a, const struct dm_value *b)
{
	const struct dm_entry	*ea = a->u.map.e, *eb = b->u.map.e;
	const struct dm_entry	*sa[16], *sb[16], **pa, **pb;
	size_t			 n = a->u.map.n, i;
	bool			 eq = true;

	if (n != b->u.map.n)
		return false;
	if (entries_canonical(ea, n) && entries_canonical(eb, n)) {
		for (i = 0; i < n; i++)
			if (entry_cmp(&ea[i], &eb[i]) != 0 ||
			    !dm_equal(ea[i].val, eb[i].val))
				return false;
		return true;
	}
	if (n <= 16) {
		pa = sa;
		pb = sb;
	} else {
		pa = reallocarray(NULL, n, sizeof(*pa));
		pb = reallocarray(NULL, n, sizeof(*pb));
		if (pa == NULL || pb == NULL) {
			free(pa);
			free(pb);
			/* Fall back to lookups (quadratic, but correct). */
			for (i = 0; i < n; i++) {
				size_t j;
				for (j = 0; j < n; j++)
					if (entry_cmp(&ea[i], &eb[j]) == 0)
						break;
				if (j == n || !dm_equal(ea[i].val, eb[j].val))
					return false;
			}
			return true;
		}
	}
	for (i = 0; i < n; i++) {
		pa[i] = &ea[i];
		pb[i] = &eb[i];
	}
	sort_entry_ptrs(pa, n);
	sort_entry_ptrs(pb, n);
	for (i = 0; i < n && eq; i++)
		if (entry_cmp(pa[i], pb[i]) != 0 ||
		    !dm_equal(pa[i]->val, pb[i]->val))
			eq = false;
	if (pa != sa) {
		free(pa);
		free(pb);
	}
	return eq;
}

bool
dm_equal(const struct dm_value *a, const struct dm_value *b)
{
	size_t	 i;

	if (a == b)
		return true;
	if (a == NULL || b == NULL || a->type != b->type)
		return false;
	switch (a->type) {
	case DM_NULL:
		return true;
	case DM_BOOL:
		return a->u.b == b->u.b;
	case DM_INT:
		return a->u.i == b->u.i;
	case DM_BYTES:
	case DM_STRING:
		return a->u.s.len == b->u.s.len && (a->u.s.len == 0 ||
		    memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0);
	case DM_LINK:
		return cid_equal(&a->u.link, &b->u.link);
	case DM_ARRAY:
		if (a->u.arr.n != b->u.arr.n)
			return false;
		for (i = 0; i < a->u.arr.n; i++)
			if (!dm_equal(a->u.arr.items[i], b->u.arr.items[i]))
				return false;
		return true;
	case DM_MAP:
		return map_equal(a, b);
	}
	return false;
}
