/*
 * plc_json: did:plc operations as JSON: the directory's form both ways
 * (plc_op_to_json, plc_op_from_json with its checks on an operation from
 * outside), the checks before one is sent (plc_op_check_submit), and
 * the DID data view (plc_op_data_json).  See plc.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cid.h"
#include "err.h"
#include "multibase.h"
#include "plc.h"
#include "plc_int.h"

/* ---- JSON ----------------------------------------------------------- */

static int
obj_set(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v) == 0 ? PDS_OK : PDS_ENOMEM;
}

static json_t *
jstr_or_null(const char *s)
{
	return s == NULL ? json_null() : json_string(s);
}

static json_t *
json_str_array(char *const *v, size_t n)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
json_vms(const struct plc_op *op)
{
	json_t	*o;
	size_t	 i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < op->n_vms; i++)
		if (json_object_set_new(o, op->vms[i].id,
		    json_string(op->vms[i].key)) != 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static json_t *
json_services(const struct plc_op *op)
{
	json_t	*o, *s;
	size_t	 i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < op->n_services; i++) {
		s = json_pack("{s:s, s:s}", "type", op->services[i].type,
		    "endpoint", op->services[i].endpoint);
		if (json_object_set_new(o, op->services[i].id, s) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int
plc_op_to_json(const struct plc_op *op, json_t **out)
{
	json_t	*o;
	int	 rc = PDS_OK;

	*out = NULL;
	if ((o = json_object()) == NULL)
		return PDS_ENOMEM;
	switch (op->type) {
	case PLC_OP_OPERATION:
		rc = obj_set(o, "type", json_string("plc_operation"));
		if (rc == PDS_OK)
			rc = obj_set(o, "rotationKeys", json_str_array(
			    op->rotation_keys, op->n_rotation_keys));
		if (rc == PDS_OK)
			rc = obj_set(o, "verificationMethods", json_vms(op));
		if (rc == PDS_OK)
			rc = obj_set(o, "alsoKnownAs",
			    json_str_array(op->aka, op->n_aka));
		if (rc == PDS_OK)
			rc = obj_set(o, "services", json_services(op));
		break;
	case PLC_OP_TOMBSTONE:
		rc = obj_set(o, "type", json_string("plc_tombstone"));
		break;
	case PLC_OP_CREATE:
		rc = obj_set(o, "type", json_string("create"));
		if (rc == PDS_OK)
			rc = obj_set(o, "signingKey",
			    jstr_or_null(op->signing_key));
		if (rc == PDS_OK)
			rc = obj_set(o, "recoveryKey",
			    jstr_or_null(op->recovery_key));
		if (rc == PDS_OK)
			rc = obj_set(o, "handle", jstr_or_null(op->handle));
		if (rc == PDS_OK)
			rc = obj_set(o, "service", jstr_or_null(op->service));
		break;
	default:
		rc = PDS_EINVAL;
	}
	if (rc == PDS_OK)
		rc = obj_set(o, "prev", jstr_or_null(op->prev));
	if (rc == PDS_OK && op->sig != NULL)
		rc = obj_set(o, "sig", json_string(op->sig));
	if (rc != PDS_OK) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return PDS_OK;
}

/* A JSON string without NULs of at most max bytes, or NULL. */
static const char *
jstr(const json_t *v, size_t max)
{
	const char	*s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || strlen(s) > max)
		return NULL;
	return s;
}

static bool
key_allowed(const char *k, const char *const *allowed)
{
	for (; *allowed != NULL; allowed++)
		if (strcmp(k, *allowed) == 0)
			return true;
	return false;
}

/*
 * j's member `key' into *out: an array (with `object', an object) of at
 * most max entries; else refused with the reason not_kind or too_many.
 */
static int
get_member(const json_t *j, const char *key, bool object, size_t max,
    const char *not_kind, const char *too_many, json_t **out,
    const char **why)
{
	json_t	*v = json_object_get(j, key);

	*out = v;
	if (object ? !json_is_object(v) : !json_is_array(v))
		return pds_fail(why, PDS_EINVAL, not_kind);
	if ((object ? json_object_size(v) : json_array_size(v)) > max)
		return pds_fail(why, PDS_ETOOBIG, too_many);
	return PDS_OK;
}

static int
parse_operation(const json_t *j, struct plc_op *op, const char **why)
{
	json_t		*v, *e;
	const char	*k, *s, *t, *ep;
	size_t		 i, x;
	int		 rc;

	if ((rc = get_member(j, "rotationKeys", false, PLC_MAX_ROTATION_KEYS,
	    "rotationKeys is not an array", "too many rotationKeys", &v,
	    why)) != PDS_OK)
		return rc;
	json_array_foreach(v, i, e) {
		if ((s = jstr(e, PLC_DIDKEY_MAX)) == NULL)
			return pds_fail(why, PDS_EINVAL,
			    "rotation key is not a string");
		if (!plc_is_rotation_didkey(s, why))
			return PDS_EINVAL;
		if (plc_strv_add(op->rotation_keys, &op->n_rotation_keys,
		    PLC_MAX_ROTATION_KEYS, s) != PDS_OK)
			return PDS_ENOMEM;
	}

	if ((rc = get_member(j, "verificationMethods", true, PLC_MAX_VMS,
	    "verificationMethods is not an object",
	    "too many verificationMethods", &v, why)) != PDS_OK)
		return rc;
	json_object_foreach(v, k, e) {
		if (!plc_is_id(k, PLC_TYPE_MAX))
			return pds_fail(why, PDS_EINVAL,
			    "bad verification method id");
		if ((s = jstr(e, PLC_DIDKEY_MAX)) == NULL ||
		    !plc_is_vm_didkey(s))
			return pds_fail(why, PDS_EINVAL,
			    "verification method is not a did:key");
		x = op->n_vms;
		op->vms[x].id = strdup(k);
		op->vms[x].key = strdup(s);
		op->n_vms++;
		if (op->vms[x].id == NULL || op->vms[x].key == NULL)
			return PDS_ENOMEM;
	}

	if ((rc = get_member(j, "alsoKnownAs", false, PLC_MAX_AKA,
	    "alsoKnownAs is not an array", "too many alsoKnownAs", &v,
	    why)) != PDS_OK)
		return rc;
	json_array_foreach(v, i, e) {
		if ((s = jstr(e, PLC_AKA_MAX)) == NULL)
			return pds_fail(why, PDS_EINVAL,
			    "bad alsoKnownAs entry");
		for (x = 0; x < op->n_aka; x++)
			if (strcmp(op->aka[x], s) == 0)
				return pds_fail(why, PDS_EINVAL,
				    "duplicate alsoKnownAs entry");
		if (plc_strv_add(op->aka, &op->n_aka, PLC_MAX_AKA, s) !=
		    PDS_OK)
			return PDS_ENOMEM;
	}

	if ((rc = get_member(j, "services", true, PLC_MAX_SERVICES,
	    "services is not an object", "too many services", &v, why)) !=
	    PDS_OK)
		return rc;
	json_object_foreach(v, k, e) {
		static const char *const svc_keys[] = { "type", "endpoint",
		    NULL };
		const char	*sk;
		json_t		*sv;

		if (!plc_is_id(k, PLC_ID_MAX))
			return pds_fail(why, PDS_EINVAL, "bad service id");
		if (!json_is_object(e))
			return pds_fail(why, PDS_EINVAL,
			    "service is not an object");
		json_object_foreach(e, sk, sv)
			if (!key_allowed(sk, svc_keys))
				return pds_fail(why, PDS_EINVAL,
				    "unknown key in service");
		t = jstr(json_object_get(e, "type"), PLC_TYPE_MAX);
		ep = jstr(json_object_get(e, "endpoint"), PLC_ENDPOINT_MAX);
		if (t == NULL || ep == NULL)
			return pds_fail(why, PDS_EINVAL,
			    "bad service type or endpoint");
		x = op->n_services++;
		op->services[x].id = strdup(k);
		op->services[x].type = strdup(t);
		op->services[x].endpoint = strdup(ep);
		if (op->services[x].id == NULL ||
		    op->services[x].type == NULL ||
		    op->services[x].endpoint == NULL)
			return PDS_ENOMEM;
	}
	return PDS_OK;
}

static int
parse_create(const json_t *j, struct plc_op *op, const char **why)
{
	const char	*sk, *rk, *h, *svc;

	sk = jstr(json_object_get(j, "signingKey"), PLC_DIDKEY_MAX);
	rk = jstr(json_object_get(j, "recoveryKey"), PLC_DIDKEY_MAX);
	h = jstr(json_object_get(j, "handle"), PLC_AKA_MAX);
	svc = jstr(json_object_get(j, "service"), PLC_ENDPOINT_MAX);
	if (sk == NULL || rk == NULL || h == NULL || svc == NULL)
		return pds_fail(why, PDS_EINVAL, "create op lacks a field");
	if (!plc_is_rotation_didkey(sk, why) ||
	    !plc_is_rotation_didkey(rk, why))
		return PDS_EINVAL;
	op->signing_key = strdup(sk);
	op->recovery_key = strdup(rk);
	op->handle = strdup(h);
	op->service = strdup(svc);
	if (op->signing_key == NULL || op->recovery_key == NULL ||
	    op->handle == NULL || op->service == NULL)
		return PDS_ENOMEM;
	return PDS_OK;
}

/* Whether op, signed, encodes in at most max bytes. */
static int
check_encoding(const struct plc_op *op, size_t max, const char **why)
{
	struct buf	b;
	int		rc;

	buf_init(&b, max);
	rc = plc_op_encode(op, true, &b);
	buf_clear(&b);
	if (rc == PDS_ETOOBIG)
		return pds_fail(why, rc, "operation too large");
	if (rc != PDS_OK)
		return pds_fail(why, rc, "operation cannot be encoded");
	return PDS_OK;
}

static int
op_from_json(const json_t *j, struct plc_op *op, const char **why)
{
	static const char *const op_keys[] = { "type", "rotationKeys",
	    "verificationMethods", "alsoKnownAs", "services", "prev", "sig",
	    NULL };
	static const char *const tomb_keys[] = { "type", "prev", "sig", NULL };
	static const char *const create_keys[] = { "type", "signingKey",
	    "recoveryKey", "handle", "service", "prev", "sig", NULL };
	const char *const *allowed;
	const json_t	*v;
	const char	*k, *s;
	json_t		*e;
	uint8_t		 sig[PLC_SIG_LEN + 3];
	int		 rc;

	switch (op->type) {
	case PLC_OP_OPERATION:
		allowed = op_keys;
		break;
	case PLC_OP_TOMBSTONE:
		allowed = tomb_keys;
		break;
	default:
		allowed = create_keys;
	}
	json_object_foreach((json_t *)j, k, e)
		if (!key_allowed(k, allowed))
			return pds_fail(why, PDS_EINVAL,
			    "unknown field in operation");

	/* prev: required, null or a CID string */
	if ((v = json_object_get(j, "prev")) == NULL)
		return pds_fail(why, PDS_EINVAL, "prev is missing");
	if (json_is_null(v)) {
		if (op->type == PLC_OP_TOMBSTONE)
			return pds_fail(why, PDS_EINVAL,
			    "tombstone without prev");
	} else {
		if ((s = jstr(v, CID_STR_MAX)) == NULL || !plc_is_cid_str(s))
			return pds_fail(why, PDS_EINVAL,
			    "prev is not a CID string");
		if (op->type == PLC_OP_CREATE)
			return pds_fail(why, PDS_EINVAL,
			    "create op with a prev");
		if ((op->prev = strdup(s)) == NULL)
			return PDS_ENOMEM;
	}

	/* sig: 64 bytes of unpadded base64url */
	if ((s = jstr(json_object_get(j, "sig"), PLC_SIG_B64_LEN)) == NULL ||
	    b64url_decode(sig, sizeof(sig), s, strlen(s)) != PLC_SIG_LEN)
		return pds_fail(why, PDS_EINVAL, "sig is not 64 bytes of "
		    "unpadded base64url");
	if ((op->sig = strdup(s)) == NULL)
		return PDS_ENOMEM;

	if (op->type == PLC_OP_OPERATION)
		rc = parse_operation(j, op, why);
	else if (op->type == PLC_OP_CREATE)
		rc = parse_create(j, op, why);
	else
		rc = PDS_OK;
	if (rc != PDS_OK)
		return rc;

	return check_encoding(op, PLC_OP_MAX_BYTES, why);
}

int
plc_op_from_json(const json_t *j, struct plc_op **out, const char **why)
{
	struct plc_op	*op;
	const char	*type;
	enum plc_op_type t;
	int		 rc;

	*out = NULL;
	if (!json_is_object(j))
		return pds_fail(why, PDS_EINVAL, "operation is not an object");
	if ((type = jstr(json_object_get(j, "type"), 32)) == NULL)
		return pds_fail(why, PDS_EINVAL, "operation has no type");
	if (strcmp(type, "plc_operation") == 0)
		t = PLC_OP_OPERATION;
	else if (strcmp(type, "plc_tombstone") == 0)
		t = PLC_OP_TOMBSTONE;
	else if (strcmp(type, "create") == 0)
		t = PLC_OP_CREATE;
	else
		return pds_fail(why, PDS_EINVAL, "unknown operation type");
	if ((op = plc_op_new(t)) == NULL)
		return PDS_ENOMEM;
	if ((rc = op_from_json(j, op, why)) != PDS_OK) {
		plc_op_free(op);
		return rc;
	}
	*out = op;
	return PDS_OK;
}

int
plc_op_check_submit(const struct plc_op *op, const char **why)
{
	size_t		i, j;

	if (op->type != PLC_OP_OPERATION && op->type != PLC_OP_TOMBSTONE)
		return pds_fail(why, PDS_EINVAL,
		    "only plc_operation and plc_tombstone can be sent");
	if (op->sig == NULL)
		return pds_fail(why, PDS_EINVAL, "operation is not signed");
	if (op->type == PLC_OP_OPERATION) {
		if (op->n_rotation_keys < 1 ||
		    op->n_rotation_keys > PLC_SPEC_MAX_ROTATION_KEYS)
			return pds_fail(why, PDS_EINVAL,
			    "an operation needs 1 to 5 rotation keys");
		for (i = 0; i < op->n_rotation_keys; i++)
			for (j = i + 1; j < op->n_rotation_keys; j++)
				if (strcmp(op->rotation_keys[i],
				    op->rotation_keys[j]) == 0)
					return pds_fail(why, PDS_EINVAL,
					    "duplicate rotation key");
	}
	return check_encoding(op, PLC_OP_SUBMIT_MAX_BYTES, why);
}

int
plc_op_data_json(const struct plc_op *op, const char *did, json_t **out)
{
	json_t	*o;
	int	 rc;

	*out = NULL;
	if (op->type != PLC_OP_OPERATION)
		return PDS_EINVAL;
	if ((o = json_object()) == NULL)
		return PDS_ENOMEM;
	rc = obj_set(o, "did", json_string(did));
	if (rc == PDS_OK)
		rc = obj_set(o, "verificationMethods", json_vms(op));
	if (rc == PDS_OK)
		rc = obj_set(o, "rotationKeys",
		    json_str_array(op->rotation_keys, op->n_rotation_keys));
	if (rc == PDS_OK)
		rc = obj_set(o, "alsoKnownAs",
		    json_str_array(op->aka, op->n_aka));
	if (rc == PDS_OK)
		rc = obj_set(o, "services", json_services(op));
	if (rc != PDS_OK) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return PDS_OK;
}
