/* test_render_lint.c: one channel for findings. Every renderer refusal goes through
 * render_refuse() into struct diags at the FILE:LINE of its key (a users-CSV row at the
 * CSV's own FILE:LINE), and render_lint() keeps going, so one run shows them all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/render/render.h"

static const char profile[] =
"[site]\n"						/* 1 */
"domain = example.org\n"
"[host \"gw\"]\n"					/* 3 */
"address = gw.example.org\n"
"roles = postfix dovecot exchange\n"			/* 5 */
"[tls]\n"						/* 6 */
"certificate = /etc/ssl/certs/mx.pem\n"
"key = /etc/ssl/private/mx.key\n"
"smtpd_protocols = >= TLSv1.2\n"			/* 9: postfix refuses */
"[access]\n"						/* 10 */
"relay_networks = 10.0.0.0/8 192.0.2.0/24;rm\n"		/* 11: the second word */
"always_accept = postmaster abuse@x\n"			/* 12: not a local part */
"[users]\n"						/* 13 */
"default = imap\n";

static const char csv[] =
"email,imap,pop3,smtp,activesync,mapi,owa,ews\n"	/* 1 */
"good@example.org,1,0,0,0,0,0,0\n"
"bad user@example.org,1,0,0,0,0,0,0\n"			/* 3: postfix and dovecot refuse */
"x:y@example.org,1,0,1,0,0,0,0\n";			/* 4: dovecot refuses */

static bool
has(const struct diags *d, const char *file, int line, const char *msg)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == SEV_ERROR && d->v[i].line == line &&
		    strcmp(d->v[i].file, file) == 0 && strstr(d->v[i].msg, msg) != NULL)
			return true;
	return false;
}

static void
test_every_refusal(void **state)
{
	struct site s;
	struct diags d = { 0 }, pd = { 0 };
	struct fileset fs = { 0 };
	struct render_ctx ctx;
	char *cause = NULL;

	(void)state;
	assert_int_equal(site_load_buf(&s, "/p/site.ini", profile, strlen(profile), &pd), 0);
	assert_int_equal(pd.nerrors, 0);
	assert_int_equal(users_csv_parse(&s, "/p/users.csv", csv, strlen(csv), &pd), 0);

	render_lint(&s, &d);
	diags_print(&d, stderr);
	assert_true(d.n > 0);
	assert_true(has(&d, "/p/site.ini", 9, "host gw: postfix: [tls] smtpd_protocols:"));
	assert_true(has(&d, "/p/users.csv", 3, "host gw: postfix: user \"bad user@example.org\""));
	assert_true(has(&d, "/p/users.csv", 3, "host gw: dovecot: user \"bad user@example.org\""));
	assert_true(has(&d, "/p/users.csv", 4, "host gw: dovecot: user \"x:y@example.org\""));
	assert_true(has(&d, "/p/site.ini", 11,
	    "host gw: postfix: [access] relay_networks: \"192.0.2.0/24;rm\""));
	assert_true(has(&d, "/p/site.ini", 12,
	    "host gw: postfix: [access] always_accept: \"abuse@x\" must be a local part"));
	assert_int_equal(d.nerrors, 6);
	assert_int_equal(d.n, 6);

	/* Without a findings list, render_host stops at the first refusal, as before, and
	 * says where it is in its cause. */
	ctx = render_ctx_for(&s, &s.hosts[0]);
	assert_int_equal(render_host(&ctx, &fs, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "host gw: postfix: /p/site.ini:9: [tls] smtpd_protocols"));
	free(cause);
	fileset_free(&fs);

	site_free(&s);
	diags_free(&d);
	diags_free(&pd);
}

/* A profile the renderers accept: no finding, and the same files as render_host. */
static void
test_clean(void **state)
{
	static const char ok[] = "[site]\ndomain = example.org\n[host \"gw\"]\n"
	    "address = gw.example.org\nroles = postfix dovecot\n[tls]\n"
	    "certificate = /etc/ssl/certs/mx.pem\nkey = /etc/ssl/private/mx.key\n";
	struct site s;
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(site_load_buf(&s, "/p/site.ini", ok, strlen(ok), &d), 0);
	render_lint(&s, &d);
	assert_int_equal(d.n, 0);
	site_free(&s);
	diags_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_refusal),
		cmocka_unit_test(test_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
