/* tty.h: the terminal (tty.c) and the one-line editor (form.c): drawing helpers every
 * console file may use. Includes nothing of the console. */
#ifndef MXDECK_TTY_H
#define MXDECK_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

enum style {
	ST_NORMAL, ST_TITLE, ST_BANNER, ST_SEL, ST_SELDIM, ST_ERR, ST_WARN, ST_OK,
	ST_DIM, ST_KEY, ST_ADD, ST_DEL, ST_HUNK, ST_HEAD, ST_FIELD, ST_COUNT
};

#define CTRL_KEY(c)	((c) & 0x1f)

/* The wheel: buttons 4 and 5. ncurses 6's extended mouse (version 2) has a real
 * BUTTON5; with version 1, button 5 comes as REPORT_MOUSE_POSITION's bit. */
#define MOUSE_WHEEL_UP		BUTTON4_PRESSED
#if defined(NCURSES_MOUSE_VERSION) && NCURSES_MOUSE_VERSION > 1
#define MOUSE_WHEEL_DOWN	BUTTON5_PRESSED
#else
#define MOUSE_WHEEL_DOWN	REPORT_MOUSE_POSITION
#endif

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

#endif
