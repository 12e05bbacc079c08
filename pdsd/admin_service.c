/*
 * admin_service: the operations behind pdsctl, pdstui and the admin
 * XRPC methods.  See admin_service.h.
 *
 * Account changes go through the accounts service (accounts.h) so that
 * their checks, PLC updates and #identity/#account events happen the
 * same way as for the user-facing methods; this file adds what only an
 * operator does: takedowns of accounts, records and blobs, invite
 * administration, search, stats and the audit trail.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "admin_service.h"
#include "adminproto.h"
#include "config.h"
#include "crawlers.h"
#include "err.h"
#include "log.h"
#include "migration.h"
#include "outbound.h"
#include "stats.h"
#include "store.h"
#include "store_admin.h"
#include "syntax.h"
#include "xrpc.h"

static const struct config *scfg;

void
admin_service_init(const struct config *cfg)
{
	scfg = cfg;
}

void
admin_actor_unix(struct admin_actor *a, uid_t uid, const char *user)
{
	snprintf(a->name, sizeof(a->name), "unix:%s(%lu)",
	    user != NULL && *user != '\0' ? user : "?", (unsigned long)uid);
}

void
admin_actor_xrpc(struct admin_actor *a)
{
	snprintf(a->name, sizeof(a->name), "xrpc-admin");
}

static int
fail(struct admin_err *err, int code, const char *name, const char *xname,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail(struct admin_err *err, int code, const char *name, const char *xname,
    const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL) {
		err->name = name;
		err->xname = xname;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* An unexpected failure (store, memory). */
static int
fail_internal(struct admin_err *err, int code)
{
	if (code == PDS_OK)
		code = PDS_EINTERNAL;
	return fail(err, code, AP_E_INTERNAL, NULL, "internal error: %s",
	    pds_strerror(code));
}

/* A refusal from the accounts service, in our terms. */
static int
from_acct(struct admin_err *err, int rc, const struct acct_err *ae)
{
	const char	*name;

	switch (rc) {
	case PDS_ENOTFOUND:	name = AP_E_NO_SUCH_ACCOUNT; break;
	case PDS_EEXIST:	name = AP_E_ALREADY_EXISTS; break;
	case PDS_EINVAL:
	case PDS_ETOOBIG:
	case PDS_ECRYPTO:	name = AP_E_INVALID_ARGUMENT; break;
	case PDS_EIO:
		name = ae->upstream ? AP_E_UPSTREAM_FAILURE : AP_E_INTERNAL;
		break;
	default:		name = AP_E_INTERNAL; break;
	}
	if (ae->name == NULL && ae->msg[0] == '\0')
		return strcmp(name, AP_E_INTERNAL) == 0 ? fail_internal(err, rc) :
		    fail(err, rc, name, NULL, "%s", pds_strerror(rc));
	return fail(err, rc, name, ae->name, "%s", ae->msg[0] ? ae->msg :
	    pds_strerror(rc));
}

/* ---- audit ---- */

void
admin_audit(const struct admin_actor *actor, const char *action,
    const char *subject, const char *reason, const char *outcome,
    const char *error, const json_t *detail)
{
	json_t	*d;
	char	*s = NULL;
	int	 rc;

	d = detail != NULL ? json_deep_copy(detail) : json_object();
	if (d != NULL) {
		json_object_set_new(d, "outcome", json_string(outcome));
		if (error != NULL)
			json_object_set_new(d, "error", json_string(error));
		s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(d);
	}
	rc = store_audit_insert(actor->name, action, subject,
	    reason != NULL && *reason != '\0' ? reason : NULL, s);
	if (rc != PDS_OK)
		log_warnx("audit: cannot record %s %s by %s: %s", action,
		    subject != NULL ? subject : "-", actor->name,
		    pds_strerror(rc));
	log_info("admin: %s %s %s by %s%s%s", outcome, action,
	    subject != NULL ? subject : "-", actor->name,
	    error != NULL ? ": " : "", error != NULL ? error : "");
	free(s);
}

/* Audit the attempt and pass rc through. */
static int
audited(const struct admin_actor *actor, const char *action,
    const char *subject, const char *reason, int rc,
    const struct admin_err *err, const json_t *detail)
{
	admin_audit(actor, action, subject, reason,
	    rc == PDS_OK ? "ok" : "failed",
	    rc == PDS_OK || err == NULL ? NULL : err->name, detail);
	return rc;
}

struct audit_walk {
	json_t	*arr;
	int64_t	 last;
};

static int
audit_row(void *arg, const struct store_audit *a)
{
	struct audit_walk	*w = arg;
	json_t			*e, *d = NULL;
	json_error_t		 jerr;

	e = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)a->id, "at",
	    a->at, "actor", a->actor, "action", a->action);
	if (e == NULL)
		return PDS_ENOMEM;
	if (a->subject[0])
		json_object_set_new(e, "subject", json_string(a->subject));
	if (a->reason[0])
		json_object_set_new(e, "reason", json_string(a->reason));
	if (a->detail[0] && (d = json_loads(a->detail, 0, &jerr)) != NULL) {
		json_object_set(e, "outcome", json_object_get(d, "outcome") ?
		    json_object_get(d, "outcome") : json_string("ok"));
		json_object_set_new(e, "detail", d);
	}
	w->last = a->id;
	return json_array_append_new(w->arr, e) == 0 ? 0 : PDS_ENOMEM;
}

int
admin_audit_list(const char *since, int64_t after_id, size_t limit,
    json_t **out, struct admin_err *err)
{
	struct audit_walk	 w;
	int			 rc;

	*out = NULL;
	if (limit == 0 || limit > ADMIN_LIST_MAX)
		limit = ADMIN_LIST_MAX;
	if (since != NULL && !syntax_datetime_shape(since, strlen(since)) &&
	    strlen(since) != 10)
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "since must be a date (2024-01-31) or an ISO 8601 time");
	w.arr = json_array();
	w.last = after_id;
	if (w.arr == NULL)
		return fail_internal(err, PDS_ENOMEM);
	if ((rc = store_audit_list(since, after_id, limit, audit_row, &w)) !=
	    PDS_OK) {
		json_decref(w.arr);
		return fail_internal(err, rc);
	}
	*out = json_pack("{s:o,s:I}", "entries", w.arr, "cursor",
	    (json_int_t)w.last);
	return *out != NULL ? PDS_OK : fail_internal(err, PDS_ENOMEM);
}

/* ---- accounts ---- */

int
admin_account_resolve(const char *who, struct store_account *out,
    struct admin_err *err)
{
	int	 rc;

	if (who == NULL || *who == '\0')
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "an account (DID, handle or email) is required");
	rc = account_lookup(who, out);
	if (rc == PDS_ENOTFOUND)
		return fail(err, rc, AP_E_NO_SUCH_ACCOUNT, "AccountNotFound",
		    "no such account: %s", who);
	if (rc != PDS_OK)
		return fail_internal(err, rc);
	return PDS_OK;
}

static int
invite_add(void *arg, const struct store_invite *inv)
{
	json_t	*v;
	int	 rc;

	if ((rc = account_invite_json(inv, &v)) != PDS_OK)
		return rc;
	return json_array_append_new(arg, v) == 0 ? 0 : PDS_ENOMEM;
}

int
admin_account_view(const struct store_account *a, bool full, json_t **out)
{
	struct store_invite	 inv;
	json_t			*o, *v, *invites;
	char			 code[SA_CODE_MAX + 1];
	int			 rc;

	*out = NULL;
	o = json_pack("{s:s,s:s,s:s,s:b,s:s}", "did", a->did, "handle",
	    a->handle[0] ? a->handle : "handle.invalid", "indexedAt",
	    a->created_at, "invitesDisabled", a->invites_disabled,
	    "status", a->status);
	if (o == NULL)
		return PDS_ENOMEM;
	if (a->email[0])
		json_object_set_new(o, "email", json_string(a->email));
	if (a->email_confirmed_at[0])
		json_object_set_new(o, "emailConfirmedAt",
		    json_string(a->email_confirmed_at));
	if (a->deactivated_at[0])
		json_object_set_new(o, "deactivatedAt",
		    json_string(a->deactivated_at));
	if (a->takedown_ref[0])
		json_object_set_new(o, "takedownRef",
		    json_string(a->takedown_ref));
	if (full) {
		rc = store_admin_invited_by(a->did, code, sizeof(code));
		if (rc == PDS_OK && store_invite_get(code, &inv) == PDS_OK &&
		    account_invite_json(&inv, &v) == PDS_OK)
			json_object_set_new(o, "invitedBy", v);
		if ((invites = json_array()) == NULL) {
			json_decref(o);
			return PDS_ENOMEM;
		}
		if ((rc = store_invite_list_for(a->did, invite_add,
		    invites)) != PDS_OK) {
			json_decref(invites);
			json_decref(o);
			return rc;
		}
		json_object_set_new(o, "invites", invites);
	}
	*out = o;
	return PDS_OK;
}

int
admin_account_usage(const char *did, json_t *view, struct admin_err *err)
{
	struct store_account_usage u;
	int			 rc;

	if ((rc = store_admin_account_usage(did, &u)) != PDS_OK)
		return fail_internal(err, rc);
	if (json_object_set_new(view, "repo", json_pack("{s:I,s:I,s:I}",
	    "records", (json_int_t)u.records, "blocks",
	    (json_int_t)u.repo_blocks, "bytes", (json_int_t)u.repo_bytes)) !=
	    0 || json_object_set_new(view, "blobs", json_pack("{s:I,s:I}",
	    "count", (json_int_t)u.blobs, "bytes", (json_int_t)u.blob_bytes))
	    != 0)
		return fail_internal(err, PDS_ENOMEM);
	return PDS_OK;
}

struct account_walk {
	json_t			*arr;
	size_t			 n;
	struct store_account	 last;
};

static int
account_add(void *arg, const struct store_account *a)
{
	struct account_walk	*w = arg;
	json_t			*v;
	int			 rc;

	if ((rc = admin_account_view(a, false, &v)) != PDS_OK)
		return rc;
	w->n++;
	w->last = *a;
	return json_array_append_new(w->arr, v) == 0 ? 0 : PDS_ENOMEM;
}

static int
account_page(json_t **out, struct account_walk *w, size_t limit,
    bool by_did, struct admin_err *err)
{
	char	 cur[SA_DID_MAX + STORE_TS_LEN + 2];

	*out = json_pack("{s:o}", "accounts", w->arr);
	if (*out == NULL)
		return fail_internal(err, PDS_ENOMEM);
	if (w->n == limit) {
		if (by_did)
			snprintf(cur, sizeof(cur), "%s", w->last.did);
		else
			store_admin_cursor(&w->last, cur, sizeof(cur));
		json_object_set_new(*out, "cursor", json_string(cur));
	}
	return PDS_OK;
}

static size_t
page_limit(size_t limit)
{
	return limit == 0 ? 100 : limit > ADMIN_LIST_MAX ? ADMIN_LIST_MAX :
	    limit;
}

int
admin_account_list(const char *status, const char *cursor, size_t limit,
    json_t **out, struct admin_err *err)
{
	struct account_walk	*w;
	int			 rc;

	*out = NULL;
	limit = page_limit(limit);
	if (status != NULL && strcmp(status, "active") != 0 &&
	    strcmp(status, "deactivated") != 0 &&
	    strcmp(status, "takendown") != 0)
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "status must be active, deactivated or takendown");
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->arr = json_array()) == NULL) {
		free(w);
		return fail_internal(err, PDS_ENOMEM);
	}
	rc = store_admin_account_list(status, cursor, limit, account_add, w);
	if (rc == PDS_EINVAL)
		rc = fail(err, rc, AP_E_INVALID_ARGUMENT, NULL,
		    "malformed cursor");
	else if (rc != PDS_OK)
		rc = fail_internal(err, rc);
	else
		rc = account_page(out, w, limit, false, err);
	if (rc != PDS_OK)
		json_decref(w->arr);
	free(w);
	return rc;
}

int
admin_account_search(const char *q, const char *cursor, size_t limit,
    json_t **out, struct admin_err *err)
{
	struct account_walk	*w;
	int			 rc;

	*out = NULL;
	limit = page_limit(limit);
	if (q == NULL || *q == '\0' || strlen(q) > SA_DID_MAX)
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "a search term is required");
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->arr = json_array()) == NULL) {
		free(w);
		return fail_internal(err, PDS_ENOMEM);
	}
	rc = store_admin_account_search(q, cursor, limit, account_add, w);
	if (rc != PDS_OK)
		rc = fail_internal(err, rc);
	else
		rc = account_page(out, w, limit, true, err);
	if (rc != PDS_OK)
		json_decref(w->arr);
	free(w);
	return rc;
}

/* A random password of ADMIN_PASSWORD_GEN_LEN characters (~120 bits). */
static void
password_generate(char out[ADMIN_PASSWORD_GEN_LEN + 1])
{
	static const char	 alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t			 r[ADMIN_PASSWORD_GEN_LEN];
	size_t			 i;

	randombytes_buf(r, sizeof(r));
	for (i = 0; i < ADMIN_PASSWORD_GEN_LEN; i++)
		out[i] = alpha[r[i] & 31];
	out[ADMIN_PASSWORD_GEN_LEN] = '\0';
	sodium_memzero(r, sizeof(r));
}

int
admin_account_create(const struct admin_actor *actor, const char *email,
    const char *handle, const char *password, const char *reason,
    json_t **out, struct admin_err *err)
{
	struct account_new	 in;
	struct account_created	 c;
	struct acct_err		 ae;
	char			 gen[ADMIN_PASSWORD_GEN_LEN + 1];
	json_t			*d;
	int			 rc;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	memset(&ae, 0, sizeof(ae));
	if (handle == NULL || *handle == '\0')
		return audited(actor, "account.create", handle, reason,
		    fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "a handle is required"), err, NULL);
	if (password == NULL) {
		password_generate(gen);
		password = gen;
	} else
		gen[0] = '\0';
	memset(&in, 0, sizeof(in));
	in.handle = handle;
	in.email = email;
	in.password = password;
	in.admin = true;
	rc = account_create(&in, &c, &ae);
	if (rc != PDS_OK) {
		sodium_memzero(gen, sizeof(gen));
		d = json_pack("{s:s}", "handle", handle);
		rc = from_acct(err, rc, &ae);
		audited(actor, "account.create", handle, reason, rc, err, d);
		json_decref(d);
		return rc;
	}
	json_decref(c.did_doc);
	*out = json_pack("{s:s,s:s}", "did", c.did, "handle", c.handle);
	if (*out != NULL && gen[0] != '\0')
		json_object_set_new(*out, "password", json_string(gen));
	sodium_memzero(gen, sizeof(gen));
	d = json_pack("{s:s}", "handle", c.handle);
	audited(actor, "account.create", c.did, reason, PDS_OK, NULL, d);
	json_decref(d);
	return *out != NULL ? PDS_OK : fail_internal(err, PDS_ENOMEM);
}

int
admin_account_delete(const struct admin_actor *actor, const char *who,
    const char *reason, struct admin_err *err)
{
	struct store_account	 a;
	int			 rc;

	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return audited(actor, "account.delete", who, reason, rc, err,
		    NULL);
	/*
	 * The deletion every path shares: rows and #account "deleted" in
	 * one transaction, then the repo writer's cache, the resolver's
	 * and the blob files.
	 */
	if ((rc = migration_account_purge(a.did, true)) != PDS_OK) {
		rc = rc == PDS_ENOTFOUND ? fail(err, rc, AP_E_NO_SUCH_ACCOUNT,
		    "AccountNotFound", "no such account: %s", who) :
		    fail_internal(err, rc);
		return audited(actor, "account.delete", a.did, reason, rc,
		    err, NULL);
	}
	return audited(actor, "account.delete", a.did, reason, PDS_OK, NULL,
	    NULL);
}

int
admin_account_takedown(const struct admin_actor *actor, const char *who,
    bool applied, const char *ref, const char *reason, struct admin_err *err)
{
	const char		*action = applied ? "account.takedown" :
				    "account.untakedown";
	struct store_account	 a;
	struct acct_err		 ae;
	char			 now[STORE_TS_LEN];
	const char		*to;
	json_t			*d = NULL;
	int			 rc;

	memset(&ae, 0, sizeof(ae));
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return audited(actor, action, who, reason, rc, err, NULL);
	if (ref != NULL && strlen(ref) >= SA_REF_MAX)
		return audited(actor, action, a.did, reason, fail(err,
		    PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "takedown reference too long"), err, NULL);
	if (applied) {
		if (ref == NULL || *ref == '\0') {
			store_timestamp(now);
			ref = now;
		}
		rc = account_set_status(a.did, "takendown", ref, &ae);
		d = json_pack("{s:s}", "ref", ref);
	} else if (strcmp(a.status, "takendown") != 0) {
		/* nothing to undo; say so but succeed (idempotent) */
		d = json_pack("{s:b}", "unchanged", 1);
		rc = PDS_OK;
	} else {
		/* a deactivation from before the takedown comes back */
		to = a.deactivated_at[0] ? "deactivated" : "active";
		rc = account_set_status(a.did, to, NULL, &ae);
		d = json_pack("{s:s}", "status", to);
	}
	if (rc != PDS_OK)
		rc = from_acct(err, rc, &ae);
	audited(actor, action, a.did, reason, rc, err, d);
	json_decref(d);
	return rc;
}

int
admin_account_deactivate(const struct admin_actor *actor, const char *who,
    bool deactivate, const char *reason, struct admin_err *err)
{
	const char		*action = deactivate ? "account.deactivate" :
				    "account.activate";
	struct store_account	 a;
	struct acct_err		 ae;
	int			 rc;

	memset(&ae, 0, sizeof(ae));
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return audited(actor, action, who, reason, rc, err, NULL);
	if (strcmp(a.status, "takendown") == 0)
		return audited(actor, action, a.did, reason, fail(err,
		    PDS_EINVAL, AP_E_ACCOUNT_TAKENDOWN, "AccountTakedown",
		    "%s is taken down; reverse the takedown first", a.did),
		    err, NULL);
	rc = account_set_status(a.did, deactivate ? "deactivated" : "active",
	    NULL, &ae);
	if (rc != PDS_OK)
		rc = from_acct(err, rc, &ae);
	return audited(actor, action, a.did, reason, rc, err, NULL);
}

int
admin_account_set_handle(const struct admin_actor *actor, const char *who,
    const char *handle, const char *reason, struct admin_err *err)
{
	struct store_account	 a;
	struct acct_err		 ae;
	json_t			*d;
	int			 rc;

	memset(&ae, 0, sizeof(ae));
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return audited(actor, "account.set-handle", who, reason, rc,
		    err, NULL);
	if (handle == NULL || *handle == '\0')
		rc = fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "a handle is required");
	else if ((rc = account_set_handle(a.did, handle,
	    ACCOUNT_HANDLE_ADMIN, &ae)) != PDS_OK)
		rc = from_acct(err, rc, &ae);
	d = json_pack("{s:s,s:s}", "from", a.handle, "to",
	    handle != NULL ? handle : "");
	audited(actor, "account.set-handle", a.did, reason, rc, err, d);
	json_decref(d);
	return rc;
}

int
admin_account_set_email(const struct admin_actor *actor, const char *who,
    const char *email, const char *reason, struct admin_err *err)
{
	struct store_account	 a;
	struct acct_err		 ae;
	char			 norm[SA_EMAIL_MAX + 1];
	bool			 taken = false;
	int			 rc;

	memset(&ae, 0, sizeof(ae));
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return audited(actor, "account.set-email", who, reason, rc,
		    err, NULL);
	if (email == NULL ||
	    (rc = account_email_check(email, norm, sizeof(norm), &ae)) !=
	    PDS_OK) {
		if (email == NULL)
			rc = fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
			    NULL, "an email address is required");
		else
			rc = from_acct(err, rc, &ae);
		return audited(actor, "account.set-email", a.did, reason, rc,
		    err, NULL);
	}
	if (strcmp(norm, a.email) != 0) {
		if ((rc = store_account_email_taken(norm, &taken)) != PDS_OK)
			rc = fail_internal(err, rc);
		else if (taken)
			rc = fail(err, PDS_EEXIST, AP_E_ALREADY_EXISTS,
			    "EmailNotAvailable", "email already in use");
		else if ((rc = store_account_set_email(a.did, norm)) ==
		    PDS_EEXIST)
			rc = fail(err, rc, AP_E_ALREADY_EXISTS,
			    "EmailNotAvailable", "email already in use");
		else if (rc != PDS_OK)
			rc = fail_internal(err, rc);
	}
	return audited(actor, "account.set-email", a.did, reason, rc, err,
	    NULL);
}

int
admin_account_set_password(const struct admin_actor *actor, const char *who,
    const char *password, const char *reason, json_t **out,
    struct admin_err *err)
{
	struct store_account	 a;
	struct acct_err		 ae;
	char			 gen[ADMIN_PASSWORD_GEN_LEN + 1];
	int			 rc;

	*out = NULL;
	memset(&ae, 0, sizeof(ae));
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return audited(actor, "account.reset-password", who, reason,
		    rc, err, NULL);
	gen[0] = '\0';
	if (password == NULL) {
		password_generate(gen);
		password = gen;
	}
	if ((rc = account_set_password(a.did, password, &ae)) != PDS_OK)
		rc = from_acct(err, rc, &ae);
	else if (gen[0] != '\0')
		*out = json_pack("{s:s}", "password", gen);
	else
		*out = json_object();
	sodium_memzero(gen, sizeof(gen));
	if (rc == PDS_OK && *out == NULL)
		rc = fail_internal(err, PDS_ENOMEM);
	return audited(actor, "account.reset-password", a.did, reason, rc,
	    err, NULL);
}

int
admin_account_invites_enable(const struct admin_actor *actor,
    const char *who, bool enabled, const char *reason, struct admin_err *err)
{
	const char		*action = enabled ? "account.enable-invites" :
				    "account.disable-invites";
	struct store_account	 a;
	int			 rc;

	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return audited(actor, action, who, reason, rc, err, NULL);
	if ((rc = store_account_set_invites_disabled(a.did, !enabled)) !=
	    PDS_OK)
		rc = fail_internal(err, rc);
	return audited(actor, action, a.did, reason, rc, err, NULL);
}

/* ---- records and blobs ---- */

/*
 * The record URI in its stored form, at://<did>/<collection>/<rkey>,
 * from an AT-URI whose authority may be a handle.
 */
static int
record_uri(const char *in, char *out, size_t cap, struct admin_err *err)
{
	struct store_account	 a;
	const char		*auth, *rest;
	char			 who[SA_DID_MAX + 1];
	size_t			 n;
	int			 rc;

	if (in == NULL || !syntax_is_aturi(in, strlen(in)) ||
	    strncmp(in, "at://", 5) != 0)
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "not an AT-URI: %s", in != NULL ? in : "(none)");
	auth = in + 5;
	if ((rest = strchr(auth, '/')) == NULL ||
	    strchr(rest + 1, '/') == NULL || strchr(rest, '#') != NULL ||
	    strchr(rest, '?') != NULL)
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "the AT-URI must name a record: "
		    "at://<did>/<collection>/<rkey>");
	n = (size_t)(rest - auth);
	if (n >= sizeof(who))
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "authority too long");
	memcpy(who, auth, n);
	who[n] = '\0';
	if (strncmp(who, "did:", 4) != 0) {
		if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
			return rc;
		snprintf(who, sizeof(who), "%s", a.did);
	}
	if ((size_t)snprintf(out, cap, "at://%s%s", who, rest) >= cap)
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "AT-URI too long");
	return PDS_OK;
}

#define ADM_URI_MAX	(SA_DID_MAX + 512)

int
admin_record_takedown(const struct admin_actor *actor, const char *uri,
    bool applied, const char *ref, const char *reason, struct admin_err *err)
{
	const char	*action = applied ? "record.takedown" :
			    "record.untakedown";
	char		 u[ADM_URI_MAX], now[STORE_TS_LEN];
	int		 rc;

	if ((rc = record_uri(uri, u, sizeof(u), err)) != PDS_OK)
		return audited(actor, action, uri, reason, rc, err, NULL);
	if (applied && (ref == NULL || *ref == '\0')) {
		store_timestamp(now);
		ref = now;
	}
	if (ref != NULL && strlen(ref) >= SA_REF_MAX)
		return audited(actor, action, u, reason, fail(err, PDS_EINVAL,
		    AP_E_INVALID_ARGUMENT, NULL,
		    "takedown reference too long"), err, NULL);
	rc = store_record_takedown_set(u, applied ? ref : NULL);
	if (rc == PDS_ENOTFOUND)
		rc = fail(err, rc, AP_E_NO_SUCH_RECORD, "RecordNotFound",
		    "no such record: %s", u);
	else if (rc != PDS_OK)
		rc = fail_internal(err, rc);
	return audited(actor, action, u, reason, rc, err, NULL);
}

int
admin_blob_takedown(const struct admin_actor *actor, const char *did,
    const char *cid, bool applied, const char *ref, const char *reason,
    struct admin_err *err)
{
	const char		*action = applied ? "blob.takedown" :
				    "blob.untakedown";
	struct store_account	 a;
	char			 subj[SA_DID_MAX + 200], now[STORE_TS_LEN];
	int			 rc;

	snprintf(subj, sizeof(subj), "%s/%s", did != NULL ? did : "",
	    cid != NULL ? cid : "");
	if (cid == NULL || !syntax_is_cid(cid, strlen(cid)))
		return audited(actor, action, subj, reason, fail(err,
		    PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "not a CID: %s", cid != NULL ? cid : "(none)"), err, NULL);
	if ((rc = admin_account_resolve(did, &a, err)) != PDS_OK)
		return audited(actor, action, subj, reason, rc, err, NULL);
	snprintf(subj, sizeof(subj), "%s/%s", a.did, cid);
	if (applied && (ref == NULL || *ref == '\0')) {
		store_timestamp(now);
		ref = now;
	}
	if (ref != NULL && strlen(ref) >= SA_REF_MAX)
		return audited(actor, action, subj, reason, fail(err,
		    PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "takedown reference too long"), err, NULL);
	rc = store_blob_takedown_set(a.did, cid, applied ? ref : NULL);
	if (rc == PDS_ENOTFOUND)
		rc = fail(err, rc, AP_E_NO_SUCH_BLOB, "BlobNotFound",
		    "no such blob: %s", subj);
	else if (rc != PDS_OK)
		rc = fail_internal(err, rc);
	return audited(actor, action, subj, reason, rc, err, NULL);
}

static json_t *
takedown_json(const char *ref)
{
	if (ref[0] == '\0')
		return json_pack("{s:b}", "applied", 0);
	return json_pack("{s:b,s:s}", "applied", 1, "ref", ref);
}

int
admin_subject_status(const char *did, const char *uri, const char *cid,
    json_t **out, struct admin_err *err)
{
	struct store_account	 a;
	char			 u[ADM_URI_MAX], rcid[128], ref[SA_REF_MAX];
	int			 rc;

	*out = NULL;
	if (uri != NULL && *uri != '\0') {
		if ((rc = record_uri(uri, u, sizeof(u), err)) != PDS_OK)
			return rc;
		rc = store_record_takedown_get(u, rcid, sizeof(rcid), ref,
		    sizeof(ref));
		if (rc == PDS_ENOTFOUND)
			return fail(err, rc, AP_E_NO_SUCH_RECORD, "NotFound",
			    "no such record: %s", u);
		if (rc != PDS_OK)
			return fail_internal(err, rc);
		*out = json_pack("{s:{s:s,s:s,s:s},s:o}", "subject", "$type",
		    "com.atproto.repo.strongRef", "uri", u, "cid", rcid,
		    "takedown", takedown_json(ref));
	} else if (did != NULL && *did != '\0' && cid != NULL &&
	    *cid != '\0') {
		if ((rc = admin_account_resolve(did, &a, err)) != PDS_OK)
			return rc;
		rc = store_blob_takedown_get(a.did, cid, ref, sizeof(ref));
		if (rc == PDS_ENOTFOUND)
			return fail(err, rc, AP_E_NO_SUCH_BLOB, "NotFound",
			    "no such blob: %s/%s", a.did, cid);
		if (rc != PDS_OK)
			return fail_internal(err, rc);
		*out = json_pack("{s:{s:s,s:s,s:s},s:o}", "subject", "$type",
		    "com.atproto.admin.defs#repoBlobRef", "did", a.did, "cid",
		    cid, "takedown", takedown_json(ref));
	} else if (did != NULL && *did != '\0') {
		if ((rc = admin_account_resolve(did, &a, err)) != PDS_OK) {
			if (err != NULL && rc == PDS_ENOTFOUND)
				err->xname = "NotFound";
			return rc;
		}
		*out = json_pack("{s:{s:s,s:s},s:o,s:{s:b}}", "subject",
		    "$type", "com.atproto.admin.defs#repoRef", "did", a.did,
		    "takedown", takedown_json(strcmp(a.status, "takendown") ==
		    0 ? (a.takedown_ref[0] ? a.takedown_ref : "takedown") : ""),
		    "deactivated", "applied", a.deactivated_at[0] != '\0');
	} else
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "a did, a uri, or a did and a blob cid are required");
	return *out != NULL ? PDS_OK : fail_internal(err, PDS_ENOMEM);
}

/* ---- invites ---- */

int
admin_invite_create(const struct admin_actor *actor, int64_t uses,
    const char *for_account, int64_t count, const char *reason, json_t **out,
    struct admin_err *err)
{
	struct store_account	 a;
	json_t			*codes, *d;
	char			 code[SA_CODE_MAX + 1];
	const char		*forwho = "admin";
	int64_t			 i;
	int			 rc = PDS_OK;

	*out = NULL;
	if (uses < 1 || uses > ACCOUNT_INVITE_MAX_USES)
		return audited(actor, "invite.create", NULL, reason, fail(err,
		    PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "uses must be 1 to %d", ACCOUNT_INVITE_MAX_USES), err,
		    NULL);
	if (count < 1 || count > ADMIN_INVITE_COUNT_MAX)
		return audited(actor, "invite.create", NULL, reason, fail(err,
		    PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "count must be 1 to %d", ADMIN_INVITE_COUNT_MAX), err,
		    NULL);
	if (for_account != NULL && *for_account != '\0') {
		if ((rc = admin_account_resolve(for_account, &a, err)) !=
		    PDS_OK)
			return audited(actor, "invite.create", for_account,
			    reason, rc, err, NULL);
		forwho = a.did;
	}
	if ((codes = json_array()) == NULL)
		return fail_internal(err, PDS_ENOMEM);
	for (i = 0; i < count; i++) {
		rc = account_invite_create(uses, forwho, "admin", code,
		    sizeof(code));
		if (rc != PDS_OK) {
			rc = fail_internal(err, rc);
			break;
		}
		json_array_append_new(codes, json_string(code));
	}
	d = json_pack("{s:I,s:I,s:O}", "uses", (json_int_t)uses, "count",
	    (json_int_t)json_array_size(codes), "codes", codes);
	audited(actor, "invite.create", forwho, reason, rc, err, d);
	json_decref(d);
	if (rc != PDS_OK) {
		json_decref(codes);
		return rc;
	}
	*out = json_pack("{s:s,s:o}", "account", forwho, "codes", codes);
	return *out != NULL ? PDS_OK : fail_internal(err, PDS_ENOMEM);
}

struct invite_walk {
	json_t	*arr;
	size_t	 n;
};

static int
invite_row(void *arg, const struct store_invite *inv)
{
	struct invite_walk	*w = arg;
	json_t			*v;
	int			 rc;

	if ((rc = account_invite_json(inv, &v)) != PDS_OK)
		return rc;
	w->n++;
	return json_array_append_new(w->arr, v) == 0 ? 0 : PDS_ENOMEM;
}

int
admin_invite_list(const char *sort, const char *for_account,
    bool include_disabled, const char *cursor, size_t limit, json_t **out,
    struct admin_err *err)
{
	struct store_account	 a;
	struct invite_walk	 w;
	enum store_invite_sort	 s = SI_SORT_RECENT;
	const char		*forwho = NULL;
	unsigned long long	 off = 0;
	char			*end, buf[32];
	int			 rc;

	*out = NULL;
	limit = page_limit(limit);
	if (sort != NULL && strcmp(sort, "usage") == 0)
		s = SI_SORT_USAGE;
	else if (sort != NULL && strcmp(sort, "recent") != 0)
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "sort must be recent or usage");
	if (cursor != NULL && *cursor != '\0') {
		off = strtoull(cursor, &end, 10);
		if (*end != '\0' || off > 100000000)
			return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
			    NULL, "malformed cursor");
	}
	if (for_account != NULL && *for_account != '\0') {
		if (strcmp(for_account, "admin") == 0)
			forwho = "admin";
		else if ((rc = admin_account_resolve(for_account, &a, err)) !=
		    PDS_OK)
			return rc;
		else
			forwho = a.did;
	}
	w.n = 0;
	if ((w.arr = json_array()) == NULL)
		return fail_internal(err, PDS_ENOMEM);
	rc = store_admin_invite_list(s, forwho, include_disabled, (size_t)off,
	    limit, invite_row, &w);
	if (rc != PDS_OK) {
		json_decref(w.arr);
		return fail_internal(err, rc);
	}
	*out = json_pack("{s:o}", "codes", w.arr);
	if (*out == NULL)
		return fail_internal(err, PDS_ENOMEM);
	if (w.n == limit) {
		snprintf(buf, sizeof(buf), "%llu", off + w.n);
		json_object_set_new(*out, "cursor", json_string(buf));
	}
	return PDS_OK;
}

int
admin_invite_disable(const struct admin_actor *actor, const json_t *codes,
    const json_t *accounts, const char *reason, struct admin_err *err)
{
	struct store_account	 a;
	json_t			*v, *d;
	size_t			 i;
	int64_t			 n, total = 0;
	int			 rc = PDS_OK;

	if ((codes != NULL && !json_is_array(codes)) ||
	    (accounts != NULL && !json_is_array(accounts)))
		return audited(actor, "invite.disable", NULL, reason, fail(err,
		    PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "codes and accounts must be arrays"), err, NULL);
	if (json_array_size(codes) + json_array_size(accounts) == 0)
		return audited(actor, "invite.disable", NULL, reason, fail(err,
		    PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "name at least one code or account"), err, NULL);
	/* Check everything first, so that a typo changes nothing. */
	json_array_foreach(codes, i, v) {
		struct store_invite inv;

		if (!json_is_string(v) ||
		    json_string_length(v) > SA_CODE_MAX)
			rc = fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
			    "codes must be strings");
		else if ((rc = store_invite_get(json_string_value(v),
		    &inv)) == PDS_ENOTFOUND)
			rc = fail(err, rc, AP_E_NO_SUCH_INVITE, "NotFound",
			    "no such invite code: %s", json_string_value(v));
		else if (rc != PDS_OK)
			rc = fail_internal(err, rc);
		if (rc != PDS_OK)
			break;
	}
	if (rc == PDS_OK)
		json_array_foreach(accounts, i, v) {
			if (!json_is_string(v))
				rc = fail(err, PDS_EINVAL,
				    AP_E_INVALID_ARGUMENT, NULL,
				    "accounts must be strings");
			else
				rc = admin_account_resolve(
				    json_string_value(v), &a, err);
			if (rc != PDS_OK)
				break;
		}
	if (rc == PDS_OK && (rc = store_begin()) != PDS_OK)
		rc = fail_internal(err, rc);
	if (rc == PDS_OK) {
		json_array_foreach(codes, i, v) {
			if ((rc = store_admin_invite_disable(
			    json_string_value(v))) != PDS_OK)
				break;
			total++;
		}
		if (rc == PDS_OK)
			json_array_foreach(accounts, i, v) {
				if ((rc = account_lookup(json_string_value(v),
				    &a)) != PDS_OK ||
				    (rc = store_admin_invite_disable_for(a.did,
				    &n)) != PDS_OK)
					break;
				total += n;
			}
		if (rc == PDS_OK)
			rc = store_commit();
		else
			store_rollback();
		if (rc != PDS_OK)
			rc = fail_internal(err, rc);
	}
	d = json_pack("{s:O?,s:O?,s:I}", "codes", codes, "accounts", accounts,
	    "disabled", (json_int_t)total);
	audited(actor, "invite.disable", NULL, reason, rc, err, d);
	json_decref(d);
	return rc;
}

/* ---- server ---- */

/* Unix milliseconds as "2025-01-02T03:04:05.678Z". */
static void
ms_to_iso(int64_t ms, char out[STORE_TS_LEN])
{
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);
	size_t		 n;

	gmtime_r(&t, &tm);
	n = strftime(out, STORE_TS_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, STORE_TS_LEN - n, ".%03dZ", (int)(ms % 1000));
}

int
admin_stats(json_t **out, struct admin_err *err)
{
	struct store_admin_counts c;
	struct crawlers_stats	 cs;
	json_t			*counters;
	char			 now[STORE_TS_LEN], crawl[STORE_TS_LEN];
	int			 rc;

	*out = NULL;
	if ((rc = store_admin_counts(&c)) != PDS_OK)
		return fail_internal(err, rc);
	if ((counters = stats_counters_json()) == NULL)
		return fail_internal(err, PDS_ENOMEM);
	store_timestamp(now);
	crawlers_stats(&cs);
	if (cs.last_ok_ms > 0)
		ms_to_iso(cs.last_ok_ms, crawl);
	*out = json_pack("{s:s,s:s,s:I,s:s?,s:{s:I,s:I,s:I,s:I},"
	    "s:{s:I,s:I,s:I},s:{s:I,s:I},s:{s:I,s:I,s:I},s:I,s:I,s:o}",
	    "at", now, "version", PDSD_VERSION,
	    "uptime", (json_int_t)stats_uptime_s(),
	    "lastCrawl", cs.last_ok_ms > 0 ? crawl : NULL,
	    "accounts", "total", (json_int_t)c.accounts, "active",
	    (json_int_t)c.active, "deactivated", (json_int_t)c.deactivated,
	    "takendown", (json_int_t)c.takendown,
	    "repo", "records", (json_int_t)c.records, "blocks",
	    (json_int_t)c.repo_blocks, "bytes", (json_int_t)c.repo_bytes,
	    "blobs", "count", (json_int_t)c.blobs, "bytes",
	    (json_int_t)c.blob_bytes,
	    "firehose", "subscribers", (json_int_t)stats_sub_count(),
	    "events", (json_int_t)c.events, "lastSeq",
	    (json_int_t)c.last_seq,
	    "invitesOpen", (json_int_t)c.invites_open,
	    "auditEntries", (json_int_t)c.audit_rows,
	    "counters", counters);
	return *out != NULL ? PDS_OK : fail_internal(err, PDS_ENOMEM);
}

int
admin_request_crawl(const struct admin_actor *actor, const json_t *relays,
    json_t **out, struct admin_err *err)
{
	json_t		*res, *body, *e, *v, *resp = NULL;
	char		 url[1024], msg[256];
	const char	*relay;
	long		 status;
	size_t		 i, n;
	int		 rc, failed = 0;

	*out = NULL;
	if (relays != NULL && !json_is_array(relays))
		return fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "relays must be an array");
	n = json_array_size(relays);
	if (n == 0 && (scfg == NULL || scfg->crawlers.n == 0))
		return audited(actor, "request-crawl", NULL, NULL, fail(err,
		    PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "no relays given and PDS_CRAWLERS is not set"), err, NULL);
	if (n == 0)
		n = scfg->crawlers.n;
	if ((res = json_array()) == NULL)
		return fail_internal(err, PDS_ENOMEM);
	body = json_pack("{s:s}", "hostname", scfg->hostname);
	for (i = 0; i < n; i++) {
		if (json_array_size(relays) > 0) {
			v = json_array_get(relays, i);
			relay = json_is_string(v) ? json_string_value(v) : "";
		} else
			relay = scfg->crawlers.v[i];
		msg[0] = '\0';
		status = 0;
		if (strncmp(relay, "https://", 8) != 0 &&
		    strncmp(relay, "http://", 7) != 0) {
			snprintf(msg, sizeof(msg), "not an http(s) URL");
			rc = PDS_EINVAL;
		} else if ((size_t)snprintf(url, sizeof(url),
		    "%s/xrpc/com.atproto.sync.requestCrawl", relay) >=
		    sizeof(url)) {
			snprintf(msg, sizeof(msg), "URL too long");
			rc = PDS_EINVAL;
		} else {
			/* the operator named it: any address is fine */
			rc = outbound_json(url, body, OUTBOUND_TRUSTED, 5000,
			    0, &status, &resp, msg, sizeof(msg));
			json_decref(resp);
			resp = NULL;
			if (rc == PDS_OK && (status < 200 || status > 299)) {
				snprintf(msg, sizeof(msg), "HTTP %ld", status);
				rc = PDS_EIO;
			}
		}
		if (rc != PDS_OK)
			failed++;
		else
			crawlers_note_ok();
		e = json_pack("{s:s,s:b,s:I}", "relay", relay, "ok",
		    rc == PDS_OK, "status", (json_int_t)status);
		if (e != NULL && rc != PDS_OK)
			json_object_set_new(e, "error", json_string(msg));
		json_array_append_new(res, e);
	}
	json_decref(body);
	*out = json_pack("{s:s,s:o}", "hostname", scfg->hostname, "relays",
	    res);
	admin_audit(actor, "request-crawl", scfg->hostname, NULL,
	    failed ? "failed" : "ok", failed ? AP_E_UPSTREAM_FAILURE : NULL,
	    *out);
	if (*out == NULL)
		return fail_internal(err, PDS_ENOMEM);
	if (failed == (int)n) {
		rc = fail(err, PDS_EIO, AP_E_UPSTREAM_FAILURE, NULL,
		    "no relay accepted the request");
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	return PDS_OK;
}
