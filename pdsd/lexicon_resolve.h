/*
 * lexicon_resolve: NSIDs to their published lexicon documents, as the
 * atproto spec's "Lexicon Publication and Resolution" says, with a
 * cache in SQLite shared by every account.
 *
 * Resolution: the authority is the NSID without its name, reversed
 * (app.bsky.feed.post -> feed.bsky.app); its DID is the one did= TXT
 * record at _lexicon.<authority> (no other name is tried), or, when
 * PDS_LEXICON_AUTHORITY_DID is set, that DID for every NSID.  The DID
 * is resolved (resolver.h) to its PDS and signing key; the record
 * com.atproto.lexicon.schema/<nsid> is fetched from that PDS with
 * com.atproto.sync.getRecord and its proof checked (record_proof.h);
 * the record must be a lexicon document whose id is the NSID, and one
 * the table builder accepts (lexicon.h).
 *
 * Cache: a document is served as is for stale_ms after the last
 * attempt; after that it is fetched again, and if that fails the old
 * document is still served until expiry_ms after its last success.  A
 * failure with nothing to serve is remembered for failure_ms: asking
 * again within that time fails at once with the same reason.  Failure
 * rows are pruned (at most LEXRES_FAILURES_MAX are kept), and past
 * LEXRES_ENTRIES_MAX rows the least recently tried go.
 *
 * Outbound calls happen on the calling thread: call from the NET
 * offload pool (offload.h).  On a guarded HTTP worker nothing goes to
 * the network: a miss fails with PDS_EIO.
 */
#ifndef PDSD_LEXICON_RESOLVE_H
#define PDSD_LEXICON_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define LEXRES_CAR_MAX		(256 * 1024)	/* a getRecord answer */
#define LEXRES_FAILURES_MAX	10000		/* failure rows kept */
#define LEXRES_ENTRIES_MAX	50000		/* rows kept in all */
#define LEXRES_ERR_MAX		256

struct lexres_config {
	const char	*authority_did;	/* PDS_LEXICON_AUTHORITY_DID or NULL */
	int64_t		 stale_ms;	/* PDS_LEXICON_STALE_TTL */
	int64_t		 expiry_ms;	/* PDS_LEXICON_EXPIRY_TTL */
	int64_t		 failure_ms;	/* PDS_LEXICON_FAILURE_TTL */
	long		 timeout_ms;	/* per fetch; 0: the outbound default */
};

/* lexres_get flags */
#define LEXRES_REFRESH	0x01	/* fetch now, whatever the cache says */
#define LEXRES_CACHED	0x02	/* never fetch: the cached row only */

struct lexres_result {
	json_t	*doc;		/* the document (a reference), or NULL */
	char	 uri[2600];	/* at://<did>/com.atproto.lexicon.schema/<nsid> */
	char	 cid[128];	/* the record's CID */
	char	 error[LEXRES_ERR_MAX];	/* why it failed (last failure) */
	int64_t	 updated_at;	/* last attempt, ms */
	int64_t	 succeeded_at;	/* last success, ms; 0: never */
	bool	 cached;	/* served from the cache without a fetch */
	bool	 stale;		/* a refresh failed; the old document served */
	bool	 due;		/* LEXRES_CACHED served a row due a fetch */
};

/* Copies the configuration (and the DID). */
int	lexres_init(const struct lexres_config *);
void	lexres_shutdown(void);

/*
 * The document of nsid.  PDS_OK with res->doc set; PDS_EINVAL for a
 * malformed NSID; PDS_ENOTFOUND when it does not resolve (res->error
 * says why, in the reference's words); PDS_EIO when a guarded thread
 * would have had to fetch; other codes for local failures.  Clear res
 * with lexres_result_clear() in every case.
 */
int	lexres_get(const char *nsid, unsigned flags, struct lexres_result *);
void	lexres_result_clear(struct lexres_result *);

/* Forget the cached row of nsid. */
int	lexres_forget(const char *nsid);

/* The authority domain of nsid ("feed.bsky.app"); PDS_EINVAL. */
int	lexres_authority(const char *nsid, char *out, size_t cap);

/*
 * The main def of nsid's document when it is a permission set (a new
 * reference), or an error with the reference's message in err:
 * "Could not resolve Lexicon for NSID (<nsid>)" or "Lexicon document is
 * not a permission set (<nsid>)".
 */
int	lexres_permission_set(const char *nsid, json_t **main, char *err,
	    size_t errlen);

/*
 * Records of lexicons pdsd does not have compiled in
 * (PDS_LEXICON_RESOLVE_RECORDS; lexicon_records.c).  PDS_OK when the
 * collection's resolved schema accepts value; PDS_EINVAL with the
 * validator's message in msg when it refuses it; PDS_ENOTFOUND when
 * there is no schema to check with (off, unresolvable, not a record
 * lexicon, refs to other documents): the record is then "unknown".
 */
struct dm_value;
void	lexres_records_enable(bool on);
int	lexres_check_record(const char *collection, const char *rkey,
	    const struct dm_value *value, char *msg, size_t msglen);

/*
 * The admin socket's lexicon.show {nsid} and lexicon.refresh {nsid}
 * (admin_lexicon.c): the cache's row and document, resolving it as
 * lexres_get() does, or fetching it now.
 */
struct admin_call;
int	admin_lexicon_show(struct admin_call *);
int	admin_lexicon_refresh(struct admin_call *);

/* Counters (stats.h): lexicon.hits, .fetches, .fetch_errors,
 * .stale_served, .failures_served. */

#endif
