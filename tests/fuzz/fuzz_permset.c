/*
 * fuzz_permset: the input is a permission set as a lexicon publisher
 * sends it (JSON), expanded as include:com.example.authFull with and
 * without an aud.  Must never crash or leak, and every token it gives
 * must parse back as a repo or rpc scope under com.example.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "oauth_permset.h"
#include "oauth_scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
expand(const json_t *set, const char *aud, struct scope_set *s)
{
	struct buf	 out;
	size_t		 i, j;
	int		 rc;

	buf_init(&out, 1 << 20);
	if (oauth_permset_expand(set, "com.example.authFull", aud, &out) ==
	    PDS_OK && out.len > 0) {
		rc = scope_set_parse(s, (const char *)out.p, out.len, NULL);
		if (rc == PDS_ETOOBIG) {
			/* More than a scope string holds: fine here. */
			buf_clear(&out);
			return;
		}
		if (rc != PDS_OK || s->dropped != 0)
			abort();
		for (i = 0; i < s->n; i++) {
			if (s->p[i].kind != SCOPE_REPO &&
			    s->p[i].kind != SCOPE_RPC)
				abort();
			for (j = 0; j < s->p[i].nval; j++)
				if (strncmp(s->p[i].val[j], "com.example.",
				    12) != 0)
					abort();
		}
	}
	buf_clear(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct scope_set	*s;
	json_t			*j;

	if (s == NULL && (s = scope_set_new()) == NULL)
		abort();
	if ((j = json_loadb((const char *)data, len, 0, NULL)) == NULL)
		return 0;
	expand(j, NULL, s);
	expand(j, "did:web:api.example.com#svc", s);
	json_decref(j);
	return 0;
}
