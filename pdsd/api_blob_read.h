/*
 * api_blob_read: a stored blob as an HTTP answer (getBlob), from either
 * blob store, with byte ranges.  See api_blob_read.c.
 */
#ifndef PDSD_API_BLOB_READ_H
#define PDSD_API_BLOB_READ_H

#include <stdint.h>

#include "cid.h"

struct http_req;

/* The range of Range header h in total bytes: 1, 0 (none) or -1 (416). */
int	api_blob_range(const char *h, int64_t total, int64_t *off,
	    int64_t *len);

/*
 * Reply with the blob (size bytes by its row): PDS_OK once a reply is
 * set, else the store's error (PDS_ENOTFOUND, PDS_EBUSY...) and no
 * reply.
 */
int	api_blob_reply(struct http_req *, const char *did, const struct cid *,
	    const char *mime, int64_t size);

/* Add the retry hint to a 503 for an unavailable blob store. */
void	api_blob_unavailable(struct http_req *);

#endif
