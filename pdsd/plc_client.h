/*
 * plc_client: talking to the PLC directory (PDS_DID_PLC_URL;
 * atproto-notes §8.2).
 *
 * plc_client_init() runs once at start-up; afterwards the functions may
 * be called from any thread.  The directory is an operator-configured
 * endpoint, so its requests bypass the outbound address policy
 * (a local directory on localhost works) and never follow redirects.
 *
 * Errors: PDS_ENOTFOUND when the directory answers 404 or 410 (unknown
 * or tombstoned DID), PDS_EINVAL when it refuses an operation (400) or
 * the DID is not a did:plc, PDS_EIO for network failures and other
 * statuses, PDS_EINVAL if its reply does not parse.  `err` (may be NULL)
 * receives one line for logs and XRPC messages, including the
 * directory's own "message" when it sent one.
 */
#ifndef PDSD_PLC_CLIENT_H
#define PDSD_PLC_CLIENT_H

#include <stddef.h>

#include <jansson.h>

struct plc_op;

#define PLC_CLIENT_URL_MAX	512
#define PLC_CLIENT_ERR_MAX	320

/* base_url without a trailing '/' (one is dropped); timeout_ms 0: 10 s. */
int	plc_client_init(const char *base_url, long timeout_ms);
const char *plc_client_url(void);

/* POST /<did>: submit a signed op (checked by plc_op_check_submit()). */
int	plc_client_submit(const char *did, const struct plc_op *,
	    char *err, size_t errlen);
/* GET /<did>: the DID document (new reference in *doc). */
int	plc_client_get_doc(const char *did, json_t **doc, char *err,
	    size_t errlen);
/* GET /<did>/data: {did, verificationMethods, rotationKeys, ...}. */
int	plc_client_get_data(const char *did, json_t **data, char *err,
	    size_t errlen);
/* GET /<did>/log/last: the latest op, parsed and checked. */
int	plc_client_get_last_op(const char *did, struct plc_op **op, char *err,
	    size_t errlen);
/* GET /<did>/log/audit: every operation with its CID and time. */
int	plc_client_get_audit(const char *did, json_t **log, char *err,
	    size_t errlen);

#endif
