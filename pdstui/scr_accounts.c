/*
 * Accounts: a searchable, sortable list (account.list), one account's
 * details (account.show), how it is signed in (account.sessions: its
 * password sessions, app passwords and OAuth grants, a list of its own)
 * and the actions on it.  Every action asks for confirmation; takedown,
 * untakedown and ending a session first ask for a reason.  The action
 * keys stay on screen, greyed, when the user may only read.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "tui.h"

#define LIST_LIMIT	1000

enum sort { SORT_HANDLE, SORT_CREATED, SORT_STATUS, SORT_N };
static const char *const sort_name[SORT_N] = { "handle", "newest", "status" };
static const char *const filters[] = { NULL, "active", "deactivated",
    "takendown" };

static struct {
	json_t		*list;		/* the reply's accounts array */
	const json_t	**rows;		/* sorted view of list */
	size_t		 nrows;
	bool		 more;		/* the daemon had more (cursor) */
	bool		 loading;
	char		 search[TUI_TEXT_MAX];
	size_t		 filter;	/* index into filters */
	enum sort	 sort;
	struct ui_list	 cur;
	/* details */
	bool		 detail;
	json_t		*shown;		/* account.show result */
	char		 shown_did[256];
	int		 dscroll;
	/* how it is signed in (within the details) */
	bool		 sess;		/* the sessions list is up */
	json_t		*sessions;	/* account.sessions result */
	struct ui_list	 scur;
} A;

/* The sessions list's sections, in order: kind, key, its word. */
static const struct {
	const char	*kind;		/* account.revoke-session's */
	const char	*key;		/* its array in the reply */
	const char	*word;
} sections[] = {
	{ "session", "sessions", "session" },
	{ "app-password", "appPasswords", "app password" },
	{ "oauth", "oauthGrants", "OAuth grant" },
};
#define NSECTIONS	(sizeof(sections) / sizeof(sections[0]))
#define ID_COLS		22	/* the sessions list's id column */

/* The action being prompted for / confirmed. */
static struct {
	const char	*cmd;		/* account.takedown, ... */
	const char	*verb;		/* "take down" */
	char		 did[256];
	char		 handle[256];
	char		 reason[TUI_TEXT_MAX];
	/* account.revoke-session: the kind and id, or all */
	const char	*kind;
	char		 id[256];
	bool		 all;
	char		 verb_buf[300];
} act;

static void	load(void);
static void	load_detail(void);

static int
cmp_rows(const void *pa, const void *pb)
{
	const json_t	*a = *(const json_t *const *)pa;
	const json_t	*b = *(const json_t *const *)pb;
	int		 c;

	switch (A.sort) {
	case SORT_CREATED:
		if ((c = strcmp(js(b, "indexedAt"), js(a, "indexedAt"))) != 0)
			return c;
		break;
	case SORT_STATUS:
		if ((c = strcmp(js(a, "status"), js(b, "status"))) != 0)
			return c;
		break;
	case SORT_HANDLE:
	case SORT_N:
		break;
	}
	return strcasecmp(js(a, "handle"), js(b, "handle"));
}

static void
resort(void)
{
	const json_t	*sel = A.cur.sel >= 0 && (size_t)A.cur.sel < A.nrows ?
	    A.rows[A.cur.sel] : NULL;
	size_t		 i;

	free(A.rows);
	A.rows = NULL;
	A.nrows = json_array_size(A.list);
	if (A.nrows > 0 && (A.rows = calloc(A.nrows, sizeof(*A.rows))) ==
	    NULL) {
		A.nrows = 0;
		return;
	}
	for (i = 0; i < A.nrows; i++)
		A.rows[i] = json_array_get(A.list, i);
	if (A.nrows > 1)	/* qsort's base may not be NULL, even for 0 */
		qsort(A.rows, A.nrows, sizeof(*A.rows), cmp_rows);
	/* keep the same account selected */
	for (i = 0; sel != NULL && i < A.nrows; i++)
		if (strcmp(js(A.rows[i], "did"), js(sel, "did")) == 0)
			A.cur.sel = (int)i;
}

static void
on_list(void *arg, const struct adminproto_msg *m)
{
	char	 keep[256];
	size_t	 i;

	A.loading = false;
	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		ui_msg_reply("account list", m);
		return;
	}
	keep[0] = '\0';
	if (A.cur.sel >= 0 && (size_t)A.cur.sel < A.nrows)
		snprintf(keep, sizeof(keep), "%s", js(A.rows[A.cur.sel],
		    "did"));
	json_decref(A.list);
	A.list = json_incref(json_object_get(m->result, "accounts"));
	if (!json_is_array(A.list)) {
		json_decref(A.list);
		A.list = json_array();
	}
	A.more = json_object_get(m->result, "cursor") != NULL;
	A.cur.sel = 0;
	resort();
	for (i = 0; keep[0] && i < A.nrows; i++)
		if (strcmp(js(A.rows[i], "did"), keep) == 0)
			A.cur.sel = (int)i;
}

static void
load(void)
{
	json_t	*args = json_pack("{s:i}", "limit", LIST_LIMIT);

	if (A.search[0])
		json_object_set_new(args, "search", json_string(A.search));
	if (filters[A.filter] != NULL)
		json_object_set_new(args, "status",
		    json_string(filters[A.filter]));
	if (tconn_request(tui.conn, "account.list", args, on_list, NULL) !=
	    -1)
		A.loading = true;
}

static void
on_show(void *arg, const struct adminproto_msg *m)
{
	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		ui_msg_reply("account show", m);
		return;
	}
	json_decref(A.shown);
	A.shown = json_incref(m->result);
}

static void
on_sessions(void *arg, const struct adminproto_msg *m)
{
	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		ui_msg_reply("account sessions", m);
		return;
	}
	json_decref(A.sessions);
	A.sessions = json_incref(m->result);
}

static void
load_detail(void)
{
	if (A.shown_did[0] == '\0')
		return;
	tconn_request(tui.conn, "account.show", json_pack("{s:s}",
	    "account", A.shown_did), on_show, NULL);
	if (tui_has_cmd("account.sessions"))
		tconn_request(tui.conn, "account.sessions", json_pack("{s:s}",
		    "account", A.shown_did), on_sessions, NULL);
}

/* Row i of the sessions list: its section, and the entry. */
static const json_t *
sess_row(int i, size_t *section)
{
	const json_t	*arr;
	size_t		 k, n;

	for (k = 0; k < NSECTIONS && i >= 0; k++) {
		arr = json_object_get(A.sessions, sections[k].key);
		n = json_array_size(arr);
		if ((size_t)i < n) {
			*section = k;
			return json_array_get(arr, (size_t)i);
		}
		i -= (int)n;
	}
	return NULL;
}

static int
sess_count(void)
{
	size_t	 k, n = 0;

	for (k = 0; k < NSECTIONS; k++)
		n += json_array_size(json_object_get(A.sessions,
		    sections[k].key));
	return (int)n;
}

static void
accounts_enter(void)
{
	load();
	if (A.detail)
		load_detail();
}

static const json_t *
selected(void)
{
	if (A.detail)
		return A.shown;
	if (A.cur.sel < 0 || (size_t)A.cur.sel >= A.nrows)
		return NULL;
	return A.rows[A.cur.sel];
}

/* ---- drawing ---- */

static enum tui_role
status_role(const char *st)
{
	if (strcmp(st, "active") == 0)
		return C_OK;
	if (strcmp(st, "takendown") == 0)
		return C_BAD;
	return C_WARN;
}

static void
draw_list(int top, int rows, int cols)
{
	const json_t	*a;
	char		 t[64];
	int		 i, y, hw = cols > 110 ? 32 : 26, dw = 34;

	ui_put(top, 0, cols, C_NORMAL, "%zu account%s%s%s  search: %s  "
	    "status: %s  sort: %s%s", A.nrows, A.nrows == 1 ? "" : "s",
	    A.more ? " (first page; narrow with /)" : "",
	    A.loading ? " (loading)" : "", A.search[0] ? A.search : "-",
	    filters[A.filter] ? filters[A.filter] : "any",
	    sort_name[A.sort], "");
	ui_put(top + 1, 0, cols, C_HEAD, "%-*s %-*s %-11s %-19s %s", hw,
	    "HANDLE", dw, "DID", "STATUS", "CREATED", "EMAIL");
	rows -= 2;
	top += 2;
	ui_list_fix(&A.cur, (int)A.nrows, rows);
	if (A.nrows == 0) {
		ui_put(top, 2, cols - 2, C_DIM, "%s", A.loading ?
		    "loading..." : "no accounts match");
		return;
	}
	for (i = 0; i < rows && A.cur.top + i < (int)A.nrows; i++) {
		a = A.rows[A.cur.top + i];
		y = top + i;
		ui_time(t, sizeof(t), js(a, "indexedAt"));
		if (A.cur.top + i == A.cur.sel) {
			ui_put(y, 0, cols, C_SEL, "%-*.*s %-*.*s %-11s %-19s "
			    "%s", hw, hw, js(a, "handle"), dw, dw,
			    js(a, "did"), js(a, "status"), t, js(a, "email"));
			continue;
		}
		ui_put(y, 0, hw + 1, C_NORMAL, "%s", js(a, "handle"));
		ui_put(y, hw + 1, dw + 1, C_NORMAL, "%s", js(a, "did"));
		ui_put(y, hw + dw + 2, 12, status_role(js(a, "status")), "%s",
		    js(a, "status"));
		ui_put(y, hw + dw + 14, 20, C_NORMAL, "%s", t);
		ui_put(y, hw + dw + 34, cols - (hw + dw + 34), C_NORMAL, "%s",
		    js(a, "email"));
	}
}

static void
draw_detail(int top, int rows, int cols)
{
	const json_t	*a = A.shown, *inv, *e, *repo, *blobs, *uses;
	char		 t[64], t2[64];
	size_t		 i;
	int		 y = top, end = top + rows;

	if (a == NULL) {
		ui_put(y, 2, cols - 2, C_DIM, "%s", "loading...");
		return;
	}
	ui_put(y++, 0, cols, C_HEAD, "@%s", js(a, "handle"));
	ui_put(y++, 2, cols - 2, C_NORMAL, "DID        %s", js(a, "did"));
	if (json_object_get(a, "email") != NULL)
		ui_put(y++, 2, cols - 2, C_NORMAL, "email      %s (%s)",
		    js(a, "email"), json_object_get(a, "emailConfirmedAt") ?
		    "confirmed" : "not confirmed");
	else
		ui_put(y++, 2, cols - 2, C_DIM, "email      %s", "none");
	ui_time(t, sizeof(t), js(a, "indexedAt"));
	ui_put(y++, 2, cols - 2, C_NORMAL, "created    %s", t);
	ui_put(y, 2, 11, C_NORMAL, "%s", "status");
	if (strcmp(js(a, "status"), "takendown") == 0)
		ui_put(y++, 13, cols - 13, C_BAD, "taken down (ref %s)",
		    js(a, "takedownRef"));
	else if (json_object_get(a, "deactivatedAt") != NULL) {
		ui_time(t, sizeof(t), js(a, "deactivatedAt"));
		ui_put(y++, 13, cols - 13, C_WARN, "%s since %s",
		    js(a, "status"), t);
	} else
		ui_put(y++, 13, cols - 13, status_role(js(a, "status")), "%s",
		    js(a, "status"));
	repo = json_object_get(a, "repo");
	blobs = json_object_get(a, "blobs");
	if (json_is_object(repo)) {
		ui_bytes(t, sizeof(t), ji(repo, "bytes"));
		ui_put(y++, 2, cols - 2, C_NORMAL, "repo       %s, %lld "
		    "records", t, (long long)ji(repo, "records"));
	} else
		ui_put(y++, 2, cols - 2, C_DIM, "repo       %s",
		    "n/a (not reported by this daemon)");
	if (json_is_object(blobs)) {
		ui_bytes(t, sizeof(t), ji(blobs, "bytes"));
		ui_put(y++, 2, cols - 2, C_NORMAL, "blobs      %lld, %s",
		    (long long)ji(blobs, "count"), t);
	} else
		ui_put(y++, 2, cols - 2, C_DIM, "blobs      %s",
		    "n/a (not reported by this daemon)");
	inv = json_object_get(a, "invites");
	ui_put(y++, 2, cols - 2, jb(a, "invitesDisabled") ? C_WARN : C_NORMAL,
	    "invites    %s, %zu code%s", jb(a, "invitesDisabled") ?
	    "disabled" : "enabled", json_array_size(inv),
	    json_array_size(inv) == 1 ? "" : "s");
	if ((e = json_object_get(a, "invitedBy")) != NULL)
		ui_put(y++, 2, cols - 2, C_NORMAL, "invited by %s (from %s)",
		    js(e, "code"), js(e, "forAccount"));
	if (A.sessions != NULL && strcmp(js(A.sessions, "did"),
	    js(a, "did")) == 0)
		ui_put(y++, 2, cols - 2, C_NORMAL, "signed in  %zu password "
		    "session%s, %zu app password%s, %zu OAuth grant%s "
		    "(S: see and end them)",
		    json_array_size(json_object_get(A.sessions, "sessions")),
		    json_array_size(json_object_get(A.sessions, "sessions")) ==
		    1 ? "" : "s", json_array_size(json_object_get(A.sessions,
		    "appPasswords")), json_array_size(json_object_get(
		    A.sessions, "appPasswords")) == 1 ? "" : "s",
		    json_array_size(json_object_get(A.sessions,
		    "oauthGrants")), json_array_size(json_object_get(
		    A.sessions, "oauthGrants")) == 1 ? "" : "s");
	y++;
	if (y >= end || json_array_size(inv) == 0)
		return;
	ui_put(y++, 0, cols, C_HEAD, "  %-36s %-9s %-5s %-9s %s", "CODE",
	    "AVAILABLE", "USED", "STATE", "CREATED");
	for (i = (size_t)A.dscroll; i < json_array_size(inv) && y < end; i++) {
		e = json_array_get(inv, i);
		uses = json_object_get(e, "uses");
		ui_time(t2, sizeof(t2), js(e, "createdAt"));
		ui_put(y++, 2, cols - 2, jb(e, "disabled") ? C_DIM : C_NORMAL,
		    "%-36s %-9lld %-5zu %-9s %s", js(e, "code"),
		    (long long)ji(e, "available"), json_array_size(uses),
		    jb(e, "disabled") ? "disabled" : "enabled", t2);
	}
}

/* One row of the sessions list: kind, id, created, expires, detail. */
static void
sess_line(int y, int cols, bool sel, size_t section, const json_t *e)
{
	const char	*kind = sections[section].word;
	const char	*id = js(e, section == 1 ? "name" : "id");
	char		 c[64], x[64], u[64], d[TUI_TEXT_MAX], idb[32];

	switch (section) {
	case 0:
		ui_time(c, sizeof(c), js(e, "issuedAt"));
		ui_time(x, sizeof(x), js(e, "expiresAt"));
		if (json_object_get(e, "appPassword") != NULL)
			snprintf(d, sizeof(d), "with app password %s",
			    js(e, "appPassword"));
		else
			snprintf(d, sizeof(d), "with the password");
		break;
	case 1:
		ui_time(c, sizeof(c), js(e, "createdAt"));
		snprintf(x, sizeof(x), "never");
		snprintf(d, sizeof(d), "%s", jb(e, "privileged") ?
		    "privileged" : "");
		break;
	default:
		ui_time(c, sizeof(c), js(e, "createdAt"));
		ui_time(x, sizeof(x), js(e, "expiresAt"));
		ui_time(u, sizeof(u), js(e, "updatedAt"));
		snprintf(d, sizeof(d), "%s  %s  (refreshed %s)",
		    js(e, "clientId"), js(e, "scope"), u);
		break;
	}
	/* a session's id is long: its start tells them apart */
	if (strlen(id) > ID_COLS)
		snprintf(idb, sizeof(idb), "%.*s..", ID_COLS - 2, id);
	else
		snprintf(idb, sizeof(idb), "%s", id);
	ui_put(y, 0, cols, sel ? C_SEL : C_NORMAL, "  %-13s %-*s %-19s %-19s "
	    "%s", kind, ID_COLS, idb, c, x, d);
}

static void
draw_sessions(int top, int rows, int cols)
{
	const json_t	*e;
	size_t		 section;
	int		 i, n, y = top;

	if (A.sessions == NULL || strcmp(js(A.sessions, "did"),
	    A.shown_did) != 0) {
		ui_put(y, 2, cols - 2, C_DIM, "%s", "loading...");
		return;
	}
	n = sess_count();
	ui_put(y++, 0, cols, C_HEAD, "@%s: how it is signed in",
	    js(A.sessions, "handle"));
	ui_put(y++, 2, cols - 2, C_NORMAL, "%zu password session%s, %zu app "
	    "password%s, %zu OAuth grant%s  (x: end the selected one, "
	    "X: all; Esc: back)",
	    json_array_size(json_object_get(A.sessions, "sessions")),
	    json_array_size(json_object_get(A.sessions, "sessions")) == 1 ?
	    "" : "s", json_array_size(json_object_get(A.sessions,
	    "appPasswords")), json_array_size(json_object_get(A.sessions,
	    "appPasswords")) == 1 ? "" : "s",
	    json_array_size(json_object_get(A.sessions, "oauthGrants")),
	    json_array_size(json_object_get(A.sessions, "oauthGrants")) == 1 ?
	    "" : "s");
	y++;
	ui_put(y++, 0, cols, C_HEAD, "  %-13s %-*s %-19s %-19s %s", "KIND",
	    ID_COLS, "ID OR NAME", "CREATED", "EXPIRES", "DETAIL");
	rows -= y - top;
	ui_list_fix(&A.scur, n, rows);
	if (n == 0) {
		ui_put(y, 2, cols - 2, C_DIM, "%s", "not signed in anywhere");
		return;
	}
	for (i = 0; i < rows && A.scur.top + i < n; i++)
		if ((e = sess_row(A.scur.top + i, &section)) != NULL)
			sess_line(y + i, cols, A.scur.top + i == A.scur.sel,
			    section, e);
}

static void
accounts_draw(int top, int rows, int cols)
{
	if (A.detail && A.sess)
		draw_sessions(top, rows, cols);
	else if (A.detail)
		draw_detail(top, rows, cols);
	else
		draw_list(top, rows, cols);
}

/* ---- actions ---- */

static void
on_action(void *arg, const struct adminproto_msg *m)
{
	char	 t[TUI_TEXT_MAX];

	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		ui_msg_reply(act.cmd, m);
		return;
	}
	if (strcmp(act.cmd, "account.reset-password") == 0 &&
	    json_object_get(m->result, "password") != NULL) {
		snprintf(t, sizeof(t), "@%s\nnew password: %s\n\nGive it to "
		    "the user over a safe channel;\nit is not shown again.",
		    act.handle, js(m->result, "password"));
		ui_popup("Password reset", t);
	}
	if (act.kind != NULL || act.all) {
		const json_t *r = json_object_get(m->result, "revoked");

		ui_msg(false, "ended for @%s: %lld session%s, %lld app "
		    "password%s, %lld OAuth grant%s", act.handle,
		    (long long)ji(r, "sessions"), ji(r, "sessions") == 1 ?
		    "" : "s", (long long)ji(r, "appPasswords"),
		    ji(r, "appPasswords") == 1 ? "" : "s",
		    (long long)ji(r, "oauthGrants"), ji(r, "oauthGrants") ==
		    1 ? "" : "s");
	} else
		ui_msg(false, "%s: done for @%s", act.verb, act.handle);
	load();
	if (A.detail)
		load_detail();
}

static void
confirmed(bool yes, void *arg)
{
	json_t	*args;

	if (!yes) {
		ui_msg(false, "%s: cancelled", act.verb);
		return;
	}
	args = json_pack("{s:s}", "account", act.did);
	if (act.reason[0])
		json_object_set_new(args, "reason", json_string(act.reason));
	if (act.kind != NULL) {
		json_object_set_new(args, "kind", json_string(act.kind));
		json_object_set_new(args, "id", json_string(act.id));
	} else if (act.all)
		json_object_set_new(args, "all", json_true());
	if (tconn_request(tui.conn, act.cmd, args, on_action, NULL) == -1)
		ui_msg(true, "%s: not connected to pdsd", act.verb);
}

static void
ask_confirm(void)
{
	char	 q[TUI_TEXT_MAX + 300];

	snprintf(q, sizeof(q), "%c%s @%s?%s%s", toupper((unsigned char)act.verb[0]),
	    act.verb + 1, act.handle, act.reason[0] ? " Reason: " : "",
	    act.reason);
	ui_confirm(q, confirmed, NULL);
}

static void
got_reason(const char *text, void *arg)
{
	bool	 required = arg != NULL;

	if (text == NULL) {
		ui_msg(false, "%s: cancelled", act.verb);
		return;
	}
	if (required && text[strspn(text, " ")] == '\0') {
		ui_msg(true, "%s: a reason is required", act.verb);
		return;
	}
	snprintf(act.reason, sizeof(act.reason), "%s", text);
	ask_confirm();
}

/* Start an action on the selected account. */
static enum tui_act
start(const char *cmd, const char *verb, int reason)
{
	const json_t	*a = selected();
	char		 title[300];

	if (a == NULL) {
		ui_msg(true, "no account selected");
		return TUI_REDRAW;
	}
	act.cmd = cmd;
	act.verb = verb;
	act.reason[0] = '\0';
	act.kind = NULL;
	act.all = false;
	snprintf(act.did, sizeof(act.did), "%s", js(a, "did"));
	snprintf(act.handle, sizeof(act.handle), "%s", js(a, "handle"));
	if (reason == 0) {
		ask_confirm();
		return TUI_REDRAW;
	}
	snprintf(title, sizeof(title), "Reason to %s @%s%s:", verb,
	    act.handle, reason == 2 ? "" : " (optional)");
	ui_prompt(title, "", got_reason, reason == 2 ? (void *)&act : NULL);
	return TUI_REDRAW;
}

static enum tui_act
k_takedown(void)
{
	return start("account.takedown", "take down", 2);
}

static enum tui_act
k_untakedown(void)
{
	return start("account.untakedown", "restore (untakedown)", 1);
}

static enum tui_act
k_deactivate(void)
{
	return start("account.deactivate", "deactivate", 0);
}

static enum tui_act
k_activate(void)
{
	return start("account.activate", "activate", 0);
}

static enum tui_act
k_password(void)
{
	return start("account.reset-password", "reset the password of", 0);
}

static enum tui_act
k_noinvites(void)
{
	return start("account.disable-invites", "disable invites for", 0);
}

static enum tui_act
k_invites(void)
{
	return start("account.enable-invites", "enable invites for", 0);
}

/* The sessions list of the selected account (from the list too). */
static enum tui_act
k_sessions(void)
{
	const json_t	*a = selected();

	if (a == NULL) {
		ui_msg(true, "no account selected");
		return TUI_REDRAW;
	}
	if (!tui_has_cmd("account.sessions")) {
		ui_msg(true, "this pdsd cannot list sessions");
		return TUI_REDRAW;
	}
	if (!A.detail || strcmp(A.shown_did, js(a, "did")) != 0) {
		snprintf(A.shown_did, sizeof(A.shown_did), "%s", js(a, "did"));
		json_decref(A.shown);
		A.shown = NULL;
		A.detail = true;
		A.dscroll = 0;
	}
	json_decref(A.sessions);
	A.sessions = NULL;
	A.sess = true;
	A.scur.sel = 0;
	A.scur.top = 0;
	load_detail();
	return TUI_REDRAW;
}

/* End the selected session, app password or grant, or all of them. */
static enum tui_act
revoke(bool all)
{
	const json_t	*e = NULL;
	size_t		 section = 0;
	enum tui_act	 r;

	if (!A.detail || !A.sess || A.sessions == NULL) {
		ui_msg(true, "S first: the account's sessions");
		return TUI_REDRAW;
	}
	if (!all && (e = sess_row(A.scur.sel, &section)) == NULL) {
		ui_msg(true, "nothing selected");
		return TUI_REDRAW;
	}
	/* short enough for the dialogs: a session by its id's start */
	if (all)
		snprintf(act.verb_buf, sizeof(act.verb_buf), "end every "
		    "session and grant of");
	else if (section == 0)
		snprintf(act.verb_buf, sizeof(act.verb_buf), "end session "
		    "%.6s.. of", js(e, "id"));
	else
		snprintf(act.verb_buf, sizeof(act.verb_buf), "end %s %s of",
		    sections[section].word, js(e, section == 1 ? "name" :
		    "id"));
	r = start("account.revoke-session", act.verb_buf, 2);
	if (all)
		act.all = true;
	else {
		act.kind = sections[section].kind;
		snprintf(act.id, sizeof(act.id), "%s", js(e, section == 1 ?
		    "name" : "id"));
	}
	return r;
}

static enum tui_act
k_revoke(void)
{
	return revoke(false);
}

static enum tui_act
k_revoke_all(void)
{
	return revoke(true);
}

static void
got_search(const char *text, void *arg)
{
	if (text == NULL)
		return;
	snprintf(A.search, sizeof(A.search), "%s", text);
	A.cur.sel = 0;
	A.cur.top = 0;
	A.detail = false;
	load();
}

static enum tui_act
k_search(void)
{
	ui_prompt("Search accounts (handle or email prefix, or a DID; "
	    "empty: all):", A.search, got_search, NULL);
	return TUI_REDRAW;
}

static enum tui_act
k_sort(void)
{
	A.sort = (A.sort + 1) % SORT_N;
	resort();
	return TUI_REDRAW;
}

static enum tui_act
k_filter(void)
{
	A.filter = (A.filter + 1) % (sizeof(filters) / sizeof(filters[0]));
	A.detail = false;
	load();
	return TUI_REDRAW;
}

static enum tui_act
k_open(void)
{
	const json_t	*a;

	if (A.detail || (a = selected()) == NULL)
		return TUI_HANDLED;
	snprintf(A.shown_did, sizeof(A.shown_did), "%s", js(a, "did"));
	json_decref(A.shown);
	A.shown = NULL;
	A.detail = true;
	A.sess = false;
	A.dscroll = 0;
	load_detail();
	return TUI_REDRAW;
}

static enum tui_act
accounts_key(int key)
{
	if (A.detail && A.sess) {
		switch (key) {
		case 27:
		case 'h':
		case TUI_FN | KEY_LEFT:
		case TUI_FN | KEY_BACKSPACE:
		case 127:
			A.sess = false;
			return TUI_REDRAW;
		}
		return ui_list_key(&A.scur, key);
	}
	if (A.detail) {
		switch (key) {
		case 27:
		case 'h':
		case TUI_FN | KEY_LEFT:
		case TUI_FN | KEY_BACKSPACE:
		case 127:
			A.detail = false;
			return TUI_REDRAW;
		case TUI_FN | KEY_DOWN:
		case 'j':
			A.dscroll++;
			return TUI_REDRAW;
		case TUI_FN | KEY_UP:
		case 'k':
			if (A.dscroll > 0)
				A.dscroll--;
			return TUI_REDRAW;
		}
		return TUI_UNHANDLED;
	}
	if (key == '\r' || key == '\n' || key == (TUI_FN | KEY_ENTER) ||
	    key == (TUI_FN | KEY_RIGHT))
		return k_open();
	return ui_list_key(&A.cur, key);
}

static const struct tui_keydef accounts_keys[] = {
	{ '/', "/", "search", "search", false, k_search },
	{ 's', "s", "sort", "sort (handle, newest, status)", false, k_sort },
	{ 'f', "f", "filter", "filter by status", false, k_filter },
	{ '\r', "Enter", "open", "details (Esc: back to the list)", false, k_open },
	{ 'S', "S", "sessions", "password sessions, app passwords and OAuth "
	    "grants (Esc: back)", false, k_sessions },
	{ 't', "t", "takedown", "take down, with a reason", true, k_takedown },
	{ 'u', "u", "restore", "untakedown (restore)", true, k_untakedown },
	{ 'd', "d", "deactivate", "deactivate", true, k_deactivate },
	{ 'a', "a", "activate", "activate", true, k_activate },
	{ 'p', "p", "password", "reset password (a new one is generated)", true,
	    k_password },
	{ 'i', "i", "no-invites", "disable invites", true, k_noinvites },
	{ 'I', "I", "invites", "enable invites", true, k_invites },
	{ 'x', "x", "end", "in sessions: end the selected one, with a reason",
	    true, k_revoke },
	{ 'X', "X", NULL, "in sessions: end them all, with a reason", true,
	    k_revoke_all },
};

const struct tui_screen scr_accounts = {
	"Accounts", accounts_keys, sizeof(accounts_keys) /
	    sizeof(accounts_keys[0]), accounts_enter, NULL, NULL,
	accounts_draw, accounts_key,
};
