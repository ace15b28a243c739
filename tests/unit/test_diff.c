/* test_diff.c: unified diffs: exact output for small cases, and for random edits the
 * diff must turn a into b when fed to patch(1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/ssh/diff.h"

static char *
diff_str(const char *path, const char *a, const char *b)
{
	struct sbuf out;

	sb_init(&out);
	diff_unified(&out, path, a, a ? strlen(a) : 0, b, b ? strlen(b) : 0);
	return sb_steal(&out);
}

static void
test_equal(void **state)
{
	char *d = diff_str("/x", "a\nb\n", "a\nb\n");

	assert_string_equal(d, "");
	free(d);
}

static void
test_simple(void **state)
{
	char *d = diff_str("/etc/postfix/main.cf",
	    "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
	    "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n");

	assert_string_equal(d,
	    "--- a/etc/postfix/main.cf\n"
	    "+++ b/etc/postfix/main.cf\n"
	    "@@ -2,7 +2,7 @@\n"
	    " 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
	free(d);
}

static void
test_new_file(void **state)
{
	char *d = diff_str("rel/path", NULL, "x\ny\n");

	assert_string_equal(d,
	    "--- /dev/null\n"
	    "+++ b/rel/path\n"
	    "@@ -0,0 +1,2 @@\n"
	    "+x\n+y\n");
	free(d);
}

static void
test_no_newline(void **state)
{
	char *d = diff_str("/f", "a\nb", "a\nb\n");

	assert_string_equal(d,
	    "--- a/f\n"
	    "+++ b/f\n"
	    "@@ -1,2 +1,2 @@\n"
	    " a\n-b\n\\ No newline at end of file\n+b\n");
	free(d);
}

static void
test_two_hunks(void **state)
{
	struct sbuf a, b;
	char *d;

	sb_init(&a);
	sb_init(&b);
	for (int i = 1; i <= 30; i++) {
		sb_addf(&a, "%d\n", i);
		sb_addf(&b, "%d\n", i == 3 ? 333 : i);
		if (i == 25)
			sb_add(&b, "new\n");
	}
	d = diff_str("/f", a.s, b.s);
	assert_string_equal(d,
	    "--- a/f\n+++ b/f\n"
	    "@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+333\n 4\n 5\n 6\n"
	    "@@ -23,6 +23,7 @@\n 23\n 24\n 25\n+new\n 26\n 27\n 28\n");
	free(d);
	sb_free(&a);
	sb_free(&b);
}

static void
write_str(const char *path, const char *s, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Random line edits; patch(1) must reproduce b from a with our diff. */
static void
test_random_patch(void **state)
{
	char dir[] = "/tmp/mxdeck-diff-XXXXXX";
	char pa[128], pp[128], po[128], cmd[512];
	unsigned seed = 12345;

	assert_non_null(mkdtemp(dir));
	snprintf(pa, sizeof pa, "%s/a", dir);
	snprintf(pp, sizeof pp, "%s/p", dir);
	snprintf(po, sizeof po, "%s/out", dir);
	for (int round = 0; round < 200; round++) {
		struct sbuf a, b, d;
		int na = (int)(rand_r(&seed) % 60);
		char *out;
		size_t outlen;

		sb_init(&a);
		sb_init(&b);
		sb_init(&d);
		sb_add(&a, "");
		sb_add(&b, "");
		for (int i = 0; i < na; i++) {
			int r = (int)(rand_r(&seed) % 10);
			int v = (int)(rand_r(&seed) % 8);

			sb_addf(&a, "line %d\n", v);
			if (r == 0)
				continue;			/* delete */
			if (r == 1)
				sb_addf(&b, "changed %d\n", v);
			else
				sb_addf(&b, "line %d\n", v);
			if (r == 2)
				sb_addf(&b, "inserted %d\n", i);
		}
		if (rand_r(&seed) % 3 == 0)
			sb_add(&b, "tail\n");
		diff_unified(&d, "a", a.s, a.len, b.s, b.len);
		write_str(pa, a.s, a.len);
		write_str(pp, d.s != NULL ? d.s : "", d.len);
		snprintf(cmd, sizeof cmd, "patch -s -o %s %s < %s", po, pa, pp);
		if (d.len == 0) {
			assert_int_equal(a.len, b.len);
			assert_memory_equal(a.s, b.s, a.len);
		} else {
			char *cause = NULL;

			assert_int_equal(system(cmd), 0);
			out = read_file(po, &outlen, &cause);
			assert_non_null(out);
			assert_int_equal(outlen, b.len);
			assert_memory_equal(out, b.s, b.len);
			free(out);
		}
		sb_free(&a);
		sb_free(&b);
		sb_free(&d);
	}
	unlink(pa);
	unlink(pp);
	unlink(po);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_new_file),
		cmocka_unit_test(test_no_newline),
		cmocka_unit_test(test_two_hunks),
		cmocka_unit_test(test_random_patch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
