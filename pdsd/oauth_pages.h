/*
 * oauth_pages: the HTML pages of the OAuth authorization server (sign-in,
 * consent, error, form_post redirect, the account page), rendered from a
 * struct into a buf.  Pure functions: no HTTP, no storage, no clock.
 *
 * Every page is a complete UTF-8 HTML5 document with one small inline
 * stylesheet (shared by all pages), readable on a 360 px phone and on a
 * desktop, light or dark as the browser prefers.  Nothing is loaded from
 * elsewhere except a client's https logo, and no page needs JavaScript:
 * the form_post page has one optional inline script that submits its
 * form, and a visible Continue button for when it does not run.
 *
 * Everything a client controls (client_id, name, logo, links, state,
 * login_hint) is treated as hostile: text and attribute values are
 * escaped (& < > " '), invalid UTF-8 and control characters become
 * U+FFFD, client names are bidi-isolated and cut to 64 bytes, and a URL
 * goes into an href or src only if it is an absolute http(s) URL (https
 * for logos); otherwise it is left out.  Paths and tokens the server
 * supplies are escaped the same way.
 *
 * All struct fields are borrowed; NULL means "not given" unless a field
 * is marked required.  A renderer appends to the buf and returns PDS_OK,
 * PDS_EINVAL when a required field is missing (or a form_post target is
 * not http(s)), or PDS_ENOMEM / PDS_ETOOBIG; on failure the buf is put
 * back to the length it had.
 *
 * The HTTP layer sends the pages with "Content-Type: text/html;
 * charset=utf-8" and the Content-Security-Policy oauth_page_csp() gives.
 *
 * Form field names the endpoints read back:
 *	every form:	csrf_token
 *	sign-in:	request_uri, identifier, password, remember ("1")
 *	consent:	request_uri, decision ("allow" or "deny")
 *	switch account:	request_uri
 *	revoke:		grant_id
 */
#ifndef PDSD_OAUTH_PAGES_H
#define PDSD_OAUTH_PAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define OAUTH_PAGE_URL_MAX	2048

/* The client as the pages show it. */
struct oauth_page_client {
	const char	*client_id;	/* required; its host is always shown */
	const char	*name;		/* client_name, if it is to be shown */
	const char	*logo_uri;	/* shown only if https */
	const char	*client_uri;	/* linked only if http(s) */
	const char	*tos_uri;	/* linked only if http(s) */
	const char	*policy_uri;	/* linked only if http(s) */
};

/* One permission in plain words, as the scope layer describes it. */
struct oauth_page_perm {
	const char	*text;		/* required: "Post and delete posts" */
	const char	*detail;	/* a second, smaller line, or NULL */
	bool		 warn;		/* broad access: shown as a warning */
};

/* What the sign-in and consent pages share: the request they answer. */
struct oauth_page_request {
	const char	*server_name;	/* required: "social.coop" */
	struct oauth_page_client client;
	const char	*action;	/* required: the form's POST path */
	const char	*csrf_token;	/* required */
	const char	*request_uri;	/* required */
};

struct oauth_signin_page {
	struct oauth_page_request req;
	const char	*identifier;	/* prefilled (login_hint), or NULL */
	bool		 identifier_locked; /* readonly: only it may sign in */
	bool		 remember;	/* "Remember this device" ticked */
	const char	*error;		/* "Wrong identifier or password" */
	bool		 code;		/* ask for the emailed sign-in code */
};

struct oauth_consent_page {
	struct oauth_page_request req;	/* action: the Allow/Deny POST path */
	const char	*handle;	/* required: the signed-in account */
	const char	*did;		/* required */
	const struct oauth_page_perm *perms;	/* none: identity only */
	size_t		 nperms;
	const char	*switch_action;	/* "Not you?" POST path, or NULL */
};

/* For requests that cannot be sent back to the client. */
struct oauth_error_page {
	const char	*server_name;	/* required */
	const char	*title;		/* required: "Sign-in link expired" */
	const char	*message;	/* or NULL */
};

/* One name/value pair for the form_post page. */
struct oauth_page_param {
	const char	*name;
	const char	*value;
};

/* response_mode=form_post: POST the params to the redirect_uri. */
struct oauth_form_post_page {
	const char	*server_name;	/* required */
	const char	*redirect_uri;	/* required; must be http(s) */
	const struct oauth_page_param *params;	/* code, state, iss, ... */
	size_t		 nparams;
};

/* One app the member has authorized. */
struct oauth_page_grant {
	const char	*grant_id;	/* required: sent back by Revoke */
	const char	*client_id;	/* required */
	const char	*client_name;	/* or NULL */
	const struct oauth_page_perm *perms;	/* what it may do */
	size_t		 nperms;
	const char	*created;	/* display text: "2 March 2026" */
	const char	*last_used;	/* display text, or NULL: never */
};

struct oauth_account_page {
	const char	*server_name;	/* required */
	const char	*handle;	/* required */
	const char	*did;		/* required */
	const char	*csrf_token;	/* required */
	const char	*revoke_action;	/* required: POST path of Revoke */
	const char	*signout_action; /* required: POST path of Sign out */
	const char	*notice;	/* "Access revoked.", or NULL */
	const struct oauth_page_grant *grants;
	size_t		 ngrants;
};

/*
 * Append s as HTML text: & < > " ' escaped, so it is also safe inside a
 * double- or single-quoted attribute value; invalid UTF-8 and control
 * characters other than tab and newline become U+FFFD.  NULL appends
 * nothing.
 */
int	oauth_page_escape(struct buf *, const char *s);

/*
 * Whether url may go in an href or src: "http://" or "https://" (any
 * case; https only when https_only), a non-empty host, no spaces,
 * controls or backslashes anywhere, and at most OAUTH_PAGE_URL_MAX bytes.
 */
bool	oauth_page_url_ok(const char *url, bool https_only);

int	oauth_page_render_signin(struct buf *,
	    const struct oauth_signin_page *);
int	oauth_page_render_consent(struct buf *,
	    const struct oauth_consent_page *);
int	oauth_page_render_error(struct buf *,
	    const struct oauth_error_page *);
int	oauth_page_render_form_post(struct buf *,
	    const struct oauth_form_post_page *);
int	oauth_page_render_account(struct buf *,
	    const struct oauth_account_page *);

/*
 * The Content-Security-Policy value for these pages, appended to the buf
 * as one line: nothing but the inline style, https images, the
 * form_post page's own script (by hash), no framing, and forms posting
 * to 'self' plus the origins of the given redirect URIs (a form's POST
 * answered by a 303 to the client is checked against form-action too).
 * An http(s) URI adds its origin, a private-use scheme (com.example:/cb)
 * adds "com.example:"; a URI that is neither, or has characters outside
 * a strict set, adds nothing.
 */
int	oauth_page_csp(struct buf *, const char *const *redirect_uris,
	    size_t n);

#endif
