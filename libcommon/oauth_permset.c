/*
 * oauth_permset: a permission set (a lexicon's main def of type
 * "permission-set", as resolved from the network: untrusted) expanded
 * into OAuth scope tokens, as the reference authorization server
 * expands an include:<nsid> scope.  See oauth_permset.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "oauth_permset.h"
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
oauth_permset_expand(const json_t *set, const char *nsid, const char *aud,
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
