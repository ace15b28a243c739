/* render.c: the renderer table, file sets, and shared escaping. */
#include "backends/render/render.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct renderer render_postfix, render_dovecot, render_apache, render_nginx,
    render_autodiscover, render_dns, render_exchange, render_mtasts;

const struct renderer *const renderers[] = {
	&render_postfix,
	&render_dovecot,
	&render_apache,
	&render_nginx,
	&render_autodiscover,
	&render_dns,
	&render_exchange,
	&render_mtasts,
	NULL,
};

struct rfile *
fileset_add(struct fileset *fs, const char *role, const char *path, unsigned mode,
    enum file_kind kind)
{
	struct rfile *f;

	xgrow(&fs->v, &fs->cap, fs->n + 1, sizeof *fs->v);
	f = &fs->v[fs->n++];
	memset(f, 0, sizeof *f);
	f->path = xstrdup(path);
	f->role = xstrdup(role);
	f->mode = mode;
	f->kind = kind;
	sb_init(&f->data);
	sb_addn(&f->data, "", 0);
	return f;
}

struct rfile *
fileset_add_site(struct fileset *fs, const char *role, const char *dir, const char *name,
    struct sbuf *data)
{
	char *path = xasprintf("%s/sites-available/%s", dir, name);
	struct rfile *f = fileset_add(fs, role, path, 0644, FK_FILE);

	free(path);
	f->symlink = xasprintf("%s/sites-enabled/%s", dir, name);
	sb_free(&f->data);
	f->data = *data;
	sb_init(data);
	return f;
}

struct rfile *
fileset_find(const struct fileset *fs, const char *path)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].path, path) == 0)
			return &fs->v[i];
	return NULL;
}

static int
rfile_cmp(const void *a, const void *b)
{
	const struct rfile *x = a, *y = b;

	return strcmp(x->path, y->path);
}

void
fileset_sort(struct fileset *fs)
{
	if (fs->n > 1)
		qsort(fs->v, fs->n, sizeof *fs->v, rfile_cmp);
}

void
fileset_free(struct fileset *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->v[i].path);
		free(fs->v[i].role);
		free(fs->v[i].symlink);
		free(fs->v[i].target);
		sb_free(&fs->v[i].data);
	}
	free(fs->v);
	memset(fs, 0, sizeof *fs);
}

struct render_ctx
render_ctx_for(const struct site *site, const struct host *host)
{
	struct render_ctx ctx = {
		.site = site,
		.host = host,
		.postfix_version = host->postfix_version != NULL ? host->postfix_version :
		    POSTFIX_VERSION_DEFAULT,
	};

	return ctx;
}

/* A path the file system can hold: every component at most NAME_MAX bytes, the
 * whole under PATH_MAX. NULL, or what is wrong (caller frees). */
static char *
path_limits(const char *path)
{
	size_t len = strlen(path);

	if (len >= PATH_MAX)
		return xasprintf("%.60s... is %zu bytes, over the system's path limit "
		    "(PATH_MAX %d)", path, len, PATH_MAX);
	for (const char *p = path; *p != '\0'; ) {
		size_t n = strcspn(p, "/");

		if (n > NAME_MAX)
			return xasprintf("%.60s... has a file name of %zu bytes, over the "
			    "system's limit of %d (NAME_MAX)", path, n, NAME_MAX);
		p += n;
		p += strspn(p, "/");
	}
	return NULL;
}

int
render_refuse(const struct render_ctx *ctx, char **cause, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (file == NULL)
		file = ctx->site->path != NULL ? ctx->site->path : "profile";
	if (ctx->diags != NULL)
		diag_add(ctx->diags, SEV_ERROR, file, line > 0 ? line : 0, "host %s: %s%s%s",
		    ctx->host->name, ctx->renderer != NULL ? ctx->renderer : "",
		    ctx->renderer != NULL ? ": " : "", msg);
	if (*cause == NULL)
		*cause = line >= 0 ? xasprintf("%s:%d: %s", file, line, msg) :
		    xasprintf("%s: %s", file, msg);
	free(msg);
	return -1;
}

/* The first refusal of a renderer becomes "host H: ROLE: FILE:LINE: message" in
 * *cause; later ones are only findings. */
static void
prefix_cause(const struct render_ctx *ctx, const char *role, char **cause, bool *wrapped)
{
	char *c = *cause;

	if (*wrapped || c == NULL)
		return;
	*cause = xasprintf("host %s: %s: %s", ctx->host->name, role, c);
	free(c);
	*wrapped = true;
}

int
render_host(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	struct render_ctx c = *ctx;
	bool refused = false, wrapped = false;

	for (size_t i = 0; renderers[i] != NULL; i++) {
		const struct renderer *r = renderers[i];

		if ((ctx->host->roles & r->role) == 0)
			continue;
		c.renderer = r->name;
		if (r->render(&c, fs, cause) == -1) {
			prefix_cause(ctx, r->name, cause, &wrapped);
			refused = true;
			if (ctx->diags == NULL)
				return -1;
		}
	}
	c.renderer = "apache";
	if (render_apache_modules(&c, fs, cause) == -1) {
		prefix_cause(ctx, "apache", cause, &wrapped);
		refused = true;
	}
	if (refused)
		return -1;
	for (size_t i = 0; i < fs->n; i++)
		for (size_t j = i + 1; j < fs->n; j++)
			if (strcmp(fs->v[i].path, fs->v[j].path) == 0) {
				c.renderer = NULL;
				(void)render_refuse(&c, cause, NULL, 0, "%s and %s both render %s",
				    fs->v[i].role, fs->v[j].role, fs->v[i].path);
				free(*cause);
				*cause = xasprintf("host %s: %s and %s both render %s",
				    ctx->host->name, fs->v[i].role, fs->v[j].role, fs->v[i].path);
				return -1;
			}
	for (size_t i = 0; i < fs->n; i++) {
		const char *paths[] = { fs->v[i].path, fs->v[i].symlink };

		for (size_t j = 0; j < nitems(paths); j++) {
			char *why;

			if (paths[j] == NULL || (why = path_limits(paths[j])) == NULL)
				continue;
			c.renderer = fs->v[i].role;
			(void)render_refuse(&c, cause, NULL, 0, "the file %s: shorten the name "
			    "it comes from in the profile (a domain, a vhost name, a directory)",
			    why);
			free(*cause);
			*cause = xasprintf("host %s: %s: the file %s: shorten the name it "
			    "comes from in the profile (a domain, a vhost name, a directory)",
			    ctx->host->name, fs->v[i].role, why);
			free(why);
			return -1;
		}
	}
	fileset_sort(fs);
	return 0;
}

void
render_lint(const struct site *site, struct diags *d)
{
	for (size_t i = 0; i < site->nhosts; i++) {
		struct fileset fs = { 0 };
		struct render_ctx ctx = render_ctx_for(site, &site->hosts[i]);
		char *cause = NULL;

		ctx.diags = d;
		(void)render_host(&ctx, &fs, &cause);
		fileset_free(&fs);
		free(cause);
	}
}

char *
rfile_link_target(const struct rfile *f)
{
	const char *a = f->symlink, *b = f->path;
	size_t common = 0;
	struct sbuf out;

	/* longest common directory prefix (up to and including a '/') */
	for (size_t i = 0; a[i] != '\0' && a[i] == b[i]; i++)
		if (a[i] == '/')
			common = i + 1;
	sb_init(&out);
	sb_addn(&out, "", 0);
	for (const char *p = a + common; *p != '\0'; p++)
		if (*p == '/')
			sb_add(&out, "../");
	sb_add(&out, b + common);
	return sb_steal(&out);
}

/* Map a host name to a safe single path component: '/' and leading dots replaced. */
static char *
safe_component(const char *name)
{
	char *s = xstrdup(name);

	for (char *p = s; *p != '\0'; p++)
		if (*p == '/')
			*p = '_';
	if (s[0] == '.' || s[0] == '\0') {
		char *t = xasprintf("_%s", s);
		free(s);
		s = t;
	}
	return s;
}

/*
 * The output directory is walked from a descriptor of DIR, one component at a time with
 * openat(O_DIRECTORY | O_NOFOLLOW): a symlink (or anything but a directory) planted
 * anywhere below DIR -- DIR/gw1/etc -> /etc -- is refused, never followed. DIR itself
 * is the user's choice and may be a link. Each file is written to a temporary name
 * (O_CREAT | O_EXCL | O_NOFOLLOW) in its directory and renamed over its name, so that a
 * hard link to an earlier render, or a link planted at the name, keeps its bytes.
 */
static int
write_bytes(int fd, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

static int
open_subdir(int dfd, const char *shown, const char *name, char **cause)
{
	int fd;

	if (mkdirat(dfd, name, 0755) == -1 && errno != EEXIST) {
		*cause = xasprintf("%s: cannot create directory: %s", shown, strerror(errno));
		return -1;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && (errno == ELOOP || errno == ENOTDIR))
		*cause = xasprintf("%s is a symlink or not a directory: render never follows a "
		    "link inside its output directory; remove it and run again", shown);
	else if (fd == -1)
		*cause = xasprintf("%s: cannot open directory: %s", shown, strerror(errno));
	return fd;
}

/* Open (creating) the directory rel ("a/b/c") below dfd; -1 with *cause. */
static int
open_tree(int dfd, const char *top, const char *rel, char **cause)
{
	char *copy = xstrdup(rel), *comp, *save = NULL;
	struct sbuf shown;
	int fd = dup(dfd);

	sb_init(&shown);
	sb_add(&shown, top);
	if (fd == -1)
		*cause = xasprintf("%s: %s", top, strerror(errno));
	for (comp = strtok_r(copy, "/", &save); comp != NULL && fd != -1;
	    comp = strtok_r(NULL, "/", &save)) {
		int next;

		if (strcmp(comp, ".") == 0)
			continue;
		sb_addf(&shown, "/%s", comp);
		if (strcmp(comp, "..") == 0) {
			*cause = xasprintf("%s: refusing a path with '..'", shown.s);
			next = -1;
		} else
			next = open_subdir(fd, shown.s, comp, cause);
		close(fd);
		fd = next;
	}
	sb_free(&shown);
	free(copy);
	return fd;
}

/* Put one entry (file data or a symlink) at dfd/name through a temporary + rename. */
static int
put_entry(int dfd, const char *shown, const char *name, const struct rfile *f,
    char **cause)
{
	char *tmp = NULL;
	int fd = -1, rc = -1;

	for (int attempt = 0; attempt < 2; attempt++) {
		free(tmp);
		tmp = xasprintf(".%s.mxdeck-tmp.%ld", name, (long)getpid());
		if (f->kind == FK_LINK) {
			if (symlinkat(f->target, dfd, tmp) == 0)
				break;
		} else if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, (mode_t)f->mode)) != -1)
			break;
		if (errno != EEXIST || attempt > 0 || unlinkat(dfd, tmp, 0) == -1) {
			*cause = xasprintf("%s: cannot create a temporary file next to it: %s",
			    shown, strerror(errno));
			goto out;
		}
	}
	if (fd != -1 && (write_bytes(fd, f->data.s, f->data.len) == -1 ||
	    fchmod(fd, (mode_t)f->mode) == -1)) {
		*cause = xasprintf("%s: write failed: %s", shown, strerror(errno));
		unlinkat(dfd, tmp, 0);
		goto out;
	}
	if (fd != -1) {
		int e = close(fd);

		fd = -1;
		if (e == -1) {
			*cause = xasprintf("%s: write failed: %s", shown, strerror(errno));
			unlinkat(dfd, tmp, 0);
			goto out;
		}
	}
	if (renameat(dfd, tmp, dfd, name) == -1) {
		*cause = xasprintf("%s: cannot rename into place: %s", shown, strerror(errno));
		unlinkat(dfd, tmp, 0);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	free(tmp);
	return rc;
}

/* Write one entry at the remote path rpath (absolute) below the host directory. */
static int
write_at(int hostfd, const char *hostdir, const char *rpath, const struct rfile *f,
    char **cause)
{
	const char *slash = strrchr(rpath, '/');
	char *rel = xstrndup(rpath, slash != NULL ? (size_t)(slash - rpath) : 0);
	const char *name = slash != NULL ? slash + 1 : rpath;
	char *shown = xasprintf("%s%s%s", hostdir, rpath[0] == '/' ? "" : "/", rpath);
	int dfd, rc = -1;

	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		*cause = xasprintf("%s: not a file name", shown);
		goto out;
	}
	if ((dfd = open_tree(hostfd, hostdir, rel, cause)) == -1)
		goto out;
	rc = put_entry(dfd, shown, name, f, cause);
	close(dfd);
out:
	free(shown);
	free(rel);
	return rc;
}

int
fileset_write(const struct fileset *fs, const char *dir, const char *hostname, char **cause)
{
	char *comp = safe_component(hostname), *hostdir;
	int dirfd, hostfd, rc = -1;

	if (dir == NULL || *dir == '\0') {
		*cause = xstrdup("the output directory is empty: give render a directory "
		    "(e.g. ./out); an empty one would write under /");
		free(comp);
		return -1;
	}
	hostdir = xasprintf("%s/%s", dir, comp);
	if (mkdir_p(dir, 0755, cause) == -1)
		goto out_free;
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		*cause = xasprintf("%s: cannot open the output directory: %s", dir,
		    strerror(errno));
		goto out_free;
	}
	hostfd = open_subdir(dirfd, hostdir, comp, cause);
	close(dirfd);
	if (hostfd == -1)
		goto out_free;
	for (size_t i = 0; i < fs->n; i++) {
		const struct rfile *f = &fs->v[i];

		if (strstr(f->path, "/../") != NULL || str_ends(f->path, "/..")) {
			*cause = xasprintf("%s: refusing a path with '..'", f->path);
			goto out;
		}
		if (write_at(hostfd, hostdir, f->path, f, cause) == -1)
			goto out;
		if (f->symlink != NULL) {
			struct rfile link = *f;

			link.kind = FK_LINK;
			link.target = rfile_link_target(f);
			rc = write_at(hostfd, hostdir, f->symlink, &link, cause);
			free(link.target);
			if (rc == -1)
				goto out;
			rc = -1;
		}
	}
	rc = 0;
out:
	close(hostfd);
out_free:
	free(hostdir);
	free(comp);
	return rc;
}

void
xml_escape(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':	sb_add(b, "&amp;"); break;
		case '<':	sb_add(b, "&lt;"); break;
		case '>':	sb_add(b, "&gt;"); break;
		case '"':	sb_add(b, "&quot;"); break;
		case '\'':	sb_add(b, "&apos;"); break;
		default:	sb_addc(b, *s); break;
		}
	}
}

void
php_sq_escape(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '\'')
			sb_addc(b, '\\');
		sb_addc(b, *s);
	}
}
