/*
 * xrpc_lex: query parameters and JSON input checked against a method's
 * lexicon.  See xrpc_lex.h.
 *
 * Messages are built in the caller's buffer; a value shown in one ("got
 * ...") is written as the reference writes it: strings as JSON, cut at
 * 255 UTF-16 units, arrays and objects by their first two members.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cid.h"
#include "lexicon.h"
#include "syntax.h"
#include "xrpc_lex.h"

#define XL_DEPTH	32	/* schema nodes followed, at most */
#define XL_PREVIEW	256	/* the reference's string preview, UTF-16 */

/* A bounded string builder over the caller's buffer. */
struct sb {
	char	*p;
	size_t	 cap, len;
};

static void __attribute__((format(printf, 2, 3)))
sb_add(struct sb *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (b->len + 1 >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	b->len += (size_t)n;
	if (b->len >= b->cap)
		b->len = b->cap - 1;
}

static void
sb_byte(struct sb *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
	}
}

/* Bytes of the UTF-8 sequence led by c (1 for a stray byte). */
static size_t
utf8_len(unsigned char c)
{
	return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* Drop an incomplete UTF-8 sequence that a cut left at the end of msg. */
static void
utf8_trim(char *msg)
{
	size_t	 n = strlen(msg), i = n;

	while (i > 0 && ((unsigned char)msg[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && (unsigned char)msg[i - 1] >= 0xc0 &&
	    i - 1 + utf8_len((unsigned char)msg[i - 1]) > n)
		msg[i - 1] = '\0';
}

/*
 * s[0..len) as JSON.stringify writes it, cut as the reference cuts: a
 * string of XL_PREVIEW UTF-16 units or more is shown by its first
 * XL_PREVIEW - 1 and an ellipsis, which may end in half a surrogate
 * pair (written \udxxx).
 */
static void
sb_jstr(struct sb *b, const char *s, size_t len)
{
	size_t		 i, cl, units = 0, w;
	unsigned char	 c;
	uint32_t	 cp;
	bool		 cut;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			units += (unsigned char)s[i] >= 0xf0 ? 2 : 1;
	cut = units >= XL_PREVIEW;
	units = 0;
	sb_byte(b, '"');
	for (i = 0; i < len; i += cl) {
		c = (unsigned char)s[i];
		if ((cl = utf8_len(c)) > len - i)
			cl = len - i;
		w = cl == 4 ? 2 : 1;
		if (cut && units + w > XL_PREVIEW - 1) {
			if (cl == 4 && units + 1 == XL_PREVIEW - 1) {
				cp = ((uint32_t)(c & 0x07) << 18) |
				    ((uint32_t)(s[i + 1] & 0x3f) << 12) |
				    ((uint32_t)(s[i + 2] & 0x3f) << 6) |
				    (uint32_t)(s[i + 3] & 0x3f);
				sb_add(b, "\\u%04x",
				    0xd800 + ((cp - 0x10000) >> 10));
			}
			break;
		}
		units += w;
		switch (c) {
		case '"':	sb_add(b, "\\\""); break;
		case '\\':	sb_add(b, "\\\\"); break;
		case '\b':	sb_add(b, "\\b"); break;
		case '\f':	sb_add(b, "\\f"); break;
		case '\n':	sb_add(b, "\\n"); break;
		case '\r':	sb_add(b, "\\r"); break;
		case '\t':	sb_add(b, "\\t"); break;
		default:
			if (c < 0x20)
				sb_add(b, "\\u%04x", c);
			else
				sb_add(b, "%.*s", (int)cl, s + i);
		}
	}
	if (cut)
		sb_add(b, "\xe2\x80\xa6");	/* … */
	sb_byte(b, '"');
}

#define XL_SAFE_INT	9007199254740991.0	/* Number.MAX_SAFE_INTEGER */

/*
 * A finite number as JavaScript's String() writes it: the shortest
 * digits that read back the same, k of them, scaled by 10^n (Number::
 * toString of ECMA-262).
 */
static void
sb_num(struct sb *b, double d)
{
	char	 buf[48], dig[24];
	int	 prec, e, k = 0, n, i;
	char	*p;

	if (d == 0 || !isfinite(d)) {
		sb_add(b, d == 0 ? "0" : isnan(d) ? "NaN" : d > 0 ?
		    "Infinity" : "-Infinity");
		return;
	}
	if (d < 0) {
		sb_byte(b, '-');
		d = -d;
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	for (p = buf; *p != 'e' && *p != '\0'; p++)
		if (*p >= '0' && *p <= '9' && k < (int)sizeof(dig) - 1)
			dig[k++] = *p;
	while (k > 1 && dig[k - 1] == '0')
		k--;
	dig[k] = '\0';
	e = *p == 'e' ? atoi(p + 1) : 0;
	n = e + 1;
	if (k <= n && n <= 21) {
		sb_add(b, "%s", dig);
		for (i = k; i < n; i++)
			sb_byte(b, '0');
	} else if (0 < n && n <= 21)
		sb_add(b, "%.*s.%s", n, dig, dig + n);
	else if (-6 < n && n <= 0) {
		sb_add(b, "0.");
		for (i = n; i < 0; i++)
			sb_byte(b, '0');
		sb_add(b, "%s", dig);
	} else
		sb_add(b, "%c%s%s" "e%c%d", dig[0], k > 1 ? "." : "", dig + 1,
		    n - 1 < 0 ? '-' : '+', n - 1 < 0 ? 1 - n : n - 1);
}

static void	sb_value(struct sb *, const json_t *, int depth);

static void
sb_value(struct sb *b, const json_t *v, int depth)
{
	const char	*k;
	json_t		*m;
	size_t		 i, n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		sb_jstr(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:		/* as JavaScript parsed it */
		sb_num(b, (double)json_integer_value(v));
		break;
	case JSON_REAL:
		sb_num(b, json_real_value(v));
		break;
	case JSON_TRUE:
		sb_add(b, "true");
		break;
	case JSON_FALSE:
		sb_add(b, "false");
		break;
	case JSON_NULL:
		sb_add(b, "null");
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		sb_byte(b, '[');
		for (i = 0; i < n && i < 2; i++) {
			if (i > 0)
				sb_add(b, ", ");
			if (depth < 4)
				sb_value(b, json_array_get(v, i), depth + 1);
		}
		sb_add(b, "%s]", n > 2 ? ", ..." : "");
		break;
	case JSON_OBJECT:
		i = 0;
		sb_byte(b, '{');
		json_object_foreach((json_t *)v, k, m) {
			if (i == 2) {
				sb_add(b, ", ...");
				break;
			}
			if (i++ > 0)
				sb_add(b, ", ");
			sb_jstr(b, k, strlen(k));
			sb_add(b, ": ...");
		}
		sb_byte(b, '}');
		break;
	}
}

static const char *
format_name(int f)
{
	switch (f) {
	case LEXF_DATETIME:	return "datetime";
	case LEXF_URI:		return "uri";
	case LEXF_ATURI:	return "at-uri";
	case LEXF_DID:		return "DID";
	case LEXF_HANDLE:	return "handle";
	case LEXF_ATID:		return "AT identifier";
	case LEXF_NSID:		return "NSID";
	case LEXF_CID:		return "CID string";
	case LEXF_LANGUAGE:	return "language";
	case LEXF_TID:		return "TID string";
	case LEXF_RKEY:		return "record key";
	default:		return "?";
	}
}

/*
 * A CID string as the reference's XRPC server takes one: it must parse,
 * and print back the same (the record validator's looser cid format is
 * the one @atproto/lexicon applies to records).
 */
static bool
cid_string_ok(const char *s, size_t len)
{
	struct cid	 c;
	char		 buf[128];
	long		 n;

	if (!syntax_is_cid(s, len) || cid_parse(&c, s, len, NULL) != 0)
		return false;
	n = cid_format(&c, buf, sizeof(buf));
	return n >= 0 && (size_t)n == len && memcmp(buf, s, len) == 0;
}

static bool
format_ok(int f, const char *s, size_t len)
{
	switch (f) {
	case LEXF_DATETIME:	return syntax_is_datetime(s, len);
	case LEXF_URI:		return syntax_is_uri(s, len);
	case LEXF_ATURI:	return syntax_is_aturi(s, len);
	case LEXF_DID:		return syntax_is_did(s, len);
	case LEXF_HANDLE:	return syntax_is_handle(s, len);
	case LEXF_ATID:		return syntax_is_atidentifier(s, len);
	case LEXF_NSID:		return syntax_is_nsid(s, len);
	case LEXF_CID:		return cid_string_ok(s, len);
	case LEXF_LANGUAGE:	return syntax_is_language(s, len);
	case LEXF_TID:		return syntax_is_tid(s, len);
	case LEXF_RKEY:		return syntax_is_rkey(s, len);
	default:		return true;
	}
}

/* "Expected one of "a", "b" or "c"" over the names of n's list. */
static void
sb_one_of(struct sb *b, const struct lex_table *t, const struct lex_node *n,
    bool quote, bool strip_main)
{
	const char	*s;
	size_t		 i, len;

	sb_add(b, "Expected %s", n->n > 1 ? "one of " : "");
	for (i = 0; i < n->n; i++) {
		if (i > 0)
			sb_add(b, i + 1 == n->n ? " or " : ", ");
		s = t->strs[t->items[n->list + i].name];
		len = strlen(s);
		if (strip_main && len > 5 && strcmp(s + len - 5, "#main") == 0)
			len -= 5;
		if (quote)
			sb_jstr(b, s, len);
		else
			sb_add(b, "%.*s", (int)len, s);
	}
}

/*
 * Whether v (what: "string" for a length, "array" for a count,
 * "integer" for a value) is within n's minimum and maximum; if not,
 * the issue goes to b.
 */
static bool
sb_in_bounds(struct sb *b, const struct lex_node *n, const char *what,
    int64_t v)
{
	if ((n->flags & LEXN_MIN) && v < n->min) {
		sb_add(b, "%s too small (minimum %" PRId64 ", got %" PRId64
		    ")", what, n->min, v);
		return false;
	}
	if ((n->flags & LEXN_MAX) && v > n->max) {
		sb_add(b, "%s too big (maximum %" PRId64 ", got %" PRId64 ")",
		    what, n->max, v);
		return false;
	}
	return true;
}

/*
 * A string against a string node: 0, or -1 with the issue (no path) in
 * b.
 */
static int
check_string(struct sb *b, const struct lex_table *t,
    const struct lex_node *n, const char *s, size_t len)
{
	size_t	 i, g;

	if (n->flags & LEXN_CONST) {
		if (strlen(t->strs[n->k]) == len &&
		    memcmp(t->strs[n->k], s, len) == 0)
			return 0;
		sb_add(b, "Expected ");
		sb_jstr(b, t->strs[n->k], strlen(t->strs[n->k]));
		goto got;
	}
	if (n->flags & LEXN_ENUM) {
		for (i = 0; i < n->n; i++) {
			const char *e = t->strs[t->items[n->list + i].name];

			if (strlen(e) == len && memcmp(e, s, len) == 0)
				return 0;
		}
		sb_one_of(b, t, n, true, false);
		goto got;
	}
	if (!sb_in_bounds(b, n, "string", (int64_t)len))
		return -1;
	if ((n->flags & LEXN_GMIN) || ((n->flags & LEXN_GMAX) &&
	    len > n->gmax)) {
		g = lex_graphemes((const uint8_t *)s, len);
		if ((n->flags & LEXN_GMIN) && g < n->gmin) {
			sb_add(b, "grapheme too small (minimum %" PRIu32
			    ", got %zu)", n->gmin, g);
			return -1;
		}
		if ((n->flags & LEXN_GMAX) && g > n->gmax) {
			sb_add(b, "grapheme too big (maximum %" PRIu32
			    ", got %zu)", n->gmax, g);
			return -1;
		}
	}
	if (n->format == LEXF_NONE || format_ok(n->format, s, len))
		return 0;
	sb_add(b, "Invalid %s (", format_name(n->format));
	sb_add(b, "got ");
	sb_jstr(b, s, len);
	sb_byte(b, ')');
	return -1;
got:
	sb_add(b, " (got ");
	sb_jstr(b, s, len);
	sb_byte(b, ')');
	return -1;
}

/* An integer against an integer node, as check_string(). */
static int
check_integer(struct sb *b, const struct lex_table *t,
    const struct lex_node *n, int64_t v)
{
	char	 num[24];
	size_t	 i;

	if ((n->flags & LEXN_CONST) && v != n->k) {
		sb_add(b, "Expected %" PRId64 " (got %" PRId64 ")", n->k, v);
		return -1;
	}
	if (n->flags & LEXN_ENUM) {
		snprintf(num, sizeof(num), "%" PRId64, v);
		for (i = 0; i < n->n; i++)
			if (strcmp(num, t->strs[t->items[n->list + i].name]) ==
			    0)
				return 0;
		sb_one_of(b, t, n, false, false);
		sb_add(b, " (got %" PRId64 ")", v);
		return -1;
	}
	return sb_in_bounds(b, n, "integer", v) ? 0 : -1;
}

/* Follow refs to the node a value is checked against (NULL: none). */
static const struct lex_node *
deref(const struct lex_table *t, const struct lex_node *n)
{
	int	 i;

	for (i = 0; n != NULL && n->type == LEX_REF && i < XL_DEPTH; i++)
		n = n->sub == LEX_NOREF ? NULL : &t->nodes[n->sub];
	return n != NULL && n->type == LEX_REF ? NULL : n;
}

/* ---- query parameters ---- */

/* /^-?[0-9]+$/ and its value (saturated; see XL_SAFE_INT). */
static bool
param_int(const char *s, int64_t *out)
{
	const char	*p = s;
	char		*end;
	long long	 v;

	if (*p == '-')
		p++;
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return false;
	v = strtoll(s, &end, 10);	/* saturates */
	*out = v;
	return true;
}

static const char *
scalar_name(const struct lex_node *n)
{
	switch (n->type) {
	case LEX_INTEGER:	return "integer";
	case LEX_BOOLEAN:	return "boolean";
	default:		return "string";
	}
}

/* The scalar node of a parameter (the items of an array), or NULL. */
static const struct lex_node *
param_scalar(const struct lex_table *t, const struct lex_node *p)
{
	if (p != NULL && p->type == LEX_ARRAY)
		p = p->sub == LEX_NOREF ? NULL : deref(t, &t->nodes[p->sub]);
	return p;
}

/* The coercion of one value (the reference's, in the order sent). */
static int
param_coerce(struct sb *b, const struct lex_node *sc, const char *v)
{
	int64_t	 i;

	if (sc == NULL)
		return 0;
	if (sc->type == LEX_INTEGER && !param_int(v, &i)) {
		sb_add(b, "Expected integer value type (got ");
		sb_jstr(b, v, strlen(v));
		sb_byte(b, ')');
		return -1;
	}
	if (sc->type == LEX_BOOLEAN && strcmp(v, "true") != 0 &&
	    strcmp(v, "false") != 0) {
		sb_add(b, "Expected boolean value type (got ");
		sb_jstr(b, v, strlen(v));
		sb_byte(b, ')');
		return -1;
	}
	return 0;
}

/* A coerced value, as the reference shows it. */
static void
sb_param(struct sb *b, const struct lex_node *sc, const char *v)
{
	if (sc->type == LEX_INTEGER)
		sb_num(b, strtod(v, NULL));	/* Number(v) */
	else if (sc->type == LEX_BOOLEAN)
		sb_add(b, "%s", v);
	else
		sb_jstr(b, v, strlen(v));
}

static int
param_value(struct sb *b, const struct lex_table *t,
    const struct lex_node *sc, const char *v)
{
	int64_t	 i = 0;
	double	 d;

	switch (sc->type) {
	case LEX_INTEGER:
		/* Number(v), which must be a safe integer */
		if (fabs(d = strtod(v, NULL)) > XL_SAFE_INT) {
			sb_add(b, "Expected integer value type (got ");
			sb_num(b, d);
			sb_byte(b, ')');
			return -1;
		}
		(void)param_int(v, &i);
		return check_integer(b, t, sc, i);
	case LEX_STRING:
		return check_string(b, t, sc, v, strlen(v));
	case LEX_BOOLEAN:
		if ((sc->flags & LEXN_CONST) &&
		    (strcmp(v, "true") == 0) != (sc->k != 0)) {
			sb_add(b, "Expected %s (got %s)", sc->k ? "true" :
			    "false", v);
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

/* Every non-empty value of key: how many, and the first three. */
static size_t
param_values(const struct xrpc_qparam *q, size_t n, const char *key,
    const char *first[3])
{
	size_t	 i, c = 0;

	for (i = 0; i < n; i++) {
		if (q[i].value[0] == '\0' || strcmp(q[i].key, key) != 0)
			continue;
		if (c < 3)
			first[c] = q[i].value;
		c++;
	}
	return c;
}

/* One parameter of the schema, after the coercions. */
static int
param_check(struct sb *b, const struct lex_table *t,
    const struct lex_item *it, const struct xrpc_qparam *q, size_t n)
{
	const struct lex_node *p = deref(t, &t->nodes[it->node]), *sc;
	const char	*key = t->strs[it->name], *first[3];
	size_t		 c, i, k;

	c = param_values(q, n, key, first);
	if (p == NULL || (sc = param_scalar(t, p)) == NULL)
		return 0;
	if (c == 0) {
		if ((it->flags & LEXI_REQUIRED) && !(p->flags & LEXN_DEFAULT)) {
			sb_add(b, "Missing required key \"%s\"", key);
			return -1;
		}
		return 0;
	}
	if (p->type != LEX_ARRAY) {
		if (c == 1)
			return param_value(b, t, p, first[0]);
		sb_add(b, "Expected %s value type (got [", scalar_name(p));
		for (i = 0; i < 2; i++) {
			if (i > 0)
				sb_add(b, ", ");
			sb_param(b, p, first[i]);
		}
		sb_add(b, "%s])", c > 2 ? ", ..." : "");
		return -1;
	}
	if (!sb_in_bounds(b, p, "array", (int64_t)c))
		return -1;
	for (k = 0; k < n; k++)
		if (q[k].value[0] != '\0' && strcmp(q[k].key, key) == 0 &&
		    param_value(b, t, sc, q[k].value) != 0)
			return -1;
	return 0;
}

/* The property of params named key, or NULL. */
static const struct lex_item *
param_find(const struct lex_table *t, const struct lex_node *params,
    const char *key)
{
	size_t	 i;

	for (i = 0; i < params->n; i++)
		if (strcmp(t->strs[t->items[params->list + i].name], key) == 0)
			return &t->items[params->list + i];
	return NULL;
}

int
xrpc_lex_params(const struct lex_table *t, const struct lex_node *params,
    const char *nsid, const struct xrpc_qparam *q, size_t n, char *msg,
    size_t msglen)
{
	char		 issue[1024];
	struct sb	 b = { issue, sizeof(issue), 0 };
	const struct lex_item *it;
	size_t		 i;

	if (msglen > 0)
		msg[0] = '\0';
	issue[0] = '\0';
	if (params == NULL || params->type != LEX_PARAMS)
		return 0;
	/* the coercions, in the order sent */
	for (i = 0; i < n; i++) {
		if (q[i].value[0] == '\0' ||
		    (it = param_find(t, params, q[i].key)) == NULL)
			continue;
		if (param_coerce(&b, param_scalar(t, deref(t,
		    &t->nodes[it->node])), q[i].value) != 0)
			goto fail;
	}
	/* then each parameter, in the schema's order */
	for (i = 0; i < params->n; i++)
		if (param_check(&b, t, &t->items[params->list + i], q, n) != 0)
			goto fail;
	return 0;
fail:
	if (msglen > 0) {
		snprintf(msg, msglen, "Invalid %s params: %s", nsid, issue);
		utf8_trim(msg);
	}
	return -1;
}

/* ---- JSON input ---- */

struct jv {
	const struct lex_table *t;
	struct sb	 b;
	char		 path[256];
	size_t		 plen;
	int		 depth;
};

static size_t
jpath_key(struct jv *c, const char *key)
{
	size_t		 old = c->plen, i;
	bool		 ident = key[0] != '\0' &&
	    !(key[0] >= '0' && key[0] <= '9');
	struct sb	 p = { c->path, sizeof(c->path), c->plen };

	for (i = 0; ident && key[i] != '\0'; i++)
		ident = (key[i] >= 'a' && key[i] <= 'z') ||
		    (key[i] >= 'A' && key[i] <= 'Z') ||
		    (key[i] >= '0' && key[i] <= '9') || key[i] == '_' ||
		    (i == 0 && key[i] == '$');
	if (ident)
		sb_add(&p, ".%s", key);
	else {
		sb_byte(&p, '[');
		sb_jstr(&p, key, strlen(key));
		sb_byte(&p, ']');
	}
	c->plen = p.len;
	return old;
}

static size_t
jpath_index(struct jv *c, size_t i)
{
	size_t		 old = c->plen;
	struct sb	 p = { c->path, sizeof(c->path), c->plen };

	sb_add(&p, "[%zu]", i);
	c->plen = p.len;
	return old;
}

static void
jpath_pop(struct jv *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

/* End an issue: " at $.path"; returns -1. */
static int
jv_at(struct jv *c)
{
	sb_add(&c->b, " at %s", c->path);
	return -1;
}

static int
jv_type(struct jv *c, const char *expected, const json_t *v)
{
	sb_add(&c->b, "Expected %s value type (got ", expected);
	sb_value(&c->b, v, 0);
	sb_byte(&c->b, ')');
	return jv_at(c);
}

static int	jv_node(struct jv *, const struct lex_node *, const json_t *);

static int
jv_object(struct jv *c, const struct lex_node *n, const json_t *v)
{
	const struct lex_item *it;
	const struct lex_node *p;
	const char	*key;
	json_t		*pv;
	size_t		 i, old;
	int		 rc;

	if (!json_is_object(v))
		return jv_type(c, "object", v);
	for (i = 0; i < n->n; i++) {
		it = &c->t->items[n->list + i];
		key = c->t->strs[it->name];
		p = deref(c->t, &c->t->nodes[it->node]);
		if ((pv = json_object_get(v, key)) == NULL) {
			if ((it->flags & LEXI_REQUIRED) && (p == NULL ||
			    !(p->flags & LEXN_DEFAULT))) {
				sb_add(&c->b, "Missing required key \"%s\"",
				    key);
				return jv_at(c);
			}
			continue;
		}
		if (json_is_null(pv) && (it->flags & LEXI_NULLABLE))
			continue;
		old = jpath_key(c, key);
		rc = jv_node(c, &c->t->nodes[it->node], pv);
		jpath_pop(c, old);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
jv_array(struct jv *c, const struct lex_node *n, const json_t *v)
{
	size_t	 i, len, old;
	int	 rc;

	if (!json_is_array(v))
		return jv_type(c, "array", v);
	len = json_array_size(v);
	if (!sb_in_bounds(&c->b, n, "array", (int64_t)len))
		return jv_at(c);
	if (n->sub == LEX_NOREF)
		return 0;
	for (i = 0; i < len; i++) {
		old = jpath_index(c, i);
		rc = jv_node(c, &c->t->nodes[n->sub], json_array_get(v, i));
		jpath_pop(c, old);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Does a union member name (maybe "nsid#main") equal $type s? */
static bool
union_name_eq(const char *name, const char *s, size_t len)
{
	size_t	 nl = strlen(name);

	if (nl > 5 && strcmp(name + nl - 5, "#main") == 0)
		nl -= 5;
	return nl == len && memcmp(name, s, len) == 0;
}

static int
jv_union(struct jv *c, const struct lex_node *n, const json_t *v)
{
	const struct lex_item *it;
	const json_t	*ty;
	const char	*s;
	size_t		 i, len, old;

	if (!json_is_object(v) || (ty = json_object_get(v, "$type")) == NULL)
		return jv_type(c, "an object which includes the \"$type\" "
		    "property", v);
	if (json_is_string(ty)) {
		s = json_string_value(ty);
		len = json_string_length(ty);
		for (i = 0; i < n->n; i++) {
			it = &c->t->items[n->list + i];
			if (!union_name_eq(c->t->strs[it->name], s, len))
				continue;
			if (it->node == LEX_NOREF)
				return 0;
			return jv_node(c, &c->t->nodes[it->node], v);
		}
	}
	if (!(n->flags & LEXN_CLOSED) && json_is_string(ty))
		return 0;
	old = jpath_key(c, "$type");
	if (n->flags & LEXN_CLOSED) {
		sb_one_of(&c->b, c->t, n, true, true);
		sb_add(&c->b, " (got ");
		sb_value(&c->b, ty, 0);
		sb_byte(&c->b, ')');
		(void)jv_at(c);
	} else
		(void)jv_type(c, "string", ty);
	jpath_pop(c, old);
	return -1;
}

/* An integer in JSON: a JSON integer, or a real with no fraction. */
static bool
json_int(const json_t *v, int64_t *out)
{
	double	 d;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return *out >= -(int64_t)XL_SAFE_INT &&
		    *out <= (int64_t)XL_SAFE_INT;
	}
	if (!json_is_real(v))
		return false;
	d = json_real_value(v);
	if (d != floor(d) || fabs(d) > XL_SAFE_INT)
		return false;
	*out = (int64_t)d;
	return true;
}

static int
jv_scalar(struct jv *c, const struct lex_node *n, const json_t *v)
{
	int64_t	 i;

	switch (n->type) {
	case LEX_STRING:
		if (!json_is_string(v))
			return jv_type(c, "string", v);
		if (check_string(&c->b, c->t, n, json_string_value(v),
		    json_string_length(v)) != 0)
			return jv_at(c);
		return 0;
	case LEX_INTEGER:
		if (!json_int(v, &i))
			return jv_type(c, "integer", v);
		if (check_integer(&c->b, c->t, n, i) != 0)
			return jv_at(c);
		return 0;
	case LEX_BOOLEAN:
		if (!json_is_boolean(v))
			return jv_type(c, "boolean", v);
		if ((n->flags & LEXN_CONST) &&
		    json_is_true(v) != (n->k != 0)) {
			sb_add(&c->b, "Expected %s (got %s)", n->k ? "true" :
			    "false", json_is_true(v) ? "true" : "false");
			return jv_at(c);
		}
		return 0;
	case LEX_UNKNOWN:
		return json_is_object(v) ? 0 : jv_type(c, "object", v);
	case LEX_BLOB:
		return json_is_object(v) ? 0 : jv_type(c, "blob", v);
	case LEX_CIDLINK:
		return json_is_object(v) ? 0 : jv_type(c, "cid", v);
	case LEX_BYTES:
		return json_is_object(v) ? 0 : jv_type(c, "bytes", v);
	default:
		return 0;	/* nothing the reference checks here */
	}
}

static int
jv_node(struct jv *c, const struct lex_node *n, const json_t *v)
{
	int	 rc;

	if (++c->depth > XL_DEPTH) {
		c->depth--;
		sb_add(&c->b, "Input is nested too deeply");
		return jv_at(c);
	}
	if ((n = deref(c->t, n)) == NULL)
		rc = 0;
	else if (n->type == LEX_OBJECT)
		rc = jv_object(c, n, v);
	else if (n->type == LEX_ARRAY)
		rc = jv_array(c, n, v);
	else if (n->type == LEX_UNION)
		rc = jv_union(c, n, v);
	else
		rc = jv_scalar(c, n, v);
	c->depth--;
	return rc;
}

int
xrpc_lex_input(const struct lex_table *t, const struct lex_node *schema,
    const json_t *body, char *msg, size_t msglen)
{
	struct jv	 c;

	if (msglen == 0)
		return -1;
	msg[0] = '\0';
	if (schema == NULL)
		return 0;
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.b.p = msg;
	c.b.cap = msglen;
	c.path[0] = '$';
	c.plen = 1;
	if (jv_node(&c, schema, body) == 0)
		return 0;
	utf8_trim(msg);
	return -1;
}

void
xrpc_lex_method(const struct lex_table *t, const char *nsid,
    const struct lex_node **params, const struct lex_node **input)
{
	const struct lex_node *m = lex_def_find(t, nsid, strlen(nsid));

	*params = *input = NULL;
	if (m == NULL || (m->type != LEX_QUERY && m->type != LEX_PROCEDURE))
		return;
	if (m->sub != LEX_NOREF && t->nodes[m->sub].type == LEX_PARAMS)
		*params = &t->nodes[m->sub];
	if (m->k >= 0 && (uint64_t)m->k < t->nnodes)
		*input = &t->nodes[m->k];
}
