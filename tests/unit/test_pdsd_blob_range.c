/* Unit tests: getBlob's Range header (pdsd/api_blob_read.c). */
#include <stdint.h>

#include "../../pdsd/api_blob_read.h"
#include "t.h"

static int
r(const char *h, int64_t total, int64_t *off, int64_t *len)
{
	*off = *len = -7;
	return api_blob_range(h, total, off, len);
}

int
main(void)
{
	int64_t	 off, len;

	t_group("ranges");
	CHECK(r(NULL, 100, &off, &len) == 0, "no header");
	CHECK(r("bytes=0-9", 100, &off, &len) == 1 && off == 0 && len == 10,
	    "first ten");
	CHECK(r("bytes=90-", 100, &off, &len) == 1 && off == 90 && len == 10,
	    "open end");
	CHECK(r("bytes=90-500", 100, &off, &len) == 1 && off == 90 &&
	    len == 10, "end past the blob");
	CHECK(r("bytes=-10", 100, &off, &len) == 1 && off == 90 && len == 10,
	    "suffix");
	CHECK(r("bytes=-500", 100, &off, &len) == 1 && off == 0 &&
	    len == 100, "suffix longer than the blob");
	CHECK(r("bytes=100-", 100, &off, &len) == -1, "start at the end");
	CHECK(r("bytes=-0", 100, &off, &len) == -1, "empty suffix");
	CHECK(r("bytes=0-", 0, &off, &len) == -1, "empty blob");
	CHECK(r("bytes=5-4", 100, &off, &len) == 0, "backwards: ignored");
	CHECK(r("bytes=0-1,5-6", 100, &off, &len) == 0, "several: ignored");
	CHECK(r("items=0-1", 100, &off, &len) == 0, "other unit: ignored");
	CHECK(r("bytes=x-1", 100, &off, &len) == 0, "junk: ignored");
	CHECK(r("bytes=99999999999999999999-", 100, &off, &len) == 0,
	    "overflow: ignored");
	t_group_end();
	return t_done("test_pdsd_blob_range");
}
