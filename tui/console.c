/* console.c: the ncurses console (mxdeck(1) CONSOLE; share/doc/HACKING.md §4.4): main loop, key table, layout.
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

#include "tui/console.h"

#define MIN_COLS	80
#define MIN_ROWS	24
#define LEFT_W		20

const char *const section_names[SEC_COUNT] = {
	"Site", "Hosts", "Vhosts", "Autodiscover", "Header rules", "TLS", "Users", "Plan",
	"Tests", "Log",
};

const struct keydef keytab[AC_COUNT] = {
#define X_DEF(id, lo, hi, kc, label, flags, secs, shrt, help) \
	[AC_##id] = { lo, hi, kc, label, flags, secs, shrt, help },
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

void
con_refresh_entries(struct console *c)
{
	doc_entries(c, c->sec, &c->ent);
	if (c->sec >= SEC_USERS)	/* Users, Plan, Tests and Log have no entries */
		return;
	if (c->cur[c->sec] >= c->ent.n)
		c->cur[c->sec] = c->ent.n > 0 ? c->ent.n - 1 : 0;
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

static bool
is_unsaved(const struct console *c)
{
	return c->dirty_ini || c->nuch > 0 || c->nudel > 0;
}

static void
select_section(struct console *c, int sec)
{
	if (sec < 0)
		sec = 0;
	if (sec >= SEC_COUNT)
		sec = SEC_COUNT - 1;
	c->sec = (enum section)sec;
	c->dtop = 0;
	con_refresh_entries(c);
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
		    is_unsaved(c) ? "  [modified: w saves]" : "");
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

static size_t
section_count(struct console *c, enum section s)
{
	struct entries e = { 0 };
	size_t n;

	switch (s) {
	case SEC_USERS:
		return c->site->nusers;
	case SEC_PLAN:
	case SEC_TESTS:
		return jobs_count(c, s);
	case SEC_LOG:
		return c->log.n;
	default:
		doc_entries(c, s, &e);
		n = e.n;
		free(e.v);
		return n;
	}
}

static void
draw_sections(struct console *c, int y, int h)
{
	for (int i = 0; i < SEC_COUNT && i < h; i++) {
		char buf[64], num[16];
		enum style st = ST_NORMAL;
		size_t n = section_count(c, (enum section)i);

		if (n < 10000)
			snprintf(num, sizeof num, "%zu", n);
		else if (n < 10000000)
			snprintf(num, sizeof num, "%zuk", n / 1000);
		else
			snprintf(num, sizeof num, "%zuM", n / 1000000);
		snprintf(buf, sizeof buf, "%d %-12s %4s", (i + 1) % 10, section_names[i], num);
		if (i == (int)c->sec)
			st = c->focus_detail ? ST_SELDIM : ST_SEL;
		tty_fill(y + i, 0, LEFT_W, st);
		tty_put(y + i, 0, LEFT_W, buf, st);
	}
	if (h > SEC_COUNT + 2) {
		tty_put(y + SEC_COUNT + 1, 1, LEFT_W - 1, "? help", ST_DIM);
	}
	attrset(A_NORMAL);
	mvvline(y, LEFT_W, ACS_VLINE, h);
}

static void
draw_log(struct console *c, int y, int x, int h, int w)
{
	size_t *cur = &c->cur[SEC_LOG], *top = &c->top[SEC_LOG];

	tty_put(y, x, w, "Log: every event of this session", ST_HEAD);
	y++;
	h--;
	if (c->log.n == 0) {
		tty_put(y, x, w, "(nothing happened yet)", ST_DIM);
		return;
	}
	if (*cur >= c->log.n)
		*cur = c->log.n - 1;
	if (*cur < *top)
		*top = *cur;
	if (*cur >= *top + (size_t)h)
		*top = *cur - (size_t)h + 1;
	c->list_y = y;
	c->list_h = h;
	for (int i = 0; i < h && *top + (size_t)i < c->log.n; i++) {
		size_t k = *top + (size_t)i;
		enum style st = k == *cur && c->focus_detail ? ST_SEL : ST_NORMAL;

		if (st == ST_SEL)
			tty_fill(y + i, x, w, st);
		tty_put(y + i, x, w, c->log.v[k], st);
	}
}

static void
draw_helpline(struct console *c)
{
	struct sbuf b;
	int x = 0;

	sb_init(&b);
	tty_fill(c->rows - 1, 0, c->cols, ST_NORMAL);
	if (c->form != NULL) {
		tty_put(c->rows - 1, 0, c->cols, "Enter apply  Esc cancel  Up/Down/Tab field  "
		    "^A/^E/^U/^K edit the line", ST_KEY);
		sb_free(&b);
		return;
	}
	if (c->ht != NULL) {
		tty_put(c->rows - 1, 0, c->cols, "type/paste headers  ^O load file  ^U clear  "
		    "PgUp/PgDn scroll results  Esc close", ST_KEY);
		sb_free(&b);
		return;
	}
	if (c->viewer != NULL || c->help) {
		tty_put(c->rows - 1, 0, c->cols, "j/k scroll  h/l left/right  PgUp/PgDn page  "
		    "g/G top/bottom  / search  n next  [ ] file  q/Esc close", ST_KEY);
		sb_free(&b);
		return;
	}
	for (int a = 0; a < AC_COUNT; a++) {
		const struct keydef *k = &keytab[a];

		if (!(k->flags & KF_LINE) || !(k->sections & SM(c->sec)))
			continue;
		if (c->audit && (k->flags & (KF_EDIT | KF_PUSH)))
			continue;
		{
			char *item = xasprintf("%s %s", k->label, k->shrt);

			if (x + tty_width(item) + 2 > c->cols) {
				free(item);
				break;
			}
			x += tty_put(c->rows - 1, x, c->cols - x, k->label, ST_KEY);
			x += tty_put(c->rows - 1, x, c->cols - x, item + strlen(k->label),
			    ST_NORMAL);
			x += tty_put(c->rows - 1, x, c->cols - x, "  ", ST_NORMAL);
			free(item);
		}
	}
	sb_free(&b);
}

static void
draw_status(struct console *c)
{
	int y = c->rows - 2;

	tty_fill(y, 0, c->cols, ST_NORMAL);
	if (c->confirm != CF_NONE) {
		tty_put(y, 0, c->cols, c->confirm_text, ST_WARN);
		return;
	}
	if (c->prompt != PR_NONE) {
		int x = tty_put(y, 0, c->cols, c->prompt_label, ST_KEY);

		c->curs_x = le_draw(&c->pedit, y, x, c->cols - x - 1, ST_NORMAL);
		c->curs_y = y;
		return;
	}
	if (c->status != NULL)
		tty_put(y, 0, c->cols, c->status, c->status_err ? ST_ERR : ST_NORMAL);
}

static void
draw_help(struct console *c, int y, int h)
{
	struct text *t = text_new("Keys");
	char *line;

	text_add(t, "mxdeck console: every key (this screen comes from the same table as "
	    "the key dispatch)");
	if (c->audit)
		text_add(t, "READ-ONLY AUDIT: edit, save and push keys are absent.");
	text_add(t, "");
	for (int a = 0; a < AC_COUNT; a++) {
		const struct keydef *k = &keytab[a];
		char secs[128] = "";

		if (c->audit && (k->flags & (KF_EDIT | KF_PUSH)))
			continue;
		if ((k->flags & KF_MOUSE) && !tty_mouse())
			continue;
		if (k->sections != SM_ALL) {
			size_t o = 0;

			for (int s = 0; s < SEC_COUNT; s++)
				if (k->sections & SM(s))
					o += (size_t)snprintf(secs + o, sizeof secs - o, "%s%s",
					    o ? ", " : " [", section_names[s]);
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
	text_add(t, "Sections: 1 Site (site, access, users defaults, connectors)  2 Hosts  "
	    "3 Vhosts  4 Autodiscover  5 Header rules  6 TLS  7 Users  8 Plan  9 Tests  "
	    "0 Log");
	t->top = c->help_top;
	text_draw(t, y, 0, h, c->cols);
	c->help_top = t->top;
	text_free(t);
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
	if (c->confirm != CF_NONE)
		tty_put(c->rows - 1, 0, c->cols, c->confirm_text, ST_WARN);
	free(m1);
	free(m2);
}

static void
draw(struct console *c)
{
	int y = 1, h, x = LEFT_W + 2, w;

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
	if (c->help)
		draw_help(c, y, h);
	else if (c->ht != NULL)
		hdrtest_draw(c, y, 0, h, c->cols);
	else if (c->viewer != NULL)
		text_draw(c->viewer, y, 0, h, c->cols);
	else if (c->form != NULL)		/* forms get the whole width */
		form_draw(c, y, 1, h, c->cols - 2);
	else {
		draw_sections(c, y, h);
		if (c->sec == SEC_USERS)
			users_draw(c, y, x, h, w);
		else if (c->sec == SEC_PLAN || c->sec == SEC_TESTS)
			jobs_draw(c, c->sec, y, x, h, w);
		else if (c->sec == SEC_LOG)
			draw_log(c, y, x, h, w);
		else
			sections_draw(c, y, x, h, w);
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

/* ---- prompts and confirmations ------------------------------------------- */

static void
ask(struct console *c, enum confirm_kind k, int arg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void
ask(struct console *c, enum confirm_kind k, int arg, const char *fmt, ...)
{
	va_list ap;

	free(c->confirm_text);
	va_start(ap, fmt);
	c->confirm_text = xvasprintf(fmt, ap);
	va_end(ap);
	c->confirm = k;
	c->confirm_arg = arg;
}

static void
prompt(struct console *c, enum prompt_kind k, const char *label, const char *init)
{
	free(c->prompt_label);
	c->prompt_label = xstrdup(label);
	c->prompt = k;
	le_set(&c->pedit, init != NULL ? init : "");
}

static const char proto_letters[PROTO_COUNT] = { 'i', 'p', 's', 'a', 'm', 'o', 'e' };

static int
proto_from_letter(wint_t wc)
{
	for (int p = 0; p < PROTO_COUNT; p++)
		if ((wint_t)proto_letters[p] == wc)
			return p;
	return -1;
}

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

/* w: the diff of what would be written, in the viewer, and a y/n question under it.
 * quit: q's [w] answer, which quits after the save. */
static void
do_save(struct console *c, bool quit)
{
	char *cause = NULL, *title;
	struct sbuf b;

	if (!is_unsaved(c)) {
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
	if (c->viewer != NULL)
		text_free(c->viewer);
	title = xasprintf("Save: what w writes to %s%s%s", c->site->path,
	    c->nuch > 0 || c->nudel > 0 ? " and " : "",
	    c->nuch > 0 || c->nudel > 0 ? c->site->users_path : "");
	c->viewer = text_new(title);
	free(title);
	c->viewer->diff = true;
	text_add(c->viewer, b.s != NULL ? b.s : "");
	sb_free(&b);
	ask(c, CF_SAVE, quit, "Write these changes%s? [y] save  [n/Esc] do not save  "
	    "(j/k/PgDn scroll the diff)", quit ? " and quit" : "");
}

static void
delete_entry(struct console *c)
{
	long hdr = c->ent.v[c->cur[c->sec]];
	const struct ini_line *l = &c->site->ini.line[hdr];
	char *sect = xstrdup(l->section), *sub = l->sub ? xstrdup(l->sub) : NULL;
	struct ini tmp;
	struct diags d;
	size_t before = c->diags.nerrors;

	doc_copy(c, &tmp);
	doc_delete_section(&tmp, sect, sub);
	doc_commit(c, &tmp, 0, 0, &d, true);
	ini_free(&tmp);
	diags_free(&d);
	con_log(c, "deleted [%s%s%s%s]", sect, sub ? " \"" : "", sub ? sub : "", sub ? "\"" : "");
	if (c->diags.nerrors > before)
		con_status(c, true, "deleted [%s %s]: the profile now has %zu error(s), see the "
		    "sections marked !", sect, sub ? sub : "", c->diags.nerrors);
	else
		con_status(c, false, "deleted [%s%s%s] (not saved yet: w saves)", sect,
		    sub ? " " : "", sub ? sub : "");
	free(sect);
	free(sub);
}

static void
confirm_key(struct console *c, int iskey, wint_t wc)
{
	enum confirm_kind k = c->confirm;
	int arg = c->confirm_arg;

	if (k == CF_SAVE) {
		bool yes = !iskey && wc == 'y';

		if (!iskey && (wc == 'y' || wc == 'n' || wc == 27 || wc == 'q')) {
			c->confirm = CF_NONE;
			if (c->viewer != NULL) {
				text_free(c->viewer);
				c->viewer = NULL;
			}
			if (!yes) {
				con_status(c, false, "not saved: %s is unchanged (the changes are "
				    "still here: w asks again, u undoes)", c->site->path);
				return;
			}
			save_now(c);
			if (arg && !is_unsaved(c))
				c->quit = true;
		} else if (c->viewer != NULL)	/* scroll the diff; the question stays */
			(void)text_key(c, c->viewer, iskey, wc, c->rows - 3);
		return;
	}
	if (iskey)
		return;
	c->confirm = CF_NONE;
	if (wc == 27) {
		con_status(c, false, "cancelled");
		return;
	}
	switch (k) {
	case CF_QUIT:
		if (wc == 'y') {
			c->quit = true;
		} else if (wc == 'w') {
			do_save(c, true);
		} else
			con_status(c, false, "not quitting");
		break;
	case CF_DELETE:
		if (wc == 'y')
			delete_entry(c);
		else
			con_status(c, false, "nothing deleted");
		break;
	case CF_DELUSER:
	case CF_DELUSERS:
		if (wc == 'y')
			users_delete(c, k == CF_DELUSERS);
		else
			con_status(c, false, "nothing deleted");
		break;
	case CF_PUSH:
		if (wc == 'y')
			jobs_push(c);
		else
			con_status(c, false, "push cancelled");
		break;
	case CF_TOGGLE: {
		int p = proto_from_letter(wc);

		if (p < 0)
			con_status(c, true, "no protocol '%lc': nothing changed", (wint_t)wc);
		else
			users_toggle(c, p, -1, false);
		break;
	}
	case CF_SETALL_PROTO: {
		int p = proto_from_letter(wc);

		if (p < 0) {
			con_status(c, true, "no protocol '%lc': nothing changed", (wint_t)wc);
			break;
		}
		ask(c, CF_SETALL_STATE, p, "%s for all %zu filtered users: [+] on  [-] off  "
		    "(Esc cancels)", proto_names[p], c->nuf);
		break;
	}
	case CF_SETALL_STATE:
		if (wc == '+' || wc == '-')
			users_toggle(c, arg, wc == '+', true);
		else
			con_status(c, false, "nothing changed");
		break;
	case CF_SAVE:		/* handled above */
	case CF_NONE:
		break;
	}
}

static bool
line_matches(const char *s, const char *q)
{
	return q != NULL && *q != '\0' && str_icontains(s, q) != NULL;
}

static bool
entry_matches(struct console *c, long hdr, const char *q)
{
	const struct ini *ini = &c->site->ini;
	long end = doc_section_end(ini, hdr);

	for (long i = hdr; i <= end; i++)
		if (line_matches(ini->line[i].raw, q))
			return true;
	return false;
}

static void
search(struct console *c, int dir)
{
	const char *q = c->search;
	size_t n, cur;

	if (q == NULL || *q == '\0') {
		con_status(c, false, "no search yet: / searches");
		return;
	}
	if (c->viewer != NULL) {
		struct text *t = c->viewer;

		for (size_t k = 1; k <= t->ln.n; k++) {
			size_t i = (t->top + (dir > 0 ? k : t->ln.n - k)) % t->ln.n;

			if (line_matches(t->ln.v[i], q)) {
				t->top = i;
				return;
			}
		}
		con_status(c, true, "not found: %s", q);
		return;
	}
	switch (c->sec) {
	case SEC_LOG:
		n = c->log.n;
		break;
	case SEC_PLAN:
	case SEC_TESTS:
		n = jobs_count(c, c->sec);
		break;
	default:
		n = c->ent.n;
		break;
	}
	cur = c->cur[c->sec];
	for (size_t k = 1; k <= n; k++) {
		size_t i = (cur + (dir > 0 ? k : n - k)) % n;
		bool m;

		if (c->sec == SEC_LOG)
			m = line_matches(c->log.v[i], q);
		else if (c->sec == SEC_PLAN || c->sec == SEC_TESTS)
			m = false;
		else
			m = entry_matches(c, c->ent.v[i], q);
		if (m) {
			c->cur[c->sec] = i;
			c->dtop = 0;
			c->focus_detail = true;
			con_status(c, false, "/%s", q);
			return;
		}
	}
	con_status(c, true, "not found: %s", q);
}

static void
prompt_key(struct console *c, int iskey, wint_t wc)
{
	enum prompt_kind k = c->prompt;
	char *text;

	if (!iskey && wc == 27) {
		c->prompt = PR_NONE;
		if (k == PR_FILTER) {		/* back to the filter before the prompt */
			char *prev = c->ufilter_prev;

			c->ufilter_prev = NULL;
			users_filter(c, prev);
			free(prev);
		}
		return;
	}
	if ((!iskey && (wc == '\r' || wc == '\n')) || (iskey && wc == KEY_ENTER)) {
		c->prompt = PR_NONE;
		text = xstrdup(c->pedit.buf);
		switch (k) {
		case PR_SEARCH:
			if (*text != '\0') {	/* empty: search for the last text again */
				free(c->search);
				c->search = text;
				text = NULL;
			}
			if (c->help) {
				c->help = false;
			}
			search(c, 1);
			break;
		case PR_FILTER:
			users_filter(c, text);
			con_status(c, false, "filter \"%s\": %zu of %zu users", text, c->nuf,
			    c->site->nusers);
			break;
		case PR_LOADFILE:
			hdrtest_load(c, text);
			break;
		case PR_NONE:
			break;
		}
		free(text);
		return;
	}
	le_key(&c->pedit, iskey, wc);
	if (k == PR_FILTER)		/* live filtering as you type */
		users_filter(c, c->pedit.buf);
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

static void
left_key(struct console *c, enum action a)
{
	int s = (int)c->sec;

	switch (a) {
	case AC_UP:
		s = s > 0 ? s - 1 : SEC_COUNT - 1;
		break;
	case AC_DOWN:
		s = (s + 1) % SEC_COUNT;
		break;
	case AC_TOP:
	case AC_PGUP:
		s = 0;
		break;
	case AC_BOTTOM:
	case AC_PGDN:
		s = SEC_COUNT - 1;
		break;
	default:
		return;
	}
	select_section(c, s);
}

static long
cur_entry(struct console *c)
{
	if (c->ent.n == 0 || c->cur[c->sec] >= c->ent.n)
		return -1;
	return c->ent.v[c->cur[c->sec]];
}

static void
log_key(struct console *c, enum action a, int h)
{
	size_t *cur = &c->cur[SEC_LOG], n = c->log.n;

	if (n == 0 || list_move(cur, n, a, (size_t)h) || a != AC_OPEN)
		return;
	c->viewer = text_new("Log entry");
	text_add_wrapped(c->viewer, c->log.v[*cur], 1);	/* long errors: readable whole */
}

static void
action(struct console *c, enum action a)
{
	const struct keydef *k = &keytab[a];
	int listh = c->rows - 5;
	long hdr;

	if (!(k->sections & SM(c->sec))) {
		con_status(c, false, "%s does nothing in %s (? lists the keys)", k->label,
		    section_names[c->sec]);
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
		if (is_unsaved(c) && !c->audit)
			ask(c, CF_QUIT, 0, "Unsaved changes to %s: quit anyway? [y] quit and "
			    "discard  [w] save and quit  [n/Esc] stay", c->site->path);
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
	case AC_REDRAW:
		clearok(curscr, TRUE);
		return;
	case AC_SEARCH:
		if (c->sec == SEC_USERS) {
			free(c->ufilter_prev);
			c->ufilter_prev = c->ufilter != NULL ? xstrdup(c->ufilter) : NULL;
			prompt(c, PR_FILTER, "filter users (text, imap:off, pop3:on ...): ",
			    c->ufilter);
		}
		else
			prompt(c, PR_SEARCH, "/", NULL);
		return;
	case AC_NEXT:
	case AC_PREV:
		if (c->sec != SEC_USERS)
			search(c, a == AC_NEXT ? 1 : -1);
		return;
	case AC_SAVE:
		do_save(c, false);
		return;
	case AC_UNDO: {
		char *what = NULL;

		if (doc_undo(c, &what) == 0) {
			con_status(c, false, "nothing to undo%s", c->saved_ini != NULL &&
			    !is_unsaved(c) ? " (the profile is as saved)" : "");
			return;
		}
		con_log(c, "undid: %s", what);
		con_status(c, false, "undid: %s (%zu more to undo%s)", what, c->nundo,
		    is_unsaved(c) ? "" : "; the profile is as saved");
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
		if (is_unsaved(c)) {
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
	if (!c->focus_detail && a != AC_EDIT && a != AC_ADD && a != AC_DELETE &&
	    a != AC_DELALL && a != AC_PREVIEW && a != AC_HDRTEST && a != AC_TOGGLE &&
	    a != AC_SETALL) {
		if (a == AC_OPEN)
			c->focus_detail = true;
		else
			left_key(c, a);
		return;
	}
	switch (c->sec) {
	case SEC_USERS:
		users_key(c, a);
		return;
	case SEC_PLAN:
	case SEC_TESTS:
		jobs_key(c, c->sec, a, listh);
		return;
	case SEC_LOG:
		log_key(c, a, listh);
		return;
	default:
		break;
	}
	hdr = cur_entry(c);
	switch (a) {
	case AC_EDIT:
	case AC_OPEN:
		if (hdr < 0) {
			con_status(c, false, "nothing selected");
			return;
		}
		if (a == AC_OPEN && c->sec == SEC_HOSTS) {
			const struct ini_line *l = &c->site->ini.line[hdr];
			const struct host *h = site_find_host(c->site, l->sub ? l->sub : "");

			if (h != NULL)
				preview_open(c, h);
			return;
		}
		if (c->audit) {
			con_status(c, false, "read-only audit: nothing to edit");
			return;
		}
		form_open_edit(c, hdr);
		return;
	case AC_ADD:
		form_open_add(c, c->sec);
		return;
	case AC_DELETE: {
		char buf[256];

		if (hdr < 0) {
			con_status(c, false, "nothing selected");
			return;
		}
		ask(c, CF_DELETE, 0, "Delete %s with all its keys? [y] delete  [n/Esc] keep",
		    entry_label(c, hdr, buf, sizeof buf));
		return;
	}
	case AC_PREVIEW: {
		const struct ini_line *l;
		const struct host *h;

		if (hdr < 0)
			return;
		l = &c->site->ini.line[hdr];
		h = site_find_host(c->site, l->sub ? l->sub : "");
		if (h == NULL)
			con_status(c, true, "host %s has errors: fix them first", l->sub);
		else
			preview_open(c, h);
		return;
	}
	case AC_HDRTEST:
		if (hdr < 0) {
			con_status(c, false, "no header rules: a adds a set");
			return;
		}
		hdrtest_open(c, hdr);
		return;
	default:
		sections_key(c, a);
		return;
	}
}

/* Entries in the list of the current section. */
static size_t
list_count(const struct console *c)
{
	switch (c->sec) {
	case SEC_USERS:
		return c->nuf;
	case SEC_PLAN:
	case SEC_TESTS:
		return jobs_count(c, c->sec);
	case SEC_LOG:
		return c->log.n;
	default:
		return c->ent.n;
	}
}

/* The mouse is navigation only: it selects sections and rows, opens the selected row
 * like Enter and scrolls; it never reaches an edit, save or push action, and does
 * nothing while a question, a prompt, a form or the header tester is open. */
static void
mouse_event(struct console *c, const MEVENT *e)
{
	MEVENT ev = *e;
	int dir = 0;
	bool focused = c->focus_detail;

	if (c->confirm != CF_NONE || c->prompt != PR_NONE || c->form != NULL ||
	    c->ht != NULL || c->rows < MIN_ROWS || c->cols < MIN_COLS)
		return;
	if (ev.bstate & MOUSE_WHEEL_UP)
		dir = -1;
	else if (ev.bstate & MOUSE_WHEEL_DOWN)
		dir = 1;
	else if (!(ev.bstate & (BUTTON1_RELEASED | BUTTON1_CLICKED)))
		return;		/* a click acts when the button goes up */
	if (c->help || c->viewer != NULL) {
		size_t *top = c->help ? &c->help_top : &c->viewer->top;

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
		else if (row >= 0 && row < SEC_COUNT)
			select_section(c, row);
		else if (row == SEC_COUNT + 1 && c->rows - 3 > SEC_COUNT + 2) {
			c->help = true;		/* the "? help" under the sections */
			c->help_top = 0;
		}
		return;
	}
	c->focus_detail = true;
	if (dir != 0) {
		if (c->sec < SEC_USERS && c->list_h > 0 && ev.y >= c->list_y + c->list_h) {
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
		size_t k = c->top[c->sec] + (size_t)(ev.y - c->list_y);

		if (k >= list_count(c))
			return;
		if (focused && k == c->cur[c->sec])
			action(c, AC_OPEN);	/* a second click (or a double click) */
		else {
			c->cur[c->sec] = k;
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
	if (c->confirm != CF_NONE) {
		confirm_key(c, iskey, wc);
		return;
	}
	if (c->prompt != PR_NONE) {
		prompt_key(c, iskey, wc);
		return;
	}
	if (c->rows < MIN_ROWS || c->cols < MIN_COLS) {
		if (!iskey && wc == 'q')
			action(c, AC_QUIT);
		return;
	}
	if (c->help) {
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
		return;
	}
	if (c->form != NULL) {
		form_key(c, iskey, wc);
		return;
	}
	if (c->ht != NULL) {
		hdrtest_key(c, iskey, wc);
		return;
	}
	if (c->viewer != NULL) {
		if (!iskey && wc == '/') {
			prompt(c, PR_SEARCH, "/", NULL);
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
		select_section(c, wc == '0' ? 9 : (int)wc - '1');
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
	select_section(c, SEC_USERS);
	c->focus_detail = true;
	for (int i = 0; i < 200; i++) {
		t0 = now_ms();
		users_key(c, i % 50 == 49 ? AC_PGDN : AC_DOWN);
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
	select_section(c, SEC_SITE);
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
