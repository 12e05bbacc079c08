/*
 * test_pdsd_events_tail: events_summary(), the JSON that firehose.tail
 * (pdsctl firehose tail, pdstui's live tail) shows for an event-log row.
 * Bodies are made by the same encoders the log uses (#identity,
 * #account, #sync) or, for #commit, as a DAG-CBOR map with the fields
 * the firehose lexicon gives it; the summary must carry what they hold.
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cbor.h"
#include "cid.h"
#include "err.h"
#include "../../pdsd/events.h"
#include "../../pdsd/store_events.h"
#include "t.h"

static const char did[] = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
static const char ts[] = "2024-01-02T03:04:05.678Z";

static json_t *
summarize(int64_t seq, const char *type, const struct buf *b)
{
	struct store_event_row	 row;
	json_t			*o = NULL;

	memset(&row, 0, sizeof(row));
	row.seq = seq;
	row.type = type;
	row.did = did;
	row.body = (const uint8_t *)b->p;
	row.len = b->len;
	row.time = ts;
	if (events_summary(&row, &o) != PDS_OK)
		return NULL;
	return o;
}

static const char *
s_of(const json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static struct dm_value *
text(struct dm_arena *a, const char *s)
{
	return dm_string(a, s, strlen(s));
}

static void
test_simple(void)
{
	struct buf	 b;
	json_t		*o;

	t_group("identity, account, sync");
	buf_init(&b, 1 << 20);
	CHECK(events_body_identity(&b, 7, did, "alice.test", ts) == PDS_OK,
	    "identity body");
	o = summarize(7, "identity", &b);
	CHECK(o != NULL, "identity summary");
	CHECK(json_integer_value(json_object_get(o, "seq")) == 7, "seq");
	CHECK(strcmp(s_of(o, "type"), "identity") == 0, "type");
	CHECK(strcmp(s_of(o, "did"), did) == 0, "did");
	CHECK(strcmp(s_of(o, "time"), ts) == 0, "time");
	CHECK(strcmp(s_of(o, "handle"), "alice.test") == 0, "handle");
	CHECK(json_is_array(json_object_get(o, "ops")) &&
	    json_array_size(json_object_get(o, "ops")) == 0, "no ops");
	json_decref(o);

	buf_reset(&b);
	CHECK(events_body_account(&b, 8, did, false, "takendown", ts) ==
	    PDS_OK, "account body");
	o = summarize(8, "account", &b);
	CHECK(o != NULL && json_is_false(json_object_get(o, "active")),
	    "account: active false");
	CHECK(strcmp(s_of(o, "status"), "takendown") == 0, "status");
	json_decref(o);

	buf_reset(&b);
	CHECK(events_body_account(&b, 9, did, true, NULL, ts) == PDS_OK,
	    "active account body");
	o = summarize(9, "account", &b);
	CHECK(o != NULL && json_is_true(json_object_get(o, "active")) &&
	    json_object_get(o, "status") == NULL, "active, no status");
	json_decref(o);

	/* a row whose body does not decode is still shown */
	buf_reset(&b);
	buf_append(&b, "\xa1\x61", 2);
	o = summarize(10, "commit", &b);
	CHECK(o != NULL && json_is_true(json_object_get(o, "undecodable")) &&
	    json_integer_value(json_object_get(o, "seq")) == 10,
	    "undecodable body");
	json_decref(o);
	buf_clear(&b);
	t_group_end();
}

static void
test_commit(void)
{
	struct dm_arena	*a = dm_arena_new();
	struct dm_value	*m, *ops, *op;
	struct cid	 c;
	struct buf	 b;
	uint8_t		 raw[36];
	char		 ctext[CID_STR_MAX], path[64];
	json_t		*o, *jops;
	size_t		 i;
	int		 n = 250;

	t_group("commit");
	raw[0] = 0x01;
	raw[1] = 0x71;
	raw[2] = 0x12;
	raw[3] = 0x20;
	for (i = 4; i < sizeof(raw); i++)
		raw[i] = (uint8_t)i;
	CHECK(cid_from_bytes(&c, raw, sizeof(raw), NULL) == PDS_OK, "cid");
	CHECK(cid_format(&c, ctext, sizeof(ctext)) > 0, "cid text");
	m = dm_map(a, 16);
	ops = dm_array(a, (size_t)n);
	for (i = 0; i < (size_t)n; i++) {
		op = dm_map(a, 3);
		snprintf(path, sizeof(path), "app.bsky.feed.post/3k%011zu", i);
		dm_map_set(op, "action", 6, text(a, i == 1 ? "delete" :
		    "create"));
		dm_map_set(op, "path", 4, dm_string(a, path, strlen(path)));
		dm_map_set(op, "cid", 3, i == 1 ? dm_null(a) : dm_link(a, &c));
		dm_array_push(ops, op);
	}
	dm_map_set(m, "ops", 3, ops);
	dm_map_set(m, "seq", 3, dm_int(a, 42));
	dm_map_set(m, "rev", 3, text(a, "3kabcdefghij2"));
	dm_map_set(m, "repo", 4, text(a, did));
	dm_map_set(m, "time", 4, text(a, ts));
	dm_map_set(m, "commit", 6, dm_link(a, &c));
	dm_map_set(m, "tooBig", 6, dm_bool(a, false));
	dm_map_set(m, "blocks", 6, dm_bytes(a, "\x00", 1));
	buf_init(&b, 1 << 20);
	CHECK(dm_map_sort(m, NULL) == PDS_OK && dm_encode(&b, m) == PDS_OK,
	    "commit body");
	o = summarize(42, "commit", &b);
	CHECK(o != NULL, "commit summary");
	jops = json_object_get(o, "ops");
	CHECK(strcmp(s_of(o, "rev"), "3kabcdefghij2") == 0, "rev");
	CHECK(strcmp(s_of(o, "commit"), ctext) == 0, "commit cid");
	CHECK(json_object_get(o, "tooBig") == NULL, "tooBig false: absent");
	CHECK(json_array_size(jops) == 200, "at most 200 ops listed (%zu)",
	    json_array_size(jops));
	CHECK(json_integer_value(json_object_get(o, "opsTotal")) == n,
	    "opsTotal");
	CHECK(strcmp(s_of(json_array_get(jops, 0), "action"), "create") == 0 &&
	    strcmp(s_of(json_array_get(jops, 0), "path"),
	    "app.bsky.feed.post/3k00000000000") == 0 &&
	    strcmp(s_of(json_array_get(jops, 0), "cid"), ctext) == 0,
	    "first op");
	CHECK(strcmp(s_of(json_array_get(jops, 1), "action"), "delete") == 0 &&
	    json_object_get(json_array_get(jops, 1), "cid") == NULL,
	    "a delete has no cid");
	json_decref(o);
	buf_clear(&b);
	dm_arena_free(a);
	t_group_end();
}

int
main(void)
{
	test_simple();
	test_commit();
	return t_done("test_pdsd_events_tail");
}
