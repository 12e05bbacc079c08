/*
 * xrpc_routes: the route table built from xrpc_methods.h, and lookup.
 *
 * Every handler is an ordinary reference (prototypes in api.h), so a
 * method whose handler no file defines fails the link.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "lexicon.h"
#include "read_after_write.h"
#include "repo_writer.h"
#include "xrpc.h"
#include "xrpc_lex.h"

#define G	HTTP_GET
#define P	HTTP_POST
#define XF(f)	XRPC_AF_##f
#define XA(nsid, fn, arg, m, auth, flags, in, max, rate)		\
	{ nsid, m, XRPC_AUTH_##auth, flags, XRPC_IN_##in, max,		\
	  XRPC_RATE_##rate, fn, arg },
#define X(nsid, fn, m, auth, flags, in, max, rate)			\
	XA(nsid, fn, 0, m, auth, flags, in, max, rate)

static const struct xrpc_route routes[] = {
#include "xrpc_methods.h"
};

#undef X
#undef XA
#undef XF
#undef G
#undef P

#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

static const struct xrpc_route *sorted[NROUTES];
/* Each route's lexicon nodes, by its index in routes[]. */
static const struct lex_node *lex_params[NROUTES], *lex_input[NROUTES];
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int
cmp_route(const void *a, const void *b)
{
	const struct xrpc_route *const *ra = a, *const *rb = b;

	return strcmp((*ra)->nsid, (*rb)->nsid);
}

static int
cmp_key(const void *key, const void *b)
{
	const struct xrpc_route *const *rb = b;

	return strcmp(key, (*rb)->nsid);
}

static void
index_build(void)
{
	size_t	 i;

	for (i = 0; i < NROUTES; i++) {
		sorted[i] = &routes[i];
		if (routes[i].auth_flags & XRPC_AF_NOLEX)
			continue;
		xrpc_lex_method(&lex_builtin, routes[i].nsid, &lex_params[i],
		    &lex_input[i]);
		if (routes[i].input != XRPC_IN_JSON)
			lex_input[i] = NULL;
	}
	qsort(sorted, NROUTES, sizeof(sorted[0]), cmp_route);
}

/*
 * Called from xrpc_init(); xrpc_route_find() calls it too, for callers
 * (tools, tests) that never run xrpc_init().  Any thread, any number of
 * times: the index is built exactly once.
 */
void	xrpc_routes_index(void);

void
xrpc_routes_index(void)
{
	pthread_once(&sorted_once, index_build);
}

const struct xrpc_route *
xrpc_route_find(const char *nsid)
{
	const struct xrpc_route *const *r;

	xrpc_routes_index();
	r = bsearch(nsid, sorted, NROUTES, sizeof(sorted[0]), cmp_key);
	return r != NULL ? *r : NULL;
}

const struct xrpc_route *
xrpc_routes(size_t *n)
{
	*n = NROUTES;
	return routes;
}

void
xrpc_route_lex(const struct xrpc_route *rt, const struct lex_node **params,
    const struct lex_node **input)
{
	size_t	 i;

	xrpc_routes_index();
	*params = *input = NULL;
	if (rt < routes || rt >= routes + NROUTES)
		return;
	i = (size_t)(rt - routes);
	*params = lex_params[i];
	*input = lex_input[i];
}
