/*
 * repo_init: the empty signed repository of a new account.  See
 * repo_init.h.
 */
#include <stdlib.h>
#include <string.h>

#include "blockstore.h"
#include "buf.h"
#include "commit.h"
#include "err.h"
#include "mst.h"
#include "repo_init.h"
#include "repo_writer.h"

struct first_block {
	struct repo_init *ri;
	int		  n;
};

static int
take_node(void *arg, const struct cid *cid, const uint8_t *data, size_t len)
{
	struct first_block *fb = arg;

	if (len > sizeof(fb->ri->data_block))
		return PDS_EINTERNAL;
	memcpy(fb->ri->data_block, data, len);
	fb->ri->data_len = len;
	fb->ri->data_cid = *cid;
	fb->n++;
	return 0;
}

int
repo_init_build(struct repo_init *ri, const char *did,
    const struct pds_key *key)
{
	struct mst	*t = NULL;
	struct cid	 root;
	struct buf	 b;
	struct first_block fb = { ri, 0 };
	int		 rc;

	memset(ri, 0, sizeof(*ri));
	buf_init(&b, 4096);
	if ((rc = mst_new_empty(NULL, &t)) != PDS_OK ||
	    (rc = mst_root(t, &root)) != PDS_OK)
		goto out;
	/* The write set holds exactly the empty node. */
	if ((rc = bs_mem_foreach(mst_writes(t), take_node, &fb)) != 0)
		goto out;
	if (fb.n != 1 || !cid_equal(&ri->data_cid, &root)) {
		rc = PDS_EINTERNAL;
		goto out;
	}
	tid_next(ri->rev);
	if ((rc = commit_make(did, ri->rev, &root, key, &b,
	    &ri->commit_cid)) != PDS_OK)
		goto out;
	if (cid_format(&ri->commit_cid, ri->commit_str,
	    sizeof(ri->commit_str)) < 0 ||
	    cid_format(&ri->data_cid, ri->data_str,
	    sizeof(ri->data_str)) < 0) {
		rc = PDS_EINTERNAL;
		goto out;
	}
	ri->commit_block = buf_detach(&b, &ri->commit_len);
	if (ri->commit_block == NULL)
		rc = PDS_ENOMEM;
out:
	buf_clear(&b);
	mst_free(t);
	return rc;
}

int
repo_init_store(struct repo_init *ri, const char *did,
    const struct pds_key *key, const char *now)
{
	int	 rc;

	(void)now;	/* the writer stamps the repo itself */
	rc = repo_writer_create_repo(did, key, &ri->commit_cid, ri->rev);
	if (rc == PDS_OK && cid_format(&ri->commit_cid, ri->commit_str,
	    sizeof(ri->commit_str)) < 0)
		rc = PDS_EINTERNAL;
	return rc;
}

void
repo_init_clear(struct repo_init *ri)
{
	free(ri->commit_block);
	ri->commit_block = NULL;
}
