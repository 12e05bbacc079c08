/*
 * pdstui: the terminal dashboard.  It talks only to pdsd's admin socket
 * (adminproto.h), one connection, and is built like htop/ncdu:
 *
 *   main.c	the one loop: poll(2) on the keyboard and the socket, the
 *		layout (recomputed from LINES/COLS on KEY_RESIZE), the
 *		global key table, the help screen, "terminal too small"
 *   conn.c	the socket client: requests with callbacks, streams,
 *		reconnecting with a back-off when pdsd goes away
 *   ui.c	drawing helpers (colours that degrade to attributes,
 *		clipped wide-character text, sparklines, lists) and the
 *		modal prompt / confirm / message box
 *   scr_*.c	one file per screen
 *
 * Key handlers return what happened (enum tui_act); only the main loop
 * decides what to redraw.  Everything runs on one thread, so the state
 * below is a plain global.
 */
#ifndef PDSTUI_TUI_H
#define PDSTUI_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curses.h>
#include <jansson.h>

#include "adminproto.h"

#define PDSTUI_VERSION	"0.1.0"
#define TUI_MIN_COLS	64
#define TUI_MIN_LINES	16
#define TUI_HIST	600	/* samples kept for sparklines (10 min at 1/s) */
#define TUI_READ_MAX	(16 << 20)	/* longest reply line we accept */
#define TUI_TEXT_MAX	512	/* one prompt answer, one message */

/* What a key handler did. */
enum tui_act {
	TUI_UNHANDLED,	/* not mine: offer it to the next handler */
	TUI_HANDLED,	/* consumed, nothing visible changed */
	TUI_REDRAW,	/* consumed, redraw */
	TUI_QUIT,
	TUI_RESIZE,	/* recompute the layout, then redraw */
};

/*
 * Keys: a Unicode character, or a curses KEY_* code with TUI_FN set
 * (KEY_* values overlap with characters above U+00FF).
 */
#define TUI_FN		0x1000000
#define TUI_CTRL(c)	((c) & 0x1f)

/* One row of a key table (also a line of the help screen). */
struct tui_keydef {
	int		 key;
	const char	*label;		/* "t", "Enter", "PgDn" */
	const char	*bar;		/* its word in the key bar, or NULL */
	const char	*help;		/* one line */
	bool		 mutating;	/* greyed out and refused read-only */
	enum tui_act	(*fn)(void);
};

struct tui_screen {
	const char		*name;
	const struct tui_keydef	*keys;
	size_t			 nkeys;
	void	(*enter)(void);		/* shown: fetch what it needs */
	void	(*connected)(void);	/* (re)connected: reload */
	void	(*tick)(void);		/* about once a second */
	void	(*draw)(int top, int rows, int cols);
	/* keys not in the table (list movement); may be NULL */
	enum tui_act (*key)(int key);
};

/* Sparkline series in tui.hist. */
enum tui_series {
	SER_RPS,	/* HTTP requests per second */
	SER_ERR,	/* HTTP errors per second */
	SER_EVENTS,	/* firehose events per second */
	SER_SUBS,	/* firehose subscribers */
	SER_ADMIN,	/* admin socket requests per second */
	SER_N
};

struct tui_hist {
	double	 v[TUI_HIST];
	bool	 have[TUI_HIST];	/* false: no value (n/a) */
	size_t	 n;			/* samples held */
	size_t	 head;			/* next slot */
};

struct tui {
	struct tconn	*conn;
	struct tconn	*tail;		/* a second one for firehose.tail */
	const char	*socket_path;
	bool		 utf8;		/* the locale can show U+2581.. */
	bool		 mono;		/* no colours */
	int		 interval_ms;	/* stats.watch interval */

	/* from server.info */
	bool		 info_known;
	bool		 can_mutate;
	char		 actor[128];
	char		 version[64];
	json_t		*commands;	/* {"name": {"mutating":..}...} */
	/* from stats (or stats.watch) */
	json_t		*stats;		/* the latest sample, or NULL */
	int64_t		 stats_ms;	/* when it came */
	struct tui_hist	 hist[SER_N];
	long		 daemon_pid;	/* SO_PEERCRED, 0: unknown */

	/* the status line */
	char		 msg[TUI_TEXT_MAX];
	bool		 msg_err;
	int64_t		 msg_until;
	/* r: the reload's requests; "refreshing" until all are answered */
	int64_t		 refresh_from, refresh_to;

	size_t		 cur;		/* the screen shown */
	bool		 help;		/* the help screen is up */
	bool		 dirty;		/* redraw at the next turn */
};

extern struct tui tui;
extern const struct tui_screen *const tui_screens[];
extern const size_t tui_nscreens;

extern const struct tui_screen scr_overview, scr_accounts, scr_invites,
    scr_moderation, scr_migrations, scr_firehose;

/* ---- main.c ---- */

int64_t	tui_now_ms(void);
/* Does the daemon have this command (server.info)?  true until known. */
bool	tui_has_cmd(const char *name);
/* A mutating key pressed read-only: say so, return TUI_REDRAW. */
enum tui_act tui_refuse_readonly(void);

/* ---- conn.c ---- */

struct tconn;

/*
 * Called once per reply: AP_MSG_OK or AP_MSG_ERROR for a request; for a
 * stream any number of AP_MSG_EVENT, then AP_MSG_END or AP_MSG_ERROR.
 * When the connection drops, every pending callback gets an AP_MSG_ERROR
 * named "Disconnected".  msg and its JSON are borrowed for the call.
 */
typedef void (*tconn_cb)(void *arg, const struct adminproto_msg *msg);

/* on_up runs after each (re)connection, on_down after each loss. */
struct tconn *tconn_new(const char *path, void (*on_up)(void),
	    void (*on_down)(void));
void	tconn_free(struct tconn *);
bool	tconn_up(const struct tconn *);
/* "connected", or why not and when the next attempt is. */
const char *tconn_state(const struct tconn *);
/* The fd to poll (-1: none) and the events to poll it for. */
int	tconn_pollfd(const struct tconn *, short *events);
/* Reconnect when it is time; ms until the next attempt (-1: none due). */
int	tconn_maintain(struct tconn *, int64_t now_ms);
/* Read, dispatch, write, after poll(2) said revents. */
void	tconn_io(struct tconn *, short revents);
/*
 * Send cmd with args (the reference is taken, NULL: no args); cb (may
 * be NULL) gets the reply.  Returns the request id, -1 when down (then
 * cb is not called).
 */
int64_t	tconn_request(struct tconn *, const char *cmd, json_t *args,
	    tconn_cb cb, void *arg);
/* Forget the callbacks for id (its replies are dropped). */
void	tconn_forget(struct tconn *, int64_t id);
/* The daemon's pid from SO_PEERCRED, 0 when unknown. */
long	tconn_peer_pid(const struct tconn *);
/* The id the next request will get. */
int64_t	tconn_next_id(const struct tconn *);
/* Have the requests from..to (ids) all had their last reply? */
bool	tconn_answered(const struct tconn *, int64_t from, int64_t to);

/* ---- ui.c ---- */

enum tui_role {
	C_NORMAL, C_TITLE, C_TAB, C_TABSEL, C_SEL, C_HEAD, C_OK, C_WARN,
	C_BAD, C_DIM, C_KEY, C_SPARK, C_N
};

void	ui_colors_init(bool want_color);
attr_t	ui_attr(enum tui_role);
/* Put printf-formatted text at (y, x), clipped to w cells, padded. */
void	ui_put(int y, int x, int w, enum tui_role, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* The same without formatting; returns the cells used. */
int	ui_text(int y, int x, int w, attr_t, const char *s, bool pad);
/* A sparkline of the newest w samples of h at (y, x). */
void	ui_spark(int y, int x, int w, const struct tui_hist *h);
/* A progress bar [#####....] of done/total in w cells. */
void	ui_bar(int y, int x, int w, int64_t done, int64_t total);
void	ui_hist_push(struct tui_hist *, bool have, double v);
bool	ui_hist_last(const struct tui_hist *, double *v);

/* Human numbers. */
void	ui_bytes(char *out, size_t len, int64_t n);
void	ui_duration(char *out, size_t len, int64_t seconds);
/* "2024-05-01T10:11:12.345Z" -> "2024-05-01 10:11:12". */
void	ui_time(char *out, size_t len, const char *iso);

/* The status line. */
void	ui_msg(bool err, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* A scrolling list's cursor. */
struct ui_list {
	int	 n;		/* rows */
	int	 sel;		/* selected row, -1 if n == 0 */
	int	 top;		/* first row shown */
	int	 page;		/* rows shown at the last draw */
};
enum tui_act ui_list_key(struct ui_list *, int key);
void	ui_list_fix(struct ui_list *, int n, int rows);

/* JSON helpers: "" / 0 when absent or of another type. */
const char *js(const json_t *o, const char *key);
int64_t	ji(const json_t *o, const char *key);
bool	jb(const json_t *o, const char *key);

/*
 * Modal dialogs: one at a time, drawn over the screen, keys go to them
 * first.  The callback gets the answer, or NULL when cancelled (Esc).
 */
typedef void (*ui_prompt_cb)(const char *text, void *arg);
typedef void (*ui_confirm_cb)(bool yes, void *arg);
void	ui_prompt(const char *title, const char *initial, ui_prompt_cb,
	    void *arg);
void	ui_confirm(const char *question, ui_confirm_cb, void *arg);
/* A box of text lines ("\n"-separated); any key closes it. */
void	ui_popup(const char *title, const char *text);
bool	ui_modal_active(void);
enum tui_act ui_modal_key(int key);
void	ui_modal_draw(void);

/* The reply's error as one line for the status bar. */
void	ui_msg_reply(const char *what, const struct adminproto_msg *);

#endif
