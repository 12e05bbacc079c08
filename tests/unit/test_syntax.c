/*
 * Unit tests: identifier syntax (atproto-notes §7).  Every line of every
 * interop list in tests/fixtures/syntax/ is run through its validator.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "syntax.h"
#include "t.h"

#define FIXDIR "tests/fixtures/syntax/"

typedef bool (*validator)(const char *, size_t);

enum expect { EXP_VALID, EXP_INVALID, EXP_PARSE_INVALID };

struct fixture {
	const char	*file;
	validator	 full;
	validator	 shape;	/* the syntax-only check, when there is one */
	enum expect	 expect;
};

static const struct fixture fixtures[] = {
	{ "atidentifier_syntax_valid.txt", syntax_is_atidentifier, NULL, EXP_VALID },
	{ "atidentifier_syntax_invalid.txt", syntax_is_atidentifier, NULL, EXP_INVALID },
	{ "aturi_syntax_valid.txt", syntax_is_aturi, NULL, EXP_VALID },
	{ "aturi_syntax_invalid.txt", syntax_is_aturi, NULL, EXP_INVALID },
	{ "cid_syntax_valid.txt", syntax_is_cid, NULL, EXP_VALID },
	{ "cid_syntax_invalid.txt", syntax_is_cid, NULL, EXP_INVALID },
	{ "datetime_syntax_valid.txt", syntax_is_datetime, syntax_datetime_shape, EXP_VALID },
	{ "datetime_syntax_invalid.txt", syntax_is_datetime, syntax_datetime_shape, EXP_INVALID },
	{ "datetime_parse_invalid.txt", syntax_is_datetime, syntax_datetime_shape, EXP_PARSE_INVALID },
	{ "did_syntax_valid.txt", syntax_is_did, NULL, EXP_VALID },
	{ "did_syntax_invalid.txt", syntax_is_did, NULL, EXP_INVALID },
	{ "handle_syntax_valid.txt", syntax_is_handle, NULL, EXP_VALID },
	{ "handle_syntax_invalid.txt", syntax_is_handle, NULL, EXP_INVALID },
	{ "language_syntax_valid.txt", syntax_is_language, syntax_language_shape, EXP_VALID },
	{ "language_syntax_invalid.txt", syntax_is_language, syntax_language_shape, EXP_INVALID },
	{ "language_parse_invalid.txt", syntax_is_language, syntax_language_shape, EXP_PARSE_INVALID },
	{ "nsid_syntax_valid.txt", syntax_is_nsid, NULL, EXP_VALID },
	{ "nsid_syntax_invalid.txt", syntax_is_nsid, NULL, EXP_INVALID },
	{ "recordkey_syntax_valid.txt", syntax_is_rkey, NULL, EXP_VALID },
	{ "recordkey_syntax_invalid.txt", syntax_is_rkey, NULL, EXP_INVALID },
	{ "tid_syntax_valid.txt", syntax_is_tid, NULL, EXP_VALID },
	{ "tid_syntax_invalid.txt", syntax_is_tid, NULL, EXP_INVALID },
	{ "uri_syntax_valid.txt", syntax_is_uri, NULL, EXP_VALID },
	{ "uri_syntax_invalid.txt", syntax_is_uri, NULL, EXP_INVALID },
};

static int	 total_cases;

/* Print a fixture line for a failure message, cut short if it is long. */
static const char *
show(const char *s, size_t len, char *tmp, size_t cap)
{
	size_t	 n = len < cap - 4 ? len : cap - 4;

	memcpy(tmp, s, n);
	if (n < len)
		memcpy(tmp + n, "...", 3), n += 3;
	tmp[n] = '\0';
	return tmp;
}

static void
run_fixture(const struct fixture *f)
{
	char		 path[256], tmp[120];
	char		*text, *line, *nl;
	size_t		 len, llen;
	bool		 full, shape;
	int		 cases = 0;

	snprintf(path, sizeof(path), FIXDIR "%s", f->file);
	t_group(f->file);
	text = t_slurp(path, &len);
	if (text == NULL) {
		CHECK(text != NULL, "cannot read %s", path);
		t_group_end();
		return;
	}
	for (line = text; line < text + len; line = nl + 1) {
		/* Lines are taken exactly: only the final '\n' is dropped. */
		nl = memchr(line, '\n', (size_t)(text + len - line));
		if (nl == NULL)
			nl = text + len;
		llen = (size_t)(nl - line);
		if (llen == 0 || line[0] == '#')
			continue;
		cases++;
		full = f->full(line, llen);
		shape = f->shape != NULL ? f->shape(line, llen) : full;
		switch (f->expect) {
		case EXP_VALID:
			CHECK(full && shape, "should be valid: \"%s\"",
			    show(line, llen, tmp, sizeof(tmp)));
			break;
		case EXP_INVALID:
			CHECK(!full && !shape, "should be invalid: \"%s\"",
			    show(line, llen, tmp, sizeof(tmp)));
			break;
		case EXP_PARSE_INVALID:
			CHECK(shape && !full,
			    "should pass syntax (%d) but fail parse (%d): \"%s\"",
			    shape, full, show(line, llen, tmp, sizeof(tmp)));
			break;
		}
	}
	if (cases == 0)
		CHECK(cases > 0, "no cases in %s", f->file);
	total_cases += cases;
	free(text);
	t_group_end();
}

#define S(x)	x, sizeof(x) - 1

static void
test_extra(void)
{
	char	 out[64];

	t_group("datetime edge cases");
	CHECK(syntax_is_datetime(S("2024-02-29T12:00:00Z")), "leap day");
	CHECK(syntax_is_datetime(S("2000-02-29T12:00:00Z")), "400-year leap");
	CHECK(!syntax_is_datetime(S("1900-02-29T12:00:00Z")), "1900 not leap");
	CHECK(!syntax_is_datetime(S("2023-02-29T12:00:00Z")), "2023 not leap");
	CHECK(!syntax_is_datetime(S("2023-04-31T12:00:00Z")), "April 31");
	CHECK(!syntax_is_datetime(S("2023-04-30T23:59:60Z")), "leap second");
	CHECK(syntax_is_datetime(S("2023-04-30T24:00:00.000Z")), "24:00");
	CHECK(!syntax_is_datetime(S("2023-04-30T24:00:01Z")), "24:00:01");
	CHECK(!syntax_is_datetime(S("2023-04-30T12:00:00+24:00")), "offset 24h");
	CHECK(!syntax_is_datetime(S("2023-04-30T12:00:00+01:60")), "offset :60");
	CHECK(syntax_is_datetime(S("0000-01-01T01:00:00+01:00")), "year 0 edge");
	CHECK(!syntax_is_datetime(S("0000-01-01T00:59:59+01:00")), "year -1");
	CHECK(syntax_is_datetime(S("0000-01-01T00:00:00-01:00")), "west of year 0");
	CHECK(!syntax_datetime_shape(S("2023-04-30T12:00:00.000Z\0")), "NUL");
	CHECK(syntax_datetime_shape(S("2023-04-30T12:00:00.0000000000000000000000000000000000000000000Z")), "64 chars");
	CHECK(!syntax_datetime_shape(S("2023-04-30T12:00:00.00000000000000000000000000000000000000000000Z")), "65 chars");
	t_group_end();

	t_group("handle helpers");
	CHECK(handle_normalize(out, sizeof(out), S("Alice.Example.COM")) == 17 &&
	    strcmp(out, "alice.example.com") == 0, "%s", out);
	CHECK(handle_normalize(out, 5, S("alice.test")) == PDS_ETOOBIG, "cap");
	CHECK(handle_normalize(out, sizeof(out), S("alice")) == PDS_EINVAL, "invalid");
	CHECK(handle_is_reserved_tld(S("laptop.local"), true), ".local");
	CHECK(handle_is_reserved_tld(S("a.b.ONION"), true), ".onion any case");
	CHECK(handle_is_reserved_tld(S("x.alt"), false), ".alt");
	CHECK(handle_is_reserved_tld(S("x.arpa"), false), ".arpa");
	CHECK(handle_is_reserved_tld(S("x.example"), false), ".example");
	CHECK(handle_is_reserved_tld(S("x.internal"), false), ".internal");
	CHECK(handle_is_reserved_tld(S("handle.invalid"), false), ".invalid");
	CHECK(handle_is_reserved_tld(S("x.localhost"), false), ".localhost");
	CHECK(handle_is_reserved_tld(S("alice.test"), false), ".test in production");
	CHECK(!handle_is_reserved_tld(S("alice.test"), true), ".test in development");
	CHECK(!handle_is_reserved_tld(S("alice.bsky.social"), false), ".social");
	CHECK(!handle_is_reserved_tld(S("alice.mylocal"), false), "suffix only");
	t_group_end();

	t_group("did helpers");
	CHECK(did_is_plc(S("did:plc:ewvi7nxzyoun6zhxrhs64oiz")), "plc");
	CHECK(!did_is_plc(S("did:plc:ewvi7nxzyoun6zhxrhs64oi")), "plc short");
	CHECK(!did_is_plc(S("did:plc:ewvi7nxzyoun6zhxrhs64oi1")), "plc digit 1");
	CHECK(!did_is_plc(S("did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ")), "plc upper");
	CHECK(did_is_web(S("did:web:example.com")), "web");
	CHECK(did_is_web(S("did:web:localhost")), "web localhost");
	CHECK(did_is_web(S("did:web:localhost%3A1234")), "web localhost port");
	CHECK(!did_is_web(S("did:web:example.com%3A1234")), "web port not localhost");
	CHECK(!did_is_web(S("did:web:example.com:path")), "web path");
	CHECK(!did_is_web(S("did:web:localhost%3A99999")), "web port range");
	CHECK(!did_is_web(S("did:web:")), "web empty");
	CHECK(!did_is_web(S("did:plc:ewvi7nxzyoun6zhxrhs64oiz")), "not web");
	t_group_end();

	t_group("misc");
	CHECK(syntax_is_aturi(S("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3khuwc44c2222")), "aturi");
	CHECK(!syntax_is_aturi(S("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3khuwc44c2222/x")), "aturi extra");
	CHECK(!syntax_is_handle(S("a.b\0c")), "NUL in handle");
	CHECK(!syntax_is_rkey(S("ab\0")), "NUL in rkey");
	CHECK(!syntax_is_uri(S("https://example.com/\xc2\xa0x")), "NBSP in uri");
	CHECK(syntax_is_uri(S("https://example.com/\xc3\xa9")), "e-acute in uri");
	CHECK(syntax_is_language(S("zh-yue-HK")), "extlang");
	CHECK(!syntax_is_language(S("en-a")), "empty extension");
	CHECK(!syntax_is_language(S("en-a-b-foo")), "extension without subtags");
	CHECK(!syntax_is_language(S("en-x")), "empty private use");
	CHECK(!syntax_is_language(S("en-GB-US")), "two regions");
	CHECK(syntax_language_shape(S("de-1901-1901")) &&
	    !syntax_is_language(S("de-1901-1901")), "duplicate variant");
	t_group_end();
}

static void
test_dec(void)
{
	int64_t		 v = 7;
	uint64_t	 u = 7;

	t_group("syntax_dec_i64");
	CHECK(syntax_dec_i64("0", &v) && v == 0, "zero");
	CHECK(syntax_dec_i64("1700000000", &v) && v == 1700000000, "seconds");
	CHECK(syntax_dec_i64("-5", &v) && v == -5, "negative");
	CHECK(syntax_dec_i64("+5", &v) && v == 5 &&
	    syntax_dec_i64(" 6", &v) && v == 6, "sign and blanks lead, as strtoll");
	CHECK(syntax_dec_i64("9223372036854775807", &v) && v == INT64_MAX,
	    "the largest");
	CHECK(syntax_dec_i64("-9223372036854775808", &v) && v == INT64_MIN,
	    "the smallest");
	v = 7;
	CHECK(!syntax_dec_i64("9223372036854775808", &v) && v == 7,
	    "out of range, *out untouched");
	CHECK(!syntax_dec_i64(NULL, &v) && !syntax_dec_i64("", &v), "none");
	CHECK(!syntax_dec_i64("12x", &v) && !syntax_dec_i64("1 ", &v),
	    "more after the number");
	CHECK(!syntax_dec_i64("x", &v) && !syntax_dec_i64(" ", &v) &&
	    !syntax_dec_i64("-", &v) && v == 7, "no digits");
	t_group_end();

	t_group("syntax_dec_u64");
	CHECK(syntax_dec_u64("0", &u) && u == 0, "zero");
	CHECK(syntax_dec_u64("00042", &u) && u == 42, "leading zeros");
	CHECK(syntax_dec_u64("18446744073709551615", &u) && u == UINT64_MAX,
	    "the largest");
	u = 7;
	CHECK(!syntax_dec_u64("18446744073709551616", &u) &&
	    !syntax_dec_u64("99999999999999999999", &u) && u == 7,
	    "out of range, *out untouched");
	CHECK(!syntax_dec_u64(NULL, &u) && !syntax_dec_u64("", &u), "none");
	CHECK(!syntax_dec_u64("-1", &u) && !syntax_dec_u64("+1", &u) &&
	    !syntax_dec_u64(" 1", &u), "digits first");
	CHECK(!syntax_dec_u64("1 ", &u) && !syntax_dec_u64("12x", &u) &&
	    u == 7, "more after the digits");
	t_group_end();
}

int
main(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		run_fixture(&fixtures[i]);
	printf("  fixture cases: %d\n", total_cases);
	test_extra();
	test_dec();
	return t_done("test_syntax");
}
