/*
 * resolver: DID documents (cached) and handles.  See resolver.h.
 *
 * The failure cache is a fixed table of FAIL_SLOTS slots, each naming
 * its key by a 128-bit hash ("d" + DID, "h" + handle): a new failure
 * takes its key's slot whoever held it, so the table stays bounded
 * whatever an attacker asks for; a key pushed out is merely fetched
 * again.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <sodium.h>

#include "clock.h"
#include "diddoc.h"
#include "err.h"
#include "keys.h"
#include "log.h"
#include "offload.h"
#include "outbound.h"
#include "plc_client.h"
#include "resolver.h"
#include "syntax.h"

#define DEF_TIMEOUT_MS	3000
#define DEF_STALE_MS	(3600L * 1000)
#define DEF_MAX_MS	(86400L * 1000)
#define DEF_ENTRIES	10000
#define ATPROTO_DID_MAX	(8 * 1024)	/* /.well-known/atproto-did body */
#define DNS_ANSWER_MAX	16384
#define TXT_RECORDS_MAX	32
#define TXT_RECORD_MAX	4096
#define FAIL_SLOTS	1024

struct fail_slot {
	uint8_t		 key[16];
	int		 rc;
	int64_t		 until;		/* monotonic ms; 0: empty */
};

struct entry {
	char		*did;
	json_t		*doc;
	int64_t		 fetched;	/* monotonic ms */
	int64_t		 refresh_at;	/* a refresh behind was asked, ms */
	uint32_t	 hash;
	struct entry	*hnext;		/* bucket chain */
	TAILQ_ENTRY(entry) lru;		/* most recent first */
};

static struct {
	pthread_mutex_t		 mtx;
	struct entry		**buckets;
	size_t			 nbuckets;	/* power of two */
	TAILQ_HEAD(entry_lru, entry) lru;
	size_t			 n, max;
	long			 timeout_ms, stale_ms, max_ms, fail_ms;
	struct fail_slot	 fails[FAIL_SLOTS];
	bool			 allow_test;
	bool			 ready;
	struct resolver_stats	 st;
} rs = { .mtx = PTHREAD_MUTEX_INITIALIZER,
    .lru = TAILQ_HEAD_INITIALIZER(rs.lru) };

static uint32_t
fnv1a(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int
resolver_init(const struct resolver_config *c)
{
	size_t	nb = 64;

	if (rs.ready)
		return PDS_OK;
	rs.timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : DEF_TIMEOUT_MS;
	rs.stale_ms = c->stale_ttl_ms > 0 ? c->stale_ttl_ms : DEF_STALE_MS;
	rs.max_ms = c->max_ttl_ms > 0 ? c->max_ttl_ms : DEF_MAX_MS;
	if (rs.max_ms < rs.stale_ms)
		rs.max_ms = rs.stale_ms;
	rs.max = c->max_entries > 0 ? c->max_entries : DEF_ENTRIES;
	rs.allow_test = c->allow_test_tld;
	rs.fail_ms = c->failure_ttl_ms > 0 ? c->failure_ttl_ms : 0;
	memset(rs.fails, 0, sizeof(rs.fails));
	while (nb < rs.max && nb < ((size_t)1 << 24))
		nb <<= 1;
	if ((rs.buckets = calloc(nb, sizeof(*rs.buckets))) == NULL)
		return PDS_ENOMEM;
	rs.nbuckets = nb;
	rs.ready = true;
	return PDS_OK;
}

static void
entry_free(struct entry *e)
{
	free(e->did);
	json_decref(e->doc);
	free(e);
}

void
resolver_shutdown(void)
{
	struct entry	*e, *n;

	pthread_mutex_lock(&rs.mtx);
	for (e = TAILQ_FIRST(&rs.lru); e != NULL; e = n) {
		n = TAILQ_NEXT(e, lru);
		entry_free(e);
	}
	free(rs.buckets);
	rs.buckets = NULL;
	TAILQ_INIT(&rs.lru);
	rs.n = 0;
	rs.ready = false;
	pthread_mutex_unlock(&rs.mtx);
}

/* ---- cache (callers hold rs.mtx) ------------------------------------ */

static struct entry *
cache_find(const char *did, uint32_t h)
{
	struct entry	*e;

	for (e = rs.buckets[h & (rs.nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && strcmp(e->did, did) == 0)
			return e;
	return NULL;
}

/* e was just used: to the front of the LRU list. */
static void
lru_touch(struct entry *e)
{
	TAILQ_REMOVE(&rs.lru, e, lru);
	TAILQ_INSERT_HEAD(&rs.lru, e, lru);
}

static void
cache_remove(struct entry *e)
{
	struct entry	**pp = &rs.buckets[e->hash & (rs.nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	TAILQ_REMOVE(&rs.lru, e, lru);
	rs.n--;
	entry_free(e);
}

/* Store a document (takes a new reference of doc). */
static void
cache_put(const char *did, json_t *doc)
{
	struct entry	*e;
	uint32_t	 h = fnv1a(did);

	if ((e = cache_find(did, h)) != NULL) {
		json_decref(e->doc);
		e->doc = json_incref(doc);
		e->fetched = clock_mono_ms();
		lru_touch(e);
		return;
	}
	while (rs.n >= rs.max && !TAILQ_EMPTY(&rs.lru))
		cache_remove(TAILQ_LAST(&rs.lru, entry_lru));
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;
	if ((e->did = strdup(did)) == NULL) {
		free(e);
		return;
	}
	e->doc = json_incref(doc);
	e->fetched = clock_mono_ms();
	e->hash = h;
	e->hnext = rs.buckets[h & (rs.nbuckets - 1)];
	rs.buckets[h & (rs.nbuckets - 1)] = e;
	TAILQ_INSERT_HEAD(&rs.lru, e, lru);
	rs.n++;
}

/* ---- the failure cache (callers hold rs.mtx) -------------------------- */

static struct fail_slot *
fail_slot(char kind, const char *name, uint8_t key[16])
{
	crypto_generichash_state st;
	uint32_t	 i;

	crypto_generichash_init(&st, NULL, 0, 16);
	crypto_generichash_update(&st, (const unsigned char *)&kind, 1);
	crypto_generichash_update(&st, (const unsigned char *)name,
	    strlen(name));
	crypto_generichash_final(&st, key, 16);
	memcpy(&i, key, sizeof(i));
	return &rs.fails[i % FAIL_SLOTS];
}

/* The cached failure of name, or PDS_OK. */
static int
fail_get(char kind, const char *name)
{
	struct fail_slot *f;
	uint8_t		 key[16];

	if (rs.fail_ms == 0)
		return PDS_OK;
	f = fail_slot(kind, name, key);
	if (f->until == 0 || memcmp(f->key, key, 16) != 0)
		return PDS_OK;
	if (clock_mono_ms() >= f->until) {
		f->until = 0;
		return PDS_OK;
	}
	rs.st.failures_served++;
	return f->rc;
}

static void
fail_put(char kind, const char *name, int rc)
{
	struct fail_slot *f;
	uint8_t		 key[16];

	if (rs.fail_ms == 0)
		return;
	f = fail_slot(kind, name, key);
	memcpy(f->key, key, 16);
	f->rc = rc;
	f->until = clock_mono_ms() + rs.fail_ms;
}

static void
fail_drop(char kind, const char *name)
{
	struct fail_slot *f;
	uint8_t		 key[16];

	f = fail_slot(kind, name, key);
	if (memcmp(f->key, key, 16) == 0)
		f->until = 0;
}

/* ---- fetching ------------------------------------------------------- */

static int
check_did(const char *did)
{
	size_t	n = strlen(did);

	if (!syntax_is_did(did, n))
		return PDS_EINVAL;
	if (did_is_plc(did, n) || did_is_web(did, n))
		return PDS_OK;
	return PDS_EUNSUPP;
}

static int
fetch_web(const char *did, json_t **out)
{
	struct outbound_req	 req;
	struct outbound_resp	 resp;
	json_error_t		 jerr;
	char			 url[HANDLE_MAX + 64];
	int			 rc;

	*out = NULL;
	if ((rc = diddoc_web_url(did, url, sizeof(url))) != PDS_OK)
		return rc;
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.timeout_ms = rs.timeout_ms;
	req.max_response = DIDDOC_MAX_BYTES;
	req.max_redirects = 0;
	req.headers[req.nheaders++] =
	    "Accept: application/did+ld+json,application/json";
	rc = outbound_do(&req, &resp);
	if (rc != PDS_OK) {
		log_info("resolver: %s: %s", url, resp.err);
		outbound_resp_clear(&resp);
		return rc == PDS_ETOOBIG ? PDS_EINVAL : PDS_EIO;
	}
	if (resp.status == 404 || resp.status == 410)
		rc = PDS_ENOTFOUND;
	else if (resp.status < 200 || resp.status > 299) {
		log_info("resolver: %s: HTTP %ld", url, resp.status);
		rc = PDS_EIO;
	} else if ((*out = json_loadb((const char *)resp.body.p, resp.body.len,
	    0, &jerr)) == NULL) {
		log_info("resolver: %s: not JSON: %s", url, jerr.text);
		rc = PDS_EINVAL;
	}
	outbound_resp_clear(&resp);
	return rc;
}

/* Fetch and check a document; on success *out holds a new reference. */
static int
fetch_doc(const char *did, json_t **out)
{
	struct diddoc	 d;
	const char	*why = NULL;
	char		 err[PLC_CLIENT_ERR_MAX];
	int		 rc;

	*out = NULL;
	if (did_is_plc(did, strlen(did))) {
		err[0] = '\0';
		rc = plc_client_get_doc(did, out, err, sizeof(err));
		if (rc != PDS_OK && rc != PDS_ENOTFOUND)
			log_info("resolver: %s: %s", did, err);
	} else
		rc = fetch_web(did, out);
	if (rc != PDS_OK)
		return rc;
	if ((rc = diddoc_parse(*out, did, &d, &why)) != PDS_OK) {
		log_info("resolver: %s: unusable document: %s", did,
		    why != NULL ? why : pds_strerror(rc));
		json_decref(*out);
		*out = NULL;
		return rc == PDS_ENOMEM ? rc : PDS_EINVAL;
	}
	diddoc_clear(&d);
	return PDS_OK;
}

static void
refresh_job(void *arg)
{
	char	*did = arg;

	(void)resolver_refresh(did);
	free(did);
}

/* Fetch did on the net pool, behind the request that asked. */
static void
refresh_behind(const char *did)
{
	char	*d;

	if ((d = strdup(did)) != NULL &&
	    offload_submit(OFFLOAD_NET, NULL, refresh_job, d, NULL) != PDS_OK)
		free(d);
}

static int
resolve(const char *did, bool force, json_t **out)
{
	struct entry	*e;
	json_t		*stale = NULL, *doc = NULL;
	int64_t		 age;
	uint32_t	 h;
	int		 rc;

	*out = NULL;
	if ((rc = check_did(did)) != PDS_OK)
		return rc;
	if (!rs.ready)
		return PDS_EINTERNAL;
	h = fnv1a(did);
	pthread_mutex_lock(&rs.mtx);
	if ((e = cache_find(did, h)) != NULL) {
		age = clock_mono_ms() - e->fetched;
		if (!force && age < rs.stale_ms) {
			*out = json_incref(e->doc);
			lru_touch(e);
			rs.st.hits++;
			pthread_mutex_unlock(&rs.mtx);
			return PDS_OK;
		}
		if (age < rs.max_ms)
			stale = json_incref(e->doc);
		/* An HTTP worker: the stale document, refreshed behind. */
		if (!force && stale != NULL &&
		    offload_guard() != OFFLOAD_GUARD_NONE) {
			rs.st.stale_served++;
			*out = stale;
			if (clock_mono_ms() - e->refresh_at > rs.timeout_ms) {
				e->refresh_at = clock_mono_ms();
				pthread_mutex_unlock(&rs.mtx);
				refresh_behind(did);
			} else
				pthread_mutex_unlock(&rs.mtx);
			return PDS_OK;
		}
	}
	if (!force && (rc = fail_get('d', did)) != PDS_OK) {
		if (rc == PDS_EIO && stale != NULL) {	/* as after a fetch */
			rs.st.stale_served++;
			*out = stale;
			rc = PDS_OK;
		} else
			json_decref(stale);
		pthread_mutex_unlock(&rs.mtx);
		return rc;
	}
	if (offload_would_block()) {	/* an HTTP worker: no network */
		pthread_mutex_unlock(&rs.mtx);
		json_decref(stale);
		if (offload_guard() == OFFLOAD_GUARD_DEGRADE)
			refresh_behind(did);
		return PDS_EIO;
	}
	rs.st.misses++;
	pthread_mutex_unlock(&rs.mtx);

	rc = fetch_doc(did, &doc);

	pthread_mutex_lock(&rs.mtx);
	if (rc == PDS_OK) {
		cache_put(did, doc);
		fail_drop('d', did);
		*out = doc;
	} else {
		rs.st.fetch_errors++;
		/*
		 * Remember the slow kind of failure (the network), and any
		 * failure of a did:web, whose host anyone may run.
		 */
		if (rc == PDS_EIO || !did_is_plc(did, strlen(did)))
			fail_put('d', did, rc);
		if (rc == PDS_EIO && stale != NULL) {
			rs.st.stale_served++;
			*out = stale;
			stale = NULL;
			rc = PDS_OK;
		} else if (rc == PDS_ENOTFOUND &&
		    (e = cache_find(did, h)) != NULL)
			cache_remove(e);
	}
	pthread_mutex_unlock(&rs.mtx);
	json_decref(stale);
	return rc;
}

int
resolver_did_doc(const char *did, json_t **out)
{
	return resolve(did, false, out);
}

int
resolver_refresh(const char *did)
{
	json_t	*doc = NULL;
	int	 rc;

	rc = resolve(did, true, &doc);
	json_decref(doc);
	return rc;
}

void
resolver_forget(const char *did)
{
	struct entry	*e;

	if (!rs.ready)
		return;
	pthread_mutex_lock(&rs.mtx);
	if ((e = cache_find(did, fnv1a(did))) != NULL)
		cache_remove(e);
	fail_drop('d', did);
	pthread_mutex_unlock(&rs.mtx);
}

int
resolver_did_key(const char *did, struct pds_key **out)
{
	json_t		*doc;
	const char	*why = NULL;
	int		 rc;

	*out = NULL;
	if ((rc = resolve(did, false, &doc)) != PDS_OK)
		return rc;
	rc = diddoc_get_key(doc, did, "atproto", out, &why);
	json_decref(doc);
	if (rc == PDS_EUNSUPP)
		rc = PDS_ENOTFOUND;
	return rc;
}

int
resolver_did_data(const char *did, struct diddoc *out)
{
	json_t	*doc;
	int	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = resolve(did, false, &doc)) != PDS_OK)
		return rc;
	rc = diddoc_parse(doc, did, out, NULL);
	json_decref(doc);
	return rc;
}

int
resolver_service_endpoint(const char *did, const char *service_id,
    const char *type, char *out, size_t cap)
{
	json_t	*doc;
	int	 rc;

	if ((rc = resolve(did, false, &doc)) != PDS_OK)
		return rc;
	rc = diddoc_get_service(doc, did, service_id, type, out, cap, NULL);
	json_decref(doc);
	return rc;
}

int
resolver_pds_endpoint(const char *did, char *out, size_t cap)
{
	return resolver_service_endpoint(did, "atproto_pds",
	    "AtprotoPersonalDataServer", out, cap);
}

void
resolver_get_stats(struct resolver_stats *st)
{
	pthread_mutex_lock(&rs.mtx);
	*st = rs.st;
	st->entries = rs.n;
	pthread_mutex_unlock(&rs.mtx);
}

/* ---- handles -------------------------------------------------------- */

static int
norm_handle(const char *handle, char *out, size_t cap)
{
	size_t	n = strlen(handle);
	int	len;

	if ((len = handle_normalize(out, cap, handle, n)) < 0)
		return PDS_EINVAL;
	if (handle_is_reserved_tld(out, (size_t)len, rs.allow_test))
		return PDS_EINVAL;
	return PDS_OK;
}

static unsigned
be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/*
 * Collect the TXT records (character-strings joined) of an answer
 * section into recs/lens (pointing into store).  Returns the count or
 * -1 for a malformed message.
 */
static int
dns_txt_records(const unsigned char *msg, int len, char *store,
    const char **recs, size_t *lens)
{
	const unsigned char	*p = msg + 12, *end = msg + len, *rd, *q;
	unsigned		 qd, an, type, cls, rdlen, i, l;
	size_t			 used = 0, rl;
	int			 k, n = 0;

	if (len < 12 || (msg[3] & 0x0f) != 0)
		return len < 12 ? -1 : 0;
	qd = be16(msg + 4);
	an = be16(msg + 6);
	for (i = 0; i < qd; i++) {
		if ((k = dn_skipname(p, end)) < 0 || end - (p + k) < 4)
			return -1;
		p += k + 4;
	}
	for (i = 0; i < an && n < TXT_RECORDS_MAX; i++) {
		if ((k = dn_skipname(p, end)) < 0 || end - (p + k) < 10)
			return -1;
		p += k;
		type = be16(p);
		cls = be16(p + 2);
		rdlen = be16(p + 8);
		rd = p + 10;
		if ((size_t)(end - rd) < rdlen)
			return -1;
		p = rd + rdlen;
		if (type != ns_t_txt || cls != ns_c_in)
			continue;
		recs[n] = store + used;
		rl = 0;
		for (q = rd; q < rd + rdlen; q += l) {
			l = *q++;
			if ((size_t)(rd + rdlen - q) < l)
				return -1;
			if (rl + l > TXT_RECORD_MAX)
				l = (unsigned)(TXT_RECORD_MAX - rl);
			memcpy(store + used + rl, q, l);
			rl += l;
		}
		lens[n++] = rl;
		used += rl;
	}
	return n;
}

int
resolver_handle_dns(const char *handle, char *out, size_t cap)
{
	char	 h[HANDLE_MAX + 1], name[HANDLE_MAX + 16];
	int	 rc;

	if ((rc = norm_handle(handle, h, sizeof(h))) != PDS_OK)
		return rc;
	snprintf(name, sizeof(name), "_atproto.%s", h);
	return resolver_txt_did(name, out, cap);
}

/* A test-only name server for TXT lookups (resolver_set_dns_server). */
static struct sockaddr_in dns_server;
static bool dns_server_set;

int
resolver_set_dns_server(const char *hostport)
{
	char		 host[64];
	const char	*colon;
	long		 port;
	char		*end;

	if (hostport == NULL) {
		dns_server_set = false;
		return PDS_OK;
	}
	if ((colon = strrchr(hostport, ':')) == NULL ||
	    (size_t)(colon - hostport) >= sizeof(host))
		return PDS_EINVAL;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return PDS_EINVAL;
	memset(&dns_server, 0, sizeof(dns_server));
	dns_server.sin_family = AF_INET;
	dns_server.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &dns_server.sin_addr) != 1)
		return PDS_EINVAL;
	dns_server_set = true;
	return PDS_OK;
}

int
resolver_txt_did(const char *name, char *out, size_t cap)
{
	struct __res_state	 st;
	unsigned char		*ans = NULL;
	char			*store = NULL;
	const char		*recs[TXT_RECORDS_MAX];
	size_t			 lens[TXT_RECORDS_MAX];
	int			 len, n, rc;

	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0)
		return PDS_EIO;
	if (dns_server_set) {
		st.nsaddr_list[0] = dns_server;
		st.nscount = 1;
	}
	st.retrans = rs.timeout_ms >= 2000 ? (int)(rs.timeout_ms / 2000) : 1;
	st.retry = 2;
	ans = malloc(DNS_ANSWER_MAX);
	store = malloc((size_t)TXT_RECORDS_MAX * TXT_RECORD_MAX);
	if (ans == NULL || store == NULL) {
		rc = PDS_ENOMEM;
		goto out;
	}
	len = res_nquery(&st, name, ns_c_in, ns_t_txt, ans, DNS_ANSWER_MAX);
	if (len < 0) {
		rc = st.res_h_errno == TRY_AGAIN ? PDS_EIO : PDS_ENOTFOUND;
		goto out;
	}
	if (len > DNS_ANSWER_MAX)
		len = DNS_ANSWER_MAX;	/* truncated: parse what fits */
	if ((n = dns_txt_records(ans, len, store, recs, lens)) < 0) {
		rc = PDS_EIO;
		goto out;
	}
	rc = diddoc_pick_txt_did(recs, lens, (size_t)n, out, cap);
out:
	res_nclose(&st);
	free(ans);
	free(store);
	return rc;
}

/* The HTTPS method with a timeout of its own. */
static int
handle_https(const char *handle, char *out, size_t cap, long timeout_ms)
{
	struct outbound_req	 req;
	struct outbound_resp	 resp;
	char			 h[HANDLE_MAX + 1], url[HANDLE_MAX + 64];
	int			 rc;

	if ((rc = norm_handle(handle, h, sizeof(h))) != PDS_OK)
		return rc;
	snprintf(url, sizeof(url), "https://%s/.well-known/atproto-did", h);
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.timeout_ms = timeout_ms;
	req.max_response = ATPROTO_DID_MAX;
	req.max_redirects = 3;
	rc = outbound_do(&req, &resp);
	if (rc != PDS_OK) {
		log_debug("resolver: %s: %s", url, resp.err);
		rc = rc == PDS_ETOOBIG ? PDS_ENOTFOUND : PDS_EIO;
	} else if (resp.status < 200 || resp.status > 299)
		rc = PDS_ENOTFOUND;
	else if (diddoc_parse_atproto_did((const char *)resp.body.p,
	    resp.body.len, out, cap) != PDS_OK)
		rc = PDS_ENOTFOUND;
	outbound_resp_clear(&resp);
	return rc;
}

int
resolver_handle_https(const char *handle, char *out, size_t cap)
{
	return handle_https(handle, out, cap, rs.timeout_ms);
}

int
resolver_handle(const char *handle, char *out, size_t cap)
{
	char	 h[HANDLE_MAX + 1];
	int64_t	 left, t0;
	int	 rc, rc2;

	if ((rc = norm_handle(handle, h, sizeof(h))) != PDS_OK)
		return rc;
	pthread_mutex_lock(&rs.mtx);
	rc = fail_get('h', h);
	pthread_mutex_unlock(&rs.mtx);
	if (rc != PDS_OK)
		return rc;
	if (offload_would_block())	/* an HTTP worker: no network */
		return PDS_EIO;
	t0 = clock_mono_ms();
	if ((rc = resolver_handle_dns(h, out, cap)) == PDS_OK)
		return PDS_OK;
	/* Both methods together within about the one timeout. */
	left = rs.timeout_ms - (clock_mono_ms() - t0);
	if ((rc2 = handle_https(h, out, cap, left > 500 ? (long)left :
	    500)) == PDS_OK)
		return PDS_OK;
	/* Report a network failure only if neither method had an answer. */
	rc = rc == PDS_EIO && rc2 == PDS_EIO ? PDS_EIO : PDS_ENOTFOUND;
	pthread_mutex_lock(&rs.mtx);
	fail_put('h', h, rc);
	pthread_mutex_unlock(&rs.mtx);
	return rc;
}

int
resolver_verify_handle(const char *handle, const char *did)
{
	struct diddoc	 d;
	char		 h[HANDLE_MAX + 1], got[DID_MAX + 1];
	int		 rc;

	if ((rc = norm_handle(handle, h, sizeof(h))) != PDS_OK)
		return rc;
	if ((rc = resolver_handle(h, got, sizeof(got))) != PDS_OK)
		return rc;
	if (strcmp(got, did) != 0)
		return PDS_EMISMATCH;
	if ((rc = resolver_did_data(did, &d)) != PDS_OK)
		return rc;
	rc = d.handle != NULL && strcmp(d.handle, h) == 0 ? PDS_OK :
	    PDS_EMISMATCH;
	diddoc_clear(&d);
	return rc;
}
