/*
 * httphead: an HTTP/1.x request head reader.  See httphead.h.
 */
#include <string.h>
#include <strings.h>

#include "err.h"
#include "httphead.h"

/* The offset just past the first CRLF CRLF in buf[0..n), or 0. */
static size_t
head_end(const char *buf, size_t n)
{
	size_t	 i;

	for (i = 0; i + 3 < n; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' &&
		    buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return i + 4;
	return 0;
}

/*
 * Whether buf[0..end) has only CRLF line ends (no bare CR or LF) and no
 * control bytes but tab: a header value can then hold neither.
 */
static int
clean(const char *buf, size_t end)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < end; i++) {
		c = (unsigned char)buf[i];
		if (c == '\r' && (i + 1 == end || buf[i + 1] != '\n'))
			return 0;
		if (c == '\n' && (i == 0 || buf[i - 1] != '\r'))
			return 0;
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
		    c == 0x7f)
			return 0;
	}
	return 1;
}

static int
target_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

int
httphead_parse(const char *buf, size_t n, struct httphead *out)
{
	size_t	 end, i, m, p;

	memset(out, 0, sizeof(*out));
	if ((end = head_end(buf, n)) == 0)
		return PDS_ETRUNC;
	if (!clean(buf, end))
		return PDS_EINVAL;
	for (m = 0; m < end && buf[m] >= 'A' && buf[m] <= 'Z'; m++)
		;
	if (m == 0 || buf[m] != ' ')
		return PDS_EINVAL;
	if (m > HTTPHEAD_METHOD_MAX)
		return PDS_ETOOBIG;
	memcpy(out->method, buf, m);
	i = m + 1;
	if (buf[i] != '/')
		return PDS_EINVAL;
	for (p = 0; i < end && target_char((unsigned char)buf[i]); i++) {
		if (buf[i] == '?')
			p = HTTPHEAD_PATH_MAX + 1;	/* the query: skip */
		if (p == HTTPHEAD_PATH_MAX + 1)
			continue;
		if (p == HTTPHEAD_PATH_MAX)
			return PDS_ETOOBIG;
		out->path[p++] = buf[i];
	}
	if (i + 10 > end || memcmp(buf + i, " HTTP/1.", 8) != 0 ||
	    (buf[i + 8] != '0' && buf[i + 8] != '1') || buf[i + 9] != '\r')
		return PDS_EINVAL;
	out->len = end;
	return PDS_OK;
}

const char *
httphead_header(const char *buf, size_t n, const char *name, size_t *vlen)
{
	size_t	 k = strlen(name), i = 0, e, v;

	*vlen = 0;
	/* each line starts after a CRLF; the request line is skipped */
	for (;;) {
		while (i + 1 < n && !(buf[i] == '\r' && buf[i + 1] == '\n'))
			i++;
		if (i + 1 >= n)
			return NULL;
		i += 2;
		for (e = i; e + 1 < n && !(buf[e] == '\r' &&
		    buf[e + 1] == '\n'); e++)
			;
		if (e == i || e + 1 >= n)
			return NULL;		/* the empty line: the end */
		if (e - i > k && strncasecmp(buf + i, name, k) == 0 &&
		    buf[i + k] == ':') {
			for (v = i + k + 1; v < e && (buf[v] == ' ' ||
			    buf[v] == '\t'); v++)
				;
			while (e > v && (buf[e - 1] == ' ' ||
			    buf[e - 1] == '\t'))
				e--;
			*vlen = e - v;
			return buf + v;
		}
		i = e;
	}
}
