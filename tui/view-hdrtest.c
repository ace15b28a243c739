/* view-hdrtest.c: the header-rule tester. The admin types, pastes (^O: loads) a
 * header block; every change re-runs the selected rule set through profiles/hdrtest
 * (Postfix semantics: folded lines joined, one rule per logical header, first match
 * wins) and shows, header by header, which rule matched and what comes out. */
#include <curses.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/hdrtest.h"
#include "tui/hdrtest.h"
#include "tui/view.h"
#include "tui/viewer.h"

struct hdrtester {
	char		*name;		/* the rule set */
	struct sbuf	 block;		/* the pasted header block */
	struct text	*out;		/* the result, redone on every change */
	bool		 dirty;		/* the block changed since the last run */
	size_t		 top;
};

static const struct header_rules *
find_rules(const struct console *c, const char *name)
{
	for (size_t i = 0; i < c->site->nhrules; i++)
		if (strcmp(c->site->hrules[i].name, name) == 0)
			return &c->site->hrules[i];
	return NULL;
}

static void
first_line(struct sbuf *b, const char *s, size_t max)
{
	size_t n = strcspn(s, "\n");
	size_t lines = 1;

	for (const char *p = s; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	sb_addn(b, s, n < max ? n : max);
	if (lines > 1)
		sb_addf(b, "  (+%zu folded line%s)", lines - 1, lines == 2 ? "" : "s");
}

static void
rerun(struct console *c)
{
	struct hdrtester *ht = c->ht;
	const struct header_rules *hr = find_rules(c, ht->name);
	struct hdrtest t;
	struct sbuf b;
	char *title;

	if (ht->out != NULL)
		text_free(ht->out);
	title = xasprintf("Result of [header-rules \"%s\"] (%zu rules, scope %s)", ht->name,
	    hr ? hr->nrules : 0, hr && hr->scope == SCOPE_OUTBOUND ? "outbound" :
	    "authenticated");
	ht->out = text_new(title);
	free(title);
	if (hr == NULL) {
		text_add(ht->out, "(the rule set is gone or has errors)");
		return;
	}
	if (ht->block.len == 0) {
		text_add(ht->out, "(type or paste a header block above, or ^O to load one "
		    "from a file)");
		return;
	}
	memset(&t, 0, sizeof t);
	hdrtest_run(hr->rules, hr->nrules, ht->block.s, ht->block.len, &t);
	sb_init(&b);
	for (size_t i = 0; i < t.n; i++) {
		const struct hdrtest_header *h = &t.v[i];

		sb_reset(&b);
		sb_addf(&b, "L%-3d ", h->first_line);
		first_line(&b, h->original, 300);
		text_add(ht->out, b.s);
		sb_reset(&b);
		if (h->rule < 0)
			sb_add(&b, "     no rule matched: kept as is");
		else {
			sb_addf(&b, "     rule %d (line %d) %s", h->rule + 1, h->rule_line,
			    h->action >= 0 && h->action < PFA_COUNT ?
			    postfix_action_names[h->action] : "?");
			if (h->output == NULL)
				sb_add(&b, ": header removed");
			else if (h->prepend != NULL)
				sb_addf(&b, ": adds %s", h->prepend);
			else if (h->output != NULL && strcmp(h->output, h->original) != 0) {
				sb_add(&b, " => ");
				first_line(&b, h->output, 300);
			} else if (h->text != NULL && *h->text != '\0')
				sb_addf(&b, " %s (header kept)", h->text);
			else
				sb_add(&b, ": header kept");
		}
		text_add(ht->out, b.s);
	}
	for (size_t i = 0; i < t.warnings.n; i++) {
		sb_reset(&b);
		sb_addf(&b, "warning: %s", t.warnings.v[i]);
		text_add(ht->out, b.s);
	}
	text_add(ht->out, "");
	text_add(ht->out, "==== the header block after the rules ====");
	sb_reset(&b);
	hdrtest_output(&t, &b);
	if (b.len > 0 && b.s[b.len - 1] == '\n')
		b.s[--b.len] = '\0';
	text_add(ht->out, b.s);
	sb_free(&b);
	hdrtest_free(&t);
}

int
hdrtest_open(struct console *c, long hdr)
{
	const struct ini_line *l = &c->site->ini.line[hdr];
	struct hdrtester *ht;

	if (l->sub == NULL || find_rules(c, l->sub) == NULL) {
		con_status(c, true, "this rule set has errors: fix them first");
		return -1;
	}
	hdrtest_close(c);
	ht = xcalloc(1, sizeof *ht);
	ht->name = xstrdup(l->sub);
	sb_init(&ht->block);
	sb_addn(&ht->block, "", 0);		/* never NULL: the draw loop slices it */
	c->ht = ht;
	rerun(c);
	con_log(c, "header-rule tester for \"%s\"", ht->name);
	return 0;
}

void
hdrtest_close(struct console *c)
{
	if (c->ht == NULL)
		return;
	free(c->ht->name);
	sb_free(&c->ht->block);
	if (c->ht->out != NULL)
		text_free(c->ht->out);
	free(c->ht);
	c->ht = NULL;
}

static void
hdrtest_load(struct console *c, const char *path)
{
	char *cause = NULL, *data;
	size_t len;

	if (c->ht == NULL)
		return;
	if ((data = read_input_file(path, IK_MESSAGE, &len, &cause)) == NULL) {
		con_status(c, true, "cannot load the header block: %s", cause);
		free(cause);
		return;
	}
	sb_reset(&c->ht->block);
	sb_addn(&c->ht->block, data, len);
	free(data);
	rerun(c);
	con_status(c, false, "loaded %zu bytes from %s", len, path);
}

void
hdrtest_draw(struct console *c, int y, int x, int h, int w)
{
	struct hdrtester *ht = c->ht;
	int inh = h / 3, row;
	size_t nl = 0, start = 0, skip;
	char *title;

	if (inh < 4)
		inh = 4;
	if (ht->dirty) {
		ht->dirty = false;
		rerun(c);
	}
	title = xasprintf("Header-rule tester: [header-rules \"%s\"]: type or paste the "
	    "header block (^O loads a file)", ht->name);
	tty_fill(y, x, w, ST_SELDIM);
	tty_put(y, x, w, title, ST_SELDIM);
	free(title);
	/* show the last inh-1 lines of the block, the cursor after the last one */
	for (size_t i = 0; i < ht->block.len; i++)
		if (ht->block.s[i] == '\n')
			nl++;
	skip = nl + 1 > (size_t)(inh - 1) ? nl + 1 - (size_t)(inh - 1) : 0;
	row = y + 1;
	for (size_t i = 0, ln = 0; i <= ht->block.len; i++) {
		if (i == ht->block.len || ht->block.s[i] == '\n') {
			if (ln >= skip) {
				char *s = xstrndup(ht->block.s + start, i - start);
				int cw = tty_put(row, x + 1, w - 2, s, ST_NORMAL);

				if (i == ht->block.len) {
					c->curs_y = row;
					c->curs_x = x + 1 + (cw < w - 2 ? cw : w - 3);
				}
				free(s);
				row++;
			}
			ln++;
			start = i + 1;
		}
	}
	attrset(A_NORMAL);
	mvhline(y + inh, x, ACS_HLINE, w);
	ht->out->top = ht->top;
	text_draw(ht->out, y + inh + 1, x, h - inh - 1, w);
	ht->top = ht->out->top;
}

void
hdrtest_key(struct console *c, int iskey, wint_t wc)
{
	struct hdrtester *ht = c->ht;

	if (iskey) {
		switch (wc) {
		case KEY_NPAGE:
		case KEY_DOWN:
			ht->top += wc == KEY_DOWN ? 1 : 10;
			return;
		case KEY_PPAGE:
		case KEY_UP:
			ht->top = ht->top > (wc == KEY_UP ? 1u : 10u) ?
			    ht->top - (wc == KEY_UP ? 1 : 10) : 0;
			return;
		case KEY_BACKSPACE:
			break;
		case KEY_ENTER:
			wc = '\n';
			iskey = 0;
			break;
		default:
			return;
		}
	}
	if (!iskey && wc == 27) {
		hdrtest_close(c);
		return;
	}
	if (!iskey && wc == CTRL_KEY('o')) {
		con_prompt(c, "load header block from file: ", NULL, hdrtest_load, NULL, NULL);
		return;
	}
	if (!iskey && wc == CTRL_KEY('u')) {
		sb_reset(&ht->block);
		ht->top = 0;
		ht->dirty = true;
		return;
	}
	if ((iskey && wc == KEY_BACKSPACE) || (!iskey && (wc == 0x7f || wc == 8))) {
		if (ht->block.len > 0) {
			size_t i = ht->block.len - 1;

			while (i > 0 && ((unsigned char)ht->block.s[i] & 0xc0) == 0x80)
				i--;
			ht->block.len = i;
			ht->block.s[i] = '\0';
			ht->dirty = true;
		}
		return;
	}
	if (!iskey && (wc == '\r' || wc == '\n')) {
		sb_addc(&ht->block, '\n');
		ht->dirty = true;
		return;
	}
	if (!iskey && (wc == '\t' || wc >= 0x20) && wc != 0x7f) {
		char mb[MB_LEN_MAX];
		mbstate_t ps;
		size_t n;

		memset(&ps, 0, sizeof ps);
		n = wcrtomb(mb, (wchar_t)wc, &ps);
		if (n != (size_t)-1) {
			sb_addn(&ht->block, mb, n);
			ht->dirty = true;
		}
	}
}
