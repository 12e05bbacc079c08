/*
 * record_proof: check a com.atproto.sync.getRecord answer, a CAR whose
 * one root is the repo's signed commit, followed by the MST nodes on the
 * path to one record and the record itself (atproto-notes §4.6).
 *
 * The commit must decode, name `did` and verify against `pub`; the tree
 * is walked from the commit's data root through the CAR's blocks only
 * (each block's bytes were checked against its CID by the CAR reader)
 * to the key "collection/rkey"; the record block must be there too.
 * So a record that verifies is the one the DID's key signed, whoever
 * served it.
 */
#ifndef PDS_RECORD_PROOF_H
#define PDS_RECORD_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cid.h"

struct pds_key;

#define RECORD_PROOF_MAX_BLOCKS	256	/* a path is a handful of nodes */

/*
 * Check the proof in car[0..len-1].  PDS_OK with the record's bytes
 * appended to `record` and its CID in *rcid (may be NULL); PDS_ENOTFOUND
 * when the proof shows the key absent; PDS_ECRYPTO for a bad signature;
 * PDS_EMISMATCH when the commit names another DID; PDS_EINVAL,
 * PDS_ETRUNC, PDS_ETOOBIG and the CAR reader's codes for a malformed or
 * incomplete proof.  *why says which.
 */
int	record_proof_verify(const uint8_t *car, size_t len, const char *did,
	    const struct pds_key *pub, const char *collection,
	    const char *rkey, struct buf *record, struct cid *rcid,
	    const char **why);

#endif
