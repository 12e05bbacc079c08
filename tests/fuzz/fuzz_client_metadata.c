/*
 * fuzz_client_metadata: arbitrary bytes as a client_id (discoverable
 * syntax and loopback) and as a client metadata JSON document, checked
 * against a fixed client_id and against the document's own client_id.
 * Whatever validates must keep its bounds and match its own redirects.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "oauth_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fz_exercise(const struct oauth_client *c)
{
	size_t	 i;

	if (c->client_id == NULL || c->scope == NULL || c->nredirect == 0 ||
	    c->nredirect > OAUTH_REDIRECT_MAX)
		abort();
	for (i = 0; i < c->nredirect; i++)
		if (oauth_client_redirect(c, c->redirect_uris[i]) == NULL)
			abort();
	(void)oauth_client_redirect(c, NULL);
	(void)oauth_client_redirect(c, "http://127.0.0.1:8080/");
	(void)oauth_client_redirect(c, "http://[::1]:1/cb?x");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth_client	 c;
	json_t			*doc, *id;
	const char		*why;

	(void)oauth_client_id_check((const char *)data, size, &why);
	(void)oauth_client_id_is_loopback((const char *)data, size);
	if (oauth_client_loopback(&c, (const char *)data, size, &why) ==
	    PDS_OK)
		fz_exercise(&c);
	oauth_client_clear(&c);
	if ((doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL)
		return 0;
	if (oauth_client_from_json(&c,
	    "https://app.example.com/oauth-client-metadata.json", doc,
	    &why) == PDS_OK)
		fz_exercise(&c);
	oauth_client_clear(&c);
	id = json_object_get(doc, "client_id");
	if (json_is_string(id) && oauth_client_from_json(&c,
	    json_string_value(id), doc, &why) == PDS_OK)
		fz_exercise(&c);
	oauth_client_clear(&c);
	json_decref(doc);
	return 0;
}
