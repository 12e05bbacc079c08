/*
 * Unit tests: OAuth scope parsing, normalisation and the permission
 * checks of the resource server (brief §1.9).
 */
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "oauth_scope.h"
#include "t.h"

static struct scope_set *S;

/* Parse one token; its normalised form into out, or "" if invalid. */
static int
one(const char *tok, char *out, size_t cap)
{
	struct buf	 b;
	const char	*why = NULL;
	int		 rc;

	out[0] = '\0';
	scope_set_reset(S);
	rc = scope_set_add(S, tok, strlen(tok), &why);
	if (rc != PDS_OK && rc != PDS_EUNSUPP)
		return rc;
	buf_init(&b, 1 << 16);
	if (scope_perm_format(&S->p[0], &b) == PDS_OK && b.len < cap)
		memcpy(out, b.p, b.len + 1);
	buf_clear(&b);
	return rc;
}

static bool
parse(const char *str)
{
	return scope_set_parse(S, str, strlen(str), NULL) == PDS_OK;
}

struct norm_case {
	const char	*in;
	const char	*out;	/* NULL: invalid */
};

static const struct norm_case norm_cases[] = {
	/* the specification's own examples */
	{ "repo:app.example.profile?action=create&action=update",
	  "repo:app.example.profile?action=create&action=update" },
	{ "rpc?lxm=*&aud=did:web:api.example.com%23svc_appview",
	  "rpc:*?aud=did:web:api.example.com%23svc_appview" },
	{ "blob?accept=video/*&accept=text/html",
	  "blob?accept=text/html&accept=video/*" },
	{ "include:app.example.authFull?aud=did:web:api.example.com%23svc_chat",
	  "include:app.example.authFull?aud=did:web:api.example.com%23svc_chat" },
	/* expanded token scope observed from the reference */
	{ "repo:com.example.like?action=delete",
	  "repo:com.example.like?action=delete" },
	{ "rpc:com.example.getSkeleton?aud=*", "rpc:com.example.getSkeleton?aud=*" },
	/* ScopeMissingError examples that are valid scopes */
	{ "repo:app.bsky.feed.post?action=create",
	  "repo:app.bsky.feed.post?action=create" },
	{ "blob:text/plain", "blob:text/plain" },
	{ "identity:handle", "identity:handle" },
	/* aud must be a did#service reference */
	{ "rpc:app.bsky.feed.getTimeline?aud=did:web:example.com", NULL },
	{ "atproto", "atproto" },
	{ "transition:generic", "transition:generic" },
	{ "transition:chat.bsky", "transition:chat.bsky" },
	{ "transition:email", "transition:email" },
	{ "transition:foo", NULL },
	{ "foo:bar", NULL },
	{ "openid", NULL },
	{ "ATPROTO", NULL },
	{ "atproto?x=1", NULL },
	/* repo */
	{ "repo:app.bsky.feed.post", "repo:app.bsky.feed.post" },
	{ "repo:app.bsky.feed.post?action=delete&action=create&action=update",
	  "repo:app.bsky.feed.post" },
	{ "repo:app.bsky.feed.post?action=delete&action=create",
	  "repo:app.bsky.feed.post?action=create&action=delete" },
	{ "repo:app.bsky.feed.post?action=create&action=create",
	  "repo:app.bsky.feed.post?action=create" },
	{ "repo?collection=b.b.b&collection=a.a.a",
	  "repo?collection=a.a.a&collection=b.b.b" },
	{ "repo?collection=a.a.a&collection=*", "repo:*" },
	{ "repo?collection=a.a.a&collection=a.a.a", "repo:a.a.a" },
	{ "repo:*?action=delete", "repo:*?action=delete" },
	{ "repo:app.bsky.feed.post?", "repo:app.bsky.feed.post" },
	{ "repo:app.bsky.feed.post?ac%74ion=cre%61te",
	  "repo:app.bsky.feed.post?action=create" },
	{ "repo", NULL },
	{ "repo:", NULL },
	{ "repo?action=create", NULL },
	{ "repo:app.bsky.feed.post?collection=app.bsky.feed.like", NULL },
	{ "repo:app.bsky.feed.post?action=read", NULL },
	{ "repo:app.bsky.feed.post?action=", NULL },
	{ "repo:app.bsky.feed.post?foo=bar", NULL },
	{ "repo:app.bsky.feed.*", NULL },
	{ "repo:notansid", NULL },
	{ "repo:%zz", NULL },
	{ "repo:a.b.c%00", NULL },
	{ "Repo:app.bsky.feed.post", NULL },
	/* rpc */
	{ "rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview",
	  "rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview" },
	{ "rpc:app.bsky.feed.getTimeline?aud=did%3Aweb%3Aapi.bsky.app%23x",
	  "rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23x" },
	{ "rpc?lxm=b.b.b&lxm=a.a.a&aud=*", "rpc?lxm=a.a.a&lxm=b.b.b&aud=*" },
	{ "rpc?lxm=a.a.a&lxm=*&aud=did:web:x.com%23a",
	  "rpc:*?aud=did:web:x.com%23a" },
	{ "rpc:*?aud=*", NULL },
	{ "rpc?lxm=*&aud=*", NULL },
	{ "rpc?lxm=a.a.a&lxm=*&aud=*", NULL },
	{ "rpc:app.bsky.feed.getTimeline", NULL },
	{ "rpc?aud=*", NULL },
	{ "rpc:a.b.c?aud=*&aud=*", NULL },
	{ "rpc:a.b.c?aud=did:web:api.bsky.app#svc",
	  "rpc:a.b.c?aud=did:web:api.bsky.app%23svc" },
	{ "rpc:a.b.c?aud=did:web:api.bsky.app%23", NULL },
	{ "rpc:a.b.c?aud=did:web:x.com%23a%23b", NULL },
	{ "rpc:a.b.c?aud=did:key:zQ3sh%23a", NULL },
	{ "rpc:a.b.c?lxm=d.e.f&aud=*", NULL },
	/* blob */
	{ "blob:image/*", "blob:image/*" },
	{ "blob:*/*", "blob:*/*" },
	{ "blob:IMAGE/PNG", "blob:image/png" },
	{ "blob:application/ld+json", "blob:application/ld+json" },
	{ "blob?accept=image/*&accept=*/*", "blob:*/*" },
	{ "blob?accept=image/*&accept=video/*&accept=image/png",
	  "blob?accept=image/*&accept=video/*" },
	{ "blob?accept=image/png&accept=image/png", "blob:image/png" },
	{ "blob:image", NULL },
	{ "blob:/png", NULL },
	{ "blob:image/", NULL },
	{ "blob:*/png", NULL },
	{ "blob:image/png/x", NULL },
	{ "blob:image/p*ng", NULL },
	{ "blob", NULL },
	{ "blob?accept=", NULL },
	{ "blob:image/*?accept=video/*", NULL },
	/* account */
	{ "account:email", "account:email" },
	{ "account:email?action=read", "account:email" },
	{ "account:email?action=manage", "account:email?action=manage" },
	{ "account:repo?action=manage", "account:repo?action=manage" },
	{ "account:status", "account:status" },
	{ "account?attr=email", "account:email" },
	{ "account:foo", NULL },
	{ "account:*", NULL },
	{ "account", NULL },
	{ "account?attr=email&attr=repo", NULL },
	{ "account:email?attr=email", NULL },
	{ "account:email?action=write", NULL },
	/* identity */
	{ "identity:handle", "identity:handle" },
	{ "identity:*", "identity:*" },
	{ "identity:%2A", "identity:*" },
	{ "identity?attr=handle", "identity:handle" },
	{ "identity:foo", NULL },
	{ "identity", NULL },
	{ "identity:handle?attr=handle", NULL },
	/* include */
	{ "include:app.example.authFull", "include:app.example.authFull" },
	{ "include:app.example.authFull?aud=*", NULL },
	{ "include:app.example.authFull?aud=did:web:api.example.com", NULL },
	{ "include:*", NULL },
	{ "include:app.example.authFull?nsid=app.example.other", NULL },
};

static void
test_normalise(void)
{
	char	 out[512], again[512];
	size_t	 i;
	int	 rc;

	t_group("normalise");
	for (i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		const struct norm_case *c = &norm_cases[i];
		rc = one(c->in, out, sizeof(out));
		if (c->out == NULL) {
			CHECK(rc == PDS_EINVAL, "%s: rc %d, want invalid", c->in,
			    rc);
			continue;
		}
		CHECK(rc == PDS_OK || rc == PDS_EUNSUPP, "%s: rc %d", c->in, rc);
		CHECK(strcmp(out, c->out) == 0, "%s: got %s want %s", c->in,
		    out, c->out);
		/* the normalised form is a fixed point */
		(void)one(out, again, sizeof(again));
		CHECK(strcmp(out, again) == 0, "%s: %s re-normalised to %s",
		    c->in, out, again);
	}
	t_group_end();
}

static void
test_set(void)
{
	struct buf	 b;
	const char	*why = NULL;
	static char	 big[SCOPE_STR_MAX + 2];
	size_t		 i;

	t_group("set");
	buf_init(&b, 1 << 16);
	CHECK(parse("atproto foo:bar  transition:generic atproto"), "parse");
	CHECK(S->n == 2 && S->dropped == 1, "n %zu dropped %zu", S->n,
	    S->dropped);
	CHECK(scope_set_format(S, &b) == PDS_OK &&
	    strcmp((char *)b.p, "atproto transition:generic") == 0, "fmt %s",
	    (char *)b.p);
	CHECK(scope_set_has(S, SCOPE_ATPROTO), "has atproto");
	CHECK(!scope_set_has(S, SCOPE_TRANSITION_EMAIL), "no email");
	buf_reset(&b);
	CHECK(parse("repo:a.b.c?action=create repo?collection=a.b.c&"
	    "action=create atproto"), "dedup");
	CHECK(S->n == 2, "n %zu", S->n);
	CHECK(scope_set_parse(S, "atproto include:app.example.authFull", 36,
	    &why) == PDS_OK && S->n == 2 && S->p[1].kind == SCOPE_INCLUDE,
	    "include kept");
	CHECK(scope_set_parse(S, "atproto\tx", 9, &why) == PDS_EINVAL,
	    "tab refused");
	CHECK(scope_set_parse(S, "", 0, &why) == PDS_OK && S->n == 0,
	    "empty");
	memset(big, 'a', sizeof(big) - 1);
	CHECK(scope_set_parse(S, big, SCOPE_STR_MAX + 1, &why) ==
	    PDS_ETOOBIG, "too long");
	/* SCOPE_PERM_MAX + 1 distinct tokens */
	buf_reset(&b);
	for (i = 0; i <= SCOPE_PERM_MAX; i++)
		(void)buf_printf(&b, "repo:a.b.c%zu ", i);
	CHECK(scope_set_parse(S, (char *)b.p, b.len, &why) == PDS_ETOOBIG,
	    "too many");
	/* values that fill the arena exactly still fit */
	buf_reset(&b);
	while (b.len + 20 < SCOPE_STR_MAX)
		(void)buf_puts(&b, "blob:image/png ");
	CHECK(parse((char *)b.p) && S->n == 1, "repeats");
	/* a MIME type longer than another value's whole text */
	buf_reset(&b);
	(void)buf_puts(&b, "atproto blob?accept=");
	for (i = 0; i < 8000; i++)
		(void)buf_putc(&b, 'a');
	(void)buf_puts(&b, "/b&accept=c/d");
	CHECK(parse((char *)b.p) && S->n == 2 && S->p[1].nval == 2,
	    "long MIME type beside a short one");
	buf_clear(&b);
	t_group_end();
}

static void
test_checks(void)
{
	t_group("checks");
	CHECK(parse("atproto repo:app.bsky.feed.post?action=create"), "p");
	CHECK(scope_allows_repo(S, "app.bsky.feed.post", SCOPE_REPO_CREATE),
	    "create post");
	CHECK(!scope_allows_repo(S, "app.bsky.feed.like", SCOPE_REPO_CREATE),
	    "like");
	CHECK(!scope_allows_repo(S, "app.bsky.feed.post", SCOPE_REPO_DELETE),
	    "delete post");
	/* putRecord needs create and update */
	CHECK(!scope_allows_repo(S, "app.bsky.feed.post",
	    SCOPE_REPO_CREATE | SCOPE_REPO_UPDATE), "put");
	CHECK(!scope_allows_blob(S, "image/png"), "no blob");
	CHECK(!scope_allows_rpc(S, "app.bsky.feed.getTimeline", "*"), "rpc");
	CHECK(!scope_allows_account(S, SCOPE_ATTR_EMAIL, SCOPE_ACCOUNT_READ),
	    "email");

	CHECK(parse("atproto"), "p");
	CHECK(!scope_allows_repo(S, "app.bsky.feed.post", SCOPE_REPO_CREATE),
	    "atproto alone grants nothing");

	CHECK(parse("repo:*?action=delete repo:a.b.c"), "p");
	CHECK(scope_allows_repo(S, "x.y.z", SCOPE_REPO_DELETE), "any delete");
	CHECK(!scope_allows_repo(S, "x.y.z", SCOPE_REPO_UPDATE), "no update");
	CHECK(scope_allows_repo(S, "a.b.c", SCOPE_REPO_CREATE |
	    SCOPE_REPO_UPDATE), "a.b.c put");

	CHECK(parse("blob:image/* blob:text/plain"), "p");
	CHECK(scope_allows_blob(S, "image/png"), "png");
	CHECK(scope_allows_blob(S, "IMAGE/JPEG; q=1"), "jpeg params");
	CHECK(scope_allows_blob(S, "text/plain;charset=utf-8"), "text");
	CHECK(!scope_allows_blob(S, "text/html"), "html");
	CHECK(!scope_allows_blob(S, "video/mp4"), "mp4");
	CHECK(!scope_allows_blob(S, "image"), "bad mime");
	CHECK(!scope_allows_blob(S, "imagex/png"), "prefix is not a type");
	CHECK(parse("blob:*/*"), "p");
	CHECK(scope_allows_blob(S, "application/octet-stream"), "any");
	CHECK(!scope_allows_blob(S, ""), "empty mime");

	CHECK(parse("rpc:app.bsky.feed.getTimeline?aud="
	    "did:web:api.bsky.app%23bsky_appview rpc:a.b.c?aud=*"), "p");
	CHECK(scope_allows_rpc(S, "app.bsky.feed.getTimeline",
	    "did:web:api.bsky.app#bsky_appview"), "timeline");
	CHECK(!scope_allows_rpc(S, "app.bsky.feed.getTimeline",
	    "did:web:api.bsky.app#other"), "aud exact");
	CHECK(!scope_allows_rpc(S, "app.bsky.feed.getTimeline",
	    "did:web:api.bsky.app"), "aud without fragment");
	CHECK(scope_allows_rpc(S, "a.b.c", "did:web:anything.com#x"), "aud *");
	CHECK(!scope_allows_rpc(S, "*", "did:web:api.bsky.app#bsky_appview"),
	    "lxm * needs rpc:*");
	CHECK(!scope_allows_rpc(S, NULL, "did:web:api.bsky.app#bsky_appview"),
	    "omitted lxm is *");
	CHECK(parse("rpc:*?aud=did:web:api.bsky.app%23bsky_appview"), "p");
	CHECK(scope_allows_rpc(S, NULL, "did:web:api.bsky.app#bsky_appview"),
	    "rpc:* omitted lxm");
	CHECK(scope_allows_rpc(S, "chat.bsky.convo.getLog",
	    "did:web:api.bsky.app#bsky_appview"), "rpc:* covers chat");

	CHECK(parse("atproto transition:generic"), "p");
	CHECK(scope_allows_repo(S, "x.y.z", SCOPE_REPO_ALL), "generic repo");
	CHECK(scope_allows_blob(S, "video/mp4"), "generic blob");
	CHECK(scope_allows_rpc(S, "app.bsky.feed.getTimeline", "did:web:a.com#b"),
	    "generic rpc");
	CHECK(scope_allows_rpc(S, NULL, "did:web:a.com#b"), "generic lxm *");
	CHECK(!scope_allows_rpc(S, "chat.bsky.convo.getLog",
	    "did:web:api.bsky.chat#bsky_chat"), "generic no chat");
	CHECK(!scope_allows_account(S, SCOPE_ATTR_EMAIL, SCOPE_ACCOUNT_READ),
	    "generic no email");
	CHECK(!scope_allows_account(S, SCOPE_ATTR_REPO, SCOPE_ACCOUNT_MANAGE),
	    "generic no import");
	CHECK(!scope_allows_identity(S, SCOPE_IDENTITY_HANDLE),
	    "generic no handle");

	CHECK(parse("atproto transition:chat.bsky"), "p");
	CHECK(scope_allows_rpc(S, "chat.bsky.convo.getLog",
	    "did:web:api.bsky.chat#bsky_chat"), "chat");
	CHECK(!scope_allows_rpc(S, "app.bsky.feed.getTimeline",
	    "did:web:a.com#b"), "chat only");

	CHECK(parse("atproto transition:email"), "p");
	CHECK(scope_allows_account(S, SCOPE_ATTR_EMAIL, SCOPE_ACCOUNT_READ),
	    "email read");
	CHECK(!scope_allows_account(S, SCOPE_ATTR_EMAIL, SCOPE_ACCOUNT_MANAGE),
	    "email manage");

	CHECK(parse("account:email?action=manage account:repo"), "p");
	CHECK(scope_allows_account(S, SCOPE_ATTR_EMAIL, SCOPE_ACCOUNT_READ),
	    "manage implies read");
	CHECK(scope_allows_account(S, SCOPE_ATTR_EMAIL, SCOPE_ACCOUNT_MANAGE),
	    "manage");
	CHECK(scope_allows_account(S, SCOPE_ATTR_REPO, SCOPE_ACCOUNT_READ),
	    "repo read");
	CHECK(!scope_allows_account(S, SCOPE_ATTR_REPO, SCOPE_ACCOUNT_MANAGE),
	    "no importRepo");
	CHECK(!scope_allows_account(S, SCOPE_ATTR_STATUS, SCOPE_ACCOUNT_READ),
	    "status");

	CHECK(parse("identity:handle"), "p");
	CHECK(scope_allows_identity(S, SCOPE_IDENTITY_HANDLE), "handle");
	CHECK(!scope_allows_identity(S, SCOPE_IDENTITY_ANY), "no plc");
	CHECK(parse("identity:*"), "p");
	CHECK(scope_allows_identity(S, SCOPE_IDENTITY_HANDLE), "* handle");
	CHECK(scope_allows_identity(S, SCOPE_IDENTITY_ANY), "* plc");
	t_group_end();
}

static void
test_describe(void)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "repo:app.bsky.feed.post?action=create",
		  "Create posts (app.bsky.feed.post)" },
		{ "repo:app.bsky.feed.like?action=create&action=delete",
		  "Create and delete likes (app.bsky.feed.like)" },
		{ "repo:com.example.thing",
		  "Create, update and delete records (com.example.thing)" },
		{ "repo:*", "Create, update and delete records of any kind" },
		{ "blob:image/*", "Upload files (image/*)" },
		{ "rpc:a.b.c?aud=*", "Call a.b.c on any service" },
		{ "account:email?action=manage",
		  "Manage your account email address" },
		{ "identity:handle", "Change your handle" },
	};
	struct buf	 b;
	size_t		 i;

	t_group("describe");
	buf_init(&b, 4096);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		CHECK(parse(cases[i].in) && S->n == 1, "%s", cases[i].in);
		CHECK(scope_perm_describe(&S->p[0], &b) == PDS_OK &&
		    strcmp((char *)b.p, cases[i].want) == 0, "%s: %s",
		    cases[i].in, b.len ? (char *)b.p : "");
	}
	buf_clear(&b);
	t_group_end();
}

/* The reason scope_set_add() gives for a bad resource token. */
static void
test_reasons(void)
{
	static const struct {
		const char	*in, *why;
	} cases[] = {
		{ "repo:a.b.c?foo=1", "repo: unknown parameter" },
		{ "repo?action=create", "repo: collection missing" },
		{ "repo:*?collection=a.b.c",
		    "repo: collection given twice or too often" },
		{ "repo:ab", "repo: collection is not an NSID or *" },
		{ "rpc:a.b.c", "rpc: aud missing" },
		{ "rpc:a.b.c?lxm=a.b.d&aud=*",
		    "rpc: lxm given twice or too often" },
		{ "rpc:ab?aud=*", "rpc: lxm is not an NSID or *" },
		{ "blob", "blob: accept missing" },
		{ "blob:*/*?aud=*", "blob: unknown parameter" },
		{ "account?attr=email&attr=repo",
		    "account: attr given more than once" },
		{ "account", "account: attr missing" },
		{ "identity:handle?action=read", "identity: unknown parameter" },
		{ "identity", "identity: attr missing" },
		{ "include", "include: nsid missing" },
		{ "include:a.b.c?nsid=a.b.d",
		    "include: nsid given more than once" },
		{ "include:a.b.c?aud=did:web:x%23y&aud=did:web:z%23w",
		    "include: aud given more than once" },
	};
	const char	*why;
	size_t		 i;

	t_group("reasons");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		scope_set_reset(S);
		CHECK(scope_set_add(S, cases[i].in, strlen(cases[i].in),
		    &why) == PDS_EINVAL && why != NULL &&
		    strcmp(why, cases[i].why) == 0, "%s: %s", cases[i].in,
		    why != NULL ? why : "(none)");
	}
	t_group_end();
}

int
main(void)
{
	if ((S = scope_set_new()) == NULL)
		return 1;
	test_normalise();
	test_set();
	test_checks();
	test_describe();
	test_reasons();
	scope_set_free(S);
	return t_done("test_oauth_scope");
}
