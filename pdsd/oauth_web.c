/*
 * oauth_web: what the OAuth pages share (the authorization pages and the
 * account page): cookies, forms, CSRF, the browser's device, password
 * sign-in, redirects back to clients and the HTML replies.  See
 * oauth_authorize.h.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "accounts.h"
#include "auth.h"
#include "auth_factor.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "oauth_authorize.h"
#include "oauth_pages.h"
#include "oauth_scope.h"
#include "store_account.h"
#include "store_oauth.h"

#define PAGE_MAX		(256 * 1024)	/* one rendered page */
#define CSP_MAX			4096
#define UA_MAX			256		/* user agent bytes kept */

static const struct config	*acfg;
static bool			 secure_cookies;

void
oauth_authz_configure(const struct config *cfg)
{
	acfg = cfg;
	secure_cookies = strncmp(cfg->public_url, "https://", 8) == 0;
}

bool
oauth_authz_perm_warn(const struct scope_perm *p)
{
	return p->kind == SCOPE_TRANSITION_GENERIC ||
	    p->kind == SCOPE_ACCOUNT ||
	    (p->kind == SCOPE_IDENTITY && p->attr == SCOPE_IDENTITY_ANY);
}

/* ---- pure helpers ---- */

int
oauth_authz_cookie(const char *h, const char *name, char *out, size_t cap)
{
	size_t	 nlen = strlen(name), vlen;
	const char *v;

	while (h != NULL && *h != '\0') {
		while (*h == ' ' || *h == '\t' || *h == ';')
			h++;
		v = h + strcspn(h, "=;");
		if (*v == '=' && (size_t)(v - h) == nlen &&
		    strncmp(h, name, nlen) == 0) {
			v++;
			vlen = strcspn(v, ";");
			while (vlen > 0 && (v[vlen - 1] == ' ' ||
			    v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= cap)
				return PDS_ETOOBIG;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return PDS_OK;
		}
		h += strcspn(h, ";");
	}
	return PDS_ENOTFOUND;
}

bool
oauth_authz_id_ok(const char *s, const char *prefix, size_t nhex)
{
	size_t	 pl = strlen(prefix), i;

	if (s == NULL || strncmp(s, prefix, pl) != 0 ||
	    strlen(s) != pl + nhex)
		return false;
	for (i = pl; s[i] != '\0'; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return false;
	return true;
}

int
oauth_authz_random_id(const char *prefix, size_t nhex, char *out,
    size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t	 rnd[64];
	size_t	 pl = strlen(prefix), i;

	if (nhex % 2 != 0 || nhex / 2 > sizeof(rnd) || pl + nhex >= cap)
		return PDS_EINVAL;
	randombytes_buf(rnd, nhex / 2);
	memcpy(out, prefix, pl);
	for (i = 0; i < nhex / 2; i++) {
		out[pl + 2 * i] = hex[rnd[i] >> 4];
		out[pl + 2 * i + 1] = hex[rnd[i] & 0xf];
	}
	out[pl + nhex] = '\0';
	sodium_memzero(rnd, sizeof(rnd));
	return PDS_OK;
}

bool
oauth_authz_csrf_ok(const char *cookie, const char *field)
{
	if (!oauth_authz_id_ok(cookie, "", OAUTH_AUTHZ_CSRF_HEX) ||
	    !oauth_authz_id_ok(field, "", OAUTH_AUTHZ_CSRF_HEX))
		return false;
	return sodium_memcmp(cookie, field, OAUTH_AUTHZ_CSRF_HEX) == 0;
}

int
oauth_authz_cookie_format(struct buf *b, const char *name,
    const char *value, int64_t max_age, bool http_only, bool secure)
{
	size_t	 len0 = b->len;
	int	 rc;

	if ((rc = buf_printf(b, "%s=%s; Path=/; Max-Age=%lld; SameSite=Lax%s%s",
	    name, value, (long long)max_age, http_only ? "; HttpOnly" : "",
	    secure ? "; Secure" : "")) != PDS_OK)
		b->len = len0;
	return rc;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode p[0..n) (form encoding) into out[cap]. */
static int
form_decode(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t	 i, o = 0;
	int	 hi, lo, c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= n)
				return PDS_EINVAL;
			if ((hi = hexval(p[i + 1])) < 0 ||
			    (lo = hexval(p[i + 2])) < 0)
				return PDS_EINVAL;
			c = hi << 4 | lo;
			i += 2;
		}
		if (c == '\0')
			return PDS_EINVAL;
		if (o + 1 >= cap) {
			sodium_memzero(out, cap);
			return PDS_ETOOBIG;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return PDS_OK;
}

int
oauth_authz_form(const uint8_t *body, size_t len, const char *key,
    char *out, size_t cap)
{
	char		 name[64];
	const uint8_t	*p = body, *end = body + len, *amp, *eq;
	bool		 found = false;
	int		 rc;

	if (cap == 0)
		return PDS_ETOOBIG;
	while (body != NULL && p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		if (form_decode(p, (size_t)(eq - p), name, sizeof(name)) ==
		    PDS_OK && strcmp(name, key) == 0) {
			if (found)
				return PDS_EINVAL;
			found = true;
			rc = form_decode(eq < amp ? eq + 1 : eq,
			    eq < amp ? (size_t)(amp - eq - 1) : 0, out, cap);
			if (rc != PDS_OK)
				return rc;
		}
		if (amp == end)
			break;
		p = amp + 1;
	}
	return found ? PDS_OK : PDS_ENOTFOUND;
}

int
oauth_authz_request_id(const char *uri, char *id, size_t cap)
{
	size_t	 pl = strlen(OAUTH_AUTHZ_REQUEST_URI_PREFIX);

	if (uri == NULL || strncmp(uri, OAUTH_AUTHZ_REQUEST_URI_PREFIX,
	    pl) != 0 || !oauth_authz_id_ok(uri + pl, "req-",
	    OAUTH_AUTHZ_ID_HEX) || strlen(uri + pl) >= cap)
		return PDS_EINVAL;
	memcpy(id, uri + pl, strlen(uri + pl) + 1);
	return PDS_OK;
}

int
oauth_authz_mode_parse(const char *s, enum oauth_authz_mode *out)
{
	if (s == NULL || strcmp(s, "query") == 0)
		*out = OAUTH_AUTHZ_QUERY;
	else if (strcmp(s, "fragment") == 0)
		*out = OAUTH_AUTHZ_FRAGMENT;
	else if (strcmp(s, "form_post") == 0)
		*out = OAUTH_AUTHZ_FORM_POST;
	else
		return PDS_EINVAL;
	return PDS_OK;
}

/*
 * Append *sep (unless NUL) and name=value, the value percent-encoded but
 * for unreserved bytes; *sep becomes '&'.  Nothing when value is NULL.
 */
static int
url_param(struct buf *b, char *sep, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const char	*s;
	int		 rc;

	if (value == NULL)
		return PDS_OK;
	if ((*sep != '\0' && (rc = buf_putc(b, (uint8_t)*sep)) != PDS_OK) ||
	    (rc = buf_puts(b, name)) != PDS_OK ||
	    (rc = buf_putc(b, '=')) != PDS_OK)
		return rc;
	*sep = '&';
	for (s = value; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || *s == '-' || *s == '.' ||
		    *s == '_' || *s == '~')
			rc = buf_putc(b, (uint8_t)*s);
		else
			rc = buf_printf(b, "%%%c%c",
			    hex[(unsigned char)*s >> 4],
			    hex[(unsigned char)*s & 0xf]);
		if (rc != PDS_OK)
			return rc;
	}
	return PDS_OK;
}

int
oauth_authz_redirect_build(struct buf *b, const char *redirect_uri,
    enum oauth_authz_mode mode, const struct oauth_authz_result *res,
    const char *server_name)
{
	struct oauth_page_param		 pp[5];
	struct oauth_form_post_page	 pg;
	size_t				 len0 = b->len, n = 0;
	char				 sep, last;
	int				 rc;

	if (redirect_uri == NULL || *redirect_uri == '\0' ||
	    strchr(redirect_uri, '#') != NULL ||
	    res->iss == NULL || (res->code == NULL) == (res->error == NULL))
		return PDS_EINVAL;
	if (mode == OAUTH_AUTHZ_FORM_POST) {
		if (res->state != NULL)
			pp[n++] = (struct oauth_page_param){ "state",
			    res->state };
		pp[n++] = (struct oauth_page_param){ "iss", res->iss };
		if (res->code != NULL)
			pp[n++] = (struct oauth_page_param){ "code",
			    res->code };
		else {
			pp[n++] = (struct oauth_page_param){ "error",
			    res->error };
			if (res->error_description != NULL)
				pp[n++] = (struct oauth_page_param){
				    "error_description",
				    res->error_description };
		}
		memset(&pg, 0, sizeof(pg));
		pg.server_name = server_name != NULL ? server_name : "";
		pg.redirect_uri = redirect_uri;
		pg.params = pp;
		pg.nparams = n;
		return oauth_page_render_form_post(b, &pg);
	}
	/* A query that is empty or ends with '&' needs no separator. */
	last = redirect_uri[strlen(redirect_uri) - 1];
	if (mode == OAUTH_AUTHZ_FRAGMENT)
		sep = '#';
	else if (strchr(redirect_uri, '?') == NULL)
		sep = '?';
	else
		sep = last == '?' || last == '&' ? '\0' : '&';
	if ((rc = buf_puts(b, redirect_uri)) != PDS_OK)
		goto fail;
	if ((rc = url_param(b, &sep, "state", res->state)) != PDS_OK ||
	    (rc = url_param(b, &sep, "iss", res->iss)) != PDS_OK ||
	    (rc = url_param(b, &sep, "code", res->code)) != PDS_OK ||
	    (rc = url_param(b, &sep, "error", res->error)) != PDS_OK ||
	    (rc = url_param(b, &sep, "error_description",
	    res->error == NULL ? NULL : res->error_description)) != PDS_OK)
		goto fail;
	return PDS_OK;
fail:
	b->len = len0;
	if (b->p != NULL)
		b->p[len0] = '\0';
	return rc;
}

/* ---- settings and replies ---- */

const char *
oauth_authz_server_name(void)
{
	if (acfg == NULL)
		return "";
	return acfg->service_name != NULL ? acfg->service_name :
	    acfg->hostname;
}

const char *
oauth_authz_issuer(void)
{
	return acfg != NULL ? acfg->public_url : "";
}

void
oauth_authz_page_headers(struct http_req *req)
{
	http_reply_header(req, "Cache-Control", "no-store");
	http_reply_header(req, "Pragma", "no-cache");
	http_reply_header(req, "X-Frame-Options", "DENY");
	http_reply_header(req, "Referrer-Policy", "no-referrer");
	http_reply_header(req, "X-Content-Type-Options", "nosniff");
}

void
oauth_authz_reply_html(struct http_req *req, unsigned status,
    struct buf *b, const char *const *redirect_uris, size_t n)
{
	struct buf	 csp;
	uint8_t		*p;
	size_t		 len;

	buf_init(&csp, CSP_MAX);
	if (oauth_page_csp(&csp, redirect_uris, n) != PDS_OK) {
		buf_clear(&csp);
		buf_clear(b);
		http_reply_error(req, 500, "InternalServerError",
		    "Internal Server Error");
		return;
	}
	oauth_authz_page_headers(req);
	http_reply_header(req, "Content-Security-Policy", (char *)csp.p);
	buf_clear(&csp);
	p = buf_detach(b, &len);
	if (p == NULL) {
		http_reply_error(req, 500, "InternalServerError",
		    "Internal Server Error");
		return;
	}
	http_reply_owned(req, status, "text/html; charset=utf-8", p, len);
}

void
oauth_authz_reply_error(struct http_req *req, unsigned status,
    const char *title, const char *message)
{
	struct oauth_error_page	 pg;
	struct buf		 b;

	memset(&pg, 0, sizeof(pg));
	pg.server_name = oauth_authz_server_name();
	pg.title = title;
	pg.message = message;
	buf_init(&b, PAGE_MAX);
	if (oauth_page_render_error(&b, &pg) != PDS_OK) {
		buf_clear(&b);
		http_reply_error(req, 500, "InternalServerError",
		    "Internal Server Error");
		return;
	}
	oauth_authz_reply_html(req, status, &b, NULL, 0);
}

void
oauth_authz_reply_retry(struct http_req *req)
{
	oauth_authz_reply_error(req, 500, "Server error",
	    "Please try again later.");
}

/* ---- the browser ---- */

static void
set_cookie(struct http_req *req, const char *name, const char *value,
    bool http_only)
{
	struct buf	 b;

	buf_init(&b, 512);
	if (oauth_authz_cookie_format(&b, name, value, OAUTH_AUTHZ_COOKIE_AGE,
	    http_only, secure_cookies) == PDS_OK)
		http_reply_header(req, "Set-Cookie", (char *)b.p);
	buf_clear(&b);
}

int
oauth_authz_browser_begin(struct http_req *req,
    struct oauth_authz_browser *br)
{
	struct store_oauth_device	 d;
	const char			*ck = http_req_header(req, "Cookie");
	bool				 known = false;
	int				 rc;

	memset(br, 0, sizeof(*br));
	memset(&d, 0, sizeof(d));
	if (oauth_authz_cookie(ck, "dev-id", br->device_id,
	    sizeof(br->device_id)) == PDS_OK &&
	    oauth_authz_id_ok(br->device_id, "dev-", OAUTH_AUTHZ_ID_HEX) &&
	    oauth_authz_cookie(ck, "ses-id", br->session_id,
	    sizeof(br->session_id)) == PDS_OK &&
	    oauth_authz_id_ok(br->session_id, "ses-", OAUTH_AUTHZ_ID_HEX) &&
	    store_oauth_device_get(br->device_id, &d) == PDS_OK) {
		known = d.session_id != NULL &&
		    strcmp(d.session_id, br->session_id) == 0;
		store_oauth_device_clear(&d);
	}
	if (!known) {
		if ((rc = oauth_authz_random_id("dev-", OAUTH_AUTHZ_ID_HEX,
		    br->device_id, sizeof(br->device_id))) != PDS_OK ||
		    (rc = oauth_authz_random_id("ses-", OAUTH_AUTHZ_ID_HEX,
		    br->session_id, sizeof(br->session_id))) != PDS_OK)
			return rc;
		set_cookie(req, "dev-id", br->device_id, true);
		set_cookie(req, "ses-id", br->session_id, true);
	}
	if (oauth_authz_cookie(ck, "csrf-token", br->csrf,
	    sizeof(br->csrf)) != PDS_OK ||
	    !oauth_authz_id_ok(br->csrf, "", OAUTH_AUTHZ_CSRF_HEX)) {
		if ((rc = oauth_authz_random_id("", OAUTH_AUTHZ_CSRF_HEX,
		    br->csrf, sizeof(br->csrf))) != PDS_OK)
			return rc;
		set_cookie(req, "csrf-token", br->csrf, false);
	}
	return PDS_OK;
}

bool
oauth_authz_page_begin(struct http_req *req, struct oauth_authz_browser *br,
    bool post)
{
	enum http_method	 m = http_req_method(req);
	const uint8_t		*body;
	size_t			 len;

	if (post ? m != HTTP_POST : (m != HTTP_GET && m != HTTP_HEAD)) {
		http_reply_header(req, "Allow", post ? "POST" : "GET");
		oauth_authz_reply_error(req, 405, "Method not allowed", NULL);
		return false;
	}
	if (oauth_authz_browser_begin(req, br) != PDS_OK) {
		oauth_authz_reply_retry(req);
		return false;
	}
	body = http_req_body(req, &len);
	if (post && !oauth_authz_browser_csrf(br, body, len)) {
		oauth_authz_reply_error(req, 403, "This form has expired",
		    "Go back, reload the page and try again.");
		return false;
	}
	return true;
}

int
oauth_authz_browser_save(struct http_req *req,
    const struct oauth_authz_browser *br)
{
	struct store_oauth_device	 d;
	const char			*ua = http_req_header(req, "User-Agent");
	char				 uab[UA_MAX + 1];

	memset(&d, 0, sizeof(d));
	if (ua != NULL) {
		snprintf(uab, sizeof(uab), "%s", ua);
		ua = uab;
	}
	d.id = (char *)br->device_id;
	d.session_id = (char *)br->session_id;
	d.user_agent = (char *)ua;
	d.ip = (char *)http_req_remote(req);
	d.last_seen = (int64_t)time(NULL);
	return store_oauth_device_put(&d);
}

bool
oauth_authz_browser_csrf(const struct oauth_authz_browser *br,
    const uint8_t *body, size_t len)
{
	char	 field[OAUTH_AUTHZ_ID_MAX];

	if (oauth_authz_form(body, len, "csrf_token", field, sizeof(field)) !=
	    PDS_OK)
		return false;
	return oauth_authz_csrf_ok(br->csrf, field);
}

struct fresh_walk {
	char		 dids[OAUTH_AUTHZ_FRESH_MAX][SA_DID_MAX + 1];
	size_t		 n;
	int64_t		 since;
};

static int
fresh_cb(void *arg, const char *did, int64_t created_at, int64_t updated_at)
{
	struct fresh_walk *w = arg;

	(void)created_at;
	if (updated_at < w->since || strlen(did) > SA_DID_MAX)
		return 0;
	if (w->n == OAUTH_AUTHZ_FRESH_MAX)
		return 1;
	memcpy(w->dids[w->n++], did, strlen(did) + 1);
	return 0;
}

int
oauth_authz_fresh_accounts(const char *device_id, int64_t now,
    char dids[][SA_DID_MAX + 1], size_t max)
{
	struct fresh_walk	*w;
	struct store_account	 a;
	size_t			 i, n = 0;
	int			 rc;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return PDS_ENOMEM;
	w->since = now - OAUTH_AUTHZ_LOGIN_MAX_AGE;
	rc = store_oauth_account_device_list(device_id, fresh_cb, w);
	if (rc < 0) {
		free(w);
		return rc;
	}
	for (i = 0; i < w->n; i++) {
		if (account_get(w->dids[i], &a) != PDS_OK ||
		    a.status != ACCT_ACTIVE)
			continue;
		if (n < max)
			memcpy(dids[n], a.did, strlen(a.did) + 1);
		n++;
	}
	free(w);
	return (int)n;
}

int
oauth_authz_sign_in(const char *identifier, const char *password,
    const char *addr, struct store_account *out, const char **why)
{
	struct store_account	 a;
	struct account_login	 how;
	bool			 found;
	int			 rc;

	memset(out, 0, sizeof(*out));
	if (identifier == NULL || *identifier == '\0' || password == NULL ||
	    strlen(password) > ACCOUNT_PASSWORD_CHECK_MAX)
		return pds_fail(why, PDS_ECRYPTO, "Wrong identifier or password");
	rc = account_lookup(identifier, &a);
	if (rc != PDS_OK && rc != PDS_ENOTFOUND)
		return pds_fail(why, rc, "Could not check the password");
	found = rc == PDS_OK && a.status != ACCT_DELETED;
	/* the same buckets as createSession: a guess here costs the same */
	if (auth_login_take(identifier, found ? a.did : NULL, addr) != PDS_OK)
		return pds_fail(why, PDS_ERATELIMIT,
		    "Too many failed sign-in attempts: try again later");
	rc = account_password_verify(found ? &a : NULL, password, &how);
	if (rc == PDS_ECRYPTO || (rc == PDS_OK && !found))
		return pds_fail(why, PDS_ECRYPTO, "Wrong identifier or password");
	if (rc != PDS_OK)
		return pds_fail(why, rc, "Could not check the password");
	auth_login_refund(identifier, a.did, addr);
	if (how.app_password)
		return pds_fail(why, PDS_EINVAL,
		    "App passwords cannot be used to sign in to apps");
	if (a.status == ACCT_TAKENDOWN)
		return pds_fail(why, PDS_EINVAL,
		    "This account has been taken down");
	if (a.status != ACCT_ACTIVE)
		return pds_fail(why, PDS_EINVAL, "This account is deactivated: "
		    "reactivate it before signing in to apps");
	*out = a;
	return PDS_OK;
}

int
oauth_authz_form_sign_in(struct http_req *req, char *ident,
    struct store_account *out, const char **why)
{
	const char	*addr = http_req_client(req);
	const uint8_t	*body;
	size_t		 len;
	char		 pw[ACCOUNT_PASSWORD_CHECK_MAX + 2], code[40];
	int		 rc;

	body = http_req_body(req, &len);
	if (oauth_authz_form(body, len, "identifier", ident,
	    OAUTH_AUTHZ_FIELD_MAX) != PDS_OK)
		ident[0] = '\0';
	if (oauth_authz_form(body, len, "password", pw, sizeof(pw)) != PDS_OK)
		pw[0] = '\0';
	rc = oauth_authz_sign_in(ident, pw, addr, out, why);
	sodium_memzero(pw, sizeof(pw));
	if (rc != PDS_OK)
		return rc;
	/* emailAuthFactor (auth_factor.h) */
	if (oauth_authz_form(body, len, "code", code, sizeof(code)) != PDS_OK)
		code[0] = '\0';
	rc = auth_factor_page(out, ident, addr, code, why);
	sodium_memzero(code, sizeof(code));
	return rc;
}

bool
oauth_authz_signin_again(int rc, unsigned *status, bool *code)
{
	*code = rc == PDS_EAUTHREQ || rc == PDS_EBADTOKEN;
	if (*code || rc == PDS_ECRYPTO)
		*status = 401;
	else if (rc == PDS_EINVAL || rc == PDS_ERATELIMIT)
		*status = rc == PDS_ERATELIMIT ? 429 : 403;
	else
		return false;
	return true;
}
