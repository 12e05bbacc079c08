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
#include <stdio.h>
#include <string.h>

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
	int	 rc;

	if ((rc = buf_append(out, p->head.p, p->head.len)) != PDS_OK ||
	    (rc = cbor_put_text(out, "seq", 3)) != PDS_OK ||
	    (rc = cbor_put_int(out, seq)) != PDS_OK)
		return rc;
	return buf_append(out, p->tail.p, p->tail.len);
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
	if ((rc = buf_append(&body, head, head_len)) == PDS_OK &&
	    (rc = cbor_put_text(&body, "seq", 3)) == PDS_OK &&
	    (rc = cbor_put_int(&body, seq)) == PDS_OK &&
	    (rc = buf_append(&body, tail, tail_len)) == PDS_OK) {
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
