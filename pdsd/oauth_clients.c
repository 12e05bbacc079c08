/*
 * oauth_clients: client metadata loading and client assertions.  See
 * oauth_clients.h.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "dpop.h"
#include "err.h"
#include "jwk.h"
#include "jwt.h"
#include "keys.h"
#include "log.h"
#include "oauth_client.h"
#include "oauth_clients.h"
#include "oauth_replay.h"
#include "outbound.h"
#include "store_oauth.h"

/* One fetched document (doc NULL: the fetch failed, for why). */
struct cache_entry {
	char		*url;
	json_t		*doc;
	int		 err;
	const char	*why;
	time_t		 expires;
};

static pthread_mutex_t		 cache_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry	 cache[OAUTH_CLIENTS_CACHE];
static bool			 dev_mode;	/* set before serving */

static void
entry_clear(struct cache_entry *e)
{
	free(e->url);
	json_decref(e->doc);
	memset(e, 0, sizeof(*e));
}

/*
 * The cached document of url, if fresh: PDS_OK with *doc a new
 * reference, the cached failure, or PDS_ENOTFOUND when not cached.
 */
static int
cache_get(const char *url, json_t **doc, const char **why, time_t now)
{
	size_t	 i;
	int	 rc = PDS_ENOTFOUND;

	*doc = NULL;
	pthread_mutex_lock(&cache_mtx);
	for (i = 0; i < OAUTH_CLIENTS_CACHE; i++) {
		if (cache[i].url == NULL || strcmp(cache[i].url, url) != 0)
			continue;
		if (cache[i].expires <= now) {
			entry_clear(&cache[i]);
			break;
		}
		if (cache[i].doc != NULL) {
			*doc = json_incref(cache[i].doc);
			rc = PDS_OK;
		} else {
			*why = cache[i].why;
			rc = cache[i].err;
		}
		break;
	}
	pthread_mutex_unlock(&cache_mtx);
	return rc;
}

/* Cache doc (borrowed; NULL for the failure err, why) for ttl seconds. */
static void
cache_put(const char *url, json_t *doc, int err, const char *why,
    time_t now, time_t ttl)
{
	struct cache_entry *slot = NULL;
	char		*u;
	size_t		 i;

	if ((u = strdup(url)) == NULL)
		return;
	pthread_mutex_lock(&cache_mtx);
	for (i = 0; i < OAUTH_CLIENTS_CACHE; i++) {
		if (cache[i].url != NULL && strcmp(cache[i].url, url) == 0) {
			slot = &cache[i];
			break;
		}
		/* a free slot, else the one closest to expiry */
		if (slot == NULL || (slot->url != NULL &&
		    (cache[i].url == NULL || cache[i].expires < slot->expires)))
			slot = &cache[i];
	}
	entry_clear(slot);
	slot->url = u;
	slot->doc = doc != NULL ? json_incref(doc) : NULL;
	slot->err = err;
	slot->why = why;
	slot->expires = now + ttl;
	pthread_mutex_unlock(&cache_mtx);
}

int
oauth_clients_seed(const char *url, const json_t *doc)
{
	json_t	*copy;

	if ((copy = json_deep_copy(doc)) == NULL)
		return PDS_ENOMEM;
	cache_put(url, copy, PDS_OK, NULL, time(NULL), OAUTH_CLIENTS_TTL);
	json_decref(copy);
	return PDS_OK;
}

void
oauth_clients_flush(void)
{
	size_t	 i;

	pthread_mutex_lock(&cache_mtx);
	for (i = 0; i < OAUTH_CLIENTS_CACHE; i++)
		entry_clear(&cache[i]);
	pthread_mutex_unlock(&cache_mtx);
}

/* GET url as a JSON object, without the cache. */
static int
fetch_json(const char *url, json_t **doc, const char **why)
{
	struct outbound_req	 req;
	struct outbound_resp	 resp;
	json_error_t		 jerr;
	int			 rc;

	*doc = NULL;
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.headers[req.nheaders++] = "Accept: application/json";
	req.timeout_ms = OAUTH_CLIENTS_FETCH_MS;
	req.max_response = OAUTH_CLIENTS_DOC_MAX;
	req.max_redirects = 0;
	memset(&resp, 0, sizeof(resp));
	rc = outbound_do(&req, &resp);
	if (rc == PDS_EMISMATCH)
		rc = pds_fail(why, PDS_EIO, "Forbidden hostname");
	else if (rc == PDS_ETOOBIG)
		rc = pds_fail(why, PDS_ETOOBIG, "Client metadata too large");
	else if (rc != PDS_OK)
		rc = pds_fail(why, PDS_EIO, "Failed to fetch client metadata");
	else if (resp.status >= 300 && resp.status < 400)
		rc = pds_fail(why, PDS_EINVAL,
		    "Client metadata must not redirect");
	else if (resp.status != 200)
		rc = pds_fail(why, PDS_EIO,
		    "Client metadata fetch did not answer 200");
	else if (strncasecmp(resp.content_type, "application/json", 16) != 0 ||
	    (resp.content_type[16] != '\0' && resp.content_type[16] != ';' &&
	    resp.content_type[16] != ' '))
		rc = pds_fail(why, PDS_EINVAL,
		    "Client metadata is not application/json");
	else if ((*doc = json_loadb((const char *)resp.body.p, resp.body.len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(*doc)) {
		json_decref(*doc);
		*doc = NULL;
		rc = pds_fail(why, PDS_EINVAL,
		    "Client metadata is not a JSON object");
	}
	if (rc != PDS_OK)
		log_debug("oauth: fetch %s: %s%s%s", url, *why,
		    resp.err[0] != '\0' ? ": " : "", resp.err);
	outbound_resp_clear(&resp);
	return rc;
}

/* The document at url, from the cache or fetched (and then cached). */
static int
doc_get(const char *url, json_t **doc, const char **why)
{
	const char	*w = NULL;
	time_t		 now = time(NULL);
	int		 rc;

	if ((rc = cache_get(url, doc, &w, now)) == PDS_ENOTFOUND) {
		rc = fetch_json(url, doc, &w);
		cache_put(url, *doc, rc, w, now, rc == PDS_OK ?
		    OAUTH_CLIENTS_TTL : OAUTH_CLIENTS_NEG_TTL);
	}
	if (rc != PDS_OK && why != NULL)
		*why = w;
	return rc;
}

void
oauth_clients_set_dev(bool on)
{
	dev_mode = on;
}

int
oauth_clients_load(struct oauth_client *c, const char *client_id,
    const char **why)
{
	json_t	*doc;
	size_t	 len = strlen(client_id);
	int	 rc;

	memset(c, 0, sizeof(*c));
	/* Before the loopback test: http://localhost:port/path is both. */
	if (dev_mode && oauth_client_id_is_dev(client_id, len)) {
		if ((rc = doc_get(client_id, &doc, why)) != PDS_OK)
			return rc;
		rc = oauth_client_dev_from_json(c, client_id, doc, why);
		json_decref(doc);
		return rc;
	}
	if (oauth_client_id_is_loopback(client_id, len))
		return oauth_client_loopback(c, client_id, len, why);
	if ((rc = oauth_client_id_check(client_id, len, why)) != PDS_OK)
		return rc;
	if ((rc = doc_get(client_id, &doc, why)) != PDS_OK)
		return rc;
	rc = oauth_client_from_json(c, client_id, doc, why);
	json_decref(doc);
	return rc;
}

/* The key set of c as a new reference to its "keys" array. */
static int
client_keys(const struct oauth_client *c, json_t **keys, const char **why)
{
	json_t	*doc = NULL, *k;
	int	 rc;

	*keys = NULL;
	if (c->jwks != NULL)
		doc = json_incref(c->jwks);
	else if (c->jwks_uri != NULL) {
		if ((rc = doc_get(c->jwks_uri, &doc, why)) != PDS_OK)
			return pds_fail(why, PDS_EINVAL,
			    "Could not load the client's jwks_uri");
	} else
		return pds_fail(why, PDS_EINVAL, "Client has no keys");
	k = json_object_get(doc, "keys");
	if (!json_is_array(k)) {
		json_decref(doc);
		return pds_fail(why, PDS_EINVAL, "Client key set has no keys");
	}
	*keys = json_incref(k);
	json_decref(doc);
	return PDS_OK;
}

/* Whether the aud claim (string or array) holds one of auds. */
static bool
aud_ok(const json_t *aud, const char *const *auds, size_t naud)
{
	const json_t	*e;
	size_t		 i, j;

	if (json_is_string(aud)) {
		for (j = 0; j < naud; j++)
			if (strcmp(json_string_value(aud), auds[j]) == 0)
				return true;
		return false;
	}
	if (!json_is_array(aud))
		return false;
	json_array_foreach(aud, i, e)
		if (json_is_string(e) && aud_ok(e, auds, naud))
			return true;
	return false;
}

/* The key of keys with this kid, usable with alg, into *key and jkt. */
static int
key_by_kid(const json_t *keys, const char *kid, const char *alg,
    struct pds_key **key, char jkt[JWK_THUMB_SIZE], const char **why)
{
	const json_t	*k;
	const char	*kkid, *use;
	size_t		 i;

	json_array_foreach(keys, i, k) {
		kkid = json_string_value(json_object_get(k, "kid"));
		if (kkid == NULL || strcmp(kkid, kid) != 0)
			continue;
		use = json_string_value(json_object_get(k, "use"));
		if (use != NULL && strcmp(use, "sig") != 0)
			continue;
		if (jwk_parse_public(key, jkt, k, why) != PDS_OK)
			return pds_fail(why, PDS_EINVAL,
			    "Client key is not usable");
		if (strcmp(key_jwt_alg(*key), alg) != 0) {
			key_free(*key);
			*key = NULL;
			return pds_fail(why, PDS_EINVAL,
			    "Client assertion alg does not match its key");
		}
		return PDS_OK;
	}
	return pds_fail(why, PDS_EINVAL, "No client key with this kid");
}

/* The claims of a signature-checked assertion. */
static int
assertion_claims(const struct oauth_client *c, const struct jwt *t,
    const char *const *auds, size_t naud, time_t now, int64_t *exp,
    const char **why)
{
	const char	*iss, *sub;
	int64_t		 iat;

	iss = jwt_claim_str(t, "iss");
	sub = jwt_claim_str(t, "sub");
	if (iss == NULL || strcmp(iss, c->client_id) != 0)
		return pds_fail(why, PDS_EINVAL,
		    "Client assertion iss must be the client_id");
	if (sub == NULL || strcmp(sub, c->client_id) != 0)
		return pds_fail(why, PDS_EINVAL,
		    "Client assertion sub must be the client_id");
	if (!aud_ok(json_object_get(t->payload, "aud"), auds, naud))
		return pds_fail(why, PDS_EINVAL,
		    "Client assertion aud must be the issuer");
	if (!jwt_claim_int(t, "exp", exp))
		return pds_fail(why, PDS_EINVAL, "Client assertion has no exp");
	if (*exp <= (int64_t)now - OAUTH_ASSERTION_SKEW)
		return pds_fail(why, PDS_EEXPIRED, "Client assertion expired");
	if (*exp > (int64_t)now + OAUTH_ASSERTION_MAX_LIFE)
		return pds_fail(why, PDS_EINVAL,
		    "Client assertion exp too far in the future");
	if (!jwt_claim_int(t, "iat", &iat))
		return pds_fail(why, PDS_EINVAL, "Client assertion has no iat");
	if (iat < (int64_t)now - OAUTH_ASSERTION_MAX_AGE -
	    OAUTH_ASSERTION_SKEW)
		return pds_fail(why, PDS_EEXPIRED, "Client assertion too old");
	if (iat > (int64_t)now + OAUTH_ASSERTION_SKEW)
		return pds_fail(why, PDS_EINVAL,
		    "Client assertion iat in the future");
	return PDS_OK;
}

int
oauth_clients_verify_assertion(const struct oauth_client *c,
    const char *type, const char *assertion, const char *const *auds,
    size_t naud, time_t now, struct oauth_client_key *out,
    const char **why)
{
	struct jwt	 t;
	struct pds_key	*key = NULL;
	json_t		*keys = NULL;
	const char	*kid, *jti;
	char		 jkt[JWK_THUMB_SIZE], rkey[2 * OAUTH_URI_MAX];
	int64_t		 exp;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if (type == NULL || strcmp(type, OAUTH_ASSERTION_TYPE) != 0)
		return pds_fail(why, PDS_EINVAL,
		    "Unsupported client_assertion_type");
	if (assertion == NULL)
		return pds_fail(why, PDS_EINVAL, "client_assertion required");
	if (jwt_decode(&t, assertion, strlen(assertion), why) != PDS_OK)
		return pds_fail(why, PDS_EINVAL, "Malformed client assertion");
	if (strcmp(t.alg, "ES256") != 0 && strcmp(t.alg, "ES256K") != 0) {
		rc = pds_fail(why, PDS_EINVAL,
		    "Unsupported client assertion alg");
		goto out;
	}
	kid = json_string_value(json_object_get(t.header, "kid"));
	if (kid == NULL || *kid == '\0' || strlen(kid) > OAUTH_KID_MAX) {
		rc = pds_fail(why, PDS_EINVAL,
		    "Client assertion header needs a kid");
		goto out;
	}
	if ((rc = client_keys(c, &keys, why)) != PDS_OK ||
	    (rc = key_by_kid(keys, kid, t.alg, &key, jkt, why)) != PDS_OK)
		goto out;
	if (jwt_verify_es_jose(&t, key, why) != PDS_OK) {
		rc = pds_fail(why, PDS_ECRYPTO,
		    "Invalid client assertion signature");
		goto out;
	}
	if ((rc = assertion_claims(c, &t, auds, naud, now, &exp, why)) !=
	    PDS_OK)
		goto out;
	jti = jwt_claim_str(&t, "jti");
	if (jti == NULL || *jti == '\0' || strlen(jti) > OAUTH_KID_MAX) {
		rc = pds_fail(why, PDS_EINVAL, "Client assertion needs a jti");
		goto out;
	}
	snprintf(rkey, sizeof(rkey), "%s %s", c->client_id, jti);
	rc = oauth_replay_check_and_add(STORE_OAUTH_NS_ASSERTION, rkey,
	    exp + OAUTH_ASSERTION_SKEW);
	if (rc == PDS_EEXIST) {
		rc = pds_fail(why, PDS_EEXIST, "Client assertion replayed");
		goto out;
	}
	if (rc != PDS_OK) {
		*why = "Could not record the client assertion";
		goto out;
	}
	snprintf(out->kid, sizeof(out->kid), "%s", kid);
	snprintf(out->alg, sizeof(out->alg), "%s", t.alg);
	memcpy(out->jkt, jkt, sizeof(out->jkt));
out:
	key_free(key);
	json_decref(keys);
	jwt_clear(&t);
	return rc;
}
