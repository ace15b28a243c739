/* viewer.c: a scrollable text viewer (rendered-file preview, diffs, test details). */
#include <curses.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/render/render.h"
#include "tui/view.h"
#include "tui/viewer.h"

struct text *
text_new(const char *title)
{
	struct text *t = xcalloc(1, sizeof *t);

	t->title = xstrdup(title);
	return t;
}

void
text_add(struct text *t, const char *s)
{
	const char *p = s;

	for (;;) {
		const char *e = strchr(p, '\n');

		if (e == NULL) {
			strv_push(&t->ln, p);
			return;
		}
		strv_push_owned(&t->ln, xstrndup(p, (size_t)(e - p)));
		p = e + 1;
	}
}

void
text_add_wrapped(struct text *t, const char *s, size_t nwrap)
{
	const char *p = s;
	int w = COLS > 10 ? COLS - 1 : 79;

	for (size_t n = 0;; n++) {
		size_t len = strcspn(p, "\n");
		char *line = xstrndup(p, len), *q = line;

		/* the first nwrap lines are wrapped at the screen width, the rest cut */
		if (n < nwrap) {
			while (tty_width(q) > w) {
				size_t fit = tty_fit(q, w), sp = fit;

				while (sp > 0 && q[sp - 1] != ' ')
					sp--;
				if (sp > fit / 2)
					fit = sp;
				strv_push_owned(&t->ln, xstrndup(q, fit));
				q += fit;
			}
		}
		strv_push(&t->ln, q);
		free(line);
		p += len;
		if (*p == '\0')
			break;
		p++;
		if (*p == '\0')
			break;
	}
}

void
text_free(struct text *t)
{
	strv_free(&t->ln);
	free(t->title);
	free(t->search);
	free(t);
}

static enum style
line_style(const struct text *t, const char *s)
{
	if (str_starts(s, "==== "))
		return ST_HEAD;
	if (!t->diff)
		return ST_NORMAL;
	if (str_starts(s, "+++ ") || str_starts(s, "--- "))
		return ST_HEAD;
	if (s[0] == '+')
		return ST_ADD;
	if (s[0] == '-')
		return ST_DEL;
	if (str_starts(s, "@@"))
		return ST_HUNK;
	return ST_NORMAL;
}

void
text_draw(struct text *t, int y, int x, int h, int w)
{
	char *hd;
	size_t n = t->ln.n;
	int body = h - 1;

	if (body < 1)
		return;
	if (n > (size_t)body && t->top > n - (size_t)body)
		t->top = n - (size_t)body;
	if (n <= (size_t)body)
		t->top = 0;
	if (t->left > 0)
		hd = xasprintf("[lines %zu-%zu of %zu, from column %d] %s", n ? t->top + 1 : 0,
		    t->top + (size_t)body < n ? t->top + (size_t)body : n, n, t->left + 1,
		    t->title);
	else
		hd = xasprintf("[lines %zu-%zu of %zu] %s", n ? t->top + 1 : 0,
		    t->top + (size_t)body < n ? t->top + (size_t)body : n, n, t->title);
	tty_fill(y, x, w, ST_SELDIM);
	tty_put(y, x, w, hd, ST_SELDIM);
	free(hd);
	for (int i = 0; i < body && t->top + (size_t)i < n; i++) {
		const char *s = t->ln.v[t->top + (size_t)i];

		tty_put(y + 1 + i, x, w, s + tty_fit(s, t->left), line_style(t, s));
	}
}

/* Returns false when the viewer should close. */
bool
text_key(struct console *c, struct text *t, int iskey, wint_t wc, int h)
{
	size_t page = h > 3 ? (size_t)h - 2 : 1, n = t->ln.n;

	(void)c;
	if (!iskey) {
		switch (wc) {
		case 'q':
		case 27:
			return false;
		case 'j':
		case '\r':
		case '\n':
			t->top++;
			break;
		case 'k':
			if (t->top > 0)
				t->top--;
			break;
		case ' ':
		case CTRL_KEY('f'):
			t->top += page;
			break;
		case CTRL_KEY('b'):
			t->top = t->top > page ? t->top - page : 0;
			break;
		case 'g':
			t->top = 0;
			break;
		case 'h':
			t->left = t->left > 20 ? t->left - 20 : 0;
			break;
		case 'l':
			t->left += 20;
			break;
		case 'G':
			t->top = n;
			break;
		case ']':
			for (size_t i = t->top + 1; i < n; i++)
				if (str_starts(t->ln.v[i], "==== ")) {
					t->top = i;
					break;
				}
			break;
		case '[':
			for (size_t i = t->top; i-- > 0;)
				if (str_starts(t->ln.v[i], "==== ")) {
					t->top = i;
					break;
				}
			break;
		default:
			break;
		}
	} else {
		switch (wc) {
		case KEY_DOWN:
			t->top++;
			break;
		case KEY_UP:
			if (t->top > 0)
				t->top--;
			break;
		case KEY_NPAGE:
			t->top += page;
			break;
		case KEY_PPAGE:
			t->top = t->top > page ? t->top - page : 0;
			break;
		case KEY_HOME:
			t->top = 0;
			break;
		case KEY_LEFT:
			t->left = t->left > 20 ? t->left - 20 : 0;
			break;
		case KEY_RIGHT:
			t->left += 20;
			break;
		case KEY_END:
			t->top = n;
			break;
		default:
			break;
		}
	}
	if (t->top >= n)
		t->top = n > 0 ? n - 1 : 0;
	return true;
}

static const char *
kind_name(enum file_kind k)
{
	switch (k) {
	case FK_POSTMAP:
		return ", postmap";
	case FK_POSTCONF:
		return ", merged with postconf -e";
	case FK_POSTCONF_M:
		return ", merged with postconf -M";
	case FK_POSTCONF_P:
		return ", merged with postconf -P";
	case FK_SCRIPT:
		return ", script for the admin";
	case FK_LINK:
		return ", symlink";
	default:
		return "";
	}
}

int
preview_open(struct console *c, const struct host *h)
{
	struct render_ctx ctx;
	struct fileset fs;
	char *cause = NULL, *title, *line;
	struct text *t;
	size_t bytes = 0;

	ctx = render_ctx_for(c->site, h);
	memset(&fs, 0, sizeof fs);
	if (c->diags.nerrors > 0) {
		con_status(c, true, "the profile has %zu error(s): fix them before previewing",
		    c->diags.nerrors);
		return -1;
	}
	if (render_host(&ctx, &fs, &cause) == -1) {
		con_status(c, true, "render %s: %s", h->name, cause);
		con_log(c, "render %s failed: %s", h->name, cause);
		free(cause);
		fileset_free(&fs);
		return -1;
	}
	for (size_t i = 0; i < fs.n; i++)
		bytes += fs.v[i].data.len;
	title = xasprintf("Preview of host %s: %zu files, %zu bytes ([ ] jump between "
	    "files)", h->name, fs.n, bytes);
	t = text_new(title);
	free(title);
	for (size_t i = 0; i < fs.n; i++) {
		const struct rfile *f = &fs.v[i];

		if (f->kind == FK_LINK) {
			char *owned = NULL;

			line = xasprintf("==== %s -> %s  (%s, symlink: %s) ====", f->path,
			    f->target, f->role, rfile_link_label(f, &owned));
			free(owned);
		} else
			line = xasprintf("==== %s  (%s, %04o%s%s%s) ====", f->path, f->role,
			    f->mode, kind_name(f->kind), f->symlink ? ", enabled as " : "",
			    f->symlink ? f->symlink : "");
		text_add(t, line);
		free(line);
		if (f->data.len > 0) {
			char *d = xstrndup(f->data.s, f->data.len);
			size_t dl = strlen(d);

			if (dl > 0 && d[dl - 1] == '\n')
				d[dl - 1] = '\0';
			text_add(t, d);
			free(d);
		}
		text_add(t, "");
	}
	if (fs.n == 0)
		text_add(t, "(this host's roles produce no files)");
	fileset_free(&fs);
	con_open_text(c, t);
	con_log(c, "previewed the rendered files of %s", h->name);
	return 0;
}
