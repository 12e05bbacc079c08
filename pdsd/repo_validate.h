/*
 * repo_validate: turn a record from its JSON form into the DAG-CBOR that
 * goes into the repository, checking it on the way.
 *
 *   - the collection is an NSID and the record key a valid rkey (and the
 *     two make a valid MST key);
 *   - the data model (dmjson.h): no floats, links and blobs well formed,
 *     the top level an object;
 *   - "$type" equals the collection (it is filled in when absent);
 *   - for every record type of the official lexicons (lexicons/, compiled
 *     in: lexicon.h), the whole schema, the record-key kind and the
 *     blobs' accept and maxSize.  Records of any other lexicon are
 *     accepted with validationStatus "unknown", as the reference does,
 *     unless PDS_LEXICON_RESOLVE_RECORDS is on and their lexicon
 *     resolves (lexicon_resolve.h): they are then checked against it.
 *
 * The encoded record must not pass REPO_RECORD_MAX bytes.
 */
#ifndef PDSD_REPO_VALIDATE_H
#define PDSD_REPO_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "cbor.h"
#include "cid.h"
#include "repo_writer.h"

struct repo_blobref {
	struct cid	 cid;
	const char	*mime;		/* in the record's arena */
	int64_t		 size;
};

struct repo_record {
	struct dm_arena	*arena;
	struct dm_value	*value;
	struct buf	 cbor;		/* the encoded record */
	struct cid	 cid;
	struct repo_blobref *blobs;
	size_t		 nblobs, blobcap;
	const char	*validation;	/* "valid", "unknown", or NULL */
};

/*
 * Check and encode `value' as a record of `collection' with key `rkey'.
 * On failure err names the problem (PDS_EINVAL, "InvalidRequest").
 * Clear r with repo_record_clear() either way.
 */
int	repo_record_prepare(const char *collection, const char *rkey,
	    const json_t *value, enum repo_validate, struct repo_record *r,
	    struct pds_error *err);
void	repo_record_clear(struct repo_record *);

/* Whether `collection' is a lexicon in the table (for tests). */
bool	repo_lexicon_known(const char *collection);

#endif
