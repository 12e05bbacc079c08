/*
 * outbound: pdsd's HTTP client (libcurl), for the PLC directory, DID
 * documents, handle checks, and later the AppView proxy and crawlers.
 *
 * Every request has a total timeout, a cap on the response body, a
 * redirect limit (0: a 3xx is returned as is), the protocols http and
 * https only, no proxy from the environment, and pdsd's User-Agent.
 *
 * Address policy (SSRF protection): unless the process runs with
 * `allow_private` (dev mode / PDS_DISABLE_SSRF_PROTECTION) or the request
 * sets OUTBOUND_TRUSTED (an operator-configured endpoint such as
 * PDS_DID_PLC_URL) or its host is on the allow list, every socket curl
 * opens is checked just before connect: loopback, private (RFC 1918),
 * CGNAT, link-local, ULA, multicast, documentation, benchmarking,
 * reserved and unspecified addresses, and IPv4-mapped/NAT64/6to4 forms of
 * them, are refused.  The check is on the address actually connected to
 * (CURLOPT_OPENSOCKETFUNCTION), after DNS and on every redirect hop, so
 * DNS rebinding cannot get around it; untrusted requests never reuse a
 * pooled connection.
 *
 * Threads: each thread gets its own curl easy handle on first use
 * (freed when the thread exits); outbound_init() must run once before
 * any thread makes a request.
 */
#ifndef PDSD_OUTBOUND_H
#define PDSD_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "buf.h"

#define OUTBOUND_TIMEOUT_MS	10000
#define OUTBOUND_MAX_RESPONSE	(512 * 1024)	/* PDS_FETCH_MAX_RESPONSE_SIZE */
#define OUTBOUND_MAX_HEADERS	16
#define OUTBOUND_ERR_MAX	256

struct outbound_config {
	const char		*user_agent;	/* NULL: "pdsd" */
	bool			 allow_private;	/* dev mode: no address policy */
	const char *const	*allow_hosts;	/* NULL-terminated, or NULL */
	long			 timeout_ms;	/* default per request; 0: above */
	size_t			 max_response;	/* default cap; 0: above */
};

/* Request flags. */
#define OUTBOUND_TRUSTED	0x01	/* operator-configured: any address */

struct outbound_req {
	const char	*method;	/* "GET" (NULL) or "POST" */
	const char	*url;
	const char	*headers[OUTBOUND_MAX_HEADERS];	/* "Name: value" */
	size_t		 nheaders;
	const void	*body;		/* POST body, or NULL */
	size_t		 body_len;
	long		 timeout_ms;	/* 0: the configured default */
	size_t		 max_response;	/* 0: the configured default */
	int		 max_redirects;	/* 0: do not follow */
	int		 flags;		/* OUTBOUND_* */
};

struct outbound_resp {
	long		 status;	/* HTTP status, 0 if none arrived */
	struct buf	 body;		/* NUL-terminated */
	char		 content_type[128];
	char		 err[OUTBOUND_ERR_MAX];	/* why, when not PDS_OK */
};

/* Once, at start-up (curl_global_init).  Copies the config. */
int	outbound_init(const struct outbound_config *);
/* At exit, after every other thread is done. */
void	outbound_shutdown(void);

/*
 * Perform a request.  Returns PDS_OK when an HTTP response arrived
 * (whatever its status), PDS_ETOOBIG if the body passed the cap,
 * PDS_EIO for network failures and timeouts, PDS_EINVAL for a bad URL,
 * PDS_EMISMATCH when the address policy refused every address.
 * resp->err says why in words.  Free resp with outbound_resp_clear().
 */
int	outbound_do(const struct outbound_req *, struct outbound_resp *);
void	outbound_resp_clear(struct outbound_resp *);

/*
 * GET (body NULL) or POST a JSON body, and read a JSON reply.  *json
 * gets the parsed body (a new reference) when it is JSON, else NULL
 * (whatever the status: callers decide whether they needed JSON);
 * *status the HTTP status.  Accept/Content-Type headers are set.  The
 * return value is as for outbound_do().
 */
int	outbound_json(const char *url, const json_t *body, int flags,
	    long timeout_ms, size_t max_response, long *status, json_t **json,
	    char *err, size_t errlen);

/*
 * Whether an address may be connected to under the address policy
 * (exported for tests): false for the non-public ranges above.
 */
struct sockaddr;
bool	outbound_addr_is_public(const struct sockaddr *);

#endif
