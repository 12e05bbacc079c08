/*
 * events: appending to the event log, and the message encodings.  See
 * events.h.
 *
 * Every event body is built here, and every row goes into the log
 * through events_insert_tx(), which tells the firehose about it.
 *
 * Map keys are written in canonical order (length, then bytes):
 *   #commit	ops rev seq repo time blobs since blocks commit rebase
 *		tooBig prevData
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

#include "blockstore.h"
#include "car.h"
#include "cbor.h"
#include "err.h"
#include "events.h"
#include "firehose.h"
#include "log.h"
#include "mst.h"
#include "store.h"
#include "store_events.h"
#include "store_repo.h"
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
parts_clear(struct parts *p)
{
	buf_clear(&p->head);
	buf_clear(&p->tail);
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
	return events_sync_parts(&p->head, &p->tail, did, rev, commit, block,
	    len, time);
}

/* One #commit op map: {cid, path, prev?, action} in canonical order. */
static int
put_op(struct buf *b, const struct store_rec_op *op)
{
	char	 path[NSID_MAX + 1 + RKEY_MAX + 1];
	int	 n;

	n = snprintf(path, sizeof(path), "%s/%s", op->collection, op->rkey);
	if (n < 0 || (size_t)n >= sizeof(path))
		return PDS_EINVAL;
	cbor_put_map(b, op->action == MST_CREATE ? 3 : 4);
	cbor_put_text(b, "cid", 3);
	if (op->action == MST_DELETE)
		cbor_put_null(b);
	else
		cbor_put_link(b, &op->cid);
	cbor_put_text(b, "path", 4);
	cbor_put_text(b, path, (size_t)n);
	if (op->action != MST_CREATE) {
		cbor_put_text(b, "prev", 4);
		cbor_put_link(b, &op->prev);
	}
	cbor_put_text(b, "action", 6);
	cbor_put_str(b, op->action == MST_CREATE ? "create" :
	    op->action == MST_UPDATE ? "update" : "delete");
	return cbor_put_error(b);
}

static int
car_block(void *arg, const struct cid *c, const uint8_t *d, size_t len)
{
	return car_write_block(arg, c, d, len);
}

/* ---- the parts of the repo writer's bodies ---- */

int
events_commit_parts(struct buf *head, struct buf *tail, const char *did,
    const struct cid *commit, const char *rev, const char *since,
    const struct cid *prev_data, const struct store_rec_op *ops,
    size_t nops, const struct bs_mem *slice, const char *time)
{
	struct buf	 car;
	size_t		 i;
	int		 rc;

	cbor_put_map(head, prev_data != NULL ? 12 : 11);
	cbor_put_text(head, "ops", 3);
	cbor_put_array(head, nops);
	if ((rc = cbor_put_error(head)) != PDS_OK)
		return rc;
	for (i = 0; i < nops; i++)
		if ((rc = put_op(head, &ops[i])) != PDS_OK)
			return rc;
	cbor_put_text(head, "rev", 3);
	cbor_put_str(head, rev);
	if ((rc = cbor_put_error(head)) != PDS_OK)
		return rc;

	buf_init(&car, EVENTS_COMMIT_BLOCKS_MAX + 4096);
	if ((rc = car_write_header(&car, commit, 1)) != PDS_OK ||
	    (rc = bs_mem_foreach(slice, car_block, &car)) != PDS_OK) {
		buf_clear(&car);
		return rc;
	}
	cbor_put_text(tail, "repo", 4);
	cbor_put_str(tail, did);
	cbor_put_text(tail, "time", 4);
	cbor_put_str(tail, time);
	cbor_put_text(tail, "blobs", 5);
	cbor_put_array(tail, 0);
	cbor_put_text(tail, "since", 5);
	if (since != NULL)
		cbor_put_str(tail, since);
	else
		cbor_put_null(tail);
	cbor_put_text(tail, "blocks", 6);
	cbor_put_bytes(tail, car.p, car.len);
	cbor_put_text(tail, "commit", 6);
	cbor_put_link(tail, commit);
	cbor_put_text(tail, "rebase", 6);
	cbor_put_bool(tail, false);
	cbor_put_text(tail, "tooBig", 6);
	cbor_put_bool(tail, false);
	if (prev_data != NULL) {
		cbor_put_text(tail, "prevData", 8);
		cbor_put_link(tail, prev_data);
	}
	buf_clear(&car);
	return cbor_put_error(tail);
}

int
events_sync_parts(struct buf *head, struct buf *tail, const char *did,
    const char *rev, const struct cid *commit, const uint8_t *block,
    size_t len, const char *time)
{
	struct buf	 car;
	int		 rc;

	buf_init(&car, EVENTS_SYNC_BLOCKS_MAX);
	if ((rc = car_write_header(&car, commit, 1)) != PDS_OK ||
	    (rc = car_write_block(&car, commit, block, len)) != PDS_OK)
		goto out;
	if ((rc = cbor_put_map(head, 5)) != PDS_OK ||
	    (rc = put_kv_str(head, "did", did)) != PDS_OK ||
	    (rc = put_kv_str(head, "rev", rev)) != PDS_OK ||
	    (rc = put_kv_str(tail, "time", time)) != PDS_OK ||
	    (rc = cbor_put_str(tail, "blocks")) != PDS_OK)
		goto out;
	rc = cbor_put_bytes(tail, car.p, car.len);
out:
	buf_clear(&car);
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
	parts_clear(&p);
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
	parts_clear(&p);
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
	parts_clear(&p);
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

/* The body of an error or info frame: { key: name, "message"?: message }. */
static int
put_named(struct buf *out, const char *key, const char *name,
    const char *message)
{
	int	 rc;

	if ((rc = cbor_put_map(out, message != NULL ? 2 : 1)) != PDS_OK ||
	    (rc = put_kv_str(out, key, name)) != PDS_OK)
		return rc;
	if (message != NULL)
		rc = put_kv_str(out, "message", message);
	return rc;
}

int
events_frame_error(struct buf *out, const char *name, const char *message)
{
	int	 rc;

	if ((rc = cbor_put_map(out, 1)) != PDS_OK ||
	    (rc = cbor_put_str(out, "op")) != PDS_OK ||
	    (rc = cbor_put_int(out, -1)) != PDS_OK)
		return rc;
	return put_named(out, "error", name, message);
}

int
events_frame_info(struct buf *out, const char *name, const char *message)
{
	int	 rc;

	if ((rc = events_frame_header(out, "info")) != PDS_OK)
		return rc;
	return put_named(out, "name", name, message);
}

/* ---- appending ---- */

int
events_insert_tx(const char *did, const struct events_body *ev,
    const char *now, int64_t *seqp)
{
	struct buf	 body;
	int64_t		 seq;
	int		 rc;

	if ((rc = store_events_next_seq(&seq)) != PDS_OK)
		return rc;
	if (ev->packed != NULL)
		rc = store_events_insert_packed(seq, did, ev->type, ev->packed,
		    ev->packed_len, now);
	else {
		buf_init(&body, BODY_MAX);
		/* store_events_insert() chooses how the body is stored */
		if ((rc = store_events_join(ev->head, ev->head_len, seq,
		    ev->tail, ev->tail_len, &body)) == PDS_OK)
			rc = store_events_insert(seq, did, ev->type, body.p,
			    body.len, now);
		buf_clear(&body);
	}
	if (rc != PDS_OK)
		return rc;
	/*
	 * Wake the firehose and have it look every few milliseconds until
	 * it has seen seq: the row shows once committed, and no earlier
	 * than repo_writer_durable_seq() lets it.  Only a hint; it reads
	 * nothing that is not committed and durable.
	 */
	firehose_pending(seq);
	firehose_wake();
	if (seqp != NULL)
		*seqp = seq;
	return PDS_OK;
}

int
events_append_at_tx(const char *type, const char *did, const uint8_t *head,
    size_t head_len, const uint8_t *tail, size_t tail_len, const char *now,
    int64_t *seqp)
{
	struct events_body ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.head = head;
	ev.head_len = head_len;
	ev.tail = tail;
	ev.tail_len = tail_len;
	return events_insert_tx(did, &ev, now, seqp);
}

int
events_append_tx(const char *type, const char *did, const uint8_t *head,
    size_t head_len, const uint8_t *tail, size_t tail_len, int64_t *seqp)
{
	char	 now[STORE_TS_LEN];
	int	 rc;

	store_timestamp(now);
	if ((rc = events_append_at_tx(type, did, head, head_len, tail,
	    tail_len, now, seqp)) != PDS_OK)
		log_warnx("event %s for %s: %s", type, did, pds_strerror(rc));
	return rc;
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
	parts_clear(&p);
	return rc;
}

int
events_account(const char *did, enum acct_status status)
{
	struct parts	 p;
	char		 now[STORE_TS_LEN];
	int64_t		 seq;
	bool		 active = status == ACCT_ACTIVE;
	int		 rc;

	store_timestamp(now);
	parts_init(&p);
	if ((rc = account_parts(&p, did, active, acct_status_name(status),
	    now)) == PDS_OK)
		rc = append_parts("account", did, &p, &seq);
	parts_clear(&p);
	/* A deleted account's history goes (the reference's purge). */
	if (rc == PDS_OK && status == ACCT_DELETED)
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
		buf_clear(&block);
		return rc;
	}
	store_timestamp(now);
	parts_init(&p);
	if ((rc = sync_parts(&p, did, rev, &commit, block.p, block.len,
	    now)) == PDS_OK)
		rc = append_parts("sync", did, &p, NULL);
	parts_clear(&p);
	buf_clear(&block);
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
