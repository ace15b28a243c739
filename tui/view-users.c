/* view-users.c: the Users section. Scales to 100k+ users: the filter produces an
 * index array once per change, and a redraw touches only the visible rows. */
#include <curses.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui/console.h"

static const char *const proto_short[PROTO_COUNT] = {
	"imap", "pop3", "smtp", "as", "mapi", "owa", "ews",
};

struct ufilter {
	struct strv words;	/* substrings of the address, all must match */
	unsigned on, off;	/* protocols that must be on / off */
};

static void
parse_filter(const char *text, struct ufilter *f)
{
	struct strv w = { 0 };

	memset(f, 0, sizeof *f);
	if (text == NULL)
		return;
	strv_split_words(&w, text);
	for (size_t i = 0; i < w.n; i++) {
		char *s = w.v[i], *sep = strpbrk(s, ":=");
		int p;

		if (sep != NULL) {
			*sep = '\0';
			if ((p = proto_from_name(s)) >= 0 || strcmp(s, "as") == 0) {
				int b = parse_bool(sep + 1);

				if (p < 0)
					p = PROTO_ACTIVESYNC;
				if (b == 1)
					f->on |= PROTO_BIT(p);
				else if (b == 0)
					f->off |= PROTO_BIT(p);
				continue;
			}
			*sep = ':';
		}
		strv_push(&f->words, s);
	}
	strv_free(&w);
}

void
users_filter(struct console *c, const char *text)
{
	struct ufilter f;
	const struct site *s = c->site;
	char *keep = text != NULL ? xstrdup(text) : NULL;

	free(c->ufilter);
	c->ufilter = keep;
	parse_filter(keep, &f);
	xgrow(&c->uf, &c->ufcap, s->nusers + 1, sizeof *c->uf);
	c->nuf = 0;
	for (size_t i = 0; i < s->nusers; i++) {
		const struct user *u = &s->users[i];
		bool ok = (u->protos & f.on) == f.on && (u->protos & f.off) == 0;

		for (size_t j = 0; ok && j < f.words.n; j++)
			ok = str_icontains(u->email, f.words.v[j]) != NULL;
		if (ok)
			c->uf[c->nuf++] = (uint32_t)i;
	}
	strv_free(&f.words);
	if (c->cur[SEC_USERS] >= c->nuf)
		c->cur[SEC_USERS] = c->nuf > 0 ? c->nuf - 1 : 0;
}

static struct user *
selected(struct console *c)
{
	if (c->nuf == 0 || c->cur[SEC_USERS] >= c->nuf)
		return NULL;
	return &c->site->users[c->uf[c->cur[SEC_USERS]]];
}

void
users_draw(struct console *c, int y, int x, int h, int w)
{
	size_t *cur = &c->cur[SEC_USERS], *top = &c->top[SEC_USERS];
	bool src = w >= 70;			/* the source column when it fits */
	int emw = w - PROTO_COUNT * 5 - (src ? 10 : 1), rows;
	char buf[512], def[128] = "";
	size_t o = 0;

	if (emw < 16)
		emw = 16;
	for (int p = 0; p < PROTO_COUNT; p++)
		if (c->site->user_default & PROTO_BIT(p))
			o += (size_t)snprintf(def + o, sizeof def - o, "%s%s", o ? " " : "",
			    proto_names[p]);
	snprintf(buf, sizeof buf, "Users: %zu of %zu shown%s%s%s  default: %s",
	    c->nuf, c->site->nusers, c->ufilter && *c->ufilter ? "  filter: \"" : "",
	    c->ufilter && *c->ufilter ? c->ufilter : "", c->ufilter && *c->ufilter ? "\"" : "",
	    o ? def : "(none)");
	tty_put(y, x, w, buf, ST_HEAD);
	snprintf(buf, sizeof buf, "%-*s", emw, "address");
	tty_put(y + 1, x, emw, buf, ST_DIM);
	for (int p = 0; p < PROTO_COUNT; p++)
		tty_put(y + 1, x + emw + 1 + p * 5, 5, proto_short[p], ST_DIM);
	if (src)
		tty_put(y + 1, x + emw + 1 + PROTO_COUNT * 5, 9, "source", ST_DIM);
	rows = h - 2;
	y += 2;
	if (c->nuf == 0) {
		tty_put(y, x, w, c->site->nusers ? "(no user matches the filter: / changes it)" :
		    "(no users: a adds one, or set [users] file = in Site)", ST_DIM);
		return;
	}
	if (*cur >= c->nuf)
		*cur = c->nuf - 1;
	if (*cur < *top)
		*top = *cur;
	if (*cur >= *top + (size_t)rows)
		*top = *cur - (size_t)rows + 1;
	for (int i = 0; i < rows && *top + (size_t)i < c->nuf; i++) {
		size_t k = *top + (size_t)i;
		const struct user *u = &c->site->users[c->uf[k]];
		bool sel = k == *cur;
		enum style st = sel ? (c->focus_detail ? ST_SEL : ST_SELDIM) : ST_NORMAL;
		const char *from;

		if (sel)
			tty_fill(y + i, x, w, st);
		tty_put(y + i, x, emw, u->email, st);
		for (int p = 0; p < PROTO_COUNT; p++) {
			bool on = u->protos & PROTO_BIT(p);

			tty_put(y + i, x + emw + 1 + p * 5, 4, on ? "on" : "-",
			    sel ? st : on ? ST_OK : ST_DIM);
		}
		if (!src)
			continue;
		from = u->file == NULL ? "default" : c->site->users_path != NULL &&
		    strcmp(u->file, c->site->users_path) == 0 ? "csv" : "ini";
		snprintf(buf, sizeof buf, "%s:%d", from, u->line);
		tty_put(y + i, x + emw + 1 + PROTO_COUNT * 5, 9, buf, sel ? st : ST_DIM);
	}
}

void
users_key(struct console *c, enum action a)
{
	size_t *cur = &c->cur[SEC_USERS], n = c->nuf;
	size_t page = 20;
	struct user *u;

	switch (a) {
	case AC_UP:
		if (*cur > 0)
			(*cur)--;
		return;
	case AC_DOWN:
		if (*cur + 1 < n)
			(*cur)++;
		return;
	case AC_PGUP:
		*cur = *cur > page ? *cur - page : 0;
		return;
	case AC_PGDN:
		*cur = n == 0 ? 0 : *cur + page < n ? *cur + page : n - 1;
		return;
	case AC_TOP:
		*cur = 0;
		return;
	case AC_BOTTOM:
		*cur = n > 0 ? n - 1 : 0;
		return;
	case AC_ADD:
		form_open_add(c, SEC_USERS);
		return;
	default:
		break;
	}
	if ((u = selected(c)) == NULL) {
		con_status(c, false, "no user selected");
		return;
	}
	switch (a) {
	case AC_OPEN:
	case AC_EDIT:
		if (c->audit) {
			con_status(c, false, "read-only audit: nothing to edit");
			return;
		}
		form_open_user(c, u);
		return;
	case AC_DELETE:
		if (c->site->users_path != NULL && u->file != NULL &&
		    strcmp(u->file, c->site->users_path) == 0) {
			con_status(c, true, "%s comes from %s:%d: the console edits only the "
			    "protocol columns of the CSV; delete the line there", u->email,
			    c->site->users_path, u->line);
			return;
		}
		{
			struct ini tmp;
			struct diags d;
			char *email = xstrdup(u->email);

			doc_copy(c, &tmp);
			doc_delete_section(&tmp, "user", email);
			doc_commit(c, &tmp, 0, 0, &d, true);
			ini_free(&tmp);
			diags_free(&d);
			con_log(c, "deleted [user \"%s\"]", email);
			con_status(c, false, "deleted [user \"%s\"] (not saved yet: w saves)",
			    email);
			free(email);
		}
		return;
	case AC_TOGGLE:
		free(c->confirm_text);
		c->confirm_text = xasprintf("Toggle which protocol of %s? [i]map [p]op3 "
		    "[s]mtp [a]ctivesync [m]api [o]wa [e]ws  (Esc cancels)", u->email);
		c->confirm = CF_TOGGLE;
		return;
	case AC_SETALL:
		free(c->confirm_text);
		c->confirm_text = xasprintf("Set which protocol for all %zu filtered users? "
		    "[i]map [p]op3 [s]mtp [a]ctivesync [m]api [o]wa [e]ws  (Esc cancels)",
		    c->nuf);
		c->confirm = CF_SETALL_PROTO;
		return;
	default:
		return;
	}
}

/* state: 1 on, 0 off, -1 toggle. all: every filtered user, else the selected one. */
void
users_toggle(struct console *c, int proto, int state, bool all)
{
	bool ini_changed = false, was = c->dirty_ini;
	size_t n = 0;
	unsigned bit = PROTO_BIT(proto);
	char *first = NULL;

	if (!all) {
		struct user *u = selected(c);

		if (u == NULL)
			return;
		first = xstrdup(u->email);
		c->dirty_ini = false;
		doc_user_set(c, u, u->protos ^ bit);
		ini_changed = c->dirty_ini;
		c->dirty_ini = was || ini_changed;
		con_log(c, "%s: %s %s", first, proto_names[proto],
		    (u->protos & bit) ? "on" : "off");
		con_status(c, false, "%s: %s %s (not saved yet: w saves to %s)", first,
		    proto_names[proto], (u->protos & bit) ? "on" : "off",
		    ini_changed ? "the profile" : "the users CSV");
		n = 1;
	} else {
		c->dirty_ini = false;
		for (size_t i = 0; i < c->nuf; i++) {
			struct user *u = &c->site->users[c->uf[i]];
			unsigned want = state ? (u->protos | bit) : (u->protos & ~bit);

			if (want != u->protos) {
				doc_user_set(c, u, want);
				n++;
			}
		}
		ini_changed = c->dirty_ini;
		c->dirty_ini = was || ini_changed;
		con_log(c, "%s %s for %zu of %zu filtered users", proto_names[proto],
		    state ? "on" : "off", n, c->nuf);
		con_status(c, false, "%s %s for %zu user%s (%zu already were); not saved yet: "
		    "w saves", proto_names[proto], state ? "on" : "off", n, n == 1 ? "" : "s",
		    c->nuf - n);
	}
	free(first);
	if (ini_changed) {
		/* [user] sections were edited in place: re-check the document so line
		 * numbers and findings stay right. */
		struct ini tmp;
		struct diags d;
		size_t cur = c->cur[SEC_USERS];

		doc_copy(c, &tmp);
		doc_commit(c, &tmp, 0, 0, &d, true);
		ini_free(&tmp);
		diags_free(&d);
		c->cur[SEC_USERS] = cur < c->nuf ? cur : 0;
	} else if (all && c->ufilter != NULL) {
		size_t cur = c->cur[SEC_USERS];

		users_filter(c, c->ufilter);	/* protocol filters may now exclude them */
		c->cur[SEC_USERS] = cur < c->nuf ? cur : c->nuf ? c->nuf - 1 : 0;
	}
}
