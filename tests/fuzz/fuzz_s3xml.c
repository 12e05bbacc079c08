/*
 * fuzz_s3xml: the input as an S3 server's XML answer.  Every element
 * s3xml_next() returns must be NUL-terminated within its buffer, the
 * position must only move forward and stay within the input, and a
 * walk over all <Key> elements must end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "s3xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
walk(const char *x, size_t n, const char *tag, size_t cap)
{
	char	 out[1100];
	size_t	 pos = 0, last;
	int	 rc;

	for (;;) {
		last = pos;
		rc = s3xml_next(x, n, tag, &pos, out, cap);
		if (rc == PDS_OK) {
			if (pos <= last || pos > n || strlen(out) >= cap)
				abort();
			continue;
		}
		if (pos != last && rc != PDS_ETOOBIG && rc != PDS_EINVAL)
			abort();
		if (rc != PDS_ENOTFOUND && rc != PDS_ETOOBIG &&
		    rc != PDS_EINVAL)
			abort();
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*x = (const char *)data;
	char		 out[64];

	walk(x, size, "Key", 1024);
	walk(x, size, "Key", 8);
	walk(x, size, "NextContinuationToken", 1100);
	(void)s3xml_get(x, size, "UploadId", out, sizeof(out));
	(void)s3xml_get(x, size, "Code", out, sizeof(out));
	(void)s3xml_get(x, size, "Message", out, 1);
	return 0;
}
