/*
 * record_proof: checking a sync.getRecord CAR.  See record_proof.h.
 */
#include <stdio.h>
#include <string.h>

#include "blockstore.h"
#include "car.h"
#include "commit.h"
#include "err.h"
#include "mst.h"
#include "record_proof.h"

/* Read every block of the CAR into mem; the root into *root. */
static int
proof_blocks(const uint8_t *car, size_t len, struct bs_mem *mem,
    struct cid *root, const char **why)
{
	struct car_reader	 r;
	struct cid		 c;
	const uint8_t		*data;
	size_t			 dlen, n = 0;
	int			 rc;

	if ((rc = car_reader_open_mem(&r, car, len, NULL, why)) != PDS_OK)
		return rc;
	if (r.nroots != 1) {
		car_reader_close(&r);
		return pds_fail(why, PDS_EINVAL, "the CAR must have one root");
	}
	*root = r.roots[0];
	while ((rc = car_next(&r, &c, &data, &dlen, why)) == 1) {
		if (++n > RECORD_PROOF_MAX_BLOCKS) {
			rc = pds_fail(why, PDS_ETOOBIG, "too many blocks");
			break;
		}
		if ((rc = bs_mem_put(mem, &c, data, dlen)) != PDS_OK) {
			*why = "out of memory";
			break;
		}
	}
	car_reader_close(&r);
	return rc < 0 ? rc : PDS_OK;
}

/* The commit at root: decoded, of `did`, signed by pub. */
static int
proof_commit(struct bs_mem *mem, const struct cid *root, const char *did,
    const struct pds_key *pub, struct commit *cm, const char **why)
{
	const uint8_t	*data;
	size_t		 dlen;
	int		 rc;

	if (bs_mem_get(mem, root, &data, &dlen) != PDS_OK)
		return pds_fail(why, PDS_ETRUNC, "the commit block is missing");
	if ((rc = commit_decode(cm, data, dlen, why)) != PDS_OK)
		return rc;
	if (strcmp(cm->did, did) != 0)
		return pds_fail(why, PDS_EMISMATCH,
		    "the commit is of another repository");
	if (commit_verify(cm, pub) != PDS_OK)
		return pds_fail(why, PDS_ECRYPTO,
		    "the commit's signature does not verify");
	return PDS_OK;
}

int
record_proof_verify(const uint8_t *car, size_t len, const char *did,
    const struct pds_key *pub, const char *collection, const char *rkey,
    struct buf *record, struct cid *rcid, const char **why)
{
	struct bs_mem		*mem;
	struct blockstore	 bs;
	struct mst		*tree = NULL;
	struct commit		 cm;
	struct cid		 root, val;
	const uint8_t		*data;
	char			 key[MST_KEY_MAX + 1];
	const char		*ignored;
	size_t			 dlen;
	int			 n, rc;

	if (why == NULL)
		why = &ignored;
	n = snprintf(key, sizeof(key), "%s/%s", collection, rkey);
	if (n < 0 || (size_t)n >= sizeof(key) ||
	    mst_key_check((const uint8_t *)key, (size_t)n, why) != PDS_OK)
		return pds_fail(why, PDS_EINVAL, "not a record key");
	if ((mem = bs_mem_new()) == NULL)
		return pds_fail(why, PDS_ENOMEM, "out of memory");
	if ((rc = proof_blocks(car, len, mem, &root, why)) != PDS_OK ||
	    (rc = proof_commit(mem, &root, did, pub, &cm, why)) != PDS_OK)
		goto out;
	bs = bs_mem_store(mem);
	if ((rc = mst_load(&bs, &cm.data, &tree, why)) != PDS_OK)
		goto out;
	rc = mst_get(tree, (const uint8_t *)key, (size_t)n, &val);
	if (rc == PDS_ENOTFOUND) {
		*why = "the proof shows no such record";
		goto out;
	}
	if (rc != PDS_OK) {
		if (mst_why(tree) != NULL)
			*why = mst_why(tree);
		else
			*why = "the proof's tree is incomplete";
		goto out;
	}
	if (bs_mem_get(mem, &val, &data, &dlen) != PDS_OK) {
		rc = pds_fail(why, PDS_ETRUNC, "the record block is missing");
		goto out;
	}
	if ((rc = buf_append(record, data, dlen)) != PDS_OK) {
		*why = "out of memory";
		goto out;
	}
	if (rcid != NULL)
		*rcid = val;
out:
	mst_free(tree);
	bs_mem_free(mem);
	return rc;
}
