/*
 * api_identity: com.atproto.identity resolveHandle, updateHandle and
 * getRecommendedDidCredentials.  The PLC operation methods
 * (request/sign/submitPlcOperation) are not here yet.
 */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "accounts.h"
#include "api.h"
#include "auth.h"
#include "config.h"
#include "err.h"
#include "resolver.h"
#include "store.h"
#include "syntax.h"
#include "xrpc.h"

/*
 * Our own accounts first (active ones only, as /.well-known/atproto-did
 * answers); a handle under our domains that is not ours is not found;
 * any other handle is resolved through DNS and HTTPS.
 */
int
api_identity_resolve_handle(struct xrpc_ctx *ctx)
{
	const char	*in = http_req_query(ctx->req, "handle");
	char		 handle[HANDLE_MAX + 1], did[DID_MAX + 1];
	int		 n, rc;

	if (in == NULL)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Params must have the property \"handle\"");
	n = handle_normalize(handle, sizeof(handle), in, strlen(in));
	if (n < 0)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "handle must be a valid handle");
	rc = store_handle_to_did(handle, did, sizeof(did));
	if (rc == PDS_ENOTFOUND && !config_is_service_handle(ctx->cfg, handle))
		rc = resolver_handle(handle, did, sizeof(did));
	if (rc == PDS_ENOTFOUND || rc == PDS_EINVAL || rc == PDS_EUNSUPP ||
	    rc == PDS_EMISMATCH)
		return xrpc_fail(ctx, PDS_EINVAL, "HandleNotFound",
		    "Unable to resolve handle");
	if (rc == PDS_EIO)
		return xrpc_fail(ctx, PDS_EINVAL, "HandleNotFound",
		    "Unable to resolve handle (lookup failed)");
	if (rc != PDS_OK)
		return rc;
	xrpc_reply_json(ctx, json_pack("{s:s}", "did", did));
	return 0;
}

int
api_identity_update_handle(struct xrpc_ctx *ctx)
{
	struct pds_error	 err;
	json_t			*v = json_object_get(ctx->input, "handle");
	int			 rc;

	if (!json_is_string(v))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input must have the property \"handle\"");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return xrpc_fail(ctx, PDS_EINVAL, "InvalidHandle",
		    "Input/handle must be a valid handle");
	if ((rc = account_set_handle(ctx->auth.did, json_string_value(v), 0,
	    &err)) != PDS_OK)
		return xrpc_fail_error(ctx, account_error_settle(&err, rc));
	http_reply_static(ctx->req, 200, "", "", 0);
	return 0;
}

int
api_identity_get_recommended_did_credentials(struct xrpc_ctx *ctx)
{
	json_t	*o;
	int	 rc;

	if ((rc = account_did_credentials(ctx->auth.did, &o)) != PDS_OK)
		return rc;
	xrpc_reply_json(ctx, o);
	return 0;
}
