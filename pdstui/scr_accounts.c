/*
 * Accounts: a searchable, sortable list (account.list), one account's
 * details (account.show) and the actions on it.  Every action asks for
 * confirmation; takedown and untakedown first ask for a reason.  The
 * action keys stay on screen, greyed, when the user may only read.
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
static const char *const sort_name[] = { "handle", "newest", NULL, "status" };
static const char *const filters[] = { NULL, "active", NULL, "deactivated",
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
} A;

/* The action being prompted for / confirmed. */
static struct {
	const char	*cmd;		/* account.takedown, ... */
	const char	*verb;		/* "take down" */
	char		 did[256];
	char		 handle[256];
	char		 reason[TUI_TEXT_MAX];
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
load_detail(void)
{
	if (A.shown_did[0] == '\0')
		return;
	tconn_request(tui.conn, "account.show", json_pack("{s:s}",
	    "account", A.shown_did), on_show, NULL);
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

static void
accounts_draw(int top, int rows, int cols)
{
	if (A.detail)
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
	A.dscroll = 0;
	load_detail();
	return TUI_REDRAW;
}

static enum tui_act
accounts_key(int key)
{
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
	{ 't', "t", "takedown", "take down, with a reason", true, k_takedown },
	{ 'u', "u", "restore", "untakedown (restore)", true, k_untakedown },
	{ 'd', "d", "deactivate", "deactivate", true, k_deactivate },
	{ 'a', "a", "activate", "activate", true, k_activate },
	{ 'p', "p", "password", "reset password (a new one is generated)", true,
	    k_password },
	{ 'i', "i", "no-invites", "disable invites", true, k_noinvites },
	{ 'I', "I", "invites", "enable invites", true, k_invites },
};

const struct tui_screen scr_accounts = {
	"Accounts", accounts_keys, sizeof(accounts_keys) /
	    sizeof(accounts_keys[0]), accounts_enter, NULL, NULL,
	accounts_draw, accounts_key,
};
