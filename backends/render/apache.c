/* apache.c: one Apache 2.4 site per [vhost] with server = apache, a reverse proxy in
 * front of Exchange, enabled the Debian way (sites-enabled symlink).
 *
 * Traps handled here (what Apache accepts that apache2 -t does not catch):
 * - first matching ProxyPass wins: rules are emitted longest path first;
 * - paths are matched case-insensitively ((?i) ProxyPassMatch), and each service has its
 *   own worker URL so that ActiveSync's timeout= is not shared with (or ignored for)
 *   another rule's worker;
 * - legacy TLS needs @SECLEVEL=0 first in the cipher string on OpenSSL 3;
 * - OutlookAnywherePassthrough is vhost context only, inside <IfModule>;
 * - ProxyPassMatch appends the request path to a target without $N (the exact
 *   Autodiscover rule has an empty group for that reason);
 * - SSLProxyCheckPeerName ignores IP SANs: an IP backend is flagged in a comment;
 * - `Header set` skips error answers and proxied headers live in another table than
 *   `Header always`: HSTS is `always set`, the backend's copy `onsuccess unset`.
 * All verified against a running apache2 in tests/integration/apache-render.sh. */
#include "web-common.h"

#include <stdlib.h>
#include <string.h>

static void
apache_proxy_rule(struct sbuf *b, const char *indent, const struct web_backend *be,
    const char *path, int timeout)
{
	sb_addf(b, "%sProxyPassMatch \"(?i)^%s(/.*)?$\" \"%s%s$1\"", indent, path,
	    be->origin, path);
	if (timeout > 0)
		sb_addf(b, " timeout=%d", timeout);
	sb_add(b, "\n");
}

/* Render one vhost's site file (after its header, web_render_vhosts) into b. */
static void
apache_vhost(const struct render_ctx *ctx, const struct vhost *vh,
    const struct web_backend *be, struct sbuf *b)
{
	struct web_service svc[SVC_COUNT];
	size_t nsvc;
	int port = web_https_port(ctx->host);
	bool rpc = (vh->services & SVC_BIT(SVC_RPC)) != 0;
	bool ad = (vh->services & SVC_BIT(SVC_AUTODISCOVER)) != 0;

	sb_add(b, "# Needs mod_ssl, mod_proxy, mod_proxy_http, mod_headers and mod_alias");
	if (rpc)
		sb_add(b, ";\n# Outlook Anywhere (RPC over HTTP) needs mod_proxy_msrpc as well");
	sb_add(b, ".\n\n");

	sb_addf(b, "<VirtualHost *:%d>\n\tServerName %s\n", web_http_port(ctx->host), vh->name);
	if (port == 443)
		sb_addf(b, "\tRedirect permanent / https://%s/\n", vh->name);
	else
		sb_addf(b, "\tRedirect permanent / https://%s:%d/\n", vh->name, port);
	sb_add(b, "</VirtualHost>\n\n");

	sb_addf(b, "<VirtualHost *:%d>\n\tServerName %s\n\n", port, vh->name);
	sb_add(b, "\tSSLEngine on\n");
	sb_addf(b, "\tSSLCertificateFile \"%s\"\n", vh->certificate);
	sb_addf(b, "\tSSLCertificateKeyFile \"%s\"\n", vh->key);
	if (vh->legacy_tls)
		sb_add(b, WEB_LEGACY_TLS_NOTE);
	web_apache_protocols(b, vh->legacy_tls);
	sb_addf(b, "\tSSLHonorCipherOrder %s\n", vh->legacy_tls ? "on" : "off");
	sb_add(b, "\n" WEB_HSTS_NOTE);
	sb_add(b, "\tHeader onsuccess unset Strict-Transport-Security\n");
	sb_add(b, "\tHeader always set Strict-Transport-Security \"" WEB_HSTS "\"\n");
	sb_add(b, "\n\tProxyRequests Off\n");
	if (be->tls) {
		sb_add(b, "\tSSLProxyEngine on\n");
		sb_add(b, "\tSSLProxyVerify require\n");
		sb_add(b, "\tSSLProxyVerifyDepth 4\n");
		if (vh->backend_ca != NULL)
			sb_addf(b, "\tSSLProxyCACertificateFile \"%s\"\n", vh->backend_ca);
		else
			sb_add(b, "\tSSLProxyCACertificatePath \"/etc/ssl/certs\"\n");
		if (web_is_ip(be->host))
			sb_add(b, "\t# Apache matches the backend certificate against DNS names "
			    "only (AH02411):\n\t# with an IP-address backend every request "
			    "fails; use the certificate's name.\n");
		sb_add(b, "\tSSLProxyCheckPeerName on\n");
		sb_add(b, "\tSSLProxyCheckPeerExpire on\n");
	}

	sb_add(b, "\n\t# First match wins: rules are ordered longest path first, so that no\n"
	    "\t# rule is shadowed by a shorter prefix. (?i): clients use any case.\n");
	if (ad) {
		sb_add(b, "\t# The empty group gives the target a $1: ProxyPassMatch appends the\n"
		    "\t# request path to a target without one.\n");
		sb_addf(b, "\tProxyPassMatch \"(?i)^/autodiscover/autodiscover\\.xml()$\" "
		    "\"%s/autodiscover/autodiscover.xml$1\"\n", be->origin);
	}
	nsvc = web_prefix_services(vh->services, svc);
	for (size_t i = 0; i < nsvc; i++) {
		switch (svc[i].svc) {
		case SVC_ACTIVESYNC:
			sb_add(b, "\t# ActiveSync Direct Push holds requests open for up to "
			    "the heartbeat.\n");
			apache_proxy_rule(b, "\t", be, svc[i].path, vh->activesync_timeout);
			break;
		case SVC_RPC:
			sb_add(b, "\t# Outlook Anywhere: RPC_IN_DATA/RPC_OUT_DATA need "
			    "mod_proxy_msrpc.\n");
			sb_add(b, "\t<IfModule proxy_msrpc_module>\n");
			sb_add(b, "\t\tOutlookAnywherePassthrough On\n");
			apache_proxy_rule(b, "\t\t", be, svc[i].path, 0);
			sb_add(b, "\t</IfModule>\n");
			break;
		default:
			apache_proxy_rule(b, "\t", be, svc[i].path, 0);
			break;
		}
	}
	sb_addf(b, "\tProxyPassReverse \"/\" \"%s/\"\n", be->origin);
	if (vh->services & SVC_BIT(SVC_OWA))
		sb_add(b, "\tRedirectMatch 302 \"^/$\" \"/owa/\"\n");
	sb_add(b, "</VirtualHost>\n");
}

/* Debian's a2ensite takes only site files named *.conf. */
static int
apache_render(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	return web_render_vhosts(ctx, fs, SERVER_APACHE, ".conf", apache_vhost, cause);
}

const struct renderer render_apache = {
	.name = "apache",
	.role = ROLE_APACHE,
	.service = "apache2",
	.render = apache_render,
};
