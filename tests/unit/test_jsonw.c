/*
 * jsonw: JSON written straight from the data model must be byte for byte
 * what json_dumps(dm_to_json(v), JSON_COMPACT) gives (JSON_ENCODE_ANY
 * here, for bare scalars) (listRecords and
 * getRecord switched from one to the other), and valid JSON with the
 * escapes RFC 8259 asks for.  jsonw_cbor(), straight from DAG-CBOR,
 * must write the same bytes and fail on the same inputs as dm_decode().
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

/*
 * jsonw_cbor(in) and jsonw_dm(dm_decode(in)) agree: both fail, or both
 * succeed with the same bytes.  Returns 1 if so.
 */
static int
cbor_same(const uint8_t *in, size_t len, const char *what)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*v = NULL;
	struct buf	 b1, b2;
	int		 r1, r2, ok;

	buf_init(&b1, BUF_MAX_DEFAULT);
	buf_init(&b2, BUF_MAX_DEFAULT);
	r1 = dm_decode(a, in, len, &v, NULL);
	if (r1 == PDS_OK)
		r1 = jsonw_dm(&b1, v);
	r2 = jsonw_cbor(&b2, in, len, NULL);
	ok = (r1 == PDS_OK) == (r2 == PDS_OK) && (r1 != PDS_OK ||
	    (b1.len == b2.len && memcmp(b1.p, b2.p, b1.len) == 0));
	if (!ok)
		fprintf(stderr, "%s (%zu bytes):\n  decoded %d %.*s\n"
		    "  direct  %d %.*s\n", what, len, r1, (int)b1.len,
		    b1.p ? (char *)b1.p : "", r2, (int)b2.len,
		    b2.p ? (char *)b2.p : "");
	buf_clear(&b1);
	buf_clear(&b2);
	dm_arena_free(a);
	return ok;
}

/*
 * Every truncation of enc, and every byte of it replaced by a few
 * values that change its meaning: jsonw_cbor() agrees on each.
 */
static int
cbor_mutations(const uint8_t *enc, size_t len, const char *what)
{
	static const uint8_t sub[] = { 0x00, 0x01, 0x17, 0x18, 0x1f, 0x20,
	    0x22, 0x40, 0x5c, 0x60, 0x61, 0x7f, 0x80, 0x9f, 0xa0, 0xbf,
	    0xc0, 0xd8, 0xe0, 0xf4, 0xf5, 0xf6, 0xf7, 0xff };
	uint8_t	*m;
	size_t	 i, k;
	int	 ok = 1;

	if ((m = malloc(len + 1)) == NULL)
		return 0;
	for (i = 0; i <= len && ok; i++)
		ok = cbor_same(enc, i, what);
	for (i = 0; i < len && ok; i++) {
		memcpy(m, enc, len);
		for (k = 0; k < sizeof(sub) && ok; k++) {
			m[i] = sub[k];
			ok = cbor_same(m, len, what);
		}
		/* one trailing byte */
		memcpy(m, enc, len);
		m[len] = 0;
		if (ok)
			ok = cbor_same(m, len + 1, what);
	}
	free(m);
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
			/* And straight from the DAG-CBOR, broken or not. */
			CHECK(cbor_same(enc.p, enc.len, name), "%s direct",
			    name);
			CHECK(cbor_mutations(enc.p, enc.len, name),
			    "%s direct, mutated", name);
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

/* s as a DAG-CBOR text: jsonw_cbor() and the tree agree on it. */
static int
cbor_string_same(struct dm_arena *a, const char *s, size_t len,
    const char *what)
{
	struct buf	 enc;
	int		 ok;

	buf_init(&enc, BUF_MAX_DEFAULT);
	ok = dm_encode(&enc, dm_string(a, s, len)) == PDS_OK &&
	    cbor_same(enc.p, enc.len, what) &&
	    same_as_jansson(dm_string(a, s, len), what);
	buf_clear(&enc);
	return ok;
}

/* Every escape at every place of strings 0 to 40 bytes long. */
static void
string_runs(void)
{
	static const char bad[] = { '"', '\\', '\n', 0x00, 0x1f };
	static const char good[] = { ' ', '!', '#', '[', ']', 0x7f };
	struct dm_arena	*a = dm_arena_new();
	char		 s[41];
	size_t		 len, at, k, g;
	int		 ok = 1;

	t_group("escapes at every place");
	for (len = 0; len <= 40 && ok; len++) {
		for (g = 0; g < sizeof(good) && ok; g++) {
			memset(s, 'a' + (int)g, len);
			if (len > 0)
				s[len / 2] = good[g];
			ok = cbor_string_same(a, s, len, "clean");
		}
		for (at = 0; at < len && ok; at++) {
			for (k = 0; k < sizeof(bad) && ok; k++) {
				memset(s, 'x', len);
				s[at] = bad[k];
				ok = cbor_string_same(a, s, len,
				    "one escape");
				/* and a second one further on */
				if (ok && at + 3 < len) {
					s[at + 3] = bad[(k + 1) %
					    sizeof(bad)];
					ok = cbor_string_same(a, s, len,
					    "two escapes");
				}
			}
		}
		/* UTF-8 (two and four bytes) at every place */
		for (at = 0; at + 4 <= len && ok; at++) {
			memset(s, 'x', len);
			memcpy(s + at, "\xc3\xa9", 2);
			ok = cbor_string_same(a, s, len, "UTF-8");
			memcpy(s + at, "\xf0\x9f\x98\x80", 4);
			if (ok)
				ok = cbor_string_same(a, s, len, "UTF-8");
			/* and a lone continuation byte: refused by both */
			s[at] = (char)0x80;
			if (ok) {
				uint8_t	 t[2 + 40];
				size_t	 h = len < 24 ? 1 : 2;

				t[0] = len < 24 ? (uint8_t)(0x60 | len) : 0x78;
				t[1] = (uint8_t)len;	/* when h is 2 */
				memcpy(t + h, s, len);
				ok = cbor_same(t, h + len, "bad UTF-8");
			}
		}
		dm_arena_reset(a);
	}
	CHECK(ok, "strings up to 40 bytes with and without escapes");
	dm_arena_free(a);
	t_group_end();
}

/* Inputs dm_decode() refuses: jsonw_cbor() refuses them too. */
static void
cbor_refused(void)
{
	static const struct {
		const char	*what;
		const char	*hex;
	} c[] = {
		{ "empty", "" },
		{ "float", "fb3ff0000000000000" },
		{ "undefined", "f7" },
		{ "indefinite array", "9f01ff" },
		{ "non-shortest int", "1801" },
		{ "non-shortest length", "780161" },
		{ "keys out of order", "a26262620161610" "2" },
		{ "duplicate keys", "a2616101616102" },
		{ "non-text key", "a10101" },
		{ "bad UTF-8", "62c328" },
		{ "surrogate", "63eda080" },
		{ "tag other than 42", "c11a514b67b0" },
		{ "tag 42 without 0x00", "d82a4101" },
		{ "tag 42 not bytes", "d82a6161" },
		{ "integer past int64", "1bffffffffffffffff" },
		{ "trailing byte", "0101" },
		{ "truncated map", "a16161" },
		{ "nesting 65 deep", NULL },
	};
	uint8_t	 in[128];
	size_t	 i, n, k;

	t_group("refused DAG-CBOR");
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (c[i].hex == NULL) {
			for (n = 0; n < 65; n++)
				in[n] = 0x81;
			in[n++] = 0x01;
		} else {
			n = strlen(c[i].hex) / 2;
			for (k = 0; k < n; k++)
				sscanf(c[i].hex + 2 * k, "%2hhx", &in[k]);
		}
		CHECK(cbor_same(in, n, c[i].what), "%s", c[i].what);
		{
			struct buf b;

			buf_init(&b, BUF_MAX_DEFAULT);
			CHECK(jsonw_cbor(&b, in, n, NULL) != PDS_OK,
			    "%s is refused", c[i].what);
			buf_clear(&b);
		}
	}
	/* 64 deep is still fine */
	for (n = 0; n < 63; n++)
		in[n] = 0x81;
	in[n++] = 0x01;
	CHECK(cbor_same(in, n, "63 arrays deep"), "63 arrays deep");
	/* past JSONW_CBOR_MAX, through the tree: the same bytes */
	{
		size_t	 big = JSONW_CBOR_MAX + 10;
		uint8_t	*p = malloc(big + 5);

		CHECK(p != NULL, "malloc");
		if (p != NULL) {
			p[0] = 0x7a;
			p[1] = (uint8_t)(big >> 24);
			p[2] = (uint8_t)(big >> 16);
			p[3] = (uint8_t)(big >> 8);
			p[4] = (uint8_t)big;
			memset(p + 5, 'a', big);
			p[5 + big / 2] = '"';
			CHECK(cbor_same(p, big + 5, "large text"),
			    "a text past JSONW_CBOR_MAX");
			CHECK(cbor_same(p, big + 4, "large text, truncated"),
			    "a truncated text past JSONW_CBOR_MAX");
			free(p);
		}
	}
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
	string_runs();
	cbor_refused();
	limits();
	return t_done("test_jsonw");
}
