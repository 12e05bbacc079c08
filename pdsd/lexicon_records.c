/*
 * lexicon_records: optional validation of records of third-party
 * lexicons (PDS_LEXICON_RESOLVE_RECORDS): a collection the compiled-in
 * table does not know is resolved (lexicon_resolve.h), its document
 * built into a table of its own at run time (lexicon.h), and the record
 * checked against it.
 *
 * Fail-open, as an unknown collection is today: whenever the schema is
 * not at hand (not resolvable, not a record lexicon, or refs to other
 * documents, which are not followed) the record is "unknown".  On an
 * HTTP worker nothing is fetched: the cache answers, and a miss is
 * resolved on the NET pool behind the request, for the next write.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cbor.h"
#include "err.h"
#include "lexicon.h"
#include "lexicon_resolve.h"
#include "offload.h"
#include "stats.h"

static bool	 records_on;

void
lexres_records_enable(bool on)
{
	records_on = on;
}

static void
refresh_job(void *arg)
{
	struct lexres_result	 res;

	(void)lexres_get(arg, 0, &res);
	lexres_result_clear(&res);
	free(arg);
}

/* Resolve nsid behind the request (bounded by the NET pool's queue). */
static void
refresh_behind(const char *nsid)
{
	char	*dup;

	if ((dup = strdup(nsid)) == NULL)
		return;
	if (offload_submit(OFFLOAD_NET, NULL, refresh_job, dup, NULL) !=
	    PDS_OK)
		free(dup);
}

int
lexres_check_record(const char *collection, const char *rkey,
    const struct dm_value *value, char *msg, size_t msglen)
{
	struct lexres_result	 res;
	struct lex_builder	*b;
	const struct lex_table	*t;
	const struct lex_node	*rec;
	struct lex_verr		 verr;
	char			 berr[128];
	bool			 guarded;
	int			 rc;

	if (!records_on)
		return PDS_ENOTFOUND;
	guarded = offload_guard() != OFFLOAD_GUARD_NONE;
	rc = lexres_get(collection, guarded ? LEXRES_CACHED : 0, &res);
	/* Not cached, or due a fetch: for the next write. */
	if (guarded && (rc == PDS_OK || rc == PDS_ENOTFOUND) &&
	    (res.updated_at == 0 || res.due))
		refresh_behind(collection);
	if (rc != PDS_OK) {
		lexres_result_clear(&res);
		return rc == PDS_ENOMEM ? rc : PDS_ENOTFOUND;
	}
	if ((b = lex_builder_new()) == NULL) {
		lexres_result_clear(&res);
		return PDS_ENOMEM;
	}
	rc = PDS_ENOTFOUND;
	if (lex_builder_add(b, res.doc, berr, sizeof(berr)) == 0 &&
	    (t = lex_builder_finish(b)) != NULL &&
	    (rec = lex_record_find(t, collection)) != NULL) {
		memset(&verr, 0, sizeof(verr));
		if (lex_validate_record(t, rec, rkey, value, LEXV_BLOBS,
		    &verr) == 0)
			rc = PDS_OK;
		else if (strncmp(verr.msg, "Lexicon definition not found",
		    28) != 0) {
			snprintf(msg, msglen, "%s", verr.msg);
			rc = PDS_EINVAL;
		}
	}
	lex_builder_free(b);
	lexres_result_clear(&res);
	return rc;
}
