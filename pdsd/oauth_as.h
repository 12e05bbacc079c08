/*
 * oauth_as: this server as an atproto OAuth authorization server (the
 * module `oauth'): the discovery documents, the key set, pushed
 * authorization requests, the token and revocation endpoints, and what
 * the authorization page needs to finish a request.
 *
 * Paths served (all answer errors as {"error","error_description"}, in
 * the OAuth shape, never the XRPC one):
 *	GET  /.well-known/oauth-protected-resource
 *	GET  /.well-known/oauth-authorization-server
 *	GET  /oauth/jwks
 *	POST /oauth/par
 *	POST /oauth/token
 *	POST /oauth/revoke
 *
 * The issuer is the configured public URL (https://PDS_HOSTNAME, or
 * http://HOST:PORT in dev mode), with no trailing slash; DPoP proofs'
 * htu is compared with it plus the request path, never with Host.
 * Access tokens are HS256 JWTs (typ at+jwt) signed with PDS_JWT_SECRET
 * whose jti is the token id of a family row: the scope is read from that
 * row, so revocation takes effect at once.
 */
#ifndef PDSD_OAUTH_AS_H
#define PDSD_OAUTH_AS_H

#include <stddef.h>
#include <stdint.h>

#define OAUTH_REQUEST_URI_PREFIX "urn:ietf:params:oauth:request_uri:"

/* Lifetimes, seconds. */
#define OAUTH_PAR_TTL		300		/* a pushed request */
#define OAUTH_CODE_TTL		300		/* a code after consent */
#define OAUTH_ACCESS_TTL	(15 * 60)	/* an access token */
#define OAUTH_DPOP_JTI_TTL	198		/* a DPoP proof's jti */
#define OAUTH_CHALLENGE_TTL	(95040)		/* a PKCE challenge: 1.1 day */
#define OAUTH_PUBLIC_SESSION	(14 * 86400)	/* public: whole session */
#define OAUTH_PUBLIC_REFRESH	(14 * 86400)	/* public: inactivity */
#define OAUTH_CONF_SESSION	(730 * 86400)	/* confidential: session */
#define OAUTH_CONF_REFRESH	(90 * 86400)	/* confidential: inactivity */
#define OAUTH_PURGE_INTERVAL_MS	(5 * 60 * 1000)

/* The issuer, e.g. "https://pds.example.com"; "" before the init. */
const char *oauth_as_issuer(void);

/*
 * Where the authorization page sends the browser when a request is
 * finished: redirect_uri with, per response_mode ("query", "fragment"
 * or "form_post"), either code or error (and error_description), plus
 * state when the client sent one, and iss.  Strings are owned; release
 * with oauth_as_redirect_clear().
 */
struct oauth_as_redirect {
	char	*redirect_uri;
	char	*response_mode;
	char	*code;			/* NULL on an error */
	char	*error;			/* NULL on success */
	char	*error_description;
	char	*state;			/* NULL if none */
	char	*iss;
};

void	oauth_as_redirect_clear(struct oauth_as_redirect *);

/*
 * The request id ("req-...") of a request_uri, into id[cap].
 * PDS_EINVAL when request_uri does not have the
 * OAUTH_REQUEST_URI_PREFIX "req-<32 hex>" form.
 */
int	oauth_as_request_id(const char *request_uri, char *id, size_t cap);

/*
 * Finish request_uri for client_id after did signed in and consented:
 * record the consent (the requested scope, or `scope' when not NULL,
 * which must be a subset of it and keep atproto), issue a code valid for
 * OAUTH_CODE_TTL, and fill *out.  PDS_ENOTFOUND when the request does
 * not exist, is expired, belongs to another client or already has a
 * code; PDS_EINVAL for a bad scope; *why says which.
 */
int	oauth_as_approve(const char *request_uri, const char *client_id,
	    const char *did, const char *scope, struct oauth_as_redirect *out,
	    const char **why);

/*
 * The user refused request_uri: delete it and fill *out with error
 * access_denied.  PDS_ENOTFOUND as for oauth_as_approve().
 */
int	oauth_as_reject(const char *request_uri, const char *client_id,
	    struct oauth_as_redirect *out, const char **why);

#endif
