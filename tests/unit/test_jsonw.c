/*
 * jsonw: JSON written straight from the data model must be byte for byte
 * what json_dumps(dm_to_json(v), JSON_COMPACT) gives (JSON_ENCODE_ANY
 * here, for bare scalars) (listRecords and
 * getRecord switched from one to the other), and valid JSON with the
 * escapes RFC 8259 asks for.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cbor.h"
#include "cid.h"
#include "dmjson.h"
#include "err.h"
#include "jsonw.h"
#include "multibase.h"
#include "t.h"

/* jsonw_dm(v) and json_dumps(dm_to_json(v)) agree; returns 1 if so. */
static int
same_as_jansson(const struct dm_value *v, const char *what)
{
	struct buf	 b;
	json_t		*j;
	char		*s;
	int		 ok;

	buf_init(&b, BUF_MAX_DEFAULT);
	j = dm_to_json(v);
	s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) :
	    NULL;
	ok = s != NULL && jsonw_dm(&b, v) == PDS_OK && b.len == strlen(s) &&
	    memcmp(b.p, s, b.len) == 0;
	if (!ok)
		fprintf(stderr, "%s:\n  jansson %s\n  jsonw   %.*s\n", what,
		    s ? s : "(null)", (int)b.len, b.p ? (char *)b.p : "");
	free(s);
	json_decref(j);
	buf_clear(&b);
	return ok;
}

static void
fixtures(const char *path, const char *key)
{
	json_error_t	 je;
	json_t		*root, *e;
	size_t		 i;

	t_group(path);
	root = json_load_file(path, 0, &je);
	CHECK(root != NULL, "%s: %s", path, je.text);
	json_array_foreach(root, i, e) {
		struct dm_arena	*a = dm_arena_new();
		struct dm_value	*v = NULL;
		struct buf	 enc;
		const char	*why = NULL;
		char		 name[64];

		snprintf(name, sizeof(name), "%s[%zu]", path, i);
		CHECK(dm_from_json(a, json_object_get(e, key), &v, &why) ==
		    PDS_OK, "%s: %s", name, why ? why : "");
		if (v != NULL) {
			CHECK(same_as_jansson(v, name), "%s", name);
			/* And after a round trip through DAG-CBOR. */
			buf_init(&enc, BUF_MAX_DEFAULT);
			struct dm_value *w = NULL;
			CHECK(dm_encode(&enc, v) == PDS_OK &&
			    dm_decode(a, enc.p, enc.len, &w, NULL) == PDS_OK &&
			    same_as_jansson(w, name), "%s decoded", name);
			buf_clear(&enc);
		}
		dm_arena_free(a);
	}
	json_decref(root);
	t_group_end();
}

static void
literal(const struct dm_value *v, const char *want, const char *what)
{
	struct buf	 b;

	buf_init(&b, BUF_MAX_DEFAULT);
	CHECK(jsonw_dm(&b, v) == PDS_OK && b.len == strlen(want) &&
	    memcmp(b.p, want, b.len) == 0, "%s: got %.*s want %s", what,
	    (int)b.len, b.p ? (char *)b.p : "", want);
	CHECK(same_as_jansson(v, what), "%s", what);
	buf_clear(&b);
}

static void
escapes(void)
{
	struct dm_arena	*a = dm_arena_new();
	static const char ctl[] = "a\"b\\c/d\b\f\n\r\t\x01\x1f\x7f";
	static const char nul[] = { 'x', '\0', 'y' };
	static const char utf[] = "caf\xc3\xa9 \xf0\x9f\x98\x80";
	uint8_t		 raw[5] = { 0x00, 0xff, 0x10, 0x80, 0x7f };
	struct dm_value	*m, *arr;
	struct cid	 c;
	const char	*cs = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";

	t_group("escapes and types");
	/* RFC 8259 escapes; '/' and DEL stay as they are (as jansson). */
	literal(dm_string(a, ctl, sizeof(ctl) - 1),
	    "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001F\x7f\"", "controls");
	literal(dm_string(a, nul, sizeof(nul)), "\"x\\u0000y\"", "NUL");
	literal(dm_string(a, utf, sizeof(utf) - 1),
	    "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "UTF-8 kept");
	literal(dm_string(a, "", 0), "\"\"", "empty string");
	literal(dm_int(a, 0), "0", "zero");
	literal(dm_int(a, -9007199254740991LL), "-9007199254740991",
	    "min safe integer");
	literal(dm_int(a, 9007199254740991LL), "9007199254740991",
	    "max safe integer");
	literal(dm_bool(a, true), "true", "true");
	literal(dm_bool(a, false), "false", "false");
	literal(dm_null(a), "null", "null");
	/* 00 ff 10 80 7f in standard base64, unpadded: "AP8QgH8". */
	literal(dm_bytes(a, raw, sizeof(raw)), "{\"$bytes\":\"AP8QgH8\"}",
	    "bytes");
	literal(dm_bytes(a, raw, 0), "{\"$bytes\":\"\"}", "empty bytes");
	CHECK(cid_parse(&c, cs, strlen(cs), NULL) == PDS_OK, "cid parse");
	literal(dm_link(a, &c),
	    "{\"$link\":\"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm\"}",
	    "link");
	literal(dm_map(a, 0), "{}", "empty map");
	literal(dm_array(a, 0), "[]", "empty array");
	m = dm_map(a, 4);
	arr = dm_array(a, 3);
	dm_array_push(arr, dm_int(a, 1));
	dm_array_push(arr, dm_string(a, "q\"", 2));
	dm_array_push(arr, dm_map(a, 0));
	dm_map_set(m, "a", 1, arr);
	dm_map_set(m, "k\n", 2, dm_null(a));
	literal(m, "{\"a\":[1,\"q\\\"\",{}],\"k\\n\":null}", "nested");
	dm_arena_free(a);
	t_group_end();
}

static void
limits(void)
{
	struct dm_arena	*a = dm_arena_new();
	struct buf	 b;

	t_group("buffer limits");
	buf_init(&b, 4);
	CHECK(jsonw_dm(&b, dm_string(a, "abcdef", 6)) == PDS_ETOOBIG,
	    "a string past the buffer's maximum");
	buf_clear(&b);
	buf_init(&b, 16);
	CHECK(jsonw_cstr(&b, "0123456789abcd") == PDS_OK && b.len == 16,
	    "exactly at the maximum");
	buf_clear(&b);
	dm_arena_free(a);
	t_group_end();
}

int
main(void)
{
	fixtures("tests/fixtures/data-model/data-model-fixtures.json", "json");
	fixtures("tests/fixtures/data-model/data-model-valid.json", "json");
	escapes();
	limits();
	return t_done("test_jsonw");
}
