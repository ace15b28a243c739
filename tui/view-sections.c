/* view-sections.c: the sections backed by profile sections (Site, Hosts, Vhosts,
 * Autodiscover, Header rules, TLS): a list of entries and, below it, the selected
 * entry's lines exactly as in the file, with lint findings under the line they are
 * about. */
#include <curses.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/console.h"

static const char *const section_blurb[SEC_COUNT] = {
	[SEC_SITE] = "site-wide settings: [site], [access], [users] defaults, connectors",
	[SEC_HOSTS] = "gateways: Enter or v previews the rendered files",
	[SEC_VHOSTS] = "reverse-proxy virtual hosts in front of Exchange",
	[SEC_AUTODISCOVER] = "Outlook Autodiscover and Mozilla autoconfig domains",
	[SEC_HRULES] = "Postfix header_checks: T tests them on a header block",
	[SEC_TLS] = "TLS policy, DANE and TLSA",
};

const char *
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

void
sections_draw(struct console *c, int y, int x, int h, int w)
{
	size_t n = c->ent.n, *cur = &c->cur[c->sec], *top = &c->top[c->sec];
	int listh, dy;
	char buf[512];
	const struct ini *ini = &c->site->ini;
	long hdr, end;

	snprintf(buf, sizeof buf, "%s: %s", section_names[c->sec],
	    section_blurb[c->sec] ? section_blurb[c->sec] : "");
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

void
sections_key(struct console *c, enum action a)
{
	size_t *cur = &c->cur[c->sec], n = c->ent.n;

	switch (a) {
	case AC_UP:
		if (*cur > 0)
			(*cur)--;
		c->dtop = 0;
		break;
	case AC_DOWN:
		if (*cur + 1 < n)
			(*cur)++;
		c->dtop = 0;
		break;
	case AC_TOP:
		*cur = 0;
		c->dtop = 0;
		break;
	case AC_BOTTOM:
		*cur = n > 0 ? n - 1 : 0;
		c->dtop = 0;
		break;
	case AC_PGDN:
		c->dtop += 10;
		break;
	case AC_PGUP:
		c->dtop = c->dtop > 10 ? c->dtop - 10 : 0;
		break;
	default:
		break;
	}
}
