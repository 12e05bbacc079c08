/*
 * resolver: DIDs to documents (did:plc through the PLC directory,
 * did:web through https://<host>/.well-known/did.json) with an in-memory
 * cache, and handles to DIDs (DNS TXT _atproto.<handle>, then
 * https://<handle>/.well-known/atproto-did).  atproto-notes §8-§9.
 *
 * Set-up: outbound_init() and plc_client_init() first, then
 * resolver_init() once; afterwards every function is thread-safe.
 *
 * Cache: documents are kept up to max_entries (least recently used
 * evicted).  An entry younger than stale_ttl is served as is; an older
 * one is fetched again, and if that fetch fails for network reasons the
 * old document is still served until max_ttl.  resolver_refresh() fetches
 * unconditionally: call it when a signature made with a cached key fails
 * (the key may have been rotated), and after this server changes a DID.
 * Failures are cached for failure_ttl (PDS_ID_RESOLVER_FAILURE_TTL) in
 * a bounded table: a handle that did not resolve, a did:web whose
 * document could not be had, a did:plc the network failed on; within
 * that time asking again returns the same error at once, so a host
 * that never answers costs one timeout per TTL, not one per request.
 * resolver_refresh() skips that cache, resolver_forget() and a success
 * clear it.  On a thread inside offload_guard_begin() (an HTTP worker)
 * nothing goes to the network: what the caches cannot answer fails
 * with PDS_EIO and offload_would_block() notes it.
 *
 * did:web documents and handle checks go through the outbound address
 * policy (no loopback or private addresses outside dev mode) and never
 * follow redirects for did:web (the reference refuses them); the
 * atproto-did fetch follows up to 3 redirects.
 *
 * Errors: PDS_EUNSUPP for a DID method other than plc and web (or a
 * did:web with a path), PDS_EINVAL for a malformed DID or handle or an
 * unusable document (wrong id, bad shape), PDS_ENOTFOUND when the DID
 * or handle does not exist (or the document lacks the asked-for key or
 * service), PDS_EIO when the network failed.
 */
#ifndef PDSD_RESOLVER_H
#define PDSD_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "diddoc.h"

struct pds_key;

struct resolver_config {
	long	timeout_ms;	/* PDS_ID_RESOLVER_TIMEOUT; 0: 3 s */
	long	stale_ttl_ms;	/* PDS_DID_CACHE_STALE_TTL; 0: 1 h */
	long	max_ttl_ms;	/* PDS_DID_CACHE_MAX_TTL; 0: 1 day */
	size_t	max_entries;	/* 0: 10000 */
	long	failure_ttl_ms;	/* PDS_ID_RESOLVER_FAILURE_TTL; 0: off */
	bool	allow_test_tld;	/* dev mode: resolve handles under .test */
};

int	resolver_init(const struct resolver_config *);
void	resolver_shutdown(void);

/* The document (a new reference: json_decref() it). */
int	resolver_did_doc(const char *did, json_t **out);
/* The #atproto signing key (key_free() it). */
int	resolver_did_key(const char *did, struct pds_key **out);
/* The atproto view {did, signing_key, handle, pds} (diddoc_clear() it). */
int	resolver_did_data(const char *did, struct diddoc *out);
/* The #atproto_pds endpoint, normalised, into out. */
int	resolver_pds_endpoint(const char *did, char *out, size_t cap);
/*
 * Any service: `service_id` as "bsky_appview", "#bsky_appview" or
 * "<did>#bsky_appview"; `type` NULL for any type.
 */
int	resolver_service_endpoint(const char *did, const char *service_id,
	    const char *type, char *out, size_t cap);

/* Fetch the document again now and replace the cached one. */
int	resolver_refresh(const char *did);
/* Drop a cached document. */
void	resolver_forget(const char *did);

/*
 * Handle → DID: DNS first, HTTPS if DNS has no single did= record.  The
 * handle is lower-cased first; reserved TLDs are refused (PDS_EINVAL).
 * out needs room for DID_MAX + 1 bytes to hold any DID.
 */
int	resolver_handle(const char *handle, char *out, size_t cap);
/* The two methods separately (for diagnostics and tests). */
int	resolver_handle_dns(const char *handle, char *out, size_t cap);
int	resolver_handle_https(const char *handle, char *out, size_t cap);
/*
 * The one did= value of the TXT records at a full DNS name (such as
 * "_lexicon.<authority>"): PDS_ENOTFOUND when there is none, PDS_EINVAL
 * when there are several or it is not a DID, PDS_EIO when DNS failed.
 */
int	resolver_txt_did(const char *name, char *out, size_t cap);
/*
 * Send TXT lookups to this IPv4 "address:port" instead of the system's
 * name servers (NULL: the system's again).  For tests only: pdsd sets
 * it from PDS_DEV_DNS_SERVER in development mode.  Call before any
 * lookup; PDS_EINVAL for a malformed address.
 */
int	resolver_set_dns_server(const char *hostport);

/*
 * Bidirectional check: the handle resolves to `did` and the DID
 * document's first at:// handle is `handle`.  PDS_OK, PDS_EMISMATCH or
 * a resolution error.
 */
int	resolver_verify_handle(const char *handle, const char *did);

/* Cache statistics (for the admin socket). */
struct resolver_stats {
	size_t		entries;
	unsigned long	hits, misses, stale_served, fetch_errors;
	unsigned long	failures_served;	/* from the failure cache */
};
void	resolver_get_stats(struct resolver_stats *);

#endif
