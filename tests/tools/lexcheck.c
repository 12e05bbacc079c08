/*
 * lexcheck: validate records with pdsd's lexicon validator, one JSON
 * line in, one verdict line out (the differential test drives it).
 *
 *	lexcheck [-b] [-l lexicon.json ...] < records.jsonl
 *
 * Each input line is {"collection": NSID, "record": {...}} with an
 * optional "rkey", or {"def": ID, "value": V} to check V against any
 * object or record def (as the reference's Lexicons.validate()).  Each output line is {"ok": true} or {"ok": false,
 * "error": MESSAGE}.  The checks are those of the reference validator's
 * assertValidRecord: the data model (dmjson.h) first, then "$type"
 * equal to the collection, then the record def.  -b also checks blobs
 * against accept and maxSize (pdsd does; the reference validator does
 * not).  -l builds the table at run time from the given lexicon
 * documents instead of using the compiled-in one.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cbor.h"
#include "dmjson.h"
#include "err.h"
#include "../../pdsd/lexicon.h"

/* {"def": ID, "value": V}: V against an object or record def. */
static int
def_verdict(const struct lex_table *t, const json_t *in, int flags,
    char *msg, size_t cap)
{
	const char	*id = json_string_value(json_object_get(in, "def"));
	const struct lex_node *n = lex_def_find(t, id, strlen(id));
	const char	*path = "Object";
	struct dm_arena	*a;
	struct dm_value	*v;
	struct lex_verr	 err;
	const char	*why = NULL;
	int		 rc = -1;

	if (n != NULL && n->type == LEX_RECORD) {
		n = &t->nodes[n->sub];
		path = "Record";
	}
	if (n == NULL || n->type != LEX_OBJECT) {
		snprintf(msg, cap, "no object def %s", id);
		return -1;
	}
	if ((a = dm_arena_new()) == NULL)
		abort();
	if (dm_from_json(a, json_object_get(in, "value"), &v, &why) != PDS_OK)
		snprintf(msg, cap, "data model: %s", why ? why : "invalid");
	else if (lex_validate_value(t, n, path, v, flags, &err) != 0)
		snprintf(msg, cap, "%s", err.msg);
	else
		rc = 0;
	dm_arena_free(a);
	return rc;
}

static int
verdict(const struct lex_table *t, const json_t *in, int flags, char *msg,
    size_t cap)
{
	const char	*coll = json_string_value(json_object_get(in, "collection"));
	const char	*rkey = json_string_value(json_object_get(in, "rkey"));
	const json_t	*rec = json_object_get(in, "record");
	const json_t	*type = json_object_get(rec, "$type");
	const struct lex_node *n;
	struct dm_arena	*a;
	struct dm_value	*v;
	struct lex_verr	 err;
	const char	*why = NULL;
	int		 rc = -1;

	if (json_is_string(json_object_get(in, "def")))
		return def_verdict(t, in, flags, msg, cap);
	if (coll == NULL || !json_is_object(rec)) {
		snprintf(msg, cap, "Record must be an object");
		return -1;
	}
	if (!json_is_string(type)) {
		snprintf(msg, cap, "Record/$type must be a string");
		return -1;
	}
	if (strcmp(json_string_value(type), coll) != 0) {
		snprintf(msg, cap, "Invalid $type: must be lex:%s, got %s",
		    coll, json_string_value(type));
		return -1;
	}
	if ((n = lex_record_find(t, coll)) == NULL) {
		snprintf(msg, cap, "Lexicon not found: lex:%s", coll);
		return -1;
	}
	if ((a = dm_arena_new()) == NULL)
		abort();
	if (dm_from_json_record(a, rec, &v, &why) != PDS_OK)
		snprintf(msg, cap, "data model: %s", why ? why : "invalid");
	else if (lex_validate_record(t, n, rkey, v, flags, &err) != 0)
		snprintf(msg, cap, "%s", err.msg);
	else
		rc = 0;
	dm_arena_free(a);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct lex_builder *b = NULL;
	const struct lex_table *t = &lex_builtin;
	json_error_t	 je;
	json_t		*doc, *in, *out;
	char		*line = NULL, msg[512], err[512];
	size_t		 cap = 0;
	int		 ch, flags = 0;

	while ((ch = getopt(argc, argv, "bl:")) != -1) {
		switch (ch) {
		case 'b':
			flags |= LEXV_BLOBS;
			break;
		case 'l':
			if (b == NULL && (b = lex_builder_new()) == NULL)
				return 1;
			if ((doc = json_load_file(optarg, 0, &je)) == NULL ||
			    lex_builder_add(b, doc, err, sizeof(err)) != 0) {
				fprintf(stderr, "lexcheck: %s: %s\n", optarg,
				    doc == NULL ? je.text : err);
				return 1;
			}
			json_decref(doc);
			break;
		default:
			fprintf(stderr, "usage: lexcheck [-b] [-l lexicon.json]"
			    " < records.jsonl\n");
			return 2;
		}
	}
	if (b != NULL)
		t = lex_builder_finish(b);
	while (getline(&line, &cap, stdin) != -1) {
		if ((in = json_loads(line, 0, &je)) == NULL) {
			snprintf(msg, sizeof(msg), "bad input line: %s", je.text);
			out = json_pack("{sbss}", "ok", 0, "error", msg);
		} else if (verdict(t, in, flags, msg, sizeof(msg)) == 0)
			out = json_pack("{sb}", "ok", 1);
		else
			out = json_pack("{sbss}", "ok", 0, "error", msg);
		json_decref(in);
		if (out == NULL)
			return 1;
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
	}
	free(line);
	lex_builder_free(b);
	return fflush(stdout) == 0 ? 0 : 1;
}
