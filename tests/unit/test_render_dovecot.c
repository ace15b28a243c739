/* test_render_dovecot.c: the Dovecot renderer: files, deny lists from the users' effective
 * protocols, TLS-only listeners, one setting per line, refusals, golden files from
 * share/examples/demo.ini (MXDECK_UPDATE_GOLDEN=1 rewrites them), 100k users. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/render/render.h"
#include "tests/unit/render-fx.h"

extern const struct renderer render_dovecot;

#define GOLDEN_DIR "tests/data/golden/dovecot"

/* Load PROFILE (written to a temp dir, with an optional users CSV next to it). */
static int
load(struct fx *fx, const char *profile, const char *csv)
{
	fx_init(fx, "tdv");
	return fx_load(fx, profile, csv);
}

static const char base_profile[] =
    "[site]\n"
    "name = t\n"
    "domain = Example.ORG\n"
    "[host \"gw\"]\n"
    "address = gw1.example.org\n"
    "roles = dovecot\n"
    "dovecot_dir = /etc/dovecot/\n"
    "[tls]\n"
    "dovecot_min_protocol = TLSv1.3\n"
    "certificate = /etc/ssl/certs/mx.pem\n"
    "key = /etc/ssl/private/mx.key\n"
    "[users]\n"
    "default = imap pop3:off smtp activesync mapi owa ews\n"
    "file = users.csv\n"
    "[user \"Alice@Example.org\"]\n"
    "pop3 = on\n";

static const char base_csv[] =
    "email,imap,pop3,smtp,activesync,mapi,owa,ews\n"
    "alice@example.org,1,0,1,1,1,1,1\n"
    "bob@example.org,1,1,1,0,1,1,1\n"
    "carol@example.org,on,off,off,on,on,on,on\n"
    "dave@example.org,false,false,true,true,false,true,false\n";

static void
test_files_and_settings(void **state)
{
	struct fx fx;
	char *cause = NULL;
	const struct rfile *f;

	assert_int_equal(load(&fx, base_profile, base_csv), 0);
	assert_int_equal(fx_render(&fx, &render_dovecot, NULL, &cause), 0);
	/* 2 drop-ins + 6 deny files, all plain config files, trailing '/' folded. */
	assert_int_equal(fx.fs.n, 8);
	assert_non_null(fileset_find(&fx.fs, "/etc/dovecot/conf.d/00-mxdeck-deny.conf"));
	assert_non_null(fileset_find(&fx.fs, "/etc/dovecot/conf.d/99-mxdeck.conf"));
	for (size_t i = 0; i < fx.fs.n; i++) {
		assert_int_equal(fx.fs.v[i].kind, FK_FILE);
		assert_int_equal(fx.fs.v[i].mode, 0644);
		assert_string_equal(fx.fs.v[i].role, "dovecot");
	}
	/* The deny passdb sorts before Debian's 10-auth.conf (passdb order = definition
	 * order) and points at the deny files. */
	assert_true(strcmp("00-mxdeck-deny.conf", "10-auth.conf") < 0);
	f = fx_find(&fx, "/00-mxdeck-deny.conf");
	assert_true(file_has_line(f, "passdb {"));
	assert_true(file_has_line(f, "  driver = passwd-file"));
	assert_true(file_has_line(f, "  deny = yes"));
	assert_true(file_has_line(f, "  args = /etc/dovecot/mxdeck/deny.%s"));
	f = fx_find(&fx, "/99-mxdeck.conf");
	assert_null(strstr(f->data.s, "passdb {"));
	assert_true(file_has_line(f, "ssl = required"));
	assert_true(file_has_line(f, "ssl_cert = </etc/ssl/certs/mx.pem"));
	assert_true(file_has_line(f, "ssl_key = </etc/ssl/private/mx.key"));
	assert_true(file_has_line(f, "ssl_min_protocol = TLSv1.3"));
	assert_true(file_has_line(f, "auth_username_format = %Lu"));
	assert_true(file_has_line(f, "auth_default_realm = example.org"));
	/* Default probe ports: TLS listeners on 993/995, the plaintext ones off. */
	assert_non_null(strstr(f->data.s, "  inet_listener imap {\n    port = 0\n  }\n"));
	assert_non_null(strstr(f->data.s, "  inet_listener pop3 {\n    port = 0\n  }\n"));
	assert_non_null(strstr(f->data.s,
	    "  inet_listener imaps {\n    port = 993\n    ssl = yes\n  }\n"));
	assert_non_null(strstr(f->data.s,
	    "  inet_listener pop3s {\n    port = 995\n    ssl = yes\n  }\n"));
	/* Blocks need one setting per line: no line opens a block and sets something. */
	for (size_t i = 0; i < fx.fs.n; i++) {
		const char *p = fx.fs.v[i].data.s;

		while (*p != '\0') {
			const char *e = strchr(p, '\n');
			char *line = xstrndup(p, e != NULL ? (size_t)(e - p) : strlen(p));

			if (line[0] != '#')
				assert_false(strchr(line, '{') != NULL &&
				    (strchr(line, '=') != NULL || strchr(line, '}') != NULL));
			free(line);
			if (e == NULL)
				break;
			p = e + 1;
		}
	}
	fx_free(&fx);
}

/* Every deny file lists exactly the users whose governing protocol is off, derived here
 * from the model, and the explicit cases are what the profile says. */
static void
test_deny_lists(void **state)
{
	static const struct { const char *svc; int proto; } m[] = {
		{ "imap", PROTO_IMAP }, { "pop3", PROTO_POP3 }, { "smtp", PROTO_SMTP },
		{ "submission", PROTO_SMTP }, { "sieve", -1 }, { "doveadm", -1 },
	};
	struct fx fx;
	char *cause = NULL;

	assert_int_equal(load(&fx, base_profile, base_csv), 0);
	assert_int_equal(fx.site.nusers, 4);
	assert_int_equal(fx_render(&fx, &render_dovecot, NULL, &cause), 0);
	for (size_t i = 0; i < nitems(m); i++) {
		char *suffix = xasprintf("/mxdeck/deny.%s", m[i].svc);
		const struct rfile *f = fx_find(&fx, suffix);
		size_t listed = 0;

		for (size_t u = 0; u < fx.site.nusers; u++) {
			char *lower = xstrdup(fx.site.users[u].email);
			bool off = m[i].proto != -1 &&
			    (fx.site.users[u].protos & PROTO_BIT(m[i].proto)) == 0;

			for (char *c = lower; *c != '\0'; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c += 'a' - 'A';
			assert_int_equal(file_has_line(f, lower), off);
			listed += off;
			free(lower);
		}
		/* nothing else but comments */
		for (const char *p = f->data.s; *p != '\0'; p = strchr(p, '\n') + 1)
			if (*p != '#')
				listed--;
		assert_int_equal(listed, 0);
		free(suffix);
	}
	/* [user] pop3 = on overrides the CSV for alice; the others as in the CSV. */
	assert_false(file_has_line(fx_find(&fx, "/deny.pop3"), "alice@example.org"));
	assert_true(file_has_line(fx_find(&fx, "/deny.pop3"), "carol@example.org"));
	assert_true(file_has_line(fx_find(&fx, "/deny.pop3"), "dave@example.org"));
	assert_false(file_has_line(fx_find(&fx, "/deny.pop3"), "bob@example.org"));
	assert_true(file_has_line(fx_find(&fx, "/deny.imap"), "dave@example.org"));
	assert_true(file_has_line(fx_find(&fx, "/deny.submission"), "carol@example.org"));
	fx_free(&fx);
}

static char *
replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);

	assert_non_null(at);
	return xasprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static void
test_probe_ports(void **state)
{
	struct fx fx;
	char *cause = NULL, *prof;
	const struct rfile *f;

	prof = replace(base_profile, "roles = dovecot\n",
	    "roles = dovecot\nprobe_ports = imaps:2993 pop3s:2995\n");
	assert_int_equal(load(&fx, prof, base_csv), 0);
	assert_int_equal(fx_render(&fx, &render_dovecot, NULL, &cause), 0);
	f = fx_find(&fx, "/99-mxdeck.conf");
	assert_non_null(strstr(f->data.s, "inet_listener imaps {\n    port = 2993\n"));
	assert_non_null(strstr(f->data.s, "inet_listener pop3s {\n    port = 2995\n"));
	free(prof);
	fx_free(&fx);
}

static void
expect_error(const char *profile, const char *csv, const char *needle)
{
	struct fx fx;
	char *cause = NULL;

	assert_int_equal(load(&fx, profile, csv), 0);
	assert_int_equal(fx_render(&fx, &render_dovecot, NULL, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, needle) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, needle);
	free(cause);
	fx_free(&fx);
}


static void
test_refusals(void **state)
{
	struct fx fx;
	char *p, *cause = NULL;

	/* doveconf does not check ssl_min_protocol: the renderer must. */
	p = replace(base_profile, "TLSv1.3", "TLS1.2");
	expect_error(p, base_csv, "site.ini:9: [tls] dovecot_min_protocol: ssl_min_protocol \"TLS1.2\" is not valid");
	free(p);
	p = replace(base_profile, "key = /etc/ssl/private/mx.key\n", "");
	expect_error(p, base_csv, "site.ini:8: [tls] needs both certificate and key");
	free(p);
	p = replace(base_profile, "/etc/ssl/certs/mx.pem", "/etc/ssl/my cert.pem");
	expect_error(p, base_csv, "certificate or key path");
	free(p);

	/* no [tls] at all */
	{
		const char *a = strstr(base_profile, "[tls]"), *b = strstr(base_profile, "[users]");

		p = xasprintf("%.*s%s", (int)(a - base_profile), base_profile, b);
		expect_error(p, base_csv, "site.ini: there is no [tls] section");
		free(p);
	}

	/* An address that would break the passwd-file format (the parser may accept more
	 * than a passwd-file can hold): ':' splits fields. */
	assert_int_equal(load(&fx, base_profile, base_csv), 0);
	free(fx.site.users[1].email);
	fx.site.users[1].email = xstrdup("bob@example.org:x");
	assert_int_equal(fx_render(&fx, &render_dovecot, NULL, &cause), -1);
	assert_non_null(strstr(cause, "users.csv:3: user \"bob@example.org:x\""));
	free(cause);
	fx_free(&fx);
}

/* ---- golden files from the demo profile ---- */

/* The golden file of a rendered path: its part below the demo sandbox, '/' -> '_'. */
static char *
golden_name(const char *path, const char *dir)
{
	char *n = normalize(path, dir), *r;

	assert_true(str_starts(n, "@DIR@/demo-sandbox/"));
	r = xstrdup(n + strlen("@DIR@/demo-sandbox/"));
	for (char *c = r; *c != '\0'; c++)
		if (*c == '/')
			*c = '_';
	free(n);
	return r;
}

static void
test_golden_demo(void **state)
{
	struct fileset fs = { 0 };

	golden_demo(&render_dovecot, NULL, GOLDEN_DIR, golden_name, NULL, &fs);
	fileset_free(&fs);
}

static void
test_determinism_and_scale(void **state)
{
	struct fx fx;
	struct sbuf csv;
	struct fileset again = { 0 };
	char *cause = NULL;
	struct timespec t0;
	double secs;

	sb_init(&csv);
	sb_add(&csv, "email,imap,pop3,smtp,activesync,mapi,owa,ews\n");
	for (int i = 0; i < 100000; i++)
		sb_addf(&csv, "user%06d@example.org,%d,%d,%d,1,1,1,1\n", i, i % 2, i % 3 == 0,
		    i % 5 != 0);
	assert_int_equal(load(&fx, base_profile, csv.s), 0);
	sb_free(&csv);
	assert_int_equal(fx.site.nusers, 100001);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(fx_render(&fx, &render_dovecot, NULL, &cause), 0);
	secs = secs_since(&t0);
	print_message("dovecot: 100001 users rendered in %.3f s\n", secs);
	assert_true(secs < 1.0 * time_scale());
	/* user000001: imap 1, pop3 0 -> listed in deny.pop3 only. */
	assert_true(file_has_line(fx_find(&fx, "/deny.pop3"), "user000001@example.org"));
	assert_false(file_has_line(fx_find(&fx, "/deny.imap"), "user000001@example.org"));
	{
		struct render_ctx ctx = { .site = &fx.site, .host = &fx.site.hosts[0] };

		assert_int_equal(render_dovecot.render(&ctx, &again, &cause), 0);
	}
	assert_int_equal(again.n, fx.fs.n);
	for (size_t i = 0; i < again.n; i++) {
		assert_string_equal(again.v[i].path, fx.fs.v[i].path);
		assert_int_equal(again.v[i].data.len, fx.fs.v[i].data.len);
		assert_memory_equal(again.v[i].data.s, fx.fs.v[i].data.s, again.v[i].data.len);
	}
	fileset_free(&again);
	fx_free(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_and_settings),
		cmocka_unit_test(test_deny_lists),
		cmocka_unit_test(test_probe_ports),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_golden_demo),
		cmocka_unit_test(test_determinism_and_scale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
