/* test_keys.c: the per-section key tables of profiles/site.c drive parsing, defaults,
 * refusals (each at its key's FILE:LINE) and the "known keys" list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/site.h"

static const char *const sections[] = {
	"site", "host", "vhost", "autodiscover", "header-rules", "tls", "access", "users",
	"user", "connector", "tests",
};

static void
load(struct site *s, struct diags *d, const char *text)
{
	memset(d, 0, sizeof *d);
	(void)site_load_buf(s, "/p/site.ini", text, strlen(text), d);
}

static bool
has_diag(const struct diags *d, int line, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].line == line && strstr(d->v[i].msg, needle) != NULL)
			return true;
	return false;
}

#define BASE "[site]\ndomain = example.org\n[host \"gw\"]\naddress = gw.example.org\n" \
	"roles = postfix\n"	/* lines 1-5 */

/* Every table: names unique, a default only where the type can parse it, and an
 * unknown key's message lists exactly the table's keys. */
static void
test_tables(void **state)
{
	(void)state;
	assert_null(site_section_keys("nosuch"));
	for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
		const struct profile_key *k = site_section_keys(sections[i]);
		struct sbuf want, text;
		struct site s;
		struct diags d;

		assert_non_null(k);
		assert_non_null(k[0].name);
		sb_init(&want);
		for (size_t j = 0; k[j].name != NULL; j++) {
			for (size_t m = 0; m < j; m++)
				assert_string_not_equal(k[j].name, k[m].name);
			assert_true((k[j].type == PK_CUSTOM) == (k[j].handler != NULL));
			if (k[j].type == PK_INT)
				assert_true(k[j].min <= k[j].max && k[j].what != NULL);
			if (k[j].type == PK_ENUM)
				assert_non_null(strchr(k[j].what, '|'));
			sb_addf(&want, "%s%s", j ? " " : "", k[j].name);
		}
		sb_init(&text);
		sb_addf(&text, BASE "[%s%s]\nnosuchkey = 1\n", sections[i],
		    site_section_has_name(sections[i]) ? " \"x@example.org\"" : "");
		load(&s, &d, text.s);
		sb_addf(&want, "%s", "");
		{
			char *msg = xasprintf("unknown key 'nosuchkey' in [%s]; known keys: %s",
			    sections[i], want.s);

			assert_true(has_diag(&d, 7, msg));
			free(msg);
		}
		site_free(&s);
		diags_free(&d);
		sb_free(&want);
		sb_free(&text);
	}
}

/* Defaults from the tables when a key is absent. */
static void
test_defaults(void **state)
{
	struct site s;
	struct diags d;
	const struct host *h;

	(void)state;
	load(&s, &d, BASE "[vhost \"mail.example.org\"]\nbackend = https://x.example.org\n"
	    "certificate = c.pem\nkey = k.pem\n");
	assert_int_equal(d.nerrors, 0);
	h = &s.hosts[0];
	assert_int_equal(h->port, 22);
	assert_false(h->port_set);
	assert_string_equal(h->user, "root");
	assert_false(h->user_set);
	assert_int_equal(h->keep_backups, 10);
	assert_string_equal(h->php_fpm_socket, "/run/php/php8.2-fpm.sock");
	assert_string_equal(h->postfix_queue_dir, "/var/spool/postfix");
	assert_string_equal(s.trust_anchor, "/usr/share/dns/root.key");
	assert_string_equal(s.tls.smtpd_protocols, ">=TLSv1.2");
	assert_string_equal(s.tls.dovecot_min_protocol, "TLSv1.2");
	assert_true(s.tls.no_renegotiation);
	assert_int_equal(s.tls.ntlsa_ports, 2);
	assert_int_equal(s.tls.tlsa_ports[0], 25);
	assert_int_equal(s.tls.tlsa_ports[1], 465);
	assert_int_equal(s.access.always_accept.n, 2);
	assert_int_equal(s.vhosts[0].server, SERVER_APACHE);
	assert_int_equal(s.vhosts[0].activesync_timeout, 1800);
	assert_int_equal(s.vhosts[0].activesync_timeout_line, 0);
	assert_int_equal(s.vhosts[0].services, (1u << SVC_COUNT) - 1);
	assert_string_equal(s.vhosts[0].certificate, "/p/c.pem");
	site_free(&s);
	diags_free(&d);

	/* written values win; the "set" flags and lines follow */
	load(&s, &d, BASE "port = 2222\nuser = deploy\nkeep_backups = 3\n"	/* 6-8 */
	    "[vhost \"mail.example.org\"]\nserver = NGINX\nbackend = https://x.example.org\n"
	    "certificate = /c.pem\nkey = /k.pem\nactivesync_timeout = 60\n"	/* 9-14 */
	    "[tls]\nno_renegotiation = no\ntlsa_ports =\n[access]\nalways_accept =\n");
	assert_int_equal(d.nerrors, 0);
	h = &s.hosts[0];
	assert_int_equal(h->port, 2222);
	assert_true(h->port_set);
	assert_true(h->user_set);
	assert_int_equal(h->keep_backups, 3);
	assert_int_equal(s.vhosts[0].server, SERVER_NGINX);
	assert_int_equal(s.vhosts[0].activesync_timeout, 60);
	assert_int_equal(s.vhosts[0].activesync_timeout_line, 14);
	assert_false(s.tls.no_renegotiation);
	assert_int_equal(s.tls.ntlsa_ports, 0);
	assert_int_equal(s.access.always_accept.n, 0);
	site_free(&s);
	diags_free(&d);
}

/* Each type's refusal, with the key's line. */
static void
test_refusals(void **state)
{
	static const struct {
		const char *text;	/* after BASE: line 6 on */
		int line;
		const char *msg;
	} cases[] = {
		{ "port = 0\n", 6, "port: '0' is not a port number (1-65535)" },
		{ "port = 22x\n", 6, "port: '22x' is not a port number (1-65535)" },
		{ "keep_backups = 1001\n", 6,
		  "keep_backups: '1001' is not a number of backups to keep (1-1000)" },
		{ "keep_backups =\n", 6,
		  "keep_backups: '' is not a number of backups to keep (1-1000)" },
		{ "user =\n", 6, "'user' needs a value" },
		{ "postfix_dir =\n", 6, "'postfix_dir' needs a value" },
		{ "postfix_version = 3.x\n", 6,
		  "postfix_version: '3.x' is not a version like 3.7 or 3.4.13" },
		{ "postfix_version = .3\n", 6,
		  "postfix_version: '.3' is not a version like 3.7 or 3.4.13" },
		{ "port = 22\nport = 23\n", 7, "duplicate key 'port' (first set on line 6)" },
		{ "[vhost \"v.example.org\"]\nserver = lighttpd\n", 7,
		  "server must be apache or nginx, not 'lighttpd'" },
		{ "[vhost \"v.example.org\"]\nlegacy_tls = maybe\n", 7,
		  "'legacy_tls' must be yes or no, not 'maybe'" },
		{ "[vhost \"v.example.org\"]\nactivesync_timeout = 0\n", 7,
		  "activesync_timeout: '0' is not a number of seconds (1-86400)" },
		{ "[autodiscover \"example.org\"]\nlogin =\n", 7, "'login' needs a value" },
		{ "[autodiscover \"example.org\"]\nlogin = upn\n", 7,
		  "login must be email or localpart, not 'upn'" },
		{ "[autodiscover \"example.org\"]\nimap = imap.example.org:99999/ssl\n", 7,
		  "imap: '99999' is not a port number (1-65535)" },
		{ "[header-rules \"x\"]\nscope = inbound\n", 7,
		  "scope must be authenticated or outbound, not 'inbound'" },
		{ "[tls]\ntlsa_ports = 25 0\n", 7, "tlsa_ports: '0' is not a port number" },
		{ "[tls]\ndane = perhaps\n", 7, "'dane' must be yes or no, not 'perhaps'" },
		{ "[connector \"fax.example.org\"]\nclient_fingerprints =\n", 7,
		  "'client_fingerprints' needs a value" },
		{ "[user \"a@example.org\"]\nimap = sometimes\n", 7,
		  "'imap' must be yes or no, not 'sometimes'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *text = xasprintf(BASE "%s", cases[i].text);
		struct site s;
		struct diags d;

		load(&s, &d, text);
		if (!has_diag(&d, cases[i].line, cases[i].msg)) {
			diags_print(&d, stderr);
			fail_msg("case %zu: no \"%s\" at line %d", i, cases[i].msg, cases[i].line);
		}
		site_free(&s);
		diags_free(&d);
		free(text);
	}
}

/* A repeatable key (rule) adds each time; the console's form offers it again. */
static void
test_repeat(void **state)
{
	struct site s;
	struct diags d;
	const struct profile_key *k = site_section_keys("header-rules");
	bool found = false;

	(void)state;
	for (size_t j = 0; k[j].name != NULL; j++)
		if (strcmp(k[j].name, "rule") == 0)
			found = (k[j].flags & PK_REPEAT) != 0;
	assert_true(found);
	load(&s, &d, BASE "[header-rules \"x\"]\nrule = /^A:/ IGNORE\nrule = /^B:/ IGNORE\n");
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(s.hrules[0].nrules, 2);
	assert_int_equal(s.hrules[0].rules[1].line, 8);
	site_free(&s);
	diags_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_repeat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
