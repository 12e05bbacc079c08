/*
 * api_prefs: app.bsky.actor.getPreferences and putPreferences, served
 * from the preferences table (reference-pds §1.7).
 *
 * Only the app.bsky namespace is served: "app.bsky" itself or any
 * $type under "app.bsky.".  app.bsky.actor.defs#personalDetailsPref is
 * private: only full-access sessions (the account password) read or
 * write it, and a put from any other session leaves it as it was.
 * app.bsky.actor.defs#declaredAgePref is read-only and dropped from a
 * put.  A put replaces every other app.bsky preference in one
 * transaction.  When an atproto-proxy header names some service other
 * than the configured AppView, the call goes there instead.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "auth.h"
#include "err.h"
#include "log.h"
#include "proxy.h"
#include "store_prefs.h"
#include "xrpc.h"

#define PREF_NS			"app.bsky"
#define PREF_PERSONAL		"app.bsky.actor.defs#personalDetailsPref"
#define PREF_DECLARED_AGE	"app.bsky.actor.defs#declaredAgePref"
#define PREFS_MAX		1000

static bool
in_namespace(const char *type)
{
	size_t	n = strlen(PREF_NS);

	return strncmp(type, PREF_NS, n) == 0 &&
	    (type[n] == '\0' || type[n] == '.');
}

/* Full access: the account password, not an app password. */
static bool
full_access(const struct xrpc_ctx *ctx)
{
	return ctx->auth.cred == XRPC_CRED_ACCESS &&
	    strcmp(ctx->auth.scope, AUTH_SCOPE_ACCESS) == 0;
}

/* Whether this session may see (and replace) a preference. */
static bool
pref_allowed(const char *type, bool full)
{
	return full || strcmp(type, PREF_PERSONAL) != 0;
}

struct get_state {
	json_t	*list;
	bool	 full;
};

static int
get_one(void *arg, const struct store_pref *p)
{
	struct get_state *g = arg;
	json_t		*v;

	if (!in_namespace(p->name) || !pref_allowed(p->name, g->full))
		return 0;
	if ((v = json_loads(p->value_json, 0, NULL)) == NULL) {
		log_warnx("prefs: unreadable stored preference %s", p->name);
		return 0;
	}
	if (json_array_append_new(g->list, v) != 0)
		return PDS_ENOMEM;
	return 0;
}

int
api_bsky_actor_get_preferences(struct xrpc_ctx *ctx)
{
	struct get_state g;
	int		 rc;

	if (ctx->auth.cred == XRPC_CRED_ACCESS &&
	    proxy_header_names_other(ctx))
		return api_proxy_forward(ctx);
	if ((g.list = json_array()) == NULL)
		return PDS_EINTERNAL;
	g.full = full_access(ctx);
	if ((rc = store_prefs_list(ctx->auth.did, get_one, &g)) != PDS_OK) {
		json_decref(g.list);
		return rc == PDS_ENOMEM ? PDS_EINTERNAL : rc;
	}
	xrpc_reply_json(ctx, json_pack("{s:o}", "preferences", g.list));
	return 0;
}

struct put_state {
	bool	 full;
};

/* Rows a put replaces: this namespace, those the session may touch. */
static bool
put_drops(void *arg, const char *name)
{
	struct put_state *s = arg;

	return in_namespace(name) && pref_allowed(name, s->full);
}

int
api_bsky_actor_put_preferences(struct xrpc_ctx *ctx)
{
	struct put_state s;
	struct store_pref *v = NULL;
	json_t		*list, *p;
	const char	*type;
	size_t		 i, n = 0;
	int		 rc = 0;

	if (ctx->auth.cred == XRPC_CRED_ACCESS &&
	    proxy_header_names_other(ctx))
		return api_proxy_forward(ctx);
	list = json_object_get(ctx->input, "preferences");
	if (!json_is_array(list))
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Input must have the property \"preferences\"");
	if (json_array_size(list) > PREFS_MAX)
		return xrpc_fail(ctx, PDS_EINVAL, NULL,
		    "Too many preferences");
	s.full = full_access(ctx);
	json_array_foreach(list, i, p) {
		type = json_string_value(json_object_get(p, "$type"));
		if (!json_is_object(p) || type == NULL)
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "Preference is missing a $type");
		if (!in_namespace(type))
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "Some preferences are not in the %s namespace",
			    PREF_NS);
		if (!pref_allowed(type, s.full))
			return xrpc_fail(ctx, PDS_EINVAL, NULL,
			    "Do not have authorization to set preferences.");
	}
	if ((v = calloc(json_array_size(list) + 1, sizeof(*v))) == NULL)
		return PDS_EINTERNAL;
	json_array_foreach(list, i, p) {
		type = json_string_value(json_object_get(p, "$type"));
		if (strcmp(type, PREF_DECLARED_AGE) == 0)
			continue;	/* read-only */
		v[n].name = type;
		if ((v[n].value_json = json_dumps(p, JSON_COMPACT)) == NULL) {
			rc = PDS_EINTERNAL;
			goto out;
		}
		n++;
	}
	if ((rc = store_prefs_replace(ctx->auth.did, put_drops, &s, v, n)) !=
	    PDS_OK) {
		log_warnx("prefs: %s: cannot store: %s", ctx->auth.did,
		    pds_strerror(rc));
		rc = PDS_EINTERNAL;
		goto out;
	}
	http_reply_static(ctx->req, 200, "", "", 0);
out:
	for (i = 0; i < n; i++)
		free((char *)(uintptr_t)v[i].value_json);
	free(v);
	return rc;
}
