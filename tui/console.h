/* console.h: the ncurses console's internal interfaces (tui/ only).
 *
 * tty.c owns the terminal (open, restore, signals, drawing helpers); console.c owns
 * the main loop, the key table, the layout and the overlays; view-*.c draw and handle
 * one section or one overlay; doc.c edits the profile document; jobs.c runs plan,
 * push and tests on a worker thread and hands events to the main loop. */
#ifndef MXDECK_CONSOLE_H
#define MXDECK_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "profiles/site.h"
#include "tui/cli.h"

/* ---- tty.c --------------------------------------------------------------- */

enum style {
	ST_NORMAL, ST_TITLE, ST_BANNER, ST_SEL, ST_SELDIM, ST_ERR, ST_WARN, ST_OK,
	ST_DIM, ST_KEY, ST_ADD, ST_DEL, ST_HUNK, ST_HEAD, ST_FIELD, ST_COUNT
};

int	tty_open(bool no_color, char **cause);
void	tty_close(void);
bool	tty_is_open(void);
int	tty_wakeup_fd(void);		/* read end of the self-pipe */
void	tty_wakeup(void);		/* async-signal-safe: wake the main loop */
int	tty_signalled(void);		/* SIGINT/SIGTERM/SIGHUP received, or 0 */
bool	tty_mouse(void);		/* mouse reporting is on */
/* Draw s at row y, column x, in at most w columns; control characters and invalid
 * UTF-8 show as '?'. Returns the columns used. */
int	tty_put(int y, int x, int w, const char *s, enum style st);
/* Fill w columns at (y, x) with spaces in style st. */
void	tty_fill(int y, int x, int w, enum style st);
/* Display width of a UTF-8 string (invalid bytes count 1). */
int	tty_width(const char *s);
/* Byte offset in s after at most w display columns. */
size_t	tty_fit(const char *s, int w);

/* ---- line editor (form.c) ----------------------------------------------- */

struct lineedit {
	char	*buf;		/* UTF-8, NUL-terminated */
	size_t	 len, cap, cur;	/* bytes; cur is the cursor's byte offset */
};
void	le_set(struct lineedit *le, const char *s);
void	le_free(struct lineedit *le);
/* Handle a key; returns true if it was an editing key. */
bool	le_key(struct lineedit *le, int iskey, wint_t wc);
/* Draw in w columns at (y, x); returns the cursor column (absolute). */
int	le_draw(const struct lineedit *le, int y, int x, int w, enum style st);

/* ---- the console -------------------------------------------------------- */

enum section {
	SEC_SITE, SEC_HOSTS, SEC_VHOSTS, SEC_AUTODISCOVER, SEC_HRULES, SEC_TLS,
	SEC_USERS, SEC_PLAN, SEC_TESTS, SEC_LOG, SEC_COUNT
};
#define SM(s)		(1u << (s))
#define SM_ALL		((1u << SEC_COUNT) - 1)
#define SM_EDITABLE	(SM(SEC_SITE) | SM(SEC_HOSTS) | SM(SEC_VHOSTS) | \
			 SM(SEC_AUTODISCOVER) | SM(SEC_HRULES) | SM(SEC_TLS) | SM(SEC_USERS))
#define SM_LISTS	(SM_EDITABLE | SM(SEC_PLAN) | SM(SEC_TESTS) | SM(SEC_LOG))
extern const char *const section_names[SEC_COUNT];

/* Key flags. */
#define KF_LINE	0x1		/* shown on the bottom help line */
#define KF_EDIT	0x2		/* changes the profile: absent in --audit */
#define KF_PUSH	0x4		/* changes a host: absent in --audit */
#define KF_MOUSE 0x8		/* only on the ? screen when the mouse is on */

#define CTRL_KEY(c)	((c) & 0x1f)

/* The wheel: buttons 4 and 5. ncurses 6's extended mouse (version 2) has a real
 * BUTTON5; with version 1, button 5 comes as REPORT_MOUSE_POSITION's bit. */
#define MOUSE_WHEEL_UP		BUTTON4_PRESSED
#if defined(NCURSES_MOUSE_VERSION) && NCURSES_MOUSE_VERSION > 1
#define MOUSE_WHEEL_DOWN	BUTTON5_PRESSED
#else
#define MOUSE_WHEEL_DOWN	REPORT_MOUSE_POSITION
#endif

/*
 * THE key table: one line per key produces the action enum, the dispatch, the
 * bottom help line and the `?` screen.
 * X(id, first char, last char, curses key code, label, flags, sections, short, help)
 * (first char > last char: no character, only the key code.) The mouse is navigation
 * only: it never reaches an edit, save or push action.
 */
#define KEYTAB(X) \
X(HELP,    '?', '?', KEY_F(1),  "?",      KF_LINE, SM_ALL, "help", "this help: every key") \
X(QUIT,    'q', 'q', 0,         "q",      KF_LINE, SM_ALL, "quit", "quit (asks when there are unsaved changes)") \
X(UP,      'k', 'k', KEY_UP,    "k/Up",   0, SM_ALL, "up", "move up") \
X(DOWN,    'j', 'j', KEY_DOWN,  "j/Down", 0, SM_ALL, "down", "move down") \
X(LEFT,    'h', 'h', KEY_LEFT,  "h/Left", 0, SM_ALL, "sections", "focus the section list") \
X(RIGHT,   'l', 'l', KEY_RIGHT, "l/Right", 0, SM_ALL, "detail", "focus the detail pane") \
X(TAB,     '\t', '\t', KEY_BTAB, "Tab",   0, SM_ALL, "pane", "switch between the panes") \
X(PGDN,    CTRL_KEY('f'), CTRL_KEY('f'), KEY_NPAGE, "^F/PgDn", 0, SM_ALL, "page down", "page down") \
X(PGUP,    CTRL_KEY('b'), CTRL_KEY('b'), KEY_PPAGE, "^B/PgUp", 0, SM_ALL, "page up", "page up") \
X(TOP,     'g', 'g', KEY_HOME,  "g/Home", 0, SM_ALL, "top", "first entry") \
X(BOTTOM,  'G', 'G', KEY_END,   "G/End",  0, SM_ALL, "bottom", "last entry") \
X(JUMP,    '0', '9', 0,         "1..9,0", 0, SM_ALL, "section", "jump to section 1..10") \
X(OPEN,    '\n', '\n', KEY_ENTER, "Enter", 0, SM_ALL, "open", "open: the entry's details, a diff or a test result") \
X(SEARCH,  '/', '/', 0,         "/",      KF_LINE, SM_LISTS, "search", "search the list (Users: filter by text and proto:on/off)") \
X(NEXT,    'n', 'n', 0,         "n",      0, SM_LISTS, "next", "next search match") \
X(PREV,    'N', 'N', 0,         "N",      0, SM_LISTS, "previous", "previous search match") \
X(EDIT,    'e', 'e', 0,         "e",      KF_LINE | KF_EDIT, SM_EDITABLE, "edit", "edit the selected entry in a form") \
X(ADD,     'a', 'a', 0,         "a",      KF_LINE | KF_EDIT, SM_EDITABLE, "add", "add an entry") \
X(DELETE,  'd', 'd', 0,         "d",      KF_LINE | KF_EDIT, SM_EDITABLE, "delete", "delete the selected entry (asks first)") \
X(DELALL,  'D', 'D', 0,         "D",      KF_EDIT, SM(SEC_USERS), "delete filtered", "delete every filtered user (needs a filter; asks with the count)") \
X(TOGGLE,  'x', 'x', 0,         "x",      KF_LINE | KF_EDIT, SM(SEC_USERS), "toggle", "toggle a protocol of the selected user") \
X(SETALL,  'X', 'X', 0,         "X",      KF_LINE | KF_EDIT, SM(SEC_USERS), "set all", "switch a protocol on/off for every filtered user") \
X(SAVE,    'w', 'w', 0,         "w",      KF_LINE | KF_EDIT, SM_ALL, "save", "save the profile in place (atomic, keeps comments, .bak)") \
X(PREVIEW, 'v', 'v', 0,         "v",      KF_LINE, SM(SEC_HOSTS), "preview", "preview the rendered files of the selected host") \
X(HDRTEST, 'T', 'T', 0,         "T",      KF_LINE, SM(SEC_HRULES), "test rules", "header-rule tester: paste or load a header block") \
X(PLAN,    'p', 'p', 0,         "p",      KF_LINE, SM_ALL, "plan", "plan: per-host diff of what a push would change") \
X(PUSH,    'P', 'P', 0,         "P",      KF_LINE | KF_PUSH, SM_ALL, "push", "push to the hosts (asks first)") \
X(TEST,    't', 't', 0,         "t",      KF_LINE, SM_ALL, "tests", "run the live tests") \
X(DOCTOR,  'c', 'c', 0,         "c",      0, SM_ALL, "doctor", "doctor: check each host read-only (commands, modules, space); results in Plan") \
X(REDRAW,  CTRL_KEY('l'), CTRL_KEY('l'), 0, "^L", 0, SM_ALL, "redraw", "redraw the screen") \
X(MOUSE,   1, 0, KEY_MOUSE, "mouse",  KF_MOUSE, SM_ALL, "mouse", "click selects a section or a row, a click on the selected row opens it, the wheel scrolls")

enum action {
#define X_ENUM(id, lo, hi, kc, label, flags, secs, shrt, help) AC_##id,
	KEYTAB(X_ENUM)
#undef X_ENUM
	AC_COUNT
};

struct keydef {
	int		 lo, hi, keycode;
	const char	*label;
	int		 flags;
	unsigned	 sections;
	const char	*shrt;		/* on the bottom line */
	const char	*help;		/* on the ? screen */
};
extern const struct keydef keytab[AC_COUNT];

/* A scrollable text document (viewer.c): preview, diffs, test details, help. */
struct text {
	struct strv	 ln;
	char		*title;
	size_t		 top;
	int		 left;		/* columns scrolled off to the left (h/l) */
	bool		 diff;		/* colour +/-/@@ lines */
	char		*search;
};

/* Entries of an ini-backed section: line indices of section headers. */
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
struct jobs;

enum confirm_kind { CF_NONE, CF_QUIT, CF_DELETE, CF_PUSH, CF_TOGGLE, CF_SETALL_PROTO,
	CF_SETALL_STATE, CF_DELUSER, CF_DELUSERS };
enum prompt_kind { PR_NONE, PR_SEARCH, PR_FILTER, PR_LOADFILE };

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

	enum section	 sec;
	bool		 focus_detail;
	size_t		 cur[SEC_COUNT], top[SEC_COUNT];
	size_t		 dtop;		/* detail scroll of the selected entry */
	int		 list_y, list_h;	/* screen rows of the list drawn last
						 * (c->top[c->sec] is its first entry) */
	struct entries	 ent;		/* entries of the current section */

	char		*status;
	bool		 status_err;
	struct strv	 log;
	char		*search;	/* last search text */

	/* users view */
	uint32_t	*uf;		/* filtered user indices */
	size_t		 nuf, ufcap;
	char		*ufilter;	/* the filter text */
	char		*ufilter_prev;	/* while the filter prompt is open: Esc restores it */

	/* overlays, topmost first */
	enum confirm_kind confirm;
	char		*confirm_text;
	int		 confirm_arg;
	enum prompt_kind prompt;
	char		*prompt_label;
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

/* console.c */
/* Case-insensitive substring search (ASCII), like strcasestr. */
const char *str_icontains(const char *hay, const char *needle);
void	con_status(struct console *c, bool err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	con_log(struct console *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	con_refresh_entries(struct console *c);
/* Move a list cursor for UP/DOWN/PGUP/PGDN/TOP/BOTTOM; false for other actions. */
bool	list_move(size_t *cur, size_t n, enum action a, size_t page);

/* doc.c: the document and its edits. */
/* Copy the current document (serialize + parse). */
void	doc_copy(const struct console *c, struct ini *out);
/* Load buf as the new document into *out and lint it; returns findings in *d. */
int	doc_check(const struct console *c, const char *buf, size_t len, struct site **out,
	    struct diags *d);
/* Install a checked site as the current one (frees the old one). */
void	doc_install(struct console *c, struct site *s, struct diags *d);
/* Commit an edited copy: check, install, mark dirty. Returns the error count in the
 * line range [lo, hi] (1-based lines of the new document) and fills *d with the
 * findings when refused (errors in range): then nothing changes. */
int	doc_commit(struct console *c, struct ini *edited, long lo, long hi,
	    struct diags *d, bool force);
int	doc_save(struct console *c, char **cause);
/* Delete a section; one that was last in the file takes the blank line before it. */
void	doc_delete_section(struct ini *ini, const char *section, const char *sub);
/* The ini section types shown in a console section. */
bool	doc_section_in(enum section sec, const char *ini_section);
void	doc_entries(const struct console *c, enum section sec, struct entries *e);
/* Last line index (inclusive) of the section starting at hdr. */
long	doc_section_end(const struct ini *ini, long hdr);
/* Findings of the document on 1-based line (file = the profile). */
size_t	doc_findings(const struct console *c, int line, const struct diag **out,
	    size_t max);
void	doc_user_set(struct console *c, struct user *u, unsigned protos);
/* Apply the unsaved user changes (CSV deletions, CSV protocol toggles) to s, a site
 * freshly loaded from the document and the CSV on disk. */
void	doc_apply_pending(const struct console *c, struct site *s);
bool	doc_user_in_csv(const struct site *s, const struct user *u);
/* Remove the CSV users flagged in drop[] (one flag per user of c->site) from the
 * model; their records go on the next save. Refreshes the users filter. */
void	doc_delete_csv_users(struct console *c, const unsigned char *drop);

/* view-sections.c */
void	sections_draw(struct console *c, int y, int x, int h, int w);
void	sections_key(struct console *c, enum action a);
const char *entry_label(const struct console *c, long hdr, char *buf, size_t len);

/* view-users.c */
void	users_filter(struct console *c, const char *text);
void	users_draw(struct console *c, int y, int x, int h, int w);
void	users_key(struct console *c, enum action a);
void	users_toggle(struct console *c, int proto, int state, bool all);
/* Delete the selected user or every filtered one: [user] sections and CSV rows. */
void	users_delete(struct console *c, bool all);

/* form.c */
int	form_open_edit(struct console *c, long hdr);
int	form_open_add(struct console *c, enum section sec);
int	form_open_user(struct console *c, struct user *u);
void	form_close(struct console *c);
void	form_draw(struct console *c, int y, int x, int h, int w);
void	form_key(struct console *c, int iskey, wint_t wc);

/* viewer.c */
struct text *text_new(const char *title);
void	text_add(struct text *t, const char *s);	/* may hold newlines */
/* Like text_add, but the first nwrap lines wrap at the screen width. */
void	text_add_wrapped(struct text *t, const char *s, size_t nwrap);
void	text_free(struct text *t);
void	text_draw(struct text *t, int y, int x, int h, int w);
/* Returns false to close. */
bool	text_key(struct console *c, struct text *t, int iskey, wint_t wc, int h);
int	preview_open(struct console *c, const struct host *h);

/* view-hdrtest.c */
int	hdrtest_open(struct console *c, long hdr);
void	hdrtest_close(struct console *c);
void	hdrtest_draw(struct console *c, int y, int x, int h, int w);
void	hdrtest_key(struct console *c, int iskey, wint_t wc);
void	hdrtest_load(struct console *c, const char *path);

/* jobs.c: plan, push and live tests in the background. */
void	jobs_init(struct console *c);
void	jobs_free(struct console *c);
void	jobs_plan(struct console *c);
void	jobs_push(struct console *c);
void	jobs_test(struct console *c);
void	jobs_doctor(struct console *c);	/* read-only preflight per host, in Plan */
bool	jobs_drain(struct console *c);		/* true: something changed */
bool	jobs_busy(const struct console *c);	/* a plan or push runs */
bool	jobs_running(const struct console *c);	/* any job runs */
void	jobs_draw(struct console *c, enum section sec, int y, int x, int h, int w);
void	jobs_key(struct console *c, enum section sec, enum action a, int h);
size_t	jobs_count(const struct console *c, enum section sec);
/* The last test run's login verdict for user x protocol (the worst over its hosts):
 * -2 not tested, -1 pending, else enum probe_status. */
int	jobs_login_status(const struct console *c, const char *email, int proto);
bool	jobs_have_logins(const struct console *c);	/* the last run had login probes */

#endif
