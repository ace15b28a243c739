/* view-users.c: the Users view. Scales to 100k+ users: the filter produces an
 * index array once per change, and a redraw touches only the visible rows. */
#include <curses.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui/doc.h"
#include "tui/form.h"
#include "tui/jobs.h"
#include "tui/view.h"

static const char *const proto_short[PROTO_COUNT] = {
	"imap", "pop3", "smtp", "as", "mapi", "owa", "ews",
};

extern const struct view view_users;

static confirm_fn answer_delete, answer_toggle, answer_setall_proto, answer_setall_state;

static size_t *
users_cur(struct console *c)
{
	return &c->cur[con_view_index(&view_users)];
}

static struct user *
selected(struct console *c)
{
	if (c->nuf == 0)
		return NULL;
	if (*users_cur(c) >= c->nuf)		/* the filter got narrower */
		*users_cur(c) = c->nuf - 1;
	return &c->site->users[c->uf[*users_cur(c)]];
}

static void
users_draw(struct console *c, const struct view *v, int y, int x, int h, int w)
{
	size_t *cur = &c->cur[c->view], *top = &c->top[c->view];
	bool src = w >= 70;			/* the source column when it fits */
	int emw = w - PROTO_COUNT * 5 - (src ? 10 : 1), rows;
	char buf[512], def[128] = "";
	size_t o = 0;
	bool logins = jobs_have_logins(c);

	(void)v;
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
	if (logins) {
		size_t n = strlen(buf);

		snprintf(buf + n, sizeof buf - n, "   login test: = as declared  X gateway "
		    "differs  ~ Exchange differs  . running");
	}
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
	c->list_y = y;
	c->list_h = rows;
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
			int ls = logins ? jobs_login_status(c, u->email, p) : -2;
			char cell[8];
			enum style cs = on ? ST_OK : ST_DIM;

			/* declared on/off, then the login test's verdict: = as declared,
			 * ~ Exchange disagrees (warn), X the gateway does (fail), . pending */
			snprintf(cell, sizeof cell, "%s%s", on ? "on" : "-", ls == -2 ? "" :
			    ls == -1 ? "." : ls == 0 ? "=" : ls == 1 ? "~" : "X");
			if (ls == 2)
				cs = ST_ERR;
			else if (ls == 1)
				cs = ST_WARN;
			tty_put(y + i, x + emw + 1 + p * 5, 4, cell, sel ? st : cs);
		}
		if (!src)
			continue;
		from = u->file == NULL ? "default" : c->site->users_path != NULL &&
		    strcmp(u->file, c->site->users_path) == 0 ? "csv" : "ini";
		snprintf(buf, sizeof buf, "%s:%d", from, u->line);
		tty_put(y + i, x + emw + 1 + PROTO_COUNT * 5, 9, buf, sel ? st : ST_DIM);
	}
}

/* The line index of the user's [user] section, or -1. A user with a section and a
 * CSV row shows the section (it overrides the row), so the row is found only after
 * the section is gone. */
static long
user_section(const struct console *c, const struct user *u)
{
	const struct ini *ini = &c->site->ini;
	long hdr = u->line - 1;

	if (u->file == NULL || doc_user_in_csv(c->site, u) || hdr < 0 ||
	    (size_t)hdr >= ini->n || ini->line[hdr].kind != INI_SECTION ||
	    ini->line[hdr].section == NULL || strcmp(ini->line[hdr].section, "user") != 0)
		return -1;
	return hdr;
}

static const char *
base_name(const char *path)
{
	const char *b = path != NULL ? strrchr(path, '/') : NULL;

	return b != NULL ? b + 1 : path != NULL ? path : "";
}

/* d asks about the selected user, D about every filtered one (only with a filter, and
 * the count is in the question). */
static void
ask_delete(struct console *c, bool all)
{
	struct user *u;
	size_t nsect = 0, ncsv = 0;

	if (!all) {
		if ((u = selected(c)) == NULL) {
			con_status(c, false, "no user selected");
			return;
		}
		if (user_section(c, u) >= 0)
			con_ask(c, answer_delete, 0, "Delete user %s: its [user] section (line %d "
			    "of the profile)%s? [y] delete  [n/Esc] keep", u->email, u->line,
			    c->site->users_path != NULL ? " and its row in the users CSV if it has "
			    "one" : "");
		else if (doc_user_in_csv(c->site, u))
			con_ask(c, answer_delete, 0, "Delete user %s: its row, line %d of %s? "
			    "[y] delete  [n/Esc] keep", u->email, u->line,
			    base_name(c->site->users_path));
		else {
			con_status(c, true, "%s has no [user] section and no CSV row: nothing to "
			    "delete", u->email);
		}
		return;
	}
	if (c->ufilter == NULL || *c->ufilter == '\0') {
		con_status(c, true, "D deletes the filtered users: set a filter with / first "
		    "(deleting all %zu users at once is not offered)", c->site->nusers);
		return;
	}
	if (c->nuf == 0) {
		con_status(c, false, "no user matches the filter: nothing to delete");
		return;
	}
	for (size_t i = 0; i < c->nuf; i++) {
		u = &c->site->users[c->uf[i]];
		if (user_section(c, u) >= 0)
			nsect++;
		else if (doc_user_in_csv(c->site, u))
			ncsv++;
	}
	con_ask(c, answer_delete, 1, "Delete %zu users? [y] delete %zu  [n/Esc] keep: all "
	    "matching \"%s\" (%zu rows of %s, %zu [user] sections)", c->nuf, c->nuf,
	    c->ufilter, ncsv, base_name(c->site->users_path), nsect);
}

static void
users_delete(struct console *c, bool all)
{
	struct strv emails = { 0 }, sects = { 0 };
	size_t nrows = 0;
	unsigned char *drop;

	if (!all) {
		struct user *u = selected(c);

		if (u != NULL)
			strv_push(&emails, u->email);
	} else
		for (size_t i = 0; i < c->nuf; i++)
			strv_push(&emails, c->site->users[c->uf[i]].email);
	if (emails.n == 0) {
		con_status(c, false, "no user selected: nothing deleted");
		return;
	}
	/* 1. [user] sections, in one edit of the document */
	for (size_t i = 0; i < emails.n; i++) {
		const struct user *u = site_find_user(c->site, emails.v[i]);
		long hdr = u != NULL ? user_section(c, u) : -1;

		if (hdr >= 0)
			strv_push(&sects, c->site->ini.line[hdr].sub);
	}
	if (sects.n > 0) {
		struct ini tmp;
		struct diags d;

		doc_copy(c, &tmp);
		for (size_t i = 0; i < sects.n; i++)
			doc_delete_section(&tmp, "user", sects.v[i]);
		doc_commit(c, &tmp, 0, 0, &d, true);
		ini_free(&tmp);
		diags_free(&d);
	}
	/* 2. CSV rows: of the users themselves, or of those whose section overrode one */
	drop = xcalloc(c->site->nusers + 1, 1);
	for (size_t i = 0; i < emails.n; i++) {
		const struct user *u = site_find_user(c->site, emails.v[i]);

		if (u != NULL && doc_user_in_csv(c->site, u)) {
			drop[u - c->site->users] = 1;
			nrows++;
		}
	}
	if (nrows > 0)
		doc_delete_csv_users(c, drop);
	free(drop);
	if (emails.n == 1) {
		con_log(c, "deleted user %s (%s%s%s)", emails.v[0], sects.n ? "[user] section" :
		    "", sects.n && nrows ? " and " : "", nrows ? "CSV row" : "");
		con_status(c, false, "deleted user %s (not saved yet: w saves%s%s)", emails.v[0],
		    nrows ? "; the row leaves " : "", nrows ?
		    base_name(c->site->users_path) : "");
	} else {
		con_log(c, "deleted %zu users: %zu [user] sections, %zu CSV rows", emails.n,
		    sects.n, nrows);
		con_status(c, false, "deleted %zu users: %zu [user] sections, %zu rows of %s "
		    "(not saved yet: w saves)", emails.n, sects.n, nrows,
		    base_name(c->site->users_path));
	}
	strv_free(&emails);
	strv_free(&sects);
}

static void
filter_change(struct console *c, const char *text)
{
	users_filter(c, text);		/* live filtering as you type */
}

static void
filter_done(struct console *c, const char *text)
{
	free(c->ufilter_prev);
	c->ufilter_prev = NULL;
	users_filter(c, text);
	con_status(c, false, "filter \"%s\": %zu of %zu users", text, c->nuf,
	    c->site->nusers);
}

static void
filter_cancel(struct console *c)
{
	char *prev = c->ufilter_prev;	/* back to the filter before the prompt */

	c->ufilter_prev = NULL;
	users_filter(c, prev);
	free(prev);
}

static void
users_key(struct console *c, const struct view *v, enum action a, int h)
{
	struct user *u;

	(void)v;
	(void)h;
	if (list_move(users_cur(c), c->nuf, a, c->list_h > 0 ? (size_t)c->list_h : 20))
		return;
	switch (a) {
	case AC_SEARCH:
		free(c->ufilter_prev);
		c->ufilter_prev = c->ufilter != NULL ? xstrdup(c->ufilter) : NULL;
		con_prompt(c, "filter users (text, imap:off, pop3:on ...): ", c->ufilter,
		    filter_done, filter_change, filter_cancel);
		return;
	case AC_ADD:
		form_open_add(c, "user", "email", "");
		return;
	case AC_DELALL:
		ask_delete(c, true);
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
		ask_delete(c, false);
		return;
	case AC_TOGGLE:
		con_ask(c, answer_toggle, 0, "Toggle which protocol of %s? [i]map [p]op3 "
		    "[s]mtp [a]ctivesync [m]api [o]wa [e]ws  (Esc cancels)", u->email);
		return;
	case AC_SETALL:
		con_ask(c, answer_setall_proto, 0, "Set which protocol for all %zu filtered users? "
		    "[i]map [p]op3 [s]mtp [a]ctivesync [m]api [o]wa [e]ws  (Esc cancels)",
		    c->nuf);
		return;
	default:
		return;
	}
}

/* state: 1 on, 0 off, -1 toggle. all: every filtered user, else the selected one. */
static void
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
		size_t cur = *users_cur(c);

		doc_copy(c, &tmp);
		doc_commit(c, &tmp, 0, 0, &d, true);
		ini_free(&tmp);
		diags_free(&d);
		*users_cur(c) = cur < c->nuf ? cur : 0;
	} else if (all && c->ufilter != NULL) {
		size_t cur = *users_cur(c);

		users_filter(c, c->ufilter);	/* protocol filters may now exclude them */
		*users_cur(c) = cur < c->nuf ? cur : c->nuf ? c->nuf - 1 : 0;
	}
}

static const char proto_letters[PROTO_COUNT] = { 'i', 'p', 's', 'a', 'm', 'o', 'e' };

static int
proto_from_letter(wint_t wc)
{
	for (int p = 0; p < PROTO_COUNT; p++)
		if ((wint_t)proto_letters[p] == wc)
			return p;
	return -1;
}

/* arg: 1 every filtered user, 0 the selected one */
static void
answer_delete(struct console *c, wint_t wc, int arg)
{
	if (wc == 'y')
		users_delete(c, arg == 1);
	else
		con_status(c, false, wc == 27 ? "cancelled" : "nothing deleted");
}

static void
answer_toggle(struct console *c, wint_t wc, int arg)
{
	int p = proto_from_letter(wc);

	(void)arg;
	if (wc == 27)
		con_status(c, false, "cancelled");
	else if (p < 0)
		con_status(c, true, "no protocol '%lc': nothing changed", (wint_t)wc);
	else
		users_toggle(c, p, -1, false);
}

static void
answer_setall_proto(struct console *c, wint_t wc, int arg)
{
	int p = proto_from_letter(wc);

	(void)arg;
	if (wc == 27)
		con_status(c, false, "cancelled");
	else if (p < 0)
		con_status(c, true, "no protocol '%lc': nothing changed", (wint_t)wc);
	else
		con_ask(c, answer_setall_state, p, "%s for all %zu filtered users: [+] on  "
		    "[-] off  (Esc cancels)", proto_names[p], c->nuf);
}

static void
answer_setall_state(struct console *c, wint_t wc, int arg)
{
	if (wc == '+' || wc == '-')
		users_toggle(c, arg, wc == '+', true);
	else
		con_status(c, false, wc == 27 ? "cancelled" : "nothing changed");
}

static size_t
users_count(const struct console *c, const struct view *v, bool shown)
{
	(void)v;
	return shown ? c->nuf : c->site->nusers;
}

/* / filters the users (VF_FILTER): no match() */
const struct view view_users = {
	.name = "Users", .blurb = "Users",
	.flags = VF_LIST | VF_FILTER | VF_EDIT | VF_PROTO,
	.count = users_count, .draw = users_draw, .key = users_key,
};
