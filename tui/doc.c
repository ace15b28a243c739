/* doc.c: the profile document the console edits.
 *
 * The ini document inside struct site is the single source of truth. An edit works
 * on a copy (serialize + parse), is checked with the same code as `mxdeck lint`
 * (site_load_buf + site_lint) and is installed only when the edited lines have no
 * errors. Unchanged lines stay byte-identical, so a save rewrites only the lines the
 * admin changed and keeps every comment and the order.
 *
 * Per-user protocol toggles: a user defined by a [user "..."] section is edited
 * there; a user that comes from the users CSV is edited in the CSV, because writing
 * 100k [user] sections into the profile would bury it. When the CSV has mxdeck's own
 * columns (email,imap,pop3,smtp,activesync,mapi,owa,ews) only the changed users'
 * lines are rewritten; a Get-CASMailbox export is converted to mxdeck's columns on
 * the first save. Both files are written atomically with a .bak of the previous
 * version. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "tui/console.h"

void
doc_copy(const struct console *c, struct ini *out)
{
	struct diags d;
	size_t len;
	char *buf = ini_serialize(&c->site->ini, &len);

	memset(&d, 0, sizeof d);
	memset(out, 0, sizeof *out);
	ini_parse(out, c->site->path, buf, len, &d);
	diags_free(&d);
	free(buf);
}

int
doc_check(const struct console *c, const char *buf, size_t len, struct site **out,
    struct diags *d)
{
	struct site *s = xcalloc(1, sizeof *s);

	memset(d, 0, sizeof *d);
	if (site_load_buf(s, c->site->path, buf, len, d) == 0)
		site_lint(s, d);
	diags_sort(d);
	*out = s;
	return (int)d->nerrors;
}

void
doc_reapply_users(struct console *c)
{
	for (size_t i = 0; i < c->nuch; i++) {
		struct user *u = site_find_user(c->site, c->uch[i].email);

		if (u != NULL)
			u->protos = c->uch[i].protos;
	}
}

void
doc_install(struct console *c, struct site *s, struct diags *d)
{
	site_free(c->site);
	free(c->site);
	c->site = s;
	diags_free(&c->diags);
	c->diags = *d;
	memset(d, 0, sizeof *d);
	doc_reapply_users(c);
	users_filter(c, c->ufilter);
	con_refresh_entries(c);
}

static bool
diag_in(const struct console *c, const struct diag *g, long lo, long hi)
{
	return g->file != NULL && strcmp(g->file, c->site->path) == 0 && g->line >= lo &&
	    g->line <= hi;
}

int
doc_commit(struct console *c, struct ini *edited, long lo, long hi, struct diags *d,
    bool force)
{
	struct site *s;
	size_t len;
	char *buf = ini_serialize(edited, &len);
	int nerr = 0;

	doc_check(c, buf, len, &s, d);
	free(buf);
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == SEV_ERROR && diag_in(c, &d->v[i], lo, hi))
			nerr++;
	if (nerr > 0 && !force) {
		site_free(s);
		free(s);
		return nerr;
	}
	doc_install(c, s, d);
	c->dirty_ini = true;
	return 0;
}

static bool
csv_native_header(const char *line, size_t n)
{
	static const char want[] = "email,imap,pop3,smtp,activesync,mapi,owa,ews";
	char tmp[64];
	size_t j = 0;

	for (size_t i = 0; i < n && j < sizeof tmp - 1; i++)
		if (line[i] != '"' && line[i] != ' ' && line[i] != '\r')
			tmp[j++] = line[i];
	tmp[j] = '\0';
	return strcasecmp(tmp, want) == 0;
}

static void
csv_user_line(struct sbuf *b, const struct user *u)
{
	sb_add(b, u->email);
	for (int p = 0; p < PROTO_COUNT; p++)
		sb_add(b, (u->protos & PROTO_BIT(p)) ? ",1" : ",0");
}

static bool
user_in_csv(const struct console *c, const struct user *u)
{
	return u->file != NULL && c->site->users_path != NULL &&
	    strcmp(u->file, c->site->users_path) == 0;
}

static int
csv_save(struct console *c, char **cause)
{
	const char *path = c->site->users_path;
	struct sbuf out;
	size_t len, nlines = 0, lcap = 0;
	char *old, *bak, *p;
	struct { char *s; size_t n; } *lines = NULL;
	char **repl;
	struct stat st;
	unsigned mode = 0644;
	int rc;

	if (path == NULL) {
		*cause = xstrdup("the profile has no users file ([users] file =)");
		return -1;
	}
	if ((old = read_file(path, &len, cause)) == NULL)
		return -1;
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	for (p = old; p < old + len;) {
		char *e = memchr(p, '\n', (size_t)(old + len - p));
		size_t n = e != NULL ? (size_t)(e - p) : (size_t)(old + len - p);

		xgrow(&lines, &lcap, nlines + 1, sizeof *lines);
		lines[nlines].s = p;
		lines[nlines++].n = n;
		p += n + (e != NULL);
	}
	sb_init(&out);
	if (nlines > 0 && csv_native_header(lines[0].s, lines[0].n)) {
		repl = xcalloc(nlines, sizeof *repl);
		for (size_t i = 0; i < c->nuch; i++) {
			struct user *u = site_find_user(c->site, c->uch[i].email);
			struct sbuf b;

			if (u == NULL || !user_in_csv(c, u) || u->line < 1 ||
			    (size_t)u->line > nlines)
				continue;
			sb_init(&b);
			csv_user_line(&b, u);
			free(repl[u->line - 1]);
			repl[u->line - 1] = sb_steal(&b);
		}
		for (size_t i = 0; i < nlines; i++) {
			if (repl[i] != NULL) {
				sb_add(&out, repl[i]);
				if (lines[i].n > 0 && lines[i].s[lines[i].n - 1] == '\r')
					sb_addc(&out, '\r');
				free(repl[i]);
			} else
				sb_addn(&out, lines[i].s, lines[i].n);
			if (i + 1 < nlines || (len > 0 && old[len - 1] == '\n'))
				sb_addc(&out, '\n');
		}
		free(repl);
	} else {
		sb_add(&out, "email,imap,pop3,smtp,activesync,mapi,owa,ews\n");
		for (size_t i = 0; i < c->site->nusers; i++) {
			if (!user_in_csv(c, &c->site->users[i]))
				continue;
			csv_user_line(&out, &c->site->users[i]);
			sb_addc(&out, '\n');
		}
	}
	free(lines);
	bak = xasprintf("%s.bak", path);
	rc = write_file_atomic(bak, old, len, mode, cause);
	free(bak);
	free(old);
	if (rc == 0)
		rc = write_file_atomic(path, out.s, out.len, mode, cause);
	sb_free(&out);
	return rc;
}

int
doc_save(struct console *c, char **cause)
{
	if (c->diags.nerrors > 0) {
		const struct diag *g = NULL;

		for (size_t i = 0; i < c->diags.n && g == NULL; i++)
			if (c->diags.v[i].sev == SEV_ERROR)
				g = &c->diags.v[i];
		*cause = xasprintf("not saved: the profile has %zu error%s; first: %s:%d: %s",
		    c->diags.nerrors, c->diags.nerrors == 1 ? "" : "s", g->file ? g->file : "?",
		    g->line, g->msg);
		return -1;
	}
	if (c->dirty_ini) {
		if (ini_save(&c->site->ini, c->site->path, cause) == -1)
			return -1;
		c->dirty_ini = false;
	}
	if (c->nuch > 0) {
		if (csv_save(c, cause) == -1)
			return -1;
		for (size_t i = 0; i < c->nuch; i++)
			free(c->uch[i].email);
		c->nuch = 0;
	}
	return 0;
}

bool
doc_section_in(enum section sec, const char *s)
{
	switch (sec) {
	case SEC_SITE:
		return strcmp(s, "site") == 0 || strcmp(s, "access") == 0 ||
		    strcmp(s, "users") == 0 || strcmp(s, "connector") == 0;
	case SEC_HOSTS:
		return strcmp(s, "host") == 0;
	case SEC_VHOSTS:
		return strcmp(s, "vhost") == 0;
	case SEC_AUTODISCOVER:
		return strcmp(s, "autodiscover") == 0;
	case SEC_HRULES:
		return strcmp(s, "header-rules") == 0;
	case SEC_TLS:
		return strcmp(s, "tls") == 0;
	default:
		return false;
	}
}

void
doc_entries(const struct console *c, enum section sec, struct entries *e)
{
	const struct ini *ini = &c->site->ini;

	e->n = 0;
	for (size_t i = 0; i < ini->n; i++) {
		const struct ini_line *l = &ini->line[i];

		if (l->kind != INI_SECTION || l->section == NULL ||
		    !doc_section_in(sec, l->section))
			continue;
		xgrow(&e->v, &e->cap, e->n + 1, sizeof *e->v);
		e->v[e->n++] = (long)i;
	}
}

long
doc_section_end(const struct ini *ini, long hdr)
{
	long end = hdr;

	for (size_t i = (size_t)hdr + 1; i < ini->n; i++) {
		if (ini->line[i].kind == INI_SECTION)
			break;
		if (ini->line[i].kind == INI_KEY || ini->line[i].kind == INI_BAD)
			end = (long)i;
	}
	return end;
}

size_t
doc_findings(const struct console *c, int line, const struct diag **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->diags.n && n < max; i++) {
		const struct diag *g = &c->diags.v[i];

		if (g->line == line && g->file != NULL && strcmp(g->file, c->site->path) == 0)
			out[n++] = g;
	}
	return n;
}

void
doc_delete_section(struct ini *ini, const char *section, const char *sub)
{
	long s = ini_find_section(ini, section, sub);

	if (s < 0)
		return;
	ini_delete_section(ini, section, sub);
	/* a section that was last in the file leaves the blank line before it */
	if ((size_t)s == ini->n && s > 0 && ini->line[s - 1].kind == INI_BLANK)
		ini_delete_line(ini, (size_t)s - 1);
}

void
doc_user_set(struct console *c, struct user *u, unsigned protos)
{
	if (u->protos == protos)
		return;
	if (!user_in_csv(c, u)) {
		for (int p = 0; p < PROTO_COUNT; p++)
			if ((u->protos ^ protos) & PROTO_BIT(p))
				ini_set(&c->site->ini, "user", u->email, proto_names[p],
				    (protos & PROTO_BIT(p)) ? "on" : "off");
		c->dirty_ini = true;
		u->protos = protos;
		return;
	}
	u->protos = protos;
	xgrow(&c->uch, &c->uchcap, c->nuch + 1, sizeof *c->uch);
	c->uch[c->nuch].email = xstrdup(u->email);
	c->uch[c->nuch++].protos = protos;
}
