/*
 * commit: the signed repository commit (atproto-notes §5, V9).
 *
 *   {did, version: 3, data: <MST root link>, rev: <TID>, prev: null,
 *    sig: <64 bytes>}
 *
 * Signing encodes the map without `sig` (key order did, rev, data, prev,
 * version), signs SHA-256 of those bytes with the account key (compact
 * low-S r||s), adds `sig` and encodes again (did, rev, sig, data, prev,
 * version); the commit CID is over the signed bytes.  Version 2 commits
 * (rev optional) can be decoded and verified; new commits are version 3.
 */
#ifndef PDS_COMMIT_H
#define PDS_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cid.h"

#define COMMIT_DID_MAX	2048
#define COMMIT_REV_MAX	13		/* a TID */
#define COMMIT_SIG_MAX	64

struct pds_key;

struct commit {
	char		 did[COMMIT_DID_MAX + 1];
	char		 rev[COMMIT_REV_MAX + 1];	/* "" if absent (v2) */
	bool		 has_rev;
	int		 version;		/* 2 or 3 */
	struct cid	 data;			/* MST root */
	bool		 has_prev;		/* prev is a link, not null */
	struct cid	 prev;
	uint8_t		 sig[COMMIT_SIG_MAX];
	size_t		 siglen;		/* 0: unsigned */
};

/* A version 3 commit with prev null, unsigned.  PDS_EINVAL on bad did/rev. */
int	commit_init(struct commit *, const char *did, const char *rev,
	    const struct cid *data);
/* The bytes that are signed (everything but sig). */
int	commit_encode_unsigned(const struct commit *, struct buf *);
/* Sign with a private key: fills sig. */
int	commit_sign(struct commit *, const struct pds_key *);
/* The signed commit's bytes (PDS_EINVAL if unsigned) and, if cid != NULL,
 * its CID. */
int	commit_encode(const struct commit *, struct buf *, struct cid *cid);
/*
 * Decode a commit block strictly: canonical DAG-CBOR, exactly the known
 * keys, did text, version 2 or 3, rev a TID (required for version 3),
 * data a dag-cbor link, prev null or a link, sig 64 bytes.
 */
int	commit_decode(struct commit *, const uint8_t *, size_t,
	    const char **why);
/* Check sig against a public key: PDS_OK or PDS_ECRYPTO. */
int	commit_verify(const struct commit *, const struct pds_key *);

/* init + sign + encode in one: out gets the block, cid its CID. */
int	commit_make(const char *did, const char *rev, const struct cid *data,
	    const struct pds_key *, struct buf *out, struct cid *cid);

#endif
