/*
 * oauth_pages: the authorization server's HTML pages.  See oauth_pages.h.
 *
 * Output goes through a small writer with a sticky error: each call does
 * nothing once one has failed, and html_end() returns the first error
 * and cuts the buf back to where the page began.  Every byte of caller
 * text goes through escape_n(); only the literals in this file are
 * written raw.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "err.h"
#include "oauth_pages.h"

/*
 * The form_post page's optional script and its CSP hash: base64 of the
 * SHA-256 of exactly these bytes (the unit test recomputes it).
 */
#define AUTOSUBMIT_JS \
	"HTMLFormElement.prototype.submit.call(document.getElementById(\"f\"));"
#define AUTOSUBMIT_SHA256 "eJLZMFFt0HkskAy/Tk8gdxdQQHkbb6BUYoRYmuN1ISQ="

/*
 * A client's name is its own claim and may be any length: show at most
 * this many bytes of it (cut on a character boundary), then an ellipsis.
 */
#define CLIENT_NAME_MAX	64

/*
 * One stylesheet for every page.  Sizes in rem so the browser's text size
 * applies; 16 px inputs so phones do not zoom on focus; 48 px tap
 * targets; long unbroken strings (DIDs, hostile names) wrap.
 */
static const char stylesheet[] =
":root{color-scheme:light dark;--bg:#f2f4f7;--card:#fff;--fg:#1a1d23;"
"--muted:#596170;--line:#d3d8e0;--field:#fff;--accent:#1559c9;--on-accent:#fff;"
"--warn-bg:#fff3e0;--warn-fg:#6b3600;--warn-line:#e39a32;"
"--err-bg:#fdeced;--err-fg:#9a1b1f;--err-line:#e8a0a3}\n"
"@media (prefers-color-scheme:dark){:root{--bg:#101216;--card:#1a1d23;"
"--fg:#e7e9ee;--muted:#a2a9b6;--line:#353b46;--field:#13151a;"
"--accent:#6ea4ff;--on-accent:#0a1220;--warn-bg:#35260f;--warn-fg:#ffd597;"
"--warn-line:#a8701f;--err-bg:#3a1518;--err-fg:#ffb9bb;--err-line:#7d2d31}}\n"
"*{box-sizing:border-box}\n"
"html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
"body{margin:0;background:var(--bg);color:var(--fg);"
"font:1rem/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;"
"overflow-wrap:anywhere}\n"
"main{max-width:30rem;margin:0 auto;padding:1rem .75rem 2rem}\n"
".server{margin:.25rem 0 .75rem;text-align:center;color:var(--muted);"
"font-size:.9375rem;font-weight:600}\n"
".card{background:var(--card);border:1px solid var(--line);"
"border-radius:14px;padding:1.25rem;margin:0 0 1rem}\n"
".card>:last-child{margin-bottom:0}\n"
"@media (min-width:40rem){main{padding-top:3rem}.card{padding:1.75rem}}\n"
"h1{font-size:1.375rem;line-height:1.3;margin:0 0 1rem}\n"
"h2{font-size:1rem;margin:1.25rem 0 .5rem}\n"
"p{margin:0 0 1rem}\n"
"a{color:var(--accent)}\n"
".muted{color:var(--muted);font-size:.9375rem}\n"
".client{display:flex;gap:.75rem;align-items:center;margin:0 0 1rem}\n"
".client img{flex:none;width:48px;height:48px;border-radius:10px;"
"object-fit:cover;background:var(--line)}\n"
".client .name{display:block;font-weight:600;font-size:1.0625rem}\n"
".client .host{display:block;color:var(--muted);font-size:.875rem;"
"font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
".links{margin:-.5rem 0 1rem;font-size:.9375rem}\n"
".links a{display:inline-block;padding:.375rem 0;margin-right:1.25rem}\n"
".account{padding:.75rem;border:1px solid var(--line);border-radius:10px}\n"
".account strong,.account span{display:block}\n"
".did{color:var(--muted);font-size:.8125rem;"
"font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
"label{display:block;font-weight:600;margin:1rem 0 .375rem}\n"
"input[type=text],input[type=password]{display:block;width:100%;"
"min-height:48px;padding:.625rem .75rem;font:inherit;color:inherit;"
"background:var(--field);border:1px solid var(--line);border-radius:10px}\n"
"input[readonly]{background:var(--bg);color:var(--muted)}\n"
"input+p.muted{margin:.375rem 0 0}\n"
":focus-visible{outline:3px solid var(--accent);outline-offset:2px}\n"
"label.check{display:flex;align-items:center;gap:.75rem;min-height:48px;"
"margin:.5rem 0;font-weight:400}\n"
"label.check input{flex:none;width:1.375rem;height:1.375rem;margin:0;"
"accent-color:var(--accent)}\n"
"button{display:block;width:100%;min-height:48px;padding:.625rem 1rem;"
"font:inherit;font-weight:600;border-radius:10px;cursor:pointer;"
"border:1px solid var(--accent);background:var(--accent);"
"color:var(--on-accent)}\n"
"button.secondary{background:transparent;color:var(--accent)}\n"
"button.danger{border-color:var(--err-line);color:var(--err-fg);"
"background:transparent}\n"
"button.link{border:0;background:transparent;color:var(--accent);"
"font-weight:400;text-decoration:underline}\n"
".buttons{display:flex;gap:.75rem;margin:1.25rem 0 .5rem}\n"
".buttons button{flex:1 1 0}\n"
".error,.notice{padding:.75rem;border-radius:10px;border:1px solid}\n"
".error{background:var(--err-bg);color:var(--err-fg);"
"border-color:var(--err-line)}\n"
".notice{border-color:var(--line)}\n"
"ul.perms,ul.grants{list-style:none;padding:0;margin:0 0 1rem}\n"
"ul.perms li{padding:.625rem .75rem;margin:0 0 .5rem;"
"border:1px solid var(--line);border-radius:10px}\n"
"ul.perms li.warn{background:var(--warn-bg);color:var(--warn-fg);"
"border-color:var(--warn-line)}\n"
".detail{display:block;font-size:.875rem;opacity:.85}\n"
"ul.grants>li{padding:1rem 0;border-top:1px solid var(--line)}\n"
"ul.grants>li:first-child{border-top:0;padding-top:0}\n"
"ul.grants{margin:0}\nul.grants>li:last-child{padding-bottom:0}\n"
"ul.grants .client{margin-bottom:.75rem}\n"
".visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;"
"clip:rect(0 0 0 0);white-space:nowrap}\n";

struct html {
	struct buf	*b;
	size_t		 start;	/* b->len when the page began */
	int		 rc;	/* the first failure, or PDS_OK */
};

/*
 * The length of the character at p (at most n bytes) if it can be
 * written as it is: well-formed UTF-8 (no overlongs, surrogates or
 * values past U+10FFFF), not one of & < > " ', and not a control other
 * than tab, newline or carriage return.  0 if it needs an escape or a
 * replacement.
 */
static size_t
char_len_plain(const uint8_t *p, size_t n)
{
	uint8_t	 c = p[0];
	size_t	 len, i;
	uint8_t	 lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		if (c == '&' || c == '<' || c == '>' || c == '"' || c == '\'')
			return 0;
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return 0;
		return c == 0x7f ? 0 : 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		if (c == 0xc2)
			lo = 0xa0;		/* U+0080..U+009F, C1 */
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (c == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;		/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;		/* past U+10FFFF */
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static int
escape_n(struct buf *b, const char *s, size_t n)
{
	const uint8_t	*p = (const uint8_t *)s;
	size_t		 i = 0, run, clen;
	const char	*rep;
	int		 rc;

	while (i < n) {
		for (run = i; run < n &&
		    (clen = char_len_plain(p + run, n - run)) > 0; run += clen)
			;
		if (run > i && (rc = buf_append(b, p + i, run - i)) != PDS_OK)
			return rc;
		if ((i = run) == n)
			break;
		switch (p[i]) {
		case '&':  rep = "&amp;"; break;
		case '<':  rep = "&lt;"; break;
		case '>':  rep = "&gt;"; break;
		case '"':  rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:   rep = "\xef\xbf\xbd"; break;	/* U+FFFD */
		}
		if ((rc = buf_puts(b, rep)) != PDS_OK)
			return rc;
		i++;
	}
	return PDS_OK;
}

int
oauth_page_escape(struct buf *b, const char *s)
{
	if (s == NULL)
		return PDS_OK;
	return escape_n(b, s, strlen(s));
}

/* The length of an "http://" or "https://" prefix of s, or 0. */
static size_t
http_prefix(const char *s, bool https_only)
{
	if (strncasecmp(s, "https://", 8) == 0)
		return 8;
	if (!https_only && strncasecmp(s, "http://", 7) == 0)
		return 7;
	return 0;
}

bool
oauth_page_url_ok(const char *url, bool https_only)
{
	const unsigned char	*p;
	size_t			 skip;

	if (url == NULL || (skip = http_prefix(url, https_only)) == 0)
		return false;
	if (url[skip] == '\0' || strchr("/?#@", url[skip]) != NULL)
		return false;			/* no host */
	for (p = (const unsigned char *)url; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '\\')
			return false;
		if ((size_t)(p - (const unsigned char *)url) >=
		    OAUTH_PAGE_URL_MAX)
			return false;
	}
	return true;
}

/*
 * The host (with its port) of an http(s) URL: *lenp bytes at the
 * returned pointer, without any userinfo.  A string that is not such a
 * URL is returned whole.
 */
static const char *
url_host(const char *url, size_t *lenp)
{
	const char	*a, *at;
	size_t		 skip, n;

	if ((skip = http_prefix(url, false)) == 0) {
		*lenp = strlen(url);
		return url;
	}
	a = url + skip;
	n = strcspn(a, "/?#");
	while ((at = memchr(a, '@', n)) != NULL) {
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	*lenp = n;
	return a;
}

static void
html_begin(struct html *h, struct buf *b)
{
	h->b = b;
	h->start = b->len;
	h->rc = PDS_OK;
}

static int
html_end(struct html *h)
{
	if (h->rc != PDS_OK) {
		h->b->len = h->start;
		if (h->b->p != NULL)
			h->b->p[h->start] = '\0';
	}
	return h->rc;
}

/* A literal from this file, written as it is. */
static void
html_raw(struct html *h, const char *s)
{
	if (h->rc == PDS_OK)
		h->rc = buf_puts(h->b, s);
}

static void
html_text(struct html *h, const char *s)
{
	if (h->rc == PDS_OK)
		h->rc = oauth_page_escape(h->b, s);
}

static void
html_text_n(struct html *h, const char *s, size_t n)
{
	if (h->rc == PDS_OK)
		h->rc = escape_n(h->b, s, n);
}

/* s escaped, cut to at most max bytes plus an ellipsis if longer. */
static void
html_text_cut(struct html *h, const char *s, size_t max)
{
	size_t	 n = strlen(s);

	if (n <= max) {
		html_text_n(h, s, n);
		return;
	}
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;				/* not inside a character */
	html_text_n(h, s, n);
	html_raw(h, "\xe2\x80\xa6");			/* ellipsis */
}

/* ` name="value"`, the value escaped; nothing when value is NULL. */
static void
html_attr(struct html *h, const char *name, const char *value)
{
	if (value == NULL)
		return;
	html_raw(h, " ");
	html_raw(h, name);
	html_raw(h, "=\"");
	html_text(h, value);
	html_raw(h, "\"");
}

static void
html_hidden(struct html *h, const char *name, const char *value)
{
	html_raw(h, "<input type=\"hidden\"");
	html_attr(h, "name", name);
	html_attr(h, "value", value);
	html_raw(h, ">\n");
}

/* A paragraph, opened by open, of text when text is not NULL. */
static void
html_para(struct html *h, const char *open, const char *text)
{
	if (text == NULL)
		return;
	html_raw(h, open);
	html_text(h, text);
	html_raw(h, "</p>\n");
}

/* Who is signed in: the handle and, under it, the DID. */
static void
html_account(struct html *h, const char *handle, const char *did)
{
	html_raw(h, "<p class=\"account\"><span class=\"muted\">Signed in "
	    "as</span><strong>@");
	html_text(h, handle);
	html_raw(h, "</strong><span class=\"did\">");
	html_text(h, did);
	html_raw(h, "</span></p>\n");
}

/*
 * The opening of a POST form to action, with the page's CSRF token and,
 * when not NULL, the authorization request it belongs to.
 */
static void
html_form(struct html *h, const char *action, const char *csrf_token,
    const char *request_uri)
{
	html_raw(h, "<form method=\"post\"");
	html_attr(h, "action", action);
	html_raw(h, ">\n");
	html_hidden(h, "csrf_token", csrf_token);
	if (request_uri != NULL)
		html_hidden(h, "request_uri", request_uri);
}

/* <a href> opening in a new tab, only for an http(s) URL. */
static void
html_link(struct html *h, const char *url, const char *label)
{
	if (!oauth_page_url_ok(url, false))
		return;
	html_raw(h, "<a");
	html_attr(h, "href", url);
	html_raw(h, " rel=\"noopener noreferrer\" target=\"_blank\">");
	html_text(h, label);
	html_raw(h, "</a>\n");
}

/* The head, the server's name above the content, and <main>. */
static void
html_page_open(struct html *h, const char *title, const char *server_name)
{
	html_raw(h, "<!doctype html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<meta name=\"referrer\" content=\"no-referrer\">\n"
	    "<meta name=\"robots\" content=\"noindex\">\n<title>");
	html_text(h, title);
	html_raw(h, " \xc2\xb7 ");			/* middle dot */
	html_text(h, server_name);
	html_raw(h, "</title>\n<style>\n");
	html_raw(h, stylesheet);
	html_raw(h, "</style>\n</head>\n<body>\n<main>\n<p class=\"server\">");
	html_text(h, server_name);
	html_raw(h, "</p>\n");
}

static void
html_page_close(struct html *h)
{
	html_raw(h, "</main>\n</body>\n</html>\n");
}

/* The client's logo (https only), name and client_id host. */
static void
html_client(struct html *h, const struct oauth_page_client *c)
{
	const char	*host;
	size_t		 hlen;

	host = url_host(c->client_id, &hlen);
	html_raw(h, "<div class=\"client\">\n");
	if (oauth_page_url_ok(c->logo_uri, true)) {
		html_raw(h, "<img");
		html_attr(h, "src", c->logo_uri);
		html_raw(h, " alt=\"\" width=\"48\" height=\"48\">\n");
	}
	html_raw(h, "<div>");
	if (c->name != NULL && c->name[0] != '\0') {
		html_raw(h, "<span class=\"name\"><bdi>");
		html_text_cut(h, c->name, CLIENT_NAME_MAX);
		html_raw(h, "</bdi></span><span class=\"host\">");
	} else
		html_raw(h, "<span class=\"name\">");
	html_text_n(h, host, hlen);
	html_raw(h, "</span></div>\n</div>\n");
}

/* The short name for headings and labels: the name, else the host. */
static void
html_client_short(struct html *h, const char *client_id, const char *name)
{
	const char	*host;
	size_t		 hlen;

	html_raw(h, "<bdi>");
	if (name != NULL && name[0] != '\0')
		html_text_cut(h, name, CLIENT_NAME_MAX);
	else {
		host = url_host(client_id, &hlen);
		html_text_n(h, host, hlen);
	}
	html_raw(h, "</bdi>");
}

static void
html_perms(struct html *h, const struct oauth_page_perm *perms, size_t n)
{
	size_t	 i;

	html_raw(h, "<ul class=\"perms\">\n");
	if (n == 0)
		html_raw(h, "<li>Confirm who you are (your handle and DID). "
		    "No access to your data.</li>\n");
	for (i = 0; i < n; i++) {
		if (perms[i].warn)
			html_raw(h, "<li class=\"warn\"><strong>Warning:"
			    "</strong> ");
		else
			html_raw(h, "<li>");
		html_text(h, perms[i].text);
		if (perms[i].detail != NULL) {
			html_raw(h, "<span class=\"detail\">");
			html_text(h, perms[i].detail);
			html_raw(h, "</span>");
		}
		html_raw(h, "</li>\n");
	}
	html_raw(h, "</ul>\n");
}

static bool
perms_ok(const struct oauth_page_perm *perms, size_t n)
{
	size_t	 i;

	if (n > 0 && perms == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (perms[i].text == NULL)
			return false;
	return true;
}

/* Whether r has every field it requires. */
static bool
request_ok(const struct oauth_page_request *r)
{
	return r->server_name != NULL && r->client.client_id != NULL &&
	    r->action != NULL && r->csrf_token != NULL &&
	    r->request_uri != NULL;
}

int
oauth_page_render_signin(struct buf *b, const struct oauth_signin_page *pg)
{
	const struct oauth_page_request	*r = &pg->req;
	struct html			 h;

	if (!request_ok(r))
		return PDS_EINVAL;
	html_begin(&h, b);
	html_page_open(&h, "Sign in", r->server_name);
	html_raw(&h, "<div class=\"card\">\n<h1>Sign in</h1>\n"
	    "<p class=\"muted\">to continue to</p>\n");
	html_client(&h, &r->client);
	html_para(&h, "<p class=\"error\" role=\"alert\">", pg->error);
	html_form(&h, r->action, r->csrf_token, r->request_uri);
	html_raw(&h, "<label for=\"identifier\">Handle or email</label>\n"
	    "<input id=\"identifier\" name=\"identifier\" type=\"text\" "
	    "autocomplete=\"username\" autocapitalize=\"none\" "
	    "autocorrect=\"off\" spellcheck=\"false\" required");
	html_attr(&h, "value", pg->identifier);
	if (pg->identifier_locked && pg->identifier != NULL)
		html_raw(&h, " readonly aria-describedby=\"locked\">\n"
		    "<p class=\"muted\" id=\"locked\">The app asked for this "
		    "account.</p>\n");
	else
		html_raw(&h, pg->identifier == NULL ? " autofocus>\n" : ">\n");
	html_raw(&h, "<label for=\"password\">Password</label>\n"
	    "<input id=\"password\" name=\"password\" type=\"password\" "
	    "autocomplete=\"current-password\" required");
	html_raw(&h, pg->identifier != NULL ? " autofocus>\n" : ">\n");
	if (pg->code)
		html_raw(&h, "<label for=\"code\">Sign-in code from your "
		    "email</label>\n<input id=\"code\" name=\"code\" "
		    "type=\"text\" autocomplete=\"one-time-code\" "
		    "autocapitalize=\"characters\" autocorrect=\"off\" "
		    "spellcheck=\"false\" placeholder=\"XXXXX-XXXXX\" "
		    "maxlength=\"32\" required>\n");
	html_raw(&h, "<label class=\"check\"><input type=\"checkbox\" "
	    "name=\"remember\" value=\"1\"");
	html_raw(&h, pg->remember ? " checked>" : ">");
	html_raw(&h, " Remember this device</label>\n"
	    "<div class=\"buttons\"><button type=\"submit\">Sign in</button>"
	    "</div>\n</form>\n"
	    "<p class=\"muted\">Use your account password. App passwords "
	    "cannot be used to sign in to apps.</p>\n</div>\n");
	html_page_close(&h);
	return html_end(&h);
}

int
oauth_page_render_consent(struct buf *b, const struct oauth_consent_page *pg)
{
	const struct oauth_page_request	*r = &pg->req;
	const struct oauth_page_client	*c = &r->client;
	struct html			 h;

	if (!request_ok(r) || pg->handle == NULL || pg->did == NULL ||
	    !perms_ok(pg->perms, pg->nperms))
		return PDS_EINVAL;
	html_begin(&h, b);
	html_page_open(&h, "Allow access", r->server_name);
	html_raw(&h, "<div class=\"card\">\n<h1>Allow access to your "
	    "account?</h1>\n");
	html_client(&h, c);
	if (oauth_page_url_ok(c->client_uri, false) ||
	    oauth_page_url_ok(c->tos_uri, false) ||
	    oauth_page_url_ok(c->policy_uri, false)) {
		html_raw(&h, "<p class=\"links\">");
		html_link(&h, c->client_uri, "Website");
		html_link(&h, c->tos_uri, "Terms of service");
		html_link(&h, c->policy_uri, "Privacy policy");
		html_raw(&h, "</p>\n");
	}
	html_account(&h, pg->handle, pg->did);
	html_raw(&h, "<h2>");
	html_client_short(&h, c->client_id, c->name);
	html_raw(&h, " will be able to:</h2>\n");
	html_perms(&h, pg->perms, pg->nperms);
	html_form(&h, r->action, r->csrf_token, r->request_uri);
	html_raw(&h, "<div class=\"buttons\">"
	    "<button type=\"submit\" name=\"decision\" value=\"deny\" "
	    "class=\"secondary\">Deny</button>"
	    "<button type=\"submit\" name=\"decision\" value=\"allow\">"
	    "Allow</button></div>\n</form>\n");
	if (pg->switch_action != NULL) {
		html_form(&h, pg->switch_action, r->csrf_token,
		    r->request_uri);
		html_raw(&h, "<button type=\"submit\" class=\"link\">Not you? "
		    "Use another account</button>\n</form>\n");
	}
	html_raw(&h, "</div>\n");
	html_page_close(&h);
	return html_end(&h);
}

int
oauth_page_render_error(struct buf *b, const struct oauth_error_page *pg)
{
	struct html	 h;

	if (pg->server_name == NULL || pg->title == NULL)
		return PDS_EINVAL;
	html_begin(&h, b);
	html_page_open(&h, pg->title, pg->server_name);
	html_raw(&h, "<div class=\"card\">\n<h1>");
	html_text(&h, pg->title);
	html_raw(&h, "</h1>\n");
	html_para(&h, "<p>", pg->message);
	html_raw(&h, "<p class=\"muted\">You can close this page and start "
	    "again from the app.</p>\n</div>\n");
	html_page_close(&h);
	return html_end(&h);
}

int
oauth_page_render_form_post(struct buf *b,
    const struct oauth_form_post_page *pg)
{
	struct html	 h;
	const char	*host;
	size_t		 i, hlen;

	if (pg->server_name == NULL ||
	    !oauth_page_url_ok(pg->redirect_uri, false) ||
	    (pg->nparams > 0 && pg->params == NULL))
		return PDS_EINVAL;
	for (i = 0; i < pg->nparams; i++)
		if (pg->params[i].name == NULL || pg->params[i].value == NULL)
			return PDS_EINVAL;
	host = url_host(pg->redirect_uri, &hlen);
	html_begin(&h, b);
	html_page_open(&h, "Returning to the app", pg->server_name);
	html_raw(&h, "<div class=\"card\">\n<h1>Returning to the app</h1>\n"
	    "<form method=\"post\" id=\"f\"");
	html_attr(&h, "action", pg->redirect_uri);
	html_raw(&h, ">\n");
	for (i = 0; i < pg->nparams; i++)
		html_hidden(&h, pg->params[i].name, pg->params[i].value);
	html_raw(&h, "<p>Sending you back to <strong>");
	html_text_n(&h, host, hlen);
	html_raw(&h, "</strong>. If nothing happens, press Continue.</p>\n"
	    "<div class=\"buttons\"><button type=\"submit\">Continue</button>"
	    "</div>\n</form>\n</div>\n<script>" AUTOSUBMIT_JS "</script>\n");
	html_page_close(&h);
	return html_end(&h);
}

int
oauth_page_render_account(struct buf *b, const struct oauth_account_page *pg)
{
	const struct oauth_page_grant	*g;
	struct oauth_page_client	 c;
	struct html			 h;
	size_t				 i;

	if (pg->server_name == NULL || pg->handle == NULL || pg->did == NULL ||
	    pg->csrf_token == NULL || pg->revoke_action == NULL ||
	    pg->signout_action == NULL ||
	    (pg->ngrants > 0 && pg->grants == NULL))
		return PDS_EINVAL;
	for (i = 0; i < pg->ngrants; i++) {
		g = &pg->grants[i];
		if (g->grant_id == NULL || g->client_id == NULL ||
		    !perms_ok(g->perms, g->nperms))
			return PDS_EINVAL;
	}
	html_begin(&h, b);
	html_page_open(&h, "Connected apps", pg->server_name);
	html_raw(&h, "<div class=\"card\">\n<h1>Connected apps</h1>\n");
	html_account(&h, pg->handle, pg->did);
	html_para(&h, "<p class=\"notice\" role=\"status\">", pg->notice);
	if (pg->ngrants == 0)
		html_raw(&h, "<p class=\"empty\">No apps have access to your "
		    "account.</p>\n");
	else
		html_raw(&h, "<p class=\"muted\">These apps can use your "
		    "account. Revoking signs the app out at once.</p>\n"
		    "<ul class=\"grants\">\n");
	for (i = 0; i < pg->ngrants; i++) {
		g = &pg->grants[i];
		memset(&c, 0, sizeof(c));
		c.client_id = g->client_id;
		c.name = g->client_name;
		html_raw(&h, "<li>\n");
		html_client(&h, &c);
		html_perms(&h, g->perms, g->nperms);
		html_raw(&h, "<p class=\"muted\">Allowed ");
		html_text(&h, g->created != NULL ? g->created : "(unknown)");
		html_raw(&h, " \xc2\xb7 last used ");
		html_text(&h, g->last_used != NULL ? g->last_used : "never");
		html_raw(&h, "</p>\n");
		html_form(&h, pg->revoke_action, pg->csrf_token, NULL);
		html_hidden(&h, "grant_id", g->grant_id);
		html_raw(&h, "<button type=\"submit\" class=\"danger\">Revoke "
		    "access<span class=\"visually-hidden\"> for ");
		html_client_short(&h, g->client_id, g->client_name);
		html_raw(&h, "</span></button>\n</form>\n</li>\n");
	}
	if (pg->ngrants > 0)
		html_raw(&h, "</ul>\n");
	html_raw(&h, "</div>\n");
	html_form(&h, pg->signout_action, pg->csrf_token, NULL);
	html_raw(&h, "<button type=\"submit\" class=\"secondary\">Sign out"
	    "</button>\n</form>\n");
	html_page_close(&h);
	return html_end(&h);
}

/* Whether c may appear in a scheme after its first letter (RFC 3986). */
static bool
scheme_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

static bool
authority_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':' ||
	    c == '[' || c == ']';
}

/*
 * The form-action source for one redirect URI, appended with a leading
 * space, or nothing if it does not pass the strict checks: only
 * characters that cannot end or add a CSP directive get through.
 */
static int
csp_add_source(struct buf *b, const char *uri)
{
	size_t	 slen, alen, skip, i;
	bool	 dot = false;
	int	 rc;

	if ((skip = http_prefix(uri, false)) > 0) {
		alen = strcspn(uri + skip, "/?#");
		if (alen == 0)
			return PDS_OK;
		for (i = 0; i < alen; i++)
			if (!authority_char(uri[skip + i]))
				return PDS_OK;
		if ((rc = buf_puts(b, skip == 8 ? " https://" : " http://")) !=
		    PDS_OK)
			return rc;
		return buf_append(b, uri + skip, alen);
	}
	/* A private-use scheme: reverse domain, so it has a dot. */
	if (!((uri[0] >= 'a' && uri[0] <= 'z') ||
	    (uri[0] >= 'A' && uri[0] <= 'Z')))
		return PDS_OK;
	for (slen = 1; scheme_char(uri[slen]); slen++)
		if (uri[slen] == '.')
			dot = true;
	if (uri[slen] != ':' || !dot)
		return PDS_OK;
	if ((rc = buf_putc(b, ' ')) != PDS_OK)
		return rc;
	return buf_append(b, uri, slen + 1);
}

int
oauth_page_csp(struct buf *b, const char *const *redirect_uris, size_t n)
{
	size_t	 start = b->len, i;
	int	 rc;

	rc = buf_puts(b, "default-src 'none'; style-src 'unsafe-inline'; "
	    "img-src https:; script-src 'sha256-" AUTOSUBMIT_SHA256 "'; "
	    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
	for (i = 0; rc == PDS_OK && i < n; i++)
		if (redirect_uris[i] != NULL)
			rc = csp_add_source(b, redirect_uris[i]);
	if (rc != PDS_OK) {
		b->len = start;
		if (b->p != NULL)
			b->p[start] = '\0';
	}
	return rc;
}
