/*
 * plc_client: the PLC directory's HTTP API.  See plc_client.h.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "diddoc.h"
#include "err.h"
#include "outbound.h"
#include "plc.h"
#include "plc_client.h"
#include "syntax.h"

#define PLC_REPLY_MAX	(256 * 1024)

static char	plc_url[PLC_CLIENT_URL_MAX];
static long	plc_timeout_ms;

int
plc_client_init(const char *base_url, long timeout_ms)
{
	size_t	n = strlen(base_url);

	if (n > 0 && base_url[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(plc_url) ||
	    (strncmp(base_url, "https://", 8) != 0 &&
	    strncmp(base_url, "http://", 7) != 0))
		return PDS_EINVAL;
	memcpy(plc_url, base_url, n);
	plc_url[n] = '\0';
	plc_timeout_ms = timeout_ms;
	return PDS_OK;
}

const char *
plc_client_url(void)
{
	return plc_url;
}

/*
 * One request.  `path` follows "/<did>"; body NULL for GET.  On a 2xx
 * reply *out gets its JSON.
 */
static int
plc_call(const char *did, const char *path, const json_t *body,
    json_t **out, char *err, size_t errlen)
{
	char		 url[PLC_CLIENT_URL_MAX + DID_PLC_LEN + 32];
	char		 oerr[OUTBOUND_ERR_MAX];
	json_t		*j = NULL;
	const char	*msg = NULL;
	long		 status = 0;
	int		 rc, n;

	*out = NULL;
	if (plc_url[0] == '\0') {
		return pds_errf(err, errlen, PDS_EINTERNAL,
		    "PLC client not set up");
	}
	if (!did_is_plc(did, strlen(did))) {
		return pds_errf(err, errlen, PDS_EINVAL, "not a did:plc: %.64s",
		    did);
	}
	n = snprintf(url, sizeof(url), "%s/%s%s", plc_url, did, path);
	if (n < 0 || (size_t)n >= sizeof(url))
		return PDS_EINVAL;
	oerr[0] = '\0';
	rc = outbound_json(url, body, OUTBOUND_TRUSTED, plc_timeout_ms,
	    PLC_REPLY_MAX, &status, &j, oerr, sizeof(oerr));
	if (rc != PDS_OK) {
		(void)pds_errf(err, errlen, 0, "PLC directory %s: %s", plc_url,
		    oerr);
		json_decref(j);
		return rc == PDS_EINVAL ? PDS_EINVAL : PDS_EIO;
	}
	if (status >= 200 && status < 300) {
		*out = j;
		return PDS_OK;
	}
	if (json_is_object(j))
		msg = json_string_value(json_object_get(j, "message"));
	(void)pds_errf(err, errlen, 0, "PLC directory %s: HTTP %ld: %.200s",
	    plc_url, status, msg != NULL ? msg : "(no message)");
	json_decref(j);
	if (status == 404 || status == 410)
		return PDS_ENOTFOUND;
	if (status == 400)
		return PDS_EINVAL;
	return PDS_EIO;
}

int
plc_client_submit(const char *did, const struct plc_op *op, char *err,
    size_t errlen)
{
	json_t		*body = NULL, *reply = NULL;
	const char	*why = NULL;
	int		 rc;

	if ((rc = plc_op_check_submit(op, &why)) != PDS_OK) {
		return pds_errf(err, errlen, rc, "operation not sendable: %s",
		    why);
	}
	if ((rc = plc_op_to_json(op, &body)) != PDS_OK)
		return rc;
	rc = plc_call(did, "", body, &reply, err, errlen);
	json_decref(body);
	json_decref(reply);
	return rc;
}

/* GET path under did from the directory; the reply must be an object. */
static int
get_object(const char *did, const char *path, const char *what,
    json_t **out, char *err, size_t errlen)
{
	int	rc;

	if ((rc = plc_call(did, path, NULL, out, err, errlen)) != PDS_OK)
		return rc;
	if (!json_is_object(*out)) {
		(void)pds_errf(err, errlen, 0, "PLC directory %s: %s is not an "
		    "object", plc_url, what);
		json_decref(*out);
		*out = NULL;
		return PDS_EINVAL;
	}
	return PDS_OK;
}

int
plc_client_get_doc(const char *did, json_t **doc, char *err, size_t errlen)
{
	return get_object(did, "", "document", doc, err, errlen);
}

int
plc_client_get_data(const char *did, json_t **data, char *err, size_t errlen)
{
	return get_object(did, "/data", "data", data, err, errlen);
}

int
plc_client_get_last_op(const char *did, struct plc_op **op, char *err,
    size_t errlen)
{
	json_t		*j = NULL;
	const char	*why = NULL;
	int		 rc;

	*op = NULL;
	if ((rc = plc_call(did, "/log/last", NULL, &j, err, errlen)) != PDS_OK)
		return rc;
	rc = plc_op_from_json(j, op, &why);
	json_decref(j);
	if (rc != PDS_OK)
		(void)pds_errf(err, errlen, 0, "PLC directory %s: bad last op: %s",
		    plc_url, why != NULL ? why : pds_strerror(rc));
	return rc;
}

int
plc_client_get_audit(const char *did, json_t **log, char *err, size_t errlen)
{
	int	rc;

	if ((rc = plc_call(did, "/log/audit", NULL, log, err, errlen)) !=
	    PDS_OK)
		return rc;
	if (!json_is_array(*log)) {
		(void)pds_errf(err, errlen, 0, "PLC directory %s: the audit log "
		    "is not an array", plc_url);
		json_decref(*log);
		*log = NULL;
		return PDS_EINVAL;
	}
	return PDS_OK;
}
