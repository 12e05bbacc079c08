/*
 * oauth_scope: atproto OAuth scope strings and the permissions they grant.
 *
 * A scope string is space-separated tokens.  The static scopes are
 * "atproto", "transition:generic", "transition:chat.bsky" and
 * "transition:email"; the granular ones are
 * resource[:positional][?key=value&...] for the resources repo, rpc,
 * blob, account, identity and include.  Values are percent-encoded (and
 * form-encoded after '?'); repeated keys make arrays; a positional value
 * may not also be given by name.  A token that is unknown, or has an
 * unknown or invalid parameter, is invalid as a whole: scope_set_parse()
 * drops it and counts it in `dropped` (the authorization server ignores
 * such tokens silently).  An "include:" token is parsed and kept; it
 * grants nothing by itself: the authorization server expands it into
 * the permissions of its permission set (pdsd/oauth_include.c) before
 * a token carries it.
 *
 * A scope_set holds its strings in its own arena: never copy one by
 * value.  The checks answer for the permissions after the transition
 * rules: transition:generic grants every repo write, every blob and
 * every rpc except chat.bsky.*; transition:chat.bsky grants chat.bsky.*
 * rpc; transition:email grants reading the account email.
 */
#ifndef PDS_OAUTH_SCOPE_H
#define PDS_OAUTH_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

#define SCOPE_STR_MAX	8192	/* bytes in a whole scope string */
#define SCOPE_PERM_MAX	128	/* distinct tokens in one set */
#define SCOPE_VAL_MAX	16	/* values of one array parameter */

enum scope_kind {
	SCOPE_ATPROTO,
	SCOPE_TRANSITION_GENERIC,
	SCOPE_TRANSITION_CHAT,
	SCOPE_TRANSITION_EMAIL,
	SCOPE_REPO,
	SCOPE_RPC,
	SCOPE_BLOB,
	SCOPE_ACCOUNT,
	SCOPE_IDENTITY,
	SCOPE_INCLUDE,
};

/* Repo actions (bits of scope_perm.actions for SCOPE_REPO). */
#define SCOPE_REPO_CREATE	0x1
#define SCOPE_REPO_UPDATE	0x2
#define SCOPE_REPO_DELETE	0x4
#define SCOPE_REPO_ALL		0x7
/* Account actions (bits for SCOPE_ACCOUNT); manage implies read. */
#define SCOPE_ACCOUNT_READ	0x1
#define SCOPE_ACCOUNT_MANAGE	0x2

enum scope_account_attr {
	SCOPE_ATTR_EMAIL,
	SCOPE_ATTR_REPO,
	SCOPE_ATTR_STATUS,
};

enum scope_identity_attr {
	SCOPE_IDENTITY_HANDLE,
	SCOPE_IDENTITY_ANY,	/* "*": every identity operation (PLC) */
};

struct scope_perm {
	enum scope_kind	 kind;
	unsigned	 actions;	/* repo or account action bits */
	int		 attr;		/* account or identity attribute */
	size_t		 nval;
	/* repo collections, rpc lxms, blob accepts (normalised), include nsid */
	const char	*val[SCOPE_VAL_MAX];
	const char	*aud;		/* rpc and include; NULL if none */
};

struct scope_set {
	size_t		 n;
	size_t		 dropped;	/* invalid or unknown tokens skipped */
	struct scope_perm p[SCOPE_PERM_MAX];
	size_t		 used;
	char		 arena[SCOPE_STR_MAX + 1];
};

/* A new empty set, or NULL; free with scope_set_free() (NULL-safe). */
struct scope_set *scope_set_new(void);
void	 scope_set_free(struct scope_set *);
void	 scope_set_reset(struct scope_set *);

/*
 * Parse a whole scope string into s (reset first).  Returns PDS_ETOOBIG
 * past SCOPE_STR_MAX bytes or SCOPE_PERM_MAX distinct tokens, PDS_EINVAL
 * for a byte that is not printable ASCII or space, else PDS_OK.  Duplicates (by normalised
 * form) are kept once; invalid tokens are dropped and counted.
 */
int	 scope_set_parse(struct scope_set *, const char *, size_t,
	    const char **why);
/*
 * Parse one token and add it to s unless already there.  PDS_EINVAL (with
 * *why naming the fault) if it is invalid, PDS_ETOOBIG if s is full.
 */
int	 scope_set_add(struct scope_set *, const char *, size_t,
	    const char **why);

/* Normalised text of one permission, or of the set (space-separated). */
int	 scope_perm_format(const struct scope_perm *, struct buf *);
int	 scope_set_format(const struct scope_set *, struct buf *);
/*
 * Plain English for a consent screen: "Create posts (app.bsky.feed.post)".
 * A list of collections, methods or types longer than SCOPE_DESCRIBE_LIST
 * bytes is cut short with "and N more collections"; the whole text then
 * fits in SCOPE_DESCRIBE_MAX bytes unless an rpc aud is very long.
 */
#define SCOPE_DESCRIBE_LIST	400
#define SCOPE_DESCRIBE_MAX	1024
int	 scope_perm_describe(const struct scope_perm *, struct buf *);

bool	 scope_set_has(const struct scope_set *, enum scope_kind);

/* Write of one collection with one SCOPE_REPO_* action. */
bool	 scope_allows_repo(const struct scope_set *, const char *collection,
	    unsigned action);
/* Upload of a blob of this MIME type (parameters after ';' ignored). */
bool	 scope_allows_blob(const struct scope_set *, const char *mime);
/* Proxied call or service token for lxm ("*" or NULL: any) and aud. */
bool	 scope_allows_rpc(const struct scope_set *, const char *lxm,
	    const char *aud);
bool	 scope_allows_account(const struct scope_set *,
	    enum scope_account_attr, unsigned action);
bool	 scope_allows_identity(const struct scope_set *,
	    enum scope_identity_attr);

#endif
