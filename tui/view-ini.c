/* view-ini.c: the generic view of profile sections. Site, Hosts, Vhosts, Autodiscover,
 * Header rules and TLS are six rows of it in views[] (tui/views.c), each naming the
 * sections it lists: a list of entries and, below it, the selected entry's lines
 * exactly as in the file, with lint findings under the line they are about. */
#include <curses.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/doc.h"
#include "tui/form.h"
#include "tui/hdrtest.h"
#include "tui/view.h"
#include "tui/viewer.h"

static const char *
entry_label(const struct console *c, long hdr, char *buf, size_t len)
{
	const struct ini_line *l = &c->site->ini.line[hdr];

	if (l->sub != NULL)
		snprintf(buf, len, "%s %s", l->section, l->sub);
	else
		snprintf(buf, len, "%s", l->section);
	return buf;
}

static void
entry_counts(const struct console *c, long hdr, size_t *nerr, size_t *nwarn)
{
	long end = doc_section_end(&c->site->ini, hdr);

	*nerr = *nwarn = 0;
	for (size_t i = 0; i < c->diags.n; i++) {
		const struct diag *g = &c->diags.v[i];

		if (g->file == NULL || strcmp(g->file, c->site->path) != 0 ||
		    g->line < hdr + 1 || g->line > end + 1)
			continue;
		if (g->sev == SEV_ERROR)
			(*nerr)++;
		else
			(*nwarn)++;
	}
}

static void
ini_draw(struct console *c, const struct view *v, int y, int x, int h, int w)
{
	size_t n = c->ent.n, *cur = &c->cur[c->view], *top = &c->top[c->view];
	int listh, dy;
	char buf[512];
	const struct ini *ini = &c->site->ini;
	long hdr, end;

	snprintf(buf, sizeof buf, "%s: %s", v->name, v->blurb);
	tty_put(y, x, w, buf, ST_HEAD);
	y++;
	h--;
	if (n == 0) {
		tty_put(y + 1, x, w, c->audit ? "(no entries)" :
		    "(no entries: a adds one)", ST_DIM);
		return;
	}
	if (*cur >= n)
		*cur = n - 1;
	listh = (int)n;
	if (listh > h / 3)
		listh = h / 3 > 3 ? h / 3 : 3;
	if (*cur < *top)
		*top = *cur;
	if (*cur >= *top + (size_t)listh)
		*top = *cur - (size_t)listh + 1;
	c->list_y = y;
	c->list_h = listh;
	for (int i = 0; i < listh && *top + (size_t)i < n; i++) {
		size_t k = *top + (size_t)i, ne, nw;
		enum style st = ST_NORMAL;
		char lab[300];

		entry_counts(c, c->ent.v[k], &ne, &nw);
		if (k == *cur)
			st = c->focus_detail ? ST_SEL : ST_SELDIM;
		snprintf(buf, sizeof buf, " %s %s", ne ? "!" : nw ? "~" : " ",
		    entry_label(c, c->ent.v[k], lab, sizeof lab));
		tty_fill(y + i, x, w, st);
		tty_put(y + i, x, w, buf, st);
		if (ne || nw) {
			snprintf(buf, sizeof buf, "%zu error%s %zu warning%s ", ne,
			    ne == 1 ? "" : "s", nw, nw == 1 ? "" : "s");
			tty_put(y + i, x + w - tty_width(buf), tty_width(buf), buf,
			    st == ST_NORMAL ? (ne ? ST_ERR : ST_WARN) : st);
		}
	}
	dy = y + listh;
	attrset(A_NORMAL);
	mvhline(dy, x, ACS_HLINE, w);
	dy++;

	hdr = c->ent.v[*cur];
	end = doc_section_end(ini, hdr);
	{
		/* Build the display lines lazily: line i of the section and its findings. */
		int row = 0, avail = y + h - dy;
		size_t skip, idx = 0, total = 0;

		for (long i = hdr; i <= end; i++) {	/* lines + findings, to clamp */
			const struct diag *f[8];

			total += 1 + doc_findings(c, (int)i + 1, f, nitems(f));
		}
		if (c->dtop + (size_t)avail > total)
			c->dtop = total > (size_t)avail ? total - (size_t)avail : 0;
		skip = c->dtop;

		for (long i = hdr; i <= end && row < avail; i++) {
			const struct diag *f[8];
			size_t nf = doc_findings(c, (int)i + 1, f, nitems(f));

			if (idx++ >= skip) {
				snprintf(buf, sizeof buf, "%4ld  ", i + 1);
				tty_put(dy + row, x, 6, buf, ST_DIM);
				tty_put(dy + row, x + 6, w - 6, ini->line[i].raw,
				    ini->line[i].kind == INI_SECTION ? ST_HEAD :
				    ini->line[i].kind == INI_COMMENT ? ST_DIM : ST_NORMAL);
				row++;
			}
			for (size_t j = 0; j < nf && row < avail; j++) {
				if (idx++ < skip)
					continue;
				snprintf(buf, sizeof buf, "      %s %s: %s",
				    f[j]->sev == SEV_ERROR ? "x" : "!",
				    f[j]->sev == SEV_ERROR ? "error" : "warning", f[j]->msg);
				tty_put(dy + row, x, w, buf, f[j]->sev == SEV_ERROR ? ST_ERR :
				    ST_WARN);
				row++;
			}
		}
		if (row == avail && end - hdr + 1 > (long)avail)
			tty_put(y + h - 1, x + w - 18, 18, " ^F/^B scroll ", ST_DIM);
	}
}


static long
cur_entry(const struct console *c)
{
	if (c->ent.n == 0 || c->cur[c->view] >= c->ent.n)
		return -1;
	return c->ent.v[c->cur[c->view]];
}

static void
delete_entry(struct console *c, wint_t answer, int arg)
{
	long hdr = cur_entry(c);
	const struct ini_line *l;
	char *sect, *sub;
	struct ini tmp;
	struct diags d;
	size_t before = c->diags.nerrors;

	(void)arg;
	if (answer != 'y' || hdr < 0) {
		con_status(c, false, answer == 27 ? "cancelled" : "nothing deleted");
		return;
	}
	l = &c->site->ini.line[hdr];
	sect = xstrdup(l->section);
	sub = l->sub ? xstrdup(l->sub) : NULL;
	doc_copy(c, &tmp);
	doc_delete_section(&tmp, sect, sub);
	doc_commit(c, &tmp, 0, 0, &d, true);
	ini_free(&tmp);
	diags_free(&d);
	con_log(c, "deleted [%s%s%s%s]", sect, sub ? " \"" : "", sub ? sub : "", sub ? "\"" : "");
	if (c->diags.nerrors > before)
		con_status(c, true, "deleted [%s %s]: the profile now has %zu error(s), see the "
		    "sections marked !", sect, sub ? sub : "", c->diags.nerrors);
	else
		con_status(c, false, "deleted [%s%s%s] (not saved yet: w saves)", sect,
		    sub ? " " : "", sub ? sub : "");
	free(sect);
	free(sub);
}

/* The host of the selected [host] entry, or NULL. */
static const struct host *
entry_host(const struct console *c, long hdr)
{
	const struct ini_line *l = &c->site->ini.line[hdr];

	return site_find_host(c->site, l->sub ? l->sub : "");
}

static void
ini_key(struct console *c, const struct view *v, enum action a, int h)
{
	size_t *cur = &c->cur[c->view], n = c->ent.n;
	long hdr = cur_entry(c);
	char buf[256];

	(void)h;
	switch (a) {
	case AC_UP:
	case AC_DOWN:
	case AC_TOP:
	case AC_BOTTOM:
		list_move(cur, n, a, 1);
		c->dtop = 0;
		return;
	case AC_PGDN:		/* pages scroll the selected entry's lines */
		c->dtop += 10;
		return;
	case AC_PGUP:
		c->dtop = c->dtop > 10 ? c->dtop - 10 : 0;
		return;
	case AC_ADD:
		if (v->add != NULL)
			form_open_add(c, v->add, v->add_name, strcmp(v->add, "connector") == 0 ?
			    " (Site: a adds a connector)" : "");
		return;
	default:
		break;
	}
	if (hdr < 0) {
		if (a == AC_HDRTEST)
			con_status(c, false, "no header rules: a adds a set");
		else if (a == AC_EDIT || a == AC_OPEN || a == AC_DELETE)
			con_status(c, false, "nothing selected");
		return;
	}
	switch (a) {
	case AC_OPEN:
		if (v->flags & VF_PREVIEW) {	/* a host: Enter previews */
			if (entry_host(c, hdr) != NULL)
				preview_open(c, entry_host(c, hdr));
			return;
		}
		/* FALLTHROUGH */
	case AC_EDIT:
		if (c->audit) {
			con_status(c, false, "read-only audit: nothing to edit");
			return;
		}
		form_open_edit(c, hdr);
		return;
	case AC_DELETE:
		con_ask(c, delete_entry, 0, "Delete %s with all its keys? [y] delete  [n/Esc] "
		    "keep", entry_label(c, hdr, buf, sizeof buf));
		return;
	case AC_PREVIEW:
		if (entry_host(c, hdr) == NULL)
			con_status(c, true, "host %s has errors: fix them first",
			    c->site->ini.line[hdr].sub);
		else
			preview_open(c, entry_host(c, hdr));
		return;
	case AC_HDRTEST:
		hdrtest_open(c, hdr);
		return;
	default:
		return;
	}
}

static size_t
ini_count(const struct console *c, const struct view *v, bool shown)
{
	struct entries e = { 0 };
	size_t n;

	if (shown && v == con_view(c))
		return c->ent.n;
	doc_entries(c, v->ini, &e);
	n = e.n;
	free(e.v);
	return n;
}

/* Shown row `row` matches when any line of its section does. */
static bool
ini_match(const struct console *c, const struct view *v, size_t row, const char *q)
{
	const struct ini *ini = &c->site->ini;
	long hdr, end;

	if (v != con_view(c) || row >= c->ent.n)
		return false;
	hdr = c->ent.v[row];
	end = doc_section_end(ini, hdr);
	for (long i = hdr; i <= end; i++)
		if (con_match(ini->line[i].raw, q))
			return true;
	return false;
}

/* One row of views[] per kind of profile section: name, blurb, the sections it lists,
 * the section `a` adds and its name field, extra flags. */
#define INI_SECS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define INI_VIEW(nm, bl, secs, addsec, addname, fl) {				\
	.name = nm, .blurb = bl, .ini = secs,					\
	.add = addsec, .add_name = addname, .flags = VF_LIST | VF_EDIT | (fl),	\
	.count = ini_count, .draw = ini_draw, .key = ini_key, .match = ini_match }

const struct view view_site = INI_VIEW("Site",
    "site-wide settings: [site], [access], [users] defaults, connectors",
    INI_SECS("site", "access", "users", "connector"), "connector", "domain", 0);
const struct view view_hosts = INI_VIEW("Hosts",
    "gateways: Enter or v previews the rendered files",
    INI_SECS("host"), "host", "name", VF_PREVIEW);
const struct view view_vhosts = INI_VIEW("Vhosts",
    "reverse-proxy virtual hosts in front of Exchange",
    INI_SECS("vhost"), "vhost", "public name", 0);
const struct view view_autodiscover = INI_VIEW("Autodiscover",
    "Outlook Autodiscover and Mozilla autoconfig domains",
    INI_SECS("autodiscover"), "autodiscover", "domain", 0);
const struct view view_hrules = INI_VIEW("Header rules",
    "Postfix header_checks: T tests them on a header block",
    INI_SECS("header-rules"), "header-rules", "domain", VF_HDRTEST);
const struct view view_tls = INI_VIEW("TLS",
    "TLS policy, DANE and TLSA, MTA-STS and TLS-RPT",
    INI_SECS("tls", "mta-sts"), "tls", "domain", 0);
