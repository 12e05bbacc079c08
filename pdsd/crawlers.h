/*
 * crawlers: tell the relays in PDS_CRAWLERS that this PDS has news
 * (reference-pds §6.5): POST <relay>/xrpc/com.atproto.sync.requestCrawl
 * {"hostname": PDS_HOSTNAME}, at most once per CRAWLERS_INTERVAL_MS per
 * relay, after new events.  The requests run on the crawlers' own thread
 * through outbound (as OUTBOUND_TRUSTED: the operator named the relays),
 * so a slow relay never holds up the firehose.  Failures are logged and
 * retried at the next event after the interval, like the reference.
 */
#ifndef PDSD_CRAWLERS_H
#define PDSD_CRAWLERS_H

#include <stdint.h>

#define CRAWLERS_INTERVAL_MS	(20 * 60 * 1000)

struct config;

/* Start the thread (nothing to do, and PDS_OK, when the list is empty). */
int	crawlers_start(const struct config *);
void	crawlers_stop(void);

/* New events were sequenced: notify the relays that are due.  Cheap. */
void	crawlers_notify(void);

struct crawlers_stats {
	uint64_t	 sent;		/* requests answered 2xx */
	uint64_t	 failed;
	int64_t		 last_ms;	/* unix ms of the last attempt, 0 */
	int64_t		 last_ok_ms;	/* of the last 2xx answer, 0: none */
};
void	crawlers_stats(struct crawlers_stats *);
/*
 * A requestCrawl made elsewhere (pdsctl request-crawl) was accepted:
 * count it and move last_ok_ms.  Any thread.
 */
void	crawlers_note_ok(void);

#endif
