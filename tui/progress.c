/* progress.c: the updating status line on stderr (progress.h). */
#include "tui/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tui/cli.h"
#include "tui/monitor.h"

void
progress_line_init(struct progress_line *p, const struct cli *cli)
{
	struct winsize ws;

	p->shown = false;
	p->cols = 80;
	p->on = isatty(STDERR_FILENO) && !cli->json && cli->format == FMT_TEXT &&
	    !cli->quiet;
	if (p->on && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		p->cols = ws.ws_col;
}

void
progress_line_show(struct progress_line *p, const char *fmt, ...)
{
	va_list ap;
	char *text;
	struct sbuf b;

	if (!p->on)
		return;
	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	sb_init(&b);
	/* host names and stages come from the profile: shown as printable text */
	sb_add_printable_n(&b, text, strlen(text), false);
	free(text);
	/* one column spare: writing the last one would wrap on some terminals */
	fprintf(stderr, "\r%.*s\033[K", p->cols > 1 ? p->cols - 1 : 1, b.s);
	fflush(stderr);
	sb_free(&b);
	p->shown = true;
}

void
progress_line_clear(struct progress_line *p)
{
	if (!p->on || !p->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = false;
}
