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
	}
	return "unknown error";
}
