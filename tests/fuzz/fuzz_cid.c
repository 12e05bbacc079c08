/*
 * fuzz_cid: the input as CID text (cid_parse) and as a binary CID
 * (cid_from_bytes, cid_read).  Whatever parses must format and re-parse
 * to the same CID, and text that parses must be exactly what formatting
 * gives back (one text form per CID); anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cid.h"
#include "err.h"
#include "syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
round_trip(const struct cid *c)
{
	struct cid	 d;
	char		 s[CID_STR_MAX];
	long		 n;

	if (c->len == 0 || c->len > CID_MAX_LEN)
		abort();
	if ((n = cid_format(c, s, sizeof(s))) < 0)
		abort();
	if ((size_t)n != strlen(s))
		abort();
	if (cid_parse(&d, s, (size_t)n, NULL) != PDS_OK || !cid_equal(c, &d))
		abort();
	if (cid_from_bytes(&d, c->b, c->len, NULL) != PDS_OK ||
	    !cid_equal(c, &d))
		abort();
	/* The lexicon's loose `cid` syntax accepts every CID we can parse. */
	if (!syntax_is_cid(s, (size_t)n) && n <= 256)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cid	 c;
	char		 s[CID_STR_MAX];
	const char	*why = NULL;
	long		 n;
	int		 rc;

	if (cid_parse(&c, (const char *)data, size, &why) == PDS_OK) {
		round_trip(&c);
		n = cid_format(&c, s, sizeof(s));
		if (n < 0 || (size_t)n != size || memcmp(s, data, size) != 0)
			abort();
	} else if (why == NULL)
		abort();

	why = NULL;
	if (cid_from_bytes(&c, data, size, &why) == PDS_OK) {
		if (c.len != size || memcmp(c.b, data, size) != 0)
			abort();
		round_trip(&c);
	} else if (why == NULL)
		abort();

	rc = cid_read(&c, data, size, &why);
	if (rc > 0) {
		if ((size_t)rc > size || c.len != rc)
			abort();
		round_trip(&c);
	}
	return 0;
}
