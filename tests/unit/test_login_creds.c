/* test_login_creds.c: the [tests] credentials file (backends/probe/login.c): who may own
 * it, its mode, the line format and its FILE:LINE errors (which never quote a line), and
 * the login probes the list gets from it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/probe/probe.h"
#include "profiles/site.h"

static char dir[] = "/tmp/mxdeck-creds.XXXXXX";

static const char profile[] =
    "[site]\nname = t\ndomain = lab.test\n"
    "[host \"gw\"]\naddress = 127.0.0.1\nroles = postfix dovecot\n"
    "[host \"web\"]\naddress = 127.0.0.1\nroles = nginx\n"
    "[vhost \"mail.lab.test\"]\nserver = nginx\nbackend = https://10.0.0.1\n"
    "services = owa activesync\ncertificate = /nonexistent.pem\nkey = /nonexistent.key\n"
    "[users]\ndefault = imap pop3 smtp activesync mapi owa ews\n"
    "[user \"alice@lab.test\"]\npop3 = off\n"
    "[user \"bob@lab.test\"]\nimap = on\n"
    "[tests]\ncredentials = creds.txt\n";

static struct site *
load_site(void)
{
	struct site *s = calloc(1, sizeof *s);
	struct diags d = { 0 };
	char *path;

	assert_non_null(s);
	path = xasprintf("%s/p.ini", dir);
	/* site_load_buf resolves relative paths against the directory of path */
	site_load_buf(s, path, profile, strlen(profile), &d);
	diags_free(&d);
	free(path);
	return s;
}

static char *
write_creds(const char *text, mode_t mode)
{
	char *path;
	FILE *f;

	path = xasprintf("%s/creds.txt", dir);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char *cmd;

	(void)state;
	cmd = xasprintf("rm -rf '%s'", dir);
	{
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
		free(cmd);
	}
	return 0;
}

static void
t_good(void **state)
{
	struct site *s = load_site();
	char *p = write_creds("# users\nalice@lab.test:pa:ss:word\r\n\nbob@lab.test:b\n", 0600);
	struct login_creds c;
	char *cause = NULL;

	assert_string_equal(s->tests_credentials, p);
	assert_int_equal(login_creds_load(p, s, &c, &cause), 0);
	assert_null(cause);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0].address, "alice@lab.test");
	assert_string_equal(c.v[0].password, "pa:ss:word");	/* split at the first ':' */
	assert_int_equal(c.v[0].line, 2);
	assert_string_equal(c.v[1].password, "b");
	assert_int_equal(c.v[1].line, 4);
	login_creds_free(&c);
	assert_int_equal(c.n, 0);
	assert_null(c.v);
	free(p);
	site_free(s);
	free(s);
}

static void
t_mode_refused(void **state)
{
	struct site *s = load_site();
	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0606 };
	struct login_creds c;

	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		char *p = write_creds("alice@lab.test:secret-mode\n", modes[i]);
		char *cause = NULL, want[64];

		assert_int_equal(login_creds_load(p, s, &c, &cause), -1);
		assert_non_null(cause);
		snprintf(want, sizeof want, "mode %04o", (unsigned)modes[i]);
		assert_non_null(strstr(cause, p));
		assert_non_null(strstr(cause, want));
		assert_non_null(strstr(cause, "chmod 600"));
		assert_null(strstr(cause, "secret-mode"));
		assert_int_equal(c.n, 0);
		free(cause);
		free(p);
	}
	/* 0400 is fine: no group/other bits */
	{
		char *p = write_creds("alice@lab.test:x\n", 0400), *cause = NULL;

		assert_int_equal(login_creds_load(p, s, &c, &cause), 0);
		login_creds_free(&c);
		free(p);
	}
	site_free(s);
	free(s);
}

static void
t_not_a_file(void **state)
{
	struct login_creds c;
	char *cause = NULL, *p;

	assert_int_equal(login_creds_load(dir, NULL, &c, &cause), -1);
	assert_non_null(strstr(cause, "not a regular file"));
	free(cause);
	cause = NULL;
	p = xasprintf("%s/missing", dir);
	assert_int_equal(login_creds_load(p, NULL, &c, &cause), -1);
	assert_non_null(strstr(cause, "cannot open"));
	assert_non_null(strstr(cause, p));
	free(cause);
	free(p);
}

static void
t_owner_refused(void **state)
{
	char *p = write_creds("alice@lab.test:x\n", 0600), *cause = NULL;
	struct login_creds c;

	if (getuid() != 0) {
		free(p);
		skip();
	}
	assert_int_equal(chown(p, 65534, (gid_t)-1), 0);
	assert_int_equal(login_creds_load(p, NULL, &c, &cause), -1);
	assert_non_null(strstr(cause, "owned by uid 65534, not by you"));
	free(cause);
	free(p);
}

static void
t_bad_lines(void **state)
{
	struct site *s = load_site();
	char *p = write_creds(
	    "alice@lab.test:ok\n"		/* 1 fine */
	    "nocolon-secret1\n"			/* 2 */
	    "carol@lab.test:secret2\n"		/* 3 not a user */
	    ":secret3\n"				/* 4 no address */
	    "bob@lab.test:\n"			/* 5 empty password */
	    "ALICE@lab.test:secret4\n"		/* 6 again */
	    "bob@lab.test:sec\tret5\n"		/* 7 control character */
	    "bo b@lab.test:secret6\n",		/* 8 space in the address */
	    0600);
	struct login_creds c;
	char *cause = NULL, want[256];
	static const char *const errs[] = {
		"2: no ':' between the address and the password",
		"3: carol@lab.test is not a user of the profile",
		"4: the part before ':' is not an address",
		"5: empty password for bob@lab.test",
		"6: ALICE@lab.test is listed again (first on line 1)",
		"7: the password of bob@lab.test has a control character",
		"8: the address has a space",
	};

	assert_int_equal(login_creds_load(p, s, &c, &cause), -1);
	assert_non_null(cause);
	for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
		snprintf(want, sizeof want, "%s:%s", p, errs[i]);
		if (strstr(cause, want) == NULL)
			fail_msg("missing \"%s\" in:\n%s", want, cause);
	}
	/* no message quotes a password */
	assert_null(strstr(cause, "secret"));
	assert_int_equal(c.n, 0);
	free(cause);
	free(p);
	/* an empty file (comments only) is refused too */
	p = write_creds("# nothing\n", 0600);
	assert_int_equal(login_creds_load(p, s, &c, &cause), -1);
	assert_non_null(strstr(cause, "no address:password line"));
	free(cause);
	free(p);
	site_free(s);
	free(s);
}

static void
t_probe_list(void **state)
{
	struct site *s = load_site();
	char *p = write_creds("alice@lab.test:a\nbob@lab.test:b\n", 0600), *cause = NULL;
	struct probe_list *pl = NULL;
	struct probe_opts o = { 0 };
	struct strv hosts = { 0 };
	size_t n, nlogin = 0;

	o.kinds = probe_kind_bit("login");
	assert_int_equal(probe_list_build(s, &o, &pl, &cause), 0);
	n = probe_list_count(pl);
	/* 2 users x (imap pop3 smtp on gw + activesync owa on the vhost) */
	for (size_t i = 0; i < n; i++)
		if (strcmp(probe_list_kind(pl, i), "login") == 0)
			nlogin++;
	assert_int_equal(nlogin, 10);
	assert_int_equal(n, 10);
	{
		bool imap = false, owa = false;

		for (size_t i = 0; i < n; i++) {
			imap |= strcmp(probe_list_name(pl, i), "alice@lab.test imap") == 0;
			owa |= strcmp(probe_list_name(pl, i), "bob@lab.test owa") == 0;
		}
		assert_true(imap && owa);
	}
	probe_list_free(pl);
	/* a host filter: only that host's mail protocols, no proxy */
	strv_push(&hosts, "gw");
	o.hosts = &hosts;
	assert_int_equal(probe_list_build(s, &o, &pl, &cause), 0);
	assert_int_equal(probe_list_count(pl), 6);
	probe_list_free(pl);
	strv_free(&hosts);
	/* a refused file fails the build: nothing is contacted */
	assert_int_equal(chmod(p, 0644), 0);
	o.hosts = NULL;
	assert_int_equal(probe_list_build(s, &o, &pl, &cause), -1);
	assert_non_null(strstr(cause, "mode 0644"));
	free(cause);
	free(p);
	site_free(s);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_good),
		cmocka_unit_test(t_mode_refused),
		cmocka_unit_test(t_not_a_file),
		cmocka_unit_test(t_owner_refused),
		cmocka_unit_test(t_bad_lines),
		cmocka_unit_test(t_probe_list),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
