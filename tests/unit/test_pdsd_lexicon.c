/*
 * test_pdsd_lexicon: the lexicon table and validator (pdsd/lexicon*.c).
 *
 *   - the public interop fixtures (tests/fixtures/lexicon): the catalog
 *     schemas are built into a table at run time; every valid lexicon
 *     document is accepted and every invalid one refused; every valid
 *     record accepted and every invalid one refused;
 *   - the compiled-in table from lexicons/: the records the reference
 *     refuses and pdsd used to accept (issue list), each with the
 *     reference's message, through repo_record_prepare();
 *   - each type and format rule, grapheme counting (ZWJ sequences and
 *     flags are one grapheme), validate on/off/unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cbor.h"
#include "dmjson.h"
#include "err.h"
#include "t.h"
#include "../../pdsd/lexicon.h"
#include "../../pdsd/repo_validate.h"

#define FIX	"tests/fixtures/lexicon/"
#define RAWCID	"bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"

static const char *catalog[] = {
	FIX "catalog/record.json", FIX "catalog/query.json",
	FIX "catalog/procedure.json", FIX "catalog/subscription.json",
	FIX "catalog/permission-set.json",
};

static json_t *
load(const char *path)
{
	json_error_t	 e;
	json_t		*j = json_load_file(path, 0, &e);

	if (j == NULL)
		fprintf(stderr, "%s:%d: %s\n", path, e.line, e.text);
	return j;
}

/* Validate a JSON record against table t; 0 or -1 with msg. */
static int
check_json(const struct lex_table *t, const char *collection,
    const char *rkey, const json_t *rec, int flags, char *msg, size_t cap)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*v;
	const struct lex_node *n;
	struct lex_verr	 err;
	const char	*why = NULL;
	int		 rc = -1;

	msg[0] = '\0';
	if (dm_from_json_record(a, rec, &v, &why) != PDS_OK)
		snprintf(msg, cap, "data model: %s", why ? why : "?");
	else if ((n = lex_record_find(t, collection)) == NULL)
		snprintf(msg, cap, "no record def %s", collection);
	else if (lex_validate_record(t, n, rkey, v, flags, &err) != 0)
		snprintf(msg, cap, "%s", err.msg);
	else
		rc = 0;
	dm_arena_free(a);
	return rc;
}

static void
test_fixtures(void)
{
	struct lex_builder *b = lex_builder_new(), *b2;
	const struct lex_table *t;
	json_t		*doc, *cases, *c;
	char		 err[512];
	size_t		 i;

	t_group("lexicon fixtures: catalog and lexicon documents");
	for (i = 0; i < sizeof(catalog) / sizeof(catalog[0]); i++) {
		doc = load(catalog[i]);
		CHECK(doc != NULL && lex_builder_add(b, doc, err,
		    sizeof(err)) == 0, "%s: %s", catalog[i], err);
		json_decref(doc);
	}
	t = lex_builder_finish(b);
	CHECK(lex_record_find(t, "example.lexicon.record") != NULL, "record");
	CHECK(lex_def_find(t, "lex:example.lexicon.record#main", 31) != NULL,
	    "lex: and #main");
	cases = load(FIX "lexicon-valid.json");
	json_array_foreach(cases, i, c) {
		b2 = lex_builder_new();
		CHECK(lex_builder_add(b2, json_object_get(c, "lexicon"), err,
		    sizeof(err)) == 0, "valid lexicon %s refused: %s",
		    json_string_value(json_object_get(c, "name")), err);
		lex_builder_free(b2);
	}
	json_decref(cases);
	cases = load(FIX "lexicon-invalid.json");
	CHECK(json_array_size(cases) > 0, "invalid lexicons");
	json_array_foreach(cases, i, c) {
		b2 = lex_builder_new();
		CHECK(lex_builder_add(b2, json_object_get(c, "lexicon"), err,
		    sizeof(err)) != 0, "invalid lexicon %s accepted",
		    json_string_value(json_object_get(c, "name")));
		lex_builder_free(b2);
	}
	json_decref(cases);
	t_group_end();

	t_group("lexicon fixtures: record data");
	cases = load(FIX "record-data-valid.json");
	CHECK(json_array_size(cases) >= 3, "valid records");
	/*
	 * Two exceptions, of the data model rather than the lexicon, in
	 * "full": {"$bytes": "123"} is base64 whose unused bits are not
	 * zero, and its blob's ref is a dag-cbor CID; pdsd's data model
	 * (dmjson.h) takes canonical base64 and raw-codec blob refs only,
	 * as a repository must, so those two become "AAA" and a raw CID.
	 */
	json_array_foreach(cases, i, c) {
		json_t *d = json_object_get(c, "data"), *v;
		const char *k;
		json_t *by = json_object_get(d, "bytes");
		if (by != NULL)
			json_object_set_new(by, "$bytes", json_string("AAA"));
		json_object_foreach(d, k, v)
			if (json_is_object(v) && json_is_object(
			    json_object_get(v, "ref")))
				json_object_set_new(json_object_get(v, "ref"),
				    "$link", json_string(RAWCID));
	}
	json_array_foreach(cases, i, c)
		CHECK(check_json(t, "example.lexicon.record",
		    json_string_value(json_object_get(c, "rkey")),
		    json_object_get(c, "data"), LEXV_BLOBS, err,
		    sizeof(err)) == 0, "valid record %s refused: %s",
		    json_string_value(json_object_get(c, "name")), err);
	json_decref(cases);
	cases = load(FIX "record-data-invalid.json");
	CHECK(json_array_size(cases) >= 40, "invalid records");
	json_array_foreach(cases, i, c)
		CHECK(check_json(t, "example.lexicon.record",
		    json_string_value(json_object_get(c, "rkey")),
		    json_object_get(c, "data"), LEXV_BLOBS, err,
		    sizeof(err)) != 0, "invalid record %s accepted",
		    json_string_value(json_object_get(c, "name")));
	json_decref(cases);
	t_group_end();
	lex_builder_free(b);
}

/* ---- the compiled-in table through repo_record_prepare ------------- */

#define POST_HEAD	"{\"$type\":\"app.bsky.feed.post\"," \
			"\"createdAt\":\"2024-01-01T00:00:00Z\","

static char *
repeat(const char *unit, size_t n, const char *pre, const char *post)
{
	size_t	 ul = strlen(unit), i;
	char	*s = malloc(strlen(pre) + ul * n + strlen(post) + 1), *p;

	if (s == NULL)
		abort();
	p = stpcpy(s, pre);
	for (i = 0; i < n; i++)
		p = stpcpy(p, unit);
	strcpy(p, post);
	return s;
}

/*
 * Prepare JSON text as a record of collection with rkey; want NULL for
 * success or the exact error message expected.
 */
static void
prep(const char *collection, const char *rkey, const char *text,
    enum repo_validate mode, const char *want, const char *status)
{
	struct repo_record r;
	struct pds_error err;
	json_error_t	 je;
	json_t		*j = json_loads(text, 0, &je);
	int		 rc;

	memset(&err, 0, sizeof(err));
	CHECK(j != NULL, "bad test JSON: %s: %.80s", je.text, text);
	rc = repo_record_prepare(collection, rkey, j, mode, &r, &err);
	if (want == NULL) {
		CHECK(rc == PDS_OK, "%s refused: %s (%.100s)", collection,
		    err.msg, text);
		if (rc == PDS_OK && status != NULL)
			CHECK(r.validation != NULL &&
			    strcmp(r.validation, status) == 0, "status %s",
			    r.validation ? r.validation : "(none)");
		if (rc == PDS_OK && status == NULL)
			CHECK(r.validation == NULL, "status %s", r.validation);
	} else {
		CHECK(rc == PDS_EINVAL, "%s accepted (%.100s)", collection,
		    text);
		CHECK(strcmp(err.msg, want) == 0, "message \"%s\", want \"%s\"",
		    err.msg, want);
		CHECK(err.name != NULL && strcmp(err.name, "InvalidRequest")
		    == 0, "name %s", err.name ? err.name : "(null)");
	}
	repo_record_clear(&r);
	json_decref(j);
}

#define TID	"3kznmn7xqxl22"
#define BLOB(m, s) "{\"$type\":\"blob\",\"ref\":{\"$link\":\"bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy\"},\"mimeType\":\"" m "\",\"size\":" #s "}"
#define IMG(m)	"{\"alt\":\"\",\"image\":" BLOB(m, 1000) "}"

static void
test_issue_cases(void)
{
	char	*s;

	t_group("records the reference refuses (issue list)");
	s = repeat("a", 300, POST_HEAD "\"text\":\"", "\"}");
	prep("app.bsky.feed.post", TID, s, REPO_VALIDATE_AUTO, NULL, "valid");
	free(s);
	s = repeat("a", 301, POST_HEAD "\"text\":\"", "\"}");
	prep("app.bsky.feed.post", TID, s, REPO_VALIDATE_AUTO,
	    "Record/text must not be longer than 300 graphemes", NULL);
	free(s);
	/* 👩‍👩‍👧‍👦: 25 bytes, one grapheme; 121 of them pass 3000 bytes. */
	s = repeat("\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
	    "\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6", 121,
	    POST_HEAD "\"text\":\"", "\"}");
	prep("app.bsky.feed.post", TID, s, REPO_VALIDATE_AUTO,
	    "Record/text must not be longer than 3000 characters", NULL);
	free(s);
	s = repeat("\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", 272,
	    POST_HEAD "\"text\":\"", "\"}");	/* 👩‍💻 x 272: 2992 bytes */
	prep("app.bsky.feed.post", TID, s, REPO_VALIDATE_AUTO, NULL, "valid");
	free(s);
	s = repeat("\xf0\x9f\x87\xab\xf0\x9f\x87\xb7", 301,
	    POST_HEAD "\"text\":\"", "\"}");	/* 🇫🇷 x 301: 2408 bytes */
	prep("app.bsky.feed.post", TID, s, REPO_VALIDATE_AUTO,
	    "Record/text must not be longer than 300 graphemes", NULL);
	free(s);
	s = repeat("\xc3\xa9", 64, "{\"displayName\":\"", "\"}");
	prep("app.bsky.actor.profile", "self", s, REPO_VALIDATE_AUTO, NULL,
	    "valid");
	free(s);
	s = repeat("\xc3\xa9", 65, "{\"displayName\":\"", "\"}");
	prep("app.bsky.actor.profile", "self", s, REPO_VALIDATE_AUTO,
	    "Record/displayName must not be longer than 64 graphemes", NULL);
	free(s);
	prep("app.bsky.feed.post", TID, POST_HEAD "\"text\":\"hi\","
	    "\"langs\":[\"en\",\"not a tag\"]}", REPO_VALIDATE_AUTO,
	    "Record/langs/1 must be a well-formed BCP 47 language tag", NULL);
	prep("app.bsky.feed.post", TID, POST_HEAD "\"text\":\"hi\","
	    "\"langs\":[\"en\",\"fr\",\"de\",\"ja\"]}", REPO_VALIDATE_AUTO,
	    "Record/langs must not have more than 3 elements", NULL);
	prep("app.bsky.feed.post", TID, POST_HEAD "\"text\":\"hi\","
	    "\"facets\":[{\"index\":{\"byteStart\":\"0\",\"byteEnd\":2},"
	    "\"features\":[{\"$type\":\"app.bsky.richtext.facet#tag\","
	    "\"tag\":\"x\"}]}]}", REPO_VALIDATE_AUTO,
	    "Record/facets/0/index/byteStart must be an integer", NULL);
	prep("app.bsky.feed.post", TID, POST_HEAD "\"text\":\"hi\","
	    "\"facets\":[{\"index\":{\"byteStart\":-1,\"byteEnd\":2},"
	    "\"features\":[{\"$type\":\"app.bsky.richtext.facet#tag\","
	    "\"tag\":\"x\"}]}]}", REPO_VALIDATE_AUTO,
	    "Record/facets/0/index/byteStart can not be less than 0", NULL);
	prep("app.bsky.feed.post", TID, POST_HEAD "\"text\":\"hi\","
	    "\"embed\":{\"$type\":\"app.bsky.embed.images\",\"images\":["
	    IMG("image/png") "]}}", REPO_VALIDATE_AUTO, NULL, "valid");
	prep("app.bsky.feed.post", TID, POST_HEAD "\"text\":\"hi\","
	    "\"embed\":{\"$type\":\"app.bsky.embed.images\",\"images\":["
	    IMG("text/plain") "]}}", REPO_VALIDATE_AUTO,
	    "Record/embed/images/0/image must be of an accepted type "
	    "(image/*), not text/plain", NULL);
	prep("app.bsky.feed.post", TID, POST_HEAD "\"text\":\"hi\","
	    "\"embed\":{\"$type\":\"app.bsky.embed.images\",\"images\":["
	    "{\"alt\":\"\",\"image\":" BLOB("image/png", 2000001) "}]}}",
	    REPO_VALIDATE_AUTO, "Record/embed/images/0/image must not be "
	    "larger than 2000000 bytes", NULL);
	prep("app.bsky.feed.post", TID, POST_HEAD "\"text\":\"hi\","
	    "\"embed\":{\"$type\":\"app.bsky.embed.images\",\"images\":["
	    IMG("image/png") "," IMG("image/png") "," IMG("image/png") ","
	    IMG("image/png") "," IMG("image/png") "]}}", REPO_VALIDATE_AUTO,
	    "Record/embed/images must not have more than 4 elements", NULL);
	prep("app.bsky.feed.post", TID, POST_HEAD "\"text\":\"hi\","
	    "\"embed\":{\"images\":[]}}", REPO_VALIDATE_AUTO,
	    "Record/embed must be an object which includes the \"$type\" "
	    "property", NULL);
	t_group_end();

	t_group("validate modes, $type, record keys");
	s = repeat("a", 301, POST_HEAD "\"text\":\"", "\"}");
	prep("app.bsky.feed.post", TID, s, REPO_VALIDATE_NO, NULL, NULL);
	free(s);
	prep("com.example.thing", "abc", "{\"x\":1}", REPO_VALIDATE_AUTO, NULL,
	    "unknown");
	prep("com.example.thing", "abc", "{\"x\":1}", REPO_VALIDATE_YES,
	    "Lexicon not found: lex:com.example.thing", NULL);
	prep("com.example.thing", "abc", "{\"x\":1.5}", REPO_VALIDATE_NO,
	    "Invalid record: floats are not allowed", NULL);
	prep("app.bsky.feed.post", TID, "{\"$type\":\"app.bsky.feed.like\"}",
	    REPO_VALIDATE_NO, "Invalid $type: expected app.bsky.feed.post, "
	    "got app.bsky.feed.like", NULL);
	prep("app.bsky.actor.profile", "other", "{}", REPO_VALIDATE_AUTO,
	    "Invalid record key: must be \"self\"", NULL);
	prep("app.bsky.feed.post", "not-a-tid", POST_HEAD "\"text\":\"\"}",
	    REPO_VALIDATE_AUTO, "Invalid record key: must be a TID", NULL);
	prep("app.bsky.feed.post", TID, "{\"text\":\"x\"}", REPO_VALIDATE_AUTO,
	    "Record must have the property \"createdAt\"", NULL);
	prep("app.bsky.graph.follow", TID, "{\"subject\":\"did:plc:abc\","
	    "\"createdAt\":\"yesterday\"}", REPO_VALIDATE_AUTO,
	    "Record/createdAt must be an valid atproto datetime (both "
	    "RFC-3339 and ISO-8601)", NULL);
	prep("app.bsky.feed.threadgate", TID, "{\"post\":\"at://did:plc:x/"
	    "app.bsky.feed.post/" TID "\",\"createdAt\":\"2024-01-01T00:00:00Z"
	    "\",\"allow\":[{\"$type\":\"com.example.rule\"}]}",
	    REPO_VALIDATE_AUTO, NULL, "valid");	/* an open union */
	t_group_end();
}

/* ---- types and formats on a run-time table ------------------------- */

static const char *types_doc =
    "{\"lexicon\":1,\"id\":\"com.example.t\",\"defs\":{"
    "\"main\":{\"type\":\"record\",\"key\":\"any\",\"record\":{"
    "\"type\":\"object\",\"required\":[\"r\"],\"nullable\":[\"n\"],"
    "\"properties\":{"
    "\"r\":{\"type\":\"integer\",\"default\":3},"
    "\"n\":{\"type\":\"string\"},"
    "\"b\":{\"type\":\"boolean\",\"const\":true},"
    "\"by\":{\"type\":\"bytes\",\"minLength\":2,\"maxLength\":3},"
    "\"c\":{\"type\":\"cid-link\"},"
    "\"u\":{\"type\":\"unknown\"},"
    "\"s\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]},"
    "\"g\":{\"type\":\"string\",\"minGraphemes\":2,\"maxGraphemes\":2},"
    "\"cu\":{\"type\":\"union\",\"closed\":true,\"refs\":[\"#o\"]},"
    "\"ou\":{\"type\":\"union\",\"refs\":[\"#o\"]},"
    "\"f\":{\"type\":\"array\",\"items\":{\"type\":\"string\","
    "\"format\":\"handle\"}}}}},"
    "\"o\":{\"type\":\"object\",\"required\":[\"x\"],\"properties\":{"
    "\"x\":{\"type\":\"integer\",\"enum\":[1,2]}}}}}";

static void
rule(const struct lex_table *t, const char *json, const char *want)
{
	json_t	*j = json_loads(json, 0, NULL);
	char	 msg[512];
	int	 rc;

	CHECK(j != NULL, "bad JSON %s", json);
	rc = check_json(t, "com.example.t", "k", j, LEXV_BLOBS, msg,
	    sizeof(msg));
	if (want == NULL)
		CHECK(rc == 0, "%s refused: %s", json, msg);
	else
		CHECK(rc != 0 && strcmp(msg, want) == 0, "%s: got \"%s\", "
		    "want \"%s\"", json, rc ? msg : "(accepted)", want);
	json_decref(j);
}

static void
test_rules(void)
{
	struct lex_builder *b = lex_builder_new();
	const struct lex_table *t;
	json_t	*doc = json_loads(types_doc, 0, NULL);
	char	 err[256];

	t_group("each type and format rule");
	CHECK(doc != NULL && lex_builder_add(b, doc, err, sizeof(err)) == 0,
	    "types doc: %s", err);
	json_decref(doc);
	t = lex_builder_finish(b);
	rule(t, "{}", NULL);			/* required with a default */
	rule(t, "{\"r\":\"x\"}", "Record/r must be an integer");
	rule(t, "{\"n\":null}", NULL);
	rule(t, "{\"s\":null}", "Record/s must be a string");
	rule(t, "{\"b\":false}", "Record/b must be true");
	rule(t, "{\"by\":{\"$bytes\":\"AA\"}}",
	    "Record/by must not be smaller than 2 bytes");
	rule(t, "{\"by\":{\"$bytes\":\"AAAAAA\"}}",
	    "Record/by must not be larger than 3 bytes");
	rule(t, "{\"by\":\"AAAA\"}", "Record/by must be a byte array");
	rule(t, "{\"c\":\"bafy\"}", "Record/c must be a CID");
	rule(t, "{\"u\":1}", "Record/u must be an object");
	rule(t, "{\"u\":[1]}", NULL);
	rule(t, "{\"s\":\"c\"}", "Record/s must be one of (a|b)");
	rule(t, "{\"g\":\"e\xcc\x81\"}",
	    "Record/g must not be shorter than 2 graphemes");
	rule(t, "{\"g\":\"\xf0\x9f\x87\xab\xf0\x9f\x87\xb7!\"}", NULL);
	rule(t, "{\"g\":\"abc\"}",
	    "Record/g must not be longer than 2 graphemes");
	rule(t, "{\"cu\":{\"$type\":\"com.example.t#o\",\"x\":3}}",
	    "Record/cu/x must be one of (1|2)");
	rule(t, "{\"cu\":{\"$type\":\"com.example.t#p\"}}",
	    "Record/cu $type must be one of lex:com.example.t#o");
	rule(t, "{\"ou\":{\"$type\":\"com.example.t#p\"}}", NULL);
	rule(t, "{\"ou\":{\"$type\":\"com.example.t#o\"}}",
	    "Record/ou must have the property \"x\"");
	rule(t, "{\"ou\":{\"x\":1}}", "Record/ou must be an object which "
	    "includes the \"$type\" property");
	rule(t, "{\"ou\":{\"$type\":\"com.example.t#o#main\",\"x\":1}}",
	    "Uri can only have one hash segment");
	rule(t, "{\"ou\":{\"$type\":\"#o\",\"x\":1}}",
	    "Unable to resolve uri without anchor: #o");
	rule(t, "{\"cu\":{\"$type\":\"lex:com.example.t#o\",\"x\":1}}", NULL);
	rule(t, "{\"f\":[]}", NULL);
	rule(t, "{\"cu\":[]}", "Record/cu must be an object which "
	    "includes the \"$type\" property");
	rule(t, "{\"f\":[\"a.com\",\"-x\"]}", "Record/f/1 must be a valid "
	    "handle");
	t_group_end();
	lex_builder_free(b);

	t_group("graphemes (ICU)");
	CHECK(lex_graphemes((const uint8_t *)"", 0) == 0, "empty");
	CHECK(lex_graphemes((const uint8_t *)"abc", 3) == 3, "ascii");
	CHECK(lex_graphemes((const uint8_t *)"e\xcc\x81", 3) == 1,
	    "combining accent");
	CHECK(lex_graphemes((const uint8_t *)"\xf0\x9f\x87\xab\xf0\x9f\x87"
	    "\xb7\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa", 16) == 2, "two flags");
	CHECK(lex_graphemes((const uint8_t *)"\xf0\x9f\x91\xa9\xe2\x80\x8d"
	    "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f"
	    "\x91\xa6", 25) == 1, "ZWJ family");
	CHECK(lex_graphemes((const uint8_t *)"\xf0\x9f\x91\x8d\xf0\x9f\x8f"
	    "\xbd", 8) == 1, "skin tone");
	CHECK(lex_graphemes((const uint8_t *)"\r\n", 2) == 1, "CRLF");
	CHECK(lex_graphemes((const uint8_t *)"a\r\n\r\rb\n", 7) == 6,
	    "ASCII with CR LF");
	CHECK(lex_graphemes((const uint8_t *)"a\r\n\xc3\xa9\r", 6) == 4,
	    "CR LF and an accent (ICU)");
	t_group_end();
}

static void
test_builtin(void)
{
	uint32_t	 i;
	const struct lex_table *t = &lex_builtin;
	static const char *records[] = {
		"app.bsky.feed.post", "app.bsky.actor.profile",
		"app.bsky.feed.like", "app.bsky.graph.follow",
		"app.bsky.graph.list", "app.bsky.feed.threadgate",
		"app.bsky.graph.starterpack", "chat.bsky.actor.declaration",
		"com.atproto.lexicon.schema",
	};

	t_group("the compiled-in table");
	CHECK(t->ndefs > 500, "%u defs", t->ndefs);
	for (i = 1; i < t->ndefs; i++)
		CHECK(strcmp(t->strs[t->defs[i - 1].id],
		    t->strs[t->defs[i].id]) < 0, "defs sorted at %u", i);
	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		CHECK(lex_record_find(t, records[i]) != NULL, "%s", records[i]);
	CHECK(lex_record_find(t, "app.bsky.feed.defs") == NULL, "not a record");
	CHECK(lex_record_find(t, "app.bsky.feed.post#main") == NULL, "#main");
	for (i = 0; i < t->nnodes; i++)
		CHECK(t->nodes[i].type != LEX_REF || t->nodes[i].sub !=
		    LEX_NOREF, "unresolved ref %s", t->strs[t->nodes[i].k]);
	t_group_end();
}

int
main(void)
{
	test_fixtures();
	test_issue_cases();
	test_rules();
	test_builtin();
	return t_done("test_pdsd_lexicon");
}
