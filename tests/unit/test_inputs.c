/* test_inputs.c: the local-file reader with its caps (read_input_file), the one
 * terminal sanitizer (sb_add_printable), and saving through a symlink
 * (write_file_atomic): issue 14 items 5, 8 and 9. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
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

/* The one sanitizer: C0 (not tab), DEL, C1 raw and UTF-8, invalid UTF-8 as \xNN;
 * bidi controls and separators as \u{XXXX}; text kept; newlines only when asked. */
static void
test_printable_all(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		bool		 keep_nl;
		const char	*want;
	} cases[] = {
		{ "a\x1b]0;x\x07" "b", 0, false, "a\\x1b]0;x\\x07b" },
		{ "\r\b\x7f\t", 0, false, "\\x0d\\x08\\x7f\t" },
		{ "l1\nl2", 0, false, "l1\\x0al2" },
		{ "l1\nl2", 0, true, "l1\nl2" },
		{ "\x9b\xc2\x9b\xc2\x85", 0, false, "\\x9b\\xc2\\x9b\\xc2\\x85" },
		{ "\xff\xc3", 0, false, "\\xff\\xc3" },
		{ "\xe2\x80\xae" "evil", 0, false, "\\u{202e}evil" },
		{ "\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", 0, false,
		    "\\u{202a}\\u{202b}\\u{202c}\\u{202d}" },
		{ "\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", 0, false,
		    "\\u{2066}\\u{2067}\\u{2068}\\u{2069}" },
		{ "\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", 0, false,
		    "\\u{200e}\\u{200f}\\u{061c}" },
		{ "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", 0, true, "a\\u{2028}b\\u{2029}c" },
		/* kept: Latin, CJK, emoji, the zero-width joiner, NBSP */
		{ "t\xc3\xa4 \xe6\x97\xa5 \xf0\x9f\x98\x80 \xe2\x80\x8d\xc2\xa0", 0, false,
		    "t\xc3\xa4 \xe6\x97\xa5 \xf0\x9f\x98\x80 \xe2\x80\x8d\xc2\xa0" },
		/* a NUL inside the counted bytes, a sequence cut by the end */
		{ "a\0b\xe2\x80", 5, false, "a\\x00b\\xe2\\x80" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sbuf b;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);

		sb_init(&b);
		sb_add_printable_n(&b, cases[i].in, len, cases[i].keep_nl);
		if (strcmp(b.s, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, b.s, cases[i].want);
		sb_free(&b);
	}
	assert_true(text_cp_unsafe(0x202e));
	assert_true(text_cp_unsafe(0x9b));
	assert_false(text_cp_unsafe(0xe4));
	assert_false(text_cp_unsafe(0x200d));
}

/* JSON: valid UTF-8 and the same code points escaped. */
static void
test_json_bidi(void **state)
{
	struct sbuf b;

	sb_init(&b);
	sb_json_string(&b, "x\xe2\x80\xae\xe2\x80\xa8\xc2\x9b\xff\xc3\xa4");
	assert_string_equal(b.s, "\"x\\u202e\\u2028\\u009b\\ufffd\xc3\xa4\"");
	sb_free(&b);
}

/* Saving through links: a chain of two links keeps both and replaces the final
 * file (new inode, mode kept); a dangling link is refused with nothing written; the
 * plain write_file_atomic (for .bak files) replaces a planted link instead. */
static void
test_write_through(void **state)
{
	struct tmp *t = *state;
	char *real = xasprintf("%s/real.ini", t->dir), *l1 = xasprintf("%s/l1", t->dir);
	char *l2 = xasprintf("%s/l2", t->dir), *dang = xasprintf("%s/dang", t->dir);
	char *cause = NULL, *got;
	struct stat st0, st1, lst;
	size_t len;

	assert_int_equal(write_file_atomic(real, "old\n", 4, 0600, &cause), 0);
	assert_int_equal(chmod(real, 0640), 0);
	assert_int_equal(stat(real, &st0), 0);
	assert_int_equal(symlink("real.ini", l1), 0);
	assert_int_equal(symlink(l1, l2), 0);
	assert_int_equal(write_file_through(l2, "new\n", 4, 0640, &cause), 0);
	assert_int_equal(lstat(l2, &lst), 0);
	assert_true(S_ISLNK(lst.st_mode));
	assert_int_equal(lstat(l1, &lst), 0);
	assert_true(S_ISLNK(lst.st_mode));
	assert_int_equal(stat(real, &st1), 0);
	assert_true(st1.st_ino != st0.st_ino);		/* renamed into place */
	assert_int_equal(st1.st_mode & 07777, 0640);
	got = read_input_file(real, IK_PROFILE, &len, &cause);
	assert_string_equal(got, "new\n");
	free(got);

	assert_int_equal(symlink("missing/x.ini", dang), 0);
	assert_int_equal(write_file_through(dang, "x", 1, 0644, &cause), -1);
	assert_non_null(strstr(cause, "is a symbolic link whose target cannot be reached"));
	free(cause);
	cause = NULL;
	assert_int_equal(lstat(dang, &lst), 0);
	assert_true(S_ISLNK(lst.st_mode));

	/* write_file_atomic: the link itself is replaced, its target untouched */
	assert_int_equal(write_file_atomic(l1, "bak\n", 4, 0600, &cause), 0);
	assert_int_equal(lstat(l1, &lst), 0);
	assert_true(S_ISREG(lst.st_mode));
	got = read_input_file(real, IK_PROFILE, &len, &cause);
	assert_string_equal(got, "new\n");
	free(got);
	free(real);
	free(l1);
	free(l2);
	free(dang);
}

/* Numbered backups: 12 rotations keep .bak.1 (newest) .. .bak.10, drop the older ones;
 * a kept backup wider than the mode is narrowed; a symlink planted at .bak.1 moves up
 * as a link and its target is never written; a directory where the oldest goes is
 * refused with nothing moved. */
static void
test_backup_rotate(void **state)
{
	struct tmp *t = *state;
	char *p = xasprintf("%s/site.ini", t->dir), *victim = xasprintf("%s/victim", t->dir);
	char *cause = NULL, *got, *name, data[32];
	struct stat st;
	size_t len;

	assert_int_equal(write_file_atomic(victim, "victim\n", 7, 0644, &cause), 0);
	name = xasprintf("%s.bak.1", p);
	assert_int_equal(symlink(victim, name), 0);
	free(name);
	name = xasprintf("%s.bak.3", p);
	assert_int_equal(write_file_atomic(name, "wide\n", 5, 0666, &cause), 0);
	assert_int_equal(chmod(name, 0666), 0);
	free(name);
	for (int i = 1; i <= 12; i++) {
		snprintf(data, sizeof data, "version %d\n", i);
		assert_int_equal(backup_rotate(p, data, strlen(data), 0640, BACKUP_KEEP,
		    &cause), 0);
		if (i == 1) {
			name = xasprintf("%s.bak.2", p);	/* the planted link, moved */
			assert_int_equal(lstat(name, &st), 0);
			assert_true(S_ISLNK(st.st_mode));
			free(name);
			name = xasprintf("%s.bak.4", p);	/* narrowed */
			assert_int_equal(stat(name, &st), 0);
			assert_int_equal(st.st_mode & 07777, 0640);
			free(name);
		}
	}
	for (int k = 1; k <= BACKUP_KEEP; k++) {
		name = xasprintf("%s.bak.%d", p, k);
		assert_int_equal(lstat(name, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0640);
		got = read_input_file(name, IK_PROFILE, &len, &cause);
		snprintf(data, sizeof data, "version %d\n", 13 - k);
		assert_string_equal(got, data);
		free(got);
		free(name);
	}
	name = xasprintf("%s.bak.11", p);
	assert_int_equal(lstat(name, &st), -1);
	free(name);
	got = read_input_file(victim, IK_PROFILE, &len, &cause);
	assert_string_equal(got, "victim\n");
	free(got);

	/* the oldest cannot go: refused, the others stay where they are */
	name = xasprintf("%s.bak.10", p);
	assert_int_equal(unlink(name), 0);
	assert_int_equal(mkdir(name, 0700), 0);
	assert_int_equal(backup_rotate(p, "new\n", 4, 0640, BACKUP_KEEP, &cause), -1);
	assert_non_null(strstr(cause, "cannot remove the oldest backup"));
	free(cause);
	free(name);
	name = xasprintf("%s.bak.1", p);
	got = read_input_file(name, IK_PROFILE, &len, &cause);
	assert_string_equal(got, "version 12\n");
	free(got);
	free(name);
	free(p);
	free(victim);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kinds_refuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_ok, setup, teardown),
		cmocka_unit_test(test_printable_all),
		cmocka_unit_test_setup_teardown(test_write_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_rotate, setup, teardown),
		cmocka_unit_test(test_json_bidi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
