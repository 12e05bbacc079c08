/*
 * permsettool: permission sets expanded as pdsd expands include:
 * scopes (libcommon/oauth_permset.c), for the differential test against
 * the reference's library.  Each input line is a JSON object
 * {"nsid": ..., "aud": ... (optional), "set": {...}}; each output line
 * is the expansion (space-separated tokens, maybe empty), or "!error".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "oauth_permset.h"

int
main(void)
{
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	json_t		*in;
	struct buf	 out;
	const char	*nsid, *aud;

	buf_init(&out, 1 << 20);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		buf_reset(&out);
		in = json_loadb(line, (size_t)n, 0, NULL);
		nsid = json_string_value(json_object_get(in, "nsid"));
		aud = json_string_value(json_object_get(in, "aud"));
		if (in == NULL || nsid == NULL ||
		    oauth_permset_expand(json_object_get(in, "set"), nsid, aud,
		    &out) != PDS_OK)
			printf("!error\n");
		else
			printf("%.*s\n", (int)out.len, (const char *)out.p);
		json_decref(in);
	}
	free(line);
	buf_clear(&out);
	return 0;
}
