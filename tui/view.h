/* view.h: the one header a console view includes (share/doc/HACKING.md §4.4).
 *
 * A view is one row of views[] (tui/views.c): a `struct view` with its name, what it
 * shows, flags saying which keys apply, and four callbacks (count, draw, key, match).
 * The console (console.c) owns the main loop, the layout, the key table below, and the
 * overlays (question, prompt, help, form, header tester, text viewer), which form one
 * stack with one priority order for keys and drawing. A view talks to the console only
 * through the con_*() functions here; what else it uses (doc.h, form.h, viewer.h,
 * jobs.h) it includes itself, and none of those include another view. */
#ifndef MXDECK_VIEW_H
#define MXDECK_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "profiles/site.h"
#include "tui/cli.h"
#include "tui/tty.h"

/* ---- keys ------------------------------------------------------------------- */

/* Key flags. */
#define KF_LINE	0x1		/* shown on the bottom help line */
#define KF_EDIT	0x2		/* changes the profile: absent in --audit */
#define KF_PUSH	0x4		/* changes a host: absent in --audit */
#define KF_MOUSE 0x8		/* only on the ? screen when the mouse is on */
#define KF_ANYPANE 0x10		/* acts on the selected row also from the view list */

/*
 * THE key table: one line per key produces the action enum, the dispatch, the
 * bottom help line and the `?` screen.
 * X(id, first char, last char, curses key code, label, flags, needs, short, help)
 * needs: the VF_* flags a view must have for the key to apply (0: every view).
 * (first char > last char: no character, only the key code.) The mouse is navigation
 * only: it never reaches an edit, save or push action.
 */
#define KEYTAB(X) \
X(HELP,    '?', '?', KEY_F(1),  "?",      KF_LINE, 0, "help", "this help: every key") \
X(QUIT,    'q', 'q', 0,         "q",      KF_LINE, 0, "quit", "quit (asks when there are unsaved changes)") \
X(UP,      'k', 'k', KEY_UP,    "k/Up",   0, 0, "up", "move up") \
X(DOWN,    'j', 'j', KEY_DOWN,  "j/Down", 0, 0, "down", "move down") \
X(LEFT,    'h', 'h', KEY_LEFT,  "h/Left", 0, 0, "sections", "focus the section list") \
X(RIGHT,   'l', 'l', KEY_RIGHT, "l/Right", 0, 0, "detail", "focus the detail pane") \
X(TAB,     '\t', '\t', KEY_BTAB, "Tab",   0, 0, "pane", "switch between the panes") \
X(PGDN,    CTRL_KEY('f'), CTRL_KEY('f'), KEY_NPAGE, "^F/PgDn", 0, 0, "page down", "page down") \
X(PGUP,    CTRL_KEY('b'), CTRL_KEY('b'), KEY_PPAGE, "^B/PgUp", 0, 0, "page up", "page up") \
X(TOP,     'g', 'g', KEY_HOME,  "g/Home", 0, 0, "top", "first entry") \
X(BOTTOM,  'G', 'G', KEY_END,   "G/End",  0, 0, "bottom", "last entry") \
X(JUMP,    '0', '9', 0,         "1..9,0", 0, 0, "section", "jump to section 1..10") \
X(VIEW,    ':', ':', 0,         ":",      0, 0, "go to", "go to a section by name (:view NAME; a prefix is enough; also the sections past the tenth)") \
X(OPEN,    '\n', '\n', KEY_ENTER, "Enter", 0, 0, "open", "open: the entry's details, a diff or a test result") \
X(SEARCH,  '/', '/', 0,         "/",      KF_LINE, VF_LIST, "search", "search the rows of the view: entries, hosts and their plan, tests and their results, the log (Users: filter by text and proto:on/off)") \
X(NEXT,    'n', 'n', 0,         "n",      0, VF_LIST, "next", "next search match") \
X(PREV,    'N', 'N', 0,         "N",      0, VF_LIST, "previous", "previous search match") \
X(FAILS,   'f', 'f', 0,         "f",      KF_LINE | KF_ANYPANE, VF_FAILS, "failures", "show only the rows that failed (Tests: FAIL and warn; Plan: failed hosts, in an audit also drift; Findings: errors); f again shows all") \
X(EDIT,    'e', 'e', 0,         "e",      KF_LINE | KF_EDIT | KF_ANYPANE, VF_EDIT, "edit", "edit the selected entry in a form") \
X(ADD,     'a', 'a', 0,         "a",      KF_LINE | KF_EDIT | KF_ANYPANE, VF_EDIT, "add", "add an entry") \
X(DELETE,  'd', 'd', 0,         "d",      KF_LINE | KF_EDIT | KF_ANYPANE, VF_EDIT, "delete", "delete the selected entry (asks first)") \
X(DELALL,  'D', 'D', 0,         "D",      KF_EDIT | KF_ANYPANE, VF_PROTO, "delete filtered", "delete every filtered user (needs a filter; asks with the count)") \
X(TOGGLE,  'x', 'x', 0,         "x",      KF_LINE | KF_EDIT | KF_ANYPANE, VF_PROTO, "toggle", "toggle a protocol of the selected user") \
X(SETALL,  'X', 'X', 0,         "X",      KF_LINE | KF_EDIT | KF_ANYPANE, VF_PROTO, "set all", "switch a protocol on/off for every filtered user") \
X(SAVE,    'w', 'w', 0,         "w",      KF_LINE | KF_EDIT, 0, "save", "save: shows the diff of the profile (and users CSV), y writes it in place (atomic, keeps comments, PROFILE.bak.1..10)") \
X(UNDO,    'u', 'u', 0,         "u",      KF_LINE | KF_EDIT, 0, "undo", "undo the last edit (form, add, delete, toggle, set all); one step per key, back to the last save") \
X(PREVIEW, 'v', 'v', 0,         "v",      KF_LINE | KF_ANYPANE, VF_PREVIEW, "preview", "preview the rendered files of the selected host") \
X(HDRTEST, 'T', 'T', 0,         "T",      KF_LINE | KF_ANYPANE, VF_HDRTEST, "test rules", "header-rule tester: paste or load a header block") \
X(PLAN,    'p', 'p', 0,         "p",      KF_LINE, 0, "plan", "plan: per-host diff of what a push would change") \
X(PUSH,    'P', 'P', 0,         "P",      KF_LINE | KF_PUSH, 0, "push", "push to the hosts (asks first)") \
X(TEST,    't', 't', 0,         "t",      KF_LINE, 0, "tests", "run the live tests") \
X(DOCTOR,  'c', 'c', 0,         "c",      0, 0, "doctor", "doctor: check each host read-only (commands, modules, space); results in Plan") \
X(REDRAW,  CTRL_KEY('l'), CTRL_KEY('l'), 0, "^L", 0, 0, "redraw", "redraw the screen") \
X(MOUSE,   1, 0, KEY_MOUSE, "mouse",  KF_MOUSE, 0, "mouse", "click selects a section or a row, a click on the selected row opens it, the wheel scrolls")

enum action {
#define X_ENUM(id, lo, hi, kc, label, flags, needs, shrt, help) AC_##id,
	KEYTAB(X_ENUM)
#undef X_ENUM
	AC_COUNT
};

struct keydef {
	int		 lo, hi, keycode;
	const char	*label;
	int		 flags;
	unsigned	 needs;		/* VF_* a view must have */
	const char	*shrt;		/* on the bottom line */
	const char	*help;		/* on the ? screen */
};
extern const struct keydef keytab[AC_COUNT];

/* ---- views ---------------------------------------------------------------- */

/* View flags: which keys of the key table apply in a view (a key applies when the view
 * has every flag of the key's `needs` column). */
#define VF_LIST		0x01	/* a list of rows: / n N search through match() */
#define VF_FILTER	0x02	/* / opens the view's own filter instead (key gets AC_SEARCH) */
#define VF_EDIT		0x04	/* e a d edit the profile */
#define VF_PROTO	0x08	/* x X D: protocols of users */
#define VF_PREVIEW	0x10	/* v previews the rendered files */
#define VF_HDRTEST	0x20	/* T header-rule tester */
#define VF_FAILS	0x40	/* f shows only the rows that failed */

#define VIEWS_MAX	32	/* views[] has at most this many rows (checked in views.c) */

struct console;

struct view {
	const char	*name;		/* in the list on the left and for `:` NAME */
	const char	*blurb;		/* one line at the top of the view */
	const char *const *ini;		/* profile sections it lists (NULL-terminated), or NULL */
	const char	*add;		/* the profile section `a` adds, or NULL */
	const char	*add_name;	/* the name field of that form ("name", "domain") */
	unsigned	 flags;		/* VF_* */
	/* Rows: shown = false, all of them (the number on the left); true, the rows of the
	 * list as drawn (after a filter or f). */
	size_t	(*count)(const struct console *c, const struct view *v, bool shown);
	void	(*draw)(struct console *c, const struct view *v, int y, int x, int h, int w);
	/* Actions for the detail pane (moves, Enter, and the keys the flags allow);
	 * h is the height of the list. */
	void	(*key)(struct console *c, const struct view *v, enum action a, int h);
	/* Does shown row `row` contain q (case-insensitive)? NULL: no search. */
	bool	(*match)(const struct console *c, const struct view *v, size_t row,
		    const char *q);
};

extern const struct view *const views[];
extern const size_t nviews;

/* ---- the console's state ------------------------------------------------------ */

/* Entries of an ini-backed view: line indices of section headers. */
struct entries {
	long	*v;
	size_t	 n, cap;
};

/* Pending per-user protocol changes for users that live in the CSV. */
struct uchange {
	char	*email;
	unsigned protos;
};

/* A user deleted from the CSV, not saved yet: the save removes the record that
 * starts on that line (after checking it still holds that address). */
struct udelete {
	char	*email;
	int	 line;		/* 1-based line of the CSV where its record starts */
};

struct form;
struct hdrtester;
struct undostep;
struct jobs;
struct text;

/* A question on the status line: the answer (a character, 27 for Esc) goes to fn. */
typedef void confirm_fn(struct console *c, wint_t answer, int arg);
/* A prompt on the status line: done gets the text on Enter; change (may be NULL)
 * after every edit; cancel (may be NULL) on Esc. */
typedef void prompt_fn(struct console *c, const char *text);

struct console {
	struct cli	*cli;
	bool		 audit;
	struct site	*site;
	struct diags	 diags;		/* parse + lint findings of the current document */
	bool		 dirty_ini;	/* the document differs from the file */
	struct uchange	*uch;		/* CSV changes not yet saved */
	size_t		 nuch, uchcap;
	struct udelete	*udel;		/* CSV rows to delete on save */
	size_t		 nudel, udelcap;
	struct undostep	**undo;		/* doc.c: the state before each edit since the last
					 * save, oldest first */
	size_t		 nundo, undocap;
	unsigned long	 undo_seq;	/* the key being handled: one undo step per key */
	char		*saved_ini;	/* the document as last loaded or saved */
	unsigned long	 saves;		/* saves so far (a plan before a push checks it) */

	size_t		 view;		/* index into views[] */
	bool		 focus_detail;
	size_t		 cur[VIEWS_MAX], top[VIEWS_MAX];	/* per view: shown row */
	bool		 fails_only[VIEWS_MAX];		/* per view: f is on */
	size_t		 dtop;		/* detail scroll of the selected entry */
	int		 list_y, list_h;	/* screen rows of the list drawn last
						 * (c->top[c->view] is its first entry) */
	struct entries	 ent;		/* entries of the current view (ini views) */

	char		*status;
	bool		 status_err;
	struct strv	 log;
	char		*search;	/* last search text */

	/* users view */
	uint32_t	*uf;		/* filtered user indices */
	size_t		 nuf, ufcap;
	char		*ufilter;	/* the filter text */
	char		*ufilter_prev;	/* while the filter prompt is open: Esc restores it */

	/* overlays (console.c keeps them in one priority order) */
	confirm_fn	*confirm;	/* a question is open */
	char		*confirm_text;
	int		 confirm_arg;
	bool		 prompting;	/* a prompt is open */
	char		*prompt_label;
	prompt_fn	*prompt_done, *prompt_change;
	void		(*prompt_cancel)(struct console *c);
	struct lineedit	 pedit;
	struct form	*form;
	struct hdrtester *ht;
	struct text	*viewer;
	bool		 help;
	size_t		 help_top;

	struct jobs	*jobs;
	bool		 quit;
	int		 exitcode;
	int		 rows, cols;
	int		 curs_y, curs_x;	/* where to show the cursor, -1: hidden */
};

/* ---- what the console offers a view (console.c) ---------------------------------- */

/* Case-insensitive substring search (ASCII), like strcasestr. */
const char *str_icontains(const char *hay, const char *needle);
/* q is not empty and s contains it (case-insensitive). */
bool	con_match(const char *s, const char *q);
void	con_status(struct console *c, bool err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	con_log(struct console *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Ask a one-key question on the status line; fn gets the answer. */
void	con_ask(struct console *c, confirm_fn *fn, int arg, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* Open a prompt on the status line (see prompt_fn). */
void	con_prompt(struct console *c, const char *label, const char *init, prompt_fn *done,
	    prompt_fn *change, void (*cancel)(struct console *c));
/* Show t in the text viewer (the console owns it from now on). */
void	con_open_text(struct console *c, struct text *t);
/* The current view; the index of v in views[]; show v with the detail focused. */
const struct view *con_view(const struct console *c);
size_t	con_view_index(const struct view *v);
void	con_show_view(struct console *c, const struct view *v);
/* Re-read the entries of the current view after the document changed. */
void	con_refresh_entries(struct console *c);
bool	con_unsaved(const struct console *c);
/* Move a list cursor for UP/DOWN/PGUP/PGDN/TOP/BOTTOM; false for other actions. */
bool	list_move(size_t *cur, size_t n, enum action a, size_t page);
/* Keep *cur in [0, n) and visible in h rows from *top. */
void	list_clamp(size_t *cur, size_t *top, size_t n, int h);

#endif
