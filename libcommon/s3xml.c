/*
 * s3xml: text of named elements in an S3 answer.  See s3xml.h.
 */
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "s3xml.h"

#define TAG_MAX	64

/* Where needle[0..n) first occurs in h[from..len), or len. */
static size_t
find(const char *h, size_t len, size_t from, const char *needle, size_t n)
{
	size_t	 i;

	if (n == 0 || len < n)
		return len;
	for (i = from; i + n <= len; i++)
		if (h[i] == needle[0] && memcmp(h + i, needle, n) == 0)
			return i;
	return len;
}

/* Append code point cp as UTF-8; false when it does not fit or is bad. */
static int
put_utf8(char *out, size_t cap, size_t *o, uint32_t cp)
{
	char	 b[4];
	size_t	 n, i;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return PDS_EINVAL;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*o + n >= cap)
		return PDS_ETOOBIG;
	for (i = 0; i < n; i++)
		out[(*o)++] = b[i];
	return PDS_OK;
}

/* "&...;" at s[0..n): its code point, or 0. */
static uint32_t
entity(const char *s, size_t n)
{
	static const struct {
		const char	*name;
		uint32_t	 cp;
	} named[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' },
		{ "quot", '"' }, { "apos", '\'' },
	};
	uint32_t	 cp = 0, d;
	size_t		 i, base = 10;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strlen(named[i].name) == n &&
		    memcmp(named[i].name, s, n) == 0)
			return named[i].cp;
	if (n < 2 || s[0] != '#')
		return 0;
	i = 1;
	if (s[1] == 'x') {
		base = 16;
		i = 2;
	}
	if (i >= n || n - i > 8)
		return 0;
	for (; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = (uint32_t)(s[i] - '0');
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = (uint32_t)(s[i] - 'a' + 10);
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = (uint32_t)(s[i] - 'A' + 10);
		else
			return 0;
		cp = cp * (uint32_t)base + d;
		if (cp > 0x10ffff)
			return 0;
	}
	return cp;
}

static int
decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t		 i, o = 0, e;
	uint32_t	 cp;
	int		 rc;

	for (i = 0; i < n; i++) {
		if (s[i] == '\0')
			return PDS_EINVAL;
		if (s[i] != '&') {
			if (o + 1 >= cap)
				return PDS_ETOOBIG;
			out[o++] = s[i];
			continue;
		}
		for (e = i + 1; e < n && e - i <= 12 && s[e] != ';'; e++)
			;
		if (e >= n || s[e] != ';' ||
		    (cp = entity(s + i + 1, e - i - 1)) == 0)
			return PDS_EINVAL;
		if ((rc = put_utf8(out, cap, &o, cp)) != PDS_OK)
			return rc;
		i = e;
	}
	out[o] = '\0';
	return PDS_OK;
}

int
s3xml_next(const char *xml, size_t len, const char *tag, size_t *pos,
    char *out, size_t cap)
{
	char	 open[TAG_MAX + 3], close[TAG_MAX + 4];
	size_t	 tn = strlen(tag), a, b, on, cn;

	if (cap == 0)
		return PDS_ETOOBIG;
	out[0] = '\0';
	if (tn == 0 || tn > TAG_MAX || *pos > len)
		return PDS_EINVAL;
	on = (size_t)(1 + tn + 1);
	cn = (size_t)(2 + tn + 1);
	open[0] = '<';
	memcpy(open + 1, tag, tn);
	open[1 + tn] = '>';
	close[0] = '<';
	close[1] = '/';
	memcpy(close + 2, tag, tn);
	close[2 + tn] = '>';
	if ((a = find(xml, len, *pos, open, on)) == len)
		return PDS_ENOTFOUND;
	a += on;
	if ((b = find(xml, len, a, close, cn)) == len)
		return PDS_EINVAL;
	if (memchr(xml + a, '<', b - a) != NULL)	/* not a text element */
		return PDS_EINVAL;
	*pos = b + cn;
	return decode(xml + a, b - a, out, cap);
}

int
s3xml_get(const char *xml, size_t len, const char *tag, char *out,
    size_t cap)
{
	size_t	 pos = 0;

	return s3xml_next(xml, len, tag, &pos, out, cap);
}
