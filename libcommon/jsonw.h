/*
 * jsonw: write JSON text straight into a buf, without building a json_t
 * tree first.  The hot read endpoints (listRecords, getRecord) turn
 * stored DAG-CBOR records into JSON this way: the bytes are exactly what
 * json_dumps(dm_to_json(v), JSON_COMPACT) gives (same escapes, same key
 * order, no spaces), at a fraction of the allocations and UTF-8 scans.
 *
 * Every function appends to the buffer and returns PDS_OK, or a PDS_E*
 * code (PDS_ETOOBIG past the buffer's maximum, PDS_ENOMEM) after which
 * the buffer holds a partial document and should be discarded.
 */
#ifndef PDS_JSONW_H
#define PDS_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cbor.h"

/* A JSON string literal of valid UTF-8 text (quotes and escapes added). */
int	jsonw_string(struct buf *, const char *s, size_t len);
int	jsonw_cstr(struct buf *, const char *s);

/*
 * The JSON form of a data-model value (dmjson.h): links as {"$link"},
 * bytes as {"$bytes"} in unpadded standard base64, maps in their stored
 * order.  Strings must be valid UTF-8, as dm_decode() guarantees.
 */
int	jsonw_dm(struct buf *, const struct dm_value *);

/*
 * The same JSON, straight from the DAG-CBOR encoding of one value
 * (cbor.c): what jsonw_dm() writes for the tree dm_decode() would give,
 * and a failure exactly when dm_decode() would fail, but no tree is
 * built (past JSONW_CBOR_MAX bytes of input, where the decoder's memory
 * cap could come into play, it decodes the tree as before).  On failure
 * the buffer holds a partial document; *why (if why is not NULL) says
 * what was wrong.
 */
int	jsonw_cbor(struct buf *, const uint8_t *in, size_t len,
	    const char **why);
/* A tree takes far less than 1,024 bytes of arena per input byte. */
#define JSONW_CBOR_MAX	(DM_ARENA_MAX_DEFAULT / 1024)

/* The pieces, for writers of their own: the same bytes jsonw_dm() writes. */
int	jsonw_int(struct buf *, int64_t);
int	jsonw_bytes(struct buf *, const uint8_t *, size_t);	/* {"$bytes"} */
int	jsonw_link(struct buf *, const struct cid *);		/* {"$link"} */
/* ',' unless first, then "key": */
int	jsonw_key(struct buf *, bool first, const char *key, size_t klen);
int	jsonw_char(struct buf *, char);
/* Whether s is ASCII that needs no escape; then jsonw_plain() writes it. */
bool	jsonw_is_plain(const uint8_t *s, size_t len);
int	jsonw_plain(struct buf *, const char *s, size_t len);
int	jsonw_lit(struct buf *, const char *, size_t);

#endif
