/* nginx.c: one nginx site per [vhost] with server = nginx, a reverse proxy in front of
 * Exchange, enabled the Debian way (sites-enabled symlink).
 *
 * Traps handled here (CONFIG-REFERENCE.md, nginx):
 * - regex locations are tried in file order: longest path first, each anchored;
 * - `location ~*` matches every case of the Autodiscover path, `location =` does not;
 * - ActiveSync needs HTTP/1.1 with an empty Connection header, a read timeout above
 *   the Direct Push heartbeat, no buffering and no body size limit;
 * - a proxy_set_header in a location drops every inherited one: each location
 *   carries the full set;
 * - legacy TLS needs @SECLEVEL=0 first in ssl_ciphers on OpenSSL 3. */
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

static int
nginx_vhost(const struct render_ctx *ctx, const struct vhost *vh, struct sbuf *b,
    char **cause)
{
	const struct site *site = ctx->site;
	struct web_backend be;
	struct web_service svc[SVC_COUNT];
	size_t nsvc;
	int port = web_https_port(ctx->host);

	if (web_check_vhost(site, vh, cause) == -1)
		return -1;
	if (web_backend_parse(site, vh, &be, cause) == -1)
		return -1;

	web_header(b, site, "#");
	sb_addf(b, "# Reverse proxy for Exchange: %s -> %s\n", vh->name, be.origin);
	if (vh->services & SVC_BIT(SVC_RPC))
		sb_add(b, "# Outlook Anywhere (rpc) through nginx works only with Basic "
		    "authentication on Exchange:\n# nginx has no mod_proxy_msrpc and no "
		    "connection-bound NTLM.\n");
	sb_add(b, "\n");

	sb_addf(b, "server {\n\tlisten 80;\n\tlisten [::]:80;\n\tserver_name %s;\n",
	    vh->name);
	if (port == 443)
		sb_addf(b, "\treturn 301 https://%s$request_uri;\n}\n\n", vh->name);
	else
		sb_addf(b, "\treturn 301 https://%s:%d$request_uri;\n}\n\n", vh->name, port);

	if (web_nginx_legacy_default(site) == vh) {
		sb_add(b, "server {\n\t# nginx negotiates the TLS version with the port's default "
		    "server,\n\t# before SNI: legacy_tls works only on the default server.\n");
		sb_addf(b, "\tlisten %d ssl default_server;\n\tlisten [::]:%d ssl "
		    "default_server;\n\tserver_name %s;\n\n", port, port, vh->name);
	} else
		sb_addf(b, "server {\n\tlisten %d ssl;\n\tlisten [::]:%d ssl;\n"
		    "\tserver_name %s;\n\n", port, port, vh->name);
	sb_addf(b, "\tssl_certificate \"%s\";\n", vh->certificate);
	sb_addf(b, "\tssl_certificate_key \"%s\";\n", vh->key);
	if (vh->legacy_tls) {
		sb_add(b, "\t# legacy_tls = yes: Outlook 2013 speaks only TLS 1.0 with SHA-1.\n"
		    "\t# OpenSSL 3 refuses that at its default security level even with the\n"
		    "\t# protocol enabled, hence @SECLEVEL=0 first in the cipher string.\n");
		sb_add(b, "\tssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n");
		sb_add(b, "\tssl_ciphers \"" WEB_CIPHERS_LEGACY "\";\n");
		sb_add(b, "\tssl_prefer_server_ciphers on;\n");
	} else {
		sb_add(b, "\tssl_protocols TLSv1.2 TLSv1.3;\n");
		sb_add(b, "\tssl_ciphers \"" WEB_CIPHERS_MODERN "\";\n");
		sb_add(b, "\tssl_prefer_server_ciphers off;\n");
	}
	if (be.tls) {
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
		nginx_proxy(b, &be);
		sb_add(b, "\t}\n");
	}
	nsvc = web_prefix_services(vh->services, svc);
	for (size_t i = 0; i < nsvc; i++) {
		sb_addf(b, "\tlocation ~* ^%s(/|$) {\n", svc[i].path);
		nginx_proxy(b, &be);
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
	web_backend_free(&be);
	return 0;
}

static int
nginx_render(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	const struct site *site = ctx->site;
	const char *dir = ctx->host->nginx_dir != NULL ? ctx->host->nginx_dir : "/etc/nginx";

	if (web_check_dir(site, ctx->host->line, "nginx_dir", dir, cause) == -1)
		return -1;
	for (size_t i = 0; i < site->nvhosts; i++) {
		const struct vhost *vh = &site->vhosts[i];
		struct sbuf b;
		char *name;

		if (vh->server != SERVER_NGINX)
			continue;
		sb_init(&b);
		if (nginx_vhost(ctx, vh, &b, cause) == -1) {
			sb_free(&b);
			return -1;
		}
		name = xasprintf("mxdeck-%s", vh->name);
		fileset_add_site(fs, "nginx", dir, name, &b);
		free(name);
	}
	return 0;
}

const struct renderer render_nginx = {
	.name = "nginx",
	.role = ROLE_NGINX,
	.render = nginx_render,
};
