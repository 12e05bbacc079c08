/*
 * refpds: the reference PDS's stored formats.  See refpds.h.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cbor.h"
#include "cid.h"
#include "err.h"
#include "multibase.h"
#include "refpds.h"

static const char hexdig[] = "0123456789abcdef";

/* n lower-case hex digits: the only case the reference PDS writes. */
static bool
lower_hex(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int
refpds_hash_parse(const char *s, size_t len, struct refpds_hash *out)
{
	const char	*h;
	size_t		 i;

	if (len != REFPDS_HASH_STR || s[REFPDS_SALT_HEX] != ':')
		return PDS_EINVAL;
	h = s + REFPDS_SALT_HEX + 1;
	if (!lower_hex(s, REFPDS_SALT_HEX) ||
	    !lower_hex(h, 2 * REFPDS_HASH_LEN))
		return PDS_EINVAL;
	memcpy(out->salt, s, REFPDS_SALT_HEX);
	out->salt[REFPDS_SALT_HEX] = '\0';
	for (i = 0; i < REFPDS_HASH_LEN; i++)
		out->hash[i] = (uint8_t)hex_pair(h + 2 * i);
	return PDS_OK;
}

bool
refpds_hash_is(const char *s)
{
	struct refpds_hash	 h;

	return refpds_hash_parse(s, strnlen(s, REFPDS_HASH_STR + 1), &h) ==
	    PDS_OK;
}

static void
hex_put(char *out, const uint8_t *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[p[i] >> 4];
		out[2 * i + 1] = hexdig[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
refpds_app_salt(const char *did, char out[REFPDS_SALT_HEX + 1])
{
	uint8_t	 d[32];

	sha256(d, did, strlen(did));
	hex_put(out, d, REFPDS_SALT_HEX / 2);
}

void
refpds_hash_format(const struct refpds_hash *h, char out[REFPDS_HASH_STR + 1])
{
	memcpy(out, h->salt, REFPDS_SALT_HEX);
	out[REFPDS_SALT_HEX] = ':';
	hex_put(out + REFPDS_SALT_HEX + 1, h->hash, REFPDS_HASH_LEN);
}

const char *
refpds_event_type(const char *t)
{
	if (strcmp(t, "append") == 0 || strcmp(t, "commit") == 0)
		return "commit";
	if (strcmp(t, "sync") == 0)
		return "sync";
	if (strcmp(t, "identity") == 0)
		return "identity";
	if (strcmp(t, "account") == 0)
		return "account";
	return NULL;
}

int
refpds_event_convert(const uint8_t *body, size_t len, int64_t seq,
    const char *time, struct buf *out, const char **why)
{
	struct dm_arena	*a;
	struct dm_value	*in, *m, *v;
	size_t		 i;
	int		 rc;

	if ((a = dm_arena_new()) == NULL)
		return PDS_ENOMEM;
	/* An event is at most a few MB; the arena need not grow past it. */
	dm_arena_set_max(a, len * 64 + 65536);
	if ((rc = dm_decode(a, body, len, &in, why)) != PDS_OK)
		goto done;
	rc = PDS_EINVAL;
	if (in->type != DM_MAP) {
		*why = "the event is not a map";
		goto done;
	}
	if (dm_map_get(in, "seq") != NULL || dm_map_get(in, "time") != NULL) {
		*why = "the event already has a seq or time";
		goto done;
	}
	rc = PDS_ENOMEM;
	if ((m = dm_map(a, in->u.map.n + 2)) == NULL)
		goto done;
	for (i = 0; i < in->u.map.n; i++)
		if ((rc = dm_map_set(m, in->u.map.e[i].key,
		    in->u.map.e[i].klen, in->u.map.e[i].val)) != PDS_OK)
			goto done;
	rc = PDS_ENOMEM;
	if ((v = dm_int(a, seq)) == NULL || dm_map_set(m, "seq", 3, v) !=
	    PDS_OK)
		goto done;
	if ((v = dm_string(a, time, strlen(time))) == NULL ||
	    dm_map_set(m, "time", 4, v) != PDS_OK)
		goto done;
	if ((rc = dm_map_sort(m, why)) != PDS_OK)
		goto done;
	rc = dm_encode(out, m);
	if (rc != PDS_OK)
		*why = "the event could not be encoded";
done:
	dm_arena_free(a);
	return rc;
}

int
refpds_pref_check(const char *name, const char *value_json, size_t len,
    const char **why)
{
	json_error_t	 jerr;
	json_t		*o;
	const char	*t;
	int		 rc = PDS_EINVAL;

	o = json_loadb(value_json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		*why = "the preference is not JSON";
	else if (!json_is_object(o))
		*why = "the preference is not a JSON object";
	else if ((t = json_string_value(json_object_get(o, "$type"))) ==
	    NULL)
		*why = "the preference has no $type";
	else if (strcmp(t, name) != 0)
		*why = "the preference's $type is not its name";
	else
		rc = PDS_OK;
	json_decref(o);
	return rc;
}
