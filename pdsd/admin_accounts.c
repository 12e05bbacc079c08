/*
 * admin_accounts: the operator's account and invite-code operations
 * (listing, search, create, delete, takedown, deactivate, handle, email,
 * password, invites).  See admin_service.h.
 *
 * Account changes go through the accounts service (accounts.h) so that
 * their checks, PLC updates and #identity/#account events happen the
 * same way as for the user-facing methods.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "accounts.h"
#include "admin_service.h"
#include "admin_service_int.h"
#include "adminproto.h"
#include "err.h"
#include "log.h"
#include "migration.h"
#include "store.h"
#include "store_admin.h"
#include "syntax.h"

/* A refusal from the accounts service, in our terms. */
static int
from_acct(struct admin_err *err, int rc, const struct pds_error *ae)
{
	const char	*name;

	switch (rc) {
	case PDS_ENOTFOUND:	name = AP_E_NO_SUCH_ACCOUNT; break;
	case PDS_EEXIST:	name = AP_E_ALREADY_EXISTS; break;
	case PDS_EINVAL:
	case PDS_ETOOBIG:
	case PDS_ECRYPTO:	name = AP_E_INVALID_ARGUMENT; break;
	case PDS_EUPSTREAM:	name = AP_E_UPSTREAM_FAILURE; break;
	default:		name = AP_E_INTERNAL; break;
	}
	if (ae->name == NULL && ae->msg[0] == '\0')
		return strcmp(name, AP_E_INTERNAL) == 0 ?
		    admin_fail_internal(err, rc) : admin_fail(err, rc, name,
		    NULL, "%s", pds_strerror(rc));
	return admin_fail(err, rc, name, ae->name, "%s", ae->msg[0] ? ae->msg :
	    pds_strerror(rc));
}

/* ---- accounts ---- */

int
admin_account_resolve(const char *who, struct store_account *out,
    struct admin_err *err)
{
	int	 rc;

	if (who == NULL || *who == '\0')
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "an account (DID, handle or email) is required");
	rc = account_lookup(who, out);
	if (rc == PDS_ENOTFOUND)
		return admin_fail(err, rc, AP_E_NO_SUCH_ACCOUNT,
		    "AccountNotFound", "no such account: %s", who);
	if (rc != PDS_OK)
		return admin_fail_internal(err, rc);
	return PDS_OK;
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
	    "status", acct_status_name(a->status));
	if (o == NULL)
		return PDS_ENOMEM;
	admin_json_text(o, "email", a->email);
	admin_json_text(o, "emailConfirmedAt", a->email_confirmed_at);
	admin_json_text(o, "deactivatedAt", a->deactivated_at);
	admin_json_text(o, "takedownRef", a->takedown_ref);
	if (full) {
		rc = store_admin_invited_by(a->did, code, sizeof(code));
		if (rc == PDS_OK && store_invite_get(code, &inv) == PDS_OK &&
		    account_invite_json(&inv, &v) == PDS_OK)
			json_object_set_new(o, "invitedBy", v);
		if ((invites = json_array()) == NULL) {
			json_decref(o);
			return PDS_ENOMEM;
		}
		if ((rc = store_invite_list_for(a->did, account_invite_add,
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
		return admin_fail_internal(err, rc);
	if (json_object_set_new(view, "repo", json_pack("{s:I,s:I,s:I}",
	    "records", (json_int_t)u.records, "blocks",
	    (json_int_t)u.repo_blocks, "bytes", (json_int_t)u.repo_bytes)) !=
	    0 || json_object_set_new(view, "blobs", json_pack("{s:I,s:I}",
	    "count", (json_int_t)u.blobs, "bytes", (json_int_t)u.blob_bytes))
	    != 0)
		return admin_fail_internal(err, PDS_ENOMEM);
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

/* A walk for one page of accounts; NULL (err set) when out of memory. */
static struct account_walk *
account_walk_new(struct admin_err *err)
{
	struct account_walk	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->arr = json_array()) == NULL) {
		free(w);
		(void)admin_fail_internal(err, PDS_ENOMEM);
		return NULL;
	}
	return w;
}

/*
 * End the walk w: with rc PDS_OK (the store's walk went well), its
 * page {accounts, cursor?} into *out; w is freed either way.
 */
static int
account_page(json_t **out, struct account_walk *w, int rc, size_t limit,
    bool by_did, struct admin_err *err)
{
	char	 cur[SA_DID_MAX + STORE_TS_LEN + 2];

	if (rc == PDS_OK && (*out = json_pack("{s:o}", "accounts",
	    w->arr)) == NULL)
		rc = admin_fail_internal(err, PDS_ENOMEM);
	if (rc == PDS_OK && w->n == limit) {
		if (by_did)
			snprintf(cur, sizeof(cur), "%s", w->last.did);
		else
			store_admin_cursor(&w->last, cur, sizeof(cur));
		json_object_set_new(*out, "cursor", json_string(cur));
	}
	if (rc != PDS_OK)
		json_decref(w->arr);
	free(w);
	return rc;
}

/* A status filter the admin may ask for: NULL or a known, listed one. */
static int
account_status_arg(const char *status, enum acct_status *st,
    struct admin_err *err)
{
	if (status != NULL && (acct_status_parse(status, st) != PDS_OK ||
	    *st == ACCT_DELETED))
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "status must be active, deactivated or takendown");
	return PDS_OK;
}

int
admin_account_list(const char *status, const char *cursor, size_t limit,
    json_t **out, struct admin_err *err)
{
	struct account_walk	*w;
	enum acct_status	 st;
	int			 rc;

	*out = NULL;
	limit = admin_page_limit(limit);
	if ((rc = account_status_arg(status, &st, err)) != PDS_OK)
		return rc;
	if ((w = account_walk_new(err)) == NULL)
		return PDS_ENOMEM;
	rc = store_admin_account_list(status != NULL ? &st : NULL, cursor,
	    limit, account_add, w);
	if (rc == PDS_EINVAL)
		rc = admin_fail(err, rc, AP_E_INVALID_ARGUMENT, NULL,
		    "malformed cursor");
	else if (rc != PDS_OK)
		rc = admin_fail_internal(err, rc);
	return account_page(out, w, rc, limit, false, err);
}

int
admin_account_search(const char *q, const char *status, const char *cursor,
    size_t limit, json_t **out, struct admin_err *err)
{
	struct account_walk	*w;
	enum acct_status	 st;
	int			 rc;

	*out = NULL;
	limit = admin_page_limit(limit);
	if (q == NULL || *q == '\0' || strlen(q) > SA_DID_MAX)
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "a search term is required");
	if ((rc = account_status_arg(status, &st, err)) != PDS_OK)
		return rc;
	if ((w = account_walk_new(err)) == NULL)
		return PDS_ENOMEM;
	rc = store_admin_account_search(q, status != NULL ? &st : NULL,
	    cursor, limit, account_add, w);
	if (rc != PDS_OK)
		rc = admin_fail_internal(err, rc);
	return account_page(out, w, rc, limit, true, err);
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
	struct pds_error	 ae;
	char			 gen[ADMIN_PASSWORD_GEN_LEN + 1];
	json_t			*d;
	int			 rc;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	memset(&ae, 0, sizeof(ae));
	if (handle == NULL || *handle == '\0')
		return admin_audited(actor, "account.create", handle, reason,
		    admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
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
		admin_audited(actor, "account.create", handle, reason, rc, err,
		    d);
		json_decref(d);
		return rc;
	}
	json_decref(c.did_doc);
	*out = json_pack("{s:s,s:s}", "did", c.did, "handle", c.handle);
	if (*out != NULL && gen[0] != '\0')
		json_object_set_new(*out, "password", json_string(gen));
	sodium_memzero(gen, sizeof(gen));
	d = json_pack("{s:s}", "handle", c.handle);
	admin_audited(actor, "account.create", c.did, reason, PDS_OK, NULL, d);
	json_decref(d);
	return *out != NULL ? PDS_OK : admin_fail_internal(err, PDS_ENOMEM);
}

int
admin_account_delete(const struct admin_actor *actor, const char *who,
    const char *reason, struct admin_err *err)
{
	struct store_account	 a;
	int			 rc;

	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return admin_audited(actor, "account.delete", who, reason, rc,
		    err, NULL);
	/*
	 * The deletion every path shares: rows and #account "deleted" in
	 * one transaction, then the repo writer's cache, the resolver's
	 * and the blob files.
	 */
	if ((rc = migration_account_purge(a.did, true)) != PDS_OK) {
		rc = rc == PDS_ENOTFOUND ? admin_fail(err, rc,
		    AP_E_NO_SUCH_ACCOUNT, "AccountNotFound",
		    "no such account: %s", who) : admin_fail_internal(err, rc);
		return admin_audited(actor, "account.delete", a.did, reason, rc,
		    err, NULL);
	}
	return admin_audited(actor, "account.delete", a.did, reason, PDS_OK,
	    NULL, NULL);
}

int
admin_account_takedown(const struct admin_actor *actor, const char *who,
    bool applied, const char *ref, const char *reason, struct admin_err *err)
{
	const char		*action = applied ? "account.takedown" :
				    "account.untakedown";
	struct store_account	 a;
	struct pds_error	 ae;
	char			 now[STORE_TS_LEN];
	enum acct_status	 to;
	json_t			*d = NULL;
	int			 rc;

	memset(&ae, 0, sizeof(ae));
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return admin_audited(actor, action, who, reason, rc, err, NULL);
	if ((rc = admin_takedown_ref(applied, &ref, now, err)) != PDS_OK)
		return admin_audited(actor, action, a.did, reason, rc, err,
		    NULL);
	if (applied) {
		rc = account_set_status(a.did, ACCT_TAKENDOWN, ref, &ae);
		d = json_pack("{s:s}", "ref", ref);
	} else if (a.status != ACCT_TAKENDOWN) {
		/* nothing to undo; say so but succeed (idempotent) */
		d = json_pack("{s:b}", "unchanged", 1);
		rc = PDS_OK;
	} else {
		/* a deactivation from before the takedown comes back */
		to = a.deactivated_at[0] ? ACCT_DEACTIVATED : ACCT_ACTIVE;
		rc = account_set_status(a.did, to, NULL, &ae);
		d = json_pack("{s:s}", "status", acct_status_name(to));
	}
	if (rc != PDS_OK)
		rc = from_acct(err, rc, &ae);
	admin_audited(actor, action, a.did, reason, rc, err, d);
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
	struct pds_error	 ae;
	int			 rc;

	memset(&ae, 0, sizeof(ae));
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return admin_audited(actor, action, who, reason, rc, err, NULL);
	if (a.status == ACCT_TAKENDOWN)
		return admin_audited(actor, action, a.did, reason,
		    admin_fail(err, PDS_EINVAL, AP_E_ACCOUNT_TAKENDOWN,
		    "AccountTakedown",
		    "%s is taken down; reverse the takedown first", a.did), err,
		    NULL);
	rc = account_set_status(a.did, deactivate ? ACCT_DEACTIVATED :
	    ACCT_ACTIVE, NULL, &ae);
	if (rc != PDS_OK)
		rc = from_acct(err, rc, &ae);
	return admin_audited(actor, action, a.did, reason, rc, err, NULL);
}

int
admin_account_set_handle(const struct admin_actor *actor, const char *who,
    const char *handle, const char *reason, struct admin_err *err)
{
	struct store_account	 a;
	struct pds_error	 ae;
	json_t			*d;
	int			 rc;

	memset(&ae, 0, sizeof(ae));
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return admin_audited(actor, "account.set-handle", who, reason,
		    rc, err, NULL);
	if (handle == NULL || *handle == '\0')
		rc = admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "a handle is required");
	else if ((rc = account_set_handle(a.did, handle,
	    ACCOUNT_HANDLE_ADMIN, &ae)) != PDS_OK)
		rc = from_acct(err, rc, &ae);
	d = json_pack("{s:s,s:s}", "from", a.handle, "to",
	    handle != NULL ? handle : "");
	admin_audited(actor, "account.set-handle", a.did, reason, rc, err, d);
	json_decref(d);
	return rc;
}

int
admin_account_set_email(const struct admin_actor *actor, const char *who,
    const char *email, const char *reason, struct admin_err *err)
{
	struct store_account	 a;
	struct pds_error	 ae;
	char			 norm[SA_EMAIL_MAX + 1];
	bool			 taken = false;
	int			 rc;

	memset(&ae, 0, sizeof(ae));
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return admin_audited(actor, "account.set-email", who, reason,
		    rc, err, NULL);
	if (email == NULL ||
	    (rc = account_email_check(email, norm, sizeof(norm), &ae)) !=
	    PDS_OK) {
		if (email == NULL)
			rc = admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
			    NULL, "an email address is required");
		else
			rc = from_acct(err, rc, &ae);
		return admin_audited(actor, "account.set-email", a.did, reason,
		    rc, err, NULL);
	}
	if (strcmp(norm, a.email) != 0) {
		if ((rc = store_account_email_taken(norm, &taken)) != PDS_OK)
			rc = admin_fail_internal(err, rc);
		else if (taken)
			rc = admin_fail(err, PDS_EEXIST, AP_E_ALREADY_EXISTS,
			    "EmailNotAvailable", "email already in use");
		else if ((rc = store_account_set_email(a.did, norm)) ==
		    PDS_EEXIST)
			rc = admin_fail(err, rc, AP_E_ALREADY_EXISTS,
			    "EmailNotAvailable", "email already in use");
		else if (rc != PDS_OK)
			rc = admin_fail_internal(err, rc);
	}
	return admin_audited(actor, "account.set-email", a.did, reason, rc, err,
	    NULL);
}

int
admin_account_set_password(const struct admin_actor *actor, const char *who,
    const char *password, const char *reason, json_t **out,
    struct admin_err *err)
{
	struct store_account	 a;
	struct pds_error	 ae;
	char			 gen[ADMIN_PASSWORD_GEN_LEN + 1];
	int			 rc;

	*out = NULL;
	memset(&ae, 0, sizeof(ae));
	if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
		return admin_audited(actor, "account.reset-password", who,
		    reason, rc, err, NULL);
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
		rc = admin_fail_internal(err, PDS_ENOMEM);
	return admin_audited(actor, "account.reset-password", a.did, reason, rc,
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
		return admin_audited(actor, action, who, reason, rc, err, NULL);
	if ((rc = store_account_set_invites_disabled(a.did, !enabled)) !=
	    PDS_OK)
		rc = admin_fail_internal(err, rc);
	return admin_audited(actor, action, a.did, reason, rc, err, NULL);
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
		return admin_audited(actor, "invite.create", NULL, reason,
		    admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "uses must be 1 to %d", ACCOUNT_INVITE_MAX_USES), err,
		    NULL);
	if (count < 1 || count > ADMIN_INVITE_COUNT_MAX)
		return admin_audited(actor, "invite.create", NULL, reason,
		    admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "count must be 1 to %d", ADMIN_INVITE_COUNT_MAX), err,
		    NULL);
	if (for_account != NULL && *for_account != '\0') {
		if ((rc = admin_account_resolve(for_account, &a, err)) !=
		    PDS_OK)
			return admin_audited(actor, "invite.create",
			    for_account, reason, rc, err, NULL);
		forwho = a.did;
	}
	if ((codes = json_array()) == NULL)
		return admin_fail_internal(err, PDS_ENOMEM);
	for (i = 0; i < count; i++) {
		rc = account_invite_create(uses, forwho, "admin", code,
		    sizeof(code));
		if (rc != PDS_OK) {
			rc = admin_fail_internal(err, rc);
			break;
		}
		json_array_append_new(codes, json_string(code));
	}
	d = json_pack("{s:I,s:I,s:O}", "uses", (json_int_t)uses, "count",
	    (json_int_t)json_array_size(codes), "codes", codes);
	admin_audited(actor, "invite.create", forwho, reason, rc, err, d);
	json_decref(d);
	if (rc != PDS_OK) {
		json_decref(codes);
		return rc;
	}
	*out = json_pack("{s:s,s:o}", "account", forwho, "codes", codes);
	return *out != NULL ? PDS_OK : admin_fail_internal(err, PDS_ENOMEM);
}

int
admin_invite_list(const char *sort, const char *for_account,
    bool include_disabled, const char *cursor, size_t limit, json_t **out,
    struct admin_err *err)
{
	struct store_account	 a;
	enum store_invite_sort	 s = SI_SORT_RECENT;
	const char		*forwho = NULL;
	unsigned long long	 off = 0;
	json_t			*codes;
	size_t			 n;
	char			*end, buf[32];
	int			 rc;

	*out = NULL;
	limit = admin_page_limit(limit);
	if (sort != NULL && strcmp(sort, "usage") == 0)
		s = SI_SORT_USAGE;
	else if (sort != NULL && strcmp(sort, "recent") != 0)
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "sort must be recent or usage");
	if (cursor != NULL && *cursor != '\0') {
		off = strtoull(cursor, &end, 10);
		if (*end != '\0' || off > 100000000)
			return admin_fail(err, PDS_EINVAL,
			    AP_E_INVALID_ARGUMENT, NULL, "malformed cursor");
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
	if ((codes = json_array()) == NULL)
		return admin_fail_internal(err, PDS_ENOMEM);
	rc = store_admin_invite_list(s, forwho, include_disabled, (size_t)off,
	    limit, account_invite_add, codes);
	if (rc != PDS_OK) {
		json_decref(codes);
		return admin_fail_internal(err, rc);
	}
	/* one code per row */
	n = json_array_size(codes);
	*out = json_pack("{s:o}", "codes", codes);
	if (*out == NULL)
		return admin_fail_internal(err, PDS_ENOMEM);
	if (n == limit) {
		snprintf(buf, sizeof(buf), "%llu", off + n);
		json_object_set_new(*out, "cursor", json_string(buf));
	}
	return PDS_OK;
}

/*
 * The audit subject of invite.disable: whose codes they were, as
 * invite.create names them ("admin" or a DID), distinct owners joined
 * by ", ", then "+N more" once subj is full.  Never the codes
 * themselves: a read-only reader of the audit log must not get one.
 */
static void
owner_add(char *subj, size_t cap, size_t *more, const char *owner)
{
	size_t	 n = strlen(subj), o = strlen(owner);
	char	*p;

	for (p = strstr(subj, owner); p != NULL; p = strstr(p + 1, owner))
		if ((p == subj || p[-1] == ' ') &&
		    (p[o] == '\0' || p[o] == ','))
			return;
	if (n + o + 2 + 16 >= cap) {
		(*more)++;
		return;
	}
	snprintf(subj + n, cap - n, "%s%s", n > 0 ? ", " : "", owner);
}

int
admin_invite_disable(const struct admin_actor *actor, const json_t *codes,
    const json_t *accounts, const char *reason, struct admin_err *err)
{
	struct store_account	 a;
	json_t			*v, *d;
	char			 subj[256];
	size_t			 i, more = 0;
	int64_t			 n, total = 0;
	int			 rc = PDS_OK;

	subj[0] = '\0';
	if ((codes != NULL && !json_is_array(codes)) ||
	    (accounts != NULL && !json_is_array(accounts)))
		return admin_audited(actor, "invite.disable", NULL, reason,
		    admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "codes and accounts must be arrays"), err, NULL);
	if (json_array_size(codes) + json_array_size(accounts) == 0)
		return admin_audited(actor, "invite.disable", NULL, reason,
		    admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "name at least one code or account"), err, NULL);
	/* Check everything first, so that a typo changes nothing. */
	json_array_foreach(codes, i, v) {
		struct store_invite inv;

		if (!json_is_string(v) ||
		    json_string_length(v) > SA_CODE_MAX)
			rc = admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
			    NULL, "codes must be strings");
		else if ((rc = store_invite_get(json_string_value(v),
		    &inv)) == PDS_ENOTFOUND)
			rc = admin_fail(err, rc, AP_E_NO_SUCH_INVITE,
			    "NotFound", "no such invite code: %s",
			    json_string_value(v));
		else if (rc != PDS_OK)
			rc = admin_fail_internal(err, rc);
		if (rc != PDS_OK)
			break;
		owner_add(subj, sizeof(subj), &more, inv.for_account[0] ?
		    inv.for_account : "admin");
	}
	if (rc == PDS_OK)
		json_array_foreach(accounts, i, v) {
			if (!json_is_string(v))
				rc = admin_fail(err, PDS_EINVAL,
				    AP_E_INVALID_ARGUMENT, NULL,
				    "accounts must be strings");
			else
				rc = admin_account_resolve(
				    json_string_value(v), &a, err);
			if (rc != PDS_OK)
				break;
			owner_add(subj, sizeof(subj), &more, a.did);
		}
	if (more > 0) {
		i = strlen(subj);
		snprintf(subj + i, sizeof(subj) - i, " +%zu more", more);
	}
	if (rc == PDS_OK && (rc = store_begin()) != PDS_OK)
		rc = admin_fail_internal(err, rc);
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
		rc = store_end(rc);
		if (rc != PDS_OK)
			rc = admin_fail_internal(err, rc);
	}
	d = json_pack("{s:O?,s:O?,s:I}", "codes", codes, "accounts", accounts,
	    "disabled", (json_int_t)total);
	admin_audited(actor, "invite.disable", subj[0] ? subj : NULL, reason,
	    rc, err, d);
	json_decref(d);
	return rc;
}

