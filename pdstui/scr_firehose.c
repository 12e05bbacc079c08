/*
 * Firehose: the live subscribers (firehose.subscribers, every second
 * while shown) with their lag behind the head seq, and a live tail of
 * events when the daemon has a firehose.tail stream.  The daemon allows
 * one stream per connection and the main one carries stats.watch, so
 * the tail uses a second connection (tui.tail), opened on first view.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tui.h"

#define TAIL_KEEP	500

static struct {
	json_t		*subs;
	bool		 loading;
	bool		 unavailable;
	/* the tail */
	json_t		*events;	/* newest last */
	bool		 paused;
	bool		 tail_ok;	/* the stream is running */
	char		 tail_err[ADMINPROTO_ERRNAME_MAX + ADMINPROTO_MSG_MAX + 4];
} F;

static void
on_subs(void *arg, const struct adminproto_msg *m)
{
	F.loading = false;
	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		if (strcmp(m->error, AP_E_UNKNOWN_COMMAND) == 0)
			F.unavailable = true;
		return;
	}
	json_decref(F.subs);
	F.subs = json_incref(json_object_get(m->result, "subscribers"));
}

static void
on_tail(void *arg, const struct adminproto_msg *m)
{
	tui.dirty = true;
	switch (m->kind) {
	case AP_MSG_EVENT:
		F.tail_ok = true;
		if (F.paused)
			return;
		if (F.events == NULL)
			F.events = json_array();
		json_array_append(F.events, m->result);
		while (json_array_size(F.events) > TAIL_KEEP)
			json_array_remove(F.events, 0);
		return;
	case AP_MSG_OK:
		F.tail_ok = true;
		return;
	case AP_MSG_END:
		F.tail_ok = false;
		snprintf(F.tail_err, sizeof(F.tail_err), "the tail ended");
		return;
	case AP_MSG_ERROR:
		F.tail_ok = false;
		snprintf(F.tail_err, sizeof(F.tail_err), "%s: %s", m->error,
		    m->message);
		return;
	}
}

static void
tail_up(void)
{
	F.tail_err[0] = '\0';
	tconn_request(tui.tail, "firehose.tail", NULL, on_tail, NULL);
}

static void
fh_enter(void)
{
	if (!F.loading && tconn_request(tui.conn, "firehose.subscribers",
	    NULL, on_subs, NULL) != -1)
		F.loading = true;
	if (tui.tail == NULL && tui.info_known &&
	    tui_has_cmd("firehose.tail"))
		tui.tail = tconn_new(tui.socket_path, tail_up, NULL);
}

static const char *
ev_type(const json_t *e)
{
	const char	*t = js(e, "type");

	return *t ? t : js(e, "$type");
}

static void
fh_draw(int top, int rows, int cols)
{
	const json_t	*s, *e, *ops, *op;
	int64_t		 head = ji(json_object_get(tui.stats, "firehose"),
	    "lastSeq"), lag;
	size_t		 n = json_array_size(F.subs), i, k, off;
	int		 y = top, srows, end = top + rows;
	char		 t[64], b[32], ol[512];
	time_t		 c;
	struct tm	 tm;

	srows = rows / 3 > 3 ? rows / 3 : 3;
	if (F.unavailable) {
		ui_put(y++, 2, cols - 2, C_DIM, "%s", "subscribers: not "
		    "available from this daemon");
	} else {
		ui_put(y++, 0, cols, C_NORMAL, "%zu subscriber%s, seq head "
		    "%lld", n, n == 1 ? "" : "s", (long long)head);
		ui_put(y++, 0, cols, C_HEAD, "%-5s %-22s %10s %10s %8s %10s "
		    "%10s %10s %s", "ID", "REMOTE", "CURSOR", "SEQ", "LAG",
		    "EVENTS", "SENT", "QUEUED", "SINCE");
		if (n == 0)
			ui_put(y++, 2, cols - 2, C_DIM, "%s",
			    "nobody is subscribed to the firehose");
		for (i = 0; i < n && y < top + srows + 2; i++) {
			s = json_array_get(F.subs, i);
			lag = head - ji(s, "seq");
			c = (time_t)(ji(s, "connectedMs") / 1000);
			gmtime_r(&c, &tm);
			strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S", &tm);
			ui_bytes(b, sizeof(b), ji(s, "bytes"));
			ui_put(y++, 0, cols, lag > 1000 ? C_WARN : C_NORMAL,
			    "%-5lld %-22.22s %10lld %10lld %8lld %10lld "
			    "%10s %10lld %s", (long long)ji(s, "id"),
			    js(s, "remote"), (long long)ji(s, "cursor"),
			    (long long)ji(s, "seq"), (long long)lag,
			    (long long)ji(s, "events"), b,
			    (long long)ji(s, "queued"), t);
		}
	}
	y++;
	if (y >= end)
		return;
	ui_put(y++, 0, cols, C_HEAD, "Live tail%s", F.paused ?
	    " (paused: p resumes)" : "");
	if (!tui_has_cmd("firehose.tail")) {
		ui_put(y, 2, cols - 2, C_DIM, "%s", "live tail: not "
		    "available from this daemon (it has no firehose.tail "
		    "stream)");
		return;
	}
	if (F.tail_err[0])
		ui_put(y++, 2, cols - 2, C_WARN, "%s", F.tail_err);
	if (y >= end)
		return;
	ui_put(y++, 0, cols, C_HEAD, "%-10s %-10s %-34s %s", "SEQ", "TYPE",
	    "ACCOUNT", "OPS");
	if (json_array_size(F.events) == 0 && y < end)
		ui_put(y++, 2, cols - 2, C_DIM, "%s", F.tail_ok ||
		    tui.tail == NULL || tconn_up(tui.tail) ?
		    "waiting for events..." : "connecting the tail...");
	/* newest first */
	for (i = json_array_size(F.events); i-- > 0 && y < end;) {
		e = json_array_get(F.events, i);
		ops = json_object_get(e, "ops");
		ol[0] = '\0';
		off = 0;
		json_array_foreach(ops, k, op) {
			if (off + 8 >= sizeof(ol))
				break;
			off += (size_t)snprintf(ol + off, sizeof(ol) - off,
			    "%s%s %s", k ? ", " : "", js(op, "action"),
			    js(op, "path"));
			if (off >= sizeof(ol))
				off = sizeof(ol) - 1;
		}
		ui_put(y++, 0, cols, C_NORMAL, "%-10lld %-10s %-34s %s",
		    (long long)ji(e, "seq"), ev_type(e), *js(e, "did") ?
		    js(e, "did") : js(e, "repo"), ol);
	}
}

static enum tui_act
k_pause(void)
{
	F.paused = !F.paused;
	return TUI_REDRAW;
}

static enum tui_act
k_clear(void)
{
	json_decref(F.events);
	F.events = NULL;
	return TUI_REDRAW;
}

static const struct tui_keydef fh_keys[] = {
	{ 'p', "p", "pause", "pause or resume the tail", false, k_pause },
	{ 'c', "c", "clear", "clear the tail", false, k_clear },
};

const struct tui_screen scr_firehose = {
	"Firehose", fh_keys, sizeof(fh_keys) / sizeof(fh_keys[0]), fh_enter,
	NULL, fh_enter, fh_draw, NULL,
};
