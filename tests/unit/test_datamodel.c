/*
 * Unit tests: the JSON form of the data model (atproto-notes §1.5, §1.6,
 * §13) against tests/fixtures/data-model/.
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cbor.h"
#include "cid.h"
#include "dmjson.h"
#include "err.h"
#include "multibase.h"
#include "t.h"

#define FIX "tests/fixtures/data-model/"

static json_t *
load(const char *path)
{
	json_error_t	 err;
	json_t		*j;

	if ((j = json_load_file(path, 0, &err)) == NULL)
		fprintf(stderr, "%s:%d: %s\n", path, err.line, err.text);
	return j;
}

/* JSON text → record → CBOR → decode → JSON; true if all steps agree. */
static int
json_round_trip(struct dm_arena *a, const json_t *j, const char **why)
{
	struct dm_value	*v, *w;
	struct buf	 b;
	json_t		*back;
	int		 ok = 0;

	buf_init(&b, 0);
	if (dm_from_json_record(a, j, &v, why) == PDS_OK &&
	    dm_encode(&b, v) == PDS_OK &&
	    dm_decode(a, b.p, b.len, &w, why) == PDS_OK &&
	    dm_equal(v, w) && dm_validate_record(w, why) == PDS_OK &&
	    (back = dm_to_json(w)) != NULL) {
		ok = 1;
		json_decref(back);
	}
	buf_clear(&b);
	return ok;
}

static void
test_fixtures(void)
{
	json_t		*root, *c, *j;
	struct dm_arena	*a;
	struct dm_value	*v, *w;
	struct buf	 b;
	struct cid	 cid;
	uint8_t		 want[4096];
	char		 s[CID_STR_MAX];
	const char	*b64, *cidstr, *why = NULL;
	json_t		*back;
	size_t		 i;
	long		 n;

	t_group("data-model-fixtures.json");
	root = load(FIX "data-model-fixtures.json");
	CHECK(json_is_array(root) && json_array_size(root) >= 3, "loaded");
	buf_init(&b, 0);
	json_array_foreach(root, i, c) {
		j = json_object_get(c, "json");
		b64 = json_string_value(json_object_get(c, "cbor_base64"));
		cidstr = json_string_value(json_object_get(c, "cid"));
		if (j == NULL || b64 == NULL || cidstr == NULL) {
			CHECK(0, "case %zu malformed", i);
			continue;
		}
		n = b64_decode(want, sizeof(want), b64, strlen(b64));
		CHECK(n > 0, "case %zu base64", i);
		a = dm_arena_new();
		buf_reset(&b);
		CHECK(dm_from_json_record(a, j, &v, &why) == PDS_OK,
		    "case %zu from_json: %s", i, why);
		if (v == NULL) {
			dm_arena_free(a);
			continue;
		}
		CHECK(dm_encode(&b, v) == PDS_OK && n > 0 &&
		    b.len == (size_t)n && memcmp(b.p, want, b.len) == 0,
		    "case %zu CBOR bytes", i);
		cid_compute(&cid, CID_CODEC_DAGCBOR, b.p, b.len);
		cid_format(&cid, s, sizeof(s));
		CHECK(strcmp(s, cidstr) == 0, "case %zu CID %s", i, s);

		/* And back: fixture bytes → tree → JSON equal to fixture. */
		CHECK(dm_decode(a, want, (size_t)(n > 0 ? n : 0), &w, &why) ==
		    PDS_OK, "case %zu decode: %s", i, why);
		CHECK(dm_equal(v, w), "case %zu trees equal", i);
		CHECK(dm_validate_record(w, &why) == PDS_OK,
		    "case %zu validate: %s", i, why);
		back = dm_to_json(w);
		CHECK(back != NULL && json_equal(back, j), "case %zu JSON", i);
		json_decref(back);
		dm_arena_free(a);
	}
	buf_clear(&b);
	json_decref(root);
	t_group_end();
}

static void
test_file(const char *name, int valid)
{
	char		 path[256];
	json_t		*root, *c, *j;
	struct dm_arena	*a;
	struct dm_value	*v;
	const char	*note, *why;
	size_t		 i;
	int		 rc;

	t_group(name);
	snprintf(path, sizeof(path), FIX "%s", name);
	root = load(path);
	CHECK(json_is_array(root) && json_array_size(root) > 0, "loaded");
	json_array_foreach(root, i, c) {
		j = json_object_get(c, "json");
		note = json_string_value(json_object_get(c, "note"));
		if (note == NULL)
			note = "?";
		a = dm_arena_new();
		why = "";
		rc = dm_from_json_record(a, j, &v, &why);
		if (valid) {
			CHECK(rc == PDS_OK, "%s: refused: %s", note, why);
			CHECK(json_round_trip(a, j, &why), "%s: round trip: %s",
			    note, why);
		} else
			CHECK(rc != PDS_OK && why != NULL && why[0] != '\0',
			    "%s: accepted", note);
		dm_arena_free(a);
	}
	json_decref(root);
	t_group_end();
}

/* Rules beyond the fixtures (notes §1.5, §1.6, §13). */
static void
test_rules(void)
{
	static const struct {
		const char	*json;
		int		 ok;
		const char	*what;
	} tab[] = {
		{ "{\"b\":{\"$bytes\":\"aGVsbG8=\"}}", 1, "padded base64" },
		{ "{\"b\":{\"$bytes\":\"aGVsbG8\"}}", 1, "unpadded base64" },
		{ "{\"b\":{\"$bytes\":\"\"}}", 1, "empty bytes" },
		{ "{\"b\":{\"$bytes\":\"aGVs-G8\"}}", 0, "url alphabet" },
		{ "{\"b\":{\"$bytes\":\"a\"}}", 0, "bad length" },
		{ "{\"b\":{\"$bytes\":null}}", 0, "null bytes" },
		{ "{\"l\":{\"$link\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\"}}", 1, "raw link" },
		{ "{\"l\":{\"$link\":\"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG\"}}", 0, "CIDv0 link" },
		{ "{\"l\":{\"$link\":\"\"}}", 0, "empty link" },
		{ "{\"i\":9007199254740991}", 1, "2^53-1" },
		{ "{\"i\":-9007199254740991}", 1, "-(2^53-1)" },
		{ "{\"i\":9007199254740992}", 0, "2^53" },
		{ "{\"i\":-9007199254740992}", 0, "-2^53" },
		{ "{\"i\":1e300}", 0, "1e300" },
		{ "{\"i\":1.5}", 0, "1.5" },
		{ "{\"i\":-0.0}", 1, "-0.0" },
		{ "{\"i\":1e3}", 1, "1e3" },
		{ "{\"i\":[0.5]}", 0, "fraction in array" },
		{ "{\"$type\":\"a.b.c\",\"x\":{\"$type\":null}}", 0, "nested $type null" },
		{ "{\"x\":[{\"$type\":\"\"}]}", 0, "empty $type in array" },
		{ "{\"$type\":\"a.b.c\",\"$unknown\":1}", 1, "unknown $ key kept" },
		{ "{\"$link\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\"}", 0, "record is a link" },
		{ "{\"$bytes\":\"aGVsbG8\"}", 0, "record is bytes" },
		{ "{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\"},\"mimeType\":\"text/plain\",\"size\":11}", 0, "record is a blob" },
		{ "[1,2]", 0, "record is an array" },
		{ "null", 0, "record is null" },
		{ "{\"f\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\"},\"mimeType\":\"text/plain\",\"size\":11}}", 1, "blob" },
		{ "{\"f\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku\"},\"mimeType\":\"application/octet-stream\",\"size\":0}}", 1, "empty blob" },
		{ "{\"f\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\"},\"mimeType\":\"text/plain\",\"size\":-1}}", 0, "negative size" },
		{ "{\"f\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\"},\"mimeType\":\"text/plain\",\"size\":1.5}}", 0, "fractional size" },
		{ "{\"f\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\"},\"mimeType\":\"\",\"size\":11}}", 0, "empty mimeType" },
		{ "{\"f\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\"},\"mimeType\":\"text/plain\",\"size\":11,\"x\":1}}", 0, "extra blob key" },
		{ "{\"f\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a\"},\"mimeType\":\"text/plain\",\"size\":11}}", 0, "dag-cbor blob ref" },
		{ "{\"f\":{\"$type\":\"blob\",\"ref\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\",\"mimeType\":\"text/plain\",\"size\":11}}", 0, "string blob ref" },
		{ "{\"f\":{\"cid\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\",\"mimeType\":\"text/plain\"}}", 1, "legacy blob" },
	};
	struct dm_arena	*a;
	struct dm_value	*v;
	json_error_t	 err;
	json_t		*j;
	const char	*why;
	size_t		 i;
	int		 rc;

	t_group("data-model rules");
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		j = json_loads(tab[i].json, JSON_DECODE_ANY, &err);
		if (j == NULL) {
			CHECK(0, "%s: bad test JSON: %s", tab[i].what,
			    err.text);
			continue;
		}
		a = dm_arena_new();
		why = "";
		rc = dm_from_json_record(a, j, &v, &why);
		if (tab[i].ok) {
			CHECK(rc == PDS_OK, "%s: refused: %s", tab[i].what,
			    why);
			CHECK(json_round_trip(a, j, &why), "%s: round trip: %s",
			    tab[i].what, why);
		} else
			CHECK(rc != PDS_OK && why != NULL && why[0] != '\0',
			    "%s: accepted", tab[i].what);
		dm_arena_free(a);
		json_decref(j);
	}
	t_group_end();
}

static void
test_to_json(void)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*m, *v;
	struct cid	 c;
	json_t		*j;
	char		*s;
	const char	*why = NULL;
	char		 text[4 * (DM_MAX_DEPTH + 1) + 16];
	size_t		 i;

	t_group("data model to JSON");
	cid_compute(&c, CID_CODEC_RAW, "hello world", 11);
	m = dm_map(a, 4);
	dm_map_set(m, "b", 1, dm_bytes(a, "hello", 5));
	dm_map_set(m, "l", 1, dm_link(a, &c));
	dm_map_set(m, "n", 1, dm_int(a, -7));
	dm_map_set(m, "a", 1, dm_array(a, 0));
	j = dm_to_json(m);
	s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	CHECK(s != NULL && strcmp(s, "{\"a\":[],\"b\":{\"$bytes\":\"aGVsbG8\"},"
	    "\"l\":{\"$link\":\"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\"},"
	    "\"n\":-7}") == 0, "%s", s ? s : "(null)");
	free(s);
	json_decref(j);

	/* Invalid UTF-8 cannot become JSON. */
	CHECK(dm_to_json(dm_string(a, "\xc0\x80", 2)) == NULL, "bad UTF-8");

	/* Large integers from CBOR validate only within ±(2^53-1). */
	CHECK(dm_validate(dm_int(a, DM_INT_MAX), &why) == PDS_OK, "2^53-1");
	CHECK(dm_validate(dm_int(a, DM_INT_MAX + 1), &why) == PDS_EINVAL,
	    "2^53");
	CHECK(dm_validate(dm_int(a, INT64_MIN), &why) == PDS_EINVAL, "min");

	/* CBOR-side checks of $type, records and blobs. */
	m = dm_map(a, 1);
	dm_map_set(m, "$type", 5, dm_int(a, 1));
	CHECK(dm_validate(m, &why) == PDS_EINVAL, "int $type");
	CHECK(dm_validate_record(dm_array(a, 0), &why) == PDS_EINVAL,
	    "array record");
	m = dm_map(a, 1);
	dm_map_set(m, "$type", 5, dm_string(a, "blob", 4));
	CHECK(dm_is_blob(m) && dm_validate(m, &why) == PDS_EINVAL,
	    "bare blob");

	/* JSON nesting: DM_MAX_DEPTH arrays convert, one more does not. */
	for (i = 0; i < DM_MAX_DEPTH; i++)
		text[i] = '[';
	for (i = 0; i < DM_MAX_DEPTH; i++)
		text[DM_MAX_DEPTH + i] = ']';
	text[2 * DM_MAX_DEPTH] = '\0';
	j = json_loads(text, JSON_DECODE_ANY, NULL);
	CHECK(j != NULL && dm_from_json(a, j, &v, &why) == PDS_OK,
	    "max depth: %s", why);
	json_decref(j);
	memmove(text + 1, text, strlen(text) + 1);
	text[0] = '[';
	i = strlen(text);
	text[i] = ']';
	text[i + 1] = '\0';
	j = json_loads(text, JSON_DECODE_ANY, NULL);
	CHECK(j != NULL && dm_from_json(a, j, &v, &why) == PDS_ETOOBIG,
	    "too deep");
	json_decref(j);
	dm_arena_free(a);
	t_group_end();
}

int
main(void)
{
	test_fixtures();
	test_file("data-model-valid.json", 1);
	test_file("data-model-invalid.json", 0);
	test_rules();
	test_to_json();
	return t_done("test_datamodel");
}
