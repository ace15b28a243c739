/* form.h: the edit form overlay (form.c). */
#ifndef MXDECK_FORM_H
#define MXDECK_FORM_H

#include "tui/view.h"

int	form_open_edit(struct console *c, long hdr);
/* Add a [section] (named: the first field, labelled name_label, is its name);
 * title_note is added to the title (may be ""). */
int	form_open_add(struct console *c, const char *section, const char *name_label,
	    const char *title_note);
int	form_open_user(struct console *c, struct user *u);
void	form_close(struct console *c);
void	form_draw(struct console *c, int y, int x, int h, int w);
void	form_key(struct console *c, int iskey, wint_t wc);

#endif
