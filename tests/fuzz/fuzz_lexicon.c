/*
 * fuzz_lexicon: the lexicon validator (pdsd/lexicon_validate.c) and the
 * table builder (pdsd/lexicon_build.c) on random input.
 *
 * The first byte picks the mode, the next two a def of the compiled-in
 * table; the rest is JSON.
 *   - mode even: the JSON, as data-model values, against that def (and,
 *     for a record def, as a record), with and without blob checks;
 *   - mode odd: the JSON as a lexicon document built into a run-time
 *     table (a schema resolved from the network would be), then the
 *     same JSON validated against each of its defs.
 * Neither may crash, leak or loop; a verdict must be the same twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cbor.h"
#include "dmjson.h"
#include "err.h"
#include "../../pdsd/lexicon.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
against(const struct lex_table *t, const struct lex_node *n,
    const struct dm_value *v)
{
	struct lex_verr	 e1, e2;
	int		 r1, r2;

	r1 = lex_validate_value(t, n, "Value", v, 0, &e1);
	r2 = lex_validate_value(t, n, "Value", v, 0, &e2);
	if (r1 != r2 || strcmp(e1.msg, e2.msg) != 0)
		abort();
	if (r1 != 0 && e1.msg[0] == '\0')
		abort();	/* a refusal always says why */
	(void)lex_validate_value(t, n, "Value", v, LEXV_BLOBS, &e1);
	if (n->type == LEX_RECORD)
		(void)lex_validate_record(t, n, "self", v, LEXV_BLOBS, &e1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct lex_table *t = &lex_builtin;
	struct lex_builder *b;
	struct dm_arena	*a;
	struct dm_value	*v = NULL;
	json_t		*j;
	const char	*why;
	char		 err[256];
	uint32_t	 i, def;

	if (size < 3)
		return 0;
	def = ((uint32_t)data[1] << 8 | data[2]) % t->ndefs;
	j = json_loadb((const char *)data + 3, size - 3,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (j == NULL)
		return 0;
	a = dm_arena_new();
	dm_arena_set_max(a, (size_t)4 << 20);
	if (dm_from_json(a, j, &v, &why) != PDS_OK)
		v = NULL;
	if ((data[0] & 1) == 0) {
		if (v != NULL)
			against(t, &t->nodes[t->defs[def].node], v);
	} else if ((b = lex_builder_new()) != NULL) {
		if (lex_builder_add(b, j, err, sizeof(err)) == 0) {
			t = lex_builder_finish(b);
			for (i = 0; v != NULL && i < t->ndefs; i++)
				against(t, &t->nodes[t->defs[i].node], v);
		}
		lex_builder_free(b);
	}
	dm_arena_free(a);
	json_decref(j);
	return 0;
}
