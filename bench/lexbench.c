/*
 * lexbench: what lexicon validation costs per record, on one core.
 *
 *	lexbench [-n iterations]
 *
 * A typical post (180 characters of text with an emoji, a mention and a
 * link facet, a language, a reply) and a post of 270 emoji graphemes
 * (where graphemes must be counted) are each validated n times against
 * the compiled-in app.bsky.feed.post schema; prints nanoseconds per
 * validation, and per JSON-to-data-model conversion for comparison
 * (CPU time of the thread: a busy machine slows it less than wall time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cbor.h"
#include "dmjson.h"
#include "err.h"
#include "../pdsd/lexicon.h"

static const char *typical =
    "{\"$type\":\"app.bsky.feed.post\",\"text\":\"Spent the morning at the "
    "cooperative's garden with @alice.example.com \\u2014 the tomatoes are "
    "finally in! \\ud83c\\udf45 Notes and photos from the day are on the "
    "blog: https://example.com/garden/2024-05\",\"createdAt\":"
    "\"2024-05-01T12:00:00.000Z\",\"langs\":[\"en\"],\"facets\":["
    "{\"index\":{\"byteStart\":48,\"byteEnd\":66},\"features\":[{\"$type\":"
    "\"app.bsky.richtext.facet#mention\",\"did\":\"did:plc:ewvi7nxzyoun6z"
    "hxrhs64oiz\"}]},{\"index\":{\"byteStart\":136,\"byteEnd\":176},"
    "\"features\":[{\"$type\":\"app.bsky.richtext.facet#link\",\"uri\":"
    "\"https://example.com/garden/2024-05\"}]}],\"reply\":{\"root\":{"
    "\"uri\":\"at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/"
    "3kznmn7xqxl22\",\"cid\":\"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7"
    "bebjzg7khl3esabwq\"},\"parent\":{\"uri\":\"at://did:plc:ewvi7nxzyou"
    "n6zhxrhs64oiz/app.bsky.feed.post/3kznmn7xqxl22\",\"cid\":\"bafyreic"
    "lp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq\"}}}";

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
run(const char *name, const char *text, long n)
{
	const struct lex_node *rec = lex_record_find(&lex_builtin,
	    "app.bsky.feed.post");
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*v;
	struct lex_verr	 err;
	const char	*why;
	json_t		*j = json_loads(text, 0, NULL);
	double		 t0, tv, tc;
	long		 i;

	if (j == NULL || rec == NULL ||
	    dm_from_json_record(a, j, &v, &why) != PDS_OK ||
	    lex_validate_record(&lex_builtin, rec, NULL, v, LEXV_BLOBS,
	    &err) != 0) {
		fprintf(stderr, "lexbench: %s does not validate: %s\n", name,
		    err.msg);
		return 1;
	}
	t0 = now();
	for (i = 0; i < n; i++)
		if (lex_validate_record(&lex_builtin, rec, NULL, v,
		    LEXV_BLOBS, &err) != 0)
			return 1;
	tv = (now() - t0) / n;
	dm_arena_free(a);
	t0 = now();
	for (i = 0; i < n / 10; i++) {
		a = dm_arena_new();
		if (dm_from_json_record(a, j, &v, &why) != PDS_OK)
			return 1;
		dm_arena_free(a);
	}
	tc = (now() - t0) / (n / 10);
	printf("%-28s validate %7.0f ns/post   (JSON to data model %7.0f "
	    "ns)\n", name, tv * 1e9, tc * 1e9);
	json_decref(j);
	return 0;
}

int
main(int argc, char *argv[])
{
	long	 n = 200000;
	char	*emoji;
	size_t	 i;
	int	 ch;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		if (ch != 'n' || (n = strtol(optarg, NULL, 10)) < 10) {
			fprintf(stderr, "usage: lexbench [-n iterations]\n");
			return 2;
		}
	}
	/* 270 x U+1F469 U+200D U+1F4BB: 2970 bytes, 270 graphemes. */
	if ((emoji = malloc(8192)) == NULL)
		return 1;
	strcpy(emoji, "{\"$type\":\"app.bsky.feed.post\",\"createdAt\":"
	    "\"2024-05-01T12:00:00Z\",\"text\":\"");
	for (i = 0; i < 270; i++)
		strcat(emoji, "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb");
	strcat(emoji, "\"}");
	printf("lexbench: %u defs, %u nodes in the compiled-in table\n",
	    lex_builtin.ndefs, lex_builtin.nnodes);
	if (run("typical post", typical, n) != 0 ||
	    run("270 ZWJ emoji (graphemes)", emoji, n / 10) != 0)
		return 1;
	free(emoji);
	return 0;
}
