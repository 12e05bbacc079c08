/*
 * routes: the dispatcher and the non-XRPC routes.  See routes.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "routes.h"
#include "store.h"
#include "xrpc.h"

struct extra_route {
	const char	*path;
	size_t		 len;
	bool		 prefix;
	http_handler_fn	 fn;
	const void	*arg;
	size_t		 body_max;
};

static const struct config	*rcfg;
static struct extra_route	 extra[ROUTES_MAX_EXTRA];
static size_t			 nextra;
static char			*banner;
static size_t			 banner_len;

static const char robots[] =
    "# All paths may be crawled.\n"
    "User-agent: *\n"
    "Allow: /\n";

static void
serve_banner(struct http_req *req, const void *arg)
{
	http_reply_static(req, 200, "text/plain; charset=utf-8", banner,
	    banner_len);
}

static void
serve_robots(struct http_req *req, const void *arg)
{
	http_reply_static(req, 200, "text/plain; charset=utf-8", robots,
	    sizeof(robots) - 1);
}

static void
serve_health(struct http_req *req, const void *arg)
{
	json_t	*o;

	if (store_ping() != PDS_OK) {
		o = json_pack("{s:s,s:s}", "version", rcfg->version, "error",
		    "Service Unavailable");
		http_reply_json(req, 503, o);
		return;
	}
	http_reply_json(req, 200, json_pack("{s:s}", "version",
	    rcfg->version));
}

static void
text_reply(struct http_req *req, unsigned status, const char *s)
{
	http_reply_bytes(req, status, "text/plain; charset=utf-8", s,
	    strlen(s));
}

/* GET /.well-known/atproto-did: the DID for the handle in Host. */
static void
serve_atproto_did(struct http_req *req, const void *arg)
{
	const char	*host = http_req_host(req);
	char		 did[2048];
	int		 rc;

	if (host == NULL || !config_is_service_handle(rcfg, host)) {
		text_reply(req, 404, "User not found");
		return;
	}
	rc = store_handle_to_did(host, did, sizeof(did));
	if (rc == PDS_ENOTFOUND)
		text_reply(req, 404, "User not found");
	else if (rc != PDS_OK)
		text_reply(req, 500, "Internal Server Error");
	else
		text_reply(req, 200, did);
}

/*
 * GET /tls-check?domain=: whether a TLS front end (Caddy on-demand TLS)
 * may get a certificate for domain: our host name, or the handle of an
 * account here.
 */
static void
serve_tls_check(struct http_req *req, const void *arg)
{
	const char	*d = http_req_query(req, "domain");
	char		 dom[254], did[2048];
	size_t		 i, n;
	int		 rc;

	if (d == NULL || (n = strlen(d)) == 0 || n >= sizeof(dom)) {
		xrpc_reply_error(req, PDS_EINVAL, NULL,
		    "bad or missing domain query parameter");
		return;
	}
	for (i = 0; i <= n; i++)
		dom[i] = (char)tolower((unsigned char)d[i]);
	if (strcmp(dom, rcfg->hostname) == 0) {
		http_reply_json(req, 200, json_pack("{s:b}", "success", 1));
		return;
	}
	if (!config_is_service_handle(rcfg, dom)) {
		xrpc_reply_error(req, PDS_EINVAL, NULL,
		    "handles are not provided on this domain");
		return;
	}
	rc = store_handle_to_did(dom, did, sizeof(did));
	if (rc == PDS_ENOTFOUND)
		xrpc_reply_error(req, PDS_ENOSUCH, NULL,
		    "handle not found for this domain");
	else if (rc != PDS_OK)
		xrpc_reply_error(req, PDS_EINTERNAL, NULL, NULL);
	else
		http_reply_json(req, 200, json_pack("{s:b}", "success", 1));
}

struct fixed_route {
	const char	*path;
	http_handler_fn	 fn;
};

static const struct fixed_route fixed[] = {
	{ "/", serve_banner },
	{ "/robots.txt", serve_robots },
	{ "/xrpc/_health", serve_health },
	{ "/.well-known/atproto-did", serve_atproto_did },
	{ "/tls-check", serve_tls_check },
};

void
routes_dispatch(struct http_req *req, struct http_target *t)
{
	const char	*path = http_req_path(req);
	enum http_method m = http_req_method(req);
	size_t		 i;

	t->fn = NULL;
	t->arg = NULL;
	t->body_max = 0;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(path, fixed[i].path) == 0) {
			if (m == HTTP_GET || m == HTTP_HEAD)
				t->fn = fixed[i].fn;
			return;
		}
	if (strncmp(path, "/xrpc/", 6) == 0) {
		xrpc_dispatch(req, t);
		return;
	}
	for (i = 0; i < nextra; i++)
		if (extra[i].prefix ?
		    strncmp(path, extra[i].path, extra[i].len) == 0 :
		    strcmp(path, extra[i].path) == 0) {
			t->fn = extra[i].fn;
			t->arg = extra[i].arg;
			t->body_max = extra[i].body_max;
			return;
		}
}

int
routes_add(const char *path, bool prefix, http_handler_fn fn,
    const void *arg, size_t body_max)
{
	if (nextra >= ROUTES_MAX_EXTRA || path[0] != '/' ||
	    strncmp(path, "/xrpc/", 6) == 0)
		return PDS_EINVAL;
	extra[nextra].path = path;
	extra[nextra].len = strlen(path);
	extra[nextra].prefix = prefix;
	extra[nextra].fn = fn;
	extra[nextra].arg = arg;
	extra[nextra].body_max = body_max;
	nextra++;
	return PDS_OK;
}

int
routes_init(const struct config *cfg)
{
	rcfg = cfg;
	free(banner);
	if (asprintf(&banner,
	    "This is an AT Protocol Personal Data Server (PDS): pdsd %s.\n"
	    "\n"
	    "It hosts the accounts and repositories of %s.\n"
	    "Most API routes are under /xrpc/.\n"
	    "\n"
	    "  Protocol: https://atproto.com\n", PDSD_VERSION,
	    cfg->service_name) == -1) {
		banner = NULL;
		return PDS_ENOMEM;
	}
	banner_len = strlen(banner);
	return PDS_OK;
}
