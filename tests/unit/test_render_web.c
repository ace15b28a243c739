/* test_render_web.c: the apache, nginx and autodiscover renderers.
 *
 * Golden files: tests/data/golden/{apache,nginx,autodiscover}/, rendered from
 * share/examples/{demo,exchange-reverse-proxy,exchange-reverse-proxy-nginx,autodiscover}.ini
 * (loaded as if they were in /srv/mxdeck so that the absolute paths in them do not
 * depend on the checkout).
 * MXDECK_UPDATE_GOLDEN=1 rewrites them. Run from the top of the tree (tests/run.sh does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/render/render.h"
#include "backends/render/web-common.h"

extern const struct renderer render_apache, render_nginx, render_autodiscover;

static const char profile[] =
	"[site]\n"
	"name = unit\n"
	"domain = example.org\n"
	"[host \"gw\"]\n"
	"address = gw.example.org\n"
	"roles = apache nginx autodiscover\n"
	"probe_ports = https:8443\n"
	"[vhost \"mail.example.org\"]\n"				/* line 8 */
	"server = apache\n"
	"backend = https://exchange1.lan.example.org\n"
	"services = owa oma ecp ews oab autodiscover activesync rpc mapi\n"
	"certificate = /etc/ssl/certs/mail.pem\n"
	"key = /etc/ssl/private/mail.key\n"
	"backend_ca = /etc/ssl/certs/lan-ca.pem\n"
	"activesync_timeout = 1200\n"
	"[vhost \"legacy.example.org\"]\n"				/* line 16 */
	"server = apache\n"
	"backend = http://10.0.0.5:8080\n"
	"services = owa rpc mapi\n"
	"certificate = /etc/ssl/certs/legacy.pem\n"
	"key = /etc/ssl/private/legacy.key\n"
	"legacy_tls = yes\n"
	"[vhost \"nx.example.org\"]\n"					/* line 23 */
	"server = nginx\n"
	"backend = https://[fd00::5]:443\n"
	"services = autodiscover activesync owa ews rpc\n"
	"certificate = /etc/ssl/certs/nx.pem\n"
	"key = /etc/ssl/private/nx.key\n"
	"activesync_timeout = 2700\n"
	"[autodiscover \"example.org\"]\n"				/* line 30 */
	"imap = imap.example.org:993/ssl\n"
	"smtp = smtp.example.org:587/starttls\n"
	"activesync = https://mail.example.org/Microsoft-Server-ActiveSync\n"
	"login = localpart\n"
	"also = example.com Example.NET\n"
	"[tls]\n"
	"certificate = /etc/ssl/certs/smtp.pem\n"
	"key = /etc/ssl/private/smtp.key\n";

struct fixture {
	struct site site;
	struct diags d;
	struct fileset fs;
	struct render_ctx ctx;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);

	assert_non_null(fx);
	if (site_load_buf(&fx->site, "/srv/unit/site.ini", profile, strlen(profile),
	    &fx->d) != 0) {
		diags_print(&fx->d, stderr);
		fail_msg("the unit profile does not load");
	}
	fx->ctx.site = &fx->site;
	fx->ctx.host = site_find_host(&fx->site, "gw");
	assert_non_null(fx->ctx.host);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	fileset_free(&fx->fs);
	site_free(&fx->site);
	diags_free(&fx->d);
	free(fx);
	return 0;
}

static const char *
file_data(const struct fileset *fs, const char *path)
{
	const struct rfile *f = fileset_find(fs, path);

	if (f == NULL)
		fail_msg("%s was not rendered", path);
	return f->data.s;
}

static void
render_ok(struct fixture *fx, const struct renderer *r)
{
	char *cause = NULL;

	if (r->render(&fx->ctx, &fx->fs, &cause) != 0)
		fail_msg("%s: %s", r->name, cause);
}

/* The literal path prefix of a rule pattern: "(?i)^/owa(/.*)?$" -> "/owa",
 * "^/autodiscover/autodiscover\.xml$" -> "/autodiscover/autodiscover.xml". */
static char *
pattern_prefix(const char *pat)
{
	struct sbuf b;

	sb_init(&b);
	sb_add(&b, "");
	if (str_starts(pat, "(?i)"))
		pat += 4;
	if (*pat == '^')
		pat++;
	if (*pat == '(' && pat[1] == '/')	/* ^(/path...) captures the whole path */
		pat++;
	for (; *pat != '\0'; pat++) {
		if (*pat == '\\' && pat[1] != '\0') {
			sb_addc(&b, *++pat);
			continue;
		}
		if (strchr("()[]$.*+?|{", *pat) != NULL)
			break;
		sb_addc(&b, (char)tolower((unsigned char)*pat));
	}
	return sb_steal(&b);
}

/* Assert that no rule (in file order) is shadowed by an earlier one whose literal
 * prefix is a prefix of its own. Returns the number of rules seen. */
static size_t
assert_no_shadowing(const char *conf, const char *keyword)
{
	struct strv prefixes = { 0 };
	const char *p = conf;
	size_t n;

	for (; *p != '\0'; p += strcspn(p, "\n"), p += *p == '\n') {
		const char *start, *end;
		char *pat;

		p += strspn(p, " \t");
		if (!str_starts(p, keyword))
			continue;
		start = p + strlen(keyword);
		while (*start == ' ' || *start == '"' || *start == '~' || *start == '*')
			start++;
		end = start + strcspn(start, "\" {\n");
		pat = xstrndup(start, (size_t)(end - start));
		strv_push_owned(&prefixes, pattern_prefix(pat));
		free(pat);
		p = end;
	}
	for (size_t i = 0; i < prefixes.n; i++)
		for (size_t j = i + 1; j < prefixes.n; j++)
			if (str_starts(prefixes.v[j], prefixes.v[i]))
				fail_msg("rule %zu (%s) is shadowed by rule %zu (%s)", j,
				    prefixes.v[j], i, prefixes.v[i]);
	n = prefixes.n;
	strv_free(&prefixes);
	return n;
}

static void
test_apache_files(void **state)
{
	struct fixture *fx = *state;
	const struct rfile *f;

	render_ok(fx, &render_apache);
	assert_int_equal(fx->fs.n, 2);		/* the nginx vhost is not Apache's */
	f = fileset_find(&fx->fs, "/etc/apache2/sites-available/mxdeck-mail.example.org.conf");
	assert_non_null(f);
	assert_string_equal(f->symlink, "/etc/apache2/sites-enabled/mxdeck-mail.example.org.conf");
	assert_int_equal(f->mode, 0644);
	assert_string_equal(f->role, "apache");
}

/* The modules the rendered Apache sites use, as a2enmod would enable them. */
static void
test_apache_modules(void **state)
{
	struct fixture *fx = *state;
	char *cause = NULL, *owned = NULL;
	const struct rfile *f;
	const char *want[] = { "mods-enabled/ssl.load", "mods-enabled/ssl.conf",
	    "mods-enabled/socache_shmcb.load", "mods-enabled/setenvif.load",
	    "mods-enabled/setenvif.conf", "mods-enabled/mime.load", "mods-enabled/proxy.load",
	    "mods-enabled/proxy.conf", "mods-enabled/proxy_http.load",
	    "mods-enabled/proxy_fcgi.load", "mods-enabled/alias.load",
	    "mods-enabled/headers.load", "conf-enabled/php8.2-fpm.conf" };
	size_t nlinks = 0;

	if (render_host(&fx->ctx, &fx->fs, &cause) != 0)
		fail_msg("%s", cause);
	for (size_t i = 0; i < nitems(want); i++) {
		char *path = xasprintf("/etc/apache2/%s", want[i]);
		char *target = xasprintf("../%s-available/%s", strncmp(want[i], "mods", 4) == 0 ?
		    "mods" : "conf", strchr(want[i], '/') + 1);

		f = fileset_find(&fx->fs, path);
		if (f == NULL)
			fail_msg("no link %s", path);
		assert_int_equal(f->kind, FK_LINK);
		assert_string_equal(f->target, target);
		assert_int_equal(f->data.len, 0);
		free(target);
		free(path);
	}
	for (size_t i = 0; i < fx->fs.n; i++)
		if (fx->fs.v[i].kind == FK_LINK) {
			nlinks++;
			/* Directives inside <IfModule> need nothing (proxy_msrpc is not
			 * packaged); Header (HSTS) needs headers, checked above; nothing
			 * uses Rewrite; nginx has no modules. */
			assert_null(strstr(fx->fs.v[i].path, "msrpc"));
			assert_null(strstr(fx->fs.v[i].path, "rewrite"));
			assert_null(strstr(fx->fs.v[i].path, "/etc/nginx/"));
		}
	/* + authz_core.load (Require), alias.conf, mime.conf */
	assert_int_equal(nlinks, nitems(want) + 3);
	f = fileset_find(&fx->fs, "/etc/apache2/mods-enabled/ssl.conf");
	assert_string_equal(rfile_link_label(f, &owned), "module ssl");
	free(owned);
	f = fileset_find(&fx->fs, "/etc/apache2/conf-enabled/php8.2-fpm.conf");
	assert_string_equal(rfile_link_label(f, &owned), "conf php8.2-fpm");
	free(owned);
}

/* The php-fpm conf follows the socket: a versioned socket -> its conf, the unversioned
 * alternative -> proxy_fcgi only. */
static void
test_apache_modules_fpm(void **state)
{
	static const struct {
		const char *socket;
		const char *conf;	/* NULL: none */
	} cases[] = {
		{ "/run/php/php8.3-fpm.sock", "/etc/apache2/conf-enabled/php8.3-fpm.conf" },
		{ "/run/php/php-fpm.sock", NULL },
	};

	(void)state;
	for (size_t i = 0; i < nitems(cases); i++) {
		char *text = xasprintf("%s", profile);
		char *at = strstr(text, "probe_ports = https:8443\n"), *cause = NULL;
		char *prof, *rest;
		struct site site;
		struct diags d = { 0 };
		struct fileset fs = { 0 };
		struct render_ctx ctx;
		size_t nconf = 0;

		assert_non_null(at);
		rest = at + strlen("probe_ports = https:8443\n");
		at[0] = '\0';
		prof = xasprintf("%sphp_fpm_socket = %s\n%s", text, cases[i].socket, rest);
		memset(&site, 0, sizeof site);
		if (site_load_buf(&site, "/srv/unit/site.ini", prof, strlen(prof), &d) != 0) {
			diags_print(&d, stderr);
			fail_msg("%s: the profile does not load", cases[i].socket);
		}
		ctx = render_ctx_for(&site, site_find_host(&site, "gw"));
		if (render_host(&ctx, &fs, &cause) != 0)
			fail_msg("%s: %s", cases[i].socket, cause);
		assert_non_null(fileset_find(&fs, "/etc/apache2/mods-enabled/proxy_fcgi.load"));
		for (size_t j = 0; j < fs.n; j++)
			if (strstr(fs.v[j].path, "/conf-enabled/") != NULL)
				nconf++;
		assert_int_equal(nconf, cases[i].conf != NULL ? 1 : 0);
		if (cases[i].conf != NULL)
			assert_non_null(fileset_find(&fs, cases[i].conf));
		fileset_free(&fs);
		site_free(&site);
		diags_free(&d);
		free(prof);
		free(text);
	}
}

static void
test_apache_modern(void **state)
{
	struct fixture *fx = *state;
	const char *c;

	render_ok(fx, &render_apache);
	c = file_data(&fx->fs, "/etc/apache2/sites-available/mxdeck-mail.example.org.conf");
	assert_non_null(strstr(c, "<VirtualHost *:8443>\n\tServerName mail.example.org\n"));
	assert_non_null(strstr(c, "Redirect permanent / https://mail.example.org:8443/\n"));
	assert_non_null(strstr(c, "\tSSLProtocol -all +TLSv1.2 +TLSv1.3\n"));
	assert_null(strstr(c, "SECLEVEL"));
	assert_null(strstr(c, "+TLSv1 "));
	assert_non_null(strstr(c, "\tSSLCertificateFile \"/etc/ssl/certs/mail.pem\"\n"));
	assert_non_null(strstr(c, "\tSSLProxyEngine on\n\tSSLProxyVerify require\n"));
	assert_non_null(strstr(c, "\tSSLProxyCACertificateFile \"/etc/ssl/certs/lan-ca.pem\"\n"));
	assert_non_null(strstr(c, "\tSSLProxyCheckPeerName on\n"));
	assert_null(strstr(c, "AH02411"));
	/* with a $N in the target: ProxyPassMatch appends the request path otherwise */
	assert_non_null(strstr(c, "\tProxyPassMatch \"(?i)^/autodiscover/autodiscover\\.xml()$\" "
	    "\"https://exchange1.lan.example.org/autodiscover/autodiscover.xml$1\"\n"));
	assert_non_null(strstr(c, "\tProxyPassMatch \"(?i)^/Microsoft-Server-ActiveSync(/.*)?$\" "
	    "\"https://exchange1.lan.example.org/Microsoft-Server-ActiveSync$1\" timeout=1200\n"));
	/* the timeout is only on ActiveSync */
	assert_ptr_equal(strstr(c, "timeout="), strstr(c, "timeout=1200"));
	assert_null(strstr(strstr(c, "timeout=") + 1, "timeout="));
	assert_non_null(strstr(c, "\t<IfModule proxy_msrpc_module>\n"
	    "\t\tOutlookAnywherePassthrough On\n"
	    "\t\tProxyPassMatch \"(?i)^/rpc(/.*)?$\" \"https://exchange1.lan.example.org/rpc$1\"\n"
	    "\t</IfModule>\n"));
	assert_non_null(strstr(c, "\tProxyPassMatch \"(?i)^/mapi(/.*)?$\" "
	    "\"https://exchange1.lan.example.org/mapi$1\"\n"));
}

static void
test_apache_no_shadowing(void **state)
{
	struct fixture *fx = *state;
	const char *c;

	render_ok(fx, &render_apache);
	c = file_data(&fx->fs, "/etc/apache2/sites-available/mxdeck-mail.example.org.conf");
	/* autodiscover + 8 prefix services */
	assert_int_equal(assert_no_shadowing(c, "ProxyPassMatch "), 9);
	assert_null(strstr(c, "ProxyPass \"/"));
}

static void
test_apache_legacy(void **state)
{
	struct fixture *fx = *state;
	const char *c, *suite;

	render_ok(fx, &render_apache);
	c = file_data(&fx->fs, "/etc/apache2/sites-available/mxdeck-legacy.example.org.conf");
	assert_non_null(strstr(c, "\tSSLProtocol -all +TLSv1 +TLSv1.1 +TLSv1.2 +TLSv1.3\n"));
	suite = strstr(c, "\tSSLCipherSuite \"");
	assert_non_null(suite);
	assert_true(str_starts(suite, "\tSSLCipherSuite \"@SECLEVEL=0:"));
	/* only the listed services; a plain-HTTP backend has no SSLProxy* */
	assert_null(strstr(c, "ActiveSync("));
	assert_null(strstr(c, "autodiscover\\.xml"));
	assert_null(strstr(c, "/EWS"));
	assert_null(strstr(c, "SSLProxy"));
	assert_non_null(strstr(c, "\"http://10.0.0.5:8080/owa$1\""));
	assert_int_equal(assert_no_shadowing(c, "ProxyPassMatch "), 3);
	/* the legacy switch is per vhost: the other one stays modern */
	c = file_data(&fx->fs, "/etc/apache2/sites-available/mxdeck-mail.example.org.conf");
	assert_null(strstr(c, "@SECLEVEL=0"));
}

static void
test_apache_ip_backend(void **state)
{
	struct fixture *fx = *state;
	const char *c;

	free(fx->site.vhosts[0].backend);
	fx->site.vhosts[0].backend = xstrdup("https://192.0.2.7:8443");
	render_ok(fx, &render_apache);
	c = file_data(&fx->fs, "/etc/apache2/sites-available/mxdeck-mail.example.org.conf");
	assert_non_null(strstr(c, "(AH02411)"));
	assert_non_null(strstr(c, "\"https://192.0.2.7:8443/owa$1\""));
}

static void
test_nginx(void **state)
{
	struct fixture *fx = *state;
	const struct rfile *f;
	const char *c, *as;

	render_ok(fx, &render_nginx);
	assert_int_equal(fx->fs.n, 1);
	f = fileset_find(&fx->fs, "/etc/nginx/sites-available/mxdeck-nx.example.org");
	assert_non_null(f);
	assert_string_equal(f->symlink, "/etc/nginx/sites-enabled/mxdeck-nx.example.org");
	c = f->data.s;
	assert_non_null(strstr(c, "\tlocation ~* ^/autodiscover/autodiscover\\.xml$ {\n"));
	assert_non_null(strstr(c, "\t\tproxy_pass https://[fd00::5]:443;\n"));
	as = strstr(c, "\tlocation ~* ^/Microsoft-Server-ActiveSync(/|$) {\n");
	assert_non_null(as);
	as = xstrndup(as, strcspn(as, "}"));
	assert_non_null(strstr(as, "\t\tproxy_http_version 1.1;\n"));
	assert_non_null(strstr(as, "\t\tproxy_set_header Connection \"\";\n"));
	assert_non_null(strstr(as, "\t\tproxy_read_timeout 2700s;\n"));
	assert_non_null(strstr(as, "\t\tproxy_buffering off;\n"));
	assert_non_null(strstr(as, "\t\tclient_max_body_size 0;\n"));
	free((char *)as);
	assert_non_null(strstr(c, "\tssl_protocols TLSv1.2 TLSv1.3;\n"));
	assert_null(strstr(c, "SECLEVEL"));
	assert_null(strstr(c, "default_server"));
	assert_non_null(strstr(c, "\tproxy_ssl_verify on;\n"));
	assert_null(strstr(c, "location ~* ^/mapi"));
	assert_int_equal(assert_no_shadowing(c, "location ~* "), 5);
}

static void
test_nginx_legacy(void **state)
{
	struct fixture *fx = *state;
	const char *c;

	fx->site.vhosts[2].legacy_tls = true;
	render_ok(fx, &render_nginx);
	c = file_data(&fx->fs, "/etc/nginx/sites-available/mxdeck-nx.example.org");
	assert_non_null(strstr(c, "\tssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n"));
	assert_non_null(strstr(c, "\tssl_ciphers \"@SECLEVEL=0:"));
	/* nginx picks the TLS version with the port's default server, before SNI */
	assert_non_null(strstr(c, "\tlisten 8443 ssl default_server;\n"));
}

/* Every profile value that reaches a config is validated: no directive injection. */
static void
expect_refused(struct fixture *fx, const struct renderer *r, const char *where)
{
	char *cause = NULL;

	assert_int_equal(r->render(&fx->ctx, &fx->fs, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, where) == NULL)
		fail_msg("cause '%s' does not name %s", cause, where);
	free(cause);
	fileset_free(&fx->fs);
}

static void
replace(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

static void
test_injection(void **state)
{
	struct fixture *fx = *state;
	struct vhost *vh = &fx->site.vhosts[0], *nx = &fx->site.vhosts[2];
	struct autodiscover *ad = &fx->site.ads[0];
	char *saved;

	saved = xstrdup(vh->name);
	replace(&vh->name, "mail.example.org>\n</VirtualHost>");
	expect_refused(fx, &render_apache, "/srv/unit/site.ini:8:");
	replace(&vh->name, "mail example.org");
	expect_refused(fx, &render_apache, "/srv/unit/site.ini:8:");
	replace(&vh->name, saved);
	free(saved);

	saved = xstrdup(vh->certificate);
	replace(&vh->certificate, "/etc/ssl/a.pem\"\nProxyPass / http://evil/");
	expect_refused(fx, &render_apache, "certificate");
	replace(&vh->certificate, "/etc/${HOME}/a.pem");
	expect_refused(fx, &render_apache, "certificate");
	replace(&vh->certificate, "relative.pem");
	expect_refused(fx, &render_apache, "certificate");
	replace(&vh->certificate, saved);
	free(saved);

	saved = xstrdup(vh->backend);
	replace(&vh->backend, "https://exchange1/\" retry=0");
	expect_refused(fx, &render_apache, "backend");
	replace(&vh->backend, "https://exchange1/owa");
	expect_refused(fx, &render_apache, "backend");
	replace(&vh->backend, "ftp://exchange1");
	expect_refused(fx, &render_apache, "backend");
	replace(&vh->backend, "https://exchange1:99999");
	expect_refused(fx, &render_apache, "backend");
	replace(&vh->backend, saved);
	free(saved);

	replace(&nx->key, "/etc/ssl/nx.key; include /etc/passwd");
	expect_refused(fx, &render_nginx, "/srv/unit/site.ini:28:");	/* the key line */
	replace(&nx->key, "/etc/ssl/private/nx.key");
	nx->activesync_timeout = 0;
	expect_refused(fx, &render_nginx, "activesync_timeout");
	nx->activesync_timeout = 2700;

	replace(&ad->also.v[0], "example.com autoconfig.evil.org");
	expect_refused(fx, &render_autodiscover, "/srv/unit/site.ini:35:");	/* also = */
	replace(&ad->also.v[0], "example.com");
	replace(&ad->imap.host, "imap.example.org'; system('id'); '");
	expect_refused(fx, &render_autodiscover, "imap");
	replace(&ad->imap.host, "imap.example.org");

	/* and after all that the fixture renders again */
	render_ok(fx, &render_apache);
	render_ok(fx, &render_nginx);
	render_ok(fx, &render_autodiscover);
}

static void
test_autodiscover(void **state)
{
	struct fixture *fx = *state;
	const char *php, *xml, *site, *ng;
	char *cause = NULL;

	/* all roles of the host together: no path collides */
	if (render_host(&fx->ctx, &fx->fs, &cause) != 0)
		fail_msg("render_host: %s", cause);
	php = file_data(&fx->fs, "/var/www/mxdeck/autodiscover/autodiscover.php");
	assert_true(str_starts(php, "<?php\n"));
	assert_non_null(strstr(php, "'domains' => ['example.org', 'example.com', 'example.net'],"));
	assert_non_null(strstr(php, "'login' => 'localpart',"));
	assert_non_null(strstr(php, "['type' => 'IMAP', 'server' => 'imap.example.org', "
	    "'port' => '993', 'encryption' => 'ssl'],"));
	assert_non_null(strstr(php, "['type' => 'SMTP', 'server' => 'smtp.example.org', "
	    "'port' => '587', 'encryption' => 'starttls'],"));
	assert_null(strstr(php, "'POP3'"));
	assert_non_null(strstr(php, "http://schemas.microsoft.com/exchange/autodiscover/"
	    "outlook/responseschema/2006a"));
	assert_null(strstr(php, "https://schemas"));
	assert_non_null(strstr(php, "<SPA>off</SPA>"));
	assert_non_null(strstr(php, "<UsePOPAuth>off</UsePOPAuth>"));
	assert_non_null(strstr(php, "<SMTPLast>off</SMTPLast>"));
	assert_non_null(strstr(php, "<ErrorCode>600</ErrorCode>"));

	xml = file_data(&fx->fs, "/var/www/mxdeck/autoconfig/example.org/mail/config-v1.1.xml");
	assert_string_equal(xml, file_data(&fx->fs, "/var/www/mxdeck/autoconfig/example.org/"
	    ".well-known/autoconfig/mail/config-v1.1.xml"));
	assert_non_null(strstr(xml, "<clientConfig version=\"1.1\">"));
	assert_non_null(strstr(xml, "    <domain>Example.NET</domain>\n"));
	assert_non_null(strstr(xml, "<socketType>STARTTLS</socketType>"));
	assert_non_null(strstr(xml, "<username>%EMAILLOCALPART%</username>"));

	site = file_data(&fx->fs, "/etc/apache2/sites-available/mxdeck_autodiscover.conf");
	assert_non_null(strstr(site, "\tServerName autodiscover.example.org\n"));
	assert_non_null(strstr(site, "\tServerAlias autoconfig.Example.NET\n"));
	assert_non_null(strstr(site, "\tAliasMatch \"(?i)^/autodiscover/autodiscover\\.xml$\" "
	    "\"/var/www/mxdeck/autodiscover/autodiscover.php\"\n"));
	assert_non_null(strstr(site, "SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|"
	    "fcgi://localhost\""));
	assert_non_null(strstr(site, "\tSSLCertificateFile \"/etc/ssl/certs/smtp.pem\"\n"));
	/* a vhost has legacy_tls: Outlook 2013 needs Autodiscover over TLS 1.0 too */
	assert_non_null(strstr(site, "\tSSLCipherSuite \"@SECLEVEL=0:"));
	assert_non_null(strstr(site, "\tRedirectMatch 302 \"(?i)^/autodiscover/autodiscover\\.xml$\" "
	    "\"https://autodiscover.example.org:8443/Autodiscover/Autodiscover.xml\"\n"));
	ng = file_data(&fx->fs, "/etc/nginx/sites-available/mxdeck_autodiscover");
	assert_non_null(strstr(ng, "\t\treturn 302 "
	    "https://autodiscover.example.org:8443/Autodiscover/Autodiscover.xml;\n"));
	assert_non_null(strstr(ng, "\tlocation ~* ^/autodiscover/autodiscover\\.xml$ {\n"
	    "\t\tfastcgi_pass \"unix:/run/php/php8.2-fpm.sock\";\n"));
	/* the nginx vhost nx.example.org is modern: the legacy Autodiscover site must be
	 * the port's default server for TLS 1.0 to work */
	assert_non_null(strstr(ng, "\tlisten 8443 ssl default_server;\n"));
	assert_non_null(fileset_find(&fx->fs,
	    "/etc/apache2/sites-available/mxdeck-mail.example.org.conf"));
	assert_non_null(fileset_find(&fx->fs, "/etc/nginx/sites-available/mxdeck-nx.example.org"));
}

static void
test_autodiscover_php_escape(void **state)
{
	struct fixture *fx = *state;
	const char *php;

	replace(&fx->site.ads[0].activesync, "https://mail.example.org/a'b\\c");
	render_ok(fx, &render_autodiscover);
	php = file_data(&fx->fs, "/var/www/mxdeck/autodiscover/autodiscover.php");
	assert_non_null(strstr(php, "'activesync' => 'https://mail.example.org/a\\'b\\\\c',"));
}

static void
test_deterministic(void **state)
{
	struct fixture *fx = *state;
	struct fileset again = { 0 };
	char *cause = NULL;

	assert_int_equal(render_host(&fx->ctx, &fx->fs, &cause), 0);
	assert_int_equal(render_host(&fx->ctx, &again, &cause), 0);
	assert_int_equal(fx->fs.n, again.n);
	for (size_t i = 0; i < again.n; i++) {
		assert_string_equal(fx->fs.v[i].path, again.v[i].path);
		assert_string_equal(fx->fs.v[i].data.s, again.v[i].data.s);
	}
	fileset_free(&again);
}

/* Golden files: tests/data/golden/DIR/STEM--BASENAME for every file of role. */
static void
golden_compare(const struct fileset *fs, const char *stem, const char *role, const char *dir)
{
	bool update = getenv("MXDECK_UPDATE_GOLDEN") != NULL;
	size_t n = 0;

	for (size_t i = 0; i < fs->n; i++) {
		const struct rfile *f = &fs->v[i];
		char *gpath, *cause = NULL, *want;
		size_t len;
		bool same;

		if (strcmp(f->role, role) != 0)
			continue;
		n++;
		gpath = xasprintf("tests/data/golden/%s/%s--%s", dir, stem,
		    strrchr(f->path, '/') + 1);
		if (update) {
			if (write_file_atomic(gpath, f->data.s, f->data.len, 0644, &cause) != 0)
				fail_msg("%s", cause);
			free(gpath);
			continue;
		}
		if ((want = read_file(gpath, &len, &cause)) == NULL)
			fail_msg("%s (MXDECK_UPDATE_GOLDEN=1 creates it)", cause);
		same = len == f->data.len && memcmp(want, f->data.s, len) == 0;
		free(want);
		if (!same)
			fail_msg("%s differs from the rendered %s", gpath, f->path);
		free(gpath);
	}
	if (n == 0)
		fail_msg("%s rendered no %s file", stem, role);
}

/* Render the web roles of the first host of share/examples/STEM.ini, loaded as if it
 * were /srv/mxdeck/STEM.ini. */
static void
golden_profile(const char *stem, struct fileset *fs)
{
	const struct renderer *web[] = { &render_apache, &render_nginx, &render_autodiscover };
	struct site site;
	struct diags d = { 0 };
	struct render_ctx ctx = { 0 };
	char *cause = NULL, *buf, *users, *file, *srv;
	size_t len;

	file = xasprintf("share/examples/%s.ini", stem);
	srv = xasprintf("/srv/mxdeck/%s.ini", stem);
	if ((buf = read_file(file, &len, &cause)) == NULL)
		fail_msg("%s (run from the top of the tree)", cause);
	/* the web renderers do not use the users CSV: do not look for it in /srv */
	while ((users = strstr(buf, "\nfile =")) != NULL)
		users[1] = ';';
	if (site_load_buf(&site, srv, buf, len, &d) != 0) {
		diags_print(&d, stderr);
		fail_msg("%s does not load", file);
	}
	ctx.site = &site;
	ctx.host = &site.hosts[0];
	for (size_t i = 0; i < nitems(web); i++)
		if ((ctx.host->roles & web[i]->role) != 0 &&
		    web[i]->render(&ctx, fs, &cause) != 0)
			fail_msg("%s: %s", file, cause);
	site_free(&site);
	diags_free(&d);
	free(buf);
	free(file);
	free(srv);
}

static void
test_golden(void **state)
{
	static const struct {
		const char *stem, *role, *dir;
	} g[] = {
		{ "demo", "apache", "apache" },
		{ "demo", "autodiscover", "autodiscover" },
		{ "exchange-reverse-proxy", "apache", "apache" },
		{ "exchange-reverse-proxy-nginx", "nginx", "nginx" },
		{ "autodiscover", "autodiscover", "autodiscover" },
	};

	(void)state;
	for (size_t i = 0; i < nitems(g); i++) {
		struct fileset fs = { 0 };

		golden_profile(g[i].stem, &fs);
		golden_compare(&fs, g[i].stem, g[i].role, g[i].dir);
		fileset_free(&fs);
	}
}

static void
test_valid_hostname(void **state)
{
	(void)state;
	assert_true(hostname_ok("mail.example.org", 0));
	assert_true(hostname_ok("a-b.c", 0));
	assert_false(hostname_ok("-a.b", 0));
	assert_false(hostname_ok("a-.b", 0));
	assert_false(hostname_ok("a..b", 0));
	assert_false(hostname_ok("a_b.c", 0));
	assert_false(hostname_ok("", 0));
	assert_false(hostname_ok("a b", 0));
	assert_true(web_valid_path("/etc/ssl/a b.pem"));
	assert_false(web_valid_path("/etc/ssl/a\".pem"));
	assert_false(web_valid_path("/etc/ssl/a\n.pem"));
	assert_false(web_valid_path("etc/a.pem"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apache_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apache_modules, setup, teardown),
		cmocka_unit_test(test_apache_modules_fpm),
		cmocka_unit_test_setup_teardown(test_apache_modern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apache_no_shadowing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apache_legacy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apache_ip_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nginx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nginx_legacy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_autodiscover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_autodiscover_php_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deterministic, setup, teardown),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_valid_hostname),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
