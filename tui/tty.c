/* tty.c: the only file that sets up and restores the terminal.
 *
 * Lifecycle after tig/htop: refuse a non-terminal stdout and unusable TERM before any
 * curses call (setupterm + tigetstr("cup"), so TERM=dumb is refused too), newterm()
 * rather than initscr() (which exits by itself), a short ESCDELAY, NO_COLOR honoured.
 * The terminal is restored by atexit, by SIGINT/SIGTERM/SIGHUP (which only set a flag
 * and wake the main loop through a self-pipe; the loop then exits normally) and by the
 * crash signals (endwin first, then the default action). Resizes come only through
 * KEY_RESIZE in the main loop: we never install a SIGWINCH handler. Mouse reporting
 * (button 1 and the wheel) is on unless MXDECK_NO_MOUSE is set; endwin() turns it off
 * with the rest of the modes. */
#include <curses.h>
#include <term.h>

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "profiles/util.h"
#include "tui/tty.h"

static SCREEN *tty_screen;
static bool tty_open_flag;
static bool tty_atexit_done;
static int tty_pipe[2] = { -1, -1 };
static volatile sig_atomic_t tty_sig;
static attr_t tty_attrs[ST_COUNT];
static bool tty_mouse_on;

static void
tty_restore(void)
{
	if (tty_open_flag) {
		tty_open_flag = false;
		curs_set(1);
		endwin();
		fflush(stdout);
	}
}

static void
tty_atexit(void)
{
	tty_restore();
}

static void
tty_quit_signal(int sig)
{
	int saved = errno;

	tty_sig = sig;
	tty_wakeup();
	errno = saved;
}

static void
tty_crash_signal(int sig)
{
	/* Not async-signal-safe, like htop's: the terminal matters more than purity
	 * when the process is about to die anyway. */
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
tty_signals(void)
{
	static const int quit[] = { SIGINT, SIGTERM, SIGHUP };
	static const int crash[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = tty_quit_signal;
	for (size_t i = 0; i < nitems(quit); i++)
		sigaction(quit[i], &sa, NULL);
	sa.sa_handler = tty_crash_signal;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < nitems(crash); i++)
		sigaction(crash[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
tty_styles(bool color)
{
	static const struct { short fg, bg; attr_t mono, extra; } def[ST_COUNT] = {
		[ST_NORMAL] = { -1, -1, A_NORMAL, 0 },
		[ST_TITLE] = { COLOR_WHITE, COLOR_BLUE, A_REVERSE, A_BOLD },
		[ST_BANNER] = { COLOR_WHITE, COLOR_RED, A_REVERSE | A_BOLD, A_BOLD },
		[ST_SEL] = { COLOR_BLACK, COLOR_CYAN, A_REVERSE, 0 },
		[ST_SELDIM] = { -1, -1, A_UNDERLINE, A_REVERSE },
		[ST_ERR] = { COLOR_RED, -1, A_BOLD, A_BOLD },
		[ST_WARN] = { COLOR_YELLOW, -1, A_BOLD, 0 },
		[ST_OK] = { COLOR_GREEN, -1, A_NORMAL, 0 },
		[ST_DIM] = { COLOR_BLUE, -1, A_DIM, A_BOLD },
		[ST_KEY] = { COLOR_CYAN, -1, A_BOLD, A_BOLD },
		[ST_ADD] = { COLOR_GREEN, -1, A_BOLD, 0 },
		[ST_DEL] = { COLOR_RED, -1, A_UNDERLINE, 0 },
		[ST_HUNK] = { COLOR_CYAN, -1, A_DIM, 0 },
		[ST_HEAD] = { COLOR_MAGENTA, -1, A_BOLD, A_BOLD },
		[ST_FIELD] = { COLOR_BLACK, COLOR_WHITE, A_UNDERLINE, 0 },
	};

	for (int i = 0; i < ST_COUNT; i++) {
		if (!color) {
			tty_attrs[i] = def[i].mono;
			continue;
		}
		if (i == ST_NORMAL) {
			tty_attrs[i] = A_NORMAL;
			continue;
		}
		init_pair((short)i, def[i].fg, def[i].bg);
		tty_attrs[i] = COLOR_PAIR(i) | def[i].extra;
	}
}

/* Mouse reporting for clicks and the wheel, unless MXDECK_NO_MOUSE is set (to anything
 * but 0): then the terminal keeps its own text selection. mouseinterval 0: no wait to
 * tell a click from a press; the console acts on the release. Both press and release
 * are in the mask: when they arrive together getmouse() returns the release, and an
 * unwanted event would make ncurses drop it and wait for more input. endwin()
 * switches the reporting off again on every exit path. */
static void
tty_mouse_setup(void)
{
	const char *off = getenv("MXDECK_NO_MOUSE");

	tty_mouse_on = false;
	if (off != NULL && *off != '\0' && strcmp(off, "0") != 0)
		return;
	mouseinterval(0);
	tty_mouse_on = mousemask(BUTTON1_PRESSED | BUTTON1_RELEASED | MOUSE_WHEEL_UP |
	    MOUSE_WHEEL_DOWN, NULL) != 0;
}

bool
tty_mouse(void)
{
	return tty_mouse_on;
}

int
tty_open(bool no_color, char **cause)
{
	const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");
	char *cup;
	int err = 0;
	bool color;

	setlocale(LC_ALL, "");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		*cause = xstrdup("the console needs a terminal on stdin and stdout; for "
		    "scripts use `mxdeck lint|render|plan|apply|test PROFILE`");
		return -1;
	}
	if (term == NULL || *term == '\0') {
		*cause = xstrdup("TERM is not set: set it to your terminal type, e.g. "
		    "TERM=xterm-256color");
		return -1;
	}
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK) {
		*cause = xasprintf("unusable terminal TERM=%s: %s; set TERM to a type "
		    "this system knows (see `toe -a`), e.g. xterm-256color", term,
		    err == 0 ? "no terminfo entry" : "terminfo database not found");
		return -1;
	}
	cup = tigetstr("cup");
	if (cup == NULL || cup == (char *)-1) {
		del_curterm(cur_term);
		*cause = xasprintf("TERM=%s cannot move the cursor (a dumb terminal): the "
		    "console needs a full-screen terminal, e.g. TERM=xterm-256color", term);
		return -1;
	}
	del_curterm(cur_term);

	if (tty_pipe[0] == -1) {
		if (pipe(tty_pipe) == -1) {
			*cause = xasprintf("pipe: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < 2; i++) {
			fcntl(tty_pipe[i], F_SETFL, fcntl(tty_pipe[i], F_GETFL) | O_NONBLOCK);
			fcntl(tty_pipe[i], F_SETFD, FD_CLOEXEC);
		}
	}
	if (!tty_atexit_done) {
		atexit(tty_atexit);
		tty_atexit_done = true;
	}
	tty_signals();

	set_escdelay(25);
	tty_screen = newterm(NULL, stdout, stdin);
	if (tty_screen == NULL) {
		*cause = xasprintf("cannot initialise the terminal TERM=%s", term);
		return -1;
	}
	tty_open_flag = true;
	set_escdelay(25);
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	tty_mouse_setup();

	color = !no_color && (nc == NULL || *nc == '\0') && has_colors();
	if (color) {
		start_color();
		use_default_colors();
		if (COLORS < 8 || COLOR_PAIRS < ST_COUNT)
			color = false;
	}
	tty_styles(color);
	return 0;
}

void
tty_close(void)
{
	tty_restore();
	if (tty_screen != NULL) {
		delscreen(tty_screen);
		tty_screen = NULL;
	}
}

bool
tty_is_open(void)
{
	return tty_open_flag;
}

int
tty_wakeup_fd(void)
{
	return tty_pipe[0];
}

void
tty_wakeup(void)
{
	if (tty_pipe[1] != -1) {
		ssize_t r = write(tty_pipe[1], "x", 1);

		(void)r;
	}
}

int
tty_signalled(void)
{
	return tty_sig;
}

/* Decode one character at s (n bytes left): returns its length (>= 1), *wc and its
 * display width. Invalid characters and what the terminal sanitizer calls unsafe
 * (controls, C1, bidi controls, line separators: util.h text_cp_unsafe) become '?'. */
static size_t
tty_decode(const char *s, size_t n, wchar_t *wc, int *width)
{
	mbstate_t ps;
	size_t r;
	int wd;

	memset(&ps, 0, sizeof ps);
	r = mbrtowc(wc, s, n, &ps);
	if (r == (size_t)-1 || r == (size_t)-2 || r == 0) {
		*wc = L'?';
		*width = 1;
		return 1;
	}
	wd = wcwidth(*wc);
	if (wd < 0 || text_cp_unsafe((unsigned)*wc)) {
		*wc = L'?';
		wd = 1;
	}
	*width = wd;
	return r;
}

int
tty_put(int y, int x, int w, const char *s, enum style st)
{
	size_t n = strlen(s), i = 0;
	int used = 0;

	if (w <= 0)
		return 0;
	attrset(tty_attrs[st]);
	move(y, x);
	while (i < n && used < w) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f) {
			size_t j = i;

			while (j < n && (unsigned char)s[j] >= 0x20 &&
			    (unsigned char)s[j] < 0x7f && used + (int)(j - i) < w)
				j++;
			addnstr(s + i, (int)(j - i));
			used += (int)(j - i);
			i = j;
			continue;
		}
		if (ch == '\t') {
			int t = 8 - (used % 8);

			while (t-- > 0 && used < w) {
				addch(' ');
				used++;
			}
			i++;
			continue;
		}
		{
			wchar_t wc[2];
			int wd;
			size_t len = tty_decode(s + i, n - i, &wc[0], &wd);
			cchar_t cc;

			if (used + wd > w)
				break;
			wc[1] = L'\0';
			setcchar(&cc, wc, tty_attrs[st], 0, NULL);
			if (wd > 0)
				add_wch(&cc);
			used += wd;
			i += len;
		}
	}
	attrset(A_NORMAL);
	return used;
}

void
tty_fill(int y, int x, int w, enum style st)
{
	if (w <= 0)
		return;
	attrset(tty_attrs[st]);
	mvhline(y, x, ' ', w);
	attrset(A_NORMAL);
}

int
tty_width(const char *s)
{
	size_t n = strlen(s), i = 0;
	int used = 0;

	while (i < n) {
		wchar_t wc;
		int wd;

		if ((unsigned char)s[i] < 0x80) {
			used += s[i] == '\t' ? 8 - used % 8 : 1;
			i++;
			continue;
		}
		i += tty_decode(s + i, n - i, &wc, &wd);
		used += wd;
	}
	return used;
}

size_t
tty_fit(const char *s, int w)
{
	size_t n = strlen(s), i = 0;
	int used = 0;

	while (i < n) {
		wchar_t wc;
		int wd;
		size_t len;

		if ((unsigned char)s[i] < 0x80) {
			len = 1;
			wd = 1;
		} else
			len = tty_decode(s + i, n - i, &wc, &wd);
		if (used + wd > w)
			break;
		used += wd;
		i += len;
	}
	return i;
}
