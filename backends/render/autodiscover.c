/* autodiscover.c: the Autodiscover responder (Outlook's POX protocol, made correct), the Mozilla
 * autoconfig files, and the web server site that serves them.
 *
 * Files for one host:
 *   <www_dir>/autodiscover/autodiscover.php            the POX responder (all sections)
 *   <www_dir>/autoconfig/<domain>/mail/config-v1.1.xml   per [autodiscover] section:
 *   <www_dir>/autoconfig/<domain>/.well-known/autoconfig/mail/config-v1.1.xml
 *   <apache_dir>/sites-available/mxdeck_autodiscover.conf (ROLE_APACHE), and/or
 *   <nginx_dir>/sites-available/mxdeck_autodiscover      (ROLE_NGINX)
 * Each section has its own document root because each may name other servers. The
 * site file names contain '_', which no vhost name can, so they never collide with
 * the apache and nginx renderers' files.
 *
 * The responder validates the POSTed address (RFC 5322 dot-atom, a domain of the
 * section or its `also` list), XML-escapes every value it prints, answers both the
 * outlook 2006a and the mobilesync 2006 schemas, and ErrorCode 600 otherwise. The
 * settings are PHP single-quoted literals (php_sq_escape). */
#include "backends/render/web-common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define AD_DEFAULT_FPM	"/run/php/php8.2-fpm.sock"

/* Above the protocol lines of the sites, in apache and nginx alike. */
#define AD_LEGACY_TLS_NOTE \
	"\t# A vhost has legacy_tls = yes: its Outlook 2013 clients need Autodiscover\n" \
	"\t# over TLS 1.0 too (@SECLEVEL=0 first for OpenSSL 3).\n"

static const char ad_php_code[] =
	"\n"
	"const MXDECK_NS_RESPONSE = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';\n"
	"const MXDECK_NS_OUTLOOK = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';\n"
	"const MXDECK_NS_MOBILESYNC = 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006';\n"
	"\n"
	"/* Every value that reaches the answer goes through here. */\n"
	"function mxdeck_x(string $s): string\n"
	"{\n"
	"\treturn htmlspecialchars($s, ENT_QUOTES | ENT_XML1 | ENT_SUBSTITUTE, 'UTF-8');\n"
	"}\n"
	"\n"
	"function mxdeck_reply(string $body): void\n"
	"{\n"
	"\theader('Content-Type: text/xml; charset=utf-8');\n"
	"\techo \"<?xml version=\\\"1.0\\\" encoding=\\\"utf-8\\\"?>\\n\", $body;\n"
	"}\n"
	"\n"
	"/* ErrorCode 600: what Exchange answers to a request it cannot use. */\n"
	"function mxdeck_error(): void\n"
	"{\n"
	"\t$t = microtime(true);\n"
	"\t$time = gmdate('H:i:s', (int)$t) . sprintf('.%03d', (int)(($t - floor($t)) * 1000));\n"
	"\tmxdeck_reply('<Autodiscover xmlns=\"' . MXDECK_NS_RESPONSE . \"\\\">\\n\"\n"
	"\t    . \"  <Response>\\n\"\n"
	"\t    . '    <Error Time=\"' . $time . \"\\\" Id=\\\"1\\\">\\n\"\n"
	"\t    . \"      <ErrorCode>600</ErrorCode>\\n\"\n"
	"\t    . \"      <Message>Invalid Request</Message>\\n\"\n"
	"\t    . \"      <DebugData />\\n\"\n"
	"\t    . \"    </Error>\\n\"\n"
	"\t    . \"  </Response>\\n\"\n"
	"\t    . \"</Autodiscover>\\n\");\n"
	"}\n"
	"\n"
	"/* The text of the first element NAME (any namespace prefix); null when it is absent\n"
	" * or holds markup. */\n"
	"function mxdeck_element(string $xml, string $name): ?string\n"
	"{\n"
	"\t$p = '(?:[A-Za-z_][A-Za-z0-9_.-]*:)?';\n"
	"\tif (preg_match('/<' . $p . $name . '(?:\\s[^<>]*)?>([^<>]*)<\\/' . $p . $name . '\\s*>/',\n"
	"\t    $xml, $m) !== 1)\n"
	"\t\treturn null;\n"
	"\treturn trim(html_entity_decode($m[1], ENT_QUOTES | ENT_XML1, 'UTF-8'));\n"
	"}\n"
	"\n"
	"/* RFC 5322 dot-atom local part, a DNS domain of at least two labels. */\n"
	"function mxdeck_valid_address(string $a): bool\n"
	"{\n"
	"\t$atext = '[A-Za-z0-9!#$%&\\x27*+\\/=?^_`{|}~-]';\n"
	"\t$label = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';\n"
	"\tif (strlen($a) > 254 || preg_match('/^(' . $atext . '+(?:\\.' . $atext . '+)*)@((?:'\n"
	"\t    . $label . '\\.)+' . $label . ')$/D', $a, $m) !== 1)\n"
	"\t\treturn false;\n"
	"\treturn strlen($m[1]) <= 64;\n"
	"}\n"
	"\n"
	"function mxdeck_outlook(array $section, string $login): string\n"
	"{\n"
	"\t$o = '<Autodiscover xmlns=\"' . MXDECK_NS_RESPONSE . \"\\\">\\n\"\n"
	"\t    . '  <Response xmlns=\"' . MXDECK_NS_OUTLOOK . \"\\\">\\n\"\n"
	"\t    . \"    <Account>\\n\"\n"
	"\t    . \"      <AccountType>email</AccountType>\\n\"\n"
	"\t    . \"      <Action>settings</Action>\\n\";\n"
	"\tforeach ($section['protocols'] as $p) {\n"
	"\t\t$o .= \"      <Protocol>\\n\"\n"
	"\t\t    . '        <Type>' . mxdeck_x($p['type']) . \"</Type>\\n\"\n"
	"\t\t    . '        <Server>' . mxdeck_x($p['server']) . \"</Server>\\n\"\n"
	"\t\t    . '        <Port>' . mxdeck_x($p['port']) . \"</Port>\\n\"\n"
	"\t\t    . \"        <DomainRequired>off</DomainRequired>\\n\"\n"
	"\t\t    . '        <LoginName>' . mxdeck_x($login) . \"</LoginName>\\n\"\n"
	"\t\t    . \"        <SPA>off</SPA>\\n\";\n"
	"\t\tif ($p['encryption'] === 'ssl')\n"
	"\t\t\t$o .= \"        <SSL>on</SSL>\\n\";\n"
	"\t\telseif ($p['encryption'] === 'starttls')\n"
	"\t\t\t$o .= \"        <SSL>on</SSL>\\n        <Encryption>TLS</Encryption>\\n\";\n"
	"\t\telse\n"
	"\t\t\t$o .= \"        <SSL>off</SSL>\\n\";\n"
	"\t\t$o .= \"        <AuthRequired>on</AuthRequired>\\n\";\n"
	"\t\tif ($p['type'] === 'SMTP')\n"
	"\t\t\t$o .= \"        <UsePOPAuth>off</UsePOPAuth>\\n\"\n"
	"\t\t\t    . \"        <SMTPLast>off</SMTPLast>\\n\";\n"
	"\t\t$o .= \"      </Protocol>\\n\";\n"
	"\t}\n"
	"\treturn $o . \"    </Account>\\n  </Response>\\n</Autodiscover>\\n\";\n"
	"}\n"
	"\n"
	"function mxdeck_mobilesync(array $section, string $email): string\n"
	"{\n"
	"\t$url = mxdeck_x($section['activesync']);\n"
	"\treturn '<Autodiscover xmlns=\"' . MXDECK_NS_RESPONSE . \"\\\">\\n\"\n"
	"\t    . '  <Response xmlns=\"' . MXDECK_NS_MOBILESYNC . \"\\\">\\n\"\n"
	"\t    . \"    <Culture>en:us</Culture>\\n\"\n"
	"\t    . \"    <User>\\n\"\n"
	"\t    . '      <DisplayName>' . mxdeck_x($email) . \"</DisplayName>\\n\"\n"
	"\t    . '      <EMailAddress>' . mxdeck_x($email) . \"</EMailAddress>\\n\"\n"
	"\t    . \"    </User>\\n\"\n"
	"\t    . \"    <Action>\\n\"\n"
	"\t    . \"      <Settings>\\n\"\n"
	"\t    . \"        <Server>\\n\"\n"
	"\t    . \"          <Type>MobileSync</Type>\\n\"\n"
	"\t    . '          <Url>' . $url . \"</Url>\\n\"\n"
	"\t    . '          <Name>' . $url . \"</Name>\\n\"\n"
	"\t    . \"        </Server>\\n\"\n"
	"\t    . \"      </Settings>\\n\"\n"
	"\t    . \"    </Action>\\n\"\n"
	"\t    . \"  </Response>\\n\"\n"
	"\t    . \"</Autodiscover>\\n\";\n"
	"}\n"
	"\n"
	"function mxdeck_main(array $sections): void\n"
	"{\n"
	"\t$request = '';\n"
	"\tif (($_SERVER['REQUEST_METHOD'] ?\? '') === 'POST')\n"
	"\t\t$request = (string)file_get_contents('php://input', false, null, 0, 65536);\n"
	"\t$email = mxdeck_element($request, 'EMailAddress');\n"
	"\t$schema = mxdeck_element($request, 'AcceptableResponseSchema');\n"
	"\tif ($email === null || $schema === null || !mxdeck_valid_address($email)) {\n"
	"\t\tmxdeck_error();\n"
	"\t\treturn;\n"
	"\t}\n"
	"\t$at = strrpos($email, '@');\n"
	"\t$local = substr($email, 0, $at);\n"
	"\t$domain = strtolower(substr($email, $at + 1));\n"
	"\tforeach ($sections as $section) {\n"
	"\t\tif (!in_array($domain, $section['domains'], true))\n"
	"\t\t\tcontinue;\n"
	"\t\tif ($schema === MXDECK_NS_OUTLOOK && count($section['protocols']) > 0) {\n"
	"\t\t\tmxdeck_reply(mxdeck_outlook($section,\n"
	"\t\t\t    $section['login'] === 'localpart' ? $local : $email));\n"
	"\t\t\treturn;\n"
	"\t\t}\n"
	"\t\tif ($schema === MXDECK_NS_MOBILESYNC && $section['activesync'] !== '') {\n"
	"\t\t\tmxdeck_reply(mxdeck_mobilesync($section, $email));\n"
	"\t\t\treturn;\n"
	"\t\t}\n"
	"\t\tbreak;\n"
	"\t}\n"
	"\tmxdeck_error();\n"
	"}\n"
	"\n"
	"mxdeck_main($mxdeck_sections);\n";

static char *
ad_lower(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

static const char *
ad_enc_name(enum encryption enc)
{
	switch (enc) {
	case ENC_SSL:		return "ssl";
	case ENC_STARTTLS:	return "starttls";
	default:		return "plain";
	}
}

static int
ad_check(const struct render_ctx *ctx, const struct autodiscover *ad, char **cause)
{
	const struct site *site = ctx->site;
	const struct endpoint *eps[] = { &ad->imap, &ad->pop3, &ad->smtp };
	const char *names[] = { "imap", "pop3", "smtp" };
	int rc = 0;

	if (web_check_hostname(ctx, ad->line, "autodiscover domain", ad->domain, cause) == -1)
		rc = -1;
	for (size_t i = 0; i < ad->also.n; i++)
		if (web_check_hostname(ctx, site_word_line(site, ad->line, "also",
		    ad->also.v[i]), "autodiscover also domain", ad->also.v[i], cause) == -1)
			rc = -1;
	for (size_t i = 0; i < nitems(eps); i++) {
		int line = eps[i]->line != 0 ? eps[i]->line : ad->line;

		if (eps[i]->host == NULL)
			continue;
		if (web_check_hostname(ctx, line, names[i], eps[i]->host, cause) == -1)
			rc = -1;
		if (eps[i]->port < 1 || eps[i]->port > 65535)
			rc = render_refuse(ctx, cause, web_file(site), line, "%s port must be "
			    "1..65535", names[i]);
	}
	if (ad->activesync != NULL) {
		bool ok = str_starts(ad->activesync, "https://") ||
		    str_starts(ad->activesync, "http://");

		for (const char *p = ad->activesync; ok && *p != '\0'; p++)
			if ((unsigned char)*p <= 0x20 || *p == 0x7f)
				ok = false;
		if (!ok)
			rc = render_refuse(ctx, cause, web_file(site), site_key_line(site,
			    ad->line, "activesync"), "activesync must be an http(s) URL without "
			    "spaces or control characters");
	}
	return rc;
}

static void
ad_php_domain(struct sbuf *b, const char *domain)
{
	char *l = ad_lower(domain);

	sb_add(b, "'");
	php_sq_escape(b, l);
	sb_add(b, "'");
	free(l);
}

static void
ad_php(const struct site *site, struct sbuf *b)
{
	sb_add(b, "<?php\n");
	web_header(b, site, "//");
	sb_add(b, "// Outlook (POX) and ActiveSync Autodiscover responder.\n"
	    "declare(strict_types=1);\n\n"
	    "// One entry per [autodiscover] section; domains: the section's domain and its\n"
	    "// also domains, lower case.\n"
	    "$mxdeck_sections = [\n");
	for (size_t i = 0; i < site->nads; i++) {
		const struct autodiscover *ad = &site->ads[i];
		const struct endpoint *eps[] = { &ad->imap, &ad->pop3, &ad->smtp };
		const char *types[] = { "IMAP", "POP3", "SMTP" };

		sb_add(b, "\t[\n\t\t'domains' => [");
		ad_php_domain(b, ad->domain);
		for (size_t j = 0; j < ad->also.n; j++) {
			sb_add(b, ", ");
			ad_php_domain(b, ad->also.v[j]);
		}
		sb_addf(b, "],\n\t\t'login' => '%s',\n\t\t'protocols' => [\n",
		    ad->login == LOGIN_LOCALPART ? "localpart" : "email");
		for (size_t j = 0; j < nitems(eps); j++) {
			if (eps[j]->host == NULL)
				continue;
			sb_addf(b, "\t\t\t['type' => '%s', 'server' => '", types[j]);
			php_sq_escape(b, eps[j]->host);
			sb_addf(b, "', 'port' => '%d', 'encryption' => '%s'],\n", eps[j]->port,
			    ad_enc_name(eps[j]->enc));
		}
		sb_add(b, "\t\t],\n\t\t'activesync' => '");
		if (ad->activesync != NULL)
			php_sq_escape(b, ad->activesync);
		sb_add(b, "',\n\t],\n");
	}
	sb_add(b, "];\n");
	sb_add(b, ad_php_code);
}

static void
ad_xml_el(struct sbuf *b, const char *indent, const char *name, const char *value)
{
	sb_addf(b, "%s<%s>", indent, name);
	xml_escape(b, value);
	sb_addf(b, "</%s>\n", name);
}

static void
ad_autoconfig_server(struct sbuf *b, const struct autodiscover *ad,
    const struct endpoint *ep, const char *el, const char *type)
{
	const char *sock = ep->enc == ENC_SSL ? "SSL" :
	    ep->enc == ENC_STARTTLS ? "STARTTLS" : "plain";
	char port[16];

	if (ep->host == NULL)
		return;
	snprintf(port, sizeof port, "%d", ep->port);
	sb_addf(b, "    <%s type=\"%s\">\n", el, type);
	ad_xml_el(b, "      ", "hostname", ep->host);
	ad_xml_el(b, "      ", "port", port);
	ad_xml_el(b, "      ", "socketType", sock);
	ad_xml_el(b, "      ", "authentication", "password-cleartext");
	ad_xml_el(b, "      ", "username", ad->login == LOGIN_LOCALPART ?
	    "%EMAILLOCALPART%" : "%EMAILADDRESS%");
	sb_addf(b, "    </%s>\n", el);
}

/* Mozilla autoconfig, clientConfig 1.1. */
static void
ad_autoconfig(const struct site *site, const struct autodiscover *ad, struct sbuf *b)
{
	(void)site;
	sb_add(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<!-- Generated by mxdeck. Do not edit: mxdeck overwrites this file. -->\n"
	    "<clientConfig version=\"1.1\">\n  <emailProvider id=\"");
	xml_escape(b, ad->domain);
	sb_add(b, "\">\n");
	ad_xml_el(b, "    ", "domain", ad->domain);
	for (size_t i = 0; i < ad->also.n; i++)
		ad_xml_el(b, "    ", "domain", ad->also.v[i]);
	ad_xml_el(b, "    ", "displayName", ad->domain);
	ad_xml_el(b, "    ", "displayShortName", ad->domain);
	ad_autoconfig_server(b, ad, &ad->imap, "incomingServer", "imap");
	ad_autoconfig_server(b, ad, &ad->pop3, "incomingServer", "pop3");
	ad_autoconfig_server(b, ad, &ad->smtp, "outgoingServer", "smtp");
	sb_add(b, "  </emailProvider>\n</clientConfig>\n");
}

/* The names a section's site answers to: autodiscover.D and autoconfig.D for its
 * domain and every also domain. */
static void
ad_names(const struct autodiscover *ad, struct strv *names)
{
	const char *prefixes[] = { "autodiscover.", "autoconfig." };

	for (size_t p = 0; p < nitems(prefixes); p++) {
		strv_push_owned(names, xasprintf("%s%s", prefixes[p], ad->domain));
		for (size_t i = 0; i < ad->also.n; i++)
			strv_push_owned(names, xasprintf("%s%s", prefixes[p], ad->also.v[i]));
	}
}

struct ad_web {
	const char *www;
	const char *cert, *key;
	const char *fpm;		/* socket path or host:port */
	bool	 fpm_unix;
	bool	 legacy;
	bool	 nginx_default;	/* this section's nginx server is the port's default */
	int	 port;
	int	 http_port;
};

/* https://autodiscover.DOMAIN[:port]/Autodiscover/Autodiscover.xml */
static void
ad_https_url(struct sbuf *b, const struct ad_web *w, const struct autodiscover *ad)
{
	sb_addf(b, "https://autodiscover.%s", ad->domain);
	if (w->port != 443)
		sb_addf(b, ":%d", w->port);
	sb_add(b, "/Autodiscover/Autodiscover.xml");
}

static void
ad_apache_section(const struct ad_web *w, const struct autodiscover *ad, struct sbuf *b)
{
	struct strv names = { 0 };
	char *root = xasprintf("%s/autoconfig/%s", w->www, ad->domain);

	ad_names(ad, &names);
	sb_addf(b, "# [autodiscover \"%s\"]\n", ad->domain);
	sb_addf(b, "<VirtualHost *:%d>\n\tServerName %s\n", w->http_port, names.v[0]);
	for (size_t i = 1; i < names.n; i++)
		sb_addf(b, "\tServerAlias %s\n", names.v[i]);
	sb_addf(b, "\tDocumentRoot \"%s\"\n", root);
	sb_addf(b, "\t<Directory \"%s\">\n\t\tOptions -Indexes\n\t\tRequire all granted\n"
	    "\t</Directory>\n", root);
	sb_add(b, "\t# Outlook's HTTP redirect method: a GET over http is sent to the HTTPS\n"
	    "\t# responder of the section's own domain (whose name the certificate has).\n");
	sb_add(b, "\tRedirectMatch 302 \"(?i)^/autodiscover/autodiscover\\.xml$\" \"");
	ad_https_url(b, w, ad);
	sb_add(b, "\"\n</VirtualHost>\n\n");

	sb_addf(b, "<VirtualHost *:%d>\n\tServerName %s\n", w->port, names.v[0]);
	for (size_t i = 1; i < names.n; i++)
		sb_addf(b, "\tServerAlias %s\n", names.v[i]);
	sb_addf(b, "\tSSLEngine on\n\tSSLCertificateFile \"%s\"\n"
	    "\tSSLCertificateKeyFile \"%s\"\n", w->cert, w->key);
	if (w->legacy)
		sb_add(b, AD_LEGACY_TLS_NOTE);
	web_apache_protocols(b, w->legacy);
	sb_addf(b, "\tDocumentRoot \"%s\"\n", root);
	sb_addf(b, "\t<Directory \"%s\">\n\t\tOptions -Indexes\n\t\tRequire all granted\n"
	    "\t</Directory>\n", root);
	sb_add(b, "\t# Any case: clients ask for /Autodiscover/Autodiscover.xml and others.\n");
	sb_addf(b, "\tAliasMatch \"(?i)^/autodiscover/autodiscover\\.xml$\" "
	    "\"%s/autodiscover/autodiscover.php\"\n", w->www);
	sb_addf(b, "\t<Directory \"%s/autodiscover\">\n\t\tOptions -Indexes\n"
	    "\t\tRequire all granted\n\t\t<Files \"autodiscover.php\">\n", w->www);
	if (w->fpm_unix)
		sb_addf(b, "\t\t\tSetHandler \"proxy:unix:%s|fcgi://localhost\"\n", w->fpm);
	else
		sb_addf(b, "\t\t\tSetHandler \"proxy:fcgi://%s\"\n", w->fpm);
	sb_add(b, "\t\t</Files>\n\t</Directory>\n</VirtualHost>\n");
	strv_free(&names);
	free(root);
}

static void
ad_nginx_section(const struct ad_web *w, const struct autodiscover *ad, struct sbuf *b)
{
	struct strv names = { 0 };
	char *root = xasprintf("%s/autoconfig/%s", w->www, ad->domain);

	ad_names(ad, &names);
	sb_addf(b, "# [autodiscover \"%s\"]\n", ad->domain);
	sb_addf(b, "server {\n\tlisten %d;\n\tlisten [::]:%d;\n\tserver_name", w->http_port,
	    w->http_port);
	for (size_t i = 0; i < names.n; i++)
		sb_addf(b, " %s", names.v[i]);
	sb_addf(b, ";\n\troot \"%s\";\n\tlocation / {\n\t\ttry_files $uri =404;\n\t}\n", root);
	sb_add(b, "\t# Outlook's HTTP redirect method: a GET over http is sent to the HTTPS\n"
	    "\t# responder of the section's own domain (whose name the certificate has).\n");
	sb_add(b, "\tlocation ~* ^/autodiscover/autodiscover\\.xml$ {\n\t\treturn 302 ");
	ad_https_url(b, w, ad);
	sb_add(b, ";\n\t}\n}\n\n");

	if (w->nginx_default) {
		sb_add(b, "server {\n\t# nginx negotiates the TLS version with the port's default "
		    "server,\n\t# before SNI: TLS 1.0 works only on the default server.\n");
		sb_addf(b, "\tlisten %d ssl default_server;\n\tlisten [::]:%d ssl "
		    "default_server;\n\tserver_name", w->port, w->port);
	} else
		sb_addf(b, "server {\n\tlisten %d ssl;\n\tlisten [::]:%d ssl;\n\tserver_name",
		    w->port, w->port);
	for (size_t i = 0; i < names.n; i++)
		sb_addf(b, " %s", names.v[i]);
	sb_addf(b, ";\n\tssl_certificate \"%s\";\n\tssl_certificate_key \"%s\";\n",
	    w->cert, w->key);
	if (w->legacy)
		sb_add(b, AD_LEGACY_TLS_NOTE);
	web_nginx_protocols(b, w->legacy);
	sb_addf(b, "\troot \"%s\";\n", root);
	sb_add(b, "\t# ~*: any case. A POST to a static file would get 405: hand it to PHP.\n");
	sb_add(b, "\tlocation ~* ^/autodiscover/autodiscover\\.xml$ {\n");
	sb_addf(b, "\t\tfastcgi_pass \"%s%s\";\n", w->fpm_unix ? "unix:" : "", w->fpm);
	sb_addf(b, "\t\tfastcgi_param SCRIPT_FILENAME \"%s/autodiscover/autodiscover.php\";\n",
	    w->www);
	sb_add(b, "\t\tfastcgi_param SCRIPT_NAME /autodiscover/autodiscover.php;\n"
	    "\t\tfastcgi_param REQUEST_METHOD $request_method;\n"
	    "\t\tfastcgi_param CONTENT_TYPE $content_type;\n"
	    "\t\tfastcgi_param CONTENT_LENGTH $content_length;\n"
	    "\t\tfastcgi_param QUERY_STRING $query_string;\n"
	    "\t\tfastcgi_param REQUEST_URI $request_uri;\n"
	    "\t\tfastcgi_param SERVER_PROTOCOL $server_protocol;\n"
	    "\t\tfastcgi_param SERVER_NAME $server_name;\n"
	    "\t\tfastcgi_param SERVER_PORT $server_port;\n"
	    "\t\tfastcgi_param REMOTE_ADDR $remote_addr;\n"
	    "\t\tfastcgi_param GATEWAY_INTERFACE CGI/1.1;\n"
	    "\t\tfastcgi_param HTTPS on;\n"
	    "\t\tclient_max_body_size 64k;\n"
	    "\t}\n"
	    "\tlocation / {\n\t\ttry_files $uri =404;\n\t}\n}\n");
	strv_free(&names);
	free(root);
}

static int
ad_check_fpm(const struct render_ctx *ctx, const struct host *h, const char *fpm,
    char **cause)
{
	int line = site_key_line(ctx->site, h->line, "php_fpm_socket");
	const char *colon;
	char *hostpart;
	bool ok;
	long port;

	if (fpm[0] == '/')
		return web_check_path(ctx, line, "php_fpm_socket", fpm, cause);
	colon = strrchr(fpm, ':');
	ok = colon != NULL && parse_int(colon + 1, 1, 65535, &port) == 0;
	if (ok) {
		hostpart = xstrndup(fpm, (size_t)(colon - fpm));
		ok = hostname_ok(hostpart, 0);
		free(hostpart);
	}
	if (!ok)
		return render_refuse(ctx, cause, web_file(ctx->site), line,
		    "php_fpm_socket must be a socket path or HOST:PORT");
	return 0;
}

static void
ad_add(struct fileset *fs, const char *path, struct sbuf *b)
{
	struct rfile *f = fileset_add(fs, "autodiscover", path, 0644, FK_FILE);

	sb_free(&f->data);
	f->data = *b;
	sb_init(b);
}

const char *
render_fpm_socket(const struct host *h)
{
	return h->php_fpm_socket != NULL ? h->php_fpm_socket : AD_DEFAULT_FPM;
}

static int
autodiscover_render(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	const struct site *site = ctx->site;
	const struct host *h = ctx->host;
	struct ad_web w;
	struct sbuf b;
	char *path;
	int certline;

	if (site->nads == 0)
		return 0;
	memset(&w, 0, sizeof w);
	w.www = host_dir(h, ROLE_AUTODISCOVER);
	w.fpm = render_fpm_socket(h);
	w.fpm_unix = w.fpm[0] == '/';
	w.port = web_https_port(h);
	w.http_port = web_http_port(h);
	w.legacy = web_any_legacy(site);
	{
		const char *dkey = role_by_bit(ROLE_AUTODISCOVER)->dir_key;
		int rc = 0;

		if (web_check_dir(ctx, site_key_line(site, h->line, dkey), dkey, w.www,
		    cause) == -1)
			rc = -1;
		if (ad_check_fpm(ctx, h, w.fpm, cause) == -1)
			rc = -1;
		for (size_t i = 0; i < site->nads; i++)
			if (ad_check(ctx, &site->ads[i], cause) == -1)
				rc = -1;
		if (rc == -1)
			return -1;
	}

	sb_init(&b);
	ad_php(site, &b);
	path = xasprintf("%s/autodiscover/autodiscover.php", w.www);
	ad_add(fs, path, &b);
	free(path);

	for (size_t i = 0; i < site->nads; i++) {
		const struct autodiscover *ad = &site->ads[i];

		ad_autoconfig(site, ad, &b);
		path = xasprintf("%s/autoconfig/%s/.well-known/autoconfig/mail/config-v1.1.xml",
		    w.www, ad->domain);
		ad_add(fs, path, &b);
		free(path);
		ad_autoconfig(site, ad, &b);
		path = xasprintf("%s/autoconfig/%s/mail/config-v1.1.xml", w.www, ad->domain);
		ad_add(fs, path, &b);
		free(path);
	}

	if ((h->roles & (ROLE_APACHE | ROLE_NGINX)) == 0)
		return 0;
	web_ad_certificate(site, &w.cert, &w.key, &certline);
	if (w.cert == NULL)
		return render_refuse(ctx, cause, web_file(site), site->ads[0].line, "the "
		    "autodiscover site needs a certificate: set certificate and key in [tls] "
		    "(or on a vhost)");
	if (web_check_path(ctx, site_key_line(site, certline, "certificate"), "certificate",
	    w.cert, cause) == -1 ||
	    web_check_path(ctx, site_key_line(site, certline, "key"), "key", w.key,
	    cause) == -1)
		return -1;

	if (h->roles & ROLE_APACHE) {
		const char *dir = web_server_dir(ctx, h, SERVER_APACHE, cause);

		if (dir == NULL)
			return -1;
		web_header(&b, site, "#");
		sb_addf(&b, "# Autodiscover (Outlook, ActiveSync) and autoconfig (Thunderbird).\n"
		    "# Needs mod_ssl, mod_alias, mod_proxy, mod_proxy_fcgi and php-fpm on %s.\n\n",
		    w.fpm);
		for (size_t i = 0; i < site->nads; i++) {
			if (i > 0)
				sb_add(&b, "\n");
			ad_apache_section(&w, &site->ads[i], &b);
		}
		fileset_add_site(fs, "autodiscover", dir, "mxdeck_autodiscover.conf", &b);
	}
	if (h->roles & ROLE_NGINX) {
		const char *dir = web_server_dir(ctx, h, SERVER_NGINX, cause);

		if (dir == NULL)
			return -1;
		web_header(&b, site, "#");
		sb_addf(&b, "# Autodiscover (Outlook, ActiveSync) and autoconfig (Thunderbird).\n"
		    "# Needs php-fpm on %s.\n\n", w.fpm);
		for (size_t i = 0; i < site->nads; i++) {
			if (i > 0)
				sb_add(&b, "\n");
			/* TLS 1.0 for Outlook 2013 needs a legacy default server (nginx.c) */
			w.nginx_default = i == 0 && w.legacy &&
			    web_nginx_legacy_default(site) == NULL;
			ad_nginx_section(&w, &site->ads[i], &b);
		}
		fileset_add_site(fs, "autodiscover", dir, "mxdeck_autodiscover", &b);
	}
	sb_free(&b);
	return 0;
}

const struct renderer render_autodiscover = {
	.name = "autodiscover",
	.role = ROLE_AUTODISCOVER,
	.service = "web",
	.render = autodiscover_render,
};
