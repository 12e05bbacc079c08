/*
 * admin_cmds: the admin socket's command table.  One row per command:
 * its name, whether it changes things (then the socket loop has already
 * checked the admin group and audits refusals) or streams, and a handler
 * that reads its arguments and calls admin_service (or backup.c).  No
 * handler implements an operation itself.
 *
 * Arguments are the request's "args" object; every handler names the
 * keys it reads in the table's summary, which pdsctl's grammar mirrors.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "admin_service.h"
#include "admin_socket.h"
#include "adminproto.h"
#include "blobstore.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "events.h"
#include "export.h"
#include "report.h"
#include "firehose.h"
#include "lexicon_resolve.h"
#include "migration.h"
#include "stats.h"
#include "store.h"

#define STATS_WATCH_MIN_MS	200
#define STATS_WATCH_MAX_MS	3600000
#define TAIL_POLL_MS		200	/* between looks at the log */
#define TAIL_SCAN_MS		1000	/* look even if the firehose says no */
#define TAIL_BATCH		100	/* events per tick */
#define TAIL_OUT_MAX		(1 << 20)	/* queued bytes: behind */
#define TAIL_GRACE_MS		1000	/* behind this long: too slow */
#define TAIL_WAIT_MS		20	/* while behind */

/* Every bad argument is refused as "argument <key> <problem>". */
static int
bad_arg(struct admin_call *call, const char *key, const char *problem)
{
	return admin_refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
	    "argument %s %s", key, problem);
}

/*
 * Invite codes shown to a read-only caller (the socket group without
 * the admin group) keep their host part and two of their ten random
 * characters, enough to tell codes apart in a list, not to use one:
 * "pds-example-com-ab***-*****".  Masked in every answer that carries
 * codes (invite.list, account.show, audit): any string under a "code"
 * key, and the strings of a "codes" array.
 */
#define INVITE_RANDOM_TAIL	11	/* "-xxxxx-xxxxx" less the dash */

static json_t *
masked_code(const char *code)
{
	char	 m[256];
	size_t	 n = strlen(code), keep, i;

	if (n >= sizeof(m))
		n = sizeof(m) - 1;
	keep = n > INVITE_RANDOM_TAIL ? n - INVITE_RANDOM_TAIL + 2 : 2;
	for (i = 0; i < n; i++)
		m[i] = i < keep || code[i] == '-' ? code[i] : '*';
	m[n] = '\0';
	return json_string(m);
}

static void
mask_invite_codes(json_t *v)
{
	const char	*k;
	json_t		*e;
	size_t		 i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			mask_invite_codes(e);
		return;
	}
	if (!json_is_object(v))
		return;
	json_object_foreach(v, k, e) {
		if (strcmp(k, "code") == 0 && json_is_string(e))
			json_object_set_new(v, k,
			    masked_code(json_string_value(e)));
		else if (strcmp(k, "codes") == 0 && json_is_array(e)) {
			for (i = 0; i < json_array_size(e); i++)
				if (json_is_string(json_array_get(e, i)))
					json_array_set_new(e, i, masked_code(
					    json_string_value(
					    json_array_get(e, i))));
				else
					mask_invite_codes(json_array_get(e, i));
		} else
			mask_invite_codes(e);
	}
}

/* A read command's answer for its caller: rc, with codes masked. */
static int
for_caller(struct admin_call *call, int rc)
{
	if (rc == PDS_OK && !call->can_mutate && call->result != NULL)
		mask_invite_codes(call->result);
	return rc;
}

/* A string argument: *out NULL when absent and not required. */
static int
arg_str(struct admin_call *call, const char *key, bool required,
    const char **out)
{
	const json_t	*v = json_object_get(call->args, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return bad_arg(call, key, "is required");
		return PDS_OK;
	}
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad_arg(call, key, "must be a string");
	*out = json_string_value(v);
	if (required && **out == '\0')
		return bad_arg(call, key, "must not be empty");
	return PDS_OK;
}

static int
arg_int(struct admin_call *call, const char *key, int64_t def, int64_t min,
    int64_t max, int64_t *out)
{
	const json_t	*v = json_object_get(call->args, key);
	char		 what[96];

	*out = def;
	if (v == NULL || json_is_null(v))
		return PDS_OK;
	snprintf(what, sizeof(what), "must be %s %lld to %lld",
	    json_is_integer(v) ? "from" : "an integer from", (long long)min,
	    (long long)max);
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return bad_arg(call, key, what);
	*out = json_integer_value(v);
	return PDS_OK;
}

static int
arg_bool(struct admin_call *call, const char *key, bool *out)
{
	const json_t	*v = json_object_get(call->args, key);

	*out = false;
	if (v == NULL || json_is_null(v))
		return PDS_OK;
	if (!json_is_boolean(v))
		return bad_arg(call, key, "must be true or false");
	*out = json_is_true(v);
	return PDS_OK;
}

static json_t *
ok_obj(void)
{
	return json_object();
}

/* ---- server ---- */

static int
cmd_server_info(struct admin_call *call)
{
	const struct admin_cmd	*t;
	json_t			*cmds, *e;
	size_t			 i, n;

	t = admin_cmd_table(&n);
	if ((cmds = json_array()) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < n; i++) {
		e = json_pack("{s:s,s:b,s:b,s:s}", "name", t[i].name,
		    "mutating", (t[i].flags & ACMD_MUTATE) != 0, "stream",
		    (t[i].flags & ACMD_STREAM) != 0, "summary", t[i].summary);
		json_array_append_new(cmds, e);
	}
	call->result = json_pack("{s:s,s:i,s:s,s:s,s:b,s:o}", "version",
	    PDSD_VERSION, "protocol", ADMINPROTO_VERSION, "socket",
	    admin_socket_path() ? admin_socket_path() : "", "actor",
	    call->actor->name, "canMutate", call->can_mutate, "commands",
	    cmds);
	return call->result != NULL ? PDS_OK : PDS_ENOMEM;
}

static int
cmd_stats(struct admin_call *call)
{
	return admin_stats(&call->result, &call->err);
}

struct watch {
	int64_t	 interval;
	int64_t	 left;		/* events still to send; -1: unlimited */
};

static enum admin_stream_rc
watch_tick(struct admin_call *call, void *state, int *next_ms)
{
	struct watch	*w = state;
	json_t		*s;

	if (admin_stats(&s, &call->err) != PDS_OK)
		return ADMIN_STREAM_ERROR;
	admin_stream_event(call, s);
	json_decref(s);
	if (w->left > 0 && --w->left == 0)
		return ADMIN_STREAM_END;
	*next_ms = (int)w->interval;
	return ADMIN_STREAM_MORE;
}

static void
watch_free(void *state)
{
	free(state);
}

static const struct admin_stream_ops watch_ops = { watch_tick, watch_free };

static int
cmd_stats_watch(struct admin_call *call)
{
	struct watch	*w;
	int64_t		 iv, count;
	int		 rc;

	if ((rc = arg_int(call, "interval_ms", 1000, STATS_WATCH_MIN_MS,
	    STATS_WATCH_MAX_MS, &iv)) != PDS_OK ||
	    (rc = arg_int(call, "count", 0, 0, INT32_MAX, &count)) != PDS_OK)
		return rc;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return PDS_ENOMEM;
	w->interval = iv;
	w->left = count > 0 ? count : -1;
	call->stream = &watch_ops;
	call->stream_state = w;
	call->first_ms = 0;
	return PDS_OK;
}

static int
cmd_stream_cancel(struct admin_call *call)
{
	int64_t	 id;
	int	 rc;

	if ((rc = arg_int(call, "id", -1, 0, ADMINPROTO_ID_MAX - 1, &id)) !=
	    PDS_OK)
		return rc;
	if (id < 0)
		return bad_arg(call, "id", "is required");
	call->cancel_id = id;
	call->result = json_pack("{s:I,s:b}", "id", (json_int_t)id,
	    "cancelled", 0);
	return call->result != NULL ? PDS_OK : PDS_ENOMEM;
}

static int
cmd_firehose_subscribers(struct admin_call *call)
{
	json_t	*subs = stats_subs_json();

	if (subs == NULL)
		return PDS_ENOMEM;
	call->result = json_pack("{s:o}", "subscribers", subs);
	return call->result != NULL ? PDS_OK : PDS_ENOMEM;
}

/*
 * firehose.tail: new events from the log, read on the admin thread, so
 * the firehose's fan-out is untouched.  The firehose's head (an atomic)
 * says when there is something to read.  No more is read while the
 * client has more than TAIL_OUT_MAX bytes unread; one that stays behind
 * for TAIL_GRACE_MS is dropped from the stream (ConsumerTooSlow).
 */
struct tail {
	int64_t	 last;		/* the last seq sent */
	int64_t	 left;		/* events still to send; -1: unlimited */
	int64_t	 behind_ms;	/* since when it is behind; 0: it is not */
	int	 idle_ms;	/* since the last scan */
};

struct tail_emit {
	struct admin_call	*call;
	struct tail		*t;
};

static int
tail_emit(void *arg, json_t *ev)
{
	struct tail_emit	*e = arg;

	if (admin_stream_event(e->call, ev) != PDS_OK)
		return PDS_ETOOBIG;
	if (e->t->left > 0 && --e->t->left == 0)
		return 1;	/* done */
	if (admin_stream_pending(e->call) > TAIL_OUT_MAX)
		return 1;	/* let it drain until the next tick */
	return 0;
}

static enum admin_stream_rc
tail_tick(struct admin_call *call, void *state, int *next_ms)
{
	struct tail		*t = state;
	struct tail_emit	 e;
	struct firehose_stats	 fs;
	size_t			 n = 0;
	int			 rc;

	if (admin_stream_pending(call) > TAIL_OUT_MAX) {
		if (t->behind_ms == 0)
			t->behind_ms = clock_mono_ms();
		if (clock_mono_ms() - t->behind_ms < TAIL_GRACE_MS) {
			*next_ms = TAIL_WAIT_MS;
			return ADMIN_STREAM_MORE;
		}
		(void)admin_refuse(call, PDS_EBUSY, AP_E_TOO_SLOW,
		    "%zu bytes of the tail unread for %d ms; dropped from the "
		    "stream", admin_stream_pending(call), TAIL_GRACE_MS);
		return ADMIN_STREAM_ERROR;
	}
	t->behind_ms = 0;
	firehose_stats(&fs);
	if (fs.head_seq > 0 && fs.head_seq <= t->last &&
	    t->idle_ms < TAIL_SCAN_MS) {
		t->idle_ms += TAIL_POLL_MS;
		*next_ms = TAIL_POLL_MS;
		return ADMIN_STREAM_MORE;
	}
	t->idle_ms = 0;
	e.call = call;
	e.t = t;
	rc = events_tail(t->last, TAIL_BATCH, tail_emit, &e, &t->last, &n);
	if (rc != PDS_OK && rc != 1) {
		(void)admin_refuse(call, rc, AP_E_INTERNAL,
		    "reading the event log: %s", pds_strerror(rc));
		return ADMIN_STREAM_ERROR;
	}
	/* no result at the end: the events are the output */
	if (t->left == 0)
		return ADMIN_STREAM_END;
	*next_ms = n == TAIL_BATCH || rc == 1 ? 0 : TAIL_POLL_MS;
	return ADMIN_STREAM_MORE;
}

static const struct admin_stream_ops tail_ops = { tail_tick, watch_free };

static int
cmd_firehose_tail(struct admin_call *call)
{
	struct tail	*t;
	int64_t		 after, count, head;
	int		 rc;

	if ((rc = arg_int(call, "after", -1, 0, INT64_MAX, &after)) !=
	    PDS_OK ||
	    (rc = arg_int(call, "count", 0, 0, INT32_MAX, &count)) != PDS_OK)
		return rc;
	if (after < 0) {
		if ((rc = events_head(&head)) != PDS_OK)
			return admin_refuse(call, rc, AP_E_INTERNAL,
			    "reading the event log: %s", pds_strerror(rc));
		after = head;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return PDS_ENOMEM;
	t->last = after;
	t->left = count > 0 ? count : -1;
	call->stream = &tail_ops;
	call->stream_state = t;
	call->first_ms = 0;
	return PDS_OK;
}

static int
cmd_request_crawl(struct admin_call *call)
{
	const json_t	*relays = json_object_get(call->args, "relays");

	if (relays != NULL && !json_is_array(relays))
		return bad_arg(call, "relays", "must be an array");
	return admin_request_crawl(call->actor, relays, &call->result,
	    &call->err);
}

static int
cmd_audit(struct admin_call *call)
{
	const char	*since;
	int64_t		 after, limit;
	int		 rc;

	if ((rc = arg_str(call, "since", false, &since)) != PDS_OK ||
	    (rc = arg_int(call, "after", 0, 0, INT64_MAX, &after)) != PDS_OK ||
	    (rc = arg_int(call, "limit", 100, 1, ADMIN_LIST_MAX, &limit)) !=
	    PDS_OK)
		return rc;
	return for_caller(call, admin_audit_list(since, after, (size_t)limit,
	    &call->result, &call->err));
}

/* ---- accounts ---- */

static int
cmd_account_list(struct admin_call *call)
{
	const char	*status, *cursor, *search;
	int64_t		 limit;
	int		 rc;

	if ((rc = arg_str(call, "status", false, &status)) != PDS_OK ||
	    (rc = arg_str(call, "cursor", false, &cursor)) != PDS_OK ||
	    (rc = arg_str(call, "search", false, &search)) != PDS_OK ||
	    (rc = arg_int(call, "limit", 100, 1, ADMIN_LIST_MAX, &limit)) !=
	    PDS_OK)
		return rc;
	if (search != NULL)
		return admin_account_search(search, status, cursor,
		    (size_t)limit, &call->result, &call->err);
	return admin_account_list(status, cursor, (size_t)limit,
	    &call->result, &call->err);
}

static int
cmd_account_show(struct admin_call *call)
{
	struct store_account	 a;
	const char		*who;
	int			 rc;

	if ((rc = arg_str(call, "account", true, &who)) != PDS_OK ||
	    (rc = admin_account_resolve(who, &a, &call->err)) != PDS_OK)
		return rc;
	if ((rc = admin_account_view(&a, true, &call->result)) != PDS_OK) {
		call->err.name = AP_E_INTERNAL;
		return rc;
	}
	return for_caller(call, admin_account_usage(a.did, call->result,
	    &call->err));
}

static int
cmd_account_create(struct admin_call *call)
{
	const char	*handle, *email, *password, *reason;
	int		 rc;

	if ((rc = arg_str(call, "handle", true, &handle)) != PDS_OK ||
	    (rc = arg_str(call, "email", false, &email)) != PDS_OK ||
	    (rc = arg_str(call, "password", false, &password)) != PDS_OK ||
	    (rc = arg_str(call, "reason", false, &reason)) != PDS_OK)
		return rc;
	return admin_account_create(call->actor, email, handle, password,
	    reason, &call->result, &call->err);
}

/* account + reason, the shape of most account commands */
static int
account_reason(struct admin_call *call, bool need_reason, const char **who,
    const char **reason)
{
	int	 rc;

	if ((rc = arg_str(call, "account", true, who)) != PDS_OK ||
	    (rc = arg_str(call, "reason", need_reason, reason)) != PDS_OK)
		return rc;
	return PDS_OK;
}

static int
done(struct admin_call *call, int rc)
{
	if (rc == PDS_OK && call->result == NULL &&
	    (call->result = ok_obj()) == NULL)
		return PDS_ENOMEM;
	return rc;
}

static int
cmd_account_delete(struct admin_call *call)
{
	const char	*who, *reason;
	int		 rc;

	if ((rc = account_reason(call, true, &who, &reason)) != PDS_OK)
		return rc;
	return done(call, admin_account_delete(call->actor, who, reason,
	    &call->err));
}

static int
cmd_account_takedown(struct admin_call *call)
{
	const char	*who, *reason, *ref;
	bool		 applied = !call->undo;
	int		 rc;

	if ((rc = account_reason(call, applied, &who, &reason)) != PDS_OK ||
	    (rc = arg_str(call, "ref", false, &ref)) != PDS_OK)
		return rc;
	if ((rc = admin_account_takedown(call->actor, who, applied, ref,
	    reason, &call->err)) != PDS_OK)
		return rc;
	return admin_subject_status(who, NULL, NULL, &call->result,
	    &call->err);
}

/*
 * A command of a pair that turns something of an account on and the
 * undoing half off (deactivate/activate, enable-/disable-invites).
 */
static int
account_switch(struct admin_call *call, int (*set)(const struct admin_actor *,
    const char *, bool, const char *, struct admin_err *))
{
	const char	*who, *reason;
	int		 rc;

	if ((rc = account_reason(call, false, &who, &reason)) != PDS_OK)
		return rc;
	return done(call, set(call->actor, who, !call->undo, reason,
	    &call->err));
}

static int
cmd_account_deactivate(struct admin_call *call)
{
	return account_switch(call, admin_account_deactivate);
}

static int
cmd_account_reset_password(struct admin_call *call)
{
	const char	*who, *reason, *pw;
	int		 rc;

	if ((rc = account_reason(call, false, &who, &reason)) != PDS_OK ||
	    (rc = arg_str(call, "password", false, &pw)) != PDS_OK)
		return rc;
	return admin_account_set_password(call->actor, who, pw, reason,
	    &call->result, &call->err);
}

/* An account's value named key (handle, email), set through set. */
static int
account_set(struct admin_call *call, const char *key,
    int (*set)(const struct admin_actor *, const char *, const char *,
    const char *, struct admin_err *))
{
	const char	*who, *reason, *value;
	int		 rc;

	if ((rc = account_reason(call, false, &who, &reason)) != PDS_OK ||
	    (rc = arg_str(call, key, true, &value)) != PDS_OK)
		return rc;
	return done(call, set(call->actor, who, value, reason, &call->err));
}

static int
cmd_account_set_handle(struct admin_call *call)
{
	return account_set(call, "handle", admin_account_set_handle);
}

static int
cmd_account_set_email(struct admin_call *call)
{
	return account_set(call, "email", admin_account_set_email);
}

static int
cmd_account_enable_invites(struct admin_call *call)
{
	return account_switch(call, admin_account_invites_enable);
}

static int
cmd_account_sessions(struct admin_call *call)
{
	const char	*who;
	int		 rc;

	if ((rc = arg_str(call, "account", true, &who)) != PDS_OK)
		return rc;
	return admin_account_sessions(who, &call->result, &call->err);
}

static int
cmd_account_revoke_session(struct admin_call *call)
{
	const char	*who, *reason, *kind, *id;
	bool		 all;
	int		 rc;

	if ((rc = account_reason(call, true, &who, &reason)) != PDS_OK ||
	    (rc = arg_str(call, "kind", false, &kind)) != PDS_OK ||
	    (rc = arg_str(call, "id", false, &id)) != PDS_OK ||
	    (rc = arg_bool(call, "all", &all)) != PDS_OK)
		return rc;
	return admin_account_revoke_session(call->actor, who, kind, id, all,
	    reason, &call->result, &call->err);
}

/* ---- invites ---- */

static int
cmd_invite_create(struct admin_call *call)
{
	const char	*forwho, *reason;
	int64_t		 uses, count;
	int		 rc;

	if ((rc = arg_int(call, "uses", 1, 1, 100000, &uses)) != PDS_OK ||
	    (rc = arg_int(call, "count", 1, 1, ADMIN_INVITE_COUNT_MAX,
	    &count)) != PDS_OK ||
	    (rc = arg_str(call, "for", false, &forwho)) != PDS_OK ||
	    (rc = arg_str(call, "reason", false, &reason)) != PDS_OK)
		return rc;
	return admin_invite_create(call->actor, uses, forwho, count, reason,
	    &call->result, &call->err);
}

static int
cmd_invite_list(struct admin_call *call)
{
	const char	*forwho, *sort, *cursor;
	int64_t		 limit;
	bool		 all;
	int		 rc;

	if ((rc = arg_str(call, "account", false, &forwho)) != PDS_OK ||
	    (rc = arg_str(call, "sort", false, &sort)) != PDS_OK ||
	    (rc = arg_str(call, "cursor", false, &cursor)) != PDS_OK ||
	    (rc = arg_bool(call, "all", &all)) != PDS_OK ||
	    (rc = arg_int(call, "limit", 100, 1, ADMIN_LIST_MAX, &limit)) !=
	    PDS_OK)
		return rc;
	return for_caller(call, admin_invite_list(sort, forwho, all, cursor,
	    (size_t)limit, &call->result, &call->err));
}

static int
cmd_invite_disable(struct admin_call *call)
{
	const json_t	*codes = json_object_get(call->args, "codes");
	const json_t	*accounts = json_object_get(call->args, "accounts");
	const char	*reason;
	int		 rc;

	if ((rc = arg_str(call, "reason", false, &reason)) != PDS_OK)
		return rc;
	return done(call, admin_invite_disable(call->actor, codes, accounts,
	    reason, &call->err));
}

/* ---- records, blobs, subjects ---- */

static int
cmd_record_takedown(struct admin_call *call)
{
	const char	*uri, *reason, *ref;
	bool		 applied = !call->undo;
	int		 rc;

	if ((rc = arg_str(call, "uri", true, &uri)) != PDS_OK ||
	    (rc = arg_str(call, "reason", applied, &reason)) != PDS_OK ||
	    (rc = arg_str(call, "ref", false, &ref)) != PDS_OK)
		return rc;
	if ((rc = admin_record_takedown(call->actor, uri, applied, ref,
	    reason, &call->err)) != PDS_OK)
		return rc;
	return admin_subject_status(NULL, uri, NULL, &call->result,
	    &call->err);
}

static int
cmd_blob_takedown(struct admin_call *call)
{
	const char	*did, *cid, *reason, *ref;
	bool		 applied = !call->undo;
	int		 rc;

	if ((rc = arg_str(call, "did", true, &did)) != PDS_OK ||
	    (rc = arg_str(call, "cid", true, &cid)) != PDS_OK ||
	    (rc = arg_str(call, "reason", applied, &reason)) != PDS_OK ||
	    (rc = arg_str(call, "ref", false, &ref)) != PDS_OK)
		return rc;
	if ((rc = admin_blob_takedown(call->actor, did, cid, applied, ref,
	    reason, &call->err)) != PDS_OK)
		return rc;
	return admin_subject_status(did, NULL, cid, &call->result,
	    &call->err);
}

static int
cmd_subject_status(struct admin_call *call)
{
	const char	*did, *uri, *cid;
	int		 rc;

	if ((rc = arg_str(call, "did", false, &did)) != PDS_OK ||
	    (rc = arg_str(call, "uri", false, &uri)) != PDS_OK ||
	    (rc = arg_str(call, "cid", false, &cid)) != PDS_OK)
		return rc;
	return admin_subject_status(did, uri, cid, &call->result, &call->err);
}

/* ---- the table ---- */

#define M	ACMD_MUTATE
#define S	ACMD_STREAM
#define U	ACMD_UNDO

static const struct admin_cmd cmds[] = {
	{ "server.info", 0, cmd_server_info,
	    "version, protocol, your permissions and the command table" },
	{ "stats", 0, cmd_stats,
	    "counts and rates" },
	{ "stats.watch", S, cmd_stats_watch,
	    "stats every interval_ms (default 1000), count times or forever" },
	{ "stream.cancel", 0, cmd_stream_cancel,
	    "end this connection's stream: {id}" },
	{ "firehose.subscribers", 0, cmd_firehose_subscribers,
	    "the live firehose subscribers" },
	{ "firehose.tail", S, cmd_firehose_tail,
	    "new firehose events {seq, time, type, did, ops}: {after?, "
	    "count?} (default: from now on, forever)" },
	{ "request-crawl", M, cmd_request_crawl,
	    "ask relays to crawl this PDS: {relays?} (default PDS_CRAWLERS)" },
	{ "audit", 0, cmd_audit,
	    "audit log entries: {since?, after?, limit?}" },
	{ "backup", M | S, admin_backup_start,
	    "consistent copy of the database: {dest} (absolute path)" },
	{ "export", M | S, admin_export_start,
	    "members' data into a directory: {dest, accounts? | all, "
	    "secrets?}" },
	{ "import", M | S, admin_import_start,
	    "accounts back from an export directory: {src}" },
	{ "report", 0, admin_report,
	    "a governance report of a period: {since?} (default 30 days)" },
	/*
	 * migration.list is the older name of migration.status: both
	 * answered "which accounts are moving and how far are they", so
	 * one handler serves both.
	 */
	{ "lexicon.show", 0, admin_lexicon_show,
	    "a lexicon's cached document, resolved if need be: {nsid}" },
	{ "lexicon.refresh", M, admin_lexicon_refresh,
	    "resolve a lexicon now, whatever the cache holds: {nsid}" },
	{ "migration.status", 0, migration_cmd_status, "{}" },
	{ "migration.list", 0, migration_cmd_status,
	    "{} (the older name of migration.status)" },
	{ "migration.purge", M, migration_cmd_purge,
	    "{account | all:true, reason?}" },
	{ "account.list", 0, cmd_account_list,
	    "accounts: {status?, search?, cursor?, limit?}" },
	{ "account.show", 0, cmd_account_show,
	    "one account with its repo and blob totals: {account} (DID, "
	    "handle or email)" },
	{ "account.create", M, cmd_account_create,
	    "{handle, email?, password?} (no password: one is generated)" },
	{ "account.delete", M, cmd_account_delete,
	    "delete for good: {account, reason}" },
	{ "account.takedown", M, cmd_account_takedown,
	    "{account, reason, ref?}" },
	{ "account.untakedown", M | U, cmd_account_takedown,
	    "{account, reason?}" },
	{ "account.deactivate", M, cmd_account_deactivate,
	    "{account, reason?}" },
	{ "account.activate", M | U, cmd_account_deactivate,
	    "{account, reason?}" },
	{ "account.reset-password", M, cmd_account_reset_password,
	    "{account, password?} (no password: one is generated)" },
	{ "account.set-handle", M, cmd_account_set_handle,
	    "{account, handle}" },
	{ "account.set-email", M, cmd_account_set_email,
	    "{account, email}" },
	{ "account.enable-invites", M, cmd_account_enable_invites,
	    "{account}" },
	{ "account.disable-invites", M | U, cmd_account_enable_invites,
	    "{account}" },
	{ "account.sessions", 0, cmd_account_sessions,
	    "how an account is signed in: {account} (password sessions, "
	    "app passwords, OAuth grants)" },
	{ "account.revoke-session", M, cmd_account_revoke_session,
	    "{account, kind (session, app-password or oauth), id, reason} | "
	    "{account, all:true, reason}" },
	{ "account.token", M, migration_cmd_account_token,
	    "{account, purpose, reason?}" },
	{ "invite.create", M, cmd_invite_create,
	    "{uses?, count?, for?}" },
	{ "invite.list", 0, cmd_invite_list,
	    "{account?, all?, sort?, cursor?, limit?}" },
	{ "invite.disable", M, cmd_invite_disable,
	    "{codes?, accounts?}" },
	{ "record.takedown", M, cmd_record_takedown,
	    "{uri, reason, ref?}" },
	{ "record.untakedown", M | U, cmd_record_takedown,
	    "{uri, reason?}" },
	{ "blob.takedown", M, cmd_blob_takedown,
	    "{did, cid, reason, ref?}" },
	{ "blob.untakedown", M | U, cmd_blob_takedown,
	    "{did, cid, reason?}" },
	{ "subject.status", 0, cmd_subject_status,
	    "takedown state: {did} | {uri} | {did, cid}" },
	{ "blobstore.migrate", M | S, blobstore_cmd_migrate,
	    "move every blob to a store, online, resumable: {to: s3|disk}" },
};

#undef M
#undef S
#undef U

const struct admin_cmd *
admin_cmd_table(size_t *n)
{
	*n = sizeof(cmds) / sizeof(cmds[0]);
	return cmds;
}

const struct admin_cmd *
admin_cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}
