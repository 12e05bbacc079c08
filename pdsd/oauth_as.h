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

#include <jansson.h>

#include "store_oauth.h"

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
 * The DPoP nonce secret (DPOP_NONCE_SECRET_LEN bytes), so that the
 * resource server (oauth_resource.c) hands out and accepts the same
 * nonces as the authorization server: one origin, one nonce.
 */
const uint8_t *oauth_as_dpop_secret(void);

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
 * The decision on pushed request r, whose stored parameters are params;
 * the caller has checked that r is pending (not expired, no code yet).
 *
 * oauth_as_grant: did signed in and consented.  Record the consent (the
 * requested scope, or `scope' when not NULL, which must be a subset of
 * it and keep atproto; added to what did granted the client before),
 * write the granted scope into params and the request row, bind the
 * request to did, issue a code valid for OAUTH_CODE_TTL (single use) and
 * fill *out.  PDS_EINVAL for a bad scope, PDS_ENOTFOUND when the request
 * got a code meanwhile; *why says which.
 *
 * oauth_as_deny: delete the request and fill *out with error (e.g.
 * access_denied, login_required) and error_description (or NULL).
 */
int	oauth_as_grant(const struct store_oauth_request *r, json_t *params,
	    const char *did, const char *scope, struct oauth_as_redirect *out,
	    const char **why);
int	oauth_as_deny(const struct store_oauth_request *r, const json_t *params,
	    const char *error, const char *error_description,
	    struct oauth_as_redirect *out);

/*
 * oauth_as_grant() for request_uri, loaded and checked first: the
 * decision without a browser.  PDS_ENOTFOUND when the request does not
 * exist, is expired, belongs to another client or already has a code;
 * PDS_EINVAL for a bad scope; *why says which.
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
