/*
 * pdstui: a terminal dashboard for pdsd's moderators and operators.
 * See pdstui(1).
 *
 *	pdstui [-c ENVFILE] [--socket PATH] [--no-color] [--screen NAME]
 *	    [--interval MS] [--exit-after SECONDS] [--max-iterations N]
 *
 * The one loop: poll(2) on the keyboard and the admin socket together,
 * hand each key to the modal dialog, the help screen, the screen's key
 * table, the screen's own handler and last the global table; redraw
 * when anything says so.  SIGWINCH interrupts poll and curses then
 * delivers KEY_RESIZE, on which the layout is recomputed from
 * LINES/COLS.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>
#include <jansson.h>
#include <langinfo.h>

#include "adminproto.h"
#include "tui.h"

#define TICK_MS		1000

struct tui tui;

const struct tui_screen *const tui_screens[] = {
	&scr_overview, &scr_accounts, &scr_invites, &scr_moderation,
	&scr_migrations, &scr_firehose,
};
const size_t tui_nscreens = sizeof(tui_screens) / sizeof(tui_screens[0]);

static bool	 poll_stats;	/* the daemon has no stats.watch: poll */
static char	 path_buf[PATH_MAX];

int64_t
tui_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
tui_has_cmd(const char *name)
{
	if (!tui.info_known || tui.commands == NULL)
		return true;
	return json_object_get(tui.commands, name) != NULL;
}

enum tui_act
tui_refuse_readonly(void)
{
	ui_msg(true, "read-only: that needs the admin group "
	    "(PDS_ADMIN_GROUP) or root");
	return TUI_REDRAW;
}

/* ---- data every screen shares: server.info and stats ---- */

static void
take_stats(const json_t *s)
{
	const json_t	*c = json_object_get(s, "counters");
	const json_t	*v;
	double		 r;
	static const struct {
		enum tui_series	 ser;
		const char	*names[3];
	} src[] = {
		{ SER_RPS, { "http.requests", "xrpc.requests", NULL } },
		{ SER_ERR, { "http.errors", "xrpc.errors", NULL } },
		{ SER_EVENTS, { "firehose.events", NULL, NULL } },
		{ SER_ADMIN, { "admin.requests", NULL, NULL } },
	};
	size_t	 i, k;
	bool	 have;

	json_decref(tui.stats);
	tui.stats = json_deep_copy(s);
	tui.stats_ms = tui_now_ms();
	for (i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		have = false;
		r = 0;
		for (k = 0; k < 3 && src[i].names[k] != NULL && !have; k++) {
			v = json_object_get(json_object_get(c,
			    src[i].names[k]), "rate");
			if (json_is_number(v)) {
				r = json_number_value(v);
				have = true;
			}
		}
		ui_hist_push(&tui.hist[src[i].ser], have, r);
	}
	ui_hist_push(&tui.hist[SER_SUBS], true, (double)ji(json_object_get(s,
	    "firehose"), "subscribers"));
	tui.dirty = true;
}

static void
on_stats(void *arg, const struct adminproto_msg *m)
{
	if (m->kind == AP_MSG_OK || m->kind == AP_MSG_EVENT) {
		if (json_is_object(m->result))
			take_stats(m->result);
		return;
	}
	if (m->kind == AP_MSG_ERROR &&
	    strcmp(m->error, AP_E_UNKNOWN_COMMAND) == 0)
		poll_stats = true;
}

static void
on_info(void *arg, const struct adminproto_msg *m)
{
	const json_t	*cmds, *e;
	size_t		 i;

	if (m->kind != AP_MSG_OK)
		return;
	tui.info_known = true;
	tui.can_mutate = jb(m->result, "canMutate");
	snprintf(tui.actor, sizeof(tui.actor), "%s", js(m->result, "actor"));
	snprintf(tui.version, sizeof(tui.version), "%s",
	    js(m->result, "version"));
	json_decref(tui.commands);
	tui.commands = json_object();
	cmds = json_object_get(m->result, "commands");
	json_array_foreach(cmds, i, e)
		json_object_set(tui.commands, js(e, "name"), (json_t *)e);
	/* a daemon without the stream: poll instead */
	poll_stats = !tui_has_cmd("stats.watch");
	if (poll_stats)
		tconn_request(tui.conn, "stats", NULL, on_stats, NULL);
	tui.dirty = true;
}

static void
conn_up(void)
{
	size_t	 i;

	tui.daemon_pid = tconn_peer_pid(tui.conn);
	tconn_request(tui.conn, "server.info", NULL, on_info, NULL);
	tconn_request(tui.conn, "stats.watch",
	    json_pack("{s:i}", "interval_ms", tui.interval_ms), on_stats,
	    NULL);
	for (i = 0; i < tui_nscreens; i++)
		if (tui_screens[i]->connected != NULL)
			tui_screens[i]->connected();
	if (tui_screens[tui.cur]->enter != NULL)
		tui_screens[tui.cur]->enter();
	ui_msg(false, "connected to pdsd");
}

static void
conn_down(void)
{
	size_t	 i;

	tui.info_known = false;
	for (i = 0; i < SER_N; i++)
		ui_hist_push(&tui.hist[i], false, 0);
	tui.dirty = true;
}

/* ---- the global key table ---- */

static void
show(size_t i)
{
	if (i >= tui_nscreens)
		return;
	tui.cur = i;
	tui.help = false;
	if (tui_screens[i]->enter != NULL)
		tui_screens[i]->enter();
}

static enum tui_act k_quit(void) { return TUI_QUIT; }
static enum tui_act k_help(void) { tui.help = !tui.help; return TUI_REDRAW; }
static enum tui_act k_s1(void) { show(0); return TUI_REDRAW; }
static enum tui_act k_s2(void) { show(1); return TUI_REDRAW; }
static enum tui_act k_s3(void) { show(2); return TUI_REDRAW; }
static enum tui_act k_s4(void) { show(3); return TUI_REDRAW; }
static enum tui_act k_s5(void) { show(4); return TUI_REDRAW; }
static enum tui_act k_s6(void) { show(5); return TUI_REDRAW; }

static enum tui_act
k_next(void)
{
	show((tui.cur + 1) % tui_nscreens);
	return TUI_REDRAW;
}

static enum tui_act
k_prev(void)
{
	show((tui.cur + tui_nscreens - 1) % tui_nscreens);
	return TUI_REDRAW;
}

static enum tui_act
k_refresh(void)
{
	tui.refresh_from = tconn_next_id(tui.conn);
	if (tui_screens[tui.cur]->enter != NULL)
		tui_screens[tui.cur]->enter();
	tui.refresh_to = tconn_next_id(tui.conn) - 1;
	ui_msg(false, "refreshing");
	return TUI_REDRAW;
}

/* "refreshing" goes once the reload's replies are in (or failed). */
static void
refresh_check(void)
{
	if (tui.refresh_from == 0 || !tconn_answered(tui.conn,
	    tui.refresh_from, tui.refresh_to))
		return;
	tui.refresh_from = 0;
	if (strcmp(tui.msg, "refreshing") == 0) {
		tui.msg[0] = '\0';
		tui.dirty = true;
	}
}

static enum tui_act
k_redraw(void)
{
	clearok(curscr, TRUE);
	return TUI_REDRAW;
}

static const struct tui_keydef global_keys[] = {
	{ '1', "1", NULL, "Overview: uptime, counts, rates", false, k_s1 },
	{ '2', "2", NULL, "Accounts: search, details, actions", false, k_s2 },
	{ '3', "3", NULL, "Invites: codes, create, disable", false, k_s3 },
	{ '4', "4", NULL, "Moderation: the audit log, takedowns", false, k_s4 },
	{ '5', "5", NULL, "Migrations: inbound accounts", false, k_s5 },
	{ '6', "6", NULL, "Firehose: subscribers and live tail", false, k_s6 },
	{ '\t', "Tab", NULL, "next screen", false, k_next },
	{ TUI_FN | KEY_BTAB, "S-Tab", NULL, "previous screen", false, k_prev },
	{ 'r', "r", NULL, "reload this screen", false, k_refresh },
	{ TUI_CTRL('l'), "^L", NULL, "redraw the terminal", false, k_redraw },
	{ '?', "?", NULL, "this help (any key closes it)", false, k_help },
	{ TUI_FN | KEY_F(1), "F1", NULL, "this help", false, k_help },
	{ 'q', "q", NULL, "quit", false, k_quit },
};

static enum tui_act
table_key(const struct tui_keydef *t, size_t n, int key)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (t[i].key != key)
			continue;
		if (t[i].mutating && tui.info_known && !tui.can_mutate)
			return tui_refuse_readonly();
		return t[i].fn();
	}
	return TUI_UNHANDLED;
}

static enum tui_act
handle_key(int key)
{
	const struct tui_screen	*s = tui_screens[tui.cur];
	enum tui_act		 a;

	if (key == (TUI_FN | KEY_RESIZE))
		return TUI_RESIZE;
	if ((a = ui_modal_key(key)) != TUI_UNHANDLED)
		return a;
	if (tui.help) {
		/* closing keys close it; any other closes it and acts */
		tui.help = false;
		if (key == '?' || key == 'q' || key == 27 || key == ' ' ||
		    key == '\r' || key == (TUI_FN | KEY_F(1)))
			return TUI_REDRAW;
		tui.dirty = true;
	}
	if ((a = table_key(s->keys, s->nkeys, key)) != TUI_UNHANDLED)
		return a;
	if (s->key != NULL && (a = s->key(key)) != TUI_UNHANDLED)
		return a;
	return table_key(global_keys, sizeof(global_keys) /
	    sizeof(global_keys[0]), key);
}

/* ---- drawing ---- */

static bool
greyed(const struct tui_keydef *k)
{
	return k->mutating && tui.info_known && !tui.can_mutate;
}

static void
draw_bars(void)
{
	const struct tui_screen	*s = tui_screens[tui.cur];
	char			 t[256];
	size_t			 i;
	int			 x;
	bool			 up = tconn_up(tui.conn);

	/* title */
	snprintf(t, sizeof(t), " pdstui  pdsd %s  %s%s", tui.version[0] ?
	    tui.version : "?", tui.actor, !tui.info_known ? "" :
	    tui.can_mutate ? " (read-write)" : " (read-only)");
	ui_text(0, 0, COLS, ui_attr(C_TITLE), t, true);
	snprintf(t, sizeof(t), " %s ", up ? "connected" :
	    tconn_state(tui.conn));
	x = COLS - (int)strlen(t);
	if (x < COLS / 2)
		x = COLS / 2;
	ui_text(0, x, COLS - x, ui_attr(up ? C_TITLE : C_BAD), t, true);

	/* tabs */
	move(1, 0);
	x = 0;
	for (i = 0; i < tui_nscreens; i++) {
		snprintf(t, sizeof(t), " %zu %s ", i + 1,
		    tui_screens[i]->name);
		x += ui_text(1, x, COLS - x, ui_attr(i == tui.cur ? C_TABSEL :
		    C_TAB), t, false);
	}
	if (x < COLS)
		ui_text(1, x, COLS - x, ui_attr(C_TAB), "", true);

	/* status line */
	if (tui.msg[0] && tui_now_ms() < tui.msg_until)
		ui_text(LINES - 2, 0, COLS, ui_attr(tui.msg_err ? C_BAD :
		    C_OK), tui.msg, true);
	else if (!up)
		ui_put(LINES - 2, 0, COLS, C_BAD, "pdsd: %s (reconnecting; "
		    "the data shown is stale)", tconn_state(tui.conn));
	else
		ui_text(LINES - 2, 0, COLS, A_NORMAL, "", true);

	/* key bar: this screen's keys, then help and quit */
	x = 0;
	move(LINES - 1, 0);
	for (i = 0; i < s->nkeys && x < COLS; i++) {
		if (s->keys[i].bar == NULL)
			continue;
		x += ui_text(LINES - 1, x, COLS - x, ui_attr(greyed(&s->keys[i]) ?
		    C_DIM : C_KEY), s->keys[i].label, false);
		snprintf(t, sizeof(t), ":%s ", s->keys[i].bar);
		x += ui_text(LINES - 1, x, COLS - x, ui_attr(greyed(&s->keys[i]) ?
		    C_DIM : C_NORMAL), t, false);
	}
	if (x < COLS)
		x += ui_text(LINES - 1, x, COLS - x, ui_attr(C_KEY),
		    "?:help q:quit", false);
	if (x < COLS)
		ui_text(LINES - 1, x, COLS - x, A_NORMAL, "", true);
}

static int
help_rows(int y, const struct tui_keydef *t, size_t n)
{
	size_t	 i;

	for (i = 0; i < n && y < LINES - 2; i++, y++) {
		ui_text(y, 2, 8, ui_attr(greyed(&t[i]) ? C_DIM : C_KEY),
		    t[i].label, true);
		ui_put(y, 10, COLS - 10, greyed(&t[i]) ? C_DIM : C_NORMAL,
		    "%s%s", t[i].help, greyed(&t[i]) ? "  (read-only)" : "");
	}
	return y;
}

static void
draw_help(void)
{
	const struct tui_screen	*s = tui_screens[tui.cur];
	int			 y = 2;

	ui_put(y++, 0, COLS, C_HEAD, "Keys on the %s screen", s->name);
	y = help_rows(y, s->keys, s->nkeys);
	if (y < LINES - 2)
		ui_put(y++, 2, COLS - 2, C_NORMAL, "%s",
		    "Up/Down j/k PgUp/PgDn Home/End: move in lists");
	y++;
	if (y < LINES - 2)
		ui_put(y++, 0, COLS, C_HEAD, "%s", "Everywhere");
	y = help_rows(y, global_keys, sizeof(global_keys) /
	    sizeof(global_keys[0]));
	if (tui.info_known && !tui.can_mutate && y + 1 < LINES - 2)
		ui_put(y + 1, 0, COLS, C_WARN, "%s", "Read-only: greyed keys "
		    "need the admin group (PDS_ADMIN_GROUP) or root.");
}

static void
draw(void)
{
	const struct tui_screen	*s = tui_screens[tui.cur];
	char			 t[128];

	curs_set(0);
	erase();
	if (COLS < TUI_MIN_COLS || LINES < TUI_MIN_LINES) {
		snprintf(t, sizeof(t), "terminal too small: %dx%d, pdstui "
		    "needs %dx%d", COLS, LINES, TUI_MIN_COLS, TUI_MIN_LINES);
		ui_text(LINES / 2, 0, COLS, ui_attr(C_BAD), t, true);
		if (LINES / 2 + 1 < LINES)
			ui_text(LINES / 2 + 1, 0, COLS, A_NORMAL,
			    "enlarge the window, or q to quit", true);
		refresh();
		return;
	}
	draw_bars();
	if (tui.help)
		draw_help();
	else
		s->draw(2, LINES - 4, COLS);
	ui_modal_draw();
	refresh();
}

/* ---- start-up ---- */

static void
usage(FILE *f)
{
	fprintf(f, "usage: pdstui [-c ENVFILE] [--socket PATH] [--no-color] "
	    "[--screen NAME]\n"
	    "              [--interval MS] [--exit-after SECONDS] "
	    "[--max-iterations N]\n");
}

static bool
parse_num(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* The value of --name VALUE or --name=VALUE at argv[*i]; NULL: not it. */
static const char *
opt_val(int argc, char **argv, int *i, const char *name, bool *bad)
{
	size_t	 n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "pdstui: %s needs a value\n", name);
		*bad = true;
		return NULL;
	}
	return argv[++*i];
}

int
main(int argc, char **argv)
{
	const char	*sock_opt = NULL, *envfile = NULL, *screen = NULL, *v;
	long		 exit_after = 0, max_iter = 0, n;
	bool		 color = true, bad = false;
	struct pollfd	 pfd[3];
	int64_t		 deadline = 0, next_tick;
	long		 iter = 0;
	int		 i, timeout, r, key, nfd;
	short		 ev;
	wint_t		 wc;
	size_t		 k;

	for (i = 1; i < argc && !bad; i++) {
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("pdstui %s (admin protocol %d)\n", PDSTUI_VERSION,
			    ADMINPROTO_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--no-color") == 0) {
			color = false;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			envfile = argv[++i];
		} else if ((v = opt_val(argc, argv, &i, "--socket", &bad))) {
			sock_opt = v;
		} else if ((v = opt_val(argc, argv, &i, "--screen", &bad))) {
			screen = v;
		} else if ((v = opt_val(argc, argv, &i, "--interval", &bad))) {
			if (!parse_num(v, 200, 60000, &n)) {
				fprintf(stderr, "pdstui: --interval: 200 to "
				    "60000 milliseconds\n");
				return 64;
			}
			tui.interval_ms = (int)n;
		} else if ((v = opt_val(argc, argv, &i, "--exit-after",
		    &bad))) {
			if (!parse_num(v, 1, 86400 * 365, &exit_after)) {
				fprintf(stderr, "pdstui: --exit-after: a "
				    "number of seconds\n");
				return 64;
			}
		} else if ((v = opt_val(argc, argv, &i, "--max-iterations",
		    &bad))) {
			if (!parse_num(v, 1, LONG_MAX, &max_iter)) {
				fprintf(stderr, "pdstui: --max-iterations: "
				    "a positive number\n");
				return 64;
			}
		} else if (!bad) {
			fprintf(stderr, "pdstui: unknown argument: %s\n",
			    argv[i]);
			bad = true;
		}
	}
	if (bad) {
		usage(stderr);
		return 64;
	}
	if (tui.interval_ms == 0)
		tui.interval_ms = 1000;
	if (screen != NULL) {
		for (k = 0; k < tui_nscreens; k++)
			if (strcasecmp(screen, tui_screens[k]->name) == 0)
				break;
		if (k == tui_nscreens) {
			fprintf(stderr, "pdstui: no screen called %s\n",
			    screen);
			return 64;
		}
		tui.cur = k;
	}
	if (getenv("NO_COLOR") != NULL && *getenv("NO_COLOR") != '\0')
		color = false;
	tui.socket_path = adminproto_socket_path(sock_opt, envfile, path_buf,
	    sizeof(path_buf));
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "pdstui: needs a terminal (see pdsctl for "
		    "scripts)\n");
		return 64;
	}
	setlocale(LC_ALL, "");
	tui.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	if ((tui.conn = tconn_new(tui.socket_path, conn_up, conn_down)) ==
	    NULL) {
		fprintf(stderr, "pdstui: bad socket path: %s\n",
		    tui.socket_path);
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	set_escdelay(25);
	if (initscr() == NULL) {
		fprintf(stderr, "pdstui: cannot set up the terminal\n");
		return 69;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	ui_colors_init(color);

	if (exit_after > 0)
		deadline = tui_now_ms() + exit_after * 1000;
	next_tick = tui_now_ms() + TICK_MS;
	tui.dirty = true;
	for (;;) {
		timeout = tconn_maintain(tui.conn, tui_now_ms());
		if (timeout < 0 || timeout > TICK_MS)
			timeout = TICK_MS;
		if (tui.tail != NULL && tconn_up(tui.conn))
			(void)tconn_maintain(tui.tail, tui_now_ms());
		if (tui.dirty) {
			draw();
			tui.dirty = false;
		}
		if (max_iter > 0 && ++iter > max_iter)
			break;
		if (deadline > 0 && tui_now_ms() >= deadline)
			break;
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		nfd = 1;
		pfd[nfd].fd = tconn_pollfd(tui.conn, &ev);
		pfd[nfd].events = ev;
		pfd[nfd].revents = 0;
		if (pfd[nfd].fd != -1)
			nfd++;
		if (tui.tail != NULL) {
			pfd[nfd].fd = tconn_pollfd(tui.tail, &ev);
			pfd[nfd].events = ev;
			pfd[nfd].revents = 0;
			if (pfd[nfd].fd != -1)
				nfd++;
		}
		if (next_tick - tui_now_ms() < timeout)
			timeout = (int)(next_tick - tui_now_ms());
		if (timeout < 0)
			timeout = 0;
		r = poll(pfd, (nfds_t)nfd, timeout);
		if (r == -1 && errno != EINTR)
			break;
		for (i = 1; i < nfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == tconn_pollfd(tui.conn, &ev))
				tconn_io(tui.conn, pfd[i].revents);
			else if (tui.tail != NULL &&
			    pfd[i].fd == tconn_pollfd(tui.tail, &ev))
				tconn_io(tui.tail, pfd[i].revents);
		}
		refresh_check();
		/* keys (and KEY_RESIZE after SIGWINCH) */
		while ((r = get_wch(&wc)) != ERR) {
			key = r == KEY_CODE_YES ? TUI_FN | (int)wc : (int)wc;
			switch (handle_key(key)) {
			case TUI_QUIT:
				goto out;
			case TUI_RESIZE:
				/* curses has set LINES and COLS */
				clearok(curscr, TRUE);
				tui.dirty = true;
				break;
			case TUI_REDRAW:
				tui.dirty = true;
				break;
			case TUI_HANDLED:
			case TUI_UNHANDLED:
				break;
			}
		}
		if (tui_now_ms() >= next_tick) {
			next_tick = tui_now_ms() + TICK_MS;
			if (poll_stats && tconn_up(tui.conn))
				tconn_request(tui.conn, "stats", NULL,
				    on_stats, NULL);
			if (tui_screens[tui.cur]->tick != NULL)
				tui_screens[tui.cur]->tick();
			if (tui.msg[0] && tui_now_ms() >= tui.msg_until) {
				tui.msg[0] = '\0';
				tui.dirty = true;
			}
			/* uptime and "stale" clocks move */
			if (tui.cur == 0)
				tui.dirty = true;
		}
	}
out:
	endwin();
	tconn_free(tui.conn);
	tconn_free(tui.tail);
	json_decref(tui.stats);
	json_decref(tui.commands);
	return 0;
}
