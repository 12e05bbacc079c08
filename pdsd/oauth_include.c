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
#include "oauth_permset.h"
#include "oauth_scope.h"

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
			rc = oauth_permset_expand(set, s->p[0].val[0],
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
	if (rc == PDS_OK && (rc = oauth_permset_expand(set, p->val[0],
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
