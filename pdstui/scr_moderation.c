/*
 * Moderation: the audit log, newest first, filterable, kept live (new
 * entries are fetched after the last id every few seconds while the
 * screen is shown); and record and blob takedowns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tui.h"

#define AUDIT_PAGE	1000
#define AUDIT_KEEP	5000	/* entries held; the oldest go first */
#define AUDIT_POLL_MS	2000

static struct {
	json_t		*all;		/* oldest first, as the daemon sends */
	int64_t		 after;		/* the last id fetched */
	bool		 loading;
	int64_t		 polled;
	char		 filter[TUI_TEXT_MAX];
	const json_t	**rows;		/* newest first, filtered */
	size_t		 nrows;
	struct ui_list	 cur;
} M;

/* A takedown being prompted: record (uri) or blob (did, cid). */
static struct {
	const char	*cmd;
	const char	*verb;
	bool		 blob;
	bool		 applied;
	char		 uri[1024];	/* record: at-uri; blob: did */
	char		 cid[256];
	char		 reason[TUI_TEXT_MAX];
} T;

static bool
matches(const json_t *e)
{
	static const char *const keys[] = { "action", "actor", "subject",
	    "subjectHandle", "reason", "outcome", "at" };
	size_t	 i;

	if (M.filter[0] == '\0')
		return true;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcasestr(js(e, keys[i]), M.filter) != NULL)
			return true;
	return false;
}

static void
refilter(void)
{
	size_t	 i, n = json_array_size(M.all);

	free(M.rows);
	M.rows = NULL;
	M.nrows = 0;
	if (n == 0 || (M.rows = calloc(n, sizeof(*M.rows))) == NULL)
		return;
	for (i = n; i-- > 0;)
		if (matches(json_array_get(M.all, i)))
			M.rows[M.nrows++] = json_array_get(M.all, i);
}

static void	fetch(void);

static void
on_audit(void *arg, const struct adminproto_msg *m)
{
	const json_t	*entries;
	size_t		 n, keep_sel;

	M.loading = false;
	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		ui_msg_reply("audit", m);
		return;
	}
	entries = json_object_get(m->result, "entries");
	n = json_array_size(entries);
	if (M.all == NULL)
		M.all = json_array();
	json_array_extend(M.all, (json_t *)entries);
	while (json_array_size(M.all) > AUDIT_KEEP)
		json_array_remove(M.all, 0);
	if (json_is_integer(json_object_get(m->result, "cursor")))
		M.after = json_integer_value(json_object_get(m->result,
		    "cursor"));
	/* new rows arrive at the top: keep the selection on its entry */
	keep_sel = M.nrows;
	refilter();
	if (M.cur.sel > 0 && M.nrows > keep_sel)
		M.cur.sel += (int)(M.nrows - keep_sel);
	if (n == AUDIT_PAGE)
		fetch();	/* more behind this page */
}

static void
fetch(void)
{
	if (M.loading)
		return;
	if (tconn_request(tui.conn, "audit", json_pack("{s:I,s:i}", "after",
	    (json_int_t)M.after, "limit", AUDIT_PAGE), on_audit, NULL) != -1)
		M.loading = true;
	M.polled = tui_now_ms();
}

static void
mod_connected(void)
{
	/* a restarted daemon: start over (ids are stable, but be safe) */
	json_decref(M.all);
	M.all = NULL;
	M.after = 0;
	M.loading = false;
	refilter();
}

static void
mod_tick(void)
{
	if (tui_now_ms() - M.polled >= AUDIT_POLL_MS)
		fetch();
}

static enum tui_role
outcome_role(const char *o)
{
	if (*o == '\0' || strcmp(o, "ok") == 0)
		return C_NORMAL;
	if (strcmp(o, "refused") == 0)
		return C_BAD;
	return C_WARN;
}

/*
 * The list's columns: each is its width plus the one space that
 * separates it from the next, so a clipped value's ellipsis never
 * touches its neighbour.  The HANDLE column (the subject's account)
 * comes when the screen is wide enough; otherwise SUBJECT shows the
 * handle in place of the DID (Enter shows both).
 */
#define COL_TIME	19
#define COL_ACTOR	16
#define COL_OUTCOME	7
#define COL_ACTION	23
#define COL_SUBJECT	32
#define COL_HANDLE	24
#define HANDLE_MIN_COLS	140

/*
 * The subject as the narrow list shows it, the account by its handle:
 * "@handle" for a DID, "at://handle/..." for a record; else as stored.
 */
static const char *
subject_cell(const json_t *e, char *buf, size_t cap, bool wide)
{
	const char	*s = js(e, "subject"), *h = js(e, "subjectHandle");
	const char	*rest;

	if (wide || *h == '\0')
		return s;
	if (strncmp(s, "at://", 5) == 0) {
		if ((rest = strchr(s + 5, '/')) == NULL)
			rest = "";
		snprintf(buf, cap, "at://%s%s", h, rest);
	} else
		snprintf(buf, cap, "@%s", h);
	return buf;
}

static void
mod_draw(int top, int rows, int cols)
{
	const json_t	*e;
	char		 t[64], sb[1400];
	const char	*handle;
	bool		 wide = cols >= HANDLE_MIN_COLS, sel;
	int		 i, y, x, rw;

	ui_put(top, 0, cols, C_NORMAL, "%zu of %zu entr%s, newest first%s  "
	    "filter: %s", M.nrows, json_array_size(M.all),
	    json_array_size(M.all) == 1 ? "y" : "ies", M.loading ?
	    " (loading)" : "", M.filter[0] ? M.filter : "-");
	ui_put(top + 1, 0, cols, C_HEAD, "%-*s %-*s %-*s %-*s %-*s %-*s%s",
	    COL_TIME, "TIME", COL_ACTOR, "ACTOR", COL_OUTCOME, "OUTCOME",
	    COL_ACTION, "ACTION", COL_SUBJECT, "SUBJECT", wide ? COL_HANDLE :
	    0, wide ? "HANDLE" : "", wide ? " REASON" : "REASON");
	top += 2;
	rows -= 2;
	ui_list_fix(&M.cur, (int)M.nrows, rows);
	if (M.nrows == 0)
		ui_put(top, 2, cols - 2, C_DIM, "%s", M.loading ?
		    "loading..." : "no audit entries match");
	for (i = 0; i < rows && M.cur.top + i < (int)M.nrows; i++) {
		e = M.rows[M.cur.top + i];
		y = top + i;
		sel = M.cur.top + i == M.cur.sel;
		ui_time(t, sizeof(t), js(e, "at"));
		if (sel)	/* the bar across the whole row */
			ui_put(y, 0, cols, C_SEL, "%s", "");
		x = 0;
		ui_put(y, x, COL_TIME, sel ? C_SEL : C_NORMAL, "%s", t);
		x += COL_TIME + 1;
		ui_put(y, x, COL_ACTOR, sel ? C_SEL : C_NORMAL, "%s",
		    js(e, "actor"));
		x += COL_ACTOR + 1;
		ui_put(y, x, COL_OUTCOME, sel ? C_SEL :
		    outcome_role(js(e, "outcome")), "%s", *js(e, "outcome") ?
		    js(e, "outcome") : "ok");
		x += COL_OUTCOME + 1;
		ui_put(y, x, COL_ACTION, sel ? C_SEL : strstr(js(e, "action"),
		    "takedown") ? C_WARN : C_NORMAL, "%s", js(e, "action"));
		x += COL_ACTION + 1;
		ui_put(y, x, COL_SUBJECT, sel ? C_SEL : C_NORMAL, "%s",
		    subject_cell(e, sb, sizeof(sb), wide));
		x += COL_SUBJECT + 1;
		if (wide) {
			handle = js(e, "subjectHandle");
			ui_put(y, x, COL_HANDLE, sel ? C_SEL : C_NORMAL, "%s%s",
			    *handle ? "@" : "", handle);
			x += COL_HANDLE + 1;
		}
		if ((rw = cols - x) > 0)
			ui_put(y, x, rw, sel ? C_SEL : C_NORMAL, "%s",
			    js(e, "reason"));
	}
}

static enum tui_act
k_show(void)
{
	const json_t	*e;
	char		*d, t[4096];

	if (M.cur.sel < 0 || (size_t)M.cur.sel >= M.nrows)
		return TUI_HANDLED;
	e = M.rows[M.cur.sel];
	d = json_dumps(json_object_get(e, "detail"), JSON_COMPACT);
	snprintf(t, sizeof(t), "id       %lld\ntime     %s\nactor    %s\n"
	    "action   %s\nsubject  %s%s%s%s\noutcome  %s\nreason   %s\n"
	    "detail   %s", (long long)ji(e, "id"), js(e, "at"), js(e, "actor"),
	    js(e, "action"), js(e, "subject"), *js(e, "subjectHandle") ?
	    " (@" : "", js(e, "subjectHandle"), *js(e, "subjectHandle") ?
	    ")" : "", *js(e, "outcome") ?
	    js(e, "outcome") : "ok", js(e, "reason"), d ? d : "-");
	free(d);
	ui_popup("Audit entry", t);
	return TUI_REDRAW;
}

static void
got_filter(const char *text, void *arg)
{
	if (text == NULL)
		return;
	snprintf(M.filter, sizeof(M.filter), "%s", text);
	M.cur.sel = 0;
	M.cur.top = 0;
	refilter();
}

static enum tui_act
k_filter(void)
{
	ui_prompt("Filter the audit log (text in action, actor, subject, "
	    "reason; empty: all):", M.filter, got_filter, NULL);
	return TUI_REDRAW;
}

/* ---- record and blob takedowns: subject, reason, confirm ---- */

static void
on_done(void *arg, const struct adminproto_msg *m)
{
	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		ui_msg_reply(T.cmd, m);
		return;
	}
	ui_msg(false, "%s: done", T.verb);
	fetch();
}

static void
td_confirmed(bool yes, void *arg)
{
	json_t	*args;

	if (!yes) {
		ui_msg(false, "%s: cancelled", T.verb);
		return;
	}
	if (T.blob)
		args = json_pack("{s:s,s:s}", "did", T.uri, "cid", T.cid);
	else
		args = json_pack("{s:s}", "uri", T.uri);
	if (T.reason[0])
		json_object_set_new(args, "reason", json_string(T.reason));
	if (tconn_request(tui.conn, T.cmd, args, on_done, NULL) == -1)
		ui_msg(true, "%s: not connected to pdsd", T.verb);
}

static void
got_reason(const char *text, void *arg)
{
	char	 q[TUI_TEXT_MAX + 1400];

	if (text == NULL)
		return;
	if (T.applied && text[strspn(text, " ")] == '\0') {
		ui_msg(true, "%s: a reason is required", T.verb);
		return;
	}
	snprintf(T.reason, sizeof(T.reason), "%s", text);
	snprintf(q, sizeof(q), "%s %s%s%s?%s%s", T.verb, T.uri, T.blob ?
	    " blob " : "", T.blob ? T.cid : "", T.reason[0] ? " Reason: " :
	    "", T.reason);
	ui_confirm(q, td_confirmed, NULL);
}

static void
ask_reason(void)
{
	ui_prompt(T.applied ? "Reason (required):" : "Reason (optional):",
	    "", got_reason, NULL);
}

static void
got_cid(const char *text, void *arg)
{
	if (text == NULL || *text == '\0')
		return;
	snprintf(T.cid, sizeof(T.cid), "%s", text);
	ask_reason();
}

static void
got_subject(const char *text, void *arg)
{
	if (text == NULL || *text == '\0')
		return;
	snprintf(T.uri, sizeof(T.uri), "%s", text);
	if (T.blob)
		ui_prompt("The blob's CID:", "", got_cid, NULL);
	else
		ask_reason();
}

static enum tui_act
start(const char *cmd, const char *verb, bool blob, bool applied)
{
	T.cmd = cmd;
	T.verb = verb;
	T.blob = blob;
	T.applied = applied;
	T.reason[0] = '\0';
	ui_prompt(blob ? "The blob's account (DID):" :
	    "The record (at://did/collection/rkey):", "", got_subject, NULL);
	return TUI_REDRAW;
}

static enum tui_act
k_rec(void)
{
	return start("record.takedown", "Take down record", false, true);
}

static enum tui_act
k_unrec(void)
{
	return start("record.untakedown", "Restore record", false, false);
}

static enum tui_act
k_blob(void)
{
	return start("blob.takedown", "Take down from", true, true);
}

static enum tui_act
k_unblob(void)
{
	return start("blob.untakedown", "Restore in", true, false);
}

static enum tui_act
mod_key(int key)
{
	return ui_list_key(&M.cur, key);
}

static const struct tui_keydef mod_keys[] = {
	{ '/', "/", "filter", "filter", false, k_filter },
	{ '\r', "Enter", "entry", "the whole entry", false, k_show },
	{ 'T', "T", "record-takedown", "take down a record (at-uri, reason)", true, k_rec },
	{ 'R', "R", "record-restore", "restore a record", true, k_unrec },
	{ 'B', "B", "blob-takedown", "take down a blob (DID, CID, reason)", true, k_blob },
	{ 'b', "b", "blob-restore", "restore a blob", true, k_unblob },
};

const struct tui_screen scr_moderation = {
	"Moderation", mod_keys, sizeof(mod_keys) / sizeof(mod_keys[0]), fetch,
	mod_connected, mod_tick, mod_draw, mod_key,
};
