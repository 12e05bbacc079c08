/*
 * read_after_write: the AppView lags behind the PDS, so for the
 * caller's own views the PDS patches what it proxies with the records
 * the caller wrote after the revision the AppView has seen
 * (reference-pds §2.3).
 *
 * getProfile, getProfiles, getTimeline, getAuthorFeed and getPostThread
 * go to the AppView through raw_proxy() (their one handler is in
 * api_appview.c).
 * When the answer is a 200 JSON body with an atproto-repo-rev header,
 * the caller's app.bsky.actor.profile and app.bsky.feed.post records
 * with a later rev are loaded and patched in:
 *   - profiles (getProfile, getProfiles, and the caller as author in
 *     getAuthorFeed) get displayName, description and, when
 *     PDS_BSKY_APP_VIEW_CDN_URL_PATTERN is set, avatar and banner from
 *     the local profile record;
 *   - getTimeline, and getAuthorFeed when the actor is the caller, get
 *     the new posts inserted in indexedAt order (only those newer than
 *     the page's last item);
 *   - getPostThread gets the caller's new replies under their parents.
 * The reply then carries Atproto-Upstream-Lag (milliseconds since the
 * oldest such record was written).  If patching fails the AppView's
 * answer goes out unchanged.
 *
 * The munge functions below are the pure part, exported for tests: each
 * patches `view' (the AppView's JSON) in place and returns 0, or -1 to
 * leave it as it was.
 */
#ifndef PDSD_READ_AFTER_WRITE_H
#define PDSD_READ_AFTER_WRITE_H

#include <stddef.h>

#include <jansson.h>

struct xrpc_ctx;

/* Which view a method answers with, so which patches apply. */
enum raw_kind {
	RAW_PROFILE,		/* app.bsky.actor.getProfile */
	RAW_PROFILES,		/* app.bsky.actor.getProfiles */
	RAW_TIMELINE,		/* app.bsky.feed.getTimeline */
	RAW_AUTHOR,		/* app.bsky.feed.getAuthorFeed */
	RAW_THREAD,		/* app.bsky.feed.getPostThread */
};

/*
 * The whole handler of such a method: proxy ctx's request to the
 * AppView (or where atproto-proxy says, then unpatched) and reply with
 * its answer, patched as above for view kind k.  0 after replying, or
 * an XRPC error.
 */
int	raw_proxy(struct xrpc_ctx *, enum raw_kind k);

struct raw_post {
	const char	*uri;
	const char	*cid;
	const char	*indexed_at;
	json_t		*record;	/* borrowed */
};

struct raw_local {
	const char	*did;		/* the caller */
	const char	*handle;	/* "" for handle.invalid */
	json_t		*profile;	/* newer profile record, or NULL */
	struct raw_post	*posts;		/* newer posts, oldest first */
	size_t		 nposts;
	const char	*cdn_pattern;	/* "...%s...%s...%s", or NULL */
};

int	raw_munge_profile(json_t *view, const struct raw_local *);
int	raw_munge_profiles(json_t *view, const struct raw_local *);
int	raw_munge_timeline(json_t *view, const struct raw_local *);
/* actor: the actor parameter (DID or handle) */
int	raw_munge_author_feed(json_t *view, const char *actor,
	    const struct raw_local *);
int	raw_munge_post_thread(json_t *view, const struct raw_local *);

#endif
