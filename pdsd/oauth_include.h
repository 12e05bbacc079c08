/*
 * oauth_include: OAuth include:<nsid> scopes, expanded into the
 * permissions of the permission set the NSID resolves to
 * (lexicon_resolve.h), as the reference authorization server does.
 *
 * The expansion of one set is libcommon/oauth_permset.h's.  The token
 * scope is the expansions of the include: tokens in order, then the
 * other tokens, as given.
 *
 * Resolution fetches: call from the NET offload pool.
 */
#ifndef PDSD_OAUTH_INCLUDE_H
#define PDSD_OAUTH_INCLUDE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct buf;

#define OAUTH_INCLUDE_ERR_MAX	320
/*
 * include: tokens resolved for one request at most: each may cost a DNS
 * lookup, a DID resolution and a fetch, and PAR needs no account.
 */
#define OAUTH_INCLUDE_MAX	16

/* Whether scope (space-separated) holds an include: token. */
bool	oauth_include_present(const char *scope);

/*
 * Resolve every include: of scope to a permission set.  PDS_OK, or an
 * error with the reference's invalid_scope description in err
 * (PDS_ETOOBIG past OAUTH_INCLUDE_MAX distinct sets).
 */
int	oauth_include_check(const char *scope, char *err, size_t errlen);

/*
 * The token scope of a request scope (NUL-terminated into out): the
 * scope itself when it has no include:, else its expansion.  Errors as
 * for oauth_include_check().
 */
int	oauth_include_token_scope(const char *scope, struct buf *out,
	    char *err, size_t errlen);

/*
 * For the consent page: the set of include: permission p, resolved,
 * as its title and NSID into text and its detail and the plain words
 * of the permissions it grants into detail (both NUL-terminated).
 */
struct scope_perm;
int	oauth_include_describe(const struct scope_perm *p, struct buf *text,
	    struct buf *detail);

#endif
