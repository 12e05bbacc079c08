/*
 * out_lexicon: the human output of `pdsctl lexicon show|refresh`.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "pdsctl.h"

static const char *
field(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

void
print_lexicon(const struct ctl_cmd *c, const json_t *r)
{
	const json_t	*doc = json_object_get(r, "document");
	char		*s;

	(void)c;
	printf("nsid:       %s\n", field(r, "nsid"));
	if (json_is_true(json_object_get(r, "resolved")))
		printf("status:     resolved%s%s\n",
		    json_is_true(json_object_get(r, "cached")) ?
		    " (from the cache)" : "",
		    json_is_true(json_object_get(r, "stale")) ?
		    " (stale: the last refresh failed)" : "");
	else
		printf("status:     not resolved\n");
	if (json_object_get(r, "error") != NULL)
		printf("error:      %s\n", field(r, "error"));
	printf("uri:        %s\n", field(r, "uri"));
	printf("cid:        %s\n", field(r, "cid"));
	printf("tried:      %s\n", field(r, "updatedAt"));
	printf("succeeded:  %s\n", field(r, "succeededAt"));
	if (doc == NULL)
		return;
	if ((s = json_dumps(doc, JSON_INDENT(2))) != NULL)
		printf("document:\n%s\n", s);
	free(s);
}
