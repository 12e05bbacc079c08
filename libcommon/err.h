/*
 * err: the error codes every libcommon and pdsd function returns.
 *
 * Functions return 0 (PDS_OK) on success or a negative PDS_E* code.
 * Decoders of untrusted bytes also take an optional `const char **why`
 * that, on failure, is pointed at a static string naming the exact
 * reason ("map keys not in canonical order"); static so that it is
 * thread-safe and never needs freeing.  pds_strerror() turns a code
 * into text; only user-facing layers (XRPC errors, pdsctl) do that.
 * pdsd's XRPC layer maps every code to an HTTP status and error name
 * from one table (pdsd/xrpc.c).
 */
#ifndef PDS_ERR_H
#define PDS_ERR_H

#include <stddef.h>

enum pds_err {
	PDS_OK = 0,
	PDS_ENOMEM = -1,	/* allocation failed */
	PDS_EINVAL = -2,	/* malformed input or argument */
	PDS_ETRUNC = -3,	/* input ended early */
	PDS_ENONCANON = -4,	/* decodable but not the canonical form */
	PDS_ETOOBIG = -5,	/* a size, count or depth limit was exceeded */
	PDS_EUNSUPP = -6,	/* well-formed but not supported (e.g. CID codec) */
	PDS_ENOTFOUND = -7,	/* a looked-up thing does not exist */
	PDS_EEXIST = -8,	/* the thing already exists */
	PDS_ECRYPTO = -9,	/* signature or key failure */
	PDS_EEXPIRED = -10,	/* a token or time window has passed */
	PDS_EIO = -11,		/* an I/O error; errno holds the cause */
	PDS_EMISMATCH = -12,	/* a hash, CID or signature did not match */
	PDS_EINTERNAL = -13,	/* a broken invariant */
	/* request-level outcomes (pdsd answers them with their own status) */
	PDS_EAUTHREQ = -14,	/* authentication required or refused */
	PDS_EAUTHMISSING = -15,	/* no credentials were sent */
	PDS_EBADTOKEN = -16,	/* a token is malformed or not valid here */
	PDS_ETOKENEXPIRED = -17,	/* a token has expired */
	PDS_EFORBIDDEN = -18,	/* credentials valid but not allowed */
	PDS_ENOSUCH = -19,	/* no such resource (HTTP 404) */
	PDS_ENOMETHOD = -20,	/* no such XRPC method is served here */
	PDS_EPAYLOAD = -21,	/* a request body over its limit */
	PDS_ERATELIMIT = -22,	/* a rate limit was exceeded */
	PDS_ENOTIMPL = -23,	/* a method this server does not implement */
	PDS_EUPSTREAM = -24,	/* an upstream service failed */
	PDS_EBUSY = -25,	/* not enough resources to serve now */
	PDS_EUPTIMEOUT = -26,	/* an upstream service timed out */
	PDS_ETAKENDOWN = -27,	/* the account is taken down */
	PDS_EDEACTIVATED = -28,	/* the account is deactivated */
	PDS_E__MIN = -28	/* the lowest code (for tables and tests) */
};

/* Text for a PDS_E* code; never NULL. */
const char *pds_strerror(int err);

/*
 * Why an operation failed, for the layers that answer a client: the
 * code (it decides the HTTP status), an optional lexicon-specific name
 * and a message.  An empty msg and a NULL name mean the code's defaults.
 */
struct pds_error {
	int		 code;
	const char	*name;		/* static, e.g. "RecordNotFound" */
	char		 msg[1024];
};

/*
 * Fill e (NULL is fine: nothing is kept) with code, name (static or NULL)
 * and the formatted message (fmt NULL: none); returns code, for
 * `return pds_error_set(...)'.
 */
int	pds_error_set(struct pds_error *e, int code, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Reset e to "no error" (NULL-safe). */
void	pds_error_clear(struct pds_error *e);

/*
 * Format a message into err (unless err is NULL or errlen 0) and return
 * rc; for `return pds_errf(...)' in functions that report to a buffer.
 */
int	pds_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/* Set *why (when why is non-NULL) and return err; for one-line failures. */
static inline int
pds_fail(const char **why, int err, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return err;
}

#endif
