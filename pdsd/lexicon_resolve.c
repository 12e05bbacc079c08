/*
 * lexicon_resolve: NSIDs to lexicon documents, cached.  See
 * lexicon_resolve.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cbor.h"
#include "clock.h"
#include "config.h"
#include "dmjson.h"
#include "err.h"
#include "keys.h"
#include "lexicon.h"
#include "lexicon_resolve.h"
#include "log.h"
#include "module.h"
#include "offload.h"
#include "outbound.h"
#include "record_proof.h"
#include "resolver.h"
#include "stats.h"
#include "store_lexicon.h"
#include "syntax.h"

#define SCHEMA_COLLECTION	"com.atproto.lexicon.schema"
#define DOC_MAX			(256 * 1024)	/* JSON text kept */

static struct {
	struct lexres_config	 c;
	char			*authority_did;
	struct stats_counter	*hits, *fetches, *fetch_errors;
	struct stats_counter	*stale_served, *failures_served;
} lr;

int
lexres_init(const struct lexres_config *c)
{
	free(lr.authority_did);
	lr.authority_did = NULL;
	lr.c = *c;
	if (c->authority_did != NULL &&
	    (lr.authority_did = strdup(c->authority_did)) == NULL)
		return PDS_ENOMEM;
	lr.c.authority_did = lr.authority_did;
	lr.hits = stats_counter("lexicon.hits", 0);
	lr.fetches = stats_counter("lexicon.fetches", 0);
	lr.fetch_errors = stats_counter("lexicon.fetch_errors", 0);
	lr.stale_served = stats_counter("lexicon.stale_served", 0);
	lr.failures_served = stats_counter("lexicon.failures_served", 0);
	return PDS_OK;
}

void
lexres_shutdown(void)
{
	free(lr.authority_did);
	memset(&lr, 0, sizeof(lr));
}

int
lexres_authority(const char *nsid, char *out, size_t cap)
{
	size_t	 n = strlen(nsid), end, i, o = 0, seg;

	if (!syntax_is_nsid(nsid, n))
		return PDS_EINVAL;
	/* Drop the name, then copy the segments last first. */
	for (end = n; end > 0 && nsid[end - 1] != '.'; end--)
		;
	end--;				/* at the dot before the name */
	while (end > 0) {
		for (i = end; i > 0 && nsid[i - 1] != '.'; i--)
			;
		seg = end - i;
		if (o + seg + 2 > cap)
			return PDS_ETOOBIG;
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, nsid + i, seg);
		o += seg;
		end = i > 0 ? i - 1 : 0;
	}
	out[o] = '\0';
	return PDS_OK;
}

/* ---- fetching ---------------------------------------------------------- */

struct fetch {
	const char	*nsid;
	char		 did[DID_MAX + 1];
	char		 pds[512];
	json_t		*doc;
	char		 uri[DID_MAX + 512];
	char		 cid[128];
	char		*err;
	size_t		 errlen;
};

/* The fetch fails with rc; the reason goes to the caller's buffer. */
#define fetch_fail(f, rc, ...)	\
	pds_errf((f)->err, (f)->errlen, rc, __VA_ARGS__)

/* The authority's DID: the override, or _lexicon.<authority> in DNS. */
static int
fetch_authority(struct fetch *f)
{
	char	 auth[300], name[320];
	int	 rc;

	if (lr.c.authority_did != NULL) {
		snprintf(f->did, sizeof(f->did), "%s", lr.c.authority_did);
		return PDS_OK;
	}
	if (lexres_authority(f->nsid, auth, sizeof(auth)) != PDS_OK)
		return fetch_fail(f, PDS_EINVAL, "Invalid NSID");
	snprintf(name, sizeof(name), "_lexicon.%s", auth);
	rc = resolver_txt_did(name, f->did, sizeof(f->did));
	if (rc == PDS_ENOTFOUND)
		return fetch_fail(f, PDS_ENOTFOUND,
		    "No DID found for authority %s", auth);
	if (rc == PDS_EINVAL)
		return fetch_fail(f, PDS_ENOTFOUND,
		    "Multiple or invalid DIDs found for authority %s", auth);
	if (rc != PDS_OK)
		return fetch_fail(f, PDS_ENOTFOUND,
		    "DNS lookup failed for authority %s", auth);
	return PDS_OK;
}

/* GET the record's proof from the authority's PDS into body. */
static int
fetch_proof(struct fetch *f, struct buf *body)
{
	struct outbound_req	 req;
	struct outbound_resp	 resp;
	char			 url[DID_MAX + 1024];
	int			 rc, n;

	if (resolver_pds_endpoint(f->did, f->pds, sizeof(f->pds)) != PDS_OK)
		return fetch_fail(f, PDS_ENOTFOUND,
		    "Could not resolve the PDS of %s", f->did);
	n = snprintf(url, sizeof(url), "%s/xrpc/com.atproto.sync.getRecord?"
	    "did=%s&collection=" SCHEMA_COLLECTION "&rkey=%s", f->pds,
	    f->did, f->nsid);
	if (n < 0 || (size_t)n >= sizeof(url))
		return fetch_fail(f, PDS_ENOTFOUND, "URL too long");
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.timeout_ms = lr.c.timeout_ms;
	req.max_response = LEXRES_CAR_MAX;
	req.headers[req.nheaders++] = "Accept: application/vnd.ipld.car";
	stats_add(lr.fetches, 1);
	rc = outbound_do(&req, &resp);
	if (rc == PDS_OK && resp.status == 200)
		rc = buf_append(body, resp.body.p, resp.body.len);
	else if (rc == PDS_OK) {
		snprintf(f->err, f->errlen, "The PDS of %s answered HTTP %ld",
		    f->did, resp.status);
		rc = PDS_ENOTFOUND;
	} else {
		snprintf(f->err, f->errlen, "Could not fetch the record from "
		    "%s: %s", f->pds, resp.err);
		rc = PDS_ENOTFOUND;
	}
	outbound_resp_clear(&resp);
	return rc;
}

/* Check the proof with the DID's key; once more after a key refresh. */
static int
fetch_verify(struct fetch *f, const struct buf *body, struct buf *rec)
{
	struct pds_key	*key = NULL;
	struct cid	 c;
	const char	*why = NULL;
	int		 rc, tries;

	for (tries = 0; tries < 2; tries++) {
		if (tries > 0 && resolver_refresh(f->did) != PDS_OK)
			break;
		if (resolver_did_key(f->did, &key) != PDS_OK)
			return fetch_fail(f, PDS_ENOTFOUND,
			    "Could not resolve the signing key of %s", f->did);
		buf_reset(rec);
		rc = record_proof_verify(body->p, body->len, f->did, key,
		    SCHEMA_COLLECTION, f->nsid, rec, &c, &why);
		key_free(key);
		key = NULL;
		if (rc != PDS_ECRYPTO)
			break;
	}
	if (rc == PDS_ENOTFOUND)
		return fetch_fail(f, PDS_ENOTFOUND,
		    "No lexicon record in the repository of %s", f->did);
	if (rc != PDS_OK)
		return fetch_fail(f, PDS_ENOTFOUND,
		    "The record's proof does not verify: %s", why);
	cid_format(&c, f->cid, sizeof(f->cid));
	return PDS_OK;
}

/* The record's bytes as a lexicon document for f->nsid. */
static int
fetch_doc(struct fetch *f, const struct buf *rec)
{
	struct dm_arena		*a;
	struct dm_value		*v;
	struct lex_builder	*b;
	const char		*why, *type, *id;
	char			 berr[200];
	json_t			*doc = NULL;
	int			 rc = PDS_OK;

	if ((a = dm_arena_new()) == NULL)
		return PDS_ENOMEM;
	if (dm_decode(a, rec->p, rec->len, &v, &why) != PDS_OK ||
	    (doc = dm_to_json(v)) == NULL)
		rc = fetch_fail(f, PDS_ENOTFOUND,
		    "The lexicon record does not decode");
	dm_arena_free(a);
	if (rc != PDS_OK)
		return rc;
	type = json_string_value(json_object_get(doc, "$type"));
	id = json_string_value(json_object_get(doc, "id"));
	if (type == NULL || strcmp(type, SCHEMA_COLLECTION) != 0)
		rc = fetch_fail(f, PDS_ENOTFOUND, "The record is not a "
		    SCHEMA_COLLECTION);
	else if (id == NULL || strcmp(id, f->nsid) != 0)
		rc = fetch_fail(f, PDS_ENOTFOUND, "The document's id is not "
		    "%s", f->nsid);
	else if ((b = lex_builder_new()) == NULL)
		rc = PDS_ENOMEM;
	else {
		if (lex_builder_add(b, doc, berr, sizeof(berr)) != 0 ||
		    lex_builder_finish(b) == NULL)
			rc = fetch_fail(f, PDS_ENOTFOUND,
			    "Invalid lexicon document: %s", berr);
		lex_builder_free(b);
	}
	if (rc != PDS_OK) {
		json_decref(doc);
		return rc;
	}
	f->doc = doc;
	return PDS_OK;
}

static int
fetch(struct fetch *f)
{
	struct buf	 body, rec;
	int		 rc;

	if (offload_would_block())
		return fetch_fail(f, PDS_EIO, "Lexicon resolution would block "
		    "an HTTP worker");
	buf_init(&body, LEXRES_CAR_MAX);
	buf_init(&rec, LEXRES_CAR_MAX);
	if ((rc = fetch_authority(f)) == PDS_OK &&
	    (rc = fetch_proof(f, &body)) == PDS_OK &&
	    (rc = fetch_verify(f, &body, &rec)) == PDS_OK)
		rc = fetch_doc(f, &rec);
	if (rc == PDS_OK && (size_t)snprintf(f->uri, sizeof(f->uri),
	    "at://%s/" SCHEMA_COLLECTION "/%s", f->did, f->nsid) >=
	    sizeof(f->uri))
		rc = fetch_fail(f, PDS_ENOTFOUND, "The record's URI is too long");
	if (rc != PDS_OK)
		stats_add(lr.fetch_errors, 1);
	buf_clear(&body);
	buf_clear(&rec);
	return rc;
}

/* ---- the cache --------------------------------------------------------- */

static void
copy_str(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s != NULL ? s : "");
}

/* The row's document into res; PDS_OK or PDS_ENOTFOUND (none). */
static int
serve_row(const struct store_lexicon *row, struct lexres_result *res)
{
	json_error_t	 jerr;

	copy_str(res->uri, sizeof(res->uri), row->uri);
	copy_str(res->cid, sizeof(res->cid), row->cid);
	copy_str(res->error, sizeof(res->error), row->error);
	res->updated_at = row->updated_at;
	res->succeeded_at = row->succeeded_at;
	/* A document kept over a failed refresh. */
	res->stale = row->doc != NULL && row->error != NULL;
	if (row->doc == NULL)
		return PDS_ENOTFOUND;
	if ((res->doc = json_loads(row->doc, 0, &jerr)) == NULL)
		return PDS_ENOTFOUND;
	return PDS_OK;
}

/* Store the outcome of a fetch over the old row, and answer from it. */
static int
record(const char *nsid, struct store_lexicon *row, bool had,
    struct fetch *f, int frc, int64_t now, struct lexres_result *res)
{
	struct store_lexicon	 nr;
	char			*text = NULL;
	int			 rc;

	memset(&nr, 0, sizeof(nr));
	nr.nsid = (char *)nsid;
	nr.created_at = had ? row->created_at : now;
	nr.updated_at = now;
	if (frc == PDS_OK) {
		text = json_dumps(f->doc, JSON_COMPACT | JSON_SORT_KEYS);
		if (text == NULL)
			return PDS_ENOMEM;
		if (strlen(text) > DOC_MAX) {
			free(text);
			text = NULL;
			snprintf(f->err, f->errlen, "The lexicon document is "
			    "too large");
			frc = PDS_ENOTFOUND;
		} else {
			nr.uri = f->uri;
			nr.cid = f->cid;
			nr.doc = text;
			nr.succeeded_at = now;
		}
	}
	if (frc != PDS_OK) {
		nr.error = f->err;
		/* A failed refresh keeps a document until it expires. */
		if (had && row->doc != NULL &&
		    now - row->succeeded_at < lr.c.expiry_ms) {
			nr.uri = row->uri;
			nr.cid = row->cid;
			nr.doc = row->doc;
			nr.succeeded_at = row->succeeded_at;
		}
	}
	rc = store_lexicon_put(&nr);
	if (rc == PDS_OK && nr.doc == NULL)
		rc = store_lexicon_prune(now - lr.c.failure_ms,
		    LEXRES_FAILURES_MAX, NULL);
	else if (rc == PDS_OK && !had)
		rc = store_lexicon_cap(LEXRES_ENTRIES_MAX);
	if (rc != PDS_OK) {
		free(text);
		return rc;
	}
	rc = serve_row(&nr, res);
	free(text);
	if (rc == PDS_OK && res->stale)
		stats_add(lr.stale_served, 1);
	return rc;
}

/*
 * Whether a row answers without a fetch: a document tried less than
 * stale_ms ago and resolved less than expiry_ms ago, or a failure
 * less than failure_ms old.
 */
static bool
fresh(const struct store_lexicon *row, int64_t now)
{
	if (row->doc == NULL)
		return now - row->updated_at < lr.c.failure_ms;
	return now - row->updated_at < lr.c.stale_ms &&
	    now - row->succeeded_at < lr.c.expiry_ms;
}

int
lexres_get(const char *nsid, unsigned flags, struct lexres_result *res)
{
	struct store_lexicon	 row;
	struct fetch		 f;
	char			 ferr[LEXRES_ERR_MAX] = "";
	int64_t			 now = clock_wall_ms();
	bool			 had;
	int			 rc, frc;

	memset(res, 0, sizeof(*res));
	if (!syntax_is_nsid(nsid, strlen(nsid))) {
		snprintf(res->error, sizeof(res->error), "Invalid NSID");
		return PDS_EINVAL;
	}
	rc = store_lexicon_get(nsid, &row);
	if (rc != PDS_OK && rc != PDS_ENOTFOUND)
		return rc;
	had = rc == PDS_OK;
	if (had && ((flags & LEXRES_CACHED) || (!(flags & LEXRES_REFRESH) &&
	    fresh(&row, now)))) {
		rc = serve_row(&row, res);
		res->cached = true;
		res->due = !fresh(&row, now);
		stats_add(rc == PDS_OK ? lr.hits : lr.failures_served, 1);
		store_lexicon_clear(&row);
		return rc;
	}
	if (flags & LEXRES_CACHED) {
		snprintf(res->error, sizeof(res->error), "Not in the cache");
		return PDS_ENOTFOUND;
	}
	memset(&f, 0, sizeof(f));
	f.nsid = nsid;
	f.err = ferr;
	f.errlen = sizeof(ferr);
	frc = fetch(&f);
	if (frc == PDS_OK || frc == PDS_ENOTFOUND)
		rc = record(nsid, &row, had, &f, frc, now, res);
	else {
		copy_str(res->error, sizeof(res->error), ferr);
		rc = frc;
	}
	if (rc != PDS_OK && rc != PDS_ENOTFOUND)
		log_info("lexicon: %s: %s", nsid, res->error);
	json_decref(f.doc);
	if (had)
		store_lexicon_clear(&row);
	return rc;
}

void
lexres_result_clear(struct lexres_result *res)
{
	json_decref(res->doc);
	res->doc = NULL;
}

int
lexres_forget(const char *nsid)
{
	return store_lexicon_delete(nsid);
}

int
lexres_permission_set(const char *nsid, json_t **main, char *err,
    size_t errlen)
{
	struct lexres_result	 res;
	json_t			*m;
	const char		*type;
	int			 rc;

	*main = NULL;
	rc = lexres_get(nsid, 0, &res);
	if (rc != PDS_OK) {
		if (res.error[0] != '\0')
			log_info("lexicon: %s: %s", nsid, res.error);
		snprintf(err, errlen, "Could not resolve Lexicon for NSID "
		    "(%s)", nsid);
		lexres_result_clear(&res);
		return rc == PDS_OK ? PDS_ENOTFOUND : rc;
	}
	m = json_object_get(json_object_get(res.doc, "defs"), "main");
	type = json_string_value(json_object_get(m, "type"));
	if (type == NULL || strcmp(type, "permission-set") != 0) {
		snprintf(err, errlen, "Lexicon document is not a permission "
		    "set (%s)", nsid);
		lexres_result_clear(&res);
		return PDS_EINVAL;
	}
	*main = json_incref(m);
	lexres_result_clear(&res);
	return PDS_OK;
}

/* ---- the module -------------------------------------------------------- */

static int
lexres_module_init(const struct config *cfg)
{
	struct lexres_config	 c;

	memset(&c, 0, sizeof(c));
	c.authority_did = cfg->lexicon_authority_did;
	c.stale_ms = cfg->lexicon_stale_ttl_ms;
	c.expiry_ms = cfg->lexicon_expiry_ttl_ms;
	c.failure_ms = cfg->lexicon_failure_ttl_ms;
	c.timeout_ms = (long)cfg->id_resolver_timeout_ms;
	if (cfg->dev_dns_server != NULL) {
		if (!cfg->dev_mode) {
			log_warnx("lexicon: PDS_DEV_DNS_SERVER needs "
			    "PDS_DEV_MODE=true");
			return -1;
		}
		if (resolver_set_dns_server(cfg->dev_dns_server) != PDS_OK) {
			log_warnx("lexicon: PDS_DEV_DNS_SERVER %s is not an "
			    "IPv4 address:port", cfg->dev_dns_server);
			return -1;
		}
	}
	lexres_records_enable(cfg->lexicon_resolve_records);
	return lexres_init(&c) == PDS_OK ? 0 : -1;
}

PDSD_MODULE(lexicon_resolve, lexres_module_init, lexres_shutdown);
