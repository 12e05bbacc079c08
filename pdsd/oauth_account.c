/*
 * oauth_account: the member's page of authorized apps.  See
 * oauth_account.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "buf.h"
#include "err.h"
#include "http.h"
#include "module.h"
#include "oauth_account.h"
#include "oauth_authorize.h"
#include "oauth_pages.h"
#include "oauth_scope.h"
#include "offload.h"
#include "routes.h"
#include "store_account.h"
#include "store_oauth.h"

#define PAGE_MAX	(512 * 1024)
#define DATE_MAX	32
#define PERMS_MAX	16		/* permissions shown per grant */

/* One grant as the page needs it; strings owned. */
struct grant {
	char			 id[24];
	char			*client_id;
	char			 created[DATE_MAX];
	char			 used[DATE_MAX];
	struct oauth_page_perm	 perms[PERMS_MAX + 1];	/* + "and N more" */
	struct buf		 texts[PERMS_MAX + 1];
	size_t			 nperms;
};

struct grants {
	struct grant	*v;
	size_t		 n;
	int		 rc;
};

static void
fmt_date(int64_t t, char *out, size_t cap)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%e %B %Y", &tm) == 0)
		snprintf(out, cap, "?");
	else if (out[0] == ' ')
		memmove(out, out + 1, strlen(out));
}

/* The permissions of scope in words into g. */
static void
grant_perms(struct grant *g, const char *scope)
{
	struct scope_set	*set;
	size_t			 i;
	int			 rc;

	if (scope == NULL || (set = scope_set_new()) == NULL)
		return;
	rc = scope_set_parse(set, scope, strlen(scope), NULL);
	for (i = 0; rc == PDS_OK && i < set->n &&
	    g->nperms < PERMS_MAX; i++) {
		buf_init(&g->texts[g->nperms], SCOPE_DESCRIBE_MAX);
		if (scope_perm_describe(&set->p[i], &g->texts[g->nperms]) !=
		    PDS_OK || g->texts[g->nperms].p == NULL) {
			/* Shown as unknown, never hidden. */
			buf_clear(&g->texts[g->nperms]);
			g->perms[g->nperms].text =
			    "A permission too long to show";
			g->perms[g->nperms].warn = true;
			g->nperms++;
			continue;
		}
		g->perms[g->nperms].text = (const char *)g->texts[g->nperms].p;
		g->perms[g->nperms].warn = oauth_authz_perm_warn(&set->p[i]);
		g->nperms++;
	}
	/* Past PERMS_MAX the rest are counted, never dropped unsaid. */
	if (rc == PDS_OK && i < set->n) {
		buf_init(&g->texts[g->nperms], 64);
		if (buf_printf(&g->texts[g->nperms], "And %zu more permissions",
		    set->n - i) == PDS_OK) {
			g->perms[g->nperms].text =
			    (const char *)g->texts[g->nperms].p;
			g->perms[g->nperms].warn = true;
			g->nperms++;
		} else
			buf_clear(&g->texts[g->nperms]);
	}
	scope_set_free(set);
}

static int
grant_cb(void *arg, const struct store_oauth_family *f)
{
	struct grants	*gs = arg;
	struct grant	*g;

	if (gs->n == OAUTH_ACCOUNT_GRANTS_MAX)
		return 1;
	g = &gs->v[gs->n];
	memset(g, 0, sizeof(*g));
	if ((g->client_id = strdup(f->client_id)) == NULL) {
		gs->rc = PDS_ENOMEM;
		return 1;
	}
	snprintf(g->id, sizeof(g->id), "%lld", (long long)f->id);
	fmt_date(f->created_at, g->created, sizeof(g->created));
	fmt_date(f->updated_at, g->used, sizeof(g->used));
	grant_perms(g, f->scope);
	gs->n++;
	return 0;
}

static void
grants_clear(struct grants *gs)
{
	size_t	 i, j;

	for (i = 0; i < gs->n; i++) {
		free(gs->v[i].client_id);
		for (j = 0; j < gs->v[i].nperms; j++)
			buf_clear(&gs->v[i].texts[j]);
	}
	free(gs->v);
	memset(gs, 0, sizeof(*gs));
}

/* The account signed in on this browser, into did; false if none. */
static bool
signed_in(const struct oauth_authz_browser *br, char *did)
{
	char	 dids[1][SA_DID_MAX + 1];

	if (oauth_authz_fresh_accounts(br->device_id, (int64_t)time(NULL),
	    dids, 1) <= 0)
		return false;
	memcpy(did, dids[0], strlen(dids[0]) + 1);
	return true;
}

/*
 * The sign-in page, with error (or NULL); with code, the field for the
 * emailed code of the second factor too.
 */
static void
signin_page(struct http_req *req, const struct oauth_authz_browser *br,
    unsigned status, const char *error, const char *identifier, bool code)
{
	struct oauth_signin_page	 pg;
	struct buf			 b;

	memset(&pg, 0, sizeof(pg));
	pg.req.server_name = oauth_authz_server_name();
	pg.req.client.client_id = oauth_authz_issuer();
	pg.req.client.name = "your account";
	pg.req.action = OAUTH_ACCOUNT_SIGNIN_PATH;
	pg.req.csrf_token = br->csrf;
	pg.req.request_uri = "";
	pg.identifier = identifier;
	pg.remember = true;
	pg.error = error;
	pg.code = code;
	buf_init(&b, PAGE_MAX);
	if (oauth_page_render_signin(&b, &pg) != PDS_OK) {
		buf_clear(&b);
		oauth_authz_reply_error(req, 500, "Server error", NULL);
		return;
	}
	oauth_authz_reply_html(req, status, &b, NULL, 0);
}

static void
account_page(struct http_req *req, const struct oauth_authz_browser *br,
    const char *did)
{
	struct oauth_account_page	 pg;
	struct oauth_page_grant		*pgs = NULL;
	struct store_account		 acct;
	struct grants			 gs;
	struct buf			 b;
	const char			*notice;
	size_t				 i;
	int				 rc;

	memset(&gs, 0, sizeof(gs));
	buf_init(&b, PAGE_MAX);
	if (account_get(did, &acct) != PDS_OK ||
	    (gs.v = calloc(OAUTH_ACCOUNT_GRANTS_MAX, sizeof(*gs.v))) == NULL)
		goto fail;
	rc = store_oauth_family_list_did(did, grant_cb, &gs);
	if (rc < 0 || gs.rc != PDS_OK ||
	    (pgs = calloc(gs.n + 1, sizeof(*pgs))) == NULL)
		goto fail;
	for (i = 0; i < gs.n; i++) {
		pgs[i].grant_id = gs.v[i].id;
		pgs[i].client_id = gs.v[i].client_id;
		pgs[i].perms = gs.v[i].perms;
		pgs[i].nperms = gs.v[i].nperms;
		pgs[i].created = gs.v[i].created;
		pgs[i].last_used = gs.v[i].used;
	}
	notice = http_req_query(req, "notice");
	memset(&pg, 0, sizeof(pg));
	pg.server_name = oauth_authz_server_name();
	pg.handle = acct.handle;
	pg.did = acct.did;
	pg.csrf_token = br->csrf;
	pg.revoke_action = OAUTH_ACCOUNT_REVOKE_PATH;
	pg.signout_action = OAUTH_ACCOUNT_SIGNOUT_PATH;
	if (notice != NULL && strcmp(notice, "revoked") == 0)
		pg.notice = "Access revoked.";
	pg.grants = pgs;
	pg.ngrants = gs.n;
	if (oauth_page_render_account(&b, &pg) != PDS_OK)
		goto fail;
	oauth_authz_reply_html(req, 200, &b, NULL, 0);
	goto out;
fail:
	buf_clear(&b);
	oauth_authz_reply_retry(req);
out:
	free(pgs);
	grants_clear(&gs);
}

/* 303 to /account (with ?notice= when not NULL). */
static void
back_to_account(struct http_req *req, const char *notice)
{
	char	 loc[64];

	snprintf(loc, sizeof(loc), "%s%s%s", OAUTH_ACCOUNT_PATH,
	    notice != NULL ? "?notice=" : "", notice != NULL ? notice : "");
	oauth_authz_page_headers(req);
	http_reply_header(req, "Location", loc);
	http_reply_static(req, 303, "text/plain; charset=utf-8", "", 0);
}

static void
serve_account(struct http_req *req, const void *arg)
{
	struct oauth_authz_browser	 br;
	char				 did[SA_DID_MAX + 1];

	(void)arg;
	if (!oauth_authz_page_begin(req, &br, false))
		return;
	if (!signed_in(&br, did))
		signin_page(req, &br, 200, NULL, NULL, false);
	else if (oauth_authz_browser_save(req, &br) != PDS_OK)
		oauth_authz_reply_retry(req);
	else
		account_page(req, &br, did);
}

static void
serve_signin(struct http_req *req, const void *arg)
{
	struct oauth_authz_browser	 br;
	struct store_account		 acct;
	const char			*why = NULL;
	char				 ident[OAUTH_AUTHZ_FIELD_MAX];
	unsigned			 status;
	bool				 code;
	int				 rc;

	(void)arg;
	if (!oauth_authz_page_begin(req, &br, true))
		return;
	rc = oauth_authz_form_sign_in(req, ident, &acct, &why);
	if (oauth_authz_signin_again(rc, &status, &code))
		signin_page(req, &br, status, why, ident, code);
	else if (rc != PDS_OK || oauth_authz_browser_save(req, &br) != PDS_OK ||
	    store_oauth_account_device_put(br.device_id, acct.did,
	    (int64_t)time(NULL)) != PDS_OK)
		oauth_authz_reply_retry(req);
	else
		back_to_account(req, NULL);
}

static void
serve_revoke(struct http_req *req, const void *arg)
{
	struct oauth_authz_browser	 br;
	const uint8_t			*body;
	size_t				 len;
	int64_t				 id;
	char				 did[SA_DID_MAX + 1], gid[24], *end;
	bool				 forgot;
	int				 rc;

	(void)arg;
	if (!oauth_authz_page_begin(req, &br, true))
		return;
	if (!signed_in(&br, did)) {
		signin_page(req, &br, 401, "Sign in first", NULL, false);
		return;
	}
	body = http_req_body(req, &len);
	if (oauth_authz_form(body, len, "grant_id", gid, sizeof(gid)) !=
	    PDS_OK || gid[0] < '0' || gid[0] > '9' ||
	    (id = strtoll(gid, &end, 10)) <= 0 || *end != '\0') {
		oauth_authz_reply_error(req, 400, "Invalid form", NULL);
		return;
	}
	/* Only a grant of the signed-in account may go, with its consent. */
	rc = store_oauth_grant_revoke(did, id, &forgot);
	if (rc == PDS_ENOTFOUND)
		back_to_account(req, NULL);
	else if (rc != PDS_OK)
		oauth_authz_reply_error(req, 500, "Server error", NULL);
	else
		back_to_account(req, "revoked");
}

static void
serve_signout(struct http_req *req, const void *arg)
{
	struct oauth_authz_browser	 br;
	char				 did[SA_DID_MAX + 1];

	(void)arg;
	if (!oauth_authz_page_begin(req, &br, true))
		return;
	if (signed_in(&br, did) && store_oauth_account_device_delete(
	    br.device_id, did) < 0) {
		oauth_authz_reply_error(req, 500, "Server error", NULL);
		return;
	}
	back_to_account(req, NULL);
}

static int
oauth_account_init(const struct config *cfg)
{
	/* The sign-in checks a password: on the cpu pool (offload.h). */
	static const struct offload_route signin =
	    { OFFLOAD_CPU, serve_signin, NULL };
	static const struct {
		const char	*path;
		http_handler_fn	 fn;
		const void	*arg;
		size_t		 body_max;
	} r[] = {
		{ OAUTH_ACCOUNT_PATH, serve_account, NULL, 0 },
		{ OAUTH_ACCOUNT_SIGNIN_PATH, offload_route_handler, &signin,
		    OAUTH_AUTHZ_FORM_MAX },
		{ OAUTH_ACCOUNT_REVOKE_PATH, serve_revoke, NULL,
		    OAUTH_AUTHZ_FORM_MAX },
		{ OAUTH_ACCOUNT_SIGNOUT_PATH, serve_signout, NULL,
		    OAUTH_AUTHZ_FORM_MAX },
	};
	size_t	 i;
	int	 rc;

	(void)cfg;
	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if ((rc = routes_add(r[i].path, false, r[i].fn, r[i].arg,
		    r[i].body_max)) != PDS_OK)
			return rc;
	return 0;
}

PDSD_MODULE(oauth_account, oauth_account_init, NULL);
