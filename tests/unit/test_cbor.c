/*
 * Unit tests: canonical DAG-CBOR writer, encoder and strict decoder
 * (atproto-notes §1, §14 V1, V2, V5, V6, V9, V11).
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "cbor.h"
#include "cid.h"
#include "err.h"
#include "t.h"

static uint8_t	 hexbuf[4096];

/* Bytes from hex (into a static buffer); *lenp gets the length. */
static const uint8_t *
unhex(const char *hex, size_t *lenp)
{
	long	 n = t_unhex(hexbuf, sizeof(hexbuf), hex);

	*lenp = n < 0 ? 0 : (size_t)n;
	return hexbuf;
}

/* Does b hold exactly the bytes spelled by hex? */
static int
same_hex(const struct buf *b, const char *hex)
{
	uint8_t	 x[4096];
	long	 n = t_unhex(x, sizeof(x), hex);

	return n >= 0 && (size_t)n == b->len && memcmp(b->p, x, b->len) == 0;
}

/* Decode hex strictly, re-encode, and check the bytes are the same. */
static int
round_trip(const char *hex, const char **why)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*v;
	struct buf	 b;
	const uint8_t	*in;
	size_t		 len;
	int		 rc, ok;

	buf_init(&b, 0);
	in = unhex(hex, &len);
	rc = dm_decode(a, in, len, &v, why);
	ok = rc == PDS_OK && dm_encode(&b, v) == PDS_OK && same_hex(&b, hex);
	buf_clear(&b);
	dm_arena_free(a);
	return ok;
}

static int
decode_hex(const char *hex, const char **why)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*v;
	const uint8_t	*in;
	size_t		 len;
	int		 rc;

	in = unhex(hex, &len);
	*why = "";
	rc = dm_decode(a, in, len, &v, why);
	dm_arena_free(a);
	return rc;
}

static void
test_ints(void)
{
	static const struct {
		int64_t		 v;
		const char	*hex;
	} tab[] = {			/* atproto-notes §1.1 */
		{ 0, "00" }, { -1, "20" }, { 23, "17" }, { -24, "37" },
		{ 24, "1818" }, { -25, "3818" }, { 255, "18ff" },
		{ -256, "38ff" }, { 256, "190100" }, { -257, "390100" },
		{ 65535, "19ffff" }, { 65536, "1a00010000" },
		{ 4294967296LL, "1b0000000100000000" },
		{ 9007199254740991LL, "1b001fffffffffffff" },
	};
	struct dm_arena	*a;
	struct dm_value	*v;
	struct buf	 b;
	const uint8_t	*in;
	const char	*why = NULL;
	size_t		 i, len;

	t_group("integers (§1.1)");
	buf_init(&b, 0);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		buf_reset(&b);
		CHECK(cbor_put_int(&b, tab[i].v) == PDS_OK &&
		    same_hex(&b, tab[i].hex), "put_int %lld",
		    (long long)tab[i].v);
		a = dm_arena_new();
		buf_reset(&b);
		CHECK(dm_encode(&b, dm_int(a, tab[i].v)) == PDS_OK &&
		    same_hex(&b, tab[i].hex), "dm_encode %lld",
		    (long long)tab[i].v);
		in = unhex(tab[i].hex, &len);
		CHECK(dm_decode(a, in, len, &v, &why) == PDS_OK &&
		    v->type == DM_INT && v->u.i == tab[i].v, "decode %s",
		    tab[i].hex);
		dm_arena_free(a);
	}
	/* The int64 edges decode (JSON is where ±(2^53-1) is enforced). */
	a = dm_arena_new();
	in = unhex("1b7fffffffffffffff", &len);
	CHECK(dm_decode(a, in, len, &v, &why) == PDS_OK &&
	    v->u.i == INT64_MAX, "int64 max");
	in = unhex("3b7fffffffffffffff", &len);
	CHECK(dm_decode(a, in, len, &v, &why) == PDS_OK &&
	    v->u.i == INT64_MIN, "int64 min");
	buf_reset(&b);
	CHECK(cbor_put_int(&b, INT64_MIN) == PDS_OK &&
	    same_hex(&b, "3b7fffffffffffffff"), "put int64 min");
	dm_arena_free(a);
	buf_clear(&b);
	t_group_end();
}

static void
test_key_order(void)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*m, *c, *m2;
	struct buf	 b;
	const char	*why = NULL;
	const char	*expect = "a4616101616382f5f6626161410162626220";

	t_group("map key order (§1.2)");
	buf_init(&b, 0);
	/* {"a":1,"bb":-1,"c":[true,null],"aa":h'01'} built in that order. */
	m = dm_map(a, 4);
	c = dm_array(a, 2);
	CHECK(dm_array_push(c, dm_bool(a, true)) == 0, "push");
	CHECK(dm_array_push(c, dm_null(a)) == 0, "push");
	CHECK(dm_array_push(c, dm_null(a)) == PDS_ETOOBIG, "array full");
	CHECK(dm_map_set(m, "a", 1, dm_int(a, 1)) == 0, "set");
	CHECK(dm_map_set(m, "bb", 2, dm_int(a, -1)) == 0, "set");
	CHECK(dm_map_set(m, "c", 1, c) == 0, "set");
	CHECK(dm_map_set(m, "aa", 2, dm_bytes(a, "\x01", 1)) == 0, "set");
	CHECK(dm_map_set(m, "x", 1, dm_null(a)) == PDS_ETOOBIG, "map full");
	CHECK(dm_encode(&b, m) == PDS_OK && same_hex(&b, expect),
	    "encoded bytes");
	/* dm_encode must not reorder its const input. */
	CHECK(m->u.map.e[1].klen == 2 && memcmp(m->u.map.e[1].key, "bb", 2)
	    == 0, "input order kept");
	CHECK(dm_map_get(m, "bb") != NULL && dm_map_get(m, "bb")->u.i == -1,
	    "map_get");
	CHECK(dm_map_get(m, "b") == NULL && dm_map_get(m, "aaa") == NULL,
	    "map_get absent");
	CHECK(dm_map_sort(m, &why) == PDS_OK, "sort");
	CHECK(memcmp(m->u.map.e[0].key, "a", 1) == 0 &&
	    memcmp(m->u.map.e[1].key, "c", 1) == 0 &&
	    memcmp(m->u.map.e[2].key, "aa", 2) == 0 &&
	    memcmp(m->u.map.e[3].key, "bb", 2) == 0, "sorted order");
	CHECK(round_trip(expect, &why), "round trip: %s", why);

	/* Equality ignores the order the entries were set in. */
	m2 = dm_map(a, 4);
	dm_map_set(m2, "aa", 2, dm_bytes(a, "\x01", 1));
	dm_map_set(m2, "c", 1, c);
	dm_map_set(m2, "bb", 2, dm_int(a, -1));
	dm_map_set(m2, "a", 1, dm_int(a, 1));
	CHECK(dm_equal(m, m2), "equal regardless of order");
	m2->u.map.e[2].val = dm_int(a, -2);
	CHECK(!dm_equal(m, m2), "unequal value");

	/* Duplicate keys: refused by sort and by encode. */
	m2 = dm_map(a, 2);
	dm_map_set(m2, "k", 1, dm_int(a, 1));
	dm_map_set(m2, "k", 1, dm_int(a, 2));
	buf_reset(&b);
	CHECK(dm_encode(&b, m2) != PDS_OK && b.len == 0, "encode dup");
	CHECK(dm_map_sort(m2, &why) == PDS_EINVAL, "sort dup");

	/* A bounded buffer that is too small is left as it was. */
	buf_clear(&b);
	buf_init(&b, 4);
	CHECK(dm_encode(&b, m) == PDS_ETOOBIG && b.len == 0, "buf max");
	buf_clear(&b);
	dm_arena_free(a);
	t_group_end();
}

/* A bigger map than the insertion-sort cut-off, in reverse order. */
static void
test_big_map(void)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*m, *v;
	struct buf	 b;
	char		*k;
	const char	*why = NULL;
	int		 i, ok = 1;

	t_group("large maps");
	buf_init(&b, 0);
	m = dm_map(a, 1000);
	for (i = 999; i >= 0; i--) {
		k = dm_arena_alloc(a, 8);
		snprintf(k, 8, "k%d", i);
		dm_map_set(m, k, strlen(k), dm_int(a, i));
	}
	CHECK(dm_encode(&b, m) == PDS_OK, "encode");
	CHECK(dm_decode(a, b.p, b.len, &v, &why) == PDS_OK, "decode: %s", why);
	CHECK(dm_equal(m, v) && dm_equal(v, m), "equal");
	for (i = 0; i < 1000 && ok; i++) {
		char key[8];
		snprintf(key, sizeof(key), "k%d", i);
		ok = dm_map_get(v, key) != NULL && dm_map_get(v, key)->u.i == i;
	}
	CHECK(ok, "binary-search lookups");
	CHECK(dm_map_get(v, "k1000") == NULL, "absent");
	/* Canonical order: k0..k9 first (3 bytes), then k10.. (4 bytes). */
	CHECK(v->u.map.e[9].klen == 2 && memcmp(v->u.map.e[9].key, "k9", 2)
	    == 0 && memcmp(v->u.map.e[10].key, "k10", 3) == 0, "order");
	buf_clear(&b);
	dm_arena_free(a);
	t_group_end();
}

static void
test_vectors(void)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*m, *v, *w;
	struct buf	 b;
	struct cid	 c;
	char		 s[CID_STR_MAX];
	const uint8_t	*in;
	const char	*why = NULL;
	size_t		 len, used;
	const char	*v5 =
	    "a364746578746b68656c6c6f20776f726c64652474797065726170702e62736b"
	    "792e666565642e706f7374696372656174656441747818323032342d30312d30"
	    "315430303a30303a30302e3030305a";
	const char	*v6 =
	    "a2616581a4616b58206170702e62736b792e666565642e706f73742f336b6875"
	    "7763343463323232326170006174f66176d82a5825000171122080b4d87f9ec5"
	    "8c1e06414e1e41d8fb41094f223c9a4629299ae7304e8f074b2a616cf6";
	const char	*v9 =
	    "a66364696478206469643a706c633a65777669376e787a796f756e367a687872"
	    "687336346f697a637265766d336b6875776334346332323237637369675840966b"
	    "f24b76b984bc0456a41bedbbddb90a3333f4b868f17096462bc5e09a91aa467c32"
	    "a94805caa35930a361c7401f807c95351661682302a89e2d0285d3caea64646174"
	    "61d82a5825000171122059c9c2fcac488eacc787a1f836252d2d6c2d2903c07515"
	    "828a64a2e94c1e48886470726576f66776657273696f6e03";
	char		 v6c[512];
	size_t		 i, j;

	t_group("vectors (§14)");
	buf_init(&b, 0);

	/* V1 */
	m = dm_map(a, 1);
	dm_map_set(m, "hello", 5, dm_string(a, "world", 5));
	CHECK(dm_encode(&b, m) == PDS_OK &&
	    same_hex(&b, "a16568656c6c6f65776f726c64"), "V1 bytes");
	cid_compute(&c, CID_CODEC_DAGCBOR, b.p, b.len);
	cid_format(&c, s, sizeof(s));
	CHECK(strcmp(s, "bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae") == 0, "V1 CID %s", s);
	buf_reset(&b);
	CHECK(cbor_put_map(&b, 1) == 0 && cbor_put_str(&b, "hello") == 0 &&
	    cbor_put_text(&b, "world", 5) == 0 &&
	    same_hex(&b, "a16568656c6c6f65776f726c64"), "V1 streaming");

	/* V5: built in a non-canonical order. */
	m = dm_map(a, 3);
	dm_map_set(m, "$type", 5, dm_string(a, "app.bsky.feed.post", 18));
	dm_map_set(m, "text", 4, dm_string(a, "hello world", 11));
	dm_map_set(m, "createdAt", 9,
	    dm_string(a, "2024-01-01T00:00:00.000Z", 24));
	buf_reset(&b);
	CHECK(dm_encode(&b, m) == PDS_OK && b.len == 79 && same_hex(&b, v5),
	    "V5 bytes");
	cid_compute(&c, CID_CODEC_DAGCBOR, b.p, b.len);
	cid_format(&c, s, sizeof(s));
	CHECK(strcmp(s, "bafyreieawtmh7hwfrqpamqkodza5r62bbfhsepe2iyustgxhgbhi6b2lfi") == 0, "V5 CID %s", s);
	CHECK(round_trip(v5, &why), "V5 round trip: %s", why);
	in = unhex(v5, &len);
	CHECK(dm_decode(a, in, len, &v, &why) == PDS_OK && dm_equal(v, m),
	    "V5 decodes equal");
	w = dm_map_get(v, "text");
	CHECK(w != NULL && w->type == DM_STRING && w->u.s.len == 11 &&
	    strcmp((const char *)w->u.s.p, "hello world") == 0,
	    "decoded text NUL-terminated");

	/* V2 link bytes. */
	CHECK(cid_parse(&c, "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a", 59, &why) == 0, "parse");
	buf_reset(&b);
	CHECK(cbor_put_link(&b, &c) == PDS_OK && same_hex(&b,
	    "d82a5825000171122065062a5a5a00fc16d73c6944237ccbc15b1c4a72344893"
	    "36891d091741a239d0"), "V2 link bytes");
	buf_reset(&b);
	CHECK(dm_encode(&b, dm_link(a, &c)) == PDS_OK && b.len == 41,
	    "dm_link encode");
	CHECK(dm_decode(a, b.p, b.len, &v, &why) == PDS_OK &&
	    v->type == DM_LINK && cid_equal(&v->u.link, &c), "link decode");

	/* V6 MST node and V9 signed commit round trip byte for byte. */
	for (i = j = 0; v6[i] != '\0' && j + 1 < sizeof(v6c); i++)
		if (v6[i] != ' ')
			v6c[j++] = v6[i];
	v6c[j] = '\0';
	CHECK(round_trip(v6c, &why), "V6 round trip: %s", why);
	in = unhex(v6c, &len);
	cid_compute(&c, CID_CODEC_DAGCBOR, in, len);
	cid_format(&c, s, sizeof(s));
	CHECK(len == 93 && strcmp(s, "bafyreiczzhbpzlcir2wmpb5b7a3ckljnnqwssa6aoukyfcteuluuyhsira") == 0, "V6 CID %s", s);
	CHECK(round_trip(v9, &why), "V9 round trip: %s", why);
	in = unhex(v9, &len);
	CHECK(len == 188 && dm_decode(a, in, len, &v, &why) == PDS_OK &&
	    dm_map_get(v, "version") != NULL &&
	    dm_map_get(v, "version")->u.i == 3 &&
	    dm_map_get(v, "prev")->type == DM_NULL &&
	    dm_map_get(v, "sig")->type == DM_BYTES &&
	    dm_map_get(v, "sig")->u.s.len == 64, "V9 fields");

	/* V11: a frame is header ‖ body; decode the prefix then the rest. */
	in = unhex("a261746523696e666f626f7001"
	    "a1646e616d656e4f75746461746564437572736f72", &len);
	CHECK(dm_decode_prefix(a, in, len, &v, &used, &why) == PDS_OK &&
	    used == 13 && dm_map_get(v, "op")->u.i == 1 &&
	    dm_map_get(v, "t")->u.s.len == 5, "V11 header prefix");
	CHECK(dm_decode(a, in + used, len - used, &w, &why) == PDS_OK &&
	    w->u.map.n == 1, "V11 body");
	CHECK(dm_decode(a, in, len, &v, &why) == PDS_EINVAL,
	    "whole frame is not one item");
	CHECK(round_trip("a1626f7020", &why), "error header: %s", why);
	CHECK(round_trip("a2656572726f726c467574757265437572736f72676d657373"
	    "61676575437572736f7220696e20746865206675747572652e", &why),
	    "error body: %s", why);

	buf_clear(&b);
	dm_arena_free(a);
	t_group_end();
}

static void
test_rejects(void)
{
	static const struct {
		const char	*hex;
		int		 err;
		const char	*what;
	} tab[] = {
		{ "1817", PDS_ENONCANON, "23 in one extra byte" },
		{ "190017", PDS_ENONCANON, "23 in two bytes" },
		{ "1900ff", PDS_ENONCANON, "255 in two bytes" },
		{ "1a0000ffff", PDS_ENONCANON, "65535 in four bytes" },
		{ "1b00000000ffffffff", PDS_ENONCANON, "2^32-1 in eight" },
		{ "3817", PDS_ENONCANON, "-24 non-shortest" },
		{ "780161", PDS_ENONCANON, "text length non-shortest" },
		{ "59000141", PDS_ENONCANON, "bytes length non-shortest" },
		{ "9800", PDS_ENONCANON, "array length non-shortest" },
		{ "b800", PDS_ENONCANON, "map length non-shortest" },
		{ "d9002a5825000171122065062a5a5a00fc16d73c6944237ccbc15b1c4a7234489336891d091741a239d0",
		  PDS_ENONCANON, "tag 42 non-shortest" },
		{ "a2616201616102", PDS_ENONCANON, "keys b, a" },
		{ "a2626161016162 02", PDS_ENONCANON, "keys aa, b (length first)" },
		{ "a2616101616102", PDS_EINVAL, "duplicate key" },
		{ "a3616101616202616102", PDS_ENONCANON, "a, b, a" },
		{ "a10102", PDS_EINVAL, "integer key" },
		{ "a1416101", PDS_EINVAL, "byte-string key" },
		{ "a1f601", PDS_EINVAL, "null key" },
		{ "c100", PDS_EINVAL, "tag 1" },
		{ "d82b4100", PDS_EINVAL, "tag 43" },
		{ "d9010000", PDS_EINVAL, "tag 256" },
		{ "d82a58240171122065062a5a5a00fc16d73c6944237ccbc15b1c4a7234489336891d091741a239d0",
		  PDS_EINVAL, "tag 42 without 0x00" },
		{ "d82a4100", PDS_EINVAL, "tag 42 with nothing after 0x00" },
		{ "d82a40", PDS_EINVAL, "tag 42 empty payload" },
		{ "d82a6161", PDS_EINVAL, "tag 42 on text" },
		{ "d82a5826000171122065062a5a5a00fc16d73c6944237ccbc15b1c4a7234489336891d091741a239d000",
		  0, "tag 42 with a byte after the CID" },
		{ "d82a582300122065062a5a5a00fc16d73c6944237ccbc15b1c4a7234489336891d091741a239d0",
		  0, "tag 42 with CIDv0" },
		{ "d82ad82a4100", PDS_EINVAL, "tag 42 in tag 42" },
		{ "f93c00", PDS_EINVAL, "half float" },
		{ "fa3f800000", PDS_EINVAL, "single float" },
		{ "fb3ff0000000000000", PDS_EINVAL, "double float" },
		{ "f7", PDS_EINVAL, "undefined" },
		{ "f0", PDS_EINVAL, "simple(16)" },
		{ "f820", PDS_EINVAL, "simple(32)" },
		{ "ff", PDS_EINVAL, "break" },
		{ "5f4100ff", PDS_EINVAL, "indefinite bytes" },
		{ "7fff", PDS_EINVAL, "indefinite text" },
		{ "9fff", PDS_EINVAL, "indefinite array" },
		{ "bfff", PDS_EINVAL, "indefinite map" },
		{ "1c", PDS_EINVAL, "reserved info 28" },
		{ "62c080", PDS_EINVAL, "overlong NUL" },
		{ "63e08080", PDS_EINVAL, "overlong 3-byte" },
		{ "64f0808080", PDS_EINVAL, "overlong 4-byte" },
		{ "63eda080", PDS_EINVAL, "surrogate" },
		{ "64f4908080", PDS_EINVAL, "past U+10FFFF" },
		{ "61ff", PDS_EINVAL, "byte ff" },
		{ "6180", PDS_EINVAL, "stray continuation" },
		{ "62e282", PDS_EINVAL, "cut-off sequence" },
		{ "a162c08001", PDS_EINVAL, "bad UTF-8 key" },
		{ "0000", PDS_EINVAL, "trailing byte" },
		{ "a0a0", PDS_EINVAL, "two maps" },
		{ "", PDS_ETRUNC, "empty" },
		{ "18", PDS_ETRUNC, "missing argument" },
		{ "1901", PDS_ETRUNC, "short argument" },
		{ "6261", PDS_ETRUNC, "short text" },
		{ "a1616101a0", PDS_EINVAL, "map then junk" },
		{ "a16161", PDS_ETRUNC, "map missing value" },
		{ "8201", PDS_ETRUNC, "array missing item" },
		{ "d82a", PDS_ETRUNC, "tag without payload" },
		{ "5bffffffffffffffff", PDS_ETRUNC, "2^64-1 bytes" },
		{ "7b7fffffffffffffff", PDS_ETRUNC, "huge text" },
		{ "9b0000000100000000", PDS_ETRUNC, "2^32 items" },
		{ "9a7fffffff00", PDS_ETRUNC, "2^31 items" },
		{ "bb7fffffffffffffff", PDS_ETRUNC, "huge map" },
		{ "a30000", PDS_ETRUNC, "map count over half the input" },
		{ "1b8000000000000000", PDS_ETOOBIG, "2^63" },
		{ "3b8000000000000000", PDS_ETOOBIG, "-2^63-1" },
		{ "3bffffffffffffffff", PDS_ETOOBIG, "-2^64" },
	};
	const char	*why;
	char		 hex[256];
	size_t		 i, j, k;
	int		 rc;

	t_group("strict decode rejections");
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		for (j = k = 0; tab[i].hex[j] != '\0' && k + 1 < sizeof(hex);
		    j++)
			if (tab[i].hex[j] != ' ')
				hex[k++] = tab[i].hex[j];
		hex[k] = '\0';
		rc = decode_hex(hex, &why);
		if (tab[i].err == 0)
			CHECK(rc < 0, "%s: accepted", tab[i].what);
		else
			CHECK(rc == tab[i].err, "%s: got %d (%s)", tab[i].what,
			    rc, why);
		CHECK(rc == PDS_OK || (why != NULL && why[0] != '\0'),
		    "%s: no reason", tab[i].what);
	}
	t_group_end();
}

static void
test_depth(void)
{
	uint8_t		 in[DM_MAX_DEPTH + 2];
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*v, *inner;
	struct buf	 b;
	const char	*why = NULL;
	int		 i;

	t_group("nesting depth");
	/* DM_MAX_DEPTH nested arrays decode; one more does not. */
	memset(in, 0x81, sizeof(in));
	in[DM_MAX_DEPTH - 1] = 0x80;
	CHECK(dm_decode(a, in, DM_MAX_DEPTH, &v, &why) == PDS_OK,
	    "max depth: %s", why);
	in[DM_MAX_DEPTH - 1] = 0x81;
	in[DM_MAX_DEPTH] = 0x80;
	CHECK(dm_decode(a, in, DM_MAX_DEPTH + 1, &v, &why) == PDS_ETOOBIG,
	    "too deep");
	memset(in, 0xa1, sizeof(in));
	CHECK(dm_decode(a, in, sizeof(in), &v, &why) != PDS_OK, "maps");

	/* The encoder refuses what the decoder would refuse. */
	buf_init(&b, 0);
	inner = dm_array(a, 0);
	for (i = 1; i < DM_MAX_DEPTH; i++) {
		v = dm_array(a, 1);
		dm_array_push(v, inner);
		inner = v;
	}
	CHECK(dm_encode(&b, inner) == PDS_OK && b.len == DM_MAX_DEPTH,
	    "encode max depth");
	v = dm_array(a, 1);
	dm_array_push(v, inner);
	buf_reset(&b);
	CHECK(dm_encode(&b, v) == PDS_ETOOBIG, "encode too deep");
	buf_clear(&b);
	dm_arena_free(a);
	t_group_end();
}

static void
test_arena(void)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*arr, *v;
	struct buf	 b, b2;
	uint8_t		*big, *p;
	const char	*why = NULL;
	int		 i, ok = 1;

	t_group("arena");
	arr = dm_array(a, 100000);
	for (i = 0; i < 100000; i++)
		if (dm_array_push(arr, dm_int(a, i)) != PDS_OK)
			ok = 0;
	CHECK(ok, "100000 values");
	big = dm_arena_alloc(a, 1 << 20);
	CHECK(big != NULL && big[0] == 0 && big[(1 << 20) - 1] == 0,
	    "big zeroed");
	p = dm_arena_alloc(a, 24);
	CHECK(p != NULL && ((uintptr_t)p % 8) == 0, "aligned");
	buf_init(&b, 0);
	CHECK(dm_encode(&b, arr) == PDS_OK, "encode");
	CHECK(dm_decode(a, b.p, b.len, &v, &why) == PDS_OK &&
	    dm_equal(v, arr), "decode equal");
	dm_arena_free(a);

	/* A capped arena turns a big decode into PDS_ETOOBIG. */
	a = dm_arena_new();
	dm_arena_set_max(a, 1 << 20);
	CHECK(dm_decode(a, b.p, b.len, &v, &why) == PDS_ETOOBIG,
	    "arena cap: %s", why);
	/* Reset: the cap stays, and the arena serves again. */
	dm_arena_reset(a);
	CHECK(dm_decode(a, b.p, b.len, &v, &why) == PDS_ETOOBIG,
	    "cap kept across a reset");
	dm_arena_reset(a);
	dm_arena_set_max(a, DM_ARENA_MAX_DEFAULT);
	buf_init(&b2, 0);
	CHECK(dm_decode(a, b.p, b.len, &v, &why) == PDS_OK &&
	    dm_encode(&b2, v) == PDS_OK && b2.len == b.len &&
	    memcmp(b2.p, b.p, b.len) == 0, "decode after a reset");
	buf_clear(&b2);
	dm_arena_reset(a);
	p = dm_arena_alloc(a, 100);
	CHECK(p != NULL && p[0] == 0 && p[99] == 0, "alloc after a reset");
	dm_arena_free(a);
	dm_arena_free(NULL);
	buf_clear(&b);
	t_group_end();
}

static void
test_equal(void)
{
	struct dm_arena	*a = dm_arena_new();
	struct cid	 c1, c2;

	t_group("equality");
	cid_compute(&c1, CID_CODEC_RAW, "a", 1);
	cid_compute(&c2, CID_CODEC_RAW, "b", 1);
	CHECK(dm_equal(dm_null(a), dm_null(a)), "null");
	CHECK(!dm_equal(dm_null(a), dm_bool(a, false)), "null/false");
	CHECK(!dm_equal(dm_int(a, 1), dm_int(a, 2)), "ints");
	CHECK(dm_equal(dm_string(a, "x", 1), dm_string(a, "x", 1)), "strings");
	CHECK(!dm_equal(dm_string(a, "x", 1), dm_bytes(a, "x", 1)),
	    "string/bytes");
	CHECK(dm_equal(dm_bytes(a, "", 0), dm_bytes(a, NULL, 0)), "empty");
	CHECK(dm_equal(dm_link(a, &c1), dm_link(a, &c1)), "links");
	CHECK(!dm_equal(dm_link(a, &c1), dm_link(a, &c2)), "links differ");
	CHECK(!dm_equal(dm_array(a, 0), dm_map(a, 0)), "array/map");
	dm_arena_free(a);
	t_group_end();
}

/* The writer's errors are exact and sticky. */
static void
test_writer_errors(void)
{
	struct buf	 b;
	struct cid	 bad;
	size_t		 len;

	t_group("writer errors");
	buf_init(&b, 8);
	CHECK(cbor_put_map(&b, 1) == PDS_OK && cbor_put_error(&b) == PDS_OK,
	    "fits");
	CHECK(cbor_put_str(&b, "much too long") == PDS_ETOOBIG,
	    "over the limit: PDS_ETOOBIG");
	len = b.len;
	CHECK(cbor_put_null(&b) == PDS_ETOOBIG && cbor_put_int(&b, 1) ==
	    PDS_ETOOBIG && cbor_put_bool(&b, true) == PDS_ETOOBIG,
	    "later puts return the first error");
	CHECK(b.len == len, "and write nothing (%zu)", b.len);
	CHECK(cbor_put_error(&b) == PDS_ETOOBIG, "kept");
	buf_reset(&b);
	CHECK(cbor_put_error(&b) == PDS_OK && cbor_put_null(&b) == PDS_OK,
	    "buf_reset clears it");

	memset(&bad, 0, sizeof(bad));
	CHECK(cbor_put_link(&b, &bad) == PDS_EINVAL, "an empty CID");
	CHECK(cbor_put_str(&b, "x") == PDS_EINVAL &&
	    cbor_put_error(&b) == PDS_EINVAL,
	    "not turned into another code by later puts");
	buf_clear(&b);
	CHECK(cbor_put_error(&b) == PDS_OK, "buf_clear clears it");
	t_group_end();
}

static void
test_head_arg(void)
{
	static const uint8_t	 b[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
				    0x07, 0x08 };
	static const uint8_t	 z[8] = { 0 };
	static const uint8_t	 s23[1] = { 23 }, s24[1] = { 24 };
	static const uint8_t	 s255[2] = { 0x00, 0xff };
	static const uint8_t	 s4g[8] = { 0x00, 0x00, 0x00, 0x00, 0xff,
				    0xff, 0xff, 0xff };
	uint64_t		 v = 0;
	const char		*why = NULL;

	t_group("head arguments");
	CHECK(cbor_head_arg(24, b, &v, NULL) == PDS_ENONCANON,
	    "1 byte under 24: not shortest");
	CHECK(cbor_head_arg(24, s23, &v, &why) == PDS_ENONCANON &&
	    why != NULL && strcmp(why,
	    "integer or length not in shortest form") == 0, "and says why");
	CHECK(cbor_head_arg(24, s24, &v, NULL) == PDS_OK && v == 24,
	    "1 byte: 24");
	CHECK(cbor_head_arg(25, s255, &v, NULL) == PDS_ENONCANON,
	    "2 bytes holding 255");
	CHECK(cbor_head_arg(25, b, &v, NULL) == PDS_OK && v == 0x0102,
	    "2 bytes, big-endian");
	CHECK(cbor_head_arg(26, b, &v, NULL) == PDS_OK && v == 0x01020304,
	    "4 bytes");
	CHECK(cbor_head_arg(27, s4g, &v, NULL) == PDS_ENONCANON,
	    "8 bytes holding 2^32 - 1");
	CHECK(cbor_head_arg(27, b, &v, NULL) == PDS_OK &&
	    v == 0x0102030405060708ULL, "8 bytes");
	v = 7;
	CHECK(cbor_head_arg(27, z, &v, NULL) == PDS_ENONCANON && v == 7,
	    "a refused argument is not stored");
	t_group_end();
}

/* A dm_decode_read() reader: the map's size into *arg. */
static int
count_map(void *arg, const struct dm_value *v, const char **why)
{
	if (v->type != DM_MAP)
		return pds_fail(why, PDS_EINVAL, "not a map");
	*(size_t *)arg = v->u.map.n;
	return PDS_OK;
}

static void
test_decode_read(void)
{
	uint8_t		 big[202];
	const uint8_t	*in;
	const char	*why = NULL;
	size_t		 len, n = 0;

	t_group("dm_decode_read");
	in = unhex("a2616101616202", &len);
	CHECK(dm_decode_read(in, len, DM_ARENA_MAX_DEFAULT, count_map, &n,
	    &why) == PDS_OK && n == 2, "the reader sees the tree (%zu)", n);
	in = unhex("820102", &len);
	CHECK(dm_decode_read(in, len, DM_ARENA_MAX_DEFAULT, count_map, &n,
	    &why) == PDS_EINVAL && strcmp(why, "not a map") == 0,
	    "the reader's failure is returned");
	in = unhex("a2616101616202ff", &len);
	n = 0;
	CHECK(dm_decode_read(in, len, DM_ARENA_MAX_DEFAULT, count_map, &n,
	    &why) == PDS_EINVAL && n == 0,
	    "a decode failure does not reach the reader: %s", why);
	/* an array of 200 ones: more than the arena's first block */
	big[0] = 0x98;
	big[1] = 200;
	memset(big + 2, 0x01, 200);
	CHECK(dm_decode_read(big, sizeof(big), DM_ARENA_MAX_DEFAULT,
	    count_map, &n, &why) == PDS_EINVAL &&
	    strcmp(why, "not a map") == 0, "a big array decodes");
	CHECK(dm_decode_read(big, sizeof(big), 4096, count_map, &n, &why) ==
	    PDS_ETOOBIG, "the arena's cap holds: %s", why);
	t_group_end();
}

int
main(void)
{
	test_ints();
	test_key_order();
	test_big_map();
	test_vectors();
	test_rejects();
	test_depth();
	test_arena();
	test_equal();
	test_writer_errors();
	test_head_arg();
	test_decode_read();
	return t_done("test_cbor");
}
