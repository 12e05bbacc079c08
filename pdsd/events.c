/*
 * events: appending to the event log, and the message encodings.  See
 * events.h.
 *
 * Map keys are written in canonical order (length, then bytes):
 *   #identity	did seq time handle
 *   #account	did seq time active status
 *   #sync	did rev seq time blocks
 *   #info	name message
 *   error	error message
 *   header	t op
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "car.h"
#include "cbor.h"
#include "err.h"
#include "events.h"
#include "firehose.h"
#include "log.h"
#include "store.h"
#include "store_events.h"
#include "tid.h"

#define BODY_MAX	((size_t)8 << 20)

static int
put_kv_str(struct buf *b, const char *k, const char *v)
{
	int	 rc;

	if ((rc = cbor_put_str(b, k)) != PDS_OK)
		return rc;
	return cbor_put_str(b, v);
}

/* The parts of a body around its "seq" entry. */
struct parts {
	struct buf	 head, tail;
};

static void
parts_init(struct parts *p)
{
	buf_init(&p->head, BODY_MAX);
	buf_init(&p->tail, BODY_MAX);
}

static void
parts_free(struct parts *p)
{
	buf_free(&p->head);
	buf_free(&p->tail);
}

static int
parts_join(const struct parts *p, int64_t seq, struct buf *out)
{
	return store_events_join(p->head.p, p->head.len, seq, p->tail.p,
	    p->tail.len, out);
}

static int
identity_parts(struct parts *p, const char *did, const char *handle,
    const char *time)
{
	int	 rc;

	if ((rc = cbor_put_map(&p->head, handle != NULL ? 4 : 3)) != PDS_OK ||
	    (rc = put_kv_str(&p->head, "did", did)) != PDS_OK ||
	    (rc = put_kv_str(&p->tail, "time", time)) != PDS_OK)
		return rc;
	if (handle != NULL)
		rc = put_kv_str(&p->tail, "handle", handle);
	return rc;
}

static int
account_parts(struct parts *p, const char *did, bool active,
    const char *status, const char *time)
{
	int	 rc;

	if (active)
		status = NULL;	/* the reference omits it when active */
	if ((rc = cbor_put_map(&p->head, status != NULL ? 5 : 4)) != PDS_OK ||
	    (rc = put_kv_str(&p->head, "did", did)) != PDS_OK ||
	    (rc = put_kv_str(&p->tail, "time", time)) != PDS_OK ||
	    (rc = cbor_put_str(&p->tail, "active")) != PDS_OK ||
	    (rc = cbor_put_bool(&p->tail, active)) != PDS_OK)
		return rc;
	if (status != NULL)
		rc = put_kv_str(&p->tail, "status", status);
	return rc;
}

static int
sync_parts(struct parts *p, const char *did, const char *rev,
    const struct cid *commit, const uint8_t *block, size_t len,
    const char *time)
{
	struct buf	 car;
	int		 rc;

	buf_init(&car, EVENTS_SYNC_BLOCKS_MAX);
	if ((rc = car_write_header(&car, commit, 1)) != PDS_OK ||
	    (rc = car_write_block(&car, commit, block, len)) != PDS_OK)
		goto out;
	if ((rc = cbor_put_map(&p->head, 5)) != PDS_OK ||
	    (rc = put_kv_str(&p->head, "did", did)) != PDS_OK ||
	    (rc = put_kv_str(&p->head, "rev", rev)) != PDS_OK ||
	    (rc = put_kv_str(&p->tail, "time", time)) != PDS_OK ||
	    (rc = cbor_put_str(&p->tail, "blocks")) != PDS_OK)
		goto out;
	rc = cbor_put_bytes(&p->tail, car.p, car.len);
out:
	buf_free(&car);
	return rc;
}

/* ---- pure encodings ---- */

int
events_body_identity(struct buf *out, int64_t seq, const char *did,
    const char *handle, const char *time)
{
	struct parts	 p;
	int		 rc;

	parts_init(&p);
	if ((rc = identity_parts(&p, did, handle, time)) == PDS_OK)
		rc = parts_join(&p, seq, out);
	parts_free(&p);
	return rc;
}

int
events_body_account(struct buf *out, int64_t seq, const char *did,
    bool active, const char *status, const char *time)
{
	struct parts	 p;
	int		 rc;

	parts_init(&p);
	if ((rc = account_parts(&p, did, active, status, time)) == PDS_OK)
		rc = parts_join(&p, seq, out);
	parts_free(&p);
	return rc;
}

int
events_body_sync(struct buf *out, int64_t seq, const char *did,
    const char *rev, const struct cid *commit, const uint8_t *block,
    size_t len, const char *time)
{
	struct parts	 p;
	int		 rc;

	parts_init(&p);
	if ((rc = sync_parts(&p, did, rev, commit, block, len, time)) ==
	    PDS_OK)
		rc = parts_join(&p, seq, out);
	parts_free(&p);
	return rc;
}

int
events_frame_header(struct buf *out, const char *type)
{
	char	 t[32];
	int	 n, rc;

	n = snprintf(t, sizeof(t), "#%s", type);
	if (n < 0 || (size_t)n >= sizeof(t))
		return PDS_EINVAL;
	if ((rc = cbor_put_map(out, 2)) != PDS_OK ||
	    (rc = put_kv_str(out, "t", t)) != PDS_OK ||
	    (rc = cbor_put_str(out, "op")) != PDS_OK)
		return rc;
	return cbor_put_int(out, 1);
}

int
events_frame_error(struct buf *out, const char *name, const char *message)
{
	int	 rc;

	if ((rc = cbor_put_map(out, 1)) != PDS_OK ||
	    (rc = cbor_put_str(out, "op")) != PDS_OK ||
	    (rc = cbor_put_int(out, -1)) != PDS_OK ||
	    (rc = cbor_put_map(out, message != NULL ? 2 : 1)) != PDS_OK ||
	    (rc = put_kv_str(out, "error", name)) != PDS_OK)
		return rc;
	if (message != NULL)
		rc = put_kv_str(out, "message", message);
	return rc;
}

int
events_frame_info(struct buf *out, const char *name, const char *message)
{
	int	 rc;

	if ((rc = events_frame_header(out, "info")) != PDS_OK ||
	    (rc = cbor_put_map(out, message != NULL ? 2 : 1)) != PDS_OK ||
	    (rc = put_kv_str(out, "name", name)) != PDS_OK)
		return rc;
	if (message != NULL)
		rc = put_kv_str(out, "message", message);
	return rc;
}

/* ---- appending ---- */

int
events_append_tx(const char *type, const char *did, const uint8_t *head,
    size_t head_len, const uint8_t *tail, size_t tail_len, int64_t *seqp)
{
	struct buf	 body;
	char		 now[STORE_TS_LEN];
	int64_t		 seq;
	int		 rc;

	if ((rc = store_events_next_seq(&seq)) != PDS_OK)
		return rc;
	buf_init(&body, BODY_MAX);
	if ((rc = store_events_join(head, head_len, seq, tail, tail_len,
	    &body)) == PDS_OK) {
		store_timestamp(now);
		rc = store_events_insert(seq, did, type, body.p, body.len,
		    now);
	}
	buf_free(&body);
	if (rc != PDS_OK) {
		log_warnx("event %s for %s: %s", type, did, pds_strerror(rc));
		return rc;
	}
	firehose_pending(seq);
	if (seqp != NULL)
		*seqp = seq;
	return PDS_OK;
}

static int
append_parts(const char *type, const char *did, struct parts *p,
    int64_t *seq)
{
	return events_append_tx(type, did, p->head.p, p->head.len,
	    p->tail.p, p->tail.len, seq);
}

int
events_identity(const char *did, const char *handle)
{
	struct parts	 p;
	char		 now[STORE_TS_LEN];
	int		 rc;

	store_timestamp(now);
	parts_init(&p);
	if ((rc = identity_parts(&p, did, handle, now)) == PDS_OK)
		rc = append_parts("identity", did, &p, NULL);
	parts_free(&p);
	return rc;
}

int
events_account(const char *did, bool active, const char *status)
{
	struct parts	 p;
	char		 now[STORE_TS_LEN];
	int64_t		 seq;
	int		 rc;

	if (!active && status == NULL)
		return PDS_EINVAL;
	store_timestamp(now);
	parts_init(&p);
	if ((rc = account_parts(&p, did, active, status, now)) == PDS_OK)
		rc = append_parts("account", did, &p, &seq);
	parts_free(&p);
	/* A deleted account's history goes (the reference's purge). */
	if (rc == PDS_OK && !active && strcmp(status, "deleted") == 0)
		rc = store_events_purge_did(did, seq);
	return rc;
}

int
events_sync(const char *did)
{
	struct parts	 p;
	struct buf	 block;
	struct cid	 commit;
	char		 now[STORE_TS_LEN], cid[CID_STR_MAX];
	char		 rev[TID_LEN + 1];
	int		 rc;

	buf_init(&block, EVENTS_SYNC_BLOCKS_MAX);
	rc = store_events_head_commit(did, cid, sizeof(cid), rev, sizeof(rev),
	    &block);
	if (rc == PDS_OK)
		rc = cid_parse(&commit, cid, strlen(cid), NULL);
	if (rc != PDS_OK) {
		buf_free(&block);
		return rc;
	}
	store_timestamp(now);
	parts_init(&p);
	if ((rc = sync_parts(&p, did, rev, &commit, block.p, block.len,
	    now)) == PDS_OK)
		rc = append_parts("sync", did, &p, NULL);
	parts_free(&p);
	buf_free(&block);
	return rc;
}

void
events_notify(void)
{
	firehose_wake();
}

/* ---- summaries for the admin tail -------------------------------- */

#define SUMMARY_OPS_MAX	200	/* ops listed per commit */

/* A text value as a JSON string; NULL when v is not text. */
static json_t *
dm_text_json(const struct dm_value *v)
{
	if (v == NULL || v->type != DM_STRING)
		return NULL;
	return json_stringn((const char *)v->u.s.p, v->u.s.len);
}

static void
set_text(json_t *o, const char *key, const struct dm_value *map,
    const char *dmkey)
{
	json_t	*s = dm_text_json(dm_map_get(map, dmkey));

	if (s != NULL)
		json_object_set_new(o, key, s);
}

static void
set_link(json_t *o, const char *key, const struct dm_value *v)
{
	char	 cid[CID_STR_MAX];

	if (v != NULL && v->type == DM_LINK &&
	    cid_format(&v->u.link, cid, sizeof(cid)) > 0)
		json_object_set_new(o, key, json_string(cid));
}

/* A commit's ops as [{action, path, cid?}], at most SUMMARY_OPS_MAX. */
static json_t *
summary_ops(const struct dm_value *body, json_t *o)
{
	const struct dm_value	*ops = dm_map_get(body, "ops"), *op;
	json_t			*arr, *e;
	size_t			 i;

	if ((arr = json_array()) == NULL)
		return NULL;
	if (ops == NULL || ops->type != DM_ARRAY)
		return arr;
	for (i = 0; i < ops->u.arr.n && i < SUMMARY_OPS_MAX; i++) {
		op = ops->u.arr.items[i];
		if ((e = json_object()) == NULL)
			break;
		set_text(e, "action", op, "action");
		set_text(e, "path", op, "path");
		set_link(e, "cid", dm_map_get(op, "cid"));
		json_array_append_new(arr, e);
	}
	if (ops->u.arr.n > SUMMARY_OPS_MAX)
		json_object_set_new(o, "opsTotal",
		    json_integer((json_int_t)ops->u.arr.n));
	return arr;
}

int
events_summary(const struct store_event_row *row, json_t **out)
{
	struct dm_arena		*a;
	struct dm_value		*body = NULL, *v;
	const char		*why = NULL;
	json_t			*o, *ops;

	*out = NULL;
	o = json_pack("{s:I,s:s,s:s,s:s}", "seq", (json_int_t)row->seq,
	    "time", row->time, "type", row->type, "did", row->did);
	if (o == NULL)
		return PDS_ENOMEM;
	if ((a = dm_arena_new()) == NULL) {
		json_decref(o);
		return PDS_ENOMEM;
	}
	if (dm_decode(a, row->body, row->len, &body, &why) != PDS_OK ||
	    body == NULL || body->type != DM_MAP) {
		/* the row is still news: say what we know */
		json_object_set_new(o, "ops", json_array());
		json_object_set_new(o, "undecodable", json_true());
		dm_arena_free(a);
		*out = o;
		return PDS_OK;
	}
	if (strcmp(row->type, "commit") == 0) {
		set_text(o, "rev", body, "rev");
		set_link(o, "commit", dm_map_get(body, "commit"));
		if ((v = dm_map_get(body, "tooBig")) != NULL &&
		    v->type == DM_BOOL && v->u.b)
			json_object_set_new(o, "tooBig", json_true());
		ops = summary_ops(body, o);
	} else {
		ops = json_array();
		if (strcmp(row->type, "identity") == 0)
			set_text(o, "handle", body, "handle");
		else if (strcmp(row->type, "account") == 0) {
			v = dm_map_get(body, "active");
			if (v != NULL && v->type == DM_BOOL)
				json_object_set_new(o, "active",
				    json_boolean(v->u.b));
			set_text(o, "status", body, "status");
		} else if (strcmp(row->type, "sync") == 0)
			set_text(o, "rev", body, "rev");
	}
	dm_arena_free(a);
	if (ops == NULL) {
		json_decref(o);
		return PDS_ENOMEM;
	}
	json_object_set_new(o, "ops", ops);
	*out = o;
	return PDS_OK;
}

struct tail_ctx {
	int	(*cb)(void *, json_t *);
	void	*arg;
	int64_t	 last;
};

static int
tail_row(void *arg, const struct store_event_row *row)
{
	struct tail_ctx	*t = arg;
	json_t		*ev;
	int		 rc;

	if ((rc = events_summary(row, &ev)) != PDS_OK)
		return rc;
	t->last = row->seq;
	rc = t->cb(t->arg, ev);
	json_decref(ev);
	return rc;
}

int
events_tail(int64_t after, size_t limit, int (*cb)(void *, json_t *),
    void *arg, int64_t *last, size_t *n)
{
	struct tail_ctx	 t;
	int		 rc;

	t.cb = cb;
	t.arg = arg;
	t.last = after;
	rc = store_events_scan(after, INT64_MAX, limit, tail_row, &t, n);
	*last = t.last;
	return rc;
}

int
events_head(int64_t *seq)
{
	return store_events_head(seq);
}
