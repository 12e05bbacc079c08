/*
 * oauth_scope: parsing, normalising and checking atproto OAuth scopes.
 *
 * Each token is split into resource, positional value and query
 * parameters; the values are percent-decoded straight into the set's
 * arena (a decoded value is never longer than its text, so the arena
 * cannot overflow for a string within SCOPE_STR_MAX), and the arena is
 * rolled back when the token turns out invalid or a duplicate.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "multibase.h"
#include "oauth_scope.h"
#include "syntax.h"

#define SC_PARAM_MAX	32	/* key=value pairs in one token */

struct sc_param {
	const char	*key;	/* decoded, like val */
	size_t		 klen;
	const char	*val;	/* decoded, NUL-terminated, in the arena */
};

struct sc_tok {
	const char	*res;
	size_t		 reslen;
	const char	*pos;	/* decoded positional value, or NULL */
	size_t		 np;
	struct sc_param	 p[SC_PARAM_MAX];
};

static const char *const repo_actions[] = { "create", "update", "delete" };
static const char *const account_actions[] = { "read", "manage" };
static const char *const account_attrs[] = { "email", "repo", "status" };

struct scope_set *
scope_set_new(void)
{
	return calloc(1, sizeof(struct scope_set));
}

void
scope_set_free(struct scope_set *s)
{
	free(s);
}

void
scope_set_reset(struct scope_set *s)
{
	s->n = 0;
	s->dropped = 0;
	s->used = 0;
}

/*
 * Decode s[0..len) into the arena; `form` turns '+' into a space.  A bad
 * escape, a decoded NUL or a byte outside printable ASCII fails.
 */
static const char *
sc_decode(struct scope_set *s, const char *p, size_t len, bool form)
{
	char	*out = s->arena + s->used;
	size_t	 i, o = 0;
	int	 c;

	if (s->used + len + 1 > sizeof(s->arena))
		return NULL;
	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (c == '%') {
			if (i + 2 >= len || (c = hex_pair(p + i + 1)) < 0)
				return NULL;
			i += 2;
		} else if (c == '+' && form)
			c = ' ';
		if (c < 0x20 || c > 0x7e)
			return NULL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	s->used += o + 1;
	return out;
}

static bool
sc_eq(const char *p, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(p, lit, len) == 0;
}

/* Split a token into t; values go to the arena.  False if malformed. */
static bool
sc_split(struct scope_set *s, struct sc_tok *t, const char *p, size_t len)
{
	const char	*q, *c, *end = p + len, *seg, *amp, *eq;

	q = memchr(p, '?', len);
	c = memchr(p, ':', len);
	if (c != NULL && q != NULL && c > q)
		c = NULL;
	t->res = p;
	t->reslen = (size_t)((c != NULL ? c : q != NULL ? q : end) - p);
	t->pos = NULL;
	t->np = 0;
	if (c != NULL && (t->pos = sc_decode(s, c + 1,
	    (size_t)((q != NULL ? q : end) - c - 1), false)) == NULL)
		return false;
	if (q == NULL)
		return true;
	for (seg = q + 1; seg < end; seg = amp + 1) {
		if ((amp = memchr(seg, '&', (size_t)(end - seg))) == NULL)
			amp = end;
		if (amp == seg)
			continue;
		if (t->np == SC_PARAM_MAX)
			return false;
		if ((eq = memchr(seg, '=', (size_t)(amp - seg))) == NULL)
			eq = amp;
		if ((t->p[t->np].key = sc_decode(s, seg, (size_t)(eq - seg),
		    true)) == NULL)
			return false;
		t->p[t->np].klen = strlen(t->p[t->np].key);
		if ((t->p[t->np].val = sc_decode(s, eq < amp ? eq + 1 : amp,
		    eq < amp ? (size_t)(amp - eq - 1) : 0, true)) == NULL)
			return false;
		t->np++;
	}
	return true;
}

/*
 * The values of parameter `key` (positional name `posname` if the
 * token's positional value stands for it).  Returns the count, 0 if
 * absent, -1 if given both ways or more than `max` times.
 */
static int
sc_get(const struct sc_tok *t, const char *key, bool positional,
    const char **out, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; i < t->np; i++) {
		if (!sc_eq(t->p[i].key, t->p[i].klen, key))
			continue;
		if (n == max)
			return -1;
		out[n++] = t->p[i].val;
	}
	if (positional && t->pos != NULL) {
		if (n > 0)
			return -1;
		out[n++] = t->pos;
	}
	return (int)n;
}

/* Every parameter key is one of the NULL-terminated keys[]. */
static bool
sc_keys_known(const struct sc_tok *t, const char *const *keys)
{
	size_t	 i, k;

	for (i = 0; i < t->np; i++) {
		for (k = 0; keys[k] != NULL; k++)
			if (sc_eq(t->p[i].key, t->p[i].klen, keys[k]))
				break;
		if (keys[k] == NULL)
			return false;
	}
	return true;
}

static int
sc_index(const char *v, const char *const *tab, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v, tab[i]) == 0)
			return (int)i;
	return -1;
}

/* A DID URL "did:plc:...#frag" or "did:web:...#frag". */
static bool
sc_is_didref(const char *v)
{
	const char	*h = strchr(v, '#'), *f;
	size_t		 dl;

	if (h == NULL || h[1] == '\0' || strchr(h + 1, '#') != NULL)
		return false;
	dl = (size_t)(h - v);
	if (!did_is_plc(v, dl) && !did_is_web(v, dl))
		return false;
	for (f = h + 1; *f != '\0'; f++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-._~!$&'()*+,;=:@/?", *f) == NULL)
			return false;
	return true;
}

static bool
sc_is_mimetok(const char *p, size_t n)
{
	size_t	 i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789!#$&^_.+-", p[i]) == NULL || p[i] == '\0')
			return false;
	return true;
}

/* Any type, any subtype of a type, or one type; lower-cased in place. */
static bool
sc_accept_ok(char *v)
{
	char	*sl = strchr(v, '/');
	size_t	 i;

	if (sl == NULL)
		return false;
	if (strcmp(v, "*/*") != 0) {
		if (!sc_is_mimetok(v, (size_t)(sl - v)))
			return false;
		if (strcmp(sl + 1, "*") != 0 &&
		    !sc_is_mimetok(sl + 1, strlen(sl + 1)))
			return false;
	}
	for (i = 0; v[i] != '\0'; i++)
		if (v[i] >= 'A' && v[i] <= 'Z')
			v[i] = (char)(v[i] - 'A' + 'a');
	return true;
}

static bool
sc_nsid_or_star(const char *v)
{
	return strcmp(v, "*") == 0 || syntax_is_nsid(v, strlen(v));
}

/* Fold an action list into bits; -1 on an unknown action. */
static int
sc_actions(const char **v, int n, const char *const *tab, size_t ntab)
{
	int	 i, k, bits = 0;

	for (i = 0; i < n; i++) {
		if ((k = sc_index(v[i], tab, ntab)) < 0)
			return -1;
		bits |= 1 << k;
	}
	return bits;
}

/* Copy vals into perm, deduplicated; "*" (or star) absorbs the rest. */
static void
sc_setvals(struct scope_perm *m, const char **v, int n, const char *star,
    bool sort)
{
	int	 i;
	size_t	 j, k;

	m->nval = 0;
	for (i = 0; i < n; i++) {
		if (star != NULL && strcmp(v[i], star) == 0) {
			m->val[0] = v[i];
			m->nval = 1;
			return;
		}
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < m->nval; j++)
			if (strcmp(m->val[j], v[i]) == 0)
				break;
		if (j < m->nval)
			continue;
		k = m->nval++;
		if (sort)
			while (k > 0 && strcmp(m->val[k - 1], v[i]) > 0) {
				m->val[k] = m->val[k - 1];
				k--;
			}
		m->val[k] = v[i];
	}
}

/*
 * The values of a parameter, each an NSID or "*", into m; bad: the reason
 * when one is neither.
 */
static int
sc_set_nsids(struct scope_perm *m, const char **v, int n, const char *bad,
    const char **why)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (!sc_nsid_or_star(v[i]))
			return pds_fail(why, PDS_EINVAL, bad);
	sc_setvals(m, v, n, "*", true);
	return PDS_OK;
}

static int
sc_parse_repo(const struct sc_tok *t, struct scope_perm *m, const char **v,
    int n, const char **why)
{
	int	 rc, bits;

	if ((rc = sc_set_nsids(m, v, n,
	    "repo: collection is not an NSID or *", why)) != PDS_OK)
		return rc;
	if ((n = sc_get(t, "action", false, v, SCOPE_VAL_MAX)) < 0)
		return pds_fail(why, PDS_EINVAL, "repo: too many actions");
	bits = n == 0 ? SCOPE_REPO_ALL : sc_actions(v, n, repo_actions, 3);
	if (bits < 0)
		return pds_fail(why, PDS_EINVAL, "repo: unknown action");
	m->actions = (unsigned)bits;
	return PDS_OK;
}

static int
sc_parse_rpc(const struct sc_tok *t, struct scope_perm *m, const char **v,
    int n, const char **why)
{
	int	 rc;

	if ((rc = sc_set_nsids(m, v, n, "rpc: lxm is not an NSID or *",
	    why)) != PDS_OK)
		return rc;
	if ((n = sc_get(t, "aud", false, &m->aud, 1)) <= 0)
		return pds_fail(why, PDS_EINVAL, n < 0 ?
		    "rpc: aud given more than once" : "rpc: aud missing");
	if (strcmp(m->aud, "*") != 0 && !sc_is_didref(m->aud))
		return pds_fail(why, PDS_EINVAL,
		    "rpc: aud is not * or a did#service reference");
	if (strcmp(m->aud, "*") == 0 && strcmp(m->val[0], "*") == 0)
		return pds_fail(why, PDS_EINVAL,
		    "rpc: lxm * with aud * is not allowed");
	return PDS_OK;
}

/* Drop each exact MIME type that a wildcard of its type already covers. */
static void
sc_blob_reduce(struct scope_perm *m)
{
	size_t	 i, j, k = 0, tl;

	for (i = 0; i < m->nval; i++) {
		tl = strcspn(m->val[i], "/");
		/* val[j] + tl only once val[j] is known to be that long */
		for (j = 0; j < m->nval; j++)
			if (j != i &&
			    strncmp(m->val[j], m->val[i], tl + 1) == 0 &&
			    strcmp(m->val[j] + tl, "/*") == 0 &&
			    strcmp(m->val[i] + tl, "/*") != 0)
				break;
		if (j == m->nval)
			m->val[k++] = m->val[i];
	}
	m->nval = k;
}

static int
sc_parse_blob(const struct sc_tok *t, struct scope_perm *m, const char **v,
    int n, const char **why)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (!sc_accept_ok((char *)(uintptr_t)v[i]))
			return pds_fail(why, PDS_EINVAL,
			    "blob: accept is not a MIME type pattern");
	sc_setvals(m, v, n, "*/*", true);
	sc_blob_reduce(m);
	return PDS_OK;
}

static int
sc_parse_account(const struct sc_tok *t, struct scope_perm *m,
    const char **v, int n, const char **why)
{
	int	 bits;

	if ((m->attr = sc_index(v[0], account_attrs, 3)) < 0)
		return pds_fail(why, PDS_EINVAL, "account: unknown attr");
	if ((n = sc_get(t, "action", false, v, SCOPE_VAL_MAX)) < 0)
		return pds_fail(why, PDS_EINVAL, "account: too many actions");
	bits = n == 0 ? SCOPE_ACCOUNT_READ :
	    sc_actions(v, n, account_actions, 2);
	if (bits < 0)
		return pds_fail(why, PDS_EINVAL, "account: unknown action");
	m->actions = (unsigned)bits;
	return PDS_OK;
}

static int
sc_parse_identity(const struct sc_tok *t, struct scope_perm *m,
    const char **v, int n, const char **why)
{
	if (strcmp(v[0], "handle") == 0)
		m->attr = SCOPE_IDENTITY_HANDLE;
	else if (strcmp(v[0], "*") == 0)
		m->attr = SCOPE_IDENTITY_ANY;
	else
		return pds_fail(why, PDS_EINVAL, "identity: unknown attr");
	return PDS_OK;
}

static int
sc_parse_include(const struct sc_tok *t, struct scope_perm *m,
    const char **v, int n, const char **why)
{
	if (!syntax_is_nsid(v[0], strlen(v[0])))
		return pds_fail(why, PDS_EINVAL, "include: nsid is not an NSID");
	m->val[0] = v[0];
	m->nval = 1;
	if ((n = sc_get(t, "aud", false, &m->aud, 1)) < 0)
		return pds_fail(why, PDS_EINVAL,
		    "include: aud given more than once");
	if (n == 0)
		m->aud = NULL;
	else if (!sc_is_didref(m->aud))
		return pds_fail(why, PDS_EINVAL,
		    "include: aud is not a did#service reference");
	return PDS_OK;
}

/*
 * The resources with parameters: the parameters each takes (the first
 * is required and is the one a positional value stands for, at most
 * `most` times) and the reasons to refuse a token: another parameter,
 * the first given too often, the first missing.  sc_parse_token() checks
 * those; parse gets the n values of the first parameter in v, which has
 * room for SCOPE_VAL_MAX and may be reused.
 */
static const struct sc_res {
	const char	*name;
	enum scope_kind	 kind;
	const char	*keys[3];	/* NULL-terminated */
	size_t		 most;
	const char	*unknown, *twice, *missing;
	int		(*parse)(const struct sc_tok *, struct scope_perm *,
			    const char **, int, const char **);
} sc_resources[] = {
	{ "repo", SCOPE_REPO, { "collection", "action" }, SCOPE_VAL_MAX,
	    "repo: unknown parameter",
	    "repo: collection given twice or too often",
	    "repo: collection missing", sc_parse_repo },
	{ "rpc", SCOPE_RPC, { "lxm", "aud" }, SCOPE_VAL_MAX,
	    "rpc: unknown parameter", "rpc: lxm given twice or too often",
	    "rpc: lxm missing", sc_parse_rpc },
	{ "blob", SCOPE_BLOB, { "accept" }, SCOPE_VAL_MAX,
	    "blob: unknown parameter", "blob: accept given twice or too often",
	    "blob: accept missing", sc_parse_blob },
	{ "account", SCOPE_ACCOUNT, { "attr", "action" }, 1,
	    "account: unknown parameter", "account: attr given more than once",
	    "account: attr missing", sc_parse_account },
	{ "identity", SCOPE_IDENTITY, { "attr" }, 1,
	    "identity: unknown parameter",
	    "identity: attr given more than once", "identity: attr missing",
	    sc_parse_identity },
	{ "include", SCOPE_INCLUDE, { "nsid", "aud" }, 1,
	    "include: unknown parameter", "include: nsid given more than once",
	    "include: nsid missing", sc_parse_include },
};

static int
sc_parse_token(struct scope_set *s, struct scope_perm *m, const char *p,
    size_t len, const char **why)
{
	static const struct {
		const char	*name;
		enum scope_kind	 kind;
	} statics[] = {
		{ "atproto", SCOPE_ATPROTO },
		{ "transition:generic", SCOPE_TRANSITION_GENERIC },
		{ "transition:chat.bsky", SCOPE_TRANSITION_CHAT },
		{ "transition:email", SCOPE_TRANSITION_EMAIL },
	};
	const struct sc_res	*r;
	struct sc_tok		 t;
	const char		*v[SCOPE_VAL_MAX];
	size_t			 i;
	int			 n;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < sizeof(statics) / sizeof(statics[0]); i++) {
		if (sc_eq(p, len, statics[i].name)) {
			m->kind = statics[i].kind;
			return PDS_OK;
		}
	}
	if (!sc_split(s, &t, p, len))
		return pds_fail(why, PDS_EINVAL,
		    "scope: bad percent-encoding or too long");
	for (i = 0; i < sizeof(sc_resources) / sizeof(sc_resources[0]); i++) {
		r = &sc_resources[i];
		if (!sc_eq(t.res, t.reslen, r->name))
			continue;
		m->kind = r->kind;
		if (!sc_keys_known(&t, r->keys))
			return pds_fail(why, PDS_EINVAL, r->unknown);
		if ((n = sc_get(&t, r->keys[0], true, v, r->most)) <= 0)
			return pds_fail(why, PDS_EINVAL,
			    n < 0 ? r->twice : r->missing);
		return r->parse(&t, m, v, n, why);
	}
	return pds_fail(why, PDS_EINVAL, "scope: unknown scope");
}

/* Append v percent-encoded; `query` also escapes '+'. */
static int
sc_put_enc(struct buf *b, const char *v, bool query)
{
	static const char hex[] = "0123456789ABCDEF";
	int	 rc;

	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-_.!~*'():/,@", c) ||
		    (c == '+' && !query))
			rc = buf_putc(b, c);
		else if ((rc = buf_putc(b, '%')) == PDS_OK &&
		    (rc = buf_putc(b, (uint8_t)hex[c >> 4])) == PDS_OK)
			rc = buf_putc(b, (uint8_t)hex[c & 15]);
		if (rc != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

/* "?key=v" or "&key=v"; nothing for a NULL v (an absent parameter). */
static int
sc_put_param(struct buf *b, bool *first, const char *key, const char *v)
{
	int	 rc;

	if (v == NULL)
		return PDS_OK;
	if ((rc = buf_putc(b, *first ? '?' : '&')) != PDS_OK ||
	    (rc = buf_puts(b, key)) != PDS_OK ||
	    (rc = buf_putc(b, '=')) != PDS_OK)
		return rc;
	*first = false;
	return sc_put_enc(b, v, true);
}

/* resource, then the array `key` (positional when it is one value). */
static int
sc_put_vals(struct buf *b, const char *res, const char *key,
    const struct scope_perm *m, bool *first)
{
	size_t	 i;
	int	 rc;

	if ((rc = buf_puts(b, res)) != PDS_OK)
		return rc;
	if (m->nval == 1) {
		if ((rc = buf_putc(b, ':')) != PDS_OK)
			return rc;
		return sc_put_enc(b, m->val[0], false);
	}
	for (i = 0; i < m->nval; i++)
		if ((rc = sc_put_param(b, first, key, m->val[i])) != PDS_OK)
			return rc;
	return PDS_OK;
}

static int
sc_put_actions(struct buf *b, bool *first, unsigned bits,
    const char *const *tab, size_t n)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < n; i++)
		if ((bits & (1u << i)) &&
		    (rc = sc_put_param(b, first, "action", tab[i])) != PDS_OK)
			return rc;
	return PDS_OK;
}

int
scope_perm_format(const struct scope_perm *m, struct buf *b)
{
	bool	 first = true;
	int	 rc;

	switch (m->kind) {
	case SCOPE_ATPROTO:
		return buf_puts(b, "atproto");
	case SCOPE_TRANSITION_GENERIC:
		return buf_puts(b, "transition:generic");
	case SCOPE_TRANSITION_CHAT:
		return buf_puts(b, "transition:chat.bsky");
	case SCOPE_TRANSITION_EMAIL:
		return buf_puts(b, "transition:email");
	case SCOPE_REPO:
		if ((rc = sc_put_vals(b, "repo", "collection", m, &first)) !=
		    PDS_OK)
			return rc;
		if (m->actions == SCOPE_REPO_ALL)
			return PDS_OK;
		return sc_put_actions(b, &first, m->actions, repo_actions, 3);
	case SCOPE_RPC:
		if ((rc = sc_put_vals(b, "rpc", "lxm", m, &first)) != PDS_OK)
			return rc;
		return sc_put_param(b, &first, "aud", m->aud);
	case SCOPE_BLOB:
		return sc_put_vals(b, "blob", "accept", m, &first);
	case SCOPE_ACCOUNT:
		if ((rc = buf_puts(b, "account:")) != PDS_OK ||
		    (rc = buf_puts(b, account_attrs[m->attr])) != PDS_OK)
			return rc;
		if (m->actions == SCOPE_ACCOUNT_READ)
			return PDS_OK;
		return sc_put_actions(b, &first, m->actions, account_actions,
		    2);
	case SCOPE_IDENTITY:
		return buf_puts(b, m->attr == SCOPE_IDENTITY_ANY ?
		    "identity:*" : "identity:handle");
	case SCOPE_INCLUDE:
		if ((rc = sc_put_vals(b, "include", "nsid", m, &first)) !=
		    PDS_OK)
			return rc;
		return sc_put_param(b, &first, "aud", m->aud);
	}
	return PDS_EINTERNAL;
}

int
scope_set_format(const struct scope_set *s, struct buf *b)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < s->n; i++) {
		if (i > 0 && (rc = buf_putc(b, ' ')) != PDS_OK)
			return rc;
		if ((rc = scope_perm_format(&s->p[i], b)) != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

/* Two permissions with the same normalised text. */
static bool
sc_same(const struct scope_perm *a, const struct scope_perm *b)
{
	size_t	 i;

	if (a->kind != b->kind || a->actions != b->actions ||
	    a->attr != b->attr || a->nval != b->nval)
		return false;
	if ((a->aud == NULL) != (b->aud == NULL) ||
	    (a->aud != NULL && strcmp(a->aud, b->aud) != 0))
		return false;
	for (i = 0; i < a->nval; i++)
		if (strcmp(a->val[i], b->val[i]) != 0)
			return false;
	return true;
}

int
scope_set_add(struct scope_set *s, const char *p, size_t len,
    const char **why)
{
	struct scope_perm	 m;
	size_t			 mark = s->used, i;
	int			 rc;

	if ((rc = sc_parse_token(s, &m, p, len, why)) != PDS_OK) {
		s->used = mark;
		return rc;
	}
	for (i = 0; i < s->n; i++) {
		if (sc_same(&s->p[i], &m)) {
			s->used = mark;
			return PDS_OK;
		}
	}
	if (s->n == SCOPE_PERM_MAX) {
		s->used = mark;
		return pds_fail(why, PDS_ETOOBIG, "scope: too many scopes");
	}
	s->p[s->n++] = m;
	return PDS_OK;
}

int
scope_set_parse(struct scope_set *s, const char *p, size_t len,
    const char **why)
{
	size_t	 i, start;
	int	 rc;

	scope_set_reset(s);
	if (len > SCOPE_STR_MAX)
		return pds_fail(why, PDS_ETOOBIG, "scope: string too long");
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return pds_fail(why, PDS_EINVAL,
			    "scope: byte outside printable ASCII");
	for (i = 0; i < len; ) {
		if (p[i] == ' ') {
			i++;
			continue;
		}
		for (start = i; i < len && p[i] != ' '; i++)
			;
		rc = scope_set_add(s, p + start, i - start, NULL);
		if (rc == PDS_EINVAL)
			s->dropped++;
		else if (rc != PDS_OK)
			return pds_fail(why, rc, "scope: too many scopes");
	}
	return PDS_OK;
}

bool
scope_set_has(const struct scope_set *s, enum scope_kind k)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (s->p[i].kind == k)
			return true;
	return false;
}

static bool
sc_in(const struct scope_perm *m, const char *v)
{
	size_t	 i;

	for (i = 0; i < m->nval; i++)
		if (strcmp(m->val[i], "*") == 0 || strcmp(m->val[i], v) == 0)
			return true;
	return false;
}

bool
scope_allows_repo(const struct scope_set *s, const char *collection,
    unsigned action)
{
	size_t	 i;

	if (scope_set_has(s, SCOPE_TRANSITION_GENERIC))
		return true;
	for (i = 0; i < s->n; i++)
		if (s->p[i].kind == SCOPE_REPO &&
		    (s->p[i].actions & action) == action && action != 0 &&
		    sc_in(&s->p[i], collection))
			return true;
	return false;
}

/* mime as type/subtype lower-cased, parameters dropped; false if bad. */
static bool
sc_mime_norm(const char *mime, char *out, size_t cap)
{
	size_t	 n = strcspn(mime, ";"), i;
	char	*sl;

	while (n > 0 && (mime[n - 1] == ' ' || mime[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= cap)
		return false;
	for (i = 0; i < n; i++)
		out[i] = (char)(mime[i] >= 'A' && mime[i] <= 'Z' ?
		    mime[i] - 'A' + 'a' : mime[i]);
	out[n] = '\0';
	if ((sl = strchr(out, '/')) == NULL)
		return false;
	return sc_is_mimetok(out, (size_t)(sl - out)) &&
	    sc_is_mimetok(sl + 1, strlen(sl + 1));
}

bool
scope_allows_blob(const struct scope_set *s, const char *mime)
{
	char	 m[256];
	size_t	 i, j, tl;
	const char *a;

	if (scope_set_has(s, SCOPE_TRANSITION_GENERIC))
		return true;
	if (!sc_mime_norm(mime, m, sizeof(m)))
		return false;
	tl = strcspn(m, "/");
	for (i = 0; i < s->n; i++) {
		if (s->p[i].kind != SCOPE_BLOB)
			continue;
		for (j = 0; j < s->p[i].nval; j++) {
			a = s->p[i].val[j];
			if (strcmp(a, "*/*") == 0 || strcmp(a, m) == 0)
				return true;
			if (strlen(a) == tl + 2 && memcmp(a, m, tl + 1) == 0 &&
			    a[tl + 1] == '*')
				return true;
		}
	}
	return false;
}

bool
scope_allows_rpc(const struct scope_set *s, const char *lxm, const char *aud)
{
	size_t	 i, j;
	bool	 any = lxm == NULL || strcmp(lxm, "*") == 0;
	bool	 chat = !any && strncmp(lxm, "chat.bsky.", 10) == 0;

	if (scope_set_has(s, SCOPE_TRANSITION_GENERIC) && !chat)
		return true;
	if (scope_set_has(s, SCOPE_TRANSITION_CHAT) && chat)
		return true;
	if (aud == NULL)
		return false;
	for (i = 0; i < s->n; i++) {
		if (s->p[i].kind != SCOPE_RPC)
			continue;
		if (strcmp(s->p[i].aud, "*") != 0 &&
		    strcmp(s->p[i].aud, aud) != 0)
			continue;
		for (j = 0; j < s->p[i].nval; j++)
			if (strcmp(s->p[i].val[j], "*") == 0 ||
			    (!any && strcmp(s->p[i].val[j], lxm) == 0))
				return true;
	}
	return false;
}

bool
scope_allows_account(const struct scope_set *s, enum scope_account_attr attr,
    unsigned action)
{
	size_t	 i;

	if (attr == SCOPE_ATTR_EMAIL && action == SCOPE_ACCOUNT_READ &&
	    scope_set_has(s, SCOPE_TRANSITION_EMAIL))
		return true;
	for (i = 0; i < s->n; i++) {
		if (s->p[i].kind != SCOPE_ACCOUNT || s->p[i].attr != (int)attr)
			continue;
		if ((s->p[i].actions & SCOPE_ACCOUNT_MANAGE) ||
		    (action != 0 && (s->p[i].actions & action) == action))
			return true;
	}
	return false;
}

bool
scope_allows_identity(const struct scope_set *s, enum scope_identity_attr a)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (s->p[i].kind == SCOPE_IDENTITY &&
		    (s->p[i].attr == SCOPE_IDENTITY_ANY || s->p[i].attr == (int)a))
			return true;
	return false;
}

/* Friendly plural nouns for the best-known record collections. */
static const char *
sc_noun(const char *nsid)
{
	static const struct {
		const char	*nsid;
		const char	*noun;
	} nouns[] = {
		{ "app.bsky.feed.post", "posts" },
		{ "app.bsky.feed.like", "likes" },
		{ "app.bsky.feed.repost", "reposts" },
		{ "app.bsky.feed.generator", "feeds" },
		{ "app.bsky.feed.threadgate", "thread gates" },
		{ "app.bsky.feed.postgate", "post gates" },
		{ "app.bsky.graph.follow", "follows" },
		{ "app.bsky.graph.block", "blocks" },
		{ "app.bsky.graph.list", "lists" },
		{ "app.bsky.graph.listitem", "list entries" },
		{ "app.bsky.actor.profile", "your profile" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(nouns) / sizeof(nouns[0]); i++)
		if (strcmp(nouns[i].nsid, nsid) == 0)
			return nouns[i].noun;
	return "records";
}

/* "Create, update and delete" from action bits. */
static int
sc_describe_verbs(struct buf *b, unsigned bits)
{
	static const char *const verbs[] = { "Create", "update", "delete" };
	static const char *const first[] = { "Create", "Update", "Delete" };
	size_t	 i, n = 0, total = 0;
	int	 rc;

	for (i = 0; i < 3; i++)
		if (bits & (1u << i))
			total++;
	for (i = 0; i < 3; i++) {
		if (!(bits & (1u << i)))
			continue;
		if (n > 0 && (rc = buf_puts(b, n + 1 == total ? " and " :
		    ", ")) != PDS_OK)
			return rc;
		if ((rc = buf_puts(b, n == 0 ? first[i] : verbs[i])) != PDS_OK)
			return rc;
		n++;
	}
	return PDS_OK;
}

/*
 * The values of m, comma-separated, as many as fit in SCOPE_DESCRIBE_LIST
 * bytes, then " and N more <noun>" for the rest: a long list is cut
 * short but never dropped.  "*" reads as star.
 */
static int
sc_describe_list(struct buf *b, const struct scope_perm *m, const char *star,
    const char *noun)
{
	const char	*v;
	size_t		 i, len = 0, shown = 0, more = 0;
	int		 rc;

	for (i = 0; i < m->nval; i++) {
		v = strcmp(m->val[i], "*") == 0 || strcmp(m->val[i], "*/*") == 0 ?
		    star : m->val[i];
		if (len + 2 + strlen(v) > SCOPE_DESCRIBE_LIST) {
			more++;
			continue;
		}
		if ((rc = buf_printf(b, "%s%s", shown ? ", " : "", v)) !=
		    PDS_OK)
			return rc;
		len += 2 + strlen(v);
		shown++;
	}
	if (more == 0)
		return PDS_OK;
	return buf_printf(b, "%s%zu %s%s", shown ? " and " : "", more,
	    shown ? "more " : "", noun);
}

int
scope_perm_describe(const struct scope_perm *m, struct buf *b)
{
	int	 rc;

	switch (m->kind) {
	case SCOPE_ATPROTO:
		return buf_puts(b, "Identify you by your account");
	case SCOPE_TRANSITION_GENERIC:
		return buf_puts(b, "Act for your account like an app password: "
		    "write any records, upload files and call services "
		    "(not direct messages)");
	case SCOPE_TRANSITION_CHAT:
		return buf_puts(b, "Read and send your direct messages");
	case SCOPE_TRANSITION_EMAIL:
		return buf_puts(b, "See your email address");
	case SCOPE_REPO:
		if ((rc = sc_describe_verbs(b, m->actions)) != PDS_OK)
			return rc;
		if (m->nval == 1 && strcmp(m->val[0], "*") == 0)
			return buf_puts(b, " records of any kind");
		if (m->nval == 1)
			return buf_printf(b, " %s (%s)", sc_noun(m->val[0]),
			    m->val[0]);
		if ((rc = buf_puts(b, " records (")) != PDS_OK ||
		    (rc = sc_describe_list(b, m, "*", "collections")) != PDS_OK)
			return rc;
		return buf_putc(b, ')');
	case SCOPE_RPC:
		if ((rc = buf_puts(b, "Call ")) != PDS_OK ||
		    (rc = sc_describe_list(b, m, "any method", "methods")) !=
		    PDS_OK)
			return rc;
		if (strcmp(m->aud, "*") == 0)
			return buf_puts(b, " on any service");
		return buf_printf(b, " on %s", m->aud);
	case SCOPE_BLOB:
		if ((rc = buf_puts(b, "Upload files (")) != PDS_OK ||
		    (rc = sc_describe_list(b, m, "any type", "types")) != PDS_OK)
			return rc;
		return buf_putc(b, ')');
	case SCOPE_ACCOUNT:
		return buf_printf(b, "%s your account %s",
		    (m->actions & SCOPE_ACCOUNT_MANAGE) ? "Manage" : "See",
		    m->attr == SCOPE_ATTR_EMAIL ? "email address" :
		    m->attr == SCOPE_ATTR_REPO ? "repository" : "status");
	case SCOPE_IDENTITY:
		return buf_puts(b, m->attr == SCOPE_IDENTITY_ANY ?
		    "Change your handle and identity (DID document)" :
		    "Change your handle");
	case SCOPE_INCLUDE:
		return buf_printf(b, "Permission set %s", m->val[0]);
	}
	return PDS_EINTERNAL;
}
