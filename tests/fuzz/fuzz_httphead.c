/*
 * fuzz_httphead: arbitrary bytes as an HTTP request head (the metrics
 * listener's).  Whatever parses must have a method of upper-case
 * letters, a path that starts with '/' and holds only visible ASCII
 * without '?', both within their bounds, and a head length within the
 * input that ends with CRLF CRLF; header values must lie inside the
 * head and hold no CR or LF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "httphead.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_header(const char *buf, size_t n, const char *name)
{
	const char	*v;
	size_t		 len, i;

	if ((v = httphead_header(buf, n, name, &len)) == NULL) {
		if (len != 0)
			abort();
		return;
	}
	if (v < buf || v + len > buf + n)
		abort();
	for (i = 0; i < len; i++)
		if (v[i] == '\r' || v[i] == '\n')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*buf = (const char *)data;
	struct httphead	 h;
	size_t		 i, m, p;
	int		 rc;

	rc = httphead_parse(buf, size, &h);
	if (rc != PDS_OK) {
		if (rc != PDS_ETRUNC && rc != PDS_EINVAL && rc != PDS_ETOOBIG)
			abort();
		return 0;
	}
	m = strnlen(h.method, sizeof(h.method));
	p = strnlen(h.path, sizeof(h.path));
	if (m == 0 || m > HTTPHEAD_METHOD_MAX || p == 0 ||
	    p > HTTPHEAD_PATH_MAX || h.path[0] != '/')
		abort();
	for (i = 0; i < m; i++)
		if (h.method[i] < 'A' || h.method[i] > 'Z')
			abort();
	for (i = 0; i < p; i++)
		if ((unsigned char)h.path[i] <= 0x20 ||
		    (unsigned char)h.path[i] >= 0x7f || h.path[i] == '?')
			abort();
	if (h.len < 4 || h.len > size || memcmp(buf + h.len - 4, "\r\n\r\n",
	    4) != 0)
		abort();
	check_header(buf, h.len, "Accept");
	check_header(buf, h.len, "Host");
	check_header(buf, h.len, "A");
	return 0;
}
