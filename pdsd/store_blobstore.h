/*
 * store_blobstore: every blob row, in (did, cid) order, for moving blobs
 * between stores (blobstore_migrate.c).
 */
#ifndef PDSD_STORE_BLOBSTORE_H
#define PDSD_STORE_BLOBSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cid.h"

struct store_blobstore_row {
	char	 did[2048 + 1];
	char	 cid[CID_STR_MAX];
	int64_t	 size;
	bool	 takendown;
};

/* How many blob rows, and their bytes. */
int	store_blobstore_count(int64_t *n, int64_t *bytes);
/* Up to limit rows after (after_did, after_cid) ("", "": the first). */
int	store_blobstore_page(const char *after_did, const char *after_cid,
	    size_t limit, struct store_blobstore_row *rows, size_t *n);

#endif
