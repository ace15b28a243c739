/* render.c: the renderer table, file sets, and shared escaping. */
#include "render.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct renderer render_postfix, render_dovecot, render_apache, render_nginx,
    render_autodiscover, render_dns, render_exchange;

const struct renderer *const renderers[] = {
	&render_postfix,
	&render_dovecot,
	&render_apache,
	&render_nginx,
	&render_autodiscover,
	&render_dns,
	&render_exchange,
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

int
render_host(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	for (size_t i = 0; renderers[i] != NULL; i++) {
		const struct renderer *r = renderers[i];

		if ((ctx->host->roles & r->role) == 0)
			continue;
		if (r->render(ctx, fs, cause) == -1) {
			char *c = *cause;

			*cause = xasprintf("host %s: %s: %s", ctx->host->name, r->name, c);
			free(c);
			return -1;
		}
	}
	if (render_apache_modules(ctx, fs, cause) == -1) {
		char *c = *cause;

		*cause = xasprintf("host %s: apache: %s", ctx->host->name, c);
		free(c);
		return -1;
	}
	for (size_t i = 0; i < fs->n; i++)
		for (size_t j = i + 1; j < fs->n; j++)
			if (strcmp(fs->v[i].path, fs->v[j].path) == 0) {
				*cause = xasprintf("host %s: %s and %s both render %s",
				    ctx->host->name, fs->v[i].role, fs->v[j].role, fs->v[i].path);
				return -1;
			}
	fileset_sort(fs);
	return 0;
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

int
fileset_write(const struct fileset *fs, const char *dir, const char *hostname, char **cause)
{
	char *hostdir, *comp = safe_component(hostname), *lastdir = NULL;
	int rc = -1;

	hostdir = xasprintf("%s/%s", dir, comp);
	free(comp);
	for (size_t i = 0; i < fs->n; i++) {
		const struct rfile *f = &fs->v[i];
		char *path, *slash;

		if (strstr(f->path, "/../") != NULL || str_ends(f->path, "/..")) {
			*cause = xasprintf("%s: refusing a path with '..'", f->path);
			goto out;
		}
		path = xasprintf("%s%s%s", hostdir, f->path[0] == '/' ? "" : "/", f->path);
		slash = strrchr(path, '/');
		*slash = '\0';
		/* files come sorted by path: most share the previous file's directory */
		if (lastdir == NULL || strcmp(lastdir, path) != 0) {
			if (mkdir_p(path, 0755, cause) == -1) {
				free(path);
				goto out;
			}
			free(lastdir);
			lastdir = xstrdup(path);
		}
		*slash = '/';
		if (f->kind == FK_LINK) {
			unlink(path);
			if (symlink(f->target, path) == -1) {
				*cause = xasprintf("%s: cannot create symlink: %s", path,
				    strerror(errno));
				free(path);
				goto out;
			}
			free(path);
			continue;
		}
		if (write_file_replace(path, f->data.s, f->data.len, f->mode, cause) == -1) {
			free(path);
			goto out;
		}
		if (f->symlink != NULL) {
			char *lpath = xasprintf("%s%s", hostdir, f->symlink);
			char *lslash = strrchr(lpath, '/'), *target;
			int rc2;

			*lslash = '\0';
			if (mkdir_p(lpath, 0755, cause) == -1) {
				free(lpath);
				free(path);
				goto out;
			}
			*lslash = '/';
			unlink(lpath);
			target = rfile_link_target(f);
			rc2 = symlink(target, lpath);
			free(target);
			if (rc2 == -1) {
				*cause = xasprintf("%s: cannot create symlink: %s", lpath,
				    strerror(errno));
				free(lpath);
				free(path);
				goto out;
			}
			free(lpath);
		}
		free(path);
	}
	rc = 0;
out:
	free(lastdir);
	free(hostdir);
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
