/* view-findings.c: the Findings view, every finding of `mxdeck lint` on the current
 * document in one list (errors first, as lint sorts them); Enter goes to the profile
 * section the finding is about, f keeps the errors only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/doc.h"
#include "tui/view.h"
#include "tui/viewer.h"

/* The finding on shown row `row` (f: errors only), or NULL. */
static const struct diag *
finding(const struct console *c, const struct view *v, size_t row)
{
	bool errors = c->fails_only[con_view_index(v)];

	for (size_t i = 0; i < c->diags.n; i++)
		if ((!errors || c->diags.v[i].sev == SEV_ERROR) && row-- == 0)
			return &c->diags.v[i];
	return NULL;
}

static size_t
findings_count(const struct console *c, const struct view *v, bool shown)
{
	if (shown && c->fails_only[con_view_index(v)])
		return c->diags.nerrors;
	return c->diags.n;
}

static void
findings_draw(struct console *c, const struct view *v, int y, int x, int h, int w)
{
	size_t n = findings_count(c, v, true), *cur = &c->cur[c->view], *top = &c->top[c->view];
	char buf[1024];
	int rows = h - 2;

	snprintf(buf, sizeof buf, "%s: %zu error%s, %zu warning%s%s", v->blurb,
	    c->diags.nerrors, c->diags.nerrors == 1 ? "" : "s", c->diags.nwarnings,
	    c->diags.nwarnings == 1 ? "" : "s", c->fails_only[c->view] ?
	    " (errors only: f shows all)" : "");
	tty_put(y, x, w, buf, ST_HEAD);
	y += 2;
	if (n == 0) {
		tty_put(y, x, w, "(nothing to report)", ST_DIM);
		return;
	}
	list_clamp(cur, top, n, rows);
	c->list_y = y;
	c->list_h = rows;
	for (int i = 0; i < rows && *top + (size_t)i < n; i++) {
		const struct diag *g = finding(c, v, *top + (size_t)i);
		bool sel = *top + (size_t)i == *cur;
		enum style st = sel ? (c->focus_detail ? ST_SEL : ST_SELDIM) : ST_NORMAL;
		const char *base = g->file != NULL ? strrchr(g->file, '/') : NULL;

		base = base != NULL ? base + 1 : g->file != NULL ? g->file : "";
		if (sel)
			tty_fill(y + i, x, w, st);
		snprintf(buf, sizeof buf, "%s:%d: %s", base, g->line, g->msg);
		tty_put(y + i, x, 8, g->sev == SEV_ERROR ? "error" : "warning", sel ? st :
		    g->sev == SEV_ERROR ? ST_ERR : ST_WARN);
		tty_put(y + i, x + 8, w - 8, buf, st);
	}
}

/* Enter: the profile section holding the finding's line, in the view that lists it;
 * a finding about another file (the users CSV) opens in the viewer. */
static void
findings_key(struct console *c, const struct view *v, enum action a, int h)
{
	size_t *cur = &c->cur[c->view], n = findings_count(c, v, true);
	const struct diag *g;
	struct text *t;
	char *s;

	if (a == AC_FAILS) {
		c->fails_only[c->view] = !c->fails_only[c->view];
		*cur = c->top[c->view] = 0;
		return;
	}
	if (list_move(cur, n, a, (size_t)h) || a != AC_OPEN ||
	    (g = finding(c, v, *cur)) == NULL)
		return;
	if (g->file != NULL && strcmp(g->file, c->site->path) == 0 && g->line > 0) {
		for (size_t i = 0; i < nviews; i++) {
			struct entries e = { 0 };

			doc_entries(c, views[i]->ini, &e);
			for (size_t k = e.n; k-- > 0;) {
				if (e.v[k] > g->line - 1)
					continue;
				if (doc_section_end(&c->site->ini, e.v[k]) < g->line - 1)
					break;
				free(e.v);
				con_show_view(c, views[i]);
				c->cur[c->view] = k;
				c->dtop = (size_t)(g->line - 1 - c->ent.v[k]);
				return;
			}
			free(e.v);
		}
	}
	s = xasprintf("%s:%d: %s: %s", g->file ? g->file : "", g->line,
	    g->sev == SEV_ERROR ? "error" : "warning", g->msg);
	t = text_new("Finding");
	text_add_wrapped(t, s, 1);
	free(s);
	con_open_text(c, t);
}

static bool
findings_match(const struct console *c, const struct view *v, size_t row, const char *q)
{
	const struct diag *g = finding(c, v, row);

	return g != NULL && (con_match(g->msg, q) || con_match(g->file, q));
}

const struct view view_findings = {
	.name = "Findings", .blurb = "Findings of mxdeck lint", .flags = VF_LIST | VF_FAILS,
	.count = findings_count, .draw = findings_draw, .key = findings_key,
	.match = findings_match,
};
