/*
 * oauth_consent: the one place a pushed request is decided, after
 * sign-in and consent or on a refusal: the consent row, the code and
 * what goes back to the client.  The authorization pages
 * (oauth_authorize.c) and the unit tests both call it.  See oauth_as.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "oauth_as.h"
#include "oauth_as_int.h"
#include "oauth_authorize.h"
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

/* The pending request of uri for client_id, with its parameters. */
static int
page_request(const char *uri, const char *client_id,
    struct store_oauth_request *r, json_t **params, const char **why)
{
	char	 id[OAUTH_AUTHZ_ID_MAX];
	int	 rc;

	*params = NULL;
	if (oauth_authz_request_id(uri, id, sizeof(id)) != PDS_OK)
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
oauth_as_grant(const struct store_oauth_request *r, json_t *params,
    const char *did, const char *scope, struct oauth_as_redirect *out,
    const char **why)
{
	struct buf	 granted, consent;
	const char	*requested, *err;
	char		*pj = NULL, code[80];
	int64_t		 now = (int64_t)time(NULL);
	int		 rc;

	memset(out, 0, sizeof(*out));
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
	    store_oauth_request_update(r->id, pj, NULL, 0) != PDS_OK ||
	    store_oauth_request_set_did(r->id, did) != PDS_OK ||
	    consent_union(did, r->client_id, (const char *)granted.p,
	    &consent) != PDS_OK ||
	    store_oauth_client_authorize(did, r->client_id,
	    (const char *)consent.p, now) != PDS_OK)
		goto out;
	as_random_id("cod-", AS_ID_LONG, code, sizeof(code));
	if ((rc = store_oauth_request_set_code(r->id, code,
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
	sodium_memzero(code, sizeof(code));
	free(pj);
	buf_clear(&granted);
	buf_clear(&consent);
	return rc;
}

int
oauth_as_deny(const struct store_oauth_request *r, const json_t *params,
    const char *error, const char *error_description,
    struct oauth_as_redirect *out)
{
	int	 rc;

	memset(out, 0, sizeof(*out));
	(void)store_oauth_request_delete(r->id);
	if ((rc = redirect_fill(out, params)) == PDS_OK &&
	    ((out->error = strdup(error)) == NULL ||
	    (error_description != NULL && (out->error_description =
	    strdup(error_description)) == NULL))) {
		oauth_as_redirect_clear(out);
		rc = PDS_ENOMEM;
	}
	return rc;
}

/* The user's decision on uri: grant did scope when allow, else refuse. */
static int
decide(const char *uri, const char *client_id, bool allow, const char *did,
    const char *scope, struct oauth_as_redirect *out, const char **why)
{
	struct store_oauth_request r;
	json_t	*params;
	int	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = page_request(uri, client_id, &r, &params, why)) != PDS_OK)
		return rc;
	if (allow)
		rc = oauth_as_grant(&r, params, did, scope, out, why);
	else
		rc = oauth_as_deny(&r, params, "access_denied",
		    "The user rejected the request", out);
	json_decref(params);
	store_oauth_request_clear(&r);
	return rc;
}

int
oauth_as_approve(const char *uri, const char *client_id, const char *did,
    const char *scope, struct oauth_as_redirect *out, const char **why)
{
	return decide(uri, client_id, true, did, scope, out, why);
}

int
oauth_as_reject(const char *uri, const char *client_id,
    struct oauth_as_redirect *out, const char **why)
{
	return decide(uri, client_id, false, NULL, NULL, out, why);
}
