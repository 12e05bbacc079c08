/*
 * diddoc: DID documents, their atproto fields, and the small text forms
 * around DID and handle resolution.  See diddoc.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "diddoc.h"
#include "err.h"
#include "keys.h"
#include "plc.h"
#include "syntax.h"

static const char PDS_SERVICE_TYPE[] = "AtprotoPersonalDataServer";

/* A JSON string without NULs, or NULL. */
static const char *
jstr(const json_t *v)
{
	const char	*s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	return strlen(s) == json_string_length(v) ? s : NULL;
}

/* Copy s (n bytes) into out as a C string; PDS_ETOOBIG if it won't fit. */
static int
copy_out(char *out, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return PDS_ETOOBIG;
	memcpy(out, s, n);
	out[n] = '\0';
	return PDS_OK;
}

/*
 * The fragment a caller names, accepted as "frag", "#frag" or
 * "<did>#frag".
 */
static const char *
bare_fragment(const char *id, const char *did)
{
	size_t	dl = strlen(did);

	if (strncmp(id, did, dl) == 0 && id[dl] == '#')
		return id + dl + 1;
	if (id[0] == '#')
		return id + 1;
	return id;
}

/* Does a document entry's id name fragment `frag` of `did`? */
static bool
id_matches(const char *entry_id, const char *did, const char *frag)
{
	size_t	dl = strlen(did);

	if (entry_id[0] == '#')
		return strcmp(entry_id + 1, frag) == 0;
	return strncmp(entry_id, did, dl) == 0 && entry_id[dl] == '#' &&
	    strcmp(entry_id + dl + 1, frag) == 0;
}

/* An optional array member: NULL if absent, error if not an array. */
static int
opt_array(const json_t *doc, const char *name, json_t **out,
    const char **why)
{
	json_t	*v = json_object_get(doc, name);

	*out = NULL;
	if (v == NULL)
		return PDS_OK;
	if (!json_is_array(v))
		return pds_fail(why, PDS_EINVAL, "document field is not an "
		    "array");
	if (json_array_size(v) > DIDDOC_MAX_ITEMS)
		return pds_fail(why, PDS_ETOOBIG, "too many entries in a "
		    "document array");
	*out = v;
	return PDS_OK;
}

static int
check_doc(const json_t *doc, const char *did, const char **why)
{
	const char	*id;

	if (!json_is_object(doc))
		return pds_fail(why, PDS_EINVAL, "document is not an object");
	if ((id = jstr(json_object_get(doc, "id"))) == NULL)
		return pds_fail(why, PDS_EINVAL, "document has no id");
	if (strcmp(id, did) != 0)
		return pds_fail(why, PDS_EINVAL, "document id is not the DID");
	return PDS_OK;
}

/* ---- endpoints ------------------------------------------------------ */

static bool
host_char(char c)
{
	return isascii((unsigned char)c) && (isalnum((unsigned char)c) ||
	    c == '-' || c == '.');
}

int
diddoc_check_endpoint(const char *url, char *out, size_t cap,
    const char **why)
{
	const char	*rest, *tail, *host, *port = NULL;
	size_t		 alen, hlen, i, slen;
	unsigned long	 pv;
	bool		 tls;

	if (strlen(url) > DIDDOC_ENDPOINT_MAX)
		return pds_fail(why, PDS_EINVAL, "endpoint too long");
	if (strncasecmp(url, "https://", 8) == 0) {
		tls = true;
		rest = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		tls = false;
		rest = url + 7;
	} else
		return pds_fail(why, PDS_EINVAL, "endpoint is not http(s)");
	alen = strcspn(rest, "/?#");
	tail = rest + alen;
	if (!(tail[0] == '\0' || (tail[0] == '/' && tail[1] == '\0')))
		return pds_fail(why, PDS_EINVAL, "endpoint has a path, query "
		    "or fragment");
	if (alen == 0)
		return pds_fail(why, PDS_EINVAL, "endpoint has no host");
	host = rest;
	if (host[0] == '[') {
		for (i = 1; i < alen && host[i] != ']'; i++)
			if (!isxdigit((unsigned char)host[i]) &&
			    host[i] != ':' && host[i] != '.')
				return pds_fail(why, PDS_EINVAL,
				    "bad IPv6 literal");
		if (i == alen || i < 3)
			return pds_fail(why, PDS_EINVAL, "bad IPv6 literal");
		hlen = i + 1;
	} else {
		for (hlen = 0; hlen < alen && host[hlen] != ':'; hlen++)
			if (!host_char(host[hlen]))
				return pds_fail(why, PDS_EINVAL,
				    "bad character in endpoint host");
		if (hlen == 0 || host[0] == '.' || host[0] == '-' ||
		    memmem(host, hlen, "..", 2) != NULL)
			return pds_fail(why, PDS_EINVAL, "bad endpoint host");
	}
	if (hlen < alen) {
		if (host[hlen] != ':')
			return pds_fail(why, PDS_EINVAL, "bad endpoint host");
		port = host + hlen + 1;
		slen = alen - hlen - 1;
		if (slen < 1 || slen > 5)
			return pds_fail(why, PDS_EINVAL, "bad endpoint port");
		for (pv = 0, i = 0; i < slen; i++) {
			if (!isdigit((unsigned char)port[i]))
				return pds_fail(why, PDS_EINVAL,
				    "bad endpoint port");
			pv = pv * 10 + (unsigned long)(port[i] - '0');
		}
		if (pv < 1 || pv > 65535)
			return pds_fail(why, PDS_EINVAL, "bad endpoint port");
	}
	if (out == NULL)
		return PDS_OK;
	slen = tls ? 8 : 7;
	if (slen + alen >= cap)
		return pds_fail(why, PDS_ETOOBIG, "endpoint too long");
	memcpy(out, tls ? "https://" : "http://", slen);
	memcpy(out + slen, rest, alen);
	out[slen + alen] = '\0';
	return PDS_OK;
}

/*
 * The entry of doc's array `member` whose id is ref (with or without
 * the DID before its '#'); PDS_ENOTFOUND and `missing` if none is.
 */
static int
find_entry(const json_t *doc, const char *did, const char *member,
    const char *ref, const char *missing, json_t **out, const char **why)
{
	json_t		*arr, *e;
	const char	*frag, *id;
	size_t		 i;

	if (check_doc(doc, did, why) != PDS_OK)
		return PDS_EINVAL;
	if (opt_array(doc, member, &arr, why) != PDS_OK)
		return PDS_EINVAL;
	frag = bare_fragment(ref, did);
	json_array_foreach(arr, i, e) {
		if ((id = jstr(json_object_get(e, "id"))) != NULL &&
		    id_matches(id, did, frag)) {
			*out = e;
			return PDS_OK;
		}
	}
	return pds_fail(why, PDS_ENOTFOUND, missing);
}

int
diddoc_get_service(const json_t *doc, const char *did,
    const char *service_id, const char *type, char *out, size_t cap,
    const char **why)
{
	json_t		*e;
	const char	*t, *ep;
	int		 rc;

	if ((rc = find_entry(doc, did, "service", service_id,
	    "no such service", &e, why)) != PDS_OK)
		return rc;
	t = jstr(json_object_get(e, "type"));
	if (type != NULL && (t == NULL || strcmp(t, type) != 0))
		return pds_fail(why, PDS_ENOTFOUND,
		    "service is of another type");
	if ((ep = jstr(json_object_get(e, "serviceEndpoint"))) == NULL)
		return pds_fail(why, PDS_EINVAL,
		    "service endpoint is not a string");
	return diddoc_check_endpoint(ep, out, cap, why);
}

/* ---- keys ----------------------------------------------------------- */

int
diddoc_get_key(const json_t *doc, const char *did, const char *key_id,
    struct pds_key **out, const char **why)
{
	json_t		*e;
	const char	*t, *mb;
	int		 rc;

	*out = NULL;
	if ((rc = find_entry(doc, did, "verificationMethod", key_id,
	    "no such verification method", &e, why)) != PDS_OK)
		return rc;
	t = jstr(json_object_get(e, "type"));
	mb = jstr(json_object_get(e, "publicKeyMultibase"));
	if (t == NULL || mb == NULL)
		return pds_fail(why, PDS_EUNSUPP, "verification method "
		    "has no type or publicKeyMultibase");
	return key_from_legacy_multibase(out, t, mb, strlen(mb), why);
}

int
diddoc_get_didkey(const json_t *doc, const char *did, const char *key_id,
    char *out, size_t cap, const char **why)
{
	struct pds_key	*k = NULL;
	int		 rc;

	if ((rc = diddoc_get_key(doc, did, key_id, &k, why)) != PDS_OK)
		return rc;
	rc = key_to_didkey(k, out, cap) < 0 ? PDS_ETOOBIG : PDS_OK;
	key_free(k);
	return rc;
}

/* ---- the atproto view ----------------------------------------------- */

void
diddoc_clear(struct diddoc *d)
{
	free(d->did);
	free(d->signing_key);
	free(d->handle);
	free(d->pds);
	memset(d, 0, sizeof(*d));
}

int
diddoc_parse(const json_t *doc, const char *did, struct diddoc *out,
    const char **why)
{
	json_t		*aka, *vm, *svc, *e;
	const char	*s;
	char		 h[HANDLE_MAX + 1], k[KEY_DIDKEY_MAX];
	char		 ep[DIDDOC_ENDPOINT_MAX + 1];
	size_t		 i;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_doc(doc, did, why)) != PDS_OK)
		return rc;
	if ((rc = opt_array(doc, "alsoKnownAs", &aka, why)) != PDS_OK ||
	    (rc = opt_array(doc, "verificationMethod", &vm, why)) != PDS_OK ||
	    (rc = opt_array(doc, "service", &svc, why)) != PDS_OK)
		return rc;
	if ((out->did = strdup(did)) == NULL)
		return PDS_ENOMEM;

	json_array_foreach(aka, i, e) {
		if ((s = jstr(e)) == NULL || strncmp(s, "at://", 5) != 0)
			continue;
		if (handle_normalize(h, sizeof(h), s + 5, strlen(s + 5)) > 0 &&
		    (out->handle = strdup(h)) == NULL)
			goto nomem;
		break;
	}
	if (diddoc_get_didkey(doc, did, "atproto", k, sizeof(k), NULL) ==
	    PDS_OK && (out->signing_key = strdup(k)) == NULL)
		goto nomem;
	if (diddoc_get_service(doc, did, "atproto_pds", PDS_SERVICE_TYPE, ep,
	    sizeof(ep), NULL) == PDS_OK && (out->pds = strdup(ep)) == NULL)
		goto nomem;
	return PDS_OK;
nomem:
	diddoc_clear(out);
	return PDS_ENOMEM;
}

int
diddoc_require_atproto(const struct diddoc *d, const char **why)
{
	if (d->did == NULL)
		return pds_fail(why, PDS_EINVAL, "document has no DID");
	if (d->signing_key == NULL)
		return pds_fail(why, PDS_EINVAL, "document has no usable "
		    "#atproto signing key");
	if (d->handle == NULL)
		return pds_fail(why, PDS_EINVAL, "document has no valid "
		    "at:// handle");
	if (d->pds == NULL)
		return pds_fail(why, PDS_EINVAL, "document has no valid "
		    "#atproto_pds endpoint");
	return PDS_OK;
}

static int
set_opt(json_t *o, const char *k, const char *v)
{
	if (v == NULL)
		return PDS_OK;
	return json_object_set_new(o, k, json_string(v)) == 0 ? PDS_OK :
	    PDS_ENOMEM;
}

int
diddoc_atproto_data_json(const struct diddoc *d, json_t **out)
{
	json_t	*o;

	*out = NULL;
	if ((o = json_object()) == NULL)
		return PDS_ENOMEM;
	if (set_opt(o, "did", d->did) != PDS_OK ||
	    set_opt(o, "signingKey", d->signing_key) != PDS_OK ||
	    set_opt(o, "handle", d->handle) != PDS_OK ||
	    set_opt(o, "pds", d->pds) != PDS_OK) {
		json_decref(o);
		return PDS_ENOMEM;
	}
	*out = o;
	return PDS_OK;
}

/* ---- references and the documents PLC serves ------------------------ */

int
diddoc_split_service_ref(const char *ref, char *did, size_t didcap,
    char *frag, size_t fragcap)
{
	const char	*h = strchr(ref, '#');
	size_t		 dl, fl;

	if (h == NULL)
		return PDS_EINVAL;
	dl = (size_t)(h - ref);
	fl = strlen(h + 1);
	if (!syntax_is_did(ref, dl) || fl < 1 || fl > DIDDOC_ID_MAX ||
	    strchr(h + 1, '#') != NULL)
		return PDS_EINVAL;
	if (copy_out(did, didcap, ref, dl) != PDS_OK ||
	    copy_out(frag, fragcap, h + 1, fl) != PDS_OK)
		return PDS_ETOOBIG;
	return PDS_OK;
}

/* Append a @context entry unless it is there already. */
static int
ctx_add(json_t *ctx, const char *url)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(ctx, i, e)
		if (strcmp(json_string_value(e), url) == 0)
			return PDS_OK;
	return json_array_append_new(ctx, json_string(url)) == 0 ? PDS_OK :
	    PDS_ENOMEM;
}

static int
build_plc_doc(const struct plc_op *op, const char *did, json_t *doc)
{
	json_t		*ctx, *aka, *vms, *svcs, *e;
	struct pds_key	*k;
	const char	*suite;
	char		 id[DID_MAX + DIDDOC_ID_MAX + 2];
	size_t		 i;

	ctx = json_pack("[s, s]", "https://www.w3.org/ns/did/v1",
	    "https://w3id.org/security/multikey/v1");
	aka = json_array();
	vms = json_array();
	svcs = json_array();
	if (json_object_set_new(doc, "@context", ctx) != 0 ||
	    json_object_set_new(doc, "id", json_string(did)) != 0 ||
	    json_object_set_new(doc, "alsoKnownAs", aka) != 0 ||
	    json_object_set_new(doc, "verificationMethod", vms) != 0 ||
	    json_object_set_new(doc, "service", svcs) != 0)
		return PDS_ENOMEM;
	for (i = 0; i < op->n_aka; i++)
		if (json_array_append_new(aka, json_string(op->aka[i])) != 0)
			return PDS_ENOMEM;
	for (i = 0; i < op->n_vms; i++) {
		const char *dk = op->vms[i].key;

		if (key_from_didkey(&k, dk, strlen(dk), NULL) != PDS_OK)
			continue;
		suite = key_type(k) == KEY_K256 ?
		    "https://w3id.org/security/suites/secp256k1-2019/v1" :
		    "https://w3id.org/security/suites/ecdsa-2019/v1";
		key_free(k);
		if (ctx_add(ctx, suite) != PDS_OK)
			return PDS_ENOMEM;
		snprintf(id, sizeof(id), "%s#%s", did, op->vms[i].id);
		e = json_pack("{s:s, s:s, s:s, s:s}", "id", id,
		    "type", "Multikey", "controller", did,
		    "publicKeyMultibase", dk + 8);
		if (json_array_append_new(vms, e) != 0)
			return PDS_ENOMEM;
	}
	for (i = 0; i < op->n_services; i++) {
		snprintf(id, sizeof(id), "#%s", op->services[i].id);
		e = json_pack("{s:s, s:s, s:s}", "id", id,
		    "type", op->services[i].type,
		    "serviceEndpoint", op->services[i].endpoint);
		if (json_array_append_new(svcs, e) != 0)
			return PDS_ENOMEM;
	}
	return PDS_OK;
}

int
diddoc_from_plc_op(const struct plc_op *op, const char *did, json_t **out)
{
	struct plc_op	*n = NULL;
	json_t		*doc;
	int		 rc;

	*out = NULL;
	if (op->type == PLC_OP_TOMBSTONE || !syntax_is_did(did, strlen(did)))
		return PDS_EINVAL;
	if (op->type == PLC_OP_CREATE) {
		if ((n = plc_op_dup(op)) == NULL)
			return PDS_ENOMEM;
		if ((rc = plc_op_normalize(n)) != PDS_OK) {
			plc_op_free(n);
			return rc;
		}
		op = n;
	}
	if ((doc = json_object()) == NULL)
		rc = PDS_ENOMEM;
	else
		rc = build_plc_doc(op, did, doc);
	plc_op_free(n);
	if (rc != PDS_OK) {
		json_decref(doc);
		return rc;
	}
	*out = doc;
	return PDS_OK;
}

/* ---- did:web and handle resolution texts ---------------------------- */

int
diddoc_web_url(const char *did, char *out, size_t cap)
{
	const char	*host;
	char		 h[HANDLE_MAX + 16];
	const char	*pct;
	size_t		 hl;
	int		 n;
	bool		 local;

	if (!did_is_web(did, strlen(did)))
		return PDS_EUNSUPP;
	host = did + 8;
	if ((pct = strchr(host, '%')) != NULL) {
		/* did_is_web() allowed only localhost%3A<digits>. */
		hl = (size_t)(pct - host);
		n = snprintf(h, sizeof(h), "%.*s:%s", (int)hl, host, pct + 3);
	} else {
		hl = strlen(host);
		n = snprintf(h, sizeof(h), "%s", host);
	}
	if (n < 0 || (size_t)n >= sizeof(h))
		return PDS_EINVAL;
	local = hl == 9 && strncasecmp(host, "localhost", 9) == 0;
	n = snprintf(out, cap, "%s://%s/.well-known/did.json",
	    local ? "http" : "https", h);
	if (n < 0 || (size_t)n >= cap)
		return PDS_ETOOBIG;
	return PDS_OK;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int
diddoc_parse_atproto_did(const char *body, size_t len, char *out, size_t cap)
{
	const char	*nl, *s = body, *e;

	if ((nl = memchr(body, '\n', len)) != NULL)
		len = (size_t)(nl - body);
	e = body + len;
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	if (e - s < 4 || memcmp(s, "did:", 4) != 0 ||
	    !syntax_is_did(s, (size_t)(e - s)))
		return PDS_EINVAL;
	return copy_out(out, cap, s, (size_t)(e - s));
}

int
diddoc_pick_txt_did(const char *const *records, const size_t *lens,
    size_t n, char *out, size_t cap)
{
	size_t	i, found = n;

	for (i = 0; i < n; i++) {
		if (lens[i] < 4 || memcmp(records[i], "did=", 4) != 0)
			continue;
		if (found != n)
			return PDS_EINVAL;	/* more than one */
		found = i;
	}
	if (found == n)
		return PDS_ENOTFOUND;
	if (!syntax_is_did(records[found] + 4, lens[found] - 4))
		return PDS_EINVAL;
	return copy_out(out, cap, records[found] + 4, lens[found] - 4);
}
