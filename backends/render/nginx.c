/* nginx.c: one nginx site per [vhost] with server = nginx, a reverse proxy in front of
 * Exchange, enabled the Debian way (sites-enabled symlink).
 *
 * Traps handled here (what nginx accepts that nginx -t does not catch):
 * - regex locations are tried in file order: longest path first, each anchored;
 * - `location ~*` matches every case of the Autodiscover path, `location =` does not;
 * - ActiveSync needs HTTP/1.1 with an empty Connection header, a read timeout above
 *   the Direct Push heartbeat, no buffering and no body size limit;
 * - a proxy_set_header in a location drops every inherited one: each location
 *   carries the full set;
 * - legacy TLS needs @SECLEVEL=0 first in ssl_ciphers on OpenSSL 3;
 * - add_header skips error answers without `always`, and a location with its own
 *   add_header drops the server's: HSTS is set once, in the server, with `always`
 *   (no location adds a header), the backend's copy hidden (proxy_hide_header). */
#include "web-common.h"

#include <stdlib.h>
#include <string.h>

static void
nginx_proxy(struct sbuf *b, const struct web_backend *be)
{
	sb_addf(b, "\t\tproxy_pass %s;\n", be->origin);
	sb_add(b, "\t\tproxy_http_version 1.1;\n");
	sb_add(b, "\t\tproxy_set_header Connection \"\";\n");
	sb_add(b, "\t\tproxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n");
	sb_add(b, "\t\tproxy_set_header X-Forwarded-Proto https;\n");
}

static void
nginx_long_poll(struct sbuf *b, int timeout)
{
	sb_addf(b, "\t\tproxy_read_timeout %ds;\n", timeout);
	sb_addf(b, "\t\tproxy_send_timeout %ds;\n", timeout);
	sb_add(b, "\t\tproxy_buffering off;\n");
	sb_add(b, "\t\tproxy_request_buffering off;\n");
	sb_add(b, "\t\tclient_max_body_size 0;\n");
}

/* Render one vhost's site file (after its header, web_render_vhosts) into b. */
static void
nginx_vhost(const struct render_ctx *ctx, const struct vhost *vh,
    const struct web_backend *be, struct sbuf *b)
{
	struct web_service svc[SVC_COUNT];
	size_t nsvc;
	int port = web_https_port(ctx->host);

	if (vh->services & SVC_BIT(SVC_RPC))
		sb_add(b, "# Outlook Anywhere (rpc) through nginx works only with Basic "
		    "authentication on Exchange:\n# nginx has no mod_proxy_msrpc and no "
		    "connection-bound NTLM.\n");
	sb_add(b, "\n");

	sb_addf(b, "server {\n\tlisten %d;\n\tlisten [::]:%d;\n\tserver_name %s;\n",
	    web_http_port(ctx->host), web_http_port(ctx->host), vh->name);
	if (port == 443)
		sb_addf(b, "\treturn 301 https://%s$request_uri;\n}\n\n", vh->name);
	else
		sb_addf(b, "\treturn 301 https://%s:%d$request_uri;\n}\n\n", vh->name, port);

	if (web_nginx_legacy_default(ctx->site) == vh) {
		sb_add(b, "server {\n\t# nginx negotiates the TLS version with the port's default "
		    "server,\n\t# before SNI: legacy_tls works only on the default server.\n");
		sb_addf(b, "\tlisten %d ssl default_server;\n\tlisten [::]:%d ssl "
		    "default_server;\n\tserver_name %s;\n\n", port, port, vh->name);
	} else
		sb_addf(b, "server {\n\tlisten %d ssl;\n\tlisten [::]:%d ssl;\n"
		    "\tserver_name %s;\n\n", port, port, vh->name);
	sb_addf(b, "\tssl_certificate \"%s\";\n", vh->certificate);
	sb_addf(b, "\tssl_certificate_key \"%s\";\n", vh->key);
	if (vh->legacy_tls)
		sb_add(b, WEB_LEGACY_TLS_NOTE);
	web_nginx_protocols(b, vh->legacy_tls);
	sb_addf(b, "\tssl_prefer_server_ciphers %s;\n", vh->legacy_tls ? "on" : "off");
	sb_add(b, "\n" WEB_HSTS_NOTE);
	sb_add(b, "\tproxy_hide_header Strict-Transport-Security;\n");
	sb_add(b, "\tadd_header Strict-Transport-Security \"" WEB_HSTS "\" always;\n");
	if (be->tls) {
		sb_add(b, "\n\tproxy_ssl_server_name on;\n");
		sb_add(b, "\tproxy_ssl_verify on;\n");
		sb_add(b, "\tproxy_ssl_verify_depth 4;\n");
		sb_addf(b, "\tproxy_ssl_trusted_certificate \"%s\";\n",
		    vh->backend_ca != NULL ? vh->backend_ca :
		    "/etc/ssl/certs/ca-certificates.crt");
	}

	sb_add(b, "\n\t# Regex locations are tried in order: longest path first, each "
	    "anchored.\n\t# ~* matches any case.\n");
	if (vh->services & SVC_BIT(SVC_AUTODISCOVER)) {
		sb_add(b, "\tlocation ~* ^/autodiscover/autodiscover\\.xml$ {\n");
		nginx_proxy(b, be);
		sb_add(b, "\t}\n");
	}
	nsvc = web_prefix_services(vh->services, svc);
	for (size_t i = 0; i < nsvc; i++) {
		sb_addf(b, "\tlocation ~* ^%s(/|$) {\n", svc[i].path);
		nginx_proxy(b, be);
		if (svc[i].svc == SVC_ACTIVESYNC) {
			sb_add(b, "\t\t# Direct Push holds requests open up to the "
			    "heartbeat.\n");
			nginx_long_poll(b, vh->activesync_timeout);
		} else if (svc[i].svc == SVC_RPC) {
			sb_add(b, "\t\t# RPC_IN_DATA/RPC_OUT_DATA announce huge bodies and "
			    "stream.\n");
			nginx_long_poll(b, vh->activesync_timeout);
		}
		sb_add(b, "\t}\n");
	}
	if (vh->services & SVC_BIT(SVC_OWA))
		sb_add(b, "\tlocation = / {\n\t\treturn 302 /owa/;\n\t}\n");
	sb_add(b, "\tlocation / {\n\t\treturn 404;\n\t}\n}\n");
}

static int
nginx_render(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	return web_render_vhosts(ctx, fs, SERVER_NGINX, "", nginx_vhost, cause);
}

const struct renderer render_nginx = {
	.name = "nginx",
	.role = ROLE_NGINX,
	.service = "nginx",
	.render = nginx_render,
};
