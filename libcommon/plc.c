/*
 * plc: did:plc operations: their life cycle, setters, the canonical
 * DAG-CBOR encoding, signatures, CIDs and DIDs, and lookups.  The JSON
 * forms and the checks on operations from outside are in plc_json.c.
 * See plc.h and atproto-notes §8.1.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cbor.h"
#include "cid.h"
#include "err.h"
#include "keys.h"
#include "multibase.h"
#include "plc.h"
#include "plc_int.h"

#define TRY(x) do { int rc_ = (x); if (rc_ != PDS_OK) return rc_; } while (0)

static const char ATPROTO_PDS_TYPE[] = "AtprotoPersonalDataServer";

/* ---- small helpers -------------------------------------------------- */

static char *
dupstr(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

/* Replace *slot by a copy of s (NULL clears it). */
static int
set_str(char **slot, const char *s)
{
	char	*n = NULL;

	if (s != NULL && (n = strdup(s)) == NULL)
		return PDS_ENOMEM;
	free(*slot);
	*slot = n;
	return PDS_OK;
}

/* Append a copy of s to the list v of *n strings (at most max). */
int
plc_strv_add(char **v, size_t *n, size_t max, const char *s)
{
	if (*n >= max)
		return PDS_ETOOBIG;
	if ((v[*n] = strdup(s)) == NULL)
		return PDS_ENOMEM;
	(*n)++;
	return PDS_OK;
}

/* Free the *n strings of v and empty the list. */
static void
strv_clear(char **v, size_t *n)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		free(v[i]);
	*n = 0;
}

/*
 * Copy the n strings of src into v and set *vn to n; false when a copy
 * failed (its slot is NULL, the list still freeable).
 */
static bool
strv_copy(char **v, size_t *vn, char *const *src, size_t n)
{
	size_t	i;
	bool	ok = true;

	for (i = 0; i < n; i++)
		if ((v[i] = strdup(src[i])) == NULL)
			ok = false;
	*vn = n;
	return ok;
}

/* A new string: prefix then s (at most cap bytes), or NULL. */
static char *
str_prefixed(const char *prefix, const char *s, size_t cap)
{
	struct buf	b;

	buf_init(&b, cap);
	if (buf_printf(&b, "%s%s", prefix, s) != PDS_OK) {
		buf_clear(&b);
		return NULL;
	}
	return (char *)buf_detach(&b, NULL);
}

static bool
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* A did:key of a k256 or p256 key (rotation keys must be one). */
bool
plc_is_rotation_didkey(const char *s, const char **why)
{
	struct pds_key	*k = NULL;
	size_t		 n = strlen(s);

	if (n > PLC_DIDKEY_MAX || !has_prefix(s, "did:key:")) {
		pds_fail(why, PDS_EINVAL, "rotation key is not a did:key");
		return false;
	}
	if (key_from_didkey(&k, s, n, why) != PDS_OK)
		return false;
	key_free(k);
	return true;
}

bool
plc_is_vm_didkey(const char *s)
{
	size_t	n = strlen(s);

	return n > 8 && n <= PLC_DIDKEY_MAX && has_prefix(s, "did:key:");
}

bool
plc_is_id(const char *s, size_t max)
{
	size_t	n = strlen(s);

	return n > 0 && n <= max && strchr(s, '#') == NULL;
}

bool
plc_is_cid_str(const char *s)
{
	struct cid	c;

	return cid_parse(&c, s, strlen(s), NULL) == PDS_OK;
}

/* ---- life cycle ----------------------------------------------------- */

struct plc_op *
plc_op_new(enum plc_op_type type)
{
	struct plc_op	*op;

	if (type != PLC_OP_OPERATION && type != PLC_OP_TOMBSTONE &&
	    type != PLC_OP_CREATE)
		return NULL;
	if ((op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->type = type;
	return op;
}

static void
op_clear_fields(struct plc_op *op)
{
	strv_clear(op->rotation_keys, &op->n_rotation_keys);
	plc_op_clear_vmethods(op);
	strv_clear(op->aka, &op->n_aka);
	plc_op_clear_services(op);
	free(op->signing_key);
	free(op->recovery_key);
	free(op->handle);
	free(op->service);
	free(op->prev);
	free(op->sig);
	memset(op, 0, sizeof(*op));
}

void
plc_op_free(struct plc_op *op)
{
	if (op == NULL)
		return;
	op_clear_fields(op);
	free(op);
}

struct plc_op *
plc_op_dup(const struct plc_op *src)
{
	struct plc_op	*op;
	size_t		 i;
	bool		 ok = true;

	if ((op = plc_op_new(src->type)) == NULL)
		return NULL;
	if (!strv_copy(op->rotation_keys, &op->n_rotation_keys,
	    src->rotation_keys, src->n_rotation_keys))
		ok = false;
	for (i = 0; i < src->n_vms; i++) {
		op->vms[i].id = dupstr(src->vms[i].id);
		op->vms[i].key = dupstr(src->vms[i].key);
		ok = ok && op->vms[i].id != NULL && op->vms[i].key != NULL;
	}
	op->n_vms = src->n_vms;
	if (!strv_copy(op->aka, &op->n_aka, src->aka, src->n_aka))
		ok = false;
	for (i = 0; i < src->n_services; i++) {
		op->services[i].id = dupstr(src->services[i].id);
		op->services[i].type = dupstr(src->services[i].type);
		op->services[i].endpoint = dupstr(src->services[i].endpoint);
		ok = ok && op->services[i].id != NULL &&
		    op->services[i].type != NULL &&
		    op->services[i].endpoint != NULL;
	}
	op->n_services = src->n_services;
#define DUPF(f) do { op->f = dupstr(src->f); \
	ok = ok && (src->f == NULL || op->f != NULL); } while (0)
	DUPF(signing_key);
	DUPF(recovery_key);
	DUPF(handle);
	DUPF(service);
	DUPF(prev);
	DUPF(sig);
#undef DUPF
	if (!ok) {
		plc_op_free(op);
		return NULL;
	}
	return op;
}

/* ---- setters -------------------------------------------------------- */

static void
op_unsign(struct plc_op *op)
{
	free(op->sig);
	op->sig = NULL;
}

/* Append s to one of op's string lists (v, *n, at most max). */
static int
op_list_add(struct plc_op *op, char **v, size_t *n, size_t max,
    const char *s)
{
	int	 rc;

	if ((rc = plc_strv_add(v, n, max, s)) == PDS_OK)
		op_unsign(op);
	return rc;
}

static void
op_list_clear(struct plc_op *op, char **v, size_t *n)
{
	strv_clear(v, n);
	op_unsign(op);
}

int
plc_op_add_rotation_key(struct plc_op *op, const char *didkey)
{
	if (op->type != PLC_OP_OPERATION ||
	    !plc_is_rotation_didkey(didkey, NULL))
		return PDS_EINVAL;
	return op_list_add(op, op->rotation_keys, &op->n_rotation_keys,
	    PLC_MAX_ROTATION_KEYS, didkey);
}

void
plc_op_clear_rotation_keys(struct plc_op *op)
{
	op_list_clear(op, op->rotation_keys, &op->n_rotation_keys);
}

static void
vmethod_clear(struct plc_vmethod *v)
{
	free(v->id);
	free(v->key);
	v->id = v->key = NULL;
}

int
plc_op_set_vmethod(struct plc_op *op, const char *id, const char *didkey)
{
	size_t	i;

	if (op->type != PLC_OP_OPERATION || !plc_is_id(id, PLC_TYPE_MAX) ||
	    !plc_is_vm_didkey(didkey))
		return PDS_EINVAL;
	for (i = 0; i < op->n_vms; i++)
		if (strcmp(op->vms[i].id, id) == 0) {
			op_unsign(op);
			return set_str(&op->vms[i].key, didkey);
		}
	if (op->n_vms >= PLC_MAX_VMS)
		return PDS_ETOOBIG;
	op->vms[i].id = strdup(id);
	op->vms[i].key = strdup(didkey);
	if (op->vms[i].id == NULL || op->vms[i].key == NULL) {
		vmethod_clear(&op->vms[i]);
		return PDS_ENOMEM;
	}
	op->n_vms++;
	op_unsign(op);
	return PDS_OK;
}

void
plc_op_clear_vmethods(struct plc_op *op)
{
	size_t	i;

	for (i = 0; i < op->n_vms; i++)
		vmethod_clear(&op->vms[i]);
	op->n_vms = 0;
	op_unsign(op);
}

int
plc_op_add_aka(struct plc_op *op, const char *uri)
{
	size_t	i;

	if (op->type != PLC_OP_OPERATION || strlen(uri) > PLC_AKA_MAX)
		return PDS_EINVAL;
	for (i = 0; i < op->n_aka; i++)
		if (strcmp(op->aka[i], uri) == 0)
			return PDS_EEXIST;
	return op_list_add(op, op->aka, &op->n_aka, PLC_MAX_AKA, uri);
}

void
plc_op_clear_aka(struct plc_op *op)
{
	op_list_clear(op, op->aka, &op->n_aka);
}

int
plc_op_set_service(struct plc_op *op, const char *id, const char *type,
    const char *endpoint)
{
	struct plc_service	*s;
	char			*t, *e;
	size_t			 i;

	if (op->type != PLC_OP_OPERATION || !plc_is_id(id, PLC_ID_MAX) ||
	    strlen(type) > PLC_TYPE_MAX || strlen(endpoint) > PLC_ENDPOINT_MAX)
		return PDS_EINVAL;
	for (i = 0; i < op->n_services; i++)
		if (strcmp(op->services[i].id, id) == 0)
			break;
	if (i == PLC_MAX_SERVICES)
		return PDS_ETOOBIG;
	s = &op->services[i];
	t = strdup(type);
	e = strdup(endpoint);
	if (t == NULL || e == NULL || (i == op->n_services &&
	    (s->id = strdup(id)) == NULL)) {
		free(t);
		free(e);
		return PDS_ENOMEM;
	}
	free(s->type);
	free(s->endpoint);
	s->type = t;
	s->endpoint = e;
	if (i == op->n_services)
		op->n_services++;
	op_unsign(op);
	return PDS_OK;
}

void
plc_op_clear_services(struct plc_op *op)
{
	size_t	i;

	for (i = 0; i < op->n_services; i++) {
		free(op->services[i].id);
		free(op->services[i].type);
		free(op->services[i].endpoint);
		op->services[i].id = op->services[i].type =
		    op->services[i].endpoint = NULL;
	}
	op->n_services = 0;
	op_unsign(op);
}

int
plc_op_set_prev(struct plc_op *op, const char *cid)
{
	if (cid != NULL && !plc_is_cid_str(cid))
		return PDS_EINVAL;
	op_unsign(op);
	return set_str(&op->prev, cid);
}

int
plc_op_build(struct plc_op **out, const char *const *rotation_keys,
    size_t n_rotation_keys, const char *signing_didkey, const char *handle,
    const char *pds_endpoint, const char *prev)
{
	struct plc_op	*op;
	struct buf	 aka;
	size_t		 i;
	int		 rc = PDS_OK;

	*out = NULL;
	if ((op = plc_op_new(PLC_OP_OPERATION)) == NULL)
		return PDS_ENOMEM;
	buf_init(&aka, PLC_AKA_MAX + 1);
	for (i = 0; rc == PDS_OK && i < n_rotation_keys; i++)
		rc = plc_op_add_rotation_key(op, rotation_keys[i]);
	if (rc == PDS_OK && signing_didkey != NULL)
		rc = plc_op_set_vmethod(op, "atproto", signing_didkey);
	if (rc == PDS_OK && handle != NULL) {
		if ((rc = buf_printf(&aka, "at://%s", handle)) == PDS_OK)
			rc = plc_op_add_aka(op, (char *)aka.p);
	}
	if (rc == PDS_OK && pds_endpoint != NULL)
		rc = plc_op_set_service(op, "atproto_pds", ATPROTO_PDS_TYPE,
		    pds_endpoint);
	if (rc == PDS_OK)
		rc = plc_op_set_prev(op, prev);
	buf_clear(&aka);
	if (rc != PDS_OK) {
		plc_op_free(op);
		return rc;
	}
	*out = op;
	return PDS_OK;
}

/* "at://" + handle, after dropping an http(s):// the legacy field had. */
static char *
ensure_atproto_prefix(const char *s)
{
	if (has_prefix(s, "at://"))
		return strdup(s);
	if (has_prefix(s, "http://"))
		s += 7;
	else if (has_prefix(s, "https://"))
		s += 8;
	return str_prefixed("at://", s, PLC_AKA_MAX + 64);
}

static char *
ensure_http_prefix(const char *s)
{
	if (has_prefix(s, "http://") || has_prefix(s, "https://"))
		return strdup(s);
	return str_prefixed("https://", s, PLC_ENDPOINT_MAX + 64);
}

int
plc_op_normalize(struct plc_op *op)
{
	struct plc_op	 n;
	char		*aka, *ep;

	if (op->type != PLC_OP_CREATE)
		return PDS_OK;
	if (op->handle == NULL || op->service == NULL ||
	    op->signing_key == NULL || op->recovery_key == NULL)
		return PDS_EINVAL;
	memset(&n, 0, sizeof(n));
	aka = ensure_atproto_prefix(op->handle);
	ep = ensure_http_prefix(op->service);
	n.type = PLC_OP_OPERATION;
	n.rotation_keys[0] = dupstr(op->recovery_key);
	n.rotation_keys[1] = dupstr(op->signing_key);
	n.n_rotation_keys = 2;
	n.vms[0].id = strdup("atproto");
	n.vms[0].key = dupstr(op->signing_key);
	n.n_vms = 1;
	n.aka[0] = aka;
	n.n_aka = 1;
	n.services[0].id = strdup("atproto_pds");
	n.services[0].type = strdup(ATPROTO_PDS_TYPE);
	n.services[0].endpoint = ep;
	n.n_services = 1;
	n.prev = dupstr(op->prev);
	n.sig = dupstr(op->sig);
	if (aka == NULL || ep == NULL || n.rotation_keys[0] == NULL ||
	    n.rotation_keys[1] == NULL || n.vms[0].id == NULL ||
	    n.vms[0].key == NULL || n.services[0].id == NULL ||
	    n.services[0].type == NULL ||
	    (op->prev != NULL && n.prev == NULL) ||
	    (op->sig != NULL && n.sig == NULL)) {
		op_clear_fields(&n);
		return PDS_ENOMEM;
	}
	op_clear_fields(op);
	*op = n;
	return PDS_OK;
}

int
plc_op_next(const struct plc_op *last, struct plc_op **out)
{
	struct plc_op	*op;
	char		 cid[CID_STR_MAX];
	int		 rc;

	*out = NULL;
	if (last->type == PLC_OP_TOMBSTONE || last->sig == NULL)
		return PDS_EINVAL;
	TRY(plc_op_cid_str(last, cid, sizeof(cid)));
	if ((op = plc_op_dup(last)) == NULL)
		return PDS_ENOMEM;
	if ((rc = plc_op_normalize(op)) != PDS_OK ||
	    (rc = plc_op_set_prev(op, cid)) != PDS_OK) {
		plc_op_free(op);
		return rc;
	}
	op_unsign(op);
	*out = op;
	return PDS_OK;
}

/* ---- canonical CBOR ------------------------------------------------- */

/* Canonical order of map keys: shorter first, then bytewise. */
static int
key_cmp(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(a, b, la);
}

/* Fill idx[0..n) with the indices of keys[] in canonical order. */
static void
sort_idx(size_t *idx, const char *const *keys, size_t n)
{
	size_t	i, j, t;

	for (i = 0; i < n; i++)
		idx[i] = i;
	for (i = 1; i < n; i++)	/* n <= 10: insertion sort */
		for (j = i; j > 0 && key_cmp(keys[idx[j - 1]],
		    keys[idx[j]]) > 0; j--) {
			t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
}

/* A map entry whose key and value are both text. */
static int
put_str_pair(struct buf *b, const char *key, const char *value)
{
	TRY(cbor_put_str(b, key));
	return cbor_put_str(b, value);
}

/* A map entry whose value is an array of n strings. */
static int
put_str_array(struct buf *b, const char *key, char *const *v, size_t n)
{
	size_t	i;

	TRY(cbor_put_str(b, key));
	TRY(cbor_put_array(b, n));
	for (i = 0; i < n; i++)
		TRY(cbor_put_str(b, v[i]));
	return PDS_OK;
}

static int
put_opt_str(struct buf *b, const char *s)
{
	return s == NULL ? cbor_put_null(b) : cbor_put_str(b, s);
}

static int
encode_operation(const struct plc_op *op, struct buf *b)
{
	const char	*keys[PLC_MAX_SERVICES > PLC_MAX_VMS ?
			    PLC_MAX_SERVICES : PLC_MAX_VMS];
	size_t		 idx[sizeof(keys) / sizeof(keys[0])], i;

	/* services */
	TRY(cbor_put_str(b, "services"));
	for (i = 0; i < op->n_services; i++)
		keys[i] = op->services[i].id;
	sort_idx(idx, keys, op->n_services);
	TRY(cbor_put_map(b, op->n_services));
	for (i = 0; i < op->n_services; i++) {
		const struct plc_service *s = &op->services[idx[i]];
		TRY(cbor_put_str(b, s->id));
		TRY(cbor_put_map(b, 2));
		TRY(put_str_pair(b, "type", s->type));
		TRY(put_str_pair(b, "endpoint", s->endpoint));
	}
	TRY(put_str_array(b, "alsoKnownAs", op->aka, op->n_aka));
	TRY(put_str_array(b, "rotationKeys", op->rotation_keys,
	    op->n_rotation_keys));
	/* verificationMethods */
	TRY(cbor_put_str(b, "verificationMethods"));
	for (i = 0; i < op->n_vms; i++)
		keys[i] = op->vms[i].id;
	sort_idx(idx, keys, op->n_vms);
	TRY(cbor_put_map(b, op->n_vms));
	for (i = 0; i < op->n_vms; i++)
		TRY(put_str_pair(b, op->vms[idx[i]].id, op->vms[idx[i]].key));
	return PDS_OK;
}

int
plc_op_encode(const struct plc_op *op, bool with_sig, struct buf *b)
{
	size_t	nfields;

	if (with_sig && op->sig == NULL)
		return PDS_EINVAL;
	switch (op->type) {
	case PLC_OP_OPERATION:
		nfields = 6;
		break;
	case PLC_OP_TOMBSTONE:
		if (op->prev == NULL)
			return PDS_EINVAL;
		nfields = 2;
		break;
	case PLC_OP_CREATE:
		if (op->signing_key == NULL || op->recovery_key == NULL ||
		    op->handle == NULL || op->service == NULL)
			return PDS_EINVAL;
		nfields = 6;
		break;
	default:
		return PDS_EINVAL;
	}
	/* Order: sig, prev, type, then the type's own fields. */
	TRY(cbor_put_map(b, nfields + (with_sig ? 1 : 0)));
	if (with_sig)
		TRY(put_str_pair(b, "sig", op->sig));
	TRY(cbor_put_str(b, "prev"));
	TRY(put_opt_str(b, op->prev));
	TRY(cbor_put_str(b, "type"));
	switch (op->type) {
	case PLC_OP_OPERATION:
		TRY(cbor_put_str(b, "plc_operation"));
		return encode_operation(op, b);
	case PLC_OP_TOMBSTONE:
		return cbor_put_str(b, "plc_tombstone");
	default:
		TRY(cbor_put_str(b, "create"));
		TRY(put_str_pair(b, "handle", op->handle));
		TRY(put_str_pair(b, "service", op->service));
		TRY(put_str_pair(b, "signingKey", op->signing_key));
		return put_str_pair(b, "recoveryKey", op->recovery_key);
	}
}

/* ---- signatures, CIDs and DIDs -------------------------------------- */

int
plc_op_sign(struct plc_op *op, const struct pds_key *key)
{
	struct buf	 b;
	uint8_t		 sig[KEY_SIG_LEN];
	char		 s[B64_ENC_LEN(KEY_SIG_LEN) + 1];
	int		 rc;

	op_unsign(op);
	buf_init(&b, PLC_OP_MAX_BYTES);
	if ((rc = plc_op_encode(op, false, &b)) == PDS_OK)
		rc = key_sign(key, b.p, b.len, sig);
	buf_clear(&b);
	if (rc != PDS_OK)
		return rc;
	if (b64url_encode(s, sizeof(s), sig, sizeof(sig)) != PLC_SIG_B64_LEN)
		return PDS_EINTERNAL;
	return set_str(&op->sig, s);
}

int
plc_op_verify(const struct plc_op *op, const char *const *didkeys, size_t n,
    size_t *which, const char **why)
{
	struct buf	 b;
	struct pds_key	*k;
	uint8_t		 sig[PLC_SIG_LEN + 3];
	size_t		 i;
	long		 siglen;
	int		 rc;

	if (op->sig == NULL)
		return pds_fail(why, PDS_ECRYPTO, "operation is not signed");
	siglen = b64url_decode(sig, sizeof(sig), op->sig, strlen(op->sig));
	if (siglen != PLC_SIG_LEN)
		return pds_fail(why, PDS_ECRYPTO, "signature is not 64 bytes "
		    "of base64url");
	buf_init(&b, PLC_OP_MAX_BYTES);
	if ((rc = plc_op_encode(op, false, &b)) != PDS_OK) {
		buf_clear(&b);
		return pds_fail(why, rc, "operation cannot be encoded");
	}
	rc = PDS_ECRYPTO;
	for (i = 0; i < n && rc != PDS_OK; i++) {
		k = NULL;
		if (didkeys[i] == NULL || key_from_didkey(&k, didkeys[i],
		    strlen(didkeys[i]), NULL) != PDS_OK)
			continue;
		if (key_verify(k, b.p, b.len, sig, PLC_SIG_LEN) == PDS_OK) {
			rc = PDS_OK;
			if (which != NULL)
				*which = i;
		}
		key_free(k);
	}
	buf_clear(&b);
	if (rc != PDS_OK)
		return pds_fail(why, rc, "invalid signature");
	return PDS_OK;
}

static int
encode_signed(const struct plc_op *op, struct buf *b)
{
	buf_init(b, PLC_OP_MAX_BYTES * 2);
	if (op->sig == NULL)
		return PDS_EINVAL;
	return plc_op_encode(op, true, b);
}

int
plc_op_cid(const struct plc_op *op, struct cid *out)
{
	struct buf	b;
	int		rc;

	if ((rc = encode_signed(op, &b)) == PDS_OK)
		cid_compute(out, CID_CODEC_DAGCBOR, b.p, b.len);
	buf_clear(&b);
	return rc;
}

int
plc_op_cid_str(const struct plc_op *op, char *out, size_t cap)
{
	struct cid	c;

	TRY(plc_op_cid(op, &c));
	return cid_format(&c, out, cap) < 0 ? PDS_ETOOBIG : PDS_OK;
}

int
plc_op_did(const struct plc_op *op, char out[PLC_DID_BUF])
{
	struct buf	b;
	uint8_t		h[32];
	char		s[B32_ENC_LEN(32) + 1];
	int		rc;

	if (op->prev != NULL)
		return PDS_EINVAL;
	if ((rc = encode_signed(op, &b)) == PDS_OK)
		sha256(h, b.p, b.len);
	buf_clear(&b);
	if (rc != PDS_OK)
		return rc;
	if (b32_encode(s, sizeof(s), h, sizeof(h)) < 24)
		return PDS_EINTERNAL;
	memcpy(out, "did:plc:", 8);
	memcpy(out + 8, s, 24);
	out[PLC_DID_LEN] = '\0';
	return PDS_OK;
}

/* ---- lookups -------------------------------------------------------- */

const char *
plc_op_vmethod(const struct plc_op *op, const char *id)
{
	size_t	i;

	for (i = 0; i < op->n_vms; i++)
		if (strcmp(op->vms[i].id, id) == 0)
			return op->vms[i].key;
	return NULL;
}

const struct plc_service *
plc_op_service(const struct plc_op *op, const char *id)
{
	size_t	i;

	for (i = 0; i < op->n_services; i++)
		if (strcmp(op->services[i].id, id) == 0)
			return &op->services[i];
	return NULL;
}

const char *
plc_op_handle(const struct plc_op *op)
{
	size_t	i;

	for (i = 0; i < op->n_aka; i++)
		if (has_prefix(op->aka[i], "at://"))
			return op->aka[i] + 5;
	return NULL;
}
