/*
 * admin_sessions: the operator's view of how an account is signed in,
 * and the way to end it: password sessions (refresh tokens), app
 * passwords and OAuth grants (token families).  See admin_service.h.
 *
 * Ending an OAuth grant deletes its family; when it was the client's
 * last grant the consent goes too, as on the member's own /account
 * page, or the app would be let back in without asking.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "accounts.h"
#include "admin_service.h"
#include "admin_service_int.h"
#include "adminproto.h"
#include "auth.h"
#include "clock.h"
#include "err.h"
#include "store.h"
#include "store_account.h"
#include "store_oauth.h"

#define ACTION		"account.revoke-session"
#define CHAIN_MAX	64	/* rotations followed to the live token */

/* Unix seconds as the admin protocol's timestamps. */
static json_t *
json_time(int64_t s)
{
	char	 iso[CLOCK_ISO_LEN];

	clock_ms_to_iso(s * 1000, iso);
	return json_string(iso);
}

/*
 * A live refresh token's expiry is its issue time plus the refresh
 * lifetime: the issue time, or -1 when the stamp does not parse.
 */
static int64_t
issued_at(const char *expires)
{
	struct tm	 tm;
	int		 n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(expires, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &n) != 6 || n == 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) - AUTH_REFRESH_TTL_S;
}

static int
session_add(void *arg, const struct store_refresh *r)
{
	json_t	*o;
	int64_t	 at;

	o = json_pack("{s:s,s:s}", "id", r->id, "expiresAt", r->expires_at);
	if (o == NULL)
		return PDS_ENOMEM;
	if ((at = issued_at(r->expires_at)) > 0)
		json_object_set_new(o, "issuedAt", json_time(at));
	admin_json_text(o, "appPassword", r->app_password_name);
	return json_array_append_new(arg, o) == 0 ? 0 : PDS_ENOMEM;
}

static int
app_password_add(void *arg, const struct store_app_password *ap)
{
	return json_array_append_new(arg, json_pack("{s:s,s:b,s:s}", "name",
	    ap->name, "privileged", ap->privileged, "createdAt",
	    ap->created_at)) == 0 ? 0 : PDS_ENOMEM;
}

/* The browser a grant was given on, when it is still known. */
static json_t *
device_json(const char *id)
{
	struct store_oauth_device	 d;
	json_t				*o;

	if (store_oauth_device_get(id, &d) != PDS_OK)
		return json_pack("{s:s}", "id", id);
	o = json_pack("{s:s,s:o}", "id", id, "lastSeen",
	    json_time(d.last_seen));
	if (o != NULL && d.user_agent != NULL)
		json_object_set_new(o, "userAgent", json_string(d.user_agent));
	if (o != NULL && d.ip != NULL)
		json_object_set_new(o, "ip", json_string(d.ip));
	store_oauth_device_clear(&d);
	return o;
}

static int
grant_add(void *arg, const struct store_oauth_family *f)
{
	json_t	*o;
	char	 id[24];

	snprintf(id, sizeof(id), "%lld", (long long)f->id);
	o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "id", id, "clientId",
	    f->client_id, "scope", f->scope, "createdAt",
	    json_time(f->created_at), "updatedAt", json_time(f->updated_at),
	    "expiresAt", json_time(f->session_expires_at));
	if (o == NULL)
		return PDS_ENOMEM;
	if (f->device_id != NULL)
		json_object_set_new(o, "device", device_json(f->device_id));
	return json_array_append_new(arg, o) == 0 ? 0 : PDS_ENOMEM;
}

int
admin_account_sessions(const char *who, json_t **out, struct admin_err *err)
{
	struct store_account	 a;
	json_t			*s, *ap, *g;
	int			 rc;

	*out = NULL;
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return rc;
	s = json_array();
	ap = json_array();
	g = json_array();
	if (s == NULL || ap == NULL || g == NULL)
		rc = PDS_ENOMEM;
	else if ((rc = store_refresh_list(a.did, session_add, s)) == PDS_OK &&
	    (rc = store_app_password_list(a.did, app_password_add, ap)) ==
	    PDS_OK)
		rc = store_oauth_family_list_did(a.did, grant_add, g);
	if (rc == PDS_OK && (*out = json_pack("{s:s,s:s,s:O,s:O,s:O}", "did",
	    a.did, "handle", a.handle[0] ? a.handle : "handle.invalid",
	    "sessions", s, "appPasswords", ap, "oauthGrants", g)) == NULL)
		rc = PDS_ENOMEM;
	json_decref(s);
	json_decref(ap);
	json_decref(g);
	return rc == PDS_OK ? PDS_OK : admin_fail_internal(err, rc);
}

/* ---- revoking ---- */

static int
no_such(struct admin_err *err, const char *what, const char *id,
    const char *did)
{
	return admin_fail(err, PDS_ENOTFOUND, AP_E_NO_SUCH_TOKEN, NULL,
	    "no %s %s of %s", what, id, did);
}

/* A password session: its whole chain, from its live token back. */
static int
revoke_refresh(const char *did, const char *id, struct admin_err *err)
{
	struct store_refresh	 r, next;
	int			 i, rc;

	if (strlen(id) > SA_TOKEN_ID_MAX ||
	    (rc = store_refresh_get(id, &r)) == PDS_ENOTFOUND ||
	    (rc == PDS_OK && strcmp(r.did, did) != 0))
		return no_such(err, "session", id, did);
	if (rc != PDS_OK)
		return admin_fail_internal(err, rc);
	/* a rotated token: follow it to the one in use */
	for (i = 0; r.next_id[0] != '\0' && i < CHAIN_MAX; i++) {
		if (store_refresh_get(r.next_id, &next) != PDS_OK)
			break;
		r = next;
	}
	if ((rc = store_refresh_revoke_chain(r.id)) != PDS_OK)
		return admin_fail_internal(err, rc);
	return PDS_OK;
}

static int
revoke_app_password(const char *did, const char *name, struct admin_err *err)
{
	struct store_app_password	 ap;
	int				 rc;

	if (strlen(name) > SA_NAME_MAX ||
	    (rc = store_app_password_get(did, name, &ap)) == PDS_ENOTFOUND)
		return no_such(err, "app password", name, did);
	if (rc != PDS_OK ||
	    (rc = account_app_password_revoke(did, name)) != PDS_OK)
		return admin_fail_internal(err, rc);
	return PDS_OK;
}

static int
revoke_grant(const char *did, const char *id, bool *forgot,
    struct admin_err *err)
{
	int64_t	 gid;
	char	*end;
	int	 rc;

	if (id[0] < '0' || id[0] > '9' ||
	    (gid = strtoll(id, &end, 10)) <= 0 || *end != '\0')
		return no_such(err, "OAuth grant", id, did);
	rc = store_oauth_grant_revoke(did, gid, forgot);
	if (rc == PDS_ENOTFOUND)
		return no_such(err, "OAuth grant", id, did);
	return rc == PDS_OK ? PDS_OK : admin_fail_internal(err, rc);
}

static int
count_cb(void *arg, const void *row)
{
	(void)row;
	(*(size_t *)arg)++;
	return 0;
}

static int
count_refresh(void *arg, const struct store_refresh *r)
{
	return count_cb(arg, r);
}

static int
count_app_password(void *arg, const struct store_app_password *ap)
{
	return count_cb(arg, ap);
}

/*
 * Everything at once, in one transaction: password sessions, app
 * passwords, OAuth grants with their consents, and the browsers'
 * sign-ins.
 */
static int
revoke_all(const char *did, json_t *counts, struct admin_err *err)
{
	size_t	 ns = 0, na = 0;
	int	 ng = 0, rc;

	if ((rc = store_begin()) != PDS_OK)
		return admin_fail_internal(err, rc);
	if ((rc = store_refresh_list(did, count_refresh, &ns)) == PDS_OK &&
	    (rc = store_app_password_list(did, count_app_password, &na)) ==
	    PDS_OK && (rc = store_refresh_revoke_all(did)) == PDS_OK &&
	    (rc = store_app_password_delete_all(did)) == PDS_OK &&
	    (rc = store_oauth_family_delete_did(did, &ng)) == PDS_OK &&
	    (rc = store_oauth_client_forget_did(did)) == PDS_OK &&
	    (rc = store_oauth_account_device_delete_did(did)) == PDS_OK)
		rc = store_commit();
	else
		store_rollback();
	if (rc != PDS_OK)
		return admin_fail_internal(err, rc);
	json_object_set_new(counts, "sessions", json_integer((json_int_t)ns));
	json_object_set_new(counts, "appPasswords",
	    json_integer((json_int_t)na));
	json_object_set_new(counts, "oauthGrants", json_integer(ng));
	return PDS_OK;
}

static const struct {
	const char	*kind;
	const char	*what;
} kinds[] = {
	{ ADMIN_SESSION_PASSWORD, "sessions" },
	{ ADMIN_SESSION_APP_PASSWORD, "appPasswords" },
	{ ADMIN_SESSION_OAUTH, "oauthGrants" },
};

int
admin_account_revoke_session(const struct admin_actor *actor,
    const char *who, const char *kind, const char *id, bool all,
    const char *reason, json_t **out, struct admin_err *err)
{
	struct store_account	 a;
	json_t			*d = NULL, *counts;
	bool			 forgot = false;
	size_t			 i;
	int			 rc;

	*out = NULL;
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return admin_audited(actor, ACTION, who, reason, rc, err, NULL);
	for (i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i].kind) == 0)
			break;
	if (all == (kind != NULL) || (kind != NULL && (id == NULL ||
	    *id == '\0')))
		return admin_audited(actor, ACTION, a.did, reason,
		    admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "give either a kind and an id, or all"), err, NULL);
	if (kind != NULL && i == sizeof(kinds) / sizeof(kinds[0]))
		return admin_audited(actor, ACTION, a.did, reason,
		    admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "kind must be %s, %s or %s", ADMIN_SESSION_PASSWORD,
		    ADMIN_SESSION_APP_PASSWORD, ADMIN_SESSION_OAUTH), err,
		    NULL);
	if ((counts = json_pack("{s:i,s:i,s:i}", "sessions", 0,
	    "appPasswords", 0, "oauthGrants", 0)) == NULL)
		return admin_fail_internal(err, PDS_ENOMEM);
	if (all) {
		rc = revoke_all(a.did, counts, err);
		d = json_pack("{s:b,s:O}", "all", 1, "revoked", counts);
	} else {
		if (strcmp(kind, ADMIN_SESSION_PASSWORD) == 0)
			rc = revoke_refresh(a.did, id, err);
		else if (strcmp(kind, ADMIN_SESSION_APP_PASSWORD) == 0)
			rc = revoke_app_password(a.did, id, err);
		else
			rc = revoke_grant(a.did, id, &forgot, err);
		if (rc == PDS_OK)
			json_object_set_new(counts, kinds[i].what,
			    json_integer(1));
		d = json_pack("{s:s,s:s}", "kind", kind, "id", id);
		if (d != NULL && forgot)
			json_object_set_new(d, "consentForgotten",
			    json_true());
	}
	admin_audited(actor, ACTION, a.did, reason, rc, err, d);
	json_decref(d);
	if (rc != PDS_OK) {
		json_decref(counts);
		return rc;
	}
	*out = json_pack("{s:s,s:o}", "did", a.did, "revoked", counts);
	return *out != NULL ? PDS_OK : admin_fail_internal(err, PDS_ENOMEM);
}
