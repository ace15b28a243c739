/* progress.h: the one updating status line on stderr while plan, apply, audit or test
 * runs on the command line ("7/20 hosts; gw4 validating"). Only when stderr is a
 * terminal and the output is the human one (no --json or other --format, no -q):
 * otherwise every call does nothing. It uses no escape sequence (a carriage return and
 * blanks: any terminal, TERM=dumb and NO_COLOR too). Not thread-safe: callers serialise (the fleet's
 * and the probe engine's callbacks are). */
#ifndef MXDECK_PROGRESS_H
#define MXDECK_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

struct cli;

struct progress_line {
	bool	 on;		/* drawing at all */
	bool	 shown;		/* a line is on the screen now */
	int	 cols;		/* terminal width */
	size_t	 len;		/* bytes of the line on the screen */
};

void progress_line_init(struct progress_line *p, const struct cli *cli);
/* Replace the line with this text (cut to the terminal's width, made printable). */
void progress_line_show(struct progress_line *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Erase the line (before other output to the terminal, and at the end). */
void progress_line_clear(struct progress_line *p);

#endif
