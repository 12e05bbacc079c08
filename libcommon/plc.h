/*
 * plc: did:plc operations (atproto-notes §8.1).  Pure: no I/O.
 *
 * A struct plc_op is one operation in any of the three shapes the PLC
 * directory knows:
 *
 *   PLC_OP_OPERATION  {"type":"plc_operation", rotationKeys,
 *                      verificationMethods, alsoKnownAs, services, prev, sig}
 *   PLC_OP_TOMBSTONE  {"type":"plc_tombstone", prev, sig}
 *   PLC_OP_CREATE     the legacy genesis op (read only): signingKey,
 *                      recoveryKey, handle, service, prev (null), sig
 *
 * Its canonical DAG-CBOR encoding (without `sig` for signing, with it for
 * the op's CID and the DID) is written by plc_op_encode(); JSON (for the
 * PLC directory's HTTP API) by plc_op_to_json() and read back, with every
 * field and limit checked, by plc_op_from_json().
 *
 * Ownership: plc_op_new() and plc_op_from_json() return an op the caller
 * frees with plc_op_free() (NULL-safe).  Every string inside is owned by
 * the op.  Setters copy their arguments.
 */
#ifndef PDS_PLC_H
#define PDS_PLC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "cid.h"

struct pds_key;

/* Limits of the reference PLC server (§8.1); the spec allows 7500 bytes. */
#define PLC_MAX_ROTATION_KEYS	10
#define PLC_MAX_VMS		10
#define PLC_MAX_AKA		10
#define PLC_MAX_SERVICES	10
#define PLC_OP_MAX_BYTES	7500	/* spec: signed CBOR, read side */
#define PLC_OP_SUBMIT_MAX_BYTES	4000	/* reference server: write side */
#define PLC_SPEC_MAX_ROTATION_KEYS 5
#define PLC_DIDKEY_MAX		256
#define PLC_AKA_MAX		258
#define PLC_ID_MAX		32	/* service and verification method ids */
#define PLC_TYPE_MAX		256
#define PLC_ENDPOINT_MAX	512
#define PLC_SIG_LEN		64
#define PLC_SIG_B64_LEN		86	/* b64url of 64 bytes, unpadded */
#define PLC_DID_LEN		32	/* "did:plc:" + 24 */
#define PLC_DID_BUF		(PLC_DID_LEN + 1)

enum plc_op_type {
	PLC_OP_OPERATION = 1,
	PLC_OP_TOMBSTONE = 2,
	PLC_OP_CREATE = 3,	/* legacy genesis, read only */
};

struct plc_vmethod {
	char	*id;		/* "atproto" (no '#') */
	char	*key;		/* did:key:... */
};

struct plc_service {
	char	*id;		/* "atproto_pds" (no '#') */
	char	*type;		/* "AtprotoPersonalDataServer" */
	char	*endpoint;	/* "https://pds.example.com" */
};

struct plc_op {
	enum plc_op_type	 type;
	/* PLC_OP_OPERATION */
	char			*rotation_keys[PLC_MAX_ROTATION_KEYS];
	size_t			 n_rotation_keys;
	struct plc_vmethod	 vms[PLC_MAX_VMS];
	size_t			 n_vms;
	char			*aka[PLC_MAX_AKA];
	size_t			 n_aka;
	struct plc_service	 services[PLC_MAX_SERVICES];
	size_t			 n_services;
	/* PLC_OP_CREATE */
	char			*signing_key;
	char			*recovery_key;
	char			*handle;
	char			*service;
	/* all */
	char			*prev;	/* previous op's CID string; NULL = null */
	char			*sig;	/* b64url; NULL while unsigned */
};

struct plc_op	*plc_op_new(enum plc_op_type);
void		 plc_op_free(struct plc_op *);
/* A deep copy, or NULL on allocation failure. */
struct plc_op	*plc_op_dup(const struct plc_op *);

/*
 * Setters for PLC_OP_OPERATION (prev also for tombstones).  Setting a
 * verification method or service whose id exists replaces it.  They
 * clear any signature.  PDS_EINVAL for a value that breaks a field rule
 * (ids without '#', lengths, did:key prefix), PDS_ETOOBIG past a count.
 */
int	plc_op_add_rotation_key(struct plc_op *, const char *didkey);
void	plc_op_clear_rotation_keys(struct plc_op *);
int	plc_op_set_vmethod(struct plc_op *, const char *id, const char *didkey);
void	plc_op_clear_vmethods(struct plc_op *);
int	plc_op_add_aka(struct plc_op *, const char *uri);
void	plc_op_clear_aka(struct plc_op *);
int	plc_op_set_service(struct plc_op *, const char *id, const char *type,
	    const char *endpoint);
void	plc_op_clear_services(struct plc_op *);
int	plc_op_set_prev(struct plc_op *, const char *cid_or_null);

/*
 * Build the usual atproto op: rotation keys as given (priority order),
 * verificationMethods {"atproto": signing_didkey}, alsoKnownAs
 * ["at://<handle>"], services {"atproto_pds": AtprotoPersonalDataServer
 * at pds_endpoint}, prev as given (NULL for a genesis op).  Unsigned.
 */
int	plc_op_build(struct plc_op **out, const char *const *rotation_keys,
	    size_t n_rotation_keys, const char *signing_didkey,
	    const char *handle, const char *pds_endpoint, const char *prev);

/*
 * The start of an update on top of `last` (the DID's latest op): a copy
 * of its fields (a legacy create op is normalised first), prev = the CID
 * of `last`, unsigned.  PDS_EINVAL if `last` is a tombstone or unsigned.
 */
int	plc_op_next(const struct plc_op *last, struct plc_op **out);

/*
 * Rewrite a legacy create op into the plc_operation form the reference
 * uses for it: rotationKeys [recoveryKey, signingKey], verificationMethods
 * {atproto: signingKey}, alsoKnownAs ["at://" handle], services
 * {atproto_pds: "https://" service unless it has a scheme}.  Other ops
 * are left alone.  The signature stays (it covers the create form, so
 * do not re-encode a normalised op to check it).
 */
int	plc_op_normalize(struct plc_op *);

/*
 * Append the canonical DAG-CBOR of the op to `out`; with_sig false leaves
 * `sig` out (the bytes that are signed).  PDS_EINVAL if with_sig and the
 * op is unsigned.
 */
int	plc_op_encode(const struct plc_op *, bool with_sig, struct buf *out);

/* Sign with a k256 or p256 private key: sets op->sig. */
int	plc_op_sign(struct plc_op *, const struct pds_key *);

/*
 * Check the signature against a list of did:key rotation keys: PDS_OK if
 * any of them verifies it (*which, if non-NULL, gets its index), else
 * PDS_ECRYPTO.  Keys that do not parse are skipped.
 */
int	plc_op_verify(const struct plc_op *, const char *const *didkeys,
	    size_t n, size_t *which, const char **why);

/* The CID (dag-cbor, sha2-256) of the signed op. */
int	plc_op_cid(const struct plc_op *, struct cid *out);
int	plc_op_cid_str(const struct plc_op *, char *out, size_t cap);

/*
 * The DID a signed genesis op creates: "did:plc:" + the first 24
 * characters of base32(sha256(signed CBOR)).  PDS_EINVAL if prev is set.
 */
int	plc_op_did(const struct plc_op *, char out[PLC_DID_BUF]);

/* The op as JSON (including sig when signed).  New reference in *out. */
int	plc_op_to_json(const struct plc_op *, json_t **out);

/*
 * Read an op from JSON.  Every field is checked: the shape for its type,
 * no unknown keys, string types, counts and lengths (PLC_MAX_*), rotation
 * keys (and the legacy signing/recovery keys) that parse as k256/p256
 * did:keys, verification methods that start with "did:key:", unique
 * alsoKnownAs entries, prev null or a CID string (never null for a
 * tombstone, always null for a create op), sig 64 bytes of unpadded
 * b64url, and the signed CBOR within PLC_OP_MAX_BYTES.  Historic ops
 * with no or repeated rotation keys are accepted; plc_op_check_submit()
 * is the stricter check for ops this server sends.
 */
int	plc_op_from_json(const json_t *, struct plc_op **out, const char **why);

/*
 * The rules for an op about to be sent to the directory: a signed
 * plc_operation or tombstone, 1-5 unique rotation keys, and at most
 * PLC_OP_SUBMIT_MAX_BYTES of CBOR.
 */
int	plc_op_check_submit(const struct plc_op *, const char **why);

/* Lookups in a plc_operation; NULL if absent. */
const char *plc_op_vmethod(const struct plc_op *, const char *id);
const struct plc_service *plc_op_service(const struct plc_op *,
	    const char *id);
/* The first alsoKnownAs entry that starts with "at://", without it. */
const char *plc_op_handle(const struct plc_op *);

/*
 * The directory's /data form of a plc_operation:
 * {"did","verificationMethods","rotationKeys","alsoKnownAs","services"}.
 */
int	plc_op_data_json(const struct plc_op *, const char *did, json_t **out);

#endif
