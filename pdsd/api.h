/*
 * api: the prototype of every XRPC handler named in xrpc_methods.h.
 * A module implements the ones it owns (include this header so the
 * compiler checks the signature); every one must be defined somewhere
 * in pdsd, or the link fails.
 */
#ifndef PDSD_API_H
#define PDSD_API_H

#include <stdbool.h>
#include <stdint.h>

#include "email_tokens.h"
#include "xrpc.h"

#define XF(f)	0
#define X(nsid, fn, m, auth, flags, in, max, rate) \
	int fn(struct xrpc_ctx *);
#define XA(nsid, fn, arg, m, auth, flags, in, max, rate) \
	int fn(struct xrpc_ctx *);
#include "xrpc_methods.h"
#undef X
#undef XA
#undef XF

/* ---- shared by the API files ---- */

/*
 * A listing's page: ?limit= into *limit (def when absent or empty),
 * refused unless an integer from 1 to max, and ?cursor= into *cursor
 * (NULL when absent or empty) (api_repo.c).
 */
int	api_query_page(struct xrpc_ctx *, size_t def, size_t max,
	    size_t *limit, const char **cursor);
/*
 * Query parameter key into *out, which must pass is (a syntax_is_*
 * check): an InvalidRequest "<key> must be <what>" otherwise.  When
 * required, an absent or empty one is "Params must have the property"
 * (api_repo.c).
 */
int	api_query_check(struct xrpc_ctx *, const char *key, bool required,
	    bool (*is)(const char *, size_t), const char *what,
	    const char **out);
/*
 * An optional boolean of the input: 0 with *v 1 or 0, or -1 when absent
 * or null; for another type an InvalidRequest "<prefix><key> must be a
 * boolean" (the methods differ in whether they say "Input/").
 */
int	api_input_bool(struct xrpc_ctx *, const char *prefix, const char *key,
	    int *v);
/* ?collection= and ?rkey= of a record read, checked (api_repo.c). */
int	api_query_record(struct xrpc_ctx *, const char **coll,
	    const char **rkey);
/* RepoTakendown or RepoDeactivated, for a repo that is not active. */
struct store_repo_acct;
int	api_repo_unavailable(struct xrpc_ctx *,
	    const struct store_repo_acct *);
/* Token errors as the reference names them (InvalidToken, ExpiredToken). */
int	api_email_token_error(struct xrpc_ctx *, int rc);
/* A failed email send (502) or an unusable address (400). */
int	api_email_send_error(struct xrpc_ctx *, int rc);
/*
 * Forward the call to the default (or atproto-proxy) target with service
 * auth, as any method the PDS does not serve itself (api_proxy_local.c);
 * the whole handler of createReport and getActorLikes.
 */
int	api_proxy_forward(struct xrpc_ctx *);

#endif
