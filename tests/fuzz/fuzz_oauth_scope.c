/*
 * fuzz_oauth_scope: scope_set_parse() on arbitrary bytes.  Whatever
 * parses must normalise to a fixed point (formatting, parsing and
 * formatting again gives the same text and the same count), describe
 * itself, and answer every check without crashing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "oauth_scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scope_set	*s, *t;
	struct buf		 a, b;
	const char		*why;
	size_t			 i, n;
	int			 rc;

	if (s == NULL && ((s = scope_set_new()) == NULL ||
	    (t = scope_set_new()) == NULL))
		abort();
	rc = scope_set_parse(s, (const char *)data, size, &why);
	if (rc != PDS_OK && rc != PDS_EUNSUPP)
		return 0;
	if (s->n > SCOPE_PERM_MAX || s->used > sizeof(s->arena))
		abort();
	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);
	if (scope_set_format(s, &a) != PDS_OK)
		abort();
	n = s->n;
	rc = scope_set_parse(t, a.len ? (char *)a.p : "", a.len, &why);
	if ((rc != PDS_OK && rc != PDS_EUNSUPP) || t->n != n ||
	    t->dropped != 0)
		abort();
	if (scope_set_format(t, &b) != PDS_OK || a.len != b.len ||
	    (a.len > 0 && memcmp(a.p, b.p, a.len) != 0))
		abort();
	for (i = 0; i < s->n; i++) {
		buf_reset(&b);
		if (scope_perm_describe(&s->p[i], &b) != PDS_OK)
			abort();
	}
	(void)scope_allows_repo(s, "app.bsky.feed.post", SCOPE_REPO_CREATE);
	(void)scope_allows_repo(s, "*", SCOPE_REPO_ALL);
	(void)scope_allows_blob(s, "image/png");
	(void)scope_allows_blob(s, "Text/Plain; charset=utf-8");
	(void)scope_allows_rpc(s, "app.bsky.feed.getTimeline",
	    "did:web:api.bsky.app#bsky_appview");
	(void)scope_allows_rpc(s, NULL, "did:web:api.bsky.app#bsky_appview");
	(void)scope_allows_rpc(s, "chat.bsky.convo.getLog", NULL);
	(void)scope_allows_account(s, SCOPE_ATTR_EMAIL, SCOPE_ACCOUNT_READ);
	(void)scope_allows_account(s, SCOPE_ATTR_REPO, SCOPE_ACCOUNT_MANAGE);
	(void)scope_allows_identity(s, SCOPE_IDENTITY_HANDLE);
	(void)scope_allows_identity(s, SCOPE_IDENTITY_ANY);
	buf_clear(&a);
	buf_clear(&b);
	return 0;
}
