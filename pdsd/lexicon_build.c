/*
 * lexicon_build: lexicon documents (jansson) into a lex_table.  Used at
 * build time by the generator of the compiled-in table, and usable at
 * run time for schemas fetched later.  See lexicon.h.
 *
 * Only libc and jansson: the generator links this file alone.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexicon.h"
#include "strv.h"
#include "syntax.h"

#define LEXB_MAX	(1u << 24)	/* nodes, items or strings */

struct lex_builder {
	struct lex_table t;
	struct lex_def	*defs;
	struct lex_node	*nodes;
	struct lex_item	*items;
	char		**strs;
	size_t		 cdefs, cnodes, citems, cstrs;
	uint32_t	*hash;		/* string index + 1, open addressing */
	size_t		 hcap;
	const char	*doc;		/* the document being added */
	char		*err;
	size_t		 errlen;
	bool		 finished;
};

static int
grow(void *pp, size_t *cap, size_t n, size_t size)
{
	void	*p;
	size_t	 c;

	if (n < *cap)
		return 0;
	if (n >= LEXB_MAX)
		return -1;
	c = *cap ? *cap * 2 : 64;
	if ((p = reallocarray(*(void **)pp, c, size)) == NULL)
		return -1;
	*(void **)pp = p;
	*cap = c;
	return 0;
}

static uint32_t
str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int
rehash(struct lex_builder *b)
{
	size_t	 cap = b->hcap ? b->hcap * 2 : 1024, i, j;
	uint32_t *h;

	if ((h = calloc(cap, sizeof(*h))) == NULL)
		return -1;
	for (i = 0; i < b->t.nstrs; i++) {
		j = str_hash(b->strs[i]) & (cap - 1);
		while (h[j] != 0)
			j = (j + 1) & (cap - 1);
		h[j] = (uint32_t)i + 1;
	}
	free(b->hash);
	b->hash = h;
	b->hcap = cap;
	return 0;
}

/* The index of string s (interned: one copy of each), or -1. */
static int64_t
intern_n(struct lex_builder *b, const char *s, size_t len)
{
	char	*c;
	size_t	 j;

	if ((c = strndup(s, len)) == NULL)
		return -1;
	if ((b->t.nstrs + 1) * 2 > b->hcap && rehash(b) != 0)
		goto fail;
	j = str_hash(c) & (b->hcap - 1);
	for (; b->hash[j] != 0; j = (j + 1) & (b->hcap - 1)) {
		if (strcmp(b->strs[b->hash[j] - 1], c) == 0) {
			free(c);
			return b->hash[j] - 1;
		}
	}
	if (grow(&b->strs, &b->cstrs, b->t.nstrs, sizeof(*b->strs)) != 0)
		goto fail;
	b->strs[b->t.nstrs] = c;
	b->hash[j] = b->t.nstrs + 1;
	b->t.strs = (const char *const *)b->strs;
	return b->t.nstrs++;
fail:
	free(c);
	return -1;
}

static int64_t
intern(struct lex_builder *b, const char *s)
{
	return intern_n(b, s, strlen(s));
}

static int
bad(struct lex_builder *b, const char *what, const char *where)
{
	snprintf(b->err, b->errlen, "%s: %s%s%s", b->doc, what,
	    where != NULL ? " at " : "", where != NULL ? where : "");
	return -1;
}

static int64_t
new_node(struct lex_builder *b, enum lex_type type)
{
	struct lex_node *n;

	if (grow(&b->nodes, &b->cnodes, b->t.nnodes, sizeof(*b->nodes)) != 0)
		return -1;
	n = &b->nodes[b->t.nnodes];
	memset(n, 0, sizeof(*n));
	n->type = (uint8_t)type;
	n->sub = LEX_NOREF;
	b->t.nodes = b->nodes;
	return b->t.nnodes++;
}

static int64_t
new_item(struct lex_builder *b, uint32_t name, uint32_t node, uint32_t fl)
{
	struct lex_item *it;

	if (grow(&b->items, &b->citems, b->t.nitems, sizeof(*b->items)) != 0)
		return -1;
	it = &b->items[b->t.nitems];
	it->name = name;
	it->node = node;
	it->flags = fl;
	b->t.items = b->items;
	return b->t.nitems++;
}

static const struct {
	const char	*name;
	enum lex_type	 type;
} type_names[] = {
	{ "boolean", LEX_BOOLEAN }, { "integer", LEX_INTEGER },
	{ "string", LEX_STRING }, { "bytes", LEX_BYTES },
	{ "cid-link", LEX_CIDLINK }, { "blob", LEX_BLOB },
	{ "array", LEX_ARRAY }, { "object", LEX_OBJECT },
	{ "params", LEX_PARAMS }, { "ref", LEX_REF }, { "union", LEX_UNION },
	{ "unknown", LEX_UNKNOWN }, { "token", LEX_TOKEN },
	{ "record", LEX_RECORD }, { "query", LEX_QUERY },
	{ "procedure", LEX_PROCEDURE }, { "subscription", LEX_SUBSCRIPTION },
	{ "permission-set", LEX_PERMSET },
};

static const char *const format_names[LEXF_NFORMATS] = {
	[LEXF_DATETIME] = "datetime", [LEXF_URI] = "uri",
	[LEXF_ATURI] = "at-uri", [LEXF_DID] = "did", [LEXF_HANDLE] = "handle",
	[LEXF_ATID] = "at-identifier", [LEXF_NSID] = "nsid",
	[LEXF_CID] = "cid", [LEXF_LANGUAGE] = "language", [LEXF_TID] = "tid",
	[LEXF_RKEY] = "record-key",
};

/* An integer field: sets *v and flag on n when present. */
static int
get_int(struct lex_builder *b, const json_t *o, const char *key,
    int64_t *v, struct lex_node *n, uint16_t flag, const char *where)
{
	const json_t *j = json_object_get(o, key);

	if (j == NULL)
		return 0;
	if (!json_is_integer(j))
		return bad(b, key, where);
	*v = json_integer_value(j);
	n->flags |= flag;
	return 0;
}

/*
 * A ref name in the full form "nsid" or "nsid#name" (as the reference
 * resolves it, less its "lex:" scheme).
 */
static int64_t
ref_name(struct lex_builder *b, const char *ref)
{
	char	 buf[1024];

	if (strncmp(ref, "lex:", 4) == 0)
		ref += 4;
	if (ref[0] == '#') {
		if (snprintf(buf, sizeof(buf), "%s%s", b->doc, ref) >=
		    (int)sizeof(buf))
			return -1;
		return intern(b, buf);
	}
	return intern(b, ref);
}

static int64_t parse_node(struct lex_builder *, const json_t *,
	    const char *, int);

/* Properties of an object or params node, in schema order. */
static int
parse_props(struct lex_builder *b, uint32_t ni, const json_t *o,
    const char *where, int depth)
{
	const json_t	*props = json_object_get(o, "properties");
	const json_t	*req = json_object_get(o, "required");
	const json_t	*nul = json_object_get(o, "nullable");
	const json_t	*p, *x;
	const char	*key;
	size_t		 i, first, count = 0;
	int64_t		 name;
	uint32_t	 fl;

	if (props == NULL) {
		b->nodes[ni].list = b->t.nitems;
		b->nodes[ni].n = 0;
		return 0;
	}
	if (!json_is_object(props) || (req != NULL && !json_is_array(req)) ||
	    (nul != NULL && !json_is_array(nul)))
		return bad(b, "bad properties", where);
	/* Bound the work of a hostile document: properties x their lists. */
	if (json_object_size(props) * (json_array_size(req) +
	    json_array_size(nul)) > 100000)
		return bad(b, "too many properties", where);
	/*
	 * The items of one node must be contiguous: parse the property
	 * schemas first, then add the items.
	 */
	{
		size_t	 np = json_object_size(props), k = 0;
		int64_t	*subs = calloc(np + 1, sizeof(*subs));

		if (subs == NULL)
			return -1;
		json_object_foreach((json_t *)props, key, p) {
			if ((subs[k++] = parse_node(b, p, key, depth + 1)) < 0) {
				free(subs);
				return -1;
			}
		}
		first = b->t.nitems;
		k = 0;
		json_object_foreach((json_t *)props, key, p) {
			fl = 0;
			json_array_foreach(req, i, x)
				if (json_is_string(x) &&
				    strcmp(json_string_value(x), key) == 0)
					fl |= LEXI_REQUIRED;
			json_array_foreach(nul, i, x)
				if (json_is_string(x) &&
				    strcmp(json_string_value(x), key) == 0)
					fl |= LEXI_NULLABLE;
			if ((name = intern(b, key)) < 0 ||
			    new_item(b, (uint32_t)name, (uint32_t)subs[k++],
			    fl) < 0) {
				free(subs);
				return -1;
			}
			count++;
		}
		free(subs);
	}
	b->nodes[ni].list = (uint32_t)first;
	b->nodes[ni].n = (uint32_t)count;
	return 0;
}

/* A list of strings (enum, accept, refs) as items of node ni. */
static int
parse_strlist(struct lex_builder *b, uint32_t ni, const json_t *a,
    bool refs, const char *where)
{
	const json_t	*x;
	size_t		 i;
	int64_t		 s;
	char		 num[32];

	if (!json_is_array(a))
		return bad(b, "not a list", where);
	b->nodes[ni].list = b->t.nitems;
	json_array_foreach(a, i, x) {
		if (json_is_string(x))
			s = refs ? ref_name(b, json_string_value(x)) :
			    intern(b, json_string_value(x));
		else if (json_is_integer(x) && !refs) {
			snprintf(num, sizeof(num), "%" PRId64,
			    (int64_t)json_integer_value(x));
			s = intern(b, num);
		} else
			return bad(b, "bad list entry", where);
		if (s < 0 || new_item(b, (uint32_t)s, LEX_NOREF, 0) < 0)
			return -1;
	}
	b->nodes[ni].n = (uint32_t)json_array_size(a);
	return 0;
}

/* const and default of a string, integer or boolean. */
static int
parse_kd(struct lex_builder *b, uint32_t ni, const json_t *o,
    const char *key, uint16_t flag, const char *where)
{
	const json_t	*j = json_object_get(o, key);
	struct lex_node	*n = &b->nodes[ni];
	int64_t		 v;

	if (j == NULL)
		return 0;
	switch (n->type) {
	case LEX_STRING:
		if (!json_is_string(j))
			return 0;	/* ignored, as the reference does */
		if ((v = intern(b, json_string_value(j))) < 0)
			return -1;
		n = &b->nodes[ni];
		break;
	case LEX_INTEGER:
		if (!json_is_integer(j))
			return 0;
		v = json_integer_value(j);
		break;
	case LEX_BOOLEAN:
		if (!json_is_boolean(j))
			return 0;
		v = json_is_true(j);
		break;
	default:
		return bad(b, key, where);
	}
	if (flag == LEXN_CONST)
		n->k = v;
	else
		n->d = v;
	n->flags |= flag;
	return 0;
}

static int
parse_string(struct lex_builder *b, uint32_t ni, const json_t *o,
    const char *where)
{
	struct lex_node	*n = &b->nodes[ni];
	const json_t	*f = json_object_get(o, "format");
	int64_t		 g;
	size_t		 i;

	if (get_int(b, o, "minLength", &n->min, n, LEXN_MIN, where) ||
	    get_int(b, o, "maxLength", &n->max, n, LEXN_MAX, where))
		return -1;
	if (get_int(b, o, "minGraphemes", &g, n, LEXN_GMIN, where))
		return -1;
	if (n->flags & LEXN_GMIN)
		n->gmin = g < 0 ? 0 : g > UINT32_MAX ? UINT32_MAX : (uint32_t)g;
	if (get_int(b, o, "maxGraphemes", &g, n, LEXN_GMAX, where))
		return -1;
	if (n->flags & LEXN_GMAX)
		n->gmax = g < 0 ? 0 : g > UINT32_MAX ? UINT32_MAX : (uint32_t)g;
	if (f != NULL) {
		if (!json_is_string(f))
			return bad(b, "bad format", where);
		for (i = 1; i < LEXF_NFORMATS; i++)
			if (strcmp(format_names[i], json_string_value(f)) == 0)
				n->format = (uint8_t)i;
		if (n->format == LEXF_NONE)
			return bad(b, "unknown format", where);
	}
	return 0;
}

/* The schema j as the node under node ni (its items, record, parameters). */
static int
parse_sub(struct lex_builder *b, uint32_t ni, const json_t *j,
    const char *where, int depth)
{
	int64_t	 s;

	if ((s = parse_node(b, j, where, depth + 1)) < 0)
		return -1;
	b->nodes[ni].sub = (uint32_t)s;	/* b->nodes may have moved */
	return 0;
}

static int
parse_typed(struct lex_builder *b, uint32_t ni, const json_t *o,
    const char *where, int depth)
{
	struct lex_node	*n = &b->nodes[ni];
	const json_t	*j;
	int64_t		 s;

	switch (n->type) {
	case LEX_STRING:
		if (parse_string(b, ni, o, where) != 0)
			return -1;
		/* FALLTHROUGH */
	case LEX_INTEGER:
		n = &b->nodes[ni];
		if (n->type == LEX_INTEGER &&
		    (get_int(b, o, "minimum", &n->min, n, LEXN_MIN, where) ||
		    get_int(b, o, "maximum", &n->max, n, LEXN_MAX, where)))
			return -1;
		if ((j = json_object_get(o, "enum")) != NULL) {
			if (parse_strlist(b, ni, j, false, where) != 0)
				return -1;
			b->nodes[ni].flags |= LEXN_ENUM;
		}
		/* FALLTHROUGH */
	case LEX_BOOLEAN:
		return parse_kd(b, ni, o, "const", LEXN_CONST, where) ||
		    parse_kd(b, ni, o, "default", LEXN_DEFAULT, where) ? -1 : 0;
	case LEX_BYTES:
		return get_int(b, o, "minLength", &n->min, n, LEXN_MIN, where) ||
		    get_int(b, o, "maxLength", &n->max, n, LEXN_MAX, where) ?
		    -1 : 0;
	case LEX_BLOB:
		if (get_int(b, o, "maxSize", &n->max, n, LEXN_MAX, where))
			return -1;
		if ((j = json_object_get(o, "accept")) != NULL)
			return parse_strlist(b, ni, j, false, where);
		return 0;
	case LEX_ARRAY:
		if (get_int(b, o, "minLength", &n->min, n, LEXN_MIN, where) ||
		    get_int(b, o, "maxLength", &n->max, n, LEXN_MAX, where))
			return -1;
		return parse_sub(b, ni, json_object_get(o, "items"), where,
		    depth);
	case LEX_OBJECT:
	case LEX_PARAMS:
		return parse_props(b, ni, o, where, depth);
	case LEX_REF:
		j = json_object_get(o, "ref");
		if (!json_is_string(j) ||
		    (s = ref_name(b, json_string_value(j))) < 0)
			return bad(b, "bad ref", where);
		b->nodes[ni].k = s;
		return 0;
	case LEX_UNION:
		if (json_is_true(json_object_get(o, "closed")))
			n->flags |= LEXN_CLOSED;
		return parse_strlist(b, ni, json_object_get(o, "refs"), true,
		    where);
	case LEX_RECORD:
		j = json_object_get(o, "key");
		if ((s = intern(b, json_is_string(j) ? json_string_value(j) :
		    "any")) < 0)
			return -1;
		b->nodes[ni].k = s;
		return parse_sub(b, ni, json_object_get(o, "record"), where,
		    depth);
	case LEX_QUERY:
	case LEX_PROCEDURE:
	case LEX_SUBSCRIPTION:
		n->k = -1;
		if ((j = json_object_get(o, "parameters")) != NULL &&
		    parse_sub(b, ni, j, where, depth) != 0)
			return -1;
		j = json_object_get(json_object_get(o, "input"), "schema");
		if (j != NULL) {
			if ((s = parse_node(b, j, where, depth + 1)) < 0)
				return -1;
			b->nodes[ni].k = s;
		}
		return 0;
	default:
		return 0;
	}
}

/* One schema object: a new node, its index or -1. */
static int64_t
parse_node(struct lex_builder *b, const json_t *o, const char *where,
    int depth)
{
	const char	*t;
	int64_t		 ni;
	size_t		 i;

	if (depth > 32)
		return bad(b, "nested too deeply", where);
	if (!json_is_object(o) ||
	    (t = json_string_value(json_object_get(o, "type"))) == NULL)
		return bad(b, "schema without a type", where);
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(type_names[i].name, t) == 0)
			break;
	if (i == sizeof(type_names) / sizeof(type_names[0]))
		return bad(b, "unknown type", where);
	if ((ni = new_node(b, type_names[i].type)) < 0)
		return -1;
	if (parse_typed(b, (uint32_t)ni, o, where, depth) != 0)
		return -1;
	return ni;
}

/*
 * What a named def may be: not a ref, a union or unknown; the primary
 * types only as "main"; a record's schema an object.
 */
static int
def_check(struct lex_builder *b, const char *name, const json_t *d)
{
	const char	*t = json_string_value(json_object_get(d, "type"));
	const json_t	*rec;

	if (t == NULL)
		return bad(b, "def without a type", name);
	if (strcmp(t, "ref") == 0 || strcmp(t, "union") == 0 ||
	    strcmp(t, "unknown") == 0)
		return bad(b, "a def may not be of type", t);
	if ((strcmp(t, "record") == 0 || strcmp(t, "query") == 0 ||
	    strcmp(t, "procedure") == 0 || strcmp(t, "subscription") == 0 ||
	    strcmp(t, "permission-set") == 0) && strcmp(name, "main") != 0)
		return bad(b, "a primary type must be the main def", name);
	if (strcmp(t, "record") == 0) {
		rec = json_object_get(d, "record");
		if (!json_is_object(rec) || json_string_value(json_object_get(
		    rec, "type")) == NULL || strcmp(json_string_value(
		    json_object_get(rec, "type")), "object") != 0)
			return bad(b, "a record schema must be an object",
			    name);
	}
	return 0;
}

struct lex_builder *
lex_builder_new(void)
{
	return calloc(1, sizeof(struct lex_builder));
}

int
lex_builder_add(struct lex_builder *b, const json_t *doc, char *err,
    size_t errlen)
{
	const json_t	*defs, *d;
	const char	*id, *name;
	char		 full[1024];
	int64_t		 ni, si;

	b->err = err;
	b->errlen = errlen;
	b->doc = "(document)";
	if (b->finished)
		return bad(b, "table already finished", NULL);
	id = json_string_value(json_object_get(doc, "id"));
	defs = json_object_get(doc, "defs");
	if (!json_is_integer(json_object_get(doc, "lexicon")) ||
	    json_integer_value(json_object_get(doc, "lexicon")) != 1)
		return bad(b, "\"lexicon\" must be 1", NULL);
	if (id == NULL || !syntax_is_nsid(id, strlen(id)))
		return bad(b, "\"id\" must be an NSID", NULL);
	if (!json_is_object(defs))
		return bad(b, "no defs", NULL);
	b->doc = id;
	json_object_foreach((json_t *)defs, name, d) {
		if (def_check(b, name, d) != 0)
			return -1;
		if (strcmp(name, "main") == 0)
			snprintf(full, sizeof(full), "%s", id);
		else if (snprintf(full, sizeof(full), "%s#%s", id, name) >=
		    (int)sizeof(full))
			return bad(b, "def name too long", name);
		if ((ni = parse_node(b, d, name, 0)) < 0)
			return -1;
		if ((si = intern(b, full)) < 0 ||
		    grow(&b->defs, &b->cdefs, b->t.ndefs, sizeof(*b->defs)))
			return -1;
		b->defs[b->t.ndefs].id = (uint32_t)si;
		b->defs[b->t.ndefs].node = (uint32_t)ni;
		b->t.defs = b->defs;
		b->t.ndefs++;
	}
	return 0;
}

static struct lex_builder *sort_b;

static int
def_cmp(const void *a, const void *b)
{
	const struct lex_def *x = a, *y = b;

	return strcmp(sort_b->strs[x->id], sort_b->strs[y->id]);
}

const struct lex_table *
lex_builder_finish(struct lex_builder *b)
{
	const struct lex_node *t;
	struct lex_node	*n;
	uint32_t	 i, j;
	const char	*name;

	if (!b->finished && b->t.ndefs > 0) {
		sort_b = b;
		qsort(b->defs, b->t.ndefs, sizeof(*b->defs), def_cmp);
		sort_b = NULL;
	}
	b->finished = true;
	for (i = 0; i < b->t.nnodes; i++) {
		n = &b->nodes[i];
		if (n->type == LEX_REF) {
			name = b->strs[n->k];
			t = lex_def_find(&b->t, name, strlen(name));
			n->sub = t != NULL ? (uint32_t)(t - b->nodes) :
			    LEX_NOREF;
		} else if (n->type == LEX_UNION) {
			for (j = n->list; j < n->list + n->n; j++) {
				name = b->strs[b->items[j].name];
				t = lex_def_find(&b->t, name, strlen(name));
				b->items[j].node = t != NULL ?
				    (uint32_t)(t - b->nodes) : LEX_NOREF;
			}
		}
	}
	return &b->t;
}

void
lex_builder_free(struct lex_builder *b)
{
	if (b == NULL)
		return;
	strv_free(b->strs, b->t.nstrs);
	free(b->hash);
	free(b->defs);
	free(b->nodes);
	free(b->items);
	free(b);
}

/* ---- lookup ---------------------------------------------------------- */

struct def_key {
	const struct lex_table *t;
	const char	*s;
	size_t		 len;
};

static int
def_key_cmp(const void *k, const void *d)
{
	const struct def_key *key = k;
	const char	*id = key->t->strs[((const struct lex_def *)d)->id];
	int		 c = strncmp(key->s, id, key->len);

	if (c != 0)
		return c;
	return id[key->len] == '\0' ? 0 : -1;
}

const struct lex_node *
lex_def_find(const struct lex_table *t, const char *id, size_t len)
{
	struct def_key	 key;
	const struct lex_def *d;

	if (len >= 4 && memcmp(id, "lex:", 4) == 0) {
		id += 4;
		len -= 4;
	}
	if (len >= 5 && memcmp(id + len - 5, "#main", 5) == 0)
		len -= 5;
	if (len == 0 || memchr(id, '\0', len) != NULL)
		return NULL;
	key.t = t;
	key.s = id;
	key.len = len;
	d = bsearch(&key, t->defs, t->ndefs, sizeof(*t->defs), def_key_cmp);
	return d != NULL ? &t->nodes[d->node] : NULL;
}

const struct lex_node *
lex_record_find(const struct lex_table *t, const char *collection)
{
	const struct lex_node *n;

	n = lex_def_find(t, collection, strlen(collection));
	if (n == NULL || n->type != LEX_RECORD || n->sub == LEX_NOREF ||
	    strchr(collection, '#') != NULL)
		return NULL;
	return n;
}
