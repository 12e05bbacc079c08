/*
 * oauth_client: client_id syntax, client metadata validation, loopback
 * clients and redirect URI matching.
 *
 * URIs are split by a small parser that only cuts the string into
 * scheme, authority (userinfo, host, port), path, query and fragment;
 * it decodes nothing, so comparisons are of the exact text.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "multibase.h"
#include "oauth_client.h"
#include "syntax.h"

struct oc_url {
	const char	*scheme;
	size_t		 slen;
	bool		 auth;		/* "//" authority present */
	bool		 user;		/* userinfo present */
	const char	*host;
	size_t		 hlen;
	const char	*port;		/* NULL if none */
	size_t		 portlen;
	const char	*path;
	size_t		 plen;
	const char	*query;		/* after '?', NULL if none */
	size_t		 qlen;
	bool		 frag;
};

static bool
oc_eq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

static bool
oc_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
oc_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Cut s into u; false if it is not scheme ":" ... in printable ASCII. */
static bool
oc_url_split(struct oc_url *u, const char *s, size_t n)
{
	const char	*p = s, *end = s + n, *a, *at, *c;
	size_t		 i;

	memset(u, 0, sizeof(*u));
	if (n == 0 || n > OAUTH_URI_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	if (!oc_alpha(*p))
		return false;
	while (p < end && (oc_alpha(*p) || oc_digit(*p) || *p == '+' ||
	    *p == '-' || *p == '.'))
		p++;
	if (p == end || *p != ':')
		return false;
	u->scheme = s;
	u->slen = (size_t)(p - s);
	p++;
	if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
		u->auth = true;
		p += 2;
		for (a = p; a < end && *a != '/' && *a != '?' && *a != '#'; a++)
			;
		if ((at = memchr(p, '@', (size_t)(a - p))) != NULL) {
			u->user = true;
			p = at + 1;
		}
		u->host = p;
		if (p < a && *p == '[') {
			if ((c = memchr(p, ']', (size_t)(a - p))) == NULL)
				return false;
			c++;
		} else
			for (c = p; c < a && *c != ':'; c++)
				;
		u->hlen = (size_t)(c - p);
		if (c < a) {
			if (*c != ':')
				return false;
			u->port = c + 1;
			u->portlen = (size_t)(a - c - 1);
		}
		p = a;
	}
	u->path = p;
	while (p < end && *p != '?' && *p != '#')
		p++;
	u->plen = (size_t)(p - u->path);
	if (p < end && *p == '?') {
		u->query = ++p;
		while (p < end && *p != '#')
			p++;
		u->qlen = (size_t)(p - u->query);
	}
	u->frag = p < end;
	return true;
}

static bool
oc_port_ok(const struct oc_url *u)
{
	size_t	 i;
	long	 v = 0;

	if (u->port == NULL)
		return true;
	if (u->portlen == 0 || u->portlen > 5 || u->port[0] == '0')
		return false;
	for (i = 0; i < u->portlen; i++) {
		if (!oc_digit(u->port[i]))
			return false;
		v = v * 10 + (u->port[i] - '0');
	}
	return v <= 65535;
}

/* Dotted-quad digits, or a bracketed IPv6 literal. */
static bool
oc_host_is_ip(const char *h, size_t n)
{
	size_t	 i;

	if (n > 0 && h[0] == '[')
		return true;
	for (i = 0; i < n; i++)
		if (!oc_digit(h[i]) && h[i] != '.')
			return false;
	return n > 0;
}

static bool
oc_host_is_loopback_ip(const char *h, size_t n)
{
	return oc_eq(h, n, "127.0.0.1") || oc_eq(h, n, "[::1]");
}

/*
 * A public DNS name in canonical (lower-case) form: >= 2 labels, not an
 * IP, not localhost, no reserved or local TLD.
 */
static bool
oc_host_public(const char *h, size_t n)
{
	size_t	 i;

	if (oc_host_is_ip(h, n) || !syntax_is_handle(h, n))
		return false;
	for (i = 0; i < n; i++)
		if (h[i] >= 'A' && h[i] <= 'Z')
			return false;
	return !handle_is_reserved_tld(h, n, false);
}

/* Path in canonical form: no empty, "." or ".." segments. */
static bool
oc_path_canonical(const char *p, size_t n)
{
	size_t	 i, seg;

	if (n == 0 || p[0] != '/')
		return false;
	for (i = 1, seg = 1; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (i == seg && i < n)
			return false;		/* "//" */
		if (oc_eq(p + seg, i - seg, ".") ||
		    oc_eq(p + seg, i - seg, ".."))
			return false;
		seg = i + 1;
	}
	for (i = 0; i < n; i++)
		if (strchr("\"<>\\^`{|}", p[i]) != NULL)
			return false;
	return true;
}

bool
oauth_client_id_is_loopback(const char *s, size_t n)
{
	static const char pre[] = "http://localhost";
	size_t	 pl = sizeof(pre) - 1;

	if (n < pl || memcmp(s, pre, pl) != 0)
		return false;
	return n == pl || s[pl] == '/' || s[pl] == '?' || s[pl] == ':' ||
	    s[pl] == '#';
}

bool
oauth_client_id_is_dev(const char *s, size_t n)
{
	struct oc_url	 u;

	if (!oc_url_split(&u, s, n) || !u.auth || u.user || u.frag ||
	    !oc_eq(u.scheme, u.slen, "http") || !oc_port_ok(&u))
		return false;
	if (!oc_eq(u.host, u.hlen, "127.0.0.1") &&
	    !oc_eq(u.host, u.hlen, "localhost"))
		return false;
	if (u.plen == 0 || oc_eq(u.path, u.plen, "/") ||
	    u.path[u.plen - 1] == '/' || !oc_path_canonical(u.path, u.plen))
		return false;
	return u.query == NULL || u.qlen > 0;
}

int
oauth_client_id_check(const char *s, size_t n, const char **why)
{
	struct oc_url	 u;

	if (n > OAUTH_URI_MAX)
		return pds_fail(why, PDS_ETOOBIG, "client_id: too long");
	if (!oc_url_split(&u, s, n) || !u.auth)
		return pds_fail(why, PDS_EINVAL, "client_id: not a URL");
	if (!oc_eq(u.scheme, u.slen, "https"))
		return pds_fail(why, PDS_EINVAL, "client_id: must be https");
	if (u.user)
		return pds_fail(why, PDS_EINVAL,
		    "client_id: must not contain credentials");
	if (u.frag)
		return pds_fail(why, PDS_EINVAL,
		    "client_id: must not contain a fragment");
	if (!oc_host_public(u.host, u.hlen))
		return pds_fail(why, PDS_EINVAL,
		    "client_id: host is not a public domain name");
	if (!oc_port_ok(&u) || (u.port != NULL &&
	    oc_eq(u.port, u.portlen, "443")))
		return pds_fail(why, PDS_EINVAL, "client_id: bad port");
	if (u.plen == 0 || oc_eq(u.path, u.plen, "/") ||
	    u.path[u.plen - 1] == '/')
		return pds_fail(why, PDS_EINVAL,
		    "client_id: path must be a document, not /");
	if (!oc_path_canonical(u.path, u.plen))
		return pds_fail(why, PDS_EINVAL,
		    "client_id: path is not in canonical form");
	if (u.query != NULL && u.qlen == 0)
		return pds_fail(why, PDS_EINVAL,
		    "client_id: empty query is not canonical");
	return PDS_OK;
}

void
oauth_client_clear(struct oauth_client *c)
{
	size_t	 i;

	free(c->client_id);
	for (i = 0; i < c->nredirect; i++)
		free(c->redirect_uris[i]);
	free(c->scope);
	free(c->client_name);
	free(c->client_uri);
	free(c->logo_uri);
	free(c->tos_uri);
	free(c->policy_uri);
	free(c->jwks_uri);
	json_decref(c->jwks);
	memset(c, 0, sizeof(*c));
}

/* Is dst the reversed form of host ("app.example.com" -> com.example.app)? */
static bool
oc_reversed(const char *dst, size_t dn, const char *host, size_t hn)
{
	size_t	 o = 0, e = hn, b;

	if (dn != hn)
		return false;
	while (e > 0) {
		for (b = e; b > 0 && host[b - 1] != '.'; b--)
			;
		if (memcmp(dst + o, host + b, e - b) != 0)
			return false;
		o += e - b;
		if (b > 0) {
			if (dst[o] != '.')
				return false;
			o++;
			e = b - 1;
		} else
			e = 0;
	}
	return o == dn;
}

/*
 * One redirect URI of a client; host/hlen is the discoverable client_id's
 * host (NULL for a loopback client).  dev: a development client, whose
 * loopback redirect URIs are allowed whatever its application type.
 */
static int
oc_redirect_check(const char *r, enum oauth_app_type app, const char *host,
    size_t hlen, bool dev, const char **why)
{
	struct oc_url	 u;

	if (!oc_url_split(&u, r, strlen(r)))
		return pds_fail(why, PDS_EINVAL,
		    "redirect_uris: entry is not a URI");
	if (u.user)
		return pds_fail(why, PDS_EINVAL,
		    "redirect_uris: must not contain credentials");
	if (u.frag)
		return pds_fail(why, PDS_EINVAL,
		    "redirect_uris: must not contain a fragment");
	if (u.auth && !oc_port_ok(&u))
		return pds_fail(why, PDS_EINVAL, "redirect_uris: bad port");
	if (u.auth && oc_eq(u.host, u.hlen, "localhost"))
		return pds_fail(why, PDS_EINVAL,
		    "redirect_uris: use 127.0.0.1 or [::1], not localhost");
	if (oc_eq(u.scheme, u.slen, "http")) {
		if (!u.auth || !oc_host_is_loopback_ip(u.host, u.hlen))
			return pds_fail(why, PDS_EINVAL,
			    "redirect_uris: http only for 127.0.0.1 or [::1]");
		if (app != OAUTH_APP_NATIVE && !dev)
			return pds_fail(why, PDS_EINVAL,
			    "redirect_uris: loopback only for native clients");
		return PDS_OK;
	}
	if (oc_eq(u.scheme, u.slen, "https")) {
		if (!u.auth || !oc_host_public(u.host, u.hlen))
			return pds_fail(why, PDS_EINVAL,
			    "redirect_uris: https host must be public");
		return PDS_OK;
	}
	if (memchr(u.scheme, '.', u.slen) == NULL)
		return pds_fail(why, PDS_EINVAL,
		    "redirect_uris: scheme not allowed");
	if (app != OAUTH_APP_NATIVE)
		return pds_fail(why, PDS_EINVAL,
		    "redirect_uris: private-use scheme only for native clients");
	if (u.auth || u.plen == 0 || u.path[0] != '/')
		return pds_fail(why, PDS_EINVAL,
		    "redirect_uris: private-use scheme must be scheme:/path");
	if (host != NULL && !oc_reversed(u.scheme, u.slen, host, hlen))
		return pds_fail(why, PDS_EINVAL,
		    "redirect_uris: scheme must be the client_id host reversed");
	return PDS_OK;
}

/* An optional string field, copied; NULL if absent. */
static int
oc_opt_str(const json_t *doc, const char *key, size_t max, char **out,
    const char **why, const char *badwhy)
{
	const json_t	*v = json_object_get(doc, key);

	*out = NULL;
	if (v == NULL)
		return PDS_OK;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return pds_fail(why, PDS_EINVAL, badwhy);
	if ((*out = strdup(json_string_value(v))) == NULL)
		return PDS_ENOMEM;
	return PDS_OK;
}

/* An optional http(s) URI field. */
static int
oc_opt_uri(const json_t *doc, const char *key, char **out, const char **why,
    const char *badwhy)
{
	struct oc_url	 u;
	int		 rc;

	if ((rc = oc_opt_str(doc, key, OAUTH_URI_MAX, out, why, badwhy)) !=
	    PDS_OK || *out == NULL)
		return rc;
	if (!oc_url_split(&u, *out, strlen(*out)) || !u.auth || u.user ||
	    (!oc_eq(u.scheme, u.slen, "https") &&
	    !oc_eq(u.scheme, u.slen, "http")) || u.hlen == 0)
		return pds_fail(why, PDS_EINVAL, badwhy);
	return PDS_OK;
}

/* Space-separated scope with "atproto" and no duplicate token. */
static int
oc_scope_check(const char *s, size_t n, const char **why)
{
	size_t	 i, j, a, b, la, lb;
	bool	 atproto = false;

	if (n > OAUTH_SCOPE_MAX)
		return pds_fail(why, PDS_ETOOBIG, "scope: too long");
	for (i = 0; i < n; i = a + la) {
		for (a = i; a < n && s[a] == ' '; a++)
			;
		for (la = 0; a + la < n && s[a + la] != ' '; la++)
			;
		if (la == 0)
			break;
		if (oc_eq(s + a, la, "atproto"))
			atproto = true;
		for (j = a + la; j < n; j = b + lb) {
			for (b = j; b < n && s[b] == ' '; b++)
				;
			for (lb = 0; b + lb < n && s[b + lb] != ' '; lb++)
				;
			if (lb == la && memcmp(s + a, s + b, la) == 0)
				return pds_fail(why, PDS_EINVAL,
				    "scope: duplicate value");
			if (lb == 0)
				break;
		}
	}
	if (!atproto)
		return pds_fail(why, PDS_EINVAL, "scope: must include atproto");
	return PDS_OK;
}

/* Array of distinct strings, each in allowed (NULL: any); bit per entry. */
static int
oc_str_array(const json_t *v, const char *const *allowed, size_t nallowed,
    unsigned *bits, const char **why, const char *badwhy)
{
	const json_t	*e;
	size_t		 i, k;

	*bits = 0;
	if (!json_is_array(v))
		return pds_fail(why, PDS_EINVAL, badwhy);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return pds_fail(why, PDS_EINVAL, badwhy);
		for (k = 0; k < nallowed; k++)
			if (strcmp(json_string_value(e), allowed[k]) == 0)
				break;
		if (k == nallowed)
			return pds_fail(why, PDS_EINVAL, badwhy);
		if (*bits & (1u << k))
			return pds_fail(why, PDS_EINVAL, badwhy);
		*bits |= 1u << k;
	}
	return PDS_OK;
}

/* client_uri: same origin as client_id and a parent of its path. */
static bool
oc_client_uri_ok(const char *cu, const char *id)
{
	struct oc_url	 a, b;

	if (!oc_url_split(&a, cu, strlen(cu)) ||
	    !oc_url_split(&b, id, strlen(id)) || !a.auth || a.user || a.frag)
		return false;
	if (!oc_eq(a.scheme, a.slen, "https") || a.hlen != b.hlen ||
	    memcmp(a.host, b.host, a.hlen) != 0 ||
	    (a.port == NULL) != (b.port == NULL) ||
	    (a.port != NULL && (a.portlen != b.portlen ||
	    memcmp(a.port, b.port, a.portlen) != 0)))
		return false;
	if (a.plen == 0 || oc_eq(a.path, a.plen, "/"))
		return true;
	if (a.plen > b.plen || memcmp(a.path, b.path, a.plen) != 0)
		return false;
	return a.path[a.plen - 1] == '/' || b.path[a.plen] == '/';
}

static int
oc_from_json(struct oauth_client *c, const char *id, const json_t *doc,
    bool dev, const char **why)
{
	static const char *const refused[] = {
		"default_max_age", "userinfo_signed_response_alg",
		"id_token_signed_response_alg",
		"userinfo_encrypted_response_alg",
		"authorization_encrypted_response_enc",
		"tls_client_certificate_bound_access_tokens",
	};
	static const char *const grants[] = { "authorization_code",
	    "refresh_token" };
	static const char *const resp[] = { "code" };
	const json_t	*v, *e, *keys;
	struct oc_url	 u;
	unsigned	 bits;
	size_t		 i;
	int		 rc;

	if (!json_is_object(doc))
		return pds_fail(why, PDS_EINVAL, "metadata: not an object");
	v = json_object_get(doc, "client_id");
	if (!json_is_string(v) || strcmp(json_string_value(v), id) != 0)
		return pds_fail(why, PDS_EINVAL,
		    "client_id: does not match the URL fetched");
	if ((c->client_id = strdup(id)) == NULL)
		return PDS_ENOMEM;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (json_object_get(doc, refused[i]) != NULL)
			return pds_fail(why, PDS_EINVAL,
			    "metadata: an OIDC or mTLS field is not allowed");
	if ((v = json_object_get(doc, "subject_type")) != NULL &&
	    (!json_is_string(v) || strcmp(json_string_value(v), "public")))
		return pds_fail(why, PDS_EINVAL,
		    "subject_type: must be public");

	v = json_object_get(doc, "application_type");
	if (v == NULL || (json_is_string(v) &&
	    strcmp(json_string_value(v), "web") == 0))
		c->app_type = OAUTH_APP_WEB;
	else if (json_is_string(v) && strcmp(json_string_value(v),
	    "native") == 0)
		c->app_type = OAUTH_APP_NATIVE;
	else
		return pds_fail(why, PDS_EINVAL,
		    "application_type: must be web or native");

	v = json_object_get(doc, "scope");
	if (!json_is_string(v))
		return pds_fail(why, PDS_EINVAL, "scope: missing");
	if ((rc = oc_scope_check(json_string_value(v), json_string_length(v),
	    why)) != PDS_OK)
		return rc;
	if ((c->scope = strdup(json_string_value(v))) == NULL)
		return PDS_ENOMEM;

	if ((v = json_object_get(doc, "grant_types")) == NULL)
		return pds_fail(why, PDS_EINVAL, "grant_types: missing");
	if ((rc = oc_str_array(v, grants, 2, &bits, why, "grant_types: only "
	    "distinct authorization_code and refresh_token")) != PDS_OK)
		return rc;
	if (!(bits & 1))
		return pds_fail(why, PDS_EINVAL,
		    "grant_types: must include authorization_code");
	c->refresh = (bits & 2) != 0;

	if ((v = json_object_get(doc, "response_types")) == NULL)
		return pds_fail(why, PDS_EINVAL, "response_types: missing");
	if ((rc = oc_str_array(v, resp, 1, &bits, why,
	    "response_types: must be [\"code\"]")) != PDS_OK)
		return rc;
	if (bits != 1)
		return pds_fail(why, PDS_EINVAL,
		    "response_types: must include code");

	if (!json_is_true(json_object_get(doc, "dpop_bound_access_tokens")))
		return pds_fail(why, PDS_EINVAL,
		    "dpop_bound_access_tokens: must be true");

	if (json_object_get(doc, "jwks") != NULL &&
	    json_object_get(doc, "jwks_uri") != NULL)
		return pds_fail(why, PDS_EINVAL,
		    "jwks: jwks and jwks_uri are mutually exclusive");
	v = json_object_get(doc, "token_endpoint_auth_method");
	if (!json_is_string(v))
		return pds_fail(why, PDS_EINVAL,
		    "token_endpoint_auth_method: missing");
	e = json_object_get(doc, "token_endpoint_auth_signing_alg");
	if (strcmp(json_string_value(v), "none") == 0) {
		c->auth_method = OAUTH_AUTH_NONE;
		if (e != NULL)
			return pds_fail(why, PDS_EINVAL,
			    "token_endpoint_auth_signing_alg: not with none");
	} else if (strcmp(json_string_value(v), "private_key_jwt") == 0) {
		c->auth_method = OAUTH_AUTH_PRIVATE_KEY_JWT;
		if (!json_is_string(e))
			return pds_fail(why, PDS_EINVAL,
			    "token_endpoint_auth_signing_alg: missing");
		if (strcmp(json_string_value(e), "ES256") != 0)
			return pds_fail(why, PDS_EUNSUPP,
			    "token_endpoint_auth_signing_alg: must be ES256");
		if ((rc = oc_opt_uri(doc, "jwks_uri", &c->jwks_uri, why,
		    "jwks_uri: not an http(s) URL")) != PDS_OK)
			return rc;
		if (c->jwks_uri != NULL &&
		    strncmp(c->jwks_uri, "https:", 6) != 0)
			return pds_fail(why, PDS_EINVAL,
			    "jwks_uri: must be https");
		if ((e = json_object_get(doc, "jwks")) != NULL) {
			keys = json_object_get(e, "keys");
			if (!json_is_array(keys) || json_array_size(keys) == 0)
				return pds_fail(why, PDS_EINVAL,
				    "jwks: needs a non-empty keys array");
			json_array_foreach(keys, i, v)
				if (!json_is_object(v))
					return pds_fail(why, PDS_EINVAL,
					    "jwks: a key is not an object");
			c->jwks = json_incref((json_t *)(uintptr_t)e);
		} else if (c->jwks_uri == NULL)
			return pds_fail(why, PDS_EINVAL,
			    "jwks: private_key_jwt needs jwks or jwks_uri");
	} else
		return pds_fail(why, PDS_EUNSUPP, "token_endpoint_auth_method: "
		    "must be none or private_key_jwt");
	if (c->app_type == OAUTH_APP_NATIVE && c->auth_method != OAUTH_AUTH_NONE)
		return pds_fail(why, PDS_EINVAL,
		    "token_endpoint_auth_method: native clients must use none");

	(void)oc_url_split(&u, id, strlen(id));
	v = json_object_get(doc, "redirect_uris");
	if (!json_is_array(v) || json_array_size(v) == 0)
		return pds_fail(why, PDS_EINVAL,
		    "redirect_uris: needs at least one");
	if (json_array_size(v) > OAUTH_REDIRECT_MAX)
		return pds_fail(why, PDS_ETOOBIG, "redirect_uris: too many");
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) ||
		    strlen(json_string_value(e)) != json_string_length(e))
			return pds_fail(why, PDS_EINVAL,
			    "redirect_uris: entry is not a string");
		if ((rc = oc_redirect_check(json_string_value(e), c->app_type,
		    u.host, u.hlen, dev, why)) != PDS_OK)
			return rc;
		if ((c->redirect_uris[c->nredirect] =
		    strdup(json_string_value(e))) == NULL)
			return PDS_ENOMEM;
		c->nredirect++;
	}

	if ((rc = oc_opt_str(doc, "client_name", OAUTH_NAME_MAX,
	    &c->client_name, why, "client_name: not a short string")) !=
	    PDS_OK)
		return rc;
	if ((rc = oc_opt_uri(doc, "client_uri", &c->client_uri, why,
	    "client_uri: not an http(s) URL")) != PDS_OK)
		return rc;
	if (c->client_uri != NULL && !oc_client_uri_ok(c->client_uri, id))
		return pds_fail(why, PDS_EINVAL,
		    "client_uri: must be on the client_id origin and path");
	if ((rc = oc_opt_uri(doc, "logo_uri", &c->logo_uri, why,
	    "logo_uri: not an http(s) URL")) != PDS_OK)
		return rc;
	if (c->logo_uri != NULL && strncmp(c->logo_uri, "https:", 6) != 0)
		return pds_fail(why, PDS_EINVAL, "logo_uri: must be https");
	if ((rc = oc_opt_uri(doc, "tos_uri", &c->tos_uri, why,
	    "tos_uri: not an http(s) URL")) != PDS_OK)
		return rc;
	return oc_opt_uri(doc, "policy_uri", &c->policy_uri, why,
	    "policy_uri: not an http(s) URL");
}

int
oauth_client_from_json(struct oauth_client *c, const char *id,
    const json_t *doc, const char **why)
{
	int	 rc;

	memset(c, 0, sizeof(*c));
	if ((rc = oauth_client_id_check(id, strlen(id), why)) != PDS_OK)
		return rc;
	if ((rc = oc_from_json(c, id, doc, false, why)) != PDS_OK)
		oauth_client_clear(c);
	return rc;
}

int
oauth_client_dev_from_json(struct oauth_client *c, const char *id,
    const json_t *doc, const char **why)
{
	int	 rc;

	memset(c, 0, sizeof(*c));
	if (!oauth_client_id_is_dev(id, strlen(id)))
		return pds_fail(why, PDS_EINVAL,
		    "client_id: not a development client_id");
	if ((rc = oc_from_json(c, id, doc, true, why)) != PDS_OK)
		oauth_client_clear(c);
	return rc;
}

/* Form-decode p[0..n) into a new string; NULL on a bad escape or NUL. */
static char *
oc_form_decode(const char *p, size_t n)
{
	char	*out;
	size_t	 i, o = 0;
	int	 c;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= n || (c = hex_pair(p + i + 1)) < 0) {
				free(out);
				return NULL;
			}
			i += 2;
		}
		if (c == 0) {
			free(out);
			return NULL;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

static int
oc_loopback(struct oauth_client *c, const char *s, size_t n, const char **why)
{
	static const char *const defaults[] = { "http://127.0.0.1/",
	    "http://[::1]/" };
	struct oc_url	 u;
	const char	*q, *end, *amp, *eq;
	char		*val;
	size_t		 i;
	int		 rc;

	if (!oc_url_split(&u, s, n) || !oc_eq(u.scheme, u.slen, "http") ||
	    !u.auth || u.user || !oc_eq(u.host, u.hlen, "localhost") ||
	    u.port != NULL || u.frag || (u.plen != 0 &&
	    !oc_eq(u.path, u.plen, "/")))
		return pds_fail(why, PDS_EINVAL,
		    "client_id: loopback must be http://localhost[/][?query]");
	if ((c->client_id = strndup(s, n)) == NULL)
		return PDS_ENOMEM;
	c->loopback = true;
	c->app_type = OAUTH_APP_NATIVE;
	c->auth_method = OAUTH_AUTH_NONE;
	c->refresh = true;
	q = u.query != NULL ? u.query : s + n;
	for (end = q + u.qlen; q < end; q = amp + 1) {
		if ((amp = memchr(q, '&', (size_t)(end - q))) == NULL)
			amp = end;
		if (amp == q)
			continue;
		if ((eq = memchr(q, '=', (size_t)(amp - q))) == NULL)
			eq = amp;
		if ((val = oc_form_decode(eq < amp ? eq + 1 : amp,
		    eq < amp ? (size_t)(amp - eq - 1) : 0)) == NULL)
			return pds_fail(why, PDS_EINVAL,
			    "client_id: bad percent-encoding in query");
		if (oc_eq(q, (size_t)(eq - q), "scope")) {
			if (c->scope != NULL) {
				free(val);
				return pds_fail(why, PDS_EINVAL,
				    "client_id: scope given more than once");
			}
			c->scope = val;
			if ((rc = oc_scope_check(val, strlen(val), why)) !=
			    PDS_OK)
				return rc;
		} else if (oc_eq(q, (size_t)(eq - q), "redirect_uri")) {
			if (c->nredirect == OAUTH_REDIRECT_MAX) {
				free(val);
				return pds_fail(why, PDS_ETOOBIG,
				    "client_id: too many redirect_uri");
			}
			c->redirect_uris[c->nredirect++] = val;
			if ((rc = oc_redirect_check(val, OAUTH_APP_NATIVE,
			    NULL, 0, false, why)) != PDS_OK)
				return rc;
			if (strncmp(val, "http:", 5) != 0)
				return pds_fail(why, PDS_EINVAL, "client_id: "
				    "redirect_uri must be http://127.0.0.1 "
				    "or http://[::1]");
		} else {
			free(val);
			return pds_fail(why, PDS_EINVAL,
			    "client_id: only scope and redirect_uri allowed");
		}
	}
	if (c->scope == NULL && (c->scope = strdup("atproto")) == NULL)
		return PDS_ENOMEM;
	if (c->nredirect > 0)
		return PDS_OK;
	for (i = 0; i < 2; i++) {
		if ((c->redirect_uris[i] = strdup(defaults[i])) == NULL)
			return PDS_ENOMEM;
		c->nredirect++;
	}
	return PDS_OK;
}

int
oauth_client_loopback(struct oauth_client *c, const char *s, size_t n,
    const char **why)
{
	int	 rc;

	memset(c, 0, sizeof(*c));
	if (n > OAUTH_URI_MAX)
		return pds_fail(why, PDS_ETOOBIG, "client_id: too long");
	if ((rc = oc_loopback(c, s, n, why)) != PDS_OK)
		oauth_client_clear(c);
	return rc;
}

/* reg is a portless loopback URI and uri the same with some port. */
static bool
oc_loopback_port_match(const char *reg, const char *uri)
{
	struct oc_url	 a, b;

	if (!oc_url_split(&a, reg, strlen(reg)) ||
	    !oc_url_split(&b, uri, strlen(uri)))
		return false;
	if (!oc_eq(a.scheme, a.slen, "http") || !a.auth || a.port != NULL ||
	    !oc_host_is_loopback_ip(a.host, a.hlen) || b.port == NULL ||
	    !oc_port_ok(&b) || a.user || b.user)
		return false;
	return a.slen == b.slen && memcmp(a.scheme, b.scheme, a.slen) == 0 &&
	    a.hlen == b.hlen && memcmp(a.host, b.host, a.hlen) == 0 &&
	    a.plen == b.plen && memcmp(a.path, b.path, a.plen) == 0 &&
	    (a.query == NULL) == (b.query == NULL) && a.qlen == b.qlen &&
	    (a.query == NULL || memcmp(a.query, b.query, a.qlen) == 0) &&
	    a.frag == b.frag && !a.frag;
}

const char *
oauth_client_redirect(const struct oauth_client *c, const char *uri)
{
	size_t	 i;

	if (uri == NULL)
		return c->nredirect == 1 ? c->redirect_uris[0] : NULL;
	for (i = 0; i < c->nredirect; i++)
		if (strcmp(c->redirect_uris[i], uri) == 0)
			return c->redirect_uris[i];
	for (i = 0; i < c->nredirect; i++)
		if (oc_loopback_port_match(c->redirect_uris[i], uri))
			return uri;
	return NULL;
}
