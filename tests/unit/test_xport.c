/* test_xport.c: the transport chokepoint. A read-only handle (audit) refuses every write
 * operation and every command but postconf's reading forms, before the implementation
 * runs; the local transport does what the SSH one does (exec without a shell, stdin,
 * exit status, stderr; atomic file operations, modes, links). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/ssh/xport.h"

static void
test_readonly_commands(void **state)
{
	const char *ok1[] = { "postconf", "-c", "/etc/postfix", "-h", "mail_version", NULL };
	const char *ok2[] = { "postconf", "-c", "/etc/postfix", "-M", "smtp/inet", NULL };
	const char *ok3[] = { "postconf", "-c", "/d", "-P", "submission/inet/syslog_name", NULL };
	const char *ok4[] = { "postconf", "-c", "-e", "-h", "x", NULL };	/* -c's argument */
	const char *bad1[] = { "postconf", "-c", "/d", "-e", "a = b", NULL };
	const char *bad2[] = { "postconf", "-c", "/d", "a=b", NULL };
	const char *bad3[] = { "postconf", "-c", "/d", "-M", "-e", "x/unix = x unix", NULL };
	const char *bad4[] = { "postconf", "-X", "x", NULL };
	const char *bad5[] = { "postconf", "-#", "x", NULL };
	const char *bad6[] = { "sh", "-c", "postconf", NULL };
	const char *bad7[] = { "mv", "a", "b", NULL };
	const char *bad8[] = { "postconf", "-c", "/d", "-Me", "x", NULL };
	const char *bad9[] = { NULL };

	assert_true(xport_cmd_readonly(ok1));
	assert_true(xport_cmd_readonly(ok2));
	assert_true(xport_cmd_readonly(ok3));
	assert_true(xport_cmd_readonly(ok4));
	assert_false(xport_cmd_readonly(bad1));
	assert_false(xport_cmd_readonly(bad2));
	assert_false(xport_cmd_readonly(bad3));
	assert_false(xport_cmd_readonly(bad4));
	assert_false(xport_cmd_readonly(bad5));
	assert_false(xport_cmd_readonly(bad6));
	assert_false(xport_cmd_readonly(bad7));
	assert_false(xport_cmd_readonly(bad8));
	assert_false(xport_cmd_readonly(bad9));
}

static char dir[] = "/tmp/mxdeck-xport-XXXXXX";

static int
setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf %s", dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static void
expect_refused(int rc, char *cause)
{
	assert_int_equal(rc, -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "read-only (audit) connection refuses"));
	free(cause);
}

static void
test_readonly_refuses_writes(void **state)
{
	struct xport *x = xport_local_open("h1", dir, true);
	char *cause = NULL, *p = xasprintf("%s/f", dir);
	struct xres r;
	struct xstat st;
	struct sbuf b;
	bool existed, missing;
	const char *touch[] = { "touch", p, NULL };
	int rc;

	rc = xport_write(x, "f", "x", 1, 0644, &cause);
	expect_refused(rc, cause);
	cause = NULL;
	rc = xport_mkdir(x, "d", 0755, &existed, &cause);
	expect_refused(rc, cause);
	cause = NULL;
	rc = xport_rename(x, "a", "b", &cause);
	expect_refused(rc, cause);
	cause = NULL;
	rc = xport_unlink(x, "a", &cause);
	expect_refused(rc, cause);
	cause = NULL;
	rc = xport_rmdir(x, "a", &cause);
	expect_refused(rc, cause);
	cause = NULL;
	rc = xport_symlink(x, "a", "b", &cause);
	expect_refused(rc, cause);
	cause = NULL;
	rc = xport_mkdir_p(x, "a/b/c", 0755, NULL, &cause);
	expect_refused(rc, cause);
	cause = NULL;
	rc = xport_chown(x, "a", 0, 0, &cause);
	expect_refused(rc, cause);
	cause = NULL;
	xres_init(&r);
	rc = xport_exec(x, touch, NULL, 0, &r, &cause);
	expect_refused(rc, cause);
	xres_free(&r);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(x->nwrites, 0);
	/* Reads work. */
	cause = NULL;
	assert_int_equal(write_file_atomic(p, "hello\n", 6, 0640, &cause), 0);
	sb_init(&b);
	assert_int_equal(xport_read(x, "f", &b, &missing, &cause), 0);
	assert_false(missing);
	assert_string_equal(b.s, "hello\n");
	assert_int_equal(xport_lstat(x, "f", &st, &cause), 0);
	assert_true(st.exists);
	assert_int_equal(st.mode, 0640);
	sb_free(&b);
	free(p);
	xport_close(x);
}

static void
test_local_ops(void **state)
{
	struct xport *x = xport_local_open("h1", dir, false);
	char *cause = NULL, *target = NULL;
	struct xres r;
	struct xstat st;
	struct sbuf b;
	bool existed, missing;
	struct strv created = { 0 };
	const char *cat[] = { "sh", "-c", "cat; echo err >&2; exit 3", NULL };
	const char *none[] = { "mxdeck-no-such-command", NULL };

	assert_int_equal(xport_mkdir_p(x, "a/b/c", 0755, &created, &cause), 0);
	assert_int_equal(created.n, 3);
	assert_string_equal(created.v[2], "a/b/c");
	assert_int_equal(xport_mkdir(x, "a/b", 0755, &existed, &cause), 0);
	assert_true(existed);
	assert_int_equal(xport_write(x, "a/b/c/.t", "new\n", 4, 0600, &cause), 0);
	assert_int_equal(xport_rename(x, "a/b/c/.t", "a/b/c/f", &cause), 0);
	assert_int_equal(xport_lstat(x, "a/b/c/f", &st, &cause), 0);
	assert_true(st.exists && !st.is_dir && !st.is_link);
	assert_int_equal(st.mode, 0600);
	assert_int_equal(st.uid, (long)getuid());
	if (getuid() == 0) {		/* the suite runs as root; chown needs it */
		assert_int_equal(xport_chown(x, "a/b/c/f", 0, 1, &cause), 0);
		assert_int_equal(xport_lstat(x, "a/b/c/f", &st, &cause), 0);
		assert_int_equal(st.gid, 1);
	}
	assert_int_equal(xport_symlink(x, "c/f", "a/b/l", &cause), 0);
	assert_int_equal(xport_readlink(x, "a/b/l", &target, &cause), 0);
	assert_string_equal(target, "c/f");
	free(target);
	sb_init(&b);
	assert_int_equal(xport_read(x, "a/b/l", &b, &missing, &cause), 0);
	assert_string_equal(b.s, "new\n");
	assert_int_equal(xport_read(x, "nope", &b, &missing, &cause), 0);
	assert_true(missing);
	sb_free(&b);
	assert_int_equal(xport_unlink(x, "a/b/l", &cause), 0);
	assert_int_equal(xport_unlink(x, "a/b/l", &cause), 0);	/* already gone: fine */
	assert_int_equal(xport_lstat(x, "a/b/l", &st, &cause), 0);
	assert_false(st.exists);

	xres_init(&r);
	assert_int_equal(xport_exec(x, cat, "in put", 6, &r, &cause), 0);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out.s, "in put");
	assert_string_equal(r.err.s, "err\n");
	xres_free(&r);
	xres_init(&r);
	assert_int_equal(xport_exec(x, none, NULL, 0, &r, &cause), 0);
	assert_int_equal(r.status, 127);
	xres_free(&r);
	xres_init(&r);
	assert_int_equal(xport_run(x, cat, &r, &cause), -1);
	assert_non_null(strstr(cause, "exit 3"));
	free(cause);
	xres_free(&r);
	assert_true(x->nwrites > 0);
	strv_free(&created);
	xport_close(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readonly_commands),
		cmocka_unit_test(test_readonly_refuses_writes),
		cmocka_unit_test(test_local_ops),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
