/*
 * exportkey: reading and writing an export's signing key file.  See
 * exportkey.h.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "err.h"
#include "exportkey.h"
#include "keys.h"

#define KEY_TYPE_NAME	"secp256k1"

int
exportkey_format(const char *did, const struct pds_key *key, char **out,
    size_t *len)
{
	char	 hex[KEY_HEX_LEN], didkey[KEY_DIDKEY_MAX];
	json_t	*v;
	int	 rc;

	*out = NULL;
	*len = 0;
	if (key_type(key) != KEY_K256)
		return PDS_EINVAL;
	if ((rc = key_export_private_hex(key, hex)) != PDS_OK)
		return rc;
	if (key_to_didkey(key, didkey, sizeof(didkey)) < 0) {
		sodium_memzero(hex, sizeof(hex));
		return PDS_EINTERNAL;
	}
	v = json_pack("{s:s,s:s,s:s,s:s}", "did", did, "type", KEY_TYPE_NAME,
	    "privateKeyHex", hex, "publicKey", didkey);
	sodium_memzero(hex, sizeof(hex));
	if (v == NULL)
		return PDS_ENOMEM;
	*out = json_dumps(v, JSON_INDENT(1) | JSON_SORT_KEYS);
	/* the object's copy of the hex is wiped before it is freed */
	sodium_memzero((char *)json_string_value(json_object_get(v,
	    "privateKeyHex")), 2 * KEY_PRIV_LEN);
	json_decref(v);
	if (*out == NULL)
		return PDS_ENOMEM;
	*len = strlen(*out);
	return PDS_OK;
}

static const char *
field(const json_t *doc, const char *name)
{
	const json_t	*v = json_object_get(doc, name);

	if (!json_is_string(v) || strlen(json_string_value(v)) !=
	    json_string_length(v))
		return NULL;
	return json_string_value(v);
}

int
exportkey_parse(const char *buf, size_t len, const char *did,
    struct pds_key **key, char didkey[KEY_DIDKEY_MAX], char *err,
    size_t errlen)
{
	json_error_t	 je;
	json_t		*doc;
	const char	*fdid, *type, *hex, *pub;
	int		 rc = PDS_EINVAL;

	*key = NULL;
	didkey[0] = '\0';
	if (len > EXPORTKEY_MAX_BYTES)
		return pds_errf(err, errlen, PDS_ETOOBIG, "over %d bytes",
		    EXPORTKEY_MAX_BYTES);
	if ((doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL)
		return pds_errf(err, errlen, PDS_EINVAL,
		    "not JSON: %s (line %d)", je.text, je.line);
	fdid = field(doc, "did");
	type = field(doc, "type");
	hex = field(doc, "privateKeyHex");
	pub = field(doc, "publicKey");
	if (!json_is_object(doc) || fdid == NULL || type == NULL ||
	    hex == NULL || pub == NULL)
		rc = pds_errf(err, errlen, PDS_EINVAL, "%s", "did, type, "
		    "privateKeyHex and publicKey are required");
	else if (did != NULL && strcmp(fdid, did) != 0)
		rc = pds_errf(err, errlen, PDS_EINVAL, "the key of another DID "
		    "(%.100s)", fdid);
	else if (strcmp(type, KEY_TYPE_NAME) != 0)
		rc = pds_errf(err, errlen, PDS_EINVAL,
		    "a key of type %.40s, not " KEY_TYPE_NAME, type);
	else if (key_from_private_hex(key, KEY_K256, hex, strlen(hex)) !=
	    PDS_OK)
		rc = pds_errf(err, errlen, PDS_EINVAL, "%s", "privateKeyHex is "
		    "not a secp256k1 private key in 64 hex digits");
	else if (key_to_didkey(*key, didkey, KEY_DIDKEY_MAX) < 0 ||
	    strcmp(didkey, pub) != 0)
		rc = pds_errf(err, errlen, PDS_EINVAL, "%s", "the private key "
		    "does not give publicKey: the file is damaged");
	else
		rc = PDS_OK;
	/* wipe the hex the document holds */
	if (hex != NULL)
		sodium_memzero((char *)hex, strlen(hex));
	json_decref(doc);
	if (rc != PDS_OK) {
		key_free(*key);
		*key = NULL;
		didkey[0] = '\0';
	}
	return rc;
}
