/* console.c: the ncurses console (mxdeck(1) CONSOLE; share/doc/HACKING.md §4.4): main
 * loop, key table, layout, the overlay stack. The views are rows of views[] (views.c).
 *
 * Key handlers never draw: they change state and the loop redraws the whole frame
 * (erase + draw + refresh; ncurses sends only the difference). Background work
 * (plan, push, tests) posts events to a queue and wakes the loop through the tty
 * self-pipe, so the screen never freezes. */
#include <curses.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tui/doc.h"
#include "tui/form.h"
#include "tui/hdrtest.h"
#include "tui/jobs.h"
#include "tui/view.h"
#include "tui/viewer.h"

#define MIN_COLS	80
#define MIN_ROWS	24
#define LEFT_W		20

const struct keydef keytab[AC_COUNT] = {
#define X_DEF(id, lo, hi, kc, label, flags, needs, shrt, help) \
	[AC_##id] = { lo, hi, kc, label, flags, needs, shrt, help },
	KEYTAB(X_DEF)
#undef X_DEF
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *
str_icontains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return hay;
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

void
con_status(struct console *c, bool err, const char *fmt, ...)
{
	va_list ap;

	free(c->status);
	va_start(ap, fmt);
	c->status = xvasprintf(fmt, ap);
	va_end(ap);
	c->status_err = err;
}

void
con_log(struct console *c, const char *fmt, ...)
{
	va_list ap;
	char ts[16], *msg;
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%H:%M:%S", &tm);
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	strv_push_owned(&c->log, xasprintf("%s  %s", ts, msg));
	free(msg);
}

bool
con_match(const char *s, const char *q)
{
	return s != NULL && q != NULL && *q != '\0' && str_icontains(s, q) != NULL;
}

const struct view *
con_view(const struct console *c)
{
	return views[c->view];
}

size_t
con_view_index(const struct view *v)
{
	for (size_t i = 0; i < nviews; i++)
		if (views[i] == v)
			return i;
	abort();	/* a view that is not in views[]: a programming error */
}

void
con_refresh_entries(struct console *c)
{
	const struct view *v = con_view(c);

	doc_entries(c, v->ini, &c->ent);
	if (v->ini == NULL)	/* only ini views have entries */
		return;
	if (c->cur[c->view] >= c->ent.n)
		c->cur[c->view] = c->ent.n > 0 ? c->ent.n - 1 : 0;
}

bool
list_move(size_t *cur, size_t n, enum action a, size_t page)
{
	switch (a) {
	case AC_UP:
		if (*cur > 0)
			(*cur)--;
		return true;
	case AC_DOWN:
		if (*cur + 1 < n)
			(*cur)++;
		return true;
	case AC_PGUP:
		*cur = *cur > page ? *cur - page : 0;
		return true;
	case AC_PGDN:
		*cur = n == 0 ? 0 : *cur + page < n ? *cur + page : n - 1;
		return true;
	case AC_TOP:
		*cur = 0;
		return true;
	case AC_BOTTOM:
		*cur = n > 0 ? n - 1 : 0;
		return true;
	default:
		return false;
	}
}

void
list_clamp(size_t *cur, size_t *top, size_t n, int h)
{
	if (h < 1)
		h = 1;
	if (*cur >= n)
		*cur = n > 0 ? n - 1 : 0;
	if (*cur < *top)
		*top = *cur;
	if (*cur >= *top + (size_t)h)
		*top = *cur - (size_t)h + 1;
}

bool
con_unsaved(const struct console *c)
{
	return c->dirty_ini || c->nuch > 0 || c->nudel > 0;
}

static void
select_view(struct console *c, size_t i)
{
	c->view = i < nviews ? i : nviews - 1;
	c->dtop = 0;
	con_refresh_entries(c);
}

void
con_show_view(struct console *c, const struct view *v)
{
	select_view(c, con_view_index(v));
	c->focus_detail = true;
}

void
con_open_text(struct console *c, struct text *t)
{
	if (c->viewer != NULL)
		text_free(c->viewer);
	c->viewer = t;
}

/* Does key k apply in the current view (and mode)? */
static bool
key_applies(const struct console *c, const struct keydef *k)
{
	if (c->audit && (k->flags & (KF_EDIT | KF_PUSH)))
		return false;
	return (con_view(c)->flags & k->needs) == k->needs;
}

/* ---- drawing --------------------------------------------------------------- */

static void
draw_title(struct console *c)
{
	char *t;
	const char *base = strrchr(c->site->path, '/');

	base = base != NULL ? base + 1 : c->site->path;
	if (c->audit) {
		tty_fill(0, 0, c->cols, ST_BANNER);
		t = xasprintf(" READ-ONLY AUDIT: nothing can be edited, saved or pushed | "
		    "mxdeck %s | %s", c->site->name ? c->site->name : "", base);
		tty_put(0, 0, c->cols, t, ST_BANNER);
	} else {
		tty_fill(0, 0, c->cols, ST_TITLE);
		t = xasprintf(" mxdeck %s | %s | %s%s", MXDECK_VERSION,
		    c->site->name ? c->site->name : "", c->site->path,
		    con_unsaved(c) ? "  [modified: w saves]" : "");
		tty_put(0, 0, c->cols, t, ST_TITLE);
	}
	free(t);
	if (c->diags.nerrors + c->diags.nwarnings > 0) {
		char *f = xasprintf(" %zu error%s, %zu warning%s ", c->diags.nerrors,
		    c->diags.nerrors == 1 ? "" : "s", c->diags.nwarnings,
		    c->diags.nwarnings == 1 ? "" : "s");
		int w = tty_width(f);

		tty_put(0, c->cols - w, w, f, c->diags.nerrors ? ST_BANNER :
		    c->audit ? ST_BANNER : ST_TITLE);
		free(f);
	}
}

static void
draw_views(struct console *c, int y, int h)
{
	int n = (int)nviews;

	for (int i = 0; i < n && i < h; i++) {
		const struct view *v = views[i];
		char buf[64], num[16], key[4] = " ";
		enum style st = ST_NORMAL;
		size_t cnt = v->count(c, v, false);

		if (cnt < 10000)
			snprintf(num, sizeof num, "%zu", cnt);
		else if (cnt < 10000000)
			snprintf(num, sizeof num, "%zuk", cnt / 1000);
		else
			snprintf(num, sizeof num, "%zuM", cnt / 1000000);
		if (i < 10)		/* the digit keys: 1..9, 0 */
			snprintf(key, sizeof key, "%d", (i + 1) % 10);
		snprintf(buf, sizeof buf, "%s %-12.12s %4s", key, v->name, num);
		if (i == (int)c->view)
			st = c->focus_detail ? ST_SELDIM : ST_SEL;
		tty_fill(y + i, 0, LEFT_W, st);
		tty_put(y + i, 0, LEFT_W, buf, st);
	}
	if (h > n + 2) {
		tty_put(y + n + 1, 1, LEFT_W - 1, "? help", ST_DIM);
	}
	attrset(A_NORMAL);
	mvvline(y, LEFT_W, ACS_VLINE, h);
}

/* ---- the overlay stack ------------------------------------------------------
 *
 * Everything that opens over the views, in ONE priority order, topmost first: the
 * first open overlay gets the keys, the first open one with a body draws the screen
 * under the title (the views when none), the first with a status line draws it, the
 * first with a help text fills the bottom line, and the wheel scrolls the first open
 * one only if it scrolls. So a question asked over a form or a prompt over the viewer
 * behaves the same way everywhere. */

struct overlay {
	const char	*name;
	bool		(*open)(const struct console *c);
	void		(*draw)(struct console *c, int y, int h);	/* NULL: no body */
	void		(*status)(struct console *c, int y);	/* NULL: no status line */
	void		(*key)(struct console *c, int iskey, wint_t wc);
	const char	*help;		/* the bottom line while it is open, or NULL */
	size_t		*(*scrolltop)(struct console *c);	/* the wheel; NULL: no mouse */
};

static void search(struct console *c, int dir);

static bool
question_open(const struct console *c)
{
	return c->confirm != NULL;
}

static void
question_status(struct console *c, int y)
{
	tty_put(y, 0, c->cols, c->confirm_text, ST_WARN);
}

static void
question_key(struct console *c, int iskey, wint_t wc)
{
	confirm_fn *fn = c->confirm;

	if (iskey)
		return;
	c->confirm = NULL;
	fn(c, wc, c->confirm_arg);
}

void
con_ask(struct console *c, confirm_fn *fn, int arg, const char *fmt, ...)
{
	va_list ap;

	free(c->confirm_text);
	va_start(ap, fmt);
	c->confirm_text = xvasprintf(fmt, ap);
	va_end(ap);
	c->confirm = fn;
	c->confirm_arg = arg;
}

static bool
prompt_open(const struct console *c)
{
	return c->prompting;
}

static void
prompt_status(struct console *c, int y)
{
	int x = tty_put(y, 0, c->cols, c->prompt_label, ST_KEY);

	c->curs_x = le_draw(&c->pedit, y, x, c->cols - x - 1, ST_NORMAL);
	c->curs_y = y;
}

static void
prompt_key(struct console *c, int iskey, wint_t wc)
{
	if (!iskey && wc == 27) {
		c->prompting = false;
		if (c->prompt_cancel != NULL)
			c->prompt_cancel(c);
		return;
	}
	if ((!iskey && (wc == '\r' || wc == '\n')) || (iskey && wc == KEY_ENTER)) {
		char *text = xstrdup(c->pedit.buf);

		c->prompting = false;
		c->prompt_done(c, text);
		free(text);
		return;
	}
	le_key(&c->pedit, iskey, wc);
	if (c->prompt_change != NULL)
		c->prompt_change(c, c->pedit.buf);
}

void
con_prompt(struct console *c, const char *label, const char *init, prompt_fn *done,
    prompt_fn *change, void (*cancel)(struct console *c))
{
	free(c->prompt_label);
	c->prompt_label = xstrdup(label);
	c->prompting = true;
	c->prompt_done = done;
	c->prompt_change = change;
	c->prompt_cancel = cancel;
	le_set(&c->pedit, init != NULL ? init : "");
}

static bool
help_open(const struct console *c)
{
	return c->help;
}

static void
help_draw(struct console *c, int y, int h)
{
	struct text *t = text_new("Keys");
	char *line;
	struct sbuf b;

	text_add(t, "mxdeck console: every key (this screen comes from the same table as "
	    "the key dispatch)");
	if (c->audit)
		text_add(t, "READ-ONLY AUDIT: edit, save and push keys are absent.");
	text_add(t, "");
	for (int a = 0; a < AC_COUNT; a++) {
		const struct keydef *k = &keytab[a];
		char secs[256] = "";

		if (c->audit && (k->flags & (KF_EDIT | KF_PUSH)))
			continue;
		if ((k->flags & KF_MOUSE) && !tty_mouse())
			continue;
		if (k->needs != 0) {	/* the views where it applies */
			size_t o = 0;

			for (size_t i = 0; i < nviews && o < sizeof secs - 1; i++)
				if ((views[i]->flags & k->needs) == k->needs)
					o += (size_t)snprintf(secs + o, sizeof secs - o, "%s%s",
					    o ? ", " : " [", views[i]->name);
			if (o > 0 && o < sizeof secs - 1)
				snprintf(secs + o, sizeof secs - o, "]");
		}
		line = xasprintf("  %-9s %s%s", k->label, k->help, secs);
		text_add(t, line);
		free(line);
	}
	text_add(t, "");
	text_add(t, "In forms: Up/Down/Tab move between fields, Enter applies (findings of "
	    "`mxdeck lint` appear next to the field), Esc cancels.");
	text_add(t, "Line editing: Left/Right, ^A/Home, ^E/End, Backspace, Del, ^U (clear "
	    "to start), ^K (clear to end), ^W (word).");
	text_add(t, "Users: / filters by text and protocol state, e.g. \"smith imap:off "
	    "pop3:on\"; x toggles one protocol of the selected user, X sets one for all "
	    "filtered users.");
	text_add(t, "Users from the CSV are saved to the CSV (only changed lines; d removes "
	    "exactly the user's row, D every filtered user's), users from [user] sections "
	    "to the profile.");
	text_add(t, "Saving: w shows the diff of the profile (and of the users CSV) and asks; "
	    "y writes, n keeps the changes unsaved. The previous version goes to "
	    "PROFILE.bak.1 (.bak.2 .. .bak.10 older). u undoes one edit at a time back to "
	    "the last save.");
	if (tty_mouse())
		text_add(t, "Mouse: navigation only (it never edits, saves or pushes). To "
		    "select text, hold Shift while dragging (xterm, GNOME Terminal, Konsole, "
		    "kitty, tmux; Option in iTerm2), or start with MXDECK_NO_MOUSE=1.");
	else
		text_add(t, "Mouse: off (MXDECK_NO_MOUSE is set, or the terminal has no mouse): "
		    "the terminal's own text selection works as usual.");
	sb_init(&b);
	sb_add(&b, "Sections:");
	for (size_t i = 0; i < nviews; i++) {
		if (i < 10)
			sb_addf(&b, "  %zu %s", (i + 1) % 10, views[i]->name);
		else
			sb_addf(&b, "  :%s", views[i]->name);
		if (i == 0)
			sb_add(&b, " (site, access, users defaults, connectors)");
	}
	sb_add(&b, "  (: NAME goes to any section)");
	text_add(t, b.s);
	sb_free(&b);
	t->top = c->help_top;
	text_draw(t, y, 0, h, c->cols);
	c->help_top = t->top;
	text_free(t);
}

static void
help_key(struct console *c, int iskey, wint_t wc)
{
	struct text t;

	memset(&t, 0, sizeof t);
	t.top = c->help_top;
	t.ln.n = 200;
	if (!iskey && (wc == 'q' || wc == 27 || wc == '?'))
		c->help = false;
	else {
		text_key(c, &t, iskey, wc, c->rows - 3);
		c->help_top = t.top;
	}
}

static size_t *
help_scroll(struct console *c)
{
	return &c->help_top;
}

static bool
form_is_open(const struct console *c)
{
	return c->form != NULL;
}

static void
form_body(struct console *c, int y, int h)
{
	form_draw(c, y, 1, h, c->cols - 2);	/* forms get the whole width */
}

static bool
hdrtest_is_open(const struct console *c)
{
	return c->ht != NULL;
}

static void
hdrtest_body(struct console *c, int y, int h)
{
	hdrtest_draw(c, y, 0, h, c->cols);
}

static bool
viewer_open(const struct console *c)
{
	return c->viewer != NULL;
}

static void
viewer_draw(struct console *c, int y, int h)
{
	text_draw(c->viewer, y, 0, h, c->cols);
}

static void
search_done(struct console *c, const char *text)
{
	if (*text != '\0') {	/* empty: search for the last text again */
		free(c->search);
		c->search = xstrdup(text);
	}
	search(c, 1);
}

static void
viewer_key(struct console *c, int iskey, wint_t wc)
{
	if (!iskey && wc == '/') {
		con_prompt(c, "/", NULL, search_done, NULL, NULL);
		return;
	}
	if (!iskey && (wc == 'n' || wc == 'N')) {
		search(c, wc == 'n' ? 1 : -1);
		return;
	}
	if (!text_key(c, c->viewer, iskey, wc, c->rows - 3)) {
		text_free(c->viewer);
		c->viewer = NULL;
	}
}

static size_t *
viewer_scroll(struct console *c)
{
	return &c->viewer->top;
}

#define VIEWER_HELP	"j/k scroll  h/l left/right  PgUp/PgDn page  g/G top/bottom  " \
			"/ search  n next  [ ] file  q/Esc close"

static const struct overlay overlays[] = {	/* topmost first */
	{ "question", question_open, NULL, question_status, question_key, NULL, NULL },
	{ "prompt", prompt_open, NULL, prompt_status, prompt_key, NULL, NULL },
	{ "help", help_open, help_draw, NULL, help_key, VIEWER_HELP, help_scroll },
	{ "form", form_is_open, form_body, NULL, form_key, "Enter apply  Esc cancel  "
	    "Up/Down/Tab field  ^A/^E/^U/^K edit the line", NULL },
	{ "header tester", hdrtest_is_open, hdrtest_body, NULL, hdrtest_key,
	    "type/paste headers  ^O load file  ^U clear  PgUp/PgDn scroll results  Esc "
	    "close", NULL },
	{ "viewer", viewer_open, viewer_draw, NULL, viewer_key, VIEWER_HELP, viewer_scroll },
};

/* The topmost open overlay, or NULL. */
static const struct overlay *
overlay_top(const struct console *c)
{
	for (size_t i = 0; i < nitems(overlays); i++)
		if (overlays[i].open(c))
			return &overlays[i];
	return NULL;
}

/* ---- drawing the frame ------------------------------------------------------- */

static void
draw_helpline(struct console *c)
{
	int x = 0;

	tty_fill(c->rows - 1, 0, c->cols, ST_NORMAL);
	for (size_t i = 0; i < nitems(overlays); i++)
		if (overlays[i].help != NULL && overlays[i].open(c)) {
			tty_put(c->rows - 1, 0, c->cols, overlays[i].help, ST_KEY);
			return;
		}
	for (int a = 0; a < AC_COUNT; a++) {
		const struct keydef *k = &keytab[a];
		char *item;

		if (!(k->flags & KF_LINE) || !key_applies(c, k))
			continue;
		item = xasprintf("%s %s", k->label, k->shrt);
		if (x + tty_width(item) + 2 > c->cols) {
			free(item);
			break;
		}
		x += tty_put(c->rows - 1, x, c->cols - x, k->label, ST_KEY);
		x += tty_put(c->rows - 1, x, c->cols - x, item + strlen(k->label), ST_NORMAL);
		x += tty_put(c->rows - 1, x, c->cols - x, "  ", ST_NORMAL);
		free(item);
	}
}

static void
draw_status(struct console *c)
{
	int y = c->rows - 2;

	tty_fill(y, 0, c->cols, ST_NORMAL);
	for (size_t i = 0; i < nitems(overlays); i++)
		if (overlays[i].status != NULL && overlays[i].open(c)) {
			overlays[i].status(c, y);
			return;
		}
	if (c->status != NULL)
		tty_put(y, 0, c->cols, c->status, c->status_err ? ST_ERR : ST_NORMAL);
}

static void
draw_too_small(struct console *c)
{
	char *m1 = xasprintf("This terminal is %dx%d.", c->cols, c->rows);
	char *m2 = xasprintf("mxdeck needs at least %dx%d:", MIN_COLS, MIN_ROWS);
	const char *m3 = "please enlarge the terminal.";
	const char *m4 = "(q quits)";
	int y = c->rows / 2 - 2;

	if (y < 0)
		y = 0;
	tty_put(y, 1, c->cols - 2, m1, ST_WARN);
	tty_put(y + 1, 1, c->cols - 2, m2, ST_NORMAL);
	tty_put(y + 2, 1, c->cols - 2, m3, ST_NORMAL);
	tty_put(y + 3, 1, c->cols - 2, m4, ST_DIM);
	if (c->confirm != NULL)
		tty_put(c->rows - 1, 0, c->cols, c->confirm_text, ST_WARN);
	free(m1);
	free(m2);
}

static void
draw(struct console *c)
{
	int y = 1, h, x = LEFT_W + 2, w;
	const struct view *v = con_view(c);
	bool body = false;

	getmaxyx(stdscr, c->rows, c->cols);
	c->curs_y = c->curs_x = -1;
	c->list_y = c->list_h = 0;	/* the list views set them */
	erase();
	if (c->rows < MIN_ROWS || c->cols < MIN_COLS) {
		draw_too_small(c);
		curs_set(0);
		refresh();
		return;
	}
	h = c->rows - 3;
	w = c->cols - x;
	draw_title(c);
	for (size_t i = 0; i < nitems(overlays) && !body; i++)
		if (overlays[i].draw != NULL && overlays[i].open(c)) {
			overlays[i].draw(c, y, h);
			body = true;
		}
	if (!body) {
		draw_views(c, y, h);
		v->draw(c, v, y, x, h, w);
	}
	draw_status(c);
	draw_helpline(c);
	if (c->curs_y >= 0) {
		move(c->curs_y, c->curs_x);
		curs_set(1);
	} else
		curs_set(0);
	refresh();
}

/* ---- saving, quitting, pushing ------------------------------------------------- */

/* The save itself, after the admin said y to the diff. */
static void
save_now(struct console *c)
{
	char *cause = NULL;
	bool ini, csv;

	ini = c->dirty_ini;
	csv = c->nuch > 0 || c->nudel > 0;
	if (doc_save(c, &cause) == -1) {
		con_status(c, true, "%s", cause);
		con_log(c, "save refused: %s", cause);
		free(cause);
		return;
	}
	con_status(c, false, "saved %s%s%s (previous version%s in .bak.1; u has nothing "
	    "before this)", ini ? c->site->path : "", ini && csv ? " and " : "",
	    csv ? c->site->users_path : "", ini && csv ? "s" : "");
	con_log(c, "saved %s%s%s", ini ? c->site->path : "", ini && csv ? " and " : "",
	    csv ? c->site->users_path : "");
}

/* The answer to the save question. arg: quit after saving (q's [w]). Other keys
 * scroll the diff under the question, which stays. */
static void
answer_save(struct console *c, wint_t wc, int arg)
{
	if (wc != 'y' && wc != 'n' && wc != 27 && wc != 'q') {
		char *q = c->confirm_text;

		if (c->viewer != NULL)
			(void)text_key(c, c->viewer, 0, wc, c->rows - 3);
		c->confirm_text = NULL;
		con_ask(c, answer_save, arg, "%s", q != NULL ? q : "");
		free(q);
		return;
	}
	if (c->viewer != NULL) {
		text_free(c->viewer);
		c->viewer = NULL;
	}
	if (wc != 'y') {
		con_status(c, false, "not saved: %s is unchanged (the changes are still here: "
		    "w asks again, u undoes)", c->site->path);
		return;
	}
	save_now(c);
	if (arg && !con_unsaved(c))
		c->quit = true;
}

/* w: the diff of what would be written, in the viewer, and a y/n question under it.
 * quit: q's [w] answer, which quits after the save. */
static void
do_save(struct console *c, bool quit)
{
	char *cause = NULL, *title;
	struct text *t;
	struct sbuf b;
	bool csv = c->nuch > 0 || c->nudel > 0;

	if (!con_unsaved(c)) {
		con_status(c, false, "no changes to save");
		if (quit)
			c->quit = true;
		return;
	}
	if (c->diags.nerrors > 0) {	/* doc_save says why */
		save_now(c);
		return;
	}
	sb_init(&b);
	if (doc_save_diff(c, &b, &cause) == -1) {
		con_status(c, true, "%s", cause);
		con_log(c, "save refused: %s", cause);
		free(cause);
		sb_free(&b);
		return;
	}
	title = xasprintf("Save: what w writes to %s%s%s", c->site->path, csv ? " and " : "",
	    csv ? c->site->users_path : "");
	t = text_new(title);
	free(title);
	t->diff = true;
	text_add(t, b.s != NULL ? b.s : "");
	sb_free(&b);
	con_open_text(c, t);
	con_ask(c, answer_save, quit, "Write these changes%s? [y] save  [n/Esc] do not save  "
	    "(j/k ^F/^B scroll the diff)", quit ? " and quit" : "");
}

static void
answer_quit(struct console *c, wint_t wc, int arg)
{
	(void)arg;
	if (wc == 27)
		con_status(c, false, "cancelled");
	else if (wc == 'y') {
		c->quit = true;
	} else if (wc == 'w') {
		do_save(c, true);
	} else
		con_status(c, false, "not quitting");
}

/* ---- search and going to a view by name ------------------------------------------- */

static void
search(struct console *c, int dir)
{
	const char *q = c->search;
	const struct view *v = con_view(c);
	size_t n, cur;

	if (q == NULL || *q == '\0') {
		con_status(c, false, "no search yet: / searches");
		return;
	}
	if (c->viewer != NULL) {
		struct text *t = c->viewer;

		for (size_t k = 1; k <= t->ln.n; k++) {
			size_t i = (t->top + (dir > 0 ? k : t->ln.n - k)) % t->ln.n;

			if (con_match(t->ln.v[i], q)) {
				t->top = i;
				return;
			}
		}
		con_status(c, true, "not found: %s", q);
		return;
	}
	if (v->match == NULL)
		return;
	n = v->count(c, v, true);
	cur = c->cur[c->view];
	for (size_t k = 1; k <= n; k++) {
		size_t i = (cur + (dir > 0 ? k : n - k)) % n;

		if (v->match(c, v, i, q)) {
			c->cur[c->view] = i;
			c->dtop = 0;
			c->focus_detail = true;
			con_status(c, false, "/%s", q);
			return;
		}
	}
	con_status(c, true, "not found: %s", q);
}

/* `:` NAME: the view whose name is NAME, else the only one it is a prefix of
 * (case-insensitive). */
static void
view_done(struct console *c, const char *text)
{
	size_t n = strlen(text), found = nviews, nfound = 0;

	while (n > 0 && text[n - 1] == ' ')
		n--;
	while (n > 0 && *text == ' ')
		text++, n--;
	for (size_t i = 0; i < nviews && n > 0; i++) {
		if (strncasecmp(views[i]->name, text, n) != 0)
			continue;
		if (views[i]->name[n] == '\0') {	/* the whole name */
			found = i;
			nfound = 1;
			break;
		}
		found = i;
		nfound++;
	}
	if (nfound == 1) {
		con_show_view(c, views[found]);
		return;
	}
	con_status(c, true, "%s view \"%.*s\": the views are %s", nfound ? "more than one" :
	    "no", (int)n, text, "? lists them");
}

/* ---- main dispatch ----------------------------------------------------------- */

static int
lookup(const struct console *c, int iskey, wint_t wc)
{
	if (!iskey && wc == '\r')
		wc = '\n';
	for (int a = 0; a < AC_COUNT; a++) {
		const struct keydef *k = &keytab[a];

		if (c->audit && (k->flags & (KF_EDIT | KF_PUSH)))
			continue;
		if (iskey ? (k->keycode != 0 && (wint_t)k->keycode == wc) :
		    (wc >= (wint_t)k->lo && wc <= (wint_t)k->hi))
			return a;
	}
	return -1;
}

/* Keys while the list of views has the focus. */
static void
left_key(struct console *c, enum action a)
{
	size_t s = c->view;

	switch (a) {
	case AC_UP:
		s = s > 0 ? s - 1 : nviews - 1;
		break;
	case AC_DOWN:
		s = (s + 1) % nviews;
		break;
	case AC_TOP:
	case AC_PGUP:
		s = 0;
		break;
	case AC_BOTTOM:
	case AC_PGDN:
		s = nviews - 1;
		break;
	default:
		return;
	}
	select_view(c, s);
}

static void
action(struct console *c, enum action a)
{
	const struct keydef *k = &keytab[a];
	const struct view *v = con_view(c);
	int listh = c->rows - 5;

	if (!key_applies(c, k)) {
		con_status(c, false, "%s does nothing in %s (? lists the keys)", k->label,
		    v->name);
		return;
	}
	switch (a) {
	case AC_HELP:
		c->help = true;
		c->help_top = 0;
		return;
	case AC_QUIT:
		if (jobs_busy(c)) {
			con_status(c, true, "a push or test is still running: wait for it "
			    "to finish (see the Log), then q");
			return;
		}
		if (con_unsaved(c) && !c->audit)
			con_ask(c, answer_quit, 0, "Unsaved changes to %s: quit anyway? [y] quit "
			    "and discard  [w] save and quit  [n/Esc] stay", c->site->path);
		else
			c->quit = true;
		return;
	case AC_LEFT:
		c->focus_detail = false;
		return;
	case AC_RIGHT:
		c->focus_detail = true;
		return;
	case AC_TAB:
		c->focus_detail = !c->focus_detail;
		return;
	case AC_JUMP:
	case AC_MOUSE:
		return;		/* handled in handle_key */
	case AC_VIEW:
		con_prompt(c, ":view ", NULL, view_done, NULL, NULL);
		return;
	case AC_REDRAW:
		clearok(curscr, TRUE);
		return;
	case AC_SEARCH:
		if (v->flags & VF_FILTER)
			v->key(c, v, a, listh);		/* the view's own filter */
		else
			con_prompt(c, "/", NULL, search_done, NULL, NULL);
		return;
	case AC_NEXT:
	case AC_PREV:
		if (!(v->flags & VF_FILTER))
			search(c, a == AC_NEXT ? 1 : -1);
		return;
	case AC_SAVE:
		do_save(c, false);
		return;
	case AC_UNDO: {
		char *what = NULL;

		if (doc_undo(c, &what) == 0) {
			con_status(c, false, "nothing to undo%s", !con_unsaved(c) ?
			    " (the profile is as saved)" : "");
			return;
		}
		con_log(c, "undid: %s", what);
		con_status(c, false, "undid: %s (%zu more to undo%s)", what, c->nundo,
		    con_unsaved(c) ? "" : "; the profile is as saved");
		free(what);
		return;
	}
	case AC_PLAN:
		jobs_plan(c);
		return;
	case AC_PUSH:
		if (jobs_busy(c)) {
			con_status(c, true, "a plan, push or test is already running");
			return;
		}
		if (con_unsaved(c)) {
			con_status(c, true, "unsaved changes: save with w before pushing (a push "
			    "always uses the saved profile)");
			return;
		}
		jobs_push_plan(c);	/* asks with the plan's counts when it is done */
		return;
	case AC_TEST:
		jobs_test(c);
		return;
	case AC_DOCTOR:
		jobs_doctor(c);
		return;
	default:
		break;
	}
	if (!c->focus_detail && !(k->flags & KF_ANYPANE)) {
		if (a == AC_OPEN)
			c->focus_detail = true;
		else
			left_key(c, a);
		return;
	}
	v->key(c, v, a, listh);
}

/* The mouse is navigation only: it selects views and rows, opens the selected row
 * like Enter and scrolls; it never reaches an edit, save or push action, and does
 * nothing while an overlay that does not scroll (a question, a prompt, a form, the
 * header tester) is on top. */
static void
mouse_event(struct console *c, const MEVENT *e)
{
	MEVENT ev = *e;
	int dir = 0;
	bool focused = c->focus_detail;
	const struct overlay *o = overlay_top(c);
	const struct view *v = con_view(c);

	if ((o != NULL && o->scrolltop == NULL) || c->rows < MIN_ROWS || c->cols < MIN_COLS)
		return;
	if (ev.bstate & MOUSE_WHEEL_UP)
		dir = -1;
	else if (ev.bstate & MOUSE_WHEEL_DOWN)
		dir = 1;
	else if (!(ev.bstate & (BUTTON1_RELEASED | BUTTON1_CLICKED)))
		return;		/* a click acts when the button goes up */
	if (o != NULL) {
		size_t *top = o->scrolltop(c);

		if (dir < 0)
			*top = *top > 3 ? *top - 3 : 0;
		else if (dir > 0)
			*top += 3;	/* the viewer clamps it when it draws */
		return;
	}
	if (ev.x < LEFT_W) {
		int row = ev.y - 1;

		c->focus_detail = false;
		if (dir != 0)
			left_key(c, dir < 0 ? AC_UP : AC_DOWN);
		else if (row >= 0 && row < (int)nviews)
			select_view(c, (size_t)row);
		else if (row == (int)nviews + 1 && c->rows - 3 > (int)nviews + 2) {
			c->help = true;		/* the "? help" under the views */
			c->help_top = 0;
		}
		return;
	}
	c->focus_detail = true;
	if (dir != 0) {
		if (v->ini != NULL && c->list_h > 0 && ev.y >= c->list_y + c->list_h) {
			/* the selected entry's lines under the list */
			if (dir < 0)
				c->dtop = c->dtop > 3 ? c->dtop - 3 : 0;
			else
				c->dtop += 3;
			return;
		}
		for (int i = 0; i < 3; i++)
			action(c, dir < 0 ? AC_UP : AC_DOWN);
		return;
	}
	if (c->list_h > 0 && ev.y >= c->list_y && ev.y < c->list_y + c->list_h) {
		size_t k = c->top[c->view] + (size_t)(ev.y - c->list_y);

		if (k >= v->count(c, v, true))
			return;
		if (focused && k == c->cur[c->view])
			action(c, AC_OPEN);	/* a second click (or a double click) */
		else {
			c->cur[c->view] = k;
			c->dtop = 0;
		}
	}
}

/* Events that arrive together (a double click, a click right after another, a fast
 * wheel) come under one KEY_MOUSE: ncurses 6's getmouse() pops them newest first.
 * Each is handled in the order it happened, on the screen its predecessor left. */
static void
mouse_key(struct console *c)
{
	MEVENT ev[16];
	int n = 0;

	while (n < (int)nitems(ev) && getmouse(&ev[n]) == OK && ev[n].id != -1)
		n++;
	for (int i = n - 1; i >= 0; i--) {
		if (i < n - 1)
			draw(c);
		mouse_event(c, &ev[i]);
	}
}

static void
handle_key(struct console *c, int iskey, wint_t wc)
{
	const struct overlay *o = overlay_top(c);
	int a;

	if (iskey && wc == KEY_MOUSE) {
		mouse_key(c);
		return;
	}
	if (iskey && wc == KEY_RESIZE) {
		getmaxyx(stdscr, c->rows, c->cols);
		clearok(curscr, TRUE);		/* repaint everything at the new size */
		return;
	}
	/* a question or a prompt answers also on a terminal too small to draw */
	if (o != NULL && o->draw == NULL) {
		o->key(c, iskey, wc);
		return;
	}
	if (c->rows < MIN_ROWS || c->cols < MIN_COLS) {
		if (!iskey && wc == 'q')
			action(c, AC_QUIT);
		return;
	}
	if (o != NULL) {
		o->key(c, iskey, wc);
		return;
	}
	if (!iskey && wc == 27)
		return;
	a = lookup(c, iskey, wc);
	if (a < 0) {
		if (!iskey && wc >= 0x20 && wc < 0x7f)
			con_status(c, false, "'%c' is not a key here (? lists the keys)", (int)wc);
		return;
	}
	if (a == AC_JUMP) {
		size_t i = wc == '0' ? 9 : (size_t)(wc - '1');

		if (i >= nviews)
			return;
		select_view(c, i);
		c->focus_detail = true;
		return;
	}
	action(c, (enum action)a);
}

/* ---- start-up and the loop ---------------------------------------------------- */

/* MXDECK_BENCH=1: print the time to the first frame and the time per redraw while
 * scrolling the users, then exit; MXDECK_BENCH=first: only the first frame. */
static void
bench(struct console *c, double first, const char *mode)
{
	double t0, sum = 0, max = 0;
	int n = 0;

	if (strcmp(mode, "first") == 0) {
		tty_close();
		fprintf(stderr, "tui: first frame %.1f ms (%zu users)\n", first,
		    c->site->nusers);
		return;
	}
	view_done(c, "Users");
	c->focus_detail = true;
	for (int i = 0; i < 200; i++) {
		const struct view *v = con_view(c);

		t0 = now_ms();
		v->key(c, v, i % 50 == 49 ? AC_PGDN : AC_DOWN, c->rows - 5);
		draw(c);
		t0 = now_ms() - t0;
		sum += t0;
		if (t0 > max)
			max = t0;
		n++;
	}
	tty_close();
	fprintf(stderr, "tui: first frame %.1f ms (%zu users)\n", first, c->site->nusers);
	fprintf(stderr, "tui: redraw while scrolling users: avg %.3f ms, max %.3f ms "
	    "(%d redraws, %dx%d)\n", sum / n, max, n, c->cols, c->rows);
}

static void
console_free(struct console *c)
{
	jobs_free(c);
	form_close(c);
	hdrtest_close(c);
	if (c->viewer != NULL)
		text_free(c->viewer);
	if (c->site != NULL) {
		site_free(c->site);
		free(c->site);
	}
	diags_free(&c->diags);
	for (size_t i = 0; i < c->nuch; i++)
		free(c->uch[i].email);
	free(c->uch);
	for (size_t i = 0; i < c->nudel; i++)
		free(c->udel[i].email);
	free(c->udel);
	doc_undo_free(c);
	free(c->ent.v);
	free(c->status);
	free(c->search);
	free(c->uf);
	free(c->ufilter);
	free(c->ufilter_prev);
	free(c->confirm_text);
	free(c->prompt_label);
	le_free(&c->pedit);
	strv_free(&c->log);
}

int
cmd_console(struct cli *cli)
{
	struct console con, *c = &con;
	double t0 = now_ms();
	char *cause = NULL;
	struct pollfd pfd[2];
	const char *benchenv = getenv("MXDECK_BENCH");
	int rc;

	memset(c, 0, sizeof *c);
	c->cli = cli;
	c->audit = cli->audit;
	if (access(cli->profile, R_OK) != 0) {
		fprintf_safe(stderr, "mxdeck: %s: %s\n", cli->profile, strerror(errno));
		return EXIT_USAGE;
	}
	c->site = xcalloc(1, sizeof *c->site);
	site_load(c->site, cli->profile, &c->diags);
	if (c->site->path == NULL) {
		diags_print(&c->diags, stderr);
		fprintf_safe(stderr, "mxdeck: %s: cannot be loaded\n", cli->profile);
		console_free(c);
		return EXIT_USAGE;
	}
	if (c->diags.nerrors == 0)
		site_lint(c->site, &c->diags);
	diags_sort(&c->diags);

	if (tty_open(cli->no_color, &cause) == -1) {
		fprintf_safe(stderr, "mxdeck: %s\n", cause);
		free(cause);
		console_free(c);
		return EXIT_USAGE;
	}
	jobs_init(c);
	doc_undo_start(c);
	users_filter(c, NULL);
	select_view(c, 0);
	con_log(c, "opened %s: %zu hosts, %zu vhosts, %zu users, %zu errors, %zu warnings%s",
	    c->site->path, c->site->nhosts, c->site->nvhosts, c->site->nusers,
	    c->diags.nerrors, c->diags.nwarnings, c->audit ? " (read-only audit)" : "");
	if (c->diags.nerrors > 0)
		con_status(c, true, "the profile has %zu error(s): the sections marked ! show "
		    "them next to the line", c->diags.nerrors);
	else
		con_status(c, false, "%s: %zu hosts, %zu vhosts, %zu users. ? shows every key.",
		    c->site->name ? c->site->name : "profile", c->site->nhosts,
		    c->site->nvhosts, c->site->nusers);
	draw(c);
	if (benchenv != NULL && *benchenv != '\0') {
		bench(c, now_ms() - t0, benchenv);
		console_free(c);
		return EXIT_OK;
	}

	pfd[0].fd = STDIN_FILENO;
	pfd[0].events = POLLIN;
	pfd[1].fd = tty_wakeup_fd();
	pfd[1].events = POLLIN;
	while (!c->quit) {
		bool changed = false;
		int r;
		wint_t wc;

		if (poll(pfd, 2, 1000) == -1 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN) {
			char buf[64];

			while (read(pfd[1].fd, buf, sizeof buf) > 0)
				;
		}
		if (tty_signalled()) {
			c->exitcode = 128 + tty_signalled();
			break;
		}
		if (jobs_drain(c))
			changed = true;
		while ((r = get_wch(&wc)) != ERR) {
			/* a click means what is on the screen: show the effect of the
			 * input before it (read in the same batch) first */
			if (changed && r == KEY_CODE_YES && wc == KEY_MOUSE)
				draw(c);
			c->undo_seq++;	/* the edits of one key are one undo step */
			handle_key(c, r == KEY_CODE_YES, wc);
			doc_undo_label(c);
			changed = true;
			if (c->quit)
				break;
		}
		if (changed || jobs_running(c) || is_term_resized(c->rows, c->cols))
			draw(c);		/* running jobs: a live clock, once a second */
	}
	rc = c->exitcode;
	tty_close();
	if (jobs_busy(c))
		fprintf(stderr, "mxdeck: waiting for the hosts in flight of the running "
		    "plan/push to finish (a push is never cut off half-way); no new host is "
		    "started\n");
	console_free(c);
	return rc;
}
