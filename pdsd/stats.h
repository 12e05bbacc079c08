/*
 * stats: pdsd's live numbers, for pdsctl stats, pdstui and the admin
 * XRPC.  Two registries, both safe to use from any thread:
 *
 * Counters.  A module registers a named counter once (at init, or
 * lazily: registration is idempotent and returns the same pointer for
 * the same name) and bumps it with stats_add() (one relaxed atomic add:
 * cheap enough for every request).  A once-a-second sampler thread
 * turns STATS_RATE counters into per-second rates.  A STATS_GAUGE is a
 * level, set with stats_set(), not a running total.
 *
 *	static struct stats_counter *c_req;
 *	c_req = stats_counter("http.requests", STATS_RATE);
 *	...
 *	stats_add(c_req, 1);
 *
 * Names are "module.what" in lower case; at most STATS_MAX counters.
 * A counter pointer stays valid for the life of the process.
 *
 * Subscribers.  The firehose registers each live subscriber
 * (stats_sub_add), updates its progress (stats_sub_update) and removes
 * it when it goes (stats_sub_remove); `pdsctl firehose subscribers'
 * lists them.
 */
#ifndef PDSD_STATS_H
#define PDSD_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define STATS_MAX		128
#define STATS_NAME_MAX		47
#define STATS_SUBS_MAX		4096
#define STATS_REMOTE_MAX	63

/* Counter flags. */
#define STATS_RATE	0x01	/* the sampler keeps a per-second rate */
#define STATS_GAUGE	0x02	/* a level (stats_set), not a total */

struct stats_counter;

/*
 * The counter called name, registered on first use.  NULL only when the
 * registry is full or the name is malformed; stats_add() etc. accept
 * NULL and do nothing, so callers need not check.
 */
struct stats_counter *stats_counter(const char *name, unsigned flags);
void	stats_add(struct stats_counter *, uint64_t n);
void	stats_set(struct stats_counter *, uint64_t value);
uint64_t stats_get(const struct stats_counter *);
/* The last sampled per-second rate (0 before the first sample). */
double	stats_rate(const struct stats_counter *);

/*
 * Every counter as {"name": {"value": N, "rate": R?}, ...} (rate only
 * for STATS_RATE).  New reference, NULL on allocation failure.
 */
json_t	*stats_counters_json(void);

/*
 * Call fn for every counter, in registration order, with its name,
 * flags and value (for the metrics endpoint).
 */
void	stats_foreach(void (*fn)(void *, const char *name, unsigned flags,
	    uint64_t value), void *arg);

/* Take one sample now (the sampler thread does this every second). */
void	stats_sample(void);

/* Whole seconds since the stats module started (0 before). */
int64_t	stats_uptime_s(void);

/* ---- firehose subscribers ---- */

struct stats_sub {
	uint64_t	 id;		/* the registry's, never reused */
	char		 remote[STATS_REMOTE_MAX + 1];	/* peer address */
	int64_t		 cursor;	/* the cursor it asked for, -1: none */
	int64_t		 seq;		/* last seq sent */
	uint64_t	 events;	/* events sent */
	uint64_t	 bytes;		/* bytes sent */
	uint64_t	 queued;	/* bytes waiting in its buffer */
	int64_t		 connected_ms;	/* unix milliseconds */
};

/* Register a subscriber; its id (0 if the registry is full). */
uint64_t stats_sub_add(const char *remote, int64_t cursor);
/* Progress: the newest seq sent and the totals (absolute values). */
void	stats_sub_update(uint64_t id, int64_t seq, uint64_t events,
	    uint64_t bytes, uint64_t queued);
void	stats_sub_remove(uint64_t id);
size_t	stats_sub_count(void);
/*
 * The lowest seq sent among live subscribers that have been sent one
 * (-1 when none has): the firehose's lag is the head's seq minus it.
 */
int64_t	stats_sub_min_seq(void);
/* The subscribers as a JSON array of objects, oldest first. */
json_t	*stats_subs_json(void);

#endif
