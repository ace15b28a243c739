/* doctor.c: the read-only preflight of `mxdeck doctor` (doctor.h). One table of
 * checks (checks[] at the end), run in order on a read-only transport; a command table
 * (cmds[]) for what each role runs on the host. The Apache modules a rendered site
 * needs come from the render itself (the mods-enabled links of apache-mods.c). */
#include "backends/ssh/doctor.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backends/render/render.h"
#include "backends/ssh/remote-parse.h"
#include "backends/ssh/xport.h"
#include "profiles/util.h"

#define MIB (1024ULL * 1024ULL)
#define SPACE_FAIL (16 * MIB)	/* below this a backup plus the new files may not fit */
#define SPACE_WARN (128 * MIB)

struct dctx {
	const struct site *site;
	const struct host *h;
	struct xport *x;
	struct doctor_result *r;
	const char *login;		/* user name on the host */
	long	 uid;			/* of the login; -1 unknown */
	struct sbuf passwd, group;	/* /etc/passwd, /etc/group of the host */
	bool	 have_ids;
	char	*found[64];		/* path of cmds[i] when found, else NULL */
	char	*mail_version, *mail_owner, *setgid_group, *queue_dir;
	long	 pf_uid, pf_gid;	/* mail_owner, setgid_group; -1 unknown */
	struct fileset fs;
	int	 rendered;		/* 0 not yet, 1 done, -1 failed */
	char	*render_error;
};

/* ---- results ---- */

void
doctor_result_init(struct doctor_result *r)
{
	memset(r, 0, sizeof *r);
}

void
doctor_result_free(struct doctor_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].check);
		free(r->v[i].what);
		free(r->v[i].fix);
	}
	free(r->v);
	free(r->summary);
	memset(r, 0, sizeof *r);
}

const char *
dr_level_word(enum dr_level l)
{
	return l == DR_OK ? "ok" : l == DR_WARN ? "warn" : "FAIL";
}

/* Add a finding; takes what and fix (fix may be NULL). */
static void
add(struct dctx *c, enum dr_level l, const char *check, char *what, char *fix)
{
	struct doctor_result *r = c->r;
	struct dr_finding *f;

	xgrow(&r->v, &r->cap, r->n + 1, sizeof *r->v);
	f = &r->v[r->n++];
	f->level = l;
	f->check = xstrdup(check);
	f->what = what;
	f->fix = fix;
	if (l == DR_WARN)
		r->nwarn++;
	else if (l == DR_FAIL)
		r->nfail++;
}

/* The first line of untrusted text, printable, at most 160 bytes. */
static char *
first_line(const char *s)
{
	size_t n = strcspn(s, "\n");
	char *l = xstrndup(s, n > 160 ? 160 : n), *p = str_printable(l);

	free(l);
	return p;
}

/* ---- host facts ---- */

static const char *const bindirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
    "/usr/bin", "/sbin", "/bin" };

/* Where the host has program name (the first of bindirs), or NULL. */
static char *
find_prog(struct dctx *c, const char *name)
{
	for (size_t i = 0; i < nitems(bindirs); i++) {
		char *path = xasprintf("%s/%s", bindirs[i], name), *cause = NULL;
		struct xstat st = { 0 };

		if (xport_lstat(c->x, path, &st, &cause) == 0 && st.exists && !st.is_dir) {
			free(cause);
			return path;
		}
		free(cause);
		free(path);
	}
	return NULL;
}

/* The numeric field (2 = uid or gid) of name in passwd/group text; -1 when absent. */
static long
id_of(const struct sbuf *db, const char *name)
{
	size_t nl = strlen(name);
	const char *p = db->s, *end = db->s + db->len;

	while (p != NULL && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);

		if (len > nl + 1 && memcmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *f = memchr(p + nl + 1, ':', len - nl - 1);	/* after x: */
			char *e;
			long v;

			if (f != NULL && isdigit((unsigned char)f[1])) {
				v = strtol(f + 1, &e, 10);
				if (e < p + len && *e == ':' && v >= 0)
					return v;
			}
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
	return -1;
}

/* Lazily render this host in memory (what plan and apply would write). */
static int
rendered(struct dctx *c)
{
	if (c->rendered == 0) {
		struct render_ctx ctx = render_ctx_for(c->site, c->h);

		if (c->mail_version != NULL && c->h->postfix_version == NULL)
			ctx.postfix_version = c->mail_version;
		c->rendered = render_host(&ctx, &c->fs, &c->render_error) == 0 ? 1 : -1;
	}
	return c->rendered;
}

/* ---- the commands each role runs ---- */

static const struct cmd {
	unsigned roles;		/* 0: every host */
	const char *name;
	const char *pkg;
	enum dr_level missing;
	const char *why;
} cmds[] = {
	{ 0, "sh", "dash", DR_FAIL, "runs validation and reload" },
	{ 0, "mv", "coreutils", DR_FAIL, "puts each file in place" },
	{ 0, "cp", "coreutils", DR_FAIL, "stages and backs up" },
	{ 0, "ln", "coreutils", DR_FAIL, "enables sites" },
	{ 0, "rm", "coreutils", DR_FAIL, "removes temporary files" },
	{ 0, "mkdir", "coreutils", DR_FAIL, "creates the staging directory" },
	{ 0, "find", "findutils", DR_FAIL, "lists old backups" },
	{ 0, "pgrep", "procps", DR_WARN, "tells a real reload from one the daemon ignored" },
	{ ROLE_POSTFIX, "postconf", "postfix", DR_FAIL, "merges main.cf/master.cf" },
	{ ROLE_POSTFIX, "postfix", "postfix", DR_FAIL, "checks and reloads Postfix" },
	{ ROLE_POSTFIX, "postmap", "postfix", DR_FAIL, "builds the lookup tables" },
	{ ROLE_DOVECOT, "doveconf", "dovecot-core", DR_FAIL, "validates the Dovecot config" },
	{ ROLE_DOVECOT, "doveadm", "dovecot-core", DR_FAIL, "reloads Dovecot" },
	{ ROLE_DOVECOT, "dovecot", "dovecot-core", DR_FAIL, "is the IMAP/POP3 server" },
	{ ROLE_APACHE, "apache2", "apache2", DR_FAIL, "validates (-t) and reloads" },
	{ ROLE_APACHE, "apache2ctl", "apache2", DR_FAIL, "is Apache's control script" },
	{ ROLE_NGINX, "nginx", "nginx", DR_FAIL, "validates (-t) and reloads" },
};

static void
ck_commands(struct dctx *c)
{
	struct sbuf okl = { 0 };

	sb_init(&okl);
	for (size_t i = 0; i < nitems(cmds) && i < nitems(c->found); i++) {
		const struct cmd *m = &cmds[i];

		if (m->roles != 0 && !(c->h->roles & m->roles))
			continue;
		c->found[i] = find_prog(c, m->name);
		if (c->found[i] != NULL)
			sb_addf(&okl, "%s%s", okl.len > 0 ? " " : "", m->name);
		else
			add(c, m->missing, "commands", xasprintf("%s not found in /usr/sbin, "
			    "/usr/bin, /sbin, /bin or /usr/local (mxdeck runs it: it %s)", m->name,
			    m->why), xasprintf("apt-get install %s", m->pkg));
	}
	if (okl.len > 0)
		add(c, DR_OK, "commands", xasprintf("found: %s", okl.s), NULL);
	sb_free(&okl);
}

static const char *
found(const struct dctx *c, const char *name)
{
	for (size_t i = 0; i < nitems(cmds) && i < nitems(c->found); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return c->found[i];
	return NULL;
}

/* ---- Postfix: postconf runs (PATH), the version, user/group, set-permissions ---- */

/* A value postconf printed: one word of [A-Za-z0-9._/+-], else NULL. */
static char *
pc_word(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	if (n == 0 || n > 256)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._/+-", s[i]) == NULL)
			return NULL;
	return xstrndup(s, n);
}

static void
ck_postfix(struct dctx *c)
{
	const struct host *h = c->h;
	const char *argv[] = { "postconf", "-c", h->postfix_dir, "-h", "mail_version",
	    "mail_owner", "setgid_group", "queue_directory", NULL };
	char **vals[] = { &c->mail_version, &c->mail_owner, &c->setgid_group, &c->queue_dir };
	const char *at = found(c, "postconf");
	struct xres r;
	char *cause = NULL;
	const char *p, *end;
	size_t k = 0;

	if (at == NULL)
		return;		/* "commands" said so */
	xres_init(&r);
	if (xport_exec(c->x, argv, NULL, 0, &r, &cause) == -1) {
		add(c, DR_FAIL, "postfix", xasprintf("cannot run postconf: %s", cause),
		    xstrdup("check the connection and run mxdeck doctor again"));
		free(cause);
		xres_free(&r);
		return;
	}
	if (r.status == 127) {
		add(c, DR_FAIL, "postfix", xasprintf("postconf is installed (%s) but not in "
		    "the PATH %s@%s's commands get: mxdeck runs every command by name", at,
		    h->user != NULL ? h->user : "root", h->local ? "local" : h->address),
		    xstrdup("log in as root (user = root), or give the login a PATH with "
		    "/usr/sbin and /sbin (sshd_config: SetEnv PATH=/usr/local/sbin:"
		    "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)"));
		xres_free(&r);
		return;
	}
	if (r.status != 0) {
		char *msg = first_line(r.err.len > 0 ? r.err.s : r.out.s);

		add(c, DR_FAIL, "postfix", xasprintf("postconf -c %s fails (exit %d): %s",
		    h->postfix_dir, r.status, msg), xasprintf("postfix_dir must be the "
		    "directory with main.cf (postconf config_directory): fix postfix_dir in "
		    "[host \"%s\"], or apt-get install postfix", h->name));
		free(msg);
		xres_free(&r);
		return;
	}
	for (p = r.out.s, end = r.out.s + r.out.len; p < end && k < nitems(vals); k++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);

		*vals[k] = k == 0 ? rp_mail_version(p, n) : pc_word(p, n);
		p = eol != NULL ? eol + 1 : end;
	}
	xres_free(&r);
	if (c->mail_version == NULL) {
		add(c, DR_FAIL, "postfix", xasprintf("postconf -h mail_version printed no "
		    "version"), xstrdup("apt-get install --reinstall postfix"));
		return;
	}
	if (h->postfix_version == NULL) {
		add(c, DR_OK, "postfix", xasprintf("Postfix %s (no postfix_version in the "
		    "profile: plan detects it and renders for it)", c->mail_version), NULL);
	} else {
		/* compare major.minor: 3.3 and 3.7 differ in syntax, 3.7.1 and 3.7.11 not */
		char *mm = xstrdup(c->mail_version), *dot = strchr(mm, '.');
		int cmp;

		if (dot != NULL && (dot = strchr(dot + 1, '.')) != NULL)
			*dot = '\0';
		cmp = postfix_version_cmp(mm, h->postfix_version);
		if (cmp == 0)
			add(c, DR_OK, "postfix", xasprintf("Postfix %s, the profile renders for "
			    "%s", c->mail_version, h->postfix_version), NULL);
		else if (cmp < 0)
			add(c, DR_FAIL, "postfix", xasprintf("the host runs Postfix %s, older than "
			    "the %s syntax the profile renders (postfix_version = %s): the host's "
			    "Postfix may refuse it", c->mail_version, h->postfix_version,
			    h->postfix_version), xasprintf("set postfix_version = %s in "
			    "[host \"%s\"], or remove the key (plan then detects it)", mm, h->name));
		else
			add(c, DR_WARN, "postfix", xasprintf("the host runs Postfix %s; the profile "
			    "renders the older %s syntax (postfix_version = %s)", c->mail_version,
			    h->postfix_version, h->postfix_version), xasprintf("set postfix_version "
			    "= %s in [host \"%s\"], or remove the key", mm, h->name));
		free(mm);
	}
}

static void
ck_postfix_ids(struct dctx *c)
{
	const char *owner = c->mail_owner != NULL ? c->mail_owner : "postfix";
	const char *grp = c->setgid_group != NULL ? c->setgid_group : "postdrop";

	c->pf_uid = c->pf_gid = -1;
	if (!c->have_ids) {
		add(c, DR_WARN, "postfix user and group", xstrdup("cannot read /etc/passwd and "
		    "/etc/group on the host"), xstrdup("check that the login may read them"));
		return;
	}
	c->pf_uid = id_of(&c->passwd, owner);
	c->pf_gid = id_of(&c->group, grp);
	if (c->pf_uid == -1)
		add(c, DR_FAIL, "postfix user and group", xasprintf("no user %s (mail_owner) "
		    "in /etc/passwd", owner), xstrdup("apt-get install --reinstall postfix "
		    "(its postinst creates the user), or: adduser --system --group postfix"));
	if (c->pf_gid == -1)
		add(c, DR_FAIL, "postfix user and group", xasprintf("no group %s "
		    "(setgid_group) in /etc/group", grp), xasprintf("apt-get install "
		    "--reinstall postfix, or: addgroup --system %s", grp));
	if (c->pf_uid != -1 && c->pf_gid != -1)
		add(c, DR_OK, "postfix user and group", xasprintf("%s (uid %ld), %s (gid %ld)",
		    owner, c->pf_uid, grp, c->pf_gid), NULL);
}

/* What `postfix set-permissions` leaves: the queue's drop-off directories and the
 * setgid programs. */
static void
ck_postfix_perms(struct dctx *c)
{
	struct { const char *rel; bool in_queue; bool owner; unsigned mode, mask; } want[] = {
		{ "maildrop", true, true, 01730, 07777 },
		{ "public", true, true, 02710, 07777 },
		{ "/usr/sbin/postdrop", false, false, 02000, 02000 },
		{ "/usr/sbin/postqueue", false, false, 02000, 02000 },
	};
	struct sbuf bad;
	size_t nchecked = 0;

	if (c->queue_dir == NULL || c->queue_dir[0] != '/' || c->pf_gid == -1)
		return;		/* postfix or its group already failed */
	sb_init(&bad);
	for (size_t i = 0; i < nitems(want); i++) {
		char *path = want[i].in_queue ? xasprintf("%s/%s", c->queue_dir, want[i].rel) :
		    xstrdup(want[i].rel);
		struct xstat st = { 0 };
		char *cause = NULL;

		st.uid = st.gid = -1;
		if (xport_lstat(c->x, path, &st, &cause) == -1 || !st.exists)
			sb_addf(&bad, "%s%s is missing", bad.len ? "; " : "", path);
		else {
			nchecked++;
			if ((st.mode & want[i].mask) != want[i].mode ||
			    (st.gid != -1 && st.gid != c->pf_gid) ||
			    (want[i].owner && st.uid != -1 && c->pf_uid != -1 &&
			    st.uid != c->pf_uid)) {
				sb_addf(&bad, "%s%s is %ld:%ld mode %04o, want ", bad.len ? "; " : "",
				    path, st.uid, st.gid, st.mode);
				if (want[i].owner)
					sb_addf(&bad, "%ld:%ld mode %04o", c->pf_uid, c->pf_gid,
					    want[i].mode);
				else
					sb_addf(&bad, "group %ld and the setgid bit", c->pf_gid);
			}
		}
		free(cause);
		free(path);
	}
	if (bad.len > 0)
		add(c, DR_FAIL, "postfix permissions", sb_steal(&bad), xasprintf("postfix -c %s "
		    "set-permissions (as root)", c->h->postfix_dir));
	else
		add(c, DR_OK, "postfix permissions", xasprintf("%s/maildrop, public, postdrop "
		    "and postqueue as postfix set-permissions leaves them (%zu checked)",
		    c->queue_dir, nchecked), NULL);
	sb_free(&bad);
}

/* ---- Apache modules the rendered sites need ---- */

/* The module names in the "# Depends: a b" line of a Debian .load file. */
static void
load_depends(const struct sbuf *load, struct strv *deps)
{
	const char *p = load->s, *end = load->s + load->len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);

		if (n > 10 && strncasecmp(p, "# Depends:", 10) == 0) {
			char *line = xstrndup(p + 10, n - 10);
			struct strv words = { 0 };

			strv_split_words(&words, line);
			for (size_t i = 0; i < words.n; i++) {
				char *m = pc_word(words.v[i], strlen(words.v[i]));

				if (m != NULL && strchr(m, '/') == NULL && !strv_has(deps, m))
					strv_push_owned(deps, m);
				else
					free(m);
			}
			strv_free(&words);
			free(line);
		}
		p = eol != NULL ? eol + 1 : end;
	}
}

static void
ck_apache_modules(struct dctx *c)
{
	const struct host *h = c->h;
	size_t dl = strlen(h->apache_dir);
	struct strv mods = { 0 };
	struct sbuf okl;

	if (rendered(c) == -1) {
		char *why = first_line(c->render_error);

		add(c, DR_FAIL, "apache modules", xasprintf("cannot render this host: %s", why),
		    xasprintf("mxdeck lint %s", c->site->path));
		free(why);
		return;
	}
	/* The modules the rendered sites need are the mods-enabled links the render
	 * itself adds (backends/render/apache-mods.c: the one directive -> module table,
	 * with a2enmod's dependencies). */
	for (size_t i = 0; i < c->fs.n; i++) {
		const struct rfile *f = &c->fs.v[i];
		const char *base = strrchr(f->path, '/');
		size_t bl;

		if (f->kind != FK_LINK || strncmp(f->path, h->apache_dir, dl) != 0 ||
		    strncmp(f->path + dl, "/mods-enabled/", 14) != 0 || base == NULL)
			continue;
		bl = strlen(++base);
		if (bl > 5 && strcmp(base + bl - 5, ".load") == 0) {
			char *m = xstrndup(base, bl - 5);

			if (!strv_has(&mods, m))
				strv_push(&mods, m);
			free(m);
		}
	}
	if (mods.n == 0)
		return;		/* no Apache file on this host */
	{
		char *ma = xasprintf("%s/mods-available", h->apache_dir), *cause = NULL;
		struct xstat st = { 0 }, sd = { 0 };

		(void)xport_lstat(c->x, h->apache_dir, &sd, &cause);
		free(cause);
		cause = NULL;
		(void)xport_lstat(c->x, ma, &st, &cause);
		free(cause);
		if (!st.exists && sd.exists)
			add(c, DR_FAIL, "apache modules", xasprintf("no %s: apache_dir is not a "
			    "Debian Apache directory (a2enmod layout)", ma), xasprintf("apt-get "
			    "install apache2, or fix apache_dir in [host \"%s\"]", h->name));
		free(ma);
		if (!st.exists) {	/* "directories" says apache_dir is missing */
			strv_free(&mods);
			return;
		}
	}
	sb_init(&okl);
	/* mods grows while we go: a module's Depends line adds its dependencies */
	for (size_t i = 0; i < mods.n; i++) {
		char *avail = xasprintf("%s/mods-available/%s.load", h->apache_dir, mods.v[i]);
		char *en = xasprintf("%s/mods-enabled/%s.load", h->apache_dir, mods.v[i]);
		struct xstat sa = { 0 }, se = { 0 };
		struct sbuf load;
		char *cause = NULL;
		bool missing = true;

		sb_init(&load);
		if (xport_lstat(c->x, avail, &sa, &cause) == 0 && sa.exists &&
		    xport_read(c->x, avail, &load, &missing, &cause) == 0 && !missing)
			load_depends(&load, &mods);
		free(cause);
		cause = NULL;
		(void)xport_lstat(c->x, en, &se, &cause);
		free(cause);
		if (se.exists)
			sb_addf(&okl, "%s%s", okl.len > 0 ? " " : "", mods.v[i]);
		else if (sa.exists)
			add(c, DR_WARN, "apache modules", xasprintf("mod_%s is available but not "
			    "enabled (no %s): apply will enable it", mods.v[i], en),
			    xasprintf("nothing to do before apply (by hand: a2enmod %s)",
			    mods.v[i]));
		else
			add(c, DR_FAIL, "apache modules", xasprintf("mod_%s is not installed "
			    "(no %s), and the rendered sites use it", mods.v[i], avail),
			    xasprintf("apt-get install apache2 (mod_%s is in apache2-bin), then "
			    "run mxdeck doctor again", mods.v[i]));
		sb_free(&load);
		free(avail);
		free(en);
	}
	if (okl.len > 0)
		add(c, DR_OK, "apache modules", xasprintf("enabled: %s", okl.s), NULL);
	sb_free(&okl);
	strv_free(&mods);
}

/* ---- php-fpm for the Autodiscover responder ---- */

static void
ck_phpfpm(struct dctx *c)
{
	const char *sock = c->h->php_fpm_socket != NULL ? c->h->php_fpm_socket :
	    "/run/php/php8.2-fpm.sock";
	const char *base = strrchr(sock, '/') != NULL ? strrchr(sock, '/') + 1 : sock;
	char *unit = str_ends(base, ".sock") ? xstrndup(base, strlen(base) - 5) :
	    xstrdup("php8.2-fpm");
	char *prog = NULL, *cause = NULL;
	struct xstat st = { 0 };
	static const char *const names[] = { "php-fpm8.2", "php-fpm8.3", "php-fpm8.1",
	    "php-fpm8.0", "php-fpm7.4", "php-fpm" };

	for (size_t i = 0; i < nitems(names) && prog == NULL; i++)
		prog = find_prog(c, names[i]);
	if (prog == NULL)
		add(c, DR_FAIL, "php-fpm", xstrdup("no php-fpm program: the Autodiscover "
		    "responder is PHP"), xasprintf("apt-get install %s", unit));
	if (xport_lstat(c->x, sock, &st, &cause) == 0 && st.exists) {
		if (prog != NULL)
			add(c, DR_OK, "php-fpm", xasprintf("%s, listening on %s", prog, sock), NULL);
	} else
		add(c, DR_WARN, "php-fpm", xasprintf("no socket %s: php-fpm is not running (or "
		    "listens elsewhere: php_fpm_socket in the profile)", sock),
		    xasprintf("systemctl enable --now %s", unit));
	free(cause);
	free(prog);
	free(unit);
}

/* ---- directories and free space ---- */

struct ddir {
	unsigned roles;		/* 0: every host */
	const char *key;	/* the profile key */
	size_t	 off;		/* of the path in struct host */
	bool	 created;	/* mxdeck creates it when missing */
	const char *pkg;
};
static const struct ddir ddirs[] = {
	{ ROLE_POSTFIX, "postfix_dir", offsetof(struct host, postfix_dir), false, "postfix" },
	{ ROLE_DOVECOT, "dovecot_dir", offsetof(struct host, dovecot_dir), false, "dovecot-core" },
	{ ROLE_APACHE, "apache_dir", offsetof(struct host, apache_dir), false, "apache2" },
	{ ROLE_NGINX, "nginx_dir", offsetof(struct host, nginx_dir), false, "nginx" },
	{ ROLE_AUTODISCOVER, "www_dir", offsetof(struct host, www_dir), true, NULL },
	{ 0, "state_dir", offsetof(struct host, state_dir), true, NULL },
};

static const char *
ddir_path(const struct host *h, const struct ddir *d)
{
	return *(char *const *)((const char *)h + d->off);
}

/* The path itself or its nearest existing ancestor; st filled for it. */
static char *
existing(struct dctx *c, const char *path, struct xstat *st)
{
	char *p = xstrdup(path);

	for (;;) {
		char *cause = NULL, *slash;

		memset(st, 0, sizeof *st);
		st->uid = st->gid = -1;
		if (xport_lstat(c->x, p, st, &cause) == 0 && st->exists) {
			free(cause);
			return p;
		}
		free(cause);
		slash = strrchr(p, '/');
		if (slash == NULL || slash == p) {
			/* the root, or for a relative path its base */
			free(p);
			p = xstrdup(slash == NULL ? "." : "/");
			memset(st, 0, sizeof *st);
			st->uid = st->gid = -1;
			cause = NULL;
			(void)xport_lstat(c->x, p, st, &cause);
			free(cause);
			return p;
		}
		*slash = '\0';
	}
}

/* 1 writable, 0 not, -1 cannot tell (the login's groups are not known) */
static int
writable(const struct dctx *c, const struct xstat *st)
{
	if (c->uid == 0)
		return 1;
	if (c->uid != -1 && st->uid == c->uid)
		return (st->mode & 0200) ? 1 : 0;
	if (st->mode & 0002)
		return 1;
	return (st->mode & 0020) ? -1 : 0;
}

static bool
dir_applies(const struct dctx *c, const struct ddir *d)
{
	return (d->roles == 0 || (c->h->roles & d->roles)) && ddir_path(c->h, d) != NULL;
}

static void
ck_dirs(struct dctx *c)
{
	for (size_t i = 0; i < nitems(ddirs); i++) {
		const struct ddir *d = &ddirs[i];
		const char *path;
		struct xstat st;
		char *at;
		int w;

		if (!dir_applies(c, d))
			continue;
		path = ddir_path(c->h, d);
		at = existing(c, path, &st);
		w = writable(c, &st);
		if (strcmp(at, path) == 0 && !st.is_dir)
			add(c, DR_FAIL, "directories", xasprintf("%s = %s is not a directory",
			    d->key, path), xasprintf("fix %s in [host \"%s\"]", d->key, c->h->name));
		else if (strcmp(at, path) != 0 && !d->created)
			add(c, DR_FAIL, "directories", xasprintf("%s = %s does not exist", d->key,
			    path), xasprintf("apt-get install %s, or fix %s in [host \"%s\"]",
			    d->pkg, d->key, c->h->name));
		else if (w == 0)
			add(c, DR_FAIL, "directories", xasprintf("%s = %s: %s is not writable by "
			    "%s (owner %ld, mode %04o)", d->key, path, at, c->login, st.uid,
			    st.mode), xasprintf("log in as root (user = root), or: chown %s %s",
			    c->login, at));
		else if (w == -1)
			add(c, DR_WARN, "directories", xasprintf("%s = %s: %s is group-writable; "
			    "cannot tell whether %s is in its group", d->key, path, at, c->login),
			    xasprintf("check: id %s", c->login));
		else if (strcmp(at, path) != 0)
			add(c, DR_OK, "directories", xasprintf("%s = %s: missing, apply creates it "
			    "under %s", d->key, path, at), NULL);
		else
			add(c, DR_OK, "directories", xasprintf("%s = %s", d->key, path), NULL);
		free(at);
	}
}

static char *
human(unsigned long long b)
{
	if (b >= 1024ULL * MIB)
		return xasprintf("%.1f GiB", (double)b / (double)(1024ULL * MIB));
	return xasprintf("%.1f MiB", (double)b / (double)MIB);
}

static void
ck_space(struct dctx *c)
{
	struct strv seen = { 0 };
	unsigned long long totals[16];
	size_t ntotals = 0;

	for (size_t i = 0; i < nitems(ddirs); i++) {
		const struct ddir *d = &ddirs[i];
		struct xstatvfs vfs;
		struct xstat st;
		char *at, *cause = NULL, *free_s;

		if (!dir_applies(c, d))
			continue;
		at = existing(c, ddir_path(c->h, d), &st);
		if (strv_has(&seen, at)) {
			free(at);
			continue;
		}
		strv_push(&seen, at);
		if (xport_statvfs(c->x, at, &vfs, &cause) == -1) {
			add(c, DR_WARN, "free space", xasprintf("%s: cannot tell: %s", at, cause),
			    xstrdup("check by hand: df -h"));
			free(cause);
			free(at);
			continue;
		}
		/* one line per file system (its size tells one from another) */
		{
			bool dup = false;

			for (size_t k = 0; k < ntotals; k++)
				dup = dup || totals[k] == vfs.total;
			if (dup && !vfs.readonly && vfs.avail >= SPACE_WARN) {
				free(at);
				continue;
			}
			if (ntotals < nitems(totals))
				totals[ntotals++] = vfs.total;
		}
		free_s = human(vfs.avail);
		if (vfs.readonly)
			add(c, DR_FAIL, "free space", xasprintf("%s (%s) is on a read-only file "
			    "system", at, d->key), xasprintf("mount -o remount,rw the file system "
			    "of %s", at));
		else if (vfs.avail < SPACE_FAIL)
			add(c, DR_FAIL, "free space", xasprintf("%s (%s): only %s free", at, d->key,
			    free_s), xasprintf("free space on the file system of %s (apply needs "
			    "room for a backup and the new files)", at));
		else if (vfs.avail < SPACE_WARN)
			add(c, DR_WARN, "free space", xasprintf("%s (%s): %s free", at, d->key,
			    free_s), xasprintf("free space on the file system of %s (backups "
			    "accumulate: keep_backups)", at));
		else
			add(c, DR_OK, "free space", xasprintf("%s (%s): %s free", at, d->key,
			    free_s), NULL);
		free(free_s);
		free(at);
	}
	strv_free(&seen);
}

/* ---- the table ---- */

static const struct check {
	const char *name;
	unsigned roles;		/* 0: every host */
	void	(*run)(struct dctx *);
} checks[] = {
	{ "commands", 0, ck_commands },
	{ "postfix", ROLE_POSTFIX, ck_postfix },
	{ "postfix user and group", ROLE_POSTFIX, ck_postfix_ids },
	{ "postfix permissions", ROLE_POSTFIX, ck_postfix_perms },
	{ "apache modules", ROLE_APACHE | ROLE_AUTODISCOVER, ck_apache_modules },
	{ "php-fpm", ROLE_AUTODISCOVER, ck_phpfpm },
	{ "directories", 0, ck_dirs },
	{ "free space", 0, ck_space },
};

void
doctor_host(const struct site *site, const struct host *host, const struct doctor_opts *o,
    struct doctor_result *r)
{
	struct dctx c;
	char *cause = NULL;
	bool missing;

	memset(&c, 0, sizeof c);
	c.site = site;
	c.h = host;
	c.r = r;
	c.uid = -1;
	sb_init(&c.passwd);
	sb_init(&c.group);
	if (host->local)
		c.x = xport_local_open(host->name, NULL, true);
	else {
		struct xport_ssh_opts so = {
			.known_hosts = o->known_hosts,
			.identity = o->identity,
			.readonly = true,
			.connect_timeout = o->connect_timeout,
			.timeout = o->timeout,
		};

		c.x = xport_ssh_open(host, &so, &cause);
		if (c.x == NULL) {
			r->exit = 3;
			r->summary = cause;
			return;
		}
	}
	/* who mxdeck is on the host: for "writable" */
	c.login = host->local ? "this user" : host->user != NULL ? host->user : "root";
	c.have_ids = xport_read(c.x, "/etc/passwd", &c.passwd, &missing, &cause) == 0 &&
	    !missing && xport_read(c.x, "/etc/group", &c.group, &missing, &cause) == 0 &&
	    !missing;
	free(cause);
	if (host->local)
		c.uid = (long)geteuid();
	else if (c.have_ids)
		c.uid = id_of(&c.passwd, c.login);
	for (size_t i = 0; i < nitems(checks); i++)
		if (checks[i].roles == 0 || (host->roles & checks[i].roles))
			checks[i].run(&c);
	r->exit = r->nfail > 0 ? 1 : 0;
	if (r->nfail > 0)
		r->summary = xasprintf("%d problem%s to fix, %d warning%s", r->nfail,
		    r->nfail == 1 ? "" : "s", r->nwarn, r->nwarn == 1 ? "" : "s");
	else if (r->nwarn > 0)
		r->summary = xasprintf("ready, %d warning%s", r->nwarn, r->nwarn == 1 ? "" : "s");
	else
		r->summary = xstrdup("ready");
	xport_close(c.x);
	for (size_t i = 0; i < nitems(c.found); i++)
		free(c.found[i]);
	free(c.mail_version);
	free(c.mail_owner);
	free(c.setgid_group);
	free(c.queue_dir);
	free(c.render_error);
	fileset_free(&c.fs);
	sb_free(&c.passwd);
	sb_free(&c.group);
}
