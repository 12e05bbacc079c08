/*
 * oauth_clients: the OAuth clients the authorization server talks to:
 * their metadata, loaded by client_id, and the verification of a
 * confidential client's assertion (private_key_jwt).
 *
 * A loopback client (http://localhost...) has its metadata implied by
 * its client_id.  A discoverable client's metadata document is fetched
 * from its client_id URL with the hardened HTTP client (GET, no
 * redirects, OAUTH_CLIENTS_FETCH_MS, OAUTH_CLIENTS_DOC_MAX bytes, the
 * configured address policy), and a jwks_uri the same way.  Fetched
 * documents are cached in memory, bounded (OAUTH_CLIENTS_CACHE
 * entries): successes for OAUTH_CLIENTS_TTL seconds, failures for
 * OAUTH_CLIENTS_NEG_TTL, so that a dead client cannot make every request
 * wait for a timeout.  Thread-safe.
 *
 * In development mode a development client_id (http://127.0.0.1:port/path
 * or http://localhost:port/path, see oauth_client_id_is_dev) is loaded
 * like a discoverable one, over plain http; outside it such a client_id
 * is refused.
 *
 * Every refusal returns a PDS_E* code with *why naming the reason in
 * words fit for an error_description (static strings).
 */
#ifndef PDSD_OAUTH_CLIENTS_H
#define PDSD_OAUTH_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "jwk.h"
#include "oauth_client.h"

#define OAUTH_CLIENTS_CACHE	256		/* cached documents */
#define OAUTH_CLIENTS_TTL	600		/* seconds */
#define OAUTH_CLIENTS_NEG_TTL	60		/* seconds, for failures */
#define OAUTH_CLIENTS_FETCH_MS	5000
#define OAUTH_CLIENTS_DOC_MAX	(64 * 1024)

#define OAUTH_ASSERTION_TYPE \
	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define OAUTH_ASSERTION_MAX_AGE	60	/* seconds an iat may lie behind */
#define OAUTH_ASSERTION_MAX_LIFE 3600	/* seconds an exp may lie ahead */
#define OAUTH_ASSERTION_SKEW	10	/* seconds of clock leeway */
#define OAUTH_KID_MAX		256

/* Development mode on or off (off until called); before serving. */
void	oauth_clients_set_dev(bool on);

/*
 * Load the metadata of client_id into c (cleared first, left cleared on
 * failure).  PDS_EINVAL / PDS_EUNSUPP / PDS_ETOOBIG for an invalid
 * client_id or document, PDS_EIO when the document cannot be fetched;
 * the OAuth error is invalid_client_metadata in every case.
 */
int	oauth_clients_load(struct oauth_client *c, const char *client_id,
	    const char **why);

/*
 * Put doc into the cache as the document fetched from url (a client_id
 * or a jwks_uri), as if it had just been fetched.  For tests, and for
 * clients whose document must not be fetched.
 */
int	oauth_clients_seed(const char *url, const json_t *doc);

/* Forget every cached document. */
void	oauth_clients_flush(void);

/* What a verified client assertion bound the session to. */
struct oauth_client_key {
	char	kid[OAUTH_KID_MAX + 1];
	char	alg[8];				/* "ES256" or "ES256K" */
	char	jkt[JWK_THUMB_SIZE];		/* the key's thumbprint */
};

/*
 * Verify a client assertion for c (a private_key_jwt client): type must
 * be OAUTH_ASSERTION_TYPE; the JWT ES256 or ES256K with a kid naming a
 * key of the client's jwks (or jwks_uri); iss and sub the client_id; aud
 * (a string or an array) holding one of auds[0..naud); exp later than
 * now and at most OAUTH_ASSERTION_MAX_LIFE ahead; iat at most
 * OAUTH_ASSERTION_MAX_AGE old; jti present and never seen before (kept
 * in the replay table until exp).  On PDS_OK *out says which key signed.
 * Refusals are PDS_EINVAL, PDS_ECRYPTO, PDS_EEXPIRED or PDS_EEXIST (a
 * replayed jti), all the OAuth error invalid_client.
 */
int	oauth_clients_verify_assertion(const struct oauth_client *c,
	    const char *type, const char *assertion,
	    const char *const *auds, size_t naud, time_t now,
	    struct oauth_client_key *out, const char **why);

#endif
