/*
 * api_describe: com.atproto.server.describeServer.
 *
 * The answer depends only on the configuration, so it is serialised
 * once at start-up and every request sends the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "config.h"
#include "err.h"
#include "module.h"

static char	*describe_json;
static size_t	 describe_len;

static int
describe_init(const struct config *cfg)
{
	json_t	*o, *domains, *links, *contact;
	size_t	 i;

	o = json_object();
	domains = json_array();
	links = json_object();
	contact = json_object();
	if (o == NULL || domains == NULL || links == NULL || contact == NULL)
		goto oom;
	for (i = 0; i < cfg->handle_domains.n; i++)
		json_array_append_new(domains,
		    json_string(cfg->handle_domains.v[i]));
	if (cfg->privacy_policy_url != NULL)
		json_object_set_new(links, "privacyPolicy",
		    json_string(cfg->privacy_policy_url));
	if (cfg->terms_of_service_url != NULL)
		json_object_set_new(links, "termsOfService",
		    json_string(cfg->terms_of_service_url));
	if (cfg->contact_email_address != NULL)
		json_object_set_new(contact, "email",
		    json_string(cfg->contact_email_address));
	json_object_set_new(o, "did", json_string(cfg->service_did));
	json_object_set_new(o, "availableUserDomains", domains);
	json_object_set_new(o, "inviteCodeRequired",
	    json_boolean(cfg->invite_required));
	json_object_set_new(o, "phoneVerificationRequired", json_false());
	json_object_set_new(o, "links", links);
	json_object_set_new(o, "contact", contact);
	describe_json = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (describe_json == NULL)
		return PDS_ENOMEM;
	describe_len = strlen(describe_json);
	return PDS_OK;
oom:
	json_decref(o);
	json_decref(domains);
	json_decref(links);
	json_decref(contact);
	return PDS_ENOMEM;
}

static void
describe_fini(void)
{
	free(describe_json);
	describe_json = NULL;
}

PDSD_MODULE(describe_server, describe_init, describe_fini)

int
api_server_describe_server(struct xrpc_ctx *ctx)
{
	if (describe_json == NULL)
		return PDS_EINTERNAL;
	http_reply_static(ctx->req, 200, "application/json; charset=utf-8",
	    describe_json, describe_len);
	return 0;
}
