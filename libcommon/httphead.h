/*
 * httphead: a small, strict reader of an HTTP/1.x request head, for
 * listeners too simple for libmicrohttpd (pdsd's metrics endpoint).
 *
 * The head is the bytes up to and including the first CRLF CRLF.  The
 * request line must be "METHOD SP target SP HTTP/1.x" with a method of
 * upper-case letters and an origin-form target ("/..." without spaces
 * or control bytes); the target's path (before any '?') is copied out,
 * bounded.  Header lines are read only on demand, by name.
 */
#ifndef PDS_HTTPHEAD_H
#define PDS_HTTPHEAD_H

#include <stddef.h>

#define HTTPHEAD_METHOD_MAX	15
#define HTTPHEAD_PATH_MAX	255

struct httphead {
	char	 method[HTTPHEAD_METHOD_MAX + 1];
	char	 path[HTTPHEAD_PATH_MAX + 1];
	size_t	 len;		/* bytes of the head, CRLF CRLF included */
};

/*
 * Parse the head at the start of buf[0..n): PDS_OK, PDS_ETRUNC when no
 * CRLF CRLF is there yet, PDS_EINVAL for a malformed request line,
 * PDS_ETOOBIG for a method or path over its bound.
 */
int	httphead_parse(const char *buf, size_t n, struct httphead *out);

/*
 * The value of the first header called name (case-insensitive) in the
 * head buf[0..n) (n from httphead_parse()), without the spaces around
 * it: a pointer into buf and its length in *vlen; NULL if absent.
 */
const char *httphead_header(const char *buf, size_t n, const char *name,
	    size_t *vlen);

#endif
