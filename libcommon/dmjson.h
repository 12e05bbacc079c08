/*
 * dmjson: the JSON form of the atproto data model (HTTP APIs), and the
 * data-model rules that hold in either form.
 *
 * JSON → data model:
 *   {"$link": "<cid>"}   exactly one key            → DM_LINK
 *   {"$bytes": "<b64>"}  exactly one key, standard   → DM_BYTES
 *                        alphabet, '=' optional
 *   numbers              integers, or integer-valued reals (123.0), within
 *                        ±(2^53−1); fractions, NaN and infinities refused
 *   any object with "$type" needs a non-empty string there; "$type":"blob"
 *   must be a whole blob: exactly $type, ref (a raw-codec sha2-256 CID link),
 *   mimeType (non-empty string) and size (integer ≥ 0).  Other "$" keys are
 *   kept as plain keys.  Legacy blobs {"cid","mimeType"} are plain maps.
 *   Nesting deeper than DM_MAX_DEPTH is refused.
 *
 * Data model → JSON: links as {"$link"}, bytes as {"$bytes"} in unpadded
 * standard base64.
 *
 * Values are built in the caller's arena; keys and strings are copied, so
 * the json_t may be freed afterwards.  Maps come out in canonical order.
 */
#ifndef PDS_DMJSON_H
#define PDS_DMJSON_H

#include <jansson.h>

#include "cbor.h"

/* Convert any JSON value.  PDS_OK or a PDS_E* code with *why. */
int	dm_from_json(struct dm_arena *, const json_t *, struct dm_value **,
	    const char **why);

/*
 * Convert a record: as dm_from_json(), and the top level must be an object
 * that is not itself a $link, $bytes or blob.  ($type is not required
 * here; the repository layer checks it against the collection.)
 */
int	dm_from_json_record(struct dm_arena *, const json_t *,
	    struct dm_value **, const char **why);

/*
 * The JSON form of a tree (a new reference), or NULL if memory runs out
 * or a string is not valid UTF-8.
 */
json_t	*dm_to_json(const struct dm_value *);

/*
 * Check a tree (say, one decoded from CBOR) against the rules
 * dm_from_json() enforces: integers within ±(2^53−1), "$type" values,
 * blob shape, nesting depth.  dm_validate_record() adds the top-level
 * rules of dm_from_json_record().
 */
int	dm_validate(const struct dm_value *, const char **why);
int	dm_validate_record(const struct dm_value *, const char **why);

/* Is this map a (current-form) blob reference, i.e. "$type" is "blob"? */
bool	dm_is_blob(const struct dm_value *);

/* A CID as a plain JSON string ("bafy..."), as the XRPC APIs show CIDs. */
json_t	*dm_cid_json(const struct cid *);

#endif
