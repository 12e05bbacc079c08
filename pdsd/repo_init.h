/*
 * repo_init: the empty, signed repository every new account starts with
 * (an empty MST node and a version 3 commit over it, prev null).
 *
 * Minimal on purpose: the repository module owns commits, the record
 * index and the firehose slice: repo_init_store() hands the job to
 * repo_writer_create_repo(), which also sequences the genesis #commit
 * and #sync.
 */
#ifndef PDSD_REPO_INIT_H
#define PDSD_REPO_INIT_H

#include "cid.h"
#include "tid.h"

struct pds_key;

struct repo_init {
	struct cid	 commit_cid;
	char		 commit_str[CID_STR_MAX];
	char		 rev[TID_LEN + 1];
	struct cid	 data_cid;		/* the empty MST root */
	char		 data_str[CID_STR_MAX];
	uint8_t		*commit_block;		/* owned; repo_init_clear() */
	size_t		 commit_len;
	uint8_t		 data_block[16];	/* the empty node (7 bytes) */
	size_t		 data_len;
};

/* Build (no I/O) the empty repo of did, signed with key. */
int	repo_init_build(struct repo_init *, const char *did,
	    const struct pds_key *key);
/*
 * Store the repo (its blocks and the repo_root row); call inside
 * store_begin().  ri's commit and rev are updated to what was stored.
 */
int	repo_init_store(struct repo_init *, const char *did,
	    const struct pds_key *key, const char *now);
void	repo_init_clear(struct repo_init *);

#endif
