/*
 * oauth_replay: the memory in front of the replay table of store_oauth.h
 * (DPoP proof jtis, client assertion jtis, PKCE challenges), so that
 * accepting a key once does not cost a SQLite write on the request's
 * thread.
 *
 * A cache is a fixed table of slots, OAUTH_REPLAY_WAYS to a bucket,
 * each a keyed BLAKE2b tag of ns NUL key (64 bits choose the bucket,
 * 64 more are kept) and the expiry.  A key is live until its expiry
 * (inclusive, as the purge counts it); the slot of an expired key is
 * taken by the next key of its bucket.  Buckets are locked in stripes.
 *
 * A key accepted from memory is queued, and oauth_replay_flush() (the
 * jobs thread, every OAUTH_REPLAY_FLUSH_MS) writes the queue to the
 * table in one transaction.  oauth_replay_load() puts the table's live
 * rows back in memory at start-up, so a restart keeps refusing every
 * replay; a crash loses at most the keys accepted since the last flush
 * (one interval's worth).
 *
 * Memory never forgets a live key: when a key's bucket has no free
 * slot, the queue is full, or the key is longer than the queue holds,
 * the table itself decides, synchronously, as store_oauth_replay_
 * check_and_add() does.  A key the table holds and memory does not
 * (its bucket was full) makes every key of that bucket missed by
 * memory ask the table until that key expires, so answers stay exact,
 * only slower for that bucket's keys: one full bucket does not send
 * every other key to the table.
 */
#ifndef PDSD_OAUTH_REPLAY_H
#define PDSD_OAUTH_REPLAY_H

#include <stddef.h>
#include <stdint.h>

/*
 * The daemon's cache: 2^19 slots of 12 bytes (6.5 MiB with the
 * buckets' spill marks, touched as it fills), enough for the
 * OAUTH_DPOP_JTI_TTL (198 s) of proofs at 2,600 requests a second
 * before buckets spill to the table; a queue of 32,768 keys of up to 64
 * bytes (3 MiB, touched as it fills) between two flushes, so that up to
 * that many keys a second are written behind.
 */
#define OAUTH_REPLAY_WAYS	8
#define OAUTH_REPLAY_SLOTS	(1u << 19)
#define OAUTH_REPLAY_QUEUE	32768
#define OAUTH_REPLAY_KEY_MAX	64	/* longer keys skip the queue */
#define OAUTH_REPLAY_NS_MAX	15	/* longer namespaces too */
#define OAUTH_REPLAY_FLUSH_MS	1000

struct oauth_replay;

/*
 * A cache of slots slots (a multiple of OAUTH_REPLAY_WAYS, at least
 * one bucket) queueing up to queue keys; NULL on ENOMEM or bad sizes.
 * Free it with oauth_replay_free() (NULL-safe), which does not flush.
 */
struct oauth_replay *oauth_replay_new(size_t slots, size_t queue);
void	oauth_replay_free(struct oauth_replay *);

/*
 * Accept key in namespace ns until expires_at, as of now: PDS_OK the
 * first time, PDS_EEXIST while it is live (a replay), or the table's
 * error when it had to ask the table.
 */
int	oauth_replay_add(struct oauth_replay *, const char *ns,
	    const char *key, int64_t expires_at, int64_t now);

/*
 * Write the queued keys to the table in one transaction; *n (may be
 * NULL) gets how many.  On an error they stay queued for the next call.
 * Calls are serialized.
 */
int	oauth_replay_flush(struct oauth_replay *, size_t *n);

/*
 * Put the table's keys live at now into memory (they are in the table
 * already, so they are not queued); *n (may be NULL) gets how many
 * went into memory.
 */
int	oauth_replay_load(struct oauth_replay *, int64_t now, size_t *n);

/*
 * The daemon's cache.  oauth_replay_start() makes it, loads the table
 * and adds the flush job (the store open, jobs running); _stop() makes
 * the last flush.  oauth_replay_check_and_add() is what the request
 * paths call, with the time now; before a start it asks the table.
 */
int	oauth_replay_start(void);
void	oauth_replay_stop(void);
int	oauth_replay_check_and_add(const char *ns, const char *key,
	    int64_t expires_at);

#endif
