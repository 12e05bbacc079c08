/*
 * oauth_consent: the authorization page's side of the authorization
 * server: finishing a pushed request after sign-in and consent, or
 * refusing it.  See oauth_as.h.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "oauth_as.h"
#include "oauth_as_int.h"
#include "oauth_scope.h"
#include "store_oauth.h"

void
oauth_as_redirect_clear(struct oauth_as_redirect *r)
{
	if (r == NULL)
		return;
	free(r->redirect_uri);
	free(r->response_mode);
	free(r->code);
	free(r->error);
	free(r->error_description);
	free(r->state);
	free(r->iss);
	memset(r, 0, sizeof(*r));
}

int
oauth_as_request_id(const char *uri, char *id, size_t cap)
{
	size_t	 pl = strlen(OAUTH_REQUEST_URI_PREFIX), i;

	if (uri == NULL || strncmp(uri, OAUTH_REQUEST_URI_PREFIX, pl) != 0)
		return PDS_EINVAL;
	uri += pl;
	if (strlen(uri) != 4 + 2 * AS_ID_SHORT ||
	    strncmp(uri, "req-", 4) != 0 || cap <= strlen(uri))
		return PDS_EINVAL;
	for (i = 4; uri[i] != '\0'; i++)
		if (!isxdigit((unsigned char)uri[i]) ||
		    isupper((unsigned char)uri[i]))
			return PDS_EINVAL;
	memcpy(id, uri, strlen(uri) + 1);
	return PDS_OK;
}

/* The pending request of uri for client_id, with its parameters. */
static int
page_request(const char *uri, const char *client_id,
    struct store_oauth_request *r, json_t **params, const char **why)
{
	char	 id[64];
	int	 rc;

	*params = NULL;
	if (oauth_as_request_id(uri, id, sizeof(id)) != PDS_OK)
		return pds_fail(why, PDS_ENOTFOUND, "Invalid request_uri");
	if ((rc = store_oauth_request_get(id, r)) != PDS_OK)
		return pds_fail(why, rc, rc == PDS_ENOTFOUND ?
		    "Unknown request_uri" : "Could not read the request");
	rc = PDS_ENOTFOUND;
	if (strcmp(r->client_id, client_id) != 0)
		*why = "This request is for another client";
	else if (r->expires_at < (int64_t)time(NULL))
		*why = "This request has expired";
	else if (r->code != NULL)
		*why = "This request was already authorized";
	else if ((*params = json_loads(r->params, 0, NULL)) == NULL)
		*why = "The request's parameters are unreadable";
	else
		rc = PDS_OK;
	if (rc != PDS_OK)
		store_oauth_request_clear(r);
	return rc;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Fill out's redirect_uri, mode, state and iss from params. */
static int
redirect_fill(struct oauth_as_redirect *out, const json_t *params)
{
	const char *mode = json_string_value(json_object_get(params,
	    "response_mode"));

	memset(out, 0, sizeof(*out));
	out->redirect_uri = dup_or_null(json_string_value(
	    json_object_get(params, "redirect_uri")));
	out->response_mode = strdup(mode != NULL ? mode : "query");
	out->state = dup_or_null(json_string_value(json_object_get(params,
	    "state")));
	out->iss = strdup(as_issuer());
	if (out->redirect_uri == NULL || out->response_mode == NULL ||
	    out->iss == NULL || (out->state == NULL &&
	    json_object_get(params, "state") != NULL)) {
		oauth_as_redirect_clear(out);
		return PDS_ENOMEM;
	}
	return PDS_OK;
}

/* The union of did's earlier consent to client_id and scope, into b. */
static int
consent_union(const char *did, const char *client_id, const char *scope,
    struct buf *b)
{
	const char	*err, *why;
	char		*old = NULL, *all;
	int		 rc;

	if (store_oauth_client_authorized(did, client_id, &old, NULL, NULL) !=
	    PDS_OK || old == NULL)
		return as_scope_normalise(scope, NULL, b, &err, &why);
	if (asprintf(&all, "%s %s", old, scope) == -1) {
		free(old);
		return PDS_ENOMEM;
	}
	rc = as_scope_normalise(all, NULL, b, &err, &why);
	free(all);
	free(old);
	return rc;
}

int
oauth_as_approve(const char *uri, const char *client_id, const char *did,
    const char *scope, struct oauth_as_redirect *out, const char **why)
{
	struct store_oauth_request r;
	struct buf	 granted, consent;
	json_t		*params;
	const char	*requested, *err;
	char		*pj = NULL, code[80];
	int64_t		 now = (int64_t)time(NULL);
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = page_request(uri, client_id, &r, &params, why)) != PDS_OK)
		return rc;
	buf_init(&granted, SCOPE_STR_MAX + 1);
	buf_init(&consent, 2 * SCOPE_STR_MAX + 2);
	requested = json_string_value(json_object_get(params, "scope"));
	if (requested == NULL)
		requested = "atproto";
	if ((rc = as_scope_normalise(scope != NULL ? scope : requested,
	    requested, &granted, &err, why)) != PDS_OK)
		goto out;
	json_object_set_new(params, "scope",
	    json_string((const char *)granted.p));
	rc = PDS_ENOMEM;
	*why = "Could not record the consent";
	if ((pj = json_dumps(params, JSON_COMPACT)) == NULL ||
	    store_oauth_request_update(r.id, pj, NULL, 0) != PDS_OK ||
	    store_oauth_request_set_did(r.id, did) != PDS_OK ||
	    consent_union(did, client_id, (const char *)granted.p,
	    &consent) != PDS_OK ||
	    store_oauth_client_authorize(did, client_id,
	    (const char *)consent.p, now) != PDS_OK)
		goto out;
	as_random_id("cod-", AS_ID_LONG, code, sizeof(code));
	if ((rc = store_oauth_request_set_code(r.id, code,
	    now + OAUTH_CODE_TTL)) != PDS_OK) {
		*why = "This request was already authorized";
		goto out;
	}
	if ((rc = redirect_fill(out, params)) == PDS_OK &&
	    (out->code = strdup(code)) == NULL) {
		oauth_as_redirect_clear(out);
		rc = PDS_ENOMEM;
	}
out:
	free(pj);
	buf_free(&granted);
	buf_free(&consent);
	json_decref(params);
	store_oauth_request_clear(&r);
	return rc;
}

int
oauth_as_reject(const char *uri, const char *client_id,
    struct oauth_as_redirect *out, const char **why)
{
	struct store_oauth_request r;
	json_t	*params;
	int	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = page_request(uri, client_id, &r, &params, why)) != PDS_OK)
		return rc;
	(void)store_oauth_request_delete(r.id);
	if ((rc = redirect_fill(out, params)) == PDS_OK &&
	    ((out->error = strdup("access_denied")) == NULL ||
	    (out->error_description = strdup("The user rejected the request"))
	    == NULL)) {
		oauth_as_redirect_clear(out);
		rc = PDS_ENOMEM;
	}
	json_decref(params);
	store_oauth_request_clear(&r);
	return rc;
}
