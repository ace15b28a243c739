/* test_quote.c: every remote command goes through sh_quote; hostile words must come
 * back from a real /bin/sh byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/ssh/quote.h"

static const char *const hostile[] = {
	"plain",
	"with space",
	"it's",
	"'",
	"''",
	"\"double\"",
	"$(touch /tmp/mxdeck-quote-pwned)",
	"`touch /tmp/mxdeck-quote-pwned`",
	"a;touch /tmp/mxdeck-quote-pwned",
	"a && touch /tmp/mxdeck-quote-pwned",
	"line1\nline2",
	"-rf",
	"--help",
	"",
	"*",
	"~root",
	"a|b>c<d",
	"back\\slash",
	"$HOME",
	"name=value",
	"tab\there",
	"\x7f\x01\xc3\xa9",
	"!history",
	"#comment",
	NULL,
};

/* Run `sh -c 'printf "%s\0" WORDS'` and read the words back. */
static char *
run_sh(const char *cmd, size_t *lenp)
{
	int fd[2];
	pid_t pid;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t r;
	int status;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap * 2 + 4096;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = read(fd[0], buf + len, cap - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	*lenp = len;
	return buf;
}

static void
test_roundtrip(void **state)
{
	const char *argv[nitems(hostile) + 3];
	char *cmd, *out;
	size_t n = 0, len, off = 0;
	struct stat st;

	unlink("/tmp/mxdeck-quote-pwned");
	argv[n++] = "printf";
	argv[n++] = "%s\\0";
	for (size_t i = 0; hostile[i] != NULL; i++)
		argv[n++] = hostile[i];
	argv[n] = NULL;
	cmd = sh_join(argv);
	out = run_sh(cmd, &len);
	for (size_t i = 0; hostile[i] != NULL; i++) {
		size_t l = strlen(hostile[i]);

		assert_true(off + l < len + 1);
		assert_memory_equal(out + off, hostile[i], l);
		assert_int_equal(out[off + l], '\0');
		off += l + 1;
	}
	assert_int_equal(off, len);
	assert_int_equal(stat("/tmp/mxdeck-quote-pwned", &st), -1);
	free(out);
	free(cmd);
}

/* The same word quoted twice (sh -c 'script with quoted words') still round-trips. */
static void
test_nested(void **state)
{
	struct sbuf inner;
	char *cmd, *out;
	const char *argv[4];
	size_t len;

	sb_init(&inner);
	sb_add(&inner, "printf '%s' ");
	sh_quote(&inner, "$(id) `id` ; it's \"x\"\nend");
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = inner.s;
	argv[3] = NULL;
	cmd = sh_join(argv);
	out = run_sh(cmd, &len);
	assert_int_equal(len, strlen("$(id) `id` ; it's \"x\"\nend"));
	assert_memory_equal(out, "$(id) `id` ; it's \"x\"\nend", len);
	free(out);
	free(cmd);
	sb_free(&inner);
}

static void
test_forms(void **state)
{
	struct sbuf b;

	sb_init(&b);
	sh_quote(&b, "/etc/postfix/main.cf");
	assert_string_equal(b.s, "/etc/postfix/main.cf");
	sb_reset(&b);
	sh_quote(&b, "it's");
	assert_string_equal(b.s, "'it'\\''s'");
	sb_reset(&b);
	sh_quote(&b, "");
	assert_string_equal(b.s, "''");
	sb_reset(&b);
	sh_quote(&b, "-n");
	assert_string_equal(b.s, "'-n'");
	sb_reset(&b);
	sh_quote(&b, "a=b");
	assert_string_equal(b.s, "'a=b'");
	sb_reset(&b);
	sh_quote_path(&b, "-rf dir");
	assert_string_equal(b.s, "'./-rf dir'");
	sb_reset(&b);
	sh_quote_path(&b, "/abs/-x");
	assert_string_equal(b.s, "/abs/-x");
	sb_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
