/* Unit tests: the HTTP request head reader of the metrics listener. */
#include <string.h>

#include "err.h"
#include "httphead.h"
#include "t.h"

#define S(x)	x, sizeof(x) - 1

static void
test_parse(void)
{
	struct httphead	 h;
	static const char prom[] = "GET /metrics?x=1 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:9100\r\n"
	    "accept:  application/openmetrics-text;version=1.0.0 \r\n"
	    "X-Empty:\r\n\r\nbody";
	char		 big[600];
	const char	*v;
	size_t		 n;

	t_group("parse");
	CHECK(httphead_parse(S(prom), &h) == PDS_OK, "a scrape");
	CHECK(strcmp(h.method, "GET") == 0, "method %s", h.method);
	CHECK(strcmp(h.path, "/metrics") == 0, "path without query %s",
	    h.path);
	CHECK(h.len == sizeof(prom) - 1 - 4, "head length %zu", h.len);
	v = httphead_header(prom, h.len, "Accept", &n);
	CHECK(v != NULL && n == strlen("application/openmetrics-text;"
	    "version=1.0.0") && strncmp(v, "application/", 12) == 0,
	    "a header, any case, trimmed");
	v = httphead_header(prom, h.len, "X-Empty", &n);
	CHECK(v != NULL && n == 0, "an empty header");
	CHECK(httphead_header(prom, h.len, "Cookie", &n) == NULL && n == 0,
	    "an absent header");
	CHECK(httphead_header(prom, h.len, "Host:", &n) == NULL,
	    "a name is not a prefix match");
	CHECK(httphead_parse(S("HEAD / HTTP/1.0\r\n\r\n"), &h) == PDS_OK &&
	    strcmp(h.method, "HEAD") == 0 && strcmp(h.path, "/") == 0,
	    "HTTP/1.0 HEAD");

	CHECK(httphead_parse(S("GET /metrics HTTP/1.1\r\nHost: x\r\n"), &h) ==
	    PDS_ETRUNC, "no end yet");
	CHECK(httphead_parse(S(""), &h) == PDS_ETRUNC, "nothing yet");
	CHECK(httphead_parse(S("get /m HTTP/1.1\r\n\r\n"), &h) == PDS_EINVAL,
	    "lower-case method");
	CHECK(httphead_parse(S("GET  /m HTTP/1.1\r\n\r\n"), &h) == PDS_EINVAL,
	    "two spaces");
	CHECK(httphead_parse(S("GET http://x/m HTTP/1.1\r\n\r\n"), &h) ==
	    PDS_EINVAL, "absolute form");
	CHECK(httphead_parse(S("GET /m HTTP/2.0\r\n\r\n"), &h) == PDS_EINVAL,
	    "not HTTP/1.x");
	CHECK(httphead_parse(S("GET /m\r\n\r\n"), &h) == PDS_EINVAL,
	    "HTTP/0.9");
	CHECK(httphead_parse(S("GET /m\x01 HTTP/1.1\r\n\r\n"), &h) ==
	    PDS_EINVAL, "a control byte in the target");
	CHECK(httphead_parse(S("GET /m HTTP/1.1\r\nHost: a\rb\r\n\r\n"),
	    &h) == PDS_EINVAL, "a bare CR (found by fuzz_httphead)");
	CHECK(httphead_parse(S("GET /m HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"),
	    &h) == PDS_EINVAL, "a bare LF");
	CHECK(httphead_parse(S("GET /m HTTP/1.1\r\nX: a\0b\r\n\r\n"), &h) ==
	    PDS_EINVAL, "a NUL byte");
	CHECK(httphead_parse(S("ABCDEFGHIJKLMNOPQ /m HTTP/1.1\r\n\r\n"), &h) ==
	    PDS_ETOOBIG, "a long method");
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 300);
	memcpy(big + 305, " HTTP/1.1\r\n\r\n", 13);
	CHECK(httphead_parse(big, 318, &h) == PDS_ETOOBIG, "a long path");
	t_group_end();
}

int
main(void)
{
	test_parse();
	return t_done("test_httphead");
}
