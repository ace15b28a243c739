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
	p->len = 0;
	p->cols = 80;
	p->on = isatty(STDERR_FILENO) && !cli->json && cli->format == FMT_TEXT &&
	    !cli->quiet;
	if (p->on && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		p->cols = ws.ws_col;
}

/* Blanks over what is left of the previous line after n bytes. */
static void
blank_from(struct progress_line *p, size_t n)
{
	for (size_t i = n; i < p->len; i++)
		fputc(' ', stderr);
}

void
progress_line_show(struct progress_line *p, const char *fmt, ...)
{
	va_list ap;
	char *text;
	struct sbuf b;
	size_t n, max;

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
	max = p->cols > 1 ? (size_t)p->cols - 1 : 1;
	n = b.len < max ? b.len : max;
	fprintf(stderr, "\r%.*s", (int)n, b.s);
	blank_from(p, n);
	fflush(stderr);
	sb_free(&b);
	if (n > p->len)
		p->len = n;
	p->shown = true;
}

void
progress_line_clear(struct progress_line *p)
{
	if (!p->on || !p->shown)
		return;
	fputc('\r', stderr);
	blank_from(p, 0);
	fputc('\r', stderr);
	fflush(stderr);
	p->shown = false;
	p->len = 0;
}
