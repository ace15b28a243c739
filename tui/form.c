/* form.c: the entry editor and the line editor.
 *
 * A form holds one field per key line of a profile section (repeated keys such as
 * rule = get one field each plus an empty one to add), followed by the section's
 * other known keys, empty. Enter applies: the changes go into a copy of the
 * document, the copy is checked exactly as `mxdeck lint` checks a file, and the
 * findings on the section's lines are shown next to their field. Errors keep the
 * form open and the document unchanged; warnings are shown and accepted. */
#include <curses.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/doc.h"
#include "tui/form.h"
#include "tui/view.h"

/* ---- line editor ----------------------------------------------------------- */

static void
le_reserve(struct lineedit *le, size_t need)
{
	if (le->cap < need + 1) {
		le->cap = need + 32;
		le->buf = xrealloc(le->buf, le->cap);
	}
}

void
le_set(struct lineedit *le, const char *s)
{
	le->len = strlen(s);
	le_reserve(le, le->len);
	memcpy(le->buf, s, le->len + 1);
	le->cur = le->len;
}

void
le_free(struct lineedit *le)
{
	free(le->buf);
	memset(le, 0, sizeof *le);
}

static size_t
le_prev(const struct lineedit *le, size_t i)
{
	if (i == 0)
		return 0;
	i--;
	while (i > 0 && ((unsigned char)le->buf[i] & 0xc0) == 0x80)
		i--;
	return i;
}

static size_t
le_next(const struct lineedit *le, size_t i)
{
	if (i >= le->len)
		return le->len;
	i++;
	while (i < le->len && ((unsigned char)le->buf[i] & 0xc0) == 0x80)
		i++;
	return i;
}

static void
le_cut(struct lineedit *le, size_t from, size_t to)
{
	memmove(le->buf + from, le->buf + to, le->len - to + 1);
	le->len -= to - from;
	le->cur = from;
}

bool
le_key(struct lineedit *le, int iskey, wint_t wc)
{
	if (le->buf == NULL)
		le_set(le, "");
	if (iskey) {
		switch (wc) {
		case KEY_LEFT:
			le->cur = le_prev(le, le->cur);
			return true;
		case KEY_RIGHT:
			le->cur = le_next(le, le->cur);
			return true;
		case KEY_HOME:
			le->cur = 0;
			return true;
		case KEY_END:
			le->cur = le->len;
			return true;
		case KEY_BACKSPACE:
			if (le->cur > 0)
				le_cut(le, le_prev(le, le->cur), le->cur);
			return true;
		case KEY_DC:
			if (le->cur < le->len)
				le_cut(le, le->cur, le_next(le, le->cur));
			return true;
		default:
			return false;
		}
	}
	switch (wc) {
	case CTRL_KEY('a'):
		le->cur = 0;
		return true;
	case CTRL_KEY('e'):
		le->cur = le->len;
		return true;
	case CTRL_KEY('h'):
	case 0x7f:
		if (le->cur > 0)
			le_cut(le, le_prev(le, le->cur), le->cur);
		return true;
	case CTRL_KEY('u'):
		le_cut(le, 0, le->cur);
		return true;
	case CTRL_KEY('k'):
		le->buf[le->cur] = '\0';
		le->len = le->cur;
		return true;
	case CTRL_KEY('w'): {
		size_t i = le->cur;

		while (i > 0 && le->buf[i - 1] == ' ')
			i--;
		while (i > 0 && le->buf[i - 1] != ' ')
			i--;
		le_cut(le, i, le->cur);
		return true;
	}
	default:
		break;
	}
	if (wc < 0x20 || wc == 0x7f || (wc >= 0x80 && wc < 0xa0))
		return false;
	{
		char mb[MB_LEN_MAX];
		mbstate_t ps;
		size_t n;

		memset(&ps, 0, sizeof ps);
		n = wcrtomb(mb, (wchar_t)wc, &ps);
		if (n == (size_t)-1)
			return false;
		le_reserve(le, le->len + n);
		memmove(le->buf + le->cur + n, le->buf + le->cur, le->len - le->cur + 1);
		memcpy(le->buf + le->cur, mb, n);
		le->len += n;
		le->cur += n;
	}
	return true;
}

int
le_draw(const struct lineedit *le, int y, int x, int w, enum style st)
{
	const char *s = le->buf != NULL ? le->buf : "";
	size_t start = 0, cur = le->buf != NULL ? le->cur : 0;
	char *head;
	int cw;

	if (w < 2)
		return x;
	for (;;) {
		head = xstrndup(s + start, cur - start);
		cw = tty_width(head);
		free(head);
		if (cw < w || start >= cur)
			break;
		start++;
		while (start < cur && ((unsigned char)s[start] & 0xc0) == 0x80)
			start++;
	}
	tty_fill(y, x, w, st);
	tty_put(y, x, w, s + start, st);
	return x + cw;
}

/* ---- forms ------------------------------------------------------------------ */

struct field {
	char	*key;
	long	 line;		/* index in the document when opened; -1: new */
	char	*orig;
	struct lineedit ed;
	char	*msg;
	bool	 err;
	bool	 repeated;
	bool	 isname;	/* the name of a new named section */
};

struct form {
	char	*title;
	char	*section;	/* ini section */
	char	*sub;		/* its name; NULL for unnamed sections or not yet known */
	bool	 add;
	bool	 named;
	struct field *f;
	size_t	 n, cap, cur, top;
	struct strv notes;	/* section-level findings */
	bool	 notes_err;
};

static struct field *
field_add(struct form *fm, const char *key, long line, const char *value)
{
	struct field *f;

	xgrow(&fm->f, &fm->cap, fm->n + 1, sizeof *fm->f);
	f = &fm->f[fm->n++];
	memset(f, 0, sizeof *f);
	f->key = xstrdup(key);
	f->line = line;
	f->orig = xstrdup(value);
	f->repeated = strcmp(key, "rule") == 0;
	le_set(&f->ed, value);
	return f;
}

static void
form_free(struct form *fm)
{
	for (size_t i = 0; i < fm->n; i++) {
		free(fm->f[i].key);
		free(fm->f[i].orig);
		free(fm->f[i].msg);
		le_free(&fm->f[i].ed);
	}
	free(fm->f);
	free(fm->title);
	free(fm->section);
	free(fm->sub);
	strv_free(&fm->notes);
	free(fm);
}

void
form_close(struct console *c)
{
	if (c->form != NULL) {
		form_free(c->form);
		c->form = NULL;
	}
}

static bool
has_field(const struct form *fm, const char *key)
{
	for (size_t i = 0; i < fm->n; i++)
		if (strcmp(fm->f[i].key, key) == 0)
			return true;
	return false;
}

static void
schema_fields(struct form *fm)
{
	const struct profile_key *keys = site_section_keys(fm->section);

	for (size_t i = 0; keys != NULL && keys[i].name != NULL; i++) {
		if ((keys[i].flags & PK_REPEAT) || !has_field(fm, keys[i].name))
			field_add(fm, keys[i].name, -1, "");
	}
}

int
form_open_edit(struct console *c, long hdr)
{
	const struct ini *ini = &c->site->ini;
	const struct ini_line *h = &ini->line[hdr];
	long end = doc_section_end(ini, hdr);
	struct form *fm = xcalloc(1, sizeof *fm);

	fm->section = xstrdup(h->section);
	fm->sub = h->sub != NULL ? xstrdup(h->sub) : NULL;
	fm->named = h->sub != NULL;
	fm->title = h->sub != NULL ? xasprintf("Edit [%s \"%s\"]", h->section, h->sub) :
	    xasprintf("Edit [%s]", h->section);
	for (long i = hdr + 1; i <= end; i++) {
		const struct ini_line *l = &ini->line[i];

		if (l->kind == INI_KEY)
			field_add(fm, l->key, i, l->value != NULL ? l->value : "");
	}
	schema_fields(fm);
	form_close(c);
	c->form = fm;
	return 0;
}

int
form_open_add(struct console *c, const char *s, const char *name_label,
    const char *title_note)
{
	struct form *fm;
	struct field *f;

	if (!site_section_has_name(s)) {
		if (ini_find_section(&c->site->ini, s, NULL) >= 0) {
			con_status(c, false, "[%s] exists already: e edits it", s);
			return -1;
		}
	}
	fm = xcalloc(1, sizeof *fm);
	fm->section = xstrdup(s);
	fm->add = true;
	fm->named = site_section_has_name(s);
	fm->title = xasprintf("Add [%s%s]%s", s, fm->named ? " \"...\"" : "", title_note);
	if (fm->named) {
		f = field_add(fm, name_label, -1, "");
		f->isname = true;
	}
	schema_fields(fm);
	form_close(c);
	c->form = fm;
	return 0;
}

int
form_open_user(struct console *c, struct user *u)
{
	struct form *fm = xcalloc(1, sizeof *fm);

	fm->section = xstrdup("user");
	fm->sub = xstrdup(u->email);
	fm->named = true;
	fm->title = xasprintf("User %s (%s)", u->email, u->file != NULL &&
	    c->site->users_path != NULL && strcmp(u->file, c->site->users_path) == 0 ?
	    "saved to the users CSV" : "saved to the profile");
	for (int p = 0; p < PROTO_COUNT; p++)
		field_add(fm, proto_names[p], -2, (u->protos & PROTO_BIT(p)) ? "on" : "off");
	form_close(c);
	c->form = fm;
	return 0;
}

/* Replace the value of line idx keeping its indentation and trailing comment. */
static void
set_line(struct ini *ini, long idx, const char *key, const char *value)
{
	struct ini_line *l = &ini->line[idx];
	const char *p = l->raw;
	char *q = ini_quote_value(value), *raw;

	while (*p == ' ' || *p == '\t')
		p++;
	if (l->comment_off >= 0) {
		const char *cm = l->raw + l->comment_off;
		bool sp = *cm == ' ' || *cm == '\t';

		raw = xasprintf("%.*s%s = %s%s%s", (int)(p - l->raw), l->raw, key, q,
		    sp ? "" : " ", cm);
	} else
		raw = xasprintf("%.*s%s = %s", (int)(p - l->raw), l->raw, key, q);
	free(q);
	free(l->raw);
	l->raw = raw;
}

static int
long_desc(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static void
form_user_apply(struct console *c, struct form *fm)
{
	struct user *u = site_find_user(c->site, fm->sub);
	unsigned protos = 0;
	bool bad = false, was = c->dirty_ini, ini_changed;

	for (size_t i = 0; i < fm->n; i++) {
		int b = parse_bool(fm->f[i].ed.buf);

		free(fm->f[i].msg);
		fm->f[i].msg = NULL;
		if (b < 0) {
			fm->f[i].msg = xstrdup("must be on or off");
			fm->f[i].err = bad = true;
		} else if (b)
			protos |= PROTO_BIT(proto_from_name(fm->f[i].key));
	}
	if (bad || u == NULL) {
		if (u == NULL)
			con_status(c, true, "%s no longer exists", fm->sub);
		return;
	}
	c->dirty_ini = false;
	doc_user_set(c, u, protos);
	ini_changed = c->dirty_ini;
	c->dirty_ini = was || ini_changed;
	con_log(c, "edited user %s", fm->sub);
	con_status(c, false, "%s updated (not saved yet: w saves)", fm->sub);
	form_close(c);
	if (ini_changed) {
		struct ini tmp;
		struct diags d;

		doc_copy(c, &tmp);
		doc_commit(c, &tmp, 0, 0, &d, true);
		ini_free(&tmp);
		diags_free(&d);
	}
}

static void
form_apply(struct console *c)
{
	struct form *fm = c->form;
	struct ini tmp;
	struct diags d;
	long *del = NULL, hdr, end;
	size_t ndel = 0, changed = 0, nerr = 0;
	const char *sub = fm->sub;
	bool any = false;

	if (!c->audit && fm->f != NULL && fm->n > 0 && fm->f[0].line == -2) {
		form_user_apply(c, fm);
		return;
	}
	strv_free(&fm->notes);
	for (size_t i = 0; i < fm->n; i++) {
		free(fm->f[i].msg);
		fm->f[i].msg = NULL;
		fm->f[i].err = false;
	}
	if (fm->add && fm->named) {
		struct field *nf = &fm->f[0];

		sub = nf->ed.buf;
		if (*sub == '\0') {
			nf->msg = xstrdup("a name is required");
			nf->err = true;
			return;
		}
		if (ini_find_section(&c->site->ini, fm->section, sub) >= 0) {
			nf->msg = xasprintf("[%s \"%s\"] exists already", fm->section, sub);
			nf->err = true;
			return;
		}
	}
	doc_copy(c, &tmp);
	/* 1. values changed in place (no line moves) */
	for (size_t i = 0; i < fm->n; i++) {
		struct field *f = &fm->f[i];

		if (f->isname)
			continue;
		if (*f->ed.buf != '\0')
			any = true;
		if (f->line < 0 || strcmp(f->ed.buf, f->orig) == 0 || *f->ed.buf == '\0')
			continue;
		set_line(&tmp, f->line, f->key, f->ed.buf);
		changed++;
	}
	/* 2. cleared fields delete their line, bottom up */
	for (size_t i = 0; i < fm->n; i++) {
		struct field *f = &fm->f[i];

		if (f->line >= 0 && *f->ed.buf == '\0' && *f->orig != '\0') {
			del = xrealloc(del, (ndel + 1) * sizeof *del);
			del[ndel++] = f->line;
		}
	}
	if (ndel > 0) {
		qsort(del, ndel, sizeof *del, long_desc);
		for (size_t i = 0; i < ndel; i++)
			ini_delete_line(&tmp, (size_t)del[i]);
		changed += ndel;
	}
	free(del);
	if (!any && fm->add) {
		fm->f[fm->n > 1 ? 1 : 0].msg = xstrdup("fill in at least one field");
		fm->f[fm->n > 1 ? 1 : 0].err = true;
		ini_free(&tmp);
		return;
	}
	/* 3. new keys go after the section's last key */
	for (size_t i = 0; i < fm->n; i++) {
		struct field *f = &fm->f[i];

		if (f->isname || f->line >= 0 || *f->ed.buf == '\0')
			continue;
		if (f->repeated)
			ini_add(&tmp, fm->section, sub, f->key, f->ed.buf);
		else
			ini_set(&tmp, fm->section, sub, f->key, f->ed.buf);
		changed++;
	}
	if (changed == 0) {
		ini_free(&tmp);
		con_status(c, false, "nothing changed");
		form_close(c);
		return;
	}
	hdr = ini_find_section(&tmp, fm->section, sub);
	end = hdr >= 0 ? doc_section_end(&tmp, hdr) : -1;
	{
		/* Where each non-empty field's line is now: the k-th line of a key in the
		 * section is the k-th non-empty field of that key. */
		long *where = xcalloc(fm->n, sizeof *where);
		char *title;

		for (size_t i = 0; i < fm->n; i++) {
			struct field *f = &fm->f[i];
			size_t k = 0;

			where[i] = -1;
			if (f->isname || *f->ed.buf == '\0' || hdr < 0)
				continue;
			for (size_t j = 0; j < i; j++)
				if (!fm->f[j].isname && *fm->f[j].ed.buf != '\0' &&
				    strcmp(fm->f[j].key, f->key) == 0)
					k++;
			for (long l = hdr + 1; l <= end; l++) {
				if (tmp.line[l].kind != INI_KEY ||
				    strcmp(tmp.line[l].key, f->key) != 0)
					continue;
				if (k-- == 0) {
					where[i] = l + 1;
					break;
				}
			}
		}
		title = sub != NULL ? xasprintf("[%s \"%s\"]", fm->section, sub) :
		    xasprintf("[%s]", fm->section);
		nerr = (size_t)doc_commit(c, &tmp, hdr + 1, end + 1, &d, false);
		if (nerr > 0) {
			/* refused: show every finding of the section next to its field */
			for (size_t j = 0; j < d.n; j++) {
				const struct diag *g = &d.v[j];
				bool placed = false;

				if (g->file == NULL || strcmp(g->file, c->site->path) != 0 ||
				    g->line < hdr + 1 || g->line > end + 1)
					continue;
				for (size_t i = 0; i < fm->n && !placed; i++) {
					struct field *f = &fm->f[i];
					char *m;

					if (where[i] != g->line)
						continue;
					m = xasprintf("%s%s%s: %s", f->msg ? f->msg : "",
					    f->msg ? "\n" : "", g->sev == SEV_ERROR ? "error" :
					    "warning", g->msg);
					free(f->msg);
					f->msg = m;
					f->err = f->err || g->sev == SEV_ERROR;
					placed = true;
				}
				if (!placed)
					strv_push_owned(&fm->notes, xasprintf("line %d: %s: %s",
					    g->line, g->sev == SEV_ERROR ? "error" : "warning",
					    g->msg));
			}
			diags_free(&d);
			con_status(c, true, "%s: %zu error%s: fix the marked field%s or Esc to "
			    "cancel (nothing was changed)", title, nerr, nerr == 1 ? "" : "s",
			    nerr == 1 ? "" : "s");
			free(title);
			free(where);
			ini_free(&tmp);
			return;
		}
		diags_free(&d);
		{
			size_t nw = 0;
			const struct diag *first = NULL;

			for (size_t j = 0; j < c->diags.n; j++) {
				const struct diag *g = &c->diags.v[j];

				if (g->file != NULL && strcmp(g->file, c->site->path) == 0 &&
				    g->line >= hdr + 1 && g->line <= end + 1) {
					nw++;
					if (first == NULL)
						first = g;
				}
			}
			if (nw > 0)
				con_status(c, false, "%s %s; %zu warning%s: line %d: %s (w saves)",
				    title, fm->add ? "added" : "changed", nw, nw == 1 ? "" : "s",
				    first->line, first->msg);
			else
				con_status(c, false, "%s %s (not saved yet: w saves)", title,
				    fm->add ? "added" : "changed");
		}
		con_log(c, "%s %s: %zu line%s", fm->add ? "added" : "edited", title, changed,
		    changed == 1 ? "" : "s");
		free(title);
		free(where);
	}
	ini_free(&tmp);
	form_close(c);
	/* select the entry just edited or added */
	for (size_t i = 0; i < c->ent.n; i++)
		if (c->ent.v[i] == hdr)
			c->cur[c->view] = i;
}

/* Rows needed to show msg wrapped in w columns (one or more "\n"-separated lines). */
static int msg_draw(const char *msg, int y, int x, int w, int maxrows, enum style st);

static int
msg_rows(const char *msg, int w)
{
	if (msg == NULL)
		return 0;
	return msg_draw(msg, -1, 0, w, 1000, ST_NORMAL);
}

/* Draw msg wrapped at (y, x) in w columns, at most maxrows rows; returns rows used. */
static int
msg_draw(const char *msg, int y, int x, int w, int maxrows, enum style st)
{
	int rows = 0;
	const char *p = msg;

	while (*p != '\0' && rows < maxrows) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n), *q = line;

		do {
			size_t fit = tty_fit(q, w);

			if (q[fit] != '\0') {		/* break after the last space */
				size_t sp = fit;

				while (sp > 0 && q[sp - 1] != ' ')
					sp--;
				if (sp > 0)
					fit = sp;
			}
			if (fit == 0 && *q != '\0')
				fit = 1;
			{
				char *chunk = xstrndup(q, fit);

				if (y >= 0)		/* y < 0: only count the rows */
					tty_put(y + rows, x, w, chunk, st);
				free(chunk);
			}
			rows++;
			q += fit;
		} while (*q != '\0' && rows < maxrows);
		free(line);
		p += n;
		if (*p == '\n')
			p++;
	}
	return rows;
}

void
form_draw(struct console *c, int y, int x, int h, int w)
{
	struct form *fm = c->form;
	int keyw = 20, row, avail, mw = w - keyw - 2;

	tty_put(y, x, w, fm->title, ST_HEAD);
	tty_put(y + 1, x, w, "Enter applies (same checks as `mxdeck lint`), Esc cancels, "
	    "an empty field removes its line", ST_DIM);
	row = y + 2;
	for (size_t i = 0; i < fm->notes.n && row < y + h; i++)
		row += msg_draw(fm->notes.v[i], row, x, w, y + h - row, ST_ERR);
	avail = y + h - row;
	/* keep the current field (and its messages) visible */
	if (fm->cur < fm->top)
		fm->top = fm->cur;
	for (;;) {
		int need = 0;

		for (size_t i = fm->top; i <= fm->cur && i < fm->n; i++)
			need += 1 + msg_rows(fm->f[i].msg, mw);
		if (need <= avail || fm->top >= fm->cur)
			break;
		fm->top++;
	}
	for (size_t i = fm->top; i < fm->n && row < y + h; i++) {
		struct field *f = &fm->f[i];
		bool cur = i == fm->cur;
		char lab[64];

		snprintf(lab, sizeof lab, "%s%-*s", cur ? ">" : " ", keyw - 1, f->key);
		tty_put(row, x, keyw - 1, lab, cur ? ST_KEY : ST_NORMAL);
		if (cur) {
			c->curs_x = le_draw(&f->ed, row, x + keyw, w - keyw - 1, ST_FIELD);
			c->curs_y = row;
		} else			/* not being edited: show its start */
			tty_put(row, x + keyw, w - keyw - 1, f->ed.buf != NULL ? f->ed.buf : "",
			    f->msg && f->err ? ST_ERR : ST_NORMAL);
		row++;
		if (f->msg != NULL && row < y + h)
			row += msg_draw(f->msg, row, x + keyw + 2, mw, y + h - row,
			    f->err ? ST_ERR : ST_WARN);
	}
}

void
form_key(struct console *c, int iskey, wint_t wc)
{
	struct form *fm = c->form;

	if (!iskey && wc == 27) {
		form_close(c);
		con_status(c, false, "cancelled: nothing changed");
		return;
	}
	if ((!iskey && (wc == '\r' || wc == '\n')) || (iskey && wc == KEY_ENTER)) {
		form_apply(c);
		return;
	}
	if ((iskey && wc == KEY_UP) || (iskey && wc == KEY_BTAB)) {
		fm->cur = fm->cur > 0 ? fm->cur - 1 : fm->n - 1;
		return;
	}
	if ((iskey && wc == KEY_DOWN) || (!iskey && wc == '\t')) {
		fm->cur = fm->cur + 1 < fm->n ? fm->cur + 1 : 0;
		return;
	}
	if (fm->n > 0)
		le_key(&fm->f[fm->cur].ed, iskey, wc);
}
