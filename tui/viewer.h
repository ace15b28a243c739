/* viewer.h: a scrollable text document (viewer.c): preview, diffs, test details, help. */
#ifndef MXDECK_VIEWER_H
#define MXDECK_VIEWER_H

#include "tui/view.h"

struct text {
	struct strv	 ln;
	char		*title;
	size_t		 top;
	int		 left;		/* columns scrolled off to the left (h/l) */
	bool		 diff;		/* colour +/-/@@ lines */
	char		*search;
};

struct text *text_new(const char *title);
void	text_add(struct text *t, const char *s);	/* may hold newlines */
/* Like text_add, but the first nwrap lines wrap at the screen width. */
void	text_add_wrapped(struct text *t, const char *s, size_t nwrap);
void	text_free(struct text *t);
void	text_draw(struct text *t, int y, int x, int h, int w);
/* Returns false to close. */
bool	text_key(struct console *c, struct text *t, int iskey, wint_t wc, int h);
/* Open the viewer on the rendered files of h. */
int	preview_open(struct console *c, const struct host *h);

#endif
