/*
 * diddoc: reading DID documents the way atproto does (atproto-notes
 * §8.3, §8.4, §9 and §15 item 12).  Pure: no I/O.
 *
 * Leniencies follow the reference implementation: verification method
 * and service ids match either "#frag" or "<did>#frag"; the #atproto key
 * may be a Multikey or a legacy EcdsaSecp256k1VerificationKey2019 /
 * EcdsaSecp256r1VerificationKey2019 key; `controller` and `@context` are
 * not checked; the handle is the first "at://" alsoKnownAs entry.
 * Strictness beyond it: the document's `id` must equal the DID asked
 * for, service endpoints must be http(s)://host[:port] with no path,
 * query, fragment or user info, and arrays longer than DIDDOC_MAX_ITEMS
 * are refused.
 *
 * Strings a struct diddoc holds are owned by it and freed by
 * diddoc_clear().
 */
#ifndef PDS_DIDDOC_H
#define PDS_DIDDOC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct pds_key;
struct plc_op;

#define DIDDOC_MAX_BYTES	(64 * 1024)	/* for resolvers: body cap */
#define DIDDOC_MAX_ITEMS	64	/* entries per array examined */
#define DIDDOC_ENDPOINT_MAX	2048	/* service URL length */
#define DIDDOC_ID_MAX		256	/* fragment length */

/* The atproto view of a document (the reference's "AtprotoData"). */
struct diddoc {
	char	*did;
	char	*signing_key;	/* did:key of #atproto (compressed), or NULL */
	char	*handle;	/* from the first at:// alsoKnownAs, or NULL */
	char	*pds;		/* #atproto_pds endpoint, or NULL */
};

/*
 * Read `doc` as the document of `did`.  Fails (PDS_EINVAL / PDS_ETOOBIG
 * with *why) only when the document is unusable as a whole: not an
 * object, `id` missing or different from `did`, a field of the wrong
 * type, or too many entries.  A missing or unusable key, handle or PDS
 * leaves that field NULL; diddoc_require_atproto() then says which.
 * The handle is NULL too when the first at:// entry is not a
 * syntactically valid handle; it is returned lower-cased.
 */
int	diddoc_parse(const json_t *doc, const char *did, struct diddoc *out,
	    const char **why);
void	diddoc_clear(struct diddoc *);
/* PDS_OK if did, signing_key, handle and pds are all set. */
int	diddoc_require_atproto(const struct diddoc *, const char **why);

/* {"did","signingKey","handle","pds"} (absent fields left out). */
int	diddoc_atproto_data_json(const struct diddoc *, json_t **out);

/*
 * The verification method `key_id` ("atproto", "#atproto" or
 * "<did>#atproto") as a public key (caller frees with key_free()) or as
 * did:key text.  PDS_ENOTFOUND if there is none; PDS_EUNSUPP or
 * PDS_EINVAL if its type or multibase is unusable.  Only the first
 * method with a matching id is considered.
 */
int	diddoc_get_key(const json_t *doc, const char *did, const char *key_id,
	    struct pds_key **out, const char **why);
int	diddoc_get_didkey(const json_t *doc, const char *did,
	    const char *key_id, char *out, size_t cap, const char **why);

/*
 * The endpoint of service `service_id` ("atproto_pds", "#atproto_pds" or
 * "<did>#atproto_pds"), when its type equals `type` (NULL: any type).
 * The first service with a matching id decides.  Written normalised
 * (scheme lower-cased, one trailing '/' dropped) into out.
 * PDS_ENOTFOUND if absent or of another type, PDS_EINVAL if the
 * endpoint is not an acceptable URL, PDS_ETOOBIG if cap is too small.
 */
int	diddoc_get_service(const json_t *doc, const char *did,
	    const char *service_id, const char *type, char *out, size_t cap,
	    const char **why);

/*
 * Split a service reference "did:web:api.example.com#bsky_appview" (as
 * in an atproto-proxy header) into the DID and the fragment (without
 * '#').  PDS_EINVAL unless the DID is syntactically valid and the
 * fragment is 1..DIDDOC_ID_MAX characters without '#'.
 */
int	diddoc_split_service_ref(const char *ref, char *did, size_t didcap,
	    char *frag, size_t fragcap);

/*
 * Check a service endpoint: http:// or https://, a host name, IPv4 or
 * bracketed IPv6 address, an optional port 1-65535, and nothing after it
 * but an optional single '/'.  Writes the normalised form (see
 * diddoc_get_service()) when out is non-NULL.
 */
int	diddoc_check_endpoint(const char *url, char *out, size_t cap,
	    const char **why);

/*
 * The document the PLC directory serves for a plc_operation (a legacy
 * create op is normalised first): "@context", id, alsoKnownAs,
 * verificationMethod (Multikey, id "<did>#<id>"), service (id "#<id>").
 * Verification methods whose did:key does not parse are left out.
 */
int	diddoc_from_plc_op(const struct plc_op *, const char *did,
	    json_t **out);

/*
 * The URL of a did:web document: https://<host>/.well-known/did.json,
 * or http:// for localhost, whose "%3A<port>" becomes ":<port>".
 * PDS_EUNSUPP unless the DID passes did_is_web().
 */
int	diddoc_web_url(const char *did, char *out, size_t cap);

/*
 * Read the body of https://<handle>/.well-known/atproto-did: the first
 * line, trimmed of white space, must be a syntactically valid DID.
 */
int	diddoc_parse_atproto_did(const char *body, size_t len, char *out,
	    size_t cap);

/*
 * Pick the DID out of the TXT records of _atproto.<handle>: exactly one
 * record (its character-strings already joined) may start with "did=";
 * the rest of it must be a valid DID.  PDS_ENOTFOUND for none,
 * PDS_EINVAL for several or an invalid DID.
 */
int	diddoc_pick_txt_did(const char *const *records, const size_t *lens,
	    size_t n, char *out, size_t cap);

#endif
