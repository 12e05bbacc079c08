/*
 * test_pdsd_proxy: the proxy's method lists (reference-pds §1.8, §2.2)
 * and the read-after-write patches (§2.3) on hand-made AppView answers.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "../../pdsd/proxy.h"
#include "../../pdsd/read_after_write.h"
#include "t.h"

#define ALICE	"did:plc:alice000000000000000000"
#define POST	"at://" ALICE "/app.bsky.feed.post/"

static void
test_lists(void)
{
	/* The reference's PROTECTED_METHODS, as reference-pds §2.2 lists. */
	static const char *const protected[] = {
		"com.atproto.admin.sendEmail",
		"com.atproto.identity.requestPlcOperationSignature",
		"com.atproto.identity.signPlcOperation",
		"com.atproto.identity.updateHandle",
		"com.atproto.server.activateAccount",
		"com.atproto.server.confirmEmail",
		"com.atproto.server.createAppPassword",
		"com.atproto.server.deactivateAccount",
		"com.atproto.server.getAccountInviteCodes",
		"com.atproto.server.getSession",
		"com.atproto.server.listAppPasswords",
		"com.atproto.server.requestAccountDelete",
		"com.atproto.server.requestEmailConfirmation",
		"com.atproto.server.requestEmailUpdate",
		"com.atproto.server.revokeAppPassword",
		"com.atproto.server.updateEmail",
	};
	size_t	 i;

	t_group("method lists");
	for (i = 0; i < sizeof(protected) / sizeof(protected[0]); i++)
		CHECK(proxy_method_protected(protected[i]), "%s", protected[i]);
	CHECK(proxy_method_protected("COM.ATPROTO.SERVER.GETSESSION"), "case");
	CHECK(!proxy_method_protected("com.atproto.server.getSessions"),
	    "prefix");
	CHECK(!proxy_method_protected("app.bsky.feed.getTimeline"), "appview");
	CHECK(!proxy_method_protected("com.atproto.server.createAccount"),
	    "createAccount is privileged, not protected");
	CHECK(proxy_method_privileged("chat.bsky.convo.sendMessage"), "chat");
	CHECK(proxy_method_privileged("Chat.Bsky.convo.listConvos"),
	    "chat, case");
	CHECK(proxy_method_privileged("com.atproto.server.createAccount"),
	    "createAccount");
	CHECK(!proxy_method_privileged("chat.bskyx.foo"), "not chat");
	CHECK(!proxy_method_privileged("app.bsky.actor.getProfile"),
	    "profile");
	t_group_end();
}

static json_t *
post_record(const char *text, const char *root, const char *parent)
{
	json_t	*r = json_pack("{s:s,s:s,s:s}", "$type", "app.bsky.feed.post",
	    "text", text, "createdAt", "2024-05-01T00:00:00.000Z");

	if (root != NULL)
		json_object_set_new(r, "reply", json_pack(
		    "{s:{s:s,s:s},s:{s:s,s:s}}",
		    "root", "uri", root, "cid", "bafyroot",
		    "parent", "uri", parent, "cid", "bafyparent"));
	return r;
}

static json_t *
feed_item(const char *uri, const char *indexed_at)
{
	return json_pack("{s:{s:s,s:s,s:{s:s,s:s},s:s}}", "post", "uri", uri,
	    "cid", "bafyx", "author", "did", "did:plc:other", "handle",
	    "other.test", "indexedAt", indexed_at);
}

static const char *
item_uri(json_t *feed, size_t i)
{
	return json_string_value(json_object_get(json_object_get(
	    json_array_get(feed, i), "post"), "uri"));
}

static void
test_profiles(void)
{
	struct raw_local l;
	json_t		*prof, *v, *vs;

	t_group("profiles");
	prof = json_pack("{s:s,s:s,s:s,s:{s:s,s:{s:s},s:s,s:i}}",
	    "$type", "app.bsky.actor.profile", "displayName", "Local",
	    "description", "new words", "avatar", "$type", "blob", "ref",
	    "$link", "bafkavatar", "mimeType", "image/png", "size", 10);
	memset(&l, 0, sizeof(l));
	l.did = ALICE;
	l.handle = "alice.test";
	l.profile = prof;
	l.cdn_pattern = "https://cdn.example/img/%s/plain/%s/%s@jpeg";

	v = json_pack("{s:s,s:s,s:s,s:i}", "did", ALICE, "handle",
	    "alice.test", "displayName", "Old", "followersCount", 5);
	CHECK(raw_munge_profile(v, &l) == 0, "own profile patched");
	CHECK(strcmp(json_string_value(json_object_get(v, "displayName")),
	    "Local") == 0, "displayName");
	CHECK(strcmp(json_string_value(json_object_get(v, "description")),
	    "new words") == 0, "description");
	CHECK(strcmp(json_string_value(json_object_get(v, "avatar")),
	    "https://cdn.example/img/avatar/plain/" ALICE
	    "/bafkavatar@jpeg") == 0, "avatar: %s",
	    json_string_value(json_object_get(v, "avatar")));
	CHECK(json_object_get(v, "banner") == NULL, "no banner in record");
	CHECK(json_integer_value(json_object_get(v, "followersCount")) == 5,
	    "counts kept");
	json_decref(v);

	v = json_pack("{s:s,s:s,s:s}", "did", "did:plc:other", "handle",
	    "o.test", "displayName", "Other");
	CHECK(raw_munge_profile(v, &l) != 0, "someone else's untouched");
	CHECK(strcmp(json_string_value(json_object_get(v, "displayName")),
	    "Other") == 0, "other name");
	json_decref(v);

	vs = json_pack("{s:[{s:s,s:s},{s:s,s:s,s:s}]}", "profiles",
	    "did", "did:plc:other", "handle", "o.test",
	    "did", ALICE, "handle", "alice.test", "displayName", "Old");
	CHECK(raw_munge_profiles(vs, &l) == 0, "profiles");
	CHECK(json_object_get(json_array_get(json_object_get(vs, "profiles"),
	    0), "displayName") == NULL, "other not given a name");
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(vs, "profiles"), 1), "displayName")), "Local") ==
	    0, "own one patched");
	json_decref(vs);

	/* A bad CDN pattern gives no URL rather than a format string. */
	l.cdn_pattern = "https://cdn.example/%d/%s/%s";
	v = json_pack("{s:s,s:s,s:s}", "did", ALICE, "handle", "alice.test",
	    "avatar", "https://old/avatar");
	CHECK(raw_munge_profile(v, &l) == 0, "patched");
	CHECK(json_object_get(v, "avatar") == NULL, "no avatar from %%d");
	json_decref(v);
	json_decref(prof);
	t_group_end();
}

static void
test_feeds(void)
{
	struct raw_local l;
	struct raw_post	 p[3];
	json_t		*recs[3], *v, *feed, *pv;
	size_t		 i;

	t_group("feeds");
	recs[0] = post_record("one", NULL, NULL);
	recs[1] = post_record("two", NULL, NULL);
	recs[2] = post_record("three", NULL, NULL);
	p[0] = (struct raw_post){ POST "1", "bafy1",
	    "2024-05-01T00:00:01.000Z", recs[0] };
	p[1] = (struct raw_post){ POST "2", "bafy2",
	    "2024-05-01T00:00:03.000Z", recs[1] };
	p[2] = (struct raw_post){ POST "3", "bafy3",
	    "2024-05-01T00:00:05.000Z", recs[2] };
	memset(&l, 0, sizeof(l));
	l.did = ALICE;
	l.handle = "alice.test";
	l.posts = p;
	l.nposts = 3;

	/* The page ends at :02, so post 1 (at :01) is left out. */
	v = json_pack("{s:[o,o],s:s}", "feed",
	    feed_item("at://x/a", "2024-05-01T00:00:04.000Z"),
	    feed_item("at://x/b", "2024-05-01T00:00:02.000Z"), "cursor", "c");
	CHECK(raw_munge_timeline(v, &l) == 0, "timeline");
	feed = json_object_get(v, "feed");
	CHECK(json_array_size(feed) == 4, "two inserted: %zu",
	    json_array_size(feed));
	CHECK(strcmp(item_uri(feed, 0), POST "3") == 0, "newest first");
	CHECK(strcmp(item_uri(feed, 1), "at://x/a") == 0, "then :04");
	CHECK(strcmp(item_uri(feed, 2), POST "2") == 0, "then :03");
	CHECK(strcmp(item_uri(feed, 3), "at://x/b") == 0, "then :02");
	pv = json_object_get(json_array_get(feed, 0), "post");
	CHECK(strcmp(json_string_value(json_object_get(pv, "cid")), "bafy3")
	    == 0, "cid");
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(pv,
	    "author"), "handle")), "alice.test") == 0, "author handle");
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(pv,
	    "record"), "text")), "three") == 0, "record");
	CHECK(json_integer_value(json_object_get(pv, "likeCount")) == 0 &&
	    json_is_array(json_object_get(pv, "labels")), "counts, labels");
	CHECK(strcmp(json_string_value(json_object_get(v, "cursor")), "c") ==
	    0, "cursor kept");
	json_decref(v);

	/* An empty page takes all of them, newest first. */
	v = json_pack("{s:[]}", "feed");
	CHECK(raw_munge_timeline(v, &l) == 0, "empty timeline");
	feed = json_object_get(v, "feed");
	CHECK(json_array_size(feed) == 3, "all three");
	for (i = 0; i < 3 && json_array_size(feed) == 3; i++)
		CHECK(strcmp(item_uri(feed, i), p[2 - i].uri) == 0, "order %zu",
		    i);
	json_decref(v);

	/* Author feeds: only the caller's own, by DID or handle. */
	v = json_pack("{s:[]}", "feed");
	CHECK(raw_munge_author_feed(v, "did:plc:other", &l) != 0, "other");
	CHECK(json_array_size(json_object_get(v, "feed")) == 0, "untouched");
	CHECK(raw_munge_author_feed(v, "Alice.Test", &l) == 0, "own handle");
	CHECK(json_array_size(json_object_get(v, "feed")) == 3, "inserted");
	json_decref(v);

	for (i = 0; i < 3; i++)
		json_decref(recs[i]);
	t_group_end();
}

static void
test_thread(void)
{
	struct raw_local l;
	struct raw_post	 p[2];
	json_t		*recs[2], *v, *replies, *top;
	const char	*root = "at://did:plc:other/app.bsky.feed.post/root";
	const char	*mid = "at://did:plc:bob/app.bsky.feed.post/mid";

	t_group("thread");
	/* A reply to the root and a reply to a reply. */
	recs[0] = post_record("to root", root, root);
	recs[1] = post_record("to mid", root, mid);
	p[0] = (struct raw_post){ POST "r1", "bafyr1",
	    "2024-05-01T00:00:01.000Z", recs[0] };
	p[1] = (struct raw_post){ POST "r2", "bafyr2",
	    "2024-05-01T00:00:02.000Z", recs[1] };
	memset(&l, 0, sizeof(l));
	l.did = ALICE;
	l.handle = "alice.test";
	l.posts = p;
	l.nposts = 2;
	v = json_pack("{s:{s:s,s:{s:s,s:{}},s:[{s:s,s:{s:s,s:{}}}]}}",
	    "thread", "$type", "app.bsky.feed.defs#threadViewPost",
	    "post", "uri", root, "record",
	    "replies", "$type", "app.bsky.feed.defs#threadViewPost",
	    "post", "uri", mid, "record");
	CHECK(raw_munge_post_thread(v, &l) == 0, "thread patched");
	top = json_object_get(v, "thread");
	replies = json_object_get(top, "replies");
	CHECK(json_array_size(replies) == 2, "root has two replies");
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(
	    json_array_get(replies, 0), "post"), "uri")), POST "r1") == 0,
	    "new reply first");
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(replies,
	    0), "$type")), "app.bsky.feed.defs#threadViewPost") == 0, "$type");
	replies = json_object_get(json_array_get(replies, 1), "replies");
	CHECK(json_array_size(replies) == 1 && strcmp(json_string_value(
	    json_object_get(json_object_get(json_array_get(replies, 0),
	    "post"), "uri")), POST "r2") == 0, "nested reply under mid");
	json_decref(v);

	/* Posts of other threads leave it alone. */
	v = json_pack("{s:{s:s,s:{s:s,s:{}}}}", "thread", "$type",
	    "app.bsky.feed.defs#threadViewPost", "post", "uri",
	    "at://did:plc:z/app.bsky.feed.post/zz", "record");
	CHECK(raw_munge_post_thread(v, &l) != 0, "unrelated thread");
	CHECK(json_object_get(json_object_get(v, "thread"), "replies") ==
	    NULL, "no replies added");
	json_decref(v);
	v = json_pack("{s:{s:s,s:s}}", "thread", "$type",
	    "app.bsky.feed.defs#notFoundPost", "uri", root);
	CHECK(raw_munge_post_thread(v, &l) != 0, "not found left alone");
	json_decref(v);
	json_decref(recs[0]);
	json_decref(recs[1]);
	t_group_end();
}

int
main(void)
{
	test_lists();
	test_profiles();
	test_feeds();
	test_thread();
	return t_done("test_pdsd_proxy");
}
