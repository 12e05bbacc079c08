/*
 * admin_service: the operations behind pdsctl, pdstui and the admin
 * XRPC methods.  See admin_service.h.
 *
 * This file holds what they share (actors, errors, the audit trail)
 * and the operations on content and the server: takedowns of records
 * and blobs, subject status, stats and crawl requests.  The account
 * and invite-code operations are in admin_accounts.c.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "admin_service.h"
#include "blobs.h"
#include "admin_service_int.h"
#include "adminproto.h"
#include "clock.h"
#include "config.h"
#include "crawlers.h"
#include "err.h"
#include "log.h"
#include "outbound.h"
#include "stats.h"
#include "store.h"
#include "store_admin.h"
#include "syntax.h"

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

int
admin_fail(struct admin_err *err, int code, const char *name, const char *xname,
    const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL)
		return code;
	switch (code) {
	case PDS_EINVAL:
	case PDS_ETOOBIG:
	case PDS_EEXIST:
	case PDS_ENOTFOUND:
	case PDS_EUPSTREAM:
		err->e.code = code;
		break;
	default:
		err->e.code = PDS_EINTERNAL;
		break;
	}
	err->e.name = xname;
	err->e.msg[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(err->e.msg, sizeof(err->e.msg), fmt, ap);
		va_end(ap);
	}
	err->name = name;
	return code;
}

const struct pds_error *
admin_error_settle(struct admin_err *err, int rc)
{
	if (err->e.code == PDS_OK)
		(void)admin_fail(err, rc, err->name, NULL, NULL);
	return &err->e;
}

int
admin_fail_internal(struct admin_err *err, int code)
{
	if (code == PDS_OK)
		code = PDS_EINTERNAL;
	return admin_fail(err, code, AP_E_INTERNAL, NULL, "internal error: %s",
	    pds_strerror(code));
}

void
admin_json_text(json_t *o, const char *key, const char *s)
{
	if (s[0] != '\0')
		json_object_set_new(o, key, json_string(s));
}

size_t
admin_page_limit(size_t limit)
{
	return limit == 0 ? 100 : limit > ADMIN_LIST_MAX ? ADMIN_LIST_MAX :
	    limit;
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

int
admin_audited(const struct admin_actor *actor, const char *action,
    const char *subject, const char *reason, int rc,
    const struct admin_err *err, const json_t *detail)
{
	admin_audit(actor, action, subject, reason,
	    rc == PDS_OK ? "ok" : "failed",
	    rc == PDS_OK || err == NULL ? NULL : err->name, detail);
	return rc;
}

static int
audit_row(void *arg, const struct store_audit *a)
{
	json_t		*e, *d = NULL;
	json_error_t	 jerr;

	e = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)a->id, "at",
	    a->at, "actor", a->actor, "action", a->action);
	if (e == NULL)
		return PDS_ENOMEM;
	admin_json_text(e, "subject", a->subject);
	admin_json_text(e, "subjectHandle", a->subject_handle);
	admin_json_text(e, "reason", a->reason);
	if (a->detail[0] && (d = json_loads(a->detail, 0, &jerr)) != NULL) {
		json_object_set(e, "outcome", json_object_get(d, "outcome") ?
		    json_object_get(d, "outcome") : json_string("ok"));
		json_object_set_new(e, "detail", d);
	}
	return json_array_append_new(arg, e) == 0 ? 0 : PDS_ENOMEM;
}

int
admin_audit_list(const char *since, int64_t after_id, size_t limit,
    json_t **out, struct admin_err *err)
{
	json_t	*entries;
	size_t	 n;
	int	 rc;

	*out = NULL;
	if (limit == 0 || limit > ADMIN_LIST_MAX)
		limit = ADMIN_LIST_MAX;
	if (since != NULL && !syntax_datetime_shape(since, strlen(since)) &&
	    strlen(since) != 10)
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "since must be a date (2024-01-31) or an ISO 8601 time");
	if ((entries = json_array()) == NULL)
		return admin_fail_internal(err, PDS_ENOMEM);
	if ((rc = store_audit_list(since, after_id, limit, audit_row,
	    entries)) != PDS_OK) {
		json_decref(entries);
		return admin_fail_internal(err, rc);
	}
	/* the next page starts after the last entry, or where this one did */
	if ((n = json_array_size(entries)) > 0)
		after_id = json_integer_value(json_object_get(
		    json_array_get(entries, n - 1), "id"));
	*out = json_pack("{s:o,s:I}", "entries", entries, "cursor",
	    (json_int_t)after_id);
	return *out != NULL ? PDS_OK : admin_fail_internal(err, PDS_ENOMEM);
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
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "not an AT-URI: %s", in != NULL ? in : "(none)");
	auth = in + 5;
	if ((rest = strchr(auth, '/')) == NULL ||
	    strchr(rest + 1, '/') == NULL || strchr(rest, '#') != NULL ||
	    strchr(rest, '?') != NULL)
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "the AT-URI must name a record: "
		    "at://<did>/<collection>/<rkey>");
	n = (size_t)(rest - auth);
	if (n >= sizeof(who))
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "authority too long");
	memcpy(who, auth, n);
	who[n] = '\0';
	if (strncmp(who, "did:", 4) != 0) {
		if ((rc = admin_account_resolve(who, &a, err)) != PDS_OK)
			return rc;
		snprintf(who, sizeof(who), "%s", a.did);
	}
	if ((size_t)snprintf(out, cap, "at://%s%s", who, rest) >= cap)
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "AT-URI too long");
	return PDS_OK;
}

int
admin_takedown_ref(bool applied, const char **ref, char *now,
    struct admin_err *err)
{
	if (applied && (*ref == NULL || **ref == '\0')) {
		store_timestamp(now);
		*ref = now;
	}
	if (*ref != NULL && strlen(*ref) >= SA_REF_MAX)
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "takedown reference too long");
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
		return admin_audited(actor, action, uri, reason, rc, err, NULL);
	if ((rc = admin_takedown_ref(applied, &ref, now, err)) != PDS_OK)
		return admin_audited(actor, action, u, reason, rc, err, NULL);
	rc = store_record_takedown_set(u, applied ? ref : NULL);
	if (rc == PDS_ENOTFOUND)
		rc = admin_fail(err, rc, AP_E_NO_SUCH_RECORD, "RecordNotFound",
		    "no such record: %s", u);
	else if (rc != PDS_OK)
		rc = admin_fail_internal(err, rc);
	return admin_audited(actor, action, u, reason, rc, err, NULL);
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
		return admin_audited(actor, action, subj, reason,
		    admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "not a CID: %s", cid != NULL ? cid : "(none)"), err, NULL);
	if ((rc = admin_account_resolve(did, &a, err)) != PDS_OK)
		return admin_audited(actor, action, subj, reason, rc, err,
		    NULL);
	snprintf(subj, sizeof(subj), "%s/%s", a.did, cid);
	if ((rc = admin_takedown_ref(applied, &ref, now, err)) != PDS_OK)
		return admin_audited(actor, action, subj, reason, rc, err,
		    NULL);
	rc = store_blob_takedown_set(a.did, cid, applied ? ref : NULL);
	if (rc == PDS_OK)	/* the row first: it alone hides the blob */
		rc = blobs_quarantine(a.did, cid, applied);
	if (rc == PDS_ENOTFOUND)
		rc = admin_fail(err, rc, AP_E_NO_SUCH_BLOB, "BlobNotFound",
		    "no such blob: %s", subj);
	else if (rc == PDS_EBUSY || rc == PDS_EUPSTREAM)
		rc = admin_fail(err, rc, AP_E_INTERNAL, NULL, "the takedown "
		    "is recorded but the blob store could not move the blob "
		    "(see pdsctl stats); run the command again");
	else if (rc != PDS_OK)
		rc = admin_fail_internal(err, rc);
	return admin_audited(actor, action, subj, reason, rc, err, NULL);
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
			return admin_fail(err, rc, AP_E_NO_SUCH_RECORD,
			    "NotFound", "no such record: %s", u);
		if (rc != PDS_OK)
			return admin_fail_internal(err, rc);
		*out = json_pack("{s:{s:s,s:s,s:s},s:o}", "subject", "$type",
		    "com.atproto.repo.strongRef", "uri", u, "cid", rcid,
		    "takedown", takedown_json(ref));
	} else if (did != NULL && *did != '\0' && cid != NULL &&
	    *cid != '\0') {
		if ((rc = admin_account_resolve(did, &a, err)) != PDS_OK)
			return rc;
		rc = store_blob_takedown_get(a.did, cid, ref, sizeof(ref));
		if (rc == PDS_ENOTFOUND)
			return admin_fail(err, rc, AP_E_NO_SUCH_BLOB,
			    "NotFound", "no such blob: %s/%s", a.did, cid);
		if (rc != PDS_OK)
			return admin_fail_internal(err, rc);
		*out = json_pack("{s:{s:s,s:s,s:s},s:o}", "subject", "$type",
		    "com.atproto.admin.defs#repoBlobRef", "did", a.did, "cid",
		    cid, "takedown", takedown_json(ref));
	} else if (did != NULL && *did != '\0') {
		if ((rc = admin_account_resolve(did, &a, err)) != PDS_OK) {
			if (err != NULL && rc == PDS_ENOTFOUND)
				err->e.name = "NotFound";
			return rc;
		}
		*out = json_pack("{s:{s:s,s:s},s:o,s:{s:b}}", "subject",
		    "$type", "com.atproto.admin.defs#repoRef", "did", a.did,
		    "takedown", takedown_json(a.status == ACCT_TAKENDOWN ?
		    (a.takedown_ref[0] ? a.takedown_ref : "takedown") : ""),
		    "deactivated", "applied", a.deactivated_at[0] != '\0');
	} else
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "a did, a uri, or a did and a blob cid are required");
	return *out != NULL ? PDS_OK : admin_fail_internal(err, PDS_ENOMEM);
}

/* ---- server ---- */

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
		return admin_fail_internal(err, rc);
	if ((counters = stats_counters_json()) == NULL)
		return admin_fail_internal(err, PDS_ENOMEM);
	store_timestamp(now);
	crawlers_stats(&cs);
	if (cs.last_ok_ms > 0)
		clock_ms_to_iso(cs.last_ok_ms, crawl);
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
	if (*out != NULL)
		json_object_set_new(*out, "blobstore", blobs_health_json());
	return *out != NULL ? PDS_OK : admin_fail_internal(err, PDS_ENOMEM);
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
		return admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "relays must be an array");
	n = json_array_size(relays);
	if (n == 0 && (scfg == NULL || scfg->crawlers.n == 0))
		return admin_audited(actor, "request-crawl", NULL, NULL,
		    admin_fail(err, PDS_EINVAL, AP_E_INVALID_ARGUMENT, NULL,
		    "no relays given and PDS_CRAWLERS is not set"), err, NULL);
	if (n == 0)
		n = scfg->crawlers.n;
	if ((res = json_array()) == NULL)
		return admin_fail_internal(err, PDS_ENOMEM);
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
		return admin_fail_internal(err, PDS_ENOMEM);
	if (failed == (int)n) {
		rc = admin_fail(err, PDS_EUPSTREAM, AP_E_UPSTREAM_FAILURE, NULL,
		    "no relay accepted the request");
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	return PDS_OK;
}
