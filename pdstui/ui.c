/*
 * ui: drawing helpers and the modal dialogs.  Colours degrade: on a
 * terminal without them (or with --no-color / NO_COLOR) every role maps
 * to plain attributes (reverse, bold, dim) so nothing depends on hue.
 * Text is converted to wide characters and clipped by display cells
 * (wcwidth), so handles and reasons in any script keep the columns
 * straight.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <curses.h>
#include <jansson.h>

#include "tui.h"

#define UI_LINE_MAX	1024	/* one drawn line, in characters */

static attr_t	role_attr[C_N];

void
ui_colors_init(bool want_color)
{
	static const struct {
		enum tui_role	 role;
		short		 fg, bg;
		attr_t		 extra;
		attr_t		 mono;
	} map[] = {
		{ C_NORMAL, -1, -1, 0, A_NORMAL },
		{ C_TITLE, COLOR_WHITE, COLOR_BLUE, A_BOLD, A_REVERSE },
		{ C_TAB, COLOR_WHITE, COLOR_BLUE, 0, A_REVERSE },
		{ C_TABSEL, COLOR_BLACK, COLOR_CYAN, A_BOLD, A_BOLD },
		{ C_SEL, COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
		{ C_HEAD, COLOR_GREEN, -1, A_BOLD, A_BOLD | A_UNDERLINE },
		{ C_OK, COLOR_GREEN, -1, 0, A_NORMAL },
		{ C_WARN, COLOR_YELLOW, -1, A_BOLD, A_BOLD },
		{ C_BAD, COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE },
		{ C_DIM, -1, -1, A_DIM, A_DIM },
		{ C_KEY, COLOR_CYAN, -1, A_BOLD, A_BOLD },
		{ C_SPARK, COLOR_CYAN, -1, 0, A_NORMAL },
	};
	size_t	 i;
	bool	 color = want_color && has_colors();

	if (color && start_color() == OK) {
		(void)use_default_colors();
		tui.mono = false;
	} else {
		color = false;
		tui.mono = true;
	}
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!color) {
			role_attr[map[i].role] = map[i].mono;
			continue;
		}
		if (map[i].fg == -1 && map[i].bg == -1) {
			role_attr[map[i].role] = map[i].extra;
			continue;
		}
		init_pair((short)(i + 1), map[i].fg, map[i].bg);
		role_attr[map[i].role] = COLOR_PAIR((int)(i + 1)) | map[i].extra;
	}
}

attr_t
ui_attr(enum tui_role r)
{
	return r < C_N ? role_attr[r] : A_NORMAL;
}

int
ui_text(int y, int x, int w, attr_t a, const char *s, bool pad)
{
	wchar_t		 wb[UI_LINE_MAX + 1];
	mbstate_t	 st;
	const char	*p = s;
	size_t		 n, i;
	int		 used = 0, cw;

	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	memset(&st, 0, sizeof(st));
	n = mbsrtowcs(wb, &p, UI_LINE_MAX, &st);
	if (n == (size_t)-1) {
		/* not valid in this locale: show bytes as '?' */
		for (n = 0; s[n] != '\0' && n < UI_LINE_MAX; n++)
			wb[n] = (unsigned char)s[n] < 0x80 ? (wchar_t)s[n] :
			    L'?';
	}
	wb[n] = L'\0';
	attrset(a);
	move(y, x);
	for (i = 0; i < n; i++) {
		wchar_t	 c = wb[i];

		if (c < 0x20 || c == 0x7f)
			c = L' ';
		cw = wcwidth(c);
		if (cw < 0) {
			c = L'?';
			cw = 1;
		}
		if (used + cw > w)
			break;
		/* the last cell of a clipped string: show that it was */
		if (used + cw == w && i + 1 < n && w > 1 && cw == 1) {
			addnwstr(tui.utf8 ? L"\u2026" : L">", 1);
			used += 1;
			break;
		}
		addnwstr(&c, 1);
		used += cw;
	}
	if (pad)
		for (; used < w; used++)
			addch(' ');
	attrset(A_NORMAL);
	return used;
}

void
ui_put(int y, int x, int w, enum tui_role r, const char *fmt, ...)
{
	char	 line[UI_LINE_MAX * 4];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ui_text(y, x, w, ui_attr(r), line, true);
}

void
ui_hist_push(struct tui_hist *h, bool have, double v)
{
	h->v[h->head] = v;
	h->have[h->head] = have;
	h->head = (h->head + 1) % TUI_HIST;
	if (h->n < TUI_HIST)
		h->n++;
}

bool
ui_hist_last(const struct tui_hist *h, double *v)
{
	size_t	 i;

	if (h->n == 0)
		return false;
	i = (h->head + TUI_HIST - 1) % TUI_HIST;
	*v = h->v[i];
	return h->have[i];
}

void
ui_spark(int y, int x, int w, const struct tui_hist *h)
{
	static const wchar_t	 blocks[] = L"\u2581\u2582\u2583\u2584"
	    L"\u2585\u2586\u2587\u2588";
	static const char	 ascii[] = "_.-:=+*#";
	size_t			 n, i, idx;
	double			 max = 0, v;
	int			 k, col;

	if (w <= 0)
		return;
	n = h->n < (size_t)w ? h->n : (size_t)w;
	for (i = 0; i < n; i++) {
		idx = (h->head + TUI_HIST - n + i) % TUI_HIST;
		if (h->have[idx] && h->v[idx] > max)
			max = h->v[idx];
	}
	attrset(ui_attr(C_SPARK));
	move(y, x);
	for (col = 0; col < w - (int)n; col++)
		addch(' ');
	for (i = 0; i < n; i++) {
		idx = (h->head + TUI_HIST - n + i) % TUI_HIST;
		v = h->v[idx];
		if (!h->have[idx]) {
			addch(' ');
			continue;
		}
		k = max > 0 ? (int)(v / max * 7.0 + 0.5) : 0;
		if (k < 0)
			k = 0;
		if (k > 7)
			k = 7;
		if (tui.utf8)
			addnwstr(&blocks[k], 1);
		else
			addch((chtype)ascii[k]);
	}
	attrset(A_NORMAL);
}

void
ui_bar(int y, int x, int w, int64_t done, int64_t total)
{
	char	 b[256];
	int	 inner = w - 2, fill, i;

	if (inner <= 0 || inner >= (int)sizeof(b) - 3)
		return;
	fill = total > 0 ? (int)((double)done / (double)total * inner) :
	    inner;
	if (fill > inner)
		fill = inner;
	if (fill < 0)
		fill = 0;
	b[0] = '[';
	for (i = 0; i < inner; i++)
		b[i + 1] = i < fill ? '#' : '.';
	b[inner + 1] = ']';
	b[inner + 2] = '\0';
	ui_text(y, x, w, ui_attr(done >= total ? C_OK : C_WARN), b, true);
}

void
ui_bytes(char *out, size_t len, int64_t n)
{
	static const char	*unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double			 v = (double)n;
	size_t			 u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%lld B", (long long)n);
	else
		snprintf(out, len, "%.1f %s", v, unit[u]);
}

void
ui_duration(char *out, size_t len, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(out, len, "%lldd %02lld:%02lld:%02lld",
		    (long long)(s / 86400), (long long)(s % 86400 / 3600),
		    (long long)(s % 3600 / 60), (long long)(s % 60));
	else
		snprintf(out, len, "%02lld:%02lld:%02lld",
		    (long long)(s / 3600), (long long)(s % 3600 / 60),
		    (long long)(s % 60));
}

void
ui_time(char *out, size_t len, const char *iso)
{
	size_t	 n = strlen(iso);

	if (n >= 19 && iso[10] == 'T')
		snprintf(out, len, "%.10s %.8s", iso, iso + 11);
	else
		snprintf(out, len, "%s", iso);
}

void
ui_msg(bool err, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(tui.msg, sizeof(tui.msg), fmt, ap);
	va_end(ap);
	tui.msg_err = err;
	tui.msg_until = tui_now_ms() + 8000;
	tui.dirty = true;
}

void
ui_msg_reply(const char *what, const struct adminproto_msg *m)
{
	if (strcmp(m->error, "Disconnected") == 0)
		ui_msg(true, "%s: disconnected from pdsd", what);
	else if (strcmp(m->error, AP_E_PERMISSION_DENIED) == 0)
		ui_msg(true, "%s: permission denied (read-only: you are not "
		    "in the admin group)", what);
	else
		ui_msg(true, "%s: %s: %s", what, m->error, m->message);
}

/* ---- lists ---- */

enum tui_act
ui_list_key(struct ui_list *l, int key)
{
	int	 old = l->sel, page = l->page > 1 ? l->page - 1 : 1;

	if (l->n == 0)
		return TUI_UNHANDLED;
	switch (key) {
	case TUI_FN | KEY_UP:
	case 'k':
		l->sel--;
		break;
	case TUI_FN | KEY_DOWN:
	case 'j':
		l->sel++;
		break;
	case TUI_FN | KEY_PPAGE:
		l->sel -= page;
		break;
	case TUI_FN | KEY_NPAGE:
	case ' ':
		l->sel += page;
		break;
	case TUI_FN | KEY_HOME:
	case 'g':
		l->sel = 0;
		break;
	case TUI_FN | KEY_END:
	case 'G':
		l->sel = l->n - 1;
		break;
	default:
		return TUI_UNHANDLED;
	}
	if (l->sel >= l->n)
		l->sel = l->n - 1;
	if (l->sel < 0)
		l->sel = 0;
	return l->sel != old ? TUI_REDRAW : TUI_HANDLED;
}

void
ui_list_fix(struct ui_list *l, int n, int rows)
{
	l->n = n;
	l->page = rows;
	if (n == 0) {
		l->sel = -1;
		l->top = 0;
		return;
	}
	if (l->sel < 0)
		l->sel = 0;
	if (l->sel >= n)
		l->sel = n - 1;
	if (rows < 1)
		rows = 1;
	if (l->sel < l->top)
		l->top = l->sel;
	if (l->sel >= l->top + rows)
		l->top = l->sel - rows + 1;
	if (l->top > n - rows)
		l->top = n - rows > 0 ? n - rows : 0;
	if (l->top < 0)
		l->top = 0;
}

/* ---- JSON ---- */

const char *
js(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

int64_t
ji(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return 0;
}

bool
jb(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* ---- modal dialogs ---- */

enum modal_kind { M_NONE, M_PROMPT, M_CONFIRM, M_POPUP };

static struct {
	enum modal_kind	 kind;
	char		 title[TUI_TEXT_MAX];
	wchar_t		 text[TUI_TEXT_MAX];
	size_t		 len;
	char		*body;		/* popup text */
	ui_prompt_cb	 pcb;
	ui_confirm_cb	 ccb;
	void		*arg;
} modal;

bool
ui_modal_active(void)
{
	return modal.kind != M_NONE;
}

void
ui_prompt(const char *title, const char *initial, ui_prompt_cb cb, void *arg)
{
	const char	*p = initial != NULL ? initial : "";
	mbstate_t	 st;
	size_t		 n;

	modal.kind = M_PROMPT;
	snprintf(modal.title, sizeof(modal.title), "%s", title);
	memset(&st, 0, sizeof(st));
	n = mbsrtowcs(modal.text, &p, TUI_TEXT_MAX - 1, &st);
	modal.len = n == (size_t)-1 ? 0 : n;
	modal.text[modal.len] = L'\0';
	modal.pcb = cb;
	modal.arg = arg;
	tui.dirty = true;
}

void
ui_confirm(const char *question, ui_confirm_cb cb, void *arg)
{
	modal.kind = M_CONFIRM;
	snprintf(modal.title, sizeof(modal.title), "%s", question);
	modal.ccb = cb;
	modal.arg = arg;
	tui.dirty = true;
}

void
ui_popup(const char *title, const char *text)
{
	free(modal.body);
	modal.body = strdup(text);
	modal.kind = M_POPUP;
	snprintf(modal.title, sizeof(modal.title), "%s", title);
	tui.dirty = true;
}

enum tui_act
ui_modal_key(int key)
{
	char		 out[TUI_TEXT_MAX * 4];
	const wchar_t	*p;
	mbstate_t	 st;
	size_t		 n;
	void		*arg = modal.arg;

	switch (modal.kind) {
	case M_NONE:
		return TUI_UNHANDLED;
	case M_POPUP:
		if (key == (TUI_FN | KEY_RESIZE))
			return TUI_UNHANDLED;
		modal.kind = M_NONE;
		free(modal.body);
		modal.body = NULL;
		return TUI_REDRAW;
	case M_CONFIRM:
		if (key == (TUI_FN | KEY_RESIZE))
			return TUI_UNHANDLED;
		modal.kind = M_NONE;
		modal.ccb(key == 'y' || key == 'Y', arg);
		return TUI_REDRAW;
	case M_PROMPT:
		break;
	}
	switch (key) {
	case TUI_FN | KEY_RESIZE:
		return TUI_UNHANDLED;
	case 27:	/* Esc */
	case TUI_CTRL('g'):
		modal.kind = M_NONE;
		modal.pcb(NULL, arg);
		return TUI_REDRAW;
	case '\n':
	case '\r':
	case TUI_FN | KEY_ENTER:
		modal.kind = M_NONE;
		modal.text[modal.len] = L'\0';
		p = modal.text;
		memset(&st, 0, sizeof(st));
		n = wcsrtombs(out, &p, sizeof(out) - 1, &st);
		out[n == (size_t)-1 ? 0 : n] = '\0';
		modal.pcb(out, arg);
		wmemset(modal.text, L'\0', TUI_TEXT_MAX);
		return TUI_REDRAW;
	case TUI_FN | KEY_BACKSPACE:
	case 127:
	case TUI_CTRL('h'):
		if (modal.len > 0)
			modal.len--;
		return TUI_REDRAW;
	case TUI_CTRL('u'):
		modal.len = 0;
		return TUI_REDRAW;
	default:
		if ((key & TUI_FN) || key < 0x20 || key == 0x7f)
			return TUI_HANDLED;
		if (modal.len + 1 < TUI_TEXT_MAX)
			modal.text[modal.len++] = (wchar_t)key;
		return TUI_REDRAW;
	}
}

/* A framed box of w x h centred on the screen; its inner origin. */
static void
box_at(int w, int h, int *y0, int *x0)
{
	int	 y, x;

	if (w > COLS - 2)
		w = COLS - 2;
	if (h > LINES - 2)
		h = LINES - 2;
	*y0 = (LINES - h) / 2;
	*x0 = (COLS - w) / 2;
	attrset(ui_attr(C_TITLE));
	for (y = *y0; y < *y0 + h; y++) {
		move(y, *x0);
		for (x = 0; x < w; x++)
			addch(y == *y0 || y == *y0 + h - 1 ? '-' :
			    x == 0 || x == w - 1 ? '|' : ' ');
	}
	attrset(A_NORMAL);
}

/*
 * s wrapped into rows of w cells, at spaces where it can and anywhere
 * where it must (an at-URI has no spaces): the rows it takes, and, when
 * draw, each drawn from (y, x) down, at most maxrows of them.
 */
static int
wrap_text(int y, int x, int w, int maxrows, attr_t a, const char *s,
    bool draw)
{
	wchar_t		 wb[UI_LINE_MAX + 1];
	char		 line[UI_LINE_MAX * 4];
	const wchar_t	*p;
	const char	*q = s;
	mbstate_t	 st;
	size_t		 n, i = 0, j, end, brk, len;
	int		 rows = 0, used, cw;

	if (w < 1)
		return 0;
	memset(&st, 0, sizeof(st));
	if ((n = mbsrtowcs(wb, &q, UI_LINE_MAX, &st)) == (size_t)-1) {
		for (n = 0; s[n] != '\0' && n < UI_LINE_MAX; n++)
			wb[n] = (unsigned char)s[n] < 0x80 ? (wchar_t)s[n] :
			    L'?';
	}
	wb[n] = L'\0';
	while (i < n) {
		/* as many characters as fit; then back to the last space */
		for (j = i, used = 0, brk = 0; j < n; j++) {
			cw = wcwidth(wb[j]) < 1 ? 1 : wcwidth(wb[j]);
			if (used + cw > w)
				break;
			used += cw;
			if (wb[j] == L' ' && j > i)
				brk = j;
		}
		end = j < n && brk > i ? brk : j;
		if (end == i)
			end = i + 1;
		if (draw && rows < maxrows) {
			wchar_t	 c = wb[end];

			wb[end] = L'\0';
			p = wb + i;
			memset(&st, 0, sizeof(st));
			len = wcsrtombs(line, &p, sizeof(line) - 1, &st);
			line[len == (size_t)-1 ? 0 : len] = '\0';
			wb[end] = c;
			ui_text(y + rows, x, w, a, line, true);
		}
		rows++;
		i = end;
		while (i < n && wb[i] == L' ')
			i++;
	}
	return rows > 0 ? rows : 1;
}

void
ui_modal_draw(void)
{
	int		 w = COLS - 8 > 72 ? 72 : COLS - 8, y0, x0, h, row;
	attr_t		 a = ui_attr(C_TITLE);
	const wchar_t	*shown;
	const char	*s, *nl;
	char		 line[UI_LINE_MAX];
	size_t		 len;

	switch (modal.kind) {
	case M_NONE:
		return;
	case M_PROMPT:
		box_at(w, 5, &y0, &x0);
		ui_text(y0 + 1, x0 + 2, w - 4, a, modal.title, true);
		/* the input line: show its tail when it is long */
		len = modal.len;
		shown = modal.text;
		if (len > (size_t)(w - 7))
			shown += len - (size_t)(w - 7);
		attrset(ui_attr(C_NORMAL));
		mvaddstr(y0 + 2, x0 + 2, "> ");
		for (row = 0; row < w - 6; row++)
			addch(' ');
		move(y0 + 2, x0 + 4);
		addnwstr(shown, (int)(modal.text + len - shown));
		ui_text(y0 + 3, x0 + 2, w - 4, a,
		    "Enter: accept   Esc: cancel", true);
		move(y0 + 2, x0 + 4 + (int)(modal.text + len - shown));
		curs_set(1);
		return;
	case M_CONFIRM:
		/* the whole question, wrapped: it names what is acted on */
		row = wrap_text(0, 0, w - 4, 0, a, modal.title, false);
		if (row > LINES - 6)
			row = LINES - 6 > 1 ? LINES - 6 : 1;
		box_at(w, 4 + row, &y0, &x0);
		wrap_text(y0 + 1, x0 + 2, w - 4, row, a, modal.title, true);
		ui_text(y0 + 2 + row, x0 + 2, w - 4, a,
		    "y: yes   any other key: no", true);
		return;
	case M_POPUP:
		h = 4;
		for (s = modal.body; s != NULL && *s; s = nl ? nl + 1 : NULL) {
			nl = strchr(s, '\n');
			h++;
			if (nl == NULL)
				break;
		}
		box_at(w, h, &y0, &x0);
		ui_text(y0 + 1, x0 + 2, w - 4, a, modal.title, true);
		row = y0 + 2;
		for (s = modal.body; s != NULL && *s && row < y0 + h - 2;
		    s = nl ? nl + 1 : NULL) {
			nl = strchr(s, '\n');
			len = nl ? (size_t)(nl - s) : strlen(s);
			if (len >= sizeof(line))
				len = sizeof(line) - 1;
			memcpy(line, s, len);
			line[len] = '\0';
			ui_text(row++, x0 + 2, w - 4, a, line, true);
			if (nl == NULL)
				break;
		}
		ui_text(y0 + h - 2, x0 + 2, w - 4, a, "(any key closes)",
		    true);
		return;
	}
}
