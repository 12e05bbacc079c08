/*
 * routes: the top-level dispatcher: /xrpc/... goes to the XRPC router,
 * a few fixed paths are served here (/, /robots.txt, /xrpc/_health,
 * /.well-known/atproto-did, /tls-check), and modules may add their own
 * paths (OAuth, account pages) with routes_add() from their init.
 */
#ifndef PDSD_ROUTES_H
#define PDSD_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct config;

#define ROUTES_MAX_EXTRA	64

int	routes_init(const struct config *);

/*
 * Serve path (exactly, or every path starting with it when prefix is
 * true) with fn.  Only before the HTTP server starts (module init).
 * Earlier additions win over later ones; the fixed paths and /xrpc/
 * cannot be overridden.
 */
int	routes_add(const char *path, bool prefix, http_handler_fn fn,
	    const void *arg, size_t body_max);

/* The http_dispatch_fn given to http_start(). */
void	routes_dispatch(struct http_req *, struct http_target *);

#endif
