/* view-log.c: the Log view, every event of this session (con_log()); Enter shows an
 * entry whole. */
#include "tui/view.h"
#include "tui/viewer.h"

static size_t
log_count(const struct console *c, const struct view *v, bool shown)
{
	(void)v;
	(void)shown;
	return c->log.n;
}

static void
log_draw(struct console *c, const struct view *v, int y, int x, int h, int w)
{
	size_t *cur = &c->cur[c->view], *top = &c->top[c->view];

	tty_put(y, x, w, v->blurb, ST_HEAD);
	y++;
	h--;
	if (c->log.n == 0) {
		tty_put(y, x, w, "(nothing happened yet)", ST_DIM);
		return;
	}
	list_clamp(cur, top, c->log.n, h);
	c->list_y = y;
	c->list_h = h;
	for (int i = 0; i < h && *top + (size_t)i < c->log.n; i++) {
		size_t k = *top + (size_t)i;
		enum style st = k == *cur && c->focus_detail ? ST_SEL : ST_NORMAL;

		if (st == ST_SEL)
			tty_fill(y + i, x, w, st);
		tty_put(y + i, x, w, c->log.v[k], st);
	}
}

static void
log_key(struct console *c, const struct view *v, enum action a, int h)
{
	size_t *cur = &c->cur[c->view], n = c->log.n;
	struct text *t;

	(void)v;
	if (n == 0 || list_move(cur, n, a, (size_t)h) || a != AC_OPEN)
		return;
	t = text_new("Log entry");
	text_add_wrapped(t, c->log.v[*cur], 1);	/* long errors: readable whole */
	con_open_text(c, t);
}

static bool
log_match(const struct console *c, const struct view *v, size_t row, const char *q)
{
	(void)v;
	return row < c->log.n && con_match(c->log.v[row], q);
}

const struct view view_log = {
	.name = "Log", .blurb = "Log: every event of this session", .flags = VF_LIST,
	.count = log_count, .draw = log_draw, .key = log_key, .match = log_match,
};
