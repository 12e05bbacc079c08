/*
 * fuzz_handleres: the DNS answers and well-known bodies a handle check
 * reads from the network.  The input is "QNAME\nMESSAGE": the message
 * goes to handleres_dns() as the answer to QNAME (and to a fixed name),
 * and the whole input to handleres_wellknown().  Whatever either calls a
 * DID must be one, within bounds; nothing may crash or read past the
 * input.  tests/unit/test_handleres.c writes the seed corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handleres.h"
#include "syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_did(enum handleres_result r, const char *did)
{
	size_t	 n;

	if (r != HANDLERES_OK)
		return;
	n = strnlen(did, HANDLERES_DID_MAX + 1);
	if (n > HANDLERES_DID_MAX || !syntax_is_did(did, n))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 qname[256], did[HANDLERES_DID_MAX + 1];
	const uint8_t	*nl;
	size_t		 ql = 0, nrec;
	enum handleres_result r;

	if ((nl = memchr(data, '\n', size < sizeof(qname) ? size :
	    sizeof(qname))) != NULL) {
		ql = (size_t)(nl - data);
		memcpy(qname, data, ql);
		qname[ql] = '\0';
		r = handleres_dns(nl + 1, size - ql - 1, qname, did, &nrec);
		check_did(r, did);
		if (r == HANDLERES_OK && nrec != 1)
			abort();
	}
	r = handleres_dns(data, size, "_atproto.alice.example.com", did, NULL);
	check_did(r, did);
	r = handleres_wellknown((const char *)data, size, did);
	check_did(r, did);
	return 0;
}
