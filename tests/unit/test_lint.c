/* test_lint.c: every check of profiles/lint.c, once triggered and once not.
 *
 * Each case builds a profile from a clean base (site, one host) plus a snippet, loads
 * it with site_load_buf, runs site_lint, and looks for the finding: its severity, its
 * message, and its exact line (the line of a marker text in the profile). Cases that
 * must not trigger check that no finding carries the message and that there is no
 * error at all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include "profiles/site.h"
#include "tests/unit/cases.h"

#define NONE	(-1)

struct lcase {
	const char *name;
	const char *domain;	/* [site] domain, NULL: example.org */
	const char *site;	/* more [site] keys, NULL: a resolver */
	const char *roles;	/* host gw roles, NULL: postfix dovecot apache autodiscover */
	const char *extra;	/* appended sections */
	int	 sev;		/* SEV_ERROR, SEV_WARNING, or NONE */
	const char *at;		/* the finding is on the first line containing this */
	const char *msg;	/* a substring of the finding's message */
};

#define VH(name, services, more) "[vhost \"" name "\"]\n" \
	"backend = https://exchange1.lan.example.org\n" \
	"certificate = /etc/ssl/certs/v.pem\nkey = /etc/ssl/private/v.key\n" \
	"services = " services "\n" more "\n"
#define AD(more) "[autodiscover \"example.org\"]\nimap = mail.example.org:993/ssl\n" \
	"smtp = mail.example.org:587/starttls\n" more "\n"
#define HR(scope, rules) "[header-rules \"p\"]\nscope = " scope "\n" rules "\n"
#define CONN(more) "[connector \"fax.example.org\"]\n" more "\n"
#define CONN_BASE "smarthost = [fax-gw.example.org]:25\n" \
	"tenant_id = 2f5c0e7a-8d41-4b8e-9a37-61c0d2b9e4f1\n"
#define CONN_FP "d4:a1:0c:5b:9e:33:71:f0:2a:6c:88:19:be:47:05:e2:" \
	"93:7d:c4:10:5f:a8:26:3b:e1:0d:77:c9:42:18:6e:b5"
#define CONN_OK CONN_BASE "client_ca = /etc/postfix/microsoft365-ca.pem\n" \
	"client_fingerprints = " CONN_FP "\n"
#define NGINXHOST "[host \"web\"]\naddress = web.example.org\nroles = nginx\n\n"

static const struct lcase cases[] = {
	/* the base itself */
	{ "base_is_clean", NULL, NULL, NULL, "", NONE, NULL, "" },

	/* [site] */
	{ "site_domain_bad", "example", NULL, NULL, "", SEV_ERROR, "domain = example",
	    "is not a mail domain name" },
	{ "site_domain_ok", "mail.example.org", NULL, NULL, "", NONE, NULL, "mail domain" },
	{ "site_resolver_bad", NULL, "resolver = 127.0.0.1:99999\n", NULL, "", SEV_ERROR,
	    "resolver =", "[site] resolver" },
	{ "site_resolver_v6_ok", NULL, "resolver = [::1]:5353\n", NULL, "", NONE, NULL,
	    "resolver" },
	{ "site_resolver_bare_v6_ok", NULL, "resolver = 2001:db8::53\n", NULL, "", NONE,
	    NULL, "resolver" },
	{ "site_resolver_v4_ok", NULL, "resolver = 192.0.2.53\n", NULL, "", NONE, NULL,
	    "resolver" },
	{ "site_resolver_name", NULL, "resolver = ns1.example.org:53\n", NULL, "", SEV_ERROR,
	    "resolver =", "is not an IP address" },
	{ "site_trust_anchor_missing", NULL, "resolver = 127.0.0.1\n"
	    "trust_anchor = /nonexistent/root.key\n", NULL, "", SEV_WARNING,
	    "trust_anchor =", "is not readable here" },
	{ "site_trust_anchor_ok", NULL, "resolver = 127.0.0.1\n"
	    "trust_anchor = /usr/share/dns/root.key\n", NULL, "", NONE, NULL, "readable" },

	/* [host] */
	{ "host_dup", NULL, NULL, NULL, "[host \"gw\"] ; again\naddress = gw2.example.org\n"
	    "roles = postfix\n", SEV_ERROR, "; again", "duplicate [host \"gw\"]" },
	{ "host_dup_case", NULL, NULL, NULL, "[host \"GW\"]\naddress = gw2.example.org\n"
	    "roles = postfix\n", SEV_ERROR, "[host \"GW\"]", "duplicate" },
	{ "host_distinct", NULL, NULL, NULL, "[host \"gw2\"]\naddress = gw2.example.org\n"
	    "roles = postfix\n", NONE, NULL, "duplicate" },
	{ "host_address_bad", NULL, NULL, NULL, "[host \"b\"]\naddress = gw_1.example.org\n"
	    "roles = postfix\n", SEV_ERROR, "gw_1", "is not a host name" },
	{ "host_address_bad_ipv4", NULL, NULL, NULL, "[host \"b\"]\naddress = 999.1.2.3\n"
	    "roles = postfix\n", SEV_ERROR, "999.1.2.3", "is not a host name" },
	{ "host_address_ok", NULL, NULL, NULL,
	    "[host \"a\"]\naddress = 192.0.2.1\nroles = postfix\n"
	    "[host \"b\"]\naddress = 2001:db8::1\nroles = postfix\n"
	    "[host \"c\"]\naddress = local\nroles = postfix\n"
	    "[host \"d\"]\naddress = gw-2.example.org.\nroles = postfix\n",
	    NONE, NULL, "address" },
	{ "host_same_machine", NULL, NULL, NULL, "[host \"gw-dns\"]\n"
	    "address = GW.example.org\nroles = postfix\n", SEV_WARNING, "GW.example.org",
	    "hosts gw and gw-dns are the same machine" },
	{ "host_same_machine_other_port", NULL, NULL, NULL, "[host \"gw-dns\"]\n"
	    "address = GW.example.org\nport = 2222\nroles = postfix\n", NONE, NULL,
	    "same machine" },
	{ "host_two_local_sandboxes", NULL, NULL, NULL,
	    "[host \"a\"]\naddress = local\nroles = postfix\nstate_dir = /tmp/a\n"
	    "[host \"b\"]\naddress = local\nroles = dovecot\nstate_dir = /tmp/b\n", NONE,
	    NULL, "same machine" },
	{ "host_apache_nginx", NULL, NULL, "postfix apache nginx", "", SEV_ERROR,
	    "roles = postfix apache nginx", "both apache and nginx" },
	{ "host_autodiscover_no_web", NULL, NULL, "postfix autodiscover", "", SEV_WARNING,
	    "roles = postfix autodiscover", "no web server role" },
	{ "host_autodiscover_nginx", NULL, NULL, "postfix autodiscover nginx", "", NONE,
	    NULL, "web server" },
	{ "host_local_identity", NULL, NULL, NULL, "[host \"l\"]\naddress = local\n"
	    "identity = /root/.ssh/id_ed25519\nroles = postfix\n", SEV_WARNING,
	    "identity =", "identity is not used" },
	{ "host_remote_identity", NULL, NULL, NULL, "[host \"r\"]\naddress = r.example.org\n"
	    "identity = /root/.ssh/id_ed25519\nroles = postfix\n", NONE, NULL, "identity" },
	{ "host_probe_ports_clash", NULL, NULL, NULL, "[host \"p\"]\naddress = local\n"
	    "roles = postfix\nprobe_ports = smtp:2525 submission:2525\n", SEV_WARNING,
	    "probe_ports =", "are both 2525" },
	{ "host_probe_ports_off", NULL, NULL, NULL, "[host \"p\"]\naddress = local\n"
	    "roles = postfix\nprobe_ports = imap:off pop3:off smtp:2525\n", NONE, NULL,
	    "are both" },

	/* [vhost] */
	{ "vhost_dup", NULL, NULL, NULL, VH("mail.example.org", "owa", "")
	    "[vhost \"mail.example.org\"] ; two\nbackend = https://e2.lan.example.org\n"
	    "certificate = /c\nkey = /k\nservices = owa\n", SEV_ERROR, "; two",
	    "duplicate [vhost" },
	{ "vhost_name_bad", NULL, NULL, NULL, VH("mail_example.org", "owa", ""), SEV_ERROR,
	    "[vhost", "is not a host name" },
	{ "vhost_unserved", NULL, NULL, NULL, VH("mail.example.org", "owa",
	    "server = nginx\n"), SEV_ERROR, "server = nginx", "no host has role nginx" },
	{ "vhost_unserved_apache", NULL, NULL, "postfix", VH("mail.example.org", "owa", ""),
	    SEV_ERROR, "[vhost", "no host has role apache" },
	{ "vhost_served_nginx", NULL, NULL, NULL, NGINXHOST VH("mail.example.org", "owa",
	    "server = nginx\n"), NONE, NULL, "no host has role" },
	{ "vhost_backend_scheme", NULL, NULL, NULL, "[vhost \"m.example.org\"]\n"
	    "backend = ftp://exchange1\ncertificate = /c\nkey = /k\n", SEV_ERROR,
	    "backend =", "must start with https://" },
	{ "vhost_backend_nohost", NULL, NULL, NULL, "[vhost \"m.example.org\"]\n"
	    "backend = https:///owa\ncertificate = /c\nkey = /k\n", SEV_ERROR, "backend =",
	    "has no host name" },
	{ "vhost_backend_port", NULL, NULL, NULL, "[vhost \"m.example.org\"]\n"
	    "backend = https://ex1.lan:99999\ncertificate = /c\nkey = /k\n", SEV_ERROR,
	    "backend =", "invalid port" },
	{ "vhost_backend_http", NULL, NULL, NULL, "[vhost \"m.example.org\"]\n"
	    "backend = http://ex1.lan\ncertificate = /c\nkey = /k\n", SEV_WARNING,
	    "backend =", "plain http" },
	{ "vhost_backend_loop", NULL, NULL, NULL, "[vhost \"m.example.org\"]\n"
	    "backend = https://M.example.org/\ncertificate = /c\nkey = /k\nservices = owa\n",
	    SEV_ERROR, "backend =", "proxy loop" },
	{ "vhost_backend_ok", NULL, NULL, NULL, "[vhost \"m.example.org\"]\n"
	    "backend = https://exchange1.lan.example.org:8443/\ncertificate = /c\nkey = /k\n"
	    "services = owa\n", NONE, NULL, "backend" },
	{ "vhost_activesync_timeout_low", NULL, NULL, NULL, VH("mail.example.org",
	    "owa activesync", "activesync_timeout = 300\n"), SEV_WARNING,
	    "activesync_timeout", "below 900" },
	{ "vhost_activesync_timeout_900", NULL, NULL, NULL, VH("mail.example.org",
	    "owa activesync", "activesync_timeout = 900\n"), NONE, NULL, "below 900" },
	{ "vhost_activesync_timeout_no_eas", NULL, NULL, NULL, VH("mail.example.org",
	    "owa", "activesync_timeout = 300\n"), NONE, NULL, "below 900" },
	{ "vhost_legacy_tls", NULL, NULL, NULL, VH("mail.example.org", "owa",
	    "legacy_tls = yes\n"), SEV_WARNING, "legacy_tls", "@SECLEVEL=0" },
	{ "vhost_backend_ip_apache", NULL, NULL, NULL, "[vhost \"m.example.org\"]\n"
	    "backend = https://192.0.2.5/\ncertificate = /c\nkey = /k\nservices = owa\n",
	    SEV_ERROR, "backend", "AH02411" },
	{ "users_default_off", NULL, NULL, NULL, "[users]\ndefault = imap smtp\n", SEV_WARNING, "default =",
	    "can only deny the users this profile lists" },
	{ "users_default_all_on", NULL, NULL, NULL, "[users]\ndefault = imap pop3 smtp\n", NONE, NULL,
	    "can only deny" },
	{ "vhost_legacy_tls_off", NULL, NULL, NULL, VH("mail.example.org", "owa",
	    "legacy_tls = no\n"), NONE, NULL, "SECLEVEL" },
	{ "vhost_nginx_ntlm", NULL, NULL, NULL, NGINXHOST VH("mail.example.org",
	    "owa rpc mapi", "server = nginx\n"), SEV_WARNING, "services = owa rpc mapi",
	    "rpc and mapi through nginx" },
	{ "vhost_nginx_no_ntlm", NULL, NULL, NULL, NGINXHOST VH("mail.example.org",
	    "owa ews activesync", "server = nginx\n"), NONE, NULL, "NTLM" },
	{ "vhost_apache_rpc", NULL, NULL, NULL, VH("mail.example.org", "owa rpc", ""),
	    SEV_WARNING, "services = owa rpc", "mod_proxy_msrpc" },
	{ "vhost_apache_no_rpc", NULL, NULL, NULL, VH("mail.example.org", "owa mapi", ""),
	    NONE, NULL, "mod_proxy_msrpc" },

	/* [autodiscover] */
	{ "ad_no_role", NULL, NULL, "postfix dovecot apache", AD(""), SEV_WARNING,
	    "[autodiscover", "no host has role autodiscover" },
	{ "ad_clean", NULL, NULL, NULL, AD(""), NONE, NULL, "autodiscover" },
	{ "ad_dup", NULL, NULL, NULL, AD("") "[autodiscover \"Example.org\"]\n"
	    "imap = mail.example.org:993/ssl\nsmtp = mail.example.org:465/ssl\n", SEV_ERROR,
	    "[autodiscover \"Example.org\"]", "duplicate [autodiscover" },
	{ "ad_domain_bad", NULL, NULL, NULL, "[autodiscover \"localhost\"]\n"
	    "imap = mail.example.org:993/ssl\nsmtp = mail.example.org:465/ssl\n", SEV_ERROR,
	    "[autodiscover", "is not a mail domain name" },
	{ "ad_no_incoming", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "smtp = mail.example.org:465/ssl\n", SEV_ERROR, "[autodiscover",
	    "neither imap nor pop3" },
	{ "ad_pop3_only", NULL, NULL, NULL, "[users]\ndefault = pop3 smtp\n"
	    "[autodiscover \"example.org\"]\npop3 = mail.example.org:995/ssl\n"
	    "smtp = mail.example.org:465/ssl\n", NONE, NULL, "neither" },
	{ "ad_no_smtp", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "imap = mail.example.org:993/ssl\n", SEV_ERROR, "[autodiscover", "has no smtp" },
	{ "ad_endpoint_host_bad", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "imap = mail!x.example.org:993/ssl\nsmtp = mail.example.org:465/ssl\n",
	    SEV_ERROR, "imap =", "is not a host name or address" },
	{ "ad_imap_plain", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "imap = mail.example.org:143/plain\nsmtp = mail.example.org:465/ssl\n",
	    SEV_WARNING, "imap =", "imap is enabled (by default) and clients would log in "
	    "with clear-text passwords" },
	{ "ad_pop3_plain_default", NULL, NULL, NULL, "[users]\n"
	    "default = imap pop3 smtp\n" AD("pop3 = mail.example.org:110/plain\n"),
	    SEV_WARNING, "pop3 =", "pop3 is enabled (by default)" },
	{ "ad_pop3_plain_one_user", NULL, NULL, NULL, "[users]\ndefault = imap smtp\n"
	    "[user \"a@example.org\"]\n"
	    "pop3 = on\n" AD("pop3 = mail.example.org:110/plain\n"), SEV_WARNING, ":110/plain",
	    "pop3 is enabled (for 1 user)" },
	{ "ad_pop3_plain_nobody", NULL, NULL, NULL, "[users]\ndefault = imap smtp\n"
	    AD("pop3 = mail.example.org:110/plain\n"),
	    SEV_WARNING, "pop3 =", "110/plain is not encrypted" },
	{ "ad_pop3_ssl_enabled", NULL, NULL, NULL, "[users]\ndefault = imap pop3 smtp\n"
	    AD("pop3 = mail.example.org:995/ssl\n"), NONE, NULL, "pop3" },
	{ "ad_advertised_disabled", NULL, NULL, NULL, "[users]\ndefault = imap smtp\n"
	    AD("pop3 = mail.example.org:995/ssl\n"),
	    SEV_WARNING, "pop3 =", "disabled for every user" },
	{ "ad_smtp_plain", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "imap = mail.example.org:993/ssl\nsmtp = mail.example.org:587/plain\n",
	    SEV_WARNING, "smtp =", "clear text" },
	{ "ad_imap_993_starttls", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "imap = mail.example.org:993/starttls\nsmtp = mail.example.org:465/ssl\n",
	    SEV_WARNING, "imap =", "port 993 is implicit TLS, but encryption is starttls" },
	{ "ad_imap_143_ssl", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "imap = mail.example.org:143/ssl\nsmtp = mail.example.org:465/ssl\n",
	    SEV_WARNING, "imap =", "STARTTLS/plain port" },
	{ "ad_imap_143_starttls", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "imap = mail.example.org:143/starttls\nsmtp = mail.example.org:465/ssl\n",
	    NONE, NULL, "imap" },
	{ "ad_smtp_25", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "imap = mail.example.org:993/ssl\nsmtp = mail.example.org:25/starttls\n",
	    SEV_WARNING, "smtp =", "port 25 is for server-to-server" },
	{ "ad_smtp_465_starttls", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "imap = mail.example.org:993/ssl\nsmtp = mail.example.org:465/starttls\n",
	    SEV_WARNING, "smtp =", "465 is implicit TLS" },
	{ "ad_smtp_587_ssl", NULL, NULL, NULL, "[autodiscover \"example.org\"]\n"
	    "imap = mail.example.org:993/ssl\nsmtp = mail.example.org:587/ssl\n",
	    SEV_WARNING, "smtp =", "587 speaks STARTTLS" },
	{ "ad_activesync_not_url", NULL, NULL, NULL,
	    AD("activesync = mail.example.org/Microsoft-Server-ActiveSync\n"), SEV_ERROR,
	    "activesync =", "must start with https://" },
	{ "ad_activesync_http", NULL, NULL, NULL,
	    AD("activesync = http://mail.example.org/Microsoft-Server-ActiveSync\n"),
	    SEV_ERROR, "activesync =", "must be https" },
	{ "ad_activesync_path", NULL, NULL, NULL,
	    AD("activesync = https://mail.example.org/eas\n"), SEV_WARNING, "activesync =",
	    "not /Microsoft-Server-ActiveSync" },
	{ "ad_activesync_no_vhost", NULL, NULL, NULL, VH("mail.example.org", "owa", "")
	    AD("activesync = https://mail.example.org/Microsoft-Server-ActiveSync\n"),
	    SEV_WARNING, "activesync =", "is not a [vhost] that proxies activesync" },
	{ "ad_activesync_ok", NULL, NULL, NULL, VH("mail.example.org", "owa activesync", "")
	    AD("activesync = https://mail.example.org/microsoft-server-activesync\n"),
	    NONE, NULL, "activesync" },
	{ "ad_also_bad", NULL, NULL, NULL, AD("also = example.com example_net\n"), SEV_ERROR,
	    "also =", "also \"example_net\" is not a domain name" },
	{ "ad_also_self", NULL, NULL, NULL, AD("also = example.org\n"), SEV_WARNING, "also =",
	    "also lists the domain itself" },
	{ "ad_also_twice", NULL, NULL, NULL, AD("also = example.com example.com\n"),
	    SEV_WARNING, "also =", "lists example.com twice" },
	{ "ad_also_section", NULL, NULL, NULL, AD("also = example.com\n")
	    "[autodiscover \"example.com\"]\nimap = mail.example.org:993/ssl\n"
	    "smtp = mail.example.org:465/ssl\n", SEV_ERROR, "also =",
	    "also example.com is its own [autodiscover] section" },
	{ "ad_also_ok", NULL, NULL, "postfix dovecot apache autodiscover dns",
	    AD("also = example.com example.net\n") "[tls]\ncertificate = /c\nkey = /k\n",
	    NONE, NULL, "also" },
	{ "ad_also_no_dns", NULL, NULL, NULL, AD("also = example.com\n"), SEV_WARNING,
	    "also =", "no host has role dns" },
	{ "ad_localpart_clash", NULL, NULL, NULL, "[user \"alice@example.org\"]\nimap = on\n"
	    "[user \"alice@example.com\"]\nimap = on\n"
	    AD("login = localpart\nalso = example.com\n"), SEV_WARNING, "login =",
	    "share the login name alice" },
	{ "ad_localpart_unique", NULL, NULL, NULL, "[user \"alice@example.org\"]\nimap = on\n"
	    "[user \"bob@example.com\"]\nimap = on\n"
	    AD("login = localpart\nalso = example.com\n"), NONE, NULL, "login" },

	/* [header-rules] */
	{ "hr_no_postfix", NULL, NULL, "dovecot", HR("authenticated",
	    "rule = /^X-Mailer:/ IGNORE\n"), SEV_WARNING, "[header-rules",
	    "header rules are not deployed" },
	{ "hr_clean", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^(Received: from)[^\\n]*(.*)/ REPLACE $1 [127.0.0.1] "
	    "(localhost [127.0.0.1])$2\nrule = /^X-Originating-IP:/ IGNORE\n"
	    "rule = /^User-Agent:/ IGNORE\nrule = /^X-Mailer:/ IGNORE\n"), NONE, NULL, "" },
	{ "hr_dup", NULL, NULL, NULL, HR("authenticated", "rule = /^X-A:/ IGNORE\n")
	    "[header-rules \"p\"] ; two\nrule = /^X-B:/ IGNORE\n", SEV_ERROR, "; two",
	    "duplicate [header-rules" },
	{ "hr_empty", NULL, NULL, NULL, HR("authenticated", ""), SEV_WARNING,
	    "[header-rules", "has no rule = lines" },
	{ "hr_outbound_dkim", NULL, "dkim = yes\n", NULL, HR("outbound",
	    "rule = /^X-Mailer:/ IGNORE\n"), SEV_WARNING, "scope = outbound",
	    "break the signature" },
	{ "hr_outbound_nodkim", NULL, "dkim = no\n", NULL, HR("outbound",
	    "rule = /^X-Mailer:/ IGNORE\n"), NONE, NULL, "DKIM" },
	{ "hr_authenticated_dkim", NULL, "dkim = yes\n", NULL, HR("authenticated",
	    "rule = /^X-Mailer:/ IGNORE\n"), NONE, NULL, "DKIM" },
	{ "hr_flag_X", NULL, NULL, NULL, HR("authenticated", "rule = /^X-A:/X IGNORE\n"),
	    SEV_WARNING, "rule = /^X-A:/X", "flag X is obsolete" },
	{ "hr_regex_bad", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A: (/ IGNORE\n"), SEV_ERROR, "rule = /^X-A: (/", "does not compile" },
	{ "hr_regex_x_flag_comment", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:#(/x IGNORE\n"), NONE, NULL, "compile" },
	{ "hr_regex_no_x_flag", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:#(/ IGNORE\n"), SEV_ERROR, "rule = /^X-A:#(/", "does not compile" },
	{ "hr_unanchored", NULL, NULL, NULL, HR("authenticated",
	    "rule = /X-Mailer:/ IGNORE\n"), SEV_WARNING, "rule = /X-Mailer:/",
	    "is not anchored with ^" },
	{ "hr_anchored_forms", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-Mailer:/ IGNORE\nrule = /(?i)^X-A:/ IGNORE\n"
	    "rule = /X-B:/A IGNORE\nrule = /\\AX-C:/ STRIP\nrule = /X-D/ WARN\n"
	    "rule = !/X-E/ INFO\n"), NONE, NULL, "anchored" },
	{ "hr_action_unknown", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ FOOBAR\n"), SEV_ERROR, "FOOBAR", "unknown action \"FOOBAR\"" },
	{ "hr_action_lowercase", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ ignore\n"), NONE, NULL, "action" },
	{ "hr_subst_out_of_range", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:(.*)/ REPLACE X-B: $2\n"), SEV_ERROR, "X-B: $2",
	    "$2 is out of range: the regex has 1 capture group" },
	{ "hr_subst_zero", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:(.*)/ REPLACE X-B: $0\n"), SEV_ERROR, "X-B: $0", "$0 is out of range" },
	{ "hr_subst_nonnumeric", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:(.*)/ REPLACE X-B: $1x\n"), SEV_ERROR, "X-B: $1x",
	    "non-numeric replacement index \"1x\"" },
	{ "hr_subst_lone_dollar", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:(.*)/ REPLACE X-B: costs 5 $\n"), SEV_ERROR, "costs 5", "a lone $" },
	{ "hr_subst_truncated", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:(.*)/ REPLACE X-B: ${1\n"), SEV_ERROR, "X-B: ${1",
	    "truncated reference" },
	{ "hr_subst_negated", NULL, NULL, NULL, HR("authenticated",
	    "rule = !/^X-A:(.*)/ REPLACE X-B: $1\n"), SEV_ERROR, "rule = !/", "negated" },
	{ "hr_subst_ok", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:(.*)/ REPLACE X-B: ${1}x $(1) $$ $1\n"), NONE, NULL, "" },
	{ "hr_replace_no_label", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ REPLACE no label here\n"), SEV_ERROR, "no label here",
	    "does not start with a header label" },
	{ "hr_replace_dollar_dollar", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ REPLACE $$5 cheap\n"), SEV_ERROR, "$$5",
	    "does not start with a header label" },
	{ "hr_replace_empty", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ REPLACE\n"), SEV_ERROR, "REPLACE", "needs a header line" },
	{ "hr_prepend_no_label", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ PREPEND hello world\n"), SEV_ERROR, "PREPEND",
	    "PREPEND text \"hello world\" does not start with a header label" },
	{ "hr_replace_prepend_ok", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^(X-A:)(.*)/ REPLACE $1 hidden\nrule = /^X-C:/ PREPEND X-Seen: yes\n"),
	    NONE, NULL, "" },
	{ "hr_redirect_bad", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ REDIRECT nobody\n"), SEV_ERROR, "REDIRECT",
	    "REDIRECT address \"nobody\" is not user@domain" },
	{ "hr_bcc_empty", NULL, NULL, NULL, HR("authenticated", "rule = /^X-A:/ BCC\n"),
	    SEV_ERROR, "BCC", "BCC needs an address" },
	{ "hr_redirect_ok", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ REDIRECT archive@example.org\n"), NONE, NULL, "" },
	{ "hr_filter_bad", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ FILTER smtp\n"), SEV_ERROR, "FILTER", "transport:destination" },
	{ "hr_filter_ok", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ FILTER smtp:[127.0.0.1]:10025\n"), NONE, NULL, "" },
	{ "hr_ignore_text", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ IGNORE please\n"), SEV_WARNING, "IGNORE please",
	    "IGNORE takes no text" },
	{ "hr_outbound_reject", NULL, NULL, NULL, HR("outbound",
	    "rule = /^X-A:/ REJECT no\n"), SEV_ERROR, "REJECT",
	    "REJECT is not supported in smtp_header_checks" },
	{ "hr_outbound_hold", NULL, NULL, NULL, HR("outbound", "rule = /^X-A:/ HOLD\n"),
	    SEV_ERROR, "HOLD", "HOLD is not supported in smtp_header_checks" },
	{ "hr_outbound_bcc", NULL, NULL, NULL, HR("outbound",
	    "rule = /^X-A:/ BCC a@example.org\n"), SEV_ERROR, "BCC",
	    "BCC is not supported" },
	{ "hr_authenticated_reject", NULL, NULL, NULL, HR("authenticated",
	    "rule = /^X-A:/ REJECT no\n"), NONE, NULL, "" },
	{ "hr_outbound_ignore", NULL, NULL, NULL, HR("outbound",
	    "rule = /^X-A:/ IGNORE\nrule = /^X-B:/ REPLACE X-B: x\nrule = /^X-C:/ WARN\n"),
	    NONE, NULL, "" },

	/* [tls] */
	{ "tls_smtpd_bad", NULL, NULL, NULL, "[tls]\nsmtpd_protocols = TLS1.2\n", SEV_ERROR,
	    "smtpd_protocols =", "did you mean TLSv1.2" },
	{ "tls_smtp_bad", NULL, NULL, NULL, "[tls]\nsmtp_protocols = >=TLSv1.9\n",
	    SEV_ERROR, "smtp_protocols =", "[tls] smtp_protocols" },
	{ "tls_second_block", NULL, NULL, NULL, "[tls]\ndane = no\n\n[tls]\n"
	    "smtp_protocols = >=SSLv4\n", SEV_ERROR, "smtp_protocols =", "smtp_protocols" },
	{ "tls_sslv3", NULL, NULL, NULL, "[tls]\nsmtp_protocols = !SSLv2\n", SEV_WARNING,
	    "smtp_protocols =", "SSLv3" },
	{ "tls_smtpd_tls10", NULL, NULL, NULL, "[tls]\nsmtpd_protocols = >=TLSv1\n",
	    SEV_WARNING, "smtpd_protocols =", "TLS 1.0/1.1" },
	{ "tls_smtp_tls10", NULL, NULL, NULL, "[tls]\nsmtp_protocols = >=TLSv1\n", NONE,
	    NULL, "TLS 1.0" },
	{ "tls_old_syntax_ok", NULL, NULL, NULL, "[tls]\n"
	    "smtpd_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1\n", NONE, NULL, "" },
	{ "tls_dovecot_bad", NULL, NULL, NULL, "[tls]\ndovecot_min_protocol = TLS1.2\n",
	    SEV_ERROR, "dovecot_min_protocol", "[tls] dovecot_min_protocol" },
	{ "tls_dovecot_case", NULL, NULL, NULL, "[tls]\ndovecot_min_protocol = tlsv1.2\n",
	    SEV_WARNING, "dovecot_min_protocol", "accepts it in any case, but write TLSv1.2" },
	{ "tls_dovecot_tls10", NULL, NULL, NULL, "[tls]\ndovecot_min_protocol = TLSv1\n",
	    SEV_WARNING, "dovecot_min_protocol", "TLS 1.0/1.1" },
	{ "tls_dovecot_ok", NULL, NULL, NULL, "[tls]\ndovecot_min_protocol = TLSv1.3\n",
	    NONE, NULL, "" },
	{ "tls_renegotiation", NULL, NULL, NULL, "[tls]\nno_renegotiation = no\n",
	    SEV_WARNING, "no_renegotiation", "renegotiation" },
	{ "tls_renegotiation_yes", NULL, NULL, NULL, "[tls]\nno_renegotiation = yes\n",
	    NONE, NULL, "renegotiation" },
	{ "tls_dane_no_tlsa", NULL, NULL, NULL, "[tls]\ndane = yes\ntlsa_ports =\n",
	    SEV_WARNING, "dane = yes", "no tlsa_ports" },
	{ "tls_dane_no_resolver", NULL, "dkim = no\n", NULL, "[tls]\ndane = yes\n",
	    SEV_WARNING, "dane = yes", "validating resolver" },
	{ "tls_dane_no_cert", NULL, NULL, NULL, "[tls]\ndane = yes\n", SEV_WARNING,
	    "dane = yes", "no TLSA records can be computed" },
	{ "tls_dane_cert", NULL, NULL, NULL, "[tls]\ndane = yes\ncertificate = /c\nkey = /k\n",
	    NONE, NULL, "" },
	{ "tls_dane_complete", NULL, NULL, "postfix dns", "[tls]\ndane = yes\n"
	    "tlsa_ports = 25 465\ncertificate = /etc/passwd\n"
	    "key = /etc/ssl/private/mx.key\n", NONE, NULL, "" },
	{ "tls_tlsa_cert_unreadable", NULL, NULL, "postfix dns", "[tls]\n"
	    "certificate = /nonexistent/mx.pem\nkey = /k\n", SEV_WARNING, "certificate =",
	    "is not readable here" },
	{ "tls_tlsa_cert_no_dns", NULL, NULL, "postfix", "[tls]\n"
	    "certificate = /nonexistent/mx.pem\nkey = /k\n", NONE, NULL, "readable" },
	{ "tls_tlsa_no_cert", NULL, NULL, "postfix dns", "", SEV_ERROR, "roles = postfix dns",
	    "no [tls] certificate" },
	{ "tls_tlsa_no_cert_in_tls", NULL, NULL, "postfix dns", "[tls]\ntlsa_ports = 25\n",
	    SEV_ERROR, "tlsa_ports = 25", "no [tls] certificate" },
	{ "tls_tlsa_off", NULL, NULL, "postfix dns", "[tls]\ntlsa_ports =\n", NONE, NULL, "" },
	{ "tls_tlsa_443", NULL, NULL, NULL, "[tls]\ntlsa_ports = 25 443\n"
	    "certificate = /c\nkey = /k\n", SEV_WARNING, "tlsa_ports", "443 is not an SMTP port" },
	{ "tls_tlsa_twice", NULL, NULL, NULL, "[tls]\ntlsa_ports = 25 25\n"
	    "certificate = /c\nkey = /k\n", SEV_WARNING, "tlsa_ports", "lists 25 twice" },
	{ "tls_cert_no_key", NULL, NULL, NULL, "[tls]\ncertificate = /c\n", SEV_WARNING,
	    "certificate = /c", "certificate without key" },

	/* [access] */
	{ "access_relay_garbage", NULL, NULL, NULL, "[access]\n"
	    "relay_networks = 192.0.2.10/32 192.0.2.300/32\n", SEV_ERROR, "relay_networks",
	    "\"192.0.2.300/32\" is not an IPv4 or IPv6 network" },
	{ "access_relay_prefix", NULL, NULL, NULL, "[access]\nrelay_networks = 10.0.0.0/33\n",
	    SEV_ERROR, "relay_networks", "prefix length must be 0-32" },
	{ "access_relay_hostbits", NULL, NULL, NULL, "[access]\n"
	    "relay_networks = 192.0.2.10/24\n", SEV_ERROR, "relay_networks",
	    "host bits set beyond /24" },
	{ "access_relay_v6_hostbits", NULL, NULL, NULL, "[access]\n"
	    "relay_networks = 2001:db8::1/64\n", SEV_ERROR, "relay_networks", "host bits" },
	{ "access_relay_open", NULL, NULL, NULL, "[access]\nrelay_networks = 0.0.0.0/0\n",
	    SEV_ERROR, "relay_networks", "open relay" },
	{ "access_relay_wide", NULL, NULL, NULL, "[access]\nrelay_networks = 10.0.0.0/7\n",
	    SEV_WARNING, "relay_networks", "wider than /8" },
	{ "access_relay_wide_v6", NULL, NULL, NULL, "[access]\n"
	    "relay_networks = 2001::/16\n", SEV_WARNING, "relay_networks",
	    "wider than /32" },
	{ "access_relay_ok", NULL, NULL, NULL, "[access]\nrelay_networks = 192.0.2.10/32 "
	    "10.0.0.0/8 [2001:db8::]/32 2001:db8:1::/48 198.51.100.7\n", NONE, NULL, "" },
	{ "access_always_accept_at", NULL, NULL, NULL, "[access]\n"
	    "always_accept = postmaster@example.org abuse\n", SEV_ERROR, "always_accept",
	    "is not a local part" },
	{ "access_no_postmaster", NULL, NULL, NULL, "[access]\nalways_accept = abuse\n",
	    SEV_WARNING, "always_accept", "does not list postmaster" },
	{ "access_no_postmaster_no_postfix", NULL, NULL, "dovecot", "[access]\n"
	    "always_accept = abuse\n", NONE, NULL, "postmaster" },
	{ "access_always_accept_ok", NULL, NULL, NULL, "[access]\n"
	    "always_accept = postmaster abuse hostmaster\n", NONE, NULL, "" },

	/* users */
	{ "user_not_email", NULL, NULL, NULL, "[user \"alice\"]\nimap = on\n", SEV_ERROR,
	    "[user \"alice\"]", "is not an email address" },
	{ "user_bad_local", NULL, NULL, NULL, "[user \"a..b@example.org\"]\nimap = on\n",
	    SEV_ERROR, "[user", "is not an email address" },
	{ "user_foreign_domain", NULL, NULL, NULL, "[user \"bob@other.example\"]\nimap = on\n",
	    SEV_WARNING, "[user", "domain other.example is neither the site domain" },
	{ "user_site_domain", NULL, NULL, NULL, "[user \"bob@Example.org\"]\nimap = on\n",
	    NONE, NULL, "" },
	{ "user_also_domain", NULL, NULL, NULL, "[user \"bob@example.com\"]\nimap = on\n"
	    AD("also = example.com\n"), NONE, NULL, "neither the site domain" },

	{ "user_utf8_local", NULL, NULL, NULL, "[user \"j\xc3\xb6rg@example.org\"]\n"
	    "imap = on\n", SEV_WARNING, "[user", "needs SMTPUTF8" },
	{ "user_idn_domain", NULL, NULL, NULL, "[user \"a@b\xc3\xbc" "cher.example\"]\n"
	    "imap = on\n", SEV_ERROR, "[user", "write it in punycode" },
	{ "user_punycode_ok", NULL, NULL, NULL, "[user \"a@xn--bcher-kva.example\"]\n"
	    "imap = on\n", NONE, NULL, "punycode" },
	{ "user_dup_section", NULL, NULL, NULL, "[user \"a@example.org\"]\nimap = on\n"
	    "[user \"A@example.org\"] ; again\npop3 = on\n", SEV_WARNING, "; again",
	    "duplicate [user \"A@example.org\"] (first at line 10)" },
	{ "user_two_sections", NULL, NULL, NULL, "[user \"a@example.org\"]\nimap = on\n"
	    "[user \"b@example.org\"]\npop3 = on\n", NONE, NULL, "duplicate" },

	/* [connector] */
	{ "conn_no_postfix", NULL, NULL, "dovecot", CONN(CONN_OK), SEV_WARNING, "[connector",
	    "connectors are not deployed" },
	{ "conn_clean", NULL, NULL, NULL, CONN(CONN_OK), NONE, NULL, "" },
	{ "conn_dup", NULL, NULL, NULL, CONN(CONN_OK) "[connector \"FAX.example.org\"]\n"
	    CONN_OK, SEV_ERROR, "FAX.example.org", "duplicate [connector" },
	{ "conn_domain_bad", NULL, NULL, NULL, "[connector \"fax\"]\n" CONN_OK, SEV_ERROR,
	    "[connector", "is not a domain name" },
	{ "conn_is_site_domain", NULL, NULL, NULL, "[connector \"example.org\"]\n" CONN_OK,
	    SEV_ERROR, "[connector", "is a mail domain of this site" },
	{ "conn_smarthost_port", NULL, NULL, NULL, CONN("smarthost = [fax-gw.example.org]:99999\n"
	    "tenant_id = 2f5c0e7a-8d41-4b8e-9a37-61c0d2b9e4f1\n"), SEV_ERROR, "smarthost",
	    "port must be 1-65535" },
	{ "conn_smarthost_bracket", NULL, NULL, NULL, CONN("smarthost = [fax-gw.example.org\n"
	    "tenant_id = 2f5c0e7a-8d41-4b8e-9a37-61c0d2b9e4f1\n"), SEV_ERROR, "smarthost",
	    "unterminated [" },
	{ "conn_smarthost_mx", NULL, NULL, NULL, CONN("smarthost = fax-gw.example.org:25\n"
	    "tenant_id = 2f5c0e7a-8d41-4b8e-9a37-61c0d2b9e4f1\n"), SEV_WARNING, "smarthost",
	    "look up MX records" },
	{ "conn_no_smarthost", NULL, NULL, NULL, CONN("tenant_id = "
	    "2f5c0e7a-8d41-4b8e-9a37-61c0d2b9e4f1\n"), SEV_ERROR, "[connector",
	    "needs smarthost" },
	{ "conn_no_tenant", NULL, NULL, NULL, CONN("smarthost = [fax-gw.example.org]:25\n"),
	    SEV_ERROR, "[connector", "has no tenant_id" },
	{ "conn_tenant_bad", NULL, NULL, NULL, CONN("smarthost = [fax-gw.example.org]:25\n"
	    "tenant_id = 2f5c0e7a-8d41-4b8e-9a37-61c0d2b9e4f\n"), SEV_ERROR, "tenant_id",
	    "is not a GUID" },
	/* Who may present the client certificate. */
	{ "conn_no_client_ca", NULL, NULL, NULL, CONN(CONN_BASE), SEV_ERROR, "[connector",
	    "has no client_ca" },
	{ "conn_client_ca_bundle", NULL, NULL, NULL, CONN(CONN_BASE
	    "client_ca = /etc/ssl/certs/ca-certificates.crt\nclient_fingerprints = " CONN_FP),
	    SEV_ERROR, "client_ca", "any publicly trusted certificate" },
	{ "conn_client_ca_differs", NULL, NULL, NULL, CONN(CONN_OK)
	    "[connector \"sms.example.org\"]\n" CONN_BASE "client_ca = /etc/postfix/other.pem\n"
	    "client_fingerprints = " CONN_FP "\n", SEV_ERROR, "client_ca = /etc/postfix/other",
	    "one smtpd_tls_CAfile" },
	{ "conn_fingerprint_bad", NULL, NULL, NULL, CONN(CONN_BASE
	    "client_ca = /etc/postfix/microsoft365-ca.pem\nclient_fingerprints = " CONN_FP
	    " d4:a1:0c"), SEV_ERROR, "client_fingerprints", "\"d4:a1:0c\" is not a SHA-256" },
	{ "conn_fingerprint_plain_hex_ok", NULL, NULL, NULL, CONN(CONN_BASE
	    "client_ca = /etc/postfix/microsoft365-ca.pem\nclient_fingerprints = "
	    "D4A10C5B9E3371F02A6C8819BE4705E2937DC4105FA8263BE10D77C942186EB5"), NONE, NULL,
	    "" },
	{ "conn_no_fingerprints", NULL, NULL, NULL, CONN(CONN_BASE
	    "client_ca = /etc/postfix/microsoft365-ca.pem"), SEV_WARNING, "client_ca",
	    "pin Microsoft 365's certificate with client_fingerprints" },
};

static char *
build_profile(const struct lcase *c)
{
	return xasprintf("[site]\nname = t\ndomain = %s\n%s\n[host \"gw\"]\n"
	    "address = gw.example.org\nroles = %s\n\n%s",
	    c->domain != NULL ? c->domain : "example.org",
	    c->site != NULL ? c->site : "resolver = 127.0.0.1:5353\n",
	    c->roles != NULL ? c->roles : "postfix dovecot apache autodiscover",
	    c->extra);
}

static int
line_of(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);
	int line = 1;

	if (p == NULL)
		return -1;
	for (const char *q = text; q < p; q++)
		if (*q == '\n')
			line++;
	return line;
}

static void
dump(const struct diags *d)
{
	diags_print(d, stderr);
}

static void
run_case(void **state)
{
	const struct lcase *c = *state;
	char *text = build_profile(c);
	struct site site;
	struct diags d = { 0 };
	bool found = false;

	(void)site_load_buf(&site, "/nonexistent/t.ini", text, strlen(text), &d);
	site_lint(&site, &d);
	if (c->sev == NONE) {
		for (size_t i = 0; i < d.n; i++)
			if (*c->msg == '\0' || strstr(d.v[i].msg, c->msg) != NULL) {
				fprintf(stderr, "case %s: unexpected finding:\n", c->name);
				dump(&d);
				fail();
			}
		if (d.nerrors != 0) {
			fprintf(stderr, "case %s: unexpected errors:\n", c->name);
			dump(&d);
			fail();
		}
	} else {
		int want = line_of(text, c->at);

		assert_true(want > 0);
		for (size_t i = 0; i < d.n; i++)
			if (d.v[i].sev == (enum sev)c->sev && d.v[i].line == want &&
			    strcmp(d.v[i].file, "/nonexistent/t.ini") == 0 &&
			    strstr(d.v[i].msg, c->msg) != NULL)
				found = true;
		if (!found) {
			fprintf(stderr, "case %s: no %s at line %d with \"%s\"; got:\n", c->name,
			    c->sev == SEV_ERROR ? "error" : "warning", want, c->msg);
			dump(&d);
			fprintf(stderr, "--- profile ---\n%s--- end ---\n", text);
			fail();
		}
	}
	diags_free(&d);
	site_free(&site);
	free(text);
}

/* Users from a CSV: the finding points into the CSV, at the user's row; a [user]
 * section for an address the CSV does not have is fine (the user is added). */
static void
test_users_csv(void **state)
{
	char dir[] = "/tmp/test_lint.XXXXXX", *ini, *csv;
	const char *csvtext = "email,imap,pop3\nalice@example.org,1,0\n"
	    "mallory@elsewhere.example,1,1\n";
	const char *initext = "[site]\nname = t\ndomain = example.org\n"
	    "resolver = 127.0.0.1\n[host \"gw\"]\naddress = local\nroles = postfix\n"
	    "[users]\nfile = users.csv\n[user \"zed@example.org\"]\npop3 = on\n";
	struct site site;
	struct diags d = { 0 };
	char *cause = NULL;
	size_t nwarn = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	ini = xasprintf("%s/t.ini", dir);
	csv = xasprintf("%s/users.csv", dir);
	assert_int_equal(write_file_atomic(csv, csvtext, strlen(csvtext), 0644, &cause), 0);
	assert_int_equal(write_file_atomic(ini, initext, strlen(initext), 0644, &cause), 0);
	assert_int_equal(site_load(&site, ini, &d), 0);
	site_lint(&site, &d);
	assert_int_equal(site.nusers, 3);
	assert_non_null(site_find_user(&site, "zed@example.org"));
	for (size_t i = 0; i < d.n; i++) {
		if (d.v[i].sev == SEV_ERROR) {
			dump(&d);
			fail();
		}
		nwarn++;
		assert_true(str_ends(d.v[i].file, "/users.csv"));
		assert_int_equal(d.v[i].line, 3);
		assert_non_null(strstr(d.v[i].msg, "mallory@elsewhere.example"));
	}
	assert_int_equal(nwarn, 1);
	diags_free(&d);
	site_free(&site);
	unlink(csv);
	unlink(ini);
	rmdir(dir);
	free(csv);
	free(ini);
}

/* The flags are checked again when the regex is compiled (the parser already refuses
 * unknown flags; a rule edited in memory by the console must not slip through). */
static void
test_flag_recheck(void **state)
{
	static const char text[] = "[site]\ndomain = example.org\n[host \"gw\"]\n"
	    "address = local\nroles = postfix\n[header-rules \"p\"]\n"
	    "rule = /^X-A:/ IGNORE\n";
	struct site site;
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(site_load_buf(&site, "t.ini", text, strlen(text), &d), 0);
	site_lint(&site, &d);
	assert_int_equal(d.n, 0);
	free(site.hrules[0].rules[0].flags);
	site.hrules[0].rules[0].flags = xstrdup("iq");
	site_lint(&site, &d);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.v[0].line, 7);
	assert_non_null(strstr(d.v[0].msg, "unknown regex flag \"q\""));
	diags_free(&d);
	site_free(&site);
}

/* Every shipped example profile (share/examples, *.ini) lints without errors. */
static void
test_examples_clean(void **state)
{
	const char *dir = "share/examples";
	struct dirent *e;
	DIR *dp;
	int n = 0;

	(void)state;
	if (access(dir, R_OK) != 0)
		dir = "../../share/examples";
	assert_non_null(dp = opendir(dir));
	while ((e = readdir(dp)) != NULL) {
		char *path;
		struct site site;
		struct diags d = { 0 };

		if (!str_ends(e->d_name, ".ini"))
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		(void)site_load(&site, path, &d);
		site_lint(&site, &d);
		if (d.nerrors != 0) {
			dump(&d);
			fail_msg("%s has lint errors", path);
		}
		diags_free(&d);
		site_free(&site);
		free(path);
		n++;
	}
	closedir(dp);
	assert_true(n >= 4);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_users_csv),
		cmocka_unit_test(test_examples_clean),
		cmocka_unit_test(test_flag_recheck),
	};

	return run_cases("lint", fixed, nitems(fixed), cases, nitems(cases), sizeof cases[0],
	    run_case);
}
