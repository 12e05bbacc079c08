/*
 * fuzz_json: atproto JSON to the data model.  Whatever dm_from_json()
 * accepts must encode, decode strictly to an equal tree, re-encode to the
 * same bytes, and pass dm_validate().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cbor.h"
#include "dmjson.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(struct dm_arena *a, const struct dm_value *v, int record)
{
	struct dm_value	*w;
	struct buf	 b, b2;
	const char	*why = NULL;
	json_t		*j;

	buf_init(&b, 0);
	buf_init(&b2, 0);
	if (dm_encode(&b, v) != PDS_OK)
		abort();
	if (dm_decode(a, b.p, b.len, &w, &why) != PDS_OK)
		abort();
	if (!dm_equal(v, w) || !dm_equal(w, v))
		abort();
	if (dm_encode(&b2, w) != PDS_OK || b2.len != b.len ||
	    memcmp(b.p, b2.p, b.len) != 0)
		abort();
	if ((record ? dm_validate_record(w, &why) : dm_validate(w, &why)) !=
	    PDS_OK)
		abort();
	/* Back to JSON and in again gives the same tree. */
	if ((j = dm_to_json(w)) == NULL)
		abort();
	if (dm_from_json(a, j, &w, &why) != PDS_OK || !dm_equal(v, w))
		abort();
	json_decref(j);
	buf_clear(&b);
	buf_clear(&b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dm_arena	*a;
	struct dm_value	*v;
	json_error_t	 err;
	json_t		*j;
	const char	*why = NULL;

	j = json_loadb((const char *)data, size,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (j == NULL)
		return 0;
	if ((a = dm_arena_new()) == NULL) {
		json_decref(j);
		return 0;
	}
	if (dm_from_json(a, j, &v, &why) == PDS_OK)
		check(a, v, 0);
	else if (why == NULL)
		abort();
	if (dm_from_json_record(a, j, &v, &why) == PDS_OK)
		check(a, v, 1);
	dm_arena_free(a);
	json_decref(j);
	return 0;
}
