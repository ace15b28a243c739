/* web-common.h: helpers shared by the apache, nginx and autodiscover renderers.
 *
 * Every profile value that reaches a web server configuration goes through one of the
 * validators below first: a value that could end a quoted string, start a new
 * directive or expand a variable is refused with FILE:LINE, never escaped around. */
#ifndef MXDECK_WEB_COMMON_H
#define MXDECK_WEB_COMMON_H

#include <stdbool.h>

#include "render.h"

/* The Exchange paths, one per service (enum service order). */
struct web_service {
	enum service svc;
	const char *path;	/* canonical case as Exchange publishes it */
};

/* Services of a vhost that are plain path prefixes, longest path first (the order
 * in which rules must appear so that none is shadowed). Autodiscover is not listed:
 * it is an exact match. Returns the number written to out (at most SVC_COUNT). */
size_t web_prefix_services(unsigned services, struct web_service *out);

/* A parsed backend URL: scheme://host[:port][/]. */
struct web_backend {
	bool	 tls;		/* https */
	char	*host;		/* name, IPv4, or [IPv6] with brackets */
	int	 port;		/* 0: the scheme's default */
	char	*origin;	/* "https://host[:port]" without a trailing slash */
};
int web_backend_parse(const struct render_ctx *ctx, const struct vhost *vh,
    struct web_backend *b, char **cause);
void web_backend_free(struct web_backend *b);
/* Whether a backend host is an IP address literal (IPv4 or [IPv6]). */
bool web_is_ip(const char *host);

/* A path that may be written in double quotes in Apache and nginx configurations:
 * absolute, and no control characters, quotes, backslashes, '$', ';', '{', '}'. */
bool web_valid_path(const char *s);
/* The same character rules without requiring an absolute path (host directories,
 * which the profile may give relative to a sandbox). */
bool web_valid_dir(const char *s);

/* The profile's file name for "FILE:LINE: ..." messages ("profile" when unnamed). */
const char *web_file(const struct site *site);

/* Check a path value of the profile; -1 with "FILE:LINE: what 'value' ..." in *cause. */
int web_check_path(const struct render_ctx *ctx, int line, const char *what, const char *value,
    char **cause);
int web_check_dir(const struct render_ctx *ctx, int line, const char *what, const char *value,
    char **cause);
int web_check_hostname(const struct render_ctx *ctx, int line, const char *what,
    const char *value, char **cause);

/* Every [vhost] value that reaches a site file: name, certificate, key, backend_ca,
 * activesync_timeout. */
int web_check_vhost(const struct render_ctx *ctx, const struct vhost *vh, char **cause);

/* The HTTPS port of the host: its "https" probe port, 443 by default. */
int web_https_port(const struct host *h);
/* The plain-http port (probe_ports http, default 80) of the redirect vhosts. */
int web_http_port(const struct host *h);

/* The certificate and key for the autodiscover/autoconfig sites: [tls] certificate
 * and key, else the first vhost's. NULL when there is none. */
void web_ad_certificate(const struct site *site, const char **cert, const char **key,
    int *line);

/* nginx (1.22, OpenSSL 3) negotiates the protocol version with the default server of
 * the port, before SNI picks the vhost: a legacy_tls vhost that is not the default
 * server refuses TLS 1.0 (tested in tests/integration/nginx-render.sh). The first
 * nginx vhost with legacy_tls is made default_server; NULL when there is none. */
const struct vhost *web_nginx_legacy_default(const struct site *site);
/* Whether any vhost has legacy_tls (the Autodiscover site then allows TLS 1.0 too). */
bool web_any_legacy(const struct site *site);

/* Cipher strings. The legacy one starts with @SECLEVEL=0: OpenSSL 3 refuses TLS 1.0
 * (SHA-1 signatures) at the default security level even when the protocol is on. */
#define WEB_CIPHERS_MODERN \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!MD5:!DSS"
#define WEB_CIPHERS_LEGACY \
	"@SECLEVEL=0:ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:AES:!aNULL:!eNULL:!MD5:!RC4:!3DES:!DSS"

/* Above the protocol lines of a vhost with legacy_tls (apache and nginx alike). */
#define WEB_LEGACY_TLS_NOTE \
	"\t# legacy_tls = yes: Outlook 2013 speaks only TLS 1.0 with SHA-1.\n" \
	"\t# OpenSSL 3 refuses that at its default security level even with the\n" \
	"\t# protocol enabled, hence @SECLEVEL=0 first in the cipher string.\n"

/* Strict-Transport-Security (RFC 6797) on every HTTPS answer of a vhost, proxied ones
 * and errors included: one year, what the hsts probe and the common scanners ask for
 * (>= 180 days). No includeSubDomains: the names below a vhost's are not the gateway's
 * to pin to HTTPS. The backend's own header (Exchange can send one) is dropped, so that
 * the client sees exactly one. */
#define WEB_HSTS	"max-age=31536000"
#define WEB_HSTS_NOTE \
	"\t# HSTS on every HTTPS answer (proxied and errors too); Exchange's own header\n" \
	"\t# is dropped so that there is exactly one. No includeSubDomains: the names\n" \
	"\t# below this one are not the gateway's.\n"

/* The protocol and cipher lines of a TLS site: TLS 1.2 and 1.3 with the modern
 * ciphers, or with legacy from TLS 1.0 on with the legacy ciphers. */
void web_apache_protocols(struct sbuf *b, bool legacy);
void web_nginx_protocols(struct sbuf *b, bool legacy);

/* A one-line comment naming the generator (no time stamp: rendering is deterministic). */
void web_header(struct sbuf *b, const struct site *site, const char *comment);

/* The configuration directory of the web server (SERVER_APACHE or SERVER_NGINX) on
 * host h: its apache_dir or nginx_dir, else the Debian default; NULL with "FILE:LINE:
 * ..." in *cause when the value cannot be written into a site file. */
const char *web_server_dir(const struct render_ctx *ctx, const struct host *h, int server,
    char **cause);

/* Renders the rest of one vhost's site file into b, which already has the web_header
 * and a comment naming the vhost and its backend be (checked and parsed). */
typedef void web_vhost_fn(const struct render_ctx *ctx, const struct vhost *vh,
    const struct web_backend *be, struct sbuf *b);

/* One site per [vhost] served by server on ctx->host, DIR/sites-available/
 * mxdeck-NAME<suffix> enabled through sites-enabled (fileset_add_site), DIR from
 * web_server_dir. Each vhost is checked (web_check_vhost, web_backend_parse) before
 * vhost renders it. 0, or -1 with *cause. */
int web_render_vhosts(const struct render_ctx *ctx, struct fileset *fs, int server,
    const char *suffix, web_vhost_fn *vhost, char **cause);

#endif
