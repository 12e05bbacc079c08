/*
 * fuzz_cbor: the strict DAG-CBOR decoder.  Whatever it accepts must be
 * canonical, so re-encoding gives back the input byte for byte; and a
 * tree that passes dm_validate() survives the trip through JSON.
 * jsonw_cbor() accepts the same inputs and writes jsonw_dm()'s bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cbor.h"
#include "dmjson.h"
#include "err.h"
#include "jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Does any map hold a "$link" or "$bytes" key (ambiguous in JSON)? */
static int
has_json_magic(const struct dm_value *v)
{
	size_t	 i;

	if (v->type == DM_ARRAY) {
		for (i = 0; i < v->u.arr.n; i++)
			if (has_json_magic(v->u.arr.items[i]))
				return 1;
	} else if (v->type == DM_MAP) {
		if (dm_map_get(v, "$link") || dm_map_get(v, "$bytes"))
			return 1;
		for (i = 0; i < v->u.map.n; i++)
			if (has_json_magic(v->u.map.e[i].val))
				return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dm_arena	*a;
	struct dm_value	*v, *w;
	struct buf	 b;
	const char	*why = NULL;
	json_t		*j;
	size_t		 used;
	int		 rc, prc;

	if ((a = dm_arena_new()) == NULL)
		return 0;
	rc = dm_decode(a, data, size, &v, &why);
	prc = dm_decode_prefix(a, data, size, &w, &used, &why);
	if (rc == PDS_OK && (prc != PDS_OK || used != size))
		abort();
	if (prc == PDS_OK && (used == 0 || used > size))
		abort();
	/* Straight to JSON: the same verdict, the same bytes. */
	{
		struct buf	 j1, j2;
		int		 r1, r2;

		buf_init(&j1, 0);
		buf_init(&j2, 0);
		r1 = rc == PDS_OK ? jsonw_dm(&j1, v) : rc;
		r2 = jsonw_cbor(&j2, data, size, NULL);
		if ((r1 == PDS_OK) != (r2 == PDS_OK) || (r1 == PDS_OK &&
		    (j1.len != j2.len || memcmp(j1.p, j2.p, j1.len) != 0)))
			abort();
		buf_clear(&j1);
		buf_clear(&j2);
	}
	if (rc != PDS_OK) {
		if (why == NULL)
			abort();
		dm_arena_free(a);
		return 0;
	}
	buf_init(&b, 0);
	if (dm_encode(&b, v) != PDS_OK || b.len != size ||
	    memcmp(b.p, data, size) != 0)
		abort();
	if (!dm_equal(v, w) || !dm_equal(w, v))
		abort();
	buf_clear(&b);

	/* Valid data-model trees come back from JSON unchanged. */
	if ((j = dm_to_json(v)) != NULL) {
		if (dm_validate(v, &why) == PDS_OK && !has_json_magic(v)) {
			if (dm_from_json(a, j, &w, &why) != PDS_OK ||
			    !dm_equal(v, w))
				abort();
		}
		json_decref(j);
	}
	dm_arena_free(a);
	return 0;
}
