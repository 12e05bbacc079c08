/*
 * oauthreq: put OAuth rows into a stopped pdsd's database, for the
 * integration tests of the authorization pages.
 *
 *   oauthreq request DB CLIENT_ID PARAMS_JSON
 *	Store a pushed authorization request for CLIENT_ID (a public
 *	client) with PARAMS_JSON as its validated parameters, valid for
 *	five minutes, and print its request_uri.
 *   oauthreq family DB DID CLIENT_ID SCOPE
 *	Store a token family (a grant) of DID to CLIENT_ID, as the token
 *	endpoint does when it redeems a code, and print its id.
 *
 * Exit status 0 on success, 1 when the store refuses, 2 on bad usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "err.h"
#include "../../pdsd/oauth_authorize.h"
#include "../../pdsd/store.h"
#include "../../pdsd/store_oauth.h"

static int
usage(void)
{
	fprintf(stderr, "usage: oauthreq request DB CLIENT_ID PARAMS_JSON\n"
	    "       oauthreq family DB DID CLIENT_ID SCOPE\n");
	return 2;
}

static int
put_request(const char *client_id, const char *params)
{
	struct store_oauth_request	 r;
	char				 id[OAUTH_AUTHZ_ID_MAX];
	int				 rc;

	memset(&r, 0, sizeof(r));
	if (oauth_authz_random_id("req-", OAUTH_AUTHZ_ID_HEX, id,
	    sizeof(id)) != PDS_OK)
		return PDS_EINVAL;
	r.id = id;
	r.client_id = (char *)client_id;
	r.client_auth = (char *)"{\"method\":\"none\"}";
	r.params = (char *)params;
	r.expires_at = (int64_t)time(NULL) + 300;
	if ((rc = store_oauth_request_create(&r)) == PDS_OK)
		printf("%s%s\n", OAUTH_AUTHZ_REQUEST_URI_PREFIX, id);
	return rc;
}

static int
put_family(const char *did, const char *client_id, const char *scope)
{
	struct store_oauth_family	 f;
	char				 tok[OAUTH_AUTHZ_ID_MAX];
	int64_t				 now = (int64_t)time(NULL);
	int				 rc;

	memset(&f, 0, sizeof(f));
	if (oauth_authz_random_id("tok-", OAUTH_AUTHZ_ID_HEX, tok,
	    sizeof(tok)) != PDS_OK)
		return PDS_EINVAL;
	f.token_id = tok;
	f.did = (char *)did;
	f.client_id = (char *)client_id;
	f.client_auth = (char *)"{\"method\":\"none\"}";
	f.params = (char *)"{}";
	f.scope = (char *)scope;
	f.created_at = f.updated_at = now;
	f.expires_at = now + 900;
	f.session_expires_at = now + 14 * 86400;
	if ((rc = store_oauth_family_create(&f)) == PDS_OK)
		printf("%lld\n", (long long)f.id);
	return rc;
}

int
main(int argc, char **argv)
{
	int	 rc;

	if (sodium_init() < 0)
		return 1;
	if (argc == 5 && strcmp(argv[1], "request") == 0) {
		if (store_open(argv[2]) != PDS_OK)
			return 1;
		rc = put_request(argv[3], argv[4]);
	} else if (argc == 6 && strcmp(argv[1], "family") == 0) {
		if (store_open(argv[2]) != PDS_OK)
			return 1;
		rc = put_family(argv[3], argv[4], argv[5]);
	} else
		return usage();
	store_close();
	if (rc != PDS_OK) {
		fprintf(stderr, "oauthreq: %s\n", pds_strerror(rc));
		return 1;
	}
	return 0;
}
