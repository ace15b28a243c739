/* web-common.c: validation and shared pieces of the web server renderers. */
#include "backends/render/web-common.h"

#include "profiles/url.h"

#include <stdlib.h>
#include <string.h>

static const struct web_service web_services[] = {
	{ SVC_OWA,		"/owa" },
	{ SVC_OMA,		"/oma" },
	{ SVC_ECP,		"/ecp" },
	{ SVC_EWS,		"/EWS" },
	{ SVC_OAB,		"/OAB" },
	{ SVC_ACTIVESYNC,	"/Microsoft-Server-ActiveSync" },
	{ SVC_RPC,		"/rpc" },
	{ SVC_MAPI,		"/mapi" },
};

const char *
web_file(const struct site *site)
{
	return site->path != NULL ? site->path : "profile";
}

/* The refusal "WHAT RULE; fix the profile" at FILE:LINE (render_refuse); returns -1. */
static int
web_refuse(const struct render_ctx *ctx, int line, const char *what, const char *rule,
    char **cause)
{
	return render_refuse(ctx, cause, web_file(ctx->site), line, "%s %s; fix the profile",
	    what, rule);
}

static int
web_service_cmp(const void *a, const void *b)
{
	const struct web_service *x = a, *y = b;
	size_t lx = strlen(x->path), ly = strlen(y->path);

	if (lx != ly)
		return lx > ly ? -1 : 1;
	return strcmp(x->path, y->path);
}

size_t
web_prefix_services(unsigned services, struct web_service *out)
{
	size_t n = 0;

	for (size_t i = 0; i < nitems(web_services); i++)
		if (services & SVC_BIT(web_services[i].svc))
			out[n++] = web_services[i];
	qsort(out, n, sizeof *out, web_service_cmp);
	return n;
}

bool
web_valid_path(const char *s)
{
	return s[0] == '/' && web_valid_dir(s);
}

bool
web_valid_dir(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (strchr("\"'\\$;{}`", *p) != NULL)
			return false;
	}
	return true;
}

int
web_check_path(const struct render_ctx *ctx, int line, const char *what, const char *value,
    char **cause)
{
	if (value == NULL || web_valid_path(value))
		return 0;
	return web_refuse(ctx, line, what, "must be an absolute path without quotes, "
	    "backslashes, '$', ';', braces or control characters", cause);
}

int
web_check_dir(const struct render_ctx *ctx, int line, const char *what, const char *value,
    char **cause)
{
	if (value == NULL || web_valid_dir(value))
		return 0;
	return web_refuse(ctx, line, what, "must be a path without quotes, backslashes, "
	    "'$', ';', braces or control characters", cause);
}

int
web_check_hostname(const struct render_ctx *ctx, int line, const char *what, const char *value,
    char **cause)
{
	if (value != NULL && hostname_ok(value, 0))
		return 0;
	return web_refuse(ctx, line, what, "is not a valid DNS host name (letters, "
	    "digits, '-' and '.' only)", cause);
}

static bool
valid_ipv6(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr("0123456789abcdefABCDEF:.", s[i]) == NULL)
			return false;
	return true;
}

int
web_backend_parse(const struct render_ctx *ctx, const struct vhost *vh,
    struct web_backend *b, char **cause)
{
	const struct site *site = ctx->site;
	const char *file = web_file(site);
	struct url u;
	char *why = NULL;

	memset(b, 0, sizeof *b);
	if (vh->backend == NULL) {
		return render_refuse(ctx, cause, file, vh->line, "vhost \"%s\" has no "
		    "backend; add backend = https://exchange.example.lan", vh->name);
	}
	if (url_parse(vh->backend, &u, &why) != 0) {
		free(why);
		goto bad;
	}
	if (strcmp(u.path, "/") != 0 || u.has_query ||
	    (u.ipv6 ? !valid_ipv6(u.host, strlen(u.host)) : !hostname_ok(u.host, 0))) {
		url_free(&u);
		goto bad;
	}
	b->tls = u.https;
	b->host = u.ipv6 ? xasprintf("[%s]", u.host) : xstrdup(u.host);
	b->port = u.port;
	url_free(&u);
	if (b->port != 0)
		b->origin = xasprintf("%s://%s:%d", b->tls ? "https" : "http", b->host,
		    b->port);
	else
		b->origin = xasprintf("%s://%s", b->tls ? "https" : "http", b->host);
	return 0;
bad:
	web_backend_free(b);
	return render_refuse(ctx, cause, file, site_key_line(site, vh->line, "backend"),
	    "vhost \"%s\": backend must be http(s)://HOST[:PORT] with a DNS name or an IP "
	    "address and no path; fix the profile", vh->name);
}

bool
web_is_ip(const char *host)
{
	return host[0] == '[' || strspn(host, "0123456789.") == strlen(host);
}

void
web_backend_free(struct web_backend *b)
{
	free(b->host);
	free(b->origin);
	memset(b, 0, sizeof *b);
}

int
web_https_port(const struct host *h)
{
	int port = host_port(h, "https", 443);

	return port > 0 ? port : 443;
}

int
web_http_port(const struct host *h)
{
	int port = host_port(h, "http", 80);

	return port > 0 ? port : 80;
}

void
web_ad_certificate(const struct site *site, const char **cert, const char **key, int *line)
{
	*cert = *key = NULL;
	*line = 0;
	if (site->tls.certificate != NULL && site->tls.key != NULL) {
		*cert = site->tls.certificate;
		*key = site->tls.key;
		*line = site->tls.line;
		return;
	}
	for (size_t i = 0; i < site->nvhosts; i++)
		if (site->vhosts[i].certificate != NULL && site->vhosts[i].key != NULL) {
			*cert = site->vhosts[i].certificate;
			*key = site->vhosts[i].key;
			*line = site->vhosts[i].line;
			return;
		}
}

void
web_header(struct sbuf *b, const struct site *site, const char *comment)
{
	sb_addf(b, "%s Generated by mxdeck from the profile \"", comment);
	for (const char *p = site->name != NULL ? site->name : ""; *p != '\0'; p++)
		sb_addc(b, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(" .-_@", *p) != NULL ? *p : '_');
	sb_addf(b, "\".\n%s Do not edit: mxdeck overwrites this file on the next apply.\n",
	    comment);
}

void
web_apache_protocols(struct sbuf *b, bool legacy)
{
	if (legacy) {
		sb_add(b, "\tSSLProtocol -all +TLSv1 +TLSv1.1 +TLSv1.2 +TLSv1.3\n");
		sb_add(b, "\tSSLCipherSuite \"" WEB_CIPHERS_LEGACY "\"\n");
	} else {
		sb_add(b, "\tSSLProtocol -all +TLSv1.2 +TLSv1.3\n");
		sb_add(b, "\tSSLCipherSuite \"" WEB_CIPHERS_MODERN "\"\n");
	}
}

void
web_nginx_protocols(struct sbuf *b, bool legacy)
{
	if (legacy) {
		sb_add(b, "\tssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n");
		sb_add(b, "\tssl_ciphers \"" WEB_CIPHERS_LEGACY "\";\n");
	} else {
		sb_add(b, "\tssl_protocols TLSv1.2 TLSv1.3;\n");
		sb_add(b, "\tssl_ciphers \"" WEB_CIPHERS_MODERN "\";\n");
	}
}

int
web_check_vhost(const struct render_ctx *ctx, const struct vhost *vh, char **cause)
{
	const struct site *site = ctx->site;
	const char *file = web_file(site);
	int rc = 0;

	if (web_check_hostname(ctx, vh->line, "vhost name", vh->name, cause) == -1)
		rc = -1;
	if (vh->certificate == NULL || vh->key == NULL)
		rc = render_refuse(ctx, cause, file, vh->line, "vhost \"%s\" needs certificate "
		    "and key for its TLS site; add both to the profile", vh->name);
	else if (web_check_path(ctx, site_key_line(site, vh->line, "certificate"),
	    "vhost certificate", vh->certificate, cause) == -1 ||
	    web_check_path(ctx, site_key_line(site, vh->line, "key"), "vhost key", vh->key,
	    cause) == -1)
		rc = -1;
	if (web_check_path(ctx, site_key_line(site, vh->line, "backend_ca"),
	    "vhost backend_ca", vh->backend_ca, cause) == -1)
		rc = -1;
	if (vh->activesync_timeout <= 0 || vh->activesync_timeout > 86400)
		rc = render_refuse(ctx, cause, file, vh->activesync_timeout_line != 0 ?
		    vh->activesync_timeout_line : vh->line, "vhost \"%s\": activesync_timeout "
		    "must be 1..86400 seconds", vh->name);
	return rc;
}

const struct vhost *
web_nginx_legacy_default(const struct site *site)
{
	for (size_t i = 0; i < site->nvhosts; i++)
		if (site->vhosts[i].server == SERVER_NGINX && site->vhosts[i].legacy_tls)
			return &site->vhosts[i];
	return NULL;
}

bool
web_any_legacy(const struct site *site)
{
	for (size_t i = 0; i < site->nvhosts; i++)
		if (site->vhosts[i].legacy_tls)
			return true;
	return false;
}

/* The host role of each web server: its name, directory key and default are its row in
 * roles[] (profiles/roles.c). */
static const unsigned web_server_role[] = {
	[SERVER_APACHE] = ROLE_APACHE,
	[SERVER_NGINX] = ROLE_NGINX,
};

const char *
web_server_dir(const struct render_ctx *ctx, const struct host *h, int server, char **cause)
{
	const struct role_def *r = role_by_bit(web_server_role[server]);
	const char *dir = host_dir(h, r->bit);

	if (web_check_dir(ctx, site_key_line(ctx->site, h->line, r->dir_key), r->dir_key, dir,
	    cause) == -1)
		return NULL;
	return dir;
}

int
web_render_vhosts(const struct render_ctx *ctx, struct fileset *fs, int server,
    const char *suffix, web_vhost_fn *vhost, char **cause)
{
	const struct site *site = ctx->site;
	const char *dir;

	int rc = 0;

	if ((dir = web_server_dir(ctx, ctx->host, server, cause)) == NULL)
		return -1;
	for (size_t i = 0; i < site->nvhosts; i++) {
		const struct vhost *vh = &site->vhosts[i];
		struct web_backend be;
		struct sbuf b;
		char *name;

		if ((int)vh->server != server)
			continue;
		/* a refused vhost is skipped; the others are still checked */
		if (web_check_vhost(ctx, vh, cause) == -1) {
			rc = -1;
			if (web_backend_parse(ctx, vh, &be, cause) == 0)
				web_backend_free(&be);
			continue;
		}
		if (web_backend_parse(ctx, vh, &be, cause) == -1) {
			rc = -1;
			continue;
		}
		sb_init(&b);
		web_header(&b, site, "#");
		sb_addf(&b, "# Reverse proxy for Exchange: %s -> %s\n", vh->name, be.origin);
		vhost(ctx, vh, &be, &b);
		web_backend_free(&be);
		name = xasprintf("mxdeck-%s%s", vh->name, suffix);
		fileset_add_site(fs, role_by_bit(web_server_role[server])->name, dir, name, &b);
		free(name);
	}
	return rc;
}
