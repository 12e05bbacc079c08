/*
 * oauth_include: include: scopes into permissions.  See oauth_include.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "lexicon_resolve.h"
#include "oauth_include.h"
#include "oauth_scope.h"

/* Keys whose value is an array in a permission (the others are single). */
static bool
key_is_multi(const char *k)
{
	return strcmp(k, "collection") == 0 || strcmp(k, "action") == 0 ||
	    strcmp(k, "lxm") == 0 || strcmp(k, "accept") == 0;
}

static int
put_enc(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char	 c;
	int		 rc = PDS_OK;

	for (; *s != '\0' && rc == PDS_OK; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			rc = buf_putc(b, c);
		else if ((rc = buf_putc(b, '%')) == PDS_OK &&
		    (rc = buf_putc(b, (uint8_t)hex[c >> 4])) == PDS_OK)
			rc = buf_putc(b, (uint8_t)hex[c & 15]);
	}
	return rc;
}

static int
put_pair(struct buf *b, bool *first, const char *k, const char *v)
{
	int	 rc;

	if ((rc = buf_putc(b, *first ? '?' : '&')) != PDS_OK ||
	    (rc = put_enc(b, k)) != PDS_OK || (rc = buf_putc(b, '=')) !=
	    PDS_OK)
		return rc;
	*first = false;
	return put_enc(b, v);
}

/*
 * One set entry as a scope string into tok (NUL-terminated), or
 * PDS_EINVAL when it is not to be used.
 */
static int
entry_token(const json_t *e, const char *inc_aud, struct buf *tok)
{
	const char	*res, *k, *aud;
	const json_t	*v, *x, *inherit;
	bool		 first = true, rpc;
	size_t		 i;
	int		 rc;

	res = json_string_value(json_object_get(e, "resource"));
	if (res == NULL || (strcmp(res, "repo") != 0 &&
	    strcmp(res, "rpc") != 0))
		return PDS_EINVAL;
	rpc = strcmp(res, "rpc") == 0;
	aud = json_string_value(json_object_get(e, "aud"));
	inherit = json_object_get(e, "inheritAud");
	if (rpc && json_object_get(e, "aud") != NULL &&
	    (aud == NULL || strcmp(aud, "*") != 0))
		return PDS_EINVAL;	/* a fixed audience */
	if ((rc = buf_puts(tok, res)) != PDS_OK)
		return rc;
	if (rpc && json_is_true(inherit) && json_object_get(e, "aud") ==
	    NULL && inc_aud != NULL) {
		if ((rc = put_pair(tok, &first, "aud", inc_aud)) != PDS_OK)
			return rc;
	} else
		inherit = NULL;		/* inheritAud stays: a bad key */
	json_object_foreach((json_t *)e, k, v) {
		if (strcmp(k, "type") == 0 || strcmp(k, "resource") == 0 ||
		    (inherit != NULL && strcmp(k, "inheritAud") == 0))
			continue;
		if (json_is_string(v) && !key_is_multi(k))
			rc = put_pair(tok, &first, k, json_string_value(v));
		else if (json_is_array(v) && key_is_multi(k) &&
		    json_array_size(v) > 0) {
			json_array_foreach(v, i, x) {
				if (!json_is_string(x))
					return PDS_EINVAL;
				if ((rc = put_pair(tok, &first, k,
				    json_string_value(x))) != PDS_OK)
					return rc;
			}
		} else
			return PDS_EINVAL;
		if (rc != PDS_OK)
			return rc;
	}
	return buf_putc(tok, '\0');
}

/* Whether other is under the group of nsid (nsid less its name). */
static bool
under_group(const char *nsid, const char *other)
{
	const char	*dot = strrchr(nsid, '.');
	size_t		 g;

	if (dot == NULL || strcmp(other, "*") == 0)
		return false;
	g = (size_t)(dot - nsid) + 1;	/* the group and its dot */
	return strlen(other) > g && strncmp(nsid, other, g) == 0;
}

static bool
perm_allowed(const struct scope_perm *p, const char *nsid)
{
	size_t	 i;

	if (p->kind != SCOPE_REPO && p->kind != SCOPE_RPC)
		return false;
	for (i = 0; i < p->nval; i++)
		if (!under_group(nsid, p->val[i]))
			return false;
	return true;
}

int
oauth_include_expand(const json_t *set, const char *nsid, const char *aud,
    struct buf *out)
{
	struct scope_set *s;
	struct buf	 tok;
	const json_t	*perms, *e;
	size_t		 i;
	int		 rc = PDS_OK;

	perms = json_object_get(set, "permissions");
	if (!json_is_array(perms))
		return PDS_OK;
	if ((s = scope_set_new()) == NULL)
		return PDS_ENOMEM;
	buf_init(&tok, SCOPE_STR_MAX + 1);
	json_array_foreach(perms, i, e) {
		buf_reset(&tok);
		scope_set_reset(s);
		if (!json_is_object(e))
			continue;
		if ((rc = entry_token(e, aud, &tok)) == PDS_EINVAL) {
			rc = PDS_OK;
			continue;
		}
		if (rc != PDS_OK)
			break;
		if (scope_set_add(s, (const char *)tok.p, tok.len - 1,
		    NULL) != PDS_OK || s->n != 1 ||
		    !perm_allowed(&s->p[0], nsid))
			continue;
		if ((out->len > 0 && (rc = buf_putc(out, ' ')) != PDS_OK) ||
		    (rc = scope_perm_format(&s->p[0], out)) != PDS_OK)
			break;
	}
	buf_clear(&tok);
	scope_set_free(s);
	return rc;
}

static bool
is_include(const char *p, size_t n)
{
	return (n > 8 && strncmp(p, "include:", 8) == 0) ||
	    (n > 8 && strncmp(p, "include?", 8) == 0);
}

/* The include: tokens of scope. */
static size_t
include_count(const char *scope)
{
	const char	*p = scope, *e;
	size_t		 n = 0;

	while (*p != '\0') {
		if (*p == ' ') {
			p++;
			continue;
		}
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		if (is_include(p, (size_t)(e - p)))
			n++;
		p = e;
	}
	return n;
}

bool
oauth_include_present(const char *scope)
{
	return include_count(scope) > 0;
}

/*
 * Walk scope's tokens: include: ones are parsed and resolved, and with
 * out != NULL expanded into it; others, with rest != NULL, are copied
 * into rest.
 */
static int
walk(const char *scope, struct buf *out, struct buf *rest, char *err,
    size_t errlen)
{
	struct scope_set *s;
	const char	*p = scope, *e;
	json_t		*set;
	size_t		 n;
	int		 rc = PDS_OK;

	if (include_count(scope) > OAUTH_INCLUDE_MAX) {
		snprintf(err, errlen, "Too many permission sets (at most %d)",
		    OAUTH_INCLUDE_MAX);
		return PDS_ETOOBIG;
	}
	if ((s = scope_set_new()) == NULL)
		return PDS_ENOMEM;
	while (*p != '\0' && rc == PDS_OK) {
		if (*p == ' ') {
			p++;
			continue;
		}
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		n = (size_t)(e - p);
		if (!is_include(p, n)) {
			if (rest != NULL && ((rest->len > 0 && (rc =
			    buf_putc(rest, ' ')) != PDS_OK) ||
			    (rc = buf_append(rest, p, n)) != PDS_OK))
				break;
			p = e;
			continue;
		}
		scope_set_reset(s);
		if (scope_set_add(s, p, n, NULL) != PDS_OK || s->n != 1) {
			p = e;		/* invalid: ignored, as at PAR */
			continue;
		}
		rc = lexres_permission_set(s->p[0].val[0], &set, err, errlen);
		if (rc == PDS_OK && out != NULL)
			rc = oauth_include_expand(set, s->p[0].val[0],
			    s->p[0].aud, out);
		json_decref(set);
		p = e;
	}
	scope_set_free(s);
	return rc;
}

int
oauth_include_check(const char *scope, char *err, size_t errlen)
{
	if (!oauth_include_present(scope))
		return PDS_OK;
	return walk(scope, NULL, NULL, err, errlen);
}

int
oauth_include_token_scope(const char *scope, struct buf *out, char *err,
    size_t errlen)
{
	struct buf	 rest;
	int		 rc;

	if (!oauth_include_present(scope)) {
		if ((rc = buf_puts(out, scope)) != PDS_OK)
			return rc;
		return buf_putc(out, '\0');
	}
	buf_init(&rest, SCOPE_STR_MAX + 1);
	rc = walk(scope, out, &rest, err, errlen);
	if (rc == PDS_OK && rest.len > 0 && out->len > 0)
		rc = buf_putc(out, ' ');
	if (rc == PDS_OK)
		rc = buf_append(out, rest.p, rest.len);
	if (rc == PDS_OK)
		rc = buf_putc(out, '\0');
	buf_clear(&rest);
	if (rc != PDS_OK && err[0] == '\0')
		snprintf(err, errlen, "Could not build the token scope");
	return rc;
}

int
oauth_include_describe(const struct scope_perm *p, struct buf *text,
    struct buf *detail)
{
	struct scope_set *s = NULL;
	struct buf	 exp, one;
	json_t		*set;
	const char	*title, *what;
	char		 err[OAUTH_INCLUDE_ERR_MAX];
	size_t		 i;
	int		 rc;

	if (p->kind != SCOPE_INCLUDE || p->nval != 1)
		return PDS_EINVAL;
	if ((rc = lexres_permission_set(p->val[0], &set, err, sizeof(err))) !=
	    PDS_OK)
		return rc;
	title = json_string_value(json_object_get(set, "title"));
	what = json_string_value(json_object_get(set, "detail"));
	rc = buf_printf(text, "%.200s (%s)", title != NULL ? title :
	    "Permission set", p->val[0]);
	if (rc == PDS_OK && what != NULL)
		rc = buf_printf(detail, "%.400s. ", what);
	buf_init(&exp, SCOPE_STR_MAX + 1);
	buf_init(&one, SCOPE_DESCRIBE_MAX);
	if (rc == PDS_OK && (rc = oauth_include_expand(set, p->val[0],
	    p->aud, &exp)) == PDS_OK && (rc = buf_putc(&exp, '\0')) ==
	    PDS_OK && (s = scope_set_new()) == NULL)
		rc = PDS_ENOMEM;
	if (rc == PDS_OK)
		rc = scope_set_parse(s, (const char *)exp.p, exp.len - 1, NULL);
	if (rc == PDS_OK)
		rc = buf_puts(detail, s->n == 0 ? "It grants nothing." :
		    "It grants: ");
	for (i = 0; rc == PDS_OK && s != NULL && i < s->n; i++) {
		buf_reset(&one);
		if ((rc = scope_perm_describe(&s->p[i], &one)) == PDS_OK)
			rc = buf_printf(detail, "%s%.*s", i > 0 ? "; " : "",
			    (int)one.len, (const char *)one.p);
	}
	if (rc == PDS_OK)
		rc = buf_putc(detail, '\0');
	if (rc == PDS_OK)
		rc = buf_putc(text, '\0');
	scope_set_free(s);
	buf_clear(&one);
	buf_clear(&exp);
	json_decref(set);
	return rc;
}
