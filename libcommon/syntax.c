/*
 * syntax: hand-written validators for atproto identifiers and lexicon
 * string formats (atproto-notes §7).  Character classes are spelled out
 * with explicit ranges rather than <ctype.h>, whose answers depend on the
 * locale and are undefined for negative chars.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "syntax.h"

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_alpha(char c)
{
	return is_lower(c) || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static char
to_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of s[0..len) and the NUL-terminated w. */
static bool
eq_nocase(const char *s, size_t len, const char *w)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (w[i] == '\0' || to_lower(s[i]) != to_lower(w[i]))
			return false;
	return w[len] == '\0';
}

static bool
has_prefix(const char *s, size_t len, const char *p)
{
	size_t	 n = strlen(p);

	return len >= n && memcmp(s, p, n) == 0;
}

static size_t
find_char(const char *s, size_t len, char c)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] == c)
			break;
	return i;
}

/* One DNS-style label: 1-63 of [A-Za-z0-9-], no '-' at either end. */
static bool
label_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool
syntax_is_handle(const char *s, size_t len)
{
	size_t	 start = 0, end, labels = 0;

	if (len == 0 || len > HANDLE_MAX)
		return false;
	for (;;) {
		end = start + find_char(s + start, len - start, '.');
		if (!label_ok(s + start, end - start))
			return false;
		labels++;
		if (end == len)
			break;
		start = end + 1;
	}
	/* The TLD starts with a letter (so no IP addresses, no "john.0"). */
	return labels >= 2 && is_alpha(s[start]);
}

bool
syntax_is_did(const char *s, size_t len)
{
	size_t	 i = 4, m;
	char	 c;

	if (len > DID_MAX || !has_prefix(s, len, "did:"))
		return false;
	for (m = i; i < len && is_lower(s[i]); i++)
		;
	if (i == m || i >= len || s[i] != ':')
		return false;
	if (++i >= len)
		return false;
	for (; i < len; i++) {
		c = s[i];
		if (!is_alnum(c) && c != '.' && c != '_' && c != '-' &&
		    c != ':' && c != '%')
			return false;
	}
	c = s[len - 1];
	return c != ':' && c != '%';
}

bool
syntax_is_nsid(const char *s, size_t len)
{
	size_t	 start = 0, end, segs = 0, i;

	if (len == 0 || len > NSID_MAX)
		return false;
	for (;;) {
		end = start + find_char(s + start, len - start, '.');
		if (end == len)
			break;
		/* An authority segment. */
		if (!label_ok(s + start, end - start))
			return false;
		if (segs == 0 && !is_alpha(s[0]))
			return false;
		segs++;
		start = end + 1;
	}
	/*
	 * The notes give the authority a 253-character cap, but the interop
	 * lists (and the reference) only cap the whole NSID.
	 */
	if (segs < 2)
		return false;
	/* The name: 1-63 of [A-Za-z0-9], starting with a letter. */
	if (len - start == 0 || len - start > 63 || !is_alpha(s[start]))
		return false;
	for (i = start; i < len; i++)
		if (!is_alnum(s[i]))
			return false;
	return true;
}

bool
syntax_rkey_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == ':' || c == '~' ||
	    c == '-';
}

bool
syntax_is_rkey(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > RKEY_MAX)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (i = 0; i < len; i++)
		if (!syntax_rkey_char(s[i]))
			return false;
	return true;
}

bool
syntax_is_atidentifier(const char *s, size_t len)
{
	if (has_prefix(s, len, "did:"))
		return syntax_is_did(s, len);
	return syntax_is_handle(s, len);
}

bool
syntax_is_aturi(const char *s, size_t len)
{
	size_t	 n;

	if (len > ATURI_MAX || !has_prefix(s, len, "at://"))
		return false;
	s += 5;
	len -= 5;
	n = find_char(s, len, '/');
	if (!syntax_is_atidentifier(s, n))
		return false;
	if (n == len)
		return true;
	s += n + 1;
	len -= n + 1;
	n = find_char(s, len, '/');
	if (!syntax_is_nsid(s, n))
		return false;
	if (n == len)
		return true;
	return syntax_is_rkey(s + n + 1, len - n - 1);
}

static const char tid_alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";

bool
syntax_is_tid(const char *s, size_t len)
{
	size_t	 i;

	if (len != 13)
		return false;
	/* The first character carries the top bit: it must be 0. */
	if (memchr(tid_alphabet, s[0], 16) == NULL || s[0] == '\0')
		return false;
	for (i = 1; i < len; i++)
		if (s[i] == '\0' || memchr(tid_alphabet, s[i], 32) == NULL)
			return false;
	return true;
}

bool
syntax_is_cid(const char *s, size_t len)
{
	size_t	 i;

	if (len < 8 || len > 256)
		return false;
	for (i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '+' && s[i] != '=')
			return false;
	/* CIDv0 (base58 multihash, "Qm...") is not supported. */
	return !(s[0] == 'Q' && s[1] == 'm');
}

/*
 * Length of a Unicode space character (as JavaScript's \s knows them)
 * encoded in UTF-8 at s, or 0.  ASCII blanks and controls are handled by
 * the caller.
 */
static size_t
utf8_space(const unsigned char *s, size_t len)
{
	if (len >= 2 && s[0] == 0xc2 && s[1] == 0xa0)		/* U+00A0 */
		return 2;
	if (len < 3)
		return 0;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)	/* U+1680 */
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    ((s[2] >= 0x80 && s[2] <= 0x8a) ||		/* U+2000-200A */
	    s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))	/* 2028 2029 202F */
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)	/* U+205F */
		return 3;
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)	/* U+3000 */
		return 3;
	if (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)	/* U+FEFF */
		return 3;
	return 0;
}

bool
syntax_is_uri(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t	 i = 0;

	if (len == 0 || len > URI_MAX || !is_alpha(s[0]))
		return false;
	for (i = 1; i < len && (is_alnum(s[i]) || s[i] == '+' ||
	    s[i] == '-' || s[i] == '.'); i++)
		;
	if (i >= len || s[i] != ':')
		return false;
	i++;
	if (len - i >= 2 && s[i] == '/' && s[i + 1] == '/')
		i += 2;
	/* Something must follow, and it may not start with another '/'. */
	if (i >= len || s[i] == '/')
		return false;
	for (; i < len; i++)
		if (u[i] <= 0x20 || u[i] == 0x7f || utf8_space(u + i, len - i))
			return false;
	return true;
}

/* ---- datetime ------------------------------------------------------- */

struct dt {
	int	 year, mon, day, hour, min, sec;
	bool	 frac_zero;	/* no fraction, or only zero digits */
	int	 off;		/* offset east of UTC, in minutes */
	int	 offh, offm;	/* its digits */
};

static int
num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* The lexical form; fills *d with the raw (unchecked) field values. */
static bool
dt_shape(const char *s, size_t len, struct dt *d)
{
	/* Digit positions in "YYYY-MM-DDTHH:MM:SS". */
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t	 i;

	if (len > DATETIME_MAX || len < sizeof(pat) - 1 + 1)
		return false;
	for (i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'd' ? !is_digit(s[i]) : s[i] != pat[i])
			return false;
	}
	d->year = num2(s) * 100 + num2(s + 2);
	d->mon = num2(s + 5);
	d->day = num2(s + 8);
	d->hour = num2(s + 11);
	d->min = num2(s + 14);
	d->sec = num2(s + 17);
	d->frac_zero = true;
	d->off = d->offh = d->offm = 0;
	if (s[i] == '.') {
		size_t	 start = ++i;

		for (; i < len && is_digit(s[i]); i++)
			if (s[i] != '0')
				d->frac_zero = false;
		if (i == start)
			return false;
	}
	if (i >= len)
		return false;
	if (s[i] == 'Z')
		return i + 1 == len;
	if ((s[i] != '+' && s[i] != '-') || len - i != 6 ||
	    !is_digit(s[i + 1]) || !is_digit(s[i + 2]) || s[i + 3] != ':' ||
	    !is_digit(s[i + 4]) || !is_digit(s[i + 5]))
		return false;
	d->offh = num2(s + i + 1);
	d->offm = num2(s + i + 4);
	d->off = d->offh * 60 + d->offm;
	if (s[i] == '-') {
		/* RFC 3339's "unknown local offset" is not allowed. */
		if (d->off == 0)
			return false;
		d->off = -d->off;
	}
	return true;
}

bool
syntax_datetime_shape(const char *s, size_t len)
{
	struct dt	 d;

	return dt_shape(s, len, &d);
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

bool
syntax_is_datetime(const char *s, size_t len)
{
	struct dt	 d;
	int		 m, mins;

	if (!dt_shape(s, len, &d))
		return false;
	if (d.mon < 1 || d.mon > 12 || d.day < 1 ||
	    d.day > month_days(d.year, d.mon))
		return false;
	/* 24:00:00 is the end of the day (ECMAScript accepts it too). */
	if (d.hour == 24) {
		if (d.min != 0 || d.sec != 0 || !d.frac_zero)
			return false;
	} else if (d.hour > 23)
		return false;
	if (d.min > 59 || d.sec > 59)
		return false;
	if (d.offh > 23 || d.offm > 59)
		return false;
	if (d.year == 0 && d.off > 0) {
		/* Minutes since 0000-01-01T00:00 local, minus the offset. */
		mins = 0;
		for (m = 1; m < d.mon; m++)
			mins += month_days(0, m) * 24 * 60;
		mins += ((d.day - 1) * 24 + d.hour) * 60 + d.min;
		if (mins - d.off < 0)
			return false;
	}
	return true;
}

/* ---- language tags (RFC 5646) --------------------------------------- */

static const char *const lang_grandfathered[] = {
	"en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak",
	"i-klingon", "i-lux", "i-mingo", "i-navajo", "i-pwn", "i-tao",
	"i-tay", "i-tsu", "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE",
	"art-lojban", "cel-gaulish", "no-bok", "no-nyn", "zh-guoyu",
	"zh-hakka", "zh-min", "zh-min-nan", "zh-xiang",
};

struct subtag {
	const char	*p;
	size_t		 len;
	bool		 alpha, digit, alnum;
};

/* Read the subtag at *pos (up to the next '-'); false if none is left. */
static bool
subtag_next(const char *s, size_t len, size_t *pos, struct subtag *t)
{
	size_t	 i;

	if (*pos > len)
		return false;
	t->p = s + *pos;
	t->len = find_char(t->p, len - *pos, '-');
	t->alpha = t->digit = t->alnum = true;
	for (i = 0; i < t->len; i++) {
		if (!is_alpha(t->p[i]))
			t->alpha = false;
		if (!is_digit(t->p[i]))
			t->digit = false;
		if (!is_alnum(t->p[i]))
			t->alnum = false;
	}
	*pos += t->len + 1;
	return true;
}

/* Does the variant t occur earlier in s (before t), case-insensitively? */
static bool
variant_repeated(const char *s, const struct subtag *t)
{
	const char	*q = s, *end = t->p;
	size_t		 n, i;

	while (q < end) {
		for (n = 0; q + n < end && q[n] != '-'; n++)
			;
		if (n == t->len) {
			for (i = 0; i < n; i++)
				if (to_lower(q[i]) != to_lower(t->p[i]))
					break;
			if (i == n)
				return true;
		}
		q += n + 1;
	}
	return false;
}

static int
singleton_index(char c)
{
	c = to_lower(c);
	return is_digit(c) ? c - '0' : 10 + (c - 'a');
}

/*
 * The RFC 5646 langtag / privateuse / grandfathered grammar, with a
 * lower-case primary language subtag of 2-3 letters.  With strict, a
 * repeated variant or extension singleton also fails.
 */
static bool
language_check(const char *s, size_t len, bool strict)
{
	enum { ST_LANG, ST_SCRIPT, ST_REGION, ST_VARIANT, ST_EXT } st;
	struct subtag	 t;
	size_t		 pos = 0, i, nextlang = 0, ext_subtags = 0;
	uint64_t	 singletons = 0;
	bool		 in_ext = false;

	if (len == 0 || memchr(s, '\0', len) != NULL)
		return false;
	for (i = 0; i < sizeof(lang_grandfathered) /
	    sizeof(lang_grandfathered[0]); i++)
		if (eq_nocase(s, len, lang_grandfathered[i]))
			return is_lower(s[0]);

	subtag_next(s, len, &pos, &t);
	if (t.len == 1 && (t.p[0] == 'x' || t.p[0] == 'X'))
		goto privateuse;
	if (t.len < 2 || t.len > 3 || !t.alpha)
		return false;
	for (i = 0; i < t.len; i++)
		if (!is_lower(t.p[i]))
			return false;

	st = ST_LANG;
	while (subtag_next(s, len, &pos, &t)) {
		if (t.len == 0 || t.len > 8 || !t.alnum)
			return false;
		if (t.len == 1) {
			if (in_ext && ext_subtags == 0)
				return false;
			if (t.p[0] == 'x' || t.p[0] == 'X')
				goto privateuse;
			i = (size_t)singleton_index(t.p[0]);
			if (strict && (singletons & ((uint64_t)1 << i)))
				return false;
			singletons |= (uint64_t)1 << i;
			st = ST_EXT;
			in_ext = true;
			ext_subtags = 0;
			continue;
		}
		if (in_ext) {
			/* Extension subtags are 2-8 alphanumerics. */
			ext_subtags++;
			continue;
		}
		if (st == ST_LANG && t.len == 3 && t.alpha && nextlang < 3) {
			nextlang++;		/* extlang */
			continue;
		}
		if (st <= ST_LANG && t.len == 4 && t.alpha) {
			st = ST_SCRIPT;
			continue;
		}
		if (st <= ST_SCRIPT &&
		    ((t.len == 2 && t.alpha) || (t.len == 3 && t.digit))) {
			st = ST_REGION;
			continue;
		}
		if (st <= ST_VARIANT &&
		    (t.len >= 5 || (t.len == 4 && is_digit(t.p[0])))) {
			if (strict && st == ST_VARIANT && variant_repeated(s, &t))
				return false;
			st = ST_VARIANT;
			continue;
		}
		return false;
	}
	return !in_ext || ext_subtags > 0;

privateuse:
	/* "x" then one or more subtags of 1-8 alphanumerics, to the end. */
	if (!subtag_next(s, len, &pos, &t))
		return false;
	do {
		if (t.len == 0 || t.len > 8 || !t.alnum)
			return false;
	} while (subtag_next(s, len, &pos, &t));
	return true;
}

bool
syntax_language_shape(const char *s, size_t len)
{
	return language_check(s, len, false);
}

bool
syntax_is_language(const char *s, size_t len)
{
	return language_check(s, len, true);
}

/* ---- handle and DID helpers ----------------------------------------- */

int
handle_normalize(char *out, size_t cap, const char *s, size_t len)
{
	size_t	 i;

	if (!syntax_is_handle(s, len))
		return PDS_EINVAL;
	if (cap <= len)
		return PDS_ETOOBIG;
	for (i = 0; i < len; i++)
		out[i] = to_lower(s[i]);
	out[len] = '\0';
	return (int)len;
}

bool
handle_is_reserved_tld(const char *s, size_t len, bool allow_test)
{
	static const char *const reserved[] = {
		"alt", "arpa", "example", "internal", "invalid", "local",
		"localhost", "onion",
	};
	size_t	 i, dot;

	for (dot = len; dot > 0 && s[dot - 1] != '.'; dot--)
		;
	s += dot;
	len -= dot;
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (eq_nocase(s, len, reserved[i]))
			return true;
	return !allow_test && eq_nocase(s, len, "test");
}

bool
did_is_plc(const char *s, size_t len)
{
	size_t	 i;

	if (len != DID_PLC_LEN || !has_prefix(s, len, "did:plc:"))
		return false;
	for (i = 8; i < len; i++)
		if (!is_lower(s[i]) && !(s[i] >= '2' && s[i] <= '7'))
			return false;
	return true;
}

bool
did_is_web(const char *s, size_t len)
{
	size_t	 i, pct, port;

	if (!has_prefix(s, len, "did:web:") || !syntax_is_did(s, len))
		return false;
	s += 8;
	len -= 8;
	pct = find_char(s, len, '%');
	if (pct == len)
		return eq_nocase(s, len, "localhost") || syntax_is_handle(s, len);
	/* Only "localhost%3A<port>". */
	if (!eq_nocase(s, pct, "localhost") || len - pct < 4 ||
	    s[pct + 1] != '3' || to_lower(s[pct + 2]) != 'a')
		return false;
	port = 0;
	for (i = pct + 3; i < len; i++) {
		if (!is_digit(s[i]) || i - (pct + 3) >= 5)
			return false;
		port = port * 10 + (size_t)(s[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

bool
syntax_dec_i64(const char *s, int64_t *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

bool
syntax_dec_u64(const char *s, uint64_t *out)
{
	uint64_t	 v = 0, d;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		d = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}
