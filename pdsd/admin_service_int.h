/*
 * admin_service_int: the helpers shared by admin_service.c,
 * admin_accounts.c and admin_sessions.c.  Not for use outside those
 * files.
 */
#ifndef PDSD_ADMIN_SERVICE_INT_H
#define PDSD_ADMIN_SERVICE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct admin_actor;
struct admin_err;

/*
 * Fill err (may be NULL): name (AP_E_*), xname and a message (fmt may be
 * NULL); returns code.  The XRPC code is code for the caller's faults
 * (PDS_EINVAL, PDS_ETOOBIG, PDS_EEXIST, PDS_ENOTFOUND) and PDS_EUPSTREAM,
 * and PDS_EINTERNAL for anything else.
 */
int	admin_fail(struct admin_err *err, int code, const char *name,
	    const char *xname, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* An unexpected failure (store, memory); PDS_OK counts as EINTERNAL. */
int	admin_fail_internal(struct admin_err *err, int code);
/* Audit the attempt ("ok" or "failed" with err->name) and pass rc through. */
int	admin_audited(const struct admin_actor *actor, const char *action,
	    const char *subject, const char *reason, int rc,
	    const struct admin_err *err, const json_t *detail);
/* A list page size: 0 means 100, at most ADMIN_LIST_MAX. */
size_t	admin_page_limit(size_t limit);
/*
 * The reference a takedown records into *ref: the one given, or when
 * applied without one the time, written into now[STORE_TS_LEN].
 * PDS_EINVAL (err set) when it is too long.
 */
int	admin_takedown_ref(bool applied, const char **ref, char *now,
	    struct admin_err *err);
/* Set o's key to the string s, unless s is empty (the store's "none"). */
void	admin_json_text(json_t *o, const char *key, const char *s);

#endif
