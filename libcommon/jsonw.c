/*
 * jsonw: JSON text written directly into a buf.  See jsonw.h.
 */
#include <inttypes.h>
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
	if ((rc = buf_reserve(b, len + 2)) != PDS_OK)
		return rc;
	b->p[b->len++] = '"';
	for (i = 0; i < len;) {
		for (run = i; run < len && !needs_escape[p[run]]; run++)
			;
		if (run > i) {
			if ((rc = buf_append(b, p + i, run - i)) != PDS_OK)
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
		if ((rc = buf_append(b, esc, elen)) != PDS_OK)
			return rc;
		i++;
	}
	return buf_putc(b, '"');
}

int
jsonw_cstr(struct buf *b, const char *s)
{
	return jsonw_string(b, s, strlen(s));
}

static int
write_bytes(struct buf *b, const uint8_t *p, size_t len)
{
	size_t	 cap;
	long	 n;
	int	 rc;

	if (len > (SIZE_MAX - 16) / 4 * 3)
		return PDS_ETOOBIG;
	cap = B64_ENC_LEN(len) + 1;
	if ((rc = buf_append(b, "{\"$bytes\":\"", 11)) != PDS_OK ||
	    (rc = buf_reserve(b, cap + 2)) != PDS_OK)
		return rc;
	if ((n = b64_encode((char *)b->p + b->len, cap, p, len)) < 0)
		return PDS_EINVAL;
	b->len += (size_t)n;
	return buf_append(b, "\"}", 2);
}

static int
write_value(struct buf *b, const struct dm_value *v, int depth)
{
	char	 tmp[CID_STR_MAX];
	size_t	 i;
	int	 n, rc;

	if (v == NULL || depth > JSONW_MAX_DEPTH)
		return PDS_EINVAL;
	switch (v->type) {
	case DM_NULL:
		return buf_append(b, "null", 4);
	case DM_BOOL:
		return v->u.b ? buf_append(b, "true", 4) :
		    buf_append(b, "false", 5);
	case DM_INT:
		n = snprintf(tmp, sizeof(tmp), "%" PRId64, v->u.i);
		return buf_append(b, tmp, (size_t)n);
	case DM_STRING:
		return jsonw_string(b, (const char *)v->u.s.p, v->u.s.len);
	case DM_BYTES:
		return write_bytes(b, v->u.s.p, v->u.s.len);
	case DM_LINK:
		if (cid_format(&v->u.link, tmp, sizeof(tmp)) < 0)
			return PDS_EINVAL;
		if ((rc = buf_append(b, "{\"$link\":\"", 10)) != PDS_OK ||
		    (rc = buf_puts(b, tmp)) != PDS_OK)
			return rc;
		return buf_append(b, "\"}", 2);
	case DM_ARRAY:
		if ((rc = buf_putc(b, '[')) != PDS_OK)
			return rc;
		for (i = 0; i < v->u.arr.n; i++) {
			if ((i > 0 && (rc = buf_putc(b, ',')) != PDS_OK) ||
			    (rc = write_value(b, v->u.arr.items[i],
			    depth + 1)) != PDS_OK)
				return rc;
		}
		return buf_putc(b, ']');
	case DM_MAP:
		if ((rc = buf_putc(b, '{')) != PDS_OK)
			return rc;
		for (i = 0; i < v->u.map.n; i++) {
			if ((i > 0 && (rc = buf_putc(b, ',')) != PDS_OK) ||
			    (rc = jsonw_string(b, v->u.map.e[i].key,
			    v->u.map.e[i].klen)) != PDS_OK ||
			    (rc = buf_putc(b, ':')) != PDS_OK ||
			    (rc = write_value(b, v->u.map.e[i].val,
			    depth + 1)) != PDS_OK)
				return rc;
		}
		return buf_putc(b, '}');
	}
	return PDS_EINVAL;
}

int
jsonw_dm(struct buf *b, const struct dm_value *v)
{
	return write_value(b, v, 0);
}
