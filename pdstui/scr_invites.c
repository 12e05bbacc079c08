/*
 * Invites: the invite codes (invite.list) with their uses; create a
 * batch (count, uses) and disable one, each confirmed first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tui.h"

#define LIST_LIMIT	1000

static struct {
	json_t		*codes;
	bool		 loading;
	bool		 all;		/* include disabled codes */
	bool		 by_usage;
	struct ui_list	 cur;
	/* invite.create being prompted */
	long		 count;
	long		 uses;
	char		 code[128];	/* invite.disable target */
} I;

static void
on_list(void *arg, const struct adminproto_msg *m)
{
	I.loading = false;
	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		ui_msg_reply("invite list", m);
		return;
	}
	json_decref(I.codes);
	I.codes = json_incref(json_object_get(m->result, "codes"));
}

static void
load(void)
{
	if (tconn_request(tui.conn, "invite.list", json_pack("{s:i,s:b,s:s}",
	    "limit", LIST_LIMIT, "all", I.all, "sort", I.by_usage ? "usage" :
	    "recent"), on_list, NULL) != -1)
		I.loading = true;
}

static void
invites_draw(int top, int rows, int cols)
{
	const json_t	*c;
	char		 t[64];
	size_t		 n = json_array_size(I.codes);
	int		 i, y;

	ui_put(top, 0, cols, C_NORMAL, "%zu code%s%s  showing: %s  sort: %s",
	    n, n == 1 ? "" : "s", I.loading ? " (loading)" : "", I.all ?
	    "all" : "enabled only", I.by_usage ? "usage" : "recent");
	ui_put(top + 1, 0, cols, C_HEAD, "%-34s %5s %4s %-8s %-34s %s",
	    "CODE", "AVAIL", "USED", "STATE", "FOR", "CREATED");
	top += 2;
	rows -= 2;
	ui_list_fix(&I.cur, (int)n, rows);
	if (n == 0)
		ui_put(top, 2, cols - 2, C_DIM, "%s", "no invite codes");
	for (i = 0; i < rows && I.cur.top + i < (int)n; i++) {
		c = json_array_get(I.codes, (size_t)(I.cur.top + i));
		y = top + i;
		ui_time(t, sizeof(t), js(c, "createdAt"));
		ui_put(y, 0, cols, I.cur.top + i == I.cur.sel ? C_SEL :
		    jb(c, "disabled") ? C_DIM : C_NORMAL,
		    "%-34s %5lld %4zu %-8s %-34s %s", js(c, "code"),
		    (long long)ji(c, "available"),
		    json_array_size(json_object_get(c, "uses")),
		    jb(c, "disabled") ? "disabled" : "enabled",
		    js(c, "forAccount"), t);
	}
}

static void
on_created(void *arg, const struct adminproto_msg *m)
{
	const json_t	*codes, *c;
	char		 t[4096];
	size_t		 i, off = 0;

	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		ui_msg_reply("invite create", m);
		return;
	}
	codes = json_object_get(m->result, "codes");
	t[0] = '\0';
	json_array_foreach(codes, i, c) {
		if (off + 80 >= sizeof(t)) {
			snprintf(t + off, sizeof(t) - off, "...");
			break;
		}
		off += (size_t)snprintf(t + off, sizeof(t) - off, "%s\n",
		    json_is_string(c) ? json_string_value(c) : js(c, "code"));
	}
	ui_popup("New invite codes", t);
	ui_msg(false, "created %zu invite code%s", json_array_size(codes),
	    json_array_size(codes) == 1 ? "" : "s");
	load();
}

static void
create_confirmed(bool yes, void *arg)
{
	if (!yes) {
		ui_msg(false, "invite create: cancelled");
		return;
	}
	if (tconn_request(tui.conn, "invite.create", json_pack("{s:i,s:i}",
	    "count", (int)I.count, "uses", (int)I.uses), on_created, NULL) ==
	    -1)
		ui_msg(true, "invite create: not connected to pdsd");
}

static bool
number(const char *text, long max, long *out)
{
	char	*end;
	long	 v;

	if (text == NULL)
		return false;
	if (*text == '\0') {
		*out = 1;
		return true;
	}
	v = strtol(text, &end, 10);
	if (*end != '\0' || v < 1 || v > max) {
		ui_msg(true, "not a number from 1 to %ld: %s", max, text);
		return false;
	}
	*out = v;
	return true;
}

static void
got_uses(const char *text, void *arg)
{
	char	 q[128];

	if (!number(text, 100000, &I.uses))
		return;
	snprintf(q, sizeof(q), "Create %ld invite code%s of %ld use%s each?",
	    I.count, I.count == 1 ? "" : "s", I.uses, I.uses == 1 ? "" : "s");
	ui_confirm(q, create_confirmed, NULL);
}

static void
got_count(const char *text, void *arg)
{
	if (!number(text, 1000, &I.count))
		return;
	ui_prompt("Uses per code (empty: 1):", "", got_uses, NULL);
}

static enum tui_act
k_create(void)
{
	ui_prompt("How many codes (empty: 1):", "", got_count, NULL);
	return TUI_REDRAW;
}

static void
on_disabled(void *arg, const struct adminproto_msg *m)
{
	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		ui_msg_reply("invite disable", m);
		return;
	}
	ui_msg(false, "disabled %s", I.code);
	load();
}

static void
disable_confirmed(bool yes, void *arg)
{
	if (!yes) {
		ui_msg(false, "invite disable: cancelled");
		return;
	}
	if (tconn_request(tui.conn, "invite.disable", json_pack("{s:[s]}",
	    "codes", I.code), on_disabled, NULL) == -1)
		ui_msg(true, "invite disable: not connected to pdsd");
}

static enum tui_act
k_disable(void)
{
	const json_t	*c = json_array_get(I.codes, (size_t)I.cur.sel);
	char		 q[200];

	if (c == NULL || I.cur.sel < 0) {
		ui_msg(true, "no code selected");
		return TUI_REDRAW;
	}
	snprintf(I.code, sizeof(I.code), "%s", js(c, "code"));
	snprintf(q, sizeof(q), "Disable the invite code %s?", I.code);
	ui_confirm(q, disable_confirmed, NULL);
	return TUI_REDRAW;
}

static enum tui_act
k_uses(void)
{
	const json_t	*c = json_array_get(I.codes, (size_t)I.cur.sel), *u;
	char		 t[4096], when[64];
	size_t		 i, off;

	if (c == NULL || I.cur.sel < 0)
		return TUI_HANDLED;
	off = (size_t)snprintf(t, sizeof(t), "for %s, created by %s\n"
	    "%lld available, %s\n", js(c, "forAccount"), js(c, "createdBy"),
	    (long long)ji(c, "available"), jb(c, "disabled") ? "disabled" :
	    "enabled");
	json_array_foreach(json_object_get(c, "uses"), i, u) {
		if (off + 120 >= sizeof(t)) {
			snprintf(t + off, sizeof(t) - off, "...");
			break;
		}
		ui_time(when, sizeof(when), js(u, "usedAt"));
		off += (size_t)snprintf(t + off, sizeof(t) - off,
		    "used %s by %s\n", when, js(u, "usedBy"));
	}
	if (json_array_size(json_object_get(c, "uses")) == 0 &&
	    off < sizeof(t))
		snprintf(t + off, sizeof(t) - off, "not used yet");
	ui_popup(js(c, "code"), t);
	return TUI_REDRAW;
}

static enum tui_act
k_all(void)
{
	I.all = !I.all;
	load();
	return TUI_REDRAW;
}

static enum tui_act
k_sort(void)
{
	I.by_usage = !I.by_usage;
	load();
	return TUI_REDRAW;
}

static enum tui_act
invites_key(int key)
{
	return ui_list_key(&I.cur, key);
}

static const struct tui_keydef invites_keys[] = {
	{ '\r', "Enter", "uses", "who used the code, and when", false,
	    k_uses },
	{ 'c', "c", "create", "create codes (count, uses)", true, k_create },
	{ 'x', "x", "disable", "disable the selected code", true, k_disable },
	{ 'A', "A", "all", "show disabled codes too, or not", false, k_all },
	{ 's', "s", "sort", "sort by recent or usage", false, k_sort },
};

const struct tui_screen scr_invites = {
	"Invites", invites_keys, sizeof(invites_keys) /
	    sizeof(invites_keys[0]), load, NULL, NULL, invites_draw,
	invites_key,
};
