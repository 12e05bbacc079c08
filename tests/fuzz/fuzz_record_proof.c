/*
 * fuzz_record_proof: the input is the body of a sync.getRecord answer,
 * checked as a proof of one record of a fixed DID under a fixed key.
 * Must never crash or leak, and never accept a record: nothing can sign
 * a commit with the harness's key but the harness.
 */
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "err.h"
#include "keys.h"
#include "record_proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct pds_key	*pub;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct buf	 rec;
	struct cid	 c;
	const char	*why = NULL;
	int		 rc;

	if (pub == NULL && (key_init() != PDS_OK ||
	    key_from_private_hex(&pub, KEY_K256, "1d5b4bb5b2e3f1c2a4d6e8f0a1b3"
	    "c5d7e9f10213243546576879a0b1c2d3e4ff", 64) != PDS_OK))
		abort();
	buf_init(&rec, 1 << 20);
	rc = record_proof_verify(data, len, "did:plc:fuzzfuzzfuzzfuzzfuzzfuzz",
	    pub, "com.atproto.lexicon.schema", "com.example.fuzz", &rec, &c,
	    &why);
	if (rc == PDS_OK)
		abort();
	buf_clear(&rec);
	return 0;
}
