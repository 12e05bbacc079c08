/*
 * read_after_write: the AppView views the PDS patches with the caller's
 * newest records.  See read_after_write.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "accounts.h"
#include "cbor.h"
#include "clock.h"
#include "config.h"
#include "dmjson.h"
#include "err.h"
#include "log.h"
#include "proxy.h"
#include "read_after_write.h"
#include "store_prefs.h"
#include "syntax.h"
#include "xrpc.h"

#define COLL_POST	"app.bsky.feed.post"
#define COLL_PROFILE	"app.bsky.actor.profile"
#define THREAD_VIEW	"app.bsky.feed.defs#threadViewPost"
#define LOCAL_MAX	200	/* newer records looked at per call */

/* ---- the pure part -------------------------------------------------- */

/*
 * pattern with its three "%s" replaced by kind, did and cid (the
 * reference's util.format(pattern, kind, did, cid)); false if the
 * pattern has any other conversion.
 */
static bool
cdn_url(const char *pattern, const char *kind, const char *did,
    const char *cid, char *out, size_t cap)
{
	const char	*args[3] = { kind, did, cid };
	size_t		 n = 0, k = 0, l;
	const char	*p;

	for (p = pattern; *p != '\0'; p++) {
		if (*p == '%') {
			if (p[1] != 's' || k == 3)
				return false;
			l = strlen(args[k]);
			if (n + l >= cap)
				return false;
			memcpy(out + n, args[k++], l);
			n += l;
			p++;
			continue;
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = *p;
	}
	out[n] = '\0';
	return k == 3;
}

/* The image URL of a profile record's blob field, or NULL. */
static json_t *
image_url(const struct raw_local *l, const json_t *rec, const char *field,
    const char *kind)
{
	const char	*cid;
	char		 url[1024];

	cid = json_string_value(json_object_get(json_object_get(
	    json_object_get(rec, field), "ref"), "$link"));
	if (cid == NULL || l->cdn_pattern == NULL ||
	    !cdn_url(l->cdn_pattern, kind, l->did, cid, url, sizeof(url)))
		return NULL;
	return json_string(url);
}

static void
set_or_del(json_t *o, const char *k, json_t *v)
{
	if (v != NULL)
		json_object_set(o, k, v);
	else
		json_object_del(o, k);
}

/*
 * The profile fields of view from the local record: basic views get
 * displayName and avatar, fuller ones description, detailed ones the
 * banner.  Images only when a CDN pattern makes URLs for them.
 */
static void
update_profile(json_t *view, const struct raw_local *l, int level)
{
	const json_t	*rec = l->profile;
	json_t		*u;

	if (!json_is_object(view) || rec == NULL)
		return;
	set_or_del(view, "displayName", json_object_get(rec, "displayName"));
	if (level >= 1)
		set_or_del(view, "description",
		    json_object_get(rec, "description"));
	if (l->cdn_pattern != NULL) {
		u = image_url(l, rec, "avatar", "avatar");
		set_or_del(view, "avatar", u);
		json_decref(u);
		if (level >= 2) {
			u = image_url(l, rec, "banner", "banner");
			set_or_del(view, "banner", u);
			json_decref(u);
		}
	}
}

static bool
is_caller(const json_t *view, const struct raw_local *l)
{
	const char	*did = json_string_value(json_object_get(view, "did"));

	return did != NULL && strcmp(did, l->did) == 0;
}

int
raw_munge_profile(json_t *view, const struct raw_local *l)
{
	if (!json_is_object(view) || l->profile == NULL || !is_caller(view, l))
		return -1;
	update_profile(view, l, 2);
	return 0;
}

int
raw_munge_profiles(json_t *view, const struct raw_local *l)
{
	json_t	*a = json_object_get(view, "profiles"), *p;
	size_t	 i;

	if (!json_is_array(a) || l->profile == NULL)
		return -1;
	json_array_foreach(a, i, p)
		if (is_caller(p, l))
			update_profile(p, l, 2);
	return 0;
}

static json_t *
author_view(const struct raw_local *l)
{
	json_t	*a;

	a = json_pack("{s:s,s:s}", "did", l->did, "handle",
	    l->handle != NULL && l->handle[0] != '\0' ? l->handle :
	    "handle.invalid");
	if (a != NULL)
		update_profile(a, l, 0);
	return a;
}

static json_t *
post_view(const struct raw_post *p, const struct raw_local *l)
{
	json_t	*author;

	if ((author = author_view(l)) == NULL)
		return NULL;
	return json_pack("{s:s,s:s,s:o,s:O,s:i,s:i,s:i,s:i,s:s,s:{},s:[]}",
	    "uri", p->uri, "cid", p->cid, "author", author,
	    "record", p->record, "replyCount", 0, "repostCount", 0,
	    "likeCount", 0, "quoteCount", 0, "indexedAt", p->indexed_at,
	    "viewer", "labels");
}

static const char *
item_time(const json_t *item)
{
	const char *s = json_string_value(json_object_get(json_object_get(
	    item, "post"), "indexedAt"));

	return s != NULL ? s : "";
}

/*
 * The reference's formatAndInsertPostsInFeed: posts newer than the
 * page's last item, newest first, each before the first older item.
 */
static int
insert_posts(json_t *feed, const struct raw_local *l)
{
	const char	*last;
	json_t		*pv, *it;
	size_t		 i, j, n;

	if (!json_is_array(feed))
		return -1;
	n = json_array_size(feed);
	last = n > 0 ? item_time(json_array_get(feed, n - 1)) : "";
	for (i = l->nposts; i-- > 0;) {
		const struct raw_post *p = &l->posts[i];

		if (strcmp(p->indexed_at, last) <= 0)
			continue;
		if ((pv = post_view(p, l)) == NULL ||
		    (it = json_pack("{s:o}", "post", pv)) == NULL)
			return -1;
		n = json_array_size(feed);
		for (j = 0; j < n; j++)
			if (strcmp(item_time(json_array_get(feed, j)),
			    p->indexed_at) < 0)
				break;
		if (json_array_insert_new(feed, j, it) != 0)
			return -1;
	}
	return 0;
}

int
raw_munge_timeline(json_t *view, const struct raw_local *l)
{
	if (l->nposts == 0)
		return -1;
	return insert_posts(json_object_get(view, "feed"), l);
}

int
raw_munge_author_feed(json_t *view, const char *actor,
    const struct raw_local *l)
{
	json_t	*feed = json_object_get(view, "feed"), *it, *author;
	size_t	 i;

	if (actor == NULL || !json_is_array(feed))
		return -1;
	/* Only the caller's own feed. */
	if (strcmp(actor, l->did) != 0 && (l->handle == NULL ||
	    strcasecmp(actor, l->handle) != 0))
		return -1;
	if (l->profile != NULL) {
		json_array_foreach(feed, i, it) {
			author = json_object_get(json_object_get(it, "post"),
			    "author");
			if (is_caller(author, l))
				update_profile(author, l, 0);
		}
	}
	return insert_posts(feed, l);
}

static const char *
reply_uri(const json_t *record, const char *which)
{
	return json_string_value(json_object_get(json_object_get(
	    json_object_get(record, "reply"), which), "uri"));
}

static bool
is_thread_view(const json_t *v)
{
	const char *t = json_string_value(json_object_get(v, "$type"));

	return t != NULL && strcmp(t, THREAD_VIEW) == 0;
}

/* Insert p as the first reply of its parent somewhere under view. */
static int
thread_insert(json_t *view, const struct raw_post *p,
    const struct raw_local *l)
{
	const char	*parent = reply_uri(p->record, "parent");
	const char	*here = json_string_value(json_object_get(
	    json_object_get(view, "post"), "uri"));
	json_t		*replies, *r, *pv, *tv;
	size_t		 i;

	if (parent != NULL && here != NULL && strcmp(parent, here) == 0) {
		if ((pv = post_view(p, l)) == NULL ||
		    (tv = json_pack("{s:s,s:o}", "$type", THREAD_VIEW,
		    "post", pv)) == NULL)
			return -1;
		if ((replies = json_object_get(view, "replies")) == NULL) {
			json_object_set_new(view, "replies", json_array());
			replies = json_object_get(view, "replies");
		}
		if (!json_is_array(replies) ||
		    json_array_insert_new(replies, 0, tv) != 0)
			return -1;
		return 0;
	}
	replies = json_object_get(view, "replies");
	json_array_foreach(replies, i, r)
		if (is_thread_view(r) && thread_insert(r, p, l) != 0)
			return -1;
	return 0;
}

int
raw_munge_post_thread(json_t *view, const struct raw_local *l)
{
	json_t		*thread = json_object_get(view, "thread");
	const char	*top, *root, *top_root;
	size_t		 i;
	int		 n = 0;

	if (!is_thread_view(thread))
		return -1;
	top = json_string_value(json_object_get(json_object_get(thread,
	    "post"), "uri"));
	top_root = reply_uri(json_object_get(json_object_get(thread, "post"),
	    "record"), "root");
	for (i = 0; i < l->nposts; i++) {
		root = reply_uri(l->posts[i].record, "root");
		if (root == NULL || top == NULL || (strcmp(root, top) != 0 &&
		    (top_root == NULL || strcmp(root, top_root) != 0)))
			continue;
		if (thread_insert(thread, &l->posts[i], l) != 0)
			return -1;
		n++;
	}
	return n > 0 ? 0 : -1;
}

/* ---- loading the local records -------------------------------------- */

struct loaded {
	struct raw_local l;
	json_t		*profile;
	struct raw_post	*posts;
	size_t		 cap;
	char		 earliest[STORE_TS_LEN];
	char		 handle[HANDLE_MAX + 1];
};

static json_t *
cbor_json(const uint8_t *data, size_t len)
{
	struct dm_arena	*a;
	struct dm_value	*v;
	const char	*why;
	json_t		*j = NULL;

	if ((a = dm_arena_new()) == NULL)
		return NULL;
	if (dm_decode(a, data, len, &v, &why) == PDS_OK)
		j = dm_to_json(v);
	dm_arena_free(a);
	return j;
}

static int
load_cb(void *arg, const struct store_raw_record *r)
{
	struct loaded	*ld = arg;
	struct raw_post	*np, *p;
	json_t		*rec;
	char		 uri[DID_MAX + 128];

	if ((rec = cbor_json(r->data, r->len)) == NULL)
		return 0;
	if (ld->earliest[0] == '\0')
		snprintf(ld->earliest, sizeof(ld->earliest), "%s",
		    r->indexed_at);
	if (strcmp(r->collection, COLL_PROFILE) == 0 &&
	    strcmp(r->rkey, "self") == 0) {
		json_decref(ld->profile);
		ld->profile = rec;
		return 0;
	}
	if (strcmp(r->collection, COLL_POST) != 0) {
		json_decref(rec);
		return 0;
	}
	if (ld->l.nposts == ld->cap) {
		ld->cap = ld->cap ? ld->cap * 2 : 8;
		if ((np = reallocarray(ld->posts, ld->cap,
		    sizeof(*np))) == NULL) {
			json_decref(rec);
			return PDS_ENOMEM;
		}
		ld->posts = np;
	}
	snprintf(uri, sizeof(uri), "at://%s/%s/%s", ld->l.did, COLL_POST,
	    r->rkey);
	p = &ld->posts[ld->l.nposts];
	p->uri = strdup(uri);
	p->cid = strdup(r->cid);
	p->indexed_at = strdup(r->indexed_at);
	p->record = rec;
	if (p->uri == NULL || p->cid == NULL || p->indexed_at == NULL) {
		free((char *)(uintptr_t)p->uri);
		free((char *)(uintptr_t)p->cid);
		free((char *)(uintptr_t)p->indexed_at);
		json_decref(rec);
		return PDS_ENOMEM;
	}
	ld->l.nposts++;
	return 0;
}

static void
loaded_clear(struct loaded *ld)
{
	size_t	 i;

	for (i = 0; i < ld->l.nposts; i++) {
		free((char *)(uintptr_t)ld->posts[i].uri);
		free((char *)(uintptr_t)ld->posts[i].cid);
		free((char *)(uintptr_t)ld->posts[i].indexed_at);
		json_decref(ld->posts[i].record);
	}
	free(ld->posts);
	json_decref(ld->profile);
}

/* The profile record as it is now (for author views of new posts). */
static int
current_profile_cb(void *arg, const struct store_raw_record *r)
{
	struct loaded	*ld = arg;

	if (strcmp(r->rkey, "self") == 0 && ld->profile == NULL)
		ld->profile = cbor_json(r->data, r->len);
	return 0;
}

static int
load_local(struct xrpc_ctx *ctx, const char *rev, struct loaded *ld)
{
	static const char *const colls[] = { COLL_POST, COLL_PROFILE };
	static const char *const prof[] = { COLL_PROFILE };
	struct store_account a;
	bool		 newer_profile;
	int		 rc;

	memset(ld, 0, sizeof(*ld));
	ld->l.did = ctx->auth.did;
	ld->l.cdn_pattern = ctx->cfg->appview_cdn_url_pattern;
	rc = store_records_since(ctx->auth.did, rev, colls, 2, LOCAL_MAX,
	    load_cb, ld);
	newer_profile = ld->profile != NULL;
	if (rc == PDS_OK && ld->l.nposts > 0 && !newer_profile)
		rc = store_records_since(ctx->auth.did, "", prof, 1, 1,
		    current_profile_cb, ld);
	ld->l.posts = ld->posts;
	/* Only a newer profile record changes profile views. */
	ld->l.profile = ld->profile;
	if (ld->l.nposts > 0 && account_get(ctx->auth.did, &a) == PDS_OK)
		snprintf(ld->handle, sizeof(ld->handle), "%s", a.handle);
	ld->l.handle = ld->handle;
	if (!newer_profile && ld->l.nposts == 0) {
		json_decref(ld->profile);
		ld->profile = ld->l.profile = NULL;
	}
	return rc;
}

/* Milliseconds since an ISO 8601 UTC timestamp, or -1. */
static long long
lag_ms(const char *ts)
{
	struct tm	 tm;
	const char	*p;
	long long	 ms = 0;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
	    p[2] <= '9' && p[3] >= '0' && p[3] <= '9')
		ms = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
	t = timegm(&tm);
	ms = (long long)clock_wall_ms() - ((long long)t * 1000 + ms);
	return ms < 0 ? 0 : ms;
}

/* ---- proxying and patching ------------------------------------------ */

static int
munge(enum raw_kind k, struct xrpc_ctx *ctx, json_t *v,
    const struct raw_local *l)
{
	switch (k) {
	case RAW_PROFILE:
		return raw_munge_profile(v, l);
	case RAW_PROFILES:
		return raw_munge_profiles(v, l);
	case RAW_TIMELINE:
		return raw_munge_timeline(v, l);
	case RAW_AUTHOR:
		return raw_munge_author_feed(v,
		    http_req_query(ctx->req, "actor"), l);
	case RAW_THREAD:
		return raw_munge_post_thread(v, l);
	}
	return -1;
}

int
raw_proxy(struct xrpc_ctx *ctx, enum raw_kind k)
{
	struct proxy_target t;
	struct proxy_call c;
	struct proxy_resp r;
	struct loaded	 ld;
	json_t		*v = NULL;
	char		 lag[32];
	long long	 ms;
	int		 rc;

	if ((rc = proxy_call_select(ctx, &t, &c)) != 0)
		return rc;
	if (proxy_header_names_other(ctx))
		return proxy_forward(ctx, &c);
	if ((rc = proxy_fetch(ctx, &c, &r)) != 0) {
		proxy_resp_clear(&r);
		return rc;
	}
	if (r.status != 200 || r.repo_rev[0] == '\0' ||
	    !syntax_is_tid(r.repo_rev, strlen(r.repo_rev)))
		goto as_is;
	if (load_local(ctx, r.repo_rev, &ld) != PDS_OK) {
		loaded_clear(&ld);
		goto as_is;
	}
	if (ld.l.profile == NULL && ld.l.nposts == 0) {
		loaded_clear(&ld);
		goto as_is;
	}
	v = json_loadb((const char *)r.body.p, r.body.len, 0, NULL);
	if (v == NULL || munge(k, ctx, v, &ld.l) != 0) {
		json_decref(v);
		v = NULL;
	} else if ((ms = lag_ms(ld.earliest)) >= 0) {
		snprintf(lag, sizeof(lag), "%lld", ms);
		(void)http_reply_header(ctx->req, "Atproto-Upstream-Lag", lag);
	}
	loaded_clear(&ld);
as_is:
	rc = proxy_reply(ctx, &r, v);
	proxy_resp_clear(&r);
	return rc;
}
