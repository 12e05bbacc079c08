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

#include <stddef.h>

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

#endif
