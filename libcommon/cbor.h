/*
 * cbor: the atproto data model in canonical DAG-CBOR (DRISL).
 *
 * Two layers:
 *
 * 1. A streaming writer (cbor_put_*) that appends canonical heads and
 *    items to a struct buf.  The caller writes map keys in canonical order
 *    (length first, then bytewise); hot paths (MST nodes, commits,
 *    firehose frames) use it to encode without building a tree.
 *
 * 2. A value tree (struct dm_value) for arbitrary data: records, JSON
 *    conversion, decoded blocks.  dm_encode() sorts map keys itself;
 *    dm_decode() is strict: shortest-form heads only, map keys text and
 *    in canonical order, no duplicate keys, tag 42 only (with the 0x00
 *    prefix and a valid CID), no floats, no undefined, no indefinite
 *    lengths, valid UTF-8 text, a nesting-depth limit, and no trailing
 *    bytes.  Any violation is an error with a reason in *why.
 *
 * Trees are allocated from an arena (struct dm_arena): every value decoded
 * or built with it is freed at once by dm_arena_free().  Strings and
 * byte strings inside a tree are not NUL-terminated unless stated; those
 * made by dm_decode() and the constructors do have a NUL after their
 * length (text may still hold NULs of its own).  dm_encode() does not
 * check text for valid UTF-8: trees from dm_decode() and dm_from_json()
 * always hold valid UTF-8, and hand-built trees must too.
 */
#ifndef PDS_CBOR_H
#define PDS_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cid.h"

#define DM_MAX_DEPTH	64		/* nesting of arrays and maps */
#define DM_INT_MAX	9007199254740991LL	/* 2^53 - 1: JS-safe */
#define DM_INT_MIN	(-9007199254740991LL)

/* ---- streaming writer ---------------------------------------------- */

enum cbor_major {
	CBOR_UINT = 0, CBOR_NEGINT = 1, CBOR_BYTES = 2, CBOR_TEXT = 3,
	CBOR_ARRAY = 4, CBOR_MAP = 5, CBOR_TAG = 6, CBOR_SIMPLE = 7,
};

int	cbor_put_head(struct buf *, enum cbor_major, uint64_t arg);
int	cbor_put_int(struct buf *, int64_t);
int	cbor_put_bytes(struct buf *, const void *, size_t);
int	cbor_put_text(struct buf *, const char *, size_t);
int	cbor_put_str(struct buf *, const char *);	/* NUL-terminated */
int	cbor_put_bool(struct buf *, bool);
int	cbor_put_null(struct buf *);
int	cbor_put_link(struct buf *, const struct cid *);	/* tag 42 */
int	cbor_put_array(struct buf *, size_t n);
int	cbor_put_map(struct buf *, size_t n);
/*
 * The writer's first error on b (PDS_OK if none) since buf_init() or
 * buf_reset(): errors are sticky, every cbor_put_* after one does
 * nothing and returns it, so a run of puts may be checked once at the
 * end.
 */
int	cbor_put_error(const struct buf *);

/*
 * The argument of a head whose additional info is 24-27, read from the
 * 1, 2, 4 or 8 bytes at p (the caller has checked they are there);
 * PDS_ENONCANON when a shorter head would have held it.  For the strict
 * readers (dm_decode() and the MST node reader).
 */
int	cbor_head_arg(unsigned info, const uint8_t *p, uint64_t *arg,
	    const char **why);

/* ---- value tree ---------------------------------------------------- */

enum dm_type {
	DM_NULL, DM_BOOL, DM_INT, DM_BYTES, DM_STRING, DM_ARRAY, DM_MAP,
	DM_LINK,
};

struct dm_value;

struct dm_entry {
	const char	*key;	/* not NUL-terminated */
	size_t		 klen;
	struct dm_value	*val;
};

struct dm_value {
	enum dm_type	 type;
	union {
		bool		 b;
		int64_t		 i;
		struct {
			const uint8_t	*p;	/* DM_BYTES, DM_STRING */
			size_t		 len;
		} s;
		struct {
			struct dm_value	**items;
			size_t		  n;
			size_t		  cap;	/* room for dm_array_push */
		} arr;
		struct {
			struct dm_entry	*e;	/* canonical order after */
			size_t		 n;	/* decode or dm_map_sort */
			size_t		 cap;	/* room for dm_map_set */
			bool		 sorted; /* e[] known canonical */
		} map;
		struct cid	 link;
	} u;
};

struct dm_arena;

struct dm_arena	*dm_arena_new(void);
void		 dm_arena_free(struct dm_arena *);
/* Free every value at once and keep the arena (and its cap) for reuse. */
void		 dm_arena_reset(struct dm_arena *);
void		*dm_arena_alloc(struct dm_arena *, size_t);	/* zeroed */
/*
 * Cap the bytes an arena may hold (default DM_ARENA_MAX_DEFAULT) so that a
 * hostile block cannot make a decode use unbounded memory; allocations
 * past it fail and dm_decode() returns PDS_ETOOBIG.
 */
#define DM_ARENA_MAX_DEFAULT	((size_t)256 << 20)
void		 dm_arena_set_max(struct dm_arena *, size_t max);

/* Constructors; they copy strings and bytes into the arena. */
struct dm_value	*dm_null(struct dm_arena *);
struct dm_value	*dm_bool(struct dm_arena *, bool);
struct dm_value	*dm_int(struct dm_arena *, int64_t);
struct dm_value	*dm_bytes(struct dm_arena *, const void *, size_t);
struct dm_value	*dm_string(struct dm_arena *, const char *, size_t);
struct dm_value	*dm_link(struct dm_arena *, const struct cid *);
struct dm_value	*dm_array(struct dm_arena *, size_t cap);
struct dm_value	*dm_map(struct dm_arena *, size_t cap);
/*
 * Append to an array or map made with room for `cap` items (PDS_ETOOBIG
 * when full).  dm_map_set() does not copy the key: it must live as long
 * as the map (a literal, or memory from the same arena).
 */
int		 dm_array_push(struct dm_value *arr, struct dm_value *v);
int		 dm_map_set(struct dm_value *map, const char *key, size_t klen,
		     struct dm_value *v);
/* Put map entries in canonical order; fails on duplicate keys. */
int		 dm_map_sort(struct dm_value *map, const char **why);

/* Lookup in a map by NUL-terminated key; NULL if absent or not a map. */
struct dm_value	*dm_map_get(const struct dm_value *map, const char *key);

/* Encode canonically (map keys are sorted as written). */
int	dm_encode(struct buf *, const struct dm_value *);

/*
 * Strictly decode exactly `len` bytes into a tree allocated in `a`.
 * Returns PDS_OK or a PDS_E* code with a reason in *why.
 */
int	dm_decode(struct dm_arena *a, const uint8_t *in, size_t len,
	    struct dm_value **out, const char **why);

/*
 * Strictly decode `len` bytes into a fresh arena that may hold max bytes,
 * hand the tree to fn(arg, tree, why) and free the arena: for readers
 * that copy out what they keep.  Returns the decoder's or fn's result;
 * PDS_ENOMEM ("out of memory") when no arena can be made.
 */
typedef int	(*dm_read_fn)(void *arg, const struct dm_value *v,
		    const char **why);
int	dm_decode_read(const uint8_t *in, size_t len, size_t max,
	    dm_read_fn fn, void *arg, const char **why);

/*
 * Strictly decode one item at the start of `in` (more bytes may follow);
 * *used gets the number of bytes it took.  For CAR headers and firehose
 * frames (a header item followed by a body item).
 */
int	dm_decode_prefix(struct dm_arena *a, const uint8_t *in, size_t len,
	    struct dm_value **out, size_t *used, const char **why);

/* Deep equality (map order-insensitive). */
bool	dm_equal(const struct dm_value *, const struct dm_value *);

#endif
