/*
 * oauth_client: atproto OAuth client identifiers and client metadata.
 *
 * A discoverable client's client_id is an https URL the authorization
 * server fetches; oauth_client_from_json() validates the fetched document
 * (the caller does the SSRF-hardened fetch).  A loopback development
 * client's client_id is "http://localhost[/][?query]" and its metadata
 * is implied by the query (scope, redirect_uri); no document is fetched.
 * A development client_id (oauth_client_id_is_dev) is a discoverable
 * client served over http on this machine.
 *
 * Every refusal returns PDS_EINVAL (PDS_ETOOBIG past a bound, PDS_EUNSUPP
 * for a well-formed but unsupported choice) with *why naming the field;
 * the authorization server answers invalid_client_metadata.
 */
#ifndef PDS_OAUTH_CLIENT_H
#define PDS_OAUTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define OAUTH_URI_MAX		2048	/* client_id and every URI field */
#define OAUTH_REDIRECT_MAX	16	/* redirect_uris entries */
#define OAUTH_NAME_MAX		256	/* client_name bytes */
#define OAUTH_SCOPE_MAX		8192	/* the metadata scope string */

enum oauth_app_type {
	OAUTH_APP_WEB,
	OAUTH_APP_NATIVE,
};

enum oauth_auth_method {
	OAUTH_AUTH_NONE,
	OAUTH_AUTH_PRIVATE_KEY_JWT,
};

/* Caller-owned; release with oauth_client_clear(). */
struct oauth_client {
	char			*client_id;
	bool			 loopback;	/* http://localhost client */
	enum oauth_app_type	 app_type;
	enum oauth_auth_method	 auth_method;
	bool			 refresh;	/* grant_types has refresh_token */
	size_t			 nredirect;
	char			*redirect_uris[OAUTH_REDIRECT_MAX];
	char			*scope;
	char			*client_name;	/* optional fields: NULL if absent */
	char			*client_uri;
	char			*logo_uri;
	char			*tos_uri;
	char			*policy_uri;
	char			*jwks_uri;
	json_t			*jwks;		/* a reference the struct owns */
};

void	 oauth_client_clear(struct oauth_client *);

/* Is this string a loopback client_id (origin http://localhost)? */
bool	 oauth_client_id_is_loopback(const char *, size_t);
/* Syntax of a discoverable (https) client_id. */
int	 oauth_client_id_check(const char *, size_t, const char **why);
/*
 * Is this string a development client_id, http://127.0.0.1[:port]/path
 * or http://localhost[:port]/path: a metadata document served on this
 * machine, for an authorization server in development mode only?  The
 * path (a document, as for a discoverable client) tells it apart from a
 * loopback client_id.
 */
bool	 oauth_client_id_is_dev(const char *, size_t);

/*
 * Validate metadata `doc` fetched from `client_id` into c (cleared
 * first; left cleared on failure).  The document's client_id must equal
 * the URL.
 */
int	 oauth_client_from_json(struct oauth_client *, const char *client_id,
	    const json_t *doc, const char **why);
/*
 * The same for a development client_id; its redirect_uris may be
 * http://127.0.0.1 or http://[::1] whatever its application_type.
 */
int	 oauth_client_dev_from_json(struct oauth_client *,
	    const char *client_id, const json_t *doc, const char **why);
/* The implied metadata of a loopback client_id. */
int	 oauth_client_loopback(struct oauth_client *, const char *, size_t,
	    const char **why);

/*
 * The URI to redirect to for a request's redirect_uri: the registered
 * one it equals exactly, or uri itself when a loopback URI registered
 * without a port equals it but for a port.  uri NULL picks the only
 * registered URI.  NULL if nothing matches.  Borrowed from c or uri.
 */
const char *oauth_client_redirect(const struct oauth_client *,
	    const char *uri);

#endif
