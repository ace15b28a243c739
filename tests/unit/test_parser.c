/* test_parser.c: the profile parser (profiles/ini.c + profiles/site.c).
 *
 * Every section and key of the profile format (mxdeck(1)) lands in struct site (the design's own example
 * inline, and share/examples/demo.ini from disk with its users CSV); defaults apply
 * when a key is absent; every parser error is reported once with its exact FILE:LINE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiles/site.h"
#include "tests/unit/cases.h"

/* The profile format's full example, verbatim but for the users file (tested with demo.ini). */
static const char design_example[] =
"[site]\n"						/* 1 */
"name = example\n"
"domain = example.org\n"
"resolver = 127.0.0.1:5353        ; optional: the DNS server every live-test lookup uses\n"
"trust_anchor = /usr/share/dns/root.key   ; DNSSEC trust anchor for the live tests\n"
"\n"
"[host \"gw1\"]\n"					/* 7 */
"address = gw1.example.org        ; or an IP; \"local\" = this machine, no SSH\n"
"port = 22\n"
"user = root\n"
"identity = ~/.ssh/id_ed25519     ; optional, the agent is tried first\n"
"roles = postfix dovecot apache autodiscover dns\n"
"postfix_dir = /etc/postfix       ; per-host directories (Debian defaults); also dovecot_dir,\n"
"                                 ; apache_dir, nginx_dir, www_dir, state_dir (/var/lib/mxdeck)\n"
"postfix_version = 3.7            ; optional; detected over SSH when absent\n"
"probe_ports = smtp:25 submission:587 smtps:465 imaps:993 pop3s:995 imap:143 pop3:110 https:443\n"
"                                 ; optional overrides, e.g. for a lab on loopback\n"
"\n"
"[vhost \"mail.example.org\"]\n"			/* 19 */
"server = apache                  ; apache | nginx\n"
"backend = https://exchange1.lan.example.org\n"
"services = owa oma ecp ews oab autodiscover activesync rpc mapi\n"
"certificate = /etc/ssl/certs/mail.example.org.pem\n"
"key = /etc/ssl/private/mail.example.org.key\n"
"activesync_timeout = 300\n"				/* 25 */
"legacy_tls = no\n"					/* 26 */
"\n"
"[autodiscover \"example.org\"]\n"			/* 28 */
"imap = imap.example.org:993/ssl\n"			/* 29 */
"pop3 = pop.example.org:995/ssl\n"
"smtp = smtp.example.org:465/ssl\n"
"activesync = https://mail.example.org/Microsoft-Server-ActiveSync\n"
"login = email                    ; email | localpart\n"
"also = example.com example.net   ; domains that get SRV records pointing here\n"
"\n"
"[header-rules \"privacy\"]\n"			/* 36 */
"scope = authenticated            ; authenticated | outbound\n"
"rule = /^(Received: from)[^\\n]*(.*)/ REPLACE $1 [127.0.0.1] (localhost [127.0.0.1])$2\n"
"rule = /^X-Originating-IP:/ IGNORE\n"
"rule = /^User-Agent:/ IGNORE\n"
"rule = /^X-Mailer:/ IGNORE\n"				/* 41 */
"\n"
"[tls]\n"						/* 43 */
"smtpd_protocols = >=TLSv1.2\n"
"smtp_protocols = >=TLSv1.2\n"
"no_renegotiation = yes\n"
"dovecot_min_protocol = TLSv1.2\n"
"dane = yes\n"
"tlsa_ports = 25 465\n"
"certificate = /etc/ssl/certs/smtp.example.org.pem   ; the TLSA records are computed from it\n"
"\n"
"[access]\n"						/* 52 */
"always_accept = postmaster abuse\n"
"relay_networks = 192.0.2.10/32\n"
"\n"
"[users]\n"
"default = imap pop3:off smtp activesync mapi owa ews\n"
"\n"
"[user \"alice@example.org\"]\n"			/* 59 */
"pop3 = on\n"
"\n"
"[connector \"fax.example.org\"]\n"			/* 62 */
"smarthost = [fax-gw.example.org]:25\n"
"tenant_id = 00000000-0000-0000-0000-000000000000\n";

static const char *
example_path(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof buf, "share/examples/%s", name);
	if (access(buf, R_OK) != 0)
		snprintf(buf, sizeof buf, "../../share/examples/%s", name);
	return buf;
}

/* Load TEXT as the profile PATH: it loads without any diagnostic. */
static void
load_clean(struct site *s, struct diags *d, const char *path, const char *text)
{
	assert_int_equal(site_load_buf(s, path, text, strlen(text), d), 0);
	if (d->n != 0)
		diags_print(d, stderr);
	assert_int_equal(d->n, 0);
}

static void
test_design_example(void **state)
{
	struct site s;
	struct diags d = { 0 };
	const struct host *h;
	const struct vhost *v;
	const struct autodiscover *a;
	const struct header_rules *hr;
	const struct user *u;

	(void)state;
	load_clean(&s, &d, "/etc/mxdeck/site.ini", design_example);
	assert_string_equal(s.path, "/etc/mxdeck/site.ini");
	assert_string_equal(s.dir, "/etc/mxdeck");

	/* [site] */
	assert_string_equal(s.name, "example");
	assert_string_equal(s.domain, "example.org");
	assert_string_equal(s.resolver, "127.0.0.1:5353");
	assert_string_equal(s.trust_anchor, "/usr/share/dns/root.key");
	assert_false(s.dkim);

	/* [host] */
	assert_int_equal(s.nhosts, 1);
	h = site_find_host(&s, "gw1");
	assert_non_null(h);
	assert_int_equal(h->line, 7);
	assert_string_equal(h->address, "gw1.example.org");
	assert_false(h->local);
	assert_int_equal(h->port, 22);
	assert_string_equal(h->user, "root");
	assert_string_equal(h->identity, "~/.ssh/id_ed25519");
	assert_int_equal(h->roles, ROLE_POSTFIX | ROLE_DOVECOT | ROLE_APACHE |
	    ROLE_AUTODISCOVER | ROLE_DNS);
	assert_string_equal(h->postfix_dir, "/etc/postfix");
	assert_string_equal(h->dovecot_dir, "/etc/dovecot");
	assert_string_equal(h->apache_dir, "/etc/apache2");
	assert_string_equal(h->nginx_dir, "/etc/nginx");
	assert_string_equal(h->www_dir, "/var/www/mxdeck");
	assert_string_equal(h->state_dir, "/var/lib/mxdeck");
	assert_string_equal(h->postfix_version, "3.7");
	assert_int_equal(h->nprobe_ports, 9);
	for (size_t i = 0; i < h->nprobe_ports; i++) {
		static const char *const svc[] = { "smtp", "submission", "smtps", "imaps",
		    "pop3s", "imap", "pop3", "https", "http" };
		static const int port[] = { 25, 587, 465, 993, 995, 143, 110, 443, 80 };

		assert_string_equal(h->probe_ports[i].service, svc[i]);
		assert_int_equal(h->probe_ports[i].port, port[i]);
	}

	/* [vhost] */
	assert_int_equal(s.nvhosts, 1);
	v = &s.vhosts[0];
	assert_string_equal(v->name, "mail.example.org");
	assert_int_equal(v->line, 19);
	assert_int_equal(v->server, SERVER_APACHE);
	assert_string_equal(v->backend, "https://exchange1.lan.example.org");
	assert_null(v->backend_ca);
	assert_int_equal(v->services, (1u << SVC_COUNT) - 1);
	assert_string_equal(v->certificate, "/etc/ssl/certs/mail.example.org.pem");
	assert_string_equal(v->key, "/etc/ssl/private/mail.example.org.key");
	assert_int_equal(v->activesync_timeout, 300);
	assert_int_equal(v->activesync_timeout_line, 25);
	assert_false(v->legacy_tls);
	assert_int_equal(v->legacy_tls_line, 26);

	/* [autodiscover] */
	assert_int_equal(s.nads, 1);
	a = &s.ads[0];
	assert_string_equal(a->domain, "example.org");
	assert_int_equal(a->line, 28);
	assert_string_equal(a->imap.host, "imap.example.org");
	assert_int_equal(a->imap.port, 993);
	assert_int_equal(a->imap.enc, ENC_SSL);
	assert_int_equal(a->imap.line, 29);
	assert_string_equal(a->pop3.host, "pop.example.org");
	assert_int_equal(a->pop3.port, 995);
	assert_string_equal(a->smtp.host, "smtp.example.org");
	assert_int_equal(a->smtp.port, 465);
	assert_int_equal(a->smtp.enc, ENC_SSL);
	assert_string_equal(a->activesync,
	    "https://mail.example.org/Microsoft-Server-ActiveSync");
	assert_int_equal(a->login, LOGIN_EMAIL);
	assert_int_equal(a->also.n, 2);
	assert_string_equal(a->also.v[0], "example.com");
	assert_string_equal(a->also.v[1], "example.net");

	/* [header-rules] */
	assert_int_equal(s.nhrules, 1);
	hr = &s.hrules[0];
	assert_string_equal(hr->name, "privacy");
	assert_int_equal(hr->line, 36);
	assert_int_equal(hr->scope, SCOPE_AUTHENTICATED);
	assert_int_equal(hr->nrules, 4);
	assert_string_equal(hr->rules[0].regex, "^(Received: from)[^\\n]*(.*)");
	assert_int_equal(hr->rules[0].action, PFA_REPLACE);
	assert_string_equal(hr->rules[0].arg, "$1 [127.0.0.1] (localhost [127.0.0.1])$2");
	assert_string_equal(hr->rules[3].text, "/^X-Mailer:/ IGNORE");
	assert_int_equal(hr->rules[3].line, 41);
	assert_int_equal(hr->rules[3].action, PFA_IGNORE);
	assert_false(hr->rules[3].negate);
	assert_string_equal(hr->rules[3].flags, "");

	/* [tls] */
	assert_int_equal(s.tls.line, 43);
	assert_string_equal(s.tls.smtpd_protocols, ">=TLSv1.2");
	assert_string_equal(s.tls.smtp_protocols, ">=TLSv1.2");
	assert_true(s.tls.no_renegotiation);
	assert_string_equal(s.tls.dovecot_min_protocol, "TLSv1.2");
	assert_true(s.tls.dane);
	assert_int_equal(s.tls.ntlsa_ports, 2);
	assert_int_equal(s.tls.tlsa_ports[0], 25);
	assert_int_equal(s.tls.tlsa_ports[1], 465);
	assert_string_equal(s.tls.certificate, "/etc/ssl/certs/smtp.example.org.pem");
	assert_null(s.tls.key);

	/* [access] */
	assert_int_equal(s.access.line, 52);
	assert_int_equal(s.access.always_accept.n, 2);
	assert_string_equal(s.access.always_accept.v[1], "abuse");
	assert_int_equal(s.access.relay_networks.n, 1);
	assert_string_equal(s.access.relay_networks.v[0], "192.0.2.10/32");

	/* [users] and [user] */
	assert_int_equal(s.user_default, PROTO_ALL & ~PROTO_BIT(PROTO_POP3));
	assert_null(s.users_path);
	assert_int_equal(s.nusers, 1);
	u = site_find_user(&s, "Alice@Example.org");
	assert_non_null(u);
	assert_int_equal(u->protos, PROTO_ALL);
	assert_int_equal(u->line, 59);
	assert_string_equal(u->file, "/etc/mxdeck/site.ini");

	/* [connector] */
	assert_int_equal(s.nconnectors, 1);
	assert_string_equal(s.connectors[0].domain, "fax.example.org");
	assert_int_equal(s.connectors[0].line, 62);
	assert_string_equal(s.connectors[0].smarthost, "[fax-gw.example.org]:25");
	assert_string_equal(s.connectors[0].tenant_id,
	    "00000000-0000-0000-0000-000000000000");

	/* the document is kept for the editor */
	assert_int_equal(ini_find_section(&s.ini, "connector", "fax.example.org"), 61);
	assert_int_equal(ini_find_key(&s.ini, 61, "tenant_id"), 63);

	diags_free(&d);
	site_free(&s);
}

/* share/examples/demo.ini from disk: relative directories of a local host, the users
 * CSV next to it, [user] overriding the CSV, two vhosts, defaults. */
static void
test_demo(void **state)
{
	struct site s;
	struct diags d = { 0 };
	const struct host *h;
	const struct user *u;
	const char *path = example_path("demo.ini");

	(void)state;
	assert_int_equal(site_load(&s, path, &d), 0);
	if (d.n != 0)
		diags_print(&d, stderr);
	assert_int_equal(d.nerrors, 0);
	h = site_find_host(&s, "demo");
	assert_non_null(h);
	assert_true(h->local);
	assert_int_equal(h->roles, ROLE_POSTFIX | ROLE_DOVECOT | ROLE_APACHE |
	    ROLE_AUTODISCOVER | ROLE_DNS | ROLE_EXCHANGE);
	assert_true(h->postfix_dir[0] == '/');
	assert_true(str_ends(h->postfix_dir, "/share/examples/demo-sandbox/etc/postfix"));
	assert_true(str_ends(h->state_dir, "/demo-sandbox/var/lib/mxdeck"));
	assert_true(str_ends(h->php_fpm_socket, "/share/examples/demo-sandbox/run/php/php8.2-fpm.sock"));
	assert_true(str_ends(h->postfix_queue_dir, "/demo-sandbox/var/spool/postfix"));
	assert_int_equal(h->port, 22);
	/* probe_ports overrides some services, keeps the others' defaults */
	for (size_t i = 0; i < h->nprobe_ports; i++) {
		if (strcmp(h->probe_ports[i].service, "smtp") == 0)
			assert_int_equal(h->probe_ports[i].port, 2525);
		if (strcmp(h->probe_ports[i].service, "imap") == 0)
			assert_int_equal(h->probe_ports[i].port, 143);
		if (strcmp(h->probe_ports[i].service, "http") == 0)
			assert_int_equal(h->probe_ports[i].port, 2080);
	}
	assert_int_equal(s.nvhosts, 2);
	assert_true(s.vhosts[1].legacy_tls);
	assert_int_equal(s.vhosts[1].activesync_timeout, 1800);	/* default */
	assert_int_equal(s.vhosts[1].activesync_timeout_line, 0);
	assert_int_equal(s.vhosts[1].services, SVC_BIT(SVC_OWA) | SVC_BIT(SVC_RPC) |
	    SVC_BIT(SVC_MAPI));
	assert_int_equal(s.ads[0].smtp.enc, ENC_STARTTLS);
	assert_int_equal(s.ads[0].smtp.port, 587);
	/* relative certificate, key, CA and anchor paths: from the profile's directory */
	assert_true(str_ends(s.tls.key, "/share/examples/demo-sandbox/pki/mail.key"));
	assert_true(s.tls.key[0] == '/');
	assert_true(str_ends(s.vhosts[0].certificate, "/share/examples/demo-sandbox/pki/mail.pem"));
	assert_true(str_ends(s.vhosts[0].backend_ca, "/share/examples/demo-sandbox/pki/ca.pem"));
	assert_non_null(s.tests_ca);
	assert_true(str_ends(s.tests_ca, "/share/examples/demo-sandbox/pki/ca.pem"));
	assert_true(str_ends(s.trust_anchor, "/demo-sandbox/dns/trust-anchors.key"));
	assert_false(s.dkim);

	/* users: the CSV, then [user "alice@example.org"] pop3 = on */
	assert_non_null(s.users_path);
	assert_true(str_ends(s.users_path, "/demo-users.csv"));
	assert_int_equal(s.nusers, 4);
	u = site_find_user(&s, "alice@example.org");
	assert_non_null(u);
	assert_true(u->protos & PROTO_BIT(PROTO_POP3));
	assert_string_equal(u->file, s.path);
	u = site_find_user(&s, "carol@example.org");
	assert_non_null(u);
	assert_int_equal(u->protos, PROTO_BIT(PROTO_IMAP) | PROTO_BIT(PROTO_ACTIVESYNC) |
	    PROTO_BIT(PROTO_MAPI) | PROTO_BIT(PROTO_OWA) | PROTO_BIT(PROTO_EWS));
	assert_int_equal(u->line, 4);
	assert_string_equal(u->file, s.users_path);
	u = site_find_user(&s, "dave@example.org");
	assert_non_null(u);
	assert_int_equal(u->protos, PROTO_BIT(PROTO_IMAP) | PROTO_BIT(PROTO_SMTP) |
	    PROTO_BIT(PROTO_ACTIVESYNC) | PROTO_BIT(PROTO_OWA));
	diags_free(&d);
	site_free(&s);
}

/* Defaults when keys are absent. */
static void
test_defaults(void **state)
{
	static const char text[] = "[site]\ndomain = example.org\n"
	    "[host \"h\"]\naddress = 192.0.2.1\nroles = postfix\n"
	    "[vhost \"m.example.org\"]\nbackend = https://e\ncertificate = /c\nkey = /k\n"
	    "[autodiscover \"example.org\"]\nimap = i.example.org:143\n"
	    "smtp = s.example.org:465\n[header-rules \"x\"]\nrule = /^X:/ IGNORE\n";
	struct site s;
	struct diags d = { 0 };

	(void)state;
	load_clean(&s, &d, "t.ini", text);
	assert_string_equal(s.name, "example.org");
	assert_null(s.resolver);
	assert_string_equal(s.trust_anchor, "/usr/share/dns/root.key");
	assert_int_equal(s.hosts[0].port, 22);
	assert_string_equal(s.hosts[0].user, "root");
	assert_null(s.hosts[0].identity);
	assert_null(s.hosts[0].postfix_version);
	assert_int_equal(s.vhosts[0].server, SERVER_APACHE);
	assert_int_equal(s.vhosts[0].services, (1u << SVC_COUNT) - 1);
	assert_int_equal(s.vhosts[0].activesync_timeout, 1800);
	assert_false(s.vhosts[0].legacy_tls);
	assert_int_equal(s.ads[0].imap.enc, ENC_STARTTLS);	/* no /enc: by port */
	assert_int_equal(s.ads[0].smtp.enc, ENC_SSL);
	assert_null(s.ads[0].pop3.host);
	assert_int_equal(s.ads[0].login, LOGIN_EMAIL);
	assert_int_equal(s.hrules[0].scope, SCOPE_AUTHENTICATED);
	assert_int_equal(s.tls.line, 0);
	assert_string_equal(s.tls.smtpd_protocols, ">=TLSv1.2");
	assert_string_equal(s.tls.dovecot_min_protocol, "TLSv1.2");
	assert_true(s.tls.no_renegotiation);
	assert_false(s.tls.dane);
	assert_int_equal(s.tls.ntlsa_ports, 2);
	assert_int_equal(s.access.always_accept.n, 2);
	assert_int_equal(s.access.relay_networks.n, 0);
	assert_int_equal(s.user_default, PROTO_ALL);
	diags_free(&d);
	site_free(&s);
}

/* Values: quoting, comments, case, an IPv6 endpoint, nginx, localpart, outbound. */
static void
test_values(void **state)
{
	static const char text[] =
	    "\xef\xbb\xbf# comment\r\n; another\r\n"
	    "[SITE]\r\n"
	    "Domain = example.org\r\n"
	    "name = \"a ; b # c\"   ; trailing comment\r\n"
	    "dkim = On\r\n"
	    "[host \"h 1\"]\r\naddress = local\r\nroles = Postfix,DNS\r\n"
	    "probe_ports = smtp:2525 pop3:off\r\n"
	    "[vhost \"n.example.org\"]\r\nserver = NGINX\r\nbackend = https://e\r\n"
	    "certificate = /c\r\nkey = /k\r\nservices = owa, ews\r\nlegacy_tls = true\r\n"
	    "[autodiscover \"example.org\"]\r\nimap = [2001:db8::1]:993/SSL\r\n"
	    "smtp = s.example.org:587/starttls\r\npop3 = p.example.org:110/plain\r\n"
	    "login = LocalPart\r\n"
	    "[header-rules \"h\"]\r\nscope = outbound\r\nrule = \"!/^X-A:/i WARN x ; y\"\r\n"
	    "[users]\r\ndefault = imap:on pop3:yes smtp:0\r\n"
	    "[tls]\r\ntlsa_ports =\r\n";
	struct site s;
	struct diags d = { 0 };
	const struct header_rule *r;

	(void)state;
	load_clean(&s, &d, "/x/t.ini", text);
	assert_string_equal(s.name, "a ; b # c");
	assert_true(s.dkim);
	assert_true(s.hosts[0].local);
	assert_string_equal(s.hosts[0].name, "h 1");
	assert_int_equal(s.hosts[0].roles, ROLE_POSTFIX | ROLE_DNS);
	assert_string_equal(s.hosts[0].postfix_dir, "/etc/postfix");
	for (size_t i = 0; i < s.hosts[0].nprobe_ports; i++)
		if (strcmp(s.hosts[0].probe_ports[i].service, "pop3") == 0)
			assert_int_equal(s.hosts[0].probe_ports[i].port, 0);
	assert_int_equal(s.vhosts[0].server, SERVER_NGINX);
	assert_int_equal(s.vhosts[0].services, SVC_BIT(SVC_OWA) | SVC_BIT(SVC_EWS));
	assert_true(s.vhosts[0].legacy_tls);
	assert_string_equal(s.ads[0].imap.host, "2001:db8::1");
	assert_int_equal(s.ads[0].imap.enc, ENC_SSL);
	assert_int_equal(s.ads[0].pop3.enc, ENC_PLAIN);
	assert_int_equal(s.ads[0].login, LOGIN_LOCALPART);
	assert_int_equal(s.hrules[0].scope, SCOPE_OUTBOUND);
	r = &s.hrules[0].rules[0];
	assert_true(r->negate);
	assert_string_equal(r->regex, "^X-A:");
	assert_string_equal(r->flags, "i");
	assert_int_equal(r->action, PFA_WARN);
	assert_string_equal(r->arg, "x ; y");
	assert_int_equal(s.user_default, PROTO_BIT(PROTO_IMAP) | PROTO_BIT(PROTO_POP3));
	assert_int_equal(s.tls.ntlsa_ports, 0);
	diags_free(&d);
	site_free(&s);
}

struct pcase {
	const char *name;
	const char *text;
	int	 line;
	const char *msg;
};

#define S "[site]\ndomain = example.org\n"			/* lines 1-2 */
#define H "[host \"h\"]\naddress = local\nroles = postfix\n"	/* 3 more */

static const struct pcase perr[] = {
	/* ini.c: line syntax */
	{ "key_outside_section", "name = x\n" S, 1, "key outside of any section" },
	{ "section_no_name", S "[]\n", 3, "section header needs a name" },
	{ "section_unterminated", S "[host \"h\"\n", 3, "unterminated section header" },
	{ "section_unterminated_quote", S "[host \"h]\n", 3,
	    "unterminated quoted name in section header" },
	{ "section_unquoted_sub", S "[host gw 1]\n", 3, "names with spaces need quotes" },
	{ "section_trailing_text", S "[tls] x\n", 3, "unexpected text after section header" },
	{ "line_garbage", S "!!!\n", 3, "expected 'key = value', a [section] or a comment" },
	{ "key_no_equals", S "name example\n", 3, "expected '=' after the key name" },
	{ "value_unterminated_quote", S "name = \"abc\n", 3, "unterminated quoted string" },
	{ "value_bad_escape", S "name = \"a\\qb\"\n", 3, "unknown escape in quoted string" },
	{ "value_after_quote", S "name = \"a\" b\n", 3, "unexpected text after quoted value" },
	{ "nul_byte", S "name = a\0b\n", 3, "NUL byte" },

	/* site.c: sections and keys */
	{ "unknown_section", S "[mailbox]\nx = 1\n", 3, "unknown section [mailbox]" },
	{ "named_section_without_name", S "[host]\n", 3, "[host] needs a name" },
	{ "unnamed_section_with_name", S "[tls \"x\"]\n", 3, "[tls] takes no name" },
	{ "unknown_key", S "colour = blue\n", 3, "unknown key 'colour' in [site]" },
	{ "duplicate_key", S "domain = example.net\n", 3,
	    "duplicate key 'domain' (first set on line 2)" },
	{ "duplicate_key_across_blocks", S "[tls]\ndane = yes\n[tls]\ndane = no\n", 6,
	    "duplicate key 'dane' (first set on line 4)" },
	{ "missing_value", S "name =\n", 3, "'name' needs a value" },
	{ "bad_bool", S "dkim = maybe\n", 3, "'dkim' must be yes or no, not 'maybe'" },
	{ "bad_port", S H "port = 70000\n", 6, "port: '70000' is not a port number" },
	{ "bad_port_word", S H "port = ssh\n", 6, "'ssh' is not a port number" },
	{ "bad_role", S H "[host \"g\"]\naddress = local\nroles = postfix mta\n", 8,
	    "unknown role 'mta'" },
	{ "empty_roles", S "[host \"g\"]\naddress = local\nroles = ,\n", 5,
	    "'roles' needs at least one" },
	{ "bad_postfix_version", S H "postfix_version = 3.x\n", 6,
	    "postfix_version: '3.x' is not a version" },
	{ "probe_ports_no_colon", S H "probe_ports = smtp\n", 6, "should be service:port" },
	{ "probe_ports_unknown", S H "probe_ports = lmtp:24\n", 6, "unknown service 'lmtp'" },
	{ "probe_ports_bad_port", S H "probe_ports = smtp:0x19\n", 6,
	    "probe_ports: '0x19' is not a port number" },
	{ "remote_relative_dir", S "[host \"r\"]\naddress = r.example.org\nroles = postfix\n"
	    "postfix_dir = etc/postfix\n", 3, "must be an absolute path on a remote host" },
	{ "host_no_address", S "[host \"r\"]\nroles = postfix\n", 3,
	    "[host \"r\"] needs address =" },
	{ "host_no_roles", S "[host \"r\"]\naddress = local\n", 3,
	    "[host \"r\"] needs roles =" },
	{ "bad_enum_server", S "[vhost \"v\"]\nserver = iis\nbackend = https://e\n"
	    "certificate = /c\nkey = /k\n", 4, "server must be apache or nginx, not 'iis'" },
	{ "bad_service", S "[vhost \"v\"]\nservices = owa imap\nbackend = https://e\n"
	    "certificate = /c\nkey = /k\n", 4, "unknown service 'imap'" },
	{ "empty_services", S "[vhost \"v\"]\nservices =\nbackend = https://e\n"
	    "certificate = /c\nkey = /k\n", 4, "'services' needs at least one service" },
	{ "bad_timeout", S "[vhost \"v\"]\nactivesync_timeout = 5m\nbackend = https://e\n"
	    "certificate = /c\nkey = /k\n", 4, "activesync_timeout: '5m' is not a number" },
	{ "vhost_no_backend", S "[vhost \"v\"]\ncertificate = /c\nkey = /k\n", 3,
	    "needs backend =" },
	{ "vhost_no_key", S "[vhost \"v\"]\nbackend = https://e\ncertificate = /c\n", 3,
	    "needs certificate = and key =" },
	{ "bad_endpoint_enc", S "[autodiscover \"example.org\"]\nimap = i:993/tls1\n", 4,
	    "encryption must be ssl, starttls or plain, not 'tls1'" },
	{ "bad_endpoint_form", S "[autodiscover \"example.org\"]\nimap = imap.example.org\n",
	    4, "expected host:port/ssl" },
	{ "bad_endpoint_v6", S "[autodiscover \"example.org\"]\nimap = [::1]993\n", 4,
	    "expected [IPv6]:port/ssl" },
	{ "bad_endpoint_nohost", S "[autodiscover \"example.org\"]\nimap = []:993/ssl\n", 4,
	    "the host name is missing" },
	{ "bad_endpoint_port", S "[autodiscover \"example.org\"]\nsmtp = s:65536/ssl\n", 4,
	    "smtp: '65536' is not a port number" },
	{ "bad_enum_login", S "[autodiscover \"example.org\"]\nlogin = upn\n", 4,
	    "login must be email or localpart, not 'upn'" },
	{ "bad_enum_scope", S "[header-rules \"x\"]\nscope = inbound\n", 4,
	    "scope must be authenticated or outbound, not 'inbound'" },
	{ "bad_rule_delim", S "[header-rules \"x\"]\nrule = X-A: IGNORE\n", 4,
	    "a rule must start with a regex delimiter" },
	{ "bad_rule_unclosed", S "[header-rules \"x\"]\nrule = /^X-A: IGNORE\n", 4,
	    "no closing regex delimiter" },
	{ "bad_rule_flag", S "[header-rules \"x\"]\nrule = /^X-A:/q IGNORE\n", 4,
	    "unknown regex flag \"q\"" },
	{ "bad_rule_no_action", S "[header-rules \"x\"]\nrule = /^X-A:/\n", 4,
	    "missing action" },
	{ "bad_rule_if", S "[header-rules \"x\"]\nrule = if /^X-A:/\n", 4,
	    "if/endif blocks are not supported" },
	{ "bad_tlsa_port", S "[tls]\ntlsa_ports = 25 smtps\n", 4,
	    "tlsa_ports: 'smtps' is not a port number" },
	{ "bad_tls_bool", S "[tls]\ndane = sure\n", 4, "'dane' must be yes or no" },
	{ "bad_default_proto", S "[users]\ndefault = imap nntp\n", 4,
	    "unknown protocol 'nntp'" },
	{ "bad_default_switch", S "[users]\ndefault = imap pop3:maybe\n", 4,
	    "'pop3:maybe' should be pop3:on or pop3:off" },
	{ "users_file_missing", S "[users]\nfile = /nonexistent/users.csv\n", 4,
	    "users file: " },
	{ "bad_user_bool", S "[user \"a@example.org\"]\npop3 = perhaps\n", 4,
	    "'pop3' must be yes or no, not 'perhaps'" },
	{ "unknown_user_key", S "[user \"a@example.org\"]\nimaps = on\n", 4,
	    "unknown key 'imaps' in [user]" },
	{ "connector_no_smarthost", S "[connector \"fax.example.org\"]\n"
	    "tenant_id = 00000000-0000-0000-0000-000000000000\n", 3, "needs smarthost =" },
	{ "no_site", "[tls]\ndane = yes\n", 1, "the profile needs [site] with domain =" },
	{ "no_domain", "[site]\nname = x\n", 1, "the profile needs [site] with domain =" },
};

static void
run_perr(void **state)
{
	const struct pcase *c = *state;
	size_t len = strlen(c->text);
	struct site s;
	struct diags d = { 0 };
	size_t hits = 0;

	if (strcmp(c->name, "nul_byte") == 0)
		len = strlen(S "name = a") + 1 + strlen("b\n");
	assert_int_equal(site_load_buf(&s, "/p/t.ini", c->text, len, &d), -1);
	for (size_t i = 0; i < d.n; i++)
		if (strstr(d.v[i].msg, c->msg) != NULL) {
			hits++;
			assert_int_equal(d.v[i].sev, SEV_ERROR);
			assert_string_equal(d.v[i].file, "/p/t.ini");
			if (d.v[i].line != c->line) {
				diags_print(&d, stderr);
				fail_msg("%s: line %d, want %d", c->name, d.v[i].line, c->line);
			}
		}
	if (hits != 1) {
		diags_print(&d, stderr);
		fail_msg("%s: \"%s\" reported %zu times, want once", c->name, c->msg, hits);
	}
	diags_free(&d);
	site_free(&s);
}

/* The keys under a malformed section header are not blamed on the section before
 * it: one error, for the header. */
static void
test_bad_header_no_cascade(void **state)
{
	static const char text[] = "[site]\ndomain = example.org\n[host \"gw1]\n"
	    "address = gw1.example.org\nroles = postfix\n[tls]\ndane = maybe\n";
	struct site s;
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(site_load_buf(&s, "t.ini", text, strlen(text), &d), -1);
	if (d.n != 2)
		diags_print(&d, stderr);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.v[0].line, 3);
	assert_non_null(strstr(d.v[0].msg, "unterminated quoted name"));
	assert_int_equal(d.v[1].line, 7);	/* the next good section is checked again */
	assert_int_equal(s.nhosts, 0);
	diags_free(&d);
	site_free(&s);
}

/* The printed form is FILE:LINE: error: message. */
static void
test_print_format(void **state)
{
	static const char text[] = "[site]\ndomain = example.org\ndkim = perhaps\n";
	struct site s;
	struct diags d = { 0 };
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof buf - 1, "w");

	(void)state;
	assert_non_null(f);
	(void)site_load_buf(&s, "prof.ini", text, strlen(text), &d);
	diags_sort(&d);
	diags_print(&d, f);
	fclose(f);
	assert_string_equal(buf, "prof.ini:3: error: 'dkim' must be yes or no, not "
	    "'perhaps'\n");
	diags_free(&d);
	site_free(&s);
}

/* A profile that cannot be read. */
static void
test_unreadable(void **state)
{
	struct site s;
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(site_load(&s, "/nonexistent/p.ini", &d), -1);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.v[0].file, "/nonexistent/p.ini");
	assert_non_null(strstr(d.v[0].msg, "cannot read the profile"));
	diags_free(&d);
	site_free(&s);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_demo),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_bad_header_no_cascade),
		cmocka_unit_test(test_print_format),
		cmocka_unit_test(test_unreadable),
	};

	return run_cases("parser", fixed, nitems(fixed), perr, nitems(perr), sizeof perr[0],
	    run_perr);
}
