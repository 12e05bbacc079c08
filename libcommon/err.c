#include <stdarg.h>
#include <stdio.h>

#include "err.h"

const char *
pds_strerror(int err)
{
	switch (err) {
	case PDS_OK:		return "success";
	case PDS_ENOMEM:	return "out of memory";
	case PDS_EINVAL:	return "invalid input";
	case PDS_ETRUNC:	return "input truncated";
	case PDS_ENONCANON:	return "not in canonical form";
	case PDS_ETOOBIG:	return "limit exceeded";
	case PDS_EUNSUPP:	return "not supported";
	case PDS_ENOTFOUND:	return "not found";
	case PDS_EEXIST:	return "already exists";
	case PDS_ECRYPTO:	return "cryptographic failure";
	case PDS_EEXPIRED:	return "expired";
	case PDS_EIO:		return "I/O error";
	case PDS_EMISMATCH:	return "hash or signature mismatch";
	case PDS_EINTERNAL:	return "internal error";
	case PDS_EAUTHREQ:	return "authentication required";
	case PDS_EAUTHMISSING:	return "authentication missing";
	case PDS_EBADTOKEN:	return "invalid token";
	case PDS_ETOKENEXPIRED:	return "token expired";
	case PDS_EFORBIDDEN:	return "forbidden";
	case PDS_ENOSUCH:	return "no such resource";
	case PDS_ENOMETHOD:	return "method not supported";
	case PDS_EPAYLOAD:	return "payload too large";
	case PDS_ERATELIMIT:	return "rate limit exceeded";
	case PDS_ENOTIMPL:	return "not implemented";
	case PDS_EUPSTREAM:	return "upstream failure";
	case PDS_EBUSY:		return "not enough resources";
	case PDS_EUPTIMEOUT:	return "upstream timeout";
	case PDS_ETAKENDOWN:	return "account taken down";
	case PDS_EDEACTIVATED:	return "account deactivated";
	}
	return "unknown error";
}

int
pds_error_set(struct pds_error *e, int code, const char *name,
    const char *fmt, ...)
{
	va_list	 ap;

	if (e == NULL)
		return code;
	e->code = code;
	e->name = name;
	e->msg[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void
pds_error_clear(struct pds_error *e)
{
	if (e == NULL)
		return;
	e->code = PDS_OK;
	e->name = NULL;
	e->msg[0] = '\0';
}

int
pds_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}
