/* apache-mods.c: the Apache modules and configuration snippets the rendered sites need,
 * enabled the way Debian's a2enmod/a2enconf do it.
 *
 * A stock Debian apache2 has mod_ssl, mod_proxy, mod_proxy_http, mod_proxy_fcgi and
 * mod_headers disabled: a site using SSLEngine then fails `apache2 -t` with "Invalid
 * command 'SSLEngine'". The needed modules are derived from the directives the rendered
 * site files actually use (the one table below: directive or feature -> module), plus
 * the modules a2enmod pulls in (ssl's "# Depends: setenvif mime socache_shmcb" and
 * the like), and become FK_LINK entries of the file set:
 *
 *	DIR/mods-enabled/M.load -> ../mods-available/M.load
 *	DIR/mods-enabled/M.conf -> ../mods-available/M.conf	(modules that ship one)
 *	DIR/conf-enabled/C.conf -> ../conf-available/C.conf	(php8.2-fpm and such)
 *
 * The push protocol plans, backs up, validates (apache2 -t in the same step) and rolls
 * back these links like every other managed path. Directives inside <IfModule> are
 * optional by construction and need nothing. */
#include "backends/render/web-common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Directive (by exact name, or by prefix when prefix is set) -> module. */
static const struct {
	const char *name;
	bool	 prefix;
	const char *module;
} directive_modules[] = {
	{ "SSL",		true,	"ssl" },	/* SSLEngine, SSLProxy*, ... */
	{ "Proxy",		true,	"proxy" },	/* ProxyPass*, ProxyRequests */
	{ "Header",		false,	"headers" },
	{ "RequestHeader",	false,	"headers" },
	{ "Rewrite",		true,	"rewrite" },
	{ "Redirect",		true,	"alias" },	/* Redirect, RedirectMatch */
	{ "Alias",		false,	"alias" },
	{ "AliasMatch",		false,	"alias" },
	{ "Require",		false,	"authz_core" },
	{ "SetEnvIf",		true,	"setenvif" },
	{ "BrowserMatch",	true,	"setenvif" },
	{ "DirectoryIndex",	false,	"dir" },
};

/* A feature of a directive's arguments -> module (and configuration snippet). */
static const struct {
	const char *directive;
	const char *needle;	/* in the rest of the line */
	const char *module;
} feature_modules[] = {
	{ "ProxyPass",		"\"http://",	"proxy_http" },
	{ "ProxyPass",		"\"https://",	"proxy_http" },
	{ "ProxyPassMatch",	"\"http://",	"proxy_http" },
	{ "ProxyPassMatch",	"\"https://",	"proxy_http" },
	{ "ProxyPass",		"\"ws",		"proxy_wstunnel" },
	{ "ProxyPassMatch",	"\"ws",		"proxy_wstunnel" },
	{ "SetHandler",		"fcgi://",	"proxy_fcgi" },
};

/* What a2enmod enables with a module (its .load file's "# Depends:" line on Debian 12). */
static const struct {
	const char *module;
	const char *depends[3];
} module_depends[] = {
	{ "ssl",		{ "setenvif", "mime", "socache_shmcb" } },
	{ "proxy_http",		{ "proxy" } },
	{ "proxy_fcgi",		{ "proxy" } },
	{ "proxy_wstunnel",	{ "proxy" } },
};

/* Modules whose Debian package ships a mods-available/M.conf next to M.load. */
static const char *const modules_with_conf[] = {
	"alias", "dir", "mime", "proxy", "setenvif", "ssl",
};

static void
add_module(struct strv *mods, const char *m)
{
	if (strv_has(mods, m))
		return;
	strv_push(mods, m);
	for (size_t i = 0; i < nitems(module_depends); i++)
		if (strcmp(module_depends[i].module, m) == 0)
			for (size_t j = 0; j < nitems(module_depends[i].depends) &&
			    module_depends[i].depends[j] != NULL; j++)
				add_module(mods, module_depends[i].depends[j]);
}

/* "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://..." -> "php8.2-fpm" (the php-fpm
 * package's conf-available/php8.2-fpm.conf), or NULL. */
static char *
fpm_conf(const char *rest)
{
	const char *s = strstr(rest, "proxy:unix:"), *e, *base;
	char *name;

	if (s == NULL)
		return NULL;
	s += strlen("proxy:unix:");
	if ((e = strchr(s, '|')) == NULL)
		return NULL;
	for (base = e; base > s && base[-1] != '/'; base--)
		;
	if ((size_t)(e - base) < strlen("php-fpm.sock") || strncmp(base, "php", 3) != 0)
		return NULL;
	name = xstrndup(base, (size_t)(e - base));
	if (!str_ends(name, "-fpm.sock")) {
		free(name);
		return NULL;
	}
	name[strlen(name) - strlen(".sock")] = '\0';
	/* A versioned socket only (php8.2-fpm); /run/php/php-fpm.sock has no conf. */
	if (!isdigit((unsigned char)name[3])) {
		free(name);
		return NULL;
	}
	for (const char *p = name + 3; *p != '\0' && *p != '-'; p++)
		if (!isdigit((unsigned char)*p) && *p != '.') {
			free(name);
			return NULL;
		}
	return name;
}

/* Scan one site file: the modules its directives need into mods, snippets into confs. */
static void
scan_site(const char *data, size_t len, struct strv *mods, struct strv *confs)
{
	char *copy = xstrndup(data != NULL ? data : "", len), *line, *save = NULL;
	int guarded = 0;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *t = line, *rest;
		size_t n;

		while (*t == ' ' || *t == '\t')
			t++;
		if (*t == '\0' || *t == '#')
			continue;
		if (strncasecmp(t, "<IfModule", 9) == 0) {
			guarded++;
			continue;
		}
		if (strncasecmp(t, "</IfModule", 10) == 0) {
			if (guarded > 0)
				guarded--;
			continue;
		}
		if (guarded > 0 || *t == '<')
			continue;
		n = strcspn(t, " \t\r");
		rest = t + n;
		for (size_t i = 0; i < nitems(directive_modules); i++) {
			size_t dl = strlen(directive_modules[i].name);

			if (directive_modules[i].prefix ? n >= dl &&
			    strncasecmp(t, directive_modules[i].name, dl) == 0 :
			    n == dl && strncasecmp(t, directive_modules[i].name, dl) == 0)
				add_module(mods, directive_modules[i].module);
		}
		for (size_t i = 0; i < nitems(feature_modules); i++) {
			size_t dl = strlen(feature_modules[i].directive);

			if (n == dl && strncasecmp(t, feature_modules[i].directive, dl) == 0 &&
			    strstr(rest, feature_modules[i].needle) != NULL)
				add_module(mods, feature_modules[i].module);
		}
		if (n == strlen("SetHandler") && strncasecmp(t, "SetHandler", n) == 0) {
			char *conf = fpm_conf(rest);

			if (conf != NULL) {
				/* Its SetEnvIfNoCase (Authorization) and handler need these. */
				add_module(mods, "proxy_fcgi");
				add_module(mods, "setenvif");
				if (!strv_has(confs, conf))
					strv_push(confs, conf);
				free(conf);
			}
		}
	}
	free(copy);
}

static void
add_link(struct fileset *fs, const char *role, const char *dir, const char *kind,
    const char *name)
{
	char *path = xasprintf("%s/%s-enabled/%s", dir, kind, name);
	struct rfile *f;

	if (fileset_find(fs, path) == NULL) {
		f = fileset_add(fs, role, path, 0, FK_LINK);	/* a link has no mode */
		f->target = xasprintf("../%s-available/%s", kind, name);
	}
	free(path);
}

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
render_apache_modules(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	const struct host *h = ctx->host;
	const char *dir;
	struct strv mods = { 0 }, confs = { 0 };
	char *sites;
	const char *role = NULL;

	if ((h->roles & ROLE_APACHE) == 0)
		return 0;
	if ((dir = web_server_dir(ctx, h, SERVER_APACHE, cause)) == NULL)
		return -1;
	sites = xasprintf("%s/sites-available/", dir);
	for (size_t i = 0; i < fs->n; i++) {
		const struct rfile *f = &fs->v[i];

		if (f->kind != FK_FILE || f->symlink == NULL || !str_starts(f->path, sites))
			continue;
		scan_site(f->data.s, f->data.len, &mods, &confs);
		if (role == NULL || strcmp(f->role, "apache") == 0)
			role = strcmp(f->role, "apache") == 0 ? "apache" : "autodiscover";
	}
	free(sites);
	if (mods.n > 1)
		qsort(mods.v, mods.n, sizeof *mods.v, strp_cmp);
	for (size_t i = 0; i < mods.n; i++) {
		char *load = xasprintf("%s.load", mods.v[i]);

		add_link(fs, role, dir, "mods", load);
		free(load);
		for (size_t j = 0; j < nitems(modules_with_conf); j++)
			if (strcmp(modules_with_conf[j], mods.v[i]) == 0) {
				char *conf = xasprintf("%s.conf", mods.v[i]);

				add_link(fs, role, dir, "mods", conf);
				free(conf);
			}
	}
	for (size_t i = 0; i < confs.n; i++) {
		char *conf = xasprintf("%s.conf", confs.v[i]);

		add_link(fs, role, dir, "conf", conf);
		free(conf);
	}
	strv_free(&mods);
	strv_free(&confs);
	return 0;
}

const char *
rfile_link_label(const struct rfile *f, char **owned)
{
	const char *base = strrchr(f->path, '/'), *dot;
	const char *kind = "link";

	base = base != NULL ? base + 1 : f->path;
	if (strstr(f->path, "/mods-enabled/") != NULL)
		kind = "module";
	else if (strstr(f->path, "/conf-enabled/") != NULL)
		kind = "conf";
	dot = strrchr(base, '.');
	*owned = xasprintf("%s %.*s", kind, dot != NULL ? (int)(dot - base) :
	    (int)strlen(base), base);
	return *owned;
}
