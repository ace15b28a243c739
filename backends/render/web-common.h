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
int web_backend_parse(const struct site *site, const struct vhost *vh,
    struct web_backend *b, char **cause);
void web_backend_free(struct web_backend *b);
/* Whether a backend host is an IP address literal (IPv4 or [IPv6]). */
bool web_is_ip(const char *host);

/* A DNS host name (letters, digits, '-', '.'; no leading/trailing '-' in a label). */
bool web_valid_hostname(const char *s);
/* A path that may be written in double quotes in Apache and nginx configurations:
 * absolute, and no control characters, quotes, backslashes, '$', ';', '{', '}'. */
bool web_valid_path(const char *s);
/* The same character rules without requiring an absolute path (host directories,
 * which the profile may give relative to a sandbox). */
bool web_valid_dir(const char *s);

/* Check a path value of the profile; -1 with "FILE:LINE: what 'value' ..." in *cause. */
int web_check_path(const struct site *site, int line, const char *what, const char *value,
    char **cause);
int web_check_dir(const struct site *site, int line, const char *what, const char *value,
    char **cause);
int web_check_hostname(const struct site *site, int line, const char *what,
    const char *value, char **cause);

/* Every [vhost] value that reaches a site file: name, certificate, key, backend_ca,
 * activesync_timeout. */
int web_check_vhost(const struct site *site, const struct vhost *vh, char **cause);

/* The HTTPS port of the host: its "https" probe port, 443 by default. */
int web_https_port(const struct host *h);

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

/* A one-line comment naming the generator (no time stamp: rendering is deterministic). */
void web_header(struct sbuf *b, const struct site *site, const char *comment);

#endif
