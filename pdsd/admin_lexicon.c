/*
 * admin_lexicon: the admin socket's lexicon.show and lexicon.refresh,
 * for operators: what the lexicon cache holds for an NSID (resolving it
 * when the cache has nothing fresh), or a fetch now.
 */
#include <string.h>

#include <jansson.h>

#include "admin_socket.h"
#include "adminproto.h"
#include "clock.h"
#include "err.h"
#include "lexicon_resolve.h"

static json_t *
time_json(int64_t ms)
{
	char	 iso[CLOCK_ISO_LEN];

	if (ms <= 0)
		return json_null();
	clock_ms_to_iso(ms, iso);
	return json_string(iso);
}

static int
lexicon_answer(struct admin_call *call, unsigned flags)
{
	struct lexres_result	 res;
	const json_t		*v = json_object_get(call->args, "nsid");
	const char		*nsid = json_string_value(v);
	int			 rc;

	if (nsid == NULL || nsid[0] == '\0')
		return admin_refuse(call, PDS_EINVAL, AP_E_INVALID_ARGUMENT,
		    "argument nsid is required");
	rc = lexres_get(nsid, flags, &res);
	if (rc == PDS_EINVAL)
		return admin_refuse(call, rc, AP_E_INVALID_ARGUMENT,
		    "not an NSID: %s", nsid);
	if (rc != PDS_OK && rc != PDS_ENOTFOUND) {
		(void)admin_refuse(call, rc, AP_E_INTERNAL, "%s",
		    res.error[0] != '\0' ? res.error : pds_strerror(rc));
		lexres_result_clear(&res);
		return rc;
	}
	call->result = json_pack("{s:s, s:b, s:b, s:b, s:o, s:o}", "nsid",
	    nsid, "resolved", rc == PDS_OK, "cached", res.cached, "stale",
	    res.stale, "updatedAt", time_json(res.updated_at),
	    "succeededAt", time_json(res.succeeded_at));
	if (call->result == NULL) {
		lexres_result_clear(&res);
		return PDS_ENOMEM;
	}
	if (res.uri[0] != '\0')
		json_object_set_new(call->result, "uri", json_string(res.uri));
	if (res.cid[0] != '\0')
		json_object_set_new(call->result, "cid", json_string(res.cid));
	if (res.error[0] != '\0')
		json_object_set_new(call->result, "error",
		    json_string(res.error));
	if (res.doc != NULL)
		json_object_set(call->result, "document", res.doc);
	lexres_result_clear(&res);
	return PDS_OK;
}

int
admin_lexicon_show(struct admin_call *call)
{
	return lexicon_answer(call, 0);
}

int
admin_lexicon_refresh(struct admin_call *call)
{
	return lexicon_answer(call, LEXRES_REFRESH);
}
