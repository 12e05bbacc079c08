/*
 * Migrations: accounts moving in (migration.status "inbound") with how
 * far their import has come, and accounts moving out or deactivated
 * ("outbound") with where their DID document points: records and repo
 * blocks held here, blobs present of those the repo references.
 * Refreshed every few seconds while shown (migration.status fetches
 * every DID document, so not faster).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "tui.h"

#define MIG_POLL_MS	5000

static struct {
	json_t		*rows;		/* inbound then outbound, with "dir" */
	size_t		 nin, nout;
	bool		 loading;
	bool		 unavailable;
	int64_t		 polled;
	struct ui_list	 cur;
} G;

static void
add_rows(json_t *rows, const json_t *arr, const char *dir)
{
	const json_t	*e;
	json_t		*c;
	size_t		 i;

	json_array_foreach(arr, i, e) {
		if ((c = json_copy((json_t *)e)) == NULL)
			continue;
		json_object_set_new(c, "dir", json_string(dir));
		json_array_append_new(rows, c);
	}
}

static void
on_status(void *arg, const struct adminproto_msg *m)
{
	const json_t	*in, *out;
	json_t		*rows;

	G.loading = false;
	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		if (strcmp(m->error, AP_E_UNKNOWN_COMMAND) == 0)
			G.unavailable = true;
		else
			ui_msg_reply("migration status", m);
		return;
	}
	G.unavailable = false;
	in = json_object_get(m->result, "inbound");
	out = json_object_get(m->result, "outbound");
	if ((rows = json_array()) == NULL)
		return;
	add_rows(rows, in, "in");
	add_rows(rows, out, "out");
	json_decref(G.rows);
	G.rows = rows;
	G.nin = json_array_size(in);
	G.nout = json_array_size(out);
}

static void
mig_enter(void)
{
	G.polled = tui_now_ms();
	if (!G.loading && tconn_request(tui.conn, "migration.status", NULL,
	    on_status, NULL) != -1)
		G.loading = true;
}

static void
mig_tick(void)
{
	if (tui_now_ms() - G.polled >= MIG_POLL_MS)
		mig_enter();
}

static void
mig_draw(int top, int rows, int cols)
{
	const json_t	*a;
	const char	*where;
	char		 t[64], p[32];
	size_t		 n = json_array_size(G.rows);
	int		 i, y, bw;

	if (G.unavailable) {
		ui_put(top, 2, cols - 2, C_DIM, "%s", "migrations: not "
		    "available from this daemon (no migration.status)");
		return;
	}
	ui_put(top, 0, cols, C_NORMAL, "%zu moving in, %zu moving out or "
	    "deactivated%s", G.nin, G.nout, G.loading ? " (loading)" : "");
	ui_put(top + 1, 0, cols, C_HEAD, "%-28s %-3s %-11s %-19s %8s %8s "
	    "%11s %s", "HANDLE", "DIR", "STATE", "SINCE", "RECORDS", "BLOCKS",
	    "BLOBS", "IMPORT / DID POINTS TO");
	top += 2;
	rows -= 2;
	ui_list_fix(&G.cur, (int)n, rows);
	if (n == 0)
		ui_put(top, 2, cols - 2, C_DIM, "%s", "no accounts in "
		    "migration (accounts moving in or out, and deactivated "
		    "ones, appear here)");
	bw = cols - 97;
	for (i = 0; i < rows && G.cur.top + i < (int)n; i++) {
		a = json_array_get(G.rows, (size_t)(G.cur.top + i));
		y = top + i;
		ui_time(t, sizeof(t), js(a, "startedAt"));
		snprintf(p, sizeof(p), "%lld/%lld", (long long)ji(a, "blobs"),
		    (long long)ji(a, "blobsExpected"));
		ui_put(y, 0, 97, G.cur.top + i == G.cur.sel ? C_SEL : C_NORMAL,
		    "%-28.28s %-3s %-11.11s %-19s %8lld %8lld %11s ",
		    js(a, "handle"), js(a, "dir"), js(a, "state"), t,
		    (long long)ji(a, "records"),
		    (long long)ji(a, "repoBlocks"), p);
		if (bw <= 4)
			continue;
		if (strcmp(js(a, "dir"), "in") == 0)
			ui_bar(y, 97, bw > 30 ? 30 : bw, ji(a, "blobs") +
			    (ji(a, "repoBlocks") > 0), ji(a, "blobsExpected") +
			    1);
		else {
			where = json_object_get(a, "didError") != NULL ?
			    js(a, "didError") : json_is_true(json_object_get(a,
			    "didPointsHere")) ? "here" : js(a, "didPds");
			ui_put(y, 97, bw, C_DIM, "%s", where);
		}
	}
	/* the selected account's DID under the list */
	if (G.cur.sel >= 0 && n > 0 && rows > 2 &&
	    (a = json_array_get(G.rows, (size_t)G.cur.sel)) != NULL)
		ui_put(top + rows - 1, 0, cols, C_DIM, "selected: %s  (%s)",
		    js(a, "did"), js(a, "handle"));
}

static enum tui_act
mig_key(int key)
{
	return ui_list_key(&G.cur, key);
}

static const struct tui_keydef mig_keys[] = {
	{ 0, NULL, NULL, NULL, false, NULL },
};

const struct tui_screen scr_migrations = {
	"Migrations", mig_keys, 0, mig_enter, NULL, mig_tick, mig_draw,
	mig_key,
};
