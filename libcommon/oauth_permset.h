/*
 * oauth_permset: permission sets into OAuth scopes.
 *
 * Of a set's permissions only repo and rpc entries are used; an rpc
 * entry with a fixed aud other than "*" is dropped, and one with
 * inheritAud takes the include:'s aud (dropped when there is none); an
 * entry with an unknown or invalid field is dropped whole; every
 * collection and lxm must be under the set's NSID group (its NSID less
 * the last segment), never "*".
 */
#ifndef PDS_OAUTH_PERMSET_H
#define PDS_OAUTH_PERMSET_H

#include <jansson.h>

struct buf;

/*
 * Append to out the scope tokens of permission set `set` (the main def,
 * with its permissions array) included as nsid with aud (may be NULL),
 * each preceded by a space unless out is empty.  PDS_OK, PDS_ENOMEM or
 * PDS_ETOOBIG.
 */
int	oauth_permset_expand(const json_t *set, const char *nsid,
	    const char *aud, struct buf *out);

#endif
