/*
 * Migrations: inbound accounts still deactivated (migration.list) and
 * how far their import has come: repo blocks and records so far, blobs
 * imported of those the repo references.  Refreshed every few seconds
 * while shown.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "tui.h"

#define MIG_POLL_MS	3000

static struct {
	json_t		*accounts;
	bool		 loading;
	bool		 unavailable;
	int64_t		 polled;
	struct ui_list	 cur;
} G;

static void
on_list(void *arg, const struct adminproto_msg *m)
{
	G.loading = false;
	tui.dirty = true;
	if (m->kind != AP_MSG_OK) {
		if (strcmp(m->error, AP_E_UNKNOWN_COMMAND) == 0)
			G.unavailable = true;
		else
			ui_msg_reply("migration list", m);
		return;
	}
	G.unavailable = false;
	json_decref(G.accounts);
	G.accounts = json_incref(json_object_get(m->result, "accounts"));
}

static void
mig_enter(void)
{
	G.polled = tui_now_ms();
	if (!G.loading && tconn_request(tui.conn, "migration.list", NULL,
	    on_list, NULL) != -1)
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
	char		 t[64], p[32];
	size_t		 n = json_array_size(G.accounts);
	int		 i, y, bw;

	if (G.unavailable) {
		ui_put(top, 2, cols - 2, C_DIM, "%s", "migrations: not "
		    "available from this daemon (no migration.list)");
		return;
	}
	ui_put(top, 0, cols, C_NORMAL, "%zu inbound account%s still "
	    "deactivated%s", n, n == 1 ? "" : "s", G.loading ? " (loading)" :
	    "");
	ui_put(top + 1, 0, cols, C_HEAD, "%-28s %-19s %8s %8s %11s %s",
	    "HANDLE", "DEACTIVATED SINCE", "RECORDS", "BLOCKS", "BLOBS",
	    "IMPORT");
	top += 2;
	rows -= 2;
	ui_list_fix(&G.cur, (int)n, rows);
	if (n == 0)
		ui_put(top, 2, cols - 2, C_DIM, "%s", "no accounts in "
		    "migration (deactivated accounts waiting for their "
		    "import appear here)");
	bw = cols - 81;
	for (i = 0; i < rows && G.cur.top + i < (int)n; i++) {
		a = json_array_get(G.accounts, (size_t)(G.cur.top + i));
		y = top + i;
		ui_time(t, sizeof(t), js(a, "deactivatedAt"));
		snprintf(p, sizeof(p), "%lld/%lld",
		    (long long)ji(a, "blobsImported"),
		    (long long)ji(a, "blobsExpected"));
		ui_put(y, 0, 81, G.cur.top + i == G.cur.sel ? C_SEL : C_NORMAL,
		    "%-28.28s %-19s %8lld %8lld %11s ", js(a, "handle"), t,
		    (long long)ji(a, "records"),
		    (long long)ji(a, "repoBlocks"), p);
		if (bw > 4)
			ui_bar(y, 81, bw > 30 ? 30 : bw,
			    ji(a, "blobsImported") + (ji(a, "repoBlocks") > 0),
			    ji(a, "blobsExpected") + 1);
	}
	/* the selected account's DID under the list */
	if (G.cur.sel >= 0 && n > 0 && rows > 2 &&
	    (a = json_array_get(G.accounts, (size_t)G.cur.sel)) != NULL)
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
