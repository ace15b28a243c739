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
 * lines are rewritten; a Get-CASMailbox export (or a UTF-16 file) is converted to
 * mxdeck's columns on the first save of a toggle.
 *
 * Deleting a user that comes from the CSV removes it from the model at once (and again
 * after every reload, see doc_apply_pending) and, on save, cuts exactly its record out
 * of the CSV: every other byte stays, whatever the layout (Get-CASMailbox exports with
 * #TYPE, ';' or tab separators, CRLF, UTF-8 or UTF-16 with a byte order mark). Both
 * files are written atomically; the previous version goes to FILE.bak.1 (older ones
 * up to FILE.bak.10, backup_rotate). doc_save_diff shows first what a save writes.
 *
 * Undo: every change of the document goes through doc_commit, doc_user_set or
 * doc_delete_csv_users, which keep the state before it (the document's text and the
 * pending CSV deletions and toggles) once per key; doc_undo loads that text again and
 * re-applies those pending changes to the users read from the CSV, which does not
 * change on disk before a save. A save clears the steps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backends/ssh/diff.h"
#include "tui/doc.h"
#include "tui/view.h"

static void undo_save(struct console *c);

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
doc_install(struct console *c, struct site *s, struct diags *d)
{
	site_free(c->site);
	free(c->site);
	c->site = s;
	diags_free(&c->diags);
	c->diags = *d;
	memset(d, 0, sizeof *d);
	doc_apply_pending(c, s);
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
	undo_save(c);
	doc_install(c, s, d);
	c->dirty_ini = true;
	return 0;
}

bool
doc_user_in_csv(const struct site *s, const struct user *u)
{
	return u->file != NULL && s->users_path != NULL && strcmp(u->file, s->users_path) == 0;
}

/* ---- users deleted from the CSV ------------------------------------------- */

/* The protocols a user of a [user "..."] section gets once its CSV row is gone: the
 * [users] default with the section's keys on top, as site_load will see it. */
static unsigned
profile_protos(const struct site *s, const struct user *u)
{
	const struct ini *ini = &s->ini;
	unsigned protos = s->user_default;
	long hdr = u->line - 1, end;

	if (hdr < 0 || (size_t)hdr >= ini->n || ini->line[hdr].kind != INI_SECTION)
		return u->protos;
	end = doc_section_end(ini, hdr);
	for (long i = hdr + 1; i <= end; i++) {
		const struct ini_line *l = &ini->line[i];
		int p, b;

		if (l->kind != INI_KEY || (p = proto_from_name(l->key)) < 0 ||
		    (b = parse_bool(l->value)) < 0)
			continue;
		protos = b ? protos | PROTO_BIT(p) : protos & ~PROTO_BIT(p);
	}
	return protos;
}

void
doc_apply_pending(const struct console *c, struct site *s)
{
	if (c->nudel > 0) {
		const char **gone = xcalloc(c->nudel, sizeof *gone);
		size_t n = 0;

		for (size_t i = 0; i < c->nudel; i++) {
			struct user *u = site_find_user(s, c->udel[i].email);

			if (u == NULL)
				continue;
			if (doc_user_in_csv(s, u))
				gone[n++] = c->udel[i].email;
			else		/* added again in a [user] section */
				u->protos = profile_protos(s, u);
		}
		(void)site_remove_users(s, gone, n);
		free(gone);
	}
	for (size_t i = 0; i < c->nuch; i++) {
		struct user *u = site_find_user(s, c->uch[i].email);

		if (u != NULL)
			u->protos = c->uch[i].protos;
	}
}

void
doc_delete_csv_users(struct console *c, const unsigned char *drop)
{
	struct site *s = c->site;
	const char **gone = xcalloc(s->nusers + 1, sizeof *gone);
	size_t k = 0, n = 0;

	undo_save(c);
	for (size_t i = 0; i < s->nusers; i++) {
		if (!drop[i])
			continue;
		gone[n++] = s->users[i].email;
		if (!doc_user_in_csv(s, &s->users[i]))
			continue;
		xgrow(&c->udel, &c->udelcap, c->nudel + 1, sizeof *c->udel);
		c->udel[c->nudel].email = xstrdup(s->users[i].email);
		c->udel[c->nudel++].line = s->users[i].line;
	}
	/* toggles of a deleted user are moot: the save removes its row */
	for (size_t i = 0; i < c->nuch; i++) {
		struct user *u = site_find_user(s, c->uch[i].email);

		if (u != NULL && drop[u - s->users])
			free(c->uch[i].email);
		else
			c->uch[k++] = c->uch[i];
	}
	c->nuch = k;
	(void)site_remove_users(s, gone, n);
	free(gone);
	users_filter(c, c->ufilter);	/* the filtered indices moved */
}

/* ---- the users CSV on save ------------------------------------------------ */

/*
 * The CSV is read with users_csv_records() (profiles/site.c), the loader's own reader:
 * it tells which lines each record takes up and which user it holds. Records take
 * whole lines, and lines end at a '\n' in the file's own code units: bytes for UTF-8
 * (with or without a byte order mark), 16-bit units for UTF-16LE/BE, whose lines are
 * those of the UTF-8 text the loader reads. So a deleted record is cut out of the
 * original bytes and every other byte of the file stays as it was. Each record to cut
 * or rewrite must also start where the loader puts its user (csv_verify).
 */
struct csvtext {
	const unsigned char *b;
	size_t	 len;
	size_t	 unit;		/* 1: UTF-8, 2: UTF-16 */
	bool	 be;
	size_t	*line;		/* line[k]: where line k starts (1..nline); line[nline + 1]:
				 * the end of the last whole code unit */
	size_t	 nline;
};

static uint32_t
cu(const struct csvtext *t, size_t i)
{
	if (t->unit == 1)
		return t->b[i];
	return t->be ? (uint32_t)(t->b[i] << 8 | t->b[i + 1]) :
	    (uint32_t)(t->b[i + 1] << 8 | t->b[i]);
}

/* Where each line of the file starts, after a byte order mark. */
static void
csv_lines(struct csvtext *t, const char *buf, size_t len)
{
	size_t start = 0, cap = 0, i;

	memset(t, 0, sizeof *t);
	t->b = (const unsigned char *)buf;
	t->len = len;
	t->unit = 1;
	if (len >= 2 && ((t->b[0] == 0xff && t->b[1] == 0xfe) || (t->b[0] == 0xfe &&
	    t->b[1] == 0xff))) {
		t->unit = start = 2;
		t->be = t->b[0] == 0xfe;
	} else if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	xgrow(&t->line, &cap, 2, sizeof *t->line);
	t->line[t->nline = 1] = start;
	for (i = start; i + t->unit <= len; i += t->unit)
		if (cu(t, i) == '\n') {
			xgrow(&t->line, &cap, t->nline + 2, sizeof *t->line);
			t->line[++t->nline] = i + t->unit;
		}
	xgrow(&t->line, &cap, t->nline + 2, sizeof *t->line);
	t->line[t->nline + 1] = i;
}

static void
csv_user_line(struct sbuf *b, const struct user *u, char sep)
{
	if (strchr(u->email, sep) != NULL || strpbrk(u->email, "\"\r\n") != NULL) {
		sb_addc(b, '"');
		for (const char *p = u->email; *p != '\0'; p++) {
			if (*p == '"')
				sb_addc(b, '"');
			sb_addc(b, *p);
		}
		sb_addc(b, '"');
	} else
		sb_add(b, u->email);
	for (int p = 0; p < PROTO_COUNT; p++) {
		sb_addc(b, sep);
		sb_addc(b, (u->protos & PROTO_BIT(p)) ? '1' : '0');
	}
}

/* What the save does to the record starting on a line. */
struct csvact {
	const char	*email;		/* NULL: keep the record as it is */
	const struct user *u;		/* NULL: delete it; else rewrite it from u */
	bool		 done;
};

/* The new CSV: deleted records cut out, toggled users' records rewritten (mxdeck's own
 * columns, UTF-8), every other byte kept. Sets *convert when toggles must be saved
 * into a file in another layout: then nothing is written to out. */
static int
csv_edit(const struct console *c, const struct csvtext *t, const struct csv_records *recs,
    struct csvact *act, size_t nact, struct sbuf *out, bool *convert, char **cause)
{
	const char *path = c->site->users_path;
	size_t cur = 0;

	*convert = false;
	for (size_t i = 0; i < recs->n; i++)
		if (recs->v[i].kind == CSVREC_HEADER)
			*convert = c->nuch > 0 && (recs->utf16 || !recs->native);
	if (*convert)
		return 0;
	for (size_t i = 0; i < recs->n; i++) {
		const struct csv_record *r = &recs->v[i];
		struct csvact *a;
		size_t from, to;

		if (r->first < 1 || r->last < r->first || (size_t)r->last > t->nline) {
			*cause = xasprintf("%s:%d: the reader of the file and the console disagree "
			    "on its lines; nothing was saved. This is a bug in mxdeck: please "
			    "report it with the file", path, r->first);
			return -1;
		}
		if ((size_t)r->first >= nact || act[r->first].email == NULL ||
		    r->kind != CSVREC_USER || !str_ieq(r->email, act[r->first].email))
			continue;	/* kept as it is */
		a = &act[r->first];
		from = t->line[r->first];
		to = t->line[r->last + 1];
		sb_addn(out, (const char *)t->b + cur, from - cur);
		cur = to;
		a->done = true;
		if (a->u == NULL)
			continue;	/* deleted: its bytes are left out */
		csv_user_line(out, a->u, recs->sep);
		if (to - from >= 2 * t->unit && cu(t, to - 2 * t->unit) == '\r' &&
		    cu(t, to - t->unit) == '\n')
			sb_add(out, "\r\n");
		else if (to > from && cu(t, to - t->unit) == '\n')
			sb_addc(out, '\n');
	}
	sb_addn(out, (const char *)t->b + cur, t->len - cur);
	for (size_t i = 0; i < nact; i++)
		if (act[i].email != NULL && !act[i].done) {
			*cause = xasprintf("%s:%zu: no record of %s starts there; nothing was "
			    "saved (q then y discards the console's changes)", path, i,
			    act[i].email);
			return -1;
		}
	return 0;
}

/* The users of a CSV text, read by the loader's own code. */
static void
csv_users(const struct console *c, const char *buf, size_t len, struct site *out)
{
	struct diags d;

	memset(out, 0, sizeof *out);
	memset(&d, 0, sizeof d);
	(void)users_csv_parse(out, c->site->users_path, buf, len, &d);
	diags_free(&d);
}

/* Each record to cut or rewrite must still hold its user in the file as it is on disk
 * now (before: its users). */
static int
csv_verify(const struct console *c, const struct site *before, const struct csvact *act,
    size_t nact, char **cause)
{
	const char *path = c->site->users_path;

	for (size_t i = 0; i < nact; i++) {
		const struct user *u;

		if (act[i].email == NULL)
			continue;
		u = site_find_user(before, act[i].email);
		if (u == NULL) {
			*cause = xasprintf("%s: %s is no longer in the file: it changed on disk "
			    "since it was loaded; nothing was saved (q then y discards the "
			    "console's changes; open the profile again)", path, act[i].email);
			return -1;
		}
		if (u->line != (int)i) {
			*cause = xasprintf("%s:%zu: expected the row of %s there, it is on line "
			    "%d now: the file changed on disk since it was loaded; nothing was "
			    "saved (q then y discards the console's changes; open the profile "
			    "again)", path, i, act[i].email, u->line);
			return -1;
		}
	}
	return 0;
}

/* The edited text must hold the same users as before, less the deleted ones, with the
 * rewritten ones' new protocols: a last check before anything is written. */
static int
csv_check(const struct console *c, const struct site *before, const struct sbuf *out,
    const struct csvact *act, size_t nact, char **cause)
{
	struct site after;
	size_t ndel = 0;
	const char *bad = NULL;

	csv_users(c, out->s != NULL ? out->s : "", out->len, &after);
	for (size_t i = 0; i < nact && bad == NULL; i++) {
		const struct user *u;

		if (act[i].email == NULL)
			continue;
		u = site_find_user(&after, act[i].email);
		if (act[i].u == NULL) {
			ndel++;
			if (u != NULL)
				bad = act[i].email;
		} else if (u == NULL || u->protos != act[i].u->protos)
			bad = act[i].email;
	}
	if (bad == NULL && after.nusers + ndel != before->nusers)
		bad = "(the number of users)";
	if (bad != NULL)
		*cause = xasprintf("%s: the edited file would not hold what the console shows "
		    "(%s); nothing was saved. This is a bug in mxdeck: please report it with "
		    "the file", c->site->users_path, bad);
	site_free(&after);
	return bad != NULL ? -1 : 0;
}

/* The CSV as it is on disk (*old, *oldlen, its mode) and as the save would write it
 * (out). */
static int
csv_build(struct console *c, char **oldp, size_t *oldlen, unsigned *modep,
    struct sbuf *out, char **cause)
{
	const char *path = c->site->users_path;
	struct csvtext t;
	struct csv_records recs;
	struct site before;
	struct csvact *act = NULL;
	size_t len, nact = 0;
	char *old;
	struct stat st;
	bool convert;
	int rc;

	sb_init(out);
	if (path == NULL) {
		*cause = xstrdup("the profile has no users file ([users] file =)");
		return -1;
	}
	if ((old = read_input_file(path, IK_USERS, &len, cause)) == NULL)
		return -1;
	*modep = 0644;
	if (stat(path, &st) == 0)
		*modep = st.st_mode & 07777;
	/* act[line]: the record starting on that line goes or is rewritten */
	for (size_t i = 0; i < c->nudel; i++)
		if (c->udel[i].line > 0 && (size_t)c->udel[i].line + 1 > nact)
			nact = (size_t)c->udel[i].line + 1;
	for (size_t i = 0; i < c->nuch; i++) {
		const struct user *u = site_find_user(c->site, c->uch[i].email);

		if (u != NULL && doc_user_in_csv(c->site, u) && (size_t)u->line + 1 > nact)
			nact = (size_t)u->line + 1;
	}
	act = xcalloc(nact + 1, sizeof *act);
	for (size_t i = 0; i < c->nudel; i++)
		if (c->udel[i].line > 0)
			act[c->udel[i].line].email = c->udel[i].email;
	for (size_t i = 0; i < c->nuch; i++) {
		const struct user *u = site_find_user(c->site, c->uch[i].email);

		if (u != NULL && doc_user_in_csv(c->site, u) && u->line > 0) {
			act[u->line].email = u->email;
			act[u->line].u = u;
		}
	}
	csv_users(c, old, len, &before);
	rc = csv_verify(c, &before, act, nact, cause);
	if (rc == 0) {
		struct diags d;

		memset(&d, 0, sizeof d);
		(void)users_csv_records(path, old, len, &recs, &d);	/* as csv_users */
		diags_free(&d);
		csv_lines(&t, old, len);
		rc = csv_edit(c, &t, &recs, act, nact, out, &convert, cause);
		free(t.line);
		csv_records_free(&recs);
	}
	if (rc == 0 && !convert)
		rc = csv_check(c, &before, out, act, nact, cause);
	site_free(&before);
	free(act);
	if (rc == 0 && convert) {
		/* toggles in a Get-CASMailbox export (or UTF-16): mxdeck's columns */
		sb_reset(out);
		sb_add(out, "email,imap,pop3,smtp,activesync,mapi,owa,ews\n");
		for (size_t i = 0; i < c->site->nusers; i++) {
			if (!doc_user_in_csv(c->site, &c->site->users[i]))
				continue;
			csv_user_line(out, &c->site->users[i], ',');
			sb_addc(out, '\n');
		}
	}
	if (rc == -1) {
		sb_free(out);
		free(old);
		return -1;
	}
	*oldp = old;
	*oldlen = len;
	return 0;
}

/* The previous version goes to PATH.bak.1 (the older ones move up, PATH.bak.10 is the
 * last kept), then the new text replaces the file (through a symlink). */
static int
csv_save(struct console *c, char **cause)
{
	const char *path = c->site->users_path;
	struct sbuf out;
	size_t len;
	char *old;
	unsigned mode;
	int rc;

	if (csv_build(c, &old, &len, &mode, &out, cause) == -1)
		return -1;
	rc = backup_rotate(path, old, len, mode, BACKUP_KEEP, cause);
	free(old);
	if (rc == 0)
		rc = write_file_through(path, out.s != NULL ? out.s : "", out.len, mode, cause);
	sb_free(&out);
	return rc;
}

/* Load the document and the CSV again (after a save moved the CSV's lines). */
static void
doc_reload(struct console *c)
{
	struct site *s;
	struct diags d;
	size_t len;
	char *buf = ini_serialize(&c->site->ini, &len);

	doc_check(c, buf, len, &s, &d);
	free(buf);
	doc_install(c, s, &d);
}

int
doc_save(struct console *c, char **cause)
{
	bool moved = c->nudel > 0;

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
		size_t len;

		if (ini_save(&c->site->ini, c->site->path, cause) == -1)
			return -1;
		c->dirty_ini = false;
		/* the file holds this text now, even if the CSV's save fails below: an
		 * undo then compares with it */
		free(c->saved_ini);
		c->saved_ini = ini_serialize(&c->site->ini, &len);
	}
	if (c->nuch > 0 || c->nudel > 0) {
		if (csv_save(c, cause) == -1)
			return -1;
		for (size_t i = 0; i < c->nuch; i++)
			free(c->uch[i].email);
		c->nuch = 0;
		for (size_t i = 0; i < c->nudel; i++)
			free(c->udel[i].email);
		c->nudel = 0;
		if (moved)
			doc_reload(c);	/* the rows after a deleted one moved up */
	}
	doc_undo_clear(c);	/* the stack ends at a save: the file is the new start */
	c->saves++;
	return 0;
}

bool
doc_section_in(const char *const *secs, const char *s)
{
	for (; secs != NULL && *secs != NULL; secs++)
		if (strcmp(*secs, s) == 0)
			return true;
	return false;
}

void
doc_entries(const struct console *c, const char *const *secs, struct entries *e)
{
	const struct ini *ini = &c->site->ini;

	e->n = 0;
	for (size_t i = 0; secs != NULL && i < ini->n; i++) {
		const struct ini_line *l = &ini->line[i];

		if (l->kind != INI_SECTION || l->section == NULL ||
		    !doc_section_in(secs, l->section))
			continue;
		xgrow(&e->v, &e->cap, e->n + 1, sizeof *e->v);
		e->v[e->n++] = (long)i;
	}
}

/* ---- the users filter ------------------------------------------------------ */

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
	undo_save(c);
	if (!doc_user_in_csv(c->site, u)) {
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

/* ---- the diff a save shows --------------------------------------------------- */

int
doc_save_diff(struct console *c, struct sbuf *out, char **cause)
{
	if (c->dirty_ini) {
		size_t olen = 0, nlen;
		char *old = NULL, *now = ini_serialize(&c->site->ini, &nlen);
		struct stat st;

		if (stat(c->site->path, &st) == 0 &&
		    (old = read_input_file(c->site->path, IK_PROFILE, &olen, cause)) == NULL) {
			free(now);
			return -1;
		}
		if (diff_unified(out, c->site->path, old, olen, now, nlen) == 0)
			sb_addf(out, "%s: no difference in the text (the save rewrites it as "
			    "it is)\n", c->site->path);
		free(old);
		free(now);
	}
	if (c->nuch > 0 || c->nudel > 0) {
		struct sbuf csv;
		size_t olen;
		char *old;
		unsigned mode;

		if (csv_build(c, &old, &olen, &mode, &csv, cause) == -1)
			return -1;
		(void)diff_unified(out, c->site->users_path, old, olen,
		    csv.s != NULL ? csv.s : "", csv.len);
		free(old);
		sb_free(&csv);
	}
	return 0;
}

/* ---- undo -------------------------------------------------------------------- */

/* The state before an edit: what doc_undo puts back. The users CSV itself is not
 * kept: it does not change on disk until a save, and a save clears the stack. */
struct undostep {
	unsigned long	 seq;		/* the key that made the edit */
	char		*label;		/* what the edit was (its status line) */
	char		*ini;		/* the document text */
	size_t		 len;
	struct uchange	*uch;
	size_t		 nuch;
	struct udelete	*udel;
	size_t		 nudel;
};

#define UNDO_MAX	200	/* steps kept; the oldest go first */
/* ... and fewer when they hold many pending user changes: a set-all over 100k CSV users
 * copies 100k of them into every later step. The newest step is always kept. */
#define UNDO_USERS_MAX	1000000

static size_t
undo_users(const struct undostep *u)
{
	return u->nuch + u->nudel;
}

static void
undo_step_free(struct undostep *u)
{
	if (u == NULL)
		return;
	free(u->label);
	free(u->ini);
	for (size_t i = 0; i < u->nuch; i++)
		free(u->uch[i].email);
	free(u->uch);
	for (size_t i = 0; i < u->nudel; i++)
		free(u->udel[i].email);
	free(u->udel);
	free(u);
}

void
doc_undo_clear(struct console *c)
{
	size_t len;

	for (size_t i = 0; i < c->nundo; i++)
		undo_step_free(c->undo[i]);
	c->nundo = 0;
	free(c->saved_ini);
	c->saved_ini = c->site != NULL ? ini_serialize(&c->site->ini, &len) : NULL;
}

void
doc_undo_start(struct console *c)
{
	doc_undo_clear(c);
}

void
doc_undo_free(struct console *c)
{
	for (size_t i = 0; i < c->nundo; i++)
		undo_step_free(c->undo[i]);
	free(c->undo);
	c->undo = NULL;
	c->nundo = c->undocap = 0;
	free(c->saved_ini);
	c->saved_ini = NULL;
}

/* One pending toggle per user, the last one (doc_user_set appends one per change, so a
 * set-all repeated over 100k CSV users would grow the list, and every undo step that
 * copies it, by 100k each time). Each entry holds the user's final protocols, so
 * keeping the last is the same state. */
static void
uch_compact(struct console *c)
{
	struct site *s = c->site;
	unsigned char *seen;
	size_t k;

	if (c->nuch < 2)
		return;
	seen = xcalloc(s->nusers + 1, 1);
	for (size_t i = c->nuch; i-- > 0;) {
		const struct user *u = site_find_user(s, c->uch[i].email);

		if (u == NULL)
			continue;	/* kept as it is */
		if (seen[u - s->users]) {
			free(c->uch[i].email);
			c->uch[i].email = NULL;
		} else
			seen[u - s->users] = 1;
	}
	free(seen);
	k = 0;
	for (size_t i = 0; i < c->nuch; i++)
		if (c->uch[i].email != NULL)
			c->uch[k++] = c->uch[i];
	c->nuch = k;
}

/* Called by every change of the document before it changes: the first change a key
 * makes keeps the state before it; the others of the same key add nothing. */
static void
undo_save(struct console *c)
{
	struct undostep *u;

	if (c->nundo > 0 && c->undo[c->nundo - 1]->seq == c->undo_seq)
		return;
	uch_compact(c);
	if (c->nundo == UNDO_MAX) {
		undo_step_free(c->undo[0]);
		memmove(c->undo, c->undo + 1, (c->nundo - 1) * sizeof *c->undo);
		c->nundo--;
	}
	u = xcalloc(1, sizeof *u);
	u->seq = c->undo_seq;
	u->ini = ini_serialize(&c->site->ini, &u->len);
	if (c->nuch > 0) {
		u->uch = xcalloc(c->nuch, sizeof *u->uch);
		for (size_t i = 0; i < c->nuch; i++) {
			u->uch[i].email = xstrdup(c->uch[i].email);
			u->uch[i].protos = c->uch[i].protos;
		}
		u->nuch = c->nuch;
	}
	if (c->nudel > 0) {
		u->udel = xcalloc(c->nudel, sizeof *u->udel);
		for (size_t i = 0; i < c->nudel; i++) {
			u->udel[i].email = xstrdup(c->udel[i].email);
			u->udel[i].line = c->udel[i].line;
		}
		u->nudel = c->nudel;
	}
	xgrow(&c->undo, &c->undocap, c->nundo + 1, sizeof *c->undo);
	c->undo[c->nundo++] = u;
	{
		size_t total = 0, drop = 0;

		for (size_t i = 0; i < c->nundo; i++)
			total += undo_users(c->undo[i]);
		while (total > UNDO_USERS_MAX && drop + 1 < c->nundo) {
			total -= undo_users(c->undo[drop]);
			undo_step_free(c->undo[drop++]);
		}
		if (drop > 0) {
			memmove(c->undo, c->undo + drop, (c->nundo - drop) * sizeof *c->undo);
			c->nundo -= drop;
		}
	}
}

/* The status line of the key that made the step, without the "not saved yet" tail. */
void
doc_undo_label(struct console *c)
{
	static const char *const tails[] = { " (not saved yet", "; not saved yet",
	    " (w saves", ": the profile now has" };
	struct undostep *u;
	char *l;

	if (c->nundo == 0 || (u = c->undo[c->nundo - 1])->seq != c->undo_seq ||
	    u->label != NULL)
		return;
	l = xstrdup(c->status != NULL ? c->status : "an edit");
	for (size_t i = 0; i < nitems(tails); i++) {
		char *p = strstr(l, tails[i]);

		if (p != NULL && p != l)
			*p = '\0';
	}
	{
		/* "; N warnings: ..." after an edit: cut there too */
		char *p = strstr(l, " warning");

		while (p != NULL && p > l && p[-1] >= '0' && p[-1] <= '9')
			p--;
		if (p != NULL && p - l >= 2 && p[-1] == ' ' && p[-2] == ';')
			p[-2] = '\0';
	}
	u->label = l;
}

int
doc_undo(struct console *c, char **what)
{
	struct undostep *u;
	struct site *s;
	struct diags d;

	if (c->nundo == 0)
		return 0;
	u = c->undo[--c->nundo];
	/* the pending CSV changes of that time, then the document (doc_install applies
	 * them to the users it loads again from the CSV on disk) */
	for (size_t i = 0; i < c->nuch; i++)
		free(c->uch[i].email);
	c->nuch = 0;
	for (size_t i = 0; i < c->nudel; i++)
		free(c->udel[i].email);
	c->nudel = 0;
	if (u->nuch > 0) {
		xgrow(&c->uch, &c->uchcap, u->nuch, sizeof *c->uch);
		memcpy(c->uch, u->uch, u->nuch * sizeof *c->uch);
		c->nuch = u->nuch;
		free(u->uch);
		u->uch = NULL;
		u->nuch = 0;
	}
	if (u->nudel > 0) {
		xgrow(&c->udel, &c->udelcap, u->nudel, sizeof *c->udel);
		memcpy(c->udel, u->udel, u->nudel * sizeof *c->udel);
		c->nudel = u->nudel;
		free(u->udel);
		u->udel = NULL;
		u->nudel = 0;
	}
	doc_check(c, u->ini, u->len, &s, &d);
	doc_install(c, s, &d);
	c->dirty_ini = c->saved_ini == NULL || strlen(c->saved_ini) != u->len ||
	    memcmp(c->saved_ini, u->ini, u->len) != 0;
	*what = xstrdup(u->label != NULL ? u->label : "an edit");
	undo_step_free(u);
	return 1;
}
