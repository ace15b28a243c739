/* view-jobs.c: the Plan and Tests views over the rows of the background jobs
 * (jobs.c): columns sized to the pane and the content, / searches the row text, f shows
 * the failed rows only, Enter opens a host's diff or a test's details. */
#include <stdio.h>
#include <stdlib.h>

#include "tui/jobs-int.h"
#include "tui/view.h"
#include "tui/viewer.h"

static bool
is_plan(const struct view *v)
{
	return v == &view_plan;
}

/* A row that f keeps: a host whose push or doctor did not end well, whose plan failed
 * (refused, unreachable, locked: exit 2 and up; changes are what a plan is for), or
 * whose audit found drift or failed; a test that said FAIL or warn. */
static bool
row_failed(const struct jobs *j, bool plan, size_t k)
{
	if (plan) {
		const struct hostrow *h = &j->hosts[k];

		if (!h->done || h->exit == 0)
			return false;
		return h->exit != 1 || j->plan_kind != J_PLAN || j->plan_mode == PUSH_AUDIT;
	}
	return j->tests[k].status == PROBE_FAIL || j->tests[k].status == PROBE_WARN;
}

static size_t
rows_all(const struct jobs *j, bool plan)
{
	return j == NULL ? 0 : plan ? j->nhosts : j->ntests;
}

static size_t
jobs_count(const struct console *c, const struct view *v, bool shown)
{
	const struct jobs *j = c->jobs;
	bool plan = is_plan(v);
	size_t n = rows_all(j, plan), m = 0;

	if (!shown || !c->fails_only[con_view_index(v)])
		return n;
	for (size_t k = 0; k < n; k++)
		m += row_failed(j, plan, k);
	return m;
}

/* The host or test shown on row `row`, or (size_t)-1. */
static size_t
row_index(const struct console *c, const struct view *v, size_t row)
{
	const struct jobs *j = c->jobs;
	bool plan = is_plan(v);
	size_t n = rows_all(j, plan);

	if (!c->fails_only[con_view_index(v)])
		return row < n ? row : (size_t)-1;
	for (size_t k = 0; k < n; k++)
		if (row_failed(j, plan, k) && row-- == 0)
			return k;
	return (size_t)-1;
}

static const char *
status_word(int s)
{
	return s == PROBE_OK ? "ok" : s == PROBE_WARN ? "warn" : s == PROBE_FAIL ? "FAIL" :
	    "...";
}

static int
maxw(int a, const char *s)
{
	int w = s != NULL ? tty_width(s) : 0;

	return w > a ? w : a;
}

/* Shrink the widest of the n columns in width[] until their sum is at most avail
 * (never below min each). */
static void
fit_columns(int *width, int n, int avail, int min)
{
	for (;;) {
		int sum = 0, wi = 0;

		for (int i = 0; i < n; i++) {
			sum += width[i];
			if (width[i] > width[wi])
				wi = i;
		}
		if (sum <= avail || width[wi] <= min)
			return;
		width[wi]--;
	}
}

/* The column widths of the rows: Plan {host, state}, Tests {kind, name, target}. Each
 * is as wide as its widest cell, and the summary after them keeps at least a third of
 * the pane. */
static void
column_widths(const struct jobs *j, bool plan, int w, int *width)
{
	int avail = w - w / 3;

	if (plan) {
		width[0] = 4;
		width[1] = 10;
		for (size_t k = 0; k < j->nhosts; k++) {
			width[0] = maxw(width[0], j->hosts[k].name);
			width[1] = maxw(width[1], j->hosts[k].state);
		}
		width[1] += 5;		/* "12s " before the state of a running host */
		fit_columns(width, 2, avail - 2, 8);
		return;
	}
	width[0] = 4;
	width[1] = 4;
	width[2] = 6;
	for (size_t k = 0; k < j->ntests; k++) {
		width[0] = maxw(width[0], j->tests[k].kind);
		width[1] = maxw(width[1], j->tests[k].name);
		width[2] = maxw(width[2], j->tests[k].target);
	}
	fit_columns(width, 3, avail - 5 - 4, 6);
}

/* Draw s in exactly w columns (clipped or padded) at (y, x); returns w + 1. */
static int
cell(int y, int x, int w, const char *s, enum style st)
{
	tty_put(y, x, w, s != NULL ? s : "", st);
	return w + 1;
}

static void
jobs_draw(struct console *c, const struct view *v, int y, int x, int h, int w)
{
	struct jobs *j = c->jobs;
	bool plan = is_plan(v), fails = c->fails_only[c->view];
	size_t n = jobs_count(c, v, true), *cur = &c->cur[c->view], *top = &c->top[c->view];
	char buf[1024];
	int rows = h - 2, width[3];

	if (plan) {
		tty_put(y, x, w, j->plan_title ? j->plan_title : "Plan: p shows what a push "
		    "would change on every host (a unified diff per host)", ST_HEAD);
		if (!c->audit && j->plan_title == NULL)
			tty_put(y + 1, x, w, "P pushes (asks first); progress shows here, per "
			    "host, while it runs", ST_DIM);
	} else {
		if (j->test_title != NULL) {
			snprintf(buf, sizeof buf, "%s   ok %zu  warn %zu  fail %zu  pending %zu",
			    j->test_title, j->nok, j->nwarn, j->nfail,
			    j->ntests - j->nok - j->nwarn - j->nfail);
			tty_put(y, x, w, buf, ST_HEAD);
		} else
			tty_put(y, x, w, "Tests: t runs the live tests; results fill in as they "
			    "arrive, Enter shows the details", ST_HEAD);
	}
	if (fails) {
		snprintf(buf, sizeof buf, "failures only: %zu of %zu %s (f shows all)", n,
		    rows_all(j, plan), plan ? "hosts" : "tests");
		tty_put(y + 1, x, w, buf, ST_WARN);
	}
	y += 2;
	if (n == 0) {
		if (fails && rows_all(j, plan) > 0)
			tty_put(y, x, w, "(no failures)", ST_DIM);
		return;
	}
	list_clamp(cur, top, n, rows);
	c->list_y = y;
	c->list_h = rows;
	column_widths(j, plan, w, width);
	for (int i = 0; i < rows && *top + (size_t)i < n; i++) {
		size_t k = row_index(c, v, *top + (size_t)i);
		bool sel = *top + (size_t)i == *cur;
		enum style st = sel ? (c->focus_detail ? ST_SEL : ST_SELDIM) : ST_NORMAL;
		int cx = x;

		if (k == (size_t)-1)
			break;
		if (sel)
			tty_fill(y + i, x, w, st);
		if (plan) {
			const struct hostrow *hr = &j->hosts[k];

			cx += cell(y + i, cx, width[0], hr->name, st);
			if (!hr->done && hr->t0 > 0)	/* running: show it is alive */
				snprintf(buf, sizeof buf, "%3.0fs %s", jobs_now() - hr->t0,
				    hr->state ? hr->state : "");
			else
				snprintf(buf, sizeof buf, "%s", hr->state ? hr->state : "");
			cx += cell(y + i, cx, width[1], buf, sel ? st : !hr->done ? ST_WARN :
			    hr->exit == 0 ? ST_OK : ST_ERR);
			tty_put(y + i, cx, x + w - cx, hr->summary ? hr->summary : "", st);
		} else {
			const struct testrow *t = &j->tests[k];

			cx += cell(y + i, cx, 5, status_word(t->status), sel ? st :
			    t->status == PROBE_OK ? ST_OK : t->status == PROBE_WARN ? ST_WARN :
			    t->status == PROBE_FAIL ? ST_ERR : ST_DIM);
			cx += cell(y + i, cx, width[0], t->kind, st);
			cx += cell(y + i, cx, width[1], t->name, st);
			cx += cell(y + i, cx, width[2], t->target, st);
			tty_put(y + i, cx, x + w - cx, t->summary ? t->summary : "", st);
		}
	}
}

static void
jobs_key(struct console *c, const struct view *v, enum action a, int h)
{
	struct jobs *j = c->jobs;
	size_t *cur = &c->cur[c->view], n = jobs_count(c, v, true), k;
	struct text *t;
	char *title;

	if (a == AC_FAILS) {
		c->fails_only[c->view] = !c->fails_only[c->view];
		*cur = c->top[c->view] = 0;
		if (c->fails_only[c->view])
			con_status(c, false, "failures only: %zu of %zu (f shows all)",
			    jobs_count(c, v, true), jobs_count(c, v, false));
		else
			con_status(c, false, "all %zu rows (f shows the failures only)",
			    jobs_count(c, v, false));
		return;
	}
	if (list_move(cur, n, a, (size_t)h) || a != AC_OPEN || n == 0 || *cur >= n)
		return;
	if ((k = row_index(c, v, *cur)) == (size_t)-1)
		return;
	if (is_plan(v)) {
		const struct hostrow *hr = &j->hosts[k];

		title = xasprintf("%s of host %s: %s", j->plan_kind == J_PUSH ? "Push" : "Plan",
		    hr->name, hr->summary ? hr->summary : hr->state);
		t = text_new(title);
		t->diff = true;
		text_add_wrapped(t, hr->diff != NULL && *hr->diff ? hr->diff : hr->done ?
		    "(no changes)" : "(still running)", 8);
	} else {
		const struct testrow *tr = &j->tests[k];

		title = xasprintf("Test %s %s -> %s: %s", tr->kind, tr->name, tr->target,
		    status_word(tr->status));
		t = text_new(title);
		text_add_wrapped(t, tr->summary ? tr->summary : "(still running)", 100);
		if (tr->host != NULL) {
			char *s = xasprintf("host: %s   duration: %.3f s", tr->host, tr->duration);

			text_add(t, s);
			free(s);
		}
		text_add(t, "");
		if (tr->details != NULL && *tr->details)
			text_add_wrapped(t, tr->details, 1000);
	}
	free(title);
	con_open_text(c, t);
}

/* The row text: Plan host, state and summary; Tests status, kind, name, target and
 * summary. */
static bool
jobs_match(const struct console *c, const struct view *v, size_t row, const char *q)
{
	const struct jobs *j = c->jobs;
	size_t k = row_index(c, v, row);

	if (k == (size_t)-1)
		return false;
	if (is_plan(v)) {
		const struct hostrow *hr = &j->hosts[k];

		return con_match(hr->name, q) || (hr->state && con_match(hr->state, q)) ||
		    (hr->summary && con_match(hr->summary, q));
	}
	return con_match(status_word(j->tests[k].status), q) ||
	    con_match(j->tests[k].kind, q) || con_match(j->tests[k].name, q) ||
	    con_match(j->tests[k].target, q) ||
	    (j->tests[k].summary && con_match(j->tests[k].summary, q));
}

const struct view view_plan = {
	.name = "Plan", .blurb = "plan, push, audit and doctor: one row per host",
	.flags = VF_LIST | VF_FAILS,
	.count = jobs_count, .draw = jobs_draw, .key = jobs_key, .match = jobs_match,
};

const struct view view_tests = {
	.name = "Tests", .blurb = "live tests: one row per probe",
	.flags = VF_LIST | VF_FAILS,
	.count = jobs_count, .draw = jobs_draw, .key = jobs_key, .match = jobs_match,
};
