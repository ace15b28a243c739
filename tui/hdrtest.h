/* hdrtest.h: the header-rule tester overlay (view-hdrtest.c). */
#ifndef MXDECK_TUI_HDRTEST_H
#define MXDECK_TUI_HDRTEST_H

#include "tui/view.h"

/* Open the tester on the [header-rules] section whose header is line hdr. */
int	hdrtest_open(struct console *c, long hdr);
void	hdrtest_close(struct console *c);
void	hdrtest_draw(struct console *c, int y, int x, int h, int w);
void	hdrtest_key(struct console *c, int iskey, wint_t wc);

#endif
