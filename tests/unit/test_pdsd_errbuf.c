/*
 * test_pdsd_errbuf: errbuf_set().
 */
#include <string.h>

#include "../../pdsd/errbuf.h"
#include "err.h"

#include "t.h"

static void
test_set(void)
{
	char	 err[8];

	t_group("errbuf_set");
	CHECK(errbuf_set(err, sizeof(err), PDS_EINVAL, "%s %d", "bad",
	    7) == PDS_EINVAL && strcmp(err, "bad 7") == 0,
	    "formats and returns the code: %s", err);
	CHECK(errbuf_set(err, sizeof(err), PDS_ENOTFOUND, "%s",
	    "much too long") == PDS_ENOTFOUND && strcmp(err, "much to") == 0,
	    "cut to the buffer: %s", err);
	CHECK(errbuf_set(NULL, 0, PDS_EIO, "x") == PDS_EIO &&
	    errbuf_set(NULL, 16, PDS_EIO, "x") == PDS_EIO,
	    "no buffer: only the code");
	memcpy(err, "kept", 5);
	CHECK(errbuf_set(err, 0, PDS_EIO, "x") == PDS_EIO &&
	    strcmp(err, "kept") == 0, "zero length: nothing written");
	t_group_end();
}

int
main(void)
{
	test_set();
	return t_done("test_pdsd_errbuf");
}
