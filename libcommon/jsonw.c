/*
 * jsonw: JSON text written directly into a buf.  See jsonw.h.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cid.h"
#include "err.h"
#include "jsonw.h"
#include "multibase.h"

#define JSONW_MAX_DEPTH	128

/*
 * Bytes that need an escape: '"', '\\' and the controls below 0x20, as
 * json_dumps() does without JSON_ESCAPE_SLASH or JSON_ENSURE_ASCII.
 * UTF-8 sequences pass through unchanged.
 */
static const uint8_t needs_escape[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

/*
 * Room for n more bytes (and the NUL) is already there: the common case,
 * checked inline; buf_reserve() decides the rest.  buf_reserve() never
 * lets cap pass max + 1, so this cannot pass the buffer's maximum.
 */
static inline bool
room(const struct buf *b, size_t n)
{
	return b->cap > b->len && b->cap - b->len > n;
}

static inline int
put1(struct buf *b, uint8_t c)
{
	if (!room(b, 1))
		return buf_putc(b, c);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
	return PDS_OK;
}

static inline int
putn(struct buf *b, const void *p, size_t n)
{
	if (!room(b, n))
		return buf_append(b, p, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return PDS_OK;
}

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* A word of eight bytes has one below 0x20, '"' or '\\' (or may have). */
static inline bool
word_escapes(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), s = w ^ (ONES * '\\');

	return ((((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) |
	    ((s - ONES) & ~s)) & HIGHS) != 0;
}

/*
 * The length of the run at the start of p[0..len) that needs no escape.
 * Eight bytes at a time: a word is clean when none of its bytes is below
 * 0x20, '"' or '\\' (bytes from 0x80 up, UTF-8, are clean); a word
 * that may hold one is left to the byte loop, which decides.
 */
static size_t
clean_run(const uint8_t *p, size_t len)
{
	uint64_t w;
	size_t	 i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		if (word_escapes(w))
			break;
	}
	if (i < len && len >= 8 && i + 8 > len) {
		/* the last bytes, in a word that overlaps the one before */
		memcpy(&w, p + len - 8, 8);
		if (!word_escapes(w))
			return len;
	}
	while (i < len && !needs_escape[p[i]])
		i++;
	return i;
}

bool
jsonw_is_plain(const uint8_t *p, size_t len)
{
	uint64_t w;
	uint32_t lo, hi;
	size_t	 i;

	if (len < 4) {
		for (i = 0; i < len; i++)
			if (p[i] >= 0x80 || needs_escape[p[i]])
				return false;
		return true;
	}
	if (len < 8) {
		/* the first four bytes and the last four (which may overlap) */
		memcpy(&lo, p, 4);
		memcpy(&hi, p + len - 4, 4);
		w = (uint64_t)hi << 32 | lo;
		return (w & HIGHS) == 0 && !word_escapes(w);
	}
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		if ((w & HIGHS) != 0 || word_escapes(w))
			return false;
	}
	/* the last bytes, in a word that overlaps the one before */
	memcpy(&w, p + len - 8, 8);
	return (w & HIGHS) == 0 && !word_escapes(w);
}

int
jsonw_plain(struct buf *b, const char *s, size_t len)
{
	uint8_t	*q;
	int	 rc;

	if ((len >= b->cap || !room(b, len + 2)) &&
	    (rc = buf_reserve(b, len + 2)) != PDS_OK)
		return rc;
	q = b->p + b->len;
	q[0] = '"';
	memcpy(q + 1, s, len);
	q[len + 1] = '"';
	q[len + 2] = '\0';
	b->len += len + 2;
	return PDS_OK;
}

int
jsonw_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint8_t	*p = (const uint8_t *)s;
	size_t		 i, run;
	char		 esc[6];
	size_t		 elen;
	int		 rc;

	/* Most strings need no escape: reserve for that case at once. */
	if ((len >= b->cap || !room(b, len + 2)) &&
	    (rc = buf_reserve(b, len + 2)) != PDS_OK)
		return rc;
	if ((run = clean_run(p, len)) == len)
		return jsonw_plain(b, s, len);
	b->p[b->len++] = '"';
	for (i = 0; i < len;) {
		if (i > 0)
			run = i + clean_run(p + i, len - i);
		if (run > i) {
			if ((rc = putn(b, p + i, run - i)) != PDS_OK)
				return rc;
			i = run;
			if (i == len)
				break;
		}
		esc[0] = '\\';
		elen = 2;
		switch (p[i]) {
		case '"':  esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 0xf];
			elen = 6;
			break;
		}
		if ((rc = putn(b, esc, elen)) != PDS_OK)
			return rc;
		i++;
	}
	return put1(b, '"');
}

int
jsonw_cstr(struct buf *b, const char *s)
{
	return jsonw_string(b, s, strlen(s));
}

int
jsonw_bytes(struct buf *b, const uint8_t *p, size_t len)
{
	size_t	 cap;
	long	 n;
	int	 rc;

	if (len > (SIZE_MAX - 16) / 4 * 3)
		return PDS_ETOOBIG;
	cap = B64_ENC_LEN(len) + 1;
	if ((rc = putn(b, "{\"$bytes\":\"", 11)) != PDS_OK ||
	    (rc = buf_reserve(b, cap + 2)) != PDS_OK)
		return rc;
	if ((n = b64_encode((char *)b->p + b->len, cap, p, len)) < 0)
		return PDS_EINVAL;
	b->len += (size_t)n;
	return putn(b, "\"}", 2);
}

int
jsonw_link(struct buf *b, const struct cid *c)
{
	char	 tmp[CID_STR_MAX];
	int	 rc;

	if (cid_format(c, tmp, sizeof(tmp)) < 0)
		return PDS_EINVAL;
	if ((rc = putn(b, "{\"$link\":\"", 10)) != PDS_OK ||
	    (rc = putn(b, tmp, strlen(tmp))) != PDS_OK)
		return rc;
	return putn(b, "\"}", 2);
}

int
jsonw_int(struct buf *b, int64_t i)
{
	char	 tmp[24];
	int	 n;

	n = snprintf(tmp, sizeof(tmp), "%" PRId64, i);
	return putn(b, tmp, (size_t)n);
}

int
jsonw_key(struct buf *b, bool first, const char *key, size_t klen)
{
	int	 rc;

	if ((!first && (rc = put1(b, ',')) != PDS_OK) ||
	    (rc = jsonw_string(b, key, klen)) != PDS_OK)
		return rc;
	return put1(b, ':');
}

int
jsonw_char(struct buf *b, char c)
{
	return put1(b, (uint8_t)c);
}

int
jsonw_lit(struct buf *b, const char *s, size_t len)
{
	return putn(b, s, len);
}

static int
write_value(struct buf *b, const struct dm_value *v, int depth)
{
	size_t	 i;
	int	 rc;

	if (v == NULL || depth > JSONW_MAX_DEPTH)
		return PDS_EINVAL;
	switch (v->type) {
	case DM_NULL:
		return putn(b, "null", 4);
	case DM_BOOL:
		return v->u.b ? putn(b, "true", 4) : putn(b, "false", 5);
	case DM_INT:
		return jsonw_int(b, v->u.i);
	case DM_STRING:
		return jsonw_string(b, (const char *)v->u.s.p, v->u.s.len);
	case DM_BYTES:
		return jsonw_bytes(b, v->u.s.p, v->u.s.len);
	case DM_LINK:
		return jsonw_link(b, &v->u.link);
	case DM_ARRAY:
		if ((rc = put1(b, '[')) != PDS_OK)
			return rc;
		for (i = 0; i < v->u.arr.n; i++) {
			if ((i > 0 && (rc = put1(b, ',')) != PDS_OK) ||
			    (rc = write_value(b, v->u.arr.items[i],
			    depth + 1)) != PDS_OK)
				return rc;
		}
		return put1(b, ']');
	case DM_MAP:
		if ((rc = put1(b, '{')) != PDS_OK)
			return rc;
		for (i = 0; i < v->u.map.n; i++) {
			if ((rc = jsonw_key(b, i == 0, v->u.map.e[i].key,
			    v->u.map.e[i].klen)) != PDS_OK ||
			    (rc = write_value(b, v->u.map.e[i].val,
			    depth + 1)) != PDS_OK)
				return rc;
		}
		return put1(b, '}');
	}
	return PDS_EINVAL;
}

int
jsonw_dm(struct buf *b, const struct dm_value *v)
{
	return write_value(b, v, 0);
}
