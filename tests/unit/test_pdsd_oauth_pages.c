/*
 * test_pdsd_oauth_pages: the OAuth pages are complete documents whose
 * forms carry what the endpoints read back (CSRF token, request_uri,
 * decision, grant_id), and nothing a client controls can add markup:
 * every client field holds a hostile string, and a small tag scanner
 * then checks that no script tag, event handler attribute or non-http(s)
 * URL came out, and that the usual block tags are balanced.  Also the
 * escaper itself, the URL check, and the Content-Security-Policy (whose
 * script hash must match the form_post page's script).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "../../pdsd/oauth_pages.h"
#include "t.h"

/* Meant to break out of text, of either kind of attribute, and of URLs. */
#define EVIL	"x\"'><script>alert(1)</script><img src=x onerror=alert(2)>"
#define EVIL_ESC "x&quot;&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" \
		"&lt;img src=x onerror=alert(2)&gt;"
#define CSRF	"csrf-0123456789abcdef"
#define REQURI	"urn:ietf:params:oauth:request_uri:req-0123456789abcdef"
#define DID	"did:plc:ewvi7nxzyoun6zhxrhs64oiz"

/*
 * A tag scanner, just enough for our own output: tags with attributes
 * (quoted or not), comments skipped, and the raw text of <style> and
 * <script> skipped to its end tag.  Attribute values stay escaped.
 */
#define TOK_NATTR	24
struct tok {
	const char	*p;
	char		 name[16];
	bool		 close;
	size_t		 nattr;
	char		 key[TOK_NATTR][32];
	char		 val[TOK_NATTR][512];
	const char	*raw;		/* style/script text, rawlen bytes */
	size_t		 rawlen;
};

static void
copy_span(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static bool
tok_next(struct tok *t)
{
	const char	*s, *e;
	char		 end[24];

	t->raw = NULL;
	t->rawlen = 0;
	for (;;) {
		if ((s = strchr(t->p, '<')) == NULL)
			return false;
		if (strncmp(s, "<!--", 4) == 0) {
			if ((e = strstr(s, "-->")) == NULL)
				return false;
			t->p = e + 3;
			continue;
		}
		break;
	}
	s++;
	t->close = *s == '/';
	if (t->close)
		s++;
	e = s + strcspn(s, " \t\n/>");
	copy_span(t->name, sizeof(t->name), s, (size_t)(e - s));
	t->nattr = 0;
	s = e;
	for (;;) {
		s += strspn(s, " \t\n/");
		if (*s == '\0')
			return false;
		if (*s == '>')
			break;
		e = s + strcspn(s, " \t\n/>=");
		if (t->nattr < TOK_NATTR)
			copy_span(t->key[t->nattr], sizeof(t->key[0]), s,
			    (size_t)(e - s));
		s = e;
		if (*s == '=') {
			char	 q = *++s;

			if (q == '"' || q == '\'') {
				e = strchr(s + 1, q);
				if (e == NULL)
					return false;
				if (t->nattr < TOK_NATTR)
					copy_span(t->val[t->nattr],
					    sizeof(t->val[0]), s + 1,
					    (size_t)(e - s - 1));
				s = e + 1;
			} else {
				e = s + strcspn(s, " \t\n>");
				if (t->nattr < TOK_NATTR)
					copy_span(t->val[t->nattr],
					    sizeof(t->val[0]), s,
					    (size_t)(e - s));
				s = e;
			}
		} else if (t->nattr < TOK_NATTR)
			t->val[t->nattr][0] = '\0';
		if (t->nattr < TOK_NATTR)
			t->nattr++;
	}
	t->p = s + 1;
	if (!t->close && (strcasecmp(t->name, "style") == 0 ||
	    strcasecmp(t->name, "script") == 0)) {
		snprintf(end, sizeof(end), "</%s", t->name);
		if ((e = strcasestr(t->p, end)) == NULL)
			return false;
		t->raw = t->p;
		t->rawlen = (size_t)(e - t->p);
		t->p = e;
	}
	return true;
}

/* The value of attribute k, "" for a bare one, NULL if absent. */
static const char *
tok_attr(const struct tok *t, const char *k)
{
	size_t	 i;

	for (i = 0; i < t->nattr; i++)
		if (strcasecmp(t->key[i], k) == 0)
			return t->val[i];
	return NULL;
}

/* Whether attribute k is present and equal to v. */
static bool
attr_eq(const struct tok *t, const char *k, const char *v)
{
	const char	*x = tok_attr(t, k);

	return x != NULL && strcmp(x, v) == 0;
}

static bool
is_tag(const struct tok *t, const char *name)
{
	return !t->close && strcasecmp(t->name, name) == 0;
}

/*
 * The checks every page must pass: a complete document, balanced block
 * tags, no script but the form_post one (nscripts expected), no event
 * handler attributes, and only http(s) or path URLs.
 */
static void
check_page(const char *what, const struct buf *b, int nscripts)
{
	static const char *const tracked[] = {
		"form", "div", "p", "ul", "li", "button", "label", "main",
		"html", "head", "body", "title", "style", "a", "h1", "h2",
	};
	const char	*html = (const char *)b->p;
	struct tok	 t = { .p = html };
	int		 depth[sizeof(tracked) / sizeof(tracked[0])] = { 0 };
	int		 scripts = 0, bad_attr = 0, bad_url = 0, neg = 0;
	size_t		 i, j;
	bool		 ok = true;

	CHECK(b->len > 0 && strncmp(html, "<!doctype html>", 15) == 0,
	    "%s: starts with the doctype", what);
	CHECK(strstr(html, "<meta name=\"viewport\" content=\"width=device-"
	    "width, initial-scale=1\">") != NULL, "%s: viewport meta", what);
	CHECK(strstr(html, "<meta charset=\"utf-8\">") != NULL,
	    "%s: charset", what);
	CHECK(b->len >= 8 && strcmp(html + b->len - 8, "</html>\n") == 0,
	    "%s: ends with </html>", what);
	CHECK(strlen(html) == b->len, "%s: no NUL inside", what);
	while (tok_next(&t)) {
		for (i = 0; i < sizeof(tracked) / sizeof(tracked[0]); i++)
			if (strcasecmp(t.name, tracked[i]) == 0) {
				depth[i] += t.close ? -1 : 1;
				if (depth[i] < 0)
					neg++;
			}
		if (is_tag(&t, "script"))
			scripts++;
		for (j = 0; j < t.nattr; j++) {
			const char	*k = t.key[j], *v = t.val[j];

			if (strncasecmp(k, "on", 2) == 0 ||
			    strcasecmp(k, "style") == 0 ||
			    strcasecmp(k, "srcdoc") == 0 ||
			    strcasecmp(k, "formaction") == 0)
				bad_attr++;
			if ((strcasecmp(k, "href") == 0 ||
			    strcasecmp(k, "src") == 0 ||
			    strcasecmp(k, "action") == 0) &&
			    strncmp(v, "https://", 8) != 0 &&
			    strncmp(v, "http://", 7) != 0 && v[0] != '/')
				bad_url++;
		}
	}
	for (i = 0; i < sizeof(tracked) / sizeof(tracked[0]); i++)
		if (depth[i] != 0) {
			fprintf(stderr, "%s: <%s> off by %d\n", what,
			    tracked[i], depth[i]);
			ok = false;
		}
	CHECK(ok && neg == 0, "%s: tags balanced", what);
	CHECK(scripts == nscripts, "%s: %d script tags", what, scripts);
	CHECK(bad_attr == 0, "%s: %d handler attributes", what, bad_attr);
	CHECK(bad_url == 0, "%s: %d bad URLs", what, bad_url);
	CHECK(strstr(html, "javascript:") == NULL, "%s: no javascript:",
	    what);
}

/*
 * The hidden inputs of the form whose action is `action', in order,
 * as "name=value;" pairs (values still escaped), into out.
 */
static void
form_hidden(const struct buf *b, const char *action, char *out,
    size_t cap)
{
	struct tok	 t = { .p = (const char *)b->p };
	bool		 in = false;
	const char	*a, *n, *v;
	size_t		 len;

	out[0] = '\0';
	while (tok_next(&t)) {
		if (is_tag(&t, "form") && (a = tok_attr(&t, "action")) &&
		    strcmp(a, action) == 0 && attr_eq(&t, "method", "post"))
			in = true;
		else if (t.close && strcasecmp(t.name, "form") == 0)
			in = false;
		else if (in && is_tag(&t, "input") &&
		    attr_eq(&t, "type", "hidden")) {
			n = tok_attr(&t, "name");
			v = tok_attr(&t, "value");
			len = strlen(out);
			snprintf(out + len, cap - len, "%s=%s;",
			    n ? n : "?", v ? v : "?");
		}
	}
}

/* The first tag named name whose attribute k is v; false if none. */
static bool
find_tag(const struct buf *b, const char *name, const char *k,
    const char *v, struct tok *out)
{
	struct tok	 t = { .p = (const char *)b->p };
	const char	*x;

	while (tok_next(&t))
		if (is_tag(&t, name) && (x = tok_attr(&t, k)) != NULL &&
		    strcmp(x, v) == 0) {
			*out = t;
			return true;
		}
	return false;
}

static int
count(const char *hay, const char *needle)
{
	int	 n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static const char *
esc(const char *s)
{
	static struct buf	 b;

	buf_clear(&b);
	buf_init(&b, 0);
	if (oauth_page_escape(&b, s) != PDS_OK || b.p == NULL)
		return "";
	return (const char *)b.p;
}

static void
test_escape(void)
{
	t_group("escape");
	CHECK(strcmp(esc("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;") == 0,
	    "the five");
	CHECK(strcmp(esc(EVIL), EVIL_ESC) == 0, "%s", esc(EVIL));
	CHECK(strcmp(esc("plain text"), "plain text") == 0, "plain");
	CHECK(strcmp(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == 0, "UTF-8 kept");
	CHECK(strcmp(esc("a\tb\nc"), "a\tb\nc") == 0, "tab, newline kept");
	CHECK(strcmp(esc("a\x01" "b\x7f"), "a\xef\xbf\xbd" "b\xef\xbf\xbd")
	    == 0, "controls replaced");
	CHECK(strcmp(esc("\xff"), "\xef\xbf\xbd") == 0, "stray byte");
	CHECK(strcmp(esc("\xc0\xbc"), "\xef\xbf\xbd\xef\xbf\xbd") == 0,
	    "overlong '<' replaced, not decoded");
	CHECK(strcmp(esc("\xed\xa0\x80"),
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd") == 0, "surrogate");
	CHECK(strcmp(esc("\xf4\x90\x80\x80x"), "\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbdx") == 0, "past U+10FFFF");
	CHECK(strcmp(esc("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd") == 0,
	    "truncated sequence at the end");
	CHECK(strcmp(esc("\xc2\x85"), "\xef\xbf\xbd\xef\xbf\xbd") == 0,
	    "C1 control");
	CHECK(strcmp(esc(""), "") == 0, "empty");
	t_group_end();
}

static void
test_url_ok(void)
{
	char	 big[OAUTH_PAGE_URL_MAX + 32];

	t_group("url_ok");
	CHECK(oauth_page_url_ok("https://app.example.com/logo.png", true),
	    "https");
	CHECK(oauth_page_url_ok("HTTPS://app.example.com", true), "case");
	CHECK(oauth_page_url_ok("http://app.example.com/", false), "http");
	CHECK(!oauth_page_url_ok("http://app.example.com/", true),
	    "http refused for https_only");
	CHECK(!oauth_page_url_ok("javascript:alert(1)", false), "javascript");
	CHECK(!oauth_page_url_ok("JaVaScRiPt:alert(1)", false), "JaVaScRiPt");
	CHECK(!oauth_page_url_ok(" https://x.example", false), "leading space");
	CHECK(!oauth_page_url_ok("data:text/html,<script>", false), "data");
	CHECK(!oauth_page_url_ok("//evil.example/", false), "scheme-relative");
	CHECK(!oauth_page_url_ok("/local", false), "path");
	CHECK(!oauth_page_url_ok("https://", false), "no host");
	CHECK(!oauth_page_url_ok("https:///path", false), "empty host");
	CHECK(!oauth_page_url_ok("https://a.example/x y", false), "space");
	CHECK(!oauth_page_url_ok("https://a.example/\x01", false), "control");
	CHECK(!oauth_page_url_ok("https:\\\\evil.example", false),
	    "backslashes");
	CHECK(!oauth_page_url_ok("https://a.example\\@evil", false),
	    "backslash");
	CHECK(!oauth_page_url_ok(NULL, false), "NULL");
	CHECK(!oauth_page_url_ok("", false), "empty");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "https://", 8);
	CHECK(!oauth_page_url_ok(big, false), "too long");
	big[OAUTH_PAGE_URL_MAX] = '\0';
	CHECK(oauth_page_url_ok(big, false), "at the limit");
	t_group_end();
}

/* A client whose every field is hostile; the URLs are not http(s). */
static const struct oauth_page_client evil_client = {
	.client_id = "https://u:\"'><b>@evil.example/" EVIL,
	.name = EVIL,
	.logo_uri = "javascript:alert(3)",
	.client_uri = "javascript:alert(4)",
	.tos_uri = "data:text/html,<script>alert(5)</script>",
	.policy_uri = " https://evil.example/\"onmouseover=\"alert(6)",
};

static const struct oauth_page_client good_client = {
	.client_id = "https://app.example.com/client-metadata.json",
	.name = "Example App",
	.logo_uri = "https://app.example.com/logo.png",
	.client_uri = "https://app.example.com/",
	.tos_uri = "https://app.example.com/tos?a=1&b=2",
	.policy_uri = "http://app.example.com/privacy",
};

static void
test_signin(void)
{
	struct oauth_signin_page	 pg = {
		.req = {
			.server_name = "social.coop",
			.client = good_client,
			.action = "/oauth/authorize/sign-in",
			.csrf_token = CSRF,
			.request_uri = REQURI,
		},
		.remember = true,
		.error = "Wrong identifier or password",
	};
	struct buf	 b;
	struct tok	 t;
	char		 hid[1024];

	t_group("sign-in");
	buf_init(&b, 0);
	CHECK(oauth_page_render_signin(&b, &pg) == PDS_OK, "render");
	check_page("sign-in", &b, 0);
	form_hidden(&b, "/oauth/authorize/sign-in", hid, sizeof(hid));
	CHECK(strcmp(hid, "csrf_token=" CSRF ";request_uri=" REQURI ";") == 0,
	    "hidden fields: %s", hid);
	CHECK(strstr((char *)b.p, "social.coop") != NULL, "server name");
	CHECK(strstr((char *)b.p, "<bdi>Example App</bdi>") != NULL,
	    "client name, isolated");
	CHECK(strstr((char *)b.p, ">app.example.com<") != NULL,
	    "client_id host");
	CHECK(find_tag(&b, "img", "src", "https://app.example.com/logo.png",
	    &t), "https logo");
	CHECK(strstr((char *)b.p, "role=\"alert\">Wrong identifier or "
	    "password<") != NULL, "error slot");
	CHECK(find_tag(&b, "input", "name", "identifier", &t) &&
	    tok_attr(&t, "readonly") == NULL &&
	    tok_attr(&t, "value") == NULL, "identifier empty, editable");
	CHECK(find_tag(&b, "input", "name", "password", &t) &&
	    attr_eq(&t, "type", "password") &&
	    attr_eq(&t, "autocomplete", "current-password"),
	    "password field");
	CHECK(find_tag(&b, "input", "name", "remember", &t) &&
	    attr_eq(&t, "type", "checkbox") &&
	    tok_attr(&t, "checked") != NULL, "remember, ticked");
	CHECK(strstr((char *)b.p, "Remember this device") != NULL,
	    "remember label");
	CHECK(!find_tag(&b, "input", "name", "code", &t),
	    "no sign-in code field unless asked for");

	/* emailAuthFactor: the field for the mailed sign-in code */
	buf_reset(&b);
	pg.code = true;
	CHECK(oauth_page_render_signin(&b, &pg) == PDS_OK, "render with code");
	check_page("sign-in with code", &b, 0);
	CHECK(find_tag(&b, "input", "name", "code", &t) &&
	    attr_eq(&t, "autocomplete", "one-time-code") &&
	    tok_attr(&t, "required") != NULL, "code field, required");
	CHECK(find_tag(&b, "input", "name", "password", &t) &&
	    tok_attr(&t, "value") == NULL, "the password is asked again, "
	    "never echoed");
	pg.code = false;

	/* A locked login_hint; no error, an http logo (dropped). */
	buf_reset(&b);
	pg.identifier = "alice.social.coop";
	pg.identifier_locked = true;
	pg.remember = false;
	pg.error = NULL;
	pg.req.client.logo_uri = "http://app.example.com/logo.png";
	CHECK(oauth_page_render_signin(&b, &pg) == PDS_OK, "render locked");
	check_page("sign-in locked", &b, 0);
	CHECK(find_tag(&b, "input", "name", "identifier", &t) &&
	    tok_attr(&t, "readonly") != NULL &&
	    attr_eq(&t, "value", "alice.social.coop"),
	    "identifier prefilled, readonly");
	CHECK(find_tag(&b, "input", "name", "remember", &t) &&
	    tok_attr(&t, "checked") == NULL, "remember not ticked");
	CHECK(strstr((char *)b.p, "<img") == NULL, "http logo dropped");
	CHECK(strstr((char *)b.p, "role=\"alert\"") == NULL, "no error slot");

	/* A hint that is only a suggestion stays editable. */
	buf_reset(&b);
	pg.identifier_locked = false;
	CHECK(oauth_page_render_signin(&b, &pg) == PDS_OK, "render hint");
	CHECK(find_tag(&b, "input", "name", "identifier", &t) &&
	    tok_attr(&t, "readonly") == NULL &&
	    attr_eq(&t, "value", "alice.social.coop"),
	    "identifier prefilled, editable");

	/* Everything the client controls is hostile. */
	buf_reset(&b);
	pg.req.client = evil_client;
	pg.identifier = EVIL;
	pg.identifier_locked = true;
	pg.req.request_uri = EVIL;
	pg.error = EVIL;
	CHECK(oauth_page_render_signin(&b, &pg) == PDS_OK, "render hostile");
	check_page("sign-in hostile", &b, 0);
	CHECK(find_tag(&b, "input", "name", "identifier", &t) &&
	    attr_eq(&t, "value", EVIL_ESC) &&
	    tok_attr(&t, "readonly") != NULL, "hostile hint escaped");
	CHECK(strstr((char *)b.p, "<img") == NULL, "javascript: logo dropped");
	CHECK(strstr((char *)b.p, "<bdi>" EVIL_ESC "</bdi>") != NULL,
	    "hostile name escaped");
	CHECK(strstr((char *)b.p, ">evil.example<") != NULL,
	    "host without the userinfo");
	form_hidden(&b, "/oauth/authorize/sign-in", hid, sizeof(hid));
	CHECK(strcmp(hid, "csrf_token=" CSRF ";request_uri=" EVIL_ESC ";")
	    == 0, "hostile hidden value: %s", hid);

	/* Required fields. */
	buf_reset(&b);
	pg.req.csrf_token = NULL;
	CHECK(oauth_page_render_signin(&b, &pg) == PDS_EINVAL, "no CSRF");
	CHECK(b.len == 0, "nothing written");
	buf_clear(&b);
	t_group_end();
}

static void
test_consent(void)
{
	static const struct oauth_page_perm perms[] = {
		{ "Full access to your account", "Like an app password", true },
		{ "Create posts", NULL, false },
		{ EVIL, EVIL, false },
		{ "Change your handle", NULL, true },
	};
	struct oauth_consent_page	 pg = {
		.req = {
			.server_name = "social.coop",
			.client = good_client,
			.action = "/oauth/authorize/consent",
			.csrf_token = CSRF,
			.request_uri = REQURI,
		},
		.handle = "alice.social.coop",
		.did = DID,
		.perms = perms,
		.nperms = 4,
		.switch_action = "/oauth/authorize/switch",
	};
	struct buf	 b;
	struct tok	 t = { 0 };
	char		 hid[1024];
	const char	*h, *allow, *deny, *form_end, *x;
	int		 in_form = 0, buttons = 0;

	t_group("consent");
	buf_init(&b, 0);
	CHECK(oauth_page_render_consent(&b, &pg) == PDS_OK, "render");
	check_page("consent", &b, 0);
	h = (const char *)b.p;
	form_hidden(&b, "/oauth/authorize/consent", hid, sizeof(hid));
	CHECK(strcmp(hid, "csrf_token=" CSRF ";request_uri=" REQURI ";") == 0,
	    "hidden fields: %s", hid);
	form_hidden(&b, "/oauth/authorize/switch", hid, sizeof(hid));
	CHECK(strcmp(hid, "csrf_token=" CSRF ";request_uri=" REQURI ";") == 0,
	    "switch form: %s", hid);
	CHECK(strstr(h, "Not you? Use another account") != NULL, "not you");

	/* Both decisions are submit buttons of the one consent form. */
	t.p = h;
	while (tok_next(&t)) {
		const char	*a = tok_attr(&t, "action");

		if (is_tag(&t, "form"))
			in_form = a != NULL &&
			    strcmp(a, "/oauth/authorize/consent") == 0;
		else if (in_form && is_tag(&t, "button") &&
		    attr_eq(&t, "name", "decision") &&
		    attr_eq(&t, "type", "submit"))
			buttons |= attr_eq(&t, "value", "allow") ? 1 :
			    attr_eq(&t, "value", "deny") ? 2 : 4;
	}
	CHECK(buttons == 3, "allow and deny in the form (%d)", buttons);
	allow = strstr(h, "value=\"allow\">Allow</button>");
	deny = strstr(h, "value=\"deny\" class=\"secondary\">Deny</button>");
	form_end = allow ? strstr(allow, "</form>") : NULL;
	CHECK(allow && deny && form_end, "button labels");

	CHECK(count(h, "<li class=\"warn\">") == 2, "two warnings");
	CHECK(strstr(h, "<li class=\"warn\"><strong>Warning:</strong> Full "
	    "access to your account<span class=\"detail\">Like an app "
	    "password</span></li>") != NULL, "warning text");
	CHECK(strstr(h, "<li>Create posts</li>") != NULL, "plain permission");
	CHECK(strstr(h, "<li>" EVIL_ESC "<span class=\"detail\">" EVIL_ESC)
	    != NULL, "permission text escaped");
	CHECK(strstr(h, "@alice.social.coop") != NULL, "handle");
	CHECK(strstr(h, DID) != NULL, "DID");
	CHECK(find_tag(&b, "a", "href", "https://app.example.com/", &t) &&
	    strstr(t.p, "Website</a>") == t.p, "client_uri link");
	CHECK(find_tag(&b, "a", "href", "https://app.example.com/tos?a=1&amp;"
	    "b=2", &t), "tos link, & escaped");
	CHECK(find_tag(&b, "a", "href", "http://app.example.com/privacy", &t)
	    && attr_eq(&t, "rel", "noopener noreferrer"),
	    "policy link (http), rel");

	/* No permissions: identity only.  No switch action: no button. */
	buf_reset(&b);
	pg.nperms = 0;
	pg.switch_action = NULL;
	CHECK(oauth_page_render_consent(&b, &pg) == PDS_OK, "render minimal");
	check_page("consent minimal", &b, 0);
	CHECK(strstr((char *)b.p, "Confirm who you are") != NULL,
	    "identity-only line");
	CHECK(strstr((char *)b.p, "Not you?") == NULL, "no switch");

	/* Hostile client. */
	buf_reset(&b);
	pg.req.client = evil_client;
	pg.nperms = 4;
	CHECK(oauth_page_render_consent(&b, &pg) == PDS_OK, "render hostile");
	check_page("consent hostile", &b, 0);
	CHECK(strstr((char *)b.p, "<a ") == NULL, "no links survive");
	CHECK(strstr((char *)b.p, "<img") == NULL, "no logo");
	CHECK(strstr((char *)b.p, "class=\"links\"") == NULL,
	    "no empty link row");
	CHECK(count((char *)b.p, "<bdi>" EVIL_ESC "</bdi>") == 2,
	    "name escaped in the client block and the heading");

	/* A long name is cut, on a character boundary. */
	buf_reset(&b);
	pg.req.client = good_client;
	pg.req.client.name = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "x\xc3\xa9\xc3\xa9 and much more after it";
	CHECK(oauth_page_render_consent(&b, &pg) == PDS_OK, "render long");
	x = strstr((char *)b.p, "<span class=\"name\"><bdi>");
	CHECK(x != NULL && strncmp(x + 24, pg.req.client.name, 63) == 0 &&
	    strncmp(x + 24 + 63, "\xe2\x80\xa6</bdi>", 9) == 0,
	    "name cut to 63 bytes and an ellipsis");
	CHECK(strstr((char *)b.p, "much more") == NULL, "rest dropped");

	/* A client without a name is named by its host. */
	buf_reset(&b);
	pg.req.client = good_client;
	pg.req.client.name = NULL;
	CHECK(oauth_page_render_consent(&b, &pg) == PDS_OK, "render unnamed");
	CHECK(strstr((char *)b.p, "<bdi>app.example.com</bdi> will be able "
	    "to:") != NULL, "heading with the host");

	buf_reset(&b);
	pg.perms = NULL;
	CHECK(oauth_page_render_consent(&b, &pg) == PDS_EINVAL,
	    "perms NULL with a count");
	buf_clear(&b);
	t_group_end();
}

static void
test_error_page(void)
{
	struct oauth_error_page	 pg = {
		.server_name = "social.coop",
		.title = "Sign-in link expired",
		.message = "Go back to the app & try again.",
	};
	struct buf	 b;

	t_group("error page");
	buf_init(&b, 0);
	CHECK(oauth_page_render_error(&b, &pg) == PDS_OK, "render");
	check_page("error", &b, 0);
	CHECK(strstr((char *)b.p, "<h1>Sign-in link expired</h1>") != NULL,
	    "title");
	CHECK(strstr((char *)b.p, "<title>Sign-in link expired") != NULL,
	    "document title");
	CHECK(strstr((char *)b.p, "<p>Go back to the app &amp; try again.</p>")
	    != NULL, "message");
	buf_reset(&b);
	pg.title = EVIL;
	pg.message = EVIL;
	pg.server_name = EVIL;
	CHECK(oauth_page_render_error(&b, &pg) == PDS_OK, "render hostile");
	check_page("error hostile", &b, 0);
	CHECK(count((char *)b.p, EVIL_ESC) == 5, "escaped everywhere");
	buf_clear(&b);
	t_group_end();
}

static void
test_form_post(void)
{
	struct oauth_page_param	 params[] = {
		{ "code", "cod-0123" },
		{ "state", EVIL },
		{ "iss", "https://social.coop" },
	};
	struct oauth_form_post_page	 pg = {
		.server_name = "social.coop",
		.redirect_uri = "https://app.example.com/cb?x=1&y=2",
		.params = params,
		.nparams = 3,
	};
	const char	*redirs[1];
	struct buf	 b, csp;
	struct tok	 t = { 0 };
	char		 hid[1024], b64[64], want[128];
	unsigned char	 hash[crypto_hash_sha256_BYTES];
	bool		 hashed = false;

	t_group("form_post");
	buf_init(&b, 0);
	buf_init(&csp, 0);
	CHECK(oauth_page_render_form_post(&b, &pg) == PDS_OK, "render");
	check_page("form_post", &b, 1);
	form_hidden(&b, "https://app.example.com/cb?x=1&amp;y=2", hid,
	    sizeof(hid));
	CHECK(strcmp(hid, "code=cod-0123;state=" EVIL_ESC ";iss=https://"
	    "social.coop;") == 0, "fields: %s", hid);
	CHECK(find_tag(&b, "form", "id", "f", &t) &&
	    attr_eq(&t, "method", "post"), "the script's form");
	CHECK(strstr((char *)b.p, "<button type=\"submit\">Continue</button>")
	    != NULL, "Continue button");
	CHECK(strstr((char *)b.p, "<strong>app.example.com</strong>") != NULL,
	    "where to");

	/* The CSP allows exactly the page's script, by hash. */
	redirs[0] = pg.redirect_uri;
	CHECK(oauth_page_csp(&csp, redirs, 1) == PDS_OK, "csp");
	t.p = (const char *)b.p;
	while (tok_next(&t))
		if (is_tag(&t, "script") && t.raw != NULL) {
			crypto_hash_sha256(hash, (const unsigned char *)t.raw,
			    t.rawlen);
			sodium_bin2base64(b64, sizeof(b64), hash, sizeof(hash),
			    sodium_base64_VARIANT_ORIGINAL);
			hashed = true;
		}
	snprintf(want, sizeof(want), "script-src 'sha256-%s';", b64);
	CHECK(hashed && strstr((char *)csp.p, want) != NULL,
	    "script hash %s in %s", b64, csp.p);
	CHECK(strstr((char *)csp.p, "form-action 'self' https://"
	    "app.example.com") != NULL, "form-action: %s", csp.p);

	buf_reset(&b);
	pg.redirect_uri = "javascript:alert(1)//https://app.example.com/";
	CHECK(oauth_page_render_form_post(&b, &pg) == PDS_EINVAL,
	    "javascript: target refused");
	pg.redirect_uri = "com.example.app:/cb";
	CHECK(oauth_page_render_form_post(&b, &pg) == PDS_EINVAL,
	    "private scheme refused");
	pg.redirect_uri = "https://app.example.com/cb";
	params[1].value = NULL;
	CHECK(oauth_page_render_form_post(&b, &pg) == PDS_EINVAL,
	    "NULL value refused");
	CHECK(b.len == 0, "nothing written");
	buf_clear(&b);
	buf_clear(&csp);
	t_group_end();
}

static void
test_account(void)
{
	static const struct oauth_page_perm perms[] = {
		{ "Full access to your account", NULL, true },
		{ "Read your email address", NULL, false },
	};
	static const struct oauth_page_grant grants[] = {
		{ "grant-1", "https://app.example.com/client-metadata.json",
		    "Example App", perms, 2, "2 March 2026", "yesterday" },
		{ "grant-" EVIL, "https://" EVIL, EVIL, perms + 1, 1, EVIL,
		    NULL },
	};
	struct oauth_account_page	 pg = {
		.server_name = "social.coop",
		.handle = "alice.social.coop",
		.did = DID,
		.csrf_token = CSRF,
		.revoke_action = "/account/revoke",
		.signout_action = "/account/sign-out",
		.notice = "Access revoked.",
		.grants = grants,
		.ngrants = 2,
	};
	struct buf	 b;
	struct tok	 t = { 0 };
	char		 hid[1024];
	const char	*h, *x;
	int		 revokes = 0, ok_rows = 0;

	t_group("account");
	buf_init(&b, 0);
	CHECK(oauth_page_render_account(&b, &pg) == PDS_OK, "render");
	check_page("account", &b, 0);
	h = (const char *)b.p;
	CHECK(strstr(h, "No apps have access") == NULL, "not empty");
	CHECK(strstr(h, "role=\"status\">Access revoked.</p>") != NULL,
	    "notice");
	CHECK(strstr(h, "@alice.social.coop") != NULL && strstr(h, DID),
	    "account");

	/* One Revoke form per grant, each with the CSRF token and its id. */
	t.p = h;
	while (tok_next(&t)) {
		if (is_tag(&t, "form") && (x = tok_attr(&t, "action")) &&
		    strcmp(x, "/account/revoke") == 0)
			revokes++;
	}
	CHECK(revokes == 2, "%d revoke forms", revokes);
	form_hidden(&b, "/account/revoke", hid, sizeof(hid));
	CHECK(strcmp(hid, "csrf_token=" CSRF ";grant_id=grant-1;"
	    "csrf_token=" CSRF ";grant_id=grant-" EVIL_ESC ";") == 0,
	    "revoke fields: %s", hid);
	form_hidden(&b, "/account/sign-out", hid, sizeof(hid));
	CHECK(strcmp(hid, "csrf_token=" CSRF ";") == 0, "sign-out: %s", hid);
	CHECK(strstr(h, ">Sign out</button>") != NULL, "sign-out button");
	ok_rows += strstr(h, "<bdi>Example App</bdi>") != NULL;
	ok_rows += strstr(h, "Allowed 2 March 2026 \xc2\xb7 last used "
	    "yesterday") != NULL;
	ok_rows += strstr(h, "Allowed " EVIL_ESC " \xc2\xb7 last used "
	    "never") != NULL;
	ok_rows += strstr(h, "<li class=\"warn\"><strong>Warning:</strong> "
	    "Full access to your account</li>") != NULL;
	CHECK(ok_rows == 4, "row contents (%d of 4)", ok_rows);
	CHECK(count(h, "Revoke access") == 2, "revoke buttons");

	buf_reset(&b);
	pg.ngrants = 0;
	pg.notice = NULL;
	CHECK(oauth_page_render_account(&b, &pg) == PDS_OK, "render empty");
	check_page("account empty", &b, 0);
	CHECK(strstr((char *)b.p, "No apps have access to your account.") !=
	    NULL, "empty state");
	CHECK(strstr((char *)b.p, "class=\"grants\"") == NULL, "no list");
	CHECK(strstr((char *)b.p, ">Sign out</button>") != NULL,
	    "sign-out button");
	buf_clear(&b);
	t_group_end();
}

static void
test_csp(void)
{
	const char	*uris[] = {
		"https://app.example.com/cb",
		"http://127.0.0.1:8080/cb?x=1",
		"com.example.app:/callback",
		"javascript:alert(1)",
		"https://evil.example; script-src *",
		"https://user@evil.example/",
		"data:text/html,x",
		"noscheme",
		NULL,
		"HTTPS://Upper.Example",
	};
	struct buf	 b;
	const char	*s;

	t_group("csp");
	buf_init(&b, 0);
	buf_puts(&b, "X");
	CHECK(oauth_page_csp(&b, uris, sizeof(uris) / sizeof(uris[0])) ==
	    PDS_OK, "build");
	s = (const char *)b.p + 1;
	CHECK(strncmp(s, "default-src 'none'; ", 20) == 0, "%s", s);
	CHECK(strstr(s, "style-src 'unsafe-inline';") != NULL, "style");
	CHECK(strstr(s, "img-src https:;") != NULL, "images");
	CHECK(strstr(s, "frame-ancestors 'none'") != NULL, "framing");
	CHECK(strstr(s, "; form-action 'self' https://app.example.com "
	    "http://127.0.0.1:8080 com.example.app: https://Upper.Example") !=
	    NULL, "form-action sources: %s", s);
	CHECK(strstr(s, "javascript") == NULL && strstr(s, "evil") == NULL &&
	    strstr(s, "data:") == NULL && strstr(s, "noscheme") == NULL,
	    "bad sources dropped");
	CHECK(count(s, ";") == 6 && strchr(s, '\n') == NULL &&
	    strchr(s, ',') == NULL, "no directive added");
	buf_clear(&b);
	t_group_end();
}

/* A full buffer fails cleanly and leaves what was there before. */
static void
test_limits(void)
{
	struct oauth_error_page	 pg = {
		.server_name = "social.coop",
		.title = "Oops",
	};
	struct buf	 b;

	t_group("limits");
	buf_init(&b, 600);
	buf_puts(&b, "keep");
	CHECK(oauth_page_render_error(&b, &pg) == PDS_ETOOBIG, "too big");
	CHECK(b.len == 4 && strcmp((char *)b.p, "keep") == 0,
	    "buffer restored");
	buf_clear(&b);
	t_group_end();
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_escape();
	test_url_ok();
	test_signin();
	test_consent();
	test_error_page();
	test_form_post();
	test_account();
	test_csp();
	test_limits();
	return t_done("test_pdsd_oauth_pages");
}
