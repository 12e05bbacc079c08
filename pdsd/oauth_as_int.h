/*
 * oauth_as_int: what the authorization server's files share: oauth_as.c
 * (module, discovery, revocation), oauth_par.c (PAR), oauth_token.c
 * (the token endpoint) and oauth_consent.c (the page's approve and
 * reject).  Only they include it.
 *
 * A handler works on one struct as_ctx: as_ctx_begin() checks the
 * method and reads the parameters; as_ctx_client_load() and
 * as_ctx_client_auth() load and authenticate the client; as_ctx_dpop()
 * checks the DPoP proof.  Each
 * of them, on failure, has already set the error reply and returns
 * false; the handler then only calls as_ctx_end().
 */
#ifndef PDSD_OAUTH_AS_INT_H
#define PDSD_OAUTH_AS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "dpop.h"
#include "http.h"
#include "jwk.h"
#include "oauth_client.h"
#include "oauth_clients.h"

#define AS_BODY_MAX		(64 * 1024)	/* PAR, token, revoke bodies */
#define AS_PARAMS_MAX		64		/* parameters in one body */
#define AS_ISSUER_MAX		1024		/* the public URL */
#define AS_URL_MAX		2048
#define AS_ID_SHORT		16	/* random bytes of req-, tok- */
#define AS_ID_LONG		32	/* random bytes of cod-, ref- */

struct as_ctx {
	struct http_req		*req;
	const char		*path;		/* the endpoint's path */
	char			 url[AS_URL_MAX];	/* issuer + path */
	time_t			 now;
	json_t			*params;	/* object of strings */
	struct oauth_client	 client;
	bool			 have_client;
	bool			 confidential;	/* authenticated by assertion */
	struct oauth_client_key	 ckey;		/* when confidential */
	bool			 has_proof;	/* a DPoP proof was verified */
	char			 jkt[JWK_THUMB_SIZE];	/* its key, when so */
	bool			 quiet;		/* as_fail() replies nothing */
};

/* The module's settings (oauth_as.c). */
const char	*as_issuer(void);
const char	*as_service_did(void);
const uint8_t	*as_jwt_secret(size_t *len);

/*
 * Start x for req at path: a POST (else 405 and false), with its
 * parameters from a form or JSON body (else 400 invalid_request).
 */
bool	as_ctx_begin(struct as_ctx *x, struct http_req *req,
	    const char *path);
void	as_ctx_end(struct as_ctx *x);

/* A string parameter, or NULL when absent. */
const char *as_param(const struct as_ctx *x, const char *name);

/*
 * as_ctx_client_load: load the client named by client_id (400
 * invalid_request without one, invalid_client_metadata when it cannot
 * be loaded).  as_ctx_client_auth: for a private_key_jwt client, verify
 * its assertion (invalid_client); a public client must not send one.
 * Call as_ctx_dpop() in between, so that a proof's key can be told from
 * the assertion's and an assertion is only spent on a fresh nonce.
 */
bool	as_ctx_client_load(struct as_ctx *x);
bool	as_ctx_client_auth(struct as_ctx *x);

/*
 * Check the DPoP proof of the request: required or not, its syntax,
 * signature, htm/htu/iat (401 invalid_dpop_proof), its nonce (400
 * use_dpop_nonce) and jti replay (401 invalid_dpop_proof).  Without a
 * proof and !required, true with x->has_proof false.
 */
bool	as_ctx_dpop(struct as_ctx *x, bool required);

/*
 * Replies; every one carries Cache-Control: no-store, Pragma: no-cache
 * and DPoP-Nonce.  as_fail() answers {"error","error_description"},
 * with WWW-Authenticate for a 401.
 */
void	as_reply(struct as_ctx *x, unsigned status, json_t *body);
void	as_fail(struct as_ctx *x, unsigned status, const char *error,
	    const char *desc);

/* prefix + 2*n random hex digits into out[cap]. */
void	as_random_id(const char *prefix, size_t n, char *out, size_t cap);

/* The client auth JSON for x ({"method":"none"} or the key). */
char	*as_client_auth_json(const struct as_ctx *x);
/*
 * Whether the client auth JSON stored with a request or session matches
 * how x authenticated now (same method; for private_key_jwt, same key).
 */
bool	as_client_auth_same(const struct as_ctx *x, const char *stored);
/* Whether the stored client auth is confidential. */
bool	as_client_auth_confidential(const char *stored);

/*
 * Normalise scope into out (NUL-terminated): invalid tokens dropped,
 * duplicates merged, "openid" refused, atproto required (include:
 * tokens are kept; PAR resolves them, oauth_include.h).  Each kept token must be in `allowed' (a normalised list;
 * NULL: any).  On failure the OAuth error name and its description.
 */
struct buf;
int	as_scope_normalise(const char *scope, const char *allowed,
	    struct buf *out, const char **err, const char **why);

/* The endpoints (oauth_par.c, oauth_token.c). */
void	as_par(struct http_req *, const void *);
void	as_token(struct http_req *, const void *);

#endif
